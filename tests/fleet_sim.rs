//! The fleet simulation (`ops::fleet_sim`): a small fleet through an outage against the
//! platform simulator over loopback, with the real outbox worker, in virtual time.

use ykb_terminal::ops::fleet_sim::{self, FleetOptions};

fn small_fleet() -> FleetOptions {
    FleetOptions {
        terminals: 20,
        outage_secs: 900,
        backlog: 4,
        lead_in_secs: 120,
        ..FleetOptions::default()
    }
}

#[test]
fn a_small_fleet_drains_after_an_outage_without_errors_and_without_a_storm() {
    let c = fleet_sim::compare(&small_fleet(), 10).unwrap();
    let (b, n) = (&c.backoff, &c.naive);
    for r in [b, n] {
        assert_eq!(r.errors, 0, "{:?}", r.error_detail);
        assert_eq!(r.queued, 20 * 4);
        assert_eq!(
            r.delivered, r.queued,
            "every queued item reached the platform"
        );
    }
    // Every backlog drained within 15 simulated minutes of the platform's return.
    let drained = b.all_drained_after_s.expect("all drained");
    assert!(drained <= 900.0, "drained after {drained} s");
    // The jitter spreads the fleet's return: most terminals come back well after the first
    // seconds. A fixed-interval retry brings every terminal back within its interval, which
    // these same assertions would refuse (checked on the baseline below).
    let spread = |r: &fleet_sim::FleetReport| r.drain_p50_s.expect("drained") > 30.0;
    assert!(spread(b), "backoff median drain {:?}", b.drain_p50_s);
    assert!(!spread(n), "naive median drain {:?}", n.drain_p50_s);
    assert!(
        b.first_10s_after_outage_requests_per_s * 3.0 < n.first_10s_after_outage_requests_per_s,
        "first 10 s after the outage: {} vs naive {}",
        b.first_10s_after_outage_requests_per_s,
        n.first_10s_after_outage_requests_per_s
    );
    assert!(
        b.peak_requests_per_s * 2 < n.peak_requests_per_s,
        "peak {} vs naive {}",
        b.peak_requests_per_s,
        n.peak_requests_per_s
    );
    // Heartbeats kept going and carried something.
    assert!(b.bytes_per_heartbeat > 100.0, "{}", b.bytes_per_heartbeat);
}

#[test]
fn steady_state_stays_within_80_requests_per_terminal_and_hour() {
    let s = fleet_sim::steady_state(
        &FleetOptions {
            terminals: 10,
            ..FleetOptions::default()
        },
        1,
    )
    .unwrap();
    assert_eq!(s.errors, 0);
    // 60 heartbeats and 10–12 sync checks an hour.
    assert!(
        (60.0..=80.0).contains(&s.requests_per_terminal_per_hour),
        "{}",
        s.requests_per_terminal_per_hour
    );
}

#[test]
fn the_command_prints_one_json_object_with_the_figures() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ykb-terminal"))
        .args([
            "fleet-sim",
            "--terminals",
            "3",
            "--outage-secs",
            "120",
            "--backlog",
            "2",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for k in [
        "terminals",
        "peak_requests_per_s",
        "naive_peak_requests_per_s",
        "all_drained_after_s",
        "errors",
    ] {
        assert!(!v[k].is_null(), "{k} missing in {v}");
    }
    assert_eq!(v["terminals"], 3);
    assert_eq!(v["errors"], 0);
}

#[test]
fn bad_options_are_refused_in_words() {
    let e = fleet_sim::run(&FleetOptions {
        terminals: 0,
        ..FleetOptions::default()
    })
    .unwrap_err();
    assert_eq!(e.to_string(), "仿真参数无效：--terminals 至少为 1");
}
