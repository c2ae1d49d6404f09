//! ykb-terminal: the software of Chongqing's 渝快办 government-service terminals.
//!
//! - [`core`] — matters, cases, store, profiles; no UI, no device IO.
//! - [`kiosk`] — the Slint UI glue: pushes core data into `ui/` and turns touches into calls.
//! - [`cli`] — command-line entry points for technicians and scripts.
//! - [`ops`] — operations: provisioning, self-test, health metrics, the systemd agent.
//! - [`sim`] — the platform simulator (demo and tests), outside the core.
//!
//! See ARCHITECTURE.md for the code map and data flows.

pub mod cli;
pub mod core;
pub mod fonts;
pub mod kiosk;
pub mod logging;
pub mod ops;
pub mod sim;
