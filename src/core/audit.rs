//! 审计日志 — the audit log: who (technician, staff, the terminal itself) did what, and when.
//!
//! Append-only and hash-chained: every entry stores the SHA-256 of the previous entry's hash
//! followed by its own canonical form (`[seq, at, actor, action, detail]` as compact JSON), so
//! changing, deleting or reordering any row breaks the chain at that row. A one-row head
//! (`audit_head`) written in the same transaction as each entry makes cutting entries off the
//! end visible too. SQLite triggers refuse UPDATE and DELETE, so the log cannot be changed by
//! accident; the chain is what detects a deliberate edit. Whoever can rewrite the whole file
//! can rewrite the whole chain, so the head is also anchored outside the terminal: every
//! heartbeat and self-test report carries it ([`head`]), the platform keeps each one it
//! receives, and [`check_against_anchors`] (`audit verify --against-platform`) finds a chain
//! that no longer contains what the platform saw.
//!
//! **Invariant: no personal data.** Actors are staff or technician ids (letters, digits,
//! `._-`), actions a fixed vocabulary, and details refuse anything that looks like an identity
//! or phone number (a run of 11 or more digits).

use crate::core::privacy::has_long_digit_run;
use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::store::{Store, StoreError};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Longest actor id accepted.
const MAX_ACTOR_ID: usize = 32;
/// Longest detail accepted, in characters.
const MAX_DETAIL: usize = 500;

/// Why the audit log could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The actor id is not a plain staff/technician id.
    #[error(
        "操作人编号 {0:?} 无效：只能使用 1–32 个字母、数字或 . _ -（工号，不要填写姓名或证件号）"
    )]
    BadActor(String),
    /// The detail would put personal data (or too much text) into the log.
    #[error(
        "审计说明不能包含个人信息（连续 11 位以上数字，如证件号、手机号）且不超过 500 字：{0}"
    )]
    PersonalData(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for AuditError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(StoreError::Sql(e))
    }
}

/// Who acted: a role and a staff/technician id (工号), never a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The role.
    pub role: Role,
    /// The id within the role (`T0042`, `system`).
    pub id: String,
}

/// The role of an [`Actor`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 运维技术人员 — installs and repairs terminals.
    Technician,
    /// 窗口工作人员 — window staff.
    Staff,
    /// The terminal itself (scheduled jobs).
    System,
    /// A client application of the local device service (by its id in the profile).
    Client,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Self::Technician => "technician",
            Self::Staff => "staff",
            Self::System => "system",
            Self::Client => "client",
        }
    }
}

impl Actor {
    /// A technician by id; the id is checked.
    pub fn technician(id: &str) -> Result<Self, AuditError> {
        Self::new(Role::Technician, id)
    }

    /// Window staff by id; the id is checked.
    pub fn staff(id: &str) -> Result<Self, AuditError> {
        Self::new(Role::Staff, id)
    }

    /// A client application of the local device service; the id is checked.
    pub fn client(id: &str) -> Result<Self, AuditError> {
        Self::new(Role::Client, id)
    }

    /// The terminal itself.
    pub fn system() -> Self {
        Self {
            role: Role::System,
            id: "system".into(),
        }
    }

    /// An actor in `role` with `id` (letters, digits, `._-`, at most 32).
    pub fn new(role: Role, id: &str) -> Result<Self, AuditError> {
        let ok = !id.is_empty()
            && id.len() <= MAX_ACTOR_ID
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            && !has_long_digit_run(id);
        if !ok {
            return Err(AuditError::BadActor(id.to_owned()));
        }
        Ok(Self {
            role,
            id: id.to_owned(),
        })
    }

    /// `role:id`, as stored.
    pub fn to_stored(&self) -> String {
        format!("{}:{}", self.role.as_str(), self.id)
    }
}

