//! 软件更新决策 — which version this terminal should run, decided without I/O.
//!
//! The platform names a rollout in the heartbeat answer ([`Rollout`]: a version, and who gets
//! it — a percentage of the fleet, a list of terminals, or both — and whether it is pinned).
//! [`decide`] turns that, this terminal's id, its installed version and whether it is busy
//! into one [`Decision`]:
//!
//! - not in the rollout's cohort, or already on that version → [`Decision::Stay`];
//! - older than what is installed and not pinned → [`Decision::Refuse`] (a downgrade is only
//!   ever done on the platform's explicit word);
//! - a citizen is being served or a case is being submitted → [`Decision::Defer`] (updates
//!   happen only between citizens; the next heartbeat asks again);
//! - otherwise → [`Decision::Install`].
//!
//! The cohort of a percentage is a stable hash of the device id ([`bucket`], FNV-1a, 0..100),
//! so raising 10 % to 50 % only adds terminals and never swaps them. Versions compare as
//! Debian versions ([`compare_versions`], the `dpkg --compare-versions` algorithm: epoch,
//! upstream, revision; `~` sorts before everything, even the end).
//!
//! The signature of the packages is apt's business (`ops::update` runs apt against a
//! `signed-by` keyring); this file only decides, and names what became of an update
//! ([`UpdateReport`], kept as `last-update.json`) and what the heartbeat tells the platform
//! about it ([`UpdateState`]). [`markers`] holds what the health check after an install
//! waits for (the apps' start markers in the store) and its pure verdict.

use std::cmp::Ordering;
use std::fmt;

pub mod markers;

use serde::{Deserialize, Serialize};

/// The platform's rollout entry, carried in the heartbeat answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollout {
    /// The Debian version terminals in the cohort should run (`1.4.0-1`).
    pub version: String,
    /// Share of the fleet, 0–100, chosen by [`bucket`]. Absent: only `terminals`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<u8>,
    /// Device ids that get this version whatever their bucket.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub terminals: Vec<String>,
    /// The platform insists on this exact version: a downgrade is allowed.
    #[serde(default)]
    pub pinned: bool,
}

/// What the terminal is doing right now, as far as an update cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Activity {
    /// A citizen is at the terminal (a session past the home screen).
    pub citizen_present: bool,
    /// A case is being submitted (stored, not yet acknowledged by the citizen's receipt).
    pub submitting: bool,
}

impl Activity {
    /// Neither a citizen nor a submission: the only time an update may run.
    pub fn idle(self) -> bool {
        !self.citizen_present && !self.submitting
    }
}

/// Why an update is not done now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The rollout's version is older than the installed one and not pinned.
    Downgrade { installed: String, offered: String },
    /// The version string is not a Debian version.
    BadVersion(String),
    /// A citizen is being served.
    CitizenPresent,
    /// A case is being submitted.
    Submitting,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Downgrade { installed, offered } => write!(
                f,
                "平台下发的版本 {offered} 比已安装的 {installed} 旧，且未指定锁定版本，拒绝降级"
            ),
            Reason::BadVersion(v) => write!(f, "平台下发的版本号“{v}”不是有效的软件包版本号"),
            Reason::CitizenPresent => write!(f, "正在为群众办理业务，更新推迟到本次办理结束后"),
            Reason::Submitting => write!(f, "正在提交办件，更新推迟到提交完成后"),
        }
    }
}

/// The decision for one heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nothing to do.
    Stay,
    /// Install this version now.
    Install(String),
    /// Would install, but not now.
    Defer(Reason),
    /// Will not install this version.
    Refuse(Reason),
}

/// How an update ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The new version is installed and healthy.
    Installed,
    /// The new version failed its health check; the previous one is back.
    RolledBack {
        reason: String,
        /// Whether the restored version passed the health check again.
        restored_healthy: bool,
    },
    /// The new version failed its health check and there was nothing to go back to.
    Unhealthy { reason: String },
    /// Not installed, by rule: a downgrade not pinned, a version that is no Debian version,
    /// a version that failed its health check here before.
    Refused { reason: String },
    /// Tried and not installed; the installed version is unchanged: the repository's
    /// signature, no way back, the disk, the install itself.
    Failed { reason: String },
}

