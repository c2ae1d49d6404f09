//! The kiosk's background services: outbox delivery, the receipt printer and the document
//! camera. Each runs off the UI thread and reports through a callback (which posts to the
//! UI's inbox); none of them knows Slint.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ykb_drivers::camera::capture::{capture, CaptureConfig};
use ykb_drivers::escpos::{
    load_font_static, Printer, PrinterUri, Receipt, ReceiptRenderer, ReceiptStyle,
};
use ykb_drivers::sim::{PrinterSim, PrinterSimConfig};

use crate::core::config::{DeviceSection, DriverKind, TicketingSection};
use crate::core::crypto::DataKey;
use crate::core::health::DeviceHealth;
use crate::core::outbox::{self, Backoff, Step, WorkerEvent};
use crate::core::platform::PlatformClient;
use crate::core::store::Store;
use crate::core::ticketing;
use crate::fonts::UI_FONT;

/// A device's reading thread: started with a stop flag it polls, stopped and joined on drop.
pub struct DeviceThread {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl DeviceThread {
    /// Runs `body` on a thread named `name` until it returns; `body` checks the flag.
    pub fn spawn(
        name: &str,
        body: impl FnOnce(&std::sync::atomic::AtomicBool) + Send + 'static,
    ) -> Result<Self, String> {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || body(&flag))
            .map_err(|e| e.to_string())?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for DeviceThread {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Asks the platform, on a worker thread, which e-licences (电子证照) the person with
/// `id_number` holds; `done` gets the number and the licence names. A failure is logged and
/// nothing is reported (the materials then simply are not exempt).
pub fn look_up_licences(
    platform: Arc<crate::kiosk::link::PlatformLink>,
    id_number: String,
    done: impl FnOnce(String, Vec<String>) + Send + 'static,
) {
    look_up_licences_reporting(platform, id_number, move |id_number, answer| match answer {
        Ok(names) => done(id_number, names),
        Err(e) => tracing::warn!(error = %e, "e-licence look-up failed"),
    });
}

/// [`look_up_licences`], with failures reported too (证照打印 tells the citizen that it needs
/// the network): `done` gets the number and the names, or what went wrong.
pub fn look_up_licences_reporting(
    platform: Arc<crate::kiosk::link::PlatformLink>,
    id_number: String,
    done: impl FnOnce(String, Result<Vec<String>, String>) + Send + 'static,
) {
    let spawned = std::thread::Builder::new()
        .name("licences".into())
        .spawn(move || {
            let answer = platform
                .runtime()
                .block_on(platform.client.licences(&id_number))
                .map(|list| list.licences.into_iter().map(|l| l.licence_type).collect())
                .map_err(|e| e.to_string());
            done(id_number, answer);
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "e-licence look-up not started");
    }
}

/// Fetches one e-licence's printable copy on a worker thread; `done` gets it, or the reason
/// in the citizen's words (the platform's own error is logged).
pub fn fetch_licence_copy(
    platform: Arc<crate::kiosk::link::PlatformLink>,
    id_number: String,
    licence_type: String,
    done: impl FnOnce(Result<crate::core::platform::wire::LicenceDocument, String>) + Send + 'static,
) {
    let spawned = std::thread::Builder::new()
        .name("licence-copy".into())
        .spawn(move || {
            let answer = platform
                .runtime()
                .block_on(platform.client.licence_document(&id_number, &licence_type))
                .map_err(|e| {
                    if let crate::core::platform::LicenceDocumentError::Unavailable(cause) = &e {
                        tracing::warn!(error = %cause, "e-licence copy not fetched");
                    }
                    e.to_string()
                });
            done(answer);
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "e-licence copy not started");
    }
}

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
        platform: &crate::kiosk::link::PlatformLink,
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

/// How far a print job has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintProgress {
    /// Opening the printer and rendering the receipt.
    Preparing,
    /// `sent` of the job's `total` bytes written to the printer.
    Sending { sent: usize, total: usize },
}

impl PrintProgress {
    /// The share done, 0.0 to 1.0 (an empty job is complete once sent).
    pub fn fraction(&self) -> f32 {
        match *self {
            Self::Preparing => 0.0,
            Self::Sending { total: 0, .. } => 1.0,
            Self::Sending { sent, total } => (sent.min(total) as f64 / total as f64) as f32,
        }
    }
}

/// The receipt printer: the configured ESC/POS printer, or for `simulated` the drivers'
/// printer emulator on TCP loopback, which writes each job as a PNG under `sim_dir`.
pub struct ReceiptPrinter {
    uri: PrinterUri,
    _sim: Option<PrinterSim>,
    renderer: Arc<ReceiptRenderer>,
    /// Serialises jobs: one receipt at a time.
    lock: Arc<Mutex<()>>,
}

impl ReceiptPrinter {
    /// Opens the printer slot of the profile; `Ok(None)` when no printer is configured.
    pub fn start(dev: &DeviceSection, sim_dir: &Path) -> Result<Option<Self>, String> {
        let font = load_font_static(UI_FONT).ok();
        let (uri, sim) = match dev.driver {
            DriverKind::None => return Ok(None),
            DriverKind::Simulated => {
                let sim = PrinterSim::start_tcp(
                    "127.0.0.1:0",
                    PrinterSimConfig::new(sim_dir, font.clone()),
                )
                .map_err(|e| format!("打印机模拟器无法启动：{e}"))?;
                (format!("tcp://{}", sim.local_addr()), Some(sim))
            }
            _ => (dev.path.clone(), None),
        };
        let uri = PrinterUri::parse(&uri).map_err(|e| format!("打印机地址 {uri} 无效：{e}"))?;
        Ok(Some(Self {
            uri,
            _sim: sim,
            renderer: Arc::new(ReceiptRenderer::new(font, ReceiptStyle::default())),
            lock: Arc::new(Mutex::new(())),
        }))
    }

