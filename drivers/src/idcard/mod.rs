//! 身份证阅读器 — ID-card readers speaking GA/T 467 (the SAM protocol) over serial.
//!
//! Layers, bottom up: [`frame`] (bytes ↔ frames), [`sam`] (commands and status words),
//! [`text`] / [`card`] / [`nation`] / [`gb11643`] / [`photo`] (what a card holds),
//! [`poller`] (when a card is placed, read, removed), all sans-IO; then [`reader`] (the
//! blocking driver over a [`crate::link::ByteLink`]) and [`service`] (the device thread with
//! reconnection, status stream and cancellable reads).

pub mod card;
pub mod frame;
pub mod gb11643;
pub mod nation;
pub mod photo;
pub mod poller;
pub mod reader;
pub mod sam;
pub mod service;
pub mod text;

pub use card::{CardSummary, IdCard};
pub use photo::{NoPhotoDecoder, Photo, PhotoDecoder, VendorWltLibrary};
pub use reader::{CancelToken, IdCardError, ReaderConfig, SamReader};
pub use sam::{SamCommand, SamError};
pub use service::{IdCardReader, IdReader, PendingRead, ReaderEvent, ServiceConfig};
pub use text::{CardDate, CardKind, CardText, Sex};
