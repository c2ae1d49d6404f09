//! 公共支付 — paying a submitted case's fee by an on-screen QR. The platform holds the
//! orders and their state; the terminal asks for one order per case and fee set (the
//! idempotency key is derived from both, so a retry can never make a second order), checks
//! what comes back before a QR is shown, and follows the order until it leaves `pending`.
//! Nothing of the payer's account ever reaches the terminal: it sees the order's state, the
//! 支付流水号 and the 财政电子票据's QR.
//!
//! Pure apart from [`follow`], which long-polls through the [`PlatformClient`].

use std::time::Duration;

use uuid::Uuid;

use crate::core::domain::Matter;
use crate::core::platform::client::PlatformClient;
use crate::core::platform::wire::{self, PaymentItem, PaymentOrder, PaymentState};
use crate::core::platform::PlatformError;

/// Why an order from the platform is not shown. Each is said to the citizen as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The order is for another case.
    #[error("平台返回的缴费订单不属于本办件，已停止缴费，请到窗口咨询")]
    WrongCase,
    /// The order's items or total differ from the catalogue's fee.
    #[error(
        "平台返回的缴费金额（{got} 元）与收费标准（{expected} 元）不符，已停止缴费，请到窗口咨询"
    )]
    WrongAmount { expected: String, got: String },
    /// The QR payload is not an https URL of the configured platform.
    #[error("平台返回的支付二维码地址不可信，本机不予显示，请稍后在渝快办App缴费")]
    UntrustedQr,
}

/// `fen` as yuan with two decimals (`2000` → `20.00`): money is never a float.
pub fn yuan(fen: u64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// The fee items of `matters` for the `chosen` answers (a matter's own fees and those an
/// answer adds, such as 邮寄费) as a payment order names them, in a stable order.
pub fn fee_items<'a>(
    matters: impl IntoIterator<Item = &'a Matter>,
    chosen: &[String],
) -> Vec<PaymentItem> {
    let mut items: Vec<PaymentItem> = matters
        .into_iter()
        .flat_map(|m| m.fees_for(chosen))
        .map(|f| PaymentItem {
            name: f.name.clone(),
            amount_fen: f.amount_fen,
        })
        .collect();
    items.sort();
    items
}

/// Total of `items` in fen.
pub fn total_fen(items: &[PaymentItem]) -> u64 {
    items.iter().map(|i| i.amount_fen).sum()
}

/// The idempotency key of the order for `case_code` and `items`; `attempt` counts orders
/// asked for after an earlier one expired or was cancelled (0 first). The same inputs give
/// the same key on any terminal, at any time.
pub fn order_key(case_code: &str, items: &[PaymentItem], attempt: u32) -> Uuid {
    let mut sorted = items.to_vec();
    sorted.sort();
    let mut text = format!("ykb-payment|{case_code}|{attempt}");
    for i in &sorted {
        text.push_str(&format!("|{}={}", i.name, i.amount_fen));
    }
    let digest = wire::sha256_hex(text.as_bytes());
    let mut bytes = [0u8; 16];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(&digest[2 * i..2 * i + 2], 16).unwrap_or(0);
    }
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// `scheme://host[:port]` of a URL, lower-cased; `None` when it has no `://`.
fn origin_host(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit('@').next().unwrap_or_default();
    (!host.is_empty()).then(|| (scheme.to_ascii_lowercase(), host.to_ascii_lowercase()))
}

/// Whether `qr_url` may be shown: https, on the host of the configured platform `base_url`.
pub fn trusted_qr(qr_url: &str, base_url: &str) -> bool {
    let (Some((scheme, host)), Some((_, platform))) = (origin_host(qr_url), origin_host(base_url))
    else {
        return false;
    };
    scheme == "https" && host == platform && !qr_url.chars().any(char::is_whitespace)
}

/// Checks an order the platform answered before its QR is shown: for this case, for
/// exactly the catalogue's `items`, with a QR of the configured platform.
pub fn check_order(
    order: &PaymentOrder,
    case_code: &str,
    items: &[PaymentItem],
    base_url: &str,
) -> Result<(), Refusal> {
    if order.case_code != case_code {
        return Err(Refusal::WrongCase);
    }
    let mut got = order.items.clone();
    got.sort();
    let mut want = items.to_vec();
    want.sort();
    if got != want || order.amount_fen != total_fen(items) {
        return Err(Refusal::WrongAmount {
            expected: yuan(total_fen(items)),
            got: yuan(order.amount_fen),
        });
    }
    if !trusted_qr(&order.qr_url, base_url) {
        return Err(Refusal::UntrustedQr);
    }
    Ok(())
}

/// Seconds until `order` expires at `now` (0 when past or unreadable).
pub fn seconds_left(order: &PaymentOrder, now: jiff::Timestamp) -> u64 {
    order
        .expires_at
        .parse::<jiff::Timestamp>()
        .map(|t| (t.as_second() - now.as_second()).max(0) as u64)
        .unwrap_or(0)
}

/// Pause after the `failures`-th failed poll in a row: 1 s doubling to 16 s.
pub fn backoff(failures: u32) -> Duration {
    Duration::from_secs(1u64 << failures.saturating_sub(1).min(4))
}