    /// The emulator's job folder, when the printer is simulated.
    pub fn sim_jobs(&self) -> Option<Vec<PathBuf>> {
        self._sim.as_ref().map(|s| s.shared().jobs())
    }

    /// Prints `receipt` on a worker thread; `done` gets `Ok` or what to tell the citizen, and
    /// the printer's health as it answered (`None` when it could not be asked).
    pub fn print(
        &self,
        receipt: Receipt,
        done: impl FnOnce(Result<(), String>, Option<DeviceHealth>) + Send + 'static,
    ) {
        self.print_with_progress(receipt, |_| {}, done)
    }

    /// [`ReceiptPrinter::print`], telling `progress` how far the job has come: the stage
    /// ([`PrintProgress::Preparing`] while the printer is opened and the receipt rendered)
    /// and then the job's bytes as the driver writes them. Reports are thinned to whole
    /// percents.
    pub fn print_with_progress(
        &self,
        receipt: Receipt,
        progress: impl Fn(PrintProgress) + Send + 'static,
        done: impl FnOnce(Result<(), String>, Option<DeviceHealth>) + Send + 'static,
    ) {
        let uri = self.uri.clone();
        let renderer = self.renderer.clone();
        let lock = self.lock.clone();
        let spawned = std::thread::Builder::new()
            .name("kiosk-print".into())
            .spawn(move || {
                let _one = lock.lock().unwrap_or_else(|e| e.into_inner());
                let mut health = None;
                progress(PrintProgress::Preparing);
                let mut last = None;
                let result = Printer::open(&uri)
                    .and_then(|mut p| {
                        let printed =
                            p.print_receipt_with_progress(&receipt, &renderer, |sent, total| {
                                let percent = (sent * 100).checked_div(total).unwrap_or(100);
                                if last != Some(percent) {
                                    last = Some(percent);
                                    progress(PrintProgress::Sending { sent, total });
                                }
                            });
                        // After the job the roll may be near its end: ask, for staff.
                        health = p.status().ok().map(|s| DeviceHealth {
                            state: s.state,
                            paper: Some(s.paper),
                        });
                        printed
                    })
                    .map_err(|e| {
                        tracing::warn!(printer = %uri, error = %e, "receipt not printed");
                        if let ykb_drivers::escpos::PrinterError::NotReady(s) = &e {
                            health = Some(DeviceHealth {
                                state: s.state,
                                paper: Some(s.paper),
                            });
                        } else if health.is_none() {
                            health = Some(DeviceHealth {
                                state: ykb_drivers::DeviceState::Offline,
                                paper: None,
                            });
                        }
                        e.describe_zh().to_owned()
                    });
                done(result, health);
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "print thread not started");
        }
    }
}

/// The kiosk's search: all matters, best first; a failure is logged and finds nothing.
pub fn search_now(
    conn: &rusqlite::Connection,
    query: &str,
    limit: usize,
) -> Vec<crate::core::search::SearchHit> {
    crate::core::search::search(conn, query, &crate::core::search::Filters::default(), limit)
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "search failed");
            Vec::new()
        })
}

