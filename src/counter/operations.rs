//! What operations ask of the counter by remote command (`core::commands`: the agent takes
//! the platform's signed commands and sets the store's switches), and what the counter tells
//! the agent back:
//! - its activity (`activity.counter`): a citizen is being served, or a case is waiting for
//!   its receipt — the agent installs an update only while every app says idle;
//! - `maintenance on`: the clerk is told on a strip above the desk, and no further ticket is
//!   called; the citizen at the window is served to the end;
//! - `restart`: taken only between citizens (nobody at the window, no receipt pending, no
//!   queue action in flight); the event loop ends and systemd starts the app again.

use std::time::{Duration, Instant};

use super::Counter;
use crate::core::update::Activity;

/// How often the switches are read and the activity said.
pub(super) const OPS_CHECK: Duration = Duration::from_secs(2);

/// What the clerk reads while operations hold the terminal in maintenance.
pub(super) const MAINTENANCE_ZH: &str =
    "运维已将本机设为维护状态：请为当前市民办完业务，之后暂停叫号，等待技术人员";

impl Counter {
    /// Reads what operations asked (every [`OPS_CHECK`]) and says what the counter is doing.
    pub(super) fn follow_operations(&self, now: Instant) {
        let restart = {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            if st
                .ops_checked
                .is_some_and(|t| now.saturating_duration_since(t) < OPS_CHECK)
            {
                return;
            }
            st.ops_checked = Some(now);
            let activity = Activity {
                citizen_present: st.clerk.serving(),
                submitting: st.awaiting.is_some(),
            };
            let store = &mut st.terminal.core.store;
            crate::core::commands::keep_activity_said(
                store,
                "counter",
                &mut st.activity_said,
                activity,
                now,
            );
            match (
                crate::core::commands::maintenance_requested(store),
                crate::core::commands::restart_requested(store),
            ) {
                (Ok(m), Ok(r)) => {
                    st.maintenance = m;
                    r.is_some() && activity.idle() && !st.desk_busy
                }
                (Err(e), _) | (_, Err(e)) => {
                    tracing::warn!(error = %e, "operations switches unreadable");
                    false
                }
            }
        };
        if restart {
            self.restart_now();
        }
    }

    /// Once the clerk's window has drawn its first frame, writes the start marker the health
    /// check after an update waits for (`core::update::markers`).
    pub(super) fn mark_first_frame(&self, window: &crate::ui::CounterWindow) {
        let state = self.state.clone();
        crate::ui::on_first_frame(slint::ComponentHandle::window(window), move || {
            crate::core::update::markers::mark_now(
                &mut state.borrow_mut().terminal.core.store,
                "counter",
            );
        });
    }

    /// Operations asked for a restart and nobody is being served: the request is taken (so
    /// the new process does not restart again) and the event loop ends.
    fn restart_now(&self) {
        let mut st = self.state.borrow_mut();
        if crate::core::commands::restart_between_citizens(&mut st.terminal.core.store, "counter") {
            st.restarting = true;
            drop(st);
            let _ = slint::quit_event_loop();
        }
    }

    /// Whether the counter took a restart request and is ending (tests check this).
    pub fn restarting(&self) -> bool {
        self.state.borrow().restarting
    }
}
