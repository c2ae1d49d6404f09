//! The real printer driver over TCP loopback, a pty and a device file, against the ESC/POS
//! emulator; QR codes in the emulator's PNGs are decoded with rqrr (independent of `qrcode`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use image::GrayImage;
use ykb_drivers::escpos::{
    test_receipt, PaperState, Printer, PrinterError, PrinterStatus, PrinterUri, Receipt,
    ReceiptItem, ReceiptRenderer, ReceiptStyle,
};
use ykb_drivers::scanner::camera::decode_gray as decode_qrs;
use ykb_drivers::sim::printer::{find_font, start_pty, PrinterCore, PrinterShared};
use ykb_drivers::sim::{PrinterMedia, PrinterSim, PrinterSimConfig, WireDevice};
use ykb_drivers::DeviceState;

/// The app's embedded font if the assets have it, else a system CJK font, else none.
fn font() -> Option<ab_glyph::FontArc> {
    let assets = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../assets/fonts");
    let f = find_font(&[
        &assets,
        Path::new("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
        Path::new("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    ]);
    if f.is_none() {
        eprintln!(
            "SKIPPING glyph-drawing assertions: no CJK font in assets/fonts or /usr/share/fonts"
        );
    }
    f
}

/// The QR codes in a job the emulator rendered to `png`.
fn job_qrs(png: &Path) -> Vec<String> {
    decode_qrs(&image::open(png).unwrap().to_luma8())
}

fn plain_receipt() -> Receipt {
    Receipt {
        title: "办件回执".into(),
        items: vec![
            ReceiptItem::Row {
                label: "办件编号".into(),
                value: "YKB-2026-000123".into(),
            },
            ReceiptItem::Row {
                label: "申请人".into(),
                value: "张三".into(),
            },
            ReceiptItem::Separator,
            ReceiptItem::Qr {
                data: "https://ykb.example.invalid/case/YKB-2026-000123".into(),
                caption: Some("扫码查询".into()),
            },
        ],
        footer: vec!["谢谢".into()],
    }
}

#[test]
fn receipt_printed_over_tcp_is_rendered_and_its_qr_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let sim =
        PrinterSim::start_tcp("127.0.0.1:0", PrinterSimConfig::new(dir.path(), font())).unwrap();
    let uri = PrinterUri::parse(&format!("tcp://{}", sim.local_addr())).unwrap();
    let mut printer = Printer::open(&uri).unwrap();
    let renderer = ReceiptRenderer::new(None, ReceiptStyle::default());
    printer.print_receipt(&plain_receipt(), &renderer).unwrap();
    drop(printer);
    let jobs = sim.shared().wait_for_jobs(1, Duration::from_secs(3));
    assert_eq!(jobs.len(), 1, "no job rendered");
    let img = image::open(&jobs[0]).unwrap().to_luma8();
    assert_eq!(img.width(), 576);
    assert_eq!(
        decode_qrs(&img),
        vec!["https://ykb.example.invalid/case/YKB-2026-000123".to_string()]
    );
    assert!(jobs[0].with_extension("bin").exists());
}

#[test]
fn rare_name_prints_as_raster_drawn_with_the_font() {
    let Some(font) = font() else { return };
    let renderer = ReceiptRenderer::new(Some(font.clone()), ReceiptStyle::default());
    let receipt = test_receipt();
    let (bytes, stats) = renderer.to_escpos(&receipt).unwrap();
    assert_eq!(stats.raster_lines, 1, "only the 王䶮 李喆 row needs raster");
    assert!(stats.text_lines > 3);
    // 䶮 never reaches the printer as text: no GB18030 four-byte sequence in the job.
    let rare = ykb_drivers::escpos::gb::to_gb18030("䶮");
    assert!(!bytes.windows(rare.len()).any(|w| w == rare.as_slice()));

    let dir = tempfile::tempdir().unwrap();
    let sim = PrinterSim::start_tcp("127.0.0.1:0", PrinterSimConfig::new(dir.path(), Some(font)))
        .unwrap();
    let mut printer = Printer::open(&PrinterUri::Tcp {
        addr: sim.local_addr().to_string(),
    })
    .unwrap();
    printer.print(&bytes).unwrap();
    drop(printer);
    let jobs = sim.shared().wait_for_jobs(1, Duration::from_secs(3));
    let printed = image::open(&jobs[0]).unwrap().to_luma8();
    let preview = renderer.to_image(&receipt).unwrap();
    // Both renderings lay out the same paper.
    assert_eq!(
        (printed.width(), printed.height()),
        (preview.width(), preview.height())
    );
    assert_eq!(
        decode_qrs(&printed),
        vec!["https://ykb.example.invalid/print-test".to_string()]
    );
    assert_eq!(
        decode_qrs(&preview),
        vec!["https://ykb.example.invalid/print-test".to_string()]
    );
    // The raster row has ink where the preview has ink: compare dark pixels per row band.
    let ink = |img: &GrayImage| img.pixels().filter(|p| p.0[0] < 128).count() as f64;
    let (a, b) = (ink(&printed), ink(&preview));
    assert!(
        (a - b).abs() / b < 0.15,
        "printed ink {a} vs preview ink {b}"
    );
    std::fs::write(
        dir.path().join("preview.png"),
        renderer.to_png(&receipt).unwrap(),
    )
    .unwrap();
}

#[test]
fn status_reports_near_end_paper_out_and_cover_open() {
    let dir = tempfile::tempdir().unwrap();
    let sim =
        PrinterSim::start_tcp("127.0.0.1:0", PrinterSimConfig::new(dir.path(), None)).unwrap();
    let mut printer = Printer::open(&PrinterUri::Tcp {
        addr: sim.local_addr().to_string(),
    })
    .unwrap();
    let s = printer.status().unwrap();
    assert_eq!(
        (s.state, s.paper, s.cover_open),
        (DeviceState::Online, PaperState::Full, Some(false))
    );

    sim.shared().control("near-end on").unwrap();
    assert_eq!(printer.status().unwrap().paper, PaperState::NearEnd);

    sim.shared().set_media(PrinterMedia {
        paper_out: true,
        ..Default::default()
    });
    let s = printer.status().unwrap();
    assert_eq!(
        (s.paper, s.state),
        (PaperState::Out, DeviceState::UserError)
    );
    let e = printer.print(b"\x1b@hello\n").unwrap_err();
    assert!(matches!(e, PrinterError::NotReady(_)), "{e:?}");
    assert_eq!(e.describe_zh(), "打印机缺纸，请联系工作人员");

    sim.shared().set_media(PrinterMedia {
        cover_open: true,
        ..Default::default()
    });
    assert_eq!(printer.status().unwrap().cover_open, Some(true));
    sim.shared().set_media(PrinterMedia::default());
    assert!(printer.status().unwrap().can_print());
}

#[test]
fn one_way_device_file_reports_unknown_never_paper_ok() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lp0");
    std::fs::write(&path, b"").unwrap();
    let uri = PrinterUri::parse(&format!("file://{}", path.display())).unwrap();
    let mut printer = Printer::open(&uri).unwrap();
    let s = printer.status().unwrap();
    assert_eq!(s, PrinterStatus::UNKNOWN);
    assert_ne!(s.paper, PaperState::Full);
    printer
        .print_receipt(&plain_receipt(), &ReceiptRenderer::default())
        .unwrap();
    // Feed what landed in the "device" to the emulator's printer core.
    let shared = PrinterShared::default();
    let mut core = PrinterCore::new(
        PrinterSimConfig::new(dir.path().join("out"), None),
        shared.clone(),
    );
    let bytes = std::fs::read(&path).unwrap();
    for chunk in bytes.chunks(7) {
        assert!(core.on_input(chunk).is_empty());
    }
    let jobs = shared.jobs();
    assert_eq!(jobs.len(), 1);
    assert_eq!(job_qrs(&jobs[0]).len(), 1);
}

#[test]
fn serial_printer_on_a_pty_answers_status_and_prints() {
    let dir = tempfile::tempdir().unwrap();
    let (pty, shared) = start_pty(None, PrinterSimConfig::new(dir.path(), None)).unwrap();
    let uri = PrinterUri::parse(&format!("serial://{}?baud=115200", pty.path().display())).unwrap();
    let mut printer = Printer::open(&uri).unwrap();
    assert_eq!(printer.status().unwrap().paper, PaperState::Full);
    printer
        .print_receipt(&plain_receipt(), &ReceiptRenderer::default())
        .unwrap();
    let jobs = shared.wait_for_jobs(1, Duration::from_secs(3));
    assert_eq!(jobs.len(), 1);
    assert_eq!(job_qrs(&jobs[0]).len(), 1);
}

#[test]
fn printer_device_publishes_media_changes_and_survives_a_restart() {
    use ykb_drivers::escpos::{PrinterDevice, PrinterEvent};
    let dir = tempfile::tempdir().unwrap();
    let sim =
        PrinterSim::start_tcp("127.0.0.1:0", PrinterSimConfig::new(dir.path(), None)).unwrap();
    let addr = sim.local_addr();
    let dev = PrinterDevice::spawn(
        PrinterUri::Tcp {
            addr: addr.to_string(),
        },
        Duration::from_millis(200),
    );
    let events = dev.subscribe();
    let wait = |pred: &dyn Fn(&PrinterEvent) -> bool, within: Duration| {
        let end = std::time::Instant::now() + within;
        loop {
            let e = events
                .recv_timeout(end.saturating_duration_since(std::time::Instant::now()))
                .expect("event in time");
            if pred(&e) {
                return;
            }
        }
    };
    wait(
        &|e| matches!(e, PrinterEvent::Status(s) if s.state == DeviceState::Online),
        Duration::from_secs(3),
    );
    sim.shared().control("near-end on").unwrap();
    wait(
        &|e| matches!(e, PrinterEvent::Media(s) if s.paper == PaperState::NearEnd),
        Duration::from_secs(2),
    );
    let (job, _) = ReceiptRenderer::default()
        .to_escpos(&plain_receipt())
        .unwrap();
    dev.print(job.clone()).unwrap();
    assert_eq!(
        sim.shared().wait_for_jobs(1, Duration::from_secs(3)).len(),
        1
    );

    drop(sim);
    wait(
        &|e| matches!(e, PrinterEvent::Status(s) if s.state == DeviceState::Offline),
        Duration::from_secs(2),
    );
    assert!(matches!(
        dev.print(job.clone()),
        Err(PrinterError::Offline { .. })
    ));
    let dir2 = tempfile::tempdir().unwrap();
    let sim =
        PrinterSim::start_tcp(&addr.to_string(), PrinterSimConfig::new(dir2.path(), None)).unwrap();
    wait(
        &|e| matches!(e, PrinterEvent::Status(s) if s.state == DeviceState::Online),
        Duration::from_secs(3),
    );
    dev.print(job).unwrap();
    assert_eq!(
        sim.shared().wait_for_jobs(1, Duration::from_secs(3)).len(),
        1
    );
}
