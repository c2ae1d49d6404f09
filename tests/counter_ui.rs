//! Counter mode (一窗综办), its evaluation pad and the hall display, driven the way a clerk
//! and a citizen use them: controls found by accessible label on Slint's testing backend (no
//! display), the ID-card and printer emulators, and the in-process platform simulator.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use i_slint_backend_testing::{ElementHandle, ElementQuery};
use jiff::Timestamp;
use slint::{ComponentHandle, Model};
use ykb_terminal::core::audit;
use ykb_terminal::core::config::Profile;
use ykb_terminal::core::outbox::Quota;
use ykb_terminal::core::platform::wire::TicketLease;
use ykb_terminal::core::ticketing::{self, IssueRequest};
use ykb_terminal::core::Core;
use ykb_terminal::counter::hall::HallDisplay;
use ykb_terminal::counter::Counter;
use ykb_terminal::terminal::speech::Recorder;
use ykb_terminal::ui::{
    CounterAdapter, CounterWindow, EvaluationPadWindow, HallAdapter, HallDisplayWindow, PadAdapter,
};

/// Lays the window out as a frame would, so conditional and repeated elements exist (the
/// testing backend draws no frames); repeats until the element count settles.
fn lay_out(window: &impl ComponentHandle) {
    window.show().unwrap();
    let mut count = 0;
    for _ in 0..8 {
        let all = ElementQuery::from_root(window).find_all();
        for e in &all {
            let _ = e.size();
        }
        if all.len() == count {
            break;
        }
        count = all.len();
    }
}

fn find(window: &impl ComponentHandle, label: &str) -> ElementHandle {
    lay_out(window);
    ElementHandle::find_by_accessible_label(window, label)
        .next()
        .unwrap_or_else(|| panic!("no control labelled {label:?}"))
}

/// Presses the control labelled `label` (a heading with the same words is not a control).
fn press(window: &impl ComponentHandle, label: &str) {
    use i_slint_backend_testing::AccessibleRole;
    lay_out(window);
    let control = ElementHandle::find_by_accessible_label(window, label)
        .find(|e| {
            matches!(
                e.accessible_role(),
                Some(
                    AccessibleRole::Button | AccessibleRole::Checkbox | AccessibleRole::RadioButton
                )
            )
        })
        .unwrap_or_else(|| panic!("no control labelled {label:?}"));
    assert_ne!(
        control.accessible_enabled(),
        Some(false),
        "{label:?} is disabled"
    );
    control.invoke_accessible_default_action();
}

fn type_into(window: &impl ComponentHandle, label: &str, text: &str) {
    find(window, label).set_accessible_value(text);
}

/// Clicks the middle of the element labelled `label` with the mouse (a field takes the focus).
fn click(window: &impl ComponentHandle, label: &str) {
    use slint::platform::{PointerEventButton, WindowEvent};
    let e = find(window, label);
    let (origin, size) = (e.absolute_position(), e.size());
    let position =
        slint::LogicalPosition::new(origin.x + size.width / 2.0, origin.y + size.height / 2.0);
    let button = PointerEventButton::Left;
    let w = window.window();
    w.dispatch_event(WindowEvent::PointerPressed { position, button });
    w.dispatch_event(WindowEvent::PointerReleased { position, button });
}

/// Presses and releases one key on the clerk's keyboard, as the window gets it from the
/// system. The window's `changed` handlers (the focus going back to the shortcuts) run first,
/// as the event loop runs them between events.
fn key(window: &impl ComponentHandle, text: impl Into<slint::SharedString>) {
    use slint::platform::WindowEvent;
    slint::platform::update_timers_and_animations();
    let text = text.into();
    let w = window.window();
    w.dispatch_event(WindowEvent::KeyPressed { text: text.clone() });
    w.dispatch_event(WindowEvent::KeyReleased { text });
}

/// Types `text` key by key.
fn type_keys(window: &impl ComponentHandle, text: &str) {
    for c in text.chars() {
        key(window, c.to_string());
    }
}

/// Types the clerk's number and PIN on the sign-in panel and presses 登录.
fn sign_in(counter: &Counter, window: &CounterWindow, clerk: &str, pin: &str) {
    type_into(window, "工号", clerk);
    type_into(window, "密码", pin);
    press_checked(counter, window, "登录");
}

/// Presses 登录 or 解锁 and waits for the PIN check, which runs on a worker thread: the
/// press itself returns at once, saying the PIN is being checked.
fn press_checked(counter: &Counter, window: &CounterWindow, label: &str) {
    press(window, label);
    if counter.checking_pin() {
        let a = window.global::<CounterAdapter>();
        assert_eq!(a.get_sign_in_note(), "正在核验密码…");
        assert_ne!(a.get_auth(), 2, "not signed in before the check ends");
    }
    wait_until(counter, "the PIN check", || !counter.checking_pin());
}

/// Writes `strokes` with a finger on the pad labelled `label` (positions in its 1024 box).
fn write_on(window: &impl ComponentHandle, label: &str, strokes: &[Vec<[f32; 2]>]) {
    use slint::platform::{PointerEventButton, WindowEvent};
    let pad = find(window, label);
    let (origin, size) = (pad.absolute_position(), pad.size());
    assert!(size.width > 100.0 && size.height > 100.0, "{size:?}");
    let at = |[x, y]: [f32; 2]| {
        slint::LogicalPosition::new(
            origin.x + x / 1024.0 * size.width,
            origin.y + y / 1024.0 * size.height,
        )
    };
    let w = window.window();
    for stroke in strokes {
        let button = PointerEventButton::Left;
        w.dispatch_event(WindowEvent::PointerPressed {
            position: at(stroke[0]),
            button,
        });
        for &p in &stroke[1..] {
            w.dispatch_event(WindowEvent::PointerMoved { position: at(p) });
        }
        w.dispatch_event(WindowEvent::PointerReleased {
            position: at(*stroke.last().unwrap()),
            button,
        });
    }
}

/// A signature: two strokes across the pad.
fn signature() -> Vec<Vec<[f32; 2]>> {
    vec![
        vec![[80.0, 600.0], [300.0, 300.0], [520.0, 700.0]],
        vec![[600.0, 400.0], [900.0, 450.0]],
    ]
}

