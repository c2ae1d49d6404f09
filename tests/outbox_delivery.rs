//! Delivery, end to end: real SQLite files, the real HTTP client, the platform simulator on
//! loopback with injected faults. Time is warped by passing `now` to the delivery step, so a
//! multi-hour outage takes seconds.

use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};
use ykb_terminal::core::config::Profile;
use ykb_terminal::core::domain::{Applicant, IdNumber, Person};
use ykb_terminal::core::outbox::{self, Backoff, Quota, Step};
use ykb_terminal::core::platform::client::PlatformClient;
use ykb_terminal::core::Core;
use ykb_terminal::sim::platform::{self as sim, Faults, SimHandle, SimOptions};

mod common;

async fn start_sim(faults: Faults) -> SimHandle {
    sim::start(
        "127.0.0.1:0".parse().unwrap(),
        SimOptions {
            faults,
            seed: 7,
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

async fn client_for(sim: &SimHandle, core: &mut Core) -> PlatformClient {
    // Registration goes through whatever faults the test has set.
    let faults = sim.faults();
    sim.set_faults(Faults::default());
    let client = common::registered_client(core, &sim.base_url(), "test").await;
    sim.set_faults(faults);
    client
}

/// A fresh simulator, and a demo terminal in a fresh data directory registered at it.
async fn demo_terminal() -> (SimHandle, tempfile::TempDir, Core, PlatformClient) {
    let sim = start_sim(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut core = Core::start(Profile::demo(), dir.path()).unwrap();
    let client = client_for(&sim, &mut core).await;
    (sim, dir, core, client)
}

use common::{enqueue_n, numbered_case as case};

/// The ids of the delivered steps, in order.
fn delivered_ids(steps: &[Step]) -> Vec<uuid::Uuid> {
    steps
        .iter()
        .filter_map(|s| match s {
            Step::Delivered { id, .. } => Some(*id),
            _ => None,
        })
        .collect()
}

/// Runs delivery steps with a warped clock until the queue is empty; returns the steps.
async fn deliver_all(
    store: &Mutex<ykb_terminal::core::store::Store>,
    core_key: &ykb_terminal::core::crypto::DataKey,
    client: &PlatformClient,
    mut now: Timestamp,
    limit: usize,
) -> (Vec<Step>, Timestamp) {
    let mut steps = Vec::new();
    for _ in 0..limit {
        match outbox::deliver_next(store, core_key, client, Backoff::default(), now)
            .await
            .unwrap()
        {
            Step::Idle => return (steps, now),
            Step::Waiting { until_ms } => now = Timestamp::from_millisecond(until_ms).unwrap(),
            s => steps.push(s),
        }
    }
    panic!("queue not drained after {limit} steps");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_case_arrives_exactly_once_and_in_order_through_errors_and_resets() {
    let (sim, _dir, mut core, client) = demo_terminal().await;
    let ids = enqueue_n(&mut core, 40);
    sim.set_faults(Faults {
        error_rate: 0.15,
        error_status: 503,
        retry_after_secs: 3,
        reset_rate: 0.1,
        truncate_rate: 0.05,
        ..Default::default()
    });
    let store = Mutex::new(core.store);
    let (steps, _) = deliver_all(&store, &core.key, &client, Timestamp::now(), 5000).await;
    let retries = steps
        .iter()
        .filter(|s| matches!(s, Step::Retry { .. }))
        .count();
    let delivered: Vec<_> = delivered_ids(&steps);
    assert!(retries > 5, "the faults were felt ({retries} retries)");
    assert_eq!(delivered, ids, "delivered in submission order");
    let records = sim.cases();
    let keys: Vec<String> = records.iter().map(|r| r.key.clone()).collect();
    let expect: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    let mut want = expect.clone();
    want.sort();
    assert_eq!(sorted, want, "each case recorded once, none extra");
    // Materials went before their case, and arrived intact.
    for id in &expect {
        let m = common::self_service_matter(&core.catalog);
        assert_eq!(
            sim.material_bytes(id, &m.materials[0].id).as_deref(),
            Some(common::IMAGE)
        );
    }
    // Unified codes were written back; personal data is gone from the stubs.
    let mut s = store.into_inner().unwrap();
    for r in &records {
        let stub = outbox::case_stub(&mut s, &r.key).unwrap().unwrap();
        assert_eq!(
            stub.unified_code.as_deref(),
            Some(r.ack.unified_code.as_str())
        );
        assert_eq!(stub.status, "submitted");
        assert!(!stub.holds_personal_data);
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_hour_outage_backs_off_without_a_storm_and_then_drains() {
    let (sim, _dir, mut core, client) = demo_terminal().await;
    let ids = enqueue_n(&mut core, 5);
    sim.set_faults(Faults {
        outage: true,
        retry_after_secs: 30,
        ..Default::default()
    });
    let store = Mutex::new(core.store);
    let start = Timestamp::now();
    let mut now = start;
    let mut attempts = 0;
    // Four hours of warped time.
    while now < start + SignedDuration::from_hours(4) {
        match outbox::deliver_next(&store, &core.key, &client, Backoff::default(), now)
            .await
            .unwrap()
        {
            Step::Retry { next_ms, .. } => {
                attempts += 1;
                assert!(
                    next_ms - now.as_millisecond() >= 30_000,
                    "Retry-After honoured"
                );
                now = Timestamp::from_millisecond(next_ms).unwrap();
            }
            Step::Waiting { until_ms } => now = Timestamp::from_millisecond(until_ms).unwrap(),
            other => panic!("nothing can be delivered during the outage: {other:?}"),
        }
    }
    // Capped exponential backoff with full jitter: tens of attempts in four hours, not thousands.
    assert!((10..=200).contains(&attempts), "{attempts} attempts in 4 h");
    assert!(sim.cases().is_empty());
    {
        let mut s = store.lock().unwrap();
        let st = outbox::status(&mut s, Quota::from_mb(512)).unwrap();
        assert_eq!(st.pending, 5);
        assert!(st.next_attempt_ms.unwrap() > now.as_millisecond() - 700_000);
    }
    sim.set_faults(Faults::default());
    let (steps, _) = deliver_all(&store, &core.key, &client, now, 100).await;
    let delivered: Vec<_> = delivered_ids(&steps);
    assert_eq!(delivered, ids);
    assert_eq!(sim.cases().len(), 5);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_the_platform_accepted_resends_with_the_same_key_and_gets_the_same_code() {
    let (sim, dir, mut core, client) = demo_terminal().await;
    let ids = enqueue_n(&mut core, 1);
    // The platform accepts, but the answer is lost on the way back (cut short).
    sim.set_faults(Faults {
        truncate_rate: 1.0,
        ..Default::default()
    });
    let store = Mutex::new(core.store);
    let step = outbox::deliver_next(
        &store,
        &core.key,
        &client,
        Backoff::default(),
        Timestamp::now(),
    )
    .await
    .unwrap();
    assert!(matches!(step, Step::Retry { .. }), "{step:?}");
    // "Restart": a new store handle on the same file, then delivery again.
    drop(store);
    drop(core.key);
    let core = Core::start(Profile::demo(), dir.path()).unwrap();
    sim.set_faults(Faults::default());
    let store = Mutex::new(core.store);
    let far = Timestamp::now() + SignedDuration::from_hours(1);
    let step = outbox::deliver_next(&store, &core.key, &client, Backoff::default(), far)
        .await
        .unwrap();
    let records = sim.cases();
    assert_eq!(records.len(), 1);
    assert!(records[0].count >= 2, "the same key came twice");
    match step {
        Step::Delivered { id, unified_code } => {
            assert_eq!(id, ids[0]);
            assert_eq!(
                unified_code.as_deref(),
                Some(records[0].ack.unified_code.as_str())
            );
        }
        other => panic!("{other:?}"),
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_acknowledgement_no_trace_of_the_personal_data_is_left_in_the_files() {
    let (sim, dir, mut core, client) = demo_terminal().await;
    let ids = enqueue_n(&mut core, 3);
    // What an attacker with the key would look for: the sealed blobs themselves.
    let sealed: Vec<Vec<u8>> = ids
        .iter()
        .flat_map(|id| {
            let conn = core.store.conn();
            let body: Vec<u8> = conn
                .query_row(
                    "SELECT body FROM cases WHERE id = ?1",
                    [id.to_string()],
                    |r| r.get(0),
                )
                .unwrap();
            let image: Vec<u8> = conn
                .query_row(
                    "SELECT image FROM case_materials WHERE case_id = ?1",
                    [id.to_string()],
                    |r| r.get(0),
                )
                .unwrap();
            [body, image]
        })
        .collect();
    let store = Mutex::new(core.store);
    let steps = outbox::drain(
        &store,
        &core.key,
        &client,
        Backoff::default(),
        Timestamp::now,
    )
    .await
    .unwrap();
    assert_eq!(steps.len(), 3);
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        for blob in &sealed {
            // Any 48-byte window of a sealed blob would identify it.
            for start in (0..blob.len().saturating_sub(48)).step_by(997) {
                let needle = &blob[start..start + 48];
                assert!(
                    !bytes.windows(48).any(|w| w == needle),
                    "{}: a sealed blob survived the wipe",
                    f.display()
                );
            }
        }
        assert!(
            !bytes.windows(14).any(|w| w == b"50010319500307"),
            "ID digits in clear"
        );
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_queued_by_the_first_schema_are_delivered_by_this_build() {
    use ykb_terminal::core::crypto::{DataKey, KEY_FILE};
    use ykb_terminal::core::store::MIGRATIONS;
    let sim = start_sim(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(ykb_terminal::core::STORE_FILE);
    // An old binary's database: schema 1 only, with two queued cases in its row format.
    let key = DataKey::create(&dir.path().join(KEY_FILE)).unwrap();
    let demo = ykb_terminal::core::catalog::Catalog::demo().unwrap();
    let matter = demo.matters.iter().find(|m| m.self_service).unwrap();
    let mut old_ids = Vec::new();
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(
            None,
            "application_id",
            ykb_terminal::core::store::APPLICATION_ID,
        )
        .unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        for seq in 1..=2u64 {
            let id = uuid::Uuid::now_v7();
            let case = ykb_terminal::core::domain::Case {
                id,
                seq,
                matters: vec![matter.task_code.clone()],
                bundle: None,
                catalog_version: 1,
                applicant: Applicant::Person {
                    person: Person {
                        name: "旧版".into(),
                        id_number: IdNumber::parse(&common::id_number("50010319500307001"))
                            .unwrap(),
                        address: String::new(),
                    },
                },
                agent: None,
                delivery: None,
                answers: Default::default(),
                materials: Vec::new(),
                form: Default::default(),
                timeline: Vec::new(),
                unified_code: None,
            };
            let body = key.seal(
                id.to_string().as_bytes(),
                &serde_json::to_vec(&case).unwrap(),
            );
            conn.execute(
                "INSERT INTO cases (id, seq, status, catalog_version, created_at, updated_at, body)
                 VALUES (?1, ?2, 'queued', 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', ?3)",
                rusqlite::params![id.to_string(), seq as i64, body],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO outbox (id, seq, kind, schema_version, catalog_version, next_attempt_at, created_at, payload)
                 VALUES (?1, ?2, 'case', 1, 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', x'')",
                rusqlite::params![id.to_string(), seq as i64],
            )
            .unwrap();
            old_ids.push(id);
        }
    }
    drop(key);
    let mut core = Core::start(Profile::demo(), dir.path()).unwrap();
    assert_eq!(
        core.store.schema_version().unwrap(),
        MIGRATIONS.len() as i64
    );
    let client = client_for(&sim, &mut core).await;
    let store = Mutex::new(core.store);
    let (steps, _) = deliver_all(&store, &core.key, &client, Timestamp::now(), 50).await;
    let delivered: Vec<_> = delivered_ids(&steps);
    assert_eq!(delivered, old_ids);
    let keys: Vec<String> = sim.cases().iter().map(|r| r.key.clone()).collect();
    assert_eq!(keys.len(), 2);
    for id in &old_ids {
        assert!(keys.contains(&id.to_string()));
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluations_travel_through_the_outbox_in_order_with_cases() {
    let (sim, _dir, mut core, client) = demo_terminal().await;
    let case_id = enqueue_n(&mut core, 1)[0];
    let eval = serde_json::json!({
        "subject": case_id.to_string(),
        "level": ykb_terminal::core::domain::EvaluationLevel::VerySatisfied,
        "channel": "kiosk",
    });
    let eval_id = outbox::enqueue_event(
        &mut core.store,
        &core.key,
        Quota::from_mb(64),
        "evaluation",
        &eval,
        Timestamp::now(),
    )
    .unwrap();
    let store = Mutex::new(core.store);
    let (steps, _) = deliver_all(&store, &core.key, &client, Timestamp::now(), 20).await;
    let order: Vec<_> = delivered_ids(&steps);
    assert_eq!(order, vec![case_id, eval_id]);
    let events = sim.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].key, eval_id.to_string());
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_delivers_when_woken_retries_through_an_outage_and_stops_on_request() {
    use std::sync::Arc;
    let (sim, _dir, mut core, client) = demo_terminal().await;
    // The platform is down when the worker starts.
    sim.set_faults(Faults {
        outage: true,
        retry_after_secs: 1,
        ..Default::default()
    });
    let ids = enqueue_n(&mut core, 2);
    let store = Arc::new(Mutex::new(core.store));
    let key = Arc::new(core.key);
    let wake = Arc::new(tokio::sync::Notify::new());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (ev_tx, mut ev_rx) = tokio::sync::mpsc::unbounded_channel();
    let backoff = Backoff {
        base: std::time::Duration::from_millis(100),
        cap: std::time::Duration::from_secs(2),
    };
    let worker = tokio::spawn(outbox::run_worker(
        store.clone(),
        key.clone(),
        client,
        backoff,
        30,
        wake.clone(),
        stop_rx,
        Some(ev_tx),
    ));
    // It reports the failed attempt (after how far it got: nowhere) and keeps the items.
    let first = loop {
        match tokio::time::timeout(std::time::Duration::from_secs(10), ev_rx.recv())
            .await
            .unwrap()
            .unwrap()
        {
            outbox::WorkerEvent::Progress(p) => assert_eq!(p.sent, 0, "{p:?}"),
            other => break other,
        }
    };
    assert!(
        matches!(first, outbox::WorkerEvent::Step(Step::Retry { .. })),
        "{first:?}"
    );
    assert!(sim.cases().is_empty());
    // The network comes back; the worker delivers both, in order, on its own.
    sim.set_faults(Faults::default());
    wake.notify_one();
    let mut delivered = Vec::new();
    while delivered.len() < 2 {
        match tokio::time::timeout(std::time::Duration::from_secs(10), ev_rx.recv())
            .await
            .unwrap()
            .unwrap()
        {
            outbox::WorkerEvent::Step(Step::Delivered { id, .. }) => delivered.push(id),
            outbox::WorkerEvent::Step(Step::Retry { .. }) | outbox::WorkerEvent::Progress(_) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(delivered, ids);
    assert_eq!(sim.cases().len(), 2);
    stop_tx.send(true).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), worker)
        .await
        .unwrap()
        .unwrap();
    let st = outbox::status(&mut store.lock().unwrap(), Quota::from_mb(8)).unwrap();
    assert_eq!(st.pending, 0);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_reports_progress_by_material_and_a_resumed_case_counts_what_went_before() {
    let (sim, _dir, mut core, client) = demo_terminal().await;
    let mut c = case(&core, 1);
    let first = c.images[0].0.clone();
    c.images.push(("zz_second".into(), vec![7u8; 30_000]));
    let id = outbox::enqueue_case(
        &mut core.store,
        &core.key,
        Quota::from_mb(512),
        c,
        Timestamp::now(),
    )
    .unwrap()
    .id;
    let store = Mutex::new(core.store);
    // An earlier attempt uploaded the first material (as a cut-off attempt would leave it).
    store
        .lock()
        .unwrap()
        .conn()
        .execute(
            "UPDATE case_materials SET uploaded = 1 WHERE material_id = ?1",
            [&first],
        )
        .unwrap();
    let seen = Mutex::new(Vec::new());
    let step = outbox::deliver_next_reporting(
        &store,
        &core.key,
        &client,
        Backoff::default(),
        Timestamp::now(),
        &|p| seen.lock().unwrap().push(p),
    )
    .await
    .unwrap();
    assert!(matches!(step, Step::Delivered { .. }), "{step:?}");
    let seen = seen.into_inner().unwrap();
    assert_eq!(
        seen.len(),
        3,
        "start, the second material, the body: {seen:?}"
    );
    assert!(seen.iter().all(|p| p.id == id && p.total == seen[0].total));
    let total = seen[0].total;
    // The first material counts as sent from the start; the second (30 000 bytes sealed
    // with a little overhead) follows; the body completes it.
    assert!(seen[0].sent > 0 && seen[0].sent < total, "{seen:?}");
    assert!(seen[1].sent - seen[0].sent >= 30_000, "{seen:?}");
    assert!(seen[1].sent < total);
    assert_eq!(seen[2].sent, total);
    assert_eq!(sim.materials().len(), 1, "only the second was uploaded now");
    sim.shutdown().await;
}

/// An installed UI terminal runs a worker of its own beside the agent's, both on the store
/// file: racing for the same queue, they still put every case at the platform exactly once,
/// in order, and both see every case end as submitted with one code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_one_store_deliver_every_case_once() {
    use std::sync::Arc;
    let (sim, dir, mut core, client) = demo_terminal().await;
    let ids = enqueue_n(&mut core, 12);
    let store_path = dir.path().join(ykb_terminal::core::STORE_FILE);
    let key = Arc::new(core.key);
    let mut workers = Vec::new();
    let mut stops = Vec::new();
    let (ev_tx, mut ev_rx) = tokio::sync::mpsc::unbounded_channel();
    for _ in 0..2 {
        let worker_client = PlatformClient::new(client.config().clone()).unwrap();
        worker_client.set_credentials(client.credentials().unwrap());
        let store = ykb_terminal::core::store::Store::open(&store_path).unwrap();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        stops.push(stop_tx);
        workers.push(tokio::spawn(outbox::run_worker(
            Arc::new(Mutex::new(store)),
            key.clone(),
            worker_client,
            Backoff::default(),
            30,
            Arc::new(tokio::sync::Notify::new()),
            stop_rx,
            Some(ev_tx.clone()),
        )));
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while sim.cases().len() < ids.len() && std::time::Instant::now() < deadline {
        let _ = tokio::time::timeout(std::time::Duration::from_millis(200), ev_rx.recv()).await;
    }
    for s in &stops {
        s.send(true).unwrap();
    }
    for w in workers {
        tokio::time::timeout(std::time::Duration::from_secs(5), w)
            .await
            .unwrap()
            .unwrap();
    }
    let cases = sim.cases();
    assert_eq!(cases.len(), ids.len(), "every case at the platform, once");
    let mut store = core.store;
    for id in &ids {
        let stub = outbox::case_stub(&mut store, &id.to_string())
            .unwrap()
            .expect("stub");
        let at_platform = cases
            .iter()
            .find(|c| c.key == id.to_string())
            .expect("sent");
        assert_eq!(
            stub.unified_code.as_ref(),
            Some(&at_platform.ack.unified_code)
        );
        assert!(!stub.holds_personal_data, "{stub:?}");
    }
    // One code per case, none shared.
    let mut codes: Vec<_> = cases.iter().map(|c| c.ack.unified_code.clone()).collect();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), ids.len());
    let st = outbox::status(&mut store, Quota::from_mb(8)).unwrap();
    assert_eq!(st.pending, 0);
    sim.shutdown().await;
}
