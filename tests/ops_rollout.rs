//! Staged updates through the real agent loop: the platform simulator over loopback HTTP
//! carries a rollout in its heartbeat answers (`set_rollout`, as `PUT /admin/rollout`), the
//! agent acts on it with the signed loopback APT repository of `tests/common/apt.rs` and a
//! chroot-like root, and reports each outcome on its next heartbeats, which the simulator
//! keeps (`updates`, as `GET /admin/updates`).
//!
//! v2 is rolled out to this terminal by name and installed; a broken v3 to everyone fails its
//! health check and v2 comes back, both reported; v4 while a citizen is being served waits
//! (reported as waiting) until the kiosk says it is idle again; a downgrade is refused.

mod common;

use std::path::Path;
use std::time::Duration;

use common::agent::{run_agent, wait_for};
use common::apt::*;
use ykb_terminal::core::config::UpdateSection;
use ykb_terminal::core::platform::wire;
use ykb_terminal::core::store::Store;
use ykb_terminal::core::update::{Activity, Outcome, Rollout, UpdateReport};
use ykb_terminal::core::{audit, commands, Core, STORE_FILE};
use ykb_terminal::sim::platform::SimHandle;

/// A remote-mode terminal in `dir` for the simulator, updating `PKG` in `root` from `url`;
/// returns its core and device id.
fn terminal(
    sim: &common::sim::Sim,
    dir: &Path,
    root: &Path,
    url: String,
    keyring: &Path,
) -> (Core, String) {
    let mut profile = common::agent::remote_profile(sim, dir);
    profile.update = Some(UpdateSection {
        enabled: true,
        package: PKG.into(),
        repository: url,
        suite: "./".into(),
        components: vec![],
        keyring: keyring.display().to_string(),
        health_command: vec![health_script(root).display().to_string()],
        health_deadline_secs: 5,
        check_interval_secs: 60,
        min_free_mb: 0,
        root: root.display().to_string(),
    });
    common::agent::registered(sim, dir, profile, "rollout-e2e")
}

fn rollout(version: &str, percent: Option<u8>, terminals: &[&str]) -> Option<Rollout> {
    Some(Rollout {
        version: version.into(),
        percent,
        terminals: terminals.iter().map(|t| t.to_string()).collect(),
        pinned: false,
    })
}

/// Every distinct update outcome the platform received from `device`.
fn history(h: &SimHandle, device: &str) -> Vec<UpdateReport> {
    h.updates()
        .get(device)
        .map(|d| d.history.clone())
        .unwrap_or_default()
}

fn reported(h: &SimHandle, device: &str, to: &str) -> Option<UpdateReport> {
    history(h, device).into_iter().find(|r| r.to == to)
}

