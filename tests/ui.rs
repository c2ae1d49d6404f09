//! The kiosk UI driven the way a citizen uses it: find controls by their accessible labels,
//! press them, and check what the screen shows. Runs on Slint's testing backend (no display).

use i_slint_backend_testing::ElementHandle;
use slint::{ComponentHandle, Model};
use ykb_terminal::core::config::Profile;
use ykb_terminal::core::Core;
use ykb_terminal::kiosk::Kiosk;
use ykb_terminal::ui::{
    AppWindow, ApplyAdapter, EvaluateAdapter, FindAdapter, GuideAdapter, IdentifyAdapter,
    KioskAdapter, LicenceAdapter, Page, PaymentAdapter, ServicesAdapter, SessionAdapter,
    SignatureAdapter,
};

fn press(window: &AppWindow, label: &str) {
    lay_out(window);
    let found: Vec<_> = ElementHandle::find_by_accessible_label(window, label).collect();
    assert!(!found.is_empty(), "no control labelled {label:?}");
    found[0].invoke_accessible_default_action();
}

/// Lays the window out as a frame would: conditional and repeated elements are created when
/// the layout asks for their sizes (the testing backend draws no frames). New elements can
/// bring nested ones, so this repeats until the element count settles.
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

#[test]
fn a_citizen_finds_a_matter_guide_and_goes_home() {
    let (window, _kiosk, catalog, _dir) = start();
    let adapter = window.global::<KioskAdapter>();
    assert_eq!(adapter.get_page(), Page::Home);

    press(&window, "办事指南");
    assert_eq!(adapter.get_page(), Page::Departments);
    let departments: Vec<String> = adapter.get_departments().iter().map(Into::into).collect();
    assert_eq!(departments, catalog.departments());

    let first = &catalog.matters[0];
    press(&window, &first.department);
    assert_eq!(adapter.get_page(), Page::Matters);
    assert_eq!(adapter.get_list_title(), first.department.as_str());
    let rows = adapter.get_matters();
    let expected = catalog
        .matters
        .iter()
        .filter(|m| m.department == first.department)
        .count();
    assert_eq!(rows.row_count(), expected);

    press(&window, &first.name);
    assert_eq!(adapter.get_page(), Page::Guide);
    assert_eq!(adapter.get_guide_title(), first.name.as_str());
    let sections = adapter.get_guide_sections();
    let materials = sections
        .iter()
        .find(|s| s.title == "申请材料")
        .expect("materials section");
    for m in &first.materials {
        assert!(materials.body.contains(&m.name), "{} listed", m.name);
    }

    press(&window, "返回");
    assert_eq!(adapter.get_page(), Page::Matters);
    press(&window, "首页");
    assert_eq!(adapter.get_page(), Page::Home);
    assert!(!adapter.get_can_go_back());
}

#[test]
fn bundles_open_with_their_matters() {
    let (window, _kiosk, catalog, _dir) = start();
    let adapter = window.global::<KioskAdapter>();
    press(&window, "一件事一次办");
    assert_eq!(adapter.get_page(), Page::Bundles);
    assert_eq!(adapter.get_bundles().row_count(), catalog.bundles.len());
    if let Some(b) = catalog.bundles.first() {
        press(&window, &b.name);
        assert_eq!(adapter.get_page(), Page::Guide);
        let sections = adapter.get_guide_sections();
        let list = sections
            .iter()
            .find(|s| s.title == "一次办好以下事项")
            .unwrap();
        for code in &b.matters {
            let m = catalog.matter(code.as_str()).unwrap();
            assert!(list.body.contains(&m.name), "{} listed", m.name);
        }
    }
}

#[test]
fn large_text_toggle_enlarges_the_body_font() {
    let (window, _kiosk, _catalog, _dir) = start();
    let theme = window.global::<ykb_terminal::ui::Theme>();
    let small = theme.get_text_body();
    press(&window, "大字");
    assert!(theme.get_large_text());
    assert!(theme.get_text_body() > small);
}

fn start() -> (
    AppWindow,
    Kiosk,
    ykb_terminal::core::catalog::Catalog,
    tempfile::TempDir,
) {
    i_slint_backend_testing::init_no_event_loop();
    let dir = tempfile::tempdir().unwrap();
    let core = Core::start(Profile::demo(), dir.path()).unwrap();
    let catalog = core.catalog.clone();
    let window = AppWindow::new().unwrap();
    let kiosk = Kiosk::attach(&window, core);
    (window, kiosk, catalog, dir)
}

/// Types on the find page's keyboard and waits for the search thread's answer.
fn search_for(window: &AppWindow, kiosk: &Kiosk, keys: &[&str]) {
    for key in keys {
        press(window, key);
    }
    let find = window.global::<FindAdapter>();
    wait_until(kiosk, "the search results", || {
        let s = find.get_summary();
        !s.is_empty() && s != "正在查找…" && s != "Searching…"
    });
}

fn result_names(window: &AppWindow) -> Vec<String> {
    window
        .global::<FindAdapter>()
        .get_results()
        .iter()
        .map(|r| r.name.to_string())
        .collect()
}

#[test]
fn typing_sfz_on_the_on_screen_keyboard_finds_the_id_card_renewal() {
    let (window, kiosk, _catalog, _dir) = start();
    let adapter = window.global::<KioskAdapter>();
    press(&window, "查找事项");
    assert_eq!(adapter.get_page(), Page::Find);
    search_for(&window, &kiosk, &["s", "f", "z"]);
    let find = window.global::<FindAdapter>();
    assert_eq!(find.get_query(), "sfz");
    let names = result_names(&window);
    assert!(names.iter().any(|n| n == "居民身份证换领"), "{names:?}");
    let row = find
        .get_results()
        .iter()
        .find(|r| r.name == "居民身份证换领")
        .unwrap();
    assert!(!row.detail.is_empty(), "the department is shown");

    // Backspace and clear work on the same keyboard.
    press(&window, "删除");
    assert_eq!(find.get_query(), "sf");
    press(&window, "清空");
    assert_eq!(find.get_query(), "");
    assert_eq!(find.get_results().row_count(), 0);

    // Browsing by department is still there.
    press(&window, "按部门浏览");
    assert_eq!(adapter.get_page(), Page::Departments);
}

#[test]
fn guide_asks_the_situation_questions_and_shows_the_checklist() {
    let (window, kiosk, catalog, _dir) = start();
    let adapter = window.global::<KioskAdapter>();
    let guide = window.global::<GuideAdapter>();
    let matter = catalog
        .matters
        .iter()
        .find(|m| m.name == "居民身份证换领")
        .unwrap();
    press(&window, "查找事项");
    search_for(&window, &kiosk, &["s", "f", "z"]);
    press(&window, "居民身份证换领");
    assert_eq!(adapter.get_page(), Page::Question);
    assert_eq!(guide.get_question(), matter.questions[0].text.as_str());

    press(&window, "登记项目变更（如姓名、出生日期）");
    assert_eq!(guide.get_question(), matter.questions[1].text.as_str());
    // Back is always there, and re-answering replaces the answer.
    press(&window, "返回");
    assert_eq!(guide.get_question(), matter.questions[0].text.as_str());
    press(&window, "有效期满");
    press(&window, "未满16周岁");
    assert_eq!(guide.get_question(), matter.questions[2].text.as_str());
    press(&window, "到窗口领取");
    assert_eq!(adapter.get_page(), Page::Checklist);

    let chosen = renewal_minor_at_the_window();
    let expected: Vec<String> = matter
        .materials_for(&chosen)
        .iter()
        .map(|m| m.name.clone())
        .collect();
    let rows: Vec<_> = guide.get_checklist().iter().collect();
    let names: Vec<String> = rows.iter().map(|r| r.name.to_string()).collect();
    assert_eq!(names, expected);
    for (row, material) in rows.iter().zip(matter.materials_for(&chosen)) {
        // Not identified: nothing is exempt yet; what an e-licence would replace says so.
        let want = if material.exempted_by_licence.is_some() {
            "持证可免"
        } else if material.capturable {
            "本机拍摄"
        } else {
            "请带到窗口"
        };
        assert_eq!(row.status, want, "{}", material.name);
        assert!(!row.exempt);
    }
    // The change-of-particulars proof is asked only for that reason.
    assert!(!names.iter().any(|n| n.contains("变更")), "{names:?}");
}

#[test]
fn the_kiosk_tells_the_store_when_a_citizen_is_served_so_updates_wait() {
    use ykb_terminal::core::commands::activity;
    let (window, kiosk, _catalog, dir) = start();
    let now = || jiff::Timestamp::now().as_second();
    let start_at = std::time::Instant::now();
    kiosk.tick(start_at + std::time::Duration::from_secs(3));
    let mut store = open_store(&dir);
    assert!(activity(&mut store, now()).unwrap().idle());
    press(&window, "查找事项");
    search_for(&window, &kiosk, &["s", "f", "z"]);
    kiosk.tick(start_at + std::time::Duration::from_secs(6));
    let a = activity(&mut store, now()).unwrap();
    assert!(a.citizen_present && !a.submitting, "{a:?}");
}

#[test]
fn walking_away_shows_a_countdown_then_wipes_the_session_from_the_ui() {
    let (window, kiosk, _catalog, _dir) = start();
    let adapter = window.global::<KioskAdapter>();
    let session = window.global::<SessionAdapter>();
    press(&window, "查找事项");
    search_for(&window, &kiosk, &["s", "f", "z"]);
    assert!(!result_names(&window).is_empty());
    let now = std::time::Instant::now();
    let idle =
        std::time::Duration::from_secs(u64::from(Profile::demo().terminal.idle_timeout_secs));
    kiosk.tick(now + idle + std::time::Duration::from_secs(1));
    assert_eq!(session.get_countdown(), 20);
    press(&window, "继续办理");
    assert_eq!(session.get_countdown(), 0);
    assert_eq!(adapter.get_page(), Page::Find);
    assert_eq!(window.global::<FindAdapter>().get_query(), "sfz");

    let later = std::time::Instant::now() + idle + std::time::Duration::from_secs(1);
    kiosk.tick(later);
    assert!(session.get_countdown() > 0);
    kiosk.tick(later + std::time::Duration::from_secs(20));
    assert_eq!(session.get_countdown(), 0);
    assert_eq!(adapter.get_page(), Page::Home);
    let find = window.global::<FindAdapter>();
    assert_eq!(find.get_query(), "");
    assert_eq!(find.get_results().row_count(), 0);
    assert_eq!(session.get_person_name(), "");
    assert_eq!(session.get_person_id(), "");
    assert_eq!(
        window.global::<GuideAdapter>().get_checklist().row_count(),
        0
    );
}

/// Runs what device and network threads posted until `done` holds (the testing backend has
/// no event loop to run `upgrade_in_event_loop` for us).
fn wait_until(kiosk: &Kiosk, what: &str, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
        kiosk.process_device_events();
    }
}

/// 进入维护模式 pressed: a PIN that is checked says so while a worker checks it (the UI
/// thread never waits on the hash), then shows its outcome.
fn press_sign_in(window: &AppWindow, kiosk: &Kiosk) {
    press(window, "进入维护模式");
    if kiosk.checking_technician_pin() {
        let tech = window.global::<ykb_terminal::ui::TechAdapter>();
        assert_eq!(tech.get_login_note(), "正在核验密码…");
        wait_until(kiosk, "the PIN check", || !kiosk.checking_technician_pin());
    }
}

