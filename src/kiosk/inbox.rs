//! Results from the kiosk's worker threads (cards, cameras, delivery, printing, platform
//! calls), drained on the UI thread and turned into session events.

use slint::ComponentHandle;

use super::*;

impl Kiosk {
    /// Applies what device and network threads posted (the UI thread runs this when woken by
    /// `upgrade_in_event_loop`; tests call it directly).
    pub fn process_device_events(&self) {
        let news = self.state.borrow().terminal.inbox.drain_device_service();
        for n in news {
            self.device_service_news(n);
        }
        let items = self.state.borrow().terminal.inbox.drain();
        for item in items {
            match item {
                Report::Card(CardOutcome::Read(person), _) => {
                    // The demo card goes back to the citizen once read.
                    if let Some(c) = &self.state.borrow().terminal.cards {
                        c.lift_demo_card();
                    }
                    self.read_person(person);
                }
                Report::Face(person, Ok(true)) => self.identified(person),
                Report::Face(_, answer) => self.event(Event::IdentifyNote(match answer {
                    Err(why) => IdentifyNote::FaceFailed(why),
                    Ok(_) => IdentifyNote::FaceMismatch,
                })),
                Report::Card(CardOutcome::Error(e), _) => {
                    if e == CardError::Device {
                        self.record_device("id_reader", offline());
                    }
                    self.event(Event::CardError(e))
                }
                Report::Card(CardOutcome::Removed, _) => self.event(Event::CardRemoved),
                Report::Card(CardOutcome::Ready, _) => {
                    self.record_device("id_reader", online());
                    self.event(Event::CardReady)
                }
                Report::Licences { id_number, names } => {
                    // Only for the person identified now (not one who has gone).
                    let same = self
                        .state
                        .borrow()
                        .session
                        .person()
                        .is_some_and(|p| p.id_number.expose() == id_number);
                    if same {
                        match names {
                            Ok(names) => self.event(Event::Licences(names)),
                            Err(e) => {
                                tracing::warn!(error = %e, "e-licence look-up failed");
                                self.event(Event::LicencesFailed);
                            }
                        }
                    }
                }
                Report::LicenceCopy {
                    licence_type,
                    result,
                } => self.event(Event::LicenceCopy {
                    licence_type,
                    result: result.map(Box::new),
                }),
                Report::Certificates(list) => self.event(Event::Certificates(list)),
                Report::Certificate { title, result } => self.event(Event::CertificateReady {
                    title,
                    result: result.map(Box::new),
                }),
                Report::DocumentProgress(p) => {
                    {
                        let mut st = self.state.borrow_mut();
                        if st.printing_licence {
                            st.print_status = match p {
                                crate::terminal::document_printer::DocumentProgress::Queued => {
                                    "正在用 A4 打印机打印，请稍候…".into()
                                }
                                crate::terminal::document_printer::DocumentProgress::Stalled(
                                    why,
                                ) => format!("{why}，正在等待打印机…"),
                            };
                        }
                    }
                    self.render();
                }
                Report::Found { query, hits } => self.event(Event::Found { query, hits }),
                Report::Selftest(report) => {
                    {
                        let mut st = self.state.borrow_mut();
                        let st = &mut *st;
                        st.tech_busy = false;
                        let failed = report
                            .checks
                            .iter()
                            .filter(|c| c.outcome == crate::ops::selftest::Outcome::Fail)
                            .count();
                        if let Some(id) = st.session.technician().map(str::to_owned) {
                            audit_technician(
                                &mut st.terminal,
                                &id,
                                crate::core::audit::AuditAction::Selftest,
                                &format!("自检：{} 项，失败 {failed} 项", report.checks.len()),
                            );
                        }
                        st.tech_status = if failed == 0 {
                            "自检全部通过".to_owned()
                        } else {
                            format!("自检 {failed} 项失败，见下方")
                        };
                        st.tech_lines = technician::overview(
                            &mut st.terminal.core.store,
                            &st.terminal.core.profile,
                            &st.terminal.core.data_dir,
                        );
                        st.tech_lines
                            .extend(report.checks.iter().map(|c| technician::Line {
                                label: c.title.clone(),
                                value: match &c.advice {
                                    Some(a) => format!("{}（{}）", c.detail, a),
                                    None => c.detail.clone(),
                                },
                                warn: c.outcome == crate::ops::selftest::Outcome::Fail,
                            }));
                    }
                    self.refresh_alerts();
                    self.render();
                }
                // A client the citizen agreed may read a code gets the next one shown.
                Report::Scanned(s)
                    if self.state.borrow().session.host_code_waiting() && s.text().is_some() =>
                {
                    self.event(Event::HostCode(s.text().unwrap_or_default()))
                }
                Report::Scanned(crate::terminal::scan::Scanned::Case(id)) => {
                    self.event(Event::Open(Screen::Progress));
                    self.event(Event::ProgressInput(id));
                    self.event(Event::LookUpProgress);
                }
                Report::Scanned(crate::terminal::scan::Scanned::Ykm(token)) => {
                    self.event(Event::YkmScanned(token))
                }
                Report::Scanned(s @ crate::terminal::scan::Scanned::Other(_)) => self.event(
                    Event::ScanUnusable(s.why_unusable().unwrap_or_default().into()),
                ),
                Report::Scanned(crate::terminal::scan::Scanned::Unusable(why)) => {
                    self.event(Event::ScanUnusable(why))
                }
                Report::Ykm(Ok(person)) => self.read_person(person),
                Report::Ykm(Err(why)) => {
                    self.event(Event::IdentifyNote(IdentifyNote::YkmRefused(why)))
                }
                Report::Delivery(DeliveryNews::Notices(n)) => {
                    self.state.borrow_mut().notices = n;
                    self.render();
                }
                // The session counts only this citizen's case.
                Report::Delivery(DeliveryNews::Progress { id, sent, total }) => {
                    self.event(Event::UploadProgress {
                        case_id: id,
                        sent,
                        total,
                    })
                }
                Report::Delivery(DeliveryNews::Offline) => {
                    self.state.borrow_mut().offline = true;
                    self.render();
                }
                Report::Delivery(DeliveryNews::Delivered { id, unified_code }) => {
                    self.state.borrow_mut().offline = false;
                    // The session settles the case it awaits, or updates the one shown.
                    if let Some(unified_code) = unified_code {
                        self.event(Event::Delivered {
                            case_id: id,
                            unified_code,
                        });
                    }
                    self.render();
                }
                Report::DeviceProbed(slot, health) => {
                    self.state.borrow_mut().probing = false;
                    self.record_device(slot, health);
                }
                Report::Printed(result, health) => {
                    if let Some(h) = health {
                        self.record_device("printer", h);
                    }
                    let ticket = self.state.borrow_mut().printing_ticket.take();
                    if let (Some(id), Err(e)) = (ticket, &result) {
                        let said = self.withdraw_unprinted(id, e);
                        let mut st = self.state.borrow_mut();
                        st.print_progress = None;
                        st.printing_receipt = false;
                        st.print_status = said;
                        drop(st);
                        self.render();
                        continue;
                    }
                    let mut licence_ended = None;
                    {
                        let mut st = self.state.borrow_mut();
                        if result.is_err() {
                            st.print_progress = None;
                        }
                        let st = &mut *st;
                        st.printing_receipt = false;
                        st.print_status = if std::mem::take(&mut st.printing_licence) {
                            st.licence_print_failed = result.is_err();
                            let (audit, shown) = match &result {
                                Ok(()) => ("已打印".to_owned(), "已打印，请取走打印件".to_owned()),
                                Err(e) => (
                                    format!("未能打印：{e}"),
                                    format!("未能打印（{e}），请联系工作人员"),
                                ),
                            };
                            audit_licence(&mut st.terminal, &audit);
                            licence_ended = Some(result.is_ok());
                            shown
                        } else {
                            match result {
                                Ok(()) => "回执已打印，请取走回执".into(),
                                Err(e) => format!("回执未能打印（{e}），请记下上面的编号"),
                            }
                        };
                    }
                    if let Some(ok) = licence_ended {
                        self.event(Event::LicencePrintEnded(ok));
                    }
                    self.render();
                }
                Report::PrintProgress(p) => {
                    let mut st = self.state.borrow_mut();
                    // A job that already ended (failed) shows no bar.
                    if st.printing_receipt {
                        st.print_progress = Some(p);
                        drop(st);
                        self.render();
                    }
                }
                Report::Camera(n, news) => {
                    if n == self.state.borrow().camera_started {
                        self.camera_news(news);
                    }
                }
                // The kiosk follows no hall listener (it reads the queue when it issues) and
                // runs no window desk.
                Report::HallChanged | Report::Desk(_) => {}
                Report::PinChecked { staff, ok } => {
                    self.event(Event::TechnicianPinChecked { id: staff, ok });
                }
                Report::VendorMode(change) => self.event(Event::VendorMode(change)),
                Report::Payment(news) => self.payment_news(news),
            }
        }
    }

