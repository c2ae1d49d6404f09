//! The head of the queue: claimed by one deliverer in the store before anything is sent,
//! read and unsealed, or set aside (quarantined) when it cannot be.
//!
//! A claim is `claimed_by` (one delivery attempt's random name) and `claimed_until` (Unix ms,
//! [`CLAIM_TTL`] ahead, renewed after each material): the kiosk's worker, the agent's and
//! the sync timer see the claim and leave the item alone until it is released or expires
//! (a deliverer killed mid-send). Times further ahead than they can legitimately be were
//! decided under a clock since stepped back, and count as past.

use std::time::Duration;

use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::breaker::Breaker;
use super::{OutboxError, KIND_CASE};
use crate::core::crypto::{random_u64, CryptoError, DataKey};
use crate::core::store::Store;

/// How long a claim holds without renewal.
pub const CLAIM_TTL: Duration = Duration::from_secs(120);
/// How far the clocks of deliverers on one store may disagree (each takes its "now" before
/// waiting for the store's lock) before a time ahead counts as decided under a clock since
/// stepped back.
pub const CLOCK_SLACK_MS: i64 = 60_000;

/// A fresh name for one delivery attempt.
pub(super) fn claimer() -> String {
    format!("{}:{:016x}", std::process::id(), random_u64())
}

/// The claimed head's outbox row.
pub(super) struct Row {
    pub rowid: i64,
    pub id: String,
    pub kind: String,
    pub attempts: u32,
    pub payload: Vec<u8>,
}

/// What looking at the head found.
pub(super) enum Look {
    Idle,
    Waiting(i64),
    Busy(i64),
    Paused {
        until_ms: i64,
        reason: String,
    },
    /// The head could not even be read: it was set aside.
    Poisoned {
        id: String,
        reason: String,
    },
    Claimed(Row),
}

/// Reads the breaker's state.
pub(super) fn breaker(
    conn: &rusqlite::Connection,
) -> Result<(Breaker, Option<String>), rusqlite::Error> {
    let row: Option<(String, Option<i64>, Option<String>)> = conn
        .query_row(
            "SELECT streak, open_until, reason FROM outbox_breaker WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(match row {
        None => (Breaker::default(), None),
        Some((streak, open_until_ms, reason)) => (
            Breaker {
                streak: serde_json::from_str(&streak).unwrap_or_default(),
                open_until_ms,
            },
            reason,
        ),
    })
}

/// Writes the breaker's state (`reason` is why it is open).
pub(super) fn save_breaker(
    conn: &rusqlite::Connection,
    b: &Breaker,
    reason: Option<&str>,
) -> Result<(), rusqlite::Error> {
    if b == &Breaker::default() {
        conn.execute("DELETE FROM outbox_breaker", [])?;
    } else {
        conn.execute(
            "INSERT INTO outbox_breaker (id, streak, open_until, reason) VALUES (1, ?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET streak = ?1, open_until = ?2, reason = ?3",
            params![
                serde_json::to_string(&b.streak).unwrap_or_else(|_| "[]".into()),
                b.open_until_ms,
                reason
            ],
        )?;
    }
    Ok(())
}

/// Claims the head for `me` if it is due, unclaimed and the queue is not paused. `horizon_ms`
/// is the longest wait a retry can legitimately have.
pub(super) fn claim(
    store: &mut Store,
    me: &str,
    now_ms: i64,
    horizon_ms: i64,
) -> Result<Look, OutboxError> {
    let tx = store
        .conn()
        .transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (b, reason) = breaker(&tx)?;
    if let Some(until_ms) = b.paused_until(now_ms) {
        return Ok(Look::Paused {
            until_ms,
            reason: reason.unwrap_or_default(),
        });
    }
    let Some(rowid) = tx
        .query_row(
            "SELECT rowid FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT 1",
            [],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
    else {
        return Ok(Look::Idle);
    };
    let row = tx.query_row(
        "SELECT id, kind, attempts, due_ms, claimed_by, claimed_until, payload FROM outbox WHERE rowid = ?1",
        [rowid],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<i64>>(5)?,
                r.get::<_, Vec<u8>>(6)?,
            ))
        },
    );
    let (id, kind, attempts, due_ms, by, until, payload) = match row {
        Ok(r) => r,
        Err(e) if is_poison_sql(&e) => {
            let id: String = tx
                .query_row(
                    "SELECT CAST(id AS TEXT) FROM outbox WHERE rowid = ?1",
                    [rowid],
                    |r| r.get::<_, Option<String>>(0),
                )?
                .unwrap_or_else(|| format!("rowid {rowid}"));
            let reason = format!("暂存记录无法读取（{e}）");
            set_aside(&tx, rowid, &reason)?;
            tx.commit()?;
            return Ok(Look::Poisoned { id, reason });
        }
        Err(e) => return Err(e.into()),
    };
    if due_ms > now_ms && due_ms <= now_ms + horizon_ms + CLOCK_SLACK_MS {
        return Ok(Look::Waiting(due_ms));
    }
    let ttl = CLAIM_TTL.as_millis() as i64;
    if let (Some(by), Some(until)) = (by, until) {
        if by != me && until > now_ms && until <= now_ms + ttl + CLOCK_SLACK_MS {
            return Ok(Look::Busy(until));
        }
    }
    tx.execute(
        "UPDATE outbox SET claimed_by = ?2, claimed_until = ?3 WHERE rowid = ?1",
        params![rowid, me, now_ms + ttl],
    )?;
    tx.commit()?;
    Ok(Look::Claimed(Row {
        rowid,
        id,
        kind,
        attempts: attempts.clamp(0, i64::from(u32::MAX)) as u32,
        payload,
    }))
}

