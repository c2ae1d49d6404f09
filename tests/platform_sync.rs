//! Catalogue sync against the platform simulator over real HTTP on loopback, into real SQLite
//! files: full and delta sync, tampered signature, truncated body, outage and resume,
//! expired cursors, size caps and district overrides.

use std::time::Duration;

use ykb_terminal::core::domain::RegionCode;
use ykb_terminal::core::platform::wire::{self, RegisterRequest};
use ykb_terminal::core::platform::{ClientConfig, PlatformClient, PlatformError};
use ykb_terminal::core::search::{self, Filters};
use ykb_terminal::core::store::Store;
use ykb_terminal::core::sync::{self, SyncError, SyncKind, SyncProgress, DEMO_ENROLMENT_CODE};
use ykb_terminal::sim::platform::{self as sim, ChangeRequest, Faults, SimHandle, SimOptions};

async fn start_sim(options: SimOptions) -> SimHandle {
    sim::start("127.0.0.1:0".parse().unwrap(), options)
        .await
        .unwrap()
}

fn config(h: &SimHandle) -> ClientConfig {
    ClientConfig {
        base_url: h.base_url(),
        ca_file: None,
        proxy: None,
        timeout: Duration::from_secs(5),
        catalog_key: wire::demo_verifying_key(),
        max_catalog_bytes: 64 * 1024 * 1024,
    }
}

async fn registered(h: &SimHandle, region: &str) -> PlatformClient {
    register(config(h), region, "测试终端").await
}

/// A kiosk client with `cfg`, registered in `region` as `name`.
async fn register(cfg: ClientConfig, region: &str, name: &str) -> PlatformClient {
    let c = PlatformClient::new(cfg).unwrap();
    c.register(&RegisterRequest {
        enrolment_code: DEMO_ENROLMENT_CODE.into(),
        region_code: region.into(),
        terminal_kind: "kiosk".into(),
        name: name.into(),
    })
    .await
    .unwrap();
    c
}

/// An empty store in a fresh directory.
fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("t.db")).unwrap();
    (dir, store)
}

/// A terminal in 500103 registered at `h`, and its store after a first sync.
async fn synced(h: &SimHandle) -> (PlatformClient, tempfile::TempDir, Store) {
    let c = registered(h, "500103").await;
    let (dir, mut store) = temp_store();
    sync::sync_once(&c, &mut store, region("500103"), false, &quiet)
        .await
        .unwrap();
    (c, dir, store)
}

fn region(code: &str) -> RegionCode {
    RegionCode::new(code).unwrap()
}

fn quiet(_: SyncProgress) {}

