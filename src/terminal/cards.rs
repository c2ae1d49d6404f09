//! 身份核验 — the ID-card reader as the kiosk sees it. The real `IdCardReader` driver runs
//! on its own thread; for the demo profile (`driver = "simulated"`) it talks to the drivers'
//! ID-card emulator on a pseudo-terminal, with a demo card that is placed on request. Results
//! go to a callback (which posts them to the UI thread); the card's text becomes a [`Person`]
//! in `core::domain::person`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ykb_drivers::idcard::{IdCardError, IdCardReader, IdReader, ServiceConfig};
use ykb_drivers::link::SerialConnector;
use ykb_drivers::sim::idcard::{CardFile, IdCardSim};
use ykb_drivers::{DeviceState, ErrorKind};

use crate::core::config::{DeviceSection, DriverKind};
use crate::core::domain::{
    card_expiry, person_from_card, person_from_text, CardError, CardExpiry, Person,
};

/// The fictional card the demo places (drivers' test data).
const DEMO_CARD: &str = include_str!("../../drivers/tests/data/resident-li-zhe.toml");

/// How long one read waits for a card before the thread checks whether to stop.
const READ_SLICE: Duration = Duration::from_secs(1);

/// What the reader thread reports.
#[derive(Debug, Clone)]
pub enum CardOutcome {
    Read(Person),
    Error(CardError),
    /// The reader works again after a device error.
    Ready,
    /// The card that was read has left the reader (the citizen took it back).
    Removed,
}

/// The person on the demo card (the demo's 渝快码 identifies the same fictional citizen).
pub fn demo_person() -> Option<Person> {
    let card = toml::from_str::<CardFile>(DEMO_CARD)
        .ok()?
        .into_card("demo", std::path::Path::new("."))
        .ok()?;
    let text = ykb_drivers::idcard::text::decode_text(&card.text).ok()?;
    person_from_text(&text, card.appended_address.as_deref()).ok()
}

/// 人证核验 — the seam for face verification (a later issue). When the kiosk has a verifier
/// (`Kiosk::set_face_verifier`), a person read from a card or a 渝快码 counts as identified
/// only after it says the face in front of the camera matches; without one (today's default)
/// the card or code alone identifies. Called on a worker thread with one camera frame, which
/// is dropped afterwards.
pub trait FaceVerifier: Send + Sync {
    /// Whether the face in `frame` is `person`'s; `Err` says why it could not tell.
    fn verify(&self, person: &Person, frame: &image::RgbImage) -> Result<bool, String>;
}

/// The camera facing the citizen for 人证核验: the camera, else the document camera;
/// `simulated` is the drivers' test pattern.
pub fn face_camera(camera: &DeviceSection, document_camera: &DeviceSection) -> Option<String> {
    crate::terminal::camera::first_camera([camera, document_camera], Some("pattern:640x480"))
}

/// Takes one frame from `source` and asks `verifier`, on a worker thread; `done` gets the
/// answer.
pub fn verify_face(
    verifier: std::sync::Arc<dyn FaceVerifier>,
    source: Option<String>,
    person: Person,
    done: impl FnOnce(Person, Result<bool, String>) + Send + 'static,
) {
    let spawned = std::thread::Builder::new()
        .name("face-check".into())
        .spawn(move || {
            let answer = source
                .ok_or_else(|| "本机没有摄像头".to_owned())
                .and_then(|s| {
                    ykb_drivers::camera::open_source(&s)
                        .and_then(|mut c| c.next_frame())
                        .map_err(|e| e.describe_zh().to_owned())
                })
                .and_then(|frame| verifier.verify(&person, &frame));
            done(person, answer);
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "face check not started");
    }
}

/// Which card error the citizen is told about.
fn card_error(e: &IdCardError) -> CardError {
    match e.kind() {
        ErrorKind::User => CardError::Replace,
        _ => CardError::Device,
    }
}

/// A `simulated` reader slot (the demo's, whatever the profile says).
fn simulated_slot() -> DeviceSection {
    DeviceSection {
        driver: DriverKind::Simulated,
        path: String::new(),
        baud: None,
        roll_length_mm: None,
    }
}

/// A running reader (and, in the demo, its emulator).
pub struct CardService {
    /// Field order matters: the reader thread stops before the emulator goes.
    _thread: crate::terminal::thread::DeviceThread,
    sim: Option<IdCardSim>,
}

