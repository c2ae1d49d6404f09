//! Device subcommands for technicians: the wire-level emulators (`devsim …`) and diagnostics
//! for each device class (`devices list`, `idcard read`, `print test`, `printer status`,
//! `scan`, `qr decode`, `camera snap`). Everything here is wiring: the drivers live in
//! `ykb-drivers`. Messages are zh-CN; every failure is one line and exit code 1.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use serde::Serialize;
use ykb_drivers::camera::{self, CaptureConfig};
use ykb_drivers::escpos::{
    load_font_static, test_receipt, PaperState, Printer, PrinterStatus, PrinterUri,
    ReceiptRenderer, ReceiptStyle,
};
use ykb_drivers::idcard::poller::CardPoller;
use ykb_drivers::idcard::{CancelToken, IdCardError, ReaderConfig, SamReader};
use ykb_drivers::link::{list_serial_ports, SerialConnector, SerialLink};
use ykb_drivers::scanner::{decode_qr_rgb, sanitize, ScanEvent, SerialScanner, SplitterConfig};
use ykb_drivers::sim::printer::{start_pty, PrinterSimConfig};
use ykb_drivers::sim::{IdCardSim, PrinterSim, ScannerSim, Xfs4IotSim};
use ykb_drivers::ErrorKind;

use super::common::fail;
use super::EXIT_FAILURE;
use crate::fonts::UI_FONT;

/// `devsim …`: emulators that speak the devices' wire protocols.
#[derive(Debug, Subcommand)]
pub enum DevsimCommand {
    /// ID-card reader (GA/T 467 SAM) on a pseudo-terminal. Prints the port path on the first
    /// line, then reads control lines on stdin: place [N] | lift | next | timing on|off|BAUD |
    /// fault bad-checksum|short-frame|garbage|no-reply|sw XX [COUNT] [read|find|select|…] |
    /// clear | status | unplug | replug | quit.
    Idcard(DevsimIdcardArgs),
    /// ESC/POS receipt printer on TCP (--tcp) or a pseudo-terminal (--pty). Prints the printer
    /// URI on the first line; every job is rendered to OUT/job-NNNN.png (raw bytes in .bin).
    /// Control lines: near-end on|off | paper-out on|off | cover-open on|off | jobs | quit.
    Printer(DevsimPrinterArgs),
    /// Serial QR scanner on a pseudo-terminal. Prints the port path on the first line.
    /// Control lines: scan TEXT | term cr|lf|crlf|none | encoding utf8|gb18030 |
    /// timing on|off|BAUD | garbage N | unplug | replug | quit.
    Scanner(DevsimScannerArgs),
    /// XFS4IoT device services (a bank terminal's peripherals) on one WebSocket port: the
    /// publisher at ws://ADDR/xfs4iot/v1.0, services Printer, BarcodeReader, Camera, Lights,
    /// VendorMode. Prints the publisher URI on the first line. Control lines: fault NAME
    /// no-ack|error CODE [ERRORCODE]|disconnect|slow MS|garbage|stray|flood N|oversize BYTES |
    /// clear | status SERVICE DEVICE | paper out|low|full | scan TEXT | vendor enter|exit |
    /// jobs | lights | quit.
    Xfs4iot(DevsimXfs4iotArgs),
}

/// `devsim xfs4iot [--listen ADDR]`
#[derive(Debug, Args)]
pub struct DevsimXfs4iotArgs {
    /// Listen on this address (5846 is the first XFS4IoT publisher port; port 0 picks a free one).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:5846")]
    pub listen: String,
}

/// `devsim idcard --card FILE… [--link PATH]`
#[derive(Debug, Args)]
pub struct DevsimIdcardArgs {
    /// Card files (TOML, see drivers/tests/data/); several cards are placed in turn.
    #[arg(long = "card", required = true, num_args = 1.., value_name = "FILE")]
    pub cards: Vec<PathBuf>,
    /// A stable symlink to the pty (survives unplug/replug), e.g. /tmp/idcard.
    #[arg(long, value_name = "PATH")]
    pub link: Option<PathBuf>,
    /// Place the first card at once.
    #[arg(long)]
    pub place: bool,
    /// Answer at real 115200-baud timing from the start.
    #[arg(long)]
    pub timing: bool,
}

