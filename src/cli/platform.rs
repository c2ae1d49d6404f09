//! Platform subcommands: `sync`, `search`, `catalog show` and `platform-sim`.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Mutex;

use clap::{Args, ValueEnum};

use super::common::{fail, open_core, runtime, PlatformArgs};
use super::{finish_output, Cli, EXIT_FAILURE};
use crate::core::config::PlatformMode;
use crate::core::domain::Audience;
use crate::core::search::{self, Filters};
use crate::core::sync::{self, SyncPhase, SyncProgress};
use crate::core::{credentials, outbox, Core};
use crate::sim::platform::{Faults, SimOptions};

/// `sync [--full]`
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Download the whole catalogue instead of the changes since the last sync.
    #[arg(long)]
    pub full: bool,
    /// `--platform` and `--enrolment-code` (the code is needed on the first sync only).
    #[command(flatten)]
    pub link: PlatformArgs,
    /// After the catalogue, deliver every queued case and event that is due now, in order,
    /// and report what happened (delivered, retry later, rejected).
    #[arg(long)]
    pub drain: bool,
}

/// Audience filter values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AudienceArg {
    /// 个人 (natural persons).
    Person,
    /// 法人 (legal persons).
    Legal,
}

/// `search QUERY [--json]`
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Chinese text, full pinyin or pinyin initials (e.g. 身份证, shenfenzheng, sfz). Empty
    /// browses every matter passing the filters.
    #[arg(default_value = "")]
    pub query: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Only matters for this audience.
    #[arg(long, value_enum)]
    pub audience: Option<AudienceArg>,
    /// Only this department (e.g. 公安户政).
    #[arg(long)]
    pub department: Option<String>,
    /// Only this life event (e.g. 生育收养).
    #[arg(long)]
    pub life_event: Option<String>,
    /// Only matters that can be handled on this terminal (可在本机办理).
    #[arg(long)]
    pub self_service: bool,
    /// At most this many results.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
}

/// `platform-sim --listen ADDR [--matters N] [fault flags]`
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Address to listen on (loopback for tests and the demo).
    #[arg(long, default_value = "127.0.0.1:8480")]
    pub listen: SocketAddr,
    /// Generate this many matters instead of serving the demo catalogue.
    #[arg(long)]
    pub matters: Option<usize>,
    /// Seed for generated data and fault decisions.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Delay every answer by this many milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Fraction (0–1) of requests answered with --error-status.
    #[arg(long, default_value_t = 0.0)]
    pub error_rate: f64,
    /// Status of injected errors: 500, 503 or 429.
    #[arg(long, default_value_t = 503)]
    pub error_status: u16,
    /// Retry-After seconds for 503/429 and outages.
    #[arg(long, default_value_t = 5)]
    pub retry_after: u64,
    /// Fraction (0–1) of connections reset.
    #[arg(long, default_value_t = 0.0)]
    pub reset_rate: f64,
    /// Fraction (0–1) of answers cut short.
    #[arg(long, default_value_t = 0.0)]
    pub truncate_rate: f64,
    /// Start in an outage (every /v1 request gets 503).
    #[arg(long)]
    pub outage: bool,
    /// Seconds of outage from start (an outage window).
    #[arg(long)]
    pub outage_secs: Option<i64>,
    /// Seconds added to the simulator's clock.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    pub clock_skew: i64,
    /// Sign catalogue documents with the wrong key.
    #[arg(long)]
    pub bad_signature: bool,
}

