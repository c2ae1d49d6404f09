//! The thin WebSocket transport: one thread per service connection, running the sans-IO
//! [`Tracker`] over a `tungstenite` socket.
//!
//! [`ServiceClient::connect`] opens `ws://host:port/xfs4iot/v1.0/<Service>` (the first
//! connection is made before it returns, so a wrong URI is a clear error at once); the thread
//! then waits in `poll(2)` on the socket and a wake-up pipe, so a command goes out as soon as
//! [`ServiceClient::send`] queues it and an answer is handled as soon as it arrives. When the
//! connection drops, every waiting command ends as `Disconnected`; the thread reconnects (at
//! once for a new command, otherwise with a backoff up to 10 s) so unsolicited events (status,
//! vendor mode) come back by themselves.
//!
//! [`get_services`] asks a service publisher for its services; [`discover`] also asks each
//! service which interfaces it offers (`Common.Capabilities`).

use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Message as WsMessage, WebSocket};

use super::error::Xfs4IotError;
use super::tracker::{
    Command, Completion, Output, RequestId, ServiceStatus, Tracker, TrackerConfig,
};

/// Settings of one service connection.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The request state machine's limits (size cap, timeouts, event cap).
    pub tracker: TrackerConfig,
    /// TCP connect and WebSocket handshake limit.
    pub connect_timeout: Duration,
    /// Unsolicited events queued per subscriber; more are dropped (and counted).
    pub subscriber_queue: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            tracker: TrackerConfig::default(),
            connect_timeout: Duration::from_secs(3),
            subscriber_queue: 256,
        }
    }
}

/// What happens to one command, in order: acknowledged, events, then `Done` once.
#[derive(Debug, Clone, PartialEq)]
pub enum CommandUpdate {
    /// Queued by the service.
    Acknowledged,
    /// An event of the command.
    Event {
        /// The event's name.
        name: String,
        /// Its payload.
        payload: Map<String, Value>,
    },
    /// The one result.
    Done(Result<Completion, Xfs4IotError>),
}

/// What a subscriber hears (not tied to a command).
#[derive(Debug, Clone, PartialEq)]
pub enum ServiceEvent {
    /// `Common.StatusChangedEvent`: the merged status.
    Status(ServiceStatus),
    /// Another unsolicited event (e.g. `VendorMode.EnterModeRequestEvent`).
    Unsolicited {
        /// Its name.
        name: String,
        /// Its payload.
        payload: Map<String, Value>,
    },
    /// The WebSocket is (again) open.
    Connected,
    /// The WebSocket closed; the thread reconnects.
    Disconnected(Xfs4IotError),
}

/// Counters of things that ended nothing (for diagnostics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Messages for unknown or ended ids, duplicate acks, commands from the service.
    pub violations: u64,
    /// Unsolicited events dropped because a subscriber did not keep up.
    pub dropped_events: u64,
    /// Connections made after the first.
    pub reconnects: u64,
    /// Whether the WebSocket is open now.
    pub connected: bool,
}

enum Request {
    Start {
        cmd: Command,
        reply: Sender<CommandUpdate>,
        id: mpsc::SyncSender<Option<RequestId>>,
    },
    Cancel(RequestId),
    Shutdown,
}

#[derive(Default)]
struct Shared {
    status: ServiceStatus,
    stats: ClientStats,
    subscribers: Vec<SyncSender<ServiceEvent>>,
}

struct Waker(UnixStream);

impl Waker {
    fn wake(&self) {
        // A full pipe already holds a wake-up.
        let _ = (&self.0).write(&[1]);
    }
}

/// A connection to one XFS4IoT service, on its own thread.
pub struct ServiceClient {
    uri: String,
    requests: Sender<Request>,
    waker: Arc<Waker>,
    shared: Arc<Mutex<Shared>>,
    subscriber_queue: usize,
    thread: Option<JoinHandle<()>>,
}

/// A command on its way: its updates, its id, and a way to cancel it.
pub struct PendingCommand {
    id: Option<RequestId>,
    updates: Receiver<CommandUpdate>,
    requests: Sender<Request>,
    waker: Arc<Waker>,
    done: bool,
}

/// Cancels one command from any thread (e.g. the citizen pressed 返回).
#[derive(Clone)]
pub struct Canceller {
    id: Option<RequestId>,
    requests: Sender<Request>,
    waker: Arc<Waker>,
}

