//! A counter window's desk: the store, the data key and quota its events are sealed and
//! counted with, the hall's ticketing section and the window's number, so a window's actions
//! take only their own arguments. The actions that call and finish tickets live in
//! [`super::queue`]; this file adds the rest and the older free-function form.

use jiff::Timestamp;
use uuid::Uuid;

use super::{
    evaluate, issue, set_window_open, status, Called, Finished, HallStatus, IssueRequest,
    IssuedTicket, TicketError, TicketRef, Transfer,
};
use crate::core::config::TicketingSection;
use crate::core::crypto::DataKey;
use crate::core::domain::EvaluationLevel;
use crate::core::outbox::Quota;
use crate::core::store::Store;

/// What a counter window works with (see [`crate::core::Core::desk`]): every window action
/// is a method taking just its own arguments and the time.
#[derive(Debug)]
pub struct Desk<'a> {
    /// The queue's store.
    pub store: &'a mut Store,
    /// Seals the supervision events.
    pub key: &'a DataKey,
    /// The outbox's quota the events count against.
    pub quota: Quota,
    /// The hall's services and windows.
    pub cfg: &'a TicketingSection,
    /// This window's number.
    pub window: u16,
}

impl Desk<'_> {
    /// Opens this window for calling (a clerk signed in) or closes it; a window with a
    /// ticket in progress cannot close.
    pub fn set_open(&mut self, open: bool, now: Timestamp) -> Result<(), TicketError> {
        set_window_open(self.store, self.cfg, self.window, open, now)
    }

    /// Issues a ticket at this desk (取号 or 预约签到), as [`issue`] does.
    pub fn issue(
        &mut self,
        req: &IssueRequest,
        now: Timestamp,
    ) -> Result<IssuedTicket, TicketError> {
        issue(self.store, self.key, self.quota, self.cfg, req, now)
    }

    /// 好差评 of a served ticket, as [`evaluate`] does.
    pub fn evaluate(
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

    /// Today's queue, windows and recent calls, as [`status`] gives them.
    pub fn status(&mut self, now: Timestamp) -> Result<HallStatus, TicketError> {
        status(self.store, self.cfg, now)
    }
}

/// The free-function form of a [`Desk`] action, taking the desk's parts one by one (only the
/// tests still call these; the apps act through a `Desk`): builds the desk and calls the method.
macro_rules! desk_action {
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) -> $out:ty) => {
        $(#[$doc])*
        pub fn $name(
            store: &mut Store,
            key: &DataKey,
            quota: Quota,
            cfg: &TicketingSection,
            window: u16,
            $($arg: $ty,)*
            now: Timestamp,
        ) -> Result<$out, TicketError> {
            Desk { store, key, quota, cfg, window }.$name($($arg,)* now)
        }
    };
}

desk_action!(
    /// 叫号: [`Desk::call_next`].
    call_next() -> Called
);
desk_action!(
    /// Calls one ticket by number or QR text: [`Desk::call_ticket`].
    call_ticket(reference: &TicketRef) -> Called
);
desk_action!(
    /// 重呼: [`Desk::recall`].
    recall() -> Called
);
desk_action!(
    /// 过号: [`Desk::skip`].
    skip() -> Finished
);
desk_action!(
    /// 暂挂: [`Desk::hold`].
    hold() -> Finished
);
desk_action!(
    /// 办结: [`Desk::serve`].
    serve() -> Finished
);
desk_action!(
    /// 转出: [`Desk::transfer`].
    transfer(to: &Transfer) -> Finished
);