#[test]
fn the_demo_card_is_read_through_the_emulator_and_exempts_materials_covered_by_e_licences() {
    i_slint_backend_testing::init_no_event_loop();
    let dir = tempfile::tempdir().unwrap();
    let mut core = Core::start(Profile::demo(), dir.path()).unwrap();
    let platform =
        ykb_terminal::terminal::link::PlatformLink::start_demo(&mut core).expect("demo platform");
    let catalog = core.catalog.clone();
    let window = AppWindow::new().unwrap();
    let kiosk = Kiosk::attach(&window, core);
    kiosk.use_platform(std::sync::Arc::new(platform));
    kiosk.start_demo_card_reader();
    let adapter = window.global::<KioskAdapter>();
    let session = window.global::<SessionAdapter>();

    press(&window, "刷身份证");
    assert_eq!(adapter.get_page(), Page::Identify);
    assert_eq!(window.global::<IdentifyAdapter>().get_status(), 0);
    press(&window, "放置演示身份证");
    wait_until(&kiosk, "the card", || session.get_person_name() != "");
    assert_eq!(session.get_person_name(), "李喆");
    let shown = session.get_person_id().to_string();
    assert_ne!(shown, "500105198511220024");
    assert!(shown.contains("****") && shown.ends_with("0024"), "{shown}");

    // 不是本人/更换 forgets the card; the demo card can be placed again.
    press(&window, "不是本人/更换");
    assert_eq!(session.get_person_name(), "");
    assert_eq!(adapter.get_page(), Page::Identify);
    press(&window, "放置演示身份证");
    wait_until(&kiosk, "the card again", || session.get_person_name() != "");
    press(&window, "确认，继续办理");

    let matter = catalog
        .matters
        .iter()
        .find(|m| m.name == "居民身份证换领")
        .unwrap();
    guide_id_card_renewal(&window, &kiosk, "未满16周岁", "到窗口领取");
    assert_eq!(adapter.get_page(), Page::Checklist);
    let held: Vec<String> = ykb_terminal::sim::platform::licences_for("500105198511220024")
        .into_iter()
        .map(|l| l.licence_type)
        .collect();
    let guide = window.global::<GuideAdapter>();
    wait_until(&kiosk, "the e-licences", || {
        guide.get_checklist().iter().any(|r| r.exempt)
    });
    let chosen = renewal_minor_at_the_window();
    for (row, material) in guide
        .get_checklist()
        .iter()
        .zip(matter.materials_for(&chosen))
    {
        let exempt = material
            .exempted_by_licence
            .as_ref()
            .is_some_and(|l| held.contains(l));
        assert_eq!(row.exempt, exempt, "{}", material.name);
        if exempt {
            assert_eq!(row.status, "免提交");
        }
    }
}

/// A demo kiosk with the in-process platform, the ID-card emulator and the printer emulator,
/// the card read and 居民身份证换领 (by post) guided to its checklist.
fn demo_at_checklist() -> Demo {
    demo_at_checklist_with(Profile::demo())
}

fn demo_at_checklist_with(profile: Profile) -> Demo {
    let (window, kiosk, platform, dir) = demo_home_with(profile);
    kiosk.start_demo_card_reader();
    read_the_demo_card(&window, &kiosk);
    guide_id_card_renewal(&window, &kiosk, "已满16周岁", "邮寄到家");
    assert_eq!(window.global::<KioskAdapter>().get_page(), Page::Checklist);
    (window, kiosk, platform, dir)
}

/// Reads the demo card on the ID-card emulator from the home page and confirms the person.
fn read_the_demo_card(window: &AppWindow, kiosk: &Kiosk) {
    let session = window.global::<SessionAdapter>();
    press(window, "刷身份证");
    press(window, "放置演示身份证");
    wait_until(kiosk, "the card", || session.get_person_name() != "");
    press(window, "确认，继续办理");
}

/// Finds 居民身份证换领 by typing sfz and answers its questions: renewal because the card
/// expired, then `age` and `delivery`.
fn guide_id_card_renewal(window: &AppWindow, kiosk: &Kiosk, age: &str, delivery: &str) {
    press(window, "查找事项");
    search_for(window, kiosk, &["s", "f", "z"]);
    press(window, "居民身份证换领");
    press(window, "有效期满");
    press(window, age);
    press(window, delivery);
}

/// The answers of [`guide_id_card_renewal`] with 未满16周岁 and 到窗口领取, as option ids.
fn renewal_minor_at_the_window() -> Vec<String> {
    vec![
        "o_expiry".into(),
        "o_minor_yes".into(),
        "o_pick_window".into(),
    ]
}

/// Presses the keyboard key of each character of `text`.
fn type_keys(window: &AppWindow, text: &str) {
    for c in text.chars() {
        press(window, &c.to_string());
    }
}

/// The kiosk's first printed job as the emulator kept it: the raw ESC/POS bytes and their
/// text decoded from GB18030.
fn first_job(kiosk: &Kiosk) -> (Vec<u8>, String) {
    let raw = std::fs::read(kiosk.printed_jobs()[0].with_extension("bin")).unwrap();
    let text = encoding_rs::GB18030.decode(&raw).0.to_string();
    (raw, text)
}

/// Waits until the printer emulator has filed the one job it was sent.
fn wait_for_the_job(kiosk: &Kiosk) {
    wait_until(kiosk, "the emulator's job", || {
        kiosk.printed_jobs().len() == 1
    });
}

/// Walks away: an hour later the countdown starts, 20 s after that it runs out.
fn walk_away(kiosk: &Kiosk) {
    let later = std::time::Instant::now() + std::time::Duration::from_secs(3600);
    kiosk.tick(later);
    kiosk.tick(later + std::time::Duration::from_secs(20));
}

/// Waits (without running the kiosk's events) until `done` holds.
fn wait_for(what: &str, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The store of the kiosk's data directory, on a connection of its own.
fn open_store(dir: &tempfile::TempDir) -> ykb_terminal::core::store::Store {
    ykb_terminal::core::store::Store::open(&dir.path().join(ykb_terminal::core::STORE_FILE))
        .unwrap()
}

/// The pixels of an image property.
fn pixels(image: &slint::Image) -> Vec<u8> {
    image
        .to_rgb8()
        .map(|b| b.as_bytes().to_vec())
        .unwrap_or_default()
}

/// The camera panel's picture, by its accessible label.
fn preview_element(window: &AppWindow, label: &str) -> ElementHandle {
    lay_out(window);
    ElementHandle::find_by_accessible_label(window, label)
        .find(|e| e.accessible_role() == Some(i_slint_backend_testing::AccessibleRole::Image))
        .unwrap_or_else(|| panic!("no picture labelled {label:?}"))
}

/// The percentage a progress bar shows, by its accessible label (`None`: no such bar).
fn progress_of(window: &AppWindow, label: &str) -> Option<String> {
    lay_out(window);
    ElementHandle::find_by_accessible_label(window, label)
        .find(|e| {
            e.accessible_role() == Some(i_slint_backend_testing::AccessibleRole::ProgressIndicator)
        })
        .and_then(|e| e.accessible_value())
        .map(|v| v.to_string())
}

/// Label and value of each row of a review list.
fn label_values(rows: slint::ModelRc<ykb_terminal::ui::ReviewRow>) -> Vec<(String, String)> {
    rows.iter()
        .map(|r| (r.label.to_string(), r.value.to_string()))
        .collect()
}

fn field(window: &AppWindow, id: &str) -> ykb_terminal::ui::FieldRow {
    window
        .global::<ApplyAdapter>()
        .get_fields()
        .iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("no field {id}"))
}

/// Fills the form (phone by keyboard, address from the card), photographs the photo
/// receipt, and arrives at the review page.
fn fill_capture_and_review(window: &AppWindow, kiosk: &Kiosk) {
    let adapter = window.global::<KioskAdapter>();
    press(window, "开始申请");
    assert_eq!(adapter.get_page(), Page::Form);
    // Name and ID number come from the card, locked; the ID number masked.
    let name = field(window, "f_name");
    assert!(name.locked);
    assert_eq!(name.value, "李喆");
    let id = field(window, "f_id");
    assert!(id.locked);
    assert_ne!(id.value, "500105198511220024");
    assert!(id.value.ends_with("0024") && id.value.contains("****"));
    // Missing fields are explained next to them.
    press(window, "下一步");
    assert_eq!(adapter.get_page(), Page::Form);
    assert_eq!(field(window, "f_phone").error, "请填写联系电话");
    assert_eq!(field(window, "f_post_address").error, "请填写邮寄地址");
    press(window, "联系电话");
    type_keys(window, "1380000");
    press(window, "下一步");
    assert_eq!(
        field(window, "f_phone").error,
        "手机号应为11位数字，以1开头"
    );
    type_keys(window, "0000");
    assert_eq!(field(window, "f_phone").value, "13800000000");
    assert!(!field(window, "f_post_address").quick_fill.is_empty());
    press(window, "使用身份证住址");
    assert!(!field(window, "f_post_address").value.is_empty());
    press(window, "下一步");
    assert_eq!(adapter.get_page(), Page::Capture);
    let apply = window.global::<ApplyAdapter>();
    // The photo receipt is shown live at once, from the camera's own thread.
    assert_eq!(apply.get_capture_stage(), "live");
    assert_eq!(apply.get_capture_material(), "数码相片回执");
    assert!(kiosk.camera_open());
    wait_until(kiosk, "a live frame", || apply.get_preview_frame() >= 1);
    let first = pixels(&apply.get_preview());
    let first_number = apply.get_preview_frame();
    // The picture moves: a frozen stream would never get past this.
    wait_until(kiosk, "the live picture to change", || {
        pixels(&apply.get_preview()) != first
    });
    assert!(apply.get_preview_frame() > first_number);
    let live = preview_element(window, "摄像头画面");
    assert_eq!(
        live.accessible_value().unwrap(),
        apply.get_preview_frame().to_string(),
        "the live picture carries its frame number"
    );
    // 拍照 takes the full-resolution still from the same camera and shows it.
    press(window, "拍照");
    wait_until(kiosk, "the still", || apply.get_capture_stage() == "check");
    assert!(apply.get_has_preview());
    assert_eq!(apply.get_preview_frame(), 0);
    preview_element(window, "拍摄的照片");
    assert!(apply.get_captures().iter().all(|c| c.done));
    // 重拍 drops it and the live picture returns.
    press(window, "重拍");
    assert_eq!(apply.get_capture_stage(), "live");
    assert!(apply.get_captures().iter().all(|c| !c.done));
    wait_until(kiosk, "live again", || apply.get_preview_frame() >= 1);
    press(window, "拍照");
    wait_until(kiosk, "the second still", || {
        apply.get_capture_stage() == "check"
    });
    press(window, "使用这张");
    assert!(apply.get_captures().iter().all(|c| c.done));
    // Nothing left to photograph: the camera is closed.
    assert_eq!(apply.get_capture_stage(), "");
    assert!(!kiosk.camera_open());
    press(window, "下一步");
    assert_eq!(adapter.get_page(), Page::Review);
    let review = label_values(apply.get_review());
    assert!(
        review.contains(&("联系电话".into(), "138****0000".into())),
        "{review:?}"
    );
    assert!(
        !review.iter().any(|(_, v)| v.contains("198511")),
        "identifiers masked: {review:?}"
    );
    sign(window);
}

