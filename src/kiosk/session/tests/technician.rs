//! 维护模式's way in: the hidden gesture, the PIN pad, the throttled sign-in and its audit.

use super::at_capture;
use crate::core::audit::AuditAction;
use crate::core::config::{PinAccount, TechnicianSection};
use crate::core::pin::{PinHash, MIN_ITERATIONS};
use crate::kiosk::session::*;
use std::time::{Duration, Instant};

fn drain(s: &mut Session) -> Vec<Effect> {
    std::iter::from_fn(|| s.poll_effect()).collect()
}

/// `[technician]` with T0001 / 2468, three tries, then 30 s.
pub(super) fn section() -> TechnicianSection {
    TechnicianSection {
        max_failures: 3,
        lockout_secs: 30,
        accounts: vec![PinAccount {
            id: "T0001".into(),
            pin_hash: PinHash::new("2468", b"salt-salt", MIN_ITERATIONS).to_string(),
        }],
    }
}

/// Types `text` on the PIN pad into `field` (cleared first).
pub(super) fn type_in(s: &mut Session, field: TechField, text: &str, t: Instant) {
    s.handle(Event::TechField(field), t);
    s.handle(Event::TechKey(Key::Clear), t);
    for c in text.chars() {
        s.handle(Event::TechKey(Key::Text(c.to_string())), t);
    }
}

/// Signs in with `pin` as t0001.
pub(super) fn try_pin(s: &mut Session, pin: &str, t: Instant) -> Outcome {
    type_in(s, TechField::Id, "t0001", t);
    type_in(s, TechField::Pin, pin, t);
    sign_in(s, t)
}

/// The PIN check asked for, taken out of the session's effects (a worker's job).
fn take_check(s: &mut Session) -> Option<crate::core::pin::PinCheck> {
    let at = s
        .effects
        .iter()
        .position(|e| matches!(e, Effect::CheckTechnicianPin(_)))?;
    match s.effects.remove(at) {
        Some(Effect::CheckTechnicianPin(check)) => Some(check),
        _ => None,
    }
}

/// 进入维护模式, with the PIN check run as the kiosk's worker would and its outcome fed back.
pub(super) fn sign_in(s: &mut Session, t: Instant) -> Outcome {
    let pressed = s.handle(Event::TechSignIn, t);
    match take_check(s) {
        Some(check) => {
            assert!(s.checking_technician_pin());
            assert_eq!(s.pin_entry().note(), "正在核验密码…");
            let ok = check.run();
            s.handle(
                Event::TechnicianPinChecked {
                    id: check.id().to_owned(),
                    ok,
                },
                t,
            )
        }
        None => pressed,
    }
}

fn audited(effects: &[Effect]) -> Vec<(String, AuditAction)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::AuditTechnician {
                technician, action, ..
            } => Some((technician.clone(), *action)),
            _ => None,
        })
        .collect()
}

#[test]
fn five_quick_taps_open_the_pad_slow_ones_do_not() {
    let t = Instant::now();
    let mut g = TapGesture::default();
    for i in 0..4 {
        assert!(!g.tap(t + Duration::from_millis(i * 500)));
    }
    assert!(g.tap(t + Duration::from_millis(2000)));
    // Starts over afterwards.
    assert!(!g.tap(t + Duration::from_millis(2100)));
    // A citizen tapping now and then never gets there.
    let mut g = TapGesture::default();
    for i in 0..20 {
        assert!(!g.tap(t + Duration::from_secs(i)));
    }
}

#[test]
fn the_gesture_wipes_the_citizen_and_opens_the_pin_pad() {
    let t = Instant::now();
    let mut s = at_capture(t);
    for i in 0..GESTURE_TAPS - 1 {
        let at = t + Duration::from_millis(100 * i as u64);
        assert_eq!(s.handle(Event::TitleTapped, at), Outcome::None);
    }
    assert_eq!(s.current(), &Screen::Capture);
    assert_eq!(
        s.handle(Event::TitleTapped, t + Duration::from_millis(500)),
        Outcome::Wiped
    );
    assert_eq!(s.current(), &Screen::TechLogin);
    assert!(!s.holds_personal_data());
    assert_eq!(drain(&mut s), [], "the citizen's I/O went with them");
}

