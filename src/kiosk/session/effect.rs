//! What comes out of the session: the [`Outcome`] of each event (what to render) and the
//! [`Effect`]s it queued (what I/O to do). The session does no I/O itself; like a sans-I/O
//! protocol machine it says what is due and the loop does it, polling
//! [`Session::poll_effect`](super::Session::poll_effect) after every
//! [`Session::handle`](super::Session::handle).

use crate::core::audit::AuditAction;
use crate::core::domain::EvaluationLevel;

/// What the loop must do after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing visible changed.
    None,
    /// Render the current state.
    Changed,
    /// The session was wiped: render, and clear everything the UI held.
    Wiped,
}

/// I/O the session asks for. Queued by [`Session::handle`](super::Session::handle) only when
/// the event was accepted (its outcome is not [`Outcome::None`]), in the order it is due, and
/// dropped when the session is wiped — except what the wipe itself calls for (the
/// technician's sign-out, the evaluation just given), queued after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Show and say `Reminder` (aloud whether or not 大字 is on: a card left on the reader is
    /// the citizen's loss).
    Remind(super::Reminder),
    /// The query typed changed: search the catalogue for it, then answer with
    /// [`Event::Found`](super::Event::Found).
    Search { query: String },
    /// "确认提交" was accepted: store the case in the outbox, then answer with
    /// [`Event::CaseStored`](super::Event::CaseStored) or
    /// [`Event::CaseNotStored`](super::Event::CaseNotStored).
    StoreCase,
    /// The citizen's case is settled (已提交 or 已暂存), or 重新打印回执: print its receipt.
    PrintCaseReceipt,
    /// 缴费 (or 重新缴费): ask the platform for the order of `items` for the case
    /// `case_code` under the key of `attempt` (`core::payment::order_key`), check it
    /// (`check_order`), then answer with [`Event::PaymentOrdered`](super::Event::PaymentOrdered).
    CreatePaymentOrder {
        case_code: String,
        items: Vec<crate::core::platform::wire::PaymentItem>,
        attempt: u32,
    },
    /// Follow the pending `order` off the UI thread (long-poll) until it leaves `pending`
    /// or its time is up, then answer with [`Event::PaymentUpdate`](super::Event::PaymentUpdate).
    /// A follower of an earlier order stops.
    FollowPayment {
        order: Box<crate::core::platform::wire::PaymentOrder>,
    },
    /// 稍后在渝快办App缴费 with an order pending: withdraw it at the platform (whatever it
    /// answers, the platform's state is the truth).
    CancelPayment { order_id: String },
    /// "拍照" was accepted: take the still of `material`, then answer with
    /// [`Event::Captured`](super::Event::Captured) or
    /// [`Event::CaptureFailed`](super::Event::CaptureFailed).
    Shoot { material: String },
    /// The still shown is done with ("重拍", "使用这张") or another material was tapped:
    /// clear the capture page's status line before rendering; the camera follows
    /// [`Session::camera_wanted`](super::Session::camera_wanted) (live again, or stopped when
    /// nothing is left to photograph).
    CameraLive,
    /// A 渝快码 was read: ask the platform whom it identifies, then answer with
    /// [`Event::CardRead`](super::Event::CardRead) (after 人证核验, if any) or
    /// [`Event::IdentifyNote`](super::Event::IdentifyNote).
    VerifyYkm { token: String },
    /// A licence was chosen on 证照打印: fetch its printable copy, then answer with
    /// [`Event::LicenceCopy`](super::Event::LicenceCopy).
    FetchLicenceCopy { licence_type: String },
    /// A certificate was chosen on 证照打印: fetch it and check it, then answer with
    /// [`Event::CertificateReady`](super::Event::CertificateReady).
    FetchCertificate { task_code: String, title: String },
    /// "确认打印" (or the one "重新打印") was accepted: print the copy shown.
    PrintLicence,
    /// Ask the platform which e-licences the identified person holds, then answer with
    /// [`Event::Licences`](super::Event::Licences) or
    /// [`Event::LicencesFailed`](super::Event::LicencesFailed). Queued when a new person is
    /// identified (for 免提交) and when 证照打印 waits for an answer, never while one is on its
    /// way.
    LookUpLicences,
    /// A service was tapped on 取号: issue a ticket (with the 绿色通道 box and the 预约签到
    /// code as given), then answer with [`Event::TicketIssued`](super::Event::TicketIssued)
    /// or [`Event::TicketRefused`](super::Event::TicketRefused).
    IssueTicket {
        service: String,
        green: bool,
        appointment: Option<String>,
    },
    /// The ticket was issued: print it.
    PrintTicket,
    /// 查询 with a number typed: look for the case this terminal holds under it, then answer
    /// with [`Event::ProgressAnswer`](super::Event::ProgressAnswer).
    LookUpProgress { number: String },
    /// 呼叫工作人员: tell the platform (and the hall's staff).
    CallStaff,
    /// 提交评价 with a valid choice: queue the 好差评 event (the session has ended already;
    /// the case and matter it is about are carried here).
    SendEvaluation {
        level: EvaluationLevel,
        reasons: Vec<String>,
        case_id: Option<String>,
        task_code: Option<String>,
    },
    /// A step of 维护模式 for the audit log: `technician` is the id typed (or `unknown` when
    /// it is not one an account could have).
    AuditTechnician {
        technician: String,
        action: AuditAction,
        detail: String,
    },
    /// Check a PIN typed at 维护模式's pad on a worker (the hash takes 0.1–0.3 s); its
    /// outcome comes back as [`super::Event::TechnicianPinChecked`].
    CheckTechnicianPin(crate::core::pin::PinCheck),
    /// A PIN was checked at 维护模式's pad: keep the throttle's count and pause in the store
    /// ([`Session::technician_throttle`]), so a restart does not lift them.
    StoreTechnicianThrottle,
    /// The technician's page needs its device, queue and store lines read (afresh).
    ReadTechnicianOverview,
    /// 运行自检 by the technician signed in.
    RunSelftest,
    /// 导出诊断日志 by the technician signed in.
    ExportDiagnostics,
    /// 更换纸卷 by the technician signed in (audited).
    ReplacePaperRoll,
    /// Operations asked for a restart and nobody is being served: the app exits (systemd
    /// starts it again).
    Restart,
    /// The host asked to enter (`enter`) or leave its vendor mode and the session is ready
    /// (ended, or about to resume): tell the host's `VendorMode` service so.
    AcknowledgeVendorMode { enter: bool },
    /// Answer a local device service client's request (the consent, the card read, the
    /// errand's start or end, a refusal).
    AnswerHost {
        ticket: u64,
        answer: crate::terminal::devservice::HostAnswer,
    },
    /// The citizen agreed to a client's picture: take one with the document camera and
    /// answer request `ticket` with it (or with the camera's failure).
    TakeHostPicture { ticket: u64 },
}
