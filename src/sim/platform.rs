//! The platform simulator: the whole contract of `api/openapi.yaml` over real HTTP (axum on
//! tokio), seeded from the demo catalogue or N generated matters, with admin endpoints that
//! show what it received and fault injection that tests and the demo can switch at run time.
//!
//! It is a test double and demo server, not a product: state lives in memory and goes with
//! the process.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};

use super::generate::{self, Rng, Seed};
use crate::core::domain::{Bundle, LocalElements, Matter, Person};
use crate::core::platform::wire::{self, ErrorBody};
use crate::core::platform::CaseAck;
use crate::core::sync::DEMO_ENROLMENT_CODE;

/// Largest request body the simulator reads (an upload chunk plus room).
const MAX_REQUEST_BYTES: usize = 2 * 1024 * 1024;

/// Faults the simulator injects into `/v1` answers. All off by default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Delay before every answer, in milliseconds.
    pub latency_ms: u64,
    /// Fraction (0–1) of requests answered with `error_status` instead.
    pub error_rate: f64,
    /// The status of injected errors: 500, 503 or 429 (503 and 429 carry Retry-After).
    pub error_status: u16,
    /// Retry-After seconds on injected 503/429 and during outages.
    pub retry_after_secs: u64,
    /// Fraction (0–1) of new connections reset before any answer.
    pub reset_rate: f64,
    /// Fraction (0–1) of answers cut short half-way through the body.
    pub truncate_rate: f64,
    /// The platform is down: every `/v1` request gets 503 with Retry-After.
    pub outage: bool,
    /// Unix seconds until which the platform is down (an outage window), if any.
    pub outage_until: Option<i64>,
    /// Seconds added to the simulator's clock (request checks and `x-ykb-server-time`).
    pub clock_skew_secs: i64,
    /// Catalogue documents carry a signature that does not verify.
    pub bad_signature: bool,
}

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

/// A case the simulator received, with how often its idempotency key was seen.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseRecord {
    /// The idempotency key (the case's UUIDv7).
    pub key: String,
    /// SHA-256 of the body first received.
    pub body_sha256: String,
    /// The body first received (JSON).
    pub body: serde_json::Value,
    /// The answer given (and given again on replays).
    pub ack: CaseAck,
    /// Requests seen with this key (1 = no replay).
    pub count: u64,
    /// Progress history.
    pub history: Vec<wire::ProgressStep>,
}

/// A material upload the simulator holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MaterialRecord {
    /// Case id.
    pub case_id: String,
    /// Material id.
    pub material_id: String,
    /// Declared total size.
    pub length: u64,
    /// Bytes received so far.
    pub received: u64,
    /// SHA-256 of the complete material, as declared by the terminal.
    pub sha256: String,
    /// Upload requests seen for it.
    pub count: u64,
    #[serde(skip)]
    bytes: Vec<u8>,
}

/// An event (evaluation or other) the simulator received.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventRecord {
    /// The idempotency key.
    pub key: String,
    /// The event kind (e.g. `evaluation`).
    pub kind: String,
    /// SHA-256 of the body.
    pub body_sha256: String,
    /// The body (JSON).
    pub body: serde_json::Value,
    /// Requests seen with this key.
    pub count: u64,
}

/// A self-test report the simulator received.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SelftestRecord {
    /// The device that sent it.
    pub device_id: String,
    /// The id given in the receipt.
    pub report_id: String,
    /// When it arrived (RFC 3339).
    pub received_at: String,
    /// The report as received.
    pub report: wire::SelftestReport,
}

/// `POST /admin/devices/{device}/revoke`: stop accepting a device's credential.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevokeReason {
    /// Operations revoked it (401 `credential_revoked`).
    #[default]
    Revoked,
    /// It ran out (401 `credential_expired`).
    Expired,
}

/// The body of `POST /admin/devices/{device}/revoke`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RevokeRequest {
    /// Why the credential stops working.
    pub reason: RevokeReason,
}

/// `POST /admin/catalog/changes`: publish a new catalogue version with these changes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChangeRequest {
    /// Matters to modify (renamed hours, new popularity, a new alias).
    pub modify: usize,
    /// New matters to add.
    pub add: usize,
    /// Matters to withdraw.
    pub remove: usize,
    /// District overrides to change for this region.
    pub district_region: Option<String>,
    /// How many district overrides to change in `district_region`.
    pub district: usize,
}

/// `POST /admin/ykm/tokens`: issue a 渝快码 token for a person.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// Whom the token identifies.
    pub person: Person,
    /// Lifetime in seconds.
    pub ttl_secs: i64,
}

/// `POST /admin/cases/{code}/status`: move a case on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// New status.
    pub status: String,
    /// Remark.
    #[serde(default)]
    pub note: String,
}

#[derive(Clone)]
struct Entry<T> {
    value: T,
    popularity: u64,
    changed: u64,
}

struct SimCatalog {
    version: u64,
    /// Deltas are served from this version on; older cursors get 410.
    oldest: u64,
    published_at: String,
    order: Vec<String>,
    matters: HashMap<String, Entry<Matter>>,
    removed: BTreeMap<String, u64>,
    bundles: Vec<(Bundle, u64)>,
    /// (region, task code) → (values, version changed; `None` = withdrawn).
    district: BTreeMap<(String, String), (Option<LocalElements>, u64)>,
    /// Rotation point of `modify` changes.
    next_modify: usize,
    generated: usize,
    cache: Option<(u64, String, Arc<Vec<u8>>)>,
}

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
    notices: Vec<wire::Notice>,
    case_seq: u64,
    /// The newest heartbeats received, oldest first (at most 100).
    heartbeats: Vec<wire::Heartbeat>,
    /// Next ticket number to lease per (hall, service, date).
    ticket_next: BTreeMap<(String, String, String), u32>,
    /// Every ticket lease granted, with the device it went to, in order.
    ticket_leases: Vec<(String, wire::TicketLease)>,
}

