//! 千台终端仿真 — `ykb-terminal fleet-sim`: many terminals in one process against the platform
//! simulator over loopback, through a platform outage, to see how the fleet treats the
//! platform when it comes back.
//!
//! Each simulated terminal is the real agent logic minus devices and UI: its own SQLite store
//! (a copy of one synced catalogue, its own data key), its own registered `PlatformClient`,
//! the real outbox worker (`outbox::run_worker_with_clock`: claims, backoff with full jitter,
//! the paced catch-up after a failure, breaker, Retry-After), heartbeats every `health.heartbeat_secs` from `health::collect`,
//! and catalogue sync checks (`sync::sync_once`) as the sync timer runs them (every 5 min plus
//! up to 2 min of randomised delay). While the platform is down (the simulator resets every
//! connection) citizens keep submitting: each terminal queues its backlog of real sealed
//! cases (with a material image) and 好差评 events at random moments of the outage.
//!
//! Time is virtual: the fleet runs on a paused single-threaded tokio runtime, so every sleep
//! of the real code (the worker's backoff, the heartbeat interval, the simulator's network
//! latency) passes as soon as nothing else can run, and the outbox takes its "now" from the
//! same clock ([`Clock::following_runtime`]). A 1-hour outage of 1,000 terminals is exact in
//! simulated seconds however loaded the machine is; `speedup` only caps how fast simulated
//! time may run against the wall clock (0 = as fast as the machine goes). Requests take the
//! simulator's `latency_ms` of simulated time (a WAN round trip), local work none.
//!
//! The baseline ([`RetryPolicy::Naive`]) is the same fleet with a fixed-interval retry: the
//! same `deliver_next` on the same stores, but every failure is retried after a fixed wait,
//! with no growth and no jitter.
//!
//! What the simulation leaves out, on purpose: device probes, ticket leases, the UI, TLS, and
//! the outbox's 8 MiB disk ballast per terminal (a placeholder file stands in: 1,000 real ones
//! would write 8 GB).

mod terminal;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use crate::core::clock::Clock;
use crate::core::platform::wire;
use crate::core::platform::PlatformClient;
use crate::core::store::Store;
use crate::core::sync;
use crate::sim::platform::{self as sim, Faults, RequestKind, SimHandle, SimOptions};

/// How a terminal retries a delivery that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryPolicy {
    /// The product's outbox worker: exponential backoff with full jitter (2 s doubling to
    /// 10 min), Retry-After honoured.
    Backoff,
    /// The baseline: retry every `every_secs`, no growth, no jitter.
    Naive { every_secs: u64 },
}

/// What to simulate.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// Terminals in the fleet.
    pub terminals: usize,
    /// How long the platform is down (simulated seconds); 0 = no outage.
    pub outage_secs: u64,
    /// Simulated seconds per wall-clock second at most; 0 = as fast as possible.
    pub speedup: f64,
    /// Items each terminal queues during the outage (every other one a case with one
    /// material image, the rest 好差评 events).
    pub backlog: usize,
    /// Seconds between heartbeats (the profile's `health.heartbeat_secs`).
    pub heartbeat_secs: u64,
    /// The sync timer: a check every this many seconds plus a random delay up to
    /// `sync_jitter_secs` (`packaging/systemd/ykb-terminal-sync.timer`).
    pub sync_every_secs: u64,
    /// See `sync_every_secs`.
    pub sync_jitter_secs: u64,
    /// Simulated seconds of normal running before the outage.
    pub lead_in_secs: u64,
    /// Give up this long after the outage ended if some backlog is still queued.
    pub give_up_after_secs: u64,
    /// Simulated network round trip per request, milliseconds (the simulator's latency).
    pub latency_ms: u64,
    /// The retry policy under test.
    pub policy: RetryPolicy,
    /// Seed of the heartbeat phases, sync delays and submission times.
    pub seed: u64,
    /// Where the terminals' stores go (a temporary directory inside it); default: the
    /// system's temporary directory.
    pub dir: Option<PathBuf>,
}

impl Default for FleetOptions {
    fn default() -> Self {
        Self {
            terminals: 1000,
            outage_secs: 3600,
            speedup: 0.0,
            backlog: 6,
            heartbeat_secs: 60,
            sync_every_secs: 300,
            sync_jitter_secs: 120,
            lead_in_secs: 300,
            give_up_after_secs: 3600,
            latency_ms: 50,
            policy: RetryPolicy::Backoff,
            seed: 1,
            dir: None,
        }
    }
}

