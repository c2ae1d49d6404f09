//! 好差评: the level chosen among the five faces, the reason chips ticked for it, and the
//! decision whether the evaluation can be sent.

use crate::core::domain::EvaluationLevel;
use crate::errand::case::reasons_for;

use super::{Effect, Outcome, Screen, Session, SubmitResult};

/// The evaluation being given.
#[derive(Debug, Default)]
pub(super) struct Choice {
    level: Option<EvaluationLevel>,
    reasons: Vec<String>,
    /// What is missing before it can be sent (empty: nothing said).
    note: String,
}

impl Session {
    /// The level chosen on 好差评.
    pub fn evaluation_level(&self) -> Option<EvaluationLevel> {
        self.evaluation.level
    }

    /// The reason chips ticked for that level.
    pub fn evaluation_reasons(&self) -> &[String] {
        &self.evaluation.reasons
    }

    /// What 好差评 says is missing before it can be sent.
    pub fn evaluation_note(&self) -> &str {
        &self.evaluation.note
    }

    /// One of the five faces: the reasons stay while the level stays on the same side.
    pub(super) fn on_choose_level(&mut self, level: EvaluationLevel) -> Outcome {
        if self.current() != &Screen::Evaluate {
            return Outcome::None;
        }
        let e = &mut self.evaluation;
        if e.level.map(EvaluationLevel::is_negative) != Some(level.is_negative()) {
            e.reasons.clear();
        }
        e.level = Some(level);
        e.note.clear();
        Outcome::Changed
    }

    /// A reason chip: only one the chosen level offers.
    pub(super) fn on_toggle_reason(&mut self, reason: String) -> Outcome {
        let offered = self
            .evaluation
            .level
            .is_some_and(|l| reasons_for(l).contains(&reason.as_str()));
        if self.current() != &Screen::Evaluate || !offered {
            return Outcome::None;
        }
        let e = &mut self.evaluation;
        if let Some(i) = e.reasons.iter().position(|r| *r == reason) {
            e.reasons.remove(i);
        } else {
            e.reasons.push(reason);
        }
        e.note.clear();
        Outcome::Changed
    }

    /// 提交评价: refused in words without a level, or without a reason for a negative one;
    /// otherwise the session ends and the evaluation is sent.
    pub(super) fn on_send_evaluation(&mut self) -> Outcome {
        if self.current() != &Screen::Evaluate {
            return Outcome::None;
        }
        let e = &mut self.evaluation;
        let level = match e.level {
            None => {
                e.note = "请先点选一个评价".into();
                return Outcome::Changed;
            }
            Some(l) if l.is_negative() && e.reasons.is_empty() => {
                e.note = "请选择不满意的原因，以便我们改进".into();
                return Outcome::Changed;
            }
            Some(l) => l,
        };
        let sent = Effect::SendEvaluation {
            level,
            reasons: std::mem::take(&mut e.reasons),
            case_id: self
                .submit
                .as_ref()
                .and_then(SubmitResult::case_id)
                .map(str::to_owned),
            task_code: self.matter.as_ref().map(|m| m.task_code.to_string()),
        };
        self.wipe();
        // Queued after the wipe: the evaluation outlives the session it was about.
        self.effects.push_back(sent);
        Outcome::Wiped
    }
}
