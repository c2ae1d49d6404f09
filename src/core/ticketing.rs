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
//! The queue is the store's: terminals that call tickets share one store (the hall's queue
//! host); kiosks elsewhere issue from their own leases.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::config::{parse_hh_mm, HallService, TicketingSection};
use super::crypto::DataKey;
use super::domain::{EvaluationLevel, IdNumber};
use super::outbox::{enqueue_event_in, OutboxError, Quota};
use super::platform::wire::{TicketLease, TicketLeaseRequest};
use super::platform::{PlatformClient, PlatformError};
use super::store::{next_sequence_in, Store, StoreError};

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

/// What kind of ticket: decides its call priority. The only thing stored about the citizen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketKind {
    /// 现场取号
    WalkIn,
    /// 绿色通道
    Green,
    /// 预约签到
    Appointment,
}

impl TicketKind {
    /// The machine name, as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WalkIn => "walk_in",
            Self::Green => "green",
            Self::Appointment => "appointment",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "green" => Self::Green,
            "appointment" => Self::Appointment,
            _ => Self::WalkIn,
        }
    }

    /// The configured call priority: higher is called first, walk-ins are 0.
    pub fn priority(self, cfg: &TicketingSection) -> u8 {
        match self {
            Self::WalkIn => 0,
            Self::Green => cfg.green_priority,
            Self::Appointment => cfg.appointment_priority,
        }
    }
}

/// Why a citizen is in the green channel. Used to decide, never stored or sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GreenReason {
    /// Age ≥ `ticketing.green_age`, from the ID number's birth date.
    Age,
    /// Chosen at the kiosk or by staff (disability, pregnancy).
    Chosen,
}

/// The green channel decision: chosen, or inferred from the birth date in the ID number.
pub fn green_reason(
    chosen: bool,
    id_number: Option<&IdNumber>,
    today: Date,
    green_age: u8,
) -> Option<GreenReason> {
    if chosen {
        return Some(GreenReason::Chosen);
    }
    let age = id_number.and_then(|n| n.age_on(today))?;
    (age >= i16::from(green_age)).then_some(GreenReason::Age)
}

/// A ticket's state in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    /// 等候中 (also after a transfer).
    Waiting,
    /// 已叫号, at a window.
    Called,
    /// 暂挂: the citizen stepped away (a missing copy); the window calls it back by number.
    Held,
    /// 已办结
    Served,
    /// 过号
    NoShow,
    /// Left called at a window when its day ended (never marked served or no-show).
    Expired,
}

impl TicketState {
    /// The machine name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Called => "called",
            Self::Held => "held",
            Self::Served => "served",
            Self::NoShow => "no_show",
            Self::Expired => "expired",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "called" => Self::Called,
            "held" => Self::Held,
            "served" => Self::Served,
            "no_show" => Self::NoShow,
            "expired" => Self::Expired,
            _ => Self::Waiting,
        }
    }

    /// The state in words, as a message completes it ("A001 号已办结").
    pub fn describe_zh(self) -> &'static str {
        match self {
            Self::Waiting => "正在等候",
            Self::Called => "已叫号",
            Self::Held => "已暂挂",
            Self::Served => "已办结",
            Self::NoShow => "已过号",
            Self::Expired => "已过期",
        }
    }
}

/// What a window does with a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Call,
    Recall,
    Skip,
    Hold,
    Serve,
    Transfer,
}

/// The queue's state machine: the state a ticket moves to, or `None` if the action does not
/// apply. Calling takes waiting and held tickets; everything else acts on a called one.
pub fn next_state(from: TicketState, action: Action) -> Option<TicketState> {
    use TicketState::*;
    match (from, action) {
        (Waiting | Held, Action::Call) => Some(Called),
        (Called, Action::Recall) => Some(Called),
        (Called, Action::Skip) => Some(NoShow),
        (Called, Action::Hold) => Some(Held),
        (Called, Action::Serve) => Some(Served),
        (Called, Action::Transfer) => Some(Waiting),
        _ => None,
    }
}

/// A ticket number: a service letter and 1–999, shown as `A001`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TicketNumber {
    pub prefix: char,
    pub number: u32,
}

impl std::fmt::Display for TicketNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{:03}", self.prefix, self.number)
    }
}

impl TicketNumber {
    /// Parses `A001` (upper or lower case letter, 1–3 digits, 1–999).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let mut chars = s.chars();
        let prefix = chars.next()?.to_ascii_uppercase();
        let digits = chars.as_str();
        if !prefix.is_ascii_uppercase()
            || digits.is_empty()
            || digits.len() > 3
            || !digits.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let number: u32 = digits.parse().ok()?;
        (1..=999)
            .contains(&number)
            .then_some(Self { prefix, number })
    }
}

