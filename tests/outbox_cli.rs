//! The outbox from the command line, as scripts and technicians use it: the real binary,
//! real files, the demo's in-process platform simulator.

use std::process::Command;

mod common;

fn run(fx: &common::Fixture, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ykb-terminal"))
        .arg("--data-dir")
        .arg(fx.dir())
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn submitted_cases_are_listed_without_personal_data_and_drained_by_sync() {
    let fx = common::Fixture::new();
    let ids = fx.submit(3);
    assert_eq!(ids.len(), 3);
    for id in &ids {
        assert!(
            uuid::Uuid::parse_str(id).unwrap().get_version_num() == 7,
            "UUIDv7: {id}"
        );
    }

    let (code, out, err) = run(&fx, &["queue", "list", "--json"]);
    assert_eq!(code, 0, "{err}");
    let items: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let listed: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(listed, ids.iter().map(String::as_str).collect::<Vec<_>>());
    let (_, status, _) = run(&fx, &["queue", "status"]);
    for text in [&out, &status] {
        assert!(
            !text.contains(&fx.id_number) && !text.contains("王䶮") && !text.contains("民族路"),
            "{text}"
        );
    }
    assert!(status.contains("待提交 3 项"), "{status}");

    let (code, out, err) = run(&fx, &["sync", "--drain"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("已提交 3 项") && out.contains("仍待提交 0 项"),
        "{out}"
    );

    let (code, out, _) = run(&fx, &["case", "show", &ids[0], "--json"]);
    assert_eq!(code, 0);
    let stub: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(stub["status"], "submitted");
    assert!(stub["unified_code"].as_str().is_some_and(|c| !c.is_empty()));
    assert_eq!(stub["holds_personal_data"], false);
    // By local number too.
    let (code, out, _) = run(&fx, &["case", "show", "2"]);
    assert_eq!(code, 0);
    assert!(out.contains(&ids[1]) && out.contains("统一赋码"), "{out}");
}

#[test]
fn retry_of_an_unknown_item_and_a_bad_applicant_file_fail_clearly() {
    let fx = common::Fixture::new();
    let (code, _, err) = run(&fx, &["queue", "retry", "no-such-id"]);
    assert_eq!(code, 1);
    assert!(err.contains("no-such-id"), "{err}");
    let (code, out, _) = run(&fx, &["queue", "retry", "--all"]);
    assert_eq!(code, 0);
    assert!(out.contains("0 项"), "{out}");

    std::fs::write(
        &fx.applicant,
        r#"{"name": "张三", "id_number": "500103195003071235"}"#,
    )
    .unwrap();
    let args = fx.submit_args(1);
    let out = Command::new(env!("CARGO_BIN_EXE_ykb-terminal"))
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("id_number") && err.contains("校验位"), "{err}");
    assert!(out.stdout.is_empty(), "nothing was accepted");

    let out = Command::new(env!("CARGO_BIN_EXE_ykb-terminal"))
        .args([
            "--data-dir",
            &fx.dir().display().to_string(),
            "case",
            "submit",
            "--matter",
            "NO-SUCH-MATTER",
        ])
        .args(["--applicant", &fx.applicant.display().to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("NO-SUCH-MATTER"));
}

#[test]
fn a_small_quota_in_the_profile_refuses_with_the_citizen_message() {
    let fx = common::Fixture::new();
    let profile = fx.dir().join("tiny.toml");
    let demo = std::fs::read_to_string("kiosk-config/demo.toml").unwrap();
    std::fs::write(
        &profile,
        demo.replace("outbox_quota_mb = 256", "outbox_quota_mb = 1"),
    )
    .unwrap();
    let mut args = vec!["--config".to_owned(), profile.display().to_string()];
    args.extend(fx.submit_args(1000));
    let out = Command::new(env!("CARGO_BIN_EXE_ykb-terminal"))
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("本机暂存已满，请到窗口办理"));
    let accepted = String::from_utf8_lossy(&out.stdout).lines().count();
    // 1 MB of ~27 KB cases: some fit, the rest are refused.
    assert!((20..60).contains(&accepted), "{accepted} accepted");
    let (code, out, _) = run(
        &fx,
        &[
            "--config",
            &profile.display().to_string(),
            "queue",
            "status",
            "--json",
        ],
    );
    assert_eq!(code, 0);
    let s: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(s["pending"].as_u64().unwrap() as usize, accepted);
    assert_eq!(s["near_full"], true);
}

#[test]
fn a_damaged_case_is_set_aside_listed_by_queue_quarantine_and_the_rest_delivered() {
    let fx = common::Fixture::new();
    let ids = fx.submit(3);
    let db = common::files_with_extension(fx.dir().to_str().unwrap(), "db")
        .into_iter()
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n == ykb_terminal::core::STORE_FILE)
        })
        .expect("the store");
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        let mut body: Vec<u8> = c
            .query_row("SELECT body FROM cases WHERE id = ?1", [&ids[0]], |r| {
                r.get(0)
            })
            .unwrap();
        body[20] ^= 0x01;
        c.execute(
            "UPDATE cases SET body = ?2 WHERE id = ?1",
            rusqlite::params![ids[0], body],
        )
        .unwrap();
    }
    let (code, out, err) = run(&fx, &["sync", "--drain"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("已提交 2 项") && out.contains("搁置 1 项"),
        "{out}"
    );
    let (code, out, _) = run(&fx, &["queue", "quarantine", "--json"]);
    assert_eq!(code, 0);
    let items: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], ids[0].as_str());
    assert!(
        items[0]["last_error"].as_str().unwrap().contains("损坏"),
        "{out}"
    );
    let (_, status, _) = run(&fx, &["queue", "status"]);
    assert!(status.contains("搁置 1 项"), "{status}");
    assert!(!status.contains(&fx.id_number) && !out.contains(&fx.id_number));
}
