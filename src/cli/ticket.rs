//! `ticket …`: hall ticketing (取号/叫号) from the command line, for technicians, tests and
//! halls running without the touchscreen: issue, lease numbers, open windows, call, recall,
//! skip, hold, transfer, serve, evaluate and status — against the hall database when the profile
//! names one (`ticketing.queue`), else this terminal's own store. Nothing printed holds
//! personal data.

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use jiff::Timestamp;

use super::common::{fail, open_core, print_json, PlatformArgs};
use super::{Cli, EXIT_CONFIG, EXIT_FAILURE};
use crate::core::config::{PlatformMode, TicketingSection};
use crate::core::domain::{EvaluationLevel, IdNumber};
use crate::core::hall::{Hall, HallDb};
use crate::core::ticketing::{
    self, Appointment, Called, Desk, Finished, IssueRequest, TicketError, TicketRef, Transfer,
};
use crate::core::Core;

/// `ticket …`
#[derive(Debug, Subcommand)]
pub enum TicketCommand {
    /// Issue a ticket (取号) for a service, from this terminal's leased numbers; prints the
    /// number, people waiting and the QR text.
    Issue(IssueArgs),
    /// Lease numbers from the platform for every service running low today (号段补充).
    ///
    /// The demo profile has no fixed platform: --platform is required (e.g. a
    /// `platform-sim` at http://127.0.0.1:8480/v1).
    Lease(LeaseArgs),
    /// Open a counter window for calling (a clerk signed in).
    Open { window: u16 },
    /// Close a counter window (refused while it has a ticket in progress).
    Close { window: u16 },
    /// Call the next ticket to a window (叫号), or one ticket with --number.
    Call {
        window: u16,
        /// A ticket number (A001) or the text of its QR code (YKBT:DATE:A001).
        #[arg(long, value_name = "NUMBER")]
        number: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Announce the window's current ticket again (重呼).
    Recall {
        window: u16,
        #[arg(long)]
        json: bool,
    },
    /// The called citizen did not come (过号).
    Skip { window: u16 },
    /// Park the window's ticket (暂挂); call it back later with `call WINDOW --number`.
    Hold { window: u16 },
    /// The window's ticket is served (办结).
    Served { window: u16 },
    /// Send the window's ticket to another window or service (转出).
    Transfer {
        window: u16,
        /// The window to send it to.
        #[arg(
            long,
            value_name = "WINDOW",
            conflicts_with = "to_service",
            required_unless_present = "to_service"
        )]
        to_window: Option<u16>,
        /// The service (letter) whose queue it joins.
        #[arg(long, value_name = "LETTER")]
        to_service: Option<String>,
    },
    /// 好差评 of a served ticket.
    Evaluate {
        /// The ticket number (A001) or its QR text.
        number: String,
        #[arg(long, value_enum)]
        level: LevelArg,
        /// A reason (repeatable; required for 不满意 and 非常不满意).
        #[arg(long)]
        reason: Vec<String>,
    },
    /// Withdraw a ticket whose printing failed (已作废), so it never waits as a ghost.
    Withdraw {
        /// The ticket's id (as `issue --json` prints it).
        id: uuid::Uuid,
    },
    /// Today's services, waiting counts, leases, windows and recent calls.
    Status {
        #[arg(long)]
        json: bool,
    },
}

/// `ticket issue SERVICE …`
#[derive(Debug, Args)]
pub struct IssueArgs {
    /// The service's letter (A, B, …; see `ticket status`).
    pub service: String,
    /// Green channel (绿色通道) chosen: disability or pregnancy. The reason is not recorded.
    #[arg(long)]
    pub green: bool,
    /// The citizen's ID number (from the card): from the configured age on, the green channel
    /// applies. Used for the decision only; never stored.
    #[arg(long, value_name = "N")]
    pub id_number: Option<String>,
    /// Check an appointment in (预约签到) by its code.
    #[arg(long, value_name = "CODE")]
    pub appointment: Option<String>,
    /// The tap's idempotency key (a UUID the kiosk makes once per tap): the same key issues
    /// the same ticket again instead of a second one.
    #[arg(long, value_name = "UUID")]
    pub tap: Option<uuid::Uuid>,
    /// The appointment's day (YYYY-MM-DD); default today.
    #[arg(long, value_name = "DATE", requires = "appointment")]
    pub appointment_date: Option<jiff::civil::Date>,
    #[arg(long)]
    pub json: bool,
}

