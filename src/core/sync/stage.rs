//! A snapshot applied in short transactions, still atomic for readers: the new catalogue is
//! written in batches of at most [`BATCH_TIME`] (and [`BATCH`] matters or [`INDEX_BATCH`]
//! search documents) into staging tables beside the live ones (`stage_matters`,
//! `stage_search_fts` …, made from the live tables' own schema), which no reader looks at;
//! one short transaction then checks the held version again (an equal version must bring
//! the same rows), renames the live tables to `retired_*` and the staged ones into their
//! place, and writes the version and cursor; the retired rows are then deleted in batches. No transaction holds the write lock for more than
//! one batch, so a citizen's case commits while a 20,000-matter snapshot goes in.
//!
//! One stager at a time (an advisory lock file beside the store); tables left by an
//! interrupted run are dropped at the next. The staging and retiring commits are not synced
//! one by one (`synchronous=NORMAL`: a power cut may undo the last of them, which the next
//! run redoes or drops); the swap is synced as every other commit of the store.

use std::os::fd::AsRawFd;

use rusqlite::{params, Connection, TransactionBehavior};

use super::{
    override_local, report_every, write_bundle, write_matter, write_meta, SyncError, SyncKind,
    SyncReport, VerifiedSnapshot,
};
use crate::core::catalog::Catalog;
use crate::core::domain::RegionCode;
use crate::core::search;
use crate::core::store::{Store, StoreError};

/// The catalogue's tables, swapped together.
const TABLES: [&str; 6] = [
    "matters",
    "bundles",
    "district_overrides",
    "matter_city_local",
    "search_docs",
    "search_fts",
];
const STAGE: &str = "stage_";
const RETIRED: &str = "retired_";
/// Matters per write transaction, at most.
pub const BATCH: usize = 2000;
/// Retired rows deleted per write transaction.
const RETIRE_BATCH: usize = 500;
/// Search documents per write transaction, at most: a document costs several times a matter
/// (seven tokenised columns into the full-text index, whose segments merge as they grow).
pub const INDEX_BATCH: usize = 1000;
/// A staging transaction takes rows until it has written this long, then commits: the write
/// lock is never held much longer, on a fast machine or a slow one, and a fast one commits
/// (and pauses, [`BATCH_PAUSE`]) fewer times. Fixed batches of 500 documents held the lock
/// 465 ms on a loaded machine; of 100, a 20,000-matter snapshot took 241 commits, that is
/// 0.7 s of pauses alone.
pub const BATCH_TIME: std::time::Duration = std::time::Duration::from_millis(80);

/// Holds the stager's lock file (released when dropped: the descriptor closes).
struct StageLock {
    _file: std::fs::File,
}

impl StageLock {
    fn acquire(store: &Store) -> Result<Self, SyncError> {
        let path = format!("{}.sync-lock", store.path().display());
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| SyncError::Invalid(format!("无法打开目录同步锁文件 {path}：{e}")))?;
        // SAFETY: flock on a descriptor this function owns; blocks until another stager ends.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            let e = std::io::Error::last_os_error();
            return Err(SyncError::Invalid(format!(
                "无法取得目录同步锁 {path}：{e}"
            )));
        }
        Ok(Self { _file: f })
    }
}

/// Runs `f` with `secure_delete` off: it frees only catalogue pages, which are public, so
/// overwriting each freed page with zeros (and writing it to the WAL once more) would only
/// hold the write lock longer. The store's setting is back on afterwards, whatever `f` did.
fn public_pages<T>(
    conn: &mut Connection,
    f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    conn.execute_batch("PRAGMA secure_delete=OFF")?;
    let r = f(conn);
    conn.execute_batch("PRAGMA secure_delete=ON")?;
    r
}

