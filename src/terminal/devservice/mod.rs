//! 本机设备服务 — the local device service: our own devices for other departments' services
//! shown on this kiosk and for the host terminal's application beside it, as an
//! XFS4IoT-shaped WebSocket on loopback only (`ykb_drivers::xfs4iot::listener`, the sans-IO
//! `server` there deciding the protocol). The messages are in `api/local-device-service.md`.
//!
//! Services (each at `ws://127.0.0.1:PORT/xfs4iot/v1.0/<Service>?client=ID&token=TOKEN`,
//! the publisher at `/xfs4iot/v1.0`): `YkbIdCard` (our ID reader, vendor-specific:
//! `YkbIdCard.ReadCard`, released only after the citizen agreed on our screen), `Printer`
//! (our receipt printer: `Printer.PrintRaw` of plain text, laid out as our receipt),
//! `YkbErrand` (`YkbErrand.Start`: open 渝快办 on a matter, told the outcome when the session
//! ends), `BarcodeReader` (`BarcodeReader.Read`: the next code shown to our scanner or
//! camera) and `Camera` (`Camera.TakePicture`: one picture from our document camera), both
//! only after the citizen agreed on our screen. Every service answers `Common.Status` and
//! `Common.Capabilities`.
//!
//! What the citizen must decide goes to the app as [`DeviceServiceNews::Asked`] through the
//! inbox; its session answers with a [`HostAnswer`] ([`LocalDeviceService::answer`]). One
//! command at a time per device (`server::Claims`): the others are told busy. Every
//! admission refused and every command is audited with the client's id
//! ([`DeviceServiceNews::Audit`], written by the app on its store); what a card holds or a
//! client prints is never logged.

pub mod gate;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Map, Value};
use ykb_drivers::escpos::{Receipt, ReceiptItem};
use ykb_drivers::xfs4iot::listener::{
    DeviceServiceListener, ListenerConfig, Peer, Replier, ServiceHandler,
};
use ykb_drivers::xfs4iot::server::{Claims, Holder, Request};
use ykb_drivers::xfs4iot::CompletionCode;

use super::thread::DeviceThread;
use crate::core::audit::AuditAction;
use crate::core::config::LocalDeviceServiceSection;
use crate::core::domain::{IdNumber, Person};

/// The services offered, by path name (the profile's `services` name them).
pub use crate::core::config::devservice::SERVICES;

/// How long a card or code read, or a picture, may wait (consent and card, code or
/// material) when the client sets no timeout.
const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(120);
/// The most text one print may carry, in bytes.
const MAX_PRINT_BYTES: usize = 4096;
/// The most lines one print may carry.
const MAX_PRINT_LINES: usize = 60;

/// What a client asks the app (its session decides).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAsk {
    /// This request's number, for [`LocalDeviceService::answer`].
    pub ticket: u64,
    /// The client's id (audit).
    pub client: String,
    /// What the citizen is told asks.
    pub client_name: String,
    /// What it asks.
    pub what: Asked,
}

/// What a client asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asked {
    /// Read the citizen's ID card and release it to the client (after consent).
    ReadIdCard,
    /// Release the next code the citizen shows our scanner or camera (after consent).
    ReadCode,
    /// Take one picture with our document camera for the client (after consent).
    TakePicture,
    /// Open 渝快办 on `matter` (a task code; `None`: the home screen), with the person the
    /// host identified itself, used only after consent.
    StartErrand {
        matter: Option<String>,
        person: Option<Person>,
    },
}

/// How an errand a host started ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrandOutcome {
    /// Submitted: the unified case code (or the local number while it is not delivered).
    Submitted { case_number: String },
    /// The citizen left (首页, or the session ended otherwise).
    Left,
    /// The session timed out.
    TimedOut,
}

/// Why the app said no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The citizen tapped 拒绝.
    ConsentRefused,
    /// The screen serves someone else (or is in maintenance).
    Busy,
    /// The citizen went away or cancelled before it was done.
    Cancelled,
    /// No such matter in this terminal's catalogue.
    UnknownMatter,
    /// The device failed (or this terminal has none).
    DeviceFailed,
}

impl Refused {
    fn code(self) -> &'static str {
        match self {
            Self::ConsentRefused => "consentRefused",
            Self::Busy => "busy",
            Self::Cancelled => "cancelled",
            Self::UnknownMatter => "unknownMatter",
            Self::DeviceFailed => "deviceFailed",
        }
    }
}

