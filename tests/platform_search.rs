//! Search and browse on the demo catalogue in a real SQLite file: Chinese substrings, full
//! pinyin, pinyin initials, aliases and synonyms, ranking and filters; and the CLI's
//! `search` and `catalog show`.

mod common;

use ykb_terminal::core::catalog::Catalog;
use ykb_terminal::core::domain::Audience;
use ykb_terminal::core::search::{self, Filters, SearchHit};
use ykb_terminal::core::store::Store;

fn demo_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("t.db")).unwrap();
    store.replace_catalog(&Catalog::demo().unwrap()).unwrap();
    assert!(search::ensure_index(&mut store).unwrap(), "index built");
    assert!(!search::ensure_index(&mut store).unwrap(), "and kept");
    (dir, store)
}

fn names(hits: &[SearchHit]) -> Vec<&str> {
    hits.iter().map(|h| h.name.as_str()).collect()
}

fn find(store: &mut Store, q: &str) -> Vec<SearchHit> {
    search::search(store.conn(), q, &Filters::default(), 10).unwrap()
}

#[test]
fn pinyin_initials_find_the_matter() {
    let (_d, mut s) = demo_store();
    let sfz = find(&mut s, "sfz");
    assert_eq!(sfz[0].name, "居民身份证换领", "{:?}", names(&sfz));
    assert!(names(&sfz[..3]).iter().all(|n| n.contains("身份证")));
    let hkqy = find(&mut s, "hkqy");
    assert!(
        names(&hkqy[..2]).iter().all(|n| n.starts_with("户口迁移")),
        "{:?}",
        names(&hkqy)
    );
    let gjjtq = find(&mut s, "gjjtq");
    assert_eq!(gjjtq.len(), 3, "{:?}", names(&gjjtq));
    assert!(names(&gjjtq)
        .iter()
        .all(|n| n.starts_with("住房公积金提取")));
    // Upper case and full-width letters from an on-screen keyboard are the same query.
    assert_eq!(names(&find(&mut s, "SFZ")), names(&sfz));
    assert_eq!(names(&find(&mut s, "ｓｆｚ")), names(&sfz));
}

#[test]
fn full_pinyin_finds_the_matter() {
    let (_d, mut s) = demo_store();
    let hits = find(&mut s, "shenfenzheng");
    assert!(
        names(&hits).contains(&"居民身份证补领"),
        "{:?}",
        names(&hits)
    );
    let hits = find(&mut s, "hukouqianyi");
    assert!(hits[0].name.starts_with("户口迁移"), "{:?}", names(&hits));
    assert!(find(&mut s, "zzzzqqq").is_empty());
}

#[test]
fn chinese_substrings_of_any_length_are_found() {
    let (_d, mut s) = demo_store();
    assert!(names(&find(&mut s, "护照")).contains(&"普通护照申领"));
    assert!(names(&find(&mut s, "迁移"))
        .iter()
        .any(|n| n.starts_with("户口迁移")));
    assert!(find(&mut s, "照").len() >= 2, "one character works too");
    let exact = find(&mut s, "居民身份证换领");
    assert_eq!(
        (exact[0].name.as_str(), exact[0].tier),
        ("居民身份证换领", 0)
    );
    assert!(find(&mut s, "火星移民").is_empty());
}

#[test]
fn aliases_and_synonyms_match_both_ways() {
    let (_d, mut s) = demo_store();
    // Alias given by the catalogue.
    assert!(names(&find(&mut s, "户口本")).contains(&"居民户口簿补领换领"));
    // 社保卡 ↔ 社会保障卡
    let short = find(&mut s, "社保卡");
    assert!(
        short
            .iter()
            .take(2)
            .all(|h| h.name.starts_with("社会保障卡")),
        "{:?}",
        names(&short)
    );
    let long = find(&mut s, "社会保障卡");
    assert!(long
        .iter()
        .take(2)
        .all(|h| h.name.starts_with("社会保障卡")));
    // 医保 ↔ 医疗保障/医疗保险: matters named 基本医疗保险… are found by 医保.
    let yb = find(&mut s, "医保");
    assert!(
        names(&yb).iter().any(|n| n.contains("医疗保险")),
        "{:?}",
        names(&yb)
    );
    // 公积金 ↔ 住房公积金, also through pinyin of the synonym.
    assert!(find(&mut s, "gongjijin").len() >= 3);
}

#[test]
fn ranking_puts_exact_and_prefix_before_substring() {
    let (_d, mut s) = demo_store();
    let hits = find(&mut s, "身份证");
    // Alias "身份证" is exact on three matters; they come before matters merely mentioning it.
    assert!(hits[..3].iter().all(|h| h.tier <= 1), "{hits:?}");
    assert!(hits.windows(2).all(|w| w[0].tier <= w[1].tier), "{hits:?}");
}

#[test]
fn filters_and_browse_narrow_the_results() {
    let (_d, mut s) = demo_store();
    let conn = s.conn();
    let legal = Filters {
        audience: Some(Audience::LegalPerson),
        ..Default::default()
    };
    let all_legal = search::search(conn, "", &legal, 100).unwrap();
    assert!(names(&all_legal).contains(&"企业设立登记"));
    assert!(!names(&all_legal).contains(&"居民身份证换领"));
    let here = Filters {
        self_service_only: true,
        ..Default::default()
    };
    assert!(search::search(conn, "sfz", &here, 10)
        .unwrap()
        .iter()
        .all(|h| h.self_service));
    let dep = Filters {
        department: Some("住房公积金".into()),
        ..Default::default()
    };
    assert_eq!(search::search(conn, "", &dep, 100).unwrap().len(), 7);
    let ev = Filters {
        life_event: Some("生育收养".into()),
        ..Default::default()
    };
    let births = search::search(conn, "", &ev, 100).unwrap();
    assert_eq!(births.len(), 7);
    let deps = search::departments(conn, &Filters::default()).unwrap();
    assert_eq!(deps.len(), 15);
    assert_eq!(deps.iter().map(|d| d.count).sum::<u64>(), 72);
    let events = search::life_events(conn, &Filters::default()).unwrap();
    assert_eq!(events[0].name, "住房");
}

#[test]
fn cli_search_and_catalog_show_work_on_the_demo_profile() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::run_in(dir.path(), &["search", "sfz", "--json"]);
    common::assert_success(&out);
    let hits: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(hits[0]["name"], "居民身份证换领");
    let code = hits[0]["task_code"].as_str().unwrap().to_owned();
    let out = common::run_in(dir.path(), &["catalog", "show", &code]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("居民身份证换领") && text.contains("咨询电话"),
        "{text}"
    );
    let out = common::run_in(dir.path(), &["catalog", "show", "NOPE"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("search"));
}

#[test]
fn cli_sync_on_the_demo_profile_uses_its_own_simulator() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::run_in(dir.path(), &["sync", "--full"]);
    common::assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("完整同步完成") && text.contains("72"),
        "{text}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("写入"),
        "progress on stderr"
    );
    let out = common::run_in(dir.path(), &["search", "hkqy", "--json"]);
    let hits: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(hits[0]["name"].as_str().unwrap().starts_with("户口迁移"));
}
