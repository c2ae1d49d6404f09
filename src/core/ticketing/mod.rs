//! 取号/叫号 — hall ticketing: issuing numbers (A001…) per service and civil day, the green
//! channel (绿色通道) and appointment check-in (预约签到), number leases from the platform so
//! offline kiosks never issue the same number, and the counter windows' queue (call next,
//! recall, skip, hold, transfer, served).
//!
//! The decisions are pure functions and plain types (which ticket a window calls next, which
//! state a ticket may move to, the announcement text, the green channel); the store functions
//! below load what they need, apply them and write the result in **one transaction** together
//! with the supervision event (`outbox::enqueue_event_in`), so the queue and what the platform
//! is told never disagree.
//!
//! Invariants:
//! - a number is issued at most once per hall, service and day: each terminal issues only
//!   from ranges the platform leased to it (disjoint per hall, service and day), and the store
//!   refuses a second ticket with the same number (`UNIQUE(day, service, number)`);
//! - a ticket is valid on the civil day (hall time, UTC+8) it was issued for, never later;
//! - nothing personal is stored or sent: not the ID number, not why a citizen is in the green
//!   channel (disability and pregnancy are sensitive data), only the ticket's kind.
//!
//! Where the queue lives: without `ticketing.queue` in the store's (a single-terminal site,
//! the demo); with it, in the hall's PostgreSQL database (`core::hall`), shared by every
//! kiosk, counter and display of the hall. Kiosks issue from their own leases either way.
//!
//! Files: [`rules`] holds the pure decisions and plain types, [`lease`] the number leases,
//! [`queue`] issuing and the windows' actions on the embedded store, [`desk`] the one
//! [`HallQueue`] interface (embedded here, the hall database in `core::hall`) and the [`Desk`]
//! a window acts through,
//! [`status`] what the hall display and technicians read. Everything is re-exported here:
//! callers name `ticketing::X`.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use rusqlite::{Transaction, TransactionBehavior};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::config::{HallService, TicketingSection};
use super::domain::{EvaluationLevel, IdNumber};
use super::outbox::OutboxError;
use super::store::{Store, StoreError};

mod desk;
mod lease;
mod queue;
mod rules;
mod status;

pub use desk::{Desk, Embedded, HallQueue, Unavailable};
pub use lease::{lease_remaining, lease_requests, record_lease, top_up, LeaseRange, TopUp};
pub use queue::{evaluate, issue, set_window_open};
pub(crate) use queue::{take_number, window_cfg};
pub use rules::{
    ahead_of, announcement, green_reason, is_issuing, next_state, pick_next, plan_issue,
    qr_payload, Action, Announcement, Candidate, GreenReason, IssuePlan, TicketKind, TicketNumber,
    TicketRef, TicketState, CALL_ORDER_SQL,
};
pub use status::{latest_call, status, HallStatus, ServiceStatus, WindowStatus};

/// Outbox kinds of the supervision events (§26), as posted to `/v1/events/{kind}`.
pub const EVENT_ISSUED: &str = "ticket_issued";
/// A ticket was called (or called again) to a window.
pub const EVENT_CALLED: &str = "ticket_called";
/// A ticket was served, with its waiting and service durations.
pub const EVENT_SERVED: &str = "ticket_served";
/// A called citizen did not come (过号).
pub const EVENT_NO_SHOW: &str = "ticket_no_show";
/// A ticket was sent on to another window or service.
pub const EVENT_TRANSFERRED: &str = "ticket_transferred";
/// A ticket whose printing failed was withdrawn (已作废) before anyone called it.
pub const EVENT_WITHDRAWN: &str = "ticket_withdrawn";
/// 好差评 of a served ticket (the same kind as other evaluations).
pub const EVENT_EVALUATION: &str = "evaluation";

/// Prefix of the text in a ticket's QR code: `YKBT:2026-11-27:A001`.
pub const QR_PREFIX: &str = "YKBT";

/// The hall's time zone: China Standard Time, UTC+8 all year (no daylight saving).
pub fn hall_tz() -> TimeZone {
    TimeZone::fixed(jiff::tz::offset(8))
}

