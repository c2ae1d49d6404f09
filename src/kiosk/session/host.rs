//! Requests from the local device service (`terminal::devservice`): another department's
//! service or the host terminal's application asks for our ID reader, scanner or document
//! camera, or asks us to open 渝快办 on a matter.
//!
//! An ID card is released only after the citizen agreed on our screen which service asks
//! (「XX 服务请求读取您的身份证信息」, 同意/拒绝): then the identify page waits for the card,
//! and the card read goes to that client — never into this session. A code shown to our
//! scanner or camera, and a picture of a material, are released the same way (the identify
//! page waits for the code; the picture is taken at once, the material already in place). A host's errand opens
//! only on a free screen (nobody served, no other request); the person the host identified
//! itself is used only after the citizen agreed (refused, the errand opens without it). The
//! host is told how the errand ended when the session ends: submitted with the case number,
//! left, or timed out — never anything personal. Requests still open when the session is
//! wiped are cancelled. The loop carries requests in as [`Event::HostAsked`], the citizen's
//! taps as [`Event::HostConsent`], and the answers out as [`Effect::AnswerHost`].

use crate::core::domain::Matter;
use crate::terminal::devservice::{Asked, ErrandOutcome, HostAnswer, HostAsk, Refused};

use super::{Effect, Outcome, Screen, Session, SubmitResult};

/// What the host's requests hold in the session (all of it ends with the session).
#[derive(Debug, Default)]
pub(super) struct HostRequests {
    /// Shown on the consent screen, awaiting 同意/拒绝 (with the matter it would open).
    consent: Option<(HostAsk, Option<Matter>)>,
    /// The citizen agreed to this card read: the next card goes to it.
    card_for: Option<u64>,
    /// The citizen agreed to this code read: the next code shown goes to it.
    code_for: Option<u64>,
    /// The errand a host started: told its outcome when the session ends.
    errand: Option<u64>,
}

impl HostRequests {
    /// Whether a request holds the screen (the idle countdown runs for it too).
    pub(super) fn is_active(&self) -> bool {
        self.consent.is_some()
            || self.card_for.is_some()
            || self.code_for.is_some()
            || self.errand.is_some()
    }
}

/// What the consent screen asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentKind {
    /// 「XX 服务请求读取您的身份证信息」.
    ReadIdCard,
    /// The host would open an errand with the person it identified.
    UseIdentity,
    /// 「XX 服务请求扫描您出示的二维码」.
    ReadCode,
    /// 「XX 服务请求拍摄您的材料」.
    TakePicture,
}

/// The consent screen's question for `client` (zh-CN; `kiosk::i18n` has the English).
pub fn consent_title(client: &str, kind: ConsentKind) -> String {
    match kind {
        ConsentKind::ReadIdCard => format!("{client} 服务请求读取您的身份证信息"),
        ConsentKind::UseIdentity => format!("{client} 请求使用其已核验的您的身份信息办理业务"),
        ConsentKind::ReadCode => format!("{client} 服务请求扫描您出示的二维码"),
        ConsentKind::TakePicture => format!("{client} 服务请求拍摄您的材料"),
    }
}

/// The line under it.
pub fn consent_detail(kind: ConsentKind) -> &'static str {
    match kind {
        ConsentKind::ReadIdCard => {
            "同意后请将身份证放在读卡区；您的姓名、身份号码和住址将提供给该服务，本机不保存"
        }
        ConsentKind::UseIdentity => "同意后将以您的姓名和身份号码办理；拒绝也可刷身份证自行办理",
        ConsentKind::ReadCode => "同意后请将二维码对准扫码区；码的内容将提供给该服务，本机不保存",
        ConsentKind::TakePicture => {
            "请先将材料平放在拍摄区再点同意；拍下的照片将提供给该服务，本机不保存"
        }
    }
}

impl Session {
    /// The request the consent screen asks about: who asks, and for what.
    pub fn host_consent(&self) -> Option<(&str, ConsentKind)> {
        let (ask, _) = self.host.consent.as_ref()?;
        let kind = match ask.what {
            Asked::ReadIdCard => ConsentKind::ReadIdCard,
            Asked::ReadCode => ConsentKind::ReadCode,
            Asked::TakePicture => ConsentKind::TakePicture,
            Asked::StartErrand { .. } => ConsentKind::UseIdentity,
        };
        Some((ask.client_name.as_str(), kind))
    }

