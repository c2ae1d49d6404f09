//! The command line as a technician uses it: the real binary, real files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ykb-terminal"));
    // Tests never open a window and never touch the user's data directory.
    c.env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("RUST_LOG");
    c
}

fn run(c: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = c.output().expect("binary runs");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// Runs the binary on the data directory `dir`.
fn in_dir(dir: &Path, args: &[&str]) -> (i32, String, String) {
    run(bin().arg("--data-dir").arg(dir).args(args))
}

/// Writes `text` as the profile `bad.toml` in `dir`.
fn bad_profile(dir: &Path, text: &str) -> PathBuf {
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, text).unwrap();
    bad
}

fn profiles() -> Vec<PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir("kiosk-config")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_shipped_profile_passes_check_config() {
    let files = profiles();
    assert!(
        files.len() >= 5,
        "demo, kiosk-24h, counter, bank-terminal, post-terminal"
    );
    let (code, out, err) = run(bin().arg("check-config").args(&files));
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    assert_eq!(out.lines().count(), files.len());
}

/// Writes a broken copy of the demo profile and checks the one-line verdict.
fn broken(dir: &Path, name: &str, edit: impl Fn(&str) -> String, key: &str) {
    let demo = std::fs::read_to_string("kiosk-config/demo.toml").unwrap();
    let edited = edit(&demo);
    assert_ne!(edited, demo, "{name}: the edit must change the file");
    let path = dir.join(name);
    std::fs::write(&path, edited).unwrap();
    let before = std::fs::read(&path).unwrap();
    let (code, out, err) = run(bin().arg("check-config").arg(&path));
    assert_eq!(code, 2, "{name}: {out}{err}");
    let line = err.lines().next().unwrap_or_default();
    assert!(
        line.contains(&path.display().to_string()),
        "{name}: names the file: {line}"
    );
    assert!(line.contains(key), "{name}: names the key {key}: {line}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "{name}: nothing written"
    );
}

#[test]
fn broken_profiles_fail_with_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // File, text replaced (every occurrence), replacement, the key the verdict names.
    #[rustfmt::skip]
    let replaced = [
        ("typo.toml", "idle_timeout_secs", "idle_timout_secs", "idle_timout_secs"),
        ("type.toml", "idle_timeout_secs = 90", "idle_timeout_secs = \"90\"", "terminal.idle_timeout_secs"),
        ("missing.toml", "region_code = \"500103\"\n", "", "terminal.region_code"),
        ("range.toml", "timeout_secs = 15", "timeout_secs = 0", "platform.timeout_secs"),
        ("region.toml", "\"500103\"", "\"5001\"", "terminal.region_code"),
        ("variant.toml", "kind = \"kiosk\"", "kind = \"kisok\"", "terminal.kind"),
        ("remote.toml", "mode = \"simulator\"", "mode = \"remote\"", "platform.base_url"),
    ];
    for (name, from, to, key) in replaced {
        broken(d, name, |s| s.replace(from, to), key);
    }
    // The same, first occurrence only.
    #[rustfmt::skip]
    let replaced_once = [
        ("not-toml.toml", "[terminal]", "[terminal", "-"),
        ("device.toml", "[devices.id_reader]\ndriver = \"simulated\"", "[devices.id_reader]\ndriver = \"sam-serial\"", "devices.id_reader.path"),
    ];
    for (name, from, to, key) in replaced_once {
        broken(d, name, |s| s.replacen(from, to, 1), key);
    }
}

#[test]
fn unreadable_and_non_utf8_profiles_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let absent = dir.path().join("absent.toml");
    let (code, _, err) = run(bin().arg("check-config").arg(&absent));
    assert_eq!(code, 2);
    assert!(
        err.contains("absent.toml") && err.contains("无法读取"),
        "{err}"
    );
    let binary = dir.path().join("binary.toml");
    std::fs::write(&binary, [0xff, 0xfe, 0x00, 0x41]).unwrap();
    let (code, _, err) = run(bin().arg("check-config").arg(&binary));
    assert_eq!(code, 2);
    assert!(err.contains("UTF-8"), "{err}");
}

#[test]
fn one_bad_file_among_good_ones_fails_the_run_but_all_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let bad = bad_profile(dir.path(), "[terminal]\n");
    let (code, out, err) = run(bin()
        .arg("check-config")
        .arg("kiosk-config/demo.toml")
        .arg(&bad));
    assert_eq!(code, 2);
    assert!(out.contains("demo.toml"), "{out}");
    assert!(err.contains("bad.toml"), "{err}");
}

