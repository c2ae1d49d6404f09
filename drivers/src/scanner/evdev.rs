//! Keyboard-wedge scanners through Linux evdev: the scanner "types" each code as key presses
//! followed by Enter. The device is grabbed exclusively (`EVIOCGRAB`), so a code never lands
//! in whatever has keyboard focus, and the key presses are turned back into text here.
//!
//! Sans-IO: [`EventParser`] (bytes → `struct input_event`) and [`KeyDecoder`] (key events →
//! codes, US layout as wedge scanners send it). IO: [`EvdevScanner`], a thread that opens the
//! device file, grabs it, reads, and reopens after unplug.

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::sanitize::sanitize;
use super::serial::{run_device, start_thread, ScanEvent};

/// Size of `struct input_event` on 64-bit Linux: a 16-byte timeval, then type (u16), code
/// (u16) and value (i32), little-endian.
pub const EVENT_SIZE: usize = 24;
const EV_KEY: u16 = 1;
const KEY_ENTER: u16 = 28;
const KEY_KPENTER: u16 = 96;
const KEY_LEFTSHIFT: u16 = 42;
const KEY_RIGHTSHIFT: u16 = 54;

/// One input event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputEvent {
    /// Event type (`EV_KEY` = 1 for keys).
    pub kind: u16,
    /// Key code.
    pub code: u16,
    /// 1 press, 0 release, 2 auto-repeat.
    pub value: i32,
}

impl InputEvent {
    /// The event as the kernel writes it (timestamp zero), for emulators and tests.
    pub fn to_bytes(self) -> [u8; EVENT_SIZE] {
        let mut b = [0u8; EVENT_SIZE];
        b[16..18].copy_from_slice(&self.kind.to_le_bytes());
        b[18..20].copy_from_slice(&self.code.to_le_bytes());
        b[20..24].copy_from_slice(&self.value.to_le_bytes());
        b
    }
}

/// Splits a byte stream into input events; a partial event waits for the rest.
#[derive(Debug, Default)]
pub struct EventParser {
    pending: Vec<u8>,
}

impl EventParser {
    /// Feeds bytes read from the device; returns the complete events.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<InputEvent> {
        self.pending.extend_from_slice(bytes);
        let whole = self.pending.len() / EVENT_SIZE * EVENT_SIZE;
        let events = self.pending[..whole]
            .chunks_exact(EVENT_SIZE)
            .map(|c| InputEvent {
                kind: u16::from_le_bytes([c[16], c[17]]),
                code: u16::from_le_bytes([c[18], c[19]]),
                value: i32::from_le_bytes([c[20], c[21], c[22], c[23]]),
            })
            .collect();
        self.pending.drain(..whole);
        events
    }
}

/// The character a key types on a US layout, without and with Shift.
fn key_char(code: u16) -> Option<(u8, u8)> {
    const ROW1: &[u8; 12] = b"1234567890-=";
    const ROW1_SHIFT: &[u8; 12] = b"!@#$%^&*()_+";
    const ROW2: &[u8; 12] = b"qwertyuiop[]";
    const ROW3: &[u8; 12] = b"asdfghjkl;'`";
    const ROW4: &[u8; 10] = b"zxcvbnm,./";
    let pick = |row: &[u8], shifted: &[u8], i: usize| Some((row[i], shifted[i]));
    match code {
        2..=13 => pick(ROW1, ROW1_SHIFT, usize::from(code - 2)),
        16..=27 => pick(ROW2, b"QWERTYUIOP{}", usize::from(code - 16)),
        30..=41 => pick(ROW3, b"ASDFGHJKL:\"~", usize::from(code - 30)),
        43 => Some((b'\\', b'|')),
        44..=53 => pick(ROW4, b"ZXCVBNM<>?", usize::from(code - 44)),
        55 => Some((b'*', b'*')),
        57 => Some((b' ', b' ')),
        // Keypad: 7 8 9 - 4 5 6 + 1 2 3 0 .
        71..=83 => {
            let c = b"789-456+1230."[usize::from(code - 71)];
            Some((c, c))
        }
        98 => Some((b'/', b'/')),
        _ => None,
    }
}

/// Turns key events back into the codes a wedge scanner typed.
#[derive(Debug)]
pub struct KeyDecoder {
    max_len: usize,
    shift_left: bool,
    shift_right: bool,
    line: Vec<u8>,
    overflow: usize,
}

