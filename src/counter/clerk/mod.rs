//! The clerk's session at a counter terminal (一窗综办) as a plain state machine, unit-tested
//! without Slint: sign-in with staff id and PIN (wrong PINs pause sign-in, doubling), the
//! idle lock, and the citizen being served — ticket, ID card, matter, situation answers,
//! materials ticked as brought, the decision — and what the citizen-facing pad shows.
//! **Invariant: what the counter does next is decided here, not in `.slint` callbacks.**

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::core::config::CounterSection;
use crate::core::domain::CardExpiry;
use crate::core::domain::{EvaluationLevel, Matter, Person, QuestionKind};
use crate::core::pin::{SignIn, Throttle};
use crate::errand::Errand;

use super::prereview::{self, Review};

/// Who is at the keyboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    SignedOut,
    /// Locked after the idle time (or by the clerk): the PIN opens it again.
    Locked {
        staff: String,
    },
    SignedIn {
        staff: String,
    },
}

/// What the clerk decided for the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// 受理: the case is in the outbox.
    Accepted {
        case_id: String,
        local_number: String,
    },
    /// 不予受理, with the reason given.
    Rejected { reason: String },
    /// 补齐补正: the materials still missing (names).
    Supplement { missing: Vec<String> },
}

/// The citizen being served: everything personal the counter holds, dropped at 办结.
#[derive(Debug, Clone, Default)]
pub struct Work {
    /// The ticket called to this window (`A001`), if the citizen came with one.
    pub ticket: Option<String>,
    pub person: Option<Person>,
    pub expiry: Option<CardExpiry>,
    pub licences: Vec<String>,
    pub matter: Option<Matter>,
    /// Chosen situation options.
    pub chosen: Vec<String>,
    /// Materials ticked as brought.
    pub brought: BTreeSet<String>,
    pub decision: Option<Decision>,
}

/// Nothing typed or photographed: the counter's form is the card, its papers are handed over.
static NOTHING_TYPED: BTreeMap<String, String> = BTreeMap::new();
static NO_PHOTOS: BTreeMap<String, Vec<u8>> = BTreeMap::new();

impl Work {
    /// The accepted errand as a plain value for the case builder; `None` without a matter or
    /// a card read. The answers are the chosen options of each applicable question.
    pub fn errand(&self) -> Option<Errand<'_>> {
        let matter = self.matter.as_ref()?;
        let mut answers = BTreeMap::new();
        for q in matter.applicable_questions(&self.chosen) {
            let picked: Vec<String> = q
                .options
                .iter()
                .filter(|o| self.chosen.contains(&o.id))
                .map(|o| o.id.clone())
                .collect();
            if !picked.is_empty() {
                answers.insert(q.id.clone(), picked);
            }
        }
        Some(Errand {
            matter,
            bundle: None,
            chosen: self.chosen.clone(),
            answers,
            person: self.person.as_ref()?,
            agent: None,
            licences: &self.licences,
            fields: &NOTHING_TYPED,
            images: &NO_PHOTOS,
        })
    }
}

/// What the evaluation pad facing the citizen does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pad {
    /// Shows what the clerk is doing.
    Showing,
    /// 好差评 for the service just finished.
    Evaluate(Evaluation),
    /// 感谢您的评价, until the instant.
    Thanks { until: Instant },
}

/// The evaluation being given on the pad.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// The ticket evaluated (its 好差评 goes through `ticketing::evaluate`).
    pub ticket: Option<String>,
    /// The case decided, if any (without a ticket, the evaluation names it).
    pub case_id: Option<String>,
    pub task_code: Option<String>,
    pub level: Option<EvaluationLevel>,
    pub reasons: Vec<String>,
    pub note: String,
}

/// How long the pad thanks the citizen.
pub const THANKS: Duration = Duration::from_secs(5);

/// What pressing 登录 (or 解锁) starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInStart {
    /// Check the PIN (off the UI thread), then [`Clerk::finish_sign_in`].
    Check,
    /// Answered without a check (sign-in is paused).
    Answered(SignIn),
    /// A check is already running: this press does nothing.
    Busy,
}

