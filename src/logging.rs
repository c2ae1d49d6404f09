//! Logging set-up: journald when its socket exists (installed terminals), stderr otherwise.
//! The level comes from `RUST_LOG` (default `info`). Logs never carry personal data in full:
//! domain types mask themselves in `Debug`.

use tracing_subscriber::{layer::SubscriberExt, util::SubscriberInitExt, EnvFilter};

const JOURNALD_SOCKET: &str = "/run/systemd/journal/socket";

/// Installs the global subscriber; safe to call once per process.
/// `default_level` applies when `RUST_LOG` is unset: "info" for the UI, "warn" for
/// subcommands whose output is meant for people and scripts.
pub fn init(default_level: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let registry = tracing_subscriber::registry().with(filter);
    if std::path::Path::new(JOURNALD_SOCKET).exists() {
        if let Ok(journald) = tracing_journald::layer() {
            let _ = registry
                .with(journald.with_syslog_identifier("ykb-terminal".into()))
                .try_init();
            return;
        }
    }
    let _ = registry
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_target(false),
        )
        .try_init();
}
