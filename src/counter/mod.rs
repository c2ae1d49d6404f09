//! Counter mode (一窗综办) and the hall display (叫号屏): the Slint glue for the clerk's window
//! (`CounterWindow`), the evaluation pad facing the citizen (`EvaluationPadWindow`, a second
//! window) and the hall's calling display (`HallDisplayWindow`).
//!
//! What the counter does next is decided in [`clerk`] (sign-in, idle lock, the citizen's
//! work, the pad) and [`prereview`] (智能预审); the queue is `core::ticketing`, cases and
//! events go through the outbox, receipts through the kiosk's `ReceiptPrinter`. Device and
//! network threads post into an inbox and wake the UI, as in the kiosk.

pub mod clerk;
pub mod hall;
pub mod prereview;
pub mod receipts;
pub mod screenshots;

use std::cell::RefCell;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};
use ykb_drivers::escpos::Receipt;

use crate::cli::{self, Cli};
use crate::core::audit::{self, Actor, AuditAction};
use crate::core::config::{CounterSection, Profile, TicketingSection};
use crate::core::domain::CardExpiry;
use crate::core::domain::EvaluationLevel;
use crate::core::outbox::{self, Quota};
use crate::core::pin::SignIn;
use crate::core::ticketing::{self, IssueRequest, TicketError, TicketRef, Transfer};
use crate::core::Core;
use crate::terminal::cards::{CardOutcome, CardService};
use crate::terminal::delivery::{Awaiting, Delivery, DeliveryNews, SUBMIT_GRACE};
use crate::terminal::inbox::{Inbox, Report};
use crate::terminal::link::PlatformLink;
use crate::terminal::printer::ReceiptPrinter;
use crate::ui::{
    Chip, CounterAdapter, CounterCheck, CounterMatter, CounterOption, CounterQuestion,
    CounterTarget, CounterWindow, EvaluationPadWindow, HallDisplayWindow, PadAdapter,
    NO_DISPLAY_MESSAGE,
};
use clerk::{Auth, Clerk, Decision, Pad};
use prereview::{Status, Subject};

/// `ticketing::skip` or `ticketing::hold`: the ticket leaves the window unserved.
type EndTicket = fn(
    &mut crate::core::store::Store,
    &crate::core::crypto::DataKey,
    Quota,
    &TicketingSection,
    u16,
    Timestamp,
) -> Result<ticketing::Finished, TicketError>;

/// Outbox kind of a 不予受理 decision (supervision: the matter, window, staff id, ticket and
/// the reason as the clerk wrote it; no applicant data).
pub const EVENT_REJECTED: &str = "counter_rejected";
/// Outbox kind of a 补齐补正 request (supervision: the missing materials' ids; no applicant
/// data).
pub const EVENT_SUPPLEMENT: &str = "counter_supplement";

/// How many catalogue matches the matter search shows.
const MATTER_LIMIT: usize = 8;

/// Runs counter mode for the CLI's profile (`terminal.kind = "counter"`) until the clerk's
/// window closes.
pub fn run_counter(cli: &Cli, profile: Profile) -> ExitCode {
    let mut core = match cli::start_core(cli, profile) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let platform = PlatformLink::connect(&mut core).map(Arc::new);
    let (window, pad) = match (CounterWindow::new(), EvaluationPadWindow::new()) {
        (Ok(w), Ok(p)) => (w, p),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("{NO_DISPLAY_MESSAGE}（{e}）");
            return ExitCode::from(cli::EXIT_FAILURE);
        }
    };
    let counter = match Counter::attach(&window, &pad, core) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("配置错误：{e}");
            return ExitCode::from(cli::EXIT_CONFIG);
        }
    };
    if let Some(p) = &platform {
        counter.use_platform(p.clone());
    }
    counter.start_devices();
    tracing::info!(profile = %cli.profile_name(), "counter UI started");
    let timer = counter.timer();
    if let Err(e) = pad.show() {
        tracing::warn!(error = %e, "evaluation pad window not shown");
    }
    let result = window.run();
    drop(timer);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("界面运行出错：{e}");
            ExitCode::from(cli::EXIT_FAILURE)
        }
    }
}

/// Runs the hall display for the CLI's profile (`terminal.kind = "hall-display"`).
pub fn run_hall_display(cli: &Cli, profile: Profile) -> ExitCode {
    let core = match cli::start_core(cli, profile) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let window = match HallDisplayWindow::new() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("{NO_DISPLAY_MESSAGE}（{e}）");
            return ExitCode::from(cli::EXIT_FAILURE);
        }
    };
    if core.profile.terminal.fullscreen {
        window.window().set_fullscreen(true);
    }
    let display = hall::HallDisplay::attach(&window, core, crate::terminal::speech::announcer());
    let timer = display.timer();
    tracing::info!(profile = %cli.profile_name(), "hall display started");
    let result = window.run();
    drop(timer);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("界面运行出错：{e}");
            ExitCode::from(cli::EXIT_FAILURE)
        }
    }
}

/// The running counter: the clerk's window, the citizen's pad, the core and the clerk's
/// session, shared by the callbacks.
pub struct Counter {
    window: slint::Weak<CounterWindow>,
    pad: slint::Weak<EvaluationPadWindow>,
    state: Rc<RefCell<State>>,
}

