//! The wire format of the contract in `api/openapi.yaml`: header names, request signing
//! (device HMAC-SHA256), catalogue signatures (platform Ed25519) and the JSON documents both
//! sides exchange. Pure functions and plain types: the HTTP client and the simulator share
//! them, so the two cannot drift apart silently.

use std::collections::BTreeMap;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::core::domain::{Bundle, LocalElements, Matter, Person};

/// Version prefix of every signed route.
pub const API_PREFIX: &str = "/v1";
/// Device id issued at registration.
pub const H_DEVICE: &str = "x-ykb-device";
/// Unix seconds when the request was signed.
pub const H_TIMESTAMP: &str = "x-ykb-timestamp";
/// A value never reused by this device.
pub const H_NONCE: &str = "x-ykb-nonce";
/// Hex HMAC-SHA256 of the canonical request.
pub const H_SIGNATURE: &str = "x-ykb-signature";
/// Unix seconds on the platform's clock, on every answer (for skew detection).
pub const H_SERVER_TIME: &str = "x-ykb-server-time";
/// Base64 Ed25519 signature of a catalogue document's exact bytes.
pub const H_CATALOG_SIGNATURE: &str = "x-ykb-catalog-signature";
/// Idempotency key of a case or event (the UUIDv7 of the case or event).
pub const H_IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Resumable upload: bytes the platform already holds / the chunk starts at.
pub const H_UPLOAD_OFFSET: &str = "upload-offset";
/// Resumable upload: the material's total size in bytes.
pub const H_UPLOAD_LENGTH: &str = "upload-length";

/// Resumable upload: hex SHA-256 of the whole material, on every chunk, so a replay with
/// different content is refused rather than silently mixed.
pub const H_UPLOAD_SHA256: &str = "upload-sha256";

/// Requests whose timestamp differs from the platform's clock by more are refused.
pub const MAX_SKEW_SECS: i64 = 300;
/// Largest material the platform accepts (20 MiB).
pub const MAX_MATERIAL_BYTES: u64 = 20 * 1024 * 1024;
/// Largest chunk of one upload request (1 MiB).
pub const UPLOAD_CHUNK_BYTES: usize = 1024 * 1024;
/// Version of the catalogue document format.
pub const CATALOG_FORMAT: u32 = 1;

/// The demo platform's Ed25519 seed. **DEMO ONLY** — it is public, in this repository, and
/// signs only what the simulator serves; a real deployment configures the platform's own
/// verifying key.
pub const DEMO_CATALOG_SEED: [u8; 32] = *b"ykb-terminal DEMO ONLY key seed!";

/// The demo platform's signing key (simulator only).
pub fn demo_signing_key() -> SigningKey {
    SigningKey::from_bytes(&DEMO_CATALOG_SEED)
}

/// The verifying key matching [`demo_signing_key`]: what a demo terminal trusts.
pub fn demo_verifying_key() -> VerifyingKey {
    demo_signing_key().verifying_key()
}

/// Parses a verifying key from 64 hex digits (the format of `platform-catalog.pub`).
pub fn verifying_key_from_hex(text: &str) -> Result<VerifyingKey, String> {
    let bytes = hex::decode(text.trim()).map_err(|e| format!("不是十六进制：{e}"))?;
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| "公钥应为 32 字节（64 个十六进制字符）".to_owned())?;
    VerifyingKey::from_bytes(&arr).map_err(|e| format!("不是有效的 Ed25519 公钥：{e}"))
}

/// The string a device signs: method, path with query, timestamp, nonce, body hash.
pub fn canonical_request(
    method: &str,
    path_and_query: &str,
    timestamp: i64,
    nonce: &str,
    body: &[u8],
) -> String {
    format!(
        "{}\n{}\n{}\n{}\n{}",
        method.to_ascii_uppercase(),
        path_and_query,
        timestamp,
        nonce,
        hex::encode(Sha256::digest(body))
    )
}

