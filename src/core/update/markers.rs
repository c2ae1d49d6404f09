//! Start markers — what the health check after an update (`ykb-terminal update health`) waits
//! for: each app (`started.kiosk`, `started.counter`, `started.hall-display`) once its first
//! frame is drawn, the agent `started.agent` at each heartbeat the platform acknowledged, each
//! with the version of the binary that wrote it (`ops_switches`, beside the apps' `activity.*`). [`verdict`] decides,
//! without I/O, whether the markers show this version up and delivering.

use rusqlite::OptionalExtension;

use crate::core::commands::{self, CommandError};
use crate::core::store::Store;

/// The version of this binary, as markers carry it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Switch name prefix of the start markers (`started.kiosk`, `started.agent`).
pub const PREFIX: &str = "started";

/// The app whose first frame the health check awaits on a terminal of `kind`: the kiosk
/// (also on bank and post terminals), the counter, or the hall display.
pub fn app_for(kind: crate::core::config::TerminalKind) -> &'static str {
    use crate::core::config::TerminalKind as K;
    match kind {
        K::Kiosk | K::Bank | K::Post => "kiosk",
        K::Counter => "counter",
        K::HallDisplay => "hall-display",
    }
}

/// One marker: the version that wrote it and when (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    pub version: String,
    pub at: i64,
}

/// Records that `who` (`kiosk`, `agent`) of this version is up now.
pub fn mark(store: &mut Store, who: &str, now: i64) -> Result<(), CommandError> {
    commands::set_switch(store, &format!("{PREFIX}.{who}"), VERSION, None, now)
}

/// [`mark`] now, from an app's UI thread: a failure is logged and the app carries on (the
/// health check then says the first frame is missing).
pub fn mark_now(store: &mut Store, who: &str) {
    if let Err(e) = mark(store, who, jiff::Timestamp::now().as_second()) {
        tracing::warn!(error = %e, app = who, "first-frame marker not recorded");
    }
}

/// The marker `who` last wrote, if any.
pub fn read(store: &mut Store, who: &str) -> Result<Option<Marker>, CommandError> {
    Ok(store
        .conn()
        .query_row(
            "SELECT value, set_at FROM ops_switches WHERE name = ?1",
            [format!("{PREFIX}.{who}")],
            |r| {
                Ok(Marker {
                    version: r.get(0)?,
                    at: r.get(1)?,
                })
            },
        )
        .optional()?)
}

/// Whether the markers show `version` healthy since `since`: the UI (when one is checked)
/// drew its first frame as `version` at or after `since`, and the agent had a heartbeat
/// acknowledged at or after `since`. `Err` says, in words, what is still missing.
pub fn verdict(
    version: &str,
    since: i64,
    ui: Option<(&str, Option<&Marker>)>,
    agent: Option<&Marker>,
) -> Result<(), String> {
    if let Some((app, marker)) = ui {
        match marker {
            None => return Err(format!("{app} 界面尚未绘出首帧")),
            Some(m) if m.at < since => return Err(format!("{app} 界面自更新后尚未重新绘出首帧")),
            Some(m) if m.version != version => {
                return Err(format!(
                    "{app} 界面绘出首帧的是版本 {}，不是 {version}",
                    m.version
                ))
            }
            Some(_) => {}
        }
    }
    match agent {
        // The agent runs the old binary until the package restarts it (postinst).
        Some(m) if m.version != version => Err(format!(
            "代理程序仍在运行版本 {}，未重启到 {version}",
            m.version
        )),
        Some(m) if m.at >= since => Ok(()),
        _ => Err("代理程序自更新后尚无被平台确认的心跳".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(version: &str, at: i64) -> Marker {
        Marker {
            version: version.into(),
            at,
        }
    }

    #[test]
    fn healthy_only_with_a_new_first_frame_of_this_version_and_a_heartbeat_since() {
        let (v, since) = ("1.4.0", 1000);
        let agent = m(v, 1010);
        assert_eq!(
            verdict(v, since, Some(("kiosk", Some(&m(v, 1005)))), Some(&agent)),
            Ok(())
        );
        // The UI not restarted since, or an old binary drawing.
        assert!(verdict(v, since, Some(("kiosk", None)), Some(&agent))
            .unwrap_err()
            .contains("尚未绘出首帧"));
        assert!(
            verdict(v, since, Some(("kiosk", Some(&m(v, 999)))), Some(&agent))
                .unwrap_err()
                .contains("尚未重新绘出")
        );
        assert!(verdict(
            v,
            since,
            Some(("kiosk", Some(&m("1.3.0", 1005)))),
            Some(&agent)
        )
        .unwrap_err()
        .contains("1.3.0"));
        // No acknowledged heartbeat since the update.
        assert!(verdict(
            v,
            since,
            Some(("kiosk", Some(&m(v, 1005)))),
            Some(&m(v, 990))
        )
        .is_err());
        assert!(verdict(v, since, None, None).is_err());
        // No UI to check (a counter): the agent alone.
        assert_eq!(verdict(v, since, None, Some(&agent)), Ok(()));
        // An agent still on the old binary (not restarted by the package) is not healthy.
        assert!(verdict(v, since, None, Some(&m("1.3.0", 1010)))
            .unwrap_err()
            .contains("1.3.0"));
    }
}
