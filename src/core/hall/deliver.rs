//! Delivery of the hall outbox: the supervision events (ticket issued, called, served, no-show,
//! evaluations) that each queue action wrote into `hall_outbox` in its own transaction go to
//! the platform exactly once, by whichever hall agent holds the delivery lock.
//!
//! The lock is a PostgreSQL session-level advisory lock on the delivering connection: a second
//! agent's pass finds it held and waits for its next round ([`Pass::HeldElsewhere`]); an agent
//! that dies mid-delivery loses its connection and with it the lock, and the next holder sends
//! what was not marked delivered — with the same idempotency key (the event's id), so the
//! platform records it once even when the dead agent's last request did reach it.

use jiff::Timestamp;
use uuid::Uuid;

use super::HallDb;
use crate::core::config::TicketingSection;
use crate::core::platform::PlatformError;
use crate::core::ticketing::TicketError;

/// The advisory lock's key: "ykb_hall" in ASCII, one per hall database.
pub const LOCK_KEY: i64 = 0x796b_625f_6861_6c6c;
/// Events read per batch.
const BATCH: i64 = 100;

/// What one delivery pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// This agent held the lock: `sent` events delivered, `refused` finally refused by the
    /// platform (set aside as delivered: they can never be accepted), `left` still pending.
    Delivered {
        sent: usize,
        refused: usize,
        left: i64,
    },
    /// Another agent holds the delivery lock: nothing was sent.
    HeldElsewhere,
}

/// Why a pass stopped early.
#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    #[error(transparent)]
    Hall(#[from] TicketError),
    /// The platform did not take an event (retried on the next pass); `sent` were delivered
    /// before it.
    #[error("大厅监管事件已送出 {sent} 件，其余暂未送出：{error}")]
    Platform { sent: usize, error: PlatformError },
}

/// One pass: takes the delivery lock (or finds it held), sends pending events oldest first
/// through `send` (id as the idempotency key, kind, JSON body) — at most `max` — and marks each
/// delivered after the platform took it.
pub fn deliver(
    cfg: &TicketingSection,
    max: usize,
    mut send: impl FnMut(Uuid, &str, &[u8]) -> Result<(), PlatformError>,
) -> Result<Pass, DeliverError> {
    let mut db = HallDb::connect(cfg)?;
    let c = &mut db.client;
    let locked: bool = c
        .query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK_KEY])
        .map_err(|e| super::describe(&e))?
        .get(0);
    if !locked {
        return Ok(Pass::HeldElsewhere);
    }
    let (mut sent, mut refused) = (0usize, 0usize);
    let outcome = loop {
        let room = (max - sent - refused).min(BATCH as usize) as i64;
        if room == 0 {
            break Ok(());
        }
        let rows = match c.query(
            "SELECT id::text, kind, body::text FROM hall_outbox WHERE delivered_ms IS NULL
             ORDER BY created_ms, id LIMIT $1",
            &[&room],
        ) {
            Ok(r) => r,
            Err(e) => break Err(DeliverError::Hall(super::describe(&e))),
        };
        if rows.is_empty() {
            break Ok(());
        }
        let mut failed = None;
        for r in &rows {
            let (id, kind, body): (String, String, String) = (r.get(0), r.get(1), r.get(2));
            // A uuid column read as text; a row left unsent here would be read again forever.
            let key = match Uuid::parse_str(&id) {
                Ok(k) => k,
                Err(e) => {
                    failed = Some(DeliverError::Hall(TicketError::Hall(format!(
                        "大厅数据库中的监管事件编号无法读取（{e}）：请联系大厅信息员"
                    ))));
                    break;
                }
            };
            match send(key, &kind, body.as_bytes()) {
                Ok(()) => sent += 1,
                Err(e @ PlatformError::ItemRejected { .. }) => {
                    // Final: it can never be accepted, and must not hold the events behind it.
                    tracing::warn!(%key, kind, error = %e, "hall event refused by the platform");
                    refused += 1;
                }
                Err(error) => {
                    failed = Some(DeliverError::Platform { sent, error });
                    break;
                }
            }
            if let Err(e) = c.execute(
                "UPDATE hall_outbox SET delivered_ms = $2 WHERE id = $1::text::uuid",
                &[&id, &Timestamp::now().as_millisecond()],
            ) {
                failed = Some(DeliverError::Hall(super::describe(&e)));
                break;
            }
        }
        if let Some(e) = failed {
            break Err(e);
        }
    };
    let left = c
        .query_one(
            "SELECT count(*) FROM hall_outbox WHERE delivered_ms IS NULL",
            &[],
        )
        .map(|r| r.get::<_, i64>(0));
    let _ = c.execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY]);
    outcome?;
    Ok(Pass::Delivered {
        sent,
        refused,
        left: left.map_err(|e| super::describe(&e))?,
    })
}
