//! 时钟 — the wall-clock time the delivery worker schedules by, as a small seam.
//!
//! Production reads the system clock ([`Clock::system`]). [`Clock::following_runtime`] reads
//! tokio's clock instead, from an origin: under a paused tokio runtime (virtual time, as the
//! fleet simulation runs) every `tokio::time::sleep` of the real code and every timestamp it
//! takes through this clock move together, so an hour of backoff passes in no real time and
//! the retry times the outbox stores stay consistent with the waits it sleeps.
//! Unpaused, it is the monotonic clock mapped onto the wall clock at the origin.

use jiff::{SignedDuration, Timestamp};

/// Where "now" comes from.
#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    /// `None`: the system clock; else tokio's clock from this instant, which was `Timestamp`.
    origin: Option<(tokio::time::Instant, Timestamp)>,
}

impl Clock {
    /// The system's wall clock (`Timestamp::now`).
    pub fn system() -> Self {
        Self { origin: None }
    }

    /// Tokio's clock, starting now at the current wall-clock time. Call inside a runtime
    /// (a paused one runs virtual time).
    pub fn following_runtime() -> Self {
        Self {
            origin: Some((tokio::time::Instant::now(), Timestamp::now())),
        }
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        match self.origin {
            None => Timestamp::now(),
            Some((at, wall)) => {
                let passed = SignedDuration::try_from(at.elapsed()).unwrap_or(SignedDuration::MAX);
                wall.saturating_add(passed).unwrap_or(wall)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_system_clock_is_the_wall_clock() {
        let before = Timestamp::now();
        let t = Clock::system().now();
        assert!(t >= before && t <= Timestamp::now());
    }

    #[tokio::test(start_paused = true)]
    async fn a_clock_following_a_paused_runtime_moves_with_its_sleeps_only() {
        let c = Clock::following_runtime();
        let start = c.now();
        // Real time passes, virtual time does not.
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(c.now(), start);
        // An hour's sleep passes at once and moves the clock by exactly that hour.
        let real = std::time::Instant::now();
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert!(real.elapsed() < Duration::from_secs(5));
        assert_eq!(
            c.now().duration_since(start),
            SignedDuration::from_secs(3600)
        );
    }
}
