//! The hall queue on the hall database: [`Hall`] implements [`HallQueue`] with the embedded
//! queue's decisions (`plan_issue`, the call order, `next_state`, the announcement and the
//! events' bodies) and the database's guarantees:
//!
//! - every window action first locks its window's row (`FOR UPDATE`), so one window's actions
//!   from two processes take turns, and the partial unique index keeps one called ticket per
//!   window;
//! - call-next takes, in one statement, the first waiting ticket in call order
//!   (`CALL_ORDER_SQL`, the embedded queue's `pick_next` order in SQL) that it can lock with
//!   `FOR UPDATE SKIP LOCKED`: two windows never get the same ticket, and neither waits for
//!   the other;
//! - a number comes from this terminal's lease (its own store) and is unique in the hall
//!   (`hall_number_once`); a repeated tap returns its ticket (`hall_one_ticket_per_tap`);
//! - each change writes its supervision event into `hall_outbox` in the same transaction and is
//!   announced (`NOTIFY ykb_hall`) just after its commit ([`announce`]);
//! - every statement is prepared once per connection ([`super::prepared`]).

use jiff::Timestamp;
use postgres::error::SqlState;
use uuid::Uuid;

use super::prepared::{Cached, Tx};
use super::{describe, HallDb, CHANNEL};
use crate::core::config::TicketingSection;
use crate::core::domain::EvaluationLevel;
use crate::core::store::Store;
use crate::core::ticketing::{
    ahead_of, evaluation_body, evaluation_day, event_body, finish_event_extra, finish_event_kind,
    hall_date, hall_time, label, lease_remaining, next_state, plan_issue, qr_payload, service,
    take_number, window_cfg, Action, Called, Candidate, Finished, HallQueue, HallStatus,
    IssueRequest, IssuedTicket, Row, ServiceStatus, TicketError, TicketKind, TicketNumber,
    TicketRef, TicketState, Transfer, WindowStatus, CALL_ORDER_SQL, EVENT_CALLED, EVENT_EVALUATION,
    EVENT_ISSUED, EVENT_WITHDRAWN,
};

/// The hall's queue as one terminal sees it: the hall database, this terminal's store (its
/// number leases) and the hall's ticketing section.
pub struct Hall<'a> {
    pub db: &'a mut HallDb,
    pub store: &'a mut Store,
    pub cfg: &'a TicketingSection,
    /// Who issues (the terminal's name), recorded with each ticket.
    pub terminal: &'a str,
}

const COLS: &str = "id::text, day::text, service, number, kind, state, at_window, calls,
    issued_ms, first_called_ms, called_ms, evaluated";

fn row_of(r: &postgres::Row) -> Row {
    Row {
        id: r.get(0),
        day: r.get(1),
        service: r.get(2),
        number: i64::from(r.get::<_, i32>(3)),
        kind: TicketKind::parse(r.get(4)),
        state: TicketState::parse(r.get(5)),
        window: r.get::<_, Option<i32>>(6).map(|w| w as u16),
        calls: r.get::<_, i32>(7) as u32,
        issued_ms: r.get(8),
        first_called_ms: r.get(9),
        called_ms: r.get(10),
        evaluated: r.get(11),
    }
}

pub(super) fn pg<T>(r: Result<T, postgres::Error>) -> Result<T, TicketError> {
    r.map_err(|e| describe(&e))
}

/// A ticket row going into the hall queue: what `issue` decided, or an offline ticket being
/// replayed.
pub(super) struct NewTicket<'p> {
    pub id: Uuid,
    pub day: &'p str,
    pub service: &'p str,
    pub number: u32,
    pub kind: TicketKind,
    pub priority: u8,
    pub appointment: Option<&'p str>,
    pub tap: Option<Uuid>,
    pub issued_ms: i64,
}

