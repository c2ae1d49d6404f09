//! The project's one benchmark command: `cargo bench`. Prints a table and writes
//! `target/bench.json`. Each figure stands beside the baseline its issue names, measured in
//! the same run on the same machine.

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde::Serialize;
use ykb_terminal::core::catalog::{Catalog, DEMO_CATALOG};
use ykb_terminal::core::store::Store;

/// One measured figure.
#[derive(Serialize)]
struct Figure {
    group: &'static str,
    name: String,
    value: f64,
    unit: &'static str,
    /// The baseline measured in the same run, if the issue names one.
    baseline: Option<Baseline>,
    note: String,
}

#[derive(Serialize)]
struct Baseline {
    name: String,
    value: f64,
}

/// Median wall time of `f` over `runs` runs, after one warm-up.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    f();
    let mut t: Vec<Duration> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed()
        })
        .collect();
    t.sort();
    t[t.len() / 2]
}

/// The `p` quantile (0–1) of ascending `sorted` values, nearest rank; NaN when there are none.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn catalog_and_store(out: &mut Vec<Figure>) {
    let catalog = Catalog::demo().expect("demo catalogue");
    let n = catalog.matters.len();
    let parse = median(30, || {
        black_box(Catalog::from_json(black_box(DEMO_CATALOG)).unwrap());
    });
    let raw = median(30, || {
        black_box(serde_json::from_str::<serde_json::Value>(black_box(DEMO_CATALOG)).unwrap());
    });
    out.push(Figure {
        group: "foundation",
        name: format!(
            "catalogue load: parse + check ({n} matters, {} KB)",
            DEMO_CATALOG.len() / 1024
        ),
        value: us(parse),
        unit: "µs",
        baseline: Some(Baseline {
            name: "serde_json::Value parse of the same bytes (no typing, no checks)".into(),
            value: us(raw),
        }),
        note: "median of 30".into(),
    });

    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(&dir.path().join("bench.db")).expect("store");
    let replace = median(10, || store.replace_catalog(&catalog).unwrap());
    out.push(Figure {
        group: "foundation",
        name: format!("store: replace whole catalogue ({n} matters, one transaction)"),
        value: us(replace),
        unit: "µs",
        baseline: None,
        note: "median of 10; WAL, synchronous=FULL, real file".into(),
    });

    let seq = median(200, || {
        black_box(store.next_sequence("bench").unwrap());
    });
    let mut unsynced = Store::open(&dir.path().join("unsynced.db")).expect("store");
    unsynced
        .conn()
        .execute_batch("PRAGMA synchronous=OFF")
        .unwrap();
    let seq_off = median(200, || {
        black_box(unsynced.next_sequence("bench").unwrap());
    });
    out.push(Figure {
        group: "foundation",
        name: "store: one durable committed write (sequence take)".into(),
        value: us(seq),
        unit: "µs",
        baseline: Some(Baseline {
            name: "same write with synchronous=OFF (no durability)".into(),
            value: us(seq_off),
        }),
        note: "median of 200; the price of never losing an accepted case".into(),
    });

    let codes: Vec<String> = catalog
        .matters
        .iter()
        .map(|m| m.task_code.to_string())
        .collect();
    let mut i = 0;
    let get = median(2000, || {
        i = (i + 1) % codes.len();
        black_box(store.matter(&codes[i]).unwrap());
    });
    let mut j = 0;
    let mem = median(2000, || {
        j = (j + 1) % codes.len();
        black_box(catalog.matter(&codes[j]).cloned());
    });
    out.push(Figure {
        group: "foundation",
        name: "store: matter by task code (query + decode)".into(),
        value: us(get),
        unit: "µs",
        baseline: Some(Baseline {
            name: "in-memory catalogue lookup + clone".into(),
            value: us(mem),
        }),
        note: "median of 2000".into(),
    });
    let list = median(100, || {
        black_box(store.matter_summaries().unwrap());
    });
    out.push(Figure {
        group: "foundation",
        name: format!("store: list all {n} matter summaries"),
        value: us(list),
        unit: "µs",
        baseline: None,
        note: "median of 100".into(),
    });
}

/// A case as a kiosk submits it (no image), for the enqueue figures.
fn bench_case(core: &ykb_terminal::core::Core) -> ykb_terminal::core::outbox::NewCase {
    use ykb_terminal::core::domain::{Applicant, IdNumber, Person};
    let m = &core.catalog.matters[0];
    ykb_terminal::core::outbox::NewCase {
        matters: vec![m.task_code.clone()],
        bundle: None,
        catalog_version: core.catalog.version,
        applicant: Applicant::Person {
            person: Person {
                name: "王䶮".into(),
                id_number: IdNumber::complete("50010319500307123").unwrap(),
                address: "重庆市渝中区解放碑街道民族路188号".into(),
            },
        },
        agent: None,
        delivery: None,
        answers: [("reason".to_owned(), vec!["reason_expiry".to_owned()])].into(),
        materials: Vec::new(),
        form: [("f_phone".to_owned(), "13800000000".to_owned())].into(),
        images: Vec::new(),
    }
}

