//! The kiosk's devices and links: starting the card reader, scanner, printer, search worker
//! and delivery through the terminal layer, what a card or 渝快码 identifies, the e-licence
//! look-up, device health and alerts, and taking up a newer catalogue.

use std::sync::Arc;
use std::time::Instant;

use slint::ComponentHandle;

use super::*;

impl Kiosk {
    /// Demo: places the emulator's card on the reader.
    pub(super) fn place_demo_card(&self) {
        if let Some(c) = &self.state.borrow().terminal.cards {
            c.place_demo_card();
        }
    }

    /// Demo: lifts the emulator's card off the reader.
    pub(super) fn lift_demo_card(&self) {
        if let Some(c) = &self.state.borrow().terminal.cards {
            c.lift_demo_card();
        }
    }

    /// Uses `platform` for e-licence look-ups (免提交) once a card is read, and delivers the
    /// outbox to it from a worker in this process (the demo has no agent service).
    pub fn use_platform(&self, platform: Arc<PlatformLink>) {
        self.state.borrow_mut().terminal.link(platform);
        if let Some(w) = self.window.upgrade() {
            w.global::<LicenceAdapter>().set_available(true);
        }
    }

    /// Records what a device just showed (for the heartbeat and the staff alerts) and
    /// refreshes the alerts.
    pub(super) fn record_device(&self, slot: &str, health: crate::core::health::DeviceHealth) {
        self.state
            .borrow_mut()
            .terminal
            .record_device("kiosk", slot, health);
        self.refresh_alerts();
        // The tiles that need this slot follow it.
        self.event(Event::DeviceHealth {
            slot: slot.to_owned(),
            health,
        });
    }

    /// Asks the receipt printer how it is, every `DEVICE_CHECK` while nobody is being served
    /// and the host terminal (if any) is not in vendor mode (a job in progress reports by
    /// itself), so 取号 closes when the paper runs out and opens again when it is back.
    pub(super) fn probe_printer(&self, now: Instant) {
        let mut st = self.state.borrow_mut();
        if now.saturating_duration_since(st.devices_checked) < DEVICE_CHECK
            || st.probing
            || st.printing_receipt
            || !st.session.between_citizens()
            // The host's staff have the devices: not ours to ask.
            || st.session.in_vendor_mode()
        {
            return;
        }
        st.devices_checked = now;
        let Some(printer) = &st.terminal.printer else {
            return;
        };
        let inbox = st.terminal.inbox.clone();
        printer.probe(move |h| inbox.post(Report::DeviceProbed("printer", h)));
        st.probing = true;
    }

    /// 工作人员提示: what staff should see to (paper, devices, queue, disk), from the store.
    pub fn refresh_alerts(&self) {
        let text = {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            let quota = st.terminal.core.quota();
            let devices = crate::core::health::stored_devices(&mut st.terminal.core.store)
                .unwrap_or_default();
            match crate::core::health::collect(
                &mut st.terminal.core.store,
                &st.terminal.core.data_dir,
                quota,
                devices,
                None,
            ) {
                Ok(snapshot) => crate::core::alerts::alerts(
                    &snapshot,
                    None,
                    &crate::core::alerts::Thresholds::default(),
                )
                .into_iter()
                .map(|a| a.message)
                .collect::<Vec<_>>()
                .join(" "),
                Err(e) => {
                    tracing::warn!(error = %e, "health not collected");
                    String::new()
                }
            }
        };
        // For staff: tickets issued while the hall database was out of reach.
        let text = {
            let mut st = self.state.borrow_mut();
            let hall = st
                .terminal
                .core
                .profile
                .ticketing
                .as_ref()
                .is_some_and(|t| t.queue.is_some());
            match hall.then(|| crate::core::hall::offline::pending(&mut st.terminal.core.store)) {
                Some(Ok(n)) if n > 0 => {
                    format!("{text} 大厅数据库连不上：本机已离线发号 {n} 张，恢复后自动补传")
                        .trim_start()
                        .to_owned()
                }
                _ => text,
            }
        };
        if let Some(w) = self.window.upgrade() {
            w.global::<KioskAdapter>().set_staff_alert(text.into());
        }
    }

    /// Search runs on its own thread; without it (the store could not be opened twice) it
    /// runs here.
    pub(super) fn start_searcher(&self) {
        let inbox = self.state.borrow().terminal.inbox.clone();
        let path = self
            .state
            .borrow()
            .terminal
            .core
            .data_dir
            .join(crate::core::STORE_FILE);
        match crate::terminal::search::Searcher::start(&path, RESULT_LIMIT, move |query, hits| {
            inbox.post(Report::Found { query, hits })
        }) {
            Ok(s) => self.state.borrow_mut().searcher = Some(s),
            Err(e) => tracing::warn!(error = %e, "search thread not started; searching in place"),
        }
    }

    /// Speaks a prompt on every screen change while 大字模式 is on.
    pub fn set_speaker(&self, speaker: Box<dyn Speaker>) {
        self.state.borrow_mut().speaker = Some(speaker);
    }

