//! The frame around the errand's screens: where the citizen is (the step indicator
//! 问题 → 材料 → 填表 → 拍照 → 核对 → 提交), leaving a half-done errand only after saying so
//! (首页 and 结束办理 ask first), and the reminder to take the ID card back — after it was read
//! and at the end, until the reader says the card has gone.

use std::time::{Duration, Instant};

use super::{Effect, Outcome, Screen, Session};

/// How long "请取走您的身份证" stays on screen after it was said.
pub const REMINDER_SHOWN: Duration = Duration::from_secs(10);

/// One step of the errand as the step indicator names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Questions,
    Materials,
    Form,
    Photos,
    Review,
    Submitted,
}

impl Step {
    /// The indicator's word (zh-CN; translated like every other text).
    pub fn label(self) -> &'static str {
        match self {
            Step::Questions => "问题",
            Step::Materials => "材料",
            Step::Form => "填表",
            Step::Photos => "拍照",
            Step::Review => "核对",
            Step::Submitted => "提交",
        }
    }
}

/// What the citizen is reminded of, on screen and aloud (whether or not 大字 is on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reminder {
    /// The card was read: it is still on the reader.
    TakeCard,
    /// The errand ended with paper: the card and the receipt (or the copy).
    TakeCardAndPaper,
    /// The errand ended with paper and the card was already taken back.
    TakePaper,
}

impl Reminder {
    pub fn text(self) -> &'static str {
        match self {
            Reminder::TakeCard => "请取走您的身份证",
            Reminder::TakeCardAndPaper => "请取走您的身份证和打印的凭条",
            Reminder::TakePaper => "请取走打印的凭条",
        }
    }
}

/// The shell's part of the session.
#[derive(Debug, Default)]
pub(super) struct Shell {
    /// 首页 or 结束办理 was pressed on a half-done errand: the question is shown.
    pub(super) leave_asked: bool,
    /// A 渝快码 is being checked: the identification it brings is not a card on the reader.
    pub(super) by_code: bool,
    /// A card was read in this session (so the end reminds of it).
    pub(super) card_used: bool,
    /// The reader said the card read last has left it (taken back).
    pub(super) card_taken: bool,
    /// The end's reminder was given (once per session).
    pub(super) end_reminded: bool,
    /// The reminder shown, until when.
    pub(super) reminder: Option<(Reminder, Instant)>,
}

impl Session {
    /// The steps of the errand under way and the index of the one shown; `None` off an
    /// errand's screens. 拍照 is a step only when something is to be photographed here.
    pub fn steps(&self) -> Option<(Vec<Step>, usize)> {
        let matter = self.matter.as_ref()?;
        let here = match self.current() {
            Screen::Guide { .. } => Step::Questions,
            Screen::Checklist => Step::Materials,
            // Identifying for the errand (开始申请), not for 证照打印.
            Screen::Identify if matches!(self.resume, Some(Screen::Form | Screen::Agent)) => {
                Step::Form
            }
            Screen::Agent | Screen::Form => Step::Form,
            Screen::Capture => Step::Photos,
            Screen::Review => Step::Review,
            // 缴费 is its own page after the errand, with nothing to go back to.
            Screen::Done => Step::Submitted,
            _ => return None,
        };
        let mut steps = Vec::with_capacity(6);
        if matter.applicable_questions(&[]).next().is_some() {
            steps.push(Step::Questions);
        }
        steps.extend([Step::Materials, Step::Form]);
        if here == Step::Photos || !self.to_capture().is_empty() {
            steps.push(Step::Photos);
        }
        steps.extend([Step::Review, Step::Submitted]);
        let at = steps.iter().position(|s| *s == here)?;
        Some((steps, at))
    }

    /// Whether leaving now would throw away an errand the citizen has put something into
    /// (an answer, a field, a photo, a signature) and not submitted (nor is submitting).
    pub fn errand_half_done(&self) -> bool {
        self.submit.is_none()
            && !self.submitting
            && self.steps().is_some()
            && (!self.answers.is_empty()
                || !self.fields.is_empty()
                || !self.images.is_empty()
                || !self.signature.strokes.is_empty()
                || self.proxy.is_some())
    }

    /// Whether a card was read in this session (the end reminds of it).
    pub fn card_was_read(&self) -> bool {
        self.shell.card_used
    }

    /// Whether "结束办理？" is asked (首页 or 结束办理 on a half-done errand).
    pub fn leave_asked(&self) -> bool {
        self.shell.leave_asked
    }

    /// The reminder on screen now, if any.
    pub fn reminder(&self) -> Option<Reminder> {
        self.shell
            .reminder
            .filter(|(_, until)| *until > self.now)
            .map(|(r, _)| r)
    }

    /// 首页 or 结束办理: a half-done errand is left only after "确定结束"; anything else ends
    /// at once.
    pub(super) fn on_home(&mut self) -> Outcome {
        if self.errand_half_done() && !self.shell.leave_asked {
            self.shell.leave_asked = true;
            return Outcome::Changed;
        }
        self.wipe();
        Outcome::Wiped
    }

