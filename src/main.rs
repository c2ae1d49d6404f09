//! ykb-terminal binary: parses the command line and hands over to the kiosk UI or a subcommand.

use std::process::ExitCode;

use clap::Parser;
use ykb_terminal::cli::{self, CatalogCommand, Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    ykb_terminal::logging::init(if cli.command.is_some() {
        "warn"
    } else {
        "info"
    });
    match &cli.command {
        Some(Command::CheckConfig { files }) => cli::check_config(files),
        Some(Command::Catalog(CatalogCommand::List { json })) => cli::catalog_list(&cli, *json),
        Some(Command::Queue(q)) => cli::queue::run_queue(&cli, q),
        Some(Command::Case(c)) => cli::queue::run_case(&cli, c),
        Some(Command::Ticket(c)) => cli::ticket::run_ticket(&cli, c),
        Some(Command::Hall(c)) => cli::hall::run_hall(&cli, c),
        Some(Command::Catalog(CatalogCommand::Show { code, json })) => {
            cli::platform::catalog_show(&cli, code, *json)
        }
        Some(Command::Sync(a)) => cli::platform::run_sync(&cli, a),
        Some(Command::Search(a)) => cli::platform::run_search(&cli, a),
        Some(Command::PlatformSim(a)) => cli::platform::run_sim(a),
        Some(Command::Devsim(c)) => cli::devices::run_devsim(c),
        Some(Command::Devices(c)) => cli::devices::devices_list(c),
        Some(Command::Idcard(c)) => cli::devices::run_idcard(c),
        Some(Command::Print(c)) => cli::devices::run_print(&cli, c),
        Some(Command::Printer(c)) => cli::devices::run_printer(&cli, c),
        Some(Command::Scan(a)) => cli::devices::run_scan(a),
        Some(Command::Qr(c)) => cli::devices::run_qr(c),
        Some(Command::Camera(c)) => cli::devices::run_camera(c),
        Some(Command::Provision(a)) => cli::ops::run_provision(&cli, a),
        Some(Command::Selftest(a)) => cli::ops::run_selftest(&cli, a),
        Some(Command::Audit(c)) => cli::ops::run_audit(&cli, c),
        Some(Command::Agent(a)) => cli::ops::run_agent(&cli, a),
        Some(Command::Update(u)) => cli::update::run_update(&cli, u),
        Some(Command::Handwriting(c)) => cli::handwriting::run_handwriting(c),
        Some(Command::FleetSim(a)) => cli::fleet::run_fleet_sim(a),
        Some(Command::Screenshots { out, size }) => ykb_terminal::app::run_screenshots(
            out,
            size.unwrap_or(ykb_terminal::ui::SCREENSHOT_SIZE),
        ),
        Some(Command::Reregister(a)) => cli::ops::run_reregister(&cli, a),
        None => ykb_terminal::app::run_from_cli(&cli),
    }
}
