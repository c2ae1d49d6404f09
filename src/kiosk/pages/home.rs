//! 首页 and browsing: the shell (`SessionAdapter`: who is identified, the countdown) and
//! `KioskAdapter` (departments, matters, bundles, a matter's or bundle's guide, the banner).

use slint::{ComponentHandle, ModelRc, SharedString};

use crate::kiosk::*;

/// Turns the shell's and the browse pages' callbacks into session events.
pub(in crate::kiosk) fn connect(kiosk: &Kiosk, window: &AppWindow) {
    let on = |f: fn(String) -> Event| {
        let k = kiosk.clone_handle();
        move |arg: SharedString| k.event(f(arg.to_string()))
    };
    let go = |e| super::go(kiosk, e);
    let adapter = window.global::<KioskAdapter>();
    adapter.on_open_department(on(|d| Event::Open(Screen::Matters { department: d })));
    adapter.on_open_matter(on(|c| Event::Open(Screen::MatterInfo { task_code: c })));
    adapter.on_open_bundle(on(|c| Event::Open(Screen::BundleInfo { code: c })));
    let k = kiosk.clone_handle();
    adapter.on_start_guide(move || {
        let event = {
            let st = k.state.borrow();
            let catalog = &st.terminal.core.catalog;
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
    adapter.on_go_home(go(|| Event::Home));
    adapter.on_go_back(go(|| Event::Back));
    adapter.on_open_find(go(|| Event::Open(Screen::Find)));
    adapter.on_open_departments(go(|| Event::Open(Screen::Departments)));
    adapter.on_open_bundles(go(|| Event::Open(Screen::Bundles)));
    adapter.on_touched(go(|| Event::Touch));
    adapter.on_open_identify(go(|| Event::Open(Screen::Identify)));
    adapter.on_title_tapped(go(|| Event::TitleTapped));
    adapter.on_open_tickets(go(|| Event::Open(Screen::Tickets)));
    adapter.on_open_progress(go(|| Event::Open(Screen::Progress)));
    adapter.on_open_evaluate(go(|| Event::OpenEvaluate));
    adapter.on_call_staff(go(|| Event::CallStaff));
    let k = kiosk.clone_handle();
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
    let k = kiosk.clone_handle();
    session.on_leave_answer(move |leave| k.event(Event::LeaveAnswer(leave)));
    let k = kiosk.clone_handle();
    session.on_inbox_ready(move || k.process_device_events());
}

/// What the home screen says while operations hold the terminal in maintenance.
pub const OUT_OF_SERVICE: &str = "本机正在维护，暂停办理业务，请到服务台或其他终端办理";

/// The shell around every page: who is identified, the countdown, 返回, the banner.
pub(in crate::kiosk) fn render_shell(window: &AppWindow, st: &State) {
    let adapter = window.global::<KioskAdapter>();
    let session = &st.session;
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
    let (steps, step) = session.steps().unwrap_or_default();
    sa.set_steps(crate::ui::string_model(
        steps.iter().map(|s| lang.t(s.label())),
    ));
    sa.set_step(step as i32);
    sa.set_leave_asked(session.leave_asked());
    sa.set_reminder_card(session.reminder() != Some(crate::kiosk::session::Reminder::TakePaper));
    sa.set_reminder(
        session
            .reminder()
            .map(|r| lang.t(r.text()))
            .unwrap_or_default()
            .into(),
    );
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
    let (banner, warning) = if session.out_of_service() && session.current() == &Screen::Home {
        (OUT_OF_SERVICE.to_owned(), true)
    } else if st.offline {
        ("网络中断，业务将暂存本机，恢复后自动提交".to_owned(), true)
    } else {
        (notices.join("  "), false)
    };
    adapter.set_banner(lang.t(&banner).into());
    adapter.set_banner_warning(warning);
    // The host terminal's staff have the devices: the whole screen says so.
    let (title, detail) = if session.in_vendor_mode() {
        (
            lang.t(session::VENDOR_TITLE),
            lang.t(session::VENDOR_DETAIL),
        )
    } else {
        (String::new(), String::new())
    };
    adapter.set_maintenance(title.into());
    adapter.set_maintenance_detail(detail.into());
}

/// Shows the home page and the browse pages (departments, matters, bundles, a guide).
pub(in crate::kiosk) fn render(window: &AppWindow, st: &State) -> Page {
    let session = &st.session;
    let lang = st.lang;
    let adapter = window.global::<KioskAdapter>();
    let catalog = &st.terminal.core.catalog;
    match session.current() {
        Screen::Home => {
            let services = window.global::<ServicesAdapter>();
            let blocked = |s| lang.t(session.blocked(s).unwrap_or_default());
            services.set_tickets_blocked(blocked(session::Service::Tickets).into());
            services.set_identify_blocked(blocked(session::Service::Identify).into());
            Page::Home
        }
        Screen::Departments => Page::Departments,
        Screen::Matters { department } => {
            adapter.set_list_title(department.clone().into());
            adapter.set_matters(model(
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
            ));
            Page::Matters
        }
        Screen::MatterInfo { task_code } => {
            let m = catalog.matter(task_code);
            if let Some(m) = m {
                adapter.set_guide_title(m.name.clone().into());
                adapter.set_guide_subtitle(guide::matter_line(m).into());
                adapter.set_guide_sections(sections(guide::matter_guide(m), lang));
            }
            adapter.set_guide_can_start(m.is_some());
            Page::Guide
        }
        Screen::Bundles => Page::Bundles,
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
            Page::Guide
        }

        _ => Page::Home,
    }
}

/// Empties `SessionAdapter` (the session was wiped).
pub(in crate::kiosk) fn clear(window: &AppWindow) {
    let session = window.global::<SessionAdapter>();
    session.set_countdown(0);
    session.set_person_name(SharedString::new());
    session.set_person_id(SharedString::new());
}

pub(in crate::kiosk) fn sections(items: Vec<guide::GuideSection>, lang: Lang) -> ModelRc<Section> {
    model(
        items
            .into_iter()
            .map(|s| Section {
                title: lang.t(&s.title).into(),
                body: s.body.into(),
            })
            .collect::<Vec<_>>(),
    )
}