fn matter_count(store: &mut Store) -> i64 {
    store
        .conn()
        .query_row("SELECT count(*) FROM matters", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn full_then_delta_sync_applies_changes_and_moves_the_cursor() {
    let h = start_sim(SimOptions::default()).await;
    let c = registered(&h, "500103").await;
    let (_dir, mut store) = temp_store();
    let seen = std::sync::Mutex::new(Vec::new());
    let progress = |p: SyncProgress| seen.lock().unwrap().push(p);
    let r = sync::sync_once(&c, &mut store, region("500103"), false, &progress)
        .await
        .unwrap();
    assert_eq!(r.kind, SyncKind::Full);
    assert_eq!(r.matters_written, 72);
    assert_eq!(matter_count(&mut store), 72);
    // The snapshot was staged unsynced; the store's own settings are back after it.
    let pragma = |store: &mut Store, name: &str| -> i64 {
        store
            .conn()
            .query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
            .unwrap()
    };
    let (_d, mut fresh) = temp_store();
    for name in [
        "synchronous",
        "wal_autocheckpoint",
        "cache_size",
        "secure_delete",
    ] {
        assert_eq!(pragma(&mut store, name), pragma(&mut fresh, name), "{name}");
    }
    let last_apply = seen
        .lock()
        .unwrap()
        .iter()
        .rfind(|p| p.phase == sync::SyncPhase::Applying)
        .copied()
        .unwrap();
    assert_eq!(last_apply.done, last_apply.total, "progress reaches total");

    let v = h.change_catalog(&ChangeRequest {
        modify: 3,
        add: 2,
        remove: 1,
        district_region: Some("500103".into()),
        district: 2,
    });
    let r = sync::sync_once(&c, &mut store, region("500103"), false, &quiet)
        .await
        .unwrap();
    assert_eq!(r.kind, SyncKind::Delta);
    assert_eq!(r.version, v);
    assert_eq!(r.cursor, format!("v{v}"));
    assert_eq!(r.matters_written, 3 + 2);
    assert_eq!(r.matters_removed, 1);
    assert_eq!(matter_count(&mut store), 72 + 2 - 1);
    assert_eq!(store.catalog_version().unwrap(), Some(v));
    let catalog = store.load_catalog().unwrap().unwrap();
    catalog.check().unwrap();
    let modified = &catalog.matters[0];
    assert!(
        modified
            .acceptance_conditions
            .iter()
            .any(|c| c.contains(&format!("第 {v} 版"))),
        "{:?}",
        modified.acceptance_conditions
    );
    // The search index moved with the catalogue in the same transaction.
    let hits = search::search(store.conn(), "新增第", &Filters::default(), 10).unwrap();
    assert_eq!(hits.len(), 2, "{hits:?}");

    // Nothing new: an empty delta that still succeeds.
    let r = sync::sync_once(&c, &mut store, region("500103"), false, &quiet)
        .await
        .unwrap();
    assert_eq!((r.kind, r.matters_written), (SyncKind::Delta, 0));
    let status = sync::status(&mut store).unwrap();
    assert_eq!(status.version, Some(v));
    assert!(status.synced_at.is_some() && status.last_error.is_none());
}

/// Syncs once, then breaks the next sync with `faults`; checks the old catalogue stays.
async fn failing_sync_keeps_catalogue(faults: Faults) -> SyncError {
    let h = start_sim(SimOptions::default()).await;
    let (c, _dir, mut store) = synced(&h).await;
    let before = store.load_catalog().unwrap().unwrap();
    h.change_catalog(&ChangeRequest {
        modify: 5,
        remove: 2,
        ..Default::default()
    });
    h.set_faults(faults);
    let full = sync::sync_once(&c, &mut store, region("500103"), true, &quiet).await;
    let delta = sync::sync_once(&c, &mut store, region("500103"), false, &quiet).await;
    let err = delta.unwrap_err();
    assert!(full.is_err());
    assert_eq!(store.load_catalog().unwrap().unwrap(), before);
    assert_eq!(
        search::search(store.conn(), "sfz", &Filters::default(), 1).unwrap()[0].name,
        "居民身份证换领",
        "search still works on the previous catalogue"
    );
    let status = sync::status(&mut store).unwrap();
    assert!(status.last_error.is_some());
    assert_eq!(status.cursor.as_deref(), Some("v1"));
    // Once the fault clears, the same terminal resumes from its cursor.
    h.set_faults(Faults::default());
    let r = sync::sync_once(&c, &mut store, region("500103"), false, &quiet)
        .await
        .unwrap();
    assert_eq!(r.kind, SyncKind::Delta);
    assert_eq!(matter_count(&mut store), 70);
    assert!(sync::status(&mut store).unwrap().last_error.is_none());
    err
}

#[tokio::test]
async fn tampered_signature_is_refused_and_the_previous_catalogue_stays() {
    let err = failing_sync_keeps_catalogue(Faults {
        bad_signature: true,
        ..Default::default()
    })
    .await;
    assert!(
        matches!(&err, SyncError::Platform(PlatformError::Protocol(m)) if m.contains("签名")),
        "{err}"
    );
}

#[tokio::test]
async fn truncated_body_is_refused_and_the_previous_catalogue_stays() {
    let err = failing_sync_keeps_catalogue(Faults {
        truncate_rate: 1.0,
        ..Default::default()
    })
    .await;
    assert!(
        matches!(err, SyncError::Platform(PlatformError::Server { .. })),
        "{err}"
    );
}

#[tokio::test]
async fn outage_leaves_the_catalogue_and_sync_resumes_afterwards() {
    let err = failing_sync_keeps_catalogue(Faults {
        outage: true,
        retry_after_secs: 30,
        ..Default::default()
    })
    .await;
    assert!(
        matches!(
            err,
            SyncError::Platform(PlatformError::Server {
                status: 503,
                retry_after: Some(d)
            }) if d == Duration::from_secs(30)
        ),
        "{err}"
    );
}

#[tokio::test]
async fn expired_cursor_falls_back_to_a_full_snapshot() {
    let h = start_sim(SimOptions::default()).await;
    let (c, _dir, mut store) = synced(&h).await;
    h.change_catalog(&ChangeRequest {
        add: 1,
        ..Default::default()
    });
    h.compact();
    h.change_catalog(&ChangeRequest {
        add: 1,
        ..Default::default()
    });
    let r = sync::sync_once(&c, &mut store, region("500103"), false, &quiet)
        .await
        .unwrap();
    assert_eq!(r.kind, SyncKind::Full);
    assert_eq!(matter_count(&mut store), 74);
}

#[tokio::test]
async fn catalogue_over_the_size_cap_is_refused_before_it_is_read() {
    let h = start_sim(SimOptions::default()).await;
    let mut cfg = config(&h);
    cfg.max_catalog_bytes = 10_000;
    let c = register(cfg, "500103", "t").await;
    let (_dir, mut store) = temp_store();
    let err = sync::sync_once(&c, &mut store, region("500103"), false, &quiet)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SyncError::Platform(PlatformError::Protocol(m)) if m.contains("上限")),
        "{err}"
    );
    assert_eq!(store.catalog_version().unwrap(), None);
}

