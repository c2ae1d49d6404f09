//! The Slint UI glue: the only part of the app that knows Slint. It pushes models built from
//! the core into `ui/` (through the `KioskAdapter` global) and turns callbacks into
//! [`nav::Navigator`] moves. Screen logic lives in `nav`; texts in `guide`.

pub mod guide;
pub mod nav;

use std::cell::RefCell;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use crate::cli::{self, Cli};
use crate::core::catalog::Catalog;
use crate::core::Core;
use nav::{Navigator, Screen};

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
    let _platform = crate::sim::demo::start_for_demo(&mut core);
    let window = match AppWindow::new() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("{NO_DISPLAY_MESSAGE}（{e}）");
            return ExitCode::from(cli::EXIT_FAILURE);
        }
    };
    let kiosk = Kiosk::attach(&window, core);
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

/// The running kiosk: the window, the core and the navigator, shared by the callbacks.
pub struct Kiosk {
    window: slint::Weak<AppWindow>,
    state: Rc<RefCell<State>>,
}

struct State {
    core: Core,
    nav: Navigator,
}

impl Kiosk {
    /// Wires a window to a started core and shows the home screen.
    pub fn attach(window: &AppWindow, core: Core) -> Self {
        let idle = Duration::from_secs(u64::from(core.profile.terminal.idle_timeout_secs));
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
                nav: Navigator::new(idle, Instant::now()),
            })),
        };
        kiosk.connect(&adapter);
        kiosk.render();
        kiosk
    }

    fn connect(&self, adapter: &KioskAdapter<'_>) {
        let on = |f: fn(&mut Navigator, String)| {
            let k = self.clone_handle();
            move |arg: SharedString| {
                f(&mut k.state.borrow_mut().nav, arg.to_string());
                k.render();
            }
        };
        adapter.on_open_department(on(|n, d| n.open(Screen::Matters { department: d })));
        adapter.on_open_matter(on(|n, c| n.open(Screen::MatterGuide { task_code: c })));
        adapter.on_open_bundle(on(|n, c| n.open(Screen::BundleGuide { code: c })));
        let go = |f: fn(&mut Navigator)| {
            let k = self.clone_handle();
            move || {
                f(&mut k.state.borrow_mut().nav);
                k.render();
            }
        };
        adapter.on_go_home(go(|n| n.open(Screen::Home)));
        adapter.on_go_back(go(Navigator::back));
        adapter.on_open_departments(go(|n| n.open(Screen::Departments)));
        adapter.on_open_bundles(go(|n| n.open(Screen::Bundles)));
        let k = self.clone_handle();
        adapter.on_touched(move || k.state.borrow_mut().nav.touched(Instant::now()));
    }

    fn clone_handle(&self) -> Kiosk {
        Kiosk {
            window: self.window.clone(),
            state: self.state.clone(),
        }
    }

    /// A timer that sends the kiosk home when the citizen walks away; keep it alive while
    /// the window runs.
    pub fn idle_timer(&self) -> slint::Timer {
        let timer = slint::Timer::default();
        let k = self.clone_handle();
        timer.start(
            slint::TimerMode::Repeated,
            Duration::from_secs(1),
            move || {
                let expired = k.state.borrow_mut().nav.expire_if_idle(Instant::now());
                if expired {
                    tracing::info!("session ended after inactivity");
                    k.render();
                }
            },
        );
        timer
    }

    /// Pushes the navigator's current screen into the UI.
    fn render(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let adapter = window.global::<KioskAdapter>();
        let state = self.state.borrow();
        let catalog = &state.core.catalog;
        adapter.set_can_go_back(state.nav.can_go_back());
        match state.nav.current() {
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
            Screen::MatterGuide { task_code } => {
                if let Some(m) = catalog.matter(task_code) {
                    adapter.set_guide_title(m.name.clone().into());
                    adapter.set_guide_subtitle(guide::matter_line(m).into());
                    adapter.set_guide_sections(sections(guide::matter_guide(m)));
                }
                adapter.set_page(Page::Guide);
            }
            Screen::Bundles => adapter.set_page(Page::Bundles),
            Screen::BundleGuide { code } => {
                if let Some(b) = catalog.bundles.iter().find(|b| b.code.as_str() == code) {
                    adapter.set_guide_title(b.name.clone().into());
                    adapter.set_guide_subtitle(
                        format!("一件事一次办 · 包含 {} 个事项", b.matters.len()).into(),
                    );
                    adapter.set_guide_sections(sections(guide::bundle_guide(b, catalog)));
                }
                adapter.set_page(Page::Guide);
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
