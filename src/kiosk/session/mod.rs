//! 办事会话 — the citizen's session as a plain state machine: which screen is shown, what
//! "back" means, what the citizen has told us (card, query, answers, fields), and when it all
//! ends for lack of activity. No Slint here; `mod.rs` renders whatever this says.
//!
//! The machine takes [`Event`]s in [`Session::handle`], which answers with an [`Outcome`]
//! (what to render), and queues the I/O that is due as [`Effect`]s, which the glue takes with
//! [`Session::poll_effect`] and carries out (storing a case, the camera, the platform, the
//! printer); what that I/O finds comes back as further events.
//!
//! Walking away: after `idle_timeout` without a touch a countdown of [`COUNTDOWN`] is shown
//! ("继续办理" keeps the session); when it runs out the session is **wiped** — every piece of
//! personal data is dropped and the kiosk returns home.
//!
//! The events, effects and the values they carry live in `event` and `effect`; the errand
//! (guide → form → capture → review → submit) in `apply`; 证照打印 in `licences`.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use crate::core::domain::{BundleApplication, Matter, Person};
use crate::errand::{guide, Errand};

mod apply;
mod effect;
mod event;
mod licences;
#[cfg(test)]
mod tests;

pub use crate::core::domain::CardError;
pub use effect::{Effect, Outcome};
pub use event::{
    CaptureStage, CardStatus, Event, LicenceCopy, LicenceLookup, SubmitResult, UploadProgress,
};

/// How long the "are you still there?" countdown runs before the session is wiped.
pub const COUNTDOWN: Duration = Duration::from_secs(20);

/// How long the 好差评 screen waits for an answer before the session ends without one.
pub const EVALUATE_TIMEOUT: Duration = Duration::from_secs(30);

/// A screen of the kiosk, with what it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    Home,
    /// Place the ID card.
    Identify,
    /// Search with the on-screen keyboard.
    Find,
    /// Browse by department.
    Departments,
    /// The matters of one department.
    Matters {
        department: String,
    },
    /// The written guide of one matter (task code).
    MatterInfo {
        task_code: String,
    },
    Bundles,
    /// The written guide of one bundle (一件事) by code.
    BundleInfo {
        code: String,
    },
    /// 智能导办: the `question`-th situation question asked for the chosen matter.
    Guide {
        question: usize,
    },
    /// The materials the answers call for.
    Checklist,
    /// The application form (fields from the ID card locked).
    Form,
    /// Photograph the materials marked 本机拍摄.
    Capture,
    /// Everything at a glance before 确认提交.
    Review,
    /// 已提交 / 已暂存, and the receipt.
    Done,
    /// 好差评 (after an errand, or from the home screen).
    Evaluate,
    /// 取号: the hall's services.
    Tickets,
    /// The ticket just issued (number, service, people ahead).
    TicketIssued,
    /// 办件进度查询: type the number on the receipt.
    Progress,
    /// 呼叫工作人员: staff have been called.
    CallStaff,
    /// 证照打印: the identified person's e-licences, one to choose.
    Licences,
    /// 证照打印: the chosen licence as it will be printed (masked), and 确认打印.
    LicenceConfirm,
    /// 证照打印: the copy is printing or printed.
    LicencePrinted,
    /// 维护模式's PIN pad (after the hidden gesture).
    TechLogin,
    /// 维护模式: devices, queue, self-test, export.
    Technician,
}

/// The answers to the situation questions, in the order asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub question: String,
    pub choices: Vec<String>,
}

