//! The circuit breaker of the outbox: a plain value deciding what a final rejection does.
//!
//! One item refused by the platform's own item-level code is a dead letter for staff. But
//! several *different* items refused one after another look like a fault of the platform or
//! of a gateway in front of it, not like bad cases: after [`STREAK`] in a row the queue pauses
//! for [`PAUSE`] instead, the streak's dead letters go back into the queue, and an alert is
//! raised. While the streak stands, every further rejection pauses again; the first delivery
//! closes the breaker. Stored in `outbox_breaker` so every deliverer on the store shares it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Consecutive rejections of different items that trip the breaker.
pub const STREAK: usize = 3;
/// How long a tripped breaker pauses the queue before it tries one item again.
pub const PAUSE: Duration = Duration::from_secs(15 * 60);

/// The breaker's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breaker {
    /// Ids of the items rejected in a row since the last delivery, oldest first.
    pub streak: Vec<String>,
    /// Until when the queue is paused (Unix ms).
    pub open_until_ms: Option<i64>,
}

/// What to do with an item the platform has just rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Set it aside as a dead letter.
    DeadLetter,
    /// Keep it (and put `restore`, the streak's earlier dead letters, back): the queue pauses
    /// until `until_ms`.
    Pause { until_ms: i64, restore: Vec<String> },
}

impl Breaker {
    /// Until when the queue is paused at `now_ms`, if it is. A pause ending further ahead
    /// than [`PAUSE`] (and a minute's disagreement between deliverers' clocks) was decided
    /// under a clock that has since been stepped back: it is over.
    pub fn paused_until(&self, now_ms: i64) -> Option<i64> {
        self.open_until_ms
            .filter(|&u| u > now_ms && u <= now_ms + PAUSE.as_millis() as i64 + 60_000)
    }

    /// An item was delivered: the platform takes items again.
    pub fn delivered(&mut self) {
        *self = Self::default();
    }

    /// Item `id` was rejected by the platform at `now_ms`.
    pub fn rejected(&mut self, id: &str, now_ms: i64) -> Verdict {
        let until_ms = now_ms + PAUSE.as_millis() as i64;
        if self.streak.len() >= STREAK {
            self.open_until_ms = Some(until_ms);
            return Verdict::Pause {
                until_ms,
                restore: Vec::new(),
            };
        }
        if !self.streak.iter().any(|s| s == id) {
            self.streak.push(id.to_owned());
        }
        if self.streak.len() < STREAK {
            return Verdict::DeadLetter;
        }
        self.open_until_ms = Some(until_ms);
        Verdict::Pause {
            until_ms,
            restore: self.streak.iter().filter(|s| *s != id).cloned().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn a_single_rejection_is_a_dead_letter_and_a_delivery_forgets_it() {
        let mut b = Breaker::default();
        assert_eq!(b.rejected("a", 0), Verdict::DeadLetter);
        assert_eq!(b.paused_until(0), None);
        b.delivered();
        assert_eq!(b.rejected("b", 1), Verdict::DeadLetter);
        b.delivered();
        assert_eq!(b.rejected("c", 2), Verdict::DeadLetter);
        assert_eq!(
            b,
            Breaker {
                streak: vec!["c".into()],
                open_until_ms: None
            }
        );
    }

    #[test]
    fn the_third_different_item_in_a_row_pauses_and_brings_the_others_back() {
        let mut b = Breaker::default();
        assert_eq!(b.rejected("a", 0), Verdict::DeadLetter);
        // The same item again (staff retried it) does not count twice.
        assert_eq!(b.rejected("a", 1), Verdict::DeadLetter);
        assert_eq!(b.rejected("b", 2), Verdict::DeadLetter);
        let v = b.rejected("c", 3);
        assert_eq!(
            v,
            Verdict::Pause {
                until_ms: 3 + 15 * MIN,
                restore: vec!["a".into(), "b".into()]
            }
        );
        assert_eq!(b.paused_until(4), Some(3 + 15 * MIN));
        assert_eq!(
            b.paused_until(3 + 15 * MIN),
            None,
            "the pause ends by itself"
        );
        // Tried again after the pause and refused again: pause again, nothing dead-lettered.
        assert!(
            matches!(b.rejected("a", 20 * MIN), Verdict::Pause { restore, .. } if restore.is_empty())
        );
        b.delivered();
        assert_eq!(b.paused_until(20 * MIN + 1), None);
        assert_eq!(b.rejected("d", 21 * MIN), Verdict::DeadLetter);
    }

    #[test]
    fn a_pause_from_a_clock_since_stepped_back_is_over() {
        let mut b = Breaker::default();
        let year = 365 * 24 * 60 * MIN;
        for id in ["a", "b", "c"] {
            b.rejected(id, year);
        }
        assert!(b.paused_until(year + 1).is_some());
        assert_eq!(b.paused_until(0), None);
    }
}
