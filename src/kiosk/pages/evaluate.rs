//! 好差评: the five faces and the reason chips.

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use crate::kiosk::*;

/// Turns the page's callbacks into session events.
pub(in crate::kiosk) fn connect(kiosk: &Kiosk, window: &AppWindow) {
    let go = |e: fn() -> Event| {
        let k = kiosk.clone_handle();
        move || k.event(e())
    };
    let eval = window.global::<EvaluateAdapter>();
    let k = kiosk.clone_handle();
    eval.on_choose(move |score| {
        {
            let mut st = k.state.borrow_mut();
            let level = u8::try_from(score)
                .ok()
                .and_then(EvaluationLevel::from_score);
            if level.map(EvaluationLevel::is_negative)
                != st.evaluation.map(EvaluationLevel::is_negative)
            {
                st.reasons.clear();
            }
            st.evaluation = level;
            st.evaluation_note.clear();
        }
        k.event(Event::Touch);
        k.render();
    });
    let k = kiosk.clone_handle();
    eval.on_toggle(move |label| {
        {
            let mut st = k.state.borrow_mut();
            let label = label.to_string();
            if let Some(i) = st.reasons.iter().position(|r| *r == label) {
                st.reasons.remove(i);
            } else {
                st.reasons.push(label);
            }
            st.evaluation_note.clear();
        }
        k.event(Event::Touch);
        k.render();
    });
    let k = kiosk.clone_handle();
    eval.on_send(move || k.send_evaluation());
    eval.on_skip(go(|| Event::Evaluated));
}

/// Shows the level chosen and its reason chips.
pub(in crate::kiosk) fn render(window: &AppWindow, st: &State) -> Page {
    let lang = st.lang;
    let e = window.global::<EvaluateAdapter>();
    e.set_level(st.evaluation.map_or(0, |l| i32::from(l.score())));
    e.set_note(lang.t(&st.evaluation_note).into());
    e.set_reasons(ModelRc::new(VecModel::from(
        st.evaluation
            .map(crate::errand::case::reasons_for)
            .unwrap_or_default()
            .iter()
            .map(|r| Chip {
                id: (*r).into(),
                label: lang.t(r).into(),
                selected: st.reasons.iter().any(|x| x == r),
            })
            .collect::<Vec<_>>(),
    )));
    Page::Evaluate
}

/// Empties `EvaluateAdapter` (the session was wiped).
pub(in crate::kiosk) fn clear(window: &AppWindow) {
    let eval = window.global::<EvaluateAdapter>();
    eval.set_level(0);
    eval.set_reasons(ModelRc::default());
    eval.set_note(SharedString::new());
}
