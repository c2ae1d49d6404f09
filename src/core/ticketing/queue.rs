//! The queue in the store: issuing (取号, 预约签到), opening windows, and each window's
//! actions (call next, call by number, recall, skip, hold, serve, transfer) and 好差评. Each
//! writes its change and its supervision event in one transaction.

use jiff::Timestamp;
use rusqlite::{params, OptionalExtension, Transaction};
use uuid::Uuid;

use super::{
    ahead_of, evaluation_body, evaluation_day, event_body, finish_event_extra, finish_event_kind,
    hall_date, hall_time, immediate, label, next_state, pick_next, plan_issue, qr_payload,
    read_row, service, Action, Called, Candidate, Embedded, Finished, IssueRequest, IssuedTicket,
    Row, TicketError, TicketNumber, TicketRef, Transfer, EVENT_CALLED, EVENT_EVALUATION,
    EVENT_ISSUED, EVENT_WITHDRAWN, ROW_COLUMNS,
};
use crate::core::config::TicketingSection;
use crate::core::crypto::DataKey;
use crate::core::domain::EvaluationLevel;
use crate::core::outbox::{enqueue_event_in, Quota};
use crate::core::store::{next_sequence_in, Store};

/// Issues a ticket (取号) or checks an appointment in (预约签到): the number from this
/// terminal's lease, the ticket row, and the `ticket_issued` event in one transaction.
pub fn issue(
    store: &mut Store,
    key: &DataKey,
    quota: Quota,
    cfg: &TicketingSection,
    req: &IssueRequest,
    now: Timestamp,
) -> Result<IssuedTicket, TicketError> {
    let plan = plan_issue(cfg, req, hall_date(now), hall_time(now))?;
    let (svc, kind, appointment, today) = (&plan.service, plan.kind, plan.appointment, plan.today);
    let day = today.to_string();
    let tx = immediate(store)?;
    if let Some(code) = &appointment {
        let existing: Option<(String, i64)> = tx
            .query_row(
                "SELECT service, number FROM tickets WHERE day = ?1 AND appointment = ?2",
                params![day, code],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((s, n)) = existing {
            return Err(TicketError::DuplicateCheckIn {
                code: code.clone(),
                number: label(&s, n),
            });
        }
    }
    let number = take_number(&tx, svc, &day)?;
    let id = Uuid::now_v7();
    let queue_seq = next_sequence_in(&tx, "ticket")?;
    let priority = kind.priority(cfg);
    let number_t = TicketNumber {
        prefix: svc.prefix.chars().next().unwrap_or('A'),
        number,
    };
    tx.execute(
        "INSERT INTO tickets (id, day, service, number, kind, priority, appointment, state,
                              queue_service, queue_seq, issued_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'waiting', ?3, ?8, ?9)",
        params![
            id.to_string(),
            day,
            svc.prefix,
            number,
            kind.as_str(),
            priority,
            appointment,
            queue_seq as i64,
            now.as_millisecond()
        ],
    )?;
    let me = Candidate {
        transferred: false,
        priority,
        issued_ms: now.as_millisecond(),
        queue_seq,
    };
    let waiting_before = ahead_of(&queue_of(&tx, &day, &svc.prefix)?, &me);
    let body = serde_json::json!({
        "ticket": id,
        "hall": cfg.hall,
        "day": day,
        "service": svc.prefix,
        "number": number_t.to_string(),
        "kind": kind,
        "appointment": appointment,
        "waiting_before": waiting_before,
        "at": now,
    });
    enqueue_event_in(&tx, key, quota, EVENT_ISSUED, &body, now)?;
    tx.commit()?;
    Ok(IssuedTicket {
        id,
        number: number_t.to_string(),
        service: svc.prefix.clone(),
        service_name: svc.name.clone(),
        date: today,
        kind,
        waiting_before,
        offline: false,
        qr: qr_payload(today, number_t),
        issued_at: now,
    })
}

