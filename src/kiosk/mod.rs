//! The Slint UI glue: the only part of the app that knows Slint. It pushes models built from
//! the core into `ui/` (through one global per page: `KioskAdapter`, `FindAdapter`,
//! `GuideAdapter`, `SessionAdapter`) and turns callbacks into [`session::Event`]s. Screen
//! logic, idle countdown and wipe live in `session`; texts in `guide`.

pub mod i18n;
pub mod ime;
pub mod licence;
pub mod receipts;
pub mod screenshots;
pub mod session;
pub mod speech;
pub mod startup;
pub mod technician;
pub mod ticket;

use std::cell::RefCell;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use crate::cli::{self, Cli};
use crate::core::catalog::Catalog;
use crate::core::domain::{EvaluationLevel, FieldKind};
use crate::core::outbox::{self, Quota};
use crate::core::Core;
use crate::errand::{form, guide};
use crate::terminal::camera::{CameraNews, LiveCamera};
use crate::terminal::cards::{CardOutcome, CardService};
use crate::terminal::delivery::{Delivery, DeliveryNews};
use crate::terminal::link::PlatformLink;
use crate::terminal::printer::{PrintProgress, ReceiptPrinter};
use crate::terminal::speech::{Espeak, Speaker};
use i18n::Lang;
use session::{
    CardError, CardStatus, Event, LicenceCopy, LicenceLookup, Outcome, Screen, Session,
    SubmitResult,
};

use crate::ui::*;

/// Runs the citizen kiosk for a loaded profile until the window closes.
pub fn run(cli: &Cli, profile: crate::core::config::Profile) -> ExitCode {
    let mut core = match cli::start_core(cli, profile) {
        Ok(c) => c,
        Err(code) => return code,
    };
    // The platform link: the demo starts an in-process simulator and syncs its catalogue from
    // it; installed terminals use the configured platform with the provisioned credentials.
    let platform = PlatformLink::connect(&mut core).map(Arc::new);
    let window = match AppWindow::new() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("{NO_DISPLAY_MESSAGE}（{e}）");
            return ExitCode::from(cli::EXIT_FAILURE);
        }
    };
    let kiosk = Kiosk::attach(&window, core);
    // Measuring aid for the bench (YKB_BENCH_FIRST_FRAME): see `startup`.
    startup::exit_after_first_frame_if_asked(&window);
    if let Some(p) = &platform {
        kiosk.use_platform(p.clone());
    }
    kiosk.start_card_reader();
    kiosk.start_scanner();
    kiosk.start_printer();
    match Espeak::find() {
        Some(e) => kiosk.set_speaker(Box::new(e)),
        None => tracing::info!("espeak-ng not installed: no voice prompts"),
    }
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
    /// Pinyin being composed for a text field (`ime`); personal once typed, wiped with the
    /// session.
    composing: String,
    /// The camera looking for a 渝快码 while the identify page is open.
    qr_camera: Option<crate::terminal::scan::CameraScan>,
    /// 人证核验, when the terminal has a verifier.
    face: Option<Arc<dyn crate::terminal::cards::FaceVerifier>>,
    /// When the store was last asked whether a newer catalogue arrived (the agent syncs).
    catalog_checked: Instant,
    /// The capture page's camera while the session wants it (live preview, then the still),
    /// its start count (news from an earlier one is ignored), and why it cannot be used.
    camera: Option<LiveCamera>,
    camera_started: u64,
    camera_error: String,
    /// What the camera panel shows: the newest live frame (and its number) or the still.
    preview: Option<slint::Image>,
    preview_frame: u64,
    capture_status: String,
    /// A stored case waiting (briefly) for the platform's answer before 已暂存 is shown.
    awaiting: Option<Awaiting>,
    print_status: String,
    print_progress: Option<PrintProgress>,
    /// 好差评 being given: the level and the reason chips ticked.
    evaluation: Option<EvaluationLevel>,
    reasons: Vec<String>,
    evaluation_note: String,
    /// The platform did not answer the last delivery: the banner says cases are kept here.
    offline: bool,
    /// The search thread, the last query asked of it and the newest answer.
    searcher: Option<crate::terminal::search::Searcher>,
    asked: String,
    found: Option<(String, Vec<crate::core::search::SearchHit>)>,
    /// Maintenance notices from the platform, for the banner.
    notices: Vec<crate::core::platform::wire::Notice>,
    /// The language shown; back to the profile's at the end of every session.
    lang: Lang,
    /// 取号: the green-channel box, 预约签到 and its code, the last refusal, the ticket
    /// issued.
    green: bool,
    checkin: bool,
    checkin_code: String,
    ticket_note: String,
    issued: Option<crate::core::ticketing::IssuedTicket>,
    /// 办件进度查询: what was found for the number typed.
    progress: Option<(String, String)>,
    /// 维护模式: the hidden gesture, what is typed on the PIN pad (never shown, dropped after
    /// each try), the signed-in technician and the page's lines.
    gesture: technician::TapGesture,
    tech_id: String,
    tech_pin: String,
    typing_pin: bool,
    tech_note: String,
    technician: Option<String>,
    tech_lines: Vec<technician::Line>,
    tech_status: String,
    tech_busy: bool,
    throttle: crate::core::pin::Throttle,
    /// Voice prompts in 大字模式 (none: silent), and the screen last announced.
    speaker: Option<Box<dyn Speaker>>,
    spoken: Option<Screen>,
    /// The outbox worker (demo: in process; installed terminals: the agent service).
    delivery: Option<Delivery>,
    printer: Option<ReceiptPrinter>,
    /// The QR scanner (渝快码, receipt codes), once started, and what the identify page says
    /// about the last code.
    scanner: Option<crate::terminal::scan::ScanService>,
    identify_note: String,
    /// The ID-card reader, once started.
    cards: Option<CardService>,
    /// The platform link (demo: the in-process simulator) for e-licences, 渝快码 and notices.
    platform: Option<Arc<PlatformLink>>,
    /// 证照打印: the ID number whose e-licence look-up is in flight, and whether the job
    /// at the printer is an e-licence copy.
    licences_asked: Option<String>,
    printing_licence: bool,
    /// Results posted by device and network threads, drained on the UI thread.
    inbox: Arc<Mutex<Vec<Inbox>>>,
}

/// How often a kiosk at rest looks for a newer catalogue in the store.
pub const CATALOG_CHECK: Duration = Duration::from_secs(30);

/// A result from a thread other than the UI's.
enum Inbox {
    Card(CardOutcome),
    /// 人证核验's answer for a person read from a card or a 渝快码.
    Face(crate::core::domain::Person, Result<bool, String>),
    /// The e-licences of the person with this ID number (or why the platform did not say).
    Licences {
        id_number: String,
        names: Result<Vec<String>, String>,
    },
    /// The printable copy of an e-licence, or why there is none.
    LicenceCopy {
        licence_type: String,
        result: Result<crate::core::platform::wire::LicenceDocument, String>,
    },
    Delivery(DeliveryNews),
    Found {
        query: String,
        hits: Vec<crate::core::search::SearchHit>,
    },
    Selftest(Box<crate::ops::selftest::SelftestReport>),
    Scanned(crate::terminal::scan::Scanned),
    /// The platform's answer for a 渝快码 token.
    Ykm(Result<crate::core::domain::Person, String>),
    Printed(
        Result<(), String>,
        Option<crate::core::health::DeviceHealth>,
    ),
    /// From the capture page's camera number `.0`.
    Camera(u64, CameraNews),
    PrintProgress(PrintProgress),
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
        self.composing.clear();
        self.preview = None;
        self.preview_frame = 0;
        self.camera_error.clear();
        self.capture_status.clear();
        self.awaiting = None;
        self.print_status.clear();
        self.print_progress = None;
        self.evaluation = None;
        self.reasons.clear();
        self.evaluation_note.clear();
        self.green = false;
        self.checkin = false;
        self.checkin_code.clear();
        self.ticket_note.clear();
        self.issued = None;
        self.progress = None;
        self.asked.clear();
        self.found = None;
        self.identify_note.clear();
        self.tech_id.clear();
        self.tech_pin.clear();
        self.typing_pin = false;
        self.tech_note.clear();
        self.tech_lines.clear();
        self.tech_status.clear();
        self.licences_asked = None;
        self.printing_licence = false;
    }
}

