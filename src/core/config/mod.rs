//! Kiosk profiles (kiosk-config/*.toml): what kind of terminal this is, where its data lives,
//! how it reaches the platform, and which devices it drives.
//!
//! Every key is known (`deny_unknown_fields`); every error names the file, the key and what
//! is wrong, so a technician can fix it without reading code.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::domain::RegionCode;

pub mod devservice;
pub mod screen;
pub mod update;

pub use devservice::LocalDeviceServiceSection;

pub use update::UpdateSection;

/// The embedded default profile (the demo).
pub const DEMO_PROFILE: &str = include_str!("../../../kiosk-config/demo.toml");
/// The name the embedded default is reported under.
pub const DEMO_PROFILE_NAME: &str = "<内置演示配置 kiosk-config/demo.toml>";

/// What kind of terminal a profile drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TerminalKind {
    /// Self-service kiosk in a hall or 24-hour zone.
    Kiosk,
    /// Integrated counter terminal (一窗综办).
    Counter,
    /// Self-service terminal at a bank branch.
    Bank,
    /// Self-service terminal at a post office.
    Post,
    /// Hall calling display (叫号屏).
    HallDisplay,
}

impl TerminalKind {
    /// The name used in profiles and in the platform contract (`hall-display`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kiosk => "kiosk",
            Self::Counter => "counter",
            Self::Bank => "bank",
            Self::Post => "post",
            Self::HallDisplay => "hall-display",
        }
    }
}

/// UI language at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Language {
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

/// `[terminal]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TerminalSection {
    pub kind: TerminalKind,
    pub name: String,
    pub region_code: RegionCode,
    pub site: String,
    pub language: Language,
    pub large_text: bool,
    pub idle_timeout_secs: u32,
    pub fullscreen: bool,
    /// The panel: `"1920x1080"`, `"1080x1920"`, `"1280x1024"`, `"1280x800"` … or `"auto"`
    /// (optional; `auto` when absent). See [`screen`].
    #[serde(default = "default_screen")]
    pub screen: String,
    /// The panel's diagonal in inches (optional for the four known panels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screen_diagonal_in: Option<f32>,
}

fn default_screen() -> String {
    "auto".into()
}

impl TerminalSection {
    /// The checked screen (the profile was validated when it was loaded).
    pub fn panel(&self) -> screen::Screen {
        screen::parse(&self.screen, self.screen_diagonal_in).unwrap_or(screen::Screen::Auto)
    }
}

/// Where the catalogue comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CatalogSource {
    /// The demo catalogue compiled into the binary.
    Bundled,
    /// Synced from the platform.
    Platform,
}

/// `[data]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    /// Data directory; empty means the profile's default.
    pub dir: String,
    pub catalog: CatalogSource,
    pub outbox_quota_mb: u32,
    pub retention_days: u32,
}

impl DataSection {
    /// The outbox's quota, from `outbox_quota_mb`.
    pub fn quota(&self) -> super::outbox::Quota {
        super::outbox::Quota::from_mb(self.outbox_quota_mb)
    }
}

/// How the platform is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlatformMode {
    /// The local platform simulator, started inside the app (demo only).
    Simulator,
    /// A real platform gateway at `base_url`.
    Remote,
}

/// `[platform]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformSection {
    pub mode: PlatformMode,
    pub base_url: String,
    pub ca_file: String,
    pub proxy: String,
    pub timeout_secs: u32,
}

/// Which driver a device slot uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DriverKind {
    /// Not fitted.
    None,
    /// The built-in emulator (demo and tests).
    Simulated,
    /// GA/T 467 SAM reader on a serial port.
    SamSerial,
    /// ESC/POS printer at a URI (serial://, tcp://, file://).
    Escpos,
    /// Serial QR scanner.
    SerialScanner,
    /// Keyboard-wedge scanner via evdev.
    Evdev,
    /// V4L2 camera.
    V4l2,
    /// A4 document printer: a queue of the local CUPS scheduler, spoken to in IPP; `path` is
    /// the queue's name, or `NAME@SERVER` (SERVER the scheduler's socket or `host:port`).
    Cups,
    /// A peripheral the host terminal lends through its XFS4IoT service (bank and post
    /// office terminals); `path` is the service URI, e.g.
    /// `ws://127.0.0.1:5846/xfs4iot/v1.0/BarcodeReader`, or [`XFS4IOT_SIMULATED`] for the
    /// drivers' XFS4IoT emulator started inside the app (the bank-terminal demo).
    Xfs4iot,
}

