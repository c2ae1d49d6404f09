//! The citizen kiosk's loop: the page controllers (`pages`) turn the callbacks of each
//! page global into [`session::Event`]s, [`Session::handle`] decides the screen and the I/O,
//! the loop runs that I/O (`session::Effect`) through the terminal layer (`effects`,
//! `devices`, `hall`, `maintenance`; worker results come back through `inbox` as further
//! events) and renders the session into the pages. Everything about the citizen is the
//! session's, and `Session::wipe` is the only wipe; `State` keeps devices and workers.

mod devices;
mod effects;
mod hall;
mod host;
pub mod i18n;
pub mod ime;
mod inbox;
pub mod licence;
mod maintenance;
mod pages;
mod payment;
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

use slint::ComponentHandle;

use crate::cli::{self, Cli};
use crate::core::catalog::Catalog;
use crate::core::domain::{EvaluationLevel, FieldKind};
use crate::core::outbox::{self};
use crate::core::Core;
use crate::errand::{form, guide};
use crate::terminal::camera::{CameraNews, LiveCamera};
use crate::terminal::cards::{CardOutcome, CardService};
use crate::terminal::delivery::DeliveryNews;
use crate::terminal::inbox::{Inbox, Report};
use crate::terminal::link::PlatformLink;
use crate::terminal::printer::{PrintProgress, ReceiptPrinter};
use crate::terminal::speech::{Espeak, Speaker};
use crate::terminal::Terminal;
use i18n::Lang;
use session::{
    CardError, CardStatus, Effect, Event, IdentifyNote, Key, LicenceCopy, LicenceLookup, Outcome,
    Screen, Session, SubmitResult,
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
    kiosk.mark_first_frame(&window);
    // Measuring aid for the bench (YKB_BENCH_FIRST_FRAME): see `startup`.
    startup::exit_after_first_frame_if_asked(&window);
    if let Some(p) = &platform {
        kiosk.use_platform(p.clone());
    }
    kiosk.start_card_reader();
    kiosk.start_scanner();
    kiosk.start_printer();
    kiosk.start_host_services();
    kiosk.start_local_device_service();
    match Espeak::find() {
        Some(e) => kiosk.set_speaker(Box::new(e)),
        None => tracing::info!("espeak-ng not installed: no voice prompts"),
    }
    tracing::info!(profile = %cli.profile_name(), "kiosk UI started");
    let idle = kiosk.idle_timer();
    let result = window.run();
    drop(idle);
    crate::ui::exit_code(result)
}

/// The running kiosk: the window, the core and the citizen's session, shared by the
/// callbacks.
pub struct Kiosk {
    window: slint::Weak<AppWindow>,
    state: Rc<RefCell<State>>,
}