impl Canceller {
    /// Sends `Common.Cancel` for the command; it then ends as `Cancelled` (or with its
    /// completion, if that came first).
    pub fn cancel(&self) {
        if let Some(id) = self.id {
            let _ = self.requests.send(Request::Cancel(id));
            self.waker.wake();
        }
    }
}

impl PendingCommand {
    /// The request id (None if the command never started, e.g. `Busy`).
    pub fn id(&self) -> Option<RequestId> {
        self.id
    }

    /// A cancel handle.
    pub fn canceller(&self) -> Canceller {
        Canceller {
            id: self.id,
            requests: self.requests.clone(),
            waker: self.waker.clone(),
        }
    }

    /// The next update, waiting at most `timeout`; `None` after `Done` or on time-out.
    pub fn next(&mut self, timeout: Duration) -> Option<CommandUpdate> {
        if self.done {
            return None;
        }
        match self.updates.recv_timeout(timeout) {
            Ok(u) => {
                self.done = matches!(u, CommandUpdate::Done(_));
                Some(u)
            }
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => {
                self.done = true;
                Some(CommandUpdate::Done(Err(Xfs4IotError::Disconnected)))
            }
        }
    }

    /// Waits for the result; events are passed to `on_event` as they come.
    pub fn wait_with(
        mut self,
        mut on_event: impl FnMut(&str, &Map<String, Value>),
    ) -> Result<Completion, Xfs4IotError> {
        loop {
            // The tracker always ends a command (its deadlines run on the client thread),
            // so this wait is bounded by the command's timeout plus the grace.
            match self.next(Duration::from_secs(3600)) {
                Some(CommandUpdate::Done(r)) => return r,
                Some(CommandUpdate::Event { name, payload }) => on_event(&name, &payload),
                Some(CommandUpdate::Acknowledged) | None => {}
            }
        }
    }

    /// Waits for the result, ignoring events.
    pub fn wait(self) -> Result<Completion, Xfs4IotError> {
        self.wait_with(|_, _| {})
    }
}

type Socket = WebSocket<TcpStream>;

fn ws_config(t: &TrackerConfig) -> WebSocketConfig {
    WebSocketConfig::default()
        .write_buffer_size(0)
        .max_message_size(Some(t.max_message_bytes))
        .max_frame_size(Some(t.max_message_bytes))
}

/// Opens the WebSocket at `uri` (`ws://` only), within `timeout`.
fn open(uri: &str, config: &ClientConfig) -> Result<Socket, Xfs4IotError> {
    let fail = |reason: String| Xfs4IotError::Connect {
        uri: uri.to_string(),
        reason,
    };
    let parsed: tungstenite::http::Uri = uri.parse().map_err(|e| fail(format!("bad URI: {e}")))?;
    match parsed.scheme_str() {
        Some("ws") => {}
        Some("wss") => return Err(fail("wss:// (TLS) is not supported yet".into())),
        _ => return Err(fail("not a ws:// URI".into())),
    }
    let host = parsed.host().ok_or_else(|| fail("no host".into()))?;
    let port = parsed.port_u16().unwrap_or(80);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let mut last = fail("no address".into());
    let addrs = (host, port)
        .to_socket_addrs()
        .map_err(|e| fail(e.to_string()))?;
    for addr in addrs {
        let stream = match TcpStream::connect_timeout(&addr, config.connect_timeout) {
            Ok(s) => s,
            Err(e) => {
                last = fail(e.to_string());
                continue;
            }
        };
        let setup = || -> io::Result<()> {
            stream.set_nodelay(true)?;
            stream.set_read_timeout(Some(config.connect_timeout))?;
            stream.set_write_timeout(Some(config.connect_timeout))
        };
        setup().map_err(|e| fail(e.to_string()))?;
        return match tungstenite::client::client_with_config(
            uri,
            stream,
            Some(ws_config(&config.tracker)),
        ) {
            Ok((ws, _response)) => {
                let s = ws.get_ref();
                s.set_read_timeout(None).map_err(|e| fail(e.to_string()))?;
                s.set_nonblocking(true).map_err(|e| fail(e.to_string()))?;
                Ok(ws)
            }
            Err(tungstenite::HandshakeError::Failure(e)) => Err(fail(handshake_reason(&e))),
            Err(tungstenite::HandshakeError::Interrupted(_)) => {
                Err(fail("handshake timed out".into()))
            }
        };
    }
    Err(last)
}

