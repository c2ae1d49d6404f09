//! 软件更新 — install a version from the signed APT repository, check health, roll back.
//!
//! The decision is `core::update::decide` (pure); this file is the thin transport around
//! Debian's own tools:
//!
//! - `apt-get update` / `apt-get download` with a private state directory (its own
//!   `sources.list`, lists, cache and an empty status file), so the host's apt setup is neither
//!   read nor changed. The one source line carries `signed-by=` the configured keyring, and
//!   insecure repositories are refused (`Acquire::AllowInsecureRepositories=false`): an unsigned
//!   or wrongly signed repository ends in [`UpdateError::Unsigned`] before any package is
//!   fetched.
//! - `dpkg -i` into the configured root (`/` on a terminal; any directory in tests, then with
//!   `--root`, `--force-not-root` and `--force-script-chrootless`).
//!
//! [`Updater::apply`] keeps the installed version's `.deb` in the local cache first (fetching it
//! from the repository when it is not there yet; with no way back it does not update), installs
//! the new one, runs the health check with a deadline and, when that fails or times out,
//! reinstalls the previous `.deb` and checks it again. The [`UpdateReport`] names both versions
//! and is kept as `last-update.json` in the state directory for the next heartbeat and the
//! technician (`ykb-terminal update status`).
//!
//! Nothing here sees personal data; the logs carry package names and versions only.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::core::update::{decide, Activity, Decision, Rollout};

/// The signed repository the terminal updates from.
#[derive(Debug, Clone)]
pub struct Repo {
    /// Base URL (`https://repo.example/ykb`, `http://127.0.0.1:port/` in tests).
    pub url: String,
    /// The suite, or `./` for a flat repository.
    pub dist: String,
    /// Components (`main`); empty for a flat repository.
    pub components: Vec<String>,
    /// The OpenPGP keyring the repository must be signed with.
    pub keyring: PathBuf,
}

/// The check run after an install: a program that must exit 0 within the deadline.
#[derive(Debug, Clone)]
pub struct HealthCheck {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub deadline: Duration,
}

/// One package kept up to date in one root.
#[derive(Debug, Clone)]
pub struct Updater {
    /// The Debian package (`ykb-terminal`).
    pub package: String,
    pub repo: Repo,
    /// Where packages are installed: `/` on a terminal.
    pub root: PathBuf,
    /// apt's private state, the `.deb` cache and `last-update.json`.
    pub state_dir: PathBuf,
    pub health: HealthCheck,
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
}

/// What [`Updater::apply`] did, kept for the heartbeat and the technician.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateReport {
    pub package: String,
    /// The version before (None: not installed).
    pub from: Option<String>,
    /// The version tried.
    pub to: String,
    /// The version installed now.
    pub now: Option<String>,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// What one [`Updater::run`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunResult {
    /// The decision was not to install now (stay, defer or refuse).
    NotNow(Decision),
    /// An install was tried.
    Applied(UpdateReport),
}

#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("软件源未签名或签名不可信，拒绝更新：{0}")]
    Unsigned(String),
    #[error("无法读取软件源（网络或软件源地址有误）：{0}")]
    Repo(String),
    #[error("软件源中没有 {package} 的 {version} 版本：{detail}")]
    Fetch {
        package: String,
        version: String,
        detail: String,
    },
    #[error("无法取得当前版本 {0} 的安装包，没有回退的余地，本次不更新")]
    NoRollback(String),
    #[error("安装 {deb} 失败：{detail}")]
    Install { deb: String, detail: String },
    #[error("无法运行 {program}：{detail}")]
    Tool { program: String, detail: String },
    #[error("更新状态目录 {path} 读写失败：{detail}")]
    State { path: String, detail: String },
}

const REPORT_FILE: &str = "last-update.json";

impl Updater {
    /// Decide about `rollout` and, when the decision is to install, [`apply`](Self::apply).
    pub fn run(
        &self,
        rollout: Option<&Rollout>,
        device_id: &str,
        activity: Activity,
    ) -> Result<RunResult, UpdateError> {
        let installed = self.installed()?;
        match decide(rollout, device_id, installed.as_deref(), activity) {
            Decision::Install(v) => self.apply(&v).map(RunResult::Applied),
            other => Ok(RunResult::NotNow(other)),
        }
    }

