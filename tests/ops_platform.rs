//! A terminal and the platform simulator over loopback, through the real binary: the
//! self-test report reaches the platform (or says it did not), the agent's heartbeat carries
//! every device's state and paper level from the emulators, a revoked credential is explained
//! and replaced by `reregister` in one audited step, and the device secret never lies in the
//! database file in the clear.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use common::sim::Sim;
use serde_json::Value;
use ykb_drivers::sim::{PrinterSim, PrinterSimConfig};
use ykb_terminal::core::config::DEMO_PROFILE;
use ykb_terminal::core::platform::wire;
use ykb_terminal::core::store::Store;
use ykb_terminal::sim::platform::{Faults, RevokeReason};

/// A terminal on the demo profile's simulated devices, but talking to `sim` as a remote
/// platform, with its data key and catalogue key in place and registered by `sync`.
struct Terminal {
    dir: tempfile::TempDir,
}

impl Terminal {
    fn new(sim: &Sim, devices: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        ykb_terminal::core::crypto::DataKey::create(&data.join("data.key")).unwrap();
        std::fs::write(
            data.join("platform-catalog.pub"),
            hex::encode(wire::demo_verifying_key().as_bytes()),
        )
        .unwrap();
        let mut text = DEMO_PROFILE
            .replace("mode = \"simulator\"", "mode = \"remote\"")
            .replace("base_url = \"\"", &format!("base_url = \"{}\"", sim.url()))
            .replace(
                "metrics_listen = \"127.0.0.1:9464\"",
                "metrics_listen = \"\"",
            );
        for (slot, body) in devices {
            let from = format!("[devices.{slot}]\ndriver = \"simulated\"\n");
            assert!(text.contains(&from), "demo profile changed: {slot}");
            text = text.replace(&from, &format!("[devices.{slot}]\n{body}\n"));
        }
        assert!(text.contains("mode = \"remote\""));
        std::fs::write(dir.path().join("terminal.toml"), text).unwrap();
        let t = Self { dir };
        let out = t.run(&["sync", "--enrolment-code", "YKB-DEMO-ENROL"]);
        assert!(out.status.success(), "{}", text_of(&out));
        t
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_ykb-terminal"))
            .arg("--config")
            .arg(self.dir.path().join("terminal.toml"))
            .arg("--data-dir")
            .arg(self.data())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn device_id(&self) -> String {
        let mut store = Store::open(&self.data().join("ykb-terminal.db")).unwrap();
        ykb_terminal::core::credentials::stored_device_id(&mut store)
            .unwrap()
            .unwrap()
    }

    /// The bytes of the store and its WAL, as a thief copying the files would get them.
    fn store_bytes(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for suffix in ["", "-wal", "-shm"] {
            let p = format!("{}{suffix}", self.data().join("ykb-terminal.db").display());
            all.extend(std::fs::read(p).unwrap_or_default());
        }
        all
    }
}

fn text_of(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text_of(o)))
}

/// Whether any form of `secret` (raw, hex, base64) occurs in `bytes`.
fn holds_secret(bytes: &[u8], secret: &[u8]) -> bool {
    use base64::Engine;
    let forms = [
        secret.to_vec(),
        hex::encode(secret).into_bytes(),
        base64::engine::general_purpose::STANDARD
            .encode(secret)
            .into_bytes(),
    ];
    forms
        .iter()
        .any(|f| bytes.windows(f.len()).any(|w| w == f.as_slice()))
}

