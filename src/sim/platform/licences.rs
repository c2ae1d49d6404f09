//! E-licences the simulator says a citizen holds (a deterministic set from the ID number),
//! their displays for printed copies, and 渝快码 tokens.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::{error, JsonBody, Shared};
use crate::core::domain::Person;
use crate::core::platform::wire;
/// `POST /admin/ykm/tokens`: issue a 渝快码 token for a person.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// Whom the token identifies.
    pub person: Person,
    /// Lifetime in seconds.
    pub ttl_secs: i64,
}

/// Licence types the simulator may hold for a person, chosen by bits of the ID number's hash.
const LICENCE_TYPES: &[&str] = &[
    "居民户口簿",
    "结婚证",
    "机动车驾驶证",
    "不动产权证书",
    "社会保障卡",
    "居住证",
    "营业执照",
    "出生医学证明",
    "残疾人证",
];

/// Every licence type the simulator knows besides the ID card (some of which any one person
/// lacks).
pub fn platform_licence_types() -> &'static [&'static str] {
    LICENCE_TYPES
}

/// The e-licences the simulator says a person holds: always the ID card, then a
/// deterministic subset chosen from the ID number.
pub fn licences_for(id_number: &str) -> Vec<wire::Licence> {
    let h = wire::sha256_hex(id_number.as_bytes());
    let bits = u64::from_str_radix(&h[..16], 16).unwrap_or(0);
    let tail = &id_number[id_number.len().saturating_sub(4)..];
    std::iter::once("居民身份证")
        .chain(
            LICENCE_TYPES
                .iter()
                .enumerate()
                .filter(|(i, _)| bits >> i & 1 == 1)
                .map(|(_, t)| *t),
        )
        .map(|t| wire::Licence {
            licence_type: t.to_owned(),
            number_masked: format!("****{tail}"),
        })
        .collect()
}

pub(super) async fn licences(JsonBody(q): JsonBody<wire::LicenceQuery>) -> Response {
    if crate::core::domain::IdNumber::parse(&q.id_number).is_err() {
        return error(StatusCode::BAD_REQUEST, "bad_id_number", "身份证号码无效");
    }
    Json(wire::LicenceList {
        licences: licences_for(&q.id_number),
    })
    .into_response()
}

/// Holders the simulator knows by name: the demo ID card's fictional citizen
/// (`drivers/tests/data/resident-li-zhe.toml`).
const DEMO_HOLDERS: &[(&str, &str)] = &[("500105198511220024", "李喆")];

/// How long a printed copy's verification code verifies it.
const VERIFICATION_DAYS: i64 = 30;

