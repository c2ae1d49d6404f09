//! The hall when its database is out of reach, on a real PostgreSQL (the cluster
//! `scripts/test` starts), through a relay the test cuts like a network link: a kiosk keeps
//! issuing from its own lease and replays those tickets once, in order, when the link is back;
//! a ticket issued as the link broke is not doubled; and the display's listener hears every
//! committed change and the link's loss and return.

mod common;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::hall::{hall, json, Terminal};
use common::link::Link;
use jiff::Timestamp;
use ykb_terminal::core::config::{Profile, TicketingSection};
use ykb_terminal::core::hall::listen::{Change, Listener};
use ykb_terminal::core::hall::{offline, Hall, HallDb};
use ykb_terminal::core::ticketing::{HallQueue, IssueRequest};
use ykb_terminal::core::Core;

/// A terminal reaching the hall database `db` through `link`.
fn behind(db: &common::hall::TestDb, link: &Link) -> Terminal {
    let uri = db
        .uri
        .replace(&format!(":{}/", db.port()), &format!(":{}/", link.port));
    assert_ne!(uri, db.uri, "the relay's port is in the URI");
    Terminal::new(&uri)
}

/// (number, issued_by, queue position, state) of every hall ticket, in queue order.
fn hall_tickets(db: &common::hall::TestDb) -> Vec<(String, String, i64, String)> {
    db.client()
        .query(
            "SELECT service || lpad(number::text, 3, '0'), issued_by, queue_seq, state
             FROM hall_tickets ORDER BY queue_seq",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect()
}

/// A walk-in 取号 request for service A.
fn walk_in(tap: Option<uuid::Uuid>) -> IssueRequest {
    IssueRequest {
        tap,
        service: "A".into(),
        green: false,
        id_number: None,
        appointment: None,
    }
}

/// The terminal's started core and its ticketing section, to call the library directly.
fn local(it: &Terminal) -> (TicketingSection, Core) {
    let profile = Profile::load(&it.profile).unwrap();
    let cfg = profile.ticketing.clone().unwrap();
    (cfg, Core::start(profile, &it.data).unwrap())
}

#[test]
fn a_kiosk_cut_off_from_the_hall_issues_offline_and_replays_once_in_order() {
    let (db, it) = hall();
    let link = Link::start(db.port());
    let kiosk = behind(&db, &link);
    kiosk.grant(1, 50);
    it.grant(101, 150);
    let online = json(&kiosk.ok(&["ticket", "issue", "A", "--json"]));
    assert_eq!(online["offline"], false, "{online}");

    link.cut();
    let mut offline_numbers = Vec::new();
    for _ in 0..3 {
        let t0 = Instant::now();
        let t = json(&kiosk.ok(&["ticket", "issue", "A", "--json"]));
        assert_eq!(t["offline"], true, "{t}");
        // A cut link is known at once: no connect timeout is waited out.
        assert!(t0.elapsed() < Duration::from_secs(4), "{:?}", t0.elapsed());
        offline_numbers.push(t["number"].as_str().unwrap().to_owned());
    }
    let text = kiosk.ok(&["ticket", "issue", "B"]);
    assert!(text.contains("离线发号"), "{text}");
    // Meanwhile another terminal of the hall issues online.
    let other = json(&it.ok(&["ticket", "issue", "A", "--json"]));
    assert_eq!(hall_tickets(&db).len(), 2, "only the online tickets so far");

    // Back: the next ticket replays the offline ones first, in the order they were issued.
    link.restore();
    let after = json(&kiosk.ok(&["ticket", "issue", "A", "--json"]));
    assert_eq!(after["offline"], false, "{after}");
    let rows = hall_tickets(&db);
    let numbers: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let mut expected = vec![
        online["number"].as_str().unwrap(),
        other["number"].as_str().unwrap(),
    ];
    expected.extend(offline_numbers.iter().map(String::as_str));
    expected.push("B001");
    expected.push(after["number"].as_str().unwrap());
    assert_eq!(numbers, expected, "{rows:?}");
    assert!(rows.iter().all(|r| r.3 == "waiting"), "{rows:?}");

    // Replaying again puts nothing in twice.
    assert!(kiosk
        .ok(&["hall", "replay"])
        .contains("没有待补传的离线票据"));
    assert_eq!(hall_tickets(&db).len(), expected.len());
    // The replayed tickets were announced like any other (the hall outbox has their events).
    let offline_events: i64 = db
        .client()
        .query_one(
            "SELECT count(*) FROM hall_outbox WHERE body->>'offline' = 'true'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(offline_events, 4);
    // And they are called like any other, in the order their citizens took them: the
    // offline ones before the ticket the other terminal issued while the link was cut.
    it.ok(&["ticket", "open", "1"]);
    let mut called = Vec::new();
    for _ in 0..expected.len() {
        called.push(
            json(&it.ok(&["ticket", "call", "1", "--json"]))["number"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        it.ok(&["ticket", "served", "1"]);
    }
    let (code, _, err) = it.run(&["ticket", "call", "1"]);
    assert_eq!(code, 1, "{err}");
    let mut in_issue_order = vec![online["number"].as_str().unwrap()];
    in_issue_order.extend(offline_numbers.iter().map(String::as_str));
    in_issue_order.push("B001");
    in_issue_order.push(other["number"].as_str().unwrap());
    in_issue_order.push(after["number"].as_str().unwrap());
    assert_eq!(called, in_issue_order);
}

#[test]
fn a_replay_cut_short_is_finished_once_and_a_ghost_of_the_same_tap_is_withdrawn() {
    let (db, it) = hall();
    it.grant(1, 50);
    let (cfg, mut core) = local(&it);
    let now = Timestamp::now();
    let req = walk_in;
    // The online issue of this tap committed, but its answer was lost with the link: the
    // kiosk issued the same tap offline and printed that one.
    let tap = uuid::Uuid::now_v7();
    let mut hall_db = HallDb::connect(&cfg).unwrap();
    let ghost = Hall {
        db: &mut hall_db,
        store: &mut core.store,
        cfg: &cfg,
        terminal: "kiosk",
    }
    .issue(&req(Some(tap)), now)
    .unwrap();
    let paper = offline::issue_offline(&mut core.store, &cfg, &req(Some(tap)), now).unwrap();
    let second = offline::issue_offline(&mut core.store, &cfg, &req(None), now).unwrap();
    assert!(paper.offline && second.offline);
    assert_eq!(offline::pending(&mut core.store).unwrap(), 2);

    // A replay whose first ticket went in but whose local mark was lost (a kill -9 between
    // the two): simulated by replaying, then marking the rows pending again.
    let mut hall = Hall {
        db: &mut hall_db,
        store: &mut core.store,
        cfg: &cfg,
        terminal: "kiosk",
    };
    assert_eq!(offline::replay(&mut hall, now).unwrap(), 2);
    hall.store
        .conn()
        .execute("UPDATE hall_offline SET state = 'pending'", [])
        .unwrap();
    assert_eq!(offline::replay(&mut hall, now).unwrap(), 2);
    assert_eq!(offline::pending(hall.store).unwrap(), 0);

    let rows = hall_tickets(&db);
    assert_eq!(
        rows.len(),
        3,
        "the ghost, the paper ticket, the second: {rows:?}"
    );
    let state_of = |number: &str| {
        rows.iter()
            .find(|r| r.0 == number)
            .map(|r| r.3.clone())
            .unwrap_or_else(|| panic!("{number} not in {rows:?}"))
    };
    assert_eq!(state_of(&ghost.number), "withdrawn");
    assert_eq!(state_of(&paper.number), "waiting");
    assert_eq!(state_of(&second.number), "waiting");
    // The tap now answers with the citizen's paper ticket, online too.
    let again = offline::issue(
        &mut Default::default(),
        &mut core.store,
        &cfg,
        "kiosk",
        &req(Some(tap)),
        now,
    )
    .unwrap();
    assert_eq!(again.number, paper.number);
}

#[test]
fn an_offline_ticket_whose_print_failed_is_never_replayed() {
    let (db, it) = hall();
    it.grant(1, 50);
    let (cfg, mut core) = local(&it);
    let now = Timestamp::now();
    let req = walk_in(None);
    let t = offline::issue_offline(&mut core.store, &cfg, &req, now).unwrap();
    assert!(offline::withdraw_offline(&mut core.store, t.id).unwrap());
    assert!(!offline::withdraw_offline(&mut core.store, t.id).unwrap());
    let mut hall_db = HallDb::connect(&cfg).unwrap();
    let mut hall = Hall {
        db: &mut hall_db,
        store: &mut core.store,
        cfg: &cfg,
        terminal: "kiosk",
    };
    assert_eq!(offline::replay(&mut hall, now).unwrap(), 0);
    assert!(hall_tickets(&db).is_empty());
}

/// The next change the listener told, within `within`.
fn next(rx: &mpsc::Receiver<(Instant, Change)>, within: Duration) -> Option<(Instant, Change)> {
    rx.recv_timeout(within).ok()
}

#[test]
fn the_listener_hears_each_committed_change_and_the_link_lost_and_back() {
    let (db, it) = hall();
    let link = Link::start(db.port());
    let display = behind(&db, &link);
    it.grant(1, 50);
    let cfg = Profile::load(&display.profile).unwrap().ticketing.unwrap();
    let (tx, rx) = mpsc::channel();
    let listener = Listener::start(cfg, move |c| {
        let _ = tx.send((Instant::now(), c));
    });
    assert_eq!(
        next(&rx, Duration::from_secs(10)).map(|c| c.1),
        Some(Change::Connected)
    );
    // A call made by another terminal reaches the listener soon after it commits.
    it.ok(&["ticket", "issue", "A"]);
    it.ok(&["ticket", "open", "1"]);
    while next(&rx, Duration::from_millis(500)).is_some() {}
    let committed = {
        let out = it.ok(&["ticket", "call", "1", "--json"]);
        assert_eq!(json(&out)["number"], "A001");
        Instant::now()
    };
    let (heard, change) = next(&rx, Duration::from_secs(5)).expect("the call is heard");
    assert_eq!(change, Change::Changed);
    // Heard before the command that committed it had even exited, or just after.
    assert!(
        heard <= committed + Duration::from_millis(500),
        "heard {:?} after",
        heard.saturating_duration_since(committed)
    );

    // The link is cut: the listener says so; it is restored: listening again, by itself.
    link.cut();
    let lost = next(&rx, Duration::from_secs(15)).expect("the loss is told");
    assert!(matches!(lost.1, Change::Lost(_)), "{lost:?}");
    link.restore();
    let back = next(&rx, Duration::from_secs(15)).expect("the return is told");
    assert_eq!(back.1, Change::Connected);
    it.ok(&["ticket", "served", "1"]);
    let (_, change) = next(&rx, Duration::from_secs(5)).expect("heard after the return");
    assert_eq!(change, Change::Changed);
    drop(listener);
}
