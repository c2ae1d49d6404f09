//! ykb-terminal: the software of Chongqing's 渝快办 government-service terminals.
//!
//! - [`core`] — matters, cases, store, profiles; no UI, no device IO.
//! - [`app`] — the one switch that picks the kiosk, the counter or the hall display.
//! - [`ui`] — the generated Slint windows and globals (the one `include_modules!`).
//! - [`kiosk`] — the citizen app: the loop, the session state machine, one controller per page.
//! - [`counter`] — counter mode (一窗综办, with the citizen's evaluation pad) and the hall
//!   display (叫号屏): their Slint glue, the clerk's session and pre-review (智能预审).
//! - [`terminal`] — what every UI terminal shares: devices, platform link, delivery, inbox.
//! - [`errand`] — 办件 in progress: guide, checklist, form, the one `NewCase` builder.
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
