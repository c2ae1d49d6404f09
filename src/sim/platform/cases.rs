//! Cases, material uploads (resumable, checked against their SHA-256) and events, each
//! idempotent by its key; and the progress of a case.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::{error, Shared};
use crate::core::platform::wire;
use crate::core::platform::CaseAck;
/// A case the simulator received, with how often its idempotency key was seen.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseRecord {
    /// The idempotency key (the case's UUIDv7).
    pub key: String,
    /// SHA-256 of the body first received.
    pub body_sha256: String,
    /// The body first received (JSON).
    pub body: serde_json::Value,
    /// The answer given (and given again on replays).
    pub ack: CaseAck,
    /// Requests seen with this key (1 = no replay).
    pub count: u64,
    /// Progress history.
    pub history: Vec<wire::ProgressStep>,
}

/// A material upload the simulator holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MaterialRecord {
    /// Case id.
    pub case_id: String,
    /// Material id.
    pub material_id: String,
    /// Declared total size.
    pub length: u64,
    /// Bytes received so far.
    pub received: u64,
    /// SHA-256 of the complete material, as declared by the terminal.
    pub sha256: String,
    /// Upload requests seen for it.
    pub count: u64,
    #[serde(skip)]
    pub(super) bytes: Vec<u8>,
}

/// An event (evaluation or other) the simulator received.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventRecord {
    /// The idempotency key.
    pub key: String,
    /// The event kind (e.g. `evaluation`).
    pub kind: String,
    /// SHA-256 of the body.
    pub body_sha256: String,
    /// The body (JSON).
    pub body: serde_json::Value,
    /// Requests seen with this key.
    pub count: u64,
}

/// `POST /admin/cases/{code}/status`: move a case on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// New status.
    pub status: String,
    /// Remark.
    #[serde(default)]
    pub note: String,
}

pub(super) fn idempotency_key(headers: &HeaderMap) -> Result<String, Box<Response>> {
    headers
        .get(wire::H_IDEMPOTENCY_KEY)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| uuid::Uuid::parse_str(v).ok())
        .map(|u| u.to_string())
        .ok_or_else(|| {
            Box::new(error(
                StatusCode::BAD_REQUEST,
                "idempotency_key_missing",
                "缺少或无效的 Idempotency-Key（应为 UUID）",
            ))
        })
}

/// A case or event submission's idempotency key, JSON body and the body's SHA-256; or the
/// refusal (`what` names the body in it).
fn submission(
    headers: &HeaderMap,
    body: &[u8],
    what: &str,
) -> Result<(String, serde_json::Value, String), Box<Response>> {
    let key = idempotency_key(headers)?;
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Err(Box::new(error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("{what}内容不是 JSON"),
        )));
    };
    Ok((key, json, wire::sha256_hex(body)))
}

pub(super) async fn submit_case(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (key, json, hash) = match submission(&headers, &body, "办件") {
        Ok(k) => k,
        Err(r) => return *r,
    };
    let now = s.now();
    let mut g = s.lock();
    if let Some(rec) = g.cases.get_mut(&key) {
        rec.count += 1;
        if rec.body_sha256 != hash {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_conflict",
                "同一幂等键的办件内容不同，已拒绝",
            );
        }
        return (StatusCode::OK, Json(rec.ack.clone())).into_response();
    }
    // 帮办代办 only where the catalogue has a 代办 answer: the terminal asks first, this holds it.
    if json.get("agent").is_some_and(|a| !a.is_null()) {
        let by_proxy = |c: &serde_json::Value| {
            c.as_str()
                .and_then(|c| g.catalog.matters.get(c))
                .is_some_and(|e| e.value.allows_agent())
        };
        let matters = json.get("matters").and_then(|m| m.as_array());
        if !matters.is_some_and(|m| !m.is_empty() && m.iter().all(by_proxy)) {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "proxy_not_allowed",
                "本事项需本人办理，不能由他人代办",
            );
        }
    }
    g.case_seq += 1;
    let at = jiff::Timestamp::from_second(now)
        .unwrap_or_else(|_| jiff::Timestamp::now())
        .to_string();
    let date = at.get(..10).unwrap_or("2026-01-01").replace('-', "");
    let ack = CaseAck {
        unified_code: format!("500000{date}{:06}", g.case_seq),
        accepted_at: at.clone(),
    };
    g.cases.insert(
        key.clone(),
        CaseRecord {
            key,
            body_sha256: hash,
            body: json,
            ack: ack.clone(),
            count: 1,
            history: vec![wire::ProgressStep {
                status: "accepted".into(),
                at,
                note: "已受理".into(),
            }],
        },
    );
    (StatusCode::CREATED, Json(ack)).into_response()
}

fn upload_headers(mut r: Response, received: u64, length: u64) -> Response {
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&received.to_string()) {
        h.insert(wire::H_UPLOAD_OFFSET, v);
    }
    if let Ok(v) = HeaderValue::from_str(&length.to_string()) {
        h.insert(wire::H_UPLOAD_LENGTH, v);
    }
    r
}