impl CardService {
    /// Starts the emulator with the demo card lifted, and the real driver on its pty.
    pub fn start_demo(report: impl Fn(CardOutcome) + Send + 'static) -> Result<Self, String> {
        Self::start_demo_with_expiry(move |outcome, _| report(outcome))
    }

    /// [`Self::start_demo`], also reporting each read card's expiry (when it has one).
    pub fn start_demo_with_expiry(
        report: impl Fn(CardOutcome, Option<CardExpiry>) + Send + 'static,
    ) -> Result<Self, String> {
        Self::start_with_expiry(&simulated_slot(), report)?
            .ok_or_else(|| "读卡器模拟器未启动".to_owned())
    }

    /// Starts the real driver on the profile's reader (`sam-serial` at `path`), or the demo
    /// for `simulated`; `None` for `none`.
    pub fn start(
        dev: &DeviceSection,
        report: impl Fn(CardOutcome) + Send + 'static,
    ) -> Result<Option<Self>, String> {
        Self::start_with_expiry(dev, move |outcome, _| report(outcome))
    }

    /// [`Self::start`], also reporting each read card's expiry (when it has one).
    pub fn start_with_expiry(
        dev: &DeviceSection,
        report: impl Fn(CardOutcome, Option<CardExpiry>) + Send + 'static,
    ) -> Result<Option<Self>, String> {
        let Some(slot) = super::slots::id_reader(dev, DEMO_CARD)? else {
            return Ok(None);
        };
        let connector = slot.connector();
        Self::spawn(slot.sim, connector, report).map(Some)
    }

    fn spawn(
        sim: Option<IdCardSim>,
        connector: SerialConnector,
        report: impl Fn(CardOutcome, Option<CardExpiry>) + Send + 'static,
    ) -> Result<Self, String> {
        let thread = crate::terminal::thread::DeviceThread::spawn("kiosk-idcard", move |stop| {
            let reader = IdCardReader::spawn(connector, ServiceConfig::default());
            read_loop(&reader, stop, &report);
        })?;
        Ok(Self {
            _thread: thread,
            sim,
        })
    }

    /// Whether there is a demo card to place (the "放置演示身份证" control).
    pub fn is_demo(&self) -> bool {
        self.sim.is_some()
    }

    /// Demo: puts the demo card on the reader.
    pub fn place_demo_card(&self) {
        if let Some(sim) = &self.sim {
            if let Err(e) = sim.control("place") {
                tracing::warn!(error = %e, "demo card could not be placed");
            }
        }
    }

    /// Demo: takes the card off the reader (after a read, or "不是本人/更换").
    pub fn lift_demo_card(&self) {
        if let Some(sim) = &self.sim {
            let _ = sim.control("lift");
        }
    }
}

fn read_loop(
    reader: &IdCardReader,
    stop: &AtomicBool,
    report: &dyn Fn(CardOutcome, Option<CardExpiry>),
) {
    let mut faulty = false;
    let events = reader.subscribe();
    while !stop.load(Ordering::Relaxed) {
        let result = reader.read_card(READ_SLICE).wait();
        // The reader notices a card leaving while it waits for the next one.
        if events
            .try_iter()
            .any(|e| e == ykb_drivers::idcard::ReaderEvent::CardRemoved)
        {
            report(CardOutcome::Removed, None);
        }
        match result {
            Ok(card) => {
                faulty = false;
                let outcome = match person_from_card(&card) {
                    Ok(p) => CardOutcome::Read(p),
                    Err(e) => CardOutcome::Error(e),
                };
                report(outcome, card_expiry(&card));
            }
            Err(IdCardError::NoCard(_)) => {
                if faulty && reader.state() == DeviceState::Online {
                    faulty = false;
                    report(CardOutcome::Ready, None);
                }
            }
            Err(IdCardError::Cancelled) => {}
            Err(e) => {
                let kind = card_error(&e);
                // While the link comes up after start, the reader is not yet faulty.
                if kind == CardError::Device && reader.state() == DeviceState::Starting {
                    std::thread::sleep(Duration::from_millis(200));
                    continue;
                }
                tracing::info!(error = %e, "ID card read failed");
                faulty = kind == CardError::Device;
                report(CardOutcome::Error(kind), None);
                if faulty {
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
        }
    }
}
