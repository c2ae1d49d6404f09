//! 叫号屏 — the hall display glue: it reads the queue — from the hall database when the
//! profile names one (`ticketing.queue`), else from the store — shows now calling, recent
//! calls and people waiting per service, and speaks each new call (or recall) once.
//!
//! On a hall database it re-reads when the database announces a change (a
//! [`crate::core::hall::listen::Listener`] wakes the UI through `HallAdapter.changed`), when
//! the listener's link comes back, and every 30 s as a safety net; on the embedded store, and
//! while a read fails, every second. When a read fails it keeps the last good state with a
//! 连接中断 mark, and reconnects.

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

type Read = (
    Result<ticketing::HallStatus, ticketing::TicketError>,
    Result<Option<ticketing::Called>, ticketing::TicketError>,
);

/// Today's queue and the latest call, from the hall database when the profile names one
/// (reconnecting if the link broke), else from the store.
fn read(core: &mut Core, hall: &mut crate::core::hall::HallLink, now: Timestamp) -> Read {
    use ticketing::HallQueue;
    let Some(cfg) = core.profile.ticketing.clone() else {
        return (
            Err(ticketing::TicketError::NotConfigured),
            Err(ticketing::TicketError::NotConfigured),
        );
    };
    if cfg.queue.is_none() {
        return (
            ticketing::status(&mut core.store, &cfg, now),
            ticketing::latest_call(&mut core.store, now),
        );
    }
    match hall.get(&cfg) {
        Ok(db) => {
            let mut q = crate::core::hall::Hall {
                db,
                store: &mut core.store,
                cfg: &cfg,
                terminal: &core.profile.terminal.name,
            };
            (q.status(now), q.latest_call(now))
        }
        Err(e) => {
            let m = e.to_string();
            (
                Err(ticketing::TicketError::Hall(m.clone())),
                Err(ticketing::TicketError::Hall(m)),
            )
        }
    }
}

/// The running hall display.
pub struct HallDisplay {
    window: slint::Weak<HallDisplayWindow>,
    state: Rc<RefCell<State>>,
}

struct State {
    core: Core,
    /// The hall database when the profile names one (`ticketing.queue`).
    hall: crate::core::hall::HallLink,
    /// When the queue was last read (the 连接中断 mark says how old what is shown is).
    last_read: Option<Timestamp>,
    speech: Box<dyn Speaker>,
    /// The call last spoken: ticket id and its call count (a recall is spoken again).
    spoken: Option<(uuid::Uuid, u32)>,
    /// The hall database's change listener (`None` on the embedded store).
    listener: Option<crate::core::hall::listen::Listener>,
    /// The last read failed: read again every second until one succeeds.
    failing: bool,
    /// Operations' restart was taken: the event loop is ending.
    restarting: bool,
}

/// On a hall database with its listener, the queue is re-read at least this often anyway.
const SAFETY_READ: Duration = Duration::from_secs(30);

impl HallDisplay {
    /// Wires the window to a started core and shows the queue as it is. Calls made before
    /// the display started are shown, not spoken.
    pub fn attach(window: &HallDisplayWindow, mut core: Core, speech: Box<dyn Speaker>) -> Self {
        let mut hall = crate::core::hall::HallLink::default();
        let spoken = read(&mut core, &mut hall, Timestamp::now())
            .1
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
        let listener = core
            .profile
            .ticketing
            .clone()
            .filter(|t| t.queue.is_some())
            .map(|cfg| {
                let w = window.as_weak();
                crate::core::hall::listen::Listener::start(cfg, move |change| {
                    tracing::debug!(?change, "hall queue");
                    let _ = w.upgrade_in_event_loop(|w| w.global::<HallAdapter>().invoke_changed());
                })
            });
        let d = Self {
            window: window.as_weak(),
            state: Rc::new(RefCell::new(State {
                core,
                hall,
                last_read: None,
                speech,
                spoken,
                listener,
                failing: false,
                restarting: false,
            })),
        };
        let again = Self {
            window: d.window.clone(),
            state: d.state.clone(),
        };
        a.on_changed(move || again.refresh(Timestamp::now()));
        d.refresh(Timestamp::now());
        d
    }