#[tokio::test]
async fn district_overrides_apply_to_the_device_region_only() {
    let h = start_sim(SimOptions::default()).await;
    let code = "11500103MB1234567X4000101001000";
    let mut locals = Vec::new();
    for r in ["500103", "500105", "500104"] {
        let c = registered(&h, r).await;
        let (_dir, mut store) = temp_store();
        sync::sync_once(&c, &mut store, region(r), false, &quiet)
            .await
            .unwrap();
        locals.push(store.matter(code).unwrap().unwrap().local);
        if r == "500103" {
            // A delta changing only 渝中区's values reaches the matter without re-sending it.
            h.change_catalog(&ChangeRequest {
                district_region: Some("500103".into()),
                district: 1,
                ..Default::default()
            });
            let rep = sync::sync_once(&c, &mut store, region(r), false, &quiet)
                .await
                .unwrap();
            assert_eq!(rep.matters_written, 0);
            let m = store.matter(code).unwrap().unwrap();
            assert!(m.local.hours.contains("版调整"), "{:?}", m.local);
            assert!(m.local.address.contains("渝中区"), "{:?}", m.local);
        }
    }
    assert_eq!(locals[0].address, "渝中区政务服务中心一楼公安窗口");
    assert!(locals[1].address.starts_with("江北区"), "{:?}", locals[1]);
    // 大渡口区 publishes no values of its own: the city-wide ones apply.
    assert!(locals[2].address.starts_with("各区县"), "{:?}", locals[2]);
    assert_eq!(locals[2].phone, "12345");
}

#[tokio::test]
async fn unregistered_or_unknown_enrolment_is_refused_with_a_reason() {
    let h = start_sim(SimOptions::default()).await;
    let c = PlatformClient::new(config(&h)).unwrap();
    let err = c
        .register(&RegisterRequest {
            enrolment_code: "WRONG".into(),
            region_code: "500103".into(),
            terminal_kind: "kiosk".into(),
            name: "t".into(),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PlatformError::Rejected { status: 403, reason } if reason.contains("注册码")),
        "{err}"
    );
    let err = c.catalog_snapshot("500103", None).await.unwrap_err();
    assert!(
        matches!(err, PlatformError::Rejected { status: 401, .. }),
        "{err}"
    );
}