/// How long [`follow`] keeps asking after the order's own expiry: a payment that lands at
/// the last second is still seen.
pub const GRACE_AFTER_EXPIRY: Duration = Duration::from_secs(10);

/// Follows `order` until it is no longer pending: long-polls of `wait`, a failed poll
/// retried after [`backoff`], and the platform's state the only truth. Gives up, answering
/// the last state seen, once the order's expiry plus [`GRACE_AFTER_EXPIRY`] has passed or
/// `stop` says so (the citizen left); then the platform still settles it, and 办件进度查询
/// shows what it decided.
pub async fn follow(
    client: &PlatformClient,
    order: PaymentOrder,
    wait: Duration,
    stop: impl Fn() -> bool,
) -> PaymentOrder {
    let mut last = order;
    let mut failures = 0u32;
    let give_up = last
        .expires_at
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_second() + GRACE_AFTER_EXPIRY.as_secs() as i64)
        .unwrap_or(0);
    while last.state == PaymentState::Pending
        && !stop()
        && jiff::Timestamp::now().as_second() < give_up
    {
        match client.payment_order(&last.order_id, wait).await {
            Ok(o) if o.order_id == last.order_id => {
                failures = 0;
                last = o;
            }
            Ok(_) => failures += 1,
            Err(e) => {
                failures += 1;
                tracing::info!(error = %e, failures, "payment poll failed; retrying");
                if let PlatformError::RateLimited {
                    retry_after: Some(d),
                } = e
                {
                    tokio::time::sleep(d).await;
                }
            }
        }
        if failures > 0 {
            tokio::time::sleep(backoff(failures)).await;
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &str, fen: u64) -> PaymentItem {
        PaymentItem {
            name: name.into(),
            amount_fen: fen,
        }
    }

    fn order(case: &str, items: Vec<PaymentItem>, qr: &str) -> PaymentOrder {
        PaymentOrder {
            order_id: "PO1".into(),
            case_code: case.into(),
            amount_fen: total_fen(&items),
            items,
            payee: "收款单位".into(),
            qr_url: qr.into(),
            expires_at: "2026-12-02T12:00:00Z".into(),
            state: PaymentState::Pending,
            payment_no: None,
            fiscal_receipt_url: None,
        }
    }

    #[test]
    fn yuan_is_formatted_from_fen_without_floats() {
        assert_eq!(yuan(2000), "20.00");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(12345), "123.45");
        assert_eq!(yuan(u64::MAX), "184467440737095516.15");
    }

    #[test]
    fn the_key_depends_on_case_fees_and_attempt_but_not_item_order() {
        let a = [item("工本费", 2000), item("快递费", 1200)];
        let b = [item("快递费", 1200), item("工本费", 2000)];
        assert_eq!(order_key("C1", &a, 0), order_key("C1", &b, 0));
        assert_ne!(order_key("C1", &a, 0), order_key("C2", &a, 0));
        assert_ne!(order_key("C1", &a, 0), order_key("C1", &a, 1));
        assert_ne!(order_key("C1", &a, 0), order_key("C1", &a[..1], 0));
    }

    #[test]
    fn an_order_for_another_case_amount_or_host_is_refused() {
        let items = vec![item("工本费", 2000)];
        let base = "https://zwykb.cq.gov.cn/v1";
        let good = order("C1", items.clone(), "https://zwykb.cq.gov.cn/pay/PO1");
        assert_eq!(check_order(&good, "C1", &items, base), Ok(()));
        assert_eq!(
            check_order(&good, "C2", &items, base),
            Err(Refusal::WrongCase)
        );
        let mut dear = good.clone();
        dear.amount_fen = 20000;
        let e = check_order(&dear, "C1", &items, base).unwrap_err();
        assert!(e.to_string().contains("200.00 元"));
        assert!(e.to_string().contains("20.00 元"));
        for qr in [
            "http://zwykb.cq.gov.cn/pay/PO1",
            "https://evil.example/pay/PO1",
            "https://zwykb.cq.gov.cn.evil.example/pay",
            "https://evil.example@zwykb.cq.gov.cn.x/pay",
            "weixin://wxpay/bizpayurl?pr=1",
            "not a url",
        ] {
            let o = order("C1", items.clone(), qr);
            assert_eq!(
                check_order(&o, "C1", &items, base),
                Err(Refusal::UntrustedQr),
                "{qr}"
            );
        }
    }

    #[test]
    fn backoff_doubles_to_a_cap() {
        let s: Vec<u64> = (1..=7).map(|f| backoff(f).as_secs()).collect();
        assert_eq!(s, [1, 2, 4, 8, 16, 16, 16]);
    }

    #[test]
    fn seconds_left_counts_down_to_zero() {
        let o = order("C1", vec![item("a", 1)], "https://h/p");
        let t = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        assert_eq!(seconds_left(&o, t("2026-12-02T11:55:00Z")), 300);
        assert_eq!(seconds_left(&o, t("2026-12-02T12:05:00Z")), 0);
    }
}
