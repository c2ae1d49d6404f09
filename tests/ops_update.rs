//! Signed, staged updates with rollback, with Debian's own tools for real: the test builds
//! versions of a tiny package of ours (`ykb-update-probe`, whose health script passes, fails or
//! hangs depending on the version) with `dpkg-deb`, puts them in a flat repository indexed by
//! `apt-ftparchive` and signed by `gpg` with a throwaway key, serves it over loopback HTTP (a
//! small file server below), and lets `ops::update` run `apt-get` and `dpkg` against a
//! chroot-like root in a temporary directory (the host's packages are never touched).
//!
//! Missing tools are an error, never a skip: `scripts/test` installs `apt-utils` and `gnupg`.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ykb_terminal::core::update::{Activity, Decision, Reason, Rollout};
use ykb_terminal::ops::update::{
    HealthCheck, Outcome, Repo, RunResult, UpdateError, UpdateReport, Updater,
};

const PKG: &str = "ykb-update-probe";
const DEVICE: &str = "KIOSK-0042";

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!(
            "{:?} could not run ({e}); scripts/test installs apt-utils and gnupg",
            cmd
        )
    });
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Build `ykb-update-probe_<version>_all.deb` into `dir`; its health script runs `health`.
fn build_probe(dir: &Path, version: &str, health: &str) {
    let tree = dir.join(format!("tree-{version}"));
    let lib = tree.join("usr/lib").join(PKG);
    std::fs::create_dir_all(tree.join("DEBIAN")).unwrap();
    std::fs::create_dir_all(&lib).unwrap();
    std::fs::write(
        tree.join("DEBIAN/control"),
        format!(
            "Package: {PKG}\nVersion: {version}\nArchitecture: all\n\
             Maintainer: ykb-terminal tests <ops@example.invalid>\n\
             Description: update probe for the ykb-terminal update tests\n"
        ),
    )
    .unwrap();
    std::fs::write(lib.join("version"), version).unwrap();
    let script = lib.join("health");
    std::fs::write(&script, format!("#!/bin/sh\n{health}\n")).unwrap();
    run(Command::new("chmod").arg("0755").arg(&script));
    let deb = dir.join(format!("{PKG}_{version}_all.deb"));
    run(Command::new("dpkg-deb")
        .args(["--root-owner-group", "-Zgzip", "--build"])
        .arg(&tree)
        .arg(deb));
    std::fs::remove_dir_all(tree).unwrap();
}

/// A throwaway OpenPGP key; returns its GNUPGHOME and the exported public keyring.
fn gpg_key(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let home = dir.join(format!("gnupg-{name}"));
    std::fs::create_dir_all(&home).unwrap();
    run(Command::new("chmod").arg("0700").arg(&home));
    run(Command::new("gpg").env("GNUPGHOME", &home).args([
        "--batch",
        "--passphrase",
        "",
        "--quick-gen-key",
        &format!("ykb {name} <{name}@example.invalid>"),
        "ed25519",
        "sign",
        "never",
    ]));
    let keyring = dir.join(format!("{name}.gpg"));
    let key = Command::new("gpg")
        .env("GNUPGHOME", &home)
        .arg("--export")
        .output()
        .unwrap();
    assert!(
        key.status.success() && !key.stdout.is_empty(),
        "gpg --export gave nothing"
    );
    std::fs::write(&keyring, key.stdout).unwrap();
    (home, keyring)
}

/// Index the `.deb`s in `repo` (a flat repository); sign it with `gnupg` when given.
fn index(repo: &Path, gnupg: Option<&Path>) {
    let packages = run(Command::new("apt-ftparchive")
        .current_dir(repo)
        .args(["packages", "."]));
    std::fs::write(repo.join("Packages"), packages).unwrap();
    let release = run(Command::new("apt-ftparchive")
        .current_dir(repo)
        .args(["release", "."]));
    std::fs::write(repo.join("Release"), release).unwrap();
    if let Some(home) = gnupg {
        run(Command::new("gpg")
            .env("GNUPGHOME", home)
            .current_dir(repo)
            .args([
                "--batch",
                "--yes",
                "--clearsign",
                "-o",
                "InRelease",
                "Release",
            ]));
    }
}