/// The citizen's session.
#[derive(Debug)]
pub struct Session {
    stack: Vec<Screen>,
    idle_timeout: Duration,
    last_touch: Instant,
    now: Instant,
    countdown_from: Option<Instant>,
    person: Option<Person>,
    card: CardStatus,
    query: String,
    progress_query: String,
    matter: Option<Matter>,
    /// Set when `matter` is a bundle's combined matter.
    bundle: Option<BundleApplication>,
    answers: Vec<Answer>,
    fields: BTreeMap<String, String>,
    form_errors: BTreeMap<String, String>,
    licences: Vec<String>,
    licence_lookup: LicenceLookup,
    licence_copy: Option<LicenceCopy>,
    images: BTreeMap<String, Vec<u8>>,
    capture: Option<CaptureStage>,
    upload: Option<UploadProgress>,
    /// Identification was asked for by "开始申请" or 证照打印: this screen follows the card
    /// read.
    resume: Option<Screen>,
    submitting: bool,
    submit: Option<SubmitResult>,
    /// When the current screen was opened (for the evaluation timeout).
    shown_at: Instant,
    /// The I/O due, oldest first (see [`Session::poll_effect`]).
    effects: VecDeque<Effect>,
}

impl Session {
    /// A fresh session at the home screen.
    pub fn new(idle_timeout: Duration, now: Instant) -> Self {
        Self {
            stack: vec![Screen::Home],
            idle_timeout,
            last_touch: now,
            now,
            countdown_from: None,
            person: None,
            card: CardStatus::Waiting,
            query: String::new(),
            progress_query: String::new(),
            matter: None,
            bundle: None,
            answers: Vec::new(),
            fields: BTreeMap::new(),
            form_errors: BTreeMap::new(),
            licences: Vec::new(),
            licence_lookup: LicenceLookup::Waiting,
            licence_copy: None,
            images: BTreeMap::new(),
            capture: None,
            upload: None,
            resume: None,
            submitting: false,
            submit: None,
            shown_at: now,
            effects: VecDeque::new(),
        }
    }

    /// The screen shown now.
    pub fn current(&self) -> &Screen {
        self.stack.last().expect("the stack always holds Home")
    }

    /// Whether "back" leads anywhere.
    pub fn can_go_back(&self) -> bool {
        self.stack.len() > 1
    }

    /// The identified citizen, if any.
    pub fn person(&self) -> Option<&Person> {
        self.person.as_ref()
    }

    /// What the identify screen should say.
    pub fn card_status(&self) -> CardStatus {
        self.card
    }

    /// The search text typed so far.
    pub fn query(&self) -> &str {
        &self.query
    }

    /// The number typed on the progress page.
    pub fn progress_query(&self) -> &str {
        &self.progress_query
    }

    /// The matter being guided, if any.
    pub fn matter(&self) -> Option<&Matter> {
        self.matter.as_ref()
    }

    /// The 一件事 bundle being applied for, when `matter` is its combined matter.
    pub fn bundle(&self) -> Option<&BundleApplication> {
        self.bundle.as_ref()
    }

    /// The answers given so far, in order.
    pub fn answers(&self) -> &[Answer] {
        &self.answers
    }

    /// Every choice id picked so far (what `Matter::materials_for` wants).
    pub fn chosen(&self) -> Vec<String> {
        self.answers
            .iter()
            .flat_map(|a| a.choices.iter().cloned())
            .collect()
    }

    /// The form fields entered so far.
    pub fn fields(&self) -> &BTreeMap<String, String> {
        &self.fields
    }

    /// The last submission's result.
    pub fn submit_result(&self) -> Option<&SubmitResult> {
        self.submit.as_ref()
    }

    /// What is wrong with the form, by field id (after "下一步").
    pub fn form_errors(&self) -> &BTreeMap<String, String> {
        &self.form_errors
    }

    /// The e-licences the identified person holds.
    pub fn licences(&self) -> &[String] {
        &self.licences
    }

    /// Where the e-licence look-up stands.
    pub fn licence_lookup(&self) -> LicenceLookup {
        self.licence_lookup
    }

    /// The licence chosen on 证照打印 and its copy, if any.
    pub fn licence_copy(&self) -> Option<&LicenceCopy> {
        self.licence_copy.as_ref()
    }