    /// "确定结束" (`true`) or "继续办理" (`false`) on the question.
    pub(super) fn on_leave_answer(&mut self, leave: bool) -> Outcome {
        if !self.shell.leave_asked {
            return Outcome::None;
        }
        self.shell.leave_asked = false;
        if leave {
            self.wipe();
            Outcome::Wiped
        } else {
            Outcome::Changed
        }
    }

    /// A person was identified: by a card on the reader unless a 渝快码 was being checked.
    /// The same card read again while the reminder is still on screen is not reminded twice.
    pub(super) fn note_identified(&mut self, same: bool) {
        if !std::mem::take(&mut self.shell.by_code) {
            self.shell.card_used = true;
            self.shell.card_taken = false;
            if !same || self.reminder() != Some(Reminder::TakeCard) {
                self.remind(Reminder::TakeCard);
            }
        }
    }

    /// The screen changed from `before`: the question belongs to the screen left, and an
    /// errand's last screen reminds of the card left on the reader.
    pub(super) fn on_screen_changed(&mut self, before: &Screen) {
        self.shell.leave_asked = false;
        let ended = matches!(
            self.current(),
            Screen::Done | Screen::TicketIssued | Screen::LicencePrinted
        );
        if ended && before != self.current() && self.shell.card_used && !self.shell.end_reminded {
            self.shell.end_reminded = true;
            // Nothing is printed for a case that could not be stored.
            let paper = !matches!(self.submit, Some(super::SubmitResult::Failed { .. }));
            match (paper, self.shell.card_taken) {
                (true, false) => self.remind(Reminder::TakeCardAndPaper),
                (true, true) => self.remind(Reminder::TakePaper),
                (false, false) => self.remind(Reminder::TakeCard),
                (false, true) => {}
            }
        }
    }

    /// The reader says the card has left it: no more reminding of the card (what is still on
    /// screen about it goes, or keeps only the paper).
    pub(super) fn on_card_removed(&mut self) -> Outcome {
        if !self.shell.card_used || self.shell.card_taken {
            return Outcome::None;
        }
        self.shell.card_taken = true;
        match self.shell.reminder {
            Some((Reminder::TakeCard, _)) => self.shell.reminder = None,
            Some((Reminder::TakeCardAndPaper, until)) => {
                self.shell.reminder = Some((Reminder::TakePaper, until))
            }
            _ => return Outcome::None,
        }
        Outcome::Changed
    }

    /// Drops the reminder whose time is up; whether one was (the screen changes).
    pub(super) fn reminder_expired(&mut self) -> bool {
        let over = self
            .shell
            .reminder
            .is_some_and(|(_, until)| self.now >= until);
        if over {
            self.shell.reminder = None;
        }
        over
    }