/// 居民身份证换领 needs the applicant's signature: 受理 is refused in words until the
/// applicant signs on the pad, which the clerk asks for; 重签 wipes the pad.
fn sign_on_the_pad(window: &CounterWindow, pad: &EvaluationPadWindow) {
    let a = window.global::<CounterAdapter>();
    let p = pad.global::<PadAdapter>();
    assert_eq!(
        a.get_signature_status(),
        "申请人签名：未签名（本事项必须签名）"
    );
    press(window, "受理");
    assert!(a.get_message_error());
    assert!(
        a.get_message().contains("需要申请人本人签名"),
        "{}",
        a.get_message()
    );
    assert_eq!(a.get_decision(), "", "nothing accepted unsigned");
    assert!(
        !shows(pad, "签名板"),
        "the pad asks only when the clerk does"
    );
    press(window, "请申请人签名");
    assert_eq!(p.get_mode(), 3);
    assert!(shows(pad, "签名板"));
    assert!(shows(pad, "本人承诺所填信息真实有效"));
    assert_eq!(
        a.get_signature_status(),
        "申请人签名：请申请人在评价器上签名"
    );
    // A tap is a dot, no signature.
    write_on(pad, "签名板", &[vec![[500.0, 500.0]]]);
    assert!(!a.get_signed());
    write_on(pad, "签名板", &signature());
    assert!(a.get_signed());
    assert_eq!(a.get_signature_status(), "申请人签名：已签名");
    // The citizen's 重签 on the pad wipes it; then the signature for good.
    press(pad, "重签");
    assert!(!a.get_signed());
    write_on(pad, "签名板", &signature());
    assert!(a.get_signed());
}

fn shows(window: &impl ComponentHandle, label: &str) -> bool {
    lay_out(window);
    ElementHandle::find_by_accessible_label(window, label)
        .next()
        .is_some()
}

fn profile() -> Profile {
    Profile::load(Path::new("kiosk-config/counter-demo.toml")).expect("counter demo profile")
}

/// Gives the store numbers to issue for every service today (as a lease from the platform
/// would).
fn lease_numbers(core: &mut Core) {
    let cfg = core.profile.ticketing.clone().unwrap();
    let now = Timestamp::now();
    for req in ticketing::lease_requests(&mut core.store, &cfg, ticketing::hall_date(now)).unwrap()
    {
        let lease = TicketLease {
            hall: req.hall.clone(),
            service: req.service.clone(),
            date: req.date.clone(),
            first: 1,
            last: req.count,
        };
        ticketing::record_lease(&mut core.store, &req, &lease, now).unwrap();
    }
}

/// A citizen takes a ticket at the hall's kiosk: the core's own API on its own connection.
fn issue(core: &mut Core, service: &str) -> String {
    let cfg = core.profile.ticketing.clone().unwrap();
    let req = IssueRequest {
        service: service.into(),
        ..IssueRequest::default()
    };
    ticketing::issue(
        &mut core.store,
        &core.key,
        Quota::from_mb(64),
        &cfg,
        &req,
        Timestamp::now(),
    )
    .unwrap()
    .number
}

fn wait_until(counter: &Counter, what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
        counter.process_device_events();
    }
}

/// Waits until the printer emulator has `jobs` jobs and the clerk's screen says the last
/// one is printed.
fn wait_printed(counter: &Counter, a: &CounterAdapter<'_>, what: &str, jobs: usize) {
    wait_until(counter, what, || {
        counter.printed_jobs().len() == jobs && a.get_print_status() == "已打印，请交给市民"
    });
}

