//! V4L2 cameras (`/dev/videoN`), behind the cargo feature `v4l2`. Uses `linuxvideo`, which is
//! pure Rust over `libc` ioctls: no libclang, no kernel headers, no libv4l at build time.
//! Formats taken: YUYV (every UVC camera) and MJPG/JPEG (decoded with `image`).

use std::path::{Path, PathBuf};

use image::{Rgb, RgbImage};
use linuxvideo::format::{PixFormat, PixelFormat};
use linuxvideo::stream::ReadStream;
use linuxvideo::{BufType, Device};

use super::{CameraError, FrameSource};

/// A V4L2 capture device streaming at its largest size in YUYV or MJPG.
pub struct V4l2Camera {
    path: PathBuf,
    stream: ReadStream,
    format: PixelFormat,
    width: u32,
    height: u32,
}

impl V4l2Camera {
    /// Opens `path` and starts streaming.
    pub fn open(path: &Path) -> Result<Self, CameraError> {
        let offline = |e: std::io::Error| CameraError::Offline {
            device: path.display().to_string(),
            reason: e.to_string(),
        };
        let device = Device::open(path).map_err(offline)?;
        let formats = device
            .formats(BufType::VIDEO_CAPTURE)
            .map(|f| f.map(|f| f.pixel_format()))
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(offline)?;
        let format = [PixelFormat::YUYV, PixelFormat::MJPG, PixelFormat::JPEG]
            .into_iter()
            .find(|f| formats.contains(f))
            .ok_or_else(|| {
                CameraError::Unsupported(format!("{}: formats {formats:?}", path.display()))
            })?;
        // Ask for the largest size; the driver answers with the nearest it supports.
        let capture = device
            .video_capture(PixFormat::new(u32::MAX, u32::MAX, format))
            .map_err(offline)?;
        let (width, height, format) = (
            capture.format().width(),
            capture.format().height(),
            capture.format().pixel_format(),
        );
        let stream = capture.into_stream().map_err(offline)?;
        Ok(Self {
            path: path.to_path_buf(),
            stream,
            format,
            width,
            height,
        })
    }
}

fn clamp(v: f32) -> u8 {
    v.clamp(0.0, 255.0) as u8
}

fn yuyv_to_rgb(data: &[u8], w: u32, h: u32) -> Option<RgbImage> {
    if data.len() < (w * h * 2) as usize {
        return None;
    }
    Some(RgbImage::from_fn(w, h, |x, y| {
        let i = ((y * w + (x & !1)) * 2) as usize;
        let luma = f32::from(data[i + if x & 1 == 0 { 0 } else { 2 }]);
        let (u, v) = (
            f32::from(data[i + 1]) - 128.0,
            f32::from(data[i + 3]) - 128.0,
        );
        Rgb([
            clamp(luma + 1.402 * v),
            clamp(luma - 0.344 * u - 0.714 * v),
            clamp(luma + 1.772 * u),
        ])
    }))
}

impl FrameSource for V4l2Camera {
    fn describe(&self) -> String {
        format!(
            "{} ({}×{} {})",
            self.path.display(),
            self.width,
            self.height,
            self.format
        )
    }

    fn next_frame(&mut self) -> Result<RgbImage, CameraError> {
        let (w, h, format) = (self.width, self.height, self.format);
        let device = self.path.display().to_string();
        let bad = |reason: String| CameraError::BadFrame {
            device: device.clone(),
            reason,
        };
        let frame = self
            .stream
            .dequeue(|buf| {
                Ok(if format == PixelFormat::YUYV {
                    yuyv_to_rgb(&buf, w, h)
                        .ok_or_else(|| format!("short YUYV frame of {} bytes", buf.len()))
                } else {
                    image::load_from_memory_with_format(&buf, image::ImageFormat::Jpeg)
                        .map(|i| i.into_rgb8())
                        .map_err(|e| e.to_string())
                })
            })
            .map_err(|e| CameraError::Offline {
                device: device.clone(),
                reason: e.to_string(),
            })?;
        frame.map_err(bad)
    }
}