/// Why a simulation could not run. `Display` is what the operator reads.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("仿真参数无效：{0}")]
    Options(String),
    #[error("无法准备仿真终端的数据目录：{0}")]
    Io(#[from] std::io::Error),
    #[error("仿真终端 {terminal} 准备失败：{detail}")]
    Setup { terminal: usize, detail: String },
}

/// What went wrong during a run (all zero in a good run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Errors {
    /// Local failures of the outbox (store, key).
    pub local: u64,
    /// Items the platform rejected (dead letters).
    pub dead_letters: u64,
    /// Items set aside as unreadable.
    pub quarantined: u64,
    /// Deliveries that failed more than a second after the platform came back.
    pub deliveries_failed_after_recovery: u64,
    /// Heartbeats that failed more than a second after the platform came back.
    pub heartbeats_failed_after_recovery: u64,
    /// Sync checks that failed more than a second after the platform came back.
    pub syncs_failed_after_recovery: u64,
    /// Queued items the platform never received.
    pub lost: u64,
    /// Terminals whose backlog was not drained when the run gave up.
    pub undrained_terminals: u64,
}

impl Errors {
    /// Everything counted.
    pub fn total(&self) -> u64 {
        self.local
            + self.dead_letters
            + self.quarantined
            + self.deliveries_failed_after_recovery
            + self.heartbeats_failed_after_recovery
            + self.syncs_failed_after_recovery
            + self.lost
            + self.undrained_terminals
    }
}

/// Requests of one simulated second by what they were for (they add up to its rate).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ByKind {
    pub heartbeat: u64,
    /// Catalogue sync checks (delta or snapshot).
    pub catalog: u64,
    /// Outbox deliveries: cases, material uploads, events.
    pub delivery: u64,
    pub other: u64,
    /// Connections reset on accept (the outage).
    pub refused: u64,
}

impl ByKind {
    fn from_counts(c: [u64; RequestKind::ALL.len()]) -> Self {
        let mut k = Self::default();
        for (kind, n) in RequestKind::ALL.into_iter().zip(c) {
            *match kind {
                RequestKind::Heartbeat => &mut k.heartbeat,
                RequestKind::Catalog => &mut k.catalog,
                RequestKind::Delivery => &mut k.delivery,
                RequestKind::Other => &mut k.other,
                RequestKind::Refused => &mut k.refused,
            } += n;
        }
        k
    }
    /// Every request of the second.
    pub fn total(&self) -> u64 {
        self.heartbeat + self.catalog + self.delivery + self.other + self.refused
    }
}

/// The platform's load over one simulated minute.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Minute {
    /// Start of the minute, simulated seconds relative to the end of the outage.
    pub from_s: i64,
    /// Mean requests per second over the minute.
    pub mean_rps: f64,
    /// The busiest second of the minute.
    pub max_rps: u64,
    /// What that second's requests were for.
    pub max_by_kind: ByKind,
}

/// The outcome of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetReport {
    pub terminals: usize,
    pub policy: RetryPolicy,
    pub outage_secs: u64,
    pub backlog_per_terminal: usize,
    /// The busiest simulated second of the whole run.
    pub peak_requests_per_s: u64,
    /// When it was, simulated seconds relative to the end of the outage.
    pub peak_at_s: i64,
    /// What the peak second's requests were for.
    pub peak_by_kind: ByKind,
    /// Mean request rate over the lead-in (normal running).
    pub steady_requests_per_s: f64,
    /// Mean request rate while the platform was down (refused attempts).
    pub outage_requests_per_s: f64,
    /// Mean request rate in the first 10 s after the outage ended.
    pub first_10s_after_outage_requests_per_s: f64,
    /// Simulated seconds from the end of the outage until every backlog was delivered.
    pub all_drained_after_s: Option<f64>,
    /// Per terminal, simulated seconds from the end of the outage to its last delivery:
    /// median, 90th percentile.
    pub drain_p50_s: Option<f64>,
    pub drain_p90_s: Option<f64>,
    /// Items queued and delivered (distinct at the platform).
    pub queued: u64,
    pub delivered: u64,
    /// POSTs the platform saw again for an item it already had (idempotent replays).
    pub replays: u64,
    /// Everything in `error_detail`.
    pub errors: u64,
    pub error_detail: Errors,
    /// Heartbeat request body, bytes (JSON; HTTP headers not counted), mean.
    pub bytes_per_heartbeat: f64,
    /// Requests the platform received, all told.
    pub requests: u64,
    /// Simulated seconds the run covered, and the wall-clock seconds it took.
    pub simulated_secs: f64,
    pub real_secs: f64,
    /// Load per simulated minute.
    pub timeline: Vec<Minute>,
}

