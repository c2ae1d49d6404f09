//! The agent's share of the hall: on a terminal whose profile names a hall database
//! (`ticketing.queue`), a task delivers the hall outbox's supervision events to the platform
//! every [`EVERY`], through [`crate::core::hall::deliver`] — whichever agent of the hall holds
//! the delivery lock sends; the others wait for their next round.

use std::sync::Arc;
use std::time::Duration;

use crate::core::config::TicketingSection;
use crate::core::hall::deliver::{deliver, Pass};
use crate::core::platform::{Platform, PlatformClient};

/// How often an agent tries a delivery pass.
pub const EVERY: Duration = Duration::from_secs(10);
/// Events at most per pass (the rest wait for the next).
const MAX_PER_PASS: usize = 1_000;

/// Runs delivery passes until `stop` turns true.
pub async fn run(
    cfg: TicketingSection,
    client: Arc<PlatformClient>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        let (cfg, client) = (cfg.clone(), client.clone());
        let handle = tokio::runtime::Handle::current();
        // The hall client is blocking: the pass runs off the agent's async threads.
        let pass = tokio::task::spawn_blocking(move || {
            deliver(&cfg, MAX_PER_PASS, |key, kind, body| {
                handle.block_on(client.submit_event(key, kind, body))
            })
        })
        .await;
        match pass {
            Ok(Ok(Pass::Delivered {
                sent,
                refused,
                left,
            })) if sent + refused > 0 => {
                tracing::info!(sent, refused, left, "hall events delivered");
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "hall events not delivered this round"),
            Err(e) => tracing::error!(error = %e, "hall delivery pass failed"),
        }
    }
}
