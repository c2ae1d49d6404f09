//! 智能预审 — pre-review at the counter: before a clerk accepts (受理) a case, check that the
//! required materials are there (brought, or covered by the citizen's e-licences), that the ID
//! card is valid and not expired, that the situation questions are answered, and that the
//! matter's audience, age and region rules are met. A pure function: the clerk's screen shows
//! every check, and exactly what is missing.

use std::collections::BTreeSet;

use jiff::civil::Date;

use crate::core::domain::CardExpiry;
use crate::core::domain::{Matter, Person, QuestionKind, RegionCode};

/// What pre-review looks at.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub matter: &'a Matter,
    /// Option ids chosen for the matter's situation questions.
    pub chosen: &'a [String],
    /// The applicant, from the ID card read at the window.
    pub person: Option<&'a Person>,
    /// The card's 有效期止, when the card had one that could be read.
    pub expiry: Option<CardExpiry>,
    /// E-licence types the platform holds for the applicant (免提交).
    pub licences: &'a [String],
    /// Material ids the clerk ticked as brought.
    pub brought: &'a BTreeSet<String>,
    /// Hall day (UTC+8).
    pub today: Date,
}

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Fine.
    Met,
    /// Not met: the case cannot be accepted until it is.
    Missing,
    /// Could not be checked, or needs the clerk's eyes; does not block acceptance.
    Note,
}

/// What a check is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A material of the matter (its id).
    Material(String),
    IdCard,
    Question(String),
    Audience,
    Age,
    Region,
}

/// One line of the pre-review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub subject: Subject,
    pub status: Status,
    /// What the clerk reads (zh-CN).
    pub text: String,
}

/// The whole pre-review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub checks: Vec<Check>,
}

impl Review {
    /// Checks that block acceptance.
    pub fn missing(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.status == Status::Missing)
    }

    /// Whether the case may be accepted (nothing missing).
    pub fn can_accept(&self) -> bool {
        self.missing().next().is_none()
    }

    /// Materials not yet there, by name: the supplement list (补齐补正).
    pub fn missing_materials<'m>(
        &self,
        matter: &'m Matter,
    ) -> Vec<&'m crate::core::domain::Material> {
        self.missing()
            .filter_map(|c| match &c.subject {
                Subject::Material(id) => matter.materials.iter().find(|m| &m.id == id),
                _ => None,
            })
            .collect()
    }
}

/// 原件1份、复印件1份
pub fn copies_text(m: &crate::core::domain::Material) -> String {
    match (m.originals, m.copies) {
        (0, 0) => String::new(),
        (o, 0) => format!("原件{o}份"),
        (0, c) => format!("复印件{c}份"),
        (o, c) => format!("原件{o}份、复印件{c}份"),
    }
}

/// Runs every check, in the order the clerk reads them: applicant, situation, materials.
pub fn review(input: &Input<'_>) -> Review {
    let m = input.matter;
    let mut checks = Vec::new();
    let mut push = |subject, status, text: String| {
        checks.push(Check {
            subject,
            status,
            text,
        })
    };

    // Audience (服务对象): the counter accepts for natural persons here.
    if m.serves_people() {
        push(Subject::Audience, Status::Met, "服务对象：自然人".into());
    } else {
        push(
            Subject::Audience,
            Status::Missing,
            "本事项只面向法人，不能以个人名义受理".into(),
        );
    }

    // The ID card.
    match (input.person, input.expiry) {
        (None, _) => push(
            Subject::IdCard,
            Status::Missing,
            "未读取申请人身份证".into(),
        ),
        (Some(_), Some(CardExpiry::On(d))) if d < input.today => push(
            Subject::IdCard,
            Status::Missing,
            format!("身份证已于 {d} 过期，请申请人先换领身份证或提供临时身份证"),
        ),
        (Some(_), Some(CardExpiry::On(d))) => push(
            Subject::IdCard,
            Status::Met,
            format!("身份证有效（至 {d}）"),
        ),
        (Some(_), Some(CardExpiry::LongTerm)) => {
            push(Subject::IdCard, Status::Met, "身份证有效（长期）".into())
        }
        (Some(_), None) => push(
            Subject::IdCard,
            Status::Note,
            "未能读取身份证有效期，请人工核对证件是否在有效期内".into(),
        ),
    }

    // Situation questions: each applicable one answered.
    for q in m.applicable_questions(input.chosen) {
        let answered = q.options.iter().any(|o| input.chosen.contains(&o.id));
        if !answered && q.kind == QuestionKind::Single {
            push(
                Subject::Question(q.id.clone()),
                Status::Missing,
                format!("未选择情形：{}", q.text),
            );
        }
    }

    // Age: situation options that state an age ("未满16周岁", "已满16周岁") must fit the
    // applicant's age from the ID number.
    let age = input.person.and_then(|p| p.id_number.age_on(input.today));
    if let Some(age) = age {
        for q in m.applicable_questions(input.chosen) {
            for o in q.options.iter().filter(|o| input.chosen.contains(&o.id)) {
                if let Some(rule) = AgeRule::parse(&o.label) {
                    if rule.admits(age) {
                        push(
                            Subject::Age,
                            Status::Met,
                            format!("年龄条件“{}”相符（{age} 岁）", o.label),
                        );
                    } else {
                        push(
                            Subject::Age,
                            Status::Missing,
                            format!("所选情形“{}”与申请人年龄（{age} 岁）不符，请核对", o.label),
                        );
                    }
                }
            }
        }
    }

    // Region: the matter's implementing body against where the ID card was registered.
    if let Some(p) = input.person {
        push_region(&mut push, m, &p.id_number);
    }

    // Materials.
    for mat in m.materials_for(input.chosen) {
        let licence = mat
            .exempted_by_licence
            .as_ref()
            .filter(|l| input.licences.contains(l));
        let copies = copies_text(mat);
        let copies = if copies.is_empty() {
            String::new()
        } else {
            format!("（{copies}）")
        };
        if let Some(l) = licence {
            push(
                Subject::Material(mat.id.clone()),
                Status::Met,
                format!("{}：免提交，已调用电子证照“{l}”", mat.name),
            );
        } else if input.brought.contains(&mat.id) {
            push(
                Subject::Material(mat.id.clone()),
                Status::Met,
                format!("{}：已收{copies}", mat.name),
            );
        } else {
            push(
                Subject::Material(mat.id.clone()),
                Status::Missing,
                format!("缺少材料：{}{copies}", mat.name),
            );
        }
    }
    Review { checks }
}

