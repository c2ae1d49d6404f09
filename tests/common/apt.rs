//! A signed local APT repository for the update tests: a tiny package of ours
//! (`ykb-update-probe`, whose health script passes, fails or hangs depending on the
//! version) built with `dpkg-deb`, a flat repository indexed by `apt-ftparchive` and signed by
//! `gpg` with a throwaway key, served over loopback HTTP, and a chroot-like root.
//!
//! Missing tools are an error, never a skip: `scripts/test` installs `apt-utils` and `gnupg`.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ykb_terminal::ops::update::{HealthCheck, Repo, Updater};

pub const PKG: &str = "ykb-update-probe";
pub const DEVICE: &str = "KIOSK-0042";

pub fn run(cmd: &mut Command) -> String {
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
pub fn build_probe(dir: &Path, version: &str, health: &str) {
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
pub fn gpg_key(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
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
pub fn index(repo: &Path, gnupg: Option<&Path>) {
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
pub fn serve(dir: PathBuf) -> String {
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
pub fn empty_root(dir: &Path) -> PathBuf {
    let root = dir.join("root");
    for d in ["var/lib/dpkg/updates", "var/lib/dpkg/info"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::write(root.join("var/lib/dpkg/status"), "").unwrap();
    root
}

pub fn updater(dir: &Path, root: &Path, url: String, keyring: PathBuf) -> Updater {
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
        min_free_bytes: 0,
    }
}

/// The probe's health script inside `root`.
pub fn health_script(root: &Path) -> PathBuf {
    root.join("usr/lib").join(PKG).join("health")
}

/// The version file the installed probe carries in `root`.
pub fn installed_file(root: &Path) -> String {
    std::fs::read_to_string(root.join("usr/lib").join(PKG).join("version")).unwrap()
}
