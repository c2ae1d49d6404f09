//! The receipt printer driver: opens a printer by URI, asks its status, sends jobs.

use std::time::{Duration, Instant};

use super::encode::EscPos;
use super::receipt::{Receipt, ReceiptRenderer, RenderError};
use super::status::{parse_status, BadStatusByte, PrinterStatus};
use crate::link::{ByteLink, FileLink, SerialLink, TcpLink};
use crate::status::ErrorKind;

/// Where a printer is: `serial:///dev/ttyUSB0?baud=115200`, `tcp://host:9100`,
/// `file:///dev/usb/lp0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterUri {
    /// A serial port.
    Serial {
        /// Port path.
        path: String,
        /// Baud rate (default 115200).
        baud: u32,
    },
    /// A raw TCP port (default 9100).
    Tcp {
        /// `host:port`.
        addr: String,
    },
    /// A write-only device file (one-way: no status).
    File {
        /// Path, e.g. `/dev/usb/lp0`.
        path: String,
    },
}

impl PrinterUri {
    /// Parses a printer URI.
    pub fn parse(uri: &str) -> Result<Self, PrinterError> {
        let bad = |why: &str| PrinterError::BadUri(format!("{uri}: {why}"));
        if let Some(rest) = uri.strip_prefix("serial://") {
            let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
            let mut baud = 115_200;
            for kv in query.split('&').filter(|s| !s.is_empty()) {
                match kv.split_once('=') {
                    Some(("baud", v)) => {
                        baud = v.parse().map_err(|_| bad("baud is not a number"))?
                    }
                    _ => return Err(bad("unknown parameter")),
                }
            }
            if path.is_empty() {
                return Err(bad("no port path"));
            }
            Ok(Self::Serial {
                path: path.into(),
                baud,
            })
        } else if let Some(rest) = uri.strip_prefix("tcp://") {
            let host = rest.trim_end_matches('/');
            if host.is_empty() {
                return Err(bad("no host"));
            }
            let addr = if host
                .rsplit_once(':')
                .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
            {
                host.to_string()
            } else {
                format!("{host}:9100")
            };
            Ok(Self::Tcp { addr })
        } else if let Some(path) = uri.strip_prefix("file://") {
            if path.is_empty() {
                return Err(bad("no path"));
            }
            Ok(Self::File { path: path.into() })
        } else {
            Err(bad("use serial://, tcp:// or file://"))
        }
    }
}

impl std::fmt::Display for PrinterUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Serial { path, baud } => write!(f, "serial://{path}?baud={baud}"),
            Self::Tcp { addr } => write!(f, "tcp://{addr}"),
            Self::File { path } => write!(f, "file://{path}"),
        }
    }
}

/// Why a printer command failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrinterError {
    /// The URI is not understood.
    #[error("bad printer URI {0}")]
    BadUri(String),
    /// The printer cannot be reached or the link broke.
    #[error("printer {device} offline: {reason}")]
    Offline {
        /// The URI.
        device: String,
        /// The OS error.
        reason: String,
    },
    /// No status reply in time.
    #[error("printer {0} did not answer a status request")]
    Timeout(String),
    /// A status reply that is not a status byte.
    #[error(transparent)]
    BadStatus(#[from] BadStatusByte),
    /// The printer reports it cannot print (paper out, cover open, error).
    #[error("printer cannot print: {0:?}")]
    NotReady(PrinterStatus),
    /// The receipt could not be rendered.
    #[error(transparent)]
    Render(#[from] RenderError),
}

impl PrinterError {
    /// The broad class for the UI.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Timeout(_) => ErrorKind::Timeout,
            Self::NotReady(s) if s.cover_open == Some(true) => ErrorKind::User,
            _ => ErrorKind::Device,
        }
    }

    /// What to tell a citizen or technician (zh-CN).
    pub fn describe_zh(&self) -> &'static str {
        match self {
            Self::NotReady(s) if s.paper == super::status::PaperState::Out => {
                "打印机缺纸，请联系工作人员"
            }
            Self::NotReady(s) if s.cover_open == Some(true) => "打印机盖未关闭",
            Self::Render(_) => "回执生成失败",
            _ => "打印机故障，请联系工作人员",
        }
    }
}

/// The largest single write of a print job.
pub const PRINT_CHUNK: usize = 4096;

/// A receipt printer on some link.
pub struct Printer {
    link: Box<dyn ByteLink>,
    uri: String,
    /// How long one status byte may take.
    pub status_timeout: Duration,
    /// Paper the jobs sent on this link took, micrometres ([`super::paper_length_um`]).
    printed_um: u64,
}

impl Printer {
    /// Opens the printer at `uri`.
    pub fn open(uri: &PrinterUri) -> Result<Self, PrinterError> {
        let offline = |e: std::io::Error| PrinterError::Offline {
            device: uri.to_string(),
            reason: e.to_string(),
        };
        let link: Box<dyn ByteLink> = match uri {
            PrinterUri::Serial { path, baud } => {
                Box::new(SerialLink::open(path, *baud).map_err(offline)?)
            }
            PrinterUri::Tcp { addr } => {
                Box::new(TcpLink::connect(addr, Duration::from_secs(3)).map_err(offline)?)
            }
            PrinterUri::File { path } => Box::new(FileLink::open(path).map_err(offline)?),
        };
        Ok(Self::with_link(link, uri.to_string()))
    }

    /// Wraps an already open link.
    pub fn with_link(link: Box<dyn ByteLink>, name: String) -> Self {
        Self {
            link,
            uri: name,
            status_timeout: Duration::from_millis(800),
            printed_um: 0,
        }
    }