struct Shared {
    inner: Mutex<Inner>,
    faults: Mutex<Faults>,
    rng: Mutex<Rng>,
    key: SigningKey,
}

impl Shared {
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

    /// Every self-test report received, in order.
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

    /// Issues a 渝快码 token for `person`, valid for `ttl_secs`.
    pub fn issue_ykm_token(&self, person: Person, ttl_secs: i64) -> String {
        issue_token(&self.shared, person, ttl_secs)
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

/// Accepts connections, resetting a fraction of them (fault `reset_rate`) before any answer.
struct FaultyListener {
    inner: tokio::net::TcpListener,
    shared: Arc<Shared>,
}

impl axum::serve::Listener for FaultyListener {
    type Io = tokio::net::TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    if self.shared.chance(self.shared.faults().reset_rate) {
                        // SO_LINGER 0: closing sends RST instead of FIN.
                        let _ = stream.set_zero_linger();
                        drop(stream);
                        continue;
                    }
                    return (stream, addr);
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

impl Inner {
    fn new(options: &SimOptions) -> Self {
        let (seed, overrides) = match options.matters {
            Some(n) => (generate::generated_seed(n, options.seed), Vec::new()),
            None => generate::demo_seed(),
        };
        let Seed {
            catalog,
            popularity,
        } = seed;
        let mut district = BTreeMap::new();
        // 渝中区 keeps the demo's own values; other districts get theirs; generated
        // catalogues override every fourth matter in three districts.
        for (code, local) in overrides {
            district.insert(("500103".to_owned(), code), (Some(local), catalog.version));
        }
        for (i, m) in catalog.matters.iter().enumerate() {
            let regions: &[&str] = if options.matters.is_some() {
                if i % 4 == 0 {
                    &["500103", "500105", "500106"]
                } else {
                    &[]
                }
            } else {
                &["500101", "500105", "500106", "500112"]
            };
            for r in regions {
                district
                    .entry((r.to_string(), m.task_code.to_string()))
                    .or_insert((
                        Some(generate::district_local(r, &m.department)),
                        catalog.version,
                    ));
            }
        }
        let version = catalog.version;
        let order = catalog
            .matters
            .iter()
            .map(|m| m.task_code.to_string())
            .collect();
        let matters = catalog
            .matters
            .into_iter()
            .zip(popularity)
            .map(|(m, p)| {
                (
                    m.task_code.to_string(),
                    Entry {
                        value: m,
                        popularity: p,
                        changed: version,
                    },
                )
            })
            .collect();
        Self {
            devices: HashMap::new(),
            revoked: HashMap::new(),
            selftests: Vec::new(),
            nonces: HashMap::new(),
            catalog: SimCatalog {
                version,
                oldest: version,
                published_at: catalog.published_at,
                order,
                matters,
                removed: BTreeMap::new(),
                bundles: catalog.bundles.into_iter().map(|b| (b, version)).collect(),
                district,
                next_modify: 0,
                generated: 0,
                cache: None,
            },
            cases: BTreeMap::new(),
            materials: BTreeMap::new(),
            events: BTreeMap::new(),
            ticket_next: BTreeMap::new(),
            ticket_leases: Vec::new(),
            ykm: HashMap::new(),
            notices: vec![wire::Notice {
                id: "n-2026-12".into(),
                title: "平台例行维护".into(),
                message: "政务服务平台将于 2026年12月6日 00:00-04:00 例行维护，期间部分事项暂停网上受理，本机可继续排队取号和预审，材料将在维护结束后自动提交。".into(),
                starts_at: "2026-12-06T00:00:00+08:00".into(),
                ends_at: "2026-12-06T04:00:00+08:00".into(),
            }],
            case_seq: 0,
            heartbeats: Vec::new(),
        }
    }
}

fn apply_change(c: &mut SimCatalog, change: &ChangeRequest) -> u64 {
    c.version += 1;
    let v = c.version;
    c.published_at = jiff::Timestamp::now().to_string();
    c.cache = None;
    let live = c.order.len();
    for k in 0..change.modify.min(live) {
        let idx = (c.next_modify + k) % c.order.len();
        let code = c.order[idx].clone();
        if let Some(e) = c.matters.get_mut(&code) {
            e.value
                .acceptance_conditions
                .push(format!("（第 {v} 版修订）"));
            e.popularity += 100;
            e.changed = v;
        }
    }
    c.next_modify = (c.next_modify + change.modify) % c.order.len().max(1);
    // Withdraw from the end, never a matter a bundle names.
    let named: std::collections::HashSet<String> = c
        .bundles
        .iter()
        .flat_map(|(b, _)| {
            b.matters
                .iter()
                .chain(
                    b.questions
                        .iter()
                        .flat_map(|q| &q.options)
                        .flat_map(|o| &o.matters),
                )
                .map(|x| x.to_string())
        })
        .collect();
    let mut removed = 0;
    let mut i = c.order.len();
    while removed < change.remove && i > 0 {
        i -= 1;
        if named.contains(&c.order[i]) {
            continue;
        }
        let code = c.order.remove(i);
        c.matters.remove(&code);
        c.removed.insert(code.clone(), v);
        let keys: Vec<_> = c
            .district
            .keys()
            .filter(|(_, t)| *t == code)
            .cloned()
            .collect();
        for k in keys {
            c.district.insert(k, (None, v));
        }
        removed += 1;
    }
    for _ in 0..change.add {
        let template = c.matters[&c.order[c.generated % c.order.len()]]
            .value
            .clone();
        let mut m = template;
        let code = format!("115500103ADD{:07}V{v}", c.generated);
        c.generated += 1;
        m.task_code = crate::core::domain::Code::new(code.clone()).expect("short code");
        m.name = format!("{}（新增第 {v} 版）", m.name);
        m.local = generate::city_local();
        c.order.push(code.clone());
        c.matters.insert(
            code,
            Entry {
                value: m,
                popularity: 10,
                changed: v,
            },
        );
    }
    if let Some(region) = &change.district_region {
        for k in 0..change.district.min(c.order.len()) {
            let code = c.order[k].clone();
            let dep = c.matters[&code].value.department.clone();
            let mut local = generate::district_local(region, &dep);
            local.hours = format!("{}（第 {v} 版调整）", local.hours);
            c.district.insert((region.clone(), code), (Some(local), v));
        }
    }
    v
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
        .route("/v1/heartbeat", post(heartbeat))
        .route("/v1/notices", get(notices))
        .route("/v1/devices/selftest", post(selftest))
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
        .route("/admin/faults", get(admin_faults_get).put(admin_faults_put))
        .route("/admin/catalog/changes", post(admin_change))
        .route("/admin/catalog/compact", post(admin_compact))
        .route("/admin/ykm/tokens", post(admin_token))
        .route("/admin/cases/{code}/status", post(admin_case_status))
        .route("/admin/notices", post(admin_notice))
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

/// Fault injection, then request authentication, then the handler; stamps the platform
/// clock on every answer.
async fn guard(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let faults = s.faults();
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    if s.chance(faults.reset_rate) {
        // Also on connections opened before the fault was set: the body fails before the
        // headers go out, so the client sees the connection drop with no answer.
        return Response::new(Body::from_stream(futures_core_like::Fail));
    }
    let now = s.now();
    let mut resp = inject_or_run(&s, &faults, now, req, next).await;
    if let Ok(v) = HeaderValue::from_str(&now.to_string()) {
        resp.headers_mut().insert(wire::H_SERVER_TIME, v);
    }
    if faults.reset_rate > 0.0 {
        // New connection per request, so connection-level faults apply to every request.
        resp.headers_mut().insert(
            axum::http::header::CONNECTION,
            HeaderValue::from_static("close"),
        );
    }
    if s.chance(faults.truncate_rate) {
        resp = truncate(resp).await;
    }
    resp
}

async fn inject_or_run(s: &Shared, f: &Faults, now: i64, req: Request, next: Next) -> Response {
    let retry_after = |mut r: Response| {
        if let Ok(v) = HeaderValue::from_str(&f.retry_after_secs.max(1).to_string()) {
            r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
        }
        r
    };
    let real_now = jiff::Timestamp::now().as_second();
    if f.outage || f.outage_until.is_some_and(|t| real_now < t) {
        return retry_after(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "outage",
            "政务服务平台维护中，请稍后再试",
        ));
    }
    if s.chance(f.error_rate) {
        let status =
            StatusCode::from_u16(f.error_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let r = error(status, "injected", "模拟平台注入的故障");
        return if matches!(status.as_u16(), 429 | 503) {
            retry_after(r)
        } else {
            r
        };
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_REQUEST_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("请求体超过 {MAX_REQUEST_BYTES} 字节"),
            )
        }
    };
    let path_q = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned());
    if !path_q.ends_with("/devices/register") {
        if let Err(r) = authenticate(s, &parts.method, &path_q, &parts.headers, &bytes, now) {
            return *r;
        }
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn authenticate(
    s: &Shared,
    method: &Method,
    path_q: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<(), Box<Response>> {
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let unauthorized = |code: &str, msg: &str| Box::new(error(StatusCode::UNAUTHORIZED, code, msg));
    let device = h(wire::H_DEVICE);
    let Ok(ts) = h(wire::H_TIMESTAMP).parse::<i64>() else {
        return Err(unauthorized("bad_timestamp", "缺少或无效的请求时间戳"));
    };
    if (ts - now).abs() > wire::MAX_SKEW_SECS {
        return Err(unauthorized(
            "clock_skew",
            "终端时钟与平台相差超过 300 秒，请校准终端时间",
        ));
    }
    let nonce = h(wire::H_NONCE);
    if nonce.len() < 8 || nonce.len() > 64 {
        return Err(unauthorized("bad_nonce", "缺少或无效的请求随机数"));
    }
    let mut g = s.lock();
    let Some(secret) = g.devices.get(device).cloned() else {
        return Err(unauthorized("unknown_device", "终端未注册，请重新注册"));
    };
    match g.revoked.get(device) {
        Some(RevokeReason::Revoked) => {
            return Err(unauthorized(
                "credential_revoked",
                "设备凭据已被平台注销，请申请新的注册码后重新注册",
            ))
        }
        Some(RevokeReason::Expired) => {
            return Err(unauthorized(
                "credential_expired",
                "设备凭据已过期，请申请新的注册码后重新注册",
            ))
        }
        None => {}
    }
    if !wire::verify_request(
        &secret,
        method.as_str(),
        path_q,
        ts,
        nonce,
        body,
        h(wire::H_SIGNATURE),
    ) {
        return Err(unauthorized("bad_signature", "请求签名无效"));
    }
    let key = format!("{device}/{nonce}");
    if g.nonces.contains_key(&key) {
        return Err(unauthorized("replay", "请求随机数已使用（疑似重放）"));
    }
    // Nonces only need remembering while their timestamps are inside the window.
    if g.nonces.len() > 100_000 {
        g.nonces
            .retain(|_, t| (now - *t).abs() <= wire::MAX_SKEW_SECS);
    }
    g.nonces.insert(key, ts);
    Ok(())
}

/// Sends headers and the first half of the body, then breaks the connection.
async fn truncate(resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let half = Bytes::copy_from_slice(&bytes[..bytes.len() / 2]);
    if let Ok(v) = HeaderValue::from_str(&bytes.len().to_string()) {
        parts.headers.insert(axum::http::header::CONTENT_LENGTH, v);
    }
    let stream = futures_stream(half);
    Response::from_parts(parts, Body::from_stream(stream))
}

/// A body stream: one chunk, then an error (hyper aborts the connection).
fn futures_stream(
    first: Bytes,
) -> impl futures_core_like::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures_core_like::TwoStep::new(first)
}

/// A minimal stream without pulling in a futures crate.
mod futures_core_like {
    pub use futures_core::Stream;
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    pub struct TwoStep {
        first: Option<axum::body::Bytes>,
        // A pause after the first chunk, so headers and half the body reach the client
        // before the connection breaks (a cut body, not a refused connection).
        pause: Pin<Box<tokio::time::Sleep>>,
        done: bool,
    }

    impl TwoStep {
        pub fn new(first: axum::body::Bytes) -> Self {
            Self {
                first: Some(first),
                pause: Box::pin(tokio::time::sleep(std::time::Duration::from_millis(100))),
                done: false,
            }
        }
    }

    /// A body that fails at once.
    pub struct Fail;

    impl Stream for Fail {
        type Item = Result<axum::body::Bytes, std::io::Error>;
        fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "simulated reset",
            ))))
        }
    }

    impl Stream for TwoStep {
        type Item = Result<axum::body::Bytes, std::io::Error>;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            if let Some(b) = self.first.take() {
                return Poll::Ready(Some(Ok(b)));
            }
            if self.done {
                return Poll::Ready(None);
            }
            if self.pause.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.done = true;
            Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "simulated truncation",
            ))))
        }
    }
}