/// The clerk's session.
#[derive(Debug)]
pub struct Clerk {
    auth: Auth,
    throttle: Throttle,
    /// The staff id whose PIN is being checked, while a check runs.
    checking: Option<String>,
    last_input: Instant,
    lock_after: Duration,
    work: Work,
    pad: Pad,
}

impl Clerk {
    /// A signed-out counter.
    pub fn new(cfg: &CounterSection, now: Instant) -> Self {
        Self {
            auth: Auth::SignedOut,
            checking: None,
            throttle: Throttle::new(
                cfg.max_failures,
                Duration::from_secs(u64::from(cfg.lockout_secs)),
            ),
            last_input: now,
            lock_after: Duration::from_secs(u64::from(cfg.lock_after_secs)),
            work: Work::default(),
            pad: Pad::Showing,
        }
    }

    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The staff id signed in (not while locked).
    pub fn staff(&self) -> Option<&str> {
        match &self.auth {
            Auth::SignedIn { staff } => Some(staff),
            _ => None,
        }
    }

    pub fn work(&self) -> &Work {
        &self.work
    }

    pub fn pad(&self) -> &Pad {
        &self.pad
    }

    /// Whether a citizen is being served at this window: a ticket called here, a person or
    /// a matter on the desk, or the pad asking for 好差评. A software update or a restart
    /// asked by operations waits until this ends.
    pub fn serving(&self) -> bool {
        self.work.ticket.is_some()
            || self.work.person.is_some()
            || self.work.matter.is_some()
            || matches!(self.pad, Pad::Evaluate(_))
    }

    pub fn throttle(&self) -> &Throttle {
        &self.throttle
    }

    /// The sign-in throttle, to restore it from the store at start.
    pub fn throttle_mut(&mut self) -> &mut Throttle {
        &mut self.throttle
    }

    /// Checks a staff id and PIN against the configured accounts here and now, as the app
    /// does with [`Clerk::begin_sign_in`], a worker and [`Clerk::finish_sign_in`].
    #[cfg(test)]
    pub fn sign_in(
        &mut self,
        staff_id: &str,
        pin: &str,
        accounts: &[crate::core::config::PinAccount],
        now: Instant,
    ) -> SignIn {
        match self.begin_sign_in(staff_id, now) {
            SignInStart::Check => {}
            SignInStart::Answered(r) => return r,
            SignInStart::Busy => panic!("a check is already running"),
        }
        let ok = crate::core::pin::check(
            accounts
                .iter()
                .map(|a| (a.id.as_str(), a.pin_hash.as_str())),
            staff_id.trim(),
            pin,
        );
        self.finish_sign_in(staff_id, ok, now)
            .expect("the check just begun")
    }

    /// A sign-in pressed: whether its PIN is to be checked now (the check takes a tenth of a
    /// second or more: the app runs it on a worker and hands the outcome to
    /// [`Clerk::finish_sign_in`]). While paused nothing is checked; while a check runs, a
    /// second one does not start (so presses cannot run guesses side by side).
    pub fn begin_sign_in(&mut self, staff_id: &str, now: Instant) -> SignInStart {
        if self.checking.is_some() {
            return SignInStart::Busy;
        }
        if let Err(paused) = self.throttle.begin(now) {
            return SignInStart::Answered(paused);
        }
        self.checking = Some(staff_id.trim().to_owned());
        SignInStart::Check
    }

    /// Whether a PIN check is running.
    pub fn checking(&self) -> bool {
        self.checking.is_some()
    }

    /// The outcome of the check [`Clerk::begin_sign_in`] started for `staff_id`; `None` when
    /// no such check runs. While locked, the same clerk unlocks and keeps the citizen's work;
    /// another clerk starts afresh (the ticket at the window stays).
    pub fn finish_sign_in(&mut self, staff_id: &str, ok: bool, now: Instant) -> Option<SignIn> {
        let staff_id = staff_id.trim();
        if self.checking.as_deref() != Some(staff_id) {
            return None;
        }
        self.checking = None;
        let result = self.throttle.record(ok, now);
        if result != SignIn::Ok {
            return Some(result);
        }
        let same = matches!(&self.auth, Auth::Locked { staff } if staff == staff_id);
        if !same {
            let ticket = self.work.ticket.take();
            self.work = Work {
                ticket,
                ..Work::default()
            };
        }
        self.auth = Auth::SignedIn {
            staff: staff_id.to_owned(),
        };
        self.last_input = now;
        Some(SignIn::Ok)
    }