    /// Whether a client's card read waits for the card (the identify page says so).
    pub fn host_card_waiting(&self) -> bool {
        self.host.card_for.is_some()
    }

    /// Whether a client's code read waits for the code.
    pub fn host_code_waiting(&self) -> bool {
        self.host.code_for.is_some()
    }

    fn answer_host(&mut self, ticket: u64, answer: HostAnswer) {
        self.effects
            .push_back(Effect::AnswerHost { ticket, answer });
    }

    /// A client asks: the consent screen, the errand, or busy.
    pub(super) fn on_host_asked(&mut self, ask: HostAsk, matter: Option<Matter>) -> Outcome {
        let screen_taken = self.in_vendor_mode()
            || !self.may_start_service()
            || self.host.consent.is_some()
            || self.host.card_for.is_some()
            || self.host.code_for.is_some();
        let ticket = ask.ticket;
        match &ask.what {
            Asked::ReadIdCard | Asked::ReadCode | Asked::TakePicture if screen_taken => {
                self.answer_host(ticket, HostAnswer::Refused(Refused::Busy))
            }
            Asked::ReadIdCard | Asked::ReadCode | Asked::TakePicture => {
                self.host.consent = Some((ask, None))
            }
            Asked::StartErrand { .. }
                if screen_taken || self.host.errand.is_some() || self.is_active() =>
            {
                self.answer_host(ticket, HostAnswer::Refused(Refused::Busy))
            }
            Asked::StartErrand {
                matter: Some(_), ..
            } if matter.is_none() => {
                self.answer_host(ticket, HostAnswer::Refused(Refused::UnknownMatter))
            }
            Asked::StartErrand {
                person: Some(_), ..
            } => self.host.consent = Some((ask, matter)),
            Asked::StartErrand { person: None, .. } => self.start_host_errand(ticket, matter, None),
        }
        Outcome::Changed
    }

    fn start_host_errand(
        &mut self,
        ticket: u64,
        matter: Option<Matter>,
        person: Option<crate::core::domain::Person>,
    ) {
        self.host.errand = Some(ticket);
        if let Some(p) = person {
            self.on_card_read(p);
        }
        match matter {
            Some(m) => {
                self.on_choose_matter(m);
            }
            None => self.open(Screen::Home),
        }
        self.answer_host(ticket, HostAnswer::ErrandStarted);
    }

    /// 同意 (`true`) or 拒绝 on the consent screen.
    pub(super) fn on_host_consent(&mut self, agreed: bool) -> Outcome {
        let Some((ask, matter)) = self.host.consent.take() else {
            return Outcome::None;
        };
        match ask.what {
            Asked::ReadIdCard if agreed => {
                self.host.card_for = Some(ask.ticket);
                self.open(Screen::Identify);
                self.answer_host(ask.ticket, HostAnswer::PlaceCard);
            }
            Asked::ReadCode if agreed => {
                self.host.code_for = Some(ask.ticket);
                self.open(Screen::Identify);
            }
            Asked::TakePicture if agreed => {
                self.effects
                    .push_back(Effect::TakeHostPicture { ticket: ask.ticket });
            }
            Asked::ReadIdCard | Asked::ReadCode | Asked::TakePicture => {
                self.answer_host(ask.ticket, HostAnswer::Refused(Refused::ConsentRefused))
            }
            Asked::StartErrand { person, .. } => {
                self.start_host_errand(ask.ticket, matter, person.filter(|_| agreed))
            }
        }
        Outcome::Changed
    }

    /// The card read after the citizen agreed: it goes to the client, not to this session.
    pub(super) fn on_host_card(&mut self, person: crate::core::domain::Person) -> Outcome {
        let Some(ticket) = self.host.card_for.take() else {
            return Outcome::None;
        };
        self.answer_host(ticket, HostAnswer::IdCard(person));
        self.leave_identify();
        Outcome::Changed
    }

