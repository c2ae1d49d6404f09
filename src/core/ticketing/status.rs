//! What the hall display and technicians read: today's queue per service, the windows, the
//! recent calls and the latest call to announce.

use jiff::civil::Date;
use jiff::Timestamp;
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::{
    hall_date, hall_time, is_issuing, label, lease_remaining, read_row, Called, TicketError,
    ROW_COLUMNS,
};
use crate::core::config::TicketingSection;
use crate::core::store::Store;

/// One service's line on the hall display and in `ticket status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceStatus {
    pub prefix: String,
    pub name: String,
    /// Waiting in this service's queue (including tickets sent to one of its windows).
    pub waiting: u32,
    /// Issued today by this store.
    pub issued: u32,
    pub served: u32,
    /// Numbers this store can still issue today.
    pub lease_remaining: u32,
    pub issuing_now: bool,
}

/// One window's line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowStatus {
    pub number: u16,
    pub open: bool,
    /// The ticket being called or served there.
    pub current: Option<String>,
    pub services: Vec<String>,
}

/// The hall as the display and technicians see it today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HallStatus {
    pub date: Date,
    pub services: Vec<ServiceStatus>,
    pub windows: Vec<WindowStatus>,
    /// The latest calls, newest first: (number, window).
    pub recent_calls: Vec<(String, u16)>,
}

/// Today's queue, windows and recent calls.
pub fn status(
    store: &mut Store,
    cfg: &TicketingSection,
    now: Timestamp,
) -> Result<HallStatus, TicketError> {
    let date = hall_date(now);
    let day = date.to_string();
    let t = hall_time(now);
    let mut services = Vec::new();
    for s in &cfg.services {
        let remaining = lease_remaining(store, &s.prefix, date)?;
        let conn = store.conn();
        let (issued, served): (u32, u32) = conn.query_row(
            "SELECT count(*), COALESCE(SUM(state = 'served'), 0) FROM tickets WHERE day = ?1 AND service = ?2",
            params![day, s.prefix],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let waiting: u32 = conn.query_row(
            "SELECT count(*) FROM tickets WHERE day = ?1 AND state = 'waiting' AND queue_service = ?2",
            params![day, s.prefix],
            |r| r.get(0),
        )?;
        services.push(ServiceStatus {
            prefix: s.prefix.clone(),
            name: s.name.clone(),
            waiting,
            issued,
            served,
            lease_remaining: remaining,
            issuing_now: is_issuing(s, t),
        });
    }
    let conn = store.conn();
    let mut windows = Vec::new();
    for w in &cfg.windows {
        // The label only for a ticket of today (one left over from an earlier day is not
        // in progress).
        let row: Option<(bool, Option<String>)> = conn
            .query_row(
                "SELECT w.open,
                        CASE WHEN t.day = ?2 THEN t.service || printf('%03d', t.number) END
                 FROM ticket_windows w LEFT JOIN tickets t ON t.id = w.current
                 WHERE w.number = ?1",
                params![w.number, day],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (open, current) = row.unwrap_or((false, None));
        windows.push(WindowStatus {
            number: w.number,
            open,
            current,
            services: w.services.clone(),
        });
    }
    let mut stmt = conn.prepare(
        "SELECT service, number, window FROM tickets
         WHERE day = ?1 AND called_ms IS NOT NULL AND window IS NOT NULL
         ORDER BY called_ms DESC LIMIT 5",
    )?;
    let recent_calls = stmt
        .query_map([&day], |r| {
            Ok((label(&r.get::<_, String>(0)?, r.get(1)?), r.get(2)?))
        })?
        .collect::<Result<_, _>>()?;
    Ok(HallStatus {
        date,
        services,
        windows,
        recent_calls,
    })
}

/// The latest call today (a recall counts again), for the hall display: which ticket, which
/// window, how many times it has been called, and the announcement to speak.
pub fn latest_call(store: &mut Store, now: Timestamp) -> Result<Option<Called>, TicketError> {
    let day = hall_date(now).to_string();
    let row = store
        .conn()
        .query_row(
            &format!(
                "SELECT {ROW_COLUMNS} FROM tickets
                 WHERE day = ?1 AND called_ms IS NOT NULL AND window IS NOT NULL
                 ORDER BY called_ms DESC, calls DESC LIMIT 1"
            ),
            [&day],
            read_row,
        )
        .optional()?;
    Ok(row.and_then(|r| Some(r.called(r.window?, r.calls))))
}
