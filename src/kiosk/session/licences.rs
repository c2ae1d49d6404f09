//! 证照打印: the identified person's e-licences, the one chosen, its printable copy and the
//! print.

use crate::core::platform::wire::LicenceDocument;

use super::{Effect, LicenceCopy, LicenceLookup, Outcome, Screen, Session};

impl Session {
    /// Whether the person's e-licences are to be asked for: 证照打印 is shown for someone
    /// identified, there is no answer yet and no look-up on its way.
    pub(super) fn licence_lookup_due(&self) -> bool {
        self.current() == &Screen::Licences
            && self.licence_lookup == LicenceLookup::Waiting
            && !self.licences_asked
            && self.person.is_some()
    }

    pub(super) fn on_open_licence_print(&mut self) -> Outcome {
        if self.licence_lookup == LicenceLookup::Failed {
            // Opening 证照打印 asks again: the network may be back.
            self.licence_lookup = LicenceLookup::Waiting;
        }
        if self.person.is_some() {
            self.open(Screen::Licences);
        } else {
            self.resume = Some(Screen::Licences);
            self.open(Screen::Identify);
        }
        Outcome::Changed
    }

    pub(super) fn on_licences(&mut self, names: Vec<String>) -> Outcome {
        self.licences = names;
        self.licence_lookup = LicenceLookup::Found;
        self.licences_asked = false;
        Outcome::Changed
    }

    pub(super) fn on_licences_failed(&mut self) -> Outcome {
        self.licences_asked = false;
        if self.licence_lookup == LicenceLookup::Found {
            return Outcome::None;
        }
        self.licence_lookup = LicenceLookup::Failed;
        Outcome::Changed
    }

    pub(super) fn on_retry_licences(&mut self) -> Outcome {
        if self.licence_lookup != LicenceLookup::Failed {
            return Outcome::None;
        }
        self.licence_lookup = LicenceLookup::Waiting;
        Outcome::Changed
    }

    /// A licence chosen: the loop fetches its printable copy; a certificate chosen: the loop
    /// fetches it and checks its signature.
    pub(super) fn on_choose_licence(&mut self, licence_type: String) -> Outcome {
        if self.current() != &Screen::Licences {
            return Outcome::None;
        }
        self.licence_prints = 0;
        self.licence_print_failed = false;
        if let Some(c) = self.certificates.iter().find(|c| c.title == licence_type) {
            self.effects.push_back(Effect::FetchCertificate {
                task_code: c.task_code.clone(),
                title: c.title.clone(),
            });
            self.licence_copy = Some(LicenceCopy::Fetching { licence_type });
            self.open(Screen::LicenceConfirm);
            return Outcome::Changed;
        }
        if !self.licences.contains(&licence_type) {
            return Outcome::None;
        }
        self.effects.push_back(Effect::FetchLicenceCopy {
            licence_type: licence_type.clone(),
        });
        self.licence_copy = Some(LicenceCopy::Fetching { licence_type });
        self.open(Screen::LicenceConfirm);
        Outcome::Changed
    }

    pub(super) fn on_licence_copy(
        &mut self,
        licence_type: String,
        result: Result<Box<LicenceDocument>, String>,
    ) -> Outcome {
        let asked = matches!(
            &self.licence_copy,
            Some(LicenceCopy::Fetching { licence_type: t }) if *t == licence_type
        );
        if !asked {
            return Outcome::None;
        }
        self.licence_copy = Some(match result {
            Ok(doc) => LicenceCopy::Ready(doc),
            Err(reason) => LicenceCopy::Failed {
                licence_type,
                reason,
            },
        });
        Outcome::Changed
    }

    /// "确认打印": the loop prints the copy shown, once.
    pub(super) fn on_print_licence(&mut self) -> Outcome {
        let ready = matches!(
            self.licence_copy,
            Some(LicenceCopy::Ready(_) | LicenceCopy::Certificate(_))
        );
        if self.current() != &Screen::LicenceConfirm || !ready {
            return Outcome::None;
        }
        self.open(Screen::LicencePrinted);
        self.licence_prints = 1;
        self.licence_print_failed = false;
        self.effects.push_back(Effect::PrintLicence);
        Outcome::Changed
    }

    pub(super) fn on_certificates(
        &mut self,
        list: Vec<crate::core::platform::wire::CertificateType>,
    ) -> Outcome {
        self.certificates = list;
        Outcome::Changed
    }

    pub(super) fn on_certificate(
        &mut self,
        title: String,
        result: Result<Box<crate::core::certificate::VerifiedCertificate>, String>,
    ) -> Outcome {
        let asked = matches!(
            &self.licence_copy,
            Some(LicenceCopy::Fetching { licence_type: t }) if *t == title
        );
        if !asked {
            return Outcome::None;
        }
        self.licence_copy = Some(match result {
            Ok(c) => LicenceCopy::Certificate(c),
            Err(reason) => LicenceCopy::Failed {
                licence_type: title,
                reason,
            },
        });
        Outcome::Changed
    }

    pub(super) fn on_licence_print_ended(&mut self, ok: bool) -> Outcome {
        if self.current() != &Screen::LicencePrinted {
            return Outcome::None;
        }
        self.licence_print_failed = !ok;
        Outcome::Changed
    }

    /// "重新打印": once, after a failed print, the same copy again (no second fetch, no
    /// second fee).
    pub(super) fn on_reprint_licence(&mut self) -> Outcome {
        if !self.can_reprint_licence() {
            return Outcome::None;
        }
        self.licence_prints += 1;
        self.licence_print_failed = false;
        self.effects.push_back(Effect::PrintLicence);
        Outcome::Changed
    }

    /// "Back" from 确认打印 or the printed page: the copy is forgotten. Once printed, back
    /// leads to the list (another licence), never to 确认打印 again.
    pub(super) fn leave_licence(&mut self) {
        let printed = self.current() == &Screen::LicencePrinted;
        self.licence_copy = None;
        if printed {
            while !matches!(self.current(), Screen::Licences | Screen::Home) {
                self.stack.pop();
            }
        } else {
            self.stack.pop();
        }
    }
}
