//! The hall outbox's delivery (issue 14 item 7) on a real PostgreSQL and the platform
//! simulator over loopback HTTP: the supervision events the queue actions wrote reach the
//! platform exactly once, sent by whichever agent holds the hall's delivery lock; a second
//! agent waits; an agent that dies mid-delivery loses nothing, and the event it had in flight
//! is recorded once.

mod common;

use std::collections::BTreeSet;
use std::sync::mpsc;
use std::time::Duration;

use common::hall::{hall, Terminal, TestDb};
use ykb_terminal::core::config::{Profile, TicketingSection};
use ykb_terminal::core::hall::deliver::{deliver, DeliverError, Pass};
use ykb_terminal::core::platform::{Platform, PlatformClient};
use ykb_terminal::core::Core;

/// An agent of the hall: its own terminal store, registered with the simulator.
struct Agent {
    _dir: tempfile::TempDir,
    _core: Core,
    client: PlatformClient,
}

impl Agent {
    fn new(sim: &common::sim::Sim, name: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut core = Core::start(Profile::demo(), dir.path()).unwrap();
        let client = sim.block_on(common::registered_client(&mut core, &sim.url(), name));
        Self {
            _dir: dir,
            _core: core,
            client,
        }
    }
}

fn ticketing(t: &Terminal) -> TicketingSection {
    Profile::load(&t.profile).unwrap().ticketing.unwrap()
}

/// A morning of the hall through the command line: tickets issued, called and served.
fn queue_actions(it: &Terminal, tickets: usize) {
    it.ok(&["ticket", "open", "1"]);
    for i in 0..tickets {
        it.ok(&["ticket", "issue", ["A", "B"][i % 2]]);
        it.ok(&["ticket", "call", "1"]);
        it.ok(&["ticket", "served", "1"]);
    }
}

