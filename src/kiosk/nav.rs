//! Which screen the kiosk shows and what "back" means: a plain state machine, no Slint.

use std::time::{Duration, Instant};

/// A screen of the kiosk, with what it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    Home,
    Departments,
    /// The matters of one department.
    Matters {
        department: String,
    },
    /// The guide of one matter (task code).
    MatterGuide {
        task_code: String,
    },
    Bundles,
    /// The guide of one bundle (一件事) by code.
    BundleGuide {
        code: String,
    },
}

/// The citizen's path through the screens, and when it ends for lack of activity.
#[derive(Debug)]
pub struct Navigator {
    stack: Vec<Screen>,
    idle_timeout: Duration,
    last_touch: Instant,
}

impl Navigator {
    /// Starts at the home screen.
    pub fn new(idle_timeout: Duration, now: Instant) -> Self {
        Self {
            stack: vec![Screen::Home],
            idle_timeout,
            last_touch: now,
        }
    }

    /// The screen shown now.
    pub fn current(&self) -> &Screen {
        self.stack.last().expect("the stack always holds Home")
    }

    /// Whether "back" leads anywhere other than nowhere.
    pub fn can_go_back(&self) -> bool {
        self.stack.len() > 1
    }

    /// Opens a screen on top of the current one; opening Home clears the path.
    pub fn open(&mut self, screen: Screen) {
        if screen == Screen::Home {
            self.stack.truncate(1);
        } else if self.current() != &screen {
            self.stack.push(screen);
        }
    }

    /// Goes back one screen; Home stays Home.
    pub fn back(&mut self) {
        if self.stack.len() > 1 {
            self.stack.pop();
        }
    }

    /// Records a touch.
    pub fn touched(&mut self, now: Instant) {
        self.last_touch = now;
    }

    /// Ends the session if the citizen walked away: returns true when it did (the caller
    /// then wipes whatever the session held).
    pub fn expire_if_idle(&mut self, now: Instant) -> bool {
        if self.stack.len() > 1 && now.duration_since(self.last_touch) >= self.idle_timeout {
            self.stack.truncate(1);
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_walks_the_path_and_home_clears_it() {
        let t = Instant::now();
        let mut n = Navigator::new(Duration::from_secs(90), t);
        assert!(!n.can_go_back());
        n.open(Screen::Departments);
        n.open(Screen::Matters {
            department: "医保".into(),
        });
        n.open(Screen::MatterGuide {
            task_code: "X".into(),
        });
        n.back();
        assert_eq!(
            n.current(),
            &Screen::Matters {
                department: "医保".into()
            }
        );
        n.open(Screen::Home);
        assert_eq!(n.current(), &Screen::Home);
        assert!(!n.can_go_back());
        n.back();
        assert_eq!(n.current(), &Screen::Home);
    }

    #[test]
    fn opening_the_same_screen_twice_does_not_stack_it() {
        let mut n = Navigator::new(Duration::from_secs(90), Instant::now());
        n.open(Screen::Bundles);
        n.open(Screen::Bundles);
        n.back();
        assert_eq!(n.current(), &Screen::Home);
    }

    #[test]
    fn walking_away_returns_home_only_after_the_timeout() {
        let t = Instant::now();
        let mut n = Navigator::new(Duration::from_secs(90), t);
        n.open(Screen::Departments);
        n.touched(t + Duration::from_secs(60));
        assert!(!n.expire_if_idle(t + Duration::from_secs(149)));
        assert!(n.expire_if_idle(t + Duration::from_secs(150)));
        assert_eq!(n.current(), &Screen::Home);
        // Already home: nothing to expire.
        assert!(!n.expire_if_idle(t + Duration::from_secs(999)));
    }
}
