//! The app switch: the **only** place that picks the citizen kiosk, the counter or the hall
//! display by the profile's `terminal.kind`. The apps themselves never import each other.

use std::process::ExitCode;

use crate::cli::{self, Cli};
use crate::core::config::TerminalKind;
use crate::ui::NO_DISPLAY_MESSAGE;

/// Whether a display server is reachable at all (Linux: X11 or Wayland).
pub fn display_available() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

/// Runs the terminal's UI for the CLI's profile until the window closes.
pub fn run_from_cli(cli: &Cli) -> ExitCode {
    // A bad profile is reported before anything else, and nothing is opened for it.
    let profile = match cli::load_profile(cli) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if !display_available() {
        eprintln!("{NO_DISPLAY_MESSAGE}");
        return ExitCode::from(cli::EXIT_FAILURE);
    }
    match profile.terminal.kind {
        TerminalKind::Counter => crate::counter::run_counter(cli, profile),
        TerminalKind::HallDisplay => crate::counter::run_hall_display(cli, profile),
        _ => crate::kiosk::run(cli, profile),
    }
}

/// `ykb-terminal screenshots --out DIR [--size WxH]`: every kiosk, counter and hall picture.
pub fn run_screenshots(out: &std::path::Path, size: (u32, u32)) -> ExitCode {
    // The counter's windows are drawn on the platform the kiosk's pictures set up.
    match crate::kiosk::screenshots::render_all(out, size).and_then(|mut files| {
        files.extend(crate::counter::screenshots::render_all(out, size)?);
        Ok(files)
    }) {
        Ok(files) => {
            println!("已生成 {} 张截图：{}", files.len(), out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("截图失败：{e}");
            ExitCode::from(cli::EXIT_FAILURE)
        }
    }
}
