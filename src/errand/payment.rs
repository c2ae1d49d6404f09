//! 缴费 (公共支付) of an accepted case, as a plain state machine shared by the kiosk's done
//! page and the counter's 收费: one order per case, fee set and attempt
//! (`core::payment::order_key` from the attempt counted here), followed while it is pending,
//! settled on what the platform says — paid (print the receipt with the 支付流水号 and the
//! 财政电子票据), expired or cancelled (a new attempt may be asked for), or unknown when the
//! follower gave up. Never a second order while one is pending. Each transition returns
//! the [`Step`] the app's loop runs; the loop decides nothing.
//!
//! Nothing of the payer's account is here: the order, its state, the payment number and
//! the fiscal receipt's QR. Pure: no I/O, no clock.

use crate::core::platform::wire::{PaymentOrder, PaymentState};

/// Where the payment of a case stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentStage {
    /// The order is being asked for.
    Creating,
    /// The order is pending: its QR is shown and the loop follows it.
    Pending(Box<PaymentOrder>),
    /// Paid: the 支付流水号 and the 财政电子票据.
    Paid(Box<PaymentOrder>),
    /// Expired or cancelled before it was paid.
    Ended(Box<PaymentOrder>),
    /// The platform stopped answering before the order left `pending`: the platform settles
    /// it, and 办件进度查询 shows what it decided.
    Unknown(Box<PaymentOrder>),
    /// No order to show; why, in the citizen's words (no network, an order refused by
    /// `core::payment::check_order`).
    Refused(String),
    /// The citizen chose to pay later (稍后在渝快办App缴费).
    Later,
}

/// What the loop does after a transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Ask the platform for the order of this attempt (checked before its QR is shown).
    Create { attempt: u32 },
    /// Follow the pending order until it leaves `pending`.
    Follow(Box<PaymentOrder>),
    /// Paid: print the receipt with the payment number and the fiscal receipt.
    Receipt,
    /// Withdraw the pending order (its QR can no longer be paid).
    Cancel { order_id: String },
}

/// The payment of one case: the attempt (orders asked for before this one) and its stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    attempt: u32,
    stage: PaymentStage,
}

impl Payment {
    /// Where it stands.
    pub fn stage(&self) -> &PaymentStage {
        &self.stage
    }

    /// The order paid, if it is.
    pub fn paid_order(&self) -> Option<&PaymentOrder> {
        match &self.stage {
            PaymentStage::Paid(o) => Some(o),
            _ => None,
        }
    }

    /// Whether an order is being made or shown (a QR may be paid now).
    pub fn busy(&self) -> bool {
        matches!(
            self.stage,
            PaymentStage::Creating | PaymentStage::Pending(_)
        )
    }

    /// Whether 重新缴费 may ask for a new attempt: the last order ended, was refused or its
    /// outcome is unknown.
    pub fn may_retry(&self) -> bool {
        matches!(
            self.stage,
            PaymentStage::Ended(_) | PaymentStage::Refused(_) | PaymentStage::Unknown(_)
        )
    }

    /// 缴费 / 收费 pressed with `payment` as it stands: the first order, or a new attempt
    /// after one ended; `None` when an order is already being made or shown (it is shown as
    /// it is) or the fee is paid.
    pub fn open(payment: &mut Option<Payment>) -> Option<Step> {
        let attempt = match payment {
            None => 0,
            Some(p) if p.busy() || p.paid_order().is_some() => return None,
            Some(p) => p.attempt + 1,
        };
        *payment = Some(Payment {
            attempt,
            stage: PaymentStage::Creating,
        });
        Some(Step::Create { attempt })
    }

    /// 重新缴费: a new attempt (a new key) after an order ended or none could be had.
    pub fn retry(&mut self) -> Option<Step> {
        if !self.may_retry() {
            return None;
        }
        self.attempt += 1;
        self.stage = PaymentStage::Creating;
        Some(Step::Create {
            attempt: self.attempt,
        })
    }

    /// The platform's order (already checked by the worker) or why there is none; only the
    /// order being asked for counts. `Some` when something changed, with the step to run.
    pub fn ordered(&mut self, result: Result<Box<PaymentOrder>, String>) -> Option<Option<Step>> {
        if self.stage != PaymentStage::Creating {
            return None;
        }
        match result {
            Err(reason) => {
                self.stage = PaymentStage::Refused(reason);
                Some(None)
            }
            Ok(order) => Some(self.settle(order)),
        }
    }

    /// The order as the platform last answered (the follower's news): only the order shown
    /// counts. `Some` when something changed, with the step to run.
    pub fn update(&mut self, order: Box<PaymentOrder>) -> Option<Option<Step>> {
        match &self.stage {
            PaymentStage::Pending(o) if o.order_id == order.order_id => Some(self.settle(order)),
            _ => None,
        }
    }

