//! The admin API tests and the demo use: what the simulator received, faults, catalogue
//! changes, revocations, 渝快码 tokens, case progress, notices and the update rollout.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::{
    apply_change, error, issue_token, revoke, CaseRecord, ChangeRequest, EventRecord, Faults,
    MaterialRecord, RevokeRequest, SelftestRecord, Shared, StatusRequest, TokenRequest,
};
use crate::core::platform::wire;
pub(super) async fn admin_cases(State(s): State<Arc<Shared>>) -> Json<Vec<CaseRecord>> {
    Json(s.lock().cases.values().cloned().collect())
}

pub(super) async fn admin_materials(State(s): State<Arc<Shared>>) -> Json<Vec<MaterialRecord>> {
    Json(s.lock().materials.values().cloned().collect())
}

pub(super) async fn admin_heartbeats(State(s): State<Arc<Shared>>) -> Json<Vec<wire::Heartbeat>> {
    Json(s.lock().heartbeats.clone())
}

pub(super) async fn admin_selftests(State(s): State<Arc<Shared>>) -> Json<Vec<SelftestRecord>> {
    Json(s.lock().selftests.clone())
}

pub(super) async fn admin_revoke(
    State(s): State<Arc<Shared>>,
    Path(device): Path<String>,
    body: Bytes,
) -> Response {
    // An empty body revokes; `{"reason": "expired"}` lets the credential expire instead.
    let r: RevokeRequest = if body.is_empty() {
        RevokeRequest::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(r) => r,
            Err(e) => return error(StatusCode::BAD_REQUEST, "bad_request", e.to_string()),
        }
    };
    if revoke(&s, &device, r.reason) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        error(StatusCode::NOT_FOUND, "unknown_device", "没有该设备")
    }
}

pub(super) async fn admin_events(State(s): State<Arc<Shared>>) -> Json<Vec<EventRecord>> {
    Json(s.lock().events.values().cloned().collect())
}

pub(super) async fn admin_faults_get(State(s): State<Arc<Shared>>) -> Json<Faults> {
    Json(s.faults())
}

pub(super) async fn admin_faults_put(
    State(s): State<Arc<Shared>>,
    Json(f): Json<Faults>,
) -> Json<Faults> {
    *s.faults.lock().unwrap_or_else(|e| e.into_inner()) = f.clone();
    Json(f)
}

pub(super) async fn admin_change(
    State(s): State<Arc<Shared>>,
    Json(c): Json<ChangeRequest>,
) -> Response {
    let v = apply_change(&mut s.lock().catalog, &c);
    Json(serde_json::json!({ "version": v })).into_response()
}

pub(super) async fn admin_compact(State(s): State<Arc<Shared>>) -> Response {
    let mut g = s.lock();
    g.catalog.oldest = g.catalog.version;
    Json(serde_json::json!({ "oldest": g.catalog.oldest })).into_response()
}

pub(super) async fn admin_token(
    State(s): State<Arc<Shared>>,
    Json(t): Json<TokenRequest>,
) -> Response {
    let token = issue_token(&s, t.person, t.ttl_secs);
    Json(serde_json::json!({ "token": token })).into_response()
}

pub(super) async fn admin_case_status(
    State(s): State<Arc<Shared>>,
    Path(code): Path<String>,
    Json(r): Json<StatusRequest>,
) -> Response {
    let at = jiff::Timestamp::now().to_string();
    let mut g = s.lock();
    match g.cases.values_mut().find(|c| c.ack.unified_code == code) {
        Some(c) => {
            c.history.push(wire::ProgressStep {
                status: r.status,
                at,
                note: r.note,
            });
            StatusCode::NO_CONTENT.into_response()
        }
        None => error(StatusCode::NOT_FOUND, "case_not_found", "未找到该办件"),
    }
}

pub(super) async fn admin_notice(
    State(s): State<Arc<Shared>>,
    Json(n): Json<wire::Notice>,
) -> Response {
    s.lock().notices.push(n);
    StatusCode::NO_CONTENT.into_response()
}

/// `PUT /admin/rollout`: the version terminals should run (`null` ends the rollout); every
/// heartbeat answer carries it from then on.
pub(super) async fn admin_rollout(
    State(s): State<Arc<Shared>>,
    Json(r): Json<Option<crate::core::update::Rollout>>,
) -> Response {
    s.lock().rollout = r;
    StatusCode::NO_CONTENT.into_response()
}
