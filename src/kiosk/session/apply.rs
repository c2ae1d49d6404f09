//! The errand: 智能导办 (guide) → checklist → form → capture → review → submit, and the
//! delivery news of the submitted case.

use std::time::Instant;

use crate::core::domain::{BundleApplication, Matter, QuestionKind};
use crate::errand::form;

use super::{Answer, CaptureStage, Effect, Outcome, Screen, Session, SubmitResult, UploadProgress};

/// The citizen's stored case while the platform's unified code is awaited.
#[derive(Debug)]
pub(super) struct Awaiting {
    case_id: String,
    local_number: String,
    until: Instant,
}

impl Session {
    pub(super) fn on_choose_matter(&mut self, matter: Matter) -> Outcome {
        self.guide(matter, None);
        Outcome::Changed
    }

    pub(super) fn on_choose_bundle(&mut self, bundle: BundleApplication) -> Outcome {
        let matter = bundle.matter.clone();
        self.guide(matter, Some(bundle));
        Outcome::Changed
    }

    /// Starts 智能导办 for `matter` (a bundle's combined matter with `bundle`).
    fn guide(&mut self, matter: Matter, bundle: Option<BundleApplication>) {
        let has_questions = matter.applicable_questions(&[]).next().is_some();
        self.matter = Some(matter);
        self.bundle = bundle;
        self.answers.clear();
        // Ticks on another matter's question are not this one's.
        self.pending.clear();
        self.open(if has_questions {
            Screen::Guide { question: 0 }
        } else {
            Screen::Checklist
        });
    }

    pub(super) fn on_answer(&mut self, choices: Vec<String>) -> Outcome {
        self.answer(choices);
        Outcome::Changed
    }

    fn answer(&mut self, choices: Vec<String>) {
        let Screen::Guide { question } = *self.current() else {
            return;
        };
        let Some(q) = self.question(question) else {
            return;
        };
        let valid = choices.iter().all(|c| q.options.iter().any(|o| &o.id == c));
        let count_ok = match q.kind {
            QuestionKind::Single => choices.len() == 1,
            QuestionKind::Multi => true,
        };
        if !valid || !count_ok {
            return;
        }
        let id = q.id.clone();
        // Answering again after "back" replaces this answer and forgets the later ones.
        self.answers.truncate(question);
        self.answers.push(Answer {
            question: id,
            choices,
        });
        let next = question + 1;
        if self.question(next).is_some() {
            self.open(Screen::Guide { question: next });
        } else {
            self.open(Screen::Checklist);
        }
    }

    /// 取件方式 as the form stands (`None`: the matter's result cannot be posted).
    pub fn delivery(&self) -> Option<crate::core::domain::Delivery> {
        let m = self.matter.as_ref()?;
        let chosen = self.chosen();
        let values = form::values(m, &chosen, self.known(), &self.fields);
        crate::errand::case::delivery(m, &chosen, &values)
    }

    pub(super) fn on_start_apply(&mut self) -> Outcome {
        if self.matter.is_none() {
            return Outcome::None;
        }
        if self.by_agent() {
            self.start_by_agent();
            return Outcome::Changed;
        }
        self.drop_agent();
        if self.person.is_some() {
            self.open(Screen::Form);
        } else {
            self.resume = Some(Screen::Form);
            self.open(Screen::Identify);
        }
        Outcome::Changed
    }

    pub(super) fn on_field_input(&mut self, field: String, value: String) -> Outcome {
        self.form_errors.remove(&field);
        self.fields.insert(field.clone(), value);
        self.fill_from_typed_number(&field);
        Outcome::Changed
    }

    pub(super) fn on_form_next(&mut self) -> Outcome {
        self.form_next();
        Outcome::Changed
    }

    fn form_next(&mut self) {
        let (Some(m), Screen::Form) = (&self.matter, self.current()) else {
            return;
        };
        self.form_errors = form::validate(m, &self.chosen(), self.known(), &self.fields);
        if !self.form_errors.is_empty() || !self.applicant_from_form() {
            return;
        }
        if self.to_capture().is_empty() {
            self.open(Screen::Review);
        } else {
            self.open(Screen::Capture);
        }
    }

    /// The live picture of the first material still without a photo, if any.
    pub(super) fn next_to_capture(&self) -> Option<CaptureStage> {
        self.to_capture()
            .into_iter()
            .find(|c| !self.images.contains_key(&c.id))
            .map(|c| CaptureStage::Live { material: c.id })
    }

    pub(super) fn on_capture_select(&mut self, material: String) -> Outcome {
        let busy = matches!(self.capture, Some(CaptureStage::Taking { .. }));
        if self.current() != &Screen::Capture
            || busy
            || !self.to_capture().iter().any(|c| c.id == material)
        {
            return Outcome::None;
        }
        self.capture = Some(CaptureStage::Live { material });
        self.effects.push_back(Effect::CameraLive);
        Outcome::Changed
    }

    pub(super) fn on_shoot(&mut self) -> Outcome {
        match self.capture.take() {
            Some(CaptureStage::Live { material }) if self.current() == &Screen::Capture => {
                self.effects.push_back(Effect::Shoot {
                    material: material.clone(),
                });
                self.capture = Some(CaptureStage::Taking { material });
                Outcome::Changed
            }
            other => {
                self.capture = other;
                Outcome::None
            }
        }
    }