    /// The photographed materials (JPEG) by material id; after submission the ids remain
    /// with empty bytes (the photos were handed to the outbox).
    pub fn images(&self) -> &BTreeMap<String, Vec<u8>> {
        &self.images
    }

    /// Where the capture page is (`None`: no material chosen).
    pub fn capture_stage(&self) -> Option<&CaptureStage> {
        self.capture.as_ref()
    }

    /// Whether the camera should be running: the capture page is shown with a material.
    pub fn camera_wanted(&self) -> bool {
        self.current() == &Screen::Capture && self.capture.is_some()
    }

    /// How far the outbox has delivered this citizen's case, once it reported.
    pub fn upload_progress(&self) -> Option<UploadProgress> {
        self.upload
    }

    /// Whether "确认提交" was pressed and the result is not in yet.
    pub fn submitting(&self) -> bool {
        self.submitting
    }

    /// The checklist for the chosen matter and answers, given the person's e-licences.
    pub fn checklist(&self) -> Vec<guide::ChecklistItem> {
        self.matter
            .as_ref()
            .map(|m| guide::checklist(m, &self.chosen(), &self.licences))
            .unwrap_or_default()
    }

    /// The errand as a plain value for the case builder; `None` without a matter or an
    /// identified person.
    pub fn errand(&self) -> Option<Errand<'_>> {
        Some(Errand {
            matter: self.matter.as_ref()?,
            bundle: self.bundle.as_ref(),
            chosen: self.chosen(),
            answers: self
                .answers
                .iter()
                .map(|a| (a.question.clone(), a.choices.clone()))
                .collect(),
            person: self.person.as_ref()?,
            licences: &self.licences,
            fields: &self.fields,
            images: &self.images,
        })
    }

    /// The materials to photograph here.
    pub fn to_capture(&self) -> Vec<guide::ChecklistItem> {
        self.checklist()
            .into_iter()
            .filter(|c| c.status == guide::MaterialStatus::CaptureHere)
            .collect()
    }

    /// Seconds left on the "are you still there?" overlay, or `None` when it is not shown.
    pub fn countdown(&self) -> Option<u64> {
        self.countdown_from.map(|from| {
            let left = COUNTDOWN.saturating_sub(self.now.saturating_duration_since(from));
            left.as_secs() + u64::from(left.subsec_nanos() > 0)
        })
    }

    /// Whether the session holds anything worth keeping or wiping.
    pub fn is_active(&self) -> bool {
        self.stack.len() > 1
            || self.person.is_some()
            || !self.query.is_empty()
            || !self.progress_query.is_empty()
            || self.matter.is_some()
            || !self.fields.is_empty()
    }

    /// Whether the session holds anything that identifies a person.
    pub fn holds_personal_data(&self) -> bool {
        self.person.is_some()
            || !self.fields.is_empty()
            || !self.images.is_empty()
            || !self.licences.is_empty()
            || self.licence_copy.is_some()
            || self.submit.is_some()
    }

    /// The question asked on `Guide { question }` for the chosen matter, given the answers
    /// before it.
    pub fn question(&self, index: usize) -> Option<&crate::core::domain::Question> {
        let matter = self.matter.as_ref()?;
        let before: Vec<String> = self.answers[..index.min(self.answers.len())]
            .iter()
            .flat_map(|a| a.choices.iter().cloned())
            .collect();
        let id = matter.applicable_questions(&before).nth(index)?.id.clone();
        matter.questions.iter().find(|q| q.id == id)
    }

    /// The next piece of I/O due, oldest first, or `None` when nothing is (the session's
    /// `poll_transmit`): after every [`Session::handle`] the glue takes effects until `None`
    /// and carries each out.
    pub fn poll_effect(&mut self) -> Option<Effect> {
        self.effects.pop_front()
    }

    /// Applies one event at time `now`. The I/O it calls for waits in
    /// [`Session::poll_effect`].
    pub fn handle(&mut self, event: Event, now: Instant) -> Outcome {
        self.now = now;
        // Whatever the citizen does (a button, a key, a card on the reader) is activity; the
        // clock and results arriving on their own are not.
        let activity = !matches!(
            event,
            Event::Tick
                | Event::SubmitResult(_)
                | Event::CardReady
                | Event::Licences(_)
                | Event::LicencesFailed
                | Event::LicenceCopy { .. }
                | Event::Delivered { .. }
                | Event::Captured { .. }
                | Event::CaptureFailed
                | Event::UploadProgress { .. }
        );
        let was_counting = activity && self.countdown_from.take().is_some();
        if activity {
            self.last_touch = now;
        }
        let outcome = self.dispatch(event, was_counting);
        if outcome != Outcome::None && self.licence_lookup_due() {
            self.effects.push_back(Effect::LookUpLicences);
        }
        outcome
    }

    fn dispatch(&mut self, event: Event, was_counting: bool) -> Outcome {
        match event {
            Event::Tick => self.tick(),
            Event::Touch | Event::KeepSession => {
                if was_counting {
                    Outcome::Changed
                } else {
                    Outcome::None
                }
            }
            Event::Open(screen) => {
                self.open(screen);
                Outcome::Changed
            }
            Event::Back => self.on_back(),
            // Leaving for home ends the errand: what it held goes with it. So does evaluating.
            Event::Home | Event::Evaluated => {
                self.wipe();
                Outcome::Wiped
            }
            Event::CardRead(person) => self.on_card_read(person),
            Event::CardError(e) => {
                self.card = CardStatus::Error(e);
                Outcome::Changed
            }
            Event::CardReady => {
                self.card = CardStatus::Waiting;
                Outcome::Changed
            }
            Event::ChangePerson => self.on_change_person(),
            Event::Search(q) => {
                self.query = q;
                Outcome::Changed
            }
            Event::ProgressInput(q) => self.on_progress_input(&q),
            Event::OpenEvaluate => {
                self.open(Screen::Evaluate);
                Outcome::Changed
            }
            Event::TicketIssued => self.on_ticket_issued(),
            Event::OpenTechLogin => self.on_open_tech_login(),
            Event::TechSignedIn => self.on_tech_signed_in(),
            // 智能导办 and the application (`apply`).
            Event::ChooseMatter(matter) => self.on_choose_matter(*matter),
            Event::ChooseBundle(bundle) => self.on_choose_bundle(*bundle),
            Event::Answer(choices) => self.on_answer(choices),
            Event::StartApply => self.on_start_apply(),
            Event::FieldInput { field, value } => self.on_field_input(field, value),
            Event::FormNext => self.on_form_next(),
            Event::CaptureSelect(material) => self.on_capture_select(material),
            Event::Shoot => self.on_shoot(),
            Event::Captured { material, jpeg } => self.on_captured(material, jpeg),
            Event::CaptureFailed => self.on_capture_failed(),
            Event::Retake => self.on_retake(),
            Event::UsePhoto => self.on_use_photo(),
            Event::CaptureDone => self.on_capture_done(),
            Event::Submit => self.on_submit(),
            Event::SubmitResult(result) => self.on_submit_result(result),
            Event::UploadProgress {
                case_id,
                sent,
                total,
            } => self.on_upload_progress(&case_id, sent, total),
            Event::Delivered {
                case_id,
                unified_code,
            } => self.on_delivered(case_id, unified_code),
            // 证照打印 (`licences`).
            Event::OpenLicencePrint => self.on_open_licence_print(),
            Event::Licences(names) => self.on_licences(names),
            Event::LicencesFailed => self.on_licences_failed(),
            Event::RetryLicences => self.on_retry_licences(),
            Event::ChooseLicence(licence_type) => self.on_choose_licence(licence_type),
            Event::LicenceCopy {
                licence_type,
                result,
            } => self.on_licence_copy(licence_type, result),
            Event::PrintLicence => self.on_print_licence(),
        }
    }

    fn on_back(&mut self) -> Outcome {
        if self.submitting {
            return Outcome::None;
        }
        match self.current() {
            Screen::Done | Screen::TicketIssued => {
                // The errand is over: leaving it ends the session.
                self.wipe();
                return Outcome::Wiped;
            }
            Screen::LicencePrinted | Screen::LicenceConfirm => self.leave_licence(),
            current => {
                if current == &Screen::Identify {
                    // Left without a card: whatever was to follow it is off.
                    self.resume = None;
                }
                if self.stack.len() > 1 {
                    self.stack.pop();
                }
            }
        }
        Outcome::Changed
    }

    fn on_card_read(&mut self, person: Person) -> Outcome {
        if self.person.as_ref() != Some(&person) {
            self.licences.clear();
            self.licence_lookup = LicenceLookup::Waiting;
            self.licence_copy = None;
            self.fields.clear();
        }
        self.person = Some(person);
        self.card = CardStatus::Waiting;
        if let Some(next) = self.resume.take() {
            if self.current() == &Screen::Identify {
                self.stack.pop();
                self.open(next);
            }
        }
        Outcome::Changed
    }

    /// "不是本人/更换": everything that came from the card goes; the next card is awaited.
    fn on_change_person(&mut self) -> Outcome {
        self.person = None;
        self.fields.clear();
        self.licences.clear();
        self.licence_lookup = LicenceLookup::Waiting;
        self.licence_copy = None;
        self.images.clear();
        self.card = CardStatus::Waiting;
        self.open(Screen::Identify);
        Outcome::Changed
    }

    fn on_progress_input(&mut self, q: &str) -> Outcome {
        // Case numbers are digits, letters and dashes; nothing else is typed.
        self.progress_query = q
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(64)
            .collect();
        Outcome::Changed
    }

    fn on_ticket_issued(&mut self) -> Outcome {
        if self.current() != &Screen::Tickets {
            return Outcome::None;
        }
        // The ticket is in hand: "back" must not issue another by accident.
        self.stack.truncate(1);
        self.open(Screen::TicketIssued);
        Outcome::Changed
    }

    /// The hidden gesture: whatever a citizen left is wiped and the PIN pad opens.
    fn on_open_tech_login(&mut self) -> Outcome {
        self.wipe();
        self.open(Screen::TechLogin);
        Outcome::Wiped
    }

    fn on_tech_signed_in(&mut self) -> Outcome {
        if self.current() != &Screen::TechLogin {
            return Outcome::None;
        }
        self.stack.truncate(1);
        self.open(Screen::Technician);
        Outcome::Changed
    }

    fn open(&mut self, screen: Screen) {
        if screen == Screen::Home {
            self.stack.truncate(1);
        } else if self.current() != &screen {
            if screen == Screen::Capture {
                self.capture = self.next_to_capture();
            }
            self.stack.push(screen);
        }
        self.shown_at = self.now;
    }

    fn tick(&mut self) -> Outcome {
        if self.current() == &Screen::Evaluate
            && self.now.saturating_duration_since(self.shown_at) >= EVALUATE_TIMEOUT
        {
            tracing::info!("evaluation not given in time; session ended");
            self.wipe();
            return Outcome::Wiped;
        }
        if !self.is_active() {
            self.last_touch = self.now;
            return Outcome::None;
        }
        match self.countdown_from {
            None if self.now.saturating_duration_since(self.last_touch) >= self.idle_timeout => {
                self.countdown_from = Some(self.now);
                Outcome::Changed
            }
            None => Outcome::None,
            Some(from) if self.now.saturating_duration_since(from) >= COUNTDOWN => {
                tracing::info!("session wiped after inactivity");
                self.wipe();
                Outcome::Wiped
            }
            Some(_) => Outcome::Changed,
        }
    }

    /// Drops everything the session held (the effects not yet polled too) and returns home.
    fn wipe(&mut self) {
        let (timeout, now) = (self.idle_timeout, self.now);
        *self = Session::new(timeout, now);
    }
}
