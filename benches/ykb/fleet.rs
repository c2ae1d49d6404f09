//! The `fleet` group (issue 19): 1,000 simulated terminals through a 1-hour platform outage
//! (`ops::fleet_sim`, virtual time) beside the same fleet with a naive fixed-interval retry,
//! and the steady state's requests per terminal and hour.

use super::{Baseline, Figure};
use ykb_terminal::ops::fleet_sim::{self, FleetOptions};

/// Terminals and outage of the recovery figures (`YKB_FLEET_TERMINALS` overrides, for a
/// quicker look).
fn terminals() -> usize {
    std::env::var("YKB_FLEET_TERMINALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

pub fn fleet(out: &mut Vec<Figure>) {
    const NAIVE_EVERY_SECS: u64 = 10;
    let n = terminals();
    let opts = FleetOptions {
        terminals: n,
        outage_secs: 3600,
        ..FleetOptions::default()
    };
    let c = fleet_sim::compare(&opts, NAIVE_EVERY_SECS).expect("fleet simulation");
    let (b, nv) = (&c.backoff, &c.naive);
    let setting = format!(
        "{n} terminals, 1 h outage, {} items queued each, {} ms round trip; naive = retry every {NAIVE_EVERY_SECS} s",
        b.backlog_per_terminal,
        opts.latency_ms
    );
    out.push(Figure {
        group: "fleet",
        name: "recovery: peak platform requests per second".into(),
        value: b.peak_requests_per_s as f64,
        unit: "req/s",
        baseline: Some(Baseline {
            name: "naive fixed-interval retry, same fleet".into(),
            value: nv.peak_requests_per_s as f64,
        }),
        note: format!(
            "{:.3} of naive (goal ≤ 0.1); peak at {} s after the outage (naive {} s); {setting}; simulated {:.0} s in {:.0} s real",
            b.peak_requests_per_s as f64 / nv.peak_requests_per_s.max(1) as f64,
            b.peak_at_s,
            nv.peak_at_s,
            b.simulated_secs,
            b.real_secs
        ),
    });
    out.push(Figure {
        group: "fleet",
        name: "recovery: requests/s in the first 10 s after the outage".into(),
        value: b.first_10s_after_outage_requests_per_s,
        unit: "req/s",
        baseline: Some(Baseline {
            name: "naive fixed-interval retry".into(),
            value: nv.first_10s_after_outage_requests_per_s,
        }),
        note: format!(
            "no storm when the platform returns; normal running {:.1} req/s, during the outage {:.1} (naive {:.1})",
            b.steady_requests_per_s, b.outage_requests_per_s, nv.outage_requests_per_s
        ),
    });
    let drained = |r: &fleet_sim::FleetReport| r.all_drained_after_s.unwrap_or(f64::NAN);
    out.push(Figure {
        group: "fleet",
        name: "recovery: every backlog drained after (simulated seconds)".into(),
        value: drained(b),
        unit: "s",
        baseline: Some(Baseline {
            name: "naive fixed-interval retry".into(),
            value: drained(nv),
        }),
        note: format!(
            "goal ≤ 900 s; per terminal p50 {:.0} s, p90 {:.0} s; {} items delivered of {}, {} replays",
            b.drain_p50_s.unwrap_or(f64::NAN),
            b.drain_p90_s.unwrap_or(f64::NAN),
            b.delivered,
            b.queued,
            b.replays
        ),
    });
    out.push(Figure {
        group: "fleet",
        name: "recovery: errors".into(),
        value: b.errors as f64,
        unit: "",
        baseline: Some(Baseline {
            name: "naive fixed-interval retry".into(),
            value: nv.errors as f64,
        }),
        note: format!("{:?}", b.error_detail),
    });

    let s = fleet_sim::steady_state(
        &FleetOptions {
            terminals: 100,
            ..FleetOptions::default()
        },
        1,
    )
    .expect("steady state");
    out.push(Figure {
        group: "fleet",
        name: "steady state: platform requests per terminal per hour".into(),
        value: s.requests_per_terminal_per_hour,
        unit: "req/h",
        baseline: None,
        note: format!(
            "goal ≤ 80; heartbeats every 60 s and sync checks every 5–7 min, {} terminals for 1 simulated hour, {} errors",
            s.terminals, s.errors
        ),
    });
    out.push(Figure {
        group: "fleet",
        name: "steady state: bytes per heartbeat".into(),
        value: s.bytes_per_heartbeat,
        unit: "B",
        baseline: None,
        note: "JSON request body (HTTP headers not counted)".into(),
    });
}

/// Catalogue sync at fleet scale: bytes on the wire per full and delta sync of 20,000
/// matters with gzip (what the client now offers) beside the uncompressed document, and the
/// platform's egress for 1,000 terminals taking one publication.
pub fn catalogue_egress(out: &mut Vec<Figure>) {
    use std::sync::atomic::{AtomicU64, Ordering};
    use ykb_terminal::core::platform::wire::{self, RegisterRequest};
    use ykb_terminal::core::platform::{ClientConfig, DeltaAnswer, PlatformClient};
    use ykb_terminal::core::sync::DEMO_ENROLMENT_CODE;
    use ykb_terminal::sim::platform::{self as sim, ChangeRequest, SimOptions};

    const N: usize = 20_000;
    const FLEET: f64 = 1000.0;
    let rt = super::runtime();
    let (full, full_plain, delta, delta_plain) = rt.block_on(async {
        let h = sim::start(
            "127.0.0.1:0".parse().expect("addr"),
            SimOptions {
                matters: Some(N),
                seed: 42,
                ..Default::default()
            },
        )
        .await
        .expect("simulator");
        let c = PlatformClient::new(ClientConfig {
            base_url: h.base_url(),
            ca_file: None,
            proxy: None,
            timeout: std::time::Duration::from_secs(60),
            catalog_key: wire::demo_verifying_key(),
            max_catalog_bytes: 512 * 1024 * 1024,
        })
        .expect("client");
        c.set_credentials(
            c.register(&RegisterRequest {
                enrolment_code: DEMO_ENROLMENT_CODE.into(),
                region_code: "500103".into(),
                terminal_kind: "kiosk".into(),
                name: "bench".into(),
            })
            .await
            .expect("register"),
        );
        // Bytes read off the socket (compressed when the platform compressed).
        let wire_bytes = AtomicU64::new(0);
        let seen: &(dyn Fn(u64, Option<u64>) + Send + Sync) = &|done, _| {
            wire_bytes.fetch_max(done, Ordering::Relaxed);
        };
        let snap = c
            .catalog_snapshot("500103", Some(seen))
            .await
            .expect("snapshot");
        let full = wire_bytes.swap(0, Ordering::Relaxed);
        // The simulator serialises the same document type with serde_json: the same length.
        let full_plain = serde_json::to_vec(&snap).expect("json").len() as u64;
        h.change_catalog(&ChangeRequest {
            modify: 100,
            ..Default::default()
        });
        let DeltaAnswer::Delta(d) = c
            .catalog_delta("500103", &snap.cursor, Some(seen))
            .await
            .expect("delta")
        else {
            panic!("the simulator keeps its deltas");
        };
        let delta = wire_bytes.load(Ordering::Relaxed);
        let delta_plain = serde_json::to_vec(&*d).expect("json").len() as u64;
        h.shutdown().await;
        (full, full_plain, delta, delta_plain)
    });
    let mb = |b: u64| b as f64 / 1e6;
    out.push(Figure {
        group: "fleet",
        name: format!("catalogue: bytes on the wire per full sync ({N} matters, gzip)"),
        value: mb(full),
        unit: "MB",
        baseline: Some(Baseline {
            name: "uncompressed document (before this change)".into(),
            value: mb(full_plain),
        }),
        note: format!(
            "{:.1}× smaller; body bytes, headers not counted",
            full_plain as f64 / full.max(1) as f64
        ),
    });
    out.push(Figure {
        group: "fleet",
        name: "catalogue: bytes on the wire per delta sync (100 changed, gzip)".into(),
        value: delta as f64 / 1e3,
        unit: "kB",
        baseline: Some(Baseline {
            name: "uncompressed delta".into(),
            value: delta_plain as f64 / 1e3,
        }),
        note: format!("{:.1}× smaller", delta_plain as f64 / delta.max(1) as f64),
    });
    out.push(Figure {
        group: "fleet",
        name: "catalogue: platform egress, 1,000 terminals taking one publication".into(),
        value: mb(full) * FLEET / 1e3,
        unit: "GB",
        baseline: Some(Baseline {
            name: "uncompressed".into(),
            value: mb(full_plain) * FLEET / 1e3,
        }),
        note: format!(
            "as full syncs; as deltas of 100 changes: {:.1} MB (uncompressed {:.1} MB)",
            delta as f64 * FLEET / 1e6,
            delta_plain as f64 * FLEET / 1e6
        ),
    });
}
