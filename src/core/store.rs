//! The terminal's one durable store: a SQLite file in WAL mode with `synchronous=FULL`.
//!
//! Invariants:
//! - a process writes a database file through one `Store` (one connection), in transactions;
//!   several processes of one terminal are serialised by SQLite's locks (a 1 ms busy handler, 5 s);
//! - a file that is not ours, or is corrupt, is reported and never written to;
//! - the schema moves forward by numbered migrations recorded in `user_version`.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::catalog::Catalog;
use super::domain::{Bundle, Matter};

/// `PRAGMA application_id` of our databases: "YKBT".
pub const APPLICATION_ID: i32 = 0x594B_4254;

/// The busy handler: `true` (try again) for up to about 5 s, polling every millisecond.
fn wait_for_lock(tries: i32) -> bool {
    std::thread::sleep(std::time::Duration::from_millis(1));
    tries < 5000
}

/// Numbered schema migrations; entry `i` moves the schema from version `i` to `i + 1`.
/// Never edit a shipped migration: add a new one.
pub const MIGRATIONS: &[&str] = &[
    // 1: catalogue, cases, outbox, sequences.
    "CREATE TABLE catalog_meta (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version INTEGER NOT NULL,
        region_code TEXT NOT NULL,
        published_at TEXT NOT NULL,
        loaded_at TEXT NOT NULL
    );
    CREATE TABLE matters (
        task_code TEXT PRIMARY KEY,
        catalog_code TEXT NOT NULL,
        name TEXT NOT NULL,
        department TEXT NOT NULL,
        self_service INTEGER NOT NULL,
        position INTEGER NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX matters_department ON matters(department);
    CREATE TABLE bundles (
        code TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        position INTEGER NOT NULL,
        body TEXT NOT NULL
    );
    CREATE TABLE sequences (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );
    CREATE TABLE cases (
        id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL UNIQUE,
        status TEXT NOT NULL,
        unified_code TEXT,
        catalog_version INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        body BLOB
    );
    CREATE TABLE outbox (
        id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        schema_version INTEGER NOT NULL,
        catalog_version INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error TEXT,
        created_at TEXT NOT NULL,
        payload BLOB NOT NULL
    );",
    // 2: the outbox's delivery state, per-case materials, and the data-key check value.
    // Personal data lives only in sealed (AES-256-GCM) columns: cases.body, case_materials.image,
    // outbox.payload; all three are emptied when the platform acknowledges.
    "ALTER TABLE outbox ADD COLUMN state TEXT NOT NULL DEFAULT 'pending';
    ALTER TABLE outbox ADD COLUMN due_ms INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE outbox ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX outbox_state_seq ON outbox(state, seq);
    ALTER TABLE cases ADD COLUMN matters TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE cases ADD COLUMN wiped_at TEXT;
    CREATE TABLE case_materials (
        case_id TEXT NOT NULL REFERENCES cases(id),
        material_id TEXT NOT NULL,
        uploaded INTEGER NOT NULL DEFAULT 0,
        size INTEGER NOT NULL,
        image BLOB,
        PRIMARY KEY (case_id, material_id)
    );
    CREATE TABLE key_check (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        value BLOB NOT NULL
    );",
    // 3: platform sync and search (issue 4): registration, sync cursor, district overrides,
    // the city-wide values they replace, and the search index (see core::search).
    "CREATE TABLE platform_device (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        device_id TEXT NOT NULL,
        secret BLOB NOT NULL,
        base_url TEXT NOT NULL,
        registered_at TEXT NOT NULL
    );
    CREATE TABLE sync_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        cursor TEXT,
        synced_at TEXT,
        attempted_at TEXT,
        last_error TEXT
    );
    CREATE TABLE district_overrides (
        task_code TEXT PRIMARY KEY,
        region_code TEXT NOT NULL,
        local TEXT NOT NULL
    );
    CREATE TABLE matter_city_local (
        task_code TEXT PRIMARY KEY,
        local TEXT NOT NULL
    );
    CREATE TABLE search_docs (
        id INTEGER PRIMARY KEY,
        task_code TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        name_py TEXT NOT NULL,
        name_initials TEXT NOT NULL,
        aliases TEXT NOT NULL,
        aliases_py TEXT NOT NULL,
        department TEXT NOT NULL,
        audiences INTEGER NOT NULL,
        life_events TEXT NOT NULL,
        self_service INTEGER NOT NULL,
        popularity INTEGER NOT NULL,
        position INTEGER NOT NULL
    );
    CREATE TABLE search_meta (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        catalog_version INTEGER NOT NULL,
        index_version INTEGER NOT NULL
    );
    CREATE VIRTUAL TABLE search_fts USING fts5(ex, nt, np, at, ap, ot, op,
        content='', contentless_delete=1);",
    // 4: the hash-chained audit log (issue 8, see core::audit). Triggers refuse changes; the
    // chain and the head row detect deliberate ones.
    "CREATE TABLE audit_log (
        seq INTEGER NOT NULL UNIQUE,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TABLE audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
    CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
        BEGIN SELECT RAISE(ABORT, 'audit_head cannot be deleted'); END;",
    // 5: hall ticketing (issue 7, see core::ticketing): number ranges leased from the
    // platform, tickets with their queue state, and the counter windows. A number is issued
    // once per day and service (UNIQUE); an appointment checks in once per day.
    "CREATE TABLE ticket_leases (
        id INTEGER PRIMARY KEY,
        hall TEXT NOT NULL,
        service TEXT NOT NULL,
        day TEXT NOT NULL,
        first INTEGER NOT NULL,
        last INTEGER NOT NULL,
        next INTEGER NOT NULL,
        leased_at TEXT NOT NULL,
        CHECK (first >= 1 AND first <= last AND next >= first AND next <= last + 1)
    );
    CREATE INDEX ticket_leases_service_day ON ticket_leases(service, day, first);
    CREATE TABLE tickets (
        id TEXT PRIMARY KEY,
        day TEXT NOT NULL,
        service TEXT NOT NULL,
        number INTEGER NOT NULL,
        kind TEXT NOT NULL,
        priority INTEGER NOT NULL,
        appointment TEXT,
        state TEXT NOT NULL,
        queue_service TEXT NOT NULL,
        queue_seq INTEGER NOT NULL,
        transferred INTEGER NOT NULL DEFAULT 0,
        target_window INTEGER,
        window INTEGER,
        calls INTEGER NOT NULL DEFAULT 0,
        issued_ms INTEGER NOT NULL,
        first_called_ms INTEGER,
        called_ms INTEGER,
        finished_ms INTEGER,
        evaluated INTEGER NOT NULL DEFAULT 0,
        UNIQUE (day, service, number)
    );
    CREATE UNIQUE INDEX tickets_appointment ON tickets(day, appointment)
        WHERE appointment IS NOT NULL;
    CREATE INDEX tickets_day_state ON tickets(day, state);
    CREATE TABLE ticket_windows (
        number INTEGER PRIMARY KEY,
        open INTEGER NOT NULL,
        current TEXT REFERENCES tickets(id)
    );",
    // 6: the device secret is sealed under the data key (see core::credentials). SQL cannot
    // encrypt, so existing rows are marked clear (0) here and sealed by
    // `credentials::seal_legacy` when the core next starts with the key.
    "ALTER TABLE platform_device ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;",
    // 7: the last known state of each device slot (see core::health): written by the
    // self-test and the agent's probes, read into every heartbeat.
    "CREATE TABLE device_status (
        slot TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        paper TEXT,
        source TEXT NOT NULL,
        observed_at TEXT NOT NULL
    );",
    // 8: the outbox makes progress by itself (issue 17; see core::outbox): a claim on the
    // item being sent (deliverer, Unix ms), a quarantine state (state = 'quarantined', no
    // column needed) and the circuit breaker shared by every deliverer on the store.
    "ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
    ALTER TABLE outbox ADD COLUMN claimed_until INTEGER;
    CREATE TABLE outbox_breaker (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        streak TEXT NOT NULL DEFAULT '[]',
        open_until INTEGER,
        reason TEXT
    );",
    // Tickets a kiosk issued while the hall database was out of reach, replayed into the
    // hall queue in `seq` order when it is back (`core::hall::offline`).
    "CREATE TABLE hall_offline (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        hall TEXT NOT NULL,
        day TEXT NOT NULL,
        service TEXT NOT NULL,
        number INTEGER NOT NULL,
        kind TEXT NOT NULL,
        priority INTEGER NOT NULL,
        appointment TEXT,
        tap TEXT UNIQUE,
        issued_ms INTEGER NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'replayed', 'withdrawn'))
    );",
    // Remote operations (issue 19; see core::commands): every command received, with its
    // outcome until the platform has the acknowledgement (authentic ids are remembered
    // until they expire, so a replay is refused); the switches the apps read (maintenance,
    // restart between citizens); receipt paper use against the roll (core::consumables).
    "CREATE TABLE ops_commands (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        authentic INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        detail TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        finished_at INTEGER,
        acked INTEGER NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX ops_commands_authentic ON ops_commands(id) WHERE authentic = 1;
    CREATE TABLE ops_switches (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        set_at INTEGER NOT NULL,
        command_id TEXT
    );
    CREATE TABLE paper_roll (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        used_um INTEGER NOT NULL DEFAULT 0,
        jobs INTEGER NOT NULL DEFAULT 0,
        rolls_replaced INTEGER NOT NULL DEFAULT 0,
        replaced_at TEXT
    );",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Why the store could not be used. Each message says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("数据文件 {path} 不是本终端的数据库（{detail}）。文件未作任何修改；请检查 --data-dir，或把该文件移走后重试。")]
    Foreign { path: PathBuf, detail: String },
    #[error("数据文件 {path} 已损坏（{detail}）。文件未作任何修改；请联系运维人员从备份恢复。")]
    Corrupt { path: PathBuf, detail: String },
    #[error("数据文件 {path} 由更新版本的程序创建（结构版本 {found}，本程序支持到 {supported}）。请升级程序。")]
    TooNew {
        path: PathBuf,
        found: i64,
        supported: usize,
    },
    #[error("无法打开数据文件 {path}：{source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("无法创建数据目录 {path}：{source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("数据文件 {path} 正被另一个进程长时间占用（{detail}）。文件未作任何修改；请稍后重试，或检查是否有卡住的 ykb-terminal 进程。")]
    Busy { path: PathBuf, detail: String },
    #[error("数据库操作失败：{0}")]
    Sql(#[from] rusqlite::Error),
    #[error("数据库中的记录无法解析：{0}")]
    Decode(#[from] serde_json::Error),
}

/// A one-line summary of a stored matter, for lists.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MatterSummary {
    pub task_code: String,
    pub name: String,
    pub department: String,
    pub self_service: bool,
}

