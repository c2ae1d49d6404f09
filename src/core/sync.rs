//! Catalogue sync (同源发布、同步更新): a signed snapshot, then deltas since a cursor.
//!
//! Two halves, so the store keeps one writer: [`fetch`] talks to the platform, verifies the
//! Ed25519 signature and checks every entry — nothing touches the store before that — and
//! [`apply`] writes the result so that readers see it change at **one** commit together with
//! the search index, the district overrides and the cursor (a delta in one transaction; a
//! snapshot staged in batches beside the live tables and swapped in by one short transaction,
//! see `stage`, so no other writer waits for the whole catalogue). A failed, truncated or
//! tampered sync therefore leaves the previous catalogue fully usable. [`sync_once`] runs
//! both.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde::Serialize;

use super::catalog::{self, Catalog, CatalogError};
use super::domain::{Bundle, LocalElements, Matter, RegionCode};
use super::platform::wire::{self, CatalogDelta, CatalogSnapshot, DistrictElements};
use super::platform::{DeltaAnswer, PlatformClient, PlatformError};
use super::search;
use super::store::{Store, StoreError};

/// The enrolment code the simulator accepts (demo only).
pub const DEMO_ENROLMENT_CODE: &str = "YKB-DEMO-ENROL";

/// Which stage a sync is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncPhase {
    /// Receiving the document (`done`/`total` in bytes; total 0 when undeclared).
    Downloading,
    /// Checking signature and entries.
    Verifying,
    /// Writing items (`done`/`total` in items).
    Applying,
    /// Finished.
    Done,
}

/// Progress for a progress bar: items (or bytes while downloading) done of total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SyncProgress {
    /// Stage.
    pub phase: SyncPhase,
    /// Done so far.
    pub done: u64,
    /// Total (0 when not known).
    pub total: u64,
}

/// Receives progress reports; called from the syncing task.
pub type ProgressFn<'a> = &'a (dyn Fn(SyncProgress) + Send + Sync);

/// What kind of sync was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncKind {
    /// A whole snapshot replaced the catalogue.
    Full,
    /// A delta changed part of it.
    Delta,
}

/// The outcome of a successful sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// Full or delta.
    pub kind: SyncKind,
    /// Catalogue version now held.
    pub version: u64,
    /// Cursor now held.
    pub cursor: String,
    /// Matters written (all of them for a full sync).
    pub matters_written: usize,
    /// Matters withdrawn.
    pub matters_removed: usize,
    /// District overrides now applied to this terminal's region.
    pub district_overrides: usize,
    /// Wall time.
    pub elapsed_ms: u64,
    /// The longest the sync held the store's write lock in one transaction, and in which
    /// step: what a case commit may have waited for meanwhile.
    pub longest_write_ms: u64,
    pub longest_write_step: &'static str,
}

/// Where the terminal's catalogue stands, for the status line and technicians.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncStatus {
    /// Catalogue version held, if any.
    pub version: Option<u64>,
    /// Cursor held, if synced from the platform at least once.
    pub cursor: Option<String>,
    /// RFC 3339 time of the last successful sync.
    pub synced_at: Option<String>,
    /// RFC 3339 time of the last attempt.
    pub attempted_at: Option<String>,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
}

/// Why a sync did not complete. The previous catalogue is untouched in every case.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The platform could not be reached or refused (see [`PlatformError`]).
    #[error("目录同步失败：{0}。当前目录继续可用，稍后将自动重试。")]
    Platform(#[from] PlatformError),
    /// The document was signed but its content is not acceptable.
    #[error("平台下发的目录未通过检查：{0}。当前目录继续可用，请联系平台运维。")]
    Invalid(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The disk has no room for a sync: it did not start (see `outbox::space`).
    #[error("本机磁盘空间不足，目录同步未开始：当前目录继续可用，腾出空间后自动恢复（{0}）")]
    NoSpace(String),
}

impl From<rusqlite::Error> for SyncError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(StoreError::Sql(e))
    }
}

/// A snapshot that passed signature and content checks.
#[derive(Debug, Clone)]
pub struct VerifiedSnapshot {
    /// The catalogue (matters carry city-wide local values).
    pub catalog: Catalog,
    /// Popularity per matter, in the order of `catalog.matters`.
    pub popularity: Vec<u64>,
    /// District values for this terminal's region.
    pub district: Vec<DistrictElements>,
    /// Cursor to ask deltas from.
    pub cursor: String,
}

