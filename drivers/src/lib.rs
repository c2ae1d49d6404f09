//! Device drivers for ykb-terminal: ID-card reader (GA/T 467 SAM protocol), ESC/POS receipt
//! printers, QR scanners and cameras. This crate knows devices and wire protocols only —
//! nothing of matters, cases or SQLite.

pub mod status;

pub use status::DeviceState;
