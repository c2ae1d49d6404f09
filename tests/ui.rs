//! The kiosk UI driven the way a citizen uses it: find controls by their accessible labels,
//! press them, and check what the screen shows. Runs on Slint's testing backend (no display).

use i_slint_backend_testing::ElementHandle;
use slint::{ComponentHandle, Model};
use ykb_terminal::core::config::Profile;
use ykb_terminal::core::Core;
use ykb_terminal::kiosk::{AppWindow, Kiosk, KioskAdapter, Page};

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