fn audit_actions(dir: &Path) -> Vec<String> {
    let mut store =
        ykb_terminal::core::store::Store::open(&dir.join(ykb_terminal::core::STORE_FILE)).unwrap();
    audit::list(&mut store)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

fn job_text(path: &Path) -> String {
    let raw = std::fs::read(path.with_extension("bin")).unwrap();
    encoding_rs::GB18030.decode(&raw).0.to_string()
}

fn open_counter(
    dir: &Path,
) -> (
    CounterWindow,
    EvaluationPadWindow,
    Counter,
    Arc<ykb_terminal::terminal::link::PlatformLink>,
) {
    open_counter_on(dir, profile())
}

fn open_counter_on(
    dir: &Path,
    profile: Profile,
) -> (
    CounterWindow,
    EvaluationPadWindow,
    Counter,
    Arc<ykb_terminal::terminal::link::PlatformLink>,
) {
    let mut core = Core::start(profile, dir).unwrap();
    let platform =
        Arc::new(ykb_terminal::terminal::link::PlatformLink::start_demo(&mut core).expect("demo"));
    let window = CounterWindow::new().unwrap();
    // Tall enough that every panel is on screen: queries skip what is clipped away.
    window
        .window()
        .set_size(slint::LogicalSize::new(1600.0, 1800.0));
    let pad = EvaluationPadWindow::new().unwrap();
    pad.window()
        .set_size(slint::LogicalSize::new(1280.0, 900.0));
    let counter = Counter::attach(&window, &pad, core).unwrap();
    counter.use_platform(platform.clone());
    counter.start_devices();
    (window, pad, counter, platform)
}

#[test]
fn a_clerk_calls_reads_the_card_pre_reviews_asks_for_a_supplement_accepts_and_the_citizen_evaluates(
) {
    i_slint_backend_testing::init_no_event_loop();
    let dir = tempfile::tempdir().unwrap();
    let (window, pad, counter, platform) = open_counter(dir.path());
    let a = window.global::<CounterAdapter>();
    let p = pad.global::<PadAdapter>();
    let sim = platform.sim().unwrap();

    // Sign in.
    assert_eq!(a.get_auth(), 0);
    // The PIN is checked off the UI thread (Argon2id, ≥ 0.1 s): the press returns at once
    // and the outcome arrives through the inbox.
    type_into(&window, "工号", "S0001");
    type_into(&window, "密码", "123456");
    press(&window, "登录");
    assert!(counter.checking_pin(), "the check runs on a worker");
    assert_eq!(a.get_auth(), 0);
    assert_eq!(a.get_sign_in_note(), "正在核验密码…");
    press(&window, "登录");
    wait_until(&counter, "the PIN check", || !counter.checking_pin());
    assert_eq!(a.get_auth(), 2, "{}", a.get_sign_in_note());
    assert_eq!(a.get_pin_input(), "", "the PIN is not kept");

    // A citizen takes a ticket at the kiosk; the clerk calls it.
    let mut kiosk = Core::start(profile(), dir.path()).unwrap();
    lease_numbers(&mut kiosk);
    let number = issue(&mut kiosk, "A");
    assert_eq!(number, "A001");
    // The clerk's screen follows the queue every second.
    counter.tick(Instant::now());
    assert!(
        a.get_queue_line().contains("等候 1 人"),
        "{}",
        a.get_queue_line()
    );
    press(&window, "叫号");
    assert_eq!(a.get_ticket(), "A001", "{}", a.get_message());
    assert!(a.get_message().contains("请A001号到3号窗口办理"));
    // Two calls for one window: the second is refused with a reason.
    a.invoke_call_next();
    assert!(a.get_message_error());
    assert!(
        a.get_message().contains("正在办理 A001"),
        "{}",
        a.get_message()
    );
    assert_eq!(p.get_ticket(), "A001");
    assert_eq!(p.get_status(), "请出示身份证");

    // The ID card, through the emulator and the real driver; e-licences from the platform.
    press(&window, "放置演示身份证");
    wait_until(&counter, "the card", || a.get_person_name() != "");
    assert_eq!(a.get_person_name(), "李喆");
    assert!(a.get_person_id().contains("****"));
    wait_until(&counter, "the e-licences", || {
        a.get_person_detail().contains("电子证照")
    });
    assert!(a.get_person_detail().contains("有效期至 2035-06-01"));

    // Any matter of any department, from the catalogue.
    type_into(&window, "查找事项", "sfz");
    assert!(a.get_matters().row_count() > 0);
    press(&window, "居民身份证换领");
    assert!(a.get_has_matter());
    assert_eq!(a.get_matters().row_count(), 0);
    for option in ["有效期满", "已满16周岁", "到窗口领取"] {
        press(&window, option);
    }
    // Each question takes one answer: radio buttons, the chosen one checked.
    {
        use i_slint_backend_testing::AccessibleRole;
        let radio = |label: &str| {
            ElementHandle::find_by_accessible_label(&window, label)
                .find(|e| e.accessible_role() == Some(AccessibleRole::RadioButton))
                .unwrap_or_else(|| panic!("no radio button {label:?}"))
        };
        assert_eq!(radio("到窗口领取").accessible_checked(), Some(true));
        assert_eq!(radio("邮寄到家").accessible_checked(), Some(false));
    }
    assert_eq!(p.get_matter(), "居民身份证换领");
    assert_eq!(p.get_status(), "工作人员正在预审您的材料");

    // Pre-review: the photo receipt is missing; the household register is covered by the
    // e-licence if the platform holds one, else the clerk ticks it as brought.
    let held: Vec<String> = ykb_terminal::sim::platform::licences_for("500105198511220024")
        .into_iter()
        .map(|l| l.licence_type)
        .collect();
    if !held.iter().any(|l| l == "居民户口簿") {
        press(&window, "已收：居民户口簿");
    }
    let missing: Vec<String> = a
        .get_checks()
        .iter()
        .filter(|c| c.status == 1)
        .map(|c| c.text.to_string())
        .collect();
    assert_eq!(
        missing,
        vec!["缺少材料：数码相片回执（原件1份）".to_owned()]
    );
    assert!(shows(&window, "缺少材料：数码相片回执（原件1份）"));
    assert!(!a.get_can_accept());

    // 补齐补正: the list of what is missing, printed through the emulator.
    press(&window, "补齐补正");
    assert!(
        a.get_decision().contains("数码相片回执"),
        "{}",
        a.get_decision()
    );
    wait_printed(&counter, &a, "the supplement list", 1);
    let list = job_text(&counter.printed_jobs()[0]);
    assert!(
        list.contains("补齐补正告知") && list.contains("1. 数码相片回执"),
        "{list}"
    );
    assert!(!list.contains("李喆") && !list.contains("500105198511220024"));
    assert_eq!(p.get_status(), "材料不齐，请按补正清单补齐后再来办理");

    // The citizen brings it: the clerk ticks it, pre-review passes; the applicant signs; 受理.
    press(&window, "已收：数码相片回执");
    assert!(a.get_can_accept());
    sign_on_the_pad(&window, &pad);
    press(&window, "受理");
    assert!(
        a.get_decision().starts_with("已受理"),
        "{}",
        a.get_decision()
    );
    wait_printed(&counter, &a, "the acceptance receipt", 2);
    let cases = sim.cases();
    assert_eq!(cases.len(), 1, "delivered once");
    let receipt = counter
        .printed_jobs()
        .iter()
        .map(|j| job_text(j))
        .find(|t| t.contains("受理回执"))
        .expect("the acceptance receipt");
    assert!(receipt.contains(&cases[0].ack.unified_code), "{receipt}");
    // The screen shows the number the receipt carries, to read out to the citizen.
    assert_eq!(
        a.get_acceptance_number(),
        cases[0].ack.unified_code.as_str()
    );
    assert!(!a.get_acceptance_local());
    assert!(shows(
        &window,
        &format!("受理编号 {}", cases[0].ack.unified_code)
    ));
    assert!(
        receipt.contains("取件方式") && receipt.contains("窗口领取"),
        "{receipt}"
    );
    assert_eq!(p.get_status(), "已受理，请取走受理回执");
    assert_eq!(p.get_mode(), 0, "the pad shows the service again");
    // The signature reached the platform with the case, as the kiosk's does: its PNG and
    // its strokes.
    let png = sim
        .materials()
        .into_iter()
        .find(|m| m.material_id == "signature")
        .expect("the signature uploaded");
    assert_eq!(png.case_id, cases[0].key);
    let bytes = sim.material_bytes(&png.case_id, "signature").unwrap();
    assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
    let case = serde_json::to_string(&cases[0]).unwrap();
    assert!(case.contains("signature.strokes"), "{case}");
    assert_eq!(cases[0].body["delivery"]["method"], "window");

    // 办结: the ticket is served and the pad asks the citizen for 好差评.
    press(&window, "办结");
    assert_eq!(a.get_ticket(), "");
    assert_eq!(
        a.get_acceptance_number(),
        "",
        "the number went with the citizen"
    );
    assert_eq!(
        a.get_person_name(),
        "",
        "the citizen's data left the screen"
    );
    assert_eq!(p.get_mode(), 1);
    press(&pad, "提交评价");
    assert_eq!(p.get_note(), "请先点选一个评价");
    press(&pad, "满意");
    press(&pad, "速度快");
    press(&pad, "提交评价");
    assert_eq!(p.get_mode(), 2);
    assert!(shows(&pad, "感谢您的评价！"));

    // Every step reached the platform's simulator through the outbox.
    let deadline = Instant::now() + Duration::from_secs(20);
    let wanted = [
        "ticket_issued",
        "ticket_called",
        "counter_supplement",
        "ticket_served",
        "evaluation",
    ];
    loop {
        let kinds: Vec<String> = sim.events().into_iter().map(|e| e.kind).collect();
        if wanted.iter().all(|w| kinds.iter().any(|k| k == w)) {
            break;
        }
        assert!(Instant::now() < deadline, "events delivered: {kinds:?}");
        std::thread::sleep(Duration::from_millis(100));
        counter.process_device_events();
    }
    let events = sim.events();
    let eval = events.iter().find(|e| e.kind == "evaluation").unwrap();
    let body = eval.body.to_string();
    assert!(
        body.contains("satisfied") && body.contains("速度快"),
        "{body}"
    );
    for e in &events {
        let b = e.body.to_string();
        assert!(
            !b.contains("500105198511220024") && !b.contains("李喆"),
            "{b}"
        );
    }

    // Sign out: audited like the sign-in.
    press(&window, "签退");
    assert_eq!(a.get_auth(), 0);
    let actions = audit_actions(dir.path());
    assert!(actions.contains(&"staff_sign_in".to_owned()), "{actions:?}");
    assert!(
        actions.contains(&"staff_sign_out".to_owned()),
        "{actions:?}"
    );
}

#[test]
fn a_renewal_posted_home_takes_the_card_address_and_a_phone_and_its_receipt_says_how() {
    i_slint_backend_testing::init_no_event_loop();
    let dir = tempfile::tempdir().unwrap();
    let (window, pad, counter, platform) = open_counter(dir.path());
    let a = window.global::<CounterAdapter>();
    let sim = platform.sim().unwrap();
    sign_in(&counter, &window, "S0001", "123456");
    assert_eq!(a.get_auth(), 2, "{}", a.get_sign_in_note());
    // A walk-in: the card, the matter, 邮寄到家.
    press(&window, "放置演示身份证");
    wait_until(&counter, "the card", || a.get_person_name() != "");
    type_into(&window, "查找事项", "sfz");
    press(&window, "居民身份证换领");
    for option in ["有效期满", "已满16周岁", "到窗口领取"] {
        press(&window, option);
    }
    assert!(!a.get_posting(), "nothing to post to at the window");
    assert!(!shows(&window, "邮寄地址"));
    press(&window, "邮寄到家");
    assert!(a.get_posting());
    // The address starts as the card's; the clerk corrects it and types the phone.
    assert_eq!(a.get_post_address(), "重庆市南岸区南坪街道江南大道8号");
    let held = ykb_terminal::sim::platform::licences_for("500105198511220024");
    if !held.iter().any(|l| l.licence_type == "居民户口簿") {
        press(&window, "已收：居民户口簿");
    }
    press(&window, "已收：数码相片回执");
    assert!(a.get_can_accept(), "pre-review passes");
    press(&window, "请申请人签名");
    write_on(&pad, "签名板", &signature());
    assert!(a.get_signed());
    press(&window, "受理");
    assert!(a.get_message_error());
    assert_eq!(a.get_message(), "邮寄到家：请填写联系电话");
    type_into(&window, "收件人电话", "1380000");
    press(&window, "受理");
    assert_eq!(a.get_message(), "邮寄到家：手机号应为11位数字，以1开头");
    type_into(&window, "收件人电话", "13800000000");
    type_into(&window, "邮寄地址", "重庆市江北区观音桥步行街8号");
    assert_eq!(a.get_decision(), "");
    press(&window, "受理");
    assert!(
        a.get_decision().starts_with("已受理"),
        "{} / {}",
        a.get_decision(),
        a.get_message()
    );
    wait_printed(&counter, &a, "the acceptance receipt", 1);
    let receipt = job_text(&counter.printed_jobs()[0]);
    assert!(
        receipt.contains("取件方式") && receipt.contains("邮寄到家（重庆市江北区****）"),
        "{receipt}"
    );
    assert!(
        !receipt.contains("观音桥") && !receipt.contains("13800000000"),
        "{receipt}"
    );
    // The case carries the delivery the clerk entered.
    let cases = sim.cases();
    assert_eq!(cases.len(), 1);
    let delivery = &cases[0].body["delivery"];
    assert_eq!(delivery["method"], "post", "{delivery}");
    assert_eq!(delivery["address"], "重庆市江北区观音桥步行街8号");
    assert_eq!(delivery["phone"], "13800000000");
}

/// What a QR image on screen carries.
fn qr_in(image: &slint::Image) -> Vec<String> {
    let buf = image.to_rgb8().expect("an image");
    let rgb = image::RgbImage::from_raw(buf.width(), buf.height(), buf.as_bytes().to_vec())
        .expect("rgb pixels");
    ykb_drivers::scanner::decode_qr_rgb(&rgb)
}

#[test]
fn the_fee_is_paid_by_the_qr_on_the_pad_offered_again_after_expiry_and_the_receipt_has_the_payment_number(
) {
    use ykb_terminal::core::platform::wire::PaymentState;
    use ykb_terminal::ui::PaymentAdapter;
    i_slint_backend_testing::init_no_event_loop();
    let dir = tempfile::tempdir().unwrap();
    let (window, pad, counter, platform) = open_counter(dir.path());
    let a = window.global::<CounterAdapter>();
    let p = pad.global::<PadAdapter>();
    let pay = pad.global::<PaymentAdapter>();
    let sim = platform.sim().unwrap();
    sign_in(&counter, &window, "S0001", "123456");
    // A walk-in's 居民身份证换领, signed and accepted.
    press(&window, "放置演示身份证");
    wait_until(&counter, "the card", || a.get_person_name() != "");
    type_into(&window, "查找事项", "sfz");
    press(&window, "居民身份证换领");
    for option in ["有效期满", "已满16周岁", "到窗口领取"] {
        press(&window, option);
    }
    let held = ykb_terminal::sim::platform::licences_for("500105198511220024");
    if !held.iter().any(|l| l.licence_type == "居民户口簿") {
        press(&window, "已收：居民户口簿");
    }
    press(&window, "已收：数码相片回执");
    press(&window, "请申请人签名");
    write_on(&pad, "签名板", &signature());
    press(&window, "受理");
    wait_printed(&counter, &a, "the acceptance receipt", 1);
    assert!(
        a.get_payment_status().contains("需缴费 20.00 元"),
        "{}",
        a.get_payment_status()
    );

    // 收费: nobody pays, the platform lets the order expire; the clerk is offered it again.
    sim.set_faults(ykb_terminal::sim::platform::Faults {
        payment_ttl_secs: Some(1),
        ..Default::default()
    });
    press(&window, "收费");
    assert_eq!(p.get_mode(), 4, "the pad shows the order");
    wait_until(&counter, "the order", || pay.get_stage() != "creating");
    wait_until(&counter, "expiry", || pay.get_stage() == "ended");
    assert_eq!(pay.get_title(), "缴费订单已过期");
    assert!(
        !shows(&pad, "支付二维码"),
        "no QR for an order that cannot be paid"
    );
    assert!(
        a.get_payment_status().contains("已过期"),
        "{}",
        a.get_payment_status()
    );
    sim.set_faults(Default::default());
    press(&window, "重新收费");
    wait_until(&counter, "the second order", || {
        pay.get_stage() == "pending"
    });
    let orders = sim.payment_orders();
    assert_eq!(orders.len(), 2, "a new attempt, a new order");
    let order = orders
        .iter()
        .find(|o| o.order.state == PaymentState::Pending)
        .unwrap()
        .order
        .clone();
    assert_eq!(order.case_code, sim.cases()[0].ack.unified_code);
    // The citizen sees the QR the platform made, the amount, the payee and the countdown.
    assert_eq!(qr_in(&pay.get_qr()), vec![order.qr_url.clone()]);
    assert!(shows(&pad, "支付二维码"));
    assert_eq!(pay.get_amount(), "20.00 元");
    assert_eq!(pay.get_payee(), ykb_terminal::sim::platform::PAYEE);
    assert!(
        pay.get_countdown().starts_with("请在 "),
        "{}",
        pay.get_countdown()
    );
    assert!(
        !shows(&pad, "稍后在渝快办App缴费"),
        "the clerk, not the pad, decides"
    );
    assert!(a.get_payment_status().contains("待市民扫码支付"));
    assert!(
        !a.get_can_charge(),
        "never a second order while one is pending"
    );

    // The phone pays: the pad says so and the counter prints the 缴费凭证.
    sim.pay_order(&order.order_id).unwrap();
    wait_until(&counter, "paid", || pay.get_stage() == "paid");
    let paid = sim
        .payment_orders()
        .into_iter()
        .find(|o| o.order.order_id == order.order_id)
        .unwrap();
    assert_eq!(paid.charges, 1, "charged once");
    let number = paid.order.payment_no.clone().unwrap();
    assert_eq!(pay.get_payment_no(), number.as_str());
    wait_printed(&counter, &a, "the payment receipt", 2);
    let text = job_text(&counter.printed_jobs()[1]);
    assert!(text.contains("缴费凭证"), "{text}");
    assert!(
        text.contains("支付流水号") && text.contains(&number),
        "{text}"
    );
    assert!(
        text.contains("已缴费 20.00 元") && text.contains("财政电子票据"),
        "{text}"
    );
    assert!(
        a.get_payment_status().starts_with("已缴费 20.00 元"),
        "{}",
        a.get_payment_status()
    );
    assert!(!a.get_can_charge(), "paid: nothing more to charge");
    press(&window, "办结");
    assert_eq!(p.get_mode(), 1, "then 好差评");
    assert!(sim.payment_orders().iter().all(|o| o.charges <= 1));
}

#[test]
fn the_desk_answers_its_function_keys_as_its_buttons_do_and_only_while_they_are_enabled() {
    use slint::platform::Key;
    i_slint_backend_testing::init_no_event_loop();
    let dir = tempfile::tempdir().unwrap();
    let (window, pad, counter, _platform) = open_counter(dir.path());
    let a = window.global::<CounterAdapter>();
    let p = pad.global::<PadAdapter>();
    let pay = pad.global::<ykb_terminal::ui::PaymentAdapter>();

    // Signed in on the keyboard: the sign-in card goes, and with it the field that had the
    // focus; the shortcuts take the keys back.
    click(&window, "工号");
    type_keys(&window, "S0001");
    click(&window, "密码");
    type_keys(&window, "123456");
    key(&window, Key::Return);
    wait_until(&counter, "the PIN check", || !counter.checking_pin());
    assert_eq!(a.get_auth(), 2, "{}", a.get_sign_in_note());

    // Nobody at the window: F2, F3, F4, F5, F6, F7 and F8 do nothing, as their buttons are
    // disabled.
    let said = a.get_message();
    for k in [
        Key::F2,
        Key::F3,
        Key::F4,
        Key::F5,
        Key::F6,
        Key::F7,
        Key::F8,
    ] {
        key(&window, k);
    }
    assert_eq!(a.get_message(), said);
    assert_eq!(p.get_mode(), 0, "no 好差评 asked");

    // Two citizens take tickets. F1 calls (叫号), as the button does.
    let mut kiosk = Core::start(profile(), dir.path()).unwrap();
    lease_numbers(&mut kiosk);
    assert_eq!(issue(&mut kiosk, "A"), "A001");
    assert_eq!(issue(&mut kiosk, "A"), "A002");
    counter.tick(Instant::now());
    key(&window, Key::F1);
    assert_eq!(a.get_ticket(), "A001", "{}", a.get_message());
    assert!(a.get_message().contains("请A001号到3号窗口办理"));
    // 叫号 is disabled with a ticket at the window: F1 again is not a second call (the
    // invoked callback would be refused in red).
    key(&window, Key::F1);
    assert_eq!(a.get_ticket(), "A001");
    assert!(!a.get_message_error(), "{}", a.get_message());
    key(&window, Key::F2);
    assert!(a.get_message().starts_with("已重呼"), "{}", a.get_message());
    // F3 过号. A held F1 calls once: the system's repeats of it call nobody.
    key(&window, Key::F3);
    assert_eq!(a.get_ticket(), "");
    assert_eq!(a.get_message(), "A001 号已过号");
    window
        .window()
        .dispatch_event(slint::platform::WindowEvent::KeyPressRepeated {
            text: Key::F1.into(),
        });
    assert_eq!(a.get_ticket(), "", "a repeat is not a press");
    // F1 the next, F4 暂挂.
    key(&window, Key::F1);
    assert_eq!(a.get_ticket(), "A002");
    key(&window, Key::F4);
    assert_eq!(a.get_ticket(), "");
    assert_eq!(a.get_message(), "A002 号已暂挂，可凭号码回到本窗口");

    // A walk-in. Letters typed into the search field stay in the field; the function keys
    // reach the desk while the field has the focus.
    press(&window, "放置演示身份证");
    wait_until(&counter, "the card", || a.get_person_name() != "");
    click(&window, "查找事项");
    type_keys(&window, "sfz");
    assert_eq!(a.get_matter_query(), "sfz");
    assert!(a.get_matters().row_count() > 0);
    press(&window, "居民身份证换领");
    for option in ["有效期满", "已满16周岁", "到窗口领取"] {
        press(&window, option);
    }
    // Pre-review fails (the photo receipt is missing): F5 (受理) is disabled, F6 (补齐补正)
    // prints the list.
    assert!(!a.get_can_accept());
    key(&window, Key::F5);
    assert_eq!(a.get_decision(), "");
    key(&window, Key::F6);
    assert!(
        a.get_decision().contains("数码相片回执"),
        "{}",
        a.get_decision()
    );
    assert_eq!(a.get_matter_query(), "", "no key typed into the field");
    wait_printed(&counter, &a, "the supplement list", 1);
    let held = ykb_terminal::sim::platform::licences_for("500105198511220024");
    if !held.iter().any(|l| l.licence_type == "居民户口簿") {
        press(&window, "已收：居民户口簿");
    }
    press(&window, "已收：数码相片回执");
    assert!(a.get_can_accept());
    press(&window, "请申请人签名");
    write_on(&pad, "签名板", &signature());
    key(&window, Key::F5);
    assert!(
        a.get_decision().starts_with("已受理"),
        "{} / {}",
        a.get_decision(),
        a.get_message()
    );
    wait_printed(&counter, &a, "the acceptance receipt", 2);
    assert_ne!(a.get_acceptance_number(), "");
    // F7 收费 once the case has its code: the pad shows the order.
    wait_until(&counter, "收费", || a.get_can_charge());
    key(&window, Key::F7);
    assert_eq!(p.get_mode(), 4, "the pad shows the order");
    wait_until(&counter, "the order", || pay.get_stage() == "pending");
    // F8 办结: the pad asks for 好差评; then nothing is left to finish.
    key(&window, Key::F8);
    assert_eq!(p.get_mode(), 1);
    assert_eq!(a.get_person_name(), "");
    key(&window, Key::F8);
    assert_eq!(p.get_mode(), 1);
    // With Ctrl held, a function key is not the desk's.
    assert_eq!(issue(&mut kiosk, "A"), "A003");
    counter.tick(Instant::now());
    let w = window.window();
    w.dispatch_event(slint::platform::WindowEvent::KeyPressed {
        text: Key::Control.into(),
    });
    w.dispatch_event(slint::platform::WindowEvent::KeyPressed {
        text: Key::F1.into(),
    });
    w.dispatch_event(slint::platform::WindowEvent::KeyReleased {
        text: Key::F1.into(),
    });
    w.dispatch_event(slint::platform::WindowEvent::KeyReleased {
        text: Key::Control.into(),
    });
    assert_eq!(a.get_ticket(), "", "Ctrl+F1 calls nobody");
    key(&window, Key::F1);
    assert_eq!(a.get_ticket(), "A003");
}

#[test]
fn wrong_pins_pause_sign_in_and_an_idle_session_locks() {
    i_slint_backend_testing::init_no_event_loop();
    let dir = tempfile::tempdir().unwrap();
    let (window, _pad, counter, _platform) = open_counter(dir.path());
    let a = window.global::<CounterAdapter>();
    sign_in(&counter, &window, "S0001", "000000");
    assert_eq!(a.get_sign_in_note(), "工号或密码错误，还可再试 2 次");
    type_into(&window, "密码", "111111");
    press_checked(&counter, &window, "登录");
    type_into(&window, "密码", "222222");
    press_checked(&counter, &window, "登录");
    assert_eq!(a.get_sign_in_note(), "错误次数过多，请 30 秒后再试");
    assert!(shows(&window, "错误次数过多，请 30 秒后再试"));
    // Paused: even the right PIN is not checked.
    type_into(&window, "密码", "123456");
    press_checked(&counter, &window, "登录");
    assert_eq!(a.get_auth(), 0);
    assert!(a.get_sign_in_note().starts_with("错误次数过多"));
    let failed = audit_actions(dir.path())
        .iter()
        .filter(|a| *a == "staff_sign_in_failed")
        .count();
    assert_eq!(failed, 3);

    // Another clerk's counter, signed in: idle for the configured time, it locks.
    let dir2 = tempfile::tempdir().unwrap();
    let (window, _pad, counter2, _platform2) = open_counter(dir2.path());
    drop(counter);
    let a = window.global::<CounterAdapter>();
    sign_in(&counter2, &window, "S0002", "246810");
    assert_eq!(a.get_auth(), 2);
    counter2.tick(Instant::now() + Duration::from_secs(301));
    assert_eq!(a.get_auth(), 1);
    assert!(shows(&window, "解锁"));
    assert_eq!(a.get_staff_input(), "S0002");
    type_into(&window, "密码", "246810");
    press_checked(&counter2, &window, "解锁");
    assert_eq!(a.get_auth(), 2);
    assert!(audit_actions(dir2.path()).contains(&"staff_locked".to_owned()));
}

#[test]
fn the_hall_display_shows_and_speaks_a_call_once_and_again_on_recall() {
    i_slint_backend_testing::init_no_event_loop();
    let dir = tempfile::tempdir().unwrap();
    let hall_profile =
        Profile::load(Path::new("kiosk-config/hall-display-demo.toml")).expect("hall profile");
    let display_core = Core::start(hall_profile, dir.path()).unwrap();
    let window = HallDisplayWindow::new().unwrap();
    let said = Recorder::default();
    let display = HallDisplay::attach(&window, display_core, Box::new(said.clone()));
    let h = window.global::<HallAdapter>();
    assert_eq!(h.get_now_number(), "");

    // The counter's side of the same store: issue two, open window 3, call one.
    let mut queue = Core::start(profile(), dir.path()).unwrap();
    lease_numbers(&mut queue);
    issue(&mut queue, "A");
    issue(&mut queue, "A");
    let cfg = queue.profile.ticketing.clone().unwrap();
    let now = Timestamp::now();
    ticketing::set_window_open(&mut queue.store, &cfg, 3, true, now).unwrap();
    queue.desk(&cfg, 3).call_next(now).unwrap();

    display.refresh(Timestamp::now());
    assert_eq!(h.get_now_number(), "A001");
    assert_eq!(h.get_now_window(), "3");
    assert_eq!(h.get_announcement(), "请A001号到3号窗口办理");
    assert!(shows(&window, "请A001号到3号窗口办理"));
    assert_eq!(said.said(), vec!["请A001号到3号窗口办理".to_owned()]);
    let waiting: Vec<(String, String)> = h
        .get_queues()
        .iter()
        .map(|q| (q.name.to_string(), q.waiting.to_string()))
        .collect();
    assert!(
        waiting.contains(&("综合受理".into(), "1".into())),
        "{waiting:?}"
    );
    assert_eq!(h.get_recent().row_count(), 1);

    // Refreshing says nothing new; a recall is spoken again.
    display.refresh(Timestamp::now());
    assert_eq!(said.said().len(), 1);
    queue.desk(&cfg, 3).recall(Timestamp::now()).unwrap();
    display.refresh(Timestamp::now());
    assert_eq!(said.said().len(), 2);
}

#[test]
fn a_refusal_needs_a_reason_and_a_transfer_to_a_closed_window_keeps_the_ticket() {
    i_slint_backend_testing::init_no_event_loop();
    let dir = tempfile::tempdir().unwrap();
    let (window, pad, counter, platform) = open_counter(dir.path());
    let a = window.global::<CounterAdapter>();
    sign_in(&counter, &window, "S0002", "246810");
    let mut kiosk = Core::start(profile(), dir.path()).unwrap();
    lease_numbers(&mut kiosk);
    issue(&mut kiosk, "B");
    press(&window, "叫号");
    assert_eq!(a.get_ticket(), "B001");

    // Window 5 has nobody signed in: the ticket stays here, with the reason.
    press(&window, "转出…");
    press(&window, "转至 5 号窗口");
    assert!(a.get_message_error());
    assert_eq!(a.get_message(), "5 号窗口未开放");
    assert_eq!(a.get_ticket(), "B001");

    type_into(&window, "查找事项", "sfz");
    press(&window, "居民身份证换领");
    press(&window, "不予受理");
    assert_eq!(a.get_message(), "请填写不予受理的理由");
    assert_eq!(a.get_decision(), "");
    type_into(&window, "不予受理理由", "申请人未到场，且非本人代办情形");
    press(&window, "不予受理");
    assert_eq!(a.get_decision(), "不予受理：申请人未到场，且非本人代办情形");
    assert_eq!(
        pad.global::<PadAdapter>().get_status(),
        "不予受理：申请人未到场，且非本人代办情形"
    );
    wait_until(&counter, "the notice", || counter.printed_jobs().len() == 1);
    assert!(job_text(&counter.printed_jobs()[0]).contains("不予受理告知"));

    // Sent on to the general queue instead: the window is free again.
    press(&window, "转出…");
    press(&window, "转至 A 综合受理");
    assert_eq!(a.get_ticket(), "");
    assert_eq!(a.get_message(), "B001 号已转至 A 类业务队列");
    let sim = platform.sim().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let kinds: Vec<String> = sim.events().into_iter().map(|e| e.kind).collect();
        if kinds.iter().any(|k| k == "counter_rejected")
            && kinds.iter().any(|k| k == "ticket_transferred")
        {
            break;
        }
        assert!(Instant::now() < deadline, "events delivered: {kinds:?}");
        std::thread::sleep(Duration::from_millis(100));
        counter.process_device_events();
    }
}

