//! A4 documents as PDF: a title, text, label/value rows, QR codes (drawn as vector modules)
//! and page breaks, laid out on ISO A4 pages (595.28 × 841.89 pt) with a footer naming the
//! page. Text is real text in the embedded CJK font — subset to the glyphs used, written as a
//! CID font with a ToUnicode map — so it prints sharp, rare name characters included, and
//! can be searched and extracted. Pure: bytes out, no IO.

use std::collections::BTreeMap;
use std::io::Write;

use ab_glyph::{Font, FontRef, GlyphId};

/// A4 width in points.
pub const A4_WIDTH: f32 = 595.28;
/// A4 height in points.
pub const A4_HEIGHT: f32 = 841.89;
const MARGIN_X: f32 = 64.0;
const MARGIN_TOP: f32 = 72.0;
const MARGIN_BOTTOM: f32 = 80.0;
const BODY: f32 = 12.0;
const LEADING: f32 = 20.0;
const TITLE: f32 = 20.0;
const LABEL_WIDTH: f32 = 120.0;
const QR_SIDE: f32 = 110.0;

/// One block of a document, top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A bold-ish section heading (larger type).
    Heading(String),
    /// A paragraph, wrapped to the width.
    Text(String),
    /// A label and its value (the value wraps beside the label).
    Row {
        /// The label.
        label: String,
        /// The value.
        value: String,
    },
    /// A QR code with an optional caption beside it.
    Qr {
        /// What it encodes.
        data: String,
        /// A line beside it.
        caption: Option<String>,
    },
    /// A horizontal rule.
    Separator,
    /// Continue on a new page.
    PageBreak,
}

/// An A4 document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct A4Document {
    /// Centred atop the first page; also the PDF's title.
    pub title: String,
    /// The body.
    pub blocks: Vec<Block>,
    /// Left part of every page's footer (the page number follows).
    pub footer: String,
}

/// Why a document could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The font is not a usable TrueType/OpenType font.
    #[error("font unusable: {0}")]
    Font(String),
    /// A QR code's data does not fit a QR code.
    #[error("QR code data too long")]
    Qr,
}

enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        text: String,
    },
    Rule {
        y: f32,
    },
    Qr {
        x: f32,
        y: f32,
        modules: Vec<bool>,
        width: usize,
    },
}

struct Layout<'f> {
    font: &'f FontRef<'f>,
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl Layout<'_> {
    fn width(&self, text: &str, size: f32) -> f32 {
        let upem = self.font.units_per_em().unwrap_or(1000.0);
        text.chars()
            .map(|c| self.font.h_advance_unscaled(self.font.glyph_id(c)) / upem * size)
            .sum()
    }

    fn wrap(&self, text: &str, size: f32, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            for c in para.chars() {
                let mut next = line.clone();
                next.push(c);
                if !line.is_empty() && self.width(&next, size) > max {
                    lines.push(std::mem::take(&mut line));
                    line.push(c);
                } else {
                    line = next;
                }
            }
            lines.push(line);
        }
        lines
    }

    fn page(&mut self) -> &mut Vec<Op> {
        self.pages.last_mut().expect("a page")
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = A4_HEIGHT - MARGIN_TOP;
    }

    /// Room for `h` points more on this page, or a new one.
    fn room(&mut self, h: f32) {
        if self.y - h < MARGIN_BOTTOM {
            self.new_page();
        }
    }

    fn text_line(&mut self, x: f32, size: f32, text: String) {
        self.room(LEADING);
        self.y -= LEADING;
        let y = self.y;
        self.page().push(Op::Text { x, y, size, text });
    }
}