/// A ticket as staff type it (`A001`, today) or a scanner reads its QR code
/// (`YKBT:2026-11-27:A001`, with its day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketRef {
    pub date: Option<Date>,
    pub number: TicketNumber,
}

impl TicketRef {
    /// Parses either form.
    pub fn parse(s: &str) -> Result<Self, TicketError> {
        let bad = || TicketError::BadReference(s.to_owned());
        let t = s.trim();
        if let Some(rest) = t.strip_prefix(QR_PREFIX).and_then(|r| r.strip_prefix(':')) {
            let (date, number) = rest.split_once(':').ok_or_else(bad)?;
            return Ok(Self {
                date: Some(date.parse().map_err(|_| bad())?),
                number: TicketNumber::parse(number).ok_or_else(bad)?,
            });
        }
        Ok(Self {
            date: None,
            number: TicketNumber::parse(t).ok_or_else(bad)?,
        })
    }
}

/// The text of a ticket's QR code.
pub fn qr_payload(date: Date, number: TicketNumber) -> String {
    format!("{QR_PREFIX}:{date}:{number}")
}

/// What the hall display shows and the TTS speaks when a ticket is called.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    /// 请A001号到3号窗口办理
    pub zh: String,
    /// Number A001, please go to window 3.
    pub en: String,
}

/// The announcement for `number` called to `window`.
pub fn announcement(number: TicketNumber, window: u16) -> Announcement {
    Announcement {
        zh: format!("请{number}号到{window}号窗口办理"),
        en: format!("Number {number}, please go to window {window}."),
    }
}

/// Whether `service` issues tickets at hall time `t`: from `opens` up to, not including,
/// `closes`.
pub fn is_issuing(service: &HallService, t: Time) -> bool {
    match (parse_hh_mm(&service.opens), parse_hh_mm(&service.closes)) {
        (Some(o), Some(c)) => o <= t && t < c,
        _ => false,
    }
}

/// A waiting ticket as the call order sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// Sent here by another window: it has waited already, so it goes first.
    pub transferred: bool,
    /// From its kind and the configuration.
    pub priority: u8,
    /// Order of arrival in the queue (FIFO within a priority).
    pub queue_seq: u64,
}

impl Candidate {
    /// Smaller is called earlier.
    fn order(&self) -> (bool, std::cmp::Reverse<u8>, u64) {
        (
            !self.transferred,
            std::cmp::Reverse(self.priority),
            self.queue_seq,
        )
    }
}

/// Which of the waiting tickets a window calls next: transferred ones first, then by priority
/// (green channel, appointments, as configured), then first come, first served.
pub fn pick_next(waiting: &[Candidate]) -> Option<usize> {
    waiting
        .iter()
        .enumerate()
        .min_by_key(|(_, c)| c.order())
        .map(|(i, _)| i)
}

/// How many of `waiting` are called before `me` (the "前面还有 N 人" on the printed ticket).
pub fn ahead_of(waiting: &[Candidate], me: &Candidate) -> u32 {
    waiting.iter().filter(|c| c.order() < me.order()).count() as u32
}

/// A leased range of numbers with the next one to issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseRange {
    pub first: u32,
    pub last: u32,
    pub next: u32,
}

impl LeaseRange {
    /// Numbers still to issue.
    pub fn remaining(&self) -> u32 {
        (self.last + 1).saturating_sub(self.next)
    }
}

/// A citizen's request for a ticket.
#[derive(Debug, Clone, Default)]
pub struct IssueRequest {
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
    /// People called before this ticket, as things stand.
    pub waiting_before: u32,
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

fn service<'a>(cfg: &'a TicketingSection, prefix: &str) -> Result<&'a HallService, TicketError> {
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