/// `sync [--full]`: registers if needed, syncs once, prints progress (stderr) and a summary.
pub fn run_sync(cli: &Cli, args: &SyncArgs) -> ExitCode {
    let mut core = match open_core(cli) {
        Ok(c) => c,
        Err(c) => return c,
    };
    // The demo without --platform syncs from a simulator of its own (registered there).
    let own_sim =
        core.profile.platform.mode == PlatformMode::Simulator && args.link.platform.is_none();
    let client = match own_sim {
        true => None,
        false => match args.link.client(&core) {
            Ok(c) => Some(c),
            Err(c) => return c,
        },
    };
    let rt = match runtime() {
        Ok(r) => r,
        Err(c) => return c,
    };
    rt.block_on(async move {
        let (sim, client) = match client {
            Some(c) => (None, c),
            None => match crate::sim::demo::start_registered(&mut core).await {
                Ok(d) => (Some(d.sim), d.client),
                Err((e, _)) => return fail(e),
            },
        };
        let retry = "请向平台运维申请注册码，然后运行：ykb-terminal sync --enrolment-code 注册码";
        if let Err(c) = args.link.register(&mut core, &client, retry).await {
            return c;
        }
        // Delivery first: a slow or stuck catalogue server must not keep citizens' cases on
        // the terminal (the catalogue call has its own whole-request deadline too).
        let drained = match args.drain {
            true => drain_and_report(&core, &client).await,
            false => ExitCode::SUCCESS,
        };
        let region = core.profile.terminal.region_code;
        let last = Mutex::new((SyncPhase::Done, 0u64));
        let progress = |p: SyncProgress| print_progress(&last, p);
        let result = sync::sync_once(&client, &mut core.store, region, args.full, &progress).await;
        let code = match result {
            Ok(r) => {
                let kind = match r.kind {
                    sync::SyncKind::Full => "完整同步",
                    sync::SyncKind::Delta => "增量同步",
                };
                println!(
                    "{kind}完成：目录版本 {}，写入 {} 项，删除 {} 项，区县要素 {} 项（区划 {region}），用时 {} 毫秒",
                    r.version, r.matters_written, r.matters_removed, r.district_overrides, r.elapsed_ms
                );
                drained
            }
            Err(e) => {
                eprintln!("{e}");
                if let sync::SyncError::Platform(p) = &e {
                    if credentials::is_refused(p) {
                        eprintln!("{}", credentials::CREDENTIAL_REFUSED_ADVICE);
                    }
                }
                ExitCode::from(EXIT_FAILURE)
            }
        };
        if let Some(s) = sim {
            s.shutdown().await;
        }
        code
    })
}