/// Inserts a waiting ticket; `None` when a ticket with the same `on_conflict` column (`tap`
/// for a repeated tap, `id` for a repeated replay) is already there. Its queue position
/// otherwise.
pub(super) fn insert_ticket(
    tx: &mut Tx<'_>,
    hall: &str,
    terminal: &str,
    t: &NewTicket<'_>,
    on_conflict: &'static str,
) -> Result<Option<i64>, postgres::Error> {
    debug_assert!(matches!(on_conflict, "tap" | "id"));
    let row = tx.query_opt(
        &format!(
            "INSERT INTO hall_tickets (id, hall, day, service, number, kind, priority, appointment,
                                       tap, state, queue_service, issued_ms, issued_by)
             VALUES ($1::text::uuid, $2, $3::text::date, $4, $5, $6, $7, $8, $9::text::uuid,
                     'waiting', $4, $10, $11)
             ON CONFLICT ({on_conflict}) DO NOTHING
             RETURNING queue_seq"
        ),
        &[
            &t.id.to_string(),
            &hall,
            &t.day,
            &t.service,
            &(t.number as i32),
            &t.kind.as_str(),
            &i16::from(t.priority),
            &t.appointment,
            &t.tap.map(|t| t.to_string()),
            &t.issued_ms,
            &terminal,
        ],
    )?;
    Ok(row.map(|r| r.get(0)))
}

/// Writes a supervision event into the hall outbox (the caller announces the change after
/// its commit, [`announce`]).
pub(super) fn event(
    tx: &mut Tx<'_>,
    kind: &str,
    body: &serde_json::Value,
    now: Timestamp,
) -> Result<Uuid, TicketError> {
    let id = Uuid::now_v7();
    pg(tx.execute(
        "INSERT INTO hall_outbox (id, kind, body, created_ms) VALUES ($1::text::uuid, $2, $3::text::jsonb, $4)",
        &[&id.to_string(), &kind, &body.to_string(), &now.as_millisecond()],
    ))?;
    Ok(id)
}

/// Tells every listener of the hall (displays, counters) that its queue changed: called
/// after the change committed, in a transaction of its own.
///
/// Not inside the change's transaction: PostgreSQL serialises the commits of all notifying
/// transactions of a database behind one lock, held while the commit is flushed (and, with a
/// synchronous standby, until the standby confirmed). Sent alone, with `synchronous_commit`
/// off for that one tiny transaction, the lock is held for microseconds and the changes
/// themselves commit side by side. A notification lost with the connection is made up for by
/// the listeners' periodic re-read; the change itself is already committed and is not undone.
pub(super) fn announce(db: &mut HallDb, cfg: &TicketingSection) {
    if let Err(e) = db.execute(
        "SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, $2)",
        &[&CHANNEL, &cfg.hall],
    ) {
        tracing::warn!(error = %e, "hall change committed but not announced");
    }
}

impl Hall<'_> {
    fn begin(&mut self) -> Result<Tx<'_>, TicketError> {
        pg(Tx::begin(&mut self.db.client, &mut self.db.stmts))
    }

    /// The ticket issued for `tap`, if it was.
    fn by_tap(&mut self, tap: Uuid) -> Result<Option<IssuedTicket>, TicketError> {
        let cfg = self.cfg;
        let row = pg(self.db.query_opt(
            &format!(
                "SELECT {COLS}, priority, queue_seq FROM hall_tickets WHERE tap = $1::text::uuid"
            ),
            &[&tap.to_string()],
        ))?;
        let Some(r) = row else { return Ok(None) };
        let ticket = row_of(&r);
        let me = Candidate {
            transferred: false,
            priority: r.get::<_, i16>(12) as u8,
            issued_ms: ticket.issued_ms,
            queue_seq: r.get::<_, i64>(13) as u64,
        };
        let queue = queue_of(self.db, &cfg.hall, &ticket.day, &ticket.service)?;
        Ok(Some(issued(cfg, &ticket, ahead_of(&queue, &me))?))
    }
}

fn issued(
    cfg: &TicketingSection,
    row: &Row,
    waiting_before: u32,
) -> Result<IssuedTicket, TicketError> {
    let svc = service(cfg, &row.service)?;
    let date: jiff::civil::Date = row
        .day
        .parse()
        .map_err(|_| TicketError::Hall(format!("大厅数据库中的日期 {:?} 无法识别", row.day)))?;
    let number = TicketNumber {
        prefix: row.service.chars().next().unwrap_or('A'),
        number: row.number as u32,
    };
    Ok(IssuedTicket {
        id: row.uuid(),
        number: number.to_string(),
        service: row.service.clone(),
        service_name: svc.name.clone(),
        date,
        kind: row.kind,
        waiting_before,
        offline: false,
        qr: qr_payload(date, number),
        issued_at: Timestamp::from_millisecond(row.issued_ms).unwrap_or_default(),
    })
}