/// The app's answer to a [`HostAsk`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostAnswer {
    /// The citizen agreed; the card is awaited (an event, the command stays open).
    PlaceCard,
    /// The card read, released to the client (the completion).
    IdCard(Person),
    /// The code the citizen showed (the sanitised text), released to the client.
    Code(String),
    /// The picture taken (a JPEG file), released to the client.
    Picture(Vec<u8>),
    /// The errand is open on the screen (an event, the command stays open).
    ErrandStarted,
    /// The errand ended (the completion).
    ErrandEnded(ErrandOutcome),
    /// Refused (the completion).
    Refused(Refused),
}

/// What the service tells the app, through its inbox.
#[derive(Debug, Clone)]
pub enum DeviceServiceNews {
    /// For the audit log: the client's id (`None`: not one of ours), what and how.
    Audit {
        client: Option<String>,
        action: AuditAction,
        detail: String,
    },
    /// The session must decide.
    Asked(HostAsk),
    /// The request `ticket` is gone (its connection closed or its timeout ran out): the
    /// session forgets it without answering.
    Withdrawn(u64),
    /// Print this for request `ticket` on our receipt printer; answer with
    /// [`LocalDeviceService::printed`].
    Print { ticket: u64, receipt: Receipt },
}

struct Pending {
    holder: Holder,
    device: &'static str,
    request: u32,
    command: String,
    replier: Replier,
    deadline: Option<Instant>,
}

struct Shared {
    clients: Vec<gate::Client>,
    report: Box<dyn Fn(DeviceServiceNews) + Send + Sync>,
    /// Admitted connections: which client, which service.
    connections: Mutex<BTreeMap<u64, gate::Admitted>>,
    claims: Mutex<Claims>,
    pending: Mutex<BTreeMap<u64, Pending>>,
    next: AtomicU64,
}

/// The running local device service.
pub struct LocalDeviceService {
    listener: DeviceServiceListener,
    shared: Arc<Shared>,
    _timer: DeviceThread,
}

impl LocalDeviceService {
    /// Starts the profile's service on `127.0.0.1`; tokens are read (or created) under
    /// `data_dir`. `Ok(None)` when the profile has none. `report` gets the news on the
    /// service's threads.
    pub fn start(
        section: Option<&LocalDeviceServiceSection>,
        data_dir: &std::path::Path,
        report: impl Fn(DeviceServiceNews) + Send + Sync + 'static,
    ) -> Result<Option<Self>, String> {
        let Some(section) = section else {
            return Ok(None);
        };
        let mut clients = Vec::new();
        for c in &section.clients {
            let token = crate::core::config::devservice::load_token(&c.token_file, data_dir)?;
            clients.push(gate::Client {
                id: c.id.clone(),
                name: c.name.clone(),
                token,
                services: c.services.clone(),
            });
        }
        let shared = Arc::new(Shared {
            clients,
            report: Box::new(report),
            connections: Mutex::new(BTreeMap::new()),
            claims: Mutex::new(Claims::default()),
            pending: Mutex::new(BTreeMap::new()),
            next: AtomicU64::new(1),
        });
        let addr = SocketAddr::from(([127, 0, 0, 1], section.port));
        let handler: Arc<dyn ServiceHandler> = Arc::new(Handler(shared.clone()));
        let listener = DeviceServiceListener::start(addr, ListenerConfig::default(), handler)
            .map_err(|e| format!("本机设备服务无法在 {addr} 上监听（{e}）"))?;
        let timed = shared.clone();
        let timer = DeviceThread::spawn("device-service-timer", move |stop| {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                timed.expire(Instant::now());
            }
        })?;
        tracing::info!(addr = %listener.local_addr(), "local device service listening");
        Ok(Some(Self {
            listener,
            shared,
            _timer: timer,
        }))
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr()
    }

    /// How the app answers, from any thread.
    pub fn handle(&self) -> ServiceHandle {
        ServiceHandle {
            shared: self.shared.clone(),
        }
    }
}

/// Answers the app gives the service's clients; cheap to clone, usable from any thread.
#[derive(Clone)]
pub struct ServiceHandle {
    shared: Arc<Shared>,
}

