//! Hall ticketing through real parts: SQLite files shared by threads and processes, number
//! leases from the platform simulator over loopback HTTP, kiosks issuing while the platform is
//! down, and supervision events delivered through the outbox.

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Mutex;

use jiff::Timestamp;
use ykb_terminal::core::config::{Profile, TicketingSection};
use ykb_terminal::core::domain::EvaluationLevel;
use ykb_terminal::core::outbox::{self, Backoff, Quota, Step};
use ykb_terminal::core::platform::wire::{TicketLease, TicketLeaseRequest};
use ykb_terminal::core::platform::PlatformClient;
use ykb_terminal::core::store::Store;
use ykb_terminal::core::ticketing::{self, IssueRequest, TicketError, TicketRef};
use ykb_terminal::core::{Core, STORE_FILE};
use ykb_terminal::sim::platform::{self as sim, Faults, SimHandle, SimOptions};

mod common;

const QUOTA: Quota = Quota { bytes: 1 << 26 };

/// The demo profile's ticketing (issuing at any hour), with a lease size of `lease`.
fn cfg(lease: u32, low: u32) -> TicketingSection {
    let mut c = Profile::demo()
        .ticketing
        .expect("the demo profile has [ticketing]");
    c.lease_size = lease;
    c.lease_low_water = low;
    c
}

fn walk_in(service: &str) -> IssueRequest {
    IssueRequest {
        service: service.into(),
        ..Default::default()
    }
}

fn grant(store: &mut Store, cfg: &TicketingSection, service: &str, first: u32, last: u32) {
    let date = ticketing::hall_date(Timestamp::now()).to_string();
    let req = TicketLeaseRequest {
        hall: cfg.hall.clone(),
        service: service.into(),
        date: date.clone(),
        count: last - first + 1,
        daily_cap: 999,
    };
    let lease = TicketLease {
        hall: cfg.hall.clone(),
        service: service.into(),
        date,
        first,
        last,
    };
    ticketing::record_lease(store, &req, &lease, Timestamp::now()).unwrap();
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ykb-terminal"));
    c.env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("RUST_LOG");
    c
}