/// Hex HMAC-SHA256 of the canonical request under the device secret.
pub fn sign_request(
    secret: &[u8],
    method: &str,
    path_and_query: &str,
    timestamp: i64,
    nonce: &str,
    body: &[u8],
) -> String {
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(canonical_request(method, path_and_query, timestamp, nonce, body).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Checks a request signature in constant time.
pub fn verify_request(
    secret: &[u8],
    method: &str,
    path_and_query: &str,
    timestamp: i64,
    nonce: &str,
    body: &[u8],
    signature_hex: &str,
) -> bool {
    let Ok(sig) = hex::decode(signature_hex) else {
        return false;
    };
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(canonical_request(method, path_and_query, timestamp, nonce, body).as_bytes());
    mac.verify_slice(&sig).is_ok()
}

/// Catalogue documents travel gzip-compressed when the terminal offers it
/// (`Accept-Encoding: gzip`) and the platform answers `Content-Encoding: gzip`; the
/// signature is always over the uncompressed document.
pub const CATALOG_ENCODING: &str = "gzip";

/// Compresses a catalogue document (platform side).
pub fn gzip(body: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = e.write_all(body);
    e.finish().unwrap_or_default()
}

/// Decompresses a gzip document, refusing one that would exceed `cap` bytes (a small answer
/// cannot expand into a full disk).
pub fn gunzip(body: &[u8], cap: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut out = Vec::with_capacity(body.len().saturating_mul(4));
    flate2::read::GzDecoder::new(body)
        .take(cap.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| format!("解压失败：{e}"))?;
    if out.len() as u64 > cap {
        return Err(format!("解压后超过上限 {cap} 字节"));
    }
    Ok(out)
}

/// Signs a catalogue document's exact bytes (platform side).
pub fn sign_catalog(key: &SigningKey, body: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(key.sign(body).to_bytes())
}

/// Verifies a catalogue document's signature before anything parses or stores it.
pub fn verify_catalog(key: &VerifyingKey, body: &[u8], signature_b64: &str) -> Result<(), String> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(signature_b64.trim())
        .map_err(|_| "签名不是 base64".to_owned())?;
    let arr: [u8; 64] = raw
        .try_into()
        .map_err(|_| "签名长度不是 64 字节".to_owned())?;
    key.verify(body, &Signature::from_bytes(&arr))
        .map_err(|_| "签名与内容不符（内容被篡改或公钥不匹配）".to_owned())
}

/// A district's own values for one matter (§9: window address, hours and phone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistrictElements {
    /// The matter's task code.
    pub task_code: String,
    /// The district these values belong to.
    pub region_code: String,
    /// The values that replace the city-wide ones.
    pub local: LocalElements,
}

/// One matter as published: the matter itself and how often citizens use it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedMatter {
    /// The matter (its `local` holds the city-wide values).
    pub matter: Matter,
    /// Relative popularity (handled cases over the last period), for ranking.
    #[serde(default)]
    pub popularity: u64,
}

/// A full catalogue snapshot (`GET /v1/catalog/snapshot`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogSnapshot {
    /// Always [`CATALOG_FORMAT`].
    pub format: u32,
    /// Opaque position to ask deltas from.
    pub cursor: String,
    /// Monotonic catalogue version.
    pub version: u64,
    /// RFC 3339 publication time.
    pub published_at: String,
    /// Every matter.
    pub matters: Vec<PublishedMatter>,
    /// Every 一件事 bundle.
    #[serde(default)]
    pub bundles: Vec<Bundle>,
    /// District values for the requesting device's region.
    #[serde(default)]
    pub district: Vec<DistrictElements>,
}

/// Changes since a cursor (`GET /v1/catalog/delta?since=…`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogDelta {
    /// Always [`CATALOG_FORMAT`].
    pub format: u32,
    /// The cursor this delta starts from (must equal the terminal's).
    pub from_cursor: String,
    /// The cursor after applying it.
    pub cursor: String,
    /// The catalogue version after applying it.
    pub version: u64,
    /// RFC 3339 publication time of that version.
    pub published_at: String,
    /// Matters added or changed.
    #[serde(default)]
    pub upserts: Vec<PublishedMatter>,
    /// Task codes of matters withdrawn.
    #[serde(default)]
    pub removals: Vec<String>,
    /// Bundles added or changed.
    #[serde(default)]
    pub bundle_upserts: Vec<Bundle>,
    /// Codes of bundles withdrawn.
    #[serde(default)]
    pub bundle_removals: Vec<String>,
    /// District values added or changed for the device's region.
    #[serde(default)]
    pub district_upserts: Vec<DistrictElements>,
    /// Task codes whose district values were withdrawn (the city-wide values apply again).
    #[serde(default)]
    pub district_removals: Vec<String>,
}

