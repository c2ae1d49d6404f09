//! What operations asked through remote commands (`core::commands`), as the loop reads it
//! from the store: 维护模式 (the home screen says the terminal is out of service and opens
//! no service; a citizen already being served finishes first, because the home screen is
//! only reached when they leave) and a restart, taken only between citizens.

use super::{Effect, Outcome, Screen, Session};

impl Session {
    /// Operations asked for maintenance (`maintenance`) and/or a restart not yet done.
    pub(super) fn on_operations(&mut self, maintenance: bool, restart: bool) -> Outcome {
        let changed = self.out_of_service != maintenance;
        self.out_of_service = maintenance;
        if restart && self.between_citizens() && !self.restart_due {
            self.restart_due = true;
            self.effects.push_back(Effect::Restart);
        }
        if changed {
            Outcome::Changed
        } else {
            Outcome::None
        }
    }

    /// Nobody is being served: the home screen, nothing personal held, nothing submitting.
    pub fn between_citizens(&self) -> bool {
        self.current() == &Screen::Home && !self.holds_personal_data() && !self.submitting
    }

    /// The home screen shows 暂停服务 and opens no service (operations asked for
    /// maintenance).
    pub fn out_of_service(&self) -> bool {
        self.out_of_service
    }

    /// Whether a service may start from here: not while out of service on the home screen
    /// (the hidden technician gesture still works).
    pub(super) fn may_start_service(&self) -> bool {
        !(self.out_of_service && self.current() == &Screen::Home)
    }
}
