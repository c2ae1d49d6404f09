//! XFS4IoT device-service emulator, written from the specification (CEN CWA 17852), not from
//! this crate's client: it handles raw JSON (`serde_json::Value`) itself.
//!
//! One TCP port serves the service publisher at `/xfs4iot/v1.0` and the services at
//! `/xfs4iot/v1.0/<Service>`: `Printer`, `BarcodeReader`, `Camera`, `Lights`, `VendorMode`.
//! Every service answers `Common.Status`, `Common.Capabilities`, `Common.Cancel` and
//! `Common.GetCommandNonce`; each command gets an acknowledge, its events and one completion.
//!
//! Faults, per command name, until `clear` (control lines, also on `devsim xfs4iot`'s stdin):
//! `fault NAME no-ack` (silence), `fault NAME error CODE [ERRORCODE]` (a failed completion),
//! `fault NAME disconnect` (ack, then the socket closes), `fault NAME slow MS` (the completion
//! after MS milliseconds, cancellable), `fault NAME garbage` (malformed JSON instead of the
//! completion), `fault NAME stray` (a completion for an id never sent, then silence),
//! `fault NAME flood N` (N events first), `fault NAME oversize BYTES` (a padded completion).
//! State: `status SERVICE DEVICE` (e.g. `status Printer hardwareError`: an unsolicited
//! `Common.StatusChangedEvent` to that service's clients), `paper out|low|full`,
//! `scan TEXT` (the next code `BarcodeReader.Read` returns), `vendor enter|exit` (the vendor
//! application asks to enter or leave vendor mode), `jobs`, `lights`, `clear`.

use std::collections::{BTreeMap, VecDeque};
use std::io::{self, ErrorKind};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Map, Value};
use tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tungstenite::{Message, WebSocket};

/// The services this emulator offers, by their path name.
pub const SERVICES: [&str; 5] = ["Printer", "BarcodeReader", "Camera", "Lights", "VendorMode"];

const BASE: &str = "/xfs4iot/v1.0";

/// A fault injected for one command name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// No acknowledge and no completion.
    NoAck,
    /// A completion with `completionCode` (and the payload's `errorCode`).
    Error(String, Option<String>),
    /// Acknowledge, then close the TCP connection.
    Disconnect,
    /// The completion after this delay.
    Slow(Duration),
    /// Malformed JSON instead of the completion.
    Garbage,
    /// A completion for another request id, then nothing.
    Stray,
    /// This many events before the completion.
    Flood(usize),
    /// A completion padded to this many bytes.
    Oversize(usize),
}

#[derive(Debug, Default)]
struct State {
    faults: BTreeMap<String, Fault>,
    device: BTreeMap<String, String>,
    paper: String,
    jobs: Vec<Vec<u8>>,
    scans: VecDeque<String>,
    lights: Map<String, Value>,
    vendor_apps: Vec<String>,
    vendor_service: String,
    vendor_acks: usize,
    nonce: Option<String>,
    nonce_counter: u64,
    /// Per-connection outboxes of unsolicited events, by service.
    listeners: Vec<(String, Sender<String>)>,
}

/// Most print jobs kept.
const MAX_JOBS: usize = 64;

/// The emulator's shared state, for tests and the control console.
#[derive(Clone)]
pub struct Xfs4IotShared {
    state: Arc<Mutex<State>>,
}

