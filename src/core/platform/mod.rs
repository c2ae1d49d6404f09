//! The platform boundary: what the terminal needs from the 渝快办 platform, as a trait, so a
//! deployment can adapt it to the real gateway. The HTTP client that speaks the contract in
//! `api/openapi.yaml` implements it; so does nothing else in production.

pub mod client;
pub mod wire;

pub use client::{ClientConfig, DeltaAnswer, DeviceCredentials, PlatformClient};

use std::future::Future;
use std::time::Duration;

use uuid::Uuid;

/// The platform's answer to an accepted case submission.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CaseAck {
    /// 统一赋码 — the unified case code.
    pub unified_code: String,
    /// When the platform accepted it (RFC 3339).
    pub accepted_at: String,
}

/// Why a platform call did not succeed, classified for the outbox.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    /// The network or the platform could not be reached (DNS, refused, reset, TLS).
    #[error("无法连接政务服务平台：{0}")]
    Unreachable(String),
    /// No answer in time.
    #[error("政务服务平台响应超时")]
    Timeout,
    /// 5xx, or a body that was cut short: try again later.
    #[error("政务服务平台暂时故障（{status}）")]
    Server {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// 429: too many requests; wait at least `retry_after`.
    #[error("政务服务平台繁忙，请稍后")]
    RateLimited { retry_after: Option<Duration> },
    /// 4xx with the contract's error body whose code is not about the item (credentials, a
    /// licence not held, a cursor expired …): the request was refused, the item was not.
    #[error("政务服务平台拒绝（{status}）：{reason}")]
    Rejected { status: u16, reason: String },
    /// 4xx with the contract's error body and an item-level code ([`ITEM_REJECTION_CODES`]):
    /// the platform itself says this item cannot be accepted. The only final answer for the
    /// outbox.
    #[error("政务服务平台拒绝（{status}）：{reason}")]
    ItemRejected {
        status: u16,
        code: String,
        reason: String,
    },
    /// An error status without the contract's error body (an HTML page, an empty answer, a
    /// proxy's 404/405): something in front of the platform answered, not the platform.
    #[error("政务服务平台的入口返回了非平台的应答（{status}，{detail}），可能是网关或代理故障，稍后自动重试")]
    Gateway { status: u16, detail: String },
    /// The answer did not follow the contract (bad signature, bad JSON, absurd size).
    #[error("政务服务平台的应答不符合约定：{0}")]
    Protocol(String),
}

impl PlatformError {
    /// Whether the same request may succeed later (the outbox retries it with the same key).
    /// Only the platform's own item-level refusal is final: 401/403 say the terminal's
    /// credentials are refused, not the item (once a technician re-registers, the same item
    /// goes through); a gateway's page, 5xx, timeouts and broken answers may pass.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, Self::ItemRejected { .. })
    }

    /// The wait the platform asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Server { retry_after, .. } | Self::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }
}

/// The contract's item-level refusal codes (`api/openapi.yaml`, `Error.code`): with a 4xx and
/// the JSON error body, these say the item itself cannot be accepted.
pub const ITEM_REJECTION_CODES: &[&str] = &[
    "validation_failed",
    "idempotency_conflict",
    "bad_request",
    "material_too_large",
    "too_large",
    "bad_upload",
    "checksum_mismatch",
    "chunk_too_large",
    "material_conflict",
    "proxy_not_allowed",
];

/// Why an e-licence's printable copy could not be had, in words a citizen can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LicenceDocumentError {
    /// 404: the platform holds no such licence for this person.
    #[error("政务服务平台上没有找到您的这项电子证照")]
    NotHeld,
    /// 400 and other refusals: the request itself was wrong (a bad ID number, an unknown
    /// licence type, a refused credential); asking again will not help.
    #[error("政务服务平台拒绝了这次请求，请到窗口办理（{0}）")]
    Refused(String),
    /// No network, no answer in time, or the platform failing: try later.
    #[error("暂时连不上政务服务平台，电子证照打印需要网络，请稍后再试或到窗口办理")]
    Unavailable(PlatformError),
}

