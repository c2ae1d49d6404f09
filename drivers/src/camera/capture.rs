//! 材料采集 — material capture: a still encoded as JPEG under a size cap (sans-IO apart from
//! asking the source for a frame).
//!
//! Text must stay legible, so resolution is given up before quality: the frame is first
//! scaled to fit `max_side`, then scaled further (at the starting quality) down to
//! `min_legible_side`, and only then is the JPEG quality lowered, step by step, to
//! `min_quality`. Blocky JPEG artefacts smear strokes sooner than a moderate downscale does.
//! Only if that still does not fit is the image scaled below `min_legible_side`.
//! A fit found by scaling that is well under the cap gets one better-informed larger try.

use std::io::Cursor;

use image::imageops::FilterType;
use image::RgbImage;

use super::{CameraError, FrameSource};

/// How a material photo is encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureConfig {
    /// Largest JPEG in bytes (default 1 MB, what the platform accepts per material image).
    pub max_bytes: usize,
    /// Frames larger than this (longest side, pixels) are scaled down first (default 3508:
    /// A4 at 300 dpi).
    pub max_side: u32,
    /// Below this longest side (default 1600, A4 at about 140 dpi) quality is lowered before
    /// resolution.
    pub min_legible_side: u32,
    /// First JPEG quality tried (default 90).
    pub start_quality: u8,
    /// Lowest JPEG quality used (default 60).
    pub min_quality: u8,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        Self {
            max_bytes: 1_000_000,
            max_side: 3508,
            min_legible_side: 1600,
            start_quality: 90,
            min_quality: 60,
        }
    }
}

/// A captured material image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaterialCapture {
    /// The JPEG file.
    pub jpeg: Vec<u8>,
    /// Encoded width in pixels.
    pub width: u32,
    /// Encoded height in pixels.
    pub height: u32,
    /// JPEG quality used.
    pub quality: u8,
    /// The frame's size as the camera delivered it.
    pub source_size: (u32, u32),
    /// JPEG encodings tried before this one fitted.
    pub attempts: u32,
}

/// Why no material image could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    /// The camera delivered no frame.
    #[error(transparent)]
    Camera(#[from] CameraError),
    /// Even a small, low-quality JPEG is larger than the cap.
    #[error("cannot fit the image under {max_bytes} bytes")]
    CapTooSmall {
        /// The cap.
        max_bytes: usize,
    },
    /// The encoder failed.
    #[error("JPEG encoding failed: {0}")]
    Encode(String),
}

impl CaptureError {
    /// What to tell a citizen or technician (zh-CN).
    pub fn describe_zh(&self) -> &'static str {
        match self {
            Self::Camera(e) => e.describe_zh(),
            Self::CapTooSmall { .. } => "图片大小上限过小，无法保存清晰的材料照片",
            Self::Encode(_) => "材料照片保存失败，请重试",
        }
    }
}

/// No refinement of a fitting size after this many encodings (each costs a full JPEG encode).
const REFINE_UNTIL: u32 = 3;

/// Smallest longest side the last-resort downscale goes to.
const FLOOR_SIDE: u32 = 320;

fn encode(img: &RgbImage, quality: u8) -> Result<Vec<u8>, CaptureError> {
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100))
        .encode_image(img)
        .map_err(|e| CaptureError::Encode(e.to_string()))?;
    Ok(out.into_inner())
}

fn fit(img: &RgbImage, side: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    let longest = w.max(h);
    if longest <= side {
        return img.clone();
    }
    let f = side as f64 / longest as f64;
    let (nw, nh) = (
        ((w as f64 * f).round() as u32).max(1),
        ((h as f64 * f).round() as u32).max(1),
    );
    // Triangle over the full support is an area-like filter: no ringing around strokes.
    image::imageops::resize(img, nw, nh, FilterType::Triangle)
}

/// The next longest side to try, from how far over the cap the last attempt was.
fn shrink(side: u32, size: usize, cap: usize) -> u32 {
    // JPEG size goes roughly with the pixel count, i.e. with the side squared. Aim just under
    // the cap (every pixel kept helps legibility), in steps of at most 40 %.
    let f = ((cap as f64 / size as f64).sqrt() * 0.98).clamp(0.6, 0.95);
    (side as f64 * f) as u32
}

