//! 办事会话 — the citizen's session as a plain state machine: which screen is shown, what
//! "back" means, what the citizen has told us (card, query, answers, fields), and when it all
//! ends for lack of activity. No Slint here; `kiosk/mod.rs` renders whatever this says.
//!
//! The machine takes [`Event`]s in [`Session::handle`], which answers with an [`Outcome`]
//! (what to render), and queues the I/O that is due as [`Effect`]s, which the loop takes with
//! [`Session::poll_effect`] and carries out (storing a case, the camera, the platform, the
//! printer); what that I/O finds comes back as further events.
//!
//! Everything personal is held here and nowhere else: what the citizen typed and ticked on
//! the way (options not yet confirmed, the field typed into and its pinyin, the 预约签到
//! code, the 好差评 choice, the technician's id and PIN), what was found for them (search
//! results, the ticket, a case's progress, what the identify page says). The loop keeps only
//! its devices and workers.
//!
//! Walking away: after `idle_timeout` without a touch a countdown of [`COUNTDOWN`] is shown
//! ("继续办理" keeps the session); when it runs out the session is **wiped** — every piece of
//! personal data is dropped and the kiosk returns home. [`Session::wipe`] is the only wipe.
//!
//! The events, effects and the values they carry live in `event` and `effect`; the errand
//! (guide → form → capture → review → submit) in `apply`, the typing on the way in `input`;
//! identification in `identify`; 证照打印 in `licences`; 取号 and 办件进度查询 in `hall`;
//! 好差评 in `evaluate`; 维护模式's sign-in in `technician`.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use crate::core::domain::{BundleApplication, Matter, Person};
use crate::core::search::SearchHit;
use crate::errand::{guide, Errand};

mod agent;
mod apply;
mod devices;
mod effect;
mod evaluate;
mod event;
mod hall;
mod host;
mod identify;
mod input;
mod licences;
mod operations;
mod payment;
mod shell;
mod signature;
mod technician;
#[cfg(test)]
mod tests;
mod vendor;

pub use crate::core::domain::CardError;
pub use devices::Service;
pub use effect::{Effect, Outcome};
pub use event::{
    CaptureStage, CardStatus, Event, IdentifyNote, Key, LicenceCopy, LicenceLookup, Pen,
    SubmitResult, TechField, UploadProgress,
};
pub use hall::CHECKIN_CODE_MAX;
pub use host::{consent_detail, consent_title, ConsentKind};
pub use input::{Ink, PAD_MAX_POINTS, PAD_MAX_STROKES};
pub use payment::PaymentStage;
pub use shell::{Reminder, Step, REMINDER_SHOWN};
pub use technician::{PinEntry, TapGesture, GESTURE_TAPS, GESTURE_WINDOW, PIN_PAD_MAX};
pub use vendor::{VendorPhase, VENDOR_DETAIL, VENDOR_TITLE};

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
    /// 缴费: the fee order's QR, amount, payee and countdown, then how it ended.
    Payment,
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
    /// 帮办代办: the agent is identified; how they stand to the applicant, and who that is.
    Agent,
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
    /// What the identify page says about the last 渝快码 or 人证核验.
    identify_note: String,
    query: String,
    /// The search's newest answer: the query it was for and the matters found.
    found: Option<(String, Vec<SearchHit>)>,
    progress_query: String,
    /// 办件进度查询: what was found for the number typed (two lines).
    progress: Option<(String, String)>,
    matter: Option<Matter>,
    /// Set when `matter` is a bundle's combined matter.
    bundle: Option<BundleApplication>,
    answers: Vec<Answer>,
    /// Options ticked so far on the multi-choice question shown (not yet an answer).
    pending: Vec<String>,
    fields: BTreeMap<String, String>,
    form_errors: BTreeMap<String, String>,
    /// The form field the keyboard types into, and the pinyin being composed for it.
    editing: String,
    composing: String,
    /// 手写输入: the pad instead of the letters (chosen), and what is written on it.
    writing_on: bool,
    ink: input::Ink,
    licences: Vec<String>,
    licence_lookup: LicenceLookup,
    /// A look-up of the person's e-licences is on its way (none is asked twice).
    licences_asked: bool,
    licence_copy: Option<LicenceCopy>,
    /// 证明开具: what the platform issues at this terminal (empty without an A4 printer).
    certificates: Vec<crate::core::platform::wire::CertificateType>,
    /// The last print of the copy shown failed.
    licence_print_failed: bool,
    /// Prints of the copy shown so far (one reprint after a failure is allowed).
    licence_prints: u8,
    images: BTreeMap<String, Vec<u8>>,
    capture: Option<CaptureStage>,
    upload: Option<UploadProgress>,
    /// Identification was asked for by "开始申请" or 证照打印: this screen follows the card
    /// read.
    resume: Option<Screen>,
    submitting: bool,
    /// The stored case whose unified code is awaited (briefly) before 已暂存 is shown.
    awaiting: Option<apply::Awaiting>,
    submit: Option<SubmitResult>,
    /// 手写签名 on the review page (see `signature`), and why 确认提交 was refused.
    signature: input::Ink,
    submit_refusal: String,
    /// 缴费 of the submitted case (see `payment`).
    payment: Option<crate::errand::payment::Payment>,
    /// 取号: the 绿色通道 box, 预约签到 and its code, the last refusal, the ticket issued.
    tickets: hall::Tickets,
    /// 好差评 being given: the level, the reasons ticked, what is missing.
    evaluation: evaluate::Choice,
    /// 维护模式: what is typed on the PIN pad, and the technician signed in.
    pin_entry: PinEntry,
    technician: Option<String>,
    /// 维护模式's accounts, throttle and hidden gesture: not personal, kept by every wipe.
    gate: technician::Gate,
    /// When the current screen was opened (for the evaluation timeout).
    shown_at: Instant,
    /// The I/O due, oldest first (see [`Session::poll_effect`]).
    effects: VecDeque<Effect>,
    /// Operations asked for maintenance: kept by every wipe (see `operations`).
    out_of_service: bool,
    /// A restart was asked of the loop (once).
    restart_due: bool,
    /// The last state of each device slot (see `devices`): kept by every wipe.
    devices: devices::DeviceStates,
    /// The host's vendor mode (see `vendor`): kept by every wipe.
    vendor: VendorPhase,
    /// What local device service clients asked of this session (see `host`).
    host: host::HostRequests,
    /// 帮办代办: the agent, the relationship, how the applicant is named (see `agent`).
    proxy: Option<agent::Proxy>,
    /// The step indicator's, 结束办理's and the card reminder's state (see `shell`).
    shell: shell::Shell,
}