#[test]
fn the_selftest_report_reaches_the_platform_or_says_it_did_not() {
    let sim = Sim::start();
    let t = Terminal::new(&sim, &[]);
    let out = t.run(&["selftest", "--json", "--no-print", "--card-timeout", "5"]);
    let r = json(&out);
    assert!(out.status.success(), "{r:#}");
    assert_eq!(r["delivery"]["sent"], true, "{r:#}");
    let got = sim.handle().selftests();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].device_id, t.device_id());
    assert_eq!(r["delivery"]["report_id"], got[0].report_id.as_str());
    let report = &got[0].report;
    assert!(report.passed);
    let ids: Vec<&str> = report.checks.iter().map(|c| c.id.as_str()).collect();
    for id in [
        "id_reader",
        "printer",
        "scanner",
        "platform",
        "clock",
        "disk",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    assert_eq!(report.health.devices["printer.paper"], "full");
    // No personal data reaches the platform: the reader check read the test card, but
    // neither its name nor its number is in the report.
    let sent = serde_json::to_string(report).unwrap();
    assert!(
        !sent.contains("自检测试") && !sent.contains("500103199003070017"),
        "{sent}"
    );

    // The platform is down: the report is still shown, and says it was not sent.
    sim.handle().set_faults(Faults {
        outage: true,
        retry_after_secs: 1,
        ..Faults::default()
    });
    let down = t.run(&["selftest", "--no-print", "--card-timeout", "5"]);
    let text = text_of(&down);
    assert_eq!(down.status.code(), Some(1), "{text}");
    assert!(text.contains("[失败] 政务服务平台连通"), "{text}");
    assert!(text.contains("自检报告未发送到平台"), "{text}");
    assert!(
        text.contains("[通过] 回执打印机"),
        "the report is shown: {text}"
    );
    assert_eq!(sim.handle().selftests().len(), 1, "nothing new arrived");
    let audit = json(&t.run(&["audit", "list", "--json"]));
    let last = audit.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "selftest");
    assert!(
        last["detail"].as_str().unwrap().contains("未发送"),
        "{last:#}"
    );
}

#[test]
fn the_heartbeat_carries_every_device_state_and_paper_level() {
    let sim = Sim::start();
    let jobs = tempfile::tempdir().unwrap();
    let printer =
        PrinterSim::start_tcp("127.0.0.1:0", PrinterSimConfig::new(jobs.path(), None)).unwrap();
    printer.shared().control("near-end on").unwrap();
    let printer_dev = format!(
        "driver = \"escpos\"\npath = \"tcp://{}\"",
        printer.local_addr()
    );
    let t = Terminal::new(
        &sim,
        &[
            ("printer", printer_dev.as_str()),
            (
                "id_reader",
                "driver = \"sam-serial\"\npath = \"/dev/serial/by-id/ykb-no-such-reader\"",
            ),
            ("document_camera", "driver = \"none\""),
        ],
    );
    // The self-test records what it found; the simulated scanner and camera are known only
    // from it.
    let st = t.run(&["selftest", "--json", "--no-print", "--card-timeout", "2"]);
    assert_eq!(json(&st)["health"]["devices"]["scanner"]["state"], "online");

    let beat = |expect_paper: &str| {
        let before = sim.handle().heartbeats().len();
        let out = t.run(&["agent", "--beats", "1"]);
        assert!(out.status.success(), "{}", text_of(&out));
        let hbs = sim.handle().heartbeats();
        assert_eq!(hbs.len(), before + 1, "one heartbeat");
        let d = hbs.last().unwrap().devices.clone();
        assert_eq!(d["printer"], "online", "{d:?}");
        assert_eq!(d["printer.paper"], expect_paper, "{d:?}");
        // An unplugged reader, seen as such where this process sees the machine's devices;
        // in a container's private /dev the self-test's finding stands.
        let reader = if ykb_terminal::ops::probe::devices_visible() {
            "no_device"
        } else {
            "offline"
        };
        assert_eq!(d["id_reader"], reader, "{d:?}");
        assert_eq!(d["scanner"], "online", "{d:?}");
        assert_eq!(d["camera"], "online", "{d:?}");
        assert!(!d.contains_key("document_camera"), "not fitted: {d:?}");
    };
    beat("near_end");
    // The probe asks the printer each time: a new roll shows at the next beat.
    printer.shared().control("near-end off").unwrap();
    beat("full");
}

