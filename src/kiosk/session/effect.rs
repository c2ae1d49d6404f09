//! What comes out of the session: the [`Outcome`] of each event (what to render).

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
