//! Remote operations commands: operations issue them (`POST /admin/devices/{id}/commands`),
//! the platform signs each with its key and hands it to the terminal in every heartbeat
//! answer until a result for it comes back in a heartbeat; diagnostics exports the
//! terminals upload (`POST /v1/devices/diagnostics`).
//!
//! For tests the admin request can also send what a real platform never would: a tampered
//! signature, a command already expired, a second copy of an earlier command (a replay), or
//! any name at all.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::{error, Inner, Shared};
use crate::core::platform::wire::{self, CommandResult, OpsCommand};

/// The body of `POST /admin/devices/{device}/commands`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueCommand {
    /// The command name (not checked: terminals refuse names they do not know).
    pub name: String,
    /// Its argument (`maintenance`: `on` / `off`).
    #[serde(default)]
    pub arg: Option<String>,
    /// Lifetime from the issue time, seconds (default 3600).
    #[serde(default = "default_ttl")]
    pub ttl_secs: i64,
    /// Issue time this many seconds ago (with a short `ttl_secs`: already expired).
    #[serde(default)]
    pub issued_secs_ago: i64,
    /// Test fault: spoil the signature.
    #[serde(default)]
    pub tamper_signature: bool,
    /// Test fault: send again, unchanged, the command with this id (a replay).
    #[serde(default)]
    pub replay_of: Option<String>,
}

fn default_ttl() -> i64 {
    3600
}

impl IssueCommand {
    /// A plain command with the default lifetime.
    pub fn new(name: &str, arg: Option<&str>) -> Self {
        Self {
            name: name.into(),
            arg: arg.map(str::to_owned),
            ttl_secs: default_ttl(),
            issued_secs_ago: 0,
            tamper_signature: false,
            replay_of: None,
        }
    }
}

/// A command the simulator issued, and what became of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommandRecord {
    /// The command as signed and sent.
    pub command: OpsCommand,
    /// Heartbeat answers that carried it.
    pub deliveries: u32,
    /// The terminal's result, once a heartbeat brought it.
    pub result: Option<CommandResult>,
    /// Unix milliseconds when it was issued.
    pub issued_ms: i64,
    /// Unix milliseconds when its result arrived.
    pub acked_ms: Option<i64>,
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Issues a command to `device`; `None` when no such device registered or `replay_of`
/// names no command of it.
pub(super) fn issue(s: &Shared, device: &str, req: &IssueCommand) -> Option<OpsCommand> {
    let now = s.now();
    let mut g = s.lock();
    if !g.devices.contains_key(device) {
        return None;
    }
    let command = match &req.replay_of {
        Some(id) => g
            .commands
            .iter()
            .find(|c| c.command.device_id == device && &c.command.id == id)?
            .command
            .clone(),
        None => {
            g.command_seq += 1;
            let issued_at = now - req.issued_secs_ago;
            let mut c = OpsCommand {
                id: format!("cmd-{}", g.command_seq),
                device_id: device.to_owned(),
                name: req.name.clone(),
                arg: req.arg.clone(),
                issued_at,
                expires_at: issued_at + req.ttl_secs,
                signature: String::new(),
            };
            wire::sign_command(&s.key, &mut c);
            if req.tamper_signature {
                let mut other = c.clone();
                other.name = format!("{}-tampered", c.name);
                wire::sign_command(&s.key, &mut other);
                c.signature = other.signature;
            }
            c
        }
    };
    g.commands.push(CommandRecord {
        command: command.clone(),
        deliveries: 0,
        result: None,
        issued_ms: now_ms(),
        acked_ms: None,
    });
    Some(command)
}

/// Takes the results a heartbeat carried, then returns what the answer carries: every
/// command for `device` still without a result.
pub(super) fn exchange(g: &mut Inner, device: &str, results: &[CommandResult]) -> Vec<OpsCommand> {
    let at = now_ms();
    for r in results {
        if let Some(c) = g
            .commands
            .iter_mut()
            .find(|c| c.command.device_id == device && c.command.id == r.id && c.result.is_none())
        {
            c.result = Some(r.clone());
            c.acked_ms = Some(at);
        }
    }
    g.commands
        .iter_mut()
        .filter(|c| c.command.device_id == device && c.result.is_none())
        .map(|c| {
            c.deliveries += 1;
            c.command.clone()
        })
        .collect()
}

pub(super) async fn admin_issue_command(
    State(s): State<Arc<Shared>>,
    Path(device): Path<String>,
    Json(req): Json<IssueCommand>,
) -> Response {
    match issue(&s, &device, &req) {
        Some(c) => (StatusCode::CREATED, Json(c)).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "unknown_device",
            "没有该设备（或要重放的命令不存在）",
        ),
    }
}

pub(super) async fn admin_commands(
    State(s): State<Arc<Shared>>,
    Path(device): Path<String>,
) -> Json<Vec<CommandRecord>> {
    Json(
        s.lock()
            .commands
            .iter()
            .filter(|c| c.command.device_id == device)
            .cloned()
            .collect(),
    )
}

/// A diagnostics export a terminal uploaded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DiagnosticsRecord {
    /// The device that sent it.
    pub device_id: String,
    /// The id given in the receipt.
    pub report_id: String,
    /// The export as received.
    pub export: serde_json::Value,
}

/// `POST /v1/devices/diagnostics`: keeps the signing device's diagnostics export.
pub(super) async fn diagnostics(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let export: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v @ serde_json::Value::Object(_)) => v,
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "诊断导出应为 JSON 对象",
            )
        }
    };
    let device_id = headers
        .get(wire::H_DEVICE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut g = s.lock();
    let report_id = format!("diag-{}", g.diagnostics.len() + 1);
    g.diagnostics.push(DiagnosticsRecord {
        device_id,
        report_id: report_id.clone(),
        export,
    });
    (
        StatusCode::CREATED,
        Json(wire::DiagnosticsReceipt {
            report_id,
            bytes: body.len() as u64,
        }),
    )
        .into_response()
}