/// One device slot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceSection {
    pub driver: DriverKind,
    /// Port, URI or device path, depending on the driver; empty for none/simulated.
    #[serde(default)]
    pub path: String,
    /// Serial speed, where the link is serial.
    #[serde(default)]
    pub baud: Option<u32>,
    /// The receipt printer's paper roll length in millimetres (printer slot only; default
    /// [`DEFAULT_ROLL_LENGTH_MM`]): paper use is estimated against it (`core::consumables`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roll_length_mm: Option<u32>,
}

/// The roll length assumed when `devices.printer.roll_length_mm` is not set: an 80 mm
/// thermal roll of 80 m.
pub const DEFAULT_ROLL_LENGTH_MM: u32 = 80_000;
/// The roll lengths accepted (5 m to 300 m).
pub const ROLL_LENGTH_RANGE_MM: std::ops::RangeInclusive<u32> = 5_000..=300_000;

impl DeviceSection {
    /// The printer's roll length (the profile's or the default).
    pub fn roll_length_mm(&self) -> u32 {
        self.roll_length_mm.unwrap_or(DEFAULT_ROLL_LENGTH_MM)
    }
}

/// `[devices]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevicesSection {
    pub id_reader: DeviceSection,
    pub printer: DeviceSection,
    pub scanner: DeviceSection,
    pub camera: DeviceSection,
    pub document_camera: DeviceSection,
    /// The A4 document printer (证照打印 on A4, 证明开具); absent means none.
    #[serde(default = "DeviceSection::none")]
    pub document_printer: DeviceSection,
    /// The guidance lights of the slots a citizen uses (card reader, receipt exit, scanner,
    /// document camera): the host's XFS4IoT `Lights` service; absent means none.
    #[serde(default = "DeviceSection::none")]
    pub lights: DeviceSection,
    /// The host terminal's XFS4IoT `VendorMode` service: while the host's maintenance
    /// application has the devices, the kiosk ends its session and says so; absent means none.
    #[serde(default = "DeviceSection::none")]
    pub vendor_mode: DeviceSection,
}

/// The `path` of a `driver = "xfs4iot"` slot served by the XFS4IoT emulator the app starts
/// itself (every such slot of a profile shares one emulator).
pub const XFS4IOT_SIMULATED: &str = "simulated";

/// Whether `path` is a service URI an XFS4IoT slot can use: `ws://` or `wss://`, a host, and
/// a path under `/xfs4iot/` (or [`XFS4IOT_SIMULATED`]); `Err` says what is wrong.
fn check_xfs4iot_uri(path: &str) -> Result<(), String> {
    if path == XFS4IOT_SIMULATED {
        return Ok(());
    }
    let example = "如 ws://127.0.0.1:5846/xfs4iot/v1.0/Printer（演示用 \"simulated\"）";
    let parsed = reqwest::Url::parse(path)
        .map_err(|_| format!("XFS4IoT 外设的地址应是服务地址，{example}，现为 {path:?}"))?;
    if !matches!(parsed.scheme(), "ws" | "wss") {
        return Err(format!(
            "XFS4IoT 服务地址应以 ws:// 或 wss:// 开头，{example}，现为 {path:?}"
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("XFS4IoT 服务地址 {path:?} 没有主机名，{example}"));
    }
    if parsed.path_segments().and_then(|mut s| s.next()) != Some("xfs4iot") {
        return Err(format!(
            "XFS4IoT 服务地址的路径应为 /xfs4iot/v1.0/服务名，{example}，现为 {path:?}"
        ));
    }
    Ok(())
}

impl DeviceSection {
    /// A slot with nothing fitted.
    pub fn none() -> Self {
        Self {
            driver: DriverKind::None,
            path: String::new(),
            baud: None,
            roll_length_mm: None,
        }
    }
}

/// `[health]` (optional): heartbeats and the local Prometheus metrics endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthSection {
    /// `ADDR:PORT` the metrics are served on; loopback only; empty turns them off.
    #[serde(default)]
    pub metrics_listen: String,
    /// Seconds between heartbeats to the platform (30–3600).
    #[serde(default = "default_heartbeat_secs")]
    pub heartbeat_secs: u32,
}

