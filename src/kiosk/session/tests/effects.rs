//! The I/O the session asks for: queued on the accepted event only, in order, and dropped by
//! a wipe.

use super::{at_capture, licence_copy, person, to_checklist};
use crate::kiosk::session::*;
use std::time::{Duration, Instant};

/// Every effect queued so far, oldest first.
fn drain(s: &mut Session) -> Vec<Effect> {
    std::iter::from_fn(|| s.poll_effect()).collect()
}

/// At the review page of the renewal by post, nothing queued.
fn at_review(t: Instant) -> Session {
    let mut s = at_capture(t);
    s.handle(Event::CaptureDone, t);
    assert_eq!(s.current(), &Screen::Review);
    // 居民身份证换领 is signed before it is submitted.
    s.sign_for_test(t);
    drain(&mut s);
    s
}

/// On 证照打印 with the list in (居民身份证, 居民户口簿), nothing queued.
fn at_licences(t: Instant) -> Session {
    let mut s = Session::new(Duration::from_secs(600), t);
    s.handle(Event::CardRead(person()), t);
    s.handle(Event::OpenLicencePrint, t);
    s.handle(
        Event::Licences(vec!["居民身份证".into(), "居民户口簿".into()]),
        t,
    );
    assert_eq!(s.current(), &Screen::Licences);
    drain(&mut s);
    s
}

#[test]
fn a_fresh_session_asks_for_nothing() {
    let t = Instant::now();
    let mut s = Session::new(Duration::from_secs(60), t);
    assert_eq!(s.poll_effect(), None);
    s.handle(Event::Open(Screen::Find), t);
    s.handle(Event::Tick, t + Duration::from_secs(1));
    assert_eq!(drain(&mut s), []);
}

#[test]
fn submit_stores_the_case_once_and_only_from_the_review_page() {
    let t = Instant::now();
    // On the form with fields missing: "确认提交" is refused, nothing is stored.
    let mut s = Session::new(Duration::from_secs(600), t);
    s.handle(Event::CardRead(person()), t);
    to_checklist(&mut s, t);
    s.handle(Event::StartApply, t);
    s.handle(Event::FormNext, t);
    assert_eq!(s.current(), &Screen::Form);
    assert!(!s.form_errors().is_empty());
    assert_eq!(
        drain(&mut s),
        [Effect::LookUpLicences, Effect::Remind(Reminder::TakeCard)],
        "asked at the card read"
    );
    assert_eq!(s.handle(Event::Submit, t), Outcome::None);
    assert_eq!(drain(&mut s), []);

    let mut s = at_review(t);
    assert_eq!(s.handle(Event::Submit, t), Outcome::Changed);
    assert_eq!(s.poll_effect(), Some(Effect::StoreCase));
    assert_eq!(s.poll_effect(), None, "taken once");
    // A second press while it is stored, or one after the result, stores nothing.
    assert_eq!(s.handle(Event::Submit, t), Outcome::None);
    s.handle(Event::stored("c1", "1", None), t);
    assert_eq!(
        drain(&mut s),
        [
            Effect::PrintCaseReceipt,
            Effect::Remind(Reminder::TakeCardAndPaper)
        ],
        "已暂存: the receipt"
    );
    assert_eq!(s.handle(Event::Submit, t), Outcome::None);
    assert_eq!(drain(&mut s), []);
    // 重新打印回执 prints it again.
    assert_eq!(s.handle(Event::ReprintReceipt, t), Outcome::Changed);
    assert_eq!(drain(&mut s), [Effect::PrintCaseReceipt]);
}

#[test]
fn a_stored_case_waits_for_its_unified_code_then_prints_the_receipt_once() {
    let t = Instant::now();
    let stored = |s: &mut Session| {
        s.handle(Event::Submit, t);
        drain(s);
        s.handle(
            Event::stored("c1", "1", Some(t + Duration::from_secs(3))),
            t,
        );
    };
    // The platform answers in time: 已提交 with its code.
    let mut s = at_review(t);
    stored(&mut s);
    assert!(s.submitting());
    assert_eq!(drain(&mut s), [], "nothing printed before the answer");
    assert_eq!(s.handle(Event::ReprintReceipt, t), Outcome::None);
    s.handle(
        Event::Delivered {
            case_id: "other".into(),
            unified_code: "X".into(),
        },
        t,
    );
    assert!(s.submitting(), "another case's code settles nothing");
    s.handle(
        Event::Delivered {
            case_id: "c1".into(),
            unified_code: "U-1".into(),
        },
        t + Duration::from_secs(1),
    );
    assert!(matches!(
        s.submit_result(),
        Some(SubmitResult::Submitted { unified_code, .. }) if unified_code == "U-1"
    ));
    assert_eq!(s.current(), &Screen::Done);
    assert_eq!(
        drain(&mut s),
        [
            Effect::PrintCaseReceipt,
            Effect::Remind(Reminder::TakeCardAndPaper)
        ]
    );
    s.handle(Event::Tick, t + Duration::from_secs(5));
    assert_eq!(drain(&mut s), [], "printed once");
    // It does not: 已暂存 when the wait is over.
    let mut s = at_review(t);
    stored(&mut s);
    s.handle(Event::Tick, t + Duration::from_secs(2));
    assert!(s.submitting());
    s.handle(Event::Tick, t + Duration::from_secs(3));
    assert!(matches!(
        s.submit_result(),
        Some(SubmitResult::Queued { local_number, .. }) if local_number == "1"
    ));
    assert_eq!(
        drain(&mut s),
        [
            Effect::PrintCaseReceipt,
            Effect::Remind(Reminder::TakeCardAndPaper)
        ]
    );
    // Not stored at all: said on the done page, nothing to print.
    let mut s = at_review(t);
    s.handle(Event::Submit, t);
    drain(&mut s);
    s.handle(
        Event::CaseNotStored {
            reason: "磁盘已满".into(),
        },
        t,
    );
    assert!(matches!(
        s.submit_result(),
        Some(SubmitResult::Failed { .. })
    ));
    assert_eq!(
        drain(&mut s),
        [Effect::Remind(Reminder::TakeCard)],
        "no paper to take"
    );
    assert_eq!(s.handle(Event::ReprintReceipt, t), Outcome::None);
}

