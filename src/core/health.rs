//! 运行状态 — the terminal's health: what the heartbeat tells the platform, what the
//! Prometheus metrics expose and what the self-test checks against.
//!
//! [`collect`] reads the store (catalogue version, outbox backlog and the age of its oldest
//! item) and the data directory's file system; device states come from whoever watches the
//! devices (the self-test, the agent's probes, later the kiosk's device threads), which
//! record them as the last known ones ([`record_devices`], table `device_status`).
//! [`HealthSnapshot::heartbeat`] maps a snapshot onto the platform contract's heartbeat
//! document; `core::alerts` turns it into alerts for staff. Nothing here holds personal data.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use ykb_drivers::escpos::PaperState;
use ykb_drivers::DeviceState;

use super::outbox::{self, OutboxError, Quota};
use super::platform::wire;
use super::store::{Store, StoreError};

/// The application's version, as reported in heartbeats and metrics.
pub const APP_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Below this much free space on the data directory's file system the disk is critical
/// (the self-test fails, staff are alerted).
pub const DISK_CRITICAL_BYTES: u64 = 256 * 1024 * 1024;
/// Below this much free space (or under 10 % of the disk and under 8 GiB) it needs attention.
pub const DISK_LOW_BYTES: u64 = 1024 * 1024 * 1024;

/// How full a disk is, by the thresholds above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskLevel {
    /// Enough space.
    Ok,
    /// Needs cleaning soon.
    Low,
    /// The outbox will soon refuse new cases.
    Critical,
}

impl DiskSpace {
    /// How full the disk is, by [`DISK_CRITICAL_BYTES`] and [`DISK_LOW_BYTES`].
    pub fn level(&self) -> DiskLevel {
        if self.free_bytes < DISK_CRITICAL_BYTES {
            DiskLevel::Critical
        } else if self.free_bytes < DISK_LOW_BYTES
            || (self.free_bytes.saturating_mul(10) < self.total_bytes
                && self.free_bytes < 8 * DISK_LOW_BYTES)
        {
            DiskLevel::Low
        } else {
            DiskLevel::Ok
        }
    }
}

/// One device slot's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceHealth {
    /// Common device state (XFS4IoT vocabulary).
    pub state: DeviceState,
    /// Paper, for printers; `None` for other classes.
    pub paper: Option<PaperState>,
}

/// Free and total bytes of the file system holding the data directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskSpace {
    /// Bytes available to the service (not counting root's reserve).
    pub free_bytes: u64,
    /// Size of the file system.
    pub total_bytes: u64,
}

/// Everything the terminal reports about itself at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthSnapshot {
    /// This build's version.
    pub app_version: String,
    /// Catalogue version held (0 when none).
    pub catalog_version: u64,
    /// Device states by slot (`id_reader`, `printer`, …); unconfigured slots are left out.
    pub devices: BTreeMap<String, DeviceHealth>,
    /// Outbox items waiting for delivery.
    pub outbox_pending: u64,
    /// Outbox items the platform rejected (staff must look at them).
    pub outbox_dead: u64,
    /// Outbox items set aside because they could not be read or unsealed.
    #[serde(default)]
    pub outbox_quarantined: u64,
    /// Why the circuit breaker holds the queue, while it does.
    #[serde(default)]
    pub outbox_paused: Option<String>,
    /// Bytes queued against the quota.
    pub outbox_bytes: u64,
    /// The outbox quota in bytes.
    pub outbox_quota_bytes: u64,
    /// Age of the oldest waiting item, seconds (`None` when the queue is empty).
    pub oldest_pending_age_secs: Option<u64>,
    /// The data directory's file system (`None` when it could not be read).
    pub disk: Option<DiskSpace>,
    /// Platform clock minus ours, seconds, when known.
    pub clock_skew_secs: Option<i64>,
    /// The audit chain's head (sequence, hash), sent to be anchored at the platform.
    pub audit_head: Option<(u64, String)>,
}

