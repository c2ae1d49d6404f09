//! The session's unit tests (the effects it queues: `effects`).

use super::*;
use crate::core::catalog::Catalog;
use crate::core::domain::IdNumber;
use crate::core::platform::wire::LicenceDocument;

fn person() -> Person {
    Person {
        name: "张三".into(),
        id_number: IdNumber::complete("11010519491231002").unwrap(),
        address: "重庆市渝中区解放碑街道1号".into(),
    }
}

/// A fresh session (60 s idle limit) with `screen` opened.
fn opened(screen: Screen, t: Instant) -> Session {
    let mut s = Session::new(Duration::from_secs(60), t);
    s.handle(Event::Open(screen), t);
    s
}

fn id_card_renewal() -> Matter {
    crate::core::catalog::demo_matter("居民身份证换领")
}

#[test]
fn back_walks_the_path_and_home_clears_it() {
    let t = Instant::now();
    let mut s = Session::new(Duration::from_secs(60), t);
    assert!(!s.can_go_back());
    s.handle(Event::Open(Screen::Departments), t);
    s.handle(
        Event::Open(Screen::Matters {
            department: "医保".into(),
        }),
        t,
    );
    s.handle(Event::Back, t);
    assert_eq!(s.current(), &Screen::Departments);
    assert_eq!(s.handle(Event::Home, t), Outcome::Wiped);
    assert_eq!(s.current(), &Screen::Home);
    s.handle(Event::Back, t);
    assert_eq!(s.current(), &Screen::Home);
}

#[test]
fn opening_the_same_screen_twice_does_not_stack_it() {
    let t = Instant::now();
    let mut s = opened(Screen::Bundles, t);
    s.handle(Event::Open(Screen::Bundles), t);
    s.handle(Event::Back, t);
    assert_eq!(s.current(), &Screen::Home);
}

#[test]
fn guide_asks_each_question_then_shows_the_checklist_and_back_reopens_one() {
    let t = Instant::now();
    let mut s = opened(Screen::Find, t);
    s.handle(Event::ChooseMatter(Box::new(id_card_renewal())), t);
    assert_eq!(s.current(), &Screen::Guide { question: 0 });
    assert_eq!(s.question(0).unwrap().id, "q_reason");
    // An option of another question, or two for a single choice, is refused.
    s.handle(Event::Answer(vec!["o_minor_no".into()]), t);
    s.handle(
        Event::Answer(vec!["o_expiry".into(), "o_damaged".into()]),
        t,
    );
    assert_eq!(s.current(), &Screen::Guide { question: 0 });
    s.handle(Event::Answer(vec!["o_change".into()]), t);
    assert_eq!(s.current(), &Screen::Guide { question: 1 });
    s.handle(Event::Back, t);
    assert_eq!(s.current(), &Screen::Guide { question: 0 });
    s.handle(Event::Answer(vec!["o_expiry".into()]), t);
    s.handle(Event::Answer(vec!["o_minor_no".into()]), t);
    s.handle(Event::Answer(vec!["o_pick_window".into()]), t);
    assert_eq!(s.current(), &Screen::Checklist);
    assert_eq!(s.chosen(), ["o_expiry", "o_minor_no", "o_pick_window"]);
}

#[test]
fn conditional_question_is_asked_only_after_its_trigger() {
    let t = Instant::now();
    let birth = Catalog::demo()
        .unwrap()
        .matters
        .into_iter()
        .find(|m| m.questions.iter().any(|q| q.id == "q_follow"))
        .unwrap();
    let mut s = Session::new(Duration::from_secs(60), t);
    s.handle(Event::ChooseMatter(Box::new(birth.clone())), t);
    s.handle(Event::Answer(vec!["o_married".into()]), t);
    assert_eq!(s.current(), &Screen::Checklist);
    s.handle(Event::ChooseMatter(Box::new(birth)), t);
    s.handle(Event::Answer(vec!["o_unmarried".into()]), t);
    assert_eq!(s.current(), &Screen::Guide { question: 1 });
    assert_eq!(s.question(1).unwrap().id, "q_follow");
}

