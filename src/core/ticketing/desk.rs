//! The one hall-queue interface ([`HallQueue`]) and the [`Desk`] a counter window acts
//! through. Two queues implement it: [`Embedded`], the terminal's own SQLite store (today's
//! single-terminal sites and the demo), and `core::hall::HallDb`, the hall's PostgreSQL
//! database shared by every kiosk, counter and display of a hall. Both take their decisions
//! from [`super::rules`] (`plan_issue`, `pick_next` and its SQL twin `CALL_ORDER_SQL`,
//! `next_state`, the announcement); only where the rows live differs.

use jiff::Timestamp;
use uuid::Uuid;

use super::{
    evaluate, issue, latest_call, set_window_open, status, Action, Called, Finished, HallStatus,
    IssueRequest, IssuedTicket, TicketError, TicketRef, Transfer,
};
use crate::core::config::TicketingSection;
use crate::core::crypto::DataKey;
use crate::core::domain::EvaluationLevel;
use crate::core::outbox::Quota;
use crate::core::store::Store;

/// A hall's queue: issuing, each window's actions, 好差评 and what the display reads. Every
/// method is one transaction of the queue with its supervision event.
pub trait HallQueue {
    /// 取号 or 预约签到. A request carrying a tap key that was already issued returns that
    /// ticket again (one tap, one ticket).
    fn issue(&mut self, req: &IssueRequest, now: Timestamp) -> Result<IssuedTicket, TicketError>;
    /// The ticket's printing failed: it leaves the queue (已作废) instead of waiting as a
    /// ghost no citizen holds.
    fn withdraw(&mut self, id: Uuid, now: Timestamp) -> Result<Finished, TicketError>;
    /// Opens `window` for calling or closes it (refused with a ticket in progress).
    fn set_open(&mut self, window: u16, open: bool, now: Timestamp) -> Result<(), TicketError>;
    /// 叫号: the next ticket for `window`; never one another window holds.
    fn call_next(&mut self, window: u16, now: Timestamp) -> Result<Called, TicketError>;
    /// Calls one ticket by number or QR text to `window`.
    fn call_ticket(
        &mut self,
        window: u16,
        reference: &TicketRef,
        now: Timestamp,
    ) -> Result<Called, TicketError>;
    /// 重呼 of the window's current ticket.
    fn recall(&mut self, window: u16, now: Timestamp) -> Result<Called, TicketError>;
    /// Ends the window's current ticket: skip, hold, serve or transfer (with `to`).
    fn finish(
        &mut self,
        window: u16,
        action: Action,
        to: Option<&Transfer>,
        now: Timestamp,
    ) -> Result<Finished, TicketError>;
    /// 好差评 of a served ticket, once.
    fn evaluate(
        &mut self,
        reference: &TicketRef,
        level: EvaluationLevel,
        reasons: &[String],
        now: Timestamp,
    ) -> Result<Uuid, TicketError>;
    /// Today's queue, windows and recent calls. A failed read is an error, never an empty
    /// queue.
    fn status(&mut self, now: Timestamp) -> Result<HallStatus, TicketError>;
    /// The latest call today, for the display to announce.
    fn latest_call(&mut self, now: Timestamp) -> Result<Option<Called>, TicketError>;
}

/// The embedded queue: this terminal's store, the data key and quota its events are sealed and
/// counted with, and the hall's ticketing section.
#[derive(Debug)]
pub struct Embedded<'a> {
    /// The queue's store.
    pub store: &'a mut Store,
    /// Seals the supervision events.
    pub key: &'a DataKey,
    /// The outbox's quota the events count against.
    pub quota: Quota,
    /// The hall's services and windows.
    pub cfg: &'a TicketingSection,
}

