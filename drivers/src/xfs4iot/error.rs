//! How an XFS4IoT command can fail: one error per command, with the broad [`ErrorKind`] for the
//! UI and the words for a person.

use super::message::CompletionCode;
use crate::status::ErrorKind;

/// Which answer did not come in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// No acknowledge: the service never said it queued the command.
    Acknowledge,
    /// Acknowledged, but no completion before the command's deadline.
    Completion,
}

/// Why an XFS4IoT command (or connection) failed. Holds no payload contents.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Xfs4IotError {
    /// The service (or publisher) could not be reached or refused the WebSocket.
    #[error("cannot connect to XFS4IoT service {uri}: {reason}")]
    Connect {
        /// The URI tried.
        uri: String,
        /// What went wrong.
        reason: String,
    },
    /// The WebSocket closed (or broke) before the command completed.
    #[error("the XFS4IoT connection closed before the command completed")]
    Disconnected,
    /// No acknowledge or completion in time.
    #[error("no {stage:?} from the XFS4IoT service in time")]
    Timeout {
        /// What was missing.
        stage: Stage,
    },
    /// The acknowledge refused the command (`invalidMessage`, `tooManyRequests` …).
    #[error("the service refused the command: {status} {description}")]
    Rejected {
        /// The acknowledge's `status`.
        status: String,
        /// Its `errorDescription`, cleaned.
        description: String,
    },
    /// The completion says it failed.
    #[error("{command} failed: {code:?} {error_code:?} {description}")]
    Failed {
        /// The command's name.
        command: String,
        /// The completion code.
        code: CompletionCode,
        /// The payload's `errorCode` (e.g. `paperOut`), when the code is `commandErrorCode`.
        error_code: Option<String>,
        /// The `errorDescription`, cleaned.
        description: String,
    },
    /// Cancelled on request (the service said `canceled`, or did not answer the cancel).
    #[error("the command was cancelled")]
    Cancelled,
    /// The service broke the protocol (malformed JSON, a bad header, a wrong answer).
    #[error("XFS4IoT protocol error: {0}")]
    Protocol(String),
    /// A message over the size cap: the connection is closed.
    #[error("the service sent a message of {len} bytes, over the {max}-byte cap")]
    TooLarge {
        /// Its length (or at least this many bytes).
        len: usize,
        /// The cap.
        max: usize,
    },
    /// More events for one command than the cap: the command is ended and cancelled.
    #[error("the service sent more than {max} events for one command")]
    EventFlood {
        /// The cap.
        max: usize,
    },
    /// Too many commands are already waiting on this connection.
    #[error("{in_flight} commands already in flight")]
    Busy {
        /// How many.
        in_flight: usize,
    },
    /// The service has no such interface or command.
    #[error("the XFS4IoT service does not offer {0}")]
    Unsupported(String),
}

impl Xfs4IotError {
    /// The broad class for the UI.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Timeout { .. } => ErrorKind::Timeout,
            Self::Cancelled => ErrorKind::Cancelled,
            Self::Failed { code, .. } => match code {
                CompletionCode::UserError => ErrorKind::User,
                CompletionCode::TimeOut => ErrorKind::Timeout,
                CompletionCode::Canceled => ErrorKind::Cancelled,
                _ => ErrorKind::Device,
            },
            _ => ErrorKind::Device,
        }
    }

    /// What to tell a citizen or technician (zh-CN).
    pub fn describe_zh(&self) -> &'static str {
        match self {
            Self::Connect { .. } | Self::Disconnected => "外设服务连接中断，请联系工作人员",
            Self::Timeout { .. } => "设备无响应，请稍后重试",
            Self::Cancelled => "已取消",
            Self::Busy { .. } => "设备忙，请稍后重试",
            Self::Unsupported(_) => "本机外设不支持此功能，请联系工作人员",
            Self::Failed { code, .. } => match code {
                CompletionCode::UserError => "请按提示重新操作",
                CompletionCode::TimeOut => "设备操作超时，请重试",
                CompletionCode::Canceled => "已取消",
                CompletionCode::DeviceNotReady => "设备未就绪，请稍后重试",
                _ => "设备故障，请联系工作人员",
            },
            Self::Rejected { .. }
            | Self::Protocol(_)
            | Self::TooLarge { .. }
            | Self::EventFlood { .. } => "外设服务返回异常，请联系工作人员",
        }
    }
}
