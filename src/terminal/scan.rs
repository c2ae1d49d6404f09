//! 扫码 — the QR scanner as the kiosk sees it: the drivers' `SerialScanner` on the profile's
//! port, their `EvdevScanner` for a keyboard-wedge scanner, or for `simulated` the drivers'
//! scanner emulator (a pty), whose codes the demo "scans" on request. Every payload is sanitised by the driver; here it becomes what the
//! kiosk can do with it ([`Scanned`]).

use std::sync::atomic::Ordering;
use std::time::Duration;

use ykb_drivers::link::SerialConnector;
use ykb_drivers::scanner::serial::{ScanEvent, SerialScanner};
use ykb_drivers::scanner::splitter::SplitterConfig;
use ykb_drivers::scanner::{EvdevConfig, EvdevScanner};
use ykb_drivers::sim::ScannerSim;

use super::slots::ScannerSlot;
use crate::core::config::DeviceSection;
use crate::errand::CASE_QR_PREFIX;

/// What a scanned code is, for the kiosk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scanned {
    /// A receipt's progress code: the local case id.
    Case(String),
    /// A 渝快码 token (opaque; the platform says whom it identifies).
    Ykm(String),
    /// A readable code that is neither (another service's): its sanitised text. The kiosk
    /// itself cannot use it ([`Scanned::why_unusable`]); a local device service client that
    /// the citizen agreed may read codes gets it.
    Other(String),
    /// Anything else, or a payload the driver refused: what to tell the citizen.
    Unusable(String),
}

/// The longest 渝快码 token accepted (they are short; anything longer is not one).
const MAX_TOKEN: usize = 128;

/// Classifies a sanitised payload.
pub fn classify(text: &str) -> Scanned {
    let t = text.trim();
    if t.is_empty() {
        return Scanned::Unusable("无法识别这个码，请换一个码".into());
    }
    if let Some(id) = t.strip_prefix(CASE_QR_PREFIX) {
        if !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
        {
            return Scanned::Case(id.to_owned());
        }
    } else if t.starts_with("YKM")
        && t.len() <= MAX_TOKEN
        && t.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Scanned::Ykm(t.to_owned());
    }
    Scanned::Other(t.to_owned())
}

/// What the kiosk tells the citizen of a code that is not its own.
pub const NOT_OURS: &str = "这个二维码不是渝快码或本机回执，请换一个码";

impl Scanned {
    /// The code's text as it was read (`None`: the driver could not read it).
    pub fn text(&self) -> Option<String> {
        match self {
            Self::Case(id) => Some(format!("{CASE_QR_PREFIX}{id}")),
            Self::Ykm(t) | Self::Other(t) => Some(t.clone()),
            Self::Unusable(_) => None,
        }
    }

    /// Why the kiosk cannot use it, for the citizen (`None`: it can).
    pub fn why_unusable(&self) -> Option<&str> {
        match self {
            Self::Case(_) | Self::Ykm(_) => None,
            Self::Other(_) => Some(NOT_OURS),
            Self::Unusable(why) => Some(why),
        }
    }
}

/// Where the scanner's codes come from.
enum Source {
    Serial(SerialConnector),
    Evdev(EvdevConfig),
    Xfs4Iot(String),
}

/// A running scanner (and, in the demo, its emulator).
pub struct ScanService {
    /// Field order matters: the reading thread stops before the emulator goes.
    _thread: crate::terminal::thread::DeviceThread,
    sim: Option<ScannerSim>,
}

