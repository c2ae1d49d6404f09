//! The errand: 智能导办 (guide) → checklist → form → capture → review → submit, and the
//! delivery news of the submitted case.

use crate::core::domain::{BundleApplication, Matter, QuestionKind};
use crate::errand::form;

use super::{Answer, CaptureStage, Effect, Outcome, Screen, Session, SubmitResult, UploadProgress};

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

    pub(super) fn on_start_apply(&mut self) -> Outcome {
        if self.matter.is_none() {
            return Outcome::None;
        }
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
        self.fields.insert(field, value);
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
        self.form_errors = form::validate(m, &self.chosen(), self.person.as_ref(), &self.fields);
        if !self.form_errors.is_empty() {
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

    /// "确认提交": the glue stores the case and answers with the result.
    pub(super) fn on_submit(&mut self) -> Outcome {
        if self.current() != &Screen::Review || self.submitting || self.submit.is_some() {
            return Outcome::None;
        }
        self.submitting = true;
        self.effects.push_back(Effect::StoreCase);
        Outcome::Changed
    }

    pub(super) fn on_submit_result(&mut self, result: SubmitResult) -> Outcome {
        if !self.submitting {
            return Outcome::None;
        }
        self.submitting = false;
        // Once stored, the case lives in the outbox (sealed): the photo bytes go, and which
        // materials were photographed stays for the receipt.
        if result.case_id().is_some() {
            for jpeg in self.images.values_mut() {
                *jpeg = Vec::new();
            }
        }
        self.submit = Some(result);
        // The case is committed: "back" must not lead to submitting it again.
        self.stack.truncate(1);
        self.open(Screen::Done);
        Outcome::Changed
    }

    pub(super) fn on_upload_progress(&mut self, case_id: &str, sent: u64, total: u64) -> Outcome {
        // While "确认提交" waits the glue forwards only the case it stored; later, only the
        // case on the done page counts.
        let ours = self.submitting
            || self.submit.as_ref().and_then(SubmitResult::case_id) == Some(case_id);
        if !ours {
            return Outcome::None;
        }
        self.upload = Some(UploadProgress { sent, total });
        Outcome::Changed
    }

    pub(super) fn on_delivered(&mut self, case_id: String, unified_code: String) -> Outcome {
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