    /// Opens the receipt printer of the profile (for `simulated`, the drivers' emulator on
    /// TCP loopback, writing each job as a PNG under `<data-dir>/printer-sim`).
    pub fn start_printer(&self) {
        let mut st = self.state.borrow_mut();
        let dir = st.terminal.core.data_dir.join("printer-sim");
        match ReceiptPrinter::start(&st.terminal.core.profile.devices.printer, &dir) {
            Ok(p) => {
                let counted = st.terminal.core.store.path().to_owned();
                st.terminal.printer = p.map(|p| p.count_paper(counted));
            }
            Err(e) => tracing::warn!(error = %e, "receipt printer not available"),
        }
        match crate::terminal::document_printer::DocumentPrinter::start(
            &st.terminal.core.profile.devices.document_printer,
        ) {
            Ok(p) => st.terminal.document_printer = p,
            Err(e) => tracing::warn!(error = %e, "document printer not available"),
        }
    }

    /// Whether the capture page's camera (its thread and the device) is open now.
    pub fn camera_open(&self) -> bool {
        self.state.borrow().camera.is_some()
    }

    /// The receipt printer's emulated jobs (PNG files), when it is simulated.
    pub fn printed_jobs(&self) -> Vec<std::path::PathBuf> {
        self.state.borrow().terminal.printed_jobs()
    }

    /// Starts the ID-card emulator with the demo card and the real reader driver on it; the
    /// identify page then offers "放置演示身份证".
    pub fn start_demo_card_reader(&self) {
        self.start_card_reader_with(|report| CardService::start_demo(report).map(Some));
    }

    /// Starts the profile's QR scanner (serial, or the emulator for `simulated`): 渝快码 on
    /// the identify page, receipt codes for 办件进度查询.
    pub fn start_scanner(&self) {
        let inbox = self.state.borrow().terminal.inbox.clone();
        let dev = self
            .state
            .borrow()
            .terminal
            .core
            .profile
            .devices
            .scanner
            .clone();
        match crate::terminal::scan::ScanService::start(&dev, move |s| {
            inbox.post(Report::Scanned(s))
        }) {
            Ok(s) => {
                let host = super::host::host_scanner(&self.state.borrow()).is_some();
                if let (Some(w), Some(s)) = (self.window.upgrade(), &s) {
                    w.global::<IdentifyAdapter>()
                        .set_ykm_demo(s.is_demo() || host);
                }
                self.state.borrow_mut().scanner = s;
            }
            Err(e) => {
                tracing::warn!(error = %e, "QR scanner could not start");
                self.record_device("scanner", offline());
            }
        }
    }

    /// Demo: the platform simulator issues a 渝快码 for the demo citizen and the emulated
    /// scanner reads it (through the real serial driver).
    pub(super) fn demo_ykm(&self) {
        let token = {
            let st = self.state.borrow();
            let (Some(platform), Some(_)) = (&st.terminal.platform, &st.scanner) else {
                return;
            };
            let (Some(sim), Some(person)) = (platform.sim(), crate::terminal::cards::demo_person())
            else {
                return;
            };
            sim.issue_ykm_token(person, 120)
        };
        self.demo_scan(&token);
    }

    /// Demo and tests: the emulated scanner reads `code` (through the real serial driver),
    /// or the demo host's barcode reader does (through the real XFS4IoT driver).
    pub fn demo_scan(&self, code: &str) {
        let st = self.state.borrow();
        if let Some(host) = super::host::host_scanner(&st) {
            host.scan(code);
        } else if let Some(s) = &st.scanner {
            s.demo_scan(code);
        }
    }

    /// Asks the platform whom a 渝快码 token identifies, off the UI thread.
    pub(super) fn verify_ykm(&self, token: String) {
        let st = self.state.borrow();
        let inbox = st.terminal.inbox.clone();
        let Some(platform) = st.terminal.platform.clone() else {
            drop(st);
            self.event(Event::IdentifyNote(IdentifyNote::YkmUnavailable));
            return;
        };
        let spawned = std::thread::Builder::new()
            .name("kiosk-ykm".into())
            .spawn(move || {
                let answer = platform
                    .runtime()
                    .block_on(platform.client.verify_ykm(&token))
                    .map(|id| id.person)
                    .map_err(|e| match e {
                        crate::core::platform::PlatformError::Rejected { reason, .. } => {
                            // "message（code）": the citizen reads the message.
                            reason
                                .rsplit_once('（')
                                .map_or(reason.clone(), |(m, _)| m.to_owned())
                        }
                        other => {
                            tracing::warn!(error = %other, "渝快码 not verified");
                            "暂时无法核验渝快码，请稍后再试或刷身份证".to_owned()
                        }
                    });
                inbox.post(Report::Ykm(answer));
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "渝快码 check not started");
        }
    }

    /// Starts the profile's ID-card reader (`sam-serial`, or the demo for `simulated`).
    pub fn start_card_reader(&self) {
        let dev = self
            .state
            .borrow()
            .terminal
            .core
            .profile
            .devices
            .id_reader
            .clone();
        self.start_card_reader_with(move |report| CardService::start(&dev, report));
    }