/// The civil day in the hall at `now`.
pub fn hall_date(now: Timestamp) -> Date {
    now.to_zoned(hall_tz()).date()
}

/// The wall-clock time in the hall at `now`.
pub fn hall_time(now: Timestamp) -> Time {
    now.to_zoned(hall_tz()).time()
}

/// Why something was refused. `Display` is what the citizen or clerk reads (zh-CN).
#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    #[error("本终端未配置取号叫号（配置文件中没有 [ticketing]）")]
    NotConfigured,
    #[error("本大厅没有字母为 {0} 的业务")]
    UnknownService(String),
    #[error("{service}的取号时间为 {opens}–{closes}，现在不能取号")]
    OutsideHours {
        service: String,
        opens: String,
        closes: String,
    },
    #[error("{service}今日号源（{cap} 个）已发完，请明日再来或网上预约")]
    CapReached { service: String, cap: u32 },
    #[error("本机{service}的号段已用完，且暂时无法从政务服务平台补充号段，为避免与其他取号机重号，暂停取号。请到其他取号机或咨询台取号。")]
    LeaseExhausted { service: String },
    #[error("预约 {code} 已签到（号码 {number}），不能重复签到")]
    DuplicateCheckIn { code: String, number: String },
    #[error("预约 {code} 的日期是 {date}，不是今天，不能签到")]
    AppointmentNotToday { code: String, date: Date },
    #[error("预约号不能为空")]
    EmptyAppointment,
    #[error("没有 {0} 号窗口（见配置 [[ticketing.windows]]）")]
    UnknownWindow(u16),
    #[error("{0} 号窗口未开放")]
    WindowClosed(u16),
    #[error("{window} 号窗口正在办理 {number} 号，请先办结、过号、暂挂或转出")]
    WindowBusy { window: u16, number: String },
    #[error("{0} 号窗口当前没有正在办理的号")]
    NothingCurrent(u16),
    #[error("{0} 号窗口的业务暂无人等候")]
    NobodyWaiting(u16),
    #[error("{number} 号已在 {window} 号窗口叫号，不能重复叫号")]
    AlreadyCalled { number: String, window: u16 },
    #[error("{number} 号{state}，不能再叫号")]
    NotCallable { number: String, state: &'static str },
    #[error("{number} 号是 {date} 的号票，已经失效，请重新取号")]
    Stale { number: String, date: Date },
    #[error("今日没有 {0} 号")]
    UnknownTicket(String),
    #[error("无法识别的号码 {0:?}（应为 A001 这样的号码，或号票上的二维码内容）")]
    BadReference(String),
    #[error("不能转到本窗口")]
    TransferToSelf,
    #[error("{number} 号尚未办结，还不能评价")]
    NotServed { number: String },
    #[error("{number} 号已经评价过了")]
    AlreadyEvaluated { number: String },
    #[error("选择“{0}”时请至少选择一项原因")]
    ReasonRequired(&'static str),
    #[error("政务服务平台分配的号段不符合约定：{0}")]
    BadLease(String),
    /// The hall database (`ticketing.queue`): unreachable, refused, or not the schema this
    /// terminal knows. Its sentence names the profile key and what to do.
    #[error("{0}")]
    Hall(String),
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for TicketError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(StoreError::Sql(e))
    }
}

/// A citizen's request for a ticket.
#[derive(Debug, Clone, Default)]
pub struct IssueRequest {
    /// The tap's idempotency key: the same tap (or its repeated request) issues one ticket.
    /// The hall database keeps it unique; `None` when the caller has none.
    pub tap: Option<Uuid>,
    /// The service's letter.
    pub service: String,
    /// The citizen chose the green channel (disability, pregnancy).
    pub green: bool,
    /// The ID card read at the kiosk, if any: the birth date may put the citizen in the green
    /// channel. Not stored.
    pub id_number: Option<IdNumber>,
    /// 预约签到: the appointment's code and day.
    pub appointment: Option<Appointment>,
}

/// An appointment being checked in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appointment {
    pub code: String,
    pub date: Date,
}

