//! 证照打印 — the printed copy of an e-licence (电子证照打印件): what the platform's masked
//! display of the licence says, the verification code (核验码) as text and QR code, and
//! plain words that the paper is for checking only and the e-licence is what counts. Pure
//! functions: the 80 mm receipt ([`licence_receipt`], printed through
//! [`crate::terminal::printer::ReceiptPrinter`] like any receipt) and, when the terminal has
//! an A4 document printer, the A4 page ([`licence_a4`], printed through CUPS).

use jiff::Timestamp;
use ykb_drivers::escpos::{Receipt, ReceiptItem};

use crate::core::platform::wire::LicenceDocument;
use crate::core::privacy::mask_long_numbers;

/// The wording every printed copy carries.
pub const FOR_CHECKING_ONLY: &str = "本打印件仅供核验使用，以电子证照为准";

/// The copy's lines, as the citizen checks them on screen and as they are printed: holder,
/// number, issuer, dates, then the licence's own fields; any run of 11 or more digits the
/// platform might have left is masked again.
pub fn copy_lines(doc: &LicenceDocument) -> Vec<(String, String)> {
    let mut lines: Vec<(String, String)> = [
        ("持证人", &doc.holder_name_masked),
        ("证照号码", &doc.number_masked),
        ("发证机关", &doc.issuer),
        ("发证日期", &doc.issued_on),
        ("有效期至", &doc.valid_until),
    ]
    .into_iter()
    .map(|(l, v)| (l.to_owned(), v.clone()))
    .collect();
    lines.extend(
        doc.fields
            .iter()
            .map(|f| (f.label.clone(), f.value.clone())),
    );
    lines
        .into_iter()
        .map(|(l, v)| (l, mask_long_numbers(&v)))
        .collect()
}

/// The printed copy. `terminal` names the kiosk and `terminal_id` is its id on the platform
/// (so a copy can be traced to where it was printed). Whatever the platform sent, a run of
/// 11 or more digits (an ID or phone number) never reaches the paper unmasked.
pub fn licence_receipt(
    doc: &LicenceDocument,
    terminal: &str,
    terminal_id: &str,
    now: Timestamp,
) -> Receipt {
    let row = |label: &str, value: &str| ReceiptItem::Row {
        label: label.to_owned(),
        value: mask_long_numbers(value),
    };
    let mut items = vec![row("证照名称", &doc.licence_type)];
    items.extend(
        copy_lines(doc)
            .into_iter()
            .map(|(label, value)| ReceiptItem::Row { label, value }),
    );
    items.push(ReceiptItem::Separator);
    items.push(ReceiptItem::Text(FOR_CHECKING_ONLY.into()));
    items.push(ReceiptItem::Row {
        label: "核验码".into(),
        value: doc.verification_code.clone(),
    });
    items.push(ReceiptItem::Qr {
        data: doc.verification_url.clone(),
        caption: Some("扫码或在渝快办输入核验码，核对本打印件".into()),
    });
    let hall = |t: Timestamp| {
        t.to_zoned(crate::core::ticketing::hall_tz())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    };
    if let Ok(until) = doc.verification_expires_at.parse::<Timestamp>() {
        items.push(ReceiptItem::Row {
            label: "核验有效期至".into(),
            value: hall(until),
        });
    }
    items.push(ReceiptItem::Separator);
    items.push(row("打印时间", &hall(now)));
    items.push(row("打印终端", terminal_id));
    Receipt {
        title: "电子证照打印件".into(),
        items,
        footer: vec![terminal.to_owned(), FOR_CHECKING_ONLY.into()],
    }
}

