//! 现场告警 — alerts for the staff on site: what needs a person now (paper, a device down,
//! a backlog that does not leave, a full disk, an old catalogue), each with a severity and a
//! zh-CN sentence telling staff what to do.
//!
//! [`alerts`] is a pure function of a [`HealthSnapshot`] and the catalogue's age, so the
//! kiosk UI, the agent and tests all judge the same way. Nothing here holds personal data.

use serde::Serialize;
use ykb_drivers::escpos::PaperState;
use ykb_drivers::DeviceState;

use super::health::{DiskLevel, HealthSnapshot};

/// How urgent an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Needs attention today (paper low, an old backlog, a stale catalogue).
    Warning,
    /// Citizens are affected now (no paper, a device down, the disk full).
    Critical,
}

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// The printer's roll is near its end.
    PaperLow,
    /// The printer has no paper.
    PaperOut,
    /// The printer reports a paper jam.
    PaperJammed,
    /// A device does not answer or is not connected.
    DeviceOffline,
    /// A device reports a hardware fault.
    DeviceFault,
    /// Queued items have waited too long for the platform.
    BacklogOld,
    /// The platform rejected queued items; staff must look at them.
    DeadLetters,
    /// Queued items could not be read or unsealed and were set aside.
    Quarantined,
    /// The platform rejected several different items in a row: delivery is paused.
    DeliveryPaused,
    /// The outbox quota is nearly used up.
    QueueNearlyFull,
    /// The data directory's disk is nearly full.
    DiskNearlyFull,
    /// The catalogue has not been synced for too long.
    CatalogStale,
}

/// One alert for staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    /// What it is about.
    pub kind: AlertKind,
    /// How urgent.
    pub severity: Severity,
    /// The device slot (`printer`, `id_reader`, …) for device alerts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slot: Option<String>,
    /// What happened and what to do (zh-CN, for staff).
    pub message: String,
}

/// When queue and catalogue alerts start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// The oldest waiting item is older than this (seconds): warning.
    pub backlog_warn_secs: u64,
    /// … older than this: critical.
    pub backlog_critical_secs: u64,
    /// The outbox holds more than this share of its quota (percent): warning.
    pub queue_warn_percent: u64,
    /// The last catalogue sync is older than this (seconds): warning.
    pub catalog_stale_secs: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            backlog_warn_secs: 2 * 3600,
            backlog_critical_secs: 24 * 3600,
            queue_warn_percent: 80,
            // The sync timer runs every 5 minutes; a day without a sync is not a blip.
            catalog_stale_secs: 24 * 3600,
        }
    }
}

/// A device slot's name for staff.
pub fn slot_zh(slot: &str) -> &str {
    match slot {
        "id_reader" => "身份证阅读器",
        "printer" => "回执打印机",
        "scanner" => "扫码器",
        "camera" => "摄像头",
        "document_camera" => "高拍仪",
        other => other,
    }
}

/// Whole hours, at least 1 (alerts start well after the first hour).
fn hours(secs: u64) -> u64 {
    (secs / 3600).max(1)
}