    fn settle(&mut self, order: Box<PaymentOrder>) -> Option<Step> {
        let following = matches!(self.stage, PaymentStage::Pending(_));
        let (stage, step) = match order.state {
            // The follower gave up on a pending order: its outcome is the platform's.
            PaymentState::Pending if following => (PaymentStage::Unknown(order), None),
            PaymentState::Pending => (
                PaymentStage::Pending(order.clone()),
                Some(Step::Follow(order)),
            ),
            PaymentState::Paid => (PaymentStage::Paid(order), Some(Step::Receipt)),
            PaymentState::Expired | PaymentState::Cancelled => (PaymentStage::Ended(order), None),
        };
        self.stage = stage;
        step
    }

    /// Pay later (or the citizen left): a pending order is withdrawn; a paid one stays paid.
    pub fn later(&mut self) -> Option<Step> {
        match &self.stage {
            PaymentStage::Paid(_) => None,
            PaymentStage::Pending(o) => {
                let order_id = o.order_id.clone();
                self.stage = PaymentStage::Later;
                Some(Step::Cancel { order_id })
            }
            _ => {
                self.stage = PaymentStage::Later;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(id: &str, state: PaymentState) -> Box<PaymentOrder> {
        Box::new(PaymentOrder {
            order_id: id.into(),
            case_code: "UC1".into(),
            state,
            amount_fen: 2000,
            items: Vec::new(),
            payee: "重庆市公安局".into(),
            qr_url: format!("https://platform.example/pay/{id}"),
            expires_at: "2026-11-27T10:15:00Z".into(),
            payment_no: (state == PaymentState::Paid).then(|| "PAY1".into()),
            fiscal_receipt_url: None,
        })
    }

    #[test]
    fn one_order_at_a_time_followed_until_paid_then_the_receipt() {
        let mut p = None;
        assert_eq!(Payment::open(&mut p), Some(Step::Create { attempt: 0 }));
        assert_eq!(
            Payment::open(&mut p),
            None,
            "never a second order meanwhile"
        );
        let pay = p.as_mut().unwrap();
        assert_eq!(
            pay.update(order("p1", PaymentState::Paid)),
            None,
            "news of an order not shown"
        );
        assert_eq!(
            pay.ordered(Ok(order("p1", PaymentState::Pending))),
            Some(Some(Step::Follow(order("p1", PaymentState::Pending))))
        );
        assert_eq!(pay.ordered(Ok(order("p2", PaymentState::Pending))), None);
        assert_eq!(pay.update(order("p9", PaymentState::Paid)), None);
        assert_eq!(
            pay.update(order("p1", PaymentState::Paid)),
            Some(Some(Step::Receipt))
        );
        assert!(pay.paid_order().is_some());
        assert_eq!(pay.later(), None, "paid stays paid");
        assert!(pay.paid_order().is_some());
        assert_eq!(Payment::open(&mut p), None, "nothing more to pay");
    }

    #[test]
    fn an_ended_refused_or_unknown_order_allows_a_new_attempt_with_a_new_key() {
        let mut p = None;
        Payment::open(&mut p);
        let pay = p.as_mut().unwrap();
        assert_eq!(pay.retry(), None, "not while an order is being made");
        pay.ordered(Ok(order("p1", PaymentState::Pending)));
        assert_eq!(pay.update(order("p1", PaymentState::Expired)), Some(None));
        assert!(matches!(pay.stage(), PaymentStage::Ended(_)));
        assert_eq!(pay.retry(), Some(Step::Create { attempt: 1 }));
        pay.ordered(Err("暂时连不上".into()));
        assert_eq!(pay.stage(), &PaymentStage::Refused("暂时连不上".into()));
        assert_eq!(Payment::open(&mut p), Some(Step::Create { attempt: 2 }));
        let pay = p.as_mut().unwrap();
        pay.ordered(Ok(order("p3", PaymentState::Pending)));
        // The follower gave up while the order was still pending.
        assert_eq!(pay.update(order("p3", PaymentState::Pending)), Some(None));
        assert!(matches!(pay.stage(), PaymentStage::Unknown(_)));
        assert_eq!(pay.retry(), Some(Step::Create { attempt: 3 }));
        pay.ordered(Ok(order("p4", PaymentState::Pending)));
        assert_eq!(
            pay.later(),
            Some(Step::Cancel {
                order_id: "p4".into()
            })
        );
        assert_eq!(pay.stage(), &PaymentStage::Later);
    }
}
