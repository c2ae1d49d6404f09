//! The embedded font must draw every character a citizen may meet: all of GB 2312, CJK
//! Extension A, rare characters common in names, every UI string and every catalogue string.

mod common;

use std::collections::BTreeSet;

const FONT: &[u8] = include_bytes!("../assets/fonts/YKBSansSC-Regular.ttf");

fn face() -> ttf_parser::Face<'static> {
    ttf_parser::Face::parse(FONT, 0).expect("embedded font parses")
}

/// Characters the font has no glyph for, out of `chars`.
fn missing(chars: impl IntoIterator<Item = char>) -> Vec<char> {
    let face = face();
    chars
        .into_iter()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .filter(|c| face.glyph_index(*c).is_none_or(|g| g.0 == 0))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Characters of a data file: lines starting with '#' are comments, whitespace is ignored.
fn data_chars(path: &str) -> Vec<char> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(str::chars)
        .filter(|c| !c.is_whitespace())
        .collect()
}

#[test]
fn font_covers_all_of_gb2312() {
    let chars = data_chars("tests/data/gb2312.txt");
    // 7445 graphic characters, less U+3000 IDEOGRAPHIC SPACE, which reads as whitespace.
    assert_eq!(chars.len(), 7444);
    let m = missing(chars);
    assert!(
        m.is_empty(),
        "{} GB 2312 characters without a glyph: {:?}",
        m.len(),
        m
    );
}

/// CJK Extension A as GB 18030-2005 requires it: U+3400–U+4DB5 (6582 characters). The ten
/// code points U+4DB6–U+4DBF were added in Unicode 13 (2020); no OFL/Apache CJK sans font
/// available to us draws them yet.
#[test]
fn font_covers_cjk_extension_a() {
    let m = missing((0x3400u32..=0x4DB5).filter_map(char::from_u32));
    assert!(
        m.is_empty(),
        "{} Extension A characters without a glyph: {:?}",
        m.len(),
        m
    );
}

#[test]
fn font_covers_rare_name_characters() {
    let chars = data_chars("tests/data/rare-name-chars.txt");
    assert!(chars.len() >= 100, "the list should hold 100+ characters");
    let m = missing(chars);
    assert!(m.is_empty(), "rare name characters without a glyph: {m:?}");
}

/// Every string literal in every .slint file under ui/.
fn ui_strings() -> String {
    let mut all = String::new();
    for p in common::files_with_extension("ui", "slint") {
        let src = std::fs::read_to_string(&p).unwrap();
        for (i, part) in src.split('"').enumerate() {
            if i % 2 == 1 {
                all.push_str(part);
            }
        }
    }
    all
}

#[test]
fn font_covers_every_ui_string() {
    let s = ui_strings();
    assert!(s.contains("办事指南"), "the scan found the UI strings");
    let m = missing(s.chars());
    assert!(m.is_empty(), "UI characters without a glyph: {m:?}");
}

#[test]
fn font_covers_every_demo_catalogue_string() {
    let m = missing(ykb_terminal::core::catalog::DEMO_CATALOG.chars());
    assert!(m.is_empty(), "catalogue characters without a glyph: {m:?}");
}

#[test]
fn a_missing_glyph_is_detected() {
    // Guards the test itself: a private-use code point is certainly absent.
    assert_eq!(missing(['\u{F0000}']), vec!['\u{F0000}']);
}