impl Xfs4IotShared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets a fault for `command` until cleared.
    pub fn set_fault(&self, command: &str, fault: Fault) {
        self.lock().faults.insert(command.to_string(), fault);
    }

    /// Removes every fault and restores paper and devices.
    pub fn clear(&self) {
        let mut s = self.lock();
        s.faults.clear();
        s.device.clear();
        s.paper = "full".into();
    }

    /// The raw bytes of each `Printer.PrintRaw` so far.
    pub fn jobs(&self) -> Vec<Vec<u8>> {
        self.lock().jobs.clone()
    }

    /// The number of jobs so far.
    pub fn job_count(&self) -> usize {
        self.lock().jobs.len()
    }

    /// Queues a code for the next `BarcodeReader.Read`.
    pub fn scan(&self, text: &str) {
        self.lock().scans.push_back(text.to_string());
    }

    /// The lights as last set.
    pub fn lights(&self) -> Map<String, Value> {
        self.lock().lights.clone()
    }

    /// Apps registered with `VendorMode.Register`.
    pub fn vendor_apps(&self) -> Vec<String> {
        self.lock().vendor_apps.clone()
    }

    /// The vendor mode state (`inactive`, `enterPending`, `active`, `exitPending`).
    pub fn vendor_state(&self) -> String {
        self.lock().vendor_service.clone()
    }

    fn push(&self, service: &str, text: &str) {
        let mut s = self.lock();
        s.listeners
            .retain(|(svc, tx)| svc != service || tx.send(text.to_string()).is_ok());
    }

    /// Sets `service`'s `common.device` (e.g. `hardwareError`) and tells its clients with an
    /// unsolicited `Common.StatusChangedEvent`.
    pub fn set_device(&self, service: &str, device: &str) {
        self.lock()
            .device
            .insert(service.to_string(), device.to_string());
        let ev = unsolicited(
            "Common.StatusChangedEvent",
            json!({"common": {"device": device}}),
        );
        self.push(service, &ev);
    }

    /// Paper `full`, `low` or `out`; a status change is sent to the printer's clients.
    pub fn set_paper(&self, paper: &str) {
        self.lock().paper = paper.to_string();
        let ev = unsolicited(
            "Common.StatusChangedEvent",
            json!({"printer": {"paper": {"upper": paper}}}),
        );
        self.push("Printer", &ev);
    }

    /// The vendor application asks to enter (`true`) or exit vendor mode: registered clients
    /// get `VendorMode.EnterModeRequestEvent` / `ExitModeRequestEvent` and must acknowledge.
    pub fn vendor_request(&self, enter: bool) {
        let (name, pending) = if enter {
            ("VendorMode.EnterModeRequestEvent", "enterPending")
        } else {
            ("VendorMode.ExitModeRequestEvent", "exitPending")
        };
        let apps = {
            let mut s = self.lock();
            s.vendor_service = pending.into();
            s.vendor_acks = 0;
            s.vendor_apps.len()
        };
        self.push("VendorMode", &unsolicited(name, Value::Null));
        if apps == 0 {
            self.vendor_settle();
        }
    }

    fn vendor_settle(&self) {
        let done = {
            let mut s = self.lock();
            let all = s.vendor_acks >= s.vendor_apps.len();
            match (s.vendor_service.as_str(), all) {
                ("enterPending", true) => {
                    s.vendor_service = "active".into();
                    Some("VendorMode.ModeEnteredEvent")
                }
                ("exitPending", true) => {
                    s.vendor_service = "inactive".into();
                    Some("VendorMode.ModeExitedEvent")
                }
                _ => None,
            }
        };
        if let Some(name) = done {
            self.push("VendorMode", &unsolicited(name, Value::Null));
            let st = self.vendor_state();
            self.push(
                "VendorMode",
                &unsolicited(
                    "Common.StatusChangedEvent",
                    json!({"vendorMode": {"device": "online", "service": st}}),
                ),
            );
        }
    }

    /// Runs a control line (see the module doc).
    pub fn control(&self, line: &str) -> Result<String, String> {
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.as_slice() {
            ["fault", name, rest @ ..] => {
                let fault = parse_fault(rest)?;
                self.set_fault(name, fault.clone());
                Ok(format!("{name}: {fault:?}"))
            }
            ["clear"] => {
                self.clear();
                Ok("cleared".into())
            }
            ["status", service, device] => {
                self.set_device(service, device);
                Ok(format!("{service}: {device}"))
            }
            ["paper", p @ ("out" | "low" | "full")] => {
                self.set_paper(p);
                Ok(format!("paper {p}"))
            }
            ["scan", text @ ..] if !text.is_empty() => {
                self.scan(&text.join(" "));
                Ok("queued".into())
            }
            ["vendor", "enter"] => {
                self.vendor_request(true);
                Ok(self.vendor_state())
            }
            ["vendor", "exit"] => {
                self.vendor_request(false);
                Ok(self.vendor_state())
            }
            ["jobs"] => Ok(format!("{} jobs", self.job_count())),
            ["lights"] => Ok(Value::Object(self.lights()).to_string()),
            _ => Err(format!("unknown command {line:?}")),
        }
    }
}