/// Takes the next number of this terminal's lease for `svc` on `day` (the store's leases are
/// disjoint per hall, service and day, so no other terminal holds it), or says why there is
/// none: the daily cap reached, or the lease used up.
pub(crate) fn take_number(
    tx: &Transaction<'_>,
    svc: &crate::core::config::HallService,
    day: &str,
) -> Result<u32, TicketError> {
    let lease: Option<(i64, u32)> = tx
        .query_row(
            "SELECT id, next FROM ticket_leases WHERE service = ?1 AND day = ?2 AND next <= last
             ORDER BY first LIMIT 1",
            params![svc.prefix, day],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((lease_id, number)) = lease.filter(|(_, n)| *n <= svc.daily_cap) else {
        let top: i64 = tx.query_row(
            "SELECT COALESCE(MAX(last), 0) FROM ticket_leases WHERE service = ?1 AND day = ?2",
            params![svc.prefix, day],
            |r| r.get(0),
        )?;
        return Err(if top >= i64::from(svc.daily_cap) {
            TicketError::CapReached {
                service: svc.name.clone(),
                cap: svc.daily_cap,
            }
        } else {
            TicketError::LeaseExhausted {
                service: svc.name.clone(),
            }
        });
    };
    tx.execute(
        "UPDATE ticket_leases SET next = next + 1 WHERE id = ?1",
        [lease_id],
    )?;
    Ok(number)
}

/// Waiting tickets of a service's own queue (not those sent to a particular window).
fn queue_of(tx: &Transaction<'_>, day: &str, service: &str) -> Result<Vec<Candidate>, TicketError> {
    let mut stmt = tx.prepare_cached(
        "SELECT transferred, priority, queue_seq, issued_ms FROM tickets
         WHERE day = ?1 AND state = 'waiting' AND queue_service = ?2 AND target_window IS NULL",
    )?;
    let rows = stmt.query_map(params![day, service], |r| {
        Ok(Candidate {
            transferred: r.get(0)?,
            priority: r.get(1)?,
            queue_seq: r.get::<_, i64>(2)? as u64,
            issued_ms: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn window_cfg(
    cfg: &TicketingSection,
    window: u16,
) -> Result<&crate::core::config::HallWindow, TicketError> {
    cfg.windows
        .iter()
        .find(|w| w.number == window)
        .ok_or(TicketError::UnknownWindow(window))
}

fn window_open(tx: &Transaction<'_>, window: u16) -> Result<bool, TicketError> {
    Ok(tx
        .query_row(
            "SELECT open FROM ticket_windows WHERE number = ?1",
            [window],
            |r| r.get::<_, bool>(0),
        )
        .optional()?
        .unwrap_or(false))
}

/// The window's current ticket today, if any. A ticket left current on an earlier day is
/// let go (it can never be served now).
fn current(tx: &Transaction<'_>, window: u16, today: &str) -> Result<Option<Row>, TicketError> {
    let id: Option<String> = tx
        .query_row(
            "SELECT current FROM ticket_windows WHERE number = ?1",
            [window],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    let Some(id) = id else { return Ok(None) };
    let row = tx
        .query_row(
            &format!("SELECT {ROW_COLUMNS} FROM tickets WHERE id = ?1"),
            [&id],
            read_row,
        )
        .optional()?;
    match row {
        Some(r) if r.day == today => Ok(Some(r)),
        _ => {
            tx.execute(
                "UPDATE tickets SET state = 'expired' WHERE id = ?1 AND state = 'called'",
                [&id],
            )?;
            tx.execute(
                "UPDATE ticket_windows SET current = NULL WHERE number = ?1",
                [window],
            )?;
            Ok(None)
        }
    }
}

/// Opens a window for calling (a clerk signed in) or closes it. A window with a ticket in
/// progress cannot close.
pub fn set_window_open(
    store: &mut Store,
    cfg: &TicketingSection,
    window: u16,
    open: bool,
    now: Timestamp,
) -> Result<(), TicketError> {
    window_cfg(cfg, window)?;
    let today = hall_date(now).to_string();
    let tx = immediate(store)?;
    if !open {
        if let Some(r) = current(&tx, window, &today)? {
            return Err(TicketError::WindowBusy {
                window,
                number: r.label(),
            });
        }
    }
    tx.execute(
        "INSERT INTO ticket_windows (number, open) VALUES (?1, ?2)
         ON CONFLICT(number) DO UPDATE SET open = excluded.open",
        params![window, open],
    )?;
    tx.commit()?;
    Ok(())
}

/// Checks the window is configured, open and free; returns the transaction.
fn free_window<'s>(
    store: &'s mut Store,
    cfg: &TicketingSection,
    window: u16,
    today: &str,
) -> Result<Transaction<'s>, TicketError> {
    window_cfg(cfg, window)?;
    let tx = immediate(store)?;
    if !window_open(&tx, window)? {
        return Err(TicketError::WindowClosed(window));
    }
    if let Some(r) = current(&tx, window, today)? {
        return Err(TicketError::WindowBusy {
            window,
            number: r.label(),
        });
    }
    Ok(tx)
}

/// The window's actions on the queue. Each is one transaction with its supervision event.
impl Embedded<'_> {
    pub(super) fn call_next_at(
        &mut self,
        window: u16,
        now: Timestamp,
    ) -> Result<Called, TicketError> {
        let (key, quota, cfg) = (self.key, self.quota, self.cfg);
        let today = hall_date(now).to_string();
        let services = window_cfg(cfg, window)?.services.clone();
        let tx = free_window(self.store, cfg, window, &today)?;
        let rows: Vec<(String, Candidate)> = {
            let mut stmt = tx.prepare_cached(
            "SELECT id, transferred, priority, queue_seq, target_window, queue_service, issued_ms
             FROM tickets WHERE day = ?1 AND state = 'waiting'",
        )?;
            let rows = stmt.query_map([&today], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    Candidate {
                        transferred: r.get(1)?,
                        priority: r.get(2)?,
                        queue_seq: r.get::<_, i64>(3)? as u64,
                        issued_ms: r.get(6)?,
                    },
                    r.get::<_, Option<u16>>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (id, c, target, svc) = row?;
                let mine = match target {
                    Some(w) => w == window,
                    None => services.contains(&svc),
                };
                if mine {
                    out.push((id, c));
                }
            }
            out
        };
        let candidates: Vec<Candidate> = rows.iter().map(|(_, c)| *c).collect();
        let Some(i) = pick_next(&candidates) else {
            return Err(TicketError::NobodyWaiting(window));
        };
        let row = load(&tx, &rows[i].0)?;
        let called = do_call(&tx, key, quota, cfg, window, row, now)?;
        tx.commit()?;
        Ok(called)
    }

    /// Calls one ticket by number or QR text (a held ticket back to its window, a citizen who
    /// came to the window directly). Refuses a ticket of another day, one called elsewhere,
    /// and one already finished.
    pub(super) fn call_ticket_at(
        &mut self,
        window: u16,
        reference: &TicketRef,
        now: Timestamp,
    ) -> Result<Called, TicketError> {
        let (key, quota, cfg) = (self.key, self.quota, self.cfg);
        let today_d = hall_date(now);
        let today = today_d.to_string();
        if let Some(d) = reference.date.filter(|d| *d != today_d) {
            return Err(TicketError::Stale {
                number: reference.number.to_string(),
                date: d,
            });
        }
        let tx = free_window(self.store, cfg, window, &today)?;
        let row = tx
            .query_row(
                &format!(
                "SELECT {ROW_COLUMNS} FROM tickets WHERE day = ?1 AND service = ?2 AND number = ?3"
            ),
                params![
                    today,
                    reference.number.prefix.to_string(),
                    reference.number.number
                ],
                read_row,
            )
            .optional()?
            .ok_or_else(|| TicketError::UnknownTicket(reference.number.to_string()))?;
        let called = do_call(&tx, key, quota, cfg, window, row, now)?;
        tx.commit()?;
        Ok(called)
    }

    /// 重呼: announces the window's current ticket again.
    pub(super) fn recall_at(&mut self, window: u16, now: Timestamp) -> Result<Called, TicketError> {
        let (key, quota, cfg) = (self.key, self.quota, self.cfg);
        window_cfg(cfg, window)?;
        let today = hall_date(now).to_string();
        let tx = immediate(self.store)?;
        let row = current(&tx, window, &today)?.ok_or(TicketError::NothingCurrent(window))?;
        let calls = row.calls + 1;
        tx.execute(
            "UPDATE tickets SET calls = ?2, called_ms = ?3 WHERE id = ?1",
            params![row.id, calls, now.as_millisecond()],
        )?;
        event(&tx, key, quota, cfg, EVENT_CALLED, &row, window, now, |b| {
            b["calls"] = calls.into();
        })?;
        tx.commit()?;
        Ok(row.called(window, calls))
    }

    /// Ends the window's current ticket with `action`: skip (过号), hold (暂挂), serve (办结) or
    /// transfer (转出, with `to`).
    pub(super) fn finish_at(
        &mut self,
        window: u16,
        action: Action,
        to: Option<&Transfer>,
        now: Timestamp,
    ) -> Result<Finished, TicketError> {
        if action == Action::Withdraw {
            return Err(TicketError::NothingCurrent(window));
        }
        let (key, quota, cfg) = (self.key, self.quota, self.cfg);
        window_cfg(cfg, window)?;
        let today = hall_date(now).to_string();
        let tx = immediate(self.store)?;
        if let Some(t) = to {
            match t {
                Transfer::Window(w) if *w == window => return Err(TicketError::TransferToSelf),
                Transfer::Window(w) => {
                    window_cfg(cfg, *w)?;
                    if !window_open(&tx, *w)? {
                        return Err(TicketError::WindowClosed(*w));
                    }
                }
                Transfer::Service(s) => {
                    service(cfg, s)?;
                }
            }
        }
        let row = current(&tx, window, &today)?.ok_or(TicketError::NothingCurrent(window))?;
        let state = next_state(row.state, action).ok_or_else(|| TicketError::NotCallable {
            number: row.label(),
            state: row.state.describe_zh(),
        })?;
        let now_ms = now.as_millisecond();
        let wait_secs = row.first_called_ms.map(|f| (f - row.issued_ms) / 1000);
        let service_secs = row.called_ms.map(|c| (now_ms - c) / 1000);
        match to {
        Some(Transfer::Window(w)) => tx.execute(
            "UPDATE tickets SET state = ?2, transferred = 1, target_window = ?3 WHERE id = ?1",
            params![row.id, state.as_str(), w],
        )?,
        Some(Transfer::Service(s)) => tx.execute(
            "UPDATE tickets SET state = ?2, transferred = 1, target_window = NULL, queue_service = ?3
             WHERE id = ?1",
            params![row.id, state.as_str(), s.trim().to_ascii_uppercase()],
        )?,
        None => tx.execute(
            "UPDATE tickets SET state = ?2, finished_ms = ?3 WHERE id = ?1",
            params![row.id, state.as_str(), now_ms],
        )?,
    };
        tx.execute(
            "UPDATE ticket_windows SET current = NULL WHERE number = ?1",
            [window],
        )?;
        if let Some(kind) = finish_event_kind(action) {
            event(&tx, key, quota, cfg, kind, &row, window, now, |b| {
                finish_event_extra(b, action, to, wait_secs, service_secs)
            })?;
        }
        tx.commit()?;
        Ok(Finished {
            id: row.uuid(),
            number: row.label(),
            window,
            state,
            wait_secs,
            service_secs: (action == Action::Serve).then_some(service_secs).flatten(),
        })
    }
}

impl Embedded<'_> {
    /// Withdraws a waiting ticket whose printing failed (已作废); no event: the platform was
    /// told it was issued, and is told it was withdrawn as a no-show would be.
    pub(super) fn withdraw_ticket(
        &mut self,
        id: Uuid,
        now: Timestamp,
    ) -> Result<Finished, TicketError> {
        let (key, quota, cfg) = (self.key, self.quota, self.cfg);
        let tx = immediate(self.store)?;
        let row = tx
            .query_row(
                &format!("SELECT {ROW_COLUMNS} FROM tickets WHERE id = ?1"),
                [id.to_string()],
                read_row,
            )
            .optional()?
            .ok_or_else(|| TicketError::UnknownTicket(id.to_string()))?;
        let state =
            next_state(row.state, Action::Withdraw).ok_or_else(|| TicketError::NotCallable {
                number: row.label(),
                state: row.state.describe_zh(),
            })?;
        tx.execute(
            "UPDATE tickets SET state = ?2, finished_ms = ?3 WHERE id = ?1",
            params![row.id, state.as_str(), now.as_millisecond()],
        )?;
        event(&tx, key, quota, cfg, EVENT_WITHDRAWN, &row, 0, now, |_| {})?;
        tx.commit()?;
        Ok(Finished {
            id: row.uuid(),
            number: row.label(),
            window: 0,
            state,
            wait_secs: None,
            service_secs: None,
        })
    }
}

fn load(tx: &Transaction<'_>, id: &str) -> Result<Row, TicketError> {
    Ok(tx.query_row(
        &format!("SELECT {ROW_COLUMNS} FROM tickets WHERE id = ?1"),
        [id],
        read_row,
    )?)
}

fn do_call(
    tx: &Transaction<'_>,
    key: &DataKey,
    quota: Quota,
    cfg: &TicketingSection,
    window: u16,
    row: Row,
    now: Timestamp,
) -> Result<Called, TicketError> {
    row.callable()?;
    let now_ms = now.as_millisecond();
    let calls = row.calls + 1;
    tx.execute(
        "UPDATE tickets SET state = 'called', window = ?2, calls = ?3, called_ms = ?4,
             first_called_ms = COALESCE(first_called_ms, ?4), target_window = NULL
         WHERE id = ?1",
        params![row.id, window, calls, now_ms],
    )?;
    tx.execute(
        "UPDATE ticket_windows SET current = ?2 WHERE number = ?1",
        params![window, row.id],
    )?;
    let called = row.called(window, calls);
    let wait_secs = (row.first_called_ms.unwrap_or(now_ms) - row.issued_ms) / 1000;
    event(tx, key, quota, cfg, EVENT_CALLED, &row, window, now, |b| {
        b["calls"] = calls.into();
        b["wait_secs"] = wait_secs.into();
    })?;
    Ok(called)
}

#[allow(clippy::too_many_arguments)]
fn event(
    tx: &Transaction<'_>,
    key: &DataKey,
    quota: Quota,
    cfg: &TicketingSection,
    kind: &str,
    row: &Row,
    window: u16,
    now: Timestamp,
    extra: impl FnOnce(&mut serde_json::Value),
) -> Result<(), TicketError> {
    let body = event_body(cfg, row, window, now, extra);
    enqueue_event_in(tx, key, quota, kind, &body, now)?;
    Ok(())
}

/// 好差评 of a served ticket, queued as an `evaluation` event; once per ticket.
#[allow(clippy::too_many_arguments)]
pub fn evaluate(
    store: &mut Store,
    key: &DataKey,
    quota: Quota,
    cfg: &TicketingSection,
    reference: &TicketRef,
    level: EvaluationLevel,
    reasons: &[String],
    now: Timestamp,
) -> Result<Uuid, TicketError> {
    let day = evaluation_day(reference, level, reasons, now)?;
    let tx = immediate(store)?;
    let row = tx
        .query_row(
            &format!(
                "SELECT {ROW_COLUMNS} FROM tickets WHERE day = ?1 AND service = ?2 AND number = ?3"
            ),
            params![
                day.to_string(),
                reference.number.prefix.to_string(),
                reference.number.number
            ],
            read_row,
        )
        .optional()?
        .ok_or_else(|| TicketError::UnknownTicket(reference.number.to_string()))?;
    row.evaluable()?;
    tx.execute("UPDATE tickets SET evaluated = 1 WHERE id = ?1", [&row.id])?;
    let body = evaluation_body(cfg, &row, level, reasons, now);
    let id = enqueue_event_in(&tx, key, quota, EVENT_EVALUATION, &body, now)?;
    tx.commit()?;
    Ok(id)
}