/// Waiting tickets of a service's own queue (not those sent to a particular window).
fn queue_of(
    c: &mut impl Cached,
    hall: &str,
    day: &str,
    service: &str,
) -> Result<Vec<Candidate>, TicketError> {
    let rows = pg(c.query(
        "SELECT transferred, priority, queue_seq, issued_ms FROM hall_tickets
         WHERE hall = $1 AND day = $2::text::date AND state = 'waiting' AND queue_service = $3
           AND target_window IS NULL",
        &[&hall, &day, &service],
    ))?;
    Ok(rows
        .iter()
        .map(|r| Candidate {
            transferred: r.get(0),
            priority: r.get::<_, i16>(1) as u8,
            queue_seq: r.get::<_, i64>(2) as u64,
            issued_ms: r.get(3),
        })
        .collect())
}

/// Locks the window's row for this transaction (creating it closed) and says whether it is
/// open.
fn lock_window(tx: &mut Tx<'_>, hall: &str, window: u16) -> Result<bool, TicketError> {
    // One round trip: the upsert's no-op update locks the row like `FOR UPDATE` and returns
    // it, whether it was there or has just been made.
    let r = pg(tx.query_one(
        "INSERT INTO hall_windows (hall, number) VALUES ($1, $2)
         ON CONFLICT (hall, number) DO UPDATE SET open = hall_windows.open
         RETURNING open",
        &[&hall, &i32::from(window)],
    ))?;
    Ok(r.get(0))
}

fn window_open(tx: &mut Tx<'_>, hall: &str, window: u16) -> Result<bool, TicketError> {
    let r = pg(tx.query_opt(
        "SELECT open FROM hall_windows WHERE hall = $1 AND number = $2",
        &[&hall, &i32::from(window)],
    ))?;
    Ok(r.map(|r| r.get(0)).unwrap_or(false))
}

/// The window's current ticket today; one left called on an earlier day is let go.
fn current(
    tx: &mut Tx<'_>,
    hall: &str,
    window: u16,
    today: &str,
) -> Result<Option<Row>, TicketError> {
    let r = pg(tx.query_opt(
        &format!("SELECT {COLS} FROM hall_tickets WHERE hall = $1 AND at_window = $2 AND state = 'called' FOR UPDATE"),
        &[&hall, &i32::from(window)],
    ))?;
    let Some(r) = r.map(|r| row_of(&r)) else {
        return Ok(None);
    };
    if r.day == today {
        return Ok(Some(r));
    }
    pg(tx.execute(
        "UPDATE hall_tickets SET state = 'expired' WHERE id = $1::text::uuid",
        &[&r.id],
    ))?;
    Ok(None)
}

/// Locks the window, checks it is open and free.
fn free_window(tx: &mut Tx<'_>, hall: &str, window: u16, today: &str) -> Result<(), TicketError> {
    if !lock_window(tx, hall, window)? {
        return Err(TicketError::WindowClosed(window));
    }
    if let Some(r) = current(tx, hall, window, today)? {
        return Err(TicketError::WindowBusy {
            window,
            number: r.label(),
        });
    }
    Ok(())
}

fn do_call(
    tx: &mut Tx<'_>,
    cfg: &TicketingSection,
    window: u16,
    row: Row,
    now: Timestamp,
) -> Result<Called, TicketError> {
    row.callable()?;
    let now_ms = now.as_millisecond();
    let calls = row.calls + 1;
    pg(tx.execute(
        "UPDATE hall_tickets SET state = 'called', at_window = $2, calls = $3, called_ms = $4,
             first_called_ms = COALESCE(first_called_ms, $4), target_window = NULL
         WHERE id = $1::text::uuid",
        &[&row.id, &i32::from(window), &(calls as i32), &now_ms],
    ))?;
    let wait_secs = (row.first_called_ms.unwrap_or(now_ms) - row.issued_ms) / 1000;
    let body = event_body(cfg, &row, window, now, |b| {
        b["calls"] = calls.into();
        b["wait_secs"] = wait_secs.into();
    });
    event(tx, EVENT_CALLED, &body, now)?;
    Ok(row.called(window, calls))
}

