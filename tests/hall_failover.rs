//! Failover of the hall database (issue 14 item 6): a primary with a hot standby fed by
//! synchronous streaming replication, both real PostgreSQL servers started here from the
//! binaries `scripts/test` names (`YKB_TEST_PG_BIN`). The primary is killed (`-m immediate`,
//! as a power cut) and the standby promoted by hand (`pg_ctl promote`). A counter's lasting
//! link and the display's listener, started before the failure, carry on through the
//! multi-host URI without a restart; the clerk keeps the ticket being served; no ticket is
//! called twice or lost.

mod common;

use std::collections::BTreeSet;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::hall::{json, Terminal};
use common::pg_server::{pair, pg, run, server_dir};
use jiff::Timestamp;
use ykb_terminal::core::config::Profile;
use ykb_terminal::core::hall::listen::{Change, Listener};
use ykb_terminal::core::hall::{Hall, HallLink};
use ykb_terminal::core::ticketing::{Desk, TicketError};
use ykb_terminal::core::Core;

/// A counter's window as the counter app holds it: one lasting [`HallLink`], a desk built
/// over it for each action (as `counter::State::desk` does).
struct Window {
    core: Core,
    cfg: ykb_terminal::core::config::TicketingSection,
    link: HallLink,
    number: u16,
}

impl Window {
    fn new(t: &Terminal, number: u16) -> Self {
        let profile = Profile::load(&t.profile).unwrap();
        let cfg = profile.ticketing.clone().unwrap();
        Self {
            core: Core::start(profile, &t.data).unwrap(),
            cfg,
            link: HallLink::default(),
            number,
        }
    }

    fn act<T>(
        &mut self,
        f: impl FnOnce(&mut Desk<'_>) -> Result<T, TicketError>,
    ) -> Result<T, TicketError> {
        let db = self.link.get(&self.cfg)?;
        let mut desk = Desk::new(
            Hall {
                db,
                store: &mut self.core.store,
                cfg: &self.cfg,
                terminal: &self.core.profile.terminal.name,
            },
            self.number,
        );
        f(&mut desk)
    }
}

#[test]
fn after_the_standby_is_promoted_terminals_carry_on_without_a_restart_and_nothing_is_called_twice()
{
    let dir = server_dir();
    let (primary, standby) = pair(dir.path(), false);
    let uri = format!(
        "postgresql://ykb_test@127.0.0.1:{},127.0.0.1:{}/ykb_hall?target_session_attrs=read-write&connect_timeout=2",
        primary.port, standby.port
    );
    let kiosk = Terminal::new(&uri);
    kiosk.ok(&["hall", "init"]);
    kiosk.grant(1, 50);
    let mut issued = BTreeSet::new();
    for i in 0..12 {
        let service = ["A", "B", "C"][i % 3];
        let t = json(&kiosk.ok(&["ticket", "issue", service, "--json"]));
        issued.insert(t["number"].as_str().unwrap().to_owned());
    }

    // The display's listener and window 1's counter, both started before the failure.
    let (tx, changes) = mpsc::channel();
    let profile = Profile::load(&kiosk.profile).unwrap();
    let _listener = Listener::start(profile.ticketing.clone().unwrap(), move |c| {
        let _ = tx.send(c);
    });
    wait_for(&changes, "the listener's first connection", |c| {
        matches!(c, Change::Connected)
    });
    let counter = Terminal::new(&uri);
    let mut w1 = Window::new(&counter, 1);
    w1.act(|d| d.set_open(true, Timestamp::now())).unwrap();
    let serving = w1
        .act(|d| d.call_next(Timestamp::now()))
        .expect("window 1 calls before the failure")
        .number;
    wait_for(&changes, "the call announced", |c| {
        matches!(c, Change::Changed)
    });

    // The primary dies; the standby is promoted by hand.
    let died = Instant::now();
    drop(primary);
    let err = w1
        .act(|d| d.status(Timestamp::now()))
        .expect_err("the primary is gone");
    assert!(err.to_string().contains("大厅数据库"), "{err}");
    run(pg("pg_ctl")
        .arg("-D")
        .arg(&standby.data)
        .args(["-w", "-t", "60", "promote"]));

    // The same link, without a restart: the clerk's ticket is still theirs, then served.
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        match w1.act(|d| d.status(Timestamp::now())) {
            Ok(s) => break s,
            Err(e) => {
                assert!(Instant::now() < deadline, "never reconnected: {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    };
    let back_after = died.elapsed();
    let mine = status
        .windows
        .iter()
        .find(|w| w.number == 1)
        .and_then(|w| w.current.clone());
    assert_eq!(mine.as_deref(), Some(serving.as_str()), "{status:?}");
    w1.act(|d| d.serve(Timestamp::now())).unwrap();
    eprintln!("failover: first successful hall action {back_after:?} after the primary died");

    // The listener found the new primary by itself and hears the next changes.
    wait_for(&changes, "the listener back after the failover", |c| {
        matches!(c, Change::Connected)
    });
    let mut called = vec![serving];
    while let Ok(c) = w1.act(|d| d.call_next(Timestamp::now())) {
        called.push(c.number);
        w1.act(|d| d.serve(Timestamp::now())).unwrap();
    }
    wait_for(&changes, "a call after the failover announced", |c| {
        matches!(c, Change::Changed)
    });
    // A fresh process (a kiosk's CLI) finds the new primary through the same URI.
    let late = json(&kiosk.ok(&["ticket", "issue", "A", "--json"]));
    assert_eq!(late["offline"].as_bool(), Some(false), "{late}");
    let late = late["number"].as_str().unwrap().to_owned();
    assert!(!issued.contains(&late));
    let c = w1.act(|d| d.call_next(Timestamp::now())).unwrap();
    assert_eq!(c.number, late);
    called.push(c.number);
    issued.insert(late);

    let mut sorted = called.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        issued.iter().cloned().collect::<Vec<_>>(),
        "every ticket called exactly once, none lost: {called:?}"
    );
}

/// Waits (up to 30 s) for a change `want` picks, skipping others.
fn wait_for(changes: &mpsc::Receiver<Change>, what: &str, want: impl Fn(&Change) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match changes.recv_timeout(left) {
            Ok(c) if want(&c) => return,
            Ok(_) => {}
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }
}
