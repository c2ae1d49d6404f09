//! Group "hall-failover" (issue 14): seconds from the hall primary's death to the first
//! successful call after the standby's promotion — a primary and its synchronous hot standby,
//! both real PostgreSQL servers started here from the binaries `scripts/test bench` names
//! (`YKB_TEST_PG_BIN`), as `tests/hall_failover.rs` does.
//!
//! Each round: a window's lasting link (the multi-host URI, `target_session_attrs=read-write`)
//! calls one ticket; the primary is killed (`-m immediate`, a power cut) and the standby
//! promoted at once by hand (`pg_ctl promote`, standing in for Patroni, which adds its own
//! detection time: its TTL); the same link then calls next until a call succeeds. The figure
//! is the median over the rounds, with the promotion's own time beside it.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use ykb_terminal::core::config::Profile;
use ykb_terminal::core::hall::{Hall, HallDb, HallLink};
use ykb_terminal::core::platform::wire::{TicketLease, TicketLeaseRequest};
use ykb_terminal::core::ticketing::{self, Desk, IssueRequest, TicketError};
use ykb_terminal::core::Core;

use super::pg_server::{pair, pg, run, server_dir};
use super::{percentile, Baseline, Figure};

const GROUP: &str = "hall-failover";
const ROUNDS: usize = 3;

/// One round: (death → first successful call, promotion alone), in seconds.
fn round() -> (f64, f64) {
    let dir = server_dir();
    let (primary, standby) = pair(dir.path(), true);
    let uri = format!(
        "postgresql://ykb_test@127.0.0.1:{},127.0.0.1:{}/ykb_hall?target_session_attrs=read-write&connect_timeout=2",
        primary.port, standby.port
    );
    let data = tempfile::tempdir().expect("temp dir");
    let mut core = Core::start(Profile::demo(), data.path()).expect("core");
    let mut cfg = core.profile.ticketing.clone().expect("demo [ticketing]");
    cfg.queue = Some(uri);
    let now = Timestamp::now();
    let date = ticketing::hall_date(now).to_string();
    let service = cfg.services[0].prefix.clone();
    let req = TicketLeaseRequest {
        hall: cfg.hall.clone(),
        service: service.clone(),
        date: date.clone(),
        count: 20,
        daily_cap: cfg.services[0].daily_cap,
    };
    let lease = TicketLease {
        hall: cfg.hall.clone(),
        service: service.clone(),
        date,
        first: 1,
        last: 20,
    };
    ticketing::record_lease(&mut core.store, &req, &lease, now).expect("lease");
    let window = cfg
        .windows
        .iter()
        .find(|w| w.services.contains(&service))
        .expect("a window of the first service")
        .number;
    HallDb::connect_unchecked(&cfg)
        .and_then(|mut db| db.init())
        .expect("hall init");
    let mut link = HallLink::default();
    let name = core.profile.terminal.name.clone();
    let mut act = |f: &mut dyn FnMut(&mut Desk<'_>) -> Result<(), TicketError>| {
        let db = link.get(&cfg)?;
        let mut d = Desk::new(
            Hall {
                db,
                store: &mut core.store,
                cfg: &cfg,
                terminal: &name,
            },
            window,
        );
        f(&mut d)
    };
    let issue = IssueRequest {
        service: service.clone(),
        ..Default::default()
    };
    for _ in 0..10 {
        act(&mut |d| d.issue(&issue, Timestamp::now()).map(drop)).expect("issue");
    }
    act(&mut |d| d.set_open(true, Timestamp::now())).expect("open");
    act(&mut |d| d.call_next(Timestamp::now()).map(drop)).expect("call before the failure");
    act(&mut |d| d.serve(Timestamp::now()).map(drop)).expect("serve");

    let died = Instant::now();
    drop(primary);
    let promote = Instant::now();
    run(pg("pg_ctl")
        .arg("-D")
        .arg(&standby.data)
        .args(["-w", "-t", "60", "promote"]));
    let promoted = promote.elapsed();
    let deadline = died + Duration::from_secs(60);
    loop {
        match act(&mut |d| d.call_next(Timestamp::now()).map(drop)) {
            Ok(()) => break,
            Err(e) => {
                assert!(
                    Instant::now() < deadline,
                    "never called after failover: {e}"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
    (died.elapsed().as_secs_f64(), promoted.as_secs_f64())
}

/// The group's entry point.
pub fn hall_failover(out: &mut Vec<Figure>) {
    let mut back = Vec::new();
    let mut promote = Vec::new();
    for _ in 0..ROUNDS {
        let (b, p) = round();
        back.push(b);
        promote.push(p);
    }
    back.sort_by(f64::total_cmp);
    promote.sort_by(f64::total_cmp);
    out.push(Figure {
        group: GROUP,
        name: format!("primary killed → first successful call after promotion, median of {ROUNDS}"),
        value: percentile(&back, 0.5),
        unit: "s",
        baseline: Some(Baseline {
            name: "pg_ctl promote alone (median)".into(),
            value: percentile(&promote, 0.5),
        }),
        note: format!(
            "goal ≤ 10 s; worst {:.2} s; promoted by hand at once (Patroni adds its TTL); fsync on, synchronous standby",
            back.last().copied().unwrap_or(f64::NAN)
        ),
    });
}
