//! 办事会话 — the citizen's session as a plain state machine: which screen is shown, what
//! "back" means, what the citizen has told us (card, query, answers, fields), and when it all
//! ends for lack of activity. No Slint here; `mod.rs` renders whatever this says.
//!
//! Walking away: after `idle_timeout` without a touch a countdown of [`COUNTDOWN`] is shown
//! ("继续办理" keeps the session); when it runs out the session is **wiped** — every piece of
//! personal data is dropped and the kiosk returns home.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

pub use crate::core::domain::CardError;
use crate::core::domain::{BundleApplication, Matter, Person};
use crate::core::platform::wire::LicenceDocument;

use crate::errand::{form, guide, Errand};

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

/// What the identify screen says about the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardStatus {
    Waiting,
    Error(CardError),
}

/// Where the look-up of the person's e-licences stands (证照打印 shows each plainly).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LicenceLookup {
    /// Asked (or about to be) after the card was read; no answer yet.
    Waiting,
    /// The platform answered (the list may be empty).
    Found,
    /// The platform could not be reached: printing needs the network.
    Failed,
}

/// The licence chosen on 证照打印 and its printable copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LicenceCopy {
    /// Being fetched from the platform.
    Fetching { licence_type: String },
    /// What will be printed (masked by the platform).
    Ready(Box<LicenceDocument>),
    /// Not to be had; `reason` is for the citizen.
    Failed {
        licence_type: String,
        reason: String,
    },
}

impl LicenceCopy {
    /// The licence type chosen.
    pub fn licence_type(&self) -> &str {
        match self {
            Self::Fetching { licence_type } | Self::Failed { licence_type, .. } => licence_type,
            Self::Ready(d) => &d.licence_type,
        }
    }
}

/// How the outbox answered a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitResult {
    /// 已暂存 with the local number; delivered later by the outbox.
    Queued {
        case_id: String,
        local_number: String,
    },
    /// 已提交: the platform acknowledged the case and assigned the unified case code.
    Submitted {
        case_id: String,
        local_number: String,
        unified_code: String,
    },
    /// The case could not even be stored; the citizen is told to ask staff.
    Failed { reason: String },
}

impl SubmitResult {
    /// The local case id, when the case was stored.
    pub fn case_id(&self) -> Option<&str> {
        match self {
            SubmitResult::Queued { case_id, .. } | SubmitResult::Submitted { case_id, .. } => {
                Some(case_id)
            }
            SubmitResult::Failed { .. } => None,
        }
    }
}

/// Where the capture page is with the material being photographed. The camera runs (live
/// preview) while the page is shown with a stage; without one the citizen picks a material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureStage {
    /// The live picture of `material`; "拍照" takes the still.
    Live { material: String },
    /// "拍照" pressed: the still is being taken and saved.
    Taking { material: String },
    /// The still is shown: "重拍" (back to live) or "使用这张".
    Check { material: String },
}

impl CaptureStage {
    /// The material this stage is about.
    pub fn material(&self) -> &str {
        match self {
            Self::Live { material } | Self::Taking { material } | Self::Check { material } => {
                material
            }
        }
    }
}

/// How far the delivery of the citizen's case has come, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadProgress {
    pub sent: u64,
    pub total: u64,
}

impl UploadProgress {
    /// The share delivered, 0.0 to 1.0 (an empty delivery is complete).
    pub fn fraction(&self) -> f32 {
        if self.total == 0 {
            1.0
        } else {
            (self.sent.min(self.total) as f64 / self.total as f64) as f32
        }
    }
}

/// Something that happened: a touch, a device result, the clock.
#[derive(Debug, Clone)]
pub enum Event {
    /// Any touch on the screen.
    Touch,
    /// The clock; drives the idle countdown and the wipe.
    Tick,
    Open(Screen),
    Back,
    Home,
    CardRead(Person),
    CardError(CardError),
    /// The reader works again after a device error.
    CardReady,
    /// "不是本人/更换": forget the card and wait for another.
    ChangePerson,
    /// The search text as typed so far.
    Search(String),
    /// Start 智能导办 for a matter.
    ChooseMatter(Box<Matter>),
    /// Start 智能导办 for a 一件事 bundle, applied for as one case.
    ChooseBundle(Box<BundleApplication>),
    /// The choices made on the current question (one for a single-choice question).
    Answer(Vec<String>),
    /// The e-licences (电子证照) the identified person holds, by name.
    Licences(Vec<String>),
    /// The e-licence look-up failed (no network, platform down).
    LicencesFailed,
    /// 证照打印 on the home screen: the person's e-licences, after identification if needed.
    OpenLicencePrint,
    /// "重新查询" after a failed look-up (the glue asks the platform again).
    RetryLicences,
    /// A licence chosen on 证照打印 (the glue fetches its printable copy).
    ChooseLicence(String),
    /// The platform's printable copy of the chosen licence, or why there is none.
    LicenceCopy {
        licence_type: String,
        result: Result<Box<LicenceDocument>, String>,
    },
    /// "确认打印" (the glue prints the copy once).
    PrintLicence,
    /// "开始申请" on the checklist: the form, after identification if needed.
    StartApply,
    FieldInput {
        field: String,
        value: String,
    },
    /// "下一步" on the form: checked; on to capture or review when every field is good.
    FormNext,
    /// A material tapped on the capture page: its live picture.
    CaptureSelect(String),
    /// "拍照": take the still of the material shown live.
    Shoot,
    /// The still of a material (JPEG), taken after "拍照".
    Captured {
        material: String,
        jpeg: Vec<u8>,
    },
    /// The still could not be taken (the glue says why): back to the live picture.
    CaptureFailed,
    /// "重拍": the photo shown is dropped and the live picture returns.
    Retake,
    /// "使用这张": the photo shown is kept; the next material without one is shown live.
    UsePhoto,
    /// "下一步" on the capture page.
    CaptureDone,
    /// "确认提交" on the review page (the glue stores the case, then sends `SubmitResult`).
    Submit,
    SubmitResult(SubmitResult),
    /// How far the outbox has delivered a case (materials, then the case itself).
    UploadProgress {
        case_id: String,
        sent: u64,
        total: u64,
    },
    /// The outbox delivered a case: its unified code.
    Delivered {
        case_id: String,
        unified_code: String,
    },
    /// "评价本次服务" on the done page, or 好差评 on the home screen.
    OpenEvaluate,
    /// A ticket was issued (the glue holds what it shows).
    TicketIssued,
    /// The number typed on the progress page.
    ProgressInput(String),
    /// The hidden gesture: whatever a citizen left is wiped and the PIN pad opens.
    OpenTechLogin,
    /// The technician's PIN was right.
    TechSignedIn,
    Evaluated,
    /// "继续办理" on the countdown overlay.
    KeepSession,
}

