//! 手写签名 on the review page (`ui/pages/signature.slint`'s `SignatureAdapter`): the finger on
//! the pad becomes `Event::SignPen`, the session keeps the strokes, each render draws them.

use slint::{ComponentHandle, SharedString};

use crate::kiosk::session::Pen;
use crate::kiosk::*;

/// Turns the pad's callbacks into session events.
pub(in crate::kiosk) fn connect(kiosk: &Kiosk, window: &AppWindow) {
    let a = window.global::<SignatureAdapter>();
    // The pad reports positions in its 1024 box; the session clamps them.
    let k = kiosk.clone_handle();
    a.on_pen_down(move |x, y| k.event(Event::SignPen(Pen::Down(x as i32, y as i32))));
    let k = kiosk.clone_handle();
    a.on_pen_move(move |x, y| k.event(Event::SignPen(Pen::Move(x as i32, y as i32))));
    a.on_pen_up(super::go(kiosk, || Event::SignPen(Pen::Up)));
    a.on_clear(super::go(kiosk, || Event::ClearSignature));
}

/// The pad of the review page: shown for every matter taken here, required where the
/// catalogue says so.
pub(in crate::kiosk) fn render(window: &AppWindow, st: &State) {
    let a = window.global::<SignatureAdapter>();
    let session = &st.session;
    a.set_wanted(session.matter().is_some());
    a.set_required(session.wants_signature());
    a.set_by_agent(session.agent().is_some());
    a.set_ink(crate::ui::ink_path(session.signature()).into());
    a.set_refusal(st.lang.t(session.submit_refusal()).into());
}

/// Empties the pad (the session was wiped).
pub(in crate::kiosk) fn clear(window: &AppWindow) {
    let a = window.global::<SignatureAdapter>();
    a.set_wanted(false);
    a.set_required(false);
    a.set_by_agent(false);
    a.set_ink(SharedString::new());
    a.set_refusal(SharedString::new());
}
