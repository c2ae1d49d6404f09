//! 离线暂存与补传 — the durable outbox: cases and events are committed locally, then delivered
//! to the platform exactly once, in order, whenever the network allows.
//!
//! Invariants:
//! - a case, its materials and its outbox row commit in one transaction, before anyone is told
//!   the case is accepted; the case's UUIDv7 is its idempotency key for ever;
//! - items are delivered in sequence order, each by one deliverer (a claim in the store); an
//!   item waiting for its retry time holds back the ones after it (order matters to the
//!   platform), one the platform's own item-level code rejects is set aside (dead letter),
//!   one that cannot be read is quarantined, and none is ever silently dropped; waits are
//!   bounded (`Retry-After` up to [`RETRY_AFTER_CAP`]) and times too far ahead count as past;
//! - the disk is budgeted, not only the quota ([`space`]): an acknowledgement is always
//!   recorded, new work is refused while the reserve is short;
//! - personal data exists only sealed (AES-256-GCM, row id as associated data) and is wiped —
//!   overwritten, with `secure_delete` — as soon as the platform acknowledges;
//! - queued items are never evicted: a full queue refuses new work instead.
//!
//! Material images live in SQLite beside their case (not in files): one transaction covers
//! case, images and outbox row, so a crash can never leave a case without its images or an
//! image file without a case, and wiping is one statement.

use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::{params, Transaction};
use std::collections::BTreeMap;
use uuid::Uuid;

use super::clock::Clock;
use super::crypto::{random_u64, CryptoError, DataKey};

pub mod breaker;
mod head;
mod queue;
pub mod space;

use super::domain::{
    Agent, Applicant, Case, CaseMaterial, CaseStatus, Code, Delivery, StatusEvent,
};
use super::platform::{Platform, PlatformError};
use super::store::{next_sequence_in, Store, StoreError};
pub use head::{case_in_flight, CLAIM_TTL};
pub use queue::*;

/// Version of the case payload format this build writes (outbox.schema_version).
pub const CASE_SCHEMA: i64 = 1;
/// Outbox kind of a case.
pub const KIND_CASE: &str = "case";
/// Largest material image accepted into the queue.
pub const MAX_IMAGE_BYTES: usize = 4 * 1024 * 1024;

/// Why the outbox refused or failed. `Display` is what a citizen or technician reads.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("本机暂存已满，请到窗口办理")]
    Full { used: u64, quota: u64 },
    /// The disk (not the quota) has no room: see [`space`]. Staff get the disk alert.
    #[error("本机存储空间不足，暂时无法受理，请到窗口办理")]
    NoSpace { free: u64, reserve: u64 },
    #[error("材料 {0} 的图片过大，请重新拍摄")]
    ImageTooLarge(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("暂存队列中没有编号为 {0} 的记录")]
    NotFound(String),
}

impl From<rusqlite::Error> for OutboxError {
    fn from(e: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(f, _) = &e {
            if f.code == rusqlite::ErrorCode::DiskFull {
                return Self::NoSpace {
                    free: 0,
                    reserve: 0,
                };
            }
        }
        Self::Store(StoreError::Sql(e))
    }
}

impl From<serde_json::Error> for OutboxError {
    fn from(e: serde_json::Error) -> Self {
        Self::Store(StoreError::Decode(e))
    }
}

/// A case as the kiosk or counter hands it over.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub matters: Vec<Code>,
    pub bundle: Option<Code>,
    pub catalog_version: u64,
    pub applicant: Applicant,
    /// 帮办代办: who applied for the applicant.
    pub agent: Option<Agent>,
    /// 取件方式, for a matter whose result can be posted.
    pub delivery: Option<Delivery>,
    pub answers: BTreeMap<String, Vec<String>>,
    pub materials: Vec<CaseMaterial>,
    pub form: BTreeMap<String, String>,
    /// Captured material images (JPEG), by material id.
    pub images: Vec<(String, Vec<u8>)>,
}

/// What the citizen is told once the case is committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    pub id: Uuid,
    /// The local number (暂存编号).
    pub seq: u64,
}

/// Space the queue may use, and when to warn operations.
#[derive(Debug, Clone, Copy)]
pub struct Quota {
    pub bytes: u64,
}

