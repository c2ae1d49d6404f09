//! 手写签名 — the applicant's signature on the screen, carried by the case: the strokes as
//! written (in the pad's 1024 × 1024 box, y down) and a PNG drawn from them, uploaded as the
//! material [`MATERIAL_ID`]. Both are personal data: the PNG rides the case's images and
//! the strokes its form, so the outbox seals them with the rest and wipes them once the
//! platform has the case. Pure: strokes in, bytes out.

use image::{GrayImage, Luma};

use crate::core::outbox::NewCase;

/// The material id the signature's PNG is uploaded under.
pub const MATERIAL_ID: &str = "signature";
/// The form key of the strokes (JSON `[[[x, y], …], …]`).
pub const STROKES_KEY: &str = "signature.strokes";
/// The form key naming the PNG's material id.
pub const IMAGE_KEY: &str = "signature.image";

/// The pad's box, as the handwriting pad's.
use super::ink::BOX;
/// The PNG's size: the pad's aspect on the review page (wide and low).
const WIDTH: u32 = 768;
const HEIGHT: u32 = 256;

/// Whether `strokes` are a signature at all: an empty pad (or only dots) is not.
pub fn is_signature(strokes: &[Vec<[i32; 2]>]) -> bool {
    strokes.iter().any(|s| s.len() >= 2)
}

/// The signature drawn black on white as a PNG.
pub fn png(strokes: &[Vec<[i32; 2]>]) -> Vec<u8> {
    let mut img = GrayImage::from_pixel(WIDTH, HEIGHT, Luma([255]));
    let at = |[x, y]: [i32; 2]| {
        (
            (x.clamp(0, BOX - 1) as i64 * i64::from(WIDTH) / i64::from(BOX)) as i32,
            (y.clamp(0, BOX - 1) as i64 * i64::from(HEIGHT) / i64::from(BOX)) as i32,
        )
    };
    for stroke in strokes {
        for pair in stroke.windows(2) {
            line(&mut img, at(pair[0]), at(pair[1]));
        }
        if let [p] = stroke.as_slice() {
            let (x, y) = at(*p);
            line(&mut img, (x, y), (x, y));
        }
    }
    let mut out = std::io::Cursor::new(Vec::new());
    // Encoding an in-memory grey image cannot fail.
    let _ = img.write_to(&mut out, image::ImageFormat::Png);
    out.into_inner()
}

/// A 3-pixel pen from `a` to `b`.
fn line(img: &mut GrayImage, a: (i32, i32), b: (i32, i32)) {
    let steps = (b.0 - a.0).abs().max((b.1 - a.1).abs()).max(1);
    for i in 0..=steps {
        let x = a.0 + (b.0 - a.0) * i / steps;
        let y = a.1 + (b.1 - a.1) * i / steps;
        for dx in -1..=1 {
            for dy in -1..=1 {
                let (px, py) = (x + dx, y + dy);
                if px >= 0 && py >= 0 && (px as u32) < WIDTH && (py as u32) < HEIGHT {
                    img.put_pixel(px as u32, py as u32, Luma([0]));
                }
            }
        }
    }
}

/// Adds the signature to `case`: its PNG among the images, its strokes in the form. An
/// empty pad adds nothing (it is not a signature).
pub fn attach(case: &mut NewCase, strokes: &[Vec<[i32; 2]>]) {
    if !is_signature(strokes) {
        return;
    }
    case.images.push((MATERIAL_ID.to_owned(), png(strokes)));
    case.form.insert(
        STROKES_KEY.to_owned(),
        serde_json::to_string(strokes).unwrap_or_default(),
    );
    case.form
        .insert(IMAGE_KEY.to_owned(), MATERIAL_ID.to_owned());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_pad_or_lone_dots_are_no_signature() {
        assert!(!is_signature(&[]));
        assert!(!is_signature(&[vec![[10, 10]], vec![]]));
        assert!(is_signature(&[vec![[10, 10], [200, 300]]]));
    }

    #[test]
    fn the_png_shows_the_strokes_where_they_were_written() {
        let bytes = png(&[vec![[0, 512], [1023, 512]]]);
        let img = image::load_from_memory(&bytes).unwrap().to_luma8();
        assert_eq!((img.width(), img.height()), (WIDTH, HEIGHT));
        // A line across the middle, nothing at the top.
        assert!((0..WIDTH)
            .step_by(50)
            .all(|x| img.get_pixel(x, HEIGHT / 2)[0] == 0));
        assert!((0..WIDTH).all(|x| img.get_pixel(x, 2)[0] == 255));
    }
}
