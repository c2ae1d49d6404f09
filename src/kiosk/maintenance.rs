//! 维护模式's actions: the technician's sign-in (throttled, audited), the device lines, the
//! self-test and the log export.

use std::time::Instant;

use super::*;

impl Kiosk {
    /// Checks the technician id and PIN (throttled), audits the attempt, opens the page.
    pub(super) fn technician_sign_in(&self) {
        let result = {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            let pin = std::mem::take(&mut st.tech_pin);
            let id = st.tech_id.trim().to_uppercase();
            let accounts: Vec<(String, String)> = st
                .terminal
                .core
                .profile
                .technician
                .iter()
                .flat_map(|t| {
                    t.accounts
                        .iter()
                        .map(|a| (a.id.clone(), a.pin_hash.clone()))
                })
                .collect();
            let r = st.throttle.attempt(Instant::now(), || {
                crate::core::pin::check(
                    accounts.iter().map(|(a, h)| (a.as_str(), h.as_str())),
                    &id,
                    &pin,
                )
            });
            let who = if crate::core::audit::Actor::technician(&id).is_ok() {
                id.clone()
            } else {
                "unknown".to_owned()
            };
            match &r {
                crate::core::pin::SignIn::Ok => {
                    audit_technician(
                        &mut st.terminal,
                        &who,
                        crate::core::audit::AuditAction::TechnicianLogin,
                        "进入维护模式",
                    );
                    st.technician = Some(who);
                    st.tech_id.clear();
                    st.typing_pin = false;
                }
                crate::core::pin::SignIn::StillPaused { .. } => {}
                _ => audit_technician(
                    &mut st.terminal,
                    &who,
                    crate::core::audit::AuditAction::TechnicianLoginFailed,
                    "维护模式密码错误",
                ),
            }
            st.tech_note = r.message();
            r
        };
        if result == crate::core::pin::SignIn::Ok {
            tracing::info!("technician mode entered");
            self.refresh_technician_lines();
            self.event(Event::TechSignedIn);
        } else {
            self.event(Event::Touch);
            self.render();
        }
    }

    pub(super) fn refresh_technician_lines(&self) {
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        st.tech_lines = technician::overview(
            &mut st.terminal.core.store,
            &st.terminal.core.profile,
            &st.terminal.core.data_dir,
        );
    }

    /// 运行自检: the same self-test as `ykb-terminal selftest`, through the real drivers, on a
    /// worker thread with its own store connection.
    pub(super) fn technician_selftest(&self) {
        let (profile, data_dir, inbox) = {
            let mut st = self.state.borrow_mut();
            if st.tech_busy || st.technician.is_none() {
                return;
            }
            st.tech_busy = true;
            st.tech_status = "正在自检，请稍候…".into();
            (
                st.terminal.core.profile.clone(),
                st.terminal.core.data_dir.clone(),
                st.terminal.inbox.clone(),
            )
        };
        self.event(Event::Touch);
        self.render();
        let spawned = std::thread::Builder::new()
            .name("kiosk-selftest".into())
            .spawn(move || {
                let report = Core::start(profile, &data_dir).map(|mut core| {
                    let opts = crate::ops::selftest::SelftestOptions {
                        card_timeout: Duration::from_secs(5),
                        print: true,
                        sim_out: data_dir.join("selftest"),
                    };
                    crate::ops::selftest::run(&mut core, &opts)
                });
                match report {
                    Ok(r) => inbox.post(Report::Selftest(Box::new(r))),
                    Err(e) => tracing::warn!(error = %e, "self-test could not open the store"),
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "self-test thread not started");
        }
    }

    /// 导出诊断日志: a file under `<data-dir>/exports/` (no personal data), audited.
    pub(super) fn technician_export(&self) {
        {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            let Some(id) = st.technician.clone() else {
                return;
            };
            match technician::export_diagnostics(
                &mut st.terminal.core.store,
                &st.terminal.core.profile,
                &st.terminal.core.data_dir,
            ) {
                Ok(path) => {
                    audit_technician(
                        &mut st.terminal,
                        &id,
                        crate::core::audit::AuditAction::LogExport,
                        "导出诊断日志",
                    );
                    st.tech_status = format!("已导出：{}", path.display());
                }
                Err(e) => st.tech_status = format!("导出失败：{e}"),
            }
        }
        self.event(Event::Touch);
        self.render();
    }
}

/// Appends a technician entry to the audit log (a failure is logged, never shown).
pub(super) fn audit_technician(
    terminal: &mut Terminal,
    id: &str,
    action: crate::core::audit::AuditAction,
    detail: &str,
) {
    let actor = crate::core::audit::Actor::technician(id)
        .unwrap_or_else(|_| crate::core::audit::Actor::system());
    terminal.audit(&actor, action, detail);
}