    fn remind(&mut self, reminder: Reminder) {
        self.shell.reminder = Some((reminder, self.now + REMINDER_SHOWN));
        self.effects.push_back(Effect::Remind(reminder));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::domain::{IdNumber, Person};
    use crate::kiosk::session::Event;

    fn person() -> Person {
        Person {
            name: "李哲".into(),
            id_number: IdNumber::complete("50010319800101123").unwrap(),
            address: "重庆市渝中区解放碑街道1号".into(),
        }
    }

    fn at_first_question() -> (Session, Instant) {
        let t = Instant::now();
        let mut s = Session::new(Duration::from_secs(60), t);
        let m = crate::core::catalog::demo_matter("居民身份证换领");
        s.handle(Event::ChooseMatter(Box::new(m)), t);
        (s, t)
    }

    fn labels(s: &Session) -> (Vec<&'static str>, usize) {
        let (steps, at) = s.steps().expect("on an errand");
        (steps.into_iter().map(Step::label).collect(), at)
    }

    #[test]
    fn the_steps_follow_the_errand_and_name_photos_only_when_something_is_photographed() {
        let (mut s, t) = at_first_question();
        assert_eq!(
            labels(&s),
            (vec!["问题", "材料", "填表", "拍照", "核对", "提交"], 0)
        );
        for a in ["o_damaged", "o_minor_no", "o_pick_window"] {
            s.handle(Event::Answer(vec![a.into()]), t);
        }
        assert_eq!(s.current(), &Screen::Checklist);
        assert_eq!(labels(&s).1, 1);
        s.handle(Event::StartApply, t);
        assert_eq!(s.current(), &Screen::Identify);
        assert_eq!(
            labels(&s).1,
            2,
            "identifying for the errand is part of 填表"
        );
        s.handle(Event::CardRead(person()), t);
        assert_eq!(s.current(), &Screen::Form);
        assert_eq!(labels(&s).1, 2);
        // Off the errand there is no indicator.
        let mut home = Session::new(Duration::from_secs(60), t);
        assert!(home.steps().is_none());
        home.handle(Event::Open(Screen::Identify), t);
        assert!(
            home.steps().is_none(),
            "刷身份证 from home is not an errand step"
        );
    }

    #[test]
    fn home_on_a_half_done_errand_asks_first_and_keeps_it_on_continue() {
        let (mut s, t) = at_first_question();
        // Nothing put in yet: home is home.
        assert!(!s.errand_half_done());
        let (mut fresh, _) = at_first_question();
        assert_eq!(fresh.handle(Event::Home, t), Outcome::Wiped);
        s.handle(Event::Answer(vec!["o_damaged".into()]), t);
        assert!(s.errand_half_done());
        assert_eq!(s.handle(Event::Home, t), Outcome::Changed);
        assert!(s.leave_asked());
        assert!(s.matter().is_some(), "nothing is dropped by asking");
        assert_eq!(s.handle(Event::LeaveAnswer(false), t), Outcome::Changed);
        assert!(!s.leave_asked());
        assert_eq!(s.answers().len(), 1, "继续办理 keeps the answers");
        s.handle(Event::Home, t);
        assert_eq!(s.handle(Event::LeaveAnswer(true), t), Outcome::Wiped);
        assert!(s.matter().is_none() && s.answers().is_empty());
        assert_eq!(s.current(), &Screen::Home);
        // An answer with no question shown changes nothing.
        assert_eq!(s.handle(Event::LeaveAnswer(true), t), Outcome::None);
    }

    #[test]
    fn the_question_belongs_to_the_screen_it_was_asked_on() {
        let (mut s, t) = at_first_question();
        s.handle(Event::Answer(vec!["o_damaged".into()]), t);
        s.handle(Event::Home, t);
        assert!(s.leave_asked());
        s.handle(Event::Back, t);
        assert!(!s.leave_asked());
    }

    #[test]
    fn a_card_read_reminds_to_take_it_and_the_end_reminds_again_but_a_code_does_not() {
        let (mut s, t) = at_first_question();
        while s.poll_effect().is_some() {}
        s.handle(Event::CardRead(person()), t);
        let effects: Vec<Effect> = std::iter::from_fn(|| s.poll_effect()).collect();
        assert!(effects.contains(&Effect::Remind(Reminder::TakeCard)));
        assert_eq!(s.reminder(), Some(Reminder::TakeCard));
        // Gone after its time, at the next tick.
        assert_eq!(s.handle(Event::Tick, t + REMINDER_SHOWN), Outcome::Changed);
        assert_eq!(s.reminder(), None);
        // A 渝快码 is not a card on the reader.
        let mut c = Session::new(Duration::from_secs(60), t);
        c.handle(Event::YkmScanned("YKM-1".into()), t);
        c.handle(Event::CardRead(person()), t);
        assert_eq!(c.reminder(), None);
        assert!(!std::iter::from_fn(|| c.poll_effect()).any(|e| matches!(e, Effect::Remind(_))));
    }

    #[test]
    fn the_end_of_an_errand_with_a_card_reminds_of_card_and_paper() {
        let t = Instant::now();
        let mut s = Session::new(Duration::from_secs(60), t);
        s.handle(Event::CardRead(person()), t);
        while s.poll_effect().is_some() {}
        s.handle(Event::Open(Screen::Done), t);
        let effects: Vec<Effect> = std::iter::from_fn(|| s.poll_effect()).collect();
        assert!(effects.contains(&Effect::Remind(Reminder::TakeCardAndPaper)));
        assert_eq!(s.reminder(), Some(Reminder::TakeCardAndPaper));
        // The card taken back now: only the paper is left to remind of.
        assert_eq!(s.handle(Event::CardRemoved, t), Outcome::Changed);
        assert_eq!(s.reminder(), Some(Reminder::TakePaper));
        assert!(
            std::iter::from_fn(|| s.poll_effect()).all(|e| !matches!(e, Effect::Remind(_))),
            "nothing is said again"
        );
    }

    #[test]
    fn a_card_taken_back_ends_its_reminder_and_the_end_reminds_only_of_paper() {
        let t = Instant::now();
        let mut s = Session::new(Duration::from_secs(60), t);
        // A removal before any read is nobody's card.
        assert_eq!(s.handle(Event::CardRemoved, t), Outcome::None);
        s.handle(Event::CardRead(person()), t);
        assert_eq!(s.reminder(), Some(Reminder::TakeCard));
        assert_eq!(s.handle(Event::CardRemoved, t), Outcome::Changed);
        assert_eq!(s.reminder(), None);
        assert_eq!(s.handle(Event::CardRemoved, t), Outcome::None);
        while s.poll_effect().is_some() {}
        s.handle(Event::Open(Screen::Done), t);
        let effects: Vec<Effect> = std::iter::from_fn(|| s.poll_effect()).collect();
        assert!(
            effects.contains(&Effect::Remind(Reminder::TakePaper)),
            "{effects:?}"
        );
        // Read again: the card is on the reader again.
        let mut again = Session::new(Duration::from_secs(60), t);
        again.handle(Event::CardRead(person()), t);
        again.handle(Event::CardRemoved, t);
        again.handle(Event::CardRead(person()), t + REMINDER_SHOWN);
        assert_eq!(again.reminder(), Some(Reminder::TakeCard));
    }
}
