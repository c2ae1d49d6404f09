//! The matter catalogue as a document: parsing and integrity checks.
//!
//! A catalogue is accepted whole or not at all. A broken entry is reported with the
//! matter's task code and the field path, so whoever maintains the data can fix it.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::domain::{Bundle, Code, FieldKind, Matter, Necessity, RegionCode};

/// The demo catalogue bundled into the binary.
pub const DEMO_CATALOG: &str = include_str!("../../assets/catalog/demo-catalog.json");

/// 事项目录 — a whole published catalogue for one region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// Monotonic catalogue version.
    pub version: u64,
    /// The district whose non-unified elements this catalogue carries.
    pub region_code: RegionCode,
    /// RFC 3339 publication time.
    pub published_at: String,
    pub matters: Vec<Matter>,
    #[serde(default)]
    pub bundles: Vec<Bundle>,
}

/// Why a catalogue was refused.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("事项目录不是有效的 JSON（第{line}行第{column}列）：{message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("事项目录头部字段 {path} 有误：{message}")]
    Header { path: String, message: String },
    #[error("事项 {code} 的字段 {path} 有误：{message}")]
    Matter {
        code: String,
        path: String,
        message: String,
    },
    #[error("事项 {code}：{message}")]
    Integrity { code: String, message: String },
}

/// Header plus raw entries, so each entry can be decoded (and blamed) on its own.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    version: u64,
    region_code: serde_json::Value,
    published_at: String,
    matters: Vec<serde_json::Value>,
    #[serde(default)]
    bundles: Vec<serde_json::Value>,
}

