//! 离线暂存与补传 — the durable outbox: cases and events are committed locally, then delivered
//! to the platform exactly once, in order, whenever the network allows.
//!
//! Invariants:
//! - a case, its materials and its outbox row commit in one transaction, before anyone is told
//!   the case is accepted; the case's UUIDv7 is its idempotency key for ever;
//! - items are delivered in sequence order; an item waiting for its retry time holds back the
//!   ones after it (order matters to the platform), a rejected one is set aside (dead letter)
//!   and never silently dropped;
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
use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

use super::crypto::{random_u64, CryptoError, DataKey};
use super::domain::{Applicant, Case, CaseMaterial, CaseStatus, Code, StatusEvent};
use super::platform::{Platform, PlatformError};
use super::store::{next_sequence_in, Store, StoreError};

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
        // A full disk is the same situation for the citizen as a full quota.
        if let rusqlite::Error::SqliteFailure(f, _) = &e {
            if f.code == rusqlite::ErrorCode::DiskFull {
                return Self::Full { used: 0, quota: 0 };
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

fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

fn queued_bytes(tx: &rusqlite::Connection) -> Result<u64, rusqlite::Error> {
    tx.query_row("SELECT COALESCE(SUM(bytes), 0) FROM outbox", [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|v| v as u64)
}

/// Whether the store already holds a key check value (it has been used with a key).
pub fn has_key_check(store: &mut Store) -> Result<bool, OutboxError> {
    Ok(store
        .conn()
        .query_row("SELECT count(*) FROM key_check", [], |r| r.get::<_, i64>(0))?
        > 0)
}

/// Makes sure the store holds this key's check value, or that it matches.
pub fn bind_key(store: &mut Store, key: &DataKey) -> Result<(), OutboxError> {
    let conn = store.conn();
    // Several processes may start on a fresh store at once (the agent and a technician's
    // command): the first check recorded wins, and every process verifies against it.
    conn.execute(
        "INSERT INTO key_check (id, value) VALUES (1, ?1) ON CONFLICT(id) DO NOTHING",
        [key.key_check_value()],
    )?;
    let recorded: Vec<u8> =
        conn.query_row("SELECT value FROM key_check WHERE id = 1", [], |r| r.get(0))?;
    key.verify_key_check(&recorded)?;
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
    tx.execute(
        "INSERT INTO cases (id, seq, status, unified_code, catalog_version, created_at, updated_at, body, matters)
         VALUES (?1, ?2, ?3, NULL, ?4, ?5, ?5, ?6, ?7)",
        params![id_s, seq as i64, CaseStatus::Queued.as_str(), case.catalog_version as i64, now_s, body, matters],
    )?;
    for (mid, sealed) in &sealed_images {
        tx.execute(
            "INSERT INTO case_materials (case_id, material_id, size, image) VALUES (?1, ?2, ?3, ?4)",
            params![id_s, mid, sealed.len() as i64, sealed],
        )?;
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
    tx.execute(
        "INSERT INTO outbox (id, seq, kind, schema_version, catalog_version, attempts, next_attempt_at,
                             created_at, payload, state, due_ms, bytes)
         VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?6, ?7, 'pending', ?8, ?9)",
        params![id, seq as i64, kind, schema, catalog_version as i64, now.to_string(), payload, ms(now), bytes as i64],
    )?;
    Ok(())
}

/// What one delivery step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Nothing pending.
    Idle,
    /// The head item is not due before this time (Unix ms).
    Waiting { until_ms: i64 },
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
}

/// The head of the queue, read and unsealed under the store lock.
struct Head {
    id: Uuid,
    kind: String,
    attempts: u32,
    body: Vec<u8>,
    /// Material id, stored size and image, for cases, in id order, not yet uploaded.
    pending_images: Vec<(String, u64, Vec<u8>)>,
    /// Stored size of the materials uploaded by earlier attempts.
    uploaded_bytes: u64,
}

/// How far the delivery of one item has come: `sent` of `total` bytes (a case's stored
/// material images and then its body; an event's body). Uploads resumed after a failure
/// start with what earlier attempts delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub id: Uuid,
    pub sent: u64,
    pub total: u64,
}

