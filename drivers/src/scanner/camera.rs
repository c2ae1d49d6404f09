//! QR codes in camera frames, decoded with rqrr: luma conversion, downscaling of large frames,
//! then retries with contrast stretching (dim or washed-out frames) and a global Otsu threshold
//! (blurred frames).

use image::{DynamicImage, GrayImage};

/// Frames larger than this (longest side) are scaled down first: faster, and rqrr copes better
/// with modules a few pixels wide than with very large ones.
pub const MAX_SIDE: u32 = 1280;

/// One rqrr pass over a grey frame as it is: no downscaling, no retries (the first thing
/// [`decode_qr_luma`] tries). The printer emulator tests read their PNGs with it.
pub fn decode_gray(img: &GrayImage) -> Vec<String> {
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        img.width() as usize,
        img.height() as usize,
        |x, y| img.get_pixel(x as u32, y as u32).0[0],
    );
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|g| g.decode().ok().map(|(_, s)| s))
        .collect()
}

fn stretch(img: &GrayImage) -> Option<GrayImage> {
    let (lo, hi) = img
        .pixels()
        .fold((255u8, 0u8), |(lo, hi), p| (lo.min(p.0[0]), hi.max(p.0[0])));
    if hi <= lo || (lo < 16 && hi > 239) {
        return None;
    }
    let range = f32::from(hi - lo);
    let mut out = img.clone();
    for p in out.pixels_mut() {
        p.0[0] = ((f32::from(p.0[0] - lo) / range) * 255.0) as u8;
    }
    Some(out)
}

/// Global Otsu threshold: a clean black/white image for blurred or unevenly sharp frames.
fn binarize_otsu(img: &GrayImage) -> GrayImage {
    let mut hist = [0u64; 256];
    for p in img.pixels() {
        hist[usize::from(p.0[0])] += 1;
    }
    let total: u64 = hist.iter().sum();
    let sum: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, n)| i as f64 * *n as f64)
        .sum();
    let (mut sum_b, mut w_b, mut best, mut threshold) = (0.0, 0u64, 0.0, 128u8);
    for (t, n) in hist.iter().enumerate() {
        w_b += n;
        if w_b == 0 || w_b == total {
            continue;
        }
        sum_b += t as f64 * *n as f64;
        let w_f = (total - w_b) as f64;
        let (m_b, m_f) = (sum_b / w_b as f64, (sum - sum_b) / w_f);
        let between = w_b as f64 * w_f * (m_b - m_f) * (m_b - m_f);
        if between > best {
            best = between;
            threshold = t as u8;
        }
    }
    let mut out = img.clone();
    for p in out.pixels_mut() {
        p.0[0] = if p.0[0] <= threshold { 0 } else { 255 };
    }
    out
}

/// Decodes every QR code found in a grey frame.
pub fn decode_qr_luma(img: &GrayImage) -> Vec<String> {
    let side = img.width().max(img.height());
    let scaled = (side > MAX_SIDE).then(|| {
        let f = MAX_SIDE as f32 / side as f32;
        image::imageops::resize(
            img,
            ((img.width() as f32 * f) as u32).max(1),
            ((img.height() as f32 * f) as u32).max(1),
            image::imageops::FilterType::Triangle,
        )
    });
    let primary = scaled.as_ref().unwrap_or(img);
    let found = decode_gray(primary);
    if !found.is_empty() {
        return found;
    }
    if let Some(s) = stretch(primary) {
        let found = decode_gray(&s);
        if !found.is_empty() {
            return found;
        }
    }
    let found = decode_gray(&binarize_otsu(primary));
    if !found.is_empty() {
        return found;
    }
    if scaled.is_some() {
        return decode_gray(img);
    }
    Vec::new()
}

/// Decodes every QR code found in an RGB frame (what [`crate::camera`] sources deliver).
pub fn decode_qr_rgb(img: &image::RgbImage) -> Vec<String> {
    decode_qr_luma(&image::imageops::grayscale(img))
}

/// Decodes every QR code found in a colour or grey frame.
pub fn decode_qr(img: &DynamicImage) -> Vec<String> {
    decode_qr_luma(&img.to_luma8())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escpos::canvas::qr_bitmap;
    use crate::escpos::encode::QrEcLevel;
    use image::Luma;

    fn frame(text: &str, w: u32, h: u32, module: u8, dark: u8, light: u8) -> GrayImage {
        let bmp = qr_bitmap(text.as_bytes(), module, QrEcLevel::M).unwrap();
        let mut img = GrayImage::from_pixel(w, h, Luma([light]));
        let (x0, y0) = ((w - bmp.width()) / 2, (h - bmp.height()) / 2);
        for y in 0..bmp.height() {
            for x in 0..bmp.width() {
                let v = if bmp.get(x, y) { dark } else { light };
                img.put_pixel(x0 + x, y0 + y, Luma([v]));
            }
        }
        img
    }

    #[test]
    fn decodes_plain_low_contrast_and_large_frames() {
        assert_eq!(
            decode_qr_luma(&frame("渝快码 12345", 640, 480, 6, 0, 255)),
            ["渝快码 12345"]
        );
        assert_eq!(
            decode_qr_luma(&frame("LOWCONTRAST", 640, 480, 6, 110, 150)),
            ["LOWCONTRAST"]
        );
        assert_eq!(
            decode_qr_luma(&frame("BIG", 2560, 1440, 20, 0, 255)),
            ["BIG"]
        );
        assert!(decode_qr_luma(&GrayImage::from_pixel(320, 240, Luma([128]))).is_empty());
    }

    fn rotate(img: &GrayImage, degrees: f32) -> GrayImage {
        let (w, h) = img.dimensions();
        let (c, s) = (degrees.to_radians().cos(), degrees.to_radians().sin());
        let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
        GrayImage::from_fn(w, h, |x, y| {
            let (dx, dy) = (x as f32 - cx, y as f32 - cy);
            let (sx, sy) = (c * dx + s * dy + cx, -s * dx + c * dy + cy);
            if sx >= 0.0 && sy >= 0.0 && (sx as u32) < w && (sy as u32) < h {
                *img.get_pixel(sx as u32, sy as u32)
            } else {
                Luma([255])
            }
        })
    }

    #[test]
    fn decodes_rotated_blurred_and_noisy_frames() {
        let base = frame("https://ykb.example.invalid/c/42", 640, 480, 5, 0, 255);
        for deg in [90.0, 17.0, -33.0] {
            assert_eq!(
                decode_qr_luma(&rotate(&base, deg)),
                ["https://ykb.example.invalid/c/42"],
                "{deg}°"
            );
        }
        let blurred = image::imageops::blur(&base, 1.5);
        assert_eq!(
            decode_qr_luma(&blurred),
            ["https://ykb.example.invalid/c/42"]
        );
        let mut noisy = base.clone();
        let mut seed = 7u32;
        for p in noisy.pixels_mut() {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let n = ((seed >> 16) % 61) as i16 - 30;
            p.0[0] = (i16::from(p.0[0]) + n).clamp(0, 255) as u8;
        }
        assert_eq!(decode_qr_luma(&noisy), ["https://ykb.example.invalid/c/42"]);
    }
}
