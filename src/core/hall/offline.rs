//! Offline issuing: a kiosk that cannot reach the hall database keeps issuing tickets from its
//! own number lease into its own store (`hall_offline`), and replays them into the hall queue
//! once the database is back — in issue order, idempotent by ticket id — so no citizen's ticket
//! is lost, doubled or reordered.
//!
//! [`issue`] is what a kiosk (and `ticket issue`) calls: it replays what is pending, then
//! issues through the hall; when the hall's server cannot be reached, or the link broke during
//! the issue, it issues offline (a server that refuses — password, schema — is an error). A tap whose online issue may have committed before the link broke
//! keeps its key: on replay, a hall ticket with the same tap and another id is the ghost of
//! that attempt (nobody holds its paper), and is withdrawn when the offline one goes in.
//!
//! Like the rest of the hall room it never names an ID number: it gets a decided plan.

use jiff::Timestamp;
use rusqlite::{params, OptionalExtension};
use uuid::Uuid;

use super::prepared::{Cached, Tx};
use super::queue::{insert_ticket, pg, NewTicket};
use super::{Hall, HallLink};
use crate::core::config::TicketingSection;
use crate::core::store::Store;
use crate::core::ticketing::{
    hall_date, hall_time, plan_issue, qr_payload, take_number, HallQueue, IssueRequest,
    IssuedTicket, TicketError, TicketKind, TicketNumber, EVENT_ISSUED,
};

/// Issues a ticket through the hall `link`, or offline from this terminal's lease when the
/// hall database cannot be reached. Tickets issued offline earlier are replayed first, so the
/// hall receives every terminal's tickets in the order they were issued.
pub fn issue(
    link: &mut HallLink,
    store: &mut Store,
    cfg: &TicketingSection,
    terminal: &str,
    req: &IssueRequest,
    now: Timestamp,
) -> Result<IssuedTicket, TicketError> {
    if let Some(tap) = req.tap {
        // A tap already answered offline is that ticket, online or not.
        if let Some(t) = by_tap(store, cfg, tap)? {
            return Ok(t);
        }
    }
    if let Err(e) = link.get(cfg) {
        if !link.unreachable() {
            // A server that refuses (password, schema, not a hall database) is a fault for
            // the hall's IT to fix, said in one sentence; issuing offline would hide it.
            return Err(e);
        }
        tracing::warn!(error = %e, "hall database unreachable: issuing offline");
        return issue_offline(store, cfg, req, now);
    }
    let db = link.get(cfg)?;
    let mut hall = Hall {
        db,
        store,
        cfg,
        terminal,
    };
    if let Err(e) = replay(&mut hall, now) {
        if hall.db.client.is_closed() {
            tracing::warn!(error = %e, "hall link broke while replaying: issuing offline");
            return issue_offline(store, cfg, req, now);
        }
        // Replaying is refused (e.g. a number the hall already holds): say so to staff;
        // the pending tickets wait, and this one must not overtake them.
        return Err(e);
    }
    match hall.issue(req, now) {
        Err(e) if hall.db.client.is_closed() => {
            tracing::warn!(error = %e, "hall link broke while issuing: issuing offline");
            issue_offline(store, cfg, req, now)
        }
        other => other,
    }
}

/// Tickets issued offline and not yet in the hall queue.
pub fn pending(store: &mut Store) -> Result<u64, TicketError> {
    let n: i64 = store.conn().query_row(
        "SELECT count(*) FROM hall_offline WHERE state = 'pending'",
        [],
        |r| r.get(0),
    )?;
    Ok(n as u64)
}

