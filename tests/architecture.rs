//! The architecture invariants of ARCHITECTURE.md, checked on the source tree so they stay
//! true: drivers know nothing of matters or SQLite; the core knows nothing of Slint; ui/
//! knows nothing of SQL or serial ports.

use std::path::{Path, PathBuf};

fn files(dir: &str, ext: &str) -> Vec<PathBuf> {
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
    assert!(!out.is_empty(), "no .{ext} files under {dir}");
    out
}

fn offenders(paths: &[PathBuf], forbidden: &[&str]) -> Vec<String> {
    let mut bad = Vec::new();
    for p in paths {
        let text = std::fs::read_to_string(p).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for f in forbidden {
                if code.contains(f) {
                    bad.push(format!("{}:{}: {f}", p.display(), n + 1));
                }
            }
        }
    }
    bad
}

#[test]
fn the_core_knows_nothing_of_slint() {
    let bad = offenders(&files("src/core", "rs"), &["slint", "crate::kiosk"]);
    assert!(bad.is_empty(), "{bad:#?}");
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
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn ui_knows_nothing_of_sql_or_serial_ports() {
    let bad = offenders(
        &files("ui", "slint"),
        &["SELECT ", "INSERT ", "sqlite", "/dev/tty", "serial"],
    );
    assert!(bad.is_empty(), "{bad:#?}");
}
