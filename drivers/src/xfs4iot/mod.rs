//! XFS4IoT (CEN CWA 17852) client: the peripherals of a bank's or post office's self-service
//! terminal, reached as JSON messages over WebSocket.
//!
//! A service publisher at `ws://host:port/xfs4iot/v1.0` (ports 80, 443 or 5846–5856) lists the
//! services (`ServicePublisher.GetServices`), each at its own URI, e.g.
//! `ws://host:5846/xfs4iot/v1.0/Printer`. Every command gets an acknowledge, any events and
//! exactly one completion, correlated by `requestId`; services also send unsolicited events
//! (`Common.StatusChangedEvent`, vendor mode …).
//!
//! Sans-IO: [`message`] (the envelope codec, with a size cap), [`tracker`] (the request state
//! machine: timeouts from the caller's clock, cancel, status snapshot, bounded memory).
//! IO: [`client`] (one thread per service over `tungstenite`, discovery through the publisher).
//! Drivers: [`printer`] (our receipts as `Printer.PrintRaw`), [`devices`] (barcode reader,
//! camera, guidance lights), [`vendor`] (the host's vendor mode).
//! Errors: [`Xfs4IotError`], one per failed command, with `kind()` and `describe_zh()`.
//!
//! The other side, for a device service of our own (the kiosk's local device service):
//! [`server`] (sans-IO: acknowledge, events, exactly one completion per request; one client
//! per device) and [`listener`] (its loopback WebSocket transport).

pub mod client;
pub mod devices;
pub mod error;
pub mod listener;
pub mod message;
pub mod printer;
pub mod server;
pub mod tracker;
pub mod vendor;

pub use client::{
    discover, find_publisher, get_services, Canceller, ClientConfig, ClientStats, CommandUpdate,
    PendingCommand, Publisher, ServiceClient, ServiceEvent, ServiceInfo,
};
pub use devices::{
    light_payload, Guide, Picture, Xfs4IotBarcodeReader, Xfs4IotCamera, Xfs4IotLights,
};
pub use error::{Stage, Xfs4IotError};
pub use message::{CompletionCode, Header, Message, MessageType};
pub use printer::{Xfs4IotPrintError, Xfs4IotPrinter};
pub use tracker::{
    Command, Completion, Output, RequestId, ServiceStatus, Tracker, TrackerConfig, Violation,
};
pub use vendor::{VendorModeEvent, VendorModeWatch};
