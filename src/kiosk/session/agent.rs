//! 帮办代办 — applying for someone else. When the citizen answers a matter's 代办 question
//! (`Choice::agent`), 开始申请 identifies the **agent** first (their own card or 渝快码),
//! then the 代办 page asks how they stand to the applicant (子女/配偶/父母/监护人/委托) and who
//! the applicant is: the applicant's own card on the reader, or — for a minor or someone who
//! cannot come — their name and number typed on the form. The form then fills the agent's
//! fields from the agent's card and the applicant's from the applicant's; the case carries
//! both ([`Agent`]). A matter without a 代办 answer is 本人办理 only, and its checklist says so.

use crate::core::domain::{Agent, IdNumber, Person, PrefillSource, Relationship};
use crate::errand::form;

use super::{LicenceLookup, Outcome, Screen, Session};

/// 帮办代办 in progress: present from 开始申请 on an errand with a 代办 answer.
#[derive(Debug, Default)]
pub(super) struct Proxy {
    /// The agent, identified first with their own card.
    agent: Option<Person>,
    relationship: Option<Relationship>,
    /// The applicant is not here: their name and number are typed on the form.
    typed: bool,
    /// What the 代办 page says (what is missing, a card refused).
    note: String,
}

impl Session {
    /// Whether the chosen answers have someone else apply (a 代办 answer).
    pub fn by_agent(&self) -> bool {
        self.matter
            .as_ref()
            .is_some_and(|m| m.agent_choice(&self.chosen()).is_some())
    }

    /// The agent identified for this errand, if any.
    pub fn agent_person(&self) -> Option<&Person> {
        self.proxy.as_ref()?.agent.as_ref()
    }

    /// The agent with their relationship, once both are known and a 代办 answer is chosen.
    pub fn agent(&self) -> Option<Agent> {
        let p = self.proxy.as_ref().filter(|_| self.by_agent())?;
        Some(Agent {
            person: p.agent.clone()?,
            relationship: p.relationship?,
        })
    }

    /// The relationship chosen on the 代办 page.
    pub fn relationship(&self) -> Option<Relationship> {
        self.proxy.as_ref()?.relationship
    }

    /// Whether the applicant's name and number are typed (they are not at the terminal).
    pub fn applicant_typed(&self) -> bool {
        self.proxy.as_ref().is_some_and(|p| p.typed) && self.by_agent()
    }

    /// Whether the identify page is waiting for the agent's own card.
    pub fn identifying_agent(&self) -> bool {
        self.proxy.as_ref().is_some_and(|p| p.agent.is_none())
    }

    /// What the 代办 page says.
    pub fn agent_note(&self) -> &str {
        self.proxy.as_ref().map_or("", |p| p.note.as_str())
    }