/// `devsim printer --tcp ADDR | --pty [--out DIR]`
#[derive(Debug, Args)]
pub struct DevsimPrinterArgs {
    /// Listen on this address (127.0.0.1:9100; port 0 picks a free one).
    #[arg(
        long,
        value_name = "ADDR",
        required_unless_present = "pty",
        conflicts_with = "pty"
    )]
    pub tcp: Option<String>,
    /// Be a serial printer on a pseudo-terminal instead.
    #[arg(long)]
    pub pty: bool,
    /// With --pty: a stable symlink to the pty.
    #[arg(long, value_name = "PATH", requires = "pty")]
    pub link: Option<PathBuf>,
    /// Folder receiving job-NNNN.png and job-NNNN.bin.
    #[arg(long, value_name = "DIR", default_value = "printer-jobs")]
    pub out: PathBuf,
}

/// `devsim scanner [--link PATH]`
#[derive(Debug, Args)]
pub struct DevsimScannerArgs {
    /// A stable symlink to the pty (survives unplug/replug).
    #[arg(long, value_name = "PATH")]
    pub link: Option<PathBuf>,
}

/// `devices …`
#[derive(Debug, Subcommand)]
pub enum DevicesCommand {
    /// Serial ports (USB vendor/product ids, driver, /dev/serial/by-id names), cameras
    /// (/dev/video*) and USB printers (/dev/usb/lp*).
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `idcard …`
#[derive(Debug, Subcommand)]
pub enum IdcardCommand {
    /// Wait for a card on the reader and print it (ID number masked unless --reveal).
    Read(IdcardReadArgs),
}

/// `idcard read --port PATH`
#[derive(Debug, Args)]
pub struct IdcardReadArgs {
    /// Serial port of the reader (/dev/ttyUSB0, a /dev/serial/by-id name, an emulator's pty).
    #[arg(long, value_name = "PATH")]
    pub port: PathBuf,
    /// Baud rate.
    #[arg(long, value_name = "N", default_value_t = 115_200)]
    pub baud: u32,
    /// Seconds to wait for a card.
    #[arg(long, value_name = "S", default_value_t = 30.0)]
    pub timeout: f64,
    /// Print JSON (kind, name, sex, nation, birth_date, address, id_number, …).
    #[arg(long)]
    pub json: bool,
    /// Show the full identity number (only with the citizen's consent).
    #[arg(long)]
    pub reveal: bool,
}

/// `print …`
#[derive(Debug, Subcommand)]
pub enum PrintCommand {
    /// Print a test receipt (Chinese text, rare name characters as raster, a QR code, cut),
    /// or with --document-printer an A4 test page through CUPS (exit 0 only once CUPS reports
    /// the job completed).
    Test(PrintTestArgs),
}

/// `print test --printer URI` | `print test --document-printer [--queue NAME[@SERVER]]`
#[derive(Debug, Args)]
pub struct PrintTestArgs {
    /// serial:///dev/ttyUSB0?baud=115200, tcp://host:9100 or file:///dev/usb/lp0.
    #[arg(
        long,
        value_name = "URI",
        required_unless_present = "document_printer",
        conflicts_with = "document_printer"
    )]
    pub printer: Option<String>,
    /// The profile's A4 document printer (devices.document_printer, a CUPS queue).
    #[arg(long)]
    pub document_printer: bool,
    /// With --document-printer: this CUPS queue instead of the profile's (NAME, or
    /// NAME@SOCKET-OR-HOST:PORT).
    #[arg(long, value_name = "QUEUE", requires = "document_printer")]
    pub queue: Option<String>,
    /// Also write what the receipt should look like to this PNG.
    #[arg(long, value_name = "FILE")]
    pub preview: Option<PathBuf>,
}

/// `printer …`
#[derive(Debug, Subcommand)]
pub enum PrinterCommand {
    /// Ask the printer for its state, paper and cover (DLE EOT); "unknown" on one-way links.
    /// With --document-printer: CUPS's view of the A4 printer's queue.
    Status(PrinterStatusArgs),
}

