//! 公共支付: payment orders for a case's fee items. One order per idempotency key; while an
//! order of a case is pending, or once one is paid, a new request for that case gets that
//! order, never a second one. `GET` long-polls until the state leaves `pending`. The admin
//! call plays the citizen's phone paying; faults lose the notification (a long-poll is not
//! woken, the next poll sees it) or let a payment land after the order expired or was
//! cancelled (the platform's state wins: the order and the case are paid, charged once).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::{error, Inner, QueryArgs, Shared};
use crate::core::platform::wire::{self, PaymentItem, PaymentOrder, PaymentState};

/// 收款单位 of the simulator's orders.
pub const PAYEE: &str = "重庆市财政局非税收入汇缴结算户";

/// Seconds a new order stays payable unless the `payment_ttl_secs` fault says otherwise.
const DEFAULT_TTL_SECS: u64 = 300;

/// An order the simulator holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderRecord {
    /// The idempotency key it was created with.
    pub key: String,
    /// The order (its state as last settled).
    pub order: PaymentOrder,
    /// Unix seconds of `expires_at`.
    pub expires: i64,
    /// Times the citizen's money was taken for it (0 or 1, never more).
    pub charges: u32,
}

impl OrderRecord {
    /// Settles a pending order whose time ran out.
    fn settle(&mut self, now: i64) {
        if self.order.state == PaymentState::Pending && now >= self.expires {
            self.order.state = PaymentState::Expired;
        }
    }
}

/// The fee items the catalogue names for a case's matters, sorted.
fn catalogue_items(g: &Inner, body: &serde_json::Value) -> Vec<PaymentItem> {
    let matters = body
        .get("matters")
        .and_then(|m| m.as_array())
        .into_iter()
        .flatten()
        .filter_map(|c| c.as_str())
        .filter_map(|c| g.catalog.matters.get(c))
        .map(|e| &e.value);
    // The answers' own fees (邮寄费) count with the matters'.
    let chosen: Vec<String> = body
        .get("answers")
        .and_then(|a| a.as_object())
        .into_iter()
        .flat_map(|a| a.values())
        .filter_map(|v| v.as_array())
        .flatten()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    crate::core::payment::fee_items(matters, &chosen)
}

/// What `GET /v1/cases/{code}/status` says of the fee: `None` for a free matter.
pub(super) fn fee_status(
    g: &Inner,
    case_code: &str,
    body: &serde_json::Value,
) -> Option<wire::FeeStatus> {
    let paid = g
        .payments
        .values()
        .any(|r| r.order.case_code == case_code && r.order.state == PaymentState::Paid);
    if paid {
        Some(wire::FeeStatus::Paid)
    } else if catalogue_items(g, body).is_empty() {
        None
    } else {
        Some(wire::FeeStatus::Unpaid)
    }
}

fn rfc3339(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// `https://HOST/...` for the host the terminal reached the platform by.
fn platform_url(headers: &HeaderMap, path: &str) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("zwykb.cq.gov.cn");
    format!("https://{host}{path}")
}

pub(super) async fn create(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let key = match super::cases::idempotency_key(&headers) {
        Ok(k) => k,
        Err(r) => return *r,
    };
    let Ok(req) = serde_json::from_slice::<wire::PaymentOrderRequest>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "缴费订单请求不是约定的 JSON",
        );
    };
    let now = s.now();
    let ttl = s.faults().payment_ttl_secs.unwrap_or(DEFAULT_TTL_SECS);
    let mut g = s.lock();
    if let Some(id) = g.payment_keys.get(&key).cloned() {
        let rec = g.payments.get_mut(&id).expect("a key names a held order");
        if rec.order.case_code != req.case_code || rec.order.items != sorted(&req.items) {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_conflict",
                "同一幂等键的缴费订单内容不同，已拒绝",
            );
        }
        rec.settle(now);
        return Json(rec.order.clone()).into_response();
    }
    let Some(case) = g
        .cases
        .values()
        .find(|c| c.ack.unified_code == req.case_code)
    else {
        return error(
            StatusCode::NOT_FOUND,
            "case_not_found",
            "未找到该办件，请核对统一办件编码",
        );
    };
    let expected = catalogue_items(&g, &case.body);
    if expected.is_empty() || expected != sorted(&req.items) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "fee_mismatch",
            "缴费项目或金额与事项目录的收费标准不符",
        );
    }
    // One live order per case: a pending or paid one is the answer to a new key too.
    for rec in g.payments.values_mut() {
        rec.settle(now);
    }
    if let Some(rec) = g.payments.values().find(|r| {
        r.order.case_code == req.case_code
            && matches!(r.order.state, PaymentState::Pending | PaymentState::Paid)
    }) {
        let order = rec.order.clone();
        g.payment_keys.insert(key, order.order_id.clone());
        return Json(order).into_response();
    }
    g.payment_seq += 1;
    let order_id = format!(
        "PO{}{:06}",
        &rfc3339(now).replace('-', "")[..8],
        g.payment_seq
    );
    let expires = now + ttl as i64;
    let order = PaymentOrder {
        order_id: order_id.clone(),
        case_code: req.case_code,
        amount_fen: expected.iter().map(|i| i.amount_fen).sum(),
        items: expected,
        payee: PAYEE.into(),
        qr_url: platform_url(&headers, &format!("/pay/{order_id}")),
        expires_at: rfc3339(expires),
        state: PaymentState::Pending,
        payment_no: None,
        fiscal_receipt_url: None,
    };
    g.payment_keys.insert(key.clone(), order_id.clone());
    g.payments.insert(
        order_id,
        OrderRecord {
            key,
            order: order.clone(),
            expires,
            charges: 0,
        },
    );
    (StatusCode::CREATED, Json(order)).into_response()
}