/// Issues from this terminal's lease into its own store: the same plan and number as online.
/// A ticket issued offline does not know how many wait before it (the hall's queue is out of
/// reach): it says so instead of a count (`IssuedTicket::offline`).
pub fn issue_offline(
    store: &mut Store,
    cfg: &TicketingSection,
    req: &IssueRequest,
    now: Timestamp,
) -> Result<IssuedTicket, TicketError> {
    let plan = plan_issue(cfg, req, hall_date(now), hall_time(now))?;
    let day = plan.today.to_string();
    let svc = &plan.service;
    let id = Uuid::now_v7();
    let tx = store
        .conn()
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    if let Some(code) = &plan.appointment {
        let dup: Option<(String, i64)> = tx
            .query_row(
                "SELECT service, number FROM hall_offline WHERE hall = ?1 AND day = ?2
                 AND appointment = ?3 AND state != 'withdrawn'",
                params![cfg.hall, day, code],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((s, n)) = dup {
            return Err(TicketError::DuplicateCheckIn {
                code: code.clone(),
                number: crate::core::ticketing::label(&s, n),
            });
        }
    }
    let number = take_number(&tx, svc, &day)?;
    tx.execute(
        "INSERT INTO hall_offline (id, hall, day, service, number, kind, priority, appointment,
                                   tap, issued_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            id.to_string(),
            cfg.hall,
            day,
            svc.prefix,
            number,
            plan.kind.as_str(),
            plan.priority,
            plan.appointment,
            req.tap.map(|t| t.to_string()),
            now.as_millisecond(),
        ],
    )?;
    tx.commit()?;
    tracing::info!("ticket issued offline");
    Ok(printed(svc, id, plan.today, number, plan.kind, now))
}

/// The ticket as the citizen holds it: issued offline, so no count of those before it.
fn printed(
    svc: &crate::core::config::HallService,
    id: Uuid,
    date: jiff::civil::Date,
    number: u32,
    kind: TicketKind,
    issued_at: Timestamp,
) -> IssuedTicket {
    let number_t = TicketNumber {
        prefix: svc.prefix.chars().next().unwrap_or('A'),
        number,
    };
    IssuedTicket {
        id,
        number: number_t.to_string(),
        service: svc.prefix.clone(),
        service_name: svc.name.clone(),
        date,
        kind,
        waiting_before: 0,
        offline: true,
        qr: qr_payload(date, number_t),
        issued_at,
    }
}

/// The withdrawal of an offline ticket whose printing failed: it is never replayed. `false`
/// when `id` is no pending offline ticket (then it is the hall's to withdraw).
pub fn withdraw_offline(store: &mut Store, id: Uuid) -> Result<bool, TicketError> {
    let n = store.conn().execute(
        "UPDATE hall_offline SET state = 'withdrawn' WHERE id = ?1 AND state = 'pending'",
        params![id.to_string()],
    )?;
    Ok(n == 1)
}

struct Pending {
    id: String,
    day: String,
    service: String,
    number: u32,
    kind: TicketKind,
    priority: u8,
    appointment: Option<String>,
    tap: Option<String>,
    issued_ms: i64,
}

/// Replays every pending offline ticket into the hall queue, oldest first, one hall
/// transaction each; the local row is marked only after the hall committed, and a ticket the
/// hall already holds (a replay cut short) is not inserted again. Returns how many went in.
pub fn replay(hall: &mut Hall<'_>, now: Timestamp) -> Result<u64, TicketError> {
    let cfg = hall.cfg;
    let rows: Vec<Pending> = {
        let conn = hall.store.conn();
        let mut st = conn.prepare(
            "SELECT id, day, service, number, kind, priority, appointment, tap, issued_ms
             FROM hall_offline WHERE state = 'pending' AND hall = ?1 ORDER BY seq",
        )?;
        let rows = st.query_map(params![cfg.hall], |r| {
            Ok(Pending {
                id: r.get(0)?,
                day: r.get(1)?,
                service: r.get(2)?,
                number: r.get(3)?,
                kind: TicketKind::parse(&r.get::<_, String>(4)?),
                priority: r.get(5)?,
                appointment: r.get(6)?,
                tap: r.get(7)?,
                issued_ms: r.get(8)?,
            })
        })?;
        rows.collect::<Result<_, _>>()?
    };
    let mut replayed = 0;
    for p in rows {
        replay_one(hall, &p, now)?;
        hall.store.conn().execute(
            "UPDATE hall_offline SET state = 'replayed' WHERE id = ?1",
            params![p.id],
        )?;
        replayed += 1;
    }
    if replayed > 0 {
        tracing::info!(replayed, "offline tickets replayed into the hall queue");
    }
    Ok(replayed)
}

