//! The outbox makes progress by itself (issue 17): a poisoned item is set aside, a gateway's
//! own pages are not the platform's refusals, one deliverer sends each item, `Retry-After`
//! and clock steps cannot hold the queue for a day. Real SQLite files, the real HTTP client,
//! the platform simulator or a stand-in gateway on real loopback TCP.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use ykb_terminal::core::config::Profile;
use ykb_terminal::core::outbox::{self, Backoff, Quota, Step};
use ykb_terminal::core::platform::client::PlatformClient;
use ykb_terminal::core::platform::ClientConfig;
use ykb_terminal::core::store::Store;
use ykb_terminal::core::Core;
use ykb_terminal::sim::platform::{self as sim, Faults, SimHandle, SimOptions};

mod common;
use common::gateway::{self, Gateway};

async fn start_sim() -> SimHandle {
    sim::start(
        "127.0.0.1:0".parse().unwrap(),
        SimOptions {
            seed: 7,
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

/// A fresh simulator, and a demo terminal in a fresh data directory registered at it.
async fn demo_terminal() -> (SimHandle, tempfile::TempDir, Core, PlatformClient) {
    let sim = start_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let mut core = Core::start(Profile::demo(), dir.path()).unwrap();
    let client = common::registered_client(&mut core, &sim.base_url(), "test").await;
    (sim, dir, core, client)
}

/// The same terminal's client, pointed at `url` instead (a gateway on another port).
fn client_at(client: &PlatformClient, url: &str) -> PlatformClient {
    let mut cfg: ClientConfig = client.config().clone();
    cfg.base_url = url.to_owned();
    let c = PlatformClient::new(cfg).unwrap();
    c.set_credentials(client.credentials().unwrap());
    c
}

use common::enqueue_n;

/// A gateway answering every upload and submission with the contract's 422 `body`; a HEAD
/// (where an upload resumes) learns that nothing is there yet.
fn refusing(line: &str, body: &str) -> gateway::Answer {
    if line.starts_with("HEAD ") {
        gateway::http("404 Not Found", "application/json", "")
    } else {
        gateway::http("422 Unprocessable Entity", "application/json", body)
    }
}

fn delivered(steps: &[Step]) -> usize {
    steps
        .iter()
        .filter(|s| matches!(s, Step::Delivered { .. }))
        .count()
}

fn state_of(store: &mut Store, id: &uuid::Uuid) -> String {
    outbox::list(store, false)
        .unwrap()
        .into_iter()
        .find(|i| i.id == id.to_string())
        .map(|i| i.state)
        .unwrap_or_else(|| "gone".into())
}

/// Poisons one queued case in each of the ways a stored row can go bad, and checks that the
/// queue sets it aside with its reason and delivers the rest.
async fn poisoned_case_is_set_aside(
    poison: &str,
    holds_personal_data: u64,
    damage: impl FnOnce(&mut Store, &str),
) {
    let (sim, _dir, mut core, client) = demo_terminal().await;
    let ids = enqueue_n(&mut core, 10);
    damage(&mut core.store, &ids[2].to_string());
    let store = Mutex::new(core.store);
    let steps = outbox::drain(
        &store,
        &core.key,
        &client,
        Backoff::default(),
        Timestamp::now,
    )
    .await
    .unwrap_or_else(|e| panic!("{poison}: the drain stopped at the poisoned item: {e}"));
    assert_eq!(delivered(&steps), 9, "{poison}: every other case went out");
    assert_eq!(sim.cases().len(), 9, "{poison}");
    let mut s = store.into_inner().unwrap();
    let items = outbox::list(&mut s, false).unwrap();
    assert_eq!(items.len(), 1, "{poison}: {items:?}");
    let item = &items[0];
    assert_eq!(item.id, ids[2].to_string());
    assert_eq!(item.state, "quarantined", "{poison}: {item:?}");
    let reason = item.last_error.clone().unwrap_or_default();
    assert!(!reason.is_empty(), "{poison}: the reason is kept");
    assert!(!reason.contains("测试2"), "no personal data in the reason");
    // Counted, visible, and its sealed data kept for a technician with the right key.
    let st = outbox::status(&mut s, Quota::from_mb(8)).unwrap();
    assert_eq!((st.pending, st.dead, st.quarantined), (0, 0, 1), "{st:?}");
    assert_eq!(
        st.quarantined_holding_personal_data, holds_personal_data,
        "{poison}: {st:?}"
    );
    assert_eq!(outbox::quarantined(&mut s).unwrap().len(), 1);
    // Another pass does not touch it again; `queue retry` puts it back, and it comes back
    // to quarantine while it is still damaged.
    let again = outbox::drain(
        &Mutex::new(s),
        &core.key,
        &client,
        Backoff::default(),
        Timestamp::now,
    )
    .await
    .unwrap();
    assert!(again.is_empty(), "{again:?}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flipped_bit_a_missing_row_and_a_wrong_column_type_are_set_aside() {
    poisoned_case_is_set_aside("flipped bit", 1, |s, id| {
        let mut body: Vec<u8> = s
            .conn()
            .query_row("SELECT body FROM cases WHERE id = ?1", [id], |r| r.get(0))
            .unwrap();
        let mid = body.len() / 2;
        body[mid] ^= 0x10;
        s.conn()
            .execute(
                "UPDATE cases SET body = ?2 WHERE id = ?1",
                rusqlite::params![id, body],
            )
            .unwrap();
    })
    .await;
    poisoned_case_is_set_aside("missing cases row", 0, |s, id| {
        let c = s.conn();
        c.execute("DELETE FROM case_materials WHERE case_id = ?1", [id])
            .unwrap();
        c.execute("DELETE FROM cases WHERE id = ?1", [id]).unwrap();
    })
    .await;
    poisoned_case_is_set_aside("wrong column type", 1, |s, id| {
        s.conn()
            .execute("UPDATE cases SET body = 'not a blob' WHERE id = ?1", [id])
            .unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quarantined_item_goes_back_with_queue_retry_and_out_once_repaired() {
    let (sim, _dir, mut core, client) = demo_terminal().await;
    let ids = enqueue_n(&mut core, 3);
    let id = ids[1].to_string();
    let good: Vec<u8> = core
        .store
        .conn()
        .query_row("SELECT body FROM cases WHERE id = ?1", [&id], |r| r.get(0))
        .unwrap();
    let mut bad = good.clone();
    bad[10] ^= 1;
    core.store
        .conn()
        .execute(
            "UPDATE cases SET body = ?2 WHERE id = ?1",
            rusqlite::params![id, bad],
        )
        .unwrap();
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
    assert_eq!(delivered(&steps), 2);
    // Restored from a backup, then put back by staff.
    let mut s = store.into_inner().unwrap();
    s.conn()
        .execute(
            "UPDATE cases SET body = ?2 WHERE id = ?1",
            rusqlite::params![id, good],
        )
        .unwrap();
    assert_eq!(
        outbox::retry(&mut s, Some(&id), Timestamp::now()).unwrap(),
        1
    );
    let store = Mutex::new(s);
    let steps = outbox::drain(
        &store,
        &core.key,
        &client,
        Backoff::default(),
        Timestamp::now,
    )
    .await
    .unwrap();
    assert_eq!(delivered(&steps), 1);
    assert_eq!(sim.cases().len(), 3);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_page_or_a_bad_gateway_rejects_nothing() {
    let (sim, _dir, mut core, client) = demo_terminal().await;
    let ids = enqueue_n(&mut core, 20);
    let store = Mutex::new(core.store);
    for page in [
        "404 Not Found",
        "405 Not Allowed",
        "502 Bad Gateway",
        "400 Bad Request",
    ] {
        let gw = Gateway::start(move |_| gateway::nginx_page(page));
        let via = client_at(&client, &gw.url());
        let steps = outbox::drain(&store, &core.key, &via, Backoff::default(), Timestamp::now)
            .await
            .unwrap();
        assert!(
            steps.iter().all(|s| matches!(s, Step::Retry { .. })),
            "{page}: {steps:?}"
        );
        let mut s = store.lock().unwrap();
        let st = outbox::status(&mut s, Quota::from_mb(8)).unwrap();
        assert_eq!((st.pending, st.dead), (20, 0), "{page}: {st:?}");
        assert_eq!(outbox::retry(&mut s, None, Timestamp::now()).unwrap(), 20);
    }
    // An empty 404 too.
    let gw = Gateway::start(|_| gateway::http("404 Not Found", "text/plain", ""));
    let via = client_at(&client, &gw.url());
    outbox::drain(&store, &core.key, &via, Backoff::default(), Timestamp::now)
        .await
        .unwrap();
    {
        let mut s = store.lock().unwrap();
        let st = outbox::status(&mut s, Quota::from_mb(8)).unwrap();
        assert_eq!((st.pending, st.dead), (20, 0), "empty 404: {st:?}");
        outbox::retry(&mut s, None, Timestamp::now()).unwrap();
    }
    // The platform back: everything goes, nobody touched anything but the clock.
    let steps = outbox::drain(
        &store,
        &core.key,
        &client,
        Backoff::default(),
        Timestamp::now,
    )
    .await
    .unwrap();
    assert_eq!(delivered(&steps), ids.len());
    let mut s = store.into_inner().unwrap();
    for id in &ids {
        assert_eq!(
            outbox::case_stub(&mut s, &id.to_string())
                .unwrap()
                .unwrap()
                .status,
            "submitted"
        );
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejections_of_several_items_in_a_row_pause_the_queue_instead_of_dead_lettering_it() {
    let (sim, _dir, mut core, client) = demo_terminal().await;
    let ids = enqueue_n(&mut core, 12);
    // Something answering the contract's own refusal for every item: a misconfigured
    // platform or gateway, not twelve bad cases.
    let gw = Gateway::start(|line| {
        refusing(
            line,
            r#"{"code":"validation_failed","message":"办件内容校验未通过"}"#,
        )
    });
    let via = client_at(&client, &gw.url());
    let store = Mutex::new(core.store);
    let now = Timestamp::now();
    let steps = outbox::drain(&store, &core.key, &via, Backoff::default(), || now)
        .await
        .unwrap();
    let mut s = store.into_inner().unwrap();
    let st = outbox::status(&mut s, Quota::from_mb(8)).unwrap();
    assert_eq!(
        st.dead, 0,
        "the streak's dead letters are put back: {steps:?} {st:?}"
    );
    assert_eq!(st.pending, 12, "{st:?}");
    let paused = st.paused_until_ms.expect("the queue is paused");
    assert!(paused > now.as_millisecond(), "{st:?}");
    assert!(
        st.paused_reason
            .as_deref()
            .is_some_and(|r| r.contains("连续")),
        "{st:?}"
    );
    // While paused nothing is sent.
    let before = gw.requests.load(std::sync::atomic::Ordering::SeqCst);
    let store = Mutex::new(s);
    let more = outbox::drain(&store, &core.key, &via, Backoff::default(), || now)
        .await
        .unwrap();
    assert!(more.is_empty(), "{more:?}");
    assert_eq!(
        before,
        gw.requests.load(std::sync::atomic::Ordering::SeqCst)
    );
    // The alert staff see.
    let snap = {
        let mut s = store.lock().unwrap();
        ykb_terminal::core::health::collect(
            &mut s,
            _dir.path(),
            Quota::from_mb(8),
            Default::default(),
            None,
        )
        .unwrap()
    };
    let alerts = ykb_terminal::core::alerts::alerts(&snap, None, &Default::default());
    assert!(
        alerts
            .iter()
            .any(|a| a.kind == ykb_terminal::core::alerts::AlertKind::DeliveryPaused),
        "{alerts:?}"
    );
    // The platform is healthy again: after the pause everything goes, by itself.
    let later = Timestamp::from_millisecond(paused + 1).unwrap();
    let steps = outbox::drain(&store, &core.key, &client, Backoff::default(), || later)
        .await
        .unwrap();
    assert_eq!(delivered(&steps), ids.len(), "{steps:?}");
    let st = outbox::status(&mut store.lock().unwrap(), Quota::from_mb(8)).unwrap();
    assert_eq!((st.pending, st.dead, st.paused_until_ms), (0, 0, None));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_genuine_rejection_is_still_a_dead_letter() {
    let (sim, _dir, mut core, client) = demo_terminal().await;
    let ids = enqueue_n(&mut core, 3);
    let gw = Gateway::start(|line| {
        refusing(
            line,
            r#"{"code":"idempotency_conflict","message":"同一幂等键的办件内容不同，已拒绝"}"#,
        )
    });
    let via = client_at(&client, &gw.url());
    let store = Mutex::new(core.store);
    // The head is rejected by the platform's own refusal; the others then go out normally.
    let step = outbox::deliver_next(
        &store,
        &core.key,
        &via,
        Backoff::default(),
        Timestamp::now(),
    )
    .await
    .unwrap();
    assert!(matches!(step, Step::DeadLettered { .. }), "{step:?}");
    let steps = outbox::drain(
        &store,
        &core.key,
        &client,
        Backoff::default(),
        Timestamp::now,
    )
    .await
    .unwrap();
    assert_eq!(delivered(&steps), 2);
    let mut s = store.into_inner().unwrap();
    assert_eq!(state_of(&mut s, &ids[0]), "dead");
    assert_eq!(
        outbox::case_stub(&mut s, &ids[0].to_string())
            .unwrap()
            .unwrap()
            .status,
        "rejected"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_drainers_at_once_send_each_case_once() {
    let (sim, dir, mut core, client) = demo_terminal().await;
    let ids = enqueue_n(&mut core, 300);
    let path = dir.path().join(ykb_terminal::core::STORE_FILE);
    let key = Arc::new(core.key);
    let mut runs = Vec::new();
    for _ in 0..3 {
        let c = client_at(&client, &sim.base_url());
        let store = Store::open(&path).unwrap();
        let key = key.clone();
        runs.push(tokio::spawn(async move {
            let store = Mutex::new(store);
            outbox::drain(&store, &key, &c, Backoff::default(), Timestamp::now)
                .await
                .unwrap()
        }));
    }
    let mut retries = Vec::new();
    for r in runs {
        retries.extend(
            r.await
                .unwrap()
                .into_iter()
                .filter(|s| matches!(s, Step::Retry { .. })),
        );
    }
    // A drainer that found the head claimed stops; whatever is left (after a failed attempt)
    // goes on a later pass.
    let store = Mutex::new(core.store);
    let mut now = Timestamp::now();
    loop {
        match outbox::deliver_next(&store, &key, &client, Backoff::default(), now)
            .await
            .unwrap()
        {
            Step::Idle => break,
            Step::Waiting { until_ms } => now = Timestamp::from_millisecond(until_ms).unwrap(),
            s @ Step::Retry { .. } => retries.push(s),
            _ => {}
        }
    }
    let cases = sim.cases();
    assert_eq!(cases.len(), ids.len());
    let posts: u64 = cases.iter().map(|c| c.count).sum();
    assert!(
        posts <= (ids.len() + retries.len()) as u64,
        "{posts} POSTs for {} cases and {} failed attempts: {retries:?}",
        ids.len(),
        retries.len()
    );
    assert!(retries.len() <= 3, "{retries:?}");
    let uploads: u64 = sim.materials().iter().map(|m| m.count).sum();
    assert!(
        uploads <= (ids.len() + retries.len()) as u64,
        "each image uploaded once: {uploads}"
    );
    sim.shutdown().await;
}

#[test]
fn processes_binding_the_key_of_a_fresh_store_together_all_succeed() {
    for round in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let key_path = dir.path().join("data.key");
        let key = Arc::new(ykb_terminal::core::crypto::DataKey::create(&key_path).unwrap());
        let path = dir.path().join("s.db");
        drop(Store::open(&path).unwrap());
        let barrier = Arc::new(std::sync::Barrier::new(6));
        let handles: Vec<_> = (0..6)
            .map(|_| {
                let (key, path, barrier) = (key.clone(), path.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let mut store = Store::open(&path).unwrap();
                    barrier.wait();
                    outbox::bind_key(&mut store, &key).map_err(|e| e.to_string())
                })
            })
            .collect();
        for h in handles {
            let r = h.join().unwrap();
            assert!(r.is_ok(), "round {round}: {r:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_long_retry_after_waits_at_most_fifteen_minutes() {
    let (sim, _dir, mut core, client) = demo_terminal().await;
    let ids = enqueue_n(&mut core, 5);
    sim.set_faults(Faults {
        error_rate: 1.0,
        error_status: 503,
        retry_after_secs: 86_400,
        ..Default::default()
    });
    let store = Mutex::new(core.store);
    let now = Timestamp::now();
    let step = outbox::deliver_next(&store, &core.key, &client, Backoff::default(), now)
        .await
        .unwrap();
    let Step::Retry { next_ms, .. } = step else {
        panic!("{step:?}")
    };
    let wait = next_ms - now.as_millisecond();
    assert!(
        wait >= 599_000,
        "the platform's wish is honoured up to the cap: {wait} ms"
    );
    assert!(wait <= 15 * 60 * 1000, "capped at 15 minutes: {wait} ms");
    // The platform recovers; 15 minutes later the whole queue goes.
    sim.set_faults(Faults::default());
    let later = now + SignedDuration::from_mins(15) + SignedDuration::from_secs(1);
    let steps = outbox::drain(&store, &core.key, &client, Backoff::default(), || later)
        .await
        .unwrap();
    assert_eq!(delivered(&steps), ids.len(), "{steps:?}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_stepped_back_does_not_hold_the_queue() {
    let (sim, _dir, mut core, client) = demo_terminal().await;
    let ids = enqueue_n(&mut core, 3);
    sim.set_faults(Faults {
        error_rate: 1.0,
        error_status: 503,
        retry_after_secs: 600,
        ..Default::default()
    });
    let store = Mutex::new(core.store);
    // The retry time was decided under a clock a year ahead (then NTP corrected it).
    let ahead = Timestamp::now() + SignedDuration::from_hours(24 * 365);
    let step = outbox::deliver_next(&store, &core.key, &client, Backoff::default(), ahead)
        .await
        .unwrap();
    assert!(matches!(step, Step::Retry { .. }), "{step:?}");
    sim.set_faults(Faults::default());
    let steps = outbox::drain(
        &store,
        &core.key,
        &client,
        Backoff::default(),
        Timestamp::now,
    )
    .await
    .unwrap();
    assert_eq!(delivered(&steps), ids.len(), "{steps:?}");
    let _ = Duration::ZERO;
    sim.shutdown().await;
}

/// A catalogue answer that declares 100 kB and sends one byte a second.
fn dripping() -> gateway::Answer {
    gateway::Answer::Drip {
        head: b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nx-ykb-catalog-signature: AAAA\r\n\r\n".to_vec(),
        body: vec![b' '; 100_000],
        every: Duration::from_secs(1),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dripping_catalogue_server_is_cut_off_at_the_whole_request_deadline() {
    let (sim, _dir, _core, client) = demo_terminal().await;
    let gw = Gateway::start(|_| dripping());
    let slow = client_at(&client, &gw.url()).with_catalog_deadline(Duration::from_secs(2));
    let started = std::time::Instant::now();
    let answer = tokio::time::timeout(
        Duration::from_secs(30),
        slow.catalog_snapshot("500103", None),
    )
    .await
    .expect("still hanging after 30 s");
    assert!(
        matches!(
            answer,
            Err(ykb_terminal::core::platform::PlatformError::Timeout)
        ),
        "{answer:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    sim.shutdown().await;
}

#[test]
fn sync_drain_delivers_while_the_catalogue_server_drips() {
    let sim = common::sim::Sim::start();
    let upstream = sim.handle().addr();
    // The platform's port as a gateway sees it: catalogue calls drip, the rest reach the
    // platform.
    let gw = Gateway::start(move |line| {
        if line.contains("/catalog/") {
            dripping()
        } else {
            gateway::Answer::Forward(upstream)
        }
    });
    let fx = common::Fixture::new();
    let ids = fx.submit(2);
    let mut child = std::process::Command::new(common::BIN)
        .arg("--data-dir")
        .arg(fx.dir())
        .args(["sync", "--drain", "--platform", &gw.url()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while sim.handle().cases().len() < ids.len() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let still_running = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        sim.handle().cases().len(),
        ids.len(),
        "the cases went out while the catalogue dripped"
    );
    assert!(still_running, "the catalogue download was still dripping");
}
