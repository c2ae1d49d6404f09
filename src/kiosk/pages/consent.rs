//! The consent overlay (`ui/pages/consent.slint`): which local device service client asks
//! for the citizen's ID card or identity, 同意 or 拒绝 (decided in `session::host`).

use slint::{ComponentHandle, SharedString};

use crate::kiosk::session::{consent_detail, consent_title};
use crate::kiosk::*;

/// Turns the overlay's buttons into session events.
pub(in crate::kiosk) fn connect(kiosk: &Kiosk, window: &AppWindow) {
    let c = window.global::<ConsentAdapter>();
    c.on_agree(super::go(kiosk, || Event::HostConsent(true)));
    c.on_refuse(super::go(kiosk, || Event::HostConsent(false)));
}

/// Shows the request waiting for consent, or nothing.
pub(in crate::kiosk) fn render(window: &AppWindow, st: &State) {
    let c = window.global::<ConsentAdapter>();
    match st.session.host_consent() {
        Some((client, kind)) => {
            c.set_title(st.lang.t(&consent_title(client, kind)).into());
            c.set_detail(st.lang.t(consent_detail(kind)).into());
        }
        None => clear(window),
    }
}

/// Empties `ConsentAdapter` (the session was wiped).
pub(in crate::kiosk) fn clear(window: &AppWindow) {
    let c = window.global::<ConsentAdapter>();
    c.set_title(SharedString::new());
    c.set_detail(SharedString::new());
}