impl Session {
    /// A fresh session at the home screen (no technician accounts: see
    /// [`Session::with_technicians`]).
    pub fn new(idle_timeout: Duration, now: Instant) -> Self {
        Self {
            stack: vec![Screen::Home],
            idle_timeout,
            last_touch: now,
            now,
            countdown_from: None,
            person: None,
            card: CardStatus::Waiting,
            identify_note: String::new(),
            query: String::new(),
            found: None,
            progress_query: String::new(),
            progress: None,
            matter: None,
            bundle: None,
            answers: Vec::new(),
            pending: Vec::new(),
            fields: BTreeMap::new(),
            form_errors: BTreeMap::new(),
            editing: String::new(),
            composing: String::new(),
            writing_on: false,
            ink: input::Ink::default(),
            licences: Vec::new(),
            licence_lookup: LicenceLookup::Waiting,
            licences_asked: false,
            licence_copy: None,
            certificates: Vec::new(),
            licence_print_failed: false,
            licence_prints: 0,
            images: BTreeMap::new(),
            capture: None,
            upload: None,
            resume: None,
            submitting: false,
            awaiting: None,
            submit: None,
            signature: input::Ink::default(),
            submit_refusal: String::new(),
            payment: None,
            tickets: hall::Tickets::default(),
            evaluation: evaluate::Choice::default(),
            pin_entry: PinEntry::default(),
            technician: None,
            gate: technician::Gate::default(),
            shown_at: now,
            effects: VecDeque::new(),
            out_of_service: false,
            restart_due: false,
            devices: devices::DeviceStates::new(),
            vendor: VendorPhase::Off,
            host: host::HostRequests::default(),
            proxy: None,
            shell: shell::Shell::default(),
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

    /// The certificates offered on 证照打印.
    pub fn certificates(&self) -> &[crate::core::platform::wire::CertificateType] {
        &self.certificates
    }

    /// Whether "重新打印" is offered: the print failed and no reprint was used yet.
    pub fn can_reprint_licence(&self) -> bool {
        self.current() == &Screen::LicencePrinted
            && self.licence_print_failed
            && self.licence_prints < 2
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
            .map(|m| guide::checklist(m, &self.chosen(), self.known_licences()))
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
            agent: match (self.by_agent(), self.agent()) {
                (false, _) => None,
                (true, Some(agent)) => Some(agent),
                // A 代办 errand is never built without its agent.
                (true, None) => return None,
            },
            licences: &self.licences,
            fields: &self.fields,
            images: &self.images,
        })
    }

