//! Outbox delivery inside a UI terminal: the worker that brings each case and event to the
//! platform (and keeps ticket leases topped up and notices fresh), reporting as [`DeliveryNews`].

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::core::config::TicketingSection;
use crate::core::crypto::DataKey;
use crate::core::outbox::{self, Backoff, Step, WorkerEvent};
use crate::core::platform::PlatformClient;
use crate::core::store::Store;
use crate::core::ticketing;

/// What the delivery worker tells the kiosk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryNews {
    /// A case or event reached the platform (`unified_code` for cases).
    Delivered {
        id: String,
        unified_code: Option<String>,
    },
    /// How far an item's delivery has come (bytes; see `outbox::Progress`).
    Progress { id: String, sent: u64, total: u64 },
    /// The platform could not be reached or refused for now: the banner says so.
    Offline,
    /// The platform's current maintenance notices (§27), shown in the banner.
    Notices(Vec<crate::core::platform::wire::Notice>),
}

/// The outbox worker inside the UI terminal, so a case reaches the platform while the citizen
/// is still at the screen (the demo has no agent service; installed terminals have one as
/// well): its own store connection on the same file, serialised with the UI's by SQLite's
/// locks.
pub struct Delivery {
    wake: Arc<tokio::sync::Notify>,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Delivery {
    /// Starts the worker on `runtime`; with `ticketing`, also keeps this terminal's ticket
    /// number leases topped up (every minute, while the platform answers).
    pub fn start(
        runtime: &tokio::runtime::Runtime,
        store_path: &Path,
        key_path: &Path,
        client: &PlatformClient,
        retention_days: u32,
        ticketing: Option<TicketingSection>,
        report: impl Fn(DeliveryNews) + Send + Sync + 'static,
    ) -> Result<Self, String> {
        let store = Store::open(store_path).map_err(|e| e.to_string())?;
        let key = DataKey::load(key_path).map_err(|e| e.to_string())?;
        let worker_client =
            PlatformClient::new(client.config().clone()).map_err(|e| e.to_string())?;
        if let Some(c) = client.credentials() {
            worker_client.set_credentials(c);
        }
        let wake = Arc::new(tokio::sync::Notify::new());
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        if let Some(cfg) = ticketing {
            let store = Store::open(store_path).map_err(|e| e.to_string())?;
            let lease_client =
                PlatformClient::new(client.config().clone()).map_err(|e| e.to_string())?;
            if let Some(c) = client.credentials() {
                lease_client.set_credentials(c);
            }
            runtime.spawn(keep_leases(
                Mutex::new(store),
                lease_client,
                cfg,
                stop_rx.clone(),
            ));
        }
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<WorkerEvent>();
        let report = Arc::new(report);
        let notices_client =
            PlatformClient::new(client.config().clone()).map_err(|e| e.to_string())?;
        if let Some(c) = client.credentials() {
            notices_client.set_credentials(c);
        }
        let news = report.clone();
        let mut notices_stop = stop_rx.clone();
        runtime.spawn(async move {
            loop {
                match notices_client.notices().await {
                    Ok(list) => news(DeliveryNews::Notices(list.notices)),
                    Err(e) => tracing::debug!(error = %e, "notices not fetched"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(300)) => {}
                    _ = notices_stop.changed() => return,
                }
            }
        });
        runtime.spawn(outbox::run_worker(
            Arc::new(Mutex::new(store)),
            Arc::new(key),
            worker_client,
            Backoff::default(),
            retention_days,
            wake.clone(),
            stop_rx,
            Some(tx),
        ));
        runtime.spawn(async move {
            while let Some(e) = rx.recv().await {
                match e {
                    WorkerEvent::Step(Step::Delivered { id, unified_code }) => {
                        report(DeliveryNews::Delivered {
                            id: id.to_string(),
                            unified_code,
                        })
                    }
                    WorkerEvent::Step(Step::Retry { .. }) => report(DeliveryNews::Offline),
                    WorkerEvent::Progress(p) => report(DeliveryNews::Progress {
                        id: p.id.to_string(),
                        sent: p.sent,
                        total: p.total,
                    }),
                    _ => {}
                }
            }
        });
        Ok(Self { wake, stop })
    }

    /// A new case was queued: deliver now rather than at the next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Tops the ticket number leases up now and every minute until `stop`.
async fn keep_leases(
    store: Mutex<Store>,
    client: PlatformClient,
    cfg: TicketingSection,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        match ticketing::top_up(&store, &client, &cfg, jiff::Timestamp::now()).await {
            Ok(t) if !t.leased.is_empty() => {
                tracing::info!(leases = t.leased.len(), "ticket numbers leased")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "ticket leases not topped up"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
            _ = stop.changed() => return,
        }
    }
}

impl Delivery {
    /// The worker for a terminal's platform link: `core`'s store file and key, the link's
    /// client and runtime; a failure to start is logged (cases then stay queued for the
    /// agent). On installed terminals the agent's worker delivers from the same store too:
    /// each case goes out under its own idempotency key, so whichever worker sends it, the
    /// platform holds it once (`tests/outbox_delivery.rs`).
    pub fn for_terminal(
        core: &crate::core::Core,
        platform: &crate::terminal::link::PlatformLink,
        report: impl Fn(DeliveryNews) + Send + Sync + 'static,
    ) -> Option<Self> {
        Self::start(
            platform.runtime(),
            &core.data_dir.join(crate::core::STORE_FILE),
            core.key.path(),
            &platform.client,
            core.profile.data.retention_days,
            core.profile.ticketing.clone(),
            report,
        )
        .map_err(|e| tracing::warn!(error = %e, "outbox delivery not started; cases stay queued"))
        .ok()
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// A case just stored whose delivery the screen waits for (briefly) before it settles for
/// the local number.
pub struct Awaiting {
    /// The local case id (the outbox item).
    pub case_id: String,
    /// The terminal's own number for it (本机编号).
    pub local_number: String,
    /// When to stop waiting.
    pub until: std::time::Instant,
}

/// How long the done page waits for a delivery before it settles for 已暂存.
pub const SUBMIT_GRACE: Duration = Duration::from_secs(3);