impl CatalogDelta {
    /// How many items the delta changes (for progress reporting).
    pub fn len(&self) -> usize {
        self.upserts.len()
            + self.removals.len()
            + self.bundle_upserts.len()
            + self.bundle_removals.len()
            + self.district_upserts.len()
            + self.district_removals.len()
    }

    /// Whether the delta changes nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `POST /v1/devices/register` request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// One-time enrolment code issued to the technician.
    pub enrolment_code: String,
    /// Region the terminal stands in.
    pub region_code: String,
    /// Terminal kind (kiosk, counter, bank, post, hall-display).
    pub terminal_kind: String,
    /// Human-readable terminal name.
    pub name: String,
}

impl RegisterRequest {
    /// The request for the terminal a profile describes, with a one-time enrolment code.
    pub fn for_terminal(t: &crate::core::config::TerminalSection, enrolment_code: &str) -> Self {
        Self {
            enrolment_code: enrolment_code.trim().to_owned(),
            region_code: t.region_code.as_str().to_owned(),
            terminal_kind: t.kind.as_str().to_owned(),
            name: t.name.clone(),
        }
    }
}

/// `POST /v1/devices/register` answer: the credentials every later request is signed with.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterResponse {
    /// The device id for `x-ykb-device`.
    pub device_id: String,
    /// Base64 HMAC secret (32 bytes).
    pub secret: String,
    /// Hex Ed25519 key the platform signs catalogues with (informational; the terminal
    /// trusts its configured key, never this one).
    pub catalog_key: String,
}

impl std::fmt::Debug for RegisterResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisterResponse")
            .field("device_id", &self.device_id)
            .finish_non_exhaustive()
    }
}

/// An error body: a machine code and a zh-CN message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable machine-readable code (e.g. `idempotency_conflict`, `clock_skew`).
    pub code: String,
    /// What happened, in words for people.
    pub message: String,
}

/// `POST /v1/licences/query` request: whose e-licences to look up.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenceQuery {
    /// The 18-digit ID number.
    pub id_number: String,
}

/// One e-licence (电子证照) a person holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Licence {
    /// Licence type, as named in materials' `exempted_by_licence` (e.g. 居民户口簿).
    pub licence_type: String,
    /// Licence number, masked.
    pub number_masked: String,
}

/// `POST /v1/licences/query` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenceList {
    /// The licences found (possibly none).
    pub licences: Vec<Licence>,
}

/// `POST /v1/licences/document` request: one e-licence's printable copy for the person
/// identified at the terminal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenceDocumentRequest {
    /// The 18-digit ID number of the identified person (the holder).
    pub id_number: String,
    /// The licence type, as `POST /v1/licences/query` named it (e.g. 居民户口簿).
    pub licence_type: String,
}

/// One label/value line of an e-licence, masked by the platform as policy requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenceField {
    pub label: String,
    pub value: String,
}

/// `POST /v1/licences/document` answer: what a printed copy (电子证照打印件) shows. Every
/// identifier in it is masked by the platform; the verification code (核验码) lets anyone
/// holding the paper check it against the platform, where the unmasked licence lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenceDocument {
    /// The licence type (e.g. 居民户口簿).
    pub licence_type: String,
    /// The holder's name, masked (李*).
    pub holder_name_masked: String,
    /// The licence number, masked.
    pub number_masked: String,
    /// 发证机关.
    pub issuer: String,
    /// 发证日期 (YYYY-MM-DD).
    pub issued_on: String,
    /// 有效期至 (YYYY-MM-DD), or 长期.
    pub valid_until: String,
    /// Further lines of the licence, already masked.
    pub fields: Vec<LicenceField>,
    /// 核验码: what the printout carries (as text and as a QR code).
    pub verification_code: String,
    /// Where the code can be checked (the QR code's content).
    pub verification_url: String,
    /// Until when (RFC 3339) the code verifies this copy.
    pub verification_expires_at: String,
}

