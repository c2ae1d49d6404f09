//! The service loop (`ykb-terminal agent`, run by systemd with `Type=notify`): every
//! `health.heartbeat_secs` it takes a health snapshot and sends the heartbeat; it serves the
//! Prometheus metrics on loopback; it tells systemd `READY=1` once the store is open and the
//! metrics port is bound. `WATCHDOG=1` comes from `sdnotify::Watchdog`'s own thread, only
//! while the loop keeps turning: each heartbeat round runs as a task of its own, so a slow
//! platform never delays a ping, and a round that overruns what its calls' deadlines allow
//! (`Beater::deadline`) is abandoned and counted as a failed heartbeat, so neither the
//! pings nor the next rounds wait for it.
//!
//! It also runs the outbox worker, which delivers queued cases and events in order as soon as
//! the platform answers (the sync timer's `sync --drain` is the backstop).
//!
//! Every heartbeat carries each configured device's last known state and the printer's paper
//! level: before each beat the agent probes the devices lightly (`probe`: the printer's
//! `DLE EOT` status, device files present), records what it saw itself, and sends the last
//! known state of every fitted slot (the self-test's, the kiosk's or its own).
//!
//! With `[update] enabled`, the rollout each heartbeat answer carries goes to the update duty
//! (`rollout::UpdateDuty`): installed only between citizens on a thread of its own, with its
//! outcome on the following heartbeats (`Heartbeat::update`).
//!
//! When the platform refuses the device credential (expired or revoked), the agent logs what
//! the technician must do (`credentials::CREDENTIAL_REFUSED_ADVICE`), shows it in the metrics
//! (`ykb_platform_credentials_refused`) and, on every refused beat, looks in the store for a
//! credential a `reregister` has put there since, adopting it without a restart.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use super::metrics::{self, MetricsState, SharedMetrics};
use super::{probe, sdnotify};
use crate::core::config::PlatformMode;
use crate::core::health;
use crate::core::outbox;
use crate::core::platform::PlatformClient;
use crate::core::update::markers;
use crate::core::{commands, consumables, credentials, sync, ticketing, Core};

/// Why the agent stopped.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The metrics server could not start.
    #[error(transparent)]
    Metrics(#[from] metrics::MetricsError),
    /// The platform client could not be built (configuration).
    #[error("{0}")]
    Config(String),
}

/// What the agent needs to start.
#[derive(Debug)]
pub struct AgentOptions {
    /// Called with the metrics address once bound (the CLI prints it).
    pub on_metrics: Option<fn(std::net::SocketAddr)>,
    /// Stop after this many heartbeats (tests); `None` runs until killed.
    pub max_beats: Option<u64>,
    /// Beat this often instead of `health.heartbeat_secs` (benches; the profile refuses
    /// intervals under 30 s).
    pub beat_every: Option<Duration>,
}

/// Probes the devices off the async threads, records what the probes saw, and returns the
/// last known state of every fitted slot, read after that (so a state the kiosk recorded
/// while the probes ran is the one sent, not overwritten: `probe::probe`).
async fn probe_devices(
    store: &Arc<Mutex<crate::core::store::Store>>,
    devices: &crate::core::config::DevicesSection,
) -> std::collections::BTreeMap<String, health::DeviceHealth> {
    let stored = |store: &Arc<Mutex<crate::core::store::Store>>| {
        health::stored_devices(&mut store.lock().unwrap_or_else(|e| e.into_inner())).unwrap_or_else(
            |e| {
                tracing::warn!(error = %e, "last known device states unreadable");
                Default::default()
            },
        )
    };
    let known = stored(store);
    let probed = devices.clone();
    let see = probe::devices_visible();
    match tokio::task::spawn_blocking(move || probe::probe(&probed, &known, see)).await {
        Ok(seen) => {
            if let Err(e) = health::record_devices(
                &mut store.lock().unwrap_or_else(|e| e.into_inner()),
                "probe",
                &seen,
            ) {
                tracing::warn!(error = %e, "device states not recorded");
            }
        }
        Err(e) => tracing::warn!(error = %e, "device probe failed"),
    }
    probe::fitted(devices, &stored(store))
}

