//! Vendor mode: the host terminal's maintenance application asks every registered
//! application to let go of the devices before it takes them.
//!
//! We register (`VendorMode.Register`); the service then sends `EnterModeRequestEvent`; we end
//! the citizen's session cleanly and acknowledge (`VendorMode.EnterModeAcknowledge`); once all
//! have, the service says `ModeEnteredEvent` (the screen says the terminal is in maintenance).
//! Leaving is the same with `ExitModeRequestEvent`, `ExitModeAcknowledge`, `ModeExitedEvent`
//! (we resume). After a reconnect the watch registers again by itself.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use super::client::{ClientConfig, ServiceClient, ServiceEvent};
use super::error::Xfs4IotError;
use super::tracker::Command;

/// A vendor-mode change the app must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VendorModeEvent {
    /// The host wants to enter vendor mode: end the session, then [`VendorModeWatch::acknowledge_enter`].
    EnterRequested,
    /// Vendor mode is active: show the maintenance screen.
    Entered,
    /// The host wants to leave: [`VendorModeWatch::acknowledge_exit`] when ready.
    ExitRequested,
    /// Vendor mode ended: resume.
    Exited,
    /// The connection to the service dropped (it reconnects by itself).
    ConnectionLost,
}

/// Watches the host's `VendorMode` service for one application.
pub struct VendorModeWatch {
    client: ServiceClient,
    events: Receiver<ServiceEvent>,
    app_name: String,
}

impl VendorModeWatch {
    /// Connects to the VendorMode service at `uri` and registers as `app_name`.
    pub fn register(uri: &str, app_name: &str, config: ClientConfig) -> Result<Self, Xfs4IotError> {
        let client = ServiceClient::connect(uri, config)?;
        let events = client.subscribe();
        let w = Self {
            client,
            events,
            app_name: app_name.to_string(),
        };
        w.send_register()?;
        Ok(w)
    }

    fn send_register(&self) -> Result<(), Xfs4IotError> {
        self.client
            .call(
                Command::new("VendorMode.Register")
                    .with("appName", self.app_name.as_str())
                    .timeout(Duration::from_secs(5)),
            )
            .map(|_| ())
    }

    /// The next change, waiting at most `timeout`.
    pub fn next_event(&self, timeout: Duration) -> Option<VendorModeEvent> {
        let end = std::time::Instant::now() + timeout;
        loop {
            let left = end.saturating_duration_since(std::time::Instant::now());
            let ev = match self.events.recv_timeout(left) {
                Ok(ev) => ev,
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                    return None
                }
            };
            match ev {
                ServiceEvent::Unsolicited { name, .. } => match name.as_str() {
                    "VendorMode.EnterModeRequestEvent" => {
                        return Some(VendorModeEvent::EnterRequested)
                    }
                    "VendorMode.ModeEnteredEvent" => return Some(VendorModeEvent::Entered),
                    "VendorMode.ExitModeRequestEvent" => {
                        return Some(VendorModeEvent::ExitRequested)
                    }
                    "VendorMode.ModeExitedEvent" => return Some(VendorModeEvent::Exited),
                    _ => {}
                },
                ServiceEvent::Disconnected(_) => return Some(VendorModeEvent::ConnectionLost),
                // A new connection is a new registration.
                ServiceEvent::Connected => {
                    let _ = self.send_register();
                }
                ServiceEvent::Status(_) => {}
            }
        }
    }

    /// Our session has ended: the host may enter vendor mode.
    pub fn acknowledge_enter(&self) -> Result<(), Xfs4IotError> {
        self.client
            .call(Command::new("VendorMode.EnterModeAcknowledge").timeout(Duration::from_secs(5)))
            .map(|_| ())
    }

    /// We are ready to resume: the host may leave vendor mode.
    pub fn acknowledge_exit(&self) -> Result<(), Xfs4IotError> {
        self.client
            .call(Command::new("VendorMode.ExitModeAcknowledge").timeout(Duration::from_secs(5)))
            .map(|_| ())
    }
}
