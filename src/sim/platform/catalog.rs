//! The simulator's catalogue: the published versions and their changes (`POST
//! /admin/catalog/changes`), and the signed snapshot and delta documents.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};

use super::{error, QueryArgs, Shared, SimOptions};
use crate::core::domain::{Bundle, LocalElements, Matter};
use crate::core::platform::wire;
use crate::sim::generate::{self, Seed};
/// `POST /admin/catalog/changes`: publish a new catalogue version with these changes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChangeRequest {
    /// Matters to modify (renamed hours, new popularity, a new alias).
    pub modify: usize,
    /// New matters to add.
    pub add: usize,
    /// Matters to withdraw.
    pub remove: usize,
    /// District overrides to change for this region.
    pub district_region: Option<String>,
    /// How many district overrides to change in `district_region`.
    pub district: usize,
}

/// A catalogue item with its popularity and the version that last changed it.
#[derive(Clone)]
pub(super) struct Entry<T> {
    pub(super) value: T,
    pub(super) popularity: u64,
    pub(super) changed: u64,
}

/// The published catalogue, with what each version changed so deltas can be served from
/// `oldest` on.
pub(super) struct SimCatalog {
    pub(super) version: u64,
    /// Deltas are served from this version on; older cursors get 410.
    pub(super) oldest: u64,
    pub(super) published_at: String,
    pub(super) order: Vec<String>,
    pub(super) matters: HashMap<String, Entry<Matter>>,
    pub(super) removed: BTreeMap<String, u64>,
    pub(super) bundles: Vec<(Bundle, u64)>,
    /// (region, task code) → (values, version changed; `None` = withdrawn).
    pub(super) district: BTreeMap<(String, String), (Option<LocalElements>, u64)>,
    /// Rotation point of `modify` changes.
    pub(super) next_modify: usize,
    pub(super) generated: usize,
    pub(super) cache: Option<(u64, String, Arc<Vec<u8>>)>,
    /// The cached snapshot gzip-compressed (made on the first request offering gzip).
    pub(super) gzip_cache: Option<(u64, String, Arc<Vec<u8>>)>,
}

impl SimCatalog {
    /// The first version: the demo catalogue (or `options.matters` generated ones) with the
    /// district overrides the demo and the tests expect.
    pub(super) fn seeded(options: &SimOptions) -> Self {
        let (seed, overrides) = match options.matters {
            Some(n) => (generate::generated_seed(n, options.seed), Vec::new()),
            None => generate::demo_seed(),
        };
        let Seed {
            catalog,
            popularity,
        } = seed;
        let mut district = BTreeMap::new();
        // 渝中区 keeps the demo's own values; other districts get theirs; generated
        // catalogues override every fourth matter in three districts.
        for (code, local) in overrides {
            district.insert(("500103".to_owned(), code), (Some(local), catalog.version));
        }
        for (i, m) in catalog.matters.iter().enumerate() {
            let regions: &[&str] = if options.matters.is_some() {
                if i % 4 == 0 {
                    &["500103", "500105", "500106"]
                } else {
                    &[]
                }
            } else {
                &["500101", "500105", "500106", "500112"]
            };
            for r in regions {
                district
                    .entry((r.to_string(), m.task_code.to_string()))
                    .or_insert((
                        Some(generate::district_local(r, &m.department)),
                        catalog.version,
                    ));
            }
        }
        let version = catalog.version;
        let order = catalog
            .matters
            .iter()
            .map(|m| m.task_code.to_string())
            .collect();
        let matters = catalog
            .matters
            .into_iter()
            .zip(popularity)
            .map(|(m, p)| {
                (
                    m.task_code.to_string(),
                    Entry {
                        value: m,
                        popularity: p,
                        changed: version,
                    },
                )
            })
            .collect();
        Self {
            version,
            oldest: version,
            published_at: catalog.published_at,
            order,
            matters,
            removed: BTreeMap::new(),
            bundles: catalog.bundles.into_iter().map(|b| (b, version)).collect(),
            district,
            next_modify: 0,
            generated: 0,
            cache: None,
            gzip_cache: None,
        }
    }
}