impl Quota {
    /// From the profile's `data.outbox_quota_mb`.
    pub fn from_mb(mb: u32) -> Self {
        Self {
            bytes: u64::from(mb) * 1024 * 1024,
        }
    }
}

/// Retry policy: exponential backoff with full jitter and a cap.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(2),
            cap: Duration::from_secs(600),
        }
    }
}

impl Backoff {
    /// The wait before attempt `attempts + 1`: uniform in [0, min(cap, base·2^attempts)], so a
    /// fleet coming back from an outage spreads out instead of stampeding.
    pub fn delay(&self, attempts: u32, random: u64) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32.checked_shl(attempts.min(31)).unwrap_or(u32::MAX))
            .min(self.cap);
        let ms = ceiling.as_millis() as u64;
        Duration::from_millis(if ms == 0 { 0 } else { random % (ms + 1) })
    }
}

/// After the platform comes back, a terminal catches up on its backlog at about one item a
/// second (each pause uniform in [`CATCH_UP_PACE`]/2 … 3/2·[`CATCH_UP_PACE`]) instead of
/// sending it all back to back: a fleet whose backlogs resume close together then loads the
/// platform evenly, not in bursts of whole backlogs (the fleet simulation's peak second was
/// such bursts).
pub const CATCH_UP_PACE: Duration = Duration::from_secs(1);

/// The pause between two deliveries while catching up (see [`CATCH_UP_PACE`]).
pub fn catch_up_pause(random: u64) -> Duration {
    let ms = CATCH_UP_PACE.as_millis() as u64;
    Duration::from_millis(ms / 2 + random % (ms + 1))
}

fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

fn queued_bytes(tx: &rusqlite::Connection) -> Result<u64, rusqlite::Error> {
    tx.prepare_cached("SELECT COALESCE(SUM(bytes), 0) FROM outbox")?
        .query_row([], |r| r.get::<_, i64>(0))
        .map(|v| v as u64)
}

/// Whether the store already holds a key check value (it has been used with a key).
pub fn has_key_check(store: &mut Store) -> Result<bool, OutboxError> {
    Ok(store
        .conn()
        .query_row("SELECT count(*) FROM key_check", [], |r| r.get::<_, i64>(0))?
        > 0)
}

/// Makes sure the store holds this key's check value, or that it matches. Insert-or-keep,
/// then compare: processes starting together on a fresh store (kiosk and agent) agree on
/// the first value written instead of failing on the table's key.
pub fn bind_key(store: &mut Store, key: &DataKey) -> Result<(), OutboxError> {
    let conn = store.conn();
    conn.execute(
        "INSERT INTO key_check (id, value) VALUES (1, ?1) ON CONFLICT (id) DO NOTHING",
        [key.key_check_value()],
    )?;
    let v: Vec<u8> =
        conn.query_row("SELECT value FROM key_check WHERE id = 1", [], |r| r.get(0))?;
    key.verify_key_check(&v)?;
    Ok(())
}

