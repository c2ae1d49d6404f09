//! The host's vendor mode: the session ends (wiped) before the host is told it may enter,
//! nothing reaches a service while it lasts, and the kiosk resumes at home after it.

use super::{person, to_checklist};
use crate::kiosk::session::*;
use std::time::{Duration, Instant};
use ykb_drivers::xfs4iot::{Guide, VendorModeEvent};

fn drain(s: &mut Session) -> Vec<Effect> {
    std::iter::from_fn(|| s.poll_effect()).collect()
}

#[test]
fn vendor_mode_wipes_the_session_then_acknowledges_holds_the_screen_and_resumes_at_home() {
    let t = Instant::now();
    let mut s = Session::new(Duration::from_secs(60), t);
    s.handle(Event::CardRead(person()), t);
    to_checklist(&mut s, t);
    s.handle(Event::StartApply, t);
    assert_eq!(s.current(), &Screen::Form);
    s.handle(
        Event::FieldInput {
            field: "f_phone".into(),
            value: "13800000000".into(),
        },
        t,
    );
    assert!(s.holds_personal_data());
    drain(&mut s);

    // The host asks: the citizen's session ends first, then the host is told.
    assert_eq!(
        s.handle(Event::VendorMode(VendorModeEvent::EnterRequested), t),
        Outcome::Wiped
    );
    assert!(!s.holds_personal_data());
    assert!(s.person().is_none() && s.fields().is_empty() && s.matter().is_none());
    assert_eq!(s.current(), &Screen::Home);
    assert_eq!(
        drain(&mut s),
        vec![Effect::AcknowledgeVendorMode { enter: true }]
    );
    assert!(s.in_vendor_mode());
    s.handle(Event::VendorMode(VendorModeEvent::Entered), t);
    assert_eq!(s.vendor_phase(), VendorPhase::Active);

    // While the host has the devices nothing reaches a service: touches, cards, codes.
    for e in [
        Event::Open(Screen::Find),
        Event::Open(Screen::Tickets),
        Event::OpenEvaluate,
        Event::CardRead(person()),
        Event::YkmScanned("YKM1".into()),
        Event::TitleTapped,
    ] {
        assert_eq!(s.handle(e, t), Outcome::None);
    }
    assert_eq!(s.current(), &Screen::Home);
    assert!(s.person().is_none());
    assert!(drain(&mut s).is_empty());
    // The idle clock and a wipe-worthy hour change nothing either.
    s.handle(Event::Tick, t + Duration::from_secs(3600));
    assert!(s.in_vendor_mode());

    // Leaving: told we are ready, then back home, serving again.
    assert_eq!(
        s.handle(Event::VendorMode(VendorModeEvent::ExitRequested), t),
        Outcome::Changed
    );
    assert_eq!(
        drain(&mut s),
        vec![Effect::AcknowledgeVendorMode { enter: false }]
    );
    assert!(s.in_vendor_mode(), "still held until the host says it left");
    s.handle(Event::VendorMode(VendorModeEvent::Exited), t);
    assert!(!s.in_vendor_mode());
    assert_eq!(s.current(), &Screen::Home);
    s.handle(Event::Open(Screen::Find), t);
    assert_eq!(s.current(), &Screen::Find);
}

#[test]
fn vendor_mode_entered_without_asking_still_ends_the_session_and_a_lost_link_changes_nothing() {
    let t = Instant::now();
    let mut s = Session::new(Duration::from_secs(60), t);
    s.handle(Event::CardRead(person()), t);
    assert_eq!(
        s.handle(Event::VendorMode(VendorModeEvent::Entered), t),
        Outcome::Wiped
    );
    assert!(s.person().is_none() && s.in_vendor_mode());
    assert_eq!(
        s.handle(Event::VendorMode(VendorModeEvent::ConnectionLost), t),
        Outcome::None
    );
    assert!(s.in_vendor_mode());
    // A wipe keeps it (the host still has the devices).
    s.handle(Event::VendorMode(VendorModeEvent::Exited), t);
    assert!(!s.in_vendor_mode());
    // An exit request while serving is acknowledged and changes nothing.
    s.handle(Event::Open(Screen::Find), t);
    assert_eq!(
        s.handle(Event::VendorMode(VendorModeEvent::ExitRequested), t),
        Outcome::None
    );
    assert_eq!(
        drain(&mut s),
        vec![Effect::AcknowledgeVendorMode { enter: false }]
    );
    assert_eq!(s.current(), &Screen::Find);
}

#[test]
fn the_guide_light_follows_the_card_the_receipt_and_the_camera_and_goes_off_after() {
    let t = Instant::now();
    let mut s = Session::new(Duration::from_secs(60), t);
    assert_eq!(s.guide_light(false), None);
    s.handle(Event::Open(Screen::Identify), t);
    assert_eq!(s.guide_light(false), Some(Guide::CardReader));
    // Printing wins over everything; the card read, the reader's light goes off.
    assert_eq!(s.guide_light(true), Some(Guide::Receipt));
    s.handle(Event::CardRead(person()), t);
    assert_eq!(s.guide_light(false), None);
    s.handle(Event::Home, t);
    assert_eq!(s.guide_light(false), None);
    // None at all while the host has the devices.
    s.handle(Event::Open(Screen::Identify), t);
    s.handle(Event::VendorMode(VendorModeEvent::EnterRequested), t);
    assert_eq!(s.guide_light(true), None);
}
