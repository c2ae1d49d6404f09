//! 一件事一次办 as one application: a bundle's member matters folded into one combined
//! matter — one set of situation questions, one set of materials (each asked once, however
//! many member matters need it), one form — and which members a citizen's answers include.
//!
//! The combined matter is what the kiosk guides and the case is filled against; the case
//! names every included member's task code and the bundle's code, and the platform routes the
//! parts to their departments. Pure: no IO.

use std::collections::HashMap;

use super::matter::{Bundle, Choice, FormField, Material, Matter, Necessity, Question};
use super::{Audience, Code};

/// A bundle ready to be applied for as one case.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleApplication {
    /// The bundle's code (the case's `bundle`).
    pub code: Code,
    /// Every member's questions, materials and fields folded into one matter; its task code
    /// is the bundle's.
    pub matter: Matter,
    /// Members always included: task code and name.
    pub base: Vec<(Code, String)>,
    /// Members an answer adds: the option id and the members it brings in.
    pub optional: Vec<(String, Vec<(Code, String)>)>,
}

/// Why a bundle cannot be applied for here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// A member matter is not in this terminal's catalogue.
    #[error("“{bundle}”包含的事项（{task_code}）不在本机事项目录中，请到窗口办理")]
    MissingMatter { bundle: String, task_code: String },
    /// The bundle has no member matter at all.
    #[error("“{0}”没有包含任何事项，请到窗口办理")]
    Empty(String),
}

impl BundleApplication {
    /// Folds `bundle`'s members (looked up by task code) into one matter.
    pub fn build<'a>(
        bundle: &Bundle,
        matter_of: impl Fn(&str) -> Option<&'a Matter>,
    ) -> Result<Self, BundleError> {
        let find = |c: &Code| {
            matter_of(c.as_str()).ok_or_else(|| BundleError::MissingMatter {
                bundle: bundle.name.clone(),
                task_code: c.to_string(),
            })
        };
        // Members in order, each once; an optional member remembers the options adding it.
        let mut members: Vec<(&Matter, Vec<String>)> = Vec::new();
        for c in &bundle.matters {
            let m = find(c)?;
            if !members.iter().any(|(x, _)| x.task_code == m.task_code) {
                members.push((m, Vec::new()));
            }
        }
        let base_count = members.len();
        let mut optional: Vec<(String, Vec<(Code, String)>)> = Vec::new();
        for q in &bundle.questions {
            for o in q.options.iter().filter(|o| !o.matters.is_empty()) {
                let mut added = Vec::new();
                for c in &o.matters {
                    let m = find(c)?;
                    added.push((m.task_code.clone(), m.name.clone()));
                    match members.iter_mut().find(|(x, _)| x.task_code == m.task_code) {
                        Some((_, when)) if !when.is_empty() => when.push(o.id.clone()),
                        // A base member stays unconditional.
                        Some(_) => {}
                        None => members.push((m, vec![o.id.clone()])),
                    }
                }
                optional.push((o.id.clone(), added));
            }
        }
        let Some(&(first, _)) = members.first() else {
            return Err(BundleError::Empty(bundle.name.clone()));
        };

        let mut questions: Vec<Question> = bundle.questions.clone();
        let mut materials: Vec<Material> = Vec::new();
        let mut fields: Vec<FormField> = Vec::new();
        for (i, (m, when)) in members.iter().enumerate() {
            let prefix = |id: &str| format!("{i}.{id}");
            // This member's material and field ids → the combined ids.
            let material_id = fold(&m.materials, &mut materials, &mut questions, i, when);
            let field_id = fold(&m.form_fields, &mut fields, &mut questions, i, when);
            for q in &m.questions {
                let mut q = q.clone();
                q.id = prefix(&q.id);
                q.asked_when = if q.asked_when.is_empty() {
                    when.clone()
                } else {
                    q.asked_when.iter().map(|o| prefix(o)).collect()
                };
                for c in &mut q.options {
                    c.id = prefix(&c.id);
                    for id in &mut c.materials {
                        *id = material_id.get(id).cloned().unwrap_or_default();
                    }
                    for id in &mut c.fields {
                        *id = field_id.get(id).cloned().unwrap_or_default();
                    }
                }
                questions.push(q);
            }
        }

        let base_members: Vec<&Matter> = members[..base_count].iter().map(|(m, _)| *m).collect();
        let mut departments: Vec<&str> = Vec::new();
        for (m, _) in &members {
            if !departments.contains(&m.department.as_str()) {
                departments.push(&m.department);
            }
        }
        let serves_people = base_members.iter().all(|m| m.serves_people());
        let mut matter = first.clone();
        matter.catalog_code = bundle.code.clone();
        matter.task_code = bundle.code.clone();
        matter.handle_item_code = bundle.code.clone();
        matter.local_codes = Vec::new();
        matter.name = bundle.name.clone();
        matter.aliases = Vec::new();
        matter.department = departments.join("、");
        matter.audiences = if serves_people {
            vec![Audience::NaturalPerson]
        } else {
            vec![Audience::LegalPerson]
        };
        matter.self_service = bundle.self_service;
        matter.questions = questions;
        matter.materials = materials;
        matter.form_fields = fields;
        Ok(Self {
            code: bundle.code.clone(),
            matter,
            base: base_members
                .iter()
                .map(|m| (m.task_code.clone(), m.name.clone()))
                .collect(),
            optional,
        })
    }

    /// The members the chosen option ids include, in order, each once.
    pub fn members_for(&self, chosen: &[String]) -> Vec<(Code, String)> {
        let mut out = self.base.clone();
        for (option, added) in &self.optional {
            if chosen.contains(option) {
                for m in added {
                    if !out.iter().any(|(c, _)| c == &m.0) {
                        out.push(m.clone());
                    }
                }
            }
        }
        out
    }
}

