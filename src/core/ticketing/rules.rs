//! The pure decisions and plain types of ticketing: ticket kinds and the green channel, the
//! queue's state machine, ticket numbers and QR text, the announcement, issuing hours and the
//! call order. Nothing here touches the store.

use jiff::civil::{Date, Time};
use serde::{Deserialize, Serialize};

use super::TicketError;
use super::QR_PREFIX;
use crate::core::config::{parse_hh_mm, HallService, TicketingSection};
use crate::core::domain::IdNumber;

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

    pub(crate) fn parse(s: &str) -> Self {
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
    /// 已作废: its printing failed, so no citizen holds it; it is never called.
    Withdrawn,
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
            Self::Withdrawn => "withdrawn",
        }
    }

    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "called" => Self::Called,
            "held" => Self::Held,
            "served" => Self::Served,
            "no_show" => Self::NoShow,
            "expired" => Self::Expired,
            "withdrawn" => Self::Withdrawn,
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
            Self::Withdrawn => "因打印失败已作废",
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
    /// The ticket's printing failed: it leaves the queue before anyone calls it.
    Withdraw,
}

/// The queue's state machine: the state a ticket moves to, or `None` if the action does not
/// apply. Calling takes waiting and held tickets; withdrawing only a waiting one; everything
/// else acts on a called one.
pub fn next_state(from: TicketState, action: Action) -> Option<TicketState> {
    use TicketState::*;
    match (from, action) {
        (Waiting | Held, Action::Call) => Some(Called),
        (Called, Action::Recall) => Some(Called),
        (Called, Action::Skip) => Some(NoShow),
        (Called, Action::Hold) => Some(Held),
        (Called, Action::Serve) => Some(Served),
        (Called, Action::Transfer) => Some(Waiting),
        (Waiting, Action::Withdraw) => Some(Withdrawn),
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
    /// When the ticket was issued (Unix ms, the issuing terminal's clock): first come, first
    /// served within a priority — also for a ticket issued offline and replayed into the
    /// hall later, which keeps the place its citizen took.
    pub issued_ms: i64,
    /// Order of arrival in the queue: breaks ties of the same millisecond.
    pub queue_seq: u64,
}

impl Candidate {
    /// Smaller is called earlier.
    fn order(&self) -> (bool, std::cmp::Reverse<u8>, i64, u64) {
        (
            !self.transferred,
            std::cmp::Reverse(self.priority),
            self.issued_ms,
            self.queue_seq,
        )
    }
}

/// [`Candidate`]'s order as an SQL `ORDER BY` over the columns `transferred`, `priority`,
/// `issued_ms` and `queue_seq`: for a queue that picks in the database in one statement (the hall's call-next,
/// `ORDER BY … LIMIT 1 FOR UPDATE SKIP LOCKED`). Keep the two in step; `tests/hall.rs` runs
/// the same mixed queue through both and compares the calling order.
pub const CALL_ORDER_SQL: &str = "transferred DESC, priority DESC, issued_ms, queue_seq";

/// Which of the waiting tickets a window calls next: transferred ones first, then by priority
/// (green channel, appointments, as configured), then first come, first served (by the time
/// of issue).
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

/// What an issue request becomes once checked: the service, the ticket's kind and priority and
/// the appointment code. Both queues issue from this; nothing personal is in it.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuePlan {
    pub service: HallService,
    pub kind: TicketKind,
    pub priority: u8,
    pub appointment: Option<String>,
    pub today: Date,
}

/// Checks an issue request at hall time `now` (service, issuing hours, appointment day) and
/// decides the ticket's kind: an appointment checks in with its priority; a green-channel
/// citizen gets the higher of the two. The ID number is used here and goes no further.
pub fn plan_issue(
    cfg: &TicketingSection,
    req: &super::IssueRequest,
    today: Date,
    time: Time,
) -> Result<IssuePlan, TicketError> {
    let svc = super::service(cfg, &req.service)?;
    if !is_issuing(svc, time) {
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
    let green = green_reason(req.green, req.id_number.as_ref(), today, cfg.green_age).is_some();
    let kind = match (green, &appointment) {
        (true, Some(_)) if cfg.green_priority >= cfg.appointment_priority => TicketKind::Green,
        (_, Some(_)) => TicketKind::Appointment,
        (true, None) => TicketKind::Green,
        (false, None) => TicketKind::WalkIn,
    };
    Ok(IssuePlan {
        service: svc.clone(),
        priority: kind.priority(cfg),
        kind,
        appointment,
        today,
    })
}
