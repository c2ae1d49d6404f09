//! The core: matters, cases, the store, profiles, the outbox, the platform contract, the
//! hall queue, health and audit. It knows nothing of Slint, the apps or the terminal layer;
//! everything above calls into it.

pub mod alerts;
pub mod audit;
pub mod catalog;
pub mod certificate;
pub mod clock;
pub mod commands;
pub mod config;
pub mod consumables;
pub mod credentials;
pub mod crypto;
pub mod domain;
pub mod hall;
pub mod health;
pub mod outbox;
pub mod payment;
pub mod pin;
pub mod platform;
pub mod privacy;
pub mod search;
pub mod selftest;
pub mod store;
pub mod sync;
pub mod ticketing;
pub mod update;

use std::path::{Path, PathBuf};

use catalog::{Catalog, CatalogError};
use config::{CatalogSource, Profile};
use store::{Store, StoreError};

/// File name of the store inside the data directory.
pub const STORE_FILE: &str = "ykb-terminal.db";

/// Why the terminal could not start its core.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("内置事项目录无法加载：{0}")]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Outbox(#[from] outbox::OutboxError),
    #[error(transparent)]
    Credentials(#[from] credentials::CredentialError),
}

/// The core state a running terminal needs: its profile, store and current catalogue.
#[derive(Debug)]
pub struct Core {
    pub profile: Profile,
    pub data_dir: PathBuf,
    pub store: Store,
    pub catalog: Catalog,
    /// The data key sealing personal data at rest.
    pub key: crypto::DataKey,
}

impl Core {
    /// The outbox's quota from the profile (`data.outbox_quota_mb`).
    pub fn quota(&self) -> outbox::Quota {
        self.profile.data.quota()
    }

    /// The ticketing desk of counter `window` on this core's store, for the hall's `cfg`
    /// (usually the profile's `[ticketing]`, held apart so it can be borrowed with the store).
    pub fn desk<'a>(
        &'a mut self,
        cfg: &'a config::TicketingSection,
        window: u16,
    ) -> ticketing::Desk<'a> {
        let quota = self.quota();
        ticketing::Desk::embedded(&mut self.store, &self.key, quota, cfg, window)
    }

    /// Opens the store in `data_dir` and makes sure it holds a catalogue: the bundled demo
    /// catalogue is (re)loaded when the profile uses it and the stored one differs in version.
    pub fn start(profile: Profile, data_dir: &Path) -> Result<Self, StartError> {
        let mut store = Store::open(&data_dir.join(STORE_FILE))?;
        // The demo creates its key on its first start; installed terminals get theirs at
        // provisioning. A store that already holds sealed data never gets a new key: a
        // missing key there is an error, so the right key can still be restored.
        let demo = profile.platform.mode == config::PlatformMode::Simulator;
        let fresh = !outbox::has_key_check(&mut store)?;
        let key = crypto::DataKey::load_or_create(&data_dir.join(crypto::KEY_FILE), demo && fresh)
            .map_err(outbox::OutboxError::from)?;
        outbox::bind_key(&mut store, &key)?;
        outbox::space::ensure_ballast(data_dir);
        // Stores from before migration 6 hold the device secret in the clear.
        credentials::seal_legacy(&mut store, &key)?;
        let purged = outbox::purge_stubs(
            &mut store,
            profile.data.retention_days,
            jiff::Timestamp::now(),
        )?;
        if purged > 0 {
            tracing::info!(purged, "expired case stubs removed");
        }
        let catalog = match profile.data.catalog {
            CatalogSource::Bundled => {
                let bundled = Catalog::demo()?;
                if store.catalog_version()? != Some(bundled.version) {
                    store.replace_catalog(&bundled)?;
                    tracing::info!(
                        version = bundled.version,
                        matters = bundled.matters.len(),
                        "bundled catalogue loaded"
                    );
                }
                bundled
            }
            CatalogSource::Platform => store.load_catalog()?.unwrap_or_else(|| Catalog {
                version: 0,
                region_code: profile.terminal.region_code,
                published_at: String::new(),
                matters: Vec::new(),
                bundles: Vec::new(),
            }),
        };
        Ok(Self {
            profile,
            data_dir: data_dir.to_owned(),
            store,
            catalog,
            key,
        })
    }
}