fn handshake_reason(e: &tungstenite::Error) -> String {
    match e {
        tungstenite::Error::Http(resp) => format!("HTTP {}", resp.status()),
        other => other.to_string(),
    }
}

impl ServiceClient {
    /// Connects to the service at `uri` and starts its thread.
    pub fn connect(uri: &str, config: ClientConfig) -> Result<Self, Xfs4IotError> {
        let ws = open(uri, &config)?;
        let (tx, rx) = mpsc::channel();
        let (wake_tx, wake_rx) = UnixStream::pair().map_err(|e| Xfs4IotError::Connect {
            uri: uri.to_string(),
            reason: e.to_string(),
        })?;
        let _ = wake_tx.set_nonblocking(true);
        let _ = wake_rx.set_nonblocking(true);
        let shared = Arc::new(Mutex::new(Shared::default()));
        lock(&shared).stats.connected = true;
        let subscriber_queue = config.subscriber_queue.max(1);
        let worker = Worker {
            uri: uri.to_string(),
            tracker: Tracker::new(config.tracker.clone()),
            config,
            requests: rx,
            wake: wake_rx,
            shared: shared.clone(),
            replies: HashMap::new(),
            backlog: VecDeque::new(),
            want_write: false,
        };
        let thread = std::thread::Builder::new()
            .name("xfs4iot".into())
            .spawn(move || worker.run(ws))
            .map_err(|e| Xfs4IotError::Connect {
                uri: uri.to_string(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            uri: uri.to_string(),
            requests: tx,
            waker: Arc::new(Waker(wake_tx)),
            shared,
            subscriber_queue,
            thread: Some(thread),
        })
    }

    /// The service's URI.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// Sends `cmd`; the returned handle yields its updates.
    pub fn send(&self, cmd: Command) -> PendingCommand {
        let (reply, updates) = mpsc::channel();
        let (id_tx, id_rx) = mpsc::sync_channel(1);
        let sent = self.requests.send(Request::Start {
            cmd,
            reply: reply.clone(),
            id: id_tx,
        });
        self.waker.wake();
        let id = if sent.is_ok() {
            // The thread answers at once: it only encodes and writes.
            id_rx.recv_timeout(Duration::from_secs(10)).ok().flatten()
        } else {
            let _ = reply.send(CommandUpdate::Done(Err(Xfs4IotError::Disconnected)));
            None
        };
        PendingCommand {
            id,
            updates,
            requests: self.requests.clone(),
            waker: self.waker.clone(),
            done: false,
        }
    }

    /// Sends `cmd` and waits for its completion.
    pub fn call(&self, cmd: Command) -> Result<Completion, Xfs4IotError> {
        self.send(cmd).wait()
    }

    /// Unsolicited events from now on (first: the current status, if known).
    pub fn subscribe(&self) -> Receiver<ServiceEvent> {
        let mut s = lock(&self.shared);
        let (tx, rx) = mpsc::sync_channel(self.subscriber_queue);
        if s.status != ServiceStatus::default() {
            let _ = tx.try_send(ServiceEvent::Status(s.status.clone()));
        }
        s.subscribers.push(tx);
        rx
    }

    /// The status as last reported by `Common.Status` or a status change.
    pub fn status(&self) -> ServiceStatus {
        lock(&self.shared).status.clone()
    }

    /// `Common.Status`: asks the service and returns the merged status.
    pub fn refresh_status(&self, timeout: Duration) -> Result<ServiceStatus, Xfs4IotError> {
        self.call(Command::new("Common.Status").timeout(timeout))?;
        Ok(self.status())
    }

    /// Counters.
    pub fn stats(&self) -> ClientStats {
        lock(&self.shared).stats
    }
}

impl Drop for ServiceClient {
    fn drop(&mut self) {
        let _ = self.requests.send(Request::Shutdown);
        self.waker.wake();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn lock(s: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

struct Worker {
    uri: String,
    config: ClientConfig,
    tracker: Tracker,
    requests: Receiver<Request>,
    wake: UnixStream,
    shared: Arc<Mutex<Shared>>,
    replies: HashMap<RequestId, Sender<CommandUpdate>>,
    /// Requests taken while disconnected, to start once connected.
    backlog: VecDeque<Request>,
    /// Bytes are waiting in the socket's write buffer.
    want_write: bool,
}

enum Flow {
    Closed(Xfs4IotError),
    Shutdown,
}

impl Worker {
    fn run(mut self, first: Socket) {
        let mut ws = Some(first);
        let mut backoff = Duration::from_millis(500);
        loop {
            if let Some(socket) = ws.take() {
                match self.serve(socket) {
                    Flow::Shutdown => return,
                    Flow::Closed(why) => {
                        lock(&self.shared).stats.connected = false;
                        self.broadcast(ServiceEvent::Disconnected(why));
                        backoff = Duration::from_millis(500);
                    }
                }
                continue;
            }
            match self.requests.recv_timeout(backoff) {
                Ok(Request::Shutdown) | Err(RecvTimeoutError::Disconnected) => return,
                Ok(Request::Cancel(_)) => {}
                Ok(Request::Start { cmd, reply, id }) => match open(&self.uri, &self.config) {
                    Ok(s) => {
                        self.backlog.push_back(Request::Start { cmd, reply, id });
                        self.reconnected();
                        ws = Some(s);
                    }
                    Err(e) => {
                        let _ = id.send(None);
                        let _ = reply.send(CommandUpdate::Done(Err(e)));
                    }
                },
                Err(RecvTimeoutError::Timeout) => match open(&self.uri, &self.config) {
                    Ok(s) => {
                        self.reconnected();
                        ws = Some(s);
                    }
                    Err(_) => backoff = (backoff * 2).min(Duration::from_secs(10)),
                },
            }
        }
    }

    fn reconnected(&mut self) {
        {
            let mut s = lock(&self.shared);
            s.stats.connected = true;
            s.stats.reconnects += 1;
        }
        self.broadcast(ServiceEvent::Connected);
    }

    fn broadcast(&self, ev: ServiceEvent) {
        let mut s = lock(&self.shared);
        if let ServiceEvent::Status(st) = &ev {
            s.status = st.clone();
        }
        let mut dropped = 0;
        s.subscribers.retain(|tx| match tx.try_send(ev.clone()) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                dropped += 1;
                true
            }
            Err(TrySendError::Disconnected(_)) => false,
        });
        s.stats.dropped_events += dropped;
    }

    fn next_request(&mut self) -> Option<Request> {
        self.backlog
            .pop_front()
            .or_else(|| self.requests.try_recv().ok())
    }

    /// Runs one open socket until it closes or the client is dropped.
    fn serve(&mut self, mut ws: Socket) -> Flow {
        self.want_write = false;
        loop {
            // Requests from the caller.
            while let Some(r) = self.next_request() {
                let now = Instant::now();
                let out = match r {
                    Request::Shutdown => {
                        let _ = ws.close(None);
                        let _ = ws.flush();
                        let out = self.tracker.closed();
                        self.dispatch(out, &mut ws);
                        return Flow::Shutdown;
                    }
                    Request::Cancel(id) => self.tracker.cancel(id, now),
                    Request::Start { cmd, reply, id } => match self.tracker.start(&cmd, now) {
                        Ok((rid, text)) => {
                            self.replies.insert(rid, reply);
                            let _ = id.send(Some(rid));
                            vec![Output::Send(text)]
                        }
                        Err(e) => {
                            let _ = id.send(None);
                            let _ = reply.send(CommandUpdate::Done(Err(e)));
                            Vec::new()
                        }
                    },
                };
                if let Some(why) = self.dispatch(out, &mut ws) {
                    return self.close(ws, why);
                }
            }
            // Everything the socket has.
            loop {
                match ws.read() {
                    Ok(WsMessage::Text(t)) => {
                        let out = self.tracker.receive(t.as_str(), Instant::now());
                        if let Some(why) = self.dispatch(out, &mut ws) {
                            return self.close(ws, why);
                        }
                    }
                    Ok(WsMessage::Binary(_)) => {
                        let why = Xfs4IotError::Protocol("a binary WebSocket message".into());
                        let out = self.tracker.abort(why.clone());
                        self.dispatch(out, &mut ws);
                        return self.close(ws, why);
                    }
                    Ok(WsMessage::Close(_)) => {}
                    Ok(_) => {}
                    Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                        break
                    }
                    Err(tungstenite::Error::Capacity(
                        tungstenite::error::CapacityError::MessageTooLong { size, max_size },
                    )) => {
                        let why = Xfs4IotError::TooLarge {
                            len: size,
                            max: max_size,
                        };
                        let out = self.tracker.abort(why.clone());
                        self.dispatch(out, &mut ws);
                        return self.close(ws, why);
                    }
                    Err(_) => {
                        let out = self.tracker.closed();
                        self.dispatch(out, &mut ws);
                        return self.close(ws, Xfs4IotError::Disconnected);
                    }
                }
            }
            if self.want_write {
                match ws.flush() {
                    Ok(()) => self.want_write = false,
                    Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(_) => {
                        let out = self.tracker.closed();
                        self.dispatch(out, &mut ws);
                        return self.close(ws, Xfs4IotError::Disconnected);
                    }
                }
            }
            let now = Instant::now();
            let out = self.tracker.tick(now);
            if let Some(why) = self.dispatch(out, &mut ws) {
                return self.close(ws, why);
            }
            if !self.backlog.is_empty() {
                continue;
            }
            let wait = self
                .tracker
                .next_deadline()
                .map_or(Duration::from_secs(1), |d| {
                    d.saturating_duration_since(Instant::now())
                })
                .min(Duration::from_secs(1));
            self.wait(&ws, wait);
        }
    }