    /// The installed version of the package in the root, if any.
    pub fn installed(&self) -> Result<Option<String>, UpdateError> {
        let out = tool(Command::new("dpkg-query").args([
            format!("--admindir={}", self.admindir().display()),
            "-W".into(),
            "-f".into(),
            "${db:Status-Status}\t${Version}".into(),
            self.package.clone(),
        ]))?;
        if !out.ok {
            return Ok(None);
        }
        Ok(out
            .stdout
            .trim()
            .strip_prefix("installed\t")
            .map(|v| v.trim().to_string()))
    }

    /// Install `version`, check its health, and roll back to the previous version on failure.
    pub fn apply(&self, version: &str) -> Result<UpdateReport, UpdateError> {
        let from = self.installed()?;
        self.refresh()?;
        let previous = match &from {
            Some(v) => Some(match self.cached(v) {
                Some(deb) => deb,
                None => self
                    .download(v)
                    .map_err(|_| UpdateError::NoRollback(v.clone()))?,
            }),
            None => None,
        };
        let deb = match self.cached(version) {
            Some(deb) => deb,
            None => self.download(version)?,
        };
        self.dpkg_install(&deb)?;
        let outcome = match self.check_health() {
            Ok(()) => Outcome::Installed,
            Err(reason) => match &previous {
                Some(prev) => {
                    tracing::warn!(
                        "update: {} {version} unhealthy ({reason}); rolling back",
                        self.package
                    );
                    self.dpkg_install(prev)?;
                    Outcome::RolledBack {
                        reason,
                        restored_healthy: self.check_health().is_ok(),
                    }
                }
                None => Outcome::Unhealthy { reason },
            },
        };
        let report = UpdateReport {
            package: self.package.clone(),
            from,
            to: version.to_string(),
            now: self.installed()?,
            outcome,
        };
        self.save_report(&report)?;
        tracing::info!(
            "update: {} {:?} → {version}: {:?}",
            self.package,
            report.from,
            report.outcome
        );
        Ok(report)
    }

    /// The last report, if an update ever ran.
    pub fn last_report(&self) -> Result<Option<UpdateReport>, UpdateError> {
        let path = self.state_dir.join(REPORT_FILE);
        match fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| state_err(&path, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(state_err(&path, e)),
        }
    }

    fn save_report(&self, report: &UpdateReport) -> Result<(), UpdateError> {
        let path = self.state_dir.join(REPORT_FILE);
        let tmp = path.with_extension("json.tmp");
        let body = serde_json::to_vec_pretty(report).map_err(|e| state_err(&path, e))?;
        fs::write(&tmp, body).map_err(|e| state_err(&tmp, e))?;
        fs::rename(&tmp, &path).map_err(|e| state_err(&path, e))
    }

    fn admindir(&self) -> PathBuf {
        self.root.join("var/lib/dpkg")
    }

    fn apt_dir(&self) -> PathBuf {
        self.state_dir.join("apt")
    }

    fn cache_dir(&self) -> PathBuf {
        self.state_dir.join("debs")
    }

    /// apt's options: everything in the private state directory.
    fn apt_options(&self) -> Vec<String> {
        let a = self.apt_dir();
        let p = |s: &str| a.join(s).display().to_string();
        [
            ("Dir::Etc::SourceList", p("sources.list")),
            ("Dir::Etc::SourceParts", p("empty")),
            ("Dir::Etc::Preferences", p("empty/preferences")),
            ("Dir::Etc::PreferencesParts", p("empty")),
            ("Dir::State::Lists", p("lists")),
            ("Dir::State::status", p("status")),
            ("Dir::Cache", p("cache")),
            ("Acquire::AllowInsecureRepositories", "false".into()),
            (
                "Acquire::AllowDowngradeToInsecureRepositories",
                "false".into(),
            ),
            ("APT::Sandbox::User", "root".into()),
            ("Debug::NoLocking", "true".into()),
        ]
        .into_iter()
        .flat_map(|(k, v)| ["-o".to_string(), format!("{k}={v}")])
        .collect()
    }

