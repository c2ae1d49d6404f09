//! A hall database for one test: a fresh database (unique name) in the PostgreSQL cluster that
//! `scripts/test` starts and names in `YKB_TEST_PG`, dropped when the test ends. Tests run in
//! parallel, each on its own database. Without `YKB_TEST_PG` a test fails saying how to run it.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use jiff::Timestamp;
use ykb_terminal::core::config::{Profile, TicketingSection};
use ykb_terminal::core::platform::wire::{TicketLease, TicketLeaseRequest};
use ykb_terminal::core::ticketing;
use ykb_terminal::core::Core;

static NEXT: AtomicU32 = AtomicU32::new(0);

/// The cluster's admin URI, or a failure saying how to get one.
pub fn admin_uri() -> String {
    std::env::var("YKB_TEST_PG").unwrap_or_else(|_| {
        panic!(
            "the hall tests need a real PostgreSQL: run them with scripts/test (it installs \
             Debian's postgresql when missing, starts a throwaway cluster and sets YKB_TEST_PG)"
        )
    })
}

/// One test's database.
pub struct TestDb {
    /// Its URI, as a profile's `ticketing.queue` names it.
    pub uri: String,
    pub name: String,
    admin: String,
}

impl TestDb {
    /// Creates an empty database.
    pub fn new() -> Self {
        let admin = admin_uri();
        let name = format!(
            "ykb_t{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst),
            jiff::Timestamp::now().as_millisecond() % 100_000
        );
        let mut c = postgres::Client::connect(&admin, postgres::NoTls)
            .unwrap_or_else(|e| panic!("YKB_TEST_PG ({admin}) not reachable: {e}"));
        c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let (base, _) = admin
            .rsplit_once('/')
            .expect("YKB_TEST_PG ends in /DATABASE");
        Self {
            uri: format!("{base}/{name}"),
            name,
            admin,
        }
    }

    /// A connection to this database (to look at what the terminals wrote).
    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.uri, postgres::NoTls).unwrap()
    }

    /// A connection to the cluster's admin database.
    pub fn admin(&self) -> postgres::Client {
        postgres::Client::connect(&self.admin, postgres::NoTls).unwrap()
    }

    /// The cluster's loopback port.
    pub fn port(&self) -> u16 {
        let cfg: postgres::Config = self.admin.parse().unwrap();
        cfg.get_ports().first().copied().unwrap_or(5432)
    }
}

impl Default for TestDb {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// The demo profile with ten windows calling every service, on the hall database `uri`.
pub fn profile_text(uri: &str, extra: &str) -> String {
    let demo = include_str!("../../kiosk-config/demo.toml");
    let head = demo
        .split("\n[[ticketing.windows]]")
        .next()
        .unwrap()
        .replace(
            "lease_low_water = 10\n",
            &format!("lease_low_water = 10\nqueue = \"{uri}\"\n{extra}"),
        );
    let rest: String = demo
        .split("\n[[ticketing.windows]]")
        .last()
        .unwrap()
        .split_once("\n[")
        .map(|(_, r)| format!("\n[{r}"))
        .unwrap_or_default();
    let mut windows = String::new();
    for w in 1..=10 {
        windows.push_str(&format!(
            "\n[[ticketing.windows]]\nnumber = {w}\nservices = [\"A\", \"B\", \"C\"]\n"
        ));
    }
    format!("{head}{windows}{rest}")
}

/// One terminal: its own data directory and profile.
pub struct Terminal {
    _dir: tempfile::TempDir,
    pub data: PathBuf,
    pub profile: PathBuf,
}

impl Terminal {
    pub fn new(uri: &str) -> Self {
        Self::with(uri, "")
    }

    pub fn with(uri: &str, extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let profile = dir.path().join("terminal.toml");
        std::fs::write(&profile, profile_text(uri, extra)).unwrap();
        Self {
            data: dir.path().join("data"),
            profile,
            _dir: dir,
        }
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(super::BIN);
        c.env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("RUST_LOG")
            .arg("--config")
            .arg(&self.profile)
            .arg("--data-dir")
            .arg(&self.data)
            .args(args);
        c
    }

    /// Runs to the end: (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.cmd(args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        out
    }

    /// The leases the platform would grant this terminal: numbers `first..=last` of each
    /// service today (disjoint per terminal, as the platform's are).
    pub fn grant(&self, first: u32, last: u32) {
        let profile = Profile::load(&self.profile).unwrap();
        let cfg = profile.ticketing.clone().unwrap();
        let mut core = Core::start(profile, &self.data).unwrap();
        grant(&mut core, &cfg, first, last);
    }
}

/// Records a lease of numbers `first..=last` of services A, B and C for today in `core`'s
/// store, as the platform would grant it.
pub fn grant(core: &mut Core, cfg: &TicketingSection, first: u32, last: u32) {
    let date = ticketing::hall_date(Timestamp::now()).to_string();
    for s in ["A", "B", "C"] {
        let req = TicketLeaseRequest {
            hall: cfg.hall.clone(),
            service: s.into(),
            date: date.clone(),
            count: last - first + 1,
            daily_cap: 999,
        };
        let lease = TicketLease {
            hall: req.hall.clone(),
            service: s.into(),
            date: date.clone(),
            first,
            last,
        };
        ticketing::record_lease(&mut core.store, &req, &lease, Timestamp::now()).unwrap();
    }
}

pub fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// A hall database with its schema, and the terminal that ran `hall init`.
pub fn hall() -> (TestDb, Terminal) {
    let db = TestDb::new();
    let it = Terminal::new(&db.uri);
    it.ok(&["hall", "init"]);
    (db, it)
}