/// The review page's 承诺 and signature: unsigned, 确认提交 is refused with the reason; then
/// the citizen signs with a finger.
fn sign(window: &AppWindow) {
    let signature = window.global::<SignatureAdapter>();
    assert!(signature.get_required(), "居民身份证换领 must be signed");
    assert!(has_control(window, "签名板"));
    press(window, "确认提交");
    assert_eq!(window.global::<KioskAdapter>().get_page(), Page::Review);
    assert!(signature.get_refusal().contains("需要本人签名"));
    assert!(!window.global::<ApplyAdapter>().get_submitting());
    write_on(
        window,
        "签名板",
        &[
            vec![[80.0, 600.0], [300.0, 300.0], [520.0, 700.0]],
            vec![[600.0, 400.0], [900.0, 450.0]],
        ],
    );
    assert_eq!(signature.get_refusal(), "");
    assert!(
        signature.get_ink().starts_with("M "),
        "the strokes are drawn back"
    );
}

#[test]
fn a_citizen_applies_online_gets_the_unified_code_a_receipt_and_evaluates() {
    let (window, kiosk, platform, _dir) = demo_at_checklist();
    let adapter = window.global::<KioskAdapter>();
    let apply = window.global::<ApplyAdapter>();
    // The renewal has no 代办 answer: in person only, said before the citizen starts.
    assert!(window
        .global::<GuideAdapter>()
        .get_checklist_note()
        .contains("本事项需本人办理"));
    fill_capture_and_review(&window, &kiosk);
    press(&window, "确认提交");
    wait_until(&kiosk, "已提交", || apply.get_done_title() == "已提交");
    assert_eq!(adapter.get_page(), Page::Done);
    let sim = platform.sim().unwrap();
    let cases = sim.cases();
    assert_eq!(cases.len(), 1, "delivered once");
    // 邮寄到家 is the case's delivery, with the address and phone typed.
    assert_eq!(cases[0].body["delivery"]["method"], "post");
    assert_eq!(cases[0].body["delivery"]["phone"], "13800000000");
    assert!(cases[0].body.get("agent").is_none());
    assert_eq!(apply.get_done_number_label(), "办件编号");
    assert!(!apply.get_done_number().is_empty());
    // The photo reached the platform too, and the upload bar says all of it.
    assert!(!sim.materials().is_empty());
    assert_eq!(progress_of(&window, "上传材料").as_deref(), Some("100%"));
    // The receipt went through the printer driver to the emulator, its bar to the end.
    wait_until(&kiosk, "the receipt", || {
        apply.get_print_status() == "回执已打印，请取走回执"
    });
    assert_eq!(progress_of(&window, "打印回执").as_deref(), Some("100%"));
    // The emulator files the job once it has parsed it.
    wait_for_the_job(&kiosk);

    press(&window, "评价本次服务");
    assert_eq!(adapter.get_page(), Page::Evaluate);
    let eval = window.global::<EvaluateAdapter>();
    press(&window, "提交评价");
    assert_eq!(eval.get_note(), "请先点选一个评价");
    press(&window, "不满意");
    press(&window, "提交评价");
    assert_eq!(eval.get_note(), "请选择不满意的原因，以便我们改进");
    press(&window, "满意");
    press(&window, "速度快");
    press(&window, "提交评价");
    assert_eq!(adapter.get_page(), Page::Home);
    // Nothing personal is left in the UI.
    assert_eq!(window.global::<SessionAdapter>().get_person_name(), "");
    assert_eq!(apply.get_fields().row_count(), 0);
    assert_eq!(apply.get_done_number(), "");
    assert!(!apply.get_has_preview());
    wait_for("evaluation not delivered", || !sim.events().is_empty());
    let events = sim.events();
    assert_eq!(events.len(), 1);
    let body = serde_json::to_string(&events[0]).unwrap();
    assert!(
        body.contains("satisfied") && body.contains("速度快"),
        "{body}"
    );
    assert!(!body.contains("500105198511220024") && !body.contains("李喆"));
}

#[test]
fn with_the_platform_down_the_case_is_queued_the_receipt_says_so_and_it_leaves_later() {
    let (window, kiosk, platform, _dir) = demo_at_checklist();
    let apply = window.global::<ApplyAdapter>();
    let adapter = window.global::<KioskAdapter>();
    let sim = platform.sim().unwrap();
    sim.set_faults(ykb_terminal::sim::platform::Faults {
        outage: true,
        retry_after_secs: 1,
        ..Default::default()
    });
    fill_capture_and_review(&window, &kiosk);
    press(&window, "确认提交");
    assert!(apply.get_submitting());
    // After the grace period the kiosk stops waiting for the platform.
    kiosk.tick(std::time::Instant::now() + std::time::Duration::from_secs(4));
    assert_eq!(apply.get_done_title(), "已暂存");
    assert_eq!(apply.get_done_number_label(), "本机编号");
    let local = apply.get_done_number().to_string();
    assert!(!local.is_empty());
    wait_until(&kiosk, "the offline banner", || {
        adapter.get_banner().contains("网络中断")
    });
    // Nothing got through yet: the upload bar stands at the start.
    assert_eq!(progress_of(&window, "上传材料").as_deref(), Some("0%"));
    wait_until(&kiosk, "the receipt", || {
        apply.get_print_status() == "回执已打印，请取走回执"
    });
    wait_for_the_job(&kiosk);
    // The emulator kept the raw ESC/POS job beside its PNG: the status line is in it.
    let (_, text) = first_job(&kiosk);
    assert!(text.contains("已暂存"), "{text}");
    assert!(text.contains(&local));
    assert!(sim.cases().is_empty());

    // The network returns: the case leaves by itself, once, and the screen says 已提交.
    sim.set_faults(Default::default());
    wait_until(&kiosk, "delivery after the outage", || {
        apply.get_done_title() == "已提交"
    });
    assert_eq!(progress_of(&window, "上传材料").as_deref(), Some("100%"));
    assert_eq!(sim.cases().len(), 1);
    assert!(!adapter.get_banner().contains("网络中断"));

    // Later, 办件进度查询 with the receipt's local number finds the unified code.
    press(&window, "完成");
    assert_eq!(adapter.get_page(), Page::Home);
    press(&window, "办件进度查询");
    type_keys(&window, &local);
    press(&window, "查询");
    let services = window.global::<ServicesAdapter>();
    assert!(
        services.get_progress_title().starts_with("办件编号 "),
        "{}",
        services.get_progress_title()
    );
    assert!(services.get_progress_detail().starts_with("状态：已提交"));
}

#[test]
fn english_is_one_touch_away_and_the_next_citizen_gets_chinese_again() {
    let (window, kiosk, _catalog, _dir) = start();
    let adapter = window.global::<KioskAdapter>();
    let has = |label: &str| has_control(&window, label);
    assert!(has("您好，请选择要办理的业务"));
    press(&window, "English");
    assert!(has("Hello! What would you like to do?"));
    assert!(adapter.get_status_line().starts_with("Catalogue v"));
    press(&window, "Find a service");
    search_for(&window, &kiosk, &["s", "f", "z"]);
    assert!(window
        .global::<FindAdapter>()
        .get_summary()
        .ends_with("found; tap one to start"));
    // Walking away ends the session, and its language with it.
    walk_away(&kiosk);
    assert_eq!(adapter.get_page(), Page::Home);
    assert!(has("您好，请选择要办理的业务"));
    assert!(adapter.get_status_line().starts_with("事项目录"));
}

/// A demo kiosk with the platform simulator and the printer emulator, at home. The window is
/// tall enough that a whole form is on screen: queries skip what is scrolled away.
fn demo_home() -> Demo {
    demo_home_with(Profile::demo())
}

/// A demo kiosk with its window, the platform link and the data directory.
type Demo = (
    AppWindow,
    Kiosk,
    std::sync::Arc<ykb_terminal::terminal::link::PlatformLink>,
    tempfile::TempDir,
);

/// [`demo_home`] with the ID-card emulator's reader started.
fn demo_home_with_card_reader() -> Demo {
    let demo = demo_home();
    demo.1.start_demo_card_reader();
    demo
}

fn demo_home_with(profile: Profile) -> Demo {
    i_slint_backend_testing::init_no_event_loop();
    let dir = tempfile::tempdir().unwrap();
    let mut core = Core::start(profile, dir.path()).unwrap();
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
    (window, kiosk, platform, dir)
}

#[test]
fn a_ticket_is_taken_at_the_kiosk_from_the_leased_numbers_and_printed() {
    let (window, kiosk, _platform, _dir) = demo_home();
    let adapter = window.global::<KioskAdapter>();
    let services = window.global::<ServicesAdapter>();
    assert!(services.get_ticketing());
    press(&window, "取号");
    assert_eq!(adapter.get_page(), Page::Tickets);
    // The lease arrives from the platform in the background; until then the kiosk says why.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        press(&window, "A  综合受理");
        if adapter.get_page() == Page::TicketIssued {
            break;
        }
        assert!(!services.get_note().is_empty(), "a refusal is explained");
        assert!(
            std::time::Instant::now() < deadline,
            "no lease: {}",
            services.get_note()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
        kiosk.process_device_events();
    }
    let number = services.get_ticket_number().to_string();
    assert!(number.starts_with('A') && number.len() == 4, "{number}");
    assert_eq!(services.get_ticket_detail(), "前面还有 0 人");
    wait_until(&kiosk, "the ticket print", || {
        kiosk.printed_jobs().len() == 1
    });
    wait_until(&kiosk, "the ticket's bar", || {
        progress_of(&window, "打印取号凭条").as_deref() == Some("100%")
    });
    let (_, text) = first_job(&kiosk);
    assert!(
        text.contains(&number) && text.contains("综合受理"),
        "{text}"
    );
    // Back does not take a second number; it ends the visit.
    press(&window, "返回");
    assert_eq!(adapter.get_page(), Page::Home);
    assert_eq!(services.get_ticket_number(), "");
    // The next citizen is behind the first.
    press(&window, "取号");
    press(&window, "绿色通道（残疾人、孕妇等优先）");
    assert!(services.get_green());
    press(&window, "A  综合受理");
    assert_eq!(adapter.get_page(), Page::TicketIssued);
    assert_ne!(services.get_ticket_number().to_string(), number);
    assert!(services.get_ticket_detail().contains("绿色通道"));
}

