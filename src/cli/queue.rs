//! `queue …` and `case submit`: the offline outbox from the command line, for technicians,
//! scripts, load tests and bank/post integrations. Nothing printed here holds personal data.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use jiff::Timestamp;

use super::common::{fail, open_core, print_json};
use super::Cli;
use crate::core::domain::{Applicant, Code, IdNumber, Person};
use crate::core::outbox::{self, NewCase};
use crate::core::Core;

/// `queue …`
#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// Counts by state, queued bytes against the quota, oldest item, next attempt.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Every queued item in delivery order (ids, kinds, attempts, errors — no personal data).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Make an item (or all with --all) due now; a dead letter goes back into the queue.
    Retry {
        /// The item's id.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<String>,
        #[arg(long)]
        all: bool,
    },
    /// Items the platform rejected, with its reasons, for staff to act on.
    DeadLetter {
        #[arg(long)]
        json: bool,
    },
    /// Items set aside because they could not be read or unsealed (damaged storage, a
    /// missing record), with the reason; their sealed data is kept. `queue retry ID` puts one
    /// back once repaired.
    Quarantine {
        #[arg(long)]
        json: bool,
    },
}

/// `case …`
#[derive(Debug, Subcommand)]
pub enum CaseCommand {
    /// Commit cases for a matter into the outbox; prints each case id on its own line as soon
    /// as that case is durably committed.
    Submit {
        /// The matter's task code (实施编码).
        #[arg(long, value_name = "CODE")]
        matter: String,
        /// JSON file with the applicant: {"name": "…", "id_number": "…", "address": "…"}.
        #[arg(long, value_name = "FILE")]
        applicant: PathBuf,
        /// How many cases to submit.
        #[arg(long, default_value_t = 1)]
        count: u32,
        /// A material image to attach: MATERIAL_ID=FILE (repeatable).
        #[arg(long, value_name = "MATERIAL=FILE")]
        image: Vec<String>,
    },
    /// The non-personal status of a case, by id or local number.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `queue` subcommand.
pub fn run_queue(cli: &Cli, cmd: &QueueCommand) -> ExitCode {
    let mut core = match open_core(cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let quota = core.quota();
    match cmd {
        QueueCommand::Status { json } => match outbox::status(&mut core.store, quota) {
            Err(e) => fail(e),
            Ok(s) if *json => print_json(&s),
            Ok(s) => {
                println!(
                    "待提交 {} 项，被拒 {} 项（见 queue dead-letter），搁置 {} 项（见 queue quarantine）",
                    s.pending, s.dead, s.quarantined
                );
                if s.quarantined_holding_personal_data > 0 {
                    println!(
                        "其中 {} 件搁置的办件仍在本机加密保存着申请人的数据",
                        s.quarantined_holding_personal_data
                    );
                }
                if let Some(why) = &s.paused_reason {
                    println!("已暂停提交：{why}");
                }
                println!(
                    "暂存占用 {:.1} MB / 配额 {:.1} MB{}",
                    s.queued_bytes as f64 / 1048576.0,
                    s.quota_bytes as f64 / 1048576.0,
                    if s.near_full {
                        "（接近上限！）"
                    } else {
                        ""
                    }
                );
                if let Some(o) = &s.oldest {
                    println!("最早一项暂存于 {o}");
                }
                if let Some(n) = s
                    .next_attempt_ms
                    .and_then(|m| Timestamp::from_millisecond(m).ok())
                {
                    println!("下次尝试 {n}");
                }
                ExitCode::SUCCESS
            }
        },
        QueueCommand::List { json }
        | QueueCommand::DeadLetter { json }
        | QueueCommand::Quarantine { json } => {
            let items = match cmd {
                QueueCommand::Quarantine { .. } => outbox::quarantined(&mut core.store),
                QueueCommand::DeadLetter { .. } => outbox::list(&mut core.store, true),
                _ => outbox::list(&mut core.store, false),
            };
            match items {
                Err(e) => fail(e),
                Ok(items) if *json => print_json(&items),
                Ok(items) => {
                    for i in &items {
                        println!(
                            "{} #{:<6} {:<18} {:<8} 尝试{}次 {}",
                            i.id,
                            i.seq,
                            i.kind,
                            i.state,
                            i.attempts,
                            i.last_error.as_deref().unwrap_or("")
                        );
                    }
                    if items.is_empty() {
                        println!("（无）");
                    }
                    ExitCode::SUCCESS
                }
            }
        }
        QueueCommand::Retry { id, .. } => {
            match outbox::retry(&mut core.store, id.as_deref(), Timestamp::now()) {
                Ok(n) => {
                    println!("已安排 {n} 项立即重试");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
    }
}

/// The applicant file of `case submit`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplicantFile {
    name: String,
    id_number: String,
    #[serde(default)]
    address: String,
}

/// Runs a `case` subcommand.
pub fn run_case(cli: &Cli, cmd: &CaseCommand) -> ExitCode {
    let mut core = match open_core(cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match cmd {
        CaseCommand::Show { id, json } => match outbox::case_stub(&mut core.store, id) {
            Err(e) => fail(e),
            Ok(None) => fail(format!("没有编号为 {id} 的办件")),
            Ok(Some(s)) if *json => print_json(&s),
            Ok(Some(s)) => {
                println!("办件 {}（暂存编号 {}）：{}", s.id, s.seq, s.status);
                if let Some(c) = &s.unified_code {
                    println!("统一赋码 {c}");
                }
                ExitCode::SUCCESS
            }
        },
        CaseCommand::Submit {
            matter,
            applicant,
            count,
            image,
        } => submit(&mut core, matter, applicant, *count, image),
    }
}

fn submit(
    core: &mut Core,
    matter: &str,
    applicant: &PathBuf,
    count: u32,
    images: &[String],
) -> ExitCode {
    let Some(m) = core.catalog.matter(matter).cloned() else {
        return fail(format!(
            "事项目录中没有实施编码为 {matter} 的事项（可用 catalog list 查看）"
        ));
    };
    let file: ApplicantFile = match std::fs::read_to_string(applicant)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(f) => f,
        Err(e) => return fail(format!("{}: 申请人文件无效：{e}", applicant.display())),
    };
    let id_number = match IdNumber::parse(&file.id_number) {
        Ok(n) => n,
        Err(e) => return fail(format!("{}: id_number: {e}", applicant.display())),
    };
    let mut imgs = Vec::new();
    for spec in images {
        let Some((mid, path)) = spec.split_once('=') else {
            return fail(format!("--image {spec}: 应写成 材料编号=文件"));
        };
        match std::fs::read(path) {
            Ok(b) => imgs.push((mid.to_owned(), b)),
            Err(e) => return fail(format!("--image {spec}: {e}")),
        }
    }
    let quota = core.quota();
    let new = NewCase {
        matters: vec![m.task_code.clone()],
        bundle: None::<Code>,
        catalog_version: core.catalog.version,
        applicant: Applicant::Person {
            person: Person {
                name: file.name,
                id_number,
                address: file.address,
            },
        },
        agent: None,
        delivery: None,
        answers: Default::default(),
        materials: Vec::new(),
        form: Default::default(),
        images: imgs,
    };
    let mut out = std::io::stdout().lock();
    for _ in 0..count {
        match outbox::enqueue_case(
            &mut core.store,
            &core.key,
            quota,
            new.clone(),
            Timestamp::now(),
        ) {
            Ok(a) => {
                // Printed only after the commit: every id a script sees is durable.
                if writeln!(out, "{}", a.id).and_then(|_| out.flush()).is_err() {
                    return ExitCode::SUCCESS;
                }
            }
            Err(e) => return fail(e),
        }
    }
    ExitCode::SUCCESS
}