impl ServiceHandle {
    /// The app's answer for request `ticket` (dropped when the request is gone).
    pub fn answer(&self, ticket: u64, answer: HostAnswer) {
        let s = &self.shared;
        match answer {
            HostAnswer::PlaceCard => s.event(ticket, "YkbIdCard.InsertCardEvent", Map::new()),
            HostAnswer::ErrandStarted => s.event(ticket, "YkbErrand.StartedEvent", Map::new()),
            HostAnswer::IdCard(person) => {
                let payload = json!({
                    "name": person.name,
                    "idNumber": person.id_number.expose(),
                    "address": person.address,
                });
                s.finish(
                    ticket,
                    CompletionCode::Success,
                    None,
                    as_map(payload),
                    "身份证信息经市民同意后已提供",
                );
            }
            HostAnswer::Code(text) => {
                let data = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
                s.finish(
                    ticket,
                    CompletionCode::Success,
                    None,
                    as_map(json!({"readOutput": [{"symbology": "qrCode", "barcodeData": data}]})),
                    "二维码经市民同意后已提供",
                );
            }
            HostAnswer::Picture(jpeg) => {
                let data = base64::engine::general_purpose::STANDARD.encode(&jpeg);
                s.finish(
                    ticket,
                    CompletionCode::Success,
                    None,
                    as_map(json!({"pictureFile": data})),
                    "照片经市民同意后已提供",
                );
            }
            HostAnswer::ErrandEnded(outcome) => {
                let (payload, detail) = match outcome {
                    ErrandOutcome::Submitted { case_number } => (
                        json!({"outcome": "submitted", "caseNumber": case_number}),
                        "办件已提交",
                    ),
                    ErrandOutcome::Left => (json!({"outcome": "left"}), "市民已离开"),
                    ErrandOutcome::TimedOut => (json!({"outcome": "timedOut"}), "会话超时结束"),
                };
                s.finish(
                    ticket,
                    CompletionCode::Success,
                    None,
                    as_map(payload),
                    detail,
                );
            }
            HostAnswer::Refused(why) => {
                let (code, detail) = match why {
                    Refused::Busy => (CompletionCode::DeviceNotReady, "拒绝：屏幕正在为他人服务"),
                    Refused::ConsentRefused => {
                        (CompletionCode::CommandErrorCode, "拒绝：市民未同意")
                    }
                    Refused::Cancelled => (CompletionCode::CommandErrorCode, "已取消"),
                    Refused::UnknownMatter => {
                        (CompletionCode::CommandErrorCode, "拒绝：本机没有该事项")
                    }
                    Refused::DeviceFailed => (CompletionCode::HardwareError, "设备故障"),
                };
                s.finish(
                    ticket,
                    code,
                    Some(why.code()),
                    as_map(json!({"errorCode": why.code()})),
                    detail,
                );
            }
        }
    }

    /// The print job of request `ticket` ended.
    pub fn printed(&self, ticket: u64, result: Result<(), String>) {
        match result {
            Ok(()) => {
                self.shared
                    .finish(ticket, CompletionCode::Success, None, Map::new(), "已打印")
            }
            Err(_) => self.shared.finish(
                ticket,
                CompletionCode::HardwareError,
                Some("the receipt printer failed"),
                Map::new(),
                "打印失败",
            ),
        }
    }
}

fn as_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

impl Shared {
    fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        m.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn audit(&self, client: Option<&str>, action: AuditAction, detail: String) {
        (self.report)(DeviceServiceNews::Audit {
            client: client.map(str::to_owned),
            action,
            detail,
        });
    }

    fn event(&self, ticket: u64, name: &str, payload: Map<String, Value>) {
        if let Some(p) = Self::lock(&self.pending).get(&ticket) {
            p.replier.event(p.request, name, payload);
        }
    }

    /// Completes request `ticket` once, frees its device and audits how it ended.
    fn finish(
        &self,
        ticket: u64,
        code: CompletionCode,
        description: Option<&str>,
        payload: Map<String, Value>,
        detail: &str,
    ) {
        let Some(p) = Self::lock(&self.pending).remove(&ticket) else {
            return;
        };
        p.replier.complete(p.request, code, description, payload);
        Self::lock(&self.claims).release(p.device, &p.holder, p.request);
        let action = if code == CompletionCode::Success {
            AuditAction::DeviceServiceUse
        } else {
            AuditAction::DeviceServiceRefused
        };
        self.audit(
            Some(&p.holder.client),
            action,
            format!("{}：{detail}", p.command),
        );
    }

