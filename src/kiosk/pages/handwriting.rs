//! 手写输入 (`ui/handwriting.slint`'s `HandwritingAdapter`), shared by the form and the
//! search: the finger on the pad becomes `Event::Pen`, the session keeps the strokes, and
//! each render draws them and offers what they may be (`ime::written`).

use slint::{ComponentHandle, ModelRc, SharedString};

use crate::kiosk::session::Pen;
use crate::kiosk::*;

/// How many handwriting candidates the pad offers (one row).
pub const SHOWN: usize = 5;

/// Turns the pad's callbacks into session events.
pub(in crate::kiosk) fn connect(kiosk: &Kiosk, window: &AppWindow) {
    let hw = window.global::<HandwritingAdapter>();
    let k = kiosk.clone_handle();
    hw.on_use_handwriting(move |on| k.event(Event::UseHandwriting(on)));
    // The pad reports positions in its 1024 box; the session clamps them.
    let k = kiosk.clone_handle();
    hw.on_pen_down(move |x, y| k.event(Event::Pen(Pen::Down(x as i32, y as i32))));
    let k = kiosk.clone_handle();
    hw.on_pen_move(move |x, y| k.event(Event::Pen(Pen::Move(x as i32, y as i32))));
    hw.on_pen_up(super::go(kiosk, || Event::Pen(Pen::Up)));
    hw.on_rewrite(super::go(kiosk, || Event::Rewrite));
    let k = kiosk.clone_handle();
    hw.on_choose(move |c| k.event(Event::ChooseWritten(c.to_string())));
}

/// The pad for the screen shown: offered where handwriting is taken and the recogniser is
/// installed; the strokes and their candidates while it is in use.
pub(in crate::kiosk) fn render(window: &AppWindow, st: &State) {
    let hw = window.global::<HandwritingAdapter>();
    let session = &st.session;
    let available = ime::handwriting_available();
    let writing = available && session.writing();
    hw.set_available(available);
    hw.set_here(session.handwriting_here());
    hw.set_writing(writing);
    let ink = session.ink();
    if !writing {
        hw.set_ink(SharedString::new());
        hw.set_candidates(ModelRc::default());
        return;
    }
    hw.set_ink(crate::ui::ink_path(ink.all()).into());
    // Candidates for the strokes finished; the one being drawn counts once lifted.
    let words: Vec<SharedString> = ime::written(&ink.strokes, SHOWN)
        .into_iter()
        .map(SharedString::from)
        .collect();
    hw.set_candidates(model(words));
}

/// Empties the pad (the session was wiped).
pub(in crate::kiosk) fn clear(window: &AppWindow) {
    let hw = window.global::<HandwritingAdapter>();
    hw.set_writing(false);
    hw.set_ink(SharedString::new());
    hw.set_candidates(ModelRc::default());
    ime::forget_written();
}
