//! The SAM emulator answers any host bytes without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ykb_drivers::sim::{SamSim, WireDevice};

fuzz_target!(|data: &[u8]| {
    let mut sim = SamSim::new(Vec::new());
    for chunk in data.chunks(7) {
        let _ = sim.on_input(chunk);
    }
    let _ = sim.control(&String::from_utf8_lossy(data));
});
