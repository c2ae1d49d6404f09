//! ID-card reader emulator: a SAM module answering GA/T 467 frames byte for byte, with cards
//! from TOML files, place/lift on command, and faults on demand.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::pty::{byte_time, PtyDevice, WireDevice};
use crate::idcard::card::encode_read_payload;
use crate::idcard::frame::{FrameDecoder, FrameError, PREAMBLE};
use crate::idcard::nation::nation_code;
use crate::idcard::sam::{SamCommand, SamReply};
use crate::idcard::text::{
    encode_text, CardDate, CardText, ForeignPermanent2017Text, ForeignPermanent2023Text,
    HkMoTwPermitText, ResidentText, Sex, TEXT_LEN,
};

/// A card described in a TOML file (see `drivers/tests/data/*.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardFile {
    /// `resident`, `hk_mo_tw_permit`, `foreign_permanent_2017` or `foreign_permanent_2023`.
    pub kind: String,
    /// Chinese name.
    #[serde(default)]
    pub name: String,
    /// English name (foreign cards).
    #[serde(default)]
    pub name_en: String,
    /// `男`/`女` or `1`/`2`.
    pub sex: String,
    /// Nation name or two-digit code (resident cards).
    #[serde(default)]
    pub nation: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// Address.
    #[serde(default)]
    pub address: String,
    /// Identity number (permit number for 2017 foreign cards).
    pub id_number: String,
    /// Issuing authority (authority code for 2017 foreign cards).
    #[serde(default)]
    pub authority: String,
    /// `YYYY-MM-DD`.
    pub valid_from: String,
    /// `YYYY-MM-DD` or `长期`.
    pub valid_to: String,
    /// 通行证号码 (J cards).
    #[serde(default)]
    pub pass_number: String,
    /// 签发次数 (J cards).
    #[serde(default)]
    pub issue_count: String,
    /// ISO 3166-1 alpha-3 (foreign cards).
    #[serde(default)]
    pub nationality: String,
    /// Card version (2017 foreign cards).
    #[serde(default)]
    pub card_version: String,
    /// 换证次数 (2023 foreign cards).
    #[serde(default)]
    pub renewal_count: String,
    /// Appended address, answered to `30 03`.
    #[serde(default)]
    pub appended_address: Option<String>,
    /// Fingerprint bytes answered to `30 10`: 0, 512 or 1024.
    #[serde(default)]
    pub fingerprint_len: usize,
    /// A 1024-byte WLT file, relative to the TOML file; a fixed pattern if absent.
    #[serde(default)]
    pub photo_wlt: Option<PathBuf>,
}

/// A card ready to be answered from.
#[derive(Debug, Clone)]
pub struct SimCard {
    /// Where it came from (for messages).
    pub label: String,
    /// The text block as the chip holds it.
    pub text: [u8; TEXT_LEN],
    /// The WLT photo.
    pub photo: Vec<u8>,
    /// Fingerprint data.
    pub fingerprint: Vec<u8>,
    /// Appended address, if any.
    pub appended_address: Option<String>,
}

