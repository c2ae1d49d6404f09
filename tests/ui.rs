//! The kiosk UI driven the way a citizen uses it: find controls by their accessible labels,
//! press them, and check what the screen shows. Runs on Slint's testing backend (no display).

use i_slint_backend_testing::ElementHandle;
use slint::{ComponentHandle, Model};
use ykb_terminal::core::config::Profile;
use ykb_terminal::core::Core;
use ykb_terminal::kiosk::{
    AppWindow, FindAdapter, GuideAdapter, IdentifyAdapter, Kiosk, KioskAdapter, Page,
    SessionAdapter,
};

fn press(window: &AppWindow, label: &str) {
    // Conditional pages are instantiated when the window lays itself out.
    window.show().unwrap();
    window.window().request_redraw();
    let found: Vec<_> = ElementHandle::find_by_accessible_label(window, label).collect();
    assert!(!found.is_empty(), "no control labelled {label:?}");
    found[0].invoke_accessible_default_action();
}

#[test]
fn a_citizen_finds_a_matter_guide_and_goes_home() {
    i_slint_backend_testing::init_no_event_loop();
    let dir = tempfile::tempdir().unwrap();
    let core = Core::start(Profile::demo(), dir.path()).unwrap();
    let catalog = core.catalog.clone();
    let window = AppWindow::new().unwrap();
    let _kiosk = Kiosk::attach(&window, core);
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
    i_slint_backend_testing::init_no_event_loop();
    let dir = tempfile::tempdir().unwrap();
    let core = Core::start(Profile::demo(), dir.path()).unwrap();
    let catalog = core.catalog.clone();
    let window = AppWindow::new().unwrap();
    let _kiosk = Kiosk::attach(&window, core);
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
    i_slint_backend_testing::init_no_event_loop();
    let dir = tempfile::tempdir().unwrap();
    let core = Core::start(Profile::demo(), dir.path()).unwrap();
    let window = AppWindow::new().unwrap();
    let _kiosk = Kiosk::attach(&window, core);
    let theme = window.global::<ykb_terminal::kiosk::Theme>();
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
    let (window, _kiosk, _catalog, _dir) = start();
    let adapter = window.global::<KioskAdapter>();
    press(&window, "查找事项");
    assert_eq!(adapter.get_page(), Page::Find);
    for key in ["s", "f", "z"] {
        press(&window, key);
    }
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
    let (window, _kiosk, catalog, _dir) = start();
    let adapter = window.global::<KioskAdapter>();
    let guide = window.global::<GuideAdapter>();
    let matter = catalog
        .matters
        .iter()
        .find(|m| m.name == "居民身份证换领")
        .unwrap();
    press(&window, "查找事项");
    for key in ["s", "f", "z"] {
        press(&window, key);
    }
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

    let chosen: Vec<String> = vec![
        "o_expiry".into(),
        "o_minor_yes".into(),
        "o_pick_window".into(),
    ];
    let expected: Vec<String> = matter
        .materials_for(&chosen)
        .iter()
        .map(|m| m.name.clone())
        .collect();
    let rows: Vec<_> = guide.get_checklist().iter().collect();
    let names: Vec<String> = rows.iter().map(|r| r.name.to_string()).collect();
    assert_eq!(names, expected);
    for (row, material) in rows.iter().zip(matter.materials_for(&chosen)) {
        let want = if material.capturable {
            "本机拍摄"
        } else {
            "请带到窗口"
        };
        // Not identified: no e-licences, so nothing is exempt.
        assert_eq!(row.status, want, "{}", material.name);
        assert!(!row.exempt);
    }
    // The change-of-particulars proof is asked only for that reason.
    assert!(!names.iter().any(|n| n.contains("变更")), "{names:?}");
}

#[test]
fn walking_away_shows_a_countdown_then_wipes_the_session_from_the_ui() {
    let (window, kiosk, _catalog, _dir) = start();
    let adapter = window.global::<KioskAdapter>();
    let session = window.global::<SessionAdapter>();
    press(&window, "查找事项");
    for key in ["s", "f", "z"] {
        press(&window, key);
    }
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

#[test]
fn the_demo_card_is_read_through_the_emulator_and_exempts_materials_covered_by_e_licences() {
    i_slint_backend_testing::init_no_event_loop();
    let dir = tempfile::tempdir().unwrap();
    let mut core = Core::start(Profile::demo(), dir.path()).unwrap();
    let platform = ykb_terminal::sim::demo::start_for_demo(&mut core).expect("demo platform");
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
    press(&window, "查找事项");
    for key in ["s", "f", "z"] {
        press(&window, key);
    }
    press(&window, "居民身份证换领");
    press(&window, "有效期满");
    press(&window, "未满16周岁");
    press(&window, "到窗口领取");
    assert_eq!(adapter.get_page(), Page::Checklist);
    let held: Vec<String> = ykb_terminal::sim::platform::licences_for("500105198511220024")
        .into_iter()
        .map(|l| l.licence_type)
        .collect();
    let guide = window.global::<GuideAdapter>();
    wait_until(&kiosk, "the e-licences", || {
        guide.get_checklist().iter().any(|r| r.exempt)
    });
    let chosen: Vec<String> = vec![
        "o_expiry".into(),
        "o_minor_yes".into(),
        "o_pick_window".into(),
    ];
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
