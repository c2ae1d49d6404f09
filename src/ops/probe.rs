//! 设备巡检 — light device probes for the agent's heartbeat, cheap enough to run every beat
//! and careful not to take a device away from the kiosk that uses it.
//!
//! - The printer is asked for its status through the real driver (`DLE EOT 1/2/4`, a few
//!   bytes, as `ykb-terminal printer status` does): state and paper level.
//! - Any other real device is only looked for: a device path that is gone means the device
//!   is unplugged (`no_device`); when it is there, the last known state stands (from the
//!   self-test or an earlier probe), because opening a serial reader or a camera the kiosk
//!   holds would disturb a citizen's session.
//! - `simulated` slots run their emulators inside whichever process uses them, so the agent
//!   keeps their last known state (from the self-test).
//! - Under the shipped systemd sandbox (`PrivateDevices=yes`) or in a container, `/dev` is
//!   a private tmpfs without the terminal's devices: then a missing device file says nothing,
//!   device-file printers are not opened, and the last known states stand — as the kiosk,
//!   which holds the devices, records them; network printers are still asked
//!   ([`devices_visible`]).
//!
//! Only what a probe saw itself is recorded in the store (`health::record_devices`): the
//! agent never writes a last known state back, which would overwrite what the kiosk
//! recorded meanwhile and make an old state look new. Every heartbeat carries the last
//! known state of each fitted slot, read after that ([`fitted`]).

use std::collections::BTreeMap;
use std::path::Path;

use ykb_drivers::escpos::{PaperState, Printer, PrinterUri};
use ykb_drivers::DeviceState;

use crate::core::config::{DeviceSection, DevicesSection, DriverKind};
use crate::core::health::DeviceHealth;