fn default_heartbeat_secs() -> u32 {
    60
}

impl Default for HealthSection {
    fn default() -> Self {
        Self {
            metrics_listen: String::new(),
            heartbeat_secs: default_heartbeat_secs(),
        }
    }
}

impl HealthSection {
    /// The metrics address, if metrics are on (validated to be loopback).
    pub fn metrics_addr(&self) -> Option<std::net::SocketAddr> {
        self.metrics_listen.trim().parse().ok()
    }
}

/// `[ticketing]` (optional): hall ticketing (取号/叫号), see `core::ticketing`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketingSection {
    /// The hall's id, the same on every terminal of the hall: number leases are per hall,
    /// service and day.
    pub hall: String,
    /// Age from which the ID number's birth date puts a citizen in the green channel
    /// (60–100).
    #[serde(default = "default_green_age")]
    pub green_age: u8,
    /// Call priority of green-channel tickets (0–9; walk-ins are 0; higher is called first).
    #[serde(default = "default_green_priority")]
    pub green_priority: u8,
    /// Call priority of appointment check-ins (0–9).
    #[serde(default = "default_appointment_priority")]
    pub appointment_priority: u8,
    /// Numbers leased from the platform at a time, per service and day (5–999).
    #[serde(default = "default_lease_size")]
    pub lease_size: u32,
    /// Top the lease up when fewer numbers than this remain (1 to lease_size - 1).
    #[serde(default = "default_lease_low_water")]
    pub lease_low_water: u32,
    /// The hall's services (at least one).
    pub services: Vec<HallService>,
    /// The hall's counter windows and the services each calls.
    #[serde(default)]
    pub windows: Vec<HallWindow>,
    /// The hall's shared queue: a libpq connection URI of the hall's PostgreSQL database
    /// (`postgresql://hall-db-1,hall-db-2/ykb_hall?target_session_attrs=read-write`). Absent:
    /// the queue lives in this terminal's own store (a single-terminal site, the demo).
    #[serde(default)]
    pub queue: Option<String>,
    /// The file holding the hall database's password (mode 0600, one line). Never in the
    /// profile.
    #[serde(default)]
    pub queue_password_file: Option<std::path::PathBuf>,
}

fn default_green_age() -> u8 {
    65
}
fn default_green_priority() -> u8 {
    2
}
fn default_appointment_priority() -> u8 {
    1
}
fn default_lease_size() -> u32 {
    50
}
fn default_lease_low_water() -> u32 {
    10
}

/// One hall service (`[[ticketing.services]]`): its letter, names, daily cap and hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HallService {
    /// One capital letter, the tickets' prefix (A → A001).
    pub prefix: String,
    /// Name on the ticket and the hall display (zh-CN).
    pub name: String,
    /// English name (optional).
    #[serde(default)]
    pub name_en: String,
    /// Tickets per day for the whole hall (1–999).
    pub daily_cap: u32,
    /// Issuing starts, "HH:MM" hall time (UTC+8).
    pub opens: String,
    /// Issuing ends, "HH:MM", after `opens`.
    pub closes: String,
}

/// One counter window (`[[ticketing.windows]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HallWindow {
    /// The number on the window (1–999), as announced.
    pub number: u16,
    /// Prefixes of the services it calls.
    pub services: Vec<String>,
}

/// Parses "HH:MM" (00:00–23:59, and 24:00 for the end of the day).
pub fn parse_hh_mm(s: &str) -> Option<jiff::civil::Time> {
    if s.trim() == "24:00" {
        return Some(jiff::civil::Time::MAX);
    }
    let (h, m) = s.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    jiff::civil::Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}

