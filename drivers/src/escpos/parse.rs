//! ESC/POS parser (sans-IO), the emulator's side of the wire: bytes in, commands out.
//! Only the commands this crate sends are interpreted; others are skipped by their known
//! length or reported byte by byte. Lengths from the wire are capped before any allocation.

use super::encode::{Align, QrEcLevel};
use super::raster::Bitmap;

/// Widest raster row accepted (bytes): 2048 dots, wider than any receipt printer.
pub const MAX_RASTER_ROW: usize = 256;
/// Most raster rows accepted in one `GS v 0` block.
pub const MAX_RASTER_ROWS: usize = 4096;
/// Longest run of text held back waiting for its end.
pub const MAX_TEXT_RUN: usize = 4096;
/// Longest `GS ( k` parameter block accepted (a full QR store is 2956).
pub const MAX_GS_K: usize = 7092 + 3;

/// One interpreted command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EscPosEvent {
    /// `ESC @`.
    Init,
    /// Printable bytes (GB18030), up to the next control byte.
    Text(Vec<u8>),
    /// LF (or CR LF).
    LineFeed,
    /// `ESC d n`.
    Feed(u8),
    /// `ESC a n`.
    Align(Align),
    /// `ESC E n`.
    Bold(bool),
    /// `GS ! n`: width and height multipliers.
    Size(u8, u8),
    /// `FS &` / `FS .`.
    ChineseMode(bool),
    /// `GS ( k` fn 167: module size.
    QrModuleSize(u8),
    /// `GS ( k` fn 169.
    QrEcLevel(QrEcLevel),
    /// `GS ( k` fn 180: data stored.
    QrStore(Vec<u8>),
    /// `GS ( k` fn 181.
    QrPrint,
    /// `GS v 0`.
    Raster(Bitmap),
    /// `GS V`.
    Cut,
    /// `DLE EOT n`: the host wants status byte `n`.
    StatusRequest(u8),
    /// A command that was understood and ignored (e.g. QR model), with its first bytes.
    Ignored(Vec<u8>),
    /// A byte that starts nothing known, or a command whose lengths exceed the caps.
    Invalid(u8),
}

/// Incremental parser.
#[derive(Debug, Default)]
pub struct EscPosParser {
    buf: Vec<u8>,
}

enum Step {
    Need,
    Done(usize, EscPosEvent),
}

impl EscPosParser {
    /// An empty parser.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes buffered waiting for the rest of a command.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Appends bytes and returns every command now complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<EscPosEvent> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < self.buf.len() {
            match parse_one(&self.buf[pos..]) {
                Step::Need => break,
                Step::Done(n, ev) => {
                    pos += n;
                    out.push(ev);
                }
            }
        }
        self.buf.drain(..pos);
        out
    }
}

