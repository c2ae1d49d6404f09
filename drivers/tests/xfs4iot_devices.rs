//! The barcode reader, camera and lights drivers against the XFS4IoT emulator over loopback
//! WebSocket: each one's answer, and each fault as one clear error within its timeout.

use std::time::{Duration, Instant};

use ykb_drivers::scanner::ScanEvent;
use ykb_drivers::sim::{Fault, Xfs4IotSim};
use ykb_drivers::status::ErrorKind;
use ykb_drivers::xfs4iot::{
    ClientConfig, CompletionCode, Guide, Stage, TrackerConfig, Xfs4IotBarcodeReader, Xfs4IotCamera,
    Xfs4IotError, Xfs4IotLights,
};

fn quick() -> ClientConfig {
    ClientConfig {
        tracker: TrackerConfig {
            ack_timeout: Duration::from_millis(400),
            completion_grace: Duration::from_millis(200),
            cancel_grace: Duration::from_millis(500),
            ..Default::default()
        },
        connect_timeout: Duration::from_secs(2),
        subscriber_queue: 16,
    }
}

/// Runs `call` under each fault on `command` and checks the one error each gives, and that
/// no call took longer than `bound`; after `clear` the device works again.
fn each_fault_is_one_clear_error<T: std::fmt::Debug>(
    s: &Xfs4IotSim,
    command: &str,
    bound: Duration,
    call: impl Fn() -> Result<T, Xfs4IotError>,
) {
    let cases = [
        (
            Fault::NoAck,
            ErrorKind::Timeout,
            Some(Xfs4IotError::Timeout {
                stage: Stage::Acknowledge,
            }),
        ),
        (
            Fault::Error("hardwareError".into(), None),
            ErrorKind::Device,
            None,
        ),
        (
            Fault::Disconnect,
            ErrorKind::Device,
            Some(Xfs4IotError::Disconnected),
        ),
        (
            Fault::Slow(Duration::from_secs(5)),
            ErrorKind::Timeout,
            Some(Xfs4IotError::Timeout {
                stage: Stage::Completion,
            }),
        ),
    ];
    for (fault, kind, exact) in cases {
        s.shared().set_fault(command, fault.clone());
        let t = Instant::now();
        let err = call().unwrap_err();
        assert!(t.elapsed() < bound, "{fault:?} took {:?}", t.elapsed());
        assert_eq!(err.kind(), kind, "{fault:?}: {err:?}");
        assert!(!err.describe_zh().is_empty());
        match exact {
            Some(want) => assert_eq!(err, want, "{fault:?}"),
            None => assert!(
                matches!(
                    err,
                    Xfs4IotError::Failed {
                        code: CompletionCode::HardwareError,
                        ..
                    }
                ),
                "{err:?}"
            ),
        }
        s.shared().clear();
        // The next command works (after a reconnect for the disconnect).
        let deadline = Instant::now() + Duration::from_secs(3);
        while call().is_err() {
            assert!(Instant::now() < deadline, "{fault:?}: no recovery");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn a_presented_code_is_read_sanitised_and_no_code_is_none() {
    let s = Xfs4IotSim::start("127.0.0.1:0").unwrap();
    let r = Xfs4IotBarcodeReader::connect(&s.service_uri("BarcodeReader"), quick()).unwrap();
    s.control("scan YKM0042abc").unwrap();
    match r.read(Duration::from_secs(2)).unwrap() {
        Some(ScanEvent::Code(p)) => assert_eq!(p.text, "YKM0042abc"),
        other => panic!("{other:?}"),
    }
    let t = Instant::now();
    assert!(r.read(Duration::from_millis(200)).unwrap().is_none());
    assert!(t.elapsed() < Duration::from_secs(1));
}

#[test]
fn barcode_reader_faults_are_one_error_each() {
    let s = Xfs4IotSim::start("127.0.0.1:0").unwrap();
    let r = Xfs4IotBarcodeReader::connect(&s.service_uri("BarcodeReader"), quick()).unwrap();
    // A read with a code waiting, so `clear` makes the next call succeed.
    each_fault_is_one_clear_error(&s, "BarcodeReader.Read", Duration::from_secs(2), || {
        s.shared().scan("YKM1");
        r.read(Duration::from_millis(300))
    });
}

#[test]
fn the_camera_takes_a_decodable_picture() {
    let s = Xfs4IotSim::start("127.0.0.1:0").unwrap();
    let c = Xfs4IotCamera::connect(&s.service_uri("Camera"), quick()).unwrap();
    let p = c.take_picture().unwrap();
    assert_eq!(p.image.dimensions(), (64, 48));
    assert!(p.bytes.starts_with(b"\x89PNG"));
}

#[test]
fn the_host_camera_opens_as_one_of_our_frame_sources() {
    let s = Xfs4IotSim::start("127.0.0.1:0").unwrap();
    let mut src = ykb_drivers::camera::open_source(&s.service_uri("Camera")).unwrap();
    assert_eq!(src.next_frame().unwrap().dimensions(), (64, 48));
    s.control("fault Camera.TakePicture error hardwareError")
        .unwrap();
    let err = src.next_frame().unwrap_err();
    assert!(
        matches!(err, ykb_drivers::camera::CameraError::Offline { .. }),
        "{err:?}"
    );
    // Nothing listening: offline at once, not a hang.
    drop(s);
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("ws://{}/xfs4iot/v1.0/Camera", dead.local_addr().unwrap());
    drop(dead);
    assert!(ykb_drivers::camera::open_source(&uri).is_err());
}

#[test]
fn camera_faults_are_one_error_each() {
    let s = Xfs4IotSim::start("127.0.0.1:0").unwrap();
    let mut c = Xfs4IotCamera::connect(&s.service_uri("Camera"), quick()).unwrap();
    c.timeout = Duration::from_millis(300);
    each_fault_is_one_clear_error(&s, "Camera.TakePicture", Duration::from_secs(2), || {
        c.take_picture()
    });
    // A camera the service does not have is the service's own error code.
    c.camera = "ceiling".into();
    let err = c.take_picture().unwrap_err();
    assert!(
        matches!(&err, Xfs4IotError::Failed { error_code: Some(e), .. } if e == "cameraNotSupported"),
        "{err:?}"
    );
}

#[test]
fn lights_guide_one_slot_then_go_off() {
    let s = Xfs4IotSim::start("127.0.0.1:0").unwrap();
    let l = Xfs4IotLights::connect(&s.service_uri("Lights"), quick()).unwrap();
    l.guide(Some(Guide::CardReader)).unwrap();
    let lit = s.shared().lights();
    assert_eq!(lit["cardReader"]["center"]["flashRate"], "quick");
    assert_eq!(lit["receiptPrinter"]["center"]["flashRate"], "off");
    l.guide(Some(Guide::Receipt)).unwrap();
    let lit = s.shared().lights();
    assert_eq!(lit["cardReader"]["center"]["flashRate"], "off");
    assert_eq!(lit["receiptPrinter"]["center"]["flashRate"], "quick");
    l.guide(None).unwrap();
    assert!(s
        .shared()
        .lights()
        .values()
        .all(|v| v["center"]["flashRate"] == "off"));
}

#[test]
fn lights_faults_are_one_error_each() {
    let s = Xfs4IotSim::start("127.0.0.1:0").unwrap();
    let l = Xfs4IotLights::connect(&s.service_uri("Lights"), quick()).unwrap();
    // SetLight's own timeout is 3 s; every fault still ends within it and its grace.
    each_fault_is_one_clear_error(&s, "Lights.SetLight", Duration::from_secs(4), || {
        l.guide(Some(Guide::Scanner))
    });
}
