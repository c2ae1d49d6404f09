//! 公共支付 calls to the platform, each on a worker thread: the order for a submitted case's
//! fee (checked by `core::payment::check_order` before anyone may show its QR), following
//! it until it leaves `pending`, withdrawing it, and a case's state for 办件进度查询 (待缴费 /
//! 已缴费, the waybill). Results go to the callbacks, which the apps post to their inbox.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::core::payment;
use crate::core::platform::wire::{CaseProgress, PaymentItem, PaymentOrder, PaymentOrderRequest};
use crate::terminal::link::PlatformLink;

/// What the payment workers found, as they post it to the inbox.
#[derive(Debug, Clone)]
pub enum PaymentNews {
    /// The platform's order for a case's fee, checked before its QR may be shown
    /// (`core::payment::check_order`), or why there is none (in the citizen's words).
    Ordered(Result<PaymentOrder, String>),
    /// A followed order as the platform last answered (no longer pending, or its time up).
    State(PaymentOrder),
    /// How the platform says the case `unified_code` stands (fee, waybill).
    CaseProgress {
        unified_code: String,
        result: Result<CaseProgress, String>,
    },
}

/// What the citizen is told when the platform cannot be reached for a payment.
pub const NEEDS_NETWORK: &str =
    "暂时连不上政务服务平台，缴费需要联网；办件已提交，可稍后在渝快办App缴费";

/// How long one long-poll of a followed order may be held by the platform.
const POLL_WAIT: Duration = Duration::from_secs(10);

/// Asks the platform, on a worker thread, for the order of `items` for the case
/// `case_code` (idempotency key from case, items and `attempt`), and checks it: this case,
/// the catalogue's fee, a QR of the configured platform. `done` gets the order, or the
/// reason in the citizen's words (the platform's own error is logged).
pub fn create_order(
    platform: Arc<PlatformLink>,
    case_code: String,
    items: Vec<PaymentItem>,
    attempt: u32,
    done: impl FnOnce(Result<PaymentOrder, String>) + Send + 'static,
) {
    let spawned = std::thread::Builder::new()
        .name("payment-order".into())
        .spawn(move || {
            let key = payment::order_key(&case_code, &items, attempt);
            let request = PaymentOrderRequest {
                case_code: case_code.clone(),
                items: items.clone(),
            };
            let answer = platform
                .runtime()
                .block_on(platform.client.create_payment_order(key, &request))
                .map_err(|e| {
                    tracing::warn!(error = %e, "payment order not created");
                    NEEDS_NETWORK.to_owned()
                })
                .and_then(|order| {
                    payment::check_order(&order, &case_code, &items, &platform.base_url())
                        .map(|()| order)
                        .map_err(|refusal| {
                            tracing::warn!(reason = ?refusal, "payment order refused before its QR was shown");
                            refusal.to_string()
                        })
                });
            done(answer);
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "payment order not started");
    }
}

/// A running follower of one order; dropping it (or [`Follower::stop`]) stops it after the
/// poll in flight, and what it finds then is not reported.
#[derive(Debug)]
pub struct Follower {
    stop: Arc<AtomicBool>,
}

impl Follower {
    /// Stops following (the citizen left, or another order is followed now).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Follows `order` on a worker thread (`core::payment::follow`: long-polls, backoff, the
/// platform's state the only truth) until it is no longer pending or its time is up; `done`
/// gets the last state seen, unless the follower was stopped first.
pub fn follow_order(
    platform: Arc<PlatformLink>,
    order: PaymentOrder,
    done: impl FnOnce(PaymentOrder) + Send + 'static,
) -> Follower {
    if let Some(sim) = platform.sim() {
        // The demo: how to play the citizen's phone paying (an order id is not personal).
        tracing::info!(
            "demo payment: curl -X POST http://{}/admin/payments/{}/pay",
            sim.addr(),
            order.order_id
        );
    }
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let spawned = std::thread::Builder::new()
        .name("payment-follow".into())
        .spawn(move || {
            let last = platform.runtime().block_on(payment::follow(
                &platform.client,
                order,
                POLL_WAIT,
                || flag.load(Ordering::Relaxed),
            ));
            if !flag.load(Ordering::Relaxed) {
                done(last);
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "payment follower not started");
    }
    Follower { stop }
}

/// Withdraws a pending order on a worker thread; the platform's answer is only logged (a
/// payment that landed first wins, and 办件进度查询 shows it).
pub fn cancel_order(platform: Arc<PlatformLink>, order_id: String) {
    let spawned = std::thread::Builder::new()
        .name("payment-cancel".into())
        .spawn(move || {
            match platform
                .runtime()
                .block_on(platform.client.cancel_payment_order(&order_id))
            {
                Ok(o) => tracing::info!(state = ?o.state, "payment order withdrawn"),
                Err(e) => tracing::warn!(error = %e, "payment order not withdrawn"),
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "payment cancel not started");
    }
}

/// Asks the platform, on a worker thread, how the case `unified_code` stands (its fee and
/// waybill for 办件进度查询); `done` gets the code and the answer, or what went wrong.
pub fn case_progress(
    platform: Arc<PlatformLink>,
    unified_code: String,
    done: impl FnOnce(String, Result<CaseProgress, String>) + Send + 'static,
) {
    let spawned = std::thread::Builder::new()
        .name("case-progress".into())
        .spawn(move || {
            let answer = platform
                .runtime()
                .block_on(platform.client.case_status(&unified_code))
                .map_err(|e| e.to_string());
            done(unified_code, answer);
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "case progress look-up not started");
    }
}