impl Outcome {
    /// `installed`, `rolled_back`, `unhealthy`, `refused`, `failed`.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Installed => "installed",
            Outcome::RolledBack { .. } => "rolled_back",
            Outcome::Unhealthy { .. } => "unhealthy",
            Outcome::Refused { .. } => "refused",
            Outcome::Failed { .. } => "failed",
        }
    }

    /// What happened, in words (zh-CN).
    pub fn describe(&self) -> String {
        match self {
            Outcome::Installed => "已安装，健康检查通过".into(),
            Outcome::RolledBack {
                reason,
                restored_healthy,
            } => format!(
                "健康检查未通过（{reason}），已恢复原版本{}",
                if *restored_healthy {
                    ""
                } else {
                    "，但原版本的健康检查也未通过"
                }
            ),
            Outcome::Unhealthy { reason } => {
                format!("健康检查未通过（{reason}），没有可恢复的原版本")
            }
            Outcome::Refused { reason } => format!("拒绝更新：{reason}"),
            Outcome::Failed { reason } => format!("未能更新：{reason}"),
        }
    }

    /// Whether the version was tried and found broken (installing it again would only fail
    /// again): not retried until the platform rolls out another version.
    pub fn broken(&self) -> bool {
        matches!(self, Outcome::RolledBack { .. } | Outcome::Unhealthy { .. })
    }
}

/// What one update did, kept for the heartbeat and the technician (`last-update.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateReport {
    pub package: String,
    /// The version before (None: not installed).
    pub from: Option<String>,
    /// The version the platform asked for.
    pub to: String,
    /// The version installed now.
    pub now: Option<String>,
    /// Unix seconds when it ended (0 in reports written before this field existed).
    #[serde(default)]
    pub at: i64,
    #[serde(flatten)]
    pub outcome: Outcome,
}

impl UpdateReport {
    /// One line for logs, the audit log and the technician.
    pub fn line(&self) -> String {
        format!(
            "{} {} → {}：{}（现为 {}）",
            self.package,
            self.from.as_deref().unwrap_or("未安装"),
            self.to,
            self.outcome.describe(),
            self.now.as_deref().unwrap_or("未安装")
        )
    }
}

/// What a heartbeat tells the platform about updates (`Heartbeat::update`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateState {
    /// The package kept up to date.
    pub package: String,
    /// Its installed version (None: not installed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed: Option<String>,
    /// The last update's outcome, sent on every beat (the platform keeps each distinct one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<UpdateReport>,
    /// Why the rollout's version is not being installed right now (a citizen is served, a
    /// case is being submitted), if it waits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<String>,
}

/// Decide what to do about `rollout` on terminal `device_id`, which runs `installed` (None:
/// the package is not installed) and is doing `activity`.
pub fn decide(
    rollout: Option<&Rollout>,
    device_id: &str,
    installed: Option<&str>,
    activity: Activity,
) -> Decision {
    let Some(r) = rollout else {
        return Decision::Stay;
    };
    if !in_cohort(r, device_id) {
        return Decision::Stay;
    }
    if !valid_version(&r.version) {
        return Decision::Refuse(Reason::BadVersion(r.version.clone()));
    }
    if let Some(have) = installed {
        match compare_versions(&r.version, have) {
            Ordering::Equal => return Decision::Stay,
            Ordering::Less if !r.pinned => {
                return Decision::Refuse(Reason::Downgrade {
                    installed: have.to_string(),
                    offered: r.version.clone(),
                })
            }
            _ => {}
        }
    }
    if activity.submitting {
        return Decision::Defer(Reason::Submitting);
    }
    if activity.citizen_present {
        return Decision::Defer(Reason::CitizenPresent);
    }
    Decision::Install(r.version.clone())
}

