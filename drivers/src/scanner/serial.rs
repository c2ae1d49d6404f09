//! Serial QR/barcode scanner: a thread that owns the port, splits codes, sanitises them and
//! publishes them with status changes; it reconnects after unplug.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::sanitize::{sanitize, PayloadError, ScanPayload};
use super::splitter::{LineSplitter, SplitEvent, SplitterConfig};
use crate::link::{ByteLink, Connect};
use crate::status::{DeviceState, StatusEvent};

/// What a scanner reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanEvent {
    /// A code, sanitised.
    Code(ScanPayload),
    /// A code that could not be used, and why.
    Rejected(PayloadError),
    /// A code longer than the cap was dropped (its length in bytes).
    Oversize(usize),
    /// The scanner's state changed.
    Status(StatusEvent),
}

/// A serial scanner device.
pub struct SerialScanner {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SerialScanner {
    /// Starts reading from `connector`; events go to the returned receiver.
    pub fn spawn<C: Connect>(
        mut connector: C,
        config: SplitterConfig,
    ) -> (Self, Receiver<ScanEvent>) {
        let (stop, thread, rx) = start_thread("qr-scanner", move |tx, stop| {
            let device = connector.describe();
            run_device(
                device,
                &tx,
                stop,
                Duration::from_millis(300),
                "port opened",
                || connector.connect(),
                |link| Some(read_loop(link, config, &tx, stop)),
            );
        })
        .expect("spawn scanner thread");
        (
            Self {
                stop,
                thread: Some(thread),
            },
            rx,
        )
    }
}

impl Drop for SerialScanner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts a scanner's device thread `name`; `run` gets the sender of its events and its stop
/// flag. Returns the flag, the thread and the receiver.
pub(super) fn start_thread(
    name: &str,
    run: impl FnOnce(Sender<ScanEvent>, &AtomicBool) + Send + 'static,
) -> std::io::Result<(Arc<AtomicBool>, JoinHandle<()>, Receiver<ScanEvent>)> {
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let thread = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || run(tx, &stop2))?;
    Ok((stop, thread, rx))
}

/// A scanner's device thread until `stop`: opens the device with `open`, says Online
/// (`opened`) and then Offline (the reason `read` gives, or why it could not open), each
/// change once, and tries again `retry` later. The thread ends when `read` returns `None` or
/// nobody listens any more.
pub(super) fn run_device<D>(
    device: String,
    tx: &Sender<ScanEvent>,
    stop: &AtomicBool,
    retry: Duration,
    opened: &str,
    mut open: impl FnMut() -> std::io::Result<D>,
    mut read: impl FnMut(&mut D) -> Option<String>,
) {
    let mut state = None;
    let mut status = |s: DeviceState, detail: String| {
        if state == Some(s) {
            return true;
        }
        state = Some(s);
        tx.send(ScanEvent::Status(StatusEvent {
            device: device.clone(),
            state: s,
            detail,
        }))
        .is_ok()
    };
    while !stop.load(Ordering::SeqCst) {
        match open() {
            Ok(mut d) => {
                if !status(DeviceState::Online, opened.into()) {
                    return;
                }
                let Some(reason) = read(&mut d) else {
                    return;
                };
                if !status(DeviceState::Offline, reason) {
                    return;
                }
            }
            Err(e) => {
                if !status(DeviceState::Offline, format!("cannot open: {e}")) {
                    return;
                }
            }
        }
        std::thread::sleep(retry);
    }
}

fn deliver(tx: &Sender<ScanEvent>, ev: SplitEvent) -> bool {
    let ev = match ev {
        SplitEvent::Code(raw) => match sanitize(&raw) {
            Ok(p) => ScanEvent::Code(p),
            Err(e) => ScanEvent::Rejected(e),
        },
        SplitEvent::Oversize(n) => ScanEvent::Oversize(n),
    };
    tx.send(ev).is_ok()
}

fn read_loop(
    link: &mut dyn ByteLink,
    config: SplitterConfig,
    tx: &Sender<ScanEvent>,
    stop: &AtomicBool,
) -> String {
    let mut splitter = LineSplitter::new(config);
    let mut buf = [0u8; 1024];
    while !stop.load(Ordering::SeqCst) {
        let wait = splitter
            .next_deadline()
            .map(|d| d.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_millis(100))
            .clamp(Duration::from_millis(1), Duration::from_millis(100));
        match link.recv(&mut buf, wait) {
            Ok(n) => {
                let now = Instant::now();
                for ev in splitter
                    .push(&buf[..n], now)
                    .into_iter()
                    .chain(splitter.poll(now))
                {
                    if !deliver(tx, ev) {
                        return "no listener".into();
                    }
                }
            }
            Err(e) => return format!("link lost: {e}"),
        }
    }
    "stopped".into()
}