fn load_head(
    store: &mut Store,
    key: &DataKey,
    now_ms: i64,
) -> Result<Result<Head, Step>, OutboxError> {
    let conn = store.conn();
    let row = conn
        .query_row(
            "SELECT id, kind, attempts, due_ms, payload, schema_version FROM outbox
             WHERE state = 'pending' ORDER BY seq LIMIT 1",
            [],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Vec<u8>>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            },
        )
        .optional()?;
    let Some((id_s, kind, attempts, due_ms, payload, _schema)) = row else {
        return Ok(Err(Step::Idle));
    };
    if due_ms > now_ms {
        return Ok(Err(Step::Waiting { until_ms: due_ms }));
    }
    let id = Uuid::parse_str(&id_s).map_err(|e| StoreError::Corrupt {
        path: store.path().to_owned(),
        detail: format!("outbox id {id_s}: {e}"),
    })?;
    let conn = store.conn();
    let (body, pending_images, uploaded_bytes) = if kind == KIND_CASE {
        let sealed: Option<Vec<u8>> =
            conn.query_row("SELECT body FROM cases WHERE id = ?1", [&id_s], |r| {
                r.get(0)
            })?;
        let sealed = sealed.ok_or_else(|| CryptoError::Damaged(id_s.clone()))?;
        let body = key.open(id_s.as_bytes(), &sealed)?;
        let uploaded: i64 = conn.query_row(
            "SELECT COALESCE(SUM(size), 0) FROM case_materials WHERE case_id = ?1 AND uploaded = 1",
            [&id_s],
            |r| r.get(0),
        )?;
        let mut stmt = conn.prepare(
            "SELECT material_id, size, image FROM case_materials WHERE case_id = ?1 AND uploaded = 0 ORDER BY material_id",
        )?;
        let rows = stmt.query_map([&id_s], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })?;
        let mut images = Vec::new();
        for row in rows {
            let (mid, size, sealed) = row?;
            images.push((
                mid.clone(),
                size.max(0) as u64,
                key.open(format!("{id_s}/{mid}").as_bytes(), &sealed)?,
            ));
        }
        (body, images, uploaded.max(0) as u64)
    } else {
        (key.open(id_s.as_bytes(), &payload)?, Vec::new(), 0)
    };
    Ok(Ok(Head {
        id,
        kind,
        attempts: attempts as u32,
        body,
        pending_images,
        uploaded_bytes,
    }))
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