    /// 签退: forgets the citizen's work; returns who signed out.
    pub fn sign_out(&mut self) -> Option<String> {
        let staff = match std::mem::replace(&mut self.auth, Auth::SignedOut) {
            Auth::SignedIn { staff } | Auth::Locked { staff } => Some(staff),
            Auth::SignedOut => None,
        };
        self.work = Work::default();
        self.pad = Pad::Showing;
        staff
    }

    /// 锁屏 now; returns who was locked out.
    pub fn lock(&mut self) -> Option<String> {
        let staff = self.staff()?.to_owned();
        self.auth = Auth::Locked {
            staff: staff.clone(),
        };
        Some(staff)
    }

    /// Input from the clerk: keeps the session open.
    pub fn touch(&mut self, now: Instant) {
        self.last_input = now;
    }

    /// Advances the clock: locks after the idle time (returns the staff id then) and ends
    /// the pad's thanks.
    pub fn tick(&mut self, now: Instant) -> Option<String> {
        if let Pad::Thanks { until } = self.pad {
            if now >= until {
                self.pad = Pad::Showing;
            }
        }
        if self.staff().is_some() && now.duration_since(self.last_input) >= self.lock_after {
            return self.lock();
        }
        None
    }

    /// A ticket was called to the window: a new citizen. An evaluation nobody gave ends.
    pub fn called(&mut self, number: &str) {
        self.work = Work {
            ticket: Some(number.to_owned()),
            ..Work::default()
        };
        self.pad = Pad::Showing;
    }

    /// The ticket left the window without service (过号, 暂挂, 转出): the work goes with it.
    pub fn ticket_gone(&mut self) {
        self.work = Work::default();
    }

    /// An ID card was read at the window.
    pub fn card_read(&mut self, person: Person, expiry: Option<CardExpiry>) {
        self.work.person = Some(person);
        self.work.expiry = expiry;
        self.work.licences.clear();
        self.work.decision = None;
    }

    /// The platform's e-licences for `id_number`, if it is still the person at the window.
    pub fn licences(&mut self, id_number: &str, names: Vec<String>) -> bool {
        let same = self
            .work
            .person
            .as_ref()
            .is_some_and(|p| p.id_number.expose() == id_number);
        if same {
            self.work.licences = names;
        }
        same
    }

    /// A matter was chosen from the catalogue: answers and ticks start afresh.
    pub fn choose_matter(&mut self, matter: Matter) {
        self.work.matter = Some(matter);
        self.work.chosen.clear();
        self.work.brought.clear();
        self.work.decision = None;
    }

    /// An option of a situation question was picked: single questions take one answer, multi
    /// ones toggle; answers to questions that no longer apply are dropped.
    pub fn answer(&mut self, option: &str) {
        let Some(m) = &self.work.matter else { return };
        let Some(q) = m
            .questions
            .iter()
            .find(|q| q.options.iter().any(|o| o.id == option))
        else {
            return;
        };
        let chosen = &mut self.work.chosen;
        match q.kind {
            QuestionKind::Single => {
                chosen.retain(|c| !q.options.iter().any(|o| &o.id == c));
                chosen.push(option.to_owned());
            }
            QuestionKind::Multi => {
                if let Some(i) = chosen.iter().position(|c| c == option) {
                    chosen.remove(i);
                } else {
                    chosen.push(option.to_owned());
                }
            }
        }
        // Drop answers of questions that stopped applying (until nothing changes).
        loop {
            let applicable: Vec<&str> = m
                .applicable_questions(chosen)
                .flat_map(|q| q.options.iter().map(|o| o.id.as_str()))
                .collect();
            let before = chosen.len();
            let keep: Vec<String> = chosen
                .iter()
                .filter(|c| applicable.contains(&c.as_str()))
                .cloned()
                .collect();
            *chosen = keep;
            if chosen.len() == before {
                break;
            }
        }
        self.work.decision = None;
    }

