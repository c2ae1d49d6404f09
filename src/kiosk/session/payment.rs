//! 缴费 (公共支付) at the kiosk: once a fee matter's case has its unified code, the done page
//! offers 缴费; the session asks the loop for the platform's order (one per case, fee set
//! and attempt — `core::payment::order_key`), shows its QR while it is pending, and settles
//! on what the platform says: paid (the receipt is printed again with the 支付流水号 and the
//! 财政电子票据's QR), expired or cancelled (重新缴费 asks for a new attempt, or
//! 稍后在渝快办App缴费). The case stays submitted whatever happens here; 办件进度查询 shows the
//! platform's 待缴费 / 已缴费. The state machine is `errand::payment`'s, shared with the
//! counter's 收费; here its steps become the session's effects.
//!
//! Nothing of the payer's account is here: the order, its state, the payment number and
//! the fiscal receipt's QR.

use crate::core::payment;
use crate::core::platform::wire::{PaymentItem, PaymentOrder};
pub use crate::errand::payment::PaymentStage;
use crate::errand::payment::{Payment, Step};

use super::{Effect, Outcome, Screen, Session, SubmitResult};

impl Session {
    /// The fee items of the errand's matter (empty for a free matter).
    pub fn fee_items(&self) -> Vec<PaymentItem> {
        self.matter
            .as_ref()
            .map(|m| payment::fee_items([m], &self.chosen()))
            .unwrap_or_default()
    }

    /// Where the payment stands; `None` before 缴费 was tapped.
    pub fn payment(&self) -> Option<&PaymentStage> {
        self.payment.as_ref().map(Payment::stage)
    }

    /// The order paid for the citizen's case, if any.
    pub fn paid_order(&self) -> Option<&PaymentOrder> {
        self.payment.as_ref().and_then(Payment::paid_order)
    }

    /// Whether the done page offers 缴费: the case has its unified code, the matter has a
    /// fee, and it is not paid yet.
    pub fn can_pay(&self) -> bool {
        matches!(self.submit, Some(SubmitResult::Submitted { .. }))
            && !self.fee_items().is_empty()
            && self.paid_order().is_none()
    }

    /// Whether an order is shown and followed now (the idle countdown waits for it: the
    /// citizen is paying on the phone, not touching the screen).
    pub(super) fn paying(&self) -> bool {
        self.current() == &Screen::Payment && self.payment.as_ref().is_some_and(Payment::busy)
    }

    /// 缴费 on the done page: the order is asked for (again after one ended); a pending one
    /// is shown as it is — never a second order while one is pending.
    pub(super) fn on_open_payment(&mut self) -> Outcome {
        if self.current() != &Screen::Done || !self.can_pay() {
            return Outcome::None;
        }
        if let Some(step) = Payment::open(&mut self.payment) {
            self.payment_step(step);
        }
        self.open(Screen::Payment);
        Outcome::Changed
    }

    /// 重新缴费 after an order ended or none could be had: a new attempt, a new key.
    pub(super) fn on_retry_payment(&mut self) -> Outcome {
        if self.current() != &Screen::Payment {
            return Outcome::None;
        }
        match self.payment.as_mut().and_then(Payment::retry) {
            Some(step) => {
                self.payment_step(step);
                Outcome::Changed
            }
            None => Outcome::None,
        }
    }

    /// What the shared state machine asks for, as the session's effects.
    fn payment_step(&mut self, step: Step) {
        let effect = match step {
            Step::Create { attempt } => {
                let Some(SubmitResult::Submitted { unified_code, .. }) = &self.submit else {
                    return;
                };
                Effect::CreatePaymentOrder {
                    case_code: unified_code.clone(),
                    items: self.fee_items(),
                    attempt,
                }
            }
            Step::Follow(order) => Effect::FollowPayment { order },
            // The receipt again, now with the payment number and the fiscal receipt.
            Step::Receipt => Effect::PrintCaseReceipt,
            Step::Cancel { order_id } => Effect::CancelPayment { order_id },
        };
        self.effects.push_back(effect);
    }

    /// The platform's order (checked by the loop against the case and the catalogue's fee),
    /// or why there is none.
    pub(super) fn on_payment_ordered(
        &mut self,
        result: Result<Box<PaymentOrder>, String>,
    ) -> Outcome {
        let Some(changed) = self.payment.as_mut().and_then(|p| p.ordered(result)) else {
            return Outcome::None;
        };
        if let Some(step) = changed {
            self.payment_step(step);
        }
        Outcome::Changed
    }

