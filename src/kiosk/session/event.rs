//! What comes into the session: the [`Event`]s and the small values they carry (and that the
//! session hands back through its getters).

use std::time::Instant;

use crate::core::domain::{BundleApplication, CardError, EvaluationLevel, Matter, Person};
use crate::core::platform::wire::LicenceDocument;
use crate::core::search::SearchHit;
use crate::core::ticketing::IssuedTicket;

use super::Screen;

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
    /// 证明开具: the platform's certificate, its signature verified, to print on A4.
    Certificate(Box<crate::core::certificate::VerifiedCertificate>),
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
            Self::Certificate(c) => &c.title,
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

/// A key on one of the on-screen keypads (the form's, 预约签到's, the PIN pad).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// What the key types (a letter, a digit, a symbol).
    Text(String),
    /// 删除: the last character goes.
    Backspace,
    /// 清空: everything typed goes.
    Clear,
}

/// The finger on the handwriting or signature pad (shared with the counter's pad).
pub use crate::errand::ink::Pen;

/// Which box of 维护模式's sign-in the PIN pad types into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TechField {
    /// 工号.
    Id,
    /// 密码 (never shown, dropped after each try).
    Pin,
}

/// What the identify page says about a 渝快码 or 人证核验, as the loop's workers found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentifyNote {
    /// This terminal cannot check a 渝快码 (no platform link).
    YkmUnavailable,
    /// The platform refused the 渝快码; the reason is for the citizen.
    YkmRefused(String),
    /// 人证核验: the camera is comparing the face with the card.
    CheckingFace,
    /// 人证核验: the face is not the card's.
    FaceMismatch,
    /// 人证核验 could not be done (why).
    FaceFailed(String),
}

