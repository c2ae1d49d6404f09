//! The hall services at the kiosk: 取号 (a ticket from this terminal's lease, printed),
//! 办件进度查询 and 呼叫工作人员.

use super::*;
use crate::core::ticketing::HallQueue;

impl Kiosk {
    /// 取号: a number from this terminal's lease, the ticket row and its event in one
    /// transaction, as the session set it up (绿色通道, 预约签到 code); the session then has
    /// it printed.
    pub(super) fn issue_ticket(&self, service: String, green: bool, appointment: Option<String>) {
        let issued = {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            let quota = st.terminal.core.quota();
            match &st.terminal.core.profile.ticketing {
                None => Err(crate::core::ticketing::TicketError::NotConfigured),
                Some(cfg) => {
                    let req = crate::core::ticketing::IssueRequest {
                        // One tap, one ticket: the key is made here, once per tap.
                        tap: Some(uuid::Uuid::now_v7()),
                        service,
                        green,
                        id_number: st.session.person().map(|p| p.id_number.clone()),
                        appointment: appointment.map(|code| crate::core::ticketing::Appointment {
                            code,
                            date: crate::core::ticketing::hall_date(jiff::Timestamp::now()),
                        }),
                    };
                    let now = jiff::Timestamp::now();
                    if cfg.queue.is_some() {
                        // The hall's shared queue (`ticketing.queue`); offline from this
                        // terminal's lease while it cannot be reached.
                        crate::core::hall::offline::issue(
                            &mut st.hall,
                            &mut st.terminal.core.store,
                            cfg,
                            &st.terminal.core.profile.terminal.name,
                            &req,
                            now,
                        )
                    } else {
                        crate::core::ticketing::issue(
                            &mut st.terminal.core.store,
                            &st.terminal.core.key,
                            quota,
                            cfg,
                            &req,
                            now,
                        )
                    }
                }
            }
        };
        match issued {
            Err(crate::core::ticketing::TicketError::Hall(why)) => {
                // For staff (the log, the alert strip); the citizen is told what to do.
                tracing::warn!(error = %why, "ticket not issued: hall database");
                self.event(Event::TicketRefused(
                    "取号服务暂时中断，请稍候再试，或到咨询台取号".into(),
                ));
            }
            Err(e) => {
                tracing::info!(error = %e, "ticket not issued");
                self.event(Event::TicketRefused(e.to_string()));
            }
            Ok(t) => {
                if t.offline {
                    // For staff: the citizen's ticket is valid and joins the hall queue
                    // when the hall database is back.
                    tracing::warn!(number = %t.number, "ticket issued offline: hall database unreachable");
                }
                tracing::info!(number = %t.number, "ticket issued");
                self.state.borrow().terminal.wake_delivery();
                self.event(Event::TicketIssued(Box::new(t)));
            }
        }
    }

    /// Offers the tickets issued offline to the hall database again, every minute and only
    /// between citizens (a connection attempt may take its timeout on this thread).
    pub(super) fn replay_offline_tickets(&self, now: std::time::Instant) {
        {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            if now.saturating_duration_since(st.hall_replayed) < std::time::Duration::from_secs(60)
                || st.session.current() != &Screen::Home
                || st.session.holds_personal_data()
            {
                return;
            }
            st.hall_replayed = now;
            let Some(cfg) = st.terminal.core.profile.ticketing.clone() else {
                return;
            };
            if cfg.queue.is_none()
                || crate::core::hall::offline::pending(&mut st.terminal.core.store).unwrap_or(0)
                    == 0
            {
                return;
            }
            let replayed = st.hall.get(&cfg).and_then(|db| {
                crate::core::hall::offline::replay(
                    &mut crate::core::hall::Hall {
                        db,
                        store: &mut st.terminal.core.store,
                        cfg: &cfg,
                        terminal: &st.terminal.core.profile.terminal.name,
                    },
                    jiff::Timestamp::now(),
                )
            });
            if let Err(e) = replayed {
                tracing::warn!(error = %e, "offline tickets not replayed yet");
            }
        }
        self.refresh_alerts();
    }

    /// Prints the ticket just issued (取号凭条).
    pub(super) fn print_ticket(&self) {
        let receipt = {
            let st = self.state.borrow();
            st.session
                .issued()
                .map(|t| ticket::ticket_receipt(t, &st.terminal.core.profile.terminal.name))
        };
        if let Some(receipt) = receipt {
            self.print(receipt);
            let mut st = self.state.borrow_mut();
            if st.printing_receipt {
                st.printing_ticket = st.session.issued().map(|t| t.id);
            }
        }
    }