fn outbox_enqueue(out: &mut Vec<Figure>) {
    use ykb_terminal::core::outbox::{enqueue_case, Quota};
    const N: usize = 400;
    /// Commits of one kind in a row before the next kind's turn.
    const ROUND: usize = 20;
    let (dir, mut core) = demo_core();
    let case = bench_case(&core);
    let enqueue = |core: &mut ykb_terminal::core::Core| {
        enqueue_case(
            &mut core.store,
            &core.key,
            Quota::from_mb(1024),
            case.clone(),
            jiff::Timestamp::now(),
        )
        .unwrap();
    };
    // The size of a sealed case row, for the raw rows.
    enqueue(&mut core);
    let row_bytes: i64 = core
        .store
        .conn()
        .query_row("SELECT avg(length(body)) FROM cases", [], |r| {
            r.get::<_, f64>(0)
        })
        .unwrap() as i64;

    // The baseline: the same number of rows of the same size, one durable transaction each,
    // with nothing else: no sequence, no outbox row, no encryption, no serialisation. And,
    // to show where the difference goes, the same raw loop with the store's own settings
    // (the WAL folded back every 256 pages and cut to 1 MiB, secure_delete).
    let raw = raw_baseline_db(dir.path(), "body BLOB");
    let tuned = raw_db(dir.path(), "raw-store-pragmas.db", "body BLOB");
    tuned
        .execute_batch(
            "PRAGMA secure_delete=ON; PRAGMA journal_size_limit=1048576; PRAGMA wal_autocheckpoint=256;",
        )
        .unwrap();
    let blob = vec![0x5Au8; row_bytes as usize];
    // The three loops take turns, ROUND commits each, so a disk that slows down (another
    // process syncing) slows all three alike: the ratios are of the same conditions.
    let (mut t_ours, mut t_raw, mut t_tuned) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for _ in 0..N / ROUND {
        let t = Instant::now();
        for _ in 0..ROUND {
            enqueue(&mut core);
        }
        t_ours += t.elapsed();
        for (conn, total) in [(&raw, &mut t_raw), (&tuned, &mut t_tuned)] {
            let t = Instant::now();
            for _ in 0..ROUND {
                conn.execute("INSERT INTO t (body) VALUES (?1)", [&blob])
                    .unwrap();
            }
            *total += t.elapsed();
        }
    }
    let per_s = |t: Duration| N as f64 / t.as_secs_f64();
    let (ours, raw_rate, tuned_rate) = (per_s(t_ours), per_s(t_raw), per_s(t_tuned));
    // The same work without waiting for the disk: what encryption, JSON and pages cost.
    core.store
        .conn()
        .execute_batch("PRAGMA synchronous=OFF")
        .unwrap();
    let t = Instant::now();
    for _ in 0..N {
        enqueue(&mut core);
    }
    let unsynced = per_s(t.elapsed());
    core.store
        .conn()
        .execute_batch("PRAGMA synchronous=FULL")
        .unwrap();
    // WAL frames (pages) each commit writes and syncs, with checkpoints held off.
    const M: usize = 50;
    let raw_frames = {
        wal_count_start(&raw);
        for _ in 0..M {
            raw.execute("INSERT INTO t (body) VALUES (?1)", [&blob])
                .unwrap();
        }
        wal_count_end(&raw, M)
    };
    let ours_frames = {
        wal_count_start(core.store.conn());
        for _ in 0..M {
            enqueue(&mut core);
        }
        wal_count_end(core.store.conn(), M)
    };
    out.push(Figure {
        group: "outbox",
        name: "enqueue diagnostics: raw loop with the store's WAL settings".into(),
        value: tuned_rate,
        unit: "case/s",
        baseline: Some(Baseline {
            name: "the raw loop above".into(),
            value: raw_rate,
        }),
        note: format!(
            "WAL pages written and synced per commit: enqueue {ours_frames:.1}, raw insert {raw_frames:.1}"
        ),
    });
    out.push(Figure {
        group: "outbox",
        name: format!("durable enqueue: case + outbox row, sealed, one commit each ({N} cases)"),
        value: ours,
        unit: "case/s",
        baseline: Some(Baseline {
            name: format!("raw SQLite insert loop, same count, {row_bytes}-byte rows, FULL sync"),
            value: raw_rate,
        }),
        note: format!(
            "goal ≥ 200 case/s and ≥ half the raw rate; ratio {:.2}; the loops took turns, {ROUND} commits each",
            ours / raw_rate
        ),
    });
    out.push(Figure {
        group: "outbox",
        name: "enqueue without fsync (synchronous=OFF): the non-disk cost".into(),
        value: unsynced,
        unit: "case/s",
        baseline: None,
        note: "diagnostic, not a durability mode the terminal uses".into(),
    });
}

