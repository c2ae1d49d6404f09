//! 1-bit raster images for `GS v 0`, and text drawn with a caller-supplied font (for lines the
//! printer's built-in font cannot print, and for PNG previews).

use ab_glyph::{Font, FontArc, FontVec, PxScale, ScaleFont};

/// A loaded font, as [`load_font`] returns it and the renderer and the printer emulator take it.
pub type LoadedFont = FontArc;
use image::{GrayImage, Luma};

use super::encode::Align;

/// A 1-bit image, rows padded to whole bytes, MSB first, 1 = black (the `GS v 0` layout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl Bitmap {
    /// A white image of `width`×`height` dots.
    pub fn new(width: u32, height: u32) -> Self {
        let row = width.div_ceil(8) as usize;
        Self {
            width,
            height,
            data: vec![0; row * height as usize],
        }
    }

    /// From `GS v 0` data: `width_bytes` per row, `height` rows (data must be that long).
    pub fn from_raw(width_bytes: usize, height: usize, data: Vec<u8>) -> Option<Self> {
        (data.len() == width_bytes * height).then_some(Self {
            width: (width_bytes * 8) as u32,
            height: height as u32,
            data,
        })
    }

    /// Thresholds a grey image (dark below 128 becomes black).
    pub fn from_gray(img: &GrayImage) -> Self {
        let mut b = Self::new(img.width(), img.height());
        for (x, y, p) in img.enumerate_pixels() {
            if p.0[0] < 128 {
                b.set(x, y, true);
            }
        }
        b
    }

    /// Width in dots.
    pub fn width(&self) -> u32 {
        self.width
    }
    /// Height in dots.
    pub fn height(&self) -> u32 {
        self.height
    }
    /// Bytes per row.
    pub fn width_bytes(&self) -> usize {
        self.width.div_ceil(8) as usize
    }
    /// The packed rows.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Sets a dot (ignored outside the image).
    pub fn set(&mut self, x: u32, y: u32, black: bool) {
        if x >= self.width || y >= self.height {
            return;
        }
        let i = y as usize * self.width_bytes() + (x / 8) as usize;
        let bit = 0x80 >> (x % 8);
        if black {
            self.data[i] |= bit;
        } else {
            self.data[i] &= !bit;
        }
    }

    /// Reads a dot.
    pub fn get(&self, x: u32, y: u32) -> bool {
        if x >= self.width || y >= self.height {
            return false;
        }
        self.data[y as usize * self.width_bytes() + (x / 8) as usize] & (0x80 >> (x % 8)) != 0
    }

    /// As a grey image (black dots 0, white 255).
    pub fn to_gray(&self) -> GrayImage {
        GrayImage::from_fn(self.width, self.height, |x, y| {
            Luma([if self.get(x, y) { 0 } else { 255 }])
        })
    }
}

/// A font could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot load font: {0}")]
pub struct FontError(pub String);

/// Loads a TrueType/OpenType font (or the first face of a collection) from bytes.
pub fn load_font(bytes: Vec<u8>) -> Result<FontArc, FontError> {
    FontVec::try_from_vec_and_index(bytes, 0)
        .map(FontArc::new)
        .map_err(|e| FontError(e.to_string()))
}

/// Loads a font from bytes that live as long as the program (`include_bytes!`), without
/// copying them.
pub fn load_font_static(bytes: &'static [u8]) -> Result<FontArc, FontError> {
    ab_glyph::FontRef::try_from_slice_and_index(bytes, 0)
        .map(FontArc::new)
        .map_err(|e| FontError(e.to_string()))
}

/// Whether `font` has a glyph for every character of `s` (whitespace aside).
pub fn font_covers(font: &FontArc, s: &str) -> bool {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .all(|c| font.glyph_id(c).0 != 0)
}

/// Draws text with a font.
#[derive(Clone)]
pub struct TextPainter {
    font: FontArc,
}

impl TextPainter {
    /// Uses `font` (the app's embedded CJK font).
    pub fn new(font: FontArc) -> Self {
        Self { font }
    }

    /// The font.
    pub fn font(&self) -> &FontArc {
        &self.font
    }

    /// Width of one character's cell: the printer's built-in font is fixed-pitch, half a
    /// square for ASCII and a full square for everything else.
    fn cell(c: char, scale: PxScale) -> f32 {
        if c.is_ascii() {
            scale.x / 2.0
        } else {
            scale.x
        }
    }

    /// Width in dots of `s` at `scale`, in printer cells.
    pub fn measure(&self, s: &str, scale: PxScale) -> f32 {
        s.chars().map(|c| Self::cell(c, scale)).sum()
    }

    /// Draws `s` onto `img` with its top at `top`, aligned within the image width, one glyph
    /// per printer cell so text lines up as the printer's own font does; `bold` draws twice
    /// one dot apart.
    pub fn draw(
        &self,
        img: &mut GrayImage,
        s: &str,
        top: u32,
        scale: PxScale,
        align: Align,
        bold: bool,
    ) {
        let width = self.measure(s, scale);
        let x0 = match align {
            Align::Left => 0.0,
            Align::Center => ((img.width() as f32 - width) / 2.0).max(0.0),
            Align::Right => (img.width() as f32 - width).max(0.0),
        };
        let f = self.font.as_scaled(scale);
        let mut pen = x0;
        for c in s.chars() {
            let cell = Self::cell(c, scale);
            let adv = f.h_advance(f.glyph_id(c));
            let x = pen + ((cell - adv) / 2.0).max(0.0);
            for dx in if bold { 0..2 } else { 0..1 } {
                self.draw_glyph(img, c, x + dx as f32, top as f32, scale);
            }
            pen += cell;
        }
    }

    fn draw_glyph(&self, img: &mut GrayImage, c: char, x: f32, top: f32, scale: PxScale) {
        let f = self.font.as_scaled(scale);
        let glyph = f
            .glyph_id(c)
            .with_scale_and_position(scale, ab_glyph::point(x, top + f.ascent()));
        if let Some(outline) = self.font.outline_glyph(glyph) {
            let b = outline.px_bounds();
            outline.draw(|gx, gy, cov| {
                let px = b.min.x as i64 + i64::from(gx);
                let py = b.min.y as i64 + i64::from(gy);
                if px >= 0 && py >= 0 && (px as u32) < img.width() && (py as u32) < img.height() {
                    let p = img.get_pixel_mut(px as u32, py as u32);
                    let ink = (cov.clamp(0.0, 1.0) * 255.0) as u8;
                    p.0[0] = p.0[0].min(255 - ink);
                }
            });
        }
    }

    /// A white image `width`×`height` with `s` drawn on it, as a raster line for the printer.
    pub fn line_bitmap(
        &self,
        s: &str,
        width: u32,
        height: u32,
        scale: PxScale,
        align: Align,
        bold: bool,
    ) -> Bitmap {
        let mut img = GrayImage::from_pixel(width, height, Luma([255]));
        let top = ((height as f32 - scale.y) / 2.0).max(0.0) as u32;
        self.draw(&mut img, s, top, scale, align, bold);
        Bitmap::from_gray(&img)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitmap_bits_are_msb_first() {
        let mut b = Bitmap::new(10, 2);
        assert_eq!(b.width_bytes(), 2);
        b.set(0, 0, true);
        b.set(9, 1, true);
        assert_eq!(b.data(), &[0x80, 0, 0, 0x40]);
        assert!(b.get(9, 1) && !b.get(8, 1));
        assert_eq!(Bitmap::from_gray(&b.to_gray()), b);
    }
}
