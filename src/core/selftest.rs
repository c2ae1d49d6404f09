//! 自检 — the self-test's report: each check's outcome in words a technician acts on, the
//! health snapshot, and whether the platform got it. `ops::selftest` runs the checks; the
//! kiosk's technician page and `ykb-terminal selftest` show the report.

use serde::Serialize;

use crate::core::health::HealthSnapshot;
use crate::core::platform::wire;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Works.
    Pass,
    /// Works, but needs attention soon (paper near end, CA expiring).
    Warn,
    /// Does not work.
    Fail,
    /// Not configured on this terminal.
    Skipped,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable id (`id_reader`, `printer`, `disk`, `platform`, `clock`, `ca_cert`, …).
    pub id: String,
    /// What was checked (zh-CN).
    pub title: String,
    /// Pass, warn, fail or skipped.
    pub outcome: Outcome,
    /// What was found (zh-CN; never personal data).
    pub detail: String,
    /// What the technician should do, when not passing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advice: Option<String>,
    /// Wall time of the check.
    pub elapsed_ms: u64,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SelftestReport {
    /// The terminal's name from its profile.
    pub terminal: String,
    /// This build's version.
    pub app_version: String,
    /// When the test ran (RFC 3339).
    pub at: String,
    /// No check failed.
    pub passed: bool,
    /// The checks, in order.
    pub checks: Vec<Check>,
    /// The health snapshot sent with the heartbeat.
    pub health: HealthSnapshot,
    /// Whether the platform received this report.
    pub delivery: Delivery,
}

/// Whether the report reached the platform (`POST /v1/devices/selftest`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// The platform stored the report.
    pub sent: bool,
    /// The platform's id for it, when sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report_id: Option<String>,
    /// What happened (zh-CN).
    pub detail: String,
}

impl SelftestReport {
    /// The report as the platform receives it: check ids, outcomes, details and advice, and
    /// the heartbeat document — no titles, no terminal name, no personal data.
    pub fn to_wire(&self) -> wire::SelftestReport {
        wire::SelftestReport {
            at: self.at.clone(),
            app_version: self.app_version.clone(),
            passed: self.passed,
            checks: self
                .checks
                .iter()
                .map(|c| wire::SelftestCheck {
                    id: c.id.clone(),
                    outcome: outcome_name(c.outcome).to_owned(),
                    detail: c.detail.clone(),
                    advice: c.advice.clone(),
                })
                .collect(),
            health: self.health.heartbeat(),
        }
    }
}

/// The snake_case name of an outcome (as serialised).
pub fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "pass",
        Outcome::Warn => "warn",
        Outcome::Fail => "fail",
        Outcome::Skipped => "skipped",
    }
}
