//! Group "hall" (issue 14): the hall queue on a real PostgreSQL over loopback — the cluster
//! `scripts/test bench` starts (`YKB_TEST_PG`); without it the group stops saying how to run it.
//!
//! - Call-next with 40 windows calling at once (each its own connection and thread): p50/p99
//!   latency of one call and calls/s, beside the embedded SQLite queue with one window; and
//!   the same 40 windows each calling after a pause of 0–4 s (what a clerk feels).
//! - Call committed → the display's listener told (`LISTEN/NOTIFY`) and the status re-read:
//!   p50/p99, beside a display polling every 1 s (measured the same way, same calls).
//! - A compressed hall day: 2,988 tickets (the daily cap is 999 a service) issued by 4 kiosks while 40 windows call and serve:
//!   wall time, duplicates and tickets lost.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use ykb_terminal::core::config::{HallWindow, Profile, TicketingSection};
use ykb_terminal::core::hall::listen::{Change, Listener};
use ykb_terminal::core::hall::{Hall, HallDb};
use ykb_terminal::core::platform::wire::{TicketLease, TicketLeaseRequest};
use ykb_terminal::core::ticketing::{self, Desk, IssueRequest};
use ykb_terminal::core::Core;

use super::{percentile, Baseline, Figure};

const GROUP: &str = "hall";
const WINDOWS: u16 = 40;

/// A fresh hall database in the cluster, initialised; its profile section.
fn hall_db(tag: &str) -> TicketingSection {
    let admin = std::env::var("YKB_TEST_PG").unwrap_or_else(|_| {
        panic!("the hall group needs a real PostgreSQL: run `scripts/test bench -- hall`")
    });
    let name = format!("ykb_bench_{tag}_{}", std::process::id());
    let mut c = postgres::Client::connect(&admin, postgres::NoTls).expect("YKB_TEST_PG");
    c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .expect("drop");
    c.batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create");
    let (base, _) = admin.rsplit_once('/').expect("URI ends in /DATABASE");
    let mut cfg = Profile::demo().ticketing.expect("demo [ticketing]");
    cfg.queue = Some(format!("{base}/{name}"));
    for s in &mut cfg.services {
        s.daily_cap = 999;
    }
    let services: Vec<String> = cfg.services.iter().map(|s| s.prefix.clone()).collect();
    cfg.windows = (1..=WINDOWS)
        .map(|number| HallWindow {
            number,
            services: services.clone(),
        })
        .collect();
    HallDb::connect_unchecked(&cfg)
        .and_then(|mut db| db.init())
        .expect("hall init");
    cfg
}

/// A terminal of the hall: its own store, holding numbers `first..=last` of every service.
fn terminal(cfg: &TicketingSection, first: u32, last: u32) -> (tempfile::TempDir, Core) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut core = Core::start(Profile::demo(), dir.path()).expect("core");
    let now = Timestamp::now();
    let date = ticketing::hall_date(now).to_string();
    for s in &cfg.services {
        let req = TicketLeaseRequest {
            hall: cfg.hall.clone(),
            service: s.prefix.clone(),
            date: date.clone(),
            count: last - first + 1,
            daily_cap: 999,
        };
        let lease = TicketLease {
            hall: cfg.hall.clone(),
            service: s.prefix.clone(),
            date: date.clone(),
            first,
            last,
        };
        ticketing::record_lease(&mut core.store, &req, &lease, now).expect("lease");
    }
    (dir, core)
}

