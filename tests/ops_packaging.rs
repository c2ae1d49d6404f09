//! Packaging: the deb metadata in Cargo.toml (assets exist, conffiles under /etc, maintainer
//! scripts create the service user in dialout and video), the systemd units (required keys;
//! `systemd-analyze verify` where installed), the udev template (every device name the
//! shipped profiles use is created) and the shell scripts' syntax.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A unit file as section → key → values (keys may repeat).
fn parse_unit(path: &Path) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    let mut section = String::new();
    for (n, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with(';') {
            continue;
        }
        if let Some(s) = l.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            section = s.to_owned();
            continue;
        }
        let (k, v) = l
            .split_once('=')
            .unwrap_or_else(|| panic!("{}:{}: not KEY=VALUE: {l}", path.display(), n + 1));
        assert!(
            !section.is_empty(),
            "{}:{}: key outside a section",
            path.display(),
            n + 1
        );
        out.entry(section.clone())
            .or_default()
            .entry(k.trim().to_owned())
            .or_default()
            .push(v.trim().to_owned());
    }
    out
}

fn one<'a>(u: &'a BTreeMap<String, BTreeMap<String, Vec<String>>>, s: &str, k: &str) -> &'a str {
    u.get(s)
        .and_then(|m| m.get(k))
        .and_then(|v| v.last())
        .unwrap_or_else(|| panic!("[{s}] {k} missing"))
}

#[test]
fn the_agent_unit_is_a_hardened_notify_service() {
    let u = parse_unit(&root().join("packaging/systemd/ykb-terminal.service"));
    assert_eq!(one(&u, "Service", "Type"), "notify");
    assert_eq!(one(&u, "Service", "Restart"), "always");
    assert!(one(&u, "Service", "ExecStart").ends_with(" agent"));
    assert!(one(&u, "Service", "WatchdogSec").parse::<u32>().unwrap() >= 10);
    assert_eq!(one(&u, "Service", "StateDirectory"), "ykb-terminal");
    assert_eq!(one(&u, "Service", "ConfigurationDirectory"), "ykb-terminal");
    assert_eq!(one(&u, "Service", "User"), "ykb");
    for (k, v) in [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("CapabilityBoundingSet", ""),
        ("RestrictSUIDSGID", "yes"),
        ("MemoryDenyWriteExecute", "yes"),
    ] {
        assert_eq!(one(&u, "Service", k), v, "{k}");
    }
    assert_eq!(one(&u, "Install", "WantedBy"), "multi-user.target");
    assert_eq!(
        one(&u, "Unit", "ConditionPathExists"),
        "/etc/ykb-terminal/terminal.toml"
    );
}

#[test]
fn the_kiosk_unit_restarts_the_ui_under_cage() {
    let u = parse_unit(&root().join("packaging/systemd/ykb-kiosk.service"));
    assert_eq!(one(&u, "Service", "Restart"), "always");
    let exec = one(&u, "Service", "ExecStart");
    assert!(
        exec.starts_with("/usr/bin/cage ") && exec.contains(" -- /usr/bin/ykb-terminal "),
        "{exec}"
    );
    assert_eq!(one(&u, "Service", "PAMName"), "login");
    assert_eq!(one(&u, "Service", "TTYPath"), "/dev/tty1");
    let groups = one(&u, "Service", "SupplementaryGroups");
    assert!(
        groups.contains("dialout") && groups.contains("video"),
        "{groups}"
    );
    assert!(one(&u, "Unit", "Conflicts").contains("getty@tty1.service"));
    // It parses card, scanner and camera input and holds the data key: sandboxed at least as
    // far as cage and the GPU allow (not PrivateDevices or ProtectHome: cage needs DRM, input
    // and /run/user; not MemoryDenyWriteExecute: Mesa's shader compilers write code).
    for (k, v) in [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("PrivateTmp", "yes"),
        ("ProtectProc", "invisible"),
        (
            "RestrictAddressFamilies",
            "AF_UNIX AF_INET AF_INET6 AF_NETLINK",
        ),
        ("SystemCallArchitectures", "native"),
        ("SystemCallErrorNumber", "EPERM"),
        ("CapabilityBoundingSet", ""),
        ("RestrictSUIDSGID", "yes"),
        ("RestrictNamespaces", "yes"),
    ] {
        assert_eq!(one(&u, "Service", k), v, "{k}");
    }
    let filters = &u["Service"]["SystemCallFilter"];
    assert!(
        filters.iter().any(|f| f == "@system-service"),
        "{filters:?}"
    );
    assert!(
        filters
            .iter()
            .any(|f| f.starts_with('~') && f.contains("@privileged")),
        "{filters:?}"
    );
}

