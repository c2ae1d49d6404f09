//! 维护模式's way in, as the session decides it: the hidden gesture (five quick taps on the
//! 渝快办 title), the PIN pad (工号 and 密码), and the sign-in itself — checked against the
//! profile's `[technician]` accounts (Argon2id or older PBKDF2 hashes, `core::pin`),
//! throttled (the throttle kept in the store by the loop, so a restart lifts no pause), every
//! attempt audited — the way the counter's `Clerk::sign_in` does it. The accounts, the throttle and
//! the gesture are not personal and outlive every wipe; what is typed on the pad is wiped
//! with the session, and the PIN is dropped after each try.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::core::audit::{Actor, AuditAction};
use crate::core::config::{PinAccount, TechnicianSection};
use crate::core::pin::{SignIn, Throttle};

use super::{Effect, Key, Outcome, Screen, Session, TechField};

/// Taps that open the PIN pad, and the time they must fall within.
pub const GESTURE_TAPS: usize = 5;
pub const GESTURE_WINDOW: Duration = Duration::from_secs(3);

/// The longest 工号 or PIN the pad takes.
pub const PIN_PAD_MAX: usize = 32;

/// The hidden gesture: [`GESTURE_TAPS`] taps within [`GESTURE_WINDOW`].
#[derive(Debug, Default)]
pub struct TapGesture {
    taps: VecDeque<Instant>,
}

impl TapGesture {
    /// Records a tap; true when it completes the gesture (which then starts over).
    pub fn tap(&mut self, now: Instant) -> bool {
        self.taps.push_back(now);
        while self
            .taps
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > GESTURE_WINDOW)
        {
            self.taps.pop_front();
        }
        if self.taps.len() >= GESTURE_TAPS {
            self.taps.clear();
            true
        } else {
            false
        }
    }
}

/// What outlives a wipe: the accounts, the throttle (a wipe must not lift a pause: the
/// gesture itself wipes, so reopening the pad would) and the gesture.
#[derive(Debug)]
pub(super) struct Gate {
    accounts: Vec<PinAccount>,
    throttle: Throttle,
    gesture: TapGesture,
    /// The id whose PIN is being checked on a worker: its outcome counts against the
    /// throttle even when the pad was left meanwhile (leaving must not buy a free guess).
    checking: Option<String>,
}

impl Default for Gate {
    /// No accounts (nobody signs in); the profile's defaults for the throttle.
    fn default() -> Self {
        Self::new(None)
    }
}

impl Gate {
    fn new(section: Option<&TechnicianSection>) -> Self {
        let (max, secs, accounts) = section.map_or((3, 60, Vec::new()), |t| {
            (
                t.max_failures,
                u64::from(t.lockout_secs),
                t.accounts.clone(),
            )
        });
        Self {
            accounts,
            throttle: Throttle::new(max, Duration::from_secs(secs)),
            gesture: TapGesture::default(),
            checking: None,
        }
    }
}

/// What is typed on the PIN pad. The PIN never leaves it: it is shown as dots, dropped after
/// each try, and not printed by `Debug`.
#[derive(Default, PartialEq, Eq)]
pub struct PinEntry {
    id: String,
    pin: String,
    typing_pin: bool,
    note: String,
}

impl std::fmt::Debug for PinEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinEntry")
            .field("id", &self.id)
            .field("pin_chars", &self.pin.chars().count())
            .field("typing_pin", &self.typing_pin)
            .field("note", &self.note)
            .finish()
    }
}

impl PinEntry {
    /// The 工号 typed.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// How many characters of PIN are typed (the pad shows as many dots).
    pub fn pin_chars(&self) -> usize {
        self.pin.chars().count()
    }

    /// Whether the pad types into 密码 (else into 工号).
    pub fn typing_pin(&self) -> bool {
        self.typing_pin
    }

    /// What the last try came to (empty: nothing to say).
    pub fn note(&self) -> &str {
        &self.note
    }
}

impl Session {
    /// Takes 维护模式's accounts and throttle from the profile's `[technician]` (without
    /// one, nobody can sign in).
    pub fn with_technicians(mut self, section: Option<&TechnicianSection>) -> Self {
        self.gate = Gate::new(section);
        self
    }

    /// What is typed on the PIN pad.
    pub fn pin_entry(&self) -> &PinEntry {
        &self.pin_entry
    }

    /// 维护模式's sign-in throttle (its state is stored after every checked PIN).
    pub fn technician_throttle(&self) -> &Throttle {
        &self.gate.throttle
    }

    /// Takes up the throttle state stored by an earlier run (see
    /// [`Effect::StoreTechnicianThrottle`]).
    pub fn restore_technician_throttle(
        &mut self,
        state: crate::core::pin::ThrottleState,
        now: Instant,
        now_ms: i64,
    ) {
        self.gate.throttle.restore(state, now, now_ms);
    }

