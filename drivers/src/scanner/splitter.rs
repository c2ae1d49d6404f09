//! Splits a serial scanner's byte stream into codes (sans-IO): CR, LF or CRLF terminators, or
//! none at all with an idle gap ending each code. Lengths are capped before buffering.

use std::time::{Duration, Instant};

/// How codes are separated and how long they may be.
#[derive(Debug, Clone, Copy)]
pub struct SplitterConfig {
    /// Longest code in bytes; longer ones are dropped and reported.
    pub max_len: usize,
    /// Silence that ends a code when the scanner sends no terminator (`None`: terminators only).
    pub idle_gap: Option<Duration>,
}

impl Default for SplitterConfig {
    fn default() -> Self {
        Self {
            max_len: 4096,
            idle_gap: Some(Duration::from_millis(60)),
        }
    }
}

/// What the splitter found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitEvent {
    /// One code's raw bytes.
    Code(Vec<u8>),
    /// A code longer than `max_len` was dropped (its length up to the terminator).
    Oversize(usize),
}

/// The splitter state machine.
#[derive(Debug)]
pub struct LineSplitter {
    config: SplitterConfig,
    buf: Vec<u8>,
    dropped: usize,
    after_cr: bool,
    last_byte: Option<Instant>,
}

impl LineSplitter {
    /// A splitter with `config`.
    pub fn new(config: SplitterConfig) -> Self {
        Self {
            config,
            buf: Vec::new(),
            dropped: 0,
            after_cr: false,
            last_byte: None,
        }
    }

    fn end(&mut self, out: &mut Vec<SplitEvent>) {
        if self.dropped > 0 {
            out.push(SplitEvent::Oversize(self.buf.len() + self.dropped));
        } else if !self.buf.is_empty() {
            out.push(SplitEvent::Code(self.buf.clone()));
        }
        self.buf.clear();
        self.dropped = 0;
    }

    fn pending(&self) -> bool {
        !self.buf.is_empty() || self.dropped > 0
    }

    /// Feeds bytes that arrived at `now`.
    pub fn push(&mut self, bytes: &[u8], now: Instant) -> Vec<SplitEvent> {
        let mut out = Vec::new();
        if bytes.is_empty() {
            return out;
        }
        // Silence before these bytes ends the previous code even if poll was not called.
        if let (Some(gap), Some(last)) = (self.config.idle_gap, self.last_byte) {
            if self.pending() && now.saturating_duration_since(last) >= gap {
                self.end(&mut out);
            }
        }
        for &b in bytes {
            match b {
                b'\r' => {
                    self.end(&mut out);
                    self.after_cr = true;
                }
                b'\n' if self.after_cr => self.after_cr = false,
                b'\n' => self.end(&mut out),
                _ => {
                    self.after_cr = false;
                    if self.buf.len() < self.config.max_len && self.dropped == 0 {
                        self.buf.push(b);
                    } else {
                        self.dropped += 1;
                    }
                }
            }
        }
        self.last_byte = Some(now);
        out
    }

    /// Ends a code after the idle gap; call when no bytes arrived for a while.
    pub fn poll(&mut self, now: Instant) -> Option<SplitEvent> {
        let gap = self.config.idle_gap?;
        let last = self.last_byte?;
        if self.pending() && now.saturating_duration_since(last) >= gap {
            let mut out = Vec::new();
            self.end(&mut out);
            return out.pop();
        }
        None
    }

    /// When `poll` should next be called (`None`: nothing pending).
    pub fn next_deadline(&self) -> Option<Instant> {
        match (self.config.idle_gap, self.last_byte) {
            (Some(gap), Some(last)) if self.pending() => Some(last + gap),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn codes(ev: Vec<SplitEvent>) -> Vec<String> {
        ev.into_iter()
            .map(|e| match e {
                SplitEvent::Code(c) => String::from_utf8(c).unwrap(),
                SplitEvent::Oversize(n) => format!("<{n}>"),
            })
            .collect()
    }

    #[test]
    fn cr_lf_and_crlf_all_end_codes_once() {
        let mut s = LineSplitter::new(SplitterConfig {
            idle_gap: None,
            ..Default::default()
        });
        let t = Instant::now();
        assert_eq!(codes(s.push(b"A\rB\nC\r\nD\r", t)), ["A", "B", "C", "D"]);
        // LF after a CR from an earlier read is the same terminator.
        assert_eq!(codes(s.push(b"\nE\r\n\r\n", t)), ["E"]);
    }

    #[test]
    fn idle_gap_ends_unterminated_codes() {
        let mut s = LineSplitter::new(SplitterConfig::default());
        let t = Instant::now();
        assert!(s.push(b"12345", t).is_empty());
        assert_eq!(s.poll(t + Duration::from_millis(10)), None);
        assert_eq!(s.next_deadline(), Some(t + Duration::from_millis(60)));
        assert_eq!(
            s.poll(t + Duration::from_millis(61)),
            Some(SplitEvent::Code(b"12345".to_vec()))
        );
        assert!(s.push(b"67", t + Duration::from_secs(1)).is_empty());
        assert_eq!(codes(s.push(b"89", t + Duration::from_secs(2))), ["67"]);
    }

    #[test]
    fn oversize_codes_are_dropped_and_reported() {
        let mut s = LineSplitter::new(SplitterConfig {
            max_len: 4,
            idle_gap: None,
        });
        assert_eq!(
            codes(s.push(b"123456789\rok\r", Instant::now())),
            ["<9>", "ok"]
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_and_codes_are_bounded(
            chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..30)
        ) {
            let mut s = LineSplitter::new(SplitterConfig { max_len: 64, ..Default::default() });
            let t = Instant::now();
            for (i, c) in chunks.iter().enumerate() {
                let now = t + Duration::from_millis(i as u64 * 40);
                for e in s.push(c, now).into_iter().chain(s.poll(now)) {
                    if let SplitEvent::Code(c) = e {
                        prop_assert!(!c.is_empty() && c.len() <= 64);
                        prop_assert!(!c.contains(&b'\r') && !c.contains(&b'\n'));
                    }
                }
                prop_assert!(s.buf.len() <= 64);
            }
        }

        #[test]
        fn any_terminator_mix_recovers_every_code(
            codes_in in proptest::collection::vec("[A-Za-z0-9]{1,20}", 1..10),
            terms in proptest::collection::vec(0usize..3, 10),
            split in 0usize..300,
        ) {
            let mut wire = Vec::new();
            for (c, t) in codes_in.iter().zip(terms.iter().cycle()) {
                wire.extend_from_slice(c.as_bytes());
                wire.extend_from_slice([&b"\r"[..], b"\n", b"\r\n"][*t]);
            }
            let split = split.min(wire.len());
            let mut s = LineSplitter::new(SplitterConfig { idle_gap: None, ..Default::default() });
            let t = Instant::now();
            let mut got = codes(s.push(&wire[..split], t));
            got.extend(codes(s.push(&wire[split..], t)));
            prop_assert_eq!(got, codes_in);
        }
    }
}