#[test]
fn a_bad_config_for_the_ui_exits_2_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let bad = bad_profile(dir.path(), "nonsense = 1\n");
    let (code, _, err) = run(bin()
        .arg("--config")
        .arg(&bad)
        .arg("--data-dir")
        .arg(dir.path()));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("bad.toml") && !err.contains("panicked"),
        "{err}"
    );
}

#[test]
fn catalog_list_prints_the_demo_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = in_dir(dir.path(), &["catalog", "list"]);
    assert_eq!(code, 0, "{err}");
    let demo = ykb_terminal::core::catalog::Catalog::demo().unwrap();
    assert!(
        out.starts_with(&format!("事项目录 版本 {}", demo.version)),
        "{out}"
    );
    assert_eq!(out.lines().count(), demo.matters.len() + 1);
    for m in &demo.matters {
        assert!(
            out.contains(m.task_code.as_str()) && out.contains(&m.name),
            "{} missing",
            m.name
        );
    }

    let (code, out, _) = in_dir(dir.path(), &["catalog", "list", "--json"]);
    assert_eq!(code, 0);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(rows.len(), demo.matters.len());
    assert_eq!(rows[0]["task_code"], demo.matters[0].task_code.as_str());
    assert!(rows[0]["self_service"].is_boolean());
}

fn sha(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn a_foreign_file_in_the_data_dir_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(ykb_terminal::core::STORE_FILE);
    std::fs::write(
        &db,
        "these are somebody's notes, not a database\n".repeat(100),
    )
    .unwrap();
    let before = sha(&db);
    let (code, _, err) = in_dir(dir.path(), &["catalog", "list"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("不是本终端的数据库") && err.contains("未作任何修改"),
        "{err}"
    );
    assert_eq!(sha(&db), before);
}

#[test]
fn another_programs_sqlite_database_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(ykb_terminal::core::STORE_FILE);
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch("CREATE TABLE accounts (id INTEGER); INSERT INTO accounts VALUES (1);")
            .unwrap();
    }
    let before = sha(&db);
    let (code, _, err) = in_dir(dir.path(), &["catalog", "list"]);
    assert_eq!(code, 1);
    assert!(err.contains("不是本终端的数据库"), "{err}");
    assert_eq!(sha(&db), before);
    assert!(!dir
        .path()
        .join(format!("{}-wal", ykb_terminal::core::STORE_FILE))
        .exists());
}

#[test]
fn a_corrupt_store_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = in_dir(dir.path(), &["catalog", "list"]);
    assert_eq!(code, 0, "{err}");
    let db = dir.path().join(ykb_terminal::core::STORE_FILE);
    // Fold the WAL into the main file so the damage below hits real pages.
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        c.pragma_update(None, "journal_mode", "DELETE").unwrap();
    }
    let mut bytes = std::fs::read(&db).unwrap();
    assert!(bytes.len() > 8192);
    for b in &mut bytes[4096..8192] {
        *b = 0xA5;
    }
    std::fs::write(&db, &bytes).unwrap();
    let (code, _, err) = in_dir(dir.path(), &["catalog", "list"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("已损坏") || err.contains("不是本终端的数据库"),
        "{err}"
    );
    assert_eq!(std::fs::read(&db).unwrap(), bytes);
}

#[test]
fn without_a_display_the_ui_says_so_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(bin().arg("--data-dir").arg(dir.path()));
    assert_eq!(code, 1);
    assert!(out.is_empty());
    let lines: Vec<_> = err
        .lines()
        .filter(|l| l.contains("ykb-terminal:"))
        .collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains("xvfb-run"), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
}

#[test]
fn help_explains_the_subcommands() {
    let (code, out, _) = run(bin().arg("--help"));
    assert_eq!(code, 0);
    for word in ["check-config", "catalog", "--config", "--data-dir"] {
        assert!(out.contains(word), "--help mentions {word}: {out}");
    }
}

