//! Failover of the hall database (issue 14 item 6): a primary with a hot standby fed by
//! synchronous streaming replication, both real PostgreSQL servers started here from the
//! binaries `scripts/test` names (`YKB_TEST_PG_BIN`). The primary is killed (`-m immediate`,
//! as a power cut) and the standby promoted by hand (`pg_ctl promote`). A counter's lasting
//! link and the display's listener, started before the failure, carry on through the
//! multi-host URI without a restart; the clerk keeps the ticket being served; no ticket is
//! called twice or lost.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::hall::{json, Terminal};
use jiff::Timestamp;
use ykb_terminal::core::config::Profile;
use ykb_terminal::core::hall::listen::{Change, Listener};
use ykb_terminal::core::hall::{Hall, HallLink};
use ykb_terminal::core::ticketing::{Desk, TicketError};
use ykb_terminal::core::Core;

/// The PostgreSQL binaries, or a failure saying how to get them.
fn pg_bin() -> PathBuf {
    PathBuf::from(std::env::var("YKB_TEST_PG_BIN").unwrap_or_else(|_| {
        panic!(
            "the failover test needs PostgreSQL's binaries: run it with scripts/test (it \
             installs Debian's postgresql when missing and sets YKB_TEST_PG_BIN)"
        )
    }))
}

