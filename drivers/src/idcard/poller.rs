//! The card poller (sans-IO): which command to send next, and when a card counts as placed,
//! read or removed.
//!
//! Readers answer find-card with 0x80 after a successful read until the card leaves the field,
//! so "find failed" alone cannot tell an empty field from a card already read. After a read the
//! poller therefore confirms presence with select-card: 0x90 means the card is still there, 0x81
//! that it has gone; and a find that succeeds while a read card is held means a card was placed
//! anew (swapped faster than one poll). A card is read once per placement: after a read,
//! nothing is read again until removal has been reported.

use super::sam::{SamCommand, SamError};

/// Where the poller is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollState {
    /// No card known to be in the field.
    Empty,
    /// Find succeeded; select next.
    Found,
    /// Select succeeded on a new card; the read is due.
    ReadDue,
    /// A card was read and has not yet been seen leaving.
    Held,
    /// Held, and find failed: select decides whether the card is still there.
    ConfirmingPresence,
}

/// What the driver should do after feeding a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollAction {
    /// Send [`CardPoller::next_command`] straight away.
    Continue,
    /// Nothing new: wait one poll interval, then continue.
    Wait,
    /// A new card is selected: read it now, then call `read_succeeded` or `read_failed`.
    Read,
    /// The card that was read has left the field.
    Removed,
}

/// The poller state machine.
#[derive(Debug, Clone)]
pub struct CardPoller {
    state: PollState,
}

impl Default for CardPoller {
    fn default() -> Self {
        Self::new()
    }
}

impl CardPoller {
    /// Starts with an empty field.
    pub fn new() -> Self {
        Self {
            state: PollState::Empty,
        }
    }

    /// The current state.
    pub fn state(&self) -> PollState {
        self.state
    }

    /// Whether a card that was read is (as far as we know) still in the field.
    pub fn holding_card(&self) -> bool {
        matches!(self.state, PollState::Held | PollState::ConfirmingPresence)
    }

    /// The command to send next.
    pub fn next_command(&self) -> SamCommand {
        match self.state {
            PollState::Empty | PollState::Held => SamCommand::FindCard,
            PollState::Found | PollState::ConfirmingPresence => SamCommand::SelectCard,
            PollState::ReadDue => SamCommand::ReadTextPhoto,
        }
    }

    /// Feeds the status of the find or select just sent (`Ok` = its success status).
    /// Transport failures are not fed here; the driver handles them.
    pub fn on_status(&mut self, cmd: SamCommand, status: Result<(), SamError>) -> PollAction {
        use PollState::*;
        match (self.state, cmd, status) {
            (Empty, SamCommand::FindCard, Ok(())) => {
                self.state = Found;
                PollAction::Continue
            }
            (Empty, SamCommand::FindCard, Err(_)) => PollAction::Wait,
            (Found, SamCommand::SelectCard, Ok(())) => {
                self.state = ReadDue;
                PollAction::Read
            }
            (Found, SamCommand::SelectCard, Err(_)) => {
                self.state = Empty;
                PollAction::Wait
            }
            // Held and find succeeds: a card that was read answers 0x80 until it leaves, so
            // this is a card placed anew (the same one lifted and put back, or another).
            (Held, SamCommand::FindCard, Ok(())) => {
                self.state = Found;
                PollAction::Removed
            }
            (Held, SamCommand::FindCard, Err(_)) => {
                self.state = ConfirmingPresence;
                PollAction::Continue
            }
            (ConfirmingPresence, SamCommand::SelectCard, Ok(())) => {
                self.state = Held;
                PollAction::Wait
            }
            (ConfirmingPresence, SamCommand::SelectCard, Err(_)) => {
                self.state = Empty;
                PollAction::Removed
            }
            (ReadDue, _, _) => PollAction::Read,
            // A reply for a command we did not ask for (should not happen): start over.
            _ => {
                self.state = if self.holding_card() { Held } else { Empty };
                PollAction::Wait
            }
        }
    }

    /// The read succeeded: hold the card until it is seen leaving.
    pub fn read_succeeded(&mut self) {
        self.state = PollState::Held;
    }

    /// The read failed (card lifted, bad card): look for a card again from scratch.
    pub fn read_failed(&mut self) {
        self.state = PollState::Empty;
    }

    /// The link was lost: forget the card (it may be gone when the reader is back).
    pub fn reset(&mut self) {
        self.state = PollState::Empty;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn find(p: &mut CardPoller, ok: bool) -> PollAction {
        assert_eq!(p.next_command(), SamCommand::FindCard);
        p.on_status(
            SamCommand::FindCard,
            if ok {
                Ok(())
            } else {
                Err(SamError::FindFailed)
            },
        )
    }
    fn select(p: &mut CardPoller, ok: bool) -> PollAction {
        assert_eq!(p.next_command(), SamCommand::SelectCard);
        p.on_status(
            SamCommand::SelectCard,
            if ok {
                Ok(())
            } else {
                Err(SamError::SelectFailed)
            },
        )
    }

    #[test]
    fn find_card_reports_removed_until_card_leaves_field() {
        let mut p = CardPoller::new();
        assert_eq!(find(&mut p, false), PollAction::Wait);
        assert_eq!(find(&mut p, true), PollAction::Continue);
        assert_eq!(select(&mut p, true), PollAction::Read);
        p.read_succeeded();
        // The quirk: find fails while the card lies there; select says it is still present.
        for _ in 0..5 {
            assert_eq!(find(&mut p, false), PollAction::Continue);
            assert_eq!(select(&mut p, true), PollAction::Wait);
        }
        assert_eq!(find(&mut p, false), PollAction::Continue);
        assert_eq!(select(&mut p, false), PollAction::Removed);
        assert_eq!(p.state(), PollState::Empty);
        assert_eq!(find(&mut p, true), PollAction::Continue);
        assert_eq!(select(&mut p, true), PollAction::Read);
    }

    #[test]
    fn find_success_while_held_means_the_card_was_placed_anew() {
        let mut p = CardPoller::new();
        find(&mut p, true);
        select(&mut p, true);
        p.read_succeeded();
        assert_eq!(find(&mut p, true), PollAction::Removed);
        assert_eq!(select(&mut p, true), PollAction::Read);
    }

    proptest! {
        #[test]
        fn never_two_reads_without_a_removal(steps in proptest::collection::vec(any::<(bool, bool)>(), 0..200)) {
            let mut p = CardPoller::new();
            let mut reads_since_removal = 0;
            for (ok, read_ok) in steps {
                let cmd = p.next_command();
                let status = if ok { Ok(()) } else { Err(SamError::from_sw3(0x80)) };
                match p.on_status(cmd, status) {
                    PollAction::Read => {
                        if read_ok {
                            reads_since_removal += 1;
                            prop_assert!(reads_since_removal <= 1);
                            p.read_succeeded();
                        } else {
                            p.read_failed();
                        }
                    }
                    PollAction::Removed => reads_since_removal = 0,
                    _ => {}
                }
            }
        }
    }
}
