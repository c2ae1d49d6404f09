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

/// 取件方式 — how the citizen receives the result: at the window, or posted (邮寄到家) to the
/// address and phone typed on the form. A case without one collects at the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "method")]
pub enum Delivery {
    /// 窗口领取 (or 当场领取): the matter can be posted, and the citizen chose not to.
    Window,
    /// 邮寄到家: the recipient is the applicant; `phone` may be empty when the form has none.
    Post { address: String, phone: String },
}

/// 帮办代办 — who applies for the applicant, in what relation to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relationship {
    /// 子女: the agent is the applicant's son or daughter.
    Child,
    /// 配偶
    Spouse,
    /// 父母: the agent is the applicant's parent (e.g. for a minor).
    Parent,
    /// 监护人
    Guardian,
    /// 委托: anyone the applicant has authorised in writing.
    Entrusted,
}

impl Relationship {
    /// Every relationship, in the order the screen offers them.
    pub const ALL: [Self; 5] = [
        Self::Child,
        Self::Spouse,
        Self::Parent,
        Self::Guardian,
        Self::Entrusted,
    ];

    /// How the agent stands to the applicant, as the screen and the receipt say it.
    pub fn name_zh(self) -> &'static str {
        match self {
            Self::Child => "子女",
            Self::Spouse => "配偶",
            Self::Parent => "父母",
            Self::Guardian => "监护人",
            Self::Entrusted => "委托",
        }
    }

    /// The contract's name (`child`, `spouse`, …), as serialised.
    pub fn id(self) -> &'static str {
        match self {
            Self::Child => "child",
            Self::Spouse => "spouse",
            Self::Parent => "parent",
            Self::Guardian => "guardian",
            Self::Entrusted => "entrusted",
        }
    }

    /// The inverse of [`Self::name_zh`].
    pub fn from_zh(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name_zh() == name)
    }
}

/// 代办人 — the person who applies for the applicant, identified at the terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub person: Person,
    pub relationship: Relationship,
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
    /// 帮办代办: the agent who applied for the applicant (absent: the applicant in person).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<Agent>,
    /// 取件方式, for matters whose result can be posted (absent: collect at the window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
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
    fn relationships_and_deliveries_serialise_as_the_contract_names_them() {
        for r in Relationship::ALL {
            assert_eq!(Relationship::from_zh(r.name_zh()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), serde_json::json!(r.id()));
        }
        assert_eq!(Relationship::from_zh("朋友"), None);
        assert_eq!(
            serde_json::to_value(Relationship::Child).unwrap(),
            serde_json::json!("child")
        );
        let post = Delivery::Post {
            address: "重庆市渝中区解放碑街道1号".into(),
            phone: "13800000000".into(),
        };
        assert_eq!(
            serde_json::to_value(&post).unwrap(),
            serde_json::json!({"method": "post", "address": "重庆市渝中区解放碑街道1号", "phone": "13800000000"})
        );
        assert_eq!(
            serde_json::to_value(Delivery::Window).unwrap(),
            serde_json::json!({"method": "window"})
        );
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