struct State {
    core: Core,
    cfg: CounterSection,
    ticketing: TicketingSection,
    clerk: Clerk,
    message: String,
    message_error: bool,
    sign_in_note: String,
    matches: Vec<CounterMatter>,
    print_status: String,
    last_receipt: Option<Receipt>,
    /// An accepted case waiting (briefly) for the platform's unified code before its receipt
    /// is printed.
    awaiting: Option<Awaiting>,
    printer: Option<ReceiptPrinter>,
    cards: Option<CardService>,
    platform: Option<Arc<PlatformLink>>,
    delivery: Option<Delivery>,
    inbox: Inbox,
}

impl State {
    fn say(&mut self, text: impl Into<String>) {
        self.message = text.into();
        self.message_error = false;
    }

    fn fail(&mut self, text: impl Into<String>) {
        self.message = text.into();
        self.message_error = true;
    }

    fn audit(&mut self, staff: &str, action: AuditAction) {
        let actor = Actor::staff(staff).unwrap_or_else(|_| Actor::system());
        let detail = format!("{} 号窗口", self.cfg.window);
        if let Err(e) = audit::append(&mut self.core.store, &actor, action, &detail) {
            tracing::warn!(error = %e, "audit entry not written");
        }
    }

    /// Queues a supervision event through the outbox and wakes delivery; on failure the
    /// clerk is told and `false` comes back.
    fn queue_event(&mut self, kind: &str, body: &serde_json::Value) -> bool {
        let quota = Quota::from_mb(self.core.profile.data.outbox_quota_mb);
        match outbox::enqueue_event(
            &mut self.core.store,
            &self.core.key,
            quota,
            kind,
            body,
            Timestamp::now(),
        ) {
            Ok(_) => {
                self.wake_delivery();
                true
            }
            Err(e) => {
                self.fail(format!("未能记录：{e}"));
                false
            }
        }
    }

    fn wake_delivery(&self) {
        if let Some(d) = &self.delivery {
            d.wake();
        }
    }
}

impl Counter {
    /// Wires the clerk's window and the pad to a started core. Refuses a profile without
    /// `[counter]` or `[ticketing]`.
    pub fn attach(
        window: &CounterWindow,
        pad: &EvaluationPadWindow,
        mut core: Core,
    ) -> Result<Self, String> {
        let ticketing = core
            .profile
            .ticketing
            .clone()
            .ok_or("窗口模式需要 [ticketing] 配置（大厅的业务与窗口）")?;
        let cfg = core.profile.counter.clone().ok_or(
            "窗口模式需要 [counter] 配置（本机窗口号与工作人员），见 kiosk-config/counter.toml",
        )?;
        if let Err(e) = crate::core::search::ensure_index(&mut core.store) {
            tracing::warn!(error = %e, "search index could not be built");
        }
        let a = window.global::<CounterAdapter>();
        a.set_terminal_name(core.profile.terminal.name.clone().into());
        a.set_window_number(i32::from(cfg.window));
        a.set_demo(core.profile.platform.mode == crate::core::config::PlatformMode::Simulator);
        a.set_demo_services(ModelRc::new(VecModel::from(
            ticketing
                .services
                .iter()
                .map(|s| SharedString::from(s.prefix.as_str()))
                .collect::<Vec<_>>(),
        )));
        pad.global::<PadAdapter>()
            .set_window_number(i32::from(cfg.window));
        let counter = Counter {
            window: window.as_weak(),
            pad: pad.as_weak(),
            state: Rc::new(RefCell::new(State {
                clerk: Clerk::new(&cfg, Instant::now()),
                core,
                cfg,
                ticketing,
                message: String::new(),
                message_error: false,
                sign_in_note: String::new(),
                matches: Vec::new(),
                print_status: String::new(),
                last_receipt: None,
                awaiting: None,
                printer: None,
                cards: None,
                platform: None,
                delivery: None,
                inbox: {
                    let window = window.as_weak();
                    Inbox::new(move || {
                        let _ = window.upgrade_in_event_loop(|w| {
                            w.global::<CounterAdapter>().invoke_inbox_ready()
                        });
                    })
                },
            })),
        };
        counter.connect(window, pad);
        counter.render();
        Ok(counter)
    }

    fn handle(&self) -> Counter {
        Counter {
            window: self.window.clone(),
            pad: self.pad.clone(),
            state: self.state.clone(),
        }
    }

