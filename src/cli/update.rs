//! `update status` (what is installed, what the platform last asked for, the last outcome)
//! and `update check [--apply]` (ask the platform now, print the decision; install only with
//! `--apply`, through the same duty the agent runs: between citizens, audited).

use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::{Args, Subcommand};

use super::common::{fail, open_core, print_json, PlatformArgs};
use super::{Cli, EXIT_CONFIG, EXIT_FAILURE};
use crate::core::config::PlatformMode;
use crate::core::{health, update::UpdateReport};
use crate::ops::rollout::{self, Plan, UpdateDuty};

/// `update …`
#[derive(Debug, Subcommand)]
pub enum UpdateCommand {
    /// What is installed, what the platform last asked for, and how the last update ended
    /// (`last-update.json`).
    Status {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Ask the platform now (one heartbeat) and print what this terminal would do; installs
    /// nothing unless --apply (then only between citizens, as the agent would).
    Check(CheckArgs),
    /// The built-in health check after an install (the default when `[update]
    /// health_command` is absent): asks the app to restart between citizens, then exits 0
    /// once this version's app has drawn its first frame and the agent has had a heartbeat
    /// acknowledged since; 1 with what is missing when SECS pass first.
    Health(HealthArgs),
}

/// `update health`
#[derive(Debug, Args)]
pub struct HealthArgs {
    /// Seconds to wait for the first frame and the heartbeat.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub wait_ui: u64,
    /// The app whose first frame is awaited: `kiosk`, `counter`, `hall-display`, or `none`
    /// (a machine without a UI: only the agent is checked). Default: by the profile's
    /// terminal.kind.
    #[arg(long, value_parser = ["kiosk", "counter", "hall-display", "none"])]
    pub app: Option<String>,
}

/// `update check`
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Install when the decision is to install (health check and rollback included).
    #[arg(long)]
    pub apply: bool,
    #[command(flatten)]
    pub link: PlatformArgs,
}

/// Runs `update …`.
pub fn run_update(cli: &Cli, cmd: &UpdateCommand) -> ExitCode {
    match cmd {
        UpdateCommand::Status { json } => status(cli, *json),
        UpdateCommand::Check(args) => check(cli, args),
        UpdateCommand::Health(args) => health(cli, args),
    }
}

