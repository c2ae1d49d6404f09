//! 好差评: the five faces and the reason chips.

use slint::{ComponentHandle, ModelRc, SharedString};

use crate::kiosk::*;

/// Turns the page's callbacks into session events.
pub(in crate::kiosk) fn connect(kiosk: &Kiosk, window: &AppWindow) {
    let go = |e| super::go(kiosk, e);
    let eval = window.global::<EvaluateAdapter>();
    let k = kiosk.clone_handle();
    eval.on_choose(move |score| {
        if let Some(level) = u8::try_from(score)
            .ok()
            .and_then(EvaluationLevel::from_score)
        {
            k.event(Event::ChooseLevel(level));
        }
    });
    let k = kiosk.clone_handle();
    eval.on_toggle(move |reason| k.event(Event::ToggleReason(reason.to_string())));
    eval.on_send(go(|| Event::SendEvaluation));
    eval.on_skip(go(|| Event::SkipEvaluation));
}

/// Shows the level chosen and its reason chips.
pub(in crate::kiosk) fn render(window: &AppWindow, st: &State) -> Page {
    let lang = st.lang;
    let session = &st.session;
    let level = session.evaluation_level();
    let e = window.global::<EvaluateAdapter>();
    e.set_level(level.map_or(0, |l| i32::from(l.score())));
    e.set_note(lang.t(session.evaluation_note()).into());
    e.set_reasons(model(
        level
            .map(crate::errand::case::reasons_for)
            .unwrap_or_default()
            .iter()
            .map(|r| Chip {
                id: (*r).into(),
                label: lang.t(r).into(),
                selected: session.evaluation_reasons().iter().any(|x| x == r),
            })
            .collect::<Vec<_>>(),
    ));
    Page::Evaluate
}

/// Empties `EvaluateAdapter` (the session was wiped).
pub(in crate::kiosk) fn clear(window: &AppWindow) {
    let eval = window.global::<EvaluateAdapter>();
    eval.set_level(0);
    eval.set_reasons(ModelRc::default());
    eval.set_note(SharedString::new());
}