#[test]
fn card_errors_keep_user_and_device_faults_apart_and_a_read_clears_them() {
    let t = Instant::now();
    let mut s = opened(Screen::Identify, t);
    s.handle(Event::CardError(CardError::Replace), t);
    assert_eq!(s.card_status(), CardStatus::Error(CardError::Replace));
    s.handle(Event::CardError(CardError::Device), t);
    assert_eq!(s.card_status(), CardStatus::Error(CardError::Device));
    s.handle(Event::CardReady, t);
    assert_eq!(s.card_status(), CardStatus::Waiting);
    s.handle(Event::CardError(CardError::Replace), t);
    s.handle(Event::CardRead(person()), t);
    assert_eq!(s.card_status(), CardStatus::Waiting);
    assert_eq!(s.person().unwrap().name, "张三");
    assert_eq!(s.current(), &Screen::Identify);
    s.handle(Event::ChangePerson, t);
    assert!(s.person().is_none());
    assert_eq!(s.current(), &Screen::Identify);
}

#[test]
fn idle_shows_a_countdown_that_a_touch_cancels() {
    let t = Instant::now();
    let mut s = opened(Screen::Find, t);
    assert_eq!(
        s.handle(Event::Tick, t + Duration::from_secs(59)),
        Outcome::None
    );
    assert_eq!(s.countdown(), None);
    assert_eq!(
        s.handle(Event::Tick, t + Duration::from_secs(60)),
        Outcome::Changed
    );
    assert_eq!(s.countdown(), Some(20));
    s.handle(Event::Tick, t + Duration::from_secs(65));
    assert_eq!(s.countdown(), Some(15));
    assert_eq!(
        s.handle(Event::KeepSession, t + Duration::from_secs(66)),
        Outcome::Changed
    );
    assert_eq!(s.countdown(), None);
    assert_eq!(s.current(), &Screen::Find);
    // The idle clock restarted at the touch.
    assert_eq!(
        s.handle(Event::Tick, t + Duration::from_secs(125)),
        Outcome::None
    );
}

#[test]
fn any_citizen_action_restarts_the_idle_clock() {
    let t = Instant::now();
    let mut s = opened(Screen::Find, t);
    s.handle(Event::Search("s".into()), t + Duration::from_secs(50));
    assert_eq!(
        s.handle(Event::Tick, t + Duration::from_secs(100)),
        Outcome::None
    );
    s.handle(Event::Tick, t + Duration::from_secs(110));
    assert_eq!(s.countdown(), Some(20));
    // A key press during the countdown keeps the session, like "继续办理".
    s.handle(Event::Search("sf".into()), t + Duration::from_secs(111));
    assert_eq!(s.countdown(), None);
    // Results arriving by themselves are not activity.
    s.handle(Event::CardReady, t + Duration::from_secs(171));
    assert_eq!(
        s.handle(Event::Tick, t + Duration::from_secs(171)),
        Outcome::Changed
    );
}

#[test]
fn walking_away_wipes_every_piece_of_personal_data() {
    let t = Instant::now();
    let mut s = Session::new(Duration::from_secs(60), t);
    s.handle(Event::CardRead(person()), t);
    s.handle(Event::Open(Screen::Find), t);
    s.handle(Event::Search("sfz".into()), t);
    s.handle(Event::ChooseMatter(Box::new(id_card_renewal())), t);
    s.handle(Event::Answer(vec!["o_expiry".into()]), t);
    s.handle(
        Event::FieldInput {
            field: "phone".into(),
            value: "13800000000".into(),
        },
        t,
    );
    assert!(s.holds_personal_data());
    s.handle(Event::Tick, t + Duration::from_secs(60));
    assert_eq!(s.countdown(), Some(20));
    assert_eq!(
        s.handle(Event::Tick, t + Duration::from_secs(79)),
        Outcome::Changed
    );
    assert_eq!(
        s.handle(Event::Tick, t + Duration::from_secs(80)),
        Outcome::Wiped
    );
    assert_eq!(s.current(), &Screen::Home);
    assert!(!s.holds_personal_data());
    assert!(!s.is_active());
    assert!(s.person().is_none());
    assert_eq!(s.query(), "");
    assert!(s.matter().is_none());
    assert!(s.answers().is_empty());
    assert!(s.fields().is_empty());
    assert_eq!(s.countdown(), None);
    // Home and empty: nothing to count down.
    assert_eq!(
        s.handle(Event::Tick, t + Duration::from_secs(999)),
        Outcome::None
    );
}

