//! The agent's update duty: what it does about the rollout a heartbeat answer carries.
//!
//! Each answer's rollout goes to [`UpdateDuty::offer`], which runs one [`UpdateDuty::step`] on
//! a blocking thread unless one is still running (an install with its health check takes
//! minutes; heartbeats go on meanwhile). A step:
//!
//! 1. keeps what the platform asked for as `rollout.json` in the state directory (for
//!    `ykb-terminal update status`);
//! 2. asks whether the terminal is busy: what the apps said in the store
//!    (`core::commands::activity` — the kiosk writes `activity.kiosk` from its session:
//!    a citizen past the home screen, a case being submitted) and whether a case is being
//!    sent right now (`core::outbox::case_in_flight`, a live delivery claim);
//! 3. decides with `core::update::decide` ([`UpdateDuty::plan`]), adding what only this
//!    terminal remembers: a version that failed its health check here is never installed
//!    again by itself, and one whose attempt failed (repository, signature, disk, dpkg) is
//!    tried again only after `update.check_interval_secs`;
//! 4. installs through `ops::update::Updater::apply` (health check, rollback) or records a
//!    refusal or failure as the last report (`last-update.json`).
//!
//! An agent that cannot install (not root, installing into `/`: the shipped
//! `ykb-terminal.service` runs as `ykb`) does not try dpkg at step 4: it writes the request
//! file [`APPLY_REQUEST_FILE`] into the state directory instead, and
//! `ykb-terminal-update.path` starts the root `ykb-terminal-update.service`
//! (`update check --apply`), which takes the request away before it decides again itself.
//!
//! Every step that changes something is audited (`software_update`): the start of an
//! install, its outcome, each refusal and failure, and the first time a rollout waits for a
//! citizen. The heartbeat carries [`UpdateState`]: installed version, last report, and what a
//! waiting rollout waits for.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::update::{HealthCheck, Repo, UpdateError, Updater};
use crate::core::audit::{self, Actor, AuditAction};
use crate::core::config::Profile;
use crate::core::store::Store;
use crate::core::update::{
    decide, Activity, Decision, Outcome, Rollout, UpdateReport, UpdateState,
};
use crate::core::{commands, outbox};

/// What the platform last asked for, kept as `rollout.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenRollout {
    /// Unix seconds of the heartbeat answer.
    pub at: i64,
    /// The rollout (None: the platform asks for nothing).
    pub rollout: Option<Rollout>,
}

const ROLLOUT_FILE: &str = "rollout.json";

/// The file an agent that cannot install writes into the update state directory when a
/// version is due and the terminal is idle (its content: the version); the root update
/// service's path unit watches for it.
pub const APPLY_REQUEST_FILE: &str = "apply-requested";

/// Asks the root update service to install `version` (writes [`APPLY_REQUEST_FILE`]).
pub fn request_apply(state_dir: &std::path::Path, version: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(state_dir)?;
    let path = state_dir.join(APPLY_REQUEST_FILE);
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, version)?;
    std::fs::rename(&tmp, &path)
}

/// Takes the agent's request away (the root update service, before it acts, so a run that
/// fails is not started again and again by the path unit); the version asked for, if any.
pub fn take_apply_request(state_dir: &std::path::Path) -> Option<String> {
    let path = state_dir.join(APPLY_REQUEST_FILE);
    let version = std::fs::read_to_string(&path).ok()?;
    let _ = std::fs::remove_file(&path);
    Some(version.trim().to_owned())
}

/// Whether this process can install into `root` itself: as root, or into a root of its own
/// (the tests' chroot-like directory).
fn can_install(root: &std::path::Path) -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    root != std::path::Path::new("/") || unsafe { libc::geteuid() } == 0
}

/// What this terminal would do about a rollout now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Nothing to do (not in the cohort, already on the version, no rollout).
    Stay,
    /// Install this version.
    Install(String),
    /// Later: a citizen is being served or a case submitted (the words say which).
    Wait(String),
    /// Never by itself (a downgrade not pinned, a bad version); recorded as refused.
    Refuse(String),
    /// The version failed its health check here and was rolled back: not installed again
    /// (the rollback stays the last report) until the platform rolls out another one.
    Broken(String),
    /// The last attempt at this version failed; it is tried again after the interval.
    RetryLater(String),
}

impl Plan {
    /// One line in words.
    pub fn describe(&self) -> String {
        match self {
            Plan::Stay => "无需更新：不在本次推送范围内，或已是平台要求的版本".into(),
            Plan::Install(v) => format!("将安装 {v}"),
            Plan::Wait(why) => format!("暂缓：{why}"),
            Plan::Refuse(why) => format!("拒绝更新：{why}"),
            Plan::Broken(why) => format!("不再自动安装：{why}"),
            Plan::RetryLater(why) => format!("稍后重试：{why}"),
        }
    }
}

