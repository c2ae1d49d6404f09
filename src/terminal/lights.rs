//! 指示灯 — the guidance lights of a host terminal (XFS4IoT `Lights`): the light of the slot
//! the citizen must use flashes, the others are off. The kiosk says which (the session's
//! `guide_light`); a thread of its own sets it, so a silent or failing service never holds
//! the screen. Only the newest wish counts; a failure is logged by kind and the next change
//! tries again (an unreachable service is retried each second).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use ykb_drivers::xfs4iot::{ClientConfig, Guide, Xfs4IotLights};

use super::thread::DeviceThread;
use crate::core::config::DeviceSection;

/// The host's guidance lights, driven from their own thread.
pub struct GuideLights {
    wanted: Sender<Option<Guide>>,
    _thread: DeviceThread,
}

impl GuideLights {
    /// Starts the lights of the slot (`driver = "xfs4iot"`, the `Lights` service URI);
    /// `Ok(None)` when none is fitted. All lights are turned off first.
    pub fn start(dev: &DeviceSection) -> Result<Option<Self>, String> {
        if !super::slots::is_xfs4iot(dev) {
            return Ok(None);
        }
        let uri = dev.path.clone();
        let (wanted, rx) = std::sync::mpsc::channel();
        let thread = DeviceThread::spawn("kiosk-lights", move |stop| run(&uri, stop, &rx))?;
        let lights = Self {
            wanted,
            _thread: thread,
        };
        lights.show(None);
        Ok(Some(lights))
    }

    /// Flashes the light of `on` (`None`: all off). Never waits.
    pub fn show(&self, on: Option<Guide>) {
        let _ = self.wanted.send(on);
    }
}

fn run(uri: &str, stop: &AtomicBool, wishes: &Receiver<Option<Guide>>) {
    let mut lights: Option<Xfs4IotLights> = None;
    let mut pending: Option<Option<Guide>> = None;
    while !stop.load(Ordering::Relaxed) {
        let wait = if pending.is_some() {
            Duration::from_secs(1)
        } else {
            Duration::from_millis(200)
        };
        match wishes.recv_timeout(wait) {
            Ok(w) => pending = Some(w),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        // Only the newest wish counts.
        while let Ok(w) = wishes.try_recv() {
            pending = Some(w);
        }
        let Some(want) = pending else {
            continue;
        };
        let l = match &lights {
            Some(l) => l,
            None => match Xfs4IotLights::connect(uri, ClientConfig::default()) {
                Ok(l) => lights.insert(l),
                Err(e) => {
                    tracing::warn!(kind = ?e.kind(), error = %e, "guidance lights unreachable");
                    continue;
                }
            },
        };
        if let Err(e) = l.guide(want) {
            tracing::warn!(kind = ?e.kind(), error = %e, "guidance light not set");
        }
        pending = None;
    }
}