/// Renewal by post: the phone and address fields are asked for.
fn to_checklist(s: &mut Session, t: Instant) {
    s.handle(Event::ChooseMatter(Box::new(id_card_renewal())), t);
    for a in ["o_expiry", "o_minor_no", "o_pick_post"] {
        s.handle(Event::Answer(vec![a.into()]), t);
    }
    assert_eq!(s.current(), &Screen::Checklist);
}

#[test]
fn apply_identifies_first_then_checks_the_form_captures_and_submits_once() {
    let t = Instant::now();
    let mut s = Session::new(Duration::from_secs(60), t);
    to_checklist(&mut s, t);
    // Not identified yet: the card comes first, then the form.
    s.handle(Event::StartApply, t);
    assert_eq!(s.current(), &Screen::Identify);
    s.handle(Event::CardRead(person()), t);
    assert_eq!(s.current(), &Screen::Form);
    // The phone and address are missing.
    s.handle(Event::FormNext, t);
    assert_eq!(s.current(), &Screen::Form);
    assert!(s.form_errors().contains_key("f_phone"));
    assert!(s.form_errors().contains_key("f_post_address"));
    let input = |field: &str, value: &str| Event::FieldInput {
        field: field.into(),
        value: value.into(),
    };
    s.handle(input("f_phone", "1380000"), t);
    assert!(
        !s.form_errors().contains_key("f_phone"),
        "typing clears the error"
    );
    s.handle(input("f_post_address", "重庆市渝中区解放碑街道1号"), t);
    s.handle(Event::FormNext, t);
    assert_eq!(s.form_errors()["f_phone"], "手机号应为11位数字，以1开头");
    s.handle(input("f_phone", "13800000000"), t);
    s.handle(Event::FormNext, t);
    // The photo receipt is photographed here.
    assert_eq!(s.current(), &Screen::Capture);
    assert_eq!(s.to_capture().len(), 1);
    // The first material to photograph is shown live at once.
    assert!(s.camera_wanted());
    s.handle(Event::Shoot, t);
    s.handle(
        Event::Captured {
            material: "m_hukou".into(),
            jpeg: vec![1],
        },
        t,
    );
    assert!(s.images().is_empty(), "not a material to photograph");
    s.handle(
        Event::Captured {
            material: "m_photo_receipt".into(),
            jpeg: vec![0xff, 0xd8],
        },
        t,
    );
    assert_eq!(s.images().len(), 1);
    s.handle(Event::UsePhoto, t);
    s.handle(Event::CaptureDone, t);
    assert!(!s.camera_wanted());
    assert_eq!(s.current(), &Screen::Review);
    // A result nobody asked for is ignored; a second press while submitting is too.
    let stored = || Event::stored("c1", "7", None);
    assert_eq!(s.handle(stored(), t), Outcome::None);
    s.sign_for_test(t);
    assert_eq!(s.handle(Event::Submit, t), Outcome::Changed);
    assert!(s.submitting());
    assert_eq!(s.handle(Event::Submit, t), Outcome::None);
    assert_eq!(s.handle(Event::Back, t), Outcome::None);
    s.handle(stored(), t);
    assert_eq!(s.current(), &Screen::Done);
    assert!(
        s.images().values().all(Vec::is_empty),
        "the images now live sealed in the outbox"
    );
    assert!(s.images().contains_key("m_photo_receipt"));
    // Submitting again from the done page is impossible.
    assert_eq!(s.handle(Event::Submit, t), Outcome::None);
    // The outbox delivers it: the unified code replaces 已暂存.
    s.handle(
        Event::Delivered {
            case_id: "other".into(),
            unified_code: "X".into(),
        },
        t,
    );
    assert!(matches!(
        s.submit_result(),
        Some(SubmitResult::Queued { .. })
    ));
    s.handle(
        Event::Delivered {
            case_id: "c1".into(),
            unified_code: "U-1".into(),
        },
        t,
    );
    assert!(matches!(
        s.submit_result(),
        Some(SubmitResult::Submitted { unified_code, .. }) if unified_code == "U-1"
    ));
}

