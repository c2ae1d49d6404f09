//! The Slint UI glue: the only part of the app that knows Slint. It pushes models built from
//! the core into `ui/` (through one global per page: `KioskAdapter`, `FindAdapter`,
//! `GuideAdapter`, `SessionAdapter`) and turns callbacks into [`session::Event`]s. Screen
//! logic, idle countdown and wipe live in `session`; texts in `guide`.

pub mod apply;
pub mod form;
pub mod guide;
pub mod i18n;
pub mod identify;
pub mod screenshots;
pub mod services;
pub mod session;

use std::cell::RefCell;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use crate::cli::{self, Cli};
use crate::core::catalog::Catalog;
use crate::core::config::DriverKind;
use crate::core::domain::{EvaluationLevel, FieldKind};
use crate::core::outbox::{self, Quota};
use crate::core::Core;
use crate::sim::demo::DemoPlatform;
use i18n::Lang;
use identify::{CardOutcome, CardService};
use services::{Delivery, DeliveryNews, Photo, ReceiptPrinter};
use session::{CardError, CardStatus, Event, Outcome, Screen, Session, SubmitResult};

slint::include_modules!();

/// The line printed when there is no display to open a window on.
pub const NO_DISPLAY_MESSAGE: &str = "ykb-terminal: 没有可用的图形显示（未设置 DISPLAY 或 WAYLAND_DISPLAY），无法打开终端界面。无显示器的机器上请用 Xvfb 运行：xvfb-run -a cargo run --release （或先安装 xvfb：apt-get install xvfb）";

/// Whether a display server is reachable at all (Linux: X11 or Wayland).
pub fn display_available() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

/// Runs the kiosk UI for the CLI's profile until the window closes.
pub fn run_from_cli(cli: &Cli) -> ExitCode {
    // A bad profile is reported before anything else, and nothing is opened for it.
    let profile = match cli::load_profile(cli) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if !display_available() {
        eprintln!("{NO_DISPLAY_MESSAGE}");
        return ExitCode::from(cli::EXIT_FAILURE);
    }
    // Counter terminals and hall displays have their own windows (src/counter).
    match profile.terminal.kind {
        crate::core::config::TerminalKind::Counter => {
            return crate::counter::run_counter(cli, profile)
        }
        crate::core::config::TerminalKind::HallDisplay => {
            return crate::counter::run_hall_display(cli, profile)
        }
        _ => {}
    }
    let mut core = match cli::start_core(cli, profile) {
        Ok(c) => c,
        Err(code) => return code,
    };
    // The demo profile syncs its catalogue from an in-process platform simulator.
    let platform = crate::sim::demo::start_for_demo(&mut core).map(Arc::new);
    let simulated_reader = core.profile.devices.id_reader.driver == DriverKind::Simulated;
    let window = match AppWindow::new() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("{NO_DISPLAY_MESSAGE}（{e}）");
            return ExitCode::from(cli::EXIT_FAILURE);
        }
    };
    let kiosk = Kiosk::attach(&window, core);
    if let Some(p) = &platform {
        kiosk.use_platform(p.clone());
    }
    if simulated_reader {
        kiosk.start_demo_card_reader();
    }
    kiosk.start_printer();
    tracing::info!(profile = %cli.profile_name(), "kiosk UI started");
    let idle = kiosk.idle_timer();
    let result = window.run();
    drop(idle);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("界面运行出错：{e}");
            ExitCode::from(cli::EXIT_FAILURE)
        }
    }
}