/// Runs `f` on a desk of window `window` over `db`.
fn desk<T>(
    db: &mut HallDb,
    core: &mut Core,
    cfg: &TicketingSection,
    window: u16,
    f: impl FnOnce(&mut Desk<'_>) -> T,
) -> T {
    let name = core.profile.terminal.name.clone();
    let mut d = Desk::new(
        Hall {
            db,
            store: &mut core.store,
            cfg,
            terminal: &name,
        },
        window,
    );
    f(&mut d)
}

fn issue(db: &mut HallDb, core: &mut Core, cfg: &TicketingSection, n: usize) -> Vec<String> {
    let services: Vec<String> = cfg.services.iter().map(|s| s.prefix.clone()).collect();
    (0..n)
        .map(|i| {
            let req = IssueRequest {
                service: services[i % services.len()].clone(),
                ..Default::default()
            };
            desk(db, core, cfg, 1, |d| d.issue(&req, Timestamp::now()))
                .expect("issue")
                .number
        })
        .collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The group's entry point.
pub fn hall(out: &mut Vec<Figure>) {
    call_next_40_windows(out);
    call_next_paced(out);
    call_to_display(out);
    hall_day(out);
}

/// The hall's windows 1..=WINDOWS, each on a thread with its own terminal and connection:
/// opens, waits at `start`, then up to `calls` times pauses `pause(state)` (the state seeded
/// by the window's number), calls next and serves; returns each call's time in ms.
fn windows(
    cfg: &TicketingSection,
    start: &Arc<Barrier>,
    calls: usize,
    pause: fn(&mut u64) -> Duration,
) -> Vec<std::thread::JoinHandle<Vec<f64>>> {
    (1..=WINDOWS)
        .map(|w| {
            let (cfg, start) = (cfg.clone(), start.clone());
            std::thread::spawn(move || {
                let (_dir, mut core) = terminal(&cfg, 1, 1);
                let mut db = HallDb::connect(&cfg).expect("hall");
                desk(&mut db, &mut core, &cfg, w, |d| {
                    d.set_open(true, Timestamp::now())
                })
                .expect("open");
                let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ u64::from(w);
                start.wait();
                let mut took = Vec::new();
                for _ in 0..calls {
                    let p = pause(&mut state);
                    if !p.is_zero() {
                        std::thread::sleep(p);
                    }
                    let t = Instant::now();
                    let called = desk(&mut db, &mut core, &cfg, w, |d| {
                        d.call_next(Timestamp::now())
                    });
                    let dt = t.elapsed();
                    if called.is_err() {
                        break;
                    }
                    took.push(ms(dt));
                    desk(&mut db, &mut core, &cfg, w, |d| d.serve(Timestamp::now()))
                        .expect("serve");
                }
                took
            })
        })
        .collect()
}

fn call_next_40_windows(out: &mut Vec<Figure>) {
    const PER_WINDOW: usize = 25;
    let cfg = hall_db("calls");
    let (_kdir, mut kiosk) = terminal(&cfg, 1, 999);
    let mut db = HallDb::connect(&cfg).expect("hall");
    issue(&mut db, &mut kiosk, &cfg, WINDOWS as usize * PER_WINDOW);
    let start = Arc::new(Barrier::new(WINDOWS as usize + 1));
    let threads = windows(&cfg, &start, usize::MAX, |_| Duration::ZERO);
    start.wait();
    let wall = Instant::now();
    let mut took: Vec<f64> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("window"))
        .collect();
    let wall = wall.elapsed();
    took.sort_by(f64::total_cmp);
    let calls = took.len();

    // The embedded queue, one window, the same number of calls.
    let (_edir, mut e) = super::demo_core();
    let mut ecfg = e.profile.ticketing.clone().expect("demo [ticketing]");
    ecfg.services[0].daily_cap = 999;
    super::lease_999_a_numbers(&mut e, &ecfg);
    let window = ecfg.windows[0].number;
    let quota = ykb_terminal::core::outbox::Quota::from_mb(1024);
    let req = IssueRequest {
        service: "A".into(),
        ..Default::default()
    };
    for _ in 0..calls.min(999) {
        super::issue_ticket(&mut e, &ecfg, &req);
    }
    Desk::embedded(&mut e.store, &e.key, quota, &ecfg, window)
        .set_open(true, Timestamp::now())
        .expect("open");
    let mut etook = Vec::new();
    let ewall = Instant::now();
    loop {
        let mut d = Desk::embedded(&mut e.store, &e.key, quota, &ecfg, window);
        let t = Instant::now();
        if d.call_next(Timestamp::now()).is_err() {
            break;
        }
        etook.push(ms(t.elapsed()));
        d.serve(Timestamp::now()).expect("serve");
    }
    let ewall = ewall.elapsed();
    etook.sort_by(f64::total_cmp);
    for (name, p) in [("p50", 0.5), ("p99", 0.99)] {
        out.push(Figure {
            group: GROUP,
            name: format!("call-next, {WINDOWS} windows at once, {name} ({calls} calls)"),
            value: percentile(&took, p),
            unit: "ms",
            baseline: Some(Baseline {
                name: format!("embedded SQLite queue, one window, {name}"),
                value: percentile(&etook, p),
            }),
            note: "goal p99 ≤ 50 ms; each window its own connection; server with fsync and synchronous_commit on (scripts/test bench)".into(),
        });
    }
    out.push(Figure {
        group: GROUP,
        name: format!("calls/s with {WINDOWS} windows (call + serve each)"),
        value: calls as f64 / wall.as_secs_f64(),
        unit: "/s",
        baseline: Some(Baseline {
            name: "embedded SQLite queue, one window".into(),
            value: etook.len() as f64 / ewall.as_secs_f64(),
        }),
        note: String::new(),
    });
}

/// Call-next with 40 windows each calling on its own, a pause of 0–4 s (uniform, 2 s on
/// average) before each call: 20 calls a second for the hall, some 50 times a busy hall's
/// pace (a window calls every few minutes), so calls still meet at the database, but no
/// window waits behind 39 others as in the closed loop above. What a clerk feels.
fn call_next_paced(out: &mut Vec<Figure>) {
    const PER_WINDOW: usize = 8;
    let cfg = hall_db("paced");
    let (_kdir, mut kiosk) = terminal(&cfg, 1, 999);
    let mut db = HallDb::connect(&cfg).expect("hall");
    issue(&mut db, &mut kiosk, &cfg, WINDOWS as usize * PER_WINDOW);
    let start = Arc::new(Barrier::new(WINDOWS as usize));
    // xorshift, seeded by the window: the same pauses in every run.
    let threads = windows(&cfg, &start, PER_WINDOW, |x| {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        Duration::from_millis(*x % 4_000)
    });
    let mut took: Vec<f64> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("window"))
        .collect();
    took.sort_by(f64::total_cmp);
    for (name, p) in [("p50", 0.5), ("p99", 0.99)] {
        out.push(Figure {
            group: GROUP,
            name: format!(
                "call-next, {WINDOWS} windows each calling after 0–4 s, {name} ({} calls)",
                took.len()
            ),
            value: percentile(&took, p),
            unit: "ms",
            baseline: None,
            note: "goal p99 ≤ 50 ms; the closed loop above is the same calls back to back".into(),
        });
    }
}