/// `printer status --printer URI` | `printer status --document-printer [--queue Q]`
#[derive(Debug, Args)]
pub struct PrinterStatusArgs {
    /// serial:///dev/ttyUSB0?baud=115200, tcp://host:9100 or file:///dev/usb/lp0.
    #[arg(
        long,
        value_name = "URI",
        required_unless_present = "document_printer",
        conflicts_with = "document_printer"
    )]
    pub printer: Option<String>,
    /// The profile's A4 document printer (devices.document_printer, a CUPS queue).
    #[arg(long)]
    pub document_printer: bool,
    /// With --document-printer: this CUPS queue instead of the profile's.
    #[arg(long, value_name = "QUEUE", requires = "document_printer")]
    pub queue: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `scan --port PATH`
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Serial port of the scanner, or with --evdev its event device
    /// (/dev/input/by-id/…-event-kbd), which is then grabbed exclusively.
    #[arg(long, value_name = "PATH")]
    pub port: PathBuf,
    /// The scanner is a keyboard-wedge (USB HID) scanner read through evdev.
    #[arg(long)]
    pub evdev: bool,
    /// Baud rate.
    #[arg(long, value_name = "N", default_value_t = 9600)]
    pub baud: u32,
    /// Stop after this many codes (default: run until Ctrl-C).
    #[arg(long, value_name = "N")]
    pub count: Option<usize>,
    /// Stop after this many seconds (exit 1 if --count codes did not all arrive).
    #[arg(long, value_name = "S")]
    pub timeout: Option<f64>,
}