/// `path`'s profile on the hall database `uri` (`ticketing.queue`).
fn on_hall(path: &str, uri: &str) -> Profile {
    let text = std::fs::read_to_string(path).unwrap().replacen(
        "lease_low_water = 10\n",
        &format!("lease_low_water = 10\nqueue = \"{uri}\"\n"),
        1,
    );
    Profile::parse(&text, path).unwrap()
}

#[test]
fn the_hall_display_on_its_own_machine_follows_the_hall_database_and_marks_a_lost_link() {
    use ykb_terminal::core::hall::{Hall, HallDb};
    use ykb_terminal::core::ticketing::HallQueue;
    i_slint_backend_testing::init_no_event_loop();
    let db = common::hall::TestDb::new();
    let display_profile = on_hall("kiosk-config/hall-display-demo.toml", &db.uri);
    let cfg = display_profile.ticketing.clone().unwrap();
    HallDb::connect_unchecked(&cfg).unwrap().init().unwrap();

    // The display on its machine, the counter and kiosk on theirs: three data directories.
    let display_dir = tempfile::tempdir().unwrap();
    let window = HallDisplayWindow::new().unwrap();
    let said = Recorder::default();
    let display = HallDisplay::attach(
        &window,
        Core::start(display_profile, display_dir.path()).unwrap(),
        Box::new(said.clone()),
    );
    let h = window.global::<HallAdapter>();
    assert_eq!(
        (h.get_now_number().as_str(), h.get_link_notice().as_str()),
        ("", "")
    );

    let counter_dir = tempfile::tempdir().unwrap();
    let mut counter = Core::start(
        on_hall("kiosk-config/counter-demo.toml", &db.uri),
        counter_dir.path(),
    )
    .unwrap();
    lease_numbers(&mut counter);
    let ccfg = counter.profile.ticketing.clone().unwrap();
    let mut link = HallDb::connect(&ccfg).unwrap();
    let mut q = Hall {
        db: &mut link,
        store: &mut counter.store,
        cfg: &ccfg,
        terminal: "counter-3",
    };
    let now = Timestamp::now();
    for _ in 0..2 {
        q.issue(
            &IssueRequest {
                service: "A".into(),
                ..Default::default()
            },
            now,
        )
        .unwrap();
    }
    q.set_open(3, true, now).unwrap();
    q.call_next(3, now).unwrap();

    display.refresh(Timestamp::now());
    assert_eq!(h.get_now_number(), "A001");
    assert_eq!(h.get_now_window(), "3");
    assert_eq!(said.said(), vec!["请A001号到3号窗口办理".to_owned()]);
    let waiting = |h: &HallAdapter| -> Vec<(String, String)> {
        h.get_queues()
            .iter()
            .map(|q| (q.name.to_string(), q.waiting.to_string()))
            .collect()
    };
    assert!(
        waiting(&h).contains(&("综合受理".into(), "1".into())),
        "{:?}",
        waiting(&h)
    );

    // The database goes away (connections cut, new ones refused): the last good state stays,
    // marked, and no queue reads 0.
    let mut admin = db.admin();
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {0} ALLOW_CONNECTIONS false;
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = '{0}' AND pid <> pg_backend_pid()",
            db.name
        ))
        .unwrap();
    display.refresh(Timestamp::now());
    assert!(
        h.get_link_notice().starts_with("连接中断"),
        "{}",
        h.get_link_notice()
    );
    assert!(
        shows(&window, h.get_link_notice().as_str()),
        "the mark is on screen"
    );
    assert_eq!(h.get_now_number(), "A001");
    assert!(
        waiting(&h).contains(&("综合受理".into(), "1".into())),
        "{:?}",
        waiting(&h)
    );
    assert_eq!(said.said().len(), 1);

    // Back: it reconnects by itself.
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {} ALLOW_CONNECTIONS true",
            db.name
        ))
        .unwrap();
    display.refresh(Timestamp::now());
    assert_eq!(h.get_link_notice(), "");
    assert_eq!(h.get_now_number(), "A001");
}

