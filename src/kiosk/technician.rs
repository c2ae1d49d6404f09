//! 维护模式 — technician mode on the kiosk. Never reachable by a citizen: a hidden gesture
//! (five taps on the 渝快办 title within three seconds) opens a PIN pad; a configured
//! technician account (`[[technician.accounts]]`, Argon2id PIN hashes, checked on a worker
//! thread) opens the page; wrong PINs pause entry, doubling; every entry, refusal, self-test, export and exit is audited.
//! The page shows devices, catalogue, queue and network, runs the self-test through the real
//! drivers off the UI thread, and exports a diagnostics file with no personal data.
//!
//! The gesture, the PIN pad and the sign-in are the session's (`session::technician`); this
//! module reads and writes what the page shows.

use std::path::{Path, PathBuf};

use crate::core::config::Profile;
use crate::core::outbox::{self, Quota};
use crate::core::store::Store;
use crate::core::{audit, health};

/// One line of the technician page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub label: String,
    pub value: String,
    /// Needs attention.
    pub warn: bool,
}

fn line(label: &str, value: String, warn: bool) -> Line {
    Line {
        label: label.to_owned(),
        value,
        warn,
    }
}

/// What the technician page shows: devices (last known states), catalogue, queue, network,
/// disk, audit chain.
pub fn overview(store: &mut Store, profile: &Profile, data_dir: &Path) -> Vec<Line> {
    let mut out = Vec::new();
    let quota = Quota::from_mb(profile.data.outbox_quota_mb);
    let devices = health::stored_devices(store).unwrap_or_default();
    for (slot, d) in &devices {
        let paper = d
            .paper
            .map(|p| format!("，纸：{}", p.describe_zh()))
            .unwrap_or_default();
        let bad = !matches!(d.state, ykb_drivers::DeviceState::Online);
        out.push(line(
            crate::core::alerts::slot_zh(slot),
            format!("{}{paper}", d.state.describe_zh()),
            bad,
        ));
    }
    if devices.is_empty() {
        out.push(line("设备", "尚无记录（运行自检后显示）".into(), false));
    }
    match store.catalog_version() {
        Ok(Some(v)) => out.push(line("事项目录", format!("第 {v} 版"), false)),
        Ok(None) => out.push(line("事项目录", "没有目录".into(), true)),
        Err(e) => out.push(line("事项目录", e.to_string(), true)),
    }
    match outbox::status(store, quota) {
        Ok(q) => {
            out.push(line(
                "待提交",
                format!(
                    "{} 件，最早 {}，死信 {} 件，已用 {} / {} MB",
                    q.pending,
                    q.oldest.as_deref().unwrap_or("—"),
                    q.dead,
                    q.queued_bytes / 1_000_000,
                    q.quota_bytes / 1_000_000
                ),
                q.dead > 0,
            ));
            if q.quarantined > 0 {
                out.push(line(
                    "搁置",
                    format!(
                        "{} 件数据无法读取，已搁置（其中 {} 件仍加密保存申请人数据）：ykb-terminal queue quarantine",
                        q.quarantined, q.quarantined_holding_personal_data
                    ),
                    true,
                ));
            }
            if let Some(why) = q.paused_reason {
                out.push(line("暂停提交", why, true));
            }
        }
        Err(e) => out.push(line("待提交", e.to_string(), true)),
    }
    if profile.devices.printer.driver != crate::core::config::DriverKind::None {
        let roll_mm = profile.devices.printer.roll_length_mm();
        match crate::core::consumables::roll(store) {
            Ok(r) => out.push(line(
                "收据纸",
                format!(
                    "本卷已打印 {} 张、约 {:.1} 米，约余 {:.1} 米（纸卷 {:.0} 米）{}",
                    r.jobs,
                    r.used_mm() as f64 / 1000.0,
                    r.left_mm(roll_mm) as f64 / 1000.0,
                    f64::from(roll_mm) / 1000.0,
                    if r.near_end(roll_mm) {
                        "，即将用完，请备好新纸卷；换纸后点“更换纸卷”"
                    } else {
                        ""
                    }
                ),
                r.near_end(roll_mm),
            )),
            Err(e) => out.push(line("收据纸", e.to_string(), true)),
        }
    }
    let p = &profile.platform;
    out.push(line(
        "网络",
        format!(
            "{:?}，{}{}",
            p.mode,
            if p.base_url.is_empty() {
                "—"
            } else {
                &p.base_url
            },
            if p.proxy.is_empty() {
                String::new()
            } else {
                format!("，代理 {}", p.proxy)
            }
        ),
        false,
    ));
    match health::disk_space(data_dir) {
        Ok(d) => out.push(line(
            "磁盘",
            format!(
                "可用 {} / {} MB",
                d.free_bytes / 1_000_000,
                d.total_bytes / 1_000_000
            ),
            d.level() != health::DiskLevel::Ok,
        )),
        Err(e) => out.push(line("磁盘", e.to_string(), true)),
    }
    match audit::verify(store) {
        Ok(r) if r.is_intact() => {
            out.push(line("审计日志", format!("完整，{} 条", r.entries), false))
        }
        Ok(r) => out.push(line("审计日志", format!("链条断开：{r:?}"), true)),
        Err(e) => out.push(line("审计日志", e.to_string(), true)),
    }
    out
}

/// Writes a diagnostics file (health, queue, devices, audit log — no personal data) under
/// `<data-dir>/exports/`, readable only by the service account; returns its path.
pub fn export_diagnostics(
    store: &mut Store,
    profile: &Profile,
    data_dir: &Path,
) -> Result<PathBuf, String> {
    let doc = crate::ops::diagnostics::document(store, profile, data_dir)?;
    let dir = data_dir.join("exports");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let name = format!(
        "diag-{}.json",
        jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ")
    );
    let path = dir.join(name);
    let body = serde_json::to_vec_pretty(&doc).map_err(|e| e.to_string())?;
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        f.write_all(&body)
            .and_then(|_| f.sync_all())
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(path)
}