/// The product's run beside the naive baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetComparison {
    pub terminals: usize,
    pub outage_secs: u64,
    pub peak_requests_per_s: u64,
    pub naive_peak_requests_per_s: u64,
    pub all_drained_after_s: Option<f64>,
    pub naive_all_drained_after_s: Option<f64>,
    pub errors: u64,
    pub naive_errors: u64,
    pub backoff: FleetReport,
    pub naive: FleetReport,
}

/// Runs the fleet with the product's backoff, then the same fleet with a naive retry every
/// `naive_every_secs`.
pub fn compare(opts: &FleetOptions, naive_every_secs: u64) -> Result<FleetComparison, FleetError> {
    let backoff = run(&FleetOptions {
        policy: RetryPolicy::Backoff,
        ..opts.clone()
    })?;
    let naive = run(&FleetOptions {
        policy: RetryPolicy::Naive {
            every_secs: naive_every_secs,
        },
        ..opts.clone()
    })?;
    Ok(FleetComparison {
        terminals: opts.terminals,
        outage_secs: opts.outage_secs,
        peak_requests_per_s: backoff.peak_requests_per_s,
        naive_peak_requests_per_s: naive.peak_requests_per_s,
        all_drained_after_s: backoff.all_drained_after_s,
        naive_all_drained_after_s: naive.all_drained_after_s,
        errors: backoff.errors,
        naive_errors: naive.errors,
        backoff,
        naive,
    })
}

/// Runs one simulation on a runtime of its own (virtual time). Call from outside any tokio
/// runtime.
pub fn run(opts: &FleetOptions) -> Result<FleetReport, FleetError> {
    if opts.terminals == 0 {
        return Err(FleetError::Options("--terminals 至少为 1".into()));
    }
    if opts.heartbeat_secs == 0 || opts.sync_every_secs == 0 {
        return Err(FleetError::Options("心跳和同步间隔必须大于 0 秒".into()));
    }
    if !(opts.speedup >= 0.0 && opts.speedup.is_finite()) {
        return Err(FleetError::Options(
            "--speedup 应为非负数（0 表示尽快运行）".into(),
        ));
    }
    if let RetryPolicy::Naive { every_secs: 0 } = opts.policy {
        return Err(FleetError::Options("固定重试间隔必须大于 0 秒".into()));
    }
    let root = ScratchDir::create(opts.dir.as_deref())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()?;
    let report = rt.block_on(run_in(opts, root.path()));
    drop(rt);
    report
}