    fn offline(&self, e: std::io::Error) -> PrinterError {
        PrinterError::Offline {
            device: self.uri.clone(),
            reason: e.to_string(),
        }
    }

    fn status_byte(&mut self, n: u8) -> Result<u8, PrinterError> {
        self.link
            .send(&EscPos::status_request(n))
            .map_err(|e| self.offline(e))?;
        let deadline = Instant::now() + self.status_timeout;
        let mut b = [0u8; 1];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(PrinterError::Timeout(self.uri.clone()));
            }
            if self.link.recv(&mut b, left).map_err(|e| self.offline(e))? == 1 {
                return Ok(b[0]);
            }
        }
    }

    /// The printer's status via `DLE EOT 1/2/4`; on a one-way link, [`PrinterStatus::UNKNOWN`].
    pub fn status(&mut self) -> Result<PrinterStatus, PrinterError> {
        if !self.link.is_two_way() {
            return Ok(PrinterStatus::UNKNOWN);
        }
        self.link.discard_input().map_err(|e| self.offline(e))?;
        let a = self.status_byte(1)?;
        let b = self.status_byte(2)?;
        let c = self.status_byte(4)?;
        Ok(parse_status(a, b, c)?)
    }

    /// Paper taken by the jobs this driver sent completely, in micrometres (estimated from
    /// the bytes it wrote).
    pub fn printed_um(&self) -> u64 {
        self.printed_um
    }

    /// Sends a job after checking the printer can print (when it can tell).
    pub fn print(&mut self, job: &[u8]) -> Result<(), PrinterError> {
        self.print_with_progress(job, |_, _| {})
    }

    /// [`Printer::print`], calling `progress(written, total)` (bytes) after each write
    /// (the link takes the job in [`PRINT_CHUNK`]-byte writes).
    pub fn print_with_progress(
        &mut self,
        job: &[u8],
        mut progress: impl FnMut(usize, usize),
    ) -> Result<(), PrinterError> {
        let status = self.status()?;
        if !status.can_print() {
            return Err(PrinterError::NotReady(status));
        }
        // Several writes so a serial link never holds the whole job in one call.
        let mut written = 0;
        progress(0, job.len());
        for chunk in job.chunks(PRINT_CHUNK) {
            self.link.send(chunk).map_err(|e| self.offline(e))?;
            written += chunk.len();
            progress(written, job.len());
        }
        self.printed_um += super::paper_length_um(job);
        Ok(())
    }

    /// Renders and prints a receipt.
    pub fn print_receipt(
        &mut self,
        receipt: &Receipt,
        renderer: &ReceiptRenderer,
    ) -> Result<(), PrinterError> {
        self.print_receipt_with_progress(receipt, renderer, |_, _| {})
    }

    /// [`Printer::print_receipt`] with the job's bytes written reported as it goes.
    pub fn print_receipt_with_progress(
        &mut self,
        receipt: &Receipt,
        renderer: &ReceiptRenderer,
        progress: impl FnMut(usize, usize),
    ) -> Result<(), PrinterError> {
        let (bytes, _) = renderer.to_escpos(receipt)?;
        self.print_with_progress(&bytes, progress)
    }
}

/// A small receipt for `ykb-terminal print test`.
pub fn test_receipt() -> Receipt {
    use super::receipt::ReceiptItem;
    Receipt {
        title: "打印测试".into(),
        items: vec![
            ReceiptItem::Text("渝快办政务服务终端 ESC/POS 打印测试".into()),
            ReceiptItem::Row {
                label: "常用字".into(),
                value: "重庆市渝中区".into(),
            },
            ReceiptItem::Row {
                label: "生僻字".into(),
                value: "王䶮 李喆".into(),
            },
            ReceiptItem::Separator,
            ReceiptItem::Qr {
                data: "https://ykb.example.invalid/print-test".into(),
                caption: Some("二维码测试".into()),
            },
        ],
        footer: vec!["测试完毕".into()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printer_uris_parse() {
        assert_eq!(
            PrinterUri::parse("serial:///dev/ttyUSB0?baud=9600").unwrap(),
            PrinterUri::Serial {
                path: "/dev/ttyUSB0".into(),
                baud: 9600
            }
        );
        assert_eq!(
            PrinterUri::parse("tcp://10.0.0.5").unwrap(),
            PrinterUri::Tcp {
                addr: "10.0.0.5:9100".into()
            }
        );
        assert_eq!(
            PrinterUri::parse("tcp://[::1]:9101").unwrap(),
            PrinterUri::Tcp {
                addr: "[::1]:9101".into()
            }
        );
        assert_eq!(
            PrinterUri::parse("file:///dev/usb/lp0").unwrap(),
            PrinterUri::File {
                path: "/dev/usb/lp0".into()
            }
        );
        assert!(PrinterUri::parse("lpt://x").is_err());
        assert!(PrinterUri::parse("serial:///dev/ttyS0?speed=1").is_err());
    }

    #[test]
    fn progress_counts_every_byte_written_up_to_the_whole_job() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lp0");
        std::fs::write(&path, b"").unwrap();
        let link = crate::link::FileLink::open(path.to_str().unwrap()).unwrap();
        let mut printer = Printer::with_link(Box::new(link), "file".into());
        let job: Vec<u8> = (0..PRINT_CHUNK * 2 + 100).map(|i| i as u8).collect();
        let mut seen = Vec::new();
        printer
            .print_with_progress(&job, |done, total| seen.push((done, total)))
            .unwrap();
        let total = job.len();
        assert_eq!(
            seen,
            [
                (0, total),
                (PRINT_CHUNK, total),
                (PRINT_CHUNK * 2, total),
                (total, total)
            ]
        );
        assert_eq!(std::fs::read(&path).unwrap(), job);
    }
}