/// Whether `device_id` is among those the rollout is for.
pub fn in_cohort(r: &Rollout, device_id: &str) -> bool {
    r.terminals.iter().any(|t| t == device_id)
        || r.percent
            .is_some_and(|p| bucket(device_id) < u32::from(p.min(100)))
}

/// The stable bucket of a device id, 0..100 (FNV-1a 64 of its bytes, modulo 100).
pub fn bucket(device_id: &str) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in device_id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % 100) as u32
}

/// Whether `v` is a Debian version: `[epoch:]upstream[-revision]`, upstream starting with a
/// digit, only the characters Debian allows.
pub fn valid_version(v: &str) -> bool {
    let (epoch, rest) = split_epoch(v);
    if epoch.is_some_and(|e| e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    let (upstream, revision) = split_revision(rest);
    let upstream_ok = upstream.starts_with(|c: char| c.is_ascii_digit())
        && upstream
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".+~-:".contains(&b));
    let revision_ok = revision.is_none_or(|r| {
        !r.is_empty()
            && r.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".+~".contains(&b))
    });
    upstream_ok && revision_ok
}

fn split_epoch(v: &str) -> (Option<&str>, &str) {
    match v.split_once(':') {
        Some((e, rest)) => (Some(e), rest),
        None => (None, v),
    }
}

fn split_revision(v: &str) -> (&str, Option<&str>) {
    match v.rsplit_once('-') {
        Some((u, r)) => (u, Some(r)),
        None => (v, None),
    }
}

/// Compare two Debian versions as `dpkg --compare-versions` does.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let (ea, ra) = split_epoch(a);
    let (eb, rb) = split_epoch(b);
    let epoch = |e: Option<&str>| e.and_then(|e| e.parse::<u64>().ok()).unwrap_or(0);
    let (ua, va) = split_revision(ra);
    let (ub, vb) = split_revision(rb);
    epoch(ea)
        .cmp(&epoch(eb))
        .then_with(|| compare_part(ua, ub))
        .then_with(|| compare_part(va.unwrap_or("0"), vb.unwrap_or("0")))
}

