//! 好差评: the session decides whether an evaluation can be sent, and sends it once.

use super::{person, to_checklist};
use crate::core::domain::EvaluationLevel;
use crate::kiosk::session::*;
use std::time::{Duration, Instant};

fn drain(s: &mut Session) -> Vec<Effect> {
    std::iter::from_fn(|| s.poll_effect()).collect()
}

/// On 好差评 after a stored case of the renewal, nothing queued.
fn at_evaluate(t: Instant) -> Session {
    let mut s = Session::new(Duration::from_secs(600), t);
    s.handle(Event::CardRead(person()), t);
    to_checklist(&mut s, t);
    s.handle(Event::StartApply, t);
    s.handle(Event::Open(Screen::Review), t);
    s.sign_for_test(t);
    s.handle(Event::Submit, t);
    s.handle(Event::stored("c7", "7", None), t);
    s.handle(Event::OpenEvaluate, t);
    assert_eq!(s.current(), &Screen::Evaluate);
    drain(&mut s);
    s
}

#[test]
fn an_evaluation_without_a_level_is_refused_in_words() {
    let t = Instant::now();
    let mut s = at_evaluate(t);
    assert_eq!(s.handle(Event::SendEvaluation, t), Outcome::Changed);
    assert_eq!(s.evaluation_note(), "请先点选一个评价");
    assert_eq!(drain(&mut s), [], "nothing sent");
    assert_eq!(s.current(), &Screen::Evaluate);
    // Choosing a level clears the note.
    s.handle(Event::ChooseLevel(EvaluationLevel::Satisfied), t);
    assert_eq!(s.evaluation_note(), "");
}

#[test]
fn a_negative_level_without_a_reason_is_refused_and_a_reason_makes_it_go() {
    let t = Instant::now();
    let mut s = at_evaluate(t);
    s.handle(Event::ChooseLevel(EvaluationLevel::Dissatisfied), t);
    assert_eq!(s.handle(Event::SendEvaluation, t), Outcome::Changed);
    assert_eq!(s.evaluation_note(), "请选择不满意的原因，以便我们改进");
    assert_eq!(drain(&mut s), []);
    // A reason the level does not offer is refused; one it offers is ticked.
    assert_eq!(
        s.handle(Event::ToggleReason("速度快".into()), t),
        Outcome::None
    );
    s.handle(Event::ToggleReason("等候时间长".into()), t);
    assert_eq!(s.evaluation_note(), "");
    assert_eq!(s.evaluation_reasons(), ["等候时间长"]);
    assert_eq!(s.handle(Event::SendEvaluation, t), Outcome::Wiped);
    assert_eq!(
        drain(&mut s),
        [Effect::SendEvaluation {
            level: EvaluationLevel::Dissatisfied,
            reasons: vec!["等候时间长".into()],
            case_id: Some("c7".into()),
            task_code: Some(
                crate::core::catalog::demo_matter("居民身份证换领")
                    .task_code
                    .to_string()
            ),
        }],
        "sent once, after the wipe, naming the case and the matter"
    );
    assert!(!s.holds_personal_data());
    assert_eq!(s.evaluation_level(), None);
}

#[test]
fn the_reasons_go_when_the_level_changes_side_and_stay_when_it_does_not() {
    let t = Instant::now();
    let mut s = at_evaluate(t);
    assert_eq!(
        s.handle(Event::ToggleReason("速度快".into()), t),
        Outcome::None,
        "no level yet"
    );
    s.handle(Event::ChooseLevel(EvaluationLevel::Satisfied), t);
    s.handle(Event::ToggleReason("速度快".into()), t);
    s.handle(Event::ToggleReason("材料少".into()), t);
    s.handle(Event::ToggleReason("速度快".into()), t);
    assert_eq!(s.evaluation_reasons(), ["材料少"]);
    s.handle(Event::ChooseLevel(EvaluationLevel::VerySatisfied), t);
    assert_eq!(s.evaluation_reasons(), ["材料少"], "still on the good side");
    s.handle(Event::ChooseLevel(EvaluationLevel::VeryDissatisfied), t);
    assert!(s.evaluation_reasons().is_empty());
    // A positive level needs no reason.
    s.handle(Event::ChooseLevel(EvaluationLevel::Satisfied), t);
    assert_eq!(s.handle(Event::SendEvaluation, t), Outcome::Wiped);
    assert!(matches!(
        drain(&mut s)[..],
        [Effect::SendEvaluation { ref reasons, .. }] if reasons.is_empty()
    ));
}

#[test]
fn skipping_sends_nothing_and_nothing_is_chosen_off_the_page() {
    let t = Instant::now();
    let mut s = at_evaluate(t);
    s.handle(Event::ChooseLevel(EvaluationLevel::Satisfied), t);
    assert_eq!(s.handle(Event::SkipEvaluation, t), Outcome::Wiped);
    assert_eq!(drain(&mut s), []);
    assert_eq!(
        s.handle(Event::ChooseLevel(EvaluationLevel::Satisfied), t),
        Outcome::None
    );
    assert_eq!(s.handle(Event::SendEvaluation, t), Outcome::None);
    assert_eq!(drain(&mut s), []);
}
