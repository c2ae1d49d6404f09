//! Group "ticketing" (issue 7), second figure: tap to printed ticket, end to end through the
//! printer emulator — `ticketing::issue` (number from the lease, ticket row, sealed event,
//! one durable commit), `kiosk::ticket::ticket_receipt`, ESC/POS rendering and the print over
//! TCP with the drivers' `Printer` (a fresh connection per ticket, as `ReceiptPrinter` does),
//! until the drivers' `PrinterSim` has filed the job (its PNG and raw bytes written). The
//! baseline is the store transaction alone, measured in the same loop. The tap itself (UI
//! event to the call) is not included: the kiosk has no ticket page yet.

use std::time::{Duration, Instant};

use ykb_drivers::escpos::{load_font_static, Printer, PrinterUri, ReceiptRenderer, ReceiptStyle};
use ykb_drivers::sim::{PrinterSim, PrinterSimConfig};
use ykb_terminal::core::ticketing::IssueRequest;
use ykb_terminal::kiosk::ticket::ticket_receipt;

use super::{Baseline, Figure};

const GROUP: &str = "ticketing";

/// The group's entry point.
pub fn ticket_print(out: &mut Vec<Figure>) {
    const N: usize = 40;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut core = ykb_terminal::core::Core::start(
        ykb_terminal::core::config::Profile::demo(),
        &dir.path().join("data"),
    )
    .expect("core");
    let cfg = core.profile.ticketing.clone().expect("demo [ticketing]");
    super::lease_999_a_numbers(&mut core, &cfg);
    let font = load_font_static(ykb_terminal::fonts::UI_FONT).ok();
    let sim = PrinterSim::start_tcp(
        "127.0.0.1:0",
        PrinterSimConfig::new(dir.path().join("jobs"), font.clone()),
    )
    .expect("printer emulator");
    let uri = PrinterUri::parse(&format!("tcp://{}", sim.local_addr())).expect("uri");
    let renderer = ReceiptRenderer::new(font, ReceiptStyle::default());
    let request = IssueRequest {
        service: "A".into(),
        ..Default::default()
    };
    let hall = core.profile.terminal.name.clone();

    let (mut total, mut store_only, mut sent) = (Vec::new(), Vec::new(), Vec::new());
    let mut last = None;
    for i in 0..=N {
        let t = Instant::now();
        let ticket = super::issue_ticket(&mut core, &cfg, &request);
        let issued = t.elapsed();
        let receipt = ticket_receipt(&ticket, &hall);
        Printer::open(&uri)
            .and_then(|mut p| p.print_receipt(&receipt, &renderer))
            .expect("print");
        last = Some(receipt);
        let delivered = t.elapsed();
        let end = Instant::now() + Duration::from_secs(10);
        while sim.shared().jobs().len() < i + 1 {
            assert!(
                Instant::now() < end,
                "the emulator filed no job for ticket {i}"
            );
            std::thread::sleep(Duration::from_micros(200));
        }
        // The first one warms the font cache and the connection path; not counted.
        if i > 0 {
            total.push(t.elapsed());
            store_only.push(issued);
            sent.push(delivered);
        }
    }
    let med = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64() * 1e3
    };
    let p95 = |v: &Vec<Duration>| v[((v.len() - 1) as f64 * 0.95).round() as usize];
    let (total_ms, store_ms, sent_ms) = (med(&mut total), med(&mut store_only), med(&mut sent));
    // What of the print path is rendering the receipt to ESC/POS (QR and raster lines).
    let receipt = last.expect("a receipt");
    let render_ms = super::median(20, || {
        std::hint::black_box(renderer.to_escpos(&receipt).expect("escpos"));
    })
    .as_secs_f64()
        * 1e3;
    out.push(Figure {
        group: GROUP,
        name: "tap to printed ticket: issue + receipt + ESC/POS over TCP → emulator filed".into(),
        value: total_ms,
        unit: "ms",
        baseline: Some(Baseline {
            name: "the store transaction alone (ticketing::issue)".into(),
            value: store_ms,
        }),
        note: format!(
            "median of {N}; p95 {:.1} ms; bytes handed to the printer after {sent_ms:.1} ms \
             (receipt → ESC/POS alone {render_ms:.1} ms; the rest is connect, status check \
             and send; the emulator polls for connections every 10 ms, likely much of it), then the \
             emulator parses, rasterises and writes job-NNNN.png/.bin (a real printer takes \
             its own time to feed paper)",
            p95(&total).as_secs_f64() * 1e3
        ),
    });
}