impl TicketingSection {
    fn validate(&self) -> Result<(), (String, String)> {
        let e = |k: String, m: String| Err((k, m));
        if self.hall.trim().is_empty() {
            return e("ticketing.hall".into(), "不能为空".into());
        }
        if !(60..=100).contains(&self.green_age) {
            return e(
                "ticketing.green_age".into(),
                format!("应在 60 到 100 之间，现为 {}", self.green_age),
            );
        }
        for (k, v) in [
            ("green_priority", self.green_priority),
            ("appointment_priority", self.appointment_priority),
        ] {
            if v > 9 {
                return e(
                    format!("ticketing.{k}"),
                    format!("应在 0 到 9 之间，现为 {v}"),
                );
            }
        }
        if !(5..=999).contains(&self.lease_size) {
            return e(
                "ticketing.lease_size".into(),
                format!("应在 5 到 999 之间，现为 {}", self.lease_size),
            );
        }
        if self.lease_low_water == 0 || self.lease_low_water >= self.lease_size {
            return e(
                "ticketing.lease_low_water".into(),
                format!(
                    "应在 1 到 {} 之间（小于 lease_size），现为 {}",
                    self.lease_size - 1,
                    self.lease_low_water
                ),
            );
        }
        if self.services.is_empty() {
            return e(
                "ticketing.services".into(),
                "至少需要一项业务（[[ticketing.services]]）".into(),
            );
        }
        for (i, s) in self.services.iter().enumerate() {
            let k = |f: &str| format!("ticketing.services[{i}].{f}");
            let b = s.prefix.as_bytes();
            if b.len() != 1 || !b[0].is_ascii_uppercase() {
                return e(
                    k("prefix"),
                    format!("应为一个大写字母（A–Z），现为 {:?}", s.prefix),
                );
            }
            if self.services[..i].iter().any(|o| o.prefix == s.prefix) {
                return e(k("prefix"), format!("字母 {} 已被前面的业务使用", s.prefix));
            }
            if s.name.trim().is_empty() {
                return e(k("name"), "不能为空".into());
            }
            if !(1..=999).contains(&s.daily_cap) {
                return e(
                    k("daily_cap"),
                    format!("应在 1 到 999 之间，现为 {}", s.daily_cap),
                );
            }
            let Some(opens) = parse_hh_mm(&s.opens) else {
                return e(
                    k("opens"),
                    format!("应为 时:分（如 08:30），现为 {:?}", s.opens),
                );
            };
            let Some(closes) = parse_hh_mm(&s.closes) else {
                return e(
                    k("closes"),
                    format!("应为 时:分（如 17:00），现为 {:?}", s.closes),
                );
            };
            if closes <= opens {
                return e(
                    k("closes"),
                    format!("应晚于 opens（{}），现为 {}", s.opens, s.closes),
                );
            }
        }
        if let Some(uri) = &self.queue {
            if let Err(m) = crate::core::hall::check_uri(uri) {
                return e("ticketing.queue".into(), m);
            }
        }
        if let Some(p) = &self.queue_password_file {
            if self.queue.is_none() {
                return e(
                    "ticketing.queue_password_file".into(),
                    "只有配置了 ticketing.queue（大厅数据库）时才需要密码文件".into(),
                );
            }
            if !p.is_absolute() {
                return e(
                    "ticketing.queue_password_file".into(),
                    format!("应为绝对路径（如 /etc/ykb-terminal/hall-db.password），现为 {p:?}"),
                );
            }
        }
        for (i, w) in self.windows.iter().enumerate() {
            let k = |f: &str| format!("ticketing.windows[{i}].{f}");
            if !(1..=999).contains(&w.number) {
                return e(
                    k("number"),
                    format!("应在 1 到 999 之间，现为 {}", w.number),
                );
            }
            if self.windows[..i].iter().any(|o| o.number == w.number) {
                return e(k("number"), format!("{} 号窗口重复配置", w.number));
            }
            if w.services.is_empty() {
                return e(k("services"), "至少需要一项业务的字母".into());
            }
            if let Some(p) = w
                .services
                .iter()
                .find(|p| !self.services.iter().any(|s| &s.prefix == *p))
            {
                return e(
                    k("services"),
                    format!("没有字母为 {p:?} 的业务（见 [[ticketing.services]]）"),
                );
            }
        }
        Ok(())
    }
}

