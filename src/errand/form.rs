//! 表单 — the application form as the kiosk fills it: which fields a matter needs for the
//! chosen situation, which come from the ID card (prefilled and locked), and what is wrong
//! with a value, in plain words shown next to the field. Pure functions; no Slint.

use std::collections::BTreeMap;

use crate::core::privacy::mask_phone;

use crate::core::domain::{FieldKind, FormField, IdNumber, Matter, Person, PrefillSource, Sex};

/// One field as the form page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldView {
    pub id: String,
    pub label: String,
    pub kind: FieldKind,
    /// What is shown in the field (masked for an ID number read from the card).
    pub shown: String,
    /// Filled from the ID card and not editable.
    pub locked: bool,
    /// Empty when the value is fine (or not yet checked).
    pub error: String,
    /// What to type, e.g. "11位手机号".
    pub hint: String,
    pub options: Vec<String>,
}

/// The value a field takes from the ID card, if it has a prefill source.
pub fn prefill(field: &FormField, person: &Person) -> Option<String> {
    Some(match field.prefill? {
        PrefillSource::IdCardName => person.name.clone(),
        PrefillSource::IdCardNumber => person.id_number.expose().to_owned(),
        PrefillSource::IdCardAddress => person.address.clone(),
        PrefillSource::IdCardBirthDate => person.id_number.birth_date()?.to_string(),
        PrefillSource::IdCardSex => match person.id_number.sex() {
            Sex::Male => "男".to_owned(),
            Sex::Female => "女".to_owned(),
        },
    })
}

/// Who the prefilled fields come from: the applicant's ID card, and for 帮办代办 the agent's
/// (the agent's name and number fill the 代办 answer's first text and ID-number fields).
#[derive(Debug, Clone, Copy, Default)]
pub struct Known<'a> {
    pub person: Option<&'a Person>,
    pub agent: Option<&'a Person>,
}

impl<'a> Known<'a> {
    /// The applicant alone (no agent).
    pub fn person(person: Option<&'a Person>) -> Self {
        Self {
            person,
            agent: None,
        }
    }

    /// The value `field` takes without typing, if any.
    fn prefill(&self, matter: &Matter, chosen: &[String], field: &FormField) -> Option<String> {
        if let (Some(agent), Some(choice)) = (self.agent, matter.agent_choice(chosen)) {
            let first_of = |kind: FieldKind| {
                choice
                    .fields
                    .iter()
                    .filter_map(|id| matter.form_fields.iter().find(|f| &f.id == id))
                    .find(|f| f.kind == kind)
                    .is_some_and(|f| f.id == field.id)
            };
            if first_of(FieldKind::Text) {
                return Some(agent.name.clone());
            }
            if first_of(FieldKind::IdNumber) {
                return Some(agent.id_number.expose().to_owned());
            }
        }
        self.person.and_then(|p| prefill(field, p))
    }
}

/// The fields of `matter` for the chosen options, with values typed so far and prefilled
/// ones from the cards `known`; `errors` from the last [`validate`].
pub fn view(
    matter: &Matter,
    chosen: &[String],
    known: Known<'_>,
    values: &BTreeMap<String, String>,
    errors: &BTreeMap<String, String>,
) -> Vec<FieldView> {
    matter
        .fields_for(chosen)
        .into_iter()
        .map(|f| {
            let from_card = known.prefill(matter, chosen, f);
            let locked = from_card.is_some();
            let value = from_card
                .or_else(|| values.get(&f.id).cloned())
                .unwrap_or_default();
            let shown = if locked && f.kind == FieldKind::IdNumber {
                IdNumber::parse(&value).map_or(value.clone(), |n| n.masked())
            } else {
                value
            };
            FieldView {
                id: f.id.clone(),
                label: f.label.clone(),
                kind: f.kind,
                shown,
                locked,
                error: errors.get(&f.id).cloned().unwrap_or_default(),
                hint: hint(f),
                options: f.options.clone(),
            }
        })
        .collect()
}

/// What the citizen is asked to type.
fn hint(f: &FormField) -> String {
    match f.kind {
        FieldKind::Phone => "11位手机号，如 13800000000".to_owned(),
        FieldKind::IdNumber => "18位公民身份号码".to_owned(),
        FieldKind::Date => "日期，如 2024-05-01".to_owned(),
        FieldKind::Number => match (f.min, f.max) {
            (Some(a), Some(b)) => format!("{a}～{b} 之间的整数"),
            _ => "整数".to_owned(),
        },
        FieldKind::Select => "请点选一项".to_owned(),
        FieldKind::Text => match f.max_len {
            Some(n) => format!("不超过 {n} 个字"),
            None => String::new(),
        },
    }
}