/// What the printed ticket shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedTicket {
    pub id: Uuid,
    pub number: String,
    pub service: String,
    pub service_name: String,
    pub date: Date,
    pub kind: TicketKind,
    /// People called before this ticket, as things stand (0 and unknown when `offline`).
    pub waiting_before: u32,
    /// Issued while the hall database could not be reached, from this terminal's lease; it
    /// joins the hall queue when the database is back (`core::hall::offline`).
    #[serde(default)]
    pub offline: bool,
    /// The QR code's text.
    pub qr: String,
    pub issued_at: Timestamp,
}

/// A ticket called to a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Called {
    pub id: Uuid,
    pub number: String,
    pub window: u16,
    /// 1 for the first call, more for recalls.
    pub calls: u32,
    pub kind: TicketKind,
    pub announcement: Announcement,
}

/// Where a transfer sends a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transfer {
    /// To this window (called there first).
    Window(u16),
    /// To the queue of another service.
    Service(String),
}

/// What became of a window's ticket after skip, hold, serve or transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finished {
    pub id: Uuid,
    pub number: String,
    pub window: u16,
    pub state: TicketState,
    /// Seconds from issue to first call.
    pub wait_secs: Option<i64>,
    /// Seconds from the last call to now (for served tickets).
    pub service_secs: Option<i64>,
}

pub(crate) fn service<'a>(
    cfg: &'a TicketingSection,
    prefix: &str,
) -> Result<&'a HallService, TicketError> {
    let p = prefix.trim().to_ascii_uppercase();
    cfg.services
        .iter()
        .find(|s| s.prefix == p)
        .ok_or(TicketError::UnknownService(p))
}

fn immediate(store: &mut Store) -> Result<Transaction<'_>, TicketError> {
    // IMMEDIATE takes the write lock before reading, so concurrent issuers (several
    // processes on one store) queue on busy_timeout instead of failing to upgrade.
    Ok(store
        .conn()
        .transaction_with_behavior(TransactionBehavior::Immediate)?)
}

pub(crate) fn rfc3339_ms(ms: i64) -> String {
    Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

pub(crate) fn label(service: &str, number: i64) -> String {
    format!("{service}{number:03}")
}

/// A ticket row as the queue functions (of both queues) need it.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) id: String,
    pub(crate) day: String,
    pub(crate) service: String,
    pub(crate) number: i64,
    pub(crate) kind: TicketKind,
    pub(crate) state: TicketState,
    pub(crate) window: Option<u16>,
    pub(crate) calls: u32,
    pub(crate) issued_ms: i64,
    pub(crate) first_called_ms: Option<i64>,
    pub(crate) called_ms: Option<i64>,
    pub(crate) evaluated: bool,
}

const ROW_COLUMNS: &str = "id, day, service, number, kind, state, window, calls, issued_ms,
    first_called_ms, called_ms, evaluated";

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        id: r.get(0)?,
        day: r.get(1)?,
        service: r.get(2)?,
        number: r.get(3)?,
        kind: TicketKind::parse(&r.get::<_, String>(4)?),
        state: TicketState::parse(&r.get::<_, String>(5)?),
        window: r.get(6)?,
        calls: r.get(7)?,
        issued_ms: r.get(8)?,
        first_called_ms: r.get(9)?,
        called_ms: r.get(10)?,
        evaluated: r.get(11)?,
    })
}