impl ScanService {
    /// Starts the profile's scanner: serial, keyboard-wedge through evdev (grabbed
    /// exclusively, so codes never reach the UI as key presses), or the emulator for
    /// `simulated`; `None` for `none`.
    pub fn start(
        dev: &DeviceSection,
        report: impl Fn(Scanned) + Send + 'static,
    ) -> Result<Option<Self>, String> {
        let (sim, source) = match super::slots::scanner(dev)? {
            None => return Ok(None),
            Some(ScannerSlot::Serial { connector, sim }) => (sim, Source::Serial(connector)),
            Some(ScannerSlot::Evdev(cfg)) => (None, Source::Evdev(cfg)),
            Some(ScannerSlot::Xfs4Iot(uri)) => (None, Source::Xfs4Iot(uri)),
        };
        let thread = crate::terminal::thread::DeviceThread::spawn("kiosk-scanner", move |stop| {
            // Either driver feeds the same event stream; its handle lives as long as the loop.
            let (_serial, _evdev, events) = match source {
                Source::Serial(c) => {
                    let (s, rx) = SerialScanner::spawn(c, SplitterConfig::default());
                    (Some(s), None, rx)
                }
                Source::Evdev(cfg) => {
                    let (s, rx) = EvdevScanner::spawn(cfg);
                    (None, Some(s), rx)
                }
                Source::Xfs4Iot(uri) => return read_xfs4iot(&uri, stop, &report),
            };
            while !stop.load(Ordering::Relaxed) {
                match events.recv_timeout(Duration::from_millis(500)) {
                    Ok(ev) => {
                        if let Some(s) = scanned(ev) {
                            report(s);
                        }
                    }
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                }
            }
        })?;
        Ok(Some(Self {
            _thread: thread,
            sim,
        }))
    }

    /// Whether the demo can scan codes on the emulator.
    pub fn is_demo(&self) -> bool {
        self.sim.is_some()
    }

    /// Demo: the emulated scanner reads `code` (sent over its serial line to the driver).
    pub fn demo_scan(&self, code: &str) {
        if let Some(sim) = &self.sim {
            sim.device().scan(code);
        }
    }
}

/// One code's words for the kiosk: the same for every scanner driver.
fn scanned(event: ScanEvent) -> Option<Scanned> {
    match event {
        ScanEvent::Code(p) => Some(classify(&p.text)),
        ScanEvent::Rejected(e) => {
            tracing::info!(error = %e, "scanned code refused");
            Some(Scanned::Unusable("无法识别这个码，请换一个码".into()))
        }
        ScanEvent::Oversize(n) => {
            tracing::info!(bytes = n, "scanned code too long");
            Some(Scanned::Unusable("这个码太长，无法识别".into()))
        }
        ScanEvent::Status(s) => {
            tracing::debug!(?s, "scanner status");
            None
        }
    }
}

/// How long one `BarcodeReader.Read` waits: short, so stopping never waits long.
const XFS_READ_WAIT: Duration = Duration::from_secs(2);

