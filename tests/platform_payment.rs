//! 公共支付 against the simulator over real HTTP on loopback: an order for a submitted
//! case's catalogue fees, idempotent by its key and never a second one while one is
//! pending, long-polled to paid (also when the notification is lost, and through a slow
//! platform), expiry and cancellation, a payment after expiry reconciled by the platform's
//! state without a second charge, and 办件进度查询 showing 待缴费/已缴费 (and the waybill of a
//! case posted to a mailing address).

mod common;

use std::time::{Duration, Instant};

use common::sim::{demo_client, register_demo};
use uuid::Uuid;
use ykb_terminal::core::domain::Matter;
use ykb_terminal::core::payment::{self, check_order, fee_items, order_key};
use ykb_terminal::core::platform::wire::{self, FeeStatus, PaymentOrderRequest, PaymentState};
use ykb_terminal::core::platform::{Platform, PlatformClient, PlatformError};
use ykb_terminal::sim::platform::{self as sim, Faults, SimHandle, SimOptions};

async fn registered_at_a_new_sim() -> (SimHandle, PlatformClient) {
    let h = sim::start("127.0.0.1:0".parse().unwrap(), SimOptions::default())
        .await
        .unwrap();
    let c = demo_client(&h, Duration::from_secs(8));
    register_demo(&c).await;
    (h, c)
}

/// The published catalogue's first matter with a fee, and one without.
async fn fee_and_free_matters(c: &PlatformClient) -> (Matter, Matter) {
    let snap = c.catalog_snapshot("500103", None).await.unwrap();
    let mut ms = snap.matters.into_iter().map(|p| p.matter);
    let paid = ms
        .clone()
        .find(|m| !m.fees.is_empty())
        .expect("a fee matter");
    let free = ms.find(|m| m.fees.is_empty()).expect("a free matter");
    (paid, free)
}

/// Submits a case of `matter`; its 统一办件编码.
async fn submitted(c: &PlatformClient, matter: &Matter) -> String {
    let body = serde_json::json!({ "matters": [matter.task_code.as_str()], "form": {} });
    c.submit_case(Uuid::now_v7(), body.to_string().as_bytes())
        .await
        .unwrap()
        .unified_code
}

fn request(case: &str, m: &Matter) -> PaymentOrderRequest {
    PaymentOrderRequest {
        case_code: case.into(),
        items: fee_items([m], &[]),
    }
}

#[tokio::test]
async fn one_order_per_case_and_fee_set_and_none_while_one_is_pending() {
    let (h, c) = registered_at_a_new_sim().await;
    let (m, _) = fee_and_free_matters(&c).await;
    let case = submitted(&c, &m).await;
    let req = request(&case, &m);
    let key = order_key(&case, &req.items, 0);
    let first = c.create_payment_order(key, &req).await.unwrap();
    check_order(&first, &case, &req.items, &h.base_url())
        .expect("the order matches the catalogue fee and the platform's host");
    assert_eq!(first.state, PaymentState::Pending);
    assert_eq!(
        first.amount_fen,
        m.fees.iter().map(|f| f.amount_fen).sum::<u64>()
    );
    assert_eq!(first.payee, sim::PAYEE);
    assert!(first.payment_no.is_none() && first.fiscal_receipt_url.is_none());
    // A retry with the same key, and a new key while it is pending: the same order.
    let again = c.create_payment_order(key, &req).await.unwrap();
    let other_key = order_key(&case, &req.items, 1);
    let second = c.create_payment_order(other_key, &req).await.unwrap();
    assert_eq!(again.order_id, first.order_id);
    assert_eq!(second.order_id, first.order_id);
    assert_eq!(h.payment_orders().len(), 1);
    // The same key with other content is refused.
    let mut changed = req.clone();
    changed.items[0].amount_fen += 1;
    let err = c.create_payment_order(key, &changed).await.unwrap_err();
    assert!(
        matches!(&err, PlatformError::ItemRejected { status: 422, code, .. } if code == "idempotency_conflict"),
        "{err}"
    );
    // 办件进度查询 says 待缴费.
    let p = c.case_status(&case).await.unwrap();
    assert_eq!(p.fee_status, Some(FeeStatus::Unpaid));
}

#[tokio::test]
async fn an_order_for_other_amounts_or_a_free_or_unknown_case_is_refused() {
    let (h, c) = registered_at_a_new_sim().await;
    let (m, free) = fee_and_free_matters(&c).await;
    let case = submitted(&c, &m).await;
    let mut req = request(&case, &m);
    req.items[0].amount_fen = 1;
    let err = c
        .create_payment_order(order_key(&case, &req.items, 0), &req)
        .await
        .unwrap_err();
    assert!(format!("{err}").contains("收费标准"), "{err}");
    let free_case = submitted(&c, &free).await;
    let p = c.case_status(&free_case).await.unwrap();
    assert_eq!(p.fee_status, None, "a free matter has no fee status");
    let req = request(&free_case, &m);
    assert!(c
        .create_payment_order(order_key(&free_case, &req.items, 0), &req)
        .await
        .is_err());
    let req = request("500000000000000", &m);
    let err = c
        .create_payment_order(order_key("500000000000000", &req.items, 0), &req)
        .await
        .unwrap_err();
    assert!(
        matches!(err, PlatformError::Rejected { status: 404, .. }),
        "{err}"
    );
    assert!(h.payment_orders().is_empty());
}