pub(super) async fn material_head(
    State(s): State<Arc<Shared>>,
    Path((case_id, material)): Path<(String, String)>,
) -> Response {
    let g = s.lock();
    match g.materials.get(&(case_id, material)) {
        Some(m) => upload_headers(StatusCode::OK.into_response(), m.received, m.length),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

pub(super) async fn material_patch(
    State(s): State<Arc<Shared>>,
    Path((case_id, material)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let num = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
    };
    let (Some(offset), Some(length)) = (num(wire::H_UPLOAD_OFFSET), num(wire::H_UPLOAD_LENGTH))
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_upload",
            "缺少 Upload-Offset 或 Upload-Length",
        );
    };
    if length > wire::MAX_MATERIAL_BYTES {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "material_too_large",
            format!("材料超过 {} 字节上限", wire::MAX_MATERIAL_BYTES),
        );
    }
    if body.len() > wire::UPLOAD_CHUNK_BYTES {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "chunk_too_large",
            "单次上传超过 1 MiB",
        );
    }
    let declared = headers
        .get(wire::H_UPLOAD_SHA256)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut g = s.lock();
    let rec = g
        .materials
        .entry((case_id.clone(), material.clone()))
        .or_insert_with(|| MaterialRecord {
            case_id,
            material_id: material,
            length,
            received: 0,
            sha256: declared.clone(),
            count: 0,
            bytes: Vec::new(),
        });
    rec.count += 1;
    if rec.sha256.is_empty() && rec.received < rec.length {
        rec.sha256 = declared.clone();
    }
    if rec.length != length || (!declared.is_empty() && declared != rec.sha256) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_conflict",
            "同一材料的总长度与先前不同，已拒绝",
        );
    }
    if rec.received == rec.length && offset == 0 && !body.is_empty() {
        // A replay of a complete upload: the same bytes are fine, others are a conflict.
        let same = rec.bytes.get(..body.len()) == Some(&body[..]);
        return if same {
            upload_headers(
                StatusCode::NO_CONTENT.into_response(),
                rec.received,
                rec.length,
            )
        } else {
            error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_conflict",
                "同一材料的内容与先前不同，已拒绝",
            )
        };
    }
    if offset != rec.received {
        return upload_headers(
            error(
                StatusCode::CONFLICT,
                "offset_mismatch",
                "上传位置与平台已收到的不一致",
            ),
            rec.received,
            rec.length,
        );
    }
    if offset + body.len() as u64 > length {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_upload",
            "上传内容超过声明长度",
        );
    }
    rec.bytes.extend_from_slice(&body);
    rec.received += body.len() as u64;
    if rec.received == rec.length {
        let actual = wire::sha256_hex(&rec.bytes);
        if !rec.sha256.is_empty() && rec.sha256 != actual {
            // Corrupted on the way: drop it so the terminal uploads again from the start.
            let key = (rec.case_id.clone(), rec.material_id.clone());
            g.materials.remove(&key);
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "checksum_mismatch",
                "材料校验值与内容不符，请重新上传",
            );
        }
        rec.sha256 = actual;
    }
    upload_headers(
        StatusCode::NO_CONTENT.into_response(),
        rec.received,
        rec.length,
    )
}

pub(super) async fn case_status(
    State(s): State<Arc<Shared>>,
    Path(code): Path<String>,
) -> Response {
    let g = s.lock();
    match g.cases.values().find(|c| c.ack.unified_code == code) {
        Some(c) => Json(wire::CaseProgress {
            unified_code: code.clone(),
            status: c
                .history
                .last()
                .map_or_else(String::new, |h| h.status.clone()),
            updated_at: c.history.last().map_or_else(String::new, |h| h.at.clone()),
            history: c.history.clone(),
            fee_status: super::payments::fee_status(&g, &code, &c.body),
            waybill: waybill(&code, &c.body),
        })
        .into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "case_not_found",
            "未找到该办件，请核对统一办件编码",
        ),
    }
}

/// The simulator's stand-in for the post: a case whose `delivery` is 邮寄到家 (`method`
/// `post`, with an address) is posted at once, under a waybill derived from its code.
fn waybill(code: &str, body: &serde_json::Value) -> Option<String> {
    let delivery = body.get("delivery");
    let posted = delivery
        .and_then(|d| d.get("method"))
        .and_then(|m| m.as_str())
        == Some("post")
        && delivery
            .and_then(|d| d.get("address"))
            .and_then(|a| a.as_str())
            .is_some_and(|a| !a.trim().is_empty());
    posted.then(|| {
        let h = wire::sha256_hex(format!("waybill|{code}").as_bytes());
        let digits: String = h
            .bytes()
            .map(|b| char::from(b'0' + b % 10))
            .take(11)
            .collect();
        format!("EMS{digits}")
    })
}

pub(super) async fn submit_event(
    State(s): State<Arc<Shared>>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (key, json, hash) = match submission(&headers, &body, "事件") {
        Ok(k) => k,
        Err(r) => return *r,
    };
    let mut g = s.lock();
    if let Some(rec) = g.events.get_mut(&key) {
        rec.count += 1;
        if rec.body_sha256 != hash || rec.kind != kind {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_conflict",
                "同一幂等键的事件内容不同，已拒绝",
            );
        }
        return (StatusCode::OK, Json(serde_json::json!({"accepted": true}))).into_response();
    }
    g.events.insert(
        key.clone(),
        EventRecord {
            key,
            kind,
            body_sha256: hash,
            body: json,
            count: 1,
        },
    );
    (
        StatusCode::CREATED,
        Json(serde_json::json!({"accepted": true})),
    )
        .into_response()
}