impl From<PlatformError> for LicenceDocumentError {
    fn from(e: PlatformError) -> Self {
        match e {
            PlatformError::Rejected { status: 404, .. } => Self::NotHeld,
            PlatformError::Rejected {
                status: 401 | 403 | 408,
                ..
            } => Self::Unavailable(e),
            PlatformError::Rejected { reason, .. } | PlatformError::ItemRejected { reason, .. } => {
                Self::Refused(reason)
            }
            other => Self::Unavailable(other),
        }
    }
}

/// What the outbox delivers. Every call carries an idempotency key: a replay with the same key
/// and body returns the same answer; the same key with a different body is `Rejected` (422).
pub trait Platform: Send + Sync {
    /// Uploads one material image of a case (idempotent per case id + material id).
    fn upload_material(
        &self,
        case_id: Uuid,
        material_id: &str,
        bytes: &[u8],
    ) -> impl Future<Output = Result<(), PlatformError>> + Send;

    /// Submits a case (JSON body); `key` is the case's UUIDv7.
    fn submit_case(
        &self,
        key: Uuid,
        body: &[u8],
    ) -> impl Future<Output = Result<CaseAck, PlatformError>> + Send;

    /// Submits a 好差评 evaluation or another supervision event (JSON body).
    fn submit_event(
        &self,
        key: Uuid,
        kind: &str,
        body: &[u8],
    ) -> impl Future<Output = Result<(), PlatformError>> + Send;
}

/// A shared platform is a platform: the agent's heartbeat and outbox worker use one client,
/// so credentials replaced by a re-registration reach both.
impl<P: Platform> Platform for std::sync::Arc<P> {
    fn upload_material(
        &self,
        case_id: Uuid,
        material_id: &str,
        bytes: &[u8],
    ) -> impl Future<Output = Result<(), PlatformError>> + Send {
        (**self).upload_material(case_id, material_id, bytes)
    }

    fn submit_case(
        &self,
        key: Uuid,
        body: &[u8],
    ) -> impl Future<Output = Result<CaseAck, PlatformError>> + Send {
        (**self).submit_case(key, body)
    }

    fn submit_event(
        &self,
        key: Uuid,
        kind: &str,
        body: &[u8],
    ) -> impl Future<Output = Result<(), PlatformError>> + Send {
        (**self).submit_event(key, kind, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licence_copy_errors_say_what_the_citizen_can_do() {
        let rejected = |status| PlatformError::Rejected {
            status,
            reason: "没有这种电子证照类型（bad_licence_type）".into(),
        };
        assert_eq!(
            LicenceDocumentError::from(rejected(404)),
            LicenceDocumentError::NotHeld
        );
        assert!(matches!(
            LicenceDocumentError::from(rejected(400)),
            LicenceDocumentError::Refused(r) if r.contains("bad_licence_type")
        ));
        for e in [
            rejected(401),
            PlatformError::Timeout,
            PlatformError::Unreachable("refused".into()),
            PlatformError::Server {
                status: 500,
                retry_after: None,
            },
        ] {
            let plain = LicenceDocumentError::from(e).to_string();
            assert!(plain.contains("需要网络"), "{plain}");
        }
    }

    #[test]
    fn only_item_rejections_are_final() {
        let rejected = |status| PlatformError::Rejected {
            status,
            reason: String::new(),
        };
        let item = |status, code: &str| PlatformError::ItemRejected {
            status,
            code: code.into(),
            reason: String::new(),
        };
        assert!(!item(400, "bad_request").is_retryable());
        assert!(!item(422, "idempotency_conflict").is_retryable());
        assert!(!item(413, "material_too_large").is_retryable());
        assert!(
            rejected(422).is_retryable(),
            "a code that is not about the item"
        );
        assert!(rejected(401).is_retryable());
        assert!(rejected(403).is_retryable());
        let page = PlatformError::Gateway {
            status: 404,
            detail: "text/html".into(),
        };
        assert!(page.is_retryable());
        assert!(PlatformError::Timeout.is_retryable());
        assert!(PlatformError::Protocol("x".into()).is_retryable());
        let limited = PlatformError::RateLimited {
            retry_after: Some(Duration::from_secs(7)),
        };
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(7)));
    }
}