    /// The clerk ticked (or unticked) a material as brought.
    pub fn toggle_brought(&mut self, material: &str) {
        let b = &mut self.work.brought;
        if !b.remove(material) {
            b.insert(material.to_owned());
        }
        self.work.decision = None;
    }

    /// Pre-review of the current work, once a matter is chosen.
    pub fn review(&self, today: jiff::civil::Date) -> Option<Review> {
        let m = self.work.matter.as_ref()?;
        Some(prereview::review(&prereview::Input {
            matter: m,
            chosen: &self.work.chosen,
            person: self.work.person.as_ref(),
            expiry: self.work.expiry,
            licences: &self.work.licences,
            brought: &self.work.brought,
            today,
        }))
    }

    /// Records the decision (after the outbox took it).
    pub fn decided(&mut self, d: Decision) {
        self.work.decision = Some(d);
    }

    /// 办结: the citizen's work ends and the pad asks for 好差评. Returns the ticket that was
    /// at the window, to be marked served.
    pub fn finish(&mut self) -> Option<String> {
        let work = std::mem::take(&mut self.work);
        let case_id = match &work.decision {
            Some(Decision::Accepted { case_id, .. }) => Some(case_id.clone()),
            _ => None,
        };
        if work.ticket.is_some() || case_id.is_some() {
            self.pad = Pad::Evaluate(Evaluation {
                ticket: work.ticket.clone(),
                case_id,
                task_code: work.matter.as_ref().map(|m| m.task_code.to_string()),
                level: None,
                reasons: Vec::new(),
                note: String::new(),
            });
        }
        work.ticket
    }

    /// The citizen picked a level on the pad (reasons reset when it turns good ↔ bad).
    pub fn evaluate_level(&mut self, level: EvaluationLevel) {
        if let Pad::Evaluate(e) = &mut self.pad {
            if e.level.map(EvaluationLevel::is_negative) != Some(level.is_negative()) {
                e.reasons.clear();
            }
            e.level = Some(level);
            e.note.clear();
        }
    }

    /// A reason chip on the pad.
    pub fn toggle_reason(&mut self, reason: &str) {
        if let Pad::Evaluate(e) = &mut self.pad {
            if let Some(i) = e.reasons.iter().position(|r| r == reason) {
                e.reasons.remove(i);
            } else {
                e.reasons.push(reason.to_owned());
            }
            e.note.clear();
        }
    }

    /// What "提交评价" would send, or why not yet (shown on the pad).
    pub fn evaluation_ready(&mut self) -> Option<Evaluation> {
        let Pad::Evaluate(e) = &mut self.pad else {
            return None;
        };
        match e.level {
            None => e.note = "请先点选一个评价".into(),
            Some(l) if l.is_negative() && e.reasons.is_empty() => {
                e.note = "请选择不满意的原因，以便我们改进".into()
            }
            Some(_) => return Some(e.clone()),
        }
        None
    }

    /// The evaluation was stored (or skipped): the pad thanks the citizen.
    pub fn evaluated(&mut self, now: Instant) {
        self.pad = Pad::Thanks {
            until: now + THANKS,
        };
    }