impl HallQueue for Hall<'_> {
    fn issue(&mut self, req: &IssueRequest, now: Timestamp) -> Result<IssuedTicket, TicketError> {
        let cfg = self.cfg;
        let plan = plan_issue(cfg, req, hall_date(now), hall_time(now))?;
        if let Some(tap) = req.tap {
            if let Some(t) = self.by_tap(tap)? {
                return Ok(t);
            }
        }
        let day = plan.today.to_string();
        let svc = &plan.service;
        if let Some(code) = &plan.appointment {
            let r = pg(self.db.query_opt(
                "SELECT service, number FROM hall_tickets WHERE hall = $1 AND day = $2::text::date AND appointment = $3",
                &[&cfg.hall, &day, code],
            ))?;
            if let Some(r) = r {
                return Err(TicketError::DuplicateCheckIn {
                    code: code.clone(),
                    number: label(r.get(0), i64::from(r.get::<_, i32>(1))),
                });
            }
        }
        // The number: from this terminal's lease, taken (and committed) in its own store
        // first. Should the hall refuse the ticket, that number stays unused: a gap, never a
        // second ticket with it.
        let number = {
            let tx = self
                .store
                .conn()
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let n = take_number(&tx, svc, &day)?;
            tx.commit()?;
            n
        };
        let id = Uuid::now_v7();
        let number_t = TicketNumber {
            prefix: svc.prefix.chars().next().unwrap_or('A'),
            number,
        };
        let (terminal, hall) = (self.terminal, cfg.hall.clone());
        let mut tx = self.begin()?;
        let new = NewTicket {
            id,
            day: &day,
            service: &svc.prefix,
            number,
            kind: plan.kind,
            priority: plan.priority,
            appointment: plan.appointment.as_deref(),
            tap: req.tap,
            issued_ms: now.as_millisecond(),
        };
        let inserted = insert_ticket(&mut tx, &hall, terminal, &new, "tap");
        let queue_seq: i64 = match inserted {
            Ok(Some(seq)) => seq,
            Ok(None) => {
                // The same tap was issued by a concurrent request: that ticket it is.
                drop(tx);
                let tap = req.tap.expect("only a tap conflicts");
                return self
                    .by_tap(tap)?
                    .ok_or_else(|| TicketError::Hall("大厅数据库未能确认本次取号，请重试".into()));
            }
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                let constraint = e.as_db_error().and_then(|d| d.constraint()).unwrap_or("");
                return Err(match (constraint, &plan.appointment) {
                    ("hall_appointment_once", Some(code)) => TicketError::DuplicateCheckIn {
                        code: code.clone(),
                        number: "—".into(),
                    },
                    _ => TicketError::Hall(format!(
                        "{number_t} 号已由大厅的另一台终端发出（号段重叠）：本机暂停发此号，请运行 ykb-terminal ticket lease 补充号段并报告大厅信息员"
                    )),
                });
            }
            Err(e) => return Err(describe(&e)),
        };
        let me = Candidate {
            transferred: false,
            priority: plan.priority,
            issued_ms: now.as_millisecond(),
            queue_seq: queue_seq as u64,
        };
        let waiting_before = ahead_of(&queue_of(&mut tx, &hall, &day, &svc.prefix)?, &me);
        let body = serde_json::json!({
            "ticket": id,
            "hall": hall,
            "day": day,
            "service": svc.prefix,
            "number": number_t.to_string(),
            "kind": plan.kind,
            "appointment": plan.appointment,
            "waiting_before": waiting_before,
            "at": now,
        });
        event(&mut tx, EVENT_ISSUED, &body, now)?;
        pg(tx.commit())?;
        announce(self.db, cfg);
        Ok(IssuedTicket {
            id,
            number: number_t.to_string(),
            service: svc.prefix.clone(),
            service_name: svc.name.clone(),
            date: plan.today,
            kind: plan.kind,
            waiting_before,
            offline: false,
            qr: qr_payload(plan.today, number_t),
            issued_at: now,
        })
    }

    fn withdraw(&mut self, id: Uuid, now: Timestamp) -> Result<Finished, TicketError> {
        let cfg = self.cfg;
        let mut tx = self.begin()?;
        let r = pg(tx.query_opt(
            &format!("SELECT {COLS} FROM hall_tickets WHERE id = $1::text::uuid AND hall = $2 FOR UPDATE"),
            &[&id.to_string(), &cfg.hall],
        ))?;
        let row = r
            .map(|r| row_of(&r))
            .ok_or_else(|| TicketError::UnknownTicket(id.to_string()))?;
        let state =
            next_state(row.state, Action::Withdraw).ok_or_else(|| TicketError::NotCallable {
                number: row.label(),
                state: row.state.describe_zh(),
            })?;
        pg(tx.execute(
            "UPDATE hall_tickets SET state = $2, finished_ms = $3 WHERE id = $1::text::uuid",
            &[&row.id, &state.as_str(), &now.as_millisecond()],
        ))?;
        let body = event_body(cfg, &row, 0, now, |_| {});
        event(&mut tx, EVENT_WITHDRAWN, &body, now)?;
        pg(tx.commit())?;
        announce(self.db, cfg);
        Ok(Finished {
            id: row.uuid(),
            number: row.label(),
            window: 0,
            state,
            wait_secs: None,
            service_secs: None,
        })
    }

    fn set_open(&mut self, window: u16, open: bool, now: Timestamp) -> Result<(), TicketError> {
        let cfg = self.cfg;
        window_cfg(cfg, window)?;
        let today = hall_date(now).to_string();
        let mut tx = self.begin()?;
        lock_window(&mut tx, &cfg.hall, window)?;
        if !open {
            if let Some(r) = current(&mut tx, &cfg.hall, window, &today)? {
                return Err(TicketError::WindowBusy {
                    window,
                    number: r.label(),
                });
            }
        }
        pg(tx.execute(
            "UPDATE hall_windows SET open = $3 WHERE hall = $1 AND number = $2",
            &[&cfg.hall, &i32::from(window), &open],
        ))?;
        pg(tx.commit())?;
        announce(self.db, cfg);
        Ok(())
    }

    fn call_next(&mut self, window: u16, now: Timestamp) -> Result<Called, TicketError> {
        let cfg = self.cfg;
        let services = window_cfg(cfg, window)?.services.clone();
        let today = hall_date(now).to_string();
        let mut tx = self.begin()?;
        free_window(&mut tx, &cfg.hall, window, &today)?;
        // One statement: the first waiting ticket in call order that no other window holds.
        // A ticket another window called since this statement's snapshot is re-checked on
        // locking (`state = 'waiting'` no longer holds) and passed over.
        let next = pg(tx.query_opt(
            &format!(
                "SELECT {COLS} FROM hall_tickets
                 WHERE hall = $1 AND day = $2::text::date AND state = 'waiting'
                   AND (target_window = $3 OR (target_window IS NULL AND queue_service = ANY($4)))
                 ORDER BY {CALL_ORDER_SQL}
                 LIMIT 1
                 FOR UPDATE SKIP LOCKED"
            ),
            &[&cfg.hall, &today, &i32::from(window), &services],
        ))?;
        if let Some(r) = next {
            let called = do_call(&mut tx, cfg, window, row_of(&r), now)?;
            pg(tx.commit())?;
            announce(self.db, cfg);
            return Ok(called);
        }
        Err(TicketError::NobodyWaiting(window))
    }

    fn call_ticket(
        &mut self,
        window: u16,
        reference: &TicketRef,
        now: Timestamp,
    ) -> Result<Called, TicketError> {
        let cfg = self.cfg;
        window_cfg(cfg, window)?;
        let today_d = hall_date(now);
        if let Some(d) = reference.date.filter(|d| *d != today_d) {
            return Err(TicketError::Stale {
                number: reference.number.to_string(),
                date: d,
            });
        }
        let today = today_d.to_string();
        let mut tx = self.begin()?;
        free_window(&mut tx, &cfg.hall, window, &today)?;
        let r = pg(tx.query_opt(
            &format!(
                "SELECT {COLS} FROM hall_tickets
                 WHERE hall = $1 AND day = $2::text::date AND service = $3 AND number = $4 FOR UPDATE"
            ),
            &[
                &cfg.hall,
                &today,
                &reference.number.prefix.to_string(),
                &(reference.number.number as i32),
            ],
        ))?;
        let row = r
            .map(|r| row_of(&r))
            .ok_or_else(|| TicketError::UnknownTicket(reference.number.to_string()))?;
        let called = do_call(&mut tx, cfg, window, row, now)?;
        pg(tx.commit())?;
        announce(self.db, cfg);
        Ok(called)
    }

    fn recall(&mut self, window: u16, now: Timestamp) -> Result<Called, TicketError> {
        let cfg = self.cfg;
        window_cfg(cfg, window)?;
        let today = hall_date(now).to_string();
        let mut tx = self.begin()?;
        lock_window(&mut tx, &cfg.hall, window)?;
        let row = current(&mut tx, &cfg.hall, window, &today)?
            .ok_or(TicketError::NothingCurrent(window))?;
        let calls = row.calls + 1;
        pg(tx.execute(
            "UPDATE hall_tickets SET calls = $2, called_ms = $3 WHERE id = $1::text::uuid",
            &[&row.id, &(calls as i32), &now.as_millisecond()],
        ))?;
        let body = event_body(cfg, &row, window, now, |b| b["calls"] = calls.into());
        event(&mut tx, EVENT_CALLED, &body, now)?;
        pg(tx.commit())?;
        announce(self.db, cfg);
        Ok(row.called(window, calls))
    }

    fn finish(
        &mut self,
        window: u16,
        action: Action,
        to: Option<&Transfer>,
        now: Timestamp,
    ) -> Result<Finished, TicketError> {
        let cfg = self.cfg;
        window_cfg(cfg, window)?;
        if action == Action::Withdraw {
            return Err(TicketError::NothingCurrent(window));
        }
        let today = hall_date(now).to_string();
        let mut tx = self.begin()?;
        lock_window(&mut tx, &cfg.hall, window)?;
        if let Some(t) = to {
            match t {
                Transfer::Window(w) if *w == window => return Err(TicketError::TransferToSelf),
                Transfer::Window(w) => {
                    window_cfg(cfg, *w)?;
                    if !window_open(&mut tx, &cfg.hall, *w)? {
                        return Err(TicketError::WindowClosed(*w));
                    }
                }
                Transfer::Service(s) => {
                    service(cfg, s)?;
                }
            }
        }
        let row = current(&mut tx, &cfg.hall, window, &today)?
            .ok_or(TicketError::NothingCurrent(window))?;
        let state = next_state(row.state, action).ok_or_else(|| TicketError::NotCallable {
            number: row.label(),
            state: row.state.describe_zh(),
        })?;
        let now_ms = now.as_millisecond();
        let wait_secs = row.first_called_ms.map(|f| (f - row.issued_ms) / 1000);
        let service_secs = row.called_ms.map(|c| (now_ms - c) / 1000);
        match to {
            Some(Transfer::Window(w)) => pg(tx.execute(
                "UPDATE hall_tickets SET state = $2, transferred = true, target_window = $3
                 WHERE id = $1::text::uuid",
                &[&row.id, &state.as_str(), &i32::from(*w)],
            ))?,
            Some(Transfer::Service(s)) => pg(tx.execute(
                "UPDATE hall_tickets SET state = $2, transferred = true, target_window = NULL,
                     queue_service = $3
                 WHERE id = $1::text::uuid",
                &[&row.id, &state.as_str(), &s.trim().to_ascii_uppercase()],
            ))?,
            None => pg(tx.execute(
                "UPDATE hall_tickets SET state = $2, finished_ms = $3 WHERE id = $1::text::uuid",
                &[&row.id, &state.as_str(), &now_ms],
            ))?,
        };
        if let Some(kind) = finish_event_kind(action) {
            let body = event_body(cfg, &row, window, now, |b| {
                finish_event_extra(b, action, to, wait_secs, service_secs)
            });
            event(&mut tx, kind, &body, now)?;
        }
        pg(tx.commit())?;
        announce(self.db, cfg);
        Ok(Finished {
            id: row.uuid(),
            number: row.label(),
            window,
            state,
            wait_secs,
            service_secs: (action == Action::Serve).then_some(service_secs).flatten(),
        })
    }

    fn evaluate(
        &mut self,
        reference: &TicketRef,
        level: EvaluationLevel,
        reasons: &[String],
        now: Timestamp,
    ) -> Result<Uuid, TicketError> {
        let cfg = self.cfg;
        let day = evaluation_day(reference, level, reasons, now)?;
        let mut tx = self.begin()?;
        let r = pg(tx.query_opt(
            &format!(
                "SELECT {COLS} FROM hall_tickets
                 WHERE hall = $1 AND day = $2::text::date AND service = $3 AND number = $4 FOR UPDATE"
            ),
            &[
                &cfg.hall,
                &day.to_string(),
                &reference.number.prefix.to_string(),
                &(reference.number.number as i32),
            ],
        ))?;
        let row = r
            .map(|r| row_of(&r))
            .ok_or_else(|| TicketError::UnknownTicket(reference.number.to_string()))?;
        row.evaluable()?;
        pg(tx.execute(
            "UPDATE hall_tickets SET evaluated = true WHERE id = $1::text::uuid",
            &[&row.id],
        ))?;
        let body = evaluation_body(cfg, &row, level, reasons, now);
        let id = event(&mut tx, EVENT_EVALUATION, &body, now)?;
        pg(tx.commit())?;
        Ok(id)
    }

    fn status(&mut self, now: Timestamp) -> Result<HallStatus, TicketError> {
        let cfg = self.cfg;
        let date = hall_date(now);
        let day = date.to_string();
        let t = hall_time(now);
        // One snapshot for the whole picture.
        let db = &mut *self.db;
        let mut tx = pg(db
            .client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start())
        .map(|tx| Tx::wrap(tx, &mut db.stmts))?;
        let counts = pg(tx.query(
            "SELECT service, count(*), count(*) FILTER (WHERE state = 'served')
             FROM hall_tickets WHERE hall = $1 AND day = $2::text::date GROUP BY service",
            &[&cfg.hall, &day],
        ))?;
        let waiting = pg(tx.query(
            "SELECT queue_service, count(*) FROM hall_tickets
             WHERE hall = $1 AND day = $2::text::date AND state = 'waiting' GROUP BY queue_service",
            &[&cfg.hall, &day],
        ))?;
        let mut services = Vec::new();
        for s in &cfg.services {
            let (issued, served) = counts
                .iter()
                .find(|r| r.get::<_, &str>(0) == s.prefix)
                .map(|r| (r.get::<_, i64>(1) as u32, r.get::<_, i64>(2) as u32))
                .unwrap_or((0, 0));
            let w = waiting
                .iter()
                .find(|r| r.get::<_, &str>(0) == s.prefix)
                .map(|r| r.get::<_, i64>(1) as u32)
                .unwrap_or(0);
            services.push(ServiceStatus {
                prefix: s.prefix.clone(),
                name: s.name.clone(),
                waiting: w,
                issued,
                served,
                lease_remaining: lease_remaining(self.store, &s.prefix, date)?,
                issuing_now: crate::core::ticketing::is_issuing(s, t),
            });
        }
        let open = pg(tx.query(
            "SELECT number FROM hall_windows WHERE hall = $1 AND open",
            &[&cfg.hall],
        ))?;
        let current = pg(tx.query(
            "SELECT at_window, service, number FROM hall_tickets
             WHERE hall = $1 AND day = $2::text::date AND state = 'called'",
            &[&cfg.hall, &day],
        ))?;
        let windows = cfg
            .windows
            .iter()
            .map(|w| WindowStatus {
                number: w.number,
                open: open
                    .iter()
                    .any(|r| r.get::<_, i32>(0) == i32::from(w.number)),
                current: current
                    .iter()
                    .find(|r| r.get::<_, Option<i32>>(0) == Some(i32::from(w.number)))
                    .map(|r| label(r.get(1), i64::from(r.get::<_, i32>(2)))),
                services: w.services.clone(),
            })
            .collect();
        let recent = pg(tx.query(
            "SELECT service, number, at_window FROM hall_tickets
             WHERE hall = $1 AND day = $2::text::date AND called_ms IS NOT NULL AND at_window IS NOT NULL
             ORDER BY called_ms DESC LIMIT 5",
            &[&cfg.hall, &day],
        ))?;
        let recent_calls = recent
            .iter()
            .map(|r| {
                (
                    label(r.get(0), i64::from(r.get::<_, i32>(1))),
                    r.get::<_, i32>(2) as u16,
                )
            })
            .collect();
        pg(tx.commit())?;
        Ok(HallStatus {
            date,
            services,
            windows,
            recent_calls,
        })
    }

    fn latest_call(&mut self, now: Timestamp) -> Result<Option<Called>, TicketError> {
        let day = hall_date(now).to_string();
        let r = pg(self.db.query_opt(
            &format!(
                "SELECT {COLS} FROM hall_tickets
                 WHERE hall = $1 AND day = $2::text::date AND called_ms IS NOT NULL AND at_window IS NOT NULL
                 ORDER BY called_ms DESC, calls DESC LIMIT 1"
            ),
            &[&self.cfg.hall, &day],
        ))?;
        Ok(r.map(|r| row_of(&r))
            .and_then(|r| Some(r.called(r.window?, r.calls))))
    }
}