#[test]
fn demo_profile_starts_its_simulator_and_syncs_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let profile = ykb_terminal::core::config::Profile::demo();
    let mut core = ykb_terminal::core::Core::start(profile, dir.path()).unwrap();
    let platform =
        ykb_terminal::terminal::link::PlatformLink::start_demo(&mut core).expect("demo platform");
    assert!(platform.base_url().starts_with("http://127.0.0.1:"));
    assert!(platform.sim().is_some());
    let status = sync::status(&mut core.store).unwrap();
    assert_eq!(status.cursor.as_deref(), Some("v1"));
    assert!(status.synced_at.is_some());
    assert_eq!(core.catalog.matters.len(), 72);
    // The synced catalogue carries the simulator's 渝中区 values and popularity ranking.
    assert_eq!(
        core.catalog.matters[0].local.address,
        "渝中区政务服务中心一楼公安窗口"
    );
    let hits = search::search(core.store.conn(), "sfz", &Filters::default(), 3).unwrap();
    assert!(
        hits[0].name.contains("身份证") && hits[0].popularity > 0,
        "{hits:?}"
    );
    drop(platform);
}

/// A large snapshot goes in while another connection commits cases and a third reads: cases
/// commit *during* the apply (between 10 % and 90 % of its progress — with one big transaction
/// none could), none fails, and every read sees the old catalogue or the new one, whole.
#[test]
fn cases_commit_while_a_large_snapshot_goes_in_and_readers_never_see_half_a_catalogue() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;
    use ykb_terminal::core::crypto::DataKey;
    use ykb_terminal::core::domain::{Applicant, IdNumber, Person};
    use ykb_terminal::core::outbox::{self, NewCase, Quota};

    const N: usize = 3000;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let h = rt.block_on(start_sim(SimOptions {
        matters: Some(N),
        seed: 7,
        ..Default::default()
    }));
    // Generous timeouts: a debug build generates and verifies the large catalogue slowly.
    let c = rt.block_on(register(
        ClientConfig {
            timeout: Duration::from_secs(120),
            ..config(&h)
        },
        "500103",
        "测试终端",
    ));
    let (dir, mut store) = temp_store();
    rt.block_on(sync::sync_once(
        &c,
        &mut store,
        region("500103"),
        false,
        &quiet,
    ))
    .unwrap();
    let old_version = store.catalog_version().unwrap().unwrap();
    assert_eq!(matter_count(&mut store), N as i64);
    h.change_catalog(&ChangeRequest {
        add: 150,
        modify: 10,
        ..Default::default()
    });
    let fetched = rt
        .block_on(sync::fetch(&c, region("500103"), None, true, &quiet))
        .unwrap();
    let new_version = match &fetched {
        sync::Fetched::Snapshot(s) => s.catalog.version,
        sync::Fetched::Delta(_) => panic!("asked for a snapshot"),
    };
    let new_count = (N + 150) as i64;
    let db = store.path().to_owned();

    let key = DataKey::create(&dir.path().join("data.key")).unwrap();
    outbox::bind_key(&mut store, &key).unwrap();
    let matter = store
        .conn()
        .query_row("SELECT task_code FROM matters LIMIT 1", [], |r| {
            r.get::<_, String>(0)
        })
        .unwrap();
    let case = NewCase {
        matters: vec![ykb_terminal::core::domain::Code::new(matter).unwrap()],
        bundle: None,
        catalog_version: old_version,
        applicant: Applicant::Person {
            person: Person {
                name: "王䶮".into(),
                id_number: IdNumber::complete("50010319500307123").unwrap(),
                address: "重庆市渝中区解放碑街道民族路188号".into(),
            },
        },
        agent: None,
        delivery: None,
        answers: Default::default(),
        materials: Vec::new(),
        form: Default::default(),
        images: Vec::new(),
    };

    // Progress of the apply in per mille (0 until it starts applying, 1000 when done).
    let progress = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (progress, done, db, case) = (progress.clone(), done.clone(), db.clone(), case);
        std::thread::spawn(move || {
            let mut store = Store::open(&db).unwrap();
            let (mut during, mut failed) = (0, Vec::new());
            while !done.load(Ordering::SeqCst) {
                let before = progress.load(Ordering::SeqCst);
                let r = outbox::enqueue_case(
                    &mut store,
                    &key,
                    Quota::from_mb(1024),
                    case.clone(),
                    jiff::Timestamp::now(),
                );
                let after = progress.load(Ordering::SeqCst);
                match r {
                    Ok(_) if before >= 100 && after <= 900 => during += 1,
                    Ok(_) => {}
                    Err(e) => failed.push(e.to_string()),
                }
                // A kiosk commits a case now and then, not back to back: without a pause this
                // thread retakes the write lock at once and starves the swap's busy wait.
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            (during, failed)
        })
    };
    let reader = {
        let (done, db) = (done.clone(), db.clone());
        std::thread::spawn(move || {
            let mut store = Store::open(&db).unwrap();
            let mut seen = std::collections::BTreeSet::new();
            while !done.load(Ordering::SeqCst) {
                let tx = store.conn().transaction().unwrap();
                let version: i64 = tx
                    .query_row("SELECT version FROM catalog_meta", [], |r| r.get(0))
                    .unwrap();
                let matters: i64 = tx
                    .query_row("SELECT count(*) FROM matters", [], |r| r.get(0))
                    .unwrap();
                let docs: i64 = tx
                    .query_row("SELECT count(*) FROM search_docs", [], |r| r.get(0))
                    .unwrap();
                let indexed: i64 = tx
                    .query_row("SELECT catalog_version FROM search_meta", [], |r| r.get(0))
                    .unwrap();
                drop(tx);
                let expected = if version as u64 == new_version {
                    new_count
                } else {
                    assert_eq!(version as u64, old_version);
                    N as i64
                };
                assert_eq!(
                    (matters, docs, indexed),
                    (expected, expected, version),
                    "half a catalogue seen at version {version}"
                );
                seen.insert(version as u64);
            }
            seen
        })
    };
    let p = progress.clone();
    let report = sync::apply(
        &mut store,
        region("500103"),
        fetched,
        &move |s: SyncProgress| {
            if let Some(per_mille) = (s.done * 1000).checked_div(s.total) {
                p.store(per_mille, Ordering::SeqCst);
            }
        },
    )
    .unwrap();
    done.store(true, Ordering::SeqCst);
    let (during, failed) = writer.join().unwrap();
    let seen = reader.join().unwrap();
    assert_eq!(report.matters_written, N + 150);
    assert_eq!(matter_count(&mut store), new_count);
    assert_eq!(store.catalog_version().unwrap(), Some(new_version));
    assert!(failed.is_empty(), "case commits failed: {failed:?}");
    assert!(
        during >= 3,
        "only {during} cases committed while the snapshot was being applied"
    );
    assert!(seen.contains(&new_version), "{seen:?}");
    // Nothing staged or retired is left behind.
    let leftovers: i64 = store
        .conn()
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name LIKE 'stage\\_%' ESCAPE '\\'
             OR name LIKE 'retired\\_%' ESCAPE '\\'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(leftovers, 0);
    // The retired catalogue's pages were freed without zeroing (public data); the store's
    // secure_delete is on again for everything else.
    let secure: i64 = store
        .conn()
        .query_row("PRAGMA secure_delete", [], |r| r.get(0))
        .unwrap();
    assert_eq!(secure, 1);
    // The report names the longest hold of the write lock, a step of the staged apply.
    assert!(
        report.longest_write_ms <= report.elapsed_ms
            && [
                "create stage",
                "stage matters",
                "stage search index",
                "stage bundles",
                "swap",
                "retire rows",
                "retire drop",
            ]
            .contains(&report.longest_write_step),
        "{report:?}"
    );
    rt.block_on(h.shutdown());
}