#[test]
fn systemd_analyze_verifies_the_units_where_installed() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("systemd-analyze is not installed: the unit files were checked by parsing only");
        return;
    }
    // verify also checks that ExecStart binaries exist: point them at ones that do.
    let dir = tempfile::tempdir().unwrap();
    let mut units = Vec::new();
    for name in [
        "ykb-terminal.service",
        "ykb-kiosk.service",
        "ykb-terminal-sync.service",
        "ykb-terminal-sync.timer",
        "ykb-terminal-update.service",
        "ykb-terminal-update.timer",
        "ykb-terminal-update.path",
    ] {
        let text = std::fs::read_to_string(root().join("packaging/systemd").join(name))
            .unwrap()
            .replace("/usr/bin/ykb-terminal", env!("CARGO_BIN_EXE_ykb-terminal"))
            .replace("/usr/bin/cage", "/bin/true");
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        units.push(p);
    }
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .args(&units)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // verify reports unknown keys and bad values on stderr, often with exit 0: any line about
    // our files is a failure.
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains(&*dir.path().to_string_lossy()) || l.contains("ykb-"))
        .collect();
    assert!(out.status.success() && ours.is_empty(), "{stderr}");
}

#[test]
fn the_deb_metadata_is_complete_and_its_assets_exist() {
    let cargo: toml::Value =
        toml::from_str(&std::fs::read_to_string(root().join("Cargo.toml")).unwrap()).unwrap();
    let deb = &cargo["package"]["metadata"]["deb"];
    let assets: Vec<(String, String)> = deb["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let a = a.as_array().unwrap();
            (
                a[0].as_str().unwrap().to_owned(),
                a[1].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (src, _) in &assets {
        if src.starts_with("target/") {
            continue; // built by cargo deb
        }
        assert!(root().join(src).is_file(), "asset {src} does not exist");
    }
    let dest = |src: &str, dst: &str| -> String {
        if dst.ends_with('/') {
            format!(
                "/{dst}{}",
                Path::new(src).file_name().unwrap().to_string_lossy()
            )
        } else {
            format!("/{dst}")
        }
    };
    let installed: Vec<String> = assets.iter().map(|(s, d)| dest(s, d)).collect();
    assert!(installed.contains(&"/usr/bin/ykb-terminal".to_owned()));
    assert!(installed.contains(&"/lib/systemd/system/ykb-terminal.service".to_owned()));
    assert!(installed.contains(&"/lib/systemd/system/ykb-kiosk.service".to_owned()));
    assert!(installed.contains(&"/lib/systemd/system/ykb-terminal-sync.service".to_owned()));
    assert!(installed.contains(&"/lib/systemd/system/ykb-terminal-sync.timer".to_owned()));
    for unit in [
        "ykb-terminal-update.service",
        "ykb-terminal-update.timer",
        "ykb-terminal-update.path",
    ] {
        assert!(
            installed.contains(&format!("/lib/systemd/system/{unit}")),
            "{unit} is not installed"
        );
    }
    // Handwriting: the model where the terminal looks for it, its licence, and zinnia.
    assert!(installed.contains(&ykb_terminal::terminal::handwriting::INSTALLED_MODEL.to_owned()));
    assert!(installed.contains(&"/usr/share/doc/ykb-terminal/handwriting/ARPHICPL.TXT".to_owned()));
    assert!(
        deb["depends"].as_str().unwrap().contains("libzinnia0"),
        "the recogniser is loaded at run time from Debian's libzinnia0"
    );
    let conf: Vec<&str> = deb["conf-files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for c in &conf {
        assert!(
            c.starts_with("/etc/ykb-terminal/"),
            "conffile {c} is not under /etc"
        );
        assert!(
            installed.iter().any(|i| i == c),
            "conffile {c} is not installed"
        );
    }
    for i in installed.iter().filter(|i| i.starts_with("/etc/")) {
        assert!(
            conf.contains(&i.as_str()),
            "{i} under /etc but not a conffile"
        );
        // Every shipped profile is valid.
        let src = &assets[installed.iter().position(|x| x == i).unwrap()].0;
        ykb_terminal::core::config::Profile::load(&root().join(src)).unwrap();
    }
    assert!(
        !installed
            .iter()
            .any(|i| i == "/etc/ykb-terminal/terminal.toml"),
        "terminal.toml is written by provision, never by the package"
    );
    let scripts = root().join(deb["maintainer-scripts"].as_str().unwrap());
    let postinst = std::fs::read_to_string(scripts.join("postinst")).unwrap();
    assert!(
        postinst.contains("adduser --system"),
        "postinst creates a system user"
    );
    assert!(postinst.contains("dialout") && postinst.contains("video"));
    assert!(postinst.contains("/var/lib/ykb-terminal"));
    // On an upgrade or a rollback the agent is restarted onto the installed binary (the
    // health check refuses an agent still reporting the old version).
    assert!(
        postinst.contains("systemctl try-restart ykb-terminal.service"),
        "postinst restarts the agent after an upgrade"
    );
    use std::os::unix::fs::PermissionsExt;
    for s in ["postinst", "prerm", "postrm"] {
        let p = scripts.join(s);
        assert!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o111 != 0,
            "{s} executable"
        );
    }
}

#[test]
fn shell_scripts_parse() {
    for s in [
        "packaging/debian/postinst",
        "packaging/debian/prerm",
        "packaging/debian/postrm",
        "packaging/kiosk/ykb-kiosk-session",
    ] {
        let out = Command::new("sh")
            .arg("-n")
            .arg(root().join(s))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{s}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn the_udev_template_creates_every_device_name_the_profiles_use() {
    let rules =
        std::fs::read_to_string(root().join("packaging/udev/99-ykb-terminal.rules")).unwrap();
    let links: Vec<String> = rules
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let s = l
                .split("SYMLINK+=\"")
                .nth(1)
                .unwrap_or_else(|| panic!("no SYMLINK in {l}"));
            format!("/dev/{}", s.split('"').next().unwrap())
        })
        .collect();
    for entry in std::fs::read_dir(root().join("kiosk-config")).unwrap() {
        let p = entry.unwrap().path();
        let profile = ykb_terminal::core::config::Profile::load(&p).unwrap();
        let d = &profile.devices;
        for dev in [
            &d.id_reader,
            &d.printer,
            &d.scanner,
            &d.camera,
            &d.document_camera,
        ] {
            let path = dev.path.trim_start_matches("serial://");
            let path = path.split('?').next().unwrap();
            if path.starts_with("/dev/") {
                assert!(
                    links.iter().any(|l| l == path),
                    "{}: {path} has no udev rule",
                    p.display()
                );
            }
        }
    }
}

#[test]
fn the_sync_timer_drains_the_outbox_with_a_randomized_delay() {
    let svc = parse_unit(&root().join("packaging/systemd/ykb-terminal-sync.service"));
    assert_eq!(one(&svc, "Service", "Type"), "oneshot");
    let exec = one(&svc, "Service", "ExecStart");
    assert!(exec.ends_with("sync --drain"), "{exec}");
    assert_eq!(one(&svc, "Service", "User"), "ykb");
    let timer = parse_unit(&root().join("packaging/systemd/ykb-terminal-sync.timer"));
    assert!(!one(&timer, "Timer", "RandomizedDelaySec").is_empty());
    assert_eq!(one(&timer, "Install", "WantedBy"), "timers.target");
}

#[test]
fn the_update_unit_runs_as_root_in_a_sandbox_that_lets_dpkg_write_only_where_packages_go() {
    let u = parse_unit(&root().join("packaging/systemd/ykb-terminal-update.service"));
    assert_eq!(one(&u, "Service", "Type"), "oneshot");
    assert_eq!(one(&u, "Service", "User"), "root");
    let exec = one(&u, "Service", "ExecStart");
    assert!(
        exec.starts_with("/usr/bin/ykb-terminal --config /etc/ykb-terminal/terminal.toml ")
            && exec.ends_with(" update check --apply"),
        "{exec}"
    );
    // What it leaves in the data directory stays the agent's to read and write.
    assert_eq!(one(&u, "Service", "Group"), "ykb");
    assert_eq!(one(&u, "Service", "UMask"), "0007");
    for (k, v) in [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("ProtectKernelModules", "yes"),
        ("ProtectClock", "yes"),
        ("RestrictNamespaces", "yes"),
        ("RestrictSUIDSGID", "yes"),
        ("MemoryDenyWriteExecute", "yes"),
        ("SystemCallArchitectures", "native"),
        ("AmbientCapabilities", ""),
    ] {
        assert_eq!(one(&u, "Service", k), v, "{k}");
    }
    // dpkg writes the package's files, its database and its log; nothing else is writable.
    let rw: Vec<&str> = one(&u, "Service", "ReadWritePaths")
        .split_whitespace()
        .collect();
    for p in ["/usr", "/etc", "/var/lib/dpkg", "/var/lib/ykb-terminal"] {
        assert!(rw.contains(&p), "{p} not writable: {rw:?}");
    }
    assert!(!rw.contains(&"/") && !rw.contains(&"/home"), "{rw:?}");
    // Root, but with only the capabilities installing files needs.
    let caps: Vec<&str> = one(&u, "Service", "CapabilityBoundingSet")
        .split_whitespace()
        .collect();
    assert!(
        caps.contains(&"CAP_CHOWN") && caps.contains(&"CAP_FOWNER"),
        "{caps:?}"
    );
    for never in [
        "CAP_SYS_ADMIN",
        "CAP_NET_ADMIN",
        "CAP_SYS_MODULE",
        "CAP_SYS_PTRACE",
    ] {
        assert!(!caps.contains(&never), "{never} in {caps:?}");
    }
    let filters = &u["Service"]["SystemCallFilter"];
    assert!(
        filters.iter().any(|f| f == "@system-service"),
        "{filters:?}"
    );
    assert!(
        filters
            .iter()
            .any(|f| f.starts_with('~') && f.contains("@module") && f.contains("@mount")),
        "{filters:?}"
    );
    assert_eq!(
        one(&u, "Unit", "ConditionPathExists"),
        "/etc/ykb-terminal/terminal.toml"
    );

    // Started by the agent's request file and, as a backstop, by a randomised timer.
    let path = parse_unit(&root().join("packaging/systemd/ykb-terminal-update.path"));
    assert_eq!(
        one(&path, "Path", "PathExists"),
        format!(
            "/var/lib/ykb-terminal/update/{}",
            ykb_terminal::ops::rollout::APPLY_REQUEST_FILE
        )
    );
    assert_eq!(one(&path, "Path", "Unit"), "ykb-terminal-update.service");
    assert_eq!(one(&path, "Install", "WantedBy"), "paths.target");
    let timer = parse_unit(&root().join("packaging/systemd/ykb-terminal-update.timer"));
    assert_eq!(one(&timer, "Timer", "Unit"), "ykb-terminal-update.service");
    assert!(!one(&timer, "Timer", "RandomizedDelaySec").is_empty());
    assert_eq!(one(&timer, "Install", "WantedBy"), "timers.target");
}
