//! 设备自检 — the self-test: every configured device through its real driver, the disk, the
//! platform (a heartbeat), the clock against the platform's and the pinned CA's expiry.
//!
//! With `simulated` device slots (the demo profile) the wire emulators from
//! `ykb_drivers::sim` are started in process — the ID-card reader on a pseudo-terminal, the
//! printer on loopback TCP, the scanner on a pseudo-terminal — so the same driver code runs
//! as on a real terminal. The report is a plain struct (serialised for `--json`); the test
//! passes when no check failed (warnings and skipped checks do not fail it).
//!
//! The report is then sent to the platform (`POST /v1/devices/selftest`, no personal data);
//! when the platform is unreachable or refuses it, [`Delivery`] says so and the report is
//! still shown. The devices' states are recorded in the store as the last known ones.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ykb_drivers::escpos::{
    load_font_static, test_receipt, PaperState, Printer, ReceiptRenderer, ReceiptStyle,
};
use ykb_drivers::idcard::{IdCardReader, IdReader, ServiceConfig};
use ykb_drivers::link::SerialLink;
use ykb_drivers::scanner::{ScanEvent, SerialScanner, SplitterConfig};
use ykb_drivers::DeviceState;

use crate::core::config::{DeviceSection, PlatformMode};
use crate::core::health::{self, DeviceHealth, DiskLevel, HealthSnapshot};
use crate::core::platform::{wire, PlatformClient, PlatformError};
use crate::core::{credentials, sync, Core};
use crate::fonts::UI_FONT;

use crate::terminal::slots::{self, ScannerSlot};

pub use crate::core::selftest::{outcome_name, Check, Delivery, Outcome, SelftestReport};

/// A fictional person on the emulator's test card (valid GB 11643 check digit).
const TEST_CARD: &str = r#"
kind = "resident"
name = "自检测试"
sex = "男"
nation = "汉"
birth_date = "1990-03-07"
address = "重庆市渝中区自检测试地址1号"
id_number = "500103199003070017"
authority = "重庆市公安局渝中区分局"
valid_from = "2020-01-01"
valid_to = "长期"
"#;

/// Clock difference that only warns (the signing window is ±300 s).
const SKEW_WARN_SECS: i64 = 30;
/// A pinned CA expiring within this many days warns.
const CA_WARN_DAYS: i64 = 30;

/// How to run the self-test.
#[derive(Debug, Clone)]
pub struct SelftestOptions {
    /// How long to wait for a card on a real reader (a technician places a test card).
    pub card_timeout: Duration,
    /// Print a test page (with QR) on the printer.
    pub print: bool,
    /// Where the simulated printer renders its pages (kept for the technician to look at).
    pub sim_out: PathBuf,
}

struct Timer(Instant);

impl Timer {
    fn start() -> Self {
        Self(Instant::now())
    }
    fn check(
        &self,
        id: &str,
        title: &str,
        outcome: Outcome,
        detail: String,
        advice: Option<&str>,
    ) -> Check {
        Check {
            id: id.into(),
            title: title.into(),
            outcome,
            detail,
            advice: advice.map(str::to_owned),
            elapsed_ms: self.0.elapsed().as_millis() as u64,
        }
    }
}

fn skipped(id: &str, title: &str) -> Check {
    Timer::start().check(
        id,
        title,
        Outcome::Skipped,
        "未配置（driver = \"none\"）".into(),
        None,
    )
}

/// A real device path that is not there: the usual "not plugged in".
fn missing_path(id: &str, title: &str, path: &str) -> Option<Check> {
    let p = super::probe::device_file(path).filter(|p| !p.exists())?;
    Some(Timer::start().check(
        id,
        title,
        Outcome::Fail,
        format!("设备 {} 不存在（未连接）", p.display()),
        Some("请检查设备电源和 USB 线，确认已按 packaging/README.md「稳定设备名」安装 udev 规则，再运行 ykb-terminal devices list"),
    ))
}