/// The host's barcode reader: one read after another until stopped. A failed read (the
/// service gone, silent or failing) is logged by kind and retried after a pause; the client
/// reconnects by itself.
fn read_xfs4iot(uri: &str, stop: &std::sync::atomic::AtomicBool, report: &impl Fn(Scanned)) {
    use ykb_drivers::xfs4iot::{ClientConfig, Xfs4IotBarcodeReader};
    let mut reader = None;
    while !stop.load(Ordering::Relaxed) {
        let r = match &reader {
            Some(r) => r,
            None => match Xfs4IotBarcodeReader::connect(uri, ClientConfig::default()) {
                Ok(r) => reader.insert(r),
                Err(e) => {
                    tracing::warn!(kind = ?e.kind(), "XFS4IoT barcode reader unreachable");
                    std::thread::sleep(Duration::from_secs(1));
                    continue;
                }
            },
        };
        match r.read(XFS_READ_WAIT) {
            Ok(Some(ev)) => {
                if let Some(s) = scanned(ev) {
                    report(s);
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(kind = ?e.kind(), "XFS4IoT barcode read failed");
                std::thread::sleep(Duration::from_millis(500));
            }
        }
    }
}

/// How often the identify page's camera looks for a 渝快码.
pub const CAMERA_SCAN_INTERVAL: Duration = Duration::from_millis(250);

/// The same code seen again within this time is the same showing, not a new one.
const SAME_SHOWING: Duration = Duration::from_secs(3);

/// A 渝快码 shown to the camera instead of the scanner: while the identify page is open, a
/// thread reads frames from the camera (else the document camera), decodes QR codes with the
/// drivers' rqrr path, sanitises them like scanner payloads and reports each showing once.
/// `simulated` slots have nothing to show, so they do not start one (the demo has its
/// emulated scanner).
pub struct CameraScan {
    _thread: crate::terminal::thread::DeviceThread,
}

impl CameraScan {
    /// The camera to use, if one is fitted: the camera, else the document camera.
    pub fn source(camera: &DeviceSection, document_camera: &DeviceSection) -> Option<String> {
        crate::terminal::camera::first_camera([camera, document_camera], None)
    }

    /// Starts reading `source` (a device path, image file or folder, as the drivers open it).
    pub fn start(
        source: String,
        report: impl Fn(Scanned) + Send + 'static,
    ) -> Result<Self, String> {
        let thread =
            crate::terminal::thread::DeviceThread::spawn("kiosk-qr-camera", move |stop| {
                let mut camera = match ykb_drivers::camera::open_source(&source) {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(error = %e, "camera for 渝快码 not opened");
                        return;
                    }
                };
                let mut last: Option<(String, std::time::Instant)> = None;
                let mut frames = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    match camera.next_frame() {
                        Ok(frame) => {
                            frames += 1;
                            // The decoding passes take turns over frames (per-frame budget).
                            for raw in
                                ykb_drivers::scanner::camera::decode_qr_rgb_live(&frame, frames)
                            {
                                let scanned = match ykb_drivers::scanner::sanitize::sanitize(
                                    raw.as_bytes(),
                                ) {
                                    Ok(p) => classify(&p.text),
                                    Err(_) => {
                                        Scanned::Unusable("无法识别这个码，请换一个码".into())
                                    }
                                };
                                let now = std::time::Instant::now();
                                let again = last
                                    .as_ref()
                                    .is_some_and(|(t, at)| *t == raw && now - *at < SAME_SHOWING);
                                last = Some((raw, now));
                                if !again {
                                    report(scanned);
                                }
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "camera frame for 渝快码");
                            std::thread::sleep(Duration::from_secs(1));
                        }
                    }
                    std::thread::sleep(CAMERA_SCAN_INTERVAL);
                }
            })?;
        Ok(Self { _thread: thread })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::DriverKind;

    #[test]
    fn codes_are_told_apart_and_hostile_ones_are_refused() {
        assert_eq!(
            classify("ykb:case:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"),
            Scanned::Case("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into())
        );
        assert_eq!(classify(" YKMabc123 "), Scanned::Ykm("YKMabc123".into()));
        for bad in [
            "ykb:case:",
            "ykb:case:../../etc/passwd",
            "ykb:case:1' OR 1=1 --",
            "YKM<script>",
            "https://evil.example/",
            "",
        ] {
            let got = classify(bad);
            assert!(got.why_unusable().is_some(), "{bad:?}");
            // Kept as read, for a client that may read codes; empty is no code at all.
            assert_eq!(got.text().as_deref(), Some(bad).filter(|b| !b.is_empty()));
        }
        assert_eq!(
            classify(&format!("YKM{}", "a".repeat(200))).why_unusable(),
            Some(NOT_OURS)
        );
        let case = "ykb:case:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
        assert_eq!(classify(case).text().as_deref(), Some(case));
    }

    /// A keyboard-wedge scanner through its real device file: a FIFO carrying the kernel's
    /// `struct input_event` bytes. The kiosk reads the 渝快码 typed into it and refuses junk.
    #[test]
    fn a_keyboard_wedge_scanner_is_read_through_evdev() {
        use std::io::Write;
        use ykb_drivers::scanner::evdev::{type_text, InputEvent};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("event-kbd");
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let dev = DeviceSection {
            driver: DriverKind::Evdev,
            path: path.display().to_string(),
            baud: None,
            roll_length_mm: None,
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let service = ScanService::start(&dev, move |s| {
            let _ = tx.send(s);
        })
        .unwrap()
        .expect("an evdev scanner runs");
        assert!(!service.is_demo());
        // Opening the write end waits for the driver to open the read end.
        let mut fifo = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        for text in ["YKM7f3a9c", "https://evil.example/"] {
            let bytes: Vec<u8> = type_text(text)
                .into_iter()
                .flat_map(InputEvent::to_bytes)
                .collect();
            fifo.write_all(&bytes).unwrap();
        }
        let got = |rx: &std::sync::mpsc::Receiver<Scanned>| {
            rx.recv_timeout(Duration::from_secs(5)).expect("a code")
        };
        assert_eq!(got(&rx), Scanned::Ykm("YKM7f3a9c".into()));
        assert_eq!(got(&rx), Scanned::Other("https://evil.example/".into()));
        drop(fifo);
        drop(service);
    }
}
