//! The thin WebSocket transport of an XFS4IoT device service: a loopback TCP listener, one
//! thread per connection (`tungstenite`, like the client and the emulator), the sans-IO
//! [`server::Connection`](super::server::Connection) deciding what each text means.
//!
//! Loopback only, checked twice: [`DeviceServiceListener::start`] binds only a loopback
//! address, and a peer whose address is not the listener's own is closed before a byte is
//! read. What the service does is its [`ServiceHandler`]'s: it admits or refuses each
//! handshake (HTTP status and reason), runs commands and answers them through a
//! [`Replier`] from any thread; the connection thread writes what it is given only while
//! the request is open, so every command ends in exactly one completion.

use std::io::{self, ErrorKind};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{Map, Value};
use tungstenite::handshake::server::{ErrorResponse, Request as HttpRequest, Response};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tungstenite::{Message, WebSocket};

use super::message::CompletionCode;
use super::server::{Connection, Incoming, Request, CLOSE_TOO_BIG};

/// Limits of one listener.
#[derive(Debug, Clone, Copy)]
pub struct ListenerConfig {
    /// The largest message accepted, in bytes.
    pub max_message_bytes: usize,
    /// Commands in flight on one connection.
    pub max_open_per_connection: usize,
    /// Connections served at once; more are closed at once.
    pub max_connections: usize,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        Self {
            max_message_bytes: 64 * 1024,
            max_open_per_connection: 8,
            max_connections: 16,
        }
    }
}

/// One client's connection as the handler sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// This listener's number for the connection (unique while it runs).
    pub connection: u64,
    /// The client's address.
    pub addr: SocketAddr,
    /// The URI path asked for (`/xfs4iot/v1.0/Printer`), without a trailing slash.
    pub path: String,
    /// The URI query, without `?` (empty when none).
    pub query: String,
}

/// What the service does; called on the connection threads.
pub trait ServiceHandler: Send + Sync + 'static {
    /// A TCP peer from another address than the listener's own was closed unheard.
    fn peer_refused(&self, addr: SocketAddr);
    /// A WebSocket handshake: `Ok` to serve it, `Err((status, reason))` to refuse it with
    /// that HTTP status.
    fn admit(&self, peer: &Peer) -> Result<(), (u16, String)>;
    /// An acknowledged command; answer it through `reply` (now or later, from any thread).
    fn command(&self, peer: &Peer, request: Request, reply: Replier);
    /// The client sent something refused or not a message (`what`: a status or close reason
    /// without contents).
    fn protocol_error(&self, peer: &Peer, what: &str);
    /// The connection ended; `open` are the commands it left without a completion.
    fn closed(&self, peer: &Peer, open: Vec<u32>);
}

enum Out {
    Event(u32, String, Map<String, Value>),
    Complete(u32, CompletionCode, Option<String>, Map<String, Value>),
}

/// Answers for one connection's commands, from any thread. Answers for a connection that
/// has closed, or a request already completed, are dropped.
#[derive(Clone)]
pub struct Replier {
    tx: Sender<Out>,
}

impl Replier {
    /// An event about request `id`.
    pub fn event(&self, id: u32, name: &str, payload: Map<String, Value>) {
        let _ = self.tx.send(Out::Event(id, name.to_owned(), payload));
    }

    /// The completion of request `id`.
    pub fn complete(
        &self,
        id: u32,
        code: CompletionCode,
        description: Option<&str>,
        payload: Map<String, Value>,
    ) {
        let _ = self.tx.send(Out::Complete(
            id,
            code,
            description.map(str::to_owned),
            payload,
        ));
    }
}