fn id_reader(dev: &DeviceSection, card_timeout: Duration) -> (Check, Option<DeviceHealth>) {
    const ID: &str = "id_reader";
    const TITLE: &str = "身份证阅读器读卡";
    let t = Timer::start();
    // The emulator (for `simulated`) must outlive the read.
    let slot = match slots::id_reader(dev, TEST_CARD) {
        Ok(None) => return (skipped(ID, TITLE), None),
        Ok(Some(slot)) => slot,
        Err(e) => {
            let c = t.check(
                ID,
                TITLE,
                Outcome::Fail,
                format!("读卡器模拟器无法启动：{e}"),
                None,
            );
            return (c, None);
        }
    };
    let timeout = match &slot.sim {
        Some(sim) => {
            let _ = sim.control("place");
            Duration::from_secs(10)
        }
        None => {
            if let Some(c) = missing_path(ID, TITLE, &dev.path) {
                let h = DeviceHealth {
                    state: DeviceState::Offline,
                    paper: None,
                };
                return (c, Some(h));
            }
            card_timeout
        }
    };
    let path = slot.path.clone();
    let reader = IdCardReader::spawn(slot.connector(), ServiceConfig::default());
    let result = reader.read_card(timeout).wait();
    let state = reader.state();
    drop(reader);
    match result {
        Ok(card) => {
            let s = card.summary(false);
            let checksum = match s.id_checksum_ok {
                Some(true) => "，证件号码校验位正确",
                Some(false) => "，证件号码校验位错误",
                None => "",
            };
            (
                t.check(
                    ID,
                    TITLE,
                    Outcome::Pass,
                    format!(
                        "{} 读卡成功：{}{checksum}",
                        path.display(),
                        s.kind.describe_zh()
                    ),
                    None,
                ),
                Some(DeviceHealth {
                    state: DeviceState::Online,
                    paper: None,
                }),
            )
        }
        Err(e) => (
            t.check(
                ID,
                TITLE,
                Outcome::Fail,
                format!("{} 读卡失败：{}（{e}）", path.display(), e.describe_zh()),
                Some(
                    "请在读卡区放置测试身份证后重试（--card-timeout 可延长等待）；仍失败请检查读卡器连线和波特率（devices.id_reader.baud）",
                ),
            ),
            Some(DeviceHealth {
                state: if state == DeviceState::Online {
                    DeviceState::UserError
                } else {
                    state
                },
                paper: None,
            }),
        ),
    }
}

/// The host's XFS4IoT printer: its status through the real driver (no test page: the paper
/// is the host's).
fn xfs4iot_printer(uri: &str, t: Timer) -> (Check, Option<DeviceHealth>) {
    const ID: &str = "printer";
    const TITLE: &str = "回执打印机状态与测试页";
    let status = ykb_drivers::xfs4iot::Xfs4IotPrinter::connect(uri, Default::default())
        .and_then(|p| p.status());
    match status {
        Ok(s) => (
            t.check(
                ID,
                TITLE,
                if s.can_print() {
                    Outcome::Pass
                } else {
                    Outcome::Fail
                },
                format!(
                    "XFS4IoT 打印服务 {uri}：{}，{}（纸张属宿主终端，不打测试页）",
                    s.state.describe_zh(),
                    s.paper.describe_zh()
                ),
                None,
            ),
            Some(DeviceHealth {
                state: s.state,
                paper: Some(s.paper),
            }),
        ),
        Err(e) => (
            t.check(
                ID,
                TITLE,
                Outcome::Fail,
                format!("XFS4IoT 打印服务 {uri} 无法使用：{}", e.describe_zh()),
                Some("请确认宿主终端的 XFS4IoT 服务已启动，地址（devices.printer.path）正确"),
            ),
            Some(DeviceHealth {
                state: DeviceState::Offline,
                paper: Some(PaperState::Unknown),
            }),
        ),
    }
}

