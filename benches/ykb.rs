//! The project's one benchmark command: `cargo bench`. Prints a table and writes
//! `target/bench.json`. Each figure stands beside the baseline its issue names, measured in
//! the same run on the same machine.

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde::Serialize;
use ykb_terminal::core::catalog::{Catalog, DEMO_CATALOG};
use ykb_terminal::core::store::Store;

/// One measured figure.
#[derive(Serialize)]
struct Figure {
    group: &'static str,
    name: String,
    value: f64,
    unit: &'static str,
    /// The baseline measured in the same run, if the issue names one.
    baseline: Option<Baseline>,
    note: String,
}

#[derive(Serialize)]
struct Baseline {
    name: String,
    value: f64,
}

/// Median wall time of `f` over `runs` runs, after one warm-up.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    f();
    let mut t: Vec<Duration> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed()
        })
        .collect();
    t.sort();
    t[t.len() / 2]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn catalog_and_store(out: &mut Vec<Figure>) {
    let catalog = Catalog::demo().expect("demo catalogue");
    let n = catalog.matters.len();
    let parse = median(30, || {
        black_box(Catalog::from_json(black_box(DEMO_CATALOG)).unwrap());
    });
    let raw = median(30, || {
        black_box(serde_json::from_str::<serde_json::Value>(black_box(DEMO_CATALOG)).unwrap());
    });
    out.push(Figure {
        group: "foundation",
        name: format!(
            "catalogue load: parse + check ({n} matters, {} KB)",
            DEMO_CATALOG.len() / 1024
        ),
        value: us(parse),
        unit: "µs",
        baseline: Some(Baseline {
            name: "serde_json::Value parse of the same bytes (no typing, no checks)".into(),
            value: us(raw),
        }),
        note: "median of 30".into(),
    });

    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(&dir.path().join("bench.db")).expect("store");
    let replace = median(10, || store.replace_catalog(&catalog).unwrap());
    out.push(Figure {
        group: "foundation",
        name: format!("store: replace whole catalogue ({n} matters, one transaction)"),
        value: us(replace),
        unit: "µs",
        baseline: None,
        note: "median of 10; WAL, synchronous=FULL, real file".into(),
    });

    let seq = median(200, || {
        black_box(store.next_sequence("bench").unwrap());
    });
    let mut unsynced = Store::open(&dir.path().join("unsynced.db")).expect("store");
    unsynced
        .conn()
        .execute_batch("PRAGMA synchronous=OFF")
        .unwrap();
    let seq_off = median(200, || {
        black_box(unsynced.next_sequence("bench").unwrap());
    });
    out.push(Figure {
        group: "foundation",
        name: "store: one durable committed write (sequence take)".into(),
        value: us(seq),
        unit: "µs",
        baseline: Some(Baseline {
            name: "same write with synchronous=OFF (no durability)".into(),
            value: us(seq_off),
        }),
        note: "median of 200; the price of never losing an accepted case".into(),
    });

    let codes: Vec<String> = catalog
        .matters
        .iter()
        .map(|m| m.task_code.to_string())
        .collect();
    let mut i = 0;
    let get = median(2000, || {
        i = (i + 1) % codes.len();
        black_box(store.matter(&codes[i]).unwrap());
    });
    let mut j = 0;
    let mem = median(2000, || {
        j = (j + 1) % codes.len();
        black_box(catalog.matter(&codes[j]).cloned());
    });
    out.push(Figure {
        group: "foundation",
        name: "store: matter by task code (query + decode)".into(),
        value: us(get),
        unit: "µs",
        baseline: Some(Baseline {
            name: "in-memory catalogue lookup + clone".into(),
            value: us(mem),
        }),
        note: "median of 2000".into(),
    });
    let list = median(100, || {
        black_box(store.matter_summaries().unwrap());
    });
    out.push(Figure {
        group: "foundation",
        name: format!("store: list all {n} matter summaries"),
        value: us(list),
        unit: "µs",
        baseline: None,
        note: "median of 100".into(),
    });
}

/// A group of figures, run when the filter selects its name.
type Group = fn(&mut Vec<Figure>);

fn main() {
    // `cargo bench` passes --bench; a filter argument selects groups.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let mut figures = Vec::new();
    let groups: &[(&str, Group)] = &[("foundation", catalog_and_store)];
    for &(name, run) in groups {
        if filter.as_deref().is_none_or(|f| name.contains(f)) {
            run(&mut figures);
        }
    }

    println!(
        "{:<12} {:<66} {:>12}  {:<6} {:>12}  baseline",
        "group", "figure", "value", "unit", "baseline"
    );
    for f in &figures {
        let (bv, bn) = f
            .baseline
            .as_ref()
            .map_or((String::from("-"), String::new()), |b| {
                (format!("{:.1}", b.value), b.name.clone())
            });
        println!(
            "{:<12} {:<66} {:>12.1}  {:<6} {:>12}  {}",
            f.group, f.name, f.value, f.unit, bv, bn
        );
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| std::path::PathBuf::from("target"), Into::into);
    let path = target.join("bench.json");
    let json = serde_json::json!({
        "machine": { "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) },
        "figures": figures,
    });
    match std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()) {
        Ok(()) => println!("\nwritten: {}", path.display()),
        Err(e) => eprintln!("could not write {}: {e}", path.display()),
    }
}
