//! 收费 at the counter: the clerk's 收费 becomes the platform's order for the accepted case's
//! fee (made, checked and followed by the terminal layer's payment workers, exactly as the
//! kiosk's: key `core::payment::order_key`, `check_order`, only a `trusted_qr` shown), the pad
//! shows its QR, and a paid order prints the 缴费凭证. What happens next is decided by the
//! clerk's `errand::payment` state machine; this file only runs its steps.

use crate::errand::payment::Step;
use crate::terminal::payment::{self as pay, PaymentNews};

use super::*;

impl Counter {
    /// 收费 / 重新收费 pressed.
    pub(super) fn charge(&self) {
        let step = self.state.borrow_mut().clerk.charge();
        match step {
            Some(step) => self.payment_step(step),
            None => self
                .state
                .borrow_mut()
                .fail("现在不能收费：需已受理、取得统一受理编号且尚未缴费"),
        }
    }

    /// Runs what the clerk's payment state machine asked for.
    pub(super) fn payment_step(&self, step: Step) {
        match step {
            Step::Create { attempt } => {
                let (platform, inbox, code, items) = {
                    let st = self.state.borrow();
                    let w = st.clerk.work();
                    (
                        st.terminal.platform.clone(),
                        st.terminal.inbox.clone(),
                        w.unified_code.clone().unwrap_or_default(),
                        w.fee_items(),
                    )
                };
                match platform {
                    None => self.payment_news(PaymentNews::Ordered(Err(pay::NEEDS_NETWORK.into()))),
                    Some(p) => pay::create_order(p, code, items, attempt, move |r| {
                        inbox.post(Report::Payment(PaymentNews::Ordered(r)))
                    }),
                }
            }
            Step::Follow(order) => {
                let mut st = self.state.borrow_mut();
                let Some(platform) = st.terminal.platform.clone() else {
                    return;
                };
                let inbox = st.terminal.inbox.clone();
                st.payment_follower = Some(pay::follow_order(platform, *order, move |o| {
                    inbox.post(Report::Payment(PaymentNews::State(o)))
                }));
            }
            Step::Receipt => self.print_payment(),
            Step::Cancel { order_id } => {
                let mut st = self.state.borrow_mut();
                st.payment_follower = None;
                if let Some(platform) = st.terminal.platform.clone() {
                    pay::cancel_order(platform, order_id);
                }
            }
        }
    }

    /// What a payment worker posted.
    pub(super) fn payment_news(&self, news: PaymentNews) {
        let step = {
            let mut st = self.state.borrow_mut();
            match news {
                PaymentNews::Ordered(r) => st.clerk.payment_ordered(r.map(Box::new)),
                PaymentNews::State(o) => st.clerk.payment_update(Box::new(o)),
                // The counter asks for no case's progress.
                PaymentNews::CaseProgress { .. } => None,
            }
        };
        if let Some(step) = step {
            self.payment_step(step);
        }
    }

    /// A pending order is withdrawn before the work it was for is dropped.
    pub(super) fn withdraw_payment(&self) {
        let step = self.state.borrow_mut().clerk.withdraw_payment();
        if let Some(step) = step {
            self.payment_step(step);
        }
    }

    /// 缴费凭证 for the paid order.
    fn print_payment(&self) {
        let receipt = {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            let (staff, ticket) = Self::desk_ticket(st);
            let w = st.clerk.work();
            let order = w.payment.as_ref().and_then(|p| p.paid_order());
            match (&w.matter, &w.person, &w.unified_code, order) {
                (Some(m), Some(p), Some(code), Some(o)) => {
                    let r = receipts::payment(
                        m,
                        p,
                        &receipts::Desk {
                            terminal: &st.terminal.core.profile.terminal.name,
                            window: st.cfg.window,
                            staff: &staff,
                            ticket: ticket.as_deref(),
                        },
                        code,
                        o,
                        Timestamp::now(),
                    );
                    st.say("已缴费，正在打印缴费凭证");
                    Some(r)
                }
                _ => None,
            }
        };
        if let Some(r) = receipt {
            self.print(r);
        }
    }
}