    fn connect(&self, window: &CounterWindow, pad: &EvaluationPadWindow) {
        let a = window.global::<CounterAdapter>();
        // Each clerk action: the session is kept open, the action runs, the screens update.
        let on = |f: fn(&Counter)| {
            let c = self.handle();
            move || {
                c.state.borrow_mut().clerk.touch(Instant::now());
                f(&c);
                c.render();
            }
        };
        a.on_sign_in(on(Counter::sign_in));
        a.on_lock(on(|c| {
            let mut st = c.state.borrow_mut();
            if let Some(staff) = st.clerk.lock() {
                st.audit(&staff, AuditAction::StaffLocked);
            }
        }));
        a.on_sign_out(on(Counter::sign_out));
        a.on_call_next(on(Counter::call_next));
        a.on_recall(on(|c| {
            let mut guard = c.state.borrow_mut();
            let st = &mut *guard;
            let r = ticketing::recall(
                &mut st.core.store,
                &st.core.key,
                Quota::from_mb(st.core.profile.data.outbox_quota_mb),
                &st.ticketing,
                st.cfg.window,
                Timestamp::now(),
            );
            match r {
                Ok(called) => st.say(format!("已重呼：{}", called.announcement.zh)),
                Err(e) => st.fail(e.to_string()),
            }
            st.wake_delivery();
        }));
        a.on_skip(on(|c| c.end_ticket(ticketing::skip, "已过号")));
        a.on_hold(on(|c| {
            c.end_ticket(ticketing::hold, "已暂挂，可凭号码回到本窗口")
        }));
        a.on_finish(on(Counter::finish));
        let c = self.handle();
        a.on_transfer(move |w, s| {
            c.state.borrow_mut().clerk.touch(Instant::now());
            let to = match u16::try_from(w) {
                Ok(w) if w > 0 => Transfer::Window(w),
                _ => Transfer::Service(s.to_string()),
            };
            c.transfer(&to);
            c.render();
        });
        let c = self.handle();
        a.on_demo_issue(move |s| {
            c.demo_issue(&s);
            c.render();
        });
        a.on_place_demo_card(on(|c| {
            if let Some(cards) = &c.state.borrow().cards {
                cards.place_demo_card();
            }
        }));
        let c = self.handle();
        a.on_search(move |q| {
            c.state.borrow_mut().clerk.touch(Instant::now());
            c.search(&q);
            c.render();
        });
        let c = self.handle();
        a.on_choose_matter(move |code| {
            {
                let mut st = c.state.borrow_mut();
                st.clerk.touch(Instant::now());
                if let Some(m) = st.core.catalog.matter(&code).cloned() {
                    st.clerk.choose_matter(m);
                    st.matches.clear();
                    st.print_status.clear();
                    st.last_receipt = None;
                }
            }
            if let Some(w) = c.window.upgrade() {
                w.global::<CounterAdapter>()
                    .set_matter_query(SharedString::new());
            }
            c.render();
        });
        let c = self.handle();
        a.on_answer(move |id| {
            let mut st = c.state.borrow_mut();
            st.clerk.touch(Instant::now());
            st.clerk.answer(&id);
            drop(st);
            c.render();
        });
        let c = self.handle();
        a.on_toggle_material(move |id| {
            let mut st = c.state.borrow_mut();
            st.clerk.touch(Instant::now());
            st.clerk.toggle_brought(&id);
            drop(st);
            c.render();
        });
        a.on_accept(on(Counter::accept));
        a.on_reject(on(Counter::reject));
        a.on_supplement(on(Counter::supplement));
        a.on_reprint(on(|c| {
            let r = c.state.borrow().last_receipt.clone();
            if let Some(r) = r {
                c.print(r);
            }
        }));
        let c = self.handle();
        a.on_touched(move || c.state.borrow_mut().clerk.touch(Instant::now()));
        let c = self.handle();
        a.on_inbox_ready(move || c.process_device_events());

        let p = pad.global::<PadAdapter>();
        let c = self.handle();
        p.on_choose(move |score| {
            if let Some(l) = u8::try_from(score)
                .ok()
                .and_then(EvaluationLevel::from_score)
            {
                c.state.borrow_mut().clerk.evaluate_level(l);
            }
            c.render();
        });
        let c = self.handle();
        p.on_toggle(move |r| {
            c.state.borrow_mut().clerk.toggle_reason(&r);
            c.render();
        });
        let c = self.handle();
        p.on_send(move || {
            c.send_evaluation();
            c.render();
        });
        let c = self.handle();
        p.on_skip(move || {
            c.state.borrow_mut().clerk.evaluated(Instant::now());
            c.render();
        });
    }

    fn sign_in(&self) {
        let Some(w) = self.window.upgrade() else {
            return;
        };
        let a = w.global::<CounterAdapter>();
        let staff = a.get_staff_input().trim().to_owned();
        let pin = a.get_pin_input().to_string();
        a.set_pin_input(SharedString::new());
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        let accounts = st.cfg.staff.clone();
        let now = Instant::now();
        match st.clerk.sign_in(&staff, &pin, &accounts, now) {
            SignIn::Ok => {
                st.sign_in_note.clear();
                st.audit(&staff, AuditAction::StaffSignIn);
                let r = ticketing::set_window_open(
                    &mut st.core.store,
                    &st.ticketing,
                    st.cfg.window,
                    true,
                    Timestamp::now(),
                );
                match r {
                    Ok(()) => st.say(format!("{} 号窗口已开放叫号", st.cfg.window)),
                    Err(e) => st.fail(e.to_string()),
                }
            }
            SignIn::Wrong { left } => {
                st.sign_in_note = format!("工号或密码错误，还可再试 {left} 次");
                st.audit(&staff, AuditAction::StaffSignInFailed);
            }
            SignIn::Paused { secs } => {
                st.sign_in_note = format!("错误次数过多，请 {secs} 秒后再试");
                st.audit(&staff, AuditAction::StaffSignInFailed);
            }
            SignIn::StillPaused { secs } => {
                st.sign_in_note = format!("错误次数过多，请 {secs} 秒后再试");
            }
        }
    }

    fn sign_out(&self) {
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        if let Some(t) = st.clerk.work().ticket.clone() {
            st.fail(format!("{t} 号还在本窗口，请先办结、过号、暂挂或转出"));
            return;
        }
        let r = ticketing::set_window_open(
            &mut st.core.store,
            &st.ticketing,
            st.cfg.window,
            false,
            Timestamp::now(),
        );
        if let Err(e) = r {
            tracing::warn!(error = %e, "window not closed");
        }
        if let Some(staff) = st.clerk.sign_out() {
            st.audit(&staff, AuditAction::StaffSignOut);
        }
        if let Some(c) = &st.cards {
            c.lift_demo_card();
        }
        st.matches.clear();
        st.print_status.clear();
        st.last_receipt = None;
        st.awaiting = None;
        st.say("已签退");
    }

