//! Operations subcommands for technicians: `provision`, `selftest`, `reregister`,
//! `audit verify|list` and `agent` (the systemd service). The work lives in `crate::ops` and `crate::core::audit`;
//! this file parses, prompts and prints.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};

use super::common::{open_core, runtime};
use super::{Cli, EXIT_CONFIG, EXIT_FAILURE};
use crate::core::audit::{self, Actor, AuditAction};
use crate::core::config::{PlatformMode, TerminalKind};
use crate::core::credentials::{self, CredentialError};
use crate::core::domain::RegionCode;
use crate::core::platform::{wire, PlatformError};
use crate::core::sync;
use crate::ops::provision::{self, ProvisionError, ProvisionRequest};
use crate::ops::selftest::{self, Outcome, SelftestOptions};

/// Default profile path of an installed terminal.
pub const DEFAULT_CONFIG_OUT: &str = "/etc/ykb-terminal/terminal.toml";
/// Default data directory of an installed terminal.
pub const DEFAULT_DATA_DIR: &str = "/var/lib/ykb-terminal";

/// Terminal kinds a technician can provision.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    /// Self-service kiosk (also 24-hour zones).
    Kiosk,
    /// 一窗综办 counter terminal.
    Counter,
    /// Self-service terminal at a bank branch.
    Bank,
    /// Self-service terminal at a post office.
    Post,
}

impl From<KindArg> for TerminalKind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Kiosk => Self::Kiosk,
            KindArg::Counter => Self::Counter,
            KindArg::Bank => Self::Bank,
            KindArg::Post => Self::Post,
        }
    }
}