fn health(cli: &Cli, args: &HealthArgs) -> ExitCode {
    // Only the store is read: with --data-dir and --app the profile is not needed.
    let (data_dir, app) = match (&cli.data_dir, &args.app) {
        (Some(d), Some(a)) => (d.clone(), a.clone()),
        _ => match super::load_profile(cli) {
            Ok(p) => (
                cli.data_dir.clone().unwrap_or_else(|| p.data_dir()),
                args.app.clone().unwrap_or_else(|| {
                    crate::core::update::markers::app_for(p.terminal.kind).to_owned()
                }),
            ),
            Err(c) => return c,
        },
    };
    let ui = (app != "none").then_some(app.as_str());
    let store = data_dir.join(crate::core::STORE_FILE);
    match crate::ops::update_health::wait(&store, ui, std::time::Duration::from_secs(args.wait_ui))
    {
        Ok(()) => {
            println!(
                "健康检查通过：版本 {}{}，代理程序的心跳已被平台确认",
                crate::core::update::markers::VERSION,
                if ui.is_some() {
                    " 的界面已绘出首帧"
                } else {
                    ""
                }
            );
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("{why}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

#[derive(serde::Serialize)]
struct Status {
    enabled: bool,
    package: String,
    installed: Option<String>,
    requested: Option<rollout::SeenRollout>,
    last: Option<UpdateReport>,
}

fn status(cli: &Cli, json: bool) -> ExitCode {
    let core = match open_core(cli) {
        Ok(c) => c,
        Err(c) => return c,
    };
    let Some(u) = rollout::updater(&core.profile, &core.data_dir) else {
        eprintln!("本机配置中没有 [update] 部分：终端不会自动更新");
        return ExitCode::from(EXIT_CONFIG);
    };
    let enabled = core.profile.update.as_ref().is_some_and(|s| s.enabled);
    let installed = match u.installed() {
        Ok(v) => v,
        Err(e) => return fail(e),
    };
    let last = match u.last_report() {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let s = Status {
        enabled,
        package: u.package.clone(),
        installed,
        requested: rollout::seen_rollout(&u),
        last,
    };
    if json {
        return print_json(&s);
    }
    println!(
        "自动更新：{}",
        if s.enabled {
            "已启用"
        } else {
            "未启用（[update] enabled = false）"
        }
    );
    println!(
        "{} 已安装版本：{}",
        s.package,
        s.installed.as_deref().unwrap_or("未安装")
    );
    match &s.requested {
        None => println!("平台要求：尚未收到（代理程序还未带回心跳应答）"),
        Some(seen) => {
            let at = jiff::Timestamp::from_second(seen.at)
                .map(|t| t.to_string())
                .unwrap_or_default();
            match &seen.rollout {
                None => println!("平台要求：无更新推送（{at}）"),
                Some(r) => println!("平台要求：{}（{at}）", describe_rollout(r)),
            }
        }
    }
    match &s.last {
        None => println!("上次更新：无记录"),
        Some(r) => println!("上次更新：{}", r.line()),
    }
    ExitCode::SUCCESS
}

fn describe_rollout(r: &crate::core::update::Rollout) -> String {
    let mut who = Vec::new();
    if let Some(p) = r.percent {
        who.push(format!("{p}% 的终端"));
    }
    if !r.terminals.is_empty() {
        who.push(format!("指定 {} 台终端", r.terminals.len()));
    }
    format!(
        "版本 {}，推送给 {}{}",
        r.version,
        if who.is_empty() {
            "无".into()
        } else {
            who.join("及")
        },
        if r.pinned {
            "，锁定版本（允许降级）"
        } else {
            ""
        }
    )
}

fn check(cli: &Cli, args: &CheckArgs) -> ExitCode {
    let mut core = match open_core(cli) {
        Ok(c) => c,
        Err(c) => return c,
    };
    if !core.profile.update.as_ref().is_some_and(|u| u.enabled) {
        eprintln!("本机未启用自动更新（配置 [update] enabled = false 或没有 [update] 部分）");
        return ExitCode::from(EXIT_CONFIG);
    }
    if core.profile.platform.mode == PlatformMode::Simulator && args.link.platform.is_none() {
        eprintln!("演示配置没有真实平台：请用 --platform 指定平台地址");
        return ExitCode::from(EXIT_CONFIG);
    }
    let (client, rt) = match args.link.client_and_runtime(&core) {
        Ok(c) => c,
        Err(c) => return c,
    };
    let retry = "请先完成终端注册（ykb-terminal provision），或加 --enrolment-code 注册码";
    let asked = rt.block_on(async {
        args.link.register(&mut core, &client, retry).await?;
        let snap = health::collect(
            &mut core.store,
            &core.data_dir,
            core.profile.data.quota(),
            Default::default(),
            None,
        )
        .map_err(fail)?;
        client
            .heartbeat(&snap.heartbeat())
            .await
            .map(|ack| ack.rollout)
            .map_err(|e| fail(format!("无法从平台取得更新要求：{e}")))
    });
    let rollout = match asked {
        Ok(r) => r,
        Err(c) => return c,
    };
    let Some(device) = client.credentials().map(|c| c.device_id) else {
        return fail("本终端没有设备凭据");
    };
    let data_dir = core.data_dir.clone();
    let profile = core.profile.clone();
    let store = Arc::new(Mutex::new(core.store));
    let Some(duty) = UpdateDuty::from_profile(&profile, &data_dir, store) else {
        return fail("本机未启用自动更新");
    };
    match &rollout {
        None => println!("平台要求：无更新推送"),
        Some(r) => println!("平台要求：{}", describe_rollout(r)),
    }
    let now = jiff::Timestamp::now().as_second();
    if args.apply {
        // The agent's request (ykb-terminal-update.path) is answered by this run, whatever
        // it decides: taken first, so a run that fails is not started again at once.
        if let Some(v) = rollout::take_apply_request(&duty.updater.state_dir) {
            println!("代理程序请求安装：{v}");
        }
    }
    if !args.apply {
        let plan = duty.plan(rollout.as_ref(), &device, now);
        println!("决定：{}（未加 --apply，不安装）", plan.describe());
        return ExitCode::SUCCESS;
    }
    let (plan, report) = duty.step(rollout.as_ref(), &device, now);
    println!("决定：{}", plan.describe());
    match report {
        Some(r) => {
            println!("结果：{}", r.line());
            if matches!(r.outcome, crate::core::update::Outcome::Installed) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_FAILURE)
            }
        }
        None if matches!(plan, Plan::Stay | Plan::Wait(_)) => ExitCode::SUCCESS,
        None => ExitCode::from(EXIT_FAILURE),
    }
}
