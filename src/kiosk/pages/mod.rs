//! One controller per page global of `ui/pages/*.slint` (and the shell's `KioskAdapter` and
//! `SessionAdapter`): `connect` turns the global's callbacks into session events, `render`
//! pushes the session's view into that global only, `clear` empties it when the session is
//! wiped.
//!
//! Invariant: a page controller never touches the store or a device; what it needs from
//! them the loop (`kiosk/mod.rs`) reads first and hands in.

pub(super) mod agent;
pub(super) mod apply;
pub(super) mod consent;
pub(super) mod evaluate;
pub(super) mod find;
pub(super) mod guide;
pub(super) mod handwriting;
pub(super) mod home;
pub(super) mod identify;
pub(super) mod licences;
pub(super) mod payment;
pub(super) mod services;
pub(super) mod signature;
pub(super) mod technician;

use super::session::Event;
use super::Kiosk;
use crate::ui::AppWindow;

/// A callback that sends the session one fixed event.
fn go(kiosk: &Kiosk, event: fn() -> Event) -> impl Fn() + 'static {
    let k = kiosk.clone_handle();
    move || k.event(event())
}

/// Wires every page's callbacks.
pub(super) fn connect(kiosk: &Kiosk, window: &AppWindow) {
    home::connect(kiosk, window);
    technician::connect(kiosk, window);
    services::connect(kiosk, window);
    identify::connect(kiosk, window);
    agent::connect(kiosk, window);
    find::connect(kiosk, window);
    guide::connect(kiosk, window);
    apply::connect(kiosk, window);
    evaluate::connect(kiosk, window);
    licences::connect(kiosk, window);
    payment::connect(kiosk, window);
    signature::connect(kiosk, window);
    handwriting::connect(kiosk, window);
    consent::connect(kiosk, window);
}

/// Empties every page's personal properties (the session was wiped).
pub(super) fn clear(window: &AppWindow) {
    home::clear(window);
    find::clear(window);
    guide::clear(window);
    agent::clear(window);
    apply::clear(window);
    technician::clear(window);
    services::clear(window);
    evaluate::clear(window);
    licences::clear(window);
    payment::clear(window);
    signature::clear(window);
    handwriting::clear(window);
    consent::clear(window);
}