/// `ticket lease [--platform URL]`
#[derive(Debug, Args)]
pub struct LeaseArgs {
    /// `--platform` (required for the demo profile) and `--enrolment-code`.
    #[command(flatten)]
    pub link: PlatformArgs,
}

/// 好差评 levels.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LevelArg {
    VerySatisfied,
    Satisfied,
    Basic,
    Dissatisfied,
    VeryDissatisfied,
}

impl From<LevelArg> for EvaluationLevel {
    fn from(l: LevelArg) -> Self {
        match l {
            LevelArg::VerySatisfied => Self::VerySatisfied,
            LevelArg::Satisfied => Self::Satisfied,
            LevelArg::Basic => Self::Basic,
            LevelArg::Dissatisfied => Self::Dissatisfied,
            LevelArg::VeryDissatisfied => Self::VeryDissatisfied,
        }
    }
}

/// The issue request of `ticket issue`'s arguments.
fn issue_request(a: &IssueArgs, now: Timestamp) -> Result<IssueRequest, ExitCode> {
    let id_number = match a.id_number.as_deref().map(IdNumber::parse).transpose() {
        Ok(n) => n,
        Err(e) => return Err(fail(format!("--id-number: {e}"))),
    };
    Ok(IssueRequest {
        tap: a.tap,
        service: a.service.clone(),
        green: a.green,
        id_number,
        appointment: a.appointment.as_ref().map(|code| Appointment {
            code: code.clone(),
            date: a
                .appointment_date
                .unwrap_or_else(|| ticketing::hall_date(now)),
        }),
    })
}

fn print_issued(issued: Result<ticketing::IssuedTicket, TicketError>, json: bool) -> ExitCode {
    match issued {
        Err(e) => fail_ticket(e),
        Ok(t) if json => print_json(&t),
        Ok(t) => {
            let kind = match t.kind {
                ticketing::TicketKind::WalkIn => "",
                ticketing::TicketKind::Green => "（绿色通道）",
                ticketing::TicketKind::Appointment => "（预约）",
            };
            println!("{} {}{kind}", t.number, t.service_name);
            if t.offline {
                println!("大厅数据库暂时连不上：已从本机号段离线发号，此号有效，恢复后自动补传到大厅队列");
            } else {
                println!("前面还有 {} 人等候", t.waiting_before);
            }
            println!("{}  仅限 {} 当日有效", t.qr, t.date);
            ExitCode::SUCCESS
        }
    }
}

