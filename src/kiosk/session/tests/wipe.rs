//! `Session::wipe` is the only wipe: a session filled with everything personal it can hold
//! comes out of it as a fresh one.

use super::hall::ticket;
use super::technician::{section, try_pin, type_in};
use super::{licence_copy, person, to_checklist};
use crate::core::domain::{CardError, EvaluationLevel};
use crate::core::search::SearchHit;
use crate::kiosk::session::*;
use std::time::{Duration, Instant};

fn drain(s: &mut Session) -> Vec<Effect> {
    std::iter::from_fn(|| s.poll_effect()).collect()
}

/// A fresh session whose throttle has seen one wrong PIN, like the filled one below (the
/// throttle outlives wipes on purpose).
fn fresh_after_one_wrong_pin(t: Instant) -> Session {
    let mut s = Session::new(Duration::from_secs(600), t).with_technicians(Some(&section()));
    s.handle(Event::OpenTechLogin, t);
    try_pin(&mut s, "0000", t);
    s.handle(Event::Home, t);
    drain(&mut s);
    s
}

/// A session holding every personal thing at once (the form typed into last).
fn filled(t: Instant) -> Session {
    let mut s = Session::new(Duration::from_secs(600), t).with_technicians(Some(&section()));
    // 维护模式 first (the gesture wipes a citizen): a technician signed in, and the PIN pad
    // with an id and half a PIN on it.
    s.handle(Event::OpenTechLogin, t);
    try_pin(&mut s, "2468", t);
    s.handle(Event::Open(Screen::TechLogin), t);
    try_pin(&mut s, "0000", t);
    type_in(&mut s, TechField::Pin, "24", t);
    // The card, a card error after it, what the identify page says, a search and its answer.
    s.handle(Event::CardRead(person()), t);
    s.handle(Event::CardError(CardError::Replace), t);
    s.handle(Event::YkmScanned("YKM1".into()), t);
    s.handle(Event::Open(Screen::Find), t);
    s.handle(Event::Search("sfz".into()), t);
    let hit = SearchHit {
        task_code: "T1".into(),
        name: "居民身份证换领".into(),
        department: "公安".into(),
        self_service: true,
        tier: 0,
        popularity: 0,
    };
    s.handle(
        Event::Found {
            query: "sfz".into(),
            hits: vec![hit],
        },
        t,
    );
    // The hall: 绿色通道, 预约签到 and its code, a refusal, a progress answer, a ticket.
    s.handle(Event::Open(Screen::Tickets), t);
    s.handle(Event::ToggleGreen, t);
    s.handle(Event::ToggleCheckin, t);
    s.handle(Event::CheckinKey(Key::Text("ab12".into())), t);
    s.handle(Event::Open(Screen::Progress), t);
    s.handle(Event::ProgressInput("99".into()), t);
    s.handle(
        Event::ProgressAnswer {
            title: "没有找到这个编号".into(),
            detail: "—".into(),
        },
        t,
    );
    s.handle(Event::Open(Screen::Tickets), t);
    s.handle(Event::TicketRefused("预约 AB12 已签到".into()), t);
    s.handle(Event::TicketIssued(ticket()), t);
    // 好差评 half given.
    s.handle(Event::OpenEvaluate, t);
    s.handle(Event::ChooseLevel(EvaluationLevel::Dissatisfied), t);
    s.handle(Event::ToggleReason("设备故障".into()), t);
    // The errand: answers, the form, a photo, e-licences and a copy, the case stored and
    // its code awaited, the upload under way; then back on the form, composing pinyin.
    to_checklist(&mut s, t);
    s.handle(Event::StartApply, t);
    for (field, value) in [
        ("f_phone", "13800000000"),
        ("f_post_address", "重庆市渝中区解放碑街道1号"),
    ] {
        s.handle(
            Event::FieldInput {
                field: field.into(),
                value: value.into(),
            },
            t,
        );
    }
    s.handle(Event::FormNext, t);
    s.handle(Event::Shoot, t);
    s.handle(
        Event::Captured {
            material: "m_photo_receipt".into(),
            jpeg: vec![0xff, 0xd8],
        },
        t,
    );
    s.handle(Event::Licences(vec!["居民身份证".into()]), t);
    s.handle(Event::OpenLicencePrint, t);
    s.handle(Event::ChooseLicence("居民身份证".into()), t);
    s.handle(
        Event::LicenceCopy {
            licence_type: "居民身份证".into(),
            result: Ok(licence_copy("居民身份证")),
        },
        t,
    );
    s.handle(Event::Open(Screen::Review), t);
    s.sign_for_test(t);
    s.handle(Event::Submit, t);
    s.handle(
        Event::stored("c1", "1", Some(t + Duration::from_secs(86_400))),
        t,
    );
    s.handle(
        Event::UploadProgress {
            case_id: "c1".into(),
            sent: 1,
            total: 2,
        },
        t,
    );
    s.handle(Event::Open(Screen::Form), t);
    s.handle(Event::EditField("f_post_address".into()), t);
    s.handle(Event::FormKey(Key::Text("c".into())), t);
    s.handle(Event::ChooseCandidate("重庆".into()), t);
    s.handle(Event::FormKey(Key::Text("y".into())), t);
    s
}