/// `ykb-terminal screenshots --out DIR`.
pub fn run_screenshots(out: &std::path::Path) -> ExitCode {
    // The counter's windows are drawn on the platform the kiosk's pictures set up.
    match screenshots::render_all(out).and_then(|mut files| {
        files.extend(crate::counter::screenshots::render_all(out)?);
        Ok(files)
    }) {
        Ok(files) => {
            println!("已生成 {} 张截图：{}", files.len(), out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("截图失败：{e}");
            ExitCode::from(cli::EXIT_FAILURE)
        }
    }
}

/// The running kiosk: the window, the core and the citizen's session, shared by the
/// callbacks.
pub struct Kiosk {
    window: slint::Weak<AppWindow>,
    state: Rc<RefCell<State>>,
}

struct State {
    core: Core,
    session: Session,
    /// Options ticked so far on a multi-choice question (not yet an answer).
    pending: Vec<String>,
    /// The form field the on-screen keyboard types into.
    editing: String,
    /// The last photographed material, for the capture page's preview.
    preview: Option<image::RgbImage>,
    capturing: bool,
    capture_status: String,
    /// A stored case waiting (briefly) for the platform's answer before 已暂存 is shown.
    awaiting: Option<Awaiting>,
    print_status: String,
    /// 好差评 being given: the level and the reason chips ticked.
    evaluation: Option<EvaluationLevel>,
    reasons: Vec<String>,
    evaluation_note: String,
    /// The platform did not answer the last delivery: the banner says cases are kept here.
    offline: bool,
    /// The language shown; back to the profile's at the end of every session.
    lang: Lang,
    /// The outbox worker (demo: in process; installed terminals: the agent service).
    delivery: Option<Delivery>,
    printer: Option<ReceiptPrinter>,
    /// The ID-card reader, once started.
    cards: Option<CardService>,
    /// The platform (demo: the in-process simulator) for e-licence look-ups.
    platform: Option<Arc<DemoPlatform>>,
    /// Results posted by device and network threads, drained on the UI thread.
    inbox: Arc<Mutex<Vec<Inbox>>>,
}

/// A result from a thread other than the UI's.
enum Inbox {
    Card(CardOutcome),
    /// The e-licences of the person with this ID number.
    Licences {
        id_number: String,
        names: Vec<String>,
    },
    Delivery(DeliveryNews),
    Printed(Result<(), String>),
    Photo {
        material: String,
        result: Result<Photo, String>,
    },
}

/// A case stored by "确认提交" whose delivery is being waited for.
struct Awaiting {
    case_id: String,
    local_number: String,
    until: Instant,
}

impl State {
    /// Forgets what the glue held for the session (the session itself was wiped).
    fn wipe_glue(&mut self) {
        self.pending.clear();
        self.editing.clear();
        self.preview = None;
        self.capture_status.clear();
        self.awaiting = None;
        self.print_status.clear();
        self.evaluation = None;
        self.reasons.clear();
        self.evaluation_note.clear();
    }
}

/// Posts a result from another thread to the UI thread's inbox and wakes it.
fn post(inbox: &Arc<Mutex<Vec<Inbox>>>, window: &slint::Weak<AppWindow>, item: Inbox) {
    inbox.lock().unwrap_or_else(|e| e.into_inner()).push(item);
    let _ = window.upgrade_in_event_loop(|w| w.global::<SessionAdapter>().invoke_inbox_ready());
}

/// How many search results the find page shows.
const RESULT_LIMIT: usize = 50;

impl Kiosk {
    /// Wires a window to a started core and shows the home screen.
    pub fn attach(window: &AppWindow, mut core: Core) -> Self {
        let idle = Duration::from_secs(u64::from(core.profile.terminal.idle_timeout_secs));
        // The search index must describe the catalogue held (a no-op when it does).
        if let Err(e) = crate::core::search::ensure_index(&mut core.store) {
            tracing::warn!(error = %e, "search index could not be built; search shows nothing");
        }
        window
            .global::<Theme>()
            .set_large_text(core.profile.terminal.large_text);
        let language = core.profile.terminal.language;
        let adapter = window.global::<KioskAdapter>();
        adapter.set_terminal_name(core.profile.terminal.name.clone().into());
        adapter.set_departments(string_model(
            core.catalog.departments().into_iter().map(str::to_owned),
        ));
        let kiosk = Kiosk {
            window: window.as_weak(),
            state: Rc::new(RefCell::new(State {
                core,
                session: Session::new(idle, Instant::now()),
                pending: Vec::new(),
                editing: String::new(),
                preview: None,
                capturing: false,
                capture_status: String::new(),
                awaiting: None,
                print_status: String::new(),
                evaluation: None,
                reasons: Vec::new(),
                evaluation_note: String::new(),
                offline: false,
                lang: Lang(language),
                delivery: None,
                printer: None,
                cards: None,
                platform: None,
                inbox: Arc::new(Mutex::new(Vec::new())),
            })),
        };
        kiosk.connect(window);
        let lang = kiosk.state.borrow().lang;
        kiosk.set_language(lang);
        kiosk
    }

    /// Shows the UI in `lang`: Slint's bundled strings and the texts Rust makes.
    fn set_language(&self, lang: Lang) {
        self.state.borrow_mut().lang = lang;
        let code = match lang.0 {
            crate::core::config::Language::ZhCn => "",
            crate::core::config::Language::En => "en",
        };
        if let Err(e) = slint::select_bundled_translation(code) {
            tracing::warn!(error = %e, "translation not selected");
        }
        if let Some(window) = self.window.upgrade() {
            let st = self.state.borrow();
            let catalog = &st.core.catalog;
            let adapter = window.global::<KioskAdapter>();
            adapter.set_status_line(lang.t(&status_line(catalog)).into());
            adapter.set_bundles(ModelRc::new(VecModel::from(
                catalog
                    .bundles
                    .iter()
                    .map(|b| MatterRow {
                        code: b.code.to_string().into(),
                        name: b.name.clone().into(),
                        detail: lang.t(&format!("包含 {} 个事项", b.matters.len())).into(),
                        self_service: false,
                    })
                    .collect::<Vec<_>>(),
            )));
        }
        self.render();
    }

    fn connect(&self, window: &AppWindow) {
        let adapter = window.global::<KioskAdapter>();
        let on = |f: fn(String) -> Event| {
            let k = self.clone_handle();
            move |arg: SharedString| k.event(f(arg.to_string()))
        };
        adapter.on_open_department(on(|d| Event::Open(Screen::Matters { department: d })));
        adapter.on_open_matter(on(|c| Event::Open(Screen::MatterInfo { task_code: c })));
        adapter.on_open_bundle(on(|c| Event::Open(Screen::BundleInfo { code: c })));
        let go = |e: fn() -> Event| {
            let k = self.clone_handle();
            move || k.event(e())
        };
        adapter.on_go_home(go(|| Event::Home));
        adapter.on_go_back(go(|| Event::Back));
        adapter.on_open_find(go(|| Event::Open(Screen::Find)));
        adapter.on_open_departments(go(|| Event::Open(Screen::Departments)));
        adapter.on_open_bundles(go(|| Event::Open(Screen::Bundles)));
        adapter.on_touched(go(|| Event::Touch));
        adapter.on_open_identify(go(|| Event::Open(Screen::Identify)));
        let k = self.clone_handle();
        adapter.on_toggle_language(move || {
            let now = k.state.borrow().lang.0;
            let next = match now {
                crate::core::config::Language::ZhCn => crate::core::config::Language::En,
                crate::core::config::Language::En => crate::core::config::Language::ZhCn,
            };
            k.event(Event::Touch);
            k.set_language(Lang(next));
        });
        let session = window.global::<SessionAdapter>();
        session.on_keep_session(go(|| Event::KeepSession));
        let k = self.clone_handle();
        session.on_inbox_ready(move || k.process_device_events());

        let identify = window.global::<IdentifyAdapter>();
        let k = self.clone_handle();
        identify.on_place_demo_card(move || {
            if let Some(c) = &k.state.borrow().cards {
                c.place_demo_card();
            }
        });
        let k = self.clone_handle();
        identify.on_change_person(move || {
            if let Some(c) = &k.state.borrow().cards {
                c.lift_demo_card();
            }
            k.event(Event::ChangePerson);
        });

        let find = window.global::<FindAdapter>();
        let k = self.clone_handle();
        find.on_key(move |key| {
            let q = format!("{}{}", k.state.borrow().session.query(), key);
            k.event(Event::Search(q));
        });
        let k = self.clone_handle();
        find.on_backspace(move || {
            let mut q = k.state.borrow().session.query().to_owned();
            q.pop();
            k.event(Event::Search(q));
        });
        find.on_clear(go(|| Event::Search(String::new())));
        let k = self.clone_handle();
        find.on_choose(move |code| {
            let matter = k.state.borrow().core.catalog.matter(&code).cloned();
            if let Some(m) = matter {
                k.event(Event::ChooseMatter(Box::new(m)));
            }
        });

        let guide = window.global::<GuideAdapter>();
        let k = self.clone_handle();
        guide.on_choose(move |id| k.event(Event::Answer(vec![id.to_string()])));
        let k = self.clone_handle();
        guide.on_toggle(move |id| {
            {
                let mut st = k.state.borrow_mut();
                let id = id.to_string();
                if let Some(i) = st.pending.iter().position(|p| *p == id) {
                    st.pending.remove(i);
                } else {
                    st.pending.push(id);
                }
            }
            k.event(Event::Touch);
            k.render();
        });
        let k = self.clone_handle();
        guide.on_confirm(move || {
            let chosen = std::mem::take(&mut k.state.borrow_mut().pending);
            k.event(Event::Answer(chosen));
        });
        guide.on_start_apply(go(|| Event::StartApply));
        self.connect_apply(window);
    }

    /// The form, capture, review, done and evaluation pages.
    fn connect_apply(&self, window: &AppWindow) {
        let go = |e: fn() -> Event| {
            let k = self.clone_handle();
            move || k.event(e())
        };
        let apply = window.global::<ApplyAdapter>();
        let k = self.clone_handle();
        apply.on_edit(move |id| {
            k.state.borrow_mut().editing = id.to_string();
            k.event(Event::Touch);
            k.render();
        });
        // The keyboard edits the field being typed in.
        let type_into = |f: fn(&mut String, &str)| {
            let k = self.clone_handle();
            move |key: SharedString| {
                let (field, value) = {
                    let st = k.state.borrow();
                    if st.editing.is_empty() {
                        return;
                    }
                    let mut v = st
                        .session
                        .fields()
                        .get(&st.editing)
                        .cloned()
                        .unwrap_or_default();
                    f(&mut v, &key);
                    (st.editing.clone(), v)
                };
                k.event(Event::FieldInput { field, value });
            }
        };
        apply.on_key(type_into(|v, k| v.push_str(k)));
        let backspace = type_into(|v, _| {
            v.pop();
        });
        apply.on_backspace(move || backspace(SharedString::new()));
        let clear = type_into(|v, _| v.clear());
        apply.on_clear(move || clear(SharedString::new()));
        let k = self.clone_handle();
        apply.on_pick(move |field, value| {
            k.event(Event::FieldInput {
                field: field.to_string(),
                value: value.to_string(),
            })
        });
        apply.on_form_next(go(|| Event::FormNext));
        let k = self.clone_handle();
        apply.on_capture(move |material| k.capture(material.to_string()));
        apply.on_capture_done(go(|| Event::CaptureDone));
        apply.on_submit(go(|| Event::Submit));
        apply.on_evaluate(go(|| Event::OpenEvaluate));
        apply.on_finish(go(|| Event::Home));
        let k = self.clone_handle();
        apply.on_reprint(move || {
            k.event(Event::Touch);
            k.print_receipt();
        });

        let eval = window.global::<EvaluateAdapter>();
        let k = self.clone_handle();
        eval.on_choose(move |score| {
            {
                let mut st = k.state.borrow_mut();
                let level = u8::try_from(score)
                    .ok()
                    .and_then(EvaluationLevel::from_score);
                if level.map(EvaluationLevel::is_negative)
                    != st.evaluation.map(EvaluationLevel::is_negative)
                {
                    st.reasons.clear();
                }
                st.evaluation = level;
                st.evaluation_note.clear();
            }
            k.event(Event::Touch);
            k.render();
        });
        let k = self.clone_handle();
        eval.on_toggle(move |label| {
            {
                let mut st = k.state.borrow_mut();
                let label = label.to_string();
                if let Some(i) = st.reasons.iter().position(|r| *r == label) {
                    st.reasons.remove(i);
                } else {
                    st.reasons.push(label);
                }
                st.evaluation_note.clear();
            }
            k.event(Event::Touch);
            k.render();
        });
        let k = self.clone_handle();
        eval.on_send(move || k.send_evaluation());
        eval.on_skip(go(|| Event::Evaluated));
    }

    fn clone_handle(&self) -> Kiosk {
        Kiosk {
            window: self.window.clone(),
            state: self.state.clone(),
        }
    }

    /// Feeds one event to the session and shows the result.
    fn event(&self, event: Event) {
        self.event_at(event, Instant::now());
    }

    fn event_at(&self, event: Event, now: Instant) {
        let submit = matches!(event, Event::Submit);
        let outcome = {
            let mut st = self.state.borrow_mut();
            let before = st.session.current().clone();
            let outcome = st.session.handle(event, now);
            if st.session.current() != &before {
                st.pending.clear();
                st.editing.clear();
            }
            if outcome == Outcome::Wiped {
                st.wipe_glue();
            }
            outcome
        };
        if outcome == Outcome::Wiped {
            self.clear_personal_properties();
            // The next citizen starts in the terminal's own language.
            let default = Lang(self.state.borrow().core.profile.terminal.language);
            if self.state.borrow().lang != default {
                self.set_language(default);
            }
        }
        if outcome != Outcome::None {
            self.render();
        }
        if submit && outcome != Outcome::None {
            self.store_case(now);
        }
    }

    /// "确认提交": the case, its photos and its outbox row in one transaction (a local
    /// SQLite write); then the delivery worker is woken and the done page waits briefly for
    /// the platform's unified code before it says 已暂存.
    fn store_case(&self, now: Instant) {
        let result = {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            match apply::new_case(&st.session, st.core.catalog.version) {
                None => Err("申请信息不完整，请重新办理".to_owned()),
                Some(case) => outbox::enqueue_case(
                    &mut st.core.store,
                    &st.core.key,
                    Quota::from_mb(st.core.profile.data.outbox_quota_mb),
                    case,
                    jiff::Timestamp::now(),
                )
                .map_err(|e| e.to_string()),
            }
        };
        match result {
            Err(reason) => {
                tracing::warn!(%reason, "case not stored");
                self.event(Event::SubmitResult(SubmitResult::Failed { reason }));
            }
            Ok(accepted) => {
                tracing::info!(case = %accepted.id, seq = accepted.seq, "case stored in the outbox");
                let waiting = {
                    let mut st = self.state.borrow_mut();
                    match &st.delivery {
                        Some(d) => {
                            d.wake();
                            st.awaiting = Some(Awaiting {
                                case_id: accepted.id.to_string(),
                                local_number: accepted.seq.to_string(),
                                until: now + services::SUBMIT_GRACE,
                            });
                            true
                        }
                        None => false,
                    }
                };
                if !waiting {
                    self.settle(SubmitResult::Queued {
                        case_id: accepted.id.to_string(),
                        local_number: accepted.seq.to_string(),
                    });
                }
            }
        }
    }

    /// Shows the submission's result and prints the receipt.
    fn settle(&self, result: SubmitResult) {
        self.state.borrow_mut().awaiting = None;
        let stored = result.case_id().is_some();
        self.event(Event::SubmitResult(result));
        if stored {
            self.print_receipt();
        }
    }

    /// Prints the receipt of the stored case (again, for 重新打印回执).
    fn print_receipt(&self) {
        let receipt = {
            let st = self.state.borrow();
            apply::case_receipt(
                &st.session,
                &st.core.profile.terminal.name,
                jiff::Timestamp::now(),
            )
        };
        let Some(receipt) = receipt else {
            return;
        };
        let (inbox, window) = (self.state.borrow().inbox.clone(), self.window.clone());
        let mut st = self.state.borrow_mut();
        st.print_status = match &st.printer {
            None => "本机没有回执打印机，请记下上面的编号".into(),
            Some(p) => {
                p.print(receipt, move |r| post(&inbox, &window, Inbox::Printed(r)));
                "正在打印回执…".into()
            }
        };
        drop(st);
        self.render();
    }

    /// Photographs one material on a worker thread.
    fn capture(&self, material: String) {
        let mut st = self.state.borrow_mut();
        if st.capturing {
            return;
        }
        st.capturing = true;
        st.capture_status = "正在拍摄，请保持材料不动…".into();
        let (inbox, window) = (st.inbox.clone(), self.window.clone());
        let devices = &st.core.profile.devices;
        services::capture_material(&devices.document_camera, &devices.camera, move |result| {
            post(&inbox, &window, Inbox::Photo { material, result })
        });
        drop(st);
        self.event(Event::Touch);
        self.render();
    }

    /// 提交评价: queued through the outbox like a case; then the session ends.
    fn send_evaluation(&self) {
        let stored = {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            match (st.evaluation, st.reasons.is_empty()) {
                (None, _) => Err("请先点选一个评价"),
                (Some(l), true) if l.is_negative() => Err("请选择不满意的原因，以便我们改进"),
                (Some(level), _) => {
                    let case_id = st.session.submit_result().and_then(|r| r.case_id());
                    let task = st.session.matter().map(|m| m.task_code.to_string());
                    let body = apply::evaluation_event(
                        case_id,
                        task.as_deref(),
                        level,
                        &st.reasons,
                        st.core.profile.terminal.kind.as_str(),
                        jiff::Timestamp::now(),
                    );
                    Ok(outbox::enqueue_event(
                        &mut st.core.store,
                        &st.core.key,
                        Quota::from_mb(st.core.profile.data.outbox_quota_mb),
                        "evaluation",
                        &body,
                        jiff::Timestamp::now(),
                    ))
                }
            }
        };
        let stored = match stored {
            Ok(r) => r,
            Err(note) => {
                self.state.borrow_mut().evaluation_note = note.into();
                self.event(Event::Touch);
                self.render();
                return;
            }
        };
        match stored {
            Ok(_) => {
                if let Some(d) = &self.state.borrow().delivery {
                    d.wake();
                }
            }
            // An evaluation that cannot be stored is not worth keeping the citizen for.
            Err(e) => tracing::warn!(error = %e, "evaluation not stored"),
        }
        self.event(Event::Evaluated);
    }

    /// Uses `platform` for e-licence look-ups (免提交) once a card is read, and delivers the
    /// outbox to it from a worker in this process (the demo has no agent service).
    pub fn use_platform(&self, platform: Arc<DemoPlatform>) {
        let (inbox, window) = (self.state.borrow().inbox.clone(), self.window.clone());
        let delivery = {
            let st = self.state.borrow();
            Delivery::start(
                platform.runtime(),
                &st.core.data_dir.join(crate::core::STORE_FILE),
                st.core.key.path(),
                &platform.client,
                st.core.profile.data.retention_days,
                move |news| post(&inbox, &window, Inbox::Delivery(news)),
            )
        };
        let mut st = self.state.borrow_mut();
        match delivery {
            Ok(d) => st.delivery = Some(d),
            Err(e) => tracing::warn!(error = %e, "outbox delivery not started; cases stay queued"),
        }
        st.platform = Some(platform);
    }

    /// Opens the receipt printer of the profile (for `simulated`, the drivers' emulator on
    /// TCP loopback, writing each job as a PNG under `<data-dir>/printer-sim`).
    pub fn start_printer(&self) {
        let mut st = self.state.borrow_mut();
        let dir = st.core.data_dir.join("printer-sim");
        match ReceiptPrinter::start(&st.core.profile.devices.printer, &dir) {
            Ok(p) => st.printer = p,
            Err(e) => tracing::warn!(error = %e, "receipt printer not available"),
        }
    }

    /// The receipt printer's emulated jobs (PNG files), when it is simulated.
    pub fn printed_jobs(&self) -> Vec<std::path::PathBuf> {
        self.state
            .borrow()
            .printer
            .as_ref()
            .and_then(ReceiptPrinter::sim_jobs)
            .unwrap_or_default()
    }

    /// Starts the ID-card emulator with the demo card and the real reader driver on it; the
    /// identify page then offers "放置演示身份证".
    pub fn start_demo_card_reader(&self) {
        let inbox = self.state.borrow().inbox.clone();
        let window = self.window.clone();
        let report = move |outcome: CardOutcome| post(&inbox, &window, Inbox::Card(outcome));
        match CardService::start_demo(report) {
            Ok(service) => {
                if let Some(w) = self.window.upgrade() {
                    w.global::<IdentifyAdapter>().set_demo(service.is_demo());
                }
                self.state.borrow_mut().cards = Some(service);
            }
            Err(e) => {
                tracing::warn!(error = %e, "ID-card emulator could not start");
                self.event(Event::CardError(CardError::Device));
            }
        }
    }

    /// Applies what device and network threads posted (the UI thread runs this when woken by
    /// `upgrade_in_event_loop`; tests call it directly).
    pub fn process_device_events(&self) {
        let items = std::mem::take(
            &mut *self
                .state
                .borrow()
                .inbox
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        for item in items {
            match item {
                Inbox::Card(CardOutcome::Read(person)) => {
                    // The demo card goes back to the citizen once read.
                    if let Some(c) = &self.state.borrow().cards {
                        c.lift_demo_card();
                    }
                    self.look_up_licences(&person);
                    self.event(Event::CardRead(person));
                }
                Inbox::Card(CardOutcome::Error(e)) => self.event(Event::CardError(e)),
                Inbox::Card(CardOutcome::Ready) => self.event(Event::CardReady),
                Inbox::Licences { id_number, names } => {
                    let same = self
                        .state
                        .borrow()
                        .session
                        .person()
                        .is_some_and(|p| p.id_number.expose() == id_number);
                    if same {
                        self.event(Event::Licences(names));
                    }
                }
                Inbox::Delivery(DeliveryNews::Offline) => {
                    self.state.borrow_mut().offline = true;
                    self.render();
                }
                Inbox::Delivery(DeliveryNews::Delivered { id, unified_code }) => {
                    let awaited = {
                        let mut st = self.state.borrow_mut();
                        st.offline = false;
                        st.awaiting
                            .as_ref()
                            .filter(|a| a.case_id == id)
                            .map(|a| a.local_number.clone())
                    };
                    match (awaited, unified_code) {
                        (Some(local_number), Some(unified_code)) => {
                            self.settle(SubmitResult::Submitted {
                                case_id: id,
                                local_number,
                                unified_code,
                            })
                        }
                        (None, Some(unified_code)) => self.event(Event::Delivered {
                            case_id: id,
                            unified_code,
                        }),
                        _ => {}
                    }
                    self.render();
                }
                Inbox::Printed(result) => {
                    self.state.borrow_mut().print_status = match result {
                        Ok(()) => "回执已打印，请取走回执".into(),
                        Err(e) => format!("回执未能打印（{e}），请记下上面的编号"),
                    };
                    self.render();
                }
                Inbox::Photo { material, result } => {
                    let ok = {
                        let mut st = self.state.borrow_mut();
                        st.capturing = false;
                        match result {
                            Ok(photo) => {
                                st.preview = Some(photo.preview);
                                st.capture_status =
                                    "已拍摄，请查看照片是否清楚；不清楚可点该材料重拍".into();
                                Some(photo.jpeg)
                            }
                            Err(e) => {
                                st.capture_status = format!("拍摄失败：{e}");
                                None
                            }
                        }
                    };
                    match ok {
                        Some(jpeg) => self.event(Event::Captured { material, jpeg }),
                        None => self.render(),
                    }
                }
            }
        }
    }

    /// Asks the platform which e-licences the person holds, off the UI thread.
    fn look_up_licences(&self, person: &crate::core::domain::Person) {
        let st = self.state.borrow();
        let Some(platform) = st.platform.clone() else {
            return;
        };
        let inbox = st.inbox.clone();
        let window = self.window.clone();
        let id_number = person.id_number.expose().to_owned();
        let spawned = std::thread::Builder::new()
            .name("kiosk-licences".into())
            .spawn(move || {
                let answer = platform
                    .runtime()
                    .block_on(platform.client.licences(&id_number));
                match answer {
                    Ok(list) => {
                        let names = list.licences.into_iter().map(|l| l.licence_type).collect();
                        post(&inbox, &window, Inbox::Licences { id_number, names });
                    }
                    Err(e) => tracing::warn!(error = %e, "e-licence look-up failed"),
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "e-licence look-up not started");
        }
    }

    /// Advances the session's clock to `now` (the idle timer calls this every second; tests
    /// call it with a later instant instead of waiting).
    pub fn tick(&self, now: Instant) {
        let overdue = {
            let st = self.state.borrow();
            st.awaiting
                .as_ref()
                .filter(|a| now >= a.until)
                .map(|a| SubmitResult::Queued {
                    case_id: a.case_id.clone(),
                    local_number: a.local_number.clone(),
                })
        };
        if let Some(queued) = overdue {
            // The platform did not answer in time: the case stays queued and leaves later.
            self.settle(queued);
        }
        self.event_at(Event::Tick, now);
    }

    /// A timer that drives the idle countdown and wipe; keep it alive while the window runs.
    pub fn idle_timer(&self) -> slint::Timer {
        let timer = slint::Timer::default();
        let k = self.clone_handle();
        timer.start(
            slint::TimerMode::Repeated,
            Duration::from_secs(1),
            move || k.tick(Instant::now()),
        );
        timer
    }

    /// Empties every UI property that could hold personal or session data.
    fn clear_personal_properties(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        if let Some(c) = &self.state.borrow().cards {
            c.lift_demo_card();
        }
        let session = window.global::<SessionAdapter>();
        session.set_countdown(0);
        session.set_person_name(SharedString::new());
        session.set_person_id(SharedString::new());
        let find = window.global::<FindAdapter>();
        find.set_query(SharedString::new());
        find.set_summary(SharedString::new());
        find.set_results(ModelRc::default());
        let guide = window.global::<GuideAdapter>();
        guide.set_matter_name(SharedString::new());
        guide.set_progress(SharedString::new());
        guide.set_question(SharedString::new());
        guide.set_multi(false);
        guide.set_choices(ModelRc::default());
        guide.set_checklist(ModelRc::default());
        guide.set_checklist_note(SharedString::new());
        let apply = window.global::<ApplyAdapter>();
        apply.set_matter_name(SharedString::new());
        apply.set_fields(ModelRc::default());
        apply.set_editing(SharedString::new());
        apply.set_captures(ModelRc::default());
        apply.set_preview(slint::Image::default());
        apply.set_has_preview(false);
        apply.set_capture_status(SharedString::new());
        apply.set_review(ModelRc::default());
        apply.set_review_materials(ModelRc::default());
        apply.set_done_title(SharedString::new());
        apply.set_done_detail(SharedString::new());
        apply.set_done_number(SharedString::new());
        apply.set_print_status(SharedString::new());
        let eval = window.global::<EvaluateAdapter>();
        eval.set_level(0);
        eval.set_reasons(ModelRc::default());
        eval.set_note(SharedString::new());
    }

    /// Pushes the session's current screen into the UI.
    fn render(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let adapter = window.global::<KioskAdapter>();
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        let session = &st.session;
        let catalog = &st.core.catalog;
        let lang = st.lang;

        let sa = window.global::<SessionAdapter>();
        sa.set_countdown(session.countdown().map_or(0, |c| c.max(1) as i32));
        match session.person() {
            Some(p) => {
                sa.set_person_name(p.name.clone().into());
                sa.set_person_id(p.id_number.masked().into());
            }
            None => {
                sa.set_person_name(SharedString::new());
                sa.set_person_id(SharedString::new());
            }
        }

        adapter.set_can_go_back(session.can_go_back());
        match session.current() {
            Screen::Home => adapter.set_page(Page::Home),
            Screen::Departments => adapter.set_page(Page::Departments),
            Screen::Matters { department } => {
                adapter.set_list_title(department.clone().into());
                adapter.set_matters(ModelRc::new(VecModel::from(
                    catalog
                        .matters
                        .iter()
                        .filter(|m| &m.department == department)
                        .map(|m| MatterRow {
                            code: m.task_code.to_string().into(),
                            name: m.name.clone().into(),
                            detail: guide::matter_line(m).into(),
                            self_service: m.self_service,
                        })
                        .collect::<Vec<_>>(),
                )));
                adapter.set_page(Page::Matters);
            }
            Screen::MatterInfo { task_code } => {
                if let Some(m) = catalog.matter(task_code) {
                    adapter.set_guide_title(m.name.clone().into());
                    adapter.set_guide_subtitle(guide::matter_line(m).into());
                    adapter.set_guide_sections(sections(guide::matter_guide(m), lang));
                }
                adapter.set_page(Page::Guide);
            }
            Screen::Bundles => adapter.set_page(Page::Bundles),
            Screen::BundleInfo { code } => {
                if let Some(b) = catalog.bundles.iter().find(|b| b.code.as_str() == code) {
                    adapter.set_guide_title(b.name.clone().into());
                    adapter.set_guide_subtitle(
                        lang.t(&format!("一件事一次办 · 包含 {} 个事项", b.matters.len()))
                            .into(),
                    );
                    adapter.set_guide_sections(sections(guide::bundle_guide(b, catalog), lang));
                }
                adapter.set_page(Page::Guide);
            }
            Screen::Find => {
                let find = window.global::<FindAdapter>();
                let query = session.query().to_owned();
                find.set_query(query.clone().into());
                // A local FTS5 query over the index: milliseconds, no network.
                let filters = crate::core::search::Filters::default();
                let hits = if query.is_empty() {
                    Ok(Vec::new())
                } else {
                    crate::core::search::search(
                        st.core.store.conn(),
                        &query,
                        &filters,
                        RESULT_LIMIT,
                    )
                };
                let hits = hits.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "search failed");
                    Vec::new()
                });
                find.set_summary(
                    lang.t(&if query.is_empty() {
                        String::new()
                    } else if hits.is_empty() {
                        format!("没有找到与“{query}”相关的事项，可以换个说法或按部门浏览")
                    } else {
                        format!("找到 {} 项，点事项开始办理", hits.len())
                    })
                    .into(),
                );
                find.set_results(ModelRc::new(VecModel::from(
                    hits.into_iter()
                        .map(|h| MatterRow {
                            code: h.task_code.into(),
                            name: h.name.into(),
                            detail: h.department.into(),
                            self_service: h.self_service,
                        })
                        .collect::<Vec<_>>(),
                )));
                adapter.set_page(Page::Find);
            }
            Screen::Guide { question } => {
                let g = window.global::<GuideAdapter>();
                if let (Some(m), Some(q)) = (session.matter(), session.question(*question)) {
                    let multi = q.kind == crate::core::domain::QuestionKind::Multi;
                    let earlier = session
                        .answers()
                        .get(*question)
                        .filter(|a| a.question == q.id)
                        .map(|a| a.choices.clone())
                        .unwrap_or_default();
                    g.set_matter_name(m.name.clone().into());
                    g.set_progress(lang.t(&format!("第 {} 个问题", question + 1)).into());
                    g.set_question(q.text.clone().into());
                    g.set_multi(multi);
                    g.set_choices(ModelRc::new(VecModel::from(
                        q.options
                            .iter()
                            .map(|o| ChoiceRow {
                                id: o.id.clone().into(),
                                label: o.label.clone().into(),
                                selected: if multi {
                                    st.pending.contains(&o.id)
                                } else {
                                    earlier.contains(&o.id)
                                },
                            })
                            .collect::<Vec<_>>(),
                    )));
                }
                adapter.set_page(Page::Question);
            }
            Screen::Checklist => {
                let g = window.global::<GuideAdapter>();
                if let Some(m) = session.matter() {
                    let rows = session.checklist();
                    g.set_matter_name(m.name.clone().into());
                    g.set_can_apply(m.self_service && m.serves_people());
                    g.set_checklist_note(
                        lang.t(if session.person().is_some() {
                            "“免提交”的材料已由您的电子证照代替，无需携带"
                        } else {
                            "刷身份证后，已有电子证照的材料可以免提交"
                        })
                        .into(),
                    );
                    g.set_checklist(ModelRc::new(VecModel::from(
                        rows.into_iter()
                            .map(|r| MaterialRow {
                                name: r.name.into(),
                                detail: lang.t(&r.detail).into(),
                                status: lang.t(r.status.label()).into(),
                                exempt: r.status == guide::MaterialStatus::Exempt,
                                capture: r.status == guide::MaterialStatus::CaptureHere,
                            })
                            .collect::<Vec<_>>(),
                    )));
                }
                adapter.set_page(Page::Checklist);
            }
            Screen::Identify => {
                window
                    .global::<IdentifyAdapter>()
                    .set_status(match session.card_status() {
                        CardStatus::Waiting => 0,
                        CardStatus::Error(CardError::Replace) => 1,
                        CardStatus::Error(CardError::Device) => 2,
                    });
                adapter.set_page(Page::Identify);
            }
            Screen::Form => {
                render_form(&window, st);
                adapter.set_page(Page::Form);
            }
            Screen::Capture => {
                render_capture(&window, st);
                adapter.set_page(Page::Capture);
            }
            Screen::Review => {
                render_review(&window, st);
                adapter.set_page(Page::Review);
            }
            Screen::Done => {
                render_done(&window, st);
                adapter.set_page(Page::Done);
            }
            Screen::Evaluate => {
                let e = window.global::<EvaluateAdapter>();
                e.set_level(st.evaluation.map_or(0, |l| i32::from(l.score())));
                e.set_note(lang.t(&st.evaluation_note).into());
                e.set_reasons(ModelRc::new(VecModel::from(
                    st.evaluation
                        .map(apply::reasons_for)
                        .unwrap_or_default()
                        .iter()
                        .map(|r| Chip {
                            id: (*r).into(),
                            label: lang.t(r).into(),
                            selected: st.reasons.iter().any(|x| x == r),
                        })
                        .collect::<Vec<_>>(),
                )));
                adapter.set_page(Page::Evaluate);
            }
        }
        let (banner, warning) = if st.offline {
            ("网络中断，业务将暂存本机，恢复后自动提交".to_owned(), true)
        } else {
            (String::new(), false)
        };
        adapter.set_banner(lang.t(&banner).into());
        adapter.set_banner_warning(warning);
    }
}