/// Entry throttling from the profile's `[technician]` (defaults without one).
fn throttle_for(t: &Option<crate::core::config::TechnicianSection>) -> crate::core::pin::Throttle {
    let (max, secs) = t
        .as_ref()
        .map_or((3, 60), |t| (t.max_failures, u64::from(t.lockout_secs)));
    crate::core::pin::Throttle::new(max, Duration::from_secs(secs))
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
        let technician_section = core.profile.technician.clone();
        let adapter = window.global::<KioskAdapter>();
        adapter.set_terminal_name(core.profile.terminal.name.clone().into());
        window
            .global::<ServicesAdapter>()
            .set_ticketing(core.profile.ticketing.is_some());
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
                composing: String::new(),
                qr_camera: None,
                face: None,
                catalog_checked: Instant::now(),
                camera: None,
                camera_started: 0,
                camera_error: String::new(),
                preview: None,
                preview_frame: 0,
                capture_status: String::new(),
                awaiting: None,
                print_status: String::new(),
                print_progress: None,
                evaluation: None,
                reasons: Vec::new(),
                evaluation_note: String::new(),
                offline: false,
                notices: Vec::new(),
                searcher: None,
                asked: String::new(),
                found: None,
                lang: Lang(language),
                green: false,
                checkin: false,
                checkin_code: String::new(),
                ticket_note: String::new(),
                issued: None,
                progress: None,
                speaker: None,
                spoken: None,
                gesture: technician::TapGesture::default(),
                tech_id: String::new(),
                tech_pin: String::new(),
                typing_pin: false,
                tech_note: String::new(),
                technician: None,
                tech_lines: Vec::new(),
                tech_status: String::new(),
                tech_busy: false,
                throttle: throttle_for(&technician_section),
                delivery: None,
                printer: None,
                cards: None,
                scanner: None,
                identify_note: String::new(),
                platform: None,
                licences_asked: None,
                printing_licence: false,
                inbox: Arc::new(Mutex::new(Vec::new())),
            })),
        };
        kiosk.connect(window);
        kiosk.start_searcher();
        kiosk.refresh_alerts();
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
                        self_service: b.self_service,
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
        let k = self.clone_handle();
        adapter.on_start_guide(move || {
            let event = {
                let st = k.state.borrow();
                let catalog = &st.core.catalog;
                match st.session.current() {
                    Screen::MatterInfo { task_code } => catalog
                        .matter(task_code)
                        .map(|m| Event::ChooseMatter(Box::new(m.clone()))),
                    Screen::BundleInfo { code } => {
                        bundle_application(catalog, code).map(|b| Event::ChooseBundle(Box::new(b)))
                    }
                    _ => None,
                }
            };
            if let Some(e) = event {
                k.event(e);
            }
        });
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
        adapter.on_title_tapped(move || {
            let open = k.state.borrow_mut().gesture.tap(Instant::now());
            if open {
                k.event(Event::OpenTechLogin);
            }
        });
        self.connect_technician(window);
        adapter.on_open_tickets(go(|| Event::Open(Screen::Tickets)));
        adapter.on_open_progress(go(|| Event::Open(Screen::Progress)));
        adapter.on_open_evaluate(go(|| Event::OpenEvaluate));
        let k = self.clone_handle();
        adapter.on_call_staff(move || k.call_staff());
        let services = window.global::<ServicesAdapter>();
        let k = self.clone_handle();
        services.on_toggle_green(move || {
            {
                let mut st = k.state.borrow_mut();
                st.green = !st.green;
            }
            k.event(Event::Touch);
            k.render();
        });
        let k = self.clone_handle();
        services.on_take(move |prefix| k.take_ticket(&prefix));
        let k = self.clone_handle();
        services.on_toggle_checkin(move || {
            {
                let mut st = k.state.borrow_mut();
                st.checkin = !st.checkin;
                st.checkin_code.clear();
                st.ticket_note.clear();
            }
            k.event(Event::Touch);
            k.render();
        });
        let checkin_edit = |f: fn(&mut String, &str)| {
            let k = self.clone_handle();
            move |key: SharedString| {
                {
                    let mut st = k.state.borrow_mut();
                    if st.checkin_code.len() < 32 {
                        f(&mut st.checkin_code, &key);
                    }
                    st.ticket_note.clear();
                }
                k.event(Event::Touch);
                k.render();
            }
        };
        services.on_checkin_key(checkin_edit(|c, k| c.push_str(&k.to_uppercase())));
        let backspace = checkin_edit(|c, _| {
            c.pop();
        });
        services.on_checkin_backspace(move || backspace(SharedString::new()));
        let clear = checkin_edit(|c, _| c.clear());
        services.on_checkin_clear(move || clear(SharedString::new()));
        let progress_edit = |f: fn(&mut String, &str)| {
            let k = self.clone_handle();
            move |key: SharedString| {
                let mut q = k.state.borrow().session.progress_query().to_owned();
                f(&mut q, &key);
                k.state.borrow_mut().progress = None;
                k.event(Event::ProgressInput(q));
            }
        };
        services.on_progress_key(progress_edit(|q, k| q.push_str(k)));
        let backspace = progress_edit(|q, _| {
            q.pop();
        });
        services.on_progress_backspace(move || backspace(SharedString::new()));
        let clear = progress_edit(|q, _| q.clear());
        services.on_progress_clear(move || clear(SharedString::new()));
        let k = self.clone_handle();
        services.on_progress_search(move || k.look_up_progress());
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
        identify.on_show_demo_ykm(move || {
            k.event(Event::Touch);
            k.demo_ykm();
        });
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
        self.connect_licences(window);
    }

    /// 证照打印's pages.
    fn connect_licences(&self, window: &AppWindow) {
        let go = |e: fn() -> Event| {
            let k = self.clone_handle();
            move || k.event(e())
        };
        let licences = window.global::<LicenceAdapter>();
        licences.on_open(go(|| Event::OpenLicencePrint));
        licences.on_retry(go(|| Event::RetryLicences));
        licences.on_print(go(|| Event::PrintLicence));
        licences.on_back(go(|| Event::Back));
        licences.on_finish(go(|| Event::Home));
        let k = self.clone_handle();
        licences.on_choose(move |name| k.event(Event::ChooseLicence(name.to_string())));
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
            {
                let mut st = k.state.borrow_mut();
                st.editing = id.to_string();
                st.composing.clear();
            }
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
        // In a text field letters compose pinyin (`ime`); digits and the rest go straight in.
        let push = type_into(|v, k| v.push_str(k));
        let k = self.clone_handle();
        apply.on_key(move |key| {
            let composed = {
                let mut st = k.state.borrow_mut();
                let next = if editing_text(&st) {
                    ime::compose(&st.composing, &key)
                } else {
                    None
                };
                next.map(|c| st.composing = c).is_some()
            };
            if composed {
                k.event(Event::Touch);
                k.render();
            } else {
                push(key);
            }
        });
        let k = self.clone_handle();
        let push = type_into(|v, k| v.push_str(k));
        apply.on_choose_candidate(move |word| {
            k.state.borrow_mut().composing.clear();
            push(word);
        });
        let backspace = type_into(|v, _| {
            v.pop();
        });
        let k = self.clone_handle();
        apply.on_backspace(move || {
            let composing = {
                let mut st = k.state.borrow_mut();
                st.composing.pop().is_some()
            };
            if composing {
                k.event(Event::Touch);
                k.render();
            } else {
                backspace(SharedString::new());
            }
        });
        let clear = type_into(|v, _| v.clear());
        let k = self.clone_handle();
        apply.on_clear(move || {
            k.state.borrow_mut().composing.clear();
            clear(SharedString::new());
        });
        let k = self.clone_handle();
        apply.on_pick(move |field, value| {
            k.event(Event::FieldInput {
                field: field.to_string(),
                value: value.to_string(),
            })
        });
        apply.on_form_next(go(|| Event::FormNext));
        let k = self.clone_handle();
        apply.on_capture(move |material| k.event(Event::CaptureSelect(material.to_string())));
        apply.on_shoot(go(|| Event::Shoot));
        apply.on_retake(go(|| Event::Retake));
        apply.on_use_photo(go(|| Event::UsePhoto));
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
        use session::Effect;
        let (outcome, effects) = {
            let mut st = self.state.borrow_mut();
            let before = st.session.current().clone();
            let outcome = st.session.handle(event, now);
            // This event's I/O, taken at once: the calls below feed events back, and each
            // nested `event` does its own.
            let effects: Vec<Effect> = std::iter::from_fn(|| st.session.poll_effect()).collect();
            if st.session.current() != &before {
                st.pending.clear();
                st.editing.clear();
                st.composing.clear();
            }
            if outcome == Outcome::Wiped {
                st.wipe_glue();
                if let Some(id) = st.technician.take() {
                    audit_technician(
                        &mut st.core.store,
                        &id,
                        crate::core::audit::AuditAction::TechnicianLogout,
                        "退出维护模式",
                    );
                }
            }
            (outcome, effects)
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
            if effects.contains(&Effect::CameraLive) {
                self.state.borrow_mut().capture_status.clear();
            }
            self.sync_camera();
            self.sync_qr_camera();
            self.render();
        }
        for effect in effects {
            match effect {
                // Done before the render above.
                Effect::CameraLive => {}
                Effect::StoreCase => self.store_case(now),
                Effect::Shoot { .. } => self.shoot(),
                Effect::FetchLicenceCopy { .. } => self.fetch_licence_copy(),
                Effect::PrintLicence => self.print_licence(),
                Effect::LookUpLicences => self.ensure_licence_lookup(),
            }
        }
    }

    /// Runs the camera's 渝快码 reader while (and only while) the identify page waits for
    /// someone.
    fn sync_qr_camera(&self) {
        let mut st = self.state.borrow_mut();
        if st.session.current() != &Screen::Identify || st.session.person().is_some() {
            st.qr_camera = None;
        } else if st.qr_camera.is_none() {
            let devices = &st.core.profile.devices;
            if let Some(source) =
                crate::terminal::scan::CameraScan::source(&devices.camera, &devices.document_camera)
            {
                let (inbox, window) = (st.inbox.clone(), self.window.clone());
                match crate::terminal::scan::CameraScan::start(source, move |s| {
                    post(&inbox, &window, Inbox::Scanned(s))
                }) {
                    Ok(c) => st.qr_camera = Some(c),
                    Err(e) => tracing::warn!(error = %e, "camera 渝快码 reader not started"),
                }
            }
        }
        let on = st.qr_camera.is_some();
        drop(st);
        if let Some(w) = self.window.upgrade() {
            w.global::<IdentifyAdapter>().set_ykm_camera(on);
        }
    }

    /// Starts, pauses or stops the capture page's camera as the session wants it. The camera
    /// thread is stopped (and joined) as soon as the page is left or the session wiped.
    fn sync_camera(&self) {
        let mut st = self.state.borrow_mut();
        if !st.session.camera_wanted() {
            if st.camera.take().is_some() {
                // What the stopped camera posted before it was joined is stale now.
                st.camera_started += 1;
                tracing::debug!("camera stopped");
            }
            st.preview = None;
            st.preview_frame = 0;
            st.camera_error.clear();
            return;
        }
        let live = matches!(
            st.session.capture_stage(),
            Some(session::CaptureStage::Live { .. })
        );
        if st.camera.is_none() && st.camera_error.is_empty() {
            st.camera_started += 1;
            let started = st.camera_started;
            let (inbox, window) = (st.inbox.clone(), self.window.clone());
            let devices = &st.core.profile.devices;
            let camera =
                crate::terminal::camera::camera_source(&devices.document_camera, &devices.camera)
                    .and_then(|source| {
                        LiveCamera::start(source, move |news| {
                            post(&inbox, &window, Inbox::Camera(started, news))
                        })
                    });
            match camera {
                Ok(c) => st.camera = Some(c),
                Err(e) => st.camera_error = camera_unusable(&e),
            }
        }
        if let Some(c) = &st.camera {
            c.set_live(live);
        }
        if live && st.preview_frame == 0 {
            // The still of the last material gives way to the live picture.
            st.preview = None;
        }
    }

    /// "拍照": the camera takes the still of the material shown live.
    fn shoot(&self) {
        let failed = {
            let mut st = self.state.borrow_mut();
            let material = st
                .session
                .capture_stage()
                .map(|c| c.material().to_owned())
                .unwrap_or_default();
            st.capture_status = "正在拍摄，请保持材料不动…".into();
            match &st.camera {
                Some(c) if c.shoot(material) => false,
                _ => {
                    st.capture_status.clear();
                    true
                }
            }
        };
        if failed {
            self.event(Event::CaptureFailed);
        } else {
            self.render();
        }
    }

    /// On 证照打印 with no answer about the person's e-licences and none on its way: ask.
    fn ensure_licence_lookup(&self) {
        let person = {
            let st = self.state.borrow();
            let waiting = st.session.current() == &Screen::Licences
                && st.session.licence_lookup() == LicenceLookup::Waiting;
            match st.session.person() {
                Some(p)
                    if waiting && st.licences_asked.as_deref() != Some(p.id_number.expose()) =>
                {
                    p.clone()
                }
                _ => return,
            }
        };
        self.look_up_licences(&person);
    }

    /// Fetches the printable copy of the licence just chosen, off the UI thread.
    fn fetch_licence_copy(&self) {
        let st = self.state.borrow();
        let (Some(person), Some(copy)) = (st.session.person(), st.session.licence_copy()) else {
            return;
        };
        let licence_type = copy.licence_type().to_owned();
        let Some(platform) = st.platform.clone() else {
            drop(st);
            self.event(Event::LicenceCopy {
                licence_type,
                result: Err(
                    "暂时连不上政务服务平台，电子证照打印需要网络，请稍后再试或到窗口办理".into(),
                ),
            });
            return;
        };
        let (inbox, window) = (st.inbox.clone(), self.window.clone());
        let id_number = person.id_number.expose().to_owned();
        let asked = licence_type.clone();
        crate::terminal::licences::fetch_licence_copy(
            platform,
            id_number,
            licence_type,
            move |result| {
                post(
                    &inbox,
                    &window,
                    Inbox::LicenceCopy {
                        licence_type: asked,
                        result,
                    },
                )
            },
        );
    }

    /// "确认打印": the copy goes to the receipt printer off the UI thread; the outcome is
    /// audited when the printer answers.
    fn print_licence(&self) {
        let receipt = {
            let st = self.state.borrow();
            let Some(LicenceCopy::Ready(doc)) = st.session.licence_copy() else {
                return;
            };
            let terminal_id = st
                .platform
                .as_ref()
                .and_then(|p| p.client.credentials())
                .map_or_else(|| st.core.profile.terminal.site.clone(), |c| c.device_id);
            licence::licence_receipt(
                doc,
                &st.core.profile.terminal.name,
                &terminal_id,
                jiff::Timestamp::now(),
            )
        };
        let (inbox, window) = (self.state.borrow().inbox.clone(), self.window.clone());
        {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            st.print_status = match &st.printer {
                None => {
                    audit_licence(&mut st.core.store, "未能打印：本机没有打印机");
                    "本机没有打印机，不能打印证照，请到窗口办理".into()
                }
                Some(p) => {
                    st.printing_licence = true;
                    p.print(receipt, move |r, h| {
                        post(&inbox, &window, Inbox::Printed(r, h))
                    });
                    "正在打印，请稍候…".into()
                }
            };
        }
        self.render();
    }

    /// "确认提交": the case, its photos and its outbox row in one transaction (a local
    /// SQLite write); then the delivery worker is woken and the done page waits briefly for
    /// the platform's unified code before it says 已暂存.
    fn store_case(&self, now: Instant) {
        let result = {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            match st
                .session
                .errand()
                .map(|e| crate::errand::case::new_case(&e, st.core.catalog.version))
            {
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
                                until: now + crate::terminal::delivery::SUBMIT_GRACE,
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
            receipts::case_receipt(
                &st.session,
                &st.core.profile.terminal.name,
                jiff::Timestamp::now(),
            )
        };
        if let Some(receipt) = receipt {
            self.print(receipt);
        }
    }

    /// Prints `receipt` off the UI thread; the done and ticket pages say how it went.
    fn print(&self, receipt: ykb_drivers::escpos::Receipt) {
        let (inbox, window) = (self.state.borrow().inbox.clone(), self.window.clone());
        let mut st = self.state.borrow_mut();
        st.print_progress = None;
        st.print_status = match &st.printer {
            None => "本机没有回执打印机，请记下上面的编号".into(),
            Some(p) => {
                let (progress_inbox, progress_window) = (inbox.clone(), window.clone());
                p.print_with_progress(
                    receipt,
                    move |p| post(&progress_inbox, &progress_window, Inbox::PrintProgress(p)),
                    move |r, h| post(&inbox, &window, Inbox::Printed(r, h)),
                );
                "正在打印回执…".into()
            }
        };
        drop(st);
        self.render();
    }

    /// 维护模式's PIN pad and page.
    fn connect_technician(&self, window: &AppWindow) {
        let tech = window.global::<TechAdapter>();
        let k = self.clone_handle();
        tech.on_edit_id(move || {
            k.state.borrow_mut().typing_pin = false;
            k.event(Event::Touch);
            k.render();
        });
        let k = self.clone_handle();
        tech.on_edit_pin(move || {
            k.state.borrow_mut().typing_pin = true;
            k.event(Event::Touch);
            k.render();
        });
        let edit = |f: fn(&mut String, &str)| {
            let k = self.clone_handle();
            move |key: SharedString| {
                {
                    let mut st = k.state.borrow_mut();
                    let st = &mut *st;
                    let target = if st.typing_pin {
                        &mut st.tech_pin
                    } else {
                        &mut st.tech_id
                    };
                    if target.chars().count() < 32 {
                        f(target, &key);
                    }
                    st.tech_note.clear();
                }
                k.event(Event::Touch);
                k.render();
            }
        };
        tech.on_key(edit(|t, k| t.push_str(k)));
        let backspace = edit(|t, _| {
            t.pop();
        });
        tech.on_backspace(move || backspace(SharedString::new()));
        let clear = edit(|t, _| t.clear());
        tech.on_clear(move || clear(SharedString::new()));
        let k = self.clone_handle();
        tech.on_sign_in(move || k.technician_sign_in());
        let k = self.clone_handle();
        tech.on_run_selftest(move || k.technician_selftest());
        let k = self.clone_handle();
        tech.on_export_logs(move || k.technician_export());
        let k = self.clone_handle();
        tech.on_refresh(move || {
            k.refresh_technician_lines();
            k.event(Event::Touch);
            k.render();
        });
        let k = self.clone_handle();
        tech.on_sign_out(move || k.event(Event::Home));
    }

    /// Checks the technician id and PIN (throttled), audits the attempt, opens the page.
    fn technician_sign_in(&self) {
        let result = {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            let pin = std::mem::take(&mut st.tech_pin);
            let id = st.tech_id.trim().to_uppercase();
            let accounts: Vec<(String, String)> = st
                .core
                .profile
                .technician
                .iter()
                .flat_map(|t| {
                    t.accounts
                        .iter()
                        .map(|a| (a.id.clone(), a.pin_hash.clone()))
                })
                .collect();
            let r = st.throttle.attempt(Instant::now(), || {
                crate::core::pin::check(
                    accounts.iter().map(|(a, h)| (a.as_str(), h.as_str())),
                    &id,
                    &pin,
                )
            });
            let who = if crate::core::audit::Actor::technician(&id).is_ok() {
                id.clone()
            } else {
                "unknown".to_owned()
            };
            match &r {
                crate::core::pin::SignIn::Ok => {
                    audit_technician(
                        &mut st.core.store,
                        &who,
                        crate::core::audit::AuditAction::TechnicianLogin,
                        "进入维护模式",
                    );
                    st.technician = Some(who);
                    st.tech_id.clear();
                    st.typing_pin = false;
                }
                crate::core::pin::SignIn::StillPaused { .. } => {}
                _ => audit_technician(
                    &mut st.core.store,
                    &who,
                    crate::core::audit::AuditAction::TechnicianLoginFailed,
                    "维护模式密码错误",
                ),
            }
            st.tech_note = r.message();
            r
        };
        if result == crate::core::pin::SignIn::Ok {
            tracing::info!("technician mode entered");
            self.refresh_technician_lines();
            self.event(Event::TechSignedIn);
        } else {
            self.event(Event::Touch);
            self.render();
        }
    }

    fn refresh_technician_lines(&self) {
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        st.tech_lines =
            technician::overview(&mut st.core.store, &st.core.profile, &st.core.data_dir);
    }

    /// 运行自检: the same self-test as `ykb-terminal selftest`, through the real drivers, on a
    /// worker thread with its own store connection.
    fn technician_selftest(&self) {
        let (profile, data_dir, inbox, window) = {
            let mut st = self.state.borrow_mut();
            if st.tech_busy || st.technician.is_none() {
                return;
            }
            st.tech_busy = true;
            st.tech_status = "正在自检，请稍候…".into();
            (
                st.core.profile.clone(),
                st.core.data_dir.clone(),
                st.inbox.clone(),
                self.window.clone(),
            )
        };
        self.event(Event::Touch);
        self.render();
        let spawned = std::thread::Builder::new()
            .name("kiosk-selftest".into())
            .spawn(move || {
                let report = Core::start(profile, &data_dir).map(|mut core| {
                    let opts = crate::ops::selftest::SelftestOptions {
                        card_timeout: Duration::from_secs(5),
                        print: true,
                        sim_out: data_dir.join("selftest"),
                    };
                    crate::ops::selftest::run(&mut core, &opts)
                });
                match report {
                    Ok(r) => post(&inbox, &window, Inbox::Selftest(Box::new(r))),
                    Err(e) => tracing::warn!(error = %e, "self-test could not open the store"),
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "self-test thread not started");
        }
    }

    /// 导出诊断日志: a file under `<data-dir>/exports/` (no personal data), audited.
    fn technician_export(&self) {
        {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            let Some(id) = st.technician.clone() else {
                return;
            };
            match technician::export_diagnostics(
                &mut st.core.store,
                &st.core.profile,
                &st.core.data_dir,
            ) {
                Ok(path) => {
                    audit_technician(
                        &mut st.core.store,
                        &id,
                        crate::core::audit::AuditAction::LogExport,
                        "导出诊断日志",
                    );
                    st.tech_status = format!("已导出：{}", path.display());
                }
                Err(e) => st.tech_status = format!("导出失败：{e}"),
            }
        }
        self.event(Event::Touch);
        self.render();
    }

    /// 取号: a number from this terminal's lease, the ticket row and its event in one
    /// transaction; then the ticket is printed.
    fn take_ticket(&self, prefix: &str) {
        let issued = {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            match &st.core.profile.ticketing {
                None => Err(crate::core::ticketing::TicketError::NotConfigured),
                Some(cfg) => crate::core::ticketing::issue(
                    &mut st.core.store,
                    &st.core.key,
                    Quota::from_mb(st.core.profile.data.outbox_quota_mb),
                    cfg,
                    &crate::core::ticketing::IssueRequest {
                        service: prefix.to_owned(),
                        green: st.green,
                        id_number: st.session.person().map(|p| p.id_number.clone()),
                        appointment: st.checkin.then(|| crate::core::ticketing::Appointment {
                            code: st.checkin_code.clone(),
                            date: crate::core::ticketing::hall_date(jiff::Timestamp::now()),
                        }),
                    },
                    jiff::Timestamp::now(),
                ),
            }
        };
        match issued {
            Err(e) => {
                tracing::info!(error = %e, "ticket not issued");
                self.state.borrow_mut().ticket_note = e.to_string();
                self.event(Event::Touch);
                self.render();
            }
            Ok(t) => {
                tracing::info!(number = %t.number, "ticket issued");
                let receipt =
                    ticket::ticket_receipt(&t, &self.state.borrow().core.profile.terminal.name);
                {
                    let mut st = self.state.borrow_mut();
                    st.issued = Some(t);
                    st.ticket_note.clear();
                }
                if let Some(d) = &self.state.borrow().delivery {
                    d.wake();
                }
                self.event(Event::TicketIssued);
                self.print(receipt);
            }
        }
    }

    /// 办件进度查询: the case stub this terminal keeps for the number typed.
    fn look_up_progress(&self) {
        let found = {
            let mut st = self.state.borrow_mut();
            let q = st.session.progress_query().to_owned();
            if q.is_empty() {
                Some(("请先输入编号".to_owned(), String::new()))
            } else {
                match outbox::case_stub(&mut st.core.store, &q) {
                    Ok(Some(stub)) => Some(progress_text(&stub)),
                    Ok(None) => Some((
                        "没有找到这个编号".to_owned(),
                        "本机只能查到在本机提交的办件；其他办件请在渝快办APP或到窗口查询"
                            .to_owned(),
                    )),
                    Err(e) => Some(("暂时查不到".to_owned(), e.to_string())),
                }
            }
        };
        self.state.borrow_mut().progress = found;
        self.event(Event::Touch);
        self.render();
    }

    /// 呼叫工作人员: an event to the platform (and the hall's staff), and a word to the
    /// citizen.
    fn call_staff(&self) {
        {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            let body = serde_json::json!({
                "terminal": st.core.profile.terminal.name,
                "site": st.core.profile.terminal.site,
                "at": jiff::Timestamp::now().to_string(),
            });
            if let Err(e) = outbox::enqueue_event(
                &mut st.core.store,
                &st.core.key,
                Quota::from_mb(st.core.profile.data.outbox_quota_mb),
                "staff_call",
                &body,
                jiff::Timestamp::now(),
            ) {
                tracing::warn!(error = %e, "staff call not stored");
            }
            if let Some(d) = &st.delivery {
                d.wake();
            }
        }
        tracing::info!("citizen called for staff");
        self.event(Event::Open(Screen::CallStaff));
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
                    let body = crate::errand::case::evaluation_event(
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
    pub fn use_platform(&self, platform: Arc<PlatformLink>) {
        let (inbox, window) = (self.state.borrow().inbox.clone(), self.window.clone());
        let delivery = Delivery::for_terminal(&self.state.borrow().core, &platform, move |news| {
            post(&inbox, &window, Inbox::Delivery(news))
        });
        let mut st = self.state.borrow_mut();
        st.delivery = delivery;
        st.platform = Some(platform);
        if let Some(w) = self.window.upgrade() {
            w.global::<LicenceAdapter>().set_available(true);
        }
    }

    /// Records what a device just showed (for the heartbeat and the staff alerts) and
    /// refreshes the alerts.
    fn record_device(&self, slot: &str, health: crate::core::health::DeviceHealth) {
        {
            let mut st = self.state.borrow_mut();
            let devices = std::collections::BTreeMap::from([(slot.to_owned(), health)]);
            if let Err(e) =
                crate::core::health::record_devices(&mut st.core.store, "kiosk", &devices)
            {
                tracing::warn!(error = %e, "device state not recorded");
            }
        }
        self.refresh_alerts();
    }

    /// 工作人员提示: what staff should see to (paper, devices, queue, disk), from the store.
    pub fn refresh_alerts(&self) {
        let text = {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            let quota = Quota::from_mb(st.core.profile.data.outbox_quota_mb);
            let devices =
                crate::core::health::stored_devices(&mut st.core.store).unwrap_or_default();
            match crate::core::health::collect(
                &mut st.core.store,
                &st.core.data_dir,
                quota,
                devices,
                None,
            ) {
                Ok(snapshot) => crate::core::alerts::alerts(
                    &snapshot,
                    None,
                    &crate::core::alerts::Thresholds::default(),
                )
                .into_iter()
                .map(|a| a.message)
                .collect::<Vec<_>>()
                .join(" "),
                Err(e) => {
                    tracing::warn!(error = %e, "health not collected");
                    String::new()
                }
            }
        };
        if let Some(w) = self.window.upgrade() {
            w.global::<KioskAdapter>().set_staff_alert(text.into());
        }
    }

    /// Search runs on its own thread; without it (the store could not be opened twice) it
    /// runs here.
    fn start_searcher(&self) {
        let (inbox, window) = (self.state.borrow().inbox.clone(), self.window.clone());
        let path = self
            .state
            .borrow()
            .core
            .data_dir
            .join(crate::core::STORE_FILE);
        match crate::terminal::search::Searcher::start(&path, RESULT_LIMIT, move |query, hits| {
            post(&inbox, &window, Inbox::Found { query, hits })
        }) {
            Ok(s) => self.state.borrow_mut().searcher = Some(s),
            Err(e) => tracing::warn!(error = %e, "search thread not started; searching in place"),
        }
    }

    /// Speaks a prompt on every screen change while 大字模式 is on.
    pub fn set_speaker(&self, speaker: Box<dyn Speaker>) {
        self.state.borrow_mut().speaker = Some(speaker);
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

    /// Whether the capture page's camera (its thread and the device) is open now.
    pub fn camera_open(&self) -> bool {
        self.state.borrow().camera.is_some()
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
        self.start_card_reader_with(|report| CardService::start_demo(report).map(Some));
    }

    /// Starts the profile's QR scanner (serial, or the emulator for `simulated`): 渝快码 on
    /// the identify page, receipt codes for 办件进度查询.
    pub fn start_scanner(&self) {
        let (inbox, window) = (self.state.borrow().inbox.clone(), self.window.clone());
        let dev = self.state.borrow().core.profile.devices.scanner.clone();
        match crate::terminal::scan::ScanService::start(&dev, move |s| {
            post(&inbox, &window, Inbox::Scanned(s))
        }) {
            Ok(s) => {
                if let (Some(w), Some(s)) = (self.window.upgrade(), &s) {
                    w.global::<IdentifyAdapter>().set_ykm_demo(s.is_demo());
                }
                self.state.borrow_mut().scanner = s;
            }
            Err(e) => {
                tracing::warn!(error = %e, "QR scanner could not start");
                self.record_device("scanner", offline());
            }
        }
    }

    /// Demo: the platform simulator issues a 渝快码 for the demo citizen and the emulated
    /// scanner reads it (through the real serial driver).
    fn demo_ykm(&self) {
        let st = self.state.borrow();
        let (Some(platform), Some(scanner)) = (&st.platform, &st.scanner) else {
            return;
        };
        let (Some(sim), Some(person)) = (platform.sim(), crate::terminal::cards::demo_person())
        else {
            return;
        };
        let token = sim.issue_ykm_token(person, 120);
        scanner.demo_scan(&token);
    }

    /// Demo and tests: the emulated scanner reads `code` (through the real serial driver).
    pub fn demo_scan(&self, code: &str) {
        if let Some(s) = &self.state.borrow().scanner {
            s.demo_scan(code);
        }
    }

    /// Asks the platform whom a 渝快码 token identifies, off the UI thread.
    fn verify_ykm(&self, token: String) {
        let st = self.state.borrow();
        let (inbox, window) = (st.inbox.clone(), self.window.clone());
        let Some(platform) = st.platform.clone() else {
            drop(st);
            self.state.borrow_mut().identify_note = "本机暂时无法核验渝快码，请刷身份证".into();
            self.render();
            return;
        };
        let spawned = std::thread::Builder::new()
            .name("kiosk-ykm".into())
            .spawn(move || {
                let answer = platform
                    .runtime()
                    .block_on(platform.client.verify_ykm(&token))
                    .map(|id| id.person)
                    .map_err(|e| match e {
                        crate::core::platform::PlatformError::Rejected { reason, .. } => {
                            // "message（code）": the citizen reads the message.
                            reason
                                .rsplit_once('（')
                                .map_or(reason.clone(), |(m, _)| m.to_owned())
                        }
                        other => {
                            tracing::warn!(error = %other, "渝快码 not verified");
                            "暂时无法核验渝快码，请稍后再试或刷身份证".to_owned()
                        }
                    });
                post(&inbox, &window, Inbox::Ykm(answer));
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "渝快码 check not started");
        }
    }

    /// Starts the profile's ID-card reader (`sam-serial`, or the demo for `simulated`).
    pub fn start_card_reader(&self) {
        let dev = self.state.borrow().core.profile.devices.id_reader.clone();
        self.start_card_reader_with(move |report| CardService::start(&dev, report));
    }

    fn start_card_reader_with(
        &self,
        start: impl FnOnce(Box<dyn Fn(CardOutcome) + Send>) -> Result<Option<CardService>, String>,
    ) {
        let inbox = self.state.borrow().inbox.clone();
        let window = self.window.clone();
        let report = move |outcome: CardOutcome| post(&inbox, &window, Inbox::Card(outcome));
        match start(Box::new(report)) {
            Ok(Some(service)) => {
                if let Some(w) = self.window.upgrade() {
                    w.global::<IdentifyAdapter>().set_demo(service.is_demo());
                }
                self.state.borrow_mut().cards = Some(service);
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "ID-card reader could not start");
                self.record_device("id_reader", offline());
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
                    self.read_person(person);
                }
                Inbox::Face(person, Ok(true)) => {
                    self.state.borrow_mut().identify_note.clear();
                    self.identified(person);
                }
                Inbox::Face(_, answer) => {
                    self.state.borrow_mut().identify_note = match answer {
                        Err(why) => format!("无法核验本人（{why}），请联系工作人员"),
                        Ok(_) => "人脸与证件不一致，请本人办理或联系工作人员".into(),
                    };
                    self.render();
                }
                Inbox::Card(CardOutcome::Error(e)) => {
                    if e == CardError::Device {
                        self.record_device("id_reader", offline());
                    }
                    self.event(Event::CardError(e))
                }
                Inbox::Card(CardOutcome::Ready) => {
                    self.record_device("id_reader", online());
                    self.event(Event::CardReady)
                }
                Inbox::Licences { id_number, names } => {
                    let same = {
                        let mut st = self.state.borrow_mut();
                        if st.licences_asked.as_deref() == Some(id_number.as_str()) {
                            st.licences_asked = None;
                        }
                        st.session
                            .person()
                            .is_some_and(|p| p.id_number.expose() == id_number)
                    };
                    if same {
                        match names {
                            Ok(names) => self.event(Event::Licences(names)),
                            Err(e) => {
                                tracing::warn!(error = %e, "e-licence look-up failed");
                                self.event(Event::LicencesFailed);
                            }
                        }
                    }
                }
                Inbox::LicenceCopy {
                    licence_type,
                    result,
                } => self.event(Event::LicenceCopy {
                    licence_type,
                    result: result.map(Box::new),
                }),
                Inbox::Found { query, hits } => {
                    let mut st = self.state.borrow_mut();
                    if st.session.query() == query {
                        st.found = Some((query, hits));
                        drop(st);
                        self.render();
                    }
                }
                Inbox::Selftest(report) => {
                    {
                        let mut st = self.state.borrow_mut();
                        let st = &mut *st;
                        st.tech_busy = false;
                        let failed = report
                            .checks
                            .iter()
                            .filter(|c| c.outcome == crate::ops::selftest::Outcome::Fail)
                            .count();
                        if let Some(id) = st.technician.clone() {
                            audit_technician(
                                &mut st.core.store,
                                &id,
                                crate::core::audit::AuditAction::Selftest,
                                &format!("自检：{} 项，失败 {failed} 项", report.checks.len()),
                            );
                        }
                        st.tech_status = if failed == 0 {
                            "自检全部通过".to_owned()
                        } else {
                            format!("自检 {failed} 项失败，见下方")
                        };
                        st.tech_lines = technician::overview(
                            &mut st.core.store,
                            &st.core.profile,
                            &st.core.data_dir,
                        );
                        st.tech_lines
                            .extend(report.checks.iter().map(|c| technician::Line {
                                label: c.title.clone(),
                                value: match &c.advice {
                                    Some(a) => format!("{}（{}）", c.detail, a),
                                    None => c.detail.clone(),
                                },
                                warn: c.outcome == crate::ops::selftest::Outcome::Fail,
                            }));
                    }
                    self.refresh_alerts();
                    self.render();
                }
                Inbox::Scanned(crate::terminal::scan::Scanned::Case(id)) => {
                    self.event(Event::Open(Screen::Progress));
                    self.event(Event::ProgressInput(id));
                    self.look_up_progress();
                }
                Inbox::Scanned(crate::terminal::scan::Scanned::Ykm(token)) => {
                    self.state.borrow_mut().identify_note = "正在核验渝快码…".into();
                    self.event(Event::Touch);
                    self.render();
                    self.verify_ykm(token);
                }
                Inbox::Scanned(crate::terminal::scan::Scanned::Unusable(why)) => {
                    self.state.borrow_mut().identify_note = why;
                    self.event(Event::Touch);
                    self.render();
                }
                Inbox::Ykm(Ok(person)) => {
                    self.state.borrow_mut().identify_note.clear();
                    self.read_person(person);
                }
                Inbox::Ykm(Err(why)) => {
                    self.state.borrow_mut().identify_note = why;
                    self.render();
                }
                Inbox::Delivery(DeliveryNews::Notices(n)) => {
                    self.state.borrow_mut().notices = n;
                    self.render();
                }
                Inbox::Delivery(DeliveryNews::Progress { id, sent, total }) => {
                    // Only this citizen's case: the one being waited for, or on the done page.
                    let ours = {
                        let st = self.state.borrow();
                        st.awaiting.as_ref().is_some_and(|a| a.case_id == id)
                            || st.session.submit_result().and_then(SubmitResult::case_id)
                                == Some(id.as_str())
                    };
                    if ours {
                        self.event(Event::UploadProgress {
                            case_id: id,
                            sent,
                            total,
                        });
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
                Inbox::Printed(result, health) => {
                    if let Some(h) = health {
                        self.record_device("printer", h);
                    }
                    {
                        let mut st = self.state.borrow_mut();
                        if result.is_err() {
                            st.print_progress = None;
                        }
                        let st = &mut *st;
                        st.print_status = if std::mem::take(&mut st.printing_licence) {
                            let (audit, shown) = match &result {
                                Ok(()) => ("已打印".to_owned(), "已打印，请取走打印件".to_owned()),
                                Err(e) => (
                                    format!("未能打印：{e}"),
                                    format!("未能打印（{e}），请联系工作人员"),
                                ),
                            };
                            audit_licence(&mut st.core.store, &audit);
                            shown
                        } else {
                            match result {
                                Ok(()) => "回执已打印，请取走回执".into(),
                                Err(e) => format!("回执未能打印（{e}），请记下上面的编号"),
                            }
                        };
                    }
                    self.render();
                }
                Inbox::PrintProgress(p) => {
                    let mut st = self.state.borrow_mut();
                    // A job that already ended (failed) shows no bar.
                    if st.print_status == "正在打印回执…" {
                        st.print_progress = Some(p);
                        drop(st);
                        self.render();
                    }
                }
                Inbox::Camera(n, news) => {
                    if n == self.state.borrow().camera_started {
                        self.camera_news(news);
                    }
                }
            }
        }
    }

    /// What the capture page's camera reported.
    fn camera_news(&self, news: CameraNews) {
        match news {
            CameraNews::Frame => {
                let frame = {
                    let st = self.state.borrow();
                    let live = matches!(
                        st.session.capture_stage(),
                        Some(session::CaptureStage::Live { .. })
                    );
                    st.camera
                        .as_ref()
                        .and_then(LiveCamera::take_frame)
                        .filter(|_| live)
                };
                let Some(frame) = frame else {
                    return;
                };
                let image = rgb_image(&frame.image);
                {
                    let mut st = self.state.borrow_mut();
                    st.preview = Some(image.clone());
                    st.preview_frame = frame.number;
                }
                // Only the picture changes: set it without rendering the whole page.
                if let Some(w) = self.window.upgrade() {
                    let a = w.global::<ApplyAdapter>();
                    a.set_preview(image);
                    a.set_has_preview(true);
                    a.set_preview_frame(i32::try_from(frame.number).unwrap_or(i32::MAX));
                }
            }
            CameraNews::Photo { material, result } => match result {
                Ok(photo) => {
                    {
                        let mut st = self.state.borrow_mut();
                        st.preview = Some(rgb_image(&photo.preview));
                        st.preview_frame = 0;
                        st.capture_status = "已拍摄，请查看照片是否清楚；不清楚请点「重拍」".into();
                    }
                    self.event(Event::Captured {
                        material,
                        jpeg: photo.jpeg,
                    });
                }
                Err(e) => {
                    self.state.borrow_mut().capture_status = format!("拍摄失败：{e}");
                    self.event(Event::CaptureFailed);
                }
            },
            CameraNews::Failed(why) => {
                {
                    let mut st = self.state.borrow_mut();
                    st.camera = None;
                    st.camera_error = camera_unusable(&why);
                    st.capture_status.clear();
                }
                // A still asked for will not come.
                self.event(Event::CaptureFailed);
                self.render();
            }
        }
    }

    /// A person read from a card or a 渝快码: identified at once, or after 人证核验 when the
    /// kiosk has a face verifier.
    fn read_person(&self, person: crate::core::domain::Person) {
        let verifier = self.state.borrow().face.clone();
        let Some(verifier) = verifier else {
            self.identified(person);
            return;
        };
        let source = {
            let mut st = self.state.borrow_mut();
            st.identify_note = "请看摄像头，正在核验本人…".into();
            let d = &st.core.profile.devices;
            crate::terminal::cards::face_camera(&d.camera, &d.document_camera)
        };
        self.render();
        let (inbox, window) = (self.state.borrow().inbox.clone(), self.window.clone());
        crate::terminal::cards::verify_face(verifier, source, person, move |person, answer| {
            post(&inbox, &window, Inbox::Face(person, answer))
        });
    }

    /// The person counts as identified: the session has them, their e-licences are asked.
    fn identified(&self, person: crate::core::domain::Person) {
        self.look_up_licences(&person);
        self.event(Event::CardRead(person));
    }

    /// 人证核验 from now on (the seam for a later issue; see `crate::terminal::cards::FaceVerifier`).
    pub fn set_face_verifier(&self, verifier: Arc<dyn crate::terminal::cards::FaceVerifier>) {
        self.state.borrow_mut().face = Some(verifier);
    }

    /// Asks the platform which e-licences the person holds, off the UI thread.
    fn look_up_licences(&self, person: &crate::core::domain::Person) {
        let mut st = self.state.borrow_mut();
        let Some(platform) = st.platform.clone() else {
            return;
        };
        let inbox = st.inbox.clone();
        let window = self.window.clone();
        let id_number = person.id_number.expose().to_owned();
        st.licences_asked = Some(id_number.clone());
        crate::terminal::licences::look_up_licences_reporting(
            platform,
            id_number,
            move |id_number, names| post(&inbox, &window, Inbox::Licences { id_number, names }),
        );
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
        self.adopt_newer_catalog(now);
    }

    /// Takes up a catalogue version newer than the one on screen (synced into the store by
    /// the agent or the sync timer), checked every `CATALOG_CHECK` and only between
    /// citizens, so nobody's guide changes under them.
    fn adopt_newer_catalog(&self, now: Instant) {
        let newer = {
            let mut st = self.state.borrow_mut();
            if now.saturating_duration_since(st.catalog_checked) < CATALOG_CHECK
                || st.session.current() != &Screen::Home
                || st.session.holds_personal_data()
            {
                return;
            }
            st.catalog_checked = now;
            let held = st.core.catalog.version;
            match st.core.store.catalog_version() {
                Ok(Some(v)) if v > held => match st.core.store.load_catalog() {
                    Ok(Some(c)) => Some(c),
                    Ok(None) => None,
                    Err(e) => {
                        tracing::warn!(error = %e, "newer catalogue not loaded");
                        None
                    }
                },
                Ok(_) => None,
                Err(e) => {
                    tracing::warn!(error = %e, "catalogue version not read");
                    None
                }
            }
        };
        let Some(catalog) = newer else {
            return;
        };
        tracing::info!(version = catalog.version, "kiosk shows the newer catalogue");
        if let Some(w) = self.window.upgrade() {
            w.global::<KioskAdapter>().set_departments(string_model(
                catalog.departments().into_iter().map(str::to_owned),
            ));
        }
        self.state.borrow_mut().core.catalog = catalog;
        // The header's version line and the bundles list follow the catalogue.
        let lang = self.state.borrow().lang;
        self.set_language(lang);
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
        apply.set_composing(SharedString::new());
        apply.set_candidates(ModelRc::default());
        apply.set_candidates_more(ModelRc::default());
        apply.set_captures(ModelRc::default());
        apply.set_preview(slint::Image::default());
        apply.set_has_preview(false);
        apply.set_preview_frame(0);
        apply.set_capture_stage(SharedString::new());
        apply.set_capture_material(SharedString::new());
        apply.set_camera_error(SharedString::new());
        apply.set_capture_status(SharedString::new());
        apply.set_has_upload_progress(false);
        apply.set_upload_progress(0.0);
        apply.set_has_print_progress(false);
        apply.set_print_progress(0.0);
        apply.set_review(ModelRc::default());
        apply.set_review_materials(ModelRc::default());
        apply.set_done_title(SharedString::new());
        apply.set_done_detail(SharedString::new());
        apply.set_done_number(SharedString::new());
        apply.set_print_status(SharedString::new());
        let tech = window.global::<TechAdapter>();
        tech.set_tech_id(SharedString::new());
        tech.set_pin_dots(SharedString::new());
        tech.set_lines(ModelRc::default());
        tech.set_status(SharedString::new());
        tech.set_technician(SharedString::new());
        let services = window.global::<ServicesAdapter>();
        services.set_ticket_number(SharedString::new());
        services.set_ticket_detail(SharedString::new());
        services.set_progress_query(SharedString::new());
        services.set_progress_title(SharedString::new());
        services.set_progress_detail(SharedString::new());
        services.set_green(false);
        let eval = window.global::<EvaluateAdapter>();
        eval.set_level(0);
        eval.set_reasons(ModelRc::default());
        eval.set_note(SharedString::new());
        let licences = window.global::<LicenceAdapter>();
        licences.set_licences(ModelRc::default());
        licences.set_list_state(0);
        licences.set_copy_state(0);
        licences.set_copy_title(SharedString::new());
        licences.set_copy_lines(ModelRc::default());
        licences.set_copy_note(SharedString::new());
        licences.set_verification_code(SharedString::new());
        licences.set_print_status(SharedString::new());
        licences.set_print_failed(false);
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
                let m = catalog.matter(task_code);
                if let Some(m) = m {
                    adapter.set_guide_title(m.name.clone().into());
                    adapter.set_guide_subtitle(guide::matter_line(m).into());
                    adapter.set_guide_sections(sections(guide::matter_guide(m), lang));
                }
                adapter.set_guide_can_start(m.is_some());
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
                adapter.set_guide_can_start(bundle_application(catalog, code).is_some());
                adapter.set_page(Page::Guide);
            }
            Screen::Find => {
                let find = window.global::<FindAdapter>();
                let query = session.query().to_owned();
                find.set_query(query.clone().into());
                // The answer for this very query, or ask the search thread for it (the list
                // keeps the previous answer meanwhile).
                let current = st.found.as_ref().filter(|(q, _)| *q == query);
                let hits: Option<Vec<crate::core::search::SearchHit>> = if query.is_empty() {
                    Some(Vec::new())
                } else if let Some((_, h)) = current {
                    Some(h.clone())
                } else if let Some(searcher) = &st.searcher {
                    if st.asked != query {
                        searcher.ask(&query);
                        st.asked = query.clone();
                    }
                    None
                } else {
                    Some(crate::terminal::search::search_now(
                        st.core.store.conn(),
                        &query,
                        RESULT_LIMIT,
                    ))
                };
                if let Some(hits) = hits {
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
                } else {
                    find.set_summary(lang.t("正在查找…").into());
                }
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
                    .set_note(lang.t(&st.identify_note).into());
                window
                    .global::<IdentifyAdapter>()
                    .set_status(match session.card_status() {
                        CardStatus::Waiting => 0,
                        CardStatus::Error(CardError::Replace) => 1,
                        CardStatus::Error(CardError::Device) => 2,
                        CardStatus::Error(CardError::Unsupported) => 3,
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
            Screen::Tickets | Screen::TicketIssued | Screen::Progress | Screen::CallStaff => {}
            Screen::Licences | Screen::LicenceConfirm | Screen::LicencePrinted => {
                render_licences(&window, st);
                adapter.set_page(match session.current() {
                    Screen::Licences => Page::Licences,
                    Screen::LicenceConfirm => Page::LicenceConfirm,
                    _ => Page::LicencePrinted,
                });
            }
            Screen::TechLogin => {
                let t = window.global::<TechAdapter>();
                t.set_tech_id(st.tech_id.clone().into());
                t.set_pin_dots("●".repeat(st.tech_pin.chars().count()).into());
                t.set_typing_pin(st.typing_pin);
                t.set_login_note(lang.t(&st.tech_note).into());
                adapter.set_page(Page::TechLogin);
            }
            Screen::Technician => {
                let t = window.global::<TechAdapter>();
                t.set_technician(st.technician.clone().unwrap_or_default().into());
                t.set_status(st.tech_status.clone().into());
                t.set_busy(st.tech_busy);
                t.set_lines(ModelRc::new(VecModel::from(
                    st.tech_lines
                        .iter()
                        .map(|l| TechLine {
                            label: l.label.clone().into(),
                            value: l.value.clone().into(),
                            warn: l.warn,
                        })
                        .collect::<Vec<_>>(),
                )));
                adapter.set_page(Page::Technician);
            }
            Screen::Evaluate => {
                let e = window.global::<EvaluateAdapter>();
                e.set_level(st.evaluation.map_or(0, |l| i32::from(l.score())));
                e.set_note(lang.t(&st.evaluation_note).into());
                e.set_reasons(ModelRc::new(VecModel::from(
                    st.evaluation
                        .map(crate::errand::case::reasons_for)
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
        let services = window.global::<ServicesAdapter>();
        match session.current() {
            Screen::Tickets => {
                let now = jiff::Timestamp::now();
                let status = st
                    .core
                    .profile
                    .ticketing
                    .as_ref()
                    .map(|cfg| crate::core::ticketing::status(&mut st.core.store, cfg, now));
                let rows = match status {
                    Some(Ok(h)) => h
                        .services
                        .into_iter()
                        .map(|s| ServiceRow {
                            detail: lang.t(&format!("{} 人等候", s.waiting)).into(),
                            open: s.issuing_now,
                            name: service_name(&st.core.profile, &s.prefix, &s.name, lang).into(),
                            prefix: s.prefix.into(),
                        })
                        .collect(),
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "hall status");
                        Vec::new()
                    }
                    None => Vec::new(),
                };
                services.set_services(ModelRc::new(VecModel::from(rows)));
                services.set_green(st.green);
                services.set_checkin(st.checkin);
                services.set_checkin_code(st.checkin_code.clone().into());
                services.set_note(lang.t(&st.ticket_note).into());
                adapter.set_page(Page::Tickets);
            }
            Screen::TicketIssued => {
                if let Some(t) = &st.issued {
                    services.set_ticket_number(t.number.clone().into());
                    services.set_ticket_service(
                        service_name(&st.core.profile, &t.service, &t.service_name, lang).into(),
                    );
                    let kind = match t.kind {
                        crate::core::ticketing::TicketKind::Green => "（绿色通道）",
                        crate::core::ticketing::TicketKind::Appointment => "（预约签到）",
                        crate::core::ticketing::TicketKind::WalkIn => "",
                    };
                    services.set_ticket_detail(
                        lang.t(&format!("前面还有 {} 人{kind}", t.waiting_before))
                            .into(),
                    );
                }
                services.set_print_status(lang.t(&st.print_status).into());
                services.set_has_print_progress(st.print_progress.is_some());
                services.set_print_progress(st.print_progress.map_or(0.0, |p| p.fraction()));
                adapter.set_page(Page::TicketIssued);
            }
            Screen::Progress => {
                services.set_progress_query(session.progress_query().into());
                let (title, detail) = st.progress.clone().unwrap_or_default();
                services.set_progress_title(lang.t(&title).into());
                services.set_progress_detail(lang.t(&detail).into());
                adapter.set_page(Page::Progress);
            }
            Screen::CallStaff => {
                services.set_call_note(
                    lang.t("工作人员会尽快过来；也可以拨打 12345 政务服务便民热线")
                        .into(),
                );
                adapter.set_page(Page::CallStaff);
            }
            _ => {}
        }
        let now = jiff::Timestamp::now();
        // Every notice whose downtime has not ended yet.
        let notices: Vec<String> = st
            .notices
            .iter()
            .filter(|n| {
                n.ends_at
                    .parse::<jiff::Timestamp>()
                    .is_ok_and(|end| end > now)
            })
            .map(|n| format!("【{}】{}", n.title, n.message))
            .collect();
        let (banner, warning) = if st.offline {
            ("网络中断，业务将暂存本机，恢复后自动提交".to_owned(), true)
        } else {
            (notices.join("  "), false)
        };
        adapter.set_banner(lang.t(&banner).into());

        // 大字模式 reads each new screen aloud.
        let screen = session.current().clone();
        if st.spoken.as_ref() != Some(&screen) {
            if let Some(speaker) = st
                .speaker
                .as_ref()
                .filter(|_| window.global::<Theme>().get_large_text())
            {
                let detail = match &screen {
                    Screen::Guide { question } => session
                        .question(*question)
                        .map(|q| q.text.clone())
                        .unwrap_or_default(),
                    Screen::Done => window.global::<ApplyAdapter>().get_done_title().to_string(),
                    Screen::TicketIssued => st
                        .issued
                        .as_ref()
                        .map(|t| format!("您的号码是 {}", t.number))
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                let prompt = speech::prompt(&screen, &detail);
                if !prompt.is_empty() {
                    speaker.say(&lang.t(&prompt), lang.0);
                }
            }
            st.spoken = Some(screen);
        }
        adapter.set_banner_warning(warning);
    }
}

/// Whether the field being typed in takes free text (letters there compose pinyin).
fn editing_text(st: &State) -> bool {
    st.session.matter().is_some_and(|m| {
        m.form_fields
            .iter()
            .any(|f| f.id == st.editing && f.kind == FieldKind::Text)
    })
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
    a.set_composing(st.composing.clone().into());
    // 大字模式 has room for one row of candidates beside the keyboard.
    let shown = if window.global::<Theme>().get_large_text() {
        ime::SHOWN / 2
    } else {
        ime::SHOWN
    };
    let mut words: Vec<SharedString> = ime::candidates(&st.composing, shown)
        .into_iter()
        .map(SharedString::from)
        .collect();
    let more = words.split_off(words.len().min(ime::SHOWN / 2));
    a.set_candidates(ModelRc::new(VecModel::from(words)));
    a.set_candidates_more(ModelRc::new(VecModel::from(more)));
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
    let stage = st.session.capture_stage();
    let shown = stage.map(session::CaptureStage::material);
    let items = st.session.to_capture();
    a.set_captures(ModelRc::new(VecModel::from(
        items
            .iter()
            .map(|c| CaptureRow {
                done: images.contains_key(&c.id),
                current: shown == Some(c.id.as_str()),
                id: c.id.clone().into(),
                name: c.name.clone().into(),
                detail: st.lang.t(&c.detail).into(),
            })
            .collect::<Vec<_>>(),
    )));
    a.set_capture_stage(
        match stage {
            None => "",
            Some(session::CaptureStage::Live { .. }) => "live",
            Some(session::CaptureStage::Taking { .. }) => "taking",
            Some(session::CaptureStage::Check { .. }) => "check",
        }
        .into(),
    );
    a.set_capture_material(
        items
            .iter()
            .find(|c| Some(c.id.as_str()) == shown)
            .map(|c| c.name.clone())
            .unwrap_or_default()
            .into(),
    );
    a.set_camera_error(st.lang.t(&st.camera_error).into());
    let status = match stage {
        _ if !st.capture_status.is_empty() => st.capture_status.as_str(),
        None => "点下面的材料名称开始拍摄",
        Some(_) => "对准材料，看清画面后点「拍照」",
    };
    a.set_capture_status(st.lang.t(status).into());
    match &st.preview {
        Some(img) => {
            a.set_preview(img.clone());
            a.set_has_preview(true);
        }
        None => {
            a.set_preview(slint::Image::default());
            a.set_has_preview(false);
        }
    }
    a.set_preview_frame(i32::try_from(st.preview_frame).unwrap_or(i32::MAX));
}

/// What the camera panel says when the camera cannot be used: the citizen carries on.
fn camera_unusable(why: &str) -> String {
    format!("摄像头暂时不能使用（{why}）。请点「下一步」继续办理，没拍的材料请带到窗口")
}

/// The upload bar: how far the outbox has delivered the citizen's case.
fn render_upload(a: &ApplyAdapter<'_>, st: &State) {
    match st.session.upload_progress() {
        Some(p) => {
            a.set_has_upload_progress(true);
            a.set_upload_progress(p.fraction());
        }
        None => {
            a.set_has_upload_progress(false);
            a.set_upload_progress(0.0);
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
    render_upload(&a, st);
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
    render_upload(&a, st);
    a.set_has_print_progress(st.print_progress.is_some());
    a.set_print_progress(st.print_progress.map_or(0.0, |p| p.fraction()));
}

/// 证照打印: the list, the copy as it will be printed, and the printing.
fn render_licences(window: &AppWindow, st: &State) {
    let a = window.global::<LicenceAdapter>();
    let session = &st.session;
    let lang = st.lang;
    a.set_list_state(match session.licence_lookup() {
        LicenceLookup::Waiting => 0,
        LicenceLookup::Found if session.licences().is_empty() => 2,
        LicenceLookup::Found => 1,
        LicenceLookup::Failed => 3,
    });
    a.set_licences(string_model(session.licences().iter().cloned()));
    let line = |label: &str, value: &str| LicenceLine {
        label: lang.t(label).into(),
        value: value.into(),
    };
    match session.licence_copy() {
        None => {
            a.set_copy_title(SharedString::new());
            a.set_copy_lines(ModelRc::default());
            a.set_copy_note(SharedString::new());
            a.set_verification_code(SharedString::new());
        }
        Some(copy) => {
            a.set_copy_title(copy.licence_type().into());
            match copy {
                LicenceCopy::Fetching { .. } => {
                    a.set_copy_state(0);
                    a.set_copy_lines(ModelRc::default());
                }
                LicenceCopy::Failed { reason, .. } => {
                    a.set_copy_state(2);
                    a.set_copy_note(lang.t(reason).into());
                    a.set_copy_lines(ModelRc::default());
                }
                LicenceCopy::Ready(doc) => {
                    a.set_copy_state(1);
                    let lines: Vec<LicenceLine> = licence::copy_lines(doc)
                        .iter()
                        .map(|(l, v)| line(l, v))
                        .collect();
                    a.set_copy_lines(ModelRc::new(VecModel::from(lines)));
                    a.set_verification_code(doc.verification_code.clone().into());
                }
            }
        }
    }
    a.set_print_status(lang.t(&st.print_status).into());
    a.set_print_failed(
        st.print_status.starts_with("未能") || st.print_status.starts_with("本机没有"),
    );
}

/// Appends a 证照打印 entry to the audit log: the terminal acted for a citizen it does not
/// name; `detail` says how it went (a failure is logged, never shown).
fn audit_licence(store: &mut crate::core::store::Store, detail: &str) {
    if let Err(e) = crate::core::audit::append(
        store,
        &crate::core::audit::Actor::system(),
        crate::core::audit::AuditAction::LicencePrinted,
        &format!("证照打印：{detail}"),
    ) {
        tracing::error!(error = %e, "audit entry not written");
    }
}

/// A hall service's name in the session's language (its `name_en` when set).
fn service_name(
    profile: &crate::core::config::Profile,
    prefix: &str,
    zh: &str,
    lang: Lang,
) -> String {
    let en = profile
        .ticketing
        .as_ref()
        .and_then(|t| t.services.iter().find(|s| s.prefix == prefix))
        .map(|s| s.name_en.as_str())
        .filter(|n| !n.is_empty());
    match (lang.0, en) {
        (crate::core::config::Language::En, Some(en)) => en.to_owned(),
        _ => zh.to_owned(),
    }
}

fn online() -> crate::core::health::DeviceHealth {
    crate::core::health::DeviceHealth {
        state: ykb_drivers::DeviceState::Online,
        paper: None,
    }
}

fn offline() -> crate::core::health::DeviceHealth {
    crate::core::health::DeviceHealth {
        state: ykb_drivers::DeviceState::Offline,
        paper: None,
    }
}

/// Appends a technician entry to the audit log (a failure is logged, never shown).
fn audit_technician(
    store: &mut crate::core::store::Store,
    id: &str,
    action: crate::core::audit::AuditAction,
    detail: &str,
) {
    let actor = crate::core::audit::Actor::technician(id)
        .unwrap_or_else(|_| crate::core::audit::Actor::system());
    if let Err(e) = crate::core::audit::append(store, &actor, action, detail) {
        tracing::error!(error = %e, "audit entry not written");
    }
}

/// What the progress page says about a case this terminal holds.
fn progress_text(stub: &outbox::CaseStub) -> (String, String) {
    use crate::core::domain::CaseStatus;
    let status = [
        CaseStatus::Queued,
        CaseStatus::Submitted,
        CaseStatus::Accepted,
        CaseStatus::Rejected,
        CaseStatus::Completed,
    ]
    .into_iter()
    .find(|s| s.as_str() == stub.status)
    .map_or_else(|| stub.status.clone(), |s| s.name_zh().to_owned());
    let title = match &stub.unified_code {
        Some(code) => format!("办件编号 {code}"),
        None => format!("本机编号 {}", stub.seq),
    };
    (
        title,
        format!("状态：{status}（更新于 {}）", short_time(&stub.updated_at)),
    )
}

/// `2026-11-27T05:41:12.345Z` as hall time `2026-11-27 13:41`.
fn short_time(at: &str) -> String {
    at.parse::<jiff::Timestamp>()
        .map(|t| {
            t.to_zoned(crate::core::ticketing::hall_tz())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| at.to_owned())
}

/// The bundle `code` folded into one application (一件事一次办); `None`, logged, when the
/// catalogue lacks it or one of its matters (the guide then offers no 开始办理).
fn bundle_application(
    catalog: &crate::core::catalog::Catalog,
    code: &str,
) -> Option<crate::core::domain::BundleApplication> {
    let b = catalog.bundles.iter().find(|b| b.code.as_str() == code)?;
    crate::core::domain::BundleApplication::build(b, |t| catalog.matter(t))
        .map_err(|e| tracing::warn!(bundle = code, error = %e, "bundle cannot be guided"))
        .ok()
}

fn status_line(catalog: &Catalog) -> String {
    format!(
        "事项目录 第 {} 版 · 共 {} 项事项、{} 个“一件事”",
        catalog.version,
        catalog.matters.len(),
        catalog.bundles.len()
    )
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
