//! What every UI terminal shares — the kiosk, the counter and the hall display alike: the
//! platform link, outbox delivery, the receipt printer, cameras, the card service, scanners,
//! speech, the search worker, e-licence calls, the handwriting recogniser and the device thread.
//!
//! Invariants: **no Slint and no screens** (results go to callbacks, which the apps post to
//! their inbox); this is the **only** place a profile's device slot becomes a running driver
//! or its emulator; the platform link is built here from the parts `sim::demo` returns, and
//! the simulator never calls back into this layer.

pub mod camera;
pub mod cards;
pub mod delivery;
pub mod desk;
pub mod devservice;
pub mod document_printer;
pub mod handwriting;
pub mod inbox;
pub mod licences;
pub mod lights;
pub mod link;
pub mod payment;
pub mod printer;
pub mod scan;
pub mod search;
pub mod slots;
pub mod speech;
pub mod thread;
pub mod vendor;

use std::sync::Arc;

use jiff::Timestamp;

use crate::core::audit::{self, Actor, AuditAction};
use crate::core::health::DeviceHealth;
use crate::core::outbox::{self, Accepted, NewCase, OutboxError};
use crate::core::Core;

/// A UI terminal's running parts, and the few things every app does with them: store a case
/// or an event (and wake delivery), record a device's state, write the audit log.
pub struct Terminal {
    /// The profile, store, key and catalogue.
    pub core: Core,
    /// The platform (demo: the in-process simulator), once linked.
    pub platform: Option<Arc<link::PlatformLink>>,
    /// The outbox worker inside the UI (installed terminals also have the agent's).
    pub delivery: Option<delivery::Delivery>,
    /// The receipt printer, once started.
    pub printer: Option<printer::ReceiptPrinter>,
    /// The A4 document printer (a CUPS queue), when the profile has one.
    pub document_printer: Option<document_printer::DocumentPrinter>,
    /// The ID-card reader, once started.
    pub cards: Option<cards::CardService>,
    /// Where every worker thread's result comes back.
    pub inbox: inbox::Inbox,
    /// The demo's host terminal: the XFS4IoT emulator the `simulated` XFS4IoT slots use.
    pub xfs4iot_host: Option<ykb_drivers::sim::Xfs4IotSim>,
}

impl Terminal {
    /// A terminal on a started core, with nothing started yet.
    pub fn new(core: Core, inbox: inbox::Inbox) -> Self {
        Self {
            core,
            platform: None,
            delivery: None,
            printer: None,
            document_printer: None,
            cards: None,
            inbox,
            xfs4iot_host: None,
        }
    }

    /// Starts the demo's host terminal when a slot asks for it (`driver = "xfs4iot"`,
    /// `path = "simulated"`; see [`slots::xfs4iot_host`]): from then on the profile names
    /// the emulator's service URIs. Call it before starting any device. A failure is logged
    /// (the slots then fail to connect, each saying so).
    pub fn start_xfs4iot_host(&mut self) {
        match slots::xfs4iot_host(&mut self.core.profile.devices) {
            Ok(host) => self.xfs4iot_host = host,
            Err(e) => tracing::warn!(error = %e, "XFS4IoT host emulator not started"),
        }
    }

    /// Links the terminal to `platform`: e-licence look-ups and 渝快码 go there, and a delivery
    /// worker in this process brings the outbox to it, reporting through the inbox.
    pub fn link(&mut self, platform: Arc<link::PlatformLink>) {
        let inbox = self.inbox.clone();
        self.delivery = delivery::Delivery::for_terminal(&self.core, &platform, move |news| {
            inbox.post(inbox::Report::Delivery(news))
        });
        self.platform = Some(platform);
    }

    /// The receipt printer emulator's jobs (PNG files), when the printer is simulated.
    pub fn printed_jobs(&self) -> Vec<std::path::PathBuf> {
        self.printer
            .as_ref()
            .and_then(printer::ReceiptPrinter::sim_jobs)
            .unwrap_or_default()
    }

    /// Stores a case, its materials and its outbox row in one transaction, then wakes
    /// delivery.
    pub fn enqueue_case(&mut self, case: NewCase, now: Timestamp) -> Result<Accepted, OutboxError> {
        let quota = self.core.quota();
        let accepted =
            outbox::enqueue_case(&mut self.core.store, &self.core.key, quota, case, now)?;
        self.wake_delivery();
        Ok(accepted)
    }

    /// Queues a 好差评 or supervision event for the platform, then wakes delivery.
    pub fn enqueue_event(
        &mut self,
        kind: &str,
        body: &serde_json::Value,
        now: Timestamp,
    ) -> Result<uuid::Uuid, OutboxError> {
        let quota = self.core.quota();
        let id =
            outbox::enqueue_event(&mut self.core.store, &self.core.key, quota, kind, body, now)?;
        self.wake_delivery();
        Ok(id)
    }

    /// Asks the delivery worker to look at the outbox now.
    pub fn wake_delivery(&self) {
        if let Some(d) = &self.delivery {
            d.wake();
        }
    }

    /// Records what the device in `slot` just showed, as seen by `source` (the heartbeat and
    /// the staff alerts read it); a failure is logged.
    pub fn record_device(&mut self, source: &str, slot: &str, health: DeviceHealth) {
        let devices = std::collections::BTreeMap::from([(slot.to_owned(), health)]);
        if let Err(e) = crate::core::health::record_devices(&mut self.core.store, source, &devices)
        {
            tracing::warn!(error = %e, "device state not recorded");
        }
    }

    /// Appends an audit entry; a failure is logged, never shown.
    pub fn audit(&mut self, actor: &Actor, action: AuditAction, detail: &str) {
        if let Err(e) = audit::append(&mut self.core.store, actor, action, detail) {
            tracing::error!(error = %e, "audit entry not written");
        }
    }
}