/// The terminals' data directories, removed when the run ends.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn create(under: Option<&Path>) -> std::io::Result<Self> {
        let base = under.map_or_else(std::env::temp_dir, Path::to_owned);
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = base.join(format!("ykb-fleet-sim-{}-{stamp}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(Self(dir))
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What the tasks of a run share.
pub(crate) struct Tally {
    pub(crate) terminals: Vec<terminal::Progress>,
    pub(crate) errors: Errors,
    pub(crate) heartbeat_bytes: (u64, u64),
}

/// The run's fixed moments, simulated seconds from its start.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub(crate) start: tokio::time::Instant,
    pub(crate) outage_from: f64,
    pub(crate) outage_to: f64,
}

impl Window {
    pub(crate) fn now(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }
    /// The platform has been back for more than a second: a failure now is an error.
    pub(crate) fn recovered(&self) -> bool {
        let t = self.now();
        t < self.outage_from || t > self.outage_to + 1.0
    }
}

/// A small deterministic generator (splitmix64) for phases and submission times.
pub(crate) struct Dice(u64);

impl Dice {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub(crate) fn fraction(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn setup_error(terminal: usize) -> impl Fn(String) -> FleetError {
    move |detail| FleetError::Setup { terminal, detail }
}

/// One store synced from the simulator, copied into every terminal (a full sync per
/// terminal would only cost set-up time).
async fn template_store(sim: &SimHandle, dir: &Path) -> Result<PathBuf, FleetError> {
    let profile = crate::core::config::Profile::demo();
    let client = PlatformClient::new(crate::core::platform::ClientConfig::from_profile(
        &profile.platform,
        Some(&sim.base_url()),
        wire::demo_verifying_key(),
    ))
    .map_err(|e| setup_error(0)(e.to_string()))?;
    let creds = client
        .register(&wire::RegisterRequest::for_terminal(
            &profile.terminal,
            sync::DEMO_ENROLMENT_CODE,
        ))
        .await
        .map_err(|e| setup_error(0)(e.to_string()))?;
    client.set_credentials(creds);
    let path = dir.join("template.db");
    let mut store = Store::open(&path).map_err(|e| setup_error(0)(e.to_string()))?;
    sync::sync_once(
        &client,
        &mut store,
        profile.terminal.region_code,
        true,
        &|_| {},
    )
    .await
    .map_err(|e| setup_error(0)(e.to_string()))?;
    // Closing the only connection folds the WAL into the file.
    drop(store);
    Ok(path)
}

async fn run_in(opts: &FleetOptions, root: &Path) -> Result<FleetReport, FleetError> {
    let real = std::time::Instant::now();
    let sim = Arc::new(
        sim::start(
            "127.0.0.1:0".parse().expect("a valid address"),
            SimOptions {
                seed: opts.seed,
                ..Default::default()
            },
        )
        .await?,
    );
    let template = template_store(&sim, root).await?;
    let mut dice = Dice::new(opts.seed);
    let mut terminals = Vec::with_capacity(opts.terminals);
    for i in 0..opts.terminals {
        terminals.push(
            terminal::SimTerminal::set_up(i, root, &template, &sim.base_url())
                .await
                .map_err(setup_error(i))?,
        );
    }
    sim.set_faults(Faults {
        latency_ms: opts.latency_ms,
        ..Faults::default()
    });

    let clock = Clock::following_runtime();
    let window = Window {
        start: tokio::time::Instant::now(),
        outage_from: opts.lead_in_secs as f64,
        outage_to: (opts.lead_in_secs + opts.outage_secs) as f64,
    };
    let tally = Arc::new(Mutex::new(Tally {
        terminals: vec![terminal::Progress::default(); opts.terminals],
        errors: Errors::default(),
        heartbeat_bytes: (0, 0),
    }));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut tasks = Vec::new();
    for t in terminals {
        let plan = terminal::Plan::draw(opts, &mut dice);
        tasks.extend(t.spawn(opts, plan, clock, window, tally.clone(), stop_rx.clone()));
    }

    // The platform's request rate, one sample per simulated second.
    let series = Arc::new(Mutex::new(Vec::<ByKind>::new()));
    let sampler = {
        let (sim, series, mut stop) = (sim.clone(), series.clone(), stop_rx.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(
                window.start + Duration::from_secs(1),
                Duration::from_secs(1),
            );
            let mut last = sim.requests_by_kind();
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.changed() => return,
                }
                let n = sim.requests_by_kind();
                series
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(ByKind::from_counts(std::array::from_fn(|i| n[i] - last[i])));
                last = n;
            }
        })
    };
    if opts.speedup > 0.0 {
        let (speedup, mut stop) = (opts.speedup, stop_rx.clone());
        tasks.push(tokio::spawn(async move {
            let wall = std::time::Instant::now();
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                    _ = stop.changed() => return,
                }
                // Simulated time may not run ahead of `speedup` × the wall clock: hold the
                // (single) runtime thread until the wall clock catches up.
                let due = window.start.elapsed().as_secs_f64() / speedup;
                let ahead = due - wall.elapsed().as_secs_f64();
                if ahead > 0.0 {
                    std::thread::sleep(Duration::from_secs_f64(ahead));
                }
            }
        }));
    }

    // The outage, then until every backlog is drained (or the run gives up).
    tokio::time::sleep_until(window.start + Duration::from_secs(opts.lead_in_secs)).await;
    if opts.outage_secs > 0 {
        sim.set_faults(Faults {
            latency_ms: opts.latency_ms,
            reset_rate: 1.0,
            ..Faults::default()
        });
        tokio::time::sleep_until(
            window.start + Duration::from_secs(opts.lead_in_secs + opts.outage_secs),
        )
        .await;
        sim.set_faults(Faults {
            latency_ms: opts.latency_ms,
            ..Faults::default()
        });
    }
    let give_up = window.start
        + Duration::from_secs(opts.lead_in_secs + opts.outage_secs + opts.give_up_after_secs);
    loop {
        let all = {
            let t = tally.lock().unwrap_or_else(|e| e.into_inner());
            t.terminals
                .iter()
                .all(|p| p.queued == opts.backlog as u64 && p.drained_at.is_some())
        };
        if all || tokio::time::Instant::now() >= give_up {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    // One more minute of normal running after the last delivery (the load settles).
    tokio::time::sleep(Duration::from_secs(60)).await;
    let simulated_secs = window.now();
    let _ = stop_tx.send(true);
    // A task that panicked is a local failure of the terminal it ran for.
    let mut panicked = 0;
    for t in tasks {
        if t.await.is_err() {
            panicked += 1;
        }
    }
    tally.lock().unwrap_or_else(|e| e.into_inner()).errors.local += panicked;
    let _ = sampler.await;

    let series = std::mem::take(&mut *series.lock().unwrap_or_else(|e| e.into_inner()));
    let tally = std::mem::replace(
        &mut *tally.lock().unwrap_or_else(|e| e.into_inner()),
        Tally {
            terminals: Vec::new(),
            errors: Errors::default(),
            heartbeat_bytes: (0, 0),
        },
    );
    let received = sim.cases().len() as u64 + sim.events().len() as u64;
    let replays = sim
        .cases()
        .iter()
        .map(|c| c.count.saturating_sub(1))
        .chain(sim.events().iter().map(|e| e.count.saturating_sub(1)))
        .sum();
    let requests = sim.requests();
    if let Ok(sim) = Arc::try_unwrap(sim) {
        sim.shutdown().await;
    }
    Ok(summarise(
        opts,
        window,
        &series,
        tally,
        received,
        replays,
        requests,
        simulated_secs,
        real.elapsed().as_secs_f64(),
    ))
}

#[allow(clippy::too_many_arguments)]
fn summarise(
    opts: &FleetOptions,
    window: Window,
    by_kind: &[ByKind],
    tally: Tally,
    received: u64,
    replays: u64,
    requests: u64,
    simulated_secs: f64,
    real_secs: f64,
) -> FleetReport {
    let end = window.outage_to;
    let series: Vec<u64> = by_kind.iter().map(ByKind::total).collect();
    // Sample i counts the requests of second (i, i + 1].
    let mean = |from: f64, to: f64| {
        let (a, b) = (
            from.max(0.0) as usize,
            (to.max(0.0) as usize).min(series.len()),
        );
        if b > a {
            series[a..b].iter().sum::<u64>() as f64 / (b - a) as f64
        } else {
            0.0
        }
    };
    let (peak_i, peak) = series
        .iter()
        .copied()
        .enumerate()
        .max_by_key(|&(i, n)| (n, std::cmp::Reverse(i)))
        .unwrap_or((0, 0));
    let mut errors = tally.errors;
    let queued: u64 = tally.terminals.iter().map(|p| p.queued).sum();
    errors.lost = queued.saturating_sub(received);
    errors.undrained_terminals = tally
        .terminals
        .iter()
        .filter(|p| p.drained_at.is_none() && p.queued > 0)
        .count() as u64;
    let mut drains: Vec<f64> = tally
        .terminals
        .iter()
        .filter_map(|p| p.drained_at.map(|t| (t - end).max(0.0)))
        .collect();
    drains.sort_by(f64::total_cmp);
    let pct = |q: f64| {
        (!drains.is_empty()).then(|| drains[((drains.len() - 1) as f64 * q).round() as usize])
    };
    let all_drained_after_s = (errors.undrained_terminals == 0 && queued > 0)
        .then(|| drains.last().copied().unwrap_or(0.0));
    let timeline = by_kind
        .chunks(60)
        .enumerate()
        .map(|(m, c)| {
            let max = c
                .iter()
                .copied()
                .max_by_key(ByKind::total)
                .unwrap_or_default();
            Minute {
                from_s: (m * 60) as i64 - end as i64,
                mean_rps: c.iter().map(ByKind::total).sum::<u64>() as f64 / c.len() as f64,
                max_rps: max.total(),
                max_by_kind: max,
            }
        })
        .collect();
    FleetReport {
        terminals: opts.terminals,
        policy: opts.policy,
        outage_secs: opts.outage_secs,
        backlog_per_terminal: opts.backlog,
        peak_requests_per_s: peak,
        peak_at_s: peak_i as i64 - end as i64,
        peak_by_kind: by_kind.get(peak_i).copied().unwrap_or_default(),
        steady_requests_per_s: mean(0.0, window.outage_from),
        outage_requests_per_s: mean(window.outage_from, end),
        first_10s_after_outage_requests_per_s: mean(end, end + 10.0),
        all_drained_after_s,
        drain_p50_s: pct(0.5),
        drain_p90_s: pct(0.9),
        queued,
        delivered: received,
        replays,
        errors: errors.total(),
        error_detail: errors,
        bytes_per_heartbeat: if tally.heartbeat_bytes.1 == 0 {
            0.0
        } else {
            tally.heartbeat_bytes.0 as f64 / tally.heartbeat_bytes.1 as f64
        },
        requests,
        simulated_secs,
        real_secs,
        timeline,
    }
}

/// Steady state: the fleet running normally for `hours` simulated hours (no outage, no
/// backlog): requests per terminal per hour and bytes per heartbeat.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SteadyState {
    pub terminals: usize,
    pub requests_per_terminal_per_hour: f64,
    pub bytes_per_heartbeat: f64,
    pub errors: u64,
}

