//! The HTTP client of the platform contract (`api/openapi.yaml`): rustls (ring provider),
//! an optional pinned CA and proxy from the profile, every request signed with the device
//! secret, every answer read under a size cap and classified into a [`PlatformError`].

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::RwLock;
use std::time::Duration;

use ed25519_dalek::VerifyingKey;
use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::wire::{self, CatalogDelta, CatalogSnapshot, ErrorBody};
use super::{CaseAck, LicenceDocumentError, Platform, PlatformError, ITEM_REJECTION_CODES};
use crate::core::config::PlatformSection;

/// Cap on an ordinary (non-catalogue) answer.
pub const MAX_ANSWER_BYTES: u64 = 1024 * 1024;
/// Default cap on a catalogue document (snapshot or delta).
pub const DEFAULT_MAX_CATALOG_BYTES: u64 = 256 * 1024 * 1024;
/// The whole-request deadline of a catalogue download (snapshot or delta), however slowly
/// the server drips it: well inside the sync timer's 15-minute `TimeoutStartSec`.
pub const CATALOG_DEADLINE: Duration = Duration::from_secs(10 * 60);
/// Largest buffer reserved up front from a declared length, whatever the server says.
const MAX_PREALLOC: u64 = 8 * 1024 * 1024;

/// How to reach the platform.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL including the version prefix, e.g. `https://gw.example/terminal/v1` or
    /// `http://127.0.0.1:8080/v1` (plain HTTP only to loopback).
    pub base_url: String,
    /// PEM file of the CA to pin (only it is trusted); `None` uses the system roots.
    pub ca_file: Option<PathBuf>,
    /// HTTP(S) proxy URL; `None` connects directly.
    pub proxy: Option<String>,
    /// Connect and read timeout; also the whole-request limit for ordinary calls.
    pub timeout: Duration,
    /// The platform's catalogue signing key.
    pub catalog_key: VerifyingKey,
    /// Largest catalogue document accepted.
    pub max_catalog_bytes: u64,
}

impl ClientConfig {
    /// The profile's `[platform]` settings; `base_url` overrides the profile's (the demo
    /// passes its in-process simulator's address).
    pub fn from_profile(
        section: &PlatformSection,
        base_url: Option<&str>,
        catalog_key: VerifyingKey,
    ) -> Self {
        let non_empty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        Self {
            base_url: base_url.map_or_else(|| section.base_url.clone(), str::to_owned),
            ca_file: non_empty(&section.ca_file).map(PathBuf::from),
            proxy: non_empty(&section.proxy),
            timeout: Duration::from_secs(u64::from(section.timeout_secs)),
            catalog_key,
            max_catalog_bytes: DEFAULT_MAX_CATALOG_BYTES,
        }
    }
}

/// The credentials issued at registration. The secret never appears in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceCredentials {
    /// Device id (`x-ykb-device`).
    pub device_id: String,
    /// HMAC secret.
    pub secret: Vec<u8>,
}

impl std::fmt::Debug for DeviceCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCredentials")
            .field("device_id", &self.device_id)
            .finish_non_exhaustive()
    }
}

/// What a delta request found.
#[derive(Debug, Clone, PartialEq)]
pub enum DeltaAnswer {
    /// The changes since the cursor (verified).
    Delta(Box<CatalogDelta>),
    /// The platform no longer knows the cursor: a full snapshot is needed.
    Gone,
}

/// Progress of a download: bytes received and, when declared, the total.
pub type ByteProgress<'a> = &'a (dyn Fn(u64, Option<u64>) + Send + Sync);

/// The platform HTTP client. Cheap to share behind an `Arc`; safe to call concurrently.
pub struct PlatformClient {
    http: reqwest::Client,
    config: ClientConfig,
    creds: RwLock<Option<DeviceCredentials>>,
    /// Platform clock minus ours, seconds, learned from `clock_skew` refusals.
    clock_offset: AtomicI64,
    /// Path prefix of `base_url` (e.g. `/terminal/v1`), part of every signed path.
    base_path: String,
    /// Whole-request deadline of catalogue calls ([`CATALOG_DEADLINE`] unless set).
    catalog_deadline: Duration,
}