    fn call_next(&self) {
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        let r = ticketing::call_next(
            &mut st.core.store,
            &st.core.key,
            Quota::from_mb(st.core.profile.data.outbox_quota_mb),
            &st.ticketing,
            st.cfg.window,
            Timestamp::now(),
        );
        match r {
            Ok(called) => {
                st.clerk.called(&called.number);
                st.print_status.clear();
                st.last_receipt = None;
                if let Some(c) = &st.cards {
                    c.lift_demo_card();
                }
                st.say(format!("已叫号：{}", called.announcement.zh));
            }
            Err(e) => st.fail(e.to_string()),
        }
        st.wake_delivery();
    }

    fn end_ticket(&self, f: EndTicket, what: &str) {
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        let r = f(
            &mut st.core.store,
            &st.core.key,
            Quota::from_mb(st.core.profile.data.outbox_quota_mb),
            &st.ticketing,
            st.cfg.window,
            Timestamp::now(),
        );
        match r {
            Ok(done) => {
                st.clerk.ticket_gone();
                st.print_status.clear();
                st.say(format!("{} 号{what}", done.number));
            }
            Err(e) => st.fail(e.to_string()),
        }
        st.wake_delivery();
    }

    fn transfer(&self, to: &Transfer) {
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        let r = ticketing::transfer(
            &mut st.core.store,
            &st.core.key,
            Quota::from_mb(st.core.profile.data.outbox_quota_mb),
            &st.ticketing,
            st.cfg.window,
            to,
            Timestamp::now(),
        );
        match r {
            Ok(done) => {
                st.clerk.ticket_gone();
                st.print_status.clear();
                let dest = match to {
                    Transfer::Window(w) => format!("{w} 号窗口"),
                    Transfer::Service(s) => format!("{s} 类业务队列"),
                };
                st.say(format!("{} 号已转至 {dest}", done.number));
            }
            Err(e) => st.fail(e.to_string()),
        }
        st.wake_delivery();
    }

    /// 办结: the ticket is served and the pad asks the citizen for 好差评.
    fn finish(&self) {
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        if st.clerk.work().ticket.is_some() {
            let r = ticketing::serve(
                &mut st.core.store,
                &st.core.key,
                Quota::from_mb(st.core.profile.data.outbox_quota_mb),
                &st.ticketing,
                st.cfg.window,
                Timestamp::now(),
            );
            if let Err(e) = r {
                st.fail(e.to_string());
                return;
            }
        }
        let number = st.clerk.finish();
        if let Some(c) = &st.cards {
            c.lift_demo_card();
        }
        st.print_status.clear();
        st.last_receipt = None;
        st.awaiting = None;
        st.say(match number {
            Some(n) => format!("{n} 号已办结，请市民在评价器上评价"),
            None => "已办结，请市民在评价器上评价".into(),
        });
        st.wake_delivery();
    }

    /// Demo: a citizen takes a ticket at the hall's kiosk (numbers leased from the simulator
    /// on first use).
    fn demo_issue(&self, service: &str) {
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        let req = IssueRequest {
            service: service.to_owned(),
            ..IssueRequest::default()
        };
        let mut r = ticketing::issue(
            &mut st.core.store,
            &st.core.key,
            Quota::from_mb(st.core.profile.data.outbox_quota_mb),
            &st.ticketing,
            &req,
            Timestamp::now(),
        );
        if matches!(r, Err(TicketError::LeaseExhausted { .. })) {
            if let Some(p) = st.platform.clone() {
                lease_from(&p, st);
                r = ticketing::issue(
                    &mut st.core.store,
                    &st.core.key,
                    Quota::from_mb(st.core.profile.data.outbox_quota_mb),
                    &st.ticketing,
                    &req,
                    Timestamp::now(),
                );
            }
        }
        match r {
            Ok(t) => st.say(format!(
                "演示：市民取得 {} 号（{}），前面还有 {} 人",
                t.number, t.service_name, t.waiting_before
            )),
            Err(e) => st.fail(e.to_string()),
        }
        st.wake_delivery();
    }