#[test]
fn the_pin_pad_shows_dots_keeps_the_pin_out_of_debug_and_drops_it_after_each_try() {
    let t = Instant::now();
    let mut s = Session::new(Duration::from_secs(60), t).with_technicians(Some(&section()));
    s.handle(Event::OpenTechLogin, t);
    type_in(&mut s, TechField::Id, "t0001", t);
    type_in(&mut s, TechField::Pin, "97531", t);
    assert_eq!(s.pin_entry().id(), "t0001");
    assert_eq!(s.pin_entry().pin_chars(), 5);
    assert!(s.pin_entry().typing_pin());
    assert!(!format!("{s:?}").contains("97531"), "never in a log line");
    // Typed beyond the pad's limit: kept to it; backspace still works.
    for _ in 0..PIN_PAD_MAX {
        s.handle(Event::TechKey(Key::Text("9".into())), t);
    }
    assert_eq!(s.pin_entry().pin_chars(), PIN_PAD_MAX);
    s.handle(Event::TechKey(Key::Backspace), t);
    assert_eq!(s.pin_entry().pin_chars(), PIN_PAD_MAX - 1);
    s.handle(Event::TechSignIn, t);
    let check = take_check(&mut s).expect("the PIN goes to a worker");
    assert!(!format!("{check:?}").contains("9999"), "not even there");
    assert_eq!(s.pin_entry().pin_chars(), 0, "dropped when sent");
    s.handle(
        Event::TechnicianPinChecked {
            id: check.id().to_owned(),
            ok: check.run(),
        },
        t,
    );
    assert_eq!(s.pin_entry().pin_chars(), 0, "dropped after the try");
    assert_eq!(s.pin_entry().id(), "t0001", "the id stays for the next try");
    assert_eq!(s.pin_entry().note(), "工号或密码不对，还可以再试 2 次");
    // Off the pad, keys do nothing.
    let mut s = Session::new(Duration::from_secs(60), t);
    assert_eq!(
        s.handle(Event::TechKey(Key::Text("1".into())), t),
        Outcome::None
    );
    assert_eq!(s.handle(Event::TechSignIn, t), Outcome::None);
}

#[test]
fn sign_in_pauses_after_the_configured_failures_and_the_pause_outlives_a_wipe() {
    let t = Instant::now();
    let mut s = Session::new(Duration::from_secs(60), t).with_technicians(Some(&section()));
    s.handle(Event::OpenTechLogin, t);
    drain(&mut s);
    try_pin(&mut s, "1111", t);
    assert_eq!(s.pin_entry().note(), "工号或密码不对，还可以再试 2 次");
    try_pin(&mut s, "2222", t);
    try_pin(&mut s, "3333", t);
    assert_eq!(s.pin_entry().note(), "错误次数过多，请 30 秒后再试");
    // Each checked failure is audited under the id typed, and the throttle stored.
    let effects = drain(&mut s);
    assert_eq!(
        audited(&effects),
        vec![("T0001".to_owned(), AuditAction::TechnicianLoginFailed); 3]
    );
    assert_eq!(
        effects
            .iter()
            .filter(|e| **e == Effect::StoreTechnicianThrottle)
            .count(),
        3
    );
    // Paused: even the right PIN is not checked, and nothing is audited.
    try_pin(&mut s, "2468", t + Duration::from_secs(10));
    assert_eq!(s.pin_entry().note(), "错误次数过多，请 20 秒后再试");
    assert_eq!(s.current(), &Screen::TechLogin);
    assert_eq!(drain(&mut s), []);
    // Walking away and making the gesture again does not lift the pause.
    s.handle(Event::Home, t + Duration::from_secs(11));
    s.handle(Event::OpenTechLogin, t + Duration::from_secs(11));
    try_pin(&mut s, "2468", t + Duration::from_secs(12));
    assert!(s.pin_entry().note().starts_with("错误次数过多"));
    assert_eq!(s.technician(), None);
    // After the pause the right PIN opens the page.
    try_pin(&mut s, "2468", t + Duration::from_secs(31));
    assert_eq!(s.current(), &Screen::Technician);
    assert_eq!(s.technician(), Some("T0001"));
}