fn printer(dev: &DeviceSection, opts: &SelftestOptions) -> (Check, Option<DeviceHealth>) {
    const ID: &str = "printer";
    const TITLE: &str = "回执打印机状态与测试页";
    let t = Timer::start();
    // The emulator (for `simulated`) must outlive the check.
    let font = load_font_static(UI_FONT).ok();
    let slot = match slots::printer(dev, &opts.sim_out, font.clone()) {
        Ok(None) => return (skipped(ID, TITLE), None),
        Ok(Some(slot)) => slot,
        Err(e) => return (t.check(ID, TITLE, Outcome::Fail, e, None), None),
    };
    if slots::is_xfs4iot(dev) {
        return xfs4iot_printer(&slot.uri, t);
    }
    if slot.sim.is_none() {
        if let Some(c) = missing_path(ID, TITLE, &dev.path) {
            let h = DeviceHealth {
                state: DeviceState::Offline,
                paper: Some(PaperState::Unknown),
            };
            return (c, Some(h));
        }
    }
    let offline = |detail: String| {
        (
            t.check(
                ID,
                TITLE,
                Outcome::Fail,
                detail,
                Some("请检查打印机电源、连线和地址（devices.printer.path），再运行 ykb-terminal printer status --printer URI"),
            ),
            Some(DeviceHealth {
                state: DeviceState::Offline,
                paper: Some(PaperState::Unknown),
            }),
        )
    };
    let uri = &slot.uri;
    let parsed = match slot.parsed() {
        Ok(u) => u,
        Err(e) => return offline(e),
    };
    let mut p = match Printer::open(&parsed) {
        Ok(p) => p,
        Err(e) => return offline(format!("{uri} 无法连接：{}（{e}）", e.describe_zh())),
    };
    let status = match p.status() {
        Ok(s) => s,
        Err(e) => return offline(format!("{uri} 状态查询失败：{}（{e}）", e.describe_zh())),
    };
    let health = Some(DeviceHealth {
        state: status.state,
        paper: Some(status.paper),
    });
    let mut detail = format!(
        "{uri}：{}，{}",
        status.state.describe_zh(),
        status.paper.describe_zh()
    );
    if !status.can_print() {
        return (
            t.check(
                ID,
                TITLE,
                Outcome::Fail,
                detail,
                Some("请装纸、关好机盖或清除卡纸后重试"),
            ),
            health,
        );
    }
    if opts.print {
        let renderer = ReceiptRenderer::new(font, ReceiptStyle::default());
        let printed = renderer
            .to_escpos(&test_receipt())
            .map_err(|e| format!("测试页生成失败：{e}"))
            .and_then(|(bytes, _)| {
                p.print(&bytes)
                    .map(|()| bytes.len())
                    .map_err(|e| format!("测试页打印失败：{}（{e}）", e.describe_zh()))
            });
        match printed {
            Ok(n) => {
                detail.push_str(&format!("；测试页（含二维码）已发送 {n} 字节"));
                if let Some(s) = &slot.sim {
                    if let Some(png) = s.shared().wait_for_jobs(1, Duration::from_secs(10)).first()
                    {
                        detail.push_str(&format!("，模拟打印机已出纸：{}", png.display()));
                    } else {
                        return (
                            t.check(
                                ID,
                                TITLE,
                                Outcome::Fail,
                                format!("{detail}；模拟打印机未收到完整的测试页"),
                                None,
                            ),
                            health,
                        );
                    }
                }
            }
            Err(e) => {
                return (
                    t.check(
                        ID,
                        TITLE,
                        Outcome::Fail,
                        format!("{detail}；{e}"),
                        Some("请检查纸卷和打印头后重试"),
                    ),
                    health,
                )
            }
        }
    }
    let (outcome, advice) = match status.paper {
        PaperState::NearEnd => (Outcome::Warn, Some("纸将用尽，请及时更换纸卷")),
        _ => (Outcome::Pass, None),
    };
    (t.check(ID, TITLE, outcome, detail, advice), health)
}