impl CardFile {
    /// Reads and parses a card file.
    pub fn load(path: &Path) -> Result<SimCard, String> {
        let src = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let file: CardFile =
            toml::from_str(&src).map_err(|e| format!("{}: {e}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        file.into_card(&path.display().to_string(), base)
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Builds the card's chip content.
    pub fn into_card(self, label: &str, base: &Path) -> Result<SimCard, String> {
        let text = self.to_text()?;
        let photo = match &self.photo_wlt {
            Some(p) => {
                let bytes = std::fs::read(base.join(p)).map_err(|e| format!("photo_wlt: {e}"))?;
                if bytes.len() != 1024 {
                    return Err(format!("photo_wlt must be 1024 bytes, is {}", bytes.len()));
                }
                bytes
            }
            None => (0..1024u32)
                .map(|i| (i.wrapping_mul(31) ^ 0x57) as u8)
                .collect(),
        };
        if ![0, 512, 1024].contains(&self.fingerprint_len) {
            return Err("fingerprint_len must be 0, 512 or 1024".into());
        }
        Ok(SimCard {
            label: label.to_string(),
            text: encode_text(&text),
            photo,
            fingerprint: (0..self.fingerprint_len).map(|i| (i % 251) as u8).collect(),
            appended_address: self.appended_address,
        })
    }

    fn to_text(&self) -> Result<CardText, String> {
        let sex = match self.sex.trim() {
            "男" | "1" | "M" | "male" => Sex::Male,
            "女" | "2" | "F" | "female" => Sex::Female,
            other => return Err(format!("sex {other:?}: use 男 or 女")),
        };
        let d = |s: &str| CardDate::parse_human(s);
        Ok(match self.kind.as_str() {
            "resident" => CardText::Resident(ResidentText {
                name: self.name.clone(),
                sex,
                nation_code: if self.nation.chars().all(|c| c.is_ascii_digit()) {
                    self.nation.clone()
                } else {
                    nation_code(&self.nation).ok_or(format!("unknown nation {:?}", self.nation))?
                },
                birth_date: d(&self.birth_date),
                address: self.address.clone(),
                id_number: self.id_number.clone(),
                authority: self.authority.clone(),
                valid_from: d(&self.valid_from),
                valid_to: d(&self.valid_to),
            }),
            "hk_mo_tw_permit" => CardText::HkMoTwPermit(HkMoTwPermitText {
                name: self.name.clone(),
                sex,
                birth_date: d(&self.birth_date),
                address: self.address.clone(),
                id_number: self.id_number.clone(),
                authority: self.authority.clone(),
                valid_from: d(&self.valid_from),
                valid_to: d(&self.valid_to),
                pass_number: self.pass_number.clone(),
                issue_count: self.issue_count.clone(),
            }),
            "foreign_permanent_2017" => CardText::ForeignPermanent2017(ForeignPermanent2017Text {
                name_en: self.name_en.clone(),
                sex,
                permit_number: self.id_number.clone(),
                nationality: self.nationality.clone(),
                name_zh: self.name.clone(),
                valid_from: d(&self.valid_from),
                valid_to: d(&self.valid_to),
                birth_date: d(&self.birth_date),
                card_version: self.card_version.clone(),
                authority_code: self.authority.clone(),
            }),
            "foreign_permanent_2023" => CardText::ForeignPermanent2023(ForeignPermanent2023Text {
                name_zh: self.name.clone(),
                sex,
                renewal_count: self.renewal_count.clone(),
                birth_date: d(&self.birth_date),
                name_en: self.name_en.clone(),
                id_number: self.id_number.clone(),
                valid_from: d(&self.valid_from),
                valid_to: d(&self.valid_to),
                nationality: self.nationality.clone(),
                previous_number: String::new(),
            }),
            other => return Err(format!("unknown kind {other:?}")),
        })
    }
}

/// A fault the emulator injects into its next replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SamFault {
    /// The reply's checksum byte is wrong.
    BadChecksum,
    /// Only the first half of the reply is sent.
    ShortFrame,
    /// Garbage bytes (with stray preamble pieces) before and after the reply.
    Garbage,
    /// No reply at all.
    NoReply,
    /// The reply carries this SW3 instead (e.g. 0x41 for a card lifted mid-read).
    Status(u8),
}

/// What lies in the reader's field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Nothing.
    Empty,
    /// A card was placed and not yet selected.
    Fresh(usize),
    /// The card is selected and can be read.
    Selected(usize),
    /// The card was read: find answers 0x80 until it leaves (the quirk), select still works.
    Halted(usize),
}

/// The SAM module emulator (sans-IO).
#[derive(Debug)]
pub struct SamSim {
    cards: Vec<SimCard>,
    next_card: usize,
    field: Field,
    faults: VecDeque<(Option<SamCommand>, SamFault)>,
    decoder: FrameDecoder,
    baud: Option<u32>,
    /// Commands received (the most recent ones), for tests.
    pub log: Vec<SamCommand>,
    garbage_seed: u32,
}

impl SamSim {
    /// An emulator holding `cards` (placed in turn), with an empty field.
    pub fn new(cards: Vec<SimCard>) -> Self {
        Self {
            cards,
            next_card: 0,
            field: Field::Empty,
            faults: VecDeque::new(),
            decoder: FrameDecoder::new(),
            baud: None,
            log: Vec::new(),
            garbage_seed: 0x1234_5678,
        }
    }