async fn register(State(s): State<Arc<Shared>>, body: Bytes) -> Response {
    use base64::Engine;
    let req: wire::RegisterRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("注册请求无效：{e}"),
            )
        }
    };
    if req.enrolment_code != DEMO_ENROLMENT_CODE {
        return error(
            StatusCode::FORBIDDEN,
            "enrolment_refused",
            "注册码无效或已使用，请向平台运维申请新的注册码",
        );
    }
    let mut secret = [0u8; 32];
    if getrandom::fill(&mut secret).is_err() {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "rng", "无法生成密钥");
    }
    let mut g = s.lock();
    let device_id = format!("sim-{}-{}", req.region_code, g.devices.len() + 1);
    g.devices.insert(device_id.clone(), secret.to_vec());
    Json(wire::RegisterResponse {
        device_id,
        secret: base64::engine::general_purpose::STANDARD.encode(secret),
        catalog_key: hex::encode(s.key.verifying_key().as_bytes()),
    })
    .into_response()
}

#[derive(Deserialize)]
struct CatalogQuery {
    region: String,
    since: Option<String>,
}

fn signed_document(s: &Shared, body: Arc<Vec<u8>>) -> Response {
    let mut sig = wire::sign_catalog(&s.key, &body);
    if s.faults().bad_signature {
        sig = wire::sign_catalog(&SigningKey::from_bytes(&[9; 32]), &body);
    }
    let mut resp = Response::new(Body::from(Bytes::from_owner(ArcBytes(body))));
    let h = resp.headers_mut();
    h.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&sig) {
        h.insert(wire::H_CATALOG_SIGNATURE, v);
    }
    resp
}