#[test]
fn a_wipe_leaves_nothing_personal_of_the_citizen_or_the_technician() {
    let t = Instant::now();
    let mut s = filled(t);
    // All of it is there.
    assert!(s.person().is_some() && s.card_status() != CardStatus::Waiting);
    assert_eq!(s.identify_note(), "正在核验渝快码…");
    assert!(s.search_hits().is_some_and(|h| !h.is_empty()));
    assert!(s.matter().is_some() && !s.answers().is_empty());
    assert!(s.fields()["f_post_address"].ends_with("重庆"));
    assert_eq!((s.editing(), s.composing()), ("f_post_address", "y"));
    assert!(!s.images().is_empty() && s.capture_stage().is_some());
    assert!(!s.licences().is_empty() && s.licence_copy().is_some());
    assert!(s.submitting() && s.upload_progress().is_some());
    assert!(s.green() && s.checkin() && s.checkin_code() == "AB12");
    assert_eq!(s.ticket_note(), "", "cleared by the ticket issued");
    assert!(s.issued().is_some() && s.progress().is_some());
    assert_eq!(s.evaluation_level(), Some(EvaluationLevel::Dissatisfied));
    assert_eq!(s.evaluation_reasons(), ["设备故障"]);
    assert_eq!(s.technician(), Some("T0001"));
    assert_eq!(s.pin_entry().id(), "t0001");
    assert_eq!(s.pin_entry().pin_chars(), 2);

    // Walking away.
    s.handle(Event::Tick, t + Duration::from_secs(600));
    assert_eq!(
        s.handle(Event::Tick, t + Duration::from_secs(620)),
        Outcome::Wiped
    );
    let effects = drain(&mut s);
    assert!(
        matches!(&effects[..], [Effect::AuditTechnician { action, .. }]
            if *action == crate::core::audit::AuditAction::TechnicianLogout),
        "only the sign-out survives, for the audit log: {effects:?}"
    );
    // Nothing of it is left: every getter says so …
    assert!(!s.holds_personal_data() && !s.is_active());
    assert!(s.person().is_none() && s.card_status() == CardStatus::Waiting);
    assert!(s.identify_note().is_empty());
    assert!(s.query().is_empty() && s.search_hits() == Some(&[][..]));
    assert!(s.pending().is_empty() && s.editing().is_empty() && s.composing().is_empty());
    assert!(s.matter().is_none() && s.answers().is_empty() && s.fields().is_empty());
    assert!(s.images().is_empty() && s.capture_stage().is_none());
    assert!(s.licences().is_empty() && s.licence_copy().is_none());
    assert!(!s.submitting() && s.submit_result().is_none() && s.upload_progress().is_none());
    assert!(!s.green() && !s.checkin() && s.checkin_code().is_empty());
    assert!(s.ticket_note().is_empty() && s.issued().is_none());
    assert!(s.progress_query().is_empty() && s.progress().is_none());
    assert!(s.evaluation_level().is_none() && s.evaluation_reasons().is_empty());
    assert!(s.evaluation_note().is_empty());
    assert!(s.technician().is_none() && s.pin_entry() == &PinEntry::default());
    // … and so does every field, the ones without a getter too: it is a fresh session but
    // for the throttle's count, which outlives wipes on purpose.
    let fresh = fresh_after_one_wrong_pin(t + Duration::from_secs(620));
    assert_eq!(format!("{s:?}"), format!("{fresh:?}"));
    // The awaited case does not come back to a later citizen.
    assert_eq!(
        s.handle(
            Event::Delivered {
                case_id: "c1".into(),
                unified_code: "U-1".into(),
            },
            t + Duration::from_secs(621),
        ),
        Outcome::None
    );
}

#[test]
fn the_ticks_the_refusals_and_notes_go_with_a_wipe_too() {
    let t = Instant::now();
    // Options ticked on a multi-choice question.
    let mut s = Session::new(Duration::from_secs(600), t);
    s.handle(
        Event::ChooseMatter(Box::new(crate::core::catalog::demo_matter(
            "企业变更登记（营业执照变更）",
        ))),
        t,
    );
    s.handle(Event::ToggleOption("o_name".into()), t);
    assert_eq!(s.pending(), ["o_name"]);
    s.handle(Event::OpenTechLogin, t);
    assert!(s.pending().is_empty());
    // What 好差评 said was missing.
    s.handle(Event::Home, t);
    s.handle(Event::OpenEvaluate, t);
    s.handle(Event::SendEvaluation, t);
    assert!(!s.evaluation_note().is_empty());
    s.handle(Event::Home, t);
    assert!(s.evaluation_note().is_empty());
    // 取号's refusal.
    s.handle(Event::Open(Screen::Tickets), t);
    s.handle(Event::TicketRefused("号段已用完".into()), t);
    assert_eq!(s.ticket_note(), "号段已用完");
    s.handle(Event::Home, t);
    assert!(s.ticket_note().is_empty());
}