/// The store: one connection, this process's only writer of the file.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if absent) the database at `path`, after checking that an existing
    /// file is ours and intact; then applies pending migrations.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Dir {
                path: dir.to_owned(),
                source,
            })?;
        }
        // Processes starting at once (kiosk, agent, a technician's command) open one at a
        // time (an advisory lock on the directory): a check must never read a schema another process is still creating, and a
        // file being migrated is not a corrupt file.
        let _opening = OpenLock::take(path)?;
        let existing = std::fs::metadata(path)
            .map(|m| m.len() > 0)
            .unwrap_or(false);
        if existing {
            verify_read_only(path)?;
        }
        let conn = Connection::open(path).map_err(|source| StoreError::Open {
            path: path.to_owned(),
            source,
        })?;
        if !existing {
            // Only this service reads the store; SQLite gives -wal/-shm the same mode.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
            }
        }
        let mut store = Store {
            conn,
            path: path.to_owned(),
        };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    /// The database file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version recorded in the file.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// Direct access for modules of the core that own their tables (outbox, cases).
    pub fn conn(&mut self) -> &mut Connection {
        &mut self.conn
    }

    fn configure(&mut self) -> Result<(), StoreError> {
        // Waiting on another connection's write lock: try again every millisecond for up to
        // 5 s (SQLite's own busy_timeout backs off to 100 ms sleeps, so a waiter misses the
        // short gaps between another writer's transactions, e.g. a snapshot's batches).
        self.conn.busy_handler(Some(wait_for_lock))?;
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(%mode, "SQLite refused WAL mode");
        }
        // secure_delete: freed content is overwritten with zeros, so wiped personal data
        // does not linger in free pages.
        self.conn.execute_batch(
            // wal_autocheckpoint + journal_size_limit: the WAL is folded back every 1 MiB
            // (256 pages) and its file cut back to 1 MiB, so the log never holds the data
            // the main file would need room for to take it (issue 17: a full disk).
            "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;
             PRAGMA journal_size_limit=1048576; PRAGMA wal_autocheckpoint=256;",
        )?;
        Ok(())
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let current: i64 = self.schema_version()?;
        if current as usize > MIGRATIONS.len() || current < 0 {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: current,
                supported: MIGRATIONS.len(),
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            // IMMEDIATE takes the write lock first; re-reading the version under it lets two
            // processes starting together (kiosk and agent) migrate once, not twice.
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if now as usize > i {
                continue;
            }
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "application_id", APPLICATION_ID)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
            tracing::info!(version = i + 1, path = %self.path.display(), "store migrated");
        }
        Ok(())
    }

    /// Takes the next value of a named per-device monotonic sequence, durably.
    pub fn next_sequence(&mut self, name: &str) -> Result<u64, StoreError> {
        let tx = self.conn.transaction()?;
        let v = next_sequence_in(&tx, name)?;
        tx.commit()?;
        Ok(v)
    }

    /// The stored catalogue's version, if one was loaded.
    pub fn catalog_version(&self) -> Result<Option<u64>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT version FROM catalog_meta WHERE id = 1", [], |r| {
                r.get::<_, i64>(0)
            })
            .optional()?
            .map(|v| v as u64))
    }

    /// Replaces the whole catalogue in one transaction: readers see the old one or the new one.
    pub fn replace_catalog(&mut self, catalog: &Catalog) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM matters", [])?;
        tx.execute("DELETE FROM bundles", [])?;
        {
            let mut ins = tx.prepare(
                "INSERT INTO matters (task_code, catalog_code, name, department, self_service, position, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for (i, m) in catalog.matters.iter().enumerate() {
                ins.execute(params![
                    m.task_code.as_str(),
                    m.catalog_code.as_str(),
                    m.name,
                    m.department,
                    m.self_service,
                    i as i64,
                    serde_json::to_string(m)?
                ])?;
            }
            let mut ins = tx.prepare(
                "INSERT INTO bundles (code, name, position, body) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (i, b) in catalog.bundles.iter().enumerate() {
                ins.execute(params![
                    b.code.as_str(),
                    b.name,
                    i as i64,
                    serde_json::to_string(b)?
                ])?;
            }
        }
        tx.execute(
            "INSERT INTO catalog_meta (id, version, region_code, published_at, loaded_at)
             VALUES (1, ?1, ?2, ?3, ?4)
             ON CONFLICT(id) DO UPDATE SET version = excluded.version, region_code = excluded.region_code,
               published_at = excluded.published_at, loaded_at = excluded.loaded_at",
            params![
                catalog.version as i64,
                catalog.region_code.as_str(),
                catalog.published_at,
                jiff::Timestamp::now().to_string()
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Loads the stored catalogue, or `None` if none was loaded yet.
    pub fn load_catalog(&self) -> Result<Option<Catalog>, StoreError> {
        let meta = self
            .conn
            .query_row(
                "SELECT version, region_code, published_at FROM catalog_meta WHERE id = 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()?;
        let Some((version, region, published_at)) = meta else {
            return Ok(None);
        };
        let matters = self.bodies::<Matter>("SELECT body FROM matters ORDER BY position")?;
        let bundles = self.bodies::<Bundle>("SELECT body FROM bundles ORDER BY position")?;
        let region_code =
            super::domain::RegionCode::new(&region).map_err(|e| StoreError::Corrupt {
                path: self.path.clone(),
                detail: e.to_string(),
            })?;
        Ok(Some(Catalog {
            version: version as u64,
            region_code,
            published_at,
            matters,
            bundles,
        }))
    }

    /// Summaries of every stored matter, in catalogue order.
    pub fn matter_summaries(&self) -> Result<Vec<MatterSummary>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT task_code, name, department, self_service FROM matters ORDER BY position",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(MatterSummary {
                task_code: r.get(0)?,
                name: r.get(1)?,
                department: r.get(2)?,
                self_service: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One stored matter by task code.
    pub fn matter(&self, task_code: &str) -> Result<Option<Matter>, StoreError> {
        let body: Option<String> = self
            .conn
            .prepare_cached("SELECT body FROM matters WHERE task_code = ?1")?
            .query_row([task_code], |r| r.get(0))
            .optional()?;
        Ok(body.map(|b| serde_json::from_str(&b)).transpose()?)
    }

    fn bodies<T: serde::de::DeserializeOwned>(&self, sql: &str) -> Result<Vec<T>, StoreError> {
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for body in rows {
            out.push(serde_json::from_str(&body?)?);
        }
        Ok(out)
    }
}

/// Takes the next value of a named sequence inside a caller's transaction, so a row and its
/// sequence number commit together.
pub fn next_sequence_in(tx: &rusqlite::Transaction<'_>, name: &str) -> Result<u64, StoreError> {
    let v: i64 = tx
        .prepare_cached(
            "INSERT INTO sequences (name, value) VALUES (?1, 1)
             ON CONFLICT(name) DO UPDATE SET value = value + 1
             RETURNING value",
        )?
        .query_row([name], |r| r.get(0))?;
    Ok(v as u64)
}

/// Checks an existing file without writing to it: SQLite header, our application id (or an
/// empty schema), and an intact structure.
fn verify_read_only(path: &Path) -> Result<(), StoreError> {
    use std::io::Read;
    let foreign = |detail: String| StoreError::Foreign {
        path: path.to_owned(),
        detail,
    };
    let corrupt = |detail: String| StoreError::Corrupt {
        path: path.to_owned(),
        detail,
    };
    let mut header = [0u8; 16];
    let mut f = std::fs::File::open(path).map_err(|e| foreign(e.to_string()))?;
    let n = f.read(&mut header).map_err(|e| foreign(e.to_string()))?;
    if n < 16 || &header != b"SQLite format 3\0" {
        return Err(foreign("不是 SQLite 数据库文件".into()));
    }
    // Another process holding a lock is busy, not corrupt: wait like every other
    // connection does, and name a lock that outlasts the wait as such.
    let failed = |e: rusqlite::Error| {
        if is_busy(&e) {
            StoreError::Busy {
                path: path.to_owned(),
                detail: e.to_string(),
            }
        } else {
            corrupt(e.to_string())
        }
    };
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(failed)?;
    conn.busy_handler(Some(wait_for_lock)).map_err(failed)?;
    let app_id: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(failed)?;
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .map_err(failed)?;
    if app_id != APPLICATION_ID && !(app_id == 0 && tables == 0) {
        return Err(foreign(format!(
            "application_id = {app_id:#x}，含 {tables} 个对象"
        )));
    }
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(failed)?;
    if check != "ok" {
        return Err(corrupt(check));
    }
    Ok(())
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// An advisory lock on the store's directory, held while a process checks and migrates the
/// store, so that processes starting together open it one after another. (The directory, not
/// a lock file beside the store: nothing is left behind in a data directory.)
struct OpenLock(#[allow(dead_code)] std::fs::File);

impl OpenLock {
    fn take(path: &Path) -> Result<Self, StoreError> {
        use std::os::unix::io::AsRawFd;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        let file = std::fs::File::open(&dir).map_err(|source| StoreError::Dir {
            path: dir.clone(),
            source,
        })?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            // SAFETY: flock on a descriptor this function owns; no memory is shared.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                return Ok(OpenLock(file));
            }
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
                // A file system without flock: open without it, as before.
                tracing::warn!(error = %err, "store open lock unavailable");
                return Ok(OpenLock(file));
            }
            if std::time::Instant::now() > deadline {
                return Err(StoreError::Busy {
                    path: path.to_owned(),
                    detail: "另一进程打开数据文件超过 10 秒".into(),
                });
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_store_is_wal_full_sync_and_at_current_schema() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        let mode: String = store
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        let sync: i64 = store
            .conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "synchronous=FULL");
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION as i64);
    }

    #[test]
    fn reopening_keeps_data_and_does_not_rerun_migrations() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.db");
        {
            let mut s = Store::open(&p).unwrap();
            assert_eq!(s.next_sequence("case").unwrap(), 1);
            assert_eq!(s.next_sequence("case").unwrap(), 2);
        }
        let mut s = Store::open(&p).unwrap();
        assert_eq!(s.next_sequence("case").unwrap(), 3);
        assert_eq!(s.next_sequence("ticket").unwrap(), 1);
    }

    #[test]
    fn processes_opening_a_new_store_together_migrate_it_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.db");
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let p = p.clone();
                std::thread::spawn(move || Store::open(&p).map(|s| s.schema_version().unwrap()))
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap().unwrap(), SCHEMA_VERSION as i64);
        }
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.db");
        {
            let s = Store::open(&p).unwrap();
            s.conn.pragma_update(None, "user_version", 99).unwrap();
        }
        assert!(matches!(
            Store::open(&p),
            Err(StoreError::TooNew { found: 99, .. })
        ));
    }
}