    /// What the capture page's camera reported.
    pub(super) fn camera_news(&self, news: CameraNews) {
        match news {
            CameraNews::Frame => {
                let frame = {
                    let st = self.state.borrow();
                    let live = matches!(
                        st.session.capture_stage(),
                        Some(session::CaptureStage::Live { .. })
                    );
                    st.camera
                        .as_ref()
                        .and_then(LiveCamera::take_frame)
                        .filter(|_| live)
                };
                let Some(frame) = frame else {
                    return;
                };
                let image = rgb_image(&frame.image);
                {
                    let mut st = self.state.borrow_mut();
                    st.preview = Some(image.clone());
                    st.preview_frame = frame.number;
                }
                // Only the picture changes: set it without rendering the whole page.
                if let Some(w) = self.window.upgrade() {
                    let a = w.global::<ApplyAdapter>();
                    a.set_preview(image);
                    a.set_has_preview(true);
                    a.set_preview_frame(i32::try_from(frame.number).unwrap_or(i32::MAX));
                }
            }
            CameraNews::Photo { material, result } => match result {
                Ok(photo) => {
                    {
                        let mut st = self.state.borrow_mut();
                        st.preview = Some(rgb_image(&photo.preview));
                        st.preview_frame = 0;
                        st.capture_status = "已拍摄，请查看照片是否清楚；不清楚请点「重拍」".into();
                    }
                    self.event(Event::Captured {
                        material,
                        jpeg: photo.jpeg,
                    });
                }
                Err(e) => {
                    self.state.borrow_mut().capture_status = format!("拍摄失败：{e}");
                    self.event(Event::CaptureFailed);
                }
            },
            CameraNews::Failed(why) => {
                {
                    let mut st = self.state.borrow_mut();
                    st.camera = None;
                    st.camera_error = camera_unusable(&why);
                    st.capture_status.clear();
                }
                // A still asked for will not come.
                self.event(Event::CaptureFailed);
                self.render();
            }
        }
    }
}
