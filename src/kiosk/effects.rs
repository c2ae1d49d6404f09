//! What the kiosk does when the session says so: the search, the camera, the case into the
//! outbox, the receipt and the e-licence copy to the printer, the 好差评 event — each through
//! the terminal layer, never from a page controller.

use std::time::Instant;

use slint::ComponentHandle;

use super::*;

impl Kiosk {
    /// Runs the camera's 渝快码 reader while (and only while) the identify page waits for
    /// someone.
    pub(super) fn sync_qr_camera(&self) {
        let mut st = self.state.borrow_mut();
        if st.session.current() != &Screen::Identify || st.session.person().is_some() {
            st.qr_camera = None;
        } else if st.qr_camera.is_none() {
            let devices = &st.terminal.core.profile.devices;
            if let Some(source) =
                crate::terminal::scan::CameraScan::source(&devices.camera, &devices.document_camera)
            {
                let inbox = st.terminal.inbox.clone();
                match crate::terminal::scan::CameraScan::start(source, move |s| {
                    inbox.post(Report::Scanned(s))
                }) {
                    Ok(c) => st.qr_camera = Some(c),
                    Err(e) => tracing::warn!(error = %e, "camera 渝快码 reader not started"),
                }
            }
        }
        let on = st.qr_camera.is_some();
        drop(st);
        if let Some(w) = self.window.upgrade() {
            w.global::<IdentifyAdapter>().set_ykm_camera(on);
        }
    }

    /// Starts, pauses or stops the capture page's camera as the session wants it. The camera
    /// thread is stopped (and joined) as soon as the page is left or the session wiped.
    pub(super) fn sync_camera(&self) {
        let mut st = self.state.borrow_mut();
        if !st.session.camera_wanted() {
            if st.camera.take().is_some() {
                // What the stopped camera posted before it was joined is stale now.
                st.camera_started += 1;
                tracing::debug!("camera stopped");
            }
            st.preview = None;
            st.preview_frame = 0;
            st.camera_error.clear();
            return;
        }
        let live = matches!(
            st.session.capture_stage(),
            Some(session::CaptureStage::Live { .. })
        );
        if st.camera.is_none() && st.camera_error.is_empty() {
            st.camera_started += 1;
            let started = st.camera_started;
            let inbox = st.terminal.inbox.clone();
            let devices = &st.terminal.core.profile.devices;
            let camera =
                crate::terminal::camera::camera_source(&devices.document_camera, &devices.camera)
                    .and_then(|source| {
                        LiveCamera::start(source, move |news| {
                            inbox.post(Report::Camera(started, news))
                        })
                    });
            match camera {
                Ok(c) => st.camera = Some(c),
                Err(e) => st.camera_error = camera_unusable(&e),
            }
        }
        if let Some(c) = &st.camera {
            c.set_live(live);
        }
        if live && st.preview_frame == 0 {
            // The still of the last material gives way to the live picture.
            st.preview = None;
        }
    }

    /// "拍照": the camera takes the still of the material shown live.
    pub(super) fn shoot(&self) {
        let failed = {
            let mut st = self.state.borrow_mut();
            let material = st
                .session
                .capture_stage()
                .map(|c| c.material().to_owned())
                .unwrap_or_default();
            st.capture_status = "正在拍摄，请保持材料不动…".into();
            match &st.camera {
                Some(c) if c.shoot(material) => false,
                _ => {
                    st.capture_status.clear();
                    true
                }
            }
        };
        if failed {
            self.event(Event::CaptureFailed);
        } else {
            self.render();
        }
    }

    /// Searches the catalogue for `query`: on the search thread (its answer comes through
    /// the inbox), or here when there is none.
    pub(super) fn search(&self, query: String) {
        let hits = {
            let mut st = self.state.borrow_mut();
            if let Some(searcher) = &st.searcher {
                searcher.ask(&query);
                return;
            }
            crate::terminal::search::search_now(st.terminal.core.store.conn(), &query, RESULT_LIMIT)
        };
        self.event(Event::Found { query, hits });
    }

