//! The command line: with no subcommand the kiosk UI runs; subcommands serve technicians
//! and scripts. Every failure prints one line a person can act on and sets the exit code.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod common;
pub mod devices;
pub mod fleet;
pub mod hall;
pub mod handwriting;
pub mod ops;
pub mod platform;
pub mod queue;
pub mod ticket;
pub mod update;

use crate::core::config::{Profile, DEMO_PROFILE_NAME};
use crate::core::Core;

/// Exit code for invalid configuration (check-config, or a bad --config).
pub const EXIT_CONFIG: u8 = 2;
/// Exit code for any other failure.
pub const EXIT_FAILURE: u8 = 1;

/// ykb-terminal — 渝快办 政务服务终端 (self-service kiosk, bank/post terminal, counter terminal).
///
/// With no command, opens the terminal's touchscreen UI for the profile given by --config
/// (default: the built-in demo profile with bundled catalogue, simulated devices and the local
/// platform simulator).
#[derive(Debug, Parser)]
#[command(name = "ykb-terminal", version, about, long_about = None)]
pub struct Cli {
    /// Profile file (kiosk-config/*.toml). Default: the built-in demo profile.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory (store and keys). Default: the profile's data.dir, else the per-user
    /// directory for the demo and /var/lib/ykb-terminal for installed terminals.
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check profile files; exits 0 when all are valid, 2 otherwise, naming file and key.
    CheckConfig {
        /// Profile files to check.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// The matter catalogue held by this terminal.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// The offline outbox (暂存队列): status, items, retries, dead letters.
    #[command(subcommand)]
    Queue(queue::QueueCommand),
    /// Cases (办件): scripted submission and non-personal status.
    #[command(subcommand)]
    Case(queue::CaseCommand),
    /// Hall ticketing (取号/叫号): issue, lease numbers, open windows, call, recall, skip,
    /// hold, transfer, serve, evaluate, status.
    #[command(subcommand)]
    Ticket(ticket::TicketCommand),
    /// The hall database shared by every terminal of a hall (`ticketing.queue`): init,
    /// status.
    #[command(subcommand)]
    Hall(hall::HallCommand),
    /// Sync the matter catalogue from the platform (delta; --full for a snapshot).
    ///
    /// For the demo profile, without --platform an in-process simulator is started.
    Sync(platform::SyncArgs),
    /// Search matters: Chinese, full pinyin or initials (sfz → 身份证), with filters.
    Search(platform::SearchArgs),
    /// Run the platform simulator (demo and tests) until stopped.
    PlatformSim(platform::SimArgs),
    /// Device emulators on a pseudo-terminal or TCP (demo, tests, training).
    #[command(subcommand)]
    Devsim(devices::DevsimCommand),
    /// Devices attached to this terminal (serial ports, cameras, USB printers).
    #[command(subcommand)]
    Devices(devices::DevicesCommand),
    /// ID-card reader (身份证阅读器) diagnostics.
    #[command(subcommand)]
    Idcard(devices::IdcardCommand),
    /// Print a test receipt.
    #[command(subcommand)]
    Print(devices::PrintCommand),
    /// Receipt printer diagnostics.
    #[command(subcommand)]
    Printer(devices::PrinterCommand),
    /// Print each code a serial QR scanner sends, as it arrives.
    Scan(devices::ScanArgs),
    /// QR codes in image files.
    #[command(subcommand)]
    Qr(devices::QrCommand),
    /// Cameras and document cameras (高拍仪).
    #[command(subcommand)]
    Camera(devices::CameraCommand),
    /// Provision this terminal: register with the platform, store the credentials, create the
    /// data key and write the profile (flags for mass roll-out; asks for missing ones in a
    /// terminal). Nothing half-provisioned is left behind on failure.
    Provision(ops::ProvisionArgs),
    /// Self-test every configured device, the disk, the platform, the clock and the pinned CA,
    /// and send the report to the platform; exits 0 when nothing failed and the platform
    /// received the report, 1 otherwise (the report is shown either way).
    Selftest(ops::SelftestArgs),
    /// Register this terminal again with a new enrolment code when the platform no longer
    /// accepts its credential (expired or revoked); replaces the stored credential in one
    /// audited step, or changes nothing.
    Reregister(ops::ReregisterArgs),
    /// The audit log (who did what, when): verify the hash chain, list entries.
    #[command(subcommand)]
    Audit(ops::AuditCommand),
    /// The service loop for systemd: heartbeats, loopback metrics, READY/WATCHDOG.
    Agent(ops::AgentArgs),
    /// Software updates from the signed APT repository: status, check [--apply].
    #[command(subcommand)]
    Update(update::UpdateCommand),
    /// Handwriting recognition (手写输入) on this terminal: check the recogniser on strokes.
    #[command(subcommand)]
    Handwriting(handwriting::HandwritingCommand),
    /// Simulate a fleet of terminals through a platform outage (virtual time) and compare the
    /// outbox's backoff with a naive fixed-interval retry: request rate, drain time, errors.
    FleetSim(fleet::FleetArgs),
    /// Render every kiosk screen (normal and 大字, Chinese and English) to PNG files, with
    /// no display: the demo kiosk driven through a whole errand, receipt included.
    Screenshots {
        /// Folder for the PNG files (created if missing).
        #[arg(long)]
        out: std::path::PathBuf,
        /// Screen size to draw at, WxH in logical pixels (e.g. 1920x1080, or 1080x1920 for a
        /// portrait standing unit); default 1280x800. Other sizes are named in the files.
        #[arg(long, value_parser = parse_screen_size)]
        size: Option<(u32, u32)>,
    },
}

/// `--size WxH`, checked as `terminal.screen` is.
fn parse_screen_size(text: &str) -> Result<(u32, u32), String> {
    crate::core::config::screen::parse_size(text)
}

/// `catalog …`
#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// List every matter: task code, department, self-service flag and name.
    List {
        /// Print JSON (one array of objects) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one matter as this terminal holds it (with the district's own address and phone).
    Show {
        /// The matter's task code (实施编码).
        code: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

impl Cli {
    /// Loads the profile named by --config, or the embedded demo.
    pub fn profile(&self) -> Result<Profile, crate::core::config::ConfigError> {
        match &self.config {
            Some(path) => Profile::load(path),
            None => Ok(Profile::demo()),
        }
    }

    /// The profile's name for messages.
    pub fn profile_name(&self) -> String {
        self.config
            .as_ref()
            .map_or_else(|| DEMO_PROFILE_NAME.to_owned(), |p| p.display().to_string())
    }
}

/// `check-config FILE…`: every file is checked; one line per file.
pub fn check_config(files: &[PathBuf]) -> ExitCode {
    let mut ok = true;
    for f in files {
        match Profile::load(f) {
            Ok(p) => println!(
                "{}: 有效（{:?}，{}）",
                f.display(),
                p.terminal.kind,
                p.terminal.name
            ),
            Err(e) => {
                ok = false;
                eprintln!("{e}");
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_CONFIG)
    }
}

/// Loads the CLI's profile, printing one clear line (exit code 2) on failure.
pub fn load_profile(cli: &Cli) -> Result<Profile, ExitCode> {
    cli.profile().map_err(|e| {
        eprintln!("配置错误：{e}");
        ExitCode::from(EXIT_CONFIG)
    })
}

/// Opens the core for a profile, printing one clear line on failure.
pub fn start_core(cli: &Cli, profile: Profile) -> Result<Core, ExitCode> {
    let data_dir = cli.data_dir.clone().unwrap_or_else(|| profile.data_dir());
    Core::start(profile, &data_dir).map_err(|e| {
        eprintln!("{e}");
        ExitCode::from(EXIT_FAILURE)
    })
}

/// `catalog list [--json]`
pub fn catalog_list(cli: &Cli, json: bool) -> ExitCode {
    let core = match common::open_core(cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let rows = match core.store.matter_summaries() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let mut out = std::io::stdout().lock();
    let result = if json {
        serde_json::to_writer_pretty(&mut out, &rows)
            .map_err(std::io::Error::from)
            .and_then(|_| writeln!(out))
    } else {
        (|| {
            writeln!(
                out,
                "事项目录 版本 {}，区划 {}，共 {} 项",
                core.catalog.version,
                core.catalog.region_code,
                rows.len()
            )?;
            for r in &rows {
                let badge = if r.self_service { "自助" } else { "    " };
                writeln!(
                    out,
                    "{:<40} {:<8} {} {}",
                    r.task_code, r.department, badge, r.name
                )?;
            }
            Ok(())
        })()
    };
    finish_output(result)
}

/// The exit code for a command's output: a closed pipe (`| head`) is not an error worth a
/// message; any other write failure is.
pub(crate) fn finish_output(result: std::io::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("输出失败：{e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}
