//! The hall's services at the kiosk: 取号 (the 绿色通道 box, 预约签到 and its code, the ticket
//! issued or why not), 办件进度查询 and 呼叫工作人员.

use crate::core::ticketing::IssuedTicket;

use super::{Effect, Key, Outcome, Screen, Session};

/// The longest 预约签到 code the keypad takes.
pub const CHECKIN_CODE_MAX: usize = 32;

/// 取号 as the citizen set it up.
#[derive(Debug, Default)]
pub(super) struct Tickets {
    green: bool,
    checkin: bool,
    checkin_code: String,
    note: String,
    issued: Option<IssuedTicket>,
}

impl Session {
    /// Whether the 绿色通道 box is ticked.
    pub fn green(&self) -> bool {
        self.tickets.green
    }

    /// Whether 预约签到 is on (the keypad for the code is shown).
    pub fn checkin(&self) -> bool {
        self.tickets.checkin
    }

    /// The 预约签到 code typed so far (upper case).
    pub fn checkin_code(&self) -> &str {
        &self.tickets.checkin_code
    }

    /// Why the last ticket was not issued (empty: nothing to say).
    pub fn ticket_note(&self) -> &str {
        &self.tickets.note
    }

    /// The ticket issued to this citizen.
    pub fn issued(&self) -> Option<&IssuedTicket> {
        self.tickets.issued.as_ref()
    }

    /// 办件进度查询: what was found for the number typed (title, detail).
    pub fn progress(&self) -> Option<(&str, &str)> {
        self.progress
            .as_ref()
            .map(|(t, d)| (t.as_str(), d.as_str()))
    }

    pub(super) fn on_toggle_green(&mut self) -> Outcome {
        if self.current() != &Screen::Tickets {
            return Outcome::None;
        }
        self.tickets.green = !self.tickets.green;
        Outcome::Changed
    }

    pub(super) fn on_toggle_checkin(&mut self) -> Outcome {
        if self.current() != &Screen::Tickets {
            return Outcome::None;
        }
        let t = &mut self.tickets;
        t.checkin = !t.checkin;
        t.checkin_code.clear();
        t.note.clear();
        Outcome::Changed
    }

    /// A key on 预约签到's keypad: letters in upper case, at most [`CHECKIN_CODE_MAX`].
    pub(super) fn on_checkin_key(&mut self, key: Key) -> Outcome {
        if self.current() != &Screen::Tickets || !self.tickets.checkin {
            return Outcome::None;
        }
        let t = &mut self.tickets;
        t.note.clear();
        match key {
            Key::Text(text) => {
                let room = CHECKIN_CODE_MAX.saturating_sub(t.checkin_code.chars().count());
                t.checkin_code
                    .extend(text.to_uppercase().chars().take(room));
            }
            Key::Backspace => {
                t.checkin_code.pop();
            }
            Key::Clear => t.checkin_code.clear(),
        }
        Outcome::Changed
    }

    /// A service tapped: the loop issues the ticket as the citizen set it up.
    pub(super) fn on_take_ticket(&mut self, service: String) -> Outcome {
        if self.current() != &Screen::Tickets {
            return Outcome::None;
        }
        let t = &self.tickets;
        self.effects.push_back(Effect::IssueTicket {
            service,
            green: t.green,
            appointment: t.checkin.then(|| t.checkin_code.clone()),
        });
        Outcome::Changed
    }

    pub(super) fn on_ticket_issued(&mut self, ticket: IssuedTicket) -> Outcome {
        if self.current() != &Screen::Tickets {
            return Outcome::None;
        }
        self.tickets.issued = Some(ticket);
        self.tickets.note.clear();
        // The ticket is in hand: "back" must not issue another by accident.
        self.stack.truncate(1);
        self.open(Screen::TicketIssued);
        self.effects.push_back(Effect::PrintTicket);
        Outcome::Changed
    }

    pub(super) fn on_ticket_refused(&mut self, why: String) -> Outcome {
        if self.current() != &Screen::Tickets {
            return Outcome::None;
        }
        self.tickets.note = why;
        Outcome::Changed
    }

    pub(super) fn on_progress_input(&mut self, q: &str) -> Outcome {
        // Case numbers are digits, letters and dashes; nothing else is typed.
        self.progress_query = q
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(64)
            .collect();
        // What was found was for the number as it stood.
        self.progress = None;
        Outcome::Changed
    }

    /// 查询: asks for the number typed, or says to type one.
    pub(super) fn on_look_up_progress(&mut self) -> Outcome {
        if self.current() != &Screen::Progress {
            return Outcome::None;
        }
        if self.progress_query.is_empty() {
            self.progress = Some(("请先输入编号".into(), String::new()));
        } else {
            self.effects.push_back(Effect::LookUpProgress {
                number: self.progress_query.clone(),
            });
        }
        Outcome::Changed
    }

    pub(super) fn on_progress_answer(&mut self, title: String, detail: String) -> Outcome {
        if self.current() != &Screen::Progress {
            return Outcome::None;
        }
        self.progress = Some((title, detail));
        Outcome::Changed
    }

    pub(super) fn on_call_staff(&mut self) -> Outcome {
        self.effects.push_back(Effect::CallStaff);
        self.open(Screen::CallStaff);
        Outcome::Changed
    }
}