fn parse_one(b: &[u8]) -> Step {
    let need = |n: usize| b.len() < n;
    match b[0] {
        0x0A => Step::Done(1, EscPosEvent::LineFeed),
        0x0D => Step::Done(1, EscPosEvent::Ignored(vec![0x0D])),
        0x10 => {
            if need(3) {
                return Step::Need;
            }
            match b[1] {
                0x04 => Step::Done(3, EscPosEvent::StatusRequest(b[2])),
                _ => Step::Done(1, EscPosEvent::Invalid(0x10)),
            }
        }
        0x1B => {
            if need(2) {
                return Step::Need;
            }
            match b[1] {
                0x40 => Step::Done(2, EscPosEvent::Init),
                0x61 | 0x45 | 0x64 | 0x21 | 0x2D | 0x32 | 0x33 | 0x4A | 0x4D | 0x74 | 0x20 => {
                    if b[1] == 0x32 {
                        return Step::Done(2, EscPosEvent::Ignored(b[..2].to_vec()));
                    }
                    if need(3) {
                        return Step::Need;
                    }
                    let ev = match b[1] {
                        0x61 => EscPosEvent::Align(Align::from_code(b[2])),
                        0x45 => EscPosEvent::Bold(b[2] & 1 == 1),
                        0x64 => EscPosEvent::Feed(b[2]),
                        _ => EscPosEvent::Ignored(b[..3].to_vec()),
                    };
                    Step::Done(3, ev)
                }
                _ => Step::Done(1, EscPosEvent::Invalid(0x1B)),
            }
        }
        0x1C => {
            if need(2) {
                return Step::Need;
            }
            match b[1] {
                0x26 => Step::Done(2, EscPosEvent::ChineseMode(true)),
                0x2E => Step::Done(2, EscPosEvent::ChineseMode(false)),
                _ => Step::Done(1, EscPosEvent::Invalid(0x1C)),
            }
        }
        0x1D => parse_gs(b),
        c if c < 0x20 => Step::Done(1, EscPosEvent::Invalid(c)),
        _ => match b.iter().position(|c| *c < 0x20) {
            Some(n) => Step::Done(n, EscPosEvent::Text(b[..n].to_vec())),
            // Wait for the end of the run, so text split across reads comes out whole.
            None if b.len() < MAX_TEXT_RUN => Step::Need,
            None => match complete_gb18030_prefix(b) {
                0 => Step::Done(1, EscPosEvent::Invalid(b[0])),
                cut => Step::Done(cut, EscPosEvent::Text(b[..cut].to_vec())),
            },
        },
    }
}

/// Length of the longest prefix of `b` that ends on a GB18030 character boundary.
fn complete_gb18030_prefix(b: &[u8]) -> usize {
    let mut i = 0;
    let mut last = 0;
    while i < b.len() {
        let c = b[i];
        let len = if c < 0x80 {
            1
        } else if i + 1 < b.len() && (0x30..=0x39).contains(&b[i + 1]) {
            4
        } else {
            2
        };
        if i + len > b.len() {
            break;
        }
        i += len;
        last = i;
    }
    last
}