    /// Waits until the socket is readable (or writable, when bytes wait), a wake-up arrives,
    /// or `timeout` passes.
    fn wait(&mut self, ws: &Socket, timeout: Duration) {
        let events = if self.want_write {
            libc::POLLIN | libc::POLLOUT
        } else {
            libc::POLLIN
        };
        let mut fds = [
            libc::pollfd {
                fd: ws.get_ref().as_raw_fd(),
                events,
                revents: 0,
            },
            libc::pollfd {
                fd: self.wake.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // Round up so a deadline 0.4 ms away does not spin.
        let ms = i32::try_from(timeout.as_micros().div_ceil(1000)).unwrap_or(i32::MAX);
        // SAFETY: `fds` is a valid array of two pollfd structs for the duration of the call.
        unsafe { libc::poll(fds.as_mut_ptr(), 2, ms) };
        if fds[1].revents != 0 {
            let mut buf = [0u8; 64];
            while matches!((&self.wake).read(&mut buf), Ok(n) if n > 0) {}
        }
    }

    /// Acts on the tracker's outputs; `Some(why)` when the socket must close.
    fn dispatch(&mut self, out: Vec<Output>, ws: &mut Socket) -> Option<Xfs4IotError> {
        // The snapshot first (a completed `Common.Status` updates it too), so a caller woken
        // by the completion below reads the new status.
        {
            let st = self.tracker.status();
            let mut s = lock(&self.shared);
            if s.status != *st {
                s.status = st.clone();
            }
        }
        let mut close = None;
        for o in out {
            match o {
                Output::Send(text) => match ws.send(WsMessage::text(text)) {
                    Ok(()) => {}
                    Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                        self.want_write = true;
                    }
                    Err(_) => close = Some(Xfs4IotError::Disconnected),
                },
                Output::Acknowledged(id) => self.reply(id, CommandUpdate::Acknowledged),
                Output::Event { id, name, payload } => {
                    self.reply(id, CommandUpdate::Event { name, payload })
                }
                Output::Completed { id, result } => {
                    if let Some(tx) = self.replies.remove(&id) {
                        let _ = tx.send(CommandUpdate::Done(result));
                    }
                }
                Output::Unsolicited { name, payload } => {
                    self.broadcast(ServiceEvent::Unsolicited { name, payload })
                }
                Output::StatusChanged(s) => self.broadcast(ServiceEvent::Status(s)),
                Output::Violation(_) => lock(&self.shared).stats.violations += 1,
                Output::Close(why) => close = Some(why),
            }
        }
        if close.is_some() {
            // Whatever the socket did, nothing may wait any more.
            let rest = self.tracker.closed();
            for o in rest {
                if let Output::Completed { id, result } = o {
                    if let Some(tx) = self.replies.remove(&id) {
                        let _ = tx.send(CommandUpdate::Done(result));
                    }
                }
            }
        }
        close
    }

    fn reply(&self, id: RequestId, u: CommandUpdate) {
        if let Some(tx) = self.replies.get(&id) {
            let _ = tx.send(u);
        }
    }

    fn close(&mut self, mut ws: Socket, why: Xfs4IotError) -> Flow {
        let _ = ws.close(None);
        let _ = ws.flush();
        for (_, tx) in self.replies.drain() {
            let _ = tx.send(CommandUpdate::Done(Err(why.clone())));
        }
        Flow::Closed(why)
    }
}

/// What a service publisher lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publisher {
    /// `vendorName`.
    pub vendor_name: String,
    /// The services' URIs, on the publisher's own host.
    pub services: Vec<String>,
}

fn host_of(uri: &str) -> Option<String> {
    uri.parse::<tungstenite::http::Uri>()
        .ok()
        .and_then(|u| u.host().map(|h| h.to_ascii_lowercase()))
}

fn collect_services(payload: &Map<String, Value>, host: &str, out: &mut Vec<String>) {
    let Some(list) = payload.get("services").and_then(Value::as_array) else {
        return;
    };
    for s in list.iter().take(64) {
        let Some(uri) = s.get("serviceURI").and_then(Value::as_str) else {
            continue;
        };
        // A publisher may only point at services on its own machine.
        let ok = uri.starts_with("ws://") && host_of(uri).as_deref() == Some(host);
        if ok && uri.len() <= 512 && !out.iter().any(|u| u == uri) {
            out.push(uri.to_string());
        }
    }
}

/// `ServicePublisher.GetServices` at `publisher_uri` (`ws://host:port/xfs4iot/v1.0`): the
/// services from its `ServiceDetailEvent`s and its completion. Service URIs on another host,
/// or not `ws://`, are left out.
pub fn get_services(publisher_uri: &str, config: ClientConfig) -> Result<Publisher, Xfs4IotError> {
    let host = host_of(publisher_uri).ok_or_else(|| Xfs4IotError::Connect {
        uri: publisher_uri.to_string(),
        reason: "no host".into(),
    })?;
    let client = ServiceClient::connect(publisher_uri, config)?;
    let mut services = Vec::new();
    let mut vendor = String::new();
    let done = client
        .send(Command::new("ServicePublisher.GetServices").timeout(Duration::from_secs(10)))
        .wait_with(|name, payload| {
            if name == "ServicePublisher.ServiceDetailEvent" {
                collect_services(payload, &host, &mut services);
            }
        })?;
    collect_services(&done.payload, &host, &mut services);
    if let Some(v) = done.payload.get("vendorName").and_then(Value::as_str) {
        vendor = super::message::clean_description(v);
    }
    Ok(Publisher {
        vendor_name: vendor,
        services,
    })
}

/// A discovered service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInfo {
    /// Its URI.
    pub uri: String,
    /// The interfaces it offers (`Common`, `Printer`, …), from `Common.Capabilities`.
    pub interfaces: Vec<String>,
}

