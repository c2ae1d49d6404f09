//! 回执 — a receipt described once and rendered two ways: ESC/POS bytes and a PNG preview.
//! Lines holding characters outside GB 2312 (rare name characters) are printed as raster
//! lines drawn with the embedded font, so every citizen's name prints correctly.

use image::GrayImage;
use serde::{Deserialize, Serialize};

use super::canvas::{to_png, Canvas, GLYPH_DOTS, LINE_DOTS};
use super::encode::{Align, EscPos, QrEcLevel, DEFAULT_RASTER_CHUNK};
use super::gb::{all_gb2312, display_width};
use super::raster::TextPainter;

/// One element of a receipt's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptItem {
    /// A paragraph, wrapped to the paper width.
    Text(String),
    /// `label ……… value` on one line, or two if it does not fit.
    Row {
        /// Left part (e.g. 办件编号).
        label: String,
        /// Right part.
        value: String,
    },
    /// A QR code, centred, with an optional caption under it.
    Qr {
        /// The payload.
        data: String,
        /// Text under the code.
        caption: Option<String>,
    },
    /// A dashed rule.
    Separator,
    /// An empty line.
    Blank,
}

/// A receipt.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// Printed large and centred.
    pub title: String,
    /// The body.
    pub items: Vec<ReceiptItem>,
    /// Centred lines at the end.
    pub footer: Vec<String>,
}

/// Paper and printer parameters.
#[derive(Debug, Clone)]
pub struct ReceiptStyle {
    /// Printable width in dots (576 for 80 mm paper, 384 for 58 mm).
    pub paper_dots: u32,
    /// QR module size in dots.
    pub qr_module: u8,
    /// QR error correction.
    pub qr_ec: QrEcLevel,
    /// Largest `GS v 0` block.
    pub raster_chunk: usize,
    /// Lines fed before the cut.
    pub feed_before_cut: u8,
}

impl Default for ReceiptStyle {
    fn default() -> Self {
        Self {
            paper_dots: 576,
            qr_module: 6,
            qr_ec: QrEcLevel::M,
            raster_chunk: DEFAULT_RASTER_CHUNK,
            feed_before_cut: 4,
        }
    }
}

impl ReceiptStyle {
    /// Columns of the built-in 12×24 font.
    pub fn columns(&self) -> usize {
        (self.paper_dots / 12) as usize
    }
}

/// Why a receipt could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// A line needs the embedded font (characters outside GB 2312) and none was given.
    #[error("line {0:?} has characters outside GB 2312 and no font was given to draw it")]
    NoFont(String),
    /// The font lacks a glyph the line needs.
    #[error("the font has no glyph for some character of {0:?}")]
    MissingGlyph(String),
    /// A QR payload is too long.
    #[error("QR payload of {0} bytes is too long")]
    QrTooLong(usize),
}

/// A laid-out line or element, shared by both renderings.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Block {
    Text {
        text: String,
        align: Align,
        bold: bool,
        size: u8,
    },
    Qr(String),
}

fn wrap(s: &str, cols: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        if display_width(&cur) + display_width(c.encode_utf8(&mut [0; 4])) > cols {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(c);
    }
    if !cur.is_empty() || out.is_empty() {
        out.push(cur);
    }
    out
}

fn text(text: String, align: Align) -> Block {
    Block::Text {
        text,
        align,
        bold: false,
        size: 1,
    }
}

fn layout(r: &Receipt, style: &ReceiptStyle) -> Vec<Block> {
    let cols = style.columns();
    let mut out = Vec::new();
    for t in wrap(&r.title, cols / 2) {
        out.push(Block::Text {
            text: t,
            align: Align::Center,
            bold: true,
            size: 2,
        });
    }
    out.push(text(String::new(), Align::Left));
    for item in &r.items {
        match item {
            ReceiptItem::Text(s) => {
                out.extend(wrap(s, cols).into_iter().map(|l| text(l, Align::Left)))
            }
            ReceiptItem::Row { label, value } => {
                let (lw, vw) = (display_width(label), display_width(value));
                if lw + vw < cols {
                    let gap = " ".repeat(cols - lw - vw);
                    out.push(text(format!("{label}{gap}{value}"), Align::Left));
                } else {
                    out.extend(wrap(label, cols).into_iter().map(|l| text(l, Align::Left)));
                    out.extend(wrap(value, cols).into_iter().map(|l| text(l, Align::Right)));
                }
            }
            ReceiptItem::Qr { data, caption } => {
                out.push(Block::Qr(data.clone()));
                if let Some(c) = caption {
                    out.extend(wrap(c, cols).into_iter().map(|l| text(l, Align::Center)));
                }
            }
            ReceiptItem::Separator => out.push(text("-".repeat(cols), Align::Left)),
            ReceiptItem::Blank => out.push(text(String::new(), Align::Left)),
        }
    }
    if !r.footer.is_empty() {
        out.push(text(String::new(), Align::Left));
    }
    for f in &r.footer {
        out.extend(wrap(f, cols).into_iter().map(|l| text(l, Align::Center)));
    }
    out
}

/// Statistics of one rendering, for benchmarks and logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderStats {
    /// Lines sent as text in the printer's font.
    pub text_lines: usize,
    /// Lines sent as raster images drawn with the embedded font.
    pub raster_lines: usize,
}

/// Renders receipts; holds the embedded font when there is one.
#[derive(Clone, Default)]
pub struct ReceiptRenderer {
    painter: Option<TextPainter>,
    style: ReceiptStyle,
}

