//! 查找事项: the query typed on the keyboard and the matters found (the search itself runs on
//! the terminal's search worker; its answer is the session's).

use slint::{ComponentHandle, ModelRc, SharedString};

use crate::kiosk::*;

/// Turns the page's callbacks into session events.
pub(in crate::kiosk) fn connect(kiosk: &Kiosk, window: &AppWindow) {
    let go = |e| super::go(kiosk, e);
    let find = window.global::<FindAdapter>();
    let k = kiosk.clone_handle();
    find.on_key(move |key| {
        let q = format!("{}{}", k.state.borrow().session.query(), key);
        k.event(Event::Search(q));
    });
    let k = kiosk.clone_handle();
    find.on_backspace(move || {
        let mut q = k.state.borrow().session.query().to_owned();
        q.pop();
        k.event(Event::Search(q));
    });
    find.on_clear(go(|| Event::Search(String::new())));
    let k = kiosk.clone_handle();
    find.on_choose(move |code| {
        let matter = k
            .state
            .borrow()
            .terminal
            .core
            .catalog
            .matter(&code)
            .cloned();
        if let Some(m) = matter {
            k.event(Event::ChooseMatter(Box::new(m)));
        }
    });
}

/// Shows the query and, once the search answered, what it found.
pub(in crate::kiosk) fn render(window: &AppWindow, st: &State) -> Page {
    let session = &st.session;
    let hits = session.search_hits();
    let lang = st.lang;
    let find = window.global::<FindAdapter>();
    let query = session.query().to_owned();
    find.set_query(query.clone().into());
    if let Some(hits) = hits {
        find.set_summary(
            lang.t(&if query.is_empty() {
                String::new()
            } else if hits.is_empty() {
                format!("没有找到与“{query}”相关的事项，可以换个说法或按部门浏览")
            } else {
                format!("找到 {} 项，点事项开始办理", hits.len())
            })
            .into(),
        );
        find.set_results(model(
            hits.iter()
                .map(|h| MatterRow {
                    code: h.task_code.as_str().into(),
                    name: h.name.as_str().into(),
                    detail: h.department.as_str().into(),
                    self_service: h.self_service,
                })
                .collect::<Vec<_>>(),
        ));
    } else {
        find.set_summary(lang.t("正在查找…").into());
    }
    Page::Find
}

/// Empties `FindAdapter` (the session was wiped).
pub(in crate::kiosk) fn clear(window: &AppWindow) {
    let find = window.global::<FindAdapter>();
    find.set_query(SharedString::new());
    find.set_summary(SharedString::new());
    find.set_results(ModelRc::default());
}