/// [`deliver_next`], telling `progress` how far the head item has come: once before its
/// first request, after each material uploaded and when the platform has taken it all
/// (`sent == total`, just before the acknowledgement is committed). Delivery itself is the
/// same.
pub async fn deliver_next_reporting<P: Platform>(
    store: &Mutex<Store>,
    key: &DataKey,
    platform: &P,
    backoff: Backoff,
    now: Timestamp,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Step, OutboxError> {
    let now_ms = ms(now);
    let head = {
        let mut s = store.lock().unwrap_or_else(|p| p.into_inner());
        match load_head(&mut s, key, now_ms)? {
            Ok(h) => h,
            Err(step) => return Ok(step),
        }
    };
    let id_s = head.id.to_string();
    let total = head.uploaded_bytes
        + head.pending_images.iter().map(|(_, n, _)| n).sum::<u64>()
        + head.body.len() as u64;
    let mut sent = head.uploaded_bytes;
    let report = |sent: u64| {
        progress(Progress {
            id: head.id,
            sent,
            total,
        })
    };
    report(sent);
    let result: Result<Option<String>, PlatformError> = async {
        if head.kind == KIND_CASE {
            for (mid, size, img) in &head.pending_images {
                platform.upload_material(head.id, mid, img).await?;
                sent += size;
                report(sent);
                // Remember the upload; if this write fails the image is simply uploaded again
                // (uploads are idempotent per case and material).
                let mut s = store.lock().unwrap_or_else(|p| p.into_inner());
                if let Err(e) = s.conn().execute(
                    "UPDATE case_materials SET uploaded = 1 WHERE case_id = ?1 AND material_id = ?2",
                    params![id_s, mid],
                ) {
                    tracing::warn!(id = %id_s, material = %mid, error = %e, "could not record an upload");
                }
            }
            let ack = platform.submit_case(head.id, &head.body).await?;
            report(total);
            Ok(Some(ack.unified_code))
        } else {
            platform.submit_event(head.id, &head.kind, &head.body).await?;
            report(total);
            Ok(None)
        }
    }
    .await;
    let mut s = store.lock().unwrap_or_else(|p| p.into_inner());
    let tx = s.conn().transaction()?;
    let step = match result {
        Ok(code) => {
            let now_s = now.to_string();
            if head.kind == KIND_CASE {
                // Wipe: the sealed body and images are overwritten (secure_delete), leaving a stub.
                tx.execute(
                    "UPDATE cases SET status = ?2, unified_code = ?3, body = NULL, wiped_at = ?4, updated_at = ?4
                     WHERE id = ?1",
                    params![id_s, CaseStatus::Submitted.as_str(), code, now_s],
                )?;
                tx.execute("DELETE FROM case_materials WHERE case_id = ?1", [&id_s])?;
            }
            tx.execute("DELETE FROM outbox WHERE id = ?1", [&id_s])?;
            Step::Delivered {
                id: head.id,
                unified_code: code,
            }
        }
        Err(e) if e.is_retryable() => {
            let wait = backoff
                .delay(head.attempts, random_u64())
                .max(e.retry_after().unwrap_or_default());
            let next_ms = now_ms + wait.as_millis() as i64;
            let msg = e.to_string();
            tx.execute(
                "UPDATE outbox SET attempts = attempts + 1, due_ms = ?2, last_error = ?3, next_attempt_at = ?4 WHERE id = ?1",
                params![id_s, next_ms, msg, Timestamp::from_millisecond(next_ms).map(|t| t.to_string()).unwrap_or_default()],
            )?;
            Step::Retry {
                id: head.id,
                error: msg,
                next_ms,
            }
        }
        Err(e) => {
            let reason = e.to_string();
            tx.execute(
                "UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
                params![id_s, reason],
            )?;
            if head.kind == KIND_CASE {
                tx.execute(
                    "UPDATE cases SET status = ?2, updated_at = ?3 WHERE id = ?1",
                    params![id_s, CaseStatus::Rejected.as_str(), now.to_string()],
                )?;
            }
            tracing::warn!(id = %id_s, %reason, "outbox item rejected by the platform; moved to dead letters");
            Step::DeadLettered {
                id: head.id,
                reason,
            }
        }
    };
    tx.commit()?;
    Ok(step)
}

/// Folds the WAL into the database and truncates it, so wiped pages leave no copy behind.
pub fn checkpoint(store: &mut Store) -> Result<(), OutboxError> {
    store
        .conn()
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

/// Counts and ages of the queue, for `queue status`, health reports and the UI banner.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueStatus {
    pub pending: u64,
    pub dead: u64,
    pub queued_bytes: u64,
    pub quota_bytes: u64,
    /// Creation time of the oldest pending item.
    pub oldest: Option<String>,
    /// When the head item is next tried (Unix ms).
    pub next_attempt_ms: Option<i64>,
    /// At or above 80 % of the quota: operations should be alerted.
    pub near_full: bool,
}

/// The queue's state.
pub fn status(store: &mut Store, quota: Quota) -> Result<QueueStatus, OutboxError> {
    let conn = store.conn();
    let count = |state: &str| -> Result<u64, rusqlite::Error> {
        conn.query_row(
            "SELECT count(*) FROM outbox WHERE state = ?1",
            [state],
            |r| r.get::<_, i64>(0),
        )
        .map(|v| v as u64)
    };
    let pending = count("pending")?;
    let dead = count("dead")?;
    let queued = queued_bytes(conn)?;
    let (oldest, next): (Option<String>, Option<i64>) = conn
        .query_row(
            "SELECT created_at, due_ms FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT 1",
            [],
            |r| Ok((Some(r.get(0)?), Some(r.get(1)?))),
        )
        .optional()?
        .unwrap_or((None, None));
    Ok(QueueStatus {
        pending,
        dead,
        queued_bytes: queued,
        quota_bytes: quota.bytes,
        oldest,
        next_attempt_ms: next,
        near_full: queued * 5 >= quota.bytes * 4,
    })
}

/// One queue item as staff may see it: no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueItem {
    pub id: String,
    pub seq: u64,
    pub kind: String,
    pub state: String,
    pub schema_version: i64,
    pub attempts: u32,
    pub next_attempt_ms: i64,
    pub created_at: String,
    pub last_error: Option<String>,
    pub bytes: u64,
}