/// A material or a form field, as the fold sees it.
trait Entry: Clone {
    /// What makes two members' entries the same to a citizen.
    fn same_as(&self) -> String;
    fn id_mut(&mut self) -> &mut String;
    fn necessity_mut(&mut self) -> &mut Necessity;
    /// The option's list of entries of this kind.
    fn of_choice(c: &mut Choice) -> &mut Vec<String>;
}

impl Entry for Material {
    fn same_as(&self) -> String {
        self.name.clone()
    }
    fn id_mut(&mut self) -> &mut String {
        &mut self.id
    }
    fn necessity_mut(&mut self) -> &mut Necessity {
        &mut self.necessity
    }
    fn of_choice(c: &mut Choice) -> &mut Vec<String> {
        &mut c.materials
    }
}

impl Entry for FormField {
    fn same_as(&self) -> String {
        format!("{}\n{:?}", self.label, self.kind)
    }
    fn id_mut(&mut self) -> &mut String {
        &mut self.id
    }
    fn necessity_mut(&mut self) -> &mut Necessity {
        &mut self.necessity
    }
    fn of_choice(c: &mut Choice) -> &mut Vec<String> {
        &mut c.fields
    }
}

/// Folds member `member`'s entries into `all`: one a citizen would see as the same as an entry
/// already there is not added again (it becomes required when this member, always included,
/// requires it); others join with ids prefixed `<member>.`, conditional when the member comes
/// only with the options `when`, whose lists then name them. Returns the member's ids → the
/// combined ids.
fn fold<T: Entry>(
    entries: &[T],
    all: &mut Vec<T>,
    questions: &mut [Question],
    member: usize,
    when: &[String],
) -> HashMap<String, String> {
    let mut ids = HashMap::new();
    for e in entries {
        let mut copy = e.clone();
        let original = copy.id_mut().clone();
        let required = *copy.necessity_mut() == Necessity::Required;
        let key = e.same_as();
        let existing = all.iter_mut().find(|x| x.same_as() == key);
        let id = match existing {
            Some(x) => {
                if required && when.is_empty() {
                    *x.necessity_mut() = Necessity::Required;
                }
                x.id_mut().clone()
            }
            None => {
                let id = format!("{member}.{}", copy.id_mut());
                *copy.id_mut() = id.clone();
                if !when.is_empty() {
                    *copy.necessity_mut() = Necessity::Conditional;
                }
                all.push(copy);
                id
            }
        };
        if required && !when.is_empty() {
            add_to_options(questions, when, T::of_choice, &id);
        }
        ids.insert(original, id);
    }
    ids
}