    pub(super) fn on_captured(&mut self, material: String, jpeg: Vec<u8>) -> Outcome {
        // Only the still asked for, while its page is shown; a late one is dropped.
        let asked =
            matches!(&self.capture, Some(CaptureStage::Taking { material: m }) if *m == material);
        if !asked || self.current() != &Screen::Capture {
            return Outcome::None;
        }
        self.images.insert(material.clone(), jpeg);
        self.capture = Some(CaptureStage::Check { material });
        Outcome::Changed
    }

    pub(super) fn on_capture_failed(&mut self) -> Outcome {
        match self.capture.take() {
            Some(CaptureStage::Taking { material }) => {
                self.capture = Some(CaptureStage::Live { material });
                Outcome::Changed
            }
            other => {
                self.capture = other;
                Outcome::None
            }
        }
    }

    pub(super) fn on_retake(&mut self) -> Outcome {
        match self.capture.take() {
            Some(CaptureStage::Check { material }) => {
                self.images.remove(&material);
                self.capture = Some(CaptureStage::Live { material });
                self.effects.push_back(Effect::CameraLive);
                Outcome::Changed
            }
            other => {
                self.capture = other;
                Outcome::None
            }
        }
    }

    pub(super) fn on_use_photo(&mut self) -> Outcome {
        match self.capture.take() {
            Some(CaptureStage::Check { .. }) => {
                self.capture = self.next_to_capture();
                self.effects.push_back(Effect::CameraLive);
                Outcome::Changed
            }
            other => {
                self.capture = other;
                Outcome::None
            }
        }
    }

    pub(super) fn on_capture_done(&mut self) -> Outcome {
        if matches!(self.capture, Some(CaptureStage::Taking { .. })) {
            // The still is on its way: wait for it.
            return Outcome::None;
        }
        self.capture = None;
        self.open(Screen::Review);
        Outcome::Changed
    }

    /// "确认提交": the loop stores the case and answers with `CaseStored` or `CaseNotStored`.
    pub(super) fn on_submit(&mut self) -> Outcome {
        if self.current() != &Screen::Review || self.submitting || self.submit.is_some() {
            return Outcome::None;
        }
        if !self.signed_enough() {
            return Outcome::Changed;
        }
        self.submitting = true;
        self.effects.push_back(Effect::StoreCase);
        Outcome::Changed
    }

    /// The case is in the outbox: 已暂存 at once, or once the platform's answer is overdue.
    pub(super) fn on_case_stored(
        &mut self,
        case_id: String,
        local_number: String,
        answer_by: Option<Instant>,
    ) -> Outcome {
        if !self.submitting {
            return Outcome::None;
        }
        match answer_by {
            Some(until) if until > self.now => {
                self.awaiting = Some(Awaiting {
                    case_id,
                    local_number,
                    until,
                });
                Outcome::Changed
            }
            _ => self.on_submit_result(SubmitResult::Queued {
                case_id,
                local_number,
            }),
        }
    }

    /// The platform did not answer in time: the case stays queued and leaves later.
    pub(super) fn settle_overdue(&mut self) -> Option<Outcome> {
        if self.awaiting.as_ref()?.until > self.now {
            return None;
        }
        let a = self.awaiting.take()?;
        Some(self.on_submit_result(SubmitResult::Queued {
            case_id: a.case_id,
            local_number: a.local_number,
        }))
    }

    /// Shows the submission's result; a stored case's receipt is printed.
    pub(super) fn on_submit_result(&mut self, result: SubmitResult) -> Outcome {
        if !self.submitting {
            return Outcome::None;
        }
        self.submitting = false;
        self.awaiting = None;
        // Once stored, the case lives in the outbox (sealed): the photo bytes go, and which
        // materials were photographed stays for the receipt.
        if result.case_id().is_some() {
            for jpeg in self.images.values_mut() {
                *jpeg = Vec::new();
            }
            self.effects.push_back(Effect::PrintCaseReceipt);
        }
        self.submit = Some(result);
        // The case is committed: "back" must not lead to submitting it again.
        self.stack.truncate(1);
        self.open(Screen::Done);
        Outcome::Changed
    }

    /// 重新打印回执: only for a stored case, on its done page.
    pub(super) fn on_reprint_receipt(&mut self) -> Outcome {
        let stored = self
            .submit
            .as_ref()
            .and_then(SubmitResult::case_id)
            .is_some();
        if self.current() != &Screen::Done || !stored {
            return Outcome::None;
        }
        self.effects.push_back(Effect::PrintCaseReceipt);
        Outcome::Changed
    }

    pub(super) fn on_upload_progress(&mut self, case_id: &str, sent: u64, total: u64) -> Outcome {
        // Only this citizen's case: the one stored and awaited, or the one on the done page.
        let awaited = self.awaiting.as_ref().is_some_and(|a| a.case_id == case_id);
        let ours = awaited || self.submit.as_ref().and_then(SubmitResult::case_id) == Some(case_id);
        if !ours {
            return Outcome::None;
        }
        self.upload = Some(UploadProgress { sent, total });
        Outcome::Changed
    }

    pub(super) fn on_delivered(&mut self, case_id: String, unified_code: String) -> Outcome {
        if let Some(a) = self.awaiting.take_if(|a| a.case_id == case_id) {
            return self.on_submit_result(SubmitResult::Submitted {
                case_id,
                local_number: a.local_number,
                unified_code,
            });
        }
        match &self.submit {
            Some(SubmitResult::Queued {
                case_id: ours,
                local_number,
            }) if *ours == case_id => {
                self.submit = Some(SubmitResult::Submitted {
                    case_id,
                    local_number: local_number.clone(),
                    unified_code,
                });
                Outcome::Changed
            }
            _ => Outcome::None,
        }
    }
}
