//! SAM commands and status words (GA/T 467), as pure values.

use super::frame::{encode_frame, Frame};

/// A command the terminal sends to the SAM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SamCommand {
    /// `10 FF` — reset the SAM.
    Reset,
    /// `11 FF` — SAM status (also the link heartbeat).
    Status,
    /// `12 FF` — read the SAM's id.
    SamId,
    /// `20 01` — look for a card in the field.
    FindCard,
    /// `20 02` — select the card found.
    SelectCard,
    /// `30 01` — read text and photo.
    ReadTextPhoto,
    /// `30 10` — read text, photo and fingerprint.
    ReadTextPhotoFingerprint,
    /// `30 03` — read the appended (newest) address.
    ReadAppendedAddress,
}

impl SamCommand {
    /// Every command, for emulators and tests.
    pub const ALL: [SamCommand; 8] = [
        Self::Reset,
        Self::Status,
        Self::SamId,
        Self::FindCard,
        Self::SelectCard,
        Self::ReadTextPhoto,
        Self::ReadTextPhotoFingerprint,
        Self::ReadAppendedAddress,
    ];

    /// The CMD and PARA bytes.
    pub fn code(self) -> [u8; 2] {
        match self {
            Self::Reset => [0x10, 0xFF],
            Self::Status => [0x11, 0xFF],
            Self::SamId => [0x12, 0xFF],
            Self::FindCard => [0x20, 0x01],
            Self::SelectCard => [0x20, 0x02],
            Self::ReadTextPhoto => [0x30, 0x01],
            Self::ReadTextPhotoFingerprint => [0x30, 0x10],
            Self::ReadAppendedAddress => [0x30, 0x03],
        }
    }

    /// The command for CMD PARA, if known.
    pub fn from_code(code: [u8; 2]) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The full frame to send.
    pub fn encode(self) -> Vec<u8> {
        encode_frame(&self.code())
    }

    /// The SW3 that means success for this command (find card answers 0x9F).
    pub fn success_sw3(self) -> u8 {
        match self {
            Self::FindCard => 0x9F,
            _ => 0x90,
        }
    }
}

/// A reply from the SAM: status words and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamReply {
    /// SW1 SW2 SW3; SW3 is the module's status.
    pub sw: [u8; 3],
    /// Everything after SW3.
    pub data: Vec<u8>,
}

impl SamReply {
    /// Interprets a decoded frame body as a reply; `None` if it is too short.
    pub fn from_frame(frame: Frame) -> Option<Self> {
        if frame.body.len() < 3 {
            return None;
        }
        let mut body = frame.body;
        let data = body.split_off(3);
        Some(Self {
            sw: [body[0], body[1], body[2]],
            data,
        })
    }

    /// Encodes the reply as a frame (used by the emulator).
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(3 + self.data.len());
        body.extend_from_slice(&self.sw);
        body.extend_from_slice(&self.data);
        encode_frame(&body)
    }

    /// SW3, the status byte.
    pub fn sw3(&self) -> u8 {
        self.sw[2]
    }
}

/// Every failure status (SW3) a SAM reports, typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum SamError {
    /// 0x10 — the SAM received a frame with a bad checksum.
    #[error("SAM: checksum error in received frame (0x10)")]
    Checksum,
    /// 0x11 — the SAM received a frame with a bad length.
    #[error("SAM: length error in received frame (0x11)")]
    Length,
    /// 0x21 — the command or its parameters were wrong.
    #[error("SAM: bad command (0x21)")]
    BadCommand,
    /// 0x23 — operation not permitted.
    #[error("SAM: unauthorised operation (0x23)")]
    Unauthorised,
    /// 0x24 — an error the SAM could not classify.
    #[error("SAM: unrecognised error (0x24)")]
    Unrecognised,
    /// 0x31 — the card failed to authenticate the SAM.
    #[error("SAM: card failed to authenticate the reader (0x31)")]
    CardAuthFailed,
    /// 0x32 — the SAM failed to authenticate the card.
    #[error("SAM: reader failed to authenticate the card (0x32)")]
    SamAuthFailed,
    /// 0x33 — information verification failed.
    #[error("SAM: information verification failed (0x33)")]
    VerificationFailed,
    /// 0x40 — the card type is not recognised.
    #[error("SAM: unknown card type (0x40)")]
    UnknownCardType,
    /// 0x41 — reading the card failed.
    #[error("SAM: card read failed (0x41)")]
    ReadFailed,
    /// 0x47 — getting a random number failed.
    #[error("SAM: random number failed (0x47)")]
    RandomNumber,
    /// 0x60 — the SAM's self-test failed.
    #[error("SAM: self-test failed (0x60)")]
    SelfTestFailed,
    /// 0x66 — the SAM is not authorised.
    #[error("SAM: module not authorised (0x66)")]
    NotAuthorised,
    /// 0x80 — no card found.
    #[error("SAM: find card failed (0x80)")]
    FindFailed,
    /// 0x81 — selecting the card failed.
    #[error("SAM: select card failed (0x81)")]
    SelectFailed,
    /// 0x91 — nothing to read (e.g. no appended address).
    #[error("SAM: no content (0x91)")]
    NoContent,
    /// Any other status byte.
    #[error("SAM: unknown status {0:#04x}")]
    Other(u8),
}