/// 填写申请信息: fields with values, locks, hints and errors.
fn render_form(window: &AppWindow, st: &State) {
    let a = window.global::<ApplyAdapter>();
    let session = &st.session;
    let Some(m) = session.matter() else {
        return;
    };
    let person = session.person();
    let views = form::view(
        m,
        &session.chosen(),
        person,
        session.fields(),
        session.form_errors(),
    );
    let digits = views.iter().find(|f| f.id == st.editing).is_some_and(|f| {
        matches!(
            f.kind,
            FieldKind::Phone | FieldKind::Number | FieldKind::Date | FieldKind::IdNumber
        )
    });
    a.set_matter_name(m.name.clone().into());
    a.set_editing(st.editing.clone().into());
    a.set_editing_digits(digits);
    let lang = st.lang;
    a.set_form_note(
        lang.t(if views.iter().any(|f| f.locked) {
            "带“已从身份证读取”的内容不能修改；点其他框，用右侧键盘输入"
        } else {
            "点输入框，用右侧键盘输入"
        })
        .into(),
    );
    a.set_fields(ModelRc::new(VecModel::from(
        views
            .into_iter()
            .map(|f| FieldRow {
                quick_fill: match person {
                    Some(p)
                        if !f.locked && f.kind == FieldKind::Text && f.label.contains("地址") =>
                    {
                        p.address.clone().into()
                    }
                    _ => SharedString::new(),
                },
                id: f.id.into(),
                label: f.label.into(),
                value: f.shown.into(),
                locked: f.locked,
                error: lang.t(&f.error).into(),
                hint: lang.t(&f.hint).into(),
                kind: match f.kind {
                    FieldKind::Select => "select",
                    FieldKind::Phone
                    | FieldKind::Number
                    | FieldKind::Date
                    | FieldKind::IdNumber => "digits",
                    FieldKind::Text => "text",
                }
                .into(),
                options: string_model(f.options.into_iter()),
            })
            .collect::<Vec<_>>(),
    )));
}

