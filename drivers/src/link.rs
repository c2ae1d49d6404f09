//! Thin byte transports: serial ports (and pseudo-terminals), TCP sockets and device files.
//!
//! Drivers are generic over [`ByteLink`], so the same protocol code runs over a USB-serial
//! bridge, a pty opened by an emulator, or a socket.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

/// A two-way (or write-only) byte pipe with read timeouts.
pub trait ByteLink: Send {
    /// Writes all of `bytes`.
    fn send(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Reads what is available, waiting at most `timeout`; `Ok(0)` means nothing arrived in time.
    /// A closed or unplugged link is an error, never `Ok(0)`.
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize>;
    /// Whether the device can answer at all (a printer device file cannot).
    fn is_two_way(&self) -> bool {
        true
    }
    /// Drops whatever input is pending (stale bytes from an earlier command).
    fn discard_input(&mut self) -> io::Result<()> {
        let mut buf = [0u8; 256];
        while self.recv(&mut buf, Duration::ZERO)? > 0 {}
        Ok(())
    }
}

/// Something that opens a [`ByteLink`] again and again (after unplug, the device comes back).
pub trait Connect: Send + 'static {
    /// The link type it opens.
    type Link: ByteLink + 'static;
    /// Opens the link.
    fn connect(&mut self) -> io::Result<Self::Link>;
    /// The device's name for status events and errors (port path or URI).
    fn describe(&self) -> String;
}

fn disconnected(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, format!("{what} closed"))
}

/// A serial port, a USB-serial bridge or a pseudo-terminal slave.
pub struct SerialLink {
    port: Box<dyn serialport::SerialPort>,
}

impl SerialLink {
    /// Opens `path` at `baud`, 8N1, no flow control.
    pub fn open(path: &str, baud: u32) -> io::Result<Self> {
        let port = serialport::new(path, baud)
            .data_bits(serialport::DataBits::Eight)
            .parity(serialport::Parity::None)
            .stop_bits(serialport::StopBits::One)
            .flow_control(serialport::FlowControl::None)
            .timeout(Duration::from_millis(100))
            .open()
            .map_err(io::Error::from)?;
        Ok(Self { port })
    }
}

impl ByteLink for SerialLink {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.port
            .set_timeout(Duration::from_secs(2))
            .map_err(io::Error::from)?;
        self.port.write_all(bytes)?;
        self.port.flush()
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        // serialport treats a zero timeout as "poll", which is what we want.
        self.port.set_timeout(timeout).map_err(io::Error::from)?;
        match self.port.read(buf) {
            Ok(0) => Err(disconnected("serial port")),
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => Ok(0),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
            Err(e) => Err(e),
        }
    }
}

/// Opens a serial port by path; the path may be a stable symlink (by-id name, emulator link).
#[derive(Debug, Clone)]
pub struct SerialConnector {
    /// Port path, e.g. `/dev/ttyUSB0`.
    pub path: PathBuf,
    /// Baud rate (115200 for SAM readers).
    pub baud: u32,
}

impl SerialConnector {
    /// A connector for `path` at `baud`.
    pub fn new(path: impl Into<PathBuf>, baud: u32) -> Self {
        Self {
            path: path.into(),
            baud,
        }
    }
}

impl Connect for SerialConnector {
    type Link = SerialLink;
    fn connect(&mut self) -> io::Result<SerialLink> {
        // Resolve symlinks ourselves so an emulator's link that moved to a new pty is followed.
        let real = std::fs::canonicalize(&self.path)?;
        SerialLink::open(&real.to_string_lossy(), self.baud)
    }
    fn describe(&self) -> String {
        self.path.display().to_string()
    }
}

/// A TCP connection (raw port 9100 printers).
pub struct TcpLink {
    stream: TcpStream,
}

