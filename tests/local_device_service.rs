//! The local device service of the real kiosk, used the way another department's service or
//! the host terminal's application uses it: over loopback WebSocket (the drivers' XFS4IoT
//! client, and a bare socket for what no well-behaved client sends), while the citizen's
//! side is driven on Slint's testing backend by accessible label.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use i_slint_backend_testing::ElementHandle;
use serde_json::{json, Map, Value};
use slint::ComponentHandle;
use ykb_drivers::xfs4iot::{
    ClientConfig, Command, CommandUpdate, CompletionCode, PendingCommand, ServiceClient,
    Xfs4IotError,
};
use ykb_terminal::core::config::devservice::ClientApp;
use ykb_terminal::core::config::{LocalDeviceServiceSection, Profile};
use ykb_terminal::core::Core;
use ykb_terminal::kiosk::Kiosk;
use ykb_terminal::ui::{
    AppWindow, ApplyAdapter, ConsentAdapter, KioskAdapter, Page, SessionAdapter,
};

const BANK_TOKEN: &str = "bank-token-0123456789abcdef";
const POST_TOKEN: &str = "post-token-0123456789abcdef";
const DEMO_ID: &str = "500105198511220024";

fn press(window: &AppWindow, label: &str) {
    lay_out(window);
    let found: Vec<_> = ElementHandle::find_by_accessible_label(window, label).collect();
    assert!(!found.is_empty(), "no control labelled {label:?}");
    found[0].invoke_accessible_default_action();
}

fn lay_out(window: &AppWindow) {
    window.show().unwrap();
    let mut count = 0;
    for _ in 0..8 {
        let all = i_slint_backend_testing::ElementQuery::from_root(window).find_all();
        for e in &all {
            let _ = e.size();
        }
        if all.len() == count {
            break;
        }
        count = all.len();
    }
}

fn wait_until(kiosk: &Kiosk, what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(30));
        kiosk.process_device_events();
    }
}

struct Kiosked {
    window: AppWindow,
    kiosk: Kiosk,
    addr: SocketAddr,
    dir: tempfile::TempDir,
    /// 居民身份证换领's task code.
    renewal: String,
    _platform: std::sync::Arc<ykb_terminal::terminal::link::PlatformLink>,
}

