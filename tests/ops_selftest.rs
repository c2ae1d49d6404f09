//! `ykb-terminal selftest` through the real binary. The demo profile's simulated devices run
//! the real drivers against the wire emulators (ID card on a pty, printer on TCP, scanner on a
//! pty); a profile with real driver kinds is pointed at emulators this test starts, and at a
//! port that does not exist.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::sim::Sim;
use serde_json::Value;
use ykb_drivers::sim::{CardFile, IdCardSim, PrinterSim, PrinterSimConfig};
use ykb_terminal::core::config::DEMO_PROFILE;
use ykb_terminal::core::platform::wire;

fn selftest(data: &Path, config: Option<&Path>) -> (Output, Value) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ykb-terminal"));
    if let Some(p) = config {
        c.arg("--config").arg(p);
    }
    let out = c
        .arg("--data-dir")
        .arg(data)
        .args([
            "selftest",
            "--json",
            "--operator",
            "T0042",
            "--card-timeout",
            "5",
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out, v)
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {report:#}"))
}

/// The demo profile with one device slot replaced.
fn with_device(text: &str, slot: &str, body: &str) -> String {
    let from = format!("[devices.{slot}]\ndriver = \"simulated\"\n");
    assert!(text.contains(&from), "demo profile changed: {slot}");
    text.replace(&from, &format!("[devices.{slot}]\n{body}\n"))
}

#[test]
fn the_demo_profile_passes_every_check_through_the_emulators() {
    let dir = tempfile::tempdir().unwrap();
    let (out, r) = selftest(dir.path(), None);
    assert!(out.status.success(), "{r:#}");
    assert_eq!(r["passed"], true);
    for id in [
        "id_reader",
        "printer",
        "scanner",
        "camera",
        "document_camera",
        "platform",
        "clock",
    ] {
        assert_eq!(
            check(&r, id)["outcome"],
            "pass",
            "{id}: {:#}",
            check(&r, id)
        );
    }
    // Free space is the machine's, not the code's: a full build machine may warn, never fail.
    let disk = &check(&r, "disk")["outcome"];
    assert!(
        disk == "pass" || disk == "warn",
        "disk: {:#}",
        check(&r, "disk")
    );
    assert_eq!(check(&r, "ca_cert")["outcome"], "skipped");
    assert!(check(&r, "ca_cert")["detail"]
        .as_str()
        .unwrap()
        .contains("未配置"));
    // The test page really went through the ESC/POS driver to the emulator, which rendered it.
    let png = dir.path().join("selftest/job-0001.png");
    assert!(std::fs::metadata(&png).unwrap().len() > 1000);
    // No personal data in the report: the test card's name and number are not in it.
    let all = r.to_string();
    assert!(
        !all.contains("自检测试") && !all.contains("500103199003070017"),
        "{all}"
    );
    assert_eq!(r["health"]["devices"]["printer"]["paper"], "full");
    // The run is audited.
    let list = Command::new(env!("CARGO_BIN_EXE_ykb-terminal"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["audit", "list", "--json"])
        .output()
        .unwrap();
    let entries: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(entries[0]["action"], "selftest");
    assert_eq!(entries[0]["actor"], "technician:T0042");
}

#[test]
fn real_drivers_on_emulated_ports_and_a_missing_device() {
    let dir = tempfile::tempdir().unwrap();
    let card = CardFile::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/drivers/tests/data/resident-wang-yan.toml"
    )))
    .unwrap();
    let reader = IdCardSim::with_cards(vec![card], None).unwrap();
    reader.control("place").unwrap();
    let printer = PrinterSim::start_tcp(
        "127.0.0.1:0",
        PrinterSimConfig::new(dir.path().join("jobs"), None),
    )
    .unwrap();
    printer.shared().control("near-end on").unwrap();

    let mut text = with_device(
        DEMO_PROFILE,
        "id_reader",
        &format!(
            "driver = \"sam-serial\"\npath = \"{}\"\nbaud = 115200",
            reader.path().display()
        ),
    );
    text = with_device(
        &text,
        "printer",
        &format!(
            "driver = \"escpos\"\npath = \"tcp://{}\"",
            printer.local_addr()
        ),
    );
    text = with_device(
        &text,
        "scanner",
        "driver = \"serial-scanner\"\npath = \"/dev/serial/by-id/ykb-no-such-scanner\"",
    );
    text = with_device(&text, "document_camera", "driver = \"none\"");
    let profile = dir.path().join("terminal.toml");
    std::fs::write(&profile, text).unwrap();

    let (out, r) = selftest(&dir.path().join("data"), Some(&profile));
    assert_eq!(out.status.code(), Some(1), "{r:#}");
    assert_eq!(r["passed"], false);
    assert_eq!(check(&r, "id_reader")["outcome"], "pass", "{r:#}");
    let p = check(&r, "printer");
    assert_eq!(p["outcome"], "warn", "{p:#}");
    assert!(p["advice"].as_str().unwrap().contains("纸"), "{p:#}");
    let jobs = printer
        .shared()
        .wait_for_jobs(1, std::time::Duration::from_secs(10));
    assert_eq!(jobs.len(), 1, "the test page was printed");
    let s = check(&r, "scanner");
    assert_eq!(s["outcome"], "fail");
    assert!(s["detail"].as_str().unwrap().contains("不存在"), "{s:#}");
    assert!(s["advice"].as_str().unwrap().contains("udev"), "{s:#}");
    assert_eq!(check(&r, "document_camera")["outcome"], "skipped");
    assert_eq!(r["health"]["devices"]["scanner"]["state"], "offline");

    // The human-readable form says what to do. (The reader reads once per placement.)
    reader.control("lift").unwrap();
    reader.control("place").unwrap();
    let human = Command::new(env!("CARGO_BIN_EXE_ykb-terminal"))
        .arg("--config")
        .arg(&profile)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["selftest", "--no-print"])
        .output()
        .unwrap();
    let t = String::from_utf8_lossy(&human.stdout);
    assert_eq!(human.status.code(), Some(1));
    assert!(t.contains("[失败] 扫码器") && t.contains("处理："), "{t}");
}