/// Commits a case, its images and its outbox row in one transaction; returns only after the
/// commit is durable (WAL, synchronous=FULL).
pub fn enqueue_case(
    store: &mut Store,
    key: &DataKey,
    quota: Quota,
    new: NewCase,
    now: Timestamp,
) -> Result<Accepted, OutboxError> {
    for (id, img) in &new.images {
        if img.len() > MAX_IMAGE_BYTES {
            return Err(OutboxError::ImageTooLarge(id.clone()));
        }
    }
    let id = Uuid::now_v7();
    let tx = store.conn().transaction()?;
    let seq = next_sequence_in(&tx, "case")?;
    let case = Case {
        id,
        seq,
        matters: new.matters,
        bundle: new.bundle,
        catalog_version: new.catalog_version,
        applicant: new.applicant,
        agent: new.agent,
        delivery: new.delivery,
        answers: new.answers,
        materials: new.materials,
        form: new.form,
        timeline: vec![StatusEvent {
            status: CaseStatus::Queued,
            at: now,
            note: String::new(),
        }],
        unified_code: None,
    };
    let id_s = id.to_string();
    let body = key.seal(id_s.as_bytes(), &serde_json::to_vec(&case)?);
    let sealed_images: Vec<(String, Vec<u8>)> = new
        .images
        .iter()
        .map(|(mid, img)| {
            (
                mid.clone(),
                key.seal(format!("{id_s}/{mid}").as_bytes(), img),
            )
        })
        .collect();
    let bytes = body.len() as u64
        + sealed_images
            .iter()
            .map(|(_, b)| b.len() as u64)
            .sum::<u64>();
    if let Some(dir) = tx.path().and_then(|p| std::path::Path::new(p).parent()) {
        space::admit(dir, bytes, space::reusable(&tx))?;
    }
    let used = queued_bytes(&tx)?;
    if used + bytes > quota.bytes {
        tracing::warn!(used, quota = quota.bytes, "outbox full: submission refused");
        return Err(OutboxError::Full {
            used,
            quota: quota.bytes,
        });
    }
    let matters = serde_json::to_string(&case.matters)?;
    let now_s = now.to_string();
    // Prepared once per connection (each kiosk submission otherwise parses these again).
    tx.prepare_cached(
        "INSERT INTO cases (id, seq, status, unified_code, catalog_version, created_at, updated_at, body, matters)
         VALUES (?1, ?2, ?3, NULL, ?4, ?5, ?5, ?6, ?7)",
    )?
    .execute(params![id_s, seq as i64, CaseStatus::Queued.as_str(), case.catalog_version as i64, now_s, body, matters])?;
    for (mid, sealed) in &sealed_images {
        tx.prepare_cached(
            "INSERT INTO case_materials (case_id, material_id, size, image) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![id_s, mid, sealed.len() as i64, sealed])?;
    }
    insert_outbox(
        &tx,
        &id_s,
        KIND_CASE,
        CASE_SCHEMA,
        case.catalog_version,
        &[],
        bytes,
        now,
    )?;
    tx.commit()?;
    Ok(Accepted { id, seq })
}

/// Queues a non-case item (好差评 evaluation, supervision event) with a sealed JSON payload.
pub fn enqueue_event(
    store: &mut Store,
    key: &DataKey,
    quota: Quota,
    kind: &str,
    body: &serde_json::Value,
    now: Timestamp,
) -> Result<Uuid, OutboxError> {
    let tx = store.conn().transaction()?;
    let id = enqueue_event_in(&tx, key, quota, kind, body, now)?;
    tx.commit()?;
    Ok(id)
}

/// [`enqueue_event`] inside the caller's transaction, so a state change and the event that
/// reports it commit together (or not at all).
pub fn enqueue_event_in(
    tx: &Transaction<'_>,
    key: &DataKey,
    quota: Quota,
    kind: &str,
    body: &serde_json::Value,
    now: Timestamp,
) -> Result<Uuid, OutboxError> {
    let id = Uuid::now_v7();
    let id_s = id.to_string();
    let sealed = key.seal(id_s.as_bytes(), &serde_json::to_vec(body)?);
    if let Some(dir) = tx.path().and_then(|p| std::path::Path::new(p).parent()) {
        space::admit(dir, sealed.len() as u64, space::reusable(tx))?;
    }
    let used = queued_bytes(tx)?;
    if used + sealed.len() as u64 > quota.bytes {
        return Err(OutboxError::Full {
            used,
            quota: quota.bytes,
        });
    }
    let bytes = sealed.len() as u64;
    insert_outbox(tx, &id_s, kind, 1, 0, &sealed, bytes, now)?;
    Ok(id)
}

#[allow(clippy::too_many_arguments)]
fn insert_outbox(
    tx: &Transaction<'_>,
    id: &str,
    kind: &str,
    schema: i64,
    catalog_version: u64,
    payload: &[u8],
    bytes: u64,
    now: Timestamp,
) -> Result<(), OutboxError> {
    let seq = next_sequence_in(tx, "outbox")?;
    tx.prepare_cached(
        "INSERT INTO outbox (id, seq, kind, schema_version, catalog_version, attempts, next_attempt_at,
                             created_at, payload, state, due_ms, bytes)
         VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?6, ?7, 'pending', ?8, ?9)",
    )?
    .execute(params![id, seq as i64, kind, schema, catalog_version as i64, now.to_string(), payload, ms(now), bytes as i64])?;
    Ok(())
}

