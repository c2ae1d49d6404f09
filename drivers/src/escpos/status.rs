//! Printer status from `DLE EOT` replies (sans-IO).

use serde::{Deserialize, Serialize};

use crate::status::DeviceState;

/// Paper as the sensors report it (XFS4IoT printer media vocabulary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaperState {
    /// Paper present, not near the end.
    Full,
    /// The roll is near its end.
    NearEnd,
    /// No paper.
    Out,
    /// Paper jammed (printer reports an error while paper is present).
    Jammed,
    /// Not known: a one-way link, or the printer did not answer.
    Unknown,
}

impl PaperState {
    /// In words (zh-CN).
    pub fn describe_zh(self) -> &'static str {
        match self {
            Self::Full => "纸充足",
            Self::NearEnd => "纸将尽",
            Self::Out => "缺纸",
            Self::Jammed => "卡纸",
            Self::Unknown => "纸张状态未知",
        }
    }
}

/// The printer's status: common state, paper and cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrinterStatus {
    /// Common device state.
    pub state: DeviceState,
    /// Paper.
    pub paper: PaperState,
    /// Cover open (`None` when unknown).
    pub cover_open: Option<bool>,
}

impl PrinterStatus {
    /// What a one-way link (device file) can say: nothing about media — never "paper OK".
    pub const UNKNOWN: PrinterStatus = PrinterStatus {
        state: DeviceState::Online,
        paper: PaperState::Unknown,
        cover_open: None,
    };

    /// Whether a job can be expected to print.
    pub fn can_print(&self) -> bool {
        self.state == DeviceState::Online
            && !matches!(self.paper, PaperState::Out | PaperState::Jammed)
            && self.cover_open != Some(true)
    }
}

/// A `DLE EOT` reply byte whose fixed bits are wrong (bit 1 and 4 set, 0 and 7 clear).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a DLE EOT status byte: {0:#04x}")]
pub struct BadStatusByte(pub u8);

fn check(b: u8) -> Result<u8, BadStatusByte> {
    if b & 0x93 == 0x12 {
        Ok(b)
    } else {
        Err(BadStatusByte(b))
    }
}

/// Combines the replies to `DLE EOT 1` (printer), `2` (offline cause) and `4` (paper sensor).
pub fn parse_status(printer: u8, offline: u8, paper: u8) -> Result<PrinterStatus, BadStatusByte> {
    let (printer, offline, paper) = (check(printer)?, check(offline)?, check(paper)?);
    let is_offline = printer & 0x08 != 0;
    let cover_open = offline & 0x04 != 0;
    let stopped_paper_end = offline & 0x20 != 0;
    let error = offline & 0x40 != 0;
    let paper_out = paper & 0x60 != 0 || stopped_paper_end;
    let near_end = paper & 0x0C != 0;
    let paper_state = if paper_out {
        PaperState::Out
    } else if error && !cover_open {
        PaperState::Jammed
    } else if near_end {
        PaperState::NearEnd
    } else {
        PaperState::Full
    };
    let state = if error && !cover_open && !paper_out {
        DeviceState::HardwareError
    } else if cover_open || paper_out {
        DeviceState::UserError
    } else if is_offline {
        DeviceState::Offline
    } else {
        DeviceState::Online
    };
    Ok(PrinterStatus {
        state,
        paper: paper_state,
        cover_open: Some(cover_open),
    })
}

/// The three reply bytes a printer in this state sends (the emulator's side).
pub fn encode_status(near_end: bool, paper_out: bool, cover_open: bool) -> [u8; 3] {
    let offline = cover_open || paper_out;
    let printer = 0x12 | if offline { 0x08 } else { 0 };
    let cause = 0x12 | if cover_open { 0x04 } else { 0 } | if paper_out { 0x20 } else { 0 };
    let paper =
        0x12 | if near_end || paper_out { 0x0C } else { 0 } | if paper_out { 0x60 } else { 0 };
    [printer, cause, paper]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn status_bits_decode_to_media_states() {
        let ok = parse_status(0x12, 0x12, 0x12).unwrap();
        assert_eq!(
            (ok.state, ok.paper, ok.cover_open),
            (DeviceState::Online, PaperState::Full, Some(false))
        );
        let [a, b, c] = encode_status(true, false, false);
        assert_eq!(parse_status(a, b, c).unwrap().paper, PaperState::NearEnd);
        let [a, b, c] = encode_status(false, true, false);
        let s = parse_status(a, b, c).unwrap();
        assert_eq!(
            (s.paper, s.state),
            (PaperState::Out, DeviceState::UserError)
        );
        let [a, b, c] = encode_status(false, false, true);
        let s = parse_status(a, b, c).unwrap();
        assert_eq!(s.cover_open, Some(true));
        assert!(!s.can_print());
        assert!(parse_status(0xFF, 0x12, 0x12).is_err());
        assert_eq!(PrinterStatus::UNKNOWN.paper, PaperState::Unknown);
    }

    proptest! {
        #[test]
        fn any_status_bytes_parse_or_fail_cleanly(a in any::<u8>(), b in any::<u8>(), c in any::<u8>()) {
            if let Ok(s) = parse_status(a, b, c) {
                prop_assert!(s.paper != PaperState::Unknown);
            }
        }
    }
}
