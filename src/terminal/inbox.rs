//! The one inbox of a UI terminal: every worker thread's result comes back to the UI thread
//! as a [`Report`] (one closed enum), queued here, and the UI is woken to drain it. The
//! local device service's news (`devservice::DeviceServiceNews`, only the kiosk runs it)
//! has a lane of its own beside it, woken the same way, so apps without the service need
//! not name it.

use std::sync::{Arc, Mutex};

use super::camera::CameraNews;
use super::cards::CardOutcome;
use super::delivery::DeliveryNews;
use super::printer::PrintProgress;
use super::scan::Scanned;
use crate::core::domain::{CardExpiry, Person};
use crate::core::health::DeviceHealth;
use crate::core::platform::wire::LicenceDocument;
use crate::core::search::SearchHit;

/// A result from a thread other than the UI's.
pub enum Report {
    /// What the card reader read (and the card's expiry, when the reader was asked for it).
    Card(CardOutcome, Option<CardExpiry>),
    /// 人证核验's answer for a person read from a card or a 渝快码.
    Face(Person, Result<bool, String>),
    /// The e-licences of the person with this ID number (or why the platform did not say).
    Licences {
        id_number: String,
        names: Result<Vec<String>, String>,
    },
    /// The printable copy of an e-licence, or why there is none.
    LicenceCopy {
        licence_type: String,
        result: Result<LicenceDocument, String>,
    },
    /// News from the outbox delivery worker.
    Delivery(DeliveryNews),
    /// The search worker's answer for `query`.
    Found { query: String, hits: Vec<SearchHit> },
    /// A self-test run from 维护模式.
    Selftest(Box<crate::core::selftest::SelftestReport>),
    /// A code read by a scanner or the camera.
    Scanned(Scanned),
    /// The platform's answer for a 渝快码 token.
    Ykm(Result<Person, String>),
    /// A print job ended (and the printer's health, when it told).
    Printed(Result<(), String>, Option<DeviceHealth>),
    /// From the capture camera started as number `.0`.
    Camera(u64, CameraNews),
    /// How far the print job has come.
    PrintProgress(PrintProgress),
    /// What a device said when asked between jobs (the slot, and its health).
    DeviceProbed(&'static str, DeviceHealth),
    /// The certificates (证明) the platform issues at terminals.
    Certificates(Vec<crate::core::platform::wire::CertificateType>),
    /// A certificate fetched and checked, or why it is not printed.
    Certificate {
        title: String,
        result: Result<crate::core::certificate::VerifiedCertificate, String>,
    },
    /// The A4 printer is stuck or waiting (said in words).
    DocumentProgress(super::document_printer::DocumentProgress),
    /// A staff or technician PIN checked off the UI thread (`core::pin::check`): for whom
    /// (the id typed), and whether it matched. The PIN itself never comes back.
    PinChecked { staff: String, ok: bool },
    /// The hall database announced a queue change, or its listener (re)connected: what is
    /// shown of the queue is read again.
    HallChanged,
    /// What came of a queue action run on the hall desk's thread.
    Desk(super::desk::DeskOutcome),
    /// The host terminal's vendor mode changed (XFS4IoT `VendorMode`).
    VendorMode(ykb_drivers::xfs4iot::VendorModeEvent),
    /// 公共支付: an order made or followed, or a case's state for 办件进度查询.
    Payment(super::payment::PaymentNews),
}

/// The reports waiting for the UI thread, and how to wake it. Cheap to clone: every worker
/// holds one.
#[derive(Clone)]
pub struct Inbox {
    items: Arc<Mutex<Vec<Report>>>,
    device_service: Arc<Mutex<Vec<super::devservice::DeviceServiceNews>>>,
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl Inbox {
    /// An empty inbox; `wake` asks the UI thread to drain it (from any thread).
    pub fn new(wake: impl Fn() + Send + Sync + 'static) -> Self {
        Self {
            items: Arc::new(Mutex::new(Vec::new())),
            device_service: Arc::new(Mutex::new(Vec::new())),
            wake: Arc::new(wake),
        }
    }

    /// Queues `report` and wakes the UI thread.
    pub fn post(&self, report: Report) {
        self.items
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(report);
        (self.wake)();
    }

    /// Runs `check` on its own thread and posts its [`Report::PinChecked`]. `Err` when no
    /// thread could be started (nothing is posted then; the caller counts it as a failure).
    pub fn check_pin(&self, check: crate::core::pin::PinCheck) -> std::io::Result<()> {
        let inbox = self.clone();
        std::thread::Builder::new()
            .name("pin-check".into())
            .spawn(move || {
                let ok = check.run();
                inbox.post(Report::PinChecked {
                    staff: check.id().to_owned(),
                    ok,
                });
            })
            .map(drop)
    }

    /// Everything queued so far, oldest first.
    pub fn drain(&self) -> Vec<Report> {
        std::mem::take(&mut *self.items.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Queues news of the local device service and wakes the UI thread.
    pub fn post_device_service(&self, news: super::devservice::DeviceServiceNews) {
        self.device_service
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(news);
        (self.wake)();
    }

    /// The local device service's news so far, oldest first.
    pub fn drain_device_service(&self) -> Vec<super::devservice::DeviceServiceNews> {
        std::mem::take(
            &mut *self
                .device_service
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        )
    }
}