    /// The technician signed in (their id), if any.
    pub fn technician(&self) -> Option<&str> {
        self.technician.as_deref()
    }

    pub(super) fn on_title_tapped(&mut self) -> Outcome {
        if self.gate.gesture.tap(self.now) {
            self.on_open_tech_login()
        } else {
            Outcome::None
        }
    }

    /// The hidden gesture: whatever a citizen left is wiped and the PIN pad opens.
    pub(super) fn on_open_tech_login(&mut self) -> Outcome {
        self.wipe();
        self.open(Screen::TechLogin);
        Outcome::Wiped
    }

    pub(super) fn on_tech_field(&mut self, field: TechField) -> Outcome {
        if self.current() != &Screen::TechLogin {
            return Outcome::None;
        }
        self.pin_entry.typing_pin = field == TechField::Pin;
        Outcome::Changed
    }

    pub(super) fn on_tech_key(&mut self, key: Key) -> Outcome {
        if self.current() != &Screen::TechLogin {
            return Outcome::None;
        }
        let e = &mut self.pin_entry;
        let target = if e.typing_pin { &mut e.pin } else { &mut e.id };
        match key {
            Key::Text(text) => {
                let room = PIN_PAD_MAX.saturating_sub(target.chars().count());
                target.extend(text.chars().take(room));
            }
            Key::Backspace => {
                target.pop();
            }
            Key::Clear => target.clear(),
        }
        e.note.clear();
        Outcome::Changed
    }

    /// 进入维护模式: unless sign-in is paused, the id and PIN typed go to a worker to be
    /// checked against the accounts ([`Effect::CheckTechnicianPin`]); its outcome comes back
    /// as [`Event::TechnicianPinChecked`].
    pub(super) fn on_tech_sign_in(&mut self) -> Outcome {
        if self.current() != &Screen::TechLogin || self.gate.checking.is_some() {
            return Outcome::None;
        }
        let pin = std::mem::take(&mut self.pin_entry.pin);
        let id = self.pin_entry.id.trim().to_uppercase();
        if let Err(paused) = self.gate.throttle.begin(self.now) {
            self.pin_entry.note = paused.message();
            return Outcome::Changed;
        }
        let check = crate::core::pin::PinCheck::new(
            self.gate
                .accounts
                .iter()
                .map(|a| (a.id.as_str(), a.pin_hash.as_str())),
            &id,
            pin,
        );
        self.gate.checking = Some(id);
        self.effects.push_back(Effect::CheckTechnicianPin(check));
        self.pin_entry.note = "正在核验密码…".into();
        Outcome::Changed
    }

    /// Whether a technician PIN is being checked on a worker.
    pub fn checking_technician_pin(&self) -> bool {
        self.gate.checking.is_some()
    }

    /// The worker's outcome for the id `id`: counted against the throttle, audited under the
    /// id typed, and — when right and the pad is still open — 维护模式 opens.
    pub(super) fn on_tech_pin_checked(&mut self, id: &str, ok: bool) -> Outcome {
        if self.gate.checking.as_deref() != Some(id) {
            return Outcome::None;
        }
        self.gate.checking = None;
        let result = self.gate.throttle.record(ok, self.now);
        // A checked PIN moved the throttle: keep it across restarts.
        self.effects.push_back(Effect::StoreTechnicianThrottle);
        // The audit log names the id typed only when an account could have it.
        let technician = if Actor::technician(id).is_ok() {
            id.to_owned()
        } else {
            "unknown".to_owned()
        };
        let audit = |action, detail: &str| Effect::AuditTechnician {
            technician: technician.clone(),
            action,
            detail: detail.to_owned(),
        };
        let on_pad = self.current() == &Screen::TechLogin;
        match result {
            SignIn::Ok if on_pad => {
                tracing::info!("technician mode entered");
                self.effects
                    .push_back(audit(AuditAction::TechnicianLogin, "进入维护模式"));
                self.effects.push_back(Effect::ReadTechnicianOverview);
                self.pin_entry = PinEntry::default();
                self.technician = Some(technician);
                self.stack.truncate(1);
                self.open(Screen::Technician);
                return Outcome::Changed;
            }
            // Right, but the pad was left meanwhile: nobody is signed in.
            SignIn::Ok => return Outcome::None,
            SignIn::StillPaused { .. } => {}
            SignIn::Wrong { .. } | SignIn::Paused { .. } => self.effects.push_back(audit(
                AuditAction::TechnicianLoginFailed,
                "维护模式密码错误",
            )),
        }
        if !on_pad {
            return Outcome::None;
        }
        self.pin_entry.note = result.message();
        Outcome::Changed
    }

    /// An action on the technician's page: only for the technician signed in, there.
    pub(super) fn on_technician_action(&mut self, effect: Effect) -> Outcome {
        if self.current() != &Screen::Technician || self.technician.is_none() {
            return Outcome::None;
        }
        self.effects.push_back(effect);
        Outcome::Changed
    }
}