fn replay_one(hall: &mut Hall<'_>, p: &Pending, now: Timestamp) -> Result<(), TicketError> {
    let cfg = hall.cfg;
    let known: bool = pg(hall.db.query_one(
        "SELECT EXISTS (SELECT 1 FROM hall_tickets WHERE id = $1::text::uuid)",
        &[&p.id],
    ))?
    .get(0);
    if known {
        return Ok(());
    }
    let mut tx = pg(Tx::begin(&mut hall.db.client, &mut hall.db.stmts))?;
    // The same tap under another id: an online issue that committed as the link broke. Nobody
    // holds that ticket's paper; the offline one is the citizen's.
    let mut tap = p.tap.clone();
    if let Some(t) = &p.tap {
        let ghost = pg(tx.query_opt(
            "SELECT id::text, state FROM hall_tickets WHERE tap = $1::text::uuid FOR UPDATE",
            &[t],
        ))?;
        if let Some(g) = ghost {
            let (gid, state): (String, String) = (g.get(0), g.get(1));
            if state == "waiting" {
                pg(tx.execute(
                    "UPDATE hall_tickets SET state = 'withdrawn', finished_ms = $2
                     WHERE id = $1::text::uuid",
                    &[&gid, &now.as_millisecond()],
                ))?;
            }
            tracing::warn!(ghost = %gid, "a ticket issued as the hall link broke was replaced by its offline ticket");
            tap = None;
        }
    }
    // An appointment checked in elsewhere meanwhile: the paper ticket still counts, as a
    // walk-in of its priority.
    let mut appointment = p.appointment.clone();
    if let Some(code) = &p.appointment {
        let taken: bool = pg(tx.query_one(
            "SELECT EXISTS (SELECT 1 FROM hall_tickets WHERE hall = $1 AND day = $2::text::date
             AND appointment = $3)",
            &[&cfg.hall, &p.day, code],
        ))?
        .get(0);
        if taken {
            appointment = None;
        }
    }
    let id: Uuid =
        p.id.parse()
            .map_err(|_| TicketError::Hall(format!("本机离线票据的编号 {:?} 无法识别", p.id)))?;
    let tap: Option<Uuid> = tap.and_then(|t| t.parse().ok());
    let new = NewTicket {
        id,
        day: &p.day,
        service: &p.service,
        number: p.number,
        kind: p.kind,
        priority: p.priority,
        appointment: appointment.as_deref(),
        tap,
        issued_ms: p.issued_ms,
    };
    let seq = match insert_ticket(&mut tx, &cfg.hall, hall.terminal, &new, "id") {
        Ok(seq) => seq,
        Err(e) if e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) => {
            return Err(TicketError::Hall(format!(
                "本机离线发出的 {} 号已由大厅的另一台终端发出（号段重叠），暂不能补传：请报告大厅信息员",
                crate::core::ticketing::label(&p.service, i64::from(p.number))
            )));
        }
        Err(e) => return Err(super::describe(&e)),
    };
    if seq.is_some() {
        let number = crate::core::ticketing::label(&p.service, i64::from(p.number));
        let body = serde_json::json!({
            "ticket": id,
            "hall": cfg.hall,
            "day": p.day,
            "service": p.service,
            "number": number,
            "kind": p.kind,
            "appointment": appointment,
            "offline": true,
            "issued_at": Timestamp::from_millisecond(p.issued_ms).ok(),
            "at": now,
        });
        super::queue::event(&mut tx, EVENT_ISSUED, &body, now)?;
        pg(tx.commit())?;
        super::queue::announce(hall.db, cfg);
        return Ok(());
    }
    pg(tx.commit())?;
    Ok(())
}

/// The ticket this terminal issued offline for `tap`, if any.
fn by_tap(
    store: &mut Store,
    cfg: &TicketingSection,
    tap: Uuid,
) -> Result<Option<IssuedTicket>, TicketError> {
    let row: Option<(String, String, String, u32, String, i64)> = store
        .conn()
        .query_row(
            "SELECT id, day, service, number, kind, issued_ms FROM hall_offline
             WHERE tap = ?1 AND state != 'withdrawn'",
            params![tap.to_string()],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
        .optional()?;
    let Some((id, day, service, number, kind, issued_ms)) = row else {
        return Ok(None);
    };
    let svc = crate::core::ticketing::service(cfg, &service)?;
    let date: jiff::civil::Date = day
        .parse()
        .map_err(|_| TicketError::Hall(format!("本机离线票据的日期 {day:?} 无法识别")))?;
    let id = id
        .parse()
        .map_err(|_| TicketError::Hall(format!("本机离线票据的编号 {id:?} 无法识别")))?;
    Ok(Some(printed(
        svc,
        id,
        date,
        number,
        TicketKind::parse(&kind),
        Timestamp::from_millisecond(issued_ms).unwrap_or_default(),
    )))
}
