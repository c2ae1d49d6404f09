//! A profile's device slot becoming a running driver's target or its emulator: the **one**
//! place the `driver` of a `[devices.*]` slot is turned into "this port / this URI / this
//! emulator started here", for the apps (card service, receipt printer, scanner, cameras) and
//! the self-test alike. Emulators returned here live as long as the value that holds them.

use std::path::{Path, PathBuf};

use ykb_drivers::escpos::{LoadedFont, PrinterUri};
use ykb_drivers::link::SerialConnector;
use ykb_drivers::scanner::splitter::SplitterConfig;
use ykb_drivers::scanner::EvdevConfig;
use ykb_drivers::sim::idcard::{CardFile, IdCardSim};
use ykb_drivers::sim::{PrinterSim, PrinterSimConfig, ScannerSim, Xfs4IotSim};

use crate::core::config::{DeviceSection, DevicesSection, DriverKind, XFS4IOT_SIMULATED};

/// The ID-card reader a slot names: the serial port to open and, for `simulated`, the
/// emulator behind it (its card lifted until placed).
pub struct IdReaderSlot {
    /// The port (for `simulated`, the emulator's pseudo-terminal).
    pub path: PathBuf,
    /// Its speed.
    pub baud: u32,
    /// The emulator, for `simulated`.
    pub sim: Option<IdCardSim>,
}

impl IdReaderSlot {
    /// The connector the driver opens.
    pub fn connector(&self) -> SerialConnector {
        SerialConnector::new(self.path.clone(), self.baud)
    }
}

/// The reader of `dev`: `Ok(None)` for `none`; for `simulated` the drivers' emulator holding
/// `card` (a card file's TOML); otherwise the configured port (default 115200 baud).
pub fn id_reader(dev: &DeviceSection, card: &str) -> Result<Option<IdReaderSlot>, String> {
    match dev.driver {
        DriverKind::None => Ok(None),
        DriverKind::Simulated => {
            let card = toml::from_str::<CardFile>(card)
                .map_err(|e| e.to_string())?
                .into_card("simulated", Path::new("."))?;
            let sim = IdCardSim::with_cards(vec![card], None)
                .map_err(|e| format!("无法打开伪终端：{e}"))?;
            Ok(Some(IdReaderSlot {
                path: sim.path(),
                baud: 115_200,
                sim: Some(sim),
            }))
        }
        _ => Ok(Some(IdReaderSlot {
            path: PathBuf::from(&dev.path),
            baud: dev.baud.unwrap_or(115_200),
            sim: None,
        })),
    }
}

/// The receipt printer a slot names: its URI and, for `simulated`, the emulator on loopback
/// TCP that answers there (its jobs rendered under `sim_dir`).
pub struct PrinterSlot {
    /// As configured, or the emulator's `tcp://127.0.0.1:port`.
    pub uri: String,
    /// The emulator, for `simulated`.
    pub sim: Option<PrinterSim>,
}

impl PrinterSlot {
    /// The URI parsed for the driver; `Err` says what is wrong with it.
    pub fn parsed(&self) -> Result<PrinterUri, String> {
        PrinterUri::parse(&self.uri).map_err(|e| format!("打印机地址 {} 无效：{e}", self.uri))
    }
}

/// The printer of `dev`: `Ok(None)` for `none`; the emulator for `simulated` (rendering its
/// previews in `font`).
pub fn printer(
    dev: &DeviceSection,
    sim_dir: &Path,
    font: Option<LoadedFont>,
) -> Result<Option<PrinterSlot>, String> {
    match dev.driver {
        DriverKind::None => Ok(None),
        DriverKind::Simulated => {
            let sim = PrinterSim::start_tcp("127.0.0.1:0", PrinterSimConfig::new(sim_dir, font))
                .map_err(|e| format!("打印机模拟器无法启动：{e}"))?;
            Ok(Some(PrinterSlot {
                uri: format!("tcp://{}", sim.local_addr()),
                sim: Some(sim),
            }))
        }
        _ => Ok(Some(PrinterSlot {
            uri: dev.path.clone(),
            sim: None,
        })),
    }
}

/// Whether a slot is the host's XFS4IoT service (its `path` the service URI).
pub fn is_xfs4iot(dev: &DeviceSection) -> bool {
    dev.driver == DriverKind::Xfs4iot
}

/// The host terminal of the demo: the drivers' XFS4IoT emulator (one for every slot of
/// `devices` with `driver = "xfs4iot"` and `path = "simulated"`, on a free loopback port),
/// each such path replaced by its service's URI there, so every user of the slot — kiosk,
/// self-test, technician page — reaches it as it would a bank terminal's. `Ok(None)` when no
/// slot asks for it. The emulator stops when the value is dropped.
pub fn xfs4iot_host(devices: &mut DevicesSection) -> Result<Option<Xfs4IotSim>, String> {
    let mut slots = [
        ("Printer", &mut devices.printer),
        ("BarcodeReader", &mut devices.scanner),
        ("Camera", &mut devices.camera),
        ("Camera", &mut devices.document_camera),
        ("Lights", &mut devices.lights),
        ("VendorMode", &mut devices.vendor_mode),
    ];
    fn wanted(d: &DeviceSection) -> bool {
        is_xfs4iot(d) && d.path.trim() == XFS4IOT_SIMULATED
    }
    if !slots.iter().any(|(_, d)| wanted(d)) {
        return Ok(None);
    }
    let sim =
        Xfs4IotSim::start("127.0.0.1:0").map_err(|e| format!("XFS4IoT 模拟器无法启动：{e}"))?;
    for (service, dev) in slots.iter_mut() {
        if wanted(dev) {
            dev.path = sim.service_uri(service);
        }
    }
    Ok(Some(sim))
}

