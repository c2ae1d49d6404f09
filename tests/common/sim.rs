//! The platform simulator on loopback for tests that run the real binary against it: its own
//! runtime, so a plain `#[test]` can start it and read what it received.

use ykb_terminal::sim::platform::{start, SimHandle, SimOptions};

/// A simulator on a free loopback port, stopped when dropped.
pub struct Sim {
    handle: Option<SimHandle>,
    rt: tokio::runtime::Runtime,
}

impl Sim {
    pub fn start() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let handle = rt
            .block_on(start("127.0.0.1:0".parse().unwrap(), SimOptions::default()))
            .unwrap();
        Self {
            handle: Some(handle),
            rt,
        }
    }

    /// The base URL a terminal is configured with (`http://127.0.0.1:PORT/v1`).
    pub fn url(&self) -> String {
        self.handle().base_url()
    }

    /// Runs a future on the simulator's runtime (for in-process clients).
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// The in-process admin API.
    pub fn handle(&self) -> &SimHandle {
        self.handle.as_ref().unwrap()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.rt.block_on(h.shutdown());
        }
    }
}