/// After a refusal: takes a credential that `reregister` stored since the agent started.
fn adopt_new_credentials(
    store: &Arc<Mutex<crate::core::store::Store>>,
    key: &crate::core::crypto::DataKey,
    client: &PlatformClient,
    base_url: &str,
) {
    let stored = credentials::stored(
        &mut store.lock().unwrap_or_else(|e| e.into_inner()),
        key,
        base_url,
    );
    match stored {
        Ok(Some(c)) if client.credentials().as_ref() != Some(&c) => {
            tracing::info!(device = %c.device_id, "adopting the credential stored by a re-registration");
            client.set_credentials(c);
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot read stored credentials"),
    }
}

/// What a heartbeat round remembers for the next.
#[derive(Debug, Clone, Copy)]
struct BeatMemory {
    healthy_before: bool,
    last_refused: bool,
    /// The round ran (or refused) remote commands: the next beat, which carries their
    /// results, goes at once instead of an interval later.
    report_now: bool,
}

impl Default for BeatMemory {
    fn default() -> Self {
        Self {
            healthy_before: true,
            last_refused: false,
            report_now: false,
        }
    }
}

/// Everything a heartbeat round needs: probe, snapshot, heartbeat, credential adoption and the
/// ticket lease top-up.
struct Beater {
    store: Arc<Mutex<crate::core::store::Store>>,
    key: Arc<crate::core::crypto::DataKey>,
    client: Arc<PlatformClient>,
    state: SharedMetrics,
    devices: crate::core::config::DevicesSection,
    ticketing: Option<crate::core::config::TicketingSection>,
    data_dir: std::path::PathBuf,
    quota: outbox::Quota,
    base_url: String,
    /// Runs the remote commands a heartbeat answer carries.
    commands: super::commands::Executor,
    /// Acts on the rollout a heartbeat answer carries (`[update] enabled`).
    update: Option<Arc<super::rollout::UpdateDuty>>,
}

impl Beater {
    /// The longest a healthy round can take: each platform call (the heartbeat, one lease per
    /// service) within its whole-request deadline (twice the client's timeout, for the one
    /// clock-skew retry), plus a minute for the probe and the store. A round still running
    /// then is abandoned, and the next one starts on time.
    fn deadline(&self) -> Duration {
        let calls = 1 + self.ticketing.as_ref().map_or(0, |t| t.services.len()) as u32;
        self.client.config().timeout * 2 * calls + Duration::from_secs(60)
    }

    /// Receipt paper use against the roll, when a receipt printer is configured.
    fn paper(
        &self,
        store: &Arc<Mutex<crate::core::store::Store>>,
    ) -> Option<crate::core::platform::wire::PaperUse> {
        if self.devices.printer.driver == crate::core::config::DriverKind::None {
            return None;
        }
        match consumables::roll(&mut store.lock().unwrap_or_else(|e| e.into_inner())) {
            Ok(r) => Some(r.wire(self.devices.printer.roll_length_mm())),
            Err(e) => {
                tracing::warn!(error = %e, "paper counter unreadable");
                None
            }
        }
    }

    async fn beat(&self, mut m: BeatMemory) -> BeatMemory {
        let store = &self.store;
        let devices = probe_devices(store, &self.devices).await;
        let skew = self
            .state
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .health
            .as_ref()
            .and_then(|h| h.clock_skew_secs);
        let snapshot = health::collect(
            &mut store.lock().unwrap_or_else(|e| e.into_inner()),
            &self.data_dir,
            self.quota,
            devices,
            skew,
        );
        let mut top_up_tickets = false;
        let mut received = Vec::new();
        let mut rollout = None;
        match snapshot {
            Ok(mut snap) => {
                let mut hb = snap.heartbeat();
                // Results of remote commands ride every beat until one is answered.
                hb.command_results =
                    commands::unacked(&mut store.lock().unwrap_or_else(|e| e.into_inner()))
                        .unwrap_or_else(|e| {
                            tracing::warn!(error = %e, "remote command results unreadable");
                            Vec::new()
                        });
                hb.paper = self.paper(store);
                hb.update = self.update.as_ref().map(|u| u.state());
                let result = self.client.heartbeat(&hb).await;
                let now = jiff::Timestamp::now().as_second();
                let mut s = self.state.write().unwrap_or_else(|e| e.into_inner());
                match result {
                    Ok(ack) => {
                        snap.clock_skew_secs = Some(ack.server_time - now);
                        s.last_heartbeat_ok = Some(now);
                        s.credentials_refused = false;
                        m.last_refused = false;
                        if !m.healthy_before {
                            tracing::info!("heartbeat acknowledged again");
                        }
                        m.healthy_before = true;
                        top_up_tickets = self.ticketing.is_some();
                        received = ack.commands;
                        rollout = Some(ack.rollout);
                        let acked = {
                            let mut st = store.lock().unwrap_or_else(|e| e.into_inner());
                            commands::mark_acked(&mut st, &hb.command_results)
                                .and_then(|()| commands::prune(&mut st, now))
                                // What the health check after an update waits for.
                                .and_then(|_| markers::mark(&mut st, "agent", now))
                        };
                        if let Err(e) = acked {
                            tracing::warn!(error = %e, "remote command acknowledgements not recorded");
                        }
                    }
                    Err(e) => {
                        s.heartbeat_failures += 1;
                        let refused = credentials::is_refused(&e);
                        s.credentials_refused = refused;
                        if refused && !m.last_refused {
                            tracing::error!(error = %e, "{}", credentials::CREDENTIAL_REFUSED_ADVICE);
                        } else if m.healthy_before && !refused {
                            tracing::warn!(error = %e, "heartbeat failed");
                        }
                        m.last_refused = refused;
                        m.healthy_before = false;
                    }
                }
                s.health = Some(snap);
                s.paper = hb.paper;
            }
            Err(e) => tracing::warn!(error = %e, "health snapshot failed"),
        }
        // Commands run after the beat's answer, each at most once; their results go with the
        // next beat, sent at once (operations should not wait an interval for the answer).
        m.report_now = !received.is_empty();
        if !received.is_empty() {
            let (executed, refused) = self.commands.run_all(&received).await;
            let mut s = self.state.write().unwrap_or_else(|e| e.into_inner());
            s.commands_executed += executed;
            s.commands_refused += refused;
        }
        // The platform answered: its rollout (or none) goes to the update duty, which
        // installs only between citizens, on a thread of its own.
        if let (Some(u), Some(r)) = (&self.update, rollout) {
            if let Some(device) = self.client.credentials().map(|c| c.device_id) {
                u.offer(r, device);
            }
        }
        if m.last_refused {
            adopt_new_credentials(store, &self.key, &self.client, &self.base_url);
        }
        // The platform answered: top up ticket number leases running low, so the kiosks can
        // keep issuing through the next outage.
        if top_up_tickets {
            if let Some(t) = &self.ticketing {
                match ticketing::top_up(store, &self.client, t, jiff::Timestamp::now()).await {
                    Ok(r) => {
                        for l in &r.leased {
                            tracing::info!(service = %l.service, first = l.first, last = l.last, "ticket numbers leased");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "ticket lease top-up failed"),
                }
            }
        }
        m
    }
}

/// Runs the agent until stopped (SIGTERM ends the process; nothing is in flight that a
/// crash-safe store would mind).
pub async fn run(mut core: Core, opts: AgentOptions) -> Result<(), AgentError> {
    let state: SharedMetrics = Arc::new(RwLock::new(MetricsState {
        terminal: core.profile.terminal.name.clone(),
        ..MetricsState::default()
    }));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let server = match core.profile.health.metrics_addr() {
        Some(addr) => {
            let (bound, task) = metrics::serve(addr, state.clone(), stop_rx.clone()).await?;
            if let Some(f) = opts.on_metrics {
                f(bound);
            }
            Some(task)
        }
        None => None,
    };

    // The demo beats against a simulator of its own.
    let (sim, client) = if core.profile.platform.mode == PlatformMode::Simulator {
        let demo = crate::sim::demo::start_registered(&mut core)
            .await
            .map_err(|(e, _)| AgentError::Config(e))?;
        if let Err(e) = &demo.registration {
            tracing::warn!(error = %e, "demo platform registration failed");
        }
        (Some(demo.sim), demo.client)
    } else {
        let client = sync::platform_client(&core.profile, &core.data_dir, None)
            .map_err(|(e, _)| AgentError::Config(e))?;
        match credentials::stored(&mut core.store, &core.key, &client.config().base_url) {
            Ok(Some(c)) => client.set_credentials(c),
            // Keep running: metrics still tell the technician what is wrong.
            Ok(None) => tracing::warn!(
                "本机尚未在平台 {} 注册，心跳将失败；请运行 ykb-terminal provision",
                client.config().base_url
            ),
            Err(e) => tracing::warn!(error = %e, "cannot read stored credentials"),
        }
        (None, client)
    };
    // One client for the heartbeat and the outbox worker: credentials adopted after a
    // re-registration reach both.
    let client = Arc::new(client);
    let base_url = client.config().base_url.clone();

    // The outbox worker delivers queued cases and events as soon as the platform answers;
    // it shares the store with the heartbeat (each holds the lock only for local work).
    // A command accepted before the agent last stopped, and not finished, is not run again.
    match commands::fail_interrupted(&mut core.store, jiff::Timestamp::now().as_second()) {
        Ok(0) => {}
        Ok(n) => tracing::warn!(n, "remote commands interrupted by a restart marked failed"),
        Err(e) => tracing::warn!(error = %e, "remote command records unreadable"),
    }
    let store = Arc::new(Mutex::new(core.store));
    let key = Arc::new(core.key);
    let wake_outbox = Arc::new(tokio::sync::Notify::new());
    let worker = tokio::spawn(outbox::run_worker(
        store.clone(),
        key.clone(),
        client.clone(),
        outbox::Backoff::default(),
        core.profile.data.retention_days,
        wake_outbox.clone(),
        stop_rx.clone(),
        None,
    ));

    // On a hall of several machines, the hall's supervision events (whichever agent holds
    // the hall's delivery lock sends them).
    let hall = core
        .profile
        .ticketing
        .clone()
        .filter(|t| t.queue.is_some())
        .map(|cfg| {
            tokio::spawn(super::hall_outbox::run(
                cfg,
                client.clone(),
                stop_rx.clone(),
            ))
        });

    let _ = sdnotify::notify("READY=1\nSTATUS=运行中");
    // The watchdog pings from its own thread while this loop turns; the loop never awaits a
    // platform call itself (each heartbeat round is a task of its own).
    let watchdog = sdnotify::Watchdog::from_env();
    let every = opts
        .beat_every
        .unwrap_or_else(|| Duration::from_secs(u64::from(core.profile.health.heartbeat_secs)));
    let update =
        super::rollout::UpdateDuty::from_profile(&core.profile, &core.data_dir, store.clone())
            .map(Arc::new);
    let beater = Arc::new(Beater {
        store: store.clone(),
        key: key.clone(),
        client: client.clone(),
        state: state.clone(),
        devices: core.profile.devices.clone(),
        ticketing: core.profile.ticketing.clone(),
        data_dir: core.data_dir.clone(),
        quota: core.profile.data.quota(),
        base_url,
        commands: super::commands::Executor {
            store: store.clone(),
            client: client.clone(),
            profile: core.profile.clone(),
            data_dir: core.data_dir.clone(),
            wake_outbox,
        },
        update: update.clone(),
    });
    let deadline = beater.deadline();
    let mut beat = tokio::time::interval(every);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // With no watchdog, a pulse that hardly ever fires.
    let mut pulse = tokio::time::interval(
        watchdog
            .as_ref()
            .map_or(Duration::from_secs(3600), |w| w.pulse),
    );
    pulse.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut beats = 0u64;
    let mut memory = BeatMemory::default();
    let mut round: Option<(tokio::task::JoinHandle<BeatMemory>, tokio::time::Instant)> = None;
    loop {
        let overrun_at = round.as_ref().map(|(_, since)| *since + deadline);
        tokio::select! {
            _ = beat.tick(), if round.is_none() => {
                let b = beater.clone();
                let m = memory;
                round = Some((tokio::spawn(async move { b.beat(m).await }), tokio::time::Instant::now()));
            }
            done = async { (&mut round.as_mut().expect("guarded").0).await }, if round.is_some() => {
                round = None;
                match done {
                    Ok(m) => memory = m,
                    Err(e) => tracing::error!(error = %e, "heartbeat round failed"),
                }
                if std::mem::take(&mut memory.report_now) {
                    beat.reset_immediately();
                }
                beats += 1;
                if opts.max_beats.is_some_and(|m| beats >= m) {
                    break;
                }
            }
            // A round past its deadline is stuck somewhere no timeout reaches: it is given
            // up (its task aborted), counted as a failed heartbeat, and the beats go on.
            _ = tokio::time::sleep_until(overrun_at.unwrap_or_else(tokio::time::Instant::now)), if overrun_at.is_some() => {
                if let Some((task, _)) = round.take() {
                    task.abort();
                }
                tracing::error!(
                    deadline_secs = deadline.as_secs(),
                    "heartbeat round overran its deadline and was abandoned; the next one starts on time"
                );
                state.write().unwrap_or_else(|e| e.into_inner()).heartbeat_failures += 1;
                memory.healthy_before = false;
            }
            _ = pulse.tick() => {}
        }
        // Progress: the loop turned (it awaits no platform call, and no round holds it).
        if let Some(w) = &watchdog {
            w.alive();
        }
    }
    drop(watchdog);
    let _ = sdnotify::notify("STOPPING=1");
    let _ = stop_tx.send(true);
    if let Some(u) = &update {
        u.finish().await;
    }
    if let Some(t) = server {
        let _ = t.await;
    }
    let _ = worker.await;
    if let Some(h) = hall {
        let _ = h.await;
    }
    if let Some(s) = sim {
        s.shutdown().await;
    }
    Ok(())
}