#[test]
fn the_agent_installs_a_rollout_rolls_back_a_broken_one_and_waits_for_the_citizen() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let repo = dir.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    build_probe(&repo, "1.0.0", "exit 0");
    build_probe(&repo, "2.0.0", "exit 0");
    build_probe(&repo, "3.0.0", "echo '界面未能显示首帧' >&2\nexit 1");
    build_probe(&repo, "4.0.0", "exit 0");
    let (gnupg, keyring) = gpg_key(dir, "repo");
    index(&repo, Some(&gnupg));
    let url = serve(repo);
    let root = empty_root(dir);
    // The terminal as delivered: 1.0.0 installed by hand.
    let first = updater(dir, &root, url.clone(), keyring.clone());
    assert_eq!(first.apply("1.0.0").unwrap().outcome, Outcome::Installed);

    let sim = common::sim::Sim::start();
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let (core, device) = terminal(&sim, &data, &root, url, &keyring);
    let agent = run_agent(core, Duration::from_millis(250), 360);
    let h = sim.handle();
    wait_for("the first update state", Duration::from_secs(15), || {
        h.updates()
            .get(&device)
            .and_then(|d| d.current.clone())
            .is_some_and(|c| c.installed.as_deref() == Some("1.0.0"))
    });

    // v2 to this terminal by name: installed, healthy, reported.
    h.set_rollout(rollout("2.0.0", None, &[&device]));
    wait_for("2.0.0 reported", Duration::from_secs(40), || {
        reported(h, &device, "2.0.0").is_some()
    });
    let v2 = reported(h, &device, "2.0.0").unwrap();
    assert_eq!(v2.outcome, Outcome::Installed, "{v2:?}");
    assert_eq!(
        (v2.from.as_deref(), v2.now.as_deref()),
        (Some("1.0.0"), Some("2.0.0"))
    );
    assert_eq!(installed_file(&root), "2.0.0");

    // A broken v3 to everyone: installed, fails its health check, v2 is back; both outcomes
    // stay with the platform.
    h.set_rollout(rollout("3.0.0", Some(100), &[]));
    wait_for("3.0.0 reported", Duration::from_secs(40), || {
        reported(h, &device, "3.0.0").is_some()
    });
    let v3 = reported(h, &device, "3.0.0").unwrap();
    let Outcome::RolledBack {
        reason,
        restored_healthy,
    } = &v3.outcome
    else {
        panic!("expected a rollback: {v3:?}")
    };
    assert!(reason.contains("界面未能显示首帧"), "{reason}");
    assert!(restored_healthy);
    assert_eq!(
        (v3.from.as_deref(), v3.now.as_deref()),
        (Some("2.0.0"), Some("2.0.0"))
    );
    assert_eq!(installed_file(&root), "2.0.0");
    // The broken version is not tried again while the rollout stays: a few more beats, the
    // same two outcomes.
    std::thread::sleep(Duration::from_secs(2));
    let seen: Vec<(String, &str)> = history(h, &device)
        .iter()
        .map(|r| (r.to.clone(), r.outcome.label()))
        .collect();
    assert_eq!(
        seen,
        [
            ("2.0.0".to_string(), "installed"),
            ("3.0.0".to_string(), "rolled_back")
        ]
    );

    // A citizen is being served (the kiosk says so in the store): v4 waits, reported as
    // waiting, nothing installed.
    let mut store = Store::open(&data.join(STORE_FILE)).unwrap();
    let now = || jiff::Timestamp::now().as_second();
    let serving = Activity {
        citizen_present: true,
        submitting: false,
    };
    commands::report_activity(&mut store, "kiosk", serving, now()).unwrap();
    h.set_rollout(rollout("4.0.0", Some(100), &[]));
    wait_for(
        "the rollout reported as waiting",
        Duration::from_secs(15),
        || {
            h.updates()
                .get(&device)
                .and_then(|d| d.current.clone())
                .and_then(|c| c.waiting)
                .is_some_and(|w| w.contains("4.0.0") && w.contains("正在为群众办理业务"))
        },
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        installed_file(&root),
        "2.0.0",
        "installed while a citizen was served"
    );
    assert!(reported(h, &device, "4.0.0").is_none());
    // The citizen leaves: v4 goes in.
    commands::report_activity(&mut store, "kiosk", Activity::default(), now()).unwrap();
    wait_for("4.0.0 reported", Duration::from_secs(40), || {
        reported(h, &device, "4.0.0").is_some()
    });
    assert_eq!(
        reported(h, &device, "4.0.0").unwrap().outcome,
        Outcome::Installed
    );
    assert_eq!(installed_file(&root), "4.0.0");
    let current = h.updates()[&device].current.clone().unwrap();
    assert_eq!(current.waiting, None, "{current:?}");
    assert_eq!(current.installed.as_deref(), Some("4.0.0"));

    // A downgrade the platform did not pin: refused, reported in words, nothing installed.
    h.set_rollout(rollout("2.0.0", Some(100), &[]));
    wait_for("the downgrade reported", Duration::from_secs(15), || {
        history(h, &device)
            .last()
            .is_some_and(|r| r.to == "2.0.0" && r.outcome.label() == "refused")
    });
    let refused = history(h, &device).last().cloned().unwrap();
    assert!(
        refused.outcome.describe().contains("拒绝降级"),
        "{refused:?}"
    );
    assert_eq!(installed_file(&root), "4.0.0");
    h.set_rollout(None);
    agent.join().unwrap();

    // Each step audited, the chain intact.
    let log = audit::list(&mut store).unwrap();
    let steps: Vec<&str> = log
        .iter()
        .filter(|e| e.action == "software_update")
        .map(|e| e.detail.as_str())
        .collect();
    for want in [
        "开始安装 2.0.0",
        "开始安装 3.0.0",
        "3.0.0 健康检查未通过",
        "已恢复原版本",
        "4.0.0 暂缓安装",
        "开始安装 4.0.0",
        "拒绝降级",
    ] {
        assert!(
            steps.iter().any(|d| d.contains(want)),
            "no audit entry with {want:?}: {steps:#?}"
        );
    }
    assert_eq!(
        steps
            .iter()
            .filter(|d| d.contains("开始安装 3.0.0"))
            .count(),
        1,
        "the broken version was installed again: {steps:#?}"
    );
    assert!(audit::verify(&mut store).unwrap().is_intact());
    // What the heartbeat carried went through the contract's type.
    let beats: Vec<wire::Heartbeat> = h.heartbeats();
    assert!(beats.iter().any(|b| b.update.is_some()));

    // The technician's view, through the binary with the same profile.
    let profile = dir.join("terminal.toml");
    let base = ykb_terminal::core::config::DEMO_PROFILE
        .split("\n[update]")
        .next()
        .unwrap()
        .replace("mode = \"simulator\"", "mode = \"remote\"")
        .replace("base_url = \"\"", &format!("base_url = \"{}\"", sim.url()))
        .replace(
            "metrics_listen = \"127.0.0.1:9464\"",
            "metrics_listen = \"\"",
        );
    std::fs::write(
        &profile,
        format!(
            "{base}\n[update]\nenabled = true\npackage = \"{PKG}\"\nrepository = \"http://127.0.0.1:9/\"\n\
             suite = \"./\"\ncomponents = []\nkeyring = \"{}\"\nhealth_command = [\"{}\"]\nroot = \"{}\"\n",
            keyring.display(),
            health_script(&root).display(),
            root.display()
        ),
    )
    .unwrap();
    let cli = |args: &[&str]| {
        std::process::Command::new(common::BIN)
            .arg("--config")
            .arg(&profile)
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .output()
            .unwrap()
    };
    let out = cli(&["update", "status", "--json"]);
    common::assert_success(&out);
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["installed"], "4.0.0", "{status}");
    assert_eq!(status["last"]["to"], "2.0.0", "{status}");
    assert_eq!(status["last"]["outcome"], "refused", "{status}");
    assert!(status["requested"]["at"].is_i64(), "{status}");
    let text = String::from_utf8(cli(&["update", "status"]).stdout).unwrap();
    assert!(text.contains("已安装版本：4.0.0"), "{text}");
    assert!(text.contains("拒绝降级"), "{text}");
    // One decision now, nothing installed without --apply.
    h.set_rollout(rollout("9.0.0", Some(100), &[]));
    let out = cli(&["update", "check", "--platform", &sim.url()]);
    common::assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("将安装 9.0.0") && text.contains("未加 --apply"),
        "{text}"
    );
    assert_eq!(installed_file(&root), "4.0.0");
}