impl std::fmt::Debug for PlatformClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformClient")
            .field("base_url", &self.config.base_url)
            .finish_non_exhaustive()
    }
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl PlatformClient {
    /// Builds a client: rustls with the ring provider, the pinned CA if configured, the
    /// proxy if configured (never the environment's), timeouts from the profile.
    pub fn new(config: ClientConfig) -> Result<Self, PlatformError> {
        // Whichever provider is installed first stays; ours is ring either way.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let url = reqwest::Url::parse(&config.base_url).map_err(|e| {
            PlatformError::Unreachable(format!(
                "平台地址 {:?} 无效（{e}），请检查配置 platform.base_url",
                config.base_url
            ))
        })?;
        let host = url.host_str().unwrap_or_default();
        let loopback = host == "localhost"
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
            return Err(PlatformError::Unreachable(format!(
                "平台地址 {} 必须使用 https://（明文 http 只允许本机模拟平台）",
                config.base_url
            )));
        }
        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.timeout)
            .read_timeout(config.timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .user_agent(concat!("ykb-terminal/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &config.ca_file {
            let pem = std::fs::read(ca).map_err(|e| {
                PlatformError::Unreachable(format!(
                    "无法读取平台 CA 证书 {}（{e}），请检查配置 platform.ca_file",
                    ca.display()
                ))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                PlatformError::Unreachable(format!(
                    "平台 CA 证书 {} 不是有效的 PEM（{e}），请检查配置 platform.ca_file",
                    ca.display()
                ))
            })?;
            builder = builder.tls_certs_only(certs);
        }
        builder = match &config.proxy {
            Some(p) => builder.proxy(reqwest::Proxy::all(p).map_err(|e| {
                PlatformError::Unreachable(format!(
                    "代理地址 {p:?} 无效（{e}），请检查配置 platform.proxy"
                ))
            })?),
            None => builder.no_proxy(),
        };
        let http = builder
            .build()
            .map_err(|e| PlatformError::Unreachable(format!("无法建立 HTTPS 客户端：{e}")))?;
        let base_path = url.path().trim_end_matches('/').to_owned();
        Ok(Self {
            http,
            config,
            creds: RwLock::new(None),
            clock_offset: AtomicI64::new(0),
            base_path,
            catalog_deadline: CATALOG_DEADLINE,
        })
    }

    /// The same client with another whole-request deadline for catalogue downloads.
    pub fn with_catalog_deadline(mut self, deadline: Duration) -> Self {
        self.catalog_deadline = deadline;
        self
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Sets the credentials every later request is signed with.
    pub fn set_credentials(&self, creds: DeviceCredentials) {
        *self.creds.write().unwrap_or_else(|e| e.into_inner()) = Some(creds);
    }

    /// The credentials in use, if registered.
    pub fn credentials(&self) -> Option<DeviceCredentials> {
        self.creds.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The platform's clock minus ours, in seconds, as last learned (0 until a skew is seen).
    pub fn clock_offset_secs(&self) -> i64 {
        self.clock_offset.load(Ordering::Relaxed)
    }

    /// Registers the device with a one-time enrolment code and keeps the credentials.
    pub async fn register(
        &self,
        request: &wire::RegisterRequest,
    ) -> Result<DeviceCredentials, PlatformError> {
        use base64::Engine;
        let body =
            serde_json::to_vec(request).map_err(|e| PlatformError::Protocol(e.to_string()))?;
        let a = self
            .call(
                Method::POST,
                "/devices/register",
                body,
                &[],
                MAX_ANSWER_BYTES,
                false,
                None,
            )
            .await?;
        let r: wire::RegisterResponse = decode(&a.body)?;
        let secret = base64::engine::general_purpose::STANDARD
            .decode(&r.secret)
            .map_err(|_| PlatformError::Protocol("注册应答中的密钥不是 base64".into()))?;
        if secret.len() < 16 {
            return Err(PlatformError::Protocol("注册应答中的密钥过短".into()));
        }
        let creds = DeviceCredentials {
            device_id: r.device_id,
            secret,
        };
        self.set_credentials(creds.clone());
        Ok(creds)
    }

    /// Downloads and verifies a full catalogue snapshot for `region`.
    pub async fn catalog_snapshot(
        &self,
        region: &str,
        progress: Option<ByteProgress<'_>>,
    ) -> Result<CatalogSnapshot, PlatformError> {
        let path = format!("/catalog/snapshot?region={}", encode(region));
        let a = self.catalog_call(&path, progress).await?;
        let snap: CatalogSnapshot = decode(&a)?;
        if snap.format != wire::CATALOG_FORMAT {
            return Err(PlatformError::Protocol(format!(
                "目录格式版本 {} 不受支持（本程序支持 {}），请升级程序",
                snap.format,
                wire::CATALOG_FORMAT
            )));
        }
        Ok(snap)
    }

    /// Downloads and verifies the changes since `cursor`, or learns that a snapshot is needed.
    pub async fn catalog_delta(
        &self,
        region: &str,
        cursor: &str,
        progress: Option<ByteProgress<'_>>,
    ) -> Result<DeltaAnswer, PlatformError> {
        let path = format!(
            "/catalog/delta?region={}&since={}",
            encode(region),
            encode(cursor)
        );
        match self.catalog_call(&path, progress).await {
            Err(PlatformError::Rejected { status: 410, .. }) => Ok(DeltaAnswer::Gone),
            Err(e) => Err(e),
            Ok(body) => {
                let d: CatalogDelta = decode(&body)?;
                if d.format != wire::CATALOG_FORMAT {
                    return Err(PlatformError::Protocol(format!(
                        "目录格式版本 {} 不受支持，请升级程序",
                        d.format
                    )));
                }
                if d.from_cursor != cursor {
                    return Err(PlatformError::Protocol(format!(
                        "增量的起点 {} 与本机游标 {cursor} 不符",
                        d.from_cursor
                    )));
                }
                Ok(DeltaAnswer::Delta(Box::new(d)))
            }
        }
    }

    /// Which e-licence types a person holds (for 免提交).
    pub async fn licences(&self, id_number: &str) -> Result<wire::LicenceList, PlatformError> {
        let q = wire::LicenceQuery {
            id_number: id_number.to_owned(),
        };
        self.signed_json(Method::POST, "/licences/query", Some(&q))
            .await
    }

    /// One e-licence's printable copy (电子证照打印件) for the identified holder: the
    /// platform's masked display fields and a verification code (核验码) for the paper.
    pub async fn licence_document(
        &self,
        id_number: &str,
        licence_type: &str,
    ) -> Result<wire::LicenceDocument, LicenceDocumentError> {
        let q = wire::LicenceDocumentRequest {
            id_number: id_number.to_owned(),
            licence_type: licence_type.to_owned(),
        };
        self.signed_json(Method::POST, "/licences/document", Some(&q))
            .await
            .map_err(LicenceDocumentError::from)
    }

    /// A certificate (证明开具) for the identified person: the platform's signed PDF, not yet
    /// verified (see `core::certificate::verify`). The answer may be larger than other
    /// calls' (a PDF in base64), up to what [`wire::MAX_CERTIFICATE_PDF_BYTES`] allows.
    pub async fn certificate(
        &self,
        id_number: &str,
        task_code: &str,
    ) -> Result<wire::CertificateDocument, LicenceDocumentError> {
        let q = wire::CertificateRequest {
            id_number: id_number.to_owned(),
            task_code: task_code.to_owned(),
        };
        let body = serde_json::to_vec(&q).map_err(|e| PlatformError::Protocol(e.to_string()))?;
        let cap = (wire::MAX_CERTIFICATE_PDF_BYTES as u64) * 2 + 64 * 1024;
        let a = self
            .call(
                Method::POST,
                "/certificates/issue",
                body,
                &[],
                cap,
                true,
                None,
            )
            .await?;
        Ok(decode(&a.body)?)
    }

    /// The platform's Ed25519 verifying key: catalogues and certificates are signed with it.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.config.catalog_key
    }

    /// Which certificates (证明) the platform issues at terminals.
    pub async fn certificate_types(&self) -> Result<wire::CertificateTypes, PlatformError> {
        self.signed_json::<(), _>(Method::GET, "/certificates", None)
            .await
    }

    /// What the platform says of a 核验码 (what a QR on a printed certificate carries).
    pub async fn verify_certificate(
        &self,
        code: &str,
    ) -> Result<wire::CertificateCheck, PlatformError> {
        let code: String = code
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        self.signed_json::<(), _>(
            Method::GET,
            &format!("/certificates/verify?code={code}"),
            None,
        )
        .await
    }

    /// Exchanges a scanned 渝快码 token for the person it identifies (online only).
    pub async fn verify_ykm(&self, token: &str) -> Result<wire::YkmIdentity, PlatformError> {
        let q = wire::YkmVerifyRequest {
            token: token.to_owned(),
        };
        self.signed_json(Method::POST, "/ykm/verify", Some(&q))
            .await
    }

    /// 办件进度查询 by unified case code.
    pub async fn case_status(
        &self,
        unified_code: &str,
    ) -> Result<wire::CaseProgress, PlatformError> {
        let path = format!("/cases/{}/status", encode(unified_code));
        self.signed_json(Method::GET, &path, None::<&()>).await
    }

    /// Reports the terminal's state; learns the platform's clock and newest catalogue version.
    pub async fn heartbeat(
        &self,
        hb: &wire::Heartbeat,
    ) -> Result<wire::HeartbeatAck, PlatformError> {
        self.signed_json(Method::POST, "/heartbeat", Some(hb)).await
    }

    /// Sends a self-test report (no personal data); the platform keeps it for operations.
    pub async fn selftest_report(
        &self,
        report: &wire::SelftestReport,
    ) -> Result<wire::SelftestReceipt, PlatformError> {
        self.signed_json(Method::POST, "/devices/selftest", Some(report))
            .await
    }

    /// Uploads a diagnostics export (no personal data) for operations (the remote
    /// `collect-diagnostics` command).
    pub async fn upload_diagnostics(
        &self,
        export: &serde_json::Value,
    ) -> Result<wire::DiagnosticsReceipt, PlatformError> {
        self.signed_json(Method::POST, "/devices/diagnostics", Some(export))
            .await
    }

    /// The audit heads the platform anchored for this terminal (`audit verify --against-platform`).
    pub async fn audit_anchors(&self) -> Result<wire::AuditAnchors, PlatformError> {
        self.signed_json(Method::GET, "/devices/audit-anchors", None::<&()>)
            .await
    }

    /// Current and upcoming maintenance notices.
    pub async fn notices(&self) -> Result<wire::NoticeList, PlatformError> {
        self.signed_json(Method::GET, "/notices", None::<&()>).await
    }

    /// Leases a range of ticket numbers for one hall service and day (see
    /// `core::ticketing::top_up`, which checks the answer before storing it).
    pub async fn ticket_lease(
        &self,
        request: &wire::TicketLeaseRequest,
    ) -> Result<wire::TicketLease, PlatformError> {
        self.signed_json(Method::POST, "/tickets/leases", Some(request))
            .await
    }

    /// Asks for the payment order of a submitted case's fee items (公共支付). `key` is the
    /// idempotency key (`core::payment::order_key`): a retry gets the same order, and while
    /// an order of the case is pending or paid the platform answers with that one.
    pub async fn create_payment_order(
        &self,
        key: Uuid,
        request: &wire::PaymentOrderRequest,
    ) -> Result<wire::PaymentOrder, PlatformError> {
        let body =
            serde_json::to_vec(request).map_err(|e| PlatformError::Protocol(e.to_string()))?;
        let a = self
            .call(
                Method::POST,
                "/payments/orders",
                body,
                &[(wire::H_IDEMPOTENCY_KEY, key.to_string())],
                MAX_ANSWER_BYTES,
                true,
                None,
            )
            .await?;
        decode(&a.body)
    }

    /// A payment order's state; while it is pending the platform holds the answer up to
    /// `wait` (long-poll; capped at [`wire::MAX_PAYMENT_WAIT_SECS`] and below the request
    /// timeout).
    pub async fn payment_order(
        &self,
        order_id: &str,
        wait: Duration,
    ) -> Result<wire::PaymentOrder, PlatformError> {
        let wait = wait
            .min(self.config.timeout.saturating_sub(Duration::from_secs(1)))
            .as_secs()
            .min(wire::MAX_PAYMENT_WAIT_SECS);
        let path = format!("/payments/orders/{}?wait={wait}", encode(order_id));
        self.signed_json(Method::GET, &path, None::<&()>).await
    }

    /// Withdraws a pending order; the answer is the order's state after it (`paid` when
    /// the phone was faster).
    pub async fn cancel_payment_order(
        &self,
        order_id: &str,
    ) -> Result<wire::PaymentOrder, PlatformError> {
        let path = format!("/payments/orders/{}/cancel", encode(order_id));
        self.signed_json(Method::POST, &path, None::<&()>).await
    }

    /// A signed call with an optional JSON body and a JSON answer read under the usual cap.
    async fn signed_json<Q: serde::Serialize, A: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Q>,
    ) -> Result<A, PlatformError> {
        let body = match body {
            Some(b) => serde_json::to_vec(b).map_err(|e| PlatformError::Protocol(e.to_string()))?,
            None => Vec::new(),
        };
        let a = self
            .call(method, path, body, &[], MAX_ANSWER_BYTES, true, None)
            .await?;
        decode(&a.body)
    }

    /// A catalogue call: signed GET, large cap, Ed25519 verified before returning the bytes.
    async fn catalog_call(
        &self,
        path: &str,
        progress: Option<ByteProgress<'_>>,
    ) -> Result<Vec<u8>, PlatformError> {
        let a = self
            .call(
                Method::GET,
                path,
                Vec::new(),
                &[(
                    reqwest::header::ACCEPT_ENCODING.as_str(),
                    wire::CATALOG_ENCODING.to_owned(),
                )],
                self.config.max_catalog_bytes,
                true,
                progress,
            )
            .await?;
        let compressed = a
            .headers
            .get(reqwest::header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case(wire::CATALOG_ENCODING));
        let body = if compressed {
            wire::gunzip(&a.body, self.config.max_catalog_bytes)
                .map_err(|e| PlatformError::Protocol(format!("目录数据{e}")))?
        } else {
            a.body
        };
        let sig = a
            .headers
            .get(wire::H_CATALOG_SIGNATURE)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| PlatformError::Protocol("目录数据没有平台签名".into()))?;
        wire::verify_catalog(&self.config.catalog_key, &body, sig)
            .map_err(|e| PlatformError::Protocol(format!("目录数据签名无效：{e}")))?;
        Ok(body)
    }

    /// Sends one request (signed when `signed`), reads the answer under `cap` and classifies
    /// it, all within a whole-request deadline: the profile's timeout for ordinary calls
    /// (twice, for the one `clock_skew` retry), the catalogue deadline for catalogue
    /// documents. A server that drips its answer cannot hold a caller longer.
    #[allow(clippy::too_many_arguments)]
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, String)],
        cap: u64,
        signed: bool,
        progress: Option<ByteProgress<'_>>,
    ) -> Result<Answer, PlatformError> {
        let deadline = if cap <= MAX_ANSWER_BYTES {
            self.config.timeout.saturating_mul(2)
        } else {
            self.catalog_deadline
        };
        tokio::time::timeout(
            deadline,
            self.call_unbounded(method, path, body, headers, cap, signed, progress),
        )
        .await
        .unwrap_or(Err(PlatformError::Timeout))
    }

    /// [`Self::call`] without its deadline. A `clock_skew` refusal is retried once with the
    /// platform's clock.
    #[allow(clippy::too_many_arguments)]
    async fn call_unbounded(
        &self,
        method: Method,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, String)],
        cap: u64,
        signed: bool,
        progress: Option<ByteProgress<'_>>,
    ) -> Result<Answer, PlatformError> {
        let mut skew_retry = true;
        loop {
            let url = format!("{}{}", self.config.base_url.trim_end_matches('/'), path);
            let mut req = self.http.request(method.clone(), &url);
            if cap <= MAX_ANSWER_BYTES {
                req = req.timeout(self.config.timeout);
            }
            for (k, v) in headers {
                req = req.header(*k, v);
            }
            if signed {
                let creds = self.credentials().ok_or_else(|| PlatformError::Rejected {
                    status: 401,
                    reason: "终端尚未在平台注册，请先运行 ykb-terminal sync 或由运维人员注册"
                        .into(),
                })?;
                let ts = jiff::Timestamp::now().as_second() + self.clock_offset_secs();
                let nonce = Uuid::now_v7().simple().to_string();
                let signed_path = format!("{}{}", self.base_path, path);
                let sig = wire::sign_request(
                    &creds.secret,
                    method.as_str(),
                    &signed_path,
                    ts,
                    &nonce,
                    &body,
                );
                req = req
                    .header(wire::H_DEVICE, &creds.device_id)
                    .header(wire::H_TIMESTAMP, ts.to_string())
                    .header(wire::H_NONCE, nonce)
                    .header(wire::H_SIGNATURE, sig);
            }
            if !body.is_empty() {
                let ct = if headers.iter().any(|(k, _)| *k == wire::H_UPLOAD_OFFSET) {
                    "application/offset+octet-stream"
                } else {
                    "application/json"
                };
                req = req.header(reqwest::header::CONTENT_TYPE, ct);
            }
            let resp = req.body(body.clone()).send().await.map_err(classify_send)?;
            let status = resp.status();
            let headers_out = resp.headers().clone();
            self.note_server_time(&headers_out);
            let body_out = read_capped(resp, cap, progress).await?;
            if status.is_success() {
                return Ok(Answer {
                    status,
                    headers: headers_out,
                    body: body_out,
                });
            }
            let err_body: Option<ErrorBody> = serde_json::from_slice(&body_out).ok();
            if status == StatusCode::UNAUTHORIZED
                && skew_retry
                && err_body.as_ref().is_some_and(|b| b.code == "clock_skew")
                && self.adopt_server_clock(&headers_out)
            {
                skew_retry = false;
                continue;
            }
            return Err(classify_status(status, &headers_out, err_body));
        }
    }

    /// Logs a clock difference beyond the signing window once per change.
    fn note_server_time(&self, headers: &HeaderMap) {
        if let Some(server) = header_i64(headers, wire::H_SERVER_TIME) {
            let skew = server - jiff::Timestamp::now().as_second();
            if skew.abs() > wire::MAX_SKEW_SECS && skew != self.clock_offset_secs() {
                tracing::warn!(
                    skew_secs = skew,
                    "终端时钟与政务服务平台相差 {skew} 秒，超出 ±{} 秒；请校准终端时间（NTP）",
                    wire::MAX_SKEW_SECS
                );
            }
        }
    }

    fn adopt_server_clock(&self, headers: &HeaderMap) -> bool {
        match header_i64(headers, wire::H_SERVER_TIME) {
            Some(server) => {
                let offset = server - jiff::Timestamp::now().as_second();
                self.clock_offset.store(offset, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    async fn upload(
        &self,
        case_id: Uuid,
        material_id: &str,
        bytes: &[u8],
    ) -> Result<(), PlatformError> {
        let total = bytes.len() as u64;
        if total > wire::MAX_MATERIAL_BYTES {
            return Err(PlatformError::ItemRejected {
                status: 413,
                code: "material_too_large".into(),
                reason: format!(
                    "材料 {material_id} 大小 {total} 字节，超过平台上限 {} 字节",
                    wire::MAX_MATERIAL_BYTES
                ),
            });
        }
        let path = format!("/cases/{case_id}/materials/{}", encode(material_id));
        let mut offset = match self
            .call(
                Method::HEAD,
                &path,
                Vec::new(),
                &[],
                MAX_ANSWER_BYTES,
                true,
                None,
            )
            .await
        {
            Ok(a) => header_i64(&a.headers, wire::H_UPLOAD_OFFSET)
                .unwrap_or(0)
                .max(0) as u64,
            // A HEAD answer has no body: a 404 is the platform's "nothing yet".
            Err(PlatformError::Rejected { status: 404, .. })
            | Err(PlatformError::Gateway { status: 404, .. }) => 0,
            Err(e) => return Err(e),
        };
        if offset > total {
            return Err(PlatformError::ItemRejected {
                status: 409,
                code: "material_conflict".into(),
                reason: format!("平台已收到的材料 {material_id} 比本机的更长"),
            });
        }
        // Each round moves forward or fails; bounded so a confused server cannot loop us.
        let digest = wire::sha256_hex(bytes);
        let rounds = total / wire::UPLOAD_CHUNK_BYTES as u64 + 4;
        for _ in 0..rounds {
            let end = (offset + wire::UPLOAD_CHUNK_BYTES as u64).min(total);
            let chunk = bytes[offset as usize..end as usize].to_vec();
            let hdrs = [
                (wire::H_UPLOAD_OFFSET, offset.to_string()),
                (wire::H_UPLOAD_LENGTH, total.to_string()),
                (wire::H_UPLOAD_SHA256, digest.clone()),
            ];
            match self
                .call(
                    Method::PATCH,
                    &path,
                    chunk,
                    &hdrs,
                    MAX_ANSWER_BYTES,
                    true,
                    None,
                )
                .await
            {
                Ok(a) => {
                    let now = header_i64(&a.headers, wire::H_UPLOAD_OFFSET).ok_or_else(|| {
                        PlatformError::Protocol("上传应答缺少 Upload-Offset".into())
                    })? as u64;
                    if now >= total {
                        return Ok(());
                    }
                    offset = now;
                }
                Err(PlatformError::Rejected { status: 409, .. }) => {
                    // The platform holds a different amount: ask where to resume.
                    let a = self
                        .call(
                            Method::HEAD,
                            &path,
                            Vec::new(),
                            &[],
                            MAX_ANSWER_BYTES,
                            true,
                            None,
                        )
                        .await?;
                    offset = header_i64(&a.headers, wire::H_UPLOAD_OFFSET)
                        .unwrap_or(0)
                        .max(0) as u64;
                    if offset > total {
                        return Err(PlatformError::ItemRejected {
                            status: 409,
                            code: "material_conflict".into(),
                            reason: format!("平台已收到的材料 {material_id} 比本机的更长"),
                        });
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Err(PlatformError::Protocol(format!(
            "材料 {material_id} 上传未能推进，平台应答异常"
        )))
    }
}

impl Platform for PlatformClient {
    async fn upload_material(
        &self,
        case_id: Uuid,
        material_id: &str,
        bytes: &[u8],
    ) -> Result<(), PlatformError> {
        self.upload(case_id, material_id, bytes).await
    }

    async fn submit_case(&self, key: Uuid, body: &[u8]) -> Result<CaseAck, PlatformError> {
        let a = self
            .call(
                Method::POST,
                "/cases",
                body.to_vec(),
                &[(wire::H_IDEMPOTENCY_KEY, key.to_string())],
                MAX_ANSWER_BYTES,
                true,
                None,
            )
            .await?;
        let _ = a.status;
        decode(&a.body)
    }

    async fn submit_event(&self, key: Uuid, kind: &str, body: &[u8]) -> Result<(), PlatformError> {
        let path = format!("/events/{}", encode(kind));
        self.call(
            Method::POST,
            &path,
            body.to_vec(),
            &[(wire::H_IDEMPOTENCY_KEY, key.to_string())],
            MAX_ANSWER_BYTES,
            true,
            None,
        )
        .await
        .map(|_| ())
    }
}

/// Reads a body chunk by chunk, refusing more than `cap` bytes; never reserves more than a
/// small buffer from what the server declares. A body cut short is a server fault.
async fn read_capped(
    mut resp: reqwest::Response,
    cap: u64,
    progress: Option<ByteProgress<'_>>,
) -> Result<Vec<u8>, PlatformError> {
    let status = resp.status().as_u16();
    let declared = resp.content_length();
    if let Some(n) = declared {
        if n > cap {
            return Err(PlatformError::Protocol(format!(
                "应答声明长度 {n} 字节，超过上限 {cap} 字节"
            )));
        }
    }
    let mut out = Vec::with_capacity(declared.unwrap_or(0).min(cap).min(MAX_PREALLOC) as usize);
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => {
                if out.len() as u64 + c.len() as u64 > cap {
                    return Err(PlatformError::Protocol(format!(
                        "应答超过上限 {cap} 字节，已停止接收"
                    )));
                }
                out.extend_from_slice(&c);
                if let Some(p) = progress {
                    p(out.len() as u64, declared);
                }
            }
            Ok(None) => break,
            Err(e) if e.is_timeout() => return Err(PlatformError::Timeout),
            Err(_) => {
                return Err(PlatformError::Server {
                    status,
                    retry_after: None,
                })
            }
        }
    }
    if declared.is_some_and(|n| n != out.len() as u64) {
        return Err(PlatformError::Server {
            status,
            retry_after: None,
        });
    }
    Ok(out)
}

fn classify_send(e: reqwest::Error) -> PlatformError {
    if e.is_timeout() {
        PlatformError::Timeout
    } else if e.is_connect() {
        PlatformError::Unreachable(root_cause(&e))
    } else {
        // Reset, closed before an answer, TLS failure after connect.
        PlatformError::Unreachable(root_cause(&e))
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg = s.to_string();
        src = s.source();
    }
    msg
}

fn classify_status(
    status: StatusCode,
    headers: &HeaderMap,
    body: Option<ErrorBody>,
) -> PlatformError {
    let retry_after = headers.get(RETRY_AFTER).and_then(parse_retry_after);
    let code = status.as_u16();
    if status == StatusCode::TOO_MANY_REQUESTS {
        PlatformError::RateLimited { retry_after }
    } else if status.is_server_error() {
        PlatformError::Server {
            status: code,
            retry_after,
        }
    } else {
        match body {
            // Not the platform's answer: a proxy's page, an empty body, another service.
            None => PlatformError::Gateway {
                status: code,
                detail: format!(
                    "{}，{}",
                    status.canonical_reason().unwrap_or("未说明原因"),
                    headers
                        .get(reqwest::header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .filter(|v| !v.is_empty())
                        .unwrap_or("无内容类型")
                ),
            },
            Some(b) if ITEM_REJECTION_CODES.contains(&b.code.as_str()) => {
                PlatformError::ItemRejected {
                    status: code,
                    reason: format!("{}（{}）", b.message, b.code),
                    code: b.code,
                }
            }
            Some(b) => PlatformError::Rejected {
                status: code,
                reason: format!("{}（{}）", b.message, b.code),
            },
        }
    }
}

/// `Retry-After`: delay-seconds or an HTTP date.
fn parse_retry_after(v: &HeaderValue) -> Option<Duration> {
    let s = v.to_str().ok()?.trim();
    if let Ok(secs) = s.parse::<u64>() {
        return Some(Duration::from_secs(secs.min(24 * 3600)));
    }
    let when = jiff::fmt::rfc2822::parse(s).ok()?.timestamp();
    let secs = when.as_second() - jiff::Timestamp::now().as_second();
    Some(Duration::from_secs(secs.clamp(0, 24 * 3600) as u64))
}

fn header_i64(headers: &HeaderMap, name: &str) -> Option<i64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, PlatformError> {
    serde_json::from_slice(body)
        .map_err(|e| PlatformError::Protocol(format!("应答不是约定的 JSON：{e}")))
}

/// Percent-encodes a path segment or query value (RFC 3986 unreserved kept).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_caps_them() {
        assert_eq!(
            parse_retry_after(&HeaderValue::from_static("7")),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after(&HeaderValue::from_static("99999999")),
            Some(Duration::from_secs(24 * 3600))
        );
        assert_eq!(parse_retry_after(&HeaderValue::from_static("soon")), None);
    }

    #[test]
    fn plain_http_is_refused_except_to_loopback() {
        let cfg = |url: &str| ClientConfig {
            base_url: url.into(),
            ca_file: None,
            proxy: None,
            timeout: Duration::from_secs(5),
            catalog_key: wire::demo_verifying_key(),
            max_catalog_bytes: 1,
        };
        assert!(PlatformClient::new(cfg("http://127.0.0.1:9/v1")).is_ok());
        assert!(PlatformClient::new(cfg("http://gw.example/v1")).is_err());
        assert!(PlatformClient::new(cfg("https://gw.example/v1")).is_ok());
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(encode("m_hukou-1.x"), "m_hukou-1.x");
        assert_eq!(encode("a/b c"), "a%2Fb%20c");
    }
}
