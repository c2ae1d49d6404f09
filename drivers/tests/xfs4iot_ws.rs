//! The XFS4IoT client against the device-service emulator over loopback WebSocket: discovery,
//! status, commands, and every fault the emulator can inject.

use std::time::{Duration, Instant};

use base64::Engine as _;
use ykb_drivers::sim::{Fault, Xfs4IotSim};
use ykb_drivers::status::{DeviceState, ErrorKind};
use ykb_drivers::xfs4iot::{
    discover, find_publisher, get_services, ClientConfig, Command, CommandUpdate, CompletionCode,
    ServiceClient, ServiceEvent, Stage, TrackerConfig, Xfs4IotError,
};

fn sim() -> Xfs4IotSim {
    Xfs4IotSim::start("127.0.0.1:0").expect("emulator")
}

fn quick() -> ClientConfig {
    ClientConfig {
        tracker: TrackerConfig {
            ack_timeout: Duration::from_millis(400),
            completion_grace: Duration::from_millis(200),
            cancel_grace: Duration::from_millis(500),
            max_events_per_command: 20,
            max_message_bytes: 64 * 1024,
            ..Default::default()
        },
        connect_timeout: Duration::from_secs(2),
        subscriber_queue: 16,
    }
}

fn print_raw(bytes: &[u8]) -> Command {
    Command::new("Printer.PrintRaw")
        .with("inputData", "no")
        .with(
            "data",
            base64::engine::general_purpose::STANDARD.encode(bytes),
        )
        .timeout(Duration::from_secs(2))
}

fn printer(s: &Xfs4IotSim) -> ServiceClient {
    ServiceClient::connect(&s.service_uri("Printer"), quick()).expect("connect")
}

#[test]
fn the_publisher_lists_every_service_and_each_says_its_interfaces() {
    let s = sim();
    let p = get_services(&s.publisher_uri(), quick()).unwrap();
    assert_eq!(p.vendor_name, "ykb devsim");
    let want: Vec<String> = ["Printer", "BarcodeReader", "Camera", "Lights", "VendorMode"]
        .iter()
        .map(|n| s.service_uri(n))
        .collect();
    assert_eq!(p.services, want);
    let found = discover(&s.publisher_uri(), quick()).unwrap();
    let printer = found.iter().find(|i| i.uri.ends_with("/Printer")).unwrap();
    assert_eq!(printer.interfaces, vec!["Common", "Printer"]);
}

#[test]
fn the_publisher_is_found_by_trying_ports() {
    let s = sim();
    let port = s.local_addr().port();
    // A port where nothing listens first, then the emulator's.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = closed.local_addr().unwrap().port();
    drop(closed);
    assert_eq!(
        find_publisher("127.0.0.1", &[dead, port], &quick()),
        Some(s.publisher_uri())
    );
    assert_eq!(find_publisher("127.0.0.1", &[dead], &quick()), None);
}

