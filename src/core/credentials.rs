//! 设备凭据 — the device credentials the platform issued at registration: the device id and
//! the HMAC secret every request is signed with.
//!
//! They live in the store's `platform_device` row. The secret is **sealed** under the data key
//! (AES-256-GCM, bound to the device id and platform URL as associated data), so a copy of
//! the database file alone does not let anyone sign as this terminal. Stores from before
//! migration 6 hold the secret in the clear (`sealed = 0`); [`seal_legacy`] converts that row
//! when the core starts with the key, and readers accept both forms until then.
//!
//! When the platform stops accepting the credentials (expired or revoked: 401/403 to a signed
//! call), [`CREDENTIAL_REFUSED_ADVICE`] tells the technician what to do, and [`reregister`]
//! replaces them with new ones in one transaction together with its audit entry.

use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::audit::{self, Actor, AuditAction, AuditError};
use super::crypto::{CryptoError, DataKey};
use super::platform::wire;
use super::platform::{DeviceCredentials, PlatformClient, PlatformError};
use super::store::{Store, StoreError};

/// What a technician should do when the platform refuses the terminal's credentials.
pub const CREDENTIAL_REFUSED_ADVICE: &str = "平台不再接受本机的设备凭据（已过期或已被注销）。请向平台运维核实设备号并申请新的注册码，然后运行：ykb-terminal reregister --enrolment-code 注册码 --operator 工号。在此之前业务会继续在本机暂存，不会丢失。";

/// Why credentials could not be read, stored or replaced.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The sealed secret could not be opened (wrong key or damaged row).
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The platform refused or could not be reached.
    #[error(transparent)]
    Platform(#[from] PlatformError),
    /// The audit entry could not be written (nothing was changed).
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The platform issued new credentials but they could not be stored here; the old ones
    /// and the audit log are unchanged.
    #[error("平台已登记新设备号 {device_id}（注册码已使用），但本机写入失败：{detail}。本机凭据和审计日志未作改动；请向平台运维注销该设备号并申请新的注册码，排除故障后重试。")]
    NotStored {
        /// The device id the platform issued.
        device_id: String,
        /// What failed.
        detail: String,
    },
}

impl From<rusqlite::Error> for CredentialError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(StoreError::Sql(e))
    }
}

/// Whether a platform error says the terminal's credentials are refused (expired, revoked,
/// unknown device, wrong secret) rather than anything about the request itself. A clock
/// difference is not a credential problem: the client corrects it by itself.
pub fn is_refused(e: &PlatformError) -> bool {
    matches!(e, PlatformError::Rejected { status: 401 | 403, reason } if !reason.contains("clock_skew"))
}

/// Associated data of a sealed secret: the row it belongs to, so a sealed secret copied
/// under another device id or platform does not open.
fn aad(device_id: &str, base_url: &str) -> Vec<u8> {
    format!("platform_device\n{device_id}\n{base_url}").into_bytes()
}

