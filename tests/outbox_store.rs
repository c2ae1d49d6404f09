//! The outbox's local guarantees on real SQLite files: quota and full-disk refusal that harm
//! nothing queued, and key files that are missing or wrong.

use jiff::Timestamp;
use ykb_terminal::core::config::Profile;
use ykb_terminal::core::outbox::{self, NewCase, OutboxError, Quota};
use ykb_terminal::core::{Core, StartError};

mod common;

fn new_case(core: &Core, image: &[u8]) -> NewCase {
    let mut c = common::new_case(
        core,
        "李喆",
        "50010519881212345",
        "重庆市江北区观音桥街道建新北路9号",
    );
    c.images[0].1 = image.to_vec();
    c
}

fn enqueue(core: &mut Core, quota: Quota) -> Result<outbox::Accepted, OutboxError> {
    let case = new_case(core, common::IMAGE);
    outbox::enqueue_case(&mut core.store, &core.key, quota, case, Timestamp::now())
}

#[test]
fn a_full_quota_refuses_with_a_clear_message_and_keeps_every_queued_case() {
    let dir = tempfile::tempdir().unwrap();
    let mut core = Core::start(Profile::demo(), dir.path()).unwrap();
    let quota = Quota { bytes: 200_000 };
    let mut accepted = Vec::new();
    let err = loop {
        match enqueue(&mut core, quota) {
            Ok(a) => accepted.push(a),
            Err(e) => break e,
        }
        assert!(accepted.len() < 100, "the quota never bit");
    };
    assert!(matches!(err, OutboxError::Full { .. }), "{err:?}");
    assert_eq!(err.to_string(), "本机暂存已满，请到窗口办理");
    let status = outbox::status(&mut core.store, quota).unwrap();
    // Refused exactly when the next case would not fit.
    assert!(status.queued_bytes <= quota.bytes);
    assert!(status.queued_bytes + common::IMAGE.len() as u64 > quota.bytes);
    assert_eq!(status.pending as usize, accepted.len());
    assert!(status.near_full);
    for a in &accepted {
        let c = outbox::load_case(&mut core.store, &core.key, a.id)
            .unwrap()
            .unwrap();
        assert_eq!(c.seq, a.seq);
    }
    // Sequence numbers stay gap-free: the refused case took none.
    let seqs: Vec<u64> = accepted.iter().map(|a| a.seq).collect();
    assert_eq!(seqs, (1..=accepted.len() as u64).collect::<Vec<_>>());
}

#[test]
fn a_full_disk_refuses_cleanly_and_the_store_stays_usable() {
    let dir = tempfile::tempdir().unwrap();
    let mut core = Core::start(Profile::demo(), dir.path()).unwrap();
    let quota = Quota::from_mb(1024);
    let first = enqueue(&mut core, quota).unwrap();
    // The database may grow by only a few more pages: SQLite answers SQLITE_FULL, exactly as
    // on a full disk.
    let pages: i64 = core
        .store
        .conn()
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    core.store
        .conn()
        .query_row(
            &format!("PRAGMA max_page_count = {}", pages + 3),
            [],
            |_| Ok(()),
        )
        .unwrap();
    let err = enqueue(&mut core, quota).unwrap_err();
    // A full disk is said as such, not as a full quota (issue 17).
    assert_eq!(
        err.to_string(),
        "本机存储空间不足，暂时无法受理，请到窗口办理",
        "{err:?}"
    );
    // Nothing half-written: one case, one outbox row, one image.
    let conn = core.store.conn();
    for table in ["cases", "outbox", "case_materials"] {
        let n: i64 = conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1, "{table}");
    }
    assert!(outbox::load_case(&mut core.store, &core.key, first.id)
        .unwrap()
        .is_some());
    // Space comes back: submissions work again.
    core.store
        .conn()
        .query_row("PRAGMA max_page_count = 1073741823", [], |_| Ok(()))
        .unwrap();
    enqueue(&mut core, quota).unwrap();
}

/// A data directory holding one sealed case (the core closed again), and its key file.
fn dir_with_a_sealed_case() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut core = Core::start(Profile::demo(), dir.path()).unwrap();
        enqueue(&mut core, Quota::from_mb(64)).unwrap();
    }
    let key_path = dir.path().join(ykb_terminal::core::crypto::KEY_FILE);
    (dir, key_path)
}

fn db_bytes(dir: &std::path::Path) -> Vec<u8> {
    std::fs::read(dir.join(ykb_terminal::core::STORE_FILE)).unwrap()
}