/// Items in delivery order; `dead_only` lists the dead letters.
pub fn list(store: &mut Store, dead_only: bool) -> Result<Vec<QueueItem>, OutboxError> {
    let conn = store.conn();
    let sql = if dead_only {
        "SELECT id, seq, kind, state, schema_version, attempts, due_ms, created_at, last_error, bytes FROM outbox WHERE state = 'dead' ORDER BY seq"
    } else {
        "SELECT id, seq, kind, state, schema_version, attempts, due_ms, created_at, last_error, bytes FROM outbox ORDER BY seq"
    };
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| {
        Ok(QueueItem {
            id: r.get(0)?,
            seq: r.get::<_, i64>(1)? as u64,
            kind: r.get(2)?,
            state: r.get(3)?,
            schema_version: r.get(4)?,
            attempts: r.get::<_, i64>(5)? as u32,
            next_attempt_ms: r.get(6)?,
            created_at: r.get(7)?,
            last_error: r.get(8)?,
            bytes: r.get::<_, i64>(9)? as u64,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Makes items due now again: one by id (a dead letter goes back in the queue), or all.
pub fn retry(store: &mut Store, id: Option<&str>, now: Timestamp) -> Result<u64, OutboxError> {
    let conn = store.conn();
    let n = match id {
        Some(id) => conn.execute(
            "UPDATE outbox SET state = 'pending', due_ms = ?2 WHERE id = ?1",
            params![id, ms(now)],
        )?,
        None => conn.execute(
            "UPDATE outbox SET state = 'pending', due_ms = ?1",
            [ms(now)],
        )?,
    };
    if let Some(id) = id {
        if n == 0 {
            return Err(OutboxError::NotFound(id.to_owned()));
        }
        conn.execute(
            "UPDATE cases SET status = 'queued' WHERE id = ?1 AND status = 'rejected'",
            [id],
        )?;
    }
    Ok(n as u64)
}

/// Deletes the non-personal stubs of delivered cases older than `days`.
pub fn purge_stubs(store: &mut Store, days: u32, now: Timestamp) -> Result<u64, OutboxError> {
    let cutoff = now - jiff::SignedDuration::from_hours(24 * i64::from(days));
    let n = store.conn().execute(
        "DELETE FROM cases WHERE body IS NULL AND wiped_at IS NOT NULL AND wiped_at < ?1",
        [cutoff.to_string()],
    )?;
    Ok(n as u64)
}

/// The non-personal stub of a case, for progress queries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseStub {
    pub id: String,
    pub seq: u64,
    pub status: String,
    pub unified_code: Option<String>,
    pub matters: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Whether personal data is still held (not yet delivered).
    pub holds_personal_data: bool,
}

/// Looks a case up by id or local number.
pub fn case_stub(store: &mut Store, id_or_seq: &str) -> Result<Option<CaseStub>, OutboxError> {
    let seq: i64 = id_or_seq.parse().unwrap_or(-1);
    let row = store
        .conn()
        .query_row(
            "SELECT id, seq, status, unified_code, matters, created_at, updated_at, body IS NOT NULL
             FROM cases WHERE id = ?1 OR seq = ?2",
            params![id_or_seq, seq],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, bool>(7)?,
                ))
            },
        )
        .optional()?;
    Ok(match row {
        None => None,
        Some((id, seq, status, unified_code, matters, created_at, updated_at, holds)) => {
            Some(CaseStub {
                id,
                seq: seq as u64,
                status,
                unified_code,
                matters: serde_json::from_str(&matters)?,
                created_at,
                updated_at,
                holds_personal_data: holds,
            })
        }
    })
}

