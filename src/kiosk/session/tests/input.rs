//! The typing and ticking on the way: search and its answer, multi-choice ticks, the form's
//! keyboard and pinyin.

use super::{at_capture, opened, person, to_checklist};
use crate::core::search::SearchHit;
use crate::kiosk::session::*;
use std::time::{Duration, Instant};

fn drain(s: &mut Session) -> Vec<Effect> {
    std::iter::from_fn(|| s.poll_effect()).collect()
}

fn hit(name: &str) -> SearchHit {
    SearchHit {
        task_code: "T1".into(),
        name: name.into(),
        department: "公安".into(),
        self_service: true,
        tier: 0,
        popularity: 0,
    }
}

#[test]
fn a_query_is_searched_once_and_only_its_own_answer_is_shown() {
    let t = Instant::now();
    let mut s = opened(Screen::Find, t);
    assert_eq!(
        s.search_hits(),
        Some(&[][..]),
        "nothing typed: nothing to find"
    );
    s.handle(Event::Search("s".into()), t);
    assert_eq!(drain(&mut s), [Effect::Search { query: "s".into() }]);
    assert_eq!(s.search_hits(), None, "searching");
    s.handle(Event::Search("sf".into()), t);
    drain(&mut s);
    // The answer to the earlier query comes late: not shown.
    assert_eq!(
        s.handle(
            Event::Found {
                query: "s".into(),
                hits: vec![hit("社保")],
            },
            t
        ),
        Outcome::None
    );
    assert_eq!(s.search_hits(), None);
    s.handle(
        Event::Found {
            query: "sf".into(),
            hits: vec![hit("居民身份证换领")],
        },
        t,
    );
    assert_eq!(s.search_hits().unwrap()[0].name, "居民身份证换领");
    // Typing the same query again asks nothing; clearing it asks nothing either.
    s.handle(Event::Search("sf".into()), t);
    s.handle(Event::Search(String::new()), t);
    assert_eq!(drain(&mut s), []);
    assert_eq!(s.search_hits(), Some(&[][..]));
}

#[test]
fn multi_choice_ticks_wait_for_confirm_and_go_with_the_screen() {
    let t = Instant::now();
    let mut s = Session::new(Duration::from_secs(60), t);
    s.handle(
        Event::ChooseMatter(Box::new(crate::core::catalog::demo_matter(
            "企业变更登记（营业执照变更）",
        ))),
        t,
    );
    assert_eq!(s.current(), &Screen::Guide { question: 0 });
    s.handle(Event::ToggleOption("o_name".into()), t);
    s.handle(Event::ToggleOption("o_scope".into()), t);
    s.handle(Event::ToggleOption("o_name".into()), t);
    assert_eq!(
        s.handle(Event::ToggleOption("o_expiry".into()), t),
        Outcome::None,
        "not an option of this question"
    );
    assert_eq!(s.pending(), ["o_scope"]);
    assert!(s.answers().is_empty(), "ticks are not an answer yet");
    // Leaving the question drops the ticks.
    s.handle(Event::Back, t);
    assert!(s.pending().is_empty());
    s.handle(
        Event::ChooseMatter(Box::new(crate::core::catalog::demo_matter(
            "企业变更登记（营业执照变更）",
        ))),
        t,
    );
    s.handle(Event::ToggleOption("o_address".into()), t);
    s.handle(Event::ToggleOption("o_rep".into()), t);
    s.handle(Event::ConfirmOptions, t);
    assert_eq!(s.current(), &Screen::Checklist);
    assert_eq!(s.chosen(), ["o_address", "o_rep"]);
    assert!(s.pending().is_empty());
    // A single-choice question takes no ticks and no confirm.
    let mut s = Session::new(Duration::from_secs(60), t);
    s.handle(
        Event::ChooseMatter(Box::new(crate::core::catalog::demo_matter(
            "居民身份证换领",
        ))),
        t,
    );
    assert_eq!(
        s.handle(Event::ToggleOption("o_expiry".into()), t),
        Outcome::None
    );
    assert_eq!(s.handle(Event::ConfirmOptions, t), Outcome::None);
    assert_eq!(s.current(), &Screen::Guide { question: 0 });
}

