//! The platform simulator: the whole contract of `api/openapi.yaml` over real HTTP (axum on
//! tokio), seeded from the demo catalogue or N generated matters, with admin endpoints that
//! show what it received and fault injection that tests and the demo can switch at run time.
//!
//! It is a test double and demo server, not a product: state lives in memory and goes with
//! the process.
//!
//! Files: [`faults`] injects the faults, [`catalog`] publishes and serves the signed
//! catalogue, [`cases`] takes cases, materials and events, [`licences`] answers e-licence
//! and 渝快码 look-ups, [`devices`] registers and authenticates terminals and takes their
//! heartbeats, self-tests and ticket lease requests, [`commands`] issues remote commands
//! and keeps diagnostics uploads, [`payments`] holds 公共支付 orders, [`admin`] is the admin API. This file
//! holds the shared state, the router and the running server's handle.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{FromRequest, FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use ed25519_dalek::SigningKey;

use super::generate::Rng;
use crate::core::domain::Person;
use crate::core::platform::wire::{self, ErrorBody};

mod admin;
mod cases;
mod catalog;
mod certificates;
mod commands;
mod devices;
mod faults;
mod licences;
mod payments;

use admin::*;
use cases::*;
use catalog::*;
use certificates::*;
use commands::*;
use devices::*;
use faults::*;
use licences::*;

pub use admin::DeviceUpdates;
pub use cases::{CaseRecord, EventRecord, MaterialRecord, StatusRequest};
pub use catalog::ChangeRequest;
pub use certificates::{CertificateFault, CERTIFICATES};
pub use commands::{CommandRecord, DiagnosticsRecord, IssueCommand};
pub use devices::{RevokeReason, RevokeRequest, SelftestRecord};
pub use faults::Faults;
pub use licences::{licence_document_for, licences_for, platform_licence_types, TokenRequest};
pub use payments::{OrderRecord, PAYEE};

/// Largest request body the simulator reads (an upload chunk plus room).
const MAX_REQUEST_BYTES: usize = 2 * 1024 * 1024;

/// How to start the simulator.
#[derive(Debug, Clone, Default)]
pub struct SimOptions {
    /// Generate this many matters (the demo's first) instead of the demo catalogue alone.
    pub matters: Option<usize>,
    /// Faults in force from the start.
    pub faults: Faults,
    /// Seed of the generator and of fault decisions.
    pub seed: u64,
}

/// Everything the simulator holds, behind one lock.
struct Inner {
    devices: HashMap<String, Vec<u8>>,
    /// Devices whose credential no longer works, and why.
    revoked: HashMap<String, RevokeReason>,
    /// Self-test reports received, in order.
    selftests: Vec<SelftestRecord>,
    nonces: HashMap<String, i64>,
    catalog: SimCatalog,
    cases: BTreeMap<String, CaseRecord>,
    materials: BTreeMap<(String, String), MaterialRecord>,
    events: BTreeMap<String, EventRecord>,
    ykm: HashMap<String, (Person, i64)>,
    /// 核验码 of the certificates issued.
    certificates: HashMap<String, certificates::Issued>,
    notices: Vec<wire::Notice>,
    case_seq: u64,
    /// The newest heartbeats received, oldest first (at most 100).
    heartbeats: Vec<wire::Heartbeat>,
    /// Every distinct audit head each device sent (heartbeats, self-tests), oldest first.
    audit_anchors: HashMap<String, Vec<wire::AuditAnchor>>,
    /// Next ticket number to lease per (hall, service, date).
    ticket_next: BTreeMap<(String, String, String), u32>,
    /// Every ticket lease granted, with the device it went to, in order.
    ticket_leases: Vec<(String, wire::TicketLease)>,
    /// Remote commands issued, in order, with their results.
    commands: Vec<CommandRecord>,
    /// Commands issued so far (the next id's number).
    command_seq: u64,
    /// Diagnostics exports received, in order.
    diagnostics: Vec<DiagnosticsRecord>,
    /// The update rollout every heartbeat answer carries (`PUT /admin/rollout`).
    rollout: Option<crate::core::update::Rollout>,
    /// What each device's heartbeats said about updates (`GET /admin/updates`).
    updates: BTreeMap<String, DeviceUpdates>,
    /// Payment orders by order id.
    payments: BTreeMap<String, OrderRecord>,
    /// Payment idempotency key → order id.
    payment_keys: HashMap<String, String>,
    /// Orders created so far (the next id's number).
    payment_seq: u64,
}