    /// Ends the requests whose time ran out.
    fn expire(&self, now: Instant) {
        let due: Vec<u64> = Self::lock(&self.pending)
            .iter()
            .filter(|(_, p)| p.deadline.is_some_and(|d| d <= now))
            .map(|(t, _)| *t)
            .collect();
        for ticket in due {
            self.finish(
                ticket,
                CompletionCode::TimeOut,
                Some("the request's time ran out"),
                Map::new(),
                "超时",
            );
            (self.report)(DeviceServiceNews::Withdrawn(ticket));
        }
    }

    /// Takes `device` for a request that releases what the citizen holds (card, code,
    /// picture) and asks the app, whose session asks the citizen first.
    fn ask_consent(
        &self,
        client: &gate::Client,
        peer: &Peer,
        request: &Request,
        device: &'static str,
        reply: &Replier,
        what: Asked,
    ) {
        let timeout = match request.timeout_ms {
            0 => DEFAULT_READ_TIMEOUT,
            ms => Duration::from_millis(ms),
        };
        if let Some(ticket) = self.open(client, peer, request, device, reply, Some(timeout)) {
            (self.report)(DeviceServiceNews::Asked(HostAsk {
                ticket,
                client: client.id.clone(),
                client_name: client.name.clone(),
                what,
            }));
        }
    }

    /// Takes `device` for a request and files it; `Err` when busy (answered and audited).
    fn open(
        &self,
        client: &gate::Client,
        peer: &Peer,
        request: &Request,
        device: &'static str,
        reply: &Replier,
        timeout: Option<Duration>,
    ) -> Option<u64> {
        let holder = Holder {
            client: client.id.clone(),
            connection: peer.connection,
        };
        if let Err(other) = Self::lock(&self.claims).claim(device, &holder, request.id) {
            reply.complete(
                request.id,
                CompletionCode::DeviceNotReady,
                Some("busy: the device serves another request"),
                as_map(json!({"errorCode": "busy"})),
            );
            let whom = if other.client == client.id {
                "本应用的另一请求"
            } else {
                "其他应用"
            };
            self.audit(
                Some(&client.id),
                AuditAction::DeviceServiceRefused,
                format!("{}：设备忙（正在为{whom}服务）", request.name),
            );
            return None;
        }
        let ticket = self.next.fetch_add(1, Ordering::SeqCst);
        Self::lock(&self.pending).insert(
            ticket,
            Pending {
                holder,
                device,
                request: request.id,
                command: request.name.clone(),
                replier: reply.clone(),
                deadline: timeout.map(|t| Instant::now() + t),
            },
        );
        Some(ticket)
    }
}

struct Handler(Arc<Shared>);

impl ServiceHandler for Handler {
    fn peer_refused(&self, addr: SocketAddr) {
        self.0.audit(
            None,
            AuditAction::DeviceServiceRefused,
            format!("连接被拒绝：来自非本机回环地址 {}", addr.ip()),
        );
    }

    fn admit(&self, peer: &Peer) -> Result<(), (u16, String)> {
        let s = &self.0;
        match gate::admit(&s.clients, &SERVICES, &peer.path, &peer.query) {
            Ok(a) => {
                Shared::lock(&s.connections).insert(peer.connection, a);
                Ok(())
            }
            Err(refusal) => {
                let client = match &refusal {
                    gate::Refusal::WrongToken { client: Some(i) }
                    | gate::Refusal::NotAllowed { client: i } => Some(s.clients[*i].id.as_str()),
                    _ => None,
                };
                s.audit(
                    client,
                    AuditAction::DeviceServiceRefused,
                    refusal.detail().to_owned(),
                );
                let (status, reason) = refusal.status();
                Err((status, reason.to_owned()))
            }
        }
    }