/// `provision …` — every flag may be left out in a terminal session and is then asked for.
#[derive(Debug, Args)]
pub struct ProvisionArgs {
    /// 6-digit region code (行政区划代码) of the site, e.g. 500103.
    #[arg(long, value_name = "CODE")]
    pub region: Option<String>,
    /// Where the terminal stands (shown to operations), e.g. "渝中区政务服务中心 24小时自助服务区".
    #[arg(long)]
    pub site: Option<String>,
    /// Terminal kind.
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
    /// Terminal name (default: site and kind).
    #[arg(long)]
    pub name: Option<String>,
    /// The technician's id (工号), recorded in the audit log.
    #[arg(long, value_name = "ID")]
    pub operator: Option<String>,
    /// One-time enrolment code from platform operations.
    #[arg(long, value_name = "CODE")]
    pub enrolment_code: Option<String>,
    /// Platform base URL including /v1 (https://…; http only to loopback).
    #[arg(long, value_name = "URL")]
    pub platform: Option<String>,
    /// File with the platform's catalogue verifying key (64 hex digits).
    #[arg(long, value_name = "FILE")]
    pub catalog_key: Option<PathBuf>,
    /// Where to write the profile.
    #[arg(long, value_name = "FILE", default_value = DEFAULT_CONFIG_OUT)]
    pub config_out: PathBuf,
    /// PEM file of the platform CA to pin (platform.ca_file).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// HTTP(S) proxy URL (platform.proxy), for bank and post networks.
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `selftest [--json]`
#[derive(Debug, Args)]
pub struct SelftestArgs {
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// The technician's id (工号) for the audit log (default: the terminal itself).
    #[arg(long, value_name = "ID")]
    pub operator: Option<String>,
    /// Seconds to wait for a test card on a real ID-card reader.
    #[arg(long, default_value_t = 20, value_name = "SECS")]
    pub card_timeout: u64,
    /// Do not print a test page (status only).
    #[arg(long)]
    pub no_print: bool,
}

/// `reregister --enrolment-code CODE --operator ID`
#[derive(Debug, Args)]
pub struct ReregisterArgs {
    /// New one-time enrolment code from platform operations.
    #[arg(long, value_name = "CODE")]
    pub enrolment_code: String,
    /// The technician's id (工号), recorded in the audit log.
    #[arg(long, value_name = "ID")]
    pub operator: String,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; exit 0 when intact, 1 naming the first broken entry.
    Verify {
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
        /// Also check that the chain still holds every head the platform anchored (sent in
        /// heartbeats and self-test reports): finds a chain rewritten with recomputed hashes.
        #[arg(long)]
        against_platform: bool,
    },
    /// List the entries (who did what, when; no personal data).
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// `agent` — the service loop.
#[derive(Debug, Args)]
pub struct AgentArgs {
    /// Stop after this many heartbeats (for tests and a quick check by hand).
    #[arg(long, value_name = "N")]
    pub beats: Option<u64>,
}

/// Asks for a missing value on a terminal; `None` when stdin is not one.
fn ask(label: &str) -> Result<Option<String>, ExitCode> {
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    eprint!("{label}：");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| {
        eprintln!("无法读取输入：{e}");
        ExitCode::from(EXIT_FAILURE)
    })?;
    Ok(Some(line.trim().to_owned()))
}

/// `provision`: flags, or questions for what is missing when run in a terminal.
pub fn run_provision(cli: &Cli, a: &ProvisionArgs) -> ExitCode {
    let mut missing = Vec::new();
    let mut value = |given: &Option<String>, flag: &str, label: &str| -> Option<String> {
        match given {
            Some(v) => Some(v.clone()),
            None => match ask(label) {
                Ok(Some(v)) if !v.is_empty() => Some(v),
                _ => {
                    missing.push(flag.to_owned());
                    None
                }
            },
        }
    };
    let region = value(&a.region, "--region", "区划代码（6 位，如 500103）");
    let site = value(&a.site, "--site", "站点（终端所在位置）");
    let kind = value(
        &a.kind.map(|k| {
            k.to_possible_value()
                .map(|v| v.get_name().to_owned())
                .unwrap_or_default()
        }),
        "--kind",
        "终端类型（kiosk/counter/bank/post）",
    );
    let operator = value(&a.operator, "--operator", "技术人员工号");
    let code = value(&a.enrolment_code, "--enrolment-code", "平台注册码");
    let platform = value(&a.platform, "--platform", "平台地址（https://…/v1）");
    let key = value(
        &a.catalog_key.as_ref().map(|p| p.display().to_string()),
        "--catalog-key",
        "平台目录签名公钥文件",
    );
    let (
        Some(region),
        Some(site),
        Some(kind),
        Some(operator),
        Some(code),
        Some(platform),
        Some(key),
    ) = (region, site, kind, operator, code, platform, key)
    else {
        eprintln!(
            "缺少参数：{}。请在命令行给出（批量部署），或在终端中直接运行 ykb-terminal provision 按提示输入。",
            missing.join(" ")
        );
        return ExitCode::from(EXIT_CONFIG);
    };
    let bad = |msg: String| {
        eprintln!("{msg}");
        ExitCode::from(EXIT_CONFIG)
    };
    let region = match RegionCode::new(region.trim()) {
        Ok(r) => r,
        Err(_) => {
            return bad(format!(
                "区划代码 {region:?} 无效：应为 6 位数字，如 500103"
            ))
        }
    };
    let kind = match KindArg::from_str(kind.trim(), true) {
        Ok(k) => TerminalKind::from(k),
        Err(_) => {
            return bad(format!(
                "终端类型 {kind:?} 无效：应为 kiosk、counter、bank 或 post"
            ))
        }
    };
    let operator = match Actor::technician(operator.trim()) {
        Ok(o) => o,
        Err(e) => return bad(e.to_string()),
    };
    // Optional settings are asked for only in a terminal session; Enter leaves them empty.
    let optional = |given: &Option<String>, label: &str| -> Option<String> {
        given.clone().or_else(|| {
            ask(label)
                .ok()
                .flatten()
                .filter(|v| !v.trim().is_empty())
                .map(|v| v.trim().to_owned())
        })
    };
    let proxy = optional(
        &a.proxy,
        "HTTP 代理地址（银行、邮政网络通常需要；没有请直接回车）",
    );
    let ca_file = optional(
        &a.ca_file.as_ref().map(|p| p.display().to_string()),
        "平台 CA 证书文件（固定证书；没有请直接回车）",
    )
    .map(PathBuf::from);
    let req = ProvisionRequest {
        region,
        site: site.trim().to_owned(),
        kind,
        name: a.name.clone(),
        operator,
        enrolment_code: code,
        platform_url: platform.trim().to_owned(),
        catalog_key_file: PathBuf::from(key),
        config_out: a.config_out.clone(),
        data_dir: cli
            .data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
        ca_file,
        proxy,
    };
    let rt = match runtime() {
        Ok(r) => r,
        Err(c) => return c,
    };
    match rt.block_on(provision::provision(&req)) {
        Ok(done) => {
            if a.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&done).unwrap_or_default()
                );
            } else {
                println!("部署完成：设备号 {}", done.device_id);
                println!("配置文件：{}", done.config.display());
                println!("数据目录：{}", done.data_dir.display());
                println!(
                    "下一步：ykb-terminal --config {} selftest，然后 systemctl enable --now ykb-terminal ykb-kiosk",
                    done.config.display()
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            match e {
                ProvisionError::Input(_) => ExitCode::from(EXIT_CONFIG),
                _ => ExitCode::from(EXIT_FAILURE),
            }
        }
    }
}