impl TcpLink {
    /// Connects to `addr` within `timeout`.
    pub fn connect(addr: &str, timeout: Duration) -> io::Result<Self> {
        let mut last = io::Error::new(io::ErrorKind::NotFound, format!("no address for {addr}"));
        for a in addr.to_socket_addrs()? {
            match TcpStream::connect_timeout(&a, timeout) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
                    return Ok(Self { stream });
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

impl ByteLink for TcpLink {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        if timeout.is_zero() {
            self.stream.set_nonblocking(true)?;
            let r = self.stream.read(buf);
            self.stream.set_nonblocking(false)?;
            return match r {
                Ok(0) => Err(disconnected("TCP connection")),
                Ok(n) => Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
                Err(e) => Err(e),
            };
        }
        self.stream.set_read_timeout(Some(timeout))?;
        match self.stream.read(buf) {
            Ok(0) => Err(disconnected("TCP connection")),
            Ok(n) => Ok(n),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(0)
            }
            Err(e) => Err(e),
        }
    }
}

/// A write-only device file such as `/dev/usb/lp0`: the printer cannot answer.
pub struct FileLink {
    file: std::fs::File,
}

impl FileLink {
    /// Opens `path` for writing (appending, so a plain file collects jobs in tests).
    pub fn open(path: &str) -> io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .append(true)
            .create(false)
            .open(path)?;
        Ok(Self { file })
    }
}

impl ByteLink for FileLink {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)?;
        self.file.flush()
    }
    fn recv(&mut self, _buf: &mut [u8], _timeout: Duration) -> io::Result<usize> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "a device file is a one-way link",
        ))
    }
    fn is_two_way(&self) -> bool {
        false
    }
    fn discard_input(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A serial port found on this machine (for `ykb-terminal devices list`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SerialPortInfo {
    /// `/dev/ttyUSB0` etc.
    pub path: String,
    /// Stable names in `/dev/serial/by-id` pointing at it.
    pub by_id: Vec<String>,
    /// Kernel driver (e.g. `ch341-uart`, `pl2303`, `cp210x`, `serial8250`).
    pub driver: Option<String>,
    /// USB vendor id (hex, as in `lsusb`).
    pub usb_vid: Option<String>,
    /// USB product id (hex).
    pub usb_pid: Option<String>,
    /// USB manufacturer and product strings.
    pub usb_product: Option<String>,
}

fn read_trim(p: &std::path::Path) -> Option<String> {
    std::fs::read_to_string(p)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Lists serial ports from sysfs (no libudev needed): USB-serial bridges with vendor/product
/// ids, and on-board UARTs that have a device behind them.
pub fn list_serial_ports() -> Vec<SerialPortInfo> {
    let mut by_id: Vec<(PathBuf, String)> = Vec::new();
    for e in std::fs::read_dir("/dev/serial/by-id")
        .into_iter()
        .flatten()
        .flatten()
    {
        if let Ok(target) = std::fs::canonicalize(e.path()) {
            by_id.push((target, e.path().display().to_string()));
        }
    }
    let mut out = Vec::new();
    for e in std::fs::read_dir("/sys/class/tty")
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = e.file_name().to_string_lossy().to_string();
        let Ok(device) = std::fs::canonicalize(e.path().join("device")) else {
            continue;
        };
        let driver = std::fs::read_link(device.join("driver"))
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().to_string()));
        // Legacy 8250 ports without hardware have no IRQ/port; keep only ttyS with a real type.
        if driver.as_deref() == Some("serial8250") {
            let ty = read_trim(&e.path().join("type")).unwrap_or_default();
            if ty == "0" {
                continue;
            }
        }
        let mut usb = None;
        let mut dir = device.as_path();
        while let Some(parent) = dir.parent() {
            if dir.join("idVendor").exists() {
                usb = Some(dir.to_path_buf());
                break;
            }
            dir = parent;
        }
        let path = format!("/dev/{name}");
        let product = usb.as_ref().and_then(|u| {
            let parts: Vec<String> = [
                read_trim(&u.join("manufacturer")),
                read_trim(&u.join("product")),
            ]
            .into_iter()
            .flatten()
            .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        });
        out.push(SerialPortInfo {
            by_id: by_id
                .iter()
                .filter(|(t, _)| t.as_path() == std::path::Path::new(&path))
                .map(|(_, l)| l.clone())
                .collect(),
            driver,
            usb_vid: usb.as_ref().and_then(|u| read_trim(&u.join("idVendor"))),
            usb_pid: usb.as_ref().and_then(|u| read_trim(&u.join("idProduct"))),
            usb_product: product,
            path,
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}