impl HealthSnapshot {
    /// The heartbeat document of the platform contract (`POST /v1/heartbeat`): catalogue
    /// version, backlog and its oldest item's age, dead letters, a string per device (the
    /// printer's paper as its own entry, `printer.paper`), app version, free disk and clock
    /// skew.
    pub fn heartbeat(&self) -> wire::Heartbeat {
        let mut devices = BTreeMap::new();
        for (slot, d) in &self.devices {
            devices.insert(slot.clone(), state_name(d.state).to_owned());
            if let Some(p) = d.paper {
                devices.insert(format!("{slot}.paper"), paper_name(p).to_owned());
            }
        }
        wire::Heartbeat {
            catalog_version: self.catalog_version,
            outbox_pending: self.outbox_pending,
            devices,
            app_version: Some(self.app_version.clone()),
            outbox_dead: Some(self.outbox_dead),
            outbox_quarantined: Some(self.outbox_quarantined),
            outbox_paused: Some(self.outbox_paused.is_some()),
            oldest_pending_age_secs: self.oldest_pending_age_secs,
            disk_free_bytes: self.disk.map(|d| d.free_bytes),
            clock_skew_secs: self.clock_skew_secs,
            audit_head: self.audit_head.as_ref().map(|(seq, hash)| wire::AuditHead {
                seq: *seq,
                hash: hash.clone(),
            }),
            // The agent adds these (it knows the commands and the roll length).
            command_results: Vec::new(),
            paper: None,
            update: None,
        }
    }
}

/// Every device state, for parsing stored names.
const STATES: [DeviceState; 7] = [
    DeviceState::Online,
    DeviceState::Offline,
    DeviceState::NoDevice,
    DeviceState::HardwareError,
    DeviceState::UserError,
    DeviceState::Busy,
    DeviceState::Starting,
];

/// Every paper state, for parsing stored names.
const PAPERS: [PaperState; 5] = [
    PaperState::Full,
    PaperState::NearEnd,
    PaperState::Out,
    PaperState::Jammed,
    PaperState::Unknown,
];

/// The snake_case name of a device state (as in the drivers' serde form).
pub fn state_name(s: DeviceState) -> &'static str {
    match s {
        DeviceState::Online => "online",
        DeviceState::Offline => "offline",
        DeviceState::NoDevice => "no_device",
        DeviceState::HardwareError => "hardware_error",
        DeviceState::UserError => "user_error",
        DeviceState::Busy => "busy",
        DeviceState::Starting => "starting",
    }
}

/// The snake_case name of a paper state.
pub fn paper_name(p: PaperState) -> &'static str {
    match p {
        PaperState::Full => "full",
        PaperState::NearEnd => "near_end",
        PaperState::Out => "out",
        PaperState::Jammed => "jammed",
        PaperState::Unknown => "unknown",
    }
}

/// Records the device states just observed (`source`: `selftest`, `probe`, `kiosk`) as
/// the last known ones, in one transaction; slots not in `devices` keep what they had.
pub fn record_devices(
    store: &mut Store,
    source: &str,
    devices: &BTreeMap<String, DeviceHealth>,
) -> Result<(), StoreError> {
    let now = jiff::Timestamp::now().to_string();
    let tx = store.conn().transaction()?;
    for (slot, d) in devices {
        tx.execute(
            "INSERT INTO device_status (slot, state, paper, source, observed_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(slot) DO UPDATE SET state = excluded.state, paper = excluded.paper,
                source = excluded.source, observed_at = excluded.observed_at",
            rusqlite::params![
                slot,
                state_name(d.state),
                d.paper.map(paper_name),
                source,
                now
            ],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// The last known state of every device slot recorded (rows this build cannot read are
/// left out rather than guessed).
pub fn stored_devices(store: &mut Store) -> Result<BTreeMap<String, DeviceHealth>, StoreError> {
    let mut stmt = store
        .conn()
        .prepare("SELECT slot, state, paper FROM device_status ORDER BY slot")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
        ))
    })?;
    let mut out = BTreeMap::new();
    for row in rows {
        let (slot, state, paper) = row?;
        let Some(state) = STATES.into_iter().find(|s| state_name(*s) == state) else {
            continue;
        };
        let paper = match paper {
            None => None,
            Some(p) => match PAPERS.into_iter().find(|x| paper_name(*x) == p) {
                Some(p) => Some(p),
                None => continue,
            },
        };
        out.insert(slot, DeviceHealth { state, paper });
    }
    Ok(out)
}

