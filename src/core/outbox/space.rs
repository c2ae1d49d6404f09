//! 存储空间 — the data directory's disk as a resource the outbox budgets, not only its quota.
//!
//! - New work is admitted only while the file system keeps a reserve free after it
//!   ([`reserve_bytes`], scaled to the disk: an eighth, between 512 KiB and 64 MiB), counting
//!   the write twice (the WAL holds a copy until the checkpoint). The citizen is told plainly
//!   that the terminal cannot take the case; staff get the disk alert in words.
//! - A ballast file ([`BALLAST_FILE`], a sixteenth of the disk, 64 KiB to 8 MiB) is kept in
//!   the data directory. When SQLite reports the disk full while committing the answer to a
//!   case already sent, the ballast is deleted and the commit tried again, so an acknowledged
//!   case is recorded (and wiped) instead of being sent again and again; the checkpoint that
//!   follows gives the WAL's space back. The ballast is recreated once space returns.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::OutboxError;
use crate::core::health;

/// The ballast file's name in the data directory.
pub const BALLAST_FILE: &str = "space-reserve.bin";

const KIB: u64 = 1024;
const MIB: u64 = 1024 * 1024;

/// Free space to keep after admitting new work, for a file system of `total` bytes.
pub fn reserve_bytes(total: u64) -> u64 {
    (total / 8).clamp(512 * KIB, 64 * MIB)
}

/// The ballast's size for a file system of `total` bytes.
pub fn ballast_bytes(total: u64) -> u64 {
    (total / 16).clamp(64 * KIB, 8 * MIB)
}

fn ballast_path(dir: &Path) -> PathBuf {
    dir.join(BALLAST_FILE)
}

/// Whether the disk holding `dir` takes `bytes` more now and keeps its reserve; `reusable` is
/// space the store already holds free (SQLite's free pages, left by wiped cases). A file
/// system that cannot be measured is not refused on that account.
pub fn admit(dir: &Path, bytes: u64, reusable: u64) -> Result<(), OutboxError> {
    let Ok(d) = health::disk_space(dir) else {
        return Ok(());
    };
    let reserve = reserve_bytes(d.total_bytes);
    if d.free_bytes.saturating_add(reusable) < reserve.saturating_add(bytes.saturating_mul(2)) {
        tracing::error!(
            free_kib = d.free_bytes / KIB,
            reserve_kib = reserve / KIB,
            "数据目录所在磁盘剩余 {} KiB，低于保留空间 {} KiB：本机暂停受理新业务，已受理的业务照常提交；请清理磁盘",
            d.free_bytes / KIB,
            reserve / KIB
        );
        return Err(OutboxError::NoSpace {
            free: d.free_bytes,
            reserve,
        });
    }
    Ok(())
}

/// Deletes the ballast (on SQLITE_FULL); whether there was one.
pub fn release_ballast(dir: &Path) -> bool {
    let released = std::fs::remove_file(ballast_path(dir)).is_ok();
    if released {
        tracing::warn!("disk full: the space reserve was released to record what was delivered");
    }
    released
}

/// Creates the ballast if it is missing and the disk has room for it twice over (the store
/// keeps the pages of wiped cases for new ones, so the file system's free space alone may
/// stay below the reserve for good).
pub fn ensure_ballast(dir: &Path) {
    let path = ballast_path(dir);
    if path.exists() {
        return;
    }
    let Ok(d) = health::disk_space(dir) else {
        return;
    };
    let size = ballast_bytes(d.total_bytes);
    if d.free_bytes < size.saturating_mul(2) {
        return;
    }
    let tmp = dir.join(format!("{BALLAST_FILE}.tmp"));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        let zeros = vec![0u8; 64 * KIB as usize];
        let mut left = size;
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            f.write_all(&zeros[..n])?;
            left -= n as u64;
        }
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

/// Bytes of free pages inside the store (reused before the file grows).
pub fn reusable(conn: &rusqlite::Connection) -> u64 {
    let pragma = |sql: &str, default: i64| {
        conn.prepare_cached(sql)
            .and_then(|mut q| q.query_row([], |r| r.get::<_, i64>(0)))
            .unwrap_or(default)
    };
    let pages = pragma("PRAGMA freelist_count", 0);
    let size = pragma("PRAGMA page_size", 4096);
    (pages.max(0) as u64).saturating_mul(size.max(0) as u64)
}

/// Whether `e` is SQLite saying the disk is full.
pub fn is_disk_full(e: &OutboxError) -> bool {
    matches!(e, OutboxError::NoSpace { .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_and_the_ballast_scale_with_the_disk_within_bounds() {
        assert_eq!(reserve_bytes(3 * MIB), 512 * KIB);
        assert_eq!(reserve_bytes(64 * MIB), 8 * MIB);
        assert_eq!(reserve_bytes(100 * 1024 * MIB), 64 * MIB);
        assert_eq!(ballast_bytes(3 * MIB), 192 * KIB);
        assert_eq!(ballast_bytes(100 * 1024 * MIB), 8 * MIB);
        assert_eq!(ballast_bytes(0), 64 * KIB);
    }
}
