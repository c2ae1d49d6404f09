//! Read replies and text blocks from a hostile card or reader never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ykb_drivers::idcard::card::{decode_appended_address, parse_read_payload, IdCard};
use ykb_drivers::idcard::text::{decode_text, TEXT_LEN};
use ykb_drivers::idcard::NoPhotoDecoder;

fuzz_target!(|data: &[u8]| {
    let mut text = [0u8; TEXT_LEN];
    let n = data.len().min(TEXT_LEN);
    text[..n].copy_from_slice(&data[..n]);
    if let Ok(t) = decode_text(&text) {
        let _ = (t.name(), t.id_checksum_ok(), t.nation(), t.kind());
    }
    for fp in [false, true] {
        if let Ok(p) = parse_read_payload(data, fp) {
            if let Ok(card) = IdCard::from_payload(p, &NoPhotoDecoder) {
                let _ = card.summary(false);
            }
        }
    }
    let _ = decode_appended_address(data);
});
