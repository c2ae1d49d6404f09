//! What comes into the session: the [`Event`]s and the small values they carry (and that the
//! session hands back through its getters).

use crate::core::domain::{BundleApplication, CardError, Matter, Person};
use crate::core::platform::wire::LicenceDocument;

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
