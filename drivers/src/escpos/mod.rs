//! 回执打印机 — ESC/POS receipt printers over serial, TCP 9100 or a device file.
//!
//! Sans-IO: [`encode`] (commands → bytes), [`parse`] (bytes → commands, the emulator's side),
//! [`status`] (`DLE EOT` replies), [`gb`] (GB18030 / GB 2312), [`raster`] and [`canvas`]
//! (drawing with the embedded font), [`receipt`] (layout rendered to ESC/POS and PNG),
//! [`length`] (how much paper a job takes).
//! IO: [`printer`] (the driver, opened by URI) and [`device`] (its thread with a status stream).

pub mod canvas;
pub mod device;
pub mod encode;
pub mod gb;
pub mod length;
pub mod parse;
pub mod printer;
pub mod raster;
pub mod receipt;
pub mod status;

pub use device::{PrinterDevice, PrinterEvent};
pub use encode::{Align, EscPos, QrEcLevel};
pub use length::paper_length_um;
pub use printer::{test_receipt, Printer, PrinterError, PrinterUri};
pub use raster::{load_font, load_font_static, Bitmap, LoadedFont};
pub use receipt::{Receipt, ReceiptItem, ReceiptRenderer, ReceiptStyle, RenderError};
pub use status::{PaperState, PrinterStatus};