fn call_to_display(out: &mut Vec<Figure>) {
    const CALLS: usize = 40;
    let cfg = hall_db("display");
    let (_kdir, mut kiosk) = terminal(&cfg, 1, 999);
    let mut db = HallDb::connect(&cfg).expect("hall");
    issue(&mut db, &mut kiosk, &cfg, CALLS);
    desk(&mut db, &mut kiosk, &cfg, 1, |d| {
        d.set_open(true, Timestamp::now())
    })
    .expect("open");

    // The display: told by its listener, then re-reads the status (as HallDisplay does).
    let (tx, told) = mpsc::channel();
    let listener = Listener::start(cfg.clone(), move |c| {
        if matches!(c, Change::Changed | Change::Connected) {
            let _ = tx.send(Instant::now());
        }
    });
    told.recv_timeout(Duration::from_secs(10))
        .expect("listening");
    let (_ddir, mut display) = terminal(&cfg, 1, 1);
    let mut ddb = HallDb::connect(&cfg).expect("hall");
    // The polling display: reads the latest call every second on its own connection.
    let stop = Arc::new(AtomicBool::new(false));
    let (ptx, polled) = mpsc::channel::<(String, Instant)>();
    let poller = {
        let (cfg, stop) = (cfg.clone(), stop.clone());
        std::thread::spawn(move || {
            let (_dir, mut core) = terminal(&cfg, 1, 1);
            let mut db = HallDb::connect(&cfg).expect("hall");
            let mut last = String::new();
            while !stop.load(Ordering::Relaxed) {
                let latest = desk(&mut db, &mut core, &cfg, 1, |d| {
                    d.latest_call(Timestamp::now())
                })
                .expect("latest call");
                if let Some(c) = latest {
                    if c.number != last {
                        last = c.number.clone();
                        let _ = ptx.send((c.number, Instant::now()));
                    }
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        })
    };
    let mut pushed = Vec::new();
    let mut polls = Vec::new();
    for _ in 0..CALLS {
        // Spread the calls over the polling phase.
        std::thread::sleep(Duration::from_millis(250 + fastrand_ms()));
        let asked = Instant::now();
        let called = desk(&mut db, &mut kiosk, &cfg, 1, |d| {
            d.call_next(Timestamp::now())
        })
        .expect("call");
        let committed = Instant::now();
        // Skip notices of earlier commits; this call's may come before call_next returns.
        loop {
            let at = told.recv_timeout(Duration::from_secs(10)).expect("told");
            if at >= asked {
                break;
            }
        }
        let latest = desk(&mut ddb, &mut display, &cfg, 1, |d| {
            d.status(Timestamp::now())
        })
        .expect("status");
        assert!(latest.recent_calls.iter().any(|(n, _)| *n == called.number));
        pushed.push(ms(committed.elapsed()));
        let deadline = committed + Duration::from_secs(5);
        while let Ok((n, at)) =
            polled.recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            if n == called.number {
                polls.push(ms(at.saturating_duration_since(committed)));
                break;
            }
        }
        desk(&mut db, &mut kiosk, &cfg, 1, |d| d.serve(Timestamp::now())).expect("serve");
    }
    stop.store(true, Ordering::Relaxed);
    let _ = poller.join();
    drop(listener);
    pushed.sort_by(f64::total_cmp);
    polls.sort_by(f64::total_cmp);
    for (name, p) in [("p50", 0.5), ("p99", 0.99)] {
        out.push(Figure {
            group: GROUP,
            name: format!("call committed → display updated (NOTIFY + re-read), {name}"),
            value: percentile(&pushed, p),
            unit: "ms",
            baseline: Some(Baseline {
                name: format!("display polling every 1 s, {name} ({} seen)", polls.len()),
                value: percentile(&polls, p),
            }),
            note: format!("goal p99 ≤ 300 ms; {CALLS} calls"),
        });
    }
}

/// 0–499 ms, from the clock (the calls need spreading, not good randomness).
fn fastrand_ms() -> u64 {
    u64::from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
            % 500_000_000
            / 1_000_000,
    )
}

