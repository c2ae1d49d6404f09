//! The printed ticket (取号凭条, issue 7): what a citizen takes from the hall kiosk after
//! 取号. A pure function of the issued ticket; printing goes through
//! [`crate::terminal::printer::ReceiptPrinter`] like any receipt.

use ykb_drivers::escpos::{Receipt, ReceiptItem};

use crate::core::ticketing::{IssuedTicket, TicketKind};

/// The ticket receipt: the number big (the receipt's title is printed large), the service,
/// the people waiting before it, the day, and a QR code with the ticket's QR text so a
/// window or the check-in scanner can read it back (`TicketRef::parse`).
pub fn ticket_receipt(ticket: &IssuedTicket, hall: &str) -> Receipt {
    let mut items = vec![
        ReceiptItem::Row {
            label: "业务".into(),
            value: ticket.service_name.clone(),
        },
        ReceiptItem::Row {
            label: "前面等候".into(),
            // Issued offline, the queue before it is not known here.
            value: if ticket.offline {
                "以叫号屏为准".into()
            } else {
                format!("{} 人", ticket.waiting_before)
            },
        },
        ReceiptItem::Row {
            label: "日期".into(),
            value: ticket.date.to_string(),
        },
    ];
    let channel = match ticket.kind {
        TicketKind::WalkIn => None,
        TicketKind::Green => Some("绿色通道"),
        TicketKind::Appointment => Some("预约签到"),
    };
    if let Some(c) = channel {
        items.push(ReceiptItem::Row {
            label: "类别".into(),
            value: c.into(),
        });
    }
    items.push(ReceiptItem::Separator);
    items.push(ReceiptItem::Qr {
        data: ticket.qr.clone(),
        caption: Some("请留意叫号，过号请到服务台".into()),
    });
    Receipt {
        title: ticket.number.clone(),
        items,
        footer: vec![hall.to_owned(), "当日有效".into()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ticketing::{qr_payload, TicketNumber, TicketRef};

    fn ticket(kind: TicketKind) -> IssuedTicket {
        let date: jiff::civil::Date = "2026-11-27".parse().unwrap();
        let number = TicketNumber {
            prefix: 'A',
            number: 7,
        };
        IssuedTicket {
            id: uuid::Uuid::now_v7(),
            number: number.to_string(),
            service: "A".into(),
            service_name: "综合受理".into(),
            date,
            kind,
            waiting_before: 12,
            offline: false,
            qr: qr_payload(date, number),
            issued_at: jiff::Timestamp::now(),
        }
    }

    #[test]
    fn the_ticket_shows_number_service_waiting_and_a_qr_that_reads_back() {
        let t = ticket(TicketKind::WalkIn);
        let r = ticket_receipt(&t, "渝中区政务服务中心");
        assert_eq!(r.title, "A007");
        let row = |label: &str| {
            r.items.iter().find_map(|i| match i {
                ReceiptItem::Row { label: l, value } if l == label => Some(value.clone()),
                _ => None,
            })
        };
        assert_eq!(row("业务").as_deref(), Some("综合受理"));
        assert_eq!(row("前面等候").as_deref(), Some("12 人"));
        assert_eq!(row("类别"), None, "walk-ins carry no channel");
        let qr = r
            .items
            .iter()
            .find_map(|i| match i {
                ReceiptItem::Qr { data, .. } => Some(data.clone()),
                _ => None,
            })
            .expect("a QR code");
        let back = TicketRef::parse(&qr).unwrap();
        assert_eq!(back.date, Some(t.date));
        assert_eq!(back.number.to_string(), "A007");
        assert_eq!(r.footer[0], "渝中区政务服务中心");
    }

    #[test]
    fn a_green_channel_ticket_says_so_without_the_reason() {
        let r = ticket_receipt(&ticket(TicketKind::Green), "大厅");
        let text = format!("{r:?}");
        assert!(text.contains("绿色通道"));
        assert!(!text.contains("残疾") && !text.contains("孕"));
    }
}