    /// Places card `index` (or the next one in turn) on the reader.
    pub fn place(&mut self, index: Option<usize>) -> Result<&SimCard, String> {
        if self.cards.is_empty() {
            return Err("no cards loaded".into());
        }
        let i = index.unwrap_or(self.next_card);
        if i >= self.cards.len() {
            return Err(format!("card {i} out of range (0..{})", self.cards.len()));
        }
        self.next_card = (i + 1) % self.cards.len();
        self.field = Field::Fresh(i);
        Ok(&self.cards[i])
    }

    /// Lifts the card off the reader.
    pub fn lift(&mut self) {
        self.field = Field::Empty;
    }

    /// What lies in the field.
    pub fn field(&self) -> Field {
        self.field
    }

    /// Injects `fault` into the next `count` replies (to `only` if given, else to any command).
    pub fn inject(&mut self, fault: SamFault, count: usize, only: Option<SamCommand>) {
        self.faults
            .extend(std::iter::repeat_n((only, fault), count));
    }

    /// Clears pending faults.
    pub fn clear_faults(&mut self) {
        self.faults.clear();
    }

    /// Real line timing at `baud` (sleep per byte-time), or instant replies with `None`.
    pub fn set_timing(&mut self, baud: Option<u32>) {
        self.baud = baud;
    }

    /// The reply to one command frame body.
    pub fn answer(&mut self, body: &[u8]) -> SamReply {
        let ok = |data: Vec<u8>| SamReply {
            sw: [0, 0, 0x90],
            data,
        };
        let status = |sw3: u8| SamReply {
            sw: [0, 0, sw3],
            data: Vec::new(),
        };
        let Some(cmd) = (body.len() >= 2)
            .then(|| SamCommand::from_code([body[0], body[1]]))
            .flatten()
        else {
            return status(0x21);
        };
        if self.log.len() >= 10_000 {
            // A long-running devsim must not grow without bound.
            self.log.drain(..5_000);
        }
        self.log.push(cmd);
        match cmd {
            SamCommand::Reset | SamCommand::Status => ok(Vec::new()),
            SamCommand::SamId => {
                ok(b"\x05\x00\x01\x00\x12\x34\x56\x78\x00\x00\x00\x01\x20\x26\x11\x27".to_vec())
            }
            SamCommand::FindCard => match self.field {
                Field::Fresh(_) | Field::Selected(_) => status(0x9F),
                Field::Empty | Field::Halted(_) => status(0x80),
            },
            SamCommand::SelectCard => match self.field {
                Field::Fresh(i) | Field::Selected(i) => {
                    self.field = Field::Selected(i);
                    ok(vec![0; 8])
                }
                Field::Halted(_) => ok(vec![0; 8]),
                Field::Empty => status(0x81),
            },
            SamCommand::ReadTextPhoto | SamCommand::ReadTextPhotoFingerprint => match self.field {
                Field::Selected(i) | Field::Halted(i) => {
                    self.field = Field::Halted(i);
                    let c = &self.cards[i];
                    let fp =
                        (cmd == SamCommand::ReadTextPhotoFingerprint).then_some(&c.fingerprint[..]);
                    ok(encode_read_payload(&c.text, &c.photo, fp))
                }
                _ => status(0x41),
            },
            SamCommand::ReadAppendedAddress => match self.field {
                Field::Selected(i) | Field::Halted(i) => match &self.cards[i].appended_address {
                    Some(a) => {
                        let mut units: Vec<u16> = a.encode_utf16().take(35).collect();
                        units.resize(35, u16::from(b' '));
                        ok(units.iter().flat_map(|u| u.to_le_bytes()).collect())
                    }
                    None => status(0x91),
                },
                _ => status(0x41),
            },
        }
    }