impl Catalog {
    /// Parses and checks a catalogue document.
    pub fn from_json(text: &str) -> Result<Self, CatalogError> {
        let raw: RawCatalog = {
            let de = &mut serde_json::Deserializer::from_str(text);
            serde_path_to_error::deserialize(de).map_err(|e| {
                let inner = e.inner();
                if inner.is_syntax() || inner.is_eof() {
                    CatalogError::Syntax {
                        line: inner.line(),
                        column: inner.column(),
                        message: inner.to_string(),
                    }
                } else {
                    CatalogError::Header {
                        path: e.path().to_string(),
                        message: inner.to_string(),
                    }
                }
            })?
        };
        let region_code: RegionCode =
            serde_json::from_value(raw.region_code).map_err(|e| CatalogError::Header {
                path: "region_code".into(),
                message: e.to_string(),
            })?;
        let matters = raw
            .matters
            .into_iter()
            .enumerate()
            .map(|(i, v)| decode_entry::<Matter>(v, "task_code", &format!("matters[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let bundles = raw
            .bundles
            .into_iter()
            .enumerate()
            .map(|(i, v)| decode_entry::<Bundle>(v, "code", &format!("bundles[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let catalog = Catalog {
            version: raw.version,
            region_code,
            published_at: raw.published_at,
            matters,
            bundles,
        };
        catalog.check()?;
        Ok(catalog)
    }

    /// The bundled demo catalogue.
    pub fn demo() -> Result<Self, CatalogError> {
        Self::from_json(DEMO_CATALOG)
    }

    /// Looks a matter up by its task code.
    pub fn matter(&self, task_code: &str) -> Option<&Matter> {
        self.matters
            .iter()
            .find(|m| m.task_code.as_str() == task_code)
    }

    /// Every department name, in first-seen order.
    pub fn departments(&self) -> Vec<&str> {
        let mut seen = Vec::new();
        for m in &self.matters {
            if !seen.contains(&m.department.as_str()) {
                seen.push(m.department.as_str());
            }
        }
        seen
    }

    /// Cross-entry checks: unique codes, references that resolve, sane limits. Sync runs
    /// them on every downloaded snapshot before it touches the store.
    pub fn check(&self) -> Result<(), CatalogError> {
        let mut task_codes = HashSet::new();
        for m in &self.matters {
            if !task_codes.insert(m.task_code.as_str()) {
                return Err(integrity(&m.task_code, "实施编码重复"));
            }
            check_matter(m)?;
        }
        let mut bundle_codes = HashSet::new();
        for b in &self.bundles {
            if !bundle_codes.insert(b.code.as_str()) {
                return Err(integrity(&b.code, "一件事编码重复"));
            }
            let named = b.matters.iter().chain(
                b.questions
                    .iter()
                    .flat_map(|q| q.options.iter())
                    .flat_map(|o| o.matters.iter()),
            );
            for code in named {
                if !task_codes.contains(code.as_str()) {
                    return Err(integrity(&b.code, &format!("引用了不存在的事项 {code}")));
                }
            }
            check_questions(&b.code, &b.questions)?;
        }
        Ok(())
    }
}

fn integrity(code: &Code, message: &str) -> CatalogError {
    CatalogError::Integrity {
        code: code.to_string(),
        message: message.to_owned(),
    }
}

fn decode_entry<T: serde::de::DeserializeOwned>(
    v: serde_json::Value,
    key: &str,
    position: &str,
) -> Result<T, CatalogError> {
    let code = v
        .get(key)
        .and_then(|c| c.as_str())
        .map_or_else(|| position.to_owned(), str::to_owned);
    serde_path_to_error::deserialize(v).map_err(|e| CatalogError::Matter {
        code,
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })
}

/// The checks one matter must pass on its own (a delta's upserts are checked with it).
pub fn check_matter(m: &Matter) -> Result<(), CatalogError> {
    let fail = |msg: String| Err(integrity(&m.task_code, &msg));
    if m.name.trim().is_empty() {
        return fail("名称为空".into());
    }
    if m.audiences.is_empty() {
        return fail("服务对象为空".into());
    }
    if m.handling_forms.is_empty() {
        return fail("办理形式为空".into());
    }
    if m.materials.is_empty() {
        return fail("没有申请材料".into());
    }
    if m.legal_time_limit.unit == m.promised_time_limit.unit
        && m.promised_time_limit.value > m.legal_time_limit.value
    {
        return fail("承诺时限超过法定时限".into());
    }
    let self_service_form = m
        .handling_forms
        .contains(&super::domain::HandlingForm::SelfService);
    if self_service_form != m.self_service {
        return fail("办理形式与“是否支持自助终端办理”不一致".into());
    }
    let material_ids = unique_ids(
        &m.task_code,
        "材料",
        m.materials.iter().map(|x| x.id.as_str()),
    )?;
    let field_ids = unique_ids(
        &m.task_code,
        "表单字段",
        m.form_fields.iter().map(|x| x.id.as_str()),
    )?;
    check_questions(&m.task_code, &m.questions)?;
    let mut referenced_m = HashSet::new();
    let mut referenced_f = HashSet::new();
    for o in m.questions.iter().flat_map(|q| &q.options) {
        for id in &o.materials {
            if !material_ids.contains(id.as_str()) {
                return fail(format!("情形选项 {} 引用了不存在的材料 {id}", o.id));
            }
            referenced_m.insert(id.as_str());
        }
        for id in &o.fields {
            if !field_ids.contains(id.as_str()) {
                return fail(format!("情形选项 {} 引用了不存在的表单字段 {id}", o.id));
            }
            referenced_f.insert(id.as_str());
        }
        if !o.matters.is_empty() {
            return fail(format!("情形选项 {} 只能在一件事中引用事项", o.id));
        }
    }
    for mat in &m.materials {
        if mat.name.trim().is_empty() {
            return fail(format!("材料 {} 名称为空", mat.id));
        }
        if mat.necessity == Necessity::Conditional && !referenced_m.contains(mat.id.as_str()) {
            return fail(format!("条件材料 {} 没有被任何情形选项引用", mat.id));
        }
    }
    for f in &m.form_fields {
        if f.label.trim().is_empty() {
            return fail(format!("表单字段 {} 名称为空", f.id));
        }
        let select = f.kind == FieldKind::Select;
        if select && f.options.is_empty() {
            return fail(format!("选择字段 {} 没有选项", f.id));
        }
        if !select && !f.options.is_empty() {
            return fail(format!("字段 {} 不是选择字段，却有选项", f.id));
        }
        if f.kind != FieldKind::Number && (f.min.is_some() || f.max.is_some()) {
            return fail(format!("字段 {} 不是数字字段，却有取值范围", f.id));
        }
        if f.kind != FieldKind::Text && f.max_len.is_some() {
            return fail(format!("字段 {} 不是文本字段，却有长度限制", f.id));
        }
        if f.necessity == Necessity::Conditional && !referenced_f.contains(f.id.as_str()) {
            return fail(format!("条件字段 {} 没有被任何情形选项引用", f.id));
        }
    }
    Ok(())
}

/// The checks one bundle's questions must pass (its matter references are checked by the
/// caller against the catalogue they will live in).
pub fn check_bundle_questions(b: &Bundle) -> Result<(), CatalogError> {
    check_questions(&b.code, &b.questions)
}

fn unique_ids<'a>(
    owner: &Code,
    what: &str,
    ids: impl Iterator<Item = &'a str>,
) -> Result<HashSet<&'a str>, CatalogError> {
    let mut set = HashSet::new();
    for id in ids {
        if id.trim().is_empty() {
            return Err(integrity(owner, &format!("{what}编号为空")));
        }
        if !set.insert(id) {
            return Err(integrity(owner, &format!("{what}编号 {id} 重复")));
        }
    }
    Ok(set)
}

fn check_questions(
    owner: &Code,
    questions: &[super::domain::Question],
) -> Result<(), CatalogError> {
    let mut question_ids = HashSet::new();
    let mut earlier_options: HashSet<&str> = HashSet::new();
    for q in questions {
        if !question_ids.insert(q.id.as_str()) {
            return Err(integrity(owner, &format!("情形问题编号 {} 重复", q.id)));
        }
        if q.options.is_empty() {
            return Err(integrity(owner, &format!("情形问题 {} 没有选项", q.id)));
        }
        for dep in &q.asked_when {
            if !earlier_options.contains(dep.as_str()) {
                return Err(integrity(
                    owner,
                    &format!("情形问题 {} 依赖的选项 {dep} 不在它之前的问题中", q.id),
                ));
            }
        }
        for o in &q.options {
            if !earlier_options.insert(o.id.as_str()) {
                return Err(integrity(owner, &format!("情形选项编号 {} 重复", o.id)));
            }
        }
    }
    Ok(())
}

/// A matter of the bundled demo catalogue by name (unit tests).
#[cfg(test)]
pub(crate) fn demo_matter(name: &str) -> crate::core::domain::Matter {
    Catalog::demo()
        .expect("the demo catalogue parses")
        .matters
        .into_iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no demo matter {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../tests/data/example-matter.json");

    fn doc_with(matter: &str) -> String {
        format!(
            r#"{{"version": 3, "region_code": "500103", "published_at": "2026-11-01T00:00:00+08:00",
                "matters": [{matter}], "bundles": []}}"#
        )
    }

    #[test]
    fn example_matter_loads_and_resolves_situations() {
        let c = Catalog::from_json(&doc_with(EXAMPLE)).unwrap();
        let m = &c.matters[0];
        let base: Vec<_> = m.materials_for(&[]).iter().map(|x| x.id.as_str()).collect();
        assert_eq!(base, ["m_hukou", "m_photo_receipt"]);
        let chosen = vec!["reason_damaged".to_owned(), "delivery_post".to_owned()];
        let with: Vec<_> = m
            .materials_for(&chosen)
            .iter()
            .map(|x| x.id.as_str())
            .collect();
        assert_eq!(with, ["m_hukou", "m_photo_receipt", "m_old_card"]);
        let fields: Vec<_> = m
            .fields_for(&chosen)
            .iter()
            .map(|x| x.id.as_str())
            .collect();
        assert_eq!(fields, ["f_name", "f_id", "f_phone", "f_post_address"]);
    }

    #[test]
    fn broken_field_names_the_matter_and_the_path() {
        let broken = EXAMPLE.replace(r#""unit": "working_day""#, r#""unit": "fortnight""#);
        let err = Catalog::from_json(&doc_with(&broken)).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("11500103MB1234567X4000101001000"), "{msg}");
        assert!(msg.contains("promised_time_limit.unit"), "{msg}");
    }

    #[test]
    fn unknown_field_is_refused_with_its_name() {
        let broken = EXAMPLE.replacen(
            r#""name": "居民身份证换领""#,
            r#""name": "居民身份证换领", "nmae": "x""#,
            1,
        );
        let msg = Catalog::from_json(&doc_with(&broken))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("nmae"), "{msg}");
    }

    #[test]
    fn dangling_material_reference_is_refused() {
        let broken = EXAMPLE.replace(
            r#""materials": ["m_old_card"]"#,
            r#""materials": ["m_nowhere"]"#,
        );
        let msg = Catalog::from_json(&doc_with(&broken))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("m_nowhere"), "{msg}");
    }

    #[test]
    fn duplicate_task_codes_are_refused() {
        let doc = format!(
            r#"{{"version": 1, "region_code": "500103", "published_at": "x", "matters": [{EXAMPLE}, {EXAMPLE}]}}"#
        );
        let msg = Catalog::from_json(&doc).unwrap_err().to_string();
        assert!(msg.contains("重复"), "{msg}");
    }

    #[test]
    fn truncated_document_is_a_syntax_error_not_a_panic() {
        let doc = doc_with(EXAMPLE);
        for cut in [1, 10, doc.len() / 2, doc.len() - 1] {
            assert!(matches!(
                Catalog::from_json(&doc[..doc.char_indices().nth(cut).map_or(0, |p| p.0)]),
                Err(CatalogError::Syntax { .. })
            ));
        }
    }

    #[test]
    fn over_long_code_is_refused() {
        let broken = EXAMPLE.replace("000101001000", &"9".repeat(51));
        let msg = Catalog::from_json(&doc_with(&broken))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("catalog_code"), "{msg}");
    }
}
