//! 缴费: the fee order's amount, payee, items, QR and countdown, then how it ended.

use slint::ComponentHandle;

use crate::core::payment::{total_fen, yuan};
use crate::kiosk::*;

/// Turns the page's callbacks into session events.
pub(in crate::kiosk) fn connect(kiosk: &Kiosk, window: &AppWindow) {
    let go = |e| super::go(kiosk, e);
    let a = window.global::<PaymentAdapter>();
    a.on_retry(go(|| Event::RetryPayment));
    a.on_later(go(|| Event::PayLater));
    a.on_back(go(|| Event::Back));
}

/// Shows the payment page.
pub(in crate::kiosk) fn render(window: &AppWindow, st: &State) -> Page {
    let a = window.global::<PaymentAdapter>();
    let session = &st.session;
    let lang = st.lang;
    crate::ui::show_payment(
        &a,
        session.payment(),
        &session.fee_items(),
        jiff::Timestamp::now(),
        &|zh| lang.t(zh),
    );
    Page::Payment
}

/// The done page's line about the fee: how much, and whether it is paid.
pub(in crate::kiosk) fn fee_note(st: &State) -> String {
    let session = &st.session;
    let items = session.fee_items();
    if items.is_empty() || session.submit_result().and_then(|r| r.case_id()).is_none() {
        return String::new();
    }
    let amount = yuan(total_fen(&items));
    match (session.paid_order(), session.submit_result()) {
        (Some(_), _) => format!("已缴费 {amount} 元"),
        (None, Some(SubmitResult::Submitted { .. })) => {
            format!("需缴费 {amount} 元，请点「缴费」扫码支付")
        }
        _ => format!("需缴费 {amount} 元：联网提交后可在渝快办App缴费"),
    }
}

/// Empties `PaymentAdapter` (the session was wiped).
pub(in crate::kiosk) fn clear(window: &AppWindow) {
    crate::ui::clear_payment(&window.global::<PaymentAdapter>());
}
