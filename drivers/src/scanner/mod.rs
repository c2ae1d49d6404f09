//! 扫码枪 — QR/barcode scanners: serial scanners (line splitting, sanitising) and QR decoding
//! of camera frames.
//!
//! Sans-IO: [`splitter`] and [`mod@sanitize`]; IO: [`serial`] (device thread); [`camera`] decodes
//! frames with rqrr; [`evdev`] reads keyboard-wedge scanners from an event device, grabbed
//! exclusively.

pub mod camera;
pub mod dense_set;
pub mod evdev;
pub mod sanitize;
pub mod serial;
pub mod splitter;

pub use camera::{decode_qr, decode_qr_luma, decode_qr_rgb};
pub use evdev::{EvdevConfig, EvdevScanner};
pub use sanitize::{sanitize, PayloadEncoding, PayloadError, ScanPayload};
pub use serial::{ScanEvent, SerialScanner};
pub use splitter::{LineSplitter, SplitEvent, SplitterConfig};