    /// Fetches the printable copy of the licence just chosen, off the UI thread.
    pub(super) fn fetch_licence_copy(&self) {
        let st = self.state.borrow();
        let (Some(person), Some(copy)) = (st.session.person(), st.session.licence_copy()) else {
            return;
        };
        let licence_type = copy.licence_type().to_owned();
        let Some(platform) = st.terminal.platform.clone() else {
            drop(st);
            self.event(Event::LicenceCopy {
                licence_type,
                result: Err(
                    "暂时连不上政务服务平台，电子证照打印需要网络，请稍后再试或到窗口办理".into(),
                ),
            });
            return;
        };
        let inbox = st.terminal.inbox.clone();
        let id_number = person.id_number.expose().to_owned();
        let asked = licence_type.clone();
        crate::terminal::licences::fetch_licence_copy(
            platform,
            id_number,
            licence_type,
            move |result| {
                inbox.post(Report::LicenceCopy {
                    licence_type: asked,
                    result,
                })
            },
        );
    }

    /// Fetches and checks the certificate just chosen (证明开具), off the UI thread.
    pub(super) fn fetch_certificate(&self, task_code: String, title: String) {
        let st = self.state.borrow();
        let Some(person) = st.session.person() else {
            return;
        };
        let Some(platform) = st.terminal.platform.clone() else {
            drop(st);
            self.event(Event::CertificateReady {
                title,
                result: Err(
                    "暂时连不上政务服务平台，证明开具需要网络，请稍后再试或到窗口办理".into(),
                ),
            });
            return;
        };
        let inbox = st.terminal.inbox.clone();
        let id_number = person.id_number.expose().to_owned();
        crate::terminal::licences::fetch_certificate(
            platform,
            id_number,
            task_code,
            move |result| inbox.post(Report::Certificate { title, result }),
        );
    }

    /// "确认打印": the copy goes to the printer off the UI thread — a certificate, and an
    /// e-licence copy on a terminal with one, to the A4 printer through CUPS (已打印 only once
    /// CUPS reports the job completed); otherwise the e-licence copy to the receipt printer.
    /// The outcome is audited when the printer answers.
    pub(super) fn print_licence(&self) {
        enum Job {
            Receipt(ykb_drivers::escpos::Receipt),
            A4(String, Result<Vec<u8>, String>),
        }
        let job = {
            let st = self.state.borrow();
            let terminal_id = st
                .terminal
                .platform
                .as_ref()
                .and_then(|p| p.client.credentials())
                .map_or_else(
                    || st.terminal.core.profile.terminal.site.clone(),
                    |c| c.device_id,
                );
            let name = &st.terminal.core.profile.terminal.name;
            let a4 = st.terminal.document_printer.is_some();
            match st.session.licence_copy() {
                Some(LicenceCopy::Certificate(c)) => Job::A4(c.title.clone(), Ok(c.pdf.clone())),
                Some(LicenceCopy::Ready(doc)) if a4 => {
                    let page = licence::licence_a4(doc, name, &terminal_id, jiff::Timestamp::now());
                    let pdf = ykb_drivers::cups::pdf::render(&page, crate::fonts::UI_FONT)
                        .map_err(|e| e.to_string());
                    Job::A4(page.title, pdf)
                }
                Some(LicenceCopy::Ready(doc)) => Job::Receipt(licence::licence_receipt(
                    doc,
                    name,
                    &terminal_id,
                    jiff::Timestamp::now(),
                )),
                _ => return,
            }
        };
        let inbox = self.state.borrow().terminal.inbox.clone();
        let refused = {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            st.printing_receipt = false;
            match job {
                Job::A4(title, pdf) => match (&st.terminal.document_printer, pdf) {
                    (None, _) => Some("本机没有 A4 打印机，不能打印证明，请到窗口办理".to_owned()),
                    (Some(_), Err(e)) => Some(format!("打印件生成失败（{e}），请到窗口办理")),
                    (Some(p), Ok(pdf)) => {
                        st.printing_licence = true;
                        st.licence_print_failed = false;
                        let progress = inbox.clone();
                        p.print(
                            title,
                            pdf,
                            move |p| progress.post(Report::DocumentProgress(p)),
                            move |r| inbox.post(Report::Printed(r.map(|_| ()), None)),
                        );
                        st.print_status = "正在用 A4 打印机打印，请稍候…".into();
                        None
                    }
                },
                Job::Receipt(receipt) => match &st.terminal.printer {
                    None => Some("本机没有打印机，不能打印证照，请到窗口办理".to_owned()),
                    Some(p) => {
                        st.printing_licence = true;
                        st.licence_print_failed = false;
                        p.print(receipt, move |r, h| inbox.post(Report::Printed(r, h)));
                        st.print_status = "正在打印，请稍候…".into();
                        None
                    }
                },
            }
        };
        if let Some(words) = refused {
            {
                let mut st = self.state.borrow_mut();
                let st = &mut *st;
                st.licence_print_failed = true;
                audit_licence(&mut st.terminal, &format!("未能打印：{words}"));
                st.print_status = words;
            }
            self.event(Event::LicencePrintEnded(false));
        }
        self.render();
    }