impl ReceiptRenderer {
    /// A renderer with `font` (needed for PNG previews and for rare characters) and `style`.
    pub fn new(font: Option<ab_glyph::FontArc>, style: ReceiptStyle) -> Self {
        Self {
            painter: font.map(TextPainter::new),
            style,
        }
    }

    /// The paper parameters.
    pub fn style(&self) -> &ReceiptStyle {
        &self.style
    }

    fn painter_for(&self, line: &str) -> Result<&TextPainter, RenderError> {
        let p = self
            .painter
            .as_ref()
            .ok_or_else(|| RenderError::NoFont(line.to_string()))?;
        if !super::raster::font_covers(p.font(), line) {
            return Err(RenderError::MissingGlyph(line.to_string()));
        }
        Ok(p)
    }

    /// The print job: init, text in GB18030, rare lines as raster, QR via `GS ( k`, cut.
    pub fn to_escpos(&self, r: &Receipt) -> Result<(Vec<u8>, RenderStats), RenderError> {
        let mut p = EscPos::new().raster_chunk(self.style.raster_chunk);
        let mut stats = RenderStats::default();
        p.init();
        for block in layout(r, &self.style) {
            match block {
                Block::Text {
                    text,
                    align,
                    bold,
                    size,
                } => {
                    if all_gb2312(&text) {
                        p.align(align).bold(bold).size(size, size).line(&text);
                        stats.text_lines += 1;
                        continue;
                    }
                    let painter = self.painter_for(&text)?;
                    let scale = ab_glyph::PxScale::from(GLYPH_DOTS * f32::from(size));
                    let bmp = painter.line_bitmap(
                        &text,
                        self.style.paper_dots,
                        LINE_DOTS * u32::from(size),
                        scale,
                        align,
                        bold,
                    );
                    p.align(Align::Left).raster(&bmp);
                    stats.raster_lines += 1;
                }
                Block::Qr(data) => {
                    p.align(Align::Center);
                    p.qr(data.as_bytes(), self.style.qr_module, self.style.qr_ec)
                        .map_err(|e| RenderError::QrTooLong(e.0))?;
                    p.raw(b"\n");
                }
            }
        }
        p.align(Align::Left)
            .bold(false)
            .size(1, 1)
            .feed(self.style.feed_before_cut)
            .cut();
        Ok((p.into_bytes(), stats))
    }

    /// What the receipt will look like, as a grey image.
    pub fn to_image(&self, r: &Receipt) -> Result<GrayImage, RenderError> {
        let mut c = Canvas::new(self.style.paper_dots);
        for block in layout(r, &self.style) {
            match block {
                Block::Text {
                    text,
                    align,
                    bold,
                    size,
                } => {
                    let painter = self.painter_for(&text)?;
                    c.text_line(painter, &text, align, bold, (size, size));
                }
                Block::Qr(data) => {
                    if !c.qr(
                        data.as_bytes(),
                        self.style.qr_module,
                        self.style.qr_ec,
                        Align::Center,
                    ) {
                        return Err(RenderError::QrTooLong(data.len()));
                    }
                    // The LF that follows the QR in the job.
                    c.feed(LINE_DOTS);
                }
            }
        }
        c.feed(LINE_DOTS * u32::from(self.style.feed_before_cut));
        Ok(c.finish())
    }

    /// The preview as PNG bytes.
    pub fn to_png(&self, r: &Receipt) -> Result<Vec<u8>, RenderError> {
        Ok(to_png(&self.to_image(r)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Receipt {
        Receipt {
            title: "渝快办 办件回执".into(),
            items: vec![
                ReceiptItem::Row {
                    label: "申请人".into(),
                    value: "王䶮".into(),
                },
                ReceiptItem::Row {
                    label: "事项".into(),
                    value: "居民身份证换领".into(),
                },
                ReceiptItem::Separator,
                ReceiptItem::Qr {
                    data: "https://ykb.example.invalid/case/01J".into(),
                    caption: Some("扫码查询进度".into()),
                },
            ],
            footer: vec!["请妥善保管本回执".into()],
        }
    }

    #[test]
    fn rows_fit_the_paper_or_wrap() {
        let style = ReceiptStyle {
            paper_dots: 384,
            ..Default::default()
        };
        let r = Receipt {
            title: "T".into(),
            items: vec![ReceiptItem::Row {
                label: "办件编号".into(),
                value: "YKB-2026-0001".into(),
            }],
            footer: vec![],
        };
        let blocks = layout(&r, &style);
        assert!(blocks.iter().any(|b| matches!(b, Block::Text { text, .. } if text.starts_with("办件编号") && text.ends_with("0001") && display_width(text) == 32)));
        let long = Receipt {
            title: "T".into(),
            items: vec![ReceiptItem::Row {
                label: "地址".into(),
                value: "重".repeat(20),
            }],
            footer: vec![],
        };
        assert!(layout(&long, &style).iter().all(|b| match b {
            Block::Text { text, .. } => display_width(text) <= 32,
            _ => true,
        }));
    }

    #[test]
    fn rare_character_line_without_font_is_an_error_not_a_wrong_name() {
        let r = ReceiptRenderer::new(None, ReceiptStyle::default());
        assert!(
            matches!(r.to_escpos(&sample()), Err(RenderError::NoFont(l)) if l.contains("王䶮"))
        );
        let plain = Receipt {
            title: "回执".into(),
            items: vec![ReceiptItem::Text("李明".into())],
            footer: vec![],
        };
        let (bytes, stats) = r.to_escpos(&plain).unwrap();
        assert_eq!(stats.raster_lines, 0);
        assert!(bytes.ends_with(&[0x1D, 0x56, 0x42, 0x00]));
    }
}
