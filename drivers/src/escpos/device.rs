//! The receipt printer as a device: a thread that owns the link, reconnects, polls status
//! (publishing changes) and runs print jobs one at a time.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::printer::{Printer, PrinterError, PrinterUri};
use super::status::PrinterStatus;
use crate::status::{DeviceState, StatusEvent};

/// What the printer thread tells subscribers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterEvent {
    /// The common state changed.
    Status(StatusEvent),
    /// Paper or cover changed (only on two-way links).
    Media(PrinterStatus),
}

enum Request {
    Print(Vec<u8>, Sender<Result<(), PrinterError>>),
    Status(Sender<Result<PrinterStatus, PrinterError>>),
}

struct Shared {
    state: DeviceState,
    last: Option<PrinterStatus>,
    subscribers: Vec<Sender<PrinterEvent>>,
}

/// A printer device thread (`printer status` / `print test` can also use [`Printer`] directly).
pub struct PrinterDevice {
    uri: String,
    requests: Option<Sender<Request>>,
    shared: Arc<Mutex<Shared>>,
    thread: Option<JoinHandle<()>>,
}

impl PrinterDevice {
    /// Starts the thread for `uri`, checking status every `poll` while idle.
    pub fn spawn(uri: PrinterUri, poll: Duration) -> Self {
        let (tx, rx) = mpsc::channel();
        let shared = Arc::new(Mutex::new(Shared {
            state: DeviceState::Starting,
            last: None,
            subscribers: Vec::new(),
        }));
        let s2 = shared.clone();
        let name = uri.to_string();
        let thread = std::thread::Builder::new()
            .name("receipt-printer".into())
            .spawn(move || run(uri, poll, rx, s2))
            .expect("spawn printer thread");
        Self {
            uri: name,
            requests: Some(tx),
            shared,
            thread: Some(thread),
        }
    }

    /// Queues a job; waits for its single completion.
    pub fn print(&self, job: Vec<u8>) -> Result<(), PrinterError> {
        let (tx, rx) = mpsc::channel();
        self.send(Request::Print(job, tx));
        rx.recv().unwrap_or_else(|_| Err(self.gone()))
    }

    /// Asks the printer now (queued behind a running job).
    pub fn status(&self) -> Result<PrinterStatus, PrinterError> {
        let (tx, rx) = mpsc::channel();
        self.send(Request::Status(tx));
        rx.recv().unwrap_or_else(|_| Err(self.gone()))
    }

    /// The common state as last seen.
    pub fn state(&self) -> DeviceState {
        self.shared.lock().unwrap_or_else(|e| e.into_inner()).state
    }

    /// Status changes and media changes, starting with the current state.
    pub fn subscribe(&self) -> Receiver<PrinterEvent> {
        let mut s = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        let state = s.state;
        crate::status::subscribe(
            &mut s.subscribers,
            self.uri.clone(),
            state,
            PrinterEvent::Status,
        )
    }

    fn send(&self, r: Request) {
        if let Some(tx) = &self.requests {
            let _ = tx.send(r);
        }
    }

    fn gone(&self) -> PrinterError {
        PrinterError::Offline {
            device: self.uri.clone(),
            reason: "printer thread stopped".into(),
        }
    }
}

impl Drop for PrinterDevice {
    fn drop(&mut self) {
        self.requests.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn publish(shared: &Mutex<Shared>, ev: PrinterEvent) {
    let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
    s.subscribers.retain(|tx| tx.send(ev.clone()).is_ok());
}

fn set_state(shared: &Mutex<Shared>, device: &str, state: DeviceState, detail: String) {
    {
        let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
        if s.state == state {
            return;
        }
        s.state = state;
    }
    publish(
        shared,
        PrinterEvent::Status(StatusEvent {
            device: device.to_string(),
            state,
            detail,
        }),
    );
}

fn note_status(shared: &Mutex<Shared>, device: &str, st: PrinterStatus) {
    let changed = {
        let mut s = shared.lock().unwrap_or_else(|e| e.into_inner());
        let changed = s.last != Some(st);
        s.last = Some(st);
        changed
    };
    set_state(shared, device, st.state, format!("{:?}", st.paper));
    if changed {
        publish(shared, PrinterEvent::Media(st));
    }
}

fn run(uri: PrinterUri, poll: Duration, rx: Receiver<Request>, shared: Arc<Mutex<Shared>>) {
    let device = uri.to_string();
    let mut printer: Option<Printer> = None;
    let mut next_check = Instant::now();
    loop {
        if printer.is_none() {
            match Printer::open(&uri) {
                Ok(p) => printer = Some(p),
                Err(e) => set_state(&shared, &device, DeviceState::Offline, e.to_string()),
            }
        }
        let wait = next_check.saturating_duration_since(Instant::now());
        let req = match rx.recv_timeout(wait) {
            Ok(r) => Some(r),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let Some(p) = printer.as_mut() else {
            // Offline: answer at once, so a citizen is not kept waiting on a dead printer.
            let err = || PrinterError::Offline {
                device: device.clone(),
                reason: "not connected".into(),
            };
            match req {
                Some(Request::Print(_, tx)) => drop(tx.send(Err(err()))),
                Some(Request::Status(tx)) => drop(tx.send(Err(err()))),
                None => {}
            }
            next_check = Instant::now() + poll.min(Duration::from_secs(1));
            continue;
        };
        let result = match req {
            Some(Request::Print(job, tx)) => {
                set_state(&shared, &device, DeviceState::Busy, "printing".into());
                let r = p.print(&job);
                let lost = matches!(r, Err(PrinterError::Offline { .. }));
                let _ = tx.send(r);
                if lost {
                    Err(())
                } else {
                    p.status()
                        .map(|st| note_status(&shared, &device, st))
                        .map_err(drop)
                }
            }
            Some(Request::Status(tx)) => {
                let r = p.status();
                if let Ok(st) = &r {
                    note_status(&shared, &device, *st);
                }
                let failed = r.is_err();
                let _ = tx.send(r);
                if failed {
                    Err(())
                } else {
                    Ok(())
                }
            }
            None => {
                next_check = Instant::now() + poll;
                p.status()
                    .map(|st| note_status(&shared, &device, st))
                    .map_err(drop)
            }
        };
        if result.is_err() {
            set_state(&shared, &device, DeviceState::Offline, "no answer".into());
            printer = None;
        }
    }
}