fn rfc3339_ms(ms: i64) -> String {
    Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// The leases a terminal should ask for now: services whose numbers for `today` run below
/// `lease_low_water` and whose leases have not reached the daily cap.
pub fn lease_requests(
    store: &mut Store,
    cfg: &TicketingSection,
    today: Date,
) -> Result<Vec<TicketLeaseRequest>, TicketError> {
    let day = today.to_string();
    let conn = store.conn();
    let mut out = Vec::new();
    for s in &cfg.services {
        let (remaining, top): (i64, i64) = conn.query_row(
            "SELECT COALESCE(SUM(last + 1 - next), 0), COALESCE(MAX(last), 0)
             FROM ticket_leases WHERE service = ?1 AND day = ?2",
            params![s.prefix, day],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if remaining < i64::from(cfg.lease_low_water) && top < i64::from(s.daily_cap) {
            out.push(TicketLeaseRequest {
                hall: cfg.hall.clone(),
                service: s.prefix.clone(),
                date: day.clone(),
                count: cfg.lease_size,
                daily_cap: s.daily_cap,
            });
        }
    }
    Ok(out)
}

/// Records a lease the platform granted, after checking it answers `request` and overlaps
/// no range this store already holds (nothing from the platform reaches the store unchecked).
pub fn record_lease(
    store: &mut Store,
    request: &TicketLeaseRequest,
    lease: &TicketLease,
    now: Timestamp,
) -> Result<(), TicketError> {
    let bad = |m: String| Err(TicketError::BadLease(m));
    if lease.hall != request.hall || lease.service != request.service || lease.date != request.date
    {
        return bad(format!(
            "应答的大厅/业务/日期 {}/{}/{} 与请求的 {}/{}/{} 不符",
            lease.hall, lease.service, lease.date, request.hall, request.service, request.date
        ));
    }
    if lease.first == 0
        || lease.first > lease.last
        || lease.last > request.daily_cap.min(999)
        || lease.last - lease.first >= request.count
    {
        return bad(format!(
            "号段 {}–{} 无效（请求 {} 个，每日上限 {}）",
            lease.first, lease.last, request.count, request.daily_cap
        ));
    }
    let tx = immediate(store)?;
    let overlap: i64 = tx.query_row(
        "SELECT count(*) FROM ticket_leases WHERE service = ?1 AND day = ?2
         AND first <= ?4 AND last >= ?3",
        params![lease.service, lease.date, lease.first, lease.last],
        |r| r.get(0),
    )?;
    if overlap > 0 {
        return bad(format!(
            "号段 {}–{} 与本机已有号段重叠",
            lease.first, lease.last
        ));
    }
    tx.execute(
        "INSERT INTO ticket_leases (hall, service, day, first, last, next, leased_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?4, ?6)",
        params![
            lease.hall,
            lease.service,
            lease.date,
            lease.first,
            lease.last,
            now.to_string()
        ],
    )?;
    tx.commit()?;
    Ok(())
}

/// What a top-up did.
#[derive(Debug, Default)]
pub struct TopUp {
    /// Leases recorded.
    pub leased: Vec<TicketLease>,
    /// Services the platform or the network refused, with why.
    pub failed: Vec<(String, String)>,
}

/// Tops up every service that runs low for today: asks the platform for a range each and
/// records it. The store lock is never held across a network call. Failures are reported per
/// service; the terminal keeps issuing from what it holds.
pub async fn top_up(
    store: &std::sync::Mutex<Store>,
    client: &PlatformClient,
    cfg: &TicketingSection,
    now: Timestamp,
) -> Result<TopUp, TicketError> {
    let lock = || store.lock().unwrap_or_else(|p| p.into_inner());
    let requests = lease_requests(&mut lock(), cfg, hall_date(now))?;
    let mut out = TopUp::default();
    for req in requests {
        match client.ticket_lease(&req).await {
            Ok(lease) => {
                record_lease(&mut lock(), &req, &lease, Timestamp::now())?;
                out.leased.push(lease);
            }
            Err(e) => {
                let msg = match &e {
                    PlatformError::Rejected { status: 409, .. } => {
                        format!("今日号源已由平台发完（{e}）")
                    }
                    _ => e.to_string(),
                };
                tracing::warn!(service = %req.service, error = %e, "ticket lease not granted");
                out.failed.push((req.service.clone(), msg));
            }
        }
    }
    Ok(out)
}

/// Numbers this store can still issue today, per service letter.
pub fn lease_remaining(store: &mut Store, service: &str, today: Date) -> Result<u32, TicketError> {
    let n: i64 = store.conn().query_row(
        "SELECT COALESCE(SUM(last + 1 - next), 0) FROM ticket_leases WHERE service = ?1 AND day = ?2",
        params![service, today.to_string()],
        |r| r.get(0),
    )?;
    Ok(n.max(0) as u32)
}

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
    let svc = service(cfg, &req.service)?;
    let today = hall_date(now);
    if !is_issuing(svc, hall_time(now)) {
        return Err(TicketError::OutsideHours {
            service: svc.name.clone(),
            opens: svc.opens.clone(),
            closes: svc.closes.clone(),
        });
    }
    let appointment = match &req.appointment {
        Some(a) if a.code.trim().is_empty() => return Err(TicketError::EmptyAppointment),
        Some(a) if a.date != today => {
            return Err(TicketError::AppointmentNotToday {
                code: a.code.trim().to_owned(),
                date: a.date,
            })
        }
        Some(a) => Some(a.code.trim().to_owned()),
        None => None,
    };
    // An appointment checks in with its priority; a green-channel citizen gets the higher of
    // the two.
    let green = green_reason(req.green, req.id_number.as_ref(), today, cfg.green_age).is_some();
    let kind = match (green, &appointment) {
        (true, Some(_)) if cfg.green_priority >= cfg.appointment_priority => TicketKind::Green,
        (_, Some(_)) => TicketKind::Appointment,
        (true, None) => TicketKind::Green,
        (false, None) => TicketKind::WalkIn,
    };
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
        qr: qr_payload(today, number_t),
        issued_at: now,
    })
}