/// The QR scanner a slot names.
pub enum ScannerSlot {
    /// A serial scanner (for `simulated`, the emulator's pseudo-terminal, kept here).
    Serial {
        connector: SerialConnector,
        sim: Option<ScannerSim>,
    },
    /// A keyboard-wedge scanner read through evdev.
    Evdev(EvdevConfig),
    /// The host's XFS4IoT BarcodeReader service at this URI.
    Xfs4Iot(String),
}

/// The scanner of `dev`: `Ok(None)` for `none` (or a driver that is not a scanner's).
pub fn scanner(dev: &DeviceSection) -> Result<Option<ScannerSlot>, String> {
    match dev.driver {
        DriverKind::Simulated => {
            let sim = ScannerSim::start(None).map_err(|e| format!("无法打开伪终端：{e}"))?;
            Ok(Some(ScannerSlot::Serial {
                connector: SerialConnector::new(sim.path(), 9600),
                sim: Some(sim),
            }))
        }
        DriverKind::SerialScanner => Ok(Some(ScannerSlot::Serial {
            connector: SerialConnector::new(&dev.path, dev.baud.unwrap_or(9600)),
            sim: None,
        })),
        DriverKind::Evdev => {
            let path = PathBuf::from(&dev.path);
            // An event device is grabbed; a FIFO (an emulator standing in for one) cannot be.
            let exclusive = !std::fs::metadata(&path)
                .map(|m| std::os::unix::fs::FileTypeExt::is_fifo(&m.file_type()))
                .unwrap_or(false);
            Ok(Some(ScannerSlot::Evdev(EvdevConfig {
                path,
                exclusive,
                max_len: SplitterConfig::default().max_len,
            })))
        }
        DriverKind::Xfs4iot => Ok(Some(ScannerSlot::Xfs4Iot(dev.path.clone()))),
        _ => Ok(None),
    }
}

/// The camera a slot names, as `ykb_drivers::camera::open_source` takes it: its path, or for
/// `simulated` the test pattern `simulated` names (`None`: a simulated camera does not count
/// here); `None` for `none`.
pub fn camera(dev: &DeviceSection, simulated: Option<&str>) -> Option<String> {
    match dev.driver {
        DriverKind::None => None,
        DriverKind::Simulated => simulated.map(str::to_owned),
        _ => Some(dev.path.clone()),
    }
}

/// Whether a slot is served by an emulator started here (no device file to look for).
pub fn is_emulated(dev: &DeviceSection) -> bool {
    dev.driver == DriverKind::Simulated
}

/// The A4 document printer a slot names: the CUPS queue to print to; `Ok(None)` for `none`.
/// There is no emulator here: tests and demos use a real `cupsd` with a PDF-writing queue.
pub fn document_printer(dev: &DeviceSection) -> Result<Option<ykb_drivers::cups::Queue>, String> {
    match dev.driver {
        DriverKind::None => Ok(None),
        DriverKind::Cups => ykb_drivers::cups::Queue::parse(&dev.path).map(Some),
        other => Err(format!(
            "A4 文书打印机只能经 CUPS 打印（driver = \"cups\"），不能用 {other:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xfs(path: &str) -> DeviceSection {
        DeviceSection {
            driver: DriverKind::Xfs4iot,
            path: path.into(),
            baud: None,
            roll_length_mm: None,
        }
    }

    #[test]
    fn simulated_xfs4iot_slots_share_one_emulator_and_name_its_services() {
        let mut d = crate::core::config::Profile::demo().devices;
        assert!(
            xfs4iot_host(&mut d).unwrap().is_none(),
            "no slot asks for it"
        );
        d.printer = xfs("simulated");
        d.scanner = xfs("simulated");
        d.vendor_mode = xfs("simulated");
        d.lights = xfs("ws://10.0.0.1:5846/xfs4iot/v1.0/Lights");
        let host = xfs4iot_host(&mut d).unwrap().expect("started");
        assert_eq!(d.printer.path, host.service_uri("Printer"));
        assert_eq!(d.scanner.path, host.service_uri("BarcodeReader"));
        assert_eq!(d.vendor_mode.path, host.service_uri("VendorMode"));
        // A real host's URI stays as configured.
        assert_eq!(d.lights.path, "ws://10.0.0.1:5846/xfs4iot/v1.0/Lights");
        // The emulator answers there, through the real driver.
        let printer = ykb_drivers::xfs4iot::Xfs4IotPrinter::connect(
            &d.printer.path,
            ykb_drivers::xfs4iot::ClientConfig::default(),
        )
        .unwrap();
        printer.print_raw(b"\x1b@hello").unwrap();
        assert_eq!(host.shared().jobs(), vec![b"\x1b@hello".to_vec()]);
    }
}