    fn garbage(&mut self, n: usize) -> Vec<u8> {
        (0..n)
            .map(|i| {
                self.garbage_seed = self
                    .garbage_seed
                    .wrapping_mul(1_103_515_245)
                    .wrapping_add(12_345);
                // Sprinkle pieces of the preamble to exercise resynchronisation.
                if i % 7 == 3 {
                    0xAA
                } else {
                    (self.garbage_seed >> 16) as u8
                }
            })
            .collect()
    }

    fn take_fault(&mut self, cmd: Option<SamCommand>) -> Option<SamFault> {
        match self.faults.front() {
            Some((None, _)) => self.faults.pop_front().map(|f| f.1),
            Some((Some(only), _)) if Some(*only) == cmd => self.faults.pop_front().map(|f| f.1),
            _ => None,
        }
    }

    fn emit(&mut self, fault: Option<SamFault>, reply: SamReply) -> Vec<u8> {
        let mut bytes = reply.encode();
        match fault {
            Some(SamFault::BadChecksum) => {
                let last = bytes.len() - 1;
                bytes[last] ^= 0x5A;
            }
            Some(SamFault::ShortFrame) => bytes.truncate(bytes.len() / 2),
            Some(SamFault::NoReply) => bytes.clear(),
            Some(SamFault::Garbage) => {
                let mut out = self.garbage(23);
                out.extend_from_slice(&PREAMBLE[..3]);
                out.extend_from_slice(&bytes);
                out.extend(self.garbage(11));
                bytes = out;
            }
            _ => {}
        }
        bytes
    }

    /// Parses a control line (what `devsim idcard` reads from stdin); returns a message.
    ///
    /// `place [N]`, `lift`, `next`,
    /// `fault bad-checksum|short-frame|garbage|no-reply|sw XX [COUNT] [read|read-fp|find|select|status|address]`,
    /// `clear`, `timing on|off|BAUD`, `status`.
    pub fn control(&mut self, line: &str) -> Result<String, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["place"] => self.place(None).map(|c| format!("placed {}", c.label)),
            ["place", n] => {
                let i = n.parse().map_err(|_| format!("bad index {n}"))?;
                self.place(Some(i)).map(|c| format!("placed {}", c.label))
            }
            ["lift"] => {
                self.lift();
                Ok("lifted".into())
            }
            ["next"] => {
                self.lift();
                self.place(None).map(|c| format!("placed {}", c.label))
            }
            ["clear"] => {
                self.clear_faults();
                Ok("faults cleared".into())
            }
            ["timing", "on"] => {
                self.set_timing(Some(115_200));
                Ok("115200-baud timing".into())
            }
            ["timing", "off"] => {
                self.set_timing(None);
                Ok("instant replies".into())
            }
            ["timing", baud] => {
                let b = baud.parse().map_err(|_| format!("bad baud {baud}"))?;
                self.set_timing(Some(b));
                Ok(format!("{b}-baud timing"))
            }
            ["status"] => Ok(format!(
                "field {:?}, {} fault(s) pending",
                self.field,
                self.faults.len()
            )),
            ["fault", rest @ ..] => {
                let (fault, more) = match rest {
                    ["sw", code, more @ ..] => {
                        let b = u8::from_str_radix(code.trim_start_matches("0x"), 16)
                            .map_err(|_| format!("bad SW3 {code}"))?;
                        (SamFault::Status(b), more)
                    }
                    [name, more @ ..] => (
                        match *name {
                            "bad-checksum" => SamFault::BadChecksum,
                            "short-frame" => SamFault::ShortFrame,
                            "garbage" => SamFault::Garbage,
                            "no-reply" => SamFault::NoReply,
                            other => return Err(format!("unknown fault {other}")),
                        },
                        more,
                    ),
                    [] => return Err("fault what?".into()),
                };
                let mut count = 1;
                let mut only = None;
                for w in more {
                    match *w {
                        "read" => only = Some(SamCommand::ReadTextPhoto),
                        "read-fp" => only = Some(SamCommand::ReadTextPhotoFingerprint),
                        "find" => only = Some(SamCommand::FindCard),
                        "select" => only = Some(SamCommand::SelectCard),
                        "status" => only = Some(SamCommand::Status),
                        "address" => only = Some(SamCommand::ReadAppendedAddress),
                        n => count = n.parse().map_err(|_| format!("bad count or command {n}"))?,
                    }
                }
                self.inject(fault, count, only);
                Ok(format!(
                    "{fault:?} ×{count} queued for {}",
                    only.map_or("any command".into(), |c| format!("{c:?}"))
                ))
            }
            _ => Err(format!("unknown command {line:?}")),
        }
    }
}

