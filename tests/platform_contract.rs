//! The simulator serves exactly the routes of `api/openapi.yaml`: the document's
//! (method, path) pairs equal the simulator's route table, and every one of them answers on
//! a live simulator with something other than "no such route".

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use ykb_terminal::core::platform::wire::{self, RegisterRequest};
use ykb_terminal::core::platform::{ClientConfig, PlatformClient};
use ykb_terminal::core::sync::DEMO_ENROLMENT_CODE;
use ykb_terminal::sim::platform::{self as sim, SimOptions, ROUTES};

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options"];

fn contract_routes() -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string("api/openapi.yaml").unwrap();
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_mapping().expect("paths");
    let mut out = BTreeSet::new();
    for (path, item) in paths {
        let path = path.as_str().unwrap();
        for (k, _) in item.as_mapping().unwrap() {
            let k = k.as_str().unwrap();
            if METHODS.contains(&k) {
                out.insert((k.to_owned(), path.to_owned()));
            }
        }
    }
    out
}

#[test]
fn openapi_document_lists_exactly_the_simulator_routes() {
    let doc = contract_routes();
    let served: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let missing: Vec<_> = doc.difference(&served).collect();
    let extra: Vec<_> = served.difference(&doc).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "in the contract but not served: {missing:?}; served but not in the contract: {extra:?}"
    );
}

#[tokio::test]
async fn every_contract_route_is_live_on_the_simulator() {
    let h = sim::start("127.0.0.1:0".parse().unwrap(), SimOptions::default())
        .await
        .unwrap();
    let c = PlatformClient::new(ClientConfig {
        base_url: h.base_url(),
        ca_file: None,
        proxy: None,
        timeout: Duration::from_secs(5),
        catalog_key: wire::demo_verifying_key(),
        max_catalog_bytes: 1 << 26,
    })
    .unwrap();
    let creds = c
        .register(&RegisterRequest {
            enrolment_code: DEMO_ENROLMENT_CODE.into(),
            region_code: "500103".into(),
            terminal_kind: "kiosk".into(),
            name: "t".into(),
        })
        .await
        .unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    for (i, (method, path)) in contract_routes().into_iter().enumerate() {
        let concrete = path
            .replace("{id}", "0190f5a4-0000-7000-8000-000000000001")
            .replace("{material}", "m1")
            .replace("{kind}", "evaluation");
        let ts = jiff::Timestamp::now().as_second();
        let nonce = format!("contract-nonce-{i}");
        let sig = wire::sign_request(
            &creds.secret,
            &method.to_uppercase(),
            &concrete,
            ts,
            &nonce,
            b"",
        );
        let resp = http
            .request(
                reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                format!("http://{}{concrete}", h.addr()),
            )
            .header(wire::H_DEVICE, &creds.device_id)
            .header(wire::H_TIMESTAMP, ts.to_string())
            .header(wire::H_NONCE, &nonce)
            .header(wire::H_SIGNATURE, sig)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body = resp.bytes().await.unwrap();
        // The router's own "no such route" answers are 404/405 with an empty body; the
        // handlers' refusals carry a JSON reason (or are HEAD, which has no body).
        let no_route = (status == 404 && body.is_empty() && method != "head") || status == 405;
        assert!(!no_route, "{method} {path} → {status}: not served");
        assert!(
            status != 401,
            "{method} {path} → 401: signing differs from the contract"
        );
    }
    let _ = ROUTES;
}

#[test]
fn the_core_never_depends_on_the_simulator() {
    let mut bad = Vec::new();
    for p in common::files_with_extension("src/core", "rs") {
        let text = std::fs::read_to_string(&p).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if code.contains("crate::sim") || code.contains("ykb_terminal::sim") {
                bad.push(format!("{}:{}", p.display(), n + 1));
            }
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}
