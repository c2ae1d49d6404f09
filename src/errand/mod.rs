//! 办件 in progress, for every app that takes applications: the matter guide and materials
//! checklist, the application form, and the one `NewCase` builder. **Pure**: no Slint, no
//! store, no devices — an [`case::Errand`] value goes in, views and cases come out.

pub mod case;
pub mod form;
pub mod guide;
pub mod signature;

pub use case::{new_case, Errand, CASE_QR_PREFIX};
