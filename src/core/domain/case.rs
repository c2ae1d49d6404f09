//! 办件, 取号, 好差评 and device status: what the terminal records about a service.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

use super::{Code, Person};

/// 申请人 — who applies. A legal person is represented by a natural person (经办人).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Applicant {
    Person {
        person: Person,
    },
    Organisation {
        /// 统一社会信用代码
        credit_code: String,
        name: String,
        agent: Person,
    },
}

/// What happened to one required material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum MaterialOutcome {
    /// 免提交 — covered by an e-licence or shared data.
    Exempt { licence: String },
    /// Captured at the terminal; `blob` names the stored image.
    Captured { blob: String },
    /// To be brought to a window.
    BringToWindow,
}

/// One material of a case and how it was satisfied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseMaterial {
    pub material_id: String,
    pub outcome: MaterialOutcome,
}

/// 办件状态
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Being filled in at the terminal; not yet the citizen's commitment.
    Draft,
    /// 已暂存 — committed locally, waiting for the outbox to deliver it.
    Queued,
    /// 已提交 — the platform acknowledged it and assigned a unified case code.
    Submitted,
    /// 不予受理 / rejected by the platform, with a reason in the timeline.
    Rejected,
    /// 已受理 at a counter.
    Accepted,
    /// 办结
    Completed,
}

impl CaseStatus {
    /// The machine name, as stored and serialised (e.g. "queued").
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Queued => "queued",
            Self::Submitted => "submitted",
            Self::Rejected => "rejected",
            Self::Accepted => "accepted",
            Self::Completed => "completed",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Self::Draft => "填写中",
            Self::Queued => "已暂存",
            Self::Submitted => "已提交",
            Self::Rejected => "不予受理",
            Self::Accepted => "已受理",
            Self::Completed => "已办结",
        }
    }
}

/// One entry of a case's status timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusEvent {
    pub status: CaseStatus,
    pub at: Timestamp,
    #[serde(default)]
    pub note: String,
}

/// 办件 — an application case as filled at this terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// Local id (UUIDv7); also the idempotency key towards the platform.
    pub id: Uuid,
    /// Per-device monotonic sequence number (the local number a citizen is told when offline).
    pub seq: u64,
    /// Matters (task codes) this case applies for; several for a bundle.
    pub matters: Vec<Code>,
    /// The bundle (一件事) this case came from, if any.
    pub bundle: Option<Code>,
    /// The catalogue version the case was filled against.
    pub catalog_version: u64,
    pub applicant: Applicant,
    /// Situation answers: question id → chosen option ids.
    pub answers: BTreeMap<String, Vec<String>>,
    pub materials: Vec<CaseMaterial>,
    /// Form data: field id → value.
    pub form: BTreeMap<String, String>,
    pub timeline: Vec<StatusEvent>,
    /// 统一赋码 — the platform's unified case code, once assigned.
    pub unified_code: Option<String>,
}

impl Case {
    /// The current status: the last timeline entry, or Draft.
    pub fn status(&self) -> CaseStatus {
        self.timeline.last().map_or(CaseStatus::Draft, |e| e.status)
    }
}

/// 取号 — a queue ticket at a hall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// Letter prefix and number, e.g. "A001".
    pub number: String,
    /// The hall service it queues for.
    pub service: String,
    /// The civil date it is valid for (tickets do not carry over to the next day).
    pub date: jiff::civil::Date,
    pub issued_at: Timestamp,
    /// 绿色通道 (elderly, disabled, pregnant).
    pub green_channel: bool,
    /// Appointment this ticket checked in, if any.
    pub appointment: Option<String>,
}

/// 好差评 level. Deliberately not an integer: the national data specification and the
/// 好差评 interfaces number the levels in opposite directions; convert only at the boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvaluationLevel {
    /// 非常满意
    VerySatisfied,
    /// 满意
    Satisfied,
    /// 基本满意
    Basic,
    /// 不满意
    Dissatisfied,
    /// 非常不满意
    VeryDissatisfied,
}

impl EvaluationLevel {
    /// All levels, best first, as a screen lists them.
    pub const ALL: [Self; 5] = [
        Self::VerySatisfied,
        Self::Satisfied,
        Self::Basic,
        Self::Dissatisfied,
        Self::VeryDissatisfied,
    ];

    pub fn name_zh(self) -> &'static str {
        match self {
            Self::VerySatisfied => "非常满意",
            Self::Satisfied => "满意",
            Self::Basic => "基本满意",
            Self::Dissatisfied => "不满意",
            Self::VeryDissatisfied => "非常不满意",
        }
    }

    /// Whether this is a 差评, which needs a reason and a follow-up.
    pub fn is_negative(self) -> bool {
        matches!(self, Self::Dissatisfied | Self::VeryDissatisfied)
    }

    /// The score the 好差评 interface expects: 5 (非常满意) down to 1 (非常不满意).
    pub fn score(self) -> u8 {
        match self {
            Self::VerySatisfied => 5,
            Self::Satisfied => 4,
            Self::Basic => 3,
            Self::Dissatisfied => 2,
            Self::VeryDissatisfied => 1,
        }
    }

    /// The inverse of [`Self::score`]; `None` for anything outside 1–5.
    pub fn from_score(score: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.score() == score)
    }
}

/// 好差评 — one evaluation of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    pub id: Uuid,
    pub level: EvaluationLevel,
    /// The case or ticket evaluated.
    pub subject: String,
    /// Reasons picked from the list (required for a negative level).
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub comment: String,
    pub at: Timestamp,
}

/// A device's status as the app reports it (XFS4IoT vocabulary, from the drivers crate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceStatus {
    /// The configured device name (e.g. "id_reader").
    pub device: String,
    pub state: ykb_drivers::DeviceState,
    /// A class-specific media status in words (e.g. paper near end), if any.
    #[serde(default)]
    pub media: Option<String>,
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_status_names_match_serde() {
        for s in [
            CaseStatus::Draft,
            CaseStatus::Queued,
            CaseStatus::Submitted,
            CaseStatus::Rejected,
            CaseStatus::Accepted,
            CaseStatus::Completed,
        ] {
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
    }

    #[test]
    fn evaluation_levels_round_trip_through_score_and_names() {
        for l in EvaluationLevel::ALL {
            assert_eq!(EvaluationLevel::from_score(l.score()), Some(l));
        }
        assert_eq!(EvaluationLevel::from_score(0), None);
        assert_eq!(EvaluationLevel::from_score(6), None);
        assert_eq!(
            serde_json::to_string(&EvaluationLevel::Basic).unwrap(),
            "\"basic\""
        );
        assert!(EvaluationLevel::Dissatisfied.is_negative());
        assert!(!EvaluationLevel::Basic.is_negative());
    }
}