/// The credentials stored for `base_url`, if the device registered there.
pub fn stored(
    store: &mut Store,
    key: &DataKey,
    base_url: &str,
) -> Result<Option<DeviceCredentials>, CredentialError> {
    let row: Option<(String, Vec<u8>, bool)> = store
        .conn()
        .query_row(
            "SELECT device_id, secret, sealed FROM platform_device WHERE id = 1 AND base_url = ?1",
            [base_url],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((device_id, secret, sealed)) = row else {
        return Ok(None);
    };
    let secret = if sealed {
        key.open(&aad(&device_id, base_url), &secret)?
    } else {
        secret
    };
    Ok(Some(DeviceCredentials { device_id, secret }))
}

/// The device id stored, whatever platform it belongs to (for messages and audit).
pub fn stored_device_id(store: &mut Store) -> Result<Option<String>, StoreError> {
    Ok(store
        .conn()
        .query_row(
            "SELECT device_id FROM platform_device WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .optional()?)
}

/// Writes (or replaces) the credentials row, sealed, inside the caller's transaction.
fn put_in(
    tx: &rusqlite::Transaction<'_>,
    key: &DataKey,
    creds: &DeviceCredentials,
    base_url: &str,
) -> Result<(), CredentialError> {
    let sealed = key.seal(&aad(&creds.device_id, base_url), &creds.secret);
    tx.execute(
        "INSERT INTO platform_device (id, device_id, secret, base_url, registered_at, sealed)
         VALUES (1, ?1, ?2, ?3, ?4, 1)
         ON CONFLICT(id) DO UPDATE SET device_id = excluded.device_id, secret = excluded.secret,
            base_url = excluded.base_url, registered_at = excluded.registered_at,
            sealed = excluded.sealed",
        params![
            creds.device_id,
            sealed,
            base_url,
            jiff::Timestamp::now().to_string()
        ],
    )?;
    Ok(())
}

/// Seals a secret stored in the clear by an older build (before migration 6), in one
/// transaction, then truncates the WAL so the clear copy does not linger there
/// (`secure_delete` zeroes the freed page in the database file). Returns whether a row was
/// converted.
pub fn seal_legacy(store: &mut Store, key: &DataKey) -> Result<bool, CredentialError> {
    // A read first: the write lock is taken only when there is something to convert.
    let clear: i64 = store.conn().query_row(
        "SELECT count(*) FROM platform_device WHERE sealed = 0",
        [],
        |r| r.get(0),
    )?;
    if clear == 0 {
        return Ok(false);
    }
    let tx = store
        .conn()
        .transaction_with_behavior(TransactionBehavior::Immediate)?;
    let row: Option<(String, Vec<u8>, String)> = tx
        .query_row(
            "SELECT device_id, secret, base_url FROM platform_device WHERE id = 1 AND sealed = 0",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((device_id, secret, base_url)) = row else {
        return Ok(false);
    };
    let sealed = key.seal(&aad(&device_id, &base_url), &secret);
    tx.execute(
        "UPDATE platform_device SET secret = ?1, sealed = 1 WHERE id = 1",
        params![sealed],
    )?;
    tx.commit()?;
    store
        .conn()
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    tracing::info!(device = %device_id, "device secret sealed under the data key");
    Ok(true)
}

/// Makes sure the client holds credentials: those stored for its base URL, or new ones from
/// registering with the request's enrolment code (stored, sealed, for next time).
pub async fn ensure_registered(
    client: &PlatformClient,
    store: &mut Store,
    key: &DataKey,
    request: &wire::RegisterRequest,
) -> Result<DeviceCredentials, CredentialError> {
    let base = client.config().base_url.clone();
    if let Some(c) = stored(store, key, &base)? {
        client.set_credentials(c.clone());
        return Ok(c);
    }
    let creds = client.register(request).await?;
    let tx = store.conn().transaction()?;
    put_in(&tx, key, &creds, &base)?;
    tx.commit()?;
    tracing::info!(device = %creds.device_id, "registered with the platform");
    Ok(creds)
}

/// What a re-registration changed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reregistered {
    /// The device id the terminal had before, if any.
    pub previous_device_id: Option<String>,
    /// The device id the platform issued now.
    pub device_id: String,
    /// The audit entry recording it.
    pub audit_seq: u64,
}

/// Registers the terminal again with a new one-time enrolment code and replaces the stored
/// credentials. The platform is asked first, with nothing local changed; then the new
/// credentials and the audit entry commit in **one** transaction, so a failure at any point
/// leaves the old credentials and the audit log exactly as they were.
pub async fn reregister(
    client: &PlatformClient,
    store: &mut Store,
    key: &DataKey,
    request: &wire::RegisterRequest,
    actor: &Actor,
) -> Result<Reregistered, CredentialError> {
    let previous = stored_device_id(store)?;
    let creds = client.register(request).await?;
    let base = client.config().base_url.clone();
    let detail = format!(
        "重新注册：设备号 {} → {}",
        previous.as_deref().unwrap_or("（无）"),
        creds.device_id
    );
    let mut commit = || -> Result<audit::AuditEntry, CredentialError> {
        let tx = store
            .conn()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        put_in(&tx, key, &creds, &base)?;
        let entry = audit::append_in(&tx, actor, AuditAction::Reregistered, &detail)?;
        tx.commit()?;
        Ok(entry)
    };
    let entry = commit().map_err(|e| CredentialError::NotStored {
        device_id: creds.device_id.clone(),
        detail: e.to_string(),
    })?;
    tracing::info!(device = %creds.device_id, "re-registered with the platform");
    Ok(Reregistered {
        previous_device_id: previous,
        device_id: creds.device_id,
        audit_seq: entry.seq,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_credential_refusals_count_as_refused() {
        let rejected = |status, reason: &str| PlatformError::Rejected {
            status,
            reason: reason.into(),
        };
        assert!(is_refused(&rejected(
            401,
            "设备凭据已被注销（credential_revoked）"
        )));
        assert!(is_refused(&rejected(403, "forbidden")));
        assert!(!is_refused(&rejected(
            401,
            "终端时钟与平台相差超过 300 秒（clock_skew）"
        )));
        assert!(!is_refused(&rejected(422, "x")));
        assert!(!is_refused(&PlatformError::Timeout));
    }
}