#[test]
fn a_pinned_ca_near_expiry_warns_and_a_fresh_one_passes() {
    let dir = tempfile::tempdir().unwrap();
    let make = |days: &str, name: &str| -> Option<std::path::PathBuf> {
        let cert = dir.path().join(name);
        let st = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
            ])
            .args([
                "-nodes",
                "-subj",
                "/CN=ykb test CA",
                "-days",
                days,
                "-keyout",
            ])
            .arg(dir.path().join(format!("{name}.key")))
            .arg("-out")
            .arg(&cert)
            .output()
            .ok()?;
        st.status.success().then_some(cert)
    };
    let (Some(soon), Some(fresh)) = (make("10", "soon.pem"), make("400", "fresh.pem")) else {
        eprintln!("openssl is not installed: skipping the CA expiry test");
        return;
    };
    for (cert, outcome) in [(soon, "warn"), (fresh, "pass")] {
        let text = DEMO_PROFILE.replace(
            "ca_file = \"\"",
            &format!("ca_file = \"{}\"", cert.display()),
        );
        let profile = dir.path().join("p.toml");
        std::fs::write(&profile, text).unwrap();
        let (_, r) = selftest(&dir.path().join("data"), Some(&profile));
        let c = check(&r, "ca_cert");
        assert_eq!(c["outcome"], outcome, "{c:#}");
        assert!(c["detail"].as_str().unwrap().contains("剩余"), "{c:#}");
    }
}

/// Provisions a `kind` terminal in `dir` against the simulator at `url`; returns its profile
/// (its data is in `dir/data`).
fn provisioned(dir: &Path, url: &str, kind: &str) -> PathBuf {
    let key = dir.join("catalog.pub");
    std::fs::write(&key, hex::encode(wire::demo_verifying_key().as_bytes())).unwrap();
    let config = dir.join("terminal.toml");
    common::run_ok(&mut common::provision(
        ["500103", "渝中区", kind],
        "YKB-DEMO-ENROL",
        url,
        &key,
        &config,
        &dir.join("data"),
    ));
    config
}

#[test]
fn a_provisioned_terminal_with_a_skewed_clock_fails_the_clock_check_but_reaches_the_platform() {
    use ykb_terminal::sim::platform::{Faults, SimOptions};
    let options = SimOptions {
        faults: Faults {
            clock_skew_secs: 600,
            ..Faults::default()
        },
        ..SimOptions::default()
    };
    let sim = Sim::start_with(options);
    let dir = tempfile::tempdir().unwrap();
    let config = provisioned(dir.path(), &sim.url(), "counter");

    let (out, r) = selftest(&dir.path().join("data"), Some(&config));
    assert_eq!(out.status.code(), Some(1));
    // Signed requests are retried on the platform's clock, so the platform is reachable …
    assert_eq!(check(&r, "platform")["outcome"], "pass", "{r:#}");
    // … but the terminal's clock is 10 minutes off, beyond the ±300 s signing window.
    let clock = check(&r, "clock");
    assert_eq!(clock["outcome"], "fail", "{clock:#}");
    assert!(
        clock["advice"].as_str().unwrap().contains("NTP"),
        "{clock:#}"
    );
    assert!((595..=605).contains(&r["health"]["clock_skew_secs"].as_i64().unwrap()));
    // The counter profile's devices are not plugged in here: each says so.
    let reader = check(&r, "id_reader");
    assert_eq!(reader["outcome"], "fail");
    assert!(
        reader["detail"].as_str().unwrap().contains("未连接"),
        "{reader:#}"
    );
}

#[test]
fn a_credential_the_platform_no_longer_knows_is_reported_as_such() {
    let mut sim = Sim::start();
    let dir = tempfile::tempdir().unwrap();
    let config = provisioned(dir.path(), &sim.url(), "post");
    // The platform forgets every device (a new simulator on the same address).
    sim.restart();

    let (out, r) = selftest(&dir.path().join("data"), Some(&config));
    assert_eq!(out.status.code(), Some(1));
    let p = check(&r, "platform");
    assert_eq!(p["outcome"], "fail", "{p:#}");
    assert!(p["detail"].as_str().unwrap().contains("401"), "{p:#}");
    assert!(p["advice"].as_str().unwrap().contains("凭据"), "{p:#}");
}

#[test]
fn the_bank_terminal_demo_checks_the_hosts_printer_scanner_and_camera_on_its_own_emulator() {
    let dir = tempfile::tempdir().unwrap();
    let profile =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("kiosk-config/bank-terminal-demo.toml");
    let (_, r) = selftest(dir.path(), Some(&profile));
    for id in ["printer", "scanner", "document_camera"] {
        let c = check(&r, id);
        assert_eq!(c["outcome"], "pass", "{id}: {c:#}");
        assert!(
            c["detail"].as_str().unwrap().contains("ws://127.0.0.1:"),
            "{id}: {c:#}"
        );
    }
    assert!(check(&r, "printer")["detail"]
        .as_str()
        .unwrap()
        .contains("XFS4IoT 打印服务"));
    assert_eq!(r["health"]["devices"]["printer"]["paper"], "full");
    assert_eq!(check(&r, "camera")["outcome"], "skipped");
}
