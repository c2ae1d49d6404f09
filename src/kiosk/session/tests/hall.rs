//! 取号, 预约签到 and 办件进度查询 as the session holds and decides them.

use super::opened;
use crate::core::ticketing::{IssuedTicket, TicketKind};
use crate::kiosk::session::*;
use std::time::{Duration, Instant};

fn drain(s: &mut Session) -> Vec<Effect> {
    std::iter::from_fn(|| s.poll_effect()).collect()
}

pub(super) fn ticket() -> Box<IssuedTicket> {
    Box::new(IssuedTicket {
        id: uuid::Uuid::nil(),
        number: "A001".into(),
        service: "A".into(),
        service_name: "综合受理".into(),
        date: jiff::civil::date(2026, 11, 27),
        kind: TicketKind::WalkIn,
        waiting_before: 0,
        offline: false,
        qr: "ykb:ticket:A001".into(),
        issued_at: jiff::Timestamp::UNIX_EPOCH,
    })
}

#[test]
fn a_ticket_is_issued_once_printed_and_the_progress_number_takes_only_case_characters() {
    let t = Instant::now();
    let mut s = Session::new(Duration::from_secs(60), t);
    assert_eq!(
        s.handle(Event::TicketIssued(ticket()), t),
        Outcome::None,
        "not on 取号"
    );
    assert_eq!(s.handle(Event::TakeTicket("A".into()), t), Outcome::None);
    s.handle(Event::Open(Screen::Tickets), t);
    s.handle(Event::TicketIssued(ticket()), t);
    assert_eq!(s.current(), &Screen::TicketIssued);
    assert_eq!(s.issued().unwrap().number, "A001");
    assert_eq!(drain(&mut s), [Effect::PrintTicket]);
    assert_eq!(
        s.handle(Event::TicketIssued(ticket()), t),
        Outcome::None,
        "one ticket per tap"
    );
    assert_eq!(s.handle(Event::Back, t), Outcome::Wiped);
    assert!(s.issued().is_none());

    s.handle(Event::Open(Screen::Progress), t);
    s.handle(Event::ProgressInput("12<script>ab-9\n".into()), t);
    assert_eq!(s.progress_query(), "12scriptab-9");
    assert_eq!(s.handle(Event::Home, t), Outcome::Wiped);
    assert_eq!(s.progress_query(), "");
}

#[test]
fn take_ticket_asks_for_the_ticket_as_set_up_and_a_refusal_is_said() {
    let t = Instant::now();
    let mut s = Session::new(Duration::from_secs(60), t);
    assert_eq!(
        s.handle(Event::ToggleGreen, t),
        Outcome::None,
        "not on 取号"
    );
    s.handle(Event::Open(Screen::Tickets), t);
    s.handle(Event::TakeTicket("A".into()), t);
    assert_eq!(
        drain(&mut s),
        [Effect::IssueTicket {
            service: "A".into(),
            green: false,
            appointment: None,
        }]
    );
    s.handle(Event::ToggleGreen, t);
    assert!(s.green());
    s.handle(Event::ToggleCheckin, t);
    for k in ["a", "b", "1"] {
        s.handle(Event::CheckinKey(Key::Text(k.into())), t);
    }
    s.handle(Event::TakeTicket("B".into()), t);
    assert_eq!(
        drain(&mut s),
        [Effect::IssueTicket {
            service: "B".into(),
            green: true,
            appointment: Some("AB1".into()),
        }]
    );
    s.handle(Event::TicketRefused("预约 AB1 已签到".into()), t);
    assert_eq!(s.ticket_note(), "预约 AB1 已签到");
    assert_eq!(s.current(), &Screen::Tickets);
    // Typing again clears the refusal.
    s.handle(Event::CheckinKey(Key::Backspace), t);
    assert_eq!(s.ticket_note(), "");
    assert_eq!(s.checkin_code(), "AB");
}

#[test]
fn the_checkin_code_is_upper_case_limited_and_only_typed_when_checkin_is_on() {
    let t = Instant::now();
    let mut s = opened(Screen::Tickets, t);
    assert_eq!(
        s.handle(Event::CheckinKey(Key::Text("a".into())), t),
        Outcome::None,
        "预约签到 is off"
    );
    s.handle(Event::ToggleCheckin, t);
    for _ in 0..CHECKIN_CODE_MAX + 5 {
        s.handle(Event::CheckinKey(Key::Text("x".into())), t);
    }
    assert_eq!(s.checkin_code().len(), CHECKIN_CODE_MAX);
    assert!(s.checkin_code().chars().all(|c| c == 'X'));
    // A key typing several characters stops at the limit too.
    s.handle(Event::CheckinKey(Key::Backspace), t);
    s.handle(Event::CheckinKey(Key::Text("yz".into())), t);
    assert_eq!(s.checkin_code().len(), CHECKIN_CODE_MAX);
    assert!(s.checkin_code().ends_with('Y'));
    s.handle(Event::CheckinKey(Key::Clear), t);
    assert_eq!(s.checkin_code(), "");
    // Turning 预约签到 off and on starts the code afresh.
    s.handle(Event::CheckinKey(Key::Text("q".into())), t);
    s.handle(Event::ToggleCheckin, t);
    s.handle(Event::ToggleCheckin, t);
    assert_eq!(s.checkin_code(), "");
}

#[test]
fn progress_is_asked_for_the_number_typed_and_an_empty_one_is_said() {
    let t = Instant::now();
    let mut s = opened(Screen::Progress, t);
    s.handle(Event::LookUpProgress, t);
    assert_eq!(s.progress(), Some(("请先输入编号", "")));
    assert_eq!(drain(&mut s), []);
    s.handle(Event::ProgressInput("99".into()), t);
    assert_eq!(s.progress(), None, "typing drops the old answer");
    s.handle(Event::LookUpProgress, t);
    assert_eq!(
        drain(&mut s),
        [Effect::LookUpProgress {
            number: "99".into()
        }]
    );
    s.handle(
        Event::ProgressAnswer {
            title: "没有找到这个编号".into(),
            detail: "本机只能查到在本机提交的办件".into(),
        },
        t,
    );
    assert_eq!(s.progress().unwrap().0, "没有找到这个编号");
    // 呼叫工作人员 from anywhere.
    s.handle(Event::CallStaff, t);
    assert_eq!(s.current(), &Screen::CallStaff);
    assert_eq!(drain(&mut s), [Effect::CallStaff]);
}
