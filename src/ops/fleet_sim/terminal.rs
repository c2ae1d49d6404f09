//! One simulated terminal: its store and client, and the tasks the agent would run for it —
//! the outbox worker (or the naive baseline's), heartbeats, sync checks — plus the citizens
//! who queue its backlog during the outage.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{Dice, FleetOptions, RetryPolicy, Tally, Window};
use crate::core::clock::Clock;
use crate::core::config::Profile;
use crate::core::crypto::DataKey;
use crate::core::domain::{Applicant, IdNumber, Person};
use crate::core::outbox::{self, Backoff, Step, WorkerEvent};
use crate::core::platform::{wire, ClientConfig, PlatformClient};
use crate::core::store::Store;
use crate::core::{credentials, health, sync};

/// How far one terminal's backlog has come.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Progress {
    pub(crate) queued: u64,
    pub(crate) delivered: u64,
    /// When its last queued item was delivered (simulated seconds from the start).
    pub(crate) drained_at: Option<f64>,
}

/// A terminal ready to run.
pub(crate) struct SimTerminal {
    index: usize,
    dir: PathBuf,
    store: Arc<Mutex<Store>>,
    /// The sync timer's own connection (another process on a real terminal).
    sync_store: Store,
    key: Arc<DataKey>,
    client: Arc<PlatformClient>,
    profile: Profile,
}

/// A terminal's random draws: heartbeat phase, first sync delay, submission times.
pub(crate) struct Plan {
    heartbeat_phase: Duration,
    first_sync: Duration,
    sync_delays: Vec<Duration>,
    /// Simulated seconds from the start.
    submissions: Vec<f64>,
}

impl Plan {
    pub(crate) fn draw(opts: &FleetOptions, dice: &mut Dice) -> Self {
        let hb = opts.heartbeat_secs as f64;
        let heartbeat_phase = Duration::from_secs_f64(dice.fraction() * hb);
        let first_sync = Duration::from_secs_f64(dice.fraction() * opts.sync_every_secs as f64);
        let span = opts.lead_in_secs + opts.outage_secs + opts.give_up_after_secs + 120;
        let n = span / opts.sync_every_secs + 2;
        let sync_delays = (0..n)
            .map(|_| {
                Duration::from_secs_f64(
                    opts.sync_every_secs as f64 + dice.fraction() * opts.sync_jitter_secs as f64,
                )
            })
            .collect();
        let (from, len) = (opts.lead_in_secs as f64, opts.outage_secs as f64);
        let mut submissions: Vec<f64> = (0..opts.backlog)
            .map(|_| from + dice.fraction() * len)
            .collect();
        submissions.sort_by(f64::total_cmp);
        Self {
            heartbeat_phase,
            first_sync,
            sync_delays,
            submissions,
        }
    }
}

impl SimTerminal {
    /// Its data directory under `root` with a copy of `template` (a synced store), a data key
    /// of its own, and credentials from registering with the simulator at `base_url`.
    pub(crate) async fn set_up(
        index: usize,
        root: &Path,
        template: &Path,
        base_url: &str,
    ) -> Result<Self, String> {
        let dir = root.join(format!("t{index:05}"));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        std::fs::copy(template, dir.join(crate::core::STORE_FILE)).map_err(|e| e.to_string())?;
        // The space reserve's placeholder (see the module docs of `fleet_sim`).
        std::fs::File::create(dir.join(outbox::space::BALLAST_FILE)).map_err(|e| e.to_string())?;
        let mut store =
            Store::open(&dir.join(crate::core::STORE_FILE)).map_err(|e| e.to_string())?;
        let key =
            DataKey::create(&dir.join(crate::core::crypto::KEY_FILE)).map_err(|e| e.to_string())?;
        outbox::bind_key(&mut store, &key).map_err(|e| e.to_string())?;
        let mut profile = Profile::demo();
        profile.terminal.name = format!("仿真终端{index:04}");
        let client = PlatformClient::new(ClientConfig::from_profile(
            &profile.platform,
            Some(base_url),
            wire::demo_verifying_key(),
        ))
        .map_err(|e| e.to_string())?;
        let request =
            wire::RegisterRequest::for_terminal(&profile.terminal, sync::DEMO_ENROLMENT_CODE);
        credentials::ensure_registered(&client, &mut store, &key, &request)
            .await
            .map_err(|e| e.to_string())?;
        let sync_store =
            Store::open(&dir.join(crate::core::STORE_FILE)).map_err(|e| e.to_string())?;
        Ok(Self {
            index,
            dir,
            store: Arc::new(Mutex::new(store)),
            sync_store,
            key: Arc::new(key),
            client: Arc::new(client),
            profile,
        })
    }