#[test]
fn signing_in_audits_reads_the_page_and_signing_out_is_audited_by_the_wipe() {
    let t = Instant::now();
    let mut s = Session::new(Duration::from_secs(60), t).with_technicians(Some(&section()));
    // Without accounts nobody gets in (an unknown id is audited as `unknown`).
    let mut closed = Session::new(Duration::from_secs(60), t);
    closed.handle(Event::OpenTechLogin, t);
    type_in(&mut closed, TechField::Id, "not an id!", t);
    type_in(&mut closed, TechField::Pin, "2468", t);
    sign_in(&mut closed, t);
    assert_eq!(
        audited(&drain(&mut closed)),
        [("unknown".to_owned(), AuditAction::TechnicianLoginFailed)]
    );
    // Actions are for a technician signed in, on their page.
    s.handle(Event::OpenTechLogin, t);
    assert_eq!(s.handle(Event::RunSelftest, t), Outcome::None);
    assert_eq!(try_pin(&mut s, "2468", t), Outcome::Changed);
    let effects = drain(&mut s);
    assert_eq!(
        audited(&effects),
        [("T0001".to_owned(), AuditAction::TechnicianLogin)]
    );
    assert_eq!(effects.last(), Some(&Effect::ReadTechnicianOverview));
    assert_eq!(
        s.pin_entry(),
        &PinEntry::default(),
        "the pad is empty again"
    );
    s.handle(Event::RunSelftest, t);
    s.handle(Event::ExportDiagnostics, t);
    s.handle(Event::RefreshTechnician, t);
    assert_eq!(
        drain(&mut s),
        [
            Effect::RunSelftest,
            Effect::ExportDiagnostics,
            Effect::ReadTechnicianOverview
        ]
    );
    // 退出维护模式 (home) signs out, audited after the wipe.
    assert_eq!(s.handle(Event::Home, t), Outcome::Wiped);
    assert_eq!(s.technician(), None);
    assert_eq!(
        audited(&drain(&mut s)),
        [("T0001".to_owned(), AuditAction::TechnicianLogout)]
    );
    assert_eq!(s.handle(Event::ExportDiagnostics, t), Outcome::None);
    // 返回 from the page never leads back to the pad: it signs out too.
    s.handle(Event::OpenTechLogin, t);
    try_pin(&mut s, "2468", t);
    drain(&mut s);
    assert_eq!(s.handle(Event::Back, t), Outcome::Wiped);
    assert_eq!(s.current(), &Screen::Home);
    assert_eq!(
        audited(&drain(&mut s)),
        [("T0001".to_owned(), AuditAction::TechnicianLogout)]
    );
}

#[test]
fn a_pin_being_checked_counts_even_when_the_pad_is_left_and_a_second_press_waits() {
    let t = Instant::now();
    let mut s = Session::new(Duration::from_secs(60), t).with_technicians(Some(&section()));
    s.handle(Event::OpenTechLogin, t);
    type_in(&mut s, TechField::Id, "t0001", t);
    type_in(&mut s, TechField::Pin, "1111", t);
    s.handle(Event::TechSignIn, t);
    let check = take_check(&mut s).expect("the PIN goes to a worker");
    // A second press while it runs starts no second check.
    type_in(&mut s, TechField::Pin, "2222", t);
    assert_eq!(s.handle(Event::TechSignIn, t), Outcome::None);
    assert!(take_check(&mut s).is_none());
    // The pad is left before the answer: the wrong PIN still counts and is audited.
    assert_eq!(s.handle(Event::Home, t), Outcome::Wiped);
    drain(&mut s);
    assert_eq!(
        s.handle(
            Event::TechnicianPinChecked {
                id: check.id().to_owned(),
                ok: check.run(),
            },
            t,
        ),
        Outcome::None
    );
    let effects = drain(&mut s);
    assert!(effects.contains(&Effect::StoreTechnicianThrottle));
    assert_eq!(
        audited(&effects),
        [("T0001".to_owned(), AuditAction::TechnicianLoginFailed)]
    );
    s.handle(Event::OpenTechLogin, t);
    try_pin(&mut s, "3333", t);
    assert_eq!(s.pin_entry().note(), "工号或密码不对，还可以再试 1 次");
    // A right PIN whose answer comes after the pad was left signs nobody in.
    type_in(&mut s, TechField::Pin, "2468", t);
    s.handle(Event::TechSignIn, t);
    let check = take_check(&mut s).unwrap();
    s.handle(Event::Home, t);
    let ok = check.run();
    assert!(ok);
    s.handle(
        Event::TechnicianPinChecked {
            id: check.id().to_owned(),
            ok,
        },
        t,
    );
    assert_eq!(s.technician(), None);
    assert_eq!(s.current(), &Screen::Home);
    // An answer nobody asked for is ignored.
    assert_eq!(
        s.handle(
            Event::TechnicianPinChecked {
                id: "T0001".into(),
                ok: true
            },
            t
        ),
        Outcome::None
    );
}
