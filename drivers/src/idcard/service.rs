//! The ID-card reader as a device: a thread that owns the port, reconnects after unplug,
//! publishes status changes and runs read requests one at a time.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::card::IdCard;
use super::photo::{NoPhotoDecoder, PhotoDecoder};
use super::poller::CardPoller;
use super::reader::{CancelToken, IdCardError, ReaderConfig, SamReader};
use crate::link::Connect;
use crate::status::{DeviceState, StatusEvent};

/// Something that reads identity cards (the small trait the app depends on).
pub trait IdReader {
    /// Starts waiting up to `timeout` for a new card; the returned handle completes once.
    fn read_card(&self, timeout: Duration) -> PendingRead;
    /// The reader's current common state.
    fn state(&self) -> DeviceState;
}

/// What the reader thread tells subscribers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderEvent {
    /// The common state changed.
    Status(StatusEvent),
    /// A card that was read has left the field.
    CardRemoved,
}

/// Timing of link supervision.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// The driver's own tunables.
    pub reader: ReaderConfig,
    /// How often an idle reader is checked with a status command.
    pub heartbeat: Duration,
    /// Reply timeout for heartbeats (short, so an unplug shows within 2 s).
    pub heartbeat_timeout: Duration,
    /// Pause between reconnection attempts.
    pub reconnect_interval: Duration,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            reader: ReaderConfig::default(),
            heartbeat: Duration::from_millis(400),
            heartbeat_timeout: Duration::from_millis(300),
            reconnect_interval: Duration::from_millis(300),
        }
    }
}

/// A read in progress: wait for its single completion, or cancel it.
pub struct PendingRead {
    rx: Receiver<Result<IdCard, IdCardError>>,
    cancel: CancelToken,
}

impl PendingRead {
    /// Blocks until the read completes (success, typed error, timeout or cancelled).
    pub fn wait(self) -> Result<IdCard, IdCardError> {
        self.rx.recv().unwrap_or(Err(IdCardError::Cancelled))
    }
    /// Returns the result if the read has completed.
    pub fn try_result(&self) -> Option<Result<IdCard, IdCardError>> {
        self.rx.try_recv().ok()
    }
    /// Cancels the read (the citizen pressed 返回); it completes with `Cancelled` promptly.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }
    /// A token that cancels this read from elsewhere (e.g. a UI callback).
    pub fn cancel_token(&self) -> CancelToken {
        self.cancel.clone()
    }
}

struct Request {
    deadline: Instant,
    cancel: CancelToken,
    reply: Sender<Result<IdCard, IdCardError>>,
}

struct Shared {
    /// Set when the handle is dropped: finish the current request and stop.
    stopping: bool,
    /// The request being worked on, so dropping the handle can cancel it.
    current: Option<CancelToken>,
    device: String,
    state: DeviceState,
    subscribers: Vec<Sender<ReaderEvent>>,
}

/// The ID-card reader device: owns a thread, cheap to share by reference.
pub struct IdCardReader {
    requests: Option<Sender<Request>>,
    shared: Arc<Mutex<Shared>>,
    thread: Option<JoinHandle<()>>,
}

impl IdCardReader {
    /// Starts the reader thread on `connector` (e.g. [`crate::link::SerialConnector`]).
    pub fn spawn<C: Connect>(connector: C, config: ServiceConfig) -> Self {
        Self::spawn_with_photo(connector, config, Arc::new(NoPhotoDecoder))
    }

    /// As [`Self::spawn`], decoding photos with `photo`.
    pub fn spawn_with_photo<C: Connect>(
        connector: C,
        config: ServiceConfig,
        photo: Arc<dyn PhotoDecoder>,
    ) -> Self {
        let (tx, rx) = mpsc::channel();
        let shared = Arc::new(Mutex::new(Shared {
            stopping: false,
            current: None,
            device: connector.describe(),
            state: DeviceState::Starting,
            subscribers: Vec::new(),
        }));
        let worker = Worker {
            device: connector.describe(),
            connector,
            config,
            photo,
            shared: shared.clone(),
            poller: CardPoller::new(),
        };
        let thread = std::thread::Builder::new()
            .name("idcard-reader".into())
            .spawn(move || worker.run(rx))
            .expect("spawn reader thread");
        Self {
            requests: Some(tx),
            shared,
            thread: Some(thread),
        }
    }

