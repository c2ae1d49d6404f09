//! A PostgreSQL server of a test's own (the failover pair, the TLS server), started from the
//! binaries `scripts/test` names (`YKB_TEST_PG_BIN`) as the cluster's owner, stopped when
//! dropped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The PostgreSQL binaries, or a failure saying how to get them.
pub fn pg_bin() -> PathBuf {
    PathBuf::from(std::env::var("YKB_TEST_PG_BIN").unwrap_or_else(|_| {
        panic!(
            "the test needs PostgreSQL's binaries: run it with scripts/test (it \
             installs Debian's postgresql when missing and sets YKB_TEST_PG_BIN)"
        )
    }))
}

/// Runs a PostgreSQL tool as the cluster's owner (`postgres` when the tests run as root, as
/// in CI: the server refuses to run as root).
pub fn pg(tool: &str) -> Command {
    let path = pg_bin().join(tool);
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(path);
        c
    } else {
        Command::new(path)
    }
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

#[track_caller]
pub fn run(c: &mut Command) {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server of the pair: its data directory and port; stopped when dropped.
pub struct Server {
    pub data: PathBuf,
    pub port: u16,
}

impl Server {
    pub fn start(&self, log: &Path) {
        run(pg("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(log)
            .args(["-w", "-t", "60", "start"]));
    }

    pub fn admin(&self) -> postgres::Client {
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

impl Server {
    /// A new cluster in `data` (superuser `ykb_test`, trust), listening on 127.0.0.1 and a
    /// socket in `sockets`, with `conf` appended to its `postgresql.conf`; not started.
    pub fn init(data: PathBuf, sockets: &Path, conf: &str) -> Self {
        let server = Self {
            data,
            port: free_port(),
        };
        run(pg("initdb").arg("-D").arg(&server.data).args([
            "-U",
            "ykb_test",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
        ]));
        append(
            &server.data.join("postgresql.conf"),
            &format!(
                "listen_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'\n\
                 fsync = off\n{conf}",
                server.port,
                sockets.display()
            ),
        );
        server
    }
}

/// Appends `text` to the file at `path`.
pub fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// A temporary directory the servers' user may write in (its sockets, its clusters).
pub fn server_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    if is_root() {
        run(Command::new("chown").arg("postgres:").arg(dir.path()));
    }
    dir
}

/// A primary and its synchronous hot standby, the hall database `ykb_hall` on both. `durable`:
/// with `fsync` on, as a hall server runs (the bench); the tests keep it off, for speed.
pub fn pair(dir: &Path, durable: bool) -> (Server, Server) {
    let fsync = if durable { "fsync = on\n" } else { "" };
    let primary = Server::init(
        dir.join("primary"),
        dir,
        &format!("wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n{fsync}"),
    );
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