#[test]
fn a_wrong_service_path_is_a_clear_connect_error() {
    let s = sim();
    let err = ServiceClient::connect(&s.service_uri("CashDispenser"), quick())
        .err()
        .unwrap();
    match &err {
        Xfs4IotError::Connect { reason, .. } => assert!(reason.contains("404"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(err.describe_zh(), "外设服务连接中断，请联系工作人员");
}

#[test]
fn status_and_a_raw_print_reach_the_service() {
    let s = sim();
    let c = printer(&s);
    let st = c.refresh_status(Duration::from_secs(2)).unwrap();
    assert_eq!(st.device, Some(DeviceState::Online));
    assert_eq!(st.classes["printer"]["paper"]["upper"], "full");
    let job = b"\x1b@hello\n\x1dV\x00";
    let mut updates = Vec::new();
    let mut pending = c.send(print_raw(job));
    assert!(pending.id().is_some());
    while let Some(u) = pending.next(Duration::from_secs(5)) {
        updates.push(u);
    }
    assert_eq!(updates[0], CommandUpdate::Acknowledged);
    assert!(matches!(updates.last(), Some(CommandUpdate::Done(Ok(_)))));
    assert_eq!(s.shared().jobs(), vec![job.to_vec()]);
}

#[test]
fn paper_out_is_a_command_error_with_its_error_code() {
    let s = sim();
    let c = printer(&s);
    s.control("paper out").unwrap();
    let err = c.call(print_raw(b"x")).unwrap_err();
    assert_eq!(
        err,
        Xfs4IotError::Failed {
            command: "Printer.PrintRaw".into(),
            code: CompletionCode::CommandErrorCode,
            error_code: Some("paperOut".into()),
            description: "paper out".into(),
        }
    );
    assert_eq!(s.shared().job_count(), 0);
}

#[test]
fn no_acknowledge_is_an_acknowledge_timeout() {
    let s = sim();
    let c = printer(&s);
    s.shared().set_fault("Printer.PrintRaw", Fault::NoAck);
    let t = Instant::now();
    let err = c.call(print_raw(b"x")).unwrap_err();
    assert_eq!(
        err,
        Xfs4IotError::Timeout {
            stage: Stage::Acknowledge
        }
    );
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    // The connection still works.
    s.shared().clear();
    c.call(print_raw(b"y")).unwrap();
}

#[test]
fn an_error_completion_is_failed_with_its_code() {
    let s = sim();
    let c = printer(&s);
    s.control("fault Printer.PrintRaw error hardwareError")
        .unwrap();
    let err = c.call(print_raw(b"x")).unwrap_err();
    assert!(
        matches!(
            &err,
            Xfs4IotError::Failed {
                code: CompletionCode::HardwareError,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Device);
}

#[test]
fn a_disconnect_mid_command_ends_it_and_the_next_command_reconnects() {
    let s = sim();
    let c = printer(&s);
    let events = c.subscribe();
    s.shared().set_fault("Printer.PrintRaw", Fault::Disconnect);
    assert_eq!(
        c.call(print_raw(b"x")).unwrap_err(),
        Xfs4IotError::Disconnected
    );
    let saw_disconnect = (0..10).any(|_| {
        matches!(
            events.recv_timeout(Duration::from_millis(500)),
            Ok(ServiceEvent::Disconnected(_))
        )
    });
    assert!(saw_disconnect);
    s.shared().clear();
    c.call(print_raw(b"y")).unwrap();
    assert!(c.stats().reconnects >= 1);
    assert!(c.stats().connected);
}

#[test]
fn a_slow_completion_past_the_timeout_is_a_completion_timeout() {
    let s = sim();
    let c = printer(&s);
    s.shared()
        .set_fault("Printer.PrintRaw", Fault::Slow(Duration::from_millis(1500)));
    let t = Instant::now();
    let err = c
        .call(print_raw(b"x").timeout(Duration::from_millis(300)))
        .unwrap_err();
    assert_eq!(
        err,
        Xfs4IotError::Timeout {
            stage: Stage::Completion
        }
    );
    // Timeout 300 ms + grace 200 ms, well before the slow completion.
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(450) && took < Duration::from_millis(1400),
        "{took:?}"
    );
    // The client cancelled it: the service reports it `canceled`, which ends nothing more.
    s.shared().clear();
    c.call(print_raw(b"y")).unwrap();
    assert_eq!(s.shared().job_count(), 2, "both prints ran in the emulator");
}

#[test]
fn cancel_ends_a_slow_command_as_cancelled() {
    let s = sim();
    let c = printer(&s);
    s.shared()
        .set_fault("Printer.PrintRaw", Fault::Slow(Duration::from_secs(5)));
    let pending = c.send(print_raw(b"x"));
    let cancel = pending.canceller();
    std::thread::sleep(Duration::from_millis(100));
    let t = Instant::now();
    cancel.cancel();
    let err = pending.wait().unwrap_err();
    assert_eq!(err, Xfs4IotError::Cancelled);
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    assert!(
        t.elapsed() < Duration::from_millis(400),
        "the service's canceled came at once"
    );
}

#[test]
fn malformed_json_ends_the_command_as_a_protocol_error() {
    let s = sim();
    let c = printer(&s);
    s.shared().set_fault("Printer.PrintRaw", Fault::Garbage);
    let err = c.call(print_raw(b"x")).unwrap_err();
    assert!(matches!(err, Xfs4IotError::Protocol(_)), "{err:?}");
    s.shared().clear();
    c.call(print_raw(b"y")).unwrap();
}

#[test]
fn a_completion_for_an_unknown_request_completes_nothing() {
    let s = sim();
    let c = printer(&s);
    s.shared().set_fault("Printer.PrintRaw", Fault::Stray);
    let err = c
        .call(print_raw(b"x").timeout(Duration::from_millis(200)))
        .unwrap_err();
    assert_eq!(
        err,
        Xfs4IotError::Timeout {
            stage: Stage::Completion
        }
    );
    assert!(c.stats().violations >= 1);
}

#[test]
fn an_over_size_message_ends_the_command_as_too_large() {
    let s = sim();
    let c = printer(&s);
    s.shared()
        .set_fault("Printer.PrintRaw", Fault::Oversize(100 * 1024));
    let err = c.call(print_raw(b"x")).unwrap_err();
    assert!(
        matches!(err, Xfs4IotError::TooLarge { max, .. } if max == 64 * 1024),
        "{err:?}"
    );
    s.shared().clear();
    c.call(print_raw(b"y")).unwrap();
}

#[test]
fn a_flood_of_events_ends_the_command_and_memory_stays_bounded() {
    let s = sim();
    // The emulator sends the whole flood before it reads the next command: give that one
    // time to be acknowledged on a loaded machine.
    let mut config = quick();
    config.tracker.ack_timeout = Duration::from_secs(10);
    let c = ServiceClient::connect(&s.service_uri("Printer"), config).unwrap();
    s.shared().set_fault("Printer.PrintRaw", Fault::Flood(5000));
    let mut events = 0;
    let err = c
        .send(print_raw(b"x"))
        .wait_with(|_, _| events += 1)
        .unwrap_err();
    assert_eq!(err, Xfs4IotError::EventFlood { max: 20 });
    assert_eq!(events, 20);
    // The rest of the flood is counted, not queued; the connection keeps working.
    s.shared().clear();
    c.call(print_raw(b"y")).unwrap();
}

#[test]
fn unsolicited_status_changes_reach_subscribers() {
    let s = sim();
    let c = printer(&s);
    c.refresh_status(Duration::from_secs(2)).unwrap();
    let rx = c.subscribe();
    // The first event is the current status.
    assert!(matches!(
        rx.recv_timeout(Duration::from_secs(1)),
        Ok(ServiceEvent::Status(_))
    ));
    s.control("status Printer hardwareError").unwrap();
    let st = loop {
        match rx
            .recv_timeout(Duration::from_secs(2))
            .expect("a status change")
        {
            ServiceEvent::Status(st) => break st,
            _ => continue,
        }
    };
    assert_eq!(st.device, Some(DeviceState::HardwareError));
    assert_eq!(c.status().device, Some(DeviceState::HardwareError));
    // A printer in hardware error refuses to print.
    let err = c.call(print_raw(b"x")).unwrap_err();
    assert!(
        matches!(
            err,
            Xfs4IotError::Failed {
                code: CompletionCode::DeviceNotReady,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn many_commands_at_once_each_complete_once() {
    let s = sim();
    let c = printer(&s);
    let pending: Vec<_> = (0..20).map(|i| c.send(print_raw(&[i]))).collect();
    let ids: std::collections::BTreeSet<_> = pending.iter().map(|p| p.id().unwrap()).collect();
    assert_eq!(ids.len(), 20);
    for p in pending {
        p.wait().unwrap();
    }
    let mut jobs = s.shared().jobs();
    jobs.sort();
    assert_eq!(jobs, (0..20u8).map(|i| vec![i]).collect::<Vec<_>>());
}

#[test]
fn barcode_camera_lights_and_vendor_mode_answer() {
    let s = sim();
    let bcr = ServiceClient::connect(&s.service_uri("BarcodeReader"), quick()).unwrap();
    s.control("scan https://ykb.cq.gov.cn/c/1").unwrap();
    let done = bcr
        .call(Command::new("BarcodeReader.Read").with("symbologies", vec!["qrCode"]))
        .unwrap();
    let data = done.payload["readOutput"][0]["barcodeData"]
        .as_str()
        .unwrap();
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap(),
        b"https://ykb.cq.gov.cn/c/1"
    );
    // No code presented: the service's own timeout.
    let err = bcr
        .call(Command::new("BarcodeReader.Read").timeout(Duration::from_millis(200)))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Xfs4IotError::Failed {
                code: CompletionCode::TimeOut,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Timeout);

    let cam = ServiceClient::connect(&s.service_uri("Camera"), quick()).unwrap();
    let pic = cam
        .call(Command::new("Camera.TakePicture").with("camera", "person"))
        .unwrap();
    let png = base64::engine::general_purpose::STANDARD
        .decode(pic.payload["pictureFile"].as_str().unwrap())
        .unwrap();
    assert!(png.starts_with(b"\x89PNG"));

    let lights = ServiceClient::connect(&s.service_uri("Lights"), quick()).unwrap();
    lights
        .call(Command::new("Lights.SetLight").with(
            "receiptPrinter",
            serde_json::json!({"center": {"flashRate": "quick", "color": "green"}}),
        ))
        .unwrap();
    assert_eq!(
        s.shared().lights()["receiptPrinter"]["center"]["flashRate"],
        "quick"
    );
    // A service refuses another interface's command.
    let err = lights.call(print_raw(b"x")).unwrap_err();
    assert!(matches!(
        err,
        Xfs4IotError::Failed {
            code: CompletionCode::UnsupportedCommand,
            ..
        }
    ));

    let vm = ServiceClient::connect(&s.service_uri("VendorMode"), quick()).unwrap();
    let rx = vm.subscribe();
    vm.call(Command::new("VendorMode.Register").with("appName", "ykb-terminal"))
        .unwrap();
    s.control("vendor enter").unwrap();
    let name = loop {
        if let ServiceEvent::Unsolicited { name, .. } =
            rx.recv_timeout(Duration::from_secs(2)).unwrap()
        {
            break name;
        }
    };
    assert_eq!(name, "VendorMode.EnterModeRequestEvent");
    assert_eq!(s.shared().vendor_state(), "enterPending");
    vm.call(Command::new("VendorMode.EnterModeAcknowledge"))
        .unwrap();
    let name = loop {
        if let ServiceEvent::Unsolicited { name, .. } =
            rx.recv_timeout(Duration::from_secs(2)).unwrap()
        {
            break name;
        }
    };
    assert_eq!(name, "VendorMode.ModeEnteredEvent");
    assert_eq!(s.shared().vendor_state(), "active");
}

#[test]
fn our_receipt_prints_as_print_raw_with_the_escpos_bytes() {
    use ykb_drivers::escpos::{
        test_receipt, PaperState, Receipt, ReceiptItem, ReceiptRenderer, ReceiptStyle,
    };
    use ykb_drivers::xfs4iot::Xfs4IotPrinter;
    let s = sim();
    let p = Xfs4IotPrinter::connect(&s.service_uri("Printer"), quick()).unwrap();
    let st = p.status().unwrap();
    assert_eq!(
        (st.state, st.paper),
        (DeviceState::Online, PaperState::Full)
    );
    let receipt = Receipt {
        title: "受理回执".into(),
        items: vec![
            ReceiptItem::Row {
                label: "办件编号".into(),
                value: "500103-2026-000123".into(),
            },
            ReceiptItem::Qr {
                data: "https://ykb.example.invalid/c/123".into(),
                caption: Some("扫码查询进度".into()),
            },
        ],
        footer: vec!["请妥善保管".into()],
    };
    // Without a font (as here), the GB 2312 receipt still renders as ESC/POS text.
    let renderer = ReceiptRenderer::new(None, ReceiptStyle::default());
    p.print_receipt(&receipt, &renderer).unwrap();
    let (want, _) = renderer.to_escpos(&receipt).unwrap();
    assert_eq!(s.shared().jobs(), vec![want]);
    // A rare character needs the font: a render error, nothing sent.
    let err = p.print_receipt(&test_receipt(), &renderer).unwrap_err();
    assert_eq!(err.describe_zh(), "回执生成失败");
    s.control("paper out").unwrap();
    assert_eq!(p.status().unwrap().paper, PaperState::Out);
    let err = p.print_receipt(&receipt, &renderer).unwrap_err();
    assert_eq!(err.describe_zh(), "打印机缺纸，请联系工作人员");
    assert_eq!(s.shared().job_count(), 1);
}

#[test]
fn vendor_mode_enters_after_our_acknowledge_and_exits_again() {
    use ykb_drivers::xfs4iot::{VendorModeEvent, VendorModeWatch};
    let s = sim();
    let w =
        VendorModeWatch::register(&s.service_uri("VendorMode"), "ykb-terminal", quick()).unwrap();
    assert_eq!(s.shared().vendor_apps(), vec!["ykb-terminal".to_string()]);
    let t = Duration::from_secs(2);
    assert_eq!(w.next_event(Duration::from_millis(100)), None);
    s.control("vendor enter").unwrap();
    assert_eq!(w.next_event(t), Some(VendorModeEvent::EnterRequested));
    // Not entered until we acknowledge (our session ends first).
    assert_eq!(w.next_event(Duration::from_millis(200)), None);
    assert_eq!(s.shared().vendor_state(), "enterPending");
    w.acknowledge_enter().unwrap();
    assert_eq!(w.next_event(t), Some(VendorModeEvent::Entered));
    assert_eq!(s.shared().vendor_state(), "active");
    // A second acknowledge is out of sequence.
    let err = w.acknowledge_enter().unwrap_err();
    assert!(
        matches!(
            err,
            Xfs4IotError::Failed {
                code: CompletionCode::SequenceError,
                ..
            }
        ),
        "{err:?}"
    );
    s.control("vendor exit").unwrap();
    assert_eq!(w.next_event(t), Some(VendorModeEvent::ExitRequested));
    w.acknowledge_exit().unwrap();
    assert_eq!(w.next_event(t), Some(VendorModeEvent::Exited));
    assert_eq!(s.shared().vendor_state(), "inactive");
}