#[test]
fn screenshots_render_every_screen_in_both_languages_and_sizes_without_a_display() {
    let out = tempfile::tempdir().unwrap();
    let o = bin()
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .args(["screenshots", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut names: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for variant in ["zh", "zh-large", "en", "en-large"] {
        for screen in [
            "home",
            "find",
            "question",
            "checklist",
            "form",
            "form-pinyin",
            "bundle-guide",
            "capture-live",
            "capture",
            "review",
            "done",
            "evaluate",
            "countdown",
            "identify-read",
        ] {
            assert!(
                names
                    .iter()
                    .any(|n| n.ends_with(&format!("-{screen}-{variant}.png"))),
                "{screen} {variant} missing: {names:?}"
            );
        }
        assert!(
            names.contains(&format!("receipt-{variant}.png")),
            "{names:?}"
        );
    }
    assert!(
        !names.iter().any(|n| n.starts_with(".data")),
        "demo data left behind"
    );
    // The pictures differ: screens from each other, languages and sizes from each other.
    let read = |n: &str| image::open(out.path().join(n)).unwrap().to_rgb8();
    let home = read("01-home-zh.png");
    assert_eq!(home.dimensions(), (1280, 800));
    assert_ne!(home, read("01-home-en.png"));
    assert_ne!(home, read("01-home-zh-large.png"));
    let find = names
        .iter()
        .find(|n| n.ends_with("-find-zh.png"))
        .expect("find");
    assert_ne!(home, read(find));
    // Not a blank frame: the brand blue header is there.
    assert_eq!(home.get_pixel(640, 5).0, [0x0a, 0x58, 0xb8]);
}

/// `handwriting recognise` on a file of strokes written to `dir`.
fn recognise(dir: &Path, strokes: &str, extra: &[&str]) -> (i32, String, String) {
    let file = dir.join("strokes.json");
    std::fs::write(&file, strokes).unwrap();
    let mut c = bin();
    c.args(["handwriting", "recognise"]).arg(&file).args(extra);
    run(&mut c)
}

#[test]
fn handwriting_recognise_ranks_candidates_and_refuses_bad_strokes_in_words() {
    let dir = tempfile::tempdir().unwrap();
    // A written 永 (perturbed stroke median lines, see tests/data/handwriting/).
    let yong = std::fs::read_to_string("tests/data/handwriting/永.json").unwrap();
    let (code, out, err) = recognise(dir.path(), &yong, &["--json"]);
    assert_eq!(
        code, 0,
        "{err} (needs libzinnia0: apt-get install libzinnia0)"
    );
    let found: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(found[0]["text"], "永", "{out}");
    assert!(found.len() > 1 && found.len() <= 10);
    let (code, out, _) = recognise(dir.path(), &yong, &[]);
    assert_eq!(code, 0);
    assert!(out.starts_with(" 1. 永"), "{out}");
    // Debian's model is the baseline a technician may compare with.
    let (code, _, err) = recognise(
        dir.path(),
        &yong,
        &[
            "--model",
            "/usr/share/tegaki/models/zinnia/handwriting-zh_CN.model",
        ],
    );
    assert_eq!(
        code, 0,
        "{err} (apt-get install tegaki-zinnia-simplified-chinese)"
    );

    // Nothing written: no candidates.
    let (code, out, _) = recognise(dir.path(), "[]", &["--json"]);
    assert_eq!((code, out.trim()), (0, "[]"));
    let (code, out, _) = recognise(dir.path(), "[[], []]", &[]);
    assert_eq!(code, 0);
    assert!(out.contains("没有候选字"), "{out}");
    // Outside the box, too many points, not strokes at all: one line, exit 1, quickly.
    let (code, _, err) = recognise(dir.path(), "[[[10, 10], [2000, 5]]]", &[]);
    assert_eq!(code, 1);
    assert!(
        err.contains("stroke 1 has the point (2000, 5) outside the 1024 × 1024 box"),
        "{err}"
    );
    let (code, _, err) = recognise(dir.path(), "[[[10, -1]]]", &[]);
    assert_eq!(code, 1, "{err}");
    let million = format!("[[{}[1,1]]]", "[1,1],".repeat(2_000_000));
    let t = std::time::Instant::now();
    let (code, _, err) = recognise(dir.path(), &million, &[]);
    assert_eq!(code, 1);
    assert!(
        err.contains("2000001 points is more than one character needs"),
        "{err}"
    );
    assert!(
        t.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        t.elapsed()
    );
    let (code, _, err) = recognise(dir.path(), "{\"x\": 1}", &[]);
    assert_eq!(code, 1);
    assert!(err.contains("is not strokes as [[[x, y], …], …]"), "{err}");
    let (code, _, err) = recognise(dir.path(), &yong, &["--model", "/nonexistent.model"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("no handwriting model at /nonexistent.model"),
        "{err}"
    );
}
