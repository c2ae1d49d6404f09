//! 高拍仪与摄像头 — cameras and document cameras: frame sources behind one trait, and material
//! capture (a still encoded as JPEG under a size cap, text kept legible).
//!
//! Sources: [`StillImage`] (one image file), [`ImageFolder`] (a folder of images, in turn — demo
//! and tests), [`TestPattern`] (generated), and `V4l2Camera` behind the cargo feature `v4l2`
//! (off by default; pure-Rust `linuxvideo`, no libclang or kernel headers). [`open_source`]
//! picks one from a device string. [`capture`] is sans-IO: image in, JPEG bytes out.

pub mod capture;
pub mod source;
#[cfg(feature = "v4l2")]
pub mod v4l2;

pub use capture::{encode_capped, CaptureConfig, CaptureError, MaterialCapture};
pub use source::{load_image, FrameSource, ImageFolder, StillImage, TestPattern};
#[cfg(feature = "v4l2")]
pub use v4l2::V4l2Camera;

use std::path::Path;

use crate::status::ErrorKind;

/// Why a camera could not deliver a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CameraError {
    /// The device or file is not there or cannot be opened.
    #[error("camera {device} offline: {reason}")]
    Offline {
        /// Device path, file or folder.
        device: String,
        /// The OS or decoder error.
        reason: String,
    },
    /// A frame arrived but could not be decoded (unknown pixel format, broken image).
    #[error("camera {device}: bad frame: {reason}")]
    BadFrame {
        /// Device path or file.
        device: String,
        /// What is wrong.
        reason: String,
    },
    /// No frame within the timeout.
    #[error("camera {0}: no frame in time")]
    Timeout(String),
    /// The device string names nothing this build can open.
    #[error("unsupported camera {0}")]
    Unsupported(String),
}

impl CameraError {
    /// The broad class for the UI.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Timeout(_) => ErrorKind::Timeout,
            _ => ErrorKind::Device,
        }
    }

    /// What to tell a citizen or technician (zh-CN).
    pub fn describe_zh(&self) -> &'static str {
        match self {
            Self::Offline { .. } => "摄像头未连接，请联系工作人员",
            Self::BadFrame { .. } => "摄像头画面异常，请重试",
            Self::Timeout(_) => "摄像头无响应，请稍后重试",
            Self::Unsupported(_) => "不支持的摄像头设备",
        }
    }
}

/// Opens a frame source from a device string:
/// `pattern` or `pattern:WxH` (test pattern), a folder (its images in turn), an image file,
/// `/dev/videoN` (V4L2; needs the `v4l2` feature), or `ws://…/Camera` (the host's XFS4IoT
/// camera service, one picture a frame).
pub fn open_source(device: &str) -> Result<Box<dyn FrameSource>, CameraError> {
    if let Some(rest) = device.strip_prefix("pattern") {
        let (w, h) = match rest.strip_prefix(':') {
            None if rest.is_empty() => (1280, 720),
            Some(size) => size
                .split_once(['x', 'X'])
                .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
                .filter(|&(w, h): &(u32, u32)| (16..=8192).contains(&w) && (16..=8192).contains(&h))
                .ok_or_else(|| {
                    CameraError::Unsupported(format!("{device} (use pattern:1280x720)"))
                })?,
            None => return Err(CameraError::Unsupported(device.to_string())),
        };
        return Ok(Box::new(TestPattern::new(w, h)));
    }
    if device.starts_with("ws://") || device.starts_with("wss://") {
        let cam =
            crate::xfs4iot::Xfs4IotCamera::connect(device, Default::default()).map_err(|e| {
                CameraError::Offline {
                    device: device.to_string(),
                    reason: e.to_string(),
                }
            })?;
        return Ok(Box::new(cam));
    }
    let path = Path::new(device);
    if device.starts_with("/dev/video") {
        #[cfg(feature = "v4l2")]
        return Ok(Box::new(V4l2Camera::open(path)?));
        #[cfg(not(feature = "v4l2"))]
        return Err(CameraError::Unsupported(format!(
            "{device}: this build has no V4L2 support (build with --features ykb-drivers/v4l2)"
        )));
    }
    if path.is_dir() {
        return Ok(Box::new(ImageFolder::open(path)?));
    }
    if path.is_file() {
        return Ok(Box::new(StillImage::open(path)?));
    }
    Err(CameraError::Offline {
        device: device.to_string(),
        reason: "no such file, folder or device".into(),
    })
}