/// Largest PDF of a certificate (证明) the terminal accepts; a bigger one is never printed.
pub const MAX_CERTIFICATE_PDF_BYTES: usize = 4 * 1024 * 1024;

/// One certificate a terminal may issue (证明开具).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateType {
    /// The 实施编码 of its matter.
    pub task_code: String,
    /// Its name (e.g. 无犯罪记录证明).
    pub title: String,
}

/// `GET /v1/certificates` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateTypes {
    /// What the platform issues at terminals.
    pub certificates: Vec<CertificateType>,
}

/// `POST /v1/certificates/issue` request: a certificate (证明开具) for the person identified
/// at the terminal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateRequest {
    /// The 18-digit ID number of the identified person.
    pub id_number: String,
    /// The certificate, by the 实施编码 of its matter in the catalogue.
    pub task_code: String,
}

/// `POST /v1/certificates/issue` answer: the certificate as the platform issued it — a PDF
/// signed with the platform's Ed25519 key (the catalogue's), carrying a QR 核验码.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateDocument {
    /// Its name (e.g. 社会保险参保证明).
    pub title: String,
    /// The PDF, base64.
    pub pdf_base64: String,
    /// Ed25519 over the PDF's exact bytes, base64 (as catalogue signatures).
    pub signature: String,
    /// 核验码, also in the PDF as text and QR code.
    pub verification_code: String,
    /// Where the code is checked (the QR code's content).
    pub verification_url: String,
    /// Pages the PDF has.
    pub pages: u32,
}

/// `GET /v1/certificates/verify?code=` answer (public, unsigned): what a 核验码 proves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateCheck {
    /// Whether the platform issued a certificate with this code.
    pub valid: bool,
    /// Its name, when valid.
    pub title: String,
    /// The holder's name, masked, when valid.
    pub holder_name_masked: String,
    /// When it was issued (RFC 3339), when valid.
    pub issued_at: String,
}

/// `POST /v1/ykm/verify` request: a 渝快码 token scanned at the terminal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YkmVerifyRequest {
    /// The opaque token from the citizen's phone.
    pub token: String,
}

/// `POST /v1/ykm/verify` answer: whom the token identifies.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YkmIdentity {
    /// The person.
    pub person: Person,
    /// RFC 3339 expiry of the token.
    pub expires_at: String,
}

/// 办件进度 — a case's progress on the platform (`GET /v1/cases/{unified_code}/status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseProgress {
    /// 统一赋码.
    pub unified_code: String,
    /// Current status: accepted, in_review, approved, rejected, completed.
    pub status: String,
    /// RFC 3339 time of the last change.
    pub updated_at: String,
    /// Status history, oldest first.
    pub history: Vec<ProgressStep>,
    /// The fee (公共支付): `unpaid` (待缴费) or `paid` (已缴费); absent for a free matter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_status: Option<FeeStatus>,
    /// 寄递运单号: the result was posted (邮寄到家) and this is its waybill; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waybill: Option<String>,
}

/// Whether a case's fee has been paid, by the platform's own record of its payment orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeStatus {
    /// 待缴费: no order of the case was paid (yet).
    Unpaid,
    /// 已缴费.
    Paid,
}

/// One fee item of a payment order: the catalogue's name and amount in fen (分), never a
/// float.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentItem {
    /// The catalogue's 收费项目 name.
    pub name: String,
    /// Amount in fen.
    pub amount_fen: u64,
}

/// `POST /v1/payments/orders` request (with an `Idempotency-Key`): an order for a submitted
/// case's fee items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentOrderRequest {
    /// The case's 统一办件编码.
    pub case_code: String,
    /// The fee items, as the catalogue names them.
    pub items: Vec<PaymentItem>,
}

/// The state of a payment order. `pending` is the only state that changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentState {
    /// Waiting for the citizen's phone to pay.
    Pending,
    /// Paid: `payment_no` and `fiscal_receipt_url` are set.
    Paid,
    /// Not paid before `expires_at`.
    Expired,
    /// Withdrawn by the terminal before it was paid.
    Cancelled,
}

