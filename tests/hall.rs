//! The hall queue on a real PostgreSQL (the cluster `scripts/test` starts): separate terminal
//! processes, each with its own data directory and profile, sharing one hall database through
//! the command line; `hall init` and the schema checks; bad connections; and the regressions
//! peers shipped (one ticket at two windows, a double tap, a failed print, a read error shown
//! as an empty queue). Every test has its own database.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::hall::{grant, hall, json, Terminal, TestDb};
use jiff::Timestamp;
use ykb_terminal::core::config::Profile;
use ykb_terminal::core::hall::{Hall, HallDb};
use ykb_terminal::core::ticketing::{
    self, Desk, HallQueue, IssueRequest, TicketError, TicketRef, TicketState, Transfer,
};
use ykb_terminal::core::Core;

#[test]
fn hall_init_migrates_once_and_terminals_refuse_a_schema_of_another_version() {
    let db = TestDb::new();
    let t = Terminal::new(&db.uri);
    // Not a hall database yet: terminals never migrate by themselves.
    let (code, out, err) = t.run(&["ticket", "status"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("ticketing.queue") && err.contains("hall init"),
        "{err}"
    );
    assert!(!out.contains("等候"), "{out}");
    let tables: i64 = db
        .client()
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 0, "a terminal created tables");

    assert!(t.ok(&["hall", "init"]).contains("从第 0 版迁移到第 1 版"));
    assert!(t.ok(&["hall", "init"]).contains("无需迁移"));
    let versions: Vec<i32> = db
        .client()
        .query("SELECT version FROM hall_schema ORDER BY version", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions, vec![1]);
    t.ok(&["ticket", "status"]);

    // A newer schema: refused, naming both versions.
    db.client()
        .execute(
            "INSERT INTO hall_schema (version, note) VALUES (2, 'from the future')",
            &[],
        )
        .unwrap();
    let (code, _, err) = t.run(&["ticket", "call", "1"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("第 2 版") && err.contains("第 1 版") && err.contains("升级"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let (code, _, err) = t.run(&["hall", "init"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("第 2 版"), "{err}");

    // An older one: run hall init.
    db.client()
        .batch_execute(
            "DELETE FROM hall_schema; INSERT INTO hall_schema (version, note) VALUES (0, 'old')",
        )
        .unwrap();
    let (code, _, err) = t.run(&["ticket", "issue", "A"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("第 0 版") && err.contains("hall init"),
        "{err}"
    );
}

#[test]
fn hall_init_refuses_a_database_that_holds_other_things() {
    let db = TestDb::new();
    db.client()
        .batch_execute("CREATE TABLE invoices (id int)")
        .unwrap();
    let t = Terminal::new(&db.uri);
    let (code, _, err) = t.run(&["hall", "init"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("ticketing.queue") && err.contains("不像大厅数据库"),
        "{err}"
    );
    let (code, _, err) = t.run(&["ticket", "status"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("不是大厅数据库"), "{err}");
}

#[test]
fn bad_connections_say_which_key_to_fix_in_one_sentence_with_exit_code_2() {
    let (db, _) = hall();
    let port = db.port();
    // Nobody listens on port 1.
    let t = Terminal::new(&format!("postgresql://ykb_test@127.0.0.1:1/{}", db.name));
    let (code, out, err) = t.run(&["ticket", "status"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("连接不上大厅数据库（ticketing.queue）"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        !out.contains("等候"),
        "an unreachable hall is not an empty queue: {out}"
    );

    // A role that logs in with a password, from a 0600 file.
    let role = format!("{}_clerk", db.name);
    db.admin()
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN PASSWORD 'right-pw'; GRANT ALL ON DATABASE {} TO {role}",
            db.name
        ))
        .unwrap();
    db.client()
        .batch_execute(&format!(
            "GRANT ALL ON ALL TABLES IN SCHEMA public TO {role};
             GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}"
        ))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("hall-db.password");
    let uri = format!("postgresql://{role}@127.0.0.1:{port}/{}", db.name);
    let extra = format!("queue_password_file = \"{}\"\n", pw.display());
    let t = Terminal::with(&uri, &extra);
    let write = |text: &str, mode: u32| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(&pw, text).unwrap();
        std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    write("wrong-pw\n", 0o600);
    let (code, _, err) = t.run(&["ticket", "status"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("拒绝登录") && err.contains("ticketing.queue_password_file"),
        "{err}"
    );
    write("right-pw\n", 0o644);
    let (code, _, err) = t.run(&["ticket", "status"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("chmod 0600"), "{err}");
    write("right-pw\n", 0o600);
    let out = t.ok(&["ticket", "status"]);
    assert!(out.contains("等候"), "{out}");

    // A database that does not exist.
    let t = Terminal::new(&format!(
        "postgresql://ykb_test@127.0.0.1:{port}/{}_gone",
        db.name
    ));
    let (code, _, err) = t.run(&["hall", "status"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("数据库不存在") && err.contains("createdb"),
        "{err}"
    );
}

/// Everything a finished hall day must satisfy: every issued ticket called exactly once (one
/// `ticket_called` event each), none left waiting, numbers unique.
fn assert_each_called_once(db: &TestDb, issued: &BTreeSet<String>) {
    let mut c = db.client();
    let rows = c
        .query(
            "SELECT service || lpad(number::text, 3, '0'), state, calls FROM hall_tickets",
            &[],
        )
        .unwrap();
    let in_db: BTreeMap<String, (String, i32)> = rows
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect();
    assert_eq!(in_db.len(), rows.len(), "a number twice");
    assert_eq!(
        in_db.keys().cloned().collect::<BTreeSet<_>>(),
        *issued,
        "the hall holds exactly the tickets issued"
    );
    for (n, (state, calls)) in &in_db {
        assert_eq!((state.as_str(), *calls), ("served", 1), "{n}");
    }
    let called_events: Vec<(String, i64)> = c
        .query(
            "SELECT body->>'number', count(*) FROM hall_outbox WHERE kind = 'ticket_called'
             GROUP BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(called_events.len(), issued.len());
    assert!(
        called_events.iter().all(|(_, n)| *n == 1),
        "{called_events:?}"
    );
}

#[test]
fn four_kiosks_and_ten_windows_share_one_queue_and_every_ticket_is_called_once() {
    let (db, it) = hall();
    let kiosks: Vec<Terminal> = (0..4)
        .map(|k| {
            let t = Terminal::new(&db.uri);
            t.grant(k * 30 + 1, k * 30 + 30);
            t
        })
        .collect();
    let windows: Vec<Terminal> = (0..10).map(|_| Terminal::new(&db.uri)).collect();
    for (i, w) in windows.iter().enumerate() {
        w.ok(&["ticket", "open", &(i + 1).to_string()]);
    }
    let per_kiosk = 12;
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    std::thread::scope(|s| {
        let issuers: Vec<_> = kiosks
            .iter()
            .enumerate()
            .map(|(k, t)| {
                let done = done.clone();
                s.spawn(move || {
                    // Counted done even if it fails, so the windows stop and the failure shows.
                    struct Done(Arc<std::sync::atomic::AtomicUsize>);
                    impl Drop for Done {
                        fn drop(&mut self) {
                            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                    }
                    let _done = Done(done);
                    let mut numbers = Vec::new();
                    for i in 0..per_kiosk {
                        let service = ["A", "B", "C"][(i + k) % 3];
                        let t = json(&t.ok(&["ticket", "issue", service, "--json"]));
                        numbers.push(t["number"].as_str().unwrap().to_owned());
                    }
                    numbers
                })
            })
            .collect();
        let callers: Vec<_> = windows
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let done = done.clone();
                s.spawn(move || {
                    let w = (i + 1).to_string();
                    let mut called = Vec::new();
                    let deadline = Instant::now() + Duration::from_secs(240);
                    loop {
                        assert!(Instant::now() < deadline, "window {w} never finished");
                        let finished = done.load(std::sync::atomic::Ordering::SeqCst) == 4;
                        let (code, out, err) = t.run(&["ticket", "call", &w, "--json"]);
                        if code == 0 {
                            called.push(json(&out)["number"].as_str().unwrap().to_owned());
                            t.ok(&["ticket", "served", &w]);
                        } else {
                            assert!(err.contains("暂无人等候"), "window {w}: {err}");
                            if finished {
                                break;
                            }
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                    called
                })
            })
            .collect();
        let issued: Vec<String> = issuers
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        let called: Vec<String> = callers
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        let issued_set: BTreeSet<String> = issued.iter().cloned().collect();
        assert_eq!(
            issued_set.len(),
            issued.len(),
            "a number issued twice: {issued:?}"
        );
        assert_eq!(issued.len(), 4 * per_kiosk);
        let mut sorted = called.clone();
        sorted.sort();
        let mut expected = issued.clone();
        expected.sort();
        assert_eq!(sorted, expected, "every ticket called exactly once");
        assert_each_called_once(&db, &issued_set);
    });
    // Every terminal sees the same hall.
    let st = json(&it.ok(&["ticket", "status", "--json"]));
    let served: u64 = st["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["served"].as_u64().unwrap())
        .sum();
    assert_eq!(served, 4 * per_kiosk as u64);
    let hs = json(&it.ok(&["hall", "status", "--json"]));
    assert_eq!(
        (hs["schema_version"].as_i64(), hs["role"].as_str()),
        (Some(1), Some("primary"))
    );
    assert_eq!(hs["windows_open"].as_i64(), Some(10));
    assert!(hs["outbox_backlog"].as_i64().unwrap() >= 3 * 4 * per_kiosk as i64);
}

#[test]
fn a_caller_killed_mid_call_loses_nothing_and_calls_nothing_twice() {
    let (db, it) = hall();
    it.grant(1, 100);
    let mut issued = BTreeSet::new();
    for i in 0..20 {
        let service = ["A", "B"][i % 2];
        issued.insert(
            json(&it.ok(&["ticket", "issue", service, "--json"]))["number"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let windows: Vec<Terminal> = (0..3).map(|_| Terminal::new(&db.uri)).collect();
    for (i, w) in windows.iter().enumerate() {
        w.ok(&["ticket", "open", &(i + 1).to_string()]);
    }
    // Callers killed with SIGKILL at every moment of their run, while the others go on.
    let mut killed = 0;
    for round in 0..12u64 {
        let children: Vec<_> = windows
            .iter()
            .enumerate()
            .map(|(i, w)| {
                w.cmd(&["ticket", "call", &(i + 1).to_string()])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        std::thread::sleep(Duration::from_millis(5 + round * 9));
        for mut c in children {
            if c.try_wait().unwrap().is_none() {
                c.kill().unwrap(); // SIGKILL
                killed += 1;
            }
            c.wait().unwrap();
        }
        // Whatever was committed stays at its window: the clerk serves it and goes on.
        for (i, w) in windows.iter().enumerate() {
            let _ = w.run(&["ticket", "served", &(i + 1).to_string()]);
        }
    }
    assert!(killed > 0, "no caller was killed mid-run");
    // Then the hall works through what is left.
    for (i, w) in windows.iter().enumerate() {
        let n = (i + 1).to_string();
        loop {
            let (code, _, err) = w.run(&["ticket", "call", &n]);
            if code != 0 {
                assert!(err.contains("暂无人等候"), "{err}");
                break;
            }
            w.ok(&["ticket", "served", &n]);
        }
    }
    assert_each_called_once(&db, &issued);
}

#[test]
fn the_same_ticket_called_from_two_windows_at_once_goes_to_one() {
    let (db, it) = hall();
    it.grant(1, 200);
    let profile = Profile::load(&it.profile).unwrap();
    let cfg = profile.ticketing.clone().unwrap();
    for round in 0..15 {
        let number = json(&it.ok(&["ticket", "issue", "A", "--json"]))["number"]
            .as_str()
            .unwrap()
            .to_owned();
        let barrier = Arc::new(Barrier::new(2));
        let results: Vec<Result<ticketing::Called, TicketError>> = std::thread::scope(|s| {
            let hs: Vec<_> = [1u16, 2]
                .into_iter()
                .map(|window| {
                    let (barrier, cfg, profile) = (barrier.clone(), cfg.clone(), profile.clone());
                    let data = tempfile::tempdir().unwrap();
                    let number = number.clone();
                    s.spawn(move || {
                        let mut core = Core::start(profile, data.path()).unwrap();
                        let mut hall_db = HallDb::connect(&cfg).unwrap();
                        let mut q = Hall {
                            db: &mut hall_db,
                            store: &mut core.store,
                            cfg: &cfg,
                            terminal: "t",
                        };
                        q.set_open(window, true, Timestamp::now()).unwrap();
                        barrier.wait();
                        let now = Timestamp::now();
                        let r = if round % 2 == 0 {
                            q.call_next(window, now)
                        } else {
                            q.call_ticket(window, &TicketRef::parse(&number).unwrap(), now)
                        };
                        if r.is_ok() {
                            q.finish(window, ticketing::Action::Serve, None, Timestamp::now())
                                .unwrap();
                        }
                        r
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let ok: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(ok.len(), 1, "round {round}: {results:?}");
        assert_eq!(ok[0].number, number);
        let refused = results.iter().find_map(|r| r.as_ref().err()).unwrap();
        assert!(
            matches!(
                refused,
                TicketError::NobodyWaiting(_)
                    | TicketError::AlreadyCalled { .. }
                    | TicketError::NotCallable { .. }
            ),
            "{refused}"
        );
    }
    let calls: i64 = db
        .client()
        .query_one(
            "SELECT count(*) FROM hall_outbox WHERE kind = 'ticket_called'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(calls, 15);
}

/// What a script does at the window's desk.
type OnDesk<'a> = &'a mut dyn FnMut(&mut Desk<'_>);

/// The same mixed queue, run through the embedded queue and the hall database: the hall picks
/// in SQL (`CALL_ORDER_SQL`), the embedded queue in Rust (`pick_next`); both must call in
/// the same order — transferred first, then green channel, then first come, first served.
#[test]
fn the_hall_calls_in_the_order_the_embedded_queue_calls() {
    let (_db, it) = hall();
    let profile = Profile::load(&it.profile).unwrap();
    let cfg = profile.ticketing.clone().unwrap();
    let script = |desk: &mut dyn FnMut(OnDesk<'_>)| -> Vec<String> {
        let mut order = Vec::new();
        desk(&mut |d| d.set_open(true, Timestamp::now()).unwrap());
        for (service, green) in [
            ("A", false),
            ("B", false),
            ("A", true),
            ("C", false),
            ("A", false),
            ("B", true),
            ("C", false),
        ] {
            let req = IssueRequest {
                service: service.into(),
                green,
                ..Default::default()
            };
            desk(&mut |d| {
                d.issue(&req, Timestamp::now()).unwrap();
            });
        }
        // The first called is sent to service C's queue: it comes back first.
        desk(&mut |d| {
            order.push(d.call_next(Timestamp::now()).unwrap().number);
            d.transfer(&Transfer::Service("C".into()), Timestamp::now())
                .unwrap();
        });
        loop {
            let mut called = None;
            desk(&mut |d| {
                if let Ok(c) = d.call_next(Timestamp::now()) {
                    d.serve(Timestamp::now()).unwrap();
                    called = Some(c.number);
                }
            });
            match called {
                Some(n) => order.push(n),
                None => break order,
            }
        }
    };

    let mut core = Core::start(profile.clone(), &it.data).unwrap();
    grant(&mut core, &cfg, 1, 50);
    let mut db = HallDb::connect(&cfg).unwrap();
    let in_hall = script(&mut |f| {
        let mut d = Desk::new(
            Hall {
                db: &mut db,
                store: &mut core.store,
                cfg: &cfg,
                terminal: "t",
            },
            1,
        );
        f(&mut d)
    });

    let mut ecfg = cfg.clone();
    ecfg.queue = None;
    let mut eprofile = profile;
    eprofile.ticketing = Some(ecfg.clone());
    let edir = tempfile::tempdir().unwrap();
    let mut e = Core::start(eprofile, edir.path()).unwrap();
    grant(&mut e, &ecfg, 1, 50);
    let quota = ykb_terminal::core::outbox::Quota::from_mb(64);
    let embedded = script(&mut |f| {
        let mut d = Desk::embedded(&mut e.store, &e.key, quota, &ecfg, 1);
        f(&mut d)
    });

    assert_eq!(in_hall, embedded);
    // Green A002 first; transferred, it comes back at once; then green B002; then arrival.
    assert_eq!(
        in_hall,
        ["A002", "A002", "B002", "A001", "B001", "C001", "A003", "C002"],
        "embedded: {embedded:?}"
    );
}

#[test]
fn a_double_tap_issues_one_ticket_even_from_two_processes_at_once() {
    let (db, it) = hall();
    it.grant(1, 50);
    let tap = uuid::Uuid::now_v7().to_string();
    let children: Vec<_> = (0..3)
        .map(|_| {
            it.cmd(&["ticket", "issue", "A", "--tap", &tap, "--json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let tickets: Vec<serde_json::Value> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            common::assert_success(&out);
            json(&String::from_utf8_lossy(&out.stdout))
        })
        .collect();
    assert!(
        tickets.iter().all(|t| t["id"] == tickets[0]["id"]),
        "{tickets:?}"
    );
    // The same tap repeated later: the same ticket again.
    let again = json(&it.ok(&["ticket", "issue", "A", "--tap", &tap, "--json"]));
    assert_eq!(again["number"], tickets[0]["number"]);
    // Another tap is another ticket.
    let other = json(&it.ok(&["ticket", "issue", "A", "--json"]));
    assert_ne!(other["number"], tickets[0]["number"]);
    let n: i64 = db
        .client()
        .query_one("SELECT count(*) FROM hall_tickets", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
}

#[test]
fn a_ticket_whose_print_failed_is_withdrawn_and_never_called() {
    let (db, it) = hall();
    it.grant(1, 50);
    let ghost = json(&it.ok(&["ticket", "issue", "A", "--json"]));
    let kept = json(&it.ok(&["ticket", "issue", "A", "--json"]));
    let id = ghost["id"].as_str().unwrap();
    assert!(it
        .ok(&["ticket", "withdraw", id])
        .contains("因打印失败已作废"));
    let (code, _, err) = it.run(&["ticket", "withdraw", id]);
    assert_eq!(code, 1);
    assert!(err.contains("因打印失败已作废"), "{err}");
    let st = json(&it.ok(&["ticket", "status", "--json"]));
    assert_eq!(st["services"][0]["waiting"], 1, "{st}");
    it.ok(&["ticket", "open", "1"]);
    let called = json(&it.ok(&["ticket", "call", "1", "--json"]));
    assert_eq!(called["number"], kept["number"]);
    it.ok(&["ticket", "served", "1"]);
    let (code, _, err) = it.run(&["ticket", "call", "1"]);
    assert_eq!(code, 1);
    assert!(err.contains("暂无人等候"), "{err}");
    // A called ticket is not withdrawn.
    let (code, _, err) = it.run(&["ticket", "withdraw", kept["id"].as_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let state: String = db
        .client()
        .query_one(
            "SELECT state FROM hall_tickets WHERE id = $1::text::uuid",
            &[&id],
        )
        .unwrap()
        .get(0);
    assert_eq!(state, TicketState::Withdrawn.as_str());
}

#[test]
fn a_read_error_is_an_error_and_never_an_empty_queue() {
    let (db, it) = hall();
    it.grant(1, 50);
    for _ in 0..3 {
        it.ok(&["ticket", "issue", "A"]);
    }
    let profile = Profile::load(&it.profile).unwrap();
    let cfg = profile.ticketing.clone().unwrap();
    let mut core = Core::start(profile, &it.data).unwrap();
    let mut hall_db = HallDb::connect(&cfg).unwrap();
    let mut desk = Desk::new(
        Hall {
            db: &mut hall_db,
            store: &mut core.store,
            cfg: &cfg,
            terminal: "display",
        },
        0,
    );
    assert_eq!(
        desk.status(Timestamp::now()).unwrap().services[0].waiting,
        3
    );
    // The server drops this terminal's connection (a restart, a network cut).
    db.admin()
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&db.name],
        )
        .unwrap();
    let e = desk.status(Timestamp::now()).unwrap_err();
    assert!(matches!(e, TicketError::Hall(_)), "{e:?}");
    assert!(e.to_string().contains("ticketing.queue"), "{e}");
    assert!(desk.latest_call(Timestamp::now()).is_err());
}

#[test]
fn nothing_personal_reaches_the_hall_database() {
    let (db, it) = hall();
    it.grant(1, 50);
    // Born 1950: the green channel by age; the ID number decides and goes no further.
    let id_number = "110105195003070035";
    let t = json(&it.ok(&["ticket", "issue", "A", "--id-number", id_number, "--json"]));
    assert_eq!(t["kind"], "green");
    it.ok(&["ticket", "issue", "B", "--green"]);
    let mut c = db.client();
    let dump: Vec<String> = c
        .query(
            "SELECT row_to_json(t)::text FROM hall_tickets t
             UNION ALL SELECT row_to_json(o)::text FROM hall_outbox o",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(dump.len(), 4);
    for row in &dump {
        assert!(!row.contains("110105"), "{row}");
        assert!(!row.contains("19500307"), "{row}");
        for word in ["age", "disab", "pregn", "reason", "id_number"] {
            assert!(!row.contains(word), "{word} in {row}");
        }
    }
}