/// Runs [`SteadyState`] (heartbeats and sync checks only).
pub fn steady_state(opts: &FleetOptions, hours: u64) -> Result<SteadyState, FleetError> {
    let r = run(&FleetOptions {
        outage_secs: 0,
        backlog: 0,
        lead_in_secs: hours * 3600,
        give_up_after_secs: 0,
        ..opts.clone()
    })?;
    // The report's steady rate covers the lead-in exactly.
    Ok(SteadyState {
        terminals: r.terminals,
        requests_per_terminal_per_hour: r.steady_requests_per_s * 3600.0 / r.terminals as f64,
        bytes_per_heartbeat: r.bytes_per_heartbeat,
        errors: r.errors,
    })
}

/// The report as an operator reads it (the CLI without `--json`).
pub fn describe(c: &FleetComparison) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let secs = |v: Option<f64>| v.map_or_else(|| "未排空".to_owned(), |v| format!("{v:.0} 秒"));
    let _ = writeln!(
        s,
        "{} 台终端，平台中断 {} 秒（仿真时间），每台积压 {} 项",
        c.terminals, c.outage_secs, c.backoff.backlog_per_terminal
    );
    for (name, r) in [
        ("退避+抖动", &c.backoff),
        ("固定间隔重试（对照）", &c.naive),
    ] {
        let _ = writeln!(
            s,
            "{name}：峰值 {} 次/秒（恢复后 {} 秒），恢复后首 10 秒 {:.1} 次/秒，正常 {:.1} 次/秒；全部排空 {}（中位 {}，P90 {}）；错误 {}；实际用时 {:.0} 秒",
            r.peak_requests_per_s,
            r.peak_at_s,
            r.first_10s_after_outage_requests_per_s,
            r.steady_requests_per_s,
            secs(r.all_drained_after_s),
            secs(r.drain_p50_s),
            secs(r.drain_p90_s),
            r.errors,
            r.real_secs
        );
        let k = r.peak_by_kind;
        let _ = writeln!(
            s,
            "  峰值那一秒：心跳 {}，目录同步 {}，业务投递 {}，其他 {}，被拒连接 {}",
            k.heartbeat, k.catalog, k.delivery, k.other, k.refused
        );
    }
    let _ = writeln!(s, "每分钟请求率（恢复后秒数: 平均/最高 次/秒）：");
    for (b, n) in c.backoff.timeline.iter().zip(&c.naive.timeline) {
        let _ = writeln!(
            s,
            "  {:>6}: {:>7.1}/{:<5}  对照 {:>7.1}/{}",
            b.from_s, b.mean_rps, b.max_rps, n.mean_rps, n.max_rps
        );
    }
    s
}