impl WireDevice for SamSim {
    fn on_input(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.decoder.push(bytes);
        let mut out = Vec::new();
        while let Some(frame) = self.decoder.next_frame() {
            let status = |sw3: u8| SamReply {
                sw: [0, 0, sw3],
                data: Vec::new(),
            };
            let (fault, reply) = match frame {
                Ok(f) => {
                    let cmd = (f.body.len() >= 2)
                        .then(|| SamCommand::from_code([f.body[0], f.body[1]]))
                        .flatten();
                    match self.take_fault(cmd) {
                        // A forced status (e.g. card lifted mid-read) leaves the field as it was.
                        Some(SamFault::Status(sw3)) => {
                            self.log.extend(cmd);
                            (None, status(sw3))
                        }
                        fault => (fault, self.answer(&f.body)),
                    }
                }
                Err(FrameError::Checksum { .. }) => (self.take_fault(None), status(0x10)),
                Err(FrameError::Length(_)) => (self.take_fault(None), status(0x11)),
            };
            let bytes = self.emit(fault, reply);
            out.extend_from_slice(&bytes);
        }
        out
    }

    fn byte_time(&self) -> Option<Duration> {
        self.baud.map(byte_time)
    }
}

/// The emulator on a pseudo-terminal (`ykb-terminal devsim idcard`).
pub struct IdCardSim {
    pty: PtyDevice<SamSim>,
}

impl IdCardSim {
    /// Loads `card_files` and opens a pty; `link` is an optional stable symlink path.
    pub fn start(card_files: &[PathBuf], link: Option<PathBuf>) -> Result<Self, String> {
        let cards = card_files
            .iter()
            .map(|p| CardFile::load(p))
            .collect::<Result<Vec<_>, _>>()?;
        Self::with_cards(cards, link).map_err(|e| format!("cannot open pty: {e}"))
    }

    /// Starts with cards already built.
    pub fn with_cards(cards: Vec<SimCard>, link: Option<PathBuf>) -> std::io::Result<Self> {
        Ok(Self {
            pty: PtyDevice::start(SamSim::new(cards), link)?,
        })
    }

    /// The serial port path for the driver (the link if given).
    pub fn path(&self) -> PathBuf {
        self.pty.path()
    }

    /// Locks the SAM emulator (place/lift cards, inject faults, read its log).
    pub fn sam(&self) -> std::sync::MutexGuard<'_, SamSim> {
        self.pty.device()
    }

    /// Unplugs the reader (the pty closes).
    pub fn unplug(&self) {
        self.pty.unplug();
    }

    /// Plugs it back (a new pty; the link follows).
    pub fn replug(&self) {
        self.pty.replug();
    }

    /// Runs one control line: the [`SamSim::control`] commands plus `unplug` and `replug`.
    pub fn control(&self, line: &str) -> Result<String, String> {
        match line.trim() {
            "unplug" => {
                self.unplug();
                Ok("unplugged".into())
            }
            "replug" => {
                self.replug();
                Ok(format!("plugged in at {}", self.path().display()))
            }
            other => self.sam().control(other),
        }
    }
}
