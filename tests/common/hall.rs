//! A hall database for one test: a fresh database (unique name) in the PostgreSQL cluster that
//! `scripts/test` starts and names in `YKB_TEST_PG`, dropped when the test ends. Tests run in
//! parallel, each on its own database. Without `YKB_TEST_PG` a test fails saying how to run it.

use std::sync::atomic::{AtomicU32, Ordering};

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