/// A payment order as the platform holds it. Nothing of the payer's account is in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentOrder {
    /// The platform's order id.
    pub order_id: String,
    /// The case it is for (统一办件编码).
    pub case_code: String,
    /// The items it charges.
    pub items: Vec<PaymentItem>,
    /// Their total, in fen.
    pub amount_fen: u64,
    /// 收款单位.
    pub payee: String,
    /// What the payment QR carries: an https URL of the platform.
    pub qr_url: String,
    /// RFC 3339 time after which a pending order expires.
    pub expires_at: String,
    pub state: PaymentState,
    /// 支付流水号, once paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_no: Option<String>,
    /// What the QR of the 财政电子票据 carries, once paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fiscal_receipt_url: Option<String>,
}

/// Longest long-poll a terminal asks for on `GET /v1/payments/orders/{id}?wait=`.
pub const MAX_PAYMENT_WAIT_SECS: u64 = 25;

/// One step of a case's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgressStep {
    /// Status entered.
    pub status: String,
    /// RFC 3339 time.
    pub at: String,
    /// Optional remark for the citizen.
    #[serde(default)]
    pub note: String,
}

/// `POST /v1/heartbeat` request: how the terminal is doing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// Catalogue version held.
    pub catalog_version: u64,
    /// Outbox rows waiting.
    pub outbox_pending: u64,
    /// Device states by slot (id_reader, printer, …).
    #[serde(default)]
    pub devices: BTreeMap<String, String>,
    /// This build's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    /// Outbox rows the platform rejected and staff must look at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbox_dead: Option<u64>,
    /// Outbox rows set aside because they could not be read or unsealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbox_quarantined: Option<u64>,
    /// Whether the outbox's circuit breaker holds the queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbox_paused: Option<bool>,
    /// Age of the oldest waiting outbox row, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_pending_age_secs: Option<u64>,
    /// Free bytes on the data directory's file system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_free_bytes: Option<u64>,
    /// Platform clock minus the terminal's, seconds, as last seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_skew_secs: Option<i64>,
    /// The head of the terminal's audit chain, which the platform keeps so that a chain
    /// rewritten on the terminal no longer matches it (`audit verify --against-platform`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_head: Option<AuditHead>,
    /// Results of remote commands not yet acknowledged (the platform stops resending a
    /// command once its result arrived).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command_results: Vec<CommandResult>,
    /// Receipt paper: the estimate from printed length against the roll (`None` when the
    /// terminal has no receipt printer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper: Option<PaperUse>,
    /// Software updates: the installed version, the last update's outcome and what a
    /// rollout waits for (`None` when updates are off in the profile).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<crate::core::update::UpdateState>,
}

/// Receipt paper use as the terminal estimates it from what it printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperUse {
    /// Millimetres printed since the roll was last replaced.
    pub used_mm: u64,
    /// The roll's length (`devices.printer.roll_length_mm`).
    pub roll_mm: u64,
    /// Jobs printed since the roll was replaced.
    pub jobs: u64,
    /// Rolls replaced (counter resets in 维护模式) since the store was created.
    pub rolls_replaced: u64,
    /// The estimate says the roll is near its end (before the printer's sensor says so).
    pub near_end: bool,
}

/// Version tag at the head of a command's canonical encoding.
pub const COMMAND_FORMAT: &str = "ykb-command-v1";

/// A remote operations command, carried in a heartbeat answer and signed by the platform
/// (Ed25519, the catalogue key) over [`command_canonical`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpsCommand {
    /// The platform's id for the command; a terminal executes an id at most once.
    pub id: String,
    /// The terminal it is meant for (the device id issued at registration).
    pub device_id: String,
    /// `resync`, `selftest`, `collect-diagnostics`, `maintenance`, `restart`,
    /// `retry-dead-letters`.
    pub name: String,
    /// The argument, where the command takes one (`maintenance`: `on` or `off`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arg: Option<String>,
    /// Unix seconds when the platform issued it.
    pub issued_at: i64,
    /// Unix seconds after which it must not be executed.
    pub expires_at: i64,
    /// Base64 Ed25519 signature of [`command_canonical`].
    pub signature: String,
}

