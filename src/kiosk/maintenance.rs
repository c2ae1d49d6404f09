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

impl Kiosk {
    /// 更换纸卷: the technician put in a new receipt roll; the paper counter starts again
    /// (audited with the technician's id).
    pub(super) fn technician_replace_paper(&self) {
        {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            let Some(id) = st.session.technician().map(str::to_owned) else {
                return;
            };
            let actor = crate::core::audit::Actor::technician(&id)
                .unwrap_or_else(|_| crate::core::audit::Actor::system());
            st.tech_status =
                match crate::core::consumables::replace_roll(&mut st.terminal.core.store, &actor) {
                    Ok(r) => format!(
                        "已记录更换纸卷（累计更换 {} 卷），纸量计数已清零",
                        r.rolls_replaced
                    ),
                    Err(e) => format!("未能记录更换纸卷：{e}"),
                };
        }
        self.refresh_technician_lines();
        self.render();
    }

    /// Reads what operations asked by remote command (every `OPS_CHECK`) and hands it to
    /// the session, which decides when to act (maintenance once the citizen has finished, a
    /// restart only between citizens).
    pub(super) fn follow_operations(&self, now: Instant) {
        let asked = {
            let mut st = self.state.borrow_mut();
            if now.saturating_duration_since(st.ops_checked) < OPS_CHECK {
                return;
            }
            st.ops_checked = now;
            say_activity(&mut st, now);
            let store = &mut st.terminal.core.store;
            match (
                crate::core::commands::maintenance_requested(store),
                crate::core::commands::restart_requested(store),
            ) {
                (Ok(m), Ok(r)) => Some((m, r.is_some())),
                (Err(e), _) | (_, Err(e)) => {
                    tracing::warn!(error = %e, "operations switches unreadable");
                    None
                }
            }
        };
        if let Some((maintenance, restart)) = asked {
            self.event_at(
                Event::Operations {
                    maintenance,
                    restart,
                },
                now,
            );
        }
    }

    /// Operations asked for a restart and nobody is being served: the request is taken and
    /// the event loop ends (systemd's `Restart=always` starts the kiosk again).
    pub(super) fn restart_now(&self) {
        let go = crate::core::commands::restart_between_citizens(
            &mut self.state.borrow_mut().terminal.core.store,
            "kiosk",
        );
        if go {
            let _ = slint::quit_event_loop();
        }
    }
}

/// Tells the store what the kiosk is doing (a citizen past the home screen, a case being
/// submitted) when it changed, and every `ACTIVITY_REFRESH_SECS` anyway: the agent installs
/// updates only while it says idle (`core::commands::activity`).
fn say_activity(st: &mut State, now: Instant) {
    let activity = crate::core::update::Activity {
        citizen_present: !st.session.between_citizens(),
        submitting: st.session.submitting(),
    };
    crate::core::commands::keep_activity_said(
        &mut st.terminal.core.store,
        "kiosk",
        &mut st.activity_said,
        activity,
        now,
    );
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