/// What every handler shares: the state, the faults in force, the fault dice and the
/// catalogue signing key.
struct Shared {
    inner: Mutex<Inner>,
    faults: Mutex<Faults>,
    rng: Mutex<Rng>,
    key: SigningKey,
    /// Requests that reached the platform: every `/v1` request, and every connection reset
    /// on accept (a refused attempt is load too).
    requests: std::sync::atomic::AtomicU64,
    /// The same requests by kind (indexed by [`RequestKind::index`]).
    by_kind: [std::sync::atomic::AtomicU64; RequestKind::ALL.len()],
    /// Woken when a payment order changes (what a long-poll waits on).
    payment_news: tokio::sync::Notify,
}

/// What a request was for, as the platform's load is told apart (`SimHandle::requests_by_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// `POST /v1/heartbeat`.
    Heartbeat,
    /// Catalogue snapshot and delta.
    Catalog,
    /// Outbox deliveries: cases, material uploads, events.
    Delivery,
    /// Everything else under `/v1` (registration, look-ups, self-tests, …).
    Other,
    /// A connection reset on accept (the path is never read).
    Refused,
}

impl RequestKind {
    /// Every kind, in the order of `requests_by_kind`.
    pub const ALL: [RequestKind; 5] = [
        RequestKind::Heartbeat,
        RequestKind::Catalog,
        RequestKind::Delivery,
        RequestKind::Other,
        RequestKind::Refused,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// The kind of a `/v1` request by its path.
    fn of_path(path: &str) -> Self {
        let rest = path.strip_prefix("/v1/").unwrap_or(path);
        if rest == "heartbeat" {
            RequestKind::Heartbeat
        } else if rest.starts_with("catalog/") {
            RequestKind::Catalog
        } else if rest == "cases" || rest.starts_with("events/") || rest.contains("/materials/") {
            RequestKind::Delivery
        } else {
            RequestKind::Other
        }
    }
}

impl Shared {
    /// Counts one request of `kind` (the total and its kind).
    fn count(&self, kind: RequestKind) {
        use std::sync::atomic::Ordering::Relaxed;
        self.requests.fetch_add(1, Relaxed);
        self.by_kind[kind.index()].fetch_add(1, Relaxed);
    }
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn faults(&self) -> Faults {
        self.faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
    fn chance(&self, p: f64) -> bool {
        p > 0.0
            && self
                .rng
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .fraction()
                < p
    }
    fn now(&self) -> i64 {
        jiff::Timestamp::now().as_second() + self.faults().clock_skew_secs
    }
}

/// A running simulator: its address, its admin API in-process, and a way to stop it.
pub struct SimHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("addr", &self.addr)
            .finish()
    }
}

