//! The document camera: the live preview and the still of a material, on the camera's own
//! thread; and which camera a profile's slots name.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ykb_drivers::camera::capture::{capture, CaptureConfig};

use super::thread::DeviceThread;
use crate::core::config::DeviceSection;

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
    slots
        .into_iter()
        .find_map(|d| super::slots::camera(d, simulated))
}

/// One still from `source` (as [`camera_source`] names it), JPEG under the capture's size
/// cap, on the calling thread; `Err` is what went wrong, in words.
pub fn take_still(source: &str) -> Result<Vec<u8>, String> {
    let mut camera =
        ykb_drivers::camera::open_source(source).map_err(|e| e.describe_zh().to_owned())?;
    capture(camera.as_mut(), &CaptureConfig::default())
        .map(|c| c.jpeg)
        .map_err(|e| e.describe_zh().to_owned())
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