/// The update duty of one agent.
pub struct UpdateDuty {
    /// apt, dpkg and the health check.
    pub updater: Updater,
    /// The agent's store connection (activity, delivery claims, audit).
    pub store: Arc<Mutex<Store>>,
    /// A failed attempt is repeated after this long.
    pub retry_after: Duration,
    /// Installing is the root update service's job: a due version is asked for through
    /// [`APPLY_REQUEST_FILE`] instead of installed here.
    pub delegate: bool,
    state: Mutex<Memory>,
    running: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

#[derive(Debug, Default)]
struct Memory {
    installed: Option<String>,
    last: Option<UpdateReport>,
    waiting: Option<String>,
    /// The (version, reason) whose wait was audited, so a long wait is audited once.
    waiting_audited: Option<(String, String)>,
}

fn lock(store: &Arc<Mutex<Store>>) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|e| e.into_inner())
}

/// The updater a profile describes (`[update]`), for a terminal whose data is in `data_dir`.
pub fn updater(profile: &Profile, data_dir: &std::path::Path) -> Option<Updater> {
    let u = profile.update.as_ref()?;
    let health = if u.health_command.is_empty() {
        default_health(profile, u, data_dir)
    } else {
        let mut cmd = u.health_command.iter();
        HealthCheck {
            program: cmd.next().map(PathBuf::from).unwrap_or_default(),
            args: cmd.cloned().collect(),
            deadline: Duration::from_secs(u64::from(u.health_deadline_secs)),
        }
    };
    Some(Updater {
        package: u.package.clone(),
        repo: Repo {
            url: u.repository.trim().to_owned(),
            dist: u.suite.clone(),
            components: u.components.clone(),
            keyring: PathBuf::from(&u.keyring),
        },
        root: PathBuf::from(&u.root),
        state_dir: u.state_dir(data_dir),
        health,
        min_free_bytes: u64::from(u.min_free_mb) << 20,
    })
}

/// Without `health_command`: the installed binary's own check (`update health`), waiting
/// for the profile's app a little less than the deadline, so it answers before it is killed.
fn default_health(
    profile: &Profile,
    u: &crate::core::config::UpdateSection,
    data_dir: &std::path::Path,
) -> HealthCheck {
    let wait = u64::from(u.health_deadline_secs).saturating_sub(3).max(1);
    HealthCheck {
        program: PathBuf::from(&u.root).join("usr/bin/ykb-terminal"),
        args: vec![
            "--data-dir".into(),
            data_dir.display().to_string(),
            "update".into(),
            "health".into(),
            "--wait-ui".into(),
            wait.to_string(),
            "--app".into(),
            crate::core::update::markers::app_for(profile.terminal.kind).into(),
        ],
        deadline: Duration::from_secs(u64::from(u.health_deadline_secs)),
    }
}