/// Reads what the store and the file system say; `devices` and `clock_skew_secs` come from
/// the caller.
pub fn collect(
    store: &mut Store,
    data_dir: &Path,
    quota: Quota,
    devices: BTreeMap<String, DeviceHealth>,
    clock_skew_secs: Option<i64>,
) -> Result<HealthSnapshot, OutboxError> {
    let q = outbox::status(store, quota)?;
    let catalog_version = store.catalog_version()?.unwrap_or(0);
    let now = jiff::Timestamp::now();
    let oldest_pending_age_secs = q
        .oldest
        .as_deref()
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .map(|t| now.as_second().saturating_sub(t.as_second()).max(0) as u64);
    Ok(HealthSnapshot {
        app_version: APP_VERSION.to_owned(),
        catalog_version,
        devices,
        outbox_pending: q.pending,
        outbox_dead: q.dead,
        outbox_quarantined: q.quarantined,
        outbox_paused: q.paused_reason,
        outbox_bytes: q.queued_bytes,
        outbox_quota_bytes: q.quota_bytes,
        oldest_pending_age_secs,
        disk: disk_space(data_dir).ok(),
        clock_skew_secs,
        audit_head: super::audit::head(store.conn())?,
    })
}

/// Free and total space of the file system holding `path` (statvfs).
pub fn disk_space(path: &Path) -> std::io::Result<DiskSpace> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    // SAFETY: `c` is a valid NUL-terminated path and `st` is a plain-data out parameter that
    // statvfs fills completely on success.
    let st = unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        if libc::statvfs(c.as_ptr(), &mut st) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        st
    };
    let frsize = st.f_frsize as u64;
    Ok(DiskSpace {
        free_bytes: (st.f_bavail as u64).saturating_mul(frsize),
        total_bytes: (st.f_blocks as u64).saturating_mul(frsize),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeat_carries_device_states_and_paper() {
        let mut devices = BTreeMap::new();
        devices.insert(
            "printer".to_owned(),
            DeviceHealth {
                state: DeviceState::Online,
                paper: Some(PaperState::NearEnd),
            },
        );
        let snap = HealthSnapshot {
            app_version: APP_VERSION.into(),
            catalog_version: 7,
            devices,
            outbox_pending: 3,
            outbox_dead: 0,
            outbox_quarantined: 1,
            outbox_paused: None,
            outbox_bytes: 0,
            outbox_quota_bytes: 1,
            oldest_pending_age_secs: Some(5),
            disk: None,
            clock_skew_secs: None,
            audit_head: None,
        };
        let hb = snap.heartbeat();
        assert_eq!(hb.catalog_version, 7);
        assert_eq!(hb.outbox_pending, 3);
        assert_eq!(hb.outbox_quarantined, Some(1));
        assert_eq!(hb.outbox_paused, Some(false));
        assert_eq!(hb.devices["printer"], "online");
        assert_eq!(hb.devices["printer.paper"], "near_end");
    }

    #[test]
    fn device_states_survive_the_store_and_newer_observations_replace_older() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
        assert!(stored_devices(&mut store).unwrap().is_empty());
        let mut first = BTreeMap::new();
        first.insert(
            "printer".to_owned(),
            DeviceHealth {
                state: DeviceState::Online,
                paper: Some(PaperState::NearEnd),
            },
        );
        first.insert(
            "scanner".to_owned(),
            DeviceHealth {
                state: DeviceState::HardwareError,
                paper: None,
            },
        );
        record_devices(&mut store, "selftest", &first).unwrap();
        assert_eq!(stored_devices(&mut store).unwrap(), first);
        let mut later = BTreeMap::new();
        later.insert(
            "printer".to_owned(),
            DeviceHealth {
                state: DeviceState::UserError,
                paper: Some(PaperState::Out),
            },
        );
        record_devices(&mut store, "probe", &later).unwrap();
        let now = stored_devices(&mut store).unwrap();
        assert_eq!(now["printer"], later["printer"]);
        assert_eq!(now["scanner"], first["scanner"], "other slots keep theirs");
    }

    #[test]
    fn disk_space_of_a_real_directory() {
        let d = disk_space(Path::new("/")).unwrap();
        assert!(d.total_bytes > 0 && d.free_bytes <= d.total_bytes);
    }
}
