//! Executes the remote commands a heartbeat answer carries, in order. Each goes through
//! `core::commands::receive` first (signature, device, expiry, replay, name — recorded and
//! audited in one transaction); only an accepted one runs, exactly once, and its result is
//! recorded with `core::commands::finish` for the next heartbeat to acknowledge.
//!
//! What each does here: `resync` fetches and applies a full snapshot on a store connection
//! of its own; `selftest` runs `ops::selftest` on a thread of its own (no test page is
//! printed remotely) and sends its report; `collect-diagnostics` uploads
//! `ops::diagnostics::document`; `retry-dead-letters` re-enters the dead letters and wakes
//! the outbox worker; `maintenance on|off` and `restart` set the switches the apps read
//! (`core::commands::maintenance_requested`, `restart_requested`): the kiosk and counter act
//! on them when no citizen is being served, so the result says "requested", not "done".

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::core::commands::{self, Command, SWITCH_MAINTENANCE, SWITCH_RESTART};
use crate::core::config::Profile;
use crate::core::platform::wire::OpsCommand;
use crate::core::platform::PlatformClient;
use crate::core::store::Store;
use crate::core::{outbox, sync};

/// What the commands act on.
pub struct Executor {
    /// The agent's store connection.
    pub store: Arc<Mutex<Store>>,
    /// The platform client (its credentials name this terminal; its catalogue key verifies
    /// commands).
    pub client: Arc<PlatformClient>,
    /// The profile.
    pub profile: Profile,
    /// The data directory.
    pub data_dir: PathBuf,
    /// Wakes the outbox worker.
    pub wake_outbox: Arc<tokio::sync::Notify>,
}

fn lock(store: &Arc<Mutex<Store>>) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|e| e.into_inner())
}

impl Executor {
    /// Receives and runs `received`, in order; returns how many were executed and how many
    /// refused.
    pub async fn run_all(&self, received: &[OpsCommand]) -> (u64, u64) {
        let Some(device) = self.client.credentials().map(|c| c.device_id) else {
            return (0, 0);
        };
        let key = self.client.config().catalog_key;
        let (mut executed, mut refused) = (0, 0);
        for cmd in received {
            let now = jiff::Timestamp::now().as_second();
            let decision = commands::receive(&mut lock(&self.store), cmd, &key, &device, now);
            let command = match decision {
                Ok(Ok(c)) => c,
                Ok(Err(refusal)) => {
                    tracing::warn!(id = %cmd.id, reason = %refusal, "remote command refused");
                    refused += 1;
                    continue;
                }
                Err(e) => {
                    tracing::error!(error = %e, "remote command not recorded; not executed");
                    continue;
                }
            };
            tracing::info!(id = %cmd.id, command = command.label(), "executing remote command");
            let result = self.execute(command, &cmd.id).await;
            let now = jiff::Timestamp::now().as_second();
            if let Err(e) = &result {
                tracing::warn!(id = %cmd.id, command = command.label(), error = %e, "remote command failed");
            }
            if let Err(e) = commands::finish(&mut lock(&self.store), &cmd.id, command, result, now)
            {
                tracing::error!(error = %e, "remote command result not recorded");
            }
            executed += 1;
        }
        (executed, refused)
    }

    async fn execute(&self, command: Command, id: &str) -> Result<String, String> {
        let now = jiff::Timestamp::now();
        match command {
            Command::Resync => {
                let path = lock(&self.store).path().to_owned();
                let mut store = Store::open(&path).map_err(|e| e.to_string())?;
                let region = self.profile.terminal.region_code;
                let report = sync::sync_once(&self.client, &mut store, region, true, &|_| {})
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(format!("目录已全量同步到第 {} 版", report.version))
            }
            Command::Selftest => {
                let (profile, data_dir) = (self.profile.clone(), self.data_dir.clone());
                let (tx, rx) = tokio::sync::oneshot::channel();
                std::thread::Builder::new()
                    .name("remote-selftest".into())
                    .spawn(move || {
                        let report = crate::core::Core::start(profile, &data_dir)
                            .map_err(|e| e.to_string())
                            .map(|mut core| {
                                let opts = crate::ops::selftest::SelftestOptions {
                                    card_timeout: std::time::Duration::from_secs(5),
                                    print: false,
                                    sim_out: data_dir.join("selftest"),
                                };
                                crate::ops::selftest::run(&mut core, &opts)
                            });
                        let _ = tx.send(report);
                    })
                    .map_err(|e| e.to_string())?;
                let report = rx.await.map_err(|_| "自检线程意外结束".to_owned())??;
                let verdict = if report.passed {
                    "自检通过"
                } else {
                    "自检未通过"
                };
                let line = format!("{verdict}；{}", report.delivery.detail);
                if report.passed {
                    Ok(line)
                } else {
                    Err(line)
                }
            }
            Command::CollectDiagnostics => {
                let doc = crate::ops::diagnostics::document(
                    &mut lock(&self.store),
                    &self.profile,
                    &self.data_dir,
                )?;
                let r = self
                    .client
                    .upload_diagnostics(&doc)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(format!(
                    "诊断信息已上传（{}，{} 字节）",
                    r.report_id, r.bytes
                ))
            }
            Command::RetryDeadLetters => {
                let n =
                    outbox::retry_dead(&mut lock(&self.store), now).map_err(|e| e.to_string())?;
                self.wake_outbox.notify_one();
                Ok(format!("{n} 条失败记录已重新排队"))
            }
            Command::Maintenance(on) => {
                commands::set_switch(
                    &mut lock(&self.store),
                    SWITCH_MAINTENANCE,
                    if on { "on" } else { "off" },
                    Some(id),
                    now.as_second(),
                )
                .map_err(|e| e.to_string())?;
                Ok(if on {
                    "已请求进入维护模式：当前群众办完后显示维护页面".into()
                } else {
                    "已请求退出维护模式".into()
                })
            }
            Command::Restart => {
                commands::set_switch(
                    &mut lock(&self.store),
                    SWITCH_RESTART,
                    "requested",
                    Some(id),
                    now.as_second(),
                )
                .map_err(|e| e.to_string())?;
                Ok("已安排重启：无群众办事时程序重新启动".into())
            }
        }
    }
}