/// What [`fetch`] brings back, verified and checked.
#[derive(Debug, Clone)]
pub enum Fetched {
    /// A full snapshot.
    Snapshot(Box<VerifiedSnapshot>),
    /// Changes since the held cursor.
    Delta(Box<CatalogDelta>),
}

impl Fetched {
    /// Items the apply step will write (for progress totals).
    pub fn items(&self) -> usize {
        match self {
            Self::Snapshot(s) => s.catalog.matters.len() + s.catalog.bundles.len(),
            Self::Delta(d) => d.len(),
        }
    }
}

/// Downloads what the terminal needs: a delta since `cursor`, or a snapshot when there is
/// no cursor, `full` is set, or the platform no longer knows the cursor. Verifies the
/// signature and checks every entry before returning.
pub async fn fetch(
    client: &PlatformClient,
    region: RegionCode,
    cursor: Option<&str>,
    full: bool,
    progress: ProgressFn<'_>,
) -> Result<Fetched, SyncError> {
    let bytes = |done: u64, total: Option<u64>| {
        progress(SyncProgress {
            phase: SyncPhase::Downloading,
            done,
            total: total.unwrap_or(0),
        })
    };
    if let (Some(cursor), false) = (cursor, full) {
        match client
            .catalog_delta(region.as_str(), cursor, Some(&bytes))
            .await?
        {
            DeltaAnswer::Delta(d) => {
                progress(SyncProgress {
                    phase: SyncPhase::Verifying,
                    done: 0,
                    total: d.len() as u64,
                });
                check_delta(&d, region)?;
                return Ok(Fetched::Delta(d));
            }
            DeltaAnswer::Gone => {
                tracing::info!(%cursor, "platform no longer serves deltas from our cursor; fetching a snapshot");
            }
        }
    }
    let snap = client
        .catalog_snapshot(region.as_str(), Some(&bytes))
        .await?;
    progress(SyncProgress {
        phase: SyncPhase::Verifying,
        done: 0,
        total: snap.matters.len() as u64,
    });
    Ok(Fetched::Snapshot(Box::new(check_snapshot(snap, region)?)))
}

fn invalid(e: CatalogError) -> SyncError {
    SyncError::Invalid(e.to_string())
}

fn check_district(d: &[DistrictElements], region: RegionCode) -> Result<(), SyncError> {
    for e in d {
        if e.region_code != region.as_str() {
            return Err(SyncError::Invalid(format!(
                "事项 {} 的区县要素属于区划 {}，不是本机区划 {region}",
                e.task_code, e.region_code
            )));
        }
    }
    Ok(())
}

/// Checks a snapshot's content as the catalogue module checks any catalogue.
pub fn check_snapshot(
    snap: CatalogSnapshot,
    region: RegionCode,
) -> Result<VerifiedSnapshot, SyncError> {
    check_district(&snap.district, region)?;
    let mut popularity = Vec::with_capacity(snap.matters.len());
    let mut matters = Vec::with_capacity(snap.matters.len());
    for p in snap.matters {
        popularity.push(p.popularity);
        matters.push(p.matter);
    }
    let catalog = Catalog {
        version: snap.version,
        region_code: region,
        published_at: snap.published_at,
        matters,
        bundles: snap.bundles,
    };
    catalog.check().map_err(invalid)?;
    let codes: HashSet<&str> = catalog
        .matters
        .iter()
        .map(|m| m.task_code.as_str())
        .collect();
    if let Some(d) = snap
        .district
        .iter()
        .find(|d| !codes.contains(d.task_code.as_str()))
    {
        return Err(SyncError::Invalid(format!(
            "区县要素引用了不存在的事项 {}",
            d.task_code
        )));
    }
    Ok(VerifiedSnapshot {
        catalog,
        popularity,
        district: snap.district,
        cursor: snap.cursor,
    })
}

