//! The architecture invariants of ARCHITECTURE.md, checked on the source tree so they stay
//! true: which room may name which, where the one `include_modules!` and the one app switch
//! live, and how large a file may grow. Each test holds one invariant; when it breaks, the
//! message names every `file:line` that breaks it, the rule in plain words, and what to do.
//!
//! The checks read source text, not the compiler's module graph. A line's code is what comes
//! before any `//`, so comments and doc comments may name what the code must not use. Paths
//! into another room are recognised as `crate::room…`, also inside a grouped
//! `use crate::{…}`; write cross-room paths that way (not through `super::super::…`).

use std::path::{Path, PathBuf};

/// Every `.{ext}` file under `dir`, recursively, in a stable order. Fails, never skips, when
/// `dir` is missing or holds no such file: a guard must not pass by looking at nothing.
fn files(dir: &str, ext: &str) -> Vec<PathBuf> {
    assert!(
        Path::new(dir).is_dir(),
        "\n{dir}/ does not exist, so the rule about it cannot be checked.\n\
         ARCHITECTURE.md places a room there: create it, or, if the room moved, move this \
         test with it.\n"
    );
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::from(dir)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    assert!(!out.is_empty(), "no .{ext} files under {dir}/");
    out.sort();
    out
}

/// The code of each line of `path`, numbered from 1: the text before any `//`.
fn code_lines(path: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .enumerate()
        .map(|(n, line)| {
            (
                n + 1,
                line.split("//").next().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// One line that breaks a rule, as the failure message shows it.
fn hit(path: &Path, line: usize, what: &str, code: &str) -> String {
    format!("{}:{line}: {what}:  {}", path.display(), code.trim())
}

/// Every line whose code contains one of `forbidden`.
fn offenders(paths: &[PathBuf], forbidden: &[&str]) -> Vec<String> {
    let mut bad = Vec::new();
    for p in paths {
        for (n, code) in code_lines(p) {
            for f in forbidden {
                if code.contains(f) {
                    bad.push(hit(p, n, &format!("mentions `{f}`"), &code));
                }
            }
        }
    }
    bad
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The words of an identifier, split at `_` and at lower-to-upper case: `store_case` has
/// `store` and `case`; `StoreError` has `Store` and `Error`; `stored` and `restore` are one
/// word each.
fn words(ident: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in ident.split('_') {
        let mut word = String::new();
        let mut prev_lower = false;
        for c in part.chars() {
            if c.is_uppercase() && prev_lower && !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            prev_lower = c.is_lowercase() || c.is_ascii_digit();
            word.push(c);
        }
        if !word.is_empty() {
            out.push(word);
        }
    }
    out
}

/// Every line whose code has an identifier with one of `forbidden` as a whole word, in any
/// case (so `store`, `Store`, `STORE_FILE`, `store_case`, but not `stored` or `restore`).
fn word_offenders(paths: &[PathBuf], forbidden: &[&str]) -> Vec<String> {
    let mut bad = Vec::new();
    for p in paths {
        for (n, code) in code_lines(p) {
            for ident in code.split(|c: char| !is_ident(c)).filter(|s| !s.is_empty()) {
                for w in words(ident) {
                    if let Some(f) = forbidden.iter().find(|f| w.eq_ignore_ascii_case(f)) {
                        bad.push(hit(
                            p,
                            n,
                            &format!("names `{ident}` (the word `{f}`)"),
                            &code,
                        ));
                    }
                }
            }
        }
    }
    bad
}

/// The leading identifier of `s`.
fn ident_at(s: &str) -> &str {
    let end = s.find(|c: char| !is_ident(c)).unwrap_or(s.len());
    &s[..end]
}

/// The top-level module each `crate::` path in `code` starts with, by byte offset:
/// `crate::kiosk::Kiosk` gives `kiosk`; `use crate::{core::Core, kiosk::{a, b}}` gives `core`
/// and `kiosk`, however the group is wrapped over lines.
fn crate_roots(code: &str) -> Vec<(usize, &str)> {
    const CRATE: &str = "crate::";
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = code[from..].find(CRATE) {
        let at = from + i;
        let start = at + CRATE.len();
        from = start;
        if code[..at].chars().next_back().is_some_and(is_ident) {
            continue; // `ykb_crate::…`, not a path from this crate's root
        }
        let Some(group) = code[start..].strip_prefix('{') else {
            out.push((start, ident_at(&code[start..])));
            continue;
        };
        let (mut depth, mut item_starts) = (1, true);
        for (j, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 1 => break,
                '}' => depth -= 1,
                ',' if depth == 1 => item_starts = true,
                c if depth == 1 && item_starts && is_ident(c) => {
                    out.push((start + 1 + j, ident_at(&group[j..])));
                    item_starts = false;
                }
                _ => {}
            }
        }
    }
    out
}

/// Every line whose code has a path into one of the crate's top-level `modules`.
fn crate_path_offenders(paths: &[PathBuf], modules: &[&str]) -> Vec<String> {
    let mut bad = Vec::new();
    for p in paths {
        let lines = code_lines(p);
        let code: String = lines.iter().map(|(_, c)| format!("{c}\n")).collect();
        for (offset, root) in crate_roots(&code) {
            if modules.contains(&root) {
                let line = code[..offset].matches('\n').count();
                let (n, text) = &lines[line];
                bad.push(hit(p, *n, &format!("reaches into `crate::{root}`"), text));
            }
        }
    }
    bad
}

/// Fails, when `bad` names any line, with the rule, the lines (by file, then line) and what
/// to do.
fn hold(mut bad: Vec<String>, rule: &str, fix: &str) {
    bad.sort_by_key(|b| {
        let mut parts = b.splitn(3, ':');
        let file = parts.next().unwrap_or_default().to_owned();
        (file, parts.next().and_then(|n| n.parse::<usize>().ok()))
    });
    assert!(
        bad.is_empty(),
        "\n\nArchitecture rule broken: {rule}\n\n{}\n\nWhat to do: {fix}\n\
         (ARCHITECTURE.md describes each room and the rules that keep its shape.)\n",
        bad.iter()
            .map(|b| format!("  {b}"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
}

#[test]
fn the_core_knows_nothing_of_slint() {
    let paths = files("src/core", "rs");
    let mut bad = offenders(&paths, &["slint"]);
    bad.extend(crate_path_offenders(
        &paths,
        &[
            "kiosk", "counter", "sim", "ops", "cli", "terminal", "errand", "ui", "app",
        ],
    ));
    hold(
        bad,
        "src/core/ knows nothing of Slint and nothing of the rooms built on it (kiosk, \
         counter, terminal, errand, ui, app, sim, ops, cli).",
        "the core is the bottom floor of the app: everything above may call it, it calls \
         nothing above. Move the code up into the room that needs it, or hand the core a \
         plain value or a trait (as `core::platform::Platform` does) instead of importing.",
    );
}

#[test]
fn the_hall_database_never_learns_anything_personal() {
    let paths = files("src/core/hall", "rs");
    assert!(!paths.is_empty(), "src/core/hall/ moved? update this rule");
    let mut bad = offenders(
        &paths,
        &[
            "IdNumber",
            "id_number",
            "Person",
            "green_reason",
            "GreenReason",
            "IssueRequest {",
        ],
    );
    bad.extend(offenders(
        &paths,
        &["crate::core::domain::person", "DataKey"],
    ));
    // Only the hall room speaks to PostgreSQL.
    let others: Vec<PathBuf> = files("src", "rs")
        .into_iter()
        .filter(|p| !p.starts_with("src/core/hall"))
        .collect();
    bad.extend(offenders(&others, &["postgres::"]));
    hold(
        bad,
        "src/core/hall/ (the hall database) never names an ID number, a person or why a \
         citizen is in the green channel, and it is the only room that speaks to PostgreSQL.",
        "decide in core::ticketing (`plan_issue`) and hand the hall the decided `IssuePlan`: \
         kind, priority, appointment code. Queue SQL for the hall database goes in \
         src/core/hall/.",
    );
}

#[test]
fn drivers_know_nothing_of_matters_or_sqlite() {
    let mut paths = files("drivers/src", "rs");
    paths.push(Path::new("drivers/Cargo.toml").to_owned());
    let bad = offenders(
        &paths,
        &[
            "rusqlite",
            "ykb_terminal",
            "ykb-terminal =",
            "Matter",
            "slint",
        ],
    );
    hold(
        bad,
        "drivers/ (the ykb-drivers crate) knows devices and wire protocols only: nothing of \
         matters, the app, SQLite or Slint.",
        "keep the driver at bytes, frames and device states; turn them into matters, people \
         or rows in the app (src/terminal or src/core). See drivers/README.md.",
    );
}

#[test]
fn ui_knows_nothing_of_sql_or_serial_ports() {
    let bad = offenders(
        &files("ui", "slint"),
        &["SELECT ", "INSERT ", "sqlite", "/dev/tty", "serial"],
    );
    hold(
        bad,
        "ui/*.slint decides how things look, and knows nothing of SQL or serial ports.",
        "give the page a property or a callback on its global, and let the Rust side \
         (src/kiosk, src/counter) fetch the data or talk to the device.",
    );
}

#[test]
fn the_terminal_layer_and_the_errand_builder_know_nothing_of_slint() {
    let mut paths = files("src/terminal", "rs");
    paths.extend(files("src/errand", "rs"));
    hold(
        offenders(&paths, &["slint"]),
        "src/terminal/ and src/errand/ know nothing of Slint: every app (kiosk, counter, \
         hall display) shares them, and they are tested without a window.",
        "hand results out as plain values or through a callback; the app that draws \
         (src/kiosk, src/counter) turns them into Slint properties and posts to its UI \
         thread.",
    );
}

#[test]
fn only_src_ui_rs_includes_the_generated_slint_modules() {
    let ui = Path::new("src/ui.rs");
    let here = code_lines(ui)
        .iter()
        .filter(|(_, c)| c.contains("include_modules!"))
        .count();
    assert_eq!(
        here, 1,
        "src/ui.rs must hold the one `slint::include_modules!()` (found {here})"
    );
    let others: Vec<PathBuf> = files("src", "rs").into_iter().filter(|p| p != ui).collect();
    hold(
        offenders(&others, &["include_modules!"]),
        "only src/ui.rs expands `slint::include_modules!()`: the generated windows and \
         globals have one home, so the apps import them from `crate::ui` and never from \
         each other.",
        "remove the second `include_modules!` and `use crate::ui::…` for the types you need.",
    );
}

#[test]
fn the_kiosk_and_the_counter_never_import_each_other() {
    let mut bad = crate_path_offenders(&files("src/kiosk", "rs"), &["counter"]);
    bad.extend(crate_path_offenders(
        &files("src/counter", "rs"),
        &["kiosk"],
    ));
    hold(
        bad,
        "src/kiosk/ (the citizen app) and src/counter/ (the clerk's app and the hall \
         display) never import each other.",
        "what both apps need belongs in the shared rooms: src/terminal (devices, platform \
         link, delivery, speech), src/errand (form, checklist, the one NewCase builder), \
         src/ui.rs (generated Slint types) or src/core. Only src/app.rs picks between the \
         apps.",
    );
}

#[test]
fn the_simulator_never_imports_the_kiosk_or_the_terminal_layer() {
    hold(
        crate_path_offenders(&files("src/sim", "rs"), &["kiosk", "terminal"]),
        "src/sim/ (the platform simulator) never imports src/kiosk or src/terminal: the \
         terminal layer calls the simulator, never the other way round.",
        "let `sim::demo` return the parts it started (its handle, a registered client) and \
         build the `PlatformLink` from them in src/terminal/link.rs.",
    );
}

#[test]
fn page_controllers_never_touch_the_store_or_a_device() {
    let paths = files("src/kiosk/pages", "rs");
    let mut bad = word_offenders(&paths, &["store"]);
    bad.extend(offenders(&paths, &["ykb_drivers", "rusqlite"]));
    hold(
        bad,
        "a page controller in src/kiosk/pages/ only connects its page's callbacks to \
         session events and renders the session's view into its own global: it never names \
         the store, SQLite or a driver.",
        "turn the need into an effect of the session (src/kiosk/session), which the loop in \
         src/kiosk/mod.rs runs through the terminal layer; the page renders the result.",
    );
}

#[test]
fn only_the_app_switch_picks_an_app_by_terminal_kind() {
    const PICKS: [&str; 2] = ["TerminalKind::Counter", "TerminalKind::HallDisplay"];
    let app = Path::new("src/app.rs");
    for pick in PICKS {
        assert!(
            !offenders(&[app.to_owned()], &[pick]).is_empty(),
            "src/app.rs is the app switch, but it no longer names `{pick}`: if the switch \
             moved, move this test with it"
        );
    }
    // Profiles name every kind where they are read, written and described: the core's
    // config, provisioning templates in ops, the command line's `--kind`. They never start
    // an app.
    let profile_rooms = ["src/core", "src/ops", "src/cli"].map(Path::new);
    let others: Vec<PathBuf> = files("src", "rs")
        .into_iter()
        .filter(|p| p != app && p != Path::new("src/cli.rs"))
        .filter(|p| !profile_rooms.iter().any(|r| p.starts_with(r)))
        .collect();
    hold(
        offenders(&others, &PICKS),
        "only src/app.rs decides by `TerminalKind::Counter` / `TerminalKind::HallDisplay` \
         which app runs; no UI room (kiosk, counter, terminal, errand, ui) and no other file \
         outside the profile rooms (core, ops, cli) names those kinds.",
        "the app switch is `app::run_from_cli`; an app that behaves differently per kind \
         should be given what it needs (a profile section, a flag) rather than test the kind.",
    );
}

#[test]
fn no_source_file_is_over_1200_lines() {
    const LIMIT: usize = 1200;
    let mut bad = Vec::new();
    for p in files("src", "rs") {
        let tests = p.file_name().is_some_and(|n| n == "tests.rs")
            || p.components().any(|c| c.as_os_str() == "tests");
        let lines = std::fs::read_to_string(&p).unwrap().lines().count();
        if !tests && lines > LIMIT {
            bad.push(format!(
                "{}:{}: the file goes on to line {lines}",
                p.display(),
                LIMIT + 1
            ));
        }
    }
    hold(
        bad,
        "no file under src/ is longer than 1,200 lines (test modules — files named tests.rs \
         or under a tests/ folder — excepted).",
        "split the file along the seams it already has: make it a folder (`x.rs` becomes \
         `x/mod.rs` with one file per part) and move its tests into `x/tests.rs`.",
    );
}

#[test]
fn the_guards_read_paths_and_words_as_meant() {
    let roots = |code: &str| -> Vec<String> {
        crate_roots(code)
            .into_iter()
            .map(|(_, r)| r.to_owned())
            .collect()
    };
    assert_eq!(roots("use crate::kiosk::Kiosk;"), ["kiosk"]);
    assert_eq!(
        roots("use crate::{\n    core::Core,\n    counter::{clerk, hall},\n};"),
        ["core", "counter"]
    );
    assert_eq!(
        roots("use ykb_crate::kiosk; let s = \"crate\";"),
        [] as [&str; 0]
    );
    assert_eq!(words("store_case"), ["store", "case"]);
    assert_eq!(words("StoreError"), ["Store", "Error"]);
    assert_eq!(words("STORE_FILE"), ["STORE", "FILE"]);
    assert_eq!(words("stored"), ["stored"]);
}