fn token_file(dir: &std::path::Path, name: &str, token: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, format!("{token}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    p
}

/// The demo kiosk at home with the card emulator, its local device service on a free port,
/// and two clients: `bank-app` (ID card, printer, errands) and `post-app` (ID card only).
fn kiosk() -> Kiosked {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("warn")
        .try_init();
    i_slint_backend_testing::init_no_event_loop();
    let dir = tempfile::tempdir().unwrap();
    let mut profile = Profile::demo();
    profile.local_device_service = Some(LocalDeviceServiceSection {
        port: 0,
        clients: vec![
            ClientApp {
                id: "bank-app".into(),
                name: "银行自助服务".into(),
                token_file: token_file(dir.path(), "bank.token", BANK_TOKEN),
                services: vec![
                    "YkbIdCard".into(),
                    "Printer".into(),
                    "YkbErrand".into(),
                    "BarcodeReader".into(),
                    "Camera".into(),
                ],
            },
            ClientApp {
                id: "post-app".into(),
                name: "邮政便民服务".into(),
                token_file: token_file(dir.path(), "post.token", POST_TOKEN),
                services: vec!["YkbIdCard".into()],
            },
        ],
    });
    let mut core = Core::start(profile, dir.path()).unwrap();
    let renewal = core
        .catalog
        .matters
        .iter()
        .find(|m| m.name == "居民身份证换领")
        .unwrap()
        .task_code
        .to_string();
    let platform = std::sync::Arc::new(
        ykb_terminal::terminal::link::PlatformLink::start_demo(&mut core).expect("demo"),
    );
    let window = AppWindow::new().unwrap();
    window
        .window()
        .set_size(slint::LogicalSize::new(1280.0, 1600.0));
    let kiosk = Kiosk::attach(&window, core);
    kiosk.use_platform(platform.clone());
    kiosk.start_printer();
    kiosk.start_demo_card_reader();
    kiosk.start_scanner();
    kiosk.start_local_device_service();
    let addr = kiosk
        .local_device_service_addr()
        .expect("the service listens");
    assert!(addr.ip().is_loopback());
    Kiosked {
        window,
        kiosk,
        addr,
        dir,
        renewal,
        _platform: platform,
    }
}

fn uri(addr: SocketAddr, service: &str, client: &str, token: &str) -> String {
    format!("ws://{addr}/xfs4iot/v1.0/{service}?client={client}&token={token}")
}

fn connect(k: &Kiosked, service: &str, client: &str, token: &str) -> ServiceClient {
    ServiceClient::connect(
        &uri(k.addr, service, client, token),
        ClientConfig::default(),
    )
    .unwrap()
}

fn command(name: &str, payload: Value, secs: u64) -> Command {
    let mut c = Command::new(name).timeout(Duration::from_secs(secs));
    if let Value::Object(m) = payload {
        c.payload = m;
    }
    c
}

/// The command's next update, running the kiosk's inbox meanwhile.
fn next_update(k: &Kiosked, pending: &mut PendingCommand, what: &str) -> CommandUpdate {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        k.kiosk.process_device_events();
        if let Some(u) = pending.next(Duration::from_millis(30)) {
            if !matches!(u, CommandUpdate::Acknowledged) {
                return u;
            }
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
    }
}

fn done(
    k: &Kiosked,
    pending: &mut PendingCommand,
    what: &str,
) -> Result<Map<String, Value>, Xfs4IotError> {
    loop {
        match next_update(k, pending, what) {
            CommandUpdate::Done(r) => return r.map(|c| c.payload),
            CommandUpdate::Event { .. } | CommandUpdate::Acknowledged => {}
        }
    }
}

fn failed_code(
    r: &Result<Map<String, Value>, Xfs4IotError>,
) -> Option<(CompletionCode, Option<String>)> {
    match r {
        Err(Xfs4IotError::Failed {
            code, error_code, ..
        }) => Some((*code, error_code.clone())),
        _ => None,
    }
}

/// The audit log's (actor, action, detail) rows so far.
fn audit(k: &Kiosked) -> Vec<(String, String, String)> {
    let mut store =
        ykb_terminal::core::store::Store::open(&k.dir.path().join(ykb_terminal::core::STORE_FILE))
            .unwrap();
    ykb_terminal::core::audit::list(&mut store)
        .unwrap()
        .into_iter()
        .map(|e| (e.actor, e.action, e.detail))
        .collect()
}

fn wait_for_audit(k: &Kiosked, what: &str, want: impl Fn(&(String, String, String)) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !audit(k).iter().any(&want) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {:?}",
            audit(k)
        );
        std::thread::sleep(Duration::from_millis(30));
        k.kiosk.process_device_events();
    }
}

#[test]
fn a_service_gets_the_id_card_only_after_the_citizen_agrees_and_others_are_told_busy() {
    let k = kiosk();
    let consent = k.window.global::<ConsentAdapter>();
    let session = k.window.global::<SessionAdapter>();
    let bank = connect(&k, "YkbIdCard", "bank-app", BANK_TOKEN);
    let mut read = bank.send(command("YkbIdCard.ReadCard", json!({}), 30));
    wait_until(&k.kiosk, "the consent screen", || {
        consent.get_title() == "银行自助服务 服务请求读取您的身份证信息"
    });
    // Nothing is read or released before the citizen decides.
    assert!(read
        .next(Duration::from_millis(200))
        .is_none_or(|u| matches!(u, CommandUpdate::Acknowledged)));
    // Another client, and the same client asking twice, are told busy.
    let post = connect(&k, "YkbIdCard", "post-app", POST_TOKEN);
    let r = done(
        &k,
        &mut post.send(command("YkbIdCard.ReadCard", json!({}), 30)),
        "busy",
    );
    assert_eq!(
        failed_code(&r).map(|c| c.0),
        Some(CompletionCode::DeviceNotReady),
        "{r:?}"
    );
    let r = done(
        &k,
        &mut bank.send(command("YkbIdCard.ReadCard", json!({}), 30)),
        "busy twice",
    );
    assert_eq!(
        failed_code(&r).map(|c| c.0),
        Some(CompletionCode::DeviceNotReady),
        "{r:?}"
    );
    // 同意: the identify page waits for the card and the client is told to present it.
    press(&k.window, "同意");
    assert_eq!(consent.get_title(), "");
    assert_eq!(k.window.global::<KioskAdapter>().get_page(), Page::Identify);
    match next_update(&k, &mut read, "the insert-card event") {
        CommandUpdate::Event { name, .. } => assert_eq!(name, "YkbIdCard.InsertCardEvent"),
        other => panic!("{other:?}"),
    }
    press(&k.window, "放置演示身份证");
    let card = done(&k, &mut read, "the card").unwrap();
    assert_eq!(card["name"], "李喆");
    assert_eq!(card["idNumber"], DEMO_ID);
    // The card went to the client, not into the citizen's session on our screen.
    k.kiosk.process_device_events();
    assert_eq!(session.get_person_name(), "");
    assert_eq!(k.window.global::<KioskAdapter>().get_page(), Page::Home);
    wait_for_audit(&k, "the use audited", |(actor, action, _)| {
        actor == "client:bank-app" && action == "device_service_use"
    });
    let rows = audit(&k);
    assert!(rows
        .iter()
        .any(|(a, act, _)| a == "client:post-app" && act == "device_service_refused"));
    let all = format!("{rows:?}");
    assert!(
        !all.contains("李喆") && !all.contains(DEMO_ID) && !all.contains(BANK_TOKEN),
        "{all}"
    );
}