struct ArcBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for ArcBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

fn published(c: &SimCatalog, code: &str) -> Option<wire::PublishedMatter> {
    c.matters.get(code).map(|e| wire::PublishedMatter {
        matter: e.value.clone(),
        popularity: e.popularity,
    })
}

async fn snapshot(State(s): State<Arc<Shared>>, Query(q): Query<CatalogQuery>) -> Response {
    let body = {
        let mut g = s.lock();
        let c = &mut g.catalog;
        match &c.cache {
            Some((v, r, b)) if *v == c.version && *r == q.region => b.clone(),
            _ => {
                let doc = wire::CatalogSnapshot {
                    format: wire::CATALOG_FORMAT,
                    cursor: format!("v{}", c.version),
                    version: c.version,
                    published_at: c.published_at.clone(),
                    matters: c
                        .order
                        .iter()
                        .filter_map(|code| published(c, code))
                        .collect(),
                    bundles: c.bundles.iter().map(|(b, _)| b.clone()).collect(),
                    district: c
                        .district
                        .range((q.region.clone(), String::new())..)
                        .take_while(|((r, _), _)| *r == q.region)
                        .filter_map(|((r, t), (l, _))| {
                            l.clone().map(|local| wire::DistrictElements {
                                task_code: t.clone(),
                                region_code: r.clone(),
                                local,
                            })
                        })
                        .collect(),
                };
                let b = Arc::new(serde_json::to_vec(&doc).unwrap_or_default());
                c.cache = Some((c.version, q.region.clone(), b.clone()));
                b
            }
        }
    };
    signed_document(&s, body)
}