/// `[counter]` (optional; needed by `kind = "counter"`): which hall window this terminal is,
/// who may sign in, and when the clerk's session locks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CounterSection {
    /// The window this terminal calls for (one of `[[ticketing.windows]]`).
    pub window: u16,
    /// Seconds without input before the clerk's session locks (30–3600; default 300).
    #[serde(default = "default_lock_after_secs")]
    pub lock_after_secs: u32,
    /// Wrong PINs in a row before sign-in pauses (1–10; default 3).
    #[serde(default = "default_max_failures")]
    pub max_failures: u32,
    /// The first pause, in seconds; it doubles with each further failure (5–3600; default 30).
    #[serde(default = "default_lockout_secs")]
    pub lockout_secs: u32,
    /// Staff who may sign in here (at least one).
    pub staff: Vec<PinAccount>,
}

fn default_lock_after_secs() -> u32 {
    300
}
fn default_max_failures() -> u32 {
    3
}
fn default_lockout_secs() -> u32 {
    30
}

/// An account that signs in with a PIN (a clerk in `[[counter.staff]]`, a technician in
/// `[[technician.accounts]]`): the id (工号) and a hash of the PIN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinAccount {
    /// 工号: letters, digits, `._-`, at most 32 (never a name: it goes to the audit log).
    pub id: String,
    /// An Argon2id PHC string `$argon2id$v=19$m=…,t=…,p=…$SALT$HASH`, or an older
    /// `pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX` (`core::pin`).
    pub pin_hash: String,
}

/// The checks shared by every PIN sign-in setting: failures before a pause (1–10), the first
/// pause (5–3600 s), at least one account, ids fit for the audit log (`actor`), no id twice,
/// readable hashes. `section` is the profile key (`counter`, `technician`), `list` the
/// accounts' key under it.
fn validate_sign_in(
    section: &str,
    list: &str,
    max_failures: u32,
    lockout_secs: u32,
    accounts: &[PinAccount],
    actor: fn(&str) -> Result<super::audit::Actor, super::audit::AuditError>,
) -> Result<(), (String, String)> {
    if !(1..=10).contains(&max_failures) {
        return Err((
            format!("{section}.max_failures"),
            format!("应在 1 到 10 之间，现为 {max_failures}"),
        ));
    }
    if !(5..=3600).contains(&lockout_secs) {
        return Err((
            format!("{section}.lockout_secs"),
            format!("应在 5 到 3600 之间，现为 {lockout_secs}"),
        ));
    }
    if accounts.is_empty() {
        return Err((
            format!("{section}.{list}"),
            format!("至少需要一个账号（[[{section}.{list}]]）"),
        ));
    }
    for (i, a) in accounts.iter().enumerate() {
        let k = |f: &str| format!("{section}.{list}[{i}].{f}");
        if actor(&a.id).is_err() {
            return Err((
                k("id"),
                format!(
                    "工号 {:?} 无效：1–32 个字母、数字或 . _ -（不能是姓名或证件号）",
                    a.id
                ),
            ));
        }
        if accounts[..i].iter().any(|o| o.id == a.id) {
            return Err((k("id"), format!("工号 {} 重复", a.id)));
        }
        if let Err(m) = super::pin::PinHash::parse(&a.pin_hash) {
            return Err((k("pin_hash"), m));
        }
    }
    Ok(())
}

impl CounterSection {
    fn validate(&self, ticketing: Option<&TicketingSection>) -> Result<(), (String, String)> {
        let e = |k: String, m: String| Err((k, m));
        match ticketing {
            None => {
                return e(
                    "counter.window".into(),
                    "窗口叫号需要 [ticketing] 配置（大厅的业务与窗口）".into(),
                )
            }
            Some(t) if !t.windows.iter().any(|w| w.number == self.window) => {
                return e(
                    "counter.window".into(),
                    format!("{} 号窗口未在 [[ticketing.windows]] 中配置", self.window),
                )
            }
            Some(_) => {}
        }
        if !(30..=3600).contains(&self.lock_after_secs) {
            return e(
                "counter.lock_after_secs".into(),
                format!("应在 30 到 3600 之间，现为 {}", self.lock_after_secs),
            );
        }
        validate_sign_in(
            "counter",
            "staff",
            self.max_failures,
            self.lockout_secs,
            &self.staff,
            super::audit::Actor::staff,
        )
    }
}

