//! 取号, 办件进度查询 and 呼叫工作人员 (`ServicesAdapter`).

use slint::{ComponentHandle, SharedString};

use crate::core::ticketing::{HallStatus, TicketError, TicketKind};
use crate::kiosk::*;

/// Turns the page's callbacks into session events.
pub(in crate::kiosk) fn connect(kiosk: &Kiosk, window: &AppWindow) {
    let go = |e| super::go(kiosk, e);
    let services = window.global::<ServicesAdapter>();
    services.on_toggle_green(go(|| Event::ToggleGreen));
    let k = kiosk.clone_handle();
    services.on_take(move |prefix| k.event(Event::TakeTicket(prefix.to_string())));
    services.on_toggle_checkin(go(|| Event::ToggleCheckin));
    let k = kiosk.clone_handle();
    services.on_checkin_key(move |key| k.event(Event::CheckinKey(Key::Text(key.to_string()))));
    services.on_checkin_backspace(go(|| Event::CheckinKey(Key::Backspace)));
    services.on_checkin_clear(go(|| Event::CheckinKey(Key::Clear)));
    let progress_edit = |f: fn(&mut String, &str)| {
        let k = kiosk.clone_handle();
        move |key: SharedString| {
            let mut q = k.state.borrow().session.progress_query().to_owned();
            f(&mut q, &key);
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
    services.on_progress_search(go(|| Event::LookUpProgress));
}

/// Shows the hall's services (with `hall`, the queue's status the loop read), the ticket
/// issued, a case's progress or the call for staff.
pub(in crate::kiosk) fn render(
    window: &AppWindow,
    st: &State,
    hall: Option<Result<HallStatus, TicketError>>,
) -> Page {
    let session = &st.session;
    let lang = st.lang;
    let services = window.global::<ServicesAdapter>();
    match session.current() {
        Screen::Tickets => {
            let rows = match hall {
                Some(Ok(h)) => h
                    .services
                    .into_iter()
                    .map(|s| ServiceRow {
                        detail: lang.t(&format!("{} 人等候", s.waiting)).into(),
                        open: s.issuing_now,
                        name: service_name(&st.terminal.core.profile, &s.prefix, &s.name, lang)
                            .into(),
                        prefix: s.prefix.into(),
                    })
                    .collect(),
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "hall status");
                    Vec::new()
                }
                None => Vec::new(),
            };
            services.set_services(model(rows));
            services.set_green(session.green());
            services.set_checkin(session.checkin());
            services.set_checkin_code(session.checkin_code().into());
            services.set_note(lang.t(session.ticket_note()).into());
            Page::Tickets
        }
        Screen::TicketIssued => {
            if let Some(t) = session.issued() {
                services.set_ticket_number(t.number.clone().into());
                services.set_ticket_service(
                    service_name(&st.terminal.core.profile, &t.service, &t.service_name, lang)
                        .into(),
                );
                let kind = match t.kind {
                    TicketKind::Green => "（绿色通道）",
                    TicketKind::Appointment => "（预约签到）",
                    TicketKind::WalkIn => "",
                };
                // Issued offline, the queue before it is not known here: no count.
                let detail = if t.offline {
                    format!("此号有效，请留意叫号屏{kind}")
                } else {
                    format!("前面还有 {} 人{kind}", t.waiting_before)
                };
                services.set_ticket_detail(lang.t(&detail).into());
            }
            services.set_print_status(lang.t(&st.print_status).into());
            services.set_has_print_progress(st.print_progress.is_some());
            services.set_print_progress(st.print_progress.map_or(0.0, |p| p.fraction()));
            Page::TicketIssued
        }
        Screen::Progress => {
            services.set_progress_query(session.progress_query().into());
            let (title, detail) = session.progress().unwrap_or_default();
            services.set_progress_title(lang.t(title).into());
            // Line by line: the platform's lines (缴费, 寄递) follow the local status.
            let detail: Vec<String> = detail.lines().map(|l| lang.t(l)).collect();
            services.set_progress_detail(detail.join("\n").into());
            Page::Progress
        }
        _ => {
            services.set_call_note(
                lang.t("工作人员会尽快过来；也可以拨打 12345 政务服务便民热线")
                    .into(),
            );
            Page::CallStaff
        }
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

/// Empties `ServicesAdapter` (the session was wiped).
pub(in crate::kiosk) fn clear(window: &AppWindow) {
    let services = window.global::<ServicesAdapter>();
    services.set_ticket_number(SharedString::new());
    services.set_ticket_detail(SharedString::new());
    services.set_progress_query(SharedString::new());
    services.set_progress_title(SharedString::new());
    services.set_progress_detail(SharedString::new());
    services.set_green(false);
}