/// `qr …`
#[derive(Debug, Subcommand)]
pub enum QrCommand {
    /// Decode the QR codes in image files (PNG, JPEG); per file: the text (or none) and the
    /// decode time.
    Decode {
        /// Image files.
        #[arg(required = true, value_name = "IMAGE")]
        images: Vec<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `camera …`
#[derive(Debug, Subcommand)]
pub enum CameraCommand {
    /// Take one still as a material photo: JPEG under the size cap, text kept legible.
    Snap(CameraSnapArgs),
}

/// `camera snap --device D --out FILE`
#[derive(Debug, Args)]
pub struct CameraSnapArgs {
    /// /dev/videoN (needs a build with --features ykb-drivers/v4l2), an image file, a folder
    /// of images, or pattern[:WxH] (test pattern).
    #[arg(long, value_name = "D")]
    pub device: String,
    /// Where to write the JPEG.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Size cap in kB (1000 bytes).
    #[arg(long, value_name = "KB", default_value_t = 1000)]
    pub max_kb: usize,
}

/// Writes `text` to stdout; a closed pipe (`| head`) is not an error worth a panic.
fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

fn kind_name(k: ErrorKind) -> &'static str {
    match k {
        ErrorKind::User => "user",
        ErrorKind::Device => "device",
        ErrorKind::Timeout => "timeout",
        ErrorKind::Cancelled => "cancelled",
    }
}

fn seconds(s: f64) -> Duration {
    Duration::from_secs_f64(if s.is_finite() {
        s.clamp(0.0, 86_400.0)
    } else {
        0.0
    })
}

/// Prints the line a script reads (the port path or printer URI) and flushes it at once.
fn announce(first_line: &str, hint: &str) {
    println!("{first_line}");
    let _ = std::io::stdout().flush();
    eprintln!("{hint}");
}

/// The emulators' console: control lines on stdin until `quit`. When stdin closes (run in the
/// background with `</dev/null`), the emulator keeps serving until it is stopped.
fn console(mut control: impl FnMut(&str) -> Result<String, String>) -> ExitCode {
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line == "quit" || line == "exit" {
            return ExitCode::SUCCESS;
        }
        match control(line) {
            Ok(m) => println!("{m}"),
            Err(e) => println!("错误：{e}"),
        }
        let _ = std::io::stdout().flush();
    }
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// `devsim idcard|printer|scanner|xfs4iot`
pub fn run_devsim(cmd: &DevsimCommand) -> ExitCode {
    match cmd {
        DevsimCommand::Idcard(a) => devsim_idcard(a),
        DevsimCommand::Printer(a) => devsim_printer(a),
        DevsimCommand::Scanner(a) => devsim_scanner(a),
        DevsimCommand::Xfs4iot(a) => devsim_xfs4iot(a),
    }
}

fn devsim_xfs4iot(a: &DevsimXfs4iotArgs) -> ExitCode {
    let sim = match Xfs4IotSim::start(&a.listen) {
        Ok(s) => s,
        Err(e) => return fail(format!("XFS4IoT 外设服务模拟器无法监听 {}：{e}", a.listen)),
    };
    announce(
        &sim.publisher_uri(),
        "XFS4IoT 外设服务模拟器已就绪（Printer、BarcodeReader、Camera、Lights、VendorMode）。控制命令：fault 命令名 no-ack|error 代码|disconnect|slow 毫秒|garbage|stray|flood N|oversize 字节、clear、status 服务 状态、paper out|low|full、scan 文本、vendor enter|exit、jobs、lights、quit",
    );
    console(|l| sim.control(l))
}

fn devsim_idcard(a: &DevsimIdcardArgs) -> ExitCode {
    let sim = match IdCardSim::start(&a.cards, a.link.clone()) {
        Ok(s) => s,
        Err(e) => return fail(format!("身份证阅读器模拟器无法启动：{e}")),
    };
    if a.timing {
        let _ = sim.control("timing on");
    }
    if a.place {
        if let Err(e) = sim.control("place") {
            return fail(format!("身份证阅读器模拟器：{e}"));
        }
    }
    announce(
        &sim.path().display().to_string(),
        &format!(
            "身份证阅读器模拟器已就绪（{} 张卡）。控制命令：place [N]、lift、next、timing on|off、fault …、unplug、replug、quit",
            a.cards.len()
        ),
    );
    console(|l| sim.control(l))
}

fn devsim_printer(a: &DevsimPrinterArgs) -> ExitCode {
    let font = load_font_static(UI_FONT).ok();
    let config = PrinterSimConfig::new(&a.out, font);
    let hint = format!(
        "打印机模拟器已就绪，回执图片保存在 {}。控制命令：near-end on|off、paper-out on|off、cover-open on|off、jobs、quit",
        a.out.display()
    );
    if let Some(addr) = &a.tcp {
        let sim = match PrinterSim::start_tcp(addr, config) {
            Ok(s) => s,
            Err(e) => return fail(format!("打印机模拟器无法监听 {addr}：{e}")),
        };
        announce(&format!("tcp://{}", sim.local_addr()), &hint);
        let shared = sim.shared().clone();
        return console(|l| shared.control(l));
    }
    let (dev, shared) = match start_pty(a.link.clone(), config) {
        Ok(d) => d,
        Err(e) => return fail(format!("打印机模拟器无法打开伪终端：{e}")),
    };
    announce(&format!("serial://{}", dev.path().display()), &hint);
    console(|l| match l {
        "unplug" => {
            dev.unplug();
            Ok("unplugged".into())
        }
        "replug" => {
            dev.replug();
            Ok(format!("plugged in at {}", dev.path().display()))
        }
        other => shared.control(other),
    })
}

fn devsim_scanner(a: &DevsimScannerArgs) -> ExitCode {
    let sim = match ScannerSim::start(a.link.clone()) {
        Ok(s) => s,
        Err(e) => return fail(format!("扫码枪模拟器无法打开伪终端：{e}")),
    };
    announce(
        &sim.path().display().to_string(),
        "扫码枪模拟器已就绪。控制命令：scan 文本、term cr|lf|crlf|none、encoding utf8|gb18030、garbage N、unplug、replug、quit",
    );
    console(|l| sim.control(l))
}

#[derive(Serialize)]
struct Camera {
    path: String,
    name: Option<String>,
}

fn list_cameras() -> Vec<Camera> {
    let mut out: Vec<Camera> = std::fs::read_dir("/sys/class/video4linux")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| Camera {
            path: format!("/dev/{}", e.file_name().to_string_lossy()),
            name: std::fs::read_to_string(e.path().join("name"))
                .ok()
                .map(|s| s.trim().to_string()),
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn list_usb_printers() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir("/dev/usb")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().display().to_string())
        .filter(|p| p.starts_with("/dev/usb/lp"))
        .collect();
    out.sort();
    out
}

/// `devices list [--json]`
pub fn devices_list(cmd: &DevicesCommand) -> ExitCode {
    let DevicesCommand::List { json } = cmd;
    let (serial, cameras, printers) = (list_serial_ports(), list_cameras(), list_usb_printers());
    if *json {
        let v = serde_json::json!({ "serial": serial, "cameras": cameras, "printers": printers });
        emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&v).unwrap_or_default()
        ));
        return ExitCode::SUCCESS;
    }
    use std::fmt::Write as _;
    let mut t = String::new();
    let _ = writeln!(t, "串口（{} 个）：", serial.len());
    for p in &serial {
        let usb = match (&p.usb_vid, &p.usb_pid) {
            (Some(v), Some(d)) => format!("USB {v}:{d}"),
            _ => "板载".into(),
        };
        let _ = writeln!(
            t,
            "  {:<14} {:<10} {:<14} {}",
            p.path,
            usb,
            p.driver.as_deref().unwrap_or("-"),
            p.usb_product.as_deref().unwrap_or("")
        );
        for l in &p.by_id {
            let _ = writeln!(t, "      {l}");
        }
    }
    let _ = writeln!(t, "摄像头（{} 个）：", cameras.len());
    for c in &cameras {
        let _ = writeln!(t, "  {:<14} {}", c.path, c.name.as_deref().unwrap_or(""));
    }
    let _ = writeln!(t, "USB 打印机（{} 个）：", printers.len());
    for p in &printers {
        let _ = writeln!(t, "  {p}");
    }
    if serial.is_empty() && cameras.is_empty() && printers.is_empty() {
        t.push_str("未发现设备：请检查 USB 连接（lsusb）和驱动（dmesg）。\n");
    }
    emit(&t);
    ExitCode::SUCCESS
}