/// `sync --drain`'s delivery pass, on its own connection to the store: delivers what is
/// due, prints what it did and what holds the rest.
async fn drain_and_report(core: &Core, client: &crate::core::platform::PlatformClient) -> ExitCode {
    let quota = core.quota();
    let store = match crate::core::store::Store::open(&core.data_dir.join(crate::core::STORE_FILE))
    {
        Ok(s) => Mutex::new(s),
        Err(e) => {
            eprintln!("暂存队列：{e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let steps = match outbox::drain(
        &store,
        &core.key,
        client,
        outbox::Backoff::default(),
        jiff::Timestamp::now,
    )
    .await
    {
        Ok(steps) => steps,
        Err(e) => {
            eprintln!("暂存队列：{e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let (mut delivered, mut dead, mut set_aside, mut retry) = (0, 0, 0, None);
    for s in &steps {
        match s {
            outbox::Step::Delivered { .. } => delivered += 1,
            outbox::Step::DeadLettered { .. } => dead += 1,
            outbox::Step::Quarantined { .. } => set_aside += 1,
            outbox::Step::Retry { error, next_ms, .. } => retry = Some((error.clone(), *next_ms)),
            _ => {}
        }
    }
    let status = outbox::status(&mut store.lock().unwrap_or_else(|p| p.into_inner()), quota)
        .unwrap_or_default();
    println!(
        "暂存队列：已提交 {delivered} 项，被平台拒绝 {dead} 项，因数据无法读取而搁置 {set_aside} 项，仍待提交 {} 项",
        status.pending
    );
    let mut code = ExitCode::SUCCESS;
    if let Some(why) = &status.paused_reason {
        eprintln!("暂存队列：{why}");
        code = ExitCode::from(EXIT_FAILURE);
    }
    if let Some((error, next_ms)) = retry {
        let when = jiff::Timestamp::from_millisecond(next_ms)
            .map(|t| t.to_string())
            .unwrap_or_default();
        eprintln!("暂存队列：{error}；将于 {when} 重试");
        code = ExitCode::from(EXIT_FAILURE);
    }
    code
}

fn print_progress(last: &Mutex<(SyncPhase, u64)>, p: SyncProgress) {
    let mut l = last.lock().unwrap_or_else(|e| e.into_inner());
    // One line per phase, then at most every tenth of the way.
    let tenth = (p.total / 10).max(1);
    if l.0 == p.phase && p.done / tenth == l.1 / tenth && p.done != p.total {
        return;
    }
    *l = (p.phase, p.done);
    let what = match p.phase {
        SyncPhase::Downloading => "下载",
        SyncPhase::Verifying => "校验",
        SyncPhase::Applying => "写入",
        SyncPhase::Done => "完成",
    };
    if p.phase == SyncPhase::Downloading {
        let kb = p.done / 1024;
        if p.total > 0 {
            eprintln!("{what} {kb} / {} KB", p.total / 1024);
        } else {
            eprintln!("{what} {kb} KB");
        }
    } else {
        eprintln!("{what} {}/{}", p.done, p.total);
    }
}

/// `search QUERY [--json]`
pub fn run_search(cli: &Cli, args: &SearchArgs) -> ExitCode {
    let mut core = match open_core(cli) {
        Ok(c) => c,
        Err(c) => return c,
    };
    if let Err(e) = search::ensure_index(&mut core.store) {
        eprintln!("{e}");
        return ExitCode::from(EXIT_FAILURE);
    }
    let filters = Filters {
        audience: args.audience.map(|a| match a {
            AudienceArg::Person => Audience::NaturalPerson,
            AudienceArg::Legal => Audience::LegalPerson,
        }),
        department: args.department.clone(),
        life_event: args.life_event.clone(),
        self_service_only: args.self_service,
    };
    let hits = match search::search(core.store.conn(), &args.query, &filters, args.limit) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let mut out = std::io::stdout().lock();
    let result = if args.json {
        serde_json::to_writer_pretty(&mut out, &hits)
            .map_err(std::io::Error::from)
            .and_then(|_| writeln!(out))
    } else if hits.is_empty() {
        writeln!(
            out,
            "没有找到与“{}”相关的事项。可以换个说法，或输入拼音首字母（如 sfz 查身份证）。",
            args.query
        )
    } else {
        hits.iter().try_for_each(|h| {
            let badge = if h.self_service {
                "可在本机办理"
            } else {
                ""
            };
            writeln!(
                out,
                "{:<40} {:<10} {} {}",
                h.task_code, h.department, h.name, badge
            )
        })
    };
    finish_output(result)
}

/// `catalog show CODE [--json]`: one matter as this terminal holds it (district values
/// applied).
pub fn catalog_show(cli: &Cli, code: &str, json: bool) -> ExitCode {
    let core = match open_core(cli) {
        Ok(c) => c,
        Err(c) => return c,
    };
    let matter = match core.store.matter(code) {
        Ok(Some(m)) => m,
        Ok(None) => {
            eprintln!("本机目录中没有实施编码为 {code} 的事项。可用 ykb-terminal search 关键词 查找编码。");
            return ExitCode::from(EXIT_FAILURE);
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let mut out = std::io::stdout().lock();
    let result = if json {
        serde_json::to_writer_pretty(&mut out, &matter)
            .map_err(std::io::Error::from)
            .and_then(|_| writeln!(out))
    } else {
        (|| {
            writeln!(out, "{}（{}）", matter.name, matter.task_code)?;
            writeln!(
                out,
                "部门：{}    实施主体：{}",
                matter.department, matter.implementing_body.name
            )?;
            writeln!(
                out,
                "承诺时限：{}    法定时限：{}    到现场 {} 次    {}",
                matter.promised_time_limit.display_zh(),
                matter.legal_time_limit.display_zh(),
                matter.visits,
                if matter.self_service {
                    "可在本机办理"
                } else {
                    "需到窗口办理"
                }
            )?;
            writeln!(out, "办理地点：{}", matter.local.address)?;
            writeln!(out, "办理时间：{}", matter.local.hours)?;
            writeln!(out, "咨询电话：{}", matter.local.phone)?;
            if !matter.aliases.is_empty() {
                writeln!(out, "又称：{}", matter.aliases.join("、"))?;
            }
            writeln!(out, "申请材料：")?;
            for m in &matter.materials {
                writeln!(out, "  - {}", m.name)?;
            }
            Ok(())
        })()
    };
    finish_output(result)
}

/// `platform-sim --listen ADDR …`: runs the simulator until the process is stopped.
pub fn run_sim(args: &SimArgs) -> ExitCode {
    let rt = match runtime() {
        Ok(r) => r,
        Err(c) => return c,
    };
    let faults = Faults {
        latency_ms: args.latency_ms,
        error_rate: args.error_rate,
        error_status: args.error_status,
        retry_after_secs: args.retry_after,
        reset_rate: args.reset_rate,
        truncate_rate: args.truncate_rate,
        outage: args.outage,
        outage_until: args
            .outage_secs
            .map(|s| jiff::Timestamp::now().as_second() + s),
        clock_skew_secs: args.clock_skew,
        bad_signature: args.bad_signature,
        ..Default::default()
    };
    rt.block_on(async {
        let handle = match crate::sim::platform::start(
            args.listen,
            SimOptions {
                matters: args.matters,
                faults,
                seed: args.seed,
            },
        )
        .await
        {
            Ok(h) => h,
            Err(e) => {
                eprintln!(
                    "模拟平台无法监听 {}：{e}（端口被占用？换一个 --listen 地址）",
                    args.listen
                );
                return ExitCode::from(EXIT_FAILURE);
            }
        };
        println!("platform-sim listening on {}", handle.base_url());
        let _ = std::io::stdout().flush();
        std::future::pending::<()>().await;
        ExitCode::SUCCESS
    })
}