/// The document as PDF bytes, its text in `font` (TrueType/OpenType bytes).
pub fn render(doc: &A4Document, font: &[u8]) -> Result<Vec<u8>, PdfError> {
    let face = FontRef::try_from_slice(font).map_err(|e| PdfError::Font(e.to_string()))?;
    let mut l = Layout {
        font: &face,
        pages: Vec::new(),
        y: 0.0,
    };
    l.new_page();
    let content = A4_WIDTH - 2.0 * MARGIN_X;
    let title_w = l.width(&doc.title, TITLE);
    l.y -= TITLE;
    let y = l.y;
    l.page().push(Op::Text {
        x: ((A4_WIDTH - title_w) / 2.0).max(MARGIN_X),
        y,
        size: TITLE,
        text: doc.title.clone(),
    });
    l.y -= 16.0;
    for b in &doc.blocks {
        match b {
            Block::Heading(t) => {
                l.y -= 6.0;
                for line in l.wrap(t, 15.0, content) {
                    l.text_line(MARGIN_X, 15.0, line);
                }
            }
            Block::Text(t) => {
                for line in l.wrap(t, BODY, content) {
                    l.text_line(MARGIN_X, BODY, line);
                }
            }
            Block::Row { label, value } => {
                let lines = l.wrap(value, BODY, content - LABEL_WIDTH);
                l.room(LEADING * lines.len().min(3) as f32);
                for (i, line) in lines.into_iter().enumerate() {
                    l.room(LEADING);
                    l.y -= LEADING;
                    let y = l.y;
                    if i == 0 {
                        l.page().push(Op::Text {
                            x: MARGIN_X,
                            y,
                            size: BODY,
                            text: label.clone(),
                        });
                    }
                    l.page().push(Op::Text {
                        x: MARGIN_X + LABEL_WIDTH,
                        y,
                        size: BODY,
                        text: line,
                    });
                }
            }
            Block::Qr { data, caption } => {
                let code = qrcode::QrCode::with_error_correction_level(
                    data.as_bytes(),
                    qrcode::EcLevel::M,
                )
                .map_err(|_| PdfError::Qr)?;
                let width = code.width();
                let modules = code
                    .to_colors()
                    .into_iter()
                    .map(|c| c == qrcode::Color::Dark)
                    .collect();
                l.room(QR_SIDE + 12.0);
                l.y -= QR_SIDE + 12.0;
                let y = l.y;
                l.page().push(Op::Qr {
                    x: MARGIN_X,
                    y,
                    modules,
                    width,
                });
                if let Some(c) = caption {
                    let lines = l.wrap(c, BODY, content - QR_SIDE - 24.0);
                    let mut cy = y + QR_SIDE - LEADING;
                    for line in lines {
                        l.page().push(Op::Text {
                            x: MARGIN_X + QR_SIDE + 24.0,
                            y: cy,
                            size: BODY,
                            text: line,
                        });
                        cy -= LEADING;
                    }
                }
            }
            Block::Separator => {
                l.room(14.0);
                l.y -= 10.0;
                let y = l.y;
                l.page().push(Op::Rule { y });
                l.y -= 4.0;
            }
            Block::PageBreak => l.new_page(),
        }
    }
    let total = l.pages.len();
    for (i, page) in l.pages.iter_mut().enumerate() {
        page.push(Op::Text {
            x: MARGIN_X,
            y: 44.0,
            size: 9.0,
            text: format!("{}    第 {} 页 / 共 {} 页", doc.footer, i + 1, total),
        });
    }
    write_pdf(&doc.title, &face, font, &l.pages)
}

fn hex_utf16(s: &str) -> String {
    s.encode_utf16().map(|u| format!("{u:04X}")).collect()
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
    let packed = deflate(data);
    let mut o = format!(
        "<< {dict} /Filter /FlateDecode /Length {} >>\nstream\n",
        packed.len()
    )
    .into_bytes();
    o.extend_from_slice(&packed);
    o.extend_from_slice(b"\nendstream");
    o
}

