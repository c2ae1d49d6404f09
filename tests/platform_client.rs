//! The platform client against the simulator over real HTTP on loopback: idempotent case
//! submission, resumable uploads, error classification under injected faults, request
//! signing (replay, skew, bad signatures), and the rest of the contract.

mod common;

use std::time::Duration;

use common::sim::{demo_client, register_demo};

use uuid::Uuid;
use ykb_terminal::core::domain::{IdNumber, Person};
use ykb_terminal::core::platform::wire;
use ykb_terminal::core::platform::{
    ClientConfig, LicenceDocumentError, Platform, PlatformClient, PlatformError,
};
use ykb_terminal::sim::platform::{self as sim, Faults, SimHandle, SimOptions};

async fn start_sim() -> SimHandle {
    sim::start("127.0.0.1:0".parse().unwrap(), SimOptions::default())
        .await
        .unwrap()
}

async fn registered(h: &SimHandle) -> PlatformClient {
    let c = demo_client(h, Duration::from_secs(5));
    register_demo(&c).await;
    c
}

/// A simulator and a client registered at it.
async fn registered_at_a_new_sim() -> (SimHandle, PlatformClient) {
    let h = start_sim().await;
    let c = registered(&h).await;
    (h, c)
}

/// Sends a hand-signed request, so tests can break the signature in chosen ways.
#[allow(clippy::too_many_arguments)]
async fn raw(
    h: &SimHandle,
    c: &PlatformClient,
    method: &str,
    path: &str,
    body: &[u8],
    ts: i64,
    nonce: &str,
    extra: &[(&str, String)],
) -> (u16, String) {
    let creds = c.credentials().unwrap();
    let sig = wire::sign_request(&creds.secret, method, path, ts, nonce, body);
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut req = http
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("http://{}{path}", h.addr()),
        )
        .header(wire::H_DEVICE, &creds.device_id)
        .header(wire::H_TIMESTAMP, ts.to_string())
        .header(wire::H_NONCE, nonce)
        .header(wire::H_SIGNATURE, sig)
        .body(body.to_vec());
    for (k, v) in extra {
        req = req.header(*k, v);
    }
    let resp = req.send().await.unwrap();
    (
        resp.status().as_u16(),
        resp.text().await.unwrap_or_default(),
    )
}

/// Asserts that the platform refused with `status` (the request, or the item itself).
#[track_caller]
fn assert_rejected(err: &PlatformError, status: u16) {
    assert!(
        matches!(err, PlatformError::Rejected { status: s, .. } | PlatformError::ItemRejected { status: s, .. } if *s == status),
        "{err}"
    );
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

#[tokio::test]
async fn case_replay_returns_the_same_code_and_a_different_body_is_422() {
    let (h, c) = registered_at_a_new_sim().await;
    let key = Uuid::now_v7();
    let body =
        br#"{"matter":"11500103MB1234567X4000101001000","fields":{"f_phone":"13800000000"}}"#;
    let first = c.submit_case(key, body).await.unwrap();
    let again = c.submit_case(key, body).await.unwrap();
    assert_eq!(first, again);
    assert!(first.unified_code.starts_with("500000"), "{first:?}");
    let err = c
        .submit_case(key, br#"{"matter":"other"}"#)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PlatformError::ItemRejected { status: 422, code, .. } if code == "idempotency_conflict"),
        "{err}"
    );
    assert!(!err.is_retryable());
    let cases = h.cases();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].count, 3, "every request with the key is counted");
    // 办件进度查询 by the unified code.
    let p = c.case_status(&first.unified_code).await.unwrap();
    assert_eq!(p.status, "accepted");
    let err = c.case_status("500000000000000").await.unwrap_err();
    assert_rejected(&err, 404);
}

