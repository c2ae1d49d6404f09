//! What comes out of the session: the [`Outcome`] of each event (what to render) and the
//! [`Effect`]s it queued (what I/O to do). The session does no I/O itself; like a sans-I/O
//! protocol machine it says what is due and the glue does it, polling
//! [`Session::poll_effect`](super::Session::poll_effect) after every
//! [`Session::handle`](super::Session::handle).

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

/// I/O the session asks for. Queued by [`Session::handle`](super::Session::handle) only when
/// the event was accepted (its outcome is not [`Outcome::None`]), in the order it is due, and
/// dropped when the session is wiped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// "确认提交" was accepted: store the case in the outbox, then answer with
    /// [`Event::SubmitResult`](super::Event::SubmitResult).
    StoreCase,
    /// "拍照" was accepted: take the still of `material`, then answer with
    /// [`Event::Captured`](super::Event::Captured) or
    /// [`Event::CaptureFailed`](super::Event::CaptureFailed).
    Shoot { material: String },
    /// The still shown is done with ("重拍", "使用这张") or another material was tapped:
    /// clear the capture page's status line before rendering; the camera follows
    /// [`Session::camera_wanted`](super::Session::camera_wanted) (live again, or stopped when
    /// nothing is left to photograph).
    CameraLive,
    /// A licence was chosen on 证照打印: fetch its printable copy, then answer with
    /// [`Event::LicenceCopy`](super::Event::LicenceCopy).
    FetchLicenceCopy { licence_type: String },
    /// "确认打印" was accepted: print the copy shown, once.
    PrintLicence,
    /// 证照打印 is shown for an identified person with no answer about their e-licences: ask
    /// the platform, then answer with [`Event::Licences`](super::Event::Licences) or
    /// [`Event::LicencesFailed`](super::Event::LicencesFailed). Queued after every accepted
    /// event while that holds; the glue skips it while a look-up for the person is on its way.
    LookUpLicences,
}
