//! What the counter prints: the acceptance receipt (受理回执) with the case number, the
//! payment receipt (缴费凭证) once the fee is paid, the supplement list (补齐补正告知) of what is missing, and the rejection notice (不予受理告知).
//! Pure functions; the applicant appears masked, as on every receipt.

use jiff::Timestamp;
use ykb_drivers::escpos::receipt::{Receipt, ReceiptItem};

use crate::core::domain::{mask_name, Delivery, Material, Matter, Person};
use crate::core::payment::yuan;
use crate::core::platform::wire::PaymentOrder;
use crate::errand::CASE_QR_PREFIX;

use super::prereview::copies_text;

/// Where and by whom the case was handled.
#[derive(Debug, Clone, Copy)]
pub struct Desk<'a> {
    /// The terminal's name (the hall and window).
    pub terminal: &'a str,
    pub window: u16,
    pub staff: &'a str,
    pub ticket: Option<&'a str>,
}

fn head(matter: &Matter, person: Option<&Person>, desk: &Desk<'_>) -> Vec<ReceiptItem> {
    let row = |label: &str, value: String| ReceiptItem::Row {
        label: label.into(),
        value,
    };
    let mut items = vec![
        row("事项", matter.name.clone()),
        row("部门", matter.department.clone()),
    ];
    if let Some(p) = person {
        items.push(row("申请人", mask_name(&p.name)));
        items.push(row("身份证号", p.id_number.masked()));
    }
    items.push(row("受理窗口", format!("{} 号窗口", desk.window)));
    items.push(row("工作人员", desk.staff.to_owned()));
    if let Some(t) = desk.ticket {
        items.push(row("号码", t.to_owned()));
    }
    items
}

fn time_row(now: Timestamp) -> ReceiptItem {
    ReceiptItem::Row {
        label: "时间".into(),
        value: now
            .to_zoned(crate::core::ticketing::hall_tz())
            .strftime("%Y-%m-%d %H:%M")
            .to_string(),
    }
}

/// 受理回执: the case is accepted; the number to quote and a QR code for progress queries.
pub fn acceptance(
    matter: &Matter,
    person: &Person,
    delivery: Option<&Delivery>,
    desk: &Desk<'_>,
    case_id: &str,
    case_number: &str,
    now: Timestamp,
) -> Receipt {
    let mut items = head(matter, Some(person), desk);
    items.push(ReceiptItem::Row {
        label: "受理编号".into(),
        value: case_number.to_owned(),
    });
    items.push(ReceiptItem::Row {
        label: "承诺时限".into(),
        value: matter.promised_time_limit.display_zh(),
    });
    if let Some(d) = delivery {
        items.push(ReceiptItem::Row {
            label: "取件方式".into(),
            value: match d {
                Delivery::Window => "窗口领取".into(),
                Delivery::Post { address, .. } => {
                    format!(
                        "邮寄到家（{}）",
                        crate::core::privacy::mask_address(address)
                    )
                }
            },
        });
    }
    items.push(ReceiptItem::Separator);
    items.push(ReceiptItem::Text(
        "您的申请已受理，材料齐全。请凭本回执查询办理进度。".into(),
    ));
    items.push(ReceiptItem::Qr {
        data: format!("{CASE_QR_PREFIX}{case_id}"),
        caption: Some("扫码或在“办件进度查询”输入编号查进度".into()),
    });
    items.push(time_row(now));
    Receipt {
        title: "渝快办 受理回执".into(),
        items,
        footer: vec![desk.terminal.to_owned(), "请妥善保管本回执".into()],
    }
}

/// 缴费凭证: the accepted case's fee is paid — the items, the amount, the payee, the
/// 支付流水号 and the QR of the 财政电子票据.
pub fn payment(
    matter: &Matter,
    person: &Person,
    desk: &Desk<'_>,
    unified_code: &str,
    order: &PaymentOrder,
    now: Timestamp,
) -> Receipt {
    let mut items = head(matter, Some(person), desk);
    items.push(ReceiptItem::Row {
        label: "受理编号".into(),
        value: unified_code.to_owned(),
    });
    items.push(ReceiptItem::Separator);
    for i in &order.items {
        items.push(ReceiptItem::Row {
            label: i.name.clone(),
            value: format!("{} 元", yuan(i.amount_fen)),
        });
    }
    items.push(ReceiptItem::Row {
        label: "缴费".into(),
        value: format!("已缴费 {} 元", yuan(order.amount_fen)),
    });
    items.push(ReceiptItem::Row {
        label: "收款单位".into(),
        value: order.payee.clone(),
    });
    items.push(ReceiptItem::Row {
        label: "支付流水号".into(),
        value: order.payment_no.clone().unwrap_or_default(),
    });
    if let Some(url) = &order.fiscal_receipt_url {
        items.push(ReceiptItem::Qr {
            data: url.clone(),
            caption: Some("扫码查看财政电子票据".into()),
        });
    }
    items.push(time_row(now));
    Receipt {
        title: "渝快办 缴费凭证".into(),
        items,
        footer: vec![desk.terminal.to_owned(), "请妥善保管本凭证".into()],
    }
}

