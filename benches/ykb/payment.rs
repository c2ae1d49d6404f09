//! Group "payment" (issue 18): a fee order created → its QR ready to show, over loopback.
//! The demo platform (the in-process simulator, registered and synced like the kiosk's
//! link) holds a submitted 居民身份证换领 case per round; one round is what the kiosk does
//! between 缴费 and the QR on screen: `POST /v1/payments/orders` with the case's idempotency
//! key, `core::payment::check_order` (this case, the catalogue's fee, a QR of the platform),
//! and the QR drawn into the image the payment page shows (`qr_bitmap`, as the page
//! controller draws it). Not measured: Slint laying out and presenting the frame.
//! The baseline is the same request replayed under the same key (the platform answers the
//! order it holds): the round trip alone.

use std::time::Instant;

use uuid::Uuid;
use ykb_drivers::escpos::canvas::qr_bitmap;
use ykb_drivers::escpos::encode::QrEcLevel;
use ykb_terminal::core::config::Profile;
use ykb_terminal::core::payment::{check_order, fee_items, order_key};
use ykb_terminal::core::platform::wire::PaymentOrderRequest;
use ykb_terminal::core::platform::Platform;
use ykb_terminal::core::Core;
use ykb_terminal::terminal::link::PlatformLink;

use super::{percentile, Baseline, Figure};

const GROUP: &str = "payment";
const ROUNDS: usize = 100;

/// The group's entry point.
pub fn payment(out: &mut Vec<Figure>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut core = Core::start(Profile::demo(), dir.path()).expect("core");
    let link = PlatformLink::start_demo(&mut core).expect("demo platform");
    let matter = core
        .catalog
        .matters
        .iter()
        .find(|m| m.name == "居民身份证换领")
        .expect("居民身份证换领")
        .clone();
    let items = fee_items([&matter], &[]);
    let base = link.base_url();
    let (mut made, mut replayed) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let body = serde_json::json!({ "matters": [matter.task_code.as_str()], "form": {} });
        let case = link
            .runtime()
            .block_on(
                link.client
                    .submit_case(Uuid::now_v7(), body.to_string().as_bytes()),
            )
            .expect("case submitted")
            .unified_code;
        let request = PaymentOrderRequest {
            case_code: case.clone(),
            items: items.clone(),
        };
        let key = order_key(&case, &items, 0);
        let start = Instant::now();
        let order = link
            .runtime()
            .block_on(link.client.create_payment_order(key, &request))
            .expect("order");
        check_order(&order, &case, &items, &base).expect("a trusted order");
        let qr = qr_bitmap(order.qr_url.as_bytes(), 8, QrEcLevel::M).expect("a QR");
        std::hint::black_box(qr.to_gray());
        made.push(start.elapsed().as_secs_f64() * 1e3);
        let start = Instant::now();
        let again = link
            .runtime()
            .block_on(link.client.create_payment_order(key, &request))
            .expect("the same order");
        assert_eq!(again.order_id, order.order_id);
        replayed.push(start.elapsed().as_secs_f64() * 1e3);
    }
    made.sort_by(f64::total_cmp);
    replayed.sort_by(f64::total_cmp);
    for (q, label) in [(0.5, "p50"), (0.99, "p99")] {
        out.push(Figure {
            group: GROUP,
            name: format!("order created → QR ready to show, loopback ({label})"),
            value: percentile(&made, q),
            unit: "ms",
            baseline: Some(Baseline {
                name: "the same request replayed under its key".into(),
                value: percentile(&replayed, q),
            }),
            note: format!("{ROUNDS} orders; goal p99 ≤ 200 ms"),
        });
    }
}