/// The built-in health check (`update health`, the default without `health_command`): it
/// asks the kiosk to restart, and passes only once the kiosk has drawn a first frame of this
/// version since it began and the real agent has had a heartbeat acknowledged by the
/// platform; an old frame and no agent fail it within its deadline, saying what is missing.
#[test]
fn the_built_in_health_check_waits_for_a_new_kiosk_frame_and_an_acknowledged_heartbeat() {
    use ykb_terminal::core::update::markers;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let sim = common::sim::Sim::start();
    let mut profile = common::agent::remote_profile(&sim, dir);
    // Without health_command the updater runs the installed binary's own check.
    profile.update = Some(UpdateSection {
        enabled: true,
        package: "ykb-terminal".into(),
        repository: "http://127.0.0.1:9/".into(),
        suite: "./".into(),
        components: vec![],
        keyring: "/usr/share/keyrings/ykb-archive.gpg".into(),
        health_command: vec![],
        health_deadline_secs: 60,
        check_interval_secs: 60,
        min_free_mb: 0,
        root: "/".into(),
    });
    let u = ykb_terminal::ops::rollout::updater(&profile, dir).unwrap();
    assert_eq!(u.health.program, Path::new("/usr/bin/ykb-terminal"));
    let data = dir.display().to_string();
    assert_eq!(
        u.health.args,
        [
            "--data-dir",
            &data,
            "update",
            "health",
            "--wait-ui",
            "57",
            "--app",
            "kiosk"
        ]
    );
    let (core, _device) = common::agent::registered(&sim, dir, profile, "health-check");
    let health = |secs: &str| {
        std::process::Command::new(common::BIN)
            .arg("--data-dir")
            .arg(dir)
            .args(["update", "health", "--wait-ui", secs, "--app", "kiosk"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };

    // A frame drawn before the update, no agent running: refused at the deadline.
    let now = jiff::Timestamp::now().as_second();
    {
        let mut store = Store::open(&dir.join(STORE_FILE)).unwrap();
        markers::mark(&mut store, "kiosk", now - 100).unwrap();
    }
    let out = health("2").wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("2 秒内未通过健康检查")
            && stderr.contains("kiosk 界面自更新后尚未重新绘出首帧"),
        "{stderr}"
    );
    // It asked the kiosk to restart between citizens (the new binary draws the frame).
    let mut store = Store::open(&dir.join(STORE_FILE)).unwrap();
    assert!(commands::restart_requested(&mut store).unwrap().is_some());

    // The agent beating and the kiosk's first frame after the check began: passed.
    let check = health("30");
    std::thread::sleep(Duration::from_millis(1200));
    let agent = run_agent(core, Duration::from_millis(250), 8);
    std::thread::sleep(Duration::from_millis(500));
    // What the kiosk writes at its first redraw (`Kiosk::mark_first_frame`).
    markers::mark(&mut store, "kiosk", jiff::Timestamp::now().as_second()).unwrap();
    let out = check.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("健康检查通过"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let agent_marker = markers::read(&mut store, "agent").unwrap().unwrap();
    assert_eq!(agent_marker.version, markers::VERSION);
    agent.join().unwrap();
}
