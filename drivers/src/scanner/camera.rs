//! QR codes in camera frames: luma conversion, downscaling of large frames, then rxing
//! (ZXing's reader) on the frame and on sharpened and upscaled versions of it, then rqrr
//! (see [`decode_qr_luma`]). Pure functions of the frame.

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

/// Unsharp masking: `img + amount · (img − blur(img, sigma))`, which undoes part of a camera's
/// defocus before thresholding.
pub fn sharpen(img: &GrayImage, sigma: f32, amount: f32) -> GrayImage {
    let blurred = image::imageops::blur(img, sigma);
    let mut out = img.clone();
    for (o, b) in out.pixels_mut().zip(blurred.pixels()) {
        let v = f32::from(o.0[0]);
        o.0[0] = (v + amount * (v - f32::from(b.0[0])))
            .round()
            .clamp(0.0, 255.0) as u8;
    }
    out
}

/// Bilinear upscale by 2: modules of 2–3 px become 4–6 px, which rqrr's sampling of module
/// centres needs.
pub fn upscale2(img: &GrayImage) -> GrayImage {
    image::imageops::resize(
        img,
        img.width() * 2,
        img.height() * 2,
        image::imageops::FilterType::Triangle,
    )
}

/// One pass of rxing (ZXing's QR reader, hybrid binariser, try-harder) over a grey frame.
pub fn decode_zxing(img: &GrayImage) -> Vec<String> {
    rxing::helpers::detect_in_luma_slice(
        img.as_raw(),
        img.width(),
        img.height(),
        Some(rxing::BarcodeFormat::QR_CODE),
    )
    .map(|r| vec![r.getText().to_string()])
    .unwrap_or_default()
}

/// Decodes every QR code found in a grey frame: frames larger than [`MAX_SIDE`] are scaled
/// down, then passes run in order until one reads something — rxing on the frame, sharpened,
/// and upscaled ×2 (small modules); last rqrr on the frame (the path before rxing). Both
/// decoders check the Reed–Solomon codewords, so a pass reads a code or nothing; a wrong
/// payload is as unlikely as from any reader.
pub fn decode_qr_luma(img: &GrayImage) -> Vec<String> {
    let primary = fit(img);
    let primary = primary.as_ref().unwrap_or(img);
    std::iter::once(Pass::Plain)
        .chain(Pass::EXTRA)
        .map(|p| p.run(primary))
        .find(|found| !found.is_empty())
        .unwrap_or_default()
}

/// The same passes spread over a live camera's frames, so no frame costs more than two of
/// them: rxing on every frame, then the one extra pass (sharpened, ×2, rqrr) that `frame`
/// selects in turn. A code held before the camera meets each pass within three frames.
pub fn decode_qr_luma_live(img: &GrayImage, frame: u64) -> Vec<String> {
    let primary = fit(img);
    let primary = primary.as_ref().unwrap_or(img);
    let found = Pass::Plain.run(primary);
    if !found.is_empty() {
        return found;
    }
    Pass::EXTRA[(frame % Pass::EXTRA.len() as u64) as usize].run(primary)
}

/// `img` scaled down to [`MAX_SIDE`], when larger.
fn fit(img: &GrayImage) -> Option<GrayImage> {
    let side = img.width().max(img.height());
    (side > MAX_SIDE).then(|| {
        let f = MAX_SIDE as f32 / side as f32;
        image::imageops::resize(
            img,
            ((img.width() as f32 * f) as u32).max(1),
            ((img.height() as f32 * f) as u32).max(1),
            image::imageops::FilterType::Triangle,
        )
    })
}

/// One decoding pass of [`decode_qr_luma`].
#[derive(Debug, Clone, Copy)]
enum Pass {
    Plain,
    Sharpened,
    Upscaled,
    Rqrr,
}

impl Pass {
    /// The passes after the plain one, in order.
    const EXTRA: [Pass; 3] = [Pass::Sharpened, Pass::Upscaled, Pass::Rqrr];

    fn run(self, img: &GrayImage) -> Vec<String> {
        match self {
            Pass::Plain => decode_zxing(img),
            Pass::Sharpened => decode_zxing(&sharpen(img, 2.0, 1.5)),
            Pass::Upscaled => decode_zxing(&upscale2(img)),
            Pass::Rqrr => decode_gray(img),
        }
    }
}

/// [`decode_qr_luma_live`] for an RGB frame of a live camera.
pub fn decode_qr_rgb_live(img: &image::RgbImage, frame: u64) -> Vec<String> {
    decode_qr_luma_live(&image::imageops::grayscale(img), frame)
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

    #[test]
    fn sharpening_steepens_edges_and_leaves_flat_areas_alone() {
        let flat = GrayImage::from_pixel(40, 20, Luma([140]));
        assert_eq!(sharpen(&flat, 2.0, 1.5), flat);
        let edge = image::imageops::blur(
            &GrayImage::from_fn(40, 20, |x, _| Luma([if x < 20 { 40 } else { 210 }])),
            2.0,
        );
        let sharp = sharpen(&edge, 2.0, 1.5);
        let step = |img: &GrayImage| {
            i16::from(img.get_pixel(21, 10).0[0]) - i16::from(img.get_pixel(18, 10).0[0])
        };
        assert!(
            step(&sharp) > step(&edge) + 20,
            "{} vs {}",
            step(&sharp),
            step(&edge)
        );
    }

    #[test]
    fn upscaling_doubles_the_frame_and_keeps_its_values() {
        let img = GrayImage::from_fn(30, 10, |x, _| Luma([if x < 15 { 0 } else { 255 }]));
        let big = upscale2(&img);
        assert_eq!(big.dimensions(), (60, 20));
        assert_eq!(big.get_pixel(2, 5).0[0], 0);
        assert_eq!(big.get_pixel(57, 15).0[0], 255);
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