/// The alerts a snapshot calls for, most urgent first (then in a fixed order: devices by
/// slot, queue, disk, catalogue). `catalog_sync_age_secs` is the time since the last
/// successful catalogue sync, `None` when the terminal does not sync (bundled catalogue).
pub fn alerts(
    snapshot: &HealthSnapshot,
    catalog_sync_age_secs: Option<u64>,
    t: &Thresholds,
) -> Vec<Alert> {
    let mut out = Vec::new();
    let mut push = |kind, severity, slot: Option<&str>, message: String| {
        out.push(Alert {
            kind,
            severity,
            slot: slot.map(str::to_owned),
            message,
        })
    };
    for (slot, d) in &snapshot.devices {
        let name = slot_zh(slot);
        match d.state {
            DeviceState::Offline | DeviceState::NoDevice => push(
                AlertKind::DeviceOffline,
                Severity::Critical,
                Some(slot),
                format!("{name}未连接或无响应：请检查电源和连线；仍未恢复请联系运维人员。"),
            ),
            DeviceState::HardwareError => push(
                AlertKind::DeviceFault,
                Severity::Critical,
                Some(slot),
                format!("{name}故障：请暂停使用该设备的业务，并联系运维人员报修。"),
            ),
            _ => {}
        }
        // Paper only matters while the printer is reachable: offline says it already.
        if matches!(d.state, DeviceState::Offline | DeviceState::NoDevice) {
            continue;
        }
        match d.paper {
            Some(PaperState::Out) => push(
                AlertKind::PaperOut,
                Severity::Critical,
                Some(slot),
                format!("{name}缺纸：请立即装入新纸卷，装纸前本机无法打印回执。"),
            ),
            Some(PaperState::Jammed) => push(
                AlertKind::PaperJammed,
                Severity::Critical,
                Some(slot),
                format!("{name}卡纸：请打开机盖取出卡住的纸，再关好机盖。"),
            ),
            Some(PaperState::NearEnd) => push(
                AlertKind::PaperLow,
                Severity::Warning,
                Some(slot),
                format!("{name}纸将用尽：请尽快更换纸卷。"),
            ),
            _ => {}
        }
    }
    if let Some(age) = snapshot.oldest_pending_age_secs {
        if age >= t.backlog_warn_secs {
            let severity = if age >= t.backlog_critical_secs {
                Severity::Critical
            } else {
                Severity::Warning
            };
            push(
                AlertKind::BacklogOld,
                severity,
                None,
                format!(
                    "有 {} 件业务暂存超过 {} 小时仍未提交到政务服务平台：请检查网络连接；仍未恢复请联系运维人员。业务数据已安全保存，不会丢失。",
                    snapshot.outbox_pending,
                    hours(age)
                ),
            );
        }
    }
    if snapshot.outbox_dead > 0 {
        push(
            AlertKind::DeadLetters,
            Severity::Warning,
            None,
            format!(
                "有 {} 件业务被政务服务平台退回：请工作人员查看（ykb-terminal queue dead-letter）并联系办事群众。",
                snapshot.outbox_dead
            ),
        );
    }
    if let Some(why) = &snapshot.outbox_paused {
        push(
            AlertKind::DeliveryPaused,
            Severity::Critical,
            None,
            format!(
                "业务暂停提交：{why}若半小时后仍未恢复，请联系运维人员核实政务服务平台及网关状态。"
            ),
        );
    }
    if snapshot.outbox_quarantined > 0 {
        push(
            AlertKind::Quarantined,
            Severity::Warning,
            None,
            format!(
                "有 {} 件暂存业务的数据无法读取（可能是存储损坏），已单独搁置，其他业务照常提交：请联系运维人员查看（ykb-terminal queue quarantine）。数据仍加密保存在本机。",
                snapshot.outbox_quarantined
            ),
        );
    }
    if snapshot.outbox_quota_bytes > 0
        && snapshot.outbox_bytes.saturating_mul(100)
            >= snapshot
                .outbox_quota_bytes
                .saturating_mul(t.queue_warn_percent)
    {
        push(
            AlertKind::QueueNearlyFull,
            Severity::Warning,
            None,
            format!(
                "本机暂存空间已用 {}%：暂存满后将无法受理新业务，请检查网络连接并联系运维人员。",
                snapshot.outbox_bytes.saturating_mul(100) / snapshot.outbox_quota_bytes
            ),
        );
    }
    if let Some(disk) = snapshot.disk {
        let mib = disk.free_bytes / (1024 * 1024);
        match disk.level() {
            DiskLevel::Critical => push(
                AlertKind::DiskNearlyFull,
                Severity::Critical,
                None,
                format!("本机磁盘仅剩 {mib} MiB：即将无法受理新业务，请立即联系运维人员清理。"),
            ),
            DiskLevel::Low => push(
                AlertKind::DiskNearlyFull,
                Severity::Warning,
                None,
                format!("本机磁盘剩余 {mib} MiB，空间偏少：请联系运维人员安排清理。"),
            ),
            DiskLevel::Ok => {}
        }
    }
    if let Some(age) = catalog_sync_age_secs {
        if age >= t.catalog_stale_secs {
            push(
                AlertKind::CatalogStale,
                Severity::Warning,
                None,
                format!(
                    "事项目录已 {} 小时未能从平台更新，办事指南可能不是最新：请检查网络连接并联系运维人员。",
                    hours(age)
                ),
            );
        }
    }
    // Stable: equal severities keep the order above.
    out.sort_by_key(|a| std::cmp::Reverse(a.severity));
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::core::health::{DeviceHealth, DiskSpace, APP_VERSION};

    const GIB: u64 = 1024 * 1024 * 1024;

    fn healthy() -> HealthSnapshot {
        let mut devices = BTreeMap::new();
        devices.insert(
            "printer".to_owned(),
            DeviceHealth {
                state: DeviceState::Online,
                paper: Some(PaperState::Full),
            },
        );
        devices.insert(
            "id_reader".to_owned(),
            DeviceHealth {
                state: DeviceState::Online,
                paper: None,
            },
        );
        HealthSnapshot {
            app_version: APP_VERSION.into(),
            catalog_version: 3,
            devices,
            outbox_pending: 0,
            outbox_dead: 0,
            outbox_quarantined: 0,
            outbox_paused: None,
            outbox_bytes: 0,
            outbox_quota_bytes: 256 * 1024 * 1024,
            oldest_pending_age_secs: None,
            disk: Some(DiskSpace {
                free_bytes: 50 * GIB,
                total_bytes: 100 * GIB,
            }),
            clock_skew_secs: Some(0),
            audit_head: None,
        }
    }

    fn kinds(a: &[Alert]) -> Vec<(AlertKind, Severity)> {
        a.iter().map(|a| (a.kind, a.severity)).collect()
    }

    fn set(s: &mut HealthSnapshot, slot: &str, state: DeviceState, paper: Option<PaperState>) {
        s.devices
            .insert(slot.to_owned(), DeviceHealth { state, paper });
    }

    #[test]
    fn a_healthy_terminal_raises_no_alert() {
        assert!(alerts(&healthy(), Some(600), &Thresholds::default()).is_empty());
        assert!(alerts(&healthy(), None, &Thresholds::default()).is_empty());
    }

    #[test]
    fn paper_low_warns_and_paper_out_or_jammed_is_critical() {
        let t = Thresholds::default();
        let mut s = healthy();
        set(
            &mut s,
            "printer",
            DeviceState::Online,
            Some(PaperState::NearEnd),
        );
        let a = alerts(&s, None, &t);
        assert_eq!(kinds(&a), [(AlertKind::PaperLow, Severity::Warning)]);
        assert_eq!(a[0].slot.as_deref(), Some("printer"));
        assert!(a[0].message.contains("更换纸卷"), "{}", a[0].message);

        set(
            &mut s,
            "printer",
            DeviceState::UserError,
            Some(PaperState::Out),
        );
        let a = alerts(&s, None, &t);
        assert_eq!(kinds(&a), [(AlertKind::PaperOut, Severity::Critical)]);
        assert!(a[0].message.contains("装入新纸卷"), "{}", a[0].message);

        set(
            &mut s,
            "printer",
            DeviceState::UserError,
            Some(PaperState::Jammed),
        );
        assert_eq!(
            kinds(&alerts(&s, None, &t)),
            [(AlertKind::PaperJammed, Severity::Critical)]
        );
        // Unknown paper (a one-way link) is not an alert by itself.
        set(
            &mut s,
            "printer",
            DeviceState::Online,
            Some(PaperState::Unknown),
        );
        assert!(alerts(&s, None, &t).is_empty());
    }

    #[test]
    fn an_offline_or_faulty_device_is_critical_and_named() {
        let t = Thresholds::default();
        let mut s = healthy();
        set(&mut s, "id_reader", DeviceState::NoDevice, None);
        // An unreachable printer's last paper state is not repeated as a paper alert.
        set(
            &mut s,
            "printer",
            DeviceState::Offline,
            Some(PaperState::Out),
        );
        set(&mut s, "scanner", DeviceState::HardwareError, None);
        let a = alerts(&s, None, &t);
        assert_eq!(
            kinds(&a),
            [
                (AlertKind::DeviceOffline, Severity::Critical),
                (AlertKind::DeviceOffline, Severity::Critical),
                (AlertKind::DeviceFault, Severity::Critical),
            ]
        );
        assert!(a[0].message.starts_with("身份证阅读器"), "{}", a[0].message);
        assert!(a[1].message.starts_with("回执打印机"), "{}", a[1].message);
        assert!(a[2].message.contains("报修"), "{}", a[2].message);
    }

    #[test]
    fn an_old_backlog_warns_then_becomes_critical() {
        let t = Thresholds::default();
        let mut s = healthy();
        s.outbox_pending = 4;
        s.oldest_pending_age_secs = Some(t.backlog_warn_secs - 1);
        assert!(alerts(&s, None, &t).is_empty(), "a young backlog is normal");
        s.oldest_pending_age_secs = Some(t.backlog_warn_secs + 1);
        let a = alerts(&s, None, &t);
        assert_eq!(kinds(&a), [(AlertKind::BacklogOld, Severity::Warning)]);
        assert!(a[0].message.contains("4 件") && a[0].message.contains("2 小时"));
        s.oldest_pending_age_secs = Some(t.backlog_critical_secs);
        assert_eq!(
            kinds(&alerts(&s, None, &t)),
            [(AlertKind::BacklogOld, Severity::Critical)]
        );
    }

    #[test]
    fn dead_letters_and_a_nearly_full_queue_warn() {
        let t = Thresholds::default();
        let mut s = healthy();
        s.outbox_dead = 2;
        s.outbox_quota_bytes = 1000;
        s.outbox_bytes = 850;
        let a = alerts(&s, None, &t);
        assert_eq!(
            kinds(&a),
            [
                (AlertKind::DeadLetters, Severity::Warning),
                (AlertKind::QueueNearlyFull, Severity::Warning),
            ]
        );
        assert!(a[1].message.contains("85%"), "{}", a[1].message);
    }

    #[test]
    fn a_nearly_full_disk_warns_and_a_full_one_is_critical() {
        let t = Thresholds::default();
        let mut s = healthy();
        s.disk = Some(DiskSpace {
            free_bytes: 5 * GIB,
            total_bytes: 100 * GIB,
        });
        assert_eq!(
            kinds(&alerts(&s, None, &t)),
            [(AlertKind::DiskNearlyFull, Severity::Warning)]
        );
        s.disk = Some(DiskSpace {
            free_bytes: 100 * 1024 * 1024,
            total_bytes: 100 * GIB,
        });
        let a = alerts(&s, None, &t);
        assert_eq!(kinds(&a), [(AlertKind::DiskNearlyFull, Severity::Critical)]);
        assert!(a[0].message.contains("100 MiB"), "{}", a[0].message);
        // An unreadable disk raises nothing (the self-test reports it).
        s.disk = None;
        assert!(alerts(&s, None, &t).is_empty());
    }

    #[test]
    fn a_stale_catalogue_warns() {
        let t = Thresholds::default();
        let a = alerts(&healthy(), Some(t.catalog_stale_secs + 7200), &t);
        assert_eq!(kinds(&a), [(AlertKind::CatalogStale, Severity::Warning)]);
        assert!(a[0].message.contains("26 小时"), "{}", a[0].message);
    }

    #[test]
    fn critical_alerts_come_first() {
        let t = Thresholds::default();
        let mut s = healthy();
        set(
            &mut s,
            "printer",
            DeviceState::Online,
            Some(PaperState::NearEnd),
        );
        s.disk = Some(DiskSpace {
            free_bytes: GIB / 8,
            total_bytes: 100 * GIB,
        });
        let a = alerts(&s, Some(t.catalog_stale_secs), &t);
        assert_eq!(
            kinds(&a),
            [
                (AlertKind::DiskNearlyFull, Severity::Critical),
                (AlertKind::PaperLow, Severity::Warning),
                (AlertKind::CatalogStale, Severity::Warning),
            ]
        );
    }
}