async fn delta(State(s): State<Arc<Shared>>, Query(q): Query<CatalogQuery>) -> Response {
    let since = q
        .since
        .as_deref()
        .and_then(|c| c.strip_prefix('v'))
        .and_then(|v| v.parse::<u64>().ok());
    let body = {
        let g = s.lock();
        let c = &g.catalog;
        let Some(since) = since.filter(|v| *v >= c.oldest && *v <= c.version) else {
            return error(
                StatusCode::GONE,
                "cursor_expired",
                "游标已过期，请下载完整目录",
            );
        };
        let mut doc = wire::CatalogDelta {
            format: wire::CATALOG_FORMAT,
            from_cursor: format!("v{since}"),
            cursor: format!("v{}", c.version),
            version: c.version,
            published_at: c.published_at.clone(),
            upserts: Vec::new(),
            removals: Vec::new(),
            bundle_upserts: Vec::new(),
            bundle_removals: Vec::new(),
            district_upserts: Vec::new(),
            district_removals: Vec::new(),
        };
        for code in &c.order {
            if c.matters[code].changed > since {
                doc.upserts.extend(published(c, code));
            }
        }
        doc.removals = c
            .removed
            .iter()
            .filter(|(_, v)| **v > since)
            .map(|(k, _)| k.clone())
            .collect();
        doc.bundle_upserts = c
            .bundles
            .iter()
            .filter(|(_, v)| *v > since)
            .map(|(b, _)| b.clone())
            .collect();
        for ((r, t), (l, v)) in c
            .district
            .range((q.region.clone(), String::new())..)
            .take_while(|((r, _), _)| *r == q.region)
        {
            if *v <= since {
                continue;
            }
            match l {
                Some(local) => doc.district_upserts.push(wire::DistrictElements {
                    task_code: t.clone(),
                    region_code: r.clone(),
                    local: local.clone(),
                }),
                None if !c.removed.contains_key(t) => doc.district_removals.push(t.clone()),
                None => {}
            }
        }
        Arc::new(serde_json::to_vec(&doc).unwrap_or_default())
    };
    signed_document(&s, body)
}

fn idempotency_key(headers: &HeaderMap) -> Result<String, Box<Response>> {
    headers
        .get(wire::H_IDEMPOTENCY_KEY)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| uuid::Uuid::parse_str(v).ok())
        .map(|u| u.to_string())
        .ok_or_else(|| {
            Box::new(error(
                StatusCode::BAD_REQUEST,
                "idempotency_key_missing",
                "缺少或无效的 Idempotency-Key（应为 UUID）",
            ))
        })
}

async fn submit_case(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let key = match idempotency_key(&headers) {
        Ok(k) => k,
        Err(r) => return *r,
    };
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "bad_request", "办件内容不是 JSON");
    };
    let hash = wire::sha256_hex(&body);
    let now = s.now();
    let mut g = s.lock();
    if let Some(rec) = g.cases.get_mut(&key) {
        rec.count += 1;
        if rec.body_sha256 != hash {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_conflict",
                "同一幂等键的办件内容不同，已拒绝",
            );
        }
        return (StatusCode::OK, Json(rec.ack.clone())).into_response();
    }
    g.case_seq += 1;
    let at = jiff::Timestamp::from_second(now)
        .unwrap_or_else(|_| jiff::Timestamp::now())
        .to_string();
    let date = at.get(..10).unwrap_or("2026-01-01").replace('-', "");
    let ack = CaseAck {
        unified_code: format!("500000{date}{:06}", g.case_seq),
        accepted_at: at.clone(),
    };
    g.cases.insert(
        key.clone(),
        CaseRecord {
            key,
            body_sha256: hash,
            body: json,
            ack: ack.clone(),
            count: 1,
            history: vec![wire::ProgressStep {
                status: "accepted".into(),
                at,
                note: "已受理".into(),
            }],
        },
    );
    (StatusCode::CREATED, Json(ack)).into_response()
}

fn upload_headers(mut r: Response, received: u64, length: u64) -> Response {
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&received.to_string()) {
        h.insert(wire::H_UPLOAD_OFFSET, v);
    }
    if let Ok(v) = HeaderValue::from_str(&length.to_string()) {
        h.insert(wire::H_UPLOAD_LENGTH, v);
    }
    r
}

async fn material_head(
    State(s): State<Arc<Shared>>,
    Path((case_id, material)): Path<(String, String)>,
) -> Response {
    let g = s.lock();
    match g.materials.get(&(case_id, material)) {
        Some(m) => upload_headers(StatusCode::OK.into_response(), m.received, m.length),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn material_patch(
    State(s): State<Arc<Shared>>,
    Path((case_id, material)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let num = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
    };
    let (Some(offset), Some(length)) = (num(wire::H_UPLOAD_OFFSET), num(wire::H_UPLOAD_LENGTH))
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_upload",
            "缺少 Upload-Offset 或 Upload-Length",
        );
    };
    if length > wire::MAX_MATERIAL_BYTES {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "material_too_large",
            format!("材料超过 {} 字节上限", wire::MAX_MATERIAL_BYTES),
        );
    }
    if body.len() > wire::UPLOAD_CHUNK_BYTES {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "chunk_too_large",
            "单次上传超过 1 MiB",
        );
    }
    let declared = headers
        .get(wire::H_UPLOAD_SHA256)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut g = s.lock();
    let rec = g
        .materials
        .entry((case_id.clone(), material.clone()))
        .or_insert_with(|| MaterialRecord {
            case_id,
            material_id: material,
            length,
            received: 0,
            sha256: declared.clone(),
            count: 0,
            bytes: Vec::new(),
        });
    rec.count += 1;
    if rec.sha256.is_empty() && rec.received < rec.length {
        rec.sha256 = declared.clone();
    }
    if rec.length != length || (!declared.is_empty() && declared != rec.sha256) {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_conflict",
            "同一材料的总长度与先前不同，已拒绝",
        );
    }
    if rec.received == rec.length && offset == 0 && !body.is_empty() {
        // A replay of a complete upload: the same bytes are fine, others are a conflict.
        let same = rec.bytes.get(..body.len()) == Some(&body[..]);
        return if same {
            upload_headers(
                StatusCode::NO_CONTENT.into_response(),
                rec.received,
                rec.length,
            )
        } else {
            error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_conflict",
                "同一材料的内容与先前不同，已拒绝",
            )
        };
    }
    if offset != rec.received {
        return upload_headers(
            error(
                StatusCode::CONFLICT,
                "offset_mismatch",
                "上传位置与平台已收到的不一致",
            ),
            rec.received,
            rec.length,
        );
    }
    if offset + body.len() as u64 > length {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_upload",
            "上传内容超过声明长度",
        );
    }
    rec.bytes.extend_from_slice(&body);
    rec.received += body.len() as u64;
    if rec.received == rec.length {
        let actual = wire::sha256_hex(&rec.bytes);
        if !rec.sha256.is_empty() && rec.sha256 != actual {
            // Corrupted on the way: drop it so the terminal uploads again from the start.
            let key = (rec.case_id.clone(), rec.material_id.clone());
            g.materials.remove(&key);
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "checksum_mismatch",
                "材料校验值与内容不符，请重新上传",
            );
        }
        rec.sha256 = actual;
    }
    upload_headers(
        StatusCode::NO_CONTENT.into_response(),
        rec.received,
        rec.length,
    )
}

