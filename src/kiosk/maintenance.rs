//! 维护模式's actions for the technician signed in (the session decides who that is, and
//! when an action is theirs to take): the device lines, the self-test and the log export,
//! each audited.

use super::*;

impl Kiosk {
    /// Reads what the technician's page shows about the terminal (devices, queue, store).
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
            if st.tech_busy {
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
            let Some(id) = st.session.technician().map(str::to_owned) else {
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
