//! Group "kiosk-startup" (issue 6): cold start of the kiosk binary on the demo profile to its
//! first drawn frame, and its resident memory, beside Chromium loading the same home page as
//! static HTML (`benches/data/home.html`) on the same X server in the same run.
//!
//! Both run on an Xvfb display this group starts (1920×1920×24, room for every panel), each
//! from a fresh data directory / browser profile per run, so every run is a first start
//! ("cold" for the application; the OS file cache is warm after the warm-up run, for both
//! alike).
//!
//! Issue 15 adds the panels: the same kiosk start on the demo profile with `terminal.screen`
//! set to 1920×1080 and to 1080×1920 (a profile written from `kiosk-config/demo.toml`), each
//! beside the same start at 1280×800 measured in the same run; goal no worse than 1.2×.
//!
//! - Kiosk: the release-profile binary Cargo builds for the bench (`CARGO_BIN_EXE_…`), with
//!   `YKB_BENCH_FIRST_FRAME=1` (see `src/kiosk/startup.rs`): it prints one line after its first
//!   frame has been drawn and presented. Time = spawn → that line read by the bench. Memory =
//!   the process's `VmHWM` at that moment (one process; the bench checks it has no children).
//! - Chromium: `chromium --kiosk` on the HTML file; the page, after `load`, waits two
//!   animation frames (the first frame after load has been produced) and requests an image
//!   from a loopback listener in the bench. Time = spawn → that request. Memory = peak of
//!   VmRSS summed over Chromium's process tree, polled every 20 ms until then (a lower bound
//!   of the true peak); PSS summed over the tree at that moment is in the note, since RSS
//!   counts shared pages once per process.
//!
//! Skipped with a note when `Xvfb` is not on PATH, and outside `cargo bench` (a test run of
//! the bench starts no X server or browser); the Chromium baseline is reported as
//! unavailable when `chromium` is not.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{Baseline, Figure};

const GROUP: &str = "kiosk-startup";
const RUNS: usize = 5;
const TIMEOUT: Duration = Duration::from_secs(60);
/// How often Chromium's memory is sampled (VmRSS of each process: a cheap read).
const POLL_MS: u64 = 20;

/// Whether `program` is on PATH.
fn on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    })
}