#[test]
fn the_form_keyboard_types_into_the_field_tapped_composing_pinyin_in_text_fields() {
    let t = Instant::now();
    let mut s = Session::new(Duration::from_secs(600), t);
    s.handle(Event::CardRead(person()), t);
    to_checklist(&mut s, t);
    s.handle(Event::StartApply, t);
    assert_eq!(s.current(), &Screen::Form);
    let key = |k: &str| Event::FormKey(Key::Text(k.into()));
    // No field tapped: the keyboard types nowhere.
    assert_eq!(s.handle(key("1"), t), Outcome::None);
    assert_eq!(
        s.handle(Event::EditField("f_nowhere".into()), t),
        Outcome::None
    );
    // Digits go straight into a phone field, letters too (nothing to compose there).
    s.handle(Event::EditField("f_phone".into()), t);
    for k in ["1", "3", "8"] {
        s.handle(key(k), t);
    }
    s.handle(Event::FormKey(Key::Backspace), t);
    assert_eq!(s.fields()["f_phone"], "13");
    assert_eq!(s.composing(), "");
    // In a text field letters compose pinyin; a candidate goes in and the pinyin is done.
    s.handle(Event::EditField("f_post_address".into()), t);
    assert_eq!(s.editing(), "f_post_address");
    assert!(s.editing_text());
    for k in ["c", "h", "o", "n", "g"] {
        s.handle(key(k), t);
    }
    assert_eq!(s.composing(), "chong");
    assert!(!s.fields().contains_key("f_post_address"));
    s.handle(Event::FormKey(Key::Backspace), t);
    assert_eq!(
        s.composing(),
        "chon",
        "backspace takes from the pinyin first"
    );
    s.handle(Event::ChooseCandidate("重".into()), t);
    assert_eq!(s.composing(), "");
    s.handle(key("1"), t);
    assert_eq!(s.fields()["f_post_address"], "重1");
    s.handle(Event::FormKey(Key::Backspace), t);
    assert_eq!(s.fields()["f_post_address"], "重");
    s.handle(key("q"), t);
    s.handle(Event::FormKey(Key::Clear), t);
    assert_eq!(s.composing(), "");
    assert_eq!(s.fields()["f_post_address"], "");
    // Tapping another field drops the pinyin; leaving the form drops both.
    s.handle(key("q"), t);
    s.handle(Event::EditField("f_phone".into()), t);
    assert_eq!(s.composing(), "");
    s.handle(Event::Back, t);
    assert_eq!(s.editing(), "");
}

#[test]
fn the_keyboard_does_nothing_off_the_form() {
    let t = Instant::now();
    let mut s = at_capture(t);
    assert_eq!(
        s.handle(Event::EditField("f_phone".into()), t),
        Outcome::None
    );
    assert_eq!(
        s.handle(Event::FormKey(Key::Text("1".into())), t),
        Outcome::None
    );
    assert_eq!(s.fields()["f_phone"], "13800000000");
}