/// The display of one e-licence the simulator says `id_number` holds, or `None` when the
/// person holds no licence of that type. Identifiers are masked as the platform's policy
/// requires (name: first character; numbers: the last four); the verification code is
/// derived from the holder, the type and the day, so the same copy asked twice in a day gets
/// the same code.
pub fn licence_document_for(
    id_number: &str,
    licence_type: &str,
    now: i64,
) -> Option<wire::LicenceDocument> {
    let held = licences_for(id_number)
        .into_iter()
        .find(|l| l.licence_type == licence_type)?;
    let h = wire::sha256_hex(format!("{id_number}|{licence_type}").as_bytes());
    let pick = |n: usize, k: usize| usize::from_str_radix(&h[n..n + 2], 16).unwrap_or(0) % k;
    let birth_year: i32 = id_number
        .get(6..10)
        .and_then(|y| y.parse().ok())
        .unwrap_or(1980);
    let issued_year = (birth_year + 18 + pick(0, 20) as i32).min(2025);
    let issued_on = format!(
        "{issued_year}-{:02}-{:02}",
        pick(2, 12) + 1,
        pick(4, 28) + 1
    );
    let valid_until = match licence_type {
        "居民身份证" => format!("{}-{}", issued_year + 20, &issued_on[5..]),
        "机动车驾驶证" => format!("{}-{}", issued_year + 10, &issued_on[5..]),
        "居住证" => format!("{}-{}", issued_year + 1, &issued_on[5..]),
        _ => "长期".to_owned(),
    };
    let region = id_number.get(..6).unwrap_or("500000");
    let (issuer, fields): (&str, Vec<(&str, String)>) = match licence_type {
        "居民身份证" => ("重庆市公安局", vec![]),
        "居民户口簿" => (
            "重庆市公安局户政管理部门",
            vec![
                ("户别", "家庭户".into()),
                ("与户主关系", "户主".into()),
                ("户籍地", format!("重庆市（行政区划 {region}）")),
            ],
        ),
        "结婚证" => ("重庆市婚姻登记机关", vec![("登记类别", "结婚登记".into())]),
        "机动车驾驶证" => (
            "重庆市公安局交通管理局",
            vec![("准驾车型", ["C1", "C2", "B2"][pick(6, 3)].into())],
        ),
        "不动产权证书" => (
            "重庆市规划和自然资源局",
            vec![
                ("权利类型", "国有建设用地使用权/房屋所有权".into()),
                ("用途", "城镇住宅用地/住宅".into()),
            ],
        ),
        "社会保障卡" => (
            "重庆市人力资源和社会保障局",
            vec![("卡类型", "第三代社会保障卡".into())],
        ),
        "居住证" => ("重庆市公安局", vec![("居住地", "重庆市".into())]),
        "营业执照" => (
            "重庆市市场监督管理局",
            vec![("类型", "个体工商户".into()), ("经营者", "本人".into())],
        ),
        "出生医学证明" => ("重庆市卫生健康委员会", vec![]),
        "残疾人证" => ("重庆市残疾人联合会", vec![]),
        _ => ("重庆市政务服务管理办公室", vec![]),
    };
    let code_hash = wire::sha256_hex(
        format!(
            "verify|{id_number}|{licence_type}|{}",
            now.div_euclid(86_400)
        )
        .as_bytes(),
    )
    .to_uppercase();
    let code = format!(
        "{}-{}-{}-{}",
        &code_hash[0..4],
        &code_hash[4..8],
        &code_hash[8..12],
        &code_hash[12..16]
    );
    // The platform knows every holder's name; the simulator knows the demo card's fictional
    // citizen and gives anyone else a surname.
    let name = DEMO_HOLDERS
        .iter()
        .find(|(id, _)| *id == id_number)
        .map_or_else(
            || ["王", "张", "刘", "陈", "杨", "黄", "赵", "周"][pick(8, 8)].to_owned() + "某",
            |(_, n)| (*n).to_owned(),
        );
    Some(wire::LicenceDocument {
        licence_type: licence_type.to_owned(),
        holder_name_masked: crate::core::domain::mask_name(&name),
        number_masked: held.number_masked,
        issuer: issuer.to_owned(),
        issued_on,
        valid_until,
        fields: fields
            .into_iter()
            .map(|(label, value)| wire::LicenceField {
                label: label.to_owned(),
                value,
            })
            .collect(),
        verification_url: format!("https://zwykb.cq.gov.cn/yzzz/verify?code={code}"),
        verification_code: code,
        verification_expires_at: jiff::Timestamp::from_second(now + VERIFICATION_DAYS * 86_400)
            .map(|t| t.to_string())
            .unwrap_or_default(),
    })
}

/// The platform knows every holder's name; the simulator knows the demo card's fictional
/// citizen and gives anyone else a surname (chosen from the ID number).
pub(super) fn holder_name(id_number: &str) -> String {
    let h = wire::sha256_hex(id_number.as_bytes());
    let pick = usize::from_str_radix(&h[8..10], 16).unwrap_or(0) % 8;
    DEMO_HOLDERS
        .iter()
        .find(|(id, _)| *id == id_number)
        .map_or_else(
            || ["王", "张", "刘", "陈", "杨", "黄", "赵", "周"][pick].to_owned() + "某",
            |(_, n)| (*n).to_owned(),
        )
}

pub(super) async fn licence_document(
    State(s): State<Arc<Shared>>,
    JsonBody(q): JsonBody<wire::LicenceDocumentRequest>,
) -> Response {
    if crate::core::domain::IdNumber::parse(&q.id_number).is_err() {
        return error(StatusCode::BAD_REQUEST, "bad_id_number", "身份证号码无效");
    }
    let known = q.licence_type == "居民身份证" || LICENCE_TYPES.contains(&q.licence_type.as_str());
    if !known {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_licence_type",
            "没有这种电子证照类型",
        );
    }
    match licence_document_for(&q.id_number, &q.licence_type, s.now()) {
        Some(doc) => Json(doc).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "licence_not_held",
            "没有找到您的这项电子证照",
        ),
    }
}

pub(super) fn issue_token(s: &Shared, person: Person, ttl_secs: i64) -> String {
    let mut raw = [0u8; 16];
    let _ = getrandom::fill(&mut raw);
    let token = format!("YKM{}", hex::encode(raw));
    let expires = s.now() + ttl_secs;
    s.lock().ykm.insert(token.clone(), (person, expires));
    token
}

pub(super) async fn ykm_verify(
    State(s): State<Arc<Shared>>,
    JsonBody(q): JsonBody<wire::YkmVerifyRequest>,
) -> Response {
    let now = s.now();
    let g = s.lock();
    match g.ykm.get(&q.token) {
        Some((_, exp)) if *exp < now => error(
            StatusCode::GONE,
            "ykm_expired",
            "渝快码已过期，请在手机上刷新后重新扫码",
        ),
        Some((person, exp)) => Json(wire::YkmIdentity {
            person: person.clone(),
            expires_at: jiff::Timestamp::from_second(*exp)
                .map(|t| t.to_string())
                .unwrap_or_default(),
        })
        .into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "ykm_invalid",
            "渝快码无效，请在手机上刷新后重新扫码",
        ),
    }
}