fn parse_gs(b: &[u8]) -> Step {
    if b.len() < 2 {
        return Step::Need;
    }
    match b[1] {
        0x21 => {
            if b.len() < 3 {
                return Step::Need;
            }
            Step::Done(3, EscPosEvent::Size((b[2] >> 4) + 1, (b[2] & 0x0F) + 1))
        }
        0x56 => {
            if b.len() < 3 {
                return Step::Need;
            }
            // GS V m, or GS V m n for m = 65/66.
            let len = if matches!(b[2], 65 | 66 | 97 | 98 | 103 | 104) {
                4
            } else {
                3
            };
            if b.len() < len {
                return Step::Need;
            }
            Step::Done(len, EscPosEvent::Cut)
        }
        0x28 if b.len() >= 3 && b[2] == 0x6B => {
            if b.len() < 5 {
                return Step::Need;
            }
            let n = usize::from(u16::from_le_bytes([b[3], b[4]]));
            if !(2..=MAX_GS_K).contains(&n) {
                return Step::Done(1, EscPosEvent::Invalid(0x1D));
            }
            if b.len() < 5 + n {
                return Step::Need;
            }
            let p = &b[5..5 + n];
            let ev = match (p[0], p[1]) {
                (0x31, 0x43) if n >= 3 => EscPosEvent::QrModuleSize(p[2]),
                (0x31, 0x45) if n >= 3 => match QrEcLevel::from_code(p[2]) {
                    Some(l) => EscPosEvent::QrEcLevel(l),
                    None => EscPosEvent::Ignored(p.to_vec()),
                },
                (0x31, 0x50) if n >= 3 => EscPosEvent::QrStore(p[3..].to_vec()),
                (0x31, 0x51) => EscPosEvent::QrPrint,
                _ => EscPosEvent::Ignored(p[..2].to_vec()),
            };
            Step::Done(5 + n, ev)
        }
        0x28 if b.len() < 3 => Step::Need,
        0x76 => {
            if b.len() < 8 {
                return Step::Need;
            }
            if b[2] != 0x30 {
                return Step::Done(1, EscPosEvent::Invalid(0x1D));
            }
            let x = usize::from(u16::from_le_bytes([b[4], b[5]]));
            let y = usize::from(u16::from_le_bytes([b[6], b[7]]));
            if x == 0 || y == 0 || x > MAX_RASTER_ROW || y > MAX_RASTER_ROWS {
                return Step::Done(1, EscPosEvent::Invalid(0x1D));
            }
            let len = 8 + x * y;
            if b.len() < len {
                return Step::Need;
            }
            match Bitmap::from_raw(x, y, b[8..len].to_vec()) {
                Some(bmp) => Step::Done(len, EscPosEvent::Raster(bmp)),
                None => Step::Done(1, EscPosEvent::Invalid(0x1D)),
            }
        }
        _ => Step::Done(1, EscPosEvent::Invalid(0x1D)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escpos::encode::EscPos;
    use proptest::prelude::*;

    #[test]
    fn parses_what_the_encoder_writes_even_byte_by_byte() {
        let mut p = EscPos::new();
        p.init()
            .align(Align::Center)
            .bold(true)
            .size(2, 2)
            .line("渝快办")
            .size(1, 1)
            .bold(false);
        p.qr(b"https://example.invalid/q?id=1", 6, QrEcLevel::Q)
            .unwrap();
        p.raster(&Bitmap::new(16, 3)).feed(3).cut();
        let bytes = p.into_bytes();
        let whole = EscPosParser::new().push(&bytes);
        let mut one = EscPosParser::new();
        let split: Vec<EscPosEvent> = bytes.iter().flat_map(|b| one.push(&[*b])).collect();
        assert_eq!(whole, split);
        assert!(whole.contains(&EscPosEvent::Text(vec![0xD3, 0xE5, 0xBF, 0xEC, 0xB0, 0xEC])));
        assert!(whole.contains(&EscPosEvent::Size(2, 2)));
        assert!(whole.contains(&EscPosEvent::QrEcLevel(QrEcLevel::Q)));
        assert!(whole.contains(&EscPosEvent::QrStore(
            b"https://example.invalid/q?id=1".to_vec()
        )));
        assert!(whole.contains(&EscPosEvent::Raster(Bitmap::new(16, 3))));
        assert_eq!(whole.last(), Some(&EscPosEvent::Cut));
        assert!(!whole.iter().any(|e| matches!(e, EscPosEvent::Invalid(_))));
    }

    #[test]
    fn oversized_raster_header_is_rejected_without_allocating() {
        let mut p = EscPosParser::new();
        let ev = p.push(&[0x1D, 0x76, 0x30, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, b'A', b'\n']);
        assert_eq!(ev[0], EscPosEvent::Invalid(0x1D));
        assert_eq!(ev.last(), Some(&EscPosEvent::LineFeed));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_and_buffer_is_bounded(
            chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..400), 0..20)
        ) {
            let mut p = EscPosParser::new();
            for c in chunks {
                let _ = p.push(&c);
                prop_assert!(p.buffered() <= 8 + MAX_RASTER_ROW * MAX_RASTER_ROWS);
            }
        }

        #[test]
        fn commands_after_garbage_are_still_found(garbage in proptest::collection::vec(0x20u8..0x7F, 0..50)) {
            let mut p = EscPosParser::new();
            let mut bytes = garbage;
            bytes.extend_from_slice(&[0x10, 0x04, 0x04, 0x1D, 0x56, 0x42, 0x00]);
            let ev = p.push(&bytes);
            prop_assert!(ev.contains(&EscPosEvent::StatusRequest(4)));
            prop_assert_eq!(ev.last(), Some(&EscPosEvent::Cut));
        }
    }
}