/// What was done: a fixed vocabulary, so the log stays free text only in `detail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// The terminal was provisioned (registered, keyed, profiled).
    Provisioned,
    /// A self-test was run.
    Selftest,
    /// Technician mode was entered.
    TechnicianLogin,
    /// A technician-mode entry was refused (wrong PIN or card).
    TechnicianLoginFailed,
    /// Technician mode was left (signed out, or ended by inactivity).
    TechnicianLogout,
    /// A profile or network setting was changed.
    ConfigChanged,
    /// Logs were exported.
    LogExport,
    /// Queue items were retried or dead letters re-entered by staff.
    QueueRetry,
    /// The terminal registered again and its device credentials were replaced.
    Reregistered,
    /// A clerk signed in at a counter terminal (or unlocked it).
    StaffSignIn,
    /// A counter sign-in was refused (unknown staff id or wrong PIN; throttled).
    StaffSignInFailed,
    /// A clerk signed out.
    StaffSignOut,
    /// The counter session locked after the idle time (or by the clerk).
    StaffLocked,
    /// A kiosk printed (or failed to print) a copy of a citizen's e-licence (证照打印). The
    /// detail says how it went, never whose licence or which.
    LicencePrinted,
    /// A remote operations command from the platform was accepted, executed or failed (the
    /// detail names the command id and name).
    RemoteCommand,
    /// A remote operations command was refused (bad signature, expired, replayed, unknown).
    RemoteCommandRefused,
    /// A technician reset the receipt paper counter (a new roll).
    PaperReplaced,
    /// A step of a software update: started, installed, health check failed, rolled back,
    /// refused (the detail names package, versions and why; never personal data).
    SoftwareUpdate,
    /// A client application used one of our devices through the local device service (the
    /// detail names the service, command and outcome; never what was read or printed).
    DeviceServiceUse,
    /// The local device service refused a connection or command (no or wrong token, not
    /// loopback, a service not allowed, busy, consent refused, a malformed message).
    DeviceServiceRefused,
}

impl AuditAction {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provisioned => "provisioned",
            Self::Selftest => "selftest",
            Self::TechnicianLogin => "technician_login",
            Self::TechnicianLoginFailed => "technician_login_failed",
            Self::TechnicianLogout => "technician_logout",
            Self::ConfigChanged => "config_changed",
            Self::LogExport => "log_export",
            Self::QueueRetry => "queue_retry",
            Self::Reregistered => "reregistered",
            Self::StaffSignIn => "staff_sign_in",
            Self::StaffSignInFailed => "staff_sign_in_failed",
            Self::StaffSignOut => "staff_sign_out",
            Self::StaffLocked => "staff_locked",
            Self::LicencePrinted => "licence_printed",
            Self::RemoteCommand => "remote_command",
            Self::RemoteCommandRefused => "remote_command_refused",
            Self::PaperReplaced => "paper_replaced",
            Self::SoftwareUpdate => "software_update",
            Self::DeviceServiceUse => "device_service_use",
            Self::DeviceServiceRefused => "device_service_refused",
        }
    }
}

/// One stored entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the log, from 1, without gaps.
    pub seq: u64,
    /// RFC 3339 time of the entry.
    pub at: String,
    /// `role:id` of who acted.
    pub actor: String,
    /// What was done ([`AuditAction::as_str`]).
    pub action: String,
    /// Non-personal detail.
    pub detail: String,
    /// Hash of the previous entry ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// SHA-256 (hex) over `prev_hash` and the canonical entry.
    pub hash: String,
}

/// The result of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    /// Entries read.
    pub entries: u64,
    /// The hash of the last intact entry ([`GENESIS_HASH`] for an empty log).
    pub head: String,
    /// The first entry that does not fit the chain, if any.
    pub broken: Option<BrokenEntry>,
}

impl ChainReport {
    /// Whether the whole log is intact.
    pub fn is_intact(&self) -> bool {
        self.broken.is_none()
    }
}

/// Where and why the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokenEntry {
    /// The sequence number of the first entry that does not fit (or the missing one).
    pub seq: u64,
    /// What is wrong (zh-CN).
    pub reason: String,
}

/// The hash of an entry: SHA-256 over the previous hash (hex text) and the canonical form.
pub fn entry_hash(
    prev_hash: &str,
    seq: u64,
    at: &str,
    actor: &str,
    action: &str,
    detail: &str,
) -> String {
    // JSON of an array is unambiguous: no field can bleed into the next.
    let canonical = serde_json::json!([seq, at, actor, action, detail]).to_string();
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(canonical.as_bytes());
    hex::encode(h.finalize())
}

/// Appends an entry in its own transaction.
pub fn append(
    store: &mut Store,
    actor: &Actor,
    action: AuditAction,
    detail: &str,
) -> Result<AuditEntry, AuditError> {
    // Immediate: the write lock is taken (waiting through the busy handler) before the head
    // is read, so a writer on another connection never makes it fail with `database is
    // locked` half-way (a deferred read upgraded to a write is not retried by SQLite).
    let tx = store
        .conn()
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let e = append_in(&tx, actor, action, detail)?;
    tx.commit()?;
    Ok(e)
}