async fn case_status(State(s): State<Arc<Shared>>, Path(code): Path<String>) -> Response {
    let g = s.lock();
    match g.cases.values().find(|c| c.ack.unified_code == code) {
        Some(c) => Json(wire::CaseProgress {
            unified_code: code,
            status: c
                .history
                .last()
                .map_or_else(String::new, |h| h.status.clone()),
            updated_at: c.history.last().map_or_else(String::new, |h| h.at.clone()),
            history: c.history.clone(),
        })
        .into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "case_not_found",
            "未找到该办件，请核对统一办件编码",
        ),
    }
}

async fn submit_event(
    State(s): State<Arc<Shared>>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let key = match idempotency_key(&headers) {
        Ok(k) => k,
        Err(r) => return *r,
    };
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "bad_request", "事件内容不是 JSON");
    };
    let hash = wire::sha256_hex(&body);
    let mut g = s.lock();
    if let Some(rec) = g.events.get_mut(&key) {
        rec.count += 1;
        if rec.body_sha256 != hash || rec.kind != kind {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_conflict",
                "同一幂等键的事件内容不同，已拒绝",
            );
        }
        return (StatusCode::OK, Json(serde_json::json!({"accepted": true}))).into_response();
    }
    g.events.insert(
        key.clone(),
        EventRecord {
            key,
            kind,
            body_sha256: hash,
            body: json,
            count: 1,
        },
    );
    (
        StatusCode::CREATED,
        Json(serde_json::json!({"accepted": true})),
    )
        .into_response()
}

/// Licence types the simulator may hold for a person, chosen by bits of the ID number's hash.
const LICENCE_TYPES: &[&str] = &[
    "居民户口簿",
    "结婚证",
    "机动车驾驶证",
    "不动产权证书",
    "社会保障卡",
    "居住证",
    "营业执照",
    "出生医学证明",
    "残疾人证",
];

/// Every licence type the simulator knows besides the ID card (some of which any one person
/// lacks).
pub fn platform_licence_types() -> &'static [&'static str] {
    LICENCE_TYPES
}

/// The e-licences the simulator says a person holds: always the ID card, then a
/// deterministic subset chosen from the ID number.
pub fn licences_for(id_number: &str) -> Vec<wire::Licence> {
    let h = wire::sha256_hex(id_number.as_bytes());
    let bits = u64::from_str_radix(&h[..16], 16).unwrap_or(0);
    let tail = &id_number[id_number.len().saturating_sub(4)..];
    std::iter::once("居民身份证")
        .chain(
            LICENCE_TYPES
                .iter()
                .enumerate()
                .filter(|(i, _)| bits >> i & 1 == 1)
                .map(|(_, t)| *t),
        )
        .map(|t| wire::Licence {
            licence_type: t.to_owned(),
            number_masked: format!("****{tail}"),
        })
        .collect()
}

async fn licences(Json(q): Json<wire::LicenceQuery>) -> Response {
    if crate::core::domain::IdNumber::parse(&q.id_number).is_err() {
        return error(StatusCode::BAD_REQUEST, "bad_id_number", "身份证号码无效");
    }
    Json(wire::LicenceList {
        licences: licences_for(&q.id_number),
    })
    .into_response()
}

/// Holders the simulator knows by name: the demo ID card's fictional citizen
/// (`drivers/tests/data/resident-li-zhe.toml`).
const DEMO_HOLDERS: &[(&str, &str)] = &[("500105198511220024", "李喆")];

/// How long a printed copy's verification code verifies it.
const VERIFICATION_DAYS: i64 = 30;