    /// The person's e-licences once known: identified and the look-up answered (a failed
    /// look-up counts as none held).
    fn known_licences(&self) -> Option<&[String]> {
        let known = self.person.is_some() && self.licence_lookup != LicenceLookup::Waiting;
        known.then_some(&self.licences[..])
    }

    /// The materials still to be handed in at a window: those to bring, and those to
    /// photograph here that were not.
    pub fn to_bring(&self) -> Vec<String> {
        self.checklist()
            .into_iter()
            .filter(|c| match c.status {
                guide::MaterialStatus::BringToWindow | guide::MaterialStatus::LicenceMayReplace => {
                    true
                }
                guide::MaterialStatus::CaptureHere => !self.images.contains_key(&c.id),
                guide::MaterialStatus::Exempt => false,
            })
            .map(|c| c.name)
            .collect()
    }

    /// 已提交's "接下来": what to bring where, when the result comes, and (after a card
    /// read) to take the card; empty before the case is settled.
    pub fn next_steps(&self) -> Vec<String> {
        let (Some(m), Some(SubmitResult::Submitted { .. } | SubmitResult::Queued { .. })) =
            (&self.matter, &self.submit)
        else {
            return Vec::new();
        };
        let mut out = guide::after_submission(m, &self.to_bring(), self.delivery().as_ref());
        if self.card_was_read() {
            out.push("离开前请取走您的身份证和回执".to_owned());
        }
        out
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
            || self.proxy.is_some()
            || !self.query.is_empty()
            || !self.progress_query.is_empty()
            || self.matter.is_some()
            || !self.fields.is_empty()
            || self.host.is_active()
    }

