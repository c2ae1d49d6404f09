//! The ESC/POS parser (emulator side) and status decoding never panic on arbitrary bytes, and
//! never buffer more than one maximal command.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ykb_drivers::escpos::parse::{EscPosParser, MAX_RASTER_ROW, MAX_RASTER_ROWS};
use ykb_drivers::escpos::status::parse_status;

fuzz_target!(|data: &[u8]| {
    let mut p = EscPosParser::new();
    let piece = usize::from(data.first().copied().unwrap_or(1)).max(1);
    for chunk in data.chunks(piece) {
        let _ = p.push(chunk);
        assert!(p.buffered() <= 8 + MAX_RASTER_ROW * MAX_RASTER_ROWS + piece);
    }
    if data.len() >= 3 {
        let _ = parse_status(data[0], data[1], data[2]);
    }
});