#[test]
fn a_revoked_credential_is_explained_and_reregistering_replaces_it_atomically() {
    let sim = Sim::start();
    let t = Terminal::new(&sim, &[]);
    let old = t.device_id();
    assert!(sim.handle().revoke(&old, RevokeReason::Revoked));

    let refused = t.run(&["sync"]);
    let text = text_of(&refused);
    assert_eq!(refused.status.code(), Some(1), "{text}");
    assert!(text.contains("credential_revoked"), "{text}");
    assert!(
        text.contains("ykb-terminal reregister --enrolment-code"),
        "{text}"
    );

    // A wrong code changes nothing: same credential, no audit entry.
    let audit_before = json(&t.run(&["audit", "list", "--json"]));
    let wrong = t.run(&[
        "reregister",
        "--enrolment-code",
        "NOT-A-CODE",
        "--operator",
        "T0042",
    ]);
    let text = text_of(&wrong);
    assert_eq!(wrong.status.code(), Some(1), "{text}");
    assert!(
        text.contains("注册码") && text.contains("未作改动"),
        "{text}"
    );
    assert_eq!(t.device_id(), old);
    assert_eq!(json(&t.run(&["audit", "list", "--json"])), audit_before);

    let ok = t.run(&[
        "reregister",
        "--enrolment-code",
        "YKB-DEMO-ENROL",
        "--operator",
        "T0042",
        "--json",
    ]);
    let r = json(&ok);
    assert!(ok.status.success(), "{r:#}");
    assert_eq!(r["previous_device_id"], old.as_str());
    let new = r["device_id"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(t.device_id(), new);

    let again = t.run(&["sync"]);
    assert!(again.status.success(), "{}", text_of(&again));
    let audit = json(&t.run(&["audit", "list", "--json"]));
    let last = audit.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "reregistered");
    assert_eq!(last["actor"], "technician:T0042");
    assert!(last["detail"].as_str().unwrap().contains(&new), "{last:#}");
    assert!(t.run(&["audit", "verify"]).status.success());

    // The new secret is sealed like the first one was.
    let secret = sim.handle().device_secret(&new).unwrap();
    assert!(!holds_secret(&t.store_bytes(), &secret));
}

#[test]
fn a_reregistration_that_cannot_be_stored_changes_nothing_here() {
    use ykb_terminal::core::audit::Actor;
    use ykb_terminal::core::credentials::{self, CredentialError};
    use ykb_terminal::core::platform::{ClientConfig, PlatformClient};

    let sim = Sim::start();
    let t = Terminal::new(&sim, &[]);
    let old = t.device_id();
    let audit_before = json(&t.run(&["audit", "list", "--json"]));
    let profile =
        ykb_terminal::core::config::Profile::load(&t.dir.path().join("terminal.toml")).unwrap();
    let mut core = ykb_terminal::core::Core::start(profile, &t.data()).unwrap();
    let client = PlatformClient::new(ClientConfig::from_profile(
        &core.profile.platform,
        None,
        wire::demo_verifying_key(),
    ))
    .unwrap();
    // The platform registers the device, but the id it issues (the simulator builds it from
    // the region code) is a long run of digits the audit log refuses, so the local step
    // fails after the platform said yes.
    let mut request = wire::RegisterRequest::for_terminal(&core.profile.terminal, "YKB-DEMO-ENROL");
    request.region_code = "500103123456789012".into();
    let err = sim
        .block_on(credentials::reregister(
            &client,
            &mut core.store,
            &core.key,
            &request,
            &Actor::technician("T0042").unwrap(),
        ))
        .unwrap_err();
    let CredentialError::NotStored { device_id, .. } = &err else {
        panic!("{err}");
    };
    assert!(
        sim.handle().device_secret(device_id).is_some(),
        "registered there"
    );
    assert!(err.to_string().contains("注销该设备号"), "{err}");
    drop(core);
    // Here: the old credential, the same audit log, and the terminal still works.
    assert_eq!(t.device_id(), old);
    assert_eq!(json(&t.run(&["audit", "list", "--json"])), audit_before);
    let sync = t.run(&["sync"]);
    assert!(sync.status.success(), "{}", text_of(&sync));
}