/// What the glue must do after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing visible changed.
    None,
    /// Render the current state.
    Changed,
    /// The session was wiped: render, and clear everything the UI held.
    Wiped,
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

    /// Applies one event at time `now`.
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
        match event {
            Event::Tick => return self.tick(),
            Event::Touch | Event::KeepSession => {
                return if was_counting {
                    Outcome::Changed
                } else {
                    Outcome::None
                };
            }
            Event::Open(screen) => self.open(screen),
            Event::Back if self.submitting => return Outcome::None,
            Event::Back if matches!(self.current(), Screen::Done | Screen::TicketIssued) => {
                // The errand is over: leaving it ends the session.
                self.wipe();
                return Outcome::Wiped;
            }
            Event::Back if self.current() == &Screen::LicencePrinted => {
                // Printed: back to the list for another licence, never to 确认打印 again.
                self.licence_copy = None;
                while !matches!(self.current(), Screen::Licences | Screen::Home) {
                    self.stack.pop();
                }
            }
            Event::Back if self.current() == &Screen::LicenceConfirm => {
                self.licence_copy = None;
                self.stack.pop();
            }
            Event::Back => {
                if self.current() == &Screen::Identify {
                    // Left without a card: whatever was to follow it is off.
                    self.resume = None;
                }
                if self.stack.len() > 1 {
                    self.stack.pop();
                }
            }
            Event::Home => {
                // Leaving for home ends the errand: what it held goes with it.
                self.wipe();
                return Outcome::Wiped;
            }
            Event::CardRead(person) => {
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
            }
            Event::Licences(names) => {
                self.licences = names;
                self.licence_lookup = LicenceLookup::Found;
            }
            Event::LicencesFailed => {
                if self.licence_lookup == LicenceLookup::Found {
                    return Outcome::None;
                }
                self.licence_lookup = LicenceLookup::Failed;
            }
            Event::OpenLicencePrint => {
                if self.licence_lookup == LicenceLookup::Failed {
                    // Opening 证照打印 asks again: the network may be back.
                    self.licence_lookup = LicenceLookup::Waiting;
                }
                if self.person.is_some() {
                    self.open(Screen::Licences);
                } else {
                    self.resume = Some(Screen::Licences);
                    self.open(Screen::Identify);
                }
            }
            Event::RetryLicences => {
                if self.licence_lookup != LicenceLookup::Failed {
                    return Outcome::None;
                }
                self.licence_lookup = LicenceLookup::Waiting;
            }
            Event::ChooseLicence(licence_type) => {
                if self.current() != &Screen::Licences || !self.licences.contains(&licence_type) {
                    return Outcome::None;
                }
                self.licence_copy = Some(LicenceCopy::Fetching { licence_type });
                self.open(Screen::LicenceConfirm);
            }
            Event::LicenceCopy {
                licence_type,
                result,
            } => {
                let asked = matches!(
                    &self.licence_copy,
                    Some(LicenceCopy::Fetching { licence_type: t }) if *t == licence_type
                );
                if !asked {
                    return Outcome::None;
                }
                self.licence_copy = Some(match result {
                    Ok(doc) => LicenceCopy::Ready(doc),
                    Err(reason) => LicenceCopy::Failed {
                        licence_type,
                        reason,
                    },
                });
            }
            Event::PrintLicence => {
                let ready = matches!(self.licence_copy, Some(LicenceCopy::Ready(_)));
                if self.current() != &Screen::LicenceConfirm || !ready {
                    return Outcome::None;
                }
                self.open(Screen::LicencePrinted);
            }
            Event::StartApply => {
                if self.matter.is_none() {
                    return Outcome::None;
                }
                if self.person.is_some() {
                    self.open(Screen::Form);
                } else {
                    self.resume = Some(Screen::Form);
                    self.open(Screen::Identify);
                }
            }
            Event::FormNext => self.form_next(),
            Event::CaptureSelect(material) => {
                let busy = matches!(self.capture, Some(CaptureStage::Taking { .. }));
                if self.current() != &Screen::Capture
                    || busy
                    || !self.to_capture().iter().any(|c| c.id == material)
                {
                    return Outcome::None;
                }
                self.capture = Some(CaptureStage::Live { material });
            }
            Event::Shoot => match self.capture.take() {
                Some(CaptureStage::Live { material }) if self.current() == &Screen::Capture => {
                    self.capture = Some(CaptureStage::Taking { material });
                }
                other => {
                    self.capture = other;
                    return Outcome::None;
                }
            },
            Event::Captured { material, jpeg } => {
                // Only the still asked for, while its page is shown; a late one is dropped.
                let asked = matches!(&self.capture, Some(CaptureStage::Taking { material: m }) if *m == material);
                if !asked || self.current() != &Screen::Capture {
                    return Outcome::None;
                }
                self.images.insert(material.clone(), jpeg);
                self.capture = Some(CaptureStage::Check { material });
            }
            Event::CaptureFailed => match self.capture.take() {
                Some(CaptureStage::Taking { material }) => {
                    self.capture = Some(CaptureStage::Live { material });
                }
                other => {
                    self.capture = other;
                    return Outcome::None;
                }
            },
            Event::Retake => match self.capture.take() {
                Some(CaptureStage::Check { material }) => {
                    self.images.remove(&material);
                    self.capture = Some(CaptureStage::Live { material });
                }
                other => {
                    self.capture = other;
                    return Outcome::None;
                }
            },
            Event::UsePhoto => match self.capture.take() {
                Some(CaptureStage::Check { .. }) => {
                    self.capture = self.next_to_capture();
                }
                other => {
                    self.capture = other;
                    return Outcome::None;
                }
            },
            Event::CaptureDone => {
                if matches!(self.capture, Some(CaptureStage::Taking { .. })) {
                    // The still is on its way: wait for it.
                    return Outcome::None;
                }
                self.capture = None;
                self.open(Screen::Review);
            }
            Event::UploadProgress {
                case_id,
                sent,
                total,
            } => {
                // While "确认提交" waits the glue forwards only the case it stored; later, only
                // the case on the done page counts.
                let ours = self.submitting
                    || self.submit.as_ref().and_then(SubmitResult::case_id) == Some(&*case_id);
                if !ours {
                    return Outcome::None;
                }
                self.upload = Some(UploadProgress { sent, total });
            }
            Event::Submit => {
                if self.current() != &Screen::Review || self.submitting || self.submit.is_some() {
                    return Outcome::None;
                }
                self.submitting = true;
            }
            Event::Delivered {
                case_id,
                unified_code,
            } => match &self.submit {
                Some(SubmitResult::Queued {
                    case_id: ours,
                    local_number,
                }) if *ours == case_id => {
                    self.submit = Some(SubmitResult::Submitted {
                        case_id,
                        local_number: local_number.clone(),
                        unified_code,
                    });
                }
                _ => return Outcome::None,
            },
            Event::OpenEvaluate => self.open(Screen::Evaluate),
            Event::TicketIssued => {
                if self.current() != &Screen::Tickets {
                    return Outcome::None;
                }
                // The ticket is in hand: "back" must not issue another by accident.
                self.stack.truncate(1);
                self.open(Screen::TicketIssued);
            }
            Event::OpenTechLogin => {
                let (timeout, now) = (self.idle_timeout, self.now);
                *self = Session::new(timeout, now);
                self.open(Screen::TechLogin);
                return Outcome::Wiped;
            }
            Event::TechSignedIn => {
                if self.current() != &Screen::TechLogin {
                    return Outcome::None;
                }
                self.stack.truncate(1);
                self.open(Screen::Technician);
            }
            Event::ProgressInput(q) => {
                // Case numbers are digits, letters and dashes; nothing else is typed.
                self.progress_query = q
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .take(64)
                    .collect();
            }
            Event::CardError(e) => self.card = CardStatus::Error(e),
            Event::CardReady => self.card = CardStatus::Waiting,
            Event::ChangePerson => {
                self.person = None;
                self.fields.clear();
                self.licences.clear();
                self.licence_lookup = LicenceLookup::Waiting;
                self.licence_copy = None;
                self.images.clear();
                self.card = CardStatus::Waiting;
                self.open(Screen::Identify);
            }
            Event::Search(q) => self.query = q,
            Event::ChooseMatter(m) => self.guide(*m, None),
            Event::ChooseBundle(b) => {
                let matter = b.matter.clone();
                self.guide(matter, Some(*b));
            }
            Event::Answer(choices) => self.answer(choices),
            Event::FieldInput { field, value } => {
                self.form_errors.remove(&field);
                self.fields.insert(field, value);
            }
            Event::SubmitResult(r) => {
                if !self.submitting {
                    return Outcome::None;
                }
                self.submitting = false;
                // Once stored, the case lives in the outbox (sealed): the photo bytes go, and
                // which materials were photographed stays for the receipt.
                if r.case_id().is_some() {
                    for jpeg in self.images.values_mut() {
                        *jpeg = Vec::new();
                    }
                }
                self.submit = Some(r);
                // The case is committed: "back" must not lead to submitting it again.
                self.stack.truncate(1);
                self.open(Screen::Done);
            }
            Event::Evaluated => {
                self.wipe();
                return Outcome::Wiped;
            }
        }
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

    /// The live picture of the first material still without a photo, if any.
    fn next_to_capture(&self) -> Option<CaptureStage> {
        self.to_capture()
            .into_iter()
            .find(|c| !self.images.contains_key(&c.id))
            .map(|c| CaptureStage::Live { material: c.id })
    }

    fn form_next(&mut self) {
        let (Some(m), Screen::Form) = (&self.matter, self.current()) else {
            return;
        };
        self.form_errors = form::validate(m, &self.chosen(), self.person.as_ref(), &self.fields);
        if !self.form_errors.is_empty() {
            return;
        }
        if self.to_capture().is_empty() {
            self.open(Screen::Review);
        } else {
            self.open(Screen::Capture);
        }
    }

    fn answer(&mut self, choices: Vec<String>) {
        let Screen::Guide { question } = *self.current() else {
            return;
        };
        let Some(q) = self.question(question) else {
            return;
        };
        let valid = choices.iter().all(|c| q.options.iter().any(|o| &o.id == c));
        let count_ok = match q.kind {
            crate::core::domain::QuestionKind::Single => choices.len() == 1,
            crate::core::domain::QuestionKind::Multi => true,
        };
        if !valid || !count_ok {
            return;
        }
        let id = q.id.clone();
        // Answering again after "back" replaces this answer and forgets the later ones.
        self.answers.truncate(question);
        self.answers.push(Answer {
            question: id,
            choices,
        });
        let next = question + 1;
        if self.question(next).is_some() {
            self.open(Screen::Guide { question: next });
        } else {
            self.open(Screen::Checklist);
        }
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

    /// Drops everything the session held and returns home.
    /// Starts 智能导办 for `matter` (a bundle's combined matter with `bundle`).
    fn guide(&mut self, matter: Matter, bundle: Option<BundleApplication>) {
        let has_questions = matter.applicable_questions(&[]).next().is_some();
        self.matter = Some(matter);
        self.bundle = bundle;
        self.answers.clear();
        self.open(if has_questions {
            Screen::Guide { question: 0 }
        } else {
            Screen::Checklist
        });
    }

    fn wipe(&mut self) {
        let (timeout, now) = (self.idle_timeout, self.now);
        *self = Session::new(timeout, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::catalog::Catalog;
    use crate::core::domain::IdNumber;

    fn person() -> Person {
        Person {
            name: "张三".into(),
            id_number: IdNumber::complete("11010519491231002").unwrap(),
            address: "重庆市渝中区解放碑街道1号".into(),
        }
    }

    fn id_card_renewal() -> Matter {
        crate::core::catalog::demo_matter("居民身份证换领")
    }

    #[test]
    fn back_walks_the_path_and_home_clears_it() {
        let t = Instant::now();
        let mut s = Session::new(Duration::from_secs(60), t);
        assert!(!s.can_go_back());
        s.handle(Event::Open(Screen::Departments), t);
        s.handle(
            Event::Open(Screen::Matters {
                department: "医保".into(),
            }),
            t,
        );
        s.handle(Event::Back, t);
        assert_eq!(s.current(), &Screen::Departments);
        assert_eq!(s.handle(Event::Home, t), Outcome::Wiped);
        assert_eq!(s.current(), &Screen::Home);
        s.handle(Event::Back, t);
        assert_eq!(s.current(), &Screen::Home);
    }

    #[test]
    fn opening_the_same_screen_twice_does_not_stack_it() {
        let t = Instant::now();
        let mut s = Session::new(Duration::from_secs(60), t);
        s.handle(Event::Open(Screen::Bundles), t);
        s.handle(Event::Open(Screen::Bundles), t);
        s.handle(Event::Back, t);
        assert_eq!(s.current(), &Screen::Home);
    }

    #[test]
    fn guide_asks_each_question_then_shows_the_checklist_and_back_reopens_one() {
        let t = Instant::now();
        let mut s = Session::new(Duration::from_secs(60), t);
        s.handle(Event::Open(Screen::Find), t);
        s.handle(Event::ChooseMatter(Box::new(id_card_renewal())), t);
        assert_eq!(s.current(), &Screen::Guide { question: 0 });
        assert_eq!(s.question(0).unwrap().id, "q_reason");
        // An option of another question, or two for a single choice, is refused.
        s.handle(Event::Answer(vec!["o_minor_no".into()]), t);
        s.handle(
            Event::Answer(vec!["o_expiry".into(), "o_damaged".into()]),
            t,
        );
        assert_eq!(s.current(), &Screen::Guide { question: 0 });
        s.handle(Event::Answer(vec!["o_change".into()]), t);
        assert_eq!(s.current(), &Screen::Guide { question: 1 });
        s.handle(Event::Back, t);
        assert_eq!(s.current(), &Screen::Guide { question: 0 });
        s.handle(Event::Answer(vec!["o_expiry".into()]), t);
        s.handle(Event::Answer(vec!["o_minor_no".into()]), t);
        s.handle(Event::Answer(vec!["o_pick_window".into()]), t);
        assert_eq!(s.current(), &Screen::Checklist);
        assert_eq!(s.chosen(), ["o_expiry", "o_minor_no", "o_pick_window"]);
    }

    #[test]
    fn conditional_question_is_asked_only_after_its_trigger() {
        let t = Instant::now();
        let birth = Catalog::demo()
            .unwrap()
            .matters
            .into_iter()
            .find(|m| m.questions.iter().any(|q| q.id == "q_follow"))
            .unwrap();
        let mut s = Session::new(Duration::from_secs(60), t);
        s.handle(Event::ChooseMatter(Box::new(birth.clone())), t);
        s.handle(Event::Answer(vec!["o_married".into()]), t);
        assert_eq!(s.current(), &Screen::Checklist);
        s.handle(Event::ChooseMatter(Box::new(birth)), t);
        s.handle(Event::Answer(vec!["o_unmarried".into()]), t);
        assert_eq!(s.current(), &Screen::Guide { question: 1 });
        assert_eq!(s.question(1).unwrap().id, "q_follow");
    }

    #[test]
    fn card_errors_keep_user_and_device_faults_apart_and_a_read_clears_them() {
        let t = Instant::now();
        let mut s = Session::new(Duration::from_secs(60), t);
        s.handle(Event::Open(Screen::Identify), t);
        s.handle(Event::CardError(CardError::Replace), t);
        assert_eq!(s.card_status(), CardStatus::Error(CardError::Replace));
        s.handle(Event::CardError(CardError::Device), t);
        assert_eq!(s.card_status(), CardStatus::Error(CardError::Device));
        s.handle(Event::CardReady, t);
        assert_eq!(s.card_status(), CardStatus::Waiting);
        s.handle(Event::CardError(CardError::Replace), t);
        s.handle(Event::CardRead(person()), t);
        assert_eq!(s.card_status(), CardStatus::Waiting);
        assert_eq!(s.person().unwrap().name, "张三");
        assert_eq!(s.current(), &Screen::Identify);
        s.handle(Event::ChangePerson, t);
        assert!(s.person().is_none());
        assert_eq!(s.current(), &Screen::Identify);
    }

    #[test]
    fn idle_shows_a_countdown_that_a_touch_cancels() {
        let t = Instant::now();
        let mut s = Session::new(Duration::from_secs(60), t);
        s.handle(Event::Open(Screen::Find), t);
        assert_eq!(
            s.handle(Event::Tick, t + Duration::from_secs(59)),
            Outcome::None
        );
        assert_eq!(s.countdown(), None);
        assert_eq!(
            s.handle(Event::Tick, t + Duration::from_secs(60)),
            Outcome::Changed
        );
        assert_eq!(s.countdown(), Some(20));
        s.handle(Event::Tick, t + Duration::from_secs(65));
        assert_eq!(s.countdown(), Some(15));
        assert_eq!(
            s.handle(Event::KeepSession, t + Duration::from_secs(66)),
            Outcome::Changed
        );
        assert_eq!(s.countdown(), None);
        assert_eq!(s.current(), &Screen::Find);
        // The idle clock restarted at the touch.
        assert_eq!(
            s.handle(Event::Tick, t + Duration::from_secs(125)),
            Outcome::None
        );
    }

    #[test]
    fn any_citizen_action_restarts_the_idle_clock() {
        let t = Instant::now();
        let mut s = Session::new(Duration::from_secs(60), t);
        s.handle(Event::Open(Screen::Find), t);
        s.handle(Event::Search("s".into()), t + Duration::from_secs(50));
        assert_eq!(
            s.handle(Event::Tick, t + Duration::from_secs(100)),
            Outcome::None
        );
        s.handle(Event::Tick, t + Duration::from_secs(110));
        assert_eq!(s.countdown(), Some(20));
        // A key press during the countdown keeps the session, like "继续办理".
        s.handle(Event::Search("sf".into()), t + Duration::from_secs(111));
        assert_eq!(s.countdown(), None);
        // Results arriving by themselves are not activity.
        s.handle(Event::CardReady, t + Duration::from_secs(171));
        assert_eq!(
            s.handle(Event::Tick, t + Duration::from_secs(171)),
            Outcome::Changed
        );
    }

    #[test]
    fn walking_away_wipes_every_piece_of_personal_data() {
        let t = Instant::now();
        let mut s = Session::new(Duration::from_secs(60), t);
        s.handle(Event::CardRead(person()), t);
        s.handle(Event::Open(Screen::Find), t);
        s.handle(Event::Search("sfz".into()), t);
        s.handle(Event::ChooseMatter(Box::new(id_card_renewal())), t);
        s.handle(Event::Answer(vec!["o_expiry".into()]), t);
        s.handle(
            Event::FieldInput {
                field: "phone".into(),
                value: "13800000000".into(),
            },
            t,
        );
        assert!(s.holds_personal_data());
        s.handle(Event::Tick, t + Duration::from_secs(60));
        assert_eq!(s.countdown(), Some(20));
        assert_eq!(
            s.handle(Event::Tick, t + Duration::from_secs(79)),
            Outcome::Changed
        );
        assert_eq!(
            s.handle(Event::Tick, t + Duration::from_secs(80)),
            Outcome::Wiped
        );
        assert_eq!(s.current(), &Screen::Home);
        assert!(!s.holds_personal_data());
        assert!(!s.is_active());
        assert!(s.person().is_none());
        assert_eq!(s.query(), "");
        assert!(s.matter().is_none());
        assert!(s.answers().is_empty());
        assert!(s.fields().is_empty());
        assert_eq!(s.countdown(), None);
        // Home and empty: nothing to count down.
        assert_eq!(
            s.handle(Event::Tick, t + Duration::from_secs(999)),
            Outcome::None
        );
    }

    /// Renewal by post: the phone and address fields are asked for.
    fn to_checklist(s: &mut Session, t: Instant) {
        s.handle(Event::ChooseMatter(Box::new(id_card_renewal())), t);
        for a in ["o_expiry", "o_minor_no", "o_pick_post"] {
            s.handle(Event::Answer(vec![a.into()]), t);
        }
        assert_eq!(s.current(), &Screen::Checklist);
    }

    #[test]
    fn apply_identifies_first_then_checks_the_form_captures_and_submits_once() {
        let t = Instant::now();
        let mut s = Session::new(Duration::from_secs(60), t);
        to_checklist(&mut s, t);
        // Not identified yet: the card comes first, then the form.
        s.handle(Event::StartApply, t);
        assert_eq!(s.current(), &Screen::Identify);
        s.handle(Event::CardRead(person()), t);
        assert_eq!(s.current(), &Screen::Form);
        // The phone and address are missing.
        s.handle(Event::FormNext, t);
        assert_eq!(s.current(), &Screen::Form);
        assert!(s.form_errors().contains_key("f_phone"));
        assert!(s.form_errors().contains_key("f_post_address"));
        let input = |field: &str, value: &str| Event::FieldInput {
            field: field.into(),
            value: value.into(),
        };
        s.handle(input("f_phone", "1380000"), t);
        assert!(
            !s.form_errors().contains_key("f_phone"),
            "typing clears the error"
        );
        s.handle(input("f_post_address", "重庆市渝中区解放碑街道1号"), t);
        s.handle(Event::FormNext, t);
        assert_eq!(s.form_errors()["f_phone"], "手机号应为11位数字，以1开头");
        s.handle(input("f_phone", "13800000000"), t);
        s.handle(Event::FormNext, t);
        // The photo receipt is photographed here.
        assert_eq!(s.current(), &Screen::Capture);
        assert_eq!(s.to_capture().len(), 1);
        // The first material to photograph is shown live at once.
        assert!(s.camera_wanted());
        s.handle(Event::Shoot, t);
        s.handle(
            Event::Captured {
                material: "m_hukou".into(),
                jpeg: vec![1],
            },
            t,
        );
        assert!(s.images().is_empty(), "not a material to photograph");
        s.handle(
            Event::Captured {
                material: "m_photo_receipt".into(),
                jpeg: vec![0xff, 0xd8],
            },
            t,
        );
        assert_eq!(s.images().len(), 1);
        s.handle(Event::UsePhoto, t);
        s.handle(Event::CaptureDone, t);
        assert!(!s.camera_wanted());
        assert_eq!(s.current(), &Screen::Review);
        // A result nobody asked for is ignored; a second press while submitting is too.
        let queued = SubmitResult::Queued {
            case_id: "c1".into(),
            local_number: "7".into(),
        };
        assert_eq!(
            s.handle(Event::SubmitResult(queued.clone()), t),
            Outcome::None
        );
        assert_eq!(s.handle(Event::Submit, t), Outcome::Changed);
        assert!(s.submitting());
        assert_eq!(s.handle(Event::Submit, t), Outcome::None);
        assert_eq!(s.handle(Event::Back, t), Outcome::None);
        s.handle(Event::SubmitResult(queued), t);
        assert_eq!(s.current(), &Screen::Done);
        assert!(
            s.images().values().all(Vec::is_empty),
            "the images now live sealed in the outbox"
        );
        assert!(s.images().contains_key("m_photo_receipt"));
        // Submitting again from the done page is impossible.
        assert_eq!(s.handle(Event::Submit, t), Outcome::None);
        // The outbox delivers it: the unified code replaces 已暂存.
        s.handle(
            Event::Delivered {
                case_id: "other".into(),
                unified_code: "X".into(),
            },
            t,
        );
        assert!(matches!(
            s.submit_result(),
            Some(SubmitResult::Queued { .. })
        ));
        s.handle(
            Event::Delivered {
                case_id: "c1".into(),
                unified_code: "U-1".into(),
            },
            t,
        );
        assert!(matches!(
            s.submit_result(),
            Some(SubmitResult::Submitted { unified_code, .. }) if unified_code == "U-1"
        ));
    }

    #[test]
    fn a_ticket_is_issued_once_and_the_progress_number_takes_only_case_characters() {
        let t = Instant::now();
        let mut s = Session::new(Duration::from_secs(60), t);
        assert_eq!(
            s.handle(Event::TicketIssued, t),
            Outcome::None,
            "not on 取号"
        );
        s.handle(Event::Open(Screen::Tickets), t);
        s.handle(Event::TicketIssued, t);
        assert_eq!(s.current(), &Screen::TicketIssued);
        assert_eq!(
            s.handle(Event::TicketIssued, t),
            Outcome::None,
            "one ticket per tap"
        );
        assert_eq!(s.handle(Event::Back, t), Outcome::Wiped);

        s.handle(Event::Open(Screen::Progress), t);
        s.handle(Event::ProgressInput("12<script>ab-9\n".into()), t);
        assert_eq!(s.progress_query(), "12scriptab-9");
        assert_eq!(s.handle(Event::Home, t), Outcome::Wiped);
        assert_eq!(s.progress_query(), "");
    }

    fn licence_copy(licence_type: &str) -> Box<LicenceDocument> {
        Box::new(LicenceDocument {
            licence_type: licence_type.into(),
            holder_name_masked: "张*".into(),
            number_masked: "****0027".into(),
            issuer: "重庆市公安局".into(),
            issued_on: "2015-06-01".into(),
            valid_until: "长期".into(),
            fields: Vec::new(),
            verification_code: "ABCD-0000-1111-2222".into(),
            verification_url: "https://example.invalid/v?code=ABCD".into(),
            verification_expires_at: "2026-12-27T00:00:00Z".into(),
        })
    }

    #[test]
    fn licence_printing_identifies_first_lists_fetches_confirms_and_prints_once() {
        let t = Instant::now();
        let mut s = Session::new(Duration::from_secs(60), t);
        s.handle(Event::OpenLicencePrint, t);
        assert_eq!(s.current(), &Screen::Identify);
        s.handle(Event::CardRead(person()), t);
        assert_eq!(s.current(), &Screen::Licences);
        assert_eq!(s.licence_lookup(), LicenceLookup::Waiting);
        // Nothing can be chosen before the list arrives, nor a licence not on it.
        assert_eq!(
            s.handle(Event::ChooseLicence("居民户口簿".into()), t),
            Outcome::None
        );
        s.handle(
            Event::Licences(vec!["居民身份证".into(), "居民户口簿".into()]),
            t,
        );
        assert_eq!(s.licence_lookup(), LicenceLookup::Found);
        assert_eq!(
            s.handle(Event::ChooseLicence("结婚证".into()), t),
            Outcome::None
        );
        s.handle(Event::ChooseLicence("居民户口簿".into()), t);
        assert_eq!(s.current(), &Screen::LicenceConfirm);
        assert!(matches!(
            s.licence_copy(),
            Some(LicenceCopy::Fetching { .. })
        ));
        // 确认打印 waits for the copy; a copy of another licence is ignored.
        assert_eq!(s.handle(Event::PrintLicence, t), Outcome::None);
        assert_eq!(
            s.handle(
                Event::LicenceCopy {
                    licence_type: "居民身份证".into(),
                    result: Ok(licence_copy("居民身份证")),
                },
                t
            ),
            Outcome::None
        );
        s.handle(
            Event::LicenceCopy {
                licence_type: "居民户口簿".into(),
                result: Ok(licence_copy("居民户口簿")),
            },
            t,
        );
        assert!(matches!(s.licence_copy(), Some(LicenceCopy::Ready(_))));
        assert_eq!(s.handle(Event::PrintLicence, t), Outcome::Changed);
        assert_eq!(s.current(), &Screen::LicencePrinted);
        assert_eq!(
            s.handle(Event::PrintLicence, t),
            Outcome::None,
            "one copy per tap"
        );
        // Back leads to the list (another licence), not to 确认打印.
        s.handle(Event::Back, t);
        assert_eq!(s.current(), &Screen::Licences);
        assert!(s.licence_copy().is_none());
        assert!(s.holds_personal_data());
        assert_eq!(s.handle(Event::Home, t), Outcome::Wiped);
        assert!(!s.holds_personal_data());
        assert_eq!(s.licence_lookup(), LicenceLookup::Waiting);
    }

    #[test]
    fn licence_printing_says_when_the_platform_is_out_of_reach_or_the_copy_refused() {
        let t = Instant::now();
        let mut s = Session::new(Duration::from_secs(60), t);
        s.handle(Event::CardRead(person()), t);
        s.handle(Event::OpenLicencePrint, t);
        assert_eq!(s.current(), &Screen::Licences, "already identified");
        s.handle(Event::LicencesFailed, t);
        assert_eq!(s.licence_lookup(), LicenceLookup::Failed);
        s.handle(Event::RetryLicences, t);
        assert_eq!(s.licence_lookup(), LicenceLookup::Waiting);
        s.handle(Event::Licences(vec!["居民身份证".into()]), t);
        // A late failure does not undo an answer.
        assert_eq!(s.handle(Event::LicencesFailed, t), Outcome::None);
        assert_eq!(s.licence_lookup(), LicenceLookup::Found);
        s.handle(Event::ChooseLicence("居民身份证".into()), t);
        s.handle(
            Event::LicenceCopy {
                licence_type: "居民身份证".into(),
                result: Err("暂时连不上政务服务平台".into()),
            },
            t,
        );
        assert!(matches!(
            s.licence_copy(),
            Some(LicenceCopy::Failed { reason, .. }) if reason.contains("连不上")
        ));
        assert_eq!(s.handle(Event::PrintLicence, t), Outcome::None);
        s.handle(Event::Back, t);
        assert_eq!(s.current(), &Screen::Licences);
        assert!(s.licence_copy().is_none());
        // Another card: its own look-up.
        let mut other = person();
        other.id_number = IdNumber::complete("50010319900307123").unwrap();
        s.handle(Event::CardRead(other), t);
        assert_eq!(s.licence_lookup(), LicenceLookup::Waiting);
        assert!(s.licences().is_empty());
    }

    #[test]
    fn leaving_the_identify_page_without_a_card_forgets_what_was_to_follow() {
        let t = Instant::now();
        let mut s = Session::new(Duration::from_secs(60), t);
        s.handle(Event::OpenLicencePrint, t);
        s.handle(Event::Back, t);
        assert_eq!(s.current(), &Screen::Home);
        s.handle(Event::Open(Screen::Identify), t);
        s.handle(Event::CardRead(person()), t);
        assert_eq!(s.current(), &Screen::Identify);
    }

    #[test]
    fn evaluating_ends_the_session_and_so_does_not_answering() {
        let t = Instant::now();
        let done = |s: &mut Session| {
            s.handle(Event::CardRead(person()), t);
            to_checklist(s, t);
            s.handle(Event::StartApply, t);
            s.handle(Event::Open(Screen::Review), t);
            s.handle(Event::Submit, t);
            s.handle(
                Event::SubmitResult(SubmitResult::Queued {
                    case_id: "c".into(),
                    local_number: "1".into(),
                }),
                t,
            );
            assert_eq!(s.current(), &Screen::Done);
            s.handle(Event::OpenEvaluate, t);
            assert_eq!(s.current(), &Screen::Evaluate);
        };
        let mut s = Session::new(Duration::from_secs(600), t);
        done(&mut s);
        assert_eq!(s.handle(Event::Evaluated, t), Outcome::Wiped);
        assert!(!s.holds_personal_data());

        let mut s = Session::new(Duration::from_secs(600), t);
        done(&mut s);
        assert_eq!(
            s.handle(Event::Tick, t + EVALUATE_TIMEOUT - Duration::from_secs(1)),
            Outcome::None
        );
        assert_eq!(s.handle(Event::Tick, t + EVALUATE_TIMEOUT), Outcome::Wiped);
        assert!(!s.holds_personal_data());
        assert_eq!(s.current(), &Screen::Home);

        // "Back" from the done page ends the errand too.
        let mut s = Session::new(Duration::from_secs(600), t);
        done(&mut s);
        s.handle(Event::Back, t);
        assert_eq!(s.handle(Event::Back, t), Outcome::Wiped);
        assert!(!s.holds_personal_data());
    }

    /// At the capture page of the renewal by post (one material: the photo receipt).
    fn at_capture(t: Instant) -> Session {
        let mut s = Session::new(Duration::from_secs(600), t);
        s.handle(Event::CardRead(person()), t);
        to_checklist(&mut s, t);
        s.handle(Event::StartApply, t);
        for (f, v) in [
            ("f_phone", "13800000000"),
            ("f_post_address", "重庆市渝中区解放碑街道1号"),
        ] {
            s.handle(
                Event::FieldInput {
                    field: f.into(),
                    value: v.into(),
                },
                t,
            );
        }
        s.handle(Event::FormNext, t);
        assert_eq!(s.current(), &Screen::Capture);
        s
    }

    fn live(m: &str) -> Option<CaptureStage> {
        Some(CaptureStage::Live { material: m.into() })
    }

    #[test]
    fn capture_goes_live_shoots_checks_and_retakes() {
        let t = Instant::now();
        let mut s = at_capture(t);
        assert_eq!(s.capture_stage().cloned(), live("m_photo_receipt"));
        assert!(s.camera_wanted());
        // Nothing to use or retake before a still exists.
        assert_eq!(s.handle(Event::Retake, t), Outcome::None);
        assert_eq!(s.handle(Event::UsePhoto, t), Outcome::None);
        assert_eq!(s.handle(Event::Shoot, t), Outcome::Changed);
        assert_eq!(
            s.capture_stage(),
            Some(&CaptureStage::Taking {
                material: "m_photo_receipt".into()
            })
        );
        // One still per press; "下一步" and other materials wait for it.
        assert_eq!(s.handle(Event::Shoot, t), Outcome::None);
        assert_eq!(s.handle(Event::CaptureDone, t), Outcome::None);
        assert_eq!(s.current(), &Screen::Capture);
        s.handle(
            Event::Captured {
                material: "m_photo_receipt".into(),
                jpeg: vec![1, 2],
            },
            t,
        );
        assert_eq!(
            s.capture_stage(),
            Some(&CaptureStage::Check {
                material: "m_photo_receipt".into()
            })
        );
        assert_eq!(s.images()["m_photo_receipt"], [1, 2]);
        // The camera stays open (paused) while the still is checked.
        assert!(s.camera_wanted());
        // 重拍: the photo goes, the live picture returns.
        s.handle(Event::Retake, t);
        assert_eq!(s.capture_stage().cloned(), live("m_photo_receipt"));
        assert!(s.images().is_empty());
        // A failed still returns to the live picture too.
        s.handle(Event::Shoot, t);
        s.handle(Event::CaptureFailed, t);
        assert_eq!(s.capture_stage().cloned(), live("m_photo_receipt"));
        s.handle(Event::Shoot, t);
        s.handle(
            Event::Captured {
                material: "m_photo_receipt".into(),
                jpeg: vec![3],
            },
            t,
        );
        // 使用这张: nothing left to photograph, so the camera stops.
        s.handle(Event::UsePhoto, t);
        assert_eq!(s.capture_stage(), None);
        assert!(!s.camera_wanted());
        assert_eq!(s.images()["m_photo_receipt"], [3]);
        // Tapping the material again shows it live (to photograph it again).
        assert_eq!(
            s.handle(Event::CaptureSelect("m_hukou".into()), t),
            Outcome::None,
            "not a material to photograph"
        );
        s.handle(Event::CaptureSelect("m_photo_receipt".into()), t);
        assert!(s.camera_wanted());
        s.handle(Event::CaptureDone, t);
        assert_eq!(s.current(), &Screen::Review);
        assert!(!s.camera_wanted());
        assert_eq!(s.images()["m_photo_receipt"], [3]);
    }

    #[test]
    fn leaving_the_capture_page_stops_the_camera_and_drops_a_late_still() {
        let t = Instant::now();
        let mut s = at_capture(t);
        s.handle(Event::Shoot, t);
        s.handle(Event::Back, t);
        assert_eq!(s.current(), &Screen::Form);
        assert!(!s.camera_wanted());
        assert_eq!(
            s.handle(
                Event::Captured {
                    material: "m_photo_receipt".into(),
                    jpeg: vec![9],
                },
                t,
            ),
            Outcome::None
        );
        assert!(s.images().is_empty());
        // Back on the page, the live picture starts again.
        s.handle(Event::FormNext, t);
        assert_eq!(s.capture_stage().cloned(), live("m_photo_receipt"));
        // Walking away wipes it all: no camera, no photo.
        s.handle(Event::Shoot, t);
        s.handle(
            Event::Captured {
                material: "m_photo_receipt".into(),
                jpeg: vec![9],
            },
            t,
        );
        s.handle(Event::Tick, t + Duration::from_secs(600));
        assert_eq!(
            s.handle(Event::Tick, t + Duration::from_secs(620)),
            Outcome::Wiped
        );
        assert!(!s.camera_wanted());
        assert_eq!(s.capture_stage(), None);
        assert!(s.images().is_empty());
    }

    #[test]
    fn upload_progress_counts_only_this_citizens_case() {
        let t = Instant::now();
        let mut s = at_capture(t);
        let progress = |id: &str, sent| Event::UploadProgress {
            case_id: id.into(),
            sent,
            total: 200,
        };
        // Nothing submitted: a delivery in the background is not this citizen's.
        assert_eq!(s.handle(progress("other", 10), t), Outcome::None);
        s.handle(Event::CaptureDone, t);
        s.handle(Event::Submit, t);
        // While waiting, the glue forwards only the case it stored.
        s.handle(progress("c1", 50), t);
        assert_eq!(s.upload_progress().unwrap().fraction(), 0.25);
        s.handle(
            Event::SubmitResult(SubmitResult::Queued {
                case_id: "c1".into(),
                local_number: "1".into(),
            }),
            t,
        );
        assert_eq!(s.handle(progress("other", 200), t), Outcome::None);
        assert_eq!(s.upload_progress().unwrap().sent, 50);
        s.handle(progress("c1", 200), t);
        assert_eq!(s.upload_progress().unwrap().fraction(), 1.0);
        assert_eq!(s.handle(Event::Home, t), Outcome::Wiped);
        assert_eq!(s.upload_progress(), None);
    }
}