/// The exact bytes a command's signature covers: a compact JSON array of the format tag and
/// every field but the signature, in a fixed order (an array cannot be reordered or have a
/// field bleed into the next).
pub fn command_canonical(c: &OpsCommand) -> Vec<u8> {
    serde_json::json!([
        COMMAND_FORMAT,
        c.id,
        c.device_id,
        c.name,
        c.arg,
        c.issued_at,
        c.expires_at
    ])
    .to_string()
    .into_bytes()
}

/// Signs a command (platform side): fills in `signature`.
pub fn sign_command(key: &SigningKey, c: &mut OpsCommand) {
    c.signature = sign_catalog(key, &command_canonical(c));
}

/// Whether a command's signature is the platform's over its canonical bytes.
pub fn verify_command(key: &VerifyingKey, c: &OpsCommand) -> Result<(), String> {
    verify_catalog(key, &command_canonical(c), &c.signature)
}

/// What became of a command, reported on the next heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandResult {
    /// The command's id.
    pub id: String,
    /// `done`, `failed` or `refused`.
    pub outcome: String,
    /// What happened, or why it was refused (zh-CN; never personal data).
    pub detail: String,
    /// Unix seconds when the terminal finished with it.
    pub at: i64,
}

/// `POST /v1/devices/diagnostics` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiagnosticsReceipt {
    /// The platform's id for the stored export.
    pub report_id: String,
    /// Bytes received.
    pub bytes: u64,
}

/// The last entry of a terminal's audit chain: its sequence number and hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditHead {
    /// Sequence number of the last entry (from 1).
    pub seq: u64,
    /// Its SHA-256, hex.
    pub hash: String,
}

/// `GET /v1/devices/audit-anchors` answer: every distinct audit head the platform received
/// from the signing device (heartbeats and self-test reports), oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditAnchors {
    /// The heads, by the order received.
    pub anchors: Vec<AuditAnchor>,
}

/// One audit head as the platform received it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditAnchor {
    /// Sequence number of the head.
    pub seq: u64,
    /// Its hash.
    pub hash: String,
    /// When the platform received it first (RFC 3339).
    pub received_at: String,
}

/// `POST /v1/heartbeat` answer. Unknown fields are ignored (not refused), so the platform can
/// add to its answer without breaking terminals in the field (`api/openapi.yaml` says so).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatAck {
    /// Platform clock, Unix seconds.
    pub server_time: i64,
    /// The newest catalogue version (sync when it differs).
    pub catalog_version: u64,
    /// Commands for this terminal not yet acknowledged, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<OpsCommand>,
    /// The version this terminal should run (`core::update::decide`); absent: no rollout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<crate::core::update::Rollout>,
}

/// One check of a self-test report, as the platform receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelftestCheck {
    /// Stable check id (`id_reader`, `printer`, `disk`, `platform`, `clock`, `ca_cert`, …).
    pub id: String,
    /// `pass`, `warn`, `fail` or `skipped`.
    pub outcome: String,
    /// What was found (zh-CN; never personal data).
    pub detail: String,
    /// What the technician was told to do, when not passing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advice: Option<String>,
}

/// `POST /v1/devices/selftest` request: a self-test's result, without personal data (the
/// test card's contents never leave the reader check).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelftestReport {
    /// When the test ran (RFC 3339).
    pub at: String,
    /// This build's version.
    pub app_version: String,
    /// No check failed.
    pub passed: bool,
    /// The checks, in the order run.
    pub checks: Vec<SelftestCheck>,
    /// The terminal's health at the time, as in a heartbeat.
    pub health: Heartbeat,
}

/// `POST /v1/devices/selftest` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelftestReceipt {
    /// The platform's id for the stored report (for technicians talking to operations).
    pub report_id: String,
    /// When the platform stored it (RFC 3339).
    pub received_at: String,
}

/// A maintenance notice (§27: planned downtime is announced in advance).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notice {
    /// Notice id.
    pub id: String,
    /// Title for the screen.
    pub title: String,
    /// Text for the screen.
    pub message: String,
    /// RFC 3339 start of the downtime.
    pub starts_at: String,
    /// RFC 3339 end of the downtime.
    pub ends_at: String,
}