    fn search(&self, q: &str) {
        let mut st = self.state.borrow_mut();
        let q = q.trim();
        st.matches = if q.is_empty() {
            Vec::new()
        } else {
            crate::core::search::search(
                st.core.store.conn(),
                q,
                &crate::core::search::Filters::default(),
                MATTER_LIMIT,
            )
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "search failed");
                Vec::new()
            })
            .into_iter()
            .map(|h| CounterMatter {
                code: h.task_code.into(),
                name: h.name.into(),
                detail: h.department.into(),
            })
            .collect()
        };
    }

    fn desk_ticket(st: &State) -> (String, Option<String>) {
        (
            st.clerk.staff().unwrap_or_default().to_owned(),
            st.clerk.work().ticket.clone(),
        )
    }

    /// 受理: the case, its materials and its outbox row in one transaction; the receipt
    /// follows once the platform gave its unified code (or after a short wait, with the local
    /// number).
    fn accept(&self) {
        if let Some((case_id, number)) = self.store_acceptance() {
            self.print_acceptance(&case_id, &number);
        }
    }

    /// Stores the accepted case; returns what to print now when no delivery worker will
    /// bring the unified code.
    fn store_acceptance(&self) -> Option<(String, String)> {
        let mut guard = self.state.borrow_mut();
        let st = &mut *guard;
        let today = ticketing::hall_date(Timestamp::now());
        let review = st.clerk.review(today)?;
        if !review.can_accept() {
            st.fail("预审未通过，不能受理：请补齐缺少的项目，或出具补齐补正告知");
            return None;
        }
        let errand = st.clerk.work().errand()?;
        let case = crate::errand::new_case(&errand, st.core.catalog.version);
        let quota = Quota::from_mb(st.core.profile.data.outbox_quota_mb);
        match outbox::enqueue_case(
            &mut st.core.store,
            &st.core.key,
            quota,
            case,
            Timestamp::now(),
        ) {
            Ok(acc) => {
                let case_id = acc.id.to_string();
                let local = acc.seq.to_string();
                st.clerk.decided(Decision::Accepted {
                    case_id: case_id.clone(),
                    local_number: local.clone(),
                });
                st.say(format!("已受理，本机编号 {local}"));
                if st.delivery.is_some() {
                    st.awaiting = Some(Awaiting {
                        case_id,
                        local_number: local,
                        until: Instant::now() + SUBMIT_GRACE,
                    });
                    st.print_status = "正在取得统一受理编号…".into();
                    st.wake_delivery();
                    None
                } else {
                    Some((case_id, format!("{local}（本机编号）")))
                }
            }
            Err(e) => {
                st.fail(format!("未能受理：{e}"));
                None
            }
        }
    }

    fn print_acceptance(&self, case_id: &str, number: &str) {
        let receipt = {
            let st = self.state.borrow();
            let w = st.clerk.work();
            let (staff, ticket) = Self::desk_ticket(&st);
            match (&w.matter, &w.person) {
                (Some(m), Some(p)) => Some(receipts::acceptance(
                    m,
                    p,
                    &receipts::Desk {
                        terminal: &st.core.profile.terminal.name,
                        window: st.cfg.window,
                        staff: &staff,
                        ticket: ticket.as_deref(),
                    },
                    case_id,
                    number,
                    Timestamp::now(),
                )),
                _ => None,
            }
        };
        if let Some(r) = receipt {
            self.print(r);
        }
    }

    fn reject(&self) {
        let reason = self
            .window
            .upgrade()
            .map(|w| {
                w.global::<CounterAdapter>()
                    .get_reject_reason()
                    .trim()
                    .to_owned()
            })
            .unwrap_or_default();
        let receipt = {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            if reason.is_empty() {
                st.fail("请填写不予受理的理由");
                return;
            }
            let (staff, ticket) = Self::desk_ticket(st);
            let Some(m) = st.clerk.work().matter.clone() else {
                return;
            };
            let body = serde_json::json!({
                "task_code": m.task_code,
                "window": st.cfg.window,
                "staff": staff,
                "ticket": ticket,
                "reason": reason,
                "at": Timestamp::now(),
            });
            if !st.queue_event(EVENT_REJECTED, &body) {
                return;
            }
            st.say("已出具不予受理告知");
            let r = receipts::rejection(
                &m,
                st.clerk.work().person.as_ref(),
                &receipts::Desk {
                    terminal: &st.core.profile.terminal.name,
                    window: st.cfg.window,
                    staff: &staff,
                    ticket: ticket.as_deref(),
                },
                &reason,
                Timestamp::now(),
            );
            st.clerk.decided(Decision::Rejected { reason });
            r
        };
        if let Some(w) = self.window.upgrade() {
            w.global::<CounterAdapter>()
                .set_reject_reason(SharedString::new());
        }
        self.print(receipt);
    }

    /// 补齐补正: the list of everything missing, printed once, and an event for supervision.
    fn supplement(&self) {
        let receipt = {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            let today = ticketing::hall_date(Timestamp::now());
            let (Some(review), Some(m)) = (st.clerk.review(today), st.clerk.work().matter.clone())
            else {
                return;
            };
            let missing = review.missing_materials(&m);
            let other: Vec<String> = review
                .missing()
                .filter(|c| !matches!(c.subject, Subject::Material(_)))
                .map(|c| c.text.clone())
                .collect();
            if missing.is_empty() && other.is_empty() {
                st.fail("预审没有发现缺少的项目，无需补齐补正");
                return;
            }
            let (staff, ticket) = Self::desk_ticket(st);
            let body = serde_json::json!({
                "task_code": m.task_code,
                "window": st.cfg.window,
                "staff": staff,
                "ticket": ticket,
                "missing": missing.iter().map(|x| x.id.clone()).collect::<Vec<_>>(),
                "at": Timestamp::now(),
            });
            if !st.queue_event(EVENT_SUPPLEMENT, &body) {
                return;
            }
            let names: Vec<String> = missing
                .iter()
                .map(|x| x.name.clone())
                .chain(other.iter().cloned())
                .collect();
            st.say(format!("已出具补齐补正告知（{} 项）", names.len()));
            let r = receipts::supplement(
                &m,
                st.clerk.work().person.as_ref(),
                &receipts::Desk {
                    terminal: &st.core.profile.terminal.name,
                    window: st.cfg.window,
                    staff: &staff,
                    ticket: ticket.as_deref(),
                },
                &missing,
                &other,
                Timestamp::now(),
            );
            st.clerk.decided(Decision::Supplement { missing: names });
            r
        };
        self.print(receipt);
    }

    fn print(&self, receipt: Receipt) {
        let inbox = self.state.borrow().inbox.clone();
        let mut st = self.state.borrow_mut();
        st.last_receipt = Some(receipt.clone());
        st.print_status = match &st.printer {
            None => "本机没有打印机，请手工出具".into(),
            Some(p) => {
                p.print(receipt, move |r, h| inbox.post(Report::Printed(r, h)));
                "正在打印…".into()
            }
        };
        drop(st);
        self.render();
    }

    fn send_evaluation(&self) {
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        let Some(e) = st.clerk.evaluation_ready() else {
            return;
        };
        let Some(level) = e.level else { return };
        let now = Timestamp::now();
        let quota = Quota::from_mb(st.core.profile.data.outbox_quota_mb);
        let stored = match e.ticket.as_deref().map(TicketRef::parse) {
            Some(Ok(reference)) => ticketing::evaluate(
                &mut st.core.store,
                &st.core.key,
                quota,
                &st.ticketing,
                &reference,
                level,
                &e.reasons,
                now,
            )
            .map_err(|e| e.to_string()),
            _ => {
                let body = crate::errand::case::evaluation_event(
                    e.case_id.as_deref(),
                    e.task_code.as_deref(),
                    level,
                    &e.reasons,
                    st.core.profile.terminal.kind.as_str(),
                    now,
                );
                outbox::enqueue_event(
                    &mut st.core.store,
                    &st.core.key,
                    quota,
                    ticketing::EVENT_EVALUATION,
                    &body,
                    now,
                )
                .map_err(|e| e.to_string())
            }
        };
        // An evaluation that cannot be stored is not worth keeping the citizen for.
        if let Err(e) = stored {
            tracing::warn!(error = %e, "evaluation not stored");
        }
        st.wake_delivery();
        st.clerk.evaluated(Instant::now());
    }

    /// Delivers the outbox to the platform from this process (alongside the agent service on
    /// installed terminals) and looks up e-licences there.
    pub fn use_platform(&self, platform: Arc<PlatformLink>) {
        let inbox = self.state.borrow().inbox.clone();
        let delivery = Delivery::for_terminal(&self.state.borrow().core, &platform, move |news| {
            inbox.post(Report::Delivery(news))
        });
        let mut st = self.state.borrow_mut();
        st.delivery = delivery;
        st.platform = Some(platform);
    }

    /// Opens the printer and the ID-card reader of the profile (for `simulated`, the drivers'
    /// emulators).
    pub fn start_devices(&self) {
        let mut st = self.state.borrow_mut();
        let dir = st.core.data_dir.join("printer-sim");
        match ReceiptPrinter::start(&st.core.profile.devices.printer, &dir) {
            Ok(p) => st.printer = p,
            Err(e) => tracing::warn!(error = %e, "receipt printer not available"),
        }
        let inbox = st.inbox.clone();
        match CardService::start_with_expiry(&st.core.profile.devices.id_reader, move |o, x| {
            inbox.post(Report::Card(o, x))
        }) {
            Ok(s) => st.cards = s,
            Err(e) => tracing::warn!(error = %e, "ID-card reader could not start"),
        }
    }

    /// The printer emulator's jobs (PNG files), when it is simulated.
    pub fn printed_jobs(&self) -> Vec<std::path::PathBuf> {
        self.state
            .borrow()
            .printer
            .as_ref()
            .and_then(ReceiptPrinter::sim_jobs)
            .unwrap_or_default()
    }

    /// Applies what device and network threads posted (tests call this directly).
    pub fn process_device_events(&self) {
        let items = self.state.borrow().inbox.drain();
        for item in items {
            match item {
                Report::Card(CardOutcome::Read(person), expiry) => {
                    let mut st = self.state.borrow_mut();
                    if st.clerk.staff().is_none() {
                        continue;
                    }
                    if let Some(c) = &st.cards {
                        c.lift_demo_card();
                    }
                    self.look_up_licences(&st, person.id_number.expose());
                    st.clerk.card_read(person, expiry);
                    st.say("已读取身份证");
                }
                Report::Card(CardOutcome::Error(e), _) => {
                    self.state.borrow_mut().fail(match e {
                        crate::core::domain::CardError::Replace => "未能读取身份证，请重新放置",
                        crate::core::domain::CardError::Device => {
                            "身份证阅读器故障，请联系运维人员"
                        }
                        crate::core::domain::CardError::Unsupported => {
                            "2017版外国人永久居留身份证无法读取号码，请人工核验证件"
                        }
                    });
                }
                Report::Card(CardOutcome::Ready, _) => {}
                Report::Licences { id_number, names } => {
                    // The counter's look-up reports names only; a failure was logged.
                    let names = names.unwrap_or_default();
                    self.state.borrow_mut().clerk.licences(&id_number, names);
                }
                Report::Printed(r, health) => {
                    if let Some(h) = health {
                        let devices = std::collections::BTreeMap::from([("printer".to_owned(), h)]);
                        let mut st = self.state.borrow_mut();
                        if let Err(e) = crate::core::health::record_devices(
                            &mut st.core.store,
                            "counter",
                            &devices,
                        ) {
                            tracing::warn!(error = %e, "device state not recorded");
                        }
                    }
                    self.state.borrow_mut().print_status = match r {
                        Ok(()) => "已打印，请交给市民".into(),
                        Err(e) => format!("未能打印（{e}）"),
                    };
                }
                Report::Delivery(DeliveryNews::Delivered { id, unified_code }) => {
                    let awaited = {
                        let mut st = self.state.borrow_mut();
                        let ours = st.awaiting.as_ref().is_some_and(|a| a.case_id == id);
                        if ours {
                            st.awaiting.take()
                        } else {
                            None
                        }
                    };
                    if let (Some(a), Some(code)) = (awaited, unified_code) {
                        self.print_acceptance(&a.case_id, &code);
                    }
                }
                Report::Delivery(
                    DeliveryNews::Offline
                    | DeliveryNews::Notices(_)
                    | DeliveryNews::Progress { .. },
                ) => {}
                // The counter starts no camera, scanner, search or self-test worker.
                Report::Face(..)
                | Report::LicenceCopy { .. }
                | Report::Found { .. }
                | Report::Selftest(_)
                | Report::Scanned(_)
                | Report::Ykm(_)
                | Report::Camera(..)
                | Report::PrintProgress(_) => {}
            }
        }
        self.render();
    }

    fn look_up_licences(&self, st: &State, id_number: &str) {
        let Some(platform) = st.platform.clone() else {
            return;
        };
        let inbox = st.inbox.clone();
        crate::terminal::licences::look_up_licences(
            platform,
            id_number.to_owned(),
            move |id_number, names| {
                inbox.post(Report::Licences {
                    id_number,
                    names: Ok(names),
                })
            },
        );
    }

    /// Advances the clock: the idle lock, the pad's thanks, an acceptance receipt that
    /// waited long enough for the unified code (tests pass a later instant).
    pub fn tick(&self, now: Instant) {
        let overdue = {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            if let Some(staff) = st.clerk.tick(now) {
                st.audit(&staff, AuditAction::StaffLocked);
            }
            let due = st.awaiting.as_ref().is_some_and(|a| now >= a.until);
            if due {
                st.awaiting.take()
            } else {
                None
            }
        };
        if let Some(a) = overdue {
            self.print_acceptance(&a.case_id, &format!("{}（本机编号）", a.local_number));
        }
        self.render();
    }

    /// Ticks every second while kept alive.
    pub fn timer(&self) -> slint::Timer {
        let t = slint::Timer::default();
        let c = self.handle();
        t.start(
            slint::TimerMode::Repeated,
            Duration::from_secs(1),
            move || c.tick(Instant::now()),
        );
        t
    }

    /// Pushes the clerk's session into both windows.
    fn render(&self) {
        let (Some(w), Some(pw)) = (self.window.upgrade(), self.pad.upgrade()) else {
            return;
        };
        let a = w.global::<CounterAdapter>();
        let p = pw.global::<PadAdapter>();
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        let signed_in = st.clerk.staff().is_some();
        a.set_auth(match st.clerk.auth() {
            Auth::SignedOut => 0,
            Auth::Locked { .. } => 1,
            Auth::SignedIn { .. } => 2,
        });
        if let Auth::Locked { staff } = st.clerk.auth() {
            if a.get_staff_input().is_empty() {
                a.set_staff_input(staff.clone().into());
            }
        }
        let staff = st.clerk.staff().unwrap_or_default().to_owned();
        a.set_staff(staff.clone().into());
        a.set_sign_in_note(st.sign_in_note.clone().into());
        a.set_message(st.message.clone().into());
        a.set_message_error(st.message_error);

        let work = st.clerk.work().clone();
        let ticket = work.ticket.clone().unwrap_or_default();
        a.set_ticket(ticket.clone().into());
        a.set_queue_line(queue_line(st).into());
        a.set_targets(ModelRc::new(VecModel::from(targets(st))));
        a.set_card_status(
            if st.cards.is_some() {
                "请申请人将身份证放在读卡器上"
            } else {
                "本机未接入可用的身份证阅读器，请人工核验身份"
            }
            .into(),
        );
        // Nothing personal on screen while locked or signed out.
        let person = work.person.as_ref().filter(|_| signed_in);
        match person {
            Some(pp) => {
                a.set_person_name(pp.name.clone().into());
                a.set_person_id(pp.id_number.masked().into());
                let today = ticketing::hall_date(Timestamp::now());
                let age = pp
                    .id_number
                    .age_on(today)
                    .map(|a| format!("{a} 岁"))
                    .unwrap_or_default();
                let valid = match work.expiry {
                    Some(CardExpiry::On(d)) => format!(" · 证件有效期至 {d}"),
                    Some(CardExpiry::LongTerm) => " · 证件长期有效".into(),
                    None => String::new(),
                };
                let licences = if work.licences.is_empty() {
                    String::new()
                } else {
                    format!(" · 电子证照 {} 项", work.licences.len())
                };
                a.set_person_detail(format!("{age}{valid}{licences}").into());
            }
            None => {
                a.set_person_name(SharedString::new());
                a.set_person_id(SharedString::new());
                a.set_person_detail(SharedString::new());
            }
        }
        a.set_matters(ModelRc::new(VecModel::from(if signed_in {
            st.matches.clone()
        } else {
            Vec::new()
        })));
        let matter = work.matter.as_ref().filter(|_| signed_in);
        a.set_has_matter(matter.is_some());
        let today = ticketing::hall_date(Timestamp::now());
        let review = st.clerk.review(today).filter(|_| signed_in);
        match matter {
            Some(m) => {
                a.set_matter_name(m.name.clone().into());
                a.set_matter_detail(
                    format!(
                        "{} · {} · 承诺时限 {}",
                        m.department,
                        m.implementing_body.name,
                        m.promised_time_limit.display_zh()
                    )
                    .into(),
                );
                a.set_questions(ModelRc::new(VecModel::from(
                    m.applicable_questions(&work.chosen)
                        .map(|q| CounterQuestion {
                            text: q.text.clone().into(),
                            options: ModelRc::new(VecModel::from(
                                q.options
                                    .iter()
                                    .map(|o| CounterOption {
                                        id: o.id.clone().into(),
                                        label: o.label.clone().into(),
                                        selected: work.chosen.contains(&o.id),
                                    })
                                    .collect::<Vec<_>>(),
                            )),
                        })
                        .collect::<Vec<_>>(),
                )));
            }
            None => {
                a.set_matter_name(SharedString::new());
                a.set_matter_detail(SharedString::new());
                a.set_questions(ModelRc::default());
            }
        }
        a.set_checks(ModelRc::new(VecModel::from(
            review
                .as_ref()
                .map(|r| {
                    r.checks
                        .iter()
                        .map(|c| {
                            let (material, name, exempt) = match (&c.subject, matter) {
                                (Subject::Material(id), Some(m)) => {
                                    let mat = m.materials.iter().find(|x| &x.id == id);
                                    let exempt = mat
                                        .and_then(|x| x.exempted_by_licence.as_ref())
                                        .is_some_and(|l| work.licences.contains(l));
                                    (
                                        id.clone(),
                                        mat.map(|x| x.name.clone()).unwrap_or_default(),
                                        exempt,
                                    )
                                }
                                _ => (String::new(), String::new(), false),
                            };
                            CounterCheck {
                                brought: work.brought.contains(&material),
                                material: material.into(),
                                name: name.into(),
                                text: c.text.clone().into(),
                                status: match c.status {
                                    Status::Met => 0,
                                    Status::Missing => 1,
                                    Status::Note => 2,
                                },
                                exempt,
                            }
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default(),
        )));
        a.set_can_accept(review.as_ref().is_some_and(|r| r.can_accept()));
        let decision = match &work.decision {
            Some(Decision::Accepted { local_number, .. }) => {
                format!("已受理（本机编号 {local_number}）")
            }
            Some(Decision::Supplement { missing }) => {
                format!("已出具补齐补正告知：{}", missing.join("、"))
            }
            Some(Decision::Rejected { reason }) => format!("不予受理：{reason}"),
            None => String::new(),
        };
        a.set_decision(decision.into());
        a.set_print_status(st.print_status.clone().into());

        // The pad: what the clerk is doing, then 好差评.
        p.set_staff(staff.into());
        p.set_ticket(ticket.into());
        p.set_matter(
            work.matter
                .as_ref()
                .map(|m| m.name.clone())
                .unwrap_or_default()
                .into(),
        );
        p.set_status(st.clerk.pad_status().into());
        match st.clerk.pad() {
            Pad::Showing => p.set_mode(0),
            Pad::Thanks { .. } => p.set_mode(2),
            Pad::Evaluate(e) => {
                p.set_mode(1);
                p.set_level(e.level.map_or(0, |l| i32::from(l.score())));
                p.set_note(e.note.clone().into());
                p.set_reasons(ModelRc::new(VecModel::from(
                    e.level
                        .map(crate::errand::case::reasons_for)
                        .unwrap_or_default()
                        .iter()
                        .map(|r| Chip {
                            id: (*r).into(),
                            label: (*r).into(),
                            selected: e.reasons.iter().any(|x| x == r),
                        })
                        .collect::<Vec<_>>(),
                )));
            }
        }
        if !matches!(st.clerk.pad(), Pad::Evaluate(_)) {
            p.set_level(0);
            p.set_note(SharedString::new());
            p.set_reasons(ModelRc::default());
        }
    }
}

/// Lease numbers from the demo platform for every service running low.
fn lease_from(p: &PlatformLink, st: &mut State) {
    let now = Timestamp::now();
    let reqs = match ticketing::lease_requests(
        &mut st.core.store,
        &st.ticketing,
        ticketing::hall_date(now),
    ) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "lease requests");
            return;
        }
    };
    for req in reqs {
        match p.runtime().block_on(p.client.ticket_lease(&req)) {
            Ok(lease) => {
                if let Err(e) = ticketing::record_lease(&mut st.core.store, &req, &lease, now) {
                    tracing::warn!(error = %e, "lease not recorded");
                }
            }
            Err(e) => tracing::warn!(error = %e, "lease not granted"),
        }
    }
}

