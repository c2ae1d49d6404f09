//! The loop's 缴费 I/O: the session asks for an order, its follower or its withdrawal, and
//! the terminal layer's payment workers (`terminal::payment`) do it off the UI thread; what
//! they find comes back through the inbox as session events. The fee's state for
//! 办件进度查询 is asked for here too. Nothing is decided here.

use crate::core::platform::wire::{CaseProgress, FeeStatus, PaymentItem, PaymentOrder};
use crate::terminal::payment::{self as pay, PaymentNews};

use super::*;

impl Kiosk {
    /// Asks the platform for the order of the case's fee (checked before it is shown).
    pub(super) fn create_payment_order(
        &self,
        case_code: String,
        items: Vec<PaymentItem>,
        attempt: u32,
    ) {
        let (platform, inbox) = {
            let st = self.state.borrow();
            (st.terminal.platform.clone(), st.terminal.inbox.clone())
        };
        match platform {
            None => self.event(Event::PaymentOrdered(Err(pay::NEEDS_NETWORK.into()))),
            Some(p) => pay::create_order(p, case_code, items, attempt, move |r| {
                inbox.post(Report::Payment(PaymentNews::Ordered(r)))
            }),
        }
    }

    /// Follows the order shown; a follower of an earlier order stops.
    pub(super) fn follow_payment(&self, order: PaymentOrder) {
        let mut st = self.state.borrow_mut();
        let Some(platform) = st.terminal.platform.clone() else {
            return;
        };
        let inbox = st.terminal.inbox.clone();
        st.payment_follower = Some(pay::follow_order(platform, order, move |o| {
            inbox.post(Report::Payment(PaymentNews::State(o)))
        }));
    }

    /// Withdraws the pending order (稍后在渝快办App缴费); its follower stops.
    pub(super) fn cancel_payment(&self, order_id: String) {
        let mut st = self.state.borrow_mut();
        st.payment_follower = None;
        if let Some(platform) = st.terminal.platform.clone() {
            pay::cancel_order(platform, order_id);
        }
    }

    /// 办件进度查询 found a case this terminal delivered: the platform is asked how its fee
    /// stands (and whether it was posted), and the answer completes the page.
    pub(super) fn look_up_case_progress(&self, unified_code: String) {
        let st = self.state.borrow();
        let Some(platform) = st.terminal.platform.clone() else {
            return;
        };
        let inbox = st.terminal.inbox.clone();
        pay::case_progress(platform, unified_code, move |unified_code, result| {
            inbox.post(Report::Payment(PaymentNews::CaseProgress {
                unified_code,
                result,
            }))
        });
    }

    /// What a payment worker posted.
    pub(super) fn payment_news(&self, news: PaymentNews) {
        match news {
            PaymentNews::Ordered(result) => self.event(Event::PaymentOrdered(result.map(Box::new))),
            PaymentNews::State(order) => self.event(Event::PaymentUpdate(Box::new(order))),
            PaymentNews::CaseProgress {
                unified_code,
                result,
            } => {
                // Only for the number still asked about on the progress page.
                let local = {
                    let mut st = self.state.borrow_mut();
                    let st = &mut *st;
                    if st.session.current() != &Screen::Progress {
                        return;
                    }
                    let number = st.session.progress_query().to_owned();
                    match outbox::case_stub(&mut st.terminal.core.store, &number) {
                        Ok(Some(stub)) if stub.unified_code.as_deref() == Some(&unified_code) => {
                            hall::progress_text(&stub)
                        }
                        _ => return,
                    }
                };
                let (title, mut detail) = local;
                match result {
                    Ok(p) => {
                        for line in platform_lines(&p) {
                            detail.push('\n');
                            detail.push_str(&line);
                        }
                    }
                    Err(e) => {
                        tracing::info!(error = %e, "case progress not asked of the platform");
                        detail.push_str("\n缴费和寄递情况暂时查不到（需联网），请稍后再查");
                    }
                }
                self.event(Event::ProgressAnswer { title, detail });
            }
        }
    }
}

/// What 办件进度查询 adds from the platform's answer: the fee's state and the waybill.
fn platform_lines(p: &CaseProgress) -> Vec<String> {
    let mut lines = Vec::new();
    match p.fee_status {
        Some(FeeStatus::Unpaid) => lines.push("缴费：待缴费（可在渝快办App缴费）".to_owned()),
        Some(FeeStatus::Paid) => lines.push("缴费：已缴费".to_owned()),
        None => {}
    }
    if let Some(w) = &p.waybill {
        lines.push(format!("寄递运单号：{w}"));
    }
    lines
}
