//! Group "kiosk-scroll" (issue 6): frame time while scrolling a list of 20,000 matters in
//! the real UI (`AppWindow`, the 事项列表 page `MatterListPage`, fed through
//! `KioskAdapter.matters` as `Kiosk::render` does), beside the same with 50 rows.
//!
//! What is measured: Slint's software renderer — the renderer the kiosk uses — drawing
//! 1280×800 frames into a 32-bit buffer in this process (`MinimalSoftwareWindow`, buffer
//! reused between frames as the kiosk's window does, so only what changed is redrawn).
//! One frame = a mouse-wheel event over the list (80 px; direction reverses every 30
//! frames so both lists keep moving), timers and animations, layout, and the draw. Not
//! measured: presenting the buffer to a display, and touch-drag inertia.
//! The rows are 20,000 generated matters (`sim::generate`, the same as the `platform` group).

use std::rc::Rc;
use std::time::{Duration, Instant};

use slint::platform::software_renderer::{
    MinimalSoftwareWindow, PremultipliedRgbaColor, RepaintBufferType,
};
use slint::platform::{Platform, WindowAdapter, WindowEvent};
use slint::{ComponentHandle, LogicalPosition, ModelRc, PhysicalSize, VecModel};
use ykb_terminal::errand::guide;
use ykb_terminal::ui::{AppWindow, KioskAdapter, MatterRow, Page};

use super::{Baseline, Figure};

const GROUP: &str = "kiosk-scroll";
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 800;
const FRAMES: usize = 300;

struct BenchPlatform {
    window: Rc<MinimalSoftwareWindow>,
    start: Instant,
}

impl Platform for BenchPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        Ok(self.window.clone())
    }
    fn duration_since_start(&self) -> Duration {
        self.start.elapsed()
    }
}

struct Scrolled {
    open: Duration,
    frames: Vec<Duration>,
    drawn: usize,
}

fn scroll(
    app: &AppWindow,
    window: &MinimalSoftwareWindow,
    buf: &mut [PremultipliedRgbaColor],
    rows: Vec<MatterRow>,
) -> Scrolled {
    let adapter = app.global::<KioskAdapter>();
    let draw = |buf: &mut [PremultipliedRgbaColor]| {
        slint::platform::update_timers_and_animations();
        window.draw_if_needed(|r| {
            r.render(buf, WIDTH as usize);
        })
    };
    // Start from home, so the list page and its rows are created for this model.
    adapter.set_page(Page::Home);
    draw(buf);
    let t = Instant::now();
    adapter.set_list_title("全部事项".into());
    adapter.set_matters(ModelRc::new(VecModel::from(rows)));
    adapter.set_page(Page::Matters);
    draw(buf);
    let open = t.elapsed();
    let mut frames = Vec::with_capacity(FRAMES);
    let mut drawn = 0;
    for i in 0..FRAMES {
        let down = (i / 30) % 2 == 0;
        let t = Instant::now();
        window.dispatch_event(WindowEvent::PointerScrolled {
            position: LogicalPosition::new(640.0, 480.0),
            delta_x: 0.0,
            delta_y: if down { -80.0 } else { 80.0 },
        });
        if draw(buf) {
            drawn += 1;
        }
        frames.push(t.elapsed());
    }
    frames.sort();
    Scrolled {
        open,
        frames,
        drawn,
    }
}

fn pct(v: &[Duration], p: f64) -> f64 {
    v[((v.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3
}

/// The group's entry point.
pub fn kiosk_scroll(out: &mut Vec<Figure>) {
    const N: usize = 20_000;
    let window = MinimalSoftwareWindow::new(RepaintBufferType::ReusedBuffer);
    window.set_size(PhysicalSize::new(WIDTH, HEIGHT));
    if let Err(e) = slint::platform::set_platform(Box::new(BenchPlatform {
        window: window.clone(),
        start: Instant::now(),
    })) {
        eprintln!("{GROUP}: skipped — a Slint platform is already set: {e}");
        return;
    }
    let app = AppWindow::new().expect("AppWindow");
    app.show().expect("show");
    let mut buf = vec![PremultipliedRgbaColor::default(); (WIDTH * HEIGHT) as usize];

    let matters = ykb_terminal::sim::generate::generated_seed(N, 42)
        .catalog
        .matters;
    let rows: Vec<MatterRow> = matters
        .iter()
        .map(|m| MatterRow {
            code: m.task_code.to_string().into(),
            name: m.name.clone().into(),
            detail: guide::matter_line(m).into(),
            self_service: m.self_service,
        })
        .collect();
    let few = scroll(&app, &window, &mut buf, rows[..50].to_vec());
    let many = scroll(&app, &window, &mut buf, rows);
    assert!(
        few.drawn == FRAMES && many.drawn == FRAMES,
        "every scroll step should draw a frame ({} and {} of {FRAMES})",
        few.drawn,
        many.drawn
    );
    for (label, p) in [("median", 0.5), ("p95", 0.95)] {
        let ms = pct(&many.frames, p);
        out.push(Figure {
            group: GROUP,
            name: format!("scroll frame time, {label}: list of {N} matters, 1280×800"),
            value: ms,
            unit: "ms",
            baseline: Some(Baseline {
                name: format!("same page with 50 rows, {label}"),
                value: pct(&few.frames, p),
            }),
            note: format!(
                "{FRAMES} frames: wheel event + layout + software render (no present); \
                 16.7 ms = 60 Hz budget: {}",
                if ms <= 16.7 { "within" } else { "OVER" }
            ),
        });
    }
    out.push(Figure {
        group: GROUP,
        name: format!("open the list: set {N}-row model + first frame"),
        value: many.open.as_secs_f64() * 1e3,
        unit: "ms",
        baseline: Some(Baseline {
            name: "same with 50 rows".into(),
            value: few.open.as_secs_f64() * 1e3,
        }),
        note: "the page instantiates one ListRow per model row (ScrollView + for, no ListView)"
            .into(),
    });
}
