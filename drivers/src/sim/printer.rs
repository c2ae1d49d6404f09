//! Receipt printer emulator: parses ESC/POS, answers `DLE EOT` with configurable paper and
//! cover states, and renders every job (up to each cut) to a PNG in a folder — text drawn with
//! the font, raster images decoded, QR codes drawn as modules.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ab_glyph::FontArc;

use super::pty::{PtyDevice, WireDevice};
use crate::escpos::canvas::{to_png, Canvas, LINE_DOTS};
use crate::escpos::encode::{Align, QrEcLevel};
use crate::escpos::gb::from_gb18030;
use crate::escpos::parse::{EscPosEvent, EscPosParser};
use crate::escpos::raster::TextPainter;
use crate::escpos::status::encode_status;

/// Paper and cover as the emulated sensors report them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrinterMedia {
    /// Paper roll near its end.
    pub near_end: bool,
    /// No paper: jobs are discarded.
    pub paper_out: bool,
    /// Cover open: jobs are discarded.
    pub cover_open: bool,
}

/// Emulator settings.
#[derive(Clone)]
pub struct PrinterSimConfig {
    /// Folder receiving `job-NNNN.png` (and the raw `job-NNNN.bin`).
    pub out_dir: PathBuf,
    /// Font for drawing text; without one, text lines are left blank in the PNG.
    pub font: Option<FontArc>,
    /// Printable width in dots.
    pub paper_dots: u32,
}

impl PrinterSimConfig {
    /// Jobs into `out_dir`, 80 mm paper.
    pub fn new(out_dir: impl Into<PathBuf>, font: Option<FontArc>) -> Self {
        Self {
            out_dir: out_dir.into(),
            font,
            paper_dots: 576,
        }
    }
}

/// State shared by every connection of one emulated printer.
#[derive(Clone, Default)]
pub struct PrinterShared {
    media: Arc<Mutex<PrinterMedia>>,
    jobs: Arc<Mutex<Vec<PathBuf>>>,
}

