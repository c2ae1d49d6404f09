//! A paper-wide canvas that grows downwards: how receipts look, for PNG previews and for the
//! printer emulator's rendering of captured jobs.

use ab_glyph::PxScale;
use image::{GrayImage, Luma};

use super::encode::{Align, QrEcLevel};
use super::raster::{Bitmap, TextPainter};

/// Height of one text line of the built-in 24-dot font, with default line spacing.
pub const LINE_DOTS: u32 = 30;
/// Glyph height of the built-in font.
pub const GLYPH_DOTS: f32 = 24.0;
/// Longest paper the canvas will grow to (dots), so a runaway job cannot exhaust memory.
pub const MAX_PAPER_DOTS: u32 = 20_000;

/// Paper being printed on.
pub struct Canvas {
    img: GrayImage,
    y: u32,
}

fn white(w: u32, h: u32) -> GrayImage {
    GrayImage::from_pixel(w, h, Luma([255]))
}

impl Canvas {
    /// A blank roll `width` dots wide.
    pub fn new(width: u32) -> Self {
        Self {
            img: white(width.max(8), 256),
            y: 0,
        }
    }

    /// Paper width in dots.
    pub fn width(&self) -> u32 {
        self.img.width()
    }

    /// Whether nothing was printed yet.
    pub fn is_empty(&self) -> bool {
        self.y == 0
    }

    fn ensure(&mut self, extra: u32) -> bool {
        let need = self.y.saturating_add(extra);
        if need > MAX_PAPER_DOTS {
            return false;
        }
        if need > self.img.height() {
            let h = need.max(self.img.height() * 2).min(MAX_PAPER_DOTS);
            let mut bigger = white(self.img.width(), h);
            image::imageops::replace(&mut bigger, &self.img, 0, 0);
            self.img = bigger;
        }
        true
    }

    /// Advances the paper.
    pub fn feed(&mut self, dots: u32) {
        if self.ensure(dots) {
            self.y += dots;
        }
    }

    /// One line of text drawn with `painter` (size multipliers as `GS !`).
    pub fn text_line(
        &mut self,
        painter: &TextPainter,
        text: &str,
        align: Align,
        bold: bool,
        size: (u8, u8),
    ) {
        let h = LINE_DOTS * u32::from(size.1.max(1));
        if !self.ensure(h) {
            return;
        }
        let scale = PxScale {
            x: GLYPH_DOTS * f32::from(size.0.max(1)),
            y: GLYPH_DOTS * f32::from(size.1.max(1)),
        };
        let top = self.y + (h - scale.y as u32) / 2;
        painter.draw(&mut self.img, text, top, scale, align, bold);
        self.y += h;
    }

    /// A 1-bit image placed per `align`.
    pub fn bitmap(&mut self, bmp: &Bitmap, align: Align) {
        if !self.ensure(bmp.height()) {
            return;
        }
        let x0 = offset(self.width(), bmp.width(), align);
        for y in 0..bmp.height() {
            for x in 0..bmp.width() {
                if bmp.get(x, y) && x0 + x < self.width() {
                    self.img.put_pixel(x0 + x, self.y + y, Luma([0]));
                }
            }
        }
        self.y += bmp.height();
    }

    /// A QR code of `data`, `module` dots per module, with a 4-module quiet zone.
    pub fn qr(&mut self, data: &[u8], module: u8, ec: QrEcLevel, align: Align) -> bool {
        match qr_bitmap(data, module, ec) {
            Some(bmp) => {
                self.bitmap(&bmp, align);
                true
            }
            None => false,
        }
    }

    /// The paper so far, cut at the last printed dot.
    pub fn finish(&self) -> GrayImage {
        image::imageops::crop_imm(&self.img, 0, 0, self.img.width(), self.y.max(1)).to_image()
    }
}

fn offset(paper: u32, w: u32, align: Align) -> u32 {
    match align {
        Align::Left => 0,
        Align::Center => paper.saturating_sub(w) / 2,
        Align::Right => paper.saturating_sub(w),
    }
}

/// A QR symbol as a bitmap, quiet zone included; `None` if `data` does not fit a symbol.
pub fn qr_bitmap(data: &[u8], module: u8, ec: QrEcLevel) -> Option<Bitmap> {
    let level = match ec {
        QrEcLevel::L => qrcode::EcLevel::L,
        QrEcLevel::M => qrcode::EcLevel::M,
        QrEcLevel::Q => qrcode::EcLevel::Q,
        QrEcLevel::H => qrcode::EcLevel::H,
    };
    let code = qrcode::QrCode::with_error_correction_level(data, level).ok()?;
    let n = code.width() as u32;
    let m = u32::from(module.clamp(1, 16));
    let side = (n + 8) * m;
    let mut bmp = Bitmap::new(side, side);
    let colors = code.to_colors();
    for my in 0..n {
        for mx in 0..n {
            if colors[(my * n + mx) as usize] == qrcode::Color::Dark {
                for dy in 0..m {
                    for dx in 0..m {
                        bmp.set((mx + 4) * m + dx, (my + 4) * m + dy, true);
                    }
                }
            }
        }
    }
    Some(bmp)
}

/// Encodes a grey image as PNG.
pub fn to_png(img: &GrayImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("PNG encoding to memory cannot fail");
    out.into_inner()
}