/// What one delivery step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Nothing pending.
    Idle,
    /// The head item is not due before this time (Unix ms).
    Waiting { until_ms: i64 },
    /// Another deliverer holds the head until this time (Unix ms) at the latest.
    Busy { until_ms: i64 },
    /// The circuit breaker holds the queue until this time (Unix ms); `reason` for staff.
    Paused { until_ms: i64, reason: String },
    /// Delivered and acknowledged; personal data wiped.
    Delivered {
        id: Uuid,
        unified_code: Option<String>,
    },
    /// Failed in a way that may pass later; retried at `next_ms`.
    Retry {
        id: Uuid,
        error: String,
        next_ms: i64,
    },
    /// Rejected by the platform: set aside for staff.
    DeadLettered { id: Uuid, reason: String },
    /// Could not be read or unsealed: set aside (quarantine) with its sealed data kept;
    /// delivery goes on with the next item.
    Quarantined { id: String, reason: String },
}

/// The longest `Retry-After` the outbox honours: a platform asking for a day is asked again
/// after this.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(15 * 60);

/// How far the delivery of one item has come: `sent` of `total` bytes (a case's stored
/// material images and then its body; an event's body). Uploads resumed after a failure
/// start with what earlier attempts delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub id: Uuid,
    pub sent: u64,
    pub total: u64,
}

/// Delivers the head of the queue if it is due. The store lock is held only around local
/// reads and writes, never across a network call.
pub async fn deliver_next<P: Platform>(
    store: &Mutex<Store>,
    key: &DataKey,
    platform: &P,
    backoff: Backoff,
    now: Timestamp,
) -> Result<Step, OutboxError> {
    deliver_next_reporting(store, key, platform, backoff, now, &|_| {}).await
}

fn lock(store: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}