/// dpkg's order of a non-digit character: `~` first, then the end, then letters, then the rest.
fn order(c: Option<u8>) -> i32 {
    match c {
        Some(b'~') => -1,
        None => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

fn compare_part(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    while !a.is_empty() || !b.is_empty() {
        // The non-digit prefix, character by character.
        loop {
            let ca = a.first().copied().filter(|c| !c.is_ascii_digit());
            let cb = b.first().copied().filter(|c| !c.is_ascii_digit());
            if ca.is_none() && cb.is_none() {
                break;
            }
            let o = order(ca).cmp(&order(cb));
            if o != Ordering::Equal {
                return o;
            }
            a = &a[1..];
            b = &b[1..];
        }
        // The digit run, as a number (leading zeros do not count).
        let da = a.iter().take_while(|c| c.is_ascii_digit()).count();
        let db = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let na = trim_zeros(&a[..da]);
        let nb = trim_zeros(&b[..db]);
        let o = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
        if o != Ordering::Equal {
            return o;
        }
        a = &a[da..];
        b = &b[db..];
    }
    Ordering::Equal
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let n = d.iter().take_while(|&&c| c == b'0').count();
    &d[n..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rollout(version: &str, percent: Option<u8>, terminals: &[&str], pinned: bool) -> Rollout {
        Rollout {
            version: version.into(),
            percent,
            terminals: terminals.iter().map(|t| t.to_string()).collect(),
            pinned,
        }
    }

    #[test]
    fn debian_versions_compare_like_dpkg() {
        use Ordering::*;
        for (a, b, want) in [
            ("1.0", "1.0", Equal),
            ("1.0", "1.0-0", Equal),
            ("1.0-1", "1.0-2", Less),
            ("1.10", "1.9", Greater),
            ("1.0~rc1", "1.0", Less),
            ("1.0~~", "1.0~", Less),
            ("1:0.1", "2.0", Greater),
            ("1.0a", "1.0", Greater),
            ("1.0a", "1.0+", Less),
            ("1.001", "1.1", Equal),
            ("2.0.0", "1.99.99", Greater),
        ] {
            assert_eq!(compare_versions(a, b), want, "{a} vs {b}");
            assert_eq!(compare_versions(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn versions_are_checked() {
        assert!(valid_version("1.4.0-1"));
        assert!(valid_version("2:1.0~rc1+deb12u1"));
        for bad in ["", "abc", "1.0 ", ":1.0", "1.0-", "x:1.0", "1.0/2"] {
            assert!(!valid_version(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_cohort_is_stable_and_grows_with_the_percentage() {
        let ids: Vec<String> = (0..1000).map(|i| format!("KIOSK-{i:04}")).collect();
        let count = |p| {
            let r = rollout("2.0", Some(p), &[], false);
            ids.iter().filter(|id| in_cohort(&r, id)).count()
        };
        assert_eq!(count(0), 0);
        assert_eq!(count(100), 1000);
        let ten = count(10);
        assert!((50..=150).contains(&ten), "10 % of 1000 gave {ten}");
        // Every terminal in the 10 % cohort is still in the 50 % one.
        let (r10, r50) = (
            rollout("2", Some(10), &[], false),
            rollout("2", Some(50), &[], false),
        );
        assert!(ids
            .iter()
            .filter(|id| in_cohort(&r10, id))
            .all(|id| in_cohort(&r50, id)));
        assert_eq!(bucket("KIOSK-0001"), bucket("KIOSK-0001"));
    }

    #[test]
    fn a_listed_terminal_gets_it_and_others_stay() {
        let r = rollout("2.0", None, &["KIOSK-7"], false);
        assert_eq!(
            decide(Some(&r), "KIOSK-7", Some("1.0"), Activity::default()),
            Decision::Install("2.0".into())
        );
        assert_eq!(
            decide(Some(&r), "KIOSK-8", Some("1.0"), Activity::default()),
            Decision::Stay
        );
        assert_eq!(
            decide(None, "KIOSK-7", Some("1.0"), Activity::default()),
            Decision::Stay
        );
        assert_eq!(
            decide(Some(&r), "KIOSK-7", Some("2.0"), Activity::default()),
            Decision::Stay
        );
        assert_eq!(
            decide(Some(&r), "KIOSK-7", None, Activity::default()),
            Decision::Install("2.0".into())
        );
    }

    #[test]
    fn a_downgrade_needs_a_pin() {
        let r = rollout("1.0", Some(100), &[], false);
        let d = decide(Some(&r), "K", Some("2.0"), Activity::default());
        let Decision::Refuse(reason) = d else {
            panic!("{d:?}")
        };
        assert!(reason.to_string().contains("拒绝降级"), "{reason}");
        let pinned = rollout("1.0", Some(100), &[], true);
        assert_eq!(
            decide(Some(&pinned), "K", Some("2.0"), Activity::default()),
            Decision::Install("1.0".into())
        );
    }

    #[test]
    fn a_busy_terminal_defers() {
        let r = rollout("2.0", Some(100), &[], false);
        let submitting = Activity {
            citizen_present: true,
            submitting: true,
        };
        assert_eq!(
            decide(Some(&r), "K", Some("1.0"), submitting),
            Decision::Defer(Reason::Submitting)
        );
        let serving = Activity {
            citizen_present: true,
            submitting: false,
        };
        assert_eq!(
            decide(Some(&r), "K", Some("1.0"), serving),
            Decision::Defer(Reason::CitizenPresent)
        );
        assert!(!submitting.idle() && Activity::default().idle());
    }

    #[test]
    fn a_bad_version_is_refused_in_words() {
        let r = rollout("latest", Some(100), &[], true);
        let d = decide(Some(&r), "K", Some("1.0"), Activity::default());
        assert_eq!(d, Decision::Refuse(Reason::BadVersion("latest".into())));
    }
}