    /// "确认提交": the case, its photos and its outbox row in one transaction (a local
    /// SQLite write); then the delivery worker is woken and the done page waits briefly for
    /// the platform's unified code before it says 已暂存.
    pub(super) fn store_case(&self, now: Instant) {
        let (result, delivering) = {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            let result = match st.session.errand().map(|e| {
                let mut case = crate::errand::case::new_case(&e, st.terminal.core.catalog.version);
                // 手写签名: its PNG and strokes ride the case, sealed with the rest.
                crate::errand::signature::attach(&mut case, st.session.signature_strokes());
                case
            }) {
                None => Err("申请信息不完整，请重新办理".to_owned()),
                Some(case) => st
                    .terminal
                    .enqueue_case(case, jiff::Timestamp::now())
                    .map_err(|e| e.to_string()),
            };
            (result, st.terminal.delivery.is_some())
        };
        match result {
            Err(reason) => {
                tracing::warn!(%reason, "case not stored");
                self.event(Event::CaseNotStored { reason });
            }
            Ok(accepted) => {
                tracing::info!(case = %accepted.id, seq = accepted.seq, "case stored in the outbox");
                self.event(Event::CaseStored {
                    case_id: accepted.id.to_string(),
                    local_number: accepted.seq.to_string(),
                    answer_by: delivering.then(|| now + crate::terminal::delivery::SUBMIT_GRACE),
                });
            }
        }
    }

    /// Prints the receipt of the stored case (again, for 重新打印回执).
    pub(super) fn print_receipt(&self) {
        let receipt = {
            let st = self.state.borrow();
            receipts::case_receipt(
                &st.session,
                &st.terminal.core.profile.terminal.name,
                jiff::Timestamp::now(),
            )
        };
        if let Some(receipt) = receipt {
            self.print(receipt);
        }
    }

    /// Prints `receipt` off the UI thread; the done and ticket pages say how it went.
    pub(super) fn print(&self, receipt: ykb_drivers::escpos::Receipt) {
        let inbox = self.state.borrow().terminal.inbox.clone();
        let mut st = self.state.borrow_mut();
        st.print_progress = None;
        st.printing_ticket = None;
        st.printing_receipt = st.terminal.printer.is_some();
        st.print_status = match &st.terminal.printer {
            None => "本机没有回执打印机，请记下上面的编号".into(),
            Some(p) => {
                let progress_inbox = inbox.clone();
                p.print_with_progress(
                    receipt,
                    move |p| progress_inbox.post(Report::PrintProgress(p)),
                    move |r, h| inbox.post(Report::Printed(r, h)),
                );
                "正在打印回执…".into()
            }
        };
        drop(st);
        self.render();
    }

    /// 提交评价 (the session, which decided it could be sent, has ended): queued through the
    /// outbox like a case.
    pub(super) fn send_evaluation(
        &self,
        level: EvaluationLevel,
        reasons: &[String],
        case_id: Option<String>,
        task_code: Option<String>,
    ) {
        let mut st = self.state.borrow_mut();
        let body = crate::errand::case::evaluation_event(
            case_id.as_deref(),
            task_code.as_deref(),
            level,
            reasons,
            st.terminal.core.profile.terminal.kind.as_str(),
            jiff::Timestamp::now(),
        );
        // An evaluation that cannot be stored is not worth keeping the citizen for.
        if let Err(e) = st
            .terminal
            .enqueue_event("evaluation", &body, jiff::Timestamp::now())
        {
            tracing::warn!(error = %e, "evaluation not stored");
        }
    }
}

/// What the camera panel says when the camera cannot be used: the citizen carries on.
pub(super) fn camera_unusable(why: &str) -> String {
    format!("摄像头暂时不能使用（{why}）。请点「下一步」继续办理，没拍的材料请带到窗口")
}

/// Appends a 证照打印 entry to the audit log: the terminal acted for a citizen it does not
/// name; `detail` says how it went (a failure is logged, never shown).
pub(super) fn audit_licence(terminal: &mut Terminal, detail: &str) {
    terminal.audit(
        &crate::core::audit::Actor::system(),
        crate::core::audit::AuditAction::LicencePrinted,
        &format!("证照打印：{detail}"),
    );
}
