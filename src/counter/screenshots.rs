//! Counter-mode pictures for `ykb-terminal screenshots`: the clerk's window (sign-in,
//! pre-review, accepted), the evaluation pad (serving, 好差评) and the hall display, drawn
//! with `Window::take_snapshot` on the platform the kiosk's screenshots set up (Slint's
//! software renderer, no display). The counter is the real one on the counter demo profile:
//! the in-process platform simulator, the ID-card and printer emulators.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use slint::{ComponentHandle, Model};

use super::hall::HallDisplay;
use super::Counter;
use crate::core::config::Profile;
use crate::core::Core;
use crate::terminal::speech::Silent;
use crate::ui::{
    CounterAdapter, CounterWindow, EvaluationPadWindow, HallDisplayWindow, PadAdapter,
};

const COUNTER_PROFILE: &str = include_str!("../../kiosk-config/counter-demo.toml");
const HALL_PROFILE: &str = include_str!("../../kiosk-config/hall-display-demo.toml");

fn save(window: &slint::Window, size: (u32, u32), path: &Path) -> Result<(), String> {
    window.set_size(slint::PhysicalSize::new(size.0, size.1));
    // The first frame brings conditional and repeated elements into being; the second shows
    // them.
    let mut shot = None;
    for _ in 0..2 {
        slint::platform::update_timers_and_animations();
        shot = Some(
            window
                .take_snapshot()
                .map_err(|e| format!("无法截图：{e}"))?,
        );
    }
    let shot = shot.ok_or("无法截图")?;
    let img = image::RgbaImage::from_raw(shot.width(), shot.height(), shot.as_bytes().to_vec())
        .ok_or("截图缓冲区大小不对")?;
    img.save(path)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// One window of counter mode as a walk shows it.
pub enum Shown<'a> {
    /// The clerk's window.
    Desk(&'a CounterWindow),
    /// The evaluation pad facing the citizen.
    Pad(&'a EvaluationPadWindow),
    /// The hall's calling display.
    Hall(&'a HallDisplayWindow),
}

impl Shown<'_> {
    pub fn window(&self) -> &slint::Window {
        match self {
            Self::Desk(w) => w.window(),
            Self::Pad(w) => w.window(),
            Self::Hall(w) => w.window(),
        }
    }
}

/// What a walk through counter mode calls at each screen (drawn at `size`) and for the
/// printed receipt: `screenshots` draws, the layout test (`tests/layout.rs`) checks.
pub trait Visit {
    fn screen(&mut self, shown: Shown<'_>, size: (u32, u32), name: &str) -> Result<(), String>;
    fn printed(&mut self, _name: &str, _job: &Path) -> Result<(), String> {
        Ok(())
    }
}

/// The evaluation pad's panel (a 10.1″ tablet).
pub const PAD_SIZE: (u32, u32) = (1024, 640);

struct Shooter<'a> {
    out: &'a Path,
    suffix: String,
    written: Vec<PathBuf>,
}

impl Visit for Shooter<'_> {
    fn screen(&mut self, shown: Shown<'_>, size: (u32, u32), name: &str) -> Result<(), String> {
        let path = self.out.join(format!(
            "counter-{:02}-{name}-zh{}.png",
            self.written.len() + 1,
            self.suffix
        ));
        save(shown.window(), size, &path)?;
        self.written.push(path);
        Ok(())
    }

    fn printed(&mut self, name: &str, job: &Path) -> Result<(), String> {
        let path = self.out.join(format!("{name}-zh.png"));
        std::fs::copy(job, &path).map_err(|e| format!("{}: {e}", path.display()))?;
        self.written.push(path);
        Ok(())
    }
}

/// Renders the counter, the pad and the hall display into `out` (the platform must be set,
/// as the kiosk's pictures leave it).
/// `size` is the clerk's desk screen (the kiosk's default size draws the desk at today's
/// 1366×860); the pad and the hall display keep their own panels.
pub fn render_all(out: &Path, size: (u32, u32)) -> Result<Vec<PathBuf>, String> {
    // A fresh demo store, removed afterwards.
    let data = out.join(".data-counter");
    let _ = std::fs::remove_dir_all(&data);
    let desk = if size == crate::ui::SCREENSHOT_SIZE {
        (1366, 860)
    } else {
        size
    };
    let mut shooter = Shooter {
        out,
        suffix: crate::ui::screenshot_suffix(size),
        written: Vec::new(),
    };
    let result = walk(desk, &data, &mut shooter);
    let _ = std::fs::remove_dir_all(&data);
    result.map(|()| shooter.written)
}

/// Walks counter mode on its demo profile (store in `data`), the clerk's desk at `desk`:
/// sign-in, pre-review, accepted, the pad serving and asking for 好差评, the hall display
/// (connected, and marked disconnected in landscape and portrait), then the 受理回执.
pub fn walk(desk: (u32, u32), data: &Path, visit: &mut dyn Visit) -> Result<(), String> {
    // The clerk's screen in Chinese (the kiosk's pictures may have left English selected).
    slint::select_bundled_translation("").map_err(|e| e.to_string())?;
    let mut profile = Profile::parse(COUNTER_PROFILE, "kiosk-config/counter-demo.toml")
        .map_err(|e| e.to_string())?;
    profile.terminal.screen = format!("{}x{}", desk.0, desk.1);
    let mut core = Core::start(profile, data).map_err(|e| e.to_string())?;
    let platform = crate::terminal::link::PlatformLink::start_demo(&mut core).map(Arc::new);
    let window = CounterWindow::new().map_err(|e| e.to_string())?;
    let pad = EvaluationPadWindow::new().map_err(|e| e.to_string())?;
    let counter = Counter::attach(&window, &pad, core)?;
    if let Some(p) = &platform {
        counter.use_platform(p.clone());
    }
    counter.start_devices();
    window.show().map_err(|e| e.to_string())?;
    pad.show().map_err(|e| e.to_string())?;
    visit.screen(Shown::Desk(&window), desk, "sign-in")?;
    let a = window.global::<CounterAdapter>();
    a.set_staff_input("S0001".into());
    a.set_pin_input("123456".into());
    a.invoke_sign_in();
    // The PIN is checked on a worker thread; its answer comes through the inbox.
    let deadline = Instant::now() + Duration::from_secs(20);
    while counter.checking_pin() {
        if Instant::now() > deadline {
            return Err("截图时等待超时：登录".into());
        }
        std::thread::sleep(Duration::from_millis(20));
        counter.process_device_events();
    }
    a.invoke_demo_issue("A".into());
    a.invoke_demo_issue("C".into());
    a.invoke_call_next();
    a.invoke_place_demo_card();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !a.get_person_detail().contains("电子证照") {
        if Instant::now() > deadline {
            return Err("截图时等待超时：身份证".into());
        }
        std::thread::sleep(Duration::from_millis(50));
        counter.process_device_events();
    }
    a.invoke_search("sfz".into());
    let code = a
        .get_matters()
        .iter()
        .find(|m| m.name == "居民身份证换领")
        .map(|m| m.code)
        .ok_or("演示目录中没有“居民身份证换领”")?;
    a.invoke_choose_matter(code);
    for o in ["o_expiry", "o_minor_no", "o_pick_window"] {
        a.invoke_answer(o.into());
    }
    visit.screen(Shown::Desk(&window), desk, "pre-review")?;
    visit.screen(Shown::Pad(&pad), PAD_SIZE, "pad-serving")?;
    for m in ["m_photo_receipt", "m_hukou"] {
        let exempt = a
            .get_checks()
            .iter()
            .any(|c| c.material == m && (c.exempt || c.brought));
        if !exempt {
            a.invoke_toggle_material(m.into());
        }
    }
    // 居民身份证换领 is signed: the clerk asks, the applicant signs on the pad.
    a.invoke_ask_signature();
    let ink = pad.global::<crate::ui::SignatureAdapter>();
    for stroke in [
        &[[90.0, 640.0], [200.0, 260.0], [330.0, 700.0]][..],
        &[[480.0, 560.0], [640.0, 420.0], [930.0, 380.0]][..],
    ] {
        ink.invoke_pen_down(stroke[0][0], stroke[0][1]);
        for p in &stroke[1..] {
            ink.invoke_pen_move(p[0], p[1]);
        }
        ink.invoke_pen_up();
    }
    visit.screen(Shown::Pad(&pad), PAD_SIZE, "pad-signature")?;
    a.invoke_accept();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !a.get_print_status().starts_with("已打印") {
        if Instant::now() > deadline {
            return Err("截图时等待超时：受理回执".into());
        }
        std::thread::sleep(Duration::from_millis(50));
        counter.process_device_events();
        counter.tick(Instant::now());
    }
    visit.screen(Shown::Desk(&window), desk, "accepted")?;
    a.invoke_finish();
    pad.global::<PadAdapter>().invoke_choose(4);
    visit.screen(Shown::Pad(&pad), PAD_SIZE, "pad-evaluate")?;

    let hall_profile = Profile::parse(HALL_PROFILE, "kiosk-config/hall-display-demo.toml")
        .map_err(|e| e.to_string())?;
    let hall_core = Core::start(hall_profile, data).map_err(|e| e.to_string())?;
    let hall = HallDisplayWindow::new().map_err(|e| e.to_string())?;
    let _display = HallDisplay::attach(&hall, hall_core, Box::new(Silent));
    hall.show().map_err(|e| e.to_string())?;
    visit.screen(Shown::Hall(&hall), (1920, 1080), "hall-display")?;
    // The mark a failed read leaves over the last good state (what `render` writes then).
    hall.global::<crate::ui::HallAdapter>()
        .set_link_notice("连接中断，显示的是 09:30 的状态".into());
    visit.screen(
        Shown::Hall(&hall),
        (1920, 1080),
        "hall-display-disconnected",
    )?;
    visit.screen(
        Shown::Hall(&hall),
        (1080, 1920),
        "hall-display-disconnected-portrait",
    )?;
    // The acceptance receipt, as the emulator printed it.
    if let Some(job) = counter.printed_jobs().last() {
        visit.printed("counter-receipt", job)?;
    }
    Ok(())
}