/// Something that happened: a touch, a device result, the clock.
#[derive(Debug, Clone)]
pub enum Event {
    /// A local device service client asks (see `host`); `matter` is the catalogue's matter
    /// for the task code an errand names (`None`: none named, or not in the catalogue).
    HostAsked {
        ask: Box<crate::terminal::devservice::HostAsk>,
        matter: Option<Box<Matter>>,
    },
    /// 同意 (`true`) or 拒绝 on the consent screen.
    HostConsent(bool),
    /// A code was shown to the scanner or camera while a client's code read waits (its
    /// sanitised text, for that client only).
    HostCode(String),
    /// A client's request is gone (closed or timed out): forget it.
    HostWithdrawn(u64),
    /// The host terminal's vendor mode changed (XFS4IoT `VendorMode`; see `vendor`).
    VendorMode(ykb_drivers::xfs4iot::VendorModeEvent),
    /// Any touch on the screen.
    Touch,
    /// The clock; drives the idle countdown and the wipe.
    Tick,
    Open(Screen),
    Back,
    /// 首页 or 结束办理 (a half-done errand asks first: see [`Event::LeaveAnswer`]).
    Home,
    /// The answer to "结束办理？": `true` 确定结束, `false` 继续办理.
    LeaveAnswer(bool),
    CardRead(Person),
    CardError(CardError),
    /// The reader works again after a device error.
    CardReady,
    /// The card that was read has been taken off the reader.
    CardRemoved,
    /// "不是本人/更换": forget the card and wait for another.
    ChangePerson,
    /// The scanner read a 渝快码 (the loop asks the platform whom it identifies).
    YkmScanned(String),
    /// The scanner read a code this kiosk does not take; why, for the citizen.
    ScanUnusable(String),
    /// How checking a 渝快码 or the face went, when it did not identify anyone.
    IdentifyNote(IdentifyNote),
    /// The search text as typed so far (the loop searches when asked).
    Search(String),
    /// The search's answer for `query`.
    Found {
        query: String,
        hits: Vec<SearchHit>,
    },
    /// Start 智能导办 for a matter.
    ChooseMatter(Box<Matter>),
    /// Start 智能导办 for a 一件事 bundle, applied for as one case.
    ChooseBundle(Box<BundleApplication>),
    /// The choices made on the current question (one for a single-choice question).
    Answer(Vec<String>),
    /// An option ticked or unticked on a multi-choice question (not yet an answer).
    ToggleOption(String),
    /// "确定" on a multi-choice question: the options ticked are the answer.
    ConfirmOptions,
    /// The e-licences (电子证照) the identified person holds, by name.
    Licences(Vec<String>),
    /// The e-licence look-up failed (no network, platform down).
    LicencesFailed,
    /// 证照打印 on the home screen: the person's e-licences, after identification if needed.
    OpenLicencePrint,
    /// "重新查询" after a failed look-up (the loop asks the platform again).
    RetryLicences,
    /// A licence chosen on 证照打印 (the loop fetches its printable copy).
    ChooseLicence(String),
    /// The platform's printable copy of the chosen licence, or why there is none.
    LicenceCopy {
        licence_type: String,
        result: Result<Box<LicenceDocument>, String>,
    },
    /// The certificates (证明) this terminal can print, as the platform names them: the
    /// 证照打印 list offers them beside the e-licences (only with an A4 printer).
    Certificates(Vec<crate::core::platform::wire::CertificateType>),
    /// A certificate fetched and checked (signature, size, PDF), or why it is not printed.
    CertificateReady {
        title: String,
        result: Result<Box<crate::core::certificate::VerifiedCertificate>, String>,
    },
    /// The printer answered for the copy or certificate: printed (`true`) or not.
    LicencePrintEnded(bool),
    /// "重新打印" after a failed print (allowed once per copy).
    ReprintLicence,
    /// "确认打印" (the loop prints the copy once).
    PrintLicence,
    /// "开始申请" on the checklist: the form, after identification if needed.
    StartApply,
    /// 帮办代办: how the agent stands to the applicant.
    ChooseRelationship(crate::core::domain::Relationship),
    /// "被代办人未到场": the applicant's name and number are typed on the form.
    TypeApplicant,
    /// 下一步 on the 代办 page.
    AgentNext,
    /// A form field's whole value (a choice picked, or a test typing at once).
    FieldInput {
        field: String,
        value: String,
    },
    /// A form field tapped: the keyboard types into it from now on.
    EditField(String),
    /// A key on the form's keyboard (letters compose pinyin in a text field).
    FormKey(Key),
    /// A word picked from the pinyin candidates.
    ChooseCandidate(String),
    /// 手写 (true) or 拼音 (false) above the keyboard: the handwriting pad or the letters.
    UseHandwriting(bool),
    /// The finger on the handwriting pad (in the pad's 1024 × 1024 box, y down).
    Pen(Pen),
    /// 重写: the pad is wiped.
    Rewrite,
    /// A character picked from the handwriting candidates: it goes into the field (or the
    /// search), the pad is wiped for the next one.
    ChooseWritten(String),
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
    /// The still could not be taken (the loop says why): back to the live picture.
    CaptureFailed,
    /// "重拍": the photo shown is dropped and the live picture returns.
    Retake,
    /// "使用这张": the photo shown is kept; the next material without one is shown live.
    UsePhoto,
    /// "下一步" on the capture page.
    CaptureDone,
    /// The finger on the review page's signature pad (its 1024 × 1024 box, y down).
    SignPen(Pen),
    /// 重签: the signature pad is wiped.
    ClearSignature,
    /// "确认提交" on the review page (the loop stores the case, then answers with
    /// `CaseStored` or `CaseNotStored`).
    Submit,
    /// The case is in the outbox. With `answer_by`, the platform's unified code is awaited
    /// until then (`Delivered`) before 已暂存 is shown; without, 已暂存 at once.
    CaseStored {
        case_id: String,
        local_number: String,
        answer_by: Option<Instant>,
    },
    /// The case could not even be stored; the reason is for the citizen.
    CaseNotStored {
        reason: String,
    },
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
    /// 重新打印回执 on the done page.
    ReprintReceipt,
    /// 缴费 on the done page: the fee order's QR (the loop asks the platform for it).
    OpenPayment,
    /// The platform's order for the case's fee, checked against the case and the
    /// catalogue's fee (`core::payment::check_order`), or why there is none.
    PaymentOrdered(Result<Box<crate::core::platform::wire::PaymentOrder>, String>),
    /// The order as the platform last answered while it was followed.
    PaymentUpdate(Box<crate::core::platform::wire::PaymentOrder>),
    /// 重新缴费: a new order after one expired or was cancelled.
    RetryPayment,
    /// 稍后在渝快办App缴费: the case stays submitted and unpaid.
    PayLater,
    /// "评价本次服务" on the done page, or 好差评 on the home screen.
    OpenEvaluate,
    /// One of the five faces.
    ChooseLevel(EvaluationLevel),
    /// A reason chip ticked or unticked.
    ToggleReason(String),
    /// 提交评价: sent when a level (and, for a negative one, a reason) is chosen.
    SendEvaluation,
    /// 跳过: the session ends without an evaluation.
    SkipEvaluation,
    /// 取号's 绿色通道 box.
    ToggleGreen,
    /// 取号's 我有预约（预约签到）.
    ToggleCheckin,
    /// A key on 预约签到's keypad.
    CheckinKey(Key),
    /// A service tapped on 取号 (its prefix): the loop issues the ticket.
    TakeTicket(String),
    /// The ticket issued for the service tapped.
    TicketIssued(Box<IssuedTicket>),
    /// The ticket was not issued; why, for the citizen.
    TicketRefused(String),
    /// The number typed on the progress page.
    ProgressInput(String),
    /// 查询 on the progress page.
    LookUpProgress,
    /// What the loop found for the number: two lines for the citizen.
    ProgressAnswer {
        title: String,
        detail: String,
    },
    /// 呼叫工作人员.
    CallStaff,
    /// A tap on the 渝快办 title (five quick ones are the hidden gesture).
    TitleTapped,
    /// The hidden gesture: whatever a citizen left is wiped and the PIN pad opens.
    OpenTechLogin,
    /// 工号 or 密码 tapped on the PIN pad.
    TechField(TechField),
    /// A key on the PIN pad.
    TechKey(Key),
    /// 进入维护模式: the id and PIN typed are checked (throttled).
    TechSignIn,
    /// The worker's outcome of a 维护模式 PIN check for the id typed.
    TechnicianPinChecked {
        id: String,
        ok: bool,
    },
    /// 刷新 on the technician's page.
    RefreshTechnician,
    /// 运行自检.
    RunSelftest,
    /// 导出诊断日志.
    ExportDiagnostics,
    /// 更换纸卷: a new receipt roll is in, the paper counter starts again.
    ReplacePaperRoll,
    /// What operations asked by remote command, as last read from the store: 维护模式,
    /// and a restart not yet done.
    Operations {
        maintenance: bool,
        restart: bool,
    },
    /// A device slot showed this state (a probe, a job, a read): tiles follow it.
    DeviceHealth {
        slot: String,
        health: crate::core::health::DeviceHealth,
    },
    /// "继续办理" on the countdown overlay.
    KeepSession,
}