fn parse_fault(w: &[&str]) -> Result<Fault, String> {
    let num = |s: &str| s.parse::<u64>().map_err(|_| format!("not a number: {s}"));
    Ok(match w {
        ["no-ack"] => Fault::NoAck,
        ["error", code] => Fault::Error(code.to_string(), None),
        ["error", code, ec] => Fault::Error(code.to_string(), Some(ec.to_string())),
        ["disconnect"] => Fault::Disconnect,
        ["slow", ms] => Fault::Slow(Duration::from_millis(num(ms)?)),
        ["garbage"] => Fault::Garbage,
        ["stray"] => Fault::Stray,
        ["flood", n] => Fault::Flood(num(n)? as usize),
        ["oversize", n] => Fault::Oversize(num(n)? as usize),
        _ => return Err(format!("unknown fault {w:?}")),
    })
}

fn unsolicited(name: &str, payload: Value) -> String {
    let mut m = json!({"header": {"type": "unsolicited", "name": name, "version": "2.0"}});
    if !payload.is_null() {
        m["payload"] = payload;
    }
    m.to_string()
}

fn answer(kind: &str, name: &str, id: u64, extra: Value, payload: Value) -> String {
    let mut h = json!({"type": kind, "name": name, "requestId": id, "version": "2.0"});
    if let Value::Object(e) = extra {
        for (k, v) in e {
            h[k] = v;
        }
    }
    let mut m = json!({ "header": h });
    if !payload.is_null() {
        m["payload"] = payload;
    }
    m.to_string()
}

fn completion(name: &str, id: u64, code: &str, payload: Value) -> String {
    answer(
        "completion",
        name,
        id,
        json!({"completionCode": code}),
        payload,
    )
}