/// Encodes `frame` as a JPEG of at most `config.max_bytes`, giving up resolution before
/// quality (see the module comment).
pub fn encode_capped(
    frame: &RgbImage,
    config: &CaptureConfig,
) -> Result<MaterialCapture, CaptureError> {
    let source_size = frame.dimensions();
    let mut side = source_size.0.max(source_size.1).min(config.max_side.max(1));
    let mut quality = config.start_quality;
    let mut attempts = 0;
    let legible = config.min_legible_side.min(side);
    // The smallest side (and its size) known not to fit at the starting quality, and the
    // best fit so far.
    let mut too_big: Option<(u32, usize)> = None;
    let mut best: Option<MaterialCapture> = None;
    loop {
        let img = fit(frame, side);
        let jpeg = encode(&img, quality)?;
        attempts += 1;
        let len = jpeg.len();
        if len <= config.max_bytes {
            let shot = MaterialCapture {
                jpeg,
                width: img.width(),
                height: img.height(),
                quality,
                source_size,
                attempts,
            };
            // Downscaled noise compresses better than the side-squared guess says: a fit well
            // under the cap is followed by one better-informed guess between it and the size
            // that did not fit; the largest fit wins.
            if let Some((big, big_len)) = too_big {
                let next = interpolate((side, len), (big, big_len), config.max_bytes);
                if quality == config.start_quality
                    && len < config.max_bytes * 17 / 20
                    && next > side + side / 32
                    && attempts < REFINE_UNTIL
                {
                    best = Some(shot);
                    side = next;
                    continue;
                }
            }
            return Ok(shot);
        }
        if let Some(mut shot) = best.take() {
            shot.attempts = attempts;
            return Ok(shot);
        }
        if side > legible {
            too_big = Some((side, len));
            side = shrink(side, len, config.max_bytes).max(legible);
        } else if quality > config.min_quality {
            quality = quality.saturating_sub(5).max(config.min_quality);
        } else if side > FLOOR_SIDE {
            side = shrink(side, len, config.max_bytes).max(FLOOR_SIDE);
        } else {
            return Err(CaptureError::CapTooSmall {
                max_bytes: config.max_bytes,
            });
        }
    }
}

/// The side whose JPEG should come to 95 % of `cap`, from a size that fitted and one that did
/// not, assuming size ∝ side^k between them.
fn interpolate(fit: (u32, usize), big: (u32, usize), cap: usize) -> u32 {
    let (s0, l0) = (f64::from(fit.0), fit.1.max(1) as f64);
    let (s1, l1) = (f64::from(big.0), big.1.max(1) as f64);
    let k = ((l1 / l0).ln() / (s1 / s0).ln()).clamp(0.5, 4.0);
    let target = s0 * (0.95 * cap as f64 / l0).powf(1.0 / k);
    (target as u32).clamp(fit.0, big.0.saturating_sub(1).max(fit.0))
}