/// What the loop holds besides the session: the terminal layer, the devices and workers it
/// started, and what they show. Nothing in it is about the citizen — that is all the
/// session's (`session`), wiped by `Session::wipe` alone.
struct State {
    /// The core and the running devices and links (the terminal layer).
    terminal: Terminal,
    session: Session,
    /// The camera looking for a 渝快码 while the identify page is open.
    qr_camera: Option<crate::terminal::scan::CameraScan>,
    /// 人证核验, when the terminal has a verifier.
    face: Option<Arc<dyn crate::terminal::cards::FaceVerifier>>,
    /// When the store was last asked whether a newer catalogue arrived (the agent syncs).
    catalog_checked: Instant,
    /// When tickets issued offline were last offered to the hall database.
    hall_replayed: Instant,
    /// When the operations switches were last read (`maintenance::follow_operations`).
    ops_checked: Instant,
    /// What the store was last told this kiosk is doing, and when (for the agent's updates).
    activity_said: Option<(crate::core::update::Activity, Instant)>,
    /// When the printer was last asked, and whether the answer is still awaited.
    devices_checked: Instant,
    probing: bool,
    /// The capture page's camera while the session wants it (live preview, then the still),
    /// its start count (news from an earlier one is ignored), and why it cannot be used.
    camera: Option<LiveCamera>,
    camera_started: u64,
    camera_error: String,
    /// What the camera panel shows: the newest live frame (and its number) or the still, and
    /// what the camera is doing.
    preview: Option<slint::Image>,
    preview_frame: u64,
    capture_status: String,
    /// What the receipt printer is doing, for the done, ticket and licence pages.
    print_status: String,
    print_progress: Option<PrintProgress>,
    /// The platform did not answer the last delivery: the banner says cases are kept here.
    offline: bool,
    /// The search thread (without one, the loop searches in place).
    searcher: Option<crate::terminal::search::Searcher>,
    /// Maintenance notices from the platform, for the banner.
    notices: Vec<crate::core::platform::wire::Notice>,
    /// The language shown; back to the profile's at the end of every session.
    lang: Lang,
    /// Voice prompts in 大字模式 (none: silent), and the screen last announced.
    speaker: Option<Box<dyn Speaker>>,
    spoken: Option<Screen>,
    /// The screen's prompt said last (大字), and when: a reminder right after it follows it
    /// rather than cutting it short.
    prompt_said: Option<(String, Instant)>,
    /// 维护模式's page as the store and the self-test describe the terminal, the page's
    /// status line, and whether the self-test is running.
    tech_lines: Vec<technician::Line>,
    tech_status: String,
    tech_busy: bool,
    /// The QR scanner (渝快码, receipt codes), once started.
    scanner: Option<crate::terminal::scan::ScanService>,
    /// 证照打印: whether the job at the printer is an e-licence copy.
    printing_licence: bool,
    /// A receipt (case or ticket) is at the printer and its progress bar is shown.
    printing_receipt: bool,
    /// The last e-licence copy could not be printed (the page offers the window instead).
    licence_print_failed: bool,
    /// The hall database when the profile names one (`ticketing.queue`), reconnected as
    /// needed.
    hall: crate::core::hall::HallLink,
    /// The ticket whose 取号凭条 is printing: withdrawn if the print fails.
    printing_ticket: Option<uuid::Uuid>,
    /// The host terminal's guidance lights and the light last asked of them.
    lights: Option<crate::terminal::lights::GuideLights>,
    lit: Option<Option<ykb_drivers::xfs4iot::Guide>>,
    /// The watch on the host terminal's vendor mode.
    vendor: Option<crate::terminal::vendor::VendorService>,
    /// The worker following the fee order shown (dropped: it stops).
    payment_follower: Option<crate::terminal::payment::Follower>,
    /// The local device service, when the profile has one (`host`).
    devservice: Option<crate::terminal::devservice::LocalDeviceService>,
}

/// How often a kiosk at rest looks for a newer catalogue in the store.
pub const CATALOG_CHECK: Duration = Duration::from_secs(30);
/// How often a kiosk at rest asks the receipt printer how it is (tiles follow it).
pub const DEVICE_CHECK: Duration = Duration::from_secs(3);
/// How often the kiosk reads what operations asked by remote command.
pub const OPS_CHECK: Duration = Duration::from_secs(2);

/// How many search results the find page shows.
const RESULT_LIMIT: usize = 50;

/// The store's name for 维护模式's sign-in throttle (`core::pin::save_throttle`).
const TECHNICIAN_THROTTLE: &str = "technician";