#[test]
fn shoot_asks_for_the_still_of_the_material_shown_live() {
    let t = Instant::now();
    let mut s = at_capture(t);
    drain(&mut s);
    assert_eq!(s.handle(Event::Shoot, t), Outcome::Changed);
    assert_eq!(
        drain(&mut s),
        [Effect::Shoot {
            material: "m_photo_receipt".into()
        }]
    );
    // One still per press.
    assert_eq!(s.handle(Event::Shoot, t), Outcome::None);
    assert_eq!(drain(&mut s), []);
    s.handle(
        Event::Captured {
            material: "m_photo_receipt".into(),
            jpeg: vec![1],
        },
        t,
    );
    s.handle(Event::UsePhoto, t);
    drain(&mut s);
    // Nothing left to photograph, no material shown: "拍照" takes nothing.
    assert_eq!(s.capture_stage(), None);
    assert_eq!(s.handle(Event::Shoot, t), Outcome::None);
    assert_eq!(drain(&mut s), []);
    // Nor anywhere but the capture page.
    let mut s = Session::new(Duration::from_secs(60), t);
    assert_eq!(s.handle(Event::Shoot, t), Outcome::None);
    assert_eq!(drain(&mut s), []);
}

#[test]
fn retake_use_photo_and_select_bring_the_camera_back_live() {
    let t = Instant::now();
    let mut s = at_capture(t);
    drain(&mut s);
    // Nothing to retake or use before a still exists.
    assert_eq!(s.handle(Event::Retake, t), Outcome::None);
    assert_eq!(s.handle(Event::UsePhoto, t), Outcome::None);
    assert_eq!(drain(&mut s), []);
    let still = |s: &mut Session| {
        s.handle(Event::Shoot, t);
        s.handle(
            Event::Captured {
                material: "m_photo_receipt".into(),
                jpeg: vec![1],
            },
            t,
        );
    };
    // Effects wait in order until polled.
    still(&mut s);
    s.handle(Event::Retake, t);
    assert_eq!(
        drain(&mut s),
        [
            Effect::Shoot {
                material: "m_photo_receipt".into()
            },
            Effect::CameraLive
        ]
    );
    still(&mut s);
    drain(&mut s);
    assert_eq!(s.handle(Event::UsePhoto, t), Outcome::Changed);
    assert_eq!(drain(&mut s), [Effect::CameraLive]);
    // Not a material to photograph here: refused.
    assert_eq!(
        s.handle(Event::CaptureSelect("m_hukou".into()), t),
        Outcome::None
    );
    assert_eq!(drain(&mut s), []);
    s.handle(Event::CaptureSelect("m_photo_receipt".into()), t);
    assert_eq!(drain(&mut s), [Effect::CameraLive]);
    // While a still is being taken another material waits.
    s.handle(Event::Shoot, t);
    drain(&mut s);
    assert_eq!(
        s.handle(Event::CaptureSelect("m_photo_receipt".into()), t),
        Outcome::None
    );
    assert_eq!(drain(&mut s), []);
}

