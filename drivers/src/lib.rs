//! Device drivers for ykb-terminal: ID-card reader (GA/T 467 SAM protocol), ESC/POS receipt
//! printers, QR scanners and cameras. This crate knows devices and wire protocols only —
//! nothing of matters, cases or SQLite.
//!
//! Protocol code is sans-IO (pure codecs and state machines); [`link`] holds the thin
//! transports; [`sim`] holds wire-level emulators used by tests, the demo profile and
//! technicians (`ykb-terminal devsim …`).
//!
//! ```no_run
//! use std::time::Duration;
//! use ykb_drivers::escpos::{test_receipt, Printer, PrinterUri, ReceiptRenderer, ReceiptStyle};
//! use ykb_drivers::idcard::{IdCardReader, IdReader, ServiceConfig};
//! use ykb_drivers::link::SerialConnector;
//! use ykb_drivers::scanner::{ScanEvent, SerialScanner, SplitterConfig};
//!
//! // ID card: a device thread on a serial port; one read, cancellable from the UI.
//! let reader = IdCardReader::spawn(SerialConnector::new("/dev/ttyUSB0", 115_200), ServiceConfig::default());
//! let status = reader.subscribe(); // ReaderEvent::Status / CardRemoved
//! let pending = reader.read_card(Duration::from_secs(30));
//! let cancel = pending.cancel_token(); // cancel.cancel() when the citizen presses 返回
//! match pending.wait() {
//!     Ok(card) => println!("{}", card.summary(false).name),
//!     Err(e) => println!("{:?}: {}", e.kind(), e.describe_zh()),
//! }
//!
//! // Printer: status, then a receipt (rare characters need the embedded font).
//! let font = ykb_drivers::escpos::load_font(std::fs::read("assets/fonts/cjk.ttf").unwrap()).ok();
//! let mut printer = Printer::open(&PrinterUri::parse("tcp://127.0.0.1:9100").unwrap()).unwrap();
//! println!("{:?}", printer.status());
//! printer.print_receipt(&test_receipt(), &ReceiptRenderer::new(font, ReceiptStyle::default())).unwrap();
//!
//! // Scanner: codes arrive sanitised on a channel.
//! let (_scanner, codes) = SerialScanner::spawn(SerialConnector::new("/dev/ttyACM0", 9600), SplitterConfig::default());
//! if let Ok(ScanEvent::Code(p)) = codes.recv() {
//!     println!("{}", p.text);
//! }
//! # drop((status, cancel));
//! ```

#![warn(missing_docs)]

pub mod camera;
pub mod cups;
pub mod escpos;
pub mod idcard;
pub mod link;
pub mod scanner;
pub mod sim;
pub mod status;
pub mod xfs4iot;

pub use status::{DeviceState, ErrorKind, StatusEvent};