/// The display of one e-licence the simulator says `id_number` holds, or `None` when the
/// person holds no licence of that type. Identifiers are masked as the platform's policy
/// requires (name: first character; numbers: the last four); the verification code is
/// derived from the holder, the type and the day, so the same copy asked twice in a day gets
/// the same code.
pub fn licence_document_for(
    id_number: &str,
    licence_type: &str,
    now: i64,
) -> Option<wire::LicenceDocument> {
    let held = licences_for(id_number)
        .into_iter()
        .find(|l| l.licence_type == licence_type)?;
    let h = wire::sha256_hex(format!("{id_number}|{licence_type}").as_bytes());
    let pick = |n: usize, k: usize| usize::from_str_radix(&h[n..n + 2], 16).unwrap_or(0) % k;
    let birth_year: i32 = id_number
        .get(6..10)
        .and_then(|y| y.parse().ok())
        .unwrap_or(1980);
    let issued_year = (birth_year + 18 + pick(0, 20) as i32).min(2025);
    let issued_on = format!(
        "{issued_year}-{:02}-{:02}",
        pick(2, 12) + 1,
        pick(4, 28) + 1
    );
    let valid_until = match licence_type {
        "居民身份证" => format!("{}-{}", issued_year + 20, &issued_on[5..]),
        "机动车驾驶证" => format!("{}-{}", issued_year + 10, &issued_on[5..]),
        "居住证" => format!("{}-{}", issued_year + 1, &issued_on[5..]),
        _ => "长期".to_owned(),
    };
    let region = id_number.get(..6).unwrap_or("500000");
    let (issuer, fields): (&str, Vec<(&str, String)>) = match licence_type {
        "居民身份证" => ("重庆市公安局", vec![]),
        "居民户口簿" => (
            "重庆市公安局户政管理部门",
            vec![
                ("户别", "家庭户".into()),
                ("与户主关系", "户主".into()),
                ("户籍地", format!("重庆市（行政区划 {region}）")),
            ],
        ),
        "结婚证" => ("重庆市婚姻登记机关", vec![("登记类别", "结婚登记".into())]),
        "机动车驾驶证" => (
            "重庆市公安局交通管理局",
            vec![("准驾车型", ["C1", "C2", "B2"][pick(6, 3)].into())],
        ),
        "不动产权证书" => (
            "重庆市规划和自然资源局",
            vec![
                ("权利类型", "国有建设用地使用权/房屋所有权".into()),
                ("用途", "城镇住宅用地/住宅".into()),
            ],
        ),
        "社会保障卡" => (
            "重庆市人力资源和社会保障局",
            vec![("卡类型", "第三代社会保障卡".into())],
        ),
        "居住证" => ("重庆市公安局", vec![("居住地", "重庆市".into())]),
        "营业执照" => (
            "重庆市市场监督管理局",
            vec![("类型", "个体工商户".into()), ("经营者", "本人".into())],
        ),
        "出生医学证明" => ("重庆市卫生健康委员会", vec![]),
        "残疾人证" => ("重庆市残疾人联合会", vec![]),
        _ => ("重庆市政务服务管理办公室", vec![]),
    };
    let code_hash = wire::sha256_hex(
        format!(
            "verify|{id_number}|{licence_type}|{}",
            now.div_euclid(86_400)
        )
        .as_bytes(),
    )
    .to_uppercase();
    let code = format!(
        "{}-{}-{}-{}",
        &code_hash[0..4],
        &code_hash[4..8],
        &code_hash[8..12],
        &code_hash[12..16]
    );
    // The platform knows every holder's name; the simulator knows the demo card's fictional
    // citizen and gives anyone else a surname.
    let name = DEMO_HOLDERS
        .iter()
        .find(|(id, _)| *id == id_number)
        .map_or_else(
            || ["王", "张", "刘", "陈", "杨", "黄", "赵", "周"][pick(8, 8)].to_owned() + "某",
            |(_, n)| (*n).to_owned(),
        );
    Some(wire::LicenceDocument {
        licence_type: licence_type.to_owned(),
        holder_name_masked: crate::core::domain::mask_name(&name),
        number_masked: held.number_masked,
        issuer: issuer.to_owned(),
        issued_on,
        valid_until,
        fields: fields
            .into_iter()
            .map(|(label, value)| wire::LicenceField {
                label: label.to_owned(),
                value,
            })
            .collect(),
        verification_url: format!("https://zwykb.cq.gov.cn/yzzz/verify?code={code}"),
        verification_code: code,
        verification_expires_at: jiff::Timestamp::from_second(now + VERIFICATION_DAYS * 86_400)
            .map(|t| t.to_string())
            .unwrap_or_default(),
    })
}

async fn licence_document(
    State(s): State<Arc<Shared>>,
    Json(q): Json<wire::LicenceDocumentRequest>,
) -> Response {
    if crate::core::domain::IdNumber::parse(&q.id_number).is_err() {
        return error(StatusCode::BAD_REQUEST, "bad_id_number", "身份证号码无效");
    }
    let known = q.licence_type == "居民身份证" || LICENCE_TYPES.contains(&q.licence_type.as_str());
    if !known {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_licence_type",
            "没有这种电子证照类型",
        );
    }
    match licence_document_for(&q.id_number, &q.licence_type, s.now()) {
        Some(doc) => Json(doc).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "licence_not_held",
            "没有找到您的这项电子证照",
        ),
    }
}

fn issue_token(s: &Shared, person: Person, ttl_secs: i64) -> String {
    let mut raw = [0u8; 16];
    let _ = getrandom::fill(&mut raw);
    let token = format!("YKM{}", hex::encode(raw));
    let expires = s.now() + ttl_secs;
    s.lock().ykm.insert(token.clone(), (person, expires));
    token
}

async fn ykm_verify(
    State(s): State<Arc<Shared>>,
    Json(q): Json<wire::YkmVerifyRequest>,
) -> Response {
    let now = s.now();
    let g = s.lock();
    match g.ykm.get(&q.token) {
        Some((_, exp)) if *exp < now => error(
            StatusCode::GONE,
            "ykm_expired",
            "渝快码已过期，请在手机上刷新后重新扫码",
        ),
        Some((person, exp)) => Json(wire::YkmIdentity {
            person: person.clone(),
            expires_at: jiff::Timestamp::from_second(*exp)
                .map(|t| t.to_string())
                .unwrap_or_default(),
        })
        .into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "ykm_invalid",
            "渝快码无效，请在手机上刷新后重新扫码",
        ),
    }
}

async fn heartbeat(State(s): State<Arc<Shared>>, Json(hb): Json<wire::Heartbeat>) -> Response {
    let v = {
        let mut g = s.lock();
        if g.heartbeats.len() >= 100 {
            g.heartbeats.remove(0);
        }
        g.heartbeats.push(hb);
        g.catalog.version
    };
    Json(wire::HeartbeatAck {
        server_time: s.now(),
        catalog_version: v,
    })
    .into_response()
}