fn label(service: &str, number: i64) -> String {
    format!("{service}{number:03}")
}

/// Waiting tickets of a service's own queue (not those sent to a particular window).
fn queue_of(tx: &Transaction<'_>, day: &str, service: &str) -> Result<Vec<Candidate>, TicketError> {
    let mut stmt = tx.prepare_cached(
        "SELECT transferred, priority, queue_seq FROM tickets
         WHERE day = ?1 AND state = 'waiting' AND queue_service = ?2 AND target_window IS NULL",
    )?;
    let rows = stmt.query_map(params![day, service], |r| {
        Ok(Candidate {
            transferred: r.get(0)?,
            priority: r.get(1)?,
            queue_seq: r.get::<_, i64>(2)? as u64,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A ticket row as the queue functions need it.
#[derive(Debug, Clone)]
struct Row {
    id: String,
    day: String,
    service: String,
    number: i64,
    kind: TicketKind,
    state: TicketState,
    window: Option<u16>,
    calls: u32,
    issued_ms: i64,
    first_called_ms: Option<i64>,
    called_ms: Option<i64>,
    evaluated: bool,
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
    fn label(&self) -> String {
        label(&self.service, self.number)
    }
    fn uuid(&self) -> Uuid {
        Uuid::parse_str(&self.id).unwrap_or_default()
    }
    fn ticket_number(&self) -> TicketNumber {
        TicketNumber {
            prefix: self.service.chars().next().unwrap_or('A'),
            number: self.number as u32,
        }
    }
}

fn window_cfg(
    cfg: &TicketingSection,
    window: u16,
) -> Result<&super::config::HallWindow, TicketError> {
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

/// 叫号: calls the next ticket for `window` — tickets sent to it first, then the services it
/// serves by priority and arrival.
pub fn call_next(
    store: &mut Store,
    key: &DataKey,
    quota: Quota,
    cfg: &TicketingSection,
    window: u16,
    now: Timestamp,
) -> Result<Called, TicketError> {
    let today = hall_date(now).to_string();
    let services = window_cfg(cfg, window)?.services.clone();
    let tx = free_window(store, cfg, window, &today)?;
    let rows: Vec<(String, Candidate)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT id, transferred, priority, queue_seq, target_window, queue_service FROM tickets
             WHERE day = ?1 AND state = 'waiting'",
        )?;
        let rows = stmt.query_map([&today], |r| {
            Ok((
                r.get::<_, String>(0)?,
                Candidate {
                    transferred: r.get(1)?,
                    priority: r.get(2)?,
                    queue_seq: r.get::<_, i64>(3)? as u64,
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
/// came to the window directly). Refuses a ticket of another day, one called elsewhere, and
/// one already finished.
pub fn call_ticket(
    store: &mut Store,
    key: &DataKey,
    quota: Quota,
    cfg: &TicketingSection,
    window: u16,
    reference: &TicketRef,
    now: Timestamp,
) -> Result<Called, TicketError> {
    let today_d = hall_date(now);
    let today = today_d.to_string();
    if let Some(d) = reference.date.filter(|d| *d != today_d) {
        return Err(TicketError::Stale {
            number: reference.number.to_string(),
            date: d,
        });
    }
    let tx = free_window(store, cfg, window, &today)?;
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
    if next_state(row.state, Action::Call).is_none() {
        return Err(match (row.state, row.window) {
            (TicketState::Called, Some(w)) => TicketError::AlreadyCalled {
                number: row.label(),
                window: w,
            },
            (s, _) => TicketError::NotCallable {
                number: row.label(),
                state: s.describe_zh(),
            },
        });
    }
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
    let called = Called {
        id: row.uuid(),
        number: row.label(),
        window,
        calls,
        kind: row.kind,
        announcement: announcement(row.ticket_number(), window),
    };
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
    enqueue_event_in(tx, key, quota, kind, &body, now)?;
    Ok(())
}

/// 重呼: announces the window's current ticket again.
pub fn recall(
    store: &mut Store,
    key: &DataKey,
    quota: Quota,
    cfg: &TicketingSection,
    window: u16,
    now: Timestamp,
) -> Result<Called, TicketError> {
    window_cfg(cfg, window)?;
    let today = hall_date(now).to_string();
    let tx = immediate(store)?;
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
    Ok(Called {
        id: row.uuid(),
        number: row.label(),
        window,
        calls,
        kind: row.kind,
        announcement: announcement(row.ticket_number(), window),
    })
}

/// Ends the window's current ticket with `action`: skip (过号), hold (暂挂), serve (办结) or
/// transfer (转出, with `to`).
#[allow(clippy::too_many_arguments)]
fn finish(
    store: &mut Store,
    key: &DataKey,
    quota: Quota,
    cfg: &TicketingSection,
    window: u16,
    action: Action,
    to: Option<&Transfer>,
    now: Timestamp,
) -> Result<Finished, TicketError> {
    window_cfg(cfg, window)?;
    let today = hall_date(now).to_string();
    let tx = immediate(store)?;
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
    let kind = match action {
        Action::Serve => Some(EVENT_SERVED),
        Action::Skip => Some(EVENT_NO_SHOW),
        Action::Transfer => Some(EVENT_TRANSFERRED),
        _ => None,
    };
    if let Some(kind) = kind {
        event(&tx, key, quota, cfg, kind, &row, window, now, |b| {
            b["wait_secs"] = wait_secs.into();
            if action == Action::Serve {
                b["service_secs"] = service_secs.into();
            }
            match to {
                Some(Transfer::Window(w)) => b["to_window"] = (*w).into(),
                Some(Transfer::Service(s)) => {
                    b["to_service"] = s.trim().to_ascii_uppercase().into()
                }
                None => {}
            }
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

/// 过号: the called citizen did not come.
pub fn skip(
    store: &mut Store,
    key: &DataKey,
    quota: Quota,
    cfg: &TicketingSection,
    window: u16,
    now: Timestamp,
) -> Result<Finished, TicketError> {
    finish(store, key, quota, cfg, window, Action::Skip, None, now)
}

/// 暂挂: the citizen steps away; the window is free and calls the ticket back by number.
pub fn hold(
    store: &mut Store,
    key: &DataKey,
    quota: Quota,
    cfg: &TicketingSection,
    window: u16,
    now: Timestamp,
) -> Result<Finished, TicketError> {
    finish(store, key, quota, cfg, window, Action::Hold, None, now)
}

/// 办结: the window's ticket is served; the event carries the waiting and service times.
pub fn serve(
    store: &mut Store,
    key: &DataKey,
    quota: Quota,
    cfg: &TicketingSection,
    window: u16,
    now: Timestamp,
) -> Result<Finished, TicketError> {
    finish(store, key, quota, cfg, window, Action::Serve, None, now)
}

/// 转出: sends the window's ticket to an open window or another service's queue, ahead of
/// those who have not been called yet.
pub fn transfer(
    store: &mut Store,
    key: &DataKey,
    quota: Quota,
    cfg: &TicketingSection,
    window: u16,
    to: &Transfer,
    now: Timestamp,
) -> Result<Finished, TicketError> {
    finish(
        store,
        key,
        quota,
        cfg,
        window,
        Action::Transfer,
        Some(to),
        now,
    )
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
    if row.state != TicketState::Served {
        return Err(TicketError::NotServed {
            number: row.label(),
        });
    }
    if row.evaluated {
        return Err(TicketError::AlreadyEvaluated {
            number: row.label(),
        });
    }
    tx.execute("UPDATE tickets SET evaluated = 1 WHERE id = ?1", [&row.id])?;
    let body = serde_json::json!({
        "subject": row.id,
        "subject_kind": "ticket",
        "hall": cfg.hall,
        "service": row.service,
        "window": row.window,
        "level": level,
        "score": level.score(),
        "reasons": reasons,
        "at": now,
    });
    let id = enqueue_event_in(&tx, key, quota, EVENT_EVALUATION, &body, now)?;
    tx.commit()?;
    Ok(id)
}

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
    Ok(row.and_then(|r| {
        let window = r.window?;
        Some(Called {
            id: r.uuid(),
            number: r.label(),
            window,
            calls: r.calls,
            kind: r.kind,
            announcement: announcement(r.ticket_number(), window),
        })
    }))
}

/// The profile's ticketing section, or why there is none.
pub fn section(profile: &super::config::Profile) -> Result<&TicketingSection, TicketError> {
    profile.ticketing.as_ref().ok_or(TicketError::NotConfigured)
}

#[cfg(test)]
mod tests;