/// The same catalogue version with other content is refused (issue 17): a snapshot through
/// the staged apply and through the one-transaction apply, and a delta with changes but no
/// new version; the catalogue held stays, and the same content again is taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_equal_version_with_other_content_is_refused_and_the_same_content_is_taken() {
    let h = start_sim(SimOptions::default()).await;
    let (c, _dir, mut store) = synced(&h).await;
    let held = store.catalog_version().unwrap().unwrap();
    let fetched = sync::fetch(&c, region("500103"), None, true, &quiet)
        .await
        .unwrap();
    let sync::Fetched::Snapshot(snap) = &fetched else {
        panic!("asked for a snapshot")
    };
    assert_eq!(snap.catalog.version, held, "nothing was published since");
    let name_of_first = |store: &mut Store| -> String {
        store
            .conn()
            .query_row(
                "SELECT name FROM matters ORDER BY position LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    let before = name_of_first(&mut store);

    // The same version again, same content: taken (a forced full sync).
    sync::apply(&mut store, region("500103"), fetched.clone(), &quiet).unwrap();
    sync::apply_in_one_transaction(&mut store, region("500103"), fetched.clone(), &quiet).unwrap();

    // Same version, one matter renamed: refused by both ways of applying a snapshot.
    let mut other = snap.clone();
    other.catalog.matters[0].name = "被改动的事项名称".into();
    let other = sync::Fetched::Snapshot(other);
    type Apply = fn(
        &mut Store,
        RegionCode,
        sync::Fetched,
        sync::ProgressFn<'_>,
    ) -> Result<sync::SyncReport, SyncError>;
    let ways: [Apply; 2] = [sync::apply, sync::apply_in_one_transaction];
    for apply in ways {
        let e = apply(&mut store, region("500103"), other.clone(), &quiet).unwrap_err();
        assert!(matches!(e, SyncError::Invalid(_)), "{e:?}");
        let text = e.to_string();
        assert!(
            text.contains(&format!("版本 {held} 与本机版本相同")) && text.contains("已拒绝"),
            "{text}"
        );
        assert_eq!(
            name_of_first(&mut store),
            before,
            "the catalogue held stays"
        );
        assert_eq!(store.catalog_version().unwrap(), Some(held));
    }
    let leftovers: i64 = store
        .conn()
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name LIKE 'stage_%' OR name LIKE 'held_%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(leftovers, 0, "nothing staged is left behind");

    // A delta that changes a matter without a new version: refused; an empty one is taken.
    let cursor = sync::status(&mut store).unwrap().cursor.unwrap();
    let mut delta = wire::CatalogDelta {
        format: wire::CATALOG_FORMAT,
        from_cursor: cursor.clone(),
        cursor: cursor.clone(),
        version: held,
        published_at: "2026-12-02T00:00:00Z".into(),
        upserts: Vec::new(),
        removals: Vec::new(),
        bundle_upserts: Vec::new(),
        bundle_removals: Vec::new(),
        district_upserts: Vec::new(),
        district_removals: Vec::new(),
    };
    sync::apply(
        &mut store,
        region("500103"),
        sync::Fetched::Delta(Box::new(delta.clone())),
        &quiet,
    )
    .unwrap();
    let code: String = store
        .conn()
        .query_row("SELECT task_code FROM matters LIMIT 1", [], |r| r.get(0))
        .unwrap();
    delta.removals.push(code);
    let e = sync::apply(
        &mut store,
        region("500103"),
        sync::Fetched::Delta(Box::new(delta)),
        &quiet,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("与本机版本相同却带有 1 项改动"),
        "{e}"
    );
    assert_eq!(matter_count(&mut store), 72, "nothing was removed");
}
