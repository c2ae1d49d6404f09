//! Counter mode (一窗综办) and the hall display (叫号屏): the Slint glue for the clerk's window
//! (`CounterWindow`), the evaluation pad facing the citizen (`EvaluationPadWindow`, a second
//! window) and the hall's calling display (`HallDisplayWindow`).
//!
//! What the counter does next is decided in [`clerk`] (sign-in, idle lock, the citizen's
//! work, the pad) and [`prereview`] (智能预审); the queue is `core::ticketing`, cases and
//! events go through the outbox, receipts through the terminal layer's `ReceiptPrinter`. Device
//! and network threads post into the terminal's one inbox and wake the UI, as in the kiosk.

pub mod clerk;
mod desk;
mod devices;
pub mod hall;
mod operations;
mod payment;
pub mod prereview;
pub mod receipts;
mod render;
pub mod screenshots;

use std::cell::RefCell;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use slint::{ComponentHandle, ModelRc, SharedString};
use ykb_drivers::escpos::Receipt;

use crate::cli::{self, Cli};
use crate::core::audit::{Actor, AuditAction};
use crate::core::config::{CounterSection, Profile, TicketingSection};
use crate::core::domain::CardExpiry;
use crate::core::domain::EvaluationLevel;
use crate::core::domain::FieldKind;
use crate::core::pin::SignIn;
use crate::core::ticketing::{self, IssueRequest, TicketRef, Transfer};
use crate::core::Core;
use crate::errand::ink::Pen;
use crate::errand::payment::PaymentStage;
use crate::terminal::cards::{CardOutcome, CardService};
use crate::terminal::delivery::{Awaiting, DeliveryNews, SUBMIT_GRACE};
use crate::terminal::desk::DeskJob;
use crate::terminal::inbox::{Inbox, Report};
use crate::terminal::link::PlatformLink;
use crate::terminal::printer::ReceiptPrinter;
use crate::terminal::Terminal;
use crate::ui::{
    model, Chip, CounterAdapter, CounterCheck, CounterMatter, CounterOption, CounterQuestion,
    CounterTarget, CounterWindow, EvaluationPadWindow, HallDisplayWindow, PadAdapter,
    PaymentAdapter, SignatureAdapter, NO_DISPLAY_MESSAGE,
};
use clerk::{Auth, Clerk, Decision, Pad, ReceiptNumber};
use devices::lease_from;
use prereview::{Status, Subject};

/// Outbox kind of a 不予受理 decision (supervision: the matter, window, staff id, ticket and
/// the reason as the clerk wrote it; no applicant data).
pub const EVENT_REJECTED: &str = "counter_rejected";
/// Outbox kind of a 补齐补正 request (supervision: the missing materials' ids; no applicant
/// data).
pub const EVENT_SUPPLEMENT: &str = "counter_supplement";

/// How many catalogue matches the matter search shows.
const MATTER_LIMIT: usize = 8;
/// The store key of the counter's sign-in throttle.
const THROTTLE_SCOPE: &str = "counter";

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
    counter.mark_first_frame(&window);
    tracing::info!(profile = %cli.profile_name(), "counter UI started");
    let timer = counter.timer();
    if let Err(e) = pad.show() {
        tracing::warn!(error = %e, "evaluation pad window not shown");
    }
    let result = window.run();
    drop(timer);
    crate::ui::exit_code(result)
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
    display.mark_first_frame(&window);
    let timer = display.timer();
    tracing::info!(profile = %cli.profile_name(), "hall display started");
    let result = window.run();
    drop(timer);
    crate::ui::exit_code(result)
}

/// The running counter: the clerk's window, the citizen's pad, the core and the clerk's
/// session, shared by the callbacks.
pub struct Counter {
    window: slint::Weak<CounterWindow>,
    pad: slint::Weak<EvaluationPadWindow>,
    state: Rc<RefCell<State>>,
}