#[test]
fn progress_is_found_by_the_local_number_and_staff_can_be_called() {
    let (window, kiosk, platform, _dir) = demo_home();
    let adapter = window.global::<KioskAdapter>();
    let services = window.global::<ServicesAdapter>();
    // Maintenance notices from the platform show in the banner.
    platform
        .sim()
        .unwrap()
        .add_notice(ykb_terminal::core::platform::wire::Notice {
            id: "n-test".into(),
            title: "测试维护通知".into(),
            message: "维护期间业务暂存本机".into(),
            starts_at: "2026-01-01T00:00:00+08:00".into(),
            ends_at: "2099-01-01T00:00:00+08:00".into(),
        });
    kiosk.use_platform(platform.clone());
    wait_until(&kiosk, "the notice", || {
        adapter
            .get_banner()
            .contains("【测试维护通知】维护期间业务暂存本机")
    });
    press(&window, "办件进度查询");
    assert_eq!(adapter.get_page(), Page::Progress);
    press(&window, "查询");
    assert_eq!(services.get_progress_title(), "请先输入编号");
    press(&window, "9");
    press(&window, "9");
    press(&window, "查询");
    assert_eq!(services.get_progress_title(), "没有找到这个编号");
    press(&window, "首页");

    press(&window, "呼叫工作人员");
    assert_eq!(adapter.get_page(), Page::CallStaff);
    let sim = platform.sim().unwrap();
    wait_for("staff call not delivered", || {
        sim.events().iter().any(|e| e.kind == "staff_call")
    });
    let _ = kiosk;
}

/// Records what the kiosk would say.
struct Recorder(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl ykb_terminal::terminal::speech::Speaker for Recorder {
    fn say(&self, text: &str, _lang: ykb_terminal::core::config::Language) {
        self.0.lock().unwrap().push(text.to_owned());
    }
}

#[test]
fn large_text_mode_reads_each_new_screen_aloud_and_normal_mode_stays_silent() {
    let (window, kiosk, _catalog, _dir) = start();
    let said = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    kiosk.set_speaker(Box::new(Recorder(said.clone())));
    press(&window, "查找事项");
    assert!(said.lock().unwrap().is_empty(), "silent unless 大字");
    press(&window, "首页");
    press(&window, "大字");
    press(&window, "查找事项");
    search_for(&window, &kiosk, &["s", "f", "z"]);
    press(&window, "居民身份证换领");
    press(&window, "有效期满");
    let said = said.lock().unwrap().clone();
    assert_eq!(
        said,
        [
            "请用屏幕上的键盘输入拼音首字母",
            "您换领身份证的原因是？",
            "申领人是否未满16周岁？"
        ],
        "typing on one screen says nothing new"
    );
}

#[test]
fn technician_mode_is_behind_a_hidden_gesture_and_a_throttled_pin_and_every_step_is_audited() {
    let (window, kiosk, _catalog, dir) = start();
    let adapter = window.global::<KioskAdapter>();
    let tech = window.global::<ykb_terminal::ui::TechAdapter>();
    // A citizen tapping the title now and then never gets there.
    for _ in 0..3 {
        adapter.invoke_title_tapped();
    }
    assert_eq!(adapter.get_page(), Page::Home);
    // Five quick taps open the PIN pad.
    for _ in 0..2 {
        adapter.invoke_title_tapped();
    }
    assert_eq!(adapter.get_page(), Page::TechLogin);
    let type_in = |field: &str, text: &str| {
        press(&window, field);
        press(&window, "清空");
        type_keys(&window, text);
    };
    type_in("工号", "t0001");
    type_in("密码", "111111");
    assert_eq!(tech.get_pin_dots(), "●●●●●●", "the PIN is never shown");
    press_sign_in(&window, &kiosk);
    assert_eq!(tech.get_login_note(), "工号或密码不对，还可以再试 2 次");
    type_in("密码", "222222");
    press_sign_in(&window, &kiosk);
    type_in("密码", "333333");
    press_sign_in(&window, &kiosk);
    assert_eq!(tech.get_login_note(), "错误次数过多，请 60 秒后再试");
    // Paused: even the right PIN is not checked.
    type_in("密码", "246810");
    press_sign_in(&window, &kiosk);
    assert!(tech.get_login_note().starts_with("错误次数过多"));
    assert_eq!(adapter.get_page(), Page::TechLogin);
    drop(window);
    drop(kiosk);

    // A restart does not lift the pause (issue 17: the throttle is kept in the store).
    let core = Core::start(Profile::demo(), dir.path()).unwrap();
    let window = AppWindow::new().unwrap();
    let kiosk = Kiosk::attach(&window, core);
    let adapter = window.global::<KioskAdapter>();
    let tech = window.global::<ykb_terminal::ui::TechAdapter>();
    let sign_in = |window: &AppWindow, kiosk: &Kiosk, adapter: &KioskAdapter<'_>| {
        for _ in 0..5 {
            adapter.invoke_title_tapped();
        }
        press(window, "工号");
        type_keys(window, "t0001");
        press(window, "密码");
        type_keys(window, "246810");
        press_sign_in(window, kiosk);
    };
    sign_in(&window, &kiosk, &adapter);
    assert_eq!(adapter.get_page(), Page::TechLogin);
    assert!(
        tech.get_login_note().starts_with("错误次数过多"),
        "{}",
        tech.get_login_note()
    );
    drop(window);
    drop(kiosk);

    // The minute passes (the stored pause ends); a fresh start with the right PIN.
    {
        let mut core = Core::start(Profile::demo(), dir.path()).unwrap();
        let n = core
            .store
            .conn()
            .execute(
                "UPDATE pin_throttle SET paused_until_ms = ?1 WHERE scope = 'technician'",
                [jiff::Timestamp::now().as_millisecond() - 1],
            )
            .unwrap();
        assert_eq!(n, 1, "the kiosk stored its technician throttle");
    }
    let core = Core::start(Profile::demo(), dir.path()).unwrap();
    let window = AppWindow::new().unwrap();
    let kiosk = Kiosk::attach(&window, core);
    let adapter = window.global::<KioskAdapter>();
    let tech = window.global::<ykb_terminal::ui::TechAdapter>();
    sign_in(&window, &kiosk, &adapter);
    assert_eq!(adapter.get_page(), Page::Technician);
    assert_eq!(tech.get_technician(), "T0001");
    let labels: Vec<String> = tech
        .get_lines()
        .iter()
        .map(|l| l.label.to_string())
        .collect();
    for l in ["事项目录", "待提交", "网络", "磁盘", "审计日志"] {
        assert!(labels.iter().any(|x| x == l), "{l} missing: {labels:?}");
    }
    // The self-test runs through the real drivers against the emulators, off the UI thread.
    press(&window, "运行自检");
    assert!(tech.get_busy());
    wait_until(&kiosk, "the self-test", || !tech.get_busy());
    let lines: Vec<(String, bool)> = tech
        .get_lines()
        .iter()
        .map(|l| (l.label.to_string(), l.warn))
        .collect();
    assert!(
        lines.iter().any(|(l, _)| l.contains("打印机")),
        "the checks are listed: {lines:?}"
    );
    press(&window, "导出诊断日志");
    let status = tech.get_status().to_string();
    assert!(status.starts_with("已导出："), "{status}");
    let path = status.trim_start_matches("已导出：");
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains("\"audit\""));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    press(&window, "退出维护模式");
    assert_eq!(adapter.get_page(), Page::Home);
    assert_eq!(tech.get_lines().row_count(), 0);
    drop(window);
    drop(kiosk);

    // The audit log has every step, chained, with no PIN in it.
    let mut core = Core::start(Profile::demo(), dir.path()).unwrap();
    let entries = ykb_terminal::core::audit::list(&mut core.store).unwrap();
    let actions: Vec<String> = entries.iter().map(|e| e.action.clone()).collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "technician_login_failed")
            .count(),
        3,
        "{actions:?}"
    );
    for a in [
        "technician_login",
        "selftest",
        "log_export",
        "technician_logout",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a}: {actions:?}");
    }
    let all = serde_json::to_string(&entries).unwrap();
    for pin in ["111111", "246810"] {
        assert!(!all.contains(pin));
    }
    assert!(ykb_terminal::core::audit::verify(&mut core.store)
        .unwrap()
        .is_intact());
}

#[test]
fn a_ykm_code_identifies_through_the_scanner_driver_and_a_receipt_code_finds_the_case() {
    let (window, kiosk, platform, _dir) = demo_home();
    kiosk.start_scanner();
    let adapter = window.global::<KioskAdapter>();
    let session = window.global::<SessionAdapter>();
    let identify = window.global::<IdentifyAdapter>();
    press(&window, "刷身份证");
    // Something that is not a 渝快码 is refused in words, and identifies nobody.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while identify.get_note().is_empty() {
        // The driver may not have opened the port yet: scan again until it reads one.
        kiosk.demo_scan("https://evil.example/?a=<script>");
        std::thread::sleep(std::time::Duration::from_millis(200));
        kiosk.process_device_events();
        assert!(
            std::time::Instant::now() < deadline,
            "the scan never arrived"
        );
    }
    assert_eq!(
        identify.get_note(),
        "这个二维码不是渝快码或本机回执，请换一个码"
    );
    assert_eq!(session.get_person_name(), "");
    // An expired or unknown token is the platform's "no".
    kiosk.demo_scan("YKM0000");
    wait_until(&kiosk, "the platform's answer", || {
        identify.get_note() != "这个二维码不是渝快码或本机回执，请换一个码"
            && identify.get_note() != "正在核验渝快码…"
    });
    assert_eq!(session.get_person_name(), "");
    // The demo 渝快码: issued by the simulator, read by the real serial driver, verified.
    press(&window, "演示：出示渝快码");
    wait_until(&kiosk, "the 渝快码 person", || {
        session.get_person_name() != ""
    });
    assert_eq!(session.get_person_name(), "李喆");
    assert!(session.get_person_id().contains("****"));
    assert_eq!(adapter.get_page(), Page::Identify);
    // A receipt's code opens 办件进度查询 for that case (unknown here: said so).
    kiosk.demo_scan("ykb:case:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
    wait_until(&kiosk, "the progress page", || {
        adapter.get_page() == Page::Progress
    });
    let services = window.global::<ServicesAdapter>();
    assert_eq!(
        services.get_progress_query(),
        "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
    );
    assert_eq!(services.get_progress_title(), "没有找到这个编号");
    let _ = platform;
}

#[test]
fn an_appointment_checks_in_once_and_a_second_check_in_is_refused_in_words() {
    let (window, kiosk, _platform, _dir) = demo_home();
    let adapter = window.global::<KioskAdapter>();
    let services = window.global::<ServicesAdapter>();
    let take = |label: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            press(&window, label);
            // Until the lease arrives the kiosk says so; then the answer is the real one.
            if adapter.get_page() == Page::TicketIssued || !services.get_note().contains("号段") {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "no lease");
            std::thread::sleep(std::time::Duration::from_millis(200));
            kiosk.process_device_events();
        }
    };
    let check_in = |code: &str| {
        press(&window, "取号");
        press(&window, "我有预约（预约签到）");
        assert!(services.get_checkin());
        for c in code.chars() {
            press(&window, &c.to_lowercase().to_string());
        }
        assert_eq!(services.get_checkin_code(), code);
    };
    check_in("");
    take("B  不动产登记");
    assert_eq!(services.get_note(), "预约号不能为空");
    press(&window, "首页");
    check_in("AB12");
    take("B  不动产登记");
    assert_eq!(adapter.get_page(), Page::TicketIssued);
    assert!(services.get_ticket_detail().contains("预约签到"));
    let number = services.get_ticket_number().to_string();
    press(&window, "返回");
    check_in("AB12");
    take("B  不动产登记");
    assert_eq!(adapter.get_page(), Page::Tickets);
    assert_eq!(
        services.get_note(),
        format!("预约 AB12 已签到（号码 {number}），不能重复签到")
    );
}