    /// Starts the terminal's tasks; they end when `stop` turns true.
    pub(crate) fn spawn(
        self,
        opts: &FleetOptions,
        plan: Plan,
        clock: Clock,
        window: Window,
        tally: Arc<Mutex<Tally>>,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        let Self {
            index,
            dir,
            store,
            mut sync_store,
            key,
            client,
            profile,
        } = self;
        let wake = Arc::new(tokio::sync::Notify::new());
        let quota = profile.data.quota();
        let backlog = opts.backlog as u64;
        let mut tasks = Vec::new();

        // What a delivery step means for the tally.
        let on_step = {
            let tally = tally.clone();
            move |step: &Step| {
                let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
                match step {
                    Step::Delivered { .. } => {
                        let p = &mut t.terminals[index];
                        p.delivered += 1;
                        if p.delivered >= backlog && p.queued >= backlog {
                            p.drained_at = Some(window.now());
                        }
                    }
                    Step::DeadLettered { .. } => t.errors.dead_letters += 1,
                    Step::Quarantined { .. } => t.errors.quarantined += 1,
                    Step::Retry { .. } if window.recovered() => {
                        t.errors.deliveries_failed_after_recovery += 1
                    }
                    _ => {}
                }
            }
        };

        // The deliverer.
        match opts.policy {
            RetryPolicy::Backoff => {
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
                tasks.push(tokio::spawn(outbox::run_worker_with_clock(
                    store.clone(),
                    key.clone(),
                    client.clone(),
                    Backoff::default(),
                    profile.data.retention_days,
                    wake.clone(),
                    stop.clone(),
                    Some(tx),
                    clock,
                )));
                let tally = tally.clone();
                tasks.push(tokio::spawn(async move {
                    while let Some(e) = rx.recv().await {
                        match e {
                            WorkerEvent::Step(s) => on_step(&s),
                            WorkerEvent::Error(_) => {
                                tally.lock().unwrap_or_else(|e| e.into_inner()).errors.local += 1
                            }
                            WorkerEvent::Progress(_) => {}
                        }
                    }
                }));
            }
            RetryPolicy::Naive { every_secs } => {
                let (store, key, client, wake, mut stop, tally) = (
                    store.clone(),
                    key.clone(),
                    client.clone(),
                    wake.clone(),
                    stop.clone(),
                    tally.clone(),
                );
                tasks.push(tokio::spawn(async move {
                    // No backoff: an item is due again at once, and this loop waits a fixed
                    // interval after every failure.
                    let none = Backoff {
                        base: Duration::ZERO,
                        cap: Duration::ZERO,
                    };
                    let every = Duration::from_secs(every_secs);
                    let until = |at_ms: i64| {
                        Duration::from_millis((at_ms - clock.now().as_millisecond()).max(0) as u64)
                    };
                    loop {
                        if *stop.borrow() {
                            return;
                        }
                        let step =
                            outbox::deliver_next(&store, &key, &client, none, clock.now()).await;
                        let wait = match &step {
                            Ok(
                                s @ (Step::Delivered { .. }
                                | Step::DeadLettered { .. }
                                | Step::Quarantined { .. }),
                            ) => {
                                on_step(s);
                                continue;
                            }
                            Ok(Step::Idle) => Duration::from_secs(5),
                            Ok(s @ Step::Retry { .. }) => {
                                on_step(s);
                                every
                            }
                            Ok(Step::Waiting { until_ms }) | Ok(Step::Paused { until_ms, .. }) => {
                                until(*until_ms)
                            }
                            Ok(Step::Busy { until_ms }) => {
                                until(*until_ms).min(Duration::from_secs(2))
                            }
                            Err(_) => {
                                tally.lock().unwrap_or_else(|e| e.into_inner()).errors.local += 1;
                                Duration::from_secs(30)
                            }
                        };
                        tokio::select! {
                            _ = tokio::time::sleep(wait) => {}
                            _ = wake.notified() => {}
                            _ = stop.changed() => {}
                        }
                    }
                }));
            }
        }

        // Heartbeats at a fixed interval, from a random phase (terminals were not all
        // switched on in the same second).
        {
            let (store, client, mut stop, tally, dir) = (
                store.clone(),
                client.clone(),
                stop.clone(),
                tally.clone(),
                dir.clone(),
            );
            let every = Duration::from_secs(opts.heartbeat_secs);
            tasks.push(tokio::spawn(async move {
                let mut beat = tokio::time::interval_at(window.start + plan.heartbeat_phase, every);
                beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        _ = beat.tick() => {}
                        _ = stop.changed() => return,
                    }
                    let snap = health::collect(
                        &mut store.lock().unwrap_or_else(|e| e.into_inner()),
                        &dir,
                        quota,
                        Default::default(),
                        None,
                    );
                    let Ok(snap) = snap else {
                        tally.lock().unwrap_or_else(|e| e.into_inner()).errors.local += 1;
                        continue;
                    };
                    let hb = snap.heartbeat();
                    let bytes = serde_json::to_vec(&hb).map_or(0, |v| v.len() as u64);
                    let ok = client.heartbeat(&hb).await.is_ok();
                    let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
                    if ok {
                        t.heartbeat_bytes.0 += bytes;
                        t.heartbeat_bytes.1 += 1;
                    } else if window.recovered() {
                        t.errors.heartbeats_failed_after_recovery += 1;
                    }
                }
            }));
        }

        // Sync checks, as the sync timer runs them.
        {
            let (client, mut stop, tally) = (client.clone(), stop.clone(), tally.clone());
            let region = profile.terminal.region_code;
            tasks.push(tokio::spawn(async move {
                let delays = std::iter::once(plan.first_sync).chain(plan.sync_delays);
                for d in delays {
                    tokio::select! {
                        _ = tokio::time::sleep(d) => {}
                        _ = stop.changed() => return,
                    }
                    let r = sync::sync_once(&client, &mut sync_store, region, false, &|_| {}).await;
                    if r.is_err() && window.recovered() {
                        tally
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .errors
                            .syncs_failed_after_recovery += 1;
                    }
                }
            }));
        }

        // Citizens: the backlog, queued during the outage.
        {
            let (store, key, wake, mut stop, tally) = (store, key, wake, stop, tally);
            let catalog_version = store
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .catalog_version()
                .ok()
                .flatten()
                .unwrap_or(0);
            tasks.push(tokio::spawn(async move {
                for (n, at) in plan.submissions.into_iter().enumerate() {
                    tokio::select! {
                        _ = tokio::time::sleep_until(window.start + Duration::from_secs_f64(at)) => {}
                        _ = stop.changed() => return,
                    }
                    let queued = {
                        let mut s = store.lock().unwrap_or_else(|e| e.into_inner());
                        if n % 2 == 0 {
                            outbox::enqueue_case(
                                &mut s,
                                &key,
                                quota,
                                sample_case(index, n, catalog_version),
                                clock.now(),
                            )
                            .map(|_| ())
                        } else {
                            outbox::enqueue_event(
                                &mut s,
                                &key,
                                quota,
                                "evaluation",
                                &serde_json::json!({ "score": 5, "terminal": index, "n": n }),
                                clock.now(),
                            )
                            .map(|_| ())
                        }
                    };
                    let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
                    match queued {
                        Ok(()) => t.terminals[index].queued += 1,
                        Err(_) => t.errors.local += 1,
                    }
                    drop(t);
                    wake.notify_one();
                }
            }));
        }
        tasks
    }
}

/// A case as a kiosk would queue it: an applicant (sealed at rest), a form and one small
/// material image.
fn sample_case(terminal: usize, n: usize, catalog_version: u64) -> outbox::NewCase {
    let first17 = format!("50010319500307{:03}", (terminal * 7 + n) % 1000);
    outbox::NewCase {
        matters: vec![crate::core::domain::Code::new("fleet-sim-matter").expect("a valid code")],
        bundle: None,
        catalog_version,
        applicant: Applicant::Person {
            person: Person {
                name: format!("仿真{n}"),
                id_number: IdNumber::complete(&first17).expect("17 digits"),
                address: "重庆市渝中区解放碑街道民族路188号".into(),
            },
        },
        agent: None,
        delivery: None,
        answers: Default::default(),
        materials: Vec::new(),
        form: [("f_phone".to_owned(), "13800000000".to_owned())].into(),
        images: vec![("m1".to_owned(), vec![0xFF; 2048])],
    }
}