/// `GET /v1/notices` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeList {
    /// Current and upcoming notices.
    pub notices: Vec<Notice>,
}

/// `POST /v1/tickets/leases` request: a range of ticket numbers for one hall service and day,
/// so terminals issuing offline never hand out the same number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketLeaseRequest {
    /// The hall's id (`ticketing.hall`), the same on every terminal of the hall.
    pub hall: String,
    /// The service's letter (A–Z).
    pub service: String,
    /// The civil day (hall time) the numbers are for, `YYYY-MM-DD`.
    pub date: String,
    /// How many numbers the terminal asks for (1–999).
    pub count: u32,
    /// The service's daily cap: no number above it is leased.
    pub daily_cap: u32,
}

/// `POST /v1/tickets/leases` answer: numbers `first..=last` belong to the asking terminal
/// alone; ranges for one (hall, service, date) never overlap. Possibly fewer than asked
/// near the cap; 409 `ticket_cap_reached` once the cap is leased out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketLease {
    /// As requested.
    pub hall: String,
    /// As requested.
    pub service: String,
    /// As requested.
    pub date: String,
    /// First number of the range (≥ 1).
    pub first: u32,
    /// Last number of the range (≤ the daily cap).
    pub last: u32,
}

/// Where a SHA-256 hex digest is needed by both sides (material integrity).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_round_trips_and_a_document_expanding_past_the_cap_is_refused() {
        let doc = r#"{"matters":["身份证"]}"#.repeat(1000).into_bytes();
        let z = gzip(&doc);
        assert!(z.len() * 10 < doc.len(), "{} → {}", doc.len(), z.len());
        assert_eq!(gunzip(&z, doc.len() as u64).unwrap(), doc);
        let e = gunzip(&z, doc.len() as u64 - 1).unwrap_err();
        assert!(e.contains("超过上限"), "{e}");
        assert!(gunzip(b"not gzip", 1024)
            .unwrap_err()
            .starts_with("解压失败"));
    }

    #[test]
    fn request_signature_covers_every_part() {
        let s = sign_request(b"k", "POST", "/v1/cases", 100, "n1", b"{}");
        assert!(verify_request(
            b"k",
            "POST",
            "/v1/cases",
            100,
            "n1",
            b"{}",
            &s
        ));
        assert!(!verify_request(
            b"k",
            "POST",
            "/v1/cases",
            101,
            "n1",
            b"{}",
            &s
        ));
        assert!(!verify_request(
            b"k",
            "POST",
            "/v1/cases",
            100,
            "n2",
            b"{}",
            &s
        ));
        assert!(!verify_request(
            b"k",
            "GET",
            "/v1/cases",
            100,
            "n1",
            b"{}",
            &s
        ));
        assert!(!verify_request(
            b"k", "POST", "/v1/case", 100, "n1", b"{}", &s
        ));
        assert!(!verify_request(
            b"k",
            "POST",
            "/v1/cases",
            100,
            "n1",
            b"{ }",
            &s
        ));
        assert!(!verify_request(
            b"x",
            "POST",
            "/v1/cases",
            100,
            "n1",
            b"{}",
            &s
        ));
        assert!(!verify_request(
            b"k",
            "POST",
            "/v1/cases",
            100,
            "n1",
            b"{}",
            "zz"
        ));
    }

    #[test]
    fn catalogue_signature_detects_any_changed_byte() {
        let key = demo_signing_key();
        let body = br#"{"format":1}"#;
        let sig = sign_catalog(&key, body);
        assert!(verify_catalog(&demo_verifying_key(), body, &sig).is_ok());
        assert!(verify_catalog(&demo_verifying_key(), br#"{"format":2}"#, &sig).is_err());
        assert!(verify_catalog(&demo_verifying_key(), body, "not base64!").is_err());
        let hexkey = hex::encode(demo_verifying_key().as_bytes());
        assert_eq!(
            verifying_key_from_hex(&hexkey).unwrap(),
            demo_verifying_key()
        );
    }
}
