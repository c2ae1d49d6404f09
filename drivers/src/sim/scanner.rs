//! Serial scanner emulator on a pseudo-terminal: sends codes on command, with a chosen
//! terminator and encoding.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;

use super::pty::{byte_time, PtyDevice, WireDevice};

/// How the emulated scanner ends each code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Terminator {
    /// `\r` (most scanners' default).
    #[default]
    Cr,
    /// `\n`.
    Lf,
    /// `\r\n`.
    CrLf,
    /// Nothing: the host relies on the idle gap.
    None,
}

impl Terminator {
    fn bytes(self) -> &'static [u8] {
        match self {
            Self::Cr => b"\r",
            Self::Lf => b"\n",
            Self::CrLf => b"\r\n",
            Self::None => b"",
        }
    }
}

/// The scanner (sans-IO): a queue of bytes to send.
#[derive(Debug, Default)]
pub struct ScannerDevice {
    queue: VecDeque<Vec<u8>>,
    terminator: Terminator,
    gb18030: bool,
    baud: Option<u32>,
}

impl ScannerDevice {
    /// Queues one code.
    pub fn scan(&mut self, code: &str) {
        let mut bytes = if self.gb18030 {
            crate::escpos::gb::to_gb18030(code)
        } else {
            code.as_bytes().to_vec()
        };
        bytes.extend_from_slice(self.terminator.bytes());
        self.queue.push_back(bytes);
    }

    /// Queues raw bytes as they are (garbage, oversize codes).
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.queue.push_back(bytes.to_vec());
    }

    /// Sets the terminator.
    pub fn set_terminator(&mut self, t: Terminator) {
        self.terminator = t;
    }

    /// Sends codes in GB18030 instead of UTF-8.
    pub fn set_gb18030(&mut self, on: bool) {
        self.gb18030 = on;
    }

    /// Real line timing at `baud` (e.g. 9600), or instant with `None`.
    pub fn set_timing(&mut self, baud: Option<u32>) {
        self.baud = baud;
    }

    /// Runs a control line: `scan TEXT`, `term cr|lf|crlf|none`, `encoding utf8|gb18030`,
    /// `timing on|off|BAUD`, `garbage N`.
    pub fn control(&mut self, line: &str) -> Result<String, String> {
        let (cmd, rest) = line.trim().split_once(' ').unwrap_or((line.trim(), ""));
        match (cmd, rest.trim()) {
            ("scan", text) if !text.is_empty() => {
                self.scan(text);
                Ok(format!("queued {text:?}"))
            }
            ("term", t) => {
                self.terminator = match t {
                    "cr" => Terminator::Cr,
                    "lf" => Terminator::Lf,
                    "crlf" => Terminator::CrLf,
                    "none" => Terminator::None,
                    other => return Err(format!("unknown terminator {other}")),
                };
                Ok(format!("terminator {:?}", self.terminator))
            }
            ("encoding", e) => {
                self.gb18030 = match e {
                    "utf8" => false,
                    "gb18030" => true,
                    other => return Err(format!("unknown encoding {other}")),
                };
                Ok(format!("encoding {e}"))
            }
            ("timing", "on") => {
                self.baud = Some(9600);
                Ok("9600-baud timing".into())
            }
            ("timing", "off") => {
                self.baud = None;
                Ok("instant".into())
            }
            ("timing", b) => {
                self.baud = Some(b.parse().map_err(|_| format!("bad baud {b}"))?);
                Ok(format!("{b}-baud timing"))
            }
            ("garbage", n) => {
                let n: usize = n.parse().map_err(|_| format!("bad count {n}"))?;
                let bytes: Vec<u8> = (0..n.min(1 << 20)).map(|i| (i * 37 % 251) as u8).collect();
                self.send_raw(&bytes);
                Ok(format!("queued {n} garbage bytes"))
            }
            _ => Err(format!("unknown command {line:?}")),
        }
    }
}

impl WireDevice for ScannerDevice {
    fn on_input(&mut self, _bytes: &[u8]) -> Vec<u8> {
        Vec::new()
    }
    fn take_output(&mut self) -> Vec<u8> {
        self.queue.pop_front().unwrap_or_default()
    }
    fn byte_time(&self) -> Option<Duration> {
        self.baud.map(byte_time)
    }
}

/// The scanner emulator on a pty (`ykb-terminal devsim scanner`).
pub struct ScannerSim {
    pty: PtyDevice<ScannerDevice>,
}

impl ScannerSim {
    /// Opens a pty; `link` is an optional stable symlink path.
    pub fn start(link: Option<PathBuf>) -> std::io::Result<Self> {
        Ok(Self {
            pty: PtyDevice::start(ScannerDevice::default(), link)?,
        })
    }
    /// The port path for the driver.
    pub fn path(&self) -> PathBuf {
        self.pty.path()
    }
    /// Locks the scanner to queue codes or change settings.
    pub fn device(&self) -> std::sync::MutexGuard<'_, ScannerDevice> {
        self.pty.device()
    }
    /// Runs a control line ([`ScannerDevice::control`] plus `unplug` / `replug`).
    pub fn control(&self, line: &str) -> Result<String, String> {
        match line.trim() {
            "unplug" => {
                self.pty.unplug();
                Ok("unplugged".into())
            }
            "replug" => {
                self.pty.replug();
                Ok(format!("plugged in at {}", self.path().display()))
            }
            other => self.device().control(other),
        }
    }
}
