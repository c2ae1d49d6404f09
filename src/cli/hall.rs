//! `hall …`: the hall database (`ticketing.queue`): `hall init` creates or migrates its schema
//! (terminals never do), `hall status` shows the schema version, the server reached (primary
//! or standby), windows open, waiting per service and the hall outbox's backlog.

use std::process::ExitCode;

use clap::Subcommand;
use jiff::Timestamp;
use serde::Serialize;

use super::common::{open_core, print_json};
use super::ticket::fail_ticket;
use super::{load_profile, Cli, EXIT_CONFIG};
use crate::core::hall::{Hall, HallDb, HallStatusReport};
use crate::core::ticketing::{self, HallQueue, ServiceStatus};

/// `hall …`
#[derive(Debug, Subcommand)]
pub enum HallCommand {
    /// Create the hall schema in an empty database, or migrate it to this version (numbered
    /// migrations, recorded in the database). Run once per hall by its IT, not by terminals.
    Init,
    /// Replays the tickets this terminal issued while the hall database was out of reach
    /// (the kiosk does it by itself before its next ticket and every minute).
    Replay,
    /// The hall database as this terminal reaches it.
    Status {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Serialize)]
struct Report {
    hall: String,
    #[serde(flatten)]
    db: HallStatusReport,
    services: Vec<ServiceStatus>,
}

/// Runs a `hall` subcommand.
pub fn run_hall(cli: &Cli, cmd: &HallCommand) -> ExitCode {
    let profile = match load_profile(cli) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let Some(cfg) = profile.ticketing.clone() else {
        eprintln!(
            "{}：{}",
            cli.profile_name(),
            ticketing::TicketError::NotConfigured
        );
        return ExitCode::from(EXIT_CONFIG);
    };
    if cfg.queue.is_none() {
        eprintln!(
            "{}：没有 ticketing.queue（大厅数据库的连接地址）：本终端使用内置队列；共用大厅队列请在 [ticketing] 中加 queue = \"postgresql://…\"",
            cli.profile_name()
        );
        return ExitCode::from(EXIT_CONFIG);
    }
    match cmd {
        HallCommand::Init => {
            let mut db = match HallDb::connect_unchecked(&cfg) {
                Ok(db) => db,
                Err(e) => return fail_ticket(e),
            };
            match db.init() {
                Ok(m) if m.from == m.to => {
                    println!("大厅数据库的表结构已是第 {} 版，无需迁移", m.to);
                    ExitCode::SUCCESS
                }
                Ok(m) => {
                    println!("大厅数据库的表结构已从第 {} 版迁移到第 {} 版", m.from, m.to);
                    ExitCode::SUCCESS
                }
                Err(e) => fail_ticket(e),
            }
        }
        HallCommand::Replay => {
            let mut core = match open_core(cli) {
                Ok(c) => c,
                Err(c) => return c,
            };
            let mut db = match HallDb::connect(&cfg) {
                Ok(db) => db,
                Err(e) => return fail_ticket(e),
            };
            let terminal = core.profile.terminal.name.clone();
            let mut hall = Hall {
                db: &mut db,
                store: &mut core.store,
                cfg: &cfg,
                terminal: &terminal,
            };
            match crate::core::hall::offline::replay(&mut hall, Timestamp::now()) {
                Ok(0) => {
                    println!("本机没有待补传的离线票据");
                    ExitCode::SUCCESS
                }
                Ok(n) => {
                    println!("已把本机离线发出的 {n} 张票据补传到大厅队列");
                    ExitCode::SUCCESS
                }
                Err(e) => fail_ticket(e),
            }
        }
        HallCommand::Status { json } => {
            let mut core = match open_core(cli) {
                Ok(c) => c,
                Err(c) => return c,
            };
            let mut db = match HallDb::connect(&cfg) {
                Ok(db) => db,
                Err(e) => return fail_ticket(e),
            };
            let report = match db.report(&cfg.hall) {
                Ok(r) => r,
                Err(e) => return fail_ticket(e),
            };
            let terminal = core.profile.terminal.name.clone();
            let status = Hall {
                db: &mut db,
                store: &mut core.store,
                cfg: &cfg,
                terminal: &terminal,
            }
            .status(Timestamp::now());
            let status = match status {
                Ok(s) => s,
                Err(e) => return fail_ticket(e),
            };
            let r = Report {
                hall: cfg.hall.clone(),
                db: report,
                services: status.services,
            };
            if *json {
                return print_json(&r);
            }
            println!(
                "大厅 {}：数据库 {}（{}），表结构第 {} 版",
                r.hall,
                r.db.server,
                if r.db.role == "primary" {
                    "主库"
                } else {
                    "备库"
                },
                r.db.schema_version
            );
            println!(
                "开放窗口 {} 个；待上报事件 {} 条",
                r.db.windows_open, r.db.outbox_backlog
            );
            for s in &r.services {
                println!("{} {:<10} 等候 {:>3}", s.prefix, s.name, s.waiting);
            }
            ExitCode::SUCCESS
        }
    }
}