fn push_region(
    push: &mut impl FnMut(Subject, Status, String),
    m: &Matter,
    id: &crate::core::domain::IdNumber,
) {
    let body: &RegionCode = &m.implementing_body.region_code;
    let province = |code: &str| code.get(..2).map(str::to_owned).unwrap_or_default();
    let here = province(body.as_str());
    let theirs = province(id.expose());
    if here == theirs {
        push(
            Subject::Region,
            Status::Met,
            "户籍地在本市，属地条件相符".into(),
        );
    } else if theirs == "51" && m.cross_region.chuanyu {
        push(
            Subject::Region,
            Status::Met,
            "川渝通办事项，可受理四川籍申请人".into(),
        );
    } else if m.cross_region.trans_provincial {
        push(
            Subject::Region,
            Status::Met,
            "跨省通办事项，可受理外省籍申请人".into(),
        );
    } else {
        // The number records where the card was first issued, not where the person lives now.
        push(
            Subject::Region,
            Status::Note,
            "身份证登记地不在本市，本事项不支持跨省通办：请核对户口簿或居住证".into(),
        );
    }
}

/// An age stated in a situation option: 未满N周岁 (under N) or 已满N周岁 / N周岁以上 (N or over).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgeRule {
    Under(i16),
    AtLeast(i16),
}

impl AgeRule {
    /// Reads the rule out of an option's label, if it states one.
    pub fn parse(label: &str) -> Option<Self> {
        let number_before = |idx: usize| -> Option<i16> {
            let digits: String = label[..idx]
                .chars()
                .rev()
                .take_while(char::is_ascii_digit)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            digits.parse().ok()
        };
        let at = label.find("周岁")?;
        let n = number_before(at)?;
        let head = &label[..at];
        let tail = &label[at + "周岁".len()..];
        if head.contains("未满") || tail.starts_with("以下") {
            Some(Self::Under(n))
        } else if head.contains("已满") || head.contains("年满") || tail.starts_with("以上") {
            Some(Self::AtLeast(n))
        } else {
            None
        }
    }

