//! The receipt printer (80 mm ESC/POS, the host terminal's XFS4IoT `Printer` service, or the
//! ESC/POS emulator for `simulated`): print jobs on a worker thread with progress.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ykb_drivers::escpos::{
    load_font_static, Printer, PrinterUri, Receipt, ReceiptRenderer, ReceiptStyle,
};
use ykb_drivers::sim::PrinterSim;

use crate::core::config::DeviceSection;
use crate::core::health::DeviceHealth;
use crate::fonts::UI_FONT;

/// How far a print job has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintProgress {
    /// Opening the printer and rendering the receipt.
    Preparing,
    /// `sent` of the job's `total` bytes written to the printer.
    Sending { sent: usize, total: usize },
}

impl PrintProgress {
    /// The share done, 0.0 to 1.0 (an empty job is complete once sent).
    pub fn fraction(&self) -> f32 {
        match *self {
            Self::Preparing => 0.0,
            Self::Sending { total: 0, .. } => 1.0,
            Self::Sending { sent, total } => (sent.min(total) as f64 / total as f64) as f32,
        }
    }
}

/// Where receipts go.
#[derive(Clone)]
enum Target {
    /// An ESC/POS printer we drive ourselves.
    EscPos(PrinterUri),
    /// The host's XFS4IoT Printer service at this URI (the ESC/POS bytes as PrintRaw).
    Xfs4Iot(String),
}

/// The receipt printer: the configured ESC/POS printer, the host's XFS4IoT printer, or for `simulated` the drivers'
/// printer emulator on TCP loopback, which writes each job as a PNG under `sim_dir`.
pub struct ReceiptPrinter {
    uri: Target,
    _sim: Option<PrinterSim>,
    renderer: Arc<ReceiptRenderer>,
    /// Serialises jobs: one receipt at a time.
    lock: Arc<Mutex<()>>,
    /// The store each finished job's paper length is counted in (`core::consumables`).
    paper_store: Option<PathBuf>,
}

impl ReceiptPrinter {
    /// Opens the printer slot of the profile; `Ok(None)` when no printer is configured.
    pub fn start(dev: &DeviceSection, sim_dir: &Path) -> Result<Option<Self>, String> {
        let font = load_font_static(UI_FONT).ok();
        let Some(slot) = super::slots::printer(dev, sim_dir, font.clone())? else {
            return Ok(None);
        };
        let uri = if super::slots::is_xfs4iot(dev) {
            Target::Xfs4Iot(slot.uri.clone())
        } else {
            Target::EscPos(slot.parsed()?)
        };
        Ok(Some(Self {
            uri,
            _sim: slot.sim,
            renderer: Arc::new(ReceiptRenderer::new(font, ReceiptStyle::default())),
            lock: Arc::new(Mutex::new(())),
            paper_store: None,
        }))
    }

    /// Counts the paper each finished job takes (as the driver measures what it sent) in the
    /// store at `store_path`, on the print thread's own connection.
    pub fn count_paper(mut self, store_path: PathBuf) -> Self {
        self.paper_store = Some(store_path);
        self
    }

    /// The emulator's job folder, when the printer is simulated.
    pub fn sim_jobs(&self) -> Option<Vec<PathBuf>> {
        self._sim.as_ref().map(|s| s.shared().jobs())
    }

    /// Asks the printer for its status on a worker thread (between jobs: it waits for one
    /// running) and hands `done` what it said, or offline when it did not answer.
    pub fn probe(&self, done: impl FnOnce(DeviceHealth) + Send + 'static) {
        let uri = self.uri.clone();
        let lock = self.lock.clone();
        let spawned = std::thread::Builder::new()
            .name("kiosk-printer-probe".into())
            .spawn(move || {
                let _one = lock.lock().unwrap_or_else(|e| e.into_inner());
                let status = match &uri {
                    Target::EscPos(uri) => Printer::open(uri).and_then(|mut p| p.status()).ok(),
                    Target::Xfs4Iot(uri) => xfs_printer(uri).and_then(|p| p.status()).ok(),
                };
                let health = match status {
                    Some(s) => DeviceHealth {
                        state: s.state,
                        paper: Some(s.paper),
                    },
                    None => DeviceHealth {
                        state: ykb_drivers::DeviceState::Offline,
                        paper: None,
                    },
                };
                done(health);
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "printer probe thread not started");
        }
    }

    /// Prints `receipt` on a worker thread; `done` gets `Ok` or what to tell the citizen, and
    /// the printer's health as it answered (`None` when it could not be asked).
    pub fn print(
        &self,
        receipt: Receipt,
        done: impl FnOnce(Result<(), String>, Option<DeviceHealth>) + Send + 'static,
    ) {
        self.print_with_progress(receipt, |_| {}, done)
    }

