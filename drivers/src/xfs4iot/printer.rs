//! A receipt printer lent by the host through its XFS4IoT `Printer` service.
//!
//! Our receipts go out as `Printer.PrintRaw` carrying the ESC/POS bytes
//! [`ReceiptRenderer::to_escpos`] already produces (GB18030 text, raster lines for rare
//! characters, native QR codes), not as `Printer.PrintForm`: a form needs form and media
//! definitions loaded into the host's service (vendor specific, not ours to install) and
//! cannot carry our raster lines or QR codes. The price is that PrintRaw is device dependent:
//! the host's receipt printer must speak ESC/POS, which kiosk thermal printers in China do.

use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;

use super::client::{ClientConfig, ServiceClient};
use super::error::Xfs4IotError;
use super::tracker::Command;
use crate::escpos::{PaperState, PrinterStatus, Receipt, ReceiptRenderer};
use crate::status::DeviceState;

/// The XFS4IoT printer at a service URI (`ws://host:port/xfs4iot/v1.0/Printer`).
pub struct Xfs4IotPrinter {
    client: ServiceClient,
    /// How long one print may take.
    pub print_timeout: Duration,
}

/// Why a receipt did not print.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Xfs4IotPrintError {
    /// The receipt could not be laid out.
    #[error(transparent)]
    Render(#[from] crate::escpos::RenderError),
    /// The service failed the command.
    #[error(transparent)]
    Service(#[from] Xfs4IotError),
}

impl Xfs4IotPrintError {
    /// The broad class for the UI.
    pub fn kind(&self) -> crate::status::ErrorKind {
        match self {
            Self::Render(_) => crate::status::ErrorKind::Device,
            Self::Service(e) => e.kind(),
        }
    }

    /// What to tell a citizen or technician (zh-CN).
    pub fn describe_zh(&self) -> &'static str {
        let Self::Service(e) = self else {
            return "回执生成失败";
        };
        let code = match e {
            Xfs4IotError::Failed { error_code, .. } => error_code.as_deref(),
            _ => None,
        };
        match code {
            Some("paperOut") => "打印机缺纸，请联系工作人员",
            Some("paperJammed" | "mediaJammed") => "打印机卡纸，请联系工作人员",
            _ => e.describe_zh(),
        }
    }
}

/// XFS4IoT's paper supply word (`full`, `low`, `out`, `jammed` …) as [`PaperState`].
pub fn paper_state(s: &str) -> PaperState {
    match s {
        "full" => PaperState::Full,
        "low" => PaperState::NearEnd,
        "out" => PaperState::Out,
        "jammed" => PaperState::Jammed,
        _ => PaperState::Unknown,
    }
}

impl Xfs4IotPrinter {
    /// Connects to the printer service at `uri`.
    pub fn connect(uri: &str, config: ClientConfig) -> Result<Self, Xfs4IotError> {
        Ok(Self {
            client: ServiceClient::connect(uri, config)?,
            print_timeout: Duration::from_secs(30),
        })
    }

    /// The connection (status stream, counters).
    pub fn client(&self) -> &ServiceClient {
        &self.client
    }

    /// `Common.Status` as a [`PrinterStatus`] (paper from `printer.paper.upper`).
    pub fn status(&self) -> Result<PrinterStatus, Xfs4IotError> {
        let st = self.client.refresh_status(Duration::from_secs(5))?;
        let paper = st
            .classes
            .get("printer")
            .and_then(|p| p.get("paper"))
            .and_then(|p| p.get("upper"))
            .and_then(Value::as_str)
            .map_or(PaperState::Unknown, paper_state);
        Ok(PrinterStatus {
            state: st.device.unwrap_or(DeviceState::Offline),
            paper,
            cover_open: None,
        })
    }

    /// Sends raw ESC/POS bytes with `Printer.PrintRaw`.
    pub fn print_raw(&self, bytes: &[u8]) -> Result<(), Xfs4IotError> {
        let cmd = Command::new("Printer.PrintRaw")
            .with("inputData", "no")
            .with(
                "data",
                base64::engine::general_purpose::STANDARD.encode(bytes),
            )
            .timeout(self.print_timeout);
        self.client.call(cmd).map(|_| ())
    }

    /// Renders `receipt` to ESC/POS and prints it; `Ok` is the paper it took in micrometres
    /// (estimated from the bytes, as the ESC/POS driver counts it).
    pub fn print_receipt(
        &self,
        receipt: &Receipt,
        renderer: &ReceiptRenderer,
    ) -> Result<u64, Xfs4IotPrintError> {
        let (bytes, _) = renderer.to_escpos(receipt)?;
        self.print_raw(&bytes)?;
        Ok(crate::escpos::paper_length_um(&bytes))
    }
}
