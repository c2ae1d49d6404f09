//! The UI terminals' connection to the platform: a client with its credentials and a small
//! runtime of its own for calls made from worker threads (e-licence look-ups, 渝快码 checks,
//! notices, the in-process outbox worker, ticket leases).
//!
//! - `platform.mode = "simulator"` (the demo): the simulator runs in process and the
//!   terminal registers and syncs against it ([`PlatformLink::start_demo`]).
//! - `platform.mode = "remote"` (installed terminals): the configured platform with the
//!   credentials `provision` stored. Not registered yet, or no catalogue key: no link; the
//!   terminal then runs offline (cases stay queued) and the log says what to do.

use crate::core::config::PlatformMode;
use crate::core::platform::PlatformClient;
use crate::core::{credentials, sync, Core};

/// A terminal's connection to the platform; dropping it stops the demo's simulator.
pub struct PlatformLink {
    sim: Option<crate::sim::platform::SimHandle>,
    runtime: tokio::runtime::Runtime,
    /// The client, with this terminal's credentials.
    pub client: PlatformClient,
}

impl std::fmt::Debug for PlatformLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformLink")
            .field("base_url", &self.client.config().base_url)
            .field("sim", &self.sim)
            .finish_non_exhaustive()
    }
}

impl PlatformLink {
    /// A link from its parts (the demo passes its running simulator).
    pub fn new(
        runtime: tokio::runtime::Runtime,
        client: PlatformClient,
        sim: Option<crate::sim::platform::SimHandle>,
    ) -> Self {
        Self {
            sim,
            runtime,
            client,
        }
    }

    /// The link for `core`'s profile: the demo's simulator (started, registered, synced) or
    /// the configured platform with the stored credentials. `None` when there is none to
    /// use; why is logged in words a technician can act on.
    pub fn connect(core: &mut Core) -> Option<Self> {
        match core.profile.platform.mode {
            PlatformMode::Simulator => Self::start_demo(core),
            PlatformMode::Remote => match Self::remote(core, None) {
                Ok(link) => Some(link),
                Err(e) => {
                    tracing::warn!("{e}");
                    None
                }
            },
        }
    }

    /// For a simulator profile: the demo's platform started on a runtime of the link's own
    /// (`crate::sim::demo`), registered, and the catalogue synced into `core`. `None` for
    /// remote profiles, or when the simulator does not start (logged; the terminal then runs
    /// on the catalogue it already holds).
    pub fn start_demo(core: &mut Core) -> Option<Self> {
        if core.profile.platform.mode != PlatformMode::Simulator {
            return None;
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("demo-platform")
            .enable_all()
            .build()
            .map_err(|e| tracing::warn!(error = %e, "demo platform: no runtime"))
            .ok()?;
        let demo = runtime.block_on(async {
            let demo = crate::sim::demo::start_registered(core).await?;
            match &demo.registration {
                Ok(()) => crate::sim::demo::sync_catalog(core, &demo.client).await,
                Err(e) => {
                    tracing::warn!(error = %e, "demo sync failed; using the catalogue already held")
                }
            }
            Ok::<_, (String, &str)>(demo)
        });
        match demo {
            Ok(d) => Some(Self::new(runtime, d.client, Some(d.sim))),
            Err((e, _)) => {
                tracing::warn!(error = %e, "demo platform did not start");
                None
            }
        }
    }

    /// The configured platform (or `base_url`, for tests) with the credentials stored for
    /// it. Makes no network call: an unreachable platform is met later, call by call.
    pub fn remote(core: &mut Core, base_url: Option<&str>) -> Result<Self, String> {
        let client = sync::platform_client(&core.profile, &core.data_dir, base_url)
            .map_err(|(e, advice)| format!("无法建立平台连接：{e}。{advice}"))?;
        let base = client.config().base_url.clone();
        match credentials::stored(&mut core.store, &core.key, &base) {
            Ok(Some(c)) => client.set_credentials(c),
            Ok(None) => {
                return Err(format!(
                    "本机尚未在平台 {base} 注册，电子证照、渝快码和通知暂不可用，业务在本机暂存；请运行 ykb-terminal provision 完成注册"
                ))
            }
            Err(e) => return Err(format!("无法读取设备凭据：{e}")),
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("platform-link")
            .enable_all()
            .build()
            .map_err(|e| format!("无法启动平台连接线程：{e}"))?;
        Ok(Self::new(runtime, client, None))
    }

    /// The runtime for platform calls made from worker threads.
    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.runtime
    }

    /// The demo's running simulator (its admin API: faults, received cases and events).
    pub fn sim(&self) -> Option<&crate::sim::platform::SimHandle> {
        self.sim.as_ref()
    }

    /// The platform's base URL.
    pub fn base_url(&self) -> String {
        self.client.config().base_url.clone()
    }
}

impl Drop for PlatformLink {
    fn drop(&mut self) {
        if let Some(h) = self.sim.take() {
            self.runtime.block_on(h.shutdown());
        }
    }
}