fn scanner(dev: &DeviceSection) -> (Check, Option<DeviceHealth>) {
    const ID: &str = "scanner";
    const TITLE: &str = "扫码器";
    let t = Timer::start();
    let online = Some(DeviceHealth {
        state: DeviceState::Online,
        paper: None,
    });
    let offline = Some(DeviceHealth {
        state: DeviceState::Offline,
        paper: None,
    });
    // A scanner that could be opened (what was seen), or why not and what to do.
    let opened = |result: Result<String, (String, Option<&'static str>)>| match result {
        Ok(detail) => (t.check(ID, TITLE, Outcome::Pass, detail, None), online),
        Err((detail, advice)) => (t.check(ID, TITLE, Outcome::Fail, detail, advice), offline),
    };
    let slot = match slots::scanner(dev) {
        Ok(None) => return (skipped(ID, TITLE), None),
        Ok(Some(slot)) => slot,
        Err(e) => {
            return (
                t.check(
                    ID,
                    TITLE,
                    Outcome::Fail,
                    format!("扫码器模拟器无法启动：{e}"),
                    None,
                ),
                None,
            )
        }
    };
    match slot {
        ScannerSlot::Serial {
            connector,
            sim: Some(sim),
        } => {
            let (scanner, events) = SerialScanner::spawn(connector, SplitterConfig::default());
            let code = format!("YKB-SELFTEST-{}", uuid::Uuid::now_v7().simple());
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut got = false;
            // The driver may not have opened the port yet: scan again until it reads one.
            while !got && Instant::now() < deadline {
                sim.device().scan(&code);
                let until = Instant::now() + Duration::from_millis(500);
                while let Some(left) = until.checked_duration_since(Instant::now()) {
                    match events.recv_timeout(left) {
                        Ok(ScanEvent::Code(p)) if p.text == code => {
                            got = true;
                            break;
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
            }
            drop(scanner);
            if got {
                (
                    t.check(
                        ID,
                        TITLE,
                        Outcome::Pass,
                        format!("{}：测试码已读到", sim.path().display()),
                        None,
                    ),
                    online,
                )
            } else {
                (
                    t.check(
                        ID,
                        TITLE,
                        Outcome::Fail,
                        format!("{}：10 秒内未读到测试码", sim.path().display()),
                        None,
                    ),
                    offline,
                )
            }
        }
        ScannerSlot::Xfs4Iot(uri) => opened(
            ykb_drivers::xfs4iot::Xfs4IotBarcodeReader::connect(&uri, Default::default())
                .map(|_| format!("XFS4IoT 扫码服务 {uri} 可连接；请扫一个二维码确认读码"))
                .map_err(|e| {
                    (
                        format!("XFS4IoT 扫码服务 {uri} 无法连接：{}", e.describe_zh()),
                        Some(
                            "请确认宿主终端的 XFS4IoT 服务已启动，地址（devices.scanner.path）正确",
                        ),
                    )
                }),
        ),
        ScannerSlot::Evdev(_) => {
            if let Some(c) = missing_path(ID, TITLE, &dev.path) {
                return (c, offline);
            }
            opened(
                std::fs::File::open(&dev.path)
                    .map(|_| format!("{} 可打开；请扫一个二维码确认读码", dev.path))
                    .map_err(|e| {
                        (
                            format!("{} 无法打开（{e}）", dev.path),
                            Some("请确认服务账户在 input 组，或检查 udev 规则中的权限"),
                        )
                    }),
            )
        }
        ScannerSlot::Serial { sim: None, .. } => {
            if let Some(c) = missing_path(ID, TITLE, &dev.path) {
                return (c, offline);
            }
            match SerialLink::open(&dev.path, dev.baud.unwrap_or(9600)) {
                Ok(_) => (
                    t.check(
                        ID,
                        TITLE,
                        Outcome::Pass,
                        format!(
                            "{} 已打开；请运行 ykb-terminal scan --port {} 并扫一个二维码确认读码",
                            dev.path, dev.path
                        ),
                        None,
                    ),
                    online,
                ),
                Err(e) => (
                    t.check(
                        ID,
                        TITLE,
                        Outcome::Fail,
                        format!("{} 无法打开（{e}）", dev.path),
                        Some("请确认服务账户在 dialout 组，且没有其他程序占用该端口"),
                    ),
                    offline,
                ),
            }
        }
    }
}

fn camera(id: &str, title: &str, dev: &DeviceSection) -> (Check, Option<DeviceHealth>) {
    let t = Timer::start();
    let Some(source) = slots::camera(dev, Some("pattern:640x480")) else {
        return (skipped(id, title), None);
    };
    if !slots::is_emulated(dev) {
        if let Some(c) = missing_path(id, title, &dev.path) {
            let h = DeviceHealth {
                state: DeviceState::Offline,
                paper: None,
            };
            return (c, Some(h));
        }
    }
    let frame = ykb_drivers::camera::open_source(&source).and_then(|mut s| {
        let f = s.next_frame()?;
        Ok((s.describe(), f.width(), f.height()))
    });
    match frame {
        Ok((name, w, h)) => (
            t.check(
                id,
                title,
                Outcome::Pass,
                format!("{name}：取得一帧 {w}×{h}"),
                None,
            ),
            Some(DeviceHealth {
                state: DeviceState::Online,
                paper: None,
            }),
        ),
        Err(e) => (
            t.check(
                id,
                title,
                Outcome::Fail,
                format!("{source}：{}（{e}）", e.describe_zh()),
                Some("请检查摄像头连线；本程序需以 v4l2 功能编译才能使用 V4L2 摄像头"),
            ),
            Some(DeviceHealth {
                state: DeviceState::Offline,
                paper: None,
            }),
        ),
    }
}

fn disk(data_dir: &Path) -> Check {
    const ID: &str = "disk";
    const TITLE: &str = "数据目录磁盘空间";
    let t = Timer::start();
    match health::disk_space(data_dir) {
        Ok(d) => {
            let mib = |b: u64| b / (1024 * 1024);
            let detail = format!(
                "{}：可用 {} MiB / 共 {} MiB",
                data_dir.display(),
                mib(d.free_bytes),
                mib(d.total_bytes)
            );
            let (outcome, advice) = match d.level() {
                DiskLevel::Critical => (
                    Outcome::Fail,
                    Some("磁盘空间不足：请清理日志或扩容，否则离线暂存将拒绝新业务"),
                ),
                DiskLevel::Low => (Outcome::Warn, Some("磁盘空间偏少，请安排清理")),
                DiskLevel::Ok => (Outcome::Pass, None),
            };
            t.check(ID, TITLE, outcome, detail, advice)
        }
        Err(e) => t.check(
            ID,
            TITLE,
            Outcome::Fail,
            format!("{} 无法查询（{e}）", data_dir.display()),
            Some("请检查数据目录是否存在"),
        ),
    }
}

fn ca_cert(ca_file: &str) -> Check {
    const ID: &str = "ca_cert";
    const TITLE: &str = "平台 CA 证书有效期";
    let t = Timer::start();
    if ca_file.trim().is_empty() {
        return t.check(
            ID,
            TITLE,
            Outcome::Skipped,
            "未配置证书固定（platform.ca_file 为空，使用内置根证书）".into(),
            None,
        );
    }
    let pem = match std::fs::read_to_string(ca_file) {
        Ok(p) => p,
        Err(e) => {
            return t.check(
                ID,
                TITLE,
                Outcome::Fail,
                format!("{ca_file} 无法读取（{e}）"),
                Some("请检查配置 platform.ca_file 指向的证书文件"),
            )
        }
    };
    let v = match super::cert::pem_validities(&pem) {
        Ok(v) => v,
        Err(e) => {
            return t.check(
                ID,
                TITLE,
                Outcome::Fail,
                format!("{ca_file} 不是有效的 PEM 证书（{e}）"),
                Some("请向平台运维索取正确的 CA 证书"),
            )
        }
    };
    let now = jiff::Timestamp::now();
    // The soonest-expiring certificate in the bundle decides.
    let soonest = v.iter().map(|c| c.not_after).min().unwrap_or(now);
    let days = (soonest.as_second() - now.as_second()).div_euclid(86_400);
    let not_yet = v.iter().any(|c| c.not_before > now);
    let detail = format!("{ca_file}：{} 张证书，最早于 {soonest} 到期", v.len());
    if soonest <= now {
        t.check(
            ID,
            TITLE,
            Outcome::Fail,
            format!("{detail}（已过期）"),
            Some("证书已过期：请向平台运维索取新的 CA 证书并替换"),
        )
    } else if not_yet {
        t.check(
            ID,
            TITLE,
            Outcome::Fail,
            format!("{detail}（尚未生效）"),
            Some("证书尚未生效：请检查终端时钟（NTP）"),
        )
    } else if days < CA_WARN_DAYS {
        t.check(
            ID,
            TITLE,
            Outcome::Warn,
            format!("{detail}（剩余 {days} 天）"),
            Some("证书即将到期：请尽快向平台运维索取新的 CA 证书"),
        )
    } else {
        t.check(
            ID,
            TITLE,
            Outcome::Pass,
            format!("{detail}（剩余 {days} 天）"),
            None,
        )
    }
}

const PLATFORM_TITLE: &str = "政务服务平台连通（心跳）";

/// A client ready to talk to the platform (and the demo's own simulator, kept alive while
/// the client is used).
struct Connection {
    client: PlatformClient,
    base_url: String,
    sim: Option<crate::sim::platform::SimHandle>,
}

/// Builds the client and loads the credentials; on failure, what to say and advise.
async fn connect(core: &mut Core) -> Result<Connection, (String, &'static str)> {
    if core.profile.platform.mode == PlatformMode::Simulator {
        let demo = crate::sim::demo::start_registered(core).await?;
        demo.registration
            .map_err(|e| (format!("模拟平台注册失败：{e}"), "请重试"))?;
        return Ok(Connection {
            base_url: demo.client.config().base_url.clone(),
            client: demo.client,
            sim: Some(demo.sim),
        });
    }
    let client = sync::platform_client(&core.profile, &core.data_dir, None)?;
    let base_url = client.config().base_url.clone();
    match credentials::stored(&mut core.store, &core.key, &base_url) {
        Ok(Some(c)) => client.set_credentials(c),
        Ok(None) => {
            return Err((
                format!("本机尚未在平台 {base_url} 注册"),
                "请运行 ykb-terminal provision（或 sync --enrolment-code）完成注册",
            ))
        }
        Err(e) => return Err((e.to_string(), "请检查数据目录和数据加密密钥")),
    }
    Ok(Connection {
        client,
        base_url,
        sim: None,
    })
}

/// The platform part: a heartbeat (reachability) and the clock skew it reveals. Also says
/// whether the platform is worth asking again (for sending the report).
async fn platform_checks(
    conn: Result<&Connection, (String, &'static str)>,
    snapshot: &mut HealthSnapshot,
    t: &Timer,
) -> (Vec<Check>, Result<(), String>) {
    let fail = |detail: String, advice: &str| {
        vec![
            t.check(
                "platform",
                PLATFORM_TITLE,
                Outcome::Fail,
                detail,
                Some(advice),
            ),
            t.check(
                "clock",
                "终端时钟与平台时钟",
                Outcome::Skipped,
                "平台不可达，无法比对".into(),
                None,
            ),
        ]
    };
    let conn = match conn {
        Ok(c) => c,
        Err((detail, advice)) => return (fail(detail.clone(), advice), Err(detail)),
    };
    let base_url = &conn.base_url;
    match conn.client.heartbeat(&snapshot.heartbeat()).await {
        Ok(ack) => {
            let skew = ack.server_time - jiff::Timestamp::now().as_second();
            snapshot.clock_skew_secs = Some(skew);
            let platform = t.check(
                "platform",
                PLATFORM_TITLE,
                Outcome::Pass,
                format!(
                    "{base_url}：心跳已确认，平台目录版本 {}，本机 {}",
                    ack.catalog_version, snapshot.catalog_version
                ),
                None,
            );
            let (outcome, advice) = if skew.abs() > wire::MAX_SKEW_SECS {
                (
                    Outcome::Fail,
                    Some("时钟偏差超出平台允许范围（±300 秒）：请启用 NTP 校时（timedatectl set-ntp true）"),
                )
            } else if skew.abs() > SKEW_WARN_SECS {
                (Outcome::Warn, Some("请检查 NTP 校时"))
            } else {
                (Outcome::Pass, None)
            };
            let clock = t.check(
                "clock",
                "终端时钟与平台时钟",
                outcome,
                format!(
                    "平台时钟比本机 {} {} 秒",
                    if skew >= 0 { "快" } else { "慢" },
                    skew.abs()
                ),
                advice,
            );
            (vec![platform, clock], Ok(()))
        }
        Err(e) => {
            let detail = format!("{base_url}：{e}");
            let advice = if credentials::is_refused(&e) {
                credentials::CREDENTIAL_REFUSED_ADVICE
            } else {
                "请检查网络、代理（platform.proxy）和平台地址；离线期间业务会暂存，恢复后自动补传"
            };
            // Unreachable, slow or refusing us: sending the report would only fail the same way.
            let again = match e {
                PlatformError::Unreachable(_) | PlatformError::Timeout => Err(detail.clone()),
                ref e if credentials::is_refused(e) => Err(detail.clone()),
                _ => Ok(()),
            };
            (fail(detail, advice), again)
        }
    }
}

fn not_sent(why: &str) -> Delivery {
    Delivery {
        sent: false,
        report_id: None,
        detail: format!(
            "自检报告未发送到平台：{why}。报告仅在本机显示；平台恢复后请重新运行自检。"
        ),
    }
}

/// Sends the report, or says why it was not sent.
async fn deliver(conn: Option<&Connection>, report: &SelftestReport) -> Delivery {
    let Some(conn) = conn else {
        return not_sent("平台不可用");
    };
    match conn.client.selftest_report(&report.to_wire()).await {
        Ok(r) => Delivery {
            sent: true,
            detail: format!("自检报告已发送到平台（报告号 {}）", r.report_id),
            report_id: Some(r.report_id),
        },
        Err(e) => not_sent(&e.to_string()),
    }
}

/// Runs every check and sends the report to the platform. Device checks block (driver
/// threads); the platform part runs on a small runtime of its own. The devices' states are
/// recorded in the store as the last known ones (the agent's heartbeat carries them).
pub fn run(core: &mut Core, opts: &SelftestOptions) -> SelftestReport {
    let at = jiff::Timestamp::now().to_string();
    // The demo's host terminal (XFS4IoT emulator), for the slots that ask for it.
    let _host = match slots::xfs4iot_host(&mut core.profile.devices) {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(error = %e, "XFS4IoT host emulator not started");
            None
        }
    };
    let d = core.profile.devices.clone();
    let mut checks = Vec::new();
    let mut devices = BTreeMap::new();
    let mut add = |(c, h): (Check, Option<DeviceHealth>), checks: &mut Vec<Check>| {
        if let Some(h) = h {
            devices.insert(c.id.clone(), h);
        }
        checks.push(c);
    };
    add(id_reader(&d.id_reader, opts.card_timeout), &mut checks);
    add(printer(&d.printer, opts), &mut checks);
    add(scanner(&d.scanner), &mut checks);
    add(camera("camera", "摄像头取帧", &d.camera), &mut checks);
    add(
        camera("document_camera", "高拍仪取帧", &d.document_camera),
        &mut checks,
    );
    if let Err(e) = health::record_devices(&mut core.store, "selftest", &devices) {
        tracing::warn!(error = %e, "device states not recorded");
    }
    checks.push(disk(&core.data_dir));
    let quota = core.quota();
    let data_dir = core.data_dir.clone();
    let mut snapshot =
        match health::collect(&mut core.store, &data_dir, quota, devices.clone(), None) {
            Ok(s) => s,
            Err(e) => {
                checks.push(Timer::start().check(
                    "store",
                    "本机数据库",
                    Outcome::Fail,
                    e.to_string(),
                    Some("请检查数据目录"),
                ));
                HealthSnapshot {
                    app_version: health::APP_VERSION.into(),
                    catalog_version: 0,
                    devices,
                    outbox_pending: 0,
                    outbox_dead: 0,
                    outbox_quarantined: 0,
                    outbox_paused: None,
                    outbox_bytes: 0,
                    outbox_quota_bytes: quota.bytes,
                    oldest_pending_age_secs: None,
                    disk: health::disk_space(&data_dir).ok(),
                    clock_skew_secs: None,
                    audit_head: None,
                }
            }
        };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => Some(rt),
        Err(e) => {
            checks.push(Timer::start().check(
                "platform",
                PLATFORM_TITLE,
                Outcome::Fail,
                format!("无法启动异步运行时：{e}"),
                None,
            ));
            None
        }
    };
    let (conn, reachable) = match &rt {
        Some(rt) => {
            let t = Timer::start();
            let conn = rt.block_on(connect(core));
            let (platform, reachable) = rt.block_on(platform_checks(
                conn.as_ref().map_err(|e| e.clone()),
                &mut snapshot,
                &t,
            ));
            checks.extend(platform);
            (conn.ok(), reachable)
        }
        None => (None, Err("无法启动异步运行时".to_owned())),
    };
    checks.push(ca_cert(&core.profile.platform.ca_file));
    let mut report = SelftestReport {
        terminal: core.profile.terminal.name.clone(),
        app_version: health::APP_VERSION.into(),
        at,
        passed: checks.iter().all(|c| c.outcome != Outcome::Fail),
        checks,
        health: snapshot,
        delivery: not_sent("尚未发送"),
    };
    report.delivery = match (&rt, reachable) {
        (Some(rt), Ok(())) => rt.block_on(deliver(conn.as_ref(), &report)),
        (_, Err(why)) => not_sent(&why),
        (None, Ok(())) => not_sent("无法启动异步运行时"),
    };
    if let (Some(rt), Some(Connection { sim: Some(sim), .. })) = (&rt, conn) {
        rt.block_on(sim.shutdown());
    }
    report
}