/// The form's values to submit: prefilled ones from the card plus the typed ones, for the
/// fields the situation needs (values typed for fields no longer asked are dropped).
pub fn values(
    matter: &Matter,
    chosen: &[String],
    known: Known<'_>,
    typed: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    matter
        .fields_for(chosen)
        .into_iter()
        .filter_map(|f| {
            let v = known
                .prefill(matter, chosen, f)
                .or_else(|| typed.get(&f.id).cloned())?;
            Some((f.id.clone(), v))
        })
        .collect()
}

/// Checks every field; returns field id → what is wrong, in words. Empty: the form is good.
pub fn validate(
    matter: &Matter,
    chosen: &[String],
    known: Known<'_>,
    typed: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let filled = values(matter, chosen, known, typed);
    matter
        .fields_for(chosen)
        .into_iter()
        .filter_map(|f| {
            let v = filled.get(&f.id).map(|s| s.trim()).unwrap_or("");
            check(f, v).err().map(|e| (f.id.clone(), e))
        })
        .collect()
}

/// Whether one value suits its field. Every field `fields_for` returns is needed.
pub fn check(f: &FormField, v: &str) -> Result<(), String> {
    if v.is_empty() {
        return Err(match f.kind {
            FieldKind::Select => format!("请选择{}", f.label),
            _ => format!("请填写{}", f.label),
        });
    }
    match f.kind {
        FieldKind::Text => match f.max_len {
            Some(n) if v.chars().count() > n as usize => {
                Err(format!("{}最多 {n} 个字，请删去一些", f.label))
            }
            _ => Ok(()),
        },
        FieldKind::Phone => {
            let ok = v.len() == 11 && v.starts_with('1') && v.bytes().all(|b| b.is_ascii_digit());
            if ok {
                Ok(())
            } else {
                Err("手机号应为11位数字，以1开头".to_owned())
            }
        }
        FieldKind::IdNumber => IdNumber::parse(v)
            .map(|_| ())
            .map_err(|_| "身份号码不正确，请核对18位号码（最后一位可能是X）".to_owned()),
        FieldKind::Date => v
            .parse::<jiff::civil::Date>()
            .map(|_| ())
            .map_err(|_| "日期格式应为 年-月-日，如 2024-05-01".to_owned()),
        FieldKind::Number => {
            let n: i64 = v.parse().map_err(|_| format!("{}应为整数", f.label))?;
            if f.min.is_some_and(|m| n < m) || f.max.is_some_and(|m| n > m) {
                Err(format!(
                    "{}应在 {}～{} 之间",
                    f.label,
                    f.min.map_or("-".into(), |m| m.to_string()),
                    f.max.map_or("-".into(), |m| m.to_string())
                ))
            } else {
                Ok(())
            }
        }
        FieldKind::Select => {
            if f.options.iter().any(|o| o == v) {
                Ok(())
            } else {
                Err(format!("请从列出的选项中选择{}", f.label))
            }
        }
    }
}

