//! 缴费: the fee order's amount, payee, items, QR and countdown, then how it ended.

use slint::{ComponentHandle, ModelRc, SharedString};

use crate::core::payment::{seconds_left, total_fen, yuan};
use crate::kiosk::payment::qr_image;
use crate::kiosk::session::PaymentStage;
use crate::kiosk::*;

/// Turns the page's callbacks into session events.
pub(in crate::kiosk) fn connect(kiosk: &Kiosk, window: &AppWindow) {
    let go = |e| super::go(kiosk, e);
    let a = window.global::<PaymentAdapter>();
    a.on_retry(go(|| Event::RetryPayment));
    a.on_later(go(|| Event::PayLater));
    a.on_back(go(|| Event::Back));
}

/// Sets the payment QR to `data`, drawing it only when it changed (the page renders every
/// second for the countdown).
fn set_qr(a: &PaymentAdapter<'_>, data: &str) {
    if a.get_qr_text() != data {
        a.set_qr(qr_image(data));
        a.set_qr_text(data.into());
    }
}

/// Shows the payment page.
pub(in crate::kiosk) fn render(window: &AppWindow, st: &State) -> Page {
    let a = window.global::<PaymentAdapter>();
    let session = &st.session;
    let lang = st.lang;
    let items = session.fee_items();
    a.set_amount(lang.t(&format!("{} 元", yuan(total_fen(&items)))).into());
    a.set_items(model(
        items
            .iter()
            .map(|i| SharedString::from(format!("{}　{} 元", i.name, yuan(i.amount_fen))))
            .collect::<Vec<_>>(),
    ));
    let (stage, title, note) = match session.payment() {
        None | Some(PaymentStage::Creating) => ("creating", "正在生成缴费订单…", String::new()),
        Some(PaymentStage::Pending(o)) => {
            a.set_payee(o.payee.clone().into());
            set_qr(&a, &o.qr_url);
            let left = seconds_left(o, jiff::Timestamp::now());
            a.set_countdown(
                if left == 0 {
                    lang.t("正在确认缴费结果…")
                } else {
                    lang.t(&format!(
                        "请在 {} 内完成支付",
                        format_args!("{}:{:02}", left / 60, left % 60)
                    ))
                }
                .into(),
            );
            (
                "pending",
                "请用手机扫码缴费",
                "支付完成后本页自动显示结果，请勿重复支付".to_owned(),
            )
        }
        Some(PaymentStage::Paid(o)) => {
            a.set_payee(o.payee.clone().into());
            a.set_payment_no(o.payment_no.clone().unwrap_or_default().into());
            if let Some(url) = &o.fiscal_receipt_url {
                a.set_fiscal_qr(qr_image(url));
            }
            (
                "paid",
                "缴费成功",
                "回执上有支付流水号和财政电子票据二维码".to_owned(),
            )
        }
        Some(PaymentStage::Ended(o)) => (
            "ended",
            match o.state {
                crate::core::platform::wire::PaymentState::Cancelled => "缴费订单已取消",
                _ => "缴费订单已过期",
            },
            "未扣款。可点「重新缴费」重新生成二维码，或稍后在渝快办App缴费；办件已提交".to_owned(),
        ),
        Some(PaymentStage::Unknown(_)) => (
            "unknown",
            "暂时无法确认缴费结果",
            "如已支付，无需再付：请稍后在“办件进度查询”中查看缴费状态".to_owned(),
        ),
        Some(PaymentStage::Refused(reason)) => ("refused", "暂时不能缴费", reason.clone()),
        Some(PaymentStage::Later) => ("ended", "稍后缴费", String::new()),
    };
    if stage != "pending" {
        a.set_countdown(SharedString::new());
    }
    a.set_stage(stage.into());
    a.set_title(lang.t(title).into());
    a.set_note(lang.t(&note).into());
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
    let a = window.global::<PaymentAdapter>();
    a.set_stage(SharedString::new());
    a.set_title(SharedString::new());
    a.set_amount(SharedString::new());
    a.set_payee(SharedString::new());
    a.set_items(ModelRc::default());
    a.set_qr(slint::Image::default());
    a.set_qr_text(SharedString::new());
    a.set_countdown(SharedString::new());
    a.set_note(SharedString::new());
    a.set_payment_no(SharedString::new());
    a.set_fiscal_qr(slint::Image::default());
}
