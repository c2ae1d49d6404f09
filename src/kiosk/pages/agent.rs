//! 帮办代办: the agent (masked), how they stand to the applicant, and who that is.

use slint::{ComponentHandle, ModelRc, SharedString};

use crate::core::domain::Relationship;
use crate::core::privacy::mask_name;
use crate::kiosk::*;

/// Turns the page's callbacks into session events.
pub(in crate::kiosk) fn connect(kiosk: &Kiosk, window: &AppWindow) {
    let go = |e| super::go(kiosk, e);
    let a = window.global::<AgentAdapter>();
    let k = kiosk.clone_handle();
    a.on_choose_relationship(move |id| {
        if let Some(r) = Relationship::ALL
            .into_iter()
            .find(|r| r.id() == id.as_str())
        {
            k.event(Event::ChooseRelationship(r));
        }
    });
    a.on_type_applicant(go(|| Event::TypeApplicant));
    a.on_next(go(|| Event::AgentNext));
    let k = kiosk.clone_handle();
    a.on_place_demo_card(move || k.place_demo_card());
}

/// Shows the agent, the relationships and the applicant read so far.
pub(in crate::kiosk) fn render(window: &AppWindow, st: &State) -> Page {
    let session = &st.session;
    let lang = st.lang;
    let a = window.global::<AgentAdapter>();
    let who = |p: &crate::core::domain::Person| {
        format!("{}  {}", mask_name(&p.name), p.id_number.masked())
    };
    a.set_matter_name(
        session
            .matter()
            .map(|m| m.name.clone())
            .unwrap_or_default()
            .into(),
    );
    a.set_agent(session.agent_person().map(who).unwrap_or_default().into());
    a.set_applicant(session.person().map(who).unwrap_or_default().into());
    a.set_relationships(model(Relationship::ALL.map(|r| ChoiceRow {
        id: r.id().into(),
        label: lang.t(r.name_zh()).into(),
        selected: session.relationship() == Some(r),
    })));
    a.set_note(lang.t(session.agent_note()).into());
    a.set_demo(window.global::<IdentifyAdapter>().get_demo());
    Page::Agent
}

/// Empties `AgentAdapter` (the session was wiped).
pub(in crate::kiosk) fn clear(window: &AppWindow) {
    let a = window.global::<AgentAdapter>();
    a.set_matter_name(SharedString::new());
    a.set_agent(SharedString::new());
    a.set_applicant(SharedString::new());
    a.set_relationships(ModelRc::default());
    a.set_note(SharedString::new());
}