/// Checks each entry of a delta on its own (references are checked when applied).
pub fn check_delta(d: &CatalogDelta, region: RegionCode) -> Result<(), SyncError> {
    check_district(&d.district_upserts, region)?;
    let mut seen = HashSet::new();
    for p in &d.upserts {
        if !seen.insert(p.matter.task_code.as_str()) {
            return Err(SyncError::Invalid(format!(
                "增量中事项 {} 重复",
                p.matter.task_code
            )));
        }
        catalog::check_matter(&p.matter).map_err(invalid)?;
    }
    if let Some(c) = d.removals.iter().find(|c| seen.contains(c.as_str())) {
        return Err(SyncError::Invalid(format!("增量同时修改并删除事项 {c}")));
    }
    for b in &d.bundle_upserts {
        catalog::check_bundle_questions(b).map_err(invalid)?;
    }
    Ok(())
}

/// The sync state recorded in the store.
pub fn status(store: &mut Store) -> Result<SyncStatus, StoreError> {
    let version = store.catalog_version()?;
    let row = store
        .conn()
        .query_row(
            "SELECT cursor, synced_at, attempted_at, last_error FROM sync_state WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let (cursor, synced_at, attempted_at, last_error) = row.unwrap_or((None, None, None, None));
    Ok(SyncStatus {
        version,
        cursor,
        synced_at,
        attempted_at,
        last_error,
    })
}

/// Records a failed attempt (the catalogue itself is not touched).
pub fn record_failure(store: &mut Store, error: &SyncError) -> Result<(), StoreError> {
    store.conn().execute(
        "INSERT INTO sync_state (id, attempted_at, last_error) VALUES (1, ?1, ?2)
         ON CONFLICT(id) DO UPDATE SET attempted_at = excluded.attempted_at,
            last_error = excluded.last_error",
        params![jiff::Timestamp::now().to_string(), error.to_string()],
    )?;
    Ok(())
}

mod stage;

/// Matters per write transaction when a snapshot is staged, at most.
pub const SNAPSHOT_BATCH: usize = stage::BATCH;
/// Search documents per write transaction of a staged snapshot, at most.
pub const SNAPSHOT_INDEX_BATCH: usize = stage::INDEX_BATCH;
/// How long a staging transaction writes before it commits.
pub const SNAPSHOT_BATCH_TIME: std::time::Duration = stage::BATCH_TIME;

/// The catalogue version held, read on `conn` (inside the caller's transaction).
fn held_version(conn: &Connection) -> Result<Option<u64>, StoreError> {
    Ok(conn
        .query_row("SELECT version FROM catalog_meta WHERE id = 1", [], |r| {
            r.get::<_, i64>(0)
        })
        .optional()?
        .map(|v| v as u64))
}

/// The catalogue's content tables: a snapshot that comes with the version held (from the
/// platform) must hold exactly their rows (the search tables are derived from them).
const CONTENT_TABLES: [&str; 4] = [
    "matters",
    "bundles",
    "district_overrides",
    "matter_city_local",
];

/// Whether the content tables named with prefix `a` and with prefix `b` (`""` the live ones,
/// `stage_`, `temp.held_`) hold the same rows, read on `conn` (inside the caller's
/// transaction).
fn same_content(conn: &Connection, a: &str, b: &str) -> Result<bool, StoreError> {
    for t in CONTENT_TABLES {
        let differs: bool = conn.query_row(
            &format!(
                "SELECT EXISTS (SELECT * FROM {a}{t} EXCEPT SELECT * FROM {b}{t})
                     OR EXISTS (SELECT * FROM {b}{t} EXCEPT SELECT * FROM {a}{t})"
            ),
            [],
            |r| r.get(0),
        )?;
        if differs {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether the catalogue held at `version` came from the platform and so must not change
/// without a new version: the same version again is checked for the same content. A
/// catalogue never synced (the one built in, no cursor yet) is replaced by any version.
fn holds_platform_version(conn: &Connection, version: u64) -> Result<bool, StoreError> {
    if held_version(conn)? != Some(version) {
        return Ok(false);
    }
    let cursor: Option<String> = conn
        .query_row("SELECT cursor FROM sync_state WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?
        .flatten();
    Ok(cursor.is_some())
}

/// The refusal of a catalogue that claims the version held but says something else.
fn same_version_other_content(version: u64) -> SyncError {
    SyncError::Invalid(format!(
        "平台目录版本 {version} 与本机版本相同，内容却不同（同一版本不应改动，疑似篡改或发布错误），已拒绝"
    ))
}

/// Writes a fetched snapshot or delta; readers see the old catalogue or the new one, never a
/// mix. A delta (small) goes in one transaction; a snapshot is staged in batches and swapped
/// in by one short transaction (`stage`), so no commit waits for the whole catalogue.
pub fn apply(
    store: &mut Store,
    region: RegionCode,
    fetched: Fetched,
    progress: ProgressFn<'_>,
) -> Result<SyncReport, SyncError> {
    match fetched {
        Fetched::Snapshot(s) => {
            let started = Instant::now();
            let mut report = stage::apply_snapshot(store, region, *s, progress)?;
            report.elapsed_ms = started.elapsed().as_millis() as u64;
            progress(SyncProgress {
                phase: SyncPhase::Done,
                done: report.matters_written as u64,
                total: report.matters_written as u64,
            });
            Ok(report)
        }
        delta => apply_in_one_transaction(store, region, delta, progress),
    }
}

/// Writes a fetched snapshot or delta in **one** transaction: catalogue, district overrides,
/// search index, catalogue version and cursor commit together or not at all. Deltas take
/// this path; for a snapshot it is the unbatched baseline `cargo bench` measures [`apply`]
/// against (it holds the write lock for the whole catalogue).
pub fn apply_in_one_transaction(
    store: &mut Store,
    region: RegionCode,
    fetched: Fetched,
    progress: ProgressFn<'_>,
) -> Result<SyncReport, SyncError> {
    let started = Instant::now();
    // A large page cache for the one big transaction (fewer spills to the WAL mid-way);
    // the connection's own setting is restored afterwards.
    let cache: i64 = store
        .conn()
        .query_row("PRAGMA cache_size", [], |r| r.get(0))?;
    store.conn().pragma_update(None, "cache_size", -65_536)?;
    let result = apply_in_tx(store, region, fetched, progress);
    store.conn().pragma_update(None, "cache_size", cache)?;
    let mut report = result?;
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    report.longest_write_ms = report.elapsed_ms;
    progress(SyncProgress {
        phase: SyncPhase::Done,
        done: report.matters_written as u64,
        total: report.matters_written as u64,
    });
    Ok(report)
}

fn apply_in_tx(
    store: &mut Store,
    region: RegionCode,
    fetched: Fetched,
    progress: ProgressFn<'_>,
) -> Result<SyncReport, SyncError> {
    // The held version is read under the write lock: two syncs at once cannot both pass the
    // check against a stale version.
    let tx = store
        .conn()
        .transaction_with_behavior(TransactionBehavior::Immediate)?;
    let held = held_version(&tx)?;
    let mut report = match fetched {
        Fetched::Snapshot(s) => {
            let version = s.catalog.version;
            if held.is_some_and(|v| version < v) {
                return Err(SyncError::Invalid(format!(
                    "平台目录版本 {} 低于本机版本 {}（疑似回放旧数据），已拒绝",
                    version,
                    held.unwrap_or(0)
                )));
            }
            // The version held again: it must be the same catalogue. The rows it replaces are
            // kept aside in this transaction to compare with what it wrote.
            let same_version = holds_platform_version(&tx, version)?;
            if same_version {
                for t in CONTENT_TABLES {
                    tx.execute_batch(&format!(
                        "DROP TABLE IF EXISTS temp.held_{t}; CREATE TEMP TABLE held_{t} AS SELECT * FROM {t};"
                    ))?;
                }
            }
            let report = apply_snapshot(&tx, region, *s, progress)?;
            if same_version {
                let same = same_content(&tx, "temp.held_", "")?;
                for t in CONTENT_TABLES {
                    tx.execute_batch(&format!("DROP TABLE temp.held_{t}"))?;
                }
                if !same {
                    return Err(same_version_other_content(version));
                }
            }
            report
        }
        Fetched::Delta(d) => {
            if held.is_some_and(|v| d.version < v) {
                return Err(SyncError::Invalid(format!(
                    "增量版本 {} 低于本机版本 {}，已拒绝",
                    d.version,
                    held.unwrap_or(0)
                )));
            }
            // Changes without a new version would make one version mean two catalogues.
            if !d.is_empty() && holds_platform_version(&tx, d.version)? {
                return Err(SyncError::Invalid(format!(
                    "增量版本 {} 与本机版本相同却带有 {} 项改动（同一版本不应改动），已拒绝",
                    d.version,
                    d.len()
                )));
            }
            apply_delta(&tx, region, *d, progress)?
        }
    };
    let now = jiff::Timestamp::now().to_string();
    tx.execute(
        "INSERT INTO sync_state (id, cursor, synced_at, attempted_at, last_error)
         VALUES (1, ?1, ?2, ?2, NULL)
         ON CONFLICT(id) DO UPDATE SET cursor = excluded.cursor, synced_at = excluded.synced_at,
            attempted_at = excluded.attempted_at, last_error = NULL",
        params![report.cursor, now],
    )?;
    report.district_overrides =
        tx.query_row("SELECT count(*) FROM district_overrides", [], |r| {
            r.get::<_, i64>(0)
        })? as usize;
    tx.commit()?;
    Ok(report)
}

fn write_meta(
    tx: &Transaction<'_>,
    version: u64,
    region: RegionCode,
    published_at: &str,
) -> Result<(), SyncError> {
    tx.execute(
        "INSERT INTO catalog_meta (id, version, region_code, published_at, loaded_at)
         VALUES (1, ?1, ?2, ?3, ?4)
         ON CONFLICT(id) DO UPDATE SET version = excluded.version, region_code = excluded.region_code,
           published_at = excluded.published_at, loaded_at = excluded.loaded_at",
        params![
            version as i64,
            region.as_str(),
            published_at,
            jiff::Timestamp::now().to_string()
        ],
    )?;
    search::mark_indexed(tx, version)?;
    Ok(())
}

fn write_matter(tx: &Connection, p: &str, m: &Matter, position: i64) -> Result<(), SyncError> {
    tx.prepare_cached(&format!(
        "INSERT INTO {p}matters (task_code, catalog_code, name, department, self_service, position, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(task_code) DO UPDATE SET catalog_code = excluded.catalog_code,
            name = excluded.name, department = excluded.department,
            self_service = excluded.self_service, position = excluded.position, body = excluded.body"
    ))?
    .execute(params![
        m.task_code.as_str(),
        m.catalog_code.as_str(),
        m.name,
        m.department,
        m.self_service,
        position,
        serde_json::to_string(m).map_err(StoreError::from)?
    ])?;
    Ok(())
}

fn write_bundle(tx: &Connection, p: &str, b: &Bundle, position: i64) -> Result<(), SyncError> {
    tx.prepare_cached(&format!(
        "INSERT INTO {p}bundles (code, name, position, body) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(code) DO UPDATE SET name = excluded.name, position = excluded.position,
            body = excluded.body"
    ))?
    .execute(params![
        b.code.as_str(),
        b.name,
        position,
        serde_json::to_string(b).map_err(StoreError::from)?
    ])?;
    Ok(())
}

/// Puts a district override into a matter, remembering the city-wide values it replaces.
fn override_local(
    tx: &Connection,
    p: &str,
    m: &mut Matter,
    d: &DistrictElements,
) -> Result<(), SyncError> {
    tx.prepare_cached(&format!(
        "INSERT INTO {p}matter_city_local (task_code, local) VALUES (?1, ?2)
         ON CONFLICT(task_code) DO UPDATE SET local = excluded.local"
    ))?
    .execute(params![
        m.task_code.as_str(),
        serde_json::to_string(&m.local).map_err(StoreError::from)?
    ])?;
    tx.prepare_cached(&format!(
        "INSERT INTO {p}district_overrides (task_code, region_code, local) VALUES (?1, ?2, ?3)
         ON CONFLICT(task_code) DO UPDATE SET region_code = excluded.region_code, local = excluded.local"
    ))?
    .execute(params![
        d.task_code,
        d.region_code,
        serde_json::to_string(&d.local).map_err(StoreError::from)?
    ])?;
    m.local = d.local.clone();
    Ok(())
}

fn report_every(done: usize, total: usize, progress: ProgressFn<'_>) {
    if done % 500 == 0 || done == total {
        progress(SyncProgress {
            phase: SyncPhase::Applying,
            done: done as u64,
            total: total as u64,
        });
    }
}

fn apply_snapshot(
    tx: &Transaction<'_>,
    region: RegionCode,
    s: VerifiedSnapshot,
    progress: ProgressFn<'_>,
) -> Result<SyncReport, SyncError> {
    tx.execute_batch(
        "DELETE FROM matters; DELETE FROM bundles; DELETE FROM district_overrides;
         DELETE FROM matter_city_local;",
    )?;
    search::clear_index(tx)?;
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
    let district: HashMap<&str, &DistrictElements> =
        district.iter().map(|d| (d.task_code.as_str(), d)).collect();
    let total = matters.len() + bundles.len();
    // The search rows do not depend on district values: compute them on other threads
    // while this one writes the matters.
    let docs = std::thread::scope(|sc| -> Result<_, SyncError> {
        let docs = sc.spawn(|| search::prepare_docs(&matters));
        for (i, m) in matters.iter().enumerate() {
            match district.get(m.task_code.as_str()) {
                Some(d) => {
                    let mut m = m.clone();
                    override_local(tx, "", &mut m, d)?;
                    write_matter(tx, "", &m, i as i64)?;
                }
                None => write_matter(tx, "", m, i as i64)?,
            }
            report_every(i + 1, total, progress);
        }
        docs.join()
            .map_err(|_| SyncError::Invalid("检索索引计算失败".into()))
    })?;
    let t = Instant::now();
    search::index_prepared(
        tx,
        matters
            .iter()
            .zip(docs)
            .zip(&popularity)
            .enumerate()
            .map(|(i, ((m, d), p))| (m, d, *p, i as i64)),
    )?;
    tracing::debug!(ms = t.elapsed().as_millis() as u64, "search index written");
    for (i, b) in bundles.iter().enumerate() {
        write_bundle(tx, "", b, i as i64)?;
        report_every(matters.len() + i + 1, total, progress);
    }
    write_meta(tx, version, region, &published_at)?;
    Ok(SyncReport {
        kind: SyncKind::Full,
        version,
        cursor,
        matters_written: matters.len(),
        matters_removed: 0,
        district_overrides: 0,
        elapsed_ms: 0,
        longest_write_ms: 0,
        longest_write_step: "one transaction",
    })
}

fn load_matter(tx: &Transaction<'_>, code: &str) -> Result<Option<Matter>, SyncError> {
    let body: Option<String> = tx
        .prepare_cached("SELECT body FROM matters WHERE task_code = ?1")?
        .query_row([code], |r| r.get(0))
        .optional()?;
    Ok(body
        .map(|b| serde_json::from_str(&b))
        .transpose()
        .map_err(StoreError::from)?)
}

fn apply_delta(
    tx: &Transaction<'_>,
    region: RegionCode,
    d: CatalogDelta,
    progress: ProgressFn<'_>,
) -> Result<SyncReport, SyncError> {
    let total = d.len();
    let mut done = 0;
    let mut step = |progress: ProgressFn<'_>| {
        done += 1;
        report_every(done, total, progress);
    };
    // Withdrawals.
    for code in &d.removals {
        tx.execute("DELETE FROM matters WHERE task_code = ?1", [code])?;
        tx.execute(
            "DELETE FROM district_overrides WHERE task_code = ?1",
            [code],
        )?;
        tx.execute("DELETE FROM matter_city_local WHERE task_code = ?1", [code])?;
        step(progress);
    }
    search::unindex_matters(tx, d.removals.iter().map(String::as_str))?;
    // District values first, so upserted matters pick them up.
    let new_district: HashMap<&str, &DistrictElements> = d
        .district_upserts
        .iter()
        .map(|x| (x.task_code.as_str(), x))
        .collect();
    for code in &d.district_removals {
        let city: Option<String> = tx
            .query_row(
                "SELECT local FROM matter_city_local WHERE task_code = ?1",
                [code],
                |r| r.get(0),
            )
            .optional()?;
        tx.execute(
            "DELETE FROM district_overrides WHERE task_code = ?1",
            [code],
        )?;
        tx.execute("DELETE FROM matter_city_local WHERE task_code = ?1", [code])?;
        if let (Some(city), Some(mut m)) = (city, load_matter(tx, code)?) {
            m.local = serde_json::from_str::<LocalElements>(&city).map_err(StoreError::from)?;
            let pos = position_of(tx, code)?.unwrap_or(0);
            write_matter(tx, "", &m, pos)?;
        }
        step(progress);
    }
    let mut next_pos: i64 = tx.query_row(
        "SELECT COALESCE(max(position), -1) + 1 FROM matters",
        [],
        |r| r.get(0),
    )?;
    let mut indexed = Vec::with_capacity(d.upserts.len());
    let upserted: HashSet<&str> = d
        .upserts
        .iter()
        .map(|p| p.matter.task_code.as_str())
        .collect();
    for p in &d.upserts {
        let mut m = p.matter.clone();
        let code = m.task_code.as_str().to_owned();
        let pos = match position_of(tx, &code)? {
            Some(p) => p,
            None => {
                next_pos += 1;
                next_pos - 1
            }
        };
        let existing: Option<String> = tx
            .query_row(
                "SELECT local FROM district_overrides WHERE task_code = ?1",
                [&code],
                |r| r.get(0),
            )
            .optional()?;
        let over = match new_district.get(code.as_str()) {
            Some(x) => Some((*x).clone()),
            None => existing
                .map(|l| -> Result<_, SyncError> {
                    Ok(DistrictElements {
                        task_code: code.clone(),
                        region_code: region.as_str().to_owned(),
                        local: serde_json::from_str(&l).map_err(StoreError::from)?,
                    })
                })
                .transpose()?,
        };
        if let Some(o) = &over {
            override_local(tx, "", &mut m, o)?;
        }
        write_matter(tx, "", &m, pos)?;
        indexed.push((m, p.popularity, pos));
        step(progress);
    }
    // District changes to matters the delta does not otherwise touch.
    for x in &d.district_upserts {
        if upserted.contains(x.task_code.as_str()) {
            step(progress);
            continue;
        }
        let Some(mut m) = load_matter(tx, &x.task_code)? else {
            return Err(SyncError::Invalid(format!(
                "区县要素引用了不存在的事项 {}",
                x.task_code
            )));
        };
        // The stored body holds the old override, if any: keep the city-wide values.
        let city: Option<String> = tx
            .query_row(
                "SELECT local FROM matter_city_local WHERE task_code = ?1",
                [&x.task_code],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(city) = city {
            m.local = serde_json::from_str(&city).map_err(StoreError::from)?;
        }
        override_local(tx, "", &mut m, x)?;
        let pos = position_of(tx, &x.task_code)?.unwrap_or(0);
        write_matter(tx, "", &m, pos)?;
        step(progress);
    }
    search::index_matters(tx, indexed.iter().map(|(m, p, pos)| (m, *p, *pos)))?;
    // Bundles.
    for code in &d.bundle_removals {
        tx.execute("DELETE FROM bundles WHERE code = ?1", [code])?;
        step(progress);
    }
    let first: i64 = tx.query_row(
        "SELECT COALESCE(max(position), -1) + 1 FROM bundles",
        [],
        |r| r.get(0),
    )?;
    let mut next = first;
    for b in &d.bundle_upserts {
        // A changed bundle keeps its place; a new one goes last.
        let held: Option<i64> = tx
            .query_row(
                "SELECT position FROM bundles WHERE code = ?1",
                [b.code.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        let pos = held.unwrap_or_else(|| {
            next += 1;
            next - 1
        });
        write_bundle(tx, "", b, pos)?;
        step(progress);
    }
    // Every bundle must still name only matters that exist.
    if !d.removals.is_empty() || !d.bundle_upserts.is_empty() {
        let bodies: Vec<String> = tx
            .prepare("SELECT body FROM bundles")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for body in bodies {
            let b: Bundle = serde_json::from_str(&body).map_err(StoreError::from)?;
            let named = b.matters.iter().chain(
                b.questions
                    .iter()
                    .flat_map(|q| &q.options)
                    .flat_map(|o| &o.matters),
            );
            for code in named {
                if position_of(tx, code.as_str())?.is_none() {
                    return Err(SyncError::Invalid(format!(
                        "一件事 {} 引用了不存在的事项 {code}",
                        b.code
                    )));
                }
            }
        }
    }
    write_meta(tx, d.version, region, &d.published_at)?;
    Ok(SyncReport {
        kind: SyncKind::Delta,
        version: d.version,
        cursor: d.cursor,
        matters_written: d.upserts.len(),
        matters_removed: d.removals.len(),
        district_overrides: 0,
        elapsed_ms: 0,
        longest_write_ms: 0,
        longest_write_step: "one transaction",
    })
}

fn position_of(tx: &Transaction<'_>, code: &str) -> Result<Option<i64>, SyncError> {
    Ok(tx
        .prepare_cached("SELECT position FROM matters WHERE task_code = ?1")?
        .query_row([code], |r| r.get(0))
        .optional()?)
}

/// Fetches and applies one sync; a failure is recorded in the store and returned, and the
/// previous catalogue stays in place.
pub async fn sync_once(
    client: &PlatformClient,
    store: &mut Store,
    region: RegionCode,
    full: bool,
    progress: ProgressFn<'_>,
) -> Result<SyncReport, SyncError> {
    let cursor = status(store)?.cursor;
    // A sync that cannot fit does not start: it would fill the disk the outbox needs. It
    // needs the reserve plus room for a copy of the store (tables, index and WAL).
    let reusable = crate::core::outbox::space::reusable(store.conn());
    if let Some(dir) = store.path().parent() {
        let held = std::fs::metadata(store.path()).map_or(0, |m| m.len());
        if let Err(e) = crate::core::outbox::space::admit(dir, held.max(1024 * 1024), reusable) {
            let e = SyncError::NoSpace(e.to_string());
            record_failure(store, &e)?;
            return Err(e);
        }
    }
    let t = Instant::now();
    let result = match fetch(client, region, cursor.as_deref(), full, progress).await {
        Ok(f) => {
            tracing::debug!(
                ms = t.elapsed().as_millis() as u64,
                items = f.items(),
                "catalogue fetched and verified"
            );
            apply(store, region, f, progress)
        }
        Err(e) => Err(e),
    };
    if let Err(e) = &result {
        match e {
            SyncError::Platform(PlatformError::Unreachable(_) | PlatformError::Timeout) => {
                tracing::info!(
                    "catalogue sync: platform unreachable; keeping the current catalogue"
                )
            }
            _ => {
                tracing::warn!(error = %e, "catalogue sync refused; keeping the current catalogue")
            }
        }
        record_failure(store, e)?;
    }
    result
}

/// Runs [`sync_once`] now and then every `every`, until `stop` fires. Failures back off
/// (doubling up to `every`) and are logged once per state change, not per attempt.
pub async fn run_schedule(
    client: &PlatformClient,
    store: &mut Store,
    region: RegionCode,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
    progress: ProgressFn<'_>,
) {
    let mut wait = Duration::from_secs(5).min(every);
    loop {
        let next = match sync_once(client, store, region, false, progress).await {
            Ok(r) => {
                tracing::info!(version = r.version, kind = ?r.kind, "catalogue synced");
                wait = Duration::from_secs(5).min(every);
                every
            }
            Err(_) => {
                wait = (wait * 2).min(every);
                wait
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(next) => {}
            _ = stop.changed() => return,
        }
    }
}

/// The file in the data directory holding the platform's catalogue verifying key (64 hex
/// digits) for remote platforms.
pub const CATALOG_KEY_FILE: &str = "platform-catalog.pub";

/// A client for the profile's platform (or `base`, e.g. the demo's simulator or a
/// technician's `--platform`), verifying catalogues with [`catalog_key`]. No credentials
/// are set: each caller decides what an unregistered terminal does. On failure: what went
/// wrong, and what to do.
pub fn platform_client(
    profile: &crate::core::config::Profile,
    data_dir: &std::path::Path,
    base: Option<&str>,
) -> Result<crate::core::platform::PlatformClient, (String, &'static str)> {
    let key = catalog_key(profile, data_dir)
        .map_err(|e| (e, "请运行 ykb-terminal provision 完成部署"))?;
    let config = crate::core::platform::ClientConfig::from_profile(&profile.platform, base, key);
    crate::core::platform::PlatformClient::new(config).map_err(|e| {
        (
            e.to_string(),
            "请检查配置 platform.base_url、ca_file 和 proxy",
        )
    })
}

/// The catalogue verifying key for a profile: the demo key for the simulator, otherwise the
/// key file in the data directory.
pub fn catalog_key(
    profile: &crate::core::config::Profile,
    data_dir: &std::path::Path,
) -> Result<ed25519_dalek::VerifyingKey, String> {
    if profile.platform.mode == crate::core::config::PlatformMode::Simulator {
        return Ok(wire::demo_verifying_key());
    }
    let path = data_dir.join(CATALOG_KEY_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "无法读取平台目录签名公钥 {}（{e}）。请从平台运维处获取公钥（64 位十六进制）并保存到该文件。",
            path.display()
        )
    })?;
    wire::verifying_key_from_hex(&text).map_err(|e| format!("{}：{e}", path.display()))
}