/// Takes a still from `source` and encodes it under the cap.
pub fn capture(
    source: &mut dyn FrameSource,
    config: &CaptureConfig,
) -> Result<MaterialCapture, CaptureError> {
    let frame = source.next_frame()?;
    encode_capped(&frame, config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Rgb};

    /// A scanned page: paper with noise (what makes JPEGs big), text-like lines of glyph-sized
    /// strokes, and a QR code whose decoding afterwards proves fine detail survived.
    fn document(w: u32, h: u32) -> (RgbImage, Vec<(u32, u32)>) {
        let mut seed = 0x2545_F491u32;
        let mut img = RgbImage::from_fn(w, h, |_, _| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let n = ((seed >> 16) % 25) as u8;
            Rgb([228 + n, 226 + n, 218 + n])
        });
        let unit = (w / 300).max(2); // a stroke's width
        let glyph = unit * 8;
        let pitch = glyph * 2;
        let mut lines = Vec::new();
        let mut y = h / 10;
        while y + glyph < h * 3 / 5 {
            lines.push((y, y + glyph));
            for gx in (w / 10..w * 9 / 10 - glyph).step_by(glyph as usize + unit as usize * 2) {
                // Each "character": a box outline and a middle stroke.
                for dy in 0..glyph {
                    for dx in 0..glyph {
                        let edge =
                            dx < unit || dx >= glyph - unit || dy < unit || dy >= glyph - unit;
                        let mid = dy >= glyph / 2 - unit / 2 && dy < glyph / 2 + unit / 2 + 1;
                        if edge || mid {
                            img.put_pixel(gx + dx, y + dy, Rgb([25, 25, 35]));
                        }
                    }
                }
            }
            y += pitch;
        }
        let qr = crate::escpos::canvas::qr_bitmap(
            b"https://ykb.example.invalid/material/42",
            (w / 200).clamp(3, 40) as u8,
            crate::escpos::encode::QrEcLevel::M,
        )
        .unwrap();
        let (qx, qy) = (w / 10, h * 2 / 3);
        for y in 0..qr.height() {
            for x in 0..qr.width() {
                if qr.get(x, y) {
                    img.put_pixel(qx + x, qy + y, Rgb([0, 0, 0]));
                }
            }
        }
        (img, lines)
    }

    fn decode(jpeg: &[u8]) -> RgbImage {
        image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg)
            .unwrap()
            .into_rgb8()
    }

    fn mean_luma(img: &GrayImage, y0: u32, y1: u32) -> f64 {
        let (w, _) = img.dimensions();
        let mut sum = 0u64;
        for y in y0..y1 {
            for x in w / 10..w * 9 / 10 {
                sum += u64::from(img.get_pixel(x, y).0[0]);
            }
        }
        sum as f64 / f64::from((y1 - y0) * (w * 8 / 10))
    }

    #[test]
    fn a_captured_document_fits_the_cap_and_stays_legible() {
        let (page, lines) = document(2480, 3508);
        let config = CaptureConfig::default();
        let shot = encode_capped(&page, &config).unwrap();
        eprintln!(
            "A4 page 2480×3508 → {}×{} at quality {}, {} bytes, {} attempts",
            shot.width,
            shot.height,
            shot.quality,
            shot.jpeg.len(),
            shot.attempts
        );
        // The noisy page does not fit at full size: it was scaled, not crushed.
        assert!(shot.attempts > 1 && shot.height < 3508, "{shot:?}");
        assert!(shot.jpeg.len() <= 1_000_000, "{} bytes", shot.jpeg.len());
        assert!(shot.width.max(shot.height) >= config.min_legible_side);
        let back = decode(&shot.jpeg);
        assert_eq!(back.dimensions(), (shot.width, shot.height));
        // Lines of text stay darker than the paper between them.
        let gray = image::DynamicImage::ImageRgb8(back.clone()).into_luma8();
        let f = f64::from(shot.height) / f64::from(page.height());
        for (y0, y1) in lines.iter().take(5) {
            let (a, b) = ((f64::from(*y0) * f) as u32, (f64::from(*y1) * f) as u32);
            let ink = mean_luma(&gray, a, b);
            let gap = mean_luma(&gray, b + (b - a) / 4, b + (b - a) * 3 / 4);
            assert!(
                gap - ink > 40.0,
                "line {y0}: ink {ink:.0} vs paper {gap:.0}"
            );
        }
        // Fine detail survives: the QR code on the page still decodes.
        assert_eq!(
            crate::scanner::decode_qr(&image::DynamicImage::ImageRgb8(back)),
            ["https://ykb.example.invalid/material/42"]
        );
    }

    #[test]
    fn resolution_is_given_up_before_quality() {
        let (page, _) = document(2000, 1500);
        let config = CaptureConfig {
            max_bytes: 150_000,
            min_legible_side: 1200,
            ..Default::default()
        };
        let shot = encode_capped(&page, &config).unwrap();
        assert!(shot.jpeg.len() <= 150_000);
        if shot.quality < config.start_quality {
            assert_eq!(shot.width.max(shot.height), 1200, "{shot:?}");
        }
        assert!(decode(&shot.jpeg).width() == shot.width);
    }

    #[test]
    fn a_huge_frame_is_downscaled_to_max_side() {
        let frame = RgbImage::from_fn(6000, 4000, |x, y| {
            let v = if (x / 40 + y / 40) % 2 == 0 { 30 } else { 230 };
            Rgb([v, v, v])
        });
        let config = CaptureConfig {
            max_side: 2000,
            ..Default::default()
        };
        let shot = encode_capped(&frame, &config).unwrap();
        assert_eq!((shot.width, shot.height), (2000, 1333));
        assert_eq!(shot.source_size, (6000, 4000));
        assert!(shot.jpeg.len() <= config.max_bytes);
        assert_eq!(decode(&shot.jpeg).dimensions(), (2000, 1333));
    }

    #[test]
    fn an_impossible_cap_is_a_typed_error() {
        let (page, _) = document(800, 600);
        let config = CaptureConfig {
            max_bytes: 200,
            ..Default::default()
        };
        assert_eq!(
            encode_capped(&page, &config),
            Err(CaptureError::CapTooSmall { max_bytes: 200 })
        );
    }

    #[test]
    fn capture_takes_a_still_from_a_source() {
        let mut src = super::super::TestPattern::new(1280, 720);
        let shot = capture(&mut src, &CaptureConfig::default()).unwrap();
        assert_eq!((shot.width, shot.height), (1280, 720));
        assert_eq!(shot.quality, 90);
    }
}
