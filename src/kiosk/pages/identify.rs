//! 身份核验: what the identify page says about the card and the 渝快码.

use slint::ComponentHandle;

use crate::kiosk::*;

/// Turns the page's callbacks into session events.
pub(in crate::kiosk) fn connect(kiosk: &Kiosk, window: &AppWindow) {
    let identify = window.global::<IdentifyAdapter>();
    let k = kiosk.clone_handle();
    identify.on_show_demo_ykm(move || {
        k.event(Event::Touch);
        k.demo_ykm();
    });
    let k = kiosk.clone_handle();
    identify.on_place_demo_card(move || {
        k.place_demo_card();
    });
    let k = kiosk.clone_handle();
    identify.on_change_person(move || {
        k.lift_demo_card();
        k.event(Event::ChangePerson);
    });
}

/// Shows what the reader and the scanner said.
pub(in crate::kiosk) fn render(window: &AppWindow, st: &State) -> Page {
    let session = &st.session;
    let lang = st.lang;
    window
        .global::<IdentifyAdapter>()
        .set_note(lang.t(session.identify_note()).into());
    window
        .global::<IdentifyAdapter>()
        .set_agent_first(session.identifying_agent());
    window
        .global::<IdentifyAdapter>()
        .set_status(match session.card_status() {
            CardStatus::Waiting => 0,
            CardStatus::Error(CardError::Replace) => 1,
            CardStatus::Error(CardError::Device) => 2,
            CardStatus::Error(CardError::Unsupported) => 3,
        });
    Page::Identify
}