/// Runs a PostgreSQL tool as the cluster's owner (`postgres` when the tests run as root, as
/// in CI: the server refuses to run as root).
fn pg(tool: &str) -> Command {
    let path = pg_bin().join(tool);
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(path);
        c
    } else {
        Command::new(path)
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

#[track_caller]
fn run(c: &mut Command) {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server of the pair: its data directory and port; stopped when dropped.
struct Server {
    data: PathBuf,
    port: u16,
}

impl Server {
    fn start(&self, log: &Path) {
        run(pg("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(log)
            .args(["-w", "-t", "60", "start"]));
    }

    fn admin(&self) -> postgres::Client {
        postgres::Client::connect(
            &format!("postgresql://ykb_test@127.0.0.1:{}/postgres", self.port),
            postgres::NoTls,
        )
        .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = pg("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

/// A primary and its synchronous hot standby, the hall database `ykb_hall` on both.
fn pair(dir: &Path) -> (Server, Server) {
    let primary = Server {
        data: dir.join("primary"),
        port: free_port(),
    };
    run(pg("initdb").arg("-D").arg(&primary.data).args([
        "-U",
        "ykb_test",
        "--auth=trust",
        "-E",
        "UTF8",
        "--locale=C",
    ]));
    let conf = format!(
        "listen_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'\n\
         wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\nfsync = off\n",
        primary.port,
        dir.display()
    );
    append(&primary.data.join("postgresql.conf"), &conf);
    primary.start(&dir.join("primary.log"));
    primary
        .admin()
        .batch_execute("CREATE DATABASE ykb_hall")
        .unwrap();

    let standby = Server {
        data: dir.join("standby"),
        port: free_port(),
    };
    // -R writes the standby's primary_conninfo and standby.signal.
    run(pg("pg_basebackup")
        .args(["-h", "127.0.0.1", "-p", &primary.port.to_string()])
        .args([
            "-U",
            "ykb_test",
            "-X",
            "stream",
            "-R",
            "--checkpoint=fast",
            "-D",
        ])
        .arg(&standby.data));
    append(
        &standby.data.join("postgresql.conf"),
        &format!("port = {}\ncluster_name = 'hall_standby'\n", standby.port),
    );
    standby.start(&dir.join("standby.log"));
    // Synchronous: a call the primary committed is on the standby too (README, 大厅数据库).
    let mut admin = primary.admin();
    admin
        .batch_execute("ALTER SYSTEM SET synchronous_standby_names = '*'")
        .unwrap();
    admin.batch_execute("SELECT pg_reload_conf()").unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let sync: i64 = primary
            .admin()
            .query_one(
                "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'",
                &[],
            )
            .unwrap()
            .get(0);
        if sync == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the standby never became synchronous"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (primary, standby)
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// A counter's window as the counter app holds it: one lasting [`HallLink`], a desk built
/// over it for each action (as `counter::State::desk` does).
struct Window {
    core: Core,
    cfg: ykb_terminal::core::config::TicketingSection,
    link: HallLink,
    number: u16,
}

impl Window {
    fn new(t: &Terminal, number: u16) -> Self {
        let profile = Profile::load(&t.profile).unwrap();
        let cfg = profile.ticketing.clone().unwrap();
        Self {
            core: Core::start(profile, &t.data).unwrap(),
            cfg,
            link: HallLink::default(),
            number,
        }
    }

    fn act<T>(
        &mut self,
        f: impl FnOnce(&mut Desk<'_>) -> Result<T, TicketError>,
    ) -> Result<T, TicketError> {
        let db = self.link.get(&self.cfg)?;
        let mut desk = Desk::new(
            Hall {
                db,
                store: &mut self.core.store,
                cfg: &self.cfg,
                terminal: &self.core.profile.terminal.name,
            },
            self.number,
        );
        f(&mut desk)
    }
}

#[test]
fn after_the_standby_is_promoted_terminals_carry_on_without_a_restart_and_nothing_is_called_twice()
{
    let dir = tempfile::tempdir().unwrap();
    if is_root() {
        run(Command::new("chown").arg("postgres:").arg(dir.path()));
    }
    let (primary, standby) = pair(dir.path());
    let uri = format!(
        "postgresql://ykb_test@127.0.0.1:{},127.0.0.1:{}/ykb_hall?target_session_attrs=read-write&connect_timeout=2",
        primary.port, standby.port
    );
    let kiosk = Terminal::new(&uri);
    kiosk.ok(&["hall", "init"]);
    kiosk.grant(1, 50);
    let mut issued = BTreeSet::new();
    for i in 0..12 {
        let service = ["A", "B", "C"][i % 3];
        let t = json(&kiosk.ok(&["ticket", "issue", service, "--json"]));
        issued.insert(t["number"].as_str().unwrap().to_owned());
    }

    // The display's listener and window 1's counter, both started before the failure.
    let (tx, changes) = mpsc::channel();
    let profile = Profile::load(&kiosk.profile).unwrap();
    let _listener = Listener::start(profile.ticketing.clone().unwrap(), move |c| {
        let _ = tx.send(c);
    });
    wait_for(&changes, "the listener's first connection", |c| {
        matches!(c, Change::Connected)
    });
    let counter = Terminal::new(&uri);
    let mut w1 = Window::new(&counter, 1);
    w1.act(|d| d.set_open(true, Timestamp::now())).unwrap();
    let serving = w1
        .act(|d| d.call_next(Timestamp::now()))
        .expect("window 1 calls before the failure")
        .number;
    wait_for(&changes, "the call announced", |c| {
        matches!(c, Change::Changed)
    });

    // The primary dies; the standby is promoted by hand.
    let died = Instant::now();
    drop(primary);
    let err = w1
        .act(|d| d.status(Timestamp::now()))
        .expect_err("the primary is gone");
    assert!(err.to_string().contains("大厅数据库"), "{err}");
    run(pg("pg_ctl")
        .arg("-D")
        .arg(&standby.data)
        .args(["-w", "-t", "60", "promote"]));

    // The same link, without a restart: the clerk's ticket is still theirs, then served.
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        match w1.act(|d| d.status(Timestamp::now())) {
            Ok(s) => break s,
            Err(e) => {
                assert!(Instant::now() < deadline, "never reconnected: {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    };
    let back_after = died.elapsed();
    let mine = status
        .windows
        .iter()
        .find(|w| w.number == 1)
        .and_then(|w| w.current.clone());
    assert_eq!(mine.as_deref(), Some(serving.as_str()), "{status:?}");
    w1.act(|d| d.serve(Timestamp::now())).unwrap();
    eprintln!("failover: first successful hall action {back_after:?} after the primary died");

    // The listener found the new primary by itself and hears the next changes.
    wait_for(&changes, "the listener back after the failover", |c| {
        matches!(c, Change::Connected)
    });
    let mut called = vec![serving];
    while let Ok(c) = w1.act(|d| d.call_next(Timestamp::now())) {
        called.push(c.number);
        w1.act(|d| d.serve(Timestamp::now())).unwrap();
    }
    wait_for(&changes, "a call after the failover announced", |c| {
        matches!(c, Change::Changed)
    });
    // A fresh process (a kiosk's CLI) finds the new primary through the same URI.
    let late = json(&kiosk.ok(&["ticket", "issue", "A", "--json"]));
    assert_eq!(late["offline"].as_bool(), Some(false), "{late}");
    let late = late["number"].as_str().unwrap().to_owned();
    assert!(!issued.contains(&late));
    let c = w1.act(|d| d.call_next(Timestamp::now())).unwrap();
    assert_eq!(c.number, late);
    called.push(c.number);
    issued.insert(late);

    let mut sorted = called.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        issued.iter().cloned().collect::<Vec<_>>(),
        "every ticket called exactly once, none lost: {called:?}"
    );
}

/// Waits (up to 30 s) for a change `want` picks, skipping others.
fn wait_for(changes: &mpsc::Receiver<Change>, what: &str, want: impl Fn(&Change) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match changes.recv_timeout(left) {
            Ok(c) if want(&c) => return,
            Ok(_) => {}
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }
}