/// A running device service listener; stops (and closes its connections) when dropped.
pub struct DeviceServiceListener {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl DeviceServiceListener {
    /// Listens on `addr`, which must be a loopback address (port 0: any free one).
    pub fn start(
        addr: SocketAddr,
        config: ListenerConfig,
        handler: Arc<dyn ServiceHandler>,
    ) -> io::Result<Self> {
        if !addr.ip().is_loopback() {
            return Err(io::Error::new(
                ErrorKind::InvalidInput,
                format!("a device service listens on loopback only, not {addr}"),
            ));
        }
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let thread = std::thread::Builder::new()
            .name("xfs4iot-service".into())
            .spawn(move || accept_loop(listener, addr, config, handler, st))?;
        Ok(Self {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for DeviceServiceListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(
    listener: TcpListener,
    local: SocketAddr,
    config: ListenerConfig,
    handler: Arc<dyn ServiceHandler>,
    stop: Arc<AtomicBool>,
) {
    let next = AtomicU64::new(1);
    let live = Arc::new(AtomicUsize::new(0));
    let mut conns: Vec<JoinHandle<()>> = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, peer)) => {
                if peer.ip() != local.ip() {
                    // Not this machine's own loopback address: nothing is read.
                    let _ = stream.shutdown(std::net::Shutdown::Both);
                    handler.peer_refused(peer);
                    continue;
                }
                if live.load(Ordering::SeqCst) >= config.max_connections {
                    let _ = stream.shutdown(std::net::Shutdown::Both);
                    continue;
                }
                live.fetch_add(1, Ordering::SeqCst);
                let connection = next.fetch_add(1, Ordering::SeqCst);
                let (h, st, lv) = (handler.clone(), stop.clone(), live.clone());
                match std::thread::Builder::new()
                    .name("xfs4iot-service-conn".into())
                    .spawn(move || {
                        serve(stream, peer, connection, config, &*h, &st);
                        lv.fetch_sub(1, Ordering::SeqCst);
                    }) {
                    Ok(j) => conns.push(j),
                    Err(_) => {
                        live.fetch_sub(1, Ordering::SeqCst);
                    }
                }
                conns.retain(|j| !j.is_finished());
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    for j in conns {
        let _ = j.join();
    }
}

fn serve(
    stream: TcpStream,
    addr: SocketAddr,
    connection: u64,
    config: ListenerConfig,
    handler: &dyn ServiceHandler,
    stop: &AtomicBool,
) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_nonblocking(false);
    // A peer that connects and says nothing must not hold the thread.
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut peer = Peer {
        connection,
        addr,
        path: String::new(),
        query: String::new(),
    };
    let mut admitted = false;
    // tungstenite's callback signature fixes the error type.
    #[allow(clippy::result_large_err)]
    let cb = |req: &HttpRequest, resp: Response| -> Result<Response, ErrorResponse> {
        peer.path = req.uri().path().trim_end_matches('/').to_owned();
        peer.query = req.uri().query().unwrap_or_default().to_owned();
        match handler.admit(&peer) {
            Ok(()) => {
                admitted = true;
                Ok(resp)
            }
            Err((status, reason)) => {
                let mut r = ErrorResponse::new(Some(reason));
                *r.status_mut() = tungstenite::http::StatusCode::from_u16(status)
                    .unwrap_or(tungstenite::http::StatusCode::FORBIDDEN);
                Err(r)
            }
        }
    };
    let ws_config = WebSocketConfig::default()
        .max_message_size(Some(config.max_message_bytes))
        .max_frame_size(Some(config.max_message_bytes));
    let accepted = tungstenite::accept_hdr_with_config(stream, cb, Some(ws_config));
    let Ok(mut ws) = accepted else {
        return;
    };
    if !admitted {
        return;
    }
    let _ = ws
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(10)));
    let (tx, rx): (Sender<Out>, Receiver<Out>) = mpsc::channel();
    let replier = Replier { tx };
    let mut conn = Connection::new(config.max_message_bytes, config.max_open_per_connection);
    let ended = run(&mut ws, &mut conn, &peer, handler, &replier, &rx, stop);
    if let Some((code, reason)) = ended {
        let _ = ws.close(Some(CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        }));
        // Let the close frame out (and the client's answer in) before the socket goes.
        for _ in 0..20 {
            match ws.read() {
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }
    let open: Vec<u32> = conn.open_requests().map(|(id, _)| id).collect();
    handler.closed(&peer, open);
}

/// Serves one connection until it ends; `Some((code, reason))` when we close it.
fn run(
    ws: &mut WebSocket<TcpStream>,
    conn: &mut Connection,
    peer: &Peer,
    handler: &dyn ServiceHandler,
    replier: &Replier,
    rx: &Receiver<Out>,
    stop: &AtomicBool,
) -> Option<(u16, String)> {
    while !stop.load(Ordering::SeqCst) {
        while let Ok(out) = rx.try_recv() {
            let text = match out {
                Out::Event(id, name, payload) => conn.event(id, &name, &payload),
                Out::Complete(id, code, desc, payload) => {
                    conn.complete(id, code, desc.as_deref(), &payload)
                }
            };
            if let Some(text) = text {
                if ws.send(Message::text(text)).is_err() {
                    return None;
                }
            }
        }
        match ws.read() {
            Ok(Message::Text(t)) => match conn.receive(t.as_str()) {
                Incoming::Command { request, ack } => {
                    if ws.send(Message::text(ack)).is_err() {
                        return None;
                    }
                    handler.command(peer, request, replier.clone());
                }
                Incoming::Refused { ack, status, .. } => {
                    handler.protocol_error(peer, status);
                    if ws.send(Message::text(ack)).is_err() {
                        return None;
                    }
                }
                Incoming::Close { code, reason } => {
                    handler.protocol_error(peer, &reason);
                    return Some((code, reason));
                }
            },
            Ok(Message::Binary(_)) => {
                let reason = "XFS4IoT messages are text".to_owned();
                handler.protocol_error(peer, &reason);
                return Some((super::server::CLOSE_MALFORMED, reason));
            }
            Ok(Message::Close(_)) => return None,
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(tungstenite::Error::Capacity(_)) => {
                let reason = format!(
                    "message over the {}-byte cap",
                    conn_cap_hint(ws).unwrap_or_default()
                );
                handler.protocol_error(peer, &reason);
                return Some((CLOSE_TOO_BIG, reason));
            }
            Err(_) => return None,
        }
    }
    None
}

fn conn_cap_hint(ws: &WebSocket<TcpStream>) -> Option<usize> {
    ws.get_config().max_message_size
}