fn sorted(items: &[PaymentItem]) -> Vec<PaymentItem> {
    let mut v = items.to_vec();
    v.sort();
    v
}

/// `?wait=` of `GET /v1/payments/orders/{id}`: seconds to hold a pending answer.
#[derive(Debug, Deserialize)]
pub(super) struct WaitQuery {
    #[serde(default)]
    wait: u64,
}

/// The order settled at `now`, and when it expires.
fn current(s: &Shared, id: &str) -> Option<(PaymentOrder, i64)> {
    let now = s.now();
    let mut g = s.lock();
    let rec = g.payments.get_mut(id)?;
    rec.settle(now);
    Some((rec.order.clone(), rec.expires))
}

pub(super) async fn get(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    QueryArgs(q): QueryArgs<WaitQuery>,
) -> Response {
    let until = s.now() + q.wait.min(wire::MAX_PAYMENT_WAIT_SECS) as i64;
    loop {
        // Register before reading, so a payment between the read and the wait still wakes us.
        let news = s.payment_news.notified();
        let Some((order, expires)) = current(&s, &id) else {
            return error(StatusCode::NOT_FOUND, "order_not_found", "未找到该缴费订单");
        };
        let now = s.now();
        if order.state != PaymentState::Pending || now >= until {
            return Json(order).into_response();
        }
        let wake = Duration::from_millis(((until.min(expires) - now).max(0) as u64) * 1000 + 50);
        let _ = tokio::time::timeout(wake, news).await;
    }
}

pub(super) async fn cancel(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let now = s.now();
    let mut g = s.lock();
    let Some(rec) = g.payments.get_mut(&id) else {
        return error(StatusCode::NOT_FOUND, "order_not_found", "未找到该缴费订单");
    };
    rec.settle(now);
    if rec.order.state == PaymentState::Pending {
        rec.order.state = PaymentState::Cancelled;
    }
    let order = rec.order.clone();
    drop(g);
    s.payment_news.notify_waiters();
    Json(order).into_response()
}

/// Plays the citizen's phone paying order `id`: the money is taken once; paying a paid
/// order again changes nothing. An expired or cancelled order refuses, unless the
/// `payment_after_expiry` fault lets the payment land late.
pub(super) fn pay(s: &Shared, id: &str) -> Result<PaymentOrder, String> {
    let now = s.now();
    let faults = s.faults();
    let mut g = s.lock();
    let seq = g.payment_seq;
    let rec = g.payments.get_mut(id).ok_or("未找到该缴费订单")?;
    rec.settle(now);
    match rec.order.state {
        PaymentState::Paid => return Ok(rec.order.clone()),
        PaymentState::Pending => {}
        PaymentState::Expired | PaymentState::Cancelled if faults.payment_after_expiry => {}
        PaymentState::Expired => return Err("订单已过期，未扣款".into()),
        PaymentState::Cancelled => return Err("订单已取消，未扣款".into()),
    }
    rec.charges += 1;
    rec.order.state = PaymentState::Paid;
    let h = wire::sha256_hex(format!("pay|{id}|{seq}|{now}").as_bytes()).to_uppercase();
    rec.order.payment_no = Some(format!("ZF{}{}", &rec.order.order_id[2..10], &h[..12]));
    rec.order.fiscal_receipt_url = Some(format!(
        "https://pjcy.cqczj.gov.cn/einvoice/verify?code=5001{}",
        &h[12..28]
    ));
    let order = rec.order.clone();
    drop(g);
    if !faults.payment_lost_notification {
        s.payment_news.notify_waiters();
    }
    Ok(order)
}

pub(super) async fn admin_pay(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    match pay(&s, &id) {
        Ok(order) => Json(order).into_response(),
        Err(reason) => error(StatusCode::CONFLICT, "not_payable", reason),
    }
}

pub(super) async fn admin_list(State(s): State<Arc<Shared>>) -> Response {
    Json(s.lock().payments.values().cloned().collect::<Vec<_>>()).into_response()
}