    /// The order as the platform last answered (the loop's follower, or the order just
    /// made): only the order shown counts.
    pub(super) fn on_payment_update(&mut self, order: Box<PaymentOrder>) -> Outcome {
        let Some(changed) = self.payment.as_mut().and_then(|p| p.update(order)) else {
            return Outcome::None;
        };
        if let Some(step) = changed {
            self.payment_step(step);
        }
        Outcome::Changed
    }

    /// 稍后在渝快办App缴费: a pending order is withdrawn (its QR can no longer be paid here),
    /// and the done page returns; the case stays submitted and unpaid.
    pub(super) fn on_pay_later(&mut self) -> Outcome {
        if self.current() != &Screen::Payment {
            return Outcome::None;
        }
        if let Some(step) = self.payment.as_mut().and_then(Payment::later) {
            self.payment_step(step);
        }
        self.stack.pop();
        Outcome::Changed
    }

    /// The page's countdown moves every second while an order is shown.
    pub(super) fn payment_tick(&mut self) -> Option<Outcome> {
        if !self.paying() {
            return None;
        }
        self.last_touch = self.now;
        Some(Outcome::Changed)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::core::domain::{IdNumber, Person};
    use crate::core::platform::wire::PaymentState;
    use crate::kiosk::session::Event;

    fn effects(s: &mut Session) -> Vec<Effect> {
        std::iter::from_fn(|| s.poll_effect()).collect()
    }

    /// 居民身份证换领 stored (已暂存) at `t`, on the done page.
    fn stored_renewal(t: Instant) -> Session {
        let mut s = Session::new(Duration::from_secs(60), t);
        s.handle(
            Event::CardRead(Person {
                name: "李哲".into(),
                id_number: IdNumber::complete("50010319800101123").unwrap(),
                address: "重庆市渝中区解放碑街道1号".into(),
            }),
            t,
        );
        let m = crate::core::catalog::demo_matter("居民身份证换领");
        s.handle(Event::ChooseMatter(Box::new(m)), t);
        for a in ["o_damaged", "o_minor_no", "o_pick_window"] {
            s.handle(Event::Answer(vec![a.into()]), t);
        }
        s.handle(Event::StartApply, t);
        s.handle(Event::FormNext, t);
        s.handle(Event::CaptureDone, t);
        s.sign_for_test(t);
        s.handle(Event::Submit, t);
        s.handle(Event::stored("c1", "7", None), t);
        assert_eq!(s.current(), &Screen::Done);
        effects(&mut s);
        s
    }

    fn delivered(s: &mut Session, t: Instant) {
        s.handle(
            Event::Delivered {
                case_id: "c1".into(),
                unified_code: "U-1".into(),
            },
            t,
        );
    }

    fn order(id: &str, state: PaymentState) -> Box<PaymentOrder> {
        let items = crate::core::payment::fee_items(
            [&crate::core::catalog::demo_matter("居民身份证换领")],
            &[],
        );
        let paid = state == PaymentState::Paid;
        Box::new(PaymentOrder {
            order_id: id.into(),
            case_code: "U-1".into(),
            amount_fen: crate::core::payment::total_fen(&items),
            items,
            payee: "收款单位".into(),
            qr_url: format!("https://127.0.0.1:8480/pay/{id}"),
            expires_at: "2099-01-01T00:00:00Z".into(),
            state,
            payment_no: paid.then(|| "ZF1".into()),
            fiscal_receipt_url: paid.then(|| "https://pjcy.example/e?code=1".into()),
        })
    }

    #[test]
    fn payment_is_offered_once_the_case_has_its_unified_code_and_asks_for_one_order() {
        let t = Instant::now();
        let mut s = stored_renewal(t);
        assert!(!s.can_pay(), "已暂存: no unified code to pay for yet");
        assert_eq!(s.handle(Event::OpenPayment, t), Outcome::None);
        delivered(&mut s, t);
        assert!(s.can_pay());
        assert_eq!(s.handle(Event::OpenPayment, t), Outcome::Changed);
        assert_eq!(s.current(), &Screen::Payment);
        let items = s.fee_items();
        assert_eq!(crate::core::payment::total_fen(&items), 2000);
        assert_eq!(
            effects(&mut s),
            [Effect::CreatePaymentOrder {
                case_code: "U-1".into(),
                items,
                attempt: 0
            }]
        );
        // Back to the done page and 缴费 again while the order is on its way: no second one.
        s.handle(Event::Back, t);
        assert_eq!(s.current(), &Screen::Done);
        s.handle(Event::OpenPayment, t);
        assert_eq!(s.current(), &Screen::Payment);
        assert!(effects(&mut s).is_empty());
    }

    #[test]
    fn a_pending_order_is_followed_and_once_paid_the_receipt_is_printed_again() {
        let t = Instant::now();
        let mut s = stored_renewal(t);
        delivered(&mut s, t);
        s.handle(Event::OpenPayment, t);
        effects(&mut s);
        s.handle(
            Event::PaymentOrdered(Ok(order("PO1", PaymentState::Pending))),
            t,
        );
        assert!(matches!(s.payment(), Some(PaymentStage::Pending(o)) if o.order_id == "PO1"));
        assert_eq!(
            effects(&mut s),
            [Effect::FollowPayment {
                order: order("PO1", PaymentState::Pending)
            }]
        );
        // Another order's news is not this one's.
        assert_eq!(
            s.handle(Event::PaymentUpdate(order("PO9", PaymentState::Paid)), t),
            Outcome::None
        );
        // While the citizen pays on the phone, the idle countdown waits.
        let later = t + Duration::from_secs(600);
        s.handle(Event::Tick, later);
        assert_eq!(s.countdown(), None);
        s.handle(
            Event::PaymentUpdate(order("PO1", PaymentState::Paid)),
            later,
        );
        assert_eq!(
            s.paid_order().and_then(|o| o.payment_no.as_deref()),
            Some("ZF1")
        );
        assert_eq!(effects(&mut s), [Effect::PrintCaseReceipt]);
        assert!(!s.can_pay(), "paid once, never again");
        s.handle(Event::Back, later);
        assert_eq!(s.current(), &Screen::Done);
        assert_eq!(s.handle(Event::OpenPayment, later), Outcome::None);
    }

    #[test]
    fn an_expired_order_offers_a_new_attempt_and_paying_later_withdraws_a_pending_one() {
        let t = Instant::now();
        let mut s = stored_renewal(t);
        delivered(&mut s, t);
        s.handle(Event::OpenPayment, t);
        s.handle(
            Event::PaymentOrdered(Ok(order("PO1", PaymentState::Pending))),
            t,
        );
        effects(&mut s);
        assert_eq!(
            s.handle(Event::RetryPayment, t),
            Outcome::None,
            "still pending"
        );
        s.handle(Event::PaymentUpdate(order("PO1", PaymentState::Expired)), t);
        assert!(matches!(s.payment(), Some(PaymentStage::Ended(_))));
        assert!(effects(&mut s).is_empty(), "no receipt for an unpaid order");
        s.handle(Event::RetryPayment, t);
        assert!(matches!(
            effects(&mut s).as_slice(),
            [Effect::CreatePaymentOrder { attempt: 1, .. }]
        ));
        s.handle(
            Event::PaymentOrdered(Ok(order("PO2", PaymentState::Pending))),
            t,
        );
        effects(&mut s);
        s.handle(Event::PayLater, t);
        assert_eq!(
            effects(&mut s),
            [Effect::CancelPayment {
                order_id: "PO2".into()
            }]
        );
        assert_eq!(s.current(), &Screen::Done);
        assert!(
            matches!(s.submit_result(), Some(SubmitResult::Submitted { .. })),
            "the case stays submitted"
        );
        assert!(s.can_pay(), "and can still be paid");
    }

    #[test]
    fn a_refused_order_says_why_and_a_follower_that_gave_up_leaves_the_outcome_open() {
        let t = Instant::now();
        let mut s = stored_renewal(t);
        delivered(&mut s, t);
        s.handle(Event::OpenPayment, t);
        s.handle(Event::PaymentOrdered(Err("金额不符".into())), t);
        assert_eq!(s.payment(), Some(&PaymentStage::Refused("金额不符".into())));
        // A late answer for the request already settled changes nothing.
        assert_eq!(
            s.handle(
                Event::PaymentOrdered(Ok(order("PO1", PaymentState::Pending))),
                t
            ),
            Outcome::None
        );
        s.handle(Event::RetryPayment, t);
        s.handle(
            Event::PaymentOrdered(Ok(order("PO1", PaymentState::Pending))),
            t,
        );
        effects(&mut s);
        s.handle(Event::PaymentUpdate(order("PO1", PaymentState::Pending)), t);
        assert!(matches!(s.payment(), Some(PaymentStage::Unknown(_))));
        assert!(effects(&mut s).is_empty());
        // An order already paid (a payment that landed late) is shown as paid.
        s.handle(Event::RetryPayment, t);
        s.handle(
            Event::PaymentOrdered(Ok(order("PO1", PaymentState::Paid))),
            t,
        );
        assert!(s.paid_order().is_some());
        // Home wipes it with the rest.
        s.handle(Event::Home, t);
        assert!(s.payment().is_none());
    }
}
