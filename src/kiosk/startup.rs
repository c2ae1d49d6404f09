//! Start-up measurement for the bench (issue 6): with `YKB_BENCH_FIRST_FRAME=1` in the
//! environment, the kiosk prints one line once its first frame has been drawn and leaves.
//!
//! The line is `YKB_FIRST_FRAME {"elapsed_ms":…,"vm_rss_kib":…,"vm_hwm_kib":…}`:
//! milliseconds since the process started (from `/proc/self/stat`, 10 ms resolution) and the
//! resident memory now and at its peak (`/proc/self/status`). `cargo bench -- startup` runs
//! the release binary this way on the demo profile under Xvfb. Hidden from `--help`: it is a
//! measuring aid, not a way to run a terminal.

use std::io::Write;
use std::time::Duration;

use slint::ComponentHandle;

use super::AppWindow;

/// The environment variable that asks for the first-frame line.
pub const FIRST_FRAME_ENV: &str = "YKB_BENCH_FIRST_FRAME";

/// The tag that starts the line, for the bench to find it among other output.
pub const FIRST_FRAME_TAG: &str = "YKB_FIRST_FRAME";

/// When [`FIRST_FRAME_ENV`] is set (and not `0`), arranges for the first drawn frame to print
/// the line and quit the event loop. Does nothing otherwise.
pub fn exit_after_first_frame_if_asked(window: &AppWindow) {
    if std::env::var_os(FIRST_FRAME_ENV).is_none_or(|v| v.is_empty() || v == "0") {
        return;
    }
    let mut done = false;
    // Renderers with a notifier (FemtoVG, Skia) say when a frame is finished.
    let notified = window.window().set_rendering_notifier(move |state, _| {
        if matches!(state, slint::RenderingState::AfterRendering) && !done {
            done = true;
            // Leave the rendering callback before quitting.
            slint::Timer::single_shot(Duration::ZERO, report_and_quit);
        }
    });
    if notified.is_ok() {
        return;
    }
    // The software renderer has no notifier: it draws and presents while handling winit's
    // RedrawRequested, so a zero timer armed at that event runs after the first frame is
    // on the display.
    use slint::winit_030::{winit::event::WindowEvent, EventResult, WinitWindowAccessor};
    let mut armed = false;
    window.window().on_winit_window_event(move |_, event| {
        if matches!(event, WindowEvent::RedrawRequested) && !armed {
            armed = true;
            slint::Timer::single_shot(Duration::ZERO, report_and_quit);
        }
        EventResult::Propagate
    });
}

fn report_and_quit() {
    let (rss, hwm) = memory_kib();
    let elapsed = since_process_start().map_or(-1.0, |d| d.as_secs_f64() * 1e3);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{FIRST_FRAME_TAG} {{\"elapsed_ms\":{elapsed:.1},\"vm_rss_kib\":{rss},\"vm_hwm_kib\":{hwm}}}"
    );
    let _ = out.flush();
    let _ = slint::quit_event_loop();
}

/// `VmRSS` and `VmHWM` of this process in KiB (0 where unknown).
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Time since the kernel started this process: `starttime` of `/proc/self/stat` (clock ticks
/// since boot) against `CLOCK_BOOTTIME`.
fn since_process_start() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    // `starttime` is field 22; `rest` starts at field 3.
    let ticks: u64 = rest.split_whitespace().nth(19)?.parse().ok()?;
    // SAFETY: sysconf and clock_gettime only write the timespec we pass.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    if hz <= 0 || unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut now) } != 0 {
        return None;
    }
    let now = Duration::new(now.tv_sec as u64, now.tv_nsec as u32);
    now.checked_sub(Duration::from_secs_f64(ticks as f64 / hz as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_age_and_memory_are_read_from_proc() {
        let age = since_process_start().expect("age from /proc");
        assert!(age < Duration::from_secs(24 * 3600), "{age:?}");
        let (rss, hwm) = memory_kib();
        assert!(rss > 0 && hwm >= rss, "rss {rss} hwm {hwm}");
    }
}
