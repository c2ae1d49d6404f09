//! The host terminal's own services on a bank or post office terminal (XFS4IoT): the
//! guidance lights, which follow what the session says the citizen must use, and the host's
//! vendor mode, whose changes go to the session as events and whose acknowledgements come
//! back from it as effects. For the demo, the host itself is the drivers' XFS4IoT emulator
//! (`Terminal::start_xfs4iot_host`).
//!
//! The other direction too: our own devices for other services through the local device
//! service (`terminal::devservice`). Its clients' requests go to the session as
//! [`Event::HostAsked`] (the consent, a host's errand), the session's answers come back as
//! `Effect::AnswerHost`; print jobs go to our receipt printer; every audit line it reports
//! is written here, on the UI thread's store.

use super::*;
use crate::core::audit::Actor;
use crate::terminal::devservice::{Asked, DeviceServiceNews, HostAnswer, LocalDeviceService};
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

    /// Starts the local device service when the profile has one (`[local_device_service]`).
    pub fn start_local_device_service(&self) {
        let (section, data_dir, inbox) = {
            let st = self.state.borrow();
            let core = &st.terminal.core;
            (
                core.profile.local_device_service.clone(),
                core.data_dir.clone(),
                st.terminal.inbox.clone(),
            )
        };
        match LocalDeviceService::start(section.as_ref(), &data_dir, move |news| {
            inbox.post_device_service(news)
        }) {
            Ok(service) => self.state.borrow_mut().devservice = service,
            Err(e) => tracing::error!(error = %e, "local device service not started"),
        }
    }

    /// Where the local device service listens, once started.
    pub fn local_device_service_addr(&self) -> Option<std::net::SocketAddr> {
        let st = self.state.borrow();
        st.devservice.as_ref().map(|d| d.local_addr())
    }

    /// What the local device service reported.
    pub(super) fn device_service_news(&self, news: DeviceServiceNews) {
        match news {
            DeviceServiceNews::Audit {
                client,
                action,
                detail,
            } => {
                let actor = client
                    .as_deref()
                    .and_then(|c| Actor::client(c).ok())
                    .unwrap_or_else(|| Actor::client("unknown").expect("a valid id"));
                self.state
                    .borrow_mut()
                    .terminal
                    .audit(&actor, action, &detail);
            }
            DeviceServiceNews::Asked(ask) => {
                let matter = match &ask.what {
                    Asked::StartErrand {
                        matter: Some(code), ..
                    } => {
                        let st = self.state.borrow();
                        st.terminal.core.catalog.matter(code).cloned().map(Box::new)
                    }
                    _ => None,
                };
                self.event(Event::HostAsked {
                    ask: Box::new(ask),
                    matter,
                });
            }
            DeviceServiceNews::Withdrawn(ticket) => self.event(Event::HostWithdrawn(ticket)),
            DeviceServiceNews::Print { ticket, receipt } => {
                let st = self.state.borrow();
                let Some(service) = st.devservice.as_ref().map(|d| d.handle()) else {
                    return;
                };
                match &st.terminal.printer {
                    Some(p) => p.print(receipt, move |result, _| service.printed(ticket, result)),
                    None => service.printed(ticket, Err("本机没有收据打印机".into())),
                }
            }
        }
    }

    /// The session's answer to a client.
    pub(super) fn answer_host(&self, ticket: u64, answer: HostAnswer) {
        match &self.state.borrow().devservice {
            Some(d) => d.handle().answer(ticket, answer),
            None => tracing::warn!("an answer for the local device service without one"),
        }
    }

    /// The citizen agreed to a client's picture: one still from the document camera, on a
    /// worker thread, goes straight to that client (this session never holds it).
    pub(super) fn take_host_picture(&self, ticket: u64) {
        let (service, source) = {
            let st = self.state.borrow();
            let d = &st.terminal.core.profile.devices;
            (
                st.devservice.as_ref().map(|d| d.handle()),
                crate::terminal::camera::camera_source(&d.document_camera, &d.camera),
            )
        };
        let Some(service) = service else {
            return;
        };
        let spawned = std::thread::Builder::new()
            .name("host-picture".into())
            .spawn({
                let service = service.clone();
                move || {
                    let answer = match source.and_then(|s| crate::terminal::camera::take_still(&s))
                    {
                        Ok(jpeg) => HostAnswer::Picture(jpeg),
                        Err(e) => {
                            tracing::warn!(error = %e, "picture for a device service client");
                            HostAnswer::Refused(crate::terminal::devservice::Refused::DeviceFailed)
                        }
                    };
                    service.answer(ticket, answer);
                }
            });
        if spawned.is_err() {
            service.answer(
                ticket,
                HostAnswer::Refused(crate::terminal::devservice::Refused::DeviceFailed),
            );
        }
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