    /// A stream of status changes and card removals (starting with the current state).
    pub fn subscribe(&self) -> Receiver<ReaderEvent> {
        let mut s = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        let (device, state) = (s.device.clone(), s.state);
        crate::status::subscribe(&mut s.subscribers, device, state, ReaderEvent::Status)
    }
}

impl IdReader for IdCardReader {
    fn read_card(&self, timeout: Duration) -> PendingRead {
        let (tx, rx) = mpsc::channel();
        let cancel = CancelToken::new();
        let req = Request {
            deadline: Instant::now() + timeout,
            cancel: cancel.clone(),
            reply: tx.clone(),
        };
        if let Some(requests) = &self.requests {
            if requests.send(req).is_err() {
                let _ = tx.send(Err(IdCardError::Cancelled));
            }
        }
        PendingRead { rx, cancel }
    }

    fn state(&self) -> DeviceState {
        self.shared.lock().unwrap_or_else(|e| e.into_inner()).state
    }
}

impl Drop for IdCardReader {
    fn drop(&mut self) {
        {
            let mut s = self.shared.lock().unwrap_or_else(|e| e.into_inner());
            s.stopping = true;
            if let Some(c) = s.current.take() {
                c.cancel();
            }
        }
        self.requests.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Worker<C: Connect> {
    connector: C,
    device: String,
    config: ServiceConfig,
    photo: Arc<dyn PhotoDecoder>,
    shared: Arc<Mutex<Shared>>,
    poller: CardPoller,
}

enum Next {
    Stop,
    Request(Request),
    Idle,
}

impl<C: Connect> Worker<C> {
    fn publish(&self, event: ReaderEvent) {
        let mut s = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        s.subscribers.retain(|tx| tx.send(event.clone()).is_ok());
    }

    fn set_state(&self, state: DeviceState, detail: &str) {
        {
            let mut s = self.shared.lock().unwrap_or_else(|e| e.into_inner());
            if s.state == state {
                return;
            }
            s.state = state;
        }
        self.publish(ReaderEvent::Status(StatusEvent {
            device: self.device.clone(),
            state,
            detail: detail.to_string(),
        }));
    }

    fn next(&self, rx: &Receiver<Request>, wait: Duration) -> Next {
        match rx.recv_timeout(wait) {
            Ok(r) => {
                let mut s = self.shared.lock().unwrap_or_else(|e| e.into_inner());
                if s.stopping {
                    r.cancel.cancel();
                }
                s.current = Some(r.cancel.clone());
                Next::Request(r)
            }
            Err(RecvTimeoutError::Timeout) => Next::Idle,
            Err(RecvTimeoutError::Disconnected) => Next::Stop,
        }
    }

    fn run(mut self, rx: Receiver<Request>) {
        let mut pending: Option<Request> = None;
        loop {
            // Offline: try to (re)connect, answering requests only when their time is up.
            let link = match self.connector.connect() {
                Ok(l) => l,
                Err(e) => {
                    self.set_state(DeviceState::Offline, &format!("cannot open: {e}"));
                    pending = self.fail_expired(pending, &e.to_string());
                    let wait = self.config.reconnect_interval;
                    if pending.is_some() {
                        let end = Instant::now() + wait;
                        while Instant::now() < end
                            && !pending.as_ref().is_some_and(|r| r.cancel.is_cancelled())
                        {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        continue;
                    }
                    match self.next(&rx, wait) {
                        Next::Stop => return,
                        Next::Request(r) => pending = Some(r),
                        Next::Idle => {}
                    }
                    continue;
                }
            };
            // The state stays Starting/Offline until the reader answers a heartbeat.
            let mut reader = SamReader::new(link, self.device.clone(), self.config.reader.clone())
                .with_photo_decoder(self.photo.clone());
            self.poller.reset();
            match self.online_loop(&mut reader, &rx, &mut pending) {
                Some(reason) => {
                    self.set_state(DeviceState::Offline, &reason);
                    std::thread::sleep(self.config.reconnect_interval);
                }
                None => return,
            }
        }
    }

    /// Completes a request waiting for the reader to come back once it is cancelled or its
    /// deadline has passed; keeps it otherwise.
    fn fail_expired(&self, pending: Option<Request>, reason: &str) -> Option<Request> {
        let r = pending?;
        if r.cancel.is_cancelled() {
            let _ = r.reply.send(Err(IdCardError::Cancelled));
            return None;
        }
        if Instant::now() >= r.deadline {
            let _ = r.reply.send(Err(IdCardError::Offline {
                device: self.device.clone(),
                reason: reason.to_string(),
            }));
            return None;
        }
        Some(r)
    }

    /// Runs while the link works. Returns `None` to stop, `Some(reason)` when the link is lost.
    fn online_loop(
        &mut self,
        reader: &mut SamReader<C::Link>,
        rx: &Receiver<Request>,
        pending: &mut Option<Request>,
    ) -> Option<String> {
        let mut misses = 0u32;
        let mut last_check = Instant::now() - self.config.heartbeat;
        loop {
            if let Some(req) = pending.take() {
                self.set_state(DeviceState::Busy, "reading");
                let mut removed = false;
                let result = reader.wait_for_card(
                    &mut self.poller,
                    req.deadline.saturating_duration_since(Instant::now()),
                    &req.cancel,
                    &mut || removed = true,
                );
                if removed {
                    self.publish(ReaderEvent::CardRemoved);
                }
                let lost = result
                    .as_ref()
                    .err()
                    .filter(|e| e.is_link_loss())
                    .map(|e| e.to_string());
                let _ = req.reply.send(result);
                if let Some(reason) = lost {
                    return Some(reason);
                }
                self.set_state(DeviceState::Online, "read finished");
                last_check = Instant::now();
                continue;
            }
            // Idle: heartbeat, and watch a card that was read until it leaves.
            if last_check.elapsed() >= self.config.heartbeat {
                last_check = Instant::now();
                match self.check(reader) {
                    Ok(()) => {
                        misses = 0;
                        self.set_state(DeviceState::Online, "reader answered");
                    }
                    Err(e) if e.is_link_loss() => return Some(e.to_string()),
                    Err(e @ IdCardError::Sam { .. }) => {
                        misses = 0;
                        self.set_state(DeviceState::HardwareError, &e.to_string());
                    }
                    Err(e) => {
                        misses += 1;
                        if misses >= 2 {
                            return Some(format!("no answer to heartbeat: {e}"));
                        }
                    }
                }
            }
            let wait = self.config.heartbeat.saturating_sub(last_check.elapsed());
            match self.next(rx, wait.max(Duration::from_millis(5))) {
                Next::Stop => return None,
                Next::Request(r) => *pending = Some(r),
                Next::Idle => {}
            }
        }
    }

    fn check(&mut self, reader: &mut SamReader<C::Link>) -> Result<(), IdCardError> {
        let mut quick = self.config.reader.clone();
        quick.reply_timeout = self.config.heartbeat_timeout;
        quick.retries = 0;
        let saved = std::mem::replace(reader.config_mut(), quick);
        let result = self.check_inner(reader);
        *reader.config_mut() = saved;
        result
    }

    fn check_inner(&mut self, reader: &mut SamReader<C::Link>) -> Result<(), IdCardError> {
        use super::poller::PollAction;
        use super::sam::SamCommand;
        if self.poller.holding_card() {
            // Find + select answer as a heartbeat and tell us when the card leaves.
            let cancel = CancelToken::new();
            for _ in 0..2 {
                let cmd = self.poller.next_command();
                let status = reader.poll_status(cmd, &cancel)?;
                match self.poller.on_status(cmd, status) {
                    PollAction::Removed => {
                        self.publish(ReaderEvent::CardRemoved);
                        break;
                    }
                    PollAction::Continue => {}
                    _ => break,
                }
            }
            Ok(())
        } else {
            reader
                .command(SamCommand::Status, &CancelToken::new())
                .map(drop)
        }
    }
}
