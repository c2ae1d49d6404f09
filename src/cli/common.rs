//! What the subcommands share: opening the core, failing with one line, printing JSON, the
//! async runtime, and reaching the platform (`--platform`, `--enrolment-code`, registering
//! when needed).

use std::process::ExitCode;

use clap::Args;

use super::{load_profile, start_core, Cli, EXIT_CONFIG, EXIT_FAILURE};
use crate::core::config::PlatformMode;
use crate::core::platform::{wire, PlatformClient};
use crate::core::{credentials, sync, Core};

/// Loads the profile and opens its core, printing one clear line on failure.
pub(crate) fn open_core(cli: &Cli) -> Result<Core, ExitCode> {
    load_profile(cli).and_then(|p| start_core(cli, p))
}

/// Prints `e` on stderr; exit code 1.
pub(crate) fn fail(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("{e}");
    ExitCode::from(EXIT_FAILURE)
}

/// Prints `v` as pretty JSON on stdout.
pub(crate) fn print_json(v: &impl serde::Serialize) -> ExitCode {
    match serde_json::to_string_pretty(v) {
        Ok(s) => {
            println!("{s}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

/// The runtime for a subcommand's network calls.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| fail(format!("无法启动异步运行时：{e}")))
}

/// `--platform URL --enrolment-code CODE`: which platform to use and how to register with it.
#[derive(Debug, Args)]
pub struct PlatformArgs {
    /// Platform base URL to use instead of the profile's (e.g. a `platform-sim` at
    /// http://127.0.0.1:8480/v1).
    #[arg(long, value_name = "URL")]
    pub platform: Option<String>,
    /// One-time enrolment code for registering this terminal, if it is not registered yet.
    #[arg(long, value_name = "CODE")]
    pub enrolment_code: Option<String>,
}

impl PlatformArgs {
    /// A client for `--platform` (or the profile's platform); exit code 2 when the profile's
    /// catalogue key or platform settings do not do.
    pub(crate) fn client(&self, core: &Core) -> Result<PlatformClient, ExitCode> {
        sync::platform_client(&core.profile, &core.data_dir, self.platform.as_deref()).map_err(
            |(e, _)| {
                eprintln!("{e}");
                ExitCode::from(EXIT_CONFIG)
            },
        )
    }

    /// [`PlatformArgs::client`] and the [`runtime`] to call it on.
    pub(crate) fn client_and_runtime(
        &self,
        core: &Core,
    ) -> Result<(PlatformClient, tokio::runtime::Runtime), ExitCode> {
        Ok((self.client(core)?, runtime()?))
    }

    /// Gives `client` this terminal's credentials: those stored for its platform, or new ones
    /// from registering with `--enrolment-code` (the demo's own code for a simulator profile).
    /// Unregistered with no code: says so, with `retry` telling how to run again (exit 2).
    pub(crate) async fn register(
        &self,
        core: &mut Core,
        client: &PlatformClient,
        retry: &str,
    ) -> Result<(), ExitCode> {
        let demo = core.profile.platform.mode == PlatformMode::Simulator;
        let enrolment = self.enrolment_code.clone().unwrap_or_else(|| {
            if demo {
                sync::DEMO_ENROLMENT_CODE.into()
            } else {
                String::new()
            }
        });
        let base = &client.config().base_url;
        let known = credentials::stored(&mut core.store, &core.key, base)
            .ok()
            .flatten()
            .is_some();
        if !known && enrolment.trim().is_empty() {
            eprintln!("本终端尚未在平台 {base} 注册。{retry}");
            return Err(ExitCode::from(EXIT_CONFIG));
        }
        let request = wire::RegisterRequest::for_terminal(&core.profile.terminal, &enrolment);
        credentials::ensure_registered(client, &mut core.store, &core.key, &request)
            .await
            .map(|_| ())
            .map_err(|e| fail(format!("终端注册失败：{e}")))
    }
}
