//! Signed, staged updates with rollback, with Debian's own tools for real: the test builds
//! versions of a tiny package of ours (`ykb-update-probe`, whose health script passes, fails or
//! hangs depending on the version) with `dpkg-deb`, puts them in a flat repository indexed by
//! `apt-ftparchive` and signed by `gpg` with a throwaway key, serves it over loopback HTTP (the
//! helpers are in `tests/common/apt.rs`), and lets `ops::update` run `apt-get` and `dpkg` against a
//! chroot-like root in a temporary directory (the host's packages are never touched).
//!
//! Missing tools are an error, never a skip: `scripts/test` installs `apt-utils` and `gnupg`.

mod common;

use common::apt::*;
use ykb_terminal::core::update::{Activity, Decision, Reason, Rollout};
use ykb_terminal::ops::update::{Outcome, RunResult, UpdateError, UpdateReport};

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

#[test]
fn a_disk_too_full_to_keep_both_versions_refuses_the_update() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let repo = dir.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    build_probe(&repo, "1.0.0", "exit 0");
    build_probe(&repo, "1.1.0", "exit 0");
    let (gnupg, keyring) = gpg_key(dir, "repo");
    index(&repo, Some(&gnupg));
    let root = empty_root(dir);
    let mut u = updater(dir, &root, serve(repo), keyring);
    assert_eq!(u.apply("1.0.0").unwrap().outcome, Outcome::Installed);
    // More must stay free than the file system has: nothing is fetched or installed.
    let free = ykb_terminal::core::health::disk_space(dir)
        .unwrap()
        .free_bytes;
    u.min_free_bytes = free + (1 << 30);
    let err = u
        .apply("1.1.0")
        .expect_err("installed with no room for the way back");
    assert!(matches!(err, UpdateError::DiskFull { .. }), "{err}");
    assert!(err.to_string().contains("磁盘空间不足"), "{err}");
    assert_eq!(u.installed().unwrap().as_deref(), Some("1.0.0"));
    assert_eq!(installed_file(&root), "1.0.0");
    let cached = std::fs::read_dir(dir.join("state/debs"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("1.1.0"))
        .count();
    assert_eq!(cached, 0, "1.1.0 was fetched although it could not be kept");
}
