//! 维护模式: the PIN pad and the technician's page of devices, queue and actions.

use slint::{ComponentHandle, ModelRc, SharedString};

use crate::kiosk::*;

/// Turns the page's callbacks into session events.
pub(in crate::kiosk) fn connect(kiosk: &Kiosk, window: &AppWindow) {
    let go = |e| super::go(kiosk, e);
    let tech = window.global::<TechAdapter>();
    tech.on_edit_id(go(|| Event::TechField(session::TechField::Id)));
    tech.on_edit_pin(go(|| Event::TechField(session::TechField::Pin)));
    let k = kiosk.clone_handle();
    tech.on_key(move |key| k.event(Event::TechKey(Key::Text(key.to_string()))));
    tech.on_backspace(go(|| Event::TechKey(Key::Backspace)));
    tech.on_clear(go(|| Event::TechKey(Key::Clear)));
    tech.on_sign_in(go(|| Event::TechSignIn));
    tech.on_run_selftest(go(|| Event::RunSelftest));
    tech.on_export_logs(go(|| Event::ExportDiagnostics));
    tech.on_replace_paper(go(|| Event::ReplacePaperRoll));
    tech.on_refresh(go(|| Event::RefreshTechnician));
    tech.on_sign_out(go(|| Event::Home));
}

/// Shows the PIN pad or the technician's page.
pub(in crate::kiosk) fn render(window: &AppWindow, st: &State) -> Page {
    let session = &st.session;
    let lang = st.lang;
    match session.current() {
        Screen::TechLogin => {
            let t = window.global::<TechAdapter>();
            let entry = session.pin_entry();
            t.set_tech_id(entry.id().into());
            t.set_pin_dots("●".repeat(entry.pin_chars()).into());
            t.set_typing_pin(entry.typing_pin());
            t.set_login_note(lang.t(entry.note()).into());
            Page::TechLogin
        }
        _ => {
            let t = window.global::<TechAdapter>();
            t.set_technician(session.technician().unwrap_or_default().into());
            t.set_status(st.tech_status.clone().into());
            t.set_busy(st.tech_busy);
            t.set_lines(model(
                st.tech_lines
                    .iter()
                    .map(|l| TechLine {
                        label: l.label.clone().into(),
                        value: l.value.clone().into(),
                        warn: l.warn,
                    })
                    .collect::<Vec<_>>(),
            ));
            Page::Technician
        }
    }
}

/// Empties `TechAdapter` (the session was wiped).
pub(in crate::kiosk) fn clear(window: &AppWindow) {
    let tech = window.global::<TechAdapter>();
    tech.set_tech_id(SharedString::new());
    tech.set_pin_dots(SharedString::new());
    tech.set_lines(ModelRc::default());
    tech.set_status(SharedString::new());
    tech.set_technician(SharedString::new());
}