#[test]
fn a_counter_on_the_hall_database_calls_off_its_screen_thread_and_shows_the_hall_waiting_line() {
    use ykb_terminal::core::hall::{Hall, HallDb};
    use ykb_terminal::core::ticketing::HallQueue;
    i_slint_backend_testing::init_no_event_loop();
    let db = common::hall::TestDb::new();
    let counter_profile = on_hall("kiosk-config/counter-demo.toml", &db.uri);
    let cfg = counter_profile.ticketing.clone().unwrap();
    HallDb::connect_unchecked(&cfg).unwrap().init().unwrap();

    // A kiosk of the hall, on its own machine, issues three tickets into the hall database.
    let kiosk_dir = tempfile::tempdir().unwrap();
    let mut kiosk = Core::start(
        on_hall("kiosk-config/counter-demo.toml", &db.uri),
        kiosk_dir.path(),
    )
    .unwrap();
    lease_numbers(&mut kiosk);
    let mut link = HallDb::connect(&cfg).unwrap();
    let mut q = Hall {
        db: &mut link,
        store: &mut kiosk.store,
        cfg: &cfg,
        terminal: "kiosk-1",
    };
    for _ in 0..3 {
        q.issue(
            &IssueRequest {
                service: "A".into(),
                ..Default::default()
            },
            Timestamp::now(),
        )
        .unwrap();
    }

    let dir = tempfile::tempdir().unwrap();
    let (window, _pad, counter, _platform) = open_counter_on(dir.path(), counter_profile);
    let a = window.global::<CounterAdapter>();
    sign_in(&counter, &window, "S0001", "123456");
    assert_eq!(a.get_auth(), 2, "{}", a.get_sign_in_note());
    // Opening the window for calls is a job for the hall desk's thread, like every call.
    wait_until(&counter, "the window opened", || {
        a.get_message() == "3 号窗口已开放叫号"
    });
    // The waiting line comes from the hall database, not from this terminal's store.
    wait_until(&counter, "the hall's waiting line", || {
        a.get_queue_line().starts_with("本窗口业务等候 3 人")
    });

    // 叫号: the press returns before the hall answers — the screen says what is being done
    // and the call's outcome arrives through the inbox.
    press(&window, "叫号");
    assert_eq!(a.get_message(), "正在叫号…");
    assert_eq!(
        a.get_ticket(),
        "",
        "nothing is shown as called before the hall says so"
    );
    wait_until(&counter, "the call", || a.get_ticket() == "A001");
    assert!(
        a.get_message().contains("请A001号到3号窗口办理"),
        "{}",
        a.get_message()
    );
    wait_until(&counter, "the line after the call", || {
        a.get_queue_line().starts_with("本窗口业务等候 2 人")
    });

    // One queue action at a time: 叫号 pressed while 办结 is with the hall is refused in
    // words, and 办结 still completes.
    press(&window, "办结");
    assert_eq!(a.get_message(), "正在办结…");
    a.invoke_call_next();
    assert_eq!(a.get_message(), "上一个叫号操作还在进行，请稍候");
    assert!(a.get_message_error());
    wait_until(&counter, "the ticket served", || {
        a.get_message().starts_with("A001 号已办结")
    });
    assert_eq!(a.get_ticket(), "");

    // The hall database goes away: the press still returns at once, and the clerk is told
    // in words; the line never reads "0 人".
    db.admin()
        .batch_execute(&format!(
            "ALTER DATABASE {0} ALLOW_CONNECTIONS false;
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = '{0}' AND pid <> pg_backend_pid()",
            db.name
        ))
        .unwrap();
    press(&window, "叫号");
    assert_eq!(a.get_message(), "正在叫号…");
    wait_until(&counter, "the refusal", || a.get_message() != "正在叫号…");
    assert!(
        a.get_message().contains("大厅数据库"),
        "{}",
        a.get_message()
    );
    assert!(a.get_message_error());
    wait_until(&counter, "the line marked unknown", || {
        a.get_queue_line() == "本窗口等候人数暂不可知（叫号服务中断）"
    });

    // Back: the next call works without a restart.
    db.admin()
        .batch_execute(&format!(
            "ALTER DATABASE {} ALLOW_CONNECTIONS true",
            db.name
        ))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while a.get_ticket() != "A002" {
        assert!(Instant::now() < deadline, "{}", a.get_message());
        if a.get_message() != "正在叫号…" {
            press(&window, "叫号");
        }
        std::thread::sleep(Duration::from_millis(200));
        counter.process_device_events();
    }
}