/// Runs a `ticket` subcommand.
pub fn run_ticket(cli: &Cli, cmd: &TicketCommand) -> ExitCode {
    let mut core = match open_core(cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let cfg = match ticketing::section(&core.profile) {
        Ok(c) => c.clone(),
        Err(e) => {
            eprintln!("{}：{e}", cli.profile_name());
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if let TicketCommand::Lease(a) = cmd {
        return lease(core, &cfg, a);
    }
    let quota = core.quota();
    let now = Timestamp::now();
    if let (TicketCommand::Issue(a), Some(_)) = (cmd, &cfg.queue) {
        // 取号 on a hall database: offline from this terminal's lease while it cannot be
        // reached, replayed into the hall queue (with any earlier ones) when it is back.
        let req = match issue_request(a, now) {
            Ok(r) => r,
            Err(code) => return code,
        };
        let terminal = core.profile.terminal.name.clone();
        let mut link = crate::core::hall::HallLink::default();
        let issued = crate::core::hall::offline::issue(
            &mut link,
            &mut core.store,
            &cfg,
            &terminal,
            &req,
            now,
        );
        return print_issued(issued, a.json);
    }
    // The hall database when the profile names one, else this terminal's own store: the same
    // commands, the same output.
    let mut hall_db = match &cfg.queue {
        Some(_) => match HallDb::connect(&cfg) {
            Ok(db) => Some(db),
            Err(e) => return fail_ticket(e),
        },
        None => None,
    };
    let terminal = core.profile.terminal.name.clone();
    let window = match cmd {
        TicketCommand::Open { window }
        | TicketCommand::Close { window }
        | TicketCommand::Call { window, .. }
        | TicketCommand::Recall { window, .. }
        | TicketCommand::Skip { window }
        | TicketCommand::Hold { window }
        | TicketCommand::Served { window }
        | TicketCommand::Transfer { window, .. } => *window,
        _ => 0,
    };
    let mut desk = match hall_db.as_mut() {
        Some(db) => Desk::new(
            Hall {
                db,
                store: &mut core.store,
                cfg: &cfg,
                terminal: &terminal,
            },
            window,
        ),
        None => Desk::embedded(&mut core.store, &core.key, quota, &cfg, window),
    };
    match cmd {
        TicketCommand::Issue(a) => match issue_request(a, now) {
            Ok(req) => print_issued(desk.issue(&req, now), a.json),
            Err(code) => code,
        },
        TicketCommand::Withdraw { id } => match desk.withdraw(*id, now) {
            Ok(f) => {
                println!("{} 号{}", f.number, f.state.describe_zh());
                ExitCode::SUCCESS
            }
            Err(e) => fail_ticket(e),
        },
        TicketCommand::Lease(_) => unreachable!("handled above"),
        TicketCommand::Open { window } | TicketCommand::Close { window } => {
            let open = matches!(cmd, TicketCommand::Open { .. });
            match desk.set_open(open, now) {
                Ok(()) => {
                    println!("{window} 号窗口已{}", if open { "开放" } else { "关闭" });
                    ExitCode::SUCCESS
                }
                Err(e) => fail_ticket(e),
            }
        }
        TicketCommand::Call { number, json, .. } => {
            let called = match number {
                None => desk.call_next(now),
                Some(n) => TicketRef::parse(n).and_then(|r| desk.call_ticket(&r, now)),
            };
            print_called(called, *json)
        }
        TicketCommand::Recall { json, .. } => print_called(desk.recall(now), *json),
        TicketCommand::Skip { .. } => print_finished(desk.skip(now)),
        TicketCommand::Hold { .. } => print_finished(desk.hold(now)),
        TicketCommand::Served { .. } => print_finished(desk.serve(now)),
        TicketCommand::Transfer {
            to_window,
            to_service,
            ..
        } => {
            let to = match (to_window, to_service) {
                (Some(w), _) => Transfer::Window(*w),
                (None, Some(s)) => Transfer::Service(s.clone()),
                (None, None) => return fail("请用 --to-window 或 --to-service 指定转往何处"),
            };
            print_finished(desk.transfer(&to, now))
        }
        TicketCommand::Evaluate {
            number,
            level,
            reason,
        } => {
            let result = TicketRef::parse(number)
                .and_then(|r| desk.evaluate(&r, (*level).into(), reason, now));
            match result {
                Ok(id) if cfg.queue.is_some() => {
                    // The hall outbox holds it; its delivery to the platform is not built yet.
                    println!("评价已记录（{id}），保存在大厅叫号数据库");
                    ExitCode::SUCCESS
                }
                Ok(id) => {
                    println!("评价已记录（{id}），将随暂存队列提交");
                    ExitCode::SUCCESS
                }
                Err(e) => fail_ticket(e),
            }
        }
        TicketCommand::Status { json } => match desk.status(now) {
            Err(e) => fail_ticket(e),
            Ok(s) if *json => print_json(&s),
            Ok(s) => {
                println!("{} {}", cfg.hall, s.date);
                for v in &s.services {
                    println!(
                        "{} {:<10} 等候 {:>3}  已取 {:>3}  已办结 {:>3}  本机余号 {:>3}  {}",
                        v.prefix,
                        v.name,
                        v.waiting,
                        v.issued,
                        v.served,
                        v.lease_remaining,
                        if v.issuing_now {
                            "取号中"
                        } else {
                            "不在取号时间"
                        }
                    );
                }
                for w in &s.windows {
                    println!(
                        "{:>3} 号窗口 {}  {}  业务 {}",
                        w.number,
                        if w.open { "开放" } else { "关闭" },
                        w.current.as_deref().unwrap_or("—"),
                        w.services.join("/")
                    );
                }
                for (n, w) in &s.recent_calls {
                    println!("最近叫号：{n} → {w} 号窗口");
                }
                ExitCode::SUCCESS
            }
        },
    }
}

/// Prints a refusal: exit code 2 when the hall database is unreachable, refuses the login or
/// is not the hall schema this build knows (configuration to fix), 1 for any other refusal.
pub(crate) fn fail_ticket(e: TicketError) -> ExitCode {
    match e {
        TicketError::Hall(_) => {
            eprintln!("{e}");
            ExitCode::from(EXIT_CONFIG)
        }
        e => fail(e),
    }
}

fn print_called(r: Result<Called, TicketError>, json: bool) -> ExitCode {
    match r {
        Err(e) => fail_ticket(e),
        Ok(c) if json => print_json(&c),
        Ok(c) => {
            println!("{}", c.announcement.zh);
            println!("{}", c.announcement.en);
            ExitCode::SUCCESS
        }
    }
}

fn print_finished(r: Result<Finished, TicketError>) -> ExitCode {
    match r {
        Err(e) => fail_ticket(e),
        Ok(f) => {
            let mut line = format!(
                "{} 号（{} 号窗口）{}",
                f.number,
                f.window,
                f.state.describe_zh()
            );
            if let Some(w) = f.wait_secs {
                line.push_str(&format!("，等候 {w} 秒"));
            }
            if let Some(s) = f.service_secs {
                line.push_str(&format!("，办理 {s} 秒"));
            }
            println!("{line}");
            ExitCode::SUCCESS
        }
    }
}

/// `ticket lease`: registers if needed, then tops up every service running low.
fn lease(mut core: Core, cfg: &TicketingSection, args: &LeaseArgs) -> ExitCode {
    if core.profile.platform.mode == PlatformMode::Simulator && args.link.platform.is_none() {
        eprintln!(
            "演示配置没有固定的平台：请先运行 ykb-terminal platform-sim，再加 --platform http://127.0.0.1:8480/v1"
        );
        return ExitCode::from(EXIT_CONFIG);
    }
    let (client, rt) = match args.link.client_and_runtime(&core) {
        Ok(c) => c,
        Err(c) => return c,
    };
    rt.block_on(async {
        let retry = "请运行：ykb-terminal ticket lease --enrolment-code 注册码";
        if let Err(c) = args.link.register(&mut core, &client, retry).await {
            return c;
        }
        let store = std::sync::Mutex::new(core.store);
        match ticketing::top_up(&store, &client, cfg, Timestamp::now()).await {
            Err(e) => fail(e),
            Ok(t) => {
                for l in &t.leased {
                    println!("{} {} 号段 {:03}–{:03}", l.date, l.service, l.first, l.last);
                }
                for (s, why) in &t.failed {
                    eprintln!("业务 {s}：未能补充号段：{why}");
                }
                if t.leased.is_empty() && t.failed.is_empty() {
                    println!("各业务号段充足，无需补充");
                }
                if t.failed.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(EXIT_FAILURE)
                }
            }
        }
    })
}