#[test]
fn the_handwriting_pad_writes_into_text_fields_and_the_search_and_caps_what_it_keeps() {
    let t = Instant::now();
    let mut s = Session::new(Duration::from_secs(600), t);
    s.handle(Event::CardRead(person()), t);
    to_checklist(&mut s, t);
    s.handle(Event::StartApply, t);
    // Only where Chinese is typed: not before a field is tapped, not in the phone field.
    assert_eq!(s.handle(Event::UseHandwriting(true), t), Outcome::None);
    s.handle(Event::EditField("f_phone".into()), t);
    assert!(!s.handwriting_here());
    assert_eq!(s.handle(Event::UseHandwriting(true), t), Outcome::None);
    s.handle(Event::EditField("f_post_address".into()), t);
    assert!(s.handwriting_here());
    assert!(!s.writing(), "pinyin first");
    assert_eq!(
        s.handle(Event::Pen(Pen::Down(10, 10)), t),
        Outcome::None,
        "no pad shown, nothing drawn"
    );
    s.handle(Event::FormKey(Key::Text("c".into())), t);
    assert_eq!(s.handle(Event::UseHandwriting(true), t), Outcome::Changed);
    assert!(s.writing());
    assert_eq!(s.composing(), "", "the pinyin is dropped");
    // A stroke: down, moves (a move too close to the last point adds nothing), up;
    // points outside the pad are brought onto its edge.
    s.handle(Event::Pen(Pen::Down(100, 500)), t);
    assert_eq!(s.handle(Event::Pen(Pen::Move(102, 501)), t), Outcome::None);
    s.handle(Event::Pen(Pen::Move(600, 500)), t);
    s.handle(Event::Pen(Pen::Move(5000, -7)), t);
    assert_eq!(s.ink().strokes.len(), 0, "still being drawn");
    s.handle(Event::Pen(Pen::Up), t);
    assert_eq!(
        s.ink().strokes,
        vec![vec![[100, 500], [600, 500], [1023, 0]]]
    );
    // A candidate goes into the field; the pad is wiped for the next character.
    s.handle(Event::ChooseWritten("一".into()), t);
    assert_eq!(s.fields()["f_post_address"], "一");
    assert!(s.ink().strokes.is_empty());
    assert_eq!(
        s.handle(Event::ChooseWritten("二".into()), t),
        Outcome::None,
        "nothing written, nothing to choose"
    );
    // 重写 wipes the strokes and changes nothing in the field.
    s.handle(Event::Pen(Pen::Down(1, 1)), t);
    s.handle(Event::Pen(Pen::Up), t);
    s.handle(Event::Rewrite, t);
    assert!(s.ink().strokes.is_empty());
    assert_eq!(s.fields()["f_post_address"], "一");
    // The pad caps strokes and points: a finger that never stops draws nothing more.
    for i in 0..(PAD_MAX_STROKES + 10) {
        s.handle(Event::Pen(Pen::Down(i as i32, 0)), t);
        s.handle(Event::Pen(Pen::Up), t);
    }
    assert_eq!(s.ink().strokes.len(), PAD_MAX_STROKES);
    s.handle(Event::Rewrite, t);
    s.handle(Event::Pen(Pen::Down(0, 0)), t);
    for i in 0..(PAD_MAX_POINTS as i32 * 2) {
        s.handle(Event::Pen(Pen::Move((i * 7) % 1024, (i * 13) % 1024)), t);
    }
    s.handle(Event::Pen(Pen::Up), t);
    assert_eq!(s.ink().strokes[0].len(), PAD_MAX_POINTS);
    // Leaving the form wipes the pad, 首页 the choice (the next citizen gets pinyin); the
    // search takes handwriting onto the query.
    s.handle(Event::Back, t);
    assert!(s.ink().strokes.is_empty());
    s.handle(Event::Home, t);
    assert!(s.leave_asked(), "the form was half filled in");
    s.handle(Event::LeaveAnswer(true), t);
    s.handle(Event::Open(Screen::Find), t);
    assert!(!s.writing());
    s.handle(Event::UseHandwriting(true), t);
    assert!(s.writing());
    s.handle(Event::Search("社".into()), t);
    s.handle(Event::Pen(Pen::Down(1, 1)), t);
    s.handle(Event::Pen(Pen::Up), t);
    s.handle(Event::ChooseWritten("保".into()), t);
    assert_eq!(s.query(), "社保");
    assert_eq!(
        drain(&mut s).last(),
        Some(&Effect::Search {
            query: "社保".into()
        })
    );
}
