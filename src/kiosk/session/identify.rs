//! 身份核验: the card read (or the person a 渝快码 names), "不是本人/更换", and what the
//! identify page says about a 渝快码 or 人证核验.

use crate::core::domain::Person;

use super::{CardStatus, Effect, IdentifyNote, LicenceLookup, Outcome, Screen, Session};

impl Session {
    /// What the identify page says about the last 渝快码 or 人证核验 (empty: nothing).
    pub fn identify_note(&self) -> &str {
        &self.identify_note
    }

    pub(super) fn on_card_read(&mut self, person: Person) -> Outcome {
        let same = self.person.as_ref() == Some(&person);
        if !same {
            self.licences.clear();
            self.licence_lookup = LicenceLookup::Waiting;
            self.licences_asked = false;
            self.licence_copy = None;
            self.fields.clear();
        }
        // Their e-licences are asked at once: the checklist's 免提交 and 证照打印 need them.
        if !self.licences_asked && self.licence_lookup != LicenceLookup::Found {
            self.licences_asked = true;
            self.effects.push_back(Effect::LookUpLicences);
        }
        self.person = Some(person);
        self.note_identified(same);
        self.card = CardStatus::Waiting;
        self.identify_note.clear();
        if let Some(next) = self.resume.take() {
            if self.current() == &Screen::Identify {
                self.stack.pop();
                self.open(next);
            }
        }
        Outcome::Changed
    }

    /// "不是本人/更换": everything that came from the card goes; the next card is awaited.
    pub(super) fn on_change_person(&mut self) -> Outcome {
        self.person = None;
        self.fields.clear();
        self.licences.clear();
        self.licence_lookup = LicenceLookup::Waiting;
        self.licences_asked = false;
        self.licence_copy = None;
        self.images.clear();
        self.card = CardStatus::Waiting;
        self.identify_note.clear();
        self.open(Screen::Identify);
        Outcome::Changed
    }

    /// A 渝快码 at the scanner: the platform is asked whom it names.
    pub(super) fn on_ykm_scanned(&mut self, token: String) -> Outcome {
        self.identify_note = "正在核验渝快码…".into();
        self.shell.by_code = true;
        self.effects.push_back(Effect::VerifyYkm { token });
        Outcome::Changed
    }

    pub(super) fn on_identify_note(&mut self, note: IdentifyNote) -> Outcome {
        if matches!(
            note,
            IdentifyNote::YkmUnavailable | IdentifyNote::YkmRefused(_)
        ) {
            self.shell.by_code = false;
        }
        self.note_identify(match note {
            IdentifyNote::YkmUnavailable => "本机暂时无法核验渝快码，请刷身份证".into(),
            IdentifyNote::YkmRefused(why) => why,
            IdentifyNote::CheckingFace => "请看摄像头，正在核验本人…".into(),
            IdentifyNote::FaceMismatch => "人脸与证件不一致，请本人办理或联系工作人员".into(),
            IdentifyNote::FaceFailed(why) => format!("无法核验本人（{why}），请联系工作人员"),
        })
    }

    pub(super) fn note_identify(&mut self, note: String) -> Outcome {
        self.identify_note = note;
        Outcome::Changed
    }
}