    /// Whether `age` fits.
    pub fn admits(self, age: i16) -> bool {
        match self {
            Self::Under(n) => age < n,
            Self::AtLeast(n) => age >= n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::domain::IdNumber;

    fn renewal() -> Matter {
        crate::core::catalog::demo_matter("居民身份证换领")
    }

    fn person() -> Person {
        Person {
            name: "李喆".into(),
            id_number: IdNumber::parse("500105198511220024").unwrap(),
            address: "重庆市南岸区".into(),
        }
    }

    fn chosen(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| (*s).to_owned()).collect()
    }

    fn run(
        m: &Matter,
        chosen: &[String],
        person: Option<&Person>,
        expiry: Option<CardExpiry>,
        licences: &[String],
        brought: &[&str],
    ) -> Review {
        let brought = brought.iter().map(|s| (*s).to_owned()).collect();
        review(&Input {
            matter: m,
            chosen,
            person,
            expiry,
            licences,
            brought: &brought,
            today: jiff::civil::date(2026, 11, 27),
        })
    }

    #[test]
    fn a_material_not_brought_and_not_covered_by_an_e_licence_is_missing() {
        let m = renewal();
        let c = chosen(&["o_expiry", "o_minor_no", "o_pick_window"]);
        let p = person();
        let exp = Some(CardExpiry::On(jiff::civil::date(2035, 6, 1)));
        let r = run(&m, &c, Some(&p), exp, &["居民户口簿".into()], &[]);
        let missing: Vec<_> = r.missing().map(|c| c.text.clone()).collect();
        assert_eq!(
            missing,
            vec!["缺少材料：数码相片回执（原件1份）".to_owned()]
        );
        assert!(!r.can_accept());
        assert_eq!(
            r.missing_materials(&m)
                .iter()
                .map(|m| m.id.as_str())
                .collect::<Vec<_>>(),
            vec!["m_photo_receipt"]
        );
        assert!(r
            .checks
            .iter()
            .any(|c| c.text.contains("免提交") && c.text.contains("居民户口簿")));

        let r = run(
            &m,
            &c,
            Some(&p),
            exp,
            &["居民户口簿".into()],
            &["m_photo_receipt"],
        );
        assert!(r.can_accept(), "{:?}", r.checks);
        // Without the e-licence, the household register must be brought too.
        let r = run(&m, &c, Some(&p), exp, &[], &["m_photo_receipt"]);
        assert_eq!(r.missing_materials(&m)[0].id, "m_hukou");
    }

    #[test]
    fn an_expired_card_blocks_acceptance_and_an_unreadable_expiry_is_a_note() {
        let m = renewal();
        let c = chosen(&["o_expiry", "o_minor_no", "o_pick_window"]);
        let p = person();
        let all = ["m_hukou", "m_photo_receipt"];
        let expired = Some(CardExpiry::On(jiff::civil::date(2026, 11, 26)));
        let r = run(&m, &c, Some(&p), expired, &[], &all);
        assert!(!r.can_accept());
        assert!(r
            .missing()
            .any(|c| c.subject == Subject::IdCard && c.text.contains("2026-11-26")));
        let r = run(&m, &c, Some(&p), None, &[], &all);
        assert!(r.can_accept());
        assert!(r
            .checks
            .iter()
            .any(|c| c.subject == Subject::IdCard && c.status == Status::Note));
        let r = run(&m, &c, Some(&p), Some(CardExpiry::LongTerm), &[], &all);
        assert!(r.can_accept());
        let r = run(&m, &c, None, None, &[], &all);
        assert!(r.missing().any(|c| c.subject == Subject::IdCard));
    }

    #[test]
    fn the_situation_must_fit_the_applicants_age_and_be_answered() {
        let m = renewal();
        let p = person(); // 41 on the test day.
        let c = chosen(&["o_expiry", "o_minor_yes", "o_pick_window"]);
        let r = run(
            &m,
            &c,
            Some(&p),
            Some(CardExpiry::LongTerm),
            &[],
            &["m_hukou", "m_photo_receipt", "m_guardian_id"],
        );
        let age: Vec<_> = r.missing().filter(|c| c.subject == Subject::Age).collect();
        assert_eq!(age.len(), 1, "{:?}", r.checks);
        assert!(age[0].text.contains("未满16周岁") && age[0].text.contains("41"));

        let c = chosen(&["o_expiry"]);
        let r = run(
            &m,
            &c,
            Some(&p),
            Some(CardExpiry::LongTerm),
            &[],
            &["m_hukou", "m_photo_receipt"],
        );
        let unanswered: Vec<_> = r
            .missing()
            .filter(|c| matches!(c.subject, Subject::Question(_)))
            .collect();
        assert_eq!(unanswered.len(), 2);
    }

    #[test]
    fn matters_for_businesses_and_other_provinces_are_flagged() {
        let mut m = renewal();
        m.cross_region = Default::default();
        let c = chosen(&["o_expiry", "o_minor_no", "o_pick_window"]);
        let all = ["m_hukou", "m_photo_receipt"];
        let outsider = Person {
            id_number: IdNumber::complete("11010519850101002").unwrap(),
            ..person()
        };
        let outsider_review = |m: &Matter| {
            run(
                m,
                &c,
                Some(&outsider),
                Some(CardExpiry::LongTerm),
                &[],
                &all,
            )
        };
        let region = |r: &Review| {
            r.checks
                .iter()
                .find(|c| c.subject == Subject::Region)
                .unwrap()
                .status
        };
        let r = outsider_review(&m);
        assert_eq!(region(&r), Status::Note);
        assert!(r.can_accept(), "a note does not block");
        m.cross_region.trans_provincial = true;
        assert_eq!(region(&outsider_review(&m)), Status::Met);

        m.audiences = vec![crate::core::domain::Audience::LegalPerson];
        let r = run(
            &m,
            &c,
            Some(&person()),
            Some(CardExpiry::LongTerm),
            &[],
            &all,
        );
        assert!(r.missing().any(|c| c.subject == Subject::Audience));
    }

    #[test]
    fn age_rules_are_read_from_option_labels() {
        assert_eq!(AgeRule::parse("未满16周岁"), Some(AgeRule::Under(16)));
        assert_eq!(AgeRule::parse("已满16周岁"), Some(AgeRule::AtLeast(16)));
        assert_eq!(AgeRule::parse("60周岁以上"), Some(AgeRule::AtLeast(60)));
        assert_eq!(AgeRule::parse("有效期满"), None);
        assert!(AgeRule::Under(16).admits(15) && !AgeRule::Under(16).admits(16));
    }
}