impl KeyDecoder {
    /// A decoder that drops codes longer than `max_len` bytes.
    pub fn new(max_len: usize) -> Self {
        Self {
            max_len,
            shift_left: false,
            shift_right: false,
            line: Vec::new(),
            overflow: 0,
        }
    }

    /// Feeds one event; returns a code when Enter ends one.
    pub fn feed(&mut self, ev: InputEvent) -> Option<ScanEvent> {
        if ev.kind != EV_KEY {
            return None;
        }
        match ev.code {
            KEY_LEFTSHIFT => self.shift_left = ev.value != 0,
            KEY_RIGHTSHIFT => self.shift_right = ev.value != 0,
            KEY_ENTER | KEY_KPENTER if ev.value == 1 => return self.finish(),
            code if ev.value == 1 => {
                if let Some((plain, shifted)) = key_char(code) {
                    let c = if self.shift_left || self.shift_right {
                        shifted
                    } else {
                        plain
                    };
                    if self.line.len() < self.max_len {
                        self.line.push(c);
                    } else {
                        self.overflow += 1;
                    }
                }
            }
            // Releases and auto-repeats of ordinary keys type nothing.
            _ => {}
        }
        None
    }

    fn finish(&mut self) -> Option<ScanEvent> {
        let line = std::mem::take(&mut self.line);
        let overflow = std::mem::take(&mut self.overflow);
        if overflow > 0 {
            return Some(ScanEvent::Oversize(line.len() + overflow));
        }
        if line.is_empty() {
            return None;
        }
        Some(match sanitize(&line) {
            Ok(p) => ScanEvent::Code(p),
            Err(e) => ScanEvent::Rejected(e),
        })
    }
}

/// How to run an evdev scanner.
#[derive(Debug, Clone)]
pub struct EvdevConfig {
    /// The event device, e.g. `/dev/input/by-id/usb-…-event-kbd`.
    pub path: PathBuf,
    /// Grab the device exclusively (always on a real scanner; a FIFO cannot be grabbed).
    pub exclusive: bool,
    /// Longest code in bytes.
    pub max_len: usize,
}

