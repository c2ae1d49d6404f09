//! Group "outbox-disk" (issue 17): time from free space returning to the first delivered
//! case. A terminal's data directory is a real 3 MiB tmpfs; the delivery worker
//! (`outbox::run_worker`, as the kiosk and the agent run it) is running against the
//! in-process simulator; a file from outside fills the disk, so the kiosk's cases are refused
//! (「本机存储空间不足」) — the kiosk submits one every 20 ms, as citizens keep coming. The clock
//! starts when the file is deleted and stops when the platform has the first case taken
//! after that: admission on real free space, the durable enqueue, the worker's wake-up and
//! the delivery round trip. Needs root for `mount` (without it the figure says so).

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ykb_terminal::core::outbox::{self, Backoff, OutboxError, Quota};
use ykb_terminal::core::store::Store;

use super::Figure;

const GROUP: &str = "outbox-disk";
/// How often the kiosk submits a case while it is refused.
const EVERY: Duration = Duration::from_millis(20);

/// A tmpfs mounted on a fresh directory, unmounted when dropped.
struct Tmpfs {
    dir: PathBuf,
    _parent: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Result<Self, String> {
        let parent = tempfile::tempdir().map_err(|e| e.to_string())?;
        let dir = parent.path().join("data");
        std::fs::create_dir(&dir).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
        }
        Ok(Self {
            dir,
            _parent: parent,
        })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// The group's entry point.
pub fn outbox_disk(out: &mut Vec<Figure>) {
    let name = "free space returns → first case delivered (3 MiB tmpfs, worker running)";
    let fs = match Tmpfs::mount("3m") {
        Ok(fs) => fs,
        Err(e) => {
            out.push(Figure {
                group: GROUP,
                name: name.into(),
                value: f64::NAN,
                unit: "ms",
                baseline: None,
                note: format!("unavailable: a tmpfs could not be mounted (run as root): {e}"),
            });
            return;
        }
    };
    let rt = super::runtime();
    let mut runs: Vec<Duration> = Vec::new();
    let mut refused = 0;
    for _ in 0..3 {
        let (took, r) = rt.block_on(one_run(&fs.dir));
        runs.push(took);
        refused += r;
        for e in std::fs::read_dir(&fs.dir).expect("data dir") {
            let p = e.expect("entry").path();
            let _ = std::fs::remove_file(&p);
        }
    }
    runs.sort();
    out.push(Figure {
        group: GROUP,
        name: name.into(),
        value: runs[1].as_secs_f64() * 1000.0,
        unit: "ms",
        baseline: None,
        note: format!(
            "median of 3 ({:.0} / {:.0} / {:.0} ms); the kiosk retries every {} ms ({refused} refusals \
             while full); includes its enqueue, the worker's wake-up and the POST",
            runs[0].as_secs_f64() * 1000.0,
            runs[1].as_secs_f64() * 1000.0,
            runs[2].as_secs_f64() * 1000.0,
            EVERY.as_millis()
        ),
    });
}

/// One fill, refuse, free, deliver; returns the time from free space to delivery and how
/// many submissions were refused while the disk was full.
async fn one_run(dir: &std::path::Path) -> (Duration, usize) {
    use ykb_terminal::core::platform::client::{ClientConfig, PlatformClient};
    use ykb_terminal::core::platform::wire;
    let sim =
        ykb_terminal::sim::platform::start("127.0.0.1:0".parse().unwrap(), Default::default())
            .await
            .expect("simulator");
    let mut core =
        ykb_terminal::core::Core::start(ykb_terminal::core::config::Profile::demo(), dir)
            .expect("core on the tmpfs");
    let client = PlatformClient::new(ClientConfig::from_profile(
        &core.profile.platform,
        Some(&sim.base_url()),
        wire::demo_verifying_key(),
    ))
    .unwrap();
    let mut request = wire::RegisterRequest::for_terminal(
        &core.profile.terminal,
        ykb_terminal::core::sync::DEMO_ENROLMENT_CODE,
    );
    request.name = "bench".into();
    ykb_terminal::core::credentials::ensure_registered(
        &client,
        &mut core.store,
        &core.key,
        &request,
    )
    .await
    .expect("register");
    let case = super::bench_case(&core);
    let path = core.store.path().to_owned();
    let key = Arc::new(core.key);
    let wake = Arc::new(tokio::sync::Notify::new());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(outbox::run_worker(
        Arc::new(Mutex::new(core.store)),
        key.clone(),
        client,
        Backoff::default(),
        30,
        wake.clone(),
        stop_rx,
        None,
    ));
    // The kiosk's own connection, opened before the disk fills.
    let mut kiosk = Store::open(&path).expect("kiosk store");
    // The disk fills from outside.
    let filler = dir.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).expect("filler");
        let block = vec![0x55u8; 16 * 1024];
        while f.write_all(&block).is_ok() {}
        let _ = f.sync_all();
    }
    // Refused while full.
    let mut refused = 0;
    let submit = |kiosk: &mut Store| {
        outbox::enqueue_case(
            kiosk,
            &key,
            Quota::from_mb(256),
            case.clone(),
            jiff::Timestamp::now(),
        )
    };
    for _ in 0..10 {
        match submit(&mut kiosk) {
            Err(OutboxError::NoSpace { .. }) => refused += 1,
            other => panic!("a full disk took a case: {other:?}"),
        }
        tokio::time::sleep(EVERY).await;
    }
    // Space returns.
    std::fs::remove_file(&filler).expect("free the disk");
    let t0 = Instant::now();
    loop {
        match submit(&mut kiosk) {
            Ok(_) => {
                // As `Terminal::enqueue_case` does.
                wake.notify_one();
                break;
            }
            Err(OutboxError::NoSpace { .. }) => refused += 1,
            Err(e) => panic!("enqueue after space returned: {e}"),
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "never taken again");
        tokio::time::sleep(EVERY).await;
    }
    while sim.cases().is_empty() {
        assert!(t0.elapsed() < Duration::from_secs(120), "never delivered");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let took = t0.elapsed();
    let _ = stop_tx.send(true);
    wake.notify_one();
    let _ = worker.await;
    drop(kiosk);
    sim.shutdown().await;
    (took, refused)
}