/// 一件事一次办 at the kiosk: 退休一件事 is guided as one set of questions, one checklist and
/// one form, and reaches the platform as one case naming every member matter.
#[test]
fn a_bundle_is_applied_for_as_one_case() {
    let (window, kiosk, platform, _dir) = demo_home_with_card_reader();
    let adapter = window.global::<KioskAdapter>();
    let guide = window.global::<GuideAdapter>();
    let apply = window.global::<ApplyAdapter>();
    read_the_demo_card(&window, &kiosk);
    press(&window, "一件事一次办");
    press(&window, "退休一件事");
    assert_eq!(adapter.get_page(), Page::Guide);
    press(&window, "开始办理");
    let mut asked = 0;
    while adapter.get_page() == Page::Question {
        let first = guide.get_choices().row_data(0).unwrap();
        press(&window, &first.label);
        if guide.get_multi() {
            press(&window, "下一步");
        }
        asked += 1;
        assert!(asked < 30, "the questions end");
    }
    assert_eq!(adapter.get_page(), Page::Checklist);
    assert!(
        asked >= 4,
        "the bundle's and its members' questions: {asked}"
    );
    assert!(guide.get_can_apply());
    // Each material once, though both members ask for the ID card.
    let names: Vec<String> = guide
        .get_checklist()
        .iter()
        .map(|m| m.name.to_string())
        .collect();
    let unique: std::collections::BTreeSet<&String> = names.iter().collect();
    assert_eq!(names.len(), unique.len(), "{names:?}");
    press(&window, "开始申请");
    assert_eq!(adapter.get_page(), Page::Form);
    let id_number = ykb_terminal::core::domain::IdNumber::complete("11010519491231002")
        .unwrap()
        .expose()
        .to_owned();
    let mut chinese = 0;
    for f in apply.get_fields().iter().filter(|f| !f.locked) {
        if let Some(o) = f.options.row_data(0) {
            apply.invoke_pick(f.id.clone(), o);
            continue;
        }
        let value = match f.label.as_str() {
            l if l.contains("电话") => "13800000000".to_owned(),
            l if l.contains("时间") || l.contains("日期") => "2020-01-01".to_owned(),
            l if l.contains("身份号码") => id_number.clone(),
            l if l.contains("卡号") => "6222020200112233445".to_owned(),
            _ => String::new(),
        };
        apply.invoke_edit(f.id.clone());
        if !value.is_empty() {
            apply.invoke_key(value.into());
            continue;
        }
        // Chinese through the pinyin keyboard: letters compose, a tap picks the word.
        for key in ["s", "i", "c", "h", "u", "a", "n"] {
            press(&window, key);
        }
        assert_eq!(apply.get_composing(), "sichuan");
        assert_eq!(field(&window, &f.id).value, "", "letters are not typed in");
        // The candidate key (an earlier field may already show the same text).
        ElementHandle::find_by_accessible_label(&window, "四川")
            .find(|e| e.accessible_role() == Some(i_slint_backend_testing::AccessibleRole::Button))
            .expect("a 四川 candidate")
            .invoke_accessible_default_action();
        assert_eq!(field(&window, &f.id).value, "四川");
        assert_eq!(apply.get_composing(), "");
        chinese += 1;
    }
    assert!(chinese > 0, "a text field was typed in Chinese");
    let phones = apply
        .get_fields()
        .iter()
        .filter(|f| f.label == "联系电话")
        .count();
    assert_eq!(phones, 1, "one phone number for the whole bundle");
    press(&window, "下一步");
    assert!(
        apply.get_fields().iter().all(|f| f.error.is_empty()),
        "{:?}",
        apply
            .get_fields()
            .iter()
            .map(|f| (f.label.to_string(), f.error.to_string()))
            .collect::<Vec<_>>()
    );
    // Nothing photographed: the capture page's way on says the originals go to the window.
    while adapter.get_page() == Page::Capture {
        press(&window, "跳过，原件带到窗口");
    }
    assert_eq!(adapter.get_page(), Page::Review);
    press(&window, "确认提交");
    wait_until(&kiosk, "已提交", || apply.get_done_title() == "已提交");
    let cases = platform.sim().unwrap().cases();
    assert_eq!(cases.len(), 1, "one case for the bundle");
    let body = &cases[0].body;
    let retirement = ykb_terminal::core::catalog::Catalog::demo()
        .unwrap()
        .bundles
        .into_iter()
        .find(|b| b.name == "退休一件事")
        .unwrap();
    assert_eq!(body["bundle"], retirement.code.as_str(), "{body}");
    let matters: Vec<&str> = body["matters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m.as_str())
        .collect();
    for m in &retirement.matters {
        assert!(matters.contains(&m.as_str()), "{matters:?}");
    }
    assert!(
        matters.len() > retirement.matters.len(),
        "answers added members"
    );
    wait_until(&kiosk, "the receipt", || kiosk.printed_jobs().len() == 1);
}

/// From the checklist through the form to the capture page (phone typed, address from the
/// card).
fn to_capture_page(window: &AppWindow) {
    press(window, "开始申请");
    press(window, "联系电话");
    type_keys(window, "13800000000");
    press(window, "使用身份证住址");
    press(window, "下一步");
    assert_eq!(window.global::<KioskAdapter>().get_page(), Page::Capture);
}

#[test]
fn the_camera_stops_when_the_page_is_left_and_when_the_session_is_wiped() {
    let (window, kiosk, _platform, _dir) = demo_at_checklist();
    let apply = window.global::<ApplyAdapter>();
    to_capture_page(&window);
    assert!(kiosk.camera_open());
    wait_until(&kiosk, "a live frame", || apply.get_preview_frame() >= 1);
    press(&window, "返回");
    assert_eq!(window.global::<KioskAdapter>().get_page(), Page::Form);
    assert!(!kiosk.camera_open());
    press(&window, "下一步");
    assert!(kiosk.camera_open());
    wait_until(&kiosk, "a live frame", || apply.get_preview_frame() >= 1);
    // Walking away: the countdown runs out, the camera closes and the picture goes.
    walk_away(&kiosk);
    assert_eq!(window.global::<KioskAdapter>().get_page(), Page::Home);
    assert!(!kiosk.camera_open());
    assert!(!apply.get_has_preview());
    assert_eq!(apply.get_preview_frame(), 0);
    // Frames already on their way change nothing.
    std::thread::sleep(std::time::Duration::from_millis(300));
    kiosk.process_device_events();
    assert!(!apply.get_has_preview());
}

#[test]
fn without_a_camera_the_citizen_is_told_in_plain_words_and_carries_on() {
    use ykb_terminal::core::config::DriverKind;
    let mut profile = Profile::demo();
    profile.devices.document_camera.driver = DriverKind::None;
    profile.devices.camera.driver = DriverKind::None;
    let (window, kiosk, _platform, _dir) = demo_at_checklist_with(profile);
    let apply = window.global::<ApplyAdapter>();
    to_capture_page(&window);
    assert!(!kiosk.camera_open());
    let said = apply.get_camera_error().to_string();
    assert!(
        said.contains("摄像头暂时不能使用") && said.contains("带到窗口"),
        "{said}"
    );
    lay_out(&window);
    assert!(
        ElementHandle::find_by_accessible_label(&window, "拍照")
            .next()
            .is_none(),
        "no 拍照 without a camera"
    );
    press(&window, "跳过，原件带到窗口");
    assert_eq!(window.global::<KioskAdapter>().get_page(), Page::Review);
    let materials = label_values(apply.get_review_materials());
    assert!(
        materials.contains(&("数码相片回执".into(), "请带到窗口".into())),
        "{materials:?}"
    );
}

/// The accessible value of the control labelled `label` (first one), after a layout.
fn value_of(window: &AppWindow, label: &str) -> String {
    lay_out(window);
    ElementHandle::find_by_accessible_label(window, label)
        .next()
        .unwrap_or_else(|| panic!("no control labelled {label:?}"))
        .accessible_value()
        .unwrap_or_default()
        .to_string()
}

fn has_control(window: &AppWindow, label: &str) -> bool {
    lay_out(window);
    ElementHandle::find_by_accessible_label(window, label)
        .next()
        .is_some()
}

#[test]
fn an_e_licence_is_printed_masked_with_its_verification_code_and_audited() {
    let (window, kiosk, _platform, dir) = demo_home_with_card_reader();
    let adapter = window.global::<KioskAdapter>();
    let licences = window.global::<LicenceAdapter>();
    const ID: &str = "500105198511220024";

    // The tile leads through the identify step: the demo card on the ID-card emulator.
    press(&window, "证照打印");
    assert_eq!(adapter.get_page(), Page::Identify);
    press(&window, "放置演示身份证");
    wait_until(&kiosk, "the card", || adapter.get_page() == Page::Licences);
    wait_until(&kiosk, "the e-licences", || licences.get_list_state() == 1);
    let shown: Vec<String> = licences.get_licences().iter().map(Into::into).collect();
    let held: Vec<String> = ykb_terminal::sim::platform::licences_for(ID)
        .into_iter()
        .map(|l| l.licence_type)
        .collect();
    assert_eq!(shown, held);

    // Choose the ID card's e-licence: the copy as it will be printed, masked.
    press(&window, "居民身份证");
    assert_eq!(adapter.get_page(), Page::LicenceConfirm);
    wait_until(&kiosk, "the copy", || licences.get_copy_state() == 1);
    let lines: Vec<(String, String)> = licences
        .get_copy_lines()
        .iter()
        .map(|l| (l.label.to_string(), l.value.to_string()))
        .collect();
    assert!(
        lines.contains(&("持证人".into(), "李*".into())),
        "{lines:?}"
    );
    assert!(
        lines.contains(&("证照号码".into(), "****0024".into())),
        "{lines:?}"
    );
    assert!(!format!("{lines:?}").contains(ID));
    let code = licences.get_verification_code().to_string();
    assert!(code.len() >= 16, "{code}");

    press(&window, "确认打印");
    assert_eq!(adapter.get_page(), Page::LicencePrinted);
    wait_until(&kiosk, "the copy printed", || {
        licences.get_print_status() == "已打印，请取走打印件"
    });
    assert_eq!(value_of(&window, "打印状态"), "已打印，请取走打印件");
    wait_for_the_job(&kiosk);
    // What reached the printer emulator through the ESC/POS driver.
    let (raw, text) = first_job(&kiosk);
    assert!(text.contains("电子证照打印件"), "{text}");
    assert!(text.contains("****0024"), "{text}");
    assert!(text.contains(&code), "the verification code: {text}");
    assert!(text.contains("仅供核验使用，以电子证照为准"), "{text}");
    assert!(!text.contains(ID), "the full ID number is never printed");
    assert!(!text.contains("李喆"), "nor the full name");
    // The QR code (GS ( k … store) carries the verification URL.
    let url = format!("verify?code={code}");
    assert!(
        raw.windows(url.len()).any(|w| w == url.as_bytes()),
        "QR data"
    );

    // 打印其他证照 leads back to the list; 完成 ends the session and empties the pages.
    press(&window, "打印其他证照");
    assert_eq!(adapter.get_page(), Page::Licences);
    press(&window, "首页");
    assert_eq!(adapter.get_page(), Page::Home);
    assert_eq!(window.global::<SessionAdapter>().get_person_name(), "");
    assert_eq!(licences.get_licences().row_count(), 0);
    assert_eq!(licences.get_verification_code(), "");
    assert_eq!(licences.get_copy_lines().row_count(), 0);

    // The audit log says a copy was printed, not whose or which.
    let mut store = open_store(&dir);
    let entries = ykb_terminal::core::audit::list(&mut store).unwrap();
    let printed: Vec<_> = entries
        .iter()
        .filter(|e| e.action == "licence_printed")
        .collect();
    assert_eq!(printed.len(), 1, "{entries:?}");
    assert_eq!(printed[0].actor, "system:system");
    assert_eq!(printed[0].detail, "证照打印：已打印");
}

#[test]
fn with_the_platform_down_licence_printing_says_it_needs_the_network() {
    let (window, kiosk, platform, _dir) = demo_home_with_card_reader();
    let adapter = window.global::<KioskAdapter>();
    let licences = window.global::<LicenceAdapter>();
    let sim = platform.sim().unwrap();
    let down = || ykb_terminal::sim::platform::Faults {
        outage: true,
        retry_after_secs: 1,
        ..Default::default()
    };
    sim.set_faults(down());
    press(&window, "证照打印");
    press(&window, "放置演示身份证");
    wait_until(&kiosk, "the look-up to fail", || {
        licences.get_list_state() == 3
    });
    assert_eq!(adapter.get_page(), Page::Licences);
    assert!(
        value_of(&window, "查询状态").contains("电子证照打印需要连接政务服务平台"),
        "{}",
        value_of(&window, "查询状态")
    );
    assert!(has_control(&window, "返回首页"));
    // The network returns: 重新查询 finds the licences.
    sim.set_faults(Default::default());
    press(&window, "重新查询");
    wait_until(&kiosk, "the e-licences", || licences.get_list_state() == 1);
    // It goes again before the copy is fetched: said plainly, nothing to print.
    sim.set_faults(down());
    press(&window, "居民身份证");
    wait_until(&kiosk, "the copy to fail", || {
        licences.get_copy_state() == 2
    });
    assert!(
        value_of(&window, "获取状态").contains("需要网络"),
        "{}",
        value_of(&window, "获取状态")
    );
    assert!(!has_control(&window, "确认打印"));
    press(&window, "重新选择");
    assert_eq!(adapter.get_page(), Page::Licences);
    press(&window, "首页");
    assert_eq!(adapter.get_page(), Page::Home);
    assert!(kiosk.printed_jobs().is_empty());
}

#[test]
fn without_a_platform_there_is_no_licence_printing_tile() {
    let (window, _kiosk, _catalog, _dir) = start();
    assert!(has_control(&window, "办件进度查询"));
    assert!(!has_control(&window, "证照打印"));
}

/// A 渝快码 shown to the camera (here a still image of the phone's screen, through the
/// drivers' image source and rqrr) identifies the citizen like the scanner does; the camera
/// reads only while the identify page waits for someone.
#[test]
fn a_ykm_shown_to_the_camera_identifies_and_the_camera_stops_after() {
    i_slint_backend_testing::init_no_event_loop();
    let dir = tempfile::tempdir().unwrap();
    let mut core = Core::start(Profile::demo(), dir.path()).unwrap();
    let platform = std::sync::Arc::new(
        ykb_terminal::terminal::link::PlatformLink::start_demo(&mut core).expect("demo"),
    );
    let person = ykb_terminal::terminal::cards::demo_person().unwrap();
    let token = platform.sim().unwrap().issue_ykm_token(person, 120);
    // The phone's screen as the camera sees it: the token's QR code, 8 pixels a module.
    let code = qrcode::QrCode::new(token.as_bytes()).unwrap();
    let (n, scale, quiet) = (code.width() as u32, 8u32, 4u32);
    let colors = code.to_colors();
    let side = (n + 2 * quiet) * scale;
    let img = image::RgbImage::from_fn(side, side, |x, y| {
        let (mx, my) = (x / scale, y / scale);
        let dark = mx >= quiet
            && my >= quiet
            && mx < n + quiet
            && my < n + quiet
            && colors[((my - quiet) * n + (mx - quiet)) as usize] == qrcode::Color::Dark;
        if dark {
            image::Rgb([0, 0, 0])
        } else {
            image::Rgb([255, 255, 255])
        }
    });
    let shot = dir.path().join("phone.png");
    img.save(&shot).unwrap();
    core.profile.devices.camera = ykb_terminal::core::config::DeviceSection {
        driver: ykb_terminal::core::config::DriverKind::V4l2,
        path: shot.display().to_string(),
        baud: None,
        roll_length_mm: None,
    };
    let window = AppWindow::new().unwrap();
    let kiosk = Kiosk::attach(&window, core);
    kiosk.use_platform(platform.clone());
    let identify = window.global::<IdentifyAdapter>();
    let session = window.global::<SessionAdapter>();
    assert!(
        !identify.get_ykm_camera(),
        "no camera before the identify page"
    );
    press(&window, "刷身份证");
    assert!(identify.get_ykm_camera());
    wait_until(&kiosk, "the 渝快码 person", || {
        session.get_person_name() != ""
    });
    assert_eq!(session.get_person_name(), "李喆");
    assert!(
        !identify.get_ykm_camera(),
        "the camera stops once someone is identified"
    );
    press(&window, "首页");
    assert!(!identify.get_ykm_camera());
}

/// 人证核验's seam: with a verifier set, a card read identifies nobody until the verifier,
/// given a real frame from the (simulated) camera, says the face matches; a mismatch is said
/// in words.
#[test]
fn with_a_face_verifier_a_card_identifies_only_after_the_face_matches() {
    struct Verifier {
        answers: std::sync::Mutex<Vec<bool>>,
        frames: std::sync::Mutex<Vec<(u32, u32, String)>>,
    }
    impl ykb_terminal::terminal::cards::FaceVerifier for Verifier {
        fn verify(
            &self,
            person: &ykb_terminal::core::domain::Person,
            frame: &image::RgbImage,
        ) -> Result<bool, String> {
            self.frames
                .lock()
                .unwrap()
                .push((frame.width(), frame.height(), person.name.clone()));
            Ok(self.answers.lock().unwrap().remove(0))
        }
    }
    let (window, kiosk, _platform, _dir) = demo_home();
    let verifier = std::sync::Arc::new(Verifier {
        answers: std::sync::Mutex::new(vec![false, true]),
        frames: std::sync::Mutex::new(Vec::new()),
    });
    kiosk.set_face_verifier(verifier.clone());
    kiosk.start_demo_card_reader();
    let session = window.global::<SessionAdapter>();
    let identify = window.global::<IdentifyAdapter>();
    press(&window, "刷身份证");
    press(&window, "放置演示身份证");
    wait_until(&kiosk, "the mismatch", || {
        identify.get_note() == "人脸与证件不一致，请本人办理或联系工作人员"
    });
    assert_eq!(session.get_person_name(), "", "nobody identified");
    // The card goes back; placing it again asks again, and this time the face matches.
    press(&window, "放置演示身份证");
    wait_until(&kiosk, "the match", || session.get_person_name() != "");
    assert_eq!(session.get_person_name(), "李喆");
    let frames = verifier.frames.lock().unwrap().clone();
    assert_eq!(frames.len(), 2);
    assert!(frames
        .iter()
        .all(|(w, h, name)| *w > 0 && *h > 0 && name == "李喆"));
}

/// A kiosk that runs for days shows the catalogue the agent synced, once it is between
/// citizens: never under someone's errand.
#[test]
fn a_newer_synced_catalogue_is_taken_up_between_citizens() {
    let (window, kiosk, platform, dir) = demo_home();
    let adapter = window.global::<KioskAdapter>();
    assert!(adapter.get_status_line().starts_with("事项目录 第 1 版"));
    let sim = platform.sim().unwrap();
    let version = sim.change_catalog(&ykb_terminal::sim::platform::ChangeRequest {
        modify: 2,
        add: 3,
        remove: 0,
        district_region: None,
        district: 0,
    });
    assert_eq!(version, 2);
    // What the agent does: sync into the same store file on a connection of its own.
    let mut store = open_store(&dir);
    let region = Profile::demo().terminal.region_code;
    platform
        .runtime()
        .block_on(ykb_terminal::core::sync::sync_once(
            &platform.client,
            &mut store,
            region,
            false,
            &|_| {},
        ))
        .unwrap();
    let t0 = std::time::Instant::now();
    let later = t0 + ykb_terminal::kiosk::CATALOG_CHECK + std::time::Duration::from_secs(1);
    // Mid-errand: the screen keeps the catalogue it started with.
    press(&window, "查找事项");
    kiosk.tick(later);
    assert!(adapter.get_status_line().starts_with("事项目录 第 1 版"));
    // Back home, at the next check: the new version, with its added matters.
    press(&window, "首页");
    kiosk.tick(later);
    assert!(
        adapter
            .get_status_line()
            .starts_with("事项目录 第 2 版 · 共 75 项事项"),
        "{}",
        adapter.get_status_line()
    );
}

/// Writes `strokes` (in the pad's 1024 box) on the handwriting pad as a finger would: the
/// window gets pointer presses, moves and releases at the pad's place on screen.
fn write_on_pad(window: &AppWindow, strokes: &[Vec<[f32; 2]>]) {
    write_on(window, "手写板", strokes);
}

/// Draws `strokes` (in the pad's 1024 box) with a finger on the pad labelled `label`.
fn write_on(window: &AppWindow, label: &str, strokes: &[Vec<[f32; 2]>]) {
    use slint::platform::{PointerEventButton, WindowEvent};
    lay_out(window);
    let pad = ElementHandle::find_by_accessible_label(window, label)
        .next()
        .unwrap_or_else(|| panic!("a pad labelled {label:?}"));
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

fn strokes_of(ch: &str) -> Vec<Vec<[f32; 2]>> {
    let path = format!("tests/data/handwriting/{ch}.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[test]
fn a_citizen_who_cannot_type_pinyin_writes_the_search_by_hand() {
    let (window, kiosk, _catalog, _dir) = start();
    let adapter = window.global::<KioskAdapter>();
    let hw = window.global::<ykb_terminal::ui::HandwritingAdapter>();
    press(&window, "查找事项");
    assert_eq!(adapter.get_page(), Page::Find);
    assert!(
        hw.get_available(),
        "handwriting needs zinnia and the terminal's model: apt-get install libzinnia0"
    );
    assert!(!has_control(&window, "手写板"), "pinyin first");
    press(&window, "手写输入");
    assert!(has_control(&window, "手写板"));
    assert!(!has_control(&window, "q"), "the pad replaces the letters");

    // Candidates follow the strokes as they are added.
    let strokes = strokes_of("社");
    write_on_pad(&window, &strokes[..2]);
    let early: Vec<String> = hw.get_candidates().iter().map(Into::into).collect();
    assert!(!early.is_empty(), "candidates after two strokes");
    write_on_pad(&window, &strokes[2..]);
    let after: Vec<String> = hw.get_candidates().iter().map(Into::into).collect();
    assert_ne!(early, after, "candidates change as strokes are added");
    assert!(after.iter().any(|c| c == "社"), "{after:?}");
    assert!(hw.get_ink().starts_with("M "), "the strokes are drawn");

    // 重写 wipes the pad; written again, the tap puts the character in the search.
    press(&window, "重写");
    assert_eq!(hw.get_candidates().row_count(), 0);
    assert_eq!(hw.get_ink(), "");
    write_on_pad(&window, &strokes);
    ElementHandle::find_by_accessible_label(&window, "社")
        .find(|e| e.accessible_role() == Some(i_slint_backend_testing::AccessibleRole::Button))
        .expect("a 社 candidate")
        .invoke_accessible_default_action();
    let find = window.global::<FindAdapter>();
    assert_eq!(find.get_query(), "社");
    assert_eq!(hw.get_ink(), "", "the pad is ready for the next character");
    wait_until(&kiosk, "the search results", || {
        let s = find.get_summary();
        !s.is_empty() && s != "正在查找…"
    });
    assert!(
        result_names(&window).iter().any(|n| n.contains('社')),
        "{:?}",
        result_names(&window)
    );
    // Back to pinyin: the letters again.
    press(&window, "拼音输入");
    assert!(has_control(&window, "q"));
    assert!(!has_control(&window, "手写板"));
}

#[test]
fn case_numbers_are_typed_on_a_number_pad_with_the_letters_one_key_away() {
    let (window, _kiosk, _catalog, _dir) = start();
    press(&window, "办件进度查询");
    assert!(has_control(&window, "7"));
    assert!(!has_control(&window, "q"), "a number pad, not QWERTY");
    press(&window, "字母");
    assert!(has_control(&window, "q"));
    press(&window, "数字");
    assert!(!has_control(&window, "q"));
}

/// The bank-terminal demo (`kiosk-config/bank-terminal-demo.toml`) at home: its printer,
/// scanner, document camera, lights and vendor mode are the services of the XFS4IoT host
/// emulator the kiosk started itself; the ID card stays on our reader (its emulator).
fn bank_terminal_home() -> (Demo, ykb_drivers::sim::Xfs4IotShared) {
    let profile = Profile::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/kiosk-config/bank-terminal-demo.toml"
    )))
    .unwrap();
    let demo = demo_home_with(profile);
    let kiosk = &demo.1;
    kiosk.start_scanner();
    kiosk.start_host_services();
    kiosk.start_demo_card_reader();
    let host = kiosk
        .xfs4iot_host()
        .expect("the demo starts its host terminal");
    // The vendor-mode watch has registered with the host.
    wait_for("the kiosk registered for vendor mode", || {
        host.vendor_apps().iter().any(|a| a == "ykb-terminal")
    });
    (demo, host)
}

/// How the host's guidance light `light` flashes now (`off`, `quick` …).
fn flash_rate(host: &ykb_drivers::sim::Xfs4IotShared, light: &str) -> String {
    host.lights()
        .get(light)
        .and_then(|l| l["center"]["flashRate"].as_str())
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn the_bank_terminal_runs_an_errand_on_the_hosts_xfs4iot_printer_scanner_camera_and_lights() {
    let ((window, kiosk, platform, _dir), host) = bank_terminal_home();
    let adapter = window.global::<KioskAdapter>();
    let session = window.global::<SessionAdapter>();
    let apply = window.global::<ApplyAdapter>();
    // Asking for the card lights the card reader's guide.
    press(&window, "刷身份证");
    assert_eq!(adapter.get_page(), Page::Identify);
    wait_until(&kiosk, "the card reader's light", || {
        flash_rate(&host, "cardReader") == "quick"
    });
    assert_eq!(flash_rate(&host, "receiptPrinter"), "off");
    // A 渝快码 read by the host's barcode reader (through the real XFS4IoT driver).
    assert!(window.global::<IdentifyAdapter>().get_ykm_demo());
    press(&window, "演示：出示渝快码");
    wait_until(&kiosk, "the 渝快码 person", || {
        session.get_person_name() != ""
    });
    assert_eq!(session.get_person_name(), "李喆");
    wait_until(&kiosk, "the card reader's light off", || {
        flash_rate(&host, "cardReader") == "off"
    });
    press(&window, "确认，继续办理");
    guide_id_card_renewal(&window, &kiosk, "已满16周岁", "邮寄到家");
    assert_eq!(adapter.get_page(), Page::Checklist);
    // The material is photographed by the host's camera (live preview, then the still).
    fill_capture_and_review(&window, &kiosk);
    // The host's printer is slow: its light flashes while the receipt prints.
    host.set_fault(
        "Printer.PrintRaw",
        ykb_drivers::sim::Fault::Slow(std::time::Duration::from_millis(1500)),
    );
    press(&window, "确认提交");
    wait_until(&kiosk, "已提交", || apply.get_done_title() == "已提交");
    wait_until(&kiosk, "the receipt light", || {
        flash_rate(&host, "receiptPrinter") == "quick"
    });
    wait_until(&kiosk, "the receipt", || {
        apply.get_print_status() == "回执已打印，请取走回执"
    });
    host.clear();
    assert_eq!(progress_of(&window, "打印回执").as_deref(), Some("100%"));
    assert_eq!(platform.sim().unwrap().cases().len(), 1, "delivered once");
    // The host printed our ESC/POS receipt: once, with the case's number on it.
    let jobs = host.jobs();
    assert_eq!(jobs.len(), 1);
    let text = encoding_rs::GB18030.decode(&jobs[0]).0.to_string();
    let number = apply.get_done_number().to_string();
    assert!(
        !number.is_empty() && text.contains(&number),
        "{number}: {text}"
    );
    assert!(
        !text.contains("500105198511220024"),
        "the ID number is masked"
    );
    wait_until(&kiosk, "every light off after printing", || {
        host.lights()
            .values()
            .all(|l| l["center"]["flashRate"] == "off")
    });
    // The receipt's own code, held to the host's scanner at home, finds the case.
    let at = text.find("ykb:case:").expect("the receipt's progress code");
    let code: String = text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-'))
        .collect();
    press(&window, "返回");
    assert_eq!(adapter.get_page(), Page::Home);
    assert_eq!(session.get_person_name(), "");
    kiosk.demo_scan(&code);
    wait_until(&kiosk, "the progress page", || {
        adapter.get_page() == Page::Progress
    });
    let services = window.global::<ServicesAdapter>();
    wait_until(&kiosk, "the case's progress", || {
        !services.get_progress_title().is_empty()
    });
    assert_ne!(services.get_progress_title(), "没有找到这个编号");
}

#[test]
fn the_hosts_vendor_mode_ends_the_session_says_so_and_the_kiosk_resumes_after_it() {
    let ((window, kiosk, _platform, _dir), host) = bank_terminal_home();
    let adapter = window.global::<KioskAdapter>();
    let session = window.global::<SessionAdapter>();
    read_the_demo_card(&window, &kiosk);
    press(&window, "查找事项");
    assert_eq!(adapter.get_page(), Page::Find);
    assert_eq!(session.get_person_name(), "李喆");
    assert!(!has_control(&window, "设备维护中"));

    // The host's staff take the devices: our session ends first, then the host enters.
    host.vendor_request(true);
    wait_until(&kiosk, "the maintenance screen", || {
        adapter.get_maintenance() == "设备维护中"
    });
    assert!(has_control(&window, "设备维护中"));
    assert_eq!(adapter.get_page(), Page::Home);
    assert_eq!(session.get_person_name(), "");
    assert_eq!(session.get_person_id(), "");
    wait_for(
        "the host entered vendor mode after our acknowledgement",
        || host.vendor_state() == "active",
    );
    // Nothing is offered while it lasts.
    press(&window, "查找事项");
    assert_eq!(adapter.get_page(), Page::Home);
    assert_eq!(flash_rate(&host, "cardReader"), "off");

    // They give the devices back: the kiosk resumes at home.
    host.vendor_request(false);
    wait_until(&kiosk, "the maintenance screen gone", || {
        adapter.get_maintenance().is_empty()
    });
    wait_for("the host left vendor mode", || {
        host.vendor_state() == "inactive"
    });
    assert!(!has_control(&window, "设备维护中"));
    assert_eq!(adapter.get_page(), Page::Home);
    press(&window, "查找事项");
    assert_eq!(adapter.get_page(), Page::Find);
}

/// The text of the printer emulator's `n`-th job (raw ESC/POS decoded from GB18030).
fn job_text(kiosk: &Kiosk, n: usize) -> String {
    let mut jobs = kiosk.printed_jobs();
    jobs.sort();
    let raw = std::fs::read(jobs[n].with_extension("bin")).unwrap();
    encoding_rs::GB18030.decode(&raw).0.to_string()
}

/// What the QR codes in an image property carry.
fn qr_in(image: &slint::Image) -> Vec<String> {
    let buf = image.to_rgb8().expect("an image");
    let rgb = image::RgbImage::from_raw(buf.width(), buf.height(), buf.as_bytes().to_vec())
        .expect("rgb pixels");
    ykb_drivers::scanner::decode_qr_rgb(&rgb)
}

/// Submits 居民身份证换领 (by post) at the demo kiosk until it has its unified code.
fn renewal_submitted() -> Demo {
    let demo = demo_at_checklist();
    let (window, kiosk) = (&demo.0, &demo.1);
    let apply = window.global::<ApplyAdapter>();
    fill_capture_and_review(window, kiosk);
    press(window, "确认提交");
    wait_until(kiosk, "已提交", || apply.get_done_title() == "已提交");
    wait_until(kiosk, "the receipt", || {
        apply.get_print_status() == "回执已打印，请取走回执"
    });
    wait_for_the_job(kiosk);
    demo
}

#[test]
fn a_citizen_pays_the_fee_by_the_on_screen_qr_and_the_receipt_carries_the_payment_number() {
    let (window, kiosk, platform, _dir) = renewal_submitted();
    let adapter = window.global::<KioskAdapter>();
    let apply = window.global::<ApplyAdapter>();
    let pay = window.global::<PaymentAdapter>();
    let sim = platform.sim().unwrap();
    // The signature reached the platform with the case: its PNG and its strokes.
    let png = sim
        .materials()
        .into_iter()
        .find(|m| m.material_id == "signature")
        .expect("the signature uploaded");
    let bytes = sim.material_bytes(&png.case_id, "signature").unwrap();
    assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
    let case = serde_json::to_string(&sim.cases()[0]).unwrap();
    assert!(case.contains("signature.strokes"), "{case}");
    // The first receipt says the fee is still to pay.
    assert!(job_text(&kiosk, 0).contains("待缴费 20.00 元"));
    assert!(apply.get_fee_note().contains("需缴费 20.00 元"));
    press(&window, "缴费");
    assert_eq!(adapter.get_page(), Page::Payment);
    wait_until(&kiosk, "the order", || pay.get_stage() == "pending");
    assert_eq!(value_of(&window, "缴费金额"), "20.00 元");
    assert_eq!(pay.get_payee(), ykb_terminal::sim::platform::PAYEE);
    assert!(pay
        .get_items()
        .iter()
        .any(|i| i.contains("居民身份证工本费")));
    assert!(value_of(&window, "剩余时间").starts_with("请在 "));
    // One order at the platform; the QR on screen is the one it made, on its own host.
    let orders = sim.payment_orders();
    assert_eq!(orders.len(), 1);
    let order = &orders[0].order;
    assert_eq!(order.amount_fen, 2000);
    assert_eq!(qr_in(&pay.get_qr()), vec![order.qr_url.clone()]);
    assert!(order
        .qr_url
        .starts_with(&format!("https://{}/", sim.addr())));
    // The citizen's phone pays: the page follows the platform's state to 缴费成功.
    sim.pay_order(&order.order_id).unwrap();
    wait_until(&kiosk, "paid", || pay.get_stage() == "paid");
    let paid = &sim.payment_orders()[0].order;
    let number = paid.payment_no.clone().unwrap();
    assert_eq!(value_of(&window, "支付流水号"), number);
    assert_eq!(
        qr_in(&pay.get_fiscal_qr()),
        vec![paid.fiscal_receipt_url.clone().unwrap()]
    );
    // The receipt again, now with the payment number and the fiscal receipt's QR.
    wait_until(&kiosk, "the paid receipt", || {
        kiosk.printed_jobs().len() == 2
    });
    let text = job_text(&kiosk, 1);
    assert!(
        text.contains("支付流水号") && text.contains(&number),
        "{text}"
    );
    assert!(text.contains("已缴费 20.00 元"), "{text}");
    assert!(text.contains("财政电子票据"), "{text}");
    assert_eq!(sim.payment_orders()[0].charges, 1, "charged once");
    press(&window, "查看办件回执");
    assert_eq!(adapter.get_page(), Page::Done);
    assert!(apply.get_fee_note().contains("已缴费 20.00 元"));
    assert!(!has_control(&window, "缴费"), "paid: no second payment");
    // 办件进度查询 (the first case of this terminal: local number 1) shows the platform's
    // 已缴费.
    let unified = apply.get_done_number().to_string();
    press(&window, "完成");
    press(&window, "办件进度查询");
    type_keys(&window, "1");
    press(&window, "查询");
    let services = window.global::<ServicesAdapter>();
    assert_eq!(services.get_progress_title(), format!("办件编号 {unified}"));
    wait_until(&kiosk, "the platform's fee state", || {
        services.get_progress_detail().contains("缴费：已缴费")
    });
    // 邮寄到家: the platform posted the result, and the waybill is shown.
    let posted = sim.cases()[0].ack.unified_code.clone();
    assert_eq!(posted, unified);
    assert!(
        services.get_progress_detail().contains("寄递运单号：EMS"),
        "{}",
        services.get_progress_detail()
    );
}

#[test]
fn an_expired_order_can_be_made_again_or_left_for_the_app_and_the_case_stays_unpaid() {
    let (window, kiosk, platform, _dir) = renewal_submitted();
    let adapter = window.global::<KioskAdapter>();
    let apply = window.global::<ApplyAdapter>();
    let pay = window.global::<PaymentAdapter>();
    let sim = platform.sim().unwrap();
    sim.set_faults(ykb_terminal::sim::platform::Faults {
        payment_ttl_secs: Some(1),
        ..Default::default()
    });
    press(&window, "缴费");
    wait_until(&kiosk, "the order", || pay.get_stage() != "creating");
    // Nobody pays: the platform lets it expire, and the page says so.
    wait_until(&kiosk, "expiry", || pay.get_stage() == "ended");
    assert_eq!(pay.get_title(), "缴费订单已过期");
    assert!(
        !has_control(&window, "支付二维码"),
        "no QR for an order that cannot be paid"
    );
    // 重新缴费: a second order (a new key), pending and followed again.
    sim.set_faults(Default::default());
    press(&window, "重新缴费");
    wait_until(&kiosk, "the second order", || pay.get_stage() == "pending");
    let orders = sim.payment_orders();
    assert_eq!(orders.len(), 2);
    let second = orders
        .iter()
        .find(|o| o.order.state == ykb_terminal::core::platform::wire::PaymentState::Pending)
        .unwrap();
    assert_eq!(qr_in(&pay.get_qr()), vec![second.order.qr_url.clone()]);
    // 稍后在渝快办App缴费: the order is withdrawn and the case stays submitted, unpaid.
    press(&window, "稍后在渝快办App缴费");
    assert_eq!(adapter.get_page(), Page::Done);
    assert_eq!(apply.get_done_title(), "已提交");
    assert!(has_control(&window, "缴费"));
    let id = second.order.order_id.clone();
    wait_for("the order withdrawn", || {
        sim.payment_orders().iter().any(|o| {
            o.order.order_id == id
                && o.order.state == ykb_terminal::core::platform::wire::PaymentState::Cancelled
        })
    });
    assert!(sim.payment_orders().iter().all(|o| o.charges == 0));
    assert!(sim.pay_order(&id).is_err(), "a withdrawn QR takes no money");
    press(&window, "完成");
    press(&window, "办件进度查询");
    type_keys(&window, "1");
    press(&window, "查询");
    let services = window.global::<ServicesAdapter>();
    wait_until(&kiosk, "the platform's fee state", || {
        services.get_progress_detail().contains("缴费：待缴费")
    });
}

/// Types `pinyin` on the form's keyboard and taps the candidate `word`.
fn type_pinyin(window: &AppWindow, pinyin: &str, word: &str) {
    type_keys(window, pinyin);
    ElementHandle::find_by_accessible_label(window, word)
        .find(|e| e.accessible_role() == Some(i_slint_backend_testing::AccessibleRole::Button))
        .unwrap_or_else(|| panic!("a {word} candidate for {pinyin}"))
        .invoke_accessible_default_action();
}

/// 帮办代办, done when: an adult child applies for an elderly parent who cannot come — the
/// child's own card first, then the relationship, the parent named on the form, the card
/// posted home; the case and the receipt name both, masked on paper.
#[test]
fn an_adult_child_applies_for_a_parent_who_cannot_come_and_has_the_result_posted() {
    use ykb_terminal::ui::AgentAdapter;
    let (window, kiosk, platform, _dir) = demo_home_with_card_reader();
    let adapter = window.global::<KioskAdapter>();
    let apply = window.global::<ApplyAdapter>();
    let agent = window.global::<AgentAdapter>();
    press(&window, "查找事项");
    search_for(&window, &kiosk, &["l", "n", "r"]);
    press(&window, "老年人优待证申领");
    press(&window, "本市户籍");
    press(&window, "家属代办");
    press(&window, "邮寄到家");
    assert_eq!(adapter.get_page(), Page::Checklist);
    assert!(window
        .global::<GuideAdapter>()
        .get_checklist_note()
        .contains("先刷代办人本人的身份证"));
    // The agent identifies first, with their own card.
    press(&window, "开始申请");
    assert_eq!(adapter.get_page(), Page::Identify);
    assert!(window.global::<IdentifyAdapter>().get_agent_first());
    press(&window, "放置演示身份证");
    wait_until(&kiosk, "the agent's card", || {
        adapter.get_page() == Page::Agent
    });
    assert!(
        agent.get_agent().starts_with("李*"),
        "{}",
        agent.get_agent()
    );
    assert_eq!(agent.get_applicant(), "");
    press(&window, "下一步");
    assert_eq!(adapter.get_page(), Page::Agent);
    assert_eq!(agent.get_note(), "请先选择您与被代办人的关系");
    press(&window, "子女");
    // The agent's own card again is not the applicant's.
    press(&window, "放置演示身份证");
    wait_until(&kiosk, "the refusal", || {
        agent.get_note().contains("代办人本人")
    });
    assert_eq!(agent.get_applicant(), "");
    // The parent cannot come: named on the form.
    press(&window, "被代办人未到场");
    assert_eq!(adapter.get_page(), Page::Form);
    let agent_name = field(&window, "f_agent_name");
    assert!(agent_name.locked);
    assert_eq!(agent_name.value, "李喆");
    assert!(field(&window, "f_agent_id").value.contains("****"));
    assert!(!field(&window, "f_name").locked);
    press(&window, "姓名");
    type_pinyin(&window, "wang", "王");
    type_pinyin(&window, "xiu", "秀");
    type_pinyin(&window, "ying", "英");
    assert_eq!(field(&window, "f_name").value, "王秀英");
    let parent = ykb_terminal::core::domain::IdNumber::complete("50010319500307001").unwrap();
    apply.invoke_edit("f_id".into());
    apply.invoke_key(parent.expose().into());
    // The number fills the birth date the card would have.
    assert_eq!(field(&window, "f_birth").value, "1950-03-07");
    press(&window, "联系电话");
    type_keys(&window, "13800000000");
    press(&window, "同时制作实体卡");
    // Posted to the agent's address (they live together): one touch.
    press(&window, "邮寄地址");
    press(&window, "使用身份证住址");
    assert!(!field(&window, "f_post_address").value.is_empty());
    press(&window, "下一步");
    assert!(
        matches!(adapter.get_page(), Page::Capture | Page::Review),
        "{:?}",
        apply
            .get_fields()
            .iter()
            .map(|f| (f.id.to_string(), f.error.to_string()))
            .collect::<Vec<_>>()
    );
    if adapter.get_page() == Page::Capture {
        press(&window, "跳过，原件带到窗口");
    }
    assert_eq!(adapter.get_page(), Page::Review);
    let review = label_values(apply.get_review());
    assert!(
        review.contains(&("申请人".into(), "王秀英".into())),
        "{review:?}"
    );
    assert!(
        review.contains(&("代办人".into(), "李*（子女）".into())),
        "{review:?}"
    );
    let signature = window.global::<SignatureAdapter>();
    assert!(signature.get_by_agent(), "the agent promises and signs");
    write_on(
        &window,
        "签名板",
        &[vec![[80.0, 600.0], [300.0, 300.0], [520.0, 700.0]]],
    );
    press(&window, "确认提交");
    wait_until(&kiosk, "已提交", || apply.get_done_title() == "已提交");
    // The platform got both people and the delivery, once.
    let sim = platform.sim().unwrap();
    let cases = sim.cases();
    assert_eq!(cases.len(), 1);
    let body = &cases[0].body;
    assert_eq!(body["applicant"]["person"]["name"], "王秀英");
    assert_eq!(body["applicant"]["person"]["id_number"], parent.expose());
    assert_eq!(body["agent"]["person"]["name"], "李喆");
    assert_eq!(body["agent"]["relationship"], "child");
    assert_eq!(body["delivery"]["method"], "post");
    assert_eq!(body["delivery"]["phone"], "13800000000");
    // The receipt names both, masked.
    wait_for_the_job(&kiosk);
    let (_, text) = first_job(&kiosk);
    assert!(text.contains("王*"), "{text}");
    assert!(
        text.contains("代办人") && text.contains("李*（子女）"),
        "{text}"
    );
    assert!(text.contains("邮寄到家"), "{text}");
    assert!(
        !text.contains(parent.expose()) && !text.contains("王秀英"),
        "{text}"
    );
    assert!(!text.contains("500105198511220024"), "{text}");
}
