//! 智能导办: the situation questions one at a time, then the materials checklist.

use slint::{ComponentHandle, ModelRc, SharedString};

use crate::kiosk::*;

/// Turns the page's callbacks into session events.
pub(in crate::kiosk) fn connect(kiosk: &Kiosk, window: &AppWindow) {
    let go = |e| super::go(kiosk, e);
    let guide = window.global::<GuideAdapter>();
    let k = kiosk.clone_handle();
    guide.on_choose(move |id| k.event(Event::Answer(vec![id.to_string()])));
    let k = kiosk.clone_handle();
    guide.on_toggle(move |id| k.event(Event::ToggleOption(id.to_string())));
    guide.on_confirm(go(|| Event::ConfirmOptions));
    guide.on_start_apply(go(|| Event::StartApply));
}

/// Shows the current question or the checklist.
pub(in crate::kiosk) fn render(window: &AppWindow, st: &State) -> Page {
    let session = &st.session;
    let lang = st.lang;
    match session.current() {
        Screen::Guide { question } => {
            let question = *question;
            let g = window.global::<GuideAdapter>();
            if let (Some(m), Some(q)) = (session.matter(), session.question(question)) {
                let multi = q.kind == crate::core::domain::QuestionKind::Multi;
                let earlier = session
                    .answers()
                    .get(question)
                    .filter(|a| a.question == q.id)
                    .map(|a| a.choices.clone())
                    .unwrap_or_default();
                g.set_matter_name(m.name.clone().into());
                g.set_progress(lang.t(&format!("第 {} 个问题", question + 1)).into());
                g.set_question(q.text.clone().into());
                g.set_multi(multi);
                g.set_choices(model(
                    q.options
                        .iter()
                        .map(|o| ChoiceRow {
                            id: o.id.clone().into(),
                            label: o.label.clone().into(),
                            selected: if multi {
                                session.pending().contains(&o.id)
                            } else {
                                earlier.contains(&o.id)
                            },
                        })
                        .collect::<Vec<_>>(),
                ));
            }
            Page::Question
        }
        _ => {
            let g = window.global::<GuideAdapter>();
            if let Some(m) = session.matter() {
                let rows = session.checklist();
                g.set_matter_name(m.name.clone().into());
                g.set_can_apply(m.self_service && m.serves_people());
                let mut note = lang.t(if session.person().is_some() {
                    "“免提交”的材料已由您的电子证照代替，无需携带"
                } else {
                    "刷身份证后，已有电子证照的材料可以免提交"
                });
                // A fee is paid online: said before the citizen starts.
                let fees = session.fee_items();
                if !fees.is_empty() {
                    let amount = crate::core::payment::yuan(crate::core::payment::total_fen(&fees));
                    let fee = if st.offline || st.terminal.platform.is_none() {
                        format!("本事项需联网缴费（收费 {amount} 元）：现在网络不通，可先提交，网络恢复后在渝快办App缴费")
                    } else {
                        format!("本事项收费 {amount} 元，提交后可在本机扫码缴费")
                    };
                    note = format!("{}\n{note}", lang.t(&fee));
                }
                // 帮办代办: who may apply, said before the citizen starts.
                let who = if session.by_agent() {
                    "帮他人办理：开始申请后先刷代办人本人的身份证，再刷被代办人的身份证（未到场的可输入其身份证号码）"
                } else if m.allows_agent() {
                    "本事项可由家人等代办"
                } else {
                    "本事项需本人办理，不能由他人代办"
                };
                if m.self_service && m.serves_people() {
                    note = format!("{note}\n{}", lang.t(who));
                }
                g.set_checklist_note(note.into());
                g.set_checklist(model(
                    rows.into_iter()
                        .map(|r| MaterialRow {
                            name: r.name.into(),
                            detail: lang.t(&r.detail).into(),
                            status: lang.t(r.status.label()).into(),
                            exempt: r.status == guide::MaterialStatus::Exempt,
                            capture: r.status == guide::MaterialStatus::CaptureHere,
                        })
                        .collect::<Vec<_>>(),
                ));
            }
            Page::Checklist
        }
    }
}

/// Empties `GuideAdapter` (the session was wiped).
pub(in crate::kiosk) fn clear(window: &AppWindow) {
    let guide = window.global::<GuideAdapter>();
    guide.set_matter_name(SharedString::new());
    guide.set_progress(SharedString::new());
    guide.set_question(SharedString::new());
    guide.set_multi(false);
    guide.set_choices(ModelRc::default());
    guide.set_checklist(ModelRc::default());
    guide.set_checklist_note(SharedString::new());
}