fn write_pdf(
    title: &str,
    face: &FontRef<'_>,
    font: &[u8],
    pages: &[Vec<Op>],
) -> Result<Vec<u8>, PdfError> {
    // Glyphs used, renumbered for the subset (0 stays .notdef).
    let mut remap = subsetter::GlyphRemapper::new();
    let mut to_unicode: BTreeMap<u16, char> = BTreeMap::new();
    let mut encoded: Vec<Vec<String>> = Vec::new();
    for page in pages {
        let mut texts = Vec::new();
        for op in page {
            if let Op::Text { text, .. } = op {
                let mut hex = String::new();
                for c in text.chars() {
                    let GlyphId(g) = face.glyph_id(c);
                    let new = remap.remap(g);
                    if g != 0 {
                        to_unicode.entry(new).or_insert(c);
                    }
                    hex.push_str(&format!("{new:04X}"));
                }
                texts.push(hex);
            }
        }
        encoded.push(texts);
    }
    let subset = subsetter::subset(font, 0, &remap).map_err(|e| PdfError::Font(e.to_string()))?;
    let upem = face.units_per_em().unwrap_or(1000.0);
    let mut widths = String::new();
    for (new, old) in remap.remapped_gids().enumerate() {
        let w = face.h_advance_unscaled(GlyphId(old)) / upem * 1000.0;
        widths.push_str(&format!("{new} [{w:.0}] "));
    }
    let ascent = face.ascent_unscaled() / upem * 1000.0;
    let descent = face.descent_unscaled() / upem * 1000.0;

    // Object numbers: 1 catalog, 2 pages, 3 Type0, 4 CIDFont, 5 descriptor, 6 font file,
    // 7 ToUnicode, 8 info, then per page: page, content.
    let mut objects: Vec<Vec<u8>> = Vec::new();
    let page_ids: Vec<usize> = (0..pages.len()).map(|i| 9 + 2 * i).collect();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    objects.push(
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            page_ids
                .iter()
                .map(|i| format!("{i} 0 R"))
                .collect::<Vec<_>>()
                .join(" "),
            pages.len()
        )
        .into_bytes(),
    );
    objects.push(
        b"<< /Type /Font /Subtype /Type0 /BaseFont /YKBSUB+YKBSansSC /Encoding /Identity-H /DescendantFonts [4 0 R] /ToUnicode 7 0 R >>"
            .to_vec(),
    );
    objects.push(
        format!(
            "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /YKBSUB+YKBSansSC /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 5 0 R /DW 1000 /W [{widths}] /CIDToGIDMap /Identity >>"
        )
        .into_bytes(),
    );
    objects.push(
        format!(
            "<< /Type /FontDescriptor /FontName /YKBSUB+YKBSansSC /Flags 4 /FontBBox [-1000 {descent:.0} 2000 {ascent:.0}] /ItalicAngle 0 /Ascent {ascent:.0} /Descent {descent:.0} /CapHeight {ascent:.0} /StemV 80 /FontFile2 6 0 R >>"
        )
        .into_bytes(),
    );
    objects.push(stream(&format!("/Length1 {}", subset.len()), &subset));
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let entries: Vec<_> = to_unicode.iter().collect();
    for chunk in entries.chunks(100) {
        cmap.push_str(&format!("{} beginbfchar\n", chunk.len()));
        for (g, c) in chunk {
            cmap.push_str(&format!("<{g:04X}> <{}>\n", hex_utf16(&c.to_string())));
        }
        cmap.push_str("endbfchar\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    objects.push(stream("", cmap.as_bytes()));
    objects.push(
        format!(
            "<< /Title <FEFF{}> /Producer (ykb-terminal) >>",
            hex_utf16(title)
        )
        .into_bytes(),
    );
    for (i, (page, texts)) in pages.iter().zip(&encoded).enumerate() {
        let mut c = String::new();
        let mut t = texts.iter();
        for op in page {
            match op {
                Op::Text { x, y, size, .. } => {
                    let hex = t.next().map(String::as_str).unwrap_or_default();
                    c.push_str(&format!(
                        "BT /F1 {size:.1} Tf {x:.2} {y:.2} Td <{hex}> Tj ET\n"
                    ));
                }
                Op::Rule { y } => c.push_str(&format!(
                    "0.5 w {MARGIN_X:.2} {y:.2} m {:.2} {y:.2} l S\n",
                    A4_WIDTH - MARGIN_X
                )),
                Op::Qr {
                    x,
                    y,
                    modules,
                    width,
                } => {
                    // Four modules of quiet zone each side, inside QR_SIDE.
                    let m = QR_SIDE / (*width as f32 + 8.0);
                    for (k, dark) in modules.iter().enumerate() {
                        if *dark {
                            let (col, row) = ((k % width) as f32, (k / width) as f32);
                            c.push_str(&format!(
                                "{:.3} {:.3} {m:.3} {m:.3} re\n",
                                x + (col + 4.0) * m,
                                y + QR_SIDE - (row + 5.0) * m
                            ));
                        }
                    }
                    c.push_str("f\n");
                }
            }
        }
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {A4_WIDTH} {A4_HEIGHT}] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
                10 + 2 * i
            )
            .into_bytes(),
        );
        objects.push(stream("", c.as_bytes()));
    }
    let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(o);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R /Info 8 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    Ok(out)
}