fn read_card(a: &IdcardReadArgs) -> Result<ykb_drivers::idcard::IdCard, IdCardError> {
    let device = a.port.display().to_string();
    let offline = |e: std::io::Error| IdCardError::Offline {
        device: device.clone(),
        reason: e.to_string(),
    };
    // Resolve by-id names and emulator links to the real port.
    let real = std::fs::canonicalize(&a.port).map_err(offline)?;
    let link = SerialLink::open(&real.to_string_lossy(), a.baud).map_err(offline)?;
    let mut reader = SamReader::new(link, device.clone(), ReaderConfig::default());
    reader.status()?;
    eprintln!(
        "读卡器已连接（{}），请放置身份证（{} 秒内）…",
        device, a.timeout
    );
    reader.wait_for_card(
        &mut CardPoller::new(),
        seconds(a.timeout),
        &CancelToken::new(),
        &mut || {},
    )
}

/// `idcard read --port PATH [--baud N] [--timeout S] [--json] [--reveal]`
pub fn run_idcard(cmd: &IdcardCommand) -> ExitCode {
    let IdcardCommand::Read(a) = cmd;
    let card = match read_card(a) {
        Ok(c) => c,
        Err(e) => {
            return fail(format!(
                "读卡失败［{}］：{}（{e}）",
                kind_name(e.kind()),
                e.describe_zh()
            ))
        }
    };
    let s = card.summary(a.reveal);
    if a.json {
        emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&s).unwrap_or_default()
        ));
        return ExitCode::SUCCESS;
    }
    let row = |label: &str, v: Option<&String>| {
        if let Some(v) = v {
            println!("{label}：{v}");
        }
    };
    println!("证件类型：{}", s.kind.describe_zh());
    println!("姓名：{}", s.name);
    row("英文姓名", s.name_en.as_ref());
    row("性别", s.sex.as_ref());
    row("民族", s.nation.as_ref());
    row("国籍", s.nationality.as_ref());
    row("出生日期", s.birth_date.as_ref());
    row("住址", s.address.as_ref());
    println!("证件号码：{}", s.id_number);
    row("签发机关", s.authority.as_ref());
    if let (Some(f), Some(t)) = (&s.valid_from, &s.valid_to) {
        println!("有效期限：{f} 至 {t}");
    }
    row("通行证号码", s.pass_number.as_ref());
    row("签发次数", s.issue_count.as_ref());
    match s.id_checksum_ok {
        Some(true) => println!("校验位：正确"),
        Some(false) => println!("校验位：错误（证件号码校验位与 GB 11643 不符）"),
        None => {}
    }
    ExitCode::SUCCESS
}