/// Runs `f` with this connection's commits not synced one by one (`synchronous=NORMAL`; in WAL
/// mode the store stays consistent, a power cut may only undo the last commits), a larger
/// page cache and a longer checkpoint interval: for staging and retiring, whose work an
/// interrupted run redoes or drops. The connection's own settings (`Store::open`'s) are back
/// afterwards, whatever `f` did; the swap turns `FULL` on itself before committing.
fn unsynced<T, E: From<StoreError>>(
    conn: &mut Connection,
    f: impl FnOnce(&mut Connection) -> Result<T, E>,
) -> Result<T, E> {
    const BULK: [(&str, i64); 3] = [
        ("synchronous", 1), // NORMAL
        ("wal_autocheckpoint", 4096),
        ("cache_size", -32_768),
    ];
    let mut held = Vec::with_capacity(BULK.len());
    for (name, bulk) in BULK {
        let now: i64 = conn
            .query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
            .map_err(StoreError::from)?;
        held.push((name, now));
        conn.pragma_update(None, name, bulk)
            .map_err(StoreError::from)?;
    }
    let r = f(conn);
    for (name, value) in held {
        conn.pragma_update(None, name, value)
            .map_err(StoreError::from)?;
    }
    r
}

fn exists(conn: &Connection, name: &str) -> Result<bool, StoreError> {
    Ok(conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [name],
        |r| r.get::<_, i64>(0),
    )? > 0)
}

/// Drops the tables with `prefix` (staged or retired ones).
fn drop_all(conn: &Connection, longest: &mut Longest, prefix: &str) -> Result<(), StoreError> {
    for t in TABLES {
        longest.time("drop tables", || {
            conn.execute_batch(&format!("DROP TABLE IF EXISTS {prefix}{t}"))
        })?;
    }
    Ok(())
}

/// Empty staging tables with the live tables' schema.
fn create_stage(conn: &mut Connection) -> Result<(), SyncError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for t in TABLES {
        let sql: String = tx.query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [t],
            |r| r.get(0),
        )?;
        // After a rename SQLite keeps the name quoted: `CREATE TABLE "matters" (`.
        let staged = [format!("TABLE \"{t}\""), format!("TABLE {t}")]
            .iter()
            .find(|from| sql.contains(from.as_str()))
            .map(|from| sql.replacen(from.as_str(), &format!("TABLE {STAGE}{t}"), 1))
            .ok_or_else(|| SyncError::Invalid(format!("本机目录表 {t} 的结构无法识别：{sql}")))?;
        tx.execute_batch(&staged)?;
    }
    tx.commit()?;
    Ok(())
}

/// The longest write transaction of a staged apply, and its step.
#[derive(Debug, Clone, Copy)]
struct Longest {
    took: std::time::Duration,
    step: &'static str,
}

impl Longest {
    fn new() -> Self {
        Self {
            took: std::time::Duration::ZERO,
            step: "none",
        }
    }

    /// Runs `f` (one write transaction, or a statement that is one) and keeps its time if it
    /// is the longest yet.
    fn time<T>(&mut self, step: &'static str, f: impl FnOnce() -> T) -> T {
        let t = std::time::Instant::now();
        let r = f();
        let took = t.elapsed();
        if took > self.took {
            *self = Self { took, step };
        }
        r
    }
}

/// Writes `items` in short write transactions ([`batch`]), each taking items until it has
/// written for [`BATCH_TIME`] or taken `most`.
fn batched<T>(
    conn: &mut Connection,
    longest: &mut Longest,
    step: &'static str,
    most: usize,
    items: impl IntoIterator<Item = T>,
    mut write: impl FnMut(&Connection, &mut dyn Iterator<Item = T>) -> Result<(), SyncError>,
) -> Result<(), SyncError> {
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        batch(conn, longest, step, |tx| {
            let started = std::time::Instant::now();
            let mut taken = 0;
            let mut until = std::iter::from_fn(|| {
                (taken < most && started.elapsed() < BATCH_TIME)
                    .then(|| items.next())
                    .flatten()
                    .inspect(|_| taken += 1)
            });
            write(tx, &mut until)
        })?;
    }
    Ok(())
}

