//! 叫号屏 — the hall display glue: every second it reads the queue from the store
//! (`ticketing::status`, `ticketing::latest_call`), shows now calling, recent calls and people
//! waiting per service, and speaks each new call (or recall) once.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use jiff::Timestamp;
use slint::{ComponentHandle, SharedString};

use crate::core::ticketing;
use crate::core::Core;
use crate::ui::{model, HallAdapter, HallCall, HallDisplayWindow, HallQueue};

use crate::core::config::Language;
use crate::terminal::speech::Speaker;

/// The running hall display.
pub struct HallDisplay {
    window: slint::Weak<HallDisplayWindow>,
    state: Rc<RefCell<State>>,
}

struct State {
    core: Core,
    speech: Box<dyn Speaker>,
    /// The call last spoken: ticket id and its call count (a recall is spoken again).
    spoken: Option<(uuid::Uuid, u32)>,
}

impl HallDisplay {
    /// Wires the window to a started core and shows the queue as it is. Calls made before
    /// the display started are shown, not spoken.
    pub fn attach(window: &HallDisplayWindow, mut core: Core, speech: Box<dyn Speaker>) -> Self {
        let spoken = ticketing::latest_call(&mut core.store, Timestamp::now())
            .ok()
            .flatten()
            .map(|c| (c.id, c.calls));
        let a = window.global::<HallAdapter>();
        let name = core
            .profile
            .terminal
            .site
            .split_whitespace()
            .next()
            .unwrap_or(core.profile.terminal.name.as_str())
            .to_owned();
        a.set_hall_name(name.into());
        let d = Self {
            window: window.as_weak(),
            state: Rc::new(RefCell::new(State {
                core,
                speech,
                spoken,
            })),
        };
        d.refresh(Timestamp::now());
        d
    }

    /// Reads the queue and shows it; speaks a call not spoken yet.
    pub fn refresh(&self, now: Timestamp) {
        let Some(w) = self.window.upgrade() else {
            return;
        };
        let a = w.global::<HallAdapter>();
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        a.set_clock(
            now.to_zoned(ticketing::hall_tz())
                .strftime("%H:%M")
                .to_string()
                .into(),
        );
        let Some(cfg) = st.core.profile.ticketing.clone() else {
            a.set_announcement("本终端未配置取号叫号（配置文件中没有 [ticketing]）".into());
            return;
        };
        match ticketing::status(&mut st.core.store, &cfg, now) {
            Ok(s) => {
                a.set_queues(model(
                    s.services
                        .iter()
                        .map(|q| HallQueue {
                            name: q.name.clone().into(),
                            waiting: q.waiting.to_string().into(),
                        })
                        .collect::<Vec<_>>(),
                ));
                a.set_recent(model(
                    s.recent_calls
                        .iter()
                        .map(|(n, w)| HallCall {
                            number: n.clone().into(),
                            window: w.to_string().into(),
                        })
                        .collect::<Vec<_>>(),
                ));
            }
            Err(e) => tracing::warn!(error = %e, "hall status not read"),
        }
        match ticketing::latest_call(&mut st.core.store, now) {
            Ok(Some(c)) => {
                a.set_now_number(c.number.clone().into());
                a.set_now_window(c.window.to_string().into());
                a.set_announcement(c.announcement.zh.clone().into());
                if st.spoken != Some((c.id, c.calls)) {
                    st.spoken = Some((c.id, c.calls));
                    st.speech.say(&c.announcement.zh, Language::ZhCn);
                }
            }
            Ok(None) => {
                a.set_now_number(SharedString::new());
                a.set_now_window(SharedString::new());
                a.set_announcement(SharedString::new());
            }
            Err(e) => tracing::warn!(error = %e, "latest call not read"),
        }
    }

    /// Refreshes every second while kept alive.
    pub fn timer(&self) -> slint::Timer {
        let t = slint::Timer::default();
        let d = HallDisplay {
            window: self.window.clone(),
            state: self.state.clone(),
        };
        t.start(
            slint::TimerMode::Repeated,
            Duration::from_secs(1),
            move || d.refresh(Timestamp::now()),
        );
        t
    }
}