    /// [`ReceiptPrinter::print`], telling `progress` how far the job has come: the stage
    /// ([`PrintProgress::Preparing`] while the printer is opened and the receipt rendered)
    /// and then the job's bytes as the driver writes them. Reports are thinned to whole
    /// percents.
    pub fn print_with_progress(
        &self,
        receipt: Receipt,
        progress: impl Fn(PrintProgress) + Send + 'static,
        done: impl FnOnce(Result<(), String>, Option<DeviceHealth>) + Send + 'static,
    ) {
        let uri = self.uri.clone();
        let renderer = self.renderer.clone();
        let lock = self.lock.clone();
        let paper_store = self.paper_store.clone();
        let spawned = std::thread::Builder::new()
            .name("kiosk-print".into())
            .spawn(move || {
                let _one = lock.lock().unwrap_or_else(|e| e.into_inner());
                let mut health = None;
                progress(PrintProgress::Preparing);
                let mut last = None;
                let mut printed_um = 0;
                let uri = match uri {
                    Target::EscPos(uri) => uri,
                    Target::Xfs4Iot(uri) => {
                        let result = print_xfs4iot(&uri, &receipt, &renderer, &mut health);
                        if let Ok(um) = &result {
                            // The host's completion covers the whole job at once.
                            progress(PrintProgress::Sending { sent: 1, total: 1 });
                            if let Some(path) = &paper_store {
                                count_job(path, *um);
                            }
                        }
                        done(result.map(|_| ()), health);
                        return;
                    }
                };
                let result = Printer::open(&uri)
                    .and_then(|mut p| {
                        let printed =
                            p.print_receipt_with_progress(&receipt, &renderer, |sent, total| {
                                let percent = (sent * 100).checked_div(total).unwrap_or(100);
                                if last != Some(percent) {
                                    last = Some(percent);
                                    progress(PrintProgress::Sending { sent, total });
                                }
                            });
                        printed_um = p.printed_um();
                        // After the job the roll may be near its end: ask, for staff.
                        health = p.status().ok().map(|s| DeviceHealth {
                            state: s.state,
                            paper: Some(s.paper),
                        });
                        printed
                    })
                    .map_err(|e| {
                        tracing::warn!(printer = %uri, error = %e, "receipt not printed");
                        if let ykb_drivers::escpos::PrinterError::NotReady(s) = &e {
                            health = Some(DeviceHealth {
                                state: s.state,
                                paper: Some(s.paper),
                            });
                        } else if health.is_none() {
                            health = Some(DeviceHealth {
                                state: ykb_drivers::DeviceState::Offline,
                                paper: None,
                            });
                        }
                        e.describe_zh().to_owned()
                    });
                if let (Ok(()), Some(path)) = (&result, &paper_store) {
                    count_job(path, printed_um);
                }
                done(result, health);
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "print thread not started");
        }
    }
}

/// Counts one finished job's paper in the store at `path`.
fn count_job(path: &Path, printed_um: u64) {
    let counted = crate::core::store::Store::open(path)
        .and_then(|mut s| crate::core::consumables::record_job(&mut s, printed_um));
    if let Err(e) = counted {
        tracing::warn!(error = %e, "paper use not counted");
    }
}

/// The host's printer service at `uri`.
fn xfs_printer(
    uri: &str,
) -> Result<ykb_drivers::xfs4iot::Xfs4IotPrinter, ykb_drivers::xfs4iot::Xfs4IotError> {
    ykb_drivers::xfs4iot::Xfs4IotPrinter::connect(uri, Default::default())
}

/// One receipt through the host's printer service: the paper it took, or what to tell the
/// citizen; `health` as the service said after the job (offline when it could not be asked).
fn print_xfs4iot(
    uri: &str,
    receipt: &Receipt,
    renderer: &ReceiptRenderer,
    health: &mut Option<DeviceHealth>,
) -> Result<u64, String> {
    let printer = xfs_printer(uri).map_err(|e| {
        tracing::warn!(kind = ?e.kind(), "XFS4IoT printer unreachable");
        e.describe_zh().to_owned()
    })?;
    let result = printer.print_receipt(receipt, renderer).map_err(|e| {
        tracing::warn!(kind = ?e.kind(), "receipt not printed on the XFS4IoT printer");
        e.describe_zh().to_owned()
    });
    *health = Some(match printer.status() {
        Ok(s) => DeviceHealth {
            state: s.state,
            paper: Some(s.paper),
        },
        Err(_) => DeviceHealth {
            state: ykb_drivers::DeviceState::Offline,
            paper: None,
        },
    });
    result
}