impl PrinterShared {
    /// Sets the sensors.
    pub fn set_media(&self, m: PrinterMedia) {
        *self.media.lock().unwrap_or_else(|e| e.into_inner()) = m;
    }
    /// The sensors.
    pub fn media(&self) -> PrinterMedia {
        *self.media.lock().unwrap_or_else(|e| e.into_inner())
    }
    /// PNG files of the jobs rendered so far.
    pub fn jobs(&self) -> Vec<PathBuf> {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
    /// Waits until at least `n` jobs were rendered (or `timeout` passes), returns them.
    pub fn wait_for_jobs(&self, n: usize, timeout: Duration) -> Vec<PathBuf> {
        let end = Instant::now() + timeout;
        loop {
            let j = self.jobs();
            if j.len() >= n || Instant::now() >= end {
                return j;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    /// Runs a control line: `near-end on|off`, `paper-out on|off`, `cover-open on|off`,
    /// `status`, `jobs`.
    pub fn control(&self, line: &str) -> Result<String, String> {
        let mut m = self.media();
        let words: Vec<&str> = line.split_whitespace().collect();
        let flag = |w: &str| match w {
            "on" | "1" | "true" => Ok(true),
            "off" | "0" | "false" => Ok(false),
            other => Err(format!("say on or off, not {other}")),
        };
        match words.as_slice() {
            ["near-end", v] => m.near_end = flag(v)?,
            ["paper-out", v] => m.paper_out = flag(v)?,
            ["cover-open", v] => m.cover_open = flag(v)?,
            ["status"] => {}
            ["jobs"] => {
                return Ok(self
                    .jobs()
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join("\n"))
            }
            _ => return Err(format!("unknown command {line:?}")),
        }
        self.set_media(m);
        Ok(format!("{m:?}"))
    }
}

/// One connection's printer: parser, page and print settings (sans-IO apart from saving PNGs).
pub struct PrinterCore {
    config: PrinterSimConfig,
    shared: PrinterShared,
    parser: EscPosParser,
    painter: Option<TextPainter>,
    canvas: Canvas,
    raw: Vec<u8>,
    line: Vec<u8>,
    align: Align,
    bold: bool,
    size: (u8, u8),
    qr_module: u8,
    qr_ec: QrEcLevel,
    qr_data: Vec<u8>,
}

/// Most raw bytes kept per job for the `.bin` file.
const MAX_RAW: usize = 4 << 20;

impl PrinterCore {
    /// A printer writing jobs per `config`, sharing sensors and job list through `shared`.
    pub fn new(config: PrinterSimConfig, shared: PrinterShared) -> Self {
        Self {
            painter: config.font.clone().map(TextPainter::new),
            canvas: Canvas::new(config.paper_dots),
            config,
            shared,
            parser: EscPosParser::new(),
            raw: Vec::new(),
            line: Vec::new(),
            align: Align::Left,
            bold: false,
            size: (1, 1),
            qr_module: 3,
            qr_ec: QrEcLevel::L,
            qr_data: Vec::new(),
        }
    }

    fn flush_line(&mut self, force: bool) {
        if self.line.is_empty() && !force {
            return;
        }
        let text = from_gb18030(&std::mem::take(&mut self.line));
        match &self.painter {
            Some(p) => self
                .canvas
                .text_line(p, &text, self.align, self.bold, self.size),
            None => self.canvas.feed(LINE_DOTS * u32::from(self.size.1)),
        }
    }

    fn apply(&mut self, ev: EscPosEvent, out: &mut Vec<u8>) {
        match ev {
            EscPosEvent::StatusRequest(n) => {
                let m = self.shared.media();
                let [a, b, c] = encode_status(m.near_end, m.paper_out, m.cover_open);
                out.push(match n {
                    1 => a,
                    2 => b,
                    4 => c,
                    _ => 0x12,
                });
            }
            EscPosEvent::Init => {
                self.align = Align::Left;
                self.bold = false;
                self.size = (1, 1);
            }
            EscPosEvent::Text(t) => {
                if self.line.len() < 4096 {
                    self.line.extend_from_slice(&t);
                }
            }
            EscPosEvent::LineFeed => self.flush_line(true),
            EscPosEvent::Feed(n) => {
                self.flush_line(false);
                self.canvas.feed(LINE_DOTS * u32::from(n));
            }
            EscPosEvent::Align(a) => self.align = a,
            EscPosEvent::Bold(b) => self.bold = b,
            EscPosEvent::Size(w, h) => self.size = (w, h),
            EscPosEvent::QrModuleSize(m) => self.qr_module = m,
            EscPosEvent::QrEcLevel(l) => self.qr_ec = l,
            EscPosEvent::QrStore(d) => self.qr_data = d,
            EscPosEvent::QrPrint => {
                self.flush_line(false);
                let data = self.qr_data.clone();
                self.canvas
                    .qr(&data, self.qr_module, self.qr_ec, self.align);
            }
            EscPosEvent::Raster(bmp) => {
                self.flush_line(false);
                self.canvas.bitmap(&bmp, self.align);
            }
            EscPosEvent::Cut => {
                self.flush_line(false);
                self.save_job();
            }
            EscPosEvent::ChineseMode(_) | EscPosEvent::Ignored(_) | EscPosEvent::Invalid(_) => {}
        }
    }

    fn save_job(&mut self) {
        if self.canvas.is_empty() {
            self.raw.clear();
            return;
        }
        let img = self.canvas.finish();
        self.canvas = Canvas::new(self.config.paper_dots);
        let raw = std::mem::take(&mut self.raw);
        let mut jobs = self.shared.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let path = self
            .config
            .out_dir
            .join(format!("job-{:04}.png", jobs.len() + 1));
        let _ = std::fs::create_dir_all(&self.config.out_dir);
        if std::fs::write(&path, to_png(&img)).is_ok() {
            let _ = std::fs::write(path.with_extension("bin"), raw);
            jobs.push(path);
        }
    }

    /// The connection closed: a job without a cut is still saved.
    pub fn finish(&mut self) {
        self.flush_line(false);
        self.save_job();
    }
}

impl WireDevice for PrinterCore {
    fn on_input(&mut self, bytes: &[u8]) -> Vec<u8> {
        let m = self.shared.media();
        let printing = !m.paper_out && !m.cover_open;
        if printing && self.raw.len() < MAX_RAW {
            self.raw.extend_from_slice(bytes);
        }
        let mut out = Vec::new();
        for ev in self.parser.push(bytes) {
            match ev {
                EscPosEvent::StatusRequest(_) => self.apply(ev, &mut out),
                // A printer without paper or with its cover open prints nothing.
                _ if !printing => {}
                _ => self.apply(ev, &mut out),
            }
        }
        out
    }
}

/// The printer emulator on TCP (`ykb-terminal devsim printer --tcp ADDR`).
pub struct PrinterSim {
    addr: SocketAddr,
    shared: PrinterShared,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl PrinterSim {
    /// Listens on `addr` (e.g. `127.0.0.1:0` for any free port, `0.0.0.0:9100`).
    pub fn start_tcp(addr: &str, config: PrinterSimConfig) -> io::Result<Self> {
        std::fs::create_dir_all(&config.out_dir)?;
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = PrinterShared::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (s2, stop2) = (shared.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("printer-sim".into())
            .spawn(move || accept_loop(listener, config, s2, stop2))?;
        Ok(Self {
            addr,
            shared,
            stop,
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sensors, jobs and control.
    pub fn shared(&self) -> &PrinterShared {
        &self.shared
    }
}

impl Drop for PrinterSim {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(
    listener: TcpListener,
    config: PrinterSimConfig,
    shared: PrinterShared,
    stop: Arc<AtomicBool>,
) {
    let mut conns = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let core = PrinterCore::new(config.clone(), shared.clone());
                let stop = stop.clone();
                conns.push(std::thread::spawn(move || serve(stream, core, stop)));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    for c in conns {
        let _ = c.join();
    }
}

fn serve(mut stream: TcpStream, mut core: PrinterCore, stop: Arc<AtomicBool>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
    let mut buf = [0u8; 8192];
    while !stop.load(Ordering::SeqCst) {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let reply = core.on_input(&buf[..n]);
                if !reply.is_empty() && stream.write_all(&reply).is_err() {
                    break;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    core.finish();
}

/// The printer emulator on a pseudo-terminal (a serial printer); returns the pty device and the
/// shared sensors/jobs handle.
pub fn start_pty(
    link: Option<PathBuf>,
    config: PrinterSimConfig,
) -> io::Result<(PtyDevice<PrinterCore>, PrinterShared)> {
    std::fs::create_dir_all(&config.out_dir)?;
    let shared = PrinterShared::default();
    let dev = PtyDevice::start(PrinterCore::new(config, shared.clone()), link)?;
    Ok((dev, shared))
}

/// Loads the first font file found among `candidates` (files or folders of .ttf/.otf/.ttc).
pub fn find_font(candidates: &[&Path]) -> Option<FontArc> {
    for c in candidates {
        let files: Vec<PathBuf> = if c.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(c)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    matches!(
                        p.extension()
                            .and_then(|e| e.to_str())
                            .map(str::to_ascii_lowercase)
                            .as_deref(),
                        Some("ttf" | "otf" | "ttc")
                    )
                })
                .collect();
            v.sort();
            v
        } else {
            vec![c.to_path_buf()]
        };
        for f in files {
            if let Ok(bytes) = std::fs::read(&f) {
                if let Ok(font) = crate::escpos::raster::load_font(bytes) {
                    return Some(font);
                }
            }
        }
    }
    None
}