/// Creates the order of a fresh fee case.
async fn pending_order(h: &SimHandle, c: &PlatformClient) -> (String, wire::PaymentOrder) {
    let (m, _) = fee_and_free_matters(c).await;
    let case = submitted(c, &m).await;
    let req = request(&case, &m);
    let o = c
        .create_payment_order(order_key(&case, &req.items, 0), &req)
        .await
        .unwrap();
    assert_eq!(h.payment_orders().len(), 1);
    (case, o)
}

/// Follows `order` with long-polls of `wait` while the phone pays it after `pay_after`:
/// what following saw, what the payment made, and how long following took.
async fn follow_while_paying(
    h: &SimHandle,
    c: &PlatformClient,
    order: wire::PaymentOrder,
    wait: Duration,
    pay_after: Duration,
) -> (wire::PaymentOrder, wire::PaymentOrder, Duration) {
    let id = order.order_id.clone();
    let started = Instant::now();
    let (seen, paid) = tokio::join!(payment::follow(c, order, wait, || false), async {
        tokio::time::sleep(pay_after).await;
        h.pay_order(&id).unwrap()
    });
    (seen, paid, started.elapsed())
}

#[tokio::test]
async fn a_long_poll_wakes_when_the_phone_pays_and_the_case_shows_paid() {
    let (h, c) = registered_at_a_new_sim().await;
    let (case, order) = pending_order(&h, &c).await;
    let id = order.order_id.clone();
    let (seen, paid, took) = follow_while_paying(
        &h,
        &c,
        order,
        Duration::from_secs(5),
        Duration::from_millis(300),
    )
    .await;
    assert_eq!(seen.state, PaymentState::Paid);
    assert_eq!(seen, paid);
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(seen
        .payment_no
        .as_deref()
        .is_some_and(|n| n.starts_with("ZF")));
    assert!(seen
        .fiscal_receipt_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://")));
    // Paying again charges nothing more; a new order for the case is the paid one.
    h.pay_order(&id).unwrap();
    assert_eq!(h.payment_orders()[0].charges, 1);
    let (m, _) = fee_and_free_matters(&c).await;
    let req = request(&case, &m);
    let again = c
        .create_payment_order(order_key(&case, &req.items, 5), &req)
        .await
        .unwrap();
    assert_eq!((again.order_id, again.state), (id, PaymentState::Paid));
    assert_eq!(
        c.case_status(&case).await.unwrap().fee_status,
        Some(FeeStatus::Paid)
    );
}

#[tokio::test]
async fn a_lost_notification_or_a_slow_platform_still_ends_paid() {
    let (h, c) = registered_at_a_new_sim().await;
    h.set_faults(Faults {
        payment_lost_notification: true,
        latency_ms: 400,
        ..Default::default()
    });
    let (_, order) = pending_order(&h, &c).await;
    // Paid after the 400 ms latency, while the long-poll waits.
    let (seen, _, took) = follow_while_paying(
        &h,
        &c,
        order,
        Duration::from_secs(3),
        Duration::from_millis(900),
    )
    .await;
    assert_eq!(seen.state, PaymentState::Paid);
    // Not woken: seen by the next poll, after the first long-poll ran out (the platform
    // counts a wait of 3 s in whole seconds, so at least 2 s; woken it would be ~0.9 s).
    assert!(took >= Duration::from_secs(2), "{took:?}");
    assert!(took < Duration::from_secs(7), "{took:?}");
    assert_eq!(h.payment_orders()[0].charges, 1);
}

#[tokio::test]
async fn an_expired_order_is_not_paid_and_a_new_one_may_be_asked_for() {
    let (h, c) = registered_at_a_new_sim().await;
    h.set_faults(Faults {
        payment_ttl_secs: Some(1),
        ..Default::default()
    });
    let (case, order) = pending_order(&h, &c).await;
    let id = order.order_id.clone();
    let seen = payment::follow(&c, order, Duration::from_secs(5), || false).await;
    assert_eq!(seen.state, PaymentState::Expired);
    assert!(h.pay_order(&id).unwrap_err().contains("过期"));
    assert_eq!(h.payment_orders()[0].charges, 0);
    assert_eq!(
        c.case_status(&case).await.unwrap().fee_status,
        Some(FeeStatus::Unpaid),
        "the case stays submitted and unpaid"
    );
    // 重新缴费: the next attempt's key makes a new order.
    let (m, _) = fee_and_free_matters(&c).await;
    let req = request(&case, &m);
    let next = c
        .create_payment_order(order_key(&case, &req.items, 1), &req)
        .await
        .unwrap();
    assert_ne!(next.order_id, id);
    assert_eq!(next.state, PaymentState::Pending);
}

#[tokio::test]
async fn a_payment_after_the_kiosk_gave_up_is_reconciled_and_charged_once() {
    let (h, c) = registered_at_a_new_sim().await;
    h.set_faults(Faults {
        payment_after_expiry: true,
        ..Default::default()
    });
    let (case, order) = pending_order(&h, &c).await;
    // The citizen chose 稍后在渝快办App缴费: the kiosk cancels …
    let cancelled = c.cancel_payment_order(&order.order_id).await.unwrap();
    assert_eq!(cancelled.state, PaymentState::Cancelled);
    // … and the phone's payment lands anyway: the platform's state wins.
    let paid = h.pay_order(&order.order_id).unwrap();
    assert_eq!(paid.state, PaymentState::Paid);
    let now = c
        .payment_order(&order.order_id, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(now.state, PaymentState::Paid);
    assert_eq!(
        c.case_status(&case).await.unwrap().fee_status,
        Some(FeeStatus::Paid)
    );
    // A later attempt gets the paid order, not a second charge.
    let (m, _) = fee_and_free_matters(&c).await;
    let req = request(&case, &m);
    let again = c
        .create_payment_order(order_key(&case, &req.items, 1), &req)
        .await
        .unwrap();
    assert_eq!(again.order_id, order.order_id);
    assert_eq!(h.payment_orders().len(), 1);
    assert_eq!(h.payment_orders()[0].charges, 1);
}

#[tokio::test]
async fn the_citizen_leaving_stops_following_at_once() {
    let (h, c) = registered_at_a_new_sim().await;
    let (_, order) = pending_order(&h, &c).await;
    let started = Instant::now();
    let seen = payment::follow(&c, order, Duration::from_secs(5), || true).await;
    assert_eq!(seen.state, PaymentState::Pending);
    assert!(started.elapsed() < Duration::from_millis(500));
}

#[tokio::test]
async fn a_case_posted_to_a_mailing_address_shows_its_waybill_and_one_collected_at_a_window_none() {
    let (_h, c) = registered_at_a_new_sim().await;
    let (m, _) = fee_and_free_matters(&c).await;
    let posted = serde_json::json!({
        "matters": [m.task_code.as_str()],
        "form": { "f_post_address": "重庆市渝中区解放碑街道1号", "f_phone": "13800000000" },
        "delivery": { "method": "post", "address": "重庆市渝中区解放碑街道1号", "phone": "13800000000" },
    });
    let code = c
        .submit_case(Uuid::now_v7(), posted.to_string().as_bytes())
        .await
        .unwrap()
        .unified_code;
    let waybill = c
        .case_status(&code)
        .await
        .unwrap()
        .waybill
        .expect("a waybill");
    assert!(
        waybill.starts_with("EMS") && waybill.len() == 14,
        "{waybill}"
    );
    assert_eq!(
        c.case_status(&code).await.unwrap().waybill.as_deref(),
        Some(waybill.as_str()),
        "the same waybill every time"
    );
    let collected = submitted(&c, &m).await;
    assert_eq!(c.case_status(&collected).await.unwrap().waybill, None);
    // A mailing address typed with 窗口领取 chosen is not posted: the delivery decides.
    let at_window = serde_json::json!({
        "matters": [m.task_code.as_str()],
        "form": { "f_post_address": "重庆市渝中区解放碑街道1号" },
        "delivery": { "method": "window" },
    });
    let code = c
        .submit_case(Uuid::now_v7(), at_window.to_string().as_bytes())
        .await
        .unwrap()
        .unified_code;
    assert_eq!(c.case_status(&code).await.unwrap().waybill, None);
}

/// 帮办代办 only where the catalogue has a 代办 answer: a case with an agent for an
/// in-person matter is refused as an item (final, not retried); one for a matter that allows
/// it is accepted.
#[tokio::test]
async fn the_platform_refuses_an_agent_for_a_matter_that_must_be_applied_for_in_person() {
    let (_h, c) = registered_at_a_new_sim().await;
    let catalog = ykb_terminal::core::catalog::Catalog::demo().unwrap();
    let in_person = catalog
        .matters
        .iter()
        .find(|m| m.name == "居民身份证换领")
        .unwrap();
    let by_agent = catalog
        .matters
        .iter()
        .find(|m| m.name == "老年人优待证申领")
        .unwrap();
    assert!(!in_person.allows_agent() && by_agent.allows_agent());
    let with_agent = |code: &str| {
        serde_json::json!({
            "matters": [code],
            "agent": {
                "person": { "name": "李喆", "id_number": "500105198511220024", "address": "" },
                "relationship": "child"
            },
        })
        .to_string()
    };
    let refused = c
        .submit_case(
            Uuid::now_v7(),
            with_agent(in_person.task_code.as_str()).as_bytes(),
        )
        .await
        .unwrap_err();
    assert!(!refused.is_retryable(), "{refused:?}");
    assert!(
        refused.to_string().contains("本事项需本人办理"),
        "{refused}"
    );
    c.submit_case(
        Uuid::now_v7(),
        with_agent(by_agent.task_code.as_str()).as_bytes(),
    )
    .await
    .expect("an agent where the catalogue allows one");
}
