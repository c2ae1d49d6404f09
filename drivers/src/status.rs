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

