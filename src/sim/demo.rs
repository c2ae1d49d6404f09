//! The demo's platform: with `platform.mode = "simulator"` the terminal starts the simulator
//! in process, registers with it and (the kiosk and the counter) syncs the catalogue from it
//! before the UI opens, so `cargo run --release` shows the whole path (signed snapshot →
//! verify → one transaction → search index) with no network. The kiosk's link, the agent,
//! the self-test and `sync` all start it through [`start_registered`].

use crate::core::platform::{wire, PlatformClient};
use crate::core::{credentials, search, sync, Core};

use super::platform::{self, SimHandle, SimOptions};

/// The demo's platform, started in process: the simulator and a client for it.
#[derive(Debug)]
pub struct DemoPlatform {
    /// The running simulator (its admin API: faults, received cases and events); dropping
    /// it stops the server.
    pub sim: SimHandle,
    /// A client for the simulator, holding this terminal's credentials once registered.
    pub client: PlatformClient,
    /// Whether registering with the demo enrolment code worked, or why not (the client then
    /// holds no credentials; the simulator still runs).
    pub registration: Result<(), String>,
}

/// For a simulator profile: starts the simulator on a free loopback port inside the current
/// tokio runtime, builds a client for it and registers `core`'s terminal with
/// [`sync::DEMO_ENROLMENT_CODE`] (the credentials are stored like any registration's). On
/// failure to start the simulator or its client: what went wrong, and what to do.
pub async fn start_registered(core: &mut Core) -> Result<DemoPlatform, (String, &'static str)> {
    let sim = platform::start(
        "127.0.0.1:0".parse().expect("valid address"),
        SimOptions::default(),
    )
    .await
    .map_err(|e| (format!("无法启动本机模拟平台：{e}"), "请重试"))?;
    let client = sync::platform_client(&core.profile, &core.data_dir, Some(&sim.base_url()))?;
    let request =
        wire::RegisterRequest::for_terminal(&core.profile.terminal, sync::DEMO_ENROLMENT_CODE);
    let registration =
        credentials::ensure_registered(&client, &mut core.store, &core.key, &request)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string());
    Ok(DemoPlatform {
        sim,
        client,
        registration,
    })
}

/// Syncs the catalogue from the demo's platform into `core`'s store and takes it up (the
/// core's catalogue reloaded, the search index checked). Failures are logged; the terminal
/// then runs on the catalogue it already holds.
pub async fn sync_catalog(core: &mut Core, client: &PlatformClient) {
    let region = core.profile.terminal.region_code;
    match sync::sync_once(client, &mut core.store, region, false, &|_| {}).await {
        Ok(r) => {
            tracing::info!(version = r.version, kind = ?r.kind, matters = r.matters_written, "demo catalogue synced from the simulator");
            match core.store.load_catalog() {
                Ok(Some(c)) => core.catalog = c,
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "synced catalogue could not be loaded"),
            }
            if let Err(e) = search::ensure_index(&mut core.store) {
                tracing::warn!(error = %e, "search index");
            }
        }
        Err(e) => tracing::warn!(error = %e, "demo sync failed; using the catalogue already held"),
    }
}