/// Extends `me`'s claim on item `id` (after each material uploaded).
pub(super) fn renew(store: &mut Store, id: &str, me: &str, now_ms: i64) {
    if let Err(e) = store.conn().execute(
        "UPDATE outbox SET claimed_until = ?3 WHERE id = ?1 AND claimed_by = ?2",
        params![id, me, now_ms + CLAIM_TTL.as_millis() as i64],
    ) {
        tracing::warn!(id, error = %e, "could not renew a delivery claim");
    }
}

/// Gives a claim up without changing anything else (a local failure before sending).
pub(super) fn release(store: &mut Store, id: &str, me: &str) {
    let _ = store.conn().execute(
        "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE id = ?1 AND claimed_by = ?2",
        params![id, me],
    );
}

/// A claimed case or event, unsealed and ready to send.
pub(super) struct Head {
    pub body: Vec<u8>,
    /// Material id, stored size and image, for cases, in id order, not yet uploaded.
    pub pending_images: Vec<(String, u64, Vec<u8>)>,
    /// Stored size of the materials uploaded by earlier attempts.
    pub uploaded_bytes: u64,
}

/// Why a claimed item could not be loaded.
pub(super) enum LoadError {
    /// The item itself is damaged: set it aside with this reason.
    Poison(String),
    /// The store failed (busy, full, I/O): try again later.
    Local(OutboxError),
}

impl From<rusqlite::Error> for LoadError {
    fn from(e: rusqlite::Error) -> Self {
        if is_poison_sql(&e) {
            Self::Poison(format!("暂存记录无法读取（{e}）"))
        } else {
            Self::Local(e.into())
        }
    }
}

impl From<CryptoError> for LoadError {
    fn from(e: CryptoError) -> Self {
        match e {
            CryptoError::Damaged(_) => Self::Poison(e.to_string()),
            other => Self::Local(other.into()),
        }
    }
}

/// Errors that say the row itself is bad, not that the store is unwell.
fn is_poison_sql(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::QueryReturnedNoRows
            | rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::IntegralValueOutOfRange(..)
            | rusqlite::Error::Utf8Error(..)
    )
}

/// Reads and unseals the claimed item.
pub(super) fn load(store: &mut Store, key: &DataKey, row: &Row) -> Result<Head, LoadError> {
    let id_s = &row.id;
    if uuid::Uuid::parse_str(id_s).is_err() {
        return Err(LoadError::Poison(format!("暂存记录编号 {id_s:?} 无效")));
    }
    let conn = store.conn();
    if row.kind != KIND_CASE {
        return Ok(Head {
            body: key.open(id_s.as_bytes(), &row.payload)?,
            pending_images: Vec::new(),
            uploaded_bytes: 0,
        });
    }
    let sealed: Option<Vec<u8>> = conn
        .query_row("SELECT body FROM cases WHERE id = ?1", [id_s], |r| r.get(0))
        .map_err(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => {
                LoadError::Poison(format!("暂存的办件 {id_s} 缺少办件记录"))
            }
            other => other.into(),
        })?;
    let sealed = sealed.ok_or_else(|| CryptoError::Damaged(id_s.clone()))?;
    let body = key.open(id_s.as_bytes(), &sealed)?;
    let uploaded: i64 = conn.query_row(
        "SELECT COALESCE(SUM(size), 0) FROM case_materials WHERE case_id = ?1 AND uploaded = 1",
        [id_s],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare_cached(
        "SELECT material_id, size, image FROM case_materials WHERE case_id = ?1 AND uploaded = 0 ORDER BY material_id",
    )?;
    let rows = stmt.query_map([id_s], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, Vec<u8>>(2)?,
        ))
    })?;
    let mut pending_images = Vec::new();
    for row in rows {
        let (mid, size, sealed) = row?;
        let img = key.open(format!("{id_s}/{mid}").as_bytes(), &sealed)?;
        pending_images.push((mid, size.max(0) as u64, img));
    }
    Ok(Head {
        body,
        pending_images,
        uploaded_bytes: uploaded.max(0) as u64,
    })
}

/// Moves a pending item to quarantine with its reason; its sealed data stays as it is.
fn set_aside(conn: &rusqlite::Connection, rowid: i64, reason: &str) -> Result<(), rusqlite::Error> {
    conn.execute(
        "UPDATE outbox SET state = 'quarantined', last_error = ?2, claimed_by = NULL, claimed_until = NULL
         WHERE rowid = ?1 AND state = 'pending'",
        params![rowid, reason],
    )?;
    Ok(())
}

/// Quarantines the claimed item `row` (it could not be loaded).
pub(super) fn quarantine(store: &mut Store, row: &Row, reason: &str) -> Result<(), OutboxError> {
    set_aside(store.conn(), row.rowid, reason)?;
    tracing::warn!(id = %row.id, %reason, "outbox item cannot be read; set aside (quarantined), delivery goes on");
    Ok(())
}

/// Whether a case is being sent right now: a pending case under a live claim (whoever holds
/// it — the kiosk's worker, the agent's, the sync timer's). Software updates wait for it.
pub fn case_in_flight(store: &mut Store, now_ms: i64) -> Result<bool, OutboxError> {
    let latest = now_ms + CLAIM_TTL.as_millis() as i64 + CLOCK_SLACK_MS;
    Ok(store.conn().query_row(
        "SELECT EXISTS (SELECT 1 FROM outbox WHERE state = 'pending' AND kind = ?1
             AND claimed_by IS NOT NULL AND claimed_until > ?2 AND claimed_until <= ?3)",
        params![KIND_CASE, now_ms, latest],
        |r| r.get(0),
    )?)
}
