//! The Slint UI glue: the only part of the app that knows Slint. It pushes models built from
//! the core into `ui/` (through one global per page: `KioskAdapter`, `FindAdapter`,
//! `GuideAdapter`, `SessionAdapter`) and turns callbacks into [`session::Event`]s. Screen
//! logic, idle countdown and wipe live in `session`; texts in `guide`.

mod devices;
mod effects;
mod hall;
pub mod i18n;
pub mod ime;
mod inbox;
pub mod licence;
mod maintenance;
mod pages;
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
use std::sync::Arc;
use std::time::{Duration, Instant};

use slint::{ComponentHandle, ModelRc, VecModel};

use crate::cli::{self, Cli};
use crate::core::catalog::Catalog;
use crate::core::domain::{EvaluationLevel, FieldKind};
use crate::core::outbox::{self};
use crate::core::Core;
use crate::errand::{form, guide};
use crate::terminal::camera::{CameraNews, LiveCamera};
use crate::terminal::cards::{CardOutcome, CardService};
use crate::terminal::delivery::{Awaiting, Delivery, DeliveryNews};
use crate::terminal::inbox::{Inbox, Report};
use crate::terminal::link::PlatformLink;
use crate::terminal::printer::{PrintProgress, ReceiptPrinter};
use crate::terminal::speech::{Espeak, Speaker};
use crate::terminal::Terminal;
use i18n::Lang;
use session::{
    CardError, CardStatus, Event, LicenceCopy, LicenceLookup, Outcome, Screen, Session,
    SubmitResult,
};

use crate::ui::*;
use devices::{offline, online};
use effects::{audit_licence, camera_unusable};
use maintenance::audit_technician;

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
    /// The core and the running devices and links (the terminal layer).
    terminal: Terminal,
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
    /// The QR scanner (渝快码, receipt codes), once started, and what the identify page says
    /// about the last code.
    scanner: Option<crate::terminal::scan::ScanService>,
    identify_note: String,
    /// 证照打印: the ID number whose e-licence look-up is in flight, and whether the job
    /// at the printer is an e-licence copy.
    licences_asked: Option<String>,
    printing_licence: bool,
}

/// How often a kiosk at rest looks for a newer catalogue in the store.
pub const CATALOG_CHECK: Duration = Duration::from_secs(30);

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
                terminal: Terminal::new(core, {
                    let window = window.as_weak();
                    Inbox::new(move || {
                        let _ = window.upgrade_in_event_loop(|w| {
                            w.global::<SessionAdapter>().invoke_inbox_ready()
                        });
                    })
                }),
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
                scanner: None,
                identify_note: String::new(),
                licences_asked: None,
                printing_licence: false,
            })),
        };
        pages::connect(&kiosk, window);
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
            let catalog = &st.terminal.core.catalog;
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
                        &mut st.terminal,
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
            let default = Lang(self.state.borrow().terminal.core.profile.terminal.language);
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

    /// Empties every page and lifts the demo card (the session was wiped).
    fn clear_personal_properties(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        self.lift_demo_card();
        pages::clear(&window);
    }

    /// Pushes the session's current screen into the UI: the shell, then the current page's
    /// controller; what a page needs from the store or a worker is read here first.
    fn render(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        pages::home::render_shell(&window, st);
        let page = match st.session.current() {
            Screen::Find => {
                let hits = search_hits(st);
                pages::find::render(&window, st, hits)
            }
            Screen::Guide { .. } | Screen::Checklist => pages::guide::render(&window, st),
            Screen::Identify => pages::identify::render(&window, st),
            Screen::Form | Screen::Capture | Screen::Review | Screen::Done => {
                pages::apply::render(&window, st)
            }
            Screen::Licences | Screen::LicenceConfirm | Screen::LicencePrinted => {
                pages::licences::render(&window, st)
            }
            Screen::TechLogin | Screen::Technician => pages::technician::render(&window, st),
            Screen::Evaluate => pages::evaluate::render(&window, st),
            Screen::Tickets | Screen::TicketIssued | Screen::Progress | Screen::CallStaff => {
                let hall = match st.session.current() {
                    Screen::Tickets => st.terminal.core.profile.ticketing.as_ref().map(|cfg| {
                        crate::core::ticketing::status(
                            &mut st.terminal.core.store,
                            cfg,
                            jiff::Timestamp::now(),
                        )
                    }),
                    _ => None,
                };
                pages::services::render(&window, st, hall)
            }
            _ => pages::home::render(&window, st),
        };
        window.global::<KioskAdapter>().set_page(page);
        let session = &st.session;
        let lang = st.lang;
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
    }
}

/// The search's answer for the query typed, or `None` while the search thread works on it
/// (asked here; the list keeps the previous answer meanwhile).
fn search_hits(st: &mut State) -> Option<Vec<crate::core::search::SearchHit>> {
    let query = st.session.query().to_owned();
    let current = st.found.as_ref().filter(|(q, _)| *q == query);
    if query.is_empty() {
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
            st.terminal.core.store.conn(),
            &query,
            RESULT_LIMIT,
        ))
    }
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