/// The printed copy on A4, for a terminal with a document printer: the same lines as the
/// receipt, the 核验码 as text and QR code, the same masking.
pub fn licence_a4(
    doc: &LicenceDocument,
    terminal: &str,
    terminal_id: &str,
    now: Timestamp,
) -> ykb_drivers::cups::pdf::A4Document {
    use ykb_drivers::cups::pdf::{A4Document, Block};
    let receipt = licence_receipt(doc, terminal, terminal_id, now);
    let blocks = receipt
        .items
        .into_iter()
        .filter_map(|item| match item {
            ReceiptItem::Row { label, value } => Some(Block::Row { label, value }),
            ReceiptItem::Separator => Some(Block::Separator),
            ReceiptItem::Qr { data, caption } => Some(Block::Qr { data, caption }),
            ReceiptItem::Text(t) => Some(Block::Text(t)),
            ReceiptItem::Blank => None,
        })
        .collect();
    A4Document {
        title: format!("{}（电子证照打印件）", doc.licence_type),
        blocks,
        footer: format!("{terminal} · {FOR_CHECKING_ONLY}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::platform::wire::LicenceField;

    fn doc() -> LicenceDocument {
        LicenceDocument {
            licence_type: "居民户口簿".into(),
            holder_name_masked: "李*".into(),
            number_masked: "****0024".into(),
            issuer: "重庆市公安局户政管理部门".into(),
            issued_on: "2010-03-05".into(),
            valid_until: "长期".into(),
            fields: vec![
                LicenceField {
                    label: "户别".into(),
                    value: "家庭户".into(),
                },
                // A platform that forgot to mask: the terminal masks anyway.
                LicenceField {
                    label: "公民身份号码".into(),
                    value: "500105198511220024".into(),
                },
            ],
            verification_code: "3F2A-91C0-7D4E-B815".into(),
            verification_url: "https://zwykb.cq.gov.cn/yzzz/verify?code=3F2A-91C0-7D4E-B815".into(),
            verification_expires_at: "2026-12-27T04:00:00Z".into(),
        }
    }

    #[test]
    fn the_copy_shows_the_masked_licence_the_code_as_qr_and_says_it_is_for_checking() {
        let now: Timestamp = "2026-11-27T04:00:00Z".parse().unwrap();
        let r = licence_receipt(&doc(), "渝中区政务服务中心", "dev-42", now);
        assert_eq!(r.title, "电子证照打印件");
        let row = |label: &str| {
            r.items.iter().find_map(|i| match i {
                ReceiptItem::Row { label: l, value } if l == label => Some(value.clone()),
                _ => None,
            })
        };
        assert_eq!(row("证照名称").as_deref(), Some("居民户口簿"));
        assert_eq!(row("持证人").as_deref(), Some("李*"));
        assert_eq!(row("证照号码").as_deref(), Some("****0024"));
        assert_eq!(row("核验码").as_deref(), Some("3F2A-91C0-7D4E-B815"));
        assert_eq!(row("打印时间").as_deref(), Some("2026-11-27 12:00"));
        assert_eq!(row("核验有效期至").as_deref(), Some("2026-12-27 12:00"));
        assert_eq!(row("打印终端").as_deref(), Some("dev-42"));
        assert_eq!(row("公民身份号码").as_deref(), Some("500***********0024"));
        let qr = r.items.iter().find_map(|i| match i {
            ReceiptItem::Qr { data, .. } => Some(data.clone()),
            _ => None,
        });
        assert!(qr.unwrap().ends_with("3F2A-91C0-7D4E-B815"));
        assert!(r
            .items
            .contains(&ReceiptItem::Text(FOR_CHECKING_ONLY.into())));
        let all = format!("{r:?}");
        assert!(!all.contains("500105198511220024"), "{all}");
    }

    #[test]
    fn the_a4_copy_carries_the_same_masked_lines_and_the_code_as_qr() {
        use ykb_drivers::cups::pdf::Block;
        let now: Timestamp = "2026-11-27T04:00:00Z".parse().unwrap();
        let a4 = licence_a4(&doc(), "渝中区政务服务中心", "dev-42", now);
        assert_eq!(a4.title, "居民户口簿（电子证照打印件）");
        assert!(a4.blocks.contains(&Block::Row {
            label: "持证人".into(),
            value: "李*".into()
        }));
        assert!(a4
            .blocks
            .iter()
            .any(|b| matches!(b, Block::Qr { data, .. } if data.ends_with("3F2A-91C0-7D4E-B815"))));
        let all = format!("{a4:?}");
        assert!(!all.contains("500105198511220024"), "{all}");
        let pdf = ykb_drivers::cups::pdf::render(&a4, crate::fonts::UI_FONT).unwrap();
        assert!(ykb_drivers::cups::pdf::looks_like_pdf(&pdf));
    }

    #[test]
    fn only_long_digit_runs_are_masked() {
        assert_eq!(mask_long_numbers("2010-03-05"), "2010-03-05");
        assert_eq!(mask_long_numbers("13800000000"), "138****0000");
        assert_eq!(
            mask_long_numbers("号码 50010519851122002X 止"),
            "号码 500***********002X 止"
        );
        assert_eq!(mask_long_numbers("C1"), "C1");
    }
}