impl SimHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL a client uses (`http://ADDR/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}{}", self.addr, wire::API_PREFIX)
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.shared.faults()
    }

    /// Requests received so far: every `/v1` request and every connection reset on accept
    /// (the fleet simulation samples it for the platform's request rate).
    pub fn requests(&self) -> u64 {
        self.shared
            .requests
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Requests received so far by kind, in [`RequestKind::ALL`] order (they add up to
    /// [`SimHandle::requests`]).
    pub fn requests_by_kind(&self) -> [u64; RequestKind::ALL.len()] {
        std::array::from_fn(|i| self.shared.by_kind[i].load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Replaces the faults in force (takes effect for the next request).
    pub fn set_faults(&self, faults: Faults) {
        *self.shared.faults.lock().unwrap_or_else(|e| e.into_inner()) = faults;
    }

    /// Every case received, by idempotency key.
    pub fn cases(&self) -> Vec<CaseRecord> {
        self.shared.lock().cases.values().cloned().collect()
    }

    /// Every material upload held.
    pub fn materials(&self) -> Vec<MaterialRecord> {
        self.shared.lock().materials.values().cloned().collect()
    }

    /// The newest heartbeats received (at most 100), oldest first.
    pub fn heartbeats(&self) -> Vec<wire::Heartbeat> {
        self.shared.lock().heartbeats.clone()
    }

    /// What each device reported about updates: its latest state and every distinct
    /// outcome, oldest first (what `GET /admin/updates` answers).
    pub fn updates(&self) -> BTreeMap<String, DeviceUpdates> {
        self.shared.lock().updates.clone()
    }

    /// The audit heads `device_id` sent, oldest first (what `GET /v1/devices/audit-anchors`
    /// answers that device).
    pub fn audit_anchors(&self, device_id: &str) -> Vec<wire::AuditAnchor> {
        self.shared
            .lock()
            .audit_anchors
            .get(device_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Self-test reports received, in order.
    pub fn selftests(&self) -> Vec<SelftestRecord> {
        self.shared.lock().selftests.clone()
    }

    /// Stops accepting `device_id`'s credential (as operations would on a stolen or retired
    /// terminal, or when it expires); `false` when no such device registered.
    pub fn revoke(&self, device_id: &str, reason: RevokeReason) -> bool {
        revoke(&self.shared, device_id, reason)
    }

    /// The HMAC secret issued to `device_id` (tests look for it in the terminal's files).
    pub fn device_secret(&self, device_id: &str) -> Option<Vec<u8>> {
        self.shared.lock().devices.get(device_id).cloned()
    }

    /// Issues a remote command to `device_id` (as `POST /admin/devices/{id}/commands`);
    /// `None` when no such device registered (or `replay_of` names nothing).
    pub fn issue_command(&self, device_id: &str, req: &IssueCommand) -> Option<wire::OpsCommand> {
        commands::issue(&self.shared, device_id, req)
    }

    /// The commands issued to `device_id`, in order, with their results.
    pub fn commands(&self, device_id: &str) -> Vec<CommandRecord> {
        self.shared
            .lock()
            .commands
            .iter()
            .filter(|c| c.command.device_id == device_id)
            .cloned()
            .collect()
    }

    /// Diagnostics exports received, in order.
    pub fn diagnostics(&self) -> Vec<DiagnosticsRecord> {
        self.shared.lock().diagnostics.clone()
    }

    /// Every event received.
    pub fn events(&self) -> Vec<EventRecord> {
        self.shared.lock().events.values().cloned().collect()
    }

    /// Every ticket lease granted, in order, with the device id it went to.
    pub fn ticket_leases(&self) -> Vec<(String, wire::TicketLease)> {
        self.shared.lock().ticket_leases.clone()
    }

    /// The complete bytes of a material, once fully uploaded.
    pub fn material_bytes(&self, case_id: &str, material_id: &str) -> Option<Vec<u8>> {
        let g = self.shared.lock();
        g.materials
            .get(&(case_id.to_owned(), material_id.to_owned()))
            .filter(|m| m.received == m.length)
            .map(|m| m.bytes.clone())
    }

    /// Publishes a new catalogue version with the given changes; returns the new version.
    pub fn change_catalog(&self, change: &ChangeRequest) -> u64 {
        apply_change(&mut self.shared.lock().catalog, change)
    }

    /// Forgets the change history: cursors older than the current version get 410.
    pub fn compact(&self) {
        let mut g = self.shared.lock();
        g.catalog.oldest = g.catalog.version;
    }

    /// The current catalogue version.
    pub fn catalog_version(&self) -> u64 {
        self.shared.lock().catalog.version
    }

    /// Publishes a maintenance notice (as `POST /admin/notices`).
    pub fn add_notice(&self, notice: wire::Notice) {
        self.shared.lock().notices.push(notice);
    }

    /// Sets the update rollout every heartbeat answer carries (as `PUT /admin/rollout`).
    pub fn set_rollout(&self, rollout: Option<crate::core::update::Rollout>) {
        self.shared.lock().rollout = rollout;
    }

    /// Issues a 渝快码 token for `person`, valid for `ttl_secs`.
    pub fn issue_ykm_token(&self, person: Person, ttl_secs: i64) -> String {
        issue_token(&self.shared, person, ttl_secs)
    }

    /// Plays the citizen's phone paying order `id` (as `POST /admin/payments/{id}/pay`):
    /// the paid order, or why nothing was charged.
    pub fn pay_order(&self, id: &str) -> Result<wire::PaymentOrder, String> {
        payments::pay(&self.shared, id)
    }

    /// Every payment order held, by order id.
    pub fn payment_orders(&self) -> Vec<OrderRecord> {
        self.shared.lock().payments.values().cloned().collect()
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Starts the simulator on `listen` (use port 0 for any free port) inside the current tokio
/// runtime and returns once it accepts connections.
pub async fn start(listen: SocketAddr, options: SimOptions) -> std::io::Result<SimHandle> {
    let shared = Arc::new(Shared {
        inner: Mutex::new(Inner::new(&options)),
        faults: Mutex::new(options.faults.clone()),
        rng: Mutex::new(Rng::new(options.seed ^ 0x5EED)),
        key: wire::demo_signing_key(),
        requests: std::sync::atomic::AtomicU64::new(0),
        by_kind: Default::default(),
        payment_news: tokio::sync::Notify::new(),
    });
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let app = router(shared.clone());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let faulty = FaultyListener {
        inner: listener,
        shared: shared.clone(),
    };
    let task = tokio::spawn(async move {
        let serve = axum::serve(faulty, app).with_graceful_shutdown(async move {
            let _ = stop_rx.await;
        });
        if let Err(e) = serve.await {
            tracing::warn!(error = %e, "platform simulator stopped");
        }
    });
    tracing::info!(%addr, "platform simulator listening");
    Ok(SimHandle {
        addr,
        shared,
        stop: Some(stop_tx),
        task: Some(task),
    })
}

impl Inner {
    fn new(options: &SimOptions) -> Self {
        Self {
            devices: HashMap::new(),
            revoked: HashMap::new(),
            selftests: Vec::new(),
            nonces: HashMap::new(),
            catalog: SimCatalog::seeded(options),
            cases: BTreeMap::new(),
            materials: BTreeMap::new(),
            events: BTreeMap::new(),
            ticket_next: BTreeMap::new(),
            ticket_leases: Vec::new(),
            ykm: HashMap::new(),
            certificates: HashMap::new(),
            notices: vec![wire::Notice {
                id: "n-2026-12".into(),
                title: "平台例行维护".into(),
                message: "政务服务平台将于 2026年12月6日 00:00-04:00 例行维护，期间部分事项暂停网上受理，本机可继续排队取号和预审，材料将在维护结束后自动提交。".into(),
                starts_at: "2026-12-06T00:00:00+08:00".into(),
                ends_at: "2026-12-06T04:00:00+08:00".into(),
            }],
            case_seq: 0,
            heartbeats: Vec::new(),
            audit_anchors: HashMap::new(),
            commands: Vec::new(),
            command_seq: 0,
            diagnostics: Vec::new(),
            rollout: None,
            updates: BTreeMap::new(),
            payments: BTreeMap::new(),
            payment_keys: HashMap::new(),
            payment_seq: 0,
        }
    }
}

fn router(shared: Arc<Shared>) -> Router {
    let v1 = Router::new()
        .route("/v1/devices/register", post(register))
        .route("/v1/catalog/snapshot", get(snapshot))
        .route("/v1/catalog/delta", get(delta))
        .route("/v1/cases", post(submit_case))
        .route(
            "/v1/cases/{id}/materials/{material}",
            axum::routing::head(material_head).patch(material_patch),
        )
        .route("/v1/cases/{id}/status", get(case_status))
        .route("/v1/events/{kind}", post(submit_event))
        .route("/v1/licences/query", post(licences))
        .route("/v1/licences/document", post(licence_document))
        .route("/v1/ykm/verify", post(ykm_verify))
        .route("/v1/certificates", get(certificate_types))
        .route("/v1/certificates/issue", post(certificates::issue))
        .route("/v1/certificates/verify", get(certificates::verify))
        .route("/v1/payments/orders", post(payments::create))
        .route("/v1/payments/orders/{id}", get(payments::get))
        .route("/v1/payments/orders/{id}/cancel", post(payments::cancel))
        .route("/v1/heartbeat", post(heartbeat))
        .route("/v1/notices", get(notices))
        .route("/v1/devices/selftest", post(selftest))
        .route("/v1/devices/audit-anchors", get(audit_anchors))
        .route("/v1/devices/diagnostics", post(diagnostics))
        .route("/v1/tickets/leases", post(ticket_lease))
        .layer(middleware::from_fn_with_state(shared.clone(), guard));
    Router::new()
        .merge(v1)
        .route(
            "/health",
            get(|| async { Json(serde_json::json!({"status": "ok"})) }),
        )
        .route("/admin/cases", get(admin_cases))
        .route("/admin/materials", get(admin_materials))
        .route("/admin/events", get(admin_events))
        .route("/admin/heartbeats", get(admin_heartbeats))
        .route("/admin/selftests", get(admin_selftests))
        .route("/admin/devices/{device}/revoke", post(admin_revoke))
        .route(
            "/admin/devices/{device}/commands",
            post(admin_issue_command).get(admin_commands),
        )
        .route("/admin/faults", get(admin_faults_get).put(admin_faults_put))
        .route("/admin/catalog/changes", post(admin_change))
        .route("/admin/catalog/compact", post(admin_compact))
        .route("/admin/ykm/tokens", post(admin_token))
        .route("/admin/cases/{code}/status", post(admin_case_status))
        .route("/admin/notices", post(admin_notice))
        .route("/admin/rollout", put(admin_rollout))
        .route("/admin/updates", get(admin_updates))
        .route("/admin/payments", get(payments::admin_list))
        .route("/admin/payments/{id}/pay", post(payments::admin_pay))
        .with_state(shared)
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (
        status,
        Json(ErrorBody {
            code: code.into(),
            message: message.into(),
        }),
    )
        .into_response()
}

/// A JSON request body. A body that is not JSON, not of the expected shape or not sent as
/// `application/json` is refused with 400 `bad_request` and the contract's error body (axum's
/// own rejections are plain text with 400, 415 or 422).
pub(super) struct JsonBody<T>(pub(super) T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Response> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Self(v)),
            Err(e) => Err(error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("请求内容无效：{}", e.body_text()),
            )),
        }
    }
}

/// A request's query parameters. Missing or malformed ones are refused with 400
/// `bad_request` and the contract's error body (axum's own rejection is plain text).
pub(super) struct QueryArgs<T>(pub(super) T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for QueryArgs<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(Self(v)),
            Err(e) => Err(error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("查询参数无效：{}", e.body_text()),
            )),
        }
    }
}

/// The routes the simulator serves, as (method, OpenAPI path) pairs — what the contract test
/// compares with `api/openapi.yaml`.
pub const ROUTES: &[(&str, &str)] = &[
    ("post", "/v1/devices/register"),
    ("get", "/v1/catalog/snapshot"),
    ("get", "/v1/catalog/delta"),
    ("post", "/v1/cases"),
    ("head", "/v1/cases/{id}/materials/{material}"),
    ("patch", "/v1/cases/{id}/materials/{material}"),
    ("get", "/v1/cases/{id}/status"),
    ("post", "/v1/events/{kind}"),
    ("post", "/v1/licences/query"),
    ("post", "/v1/licences/document"),
    ("post", "/v1/ykm/verify"),
    ("post", "/v1/heartbeat"),
    ("get", "/v1/notices"),
    ("post", "/v1/devices/selftest"),
    ("get", "/v1/devices/audit-anchors"),
    ("post", "/v1/devices/diagnostics"),
    ("post", "/v1/tickets/leases"),
    ("get", "/v1/certificates"),
    ("post", "/v1/certificates/issue"),
    ("get", "/v1/certificates/verify"),
    ("post", "/v1/payments/orders"),
    ("get", "/v1/payments/orders/{id}"),
    ("post", "/v1/payments/orders/{id}/cancel"),
    ("get", "/health"),
];
