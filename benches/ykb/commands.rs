//! Group "ops-commands" (issue 19): a remote command issued through the simulator's admin
//! API → acknowledged by the terminal, end to end: the real agent loop over loopback HTTP
//! takes the command from a heartbeat answer, verifies, records and executes it
//! (`maintenance on`, which sets a switch: the execution itself takes milliseconds) and
//! acknowledges it on a heartbeat sent as soon as it has run. The simulator timestamps issue
//! and acknowledgement. Commands are issued at evenly spread moments unrelated to the beat,
//! so each waits a fraction of an interval for the answer that carries it, then the time it
//! takes to run and one more round trip: at most about one interval.
//!
//! Two runs: the default interval (`health.heartbeat_secs` = 60 s; 12 commands over two
//! minutes, so the run takes about four minutes and its p99 is the largest of 12), and a
//! shortened 0.5 s interval (60 commands) that shows the same shape quickly. The baseline
//! is the interval itself: what "the next heartbeat" costs at the least.

use std::time::{Duration, Instant};

use ykb_terminal::core::config::{PlatformMode, Profile};
use ykb_terminal::core::platform::wire;
use ykb_terminal::core::Core;
use ykb_terminal::sim::platform::{self as sim, IssueCommand, SimOptions};

use super::{percentile, Baseline, Figure};

const GROUP: &str = "ops-commands";

/// The group's entry point.
pub fn commands(out: &mut Vec<Figure>) {
    if std::env::var_os("YKB_BENCH_SHORT").is_none() {
        run(out, Duration::from_secs(60), 12, "default interval 60 s");
    }
    run(
        out,
        Duration::from_millis(500),
        60,
        "shortened interval 0.5 s",
    );
}

fn run(out: &mut Vec<Figure>, every: Duration, n: usize, label: &str) {
    let rt = super::runtime();
    let dir = tempfile::tempdir().expect("temp dir");
    let h = rt
        .block_on(sim::start(
            "127.0.0.1:0".parse().expect("addr"),
            SimOptions::default(),
        ))
        .expect("simulator");
    ykb_terminal::core::crypto::DataKey::create(&dir.path().join("data.key")).expect("key");
    std::fs::write(
        dir.path().join("platform-catalog.pub"),
        hex::encode(wire::demo_verifying_key().as_bytes()),
    )
    .expect("catalogue key");
    let mut profile = Profile::demo();
    profile.platform.mode = PlatformMode::Remote;
    profile.platform.base_url = h.base_url();
    profile.health.metrics_listen = String::new();
    let mut core = Core::start(profile, dir.path()).expect("core");
    let client = rt.block_on(async {
        let c = ykb_terminal::core::sync::platform_client(&core.profile, dir.path(), None)
            .expect("client");
        let request = wire::RegisterRequest::for_terminal(
            &core.profile.terminal,
            ykb_terminal::core::sync::DEMO_ENROLMENT_CODE,
        );
        ykb_terminal::core::credentials::ensure_registered(
            &c,
            &mut core.store,
            &core.key,
            &request,
        )
        .await
        .expect("registered");
        c
    });
    let device = client.credentials().expect("credentials").device_id;
    // Beats enough for every command and its acknowledgement, with room.
    let spacing = every * 2 / n as u32;
    let beats = (spacing * n as u32).as_secs_f64() / every.as_secs_f64() + 4.0;
    let agent = rt.spawn(ykb_terminal::ops::agent::run(
        core,
        ykb_terminal::ops::agent::AgentOptions {
            on_metrics: None,
            max_beats: Some(beats.ceil() as u64),
            beat_every: Some(every),
        },
    ));
    let start = Instant::now();
    while h.heartbeats().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no first heartbeat"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    for i in 0..n {
        h.issue_command(
            &device,
            &IssueCommand::new("maintenance", Some(if i % 2 == 0 { "on" } else { "off" })),
        )
        .expect("issued");
        std::thread::sleep(spacing);
    }
    let end = Instant::now() + every * 4 + Duration::from_secs(10);
    while h.commands(&device).iter().any(|c| c.result.is_none()) {
        assert!(Instant::now() < end, "commands not acknowledged");
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut ms: Vec<f64> = h
        .commands(&device)
        .iter()
        .map(|c| {
            assert_eq!(c.result.as_ref().map(|r| r.outcome.as_str()), Some("done"));
            (c.acked_ms.expect("acked") - c.issued_ms) as f64
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    let _ = rt.block_on(agent);
    let interval_ms = every.as_secs_f64() * 1000.0;
    for (name, p) in [("p50", 0.5), ("p99", 0.99)] {
        out.push(Figure {
            group: GROUP,
            name: format!("remote command issued → acknowledged, {name} ({label})"),
            value: percentile(&ms, p),
            unit: "ms",
            baseline: Some(Baseline {
                name: "the heartbeat interval".into(),
                value: interval_ms,
            }),
            note: format!(
                "{n} maintenance commands, one terminal, real agent loop and simulator over \
                 loopback HTTP; min {:.0} ms, max {:.0} ms",
                ms[0],
                ms[ms.len() - 1]
            ),
        });
    }
    drop(h);
}