/// Runs `f` in its own short write transaction.
fn batch(
    conn: &mut Connection,
    longest: &mut Longest,
    step: &'static str,
    f: impl FnOnce(&Connection) -> Result<(), SyncError>,
) -> Result<(), SyncError> {
    longest.time(step, || -> Result<(), SyncError> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        f(&tx)?;
        tx.commit()?;
        Ok(())
    })?;
    // A breath between batches: a case commit waiting on the lock (it polls every
    // millisecond, see `Store::open`) gets in here instead of waiting for the whole snapshot.
    std::thread::sleep(BATCH_PAUSE);
    Ok(())
}

/// The pause after each batch's commit.
const BATCH_PAUSE: std::time::Duration = std::time::Duration::from_millis(3);

/// Writes `s` as the catalogue (see the module doc).
pub(super) fn apply_snapshot(
    store: &mut Store,
    region: RegionCode,
    s: VerifiedSnapshot,
    progress: super::ProgressFn<'_>,
) -> Result<SyncReport, SyncError> {
    let _lock = StageLock::acquire(store)?;
    let conn = store.conn();
    let mut longest = Longest::new();
    unsynced(conn, |conn| {
        public_pages(conn, |conn| {
            drop_all(conn, &mut longest, STAGE)?;
            retire(conn, &mut longest)
        })
    })?;
    longest.time("create stage", || create_stage(conn))?;
    let result = unsynced(conn, |conn| {
        stage_and_swap(conn, &mut longest, region, s, progress)
    });
    if result.is_err() {
        let _ = public_pages(conn, |conn| drop_all(conn, &mut longest, STAGE));
    }
    let mut report = result?;
    unsynced(conn, |conn| {
        public_pages(conn, |conn| retire(conn, &mut longest))
    })?;
    report.longest_write_ms = longest.took.as_millis() as u64;
    report.longest_write_step = longest.step;
    Ok(report)
}