/// Remote operations at the counter (issue 19): the agent sets the store's switches; the
/// counter tells the clerk about maintenance and calls nobody new, serves the citizen at the
/// window to the end, says what it is doing for the update rollout, and takes a restart only
/// between citizens.
#[test]
fn operations_hold_the_counter_in_maintenance_and_restart_it_only_between_citizens() {
    use ykb_terminal::core::commands;
    i_slint_backend_testing::init_no_event_loop();
    let dir = tempfile::tempdir().unwrap();
    let (window, pad, counter, _platform) = open_counter(dir.path());
    let a = window.global::<CounterAdapter>();
    sign_in(&counter, &window, "S0001", "123456");
    let mut kiosk = Core::start(profile(), dir.path()).unwrap();
    lease_numbers(&mut kiosk);
    let mut t = Instant::now();
    let secs = || Timestamp::now().as_second();

    counter.tick(t);
    assert!(commands::activity(&mut kiosk.store, secs()).unwrap().idle());

    // A citizen is called; then operations ask for maintenance and a restart.
    assert_eq!(issue(&mut kiosk, "A"), "A001");
    press(&window, "叫号");
    assert_eq!(a.get_ticket(), "A001");
    commands::set_switch(&mut kiosk.store, "maintenance", "on", Some("c1"), secs()).unwrap();
    commands::set_switch(&mut kiosk.store, "restart", "requested", Some("c2"), secs()).unwrap();
    t += Duration::from_secs(3);
    counter.tick(t);
    assert!(a.get_ops_notice().starts_with("运维已将本机设为维护状态"));
    assert!(
        shows(&window, a.get_ops_notice().as_str()),
        "on the clerk's screen"
    );
    assert!(!counter.restarting(), "not while the citizen is served");
    let busy = commands::activity(&mut kiosk.store, secs()).unwrap();
    assert!(busy.citizen_present && !busy.idle(), "{busy:?}");

    // The citizen is served to the end; nobody new is called meanwhile.
    press(&window, "办结");
    assert_eq!(issue(&mut kiosk, "A"), "A002");
    a.invoke_call_next();
    assert!(
        a.get_message().starts_with("本机维护中，暂停叫号"),
        "{}",
        a.get_message()
    );
    assert_eq!(a.get_ticket(), "");
    t += Duration::from_secs(3);
    counter.tick(t);
    assert!(!counter.restarting(), "the citizen is still at the pad");
    press(&pad, "满意");
    press(&pad, "提交评价");

    // Between citizens: the restart is taken, once.
    t += Duration::from_secs(3);
    counter.tick(t);
    assert!(counter.restarting());
    assert_eq!(commands::restart_requested(&mut kiosk.store).unwrap(), None);
    assert!(commands::activity(&mut kiosk.store, secs()).unwrap().idle());

    // Maintenance off: the strip goes and calls resume.
    commands::set_switch(&mut kiosk.store, "maintenance", "off", Some("c3"), secs()).unwrap();
    t += Duration::from_secs(3);
    counter.tick(t);
    assert_eq!(a.get_ops_notice(), "");
    press(&window, "叫号");
    assert_eq!(a.get_ticket(), "A002", "{}", a.get_message());
}