fn outcome_zh(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "通过",
        Outcome::Warn => "注意",
        Outcome::Fail => "失败",
        Outcome::Skipped => "跳过",
    }
}

/// `selftest [--json]`: exit 0 when no check failed and the platform received the report, 1
/// otherwise; the report is printed either way and says whether it was sent.
pub fn run_selftest(cli: &Cli, a: &SelftestArgs) -> ExitCode {
    let actor = match &a.operator {
        Some(id) => match Actor::technician(id) {
            Ok(o) => o,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(EXIT_CONFIG);
            }
        },
        None => Actor::system(),
    };
    let mut core = match open_core(cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let opts = SelftestOptions {
        card_timeout: Duration::from_secs(a.card_timeout.clamp(1, 600)),
        print: !a.no_print,
        sim_out: core.data_dir.join("selftest"),
    };
    let report = selftest::run(&mut core, &opts);
    let failed = report
        .checks
        .iter()
        .filter(|c| c.outcome == Outcome::Fail)
        .count();
    let detail = format!(
        "自检：{} 项，失败 {failed} 项，报告{}",
        report.checks.len(),
        if report.delivery.sent {
            "已发送平台"
        } else {
            "未发送平台"
        }
    );
    if let Err(e) = audit::append(&mut core.store, &actor, AuditAction::Selftest, &detail) {
        eprintln!("审计日志写入失败：{e}");
    }
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        println!(
            "自检 {}（{}，版本 {}）",
            report.terminal, report.at, report.app_version
        );
        for c in &report.checks {
            println!("[{}] {}：{}", outcome_zh(c.outcome), c.title, c.detail);
            if let Some(adv) = &c.advice {
                println!("       处理：{adv}");
            }
        }
        if report.passed {
            println!("结果：全部通过");
        } else {
            println!("结果：{failed} 项失败，请按上面的提示处理后重新自检");
        }
        println!("{}", report.delivery.detail);
    }
    if report.passed && report.delivery.sent {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILURE)
    }
}

