//! 办件 in progress, for every app that takes applications: the matter guide and materials
//! checklist, the application form, the one `NewCase` builder, the pads' ink and signature,
//! and the fee's payment state machine. **Pure**: no Slint, no
//! store, no devices — an [`case::Errand`] value goes in, views and cases come out.

pub mod case;
pub mod form;
pub mod guide;
pub mod ink;
pub mod payment;
pub mod signature;

pub use case::{new_case, Errand, CASE_QR_PREFIX};
