//! The built-in health check after an install (`ykb-terminal update health`), the default
//! when `[update] health_command` is absent: it asks the app (kiosk, counter or hall display)
//! to restart between citizens (the `restart` switch the apps follow; systemd starts the new
//! binary), then waits until the store's start markers (`core::update::markers`) show this
//! version's app drew its first frame and the agent had a heartbeat acknowledged since the check
//! began. Exit 0 only then; otherwise, at the deadline, one line saying what is missing.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::core::commands;
use crate::core::store::Store;
use crate::core::update::markers;

/// How often the markers are read while waiting.
const POLL: Duration = Duration::from_millis(500);

/// Waits up to `deadline` for `markers::verdict` to hold on the store at `store_path`.
/// `ui` names the app whose first frame is awaited (`kiosk`, `counter`, `hall-display`), or
/// none (a machine without a UI: only the agent is checked). `Err` is the sentence.
pub fn wait(store_path: &Path, ui: Option<&str>, deadline: Duration) -> Result<(), String> {
    let mut store = Store::open(store_path)
        .map_err(|e| format!("无法打开本机数据库 {}：{e}", store_path.display()))?;
    let since = jiff::Timestamp::now().as_second();
    if ui.is_some() {
        // The app running now may be the old binary: it restarts once nobody is served.
        commands::set_switch(
            &mut store,
            commands::SWITCH_RESTART,
            "requested",
            None,
            since,
        )
        .map_err(|e| format!("无法请求界面重启：{e}"))?;
    }
    let started = Instant::now();
    loop {
        let read = |store: &mut Store, who: &str| {
            markers::read(store, who).map_err(|e| format!("启动标记无法读取：{e}"))
        };
        let shown = match ui {
            Some(app) => Some((app, read(&mut store, app)?)),
            None => None,
        };
        let agent = read(&mut store, "agent")?;
        let verdict = markers::verdict(
            markers::VERSION,
            since,
            shown.as_ref().map(|(app, m)| (*app, m.as_ref())),
            agent.as_ref(),
        );
        match verdict {
            Ok(()) => return Ok(()),
            Err(missing) if started.elapsed() >= deadline => {
                return Err(format!(
                    "{} 秒内未通过健康检查：{missing}",
                    deadline.as_secs()
                ))
            }
            Err(_) => std::thread::sleep(POLL),
        }
    }
}
