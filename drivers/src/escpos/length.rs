//! 纸长 — how much paper a job takes, from the job's own bytes (sans-IO): the same rules the
//! emulator's canvas draws by (a text line is [`LINE_DOTS`] times its height multiplier, a
//! feed `n` lines, a raster or QR its height in dots), plus the distance from the print head
//! to the cutter fed out at each cut. At 203 dpi a dot is 0.125 mm. It is an estimate: a
//! printer's own line spacing and cutter position differ a little from model to model.

use super::canvas::{qr_bitmap, LINE_DOTS};
use super::encode::QrEcLevel;
use super::parse::{EscPosEvent, EscPosParser};

/// Micrometres per dot at 203 dpi.
pub const UM_PER_DOT: u64 = 125;
/// Paper fed out between the print head and the cutter at each cut (about 12 mm).
pub const CUT_FEED_DOTS: u64 = 96;

/// Paper a complete job takes, in micrometres.
pub fn paper_length_um(job: &[u8]) -> u64 {
    let mut dots = 0u64;
    let mut pending_text = false;
    let mut height = 1u64;
    let (mut module, mut ec, mut data) = (3u8, QrEcLevel::M, Vec::new());
    let line = |h: u64| u64::from(LINE_DOTS) * h.max(1);
    for ev in EscPosParser::new().push(job) {
        let flush = |pending: &mut bool, dots: &mut u64| {
            if std::mem::take(pending) {
                *dots += line(height);
            }
        };
        match ev {
            EscPosEvent::Init => height = 1,
            EscPosEvent::Text(_) => pending_text = true,
            EscPosEvent::LineFeed => {
                pending_text = false;
                dots += line(height);
            }
            EscPosEvent::Feed(n) => {
                flush(&mut pending_text, &mut dots);
                dots += u64::from(LINE_DOTS) * u64::from(n);
            }
            EscPosEvent::Size(_, h) => height = u64::from(h),
            EscPosEvent::QrModuleSize(m) => module = m,
            EscPosEvent::QrEcLevel(l) => ec = l,
            EscPosEvent::QrStore(d) => data = d,
            EscPosEvent::QrPrint => {
                flush(&mut pending_text, &mut dots);
                if let Some(b) = qr_bitmap(&data, module, ec) {
                    dots += u64::from(b.height());
                }
            }
            EscPosEvent::Raster(b) => {
                flush(&mut pending_text, &mut dots);
                dots += u64::from(b.height());
            }
            EscPosEvent::Cut => {
                flush(&mut pending_text, &mut dots);
                dots += CUT_FEED_DOTS;
            }
            _ => {}
        }
    }
    if pending_text {
        dots += line(height);
    }
    dots * UM_PER_DOT
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escpos::{Bitmap, EscPos};

    #[test]
    fn lines_feeds_images_and_cuts_add_up() {
        let mut e = EscPos::new();
        e.init().line("一").line("二");
        let two_lines = paper_length_um(e.bytes());
        assert_eq!(two_lines, 2 * 30 * UM_PER_DOT);
        e.size(2, 2).line("大").size(1, 1);
        assert_eq!(paper_length_um(e.bytes()), two_lines + 60 * UM_PER_DOT);
        let mut f = EscPos::new();
        f.feed(3).raster(&Bitmap::new(64, 100)).cut();
        assert_eq!(
            paper_length_um(f.bytes()),
            (90 + 100 + CUT_FEED_DOTS) * UM_PER_DOT
        );
    }

    #[test]
    fn a_qr_code_takes_its_height_and_nothing_takes_nothing() {
        assert_eq!(paper_length_um(&[]), 0);
        let mut e = EscPos::new();
        e.qr(b"https://zwykb.cq.gov.cn/", 4, QrEcLevel::M).unwrap();
        let um = paper_length_um(e.bytes());
        let side = qr_bitmap(b"https://zwykb.cq.gov.cn/", 4, QrEcLevel::M)
            .unwrap()
            .height();
        assert_eq!(um, u64::from(side) * UM_PER_DOT);
    }
}
