//! The audit log: append-only by trigger, and every edit — update, delete, reorder, cutting
//! the tail — is found by `audit verify`, which names the first broken entry.

mod common;

use std::path::Path;

use rusqlite::Connection;
use ykb_terminal::core::audit::{self, Actor, AuditAction};
use ykb_terminal::core::store::Store;
use ykb_terminal::core::STORE_FILE;

/// A store in `dir` with three entries.
fn log_with_three(dir: &Path) {
    let mut store = Store::open(&dir.join(STORE_FILE)).unwrap();
    let t = Actor::technician("T0042").unwrap();
    audit::append(
        &mut store,
        &t,
        AuditAction::Provisioned,
        "部署：区划 500103",
    )
    .unwrap();
    audit::append(
        &mut store,
        &Actor::system(),
        AuditAction::Selftest,
        "自检：9 项，失败 0 项",
    )
    .unwrap();
    audit::append(
        &mut store,
        &Actor::staff("S7").unwrap(),
        AuditAction::QueueRetry,
        "重试 1 项",
    )
    .unwrap();
}

/// Edits the file as an attacker would: another connection, triggers dropped first.
fn tamper(dir: &Path, sql: &str) {
    let c = Connection::open(dir.join(STORE_FILE)).unwrap();
    c.execute_batch(
        "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;
         DROP TRIGGER audit_head_no_delete;",
    )
    .unwrap();
    c.execute_batch(sql).unwrap();
}

/// A log of three entries, tampered with by `sql`: the entry its verification breaks at.
fn broken_by(sql: &str) -> Option<u64> {
    let dir = tempfile::tempdir().unwrap();
    log_with_three(dir.path());
    tamper(dir.path(), sql);
    let mut store = Store::open(&dir.path().join(STORE_FILE)).unwrap();
    audit::verify(&mut store).unwrap().broken.map(|b| b.seq)
}

#[test]
fn an_untouched_log_verifies() {
    let dir = tempfile::tempdir().unwrap();
    log_with_three(dir.path());
    let mut store = Store::open(&dir.path().join(STORE_FILE)).unwrap();
    let r = audit::verify(&mut store).unwrap();
    assert!(r.is_intact(), "{r:?}");
    assert_eq!(r.entries, 3);
    let entries = audit::list(&mut store).unwrap();
    assert_eq!(entries[0].actor, "technician:T0042");
    assert_eq!(entries[2].prev_hash, entries[1].hash);
    assert_eq!(r.head, entries[2].hash);
}

#[test]
fn the_store_refuses_updates_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    log_with_three(dir.path());
    let mut store = Store::open(&dir.path().join(STORE_FILE)).unwrap();
    let e = store
        .conn()
        .execute("UPDATE audit_log SET detail = 'x' WHERE seq = 1", [])
        .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
    let e = store
        .conn()
        .execute("DELETE FROM audit_log", [])
        .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
}

#[test]
fn an_updated_row_breaks_the_chain_at_that_row() {
    assert_eq!(
        broken_by("UPDATE audit_log SET detail = '自检：9 项，失败 3 项' WHERE seq = 2"),
        Some(2)
    );
}

#[test]
fn an_updated_actor_or_time_is_found_too() {
    for sql in [
        "UPDATE audit_log SET actor = 'technician:T9999' WHERE seq = 1",
        "UPDATE audit_log SET at = '2020-01-01T00:00:00Z' WHERE seq = 3",
    ] {
        assert!(broken_by(sql).is_some(), "{sql}");
    }
}

#[test]
fn a_deleted_middle_row_is_named() {
    assert_eq!(broken_by("DELETE FROM audit_log WHERE seq = 2"), Some(2));
}

#[test]
fn a_deleted_last_row_is_found_by_the_head() {
    assert_eq!(broken_by("DELETE FROM audit_log WHERE seq = 3"), Some(3));
}

#[test]
fn a_rewritten_chain_without_renumbering_is_found() {
    // Delete entry 2 and renumber entry 3 as 2: the sequence is contiguous again, but entry
    // "2" does not follow entry 1's hash.
    assert_eq!(
        broken_by(
            "DELETE FROM audit_log WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3;
         UPDATE audit_head SET seq = 2;"
        ),
        Some(2)
    );
}

#[test]
fn reordered_rows_are_found() {
    // Reinsert the rows in the order 1, 3, 2 (row order is what the log is read in).
    assert_eq!(
        broken_by(
            "CREATE TEMP TABLE t AS SELECT * FROM audit_log;
         DELETE FROM audit_log;
         INSERT INTO audit_log SELECT * FROM t WHERE seq = 1;
         INSERT INTO audit_log SELECT * FROM t WHERE seq = 3;
         INSERT INTO audit_log SELECT * FROM t WHERE seq = 2;"
        ),
        Some(2)
    );
    // Swapping the contents while keeping the numbers is found as well.
    assert_eq!(
        broken_by(
            "CREATE TEMP TABLE t AS SELECT * FROM audit_log;
         UPDATE audit_log SET at = (SELECT at FROM t WHERE seq = 3),
             actor = (SELECT actor FROM t WHERE seq = 3), action = (SELECT action FROM t WHERE seq = 3),
             detail = (SELECT detail FROM t WHERE seq = 3), hash = (SELECT hash FROM t WHERE seq = 3)
           WHERE seq = 2;"
        ),
        Some(2)
    );
}

