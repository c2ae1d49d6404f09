//! The UI terminals' platform link on an installed (remote) profile: the configured platform
//! with the credentials `provision` stored — here the simulator over real HTTP on loopback.

use ykb_terminal::core::config::{PlatformMode, Profile};
use ykb_terminal::core::platform::{wire, ClientConfig, PlatformClient};
use ykb_terminal::core::Core;
use ykb_terminal::sim::platform::{self as sim, SimOptions};
use ykb_terminal::terminal::link::PlatformLink;

/// A remote profile whose platform is `base_url`, with the platform's catalogue key in place
/// as a technician would have put it.
fn remote_core(dir: &std::path::Path, base_url: &str) -> Core {
    let mut profile = Profile::demo();
    profile.platform.mode = PlatformMode::Remote;
    profile.platform.base_url = base_url.to_owned();
    ykb_terminal::core::crypto::DataKey::create(&dir.join("data.key")).unwrap();
    std::fs::write(
        dir.join(ykb_terminal::core::sync::CATALOG_KEY_FILE),
        hex::encode(wire::demo_verifying_key().as_bytes()),
    )
    .unwrap();
    Core::start(profile, dir).unwrap()
}

#[test]
fn an_installed_terminal_links_with_its_stored_credentials() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let handle = rt
        .block_on(sim::start(
            "127.0.0.1:0".parse().unwrap(),
            SimOptions::default(),
        ))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut core = remote_core(dir.path(), &handle.base_url());

    // Before provisioning: no link, and the reason is one a technician can act on.
    let err = PlatformLink::remote(&mut core, None).unwrap_err();
    assert!(
        err.contains("尚未在平台") && err.contains("provision"),
        "{err}"
    );
    assert!(PlatformLink::connect(&mut core).is_none());

    // Provisioning stores the credentials (as `ykb-terminal provision` does).
    let client = PlatformClient::new(ClientConfig::from_profile(
        &core.profile.platform,
        None,
        wire::demo_verifying_key(),
    ))
    .unwrap();
    let request = wire::RegisterRequest::for_terminal(
        &core.profile.terminal,
        ykb_terminal::core::sync::DEMO_ENROLMENT_CODE,
    );
    rt.block_on(ykb_terminal::core::credentials::ensure_registered(
        &client,
        &mut core.store,
        &core.key,
        &request,
    ))
    .unwrap();

    // Now the link signs its calls: the demo citizen's e-licences come back.
    let link = PlatformLink::connect(&mut core).expect("link");
    assert!(
        link.sim().is_none(),
        "an installed terminal starts no simulator"
    );
    assert_eq!(link.base_url(), handle.base_url());
    let citizen = ykb_terminal::terminal::cards::demo_person()
        .unwrap()
        .id_number
        .expose()
        .to_owned();
    let found = link
        .runtime()
        .block_on(link.client.licences(&citizen))
        .unwrap();
    assert!(!found.licences.is_empty());
    drop(link);
    rt.block_on(handle.shutdown());
}