/// Empties the WAL of `conn` and holds checkpoints off, to count the frames commits write.
fn wal_count_start(conn: &rusqlite::Connection) {
    conn.execute_batch("PRAGMA wal_autocheckpoint=0").unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
}

/// WAL frames per commit since [`wal_count_start`], over `commits`; checkpoints on again.
fn wal_count_end(conn: &rusqlite::Connection, commits: usize) -> f64 {
    let log: i64 = conn
        .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))
        .unwrap();
    conn.execute_batch("PRAGMA wal_autocheckpoint=256").unwrap();
    log as f64 / commits as f64
}

/// Records a lease of numbers 1 to 999 of service A for today, as if the platform had granted
/// it.
fn lease_999_a_numbers(
    core: &mut ykb_terminal::core::Core,
    cfg: &ykb_terminal::core::config::TicketingSection,
) {
    use ykb_terminal::core::platform::wire::{TicketLease, TicketLeaseRequest};
    use ykb_terminal::core::ticketing;
    let now = jiff::Timestamp::now();
    let date = ticketing::hall_date(now).to_string();
    let req = TicketLeaseRequest {
        hall: cfg.hall.clone(),
        service: "A".into(),
        date: date.clone(),
        count: 999,
        daily_cap: 999,
    };
    let lease = TicketLease {
        hall: cfg.hall.clone(),
        service: "A".into(),
        date,
        first: 1,
        last: 999,
    };
    ticketing::record_lease(&mut core.store, &req, &lease, now).expect("lease");
}

/// A bare SQLite file `raw.db` in `dir` for the baselines: WAL, FULL sync, and one table `t`
/// with an integer key and `columns`.
fn raw_baseline_db(dir: &std::path::Path, columns: &str) -> rusqlite::Connection {
    raw_db(dir, "raw.db", columns)
}

/// [`raw_baseline_db`] in the file `name`.
fn raw_db(dir: &std::path::Path, name: &str, columns: &str) -> rusqlite::Connection {
    let raw = rusqlite::Connection::open(dir.join(name)).unwrap();
    raw.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))
        .unwrap();
    raw.execute_batch(&format!(
        "PRAGMA synchronous=FULL; CREATE TABLE t (id INTEGER PRIMARY KEY, {columns});"
    ))
    .unwrap();
    raw
}

/// The demo profile's core in a fresh data directory.
fn demo_core() -> (tempfile::TempDir, ykb_terminal::core::Core) {
    let dir = tempfile::tempdir().expect("temp dir");
    let core =
        ykb_terminal::core::Core::start(ykb_terminal::core::config::Profile::demo(), dir.path())
            .expect("core");
    (dir, core)
}

/// Issues one ticket now, as the kiosk does (1 GB outbox quota).
fn issue_ticket(
    core: &mut ykb_terminal::core::Core,
    cfg: &ykb_terminal::core::config::TicketingSection,
    request: &ykb_terminal::core::ticketing::IssueRequest,
) -> ykb_terminal::core::ticketing::IssuedTicket {
    ykb_terminal::core::ticketing::issue(
        &mut core.store,
        &core.key,
        ykb_terminal::core::outbox::Quota::from_mb(1024),
        cfg,
        request,
        jiff::Timestamp::now(),
    )
    .expect("issue")
}

/// A runtime with two workers, for the benches that talk to the simulator.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Issue 7: issuing one ticket — number from the lease, ticket row, sealed `ticket_issued`
/// event, one durable commit — against a bare durable insert of one row.
fn ticketing_issue(out: &mut Vec<Figure>) {
    use ykb_terminal::core::ticketing::IssueRequest;
    const N: u32 = 300;
    let (dir, mut core) = demo_core();
    let mut cfg = core.profile.ticketing.clone().expect("demo [ticketing]");
    cfg.services[0].daily_cap = 999;
    lease_999_a_numbers(&mut core, &cfg);
    let request = IssueRequest {
        service: "A".into(),
        ..Default::default()
    };
    let start = Instant::now();
    for _ in 0..N {
        issue_ticket(&mut core, &cfg, &request);
    }
    let ours = start.elapsed() / N;
    let raw = raw_baseline_db(dir.path(), "n INTEGER");
    let start = Instant::now();
    for i in 0..N {
        raw.execute("INSERT INTO t (n) VALUES (?1)", [i]).unwrap();
    }
    let raw_each = start.elapsed() / N;
    out.push(Figure {
        group: "ticketing",
        name: format!(
            "issue one ticket: lease number + row + sealed event, one commit ({N} tickets)"
        ),
        value: us(ours),
        unit: "µs",
        baseline: Some(Baseline {
            name: "raw SQLite insert of one small row, FULL sync".into(),
            value: us(raw_each),
        }),
        note: "mean per ticket; the printer is not included".into(),
    });
}