fn licence_copy(licence_type: &str) -> Box<LicenceDocument> {
    Box::new(LicenceDocument {
        licence_type: licence_type.into(),
        holder_name_masked: "张*".into(),
        number_masked: "****0027".into(),
        issuer: "重庆市公安局".into(),
        issued_on: "2015-06-01".into(),
        valid_until: "长期".into(),
        fields: Vec::new(),
        verification_code: "ABCD-0000-1111-2222".into(),
        verification_url: "https://example.invalid/v?code=ABCD".into(),
        verification_expires_at: "2026-12-27T00:00:00Z".into(),
    })
}

#[test]
fn licence_printing_identifies_first_lists_fetches_confirms_and_prints_once() {
    let t = Instant::now();
    let mut s = Session::new(Duration::from_secs(60), t);
    s.handle(Event::OpenLicencePrint, t);
    assert_eq!(s.current(), &Screen::Identify);
    s.handle(Event::CardRead(person()), t);
    assert_eq!(s.current(), &Screen::Licences);
    assert_eq!(s.licence_lookup(), LicenceLookup::Waiting);
    // Nothing can be chosen before the list arrives, nor a licence not on it.
    assert_eq!(
        s.handle(Event::ChooseLicence("居民户口簿".into()), t),
        Outcome::None
    );
    s.handle(
        Event::Licences(vec!["居民身份证".into(), "居民户口簿".into()]),
        t,
    );
    assert_eq!(s.licence_lookup(), LicenceLookup::Found);
    assert_eq!(
        s.handle(Event::ChooseLicence("结婚证".into()), t),
        Outcome::None
    );
    s.handle(Event::ChooseLicence("居民户口簿".into()), t);
    assert_eq!(s.current(), &Screen::LicenceConfirm);
    assert!(matches!(
        s.licence_copy(),
        Some(LicenceCopy::Fetching { .. })
    ));
    // 确认打印 waits for the copy; a copy of another licence is ignored.
    assert_eq!(s.handle(Event::PrintLicence, t), Outcome::None);
    assert_eq!(
        s.handle(
            Event::LicenceCopy {
                licence_type: "居民身份证".into(),
                result: Ok(licence_copy("居民身份证")),
            },
            t
        ),
        Outcome::None
    );
    s.handle(
        Event::LicenceCopy {
            licence_type: "居民户口簿".into(),
            result: Ok(licence_copy("居民户口簿")),
        },
        t,
    );
    assert!(matches!(s.licence_copy(), Some(LicenceCopy::Ready(_))));
    assert_eq!(s.handle(Event::PrintLicence, t), Outcome::Changed);
    assert_eq!(s.current(), &Screen::LicencePrinted);
    assert_eq!(
        s.handle(Event::PrintLicence, t),
        Outcome::None,
        "one copy per tap"
    );
    // Back leads to the list (another licence), not to 确认打印.
    s.handle(Event::Back, t);
    assert_eq!(s.current(), &Screen::Licences);
    assert!(s.licence_copy().is_none());
    assert!(s.holds_personal_data());
    assert_eq!(s.handle(Event::Home, t), Outcome::Wiped);
    assert!(!s.holds_personal_data());
    assert_eq!(s.licence_lookup(), LicenceLookup::Waiting);
}

#[test]
fn licence_printing_says_when_the_platform_is_out_of_reach_or_the_copy_refused() {
    let t = Instant::now();
    let mut s = Session::new(Duration::from_secs(60), t);
    s.handle(Event::CardRead(person()), t);
    s.handle(Event::OpenLicencePrint, t);
    assert_eq!(s.current(), &Screen::Licences, "already identified");
    s.handle(Event::LicencesFailed, t);
    assert_eq!(s.licence_lookup(), LicenceLookup::Failed);
    s.handle(Event::RetryLicences, t);
    assert_eq!(s.licence_lookup(), LicenceLookup::Waiting);
    s.handle(Event::Licences(vec!["居民身份证".into()]), t);
    // A late failure does not undo an answer.
    assert_eq!(s.handle(Event::LicencesFailed, t), Outcome::None);
    assert_eq!(s.licence_lookup(), LicenceLookup::Found);
    s.handle(Event::ChooseLicence("居民身份证".into()), t);
    s.handle(
        Event::LicenceCopy {
            licence_type: "居民身份证".into(),
            result: Err("暂时连不上政务服务平台".into()),
        },
        t,
    );
    assert!(matches!(
        s.licence_copy(),
        Some(LicenceCopy::Failed { reason, .. }) if reason.contains("连不上")
    ));
    assert_eq!(s.handle(Event::PrintLicence, t), Outcome::None);
    s.handle(Event::Back, t);
    assert_eq!(s.current(), &Screen::Licences);
    assert!(s.licence_copy().is_none());
    // Another card: its own look-up.
    let mut other = person();
    other.id_number = IdNumber::complete("50010319900307123").unwrap();
    s.handle(Event::CardRead(other), t);
    assert_eq!(s.licence_lookup(), LicenceLookup::Waiting);
    assert!(s.licences().is_empty());
}