impl SamError {
    /// The typed error for a non-success SW3.
    pub fn from_sw3(sw3: u8) -> Self {
        match sw3 {
            0x10 => Self::Checksum,
            0x11 => Self::Length,
            0x21 => Self::BadCommand,
            0x23 => Self::Unauthorised,
            0x24 => Self::Unrecognised,
            0x31 => Self::CardAuthFailed,
            0x32 => Self::SamAuthFailed,
            0x33 => Self::VerificationFailed,
            0x40 => Self::UnknownCardType,
            0x41 => Self::ReadFailed,
            0x47 => Self::RandomNumber,
            0x60 => Self::SelfTestFailed,
            0x66 => Self::NotAuthorised,
            0x80 => Self::FindFailed,
            0x81 => Self::SelectFailed,
            0x91 => Self::NoContent,
            other => Self::Other(other),
        }
    }

    /// The SW3 byte for this error.
    pub fn sw3(self) -> u8 {
        match self {
            Self::Checksum => 0x10,
            Self::Length => 0x11,
            Self::BadCommand => 0x21,
            Self::Unauthorised => 0x23,
            Self::Unrecognised => 0x24,
            Self::CardAuthFailed => 0x31,
            Self::SamAuthFailed => 0x32,
            Self::VerificationFailed => 0x33,
            Self::UnknownCardType => 0x40,
            Self::ReadFailed => 0x41,
            Self::RandomNumber => 0x47,
            Self::SelfTestFailed => 0x60,
            Self::NotAuthorised => 0x66,
            Self::FindFailed => 0x80,
            Self::SelectFailed => 0x81,
            Self::NoContent => 0x91,
            Self::Other(b) => b,
        }
    }

    /// Whether the citizen can fix it by placing the card again (as opposed to a reader fault).
    pub fn is_card_problem(self) -> bool {
        matches!(
            self,
            Self::CardAuthFailed
                | Self::SamAuthFailed
                | Self::VerificationFailed
                | Self::UnknownCardType
                | Self::ReadFailed
                | Self::RandomNumber
                | Self::FindFailed
                | Self::SelectFailed
                | Self::NoContent
        )
    }

    /// Whether resending the same command may help (the frame was damaged on the way).
    pub fn is_transmission_error(self) -> bool {
        matches!(self, Self::Checksum | Self::Length)
    }

    /// What to tell a citizen or technician (zh-CN).
    pub fn describe_zh(self) -> &'static str {
        match self {
            Self::Checksum => "读卡器收到的数据校验错误",
            Self::Length => "读卡器收到的数据长度错误",
            Self::BadCommand => "读卡器命令错误",
            Self::Unauthorised => "越权操作",
            Self::Unrecognised => "读卡器无法识别的错误",
            Self::CardAuthFailed => "卡认证读卡器失败，请重新放置身份证",
            Self::SamAuthFailed => "读卡器认证卡失败，请重新放置身份证",
            Self::VerificationFailed => "信息验证错误，请重新放置身份证",
            Self::UnknownCardType => "无法识别的卡类型",
            Self::ReadFailed => "读卡失败，请重新放置身份证",
            Self::RandomNumber => "取随机数失败，请重新放置身份证",
            Self::SelfTestFailed => "读卡器自检失败，请联系工作人员",
            Self::NotAuthorised => "读卡器安全模块未经授权，请联系工作人员",
            Self::FindFailed => "未找到身份证，请放置身份证",
            Self::SelectFailed => "选卡失败，请重新放置身份证",
            Self::NoContent => "无内容",
            Self::Other(_) => "读卡器返回未知状态",
        }
    }
}

/// The outcome of one command as far as the status word goes.
pub fn check_sw3(cmd: SamCommand, reply: &SamReply) -> Result<(), SamError> {
    if reply.sw3() == cmd.success_sw3() {
        Ok(())
    } else {
        Err(SamError::from_sw3(reply.sw3()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_sw3_maps_to_its_own_typed_error_and_back() {
        let listed = [
            0x10, 0x11, 0x21, 0x23, 0x24, 0x31, 0x32, 0x33, 0x40, 0x41, 0x47, 0x60, 0x66, 0x80,
            0x81, 0x91,
        ];
        for b in listed {
            let e = SamError::from_sw3(b);
            assert!(!matches!(e, SamError::Other(_)), "{b:#x} untyped");
            assert_eq!(e.sw3(), b);
        }
        for b in 0..=255u8 {
            assert_eq!(SamError::from_sw3(b).sw3(), b);
        }
    }

    #[test]
    fn find_card_succeeds_only_on_9f() {
        let ok = SamReply {
            sw: [0, 0, 0x9F],
            data: vec![],
        };
        let plain = SamReply {
            sw: [0, 0, 0x90],
            data: vec![],
        };
        assert!(check_sw3(SamCommand::FindCard, &ok).is_ok());
        assert!(check_sw3(SamCommand::FindCard, &plain).is_err());
        assert!(check_sw3(SamCommand::SelectCard, &plain).is_ok());
    }
}