/// Adds `id` to the list `list` picks out of every option in `options`.
fn add_to_options(
    questions: &mut [Question],
    options: &[String],
    list: impl Fn(&mut Choice) -> &mut Vec<String>,
    id: &str,
) {
    for c in questions
        .iter_mut()
        .flat_map(|q| q.options.iter_mut())
        .filter(|c| options.contains(&c.id))
    {
        let l = list(c);
        if !l.iter().any(|x| x == id) {
            l.push(id.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::catalog::Catalog;

    fn demo() -> Catalog {
        Catalog::demo().unwrap()
    }

    fn birth(c: &Catalog) -> BundleApplication {
        let b = c
            .bundles
            .iter()
            .find(|b| b.name == "新生儿出生一件事")
            .unwrap();
        BundleApplication::build(b, |t| c.matter(t)).unwrap()
    }

    #[test]
    fn every_member_material_is_asked_once() {
        let c = demo();
        let app = birth(&c);
        let names: Vec<&str> = app
            .matter
            .materials
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(names.len(), unique.len(), "{names:?}");
        // The members' shared materials (e.g. the parents' ID cards) appear once, and every
        // member's required material is in the combined checklist with nothing chosen.
        let required = app.matter.materials_for(&[]);
        for (code, _) in &app.base {
            let m = c.matter(code.as_str()).unwrap();
            for mat in m
                .materials
                .iter()
                .filter(|m| m.necessity == Necessity::Required)
            {
                assert!(
                    required.iter().any(|r| r.name == mat.name),
                    "{} of {} missing",
                    mat.name,
                    m.name
                );
            }
        }
        assert_eq!(app.matter.task_code, app.code);
        assert_eq!(app.matter.name, "新生儿出生一件事");
    }

    #[test]
    fn an_answer_adds_its_member_with_its_materials_and_questions() {
        let c = demo();
        let app = birth(&c);
        let ssc = app
            .optional
            .iter()
            .find(|(o, _)| o == "o_ssc_yes")
            .map(|(_, m)| m.clone())
            .unwrap();
        let ssc_matter = c.matter(ssc[0].0.as_str()).unwrap();
        let without = app.members_for(&["o_ssc_no".into()]);
        let with = app.members_for(&["o_ssc_yes".into()]);
        assert_eq!(without.len(), app.base.len());
        assert_eq!(with.len(), app.base.len() + 1);
        assert_eq!(with.last().unwrap().0, ssc_matter.task_code);
        // The added member's required materials come only with the answer.
        let only_with: Vec<&str> = ssc_matter
            .materials
            .iter()
            .filter(|m| m.necessity == Necessity::Required)
            .map(|m| m.name.as_str())
            .filter(|n| {
                !app.matter
                    .materials_for(&["o_ssc_no".into()])
                    .iter()
                    .any(|x| x.name == *n)
            })
            .collect();
        for n in &only_with {
            assert!(app
                .matter
                .materials_for(&["o_ssc_yes".into()])
                .iter()
                .any(|x| x.name == *n));
        }
        // Its own questions are asked only once the answer adds it.
        let asked = |chosen: &[String]| app.matter.applicable_questions(chosen).count();
        if !ssc_matter.questions.is_empty() {
            assert!(asked(&["o_ssc_yes".into()]) > asked(&["o_ssc_no".into()]));
        }
    }

    #[test]
    fn a_member_missing_from_the_catalogue_is_refused_in_words() {
        let mut c = demo();
        let b = c
            .bundles
            .iter()
            .find(|b| b.name == "退休一件事")
            .unwrap()
            .clone();
        let gone = b.matters[0].clone();
        c.matters.retain(|m| m.task_code != gone);
        let err = BundleApplication::build(&b, |t| c.matter(t)).unwrap_err();
        assert!(err.to_string().contains("不在本机事项目录中"), "{err}");
    }

    #[test]
    fn ids_in_the_combined_matter_fit_the_upload_path() {
        let c = demo();
        for b in &c.bundles {
            let app = BundleApplication::build(b, |t| c.matter(t)).unwrap();
            for m in &app.matter.materials {
                assert!(m.id.len() <= 64 && !m.id.contains('/'), "{}", m.id);
            }
            // Every reference points at something that exists.
            for q in &app.matter.questions {
                for o in &q.options {
                    for id in &o.materials {
                        assert!(app.matter.materials.iter().any(|m| &m.id == id), "{id}");
                    }
                    for id in &o.fields {
                        assert!(app.matter.form_fields.iter().any(|f| &f.id == id), "{id}");
                    }
                }
            }
        }
    }
}
