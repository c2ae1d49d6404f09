//! Services follow device health: each home tile that ends at a device declares the slots it
//! needs ([`Service::needs`]); while one of them is `offline`, `hardware_error` or
//! `no_device` (or the printer has no paper), the tile says why in words and does not open,
//! and the next good report from the device opens it again — no restart. The loop reports
//! every device state it sees (`Event::DeviceHealth`); what is decided here is pure.

use std::collections::BTreeMap;

use ykb_drivers::escpos::PaperState;
use ykb_drivers::DeviceState;

use super::{Outcome, Screen, Session};
use crate::core::health::DeviceHealth;

/// A home service that needs a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// 取号: the ticket is printed.
    Tickets,
    /// 刷身份证: the ID-card reader (the tile says when it is down; the page still takes a
    /// 渝快码).
    Identify,
}

impl Service {
    /// The device slots it needs.
    pub fn needs(self) -> &'static [&'static str] {
        match self {
            Self::Tickets => &["printer"],
            Self::Identify => &["id_reader"],
        }
    }

    /// The service a screen opens that a down device closes. Identify stays open with the
    /// reader down: the page also takes a 渝快码 (its tile says so).
    fn of(screen: &Screen) -> Option<Self> {
        match screen {
            Screen::Tickets => Some(Self::Tickets),
            _ => None,
        }
    }
}

/// Why `slot` in `health` cannot serve `service`, in words for the citizen.
fn reason(service: Service, slot: &str, health: &DeviceHealth) -> Option<&'static str> {
    let down = matches!(
        health.state,
        DeviceState::Offline | DeviceState::HardwareError | DeviceState::NoDevice
    );
    match (service, slot) {
        (Service::Tickets, "printer") => {
            if matches!(health.paper, Some(PaperState::Out)) {
                Some("打印机缺纸，暂不能取号，请到服务台")
            } else if matches!(health.paper, Some(PaperState::Jammed)) {
                Some("打印机卡纸，暂不能取号，请到服务台")
            } else if down {
                Some("打印机故障，暂不能取号，请到服务台")
            } else {
                None
            }
        }
        (Service::Identify, "id_reader") if down => Some("身份证阅读器故障，请用渝快码或到服务台"),
        _ if down => Some("设备故障，暂不能办理，请到服务台"),
        _ => None,
    }
}

/// The last state the loop reported for each slot (not personal; kept by every wipe).
pub(super) type DeviceStates = BTreeMap<String, DeviceHealth>;

impl Session {
    /// A device showed its state: a tile that needs it closes or opens again.
    pub(super) fn on_device_health(&mut self, slot: String, health: DeviceHealth) -> Outcome {
        let before = [Service::Tickets, Service::Identify].map(|s| self.blocked(s));
        self.devices.insert(slot, health);
        let after = [Service::Tickets, Service::Identify].map(|s| self.blocked(s));
        if before == after {
            Outcome::None
        } else {
            Outcome::Changed
        }
    }

    /// Why `service` cannot be offered now (the first needed slot that is down), if so.
    pub fn blocked(&self, service: Service) -> Option<&'static str> {
        service
            .needs()
            .iter()
            .find_map(|slot| reason(service, slot, self.devices.get(*slot)?))
    }

    /// Whether opening `screen` waits for a device that is down.
    pub(super) fn blocked_screen(&self, screen: &Screen) -> bool {
        Service::of(screen).is_some_and(|s| self.blocked(s).is_some())
    }
}

impl Session {
    /// The guidance light that should flash now (the host's `Lights`), given whether a job
    /// is at the receipt printer: the receipt exit while printing, the card reader while
    /// the identify page waits for a card, the document camera while a material is
    /// photographed; none otherwise (and none while the host has the devices).
    pub fn guide_light(&self, printing: bool) -> Option<ykb_drivers::xfs4iot::Guide> {
        use ykb_drivers::xfs4iot::Guide;
        if self.in_vendor_mode() {
            return None;
        }
        if printing {
            return Some(Guide::Receipt);
        }
        match self.current() {
            Screen::Identify if self.person.is_none() => Some(Guide::CardReader),
            Screen::Agent if self.person.is_none() => Some(Guide::CardReader),
            Screen::Capture if self.camera_wanted() => Some(Guide::Camera),
            _ => None,
        }
    }
}