fn hall_day(out: &mut Vec<Figure>) {
    // 3 services × 249 numbers × 4 kiosks: the daily cap is 999 a service.
    const TICKETS: usize = 2_988;
    const KIOSKS: usize = 4;
    let cfg = hall_db("day");
    let issued_all = Arc::new(AtomicUsize::new(0));
    let kiosks_done = Arc::new(AtomicUsize::new(0));
    let wall = Instant::now();
    let (issued, called) = std::thread::scope(|s| {
        let kiosks: Vec<_> = (0..KIOSKS)
            .map(|k| {
                let (cfg, done) = (&cfg, kiosks_done.clone());
                let count = issued_all.clone();
                s.spawn(move || {
                    // Counted done even when it fails, so the windows stop and it shows.
                    struct Done(Arc<AtomicUsize>);
                    impl Drop for Done {
                        fn drop(&mut self) {
                            self.0.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    let _done = Done(done);
                    let per = TICKETS / KIOSKS;
                    // Disjoint numbers per kiosk: 3 services × 249 each.
                    let first = (k * 249 + 1) as u32;
                    let (_dir, mut core) = terminal(cfg, first, first + 248);
                    let mut db = HallDb::connect(cfg).expect("hall");
                    let numbers = issue(&mut db, &mut core, cfg, per);
                    count.fetch_add(numbers.len(), Ordering::SeqCst);
                    numbers
                })
            })
            .collect();
        let windows: Vec<_> = (1..=WINDOWS)
            .map(|w| {
                let (cfg, done) = (&cfg, kiosks_done.clone());
                s.spawn(move || {
                    let (_dir, mut core) = terminal(cfg, 1, 1);
                    let mut db = HallDb::connect(cfg).expect("hall");
                    desk(&mut db, &mut core, cfg, w, |d| {
                        d.set_open(true, Timestamp::now())
                    })
                    .expect("open");
                    let mut called = Vec::new();
                    loop {
                        let finished = done.load(Ordering::SeqCst) == KIOSKS;
                        match desk(&mut db, &mut core, cfg, w, |d| {
                            d.call_next(Timestamp::now())
                        }) {
                            Ok(c) => {
                                called.push(c.number);
                                desk(&mut db, &mut core, cfg, w, |d| d.serve(Timestamp::now()))
                                    .expect("serve");
                            }
                            Err(_) if finished => break,
                            Err(_) => std::thread::sleep(Duration::from_millis(50)),
                        }
                    }
                    called
                })
            })
            .collect();
        let issued: Vec<String> = kiosks
            .into_iter()
            .flat_map(|k| k.join().expect("kiosk"))
            .collect();
        let called: Vec<String> = windows
            .into_iter()
            .flat_map(|w| w.join().expect("window"))
            .collect();
        (issued, called)
    });
    let wall = wall.elapsed();
    let issued_set: BTreeSet<&String> = issued.iter().collect();
    let called_set: BTreeSet<&String> = called.iter().collect();
    let duplicates = (called.len() - called_set.len()) + (issued.len() - issued_set.len());
    let lost = issued_set.difference(&called_set).count();
    out.push(Figure {
        group: GROUP,
        name: format!(
            "hall day: {} tickets from {KIOSKS} kiosks, {WINDOWS} windows, wall time",
            issued.len()
        ),
        value: wall.as_secs_f64(),
        unit: "s",
        baseline: None,
        note: format!("{duplicates} duplicates, {lost} lost"),
    });
}