    /// The 取号凭条 of `id` could not be printed: the ticket leaves the queue (已作废) instead
    /// of waiting as a ghost nobody holds. What the citizen is told.
    pub(super) fn withdraw_unprinted(&self, id: uuid::Uuid, why: &str) -> String {
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        let Some(cfg) = st.terminal.core.profile.ticketing.clone() else {
            return format!("取号凭条未能打印（{why}），请到咨询台取号");
        };
        let now = jiff::Timestamp::now();
        let withdrawn = if cfg.queue.is_some() {
            match crate::core::hall::offline::withdraw_offline(&mut st.terminal.core.store, id) {
                Ok(true) => Ok(()),
                Ok(false) => st.hall.get(&cfg).and_then(|db| {
                    crate::core::hall::Hall {
                        db,
                        store: &mut st.terminal.core.store,
                        cfg: &cfg,
                        terminal: &st.terminal.core.profile.terminal.name,
                    }
                    .withdraw(id, now)
                    .map(|_| ())
                }),
                Err(e) => Err(e),
            }
        } else {
            st.terminal.core.desk(&cfg, 0).withdraw(id, now).map(|_| ())
        };
        match withdrawn {
            Ok(()) => {
                tracing::warn!(ticket = %id, "ticket withdrawn: its print failed");
                format!("取号凭条未能打印（{why}），此号已作废，请重新取号或到咨询台")
            }
            Err(e) => {
                // For staff: a number in the queue that nobody holds.
                tracing::error!(ticket = %id, error = %e, "ticket not printed and not withdrawn");
                format!("取号凭条未能打印（{why}），请到咨询台")
            }
        }
    }

    /// 办件进度查询: the case stub this terminal keeps for `number`.
    pub(super) fn look_up_progress(&self, number: &str) {
        let mut delivered = None;
        let (title, detail) = {
            let mut st = self.state.borrow_mut();
            match outbox::case_stub(&mut st.terminal.core.store, number) {
                Ok(Some(stub)) => {
                    delivered = stub.unified_code.clone();
                    progress_text(&stub)
                }
                Ok(None) => (
                    "没有找到这个编号".to_owned(),
                    "本机只能查到在本机提交的办件；其他办件请在渝快办APP或到窗口查询".to_owned(),
                ),
                Err(e) => ("暂时查不到".to_owned(), e.to_string()),
            }
        };
        self.event(Event::ProgressAnswer { title, detail });
        // The platform knows the rest (待缴费 / 已缴费): asked off the UI thread.
        if let Some(code) = delivered {
            self.look_up_case_progress(code);
        }
    }

    /// 呼叫工作人员: an event to the platform (and the hall's staff); the session says so to
    /// the citizen.
    pub(super) fn call_staff(&self) {
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        let body = serde_json::json!({
            "terminal": st.terminal.core.profile.terminal.name,
            "site": st.terminal.core.profile.terminal.site,
            "at": jiff::Timestamp::now().to_string(),
        });
        if let Err(e) = st
            .terminal
            .enqueue_event("staff_call", &body, jiff::Timestamp::now())
        {
            tracing::warn!(error = %e, "staff call not stored");
        }
        tracing::info!("citizen called for staff");
    }
}

/// What the progress page says about a case this terminal holds.
pub(super) fn progress_text(stub: &outbox::CaseStub) -> (String, String) {
    use crate::core::domain::CaseStatus;
    let status = [
        CaseStatus::Queued,
        CaseStatus::Submitted,
        CaseStatus::Accepted,
        CaseStatus::Rejected,
        CaseStatus::Completed,
    ]
    .into_iter()
    .find(|s| s.as_str() == stub.status)
    .map_or_else(|| stub.status.clone(), |s| s.name_zh().to_owned());
    let title = match &stub.unified_code {
        Some(code) => format!("办件编号 {code}"),
        None => format!("本机编号 {}", stub.seq),
    };
    (
        title,
        format!("状态：{status}（更新于 {}）", short_time(&stub.updated_at)),
    )
}

/// `2026-11-27T05:41:12.345Z` as hall time `2026-11-27 13:41`.
pub(super) fn short_time(at: &str) -> String {
    at.parse::<jiff::Timestamp>()
        .map(|t| {
            t.to_zoned(crate::core::ticketing::hall_tz())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| at.to_owned())
}
