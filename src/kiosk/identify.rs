//! 身份核验 — the ID-card reader as the kiosk sees it. The real `IdCardReader` driver runs
//! on its own thread; for the demo profile (`driver = "simulated"`) it talks to the drivers'
//! ID-card emulator on a pseudo-terminal, with a demo card that is placed on request. Results
//! go to a callback (which posts them to the UI thread). Here an ID card's text becomes a
//! [`Person`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use ykb_drivers::idcard::{CardText, IdCard, IdCardError, IdCardReader, IdReader, ServiceConfig};
use ykb_drivers::link::SerialConnector;
use ykb_drivers::sim::idcard::{CardFile, IdCardSim};
use ykb_drivers::{DeviceState, ErrorKind};

use super::session::CardError;
use crate::core::domain::{IdNumber, Person};

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
}

/// The person on a resident ID card. Other card kinds (permits, foreigners' cards) are not
/// handled by the kiosk yet and read as "place another card".
pub fn person_from_card(card: &IdCard) -> Result<Person, CardError> {
    match &card.text {
        CardText::Resident(r) => {
            let id_number = IdNumber::parse(r.id_number.trim()).map_err(|_| CardError::Replace)?;
            Ok(Person {
                name: r.name.trim().to_owned(),
                id_number,
                address: card
                    .appended_address
                    .clone()
                    .unwrap_or_else(|| r.address.trim().to_owned()),
            })
        }
        _ => Err(CardError::Replace),
    }
}

/// 有效期止 — how long a card is valid, as far as the card says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardExpiry {
    /// Valid up to and including this day.
    On(jiff::civil::Date),
    /// 长期
    LongTerm,
}

/// The card's expiry, when its text has one that can be read (the counter's pre-review).
pub fn card_expiry(card: &IdCard) -> Option<CardExpiry> {
    use ykb_drivers::idcard::CardDate;
    let to = match &card.text {
        CardText::Resident(r) => &r.valid_to,
        _ => return None,
    };
    match to {
        CardDate::LongTerm => Some(CardExpiry::LongTerm),
        CardDate::Date { year, month, day } => jiff::civil::Date::new(
            i16::try_from(*year).ok()?,
            i8::try_from(*month).ok()?,
            i8::try_from(*day).ok()?,
        )
        .ok()
        .map(CardExpiry::On),
        CardDate::Raw(_) => None,
    }
}

/// Which card error the citizen is told about.
fn card_error(e: &IdCardError) -> CardError {
    match e.kind() {
        ErrorKind::User => CardError::Replace,
        _ => CardError::Device,
    }
}

/// A running reader (and, in the demo, its emulator).
pub struct CardService {
    sim: Option<IdCardSim>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
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
        let card = toml::from_str::<CardFile>(DEMO_CARD)
            .map_err(|e| e.to_string())?
            .into_card("demo", std::path::Path::new("."))?;
        let sim =
            IdCardSim::with_cards(vec![card], None).map_err(|e| format!("无法打开伪终端：{e}"))?;
        let path = sim.path();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("kiosk-idcard".into())
            .spawn(move || {
                let reader = IdCardReader::spawn(
                    SerialConnector::new(path, 115_200),
                    ServiceConfig::default(),
                );
                read_loop(&reader, &flag, &report);
            })
            .map_err(|e| e.to_string())?;
        Ok(Self {
            sim: Some(sim),
            stop,
            thread: Some(thread),
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
    while !stop.load(Ordering::Relaxed) {
        match reader.read_card(READ_SLICE).wait() {
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

impl Drop for CardService {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