/// Search (FTS5 over the store's index) on its own thread and its own store connection, so
/// typing never waits for the database. Only the newest query is run when several queue up.
pub struct Searcher {
    tx: std::sync::mpsc::Sender<String>,
}

impl Searcher {
    /// Opens the store at `store_path` for searching; `done` gets each query with its hits.
    pub fn start(
        store_path: &Path,
        limit: usize,
        done: impl Fn(String, Vec<crate::core::search::SearchHit>) + Send + 'static,
    ) -> Result<Self, String> {
        let mut store = Store::open(store_path).map_err(|e| e.to_string())?;
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        std::thread::Builder::new()
            .name("kiosk-search".into())
            .spawn(move || {
                while let Ok(mut query) = rx.recv() {
                    // Typing fast queues several; only the last one matters.
                    while let Ok(newer) = rx.try_recv() {
                        query = newer;
                    }
                    let hits = search_now(store.conn(), &query, limit);
                    done(query, hits);
                }
            })
            .map_err(|e| e.to_string())?;
        Ok(Self { tx })
    }

    /// Asks for `query`; the answer comes through `done`.
    pub fn ask(&self, query: &str) {
        let _ = self.tx.send(query.to_owned());
    }
}

/// A photographed material: the JPEG to submit and a small preview for the screen.
pub struct Photo {
    pub jpeg: Vec<u8>,
    pub preview: image::RgbImage,
}

/// The device string of the camera that photographs materials: the document camera, or
/// without one the camera; `simulated` slots use the drivers' moving test pattern. `Err` is
/// what to tell the citizen when there is none.
pub fn camera_source(
    document_camera: &DeviceSection,
    camera: &DeviceSection,
) -> Result<String, String> {
    first_camera([document_camera, camera], Some("pattern:1600x1200"))
        .ok_or_else(|| "本机没有配置摄像头".to_owned())
}

/// The first fitted camera of `slots`, as `open_source` takes it: its path, or for
/// `simulated` the test pattern `simulated` names (`None`: a simulated camera does not count).
pub fn first_camera<'a>(
    slots: impl IntoIterator<Item = &'a DeviceSection>,
    simulated: Option<&str>,
) -> Option<String> {
    slots.into_iter().find_map(|d| match d.driver {
        DriverKind::None => None,
        DriverKind::Simulated => simulated.map(str::to_owned),
        _ => Some(d.path.clone()),
    })
}

/// Largest preview frame (the capture page shows it at about this size).
pub const PREVIEW_SIZE: (u32, u32) = (640, 480);

/// Time between preview frames: about 9 a second, enough to aim a page and light on the UI.
pub const PREVIEW_INTERVAL: Duration = Duration::from_millis(110);

/// One preview frame, numbered from 1 since the camera opened.
pub struct Frame {
    pub number: u64,
    pub image: image::RgbImage,
}

/// What the live camera tells the kiosk (from its own thread).
pub enum CameraNews {
    /// A new preview frame waits in [`LiveCamera::take_frame`].
    Frame,
    /// The still taken for `material` after [`LiveCamera::shoot`].
    Photo {
        material: String,
        result: Result<Photo, String>,
    },
    /// The camera could not be opened or stopped delivering (what to tell the citizen); the
    /// thread has ended.
    Failed(String),
}

enum CameraCommand {
    Shoot(String),
    Pause,
    Resume,
}

/// The capture page's camera: one thread holds the frame source open, sends downscaled
/// preview frames every [`PREVIEW_INTERVAL`] while live, and takes the full-resolution still
/// (JPEG under the size cap) from the same source on "拍照". Stopped and joined on drop.
/// Only the newest preview frame is kept: a busy UI skips frames rather than queue them.
pub struct LiveCamera {
    commands: std::sync::mpsc::Sender<CameraCommand>,
    latest: Arc<Mutex<Option<Frame>>>,
    _thread: DeviceThread,
}