fn outbox_ids(db: &TestDb, pending_only: bool) -> BTreeSet<String> {
    let sql = if pending_only {
        "SELECT id::text FROM hall_outbox WHERE delivered_ms IS NULL"
    } else {
        "SELECT id::text FROM hall_outbox"
    };
    db.client()
        .query(sql, &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn hall_events_reach_the_platform_once_by_the_agent_holding_the_lock_and_survive_its_death() {
    let (db, it) = hall();
    it.grant(1, 100);
    queue_actions(&it, 5);
    let written = outbox_ids(&db, false);
    assert!(
        written.len() >= 15,
        "issued, called, served each: {written:?}"
    );
    let cfg = ticketing(&it);
    let sim = common::sim::Sim::start();
    let (a, b) = (
        Agent::new(&sim, "hall-agent-a"),
        Agent::new(&sim, "hall-agent-b"),
    );

    // Agent A delivers slowly; agent B's pass meanwhile finds the lock held and sends nothing.
    let (started, a_is_sending) = mpsc::channel();
    let pass_b = std::thread::scope(|s| {
        let a_pass = s.spawn(|| {
            deliver(&cfg, 1_000, |key, kind, body| {
                let _ = started.send(());
                std::thread::sleep(Duration::from_millis(20));
                sim.block_on(a.client.submit_event(key, kind, body))
            })
        });
        a_is_sending.recv().unwrap();
        let pass_b = deliver(&cfg, 1_000, |key, kind, body| {
            sim.block_on(b.client.submit_event(key, kind, body))
        })
        .unwrap();
        let pass_a = a_pass.join().unwrap().unwrap();
        assert_eq!(
            pass_a,
            Pass::Delivered {
                sent: written.len(),
                refused: 0,
                left: 0
            }
        );
        pass_b
    });
    assert_eq!(pass_b, Pass::HeldElsewhere);
    assert!(outbox_ids(&db, true).is_empty(), "all marked delivered");
    let events = sim.handle().events();
    let keys: BTreeSet<String> = events.iter().map(|e| e.key.clone()).collect();
    assert_eq!(keys, written, "every hall event, under its own id");
    assert!(
        events.iter().all(|e| e.count == 1),
        "one POST per event: {:?}",
        events.iter().map(|e| e.count).collect::<Vec<_>>()
    );
    assert!(events.iter().any(|e| e.kind == "ticket_called"));

    // More of the day; agent A dies while its third event is in flight (sent, not marked).
    queue_actions(&it, 3);
    let now_written = outbox_ids(&db, false);
    let died = std::thread::scope(|s| {
        s.spawn(|| {
            let mut n = 0;
            deliver(&cfg, 1_000, |key, kind, body| {
                n += 1;
                let r = sim.block_on(a.client.submit_event(key, kind, body));
                assert!(n < 3, "agent A dies with its third event sent");
                r
            })
        })
        .join()
    });
    assert!(died.is_err(), "agent A died");
    assert_eq!(
        outbox_ids(&db, true).len(),
        now_written.len() - written.len() - 2
    );
    // Its connection, and with it the lock, went with it: agent B delivers the rest.
    let pass = deliver(&cfg, 1_000, |key, kind, body| {
        sim.block_on(b.client.submit_event(key, kind, body))
    })
    .unwrap();
    assert_eq!(
        pass,
        Pass::Delivered {
            sent: now_written.len() - written.len() - 2,
            refused: 0,
            left: 0
        }
    );
    let events = sim.handle().events();
    let keys: BTreeSet<String> = events.iter().map(|e| e.key.clone()).collect();
    assert_eq!(keys, now_written, "nothing lost");
    let twice: Vec<_> = events.iter().filter(|e| e.count > 1).collect();
    assert_eq!(twice.len(), 1, "only the event in flight was sent again");
    assert_eq!(twice[0].count, 2);

    // The platform unreachable: the pass says so in words and leaves everything pending.
    queue_actions(&it, 1);
    drop(sim);
    let err = deliver(&cfg, 1_000, |key, kind, body| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(b.client.submit_event(key, kind, body))
    })
    .unwrap_err();
    assert!(
        matches!(err, DeliverError::Platform { sent: 0, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("政务服务平台"), "{err}");
    assert_eq!(outbox_ids(&db, true).len(), 3);
}

/// The agent's own loop (`ops::hall_outbox::run`, started by `ops::agent::run` when the
/// profile names a hall database) delivers the hall's events by itself: at once when it
/// starts, and what the hall writes later on its next round.
#[test]
fn the_agent_delivers_the_hall_outbox_on_its_own_rounds() {
    let (db, it) = hall();
    it.grant(1, 100);
    queue_actions(&it, 2);
    let first = outbox_ids(&db, false);
    assert!(first.len() >= 6, "{first:?}");

    let sim = common::sim::Sim::start();
    let dir = tempfile::tempdir().unwrap();
    let mut profile = common::agent::remote_profile(&sim, dir.path());
    profile.ticketing = Some(ticketing(&it));
    let (core, _) = common::agent::registered(&sim, dir.path(), profile, "hall-agent");
    // Beats every 200 ms: 75 beats keep the agent up for about 15 s, past its second round
    // (every 10 s).
    let agent = common::agent::run_agent(core, Duration::from_millis(200), 75);
    common::agent::wait_for("the first round", Duration::from_secs(20), || {
        outbox_ids(&db, true).is_empty()
    });

    // Later in the day: the next round sends what was written since.
    queue_actions(&it, 1);
    let all = outbox_ids(&db, false);
    assert!(all.len() > first.len());
    common::agent::wait_for("the next round", Duration::from_secs(20), || {
        outbox_ids(&db, true).is_empty()
    });
    agent.join().unwrap();
    let events = sim.handle().events();
    let keys: BTreeSet<String> = events.iter().map(|e| e.key.clone()).collect();
    assert_eq!(keys, all, "every hall event, under its own id");
    assert!(events.iter().all(|e| e.count == 1), "one POST per event");
}
