//! The generated Slint windows and globals of `ui/`, and the small helpers every app uses to
//! fill them. The **only** `slint::include_modules!()`: the kiosk, the counter and the hall
//! display import their windows from here, never from each other.

use slint::{ModelRc, SharedString, VecModel};

slint::include_modules!();

/// The line printed when there is no display to open a window on.
pub const NO_DISPLAY_MESSAGE: &str = "ykb-terminal: 没有可用的图形显示（未设置 DISPLAY 或 WAYLAND_DISPLAY），无法打开终端界面。无显示器的机器上请用 Xvfb 运行：xvfb-run -a cargo run --release （或先安装 xvfb：apt-get install xvfb）";

/// The process's exit code once a window's event loop ended: success, or what went wrong
/// printed for the technician.
pub fn exit_code(result: Result<(), slint::PlatformError>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("界面运行出错：{e}");
            std::process::ExitCode::from(crate::cli::EXIT_FAILURE)
        }
    }
}

/// A model for a `[T]` property.
pub fn model<T: Clone + 'static>(items: impl IntoIterator<Item = T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from_iter(items))
}

/// A model of strings for a `[string]` property.
pub fn string_model(items: impl Iterator<Item = String>) -> ModelRc<SharedString> {
    model(items.map(SharedString::from))
}

/// An RGB picture for an `image` property.
pub fn rgb_image(img: &image::RgbImage) -> slint::Image {
    slint::Image::from_rgb8(
        slint::SharedPixelBuffer::<slint::Rgb8Pixel>::clone_from_slice(
            img.as_raw(),
            img.width(),
            img.height(),
        ),
    )
}

/// What a window's `Theme` takes from the panel: the smallest touch target (15 mm) in
/// logical pixels, and whether the panel stands upright (keyboards go below the field).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScreenFit {
    pub min_touch: f32,
    pub portrait: bool,
}

/// Sizes a window for the profile's panel (`terminal.screen`; a full-screen terminal takes
/// the display's size, and the window itself follows it into `Theme.portrait`).
pub fn apply_screen(
    window: &slint::Window,
    terminal: &crate::core::config::TerminalSection,
) -> ScreenFit {
    let screen = terminal.panel();
    if let (Some((w, h)), false) = (screen.size(), terminal.fullscreen) {
        window.set_size(slint::LogicalSize::new(w as f32, h as f32));
    }
    ScreenFit {
        min_touch: screen.px_per_mm() * crate::core::config::screen::MIN_TOUCH_MM,
        portrait: screen.size().is_some_and(|(w, h)| h > w),
    }
}

/// Runs `f` once, just after the window's first frame is drawn (winit's first redraw, on
/// the next turn of the event loop): where an app writes its start marker
/// (`core::update::markers`) for the health check after an update.
pub fn on_first_frame(window: &slint::Window, f: impl FnOnce() + 'static) {
    use slint::winit_030::{winit::event::WindowEvent, EventResult, WinitWindowAccessor};
    let mut f = Some(f);
    window.on_winit_window_event(move |_, event| {
        if matches!(event, WindowEvent::RedrawRequested) {
            if let Some(f) = f.take() {
                slint::Timer::single_shot(std::time::Duration::ZERO, f);
            }
        }
        EventResult::Propagate
    });
}

/// The size `ykb-terminal screenshots` draws at when none is asked for (a common 15.6" kiosk
/// panel at 1280×800 logical pixels).
pub const SCREENSHOT_SIZE: (u32, u32) = (1280, 800);

/// A picture's name suffix for its size: `""` for [`SCREENSHOT_SIZE`], else `-WxH`.
pub fn screenshot_suffix(size: (u32, u32)) -> String {
    if size == SCREENSHOT_SIZE {
        String::new()
    } else {
        format!("-{}x{}", size.0, size.1)
    }
}
