//! Test doubles that speak real protocols, for the demo and the tests. Not part of
//! `crate::core`: nothing in the core depends on them.
//!
//! - [`platform`] — the 渝快办 platform simulator (HTTP, fault injection, admin endpoints).
//! - [`generate`] — its seed data: the demo catalogue or N generated matters.
//! - [`demo`] — starts it inside the app for the demo profile and syncs from it.

pub mod demo;
pub mod generate;
pub mod platform;
