//! GA/T 467 SAM frame codec (sans-IO).
//!
//! `AA AA AA 96 69 | LEN (u16 BE: bytes after it, checksum included) | BODY | CHK`, where BODY is
//! `CMD PARA DATA` from the terminal or `SW1 SW2 SW3 DATA` from the SAM, and CHK is the XOR of
//! every byte from LEN to the end of BODY.

use std::fmt;

/// The five bytes that open every frame.
pub const PREAMBLE: [u8; 5] = [0xAA, 0xAA, 0xAA, 0x96, 0x69];

/// The largest LEN any command or reply uses, with headroom: a `30 10` reply with a 1024-byte
/// fingerprint has LEN 2314. Longer LEN values are garbage and are never allocated for.
pub const MAX_LEN: usize = 2400;

/// The smallest LEN: two header bytes (CMD PARA) plus the checksum.
pub const MIN_LEN: usize = 3;

/// XOR of `bytes`, the GA/T 467 checksum.
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |acc, b| acc ^ b)
}

/// Wraps `body` (CMD PARA DATA or SW1 SW2 SW3 DATA) in a complete frame.
///
/// Panics only if `body` is longer than the protocol allows, which is a programming error.
pub fn encode_frame(body: &[u8]) -> Vec<u8> {
    let len = body.len() + 1;
    assert!(len <= MAX_LEN, "SAM frame body too long: {}", body.len());
    let mut out = Vec::with_capacity(PREAMBLE.len() + 2 + len);
    out.extend_from_slice(&PREAMBLE);
    out.extend_from_slice(&(len as u16).to_be_bytes());
    out.extend_from_slice(body);
    let chk = checksum(&out[PREAMBLE.len()..]);
    out.push(chk);
    out
}

/// Why bytes on the wire were not a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The checksum did not match.
    #[error("frame checksum mismatch (got {got:#04x}, computed {computed:#04x})")]
    Checksum {
        /// Checksum byte on the wire.
        got: u8,
        /// Checksum computed over LEN..BODY.
        computed: u8,
    },
    /// LEN was outside `MIN_LEN..=MAX_LEN`.
    #[error("frame length {0} out of range")]
    Length(usize),
}

/// One decoded frame body (between LEN and CHK).
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    /// CMD PARA DATA (commands) or SW1 SW2 SW3 DATA (replies).
    pub body: Vec<u8>,
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head: Vec<String> = self
            .body
            .iter()
            .take(8)
            .map(|b| format!("{b:02X}"))
            .collect();
        write!(f, "Frame[{} bytes: {}…]", self.body.len(), head.join(" "))
    }
}

/// Accumulates bytes as they arrive and yields frames; skips garbage and resynchronises on the
/// next preamble after a bad frame.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    skipped: usize,
}

