//! The host's vendor mode (XFS4IoT `VendorMode`, bank and post office terminals): the host's
//! maintenance application asks every application to let go of the devices. The session
//! ends at once — everything personal wiped through [`Session::wipe`] — and only then is the
//! host told it may enter; while vendor mode lasts the screen says 「设备维护中」 and takes
//! nothing (no touch, card or code reaches a service); when the host leaves, the kiosk
//! resumes at home. The loop carries the host's news in as [`Event::VendorMode`] and the
//! acknowledgements out as [`Effect::AcknowledgeVendorMode`]; everything is decided here.

use ykb_drivers::xfs4iot::VendorModeEvent;

use super::{Effect, Event, Outcome, Screen, Session};

/// Where the host's vendor mode stands, as this kiosk knows it (kept by every wipe).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum VendorPhase {
    /// The kiosk serves citizens.
    #[default]
    Off,
    /// The host asked to enter; our session is ended and the host told so.
    Entering,
    /// The host's maintenance application has the devices.
    Active,
    /// The host asked to leave; told we are ready.
    Exiting,
}

/// What the maintenance screen says while the host has the devices.
pub const VENDOR_TITLE: &str = "设备维护中";
/// The line under it.
pub const VENDOR_DETAIL: &str = "本机设备正在由工作人员维护，暂停办理业务，请稍候或到柜台办理";

impl Session {
    /// The host's vendor mode changed.
    pub(super) fn on_vendor_mode(&mut self, change: VendorModeEvent) -> Outcome {
        match change {
            VendorModeEvent::EnterRequested => {
                // End the citizen's session first; the acknowledgement follows the wipe.
                self.wipe();
                self.vendor = VendorPhase::Entering;
                self.effects
                    .push_back(Effect::AcknowledgeVendorMode { enter: true });
                Outcome::Wiped
            }
            VendorModeEvent::Entered => {
                let was_serving = self.vendor == VendorPhase::Off;
                if was_serving {
                    // Entered without asking us (we registered late): end the session now.
                    self.wipe();
                }
                self.vendor = VendorPhase::Active;
                if was_serving {
                    Outcome::Wiped
                } else {
                    Outcome::Changed
                }
            }
            VendorModeEvent::ExitRequested => {
                if self.vendor == VendorPhase::Off {
                    // Nothing of ours to resume, but the host waits for every application.
                    self.effects
                        .push_back(Effect::AcknowledgeVendorMode { enter: false });
                    return Outcome::None;
                }
                self.vendor = VendorPhase::Exiting;
                self.effects
                    .push_back(Effect::AcknowledgeVendorMode { enter: false });
                Outcome::Changed
            }
            VendorModeEvent::Exited => {
                if self.vendor == VendorPhase::Off {
                    return Outcome::None;
                }
                self.vendor = VendorPhase::Off;
                self.open(Screen::Home);
                Outcome::Changed
            }
            // The watch reconnects and registers again by itself; what we knew stands.
            VendorModeEvent::ConnectionLost => Outcome::None,
        }
    }

    /// Whether the host holds (or is taking, or giving back) the devices: the screen says
    /// 「设备维护中」 and no service is offered.
    pub fn in_vendor_mode(&self) -> bool {
        self.vendor != VendorPhase::Off
    }

    /// Where the host's vendor mode stands.
    pub fn vendor_phase(&self) -> VendorPhase {
        self.vendor
    }

    /// Whether `event` may reach the session while the host has the devices: the clock,
    /// device states, operations' switches, the host's own news and the answer of a PIN
    /// check already running (it only counts against the throttle).
    pub(super) fn passes_vendor_mode(&self, event: &Event) -> bool {
        !self.in_vendor_mode()
            || matches!(
                event,
                Event::Tick
                    | Event::VendorMode(_)
                    | Event::DeviceHealth { .. }
                    | Event::Operations { .. }
                    | Event::TechnicianPinChecked { .. }
            )
    }
}