    /// The code shown after the citizen agreed: it goes to the client, not to this session.
    pub(super) fn on_host_code(&mut self, text: String) -> Outcome {
        let Some(ticket) = self.host.code_for.take() else {
            return Outcome::None;
        };
        self.answer_host(ticket, HostAnswer::Code(text));
        self.leave_identify();
        Outcome::Changed
    }

    /// 返回 while the card or code is awaited: the read is cancelled.
    pub(super) fn cancel_host_card(&mut self) -> Outcome {
        let waiting = [self.host.card_for.take(), self.host.code_for.take()];
        for ticket in waiting.into_iter().flatten() {
            self.answer_host(ticket, HostAnswer::Refused(Refused::Cancelled));
        }
        self.leave_identify();
        Outcome::Changed
    }

    fn leave_identify(&mut self) {
        if self.current() == &Screen::Identify && self.stack.len() > 1 {
            self.stack.pop();
        }
    }

    /// The request's connection closed or its time ran out: forget it.
    pub(super) fn on_host_withdrawn(&mut self, ticket: u64) -> Outcome {
        let h = &mut self.host;
        if h.consent.as_ref().is_some_and(|(a, _)| a.ticket == ticket) {
            h.consent = None;
            return Outcome::Changed;
        }
        if h.card_for == Some(ticket) || h.code_for == Some(ticket) {
            h.card_for = h.card_for.filter(|&t| t != ticket);
            h.code_for = h.code_for.filter(|&t| t != ticket);
            self.leave_identify();
            return Outcome::Changed;
        }
        if h.errand == Some(ticket) {
            h.errand = None;
        }
        Outcome::None
    }