impl LiveCamera {
    /// Opens `source` (an [`ykb_drivers::camera::open_source`] device string) on a new thread
    /// and starts the live preview; everything after that comes through `news`.
    pub fn start(
        source: String,
        news: impl Fn(CameraNews) + Send + 'static,
    ) -> Result<Self, String> {
        let (commands, rx) = std::sync::mpsc::channel();
        let latest = Arc::new(Mutex::new(None));
        let slot = latest.clone();
        let thread = DeviceThread::spawn("kiosk-camera", move |stop| {
            run_camera(&source, stop, &rx, &slot, &news)
        })?;
        Ok(Self {
            commands,
            latest,
            _thread: thread,
        })
    }

    /// Takes the still for `material`; the preview pauses after it. `false` when the camera
    /// has stopped (its failure was reported).
    pub fn shoot(&self, material: String) -> bool {
        self.commands.send(CameraCommand::Shoot(material)).is_ok()
    }

    /// Live preview on (`true`) or paused with the device kept open (`false`).
    pub fn set_live(&self, live: bool) {
        let _ = self.commands.send(if live {
            CameraCommand::Resume
        } else {
            CameraCommand::Pause
        });
    }

    /// The newest preview frame not yet taken.
    pub fn take_frame(&self) -> Option<Frame> {
        self.latest.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

fn run_camera(
    source: &str,
    stop: &std::sync::atomic::AtomicBool,
    commands: &std::sync::mpsc::Receiver<CameraCommand>,
    latest: &Mutex<Option<Frame>>,
    news: &dyn Fn(CameraNews),
) {
    use std::sync::mpsc::RecvTimeoutError;
    let mut camera = match ykb_drivers::camera::open_source(source) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(camera = %source, error = %e, "camera not opened");
            news(CameraNews::Failed(e.describe_zh().to_owned()));
            return;
        }
    };
    let mut live = true;
    let mut number = 0u64;
    let mut next_frame = std::time::Instant::now();
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let wait = if live {
            next_frame.saturating_duration_since(std::time::Instant::now())
        } else {
            // Paused: wake now and then to see the stop flag.
            Duration::from_millis(200)
        };
        match commands.recv_timeout(wait) {
            Ok(CameraCommand::Shoot(material)) => {
                live = false;
                let result = capture(camera.as_mut(), &CaptureConfig::default())
                    .map_err(|e| e.describe_zh().to_owned())
                    .and_then(|c| {
                        let preview = image::load_from_memory(&c.jpeg)
                            .map_err(|e| format!("照片无法显示：{e}"))?
                            .thumbnail(PREVIEW_SIZE.0, PREVIEW_SIZE.1)
                            .to_rgb8();
                        Ok(Photo {
                            jpeg: c.jpeg,
                            preview,
                        })
                    });
                news(CameraNews::Photo { material, result });
                continue;
            }
            Ok(CameraCommand::Pause) => {
                live = false;
                continue;
            }
            Ok(CameraCommand::Resume) => {
                if !live {
                    live = true;
                    next_frame = std::time::Instant::now();
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) if !live => continue,
            Err(RecvTimeoutError::Timeout) => {}
        }
        next_frame = std::time::Instant::now() + PREVIEW_INTERVAL;
        match camera.next_frame() {
            Ok(frame) => {
                number += 1;
                let image = image::DynamicImage::ImageRgb8(frame)
                    .thumbnail(PREVIEW_SIZE.0, PREVIEW_SIZE.1)
                    .to_rgb8();
                let was_empty = latest
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .replace(Frame { number, image })
                    .is_none();
                // The UI is told once per frame it has not fetched yet.
                if was_empty {
                    news(CameraNews::Frame);
                }
            }
            Err(e) => {
                tracing::warn!(camera = %camera.describe(), error = %e, "camera stopped");
                news(CameraNews::Failed(e.describe_zh().to_owned()));
                return;
            }
        }
    }
}

/// How long the done page waits for a delivery before it settles for 已暂存.
pub const SUBMIT_GRACE: Duration = Duration::from_secs(3);
