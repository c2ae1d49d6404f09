//! 申请 — what an errand becomes: the case handed to the outbox (the **one** place a
//! `NewCase` is assembled, for the kiosk and the counter alike) and the 好差评 event. Pure
//! functions of an [`Errand`]; no Slint, no IO.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::form;
use super::guide::{self, MaterialStatus};
use crate::core::domain::{
    Agent, Applicant, BundleApplication, CaseMaterial, Delivery, EvaluationLevel, FieldKind,
    MaterialOutcome, Matter, Person,
};
use crate::core::outbox::NewCase;

/// The prefix of the progress-query QR code on receipts: `ykb:case:<local case id>`.
pub const CASE_QR_PREFIX: &str = "ykb:case:";

/// 办件 in progress, as a plain value: what the kiosk's session and the counter's work both
/// hand over when a case is to be stored.
#[derive(Debug, Clone)]
pub struct Errand<'a> {
    /// The matter applied for (for a bundle: the combined matter).
    pub matter: &'a Matter,
    /// The 一件事 bundle, when the errand is one.
    pub bundle: Option<&'a BundleApplication>,
    /// The situation options chosen, in order.
    pub chosen: Vec<String>,
    /// Each answered question's chosen options.
    pub answers: BTreeMap<String, Vec<String>>,
    /// The applicant (for 帮办代办: the person applied for, not the agent).
    pub person: &'a Person,
    /// 帮办代办: the agent who applies for `person`, identified here.
    pub agent: Option<Agent>,
    /// The names of the e-licences the applicant holds.
    pub licences: &'a [String],
    /// What was typed into the form's fields (prefilled fields come from `person`).
    pub fields: &'a BTreeMap<String, String>,
    /// The materials photographed here (material id → JPEG).
    pub images: &'a BTreeMap<String, Vec<u8>>,
}

impl Errand<'_> {
    /// The materials checklist for this errand (see [`guide::checklist`]).
    pub fn checklist(&self) -> Vec<guide::ChecklistItem> {
        guide::checklist(self.matter, &self.chosen, Some(self.licences))
    }
}

/// The case the errand describes, ready for `outbox::enqueue_case`: each material met by an
/// e-licence, a photo taken here, or paper brought to the window.
pub fn new_case(errand: &Errand<'_>, catalog_version: u64) -> NewCase {
    let matter = errand.matter;
    let images: Vec<(String, Vec<u8>)> = errand
        .images
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let materials = errand
        .checklist()
        .into_iter()
        .map(|item| {
            let outcome = match item.status {
                MaterialStatus::Exempt => MaterialOutcome::Exempt {
                    licence: licence_of(matter, &item.id),
                },
                MaterialStatus::CaptureHere if errand.images.contains_key(&item.id) => {
                    MaterialOutcome::Captured {
                        blob: item.id.clone(),
                    }
                }
                // Not photographed (skipped): it goes to the window, as the receipt says.
                _ => MaterialOutcome::BringToWindow,
            };
            CaseMaterial {
                material_id: item.id,
                outcome,
            }
        })
        .collect();
    // A bundle is one case naming every member the answers include.
    let (matters, bundle) = match errand.bundle {
        Some(b) => (
            b.members_for(&errand.chosen)
                .into_iter()
                .map(|(c, _)| c)
                .collect(),
            Some(b.code.clone()),
        ),
        None => (vec![matter.task_code.clone()], None),
    };
    let known = form::Known {
        person: Some(errand.person),
        agent: errand.agent.as_ref().map(|a| &a.person),
    };
    let form = form::values(matter, &errand.chosen, known, errand.fields);
    NewCase {
        matters,
        bundle,
        catalog_version,
        applicant: Applicant::Person {
            person: errand.person.clone(),
        },
        agent: errand.agent.clone(),
        delivery: delivery(matter, &errand.chosen, &form),
        answers: errand.answers.clone(),
        materials,
        form,
        images,
    }
}

/// 取件方式 of a matter whose result can be posted: 邮寄到家 to the first text field the
/// chosen 邮寄 answer requires, with the phone it (or else the form) asks for; `None` when the
/// matter cannot be posted.
pub fn delivery(
    matter: &Matter,
    chosen: &[String],
    form: &BTreeMap<String, String>,
) -> Option<Delivery> {
    if !matter.can_post() {
        return None;
    }
    let Some(choice) = matter.post_choice(chosen) else {
        return Some(Delivery::Window);
    };
    let value = |kind: FieldKind, among: &mut dyn Iterator<Item = &String>| {
        among
            .filter_map(|id| matter.form_fields.iter().find(|f| &f.id == id))
            .filter(|f| f.kind == kind)
            .find_map(|f| form.get(&f.id).filter(|v| !v.trim().is_empty()).cloned())
    };
    let address = value(FieldKind::Text, &mut choice.fields.iter()).unwrap_or_default();
    let phone = value(FieldKind::Phone, &mut choice.fields.iter())
        .or_else(|| value(FieldKind::Phone, &mut form.keys()))
        .unwrap_or_default();
    Some(Delivery::Post { address, phone })
}

fn licence_of(matter: &Matter, material: &str) -> String {
    matter
        .materials
        .iter()
        .find(|m| m.id == material)
        .and_then(|m| m.exempted_by_licence.clone())
        .unwrap_or_default()
}

