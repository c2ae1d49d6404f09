//! SAM frame decoder: arbitrary bytes in arbitrary pieces never panic, the buffer stays within
//! one frame, and decoded replies are within the protocol maximum.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ykb_drivers::idcard::frame::{FrameDecoder, MAX_LEN, PREAMBLE};
use ykb_drivers::idcard::sam::SamReply;

fuzz_target!(|data: &[u8]| {
    let mut d = FrameDecoder::new();
    // The first byte chooses the piece size, so splits are explored too.
    let piece = usize::from(data.first().copied().unwrap_or(1)).max(1);
    for chunk in data.chunks(piece) {
        d.push(chunk);
        while let Some(r) = d.next_frame() {
            if let Ok(f) = r {
                assert!(f.body.len() < MAX_LEN);
                let _ = SamReply::from_frame(f);
            }
        }
        assert!(d.buffered() <= PREAMBLE.len() + 2 + MAX_LEN + piece);
    }
});
