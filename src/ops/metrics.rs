//! Prometheus text metrics (exposition format 0.0.4) over HTTP on a loopback address only.
//!
//! The server never reads the store: it renders the latest [`MetricsState`] the agent keeps
//! up to date, so a scrape costs nothing and cannot contend with the store's writer.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use crate::core::health::{paper_name, state_name, HealthSnapshot};

/// What the metrics show: the latest health snapshot and heartbeat bookkeeping.
#[derive(Debug, Clone, Default)]
pub struct MetricsState {
    /// Terminal name (a label on `ykb_terminal_info`).
    pub terminal: String,
    /// The latest snapshot, once one was taken.
    pub health: Option<HealthSnapshot>,
    /// Unix seconds of the last heartbeat the platform acknowledged.
    pub last_heartbeat_ok: Option<i64>,
    /// Heartbeats that failed since start.
    pub heartbeat_failures: u64,
    /// The platform refused the device credential at the last heartbeat (expired or
    /// revoked: a technician must re-register).
    pub credentials_refused: bool,
    /// Receipt paper use as estimated (`None` without a receipt printer).
    pub paper: Option<crate::core::platform::wire::PaperUse>,
    /// Remote commands executed and refused since start.
    pub commands_executed: u64,
    /// Remote commands refused since start.
    pub commands_refused: u64,
}

/// Shared, updatable metrics state.
pub type SharedMetrics = Arc<RwLock<MetricsState>>;

fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Renders the state in the Prometheus text format.
pub fn render(state: &MetricsState) -> String {
    let mut o = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(String, String)]| {
        let _ = writeln!(o, "# HELP {name} {help}");
        let _ = writeln!(o, "# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(o, "{name}{labels} {value}");
        }
    };
    let one = |v: String| vec![(String::new(), v)];
    let version = state
        .health
        .as_ref()
        .map_or(crate::core::health::APP_VERSION, |h| h.app_version.as_str());
    metric(
        "ykb_terminal_info",
        "gauge",
        "Build and terminal identity (always 1).",
        &[(
            format!(
                "{{version=\"{}\",terminal=\"{}\"}}",
                label(version),
                label(&state.terminal)
            ),
            "1".into(),
        )],
    );
    metric(
        "ykb_heartbeat_failures_total",
        "counter",
        "Heartbeats the platform did not acknowledge since start.",
        &one(state.heartbeat_failures.to_string()),
    );
    metric(
        "ykb_platform_credentials_refused",
        "gauge",
        "1 when the platform refused the device credential at the last heartbeat (re-register).",
        &one(u8::from(state.credentials_refused).to_string()),
    );
    metric(
        "ykb_remote_commands_total",
        "counter",
        "Remote operations commands since start, by what became of them.",
        &[
            (
                "{result=\"executed\"}".into(),
                state.commands_executed.to_string(),
            ),
            (
                "{result=\"refused\"}".into(),
                state.commands_refused.to_string(),
            ),
        ],
    );
    if let Some(p) = &state.paper {
        metric(
            "ykb_printer_paper_used_mm",
            "gauge",
            "Receipt paper printed on the current roll, millimetres (estimated from the jobs).",
            &one(p.used_mm.to_string()),
        );
        metric(
            "ykb_printer_paper_roll_mm",
            "gauge",
            "Length of a receipt paper roll (devices.printer.roll_length_mm).",
            &one(p.roll_mm.to_string()),
        );
        metric(
            "ykb_printer_jobs",
            "gauge",
            "Receipts printed on the current roll.",
            &one(p.jobs.to_string()),
        );
        metric(
            "ykb_printer_rolls_replaced_total",
            "counter",
            "Receipt paper rolls replaced (counter reset in 维护模式).",
            &one(p.rolls_replaced.to_string()),
        );
        metric(
            "ykb_printer_paper_near_end_estimated",
            "gauge",
            "1 when the estimate says the roll is near its end.",
            &one(u8::from(p.near_end).to_string()),
        );
    }
    if let Some(t) = state.last_heartbeat_ok {
        metric(
            "ykb_heartbeat_last_success_timestamp_seconds",
            "gauge",
            "Unix time of the last acknowledged heartbeat.",
            &one(t.to_string()),
        );
    }
    let Some(h) = &state.health else {
        return o;
    };
    metric(
        "ykb_catalog_version",
        "gauge",
        "Catalogue version held.",
        &one(h.catalog_version.to_string()),
    );
    metric(
        "ykb_outbox_pending",
        "gauge",
        "Outbox items waiting for delivery.",
        &one(h.outbox_pending.to_string()),
    );
    metric(
        "ykb_outbox_dead_letters",
        "gauge",
        "Outbox items rejected by the platform (staff action needed).",
        &one(h.outbox_dead.to_string()),
    );
    metric(
        "ykb_outbox_quarantined",
        "gauge",
        "Outbox items set aside because they cannot be read or unsealed (sealed data kept).",
        &one(h.outbox_quarantined.to_string()),
    );
    metric(
        "ykb_outbox_paused",
        "gauge",
        "1 while the circuit breaker holds the outbox after repeated platform rejections.",
        &one(u8::from(h.outbox_paused.is_some()).to_string()),
    );
    metric(
        "ykb_outbox_bytes",
        "gauge",
        "Bytes queued in the outbox.",
        &one(h.outbox_bytes.to_string()),
    );
    metric(
        "ykb_outbox_quota_bytes",
        "gauge",
        "The outbox quota.",
        &one(h.outbox_quota_bytes.to_string()),
    );
    metric(
        "ykb_outbox_oldest_age_seconds",
        "gauge",
        "Age of the oldest waiting outbox item (0 when empty).",
        &one(h.oldest_pending_age_secs.unwrap_or(0).to_string()),
    );
    if let Some(d) = h.disk {
        metric(
            "ykb_disk_free_bytes",
            "gauge",
            "Free bytes on the data directory's file system.",
            &one(d.free_bytes.to_string()),
        );
        metric(
            "ykb_disk_total_bytes",
            "gauge",
            "Size of the data directory's file system.",
            &one(d.total_bytes.to_string()),
        );
    }
    if let Some(s) = h.clock_skew_secs {
        metric(
            "ykb_clock_skew_seconds",
            "gauge",
            "Platform clock minus terminal clock.",
            &one(s.to_string()),
        );
    }
    let devices: Vec<(String, String)> = h
        .devices
        .iter()
        .map(|(slot, d)| {
            (
                format!(
                    "{{slot=\"{}\",state=\"{}\"}}",
                    label(slot),
                    state_name(d.state)
                ),
                "1".into(),
            )
        })
        .collect();
    metric(
        "ykb_device_state",
        "gauge",
        "Device state by slot (1 for the current state).",
        &devices,
    );
    let paper: Vec<(String, String)> = h
        .devices
        .iter()
        .filter_map(|(slot, d)| {
            d.paper.map(|p| {
                (
                    format!("{{slot=\"{}\",paper=\"{}\"}}", label(slot), paper_name(p)),
                    "1".into(),
                )
            })
        })
        .collect();
    metric(
        "ykb_printer_paper",
        "gauge",
        "Printer paper state by slot (1 for the current state).",
        &paper,
    );
    o
}

/// Why the metrics server did not start.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The address is not loopback.
    #[error("监控指标只能在本机回环地址上提供，拒绝监听 {0}；请在配置 health.metrics_listen 中使用 127.0.0.1 或 ::1")]
    NotLoopback(SocketAddr),
    /// The port could not be bound.
    #[error("监控指标端口 {addr} 无法监听（{source}）；请检查该端口是否被占用，或修改配置 health.metrics_listen")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Binds `addr` (loopback only) and serves `GET /metrics` until `stop` fires; returns the
/// bound address (useful with port 0) and the server task.
pub async fn serve(
    addr: SocketAddr,
    state: SharedMetrics,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), MetricsError> {
    if !addr.ip().is_loopback() {
        return Err(MetricsError::NotLoopback(addr));
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| MetricsError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| MetricsError::Bind { addr, source })?;
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let state = state.clone();
            async move {
                let body = render(&state.read().unwrap_or_else(|e| e.into_inner()));
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    body,
                )
            }
        }),
    );
    let task = tokio::spawn(async move {
        let shutdown = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::warn!(error = %e, "metrics server stopped");
        }
    });
    Ok((bound, task))
}