#[tokio::test]
async fn events_are_idempotent_per_key() {
    let (h, c) = registered_at_a_new_sim().await;
    let key = Uuid::now_v7();
    let body = br#"{"level":"very_satisfied","case":"x"}"#;
    c.submit_event(key, "evaluation", body).await.unwrap();
    c.submit_event(key, "evaluation", body).await.unwrap();
    let err = c
        .submit_event(key, "evaluation", br#"{"level":"dissatisfied"}"#)
        .await
        .unwrap_err();
    assert_rejected(&err, 422);
    let ev = h.events();
    assert_eq!(
        (ev.len(), ev[0].count, ev[0].kind.as_str()),
        (1, 3, "evaluation")
    );
}

#[tokio::test]
async fn material_upload_resumes_from_what_the_platform_holds() {
    let (h, c) = registered_at_a_new_sim().await;
    let case = Uuid::now_v7();
    let bytes: Vec<u8> = (0..(2 * wire::UPLOAD_CHUNK_BYTES + 12345))
        .map(|i| (i * 31 % 251) as u8)
        .collect();
    // An earlier attempt got the first chunk through, then the link dropped.
    let path = format!("/v1/cases/{case}/materials/m_photo");
    let (status, _) = raw(
        &h,
        &c,
        "PATCH",
        &path,
        &bytes[..wire::UPLOAD_CHUNK_BYTES],
        now(),
        "resume-nonce-1",
        &[
            (wire::H_UPLOAD_OFFSET, "0".into()),
            (wire::H_UPLOAD_LENGTH, bytes.len().to_string()),
        ],
    )
    .await;
    assert_eq!(status, 204);
    c.upload_material(case, "m_photo", &bytes).await.unwrap();
    assert_eq!(
        h.material_bytes(&case.to_string(), "m_photo").unwrap(),
        bytes
    );
    let m = &h.materials()[0];
    assert_eq!(m.count, 3, "one chunk before, two to finish");
    // Uploading the same material again is harmless; different bytes are a conflict.
    c.upload_material(case, "m_photo", &bytes).await.unwrap();
    let mut other = bytes.clone();
    other[0] ^= 1;
    let err = c
        .upload_material(case, "m_photo", &other)
        .await
        .unwrap_err();
    assert_rejected(&err, 422);
}

#[tokio::test]
async fn oversized_material_is_refused_without_sending_it() {
    let (h, c) = registered_at_a_new_sim().await;
    let big = vec![0u8; wire::MAX_MATERIAL_BYTES as usize + 1];
    let err = c
        .upload_material(Uuid::now_v7(), "m_big", &big)
        .await
        .unwrap_err();
    assert_rejected(&err, 413);
    assert!(h.materials().is_empty());
}

#[tokio::test]
async fn answers_are_classified_for_the_outbox() {
    let (h, c) = registered_at_a_new_sim().await;
    let body = br#"{"x":1}"#;
    let submit = || c.submit_case(Uuid::now_v7(), body);

    for (status, expect_retry_after) in [(500u16, None), (503, Some(7))] {
        h.set_faults(Faults {
            error_rate: 1.0,
            error_status: status,
            retry_after_secs: 7,
            ..Default::default()
        });
        let err = submit().await.unwrap_err();
        assert_eq!(
            err,
            PlatformError::Server {
                status,
                retry_after: expect_retry_after.map(Duration::from_secs)
            }
        );
        assert!(err.is_retryable());
    }
    h.set_faults(Faults {
        error_rate: 1.0,
        error_status: 429,
        retry_after_secs: 9,
        ..Default::default()
    });
    assert_eq!(
        submit().await.unwrap_err(),
        PlatformError::RateLimited {
            retry_after: Some(Duration::from_secs(9))
        }
    );
    h.set_faults(Faults {
        reset_rate: 1.0,
        ..Default::default()
    });
    let err = submit().await.unwrap_err();
    assert!(matches!(err, PlatformError::Unreachable(_)), "{err:?}");
    h.set_faults(Faults {
        truncate_rate: 1.0,
        ..Default::default()
    });
    let err = submit().await.unwrap_err();
    assert!(matches!(err, PlatformError::Server { .. }), "{err:?}");
    h.set_faults(Faults {
        latency_ms: 1500,
        ..Default::default()
    });
    let slow = demo_client(&h, Duration::from_millis(500));
    slow.set_credentials(c.credentials().unwrap());
    let err = slow.submit_case(Uuid::now_v7(), body).await.unwrap_err();
    assert_eq!(err, PlatformError::Timeout);
    h.set_faults(Faults::default());
    assert!(submit().await.is_ok(), "recovers once faults clear");
    assert!(h.cases().len() >= 2);
    // Nothing listening at all.
    let addr = h.addr();
    h.shutdown().await;
    let gone = PlatformClient::new(ClientConfig {
        base_url: format!("http://{addr}/v1"),
        ca_file: None,
        proxy: None,
        timeout: Duration::from_secs(2),
        catalog_key: wire::demo_verifying_key(),
        max_catalog_bytes: 1,
    })
    .unwrap();
    gone.set_credentials(c.credentials().unwrap());
    let err = gone.submit_case(Uuid::now_v7(), body).await.unwrap_err();
    assert!(matches!(err, PlatformError::Unreachable(_)), "{err:?}");
}

#[tokio::test]
async fn replayed_nonce_skewed_clock_and_bad_signature_are_refused() {
    let (h, c) = registered_at_a_new_sim().await;
    let (ok, _) = raw(&h, &c, "GET", "/v1/notices", b"", now(), "nonce-abc-1", &[]).await;
    assert_eq!(ok, 200);
    let (replay, text) = raw(&h, &c, "GET", "/v1/notices", b"", now(), "nonce-abc-1", &[]).await;
    assert_eq!(replay, 401);
    assert!(text.contains("replay"), "{text}");
    let (skew, text) = raw(
        &h,
        &c,
        "GET",
        "/v1/notices",
        b"",
        now() - 301,
        "nonce-abc-2",
        &[],
    )
    .await;
    assert_eq!(skew, 401);
    assert!(text.contains("clock_skew"), "{text}");
    let (inside, _) = raw(
        &h,
        &c,
        "GET",
        "/v1/notices",
        b"",
        now() - 250,
        "nonce-abc-3",
        &[],
    )
    .await;
    assert_eq!(inside, 200, "inside the ±300 s window");
    // A signature over another path does not authorise this one.
    let creds = c.credentials().unwrap();
    let ts = now();
    let sig = wire::sign_request(
        &creds.secret,
        "GET",
        "/v1/heartbeat",
        ts,
        "nonce-abc-4",
        b"",
    );
    let resp = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("http://{}/v1/notices", h.addr()))
        .header(wire::H_DEVICE, &creds.device_id)
        .header(wire::H_TIMESTAMP, ts.to_string())
        .header(wire::H_NONCE, "nonce-abc-4")
        .header(wire::H_SIGNATURE, sig)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert!(resp.text().await.unwrap().contains("bad_signature"));
}

