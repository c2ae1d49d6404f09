//! The core: matters, cases, the store, profiles and (in later issues) the platform and the
//! outbox. It knows nothing of Slint; the UI layer (`crate::kiosk`) calls into it.

pub mod catalog;
pub mod config;
pub mod domain;
pub mod store;

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
}

/// The core state a running terminal needs: its profile, store and current catalogue.
#[derive(Debug)]
pub struct Core {
    pub profile: Profile,
    pub data_dir: PathBuf,
    pub store: Store,
    pub catalog: Catalog,
}

impl Core {
    /// Opens the store in `data_dir` and makes sure it holds a catalogue: the bundled demo
    /// catalogue is (re)loaded when the profile uses it and the stored one differs in version.
    pub fn start(profile: Profile, data_dir: &Path) -> Result<Self, StartError> {
        let mut store = Store::open(&data_dir.join(STORE_FILE))?;
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
        })
    }
}