#[test]
fn threads_and_processes_issuing_against_one_store_never_duplicate_a_number() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = cfg(50, 10);
    {
        let mut core = Core::start(Profile::demo(), dir.path()).unwrap();
        grant(&mut core.store, &cfg, "A", 1, 200);
    }
    // Four threads, each with its own connection (as separate processes have), ...
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let dir = dir.path().to_owned();
            let cfg = cfg.clone();
            std::thread::spawn(move || {
                let mut core = Core::start(Profile::demo(), &dir).unwrap();
                (0..25)
                    .map(|_| {
                        ticketing::issue(
                            &mut core.store,
                            &core.key,
                            QUOTA,
                            &cfg,
                            &walk_in("A"),
                            Timestamp::now(),
                        )
                        .unwrap()
                        .number
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    // ... while real processes issue through the command line at the same time.
    let procs: Vec<_> = (0..6)
        .map(|_| {
            bin()
                .arg("--data-dir")
                .arg(dir.path())
                .args(["ticket", "issue", "A", "--json"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut numbers: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    for p in procs {
        let out = p.wait_with_output().unwrap();
        common::assert_success(&out);
        let t: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        numbers.push(t["number"].as_str().unwrap().to_owned());
    }
    let unique: BTreeSet<&String> = numbers.iter().collect();
    assert_eq!(unique.len(), numbers.len(), "duplicates in {numbers:?}");
    // Nothing skipped either: exactly the first 106 numbers of the lease.
    let expected: BTreeSet<String> = (1..=106).map(|n| format!("A{n:03}")).collect();
    assert_eq!(
        unique.into_iter().cloned().collect::<BTreeSet<_>>(),
        expected
    );
    let mut store = Store::open(&dir.path().join(STORE_FILE)).unwrap();
    let today = ticketing::hall_date(Timestamp::now());
    assert_eq!(
        ticketing::lease_remaining(&mut store, "A", today).unwrap(),
        94
    );
    // One issued event per ticket, committed with it.
    let events = outbox::list(&mut store, false).unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind == ticketing::EVENT_ISSUED)
            .count(),
        106
    );
}

async fn start_sim() -> SimHandle {
    sim::start("127.0.0.1:0".parse().unwrap(), SimOptions::default())
        .await
        .unwrap()
}

/// A kiosk: its own data directory and store, registered with the simulator.
struct Kiosk {
    _dir: tempfile::TempDir,
    store: Mutex<Store>,
    key: ykb_terminal::core::crypto::DataKey,
    client: PlatformClient,
}

async fn kiosk(sim: &SimHandle, name: &str) -> Kiosk {
    let dir = tempfile::tempdir().unwrap();
    let mut core = Core::start(Profile::demo(), dir.path()).unwrap();
    let client = common::registered_client(&mut core, &sim.base_url(), name).await;
    Kiosk {
        _dir: dir,
        store: Mutex::new(core.store),
        key: core.key,
        client,
    }
}

impl Kiosk {
    /// Tops its leases up from the platform now.
    async fn top_up(&self, cfg: &TicketingSection) -> ticketing::TopUp {
        ticketing::top_up(&self.store, &self.client, cfg, Timestamp::now())
            .await
            .unwrap()
    }

    fn issue(&self, cfg: &TicketingSection, service: &str) -> Result<String, TicketError> {
        ticketing::issue(
            &mut self.store.lock().unwrap(),
            &self.key,
            QUOTA,
            cfg,
            &walk_in(service),
            Timestamp::now(),
        )
        .map(|t| t.number)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_offline_kiosks_never_issue_the_same_number_and_top_up_when_back_online() {
    let sim = start_sim().await;
    let cfg = cfg(5, 2);
    let (k1, k2) = (kiosk(&sim, "k1").await, kiosk(&sim, "k2").await);
    for k in [&k1, &k2] {
        let t = k.top_up(&cfg).await;
        assert!(t.failed.is_empty(), "{:?}", t.failed);
        assert_eq!(t.leased.len(), cfg.services.len());
    }
    // The platform goes down; both kiosks issue until their leases run out.
    sim.set_faults(Faults {
        outage: true,
        retry_after_secs: 1,
        ..Default::default()
    });
    let mut issued = Vec::new();
    for _ in 0..5 {
        issued.push(k1.issue(&cfg, "A").unwrap());
        issued.push(k2.issue(&cfg, "A").unwrap());
    }
    let unique: BTreeSet<&String> = issued.iter().collect();
    assert_eq!(unique.len(), 10, "duplicates in {issued:?}");
    for k in [&k1, &k2] {
        let e = k.issue(&cfg, "A").unwrap_err();
        assert!(matches!(e, TicketError::LeaseExhausted { .. }), "{e}");
        assert!(e.to_string().contains("无法从政务服务平台补充号段"), "{e}");
        // A top-up during the outage reports the failure and leaves the store as it was.
        let t = k.top_up(&cfg).await;
        assert!(t.leased.is_empty());
        assert!(t.failed.iter().any(|(s, _)| s == "A"), "{:?}", t.failed);
        assert!(k.issue(&cfg, "A").is_err());
        // Other services still have numbers.
        assert!(k.issue(&cfg, "B").is_ok());
    }
    // Back online: the top-up brings fresh numbers, never seen before.
    sim.set_faults(Faults::default());
    let t = k1.top_up(&cfg).await;
    assert_eq!(
        t.leased
            .iter()
            .map(|l| l.service.as_str())
            .collect::<Vec<_>>(),
        ["A"]
    );
    let next = k1.issue(&cfg, "A").unwrap();
    assert_eq!(next, "A011");
    assert!(!issued.contains(&next));
    // The simulator handed out disjoint ranges, to two different devices.
    let leases = sim.ticket_leases();
    let a: Vec<_> = leases.iter().filter(|(_, l)| l.service == "A").collect();
    assert_eq!(a.len(), 3);
    for (i, (_, x)) in a.iter().enumerate() {
        for (_, y) in &a[i + 1..] {
            assert!(x.last < y.first || y.last < x.first, "{x:?} overlaps {y:?}");
        }
    }
    assert_ne!(a[0].0, a[1].0);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_stops_leasing_at_the_daily_cap() {
    let sim = start_sim().await;
    let mut cfg = cfg(5, 2);
    cfg.services.truncate(1);
    cfg.services[0].daily_cap = 7;
    let k = kiosk(&sim, "k").await;
    let first = k.top_up(&cfg).await;
    assert_eq!((first.leased[0].first, first.leased[0].last), (1, 5));
    for _ in 0..4 {
        k.issue(&cfg, "A").unwrap();
    }
    let second = k.top_up(&cfg).await;
    assert_eq!((second.leased[0].first, second.leased[0].last), (6, 7));
    for _ in 0..3 {
        k.issue(&cfg, "A").unwrap();
    }
    let e = k.issue(&cfg, "A").unwrap_err();
    assert!(matches!(e, TicketError::CapReached { cap: 7, .. }), "{e}");
    // Nothing more to ask for; a kiosk that asks anyway is refused with 409.
    let again = k.top_up(&cfg).await;
    assert!(again.leased.is_empty() && again.failed.is_empty());
    let other = kiosk(&sim, "other").await;
    let refused = other.top_up(&cfg).await;
    assert!(refused.leased.is_empty());
    assert!(
        refused.failed[0].1.contains("号源已由平台发完"),
        "{refused:?}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticket_events_reach_the_platform_through_the_outbox_without_personal_data() {
    let sim = start_sim().await;
    let cfg = cfg(10, 2);
    let k = kiosk(&sim, "hall").await;
    k.top_up(&cfg).await;
    let id_number = common::id_number("50010319500307123");
    let now = Timestamp::now();
    {
        let mut s = k.store.lock().unwrap();
        let t = ticketing::issue(
            &mut s,
            &k.key,
            QUOTA,
            &cfg,
            &IssueRequest {
                service: "A".into(),
                id_number: Some(ykb_terminal::core::domain::IdNumber::parse(&id_number).unwrap()),
                ..Default::default()
            },
            now,
        )
        .unwrap();
        assert_eq!(t.kind, ticketing::TicketKind::Green);
        ticketing::set_window_open(&mut s, &cfg, 3, true, now).unwrap();
        let mut desk = ticketing::Desk::embedded(&mut s, &k.key, QUOTA, &cfg, 3);
        let c = desk.call_next(now).unwrap();
        assert_eq!(c.announcement.zh, "请A001号到3号窗口办理");
        desk.serve(now).unwrap();
        drop(desk);
        ticketing::evaluate(
            &mut s,
            &k.key,
            QUOTA,
            &cfg,
            &TicketRef::parse(&t.qr).unwrap(),
            EvaluationLevel::VerySatisfied,
            &[],
            now,
        )
        .unwrap();
    }
    let steps = outbox::drain(
        &k.store,
        &k.key,
        &k.client,
        Backoff::default(),
        Timestamp::now,
    )
    .await
    .unwrap();
    assert_eq!(steps.len(), 4);
    assert!(steps.iter().all(|s| matches!(s, Step::Delivered { .. })));
    let events = sim.events();
    let mut kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "evaluation",
            "ticket_called",
            "ticket_issued",
            "ticket_served"
        ]
    );
    for e in &events {
        assert_eq!(e.count, 1);
        let text = e.body.to_string();
        assert!(!text.contains(&id_number), "{text}");
        assert!(!text.contains("19500307"), "{text}");
    }
    let served = events.iter().find(|e| e.kind == "ticket_served").unwrap();
    assert_eq!(served.body["number"], "A001");
    assert_eq!(served.body["kind"], "green");
    assert!(served.body["service_secs"].is_i64());
    let pending = outbox::status(&mut k.store.lock().unwrap(), QUOTA)
        .unwrap()
        .pending;
    assert_eq!(pending, 0);
    sim.shutdown().await;
}

fn run(c: &mut Command) -> (i32, String, String) {
    let out = c.output().expect("binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_ticket_command_leases_issues_calls_and_refuses_bad_input() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(start_sim());
    let dir = tempfile::tempdir().unwrap();
    let t = |args: &[&str]| {
        let mut c = bin();
        c.arg("--data-dir").arg(dir.path()).arg("ticket").args(args);
        run(&mut c)
    };
    // Nothing leased yet: a clear refusal.
    let (code, _, err) = t(&["issue", "A"]);
    assert_eq!(code, 1);
    assert!(err.contains("号段已用完"), "{err}");
    let (code, _, err) = t(&["lease"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--platform"), "{err}");
    let url = sim.base_url();
    let (code, out, err) = t(&["lease", "--platform", &url]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 3, "{out}");
    let (code, out, err) = t(&["issue", "A"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("A001 综合受理"), "{out}");
    assert!(out.contains("前面还有 0 人等候"), "{out}");
    let old = common::id_number("50010319500307123");
    let (code, out, _) = t(&["issue", "A", "--id-number", &old]);
    assert_eq!(code, 0);
    assert!(out.contains("A002 综合受理（绿色通道）"), "{out}");
    let (code, _, err) = t(&["issue", "A", "--id-number", "123"]);
    assert_eq!(code, 1);
    assert!(err.contains("身份证号码应为18位"), "{err}");
    let (code, out, _) = t(&["issue", "A", "--appointment", "YY001"]);
    assert_eq!(code, 0);
    assert!(out.contains("A003 综合受理（预约）"), "{out}");
    let (code, _, err) = t(&["issue", "A", "--appointment", "YY001"]);
    assert_eq!(code, 1);
    assert!(err.contains("预约 YY001 已签到（号码 A003）"), "{err}");
    // Windows: closed until opened; the green ticket first.
    let (code, _, err) = t(&["call", "3"]);
    assert_eq!(code, 1);
    assert!(err.contains("3 号窗口未开放"), "{err}");
    assert_eq!(t(&["open", "3"]).0, 0);
    assert_eq!(t(&["open", "2"]).0, 0);
    let (code, out, err) = t(&["call", "3"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "请A002号到3号窗口办理\nNumber A002, please go to window 3.\n"
    );
    let (code, _, err) = t(&["call", "2", "--number", "A002"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("A002 号已在 3 号窗口叫号，不能重复叫号"),
        "{err}"
    );
    let (code, _, err) = t(&["transfer", "3", "--to-window", "5"]);
    assert_eq!(code, 1);
    assert!(err.contains("5 号窗口未开放"), "{err}");
    let (code, _, err) = t(&["call", "2", "--number", "YKBT:2020-01-01:A001"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("A001 号是 2020-01-01 的号票，已经失效"),
        "{err}"
    );
    let (code, out, _) = t(&["recall", "3", "--json"]);
    assert_eq!(code, 0);
    let called: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(called["calls"], 2);
    let (code, out, _) = t(&["served", "3"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("A002 号（3 号窗口）已办结"), "{out}");
    let (code, _, err) = t(&["evaluate", "A002", "--level", "dissatisfied"]);
    assert_eq!(code, 1);
    assert!(err.contains("请至少选择一项原因"), "{err}");
    assert_eq!(t(&["evaluate", "A002", "--level", "satisfied"]).0, 0);
    let (code, out, _) = t(&["status", "--json"]);
    assert_eq!(code, 0);
    let st: serde_json::Value = serde_json::from_str(&out).unwrap();
    let a = &st["services"][0];
    assert_eq!(
        (
            a["issued"].as_u64(),
            a["served"].as_u64(),
            a["waiting"].as_u64()
        ),
        (Some(3), Some(1), Some(2))
    );
    assert_eq!(a["lease_remaining"], 47);
    let (code, out, _) = t(&["status"]);
    assert_eq!(code, 0);
    assert!(out.contains("最近叫号：A002 → 3 号窗口"), "{out}");
    // Issued, called twice, served, evaluation: all queued for the platform.
    let mut c = bin();
    c.arg("--data-dir")
        .arg(dir.path())
        .args(["queue", "list", "--json"]);
    let (_, out, _) = run(&mut c);
    let items: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let kinds: Vec<&str> = items.iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "ticket_issued",
            "ticket_issued",
            "ticket_issued",
            "ticket_called",
            "ticket_called",
            "ticket_served",
            "evaluation"
        ]
    );
    rt.block_on(sim.shutdown());
}

/// Stops the agent process when the test ends, however it ends.
struct Agent(std::process::Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_agent_leases_numbers_once_the_platform_answers() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("agent.toml");
    std::fs::write(
        &profile,
        ykb_terminal::core::config::DEMO_PROFILE.replace(
            "metrics_listen = \"127.0.0.1:9464\"",
            "metrics_listen = \"\"",
        ),
    )
    .unwrap();
    let with = |c: &mut Command| {
        c.arg("--config")
            .arg(&profile)
            .arg("--data-dir")
            .arg(dir.path());
    };
    let mut agent = bin();
    with(&mut agent);
    let _agent = Agent(
        agent
            .arg("agent")
            .env_remove("NOTIFY_SOCKET")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    // The demo agent heartbeats its own simulator at start, then tops the leases up.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let mut status = bin();
        with(&mut status);
        let (_, out, _) = run(status.args(["ticket", "status", "--json"]));
        let st: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        let leased = st["services"]
            .as_array()
            .is_some_and(|s| s.iter().all(|v| v["lease_remaining"] == 50));
        if leased {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no leases from the agent: {out}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let mut issue = bin();
    with(&mut issue);
    let (code, out, err) = run(issue.args(["ticket", "issue", "C"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("C001 社保医保"), "{out}");
}

/// The agent and a technician's command start on a fresh data directory at the same moment
/// (the agent test did): every process starts — none loses a race to record the data key's
/// check in the new store.
#[test]
fn processes_starting_at_once_on_a_fresh_data_directory_all_start() {
    for _ in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let children: Vec<_> = (0..8)
            .map(|_| {
                bin()
                    .arg("--data-dir")
                    .arg(dir.path())
                    .args(["ticket", "status", "--json"])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let out = c.wait_with_output().unwrap();
            common::assert_success(&out);
        }
    }
}
