//! 证明开具: the certificates the simulator issues (社会保险参保证明 on two pages,
//! 无犯罪记录证明, 不动产登记信息查询结果) as real A4 PDFs — the holder masked, a QR 核验码 —
//! signed with the platform's Ed25519 key, and the answer to a 核验码. Faults make it send a
//! signature that fails, something that is not a PDF, or a PDF over the terminal's cap.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde::{Deserialize, Serialize};
use ykb_drivers::cups::pdf::{self, A4Document, Block};

use super::{error, JsonBody, QueryArgs, Shared};
use crate::core::platform::wire;

/// A certificate the simulator can issue: its matter's 实施编码 and its name.
pub const CERTIFICATES: &[(&str, &str)] = &[
    ("11500000MB1C79861X4000201001000", "社会保险参保证明"),
    ("11500000MB1C79861X4000301001000", "无犯罪记录证明"),
    ("11500000MB1C79861X4000401001000", "不动产登记信息查询结果"),
];

/// What the simulator sends instead of a good certificate (fault `certificate`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertificateFault {
    /// A good, signed PDF.
    #[default]
    None,
    /// The PDF with a signature that does not verify.
    BadSignature,
    /// Signed bytes that are not a PDF.
    NotPdf,
    /// A signed PDF larger than the terminal's cap.
    Oversize,
}

/// A 核验码 the simulator issued, as `GET /v1/certificates/verify` answers it.
#[derive(Debug, Clone)]
pub(super) struct Issued {
    pub(super) check: wire::CertificateCheck,
}

/// `GET /v1/certificates`: which certificates this platform issues at terminals.
pub(super) async fn certificate_types() -> Response {
    Json(wire::CertificateTypes {
        certificates: CERTIFICATES
            .iter()
            .map(|(code, title)| wire::CertificateType {
                task_code: (*code).to_owned(),
                title: (*title).to_owned(),
            })
            .collect(),
    })
    .into_response()
}

/// The certificate's body, laid out for A4 (two pages for 社会保险参保证明).
fn document(
    title: &str,
    name: &str,
    id_masked: &str,
    code: &str,
    url: &str,
    day: &str,
) -> A4Document {
    let mut blocks = vec![
        Block::Row {
            label: "姓名".into(),
            value: name.into(),
        },
        Block::Row {
            label: "公民身份号码".into(),
            value: id_masked.into(),
        },
        Block::Separator,
    ];
    match title {
        "社会保险参保证明" => {
            blocks.push(Block::Text(format!(
                "兹证明 {name} 在重庆市参加社会保险，截至 {day} 参保缴费情况如下。"
            )));
            for (kind, since) in [
                ("企业职工基本养老保险", "2008-07"),
                ("职工基本医疗保险", "2008-07"),
                ("失业保险", "2008-07"),
                ("工伤保险", "2010-01"),
            ] {
                blocks.push(Block::Row {
                    label: kind.into(),
                    value: format!("参保缴费，起始 {since}，状态：正常参保"),
                });
            }
            blocks.push(Block::Heading("近二十四个月缴费明细".into()));
            for m in 0..24 {
                if m == 12 {
                    blocks.push(Block::PageBreak);
                    blocks.push(Block::Heading("近二十四个月缴费明细（续）".into()));
                }
                let (y, mo) = (2024 + (10 + m) / 12, (10 + m) % 12 + 1);
                blocks.push(Block::Row {
                    label: format!("{y}-{mo:02}"),
                    value: "养老 已缴 · 医疗 已缴 · 失业 已缴 · 工伤 已缴".into(),
                });
            }
        }
        "无犯罪记录证明" => blocks.push(Block::Text(format!(
            "经查询全国违法犯罪人员信息资源库，截至 {day}，未发现 {name}（公民身份号码 {id_masked}）有犯罪记录。"
        ))),
        _ => {
            blocks.push(Block::Text(format!(
                "经查询重庆市不动产登记信息系统，截至 {day}，{name} 名下不动产登记信息如下。"
            )));
            for (l, v) in [
                ("不动产权证号", "渝（2019）渝中区不动产权第 00****** 号"),
                ("坐落", "渝中区解放碑街道民族路 ** 号 * 单元"),
                ("权利类型", "国有建设用地使用权/房屋所有权"),
                ("用途", "城镇住宅用地/住宅"),
                ("抵押登记", "无"),
                ("查封登记", "无"),
            ] {
                blocks.push(Block::Row {
                    label: l.into(),
                    value: v.into(),
                });
            }
        }
    }
    blocks.push(Block::Separator);
    blocks.push(Block::Row {
        label: "核验码".into(),
        value: code.into(),
    });
    blocks.push(Block::Qr {
        data: url.into(),
        caption: Some("扫码或在渝快办输入核验码，核验本证明真伪".into()),
    });
    blocks.push(Block::Text(
        "本证明由重庆市政务服务平台电子开具，加盖电子印章，与纸质证明具有同等效力。".into(),
    ));
    blocks.push(Block::Row {
        label: "开具日期".into(),
        value: day.into(),
    });
    A4Document {
        title: title.to_owned(),
        blocks,
        footer: format!("{title} · 核验码 {code}"),
    }
}