struct State {
    /// The core and the running devices and links (the terminal layer).
    terminal: Terminal,
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
    /// The hall database when the profile names one (`ticketing.queue`), reconnected as
    /// needed.
    hall: crate::core::hall::HallLink,
    /// The 本窗口等候 line as last read.
    queue: render::QueueLine,
    /// This window's desk on its own thread when the queue is the hall's database
    /// (`ticketing.queue`); `None` on the embedded queue, whose actions run at once.
    hall_desk: Option<crate::terminal::desk::HallDesk>,
    /// A clerk's queue action is with the hall desk's thread.
    desk_busy: bool,
    /// Operations hold the terminal in maintenance (`operations`): no further calls.
    maintenance: bool,
    /// When the switches were last read.
    ops_checked: Option<Instant>,
    /// What the counter last told the agent it is doing, and when.
    activity_said: Option<(crate::core::update::Activity, Instant)>,
    /// A restart asked by operations was taken; the event loop is ending.
    restarting: bool,
    /// The follower of the fee's pending order (收费), if one is shown.
    payment_follower: Option<crate::terminal::payment::Follower>,
}

impl State {
    /// Shows and audits what a sign-in came to; `true` when the clerk is in and the window
    /// is to be opened for calls.
    #[must_use]
    fn signed_in(&mut self, staff: &str, result: SignIn) -> bool {
        match result {
            SignIn::Ok => {
                self.sign_in_note.clear();
                self.audit(staff, AuditAction::StaffSignIn);
                return true;
            }
            SignIn::Wrong { left } => {
                self.sign_in_note = format!("工号或密码错误，还可再试 {left} 次");
                self.audit(staff, AuditAction::StaffSignInFailed);
            }
            SignIn::Paused { secs } => {
                self.sign_in_note = format!("错误次数过多，请 {secs} 秒后再试");
                self.audit(staff, AuditAction::StaffSignInFailed);
            }
            SignIn::StillPaused { secs } => {
                self.sign_in_note = format!("错误次数过多，请 {secs} 秒后再试");
            }
        }
        false
    }

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
        self.terminal.audit(&actor, action, &detail);
    }

    /// Queues a supervision event through the outbox and wakes delivery; on failure the
    /// clerk is told and `false` comes back.
    fn queue_event(&mut self, kind: &str, body: &serde_json::Value) -> bool {
        // Storing the event wakes delivery.
        match self.terminal.enqueue_event(kind, body, Timestamp::now()) {
            Ok(_) => true,
            Err(e) => {
                self.fail(format!("未能记录：{e}"));
                false
            }
        }
    }

    /// This window's ticketing desk: every queue action goes through it.
    fn desk(&mut self) -> ticketing::Desk<'_> {
        let window = self.cfg.window;
        // Whatever is done at the desk may change the queue shown.
        self.queue.stale = true;
        if self.ticketing.queue.is_some() {
            // The hall's shared queue; while it cannot be reached every queue action says so
            // in words and the clerk goes on accepting cases.
            match self.hall.get(&self.ticketing) {
                Ok(db) => ticketing::Desk::new(
                    crate::core::hall::Hall {
                        db,
                        store: &mut self.terminal.core.store,
                        cfg: &self.ticketing,
                        terminal: &self.terminal.core.profile.terminal.name,
                    },
                    window,
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "hall database not reached");
                    ticketing::Desk::new(
                        ticketing::Unavailable(format!("{}。{e}", crate::core::hall::DOWN_ZH)),
                        window,
                    )
                }
            }
        } else {
            let quota = self.terminal.core.profile.data.quota();
            ticketing::Desk::embedded(
                &mut self.terminal.core.store,
                &self.terminal.core.key,
                quota,
                &self.ticketing,
                window,
            )
        }
    }

    fn wake_delivery(&self) {
        self.terminal.wake_delivery();
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
        let fit = crate::ui::apply_screen(window.window(), &core.profile.terminal);
        window
            .global::<crate::ui::Theme>()
            .set_min_touch(fit.min_touch);
        window
            .global::<crate::ui::Theme>()
            .set_portrait(fit.portrait);
        if let Err(e) = crate::core::search::ensure_index(&mut core.store) {
            tracing::warn!(error = %e, "search index could not be built");
        }
        let a = window.global::<CounterAdapter>();
        a.set_terminal_name(core.profile.terminal.name.clone().into());
        a.set_window_number(i32::from(cfg.window));
        a.set_demo(core.profile.platform.mode == crate::core::config::PlatformMode::Simulator);
        a.set_demo_services(model(
            ticketing
                .services
                .iter()
                .map(|s| SharedString::from(s.prefix.as_str()))
                .collect::<Vec<_>>(),
        ));
        pad.global::<PadAdapter>()
            .set_window_number(i32::from(cfg.window));
        let mut clerk = Clerk::new(&cfg, Instant::now());
        match crate::core::pin::load_throttle(&mut core.store, THROTTLE_SCOPE) {
            Ok(s) => {
                clerk
                    .throttle_mut()
                    .restore(s, Instant::now(), Timestamp::now().as_millisecond())
            }
            Err(e) => tracing::error!(error = %e, "stored sign-in throttle unreadable"),
        }
        let counter = Counter {
            window: window.as_weak(),
            pad: pad.as_weak(),
            state: Rc::new(RefCell::new(State {
                clerk,
                terminal: Terminal::new(core, {
                    let window = window.as_weak();
                    Inbox::new(move || {
                        let _ = window.upgrade_in_event_loop(|w| {
                            w.global::<CounterAdapter>().invoke_inbox_ready()
                        });
                    })
                }),
                cfg,
                ticketing,
                message: String::new(),
                message_error: false,
                sign_in_note: String::new(),
                matches: Vec::new(),
                print_status: String::new(),
                last_receipt: None,
                awaiting: None,
                hall: Default::default(),
                queue: Default::default(),
                hall_desk: None,
                desk_busy: false,
                maintenance: false,
                ops_checked: None,
                activity_said: None,
                restarting: false,
                payment_follower: None,
            })),
        };
        // On a hall database, a change any terminal commits is announced: the waiting line
        // is read again then (and at least every 30 s), not every second.
        let listener = {
            let st = counter.state.borrow();
            st.ticketing.queue.as_ref().map(|_| {
                let inbox = st.terminal.inbox.clone();
                crate::core::hall::listen::Listener::start(st.ticketing.clone(), move |_| {
                    inbox.post(Report::HallChanged)
                })
            })
        };
        counter.state.borrow_mut().queue.listener = listener;
        // On a hall database the window's queue actions run on a thread of their own.
        let hall_desk = {
            let st = counter.state.borrow();
            st.ticketing.queue.as_ref().map(|_| {
                crate::terminal::desk::HallDesk::start(
                    st.ticketing.clone(),
                    st.terminal.core.store.path().to_owned(),
                    st.terminal.core.profile.terminal.name.clone(),
                    st.cfg.window,
                    st.terminal.inbox.clone(),
                )
            })
        };
        match hall_desk {
            Some(Err(e)) => return Err(format!("叫号线程无法启动：{e}")),
            Some(Ok(d)) => counter.state.borrow_mut().hall_desk = Some(d),
            None => {}
        }
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
        // The same for the actions that carry a text (an id, a query, a code).
        let on_text = |f: fn(&Counter, &str)| {
            let c = self.handle();
            move |text: SharedString| {
                c.state.borrow_mut().clerk.touch(Instant::now());
                f(&c, &text);
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
        a.on_recall(on(|c| c.run_desk(DeskJob::Recall)));
        a.on_skip(on(|c| c.run_desk(DeskJob::Skip)));
        a.on_hold(on(|c| c.run_desk(DeskJob::Hold)));
        a.on_finish(on(Counter::finish));
        let c = self.handle();
        a.on_transfer(move |w, s| {
            c.state.borrow_mut().clerk.touch(Instant::now());
            let to = match u16::try_from(w) {
                Ok(w) if w > 0 => Transfer::Window(w),
                _ => Transfer::Service(s.to_string()),
            };
            c.run_desk(DeskJob::Transfer(to));
            c.render();
        });
        let c = self.handle();
        a.on_demo_issue(move |s| {
            c.demo_issue(&s);
            c.render();
        });
        a.on_place_demo_card(on(|c| {
            if let Some(cards) = &c.state.borrow().terminal.cards {
                cards.place_demo_card();
            }
        }));
        a.on_search(on_text(Counter::search));
        a.on_choose_matter(on_text(|c, code| {
            c.withdraw_payment();
            {
                let mut st = c.state.borrow_mut();
                if let Some(m) = st.terminal.core.catalog.matter(code).cloned() {
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
        }));
        a.on_answer(on_text(|c, id| c.state.borrow_mut().clerk.answer(id)));
        a.on_toggle_material(on_text(|c, id| {
            c.state.borrow_mut().clerk.toggle_brought(id)
        }));
        a.on_edit_post_address(on_text(|c, v| {
            c.state.borrow_mut().clerk.type_post(FieldKind::Text, v);
        }));
        a.on_edit_post_phone(on_text(|c, v| {
            c.state.borrow_mut().clerk.type_post(FieldKind::Phone, v);
        }));
        a.on_ask_signature(on(|c| {
            let mut st = c.state.borrow_mut();
            if st.clerk.ask_signature() {
                st.say("请申请人在评价器上签名");
            }
        }));
        a.on_accept(on(Counter::accept));
        a.on_charge(on(Counter::charge));
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

        // 手写签名: the applicant's finger on the pad (positions in its 1024 box).
        let s = pad.global::<SignatureAdapter>();
        let c = self.handle();
        s.on_pen_down(move |x, y| c.sign_pen(Pen::Down(x as i32, y as i32)));
        let c = self.handle();
        s.on_pen_move(move |x, y| c.sign_pen(Pen::Move(x as i32, y as i32)));
        let c = self.handle();
        s.on_pen_up(move || c.sign_pen(Pen::Up));
        let c = self.handle();
        s.on_clear(move || {
            if c.state.borrow_mut().clerk.clear_signature() {
                c.render();
            }
        });

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

    /// A pen event on the pad's signature box: only the ink and the signed line are drawn
    /// again while the finger moves.
    fn sign_pen(&self, pen: Pen) {
        let changed = self.state.borrow_mut().clerk.sign_pen(pen);
        if changed {
            self.render_signature();
        }
    }

    /// 登录 / 解锁: the PIN is checked on a worker thread (Argon2id takes a tenth of a second
    /// or more), whose outcome comes back through the inbox ([`Counter::pin_checked`]).
    fn sign_in(&self) {
        let Some(w) = self.window.upgrade() else {
            return;
        };
        let a = w.global::<CounterAdapter>();
        let staff = a.get_staff_input().trim().to_owned();
        let pin = a.get_pin_input().to_string();
        a.set_pin_input(SharedString::new());
        let mut st = self.state.borrow_mut();
        match st.clerk.begin_sign_in(&staff, Instant::now()) {
            clerk::SignInStart::Busy => {}
            clerk::SignInStart::Answered(result) => {
                if st.signed_in(&staff, result) {
                    drop(st);
                    self.run_desk(DeskJob::Open(true));
                }
            }
            clerk::SignInStart::Check => {
                st.sign_in_note = "正在核验密码…".into();
                let check = crate::core::pin::PinCheck::new(
                    st.cfg
                        .staff
                        .iter()
                        .map(|a| (a.id.as_str(), a.pin_hash.as_str())),
                    &staff,
                    pin,
                );
                let spawned = st.terminal.inbox.check_pin(check);
                if let Err(e) = spawned {
                    tracing::error!(error = %e, "no thread for the PIN check");
                    drop(st);
                    self.pin_checked(&staff, false);
                }
            }
        }
    }

    /// The worker's outcome of a PIN check for `staff`.
    pub(super) fn pin_checked(&self, staff: &str, ok: bool) {
        let mut st = self.state.borrow_mut();
        let now = Instant::now();
        let Some(result) = st.clerk.finish_sign_in(staff, ok, now) else {
            return;
        };
        // Kept in the store, so restarting the app does not reset the count or the pause.
        let state = st
            .clerk
            .throttle()
            .state(now, Timestamp::now().as_millisecond());
        if let Err(e) =
            crate::core::pin::save_throttle(&mut st.terminal.core.store, THROTTLE_SCOPE, state)
        {
            tracing::error!(error = %e, "sign-in throttle not stored");
        }
        if st.signed_in(staff, result) {
            drop(st);
            self.run_desk(DeskJob::Open(true));
        }
    }

    /// Whether a PIN check is running (tests wait for its outcome).
    pub fn checking_pin(&self) -> bool {
        self.state.borrow().clerk.checking()
    }

    fn sign_out(&self) {
        {
            let mut st = self.state.borrow_mut();
            if let Some(t) = st.clerk.work().ticket.clone() {
                st.fail(format!("{t} 号还在本窗口，请先办结、过号、暂挂或转出"));
                return;
            }
            if st.desk_busy {
                // A call in flight could still give this window a ticket.
                st.fail("叫号操作还在进行，请稍候再签退");
                return;
            }
        }
        self.run_desk(DeskJob::Open(false));
        self.withdraw_payment();
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        st.payment_follower = None;
        if let Some(staff) = st.clerk.sign_out() {
            st.audit(&staff, AuditAction::StaffSignOut);
        }
        if let Some(c) = &st.terminal.cards {
            c.lift_demo_card();
        }
        st.matches.clear();
        st.print_status.clear();
        st.last_receipt = None;
        st.awaiting = None;
        st.say("已签退");
    }

    fn call_next(&self) {
        {
            let mut st = self.state.borrow_mut();
            if st.maintenance {
                st.fail("本机维护中，暂停叫号（当前市民可继续办完）");
                return;
            }
        }
        self.run_desk(DeskJob::CallNext);
    }

    /// 办结: the ticket is served and the pad asks the citizen for 好差评.
    fn finish(&self) {
        if self.state.borrow().clerk.work().ticket.is_some() {
            // Served at the desk first; [`Counter::finished`] when that is done.
            self.run_desk(DeskJob::Serve);
        } else {
            self.finished();
        }
    }

    /// The rest of 办结, once the ticket (if any) is served.
    fn finished(&self) {
        self.withdraw_payment();
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        st.payment_follower = None;
        let number = st.clerk.finish();
        if let Some(c) = &st.terminal.cards {
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
        let req = IssueRequest {
            service: service.to_owned(),
            ..IssueRequest::default()
        };
        self.run_desk(DeskJob::Issue {
            req,
            retried: false,
        });
    }

    fn search(&self, q: &str) {
        let mut st = self.state.borrow_mut();
        let q = q.trim();
        st.matches = if q.is_empty() {
            Vec::new()
        } else {
            crate::core::search::search(
                st.terminal.core.store.conn(),
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
            self.print_acceptance(&case_id, number);
        }
    }

    /// Stores the accepted case; returns what to print now when no delivery worker will
    /// bring the unified code.
    fn store_acceptance(&self) -> Option<(String, ReceiptNumber)> {
        let mut guard = self.state.borrow_mut();
        let st = &mut *guard;
        let today = ticketing::hall_date(Timestamp::now());
        let review = st.clerk.review(today)?;
        if !review.can_accept() {
            st.fail("预审未通过，不能受理：请补齐缺少的项目，或出具补齐补正告知");
            return None;
        }
        if let Some(why) = st.clerk.acceptance_refusal() {
            st.fail(why);
            return None;
        }
        let errand = st.clerk.work().errand()?;
        let mut case = crate::errand::new_case(&errand, st.terminal.core.catalog.version);
        // 手写签名: its PNG and strokes ride the case, sealed with the rest (as the kiosk's).
        crate::errand::signature::attach(&mut case, &st.clerk.work().signature.strokes);
        match st.terminal.enqueue_case(case, Timestamp::now()) {
            Ok(acc) => {
                let case_id = acc.id.to_string();
                let local = acc.seq.to_string();
                st.clerk.decided(Decision::Accepted {
                    case_id: case_id.clone(),
                    local_number: local.clone(),
                });
                st.say(format!("已受理，本机编号 {local}"));
                if st.terminal.delivery.is_some() {
                    st.awaiting = Some(Awaiting {
                        case_id,
                        local_number: local,
                        until: Instant::now() + SUBMIT_GRACE,
                    });
                    // Storing the case already woke delivery.
                    st.print_status = "正在取得统一受理编号…".into();
                    None
                } else {
                    Some((case_id, ReceiptNumber::Local(local)))
                }
            }
            Err(e) => {
                st.fail(format!("未能受理：{e}"));
                None
            }
        }
    }

    /// Prints the 受理回执 of `case_id` with `number`, which the clerk's screen then shows.
    fn print_acceptance(&self, case_id: &str, number: ReceiptNumber) {
        let receipt = {
            let mut st = self.state.borrow_mut();
            let printed = number.printed();
            st.clerk.receipt_numbered(case_id, number);
            let st = &*st;
            let w = st.clerk.work();
            let (staff, ticket) = Self::desk_ticket(st);
            match (&w.matter, &w.person) {
                (Some(m), Some(p)) => Some(receipts::acceptance(
                    m,
                    p,
                    w.delivery().as_ref(),
                    &receipts::Desk {
                        terminal: &st.terminal.core.profile.terminal.name,
                        window: st.cfg.window,
                        staff: &staff,
                        ticket: ticket.as_deref(),
                    },
                    case_id,
                    &printed,
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
                    terminal: &st.terminal.core.profile.terminal.name,
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
                    terminal: &st.terminal.core.profile.terminal.name,
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
        let inbox = self.state.borrow().terminal.inbox.clone();
        let mut st = self.state.borrow_mut();
        st.last_receipt = Some(receipt.clone());
        st.print_status = match &st.terminal.printer {
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
        let job = {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            let Some(e) = st.clerk.evaluation_ready() else {
                return;
            };
            let Some(level) = e.level else { return };
            let now = Timestamp::now();
            let job = match e.ticket.as_deref().map(TicketRef::parse) {
                // For a ticket: through the desk (the hall's outbox on a hall database).
                Some(Ok(reference)) => Some(DeskJob::Evaluate {
                    reference,
                    level,
                    reasons: e.reasons.clone(),
                }),
                _ => {
                    let body = crate::errand::case::evaluation_event(
                        e.case_id.as_deref(),
                        e.task_code.as_deref(),
                        level,
                        &e.reasons,
                        st.terminal.core.profile.terminal.kind.as_str(),
                        now,
                    );
                    // An evaluation that cannot be stored is not worth keeping the citizen
                    // for.
                    if let Err(e) =
                        st.terminal
                            .enqueue_event(ticketing::EVENT_EVALUATION, &body, now)
                    {
                        tracing::warn!(error = %e, "evaluation not stored");
                    }
                    st.wake_delivery();
                    None
                }
            };
            st.clerk.evaluated(Instant::now());
            job
        };
        if let Some(job) = job {
            self.run_desk(job);
        }
    }
}
