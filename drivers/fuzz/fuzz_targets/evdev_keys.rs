//! Keyboard-wedge input on arbitrary bytes: no panic, codes bounded, no control characters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ykb_drivers::scanner::evdev::{EventParser, KeyDecoder};
use ykb_drivers::scanner::ScanEvent;

fuzz_target!(|data: &[u8]| {
    let mut p = EventParser::default();
    let mut d = KeyDecoder::new(64);
    for chunk in data.chunks(11) {
        for ev in p.push(chunk) {
            if let Some(ScanEvent::Code(c)) = d.feed(ev) {
                assert!(c.text.len() <= 64);
                assert!(!c.text.chars().any(char::is_control));
            }
        }
    }
});