/// An Xvfb server this group started; stopped (by its pid) when dropped.
struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start() -> Result<Self, String> {
        let n = (90..200)
            .find(|n| {
                !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                    && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
            })
            .ok_or("no free X display number in :90–:199")?;
        let child = Command::new("Xvfb")
            .args([
                &format!(":{n}"),
                "-screen",
                "0",
                "1920x1920x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("Xvfb did not start: {e}"))?;
        let x = Self {
            child,
            display: format!(":{n}"),
        };
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
        let end = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            if Instant::now() > end {
                return Err(format!("Xvfb :{n} did not open its socket within 10 s"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(x)
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        // SIGTERM lets Xvfb remove its lock file and socket; SIGKILL only if it hangs.
        // SAFETY: kill(2) on the pid of the server this group started.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let end = Instant::now() + Duration::from_secs(3);
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `pid` and all its descendants, from `/proc/*/stat`.
fn process_tree(root: u32) -> Vec<u32> {
    let mut parent: HashMap<u32, u32> = HashMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
                continue;
            };
            // Field 4 (ppid) follows the parenthesised command name.
            if let Some(ppid) = stat
                .rfind(')')
                .and_then(|i| stat[i + 2..].split_whitespace().nth(1))
                .and_then(|p| p.parse().ok())
            {
                parent.insert(pid, ppid);
            }
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let p = tree[i];
        tree.extend(parent.iter().filter(|&(_, &pp)| pp == p).map(|(&c, _)| c));
        i += 1;
    }
    tree
}

/// A `kB` field of a `/proc/PID/…` file.
fn proc_kib(pid: u32, file: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/{file}"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// RSS (KiB) summed over the process tree of `root`, PSS too when asked (it costs a walk of
/// every mapping), and how many processes.
fn tree_memory(root: u32, with_pss: bool) -> (u64, u64, usize) {
    let pids = process_tree(root);
    let rss = pids.iter().map(|&p| proc_kib(p, "status", "VmRSS:")).sum();
    let pss = if with_pss {
        pids.iter()
            .map(|&p| proc_kib(p, "smaps_rollup", "Pss:"))
            .sum()
    } else {
        0
    };
    (rss, pss, pids.len())
}

/// Ends the process tree of `child` (processes this group started), by pid.
fn stop_tree(child: &mut Child) {
    let pids = process_tree(child.id());
    for &p in pids.iter().rev() {
        // SAFETY: kill(2) with a pid from our own child's tree; no memory is touched.
        unsafe {
            libc::kill(p as libc::pid_t, libc::SIGKILL);
        }
    }
    let _ = child.wait();
}

struct KioskRun {
    wall: Duration,
    own_ms: f64,
    hwm_kib: u64,
    processes: usize,
}

/// The demo profile drawn on a `w`×`h` panel (`terminal.screen`), as a file in `dir`.
fn demo_profile_at(dir: &Path, (w, h): (u32, u32)) -> Result<PathBuf, String> {
    let demo = include_str!("../../kiosk-config/demo.toml");
    let commented = "# screen = \"1920x1080\"";
    if !demo.contains(commented) {
        return Err("kiosk-config/demo.toml no longer has its commented screen line".into());
    }
    let path = dir.join(format!("demo-{w}x{h}.toml"));
    std::fs::write(
        &path,
        demo.replace(commented, &format!("screen = \"{w}x{h}\"")),
    )
    .map_err(|e| e.to_string())?;
    Ok(path)
}

/// One cold start; `profile` None is the embedded demo profile (1280×800 window).
fn kiosk_once(display: &str, profile: Option<&Path>) -> Result<KioskRun, String> {
    let data = tempfile::tempdir().map_err(|e| e.to_string())?;
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ykb-terminal"));
    if let Some(p) = profile {
        child.arg("--config").arg(p);
    }
    let mut child = child
        .arg("--data-dir")
        .arg(data.path())
        .env("DISPLAY", display)
        .env_remove("WAYLAND_DISPLAY")
        .env("YKB_BENCH_FIRST_FRAME", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("kiosk did not start: {e}"))?;
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(json) = line.strip_prefix("YKB_FIRST_FRAME ") {
                let _ = tx.send((Instant::now(), json.to_owned()));
                return;
            }
        }
    });
    let mut processes = 1;
    let got = loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(got) => break Ok(got),
            Err(mpsc::RecvTimeoutError::Timeout) if start.elapsed() < TIMEOUT => {
                processes = processes.max(process_tree(child.id()).len());
            }
            Err(_) => break Err("the kiosk printed no first-frame line".to_string()),
        }
    };
    // It quits its event loop after the line; give it a moment, then end it.
    let end = Instant::now() + Duration::from_secs(5);
    while child.try_wait().ok().flatten().is_none() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    stop_tree(&mut child);
    let (at, json) = got?;
    let v: serde_json::Value = serde_json::from_str(&json).map_err(|e| e.to_string())?;
    Ok(KioskRun {
        wall: at - start,
        own_ms: v["elapsed_ms"].as_f64().unwrap_or(-1.0),
        hwm_kib: v["vm_hwm_kib"].as_u64().unwrap_or(0),
        processes,
    })
}

struct ChromiumRun {
    wall: Duration,
    rss_kib: u64,
    pss_kib: u64,
    processes: usize,
    query: String,
}