    /// Whose cards fill the form: the applicant's (unless typed) and the agent's.
    pub fn known(&self) -> form::Known<'_> {
        let agent = self.by_agent().then(|| self.agent_person()).flatten();
        form::Known {
            person: if self.applicant_typed() {
                None
            } else {
                self.person.as_ref()
            },
            agent,
        }
    }

    /// 开始申请 on an errand with a 代办 answer: the agent first, then the 代办 page.
    pub(super) fn start_by_agent(&mut self) {
        let proxy = self.proxy.get_or_insert_with(Proxy::default);
        if proxy.agent.is_none() {
            if let Some(at_terminal) = self.person.take() {
                // Whoever identified at the terminal is the one applying: the agent. Their
                // e-licences are not the applicant's.
                proxy.agent = Some(at_terminal);
                self.forget_applicant();
            }
        }
        if self.proxy.as_ref().is_some_and(|p| p.agent.is_some()) {
            self.open(Screen::Agent);
        } else {
            self.resume = Some(Screen::Agent);
            self.open(Screen::Identify);
        }
    }

    /// 开始申请 for oneself after a 代办 attempt: the agent is the applicant again.
    pub(super) fn drop_agent(&mut self) {
        if let Some(agent) = self.proxy.take().and_then(|p| p.agent) {
            if self.person.as_ref() != Some(&agent) {
                self.forget_applicant();
                self.person = Some(agent);
            }
        }
    }

    /// Whether a card read now is the agent's or the applicant's for a 代办 errand.
    pub(super) fn awaits_agent_card(&self) -> bool {
        self.proxy.as_ref().is_some_and(|p| {
            (p.agent.is_none() && self.current() == &Screen::Identify)
                || self.current() == &Screen::Agent
        })
    }

    /// A card read while the agent or the applicant is awaited (see
    /// [`Self::awaits_agent_card`]).
    pub(super) fn agent_card(&mut self, person: Person) -> Outcome {
        let identifying = self.current() == &Screen::Identify;
        let Some(proxy) = self.proxy.as_mut() else {
            return Outcome::None;
        };
        if proxy.agent.is_none() && identifying {
            proxy.agent = Some(person);
            self.card = super::CardStatus::Waiting;
            self.identify_note.clear();
            if let Some(next) = self.resume.take() {
                self.stack.pop();
                self.open(next);
            }
            return Outcome::Changed;
        }
        self.card = super::CardStatus::Waiting;
        if proxy.agent.as_ref() == Some(&person) {
            proxy.note = "这是代办人本人的身份证，请放置被代办人的身份证".into();
            return Outcome::Changed;
        }
        proxy.typed = false;
        proxy.note.clear();
        // The applicant's own card is here: their e-licences serve the checklist.
        self.on_card_read(person)
    }

    pub(super) fn on_choose_relationship(&mut self, r: Relationship) -> Outcome {
        let on_page = self.current() == &Screen::Agent;
        let Some(p) = self.proxy.as_mut().filter(|_| on_page) else {
            return Outcome::None;
        };
        p.relationship = Some(r);
        p.note.clear();
        Outcome::Changed
    }

    /// "被代办人未到场": their name and number are typed on the form.
    pub(super) fn on_type_applicant(&mut self) -> Outcome {
        if self.current() != &Screen::Agent || self.proxy.is_none() {
            return Outcome::None;
        }
        if self.person.is_some() {
            self.forget_applicant();
        }
        if let Some(p) = self.proxy.as_mut() {
            p.typed = true;
        }
        self.agent_next()
    }

    /// 下一步 on the 代办 page: on to the form once the relationship and the applicant are
    /// known.
    pub(super) fn on_agent_next(&mut self) -> Outcome {
        if self.current() != &Screen::Agent {
            return Outcome::None;
        }
        self.agent_next()
    }

    fn agent_next(&mut self) -> Outcome {
        let has_applicant = self.person.is_some();
        let Some(p) = self.proxy.as_mut() else {
            return Outcome::None;
        };
        if p.relationship.is_none() {
            p.note = "请先选择您与被代办人的关系".into();
        } else if !has_applicant && !p.typed {
            p.note = "请放置被代办人的身份证，或点“被代办人未到场”输入其姓名和身份证号码".into();
        } else {
            p.note.clear();
            self.open(Screen::Form);
        }
        Outcome::Changed
    }

    /// 下一步 on the form with the applicant typed: the applicant is who the form names.
    /// `false` (with the form's error) when it does not name them.
    pub(super) fn applicant_from_form(&mut self) -> bool {
        if !self.applicant_typed() {
            return true;
        }
        let Some(m) = self.matter.as_ref() else {
            return false;
        };
        let values = form::values(m, &self.chosen(), self.known(), &self.fields);
        let by = |source: PrefillSource| {
            m.fields_for(&self.chosen())
                .into_iter()
                .find(|f| f.prefill == Some(source))
                .and_then(|f| {
                    values
                        .get(&f.id)
                        .map(|v| (f.id.clone(), v.trim().to_owned()))
                })
        };
        let (name, number) = (
            by(PrefillSource::IdCardName),
            by(PrefillSource::IdCardNumber),
        );
        let parsed = number.as_ref().and_then(|(_, n)| IdNumber::parse(n).ok());
        match (name, parsed) {
            (Some((_, name)), Some(id_number)) if !name.is_empty() => {
                if self
                    .agent_person()
                    .is_some_and(|a| a.id_number == id_number)
                {
                    let field = number.map(|(f, _)| f).unwrap_or_default();
                    self.form_errors.insert(
                        field,
                        "这是代办人本人的号码，请填写被代办人的身份证号码".into(),
                    );
                    return false;
                }
                let address = by(PrefillSource::IdCardAddress)
                    .map(|(_, a)| a)
                    .unwrap_or_default();
                self.person = Some(Person {
                    name,
                    id_number,
                    address,
                });
                true
            }
            _ => {
                // The form asks for the applicant's name and number only through its card
                // fields; a form without them cannot name a person who is not here.
                if let Some(p) = self.proxy.as_mut() {
                    p.note = "本事项的表单无法填写被代办人的身份信息，请被代办人携带身份证办理或到窗口办理"
                        .into();
                }
                false
            }
        }
    }

    /// The applicant typed: a complete ID number fills the birth date and sex fields the card
    /// would have filled (still editable), as the number says them.
    pub(super) fn fill_from_typed_number(&mut self, field: &str) {
        if !self.applicant_typed() {
            return;
        }
        let Some(m) = self.matter.as_ref() else {
            return;
        };
        let is_number = m
            .form_fields
            .iter()
            .any(|f| f.id == field && f.prefill == Some(PrefillSource::IdCardNumber));
        let Some(number) = self
            .fields
            .get(field)
            .filter(|_| is_number)
            .and_then(|v| IdNumber::parse(v.trim()).ok())
        else {
            return;
        };
        let typed = Person {
            name: String::new(),
            id_number: number,
            address: String::new(),
        };
        for f in m.fields_for(&self.chosen()) {
            if matches!(
                f.prefill,
                Some(PrefillSource::IdCardBirthDate | PrefillSource::IdCardSex)
            ) {
                if let Some(v) = form::prefill(f, &typed) {
                    self.fields.insert(f.id.clone(), v);
                    self.form_errors.remove(&f.id);
                }
            }
        }
    }

    /// The applicant's card data and what came with it go (the agent stays).
    fn forget_applicant(&mut self) {
        self.person = None;
        self.licences.clear();
        self.licence_lookup = LicenceLookup::Waiting;
        self.licences_asked = false;
        self.licence_copy = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::domain::IdNumber;
    use crate::kiosk::session::Event;
    use std::time::{Duration, Instant};

    fn child() -> Person {
        Person {
            name: "李哲".into(),
            id_number: IdNumber::complete("50010319800101123").unwrap(),
            address: "重庆市渝中区解放碑街道1号".into(),
        }
    }

    fn parent() -> Person {
        Person {
            name: "王秀英".into(),
            id_number: IdNumber::complete("50010319500307001").unwrap(),
            address: "重庆市渝中区民族路188号".into(),
        }
    }

    /// 老年人优待证申领 answered 代办, at the checklist.
    fn at_checklist() -> (Session, Instant) {
        let t = Instant::now();
        let mut s = Session::new(Duration::from_secs(90), t);
        let m = crate::core::catalog::demo_matter("老年人优待证申领");
        s.handle(Event::ChooseMatter(Box::new(m)), t);
        while let Screen::Guide { question } = *s.current() {
            let q = s.question(question).unwrap();
            let pick = q
                .options
                .iter()
                .find(|o| o.agent)
                .or_else(|| q.options.iter().find(|o| o.id == "o_pick_window"))
                .unwrap_or(&q.options[0])
                .id
                .clone();
            s.handle(Event::Answer(vec![pick]), t);
        }
        assert_eq!(s.current(), &Screen::Checklist);
        assert!(s.by_agent());
        (s, t)
    }

    #[test]
    fn the_agent_identifies_first_then_the_applicants_card_is_theirs() {
        let (mut s, t) = at_checklist();
        s.handle(Event::StartApply, t);
        assert_eq!(s.current(), &Screen::Identify);
        assert!(s.identifying_agent());
        s.handle(Event::CardRead(child()), t);
        assert_eq!(s.current(), &Screen::Agent);
        assert_eq!(s.agent_person(), Some(&child()));
        assert!(s.person().is_none(), "the agent is not the applicant");
        // The agent's own card again is refused in words.
        s.handle(Event::CardRead(child()), t);
        assert!(s.agent_note().contains("代办人本人"));
        assert!(s.person().is_none());
        s.handle(Event::CardRead(parent()), t);
        assert_eq!(s.person(), Some(&parent()));
        // No relationship yet: said, and the page stays.
        s.handle(Event::AgentNext, t);
        assert_eq!(s.current(), &Screen::Agent);
        assert!(s.agent_note().contains("关系"));
        s.handle(Event::ChooseRelationship(Relationship::Child), t);
        s.handle(Event::AgentNext, t);
        assert_eq!(s.current(), &Screen::Form);
        let errand = s.errand().unwrap();
        assert_eq!(errand.person, &parent());
        assert_eq!(
            errand.agent,
            Some(Agent {
                person: child(),
                relationship: Relationship::Child
            })
        );
        let values = form::values(errand.matter, &errand.chosen, s.known(), errand.fields);
        assert_eq!(values["f_name"], "王秀英");
        assert_eq!(values["f_agent_name"], "李哲");
    }

    #[test]
    fn an_applicant_who_cannot_come_is_named_on_the_form_and_never_as_the_agent() {
        let (mut s, t) = at_checklist();
        // Identified at home first: that person applies, as the agent.
        s.handle(Event::CardRead(child()), t);
        s.handle(Event::StartApply, t);
        assert_eq!(s.current(), &Screen::Agent);
        s.handle(Event::ChooseRelationship(Relationship::Child), t);
        s.handle(Event::TypeApplicant, t);
        assert_eq!(s.current(), &Screen::Form);
        assert!(s.applicant_typed());
        let fields = form::view(
            s.matter().unwrap(),
            &s.chosen(),
            s.known(),
            s.fields(),
            s.form_errors(),
        );
        let name = fields.iter().find(|f| f.id == "f_name").unwrap();
        assert!(!name.locked, "typed, as the applicant has no card here");
        assert!(
            fields
                .iter()
                .find(|f| f.id == "f_agent_name")
                .unwrap()
                .locked
        );
        let type_in = |s: &mut Session, field: &str, v: &str| {
            s.handle(
                Event::FieldInput {
                    field: field.into(),
                    value: v.into(),
                },
                t,
            );
        };
        type_in(&mut s, "f_name", "王秀英");
        // The agent's own number as the applicant's: refused at 下一步.
        type_in(&mut s, "f_id", child().id_number.expose());
        type_in(&mut s, "f_phone", "13800000000");
        let selects: Vec<(String, String)> = s
            .matter()
            .unwrap()
            .fields_for(&s.chosen())
            .into_iter()
            .filter(|f| f.kind == crate::core::domain::FieldKind::Select)
            .map(|f| (f.id.clone(), f.options[0].clone()))
            .collect();
        for (id, v) in selects {
            type_in(&mut s, &id, &v);
        }
        s.handle(Event::FormNext, t);
        assert_eq!(s.current(), &Screen::Form);
        assert!(s.form_errors()["f_id"].contains("代办人本人"));
        type_in(&mut s, "f_id", parent().id_number.expose());
        s.handle(Event::FormNext, t);
        assert_ne!(s.current(), &Screen::Form, "{:?}", s.form_errors());
        let applicant = s.person().unwrap();
        assert_eq!(applicant.name, "王秀英");
        assert_eq!(applicant.id_number, parent().id_number);
        // Leaving wipes both people.
        s.handle(Event::Home, t);
        s.handle(Event::LeaveAnswer(true), t);
        assert!(s.person().is_none() && s.agent_person().is_none());
        assert!(!s.holds_personal_data());
    }

    #[test]
    fn answering_for_oneself_after_an_attempt_makes_the_agent_the_applicant_again() {
        let (mut s, t) = at_checklist();
        s.handle(Event::CardRead(child()), t);
        s.handle(Event::StartApply, t);
        assert_eq!(s.current(), &Screen::Agent);
        // Back to the 代办 question, and 本人办理 this time.
        loop {
            if let Screen::Guide { question } = *s.current() {
                if s.question(question).unwrap().id == "q_who" {
                    break;
                }
            }
            s.handle(Event::Back, t);
        }
        while let Screen::Guide { question } = *s.current() {
            let q = s.question(question).unwrap();
            let pick = q
                .options
                .iter()
                .find(|o| o.id == "o_self" || o.id == "o_pick_window")
                .unwrap_or(&q.options[0])
                .id
                .clone();
            s.handle(Event::Answer(vec![pick]), t);
        }
        assert_eq!(s.current(), &Screen::Checklist);
        assert!(!s.by_agent());
        s.handle(Event::StartApply, t);
        assert_eq!(s.current(), &Screen::Form);
        assert_eq!(s.person(), Some(&child()));
        assert_eq!(s.errand().unwrap().agent, None);
    }
}
