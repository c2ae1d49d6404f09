//! 运维 — operations: what technicians and the service manager need around the core.
//!
//! - [`provision`] — register a terminal, store its credentials, create its data key and
//!   profile, all or nothing (`ykb-terminal provision`).
//! - [`selftest`] — exercise every configured device, the disk, the platform, the clock and
//!   the pinned CA; a report as a struct (`ykb-terminal selftest [--json]`).
//! - [`metrics`] — Prometheus text metrics over loopback only.
//! - [`agent`] — the service loop: heartbeats, metrics, systemd readiness and watchdog
//!   (`ykb-terminal agent`, run by `packaging/systemd/ykb-terminal.service`).
//! - [`probe`] — light device probes for the agent's heartbeat (printer status, device
//!   files present).
//! - [`sdnotify`] — the systemd notification protocol (one datagram per message).
//! - [`commands`] — executes the remote commands the heartbeat answer carries (verified and
//!   recorded by `core::commands`).
//! - [`diagnostics`] — the diagnostics export (no personal data).
//! - [`cert`] — the expiry date of a PEM certificate, for the self-test.
//! - [`update`] — signed, staged updates from the APT repository with a health check and
//!   rollback (the decision is `core::update`).
//! - [`update_health`] — the built-in health check after an install (`update health`): the
//!   kiosk's first frame of the new version and an acknowledged heartbeat.
//! - [`rollout`] — the agent's update duty: the heartbeat's rollout, only between citizens,
//!   audited, reported on the next heartbeat.
//! - [`fleet_sim`] — many terminals against the platform simulator through an outage, in
//!   virtual time (`ykb-terminal fleet-sim`).
//!
//! Everything here calls the core's public API; nothing here knows Slint.

pub mod agent;
pub mod cert;
pub mod commands;
pub mod diagnostics;
pub mod fleet_sim;
pub mod hall_outbox;
pub mod metrics;
pub mod probe;
pub mod provision;
pub mod rollout;
pub mod sdnotify;
pub mod selftest;
pub mod update;
pub mod update_health;