/// The health check after an update asks the app to restart (issue 19) so that the new binary
/// draws its first frame: a hall display serves nobody, so it takes the request at its next
/// tick, once, and audits it.
#[test]
fn the_hall_display_takes_operations_restart_at_its_next_tick_once() {
    use ykb_terminal::core::commands;
    i_slint_backend_testing::init_no_event_loop();
    let dir = tempfile::tempdir().unwrap();
    let hall_profile =
        Profile::load(Path::new("kiosk-config/hall-display-demo.toml")).expect("hall profile");
    let core = Core::start(hall_profile.clone(), dir.path()).unwrap();
    let window = HallDisplayWindow::new().unwrap();
    let display = HallDisplay::attach(&window, core, Box::new(Recorder::default()));
    let mut ops = Core::start(hall_profile, dir.path()).unwrap();
    let secs = || Timestamp::now().as_second();

    display.tick(Timestamp::now());
    assert!(!display.restarting(), "nothing asked");
    commands::set_switch(&mut ops.store, "restart", "requested", Some("c1"), secs()).unwrap();
    display.tick(Timestamp::now());
    assert!(display.restarting());
    assert_eq!(commands::restart_requested(&mut ops.store).unwrap(), None);
    assert_eq!(
        audit_actions(dir.path())
            .iter()
            .filter(|a| *a == "remote_command")
            .count(),
        1,
        "{:?}",
        audit_actions(dir.path())
    );
}