impl UpdateDuty {
    /// The duty `[update]` asks for; `None` when updates are off.
    pub fn from_profile(
        profile: &Profile,
        data_dir: &std::path::Path,
        store: Arc<Mutex<Store>>,
    ) -> Option<Self> {
        let section = profile.update.as_ref().filter(|u| u.enabled)?;
        let updater = updater(profile, data_dir)?;
        let duty = Self {
            retry_after: Duration::from_secs(u64::from(section.check_interval_secs)),
            delegate: !can_install(&updater.root),
            updater,
            store,
            state: Mutex::new(Memory::default()),
            running: Mutex::new(None),
        };
        duty.refresh_memory();
        Some(duty)
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads the installed version and the last report again.
    fn refresh_memory(&self) {
        let installed = self.updater.installed().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "update: installed version unreadable");
            None
        });
        let last = self.updater.last_report().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "update: last report unreadable");
            None
        });
        let mut m = self.memory();
        m.installed = installed;
        m.last = last;
    }

    /// What the next heartbeat says about updates.
    pub fn state(&self) -> UpdateState {
        let m = self.memory();
        UpdateState {
            package: self.updater.package.clone(),
            installed: m.installed.clone(),
            last: m.last.clone(),
            waiting: m.waiting.clone(),
        }
    }

    /// Hands the rollout of a heartbeat answer over; a step runs on a blocking thread
    /// unless the previous one is still running (then this answer is skipped: the next
    /// heartbeat brings the rollout again).
    pub fn offer(self: &Arc<Self>, rollout: Option<Rollout>, device_id: String) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if running.as_ref().is_some_and(|h| !h.is_finished()) {
            return;
        }
        let me = self.clone();
        *running = Some(tokio::task::spawn_blocking(move || {
            let now = jiff::Timestamp::now().as_second();
            me.step(rollout.as_ref(), &device_id, now);
        }));
    }

    /// Waits for a running step to end (the agent stopping: an install is never cut off).
    pub async fn finish(&self) {
        let handle = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(h) = handle {
            let _ = h.await;
        }
    }

    /// Whether the terminal is busy: the apps' word in the store, and a case under a live
    /// delivery claim. Unreadable counts as busy (an update can wait).
    pub fn activity(&self, now: i64) -> Activity {
        let mut store = lock(&self.store);
        let said = commands::activity(&mut store, now);
        let sending = outbox::case_in_flight(&mut store, now * 1000);
        match (said, sending) {
            (Ok(mut a), Ok(sending)) => {
                a.submitting |= sending;
                a
            }
            (Err(e), _) => {
                tracing::warn!(error = %e, "update: app activity unreadable; waiting");
                Activity {
                    citizen_present: true,
                    submitting: false,
                }
            }
            (_, Err(e)) => {
                tracing::warn!(error = %e, "update: delivery claims unreadable; waiting");
                Activity {
                    citizen_present: false,
                    submitting: true,
                }
            }
        }
    }

    /// What would be done about `rollout` now (nothing is installed).
    pub fn plan(&self, rollout: Option<&Rollout>, device_id: &str, now: i64) -> Plan {
        let installed = match self.updater.installed() {
            Ok(v) => v,
            Err(e) => return Plan::RetryLater(e.to_string()),
        };
        let activity = self.activity(now);
        let last = self.memory().last.clone();
        match decide(rollout, device_id, installed.as_deref(), activity) {
            Decision::Stay => Plan::Stay,
            Decision::Defer(r) => Plan::Wait(r.to_string()),
            Decision::Refuse(r) => Plan::Refuse(r.to_string()),
            Decision::Install(v) => match last.filter(|l| l.to == v) {
                Some(l) if l.outcome.broken() => Plan::Broken(format!(
                    "{v} 已在本机健康检查失败并回退，不再自动安装；请平台下发新的版本"
                )),
                Some(l)
                    if matches!(l.outcome, Outcome::Failed { .. } | Outcome::Refused { .. })
                        && now < l.at + self.retry_after.as_secs() as i64 =>
                {
                    Plan::RetryLater(format!(
                        "上次尝试 {v} 未成功（{}），{} 秒后再试",
                        l.outcome.describe(),
                        l.at + self.retry_after.as_secs() as i64 - now
                    ))
                }
                _ => Plan::Install(v),
            },
        }
    }

    /// One step about `rollout`: plan, then install, record or wait (see the module doc).
    /// Returns the plan and, when something was recorded, the report.
    pub fn step(
        &self,
        rollout: Option<&Rollout>,
        device_id: &str,
        now: i64,
    ) -> (Plan, Option<UpdateReport>) {
        self.keep_rollout(rollout, now);
        let plan = self.plan(rollout, device_id, now);
        let version = rollout.map(|r| r.version.clone()).unwrap_or_default();
        let report = match &plan {
            Plan::Stay | Plan::RetryLater(_) | Plan::Broken(_) => {
                self.memory().waiting = None;
                None
            }
            Plan::Wait(why) => {
                let first = {
                    let mut m = self.memory();
                    m.waiting = Some(format!("{version}：{why}"));
                    let key = (version.clone(), why.clone());
                    let first = m.waiting_audited.as_ref() != Some(&key);
                    m.waiting_audited = Some(key);
                    first
                };
                if first {
                    self.audit(&format!(
                        "{} {version} 暂缓安装：{why}",
                        self.updater.package
                    ));
                }
                None
            }
            Plan::Refuse(why) => self.record(
                &version,
                Outcome::Refused {
                    reason: why.clone(),
                },
                now,
            ),
            Plan::Install(v) if self.delegate => {
                self.ask_root_service(v);
                None
            }
            Plan::Install(v) => Some(self.install(v, now)),
        };
        if matches!(plan, Plan::Refuse(_)) || matches!(plan, Plan::Install(_) if !self.delegate) {
            self.memory().waiting = None;
        }
        self.refresh_memory();
        (plan, report)
    }

    /// A due version this process cannot install: the root update service is asked (once
    /// per version audited; the request is written again at each answer while it stays due).
    fn ask_root_service(&self, version: &str) {
        let why =
            format!("{version}：已请求以 root 运行的更新服务（ykb-terminal-update.service）安装");
        let first = {
            let mut m = self.memory();
            let first = m.waiting.as_deref() != Some(why.as_str());
            m.waiting = Some(why.clone());
            first
        };
        match request_apply(&self.updater.state_dir, version) {
            Ok(()) if first => self.audit(&format!("{} {why}", self.updater.package)),
            Ok(()) => {}
            Err(e) => tracing::warn!(error = %e, "update: install request not written"),
        }
    }

    fn install(&self, version: &str, now: i64) -> UpdateReport {
        let from = self.memory().installed.clone();
        self.audit(&format!(
            "{} 开始安装 {version}（原版本 {}）：无群众办事，无办件提交中",
            self.updater.package,
            from.as_deref().unwrap_or("未安装")
        ));
        match self.updater.apply(version) {
            Ok(report) => {
                if let Outcome::RolledBack { reason, .. } = &report.outcome {
                    self.audit(&format!(
                        "{} {version} 健康检查未通过：{reason}",
                        self.updater.package
                    ));
                }
                self.audit(&report.line());
                report
            }
            Err(e) => {
                let reason = e.to_string();
                let outcome = match e {
                    UpdateError::Unsigned(_) | UpdateError::Keyring(_) => {
                        Outcome::Refused { reason }
                    }
                    _ => Outcome::Failed { reason },
                };
                tracing::warn!(
                    "update: {} {version} not installed: {}",
                    self.updater.package,
                    outcome.describe()
                );
                self.record(version, outcome, now)
                    .unwrap_or_else(|| self.memory().last.clone().expect("just recorded"))
            }
        }
    }

    /// Keeps a refusal or failure as the last report and audits it — once: the same one
    /// again (the next heartbeat's same rollout) changes nothing. Returns it when new.
    fn record(&self, version: &str, outcome: Outcome, now: i64) -> Option<UpdateReport> {
        let installed = self.updater.installed().ok().flatten();
        let report = UpdateReport {
            package: self.updater.package.clone(),
            from: installed.clone(),
            to: version.to_owned(),
            now: installed,
            at: now,
            outcome,
        };
        let same = self.memory().last.as_ref().is_some_and(|l| {
            (&l.to, &l.outcome, &l.now) == (&report.to, &report.outcome, &report.now)
        });
        if same && !matches!(report.outcome, Outcome::Failed { .. }) {
            return None;
        }
        if let Err(e) = self.updater.save_report(&report) {
            tracing::warn!(error = %e, "update: report not kept");
        }
        self.audit(&report.line());
        self.memory().last = Some(report.clone());
        Some(report)
    }

    fn keep_rollout(&self, rollout: Option<&Rollout>, now: i64) {
        let seen = SeenRollout {
            at: now,
            rollout: rollout.cloned(),
        };
        let path = self.updater.state_dir.join(ROLLOUT_FILE);
        let write = std::fs::create_dir_all(&self.updater.state_dir).and_then(|()| {
            let tmp = path.with_extension("json.tmp");
            std::fs::write(&tmp, serde_json::to_vec_pretty(&seen).unwrap_or_default())?;
            std::fs::rename(&tmp, &path)
        });
        if let Err(e) = write {
            tracing::warn!(error = %e, "update: rollout not kept");
        }
    }

    fn audit(&self, detail: &str) {
        let detail = crate::core::privacy::mask_long_numbers(detail);
        tracing::info!("update: {detail}");
        if let Err(e) = audit::append(
            &mut lock(&self.store),
            &Actor::system(),
            AuditAction::SoftwareUpdate,
            &detail,
        ) {
            tracing::warn!(error = %e, "update: audit entry not written");
        }
    }
}

/// What the platform last asked for, as the agent kept it (`rollout.json`).
pub fn seen_rollout(updater: &Updater) -> Option<SeenRollout> {
    let bytes = std::fs::read(updater.state_dir.join(ROLLOUT_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_install_request_is_taken_once_with_its_version() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("update");
        assert_eq!(take_apply_request(&state), None);
        request_apply(&state, "1.4.0-1").unwrap();
        request_apply(&state, "1.5.0-1").unwrap();
        assert!(state.join(APPLY_REQUEST_FILE).is_file());
        assert_eq!(take_apply_request(&state).as_deref(), Some("1.5.0-1"));
        assert_eq!(take_apply_request(&state), None);
    }

    #[test]
    fn only_root_installs_into_the_system_but_anyone_into_a_root_of_its_own() {
        assert!(can_install(std::path::Path::new("/tmp/some-root")));
        // SAFETY: as in `can_install`.
        let root = unsafe { libc::geteuid() } == 0;
        assert_eq!(can_install(std::path::Path::new("/")), root);
    }
}