impl Event {
    /// Whether the citizen (or technician) did this — a button, a key, a card on the
    /// reader, a code at the scanner — which keeps the session alive; the clock and results
    /// arriving on their own do not.
    pub(super) fn is_activity(&self) -> bool {
        !matches!(
            self,
            Event::Tick
                | Event::CardReady
                | Event::IdentifyNote(_)
                | Event::Found { .. }
                | Event::Licences(_)
                | Event::LicencesFailed
                | Event::LicenceCopy { .. }
                | Event::Certificates(_)
                | Event::CertificateReady { .. }
                | Event::LicencePrintEnded(_)
                | Event::CaseStored { .. }
                | Event::CaseNotStored { .. }
                | Event::Delivered { .. }
                | Event::PaymentOrdered(_)
                | Event::PaymentUpdate(_)
                | Event::Captured { .. }
                | Event::CaptureFailed
                | Event::UploadProgress { .. }
                | Event::TicketIssued(_)
                | Event::TicketRefused(_)
                | Event::ProgressAnswer { .. }
                | Event::Operations { .. }
                | Event::DeviceHealth { .. }
                | Event::VendorMode(_)
                | Event::HostAsked { .. }
                | Event::HostWithdrawn(_)
        )
    }
}

#[cfg(test)]
impl Event {
    /// `CaseStored` as the tests write it.
    pub fn stored(case_id: &str, local_number: &str, answer_by: Option<Instant>) -> Event {
        Event::CaseStored {
            case_id: case_id.into(),
            local_number: local_number.into(),
            answer_by,
        }
    }
}
