//! ykb-terminal: the software of Chongqing's 渝快办 government-service terminals.
//!
//! - [`core`] — matters, cases, store, profiles; no UI, no device IO.
//! - [`counter`] — counter mode (一窗综办, with the citizen's evaluation pad) and the hall
//!   display (叫号屏): their Slint glue, the clerk's session and pre-review (智能预审).
//! - [`kiosk`] — the Slint UI glue: pushes core data into `ui/` and turns touches into calls.
//! - [`cli`] — command-line entry points for technicians and scripts.
//! - [`ops`] — operations: provisioning, self-test, health metrics, the systemd agent.
//! - [`sim`] — the platform simulator (demo and tests), outside the core.
//!
//! See ARCHITECTURE.md for the code map and data flows.

pub mod app;
pub mod cli;
pub mod core;
pub mod counter;
pub mod errand;
pub mod fonts;
pub mod kiosk;
pub mod logging;
pub mod ops;
pub mod sim;
pub mod terminal;
pub mod ui;