impl Kiosk {
    /// Once the first frame is drawn, writes the start marker `ykb-terminal update health`
    /// waits for after an install (`core::update::markers`).
    fn mark_first_frame(&self, window: &AppWindow) {
        let state = self.state.clone();
        crate::ui::on_first_frame(window.window(), move || {
            crate::core::update::markers::mark_now(
                &mut state.borrow_mut().terminal.core.store,
                "kiosk",
            );
        });
    }

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
        let fit = crate::ui::apply_screen(window.window(), &core.profile.terminal);
        window.global::<Theme>().set_min_touch(fit.min_touch);
        window.global::<Theme>().set_portrait(fit.portrait);
        let language = core.profile.terminal.language;
        let mut session =
            Session::new(idle, Instant::now()).with_technicians(core.profile.technician.as_ref());
        // Wrong technician PINs before a restart still count, and a pause still runs.
        match crate::core::pin::load_throttle(&mut core.store, TECHNICIAN_THROTTLE) {
            Ok(s) => session.restore_technician_throttle(
                s,
                Instant::now(),
                jiff::Timestamp::now().as_millisecond(),
            ),
            Err(e) => tracing::error!(error = %e, "stored technician sign-in throttle unreadable"),
        }
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
                session,
                qr_camera: None,
                face: None,
                catalog_checked: Instant::now(),
                hall_replayed: Instant::now(),
                ops_checked: Instant::now(),
                activity_said: None,
                devices_checked: Instant::now(),
                probing: false,
                camera: None,
                camera_started: 0,
                camera_error: String::new(),
                preview: None,
                preview_frame: 0,
                capture_status: String::new(),
                print_status: String::new(),
                print_progress: None,
                offline: false,
                notices: Vec::new(),
                searcher: None,
                lang: Lang(language),
                speaker: None,
                spoken: None,
                prompt_said: None,
                tech_lines: Vec::new(),
                tech_status: String::new(),
                tech_busy: false,
                scanner: None,
                printing_licence: false,
                printing_receipt: false,
                licence_print_failed: false,
                // After a failed connection, 取号 goes offline at once for 30 s instead of
                // waiting out a connect timeout on every tap.
                hall: crate::core::hall::HallLink::pausing(Duration::from_secs(30)),
                printing_ticket: None,
                lights: None,
                lit: None,
                vendor: None,
                payment_follower: None,
                devservice: None,
            })),
        };
        // The demo's host terminal first: the slots name its services from here on.
        kiosk.state.borrow_mut().terminal.start_xfs4iot_host();
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
            adapter.set_bundles(model(
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
            ));
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
        let (outcome, effects) = {
            let mut st = self.state.borrow_mut();
            let outcome = st.session.handle(event, now);
            // This event's I/O, taken at once: the calls below feed events back, and each
            // nested `event` does its own.
            let effects: Vec<Effect> = std::iter::from_fn(|| st.session.poll_effect()).collect();
            if outcome == Outcome::Wiped {
                // The session forgot the citizen. What the devices and workers *show* goes
                // too, but here: none of it is the session's — a job at the printer and a
                // self-test run on after the session (their reports still come here), and the
                // camera stops and drops its picture in `sync_camera` below because the
                // session no longer wants it.
                st.capture_status.clear();
                st.print_status.clear();
                st.print_progress = None;
                st.printing_receipt = false;
                st.printing_licence = false;
                st.licence_print_failed = false;
                st.tech_lines.clear();
                st.tech_status.clear();
                // Nobody is paying any more: the platform settles the order by itself.
                st.payment_follower = None;
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
            self.run(effect, now);
        }
    }

    /// Carries out one effect of the session through the terminal layer.
    fn run(&self, effect: Effect, now: Instant) {
        match effect {
            // Done before the render.
            Effect::CameraLive => {}
            Effect::Remind(reminder) => self.say_reminder(reminder),
            Effect::Search { query } => self.search(query),
            Effect::StoreCase => self.store_case(now),
            Effect::PrintCaseReceipt => self.print_receipt(),
            Effect::CreatePaymentOrder {
                case_code,
                items,
                attempt,
            } => self.create_payment_order(case_code, items, attempt),
            Effect::FollowPayment { order } => self.follow_payment(*order),
            Effect::CancelPayment { order_id } => self.cancel_payment(order_id),
            Effect::Shoot { .. } => self.shoot(),
            Effect::VerifyYkm { token } => self.verify_ykm(token),
            Effect::FetchLicenceCopy { .. } => self.fetch_licence_copy(),
            Effect::PrintLicence => self.print_licence(),
            Effect::FetchCertificate { task_code, title } => {
                self.fetch_certificate(task_code, title)
            }
            Effect::LookUpLicences => self.look_up_licences(),
            Effect::IssueTicket {
                service,
                green,
                appointment,
            } => self.issue_ticket(service, green, appointment),
            Effect::PrintTicket => self.print_ticket(),
            Effect::LookUpProgress { number } => self.look_up_progress(&number),
            Effect::CallStaff => self.call_staff(),
            Effect::SendEvaluation {
                level,
                reasons,
                case_id,
                task_code,
            } => self.send_evaluation(level, &reasons, case_id, task_code),
            Effect::AuditTechnician {
                technician,
                action,
                detail,
            } => audit_technician(
                &mut self.state.borrow_mut().terminal,
                &technician,
                action,
                &detail,
            ),
            Effect::CheckTechnicianPin(check) => {
                let id = check.id().to_owned();
                let spawned = self.state.borrow().terminal.inbox.check_pin(check);
                if let Err(e) = spawned {
                    tracing::error!(error = %e, "no thread for the PIN check");
                    self.event(Event::TechnicianPinChecked { id, ok: false });
                }
            }
            Effect::StoreTechnicianThrottle => {
                let mut st = self.state.borrow_mut();
                let state = st
                    .session
                    .technician_throttle()
                    .state(Instant::now(), jiff::Timestamp::now().as_millisecond());
                if let Err(e) = crate::core::pin::save_throttle(
                    &mut st.terminal.core.store,
                    TECHNICIAN_THROTTLE,
                    state,
                ) {
                    tracing::error!(error = %e, "technician sign-in throttle not stored");
                }
            }
            Effect::ReadTechnicianOverview => {
                self.refresh_technician_lines();
                self.render();
            }
            Effect::RunSelftest => self.technician_selftest(),
            Effect::ExportDiagnostics => self.technician_export(),
            Effect::ReplacePaperRoll => self.technician_replace_paper(),
            Effect::Restart => self.restart_now(),
            Effect::AcknowledgeVendorMode { enter } => self.acknowledge_vendor_mode(enter),
            Effect::AnswerHost { ticket, answer } => self.answer_host(ticket, answer),
            Effect::TakeHostPicture { ticket } => self.take_host_picture(ticket),
        }
    }

    /// Says a reminder (请取走您的身份证) whether or not 大字 is on; the page shows it.
    fn say_reminder(&self, reminder: session::Reminder) {
        let mut st = self.state.borrow_mut();
        let lang = st.lang;
        let recent = st
            .prompt_said
            .take()
            .filter(|(_, at)| at.elapsed() < Duration::from_secs(2));
        let Some(speaker) = st.speaker.as_ref() else {
            return;
        };
        let text = lang.t(reminder.text());
        match recent {
            Some((prompt, _)) => speaker.say(&format!("{prompt}。{text}"), lang.0),
            None => speaker.say(&text, lang.0),
        }
    }

    /// Whether a 维护模式 PIN check is running on a worker (tests wait for its outcome).
    pub fn checking_technician_pin(&self) -> bool {
        self.state.borrow().session.checking_technician_pin()
    }

    /// Advances the session's clock to `now` (the idle timer calls this every second; tests
    /// call it with a later instant instead of waiting).
    pub fn tick(&self, now: Instant) {
        self.event_at(Event::Tick, now);
        self.adopt_newer_catalog(now);
        self.replay_offline_tickets(now);
        self.follow_operations(now);
        self.probe_printer(now);
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
            Screen::Find => pages::find::render(&window, st),
            Screen::Guide { .. } | Screen::Checklist => pages::guide::render(&window, st),
            Screen::Identify => pages::identify::render(&window, st),
            Screen::Agent => pages::agent::render(&window, st),
            Screen::Form | Screen::Capture | Screen::Review | Screen::Done => {
                pages::apply::render(&window, st)
            }
            Screen::Licences | Screen::LicenceConfirm | Screen::LicencePrinted => {
                pages::licences::render(&window, st)
            }
            Screen::Payment => pages::payment::render(&window, st),
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
        pages::handwriting::render(&window, st);
        pages::consent::render(&window, st);
        window.global::<KioskAdapter>().set_page(page);
        host::sync_lights(st);
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
                    Screen::TicketIssued => session
                        .issued()
                        .map(|t| format!("您的号码是 {}", t.number))
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                let prompt = speech::prompt(&screen, &detail);
                if !prompt.is_empty() {
                    let said = lang.t(&prompt);
                    speaker.say(&said, lang.0);
                    st.prompt_said = Some((said, Instant::now()));
                }
            }
            st.spoken = Some(screen);
        }
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
