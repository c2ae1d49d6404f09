//! The serial scanner driver over a pseudo-terminal against the scanner emulator.

use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use ykb_drivers::link::SerialConnector;
use ykb_drivers::scanner::{
    PayloadEncoding, PayloadError, ScanEvent, SerialScanner, SplitterConfig,
};
use ykb_drivers::sim::ScannerSim;
use ykb_drivers::DeviceState;

fn next_code(rx: &Receiver<ScanEvent>) -> ScanEvent {
    let end = Instant::now() + Duration::from_secs(3);
    loop {
        match rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
            Ok(ScanEvent::Status(_)) => {}
            Ok(e) => return e,
            Err(e) => panic!("no code: {e}"),
        }
    }
}

fn wait_status(rx: &Receiver<ScanEvent>, want: DeviceState, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        match rx.recv_timeout(within.saturating_sub(start.elapsed())) {
            Ok(ScanEvent::Status(s)) if s.state == want => return start.elapsed(),
            Ok(_) => {}
            Err(e) => panic!("no {want:?}: {e}"),
        }
    }
}

fn text(e: ScanEvent) -> String {
    match e {
        ScanEvent::Code(p) => p.text,
        other => panic!("expected a code, got {other:?}"),
    }
}

/// The emulator on a pty and the driver at 9600 baud on it, once the driver is online.
fn online_scanner() -> (
    tempfile::TempDir,
    ScannerSim,
    SerialScanner,
    Receiver<ScanEvent>,
) {
    let dir = tempfile::tempdir().unwrap();
    let sim = ScannerSim::start(Some(dir.path().join("scanner"))).unwrap();
    let (scanner, rx) = SerialScanner::spawn(
        SerialConnector::new(sim.path(), 9600),
        SplitterConfig::default(),
    );
    wait_status(&rx, DeviceState::Online, Duration::from_secs(3));
    (dir, sim, scanner, rx)
}

#[test]
fn codes_arrive_with_every_terminator_and_encoding() {
    let (_dir, sim, _scanner, rx) = online_scanner();
    for term in ["cr", "lf", "crlf", "none"] {
        sim.control(&format!("term {term}")).unwrap();
        sim.control(&format!("scan YKB-{term}-001")).unwrap();
        if term == "none" {
            // Without terminators only the idle gap separates codes: scan them apart.
            assert_eq!(text(next_code(&rx)), "YKB-none-001");
            sim.control("scan YKB-none-002").unwrap();
        } else {
            sim.control(&format!("scan YKB-{term}-002")).unwrap();
            assert_eq!(text(next_code(&rx)), format!("YKB-{term}-001"));
        }
        assert_eq!(text(next_code(&rx)), format!("YKB-{term}-002"), "{term}");
    }
    sim.control("term cr").unwrap();
    sim.control("encoding gb18030").unwrap();
    sim.control("scan 渝快码:王䶮").unwrap();
    match next_code(&rx) {
        ScanEvent::Code(p) => {
            assert_eq!(p.text, "渝快码:王䶮");
            assert_eq!(p.encoding, PayloadEncoding::Gb18030);
        }
        other => panic!("{other:?}"),
    }
    sim.control("encoding utf8").unwrap();
    sim.device().send_raw(b"\x1b[2Jhello\x07\r");
    assert_eq!(text(next_code(&rx)), "[2Jhello");
    sim.device().send_raw(b"\x01\x02\r");
    assert_eq!(next_code(&rx), ScanEvent::Rejected(PayloadError::Empty));
    sim.device().send_raw(&vec![b'A'; 5000]);
    sim.device().send_raw(b"\r");
    assert_eq!(next_code(&rx), ScanEvent::Oversize(5000));
    sim.control("scan after-oversize").unwrap();
    assert_eq!(text(next_code(&rx)), "after-oversize");
}

#[test]
fn unplugged_scanner_goes_offline_and_recovers() {
    let (_dir, sim, _scanner, rx) = online_scanner();
    sim.control("unplug").unwrap();
    let took = wait_status(&rx, DeviceState::Offline, Duration::from_secs(2));
    eprintln!("scanner offline after {took:?}");
    sim.control("replug").unwrap();
    wait_status(&rx, DeviceState::Online, Duration::from_secs(3));
    sim.control("timing on").unwrap();
    sim.control("scan 9600-baud").unwrap();
    assert_eq!(text(next_code(&rx)), "9600-baud");
}
