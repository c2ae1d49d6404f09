//! Text contrast (WCAG 2.x AA, 4.5:1 for body text): the theme's colours, and every tint a
//! button, tile or badge is drawn in across `ui/`, as the white text on it (or, outlined, as
//! its own text on white) is read. Read from the `.slint` sources, so a new page cannot bring
//! back the old 3.17:1 orange.

#[path = "common/slint_sources.rs"]
mod slint_sources;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const AA: f64 = 4.5;

fn channel(c: u8) -> f64 {
    let c = f64::from(c) / 255.0;
    if c <= 0.03928 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

/// `#rrggbb` (an alpha byte is refused: text over a blend has no fixed contrast).
fn rgb(hex: &str) -> (u8, u8, u8) {
    let h = hex.trim_start_matches('#');
    assert_eq!(
        h.len(),
        6,
        "{hex}: only opaque #rrggbb colours can be checked"
    );
    let p = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).unwrap();
    (p(0), p(2), p(4))
}

fn luminance(hex: &str) -> f64 {
    let (r, g, b) = rgb(hex);
    0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
}

fn contrast(a: &str, b: &str) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// `Theme`'s colours by name, from `ui/theme.slint`.
fn theme() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string("ui/theme.slint").unwrap();
    text.lines()
        .filter_map(|l| {
            let rest = l.trim().strip_prefix("out property <color> ")?;
            let (name, value) = rest.split_once(':')?;
            Some((
                name.trim().to_owned(),
                value.trim().trim_end_matches(';').to_owned(),
            ))
        })
        .collect()
}

/// The colours a property's expression can take: `Theme.x` names and `#hex` literals.
fn colours_in(expr: &str, theme: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, _) in expr.match_indices("Theme.") {
        let name: String = expr[i + 6..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '-')
            .collect();
        let value = theme
            .get(&name)
            .unwrap_or_else(|| panic!("Theme.{name} is not a colour of ui/theme.slint"));
        out.push((format!("Theme.{name}"), value.clone()));
    }
    for (i, _) in expr.match_indices('#') {
        let hex: String = expr[i..]
            .chars()
            .take_while(|c| *c == '#' || c.is_ascii_hexdigit())
            .collect();
        out.push((hex.clone(), hex));
    }
    out
}

#[test]
fn the_theme_s_text_colours_read_at_aa_on_their_backgrounds() {
    let t = theme();
    let c = |n: &str| t[n].as_str();
    for fill in [
        "brand",
        "brand-dark",
        "accent",
        "ok",
        "muted",
        "help",
        "danger",
    ] {
        let r = contrast("#ffffff", c(fill));
        assert!(r >= AA, "white on Theme.{fill} ({}) is {r:.2}:1", c(fill));
    }
    for ink in [
        "text",
        "muted",
        "accent",
        "ok",
        "brand",
        "brand-dark",
        "danger",
    ] {
        for ground in ["surface", "background"] {
            let r = contrast(c(ink), c(ground));
            assert!(r >= AA, "Theme.{ink} on Theme.{ground} is {r:.2}:1");
        }
    }
    let r = contrast(c("disabled-text"), c("disabled"));
    assert!(r >= AA, "a disabled control's text is {r:.2}:1");
}

#[test]
fn every_button_tile_and_badge_tint_carries_its_text_at_aa() {
    let theme = theme();
    let files = slint_sources::slint_files(Path::new("ui"));
    let sources: Vec<(PathBuf, String)> = files
        .into_iter()
        .map(|f| {
            let s = std::fs::read_to_string(&f).unwrap();
            (f, s)
        })
        .collect();
    // Components drawn as a BigButton (white text on the tint, or the tint's text on white
    // when outlined), found by inheritance across every file.
    let mut buttons = vec!["BigButton".to_owned()];
    loop {
        let before = buttons.len();
        for (_, s) in &sources {
            for l in s.lines() {
                let Some(rest) = l
                    .trim()
                    .strip_prefix("component ")
                    .or_else(|| l.trim().strip_prefix("export component "))
                else {
                    continue;
                };
                if let Some((name, base)) = rest.split_once(" inherits ") {
                    let base = base.trim_end_matches('{').trim();
                    if buttons.iter().any(|b| b == base) && !buttons.iter().any(|b| b == name) {
                        buttons.push(name.trim().to_owned());
                    }
                }
            }
        }
        if buttons.len() == before {
            break;
        }
    }
    let mut checked = 0;
    let mut failures = Vec::new();
    for (file, s) in &sources {
        // The element each brace opened (a component's name, or "" for other blocks).
        let mut stack: Vec<String> = Vec::new();
        for (n, line) in s.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            let trimmed = code.trim();
            let inside = stack.iter().rev().find(|e| !e.is_empty()).cloned();
            let wanted = if let Some(expr) = trimmed.strip_prefix("badge-tint:") {
                Some(expr)
            } else if let Some(expr) = trimmed.strip_prefix("tint:") {
                // A button's tint, or a ListRow's badge through its own property.
                inside
                    .as_deref()
                    .filter(|e| buttons.iter().any(|b| b == e))
                    .map(|_| expr)
            } else {
                None
            };
            if let Some(expr) = wanted {
                for (name, hex) in colours_in(expr, &theme) {
                    checked += 1;
                    let r = contrast("#ffffff", &hex);
                    if r < AA {
                        failures.push(format!(
                            "{}:{}: {name} ({hex}) carries white text at {r:.2}:1",
                            file.display(),
                            n + 1
                        ));
                    }
                }
            }
            for ch in code.chars() {
                match ch {
                    '{' => {
                        let before = code[..code.find('{').unwrap_or(0)].trim_end();
                        let element = before
                            .rsplit(|c: char| c.is_whitespace() || c == ':')
                            .next()
                            .filter(|w| w.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
                            .unwrap_or_default();
                        let element = if trimmed.starts_with("component ")
                            || trimmed.starts_with("export component ")
                        {
                            "" // A definition, not a use.
                        } else {
                            element
                        };
                        stack.push(element.to_owned());
                    }
                    '}' => {
                        stack.pop();
                    }
                    _ => {}
                }
            }
        }
    }
    assert!(
        checked > 40,
        "only {checked} tints found: the scan is broken"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