pub(super) fn apply_change(c: &mut SimCatalog, change: &ChangeRequest) -> u64 {
    c.version += 1;
    let v = c.version;
    c.published_at = jiff::Timestamp::now().to_string();
    c.cache = None;
    c.gzip_cache = None;
    let live = c.order.len();
    for k in 0..change.modify.min(live) {
        let idx = (c.next_modify + k) % c.order.len();
        let code = c.order[idx].clone();
        if let Some(e) = c.matters.get_mut(&code) {
            e.value
                .acceptance_conditions
                .push(format!("（第 {v} 版修订）"));
            e.popularity += 100;
            e.changed = v;
        }
    }
    c.next_modify = (c.next_modify + change.modify) % c.order.len().max(1);
    // Withdraw from the end, never a matter a bundle names.
    let named: std::collections::HashSet<String> = c
        .bundles
        .iter()
        .flat_map(|(b, _)| {
            b.matters
                .iter()
                .chain(
                    b.questions
                        .iter()
                        .flat_map(|q| &q.options)
                        .flat_map(|o| &o.matters),
                )
                .map(|x| x.to_string())
        })
        .collect();
    let mut removed = 0;
    let mut i = c.order.len();
    while removed < change.remove && i > 0 {
        i -= 1;
        if named.contains(&c.order[i]) {
            continue;
        }
        let code = c.order.remove(i);
        c.matters.remove(&code);
        c.removed.insert(code.clone(), v);
        let keys: Vec<_> = c
            .district
            .keys()
            .filter(|(_, t)| *t == code)
            .cloned()
            .collect();
        for k in keys {
            c.district.insert(k, (None, v));
        }
        removed += 1;
    }
    for _ in 0..change.add {
        let template = c.matters[&c.order[c.generated % c.order.len()]]
            .value
            .clone();
        let mut m = template;
        let code = format!("115500103ADD{:07}V{v}", c.generated);
        c.generated += 1;
        m.task_code = crate::core::domain::Code::new(code.clone()).expect("short code");
        m.name = format!("{}（新增第 {v} 版）", m.name);
        m.local = generate::city_local();
        c.order.push(code.clone());
        c.matters.insert(
            code,
            Entry {
                value: m,
                popularity: 10,
                changed: v,
            },
        );
    }
    if let Some(region) = &change.district_region {
        for k in 0..change.district.min(c.order.len()) {
            let code = c.order[k].clone();
            let dep = c.matters[&code].value.department.clone();
            let mut local = generate::district_local(region, &dep);
            local.hours = format!("{}（第 {v} 版调整）", local.hours);
            c.district.insert((region.clone(), code), (Some(local), v));
        }
    }
    v
}

#[derive(Deserialize)]
pub(super) struct CatalogQuery {
    region: String,
    since: Option<String>,
}

/// Whether the request offers gzip for the answer.
fn wants_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(axum::http::header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| {
            e.split(';')
                .next()
                .is_some_and(|e| e.trim().eq_ignore_ascii_case(wire::CATALOG_ENCODING))
        })
}

/// The signed answer: signature over `body`, sent as `gzipped` when given.
fn signed_document(s: &Shared, body: Arc<Vec<u8>>, gzipped: Option<Arc<Vec<u8>>>) -> Response {
    let mut sig = wire::sign_catalog(&s.key, &body);
    if s.faults().bad_signature {
        sig = wire::sign_catalog(&SigningKey::from_bytes(&[9; 32]), &body);
    }
    let compressed = gzipped.is_some();
    let mut resp = Response::new(Body::from(Bytes::from_owner(ArcBytes(
        gzipped.unwrap_or(body),
    ))));
    let h = resp.headers_mut();
    if compressed {
        h.insert(
            axum::http::header::CONTENT_ENCODING,
            HeaderValue::from_static(wire::CATALOG_ENCODING),
        );
    }
    h.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&sig) {
        h.insert(wire::H_CATALOG_SIGNATURE, v);
    }
    resp
}

struct ArcBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for ArcBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

fn published(c: &SimCatalog, code: &str) -> Option<wire::PublishedMatter> {
    c.matters.get(code).map(|e| wire::PublishedMatter {
        matter: e.value.clone(),
        popularity: e.popularity,
    })
}