    /// What the pad says about the service in progress (zh-CN).
    pub fn pad_status(&self) -> String {
        let w = &self.work;
        match (&w.decision, &w.matter, &w.person) {
            (Some(Decision::Accepted { .. }), _, _) => "已受理，请取走受理回执".into(),
            (Some(Decision::Supplement { .. }), _, _) => {
                "材料不齐，请按补正清单补齐后再来办理".into()
            }
            (Some(Decision::Rejected { reason }), _, _) => format!("不予受理：{reason}"),
            (None, Some(_), _) => "工作人员正在预审您的材料".into(),
            (None, None, Some(_)) => "身份已核验，正在选择办理事项".into(),
            (None, None, None) if w.ticket.is_some() => "请出示身份证".into(),
            _ => "欢迎，请稍候".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::PinAccount;
    use crate::core::domain::IdNumber;

    fn cfg() -> CounterSection {
        CounterSection {
            window: 3,
            lock_after_secs: 60,
            max_failures: 3,
            lockout_secs: 30,
            staff: vec![PinAccount {
                id: "S0001".into(),
                pin_hash: crate::core::pin::PinHash::new(
                    "123456",
                    b"saltsalt",
                    crate::core::pin::MIN_ITERATIONS,
                )
                .to_string(),
            }],
        }
    }

    fn signed_in(t: Instant) -> Clerk {
        let c = cfg();
        let mut k = Clerk::new(&c, t);
        assert_eq!(k.sign_in("S0001", "123456", &c.staff, t), SignIn::Ok);
        k
    }

    fn person() -> Person {
        Person {
            name: "李喆".into(),
            id_number: IdNumber::parse("500105198511220024").unwrap(),
            address: String::new(),
        }
    }

    fn renewal() -> Matter {
        crate::core::catalog::demo_matter("居民身份证换领")
    }

    #[test]
    fn a_citizen_is_served_from_the_call_until_the_evaluation_is_given() {
        let t = Instant::now();
        let mut k = signed_in(t);
        assert!(!k.serving(), "signed in, nobody called");
        k.called("A001");
        assert!(k.serving(), "a ticket at the window");
        k.finish();
        assert!(matches!(k.pad(), Pad::Evaluate(_)));
        assert!(k.serving(), "the citizen is still at the pad");
        k.evaluated(t);
        assert!(!k.serving());
        k.card_read(person(), None);
        assert!(k.serving(), "a walk-in's card on the desk");
    }

    #[test]
    fn wrong_pins_pause_sign_in_and_the_pause_doubles() {
        let c = cfg();
        let t = Instant::now();
        let mut k = Clerk::new(&c, t);
        assert_eq!(
            k.sign_in("S0001", "1", &c.staff, t),
            SignIn::Wrong { left: 2 }
        );
        assert_eq!(
            k.sign_in("nobody", "123456", &c.staff, t),
            SignIn::Wrong { left: 1 }
        );
        assert_eq!(
            k.sign_in("S0001", "2", &c.staff, t),
            SignIn::Paused { secs: 30 }
        );
        // Even the right PIN is not checked while paused.
        assert_eq!(
            k.sign_in("S0001", "123456", &c.staff, t + Duration::from_secs(10)),
            SignIn::StillPaused { secs: 20 }
        );
        assert_eq!(k.auth(), &Auth::SignedOut);
        let later = t + Duration::from_secs(31);
        assert_eq!(
            k.sign_in("S0001", "3", &c.staff, later),
            SignIn::Paused { secs: 60 }
        );
        let later = later + Duration::from_secs(61);
        assert!(matches!(
            k.sign_in("S0001", "123456", &c.staff, later),
            SignIn::Ok
        ));
        assert_eq!(k.staff(), Some("S0001"));
        // Success forgets the failures.
        k.sign_out();
        assert_eq!(
            k.sign_in("S0001", "9", &c.staff, later),
            SignIn::Wrong { left: 2 }
        );
    }

    #[test]
    fn a_check_off_the_ui_thread_admits_no_second_press_and_takes_only_its_own_outcome() {
        let c = cfg();
        let t = Instant::now();
        let mut k = Clerk::new(&c, t);
        assert_eq!(k.begin_sign_in(" S0001 ", t), SignInStart::Check);
        assert!(k.checking());
        // A second press while the worker hashes starts no second guess.
        assert_eq!(k.begin_sign_in("S0001", t), SignInStart::Busy);
        // An outcome for someone else's check (a stale report) changes nothing.
        assert_eq!(k.finish_sign_in("S0002", true, t), None);
        assert_eq!(k.auth(), &Auth::SignedOut);
        assert_eq!(
            k.finish_sign_in("S0001", false, t),
            Some(SignIn::Wrong { left: 2 })
        );
        assert!(!k.checking());
        for _ in 0..2 {
            assert_eq!(k.begin_sign_in("S0001", t), SignInStart::Check);
            k.finish_sign_in("S0001", false, t);
        }
        // Paused: answered at once, nothing to check.
        assert_eq!(
            k.begin_sign_in("S0001", t + Duration::from_secs(1)),
            SignInStart::Answered(SignIn::StillPaused { secs: 29 })
        );
        assert!(!k.checking());
        let later = t + Duration::from_secs(31);
        assert_eq!(k.begin_sign_in("S0001", later), SignInStart::Check);
        assert_eq!(k.finish_sign_in("S0001", true, later), Some(SignIn::Ok));
        assert_eq!(k.staff(), Some("S0001"));
    }

    #[test]
    fn the_session_locks_when_idle_and_the_same_clerk_keeps_the_work() {
        let t = Instant::now();
        let mut k = signed_in(t);
        k.called("A001");
        k.card_read(person(), None);
        assert_eq!(k.tick(t + Duration::from_secs(59)), None);
        k.touch(t + Duration::from_secs(30));
        assert_eq!(k.tick(t + Duration::from_secs(89)), None);
        assert_eq!(k.tick(t + Duration::from_secs(90)), Some("S0001".into()));
        assert_eq!(
            k.auth(),
            &Auth::Locked {
                staff: "S0001".into()
            }
        );
        assert_eq!(k.staff(), None);
        let c = cfg();
        let now = t + Duration::from_secs(100);
        assert!(matches!(
            k.sign_in("S0001", "123456", &c.staff, now),
            SignIn::Ok
        ));
        assert!(k.work().person.is_some(), "the same clerk carries on");
        // Signing out forgets everything personal.
        assert_eq!(k.sign_out(), Some("S0001".into()));
        assert!(k.work().person.is_none() && k.work().ticket.is_none());
    }

    #[test]
    fn answers_ticks_and_the_review_follow_the_matter() {
        let t = Instant::now();
        let mut k = signed_in(t);
        k.called("A001");
        assert_eq!(k.pad_status(), "请出示身份证");
        k.card_read(person(), Some(CardExpiry::LongTerm));
        assert!(k.licences("500105198511220024", vec!["居民户口簿".into()]));
        assert!(!k.licences("110105198501010028", vec![]));
        k.choose_matter(renewal());
        for o in ["o_damaged", "o_expiry", "o_minor_no", "o_pick_window"] {
            k.answer(o);
        }
        assert_eq!(
            k.work().chosen,
            vec!["o_expiry", "o_minor_no", "o_pick_window"]
        );
        let today = jiff::civil::date(2026, 11, 27);
        let r = k.review(today).unwrap();
        assert!(!r.can_accept());
        k.toggle_brought("m_photo_receipt");
        assert!(k.review(today).unwrap().can_accept());
        k.toggle_brought("m_photo_receipt");
        assert!(!k.review(today).unwrap().can_accept());
        assert_eq!(k.pad_status(), "工作人员正在预审您的材料");
    }

    #[test]
    fn finishing_asks_the_pad_for_an_evaluation_that_needs_a_reason_when_bad() {
        let t = Instant::now();
        let mut k = signed_in(t);
        k.called("A001");
        k.decided(Decision::Accepted {
            case_id: "c1".into(),
            local_number: "1".into(),
        });
        assert_eq!(k.finish(), Some("A001".into()));
        assert!(k.work().ticket.is_none());
        assert!(k.evaluation_ready().is_none());
        k.evaluate_level(EvaluationLevel::Dissatisfied);
        assert!(k.evaluation_ready().is_none());
        let Pad::Evaluate(e) = k.pad() else { panic!() };
        assert_eq!(e.note, "请选择不满意的原因，以便我们改进");
        k.toggle_reason("等候时间长");
        let e = k.evaluation_ready().unwrap();
        assert_eq!(e.ticket.as_deref(), Some("A001"));
        assert_eq!(e.case_id.as_deref(), Some("c1"));
        k.evaluated(t);
        assert!(matches!(k.pad(), Pad::Thanks { .. }));
        k.tick(t + THANKS);
        assert_eq!(k.pad(), &Pad::Showing);
    }
}