    /// Whether the session holds anything that identifies a person.
    pub fn holds_personal_data(&self) -> bool {
        self.person.is_some()
            || self.agent_person().is_some()
            || !self.fields.is_empty()
            || !self.signature.strokes.is_empty()
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
    /// `poll_transmit`): after every [`Session::handle`] the loop takes effects until `None`
    /// and carries each out.
    pub fn poll_effect(&mut self) -> Option<Effect> {
        self.effects.pop_front()
    }

    /// Applies one event at time `now`. The I/O it calls for waits in
    /// [`Session::poll_effect`].
    pub fn handle(&mut self, event: Event, now: Instant) -> Outcome {
        self.now = now;
        let activity = event.is_activity();
        let was_counting = activity && self.countdown_from.take().is_some();
        if activity {
            self.last_touch = now;
        }
        let before = self.current().clone();
        let outcome = self.dispatch(event, was_counting);
        if self.current() != &before {
            // What was being typed or ticked belongs to the screen left.
            self.pending.clear();
            self.editing.clear();
            self.composing.clear();
            self.ink.rewrite();
            self.on_screen_changed(&before);
        }
        if outcome != Outcome::None && self.licence_lookup_due() {
            self.licences_asked = true;
            self.effects.push_back(Effect::LookUpLicences);
        }
        outcome
    }

    fn dispatch(&mut self, event: Event, was_counting: bool) -> Outcome {
        // A client's request is answered even in vendor mode (busy), so it never hangs.
        if let Event::HostAsked { ask, matter } = event {
            return self.on_host_asked(*ask, matter.map(|m| *m));
        }
        if !self.passes_vendor_mode(&event) {
            return Outcome::None;
        }
        match event {
            Event::Tick => self.tick(),
            Event::VendorMode(change) => self.on_vendor_mode(change),
            Event::Touch | Event::KeepSession => {
                if was_counting {
                    Outcome::Changed
                } else {
                    Outcome::None
                }
            }
            Event::Open(_) | Event::OpenEvaluate if !self.may_start_service() => Outcome::None,
            Event::Open(screen) if self.blocked_screen(&screen) => Outcome::None,
            Event::DeviceHealth { slot, health } => self.on_device_health(slot, health),
            Event::Open(screen) => {
                self.open(screen);
                Outcome::Changed
            }
            Event::Operations {
                maintenance,
                restart,
            } => self.on_operations(maintenance, restart),
            // 返回 while a client's card is awaited cancels that read (`host`).
            Event::Back
                if (self.host_card_waiting() || self.host_code_waiting())
                    && self.current() == &Screen::Identify =>
            {
                self.cancel_host_card()
            }
            Event::Back => self.on_back(),
            // Leaving for home ends the errand: what it held goes with it (a half-done one
            // only after "确定结束", see `shell`).
            Event::Home => self.on_home(),
            Event::LeaveAnswer(leave) => self.on_leave_answer(leave),
            // The local device service's clients (`host`; a request came in above).
            Event::HostAsked { .. } => Outcome::None,
            Event::HostConsent(agreed) => self.on_host_consent(agreed),
            Event::HostWithdrawn(ticket) => self.on_host_withdrawn(ticket),
            Event::CardRead(person) if self.host_card_waiting() => self.on_host_card(person),
            Event::HostCode(text) => self.on_host_code(text),
            // Identification (`identify`).
            Event::CardRead(person) if self.awaits_agent_card() => self.agent_card(person),
            Event::CardRead(person) => self.on_card_read(person),
            Event::CardError(e) => {
                self.card = CardStatus::Error(e);
                Outcome::Changed
            }
            Event::CardReady => {
                self.card = CardStatus::Waiting;
                Outcome::Changed
            }
            Event::CardRemoved => self.on_card_removed(),
            Event::ChangePerson => self.on_change_person(),
            Event::YkmScanned(token) => self.on_ykm_scanned(token),
            Event::ScanUnusable(why) => self.note_identify(why),
            Event::IdentifyNote(note) => self.on_identify_note(note),
            // Typing on the way (`input`).
            Event::Search(q) => self.on_search(q),
            Event::Found { query, hits } => self.on_found(query, hits),
            Event::ToggleOption(id) => self.on_toggle_option(id),
            Event::ConfirmOptions => self.on_confirm_options(),
            Event::EditField(field) => self.on_edit_field(field),
            Event::FormKey(key) => self.on_form_key(key),
            Event::ChooseCandidate(word) => self.on_choose_candidate(word),
            Event::UseHandwriting(on) => self.on_use_handwriting(on),
            Event::Pen(pen) => self.on_pen(pen),
            Event::Rewrite => self.on_rewrite(),
            Event::ChooseWritten(word) => self.on_choose_written(word),
            // 智能导办 and the application (`apply`).
            Event::ChooseMatter(matter) => self.on_choose_matter(*matter),
            Event::ChooseBundle(bundle) => self.on_choose_bundle(*bundle),
            Event::Answer(choices) => self.on_answer(choices),
            Event::StartApply => self.on_start_apply(),
            // 帮办代办 (`agent`).
            Event::ChooseRelationship(r) => self.on_choose_relationship(r),
            Event::TypeApplicant => self.on_type_applicant(),
            Event::AgentNext => self.on_agent_next(),
            Event::FieldInput { field, value } => self.on_field_input(field, value),
            Event::FormNext => self.on_form_next(),
            Event::CaptureSelect(material) => self.on_capture_select(material),
            Event::Shoot => self.on_shoot(),
            Event::Captured { material, jpeg } => self.on_captured(material, jpeg),
            Event::CaptureFailed => self.on_capture_failed(),
            Event::Retake => self.on_retake(),
            Event::UsePhoto => self.on_use_photo(),
            Event::CaptureDone => self.on_capture_done(),
            Event::SignPen(pen) => self.on_sign_pen(pen),
            Event::ClearSignature => self.on_clear_signature(),
            Event::Submit => self.on_submit(),
            Event::CaseStored {
                case_id,
                local_number,
                answer_by,
            } => self.on_case_stored(case_id, local_number, answer_by),
            Event::CaseNotStored { reason } => {
                self.on_submit_result(SubmitResult::Failed { reason })
            }
            Event::UploadProgress {
                case_id,
                sent,
                total,
            } => self.on_upload_progress(&case_id, sent, total),
            Event::Delivered {
                case_id,
                unified_code,
            } => self.on_delivered(case_id, unified_code),
            Event::ReprintReceipt => self.on_reprint_receipt(),
            // 缴费 (`payment`).
            Event::OpenPayment => self.on_open_payment(),
            Event::PaymentOrdered(result) => self.on_payment_ordered(result),
            Event::PaymentUpdate(order) => self.on_payment_update(order),
            Event::RetryPayment => self.on_retry_payment(),
            Event::PayLater => self.on_pay_later(),
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
            Event::Certificates(list) => self.on_certificates(list),
            Event::CertificateReady { title, result } => self.on_certificate(title, result),
            Event::LicencePrintEnded(ok) => self.on_licence_print_ended(ok),
            Event::ReprintLicence => self.on_reprint_licence(),
            // 好差评 (`evaluate`).
            Event::OpenEvaluate => {
                self.open(Screen::Evaluate);
                Outcome::Changed
            }
            Event::ChooseLevel(level) => self.on_choose_level(level),
            Event::ToggleReason(reason) => self.on_toggle_reason(reason),
            Event::SendEvaluation => self.on_send_evaluation(),
            Event::SkipEvaluation => {
                self.wipe();
                Outcome::Wiped
            }
            // 取号, 办件进度查询, 呼叫工作人员 (`hall`).
            Event::ToggleGreen => self.on_toggle_green(),
            Event::ToggleCheckin => self.on_toggle_checkin(),
            Event::CheckinKey(key) => self.on_checkin_key(key),
            Event::TakeTicket(service) => self.on_take_ticket(service),
            Event::TicketIssued(ticket) => self.on_ticket_issued(*ticket),
            Event::TicketRefused(why) => self.on_ticket_refused(why),
            Event::ProgressInput(q) => self.on_progress_input(&q),
            Event::LookUpProgress => self.on_look_up_progress(),
            Event::ProgressAnswer { title, detail } => self.on_progress_answer(title, detail),
            Event::CallStaff => self.on_call_staff(),
            // 维护模式 (`technician`).
            Event::TitleTapped => self.on_title_tapped(),
            Event::OpenTechLogin => self.on_open_tech_login(),
            Event::TechField(field) => self.on_tech_field(field),
            Event::TechKey(key) => self.on_tech_key(key),
            Event::TechSignIn => self.on_tech_sign_in(),
            Event::TechnicianPinChecked { id, ok } => self.on_tech_pin_checked(&id, ok),
            Event::RefreshTechnician => self.on_technician_action(Effect::ReadTechnicianOverview),
            Event::RunSelftest => self.on_technician_action(Effect::RunSelftest),
            Event::ExportDiagnostics => self.on_technician_action(Effect::ExportDiagnostics),
            Event::ReplacePaperRoll => self.on_technician_action(Effect::ReplacePaperRoll),
        }
    }

    fn on_back(&mut self) -> Outcome {
        if self.submitting {
            return Outcome::None;
        }
        match self.current() {
            Screen::Done | Screen::TicketIssued | Screen::Technician => {
                // The errand (or the maintenance) is over: leaving it ends the session, and
                // signs the technician out.
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
        // The reminder's time being up changes the screen, whatever else the tick does.
        match self.tick_inner() {
            Outcome::None if self.reminder_expired() => Outcome::Changed,
            outcome => outcome,
        }
    }

    fn tick_inner(&mut self) -> Outcome {
        if let Some(settled) = self.settle_overdue() {
            return settled;
        }
        if let Some(paying) = self.payment_tick() {
            return paying;
        }
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

    /// The only wipe: drops everything the session held (the effects not yet polled too)
    /// and returns home. What outlives it is not personal: the device states, the host's
    /// vendor mode, operations' switches, the idle timeout and 维护模式's
    /// gate (accounts, the throttle — a wipe must not lift a pause, since the hidden gesture
    /// itself wipes — and the gesture). A technician still signed in is signed out, for the
    /// audit log.
    fn wipe(&mut self) {
        let (timeout, now) = (self.idle_timeout, self.now);
        // What the host's requests are told (the errand's outcome, cancels) outlives it.
        let host_answers = self.host_answers_at_wipe();
        let gate = std::mem::take(&mut self.gate);
        let signed_out = self.technician.take();
        let (out_of_service, restart_due) = (self.out_of_service, self.restart_due);
        let devices = std::mem::take(&mut self.devices);
        let vendor = self.vendor;
        *self = Session::new(timeout, now);
        self.devices = devices;
        self.vendor = vendor;
        self.gate = gate;
        self.out_of_service = out_of_service;
        self.restart_due = restart_due;
        self.effects.extend(host_answers);
        if let Some(technician) = signed_out {
            self.effects.push_back(Effect::AuditTechnician {
                technician,
                action: crate::core::audit::AuditAction::TechnicianLogout,
                detail: "退出维护模式".into(),
            });
        }
    }
}
