//! Every `@tr` text of the UI has an English translation in the bundled `.po`, and the `.po`
//! holds nothing the UI no longer says.

#[path = "common/slint_sources.rs"]
mod slint_sources;

use std::collections::BTreeMap;
use std::path::Path;

/// The first argument of every `@tr("…")`.
fn tr_strings() -> Vec<String> {
    let files = slint_sources::slint_files(Path::new("ui"));
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, _) in text.match_indices("@tr(\"") {
            let rest = &text[i + 5..];
            let end = rest.find('"').unwrap();
            out.push(rest[..end].to_owned());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// msgid → msgstr of the English `.po` (single-line entries, as the file is written).
fn po() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string("ui/translations/en/LC_MESSAGES/ykb-terminal.po").unwrap();
    let unquote = |s: &str| {
        s.trim()
            .trim_matches('"')
            .replace("\\\"", "\"")
            .replace("\\\\", "\\")
    };
    let mut map = BTreeMap::new();
    let mut id = None;
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("msgid ") {
            id = Some(unquote(v));
        } else if let Some(v) = line.strip_prefix("msgstr ") {
            if let Some(k) = id.take().filter(|k| !k.is_empty()) {
                map.insert(k, unquote(v));
            }
        }
    }
    map
}

#[test]
fn every_ui_text_has_english_and_no_entry_is_stale() {
    let strings = tr_strings();
    assert!(
        strings.len() > 50,
        "found only {} @tr strings",
        strings.len()
    );
    let po = po();
    let missing: Vec<_> = strings
        .iter()
        .filter(|s| po.get(*s).is_none_or(|t| t.is_empty()))
        .collect();
    assert!(missing.is_empty(), "no English for: {missing:?}");
    let stale: Vec<_> = po.keys().filter(|k| !strings.contains(k)).collect();
    assert!(stale.is_empty(), "not in the UI any more: {stale:?}");
    for (zh, en) in &po {
        assert_eq!(
            zh.matches("{}").count(),
            en.matches("{}").count(),
            "placeholders differ: {zh}"
        );
    }
}