    /// The timer's turn: operations' restart (a display serves nobody, so it restarts at
    /// once), the clock, and a read when one is due (see the module doc).
    pub fn tick(&self, now: Timestamp) {
        if self.restart_if_asked() {
            return;
        }
        let due = {
            let st = self.state.borrow();
            st.listener.is_none()
                || st.failing
                || st
                    .last_read
                    .is_none_or(|t| now.duration_since(t).unsigned_abs() >= SAFETY_READ)
        };
        if due {
            self.refresh(now);
        } else if let Some(w) = self.window.upgrade() {
            w.global::<HallAdapter>().set_clock(clock(now).into());
        }
    }

    /// Takes operations' restart request, if one is pending, and ends the event loop
    /// (systemd starts the new binary: the health check after an update asks for this).
    fn restart_if_asked(&self) -> bool {
        use crate::core::commands::{restart_between_citizens, restart_requested};
        let mut guard = self.state.borrow_mut();
        let st = &mut *guard;
        if st.restarting {
            return true;
        }
        // Read first: the take is a write, and a display ticks every second.
        if !matches!(restart_requested(&mut st.core.store), Ok(Some(_)))
            || !restart_between_citizens(&mut st.core.store, "hall-display")
        {
            return false;
        }
        st.restarting = true;
        drop(guard);
        let _ = slint::quit_event_loop();
        true
    }

    /// Whether the display took a restart request and is ending (tests check this).
    pub fn restarting(&self) -> bool {
        self.state.borrow().restarting
    }

    /// Once the window has drawn its first frame, writes the start marker the health check
    /// after an update waits for (`core::update::markers`).
    pub fn mark_first_frame(&self, window: &HallDisplayWindow) {
        let state = self.state.clone();
        crate::ui::on_first_frame(window.window(), move || {
            crate::core::update::markers::mark_now(
                &mut state.borrow_mut().core.store,
                "hall-display",
            );
        });
    }

    /// Reads the queue and shows it; speaks a call not spoken yet.
    pub fn refresh(&self, now: Timestamp) {
        let Some(w) = self.window.upgrade() else {
            return;
        };
        let a = w.global::<HallAdapter>();
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        a.set_clock(clock(now).into());
        if st.core.profile.ticketing.is_none() {
            a.set_announcement("本终端未配置取号叫号（配置文件中没有 [ticketing]）".into());
            return;
        }
        let (status, latest) = read(&mut st.core, &mut st.hall, now);
        // A failed read keeps what is shown and marks it: never "0 人等候" because of it.
        st.failing = status.is_err();
        match (&status, st.last_read) {
            (Ok(_), _) => {
                st.last_read = Some(now);
                a.set_link_notice(SharedString::new());
            }
            (Err(e), last) => {
                tracing::warn!(error = %e, "hall queue not read");
                let since = last
                    .map(|t| {
                        t.to_zoned(ticketing::hall_tz())
                            .strftime("，显示的是 %H:%M 的状态")
                            .to_string()
                    })
                    .unwrap_or_default();
                a.set_link_notice(format!("连接中断{since}").into());
            }
        }
        if let Ok(s) = status {
            {
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
        }
        match latest {
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
            Err(_) => {}
        }
    }

    /// Ticks every second while kept alive (the clock; a read when one is due).
    pub fn timer(&self) -> slint::Timer {
        let t = slint::Timer::default();
        let d = HallDisplay {
            window: self.window.clone(),
            state: self.state.clone(),
        };
        t.start(
            slint::TimerMode::Repeated,
            Duration::from_secs(1),
            move || d.tick(Timestamp::now()),
        );
        t
    }
}

fn clock(now: Timestamp) -> String {
    now.to_zoned(ticketing::hall_tz())
        .strftime("%H:%M")
        .to_string()
}
