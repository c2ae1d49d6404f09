//! The real agent loop on a thread of its own, and waiting for what it does.

use std::time::{Duration, Instant};

use ykb_terminal::core::Core;

/// Runs the real agent loop, beating every `every`, for `beats` heartbeats on a thread of
/// its own.
pub fn run_agent(core: Core, every: Duration, beats: u64) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(ykb_terminal::ops::agent::run(
            core,
            ykb_terminal::ops::agent::AgentOptions {
                on_metrics: None,
                max_beats: Some(beats),
                beat_every: Some(every),
            },
        ))
        .unwrap();
    })
}

/// Polls `ok` every 50 ms until it holds; fails the test naming `what` after `limit`.
pub fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let end = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A remote-mode demo profile for the simulator `sim` (no metrics), with the key files a
/// terminal in `dir` needs (the data key, the platform's catalogue key).
pub fn remote_profile(
    sim: &super::sim::Sim,
    dir: &std::path::Path,
) -> ykb_terminal::core::config::Profile {
    ykb_terminal::core::crypto::DataKey::create(&dir.join("data.key")).unwrap();
    std::fs::write(
        dir.join("platform-catalog.pub"),
        hex::encode(ykb_terminal::core::platform::wire::demo_verifying_key().as_bytes()),
    )
    .unwrap();
    let mut profile = ykb_terminal::core::config::Profile::demo();
    profile.platform.mode = ykb_terminal::core::config::PlatformMode::Remote;
    profile.platform.base_url = sim.url();
    profile.health.metrics_listen = String::new();
    profile
}

/// The core of `profile` in `dir`, registered with `sim` as `name`; and its device id.
pub fn registered(
    sim: &super::sim::Sim,
    dir: &std::path::Path,
    profile: ykb_terminal::core::config::Profile,
    name: &str,
) -> (Core, String) {
    let mut core = Core::start(profile, dir).unwrap();
    let client = sim.block_on(super::registered_client(&mut core, &sim.url(), name));
    let device = client.credentials().unwrap().device_id;
    (core, device)
}