/// Issue 17: the longest a case commit waits while a snapshot (`fetched`, 20,000 matters) is
/// applied over the catalogue it replaces: `sync::apply` (staged in batches, swapped in one
/// short transaction) beside the one-transaction apply it replaced, in the same run.
fn snapshot_commit_wait(
    out: &mut Vec<Figure>,
    dir: &std::path::Path,
    region: ykb_terminal::core::domain::RegionCode,
    fetched: &ykb_terminal::core::sync::Fetched,
) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use ykb_terminal::core::crypto::DataKey;
    use ykb_terminal::core::domain::{Applicant, Code, IdNumber, Person};
    use ykb_terminal::core::outbox::{self, NewCase, Quota};
    use ykb_terminal::core::sync::{self, Fetched};
    type Apply = for<'a> fn(
        &mut Store,
        ykb_terminal::core::domain::RegionCode,
        Fetched,
        sync::ProgressFn<'a>,
    ) -> Result<sync::SyncReport, sync::SyncError>;
    let Fetched::Snapshot(snap) = fetched else {
        panic!("a snapshot")
    };
    let n = snap.catalog.matters.len();
    // What is measured replaces the catalogue with the next version (the same version again
    // must bring the same rows, which the swap then compares: not the usual path).
    let mut newer = fetched.clone();
    if let Fetched::Snapshot(s) = &mut newer {
        s.catalog.version += 1;
    }
    let case = NewCase {
        matters: vec![Code::new(snap.catalog.matters[0].task_code.as_str()).expect("code")],
        bundle: None,
        catalog_version: snap.catalog.version,
        applicant: Applicant::Person {
            person: Person {
                name: "王䶮".into(),
                id_number: IdNumber::complete("50010319500307123").expect("id"),
                address: "重庆市渝中区解放碑街道民族路188号".into(),
            },
        },
        agent: None,
        delivery: None,
        answers: Default::default(),
        materials: Vec::new(),
        form: [("f_phone".to_owned(), "13800000000".to_owned())].into(),
        images: Vec::new(),
    };
    // (longest commit wait, commits, failed commits, apply time, the report)
    let run = |name: &str, apply: Apply| -> (Duration, usize, usize, Duration, sync::SyncReport) {
        let sub = dir.join(format!("wait-{name}"));
        std::fs::create_dir_all(&sub).expect("dir");
        let mut store = Store::open(&sub.join("t.db")).expect("store");
        let key = DataKey::create(&sub.join("data.key")).expect("key");
        outbox::bind_key(&mut store, &key).expect("bind");
        // The catalogue being replaced.
        sync::apply(&mut store, region, fetched.clone(), &|_| {}).expect("first apply");
        let done = Arc::new(AtomicBool::new(false));
        let writer = {
            let (done, db, case) = (done.clone(), store.path().to_owned(), case.clone());
            std::thread::spawn(move || {
                let mut store = Store::open(&db).expect("writer store");
                let (mut longest, mut commits, mut failed) = (Duration::ZERO, 0, 0);
                while !done.load(Ordering::SeqCst) {
                    let t = Instant::now();
                    let r = outbox::enqueue_case(
                        &mut store,
                        &key,
                        Quota::from_mb(4096),
                        case.clone(),
                        jiff::Timestamp::now(),
                    );
                    longest = longest.max(t.elapsed());
                    match r {
                        Ok(_) => commits += 1,
                        Err(_) => failed += 1,
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                (longest, commits, failed)
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        let t = Instant::now();
        let r = apply(&mut store, region, newer.clone(), &|_| {}).expect("apply");
        let took = t.elapsed();
        assert_eq!(r.matters_written, n);
        std::thread::sleep(Duration::from_millis(50));
        done.store(true, Ordering::SeqCst);
        let (longest, commits, failed) = writer.join().expect("writer");
        (longest, commits, failed, took, r)
    };
    let (old_wait, old_commits, old_failed, old_took, _) =
        run("one-transaction", sync::apply_in_one_transaction);
    let (wait, commits, failed, took, r) = run("staged", sync::apply);
    out.push(Figure {
        group: "platform",
        name: format!("longest case commit wait while a {n}-matter snapshot is applied"),
        value: wait.as_secs_f64() * 1000.0,
        unit: "ms",
        baseline: Some(Baseline {
            name: "the same snapshot applied in one transaction".into(),
            value: old_wait.as_secs_f64() * 1000.0,
        }),
        note: format!(
            "goal ≤ 300 ms (issue 17: 3,780 ms measured before); staged in batches of {} ms (at most {} matters or {} search documents): apply {:.2} s, longest write transaction {} ms ({}), {commits} commits, {failed} failed; one transaction: apply {:.2} s, {old_commits} commits, {old_failed} failed",
            sync::SNAPSHOT_BATCH_TIME.as_millis(),
            sync::SNAPSHOT_BATCH,
            sync::SNAPSHOT_INDEX_BATCH,
            took.as_secs_f64(),
            r.longest_write_ms,
            r.longest_write_step,
            old_took.as_secs_f64()
        ),
    });
}

/// Issue 17, alone: a 20,000-matter snapshot from the simulator, then the longest case
/// commit wait while it is applied ([`snapshot_commit_wait`]).
fn snapshot_wait(out: &mut Vec<Figure>) {
    use ykb_terminal::core::domain::RegionCode;
    use ykb_terminal::core::platform::wire::{self, RegisterRequest};
    use ykb_terminal::core::platform::{ClientConfig, PlatformClient};
    use ykb_terminal::core::sync::{self, DEMO_ENROLMENT_CODE};
    use ykb_terminal::sim::platform::{self as sim, SimOptions};
    let rt = runtime();
    let region = RegionCode::new("500103").expect("region");
    let dir = tempfile::tempdir().expect("temp dir");
    let (h, fetched) = rt.block_on(async {
        let h = sim::start(
            "127.0.0.1:0".parse().expect("addr"),
            SimOptions {
                matters: Some(20_000),
                seed: 42,
                ..Default::default()
            },
        )
        .await
        .expect("simulator");
        let c = PlatformClient::new(ClientConfig {
            base_url: h.base_url(),
            ca_file: None,
            proxy: None,
            timeout: Duration::from_secs(120),
            catalog_key: wire::demo_verifying_key(),
            max_catalog_bytes: 512 * 1024 * 1024,
        })
        .expect("client");
        c.register(&RegisterRequest {
            enrolment_code: DEMO_ENROLMENT_CODE.into(),
            region_code: "500103".into(),
            terminal_kind: "kiosk".into(),
            name: "bench".into(),
        })
        .await
        .expect("register");
        let f = sync::fetch(&c, region, None, true, &|_| {})
            .await
            .expect("snapshot");
        (h, f)
    });
    snapshot_commit_wait(out, dir.path(), region, &fetched);
    rt.block_on(h.shutdown());
}

/// Issue 4: catalogue sync of 20,000 generated matters from the simulator over loopback, a
/// delta of 100 changes, and search latency beside a plain `LIKE '%…%'` scan of the same data.
fn platform_sync_and_search(out: &mut Vec<Figure>) {
    use ykb_terminal::core::domain::RegionCode;
    use ykb_terminal::core::platform::wire::{self, RegisterRequest};
    use ykb_terminal::core::platform::{ClientConfig, PlatformClient};
    use ykb_terminal::core::search::{self, Filters};
    use ykb_terminal::core::sync::{self, SyncProgress, DEMO_ENROLMENT_CODE};
    use ykb_terminal::sim::platform::{self as sim, ChangeRequest, SimOptions};

    const N: usize = 20_000;
    let rt = runtime();
    let region = RegionCode::new("500103").expect("region");
    let quiet = |_: SyncProgress| {};
    let dir = tempfile::tempdir().expect("temp dir");
    let (h, client) = rt.block_on(async {
        let h = sim::start(
            "127.0.0.1:0".parse().expect("addr"),
            SimOptions {
                matters: Some(N),
                seed: 42,
                ..Default::default()
            },
        )
        .await
        .expect("simulator");
        let c = PlatformClient::new(ClientConfig {
            base_url: h.base_url(),
            ca_file: None,
            proxy: None,
            timeout: std::time::Duration::from_secs(30),
            catalog_key: wire::demo_verifying_key(),
            max_catalog_bytes: 512 * 1024 * 1024,
        })
        .expect("client");
        c.register(&RegisterRequest {
            enrolment_code: DEMO_ENROLMENT_CODE.into(),
            region_code: "500103".into(),
            terminal_kind: "kiosk".into(),
            name: "bench".into(),
        })
        .await
        .expect("register");
        // Warm the simulator's snapshot cache, as a platform CDN would be.
        c.catalog_snapshot("500103", None).await.expect("warm-up");
        (h, c)
    });

    let mut full = Vec::new();
    let mut bytes = 0;
    let mut store = None;
    for i in 0..3 {
        let mut s = Store::open(&dir.path().join(format!("full{i}.db"))).expect("store");
        let t = Instant::now();
        let r = rt
            .block_on(sync::sync_once(&client, &mut s, region, true, &quiet))
            .expect("full sync");
        // The report's time is the apply's; the rest is download, verify and checks.
        let took = t.elapsed();
        let apply = std::time::Duration::from_millis(r.elapsed_ms);
        full.push((took, took.saturating_sub(apply), apply));
        assert_eq!(r.matters_written, N);
        bytes = std::fs::metadata(s.path()).map(|m| m.len()).unwrap_or(0);
        store = Some(s);
    }
    full.sort();
    let (full_med, fetch_med, apply_med) = full[1];
    let mut store = store.expect("a synced store");
    out.push(Figure {
        group: "platform",
        name: format!("full sync: {N} generated matters over loopback (seconds)"),
        value: full_med.as_secs_f64(),
        unit: "s",
        baseline: None,
        note: format!(
            "median of 3; {:.0} matters/s; goal ≤ 3 s; store {} MB; of which download, Ed25519 verify and checks {:.2} s, staged apply with FTS index and swap {:.2} s",
            N as f64 / full_med.as_secs_f64(),
            bytes / (1024 * 1024),
            fetch_med.as_secs_f64(),
            apply_med.as_secs_f64(),
        ),
    });
    out.push(Figure {
        group: "platform",
        name: "full sync throughput".into(),
        value: N as f64 / full_med.as_secs_f64(),
        unit: "m/s",
        baseline: None,
        note: "matters per second, median run".into(),
    });

    let mut deltas = Vec::new();
    for _ in 0..5 {
        h.change_catalog(&ChangeRequest {
            modify: 100,
            ..Default::default()
        });
        let t = Instant::now();
        let r = rt
            .block_on(sync::sync_once(&client, &mut store, region, false, &quiet))
            .expect("delta sync");
        deltas.push(t.elapsed());
        assert_eq!(r.matters_written, 100);
    }
    deltas.sort();
    out.push(Figure {
        group: "platform",
        name: format!("delta sync: 100 changed matters on top of {N}"),
        value: deltas[2].as_secs_f64() * 1000.0,
        unit: "ms",
        baseline: None,
        note: "median of 5; goal ≤ 200 ms".into(),
    });

    // 200 mixed queries drawn from the data: Chinese substrings, full pinyin, initials.
    let docs: Vec<(String, String, String)> = store
        .conn()
        .prepare("SELECT name, name_py, name_initials FROM search_docs ORDER BY id")
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<_, _>>()
        })
        .expect("docs");
    let mut rng = ykb_terminal::sim::generate::Rng::new(99);
    let mut queries = Vec::new();
    for i in 0..200 {
        let (name, py, initials) = &docs[rng.next_u64() as usize % docs.len()];
        let q = match i % 3 {
            0 => {
                let chars: Vec<char> = search::normalize(name).chars().collect();
                let len = 2 + (rng.next_u64() as usize % 3).min(chars.len().saturating_sub(2));
                let start = rng.next_u64() as usize % (chars.len() - len + 1);
                chars[start..start + len].iter().collect::<String>()
            }
            1 => py.chars().take(6 + rng.next_u64() as usize % 6).collect(),
            _ => initials
                .chars()
                .take(3 + rng.next_u64() as usize % 2)
                .collect(),
        };
        queries.push(q);
    }
    let conn = store.conn();
    let filters = Filters::default();
    let mut fts: Vec<Duration> = Vec::new();
    let mut hits_total = 0;
    for q in &queries {
        let t = Instant::now();
        hits_total += search::search(conn, q, &filters, 20).expect("search").len();
        fts.push(t.elapsed());
    }
    let mut like: Vec<Duration> = Vec::new();
    {
        let mut stmt = conn
            .prepare(
                "SELECT task_code, name FROM search_docs WHERE name LIKE ?1 OR aliases LIKE ?1
                 OR name_py LIKE ?1 OR name_initials LIKE ?1 OR aliases_py LIKE ?1
                 ORDER BY popularity DESC LIMIT 20",
            )
            .expect("like");
        for q in &queries {
            let pat = format!("%{q}%");
            let t = Instant::now();
            let n = stmt
                .query_map([&pat], |r| r.get::<_, String>(0))
                .expect("like query")
                .count();
            like.push(t.elapsed());
            black_box(n);
        }
    }
    fts.sort();
    like.sort();
    let pct = |v: &[Duration], p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    for (label, p) in [("p50", 0.50), ("p99", 0.99)] {
        out.push(Figure {
            group: "platform",
            name: format!("search {label}: 200 mixed queries over {N} matters"),
            value: us(pct(&fts, p)),
            unit: "µs",
            baseline: Some(Baseline {
                name: format!("LIKE '%…%' scan of the same columns, {label}"),
                value: us(pct(&like, p)),
            }),
            note: format!(
                "{:.0}× faster; goal p99 ≤ 5 ms and ≥ 20×; {} hits in total (limit 20 each)",
                us(pct(&like, p)) / us(pct(&fts, p)).max(0.001),
                hits_total
            ),
        });
    }
    rt.block_on(h.shutdown());
}

/// Resident set size of this process in KiB (Linux), for memory figures.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn outbox_drain(out: &mut Vec<Figure>) {
    use ykb_terminal::core::outbox::{self, enqueue_case, Backoff, Quota, Step};
    use ykb_terminal::core::platform::client::{ClientConfig, PlatformClient};
    use ykb_terminal::core::platform::wire;
    const N: usize = 10_000;
    let rt = runtime();
    // The simulator runs in its own process, so the memory figures are the terminal's alone.
    let mut sim_proc = std::process::Command::new(env!("CARGO_BIN_EXE_ykb-terminal"))
        .args(["platform-sim", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("platform-sim starts");
    let base_url = {
        use std::io::BufRead;
        let mut line = String::new();
        std::io::BufReader::new(sim_proc.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        line.trim().rsplit(' ').next().unwrap().to_owned()
    };
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut core =
            ykb_terminal::core::Core::start(ykb_terminal::core::config::Profile::demo(), dir.path()).expect("core");
        let cfg = ClientConfig::from_profile(&core.profile.platform, Some(&base_url), wire::demo_verifying_key());
        let client = PlatformClient::new(cfg).unwrap();
        let mut request = wire::RegisterRequest::for_terminal(&core.profile.terminal, ykb_terminal::core::sync::DEMO_ENROLMENT_CODE);
        request.name = "bench".into();
        ykb_terminal::core::credentials::ensure_registered(&client, &mut core.store, &core.key, &request)
            .await
            .expect("register");
        // Setup only: fill the queue without waiting for fsync; delivery runs at FULL.
        let case = bench_case(&core);
        core.store.conn().execute_batch("PRAGMA synchronous=OFF").unwrap();
        for _ in 0..N {
            enqueue_case(&mut core.store, &core.key, Quota::from_mb(4096), case.clone(), jiff::Timestamp::now()).unwrap();
        }
        core.store.conn().execute_batch("PRAGMA synchronous=FULL").unwrap();
        let store = std::sync::Mutex::new(core.store);
        let rss_start = rss_kib();
        let mut rss_at_1k = 0;
        let mut rss_peak = rss_start;
        let start = Instant::now();
        let mut delivered = 0;
        loop {
            match outbox::deliver_next(&store, &core.key, &client, Backoff::default(), jiff::Timestamp::now()).await {
                Ok(Step::Delivered { .. }) => {
                    delivered += 1;
                    if delivered % 500 == 0 {
                        rss_peak = rss_peak.max(rss_kib());
                        if delivered == 1000 {
                            rss_at_1k = rss_kib();
                        }
                    }
                }
                Ok(Step::Idle) => break,
                other => panic!("drain stopped: {other:?}"),
            }
        }
        let secs = start.elapsed().as_secs_f64();
        let rss_end = rss_kib();
        assert_eq!(delivered, N);
        let admin = base_url.trim_end_matches('/').trim_end_matches("/v1").to_owned() + "/admin/cases";
        let received: Vec<serde_json::Value> = reqwest::get(&admin).await.unwrap().json().await.unwrap();
        assert_eq!(received.len(), N, "the simulator recorded every case once");
        out.push(Figure {
            group: "outbox",
            name: format!("drain {N} queued cases to the loopback simulator"),
            value: secs,
            unit: "s",
            baseline: None,
            note: format!("goal ≤ 30 s; {:.0} case/s", N as f64 / secs),
        });
        out.push(Figure {
            group: "outbox",
            name: "drain: resident memory, after 1,000 vs after 10,000 delivered".into(),
            value: rss_end as f64 / 1024.0,
            unit: "MiB",
            baseline: Some(Baseline {
                name: "RSS after the first 1,000".into(),
                value: rss_at_1k as f64 / 1024.0,
            }),
            note: format!(
                "flat = not growing with the queue; start {:.1} MiB, peak {:.1} MiB (simulator in its own process)",
                rss_start as f64 / 1024.0,
                rss_peak as f64 / 1024.0
            ),
        });
    });
    let _ = sim_proc.kill();
    let _ = sim_proc.wait();
}

/// POSTs per case when three deliverers (the kiosk's worker, the agent's, the sync timer) drain
/// one store at once, beside one deliverer alone; in-process simulator counting every POST.
fn outbox_deliverers(out: &mut Vec<Figure>) {
    use ykb_terminal::core::outbox::{self, enqueue_case, Backoff, Quota};
    use ykb_terminal::core::platform::client::{ClientConfig, PlatformClient};
    use ykb_terminal::core::platform::wire;
    const N: usize = 300;
    let rt = runtime();
    let posts_per_case = |deliverers: usize| -> f64 {
        rt.block_on(async {
            let sim = ykb_terminal::sim::platform::start(
                "127.0.0.1:0".parse().unwrap(),
                Default::default(),
            )
            .await
            .expect("simulator");
            let (dir, mut core) = demo_core();
            let cfg = ClientConfig::from_profile(
                &core.profile.platform,
                Some(&sim.base_url()),
                wire::demo_verifying_key(),
            );
            let client = PlatformClient::new(cfg.clone()).unwrap();
            let mut request = wire::RegisterRequest::for_terminal(
                &core.profile.terminal,
                ykb_terminal::core::sync::DEMO_ENROLMENT_CODE,
            );
            request.name = "bench".into();
            ykb_terminal::core::credentials::ensure_registered(
                &client,
                &mut core.store,
                &core.key,
                &request,
            )
            .await
            .expect("register");
            let case = bench_case(&core);
            for _ in 0..N {
                enqueue_case(
                    &mut core.store,
                    &core.key,
                    Quota::from_mb(1024),
                    case.clone(),
                    jiff::Timestamp::now(),
                )
                .unwrap();
            }
            let key = std::sync::Arc::new(core.key);
            let path = dir.path().join(ykb_terminal::core::STORE_FILE);
            let mut runs = Vec::new();
            for _ in 0..deliverers {
                let c = PlatformClient::new(cfg.clone()).unwrap();
                c.set_credentials(client.credentials().unwrap());
                let store = std::sync::Mutex::new(Store::open(&path).unwrap());
                let key = key.clone();
                runs.push(tokio::spawn(async move {
                    // Each deliverer keeps at it until the queue is empty, as the workers do.
                    loop {
                        match outbox::deliver_next(
                            &store,
                            &key,
                            &c,
                            Backoff::default(),
                            jiff::Timestamp::now(),
                        )
                        .await
                        {
                            Ok(outbox::Step::Idle) => break,
                            Ok(outbox::Step::Busy { .. }) => {
                                tokio::time::sleep(Duration::from_millis(5)).await
                            }
                            Ok(_) => {}
                            Err(e) => panic!("delivery failed: {e}"),
                        }
                    }
                }));
            }
            for r in runs {
                r.await.unwrap();
            }
            let cases = sim.cases();
            assert_eq!(cases.len(), N);
            let posts: u64 = cases.iter().map(|c| c.count).sum();
            sim.shutdown().await;
            posts as f64 / N as f64
        })
    };
    let one = posts_per_case(1);
    let three = posts_per_case(3);
    out.push(Figure {
        group: "outbox",
        name: format!("POSTs per case, three deliverers on one store ({N} cases)"),
        value: three,
        unit: "POST",
        baseline: Some(Baseline {
            name: "one deliverer, same run".into(),
            value: one,
        }),
        note: format!("goal ≤ 1.05× one deliverer; ratio {:.2}", three / one),
    });
}

// Not benches/drivers.rs: Cargo would take that for a bench target of its own.
#[path = "ykb/commands.rs"]
mod commands;
#[path = "ykb/document_print.rs"]
mod document_print;
#[path = "ykb/drivers.rs"]
mod drivers;
#[path = "ykb/fleet.rs"]
mod fleet;
#[path = "ykb/hall.rs"]
mod hall;
#[path = "ykb/hall_failover.rs"]
mod hall_failover;
#[path = "ykb/handwriting.rs"]
mod handwriting;
#[path = "ykb/kiosk_scroll.rs"]
mod kiosk_scroll;
#[path = "ykb/kiosk_startup.rs"]
mod kiosk_startup;
#[path = "ykb/outbox_disk.rs"]
mod outbox_disk;
#[path = "ykb/payment.rs"]
mod payment;
#[allow(dead_code)]
#[path = "../tests/common/pg_server.rs"]
mod pg_server;
#[path = "ykb/ticket_print.rs"]
mod ticket_print;
#[path = "ykb/xfs4iot.rs"]
mod xfs4iot;

/// A group of figures, run when the filter selects its name.
type Group = fn(&mut Vec<Figure>);

fn main() {
    // `cargo bench` passes --bench; a filter argument selects groups.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let mut figures = Vec::new();
    let groups: &[(&str, Group)] = &[
        ("foundation", catalog_and_store),
        ("outbox-enqueue", outbox_enqueue),
        ("outbox", outbox_drain),
        ("outbox-deliverers", outbox_deliverers),
        ("outbox-disk", outbox_disk::outbox_disk),
        ("snapshot-wait", snapshot_wait),
        ("platform", platform_sync_and_search),
        ("ticketing", ticketing_issue),
        ("ticketing", ticket_print::ticket_print),
        ("hall", hall::hall),
        ("hall-failover", hall_failover::hall_failover),
        ("drivers", drivers::drivers),
        ("document-printer", document_print::document_print),
        ("drivers", xfs4iot::xfs4iot),
        ("fleet", fleet::fleet),
        ("fleet", fleet::catalogue_egress),
        ("kiosk-startup", kiosk_startup::kiosk_startup),
        ("kiosk-scroll", kiosk_scroll::kiosk_scroll),
        ("ops-commands", commands::commands),
        ("handwriting", handwriting::handwriting),
        ("payment", payment::payment),
    ];
    for &(name, run) in groups {
        if filter.as_deref().is_none_or(|f| name.contains(f)) {
            run(&mut figures);
        }
    }

    println!(
        "{:<12} {:<66} {:>12}  {:<6} {:>12}  baseline",
        "group", "figure", "value", "unit", "baseline"
    );
    for f in &figures {
        let (bv, bn) = f
            .baseline
            .as_ref()
            .map_or((String::from("-"), String::new()), |b| {
                (format!("{:.1}", b.value), b.name.clone())
            });
        println!(
            "{:<12} {:<66} {:>12.1}  {:<6} {:>12}  {}",
            f.group, f.name, f.value, f.unit, bv, bn
        );
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| std::path::PathBuf::from("target"), Into::into);
    let path = target.join("bench.json");
    let json = serde_json::json!({
        "machine": { "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) },
        "figures": figures,
    });
    match std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()) {
        Ok(()) => println!("\nwritten: {}", path.display()),
        Err(e) => eprintln!("could not write {}: {e}", path.display()),
    }
}