/// The configured slots of a profile, by their stable names.
pub fn slots(d: &DevicesSection) -> [(&'static str, &DeviceSection); 5] {
    [
        ("id_reader", &d.id_reader),
        ("printer", &d.printer),
        ("scanner", &d.scanner),
        ("camera", &d.camera),
        ("document_camera", &d.document_camera),
    ]
}

/// The device file behind a configured path, when it names one (`/dev/…`,
/// `serial:///dev/…?baud=…`); `None` for network and other URIs.
pub fn device_file(path: &str) -> Option<&Path> {
    let p = path.strip_prefix("serial://").unwrap_or(path);
    let p = p.split('?').next().unwrap_or(p);
    p.starts_with('/').then(|| Path::new(p))
}

/// Whether this process sees the machine's devices: `/dev` is the kernel's `devtmpfs`, not
/// a private tmpfs (systemd `PrivateDevices=yes`, containers). Unknown counts as not.
pub fn devices_visible() -> bool {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    // The last mount on /dev wins; its file-system type follows " - ".
    info.lines()
        .filter(|l| l.split(' ').nth(4) == Some("/dev"))
        .filter_map(|l| l.split(" - ").nth(1)?.split(' ').next())
        .next_back()
        .is_some_and(|fs| fs == "devtmpfs")
}

fn printer_status(path: &str) -> DeviceHealth {
    let offline = DeviceHealth {
        state: DeviceState::Offline,
        paper: Some(PaperState::Unknown),
    };
    let Ok(uri) = PrinterUri::parse(path) else {
        return offline;
    };
    match Printer::open(&uri).and_then(|mut p| p.status()) {
        Ok(s) => DeviceHealth {
            state: s.state,
            paper: Some(s.paper),
        },
        Err(e) => {
            tracing::debug!(error = %e, "printer probe");
            offline
        }
    }
}

/// Probes every configured slot and returns what the probes **saw themselves** this time —
/// the states to record; `known` (the last known states) tells a device seen again from one
/// still present. A slot the probes cannot look at (a `simulated` one, a device file in a
/// sandbox, a device present and not opened) is left out, so recording the result never
/// overwrites a fresher state another process recorded meanwhile (the kiosk, which holds
/// the devices), nor makes an old state look new. `see_devices` from [`devices_visible`].
/// Blocking (the printer's status takes up to a few seconds when it does not answer): run
/// it off the async threads.
pub fn probe(
    devices: &DevicesSection,
    known: &BTreeMap<String, DeviceHealth>,
    see_devices: bool,
) -> BTreeMap<String, DeviceHealth> {
    let mut out = BTreeMap::new();
    for (slot, dev) in slots(devices) {
        let last = known.get(slot).copied();
        let file = device_file(&dev.path);
        let missing = file.is_some_and(|p| !p.exists());
        let unplugged = DeviceHealth {
            state: DeviceState::NoDevice,
            paper: (slot == "printer").then_some(PaperState::Unknown),
        };
        let seen = match dev.driver {
            DriverKind::None | DriverKind::Simulated => None,
            // Blind to device files: only network printers can be asked.
            DriverKind::Escpos if !see_devices && file.is_none() => Some(printer_status(&dev.path)),
            _ if !see_devices => None,
            _ if missing => Some(unplugged),
            DriverKind::Escpos => Some(printer_status(&dev.path)),
            // Plugged in again after being seen unplugged (or never seen): present, not yet
            // tested. Otherwise the last known state stands, as whoever saw it recorded it.
            _ => match last {
                Some(h) if h.state != DeviceState::NoDevice => None,
                _ => Some(DeviceHealth {
                    state: DeviceState::Online,
                    paper: None,
                }),
            },
        };
        if let Some(h) = seen {
            out.insert(slot.to_owned(), h);
        }
    }
    out
}

/// The states a heartbeat carries: the last known state of every fitted slot (`known`, read
/// after the probes' own were recorded).
pub fn fitted(
    devices: &DevicesSection,
    known: &BTreeMap<String, DeviceHealth>,
) -> BTreeMap<String, DeviceHealth> {
    slots(devices)
        .into_iter()
        .filter(|(_, d)| d.driver != DriverKind::None)
        .filter_map(|(slot, _)| known.get(slot).map(|h| (slot.to_owned(), *h)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(driver: DriverKind, path: &str) -> DeviceSection {
        DeviceSection {
            driver,
            path: path.into(),
            baud: None,
            roll_length_mm: None,
        }
    }

    #[test]
    fn device_files_are_found_in_paths_and_uris() {
        assert_eq!(
            device_file("serial:///dev/ttyUSB0?baud=9600"),
            Some(Path::new("/dev/ttyUSB0"))
        );
        assert_eq!(
            device_file("/dev/v4l/by-id/cam"),
            Some(Path::new("/dev/v4l/by-id/cam"))
        );
        assert_eq!(device_file("tcp://127.0.0.1:9100"), None);
        assert_eq!(device_file(""), None);
    }

    #[test]
    fn unplugged_present_simulated_and_unfitted_slots() {
        let dir = tempfile::tempdir().unwrap();
        let present = dir.path().join("ttyFAKE");
        std::fs::write(&present, b"").unwrap();
        let devices = DevicesSection {
            id_reader: dev(DriverKind::SamSerial, "/dev/serial/by-id/ykb-not-here"),
            printer: dev(DriverKind::None, ""),
            scanner: dev(DriverKind::SerialScanner, &present.display().to_string()),
            camera: dev(DriverKind::Simulated, ""),
            document_camera: dev(DriverKind::V4l2, &present.display().to_string()),
            document_printer: DeviceSection::none(),
            lights: DeviceSection::none(),
            vendor_mode: DeviceSection::none(),
        };
        let mut known = BTreeMap::new();
        let fault = DeviceHealth {
            state: DeviceState::HardwareError,
            paper: None,
        };
        known.insert("scanner".to_owned(), fault);
        known.insert(
            "camera".to_owned(),
            DeviceHealth {
                state: DeviceState::Online,
                paper: None,
            },
        );
        known.insert(
            "document_camera".to_owned(),
            DeviceHealth {
                state: DeviceState::NoDevice,
                paper: None,
            },
        );
        let seen = probe(&devices, &known, true);
        assert_eq!(seen["id_reader"].state, DeviceState::NoDevice);
        assert!(!seen.contains_key("printer"), "not fitted: not reported");
        assert!(
            !seen.contains_key("scanner"),
            "present: nothing new seen, the last known state is not written again"
        );
        assert!(!seen.contains_key("camera"), "simulated: not probed");
        assert_eq!(
            seen["document_camera"].state,
            DeviceState::Online,
            "plugged in again"
        );
        // What the heartbeat carries: the last known states (the probes' own recorded).
        let mut after = known.clone();
        after.extend(seen);
        let beat = fitted(&devices, &after);
        assert_eq!(
            beat["scanner"], fault,
            "present: the last known state stands"
        );
        assert_eq!(
            beat["camera"], known["camera"],
            "simulated: last known state"
        );
        assert!(!beat.contains_key("printer"), "not fitted: not reported");

        // Sandboxed (a private /dev): a missing file proves nothing, nothing is seen, and
        // the heartbeat carries the last known states as recorded.
        let blind = probe(&devices, &known, false);
        assert!(blind.is_empty(), "{blind:?}");
        let beat = fitted(&devices, &known);
        assert!(!beat.contains_key("id_reader"), "never seen, not guessed");
        assert_eq!(beat["scanner"], fault);
        assert_eq!(beat["document_camera"], known["document_camera"]);
    }

    #[test]
    fn this_machine_s_dev_is_classified() {
        // Whatever the answer here, it must agree with the mount table.
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let devtmpfs = info
            .lines()
            .any(|l| l.split(' ').nth(4) == Some("/dev") && l.contains(" - devtmpfs "));
        let private = info
            .lines()
            .any(|l| l.split(' ').nth(4) == Some("/dev") && l.contains(" - tmpfs "));
        if devtmpfs && !private {
            assert!(devices_visible());
        }
        if private && !devtmpfs {
            assert!(!devices_visible());
        }
    }
}
