//! 回执 — the paper the kiosk prints for a stored case: the matter, the applicant (masked),
//! the number to quote, what to bring and a QR code for progress queries. A pure function of
//! the session; printing goes through the terminal's receipt printer.

use jiff::Timestamp;
use ykb_drivers::escpos::receipt::{Receipt, ReceiptItem};

use super::session::{Session, SubmitResult};
use crate::core::domain::mask_name;
use crate::errand::case::CASE_QR_PREFIX;

/// The receipt for a stored case: the matter, the applicant (masked), the number to quote,
/// what to bring, and a QR code for progress queries. `None` when nothing was stored.
pub fn case_receipt(session: &Session, terminal: &str, now: Timestamp) -> Option<Receipt> {
    let matter = session.matter()?;
    let person = session.person()?;
    let result = session.submit_result()?;
    let case_id = result.case_id()?;
    let mut items = vec![
        ReceiptItem::Row {
            label: "事项".into(),
            value: matter.name.clone(),
        },
        ReceiptItem::Row {
            label: "部门".into(),
            value: matter.department.clone(),
        },
    ];
    if let Some(b) = session.bundle() {
        let names = b
            .members_for(&session.chosen())
            .into_iter()
            .map(|(_, name)| name)
            .collect::<Vec<_>>();
        items.push(ReceiptItem::Row {
            label: "一次办好".into(),
            value: format!("{} 个事项：{}", names.len(), names.join("、")),
        });
    }
    items.extend([
        ReceiptItem::Row {
            label: "申请人".into(),
            value: mask_name(&person.name),
        },
        ReceiptItem::Row {
            label: "身份证号".into(),
            value: person.id_number.masked(),
        },
    ]);
    // 帮办代办: the agent is named too, masked, with how they stand to the applicant.
    if let Some(agent) = session.agent() {
        items.extend([
            ReceiptItem::Row {
                label: "代办人".into(),
                value: format!(
                    "{}（{}）",
                    mask_name(&agent.person.name),
                    agent.relationship.name_zh()
                ),
            },
            ReceiptItem::Row {
                label: "代办人证件".into(),
                value: agent.person.id_number.masked(),
            },
        ]);
    }
    if let Some(delivery) = session.delivery() {
        items.push(ReceiptItem::Row {
            label: "取件方式".into(),
            value: match delivery {
                crate::core::domain::Delivery::Window => "窗口领取".into(),
                crate::core::domain::Delivery::Post { address, .. } => format!(
                    "邮寄到家（{}）",
                    crate::core::privacy::mask_address(&address)
                ),
            },
        });
    }
    match result {
        SubmitResult::Submitted {
            unified_code,
            local_number,
            ..
        } => {
            items.push(ReceiptItem::Row {
                label: "状态".into(),
                value: "已提交".into(),
            });
            items.push(ReceiptItem::Row {
                label: "办件编号".into(),
                value: unified_code.clone(),
            });
            items.push(ReceiptItem::Row {
                label: "本机编号".into(),
                value: local_number.clone(),
            });
        }
        SubmitResult::Queued { local_number, .. } => {
            items.push(ReceiptItem::Row {
                label: "状态".into(),
                value: "已暂存，网络恢复后自动提交".into(),
            });
            items.push(ReceiptItem::Row {
                label: "本机编号".into(),
                value: local_number.clone(),
            });
        }
        SubmitResult::Failed { .. } => return None,
    }
    let fees = session.fee_items();
    if !fees.is_empty() {
        let amount = crate::core::payment::yuan(crate::core::payment::total_fen(&fees));
        match session.paid_order() {
            Some(order) => {
                items.push(ReceiptItem::Row {
                    label: "缴费".into(),
                    value: format!("已缴费 {amount} 元"),
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
            }
            None => items.push(ReceiptItem::Row {
                label: "缴费".into(),
                value: format!("待缴费 {amount} 元，可在渝快办App缴费"),
            }),
        }
    }
    let bring = session.to_bring();
    // The images were handed to the outbox; what was photographed is known from the case.
    items.push(ReceiptItem::Separator);
    if bring.is_empty() {
        items.push(ReceiptItem::Text("无需再带材料到窗口。".into()));
    } else {
        items.push(ReceiptItem::Text("请带以下材料到窗口：".into()));
        for (i, b) in bring.iter().enumerate() {
            items.push(ReceiptItem::Text(format!("{}. {b}", i + 1)));
        }
    }
    items.push(ReceiptItem::Separator);
    items.push(ReceiptItem::Qr {
        data: format!("{CASE_QR_PREFIX}{case_id}"),
        caption: Some("扫码或在“办件进度查询”输入编号查进度".into()),
    });
    items.push(ReceiptItem::Row {
        label: "时间".into(),
        value: now
            .to_zoned(crate::core::ticketing::hall_tz())
            .strftime("%Y-%m-%d %H:%M")
            .to_string(),
    });
    Some(Receipt {
        title: "渝快办 办件回执".into(),
        items,
        footer: vec![terminal.to_owned(), "请妥善保管本回执".into()],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::domain::MaterialOutcome;
    use crate::core::domain::{IdNumber, Person};
    use crate::errand::case::new_case;
    use crate::kiosk::session::{Event, Screen};
    use std::time::{Duration, Instant};

    fn session_at_review() -> Session {
        let t = Instant::now();
        let mut s = Session::new(Duration::from_secs(60), t);
        let m = crate::core::catalog::demo_matter("居民身份证换领");
        s.handle(
            Event::CardRead(Person {
                name: "李哲".into(),
                id_number: IdNumber::complete("50010319800101123").unwrap(),
                address: "重庆市渝中区解放碑街道1号".into(),
            }),
            t,
        );
        s.handle(Event::Licences(vec!["居民户口簿".into()]), t);
        s.handle(Event::ChooseMatter(Box::new(m)), t);
        for a in ["o_damaged", "o_minor_no", "o_pick_window"] {
            s.handle(Event::Answer(vec![a.into()]), t);
        }
        s.handle(Event::StartApply, t);
        s.handle(Event::FormNext, t);
        assert_eq!(s.current(), &Screen::Capture);
        s
    }

    #[test]
    fn the_case_records_how_each_material_was_met() {
        let t = Instant::now();
        let mut s = session_at_review();
        s.handle(Event::Shoot, t);
        s.handle(
            Event::Captured {
                material: "m_photo_receipt".into(),
                jpeg: vec![0xff, 0xd8, 0xff],
            },
            t,
        );
        let case = new_case(&s.errand().unwrap(), 7);
        assert_eq!(case.catalog_version, 7);
        assert_eq!(case.images.len(), 1);
        let outcome = |id: &str| {
            case.materials
                .iter()
                .find(|m| m.material_id == id)
                .map(|m| m.outcome.clone())
        };
        assert_eq!(
            outcome("m_hukou"),
            Some(MaterialOutcome::Exempt {
                licence: "居民户口簿".into()
            })
        );
        assert_eq!(
            outcome("m_photo_receipt"),
            Some(MaterialOutcome::Captured {
                blob: "m_photo_receipt".into()
            })
        );
        assert_eq!(outcome("m_old_card"), Some(MaterialOutcome::BringToWindow));
        assert_eq!(case.answers["q_reason"], vec!["o_damaged".to_owned()]);
        assert_eq!(case.form["f_name"], "李哲");
    }

    #[test]
    fn the_receipt_masks_the_applicant_and_lists_what_to_bring() {
        let t = Instant::now();
        let mut s = session_at_review();
        assert!(
            case_receipt(&s, "T", Timestamp::now()).is_none(),
            "nothing stored yet"
        );
        s.handle(Event::CaptureDone, t);
        s.sign_for_test(t);
        s.handle(Event::Submit, t);
        s.handle(Event::stored("0190-abc", "12", None), t);
        let r = case_receipt(&s, "渝中区 24小时自助区", Timestamp::now()).unwrap();
        let text = serde_json::to_string(&r).unwrap();
        assert!(text.contains("李*"), "{text}");
        assert!(!text.contains("李哲"));
        assert!(
            !text.contains("5001031980"),
            "the ID number is masked: {text}"
        );
        assert!(text.contains("已暂存"));
        // Not photographed and the damaged card: both go to the window.
        assert!(text.contains("数码相片回执"), "{text}");
        assert!(text.contains("原居民身份证"));
        assert!(!text.contains("居民户口簿"), "exempt by e-licence");
        assert!(r.items.contains(&ReceiptItem::Qr {
            data: "ykb:case:0190-abc".into(),
            caption: Some("扫码或在“办件进度查询”输入编号查进度".into()),
        }));

        // Photographed here: not on the list, though the photo itself has left the session.
        let mut s = session_at_review();
        s.handle(Event::Shoot, t);
        s.handle(
            Event::Captured {
                material: "m_photo_receipt".into(),
                jpeg: vec![0xff, 0xd8],
            },
            t,
        );
        s.handle(Event::CaptureDone, t);
        s.sign_for_test(t);
        s.handle(Event::Submit, t);
        s.handle(Event::stored("c2", "13", None), t);
        let text =
            serde_json::to_string(&case_receipt(&s, "T", Timestamp::now()).unwrap()).unwrap();
        assert!(!text.contains("数码相片回执"), "{text}");
        assert!(text.contains("原居民身份证"));
    }

    /// 缴费: unpaid, the receipt says so; paid, it carries the 支付流水号 and the QR of the
    /// 财政电子票据.
    #[test]
    fn the_receipt_says_the_fee_is_due_until_paid_then_carries_the_payment() {
        use crate::core::platform::wire::{PaymentOrder, PaymentState};
        let t = Instant::now();
        let mut s = session_at_review();
        s.handle(Event::CaptureDone, t);
        s.sign_for_test(t);
        s.handle(Event::Submit, t);
        s.handle(Event::stored("c3", "14", None), t);
        s.handle(
            Event::Delivered {
                case_id: "c3".into(),
                unified_code: "U-3".into(),
            },
            t,
        );
        let text =
            serde_json::to_string(&case_receipt(&s, "T", Timestamp::now()).unwrap()).unwrap();
        assert!(text.contains("待缴费 20.00 元"), "{text}");
        s.handle(Event::OpenPayment, t);
        let items = s.fee_items();
        s.handle(
            Event::PaymentOrdered(Ok(Box::new(PaymentOrder {
                order_id: "PO1".into(),
                case_code: "U-3".into(),
                amount_fen: 2000,
                items,
                payee: "收款单位".into(),
                qr_url: "https://h/pay/PO1".into(),
                expires_at: "2099-01-01T00:00:00Z".into(),
                state: PaymentState::Paid,
                payment_no: Some("ZF20261202ABC".into()),
                fiscal_receipt_url: Some("https://pjcy.example/e?code=9".into()),
            }))),
            t,
        );
        let r = case_receipt(&s, "T", Timestamp::now()).unwrap();
        let text = serde_json::to_string(&r).unwrap();
        assert!(
            text.contains("已缴费 20.00 元") && text.contains("ZF20261202ABC"),
            "{text}"
        );
        assert!(!text.contains("待缴费"));
        assert!(r.items.contains(&ReceiptItem::Qr {
            data: "https://pjcy.example/e?code=9".into(),
            caption: Some("扫码查看财政电子票据".into()),
        }));
    }

    /// 新生儿出生一件事 at the kiosk: one case for every member the answers include, each
    /// shared material once, and a receipt that names what was applied for.
    #[test]
    fn a_bundle_becomes_one_case_naming_its_members() {
        use crate::core::domain::BundleApplication;
        let t = Instant::now();
        let catalog = crate::core::catalog::Catalog::demo().unwrap();
        let b = catalog
            .bundles
            .iter()
            .find(|b| b.name == "新生儿出生一件事")
            .unwrap();
        let app = BundleApplication::build(b, |c| catalog.matter(c)).unwrap();
        let mut s = Session::new(Duration::from_secs(60), t);
        s.handle(
            Event::CardRead(Person {
                name: "李哲".into(),
                id_number: IdNumber::complete("50010319800101123").unwrap(),
                address: "重庆市渝中区解放碑街道1号".into(),
            }),
            t,
        );
        s.handle(Event::ChooseBundle(Box::new(app.clone())), t);
        // Answer every question: a social-security card too, otherwise the first option.
        let mut asked = 0;
        while let Screen::Guide { question } = *s.current() {
            let q = s.question(question).unwrap();
            let pick = if q.options.iter().any(|o| o.id == "o_ssc_yes") {
                "o_ssc_yes".to_owned()
            } else {
                q.options[0].id.clone()
            };
            s.handle(Event::Answer(vec![pick]), t);
            asked += 1;
            assert!(asked < 40, "the guide ends");
        }
        assert_eq!(s.current(), &Screen::Checklist);
        let case = new_case(&s.errand().unwrap(), 3);
        assert_eq!(case.bundle.as_ref(), Some(&b.code));
        let expected: Vec<_> = app
            .members_for(&s.chosen())
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        assert_eq!(case.matters, expected);
        // The first options take in 生育津贴 (and skip nothing); the card was asked for too.
        let card = catalog
            .matters
            .iter()
            .find(|m| m.name == "社会保障卡申领（首次）")
            .unwrap();
        assert!(case.matters.contains(&card.task_code), "{:?}", case.matters);
        assert!(case.matters.len() > b.matters.len() + 1);
        let mut ids: Vec<_> = case.materials.iter().map(|m| &m.material_id).collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n, "each material once");

        s.handle(Event::StartApply, t);
        let chosen = s.chosen();
        let to_fill: Vec<_> = s
            .matter()
            .unwrap()
            .fields_for(&chosen)
            .into_iter()
            .filter(|f| f.prefill.is_none())
            .cloned()
            .collect();
        for f in to_fill {
            use crate::core::domain::FieldKind;
            let value = match f.kind {
                FieldKind::Text => "测试".to_owned(),
                FieldKind::Number => f.min.unwrap_or(1).to_string(),
                FieldKind::Date => "2026-11-01".to_owned(),
                FieldKind::Phone => "13800000000".to_owned(),
                FieldKind::IdNumber => IdNumber::complete("11010519491231002")
                    .unwrap()
                    .expose()
                    .to_owned(),
                FieldKind::Select => f.options[0].clone(),
            };
            s.handle(Event::FieldInput { field: f.id, value }, t);
        }
        s.handle(Event::FormNext, t);
        assert!(s.form_errors().is_empty(), "{:?}", s.form_errors());
        while s.current() == &Screen::Capture {
            s.handle(Event::CaptureDone, t);
        }
        s.handle(Event::Submit, t);
        s.handle(Event::stored("c9", "21", None), t);
        let text =
            serde_json::to_string(&case_receipt(&s, "T", Timestamp::now()).unwrap()).unwrap();
        assert!(text.contains("新生儿出生一件事"), "{text}");
        assert!(text.contains("社会保障卡"), "{text}");
    }
}