/// A value as the review page shows it: personal identifiers masked.
pub fn shown_on_review(kind: FieldKind, v: &str) -> String {
    match kind {
        FieldKind::IdNumber => IdNumber::parse(v).map_or_else(|_| mask_phone(v), |n| n.masked()),
        FieldKind::Phone => mask_phone(v),
        _ => v.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::domain::Necessity;

    fn renewal() -> Matter {
        crate::core::catalog::demo_matter("居民身份证换领")
    }

    fn person() -> Person {
        Person {
            name: "李哲".into(),
            id_number: IdNumber::complete("50010319800101123").unwrap(),
            address: "重庆市渝中区解放碑街道1号".into(),
        }
    }

    fn field(kind: FieldKind) -> FormField {
        FormField {
            id: "f".into(),
            label: "字段".into(),
            kind,
            max_len: Some(4),
            min: Some(1),
            max: Some(9),
            options: vec!["甲".into(), "乙".into()],
            necessity: Necessity::Required,
            prefill: None,
        }
    }

    #[test]
    fn card_fields_are_prefilled_locked_and_the_id_number_is_masked() {
        let m = renewal();
        let p = person();
        let v = view(
            &m,
            &[],
            Known::person(Some(&p)),
            &BTreeMap::new(),
            &BTreeMap::new(),
        );
        let name = v.iter().find(|f| f.id == "f_name").unwrap();
        assert!(name.locked);
        assert_eq!(name.shown, "李哲");
        let id = v.iter().find(|f| f.id == "f_id").unwrap();
        assert!(id.locked);
        assert_eq!(id.shown, p.id_number.masked());
        assert!(!id.shown.contains(&p.id_number.expose()[6..14]));
        // The full number is still what is submitted.
        let vals = values(&m, &[], Known::person(Some(&p)), &BTreeMap::new());
        assert_eq!(vals["f_id"], p.id_number.expose());
    }

    #[test]
    fn a_typed_value_cannot_override_the_card() {
        let m = renewal();
        let p = person();
        let typed = BTreeMap::from([("f_name".to_owned(), "别人".to_owned())]);
        assert_eq!(
            values(&m, &[], Known::person(Some(&p)), &typed)["f_name"],
            "李哲"
        );
    }

    #[test]
    fn every_kind_explains_what_is_wrong() {
        assert_eq!(check(&field(FieldKind::Text), ""), Err("请填写字段".into()));
        assert!(check(&field(FieldKind::Text), "甲乙丙丁戊")
            .unwrap_err()
            .contains("最多 4 个字"));
        assert!(check(&field(FieldKind::Text), "甲乙丙丁").is_ok());
        assert!(check(&field(FieldKind::Phone), "1380000000").is_err());
        assert!(check(&field(FieldKind::Phone), "23800000000").is_err());
        assert!(check(&field(FieldKind::Phone), "13800000000").is_ok());
        assert!(check(&field(FieldKind::IdNumber), "500103198001011230").is_err());
        let good = IdNumber::complete("50010319800101123").unwrap();
        assert!(check(&field(FieldKind::IdNumber), good.expose()).is_ok());
        assert!(check(&field(FieldKind::Date), "2024-13-01").is_err());
        assert!(check(&field(FieldKind::Date), "2024-12-01").is_ok());
        assert!(check(&field(FieldKind::Number), "x").is_err());
        assert!(check(&field(FieldKind::Number), "10")
            .unwrap_err()
            .contains("1～9"));
        assert!(check(&field(FieldKind::Number), "9").is_ok());
        assert_eq!(
            check(&field(FieldKind::Select), ""),
            Err("请选择字段".into())
        );
        assert!(check(&field(FieldKind::Select), "丙").is_err());
        assert!(check(&field(FieldKind::Select), "乙").is_ok());
    }

    #[test]
    fn conditional_fields_are_checked_only_when_the_situation_asks_for_them() {
        let m = renewal();
        let p = person();
        // No answers: only the required (prefilled) fields; nothing to complain about.
        assert!(validate(&m, &[], Known::person(Some(&p)), &BTreeMap::new()).is_empty());
        // An answer that brings in the phone field makes it required.
        let (choice, field) = m
            .questions
            .iter()
            .flat_map(|q| q.options.iter())
            .find_map(|o| o.fields.first().map(|f| (o.id.clone(), f.clone())))
            .expect("a choice that asks for a field");
        let errs = validate(
            &m,
            std::slice::from_ref(&choice),
            Known::person(Some(&p)),
            &BTreeMap::new(),
        );
        assert!(errs.contains_key(&field), "{errs:?}");
    }

    #[test]
    fn review_masks_identifiers() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(
            shown_on_review(FieldKind::Phone, "13812345678"),
            "138****5678"
        );
        let n = IdNumber::complete("50010319800101123").unwrap();
        assert_eq!(shown_on_review(FieldKind::IdNumber, n.expose()), n.masked());
        assert_eq!(shown_on_review(FieldKind::Text, "渝中区"), "渝中区");
    }

    /// 帮办代办: the applicant's fields come from the applicant's card, the 代办 answer's
    /// name and number fields from the agent's, both locked.
    #[test]
    fn an_agent_fills_the_agent_fields_and_the_applicant_their_own() {
        let m = crate::core::catalog::demo_matter("老年人优待证申领");
        let parent = Person {
            name: "王秀英".into(),
            id_number: IdNumber::complete("50010319500307001").unwrap(),
            address: "重庆市渝中区解放碑街道民族路188号".into(),
        };
        let child = Person {
            name: "李哲".into(),
            id_number: IdNumber::complete("50010319800101123").unwrap(),
            address: String::new(),
        };
        let chosen = vec!["o_agent".to_owned()];
        let known = Known {
            person: Some(&parent),
            agent: Some(&child),
        };
        let vals = values(&m, &chosen, known, &BTreeMap::new());
        assert_eq!(vals["f_name"], "王秀英");
        assert_eq!(vals["f_agent_name"], "李哲");
        assert_eq!(vals["f_agent_id"], child.id_number.expose());
        assert_eq!(vals["f_id"], parent.id_number.expose());
        let shown = view(&m, &chosen, known, &BTreeMap::new(), &BTreeMap::new());
        let agent_id = shown.iter().find(|f| f.id == "f_agent_id").unwrap();
        assert!(agent_id.locked);
        assert_eq!(agent_id.shown, child.id_number.masked());
        // Without the 代办 answer the agent's fields are not asked, nor filled.
        let alone = values(&m, &[], known, &BTreeMap::new());
        assert!(!alone.contains_key("f_agent_name"));
    }
}