/// A whole profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub terminal: TerminalSection,
    pub data: DataSection,
    pub platform: PlatformSection,
    pub devices: DevicesSection,
    /// Optional: profiles without it report no metrics and beat every 60 s.
    #[serde(default)]
    pub health: HealthSection,
    /// Optional: hall ticketing; profiles without it issue and call no tickets.
    #[serde(default)]
    pub ticketing: Option<TicketingSection>,
    /// Optional: who may open 维护模式 on the screen; without it nobody can.
    #[serde(default)]
    pub technician: Option<TechnicianSection>,
    /// Optional: the counter terminal's window and staff (profiles of kind `counter`).
    #[serde(default)]
    pub counter: Option<CounterSection>,
    /// Optional: signed, staged software updates; absent, the terminal never updates itself.
    #[serde(default)]
    pub update: Option<UpdateSection>,
    /// Optional: our devices for other services on loopback (`terminal::devservice`);
    /// absent, nothing listens.
    #[serde(default)]
    pub local_device_service: Option<LocalDeviceServiceSection>,
}

/// `[technician]`: technician accounts for 维护模式 (the hidden gesture, then id and PIN).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TechnicianSection {
    /// Wrong PINs in a row before entry pauses (1–10; default 3).
    #[serde(default = "default_max_failures")]
    pub max_failures: u32,
    /// First pause in seconds, doubling after each further failure (5–3600; default 30).
    #[serde(default = "default_lockout_secs")]
    pub lockout_secs: u32,
    pub accounts: Vec<PinAccount>,
}

impl TechnicianSection {
    fn validate(&self) -> Result<(), (String, String)> {
        validate_sign_in(
            "technician",
            "accounts",
            self.max_failures,
            self.lockout_secs,
            &self.accounts,
            super::audit::Actor::technician,
        )
    }
}

/// One problem found in a profile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {key}: {message}")]
pub struct ConfigError {
    /// The file, as given.
    pub file: String,
    /// The dotted key path (or "-" when the file could not be read at all).
    pub key: String,
    /// What is wrong, and where possible what is expected.
    pub message: String,
}

impl Profile {
    /// The embedded demo profile.
    pub fn demo() -> Self {
        Self::parse(DEMO_PROFILE, DEMO_PROFILE_NAME)
            .expect("the embedded demo profile is valid (tested)")
    }

