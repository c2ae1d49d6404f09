//! 维护模式: the PIN pad and the technician's page of devices, queue and actions.

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use crate::kiosk::*;

/// Turns the page's callbacks into session events.
pub(in crate::kiosk) fn connect(kiosk: &Kiosk, window: &AppWindow) {
    let tech = window.global::<TechAdapter>();
    let k = kiosk.clone_handle();
    tech.on_edit_id(move || {
        k.state.borrow_mut().typing_pin = false;
        k.event(Event::Touch);
        k.render();
    });
    let k = kiosk.clone_handle();
    tech.on_edit_pin(move || {
        k.state.borrow_mut().typing_pin = true;
        k.event(Event::Touch);
        k.render();
    });
    let edit = |f: fn(&mut String, &str)| {
        let k = kiosk.clone_handle();
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
    let k = kiosk.clone_handle();
    tech.on_sign_in(move || k.technician_sign_in());
    let k = kiosk.clone_handle();
    tech.on_run_selftest(move || k.technician_selftest());
    let k = kiosk.clone_handle();
    tech.on_export_logs(move || k.technician_export());
    let k = kiosk.clone_handle();
    tech.on_refresh(move || {
        k.refresh_technician_lines();
        k.event(Event::Touch);
        k.render();
    });
    let k = kiosk.clone_handle();
    tech.on_sign_out(move || k.event(Event::Home));
}

/// Shows the PIN pad or the technician's page.
pub(in crate::kiosk) fn render(window: &AppWindow, st: &State) -> Page {
    let session = &st.session;
    let lang = st.lang;
    match session.current() {
        Screen::TechLogin => {
            let t = window.global::<TechAdapter>();
            t.set_tech_id(st.tech_id.clone().into());
            t.set_pin_dots("●".repeat(st.tech_pin.chars().count()).into());
            t.set_typing_pin(st.typing_pin);
            t.set_login_note(lang.t(&st.tech_note).into());
            Page::TechLogin
        }
        _ => {
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