/// Appends an entry inside the caller's transaction, so the fact and its audit entry commit
/// together.
pub fn append_in(
    tx: &Transaction<'_>,
    actor: &Actor,
    action: AuditAction,
    detail: &str,
) -> Result<AuditEntry, AuditError> {
    if detail.chars().count() > MAX_DETAIL || has_long_digit_run(detail) {
        return Err(AuditError::PersonalData(detail.chars().take(40).collect()));
    }
    let head: Option<(i64, String)> = tx
        .query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let (last_seq, prev_hash) = head.unwrap_or((0, GENESIS_HASH.to_owned()));
    let seq = last_seq as u64 + 1;
    let at = jiff::Timestamp::now().to_string();
    let actor = actor.to_stored();
    let action = action.as_str().to_owned();
    let hash = entry_hash(&prev_hash, seq, &at, &actor, &action, detail);
    tx.execute(
        "INSERT INTO audit_log (seq, at, actor, action, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![seq as i64, at, actor, action, detail, prev_hash, hash],
    )?;
    tx.execute(
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?1, ?2)
         ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        params![seq as i64, hash],
    )?;
    Ok(AuditEntry {
        seq,
        at,
        actor,
        action,
        detail: detail.to_owned(),
        prev_hash,
        hash,
    })
}

/// Every entry in stored order (by row position, not by `seq`, so reordering shows).
pub fn list(store: &mut Store) -> Result<Vec<AuditEntry>, AuditError> {
    let conn = store.conn();
    let mut stmt = conn.prepare(
        "SELECT seq, at, actor, action, detail, prev_hash, hash FROM audit_log ORDER BY rowid",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(AuditEntry {
            seq: r.get::<_, i64>(0)? as u64,
            at: r.get(1)?,
            actor: r.get(2)?,
            action: r.get(3)?,
            detail: r.get(4)?,
            prev_hash: r.get(5)?,
            hash: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Checks the whole chain and names the first entry that does not fit.
pub fn verify(store: &mut Store) -> Result<ChainReport, AuditError> {
    let entries = list(store)?;
    let head: Option<(i64, String)> = store
        .conn()
        .query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    Ok(check_chain(&entries, head.map(|(s, h)| (s as u64, h))))
}

/// The recorded head (sequence, hash) of the chain, if any entry was written.
pub fn head(conn: &rusqlite::Connection) -> Result<Option<(u64, String)>, rusqlite::Error> {
    conn.query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| {
        Ok((r.get::<_, i64>(0)? as u64, r.get(1)?))
    })
    .optional()
}

/// The local chain beside the heads the platform anchored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnchorReport {
    /// Anchors the platform holds.
    pub anchors: u64,
    /// Anchors the local chain still contains (same entry, same hash).
    pub matched: u64,
    /// The first anchor the local chain contradicts, if any: the chain was rewritten at or
    /// before it.
    pub rewritten: Option<BrokenEntry>,
}

impl AnchorReport {
    /// Whether every anchor is still in the local chain.
    pub fn is_consistent(&self) -> bool {
        self.rewritten.is_none()
    }
}

/// Checks that every head the platform anchored is still in the local chain: entry `seq`
/// exists and has that hash. `entries` are in stored order; anchors in any order.
pub fn check_against_anchors(entries: &[AuditEntry], anchors: &[(u64, String)]) -> AnchorReport {
    let mut sorted: Vec<&(u64, String)> = anchors.iter().collect();
    sorted.sort_by_key(|(seq, _)| *seq);
    let by_seq: std::collections::HashMap<u64, &AuditEntry> =
        entries.iter().map(|e| (e.seq, e)).collect();
    let mut matched = 0;
    for (seq, hash) in sorted {
        let reason = match by_seq.get(seq) {
            Some(e) if e.hash == *hash => {
                matched += 1;
                continue;
            }
            Some(_) => {
                format!("第 {seq} 条记录的哈希与平台记下的链头不符：日志在第 {seq} 条或之前被改写")
            }
            None => format!(
                "平台记下的链头是第 {seq} 条记录，本机日志只有 {} 条：记录被删除或日志被改写",
                entries.len()
            ),
        };
        return AnchorReport {
            anchors: anchors.len() as u64,
            matched,
            rewritten: Some(BrokenEntry { seq: *seq, reason }),
        };
    }
    AnchorReport {
        anchors: anchors.len() as u64,
        matched,
        rewritten: None,
    }
}

/// Checks entries (in stored order) against each other and against the recorded head.
pub fn check_chain(entries: &[AuditEntry], head: Option<(u64, String)>) -> ChainReport {
    let mut prev = GENESIS_HASH.to_owned();
    let broken = |seq: u64, reason: String, n: u64, prev: String| ChainReport {
        entries: n,
        head: prev,
        broken: Some(BrokenEntry { seq, reason }),
    };
    for (i, e) in entries.iter().enumerate() {
        let expected_seq = i as u64 + 1;
        let n = entries.len() as u64;
        if e.seq != expected_seq {
            return broken(
                expected_seq,
                format!(
                    "第 {expected_seq} 条记录缺失或顺序被改动（此处为第 {} 条）",
                    e.seq
                ),
                n,
                prev,
            );
        }
        if e.prev_hash != prev {
            return broken(
                e.seq,
                "与上一条记录的哈希不衔接（前面的记录被删除、替换或调换）".into(),
                n,
                prev,
            );
        }
        let h = entry_hash(&e.prev_hash, e.seq, &e.at, &e.actor, &e.action, &e.detail);
        if h != e.hash {
            return broken(e.seq, "记录内容与其哈希不符（记录被修改）".into(), n, prev);
        }
        prev = e.hash.clone();
    }
    let n = entries.len() as u64;
    match head {
        None if n == 0 => {}
        None => return broken(n, "缺少日志头记录（audit_head 被删除）".into(), n, prev),
        Some((seq, hash)) => {
            if seq > n {
                return broken(
                    n + 1,
                    format!("日志头记录显示共有 {seq} 条，现只有 {n} 条（末尾记录被删除）"),
                    n,
                    prev,
                );
            }
            if seq != n || hash != prev {
                return broken(
                    seq.min(n).max(1),
                    "日志头记录与最后一条记录不符".into(),
                    n,
                    prev,
                );
            }
        }
    }
    ChainReport {
        entries: n,
        head: prev,
        broken: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_ids_refuse_names_and_id_numbers() {
        assert!(Actor::technician("T0042").is_ok());
        assert!(Actor::technician("张三").is_err());
        assert!(Actor::technician("500103199003070017").is_err());
        assert!(Actor::staff("").is_err());
    }

    fn chain(details: &[&str]) -> Vec<AuditEntry> {
        let mut prev = GENESIS_HASH.to_owned();
        let mut out = Vec::new();
        for (i, d) in details.iter().enumerate() {
            let seq = i as u64 + 1;
            let at = format!("2026-01-01T00:00:0{seq}Z");
            let hash = entry_hash(&prev, seq, &at, "system:terminal", "selftest", d);
            out.push(AuditEntry {
                seq,
                at,
                actor: "system:terminal".into(),
                action: "selftest".into(),
                detail: (*d).into(),
                prev_hash: prev,
                hash: hash.clone(),
            });
            prev = hash;
        }
        out
    }

    #[test]
    fn a_chain_rewritten_whole_contradicts_the_anchors() {
        let real = chain(&["a", "b", "c", "d"]);
        let anchors: Vec<(u64, String)> =
            [1, 3].map(|i| (real[i].seq, real[i].hash.clone())).into();
        // An extended chain still holds every anchor.
        let r = check_against_anchors(&real, &anchors);
        assert!(r.is_consistent(), "{r:?}");
        assert_eq!(r.matched, 2);
        // "b" deleted and every hash recomputed: intact by itself, not against the anchors.
        let forged = chain(&["a", "c", "d"]);
        assert!(check_chain(&forged, Some((3, forged[2].hash.clone()))).is_intact());
        let r = check_against_anchors(&forged, &anchors);
        assert_eq!(r.matched, 0);
        assert_eq!(r.rewritten.as_ref().map(|b| b.seq), Some(2), "{r:?}");
        // Cut back to before the newest anchor.
        let r = check_against_anchors(&real[..3], &anchors);
        assert_eq!(r.rewritten.map(|b| b.seq), Some(4));
        // No anchors: nothing to contradict.
        assert!(check_against_anchors(&forged, &[]).is_consistent());
    }

    #[test]
    fn details_refuse_long_digit_runs() {
        assert!(has_long_digit_run("手机 13800138000"));
        assert!(!has_long_digit_run("区划 500103，版本 42"));
    }
}