    /// Write the private apt setup and fetch the repository's signed index.
    fn refresh(&self) -> Result<(), UpdateError> {
        let a = self.apt_dir();
        for d in ["lists/partial", "cache/archives/partial", "empty"] {
            mkdir(&a.join(d))?;
        }
        mkdir(&self.cache_dir())?;
        let status = a.join("status");
        if !status.exists() {
            fs::write(&status, b"").map_err(|e| state_err(&status, e))?;
        }
        let r = &self.repo;
        let line = format!(
            "deb [signed-by={}] {} {} {}\n",
            r.keyring.display(),
            r.url,
            r.dist,
            r.components.join(" ")
        );
        let list = a.join("sources.list");
        fs::write(&list, line).map_err(|e| state_err(&list, e))?;
        let out = tool(
            Command::new("apt-get")
                .args(self.apt_options())
                .args(["-q", "update"]),
        )?;
        let text = format!("{}{}", out.stdout, out.stderr);
        let signature = [
            "not signed",
            "NO_PUBKEY",
            "BADSIG",
            "EXPKEYSIG",
            "signature",
            "Signed-By",
        ];
        if signature.iter().any(|s| text.contains(s)) {
            return Err(UpdateError::Unsigned(last_lines(&text)));
        }
        if !out.ok || text.contains("Failed to fetch") {
            return Err(UpdateError::Repo(last_lines(&text)));
        }
        Ok(())
    }

    /// The cached `.deb` of `version`, if there.
    fn cached(&self, version: &str) -> Option<PathBuf> {
        let prefix = format!("{}_{}_", self.package, version.replace(':', "%3a"));
        fs::read_dir(self.cache_dir())
            .ok()?
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".deb"))
            })
    }

    fn download(&self, version: &str) -> Result<PathBuf, UpdateError> {
        let out = tool(
            Command::new("apt-get")
                .current_dir(self.cache_dir())
                .args(self.apt_options())
                .args(["-q", "download", &format!("{}={version}", self.package)]),
        )?;
        match self.cached(version) {
            Some(deb) if out.ok => Ok(deb),
            _ => Err(UpdateError::Fetch {
                package: self.package.clone(),
                version: version.to_string(),
                detail: last_lines(&format!("{}{}", out.stdout, out.stderr)),
            }),
        }
    }

    fn dpkg_install(&self, deb: &Path) -> Result<(), UpdateError> {
        let mut cmd = Command::new("dpkg");
        if self.root != Path::new("/") {
            cmd.arg(format!("--root={}", self.root.display()))
                .args(["--force-not-root", "--force-script-chrootless"]);
        }
        let out = tool(cmd.args(["--force-downgrade", "-i"]).arg(deb))?;
        if out.ok {
            Ok(())
        } else {
            Err(UpdateError::Install {
                deb: deb.display().to_string(),
                detail: last_lines(&out.stderr),
            })
        }
    }

    /// Run the health check; Err carries why it failed (in words).
    pub fn check_health(&self) -> Result<(), String> {
        let h = &self.health;
        let mut child = Command::new(&h.program)
            .args(&h.args)
            .env("YKB_UPDATE_ROOT", &self.root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("健康检查 {} 无法启动：{e}", h.program.display()))?;
        let started = Instant::now();
        loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => {
                    let mut err = String::new();
                    if let Some(mut e) = child.stderr.take() {
                        let _ = e.read_to_string(&mut err);
                    }
                    return Err(format!("健康检查未通过（{status}）：{}", last_lines(&err)));
                }
                Ok(None) if started.elapsed() >= h.deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!(
                        "健康检查在 {} 秒内未完成",
                        h.deadline.as_secs_f32()
                    ));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                Err(e) => return Err(format!("健康检查状态无法读取：{e}")),
            }
        }
    }
}

struct Output {
    ok: bool,
    stdout: String,
    stderr: String,
}

fn tool(cmd: &mut Command) -> Result<Output, UpdateError> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd
        .env("LC_ALL", "C")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| UpdateError::Tool {
            program,
            detail: e.to_string(),
        })?;
    Ok(Output {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

fn mkdir(p: &Path) -> Result<(), UpdateError> {
    fs::create_dir_all(p).map_err(|e| state_err(p, e))
}

fn state_err(p: &Path, e: impl std::fmt::Display) -> UpdateError {
    UpdateError::State {
        path: p.display().to_string(),
        detail: e.to_string(),
    }
}

/// The last few lines of a tool's output, for an error message.
fn last_lines(s: &str) -> String {
    let lines: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(3)..].join(" / ")
}
