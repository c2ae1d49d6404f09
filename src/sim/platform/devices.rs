//! Terminals: registration with an enrolment code, request authentication (signature,
//! clock, nonce, revoked credentials), heartbeats, self-test reports, revocation, ticket
//! number leases and notices.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::{error, Inner, JsonBody, Shared};
use crate::core::platform::wire;
use crate::core::sync::DEMO_ENROLMENT_CODE;
/// A self-test report the simulator received.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SelftestRecord {
    /// The device that sent it.
    pub device_id: String,
    /// The id given in the receipt.
    pub report_id: String,
    /// When it arrived (RFC 3339).
    pub received_at: String,
    /// The report as received.
    pub report: wire::SelftestReport,
}

/// `POST /admin/devices/{device}/revoke`: stop accepting a device's credential.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevokeReason {
    /// Operations revoked it (401 `credential_revoked`).
    #[default]
    Revoked,
    /// It ran out (401 `credential_expired`).
    Expired,
}

/// The body of `POST /admin/devices/{device}/revoke`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RevokeRequest {
    /// Why the credential stops working.
    pub reason: RevokeReason,
}

pub(super) fn authenticate(
    s: &Shared,
    method: &Method,
    path_q: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<(), Box<Response>> {
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let unauthorized = |code: &str, msg: &str| Box::new(error(StatusCode::UNAUTHORIZED, code, msg));
    let device = h(wire::H_DEVICE);
    let Ok(ts) = h(wire::H_TIMESTAMP).parse::<i64>() else {
        return Err(unauthorized("bad_timestamp", "缺少或无效的请求时间戳"));
    };
    if (ts - now).abs() > wire::MAX_SKEW_SECS {
        return Err(unauthorized(
            "clock_skew",
            "终端时钟与平台相差超过 300 秒，请校准终端时间",
        ));
    }
    let nonce = h(wire::H_NONCE);
    if nonce.len() < 8 || nonce.len() > 64 {
        return Err(unauthorized("bad_nonce", "缺少或无效的请求随机数"));
    }
    let mut g = s.lock();
    let Some(secret) = g.devices.get(device).cloned() else {
        return Err(unauthorized("unknown_device", "终端未注册，请重新注册"));
    };
    match g.revoked.get(device) {
        Some(RevokeReason::Revoked) => {
            return Err(unauthorized(
                "credential_revoked",
                "设备凭据已被平台注销，请申请新的注册码后重新注册",
            ))
        }
        Some(RevokeReason::Expired) => {
            return Err(unauthorized(
                "credential_expired",
                "设备凭据已过期，请申请新的注册码后重新注册",
            ))
        }
        None => {}
    }
    if !wire::verify_request(
        &secret,
        method.as_str(),
        path_q,
        ts,
        nonce,
        body,
        h(wire::H_SIGNATURE),
    ) {
        return Err(unauthorized("bad_signature", "请求签名无效"));
    }
    let key = format!("{device}/{nonce}");
    if g.nonces.contains_key(&key) {
        return Err(unauthorized("replay", "请求随机数已使用（疑似重放）"));
    }
    // Nonces only need remembering while their timestamps are inside the window.
    if g.nonces.len() > 100_000 {
        g.nonces
            .retain(|_, t| (now - *t).abs() <= wire::MAX_SKEW_SECS);
    }
    g.nonces.insert(key, ts);
    Ok(())
}

pub(super) async fn register(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    use base64::Engine;
    let req: wire::RegisterRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("注册请求无效：{e}"),
            )
        }
    };
    if req.enrolment_code != DEMO_ENROLMENT_CODE {
        return error(
            StatusCode::FORBIDDEN,
            "enrolment_refused",
            "注册码无效或已使用，请向平台运维申请新的注册码",
        );
    }
    let mut secret = [0u8; 32];
    if getrandom::fill(&mut secret).is_err() {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "rng", "无法生成密钥");
    }
    let mut g = s.lock();
    let device_id = format!("sim-{}-{}", req.region_code, g.devices.len() + 1);
    g.devices.insert(device_id.clone(), secret.to_vec());
    Json(wire::RegisterResponse {
        device_id,
        secret: base64::engine::general_purpose::STANDARD.encode(secret),
        catalog_key: hex::encode(s.key.verifying_key().as_bytes()),
    })
    .into_response()
}