#[test]
fn leaving_the_identify_page_without_a_card_forgets_what_was_to_follow() {
    let t = Instant::now();
    let mut s = Session::new(Duration::from_secs(60), t);
    s.handle(Event::OpenLicencePrint, t);
    s.handle(Event::Back, t);
    assert_eq!(s.current(), &Screen::Home);
    s.handle(Event::Open(Screen::Identify), t);
    s.handle(Event::CardRead(person()), t);
    assert_eq!(s.current(), &Screen::Identify);
}

#[test]
fn evaluating_ends_the_session_and_so_does_not_answering() {
    let t = Instant::now();
    let done = |s: &mut Session| {
        s.handle(Event::CardRead(person()), t);
        to_checklist(s, t);
        s.handle(Event::StartApply, t);
        s.handle(Event::Open(Screen::Review), t);
        s.sign_for_test(t);
        s.handle(Event::Submit, t);
        s.handle(Event::stored("c", "1", None), t);
        assert_eq!(s.current(), &Screen::Done);
        s.handle(Event::OpenEvaluate, t);
        assert_eq!(s.current(), &Screen::Evaluate);
    };
    let mut s = Session::new(Duration::from_secs(600), t);
    done(&mut s);
    assert_eq!(s.handle(Event::SkipEvaluation, t), Outcome::Wiped);
    assert!(!s.holds_personal_data());

    let mut s = Session::new(Duration::from_secs(600), t);
    done(&mut s);
    // The card reminder's end is a change of its own.
    s.handle(Event::Tick, t + REMINDER_SHOWN);
    assert_eq!(
        s.handle(Event::Tick, t + EVALUATE_TIMEOUT - Duration::from_secs(1)),
        Outcome::None
    );
    assert_eq!(s.handle(Event::Tick, t + EVALUATE_TIMEOUT), Outcome::Wiped);
    assert!(!s.holds_personal_data());
    assert_eq!(s.current(), &Screen::Home);

    // "Back" from the done page ends the errand too.
    let mut s = Session::new(Duration::from_secs(600), t);
    done(&mut s);
    s.handle(Event::Back, t);
    assert_eq!(s.handle(Event::Back, t), Outcome::Wiped);
    assert!(!s.holds_personal_data());
}

/// At the capture page of the renewal by post (one material: the photo receipt).
fn at_capture(t: Instant) -> Session {
    let mut s = Session::new(Duration::from_secs(600), t);
    s.handle(Event::CardRead(person()), t);
    to_checklist(&mut s, t);
    s.handle(Event::StartApply, t);
    for (f, v) in [
        ("f_phone", "13800000000"),
        ("f_post_address", "重庆市渝中区解放碑街道1号"),
    ] {
        s.handle(
            Event::FieldInput {
                field: f.into(),
                value: v.into(),
            },
            t,
        );
    }
    s.handle(Event::FormNext, t);
    assert_eq!(s.current(), &Screen::Capture);
    s
}

fn live(m: &str) -> Option<CaptureStage> {
    Some(CaptureStage::Live { material: m.into() })
}