impl HallQueue for Embedded<'_> {
    fn issue(&mut self, req: &IssueRequest, now: Timestamp) -> Result<IssuedTicket, TicketError> {
        issue(self.store, self.key, self.quota, self.cfg, req, now)
    }
    fn withdraw(&mut self, id: Uuid, now: Timestamp) -> Result<Finished, TicketError> {
        self.withdraw_ticket(id, now)
    }
    fn set_open(&mut self, window: u16, open: bool, now: Timestamp) -> Result<(), TicketError> {
        set_window_open(self.store, self.cfg, window, open, now)
    }
    fn call_next(&mut self, window: u16, now: Timestamp) -> Result<Called, TicketError> {
        self.call_next_at(window, now)
    }
    fn call_ticket(
        &mut self,
        window: u16,
        reference: &TicketRef,
        now: Timestamp,
    ) -> Result<Called, TicketError> {
        self.call_ticket_at(window, reference, now)
    }
    fn recall(&mut self, window: u16, now: Timestamp) -> Result<Called, TicketError> {
        self.recall_at(window, now)
    }
    fn finish(
        &mut self,
        window: u16,
        action: Action,
        to: Option<&Transfer>,
        now: Timestamp,
    ) -> Result<Finished, TicketError> {
        self.finish_at(window, action, to, now)
    }
    fn evaluate(
        &mut self,
        reference: &TicketRef,
        level: EvaluationLevel,
        reasons: &[String],
        now: Timestamp,
    ) -> Result<Uuid, TicketError> {
        evaluate(
            self.store, self.key, self.quota, self.cfg, reference, level, reasons, now,
        )
    }
    fn status(&mut self, now: Timestamp) -> Result<HallStatus, TicketError> {
        status(self.store, self.cfg, now)
    }
    fn latest_call(&mut self, now: Timestamp) -> Result<Option<Called>, TicketError> {
        latest_call(self.store, now)
    }
}

/// The hall's queue while the hall database cannot be reached: every action is refused with
/// the sentence saying so (the counter shows it and goes on accepting cases; the display keeps
/// its last good state). Never an empty queue.
#[derive(Debug, Clone)]
pub struct Unavailable(pub String);

impl Unavailable {
    fn refuse<T>(&self) -> Result<T, TicketError> {
        Err(TicketError::Hall(self.0.clone()))
    }
}

impl HallQueue for Unavailable {
    fn issue(&mut self, _: &IssueRequest, _: Timestamp) -> Result<IssuedTicket, TicketError> {
        self.refuse()
    }
    fn withdraw(&mut self, _: Uuid, _: Timestamp) -> Result<Finished, TicketError> {
        self.refuse()
    }
    fn set_open(&mut self, _: u16, _: bool, _: Timestamp) -> Result<(), TicketError> {
        self.refuse()
    }
    fn call_next(&mut self, _: u16, _: Timestamp) -> Result<Called, TicketError> {
        self.refuse()
    }
    fn call_ticket(&mut self, _: u16, _: &TicketRef, _: Timestamp) -> Result<Called, TicketError> {
        self.refuse()
    }
    fn recall(&mut self, _: u16, _: Timestamp) -> Result<Called, TicketError> {
        self.refuse()
    }
    fn finish(
        &mut self,
        _: u16,
        _: Action,
        _: Option<&Transfer>,
        _: Timestamp,
    ) -> Result<Finished, TicketError> {
        self.refuse()
    }
    fn evaluate(
        &mut self,
        _: &TicketRef,
        _: EvaluationLevel,
        _: &[String],
        _: Timestamp,
    ) -> Result<Uuid, TicketError> {
        self.refuse()
    }
    fn status(&mut self, _: Timestamp) -> Result<HallStatus, TicketError> {
        self.refuse()
    }
    fn latest_call(&mut self, _: Timestamp) -> Result<Option<Called>, TicketError> {
        self.refuse()
    }
}

/// What a counter window works with (see [`crate::core::Core::desk`]): the hall's queue,
/// whichever it is, and the window's number, so every action takes just its own arguments
/// and the time.
pub struct Desk<'a> {
    queue: Box<dyn HallQueue + 'a>,
    /// This window's number.
    pub window: u16,
}

