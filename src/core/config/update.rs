//! `[update]` (optional): signed, staged software updates from an APT repository
//! (`ops::update`, acted on by the agent when a heartbeat answer carries a rollout). Absent or
//! `enabled = false`: the terminal never updates itself (the demo profiles).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// `[update]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateSection {
    /// Whether the agent acts on the platform's rollouts.
    #[serde(default)]
    pub enabled: bool,
    /// The Debian package kept up to date (default `ykb-terminal`).
    #[serde(default = "default_package")]
    pub package: String,
    /// The APT repository's base URL (`https://repo.example/ykb`; http is enough, apt checks
    /// the signature either way).
    #[serde(default)]
    pub repository: String,
    /// The suite (`bookworm`, `stable`), or `./` for a flat repository (default `stable`).
    #[serde(default = "default_suite")]
    pub suite: String,
    /// The components (default `["main"]`; empty for a flat repository).
    #[serde(default = "default_components")]
    pub components: Vec<String>,
    /// The OpenPGP public keyring the repository must be signed with (absolute path).
    #[serde(default)]
    pub keyring: String,
    /// The health check after an install: a program and its arguments, which must exit 0
    /// within `health_deadline_secs`. `YKB_UPDATE_ROOT` tells it the root. Absent (empty):
    /// the installed binary's own `ykb-terminal update health` — the kiosk restarted between
    /// citizens and drawing its first frame as the new version, the agent's heartbeat
    /// acknowledged (`ops::update_health`).
    #[serde(default)]
    pub health_command: Vec<String>,
    /// Seconds the health check may take (5–3600; default 180).
    #[serde(default = "default_health_deadline")]
    pub health_deadline_secs: u32,
    /// After a failed attempt (repository unreachable or badly signed, no room, install
    /// failed), seconds before the same version is tried again (60–86400; default 900).
    #[serde(default = "default_check_interval")]
    pub check_interval_secs: u32,
    /// MB that must stay free on the data directory's file system beyond the new and the
    /// previous package (0–100000; default 200).
    #[serde(default = "default_min_free_mb")]
    pub min_free_mb: u32,
    /// Where packages are installed (default `/`; another absolute path is a chroot-like
    /// root, used by the tests).
    #[serde(default = "default_root")]
    pub root: String,
}

fn default_package() -> String {
    "ykb-terminal".into()
}
fn default_suite() -> String {
    "stable".into()
}
fn default_components() -> Vec<String> {
    vec!["main".into()]
}
fn default_health_deadline() -> u32 {
    180
}
fn default_check_interval() -> u32 {
    900
}
fn default_min_free_mb() -> u32 {
    200
}
fn default_root() -> String {
    "/".into()
}

/// The state directory's name under the data directory (apt's private state, the cached
/// packages, `last-update.json`, `rollout.json`).
pub const STATE_DIR: &str = "update";

impl UpdateSection {
    /// Where `ops::update` keeps its state for a terminal whose data lives in `data_dir`.
    pub fn state_dir(&self, data_dir: &Path) -> PathBuf {
        data_dir.join(STATE_DIR)
    }

    /// Checks the keys; the error names the key. Off, only the ranges are checked.
    pub(super) fn validate(&self) -> Result<(), (String, String)> {
        let e = |k: &str, m: String| Err((format!("update.{k}"), m));
        for (k, v, range) in [
            ("health_deadline_secs", self.health_deadline_secs, 5..=3600),
            ("check_interval_secs", self.check_interval_secs, 60..=86400),
            ("min_free_mb", self.min_free_mb, 0..=100_000),
        ] {
            if !range.contains(&v) {
                return e(
                    k,
                    format!("应在 {} 到 {} 之间，现为 {v}", range.start(), range.end()),
                );
            }
        }
        if !self.enabled {
            return Ok(());
        }
        let name_ok = |n: &str| {
            n.len() >= 2
                && n.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && n.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b))
        };
        if !name_ok(&self.package) {
            return e(
                "package",
                format!(
                    "不是有效的 Debian 软件包名（小写字母、数字和 + - .），现为 {:?}",
                    self.package
                ),
            );
        }
        match reqwest::Url::parse(self.repository.trim()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {}
            _ => {
                return e(
                    "repository",
                    format!(
                        "启用更新时须填写软件源地址（http:// 或 https:// 开头），现为 {:?}",
                        self.repository
                    ),
                )
            }
        }
        let word_ok = |w: &str| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-/~+".contains(&b))
        };
        if !word_ok(&self.suite) {
            return e(
                "suite",
                format!("应为发行版代号（如 bookworm）或 ./，现为 {:?}", self.suite),
            );
        }
        if let Some(c) = self.components.iter().find(|c| !word_ok(c)) {
            return e("components", format!("组件名 {c:?} 无效（如 main）"));
        }
        if self.suite.ends_with('/') != self.components.is_empty() {
            return e(
                "components",
                "以 / 结尾的 suite（平铺软件源）不带组件；其他 suite 至少要有一个组件（如 main）"
                    .into(),
            );
        }
        if !Path::new(&self.keyring).is_absolute() {
            return e(
                "keyring",
                format!(
                    "启用更新时须填写软件源签名公钥的绝对路径（如 /usr/share/keyrings/ykb-archive.gpg），现为 {:?}",
                    self.keyring
                ),
            );
        }
        match self.health_command.first() {
            Some(p) if Path::new(p).is_absolute() => {}
            _ => {
                return e(
                    "health_command",
                    "启用更新时须填写健康检查命令，第一项为程序的绝对路径（如 [\"/usr/bin/ykb-terminal\", \"selftest\"]）".into(),
                )
            }
        }
        if !Path::new(&self.root).is_absolute() {
            return e(
                "root",
                format!("应为绝对路径（终端上为 /），现为 {:?}", self.root),
            );
        }
        Ok(())
    }
}