/// Serve `dir` over loopback HTTP (GET only, one request per connection); returns the URL.
fn serve(dir: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let dir = dir.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                if reader.read_line(&mut request).is_err() {
                    return;
                }
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let path = request.split_whitespace().nth(1).unwrap_or("/");
                let name = path.trim_start_matches('/').trim_start_matches("./");
                let file = (!name.contains("..")).then(|| dir.join(name));
                let mut out = stream;
                match file.and_then(|f| std::fs::read(f).ok()) {
                    Some(body) if request.starts_with("GET ") => {
                        let head = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        );
                        let _ = out.write_all(head.as_bytes());
                        let _ = out.write_all(&body);
                    }
                    _ => {
                        let _ = out.write_all(
                            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        );
                    }
                }
            });
        }
    });
    url
}

/// An empty chroot-like root: just dpkg's database.
fn empty_root(dir: &Path) -> PathBuf {
    let root = dir.join("root");
    for d in ["var/lib/dpkg/updates", "var/lib/dpkg/info"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::write(root.join("var/lib/dpkg/status"), "").unwrap();
    root
}

fn updater(dir: &Path, root: &Path, url: String, keyring: PathBuf) -> Updater {
    Updater {
        package: PKG.into(),
        repo: Repo {
            url,
            dist: "./".into(),
            components: vec![],
            keyring,
        },
        root: root.to_path_buf(),
        state_dir: dir.join("state"),
        health: HealthCheck {
            program: root.join("usr/lib").join(PKG).join("health"),
            args: vec![],
            deadline: Duration::from_secs(2),
        },
    }
}

fn rollout(version: &str, percent: Option<u8>, terminals: &[&str], pinned: bool) -> Rollout {
    Rollout {
        version: version.into(),
        percent,
        terminals: terminals.iter().map(|t| t.to_string()).collect(),
        pinned,
    }
}

fn applied(r: Result<RunResult, UpdateError>) -> UpdateReport {
    match r.unwrap() {
        RunResult::Applied(report) => report,
        other => panic!("expected an install, got {other:?}"),
    }
}

fn installed_file(root: &Path) -> String {
    std::fs::read_to_string(root.join("usr/lib").join(PKG).join("version")).unwrap()
}

#[test]
fn upgrade_fails_its_health_check_and_rolls_back_to_the_cached_version() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let repo = dir.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    build_probe(&repo, "1.0.0", "exit 0");
    build_probe(
        &repo,
        "1.1.0",
        "test -f \"$YKB_UPDATE_ROOT/usr/lib/ykb-update-probe/version\"",
    );
    build_probe(&repo, "2.0.0", "echo '界面未能显示首帧' >&2\nexit 1");
    build_probe(&repo, "2.1.0", "exec sleep 30");
    let (gnupg, keyring) = gpg_key(dir, "repo");
    index(&repo, Some(&gnupg));
    let url = serve(repo.clone());
    let root = empty_root(dir);
    let u = updater(dir, &root, url, keyring);
    let idle = Activity::default();

    // Not in the cohort: nothing happens, nothing is installed.
    let other = rollout("1.0.0", None, &["KIOSK-0001"], false);
    assert_eq!(
        u.run(Some(&other), DEVICE, idle).unwrap(),
        RunResult::NotNow(Decision::Stay)
    );
    assert_eq!(u.installed().unwrap(), None);

    // First install, by name in the terminal list.
    let first = applied(u.run(
        Some(&rollout("1.0.0", None, &[DEVICE], false)),
        DEVICE,
        idle,
    ));
    assert_eq!((first.from, first.now.as_deref()), (None, Some("1.0.0")));
    assert_eq!(first.outcome, Outcome::Installed);
    assert_eq!(installed_file(&root), "1.0.0");

    // A healthy upgrade to everyone.
    let up = applied(u.run(Some(&rollout("1.1.0", Some(100), &[], false)), DEVICE, idle));
    assert_eq!(up.outcome, Outcome::Installed);
    assert_eq!(u.installed().unwrap().as_deref(), Some("1.1.0"));

    // A case is being submitted: deferred, and nothing is installed.
    let busy = Activity {
        citizen_present: true,
        submitting: true,
    };
    let v2 = rollout("2.0.0", Some(100), &[], false);
    assert_eq!(
        u.run(Some(&v2), DEVICE, busy).unwrap(),
        RunResult::NotNow(Decision::Defer(Reason::Submitting))
    );
    assert_eq!(u.installed().unwrap().as_deref(), Some("1.1.0"));

    // Between citizens: 2.0.0 goes in, fails its health check, 1.1.0 comes back from the local
    // cache (it is gone from the repository, so nothing else could bring it back).
    std::fs::remove_file(repo.join("ykb-update-probe_1.1.0_all.deb")).unwrap();
    let back = applied(u.run(Some(&v2), DEVICE, idle));
    assert_eq!(back.from.as_deref(), Some("1.1.0"));
    assert_eq!(back.to, "2.0.0");
    assert_eq!(back.now.as_deref(), Some("1.1.0"), "{back:?}");
    let Outcome::RolledBack {
        reason,
        restored_healthy,
    } = &back.outcome
    else {
        panic!("expected a rollback: {back:?}")
    };
    assert!(reason.contains("界面未能显示首帧"), "{reason}");
    assert!(restored_healthy);
    assert_eq!(installed_file(&root), "1.1.0");
    assert_eq!(u.last_report().unwrap().as_ref(), Some(&back));

    // A health check that never answers is cut at its deadline and rolled back too.
    let hang = applied(u.run(Some(&rollout("2.1.0", Some(100), &[], false)), DEVICE, idle));
    let Outcome::RolledBack {
        reason,
        restored_healthy: true,
    } = &hang.outcome
    else {
        panic!("expected a rollback: {hang:?}")
    };
    assert!(reason.contains("秒内未完成"), "{reason}");
    assert_eq!(hang.now.as_deref(), Some("1.1.0"));

    // A downgrade is refused unless pinned; pinned, it is installed.
    let down = rollout("1.0.0", Some(100), &[], false);
    let RunResult::NotNow(Decision::Refuse(why)) = u.run(Some(&down), DEVICE, idle).unwrap() else {
        panic!("a downgrade was not refused")
    };
    assert!(why.to_string().contains("拒绝降级"), "{why}");
    assert_eq!(u.installed().unwrap().as_deref(), Some("1.1.0"));
    let pinned = applied(u.run(Some(&rollout("1.0.0", Some(100), &[], true)), DEVICE, idle));
    assert_eq!(
        (pinned.now.as_deref(), &pinned.outcome),
        (Some("1.0.0"), &Outcome::Installed)
    );
    assert_eq!(installed_file(&root), "1.0.0");
}

#[test]
fn an_unsigned_or_wrongly_signed_repository_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (_, keyring) = gpg_key(dir, "trusted");
    let (stranger, _) = gpg_key(dir, "stranger");
    for (name, signer) in [("unsigned", None), ("stranger", Some(stranger.as_path()))] {
        let repo = dir.join(name);
        std::fs::create_dir_all(&repo).unwrap();
        build_probe(&repo, "1.0.0", "exit 0");
        index(&repo, signer);
        let work = dir.join(format!("work-{name}"));
        std::fs::create_dir_all(&work).unwrap();
        let root = empty_root(&work);
        let u = updater(&work, &root, serve(repo), keyring.clone());
        let err = u
            .run(
                Some(&rollout("1.0.0", Some(100), &[], false)),
                DEVICE,
                Activity::default(),
            )
            .expect_err(name);
        assert!(matches!(err, UpdateError::Unsigned(_)), "{name}: {err}");
        assert!(err.to_string().contains("签名"), "{err}");
        assert_eq!(
            u.installed().unwrap(),
            None,
            "{name}: something was installed"
        );
    }
}