impl FrameDecoder {
    /// An empty decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        self.drop_garbage();
    }

    /// Forgets everything buffered (before sending a new command).
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// Bytes currently buffered (at most one frame's worth plus the last push).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Garbage bytes skipped so far (for diagnostics).
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// The next complete frame, an error for a bad one, or `None` if more bytes are needed.
    pub fn next_frame(&mut self) -> Option<Result<Frame, FrameError>> {
        self.drop_garbage();
        if self.buf.len() < PREAMBLE.len() + 2 {
            return None;
        }
        let len = u16::from_be_bytes([self.buf[5], self.buf[6]]) as usize;
        if !(MIN_LEN..=MAX_LEN).contains(&len) {
            self.discard_preamble();
            return Some(Err(FrameError::Length(len)));
        }
        let total = PREAMBLE.len() + 2 + len;
        if self.buf.len() < total {
            return None;
        }
        let computed = checksum(&self.buf[PREAMBLE.len()..total - 1]);
        let got = self.buf[total - 1];
        if computed != got {
            // The LEN may itself be garbage; rescan from just after this preamble.
            self.discard_preamble();
            return Some(Err(FrameError::Checksum { got, computed }));
        }
        let body = self.buf[PREAMBLE.len() + 2..total - 1].to_vec();
        self.buf.drain(..total);
        Some(Ok(Frame { body }))
    }

    fn discard_preamble(&mut self) {
        self.buf.drain(..PREAMBLE.len());
        self.skipped += PREAMBLE.len();
    }

    /// Drops bytes before the first preamble, keeping a trailing partial preamble.
    fn drop_garbage(&mut self) {
        if self.buf.starts_with(&PREAMBLE) {
            return;
        }
        let keep_from = match self.buf.windows(PREAMBLE.len()).position(|w| w == PREAMBLE) {
            Some(pos) => pos,
            None => {
                // Keep the longest suffix that is a prefix of the preamble.
                let max = (PREAMBLE.len() - 1).min(self.buf.len());
                let mut keep = 0;
                for k in (1..=max).rev() {
                    if self.buf[self.buf.len() - k..] == PREAMBLE[..k] {
                        keep = k;
                        break;
                    }
                }
                self.buf.len() - keep
            }
        };
        if keep_from > 0 {
            self.buf.drain(..keep_from);
            self.skipped += keep_from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reset_command_frame_has_computed_checksum() {
        // LEN = 00 03, CMD 10, PARA FF: XOR = 00^03^10^FF = EC.
        assert_eq!(
            encode_frame(&[0x10, 0xFF]),
            vec![0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x10, 0xFF, 0xEC]
        );
    }

    #[test]
    fn decoder_accumulates_a_reply_split_byte_by_byte() {
        let frame = encode_frame(&[0, 0, 0x90, 1, 2, 3]);
        let mut d = FrameDecoder::new();
        for (i, b) in frame.iter().enumerate() {
            d.push(&[*b]);
            let got = d.next_frame();
            if i + 1 < frame.len() {
                assert!(got.is_none(), "early frame at byte {i}");
            } else {
                assert_eq!(got.unwrap().unwrap().body, vec![0, 0, 0x90, 1, 2, 3]);
            }
        }
    }

    #[test]
    fn decoder_resyncs_after_garbage_and_bad_checksum() {
        let mut bad = encode_frame(&[0, 0, 0x90]);
        *bad.last_mut().unwrap() ^= 0xFF;
        let good = encode_frame(&[0, 0, 0x9F]);
        let mut d = FrameDecoder::new();
        d.push(&[0x01, 0xAA, 0xAA, 0x55]);
        d.push(&bad);
        d.push(&[0xAA, 0xAA]);
        d.push(&good);
        assert!(matches!(
            d.next_frame(),
            Some(Err(FrameError::Checksum { .. }))
        ));
        assert_eq!(d.next_frame().unwrap().unwrap().body, vec![0, 0, 0x9F]);
        assert!(d.next_frame().is_none());
    }

    #[test]
    fn decoder_rejects_oversized_length_without_waiting() {
        let mut d = FrameDecoder::new();
        d.push(&[0xAA, 0xAA, 0xAA, 0x96, 0x69, 0xFF, 0xFF]);
        assert_eq!(d.next_frame(), Some(Err(FrameError::Length(0xFFFF))));
        assert!(d.next_frame().is_none());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_and_buffer_stays_bounded(
            chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..20)
        ) {
            let mut d = FrameDecoder::new();
            for c in &chunks {
                d.push(c);
                while let Some(r) = d.next_frame() {
                    if let Ok(f) = r {
                        prop_assert!(f.body.len() < MAX_LEN);
                    }
                }
                // After draining, at most one incomplete frame (header + MAX_LEN) remains.
                prop_assert!(d.buffered() <= PREAMBLE.len() + 2 + MAX_LEN);
            }
        }

        #[test]
        fn frame_after_garbage_is_recovered(
            garbage in proptest::collection::vec(any::<u8>(), 0..200),
            body in proptest::collection::vec(any::<u8>(), 2..600),
            split in 0usize..2000,
        ) {
            let frame = encode_frame(&body);
            // Garbage followed by two copies: the second copy must always come out intact,
            // whatever the garbage made of the first.
            let mut wire = garbage.clone();
            wire.extend_from_slice(&frame);
            wire.extend_from_slice(&frame);
            let split = split.min(wire.len());
            let mut d = FrameDecoder::new();
            let mut got = Vec::new();
            for part in [&wire[..split], &wire[split..]] {
                d.push(part);
                while let Some(r) = d.next_frame() {
                    if let Ok(f) = r { got.push(f.body); }
                }
            }
            prop_assert!(got.iter().filter(|b| **b == body).count() >= 1);
            prop_assert_eq!(got.last().unwrap(), &body);
        }

        #[test]
        fn encode_then_decode_round_trips(body in proptest::collection::vec(any::<u8>(), 2..2000)) {
            let mut d = FrameDecoder::new();
            d.push(&encode_frame(&body));
            prop_assert_eq!(d.next_frame().unwrap().unwrap().body, body);
        }
    }
}
