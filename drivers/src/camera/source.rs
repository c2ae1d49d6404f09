//! Frame sources: one trait, and the sources that need no hardware.

use std::path::{Path, PathBuf};

use image::{Rgb, RgbImage};

use super::CameraError;

/// Anything that delivers camera frames: a V4L2 device, a folder of images, a test pattern.
pub trait FrameSource: Send {
    /// The device's name for messages (path, folder, `pattern 1280×720`).
    fn describe(&self) -> String;
    /// The next frame, waiting for it if the device is live.
    fn next_frame(&mut self) -> Result<RgbImage, CameraError>;
}

/// Reads an image file (PNG or JPEG) into RGB.
pub fn load_image(path: &Path) -> Result<RgbImage, CameraError> {
    let reader = image::ImageReader::open(path)
        .map_err(|e| CameraError::Offline {
            device: path.display().to_string(),
            reason: e.to_string(),
        })?
        .with_guessed_format()
        .map_err(|e| CameraError::Offline {
            device: path.display().to_string(),
            reason: e.to_string(),
        })?;
    let img = reader.decode().map_err(|e| CameraError::BadFrame {
        device: path.display().to_string(),
        reason: e.to_string(),
    })?;
    Ok(img.into_rgb8())
}

/// One image file, delivered as every frame (a document camera pointed at one page).
pub struct StillImage {
    path: PathBuf,
    frame: RgbImage,
}

impl StillImage {
    /// Loads `path` once.
    pub fn open(path: &Path) -> Result<Self, CameraError> {
        Ok(Self {
            frame: load_image(path)?,
            path: path.to_path_buf(),
        })
    }
}

impl FrameSource for StillImage {
    fn describe(&self) -> String {
        self.path.display().to_string()
    }
    fn next_frame(&mut self) -> Result<RgbImage, CameraError> {
        Ok(self.frame.clone())
    }
}

/// The images of a folder (`.png`, `.jpg`, `.jpeg`, by name), one per frame, starting again
/// after the last.
pub struct ImageFolder {
    dir: PathBuf,
    files: Vec<PathBuf>,
    next: usize,
}

impl ImageFolder {
    /// Lists the folder's images; an empty folder is an error.
    pub fn open(dir: &Path) -> Result<Self, CameraError> {
        let offline = |reason: String| CameraError::Offline {
            device: dir.display().to_string(),
            reason,
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| offline(e.to_string()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.is_file()
                    && matches!(
                        p.extension()
                            .and_then(|e| e.to_str())
                            .map(str::to_ascii_lowercase)
                            .as_deref(),
                        Some("png" | "jpg" | "jpeg")
                    )
            })
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(offline("no .png/.jpg images in the folder".into()));
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            files,
            next: 0,
        })
    }

    /// The images, in the order they are delivered.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }
}

impl FrameSource for ImageFolder {
    fn describe(&self) -> String {
        format!("{} ({} images)", self.dir.display(), self.files.len())
    }
    fn next_frame(&mut self) -> Result<RgbImage, CameraError> {
        let path = &self.files[self.next];
        self.next = (self.next + 1) % self.files.len();
        load_image(path)
    }
}

/// A generated picture: colour bars, a grey ramp, a page of text-like lines and a marker that
/// moves with each frame (so a frozen stream is visible).
pub struct TestPattern {
    width: u32,
    height: u32,
    frame: u32,
}

impl TestPattern {
    /// A pattern of `width`×`height` pixels.
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            width: width.max(16),
            height: height.max(16),
            frame: 0,
        }
    }

    /// Frame number `n` of the pattern.
    pub fn render(&self, n: u32) -> RgbImage {
        const BARS: [[u8; 3]; 8] = [
            [235, 235, 235],
            [235, 235, 16],
            [16, 235, 235],
            [16, 235, 16],
            [235, 16, 235],
            [235, 16, 16],
            [16, 16, 235],
            [16, 16, 16],
        ];
        let (w, h) = (self.width, self.height);
        let bars_h = h / 3;
        let ramp_h = h / 12;
        let line_pitch = (h / 40).max(4);
        let marker = (w / 16).max(4);
        let marker_x = (n * marker) % w.saturating_sub(marker).max(1);
        RgbImage::from_fn(w, h, |x, y| {
            if y < bars_h {
                Rgb(BARS[(x * 8 / w) as usize])
            } else if y < bars_h + ramp_h {
                let v = (x * 255 / w.max(1)) as u8;
                Rgb([v, v, v])
            } else if y >= h - marker && x >= marker_x && x < marker_x + marker {
                Rgb([200, 30, 30])
            } else {
                // Text-like lines: strokes of varying length on white paper, with margins.
                let row = (y - bars_h - ramp_h) / line_pitch;
                let in_row = (y - bars_h - ramp_h) % line_pitch;
                let margin = w / 12;
                let len = w - 2 * margin - (row * 37 % 5) * w / 12;
                let glyph = (x / (line_pitch / 2).max(2)) % 5 != 4;
                let ink = in_row < line_pitch / 2
                    && x >= margin
                    && x < margin + len
                    && glyph
                    && ((x + y) % 3 != 0);
                if ink {
                    Rgb([20, 20, 30])
                } else {
                    Rgb([250, 250, 245])
                }
            }
        })
    }
}

impl FrameSource for TestPattern {
    fn describe(&self) -> String {
        format!("test pattern {}×{}", self.width, self.height)
    }
    fn next_frame(&mut self) -> Result<RgbImage, CameraError> {
        let img = self.render(self.frame);
        self.frame = self.frame.wrapping_add(1);
        Ok(img)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solid(dir: &Path, name: &str, v: u8) {
        RgbImage::from_pixel(32, 24, Rgb([v, v, v]))
            .save(dir.join(name))
            .unwrap();
    }

    #[test]
    fn a_folder_source_cycles_through_its_images_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        solid(dir.path(), "b.png", 20);
        solid(dir.path(), "a.png", 10);
        solid(dir.path(), "c.jpg", 200);
        std::fs::write(dir.path().join("notes.txt"), "not an image").unwrap();
        let mut src = ImageFolder::open(dir.path()).unwrap();
        assert_eq!(src.files().len(), 3);
        let seen: Vec<u8> = (0..7)
            .map(|_| src.next_frame().unwrap().get_pixel(5, 5).0[0])
            .collect();
        // JPEG is lossy: compare loosely.
        let close = |a: u8, b: u8| a.abs_diff(b) <= 4;
        for (i, want) in [10u8, 20, 200, 10, 20, 200, 10].iter().enumerate() {
            assert!(close(seen[i], *want), "frame {i}: {} vs {want}", seen[i]);
        }
    }

    #[test]
    fn an_empty_folder_or_missing_file_is_an_offline_camera() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            ImageFolder::open(dir.path()),
            Err(CameraError::Offline { .. })
        ));
        assert!(matches!(
            super::super::open_source("/nonexistent/page.png"),
            Err(CameraError::Offline { .. })
        ));
    }

    #[test]
    fn the_test_pattern_moves_between_frames() {
        let mut p = TestPattern::new(320, 240);
        let a = p.next_frame().unwrap();
        let b = p.next_frame().unwrap();
        assert_eq!(a.dimensions(), (320, 240));
        assert_ne!(a, b);
        let src = super::super::open_source("pattern:640x480").unwrap();
        assert_eq!(src.describe(), "test pattern 640×480");
        assert!(super::super::open_source("pattern:9x9").is_err());
    }
}