/// [`get_services`], then `Common.Capabilities` on each service. A service that does not
/// answer is listed with no interfaces.
pub fn discover(
    publisher_uri: &str,
    config: ClientConfig,
) -> Result<Vec<ServiceInfo>, Xfs4IotError> {
    let p = get_services(publisher_uri, config.clone())?;
    Ok(p.services
        .into_iter()
        .map(|uri| {
            let interfaces = ServiceClient::connect(&uri, config.clone())
                .and_then(|c| {
                    c.call(Command::new("Common.Capabilities").timeout(Duration::from_secs(5)))
                })
                .map(|done| interfaces_of(&done.payload))
                .unwrap_or_default();
            ServiceInfo { uri, interfaces }
        })
        .collect())
}

/// The interface names in a `Common.Capabilities` completion.
pub fn interfaces_of(payload: &Map<String, Value>) -> Vec<String> {
    payload
        .get("interfaces")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .take(32)
                .filter_map(|i| i.get("name").and_then(Value::as_str))
                .filter(|n| n.len() <= 64)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The ports a publisher may listen on, in the order tried: 5846–5856, then 80.
pub const PUBLISHER_PORTS: [u16; 12] = [
    5846, 5847, 5848, 5849, 5850, 5851, 5852, 5853, 5854, 5855, 5856, 80,
];

/// Finds the service publisher on `host` by trying `ports` in order; its URI.
pub fn find_publisher(host: &str, ports: &[u16], config: &ClientConfig) -> Option<String> {
    ports.iter().find_map(|p| {
        let uri = format!("ws://{host}:{p}/xfs4iot/v1.0");
        open(&uri, config).ok().map(|mut ws| {
            let _ = ws.close(None);
            let _ = ws.flush();
            uri
        })
    })
}