fn open_printer(uri: &str) -> Result<(PrinterUri, Printer), ExitCode> {
    let parsed = PrinterUri::parse(uri).map_err(|e| {
        fail(format!(
            "打印机地址无效：{e}（例：serial:///dev/ttyUSB0?baud=115200、tcp://192.168.1.50:9100、file:///dev/usb/lp0）"
        ))
    })?;
    let printer = Printer::open(&parsed)
        .map_err(|e| fail(format!("打印机无法连接：{}（{e}）", e.describe_zh())))?;
    Ok((parsed, printer))
}

fn describe_status(s: &PrinterStatus) -> String {
    let cover = match s.cover_open {
        Some(true) => "机盖打开",
        Some(false) => "机盖关闭",
        None => "机盖状态未知",
    };
    let mut out = format!(
        "{}，{}，{}",
        s.state.describe_zh(),
        s.paper.describe_zh(),
        cover
    );
    if s.paper == PaperState::Unknown {
        out.push_str("（单向连接无法查询状态）");
    }
    out
}

/// `print test --printer URI [--preview FILE]`
pub fn run_print(cli: &super::Cli, cmd: &PrintCommand) -> ExitCode {
    let PrintCommand::Test(a) = cmd;
    let Some(printer_uri) = a.printer.as_deref() else {
        return print_test_a4(cli, a.queue.as_deref());
    };
    let renderer = ReceiptRenderer::new(load_font_static(UI_FONT).ok(), ReceiptStyle::default());
    let receipt = test_receipt();
    if let Some(p) = &a.preview {
        match renderer.to_png(&receipt) {
            Ok(png) => {
                if let Err(e) = std::fs::write(p, png) {
                    return fail(format!("无法写入预览 {}：{e}", p.display()));
                }
            }
            Err(e) => return fail(format!("回执生成失败：{e}")),
        }
    }
    let (bytes, stats) = match renderer.to_escpos(&receipt) {
        Ok(b) => b,
        Err(e) => return fail(format!("回执生成失败：{e}")),
    };
    let (uri, mut printer) = match open_printer(printer_uri) {
        Ok(p) => p,
        Err(c) => return c,
    };
    if let Err(e) = printer.print(&bytes) {
        return fail(format!("打印失败：{}（{e}）", e.describe_zh()));
    }
    // Asking the status again makes sure the printer has taken the whole job before the
    // link closes (a serial bridge may drop what is still in flight), and shows whether the
    // job used up the paper.
    let after = match printer.status() {
        Ok(s) => describe_status(&s),
        Err(e) => format!("无法查询（{e}）"),
    };
    println!(
        "测试页已发送到 {uri}：{} 字节，文本行 {}，图像行 {}；打印后状态：{after}",
        bytes.len(),
        stats.text_lines,
        stats.raster_lines
    );
    ExitCode::SUCCESS
}

/// `printer status --printer URI [--json]`
pub fn run_printer(cli: &super::Cli, cmd: &PrinterCommand) -> ExitCode {
    let PrinterCommand::Status(a) = cmd;
    let Some(printer_uri) = a.printer.as_deref() else {
        return document_printer_status(cli, a.queue.as_deref(), a.json);
    };
    let (uri, mut printer) = match open_printer(printer_uri) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let status = match printer.status() {
        Ok(s) => s,
        Err(e) => return fail(format!("打印机状态查询失败：{}（{e}）", e.describe_zh())),
    };
    if a.json {
        let v = serde_json::json!({
            "printer": uri.to_string(),
            "state": status.state,
            "paper": status.paper,
            "cover_open": status.cover_open,
            "can_print": status.can_print(),
        });
        emit(&format!("{v}\n"));
    } else {
        println!("打印机 {uri}：{}", describe_status(&status));
        if !status.can_print() {
            println!("无法打印：请检查纸卷和机盖。");
        }
    }
    ExitCode::SUCCESS
}

/// The A4 printer: `--queue` when given, else the profile's `devices.document_printer`.
fn document_printer(
    cli: &super::Cli,
    queue: Option<&str>,
) -> Result<crate::terminal::document_printer::DocumentPrinter, ExitCode> {
    use crate::terminal::document_printer::DocumentPrinter;
    if let Some(q) = queue {
        return ykb_drivers::cups::Queue::parse(q)
            .map(DocumentPrinter::with_queue)
            .map_err(fail);
    }
    let profile = super::load_profile(cli)?;
    match DocumentPrinter::start(&profile.devices.document_printer) {
        Ok(Some(p)) => Ok(p),
        Ok(None) => Err(fail(
            "本机配置没有 A4 文书打印机（devices.document_printer）；可用 --queue 指定 CUPS 打印队列",
        )),
        Err(e) => Err(fail(e)),
    }
}