    /// What the wipe owes the clients: the errand's outcome and a cancel for every request
    /// still open. Called by the wipe before it forgets the session.
    pub(super) fn host_answers_at_wipe(&mut self) -> Vec<Effect> {
        let h = std::mem::take(&mut self.host);
        let mut out = Vec::new();
        if let Some((ask, _)) = h.consent {
            out.push((ask.ticket, HostAnswer::Refused(Refused::Cancelled)));
        }
        for ticket in [h.card_for, h.code_for].into_iter().flatten() {
            out.push((ticket, HostAnswer::Refused(Refused::Cancelled)));
        }
        if let Some(ticket) = h.errand {
            let outcome = match &self.submit {
                Some(SubmitResult::Submitted { unified_code, .. }) => ErrandOutcome::Submitted {
                    case_number: unified_code.clone(),
                },
                Some(SubmitResult::Queued { local_number, .. }) => ErrandOutcome::Submitted {
                    case_number: local_number.clone(),
                },
                // The countdown ran out (a touch would have stopped it).
                _ if self.countdown_from.is_some() => ErrandOutcome::TimedOut,
                _ => ErrandOutcome::Left,
            };
            out.push((ticket, HostAnswer::ErrandEnded(outcome)));
        }
        out.into_iter()
            .map(|(ticket, answer)| Effect::AnswerHost { ticket, answer })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::core::domain::{IdNumber, Person};
    use crate::kiosk::session::Event;

    fn person() -> Person {
        Person {
            name: "李喆".into(),
            id_number: IdNumber::parse("500105198511220024").unwrap(),
            address: "重庆市渝中区".into(),
        }
    }

    fn ask(ticket: u64, what: Asked) -> Event {
        Event::HostAsked {
            ask: Box::new(HostAsk {
                ticket,
                client: "bank-app".into(),
                client_name: "银行自助服务".into(),
                what,
            }),
            matter: None,
        }
    }

    fn answers(s: &mut Session) -> Vec<(u64, HostAnswer)> {
        std::iter::from_fn(|| s.poll_effect())
            .filter_map(|e| match e {
                Effect::AnswerHost { ticket, answer } => Some((ticket, answer)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_card_is_released_only_after_consent_and_never_enters_the_session() {
        let now = Instant::now();
        let mut s = Session::new(Duration::from_secs(90), now);
        s.handle(ask(1, Asked::ReadIdCard), now);
        assert_eq!(
            s.host_consent(),
            Some(("银行自助服务", ConsentKind::ReadIdCard))
        );
        assert!(
            answers(&mut s).is_empty(),
            "nothing before the citizen decides"
        );
        // A card read before consent is the citizen's own, not the client's.
        s.handle(Event::HostConsent(true), now);
        assert_eq!(s.current(), &Screen::Identify);
        assert_eq!(answers(&mut s), vec![(1, HostAnswer::PlaceCard)]);
        s.handle(Event::CardRead(person()), now);
        assert_eq!(answers(&mut s), vec![(1, HostAnswer::IdCard(person()))]);
        assert!(s.person().is_none(), "the card went to the client only");
        assert_eq!(s.current(), &Screen::Home);
    }

    #[test]
    fn a_code_goes_to_the_client_only_after_consent_and_back_or_home_cancel_it() {
        let now = Instant::now();
        let mut s = Session::new(Duration::from_secs(90), now);
        s.handle(ask(1, Asked::ReadCode), now);
        assert_eq!(
            s.host_consent(),
            Some(("银行自助服务", ConsentKind::ReadCode))
        );
        assert!(
            !s.host_code_waiting(),
            "nothing is read before the citizen agrees"
        );
        s.handle(Event::HostConsent(true), now);
        assert!(s.host_code_waiting());
        assert_eq!(s.current(), &Screen::Identify);
        assert!(answers(&mut s).is_empty());
        // A second client meanwhile is told busy.
        s.handle(ask(2, Asked::TakePicture), now);
        assert_eq!(
            answers(&mut s),
            vec![(2, HostAnswer::Refused(Refused::Busy))]
        );
        s.handle(Event::HostCode("SB:12345".into()), now);
        assert_eq!(
            answers(&mut s),
            vec![(1, HostAnswer::Code("SB:12345".into()))]
        );
        assert!(!s.host_code_waiting());
        assert_eq!(s.current(), &Screen::Home);
        // A code with nobody waiting goes nowhere.
        s.handle(Event::HostCode("SB:6".into()), now);
        assert!(answers(&mut s).is_empty());

        s.handle(ask(3, Asked::ReadCode), now);
        s.handle(Event::HostConsent(true), now);
        s.handle(Event::Back, now);
        assert_eq!(
            answers(&mut s),
            vec![(3, HostAnswer::Refused(Refused::Cancelled))]
        );
        assert_eq!(s.current(), &Screen::Home);
        s.handle(ask(4, Asked::ReadCode), now);
        s.handle(Event::HostConsent(true), now);
        s.handle(Event::Home, now);
        assert_eq!(
            answers(&mut s),
            vec![(4, HostAnswer::Refused(Refused::Cancelled))]
        );
    }

    #[test]
    fn a_picture_is_taken_only_after_consent_and_refusing_takes_none() {
        let now = Instant::now();
        let mut s = Session::new(Duration::from_secs(90), now);
        s.handle(ask(1, Asked::TakePicture), now);
        assert_eq!(
            s.host_consent(),
            Some(("银行自助服务", ConsentKind::TakePicture))
        );
        s.handle(Event::HostConsent(false), now);
        let effects: Vec<Effect> = std::iter::from_fn(|| s.poll_effect()).collect();
        assert!(
            !effects
                .iter()
                .any(|e| matches!(e, Effect::TakeHostPicture { .. })),
            "{effects:?}"
        );
        assert!(effects.iter().any(|e| matches!(
            e,
            Effect::AnswerHost {
                ticket: 1,
                answer: HostAnswer::Refused(Refused::ConsentRefused)
            }
        )));
        s.handle(ask(2, Asked::TakePicture), now);
        s.handle(Event::HostConsent(true), now);
        let effects: Vec<Effect> = std::iter::from_fn(|| s.poll_effect()).collect();
        assert!(
            effects
                .iter()
                .any(|e| matches!(e, Effect::TakeHostPicture { ticket: 2 })),
            "{effects:?}"
        );
    }

    #[test]
    fn refusing_answers_refused_and_a_second_ask_meanwhile_is_busy() {
        let now = Instant::now();
        let mut s = Session::new(Duration::from_secs(90), now);
        s.handle(ask(1, Asked::ReadIdCard), now);
        s.handle(ask(2, Asked::ReadIdCard), now);
        assert_eq!(
            answers(&mut s),
            vec![(2, HostAnswer::Refused(Refused::Busy))]
        );
        s.handle(Event::HostConsent(false), now);
        assert_eq!(
            answers(&mut s),
            vec![(1, HostAnswer::Refused(Refused::ConsentRefused))]
        );
        assert!(s.host_consent().is_none());
        s.handle(Event::CardRead(person()), now);
        assert!(answers(&mut s).is_empty());
    }

    #[test]
    fn a_host_errand_is_told_left_timed_out_or_submitted_when_the_session_ends() {
        let now = Instant::now();
        let mut s = Session::new(Duration::from_secs(90), now);
        let start = |matter| Asked::StartErrand {
            matter,
            person: None,
        };
        s.handle(ask(1, start(None)), now);
        assert_eq!(answers(&mut s), vec![(1, HostAnswer::ErrandStarted)]);
        s.handle(Event::Home, now);
        assert_eq!(
            answers(&mut s),
            vec![(1, HostAnswer::ErrandEnded(ErrandOutcome::Left))]
        );
        s.handle(ask(2, start(None)), now);
        answers(&mut s);
        let later = now + Duration::from_secs(91);
        s.handle(Event::Tick, later);
        s.handle(Event::Tick, later + Duration::from_secs(21));
        assert_eq!(
            answers(&mut s),
            vec![(2, HostAnswer::ErrandEnded(ErrandOutcome::TimedOut))]
        );
        // An unknown matter is refused, nothing opens.
        s.handle(ask(3, start(Some("nope".into()))), now);
        assert_eq!(
            answers(&mut s),
            vec![(3, HostAnswer::Refused(Refused::UnknownMatter))]
        );
        assert!(!s.is_active());
        s.handle(ask(4, start(None)), now);
        answers(&mut s);
        s.submit = Some(SubmitResult::Submitted {
            case_id: "c".into(),
            local_number: "L1".into(),
            unified_code: "U500".into(),
        });
        s.handle(Event::Home, now);
        assert_eq!(
            answers(&mut s),
            vec![(
                4,
                HostAnswer::ErrandEnded(ErrandOutcome::Submitted {
                    case_number: "U500".into()
                })
            )]
        );
    }

    #[test]
    fn a_busy_screen_refuses_an_errand_and_the_hosts_person_needs_consent() {
        let now = Instant::now();
        let mut s = Session::new(Duration::from_secs(90), now);
        s.handle(Event::Open(Screen::Find), now);
        let with = Asked::StartErrand {
            matter: None,
            person: Some(person()),
        };
        s.handle(ask(1, with.clone()), now);
        assert_eq!(
            answers(&mut s),
            vec![(1, HostAnswer::Refused(Refused::Busy))]
        );
        s.handle(Event::Home, now);
        s.handle(ask(2, with.clone()), now);
        assert_eq!(
            s.host_consent(),
            Some(("银行自助服务", ConsentKind::UseIdentity))
        );
        assert!(s.person().is_none());
        s.handle(Event::HostConsent(false), now);
        assert!(
            s.person().is_none(),
            "refused: the host's person is not used"
        );
        assert_eq!(answers(&mut s), vec![(2, HostAnswer::ErrandStarted)]);
        s.handle(Event::Home, now);
        answers(&mut s);
        s.handle(ask(3, with), now);
        s.handle(Event::HostConsent(true), now);
        assert_eq!(s.person(), Some(&person()));
    }

    #[test]
    fn a_withdrawn_request_is_forgotten_and_a_wipe_cancels_what_is_open() {
        let now = Instant::now();
        let mut s = Session::new(Duration::from_secs(90), now);
        s.handle(ask(1, Asked::ReadIdCard), now);
        s.handle(Event::HostWithdrawn(1), now);
        assert!(s.host_consent().is_none());
        s.handle(ask(2, Asked::ReadIdCard), now);
        s.handle(Event::HostConsent(true), now);
        answers(&mut s);
        s.handle(Event::Back, now);
        assert_eq!(
            answers(&mut s),
            vec![(2, HostAnswer::Refused(Refused::Cancelled))]
        );
        s.handle(ask(3, Asked::ReadIdCard), now);
        s.handle(Event::Home, now);
        assert_eq!(
            answers(&mut s),
            vec![(3, HostAnswer::Refused(Refused::Cancelled))]
        );
    }
}