    /// Reads and checks a profile file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| ConfigError {
            file: name.clone(),
            key: "-".into(),
            message: format!("无法读取文件（{e}）"),
        })?;
        let text = String::from_utf8(bytes).map_err(|e| ConfigError {
            file: name.clone(),
            key: "-".into(),
            message: format!(
                "文件不是 UTF-8 文本（第 {} 字节）",
                e.utf8_error().valid_up_to()
            ),
        })?;
        Self::parse(&text, &name)
    }

    /// Parses and checks profile text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Self, ConfigError> {
        let err = |key: String, message: String| ConfigError {
            file: file.to_owned(),
            key,
            message,
        };
        let de = toml::de::Deserializer::parse(text).map_err(|e| {
            err(
                "-".into(),
                format!(
                    "不是有效的 TOML：{}{}",
                    e.message(),
                    line_of(text, e.span())
                ),
            )
        })?;
        let profile: Profile = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let msg = inner.message().to_owned();
            let at = line_of(text, inner.span());
            // serde reports a missing key at its parent table; name the key itself.
            let key = match msg
                .strip_prefix("missing field `")
                .and_then(|r| r.split('`').next())
            {
                Some(field) if path == "." => field.to_owned(),
                Some(field) => format!("{path}.{field}"),
                None => path,
            };
            err(key, format!("{}{}", translate(&msg), at))
        })?;
        profile.validate(file)?;
        Ok(profile)
    }

    /// Range and consistency checks that types alone cannot express.
    fn validate(&self, file: &str) -> Result<(), ConfigError> {
        let err = |key: &str, message: String| {
            Err(ConfigError {
                file: file.to_owned(),
                key: key.to_owned(),
                message,
            })
        };
        let t = &self.terminal;
        if t.name.trim().is_empty() {
            return err("terminal.name", "不能为空".into());
        }
        if !(15..=900).contains(&t.idle_timeout_secs) {
            return err(
                "terminal.idle_timeout_secs",
                format!("应在 15 到 900 之间，现为 {}", t.idle_timeout_secs),
            );
        }
        if let Err((key, m)) = screen::parse(&t.screen, t.screen_diagonal_in) {
            return err(key, m);
        }
        if !(1..=1_000_000).contains(&self.data.outbox_quota_mb) {
            return err(
                "data.outbox_quota_mb",
                format!("应在 1 到 1000000 之间，现为 {}", self.data.outbox_quota_mb),
            );
        }
        if !(1..=3650).contains(&self.data.retention_days) {
            return err(
                "data.retention_days",
                format!("应在 1 到 3650 之间，现为 {}", self.data.retention_days),
            );
        }
        let p = &self.platform;
        if !(1..=300).contains(&p.timeout_secs) {
            return err(
                "platform.timeout_secs",
                format!("应在 1 到 300 之间，现为 {}", p.timeout_secs),
            );
        }
        // Parsed as the client parses it; plain http only to loopback (a local TLS proxy or
        // the simulator).
        if p.mode == PlatformMode::Remote {
            if let Err(m) = check_platform_url(&p.base_url) {
                return err("platform.base_url", m);
            }
        }
        let h = &self.health;
        if !(30..=3600).contains(&h.heartbeat_secs) {
            return err(
                "health.heartbeat_secs",
                format!("应在 30 到 3600 之间，现为 {}", h.heartbeat_secs),
            );
        }
        if !h.metrics_listen.trim().is_empty() {
            match h.metrics_addr() {
                None => {
                    return err(
                        "health.metrics_listen",
                        format!(
                            "应为 地址:端口（如 127.0.0.1:9464），现为 {:?}",
                            h.metrics_listen
                        ),
                    )
                }
                Some(a) if !a.ip().is_loopback() => {
                    return err(
                        "health.metrics_listen",
                        format!(
                            "监控指标只能在本机回环地址上提供（127.0.0.1 或 ::1），现为 {a}；远程采集请经 SSH 隧道或本机代理"
                        ),
                    )
                }
                Some(_) => {}
            }
        }
        if let Some(t) = &self.ticketing {
            if let Err((key, message)) = t.validate() {
                return err(&key, message);
            }
        }
        if let Some(t) = &self.technician {
            if let Err((key, message)) = t.validate() {
                return err(&key, message);
            }
        }
        if let Some(c) = &self.counter {
            if let Err((key, message)) = c.validate(self.ticketing.as_ref()) {
                return err(&key, message);
            }
        }
        if let Some(u) = &self.update {
            if let Err((key, message)) = u.validate() {
                return err(&key, message);
            }
        }
        if let Some(l) = &self.local_device_service {
            if let Err((key, message)) = l.validate() {
                return err(&key, message);
            }
        }
        let d = &self.devices;
        for (key, dev, allowed) in [
            (
                "devices.id_reader",
                &d.id_reader,
                &[DriverKind::SamSerial][..],
            ),
            (
                "devices.printer",
                &d.printer,
                &[DriverKind::Escpos, DriverKind::Xfs4iot][..],
            ),
            (
                "devices.scanner",
                &d.scanner,
                &[
                    DriverKind::SerialScanner,
                    DriverKind::Evdev,
                    DriverKind::Xfs4iot,
                ][..],
            ),
            (
                "devices.camera",
                &d.camera,
                &[DriverKind::V4l2, DriverKind::Xfs4iot][..],
            ),
            (
                "devices.document_camera",
                &d.document_camera,
                &[DriverKind::V4l2, DriverKind::Xfs4iot][..],
            ),
            (
                "devices.document_printer",
                &d.document_printer,
                &[DriverKind::Cups][..],
            ),
            ("devices.lights", &d.lights, &[DriverKind::Xfs4iot][..]),
            (
                "devices.vendor_mode",
                &d.vendor_mode,
                &[DriverKind::Xfs4iot][..],
            ),
        ] {
            if let Some(mm) = dev.roll_length_mm {
                if key != "devices.printer" {
                    return err(
                        &format!("{key}.roll_length_mm"),
                        "只有收据打印机（devices.printer）有纸卷长度".into(),
                    );
                }
                if !ROLL_LENGTH_RANGE_MM.contains(&mm) {
                    return err(
                        &format!("{key}.roll_length_mm"),
                        format!(
                            "纸卷长度应在 {} 到 {} 毫米之间（5 米到 300 米），现为 {mm}",
                            ROLL_LENGTH_RANGE_MM.start(),
                            ROLL_LENGTH_RANGE_MM.end()
                        ),
                    );
                }
            }
            let real = !matches!(dev.driver, DriverKind::None | DriverKind::Simulated);
            if real && !allowed.contains(&dev.driver) {
                return err(
                    &format!("{key}.driver"),
                    format!("此设备不能使用驱动 {:?}", dev.driver),
                );
            }
            if real && dev.path.trim().is_empty() {
                return err(
                    &format!("{key}.path"),
                    "使用真实设备时必须填写端口、地址或设备路径".into(),
                );
            }
            if dev.driver == DriverKind::Xfs4iot {
                if let Err(message) = check_xfs4iot_uri(dev.path.trim()) {
                    return err(&format!("{key}.path"), message);
                }
            }
            if dev.driver == DriverKind::Simulated
                && matches!(key, "devices.lights" | "devices.vendor_mode")
            {
                return err(
                    &format!("{key}.driver"),
                    format!("{key} 只经宿主终端的 XFS4IoT 服务：请用 driver = \"xfs4iot\"，演示时 path = \"simulated\"（内置 XFS4IoT 模拟器）"),
                );
            }
            if let Some(b) = dev.baud {
                if !matches!(b, 9600 | 19200 | 38400 | 57600 | 115200 | 230400) {
                    return err(
                        &format!("{key}.baud"),
                        format!("不支持的波特率 {b}（可用 9600/19200/38400/57600/115200/230400）"),
                    );
                }
            }
        }
        if d.document_printer.driver == DriverKind::Simulated {
            return err(
                "devices.document_printer.driver",
                "A4 文书打印机没有内置模拟器：请用 driver = \"cups\"，path 填本机 CUPS 的打印队列名（可用 cups-pdf 队列代替真机）".into(),
            );
        }
        if d.document_printer.driver == DriverKind::Cups {
            if let Err(e) = ykb_drivers::cups::Queue::parse(&d.document_printer.path) {
                return err("devices.document_printer.path", e);
            }
        }
        Ok(())
    }

    /// The data directory: the profile's `data.dir`, or the default for this kind of profile
    /// (the demo uses a per-user directory, installed terminals /var/lib/ykb-terminal).
    pub fn data_dir(&self) -> PathBuf {
        if !self.data.dir.trim().is_empty() {
            return PathBuf::from(&self.data.dir);
        }
        if self.platform.mode == PlatformMode::Simulator {
            dirs::data_local_dir()
                .unwrap_or_else(std::env::temp_dir)
                .join("ykb-terminal")
                .join("demo")
        } else {
            PathBuf::from("/var/lib/ykb-terminal")
        }
    }
}