    fn command(&self, peer: &Peer, request: Request, reply: Replier) {
        let s = &self.0;
        let Some(admitted) = Shared::lock(&s.connections).get(&peer.connection).cloned() else {
            return;
        };
        let client = &s.clients[admitted.client];
        let service = admitted.service.as_deref();
        let invalid = |why: &str| {
            reply.complete(
                request.id,
                CompletionCode::InvalidData,
                Some(why),
                Map::new(),
            );
            s.audit(
                Some(&client.id),
                AuditAction::DeviceServiceRefused,
                format!("{}：数据无效", request.name),
            );
        };
        match (service, request.name.as_str()) {
            (None, "ServicePublisher.GetServices") => {
                let services: Vec<Value> = client
                    .services
                    .iter()
                    .map(|sv| json!({"serviceURI": format!("/xfs4iot/v1.0/{sv}")}))
                    .collect();
                reply.complete(
                    request.id,
                    CompletionCode::Success,
                    None,
                    as_map(json!({ "services": services })),
                );
            }
            (Some(_), "Common.Status") => reply.complete(
                request.id,
                CompletionCode::Success,
                None,
                as_map(json!({"common": {"device": "online"}})),
            ),
            (Some(sv), "Common.Capabilities") => reply.complete(
                request.id,
                CompletionCode::Success,
                None,
                as_map(json!({"interfaces": [{"name": sv, "commands": commands_of(sv)}]})),
            ),
            (Some("YkbIdCard"), "YkbIdCard.ReadCard") => s.ask_consent(
                client,
                peer,
                &request,
                "id_reader",
                &reply,
                Asked::ReadIdCard,
            ),
            (Some("BarcodeReader"), "BarcodeReader.Read") => {
                s.ask_consent(client, peer, &request, "scanner", &reply, Asked::ReadCode)
            }
            (Some("Camera"), "Camera.TakePicture") => s.ask_consent(
                client,
                peer,
                &request,
                "document_camera",
                &reply,
                Asked::TakePicture,
            ),
            (Some("YkbErrand"), "YkbErrand.Start") => {
                let asked = match errand_of(&request.payload) {
                    Ok(a) => a,
                    Err(why) => return invalid(why),
                };
                let timeout =
                    (request.timeout_ms > 0).then(|| Duration::from_millis(request.timeout_ms));
                if let Some(ticket) = s.open(client, peer, &request, "screen", &reply, timeout) {
                    (s.report)(DeviceServiceNews::Asked(HostAsk {
                        ticket,
                        client: client.id.clone(),
                        client_name: client.name.clone(),
                        what: asked,
                    }));
                }
            }
            (Some("Printer"), "Printer.PrintRaw") => {
                let receipt = match receipt_of(&request.payload, &client.name) {
                    Ok(r) => r,
                    Err(why) => return invalid(why),
                };
                let timeout =
                    (request.timeout_ms > 0).then(|| Duration::from_millis(request.timeout_ms));
                if let Some(ticket) = s.open(client, peer, &request, "printer", &reply, timeout) {
                    (s.report)(DeviceServiceNews::Print { ticket, receipt });
                }
            }
            _ => {
                reply.complete(
                    request.id,
                    CompletionCode::UnsupportedCommand,
                    Some("not offered by this service"),
                    Map::new(),
                );
            }
        }
    }

    fn protocol_error(&self, peer: &Peer, what: &str) {
        let s = &self.0;
        let client = Shared::lock(&s.connections)
            .get(&peer.connection)
            .map(|a| s.clients[a.client].id.clone());
        // `what` is the codec's reason: a status or sizes, never the message's contents.
        s.audit(
            client.as_deref(),
            AuditAction::DeviceServiceRefused,
            format!("报文被拒绝：{}", what.chars().take(120).collect::<String>()),
        );
    }

    fn closed(&self, peer: &Peer, _open: Vec<u32>) {
        let s = &self.0;
        Shared::lock(&s.connections).remove(&peer.connection);
        let gone: Vec<(u64, Pending)> = {
            let mut pending = Shared::lock(&s.pending);
            let tickets: Vec<u64> = pending
                .iter()
                .filter(|(_, p)| p.holder.connection == peer.connection)
                .map(|(t, _)| *t)
                .collect();
            tickets
                .into_iter()
                .filter_map(|t| pending.remove(&t).map(|p| (t, p)))
                .collect()
        };
        Shared::lock(&s.claims).release_connection(peer.connection);
        for (ticket, p) in gone {
            s.audit(
                Some(&p.holder.client),
                AuditAction::DeviceServiceRefused,
                format!("{}：连接已断开，请求作废", p.command),
            );
            (s.report)(DeviceServiceNews::Withdrawn(ticket));
        }
    }
}

fn commands_of(service: &str) -> Vec<&'static str> {
    let mut c = vec!["Common.Status", "Common.Capabilities"];
    c.push(match service {
        "YkbIdCard" => "YkbIdCard.ReadCard",
        "Printer" => "Printer.PrintRaw",
        "BarcodeReader" => "BarcodeReader.Read",
        "Camera" => "Camera.TakePicture",
        _ => "YkbErrand.Start",
    });
    c
}