/// Stores a self-test report from the signing device.
async fn selftest(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Json(report): Json<wire::SelftestReport>,
) -> Response {
    let device_id = headers
        .get(wire::H_DEVICE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let received_at = jiff::Timestamp::now().to_string();
    let mut g = s.lock();
    let report_id = format!("st-{}", g.selftests.len() + 1);
    g.selftests.push(SelftestRecord {
        device_id,
        report_id: report_id.clone(),
        received_at: received_at.clone(),
        report,
    });
    (
        StatusCode::CREATED,
        Json(wire::SelftestReceipt {
            report_id,
            received_at,
        }),
    )
        .into_response()
}

fn revoke(s: &Shared, device_id: &str, reason: RevokeReason) -> bool {
    let mut g = s.lock();
    if !g.devices.contains_key(device_id) {
        return false;
    }
    g.revoked.insert(device_id.to_owned(), reason);
    true
}

/// Leases the next free numbers of (hall, service, date) to the asking device: ranges never
/// overlap and never pass the daily cap.
async fn ticket_lease(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Json(q): Json<wire::TicketLeaseRequest>,
) -> Response {
    let service_ok = q.service.len() == 1 && q.service.bytes().all(|b| b.is_ascii_uppercase());
    if !service_ok
        || q.hall.trim().is_empty()
        || q.date.parse::<jiff::civil::Date>().is_err()
        || !(1..=999).contains(&q.count)
        || !(1..=999).contains(&q.daily_cap)
    {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "号段申请无效（业务字母 A–Z，日期 YYYY-MM-DD，数量和上限 1–999）",
        );
    }
    let device = headers
        .get(wire::H_DEVICE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut g = s.lock();
    let next = g
        .ticket_next
        .entry((q.hall.clone(), q.service.clone(), q.date.clone()))
        .or_insert(1);
    if *next > q.daily_cap {
        return error(
            StatusCode::CONFLICT,
            "ticket_cap_reached",
            format!("{} 业务 {} 的号源已全部分配", q.date, q.service),
        );
    }
    let first = *next;
    let last = (first + q.count - 1).min(q.daily_cap);
    *next = last + 1;
    let lease = wire::TicketLease {
        hall: q.hall,
        service: q.service,
        date: q.date,
        first,
        last,
    };
    g.ticket_leases.push((device, lease.clone()));
    (StatusCode::CREATED, Json(lease)).into_response()
}

async fn notices(State(s): State<Arc<Shared>>) -> Response {
    Json(wire::NoticeList {
        notices: s.lock().notices.clone(),
    })
    .into_response()
}

async fn admin_cases(State(s): State<Arc<Shared>>) -> Json<Vec<CaseRecord>> {
    Json(s.lock().cases.values().cloned().collect())
}

async fn admin_materials(State(s): State<Arc<Shared>>) -> Json<Vec<MaterialRecord>> {
    Json(s.lock().materials.values().cloned().collect())
}

async fn admin_heartbeats(State(s): State<Arc<Shared>>) -> Json<Vec<wire::Heartbeat>> {
    Json(s.lock().heartbeats.clone())
}

async fn admin_selftests(State(s): State<Arc<Shared>>) -> Json<Vec<SelftestRecord>> {
    Json(s.lock().selftests.clone())
}

async fn admin_revoke(
    State(s): State<Arc<Shared>>,
    Path(device): Path<String>,
    body: Bytes,
) -> Response {
    // An empty body revokes; `{"reason": "expired"}` lets the credential expire instead.
    let r: RevokeRequest = if body.is_empty() {
        RevokeRequest::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(r) => r,
            Err(e) => return error(StatusCode::BAD_REQUEST, "bad_request", e.to_string()),
        }
    };
    if revoke(&s, &device, r.reason) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        error(StatusCode::NOT_FOUND, "unknown_device", "没有该设备")
    }
}

async fn admin_events(State(s): State<Arc<Shared>>) -> Json<Vec<EventRecord>> {
    Json(s.lock().events.values().cloned().collect())
}

async fn admin_faults_get(State(s): State<Arc<Shared>>) -> Json<Faults> {
    Json(s.faults())
}

async fn admin_faults_put(State(s): State<Arc<Shared>>, Json(f): Json<Faults>) -> Json<Faults> {
    *s.faults.lock().unwrap_or_else(|e| e.into_inner()) = f.clone();
    Json(f)
}

async fn admin_change(State(s): State<Arc<Shared>>, Json(c): Json<ChangeRequest>) -> Response {
    let v = apply_change(&mut s.lock().catalog, &c);
    Json(serde_json::json!({ "version": v })).into_response()
}

async fn admin_compact(State(s): State<Arc<Shared>>) -> Response {
    let mut g = s.lock();
    g.catalog.oldest = g.catalog.version;
    Json(serde_json::json!({ "oldest": g.catalog.oldest })).into_response()
}

async fn admin_token(State(s): State<Arc<Shared>>, Json(t): Json<TokenRequest>) -> Response {
    let token = issue_token(&s, t.person, t.ttl_secs);
    Json(serde_json::json!({ "token": token })).into_response()
}

async fn admin_case_status(
    State(s): State<Arc<Shared>>,
    Path(code): Path<String>,
    Json(r): Json<StatusRequest>,
) -> Response {
    let at = jiff::Timestamp::now().to_string();
    let mut g = s.lock();
    match g.cases.values_mut().find(|c| c.ack.unified_code == code) {
        Some(c) => {
            c.history.push(wire::ProgressStep {
                status: r.status,
                at,
                note: r.note,
            });
            StatusCode::NO_CONTENT.into_response()
        }
        None => error(StatusCode::NOT_FOUND, "case_not_found", "未找到该办件"),
    }
}

async fn admin_notice(State(s): State<Arc<Shared>>, Json(n): Json<wire::Notice>) -> Response {
    s.lock().notices.push(n);
    StatusCode::NO_CONTENT.into_response()
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
    ("post", "/v1/tickets/leases"),
    ("get", "/health"),
];