/// 补齐补正告知: everything still missing, once, so the citizen comes back only once.
pub fn supplement(
    matter: &Matter,
    person: Option<&Person>,
    desk: &Desk<'_>,
    missing: &[&Material],
    other: &[String],
    now: Timestamp,
) -> Receipt {
    let mut items = head(matter, person, desk);
    items.push(ReceiptItem::Separator);
    items.push(ReceiptItem::Text(
        "经预审，您的申请材料尚需补齐补正。请一次性准备以下材料后再来办理：".into(),
    ));
    let mut n = 0;
    for m in missing {
        n += 1;
        let copies = copies_text(m);
        items.push(ReceiptItem::Text(if copies.is_empty() {
            format!("{n}. {}", m.name)
        } else {
            format!("{n}. {}（{copies}）", m.name)
        }));
    }
    for o in other {
        n += 1;
        items.push(ReceiptItem::Text(format!("{n}. {o}")));
    }
    items.push(ReceiptItem::Separator);
    items.push(ReceiptItem::Text(format!(
        "办理地点：{}；咨询电话：{}",
        matter.local.address, matter.local.phone
    )));
    items.push(time_row(now));
    Receipt {
        title: "渝快办 补齐补正告知".into(),
        items,
        footer: vec![desk.terminal.to_owned()],
    }
}

/// 不予受理告知, with the reason the clerk gave.
pub fn rejection(
    matter: &Matter,
    person: Option<&Person>,
    desk: &Desk<'_>,
    reason: &str,
    now: Timestamp,
) -> Receipt {
    let mut items = head(matter, person, desk);
    items.push(ReceiptItem::Separator);
    items.push(ReceiptItem::Text(format!("不予受理。理由：{reason}")));
    items.push(ReceiptItem::Text(format!(
        "如有异议，可咨询或投诉：{}",
        matter.contacts.complaint
    )));
    items.push(time_row(now));
    Receipt {
        title: "渝快办 不予受理告知".into(),
        items,
        footer: vec![desk.terminal.to_owned()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::catalog::Catalog;
    use crate::core::domain::IdNumber;

    #[test]
    fn the_supplement_list_names_each_missing_material_and_masks_the_applicant() {
        let m = Catalog::demo()
            .unwrap()
            .matters
            .into_iter()
            .find(|m| m.name == "居民身份证换领")
            .unwrap();
        let p = Person {
            name: "李喆".into(),
            id_number: IdNumber::parse("500105198511220024").unwrap(),
            address: String::new(),
        };
        let desk = Desk {
            terminal: "综合窗口 03",
            window: 3,
            staff: "S0001",
            ticket: Some("A001"),
        };
        let missing: Vec<&Material> = m
            .materials
            .iter()
            .filter(|x| x.id == "m_photo_receipt")
            .collect();
        let r = supplement(&m, Some(&p), &desk, &missing, &[], Timestamp::UNIX_EPOCH);
        let text = serde_json::to_string(&r).unwrap();
        assert!(text.contains("1. 数码相片回执"), "{text}");
        assert!(text.contains("李*") && !text.contains("李喆"));
        assert!(!text.contains("198511"));
        let a = acceptance(
            &m,
            &p,
            None,
            &desk,
            "c1",
            "500000202611270001",
            Timestamp::UNIX_EPOCH,
        );
        let text = serde_json::to_string(&a).unwrap();
        assert!(text.contains("500000202611270001") && text.contains("ykb:case:c1"));
        assert!(
            !text.contains("取件方式"),
            "no delivery for a matter never posted"
        );
        let post = Delivery::Post {
            address: "重庆市江北区观音桥步行街8号".into(),
            phone: "13800000000".into(),
        };
        let a = acceptance(&m, &p, Some(&post), &desk, "c1", "1", Timestamp::UNIX_EPOCH);
        let text = serde_json::to_string(&a).unwrap();
        assert!(
            text.contains("取件方式") && text.contains("邮寄到家（重庆市江北区****）"),
            "{text}"
        );
        assert!(
            !text.contains("观音桥") && !text.contains("13800000000"),
            "{text}"
        );
        let a = acceptance(
            &m,
            &p,
            Some(&Delivery::Window),
            &desk,
            "c1",
            "1",
            Timestamp::UNIX_EPOCH,
        );
        assert!(serde_json::to_string(&a).unwrap().contains("窗口领取"));
    }
}
