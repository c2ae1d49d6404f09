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

/// Path commands for a pad's strokes ("M x y L x y …", in the pad's 1024 box) for a Slint
/// `Path`; a lone point is drawn as a dot. The kiosk's handwriting and signature pads and the
/// counter's evaluation pad draw their ink with it.
pub fn ink_path<'a>(strokes: impl Iterator<Item = &'a Vec<[i32; 2]>>) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for s in strokes {
        for (i, [x, y]) in s.iter().enumerate() {
            let _ = write!(out, "{} {x} {y} ", if i == 0 { "M" } else { "L" });
        }
        if let [[x, y]] = s.as_slice() {
            let _ = write!(out, "L {} {y} ", x + 1);
        }
    }
    out.trim_end().to_owned()
}

/// `data` as a QR image for the screen (black on white, quiet zone included), drawn as the
/// receipt printer draws it; an empty image when it does not fit a symbol.
pub fn qr_image(data: &str) -> slint::Image {
    use ykb_drivers::escpos::canvas::qr_bitmap;
    use ykb_drivers::escpos::encode::QrEcLevel;
    match qr_bitmap(data.as_bytes(), 8, QrEcLevel::M) {
        Some(bmp) => rgb_image(&image::DynamicImage::ImageLuma8(bmp.to_gray()).to_rgb8()),
        None => slint::Image::default(),
    }
}

/// Fills a `PaymentAdapter` (`ui/pages/payment.slint`) with a case's fee and where its
/// payment stands (`errand::payment`): the amount, items, payee, the QR while pending and
/// its countdown at `now`, then how it ended. The kiosk's 缴费 page and the counter's pad
/// both show it; `t` translates what is said (the counter passes the Chinese through).
pub fn show_payment(
    a: &PaymentAdapter<'_>,
    stage: Option<&crate::errand::payment::PaymentStage>,
    items: &[crate::core::platform::wire::PaymentItem],
    now: jiff::Timestamp,
    t: &dyn Fn(&str) -> String,
) {
    use crate::core::payment::{seconds_left, total_fen, yuan};
    use crate::errand::payment::PaymentStage;
    // The page renders every second for the countdown: the QR is drawn only when it changed.
    let set_qr = |data: &str| {
        if a.get_qr_text() != data {
            a.set_qr(qr_image(data));
            a.set_qr_text(data.into());
        }
    };
    a.set_amount(t(&format!("{} 元", yuan(total_fen(items)))).into());
    a.set_items(model(
        items
            .iter()
            .map(|i| SharedString::from(format!("{}　{} 元", i.name, yuan(i.amount_fen))))
            .collect::<Vec<_>>(),
    ));
    let (key, title, note) = match stage {
        None | Some(PaymentStage::Creating) => ("creating", "正在生成缴费订单…", String::new()),
        Some(PaymentStage::Pending(o)) => {
            a.set_payee(o.payee.clone().into());
            set_qr(&o.qr_url);
            let left = seconds_left(o, now);
            a.set_countdown(
                if left == 0 {
                    t("正在确认缴费结果…")
                } else {
                    t(&format!(
                        "请在 {} 内完成支付",
                        format_args!("{}:{:02}", left / 60, left % 60)
                    ))
                }
                .into(),
            );
            (
                "pending",
                "请用手机扫码缴费",
                "支付完成后本页自动显示结果，请勿重复支付".to_owned(),
            )
        }
        Some(PaymentStage::Paid(o)) => {
            a.set_payee(o.payee.clone().into());
            a.set_payment_no(o.payment_no.clone().unwrap_or_default().into());
            if let Some(url) = &o.fiscal_receipt_url {
                a.set_fiscal_qr(qr_image(url));
            }
            (
                "paid",
                "缴费成功",
                "回执上有支付流水号和财政电子票据二维码".to_owned(),
            )
        }
        Some(PaymentStage::Ended(o)) => (
            "ended",
            match o.state {
                crate::core::platform::wire::PaymentState::Cancelled => "缴费订单已取消",
                _ => "缴费订单已过期",
            },
            "未扣款。可点「重新缴费」重新生成二维码，或稍后在渝快办App缴费；办件已提交".to_owned(),
        ),
        Some(PaymentStage::Unknown(_)) => (
            "unknown",
            "暂时无法确认缴费结果",
            "如已支付，无需再付：请稍后在“办件进度查询”中查看缴费状态".to_owned(),
        ),
        Some(PaymentStage::Refused(reason)) => ("refused", "暂时不能缴费", reason.clone()),
        Some(PaymentStage::Later) => ("ended", "稍后缴费", String::new()),
    };
    if key != "pending" {
        a.set_countdown(SharedString::new());
    }
    a.set_stage(key.into());
    a.set_title(t(title).into());
    a.set_note(t(&note).into());
}

/// Empties a `PaymentAdapter` (the session or the work it showed ended).
pub fn clear_payment(a: &PaymentAdapter<'_>) {
    a.set_stage(SharedString::new());
    a.set_title(SharedString::new());
    a.set_amount(SharedString::new());
    a.set_payee(SharedString::new());
    a.set_items(ModelRc::default());
    a.set_qr(slint::Image::default());
    a.set_qr_text(SharedString::new());
    a.set_countdown(SharedString::new());
    a.set_note(SharedString::new());
    a.set_payment_no(SharedString::new());
    a.set_fiscal_qr(slint::Image::default());
}

#[cfg(test)]
mod tests {
    #[test]
    fn strokes_become_path_commands() {
        let strokes = [vec![[1, 2], [3, 4]], vec![[5, 6]]];
        assert_eq!(super::ink_path(strokes.iter()), "M 1 2 L 3 4 M 5 6 L 6 6");
        assert_eq!(super::ink_path([].iter()), "");
    }
}
