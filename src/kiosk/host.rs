//! The host terminal's own services on a bank or post office terminal (XFS4IoT): the
//! guidance lights, which follow what the session says the citizen must use, and the host's
//! vendor mode, whose changes go to the session as events and whose acknowledgements come
//! back from it as effects. For the demo, the host itself is the drivers' XFS4IoT emulator
//! (`Terminal::start_xfs4iot_host`).

use super::*;
use crate::terminal::lights::GuideLights;
use crate::terminal::vendor::VendorService;

impl Kiosk {
    /// Starts the host's guidance lights and its vendor-mode watch, when the profile has
    /// them (`devices.lights`, `devices.vendor_mode`).
    pub fn start_host_services(&self) {
        let (lights, vendor, inbox) = {
            let st = self.state.borrow();
            let d = &st.terminal.core.profile.devices;
            (
                d.lights.clone(),
                d.vendor_mode.clone(),
                st.terminal.inbox.clone(),
            )
        };
        match GuideLights::start(&lights) {
            Ok(l) => self.state.borrow_mut().lights = l,
            Err(e) => tracing::warn!(error = %e, "guidance lights not started"),
        }
        match VendorService::start(&vendor, move |change| {
            inbox.post(Report::VendorMode(change))
        }) {
            Ok(v) => self.state.borrow_mut().vendor = v,
            Err(e) => tracing::warn!(error = %e, "vendor mode watch not started"),
        }
        self.render();
    }

    /// The demo's host terminal (the XFS4IoT emulator), when the profile's slots use it:
    /// tests and the demo read what it printed and make it scan or enter vendor mode.
    pub fn xfs4iot_host(&self) -> Option<ykb_drivers::sim::Xfs4IotShared> {
        let st = self.state.borrow();
        st.terminal
            .xfs4iot_host
            .as_ref()
            .map(|h| h.shared().clone())
    }

    /// The session is ready for the host to enter or leave vendor mode: tell it.
    pub(super) fn acknowledge_vendor_mode(&self, enter: bool) {
        match &self.state.borrow().vendor {
            Some(v) => v.acknowledge(enter),
            None => tracing::warn!(enter, "vendor mode acknowledged without a watch"),
        }
    }
}

/// The demo host's barcode reader, when the scanner slot is it: the demo "scans" there.
pub(super) fn host_scanner(st: &State) -> Option<ykb_drivers::sim::Xfs4IotShared> {
    let host = st.terminal.xfs4iot_host.as_ref()?;
    let scanner = &st.terminal.core.profile.devices.scanner;
    (scanner.path == host.service_uri("BarcodeReader")).then(|| host.shared().clone())
}

/// Sets the guidance light the session asks for, when it changed (never waits).
pub(super) fn sync_lights(st: &mut State) {
    let Some(lights) = &st.lights else {
        return;
    };
    let printing = st.printing_receipt || st.printing_licence;
    let wanted = st.session.guide_light(printing);
    if st.lit != Some(wanted) {
        st.lit = Some(wanted);
        lights.show(wanted);
    }
}
