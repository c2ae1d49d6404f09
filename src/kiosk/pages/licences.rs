//! 证照打印: the citizen's e-licences, the copy as it will be printed, and the printing.

use slint::{ComponentHandle, ModelRc, SharedString};

use crate::kiosk::*;

/// Turns the page's callbacks into session events.
pub(in crate::kiosk) fn connect(kiosk: &Kiosk, window: &AppWindow) {
    let go = |e| super::go(kiosk, e);
    let licences = window.global::<LicenceAdapter>();
    licences.on_open(go(|| Event::OpenLicencePrint));
    licences.on_retry(go(|| Event::RetryLicences));
    licences.on_print(go(|| Event::PrintLicence));
    licences.on_reprint(go(|| Event::ReprintLicence));
    licences.on_back(go(|| Event::Back));
    licences.on_finish(go(|| Event::Home));
    let k = kiosk.clone_handle();
    licences.on_choose(move |name| k.event(Event::ChooseLicence(name.to_string())));
}

/// Shows the list, the copy or the printing.
pub(in crate::kiosk) fn render(window: &AppWindow, st: &State) -> Page {
    let session = &st.session;
    render_licences(window, st);
    match session.current() {
        Screen::Licences => Page::Licences,
        Screen::LicenceConfirm => Page::LicenceConfirm,
        _ => Page::LicencePrinted,
    }
}

/// 证照打印: the list, the copy as it will be printed, and the printing.
fn render_licences(window: &AppWindow, st: &State) {
    let a = window.global::<LicenceAdapter>();
    let session = &st.session;
    let lang = st.lang;
    let certificates = session.certificates();
    a.set_list_state(match session.licence_lookup() {
        LicenceLookup::Waiting => 0,
        LicenceLookup::Found if session.licences().is_empty() && certificates.is_empty() => 2,
        LicenceLookup::Found => 1,
        LicenceLookup::Failed => 3,
    });
    // E-licences first, then the certificates (证明开具) this terminal prints on A4.
    a.set_licences(string_model(
        session
            .licences()
            .iter()
            .cloned()
            .chain(certificates.iter().map(|c| c.title.clone())),
    ));
    a.set_certificate_count(certificates.len() as i32);
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
                    a.set_copy_lines(model(lines));
                    a.set_verification_code(doc.verification_code.clone().into());
                }
                LicenceCopy::Certificate(c) => {
                    a.set_copy_state(1);
                    let lines = vec![
                        line("证明名称", &c.title),
                        line("页数", &lang.t(&format!("{} 页（A4）", c.pages))),
                        line("电子签名", &lang.t("已校验：政务服务平台签发")),
                    ];
                    a.set_copy_lines(model(lines));
                    a.set_verification_code(c.verification_code.clone().into());
                }
            }
        }
    }
    a.set_print_status(lang.t(&st.print_status).into());
    a.set_print_failed(st.licence_print_failed);
    a.set_can_reprint(session.can_reprint_licence());
}

/// Empties `LicenceAdapter` (the session was wiped).
pub(in crate::kiosk) fn clear(window: &AppWindow) {
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
    licences.set_can_reprint(false);
    licences.set_certificate_count(0);
}