pub(super) async fn snapshot(
    State(s): State<Arc<Shared>>,
    QueryArgs(q): QueryArgs<CatalogQuery>,
    headers: HeaderMap,
) -> Response {
    let body = {
        let mut g = s.lock();
        let c = &mut g.catalog;
        match &c.cache {
            Some((v, r, b)) if *v == c.version && *r == q.region => b.clone(),
            _ => {
                let doc = wire::CatalogSnapshot {
                    format: wire::CATALOG_FORMAT,
                    cursor: format!("v{}", c.version),
                    version: c.version,
                    published_at: c.published_at.clone(),
                    matters: c
                        .order
                        .iter()
                        .filter_map(|code| published(c, code))
                        .collect(),
                    bundles: c.bundles.iter().map(|(b, _)| b.clone()).collect(),
                    district: c
                        .district
                        .range((q.region.clone(), String::new())..)
                        .take_while(|((r, _), _)| *r == q.region)
                        .filter_map(|((r, t), (l, _))| {
                            l.clone().map(|local| wire::DistrictElements {
                                task_code: t.clone(),
                                region_code: r.clone(),
                                local,
                            })
                        })
                        .collect(),
                };
                let b = Arc::new(serde_json::to_vec(&doc).unwrap_or_default());
                c.cache = Some((c.version, q.region.clone(), b.clone()));
                b
            }
        }
    };
    // Compressed once per publication and region, as a platform's CDN would keep it.
    let gzipped = wants_gzip(&headers).then(|| {
        let mut g = s.lock();
        let c = &mut g.catalog;
        match &c.gzip_cache {
            Some((v, r, z)) if *v == c.version && *r == q.region => z.clone(),
            _ => {
                let z = Arc::new(wire::gzip(&body));
                c.gzip_cache = Some((c.version, q.region.clone(), z.clone()));
                z
            }
        }
    });
    signed_document(&s, body, gzipped)
}

pub(super) async fn delta(
    State(s): State<Arc<Shared>>,
    QueryArgs(q): QueryArgs<CatalogQuery>,
    headers: HeaderMap,
) -> Response {
    let since = q
        .since
        .as_deref()
        .and_then(|c| c.strip_prefix('v'))
        .and_then(|v| v.parse::<u64>().ok());
    let body = {
        let g = s.lock();
        let c = &g.catalog;
        let Some(since) = since.filter(|v| *v >= c.oldest && *v <= c.version) else {
            return error(
                StatusCode::GONE,
                "cursor_expired",
                "游标已过期，请下载完整目录",
            );
        };
        let mut doc = wire::CatalogDelta {
            format: wire::CATALOG_FORMAT,
            from_cursor: format!("v{since}"),
            cursor: format!("v{}", c.version),
            version: c.version,
            published_at: c.published_at.clone(),
            upserts: Vec::new(),
            removals: Vec::new(),
            bundle_upserts: Vec::new(),
            bundle_removals: Vec::new(),
            district_upserts: Vec::new(),
            district_removals: Vec::new(),
        };
        for code in &c.order {
            if c.matters[code].changed > since {
                doc.upserts.extend(published(c, code));
            }
        }
        doc.removals = c
            .removed
            .iter()
            .filter(|(_, v)| **v > since)
            .map(|(k, _)| k.clone())
            .collect();
        doc.bundle_upserts = c
            .bundles
            .iter()
            .filter(|(_, v)| *v > since)
            .map(|(b, _)| b.clone())
            .collect();
        for ((r, t), (l, v)) in c
            .district
            .range((q.region.clone(), String::new())..)
            .take_while(|((r, _), _)| *r == q.region)
        {
            if *v <= since {
                continue;
            }
            match l {
                Some(local) => doc.district_upserts.push(wire::DistrictElements {
                    task_code: t.clone(),
                    region_code: r.clone(),
                    local: local.clone(),
                }),
                None if !c.removed.contains_key(t) => doc.district_removals.push(t.clone()),
                None => {}
            }
        }
        Arc::new(serde_json::to_vec(&doc).unwrap_or_default())
    };
    let gzipped = wants_gzip(&headers).then(|| Arc::new(wire::gzip(&body)));
    signed_document(&s, body, gzipped)
}