impl Row {
    pub(crate) fn label(&self) -> String {
        label(&self.service, self.number)
    }
    pub(crate) fn uuid(&self) -> Uuid {
        Uuid::parse_str(&self.id).unwrap_or_default()
    }
    fn ticket_number(&self) -> TicketNumber {
        TicketNumber {
            prefix: self.service.chars().next().unwrap_or('A'),
            number: self.number as u32,
        }
    }
    /// Whether the ticket may be called now (both queues refuse alike).
    pub(crate) fn callable(&self) -> Result<(), TicketError> {
        if next_state(self.state, Action::Call).is_some() {
            return Ok(());
        }
        Err(match (self.state, self.window) {
            (TicketState::Called, Some(w)) => TicketError::AlreadyCalled {
                number: self.label(),
                window: w,
            },
            (s, _) => TicketError::NotCallable {
                number: self.label(),
                state: s.describe_zh(),
            },
        })
    }
    /// Whether the ticket may be evaluated now: served, and not yet (both queues refuse
    /// alike).
    pub(crate) fn evaluable(&self) -> Result<(), TicketError> {
        if self.state != TicketState::Served {
            return Err(TicketError::NotServed {
                number: self.label(),
            });
        }
        if self.evaluated {
            return Err(TicketError::AlreadyEvaluated {
                number: self.label(),
            });
        }
        Ok(())
    }
    /// The ticket as called to `window` for the `calls`-th time.
    pub(crate) fn called(&self, window: u16, calls: u32) -> Called {
        Called {
            id: self.uuid(),
            number: self.label(),
            window,
            calls,
            kind: self.kind,
            announcement: announcement(self.ticket_number(), window),
        }
    }
}

/// A supervision event's body about `row` at `window` (both queues send the same).
pub(crate) fn event_body(
    cfg: &TicketingSection,
    row: &Row,
    window: u16,
    now: Timestamp,
    extra: impl FnOnce(&mut serde_json::Value),
) -> serde_json::Value {
    let mut body = serde_json::json!({
        "ticket": row.id,
        "hall": cfg.hall,
        "day": row.day,
        "service": row.service,
        "number": row.label(),
        "kind": row.kind,
        "window": window,
        "issued_at": rfc3339_ms(row.issued_ms),
        "at": now,
    });
    extra(&mut body);
    body
}

/// The day a 好差评 of `reference` is for: today's tickets only, and a negative level needs a
/// reason (both queues refuse alike).
pub(crate) fn evaluation_day(
    reference: &TicketRef,
    level: EvaluationLevel,
    reasons: &[String],
    now: Timestamp,
) -> Result<Date, TicketError> {
    if level.is_negative() && reasons.iter().all(|r| r.trim().is_empty()) {
        return Err(TicketError::ReasonRequired(level.name_zh()));
    }
    let today = hall_date(now);
    let day = reference.date.unwrap_or(today);
    if day != today {
        return Err(TicketError::Stale {
            number: reference.number.to_string(),
            date: day,
        });
    }
    Ok(day)
}

/// The 好差评 event's body about `row` (both queues send the same).
pub(crate) fn evaluation_body(
    cfg: &TicketingSection,
    row: &Row,
    level: EvaluationLevel,
    reasons: &[String],
    now: Timestamp,
) -> serde_json::Value {
    serde_json::json!({
        "subject": row.id,
        "subject_kind": "ticket",
        "hall": cfg.hall,
        "service": row.service,
        "window": row.window,
        "level": level,
        "score": level.score(),
        "reasons": reasons,
        "at": now,
    })
}

/// The event a window's finishing action sends, if any (a hold sends none).
pub(crate) fn finish_event_kind(action: Action) -> Option<&'static str> {
    match action {
        Action::Serve => Some(EVENT_SERVED),
        Action::Skip => Some(EVENT_NO_SHOW),
        Action::Transfer => Some(EVENT_TRANSFERRED),
        _ => None,
    }
}

/// What a finishing action's event adds: waiting (and for a serve, service) seconds and
/// where a transfer went.
pub(crate) fn finish_event_extra(
    b: &mut serde_json::Value,
    action: Action,
    to: Option<&Transfer>,
    wait_secs: Option<i64>,
    service_secs: Option<i64>,
) {
    b["wait_secs"] = wait_secs.into();
    if action == Action::Serve {
        b["service_secs"] = service_secs.into();
    }
    match to {
        Some(Transfer::Window(w)) => b["to_window"] = (*w).into(),
        Some(Transfer::Service(s)) => b["to_service"] = s.trim().to_ascii_uppercase().into(),
        None => {}
    }
}

/// The profile's ticketing section, or why there is none.
pub fn section(profile: &super::config::Profile) -> Result<&TicketingSection, TicketError> {
    profile.ticketing.as_ref().ok_or(TicketError::NotConfigured)
}

#[cfg(test)]
mod tests;
