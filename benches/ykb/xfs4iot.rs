//! Group "drivers" (issue 16): the standard receipt printed through XFS4IoT — `Printer.PrintRaw`
//! with the receipt's ESC/POS bytes over a loopback WebSocket to the drivers' XFS4IoT
//! emulator, command → completion — beside the direct ESC/POS TCP path to the drivers'
//! `PrinterSim` in the same run (open, `DLE EOT` status, write: what `Printer::print` does).
//! Both send the same pre-rendered bytes; the XFS4IoT connection stays open between receipts,
//! as a kiosk session keeps it. Neither figure includes the emulators' own work after the
//! answer (the TCP emulator renders each job to PNG; it is waited for between receipts).

use std::time::{Duration, Instant};

use ykb_drivers::escpos::{
    load_font_static, test_receipt, Printer, PrinterUri, ReceiptRenderer, ReceiptStyle,
};
use ykb_drivers::sim::{PrinterSim, PrinterSimConfig, Xfs4IotSim};
use ykb_drivers::xfs4iot::{ClientConfig, Xfs4IotPrinter};

use super::{Baseline, Figure};

const GROUP: &str = "drivers";

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

/// The group's entry point.
pub fn xfs4iot(out: &mut Vec<Figure>) {
    const N: usize = 200;
    let font = load_font_static(ykb_terminal::fonts::UI_FONT).ok();
    let renderer = ReceiptRenderer::new(font.clone(), ReceiptStyle::default());
    let (bytes, _) = renderer.to_escpos(&test_receipt()).expect("receipt");

    let xfs = Xfs4IotSim::start("127.0.0.1:0").expect("XFS4IoT emulator");
    let printer = Xfs4IotPrinter::connect(&xfs.service_uri("Printer"), ClientConfig::default())
        .expect("connect");
    let dir = tempfile::tempdir().expect("temp dir");
    let tcp = PrinterSim::start_tcp(
        "127.0.0.1:0",
        PrinterSimConfig::new(dir.path().join("jobs"), font),
    )
    .expect("printer emulator");
    let uri = PrinterUri::parse(&format!("tcp://{}", tcp.local_addr())).expect("uri");

    let (mut via_xfs, mut via_tcp) = (Vec::with_capacity(N), Vec::with_capacity(N));
    // Interleaved, so both see the same machine load; the first of each is a warm-up.
    for i in 0..=N {
        let t = Instant::now();
        printer.print_raw(&bytes).expect("XFS4IoT print");
        let x = t.elapsed();
        let t = Instant::now();
        Printer::open(&uri)
            .and_then(|mut p| p.print(&bytes))
            .expect("ESC/POS print");
        let e = t.elapsed();
        // The emulator renders each job to PNG after the write; let it finish before the
        // next XFS4IoT print is timed (not counted in either figure).
        let end = Instant::now() + Duration::from_secs(10);
        while tcp.shared().jobs().len() < i + 1 {
            assert!(
                Instant::now() < end,
                "the printer emulator filed no job {i}"
            );
            std::thread::sleep(Duration::from_micros(200));
        }
        if i > 0 {
            via_xfs.push(x);
            via_tcp.push(e);
        }
    }
    assert_eq!(
        xfs.shared().jobs().last(),
        Some(&bytes),
        "the emulator got the receipt"
    );
    via_xfs.sort();
    via_tcp.sort();
    let kib = bytes.len() as f64 / 1024.0;
    for (label, p) in [("p50", 0.5), ("p99", 0.99)] {
        out.push(Figure {
            group: GROUP,
            name: format!(
                "XFS4IoT Printer.PrintRaw, standard receipt: command → completion {label}"
            ),
            value: percentile(&via_xfs, p),
            unit: "ms",
            baseline: Some(Baseline {
                name: format!("direct ESC/POS over TCP (open, status, write) {label}"),
                value: percentile(&via_tcp, p),
            }),
            note: format!("{N} receipts of {kib:.1} KiB each, loopback, interleaved"),
        });
    }
}
