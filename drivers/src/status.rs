//! The common device status, in the vocabulary of XFS4IoT.

/// The state every device reports, whatever its class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    /// Working and ready for commands.
    Online,
    /// Known but not answering (unplugged, powered off).
    Offline,
    /// Not configured or not present at all.
    NoDevice,
    /// The device reports a fault it cannot recover from by itself.
    HardwareError,
    /// Something the user did stopped the command (e.g. card lifted mid-read).
    UserError,
    /// Executing a command.
    Busy,
    /// Initialising after power-on or reconnection.
    Starting,
}

impl DeviceState {
    /// The state in words for a citizen or a technician (zh-CN).
    pub fn describe_zh(self) -> &'static str {
        match self {
            Self::Online => "正常",
            Self::Offline => "未连接",
            Self::NoDevice => "未配置",
            Self::HardwareError => "设备故障",
            Self::UserError => "操作未完成",
            Self::Busy => "忙",
            Self::Starting => "启动中",
        }
    }
}

/// A status change, as published on a device's status stream.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StatusEvent {
    /// Which device (its port path or URI).
    pub device: String,
    /// The new common state.
    pub state: DeviceState,
    /// Why it changed, for logs and technicians (English, one line).
    pub detail: String,
}

/// Adds a subscriber to a device's status stream: the first event on the returned channel is
/// the current `state` of `device` ("current state"), wrapped by `as_event`.
pub(crate) fn subscribe<E>(
    subscribers: &mut Vec<std::sync::mpsc::Sender<E>>,
    device: String,
    state: DeviceState,
    as_event: impl FnOnce(StatusEvent) -> E,
) -> std::sync::mpsc::Receiver<E> {
    let (tx, rx) = std::sync::mpsc::channel();
    let _ = tx.send(as_event(StatusEvent {
        device,
        state,
        detail: "current state".into(),
    }));
    subscribers.push(tx);
    rx
}

/// The broad class of a failed command, so callers can react without knowing the driver
/// (in the spirit of embedded-hal's `ErrorKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The citizen should act: place the card again, hold it still, close the cover.
    User,
    /// The device or its link is broken: call staff.
    Device,
    /// The device did not answer in time.
    Timeout,
    /// The command was cancelled on request.
    Cancelled,
}

impl ErrorKind {
    /// What to tell a citizen (zh-CN).
    pub fn describe_zh(self) -> &'static str {
        match self {
            Self::User => "请重新操作",
            Self::Device => "设备故障，请联系工作人员",
            Self::Timeout => "设备无响应，请稍后重试",
            Self::Cancelled => "已取消",
        }
    }
}
