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