#[test]
fn personal_data_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join(STORE_FILE)).unwrap();
    let e = audit::append(
        &mut store,
        &Actor::system(),
        AuditAction::Selftest,
        "读卡 500103199003070017",
    )
    .unwrap_err();
    assert!(e.to_string().contains("个人信息"), "{e}");
    assert!(Actor::technician("王䶮").is_err());
    assert!(audit::list(&mut store).unwrap().is_empty());
}

#[test]
fn audit_verify_through_the_binary_names_the_first_broken_entry() {
    let dir = tempfile::tempdir().unwrap();
    log_with_three(dir.path());
    let ok = common::run_in(dir.path(), &["audit", "verify"]);
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success(), "{out}");
    assert!(out.contains("共 3 条"), "{out}");

    let list = common::run_in(dir.path(), &["audit", "list", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 3);
    assert_eq!(v[0]["action"], "provisioned");

    tamper(
        dir.path(),
        "UPDATE audit_log SET actor = 'technician:T1' WHERE seq = 2",
    );
    let bad = common::run_in(dir.path(), &["audit", "verify"]);
    let out = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{out}");
    assert!(out.contains("第 2 条"), "{out}");
    let json = common::run_in(dir.path(), &["audit", "verify", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["broken"]["seq"], 2);
}

/// Rewrites the whole log as an attacker with the file would: the second entry deleted, the
/// later ones renumbered, every hash and the head recomputed.
fn rewrite_without_second(dir: &Path) {
    let mut store = Store::open(&dir.join(STORE_FILE)).unwrap();
    let mut entries = audit::list(&mut store).unwrap();
    drop(store);
    entries.remove(1);
    let mut prev = audit::GENESIS_HASH.to_owned();
    let mut sql = String::from("DELETE FROM audit_log; DELETE FROM audit_head;");
    for (i, e) in entries.iter().enumerate() {
        let seq = i as u64 + 1;
        let hash = audit::entry_hash(&prev, seq, &e.at, &e.actor, &e.action, &e.detail);
        sql.push_str(&format!(
            "INSERT INTO audit_log (seq, at, actor, action, detail, prev_hash, hash)
             VALUES ({seq}, '{}', '{}', '{}', '{}', '{prev}', '{hash}');",
            e.at, e.actor, e.action, e.detail
        ));
        prev = hash;
    }
    sql.push_str(&format!(
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, {}, '{prev}');",
        entries.len()
    ));
    tamper(dir, &sql);
}

#[test]
fn a_chain_rewritten_with_recomputed_hashes_is_found_against_the_platform() {
    use std::process::Command;
    use ykb_terminal::core::config::DEMO_PROFILE;
    use ykb_terminal::core::platform::wire;
    let sim = common::sim::Sim::start();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ykb_terminal::core::crypto::DataKey::create(&data.join("data.key")).unwrap();
    std::fs::write(
        data.join("platform-catalog.pub"),
        hex::encode(wire::demo_verifying_key().as_bytes()),
    )
    .unwrap();
    let text = DEMO_PROFILE
        .replace("mode = \"simulator\"", "mode = \"remote\"")
        .replace("base_url = \"\"", &format!("base_url = \"{}\"", sim.url()))
        .replace(
            "metrics_listen = \"127.0.0.1:9464\"",
            "metrics_listen = \"\"",
        );
    let profile = data.join("terminal.toml");
    std::fs::write(&profile, text).unwrap();
    let bin = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ykb-terminal"))
            .arg("--config")
            .arg(&profile)
            .arg("--data-dir")
            .arg(data)
            .args(args)
            .output()
            .unwrap()
    };
    let out = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    let sync = bin(&["sync", "--enrolment-code", "YKB-DEMO-ENROL"]);
    assert!(sync.status.success(), "{}", out(&sync));
    log_with_three(data);
    let (device, head) = {
        let mut store = Store::open(&data.join(STORE_FILE)).unwrap();
        let device = ykb_terminal::core::credentials::stored_device_id(&mut store)
            .unwrap()
            .unwrap();
        (device, audit::head(store.conn()).unwrap().unwrap())
    };

    // A heartbeat carries the head; the platform keeps it.
    let beat = bin(&["agent", "--beats", "1"]);
    assert!(beat.status.success(), "{}", out(&beat));
    let anchors = sim.handle().audit_anchors(&device);
    assert_eq!(
        anchors
            .iter()
            .map(|a| (a.seq, a.hash.clone()))
            .collect::<Vec<_>>(),
        vec![head.clone()]
    );
    let ok = bin(&["audit", "verify", "--against-platform"]);
    assert!(ok.status.success(), "{}", out(&ok));
    assert!(out(&ok).contains("一致"), "{}", out(&ok));

    rewrite_without_second(data);
    // The local check alone is fooled …
    let local = bin(&["audit", "verify"]);
    assert!(local.status.success(), "{}", out(&local));
    assert!(out(&local).contains("完好"), "{}", out(&local));
    // … the platform's anchor is not, and the sequence is named.
    let against = bin(&["audit", "verify", "--against-platform"]);
    assert_eq!(against.status.code(), Some(1), "{}", out(&against));
    let said = out(&against);
    assert!(said.contains("改写"), "{said}");
    assert!(said.contains(&format!("第 {} 条", head.0)), "{said}");
    let json = bin(&["audit", "verify", "--against-platform", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["local"]["broken"], serde_json::Value::Null, "{v:#}");
    assert_eq!(v["platform"]["rewritten"]["seq"], head.0, "{v:#}");
}