pub(super) async fn issue(
    State(s): State<Arc<Shared>>,
    JsonBody(q): JsonBody<wire::CertificateRequest>,
) -> Response {
    if crate::core::domain::IdNumber::parse(&q.id_number).is_err() {
        return error(StatusCode::BAD_REQUEST, "bad_id_number", "身份证号码无效");
    }
    let Some((_, title)) = CERTIFICATES.iter().find(|(c, _)| *c == q.task_code) else {
        return error(
            StatusCode::NOT_FOUND,
            "certificate_unknown",
            "本平台不在自助终端开具这项证明",
        );
    };
    let now = s.now();
    let h = wire::sha256_hex(format!("cert|{}|{}|{now}", q.id_number, q.task_code).as_bytes())
        .to_uppercase();
    let code = format!("{}-{}-{}-{}", &h[0..4], &h[4..8], &h[8..12], &h[12..16]);
    let url = format!("https://zwykb.cq.gov.cn/zmhy/verify?code={code}");
    let name = crate::core::domain::mask_name(&super::licences::holder_name(&q.id_number));
    let id_masked = crate::core::privacy::mask_long_numbers(&q.id_number);
    let day = jiff::Timestamp::from_second(now)
        .map(|t| {
            t.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
                .strftime("%Y年%m月%d日")
                .to_string()
        })
        .unwrap_or_default();
    let doc = document(title, &name, &id_masked, &code, &url, &day);
    let mut bytes = match pdf::render(&doc, crate::fonts::UI_FONT) {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "pdf_failed",
                e.to_string(),
            )
        }
    };
    let pages = pdf::page_count(&bytes).unwrap_or(1) as u32;
    let fault = s.faults().certificate;
    match fault {
        CertificateFault::NotPdf => bytes = b"<html>not a certificate</html>".to_vec(),
        CertificateFault::Oversize => {
            // Padding after %%EOF keeps it a PDF; only its size is wrong.
            bytes.resize(wire::MAX_CERTIFICATE_PDF_BYTES + 1024, b' ');
            bytes.extend_from_slice(b"\n%%EOF\n");
        }
        _ => {}
    }
    let mut signature = wire::sign_catalog(&s.key, &bytes);
    if fault == CertificateFault::BadSignature {
        // Sign other bytes: a valid-looking signature that does not verify.
        signature = wire::sign_catalog(&s.key, b"another document");
    }
    s.lock().certificates.insert(
        code.clone(),
        Issued {
            check: wire::CertificateCheck {
                valid: true,
                title: (*title).to_owned(),
                holder_name_masked: name,
                issued_at: jiff::Timestamp::from_second(now)
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
            },
        },
    );
    Json(wire::CertificateDocument {
        title: (*title).to_owned(),
        pdf_base64: base64::engine::general_purpose::STANDARD.encode(&bytes),
        signature,
        verification_code: code,
        verification_url: url,
        pages,
    })
    .into_response()
}

/// `?code=` of `GET /v1/certificates/verify`.
#[derive(Debug, Deserialize)]
pub(super) struct VerifyQuery {
    code: String,
}

pub(super) async fn verify(
    State(s): State<Arc<Shared>>,
    QueryArgs(q): QueryArgs<VerifyQuery>,
) -> Response {
    let found = s
        .lock()
        .certificates
        .get(q.code.trim())
        .map(|i| i.check.clone());
    Json(found.unwrap_or(wire::CertificateCheck {
        valid: false,
        title: String::new(),
        holder_name_masked: String::new(),
        issued_at: String::new(),
    }))
    .into_response()
}
