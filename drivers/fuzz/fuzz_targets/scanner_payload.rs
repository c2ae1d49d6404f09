//! Scanner line splitting and payload sanitising on arbitrary bytes: no panic, codes bounded,
//! no control characters survive.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use ykb_drivers::scanner::{sanitize, LineSplitter, SplitEvent, SplitterConfig};

fuzz_target!(|data: &[u8]| {
    let mut s = LineSplitter::new(SplitterConfig {
        max_len: 256,
        ..Default::default()
    });
    let t = Instant::now();
    for (i, chunk) in data.chunks(13).enumerate() {
        let now = t + Duration::from_millis(i as u64 * u64::from(chunk[0] % 100));
        for ev in s.push(chunk, now).into_iter().chain(s.poll(now)) {
            if let SplitEvent::Code(c) = ev {
                assert!(c.len() <= 256);
                if let Ok(p) = sanitize(&c) {
                    assert!(!p.text.chars().any(char::is_control));
                    let _ = p.as_https_url(&["ykb.example.invalid"]);
                }
            }
        }
    }
    let _ = sanitize(data);
});
