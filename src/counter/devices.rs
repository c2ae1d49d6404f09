//! The counter's devices and links: the platform link, the card reader and printer through
//! the terminal layer, the inbox of worker results, the e-licence look-up, the lease top-up
//! and the clock.

use super::*;

impl Counter {
    /// Delivers the outbox to the platform from this process (alongside the agent service on
    /// installed terminals) and looks up e-licences there.
    pub fn use_platform(&self, platform: Arc<PlatformLink>) {
        self.state.borrow_mut().terminal.link(platform);
    }

    /// Opens the printer and the ID-card reader of the profile (for `simulated`, the drivers'
    /// emulators).
    pub fn start_devices(&self) {
        let mut st = self.state.borrow_mut();
        let dir = st.terminal.core.data_dir.join("printer-sim");
        match ReceiptPrinter::start(&st.terminal.core.profile.devices.printer, &dir) {
            Ok(p) => {
                let counted = st.terminal.core.store.path().to_owned();
                st.terminal.printer = p.map(|p| p.count_paper(counted));
            }
            Err(e) => tracing::warn!(error = %e, "receipt printer not available"),
        }
        let inbox = st.terminal.inbox.clone();
        match CardService::start_with_expiry(
            &st.terminal.core.profile.devices.id_reader,
            move |o, x| inbox.post(Report::Card(o, x)),
        ) {
            Ok(s) => st.terminal.cards = s,
            Err(e) => tracing::warn!(error = %e, "ID-card reader could not start"),
        }
    }

    /// The printer emulator's jobs (PNG files), when it is simulated.
    pub fn printed_jobs(&self) -> Vec<std::path::PathBuf> {
        self.state.borrow().terminal.printed_jobs()
    }

    /// Applies what device and network threads posted (tests call this directly).
    pub fn process_device_events(&self) {
        let items = self.state.borrow().terminal.inbox.drain();
        for item in items {
            match item {
                Report::Card(CardOutcome::Read(person), expiry) => {
                    if self.state.borrow().clerk.staff().is_none() {
                        continue;
                    }
                    // A new card starts new work: a fee order still shown is withdrawn.
                    self.withdraw_payment();
                    let mut st = self.state.borrow_mut();
                    if let Some(c) = &st.terminal.cards {
                        c.lift_demo_card();
                    }
                    self.look_up_licences(&st, person.id_number.expose());
                    st.clerk.card_read(person, expiry);
                    st.say("已读取身份证");
                }
                Report::Card(CardOutcome::Error(e), _) => {
                    self.state.borrow_mut().fail(match e {
                        crate::core::domain::CardError::Replace => "未能读取身份证，请重新放置",
                        crate::core::domain::CardError::Device => {
                            "身份证阅读器故障，请联系运维人员"
                        }
                        crate::core::domain::CardError::Unsupported => {
                            "2017版外国人永久居留身份证无法读取号码，请人工核验证件"
                        }
                    });
                }
                Report::Card(CardOutcome::Ready | CardOutcome::Removed, _) => {}
                Report::Licences { id_number, names } => match names {
                    Ok(names) => {
                        self.state.borrow_mut().clerk.licences(&id_number, names);
                    }
                    // The materials are then simply not exempt.
                    Err(e) => tracing::warn!(error = %e, "e-licence look-up failed"),
                },
                Report::Printed(r, health) => {
                    if let Some(h) = health {
                        self.state
                            .borrow_mut()
                            .terminal
                            .record_device("counter", "printer", h);
                    }
                    self.state.borrow_mut().print_status = match r {
                        Ok(()) => "已打印，请交给市民".into(),
                        Err(e) => format!("未能打印（{e}）"),
                    };
                }
                Report::Delivery(DeliveryNews::Delivered { id, unified_code }) => {
                    let awaited = {
                        let mut st = self.state.borrow_mut();
                        // 收费 needs the accepted case's unified code, however late it comes.
                        if let Some(code) = &unified_code {
                            st.clerk.coded(&id, code);
                        }
                        let ours = st.awaiting.as_ref().is_some_and(|a| a.case_id == id);
                        if ours {
                            st.awaiting.take()
                        } else {
                            None
                        }
                    };
                    if let (Some(a), Some(code)) = (awaited, unified_code) {
                        self.print_acceptance(&a.case_id, ReceiptNumber::Unified(code));
                    }
                }
                Report::Delivery(
                    DeliveryNews::Offline
                    | DeliveryNews::Notices(_)
                    | DeliveryNews::Progress { .. },
                ) => {}
                Report::PinChecked { staff, ok } => self.pin_checked(&staff, ok),
                Report::HallChanged => self.state.borrow_mut().queue.stale = true,
                Report::Desk(outcome) => self.desk_done(outcome),
                // The counter starts no camera, scanner, search, self-test or vendor-mode
                // worker.
                Report::VendorMode(_)
                | Report::Face(..)
                | Report::LicenceCopy { .. }
                | Report::Found { .. }
                | Report::Selftest(_)
                | Report::Scanned(_)
                | Report::Ykm(_)
                | Report::Camera(..)
                | Report::PrintProgress(_)
                | Report::DeviceProbed(..)
                | Report::Certificates(_)
                | Report::Certificate { .. }
                | Report::DocumentProgress(_) => {}
                Report::Payment(news) => self.payment_news(news),
            }
        }
        self.render();
    }

    pub(super) fn look_up_licences(&self, st: &State, id_number: &str) {
        let Some(platform) = st.terminal.platform.clone() else {
            return;
        };
        let inbox = st.terminal.inbox.clone();
        crate::terminal::licences::look_up_licences(
            platform,
            id_number.to_owned(),
            move |id_number, names| inbox.post(Report::Licences { id_number, names }),
        );
    }

    /// Advances the clock: the idle lock, the pad's thanks, an acceptance receipt that
    /// waited long enough for the unified code (tests pass a later instant).
    pub fn tick(&self, now: Instant) {
        let overdue = {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            if let Some(staff) = st.clerk.tick(now) {
                st.audit(&staff, AuditAction::StaffLocked);
            }
            let due = st.awaiting.as_ref().is_some_and(|a| now >= a.until);
            if due {
                st.awaiting.take()
            } else {
                None
            }
        };
        if let Some(a) = overdue {
            self.print_acceptance(&a.case_id, ReceiptNumber::Local(a.local_number));
        }
        self.follow_operations(now);
        self.render();
    }

    /// Ticks every second while kept alive.
    pub fn timer(&self) -> slint::Timer {
        let t = slint::Timer::default();
        let c = self.handle();
        t.start(
            slint::TimerMode::Repeated,
            Duration::from_secs(1),
            move || c.tick(Instant::now()),
        );
        t
    }
}

/// Lease numbers from the demo platform for every service running low.
pub(super) fn lease_from(p: &PlatformLink, st: &mut State) {
    let now = Timestamp::now();
    let reqs = match ticketing::lease_requests(
        &mut st.terminal.core.store,
        &st.ticketing,
        ticketing::hall_date(now),
    ) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "lease requests");
            return;
        }
    };
    for req in reqs {
        match p.runtime().block_on(p.client.ticket_lease(&req)) {
            Ok(lease) => {
                if let Err(e) =
                    ticketing::record_lease(&mut st.terminal.core.store, &req, &lease, now)
                {
                    tracing::warn!(error = %e, "lease not recorded");
                }
            }
            Err(e) => tracing::warn!(error = %e, "lease not granted"),
        }
    }
}