    pub(super) fn start_card_reader_with(
        &self,
        start: impl FnOnce(Box<dyn Fn(CardOutcome) + Send>) -> Result<Option<CardService>, String>,
    ) {
        let inbox = self.state.borrow().terminal.inbox.clone();
        let report = move |outcome: CardOutcome| inbox.post(Report::Card(outcome, None));
        match start(Box::new(report)) {
            Ok(Some(service)) => {
                if let Some(w) = self.window.upgrade() {
                    w.global::<IdentifyAdapter>().set_demo(service.is_demo());
                }
                self.state.borrow_mut().terminal.cards = Some(service);
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "ID-card reader could not start");
                self.record_device("id_reader", offline());
                self.event(Event::CardError(CardError::Device));
            }
        }
    }

    /// A person read from a card or a 渝快码: identified at once, or after 人证核验 when the
    /// kiosk has a face verifier.
    pub(super) fn read_person(&self, person: crate::core::domain::Person) {
        let verifier = self.state.borrow().face.clone();
        let Some(verifier) = verifier else {
            self.identified(person);
            return;
        };
        self.event(Event::IdentifyNote(IdentifyNote::CheckingFace));
        let source = {
            let st = self.state.borrow();
            let d = &st.terminal.core.profile.devices;
            crate::terminal::cards::face_camera(&d.camera, &d.document_camera)
        };
        let inbox = self.state.borrow().terminal.inbox.clone();
        crate::terminal::cards::verify_face(verifier, source, person, move |person, answer| {
            inbox.post(Report::Face(person, answer))
        });
    }

    /// The person counts as identified: the session has them (and asks for their
    /// e-licences).
    pub(super) fn identified(&self, person: crate::core::domain::Person) {
        self.event(Event::CardRead(person));
    }

    /// 人证核验 from now on (the seam for a later issue; see `crate::terminal::cards::FaceVerifier`).
    pub fn set_face_verifier(&self, verifier: Arc<dyn crate::terminal::cards::FaceVerifier>) {
        self.state.borrow_mut().face = Some(verifier);
    }

    /// Asks the platform which e-licences the identified person holds, off the UI thread
    /// (without a platform link the answer is that it could not be reached).
    pub(super) fn look_up_licences(&self) {
        let st = self.state.borrow();
        let Some(person) = st.session.person() else {
            return;
        };
        let Some(platform) = st.terminal.platform.clone() else {
            drop(st);
            self.event(Event::LicencesFailed);
            return;
        };
        let inbox = st.terminal.inbox.clone();
        let id_number = person.id_number.expose().to_owned();
        if st.terminal.document_printer.is_some() {
            // 证明开具 needs the A4 printer: only then are certificates offered.
            let inbox = inbox.clone();
            crate::terminal::licences::certificate_types(platform.clone(), move |list| {
                inbox.post(Report::Certificates(list))
            });
        }
        crate::terminal::licences::look_up_licences(
            platform,
            id_number,
            move |id_number, names| inbox.post(Report::Licences { id_number, names }),
        );
    }

    /// Takes up a catalogue version newer than the one on screen (synced into the store by
    /// the agent or the sync timer), checked every `CATALOG_CHECK` and only between
    /// citizens, so nobody's guide changes under them.
    pub(super) fn adopt_newer_catalog(&self, now: Instant) {
        let newer = {
            let mut st = self.state.borrow_mut();
            if now.saturating_duration_since(st.catalog_checked) < CATALOG_CHECK
                || st.session.current() != &Screen::Home
                || st.session.holds_personal_data()
            {
                return;
            }
            st.catalog_checked = now;
            let held = st.terminal.core.catalog.version;
            match st.terminal.core.store.catalog_version() {
                Ok(Some(v)) if v > held => match st.terminal.core.store.load_catalog() {
                    Ok(Some(c)) => Some(c),
                    Ok(None) => None,
                    Err(e) => {
                        tracing::warn!(error = %e, "newer catalogue not loaded");
                        None
                    }
                },
                Ok(_) => None,
                Err(e) => {
                    tracing::warn!(error = %e, "catalogue version not read");
                    None
                }
            }
        };
        let Some(catalog) = newer else {
            return;
        };
        tracing::info!(version = catalog.version, "kiosk shows the newer catalogue");
        if let Some(w) = self.window.upgrade() {
            w.global::<KioskAdapter>().set_departments(string_model(
                catalog.departments().into_iter().map(str::to_owned),
            ));
        }
        self.state.borrow_mut().terminal.core.catalog = catalog;
        // The header's version line and the bundles list follow the catalogue.
        let lang = self.state.borrow().lang;
        self.set_language(lang);
    }
}

pub(super) fn online() -> crate::core::health::DeviceHealth {
    crate::core::health::DeviceHealth {
        state: ykb_drivers::DeviceState::Online,
        paper: None,
    }
}

pub(super) fn offline() -> crate::core::health::DeviceHealth {
    crate::core::health::DeviceHealth {
        state: ykb_drivers::DeviceState::Offline,
        paper: None,
    }
}