/// `audit verify --against-platform`: the local chain, then the platform's anchors.
fn verify_against_platform(core: &mut crate::core::Core, json: bool) -> ExitCode {
    let local = match audit::verify(&mut core.store) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let client = match sync::platform_client(&core.profile, &core.data_dir, None) {
        Ok(c) => c,
        Err((e, _)) => {
            eprintln!("{e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let base = client.config().base_url.clone();
    match credentials::stored(&mut core.store, &core.key, &base) {
        Ok(Some(c)) => client.set_credentials(c),
        Ok(None) => {
            eprintln!("本终端尚未在平台 {base} 注册，无法与平台核对审计日志");
            return ExitCode::from(EXIT_CONFIG);
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    }
    let rt = match runtime() {
        Ok(r) => r,
        Err(c) => return c,
    };
    let anchors = match rt.block_on(client.audit_anchors()) {
        Ok(a) => a,
        Err(e) => {
            eprintln!(
                "无法向平台核对审计日志（{e}）；本机校验结果：{}",
                if local.is_intact() {
                    "完好"
                } else {
                    "损坏"
                }
            );
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let entries = match audit::list(&mut core.store) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let pairs: Vec<(u64, String)> = anchors
        .anchors
        .iter()
        .map(|a| (a.seq, a.hash.clone()))
        .collect();
    let platform = audit::check_against_anchors(&entries, &pairs);
    if json {
        let v = serde_json::json!({ "local": local, "platform": platform });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else if let Some(b) = &local.broken {
        println!(
            "审计日志校验失败：第 {} 条记录 —— {}。请保留数据目录原样并报告安全管理员。",
            b.seq, b.reason
        );
    } else if let Some(b) = &platform.rewritten {
        println!(
            "审计日志与平台记录不符（已被改写）：第 {} 条记录 —— {}。本机日志自身的哈希链虽然完整，但与平台记下的链头矛盾。请保留数据目录原样并报告安全管理员。",
            b.seq, b.reason
        );
    } else {
        println!(
            "审计日志完好，并与平台记下的 {} 个链头一致：共 {} 条记录，链头 {}",
            platform.anchors, local.entries, local.head
        );
    }
    if local.is_intact() && platform.is_consistent() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILURE)
    }
}

/// `audit verify|list`
pub fn run_audit(cli: &Cli, cmd: &AuditCommand) -> ExitCode {
    let mut core = match open_core(cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match cmd {
        AuditCommand::Verify {
            json,
            against_platform: true,
        } => verify_against_platform(&mut core, *json),
        AuditCommand::Verify { json, .. } => match audit::verify(&mut core.store) {
            Ok(r) => {
                if *json {
                    println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
                } else if let Some(b) = &r.broken {
                    println!(
                        "审计日志校验失败：第 {} 条记录 —— {}。之前的 {} 条记录完好。请保留数据目录原样并报告安全管理员。",
                        b.seq,
                        b.reason,
                        b.seq.saturating_sub(1)
                    );
                } else {
                    println!("审计日志完好：共 {} 条记录，链头 {}", r.entries, r.head);
                }
                if r.is_intact() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(EXIT_FAILURE)
                }
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(EXIT_FAILURE)
            }
        },
        AuditCommand::List { json } => match audit::list(&mut core.store) {
            Ok(entries) => {
                if *json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&entries).unwrap_or_default()
                    );
                } else {
                    for e in &entries {
                        println!(
                            "{:>5}  {}  {:<24} {:<24} {}",
                            e.seq, e.at, e.actor, e.action, e.detail
                        );
                    }
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(EXIT_FAILURE)
            }
        },
    }
}

fn announce_metrics(addr: std::net::SocketAddr) {
    println!("metrics: http://{addr}/metrics");
    let _ = std::io::stdout().flush();
}

/// `agent`: heartbeats, metrics, systemd notifications; runs until stopped.
pub fn run_agent(cli: &Cli, a: &AgentArgs) -> ExitCode {
    let core = match open_core(cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let rt = match runtime() {
        Ok(r) => r,
        Err(c) => return c,
    };
    let opts = crate::ops::agent::AgentOptions {
        on_metrics: Some(announce_metrics),
        max_beats: a.beats,
        beat_every: None,
    };
    match rt.block_on(crate::ops::agent::run(core, opts)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(EXIT_CONFIG)
        }
    }
}

/// `reregister`: a new enrolment code replaces the stored device credential (audited), or
/// nothing changes. Exit 0 when replaced, 2 for bad input, 1 otherwise.
pub fn run_reregister(cli: &Cli, a: &ReregisterArgs) -> ExitCode {
    let actor = match Actor::technician(a.operator.trim()) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if a.enrolment_code.trim().is_empty() {
        eprintln!("注册码不能为空：请填写平台运维发放的一次性注册码（--enrolment-code）");
        return ExitCode::from(EXIT_CONFIG);
    }
    let mut core = match open_core(cli) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if core.profile.platform.mode == PlatformMode::Simulator {
        eprintln!("演示配置每次启动都向本机模拟平台注册，无需重新注册。");
        return ExitCode::from(EXIT_CONFIG);
    }
    let client = match sync::platform_client(&core.profile, &core.data_dir, None) {
        Ok(c) => c,
        Err((e, _)) => {
            eprintln!("{e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let rt = match runtime() {
        Ok(r) => r,
        Err(c) => return c,
    };
    let request = wire::RegisterRequest::for_terminal(&core.profile.terminal, &a.enrolment_code);
    let result = rt.block_on(credentials::reregister(
        &client,
        &mut core.store,
        &core.key,
        &request,
        &actor,
    ));
    match result {
        Ok(r) => {
            if a.json {
                println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
            } else {
                println!(
                    "重新注册完成：设备号 {} → {}（审计记录 {}）",
                    r.previous_device_id.as_deref().unwrap_or("（无）"),
                    r.device_id,
                    r.audit_seq
                );
                println!("下一步：systemctl restart ykb-terminal（服务也会在下次心跳被拒时自动改用新凭据），然后运行 ykb-terminal selftest");
            }
            ExitCode::SUCCESS
        }
        Err(CredentialError::Platform(e @ PlatformError::Rejected { .. })) => {
            eprintln!("平台拒绝了注册码（{e}）。请核对注册码，或向平台运维申请新的注册码后重试。本机凭据未作改动。");
            ExitCode::from(EXIT_FAILURE)
        }
        Err(CredentialError::Platform(e)) => {
            eprintln!("{e}。请检查网络、代理和平台地址后重试。本机凭据未作改动。");
            ExitCode::from(EXIT_FAILURE)
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}