/// `print test --document-printer`: the A4 test page, followed until CUPS reports it
/// completed.
fn print_test_a4(cli: &super::Cli, queue: Option<&str>) -> ExitCode {
    let printer = match document_printer(cli, queue) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let pdf = match ykb_drivers::cups::pdf::render(&ykb_drivers::cups::pdf::test_page(), UI_FONT) {
        Ok(p) => p,
        Err(e) => return fail(format!("测试页生成失败：{e}")),
    };
    let started = Instant::now();
    let result = printer.print_blocking("A4 打印测试", &pdf, |p| {
        if let crate::terminal::document_printer::DocumentProgress::Stalled(why) = p {
            eprintln!("打印机：{why}，等待中…");
        }
    });
    match result {
        Ok(done) => {
            println!(
                "A4 测试页已由 CUPS 打印完成：队列 {}，任务 {}，{} 字节，用时 {} ms",
                printer.queue().name,
                done.job,
                pdf.len(),
                started.elapsed().as_millis()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("A4 测试页未打印：{e}")),
    }
}

/// `printer status --document-printer [--json]`: CUPS's view of the queue.
fn document_printer_status(cli: &super::Cli, queue: Option<&str>, json: bool) -> ExitCode {
    let printer = match document_printer(cli, queue) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let status = match printer.status() {
        Ok(s) => s,
        Err(e) => return fail(format!("A4 打印机状态查询失败：{e}")),
    };
    let q = printer.queue();
    if json {
        let v = serde_json::json!({
            "queue": q.name,
            "server": q.server.to_string(),
            "printer_state": status.state,
            "reasons": status.reasons,
            "message": status.message,
            "accepting_jobs": status.accepting,
            "queued_jobs": status.queued,
            "condition": status.condition,
            "can_print": status.condition.can_print(),
        });
        emit(&format!("{v}\n"));
    } else {
        let state = match status.state {
            3 => "空闲",
            4 => "正在处理",
            5 => "已停止",
            _ => "未知",
        };
        println!(
            "A4 打印机 {}（{}）：{}；CUPS 队列状态 {state}，待打印任务 {}{}",
            q.name,
            q.server,
            status.condition.describe_zh(),
            status.queued,
            if status.reasons.is_empty() {
                String::new()
            } else {
                format!("，原因 {}", status.reasons.join(", "))
            }
        );
        if !status.condition.can_print() {
            println!("无法打印：{}。", status.condition.describe_zh());
        }
    }
    ExitCode::SUCCESS
}

/// `scan --port PATH [--baud N] [--count N] [--timeout S]`
pub fn run_scan(a: &ScanArgs) -> ExitCode {
    // Either device thread feeds the same event stream; keep its handle alive.
    let (_serial, _evdev, events) = if a.evdev {
        let (s, rx) =
            ykb_drivers::scanner::EvdevScanner::spawn(ykb_drivers::scanner::EvdevConfig {
                path: a.port.clone(),
                exclusive: true,
                max_len: SplitterConfig::default().max_len,
            });
        (None, Some(s), rx)
    } else {
        let (s, rx) = SerialScanner::spawn(
            SerialConnector::new(&a.port, a.baud),
            SplitterConfig::default(),
        );
        (Some(s), None, rx)
    };
    let deadline = a.timeout.map(|s| Instant::now() + seconds(s));
    let mut codes = 0usize;
    let mut stdout = std::io::stdout();
    loop {
        if a.count.is_some_and(|n| codes >= n) {
            return ExitCode::SUCCESS;
        }
        let wait = match deadline {
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(w) => w,
                None => break,
            },
            None => Duration::from_secs(3600),
        };
        match events.recv_timeout(wait) {
            Ok(ScanEvent::Code(p)) => {
                codes += 1;
                if writeln!(stdout, "{}", p.text)
                    .and_then(|_| stdout.flush())
                    .is_err()
                {
                    return ExitCode::SUCCESS;
                }
            }
            Ok(ScanEvent::Rejected(e)) => eprintln!("已丢弃无法识别的扫码内容：{e}"),
            Ok(ScanEvent::Oversize(n)) => eprintln!("已丢弃超长扫码内容（{n} 字节）"),
            Ok(ScanEvent::Status(s)) => {
                eprintln!(
                    "扫码枪 {}：{}（{}）",
                    s.device,
                    s.state.describe_zh(),
                    s.detail
                )
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return fail("扫码枪线程已退出");
            }
        }
    }
    match a.count {
        Some(n) if codes < n => fail(format!(
            "扫码超时：{} 秒内收到 {codes} 个码，应为 {n} 个",
            a.timeout.unwrap_or_default()
        )),
        _ => ExitCode::SUCCESS,
    }
}