/// [`deliver_next`], telling `progress` how far the head item has come: once before its
/// first request, after each material uploaded and when the platform has taken it all
/// (`sent == total`, just before the acknowledgement is committed). Delivery itself is the
/// same.
///
/// The head is claimed in the store first ([`head`]), so several deliverers on one store
/// send it once; an item that cannot be read is quarantined and the next one goes; only the
/// platform's own item-level refusal is final, and the [`breaker`] turns a run of them into
/// a pause.
pub async fn deliver_next_reporting<P: Platform>(
    store: &Mutex<Store>,
    key: &DataKey,
    platform: &P,
    backoff: Backoff,
    now: Timestamp,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Step, OutboxError> {
    let now_ms = ms(now);
    let me = head::claimer();
    let horizon = backoff.cap.max(RETRY_AFTER_CAP).as_millis() as i64;
    let (row, item) = {
        let mut s = lock(store);
        let look = match head::claim(&mut s, &me, now_ms, horizon) {
            // Even the claim is a write: on a full disk the reserve pays for it.
            Err(e) if space::is_disk_full(&e) && release_ballast(&s) => {
                head::claim(&mut s, &me, now_ms, horizon)?
            }
            other => other?,
        };
        let row = match look {
            head::Look::Idle => return Ok(Step::Idle),
            head::Look::Waiting(until_ms) => return Ok(Step::Waiting { until_ms }),
            head::Look::Busy(until_ms) => return Ok(Step::Busy { until_ms }),
            head::Look::Paused { until_ms, reason } => {
                return Ok(Step::Paused { until_ms, reason })
            }
            head::Look::Poisoned { id, reason } => return Ok(Step::Quarantined { id, reason }),
            head::Look::Claimed(row) => row,
        };
        match head::load(&mut s, key, &row) {
            Ok(item) => (row, item),
            Err(head::LoadError::Poison(reason)) => {
                head::quarantine(&mut s, &row, &reason)?;
                return Ok(Step::Quarantined { id: row.id, reason });
            }
            Err(head::LoadError::Local(e)) => {
                head::release(&mut s, &row.id, &me);
                return Err(e);
            }
        }
    };
    let id = Uuid::parse_str(&row.id).expect("checked by head::load");
    let id_s = row.id.clone();
    let total = item.uploaded_bytes
        + item.pending_images.iter().map(|(_, n, _)| n).sum::<u64>()
        + item.body.len() as u64;
    let mut sent = item.uploaded_bytes;
    let report = |sent: u64| progress(Progress { id, sent, total });
    report(sent);
    let result: Result<Option<String>, PlatformError> = async {
        if row.kind == KIND_CASE {
            for (mid, size, img) in &item.pending_images {
                platform.upload_material(id, mid, img).await?;
                sent += size;
                report(sent);
                // Remember the upload; if this write fails the image is simply uploaded again
                // (uploads are idempotent per case and material).
                let mut s = lock(store);
                if let Err(e) = s.conn().execute(
                    "UPDATE case_materials SET uploaded = 1 WHERE case_id = ?1 AND material_id = ?2",
                    params![id_s, mid],
                ) {
                    tracing::warn!(id = %id_s, material = %mid, error = %e, "could not record an upload");
                }
                head::renew(&mut s, &id_s, &me, ms(Timestamp::now()).max(now_ms));
            }
            let ack = platform.submit_case(id, &item.body).await?;
            report(total);
            Ok(Some(ack.unified_code))
        } else {
            platform.submit_event(id, &row.kind, &item.body).await?;
            report(total);
            Ok(None)
        }
    }
    .await;
    let mut s = lock(store);
    let mut done = Done {
        row: &row,
        id,
        me: &me,
        backoff,
        now,
        wipe: true,
    };
    match record(&mut s, &done, &result) {
        // The disk filled while the platform took the item: the answer must be recorded now,
        // or the item would be sent again and again. First with the space reserve given
        // back; failing that, the answer alone, the wipe (which rewrites the sealed pages)
        // following once space returns (`finish_wipes`).
        Err(e) if space::is_disk_full(&e) => {
            release_ballast(&s);
            match record(&mut s, &done, &result) {
                Err(e) if space::is_disk_full(&e) && result.is_ok() => {
                    done.wipe = false;
                    let step = record(&mut s, &done, &result)?;
                    tracing::warn!(id = %row.id, "disk full: delivery recorded, the wipe waits for space");
                    Ok(step)
                }
                other => {
                    let _ = checkpoint(&mut s);
                    other
                }
            }
        }
        other => other,
    }
}

/// Gives the space reserve of `s`'s data directory back; whether there was one.
fn release_ballast(s: &Store) -> bool {
    s.path().parent().is_some_and(space::release_ballast)
}

/// Wipes delivered cases whose wipe had to wait for disk space (see `record`); returns how
/// many. Cheap when there are none (one indexed look).
pub fn finish_wipes(store: &mut Store, now: Timestamp) -> Result<u64, OutboxError> {
    let tx = store.conn().transaction()?;
    tx.execute(
        "DELETE FROM case_materials WHERE case_id IN
            (SELECT id FROM cases WHERE status = ?1 AND body IS NOT NULL)",
        [CaseStatus::Submitted.as_str()],
    )?;
    let n = tx.execute(
        "UPDATE cases SET body = NULL, wiped_at = ?2 WHERE status = ?1 AND body IS NOT NULL",
        params![CaseStatus::Submitted.as_str(), now.to_string()],
    )?;
    tx.commit()?;
    Ok(n as u64)
}

/// What [`record`] needs to know about the attempt.
struct Done<'a> {
    row: &'a head::Row,
    id: Uuid,
    me: &'a str,
    backoff: Backoff,
    now: Timestamp,
    /// Wipe the personal data with the acknowledgement (always, unless the disk is full).
    wipe: bool,
}