/// `http://127.0.0.1…`, `http://[::1]…` or `http://localhost…`.
/// Whether `url` is a platform address the client will use: it parses as a URL with a host,
/// and is https, or http to this machine (judged on the parsed host, so
/// `http://localhost:80@evil.example/` is evil.example).
fn check_platform_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| format!("远程平台地址 {url:?} 不是有效的网址（{e}）"))?;
    let Some(host) = parsed.host_str().filter(|h| !h.is_empty()) else {
        return Err(format!("远程平台地址 {url:?} 没有主机名"));
    };
    if parsed.scheme() == "https" {
        return Ok(());
    }
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if parsed.scheme() == "http" && loopback && is_loopback_http(url) {
        return Ok(());
    }
    Err(format!(
        "远程平台地址必须以 https:// 开头（明文 http 只允许本机），现为 {url:?}（主机 {host}）"
    ))
}

fn is_loopback_http(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// " (第 N 行)" for a byte span, or "".
fn line_of(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    span.map(|s| {
        let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
        format!("（第 {line} 行）")
    })
    .unwrap_or_default()
}

/// Puts serde's English phrasing into words a technician reads first, keeping the original.
fn translate(msg: &str) -> String {
    if msg.starts_with("unknown field") {
        format!("未知的配置项（可能拼写错误）：{msg}")
    } else if msg.starts_with("missing field") {
        format!("缺少必填配置项：{msg}")
    } else if msg.starts_with("invalid type") {
        format!("类型错误：{msg}")
    } else if msg.starts_with("unknown variant") {
        format!("取值无效：{msg}")
    } else {
        msg.to_owned()
    }
}

#[cfg(test)]
mod tests;