#[test]
fn refusing_on_screen_releases_nothing_and_the_next_card_is_the_citizens_own() {
    let k = kiosk();
    let consent = k.window.global::<ConsentAdapter>();
    let bank = connect(&k, "YkbIdCard", "bank-app", BANK_TOKEN);
    let mut read = bank.send(command("YkbIdCard.ReadCard", json!({}), 30));
    wait_until(&k.kiosk, "the consent screen", || consent.get_title() != "");
    press(&k.window, "拒绝");
    let r = done(&k, &mut read, "the refusal");
    assert_eq!(
        failed_code(&r),
        Some((
            CompletionCode::CommandErrorCode,
            Some("consentRefused".into())
        )),
        "{r:?}"
    );
    // The citizen's own card read is theirs.
    let session = k.window.global::<SessionAdapter>();
    press(&k.window, "刷身份证");
    press(&k.window, "放置演示身份证");
    wait_until(&k.kiosk, "the citizen's card", || {
        session.get_person_name() != ""
    });
    wait_for_audit(&k, "the refusal audited", |(actor, action, detail)| {
        actor == "client:bank-app"
            && action == "device_service_refused"
            && detail.contains("未同意")
    });
}

/// A bare WebSocket handshake for `path_query` from `stream`; the HTTP status line.
fn handshake(stream: &mut TcpStream, addr: SocketAddr, path_query: &str) -> String {
    write!(
        stream,
        "GET {path_query} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut b) {
            Ok(1) => head.push(b[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Sends one masked text frame.
fn send_text(stream: &mut TcpStream, text: &[u8]) {
    let mut f = vec![0x81u8];
    match text.len() {
        n if n < 126 => f.push(0x80 | n as u8),
        n if n < 65536 => {
            f.push(0x80 | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(0x80 | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    // A zero mask leaves the bytes as they are.
    f.extend_from_slice(&[0, 0, 0, 0]);
    f.extend_from_slice(text);
    let _ = stream.write_all(&f);
}

/// Reads one frame: opcode and payload (`None` when the socket closed).
fn read_frame(stream: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut h = [0u8; 2];
    stream.read_exact(&mut h).ok()?;
    let mut len = u64::from(h[1] & 0x7f);
    if len == 126 {
        let mut l = [0u8; 2];
        stream.read_exact(&mut l).ok()?;
        len = u64::from(u16::from_be_bytes(l));
    } else if len == 127 {
        let mut l = [0u8; 8];
        stream.read_exact(&mut l).ok()?;
        len = u64::from_be_bytes(l);
    }
    let mut p = vec![0u8; len as usize];
    stream.read_exact(&mut p).ok()?;
    Some((h[0] & 0x0f, p))
}

/// A TCP connection to `addr` from the local address `from`.
fn connect_from(from: [u8; 4], addr: SocketAddr) -> std::io::Result<TcpStream> {
    use std::os::fd::FromRawFd;
    let SocketAddr::V4(to) = addr else { panic!() };
    let sa = |ip: [u8; 4], port: u16| libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes(ip),
        },
        sin_zero: [0; 8],
    };
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: a fresh socket, addresses on the stack of the right size; the fd is owned by
    // the TcpStream from here on.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0);
        let stream = TcpStream::from_raw_fd(fd);
        let local = sa(from, 0);
        if libc::bind(fd, (&local as *const libc::sockaddr_in).cast(), len) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let remote = sa(to.ip().octets(), to.port());
        if libc::connect(fd, (&remote as *const libc::sockaddr_in).cast(), len) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(stream)
    }
}

#[test]
fn no_token_a_wrong_token_another_address_or_a_service_not_allowed_are_refused_audited_and_read_nothing(
) {
    let k = kiosk();
    let path = |service: &str, q: &str| format!("/xfs4iot/v1.0/{service}{q}");
    let status = |pq: &str| {
        let mut s = TcpStream::connect(k.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        handshake(&mut s, k.addr, pq)
    };
    assert!(status(&path("YkbIdCard", "")).contains(" 401"), "no token");
    assert!(
        status(&path(
            "YkbIdCard",
            "?client=bank-app&token=bank-token-0123456789abcdeX"
        ))
        .contains(" 401"),
        "wrong token"
    );
    assert!(
        status(&path(
            "YkbIdCard",
            "?client=nobody&token=bank-token-0123456789abcdef"
        ))
        .contains(" 401"),
        "unknown client"
    );
    assert!(
        status(&path(
            "Printer",
            &format!("?client=post-app&token={POST_TOKEN}")
        ))
        .contains(" 403"),
        "a service not allowed"
    );
    assert!(
        status(&path(
            "Lights",
            &format!("?client=bank-app&token={BANK_TOKEN}")
        ))
        .contains(" 404"),
        "no such service"
    );
    // From another address than the service's own loopback one: closed unheard.
    let mut other = connect_from([127, 0, 0, 2], k.addr).expect("127.0.0.2 is routable here");
    other
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let line = handshake(
        &mut other,
        k.addr,
        &path("YkbIdCard", &format!("?client=bank-app&token={BANK_TOKEN}")),
    );
    assert_eq!(line, "", "no answer to a peer that is not 127.0.0.1");
    // Nothing was asked of the citizen, and every refusal is in the audit log.
    wait_until(&k.kiosk, "the refusals audited", || {
        audit(&k)
            .iter()
            .filter(|(_, a, _)| a == "device_service_refused")
            .count()
            >= 6
    });
    let rows = audit(&k);
    assert_eq!(k.window.global::<ConsentAdapter>().get_title(), "");
    assert!(
        rows.iter()
            .any(|(a, _, d)| a == "client:bank-app" && d.contains("令牌不对")),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|(a, _, d)| a == "client:post-app" && d.contains("无权")),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|(a, _, d)| a == "client:unknown" && d.contains("127.0.0.2")),
        "{rows:?}"
    );
    assert!(rows.iter().all(|(_, a, _)| a != "device_service_use"));
    assert!(
        !format!("{rows:?}").contains("bank-token"),
        "no token in the log"
    );
}

#[test]
fn malformed_or_oversized_messages_get_one_clear_close_and_the_kiosk_carries_on() {
    let k = kiosk();
    let admitted = |k: &Kiosked| {
        let mut s = TcpStream::connect(k.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let line = handshake(
            &mut s,
            k.addr,
            &format!("/xfs4iot/v1.0/YkbIdCard?client=bank-app&token={BANK_TOKEN}"),
        );
        assert!(line.contains(" 101"), "{line}");
        s
    };
    let mut s = admitted(&k);
    send_text(&mut s, b"{\"header\": {\"type\": \"command\", 500105");
    let (op, body) = read_frame(&mut s).expect("a close frame");
    assert_eq!(op, 8, "close");
    assert_eq!(u16::from_be_bytes([body[0], body[1]]), 1007);
    assert!(String::from_utf8_lossy(&body[2..]).contains("not an XFS4IoT message"));
    let mut s = admitted(&k);
    send_text(
        &mut s,
        format!("{{\"x\":\"{}\"}}", "a".repeat(70 * 1024)).as_bytes(),
    );
    let (op, body) = read_frame(&mut s).expect("a close frame");
    assert_eq!(op, 8, "close");
    assert_eq!(u16::from_be_bytes([body[0], body[1]]), 1009);
    // A command naming its id but breaking a rule is refused by its acknowledge.
    let mut s = admitted(&k);
    send_text(
        &mut s,
        br#"{"header":{"type":"completion","name":"Common.Status","requestId":4}}"#,
    );
    let (op, body) = read_frame(&mut s).unwrap();
    assert_eq!(op, 1);
    let ack: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(ack["header"]["status"], "invalidMessage");
    // The service and the kiosk carry on.
    let bank = connect(&k, "YkbIdCard", "bank-app", BANK_TOKEN);
    let status = done(
        &k,
        &mut bank.send(command("Common.Status", json!({}), 5)),
        "status",
    )
    .unwrap();
    assert_eq!(status["common"]["device"], "online");
    press(&k.window, "查找事项");
    assert_eq!(k.window.global::<KioskAdapter>().get_page(), Page::Find);
    wait_for_audit(&k, "the malformed message audited", |(a, act, d)| {
        a == "client:bank-app" && act == "device_service_refused" && d.contains("报文")
    });
    assert!(!format!("{:?}", audit(&k)).contains("500105"));
}

/// The applicant signs on the review page's pad with one finger stroke.
fn sign(window: &AppWindow) {
    use slint::platform::{PointerEventButton, WindowEvent};
    lay_out(window);
    let pad = ElementHandle::find_by_accessible_label(window, "签名板")
        .next()
        .expect("the signature pad");
    let (o, size) = (pad.absolute_position(), pad.size());
    let at =
        |x: f32, y: f32| slint::LogicalPosition::new(o.x + x * size.width, o.y + y * size.height);
    let w = window.window();
    let button = PointerEventButton::Left;
    w.dispatch_event(WindowEvent::PointerPressed {
        position: at(0.1, 0.6),
        button,
    });
    for (x, y) in [(0.3, 0.3), (0.5, 0.7), (0.8, 0.4)] {
        w.dispatch_event(WindowEvent::PointerMoved { position: at(x, y) });
    }
    w.dispatch_event(WindowEvent::PointerReleased {
        position: at(0.8, 0.4),
        button,
    });
}

fn renewal_code(k: &Kiosked) -> String {
    k.renewal.clone()
}

#[test]
fn a_host_starts_an_errand_with_its_person_after_consent_and_is_told_submitted_with_the_case_number(
) {
    let k = kiosk();
    let adapter = k.window.global::<KioskAdapter>();
    let apply = k.window.global::<ApplyAdapter>();
    let consent = k.window.global::<ConsentAdapter>();
    let session = k.window.global::<SessionAdapter>();
    let host = connect(&k, "YkbErrand", "bank-app", BANK_TOKEN);
    let mut errand = host.send(command(
        "YkbErrand.Start",
        json!({"matter": renewal_code(&k), "person": {"name": "李喆", "idNumber": DEMO_ID, "address": "重庆市渝中区解放碑街道民族路1号"}}),
        600,
    ));
    wait_until(&k.kiosk, "the consent screen", || {
        consent.get_title() == "银行自助服务 请求使用其已核验的您的身份信息办理业务"
    });
    assert_eq!(session.get_person_name(), "", "not before consent");
    press(&k.window, "同意");
    match next_update(&k, &mut errand, "the started event") {
        CommandUpdate::Event { name, .. } => assert_eq!(name, "YkbErrand.StartedEvent"),
        other => panic!("{other:?}"),
    }
    assert_eq!(adapter.get_page(), Page::Question);
    assert_eq!(session.get_person_name(), "李喆");
    // The citizen carries on as with their own card.
    press(&k.window, "有效期满");
    press(&k.window, "已满16周岁");
    press(&k.window, "邮寄到家");
    assert_eq!(adapter.get_page(), Page::Checklist);
    press(&k.window, "开始申请");
    assert_eq!(adapter.get_page(), Page::Form);
    press(&k.window, "联系电话");
    for c in "13800000000".chars() {
        press(&k.window, &c.to_string());
    }
    press(&k.window, "使用身份证住址");
    press(&k.window, "下一步");
    assert_eq!(adapter.get_page(), Page::Capture);
    wait_until(&k.kiosk, "a live frame", || apply.get_preview_frame() >= 1);
    press(&k.window, "拍照");
    wait_until(&k.kiosk, "the still", || {
        apply.get_capture_stage() == "check"
    });
    press(&k.window, "使用这张");
    press(&k.window, "下一步");
    assert_eq!(adapter.get_page(), Page::Review);
    // 居民身份证换领 is signed by the applicant on the review page.
    sign(&k.window);
    press(&k.window, "确认提交");
    // 已提交 with the unified code, or 已暂存 with the local number when the platform is slow
    // to answer (the host is told whichever the citizen was given).
    wait_until(&k.kiosk, "已提交 or 已暂存", || {
        matches!(apply.get_done_title().as_str(), "已提交" | "已暂存")
    });
    let case_number = apply.get_done_number().to_string();
    assert!(!case_number.is_empty());
    // Only when the session ends is the host told, and told nothing personal.
    assert!(errand.next(Duration::from_millis(100)).is_none());
    // On the errand's pages the header's 首页 reads 结束办理.
    press(&k.window, "结束办理");
    let outcome = done(&k, &mut errand, "the outcome").unwrap();
    assert_eq!(outcome["outcome"], "submitted");
    assert_eq!(outcome["caseNumber"], case_number.as_str());
    let text = Value::Object(outcome).to_string();
    assert!(!text.contains("李喆") && !text.contains(DEMO_ID), "{text}");
    wait_for_audit(&k, "the errand audited", |(a, act, d)| {
        a == "client:bank-app" && act == "device_service_use" && d.contains("已提交")
    });
}

#[test]
fn a_host_errand_the_citizen_leaves_is_told_left_and_a_second_errand_meanwhile_is_busy() {
    let k = kiosk();
    let adapter = k.window.global::<KioskAdapter>();
    let host = connect(&k, "YkbErrand", "bank-app", BANK_TOKEN);
    let mut errand = host.send(command(
        "YkbErrand.Start",
        json!({"matter": renewal_code(&k)}),
        600,
    ));
    match next_update(&k, &mut errand, "the started event") {
        CommandUpdate::Event { name, .. } => assert_eq!(name, "YkbErrand.StartedEvent"),
        other => panic!("{other:?}"),
    }
    // Without a person there is nothing to consent to: the matter opens at once.
    assert_eq!(adapter.get_page(), Page::Question);
    assert_eq!(k.window.global::<ConsentAdapter>().get_title(), "");
    let second = ServiceClient::connect(
        &uri(k.addr, "YkbErrand", "bank-app", BANK_TOKEN),
        ClientConfig::default(),
    )
    .unwrap();
    let r = done(
        &k,
        &mut second.send(command("YkbErrand.Start", json!({}), 60)),
        "busy",
    );
    assert_eq!(
        failed_code(&r).map(|c| c.0),
        Some(CompletionCode::DeviceNotReady),
        "{r:?}"
    );
    // A matter this terminal does not hold is refused once the screen is free. Nothing was
    // answered yet, so 结束办理 ends it without asking.
    press(&k.window, "结束办理");
    let outcome = done(&k, &mut errand, "the outcome").unwrap();
    assert_eq!(outcome["outcome"], "left");
    let r = done(
        &k,
        &mut second.send(command(
            "YkbErrand.Start",
            json!({"matter": "NOSUCHMATTER"}),
            60,
        )),
        "unknown",
    );
    assert_eq!(
        failed_code(&r),
        Some((
            CompletionCode::CommandErrorCode,
            Some("unknownMatter".into())
        )),
        "{r:?}"
    );
    assert_eq!(adapter.get_page(), Page::Home);
}

#[test]
fn a_client_prints_plain_text_on_our_receipt_printer() {
    let k = kiosk();
    let printer = connect(&k, "Printer", "bank-app", BANK_TOKEN);
    let data = base64_of("社保卡领取通知\n请到三号窗口");
    let r = done(
        &k,
        &mut printer.send(command("Printer.PrintRaw", json!({"data": data}), 30)),
        "the print",
    );
    assert!(r.is_ok(), "{r:?}");
    wait_until(&k.kiosk, "the job filed", || {
        k.kiosk.printed_jobs().len() == 1
    });
    // Printer commands of its own never reach the printer.
    let esc = base64_of("\u{1b}@\u{1d}V\u{0}");
    let r = done(
        &k,
        &mut printer.send(command("Printer.PrintRaw", json!({"data": esc}), 30)),
        "refused",
    );
    assert_eq!(
        failed_code(&r).map(|c| c.0),
        Some(CompletionCode::InvalidData),
        "{r:?}"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(k.kiosk.printed_jobs().len(), 1);
}

fn base64_of(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Our scanner and document camera for another service, through the drivers' own XFS4IoT
/// clients for them (the ones the kiosk uses on a bank's terminal): nothing before 同意, a
/// refusal releases nothing, and what is released never enters the citizen's session.
#[test]
fn a_service_reads_a_code_and_takes_a_picture_only_after_the_citizen_agrees() {
    use ykb_drivers::scanner::ScanEvent;
    use ykb_drivers::xfs4iot::devices::{read_outcome, Xfs4IotBarcodeReader, Xfs4IotCamera};
    let k = kiosk();
    let consent = k.window.global::<ConsentAdapter>();
    let page = || k.window.global::<KioskAdapter>().get_page();

    // A code: 拒绝 first, and the code shown meanwhile is the kiosk's own business.
    let reader = Xfs4IotBarcodeReader::connect(
        &uri(k.addr, "BarcodeReader", "bank-app", BANK_TOKEN),
        ClientConfig::default(),
    )
    .unwrap();
    let read = |secs| {
        reader.client().send(
            Command::new("BarcodeReader.Read")
                .with("symbologies", vec!["qrCode"])
                .timeout(Duration::from_secs(secs)),
        )
    };
    let mut first = read(30);
    wait_until(&k.kiosk, "the code consent", || {
        consent.get_title() == "银行自助服务 服务请求扫描您出示的二维码"
    });
    press(&k.window, "拒绝");
    let r = done(&k, &mut first, "the refusal");
    assert_eq!(
        failed_code(&r),
        Some((
            CompletionCode::CommandErrorCode,
            Some("consentRefused".into())
        )),
        "{r:?}"
    );
    // 同意: the identify page waits, and the next code shown goes to the client.
    let mut second = read(30);
    wait_until(&k.kiosk, "the code consent again", || {
        consent.get_title() != ""
    });
    press(&k.window, "同意");
    assert_eq!(page(), Page::Identify);
    k.kiosk.demo_scan("SB:500103:0042");
    let got = loop {
        match next_update(&k, &mut second, "the code") {
            CommandUpdate::Done(r) => break read_outcome(r),
            _ => continue,
        }
    };
    match got {
        Ok(Some(ScanEvent::Code(p))) => assert_eq!(p.text, "SB:500103:0042"),
        other => panic!("{other:?}"),
    }
    k.kiosk.process_device_events();
    assert_eq!(page(), Page::Home, "the identify page closes with the read");
    // With no read waiting, the same code is the kiosk's, which cannot use it.
    k.kiosk.demo_scan("SB:500103:0043");

    // A picture: 同意 takes one still from our document camera and hands it over.
    let camera = Xfs4IotCamera::connect(
        &uri(k.addr, "Camera", "bank-app", BANK_TOKEN),
        ClientConfig::default(),
    )
    .unwrap();
    let mut shot = camera.client().send(
        Command::new("Camera.TakePicture")
            .with("camera", "person")
            .timeout(Duration::from_secs(30)),
    );
    wait_until(&k.kiosk, "the picture consent", || {
        consent.get_title() == "银行自助服务 服务请求拍摄您的材料"
    });
    assert!(shot
        .next(Duration::from_millis(200))
        .is_none_or(|u| matches!(u, CommandUpdate::Acknowledged)));
    press(&k.window, "同意");
    let picture = loop {
        match next_update(&k, &mut shot, "the picture") {
            CommandUpdate::Done(r) => {
                break ykb_drivers::xfs4iot::devices::picture_outcome(r).expect("a picture")
            }
            _ => continue,
        }
    };
    assert!(picture.bytes.starts_with(&[0xff, 0xd8]), "a JPEG");
    assert!(picture.image.width() >= 640, "{}", picture.image.width());
    assert_eq!(k.window.global::<SessionAdapter>().get_person_name(), "");
    wait_for_audit(&k, "the picture audited", |(actor, action, detail)| {
        actor == "client:bank-app"
            && action == "device_service_use"
            && detail.contains("Camera.TakePicture")
    });
    let rows = format!("{:?}", audit(&k));
    assert!(rows.contains("BarcodeReader.Read"), "{rows}");
    assert!(
        !rows.contains("SB:500103"),
        "what a code holds is never audited: {rows}"
    );
}