/// 拍摄材料: what to photograph, and the last photo.
fn render_capture(window: &AppWindow, st: &State) {
    let a = window.global::<ApplyAdapter>();
    let images = st.session.images();
    a.set_captures(ModelRc::new(VecModel::from(
        st.session
            .to_capture()
            .into_iter()
            .map(|c| CaptureRow {
                done: images.contains_key(&c.id),
                id: c.id.into(),
                name: c.name.into(),
                detail: st.lang.t(&c.detail).into(),
            })
            .collect::<Vec<_>>(),
    )));
    a.set_capturing(st.capturing);
    a.set_capture_status(
        st.lang
            .t(if st.capture_status.is_empty() {
                "点下面的材料名称开始拍摄"
            } else {
                &st.capture_status
            })
            .into(),
    );
    match &st.preview {
        Some(img) => {
            let buffer = slint::SharedPixelBuffer::<slint::Rgb8Pixel>::clone_from_slice(
                img.as_raw(),
                img.width(),
                img.height(),
            );
            a.set_preview(slint::Image::from_rgb8(buffer));
            a.set_has_preview(true);
        }
        None => {
            a.set_preview(slint::Image::default());
            a.set_has_preview(false);
        }
    }
}

/// 请核对后提交: the matter, the applicant (masked), the form and the materials.
fn render_review(window: &AppWindow, st: &State) {
    let a = window.global::<ApplyAdapter>();
    let session = &st.session;
    let (Some(m), Some(p)) = (session.matter(), session.person()) else {
        return;
    };
    let lang = st.lang;
    let row = |label: &str, value: String| ReviewRow {
        label: lang.t(label).into(),
        value: lang.t(&value).into(),
    };
    let mut rows = vec![
        row("事项", m.name.clone()),
        row("申请人", p.name.clone()),
        row("身份证号", p.id_number.masked()),
    ];
    let values = form::values(m, &session.chosen(), Some(p), session.fields());
    for f in m.fields_for(&session.chosen()) {
        if matches!(
            f.prefill,
            Some(
                crate::core::domain::PrefillSource::IdCardName
                    | crate::core::domain::PrefillSource::IdCardNumber
            )
        ) {
            continue;
        }
        if let Some(v) = values.get(&f.id) {
            rows.push(row(&f.label, form::shown_on_review(f.kind, v)));
        }
    }
    let images = session.images();
    let materials = session
        .checklist()
        .into_iter()
        .map(|c| {
            let how = match c.status {
                guide::MaterialStatus::Exempt => "免提交（电子证照）",
                guide::MaterialStatus::CaptureHere if images.contains_key(&c.id) => "已拍摄",
                _ => "请带到窗口",
            };
            row(&c.name, how.to_owned())
        })
        .collect::<Vec<_>>();
    a.set_matter_name(m.name.clone().into());
    a.set_review(ModelRc::new(VecModel::from(rows)));
    a.set_review_materials(ModelRc::new(VecModel::from(materials)));
    a.set_submitting(session.submitting());
}