fn chromium_once(chromium: &Path, display: &str, page: &Path) -> Result<ChromiumRun, String> {
    let profile = tempfile::tempdir().map_err(|e| e.to_string())?;
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // The favicon or other requests may come too; wait for the beacon.
        for mut s in listener.incoming().flatten() {
            let at = Instant::now();
            let mut buf = [0u8; 2048];
            let n = s.read(&mut buf).unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]).into_owned();
            let _ = s.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
            if let Some(q) = head
                .lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .filter(|p| p.starts_with("/painted"))
            {
                let _ = tx.send((at, q.to_owned()));
                return;
            }
        }
    });
    let url = format!("file://{}?beacon={port}", page.display());
    let start = Instant::now();
    let mut child = Command::new(chromium)
        .args([
            "--kiosk",
            "--no-first-run",
            "--no-default-browser-check",
            "--password-store=basic",
            "--disable-background-networking",
            "--disable-component-update",
            // The page loads the kiosk's own font from the repository, as the kiosk embeds it.
            "--allow-file-access-from-files",
        ])
        // Chromium refuses to run as root with its sandbox.
        .args(is_root().then_some("--no-sandbox"))
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(&url)
        .env("DISPLAY", display)
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("chromium did not start: {e}"))?;
    let (mut rss, mut processes) = (0, 0);
    let got = loop {
        let (r, _, n) = tree_memory(child.id(), false);
        rss = rss.max(r);
        processes = processes.max(n);
        match rx.recv_timeout(Duration::from_millis(POLL_MS)) {
            Ok(got) => break Ok(got),
            Err(mpsc::RecvTimeoutError::Timeout) if start.elapsed() < TIMEOUT => {}
            Err(_) => break Err("the page never reported its first frame".to_string()),
        }
    };
    let (r, pss, n) = tree_memory(child.id(), true);
    stop_tree(&mut child);
    let (at, query) = got?;
    Ok(ChromiumRun {
        wall: at - start,
        rss_kib: rss.max(r),
        pss_kib: pss,
        processes: processes.max(n),
        query,
    })
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn median_by<T>(runs: &mut [T], key: impl Fn(&T) -> f64) -> &T {
    runs.sort_by(|a, b| key(a).total_cmp(&key(b)));
    &runs[runs.len() / 2]
}

/// The group's entry point.
pub fn kiosk_startup(out: &mut Vec<Figure>) {
    // `cargo bench` passes --bench; `cargo test --bench ykb` does not, and a test run must
    // not start X servers and browsers.
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("{GROUP}: skipped — runs under `cargo bench` only");
        return;
    }
    if on_path("Xvfb").is_none() {
        eprintln!("{GROUP}: skipped — Xvfb is not on PATH (apt-get install xvfb)");
        return;
    }
    let x = match Xvfb::start() {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{GROUP}: skipped — {e}");
            return;
        }
    };
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/data/home.html");

    let mut kiosk = Vec::new();
    for i in 0..=RUNS {
        match kiosk_once(&x.display, None) {
            // The first run warms the file cache and is not counted.
            Ok(r) if i > 0 => kiosk.push(r),
            Ok(_) => {}
            Err(e) => {
                eprintln!("{GROUP}: kiosk run failed: {e}");
                return;
            }
        }
    }
    let panels = match panel_runs(&x.display) {
        Ok(p) => Some(p),
        Err(e) => {
            eprintln!("{GROUP}: panel runs failed: {e}");
            None
        }
    };
    let chromium = on_path("chromium");
    let mut browser = Vec::new();
    let mut browser_note = String::new();
    if let Some(c) = &chromium {
        for i in 0..=RUNS {
            match chromium_once(c, &x.display, &page) {
                Ok(r) if i > 0 => browser.push(r),
                Ok(_) => {}
                Err(e) => {
                    browser_note = format!("; chromium failed: {e}");
                    browser.clear();
                    break;
                }
            }
        }
    } else {
        browser_note = "; chromium unavailable: apt-get install chromium".into();
    }
    let version = chromium
        .as_ref()
        .and_then(|c| Command::new(c).arg("--version").output().ok())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();

    let k_time = median_by(&mut kiosk, |r| r.wall.as_secs_f64());
    let (k_wall, k_own) = (k_time.wall, k_time.own_ms);
    let k_procs = kiosk.iter().map(|r| r.processes).max().unwrap_or(1);
    let k_mem = median_by(&mut kiosk, |r| r.hwm_kib as f64).hwm_kib;
    let c_time = (!browser.is_empty()).then(|| {
        let r = median_by(&mut browser, |r| r.wall.as_secs_f64());
        (r.wall, r.query.clone())
    });
    let c_mem = (!browser.is_empty()).then(|| {
        let r = median_by(&mut browser, |r| r.rss_kib as f64);
        (r.rss_kib, r.processes)
    });
    let c_pss =
        (!browser.is_empty()).then(|| median_by(&mut browser, |r| r.pss_kib as f64).pss_kib);

    let secs = k_wall.as_secs_f64();
    out.push(Figure {
        group: GROUP,
        name: "kiosk cold start → first frame, demo profile (1280×800 window), Xvfb".into(),
        value: secs * 1e3,
        unit: "ms",
        baseline: c_time.as_ref().map(|(t, _)| Baseline {
            name: "chromium --kiosk, same page as HTML: spawn → 2nd rAF after load".into(),
            value: t.as_secs_f64() * 1e3,
        }),
        note: format!(
            "median of {RUNS} (after a warm-up), fresh --data-dir each (store, catalogue, demo \
             sync, UI); spawn → line on stdout; the process's own clock says {k_own:.0} ms; \
             goal ≤ 0.3 s: {}{}{browser_note}",
            if secs <= 0.3 { "met" } else { "NOT met" },
            c_time
                .as_ref()
                .map(|(_, q)| format!("; chromium's page reported {q}"))
                .unwrap_or_default(),
        ),
    });
    let mib = |k: u64| k as f64 / 1024.0;
    out.push(Figure {
        group: GROUP,
        name: "kiosk resident memory at first frame (peak RSS, process tree)".into(),
        value: mib(k_mem),
        unit: "MiB",
        baseline: c_mem.map(|(rss, n)| Baseline {
            name: format!("chromium: peak RSS summed over its {n} processes"),
            value: mib(rss),
        }),
        note: match (c_mem, c_pss) {
            (Some((rss, _)), Some(pss)) => format!(
                "median of {RUNS}; kiosk VmHWM ({k_procs} process); {:.1}× less than chromium \
                 (goal ≥ 5×: {}); chromium PSS sum at first frame {:.0} MiB; \
                 chromium RSS polled every {POLL_MS} ms up to its first frame; {version}",
                rss as f64 / k_mem.max(1) as f64,
                if rss >= 5 * k_mem { "met" } else { "NOT met" },
                mib(pss)
            ),
            _ => format!("median of {RUNS}; kiosk VmHWM ({k_procs} process){browser_note}"),
        },
    });
    if let Some(mut panels) = panels {
        panel_figures(&mut panels, out);
    }
}