/// The 好差评 event queued through the outbox: level, reasons, the case it rates; no
/// personal data (the case id is the link).
pub fn evaluation_event(
    case_id: Option<&str>,
    task_code: Option<&str>,
    level: EvaluationLevel,
    reasons: &[String],
    terminal_kind: &str,
    now: Timestamp,
) -> serde_json::Value {
    serde_json::json!({
        "case_id": case_id,
        "task_code": task_code,
        "level": level,
        "score": level.score(),
        "reasons": reasons,
        "channel": terminal_kind,
        "at": now.to_string(),
    })
}

/// The reason chips offered for a level: praise for the good ones, complaints otherwise.
pub fn reasons_for(level: EvaluationLevel) -> &'static [&'static str] {
    if level.is_negative() {
        &[
            "等候时间长",
            "操作步骤多",
            "看不清、听不清",
            "设备故障",
            "材料要求不清楚",
            "工作人员态度",
        ]
    } else {
        &["操作简单", "不用跑腿", "材料少", "速度快", "指引清楚"]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::domain::IdNumber;

    /// The counter's way: paper handed over at the window, an e-licence held exempts.
    #[test]
    fn an_errand_without_photos_brings_paper_to_the_window_unless_a_licence_exempts_it() {
        let catalog = crate::core::catalog::Catalog::demo().unwrap();
        let m = catalog
            .matters
            .iter()
            .find(|m| m.name == "居民身份证换领")
            .unwrap();
        let person = Person {
            name: "李哲".into(),
            id_number: IdNumber::complete("50010319800101123").unwrap(),
            address: "重庆市渝中区解放碑街道1号".into(),
        };
        let chosen: Vec<String> = ["o_damaged", "o_minor_no", "o_pick_window"]
            .map(String::from)
            .to_vec();
        let answers = BTreeMap::from([("q_reason".to_owned(), vec!["o_damaged".to_owned()])]);
        let licences = vec!["居民户口簿".to_owned()];
        let (fields, images) = (BTreeMap::new(), BTreeMap::new());
        let errand = Errand {
            matter: m,
            bundle: None,
            chosen,
            answers: answers.clone(),
            person: &person,
            agent: None,
            licences: &licences,
            fields: &fields,
            images: &images,
        };
        let case = new_case(&errand, 4);
        assert_eq!(case.matters, vec![m.task_code.clone()]);
        assert_eq!(case.catalog_version, 4);
        assert!(case.images.is_empty());
        for cm in &case.materials {
            let expected = if cm.material_id == "m_hukou" {
                MaterialOutcome::Exempt {
                    licence: "居民户口簿".into(),
                }
            } else {
                MaterialOutcome::BringToWindow
            };
            assert_eq!(cm.outcome, expected, "{}", cm.material_id);
        }
        assert_eq!(case.form["f_name"], "李哲");
        assert_eq!(case.answers, answers);
        assert_eq!(
            case.delivery,
            Some(Delivery::Window),
            "the card can be posted"
        );
        assert_eq!(case.agent, None);
    }

    #[test]
    fn posting_takes_the_address_and_phone_typed_and_a_free_matter_has_no_delivery() {
        let catalog = crate::core::catalog::Catalog::demo().unwrap();
        let m = |name: &str| catalog.matters.iter().find(|m| m.name == name).unwrap();
        let card = m("居民身份证换领");
        let form = BTreeMap::from([
            (
                "f_post_address".to_owned(),
                "重庆市渝北区龙溪街道1号".to_owned(),
            ),
            ("f_phone".to_owned(), "13800000000".to_owned()),
            ("f_name".to_owned(), "李哲".to_owned()),
        ]);
        let chosen = ["o_damaged", "o_pick_post"].map(String::from);
        assert_eq!(
            delivery(card, &chosen, &form),
            Some(Delivery::Post {
                address: "重庆市渝北区龙溪街道1号".into(),
                phone: "13800000000".into()
            })
        );
        assert_eq!(
            delivery(card, &["o_pick_window".to_owned()], &form),
            Some(Delivery::Window)
        );
        let never_posted = catalog.matters.iter().find(|m| !m.can_post()).unwrap();
        assert_eq!(delivery(never_posted, &chosen, &form), None);
    }

    /// The 邮寄费 an answer adds is paid with the matter's own fee, in fen.
    #[test]
    fn posting_a_driving_licence_adds_its_postage_to_the_fee() {
        let catalog = crate::core::catalog::Catalog::demo().unwrap();
        let m = catalog
            .matters
            .iter()
            .find(|m| m.name == "机动车驾驶证换证")
            .unwrap();
        let at_window = crate::core::payment::fee_items([m], &["o_pick_now".to_owned()]);
        let posted = crate::core::payment::fee_items([m], &["o_pick_post".to_owned()]);
        assert_eq!(crate::core::payment::total_fen(&at_window), 1000);
        assert_eq!(crate::core::payment::total_fen(&posted), 2200);
        assert!(posted.iter().any(|i| i.name == "邮寄费（EMS）"));
    }

    #[test]
    fn the_evaluation_event_carries_no_personal_data() {
        let e = evaluation_event(
            Some("c1"),
            Some("T1"),
            EvaluationLevel::Satisfied,
            &["速度快".into()],
            "kiosk",
            Timestamp::UNIX_EPOCH,
        );
        let s = e.to_string();
        assert!(s.contains("\"c1\"") && s.contains("速度快"));
        assert!(!reasons_for(EvaluationLevel::VeryDissatisfied).is_empty());
        assert_ne!(
            reasons_for(EvaluationLevel::VeryDissatisfied),
            reasons_for(EvaluationLevel::VerySatisfied)
        );
    }
}