#[test]
fn choosing_a_licence_fetches_its_copy_and_confirming_prints_it_once() {
    let t = Instant::now();
    let mut s = at_licences(t);
    // Not on the list: refused, nothing fetched.
    assert_eq!(
        s.handle(Event::ChooseLicence("结婚证".into()), t),
        Outcome::None
    );
    assert_eq!(drain(&mut s), []);
    s.handle(Event::ChooseLicence("居民户口簿".into()), t);
    assert_eq!(
        drain(&mut s),
        [Effect::FetchLicenceCopy {
            licence_type: "居民户口簿".into()
        }]
    );
    // 确认打印 before the copy is in prints nothing.
    assert_eq!(s.handle(Event::PrintLicence, t), Outcome::None);
    assert_eq!(drain(&mut s), []);
    s.handle(
        Event::LicenceCopy {
            licence_type: "居民户口簿".into(),
            result: Ok(licence_copy("居民户口簿")),
        },
        t,
    );
    assert_eq!(drain(&mut s), []);
    assert_eq!(s.handle(Event::PrintLicence, t), Outcome::Changed);
    assert_eq!(
        drain(&mut s),
        [
            Effect::PrintLicence,
            Effect::Remind(Reminder::TakeCardAndPaper)
        ]
    );
    assert_eq!(s.handle(Event::PrintLicence, t), Outcome::None);
    assert_eq!(drain(&mut s), [], "one copy per tap");

    // Nothing chosen before the list arrived.
    let mut s = Session::new(Duration::from_secs(600), t);
    s.handle(Event::CardRead(person()), t);
    s.handle(Event::OpenLicencePrint, t);
    drain(&mut s);
    assert_eq!(
        s.handle(Event::ChooseLicence("居民身份证".into()), t),
        Outcome::None
    );
    assert_eq!(drain(&mut s), []);
}

#[test]
fn licences_are_looked_up_while_licence_printing_waits_for_them() {
    let t = Instant::now();
    let mut s = Session::new(Duration::from_secs(600), t);
    // Nobody identified yet: the card comes first, nothing to ask.
    s.handle(Event::OpenLicencePrint, t);
    assert_eq!(s.current(), &Screen::Identify);
    assert_eq!(drain(&mut s), []);
    s.handle(Event::CardRead(person()), t);
    assert_eq!(s.current(), &Screen::Licences);
    assert_eq!(
        drain(&mut s),
        [Effect::LookUpLicences, Effect::Remind(Reminder::TakeCard)]
    );
    // Still waiting, with the look-up on its way: not asked twice.
    assert_eq!(s.handle(Event::Touch, t), Outcome::None);
    assert_eq!(
        s.handle(Event::CardError(CardError::Replace), t),
        Outcome::Changed
    );
    assert_eq!(drain(&mut s), []);
    assert_eq!(
        s.handle(Event::ChooseLicence("居民身份证".into()), t),
        Outcome::None
    );
    assert_eq!(drain(&mut s), []);
    s.handle(Event::LicencesFailed, t);
    assert_eq!(drain(&mut s), [], "failed: asked again only on 重新查询");
    s.handle(Event::RetryLicences, t);
    assert_eq!(drain(&mut s), [Effect::LookUpLicences]);
    s.handle(Event::Licences(vec!["居民身份证".into()]), t);
    assert_eq!(drain(&mut s), [], "answered");
    // Another card on the list page: its own look-up.
    let mut other = person();
    other.id_number = crate::core::domain::IdNumber::complete("50010319900307123").unwrap();
    s.handle(Event::CardRead(other), t);
    assert_eq!(
        drain(&mut s),
        [Effect::LookUpLicences, Effect::Remind(Reminder::TakeCard)]
    );
    // Identified elsewhere: asked at once (the checklist's 免提交 needs them); 证照打印 then
    // waits for that answer, and a second read of the same card asks nothing more.
    let mut s = Session::new(Duration::from_secs(600), t);
    s.handle(Event::Open(Screen::Identify), t);
    s.handle(Event::CardRead(person()), t);
    assert_eq!(
        drain(&mut s),
        [Effect::LookUpLicences, Effect::Remind(Reminder::TakeCard)]
    );
    s.handle(Event::OpenLicencePrint, t);
    s.handle(Event::CardRead(person()), t);
    assert_eq!(drain(&mut s), []);
    s.handle(Event::Licences(vec!["居民身份证".into()]), t);
    s.handle(Event::CardRead(person()), t);
    assert_eq!(drain(&mut s), [], "answered already");
    // "不是本人/更换" forgets the look-up; the next card has its own.
    s.handle(Event::ChangePerson, t);
    s.handle(Event::CardRead(person()), t);
    assert_eq!(
        drain(&mut s),
        [Effect::LookUpLicences, Effect::Remind(Reminder::TakeCard)]
    );
}

#[test]
fn a_wipe_drops_the_effects_not_yet_taken() {
    let t = Instant::now();
    // Home.
    let mut s = at_review(t);
    s.handle(Event::Submit, t);
    assert_eq!(s.handle(Event::Home, t), Outcome::Wiped);
    assert_eq!(s.poll_effect(), None);
    // The hidden gesture.
    let mut s = at_capture(t);
    s.handle(Event::Shoot, t);
    assert_eq!(s.handle(Event::OpenTechLogin, t), Outcome::Wiped);
    assert_eq!(s.poll_effect(), None);
    // Walking away.
    let mut s = at_licences(t);
    s.handle(Event::ChooseLicence("居民身份证".into()), t);
    s.handle(Event::Tick, t + Duration::from_secs(600));
    assert_eq!(
        s.handle(Event::Tick, t + Duration::from_secs(620)),
        Outcome::Wiped
    );
    assert_eq!(s.poll_effect(), None);
}
