//! The queue as staff and health reports see it: counts, items, retry, quarantine, stubs of
//! delivered cases. No personal data leaves through here.

use jiff::Timestamp;
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ms, queued_bytes, OutboxError, Quota};
use crate::core::crypto::DataKey;
use crate::core::domain::Case;
use crate::core::store::Store;

/// Folds the WAL into the database and truncates it, so wiped pages leave no copy behind.
/// On a full disk the space reserve is given up for it (the checkpoint is what returns the
/// WAL's space), and recreated by [`super::space::ensure_ballast`] once space is back.
pub fn checkpoint(store: &mut Store) -> Result<(), OutboxError> {
    let run = |store: &mut Store| -> Result<(), OutboxError> {
        // busy, log, checkpointed: a checkpoint that could not finish reports busy = 1.
        let busy: i64 = store
            .conn()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        let _ = busy;
        Ok(())
    };
    match run(store) {
        Err(e) if super::space::is_disk_full(&e) => {
            match store.path().parent().map(super::space::release_ballast) {
                Some(true) => run(store),
                _ => Err(e),
            }
        }
        other => other,
    }
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
    /// Items set aside because they could not be read or unsealed (see `queue quarantine`).
    #[serde(default)]
    pub quarantined: u64,
    /// Of those, the cases whose sealed personal data is still held on this terminal.
    #[serde(default)]
    pub quarantined_holding_personal_data: u64,
    /// Until when the circuit breaker holds the queue (Unix ms), if it does.
    #[serde(default)]
    pub paused_until_ms: Option<i64>,
    /// Why it does, for staff.
    #[serde(default)]
    pub paused_reason: Option<String>,
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
    let quarantined = count("quarantined")?;
    let quarantined_holding_personal_data = conn.query_row(
        "SELECT count(*) FROM outbox o JOIN cases c ON c.id = o.id
         WHERE o.state = 'quarantined' AND c.body IS NOT NULL",
        [],
        |r| r.get::<_, i64>(0),
    )? as u64;
    let (b, reason) = super::head::breaker(conn)?;
    let paused_until_ms = b.paused_until(ms(Timestamp::now()));
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
        quarantined,
        quarantined_holding_personal_data,
        paused_until_ms,
        paused_reason: paused_until_ms.and(reason),
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
    items(store, dead_only.then_some("dead"))
}

/// The items set aside because they could not be read or unsealed, with their reasons. Their
/// sealed data is kept: a technician with the right key or a backup can repair them and put
/// them back with [`retry`].
pub fn quarantined(store: &mut Store) -> Result<Vec<QueueItem>, OutboxError> {
    items(store, Some("quarantined"))
}

fn items(store: &mut Store, state: Option<&str>) -> Result<Vec<QueueItem>, OutboxError> {
    let conn = store.conn();
    // Read as text where a damaged row may hold another type: a listing must never fail on
    // the very item staff are looking for.
    let mut stmt = conn.prepare(
        "SELECT CAST(id AS TEXT), seq, kind, state, schema_version, CAST(attempts AS INTEGER),
                CAST(due_ms AS INTEGER), created_at, CAST(last_error AS TEXT), bytes
         FROM outbox WHERE ?1 IS NULL OR state = ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map([state], |r| {
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

/// Makes items due now again: one by id (a dead letter or a quarantined item goes back in
/// the queue), or all. Staff retrying also closes the circuit breaker.
pub fn retry(store: &mut Store, id: Option<&str>, now: Timestamp) -> Result<u64, OutboxError> {
    let conn = store.conn();
    let n = match id {
        Some(id) => conn.execute(
            "UPDATE outbox SET state = 'pending', due_ms = ?2, claimed_by = NULL, claimed_until = NULL WHERE id = ?1",
            params![id, ms(now)],
        )?,
        None => conn.execute(
            "UPDATE outbox SET state = 'pending', due_ms = ?1, claimed_by = NULL, claimed_until = NULL",
            [ms(now)],
        )?,
    };
    if n > 0 {
        conn.execute("DELETE FROM outbox_breaker", [])?;
    }
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

/// Puts every dead letter back in the queue, due now (the remote `retry-dead-letters`
/// command); items waiting or set aside are left as they are. Closes the circuit breaker
/// when anything was re-entered.
pub fn retry_dead(store: &mut Store, now: Timestamp) -> Result<u64, OutboxError> {
    let tx = store.conn().transaction()?;
    let n = tx.execute(
        "UPDATE outbox SET state = 'pending', due_ms = ?1, claimed_by = NULL, claimed_until = NULL
         WHERE state = 'dead'",
        [ms(now)],
    )?;
    if n > 0 {
        tx.execute("DELETE FROM outbox_breaker", [])?;
        tx.execute(
            "UPDATE cases SET status = 'queued' WHERE status = 'rejected'
             AND id IN (SELECT id FROM outbox WHERE state = 'pending')",
            [],
        )?;
    }
    tx.commit()?;
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
