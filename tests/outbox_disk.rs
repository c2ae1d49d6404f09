//! The disk as a resource (issue 17): a terminal whose data directory is a real 3 MiB tmpfs
//! fills it, keeps taking what fits, refuses the rest plainly, records every answer to a case
//! it already sent (once each at the platform), and takes work again by itself when space
//! returns. Needs root for `mount` (CI and this machine run tests as root): it fails, saying
//! why, when it cannot mount.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use jiff::Timestamp;
use ykb_terminal::core::config::Profile;
use ykb_terminal::core::outbox::{self, space, Backoff, OutboxError, Quota, Step};
use ykb_terminal::core::Core;

mod common;

/// A tmpfs of `size` mounted on a fresh directory; unmounted when dropped, also when the
/// test fails.
struct Tmpfs {
    dir: PathBuf,
    _parent: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Self {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("data");
        std::fs::create_dir(&dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .output()
            .unwrap_or_else(|e| panic!("cannot run mount: {e}"));
        assert!(
            out.status.success(),
            "this test needs a real tmpfs and could not mount one (run as root, as CI does): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self {
            dir,
            _parent: parent,
        }
    }

    fn path(&self) -> &Path {
        &self.dir
    }

    fn free(&self) -> u64 {
        ykb_terminal::core::health::disk_space(&self.dir)
            .unwrap()
            .free_bytes
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// A case with a ~300 kB image (a photographed material), as the kiosk submits it.
fn big_case(core: &Core, n: usize) -> outbox::NewCase {
    let mut c = common::new_case(
        core,
        &format!("测试{n}"),
        &format!("50010319500307{:03}", n % 1000),
        "重庆市渝中区解放碑街道民族路188号",
    );
    let noise: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 ^ n as u8)
        .collect();
    c.images[0].1 = noise;
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_small_disk_refuses_plainly_delivers_once_and_resumes_by_itself() {
    let fs = Tmpfs::mount("3m");
    let sim =
        ykb_terminal::sim::platform::start("127.0.0.1:0".parse().unwrap(), Default::default())
            .await
            .unwrap();
    let mut core = Core::start(Profile::demo(), fs.path()).unwrap();
    let client = common::registered_client(&mut core, &sim.base_url(), "disk").await;
    assert!(
        fs.path().join(space::BALLAST_FILE).exists(),
        "the space reserve is made at start"
    );

    // Fill: cases are taken while they fit, then refused as a disk matter, not a quota one.
    let mut accepted = Vec::new();
    let refusal = loop {
        let c = big_case(&core, accepted.len());
        match outbox::enqueue_case(
            &mut core.store,
            &core.key,
            Quota::from_mb(256),
            c,
            Timestamp::now(),
        ) {
            Ok(a) => accepted.push(a.id),
            Err(e) => break e,
        }
        assert!(accepted.len() < 50, "a 3 MiB disk took 50 cases of 300 kB");
    };
    assert!(!accepted.is_empty());
    assert!(
        matches!(refusal, OutboxError::NoSpace { .. }),
        "{refusal:?}"
    );
    let text = refusal.to_string();
    assert!(
        text.contains("存储空间不足") && text.contains("窗口"),
        "{text}"
    );
    assert!(!text.contains("暂存已满"), "not the quota's words: {text}");

    // Now the disk fills from outside (logs, another program) down to nothing at all.
    let filler = fs.path().join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0x55u8; 16 * 1024];
        while f.write_all(&block).is_ok() {}
        let _ = f.sync_all();
    }
    assert!(
        fs.free() < 64 * 1024,
        "the disk is full: {} bytes free",
        fs.free()
    );

    // Delivery still records every answer: each case reaches the platform once.
    let later = big_case(&core, 99);
    let store = Mutex::new(core.store);
    let mut delivered = 0;
    for _ in 0..(accepted.len() * 4) {
        match outbox::deliver_next(
            &store,
            &core.key,
            &client,
            Backoff::default(),
            Timestamp::now(),
        )
        .await
        {
            Ok(Step::Delivered { .. }) => delivered += 1,
            Ok(Step::Idle) => break,
            other => panic!("delivery on a full disk: {other:?}"),
        }
    }
    assert_eq!(delivered, accepted.len());
    let posts: u64 = sim.cases().iter().map(|c| c.count).sum();
    assert_eq!(posts, accepted.len() as u64, "no case sent twice");
    {
        let mut s = store.lock().unwrap();
        assert_eq!(
            outbox::status(&mut s, Quota::from_mb(256)).unwrap().pending,
            0
        );
        for id in &accepted {
            let stub = outbox::case_stub(&mut s, &id.to_string()).unwrap().unwrap();
            assert_eq!(stub.status, "submitted", "the answer is recorded");
            assert!(stub.unified_code.is_some());
        }
    }

    // Space returns: the next case is taken without anyone touching the terminal.
    std::fs::remove_file(&filler).unwrap();
    let _ = outbox::drain(
        &store,
        &core.key,
        &client,
        Backoff::default(),
        Timestamp::now,
    )
    .await
    .unwrap();
    assert!(
        fs.path().join(space::BALLAST_FILE).exists(),
        "the space reserve is made again ({} bytes free; {:?})",
        fs.free(),
        std::fs::read_dir(fs.path())
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.file_name(), e.metadata().unwrap().len())
            })
            .collect::<Vec<_>>()
    );
    let mut s = store.into_inner().unwrap();
    for id in &accepted {
        let stub = outbox::case_stub(&mut s, &id.to_string()).unwrap().unwrap();
        assert!(
            !stub.holds_personal_data,
            "wiped once space returned: {stub:?}"
        );
    }
    let images: i64 = s
        .conn()
        .query_row("SELECT count(*) FROM case_materials", [], |r| r.get(0))
        .unwrap();
    assert_eq!(images, 0);
    let c = later;
    outbox::enqueue_case(&mut s, &core.key, Quota::from_mb(256), c, Timestamp::now())
        .expect("taken again once space returned");
    drop(s);
    sim.shutdown().await;
}

#[test]
fn a_catalogue_sync_that_cannot_fit_does_not_start() {
    let fs = Tmpfs::mount("2m");
    let sim = common::sim::Sim::start();
    let fx = common::Fixture::new();
    // A terminal whose catalogue comes from the platform, on the 2 MiB disk.
    let _ = &fx;
    let mut core = Core::start(Profile::demo(), fs.path()).unwrap();
    let client = sim.block_on(common::registered_client(&mut core, &sim.url(), "sync"));
    let filler = fs.path().join("filler");
    std::fs::write(
        &filler,
        vec![0u8; (fs.free() as usize).saturating_sub(600 * 1024)],
    )
    .unwrap();
    let err = sim
        .block_on(ykb_terminal::core::sync::sync_once(
            &client,
            &mut core.store,
            core.profile.terminal.region_code,
            true,
            &|_| {},
        ))
        .unwrap_err();
    assert!(
        matches!(err, ykb_terminal::core::sync::SyncError::NoSpace(_)),
        "{err}"
    );
    assert!(err.to_string().contains("磁盘空间不足"), "{err}");
}
