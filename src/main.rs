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
        None => ykb_terminal::kiosk::run_from_cli(&cli),
    }
}
