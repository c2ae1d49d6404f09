//! 诊断导出 — the diagnostics export: health, queue, devices and the audit log, with no
//! personal data (the queue lists ids, kinds and states; the audit log refuses personal
//! data by construction). The technician page writes it to a file
//! (`kiosk::technician::export_diagnostics`); the remote `collect-diagnostics` command
//! uploads it (`ops::commands`).

use std::path::Path;

use crate::core::config::Profile;
use crate::core::outbox::{self, Quota};
use crate::core::store::Store;
use crate::core::{audit, health};

/// The export as one JSON document.
pub fn document(
    store: &mut Store,
    profile: &Profile,
    data_dir: &Path,
) -> Result<serde_json::Value, String> {
    let quota = Quota::from_mb(profile.data.outbox_quota_mb);
    let devices = health::stored_devices(store).map_err(|e| e.to_string())?;
    let snapshot =
        health::collect(store, data_dir, quota, devices, None).map_err(|e| e.to_string())?;
    let queue = outbox::list(store, false).map_err(|e| e.to_string())?;
    let audit_log = audit::list(store).map_err(|e| e.to_string())?;
    Ok(serde_json::json!({
        "terminal": profile.terminal.name,
        "kind": profile.terminal.kind.as_str(),
        "region_code": profile.terminal.region_code.to_string(),
        "exported_at": jiff::Timestamp::now().to_string(),
        "health": snapshot,
        "queue": queue,
        "audit": audit_log,
    }))
}
