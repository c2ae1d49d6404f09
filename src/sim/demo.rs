//! The demo's platform: with `platform.mode = "simulator"` the app starts the simulator in
//! process, registers with it and syncs the catalogue from it before the UI opens, so
//! `cargo run --release` shows the whole path (signed snapshot → verify → one transaction →
//! search index) with no network.

use crate::core::platform::{wire, ClientConfig, PlatformClient};
use crate::core::{config::PlatformMode, credentials, search, sync, Core};
use crate::terminal::link::PlatformLink;

use super::platform::{self, SimOptions};

/// For a simulator profile: starts the simulator, registers, syncs into the core's store and
/// reloads the core's catalogue from it. `None` for remote profiles, or when anything fails
/// (logged; the terminal then runs on the catalogue it already holds).
pub fn start_for_demo(core: &mut Core) -> Option<PlatformLink> {
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
    let handle = runtime
        .block_on(platform::start(
            "127.0.0.1:0".parse().expect("valid address"),
            SimOptions::default(),
        ))
        .map_err(|e| tracing::warn!(error = %e, "demo platform simulator did not start"))
        .ok()?;
    let config = ClientConfig::from_profile(
        &core.profile.platform,
        Some(&handle.base_url()),
        wire::demo_verifying_key(),
    );
    let client = PlatformClient::new(config)
        .map_err(|e| tracing::warn!(error = %e, "demo platform client"))
        .ok()?;
    let t = &core.profile.terminal;
    let request = wire::RegisterRequest::for_terminal(t, sync::DEMO_ENROLMENT_CODE);
    let region = t.region_code;
    let result = runtime.block_on(async {
        credentials::ensure_registered(&client, &mut core.store, &core.key, &request)
            .await
            .map_err(|e| e.to_string())?;
        sync::sync_once(&client, &mut core.store, region, false, &|_| {})
            .await
            .map_err(|e| e.to_string())
    });
    match result {
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
    Some(PlatformLink::new(runtime, client, Some(handle)))
}
