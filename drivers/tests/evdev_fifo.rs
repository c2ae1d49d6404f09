//! The evdev scanner through a real device file: a FIFO carrying `struct input_event` bytes
//! exactly as the kernel writes them. (The exclusive grab needs a real input device; on a FIFO
//! the ioctl is refused, which the last test checks.)

use std::io::Write;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use ykb_drivers::scanner::evdev::{type_text, EvdevConfig, EvdevScanner, InputEvent};
use ykb_drivers::scanner::ScanEvent;
use ykb_drivers::DeviceState;

fn fifo(dir: &std::path::Path) -> std::path::PathBuf {
    let p = dir.join("event-kbd");
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    p
}

/// The driver on `path` (codes up to 4096 bytes).
fn spawn(path: &std::path::Path, exclusive: bool) -> (EvdevScanner, Receiver<ScanEvent>) {
    EvdevScanner::spawn(EvdevConfig {
        path: path.to_path_buf(),
        exclusive,
        max_len: 4096,
    })
}

fn next(rx: &Receiver<ScanEvent>) -> ScanEvent {
    rx.recv_timeout(Duration::from_secs(5))
        .expect("an event within 5 s")
}

fn bytes(text: &str) -> Vec<u8> {
    type_text(text)
        .into_iter()
        .flat_map(InputEvent::to_bytes)
        .collect()
}

#[test]
fn codes_typed_into_the_device_arrive_and_a_reopen_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let path = fifo(dir.path());
    let (_scanner, rx) = spawn(&path, false);
    let mut w = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    assert!(matches!(next(&rx), ScanEvent::Status(s) if s.state == DeviceState::Online));
    // Two codes in one write, split at an odd place across two writes.
    let mut all = bytes("YKB:500103:ABC-123");
    all.extend(bytes("https://ykb.cq.gov.cn/q?c=Z9"));
    let (a, b) = all.split_at(101);
    w.write_all(a).unwrap();
    w.flush().unwrap();
    std::thread::sleep(Duration::from_millis(30));
    w.write_all(b).unwrap();
    assert!(matches!(next(&rx), ScanEvent::Code(p) if p.text == "YKB:500103:ABC-123"));
    assert!(matches!(next(&rx), ScanEvent::Code(p) if p.text == "https://ykb.cq.gov.cn/q?c=Z9"));
    // Unplug: the writer goes away.
    drop(w);
    assert!(matches!(next(&rx), ScanEvent::Status(s) if s.state == DeviceState::Offline));
    // Plug back in.
    let mut w = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    assert!(matches!(next(&rx), ScanEvent::Status(s) if s.state == DeviceState::Online));
    w.write_all(&bytes("again")).unwrap();
    assert!(matches!(next(&rx), ScanEvent::Code(p) if p.text == "again"));
}

#[test]
fn the_exclusive_grab_is_attempted_and_its_refusal_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = fifo(dir.path());
    let (_scanner, rx) = spawn(&path, true);
    // Opening a FIFO for reading waits for a writer; give it one.
    let _w = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    match next(&rx) {
        ScanEvent::Status(s) => {
            assert_eq!(s.state, DeviceState::Offline);
            assert!(s.detail.contains("cannot open"), "{}", s.detail);
        }
        other => panic!("{other:?}"),
    }
}