/// Whether `bytes` look like a PDF file: the `%PDF-` header up front and `%%EOF` near the
/// end (a cheap gate before anything is sent to a printer).
pub fn looks_like_pdf(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    bytes.starts_with(b"%PDF-") && tail.windows(5).any(|w| w == b"%%EOF")
}

/// The number of pages a PDF written by [`render`] has (its `/Count`), if found.
pub fn page_count(bytes: &[u8]) -> Option<usize> {
    let at = bytes.windows(7).position(|w| w == b"/Count ")?;
    let digits: String = bytes[at + 7..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .map(|b| *b as char)
        .collect();
    digits.parse().ok()
}

/// The A4 test page of `ykb-terminal print test --document-printer`: common and rare name
/// characters, a QR code, two pages' worth of nothing else.
pub fn test_page() -> A4Document {
    A4Document {
        title: "A4 打印测试".into(),
        blocks: vec![
            Block::Text("渝快办政务服务终端 A4 文书打印机（CUPS）打印测试".into()),
            Block::Row {
                label: "常用字".into(),
                value: "重庆市渝中区人民路 1 号".into(),
            },
            Block::Row {
                label: "生僻字".into(),
                value: "王䶮 李喆 张堃 赵昇".into(),
            },
            Block::Separator,
            Block::Qr {
                data: "https://ykb.example.invalid/print-test-a4".into(),
                caption: Some("二维码测试：扫码应得到打印测试网址".into()),
            },
        ],
        footer: "ykb-terminal 打印测试".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FONT: &[u8] = include_bytes!("../../../assets/fonts/YKBSansSC-Regular.ttf");

    #[test]
    fn a_document_is_an_a4_pdf_with_a_subset_font_and_its_text_mapped_back() {
        let pdf = render(&test_page(), FONT).unwrap();
        assert!(looks_like_pdf(&pdf));
        assert_eq!(page_count(&pdf), Some(1));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/MediaBox [0 0 595.28 841.89]"), "A4");
        assert!(text.contains("/ToUnicode"));
        // The subset, not the 10 MB font.
        assert!(pdf.len() < 200_000, "{} bytes", pdf.len());
    }

    #[test]
    fn page_breaks_and_long_text_make_more_pages() {
        let mut doc = test_page();
        doc.blocks.push(Block::PageBreak);
        doc.blocks.push(Block::Text("续页".into()));
        assert_eq!(page_count(&render(&doc, FONT).unwrap()), Some(2));
        let long = A4Document {
            title: "长文".into(),
            blocks: (0..80).map(|i| Block::Text(format!("第 {i} 行"))).collect(),
            footer: String::new(),
        };
        assert!(page_count(&render(&long, FONT).unwrap()).unwrap() >= 2);
    }

    #[test]
    fn what_is_not_a_pdf_is_seen_as_such() {
        assert!(!looks_like_pdf(b"GIF89a"));
        assert!(!looks_like_pdf(b"%PDF-1.7\ntruncated"));
        assert!(!looks_like_pdf(b""));
        assert!(render(&test_page(), b"not a font").is_err());
    }
}