/// The panels of issue 15, the first being the baseline the others are set beside.
const PANELS: [(u32, u32); 3] = [(1280, 800), (1920, 1080), (1080, 1920)];

/// [`RUNS`] cold starts on each of [`PANELS`] (profiles with `terminal.screen`), taken in
/// turn so that a change in the machine's load falls on all alike; one warm-up round.
fn panel_runs(display: &str) -> Result<Vec<Vec<KioskRun>>, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let profiles = PANELS
        .iter()
        .map(|&p| demo_profile_at(dir.path(), p))
        .collect::<Result<Vec<_>, _>>()?;
    let mut runs: Vec<Vec<KioskRun>> = PANELS.iter().map(|_| Vec::new()).collect();
    for i in 0..=RUNS {
        for (profile, got) in profiles.iter().zip(runs.iter_mut()) {
            let r = kiosk_once(display, Some(profile))?;
            if i > 0 {
                got.push(r);
            }
        }
    }
    Ok(runs)
}

fn panel_figures(runs: &mut [Vec<KioskRun>], out: &mut Vec<Figure>) {
    let medians: Vec<(f64, f64)> = runs
        .iter_mut()
        .map(|r| {
            let t = median_by(r, |r| r.wall.as_secs_f64()).wall.as_secs_f64() * 1e3;
            let m = median_by(r, |r| r.hwm_kib as f64).hwm_kib as f64 / 1024.0;
            (t, m)
        })
        .collect();
    let (w0, h0) = PANELS[0];
    let (t0, m0) = medians[0];
    let verdict = |r: f64| if r <= 1.2 { "met" } else { "NOT met" };
    for (&(w, h), &(t, m)) in PANELS.iter().zip(&medians).skip(1) {
        out.push(Figure {
            group: GROUP,
            name: format!("kiosk cold start → first frame, terminal.screen = {w}x{h}"),
            value: t,
            unit: "ms",
            baseline: Some(Baseline {
                name: format!("the same start at {w0}x{h0}"),
                value: t0,
            }),
            note: format!(
                "median of {RUNS}, panels taken in turn; {:.2}× (goal ≤ 1.2×: {})",
                t / t0,
                verdict(t / t0)
            ),
        });
        out.push(Figure {
            group: GROUP,
            name: format!("kiosk peak resident memory at first frame, {w}x{h}"),
            value: m,
            unit: "MiB",
            baseline: Some(Baseline {
                name: format!("the same start at {w0}x{h0}"),
                value: m0,
            }),
            note: format!(
                "median VmHWM of {RUNS}; {:.2}× (goal ≤ 1.2×: {})",
                m / m0,
                verdict(m / m0)
            ),
        });
    }
}