/// "本窗口等候 3 人（A 综合受理 2 · C 社保医保 1）"
fn queue_line(st: &mut State) -> String {
    let Some(w) = st
        .ticketing
        .windows
        .iter()
        .find(|w| w.number == st.cfg.window)
    else {
        return String::new();
    };
    let services = w.services.clone();
    match ticketing::status(&mut st.core.store, &st.ticketing, Timestamp::now()) {
        Ok(s) => {
            let mine: Vec<_> = s
                .services
                .iter()
                .filter(|x| services.contains(&x.prefix))
                .collect();
            let total: u32 = mine.iter().map(|x| x.waiting).sum();
            let parts: Vec<String> = mine
                .iter()
                .map(|x| format!("{} {} {}", x.prefix, x.name, x.waiting))
                .collect();
            format!("本窗口业务等候 {total} 人（{}）", parts.join(" · "))
        }
        Err(e) => {
            tracing::warn!(error = %e, "queue status");
            String::new()
        }
    }
}

/// Where the clerk may send the ticket: the other windows, then the other services.
fn targets(st: &State) -> Vec<CounterTarget> {
    let windows = st
        .ticketing
        .windows
        .iter()
        .filter(|w| w.number != st.cfg.window)
        .map(|w| CounterTarget {
            label: format!("转至 {} 号窗口", w.number).into(),
            window: i32::from(w.number),
            service: SharedString::new(),
        });
    let services = st.ticketing.services.iter().map(|s| CounterTarget {
        label: format!("转至 {} {}", s.prefix, s.name).into(),
        window: 0,
        service: s.prefix.clone().into(),
    });
    windows.chain(services).collect()
}