#[test]
fn capture_goes_live_shoots_checks_and_retakes() {
    let t = Instant::now();
    let mut s = at_capture(t);
    assert_eq!(s.capture_stage().cloned(), live("m_photo_receipt"));
    assert!(s.camera_wanted());
    // Nothing to use or retake before a still exists.
    assert_eq!(s.handle(Event::Retake, t), Outcome::None);
    assert_eq!(s.handle(Event::UsePhoto, t), Outcome::None);
    assert_eq!(s.handle(Event::Shoot, t), Outcome::Changed);
    assert_eq!(
        s.capture_stage(),
        Some(&CaptureStage::Taking {
            material: "m_photo_receipt".into()
        })
    );
    // One still per press; "下一步" and other materials wait for it.
    assert_eq!(s.handle(Event::Shoot, t), Outcome::None);
    assert_eq!(s.handle(Event::CaptureDone, t), Outcome::None);
    assert_eq!(s.current(), &Screen::Capture);
    s.handle(
        Event::Captured {
            material: "m_photo_receipt".into(),
            jpeg: vec![1, 2],
        },
        t,
    );
    assert_eq!(
        s.capture_stage(),
        Some(&CaptureStage::Check {
            material: "m_photo_receipt".into()
        })
    );
    assert_eq!(s.images()["m_photo_receipt"], [1, 2]);
    // The camera stays open (paused) while the still is checked.
    assert!(s.camera_wanted());
    // 重拍: the photo goes, the live picture returns.
    s.handle(Event::Retake, t);
    assert_eq!(s.capture_stage().cloned(), live("m_photo_receipt"));
    assert!(s.images().is_empty());
    // A failed still returns to the live picture too.
    s.handle(Event::Shoot, t);
    s.handle(Event::CaptureFailed, t);
    assert_eq!(s.capture_stage().cloned(), live("m_photo_receipt"));
    s.handle(Event::Shoot, t);
    s.handle(
        Event::Captured {
            material: "m_photo_receipt".into(),
            jpeg: vec![3],
        },
        t,
    );
    // 使用这张: nothing left to photograph, so the camera stops.
    s.handle(Event::UsePhoto, t);
    assert_eq!(s.capture_stage(), None);
    assert!(!s.camera_wanted());
    assert_eq!(s.images()["m_photo_receipt"], [3]);
    // Tapping the material again shows it live (to photograph it again).
    assert_eq!(
        s.handle(Event::CaptureSelect("m_hukou".into()), t),
        Outcome::None,
        "not a material to photograph"
    );
    s.handle(Event::CaptureSelect("m_photo_receipt".into()), t);
    assert!(s.camera_wanted());
    s.handle(Event::CaptureDone, t);
    assert_eq!(s.current(), &Screen::Review);
    assert!(!s.camera_wanted());
    assert_eq!(s.images()["m_photo_receipt"], [3]);
}

#[test]
fn leaving_the_capture_page_stops_the_camera_and_drops_a_late_still() {
    let t = Instant::now();
    let mut s = at_capture(t);
    s.handle(Event::Shoot, t);
    s.handle(Event::Back, t);
    assert_eq!(s.current(), &Screen::Form);
    assert!(!s.camera_wanted());
    assert_eq!(
        s.handle(
            Event::Captured {
                material: "m_photo_receipt".into(),
                jpeg: vec![9],
            },
            t,
        ),
        Outcome::None
    );
    assert!(s.images().is_empty());
    // Back on the page, the live picture starts again.
    s.handle(Event::FormNext, t);
    assert_eq!(s.capture_stage().cloned(), live("m_photo_receipt"));
    // Walking away wipes it all: no camera, no photo.
    s.handle(Event::Shoot, t);
    s.handle(
        Event::Captured {
            material: "m_photo_receipt".into(),
            jpeg: vec![9],
        },
        t,
    );
    s.handle(Event::Tick, t + Duration::from_secs(600));
    assert_eq!(
        s.handle(Event::Tick, t + Duration::from_secs(620)),
        Outcome::Wiped
    );
    assert!(!s.camera_wanted());
    assert_eq!(s.capture_stage(), None);
    assert!(s.images().is_empty());
}