fn stage_and_swap(
    conn: &mut Connection,
    longest: &mut Longest,
    region: RegionCode,
    s: VerifiedSnapshot,
    progress: super::ProgressFn<'_>,
) -> Result<SyncReport, SyncError> {
    let VerifiedSnapshot {
        catalog,
        popularity,
        district,
        cursor,
    } = s;
    let Catalog {
        version,
        published_at,
        matters,
        bundles,
        ..
    } = catalog;
    // Refuse a replay before doing the work; the swap checks again under the write lock.
    check_version(conn, version)?;
    let district: std::collections::HashMap<&str, &crate::core::platform::wire::DistrictElements> =
        district.iter().map(|d| (d.task_code.as_str(), d)).collect();
    let total = matters.len() + bundles.len();
    // The search rows do not depend on district values: compute them on other threads
    // while this one writes the matters.
    let docs = std::thread::scope(|sc| -> Result<_, SyncError> {
        let docs = sc.spawn(|| search::prepare_docs(&matters));
        let each = matters.iter().enumerate();
        batched(conn, longest, "stage matters", BATCH, each, |tx, rows| {
            for (i, m) in rows {
                match district.get(m.task_code.as_str()) {
                    Some(d) => {
                        let mut m = m.clone();
                        override_local(tx, STAGE, &mut m, d)?;
                        write_matter(tx, STAGE, &m, i as i64)?;
                    }
                    None => write_matter(tx, STAGE, m, i as i64)?,
                }
                report_every(i + 1, total, progress);
            }
            Ok(())
        })?;
        docs.join()
            .map_err(|_| SyncError::Invalid("检索索引计算失败".into()))
    })?;
    let rows = matters
        .iter()
        .zip(docs)
        .zip(&popularity)
        .enumerate()
        .map(|(i, ((m, d), p))| (m, d, *p, i as i64));
    batched(
        conn,
        longest,
        "stage search index",
        INDEX_BATCH,
        rows,
        |tx, rows| {
            search::index_prepared_into(tx, STAGE, rows)?;
            Ok(())
        },
    )?;
    batch(conn, longest, "stage bundles", |tx| {
        for (i, b) in bundles.iter().enumerate() {
            write_bundle(tx, STAGE, b, i as i64)?;
            report_every(matters.len() + i + 1, total, progress);
        }
        Ok(())
    })?;

    // The swap: short, and the only moment readers' catalogue changes; synced (it makes
    // the unsynced staging commits before it durable too: the WAL is written in order).
    conn.execute_batch("PRAGMA synchronous=FULL")?;
    let district_overrides = longest.time("swap", || -> Result<usize, SyncError> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        check_version(&tx, version)?;
        // The version held again: only the same catalogue may come with it.
        if super::holds_platform_version(&tx, version)? && !super::same_content(&tx, "", STAGE)? {
            return Err(super::same_version_other_content(version));
        }
        let mut indexes = Vec::new();
        {
            let mut q = tx.prepare(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
                 AND tbl_name = ?1",
            )?;
            for t in TABLES {
                for row in q.query_map([t], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })? {
                    indexes.push(row?);
                }
            }
        }
        for (name, _) in &indexes {
            tx.execute_batch(&format!("DROP INDEX {name}"))?;
        }
        for t in TABLES {
            tx.execute_batch(&format!(
                "ALTER TABLE {t} RENAME TO {RETIRED}{t}; ALTER TABLE {STAGE}{t} RENAME TO {t};"
            ))?;
        }
        for (_, sql) in &indexes {
            tx.execute_batch(sql)?;
        }
        write_meta(&tx, version, region, &published_at)?;
        let now = jiff::Timestamp::now().to_string();
        tx.execute(
            "INSERT INTO sync_state (id, cursor, synced_at, attempted_at, last_error)
             VALUES (1, ?1, ?2, ?2, NULL)
             ON CONFLICT(id) DO UPDATE SET cursor = excluded.cursor, synced_at = excluded.synced_at,
                attempted_at = excluded.attempted_at, last_error = NULL",
            params![cursor, now],
        )?;
        let district_overrides =
            tx.query_row("SELECT count(*) FROM district_overrides", [], |r| {
                r.get::<_, i64>(0)
            })? as usize;
        tx.commit()?;
        Ok(district_overrides)
    })?;
    Ok(SyncReport {
        kind: SyncKind::Full,
        version,
        cursor,
        matters_written: matters.len(),
        matters_removed: 0,
        district_overrides,
        elapsed_ms: 0,
        longest_write_ms: 0,
        longest_write_step: "none",
    })
}

/// Refuses a snapshot older than the catalogue held (read in the caller's transaction).
fn check_version(conn: &Connection, version: u64) -> Result<(), SyncError> {
    let held = super::held_version(conn)?;
    if held.is_some_and(|v| version < v) {
        return Err(SyncError::Invalid(format!(
            "平台目录版本 {version} 低于本机版本 {}（疑似回放旧数据），已拒绝",
            held.unwrap_or(0)
        )));
    }
    Ok(())
}

/// Deletes the retired tables' rows in batches, then drops the emptied tables.
fn retire(conn: &mut Connection, longest: &mut Longest) -> Result<(), StoreError> {
    for t in TABLES {
        let name = format!("{RETIRED}{t}");
        if !exists(conn, &name)? {
            continue;
        }
        if t != "search_fts" {
            loop {
                let n = longest.time("retire rows", || -> Result<usize, StoreError> {
                    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                    let n = tx.execute(
                        &format!(
                            "DELETE FROM {name} WHERE rowid IN (SELECT rowid FROM {name} LIMIT {RETIRE_BATCH})"
                        ),
                        [],
                    )?;
                    tx.commit()?;
                    Ok(n)
                })?;
                if n == 0 {
                    break;
                }
            }
        }
        longest.time("retire drop", || {
            conn.execute_batch(&format!("DROP TABLE {name}"))
        })?;
    }
    Ok(())
}