/// 已提交 / 已暂存 / 未能保存, and the receipt's state.
fn render_done(window: &AppWindow, st: &State) {
    let a = window.global::<ApplyAdapter>();
    let (title, detail, label, number, ok) = match st.session.submit_result() {
        Some(SubmitResult::Submitted { unified_code, .. }) => (
            "已提交",
            "您的申请已提交到渝快办，可凭办件编号查询进度",
            "办件编号",
            unified_code.clone(),
            true,
        ),
        Some(SubmitResult::Queued { local_number, .. }) => (
            "已暂存",
            "网络恢复后自动提交，无需再来；可凭本机编号查询进度",
            "本机编号",
            local_number.clone(),
            true,
        ),
        Some(SubmitResult::Failed { .. }) | None => ("未能保存", "", "", String::new(), false),
    };
    let detail = match st.session.submit_result() {
        Some(SubmitResult::Failed { reason }) => format!("{reason}。请到窗口办理，或联系工作人员"),
        _ => detail.to_owned(),
    };
    let lang = st.lang;
    a.set_done_title(lang.t(title).into());
    a.set_done_detail(lang.t(&detail).into());
    a.set_done_number_label(lang.t(label).into());
    a.set_done_number(number.into());
    a.set_done_ok(ok);
    a.set_print_status(lang.t(&st.print_status).into());
}

fn status_line(catalog: &Catalog) -> String {
    format!(
        "事项目录 第 {} 版 · 共 {} 项事项、{} 个“一件事”",
        catalog.version,
        catalog.matters.len(),
        catalog.bundles.len()
    )
}

fn string_model(items: impl Iterator<Item = String>) -> ModelRc<SharedString> {
    ModelRc::new(VecModel::from(
        items.map(SharedString::from).collect::<Vec<_>>(),
    ))
}

fn sections(items: Vec<guide::GuideSection>, lang: Lang) -> ModelRc<Section> {
    ModelRc::new(VecModel::from(
        items
            .into_iter()
            .map(|s| Section {
                title: lang.t(&s.title).into(),
                body: s.body.into(),
            })
            .collect::<Vec<_>>(),
    ))
}