#[test]
fn an_expired_credential_gets_the_same_advice_from_the_selftest_and_the_agent() {
    let sim = Sim::start();
    let t = Terminal::new(&sim, &[]);
    assert!(sim.handle().revoke(&t.device_id(), RevokeReason::Expired));
    let out = t.run(&["selftest", "--json", "--no-print", "--card-timeout", "2"]);
    let r = json(&out);
    assert_eq!(out.status.code(), Some(1));
    let platform = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "platform")
        .unwrap()
        .clone();
    assert!(
        platform["detail"]
            .as_str()
            .unwrap()
            .contains("credential_expired"),
        "{platform:#}"
    );
    assert!(
        platform["advice"].as_str().unwrap().contains("reregister"),
        "{platform:#}"
    );
    assert_eq!(r["delivery"]["sent"], false);
    assert!(sim.handle().selftests().is_empty());

    // The agent says the same in its log (stderr where there is no journald).
    let agent = Command::new(env!("CARGO_BIN_EXE_ykb-terminal"))
        .arg("--config")
        .arg(t.dir.path().join("terminal.toml"))
        .arg("--data-dir")
        .arg(t.data())
        .args(["agent", "--beats", "1"])
        .env_remove("RUST_LOG")
        .env_remove("NOTIFY_SOCKET")
        .output()
        .unwrap();
    assert!(agent.status.success(), "{}", text_of(&agent));
    if std::path::Path::new("/run/systemd/journal/socket").exists() {
        eprintln!("journald present: the agent logs there, its advice is not read here");
    } else {
        let log = String::from_utf8_lossy(&agent.stderr);
        assert!(
            log.contains("credential_expired") && log.contains("ykb-terminal reregister"),
            "{log}"
        );
    }
}

#[test]
fn the_device_secret_is_sealed_at_rest_and_old_clear_rows_are_sealed_on_start() {
    let sim = Sim::start();
    let t = Terminal::new(&sim, &[]);
    let id = t.device_id();
    let secret = sim.handle().device_secret(&id).unwrap();
    assert!(
        !holds_secret(&t.store_bytes(), &secret),
        "a fresh registration is sealed"
    );

    // A store written by a build before migration 6: the secret in the clear, no `sealed`
    // column, no device_status table, none of migration 8's outbox claim columns or breaker
    // table, none of the later migrations' tables (offline hall tickets, remote commands),
    // schema version 5.
    let db = t.data().join("ykb-terminal.db");
    {
        let mut store = Store::open(&db).unwrap();
        let c = store.conn();
        c.execute_batch(
            "ALTER TABLE platform_device DROP COLUMN sealed;
             DROP TABLE device_status;
             ALTER TABLE outbox DROP COLUMN claimed_by;
             ALTER TABLE outbox DROP COLUMN claimed_until;
             DROP TABLE outbox_breaker;
             DROP TABLE hall_offline;
             DROP TABLE ops_commands;
             DROP TABLE ops_switches;
             DROP TABLE paper_roll;
             PRAGMA user_version = 5;",
        )
        .unwrap();
        c.execute(
            "UPDATE platform_device SET secret = ?1 WHERE id = 1",
            [&secret],
        )
        .unwrap();
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
    }
    assert!(
        holds_secret(&t.store_bytes(), &secret),
        "the old form is clear"
    );

    // Any command that starts the core migrates and seals; the terminal keeps working.
    let out = t.run(&["sync"]);
    assert!(out.status.success(), "{}", text_of(&out));
    assert!(!holds_secret(&t.store_bytes(), &secret), "sealed on start");
    assert_eq!(t.device_id(), id, "the same credential");
    let store = Store::open(&db).unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        ykb_terminal::core::store::SCHEMA_VERSION as i64
    );
}