/// Records the outcome of one attempt in one transaction.
fn record(
    s: &mut Store,
    done: &Done<'_>,
    result: &Result<Option<String>, PlatformError>,
) -> Result<Step, OutboxError> {
    let Done {
        row,
        id,
        me,
        backoff,
        now,
        wipe,
    } = *done;
    let now_ms = ms(now);
    let id_s = &row.id;
    let tx = s
        .conn()
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let step = match result {
        Ok(code) => {
            let code = code.clone();
            // The platform's acknowledgement is the truth whoever holds the claim now.
            let now_s = now.to_string();
            if row.kind == KIND_CASE && !wipe {
                tx.execute(
                    "UPDATE cases SET status = ?2, unified_code = ?3, updated_at = ?4 WHERE id = ?1",
                    params![id_s, CaseStatus::Submitted.as_str(), code, now_s],
                )?;
            } else if row.kind == KIND_CASE {
                // Wipe: the sealed body and images are overwritten (secure_delete), leaving a stub.
                tx.execute(
                    "UPDATE cases SET status = ?2, unified_code = ?3, body = NULL, wiped_at = ?4, updated_at = ?4
                     WHERE id = ?1",
                    params![id_s, CaseStatus::Submitted.as_str(), code, now_s],
                )?;
                tx.execute("DELETE FROM case_materials WHERE case_id = ?1", [&id_s])?;
            }
            tx.execute("DELETE FROM outbox WHERE id = ?1", [&id_s])?;
            let (mut b, _) = head::breaker(&tx)?;
            if b != breaker::Breaker::default() {
                b.delivered();
                head::save_breaker(&tx, &b, None)?;
            }
            Step::Delivered {
                id,
                unified_code: code,
            }
        }
        Err(e) if e.is_retryable() => {
            let asked = e.retry_after().unwrap_or_default().min(RETRY_AFTER_CAP);
            let wait = backoff.delay(row.attempts, random_u64()).max(asked);
            let next_ms = now_ms + wait.as_millis() as i64;
            let msg = e.to_string();
            tx.execute(
                "UPDATE outbox SET attempts = attempts + 1, due_ms = ?2, last_error = ?3, next_attempt_at = ?4,
                        claimed_by = NULL, claimed_until = NULL
                 WHERE id = ?1 AND state = 'pending' AND claimed_by = ?5",
                params![id_s, next_ms, msg, Timestamp::from_millisecond(next_ms).map(|t| t.to_string()).unwrap_or_default(), me],
            )?;
            Step::Retry {
                id,
                error: msg,
                next_ms,
            }
        }
        Err(e) => {
            let reason = e.to_string();
            let (mut b, _) = head::breaker(&tx)?;
            match b.rejected(id_s, now_ms) {
                breaker::Verdict::DeadLetter => {
                    let n = tx.execute(
                        "UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = ?2,
                                claimed_by = NULL, claimed_until = NULL
                         WHERE id = ?1 AND state = 'pending' AND claimed_by = ?3",
                        params![id_s, reason, me],
                    )?;
                    // Only while the row was still ours and pending: a case another deliverer
                    // has meanwhile delivered is never marked rejected.
                    if n == 1 && row.kind == KIND_CASE {
                        tx.execute(
                            "UPDATE cases SET status = ?2, updated_at = ?3 WHERE id = ?1",
                            params![id_s, CaseStatus::Rejected.as_str(), now.to_string()],
                        )?;
                    }
                    head::save_breaker(&tx, &b, None)?;
                    tracing::warn!(id = %id_s, %reason, "outbox item rejected by the platform; moved to dead letters");
                    Step::DeadLettered { id, reason }
                }
                breaker::Verdict::Pause { until_ms, restore } => {
                    let why = format!(
                        "政务服务平台连续退回 {} 件不同的业务（最近一次：{reason}），更像是平台或网关故障而不是业务本身有误：已暂停提交，{} 分钟后自动重试；这些业务均已保留，未标记为不予受理。",
                        b.streak.len(),
                        breaker::PAUSE.as_secs() / 60
                    );
                    tx.execute(
                        "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, due_ms = ?3,
                                claimed_by = NULL, claimed_until = NULL
                         WHERE id = ?1 AND state = 'pending'",
                        params![id_s, reason, until_ms],
                    )?;
                    for back in &restore {
                        let n = tx.execute(
                            "UPDATE outbox SET state = 'pending', due_ms = ?2 WHERE id = ?1 AND state = 'dead'",
                            params![back, until_ms],
                        )?;
                        if n == 1 {
                            tx.execute(
                                "UPDATE cases SET status = ?2 WHERE id = ?1 AND status = ?3",
                                params![
                                    back,
                                    CaseStatus::Queued.as_str(),
                                    CaseStatus::Rejected.as_str()
                                ],
                            )?;
                        }
                    }
                    head::save_breaker(&tx, &b, Some(&why))?;
                    tracing::error!(id = %id_s, streak = b.streak.len(), "platform rejected several items in a row; outbox paused (circuit breaker)");
                    Step::Paused {
                        until_ms,
                        reason: why,
                    }
                }
            }
        }
    };
    tx.commit()?;
    Ok(step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_catch_up_pause_is_half_to_one_and_a_half_paces() {
        let pauses: Vec<_> = (0..500).map(|_| catch_up_pause(random_u64())).collect();
        let (lo, hi) = (CATCH_UP_PACE / 2, CATCH_UP_PACE * 3 / 2);
        assert!(pauses.iter().all(|p| (lo..=hi).contains(p)), "{pauses:?}");
        // Jittered: terminals resuming together do not stay in step.
        assert!(pauses.iter().any(|p| *p < CATCH_UP_PACE * 3 / 4));
        assert!(pauses.iter().any(|p| *p > CATCH_UP_PACE * 5 / 4));
    }

    #[test]
    fn backoff_is_bounded_by_the_exponential_ceiling_and_the_cap() {
        let b = Backoff {
            base: Duration::from_secs(2),
            cap: Duration::from_secs(600),
        };
        assert_eq!(b.delay(0, u64::MAX), Duration::from_millis(u64::MAX % 2001));
        for attempts in 0..40 {
            for r in [0, 1, 12345, u64::MAX / 3, u64::MAX] {
                let d = b.delay(attempts, r);
                let ceiling =
                    Duration::from_secs(2u64.saturating_mul(1 << attempts.min(20))).min(b.cap);
                assert!(d <= ceiling, "attempt {attempts}: {d:?} > {ceiling:?}");
            }
        }
        assert_eq!(b.delay(3, 0), Duration::ZERO);
        // Full jitter spreads: many draws at a high attempt cover the range.
        let draws: Vec<_> = (0..200).map(|_| b.delay(10, random_u64())).collect();
        assert!(draws.iter().any(|d| *d < Duration::from_secs(200)));
        assert!(draws.iter().any(|d| *d > Duration::from_secs(400)));
    }
}

/// After this many acknowledged items, the WAL is checkpointed and truncated even while the
/// queue is still draining, so wiped data does not wait long in the log.
/// (A wipe batch: the truncating checkpoint also gives the WAL's space back to the disk.)
const CHECKPOINT_EVERY: u32 = 32;

/// What the delivery worker reports as it goes (for the UI's banner and the CLI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerEvent {
    Step(Step),
    /// How far the item being delivered has come.
    Progress(Progress),
    /// A local failure (store, key): the worker waits and tries again.
    Error(String),
}

