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
        Self::start_with(SimOptions::default())
    }

    /// A simulator with `options` (faults, a skewed clock …).
    pub fn start_with(options: SimOptions) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let handle = rt
            .block_on(start("127.0.0.1:0".parse().unwrap(), options))
            .unwrap();
        Self {
            handle: Some(handle),
            rt,
        }
    }

    /// Stops the simulator and starts a fresh one (default options) on the same address: the
    /// platform forgets every device.
    pub fn restart(&mut self) {
        let addr = self.handle().addr();
        if let Some(h) = self.handle.take() {
            self.rt.block_on(h.shutdown());
        }
        self.handle = Some(
            self.rt
                .block_on(start(addr, SimOptions::default()))
                .unwrap(),
        );
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

/// A client of the simulator `h` (the demo catalogue key, 64 MiB catalogue cap).
pub fn demo_client(
    h: &SimHandle,
    timeout: std::time::Duration,
) -> ykb_terminal::core::platform::PlatformClient {
    use ykb_terminal::core::platform::{wire, ClientConfig, PlatformClient};
    PlatformClient::new(ClientConfig {
        base_url: h.base_url(),
        ca_file: None,
        proxy: None,
        timeout,
        catalog_key: wire::demo_verifying_key(),
        max_catalog_bytes: 64 * 1024 * 1024,
    })
    .unwrap()
}

/// Registers `c` with the demo enrolment code as the kiosk 测试终端 of region 500103.
pub async fn register_demo(c: &ykb_terminal::core::platform::PlatformClient) {
    c.register(&ykb_terminal::core::platform::wire::RegisterRequest {
        enrolment_code: ykb_terminal::core::sync::DEMO_ENROLMENT_CODE.into(),
        region_code: "500103".into(),
        terminal_kind: "kiosk".into(),
        name: "测试终端".into(),
    })
    .await
    .unwrap();
}