/// `YkbErrand.Start`'s payload: `matter` (a task code, optional) and `person` (optional:
/// `name`, `idNumber`, `address`).
fn errand_of(p: &Map<String, Value>) -> Result<Asked, &'static str> {
    let matter = match p.get("matter") {
        None | Some(Value::Null) => None,
        Some(Value::String(s))
            if !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            Some(s.clone())
        }
        Some(_) => return Err("matter must be a task code"),
    };
    let person = match p.get("person") {
        None | Some(Value::Null) => None,
        Some(Value::Object(o)) => {
            let text = |k: &str, max: usize| {
                o.get(k)
                    .and_then(Value::as_str)
                    .filter(|s| s.chars().count() <= max && !s.chars().any(char::is_control))
            };
            let name = text("name", 40)
                .filter(|s| !s.trim().is_empty())
                .ok_or("person.name missing")?;
            let id = text("idNumber", 18)
                .and_then(|s| IdNumber::parse(s).ok())
                .ok_or("person.idNumber is not a valid ID number")?;
            let address = text("address", 200).unwrap_or_default();
            Some(Person {
                name: name.to_owned(),
                id_number: id,
                address: address.to_owned(),
            })
        }
        Some(_) => return Err("person must be an object"),
    };
    Ok(Asked::StartErrand { matter, person })
}

/// `Printer.PrintRaw`'s payload: `data`, base64 of UTF-8 text, laid out as our receipt
/// under the client's name (raw printer commands from a client never reach our printer).
fn receipt_of(p: &Map<String, Value>, client_name: &str) -> Result<Receipt, &'static str> {
    let data = p
        .get("data")
        .and_then(Value::as_str)
        .ok_or("data missing")?;
    if data.len() > MAX_PRINT_BYTES * 4 / 3 + 4 {
        return Err("data too long");
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|_| "data is not base64")?;
    let text = String::from_utf8(bytes).map_err(|_| "data is not UTF-8 text")?;
    if text.len() > MAX_PRINT_BYTES || text.lines().count() > MAX_PRINT_LINES {
        return Err("data too long");
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err("data holds control characters");
    }
    Ok(Receipt {
        title: client_name.to_owned(),
        items: text
            .lines()
            .map(|l| {
                if l.trim().is_empty() {
                    ReceiptItem::Blank
                } else {
                    ReceiptItem::Text(l.to_owned())
                }
            })
            .collect(),
        footer: vec!["经渝快办本机设备服务打印".into()],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_errand_names_a_task_code_and_a_valid_person_or_is_invalid() {
        let ok = as_map(json!({"matter": "11500103MB1234567X4000101001000"}));
        assert_eq!(
            errand_of(&ok),
            Ok(Asked::StartErrand {
                matter: Some("11500103MB1234567X4000101001000".into()),
                person: None
            })
        );
        let with = as_map(json!({"person": {"name": "李喆", "idNumber": "500105198511220024"}}));
        let Ok(Asked::StartErrand {
            person: Some(p), ..
        }) = errand_of(&with)
        else {
            panic!()
        };
        assert_eq!(p.name, "李喆");
        for bad in [
            json!({"matter": "../x"}),
            json!({"matter": 5}),
            json!({"person": {"name": "李喆", "idNumber": "500105198511220025"}}),
            json!({"person": {"idNumber": "500105198511220024"}}),
            json!({"person": "李喆"}),
        ] {
            assert!(errand_of(&as_map(bad.clone())).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_print_is_plain_text_laid_out_as_our_receipt() {
        let data = base64::engine::general_purpose::STANDARD.encode("第一行\n\n第三行");
        let r = receipt_of(&as_map(json!({ "data": data })), "社保服务").unwrap();
        assert_eq!(r.title, "社保服务");
        assert_eq!(r.items.len(), 3);
        let esc = base64::engine::general_purpose::STANDARD.encode("\u{1b}@cut");
        assert!(receipt_of(&as_map(json!({ "data": esc })), "x").is_err());
        assert!(receipt_of(&as_map(json!({ "data": "%%%" })), "x").is_err());
        let long = base64::engine::general_purpose::STANDARD.encode("a\n".repeat(100));
        assert!(receipt_of(&as_map(json!({ "data": long })), "x").is_err());
    }
}