/// The emulator, listening on one TCP port.
pub struct Xfs4IotSim {
    addr: SocketAddr,
    shared: Xfs4IotShared,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Xfs4IotSim {
    /// Listens on `addr` (`127.0.0.1:0` for any free port; 5846 is the first publisher port).
    pub fn start(addr: &str) -> io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Xfs4IotShared {
            state: Arc::new(Mutex::new(State {
                paper: "full".into(),
                vendor_service: "inactive".into(),
                ..Default::default()
            })),
        };
        let stop = Arc::new(AtomicBool::new(false));
        let (sh, st) = (shared.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("xfs4iot-sim".into())
            .spawn(move || accept_loop(listener, addr, sh, st))?;
        Ok(Self {
            addr,
            shared,
            stop,
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The publisher's URI.
    pub fn publisher_uri(&self) -> String {
        format!("ws://{}{BASE}", self.addr)
    }

    /// A service's URI (`Printer`, …).
    pub fn service_uri(&self, service: &str) -> String {
        format!("ws://{}{BASE}/{service}", self.addr)
    }

    /// Shared state and faults.
    pub fn shared(&self) -> &Xfs4IotShared {
        &self.shared
    }

    /// Runs a control line.
    pub fn control(&self, line: &str) -> Result<String, String> {
        self.shared.control(line)
    }
}

impl Drop for Xfs4IotSim {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(
    listener: TcpListener,
    addr: SocketAddr,
    shared: Xfs4IotShared,
    stop: Arc<AtomicBool>,
) {
    let mut conns: Vec<JoinHandle<()>> = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let (sh, st) = (shared.clone(), stop.clone());
                if let Ok(h) = std::thread::Builder::new()
                    .name("xfs4iot-sim-conn".into())
                    .spawn(move || serve(stream, addr, sh, st))
                {
                    conns.push(h);
                }
                conns.retain(|h| !h.is_finished());
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    for h in conns {
        let _ = h.join();
    }
}

/// A scheduled completion: when, request id, command name, text.
type Due = (Instant, u64, String, String);

/// How a command is answered.
enum Reply {
    /// This completion, now (or after a `slow` fault).
    Now(String),
    /// Later (a barcode read waits for a code).
    Later,
    /// Already sent (with what must follow it).
    Sent,
}

struct Conn {
    service: Option<String>,
    /// `host:port` as the client named it.
    host: String,
    shared: Xfs4IotShared,
    due: Vec<Due>,
    /// Waiting `BarcodeReader.Read`s: (id, deadline).
    /// Barcode reads waiting: request id, not answered before, service timeout.
    reads: Vec<(u64, Instant, Instant)>,
    active: Vec<u64>,
}

fn serve(stream: TcpStream, addr: SocketAddr, shared: Xfs4IotShared, stop: Arc<AtomicBool>) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_nonblocking(false);
    // A peer that connects and says nothing must not hold the thread (or the emulator's stop).
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut path = String::new();
    let mut host = addr.to_string();
    // tungstenite's callback signature fixes the error type.
    #[allow(clippy::result_large_err)]
    let cb = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        path = req.uri().path().trim_end_matches('/').to_string();
        // Service URIs name the host the client reached us by.
        if let Some(h) = req.headers().get("host").and_then(|h| h.to_str().ok()) {
            if h.len() <= 255 && !h.contains('/') {
                host = h.to_string();
            }
        }
        let ok = path == BASE
            || path
                .strip_prefix(BASE)
                .and_then(|p| p.strip_prefix('/'))
                .is_some_and(|s| SERVICES.contains(&s));
        if ok {
            Ok(resp)
        } else {
            let mut r = ErrorResponse::new(Some("no such XFS4IoT service".into()));
            *r.status_mut() = tungstenite::http::StatusCode::NOT_FOUND;
            Err(r)
        }
    };
    let Ok(mut ws) = tungstenite::accept_hdr(stream, cb) else {
        return;
    };
    let service = path
        .strip_prefix(BASE)
        .and_then(|p| p.strip_prefix('/'))
        .map(str::to_string);
    let _ = ws
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(5)));
    let (tx, rx): (Sender<String>, Receiver<String>) = mpsc::channel();
    if let Some(s) = &service {
        shared.lock().listeners.push((s.clone(), tx));
    }
    let mut c = Conn {
        service,
        host,
        shared,
        due: Vec::new(),
        reads: Vec::new(),
        active: Vec::new(),
    };
    while !stop.load(Ordering::SeqCst) {
        while let Ok(text) = rx.try_recv() {
            if ws.send(Message::text(text)).is_err() {
                return;
            }
        }
        if !c.flush_due(&mut ws) {
            return;
        }
        match ws.read() {
            Ok(Message::Text(t)) => {
                if !c.handle(&mut ws, t.as_str()) {
                    // Drop the socket without a close frame: the client sees a broken link.
                    let _ = ws.get_ref().shutdown(std::net::Shutdown::Both);
                    return;
                }
            }
            Ok(Message::Close(_)) => return,
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}

impl Conn {
    fn send(ws: &mut WebSocket<TcpStream>, text: String) -> bool {
        ws.send(Message::text(text)).is_ok()
    }

    /// Sends what is due: slow completions and barcode reads.
    fn flush_due(&mut self, ws: &mut WebSocket<TcpStream>) -> bool {
        let now = Instant::now();
        let mut i = 0;
        while i < self.due.len() {
            if self.due[i].0 <= now {
                let (_, id, _, text) = self.due.remove(i);
                self.active.retain(|&a| a != id);
                if !Self::send(ws, text) {
                    return false;
                }
            } else {
                i += 1;
            }
        }
        while !self.reads.is_empty() {
            let (id, not_before, deadline) = self.reads[0];
            if now < not_before {
                break;
            }
            let code = self.shared.lock().scans.pop_front();
            let text = match code {
                Some(code) => completion(
                    "BarcodeReader.Read",
                    id,
                    "success",
                    json!({"readOutput": [{
                        "symbology": "qrCode",
                        "barcodeData": base64::engine::general_purpose::STANDARD.encode(code.as_bytes()),
                    }]}),
                ),
                None if now >= deadline => {
                    completion("BarcodeReader.Read", id, "timeOut", Value::Null)
                }
                None => break,
            };
            self.reads.remove(0);
            self.active.retain(|&a| a != id);
            if !Self::send(ws, text) {
                return false;
            }
        }
        true
    }

    /// Handles one text message; `false` to drop the connection.
    fn handle(&mut self, ws: &mut WebSocket<TcpStream>, text: &str) -> bool {
        let Ok(msg) = serde_json::from_str::<Value>(text) else {
            // No id to acknowledge: the specification's `invalidMessage` needs one.
            return true;
        };
        let h = &msg["header"];
        let name = h["name"].as_str().unwrap_or("").to_string();
        let Some(id) = h["requestId"]
            .as_u64()
            .filter(|&i| i >= 1 && i <= i32::MAX as u64)
        else {
            return true;
        };
        if h["type"] != "command" || !name.contains('.') {
            return Self::send(
                ws,
                answer(
                    "acknowledge",
                    &name,
                    id,
                    json!({"status": "invalidMessage", "errorDescription": "not a command"}),
                    Value::Null,
                ),
            );
        }
        if self.active.contains(&id) {
            return Self::send(
                ws,
                answer(
                    "acknowledge",
                    &name,
                    id,
                    json!({"status": "invalidRequestID", "errorDescription": "request id in use"}),
                    Value::Null,
                ),
            );
        }
        let fault = self.shared.lock().faults.get(&name).cloned();
        if fault == Some(Fault::NoAck) {
            return true;
        }
        if !Self::send(ws, answer("acknowledge", &name, id, json!({}), Value::Null)) {
            return false;
        }
        let payload = msg.get("payload").cloned().unwrap_or(Value::Null);
        let timeout = h["timeout"].as_u64().unwrap_or(0);
        match fault {
            Some(Fault::Disconnect) => return false,
            Some(Fault::Garbage) => {
                return Self::send(
                    ws,
                    format!("{{\"header\":{{\"type\":\"completion\",\"requestId\":{id},"),
                );
            }
            Some(Fault::Stray) => {
                return Self::send(ws, completion(&name, id + 1000, "success", json!({})));
            }
            Some(Fault::Error(code, ec)) => {
                let p = ec.map_or(Value::Null, |e| json!({ "errorCode": e }));
                return Self::send(
                    ws,
                    answer(
                        "completion",
                        &name,
                        id,
                        json!({"completionCode": code, "errorDescription": "injected fault"}),
                        p,
                    ),
                );
            }
            Some(Fault::Flood(n)) => {
                for _ in 0..n {
                    let ev = answer(
                        "event",
                        "Common.ErrorEvent",
                        id,
                        json!({}),
                        json!({"eventId": "software"}),
                    );
                    if !Self::send(ws, ev) {
                        return false;
                    }
                }
            }
            _ => {}
        }
        let result = match self.execute(&name, id, &payload, timeout, ws) {
            Reply::Now(text) => text,
            Reply::Later => {
                // A slow reader answers (a code or its timeout) no earlier than the delay.
                if let (Some(Fault::Slow(d)), Some(read)) = (&fault, self.reads.last_mut()) {
                    read.1 = Instant::now() + *d;
                    read.2 = read.2.max(read.1);
                }
                self.active.push(id);
                return true;
            }
            Reply::Sent => return true,
        };
        let text = match fault {
            Some(Fault::Oversize(n)) => {
                let pad = "A".repeat(n);
                completion(&name, id, "success", json!({ "padding": pad }))
            }
            _ => result,
        };
        if let Some(Fault::Slow(d)) = fault {
            self.active.push(id);
            self.due.push((Instant::now() + d, id, name, text));
            return true;
        }
        Self::send(ws, text)
    }

    fn device(&self) -> String {
        let s = self.shared.lock();
        self.service
            .as_ref()
            .and_then(|svc| s.device.get(svc).cloned())
            .unwrap_or_else(|| "online".into())
    }

    /// Runs one command.
    fn execute(
        &mut self,
        name: &str,
        id: u64,
        payload: &Value,
        timeout_ms: u64,
        ws: &mut WebSocket<TcpStream>,
    ) -> Reply {
        let svc = self.service.clone();
        let ok = |p: Value| Reply::Now(completion(name, id, "success", p));
        let fail = |code: &str| Reply::Now(completion(name, id, code, Value::Null));
        let unsupported = || fail("unsupportedCommand");
        let interface = name.split('.').next().unwrap_or("");
        match (svc.as_deref(), interface) {
            (None, "ServicePublisher") | (_, "Common") => {}
            (Some(s), i) if s == i => {}
            _ => return unsupported(),
        }
        let device = self.device();
        if interface != "Common" && interface != "ServicePublisher" && device != "online" {
            return Reply::Now(answer(
                "completion",
                name,
                id,
                json!({"completionCode": "deviceNotReady", "errorDescription": format!("device {device}")}),
                Value::Null,
            ));
        }
        let b64 = base64::engine::general_purpose::STANDARD;
        match name {
            "ServicePublisher.GetServices" => {
                let services: Vec<Value> = SERVICES
                    .iter()
                    .map(|s| json!({"serviceURI": format!("ws://{}{BASE}/{s}", self.host)}))
                    .collect();
                for s in &services {
                    let ev = answer(
                        "event",
                        "ServicePublisher.ServiceDetailEvent",
                        id,
                        json!({}),
                        json!({"vendorName": "ykb devsim", "services": [s]}),
                    );
                    let _ = ws.send(Message::text(ev));
                }
                ok(json!({"vendorName": "ykb devsim", "services": services}))
            }
            "Common.Status" => ok(self.status_payload(&device)),
            "Common.Capabilities" => {
                let mut interfaces = vec![json!({"name": "Common"})];
                if let Some(s) = &svc {
                    interfaces.push(json!({ "name": s }));
                }
                ok(json!({
                    "interfaces": interfaces,
                    "common": {"serviceVersion": "1.0", "deviceInformation": [{"modelName": "ykb devsim"}]},
                }))
            }
            "Common.Cancel" => {
                let ids: Option<Vec<u64>> = payload["requestIds"]
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_u64).collect());
                let hit = |x: u64| ids.as_ref().is_none_or(|v| v.contains(&x));
                let mut cancelled: Vec<(u64, String)> = Vec::new();
                self.due.retain(|(_, rid, cmd, _)| {
                    let keep = !hit(*rid);
                    if !keep {
                        cancelled.push((*rid, cmd.clone()));
                    }
                    keep
                });
                self.reads.retain(|(rid, _, _)| {
                    let keep = !hit(*rid);
                    if !keep {
                        cancelled.push((*rid, "BarcodeReader.Read".into()));
                    }
                    keep
                });
                // The cancel completes first, then each cancelled command as `canceled`.
                let _ = ws.send(Message::text(completion(name, id, "success", Value::Null)));
                for (rid, cmd) in cancelled {
                    self.active.retain(|&a| a != rid);
                    let _ = ws.send(Message::text(completion(
                        &cmd,
                        rid,
                        "canceled",
                        Value::Null,
                    )));
                }
                Reply::Sent
            }
            "Common.GetCommandNonce" => {
                let nonce = {
                    let mut s = self.shared.lock();
                    s.nonce_counter += 1;
                    let n = format!(
                        "{:016X}{:016X}",
                        s.nonce_counter,
                        id.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                    );
                    s.nonce = Some(n.clone());
                    n
                };
                ok(json!({ "commandNonce": nonce }))
            }
            "Common.ClearCommandNonce" => {
                self.shared.lock().nonce = None;
                ok(Value::Null)
            }
            "Printer.PrintRaw" => {
                let Some(data) = payload["data"].as_str() else {
                    return fail("invalidData");
                };
                let Ok(bytes) = b64.decode(data) else {
                    return fail("invalidData");
                };
                let mut s = self.shared.lock();
                if s.paper == "out" {
                    return Reply::Now(answer(
                        "completion",
                        name,
                        id,
                        json!({"completionCode": "commandErrorCode", "errorDescription": "paper out"}),
                        json!({"errorCode": "paperOut"}),
                    ));
                }
                if s.jobs.len() >= MAX_JOBS {
                    s.jobs.remove(0);
                }
                s.jobs.push(bytes);
                ok(Value::Null)
            }
            "BarcodeReader.Read" => {
                let wait = if timeout_ms == 0 { 60_000 } else { timeout_ms };
                let now = Instant::now();
                self.reads
                    .push((id, now, now + Duration::from_millis(wait)));
                Reply::Later
            }
            "Camera.TakePicture" => {
                let camera = payload["camera"].as_str().unwrap_or("person");
                if !matches!(camera, "room" | "person" | "exitSlot") {
                    return Reply::Now(answer(
                        "completion",
                        name,
                        id,
                        json!({"completionCode": "commandErrorCode"}),
                        json!({"errorCode": "cameraNotSupported"}),
                    ));
                }
                ok(json!({ "pictureFile": b64.encode(test_picture()) }))
            }
            "Lights.SetLight" => {
                let Some(obj) = payload.as_object() else {
                    return fail("invalidData");
                };
                let mut s = self.shared.lock();
                for (k, v) in obj.iter().take(32) {
                    s.lights.insert(k.clone(), v.clone());
                }
                ok(Value::Null)
            }
            "VendorMode.Register" => {
                let app = payload["appName"].as_str().unwrap_or("").to_string();
                if app.is_empty() {
                    return fail("invalidData");
                }
                let mut s = self.shared.lock();
                if !s.vendor_apps.contains(&app) && s.vendor_apps.len() < 16 {
                    s.vendor_apps.push(app);
                }
                ok(Value::Null)
            }
            "VendorMode.EnterModeAcknowledge" | "VendorMode.ExitModeAcknowledge" => {
                let want = if name.contains("Enter") {
                    "enterPending"
                } else {
                    "exitPending"
                };
                {
                    let mut s = self.shared.lock();
                    if s.vendor_service != want {
                        return fail("sequenceError");
                    }
                    s.vendor_acks += 1;
                }
                // The acknowledge completes before the mode events it may release.
                let _ = ws.send(Message::text(completion(name, id, "success", Value::Null)));
                self.shared.vendor_settle();
                Reply::Sent
            }
            _ => unsupported(),
        }
    }

    fn status_payload(&self, device: &str) -> Value {
        let s = self.shared.lock();
        let mut p = json!({"common": {"device": device}});
        match self.service.as_deref() {
            Some("Printer") => {
                p["printer"] = json!({"media": "notPresent", "paper": {"upper": s.paper}})
            }
            Some("Lights") => p["lights"] = Value::Object(s.lights.clone()),
            Some("VendorMode") => {
                p["vendorMode"] = json!({"device": "online", "service": s.vendor_service})
            }
            _ => {}
        }
        p
    }
}

/// A small PNG for `Camera.TakePicture` (a grey ramp).
fn test_picture() -> Vec<u8> {
    let img = image::GrayImage::from_fn(64, 48, |x, y| image::Luma([((x * 4 + y) % 256) as u8]));
    let mut out = std::io::Cursor::new(Vec::new());
    let _ = img.write_to(&mut out, image::ImageFormat::Png);
    out.into_inner()
}