/// A keyboard-wedge scanner device.
pub struct EvdevScanner {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// `EVIOCGRAB` = `_IOW('E', 0x90, int)`.
const EVIOCGRAB: libc::c_ulong = 0x4004_4590;

fn grab(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: EVIOCGRAB takes an int argument by value; the fd is open for the call's length.
    let r = unsafe { libc::ioctl(file.as_raw_fd(), EVIOCGRAB as _, 1 as libc::c_int) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

impl EvdevScanner {
    /// Starts the device thread; codes and status changes go to the returned receiver.
    pub fn spawn(config: EvdevConfig) -> (Self, Receiver<ScanEvent>) {
        let (stop, thread, rx) = start_thread("qr-evdev", move |tx, stop| {
            let device = config.path.display().to_string();
            run_device(
                device,
                &tx,
                stop,
                Duration::from_millis(200),
                "device opened",
                || {
                    std::fs::File::open(&config.path).and_then(|f| {
                        if config.exclusive {
                            grab(&f)?;
                        }
                        Ok(f)
                    })
                },
                |f| read_keys(f, config.max_len, &tx, stop),
            );
        })
        .expect("spawn evdev scanner thread");
        (
            Self {
                stop,
                thread: Some(thread),
            },
            rx,
        )
    }
}

/// Reads key events from the opened device until it fails (the reason), or until nobody
/// listens or `stop` is set (`None`: the thread ends).
fn read_keys(
    f: &mut std::fs::File,
    max_len: usize,
    tx: &Sender<ScanEvent>,
    stop: &AtomicBool,
) -> Option<String> {
    let mut parser = EventParser::default();
    let mut decoder = KeyDecoder::new(max_len);
    let mut buf = [0u8; EVENT_SIZE * 64];
    loop {
        match f.read(&mut buf) {
            Ok(0) => return Some("device closed".to_owned()),
            Ok(n) => {
                for ev in parser.push(&buf[..n]) {
                    if let Some(e) = decoder.feed(ev) {
                        if tx.send(e).is_err() {
                            return None;
                        }
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Some(format!("read failed: {e}")),
        }
        if stop.load(Ordering::SeqCst) {
            return None;
        }
    }
}

impl Drop for EvdevScanner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // A blocked read ends when the device goes away or the next key arrives; do not wait
        // for it here.
        if let Some(t) = self.thread.take() {
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}

/// The key events a wedge scanner sends for `text` (ASCII) followed by Enter, for emulators
/// and tests. Characters with no key on a US layout are skipped.
pub fn type_text(text: &str) -> Vec<InputEvent> {
    let key = |code, value| InputEvent {
        kind: EV_KEY,
        code,
        value,
    };
    let mut out = Vec::new();
    for b in text.bytes() {
        let found = (0u16..=98).find_map(|code| {
            key_char(code).and_then(|(plain, shifted)| {
                if plain == b {
                    Some((code, false))
                } else if shifted == b {
                    Some((code, true))
                } else {
                    None
                }
            })
        });
        if let Some((code, shift)) = found {
            if shift {
                out.push(key(KEY_LEFTSHIFT, 1));
            }
            out.push(key(code, 1));
            out.push(key(code, 0));
            if shift {
                out.push(key(KEY_LEFTSHIFT, 0));
            }
        }
    }
    out.push(key(KEY_ENTER, 1));
    out.push(key(KEY_ENTER, 0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode(events: &[InputEvent]) -> Vec<ScanEvent> {
        let mut d = KeyDecoder::new(64);
        events.iter().filter_map(|e| d.feed(*e)).collect()
    }

    #[test]
    fn typed_text_decodes_back_with_shift_and_punctuation() {
        let text = "HTTPS://ykb.cq.gov.cn/c/AbC-123_x?t=9&k=Z~|";
        match &decode(&type_text(text))[..] {
            [ScanEvent::Code(p)] => assert_eq!(p.text, text),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keypad_digits_and_keypad_enter_work() {
        let key = |code, value| InputEvent {
            kind: EV_KEY,
            code,
            value,
        };
        let events = [
            key(79, 1),
            key(79, 0),
            key(82, 1),
            key(82, 0),
            key(83, 1),
            key(KEY_KPENTER, 1),
        ];
        match &decode(&events)[..] {
            [ScanEvent::Code(p)] => assert_eq!(p.text, "10."),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn repeats_releases_other_event_types_and_empty_lines_type_nothing() {
        let mut events = vec![
            InputEvent {
                kind: 4,
                code: 4,
                value: 458_792,
            }, // EV_MSC scan code
            InputEvent {
                kind: EV_KEY,
                code: 30,
                value: 2,
            }, // auto-repeat
            InputEvent {
                kind: EV_KEY,
                code: KEY_ENTER,
                value: 1,
            },
        ];
        assert!(decode(&events).is_empty());
        events.extend(type_text("a"));
        assert_eq!(decode(&events).len(), 1);
    }

    #[test]
    fn an_over_long_code_is_reported_not_truncated() {
        let mut d = KeyDecoder::new(8);
        let out: Vec<_> = type_text("0123456789AB")
            .into_iter()
            .filter_map(|e| d.feed(e))
            .collect();
        assert_eq!(out, vec![ScanEvent::Oversize(12)]);
        // The next code is whole again.
        let out: Vec<_> = type_text("ok")
            .into_iter()
            .filter_map(|e| d.feed(e))
            .collect();
        assert!(matches!(&out[..], [ScanEvent::Code(p)] if p.text == "ok"));
    }

    #[test]
    fn events_split_across_reads_are_reassembled() {
        let bytes: Vec<u8> = type_text("ab")
            .into_iter()
            .flat_map(InputEvent::to_bytes)
            .collect();
        let mut p = EventParser::default();
        let mut all = Vec::new();
        for chunk in bytes.chunks(7) {
            all.extend(p.push(chunk));
        }
        assert_eq!(all, type_text("ab"));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_and_stay_bounded(bytes in proptest::collection::vec(any::<u8>(), 0..4000)) {
            let mut p = EventParser::default();
            let mut d = KeyDecoder::new(32);
            for chunk in bytes.chunks(13) {
                for ev in p.push(chunk) {
                    if let Some(ScanEvent::Code(c)) = d.feed(ev) {
                        prop_assert!(c.text.len() <= 32);
                    }
                }
                prop_assert!(p.pending.len() < EVENT_SIZE);
            }
        }
    }
}