impl std::fmt::Debug for Desk<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desk")
            .field("window", &self.window)
            .finish()
    }
}

impl<'a> Desk<'a> {
    /// Window `window`'s desk on `queue`.
    pub fn new(queue: impl HallQueue + 'a, window: u16) -> Self {
        Self {
            queue: Box::new(queue),
            window,
        }
    }

    /// Window `window`'s desk on the embedded queue of `store`.
    pub fn embedded(
        store: &'a mut Store,
        key: &'a DataKey,
        quota: Quota,
        cfg: &'a TicketingSection,
        window: u16,
    ) -> Self {
        Self::new(
            Embedded {
                store,
                key,
                quota,
                cfg,
            },
            window,
        )
    }

    /// Opens this window for calling (a clerk signed in) or closes it; a window with a
    /// ticket in progress cannot close.
    pub fn set_open(&mut self, open: bool, now: Timestamp) -> Result<(), TicketError> {
        self.queue.set_open(self.window, open, now)
    }

    /// Issues a ticket at this desk (取号 or 预约签到).
    pub fn issue(
        &mut self,
        req: &IssueRequest,
        now: Timestamp,
    ) -> Result<IssuedTicket, TicketError> {
        self.queue.issue(req, now)
    }

    /// 叫号: calls the next ticket for this window — tickets sent to it first, then the
    /// services it serves by priority and arrival.
    pub fn call_next(&mut self, now: Timestamp) -> Result<Called, TicketError> {
        self.queue.call_next(self.window, now)
    }

    /// Calls one ticket by number or QR text (a held ticket back to its window, a citizen who
    /// came to the window directly). Refuses a ticket of another day, one called elsewhere,
    /// and one already finished.
    pub fn call_ticket(
        &mut self,
        reference: &TicketRef,
        now: Timestamp,
    ) -> Result<Called, TicketError> {
        self.queue.call_ticket(self.window, reference, now)
    }

    /// 重呼: announces the window's current ticket again.
    pub fn recall(&mut self, now: Timestamp) -> Result<Called, TicketError> {
        self.queue.recall(self.window, now)
    }

    /// 过号: the called citizen did not come.
    pub fn skip(&mut self, now: Timestamp) -> Result<Finished, TicketError> {
        self.queue.finish(self.window, Action::Skip, None, now)
    }

    /// 暂挂: the citizen steps away; the window is free and calls the ticket back by number.
    pub fn hold(&mut self, now: Timestamp) -> Result<Finished, TicketError> {
        self.queue.finish(self.window, Action::Hold, None, now)
    }

    /// 办结: the window's ticket is served; the event carries the waiting and service times.
    pub fn serve(&mut self, now: Timestamp) -> Result<Finished, TicketError> {
        self.queue.finish(self.window, Action::Serve, None, now)
    }

    /// 转出: sends the window's ticket to an open window or another service's queue, ahead
    /// of those who have not been called yet.
    pub fn transfer(&mut self, to: &Transfer, now: Timestamp) -> Result<Finished, TicketError> {
        self.queue
            .finish(self.window, Action::Transfer, Some(to), now)
    }

    /// 好差评 of a served ticket.
    pub fn evaluate(
        &mut self,
        reference: &TicketRef,
        level: EvaluationLevel,
        reasons: &[String],
        now: Timestamp,
    ) -> Result<Uuid, TicketError> {
        self.queue.evaluate(reference, level, reasons, now)
    }

    /// Withdraws a ticket whose printing failed.
    pub fn withdraw(&mut self, id: Uuid, now: Timestamp) -> Result<Finished, TicketError> {
        self.queue.withdraw(id, now)
    }

    /// Today's queue, windows and recent calls.
    pub fn status(&mut self, now: Timestamp) -> Result<HallStatus, TicketError> {
        self.queue.status(now)
    }

    /// The latest call today.
    pub fn latest_call(&mut self, now: Timestamp) -> Result<Option<Called>, TicketError> {
        self.queue.latest_call(now)
    }
}