#[derive(Serialize)]
struct QrResult {
    file: String,
    /// The first code's text, or null.
    text: Option<String>,
    codes: Vec<String>,
    decode_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

fn decode_file(path: &Path) -> QrResult {
    let file = path.display().to_string();
    match camera::load_image(path) {
        Ok(img) => {
            let t = Instant::now();
            let codes = decode_qr_rgb(&img);
            QrResult {
                file,
                text: codes.first().cloned(),
                decode_ms: t.elapsed().as_secs_f64() * 1e3,
                codes,
                error: None,
            }
        }
        Err(e) => QrResult {
            file,
            text: None,
            codes: Vec::new(),
            decode_ms: 0.0,
            error: Some(e.to_string()),
        },
    }
}

/// `qr decode IMAGE… [--json]`
pub fn run_qr(cmd: &QrCommand) -> ExitCode {
    let QrCommand::Decode { images, json } = cmd;
    let results: Vec<QrResult> = images.iter().map(|p| decode_file(p)).collect();
    let failed = results.iter().filter(|r| r.error.is_some()).count();
    if *json {
        emit(&format!(
            "{}\n",
            serde_json::to_string_pretty(&results).unwrap_or_default()
        ));
    } else {
        for r in &results {
            match &r.error {
                Some(e) => emit(&format!("{}\t无法读取图片：{e}\n", r.file)),
                None if r.codes.is_empty() => emit(&format!(
                    "{}\t{:.1} ms\t（未识别到二维码）\n",
                    r.file, r.decode_ms
                )),
                None => {
                    // Payloads are untrusted: control and bidi characters never reach the terminal.
                    let shown: Vec<String> = r
                        .codes
                        .iter()
                        .map(|c| {
                            sanitize(c.as_bytes()).map_or_else(|e| format!("（{e}）"), |p| p.text)
                        })
                        .collect();
                    emit(&format!(
                        "{}\t{:.1} ms\t{}\n",
                        r.file,
                        r.decode_ms,
                        shown.join("；")
                    ))
                }
            }
        }
    }
    if failed > 0 {
        eprintln!("{failed} 个文件无法读取");
        return ExitCode::from(EXIT_FAILURE);
    }
    ExitCode::SUCCESS
}

/// `camera snap --device D --out FILE [--max-kb KB]`
pub fn run_camera(cmd: &CameraCommand) -> ExitCode {
    let CameraCommand::Snap(a) = cmd;
    let mut source = match camera::open_source(&a.device) {
        Ok(s) => s,
        Err(e) => return fail(format!("摄像头无法打开：{}（{e}）", e.describe_zh())),
    };
    let config = CaptureConfig {
        max_bytes: a.max_kb.saturating_mul(1000),
        ..CaptureConfig::default()
    };
    let t = Instant::now();
    let shot = match camera::capture::capture(source.as_mut(), &config) {
        Ok(s) => s,
        Err(e) => return fail(format!("拍照失败：{}（{e}）", e.describe_zh())),
    };
    let took = t.elapsed();
    if let Err(e) = std::fs::write(&a.out, &shot.jpeg) {
        return fail(format!("无法写入 {}：{e}", a.out.display()));
    }
    println!(
        "已保存 {}：{}×{}，JPEG 质量 {}，{} 字节（上限 {} 字节；原始画面 {}×{}，来源 {}，用时 {} ms）",
        a.out.display(),
        shot.width,
        shot.height,
        shot.quality,
        shot.jpeg.len(),
        config.max_bytes,
        shot.source_size.0,
        shot.source_size.1,
        source.describe(),
        took.as_millis()
    );
    ExitCode::SUCCESS
}
