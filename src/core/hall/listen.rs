//! `LISTEN ykb_hall`: a thread with a connection of its own that tells its owner when the
//! hall's queue changed, so the calling display and the counters re-read it when a change is
//! committed instead of polling. Every queue change is announced (`pg_notify`) just
//! after the transaction that makes it commits, with the hall's id as payload; a burst is told
//! once.
//!
//! It also tells when the link is lost and when it is back (what changed meanwhile was never
//! announced, so the owner re-reads then too). It reconnects by itself, every second at first
//! and then every five; it checks a quiet connection every five seconds, so a server that
//! vanished without closing the connection is noticed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use postgres::fallible_iterator::FallibleIterator;

use super::{HallDb, CHANNEL};
use crate::core::config::TicketingSection;

/// What the listener tells its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The hall's queue changed (one or more committed changes).
    Changed,
    /// Listening (again): re-read, since changes meanwhile were not announced.
    Connected,
    /// The link is lost; the sentence says why. The listener keeps trying.
    Lost(String),
}

/// The running listener; stops when dropped.
#[derive(Debug)]
pub struct Listener {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// How long one wait for a notification lasts before the stop flag is looked at again.
const WAIT: Duration = Duration::from_millis(250);
/// A quiet connection is checked this often.
const CHECK: Duration = Duration::from_secs(5);

impl Listener {
    /// Starts listening for `cfg.hall`'s changes on `cfg.queue`; `tell` runs on the listener's
    /// thread.
    pub fn start(cfg: TicketingSection, tell: impl Fn(Change) + Send + 'static) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("hall-listen".into())
            .spawn(move || run(&cfg, &flag, &tell))
            .expect("spawn the hall listener");
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(cfg: &TicketingSection, stop: &AtomicBool, tell: &dyn Fn(Change)) {
    let mut retry = Duration::from_secs(1);
    let mut lost_said = false;
    while !stop.load(Ordering::Relaxed) {
        let mut db = match HallDb::connect(cfg).and_then(|mut db| listen(&mut db).map(|()| db)) {
            Ok(db) => db,
            Err(e) => {
                if !lost_said {
                    tell(Change::Lost(e.to_string()));
                    lost_said = true;
                }
                sleep_unless_stopped(retry, stop);
                retry = (retry * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        retry = Duration::from_secs(1);
        lost_said = false;
        tell(Change::Connected);
        let why = follow(&mut db, &cfg.hall, stop, tell);
        if let Some(why) = why {
            tell(Change::Lost(why));
            lost_said = true;
        }
    }
}

fn listen(db: &mut HallDb) -> Result<(), crate::core::ticketing::TicketError> {
    db.client
        .batch_execute(&format!("LISTEN {CHANNEL}"))
        .map_err(|e| super::describe(&e))
}

/// Follows the notifications until the link breaks (the sentence why) or the listener stops.
fn follow(db: &mut HallDb, hall: &str, stop: &AtomicBool, tell: &dyn Fn(Change)) -> Option<String> {
    let mut checked = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let first = db.client.notifications().timeout_iter(WAIT).next();
        match first {
            Ok(Some(n)) => {
                let mut ours = n.payload() == hall;
                // A burst is one change for the owner: take what is already here.
                let mut more = db.client.notifications();
                let mut it = more.iter();
                while let Ok(Some(n)) = it.next() {
                    ours |= n.payload() == hall;
                }
                if ours {
                    tell(Change::Changed);
                }
                checked = Instant::now();
            }
            Ok(None) if db.client.is_closed() => {
                return Some("大厅数据库断开了连接".into());
            }
            Ok(None) => {
                if checked.elapsed() >= CHECK {
                    if let Err(e) = db.client.is_valid(Duration::from_secs(2)) {
                        return Some(super::describe(&e).to_string());
                    }
                    checked = Instant::now();
                }
            }
            Err(e) => return Some(super::describe(&e).to_string()),
        }
    }
    None
}

fn sleep_unless_stopped(d: Duration, stop: &AtomicBool) {
    let until = Instant::now() + d;
    while Instant::now() < until && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(WAIT.min(until.saturating_duration_since(Instant::now())));
    }
}
