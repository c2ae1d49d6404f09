//! What every UI terminal shares — the kiosk, the counter and the hall display alike: the
//! platform link, outbox delivery, the receipt printer, cameras, the card service, scanners,
//! speech, the search worker, e-licence calls and the device thread.
//!
//! Invariants: **no Slint and no screens** (results go to callbacks, which the apps post to
//! their inbox); this is the **only** place a profile's device slot becomes a running driver
//! or its emulator; the platform link is built here from the parts `sim::demo` returns, and
//! the simulator never calls back into this layer.

pub mod camera;
pub mod cards;
pub mod delivery;
pub mod inbox;
pub mod licences;
pub mod link;
pub mod printer;
pub mod scan;
pub mod search;
pub mod speech;
pub mod thread;
