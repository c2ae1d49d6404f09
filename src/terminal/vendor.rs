//! The host terminal's vendor mode (XFS4IoT `VendorMode`), watched from a thread of its own:
//! registered as this application, every change is handed to the app (which decides, in its
//! session, what to do) and the acknowledgements it asks for are sent from here, so a
//! silent service never holds the screen. An unreachable service is tried again every two
//! seconds; after a dropped connection the drivers' watch registers again by itself.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::time::Duration;

use ykb_drivers::xfs4iot::{ClientConfig, VendorModeEvent, VendorModeWatch};

use super::thread::DeviceThread;
use crate::core::config::DeviceSection;

/// The name this terminal registers with the host's vendor mode.
pub const APP_NAME: &str = "ykb-terminal";

/// The watch on the host's vendor mode.
pub struct VendorService {
    acks: Sender<bool>,
    _thread: DeviceThread,
}

impl VendorService {
    /// Watches the slot's `VendorMode` service (`driver = "xfs4iot"`); `Ok(None)` when the
    /// profile has none. `report` gets every change, on the watch's thread.
    pub fn start(
        dev: &DeviceSection,
        report: impl Fn(VendorModeEvent) + Send + 'static,
    ) -> Result<Option<Self>, String> {
        if !super::slots::is_xfs4iot(dev) {
            return Ok(None);
        }
        let uri = dev.path.clone();
        let (acks, rx) = std::sync::mpsc::channel();
        let thread = DeviceThread::spawn("kiosk-vendor-mode", move |stop| {
            run(&uri, stop, &rx, &report)
        })?;
        Ok(Some(Self {
            acks,
            _thread: thread,
        }))
    }

    /// Tells the host we are ready for it to enter (`enter`) or leave vendor mode. Never
    /// waits.
    pub fn acknowledge(&self, enter: bool) {
        let _ = self.acks.send(enter);
    }
}

fn run(uri: &str, stop: &AtomicBool, acks: &Receiver<bool>, report: &impl Fn(VendorModeEvent)) {
    let mut watch: Option<VendorModeWatch> = None;
    while !stop.load(Ordering::Relaxed) {
        let w = match &watch {
            Some(w) => w,
            None => match VendorModeWatch::register(uri, APP_NAME, ClientConfig::default()) {
                Ok(w) => watch.insert(w),
                Err(e) => {
                    tracing::warn!(kind = ?e.kind(), error = %e, "host vendor mode unreachable");
                    for _ in 0..10 {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(200));
                    }
                    continue;
                }
            },
        };
        while let Ok(enter) = acks.try_recv() {
            let sent = if enter {
                w.acknowledge_enter()
            } else {
                w.acknowledge_exit()
            };
            if let Err(e) = sent {
                tracing::warn!(kind = ?e.kind(), error = %e, enter, "vendor mode not acknowledged");
            }
        }
        if let Some(change) = w.next_event(Duration::from_millis(200)) {
            tracing::info!(?change, "host vendor mode");
            report(change);
        }
    }
}