#[test]
fn upload_progress_counts_only_this_citizens_case() {
    let t = Instant::now();
    let mut s = at_capture(t);
    let progress = |id: &str, sent| Event::UploadProgress {
        case_id: id.into(),
        sent,
        total: 200,
    };
    // Nothing submitted: a delivery in the background is not this citizen's.
    assert_eq!(s.handle(progress("other", 10), t), Outcome::None);
    s.handle(Event::CaptureDone, t);
    s.sign_for_test(t);
    s.handle(Event::Submit, t);
    // Stored, its unified code awaited: only that case counts.
    s.handle(
        Event::stored("c1", "1", Some(t + Duration::from_secs(3))),
        t,
    );
    assert!(s.submitting(), "the platform's answer is awaited");
    assert_eq!(s.handle(progress("other", 10), t), Outcome::None);
    s.handle(progress("c1", 50), t);
    assert_eq!(s.upload_progress().unwrap().fraction(), 0.25);
    // No answer in time: 已暂存, and still only that case.
    s.handle(Event::Tick, t + Duration::from_secs(3));
    assert!(matches!(
        s.submit_result(),
        Some(SubmitResult::Queued { case_id, .. }) if case_id == "c1"
    ));
    assert_eq!(s.handle(progress("other", 200), t), Outcome::None);
    assert_eq!(s.upload_progress().unwrap().sent, 50);
    s.handle(progress("c1", 200), t);
    assert_eq!(s.upload_progress().unwrap().fraction(), 1.0);
    assert_eq!(s.handle(Event::Home, t), Outcome::Wiped);
    assert_eq!(s.upload_progress(), None);
}

mod effects;
mod evaluate;
mod hall;
mod input;
mod operations;
mod technician;
mod vendor;
mod wipe;

#[test]
fn a_certificate_is_fetched_verified_printed_and_reprinted_once_after_a_failure() {
    use crate::core::certificate::VerifiedCertificate;
    use crate::core::platform::wire::CertificateType;
    let t = Instant::now();
    let mut s = Session::new(Duration::from_secs(60), t);
    s.handle(Event::CardRead(person()), t);
    s.handle(Event::OpenLicencePrint, t);
    s.handle(Event::Licences(vec!["居民身份证".into()]), t);
    while s.poll_effect().is_some() {}
    s.handle(
        Event::Certificates(vec![CertificateType {
            task_code: "T-SB".into(),
            title: "社会保险参保证明".into(),
        }]),
        t,
    );
    assert_eq!(s.certificates().len(), 1);
    s.handle(Event::ChooseLicence("社会保险参保证明".into()), t);
    assert_eq!(s.current(), &Screen::LicenceConfirm);
    assert!(matches!(
        s.poll_effect(),
        Some(Effect::FetchCertificate { task_code, .. }) if task_code == "T-SB"
    ));
    // A refused certificate (bad signature) is shown as such; it cannot be printed.
    s.handle(
        Event::CertificateReady {
            title: "社会保险参保证明".into(),
            result: Err("证明文件的电子签名校验未通过，本机不予打印，请到窗口办理".into()),
        },
        t,
    );
    assert!(matches!(s.licence_copy(), Some(LicenceCopy::Failed { .. })));
    assert_eq!(s.handle(Event::PrintLicence, t), Outcome::None);
    // Chosen again, this time good.
    s.handle(Event::Back, t);
    s.handle(Event::ChooseLicence("社会保险参保证明".into()), t);
    s.handle(
        Event::CertificateReady {
            title: "社会保险参保证明".into(),
            result: Ok(Box::new(VerifiedCertificate {
                title: "社会保险参保证明".into(),
                pdf: b"%PDF-1.7\n%%EOF\n".to_vec(),
                verification_code: "ABCD".into(),
                pages: 2,
            })),
        },
        t,
    );
    while s.poll_effect().is_some() {}
    assert_eq!(s.handle(Event::PrintLicence, t), Outcome::Changed);
    assert!(matches!(s.poll_effect(), Some(Effect::PrintLicence)));
    assert_eq!(
        s.poll_effect(),
        Some(Effect::Remind(Reminder::TakeCardAndPaper))
    );
    assert!(!s.can_reprint_licence(), "nothing failed yet");
    assert_eq!(s.handle(Event::ReprintLicence, t), Outcome::None);
    // Paper out: the one reprint is offered, and used once.
    s.handle(Event::LicencePrintEnded(false), t);
    assert!(s.can_reprint_licence());
    assert_eq!(s.handle(Event::ReprintLicence, t), Outcome::Changed);
    assert!(matches!(s.poll_effect(), Some(Effect::PrintLicence)));
    s.handle(Event::LicencePrintEnded(false), t);
    assert!(!s.can_reprint_licence(), "only one reprint");
    assert_eq!(s.handle(Event::ReprintLicence, t), Outcome::None);
    assert!(s.poll_effect().is_none());
}
