//! The Slint UI glue: the only part of the app that knows Slint. It pushes models built from
//! the core into `ui/` (through one global per page: `KioskAdapter`, `FindAdapter`,
//! `GuideAdapter`, `SessionAdapter`) and turns callbacks into [`session::Event`]s. Screen
//! logic, idle countdown and wipe live in `session`; texts in `guide`.

pub mod guide;
pub mod identify;
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
use crate::core::Core;
use crate::sim::demo::DemoPlatform;
use identify::{CardOutcome, CardService};
use session::{CardError, CardStatus, Event, Outcome, Screen, Session};

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
    /// The identified citizen's e-licences (电子证照) by name; empty when not identified.
    licences: Vec<String>,
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
        let adapter = window.global::<KioskAdapter>();
        adapter.set_terminal_name(core.profile.terminal.name.clone().into());
        adapter.set_status_line(status_line(&core.catalog).into());
        adapter.set_departments(string_model(
            core.catalog.departments().into_iter().map(str::to_owned),
        ));
        adapter.set_bundles(ModelRc::new(VecModel::from(
            core.catalog
                .bundles
                .iter()
                .map(|b| MatterRow {
                    code: b.code.to_string().into(),
                    name: b.name.clone().into(),
                    detail: format!("包含 {} 个事项", b.matters.len()).into(),
                    self_service: false,
                })
                .collect::<Vec<_>>(),
        )));
        let kiosk = Kiosk {
            window: window.as_weak(),
            state: Rc::new(RefCell::new(State {
                core,
                session: Session::new(idle, Instant::now()),
                pending: Vec::new(),
                licences: Vec::new(),
                cards: None,
                platform: None,
                inbox: Arc::new(Mutex::new(Vec::new())),
            })),
        };
        kiosk.connect(window);
        kiosk.render();
        kiosk
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
            {
                let mut st = k.state.borrow_mut();
                st.licences.clear();
                if let Some(c) = &st.cards {
                    c.lift_demo_card();
                }
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
        let outcome = {
            let mut st = self.state.borrow_mut();
            let before = st.session.current().clone();
            let outcome = st.session.handle(event, now);
            if st.session.current() != &before {
                st.pending.clear();
            }
            if outcome == Outcome::Wiped {
                st.pending.clear();
                st.licences.clear();
            }
            outcome
        };
        if outcome == Outcome::Wiped {
            self.clear_personal_properties();
        }
        if outcome != Outcome::None {
            self.render();
        }
    }

    /// Uses `platform` for e-licence look-ups (免提交) once a card is read.
    pub fn use_platform(&self, platform: Arc<DemoPlatform>) {
        self.state.borrow_mut().platform = Some(platform);
    }

    /// Starts the ID-card emulator with the demo card and the real reader driver on it; the
    /// identify page then offers "放置演示身份证".
    pub fn start_demo_card_reader(&self) {
        let inbox = self.state.borrow().inbox.clone();
        let window = self.window.clone();
        let report = move |outcome: CardOutcome| {
            inbox
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(Inbox::Card(outcome));
            let _ =
                window.upgrade_in_event_loop(|w| w.global::<SessionAdapter>().invoke_inbox_ready());
        };
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
                    {
                        let mut st = self.state.borrow_mut();
                        st.licences.clear();
                        // The demo card goes back to the citizen once read.
                        if let Some(c) = &st.cards {
                            c.lift_demo_card();
                        }
                    }
                    self.look_up_licences(&person);
                    self.event(Event::CardRead(person));
                }
                Inbox::Card(CardOutcome::Error(e)) => self.event(Event::CardError(e)),
                Inbox::Card(CardOutcome::Ready) => self.event(Event::CardReady),
                Inbox::Licences { id_number, names } => {
                    let mut st = self.state.borrow_mut();
                    let same = st
                        .session
                        .person()
                        .is_some_and(|p| p.id_number.expose() == id_number);
                    if same {
                        st.licences = names;
                        drop(st);
                        self.render();
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
                        inbox
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(Inbox::Licences { id_number, names });
                        let _ = window.upgrade_in_event_loop(|w| {
                            w.global::<SessionAdapter>().invoke_inbox_ready()
                        });
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
                    adapter.set_guide_sections(sections(guide::matter_guide(m)));
                }
                adapter.set_page(Page::Guide);
            }
            Screen::Bundles => adapter.set_page(Page::Bundles),
            Screen::BundleInfo { code } => {
                if let Some(b) = catalog.bundles.iter().find(|b| b.code.as_str() == code) {
                    adapter.set_guide_title(b.name.clone().into());
                    adapter.set_guide_subtitle(
                        format!("一件事一次办 · 包含 {} 个事项", b.matters.len()).into(),
                    );
                    adapter.set_guide_sections(sections(guide::bundle_guide(b, catalog)));
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
                    if query.is_empty() {
                        String::new()
                    } else if hits.is_empty() {
                        format!("没有找到与“{query}”相关的事项，可以换个说法或按部门浏览")
                    } else {
                        format!("找到 {} 项，点事项开始办理", hits.len())
                    }
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
                    g.set_progress(format!("第 {} 个问题", question + 1).into());
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
                    let rows = guide::checklist(m, &session.chosen(), &st.licences);
                    g.set_matter_name(m.name.clone().into());
                    g.set_checklist_note(
                        if session.person().is_some() {
                            "“免提交”的材料已由您的电子证照代替，无需携带"
                        } else {
                            "刷身份证后，已有电子证照的材料可以免提交"
                        }
                        .into(),
                    );
                    g.set_checklist(ModelRc::new(VecModel::from(
                        rows.into_iter()
                            .map(|r| MaterialRow {
                                name: r.name.into(),
                                detail: r.detail.into(),
                                status: r.status.label().into(),
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
            // Not built yet: these screens show home until their pages land.
            Screen::Form | Screen::Review | Screen::Done | Screen::Evaluate => {
                adapter.set_page(Page::Home)
            }
        }
    }
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

fn sections(items: Vec<guide::GuideSection>) -> ModelRc<Section> {
    ModelRc::new(VecModel::from(
        items
            .into_iter()
            .map(|s| Section {
                title: s.title.into(),
                body: s.body.into(),
            })
            .collect::<Vec<_>>(),
    ))
}