/// The signing device's id (authenticated by the guard before any handler runs).
fn device_of(headers: &HeaderMap) -> String {
    headers
        .get(wire::H_DEVICE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Keeps `head` in `device`'s anchors unless it is the one last received.
fn anchor(g: &mut Inner, device: &str, head: Option<&wire::AuditHead>) {
    let Some(h) = head else { return };
    let list = g.audit_anchors.entry(device.to_owned()).or_default();
    if list
        .last()
        .is_some_and(|l| l.seq == h.seq && l.hash == h.hash)
    {
        return;
    }
    list.push(wire::AuditAnchor {
        seq: h.seq,
        hash: h.hash.clone(),
        received_at: jiff::Timestamp::now().to_string(),
    });
}

/// The audit heads the platform keeps for the signing device.
pub(super) async fn audit_anchors(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let device = device_of(&headers);
    let anchors = s
        .lock()
        .audit_anchors
        .get(&device)
        .cloned()
        .unwrap_or_default();
    Json(wire::AuditAnchors { anchors }).into_response()
}

pub(super) async fn heartbeat(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    JsonBody(hb): JsonBody<wire::Heartbeat>,
) -> Response {
    let device = device_of(&headers);
    let (v, commands, rollout) = {
        let mut g = s.lock();
        anchor(&mut g, &device, hb.audit_head.as_ref());
        let commands = super::commands::exchange(&mut g, &device, &hb.command_results);
        super::admin::keep_update(&mut g.updates, &device, hb.update.as_ref());
        if g.heartbeats.len() >= 100 {
            g.heartbeats.remove(0);
        }
        g.heartbeats.push(hb);
        (g.catalog.version, commands, g.rollout.clone())
    };
    Json(wire::HeartbeatAck {
        server_time: s.now(),
        catalog_version: v,
        commands,
        rollout,
    })
    .into_response()
}

/// Stores a self-test report from the signing device.
pub(super) async fn selftest(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    JsonBody(report): JsonBody<wire::SelftestReport>,
) -> Response {
    let device_id = headers
        .get(wire::H_DEVICE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let received_at = jiff::Timestamp::now().to_string();
    let mut g = s.lock();
    anchor(&mut g, &device_id, report.health.audit_head.as_ref());
    let report_id = format!("st-{}", g.selftests.len() + 1);
    g.selftests.push(SelftestRecord {
        device_id,
        report_id: report_id.clone(),
        received_at: received_at.clone(),
        report,
    });
    (
        StatusCode::CREATED,
        Json(wire::SelftestReceipt {
            report_id,
            received_at,
        }),
    )
        .into_response()
}

pub(super) fn revoke(s: &Shared, device_id: &str, reason: RevokeReason) -> bool {
    let mut g = s.lock();
    if !g.devices.contains_key(device_id) {
        return false;
    }
    g.revoked.insert(device_id.to_owned(), reason);
    true
}

/// Leases the next free numbers of (hall, service, date) to the asking device: ranges never
/// overlap and never pass the daily cap.
pub(super) async fn ticket_lease(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    JsonBody(q): JsonBody<wire::TicketLeaseRequest>,
) -> Response {
    let service_ok = q.service.len() == 1 && q.service.bytes().all(|b| b.is_ascii_uppercase());
    if !service_ok
        || q.hall.trim().is_empty()
        || q.date.parse::<jiff::civil::Date>().is_err()
        || !(1..=999).contains(&q.count)
        || !(1..=999).contains(&q.daily_cap)
    {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "号段申请无效（业务字母 A–Z，日期 YYYY-MM-DD，数量和上限 1–999）",
        );
    }
    let device = headers
        .get(wire::H_DEVICE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut g = s.lock();
    let next = g
        .ticket_next
        .entry((q.hall.clone(), q.service.clone(), q.date.clone()))
        .or_insert(1);
    if *next > q.daily_cap {
        return error(
            StatusCode::CONFLICT,
            "ticket_cap_reached",
            format!("{} 业务 {} 的号源已全部分配", q.date, q.service),
        );
    }
    let first = *next;
    let last = (first + q.count - 1).min(q.daily_cap);
    *next = last + 1;
    let lease = wire::TicketLease {
        hall: q.hall,
        service: q.service,
        date: q.date,
        first,
        last,
    };
    g.ticket_leases.push((device, lease.clone()));
    (StatusCode::CREATED, Json(lease)).into_response()
}

pub(super) async fn notices(State(s): State<Arc<Shared>>) -> Response {
    Json(wire::NoticeList {
        notices: s.lock().notices.clone(),
    })
    .into_response()
}