/// Reads a queued case back (unsealed), e.g. to print its receipt or for staff to fix it.
pub fn load_case(store: &mut Store, key: &DataKey, id: Uuid) -> Result<Option<Case>, OutboxError> {
    let id_s = id.to_string();
    let sealed: Option<Option<Vec<u8>>> = store
        .conn()
        .query_row("SELECT body FROM cases WHERE id = ?1", [&id_s], |r| {
            r.get(0)
        })
        .optional()?;
    match sealed.flatten() {
        None => Ok(None),
        Some(s) => Ok(Some(serde_json::from_slice(
            &key.open(id_s.as_bytes(), &s)?,
        )?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
const CHECKPOINT_EVERY: u32 = 256;

/// What the delivery worker reports as it goes (for the UI's banner and the CLI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerEvent {
    Step(Step),
    /// How far the item being delivered has come.
    Progress(Progress),
    /// A local failure (store, key): the worker waits and tries again.
    Error(String),
}

/// The delivery worker: delivers due items in order, sleeps until the head is due, wakes
/// early when `wake` is notified (a new submission, a retry, the network coming back), and
/// stops when `stop` turns true. `now` is injectable so tests can warp time.
#[allow(clippy::too_many_arguments)]
pub async fn run_worker<P: Platform>(
    store: std::sync::Arc<Mutex<Store>>,
    key: std::sync::Arc<DataKey>,
    platform: P,
    backoff: Backoff,
    retention_days: u32,
    wake: std::sync::Arc<tokio::sync::Notify>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    events: Option<tokio::sync::mpsc::UnboundedSender<WorkerEvent>>,
) {
    let mut since_checkpoint = 0u32;
    let report = |e: WorkerEvent| {
        if let Some(tx) = &events {
            let _ = tx.send(e);
        }
    };
    loop {
        if *stop.borrow() {
            return;
        }
        let step =
            deliver_next_reporting(&store, &key, &platform, backoff, Timestamp::now(), &|p| {
                report(WorkerEvent::Progress(p))
            })
            .await;
        let wait = match step {
            Ok(Step::Delivered { .. }) | Ok(Step::DeadLettered { .. }) => {
                since_checkpoint += 1;
                if since_checkpoint >= CHECKPOINT_EVERY {
                    since_checkpoint = 0;
                    let _ = checkpoint(&mut store.lock().unwrap_or_else(|p| p.into_inner()));
                }
                report(WorkerEvent::Step(step.expect("matched Ok")));
                continue;
            }
            Ok(Step::Idle) => {
                let mut s = store.lock().unwrap_or_else(|p| p.into_inner());
                if let Err(e) = purge_stubs(&mut s, retention_days, Timestamp::now()) {
                    tracing::warn!(error = %e, "could not purge old case stubs");
                }
                if since_checkpoint > 0 {
                    since_checkpoint = 0;
                    let _ = checkpoint(&mut s);
                }
                // Other processes (kiosk, CLI) queue work without waking this one: look again
                // soon. An idle look is one indexed query.
                Duration::from_secs(5)
            }
            Ok(Step::Waiting { until_ms }) => {
                Duration::from_millis((until_ms - Timestamp::now().as_millisecond()).max(0) as u64)
            }
            Ok(s @ Step::Retry { next_ms, .. }) => {
                report(WorkerEvent::Step(s));
                Duration::from_millis((next_ms - Timestamp::now().as_millisecond()).max(0) as u64)
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
/// at the first item that is not due or failed to deliver.
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
            Step::Delivered { .. } | Step::DeadLettered { .. } => steps.push(step),
            Step::Idle | Step::Waiting { .. } => break,
            Step::Retry { .. } => {
                steps.push(step);
                break;
            }
        }
    }
    checkpoint(&mut store.lock().unwrap_or_else(|p| p.into_inner()))?;
    Ok(steps)
}