#[tokio::test]
async fn client_corrects_for_a_skewed_platform_clock_and_reports_it() {
    let (h, c) = registered_at_a_new_sim().await;
    h.set_faults(Faults {
        clock_skew_secs: 1000,
        ..Default::default()
    });
    let notices = c.notices().await.unwrap();
    assert!(!notices.notices.is_empty());
    assert!(
        (c.clock_offset_secs() - 1000).abs() <= 2,
        "{}",
        c.clock_offset_secs()
    );
    let hb = c
        .heartbeat(&wire::Heartbeat {
            catalog_version: 1,
            outbox_pending: 0,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!((hb.server_time - now() - 1000).abs() <= 2);
}

#[tokio::test]
async fn licences_and_ykm_tokens_follow_the_contract() {
    let (h, c) = registered_at_a_new_sim().await;
    let id = IdNumber::complete("50010319900307123")
        .unwrap()
        .expose()
        .to_owned();
    let a = c.licences(&id).await.unwrap();
    let b = c.licences(&id).await.unwrap();
    assert_eq!(a, b, "deterministic per ID number");
    assert_eq!(a.licences[0].licence_type, "居民身份证");
    assert!(a.licences.iter().all(|l| !l.number_masked.contains(&id)));
    let err = c.licences("123").await.unwrap_err();
    assert_rejected(&err, 400);

    let person = Person {
        name: "张三".into(),
        id_number: IdNumber::parse(&id).unwrap(),
        address: String::new(),
    };
    let token = h.issue_ykm_token(person.clone(), 60);
    let who = c.verify_ykm(&token).await.unwrap();
    assert_eq!(who.person, person);
    let err = c.verify_ykm("YKM-not-issued").await.unwrap_err();
    assert_rejected(&err, 404);
    let expired = h.issue_ykm_token(person, -1);
    let err = c.verify_ykm(&expired).await.unwrap_err();
    assert!(
        matches!(&err, PlatformError::Rejected { status: 410, reason } if reason.contains("过期")),
        "{err}"
    );
}

#[tokio::test]
async fn a_licence_document_is_masked_verifiable_and_refusals_are_told_apart() {
    let (h, c) = registered_at_a_new_sim().await;
    // The demo card's citizen: the simulator knows her name, and her ID card licence.
    let id = "500105198511220024";
    let held = c.licences(id).await.unwrap().licences;
    let doc = c.licence_document(id, "居民身份证").await.unwrap();
    assert_eq!(doc.licence_type, "居民身份证");
    assert_eq!(doc.holder_name_masked, "李*");
    assert_eq!(doc.number_masked, held[0].number_masked);
    assert!(doc.number_masked.ends_with("0024"));
    assert!(!doc.verification_code.is_empty());
    assert!(doc.verification_url.contains(&doc.verification_code));
    let whole = serde_json::to_string(&doc).unwrap();
    assert!(!whole.contains(id), "no full ID number anywhere: {whole}");
    assert!(!whole.contains("李喆"), "no full name anywhere: {whole}");
    // The same copy on the same day carries the same code.
    assert_eq!(
        c.licence_document(id, "居民身份证")
            .await
            .unwrap()
            .verification_code,
        doc.verification_code
    );

    // 404: a known type the person does not hold.
    let not_held = sim::platform_licence_types()
        .iter()
        .find(|t| !held.iter().any(|l| l.licence_type == **t))
        .expect("the demo citizen lacks some licence type");
    let err = c.licence_document(id, not_held).await.unwrap_err();
    assert_eq!(err, LicenceDocumentError::NotHeld);
    assert_eq!(err.to_string(), "政务服务平台上没有找到您的这项电子证照");
    // 400: a bad ID number, an unknown type.
    for (who, kind) in [("123", "居民身份证"), (id, "月球居住证")] {
        let err = c.licence_document(who, kind).await.unwrap_err();
        assert!(
            matches!(&err, LicenceDocumentError::Refused(r) if r.contains("bad_")),
            "{err:?}"
        );
    }
    // 500 and an outage: unavailable, in words that say to try later.
    h.set_faults(Faults {
        error_rate: 1.0,
        error_status: 500,
        ..Default::default()
    });
    let err = c.licence_document(id, "居民身份证").await.unwrap_err();
    assert!(
        matches!(
            err,
            LicenceDocumentError::Unavailable(PlatformError::Server { status: 500, .. })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("需要网络"), "{err}");
    h.set_faults(Faults {
        outage: true,
        ..Default::default()
    });
    let err = c.licence_document(id, "居民身份证").await.unwrap_err();
    assert!(
        matches!(
            err,
            LicenceDocumentError::Unavailable(PlatformError::Server { status: 503, .. })
        ),
        "{err:?}"
    );
    // Too slow: a timeout, also unavailable.
    h.set_faults(Faults {
        latency_ms: 1500,
        ..Default::default()
    });
    let slow = demo_client(&h, Duration::from_millis(500));
    slow.set_credentials(c.credentials().unwrap());
    let err = slow.licence_document(id, "居民身份证").await.unwrap_err();
    assert_eq!(
        err,
        LicenceDocumentError::Unavailable(PlatformError::Timeout)
    );
    h.set_faults(Faults::default());
    assert!(c.licence_document(id, "居民身份证").await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_heartbeat_carries_backlog_age_disk_version_and_devices() {
    use ykb_terminal::core::config::Profile;
    use ykb_terminal::core::health::{self, DeviceHealth};
    use ykb_terminal::core::outbox::{self, Quota};
    let (h, c) = registered_at_a_new_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let mut core = ykb_terminal::core::Core::start(Profile::demo(), dir.path()).unwrap();
    let m = core.catalog.matters[0].task_code.clone();
    let case = outbox::NewCase {
        matters: vec![m],
        bundle: None,
        catalog_version: core.catalog.version,
        applicant: ykb_terminal::core::domain::Applicant::Person {
            person: Person {
                name: "测试".into(),
                id_number: IdNumber::complete("50010319500307123").unwrap(),
                address: String::new(),
            },
        },
        agent: None,
        delivery: None,
        answers: Default::default(),
        materials: Vec::new(),
        form: Default::default(),
        images: Vec::new(),
    };
    let queued_at = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(120);
    outbox::enqueue_case(
        &mut core.store,
        &core.key,
        Quota::from_mb(8),
        case,
        queued_at,
    )
    .unwrap();
    let devices = [(
        "printer".to_owned(),
        DeviceHealth {
            state: ykb_drivers::DeviceState::Online,
            paper: Some(ykb_drivers::escpos::PaperState::NearEnd),
        },
    )]
    .into();
    let snap = health::collect(
        &mut core.store,
        dir.path(),
        Quota::from_mb(8),
        devices,
        Some(3),
    )
    .unwrap();
    c.heartbeat(&snap.heartbeat()).await.unwrap();
    let got = h.heartbeats();
    assert_eq!(got.len(), 1);
    let hb = &got[0];
    assert_eq!(hb.outbox_pending, 1);
    assert_eq!(hb.outbox_dead, Some(0));
    assert!(
        hb.oldest_pending_age_secs
            .is_some_and(|a| (119..200).contains(&a)),
        "{hb:?}"
    );
    assert!(hb.disk_free_bytes.is_some_and(|b| b > 0));
    assert_eq!(hb.clock_skew_secs, Some(3));
    assert_eq!(hb.app_version.as_deref(), Some(env!("CARGO_PKG_VERSION")));
    assert_eq!(
        hb.devices.get("printer.paper").map(String::as_str),
        Some("near_end")
    );
    assert_eq!(hb.catalog_version, core.catalog.version);
}
