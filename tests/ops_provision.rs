//! `ykb-terminal provision` through the real binary against the platform simulator on
//! loopback: a provisioned terminal syncs and audits; every bad input stops with a message
//! and leaves nothing half-provisioned behind.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::sim::Sim;
use ykb_terminal::core::config::{Profile, TerminalKind};
use ykb_terminal::core::platform::wire;

struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("catalog.pub"),
            hex::encode(wire::demo_verifying_key().as_bytes()),
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        Self { dir }
    }
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
    fn config(&self) -> PathBuf {
        self.path("etc/terminal.toml")
    }
    fn data(&self) -> PathBuf {
        self.path("var/lib/ykb-terminal")
    }
    /// Every file and directory below the site, for "nothing left behind" comparisons.
    fn tree(&self) -> Vec<PathBuf> {
        fn walk(p: &Path, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(p).unwrap() {
                let e = e.unwrap().path();
                out.push(e.clone());
                if e.is_dir() {
                    walk(&e, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(self.dir.path(), &mut out);
        out.sort();
        out
    }
    fn provision(&self, url: &str, code: &str, extra: &[&str]) -> Output {
        self.provision_kind(
            ["500112", "渝北区龙溪街道便民服务中心", "kiosk"],
            url,
            code,
            &self.data(),
        )
        .args(extra)
        .output()
        .unwrap()
    }
    /// `provision` of `[region, site, kind]` into `data`, with no terminal on stdin.
    fn provision_kind(&self, terminal: [&str; 3], url: &str, code: &str, data: &Path) -> Command {
        let mut c = common::provision(
            terminal,
            code,
            url,
            &self.path("catalog.pub"),
            &self.config(),
            data,
        );
        c.stdin(Stdio::null());
        c
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_provisioned_terminal_is_registered_keyed_profiled_and_audited() {
    let sim = Sim::start();
    let site = Site::new();
    let out = site.provision(&sim.url(), "YKB-DEMO-ENROL", &["--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["device_id"].as_str().unwrap().starts_with("sim-500112-"));

    let p = Profile::load(&site.config()).unwrap();
    assert_eq!(p.terminal.kind, TerminalKind::Kiosk);
    assert_eq!(p.terminal.region_code.as_str(), "500112");
    assert_eq!(p.terminal.site, "渝北区龙溪街道便民服务中心");
    assert_eq!(p.platform.base_url, sim.url());
    let data = std::fs::canonicalize(site.data()).unwrap();
    assert_eq!(Path::new(&p.data.dir), data);

    let key = data.join("data.key");
    assert_eq!(std::fs::read(&key).unwrap().len(), 32);
    assert_eq!(mode(&key), 0o600);
    // The profile holds the staff PIN hashes: no one else reads it (0640 to the service group
    // `ykb` where that group exists and provision runs as root, so the services can).
    let profile_mode = mode(&site.config());
    let ykb_group = std::fs::read_to_string("/etc/group")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&"ykb")).then(|| f.get(2).and_then(|g| g.parse::<u32>().ok()))
        })
        .flatten();
    let as_root = unsafe { libc::geteuid() } == 0;
    match ykb_group {
        Some(gid) if as_root => {
            use std::os::unix::fs::MetadataExt;
            assert_eq!(profile_mode, 0o640);
            assert_eq!(std::fs::metadata(site.config()).unwrap().gid(), gid);
        }
        _ => assert_eq!(profile_mode, 0o600, "profile mode {profile_mode:o}"),
    }
    assert_eq!(
        mode(&data.join("ykb-terminal.db")),
        0o600,
        "credentials live in the store"
    );
    let leftovers: Vec<_> = site
        .tree()
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("provision-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // The profile alone (data.dir is in it) is enough for the terminal to work.
    let bin = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ykb-terminal"))
            .arg("--config")
            .arg(site.config())
            .args(args)
            .output()
            .unwrap()
    };
    let sync = bin(&["sync"]);
    assert!(sync.status.success(), "{}", text(&sync));
    let list = bin(&["audit", "list", "--json"]);
    let entries: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(entries[0]["actor"], "technician:T0042");
    assert_eq!(entries[0]["action"], "provisioned");
    assert!(bin(&["audit", "verify"]).status.success());
    let check = Command::new(env!("CARGO_BIN_EXE_ykb-terminal"))
        .arg("check-config")
        .arg(site.config())
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", text(&check));

    // Provisioning again is refused and changes nothing.
    let before = std::fs::read(&key).unwrap();
    let again = site.provision(&sim.url(), "YKB-DEMO-ENROL", &[]);
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again).contains("已存在"), "{}", text(&again));
    assert_eq!(std::fs::read(&key).unwrap(), before);
}

#[test]
fn a_wrong_enrolment_code_leaves_nothing_behind() {
    let sim = Sim::start();
    let site = Site::new();
    let before = site.tree();
    let out = site.provision(&sim.url(), "NOT-A-CODE", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("注册码"), "{}", text(&out));
    assert!(text(&out).contains("未作任何修改"), "{}", text(&out));
    // The data directory it had to create is gone again; no profile, no temp files.
    assert_eq!(site.tree(), before);
}

#[test]
fn an_unreachable_platform_leaves_an_existing_data_dir_as_it_was() {
    let site = Site::new();
    std::fs::create_dir_all(site.data()).unwrap();
    std::fs::write(site.data().join("README"), "kept").unwrap();
    let before = site.tree();
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = site.provision(
        &format!("http://127.0.0.1:{port}/v1"),
        "YKB-DEMO-ENROL",
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("无法连接政务服务平台"),
        "{}",
        text(&out)
    );
    assert_eq!(site.tree(), before);
}

#[test]
fn an_unwritable_data_dir_is_reported_before_the_platform_is_asked() {
    let sim = Sim::start();
    let site = Site::new();
    // A regular file where a directory should be: no user, not even root, can create below it.
    std::fs::create_dir_all(site.path("var/lib")).unwrap();
    std::fs::write(site.path("var/lib/ykb-terminal"), "not a directory").unwrap();
    let before = site.tree();
    let out = site
        .provision_kind(
            ["500112", "x", "post"],
            &sim.url(),
            "YKB-DEMO-ENROL",
            &site.path("var/lib/ykb-terminal/data"),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("数据目录"), "{}", text(&out));
    assert_eq!(site.tree(), before);
}

#[test]
fn an_existing_key_is_never_replaced() {
    let sim = Sim::start();
    let site = Site::new();
    std::fs::create_dir_all(site.data()).unwrap();
    std::fs::write(site.data().join("data.key"), [7u8; 32]).unwrap();
    let before = site.tree();
    let out = site.provision(&sim.url(), "YKB-DEMO-ENROL", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("data.key"), "{}", text(&out));
    assert_eq!(
        std::fs::read(site.data().join("data.key")).unwrap(),
        [7u8; 32]
    );
    assert_eq!(site.tree(), before);
}

#[test]
fn missing_flags_without_a_terminal_are_listed() {
    let out = Command::new(env!("CARGO_BIN_EXE_ykb-terminal"))
        .args(["provision", "--region", "500103"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let t = text(&out);
    assert!(
        t.contains("--site") && t.contains("--enrolment-code"),
        "{t}"
    );
}

#[test]
fn a_bad_catalogue_key_is_a_configuration_error() {
    let sim = Sim::start();
    let site = Site::new();
    std::fs::write(site.path("catalog.pub"), "not hex").unwrap();
    let before = site.tree();
    let out = site.provision(&sim.url(), "YKB-DEMO-ENROL", &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("公钥"), "{}", text(&out));
    assert_eq!(site.tree(), before);
}

#[test]
fn files_take_the_owner_of_a_prepared_data_dir_when_run_as_root() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("not root: ownership hand-over is not exercised");
        return;
    }
    use std::os::unix::fs::MetadataExt;
    let sim = Sim::start();
    let site = Site::new();
    std::fs::create_dir_all(site.data()).unwrap();
    std::os::unix::fs::chown(site.data(), Some(4242), Some(4343)).unwrap();
    let out = site.provision(&sim.url(), "YKB-DEMO-ENROL", &[]);
    assert!(out.status.success(), "{}", text(&out));
    for f in ["data.key", "ykb-terminal.db", "platform-catalog.pub"] {
        let m = std::fs::metadata(site.data().join(f)).unwrap();
        assert_eq!((m.uid(), m.gid()), (4242, 4343), "{f}");
    }
}

#[test]
fn interactive_provisioning_asks_for_what_is_missing() {
    // A real pseudo-terminal via script(1), so stdin is a terminal as for a technician.
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("script(1) is not installed: interactive mode is not exercised");
        return;
    }
    let sim = Sim::start();
    let site = Site::new();
    let cmd = format!(
        "{} provision --kind counter --platform {} --catalog-key {} --config-out {} --data-dir {}",
        env!("CARGO_BIN_EXE_ykb-terminal"),
        sim.url(),
        site.path("catalog.pub").display(),
        site.config().display(),
        site.data().display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Answers in the order asked: region, site, operator, enrolment code, then Enter for
    // the optional proxy and CA file.
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        for answer in [
            "500103",
            "渝中区解放碑街道 3号窗口",
            "T0042",
            "YKB-DEMO-ENROL",
            "",
            "",
        ] {
            writeln!(stdin, "{answer}").unwrap();
            stdin.flush().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
    }
    let out = child.wait_with_output().unwrap();
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains("区划代码") && t.contains("平台注册码") && t.contains("HTTP 代理"),
        "{t}"
    );
    let p = Profile::load(&site.config()).unwrap();
    assert_eq!(p.terminal.kind, TerminalKind::Counter);
    assert_eq!(p.terminal.site, "渝中区解放碑街道 3号窗口");
    assert_eq!(p.platform.proxy, "");
}

#[test]
fn an_interrupted_earlier_run_is_cleaned_up() {
    let sim = Sim::start();
    let site = Site::new();
    // What a power cut in the middle of a run leaves: a staging directory and a temp profile.
    let stale = site.data().join(".provision-0190aaaa");
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(stale.join("data.key"), [1u8; 32]).unwrap();
    let stale_cfg = site.path("etc/.terminal.toml.provision-0190aaaa.tmp");
    std::fs::write(&stale_cfg, "half").unwrap();
    let out = site.provision(&sim.url(), "YKB-DEMO-ENROL", &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!stale.exists() && !stale_cfg.exists());
    assert!(site.config().exists());
}
