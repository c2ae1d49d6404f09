//! The `fleet` group (issue 19): 1,000 simulated terminals through a 1-hour platform outage
//! (`ops::fleet_sim`, virtual time) beside the same fleet with a naive fixed-interval retry,
//! and the steady state's requests per terminal and hour.

use super::{Baseline, Figure};
use ykb_terminal::ops::fleet_sim::{self, FleetOptions};

/// Terminals and outage of the recovery figures (`YKB_FLEET_TERMINALS` overrides, for a
/// quicker look).
fn terminals() -> usize {
    std::env::var("YKB_FLEET_TERMINALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

pub fn fleet(out: &mut Vec<Figure>) {
    const NAIVE_EVERY_SECS: u64 = 10;
    let n = terminals();
    let opts = FleetOptions {
        terminals: n,
        outage_secs: 3600,
        ..FleetOptions::default()
    };
    let c = fleet_sim::compare(&opts, NAIVE_EVERY_SECS).expect("fleet simulation");
    let (b, nv) = (&c.backoff, &c.naive);
    let setting = format!(
        "{n} terminals, 1 h outage, {} items queued each, {} ms round trip; naive = retry every {NAIVE_EVERY_SECS} s",
        b.backlog_per_terminal,
        opts.latency_ms
    );
    out.push(Figure {
        group: "fleet",
        name: "recovery: peak platform requests per second".into(),
        value: b.peak_requests_per_s as f64,
        unit: "req/s",
        baseline: Some(Baseline {
            name: "naive fixed-interval retry, same fleet".into(),
            value: nv.peak_requests_per_s as f64,
        }),
        note: format!(
            "{:.3} of naive (goal ≤ 0.1); peak at {} s after the outage (naive {} s); {setting}; simulated {:.0} s in {:.0} s real",
            b.peak_requests_per_s as f64 / nv.peak_requests_per_s.max(1) as f64,
            b.peak_at_s,
            nv.peak_at_s,
            b.simulated_secs,
            b.real_secs
        ),
    });
    out.push(Figure {
        group: "fleet",
        name: "recovery: requests/s in the first 10 s after the outage".into(),
        value: b.first_10s_after_outage_requests_per_s,
        unit: "req/s",
        baseline: Some(Baseline {
            name: "naive fixed-interval retry".into(),
            value: nv.first_10s_after_outage_requests_per_s,
        }),
        note: format!(
            "no storm when the platform returns; normal running {:.1} req/s, during the outage {:.1} (naive {:.1})",
            b.steady_requests_per_s, b.outage_requests_per_s, nv.outage_requests_per_s
        ),
    });
    let drained = |r: &fleet_sim::FleetReport| r.all_drained_after_s.unwrap_or(f64::NAN);
    out.push(Figure {
        group: "fleet",
        name: "recovery: every backlog drained after (simulated seconds)".into(),
        value: drained(b),
        unit: "s",
        baseline: Some(Baseline {
            name: "naive fixed-interval retry".into(),
            value: drained(nv),
        }),
        note: format!(
            "goal ≤ 900 s; per terminal p50 {:.0} s, p90 {:.0} s; {} items delivered of {}, {} replays",
            b.drain_p50_s.unwrap_or(f64::NAN),
            b.drain_p90_s.unwrap_or(f64::NAN),
            b.delivered,
            b.queued,
            b.replays
        ),
    });
    out.push(Figure {
        group: "fleet",
        name: "recovery: errors".into(),
        value: b.errors as f64,
        unit: "",
        baseline: Some(Baseline {
            name: "naive fixed-interval retry".into(),
            value: nv.errors as f64,
        }),
        note: format!("{:?}", b.error_detail),
    });

    let s = fleet_sim::steady_state(
        &FleetOptions {
            terminals: 100,
            ..FleetOptions::default()
        },
        1,
    )
    .expect("steady state");
    out.push(Figure {
        group: "fleet",
        name: "steady state: platform requests per terminal per hour".into(),
        value: s.requests_per_terminal_per_hour,
        unit: "req/h",
        baseline: None,
        note: format!(
            "goal ≤ 80; heartbeats every 60 s and sync checks every 5–7 min, {} terminals for 1 simulated hour, {} errors",
            s.terminals, s.errors
        ),
    });
    out.push(Figure {
        group: "fleet",
        name: "steady state: bytes per heartbeat".into(),
        value: s.bytes_per_heartbeat,
        unit: "B",
        baseline: None,
        note: "JSON request body (HTTP headers not counted)".into(),
    });
}
