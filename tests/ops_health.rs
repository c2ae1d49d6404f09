//! Health: the agent (real binary) tells systemd READY and pings the watchdog over a real
//! unix datagram socket, beats against the platform simulator and serves Prometheus metrics
//! that a scrape over loopback reads; metrics never listen beyond loopback.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixDatagram;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ykb_terminal::core::config::{Profile, DEMO_PROFILE};
use ykb_terminal::ops::metrics::{self, MetricsState};

/// Kills the agent this test started (by its own handle) when the test ends.
struct Agent(Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn scrape(addr: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(body.contains("text/plain; version=0.0.4"), "{body}");
    body
}

fn value(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn the_agent_notifies_systemd_beats_and_serves_metrics_on_loopback() {
    let fx = common::Fixture::new();
    // Something in the outbox, so backlog and oldest age have values.
    fx.submit(2);

    let profile = fx.dir().join("agent.toml");
    let text = DEMO_PROFILE.replace(
        "metrics_listen = \"127.0.0.1:9464\"",
        "metrics_listen = \"127.0.0.1:0\"",
    );
    assert_ne!(
        text, DEMO_PROFILE,
        "the demo profile has a [health] section"
    );
    std::fs::write(&profile, text).unwrap();

    let sock_path = fx.dir().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();

    let child = Command::new(env!("CARGO_BIN_EXE_ykb-terminal"))
        .arg("--config")
        .arg(&profile)
        .arg("--data-dir")
        .arg(fx.dir())
        .arg("agent")
        .env("NOTIFY_SOCKET", &sock_path)
        .env("WATCHDOG_USEC", "200000")
        .env_remove("WATCHDOG_PID")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut agent = Agent(child);
    let mut line = String::new();
    BufReader::new(agent.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("metrics: http://")
        .and_then(|r| r.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("no metrics address in {line:?}"))
        .to_owned();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");

    let mut buf = [0u8; 256];
    let mut seen = Vec::new();
    while !(seen.iter().any(|m: &String| m.starts_with("READY=1"))
        && seen.iter().any(|m| m == "WATCHDOG=1"))
    {
        let n = sock.recv(&mut buf).expect("a notification within 20 s");
        seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    assert!(
        seen[0].starts_with("READY=1"),
        "READY comes first: {seen:?}"
    );

    // The first heartbeat goes out at start; wait for the platform's acknowledgement.
    let deadline = Instant::now() + Duration::from_secs(20);
    let body = loop {
        let body = scrape(&addr);
        if value(&body, "ykb_heartbeat_last_success_timestamp_seconds").is_some() {
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "no acknowledged heartbeat:\n{body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    // The agent's own outbox worker may already have delivered some of the two cases when
    // the first heartbeat snapshot was taken: the backlog is what was left then.
    let pending = value(&body, "ykb_outbox_pending").expect("pending series");
    assert!((0.0..=2.0).contains(&pending), "{body}");
    let oldest = value(&body, "ykb_outbox_oldest_age_seconds").expect("oldest age series");
    if pending == 0.0 {
        assert_eq!(oldest, 0.0, "{body}");
    }
    assert!(
        value(&body, "ykb_catalog_version").unwrap() >= 1.0,
        "{body}"
    );
    assert!(value(&body, "ykb_disk_free_bytes").unwrap() > 0.0, "{body}");
    assert!(
        value(&body, "ykb_clock_skew_seconds").unwrap().abs() <= 2.0,
        "{body}"
    );
    assert_eq!(
        value(&body, "ykb_heartbeat_failures_total"),
        Some(0.0),
        "{body}"
    );
    assert_eq!(
        value(&body, "ykb_platform_credentials_refused"),
        Some(0.0),
        "{body}"
    );
    assert!(body.contains("ykb_terminal_info{version=\""), "{body}");
}

#[test]
fn metrics_are_never_served_beyond_loopback() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let state = std::sync::Arc::new(std::sync::RwLock::new(MetricsState::default()));
    let e = rt
        .block_on(metrics::serve("0.0.0.0:0".parse().unwrap(), state, rx))
        .unwrap_err();
    assert!(matches!(e, metrics::MetricsError::NotLoopback(_)), "{e}");

    // And a profile asking for it is refused before anything starts.
    let text = DEMO_PROFILE.replace("127.0.0.1:9464", "0.0.0.0:9464");
    let err = Profile::parse(&text, "p.toml").unwrap_err();
    assert_eq!(err.key, "health.metrics_listen");
    assert!(err.message.contains("回环"), "{err}");
}

#[test]
fn metrics_scraped_in_process_over_loopback() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (tx, rx) = tokio::sync::watch::channel(false);
    let state = std::sync::Arc::new(std::sync::RwLock::new(MetricsState {
        terminal: "终端 \"01\"".into(),
        heartbeat_failures: 3,
        credentials_refused: true,
        ..MetricsState::default()
    }));
    let (addr, task) = rt
        .block_on(metrics::serve("127.0.0.1:0".parse().unwrap(), state, rx))
        .unwrap();
    let body = scrape(&addr.to_string());
    assert!(
        body.contains("# TYPE ykb_heartbeat_failures_total counter"),
        "{body}"
    );
    assert_eq!(value(&body, "ykb_heartbeat_failures_total"), Some(3.0));
    assert_eq!(value(&body, "ykb_platform_credentials_refused"), Some(1.0));
    assert!(
        body.contains("terminal=\"终端 \\\"01\\\"\""),
        "label escaped: {body}"
    );
    tx.send(true).unwrap();
    rt.block_on(task).unwrap();
}

#[test]
fn the_agent_delivers_cases_queued_while_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let bin = env!("CARGO_BIN_EXE_ykb-terminal");
    let profile = data.join("agent.toml");
    std::fs::write(
        &profile,
        DEMO_PROFILE.replace(
            "metrics_listen = \"127.0.0.1:9464\"",
            "metrics_listen = \"\"",
        ),
    )
    .unwrap();
    let id = ykb_terminal::core::domain::IdNumber::complete("50010319500307123").unwrap();
    let applicant = data.join("applicant.json");
    std::fs::write(
        &applicant,
        format!(r#"{{"name": "王䶮", "id_number": "{}"}}"#, id.expose()),
    )
    .unwrap();
    let matter = ykb_terminal::core::catalog::Catalog::demo()
        .unwrap()
        .matters[0]
        .task_code
        .to_string();
    let cfg = |c: &mut Command| {
        c.arg("--config").arg(&profile).arg("--data-dir").arg(data);
    };
    // Queue only once the agent says READY: start-up races have tests of their own.
    let sock_path = data.join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let stderr_path = data.join("agent.stderr");
    let mut agent_cmd = Command::new(bin);
    cfg(&mut agent_cmd);
    let mut agent = Agent(
        agent_cmd
            .arg("agent")
            .env("NOTIFY_SOCKET", &sock_path)
            .env_remove("WATCHDOG_USEC")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr_path).unwrap())
            .spawn()
            .unwrap(),
    );
    let mut buf = [0u8; 256];
    loop {
        let n = sock.recv(&mut buf).unwrap_or_else(|e| {
            panic!(
                "no READY from the agent ({e}): {}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            )
        });
        if buf[..n].starts_with(b"READY=1") {
            break;
        }
    }
    let mut submit = Command::new(bin);
    cfg(&mut submit);
    submit
        .args(["case", "submit", "--matter", &matter, "--applicant"])
        .arg(&applicant)
        .args(["--count", "2"]);
    let ids = common::stdout_lines(&common::run_ok(&mut submit));
    assert_eq!(ids.len(), 2);
    // The worker looks at the queue every few seconds when idle; poll until it has delivered.
    let deadline = Instant::now() + Duration::from_secs(30);
    for id in &ids {
        loop {
            let mut show = Command::new(bin);
            cfg(&mut show);
            let o = show.args(["case", "show", id, "--json"]).output().unwrap();
            let stub: serde_json::Value =
                serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null);
            if stub["status"] == "submitted" {
                assert!(stub["unified_code"].is_string());
                assert_eq!(stub["holds_personal_data"], false);
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{id} not delivered: {stub}\nagent exited: {:?}\nagent stderr:\n{}",
                agent.0.try_wait(),
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    let _ = agent.0.kill();
}

/// A terminal data directory talking to `url` as a remote platform (demo profile, its data key
/// and catalogue key in place), registered there by one `sync`; returns the profile path.
fn remote_terminal(dir: &std::path::Path, url: &str) -> std::path::PathBuf {
    use ykb_terminal::core::platform::wire;
    ykb_terminal::core::crypto::DataKey::create(&dir.join("data.key")).unwrap();
    std::fs::write(
        dir.join("platform-catalog.pub"),
        hex::encode(wire::demo_verifying_key().as_bytes()),
    )
    .unwrap();
    let text = DEMO_PROFILE
        .replace("mode = \"simulator\"", "mode = \"remote\"")
        .replace("base_url = \"\"", &format!("base_url = \"{url}\""))
        .replace(
            "metrics_listen = \"127.0.0.1:9464\"",
            "metrics_listen = \"\"",
        );
    assert!(text.contains("mode = \"remote\""), "demo profile changed");
    let profile = dir.join("terminal.toml");
    std::fs::write(&profile, text).unwrap();
    common::run_ok(
        Command::new(env!("CARGO_BIN_EXE_ykb-terminal"))
            .arg("--config")
            .arg(&profile)
            .arg("--data-dir")
            .arg(dir)
            .args(["sync", "--enrolment-code", "YKB-DEMO-ENROL"]),
    );
    profile
}

#[test]
fn the_watchdog_keeps_its_rhythm_while_a_slow_platform_holds_the_heartbeat() {
    use ykb_terminal::sim::platform::Faults;
    let sim = common::sim::Sim::start();
    let dir = tempfile::tempdir().unwrap();
    let profile = remote_terminal(dir.path(), &sim.url());
    // Every platform answer now takes 5 s (under the profile's 15 s timeout): the first
    // heartbeat, sent at start, is in flight for that long.
    sim.handle().set_faults(Faults {
        latency_ms: 5000,
        ..Default::default()
    });
    let sock_path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let watchdog_usec = 2_000_000u64;
    let stderr_path = dir.path().join("agent.stderr");
    let _agent = Agent(
        Command::new(env!("CARGO_BIN_EXE_ykb-terminal"))
            .arg("--config")
            .arg(&profile)
            .arg("--data-dir")
            .arg(dir.path())
            .arg("agent")
            .env("NOTIFY_SOCKET", &sock_path)
            .env("WATCHDOG_USEC", watchdog_usec.to_string())
            .env_remove("WATCHDOG_PID")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr_path).unwrap())
            .spawn()
            .unwrap(),
    );
    let mut buf = [0u8; 256];
    let mut pings = Vec::new();
    let mut ready = None;
    let start = Instant::now();
    // 12 s of notifications: the whole first (slow) heartbeat round and more. Silence is
    // measured too: the gap runs until the next ping or the end.
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    while start.elapsed() < Duration::from_secs(12) {
        let n = match sock.recv(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => panic!("notify socket: {e}"),
        };
        let msg = &buf[..n];
        if msg.starts_with(b"READY=1") {
            ready.get_or_insert(Instant::now());
        }
        if msg == b"WATCHDOG=1" {
            assert!(ready.is_some(), "a watchdog ping before READY");
            pings.push(Instant::now());
        }
    }
    let end = Instant::now();
    let ready = ready.unwrap_or_else(|| {
        panic!(
            "no READY: {}",
            std::fs::read_to_string(&stderr_path).unwrap_or_default()
        )
    });
    let mut marks = vec![ready];
    marks.extend(&pings);
    marks.push(end);
    let gap = marks.windows(2).map(|w| w[1] - w[0]).max().unwrap();
    assert!(
        gap < Duration::from_micros(watchdog_usec / 2),
        "largest gap between WATCHDOG=1 pings {gap:?} with WATCHDOG_USEC={watchdog_usec} \
         ({} pings in {:?})",
        pings.len(),
        end - ready
    );
    // And the slow heartbeat did go out and was answered meanwhile.
    assert!(
        !sim.handle().heartbeats().is_empty(),
        "no heartbeat reached the platform: {}",
        std::fs::read_to_string(&stderr_path).unwrap_or_default()
    );
}

/// Watchdog pings as they arrive on `sock` for `window`, after READY: the largest silence
/// (up to the end of the window too) and the number of pings.
fn watch_pings(sock: &UnixDatagram, window: Duration) -> (Duration, usize) {
    sock.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut buf = [0u8; 256];
    let start = Instant::now();
    let mut ready = None;
    let mut marks = Vec::new();
    while start.elapsed() < window {
        let Ok(n) = sock.recv(&mut buf) else {
            continue;
        };
        let msg = &buf[..n];
        if msg.starts_with(b"READY=1") {
            ready.get_or_insert(Instant::now());
        } else if msg == b"WATCHDOG=1" && ready.is_some() {
            marks.push(Instant::now());
        }
    }
    let pings = marks.len();
    let mut all = vec![ready.expect("READY=1 within the window")];
    all.extend(marks);
    all.push(Instant::now());
    let gap = all.windows(2).map(|w| w[1] - w[0]).max().unwrap();
    (gap, pings)
}

/// Issue 17: the platform's port answers the heartbeat by dripping it forever (the rest
/// reaches the platform). The round in flight must not stall the watchdog, and the next
/// round must start on time: over two heartbeat periods the largest silence between pings
/// stays under three quarters of `WATCHDOG_USEC`, and the second heartbeat is sent.
#[test]
fn a_heartbeat_round_that_never_returns_stalls_neither_the_watchdog_nor_the_next_round() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let sim = common::sim::Sim::start();
    let upstream = sim.handle().addr();
    let heartbeats = Arc::new(AtomicUsize::new(0));
    let seen = heartbeats.clone();
    let gw = common::gateway::Gateway::start(move |line| {
        if line.contains("/heartbeat") {
            seen.fetch_add(1, Ordering::SeqCst);
            common::gateway::Answer::Drip {
                head: b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n".to_vec(),
                body: vec![b' '; 1_000_000],
                every: Duration::from_millis(200),
            }
        } else {
            common::gateway::Answer::Forward(upstream)
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let profile = remote_terminal(dir.path(), &gw.url());
    let text = std::fs::read_to_string(&profile).unwrap();
    let text = text
        .replace("timeout_secs = 15", "timeout_secs = 2")
        .replace("heartbeat_secs = 60", "heartbeat_secs = 30");
    assert!(text.contains("timeout_secs = 2") && text.contains("heartbeat_secs = 30"));
    std::fs::write(&profile, text).unwrap();
    let sock_path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    let watchdog_usec = 2_000_000u64;
    let stderr_path = dir.path().join("agent.stderr");
    let _agent = Agent(
        Command::new(env!("CARGO_BIN_EXE_ykb-terminal"))
            .arg("--config")
            .arg(&profile)
            .arg("--data-dir")
            .arg(dir.path())
            .arg("agent")
            .env("NOTIFY_SOCKET", &sock_path)
            .env("WATCHDOG_USEC", watchdog_usec.to_string())
            .env_remove("WATCHDOG_PID")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr_path).unwrap())
            .spawn()
            .unwrap(),
    );
    let (gap, pings) = watch_pings(&sock, Duration::from_secs(36));
    let log = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    // systemd restarts the agent after WATCHDOG_USEC without a ping; the agent aims at a
    // ping every quarter of it, so even a loaded machine stays well inside.
    assert!(
        gap < Duration::from_micros(watchdog_usec * 3 / 4),
        "largest gap between WATCHDOG=1 pings {gap:?} with WATCHDOG_USEC={watchdog_usec} \
         ({pings} pings): {log}"
    );
    let sent = heartbeats.load(Ordering::SeqCst);
    assert!(
        sent >= 2,
        "{sent} heartbeat(s) sent in two periods: the next round waited for the stuck one: {log}"
    );
    assert!(
        sim.handle().heartbeats().is_empty(),
        "no heartbeat got through"
    );
}

/// Issue 17: under `PrivateDevices=yes` the agent sees no device files, so the heartbeat's
/// device states are the ones the kiosk (which holds the devices) records. The agent runs
/// here in a mount namespace with a private `/dev` (tmpfs, as systemd makes it); while its
/// probe of a network printer that never answers is running, the kiosk records the card
/// reader's fault. The heartbeat must carry that fault and the store keep it — not the
/// older state the agent read before probing, written back as new.
#[test]
fn under_private_devices_the_heartbeat_carries_the_kiosk_s_device_states_not_a_stale_copy() {
    use std::collections::BTreeMap;
    use ykb_drivers::DeviceState;
    use ykb_terminal::core::health::{self, DeviceHealth};
    let sim = common::sim::Sim::start();
    let dir = tempfile::tempdir().unwrap();
    let profile = remote_terminal(dir.path(), &sim.url());
    // A printer on the network that takes the connection and never answers: the agent's
    // probe waits on it for its status timeouts.
    let printer = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let printer_port = printer.local_addr().unwrap().port();
    let text = std::fs::read_to_string(&profile).unwrap();
    let text = text
        .replacen(
            "[devices.id_reader]\ndriver = \"simulated\"",
            "[devices.id_reader]\ndriver = \"sam-serial\"\npath = \"/dev/ttyYKB-reader\"",
            1,
        )
        .replacen(
            "[devices.printer]\ndriver = \"simulated\"",
            &format!(
                "[devices.printer]\ndriver = \"escpos\"\npath = \"tcp://127.0.0.1:{printer_port}\""
            ),
            1,
        );
    assert!(
        text.contains("sam-serial") && text.contains("escpos"),
        "demo profile changed"
    );
    std::fs::write(&profile, text).unwrap();
    let open_store = || {
        let p = Profile::load(&profile).unwrap();
        ykb_terminal::core::Core::start(p, dir.path()).unwrap()
    };
    // What the self-test recorded earlier: the reader online.
    {
        let mut core = open_store();
        let mut d = BTreeMap::new();
        d.insert(
            "id_reader".to_owned(),
            DeviceHealth {
                state: DeviceState::Online,
                paper: None,
            },
        );
        health::record_devices(&mut core.store, "selftest", &d).unwrap();
    }
    // The agent with a private /dev: a tmpfs with null, zero and urandom, like
    // `PrivateDevices=yes`.
    let script = r#"set -e; d=$(mktemp -d); mount -t tmpfs tmpfs "$d"
        for n in null zero urandom random; do touch "$d/$n"; mount --bind "/dev/$n" "$d/$n"; done
        mount --move "$d" /dev; exec "$@""#;
    let stderr_path = dir.path().join("agent.stderr");
    let child = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
            "sh",
        ])
        .arg(env!("CARGO_BIN_EXE_ykb-terminal"))
        .arg("--config")
        .arg(&profile)
        .arg("--data-dir")
        .arg(dir.path())
        .arg("agent")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("this test needs unshare(1) (util-linux) and root: {e}"));
    let _agent = Agent(child);
    let mut kiosk = open_store();
    // The probe has begun (it read the last known states) when the printer is dialled.
    printer
        .set_nonblocking(true)
        .expect("non-blocking listener");
    let deadline = Instant::now() + Duration::from_secs(30);
    let _held = loop {
        match printer.accept() {
            Ok((conn, _)) => break conn,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(
                    Instant::now() < deadline,
                    "the agent never probed the printer: {}",
                    std::fs::read_to_string(&stderr_path).unwrap_or_default()
                );
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("printer listener: {e}"),
        }
    };
    // Meanwhile the kiosk (its store open already) sees the reader fail and records it.
    let fault = DeviceHealth {
        state: DeviceState::HardwareError,
        paper: None,
    };
    {
        let mut d = BTreeMap::new();
        d.insert("id_reader".to_owned(), fault);
        health::record_devices(&mut kiosk.store, "kiosk", &d).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let beat = loop {
        if let Some(b) = sim.handle().heartbeats().into_iter().next() {
            break b;
        }
        assert!(
            Instant::now() < deadline,
            "no heartbeat: {}",
            std::fs::read_to_string(&stderr_path).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let log = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    assert_eq!(
        beat.devices.get("id_reader").map(String::as_str),
        Some("hardware_error"),
        "{:?}: {log}",
        beat.devices
    );
    assert_eq!(
        beat.devices.get("printer").map(String::as_str),
        Some("offline"),
        "the agent's own observation of the printer: {:?}",
        beat.devices
    );
    let mut core = open_store();
    let stored = health::stored_devices(&mut core.store).unwrap();
    assert_eq!(stored["id_reader"], fault, "the kiosk's record stands");
}