#[test]
fn a_missing_key_is_a_clear_error_and_never_replaced_while_sealed_data_exists() {
    let (dir, key_path) = dir_with_a_sealed_case();
    let saved = std::fs::read(&key_path).unwrap();
    std::fs::remove_file(&key_path).unwrap();
    let before = db_bytes(dir.path());
    let err = Core::start(Profile::demo(), dir.path()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("密钥文件") && msg.contains("不存在") && msg.contains("未被改动"),
        "{msg}"
    );
    assert!(!key_path.exists(), "no new key was made over sealed data");
    assert_eq!(db_bytes(dir.path()), before);
    // Restoring the right key recovers everything.
    std::fs::write(&key_path, saved).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let mut core = Core::start(Profile::demo(), dir.path()).unwrap();
    let items = outbox::list(&mut core.store, false).unwrap();
    let id = uuid::Uuid::parse_str(&items[0].id).unwrap();
    assert!(outbox::load_case(&mut core.store, &core.key, id)
        .unwrap()
        .is_some());
}

#[test]
fn a_wrong_key_is_refused_before_anything_is_read_or_written() {
    let (dir, key_path) = dir_with_a_sealed_case();
    std::fs::write(&key_path, [7u8; 32]).unwrap();
    let before = db_bytes(dir.path());
    let err = Core::start(Profile::demo(), dir.path()).unwrap_err();
    assert!(matches!(err, StartError::Outbox(_)), "{err:?}");
    assert!(err.to_string().contains("不匹配"), "{err}");
    assert_eq!(db_bytes(dir.path()), before);
}

#[test]
fn an_installed_terminal_without_its_key_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let profile = Profile::load(std::path::Path::new("kiosk-config/kiosk-24h.toml")).unwrap();
    let err = Core::start(profile, dir.path()).unwrap_err();
    assert!(err.to_string().contains("provision"), "{err}");
}

#[test]
fn the_store_file_never_holds_personal_data_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let id = common::id_number("50010519881212345");
    {
        let mut core = Core::start(Profile::demo(), dir.path()).unwrap();
        for _ in 0..5 {
            enqueue(&mut core, Quota::from_mb(64)).unwrap();
        }
        // Look while the process still runs: WAL and main file together.
        for name in std::fs::read_dir(dir.path()).unwrap() {
            let bytes = std::fs::read(name.unwrap().path()).unwrap();
            for needle in [
                id.as_bytes(),
                "李喆".as_bytes(),
                "建新北路".as_bytes(),
                b"13800000000".as_slice(),
            ] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle),
                    "{:?} in clear",
                    String::from_utf8_lossy(needle)
                );
            }
            assert!(
                !bytes.windows(64).any(|w| w == &common::IMAGE[1000..1064]),
                "image in clear"
            );
        }
    }
}

#[test]
fn delivered_stubs_are_kept_for_the_retention_period_then_purged() {
    let dir = tempfile::tempdir().unwrap();
    let mut core = Core::start(Profile::demo(), dir.path()).unwrap();
    let a = enqueue(&mut core, Quota::from_mb(64)).unwrap();
    let b = enqueue(&mut core, Quota::from_mb(64)).unwrap();
    // Mark `a` as delivered 40 days ago (as the worker's wipe leaves it), `b` yesterday.
    let conn = core.store.conn();
    let day = |d: i64| (Timestamp::now() - jiff::SignedDuration::from_hours(24 * d)).to_string();
    for (id, days) in [(a.id, 40), (b.id, 1)] {
        conn.execute_batch(&format!(
            "UPDATE cases SET body = NULL, status = 'submitted', wiped_at = '{}' WHERE id = '{id}';
             DELETE FROM case_materials WHERE case_id = '{id}'; DELETE FROM outbox WHERE id = '{id}';",
            day(days)
        ))
        .unwrap();
    }
    assert_eq!(
        outbox::purge_stubs(&mut core.store, 30, Timestamp::now()).unwrap(),
        1
    );
    assert!(outbox::case_stub(&mut core.store, &a.id.to_string())
        .unwrap()
        .is_none());
    assert!(outbox::case_stub(&mut core.store, &b.id.to_string())
        .unwrap()
        .is_some());
    // A queued case (still holding data) is never purged, however old.
    let c = enqueue(&mut core, Quota::from_mb(64)).unwrap();
    core.store
        .conn()
        .execute(
            "UPDATE cases SET created_at = '2000-01-01T00:00:00Z' WHERE id = ?1",
            [c.id.to_string()],
        )
        .unwrap();
    // `b` (wiped a day ago) goes at a one-day retention; `c` stays.
    assert_eq!(
        outbox::purge_stubs(&mut core.store, 1, Timestamp::now()).unwrap(),
        1
    );
    assert!(outbox::load_case(&mut core.store, &core.key, c.id)
        .unwrap()
        .is_some());
}