/// The delivery worker: delivers due items in order (after a failed attempt, until the queue
/// is empty again, one about every [`CATCH_UP_PACE`]), sleeps until the head is due, wakes
/// early when `wake` is notified (a new submission, a retry, the network coming back), and
/// stops when `stop` turns true. Times come from the system clock; see
/// [`run_worker_with_clock`].
#[allow(clippy::too_many_arguments)]
pub async fn run_worker<P: Platform>(
    store: std::sync::Arc<Mutex<Store>>,
    key: std::sync::Arc<DataKey>,
    platform: P,
    backoff: Backoff,
    retention_days: u32,
    wake: std::sync::Arc<tokio::sync::Notify>,
    stop: tokio::sync::watch::Receiver<bool>,
    events: Option<tokio::sync::mpsc::UnboundedSender<WorkerEvent>>,
) {
    run_worker_with_clock(
        store,
        key,
        platform,
        backoff,
        retention_days,
        wake,
        stop,
        events,
        Clock::system(),
    )
    .await
}

/// [`run_worker`] taking every "now" (due times, retry times, purges) from `clock`; its
/// waits are tokio sleeps, so with [`Clock::following_runtime`] on a paused runtime the
/// worker runs in virtual time (the fleet simulation).
#[allow(clippy::too_many_arguments)]
pub async fn run_worker_with_clock<P: Platform>(
    store: std::sync::Arc<Mutex<Store>>,
    key: std::sync::Arc<DataKey>,
    platform: P,
    backoff: Backoff,
    retention_days: u32,
    wake: std::sync::Arc<tokio::sync::Notify>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    events: Option<tokio::sync::mpsc::UnboundedSender<WorkerEvent>>,
    clock: Clock,
) {
    let mut since_checkpoint = 0u32;
    // Since a delivery failed and until the queue is empty again: deliveries are paced.
    let mut catching_up = false;
    let report = |e: WorkerEvent| {
        if let Some(tx) = &events {
            let _ = tx.send(e);
        }
    };
    // Waits are bounded by the longest legitimate one, so a wall clock stepped back cannot
    // put the worker to sleep for longer (tokio's sleep itself runs on the monotonic clock).
    let longest = backoff.cap.max(RETRY_AFTER_CAP).max(breaker::PAUSE);
    let until = |at_ms: i64| {
        Duration::from_millis((at_ms - clock.now().as_millisecond()).max(0) as u64).min(longest)
    };
    loop {
        if *stop.borrow() {
            return;
        }
        let step = deliver_next_reporting(&store, &key, &platform, backoff, clock.now(), &|p| {
            report(WorkerEvent::Progress(p))
        })
        .await;
        let wait = match step {
            Ok(Step::Delivered { .. })
            | Ok(Step::DeadLettered { .. })
            | Ok(Step::Quarantined { .. }) => {
                since_checkpoint += 1;
                if since_checkpoint >= CHECKPOINT_EVERY {
                    since_checkpoint = 0;
                    let _ = checkpoint(&mut store.lock().unwrap_or_else(|p| p.into_inner()));
                }
                report(WorkerEvent::Step(step.expect("matched Ok")));
                if !catching_up {
                    continue;
                }
                catch_up_pause(random_u64())
            }
            Ok(Step::Idle) => {
                catching_up = false;
                let mut s = store.lock().unwrap_or_else(|p| p.into_inner());
                if let Err(e) = purge_stubs(&mut s, retention_days, clock.now()) {
                    tracing::warn!(error = %e, "could not purge old case stubs");
                }
                if matches!(finish_wipes(&mut s, clock.now()), Ok(n) if n > 0) {
                    since_checkpoint += 1;
                }
                if since_checkpoint > 0 {
                    since_checkpoint = 0;
                    let _ = checkpoint(&mut s);
                }
                if let Some(dir) = s.path().parent() {
                    space::ensure_ballast(dir);
                }
                // Other processes (kiosk, CLI) queue work without waking this one: look again
                // soon. An idle look is one indexed query.
                Duration::from_secs(5)
            }
            Ok(Step::Waiting { until_ms }) => until(until_ms),
            // Another deliverer is sending the head: look again soon, it moves on.
            Ok(Step::Busy { until_ms }) => until(until_ms).min(Duration::from_secs(2)),
            Ok(s @ Step::Paused { until_ms, .. }) => {
                report(WorkerEvent::Step(s));
                until(until_ms)
            }
            Ok(s @ Step::Retry { next_ms, .. }) => {
                catching_up = true;
                report(WorkerEvent::Step(s));
                until(next_ms)
            }
            Err(e) => {
                tracing::error!(error = %e, "outbox delivery failed locally");
                report(WorkerEvent::Error(e.to_string()));
                Duration::from_secs(30)
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = wake.notified() => {}
            _ = stop.changed() => {}
        }
    }
}

/// Delivers everything due now (for `queue drain` and tests): returns the steps taken, stopping
/// at the first item that is not due, failed to deliver, or is being sent by another
/// deliverer.
pub async fn drain<P: Platform>(
    store: &Mutex<Store>,
    key: &DataKey,
    platform: &P,
    backoff: Backoff,
    now: impl Fn() -> Timestamp,
) -> Result<Vec<Step>, OutboxError> {
    let mut steps = Vec::new();
    loop {
        let step = deliver_next(store, key, platform, backoff, now()).await?;
        match step {
            Step::Delivered { .. } | Step::DeadLettered { .. } | Step::Quarantined { .. } => {
                steps.push(step)
            }
            // Not due, another deliverer has it, or the breaker holds the queue (see
            // `status`): this pass is over.
            Step::Idle | Step::Waiting { .. } | Step::Busy { .. } | Step::Paused { .. } => break,
            Step::Retry { .. } => {
                steps.push(step);
                break;
            }
        }
    }
    // What was delivered is recorded; a wipe or checkpoint that cannot run now runs next time.
    let mut s = lock(store);
    if let Err(e) = finish_wipes(&mut s, now()) {
        tracing::warn!(error = %e, "delivered cases not wiped yet (disk full?); retried later");
    }
    if let Err(e) = checkpoint(&mut s) {
        tracing::warn!(error = %e, "WAL checkpoint after delivery failed; it is retried later");
    }
    if let Some(dir) = s.path().parent() {
        space::ensure_ballast(dir);
    }
    Ok(steps)
}
