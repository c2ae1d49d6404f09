//! Group "handwriting" (issue 15): top-1 / top-5 accuracy and p50 / p99 recognition time per
//! character on the held-out set (`benches/data/handwriting-heldout.json`, made by
//! `scripts/handwriting/make-heldout.py`: perturbed stroke median lines of Make Me a Hanzi,
//! drawn from a seed the model's training never used), for the terminal's model beside
//! zinnia with Debian's `tegaki-zinnia-simplified-chinese` model, in the same run.
//!
//! Both need zinnia installed (`libzinnia0`); Debian's model is
//! `/usr/share/tegaki/models/zinnia/handwriting-zh_CN.model`. A missing one fails the group
//! saying what to install.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Deserialize;
use ykb_terminal::terminal::handwriting::{Recogniser, Stroke, DEBIAN_MODEL};

use super::{Baseline, Figure};

const GROUP: &str = "handwriting";
const HELD_OUT: &str = include_str!("../data/handwriting-heldout.json");

#[derive(Deserialize)]
struct HeldOut {
    sets: std::collections::BTreeMap<String, Vec<Sample>>,
}

#[derive(Deserialize)]
struct Sample {
    char: String,
    strokes: Vec<Stroke>,
}

/// One model on one set: top-1, top-5 (fractions) and the sorted times.
struct Score {
    top1: f64,
    top5: f64,
    times: Vec<Duration>,
}

fn score(r: &Recogniser, set: &[Sample]) -> Score {
    let (mut top1, mut top5) = (0usize, 0usize);
    let mut times = Vec::with_capacity(set.len());
    // One warm-up (page cache of the model file).
    let _ = r.recognise(&set[0].strokes, 10);
    for s in set {
        let t = Instant::now();
        let found = r.recognise(&s.strokes, 10).expect("held-out ink is valid");
        times.push(t.elapsed());
        if found.first().is_some_and(|c| c.text == s.char) {
            top1 += 1;
        }
        if found.iter().take(5).any(|c| c.text == s.char) {
            top5 += 1;
        }
    }
    times.sort();
    let n = set.len() as f64;
    Score {
        top1: top1 as f64 / n,
        top5: top5 as f64 / n,
        times,
    }
}

fn ms(times: &[Duration], q: f64) -> f64 {
    times[((times.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3
}

fn open(model: &Path, what: &str) -> Recogniser {
    Recogniser::open(model).unwrap_or_else(|e| {
        panic!("handwriting bench needs {what}: {e} (apt-get install libzinnia0 tegaki-zinnia-simplified-chinese)")
    })
}

/// The group's entry point.
pub fn handwriting(out: &mut Vec<Figure>) {
    let held: HeldOut = serde_json::from_str(HELD_OUT).expect("held-out set");
    let ours_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/handwriting/ykb-zh_CN.model");
    let ours = open(&ours_path, "the terminal's model");
    let debian = open(Path::new(DEBIAN_MODEL), "Debian's zinnia model");
    let size_mb = |p: &Path| std::fs::metadata(p).map_or(0.0, |m| m.len() as f64 / 1e6);
    for (name, set) in &held.sets {
        let a = score(&ours, set);
        let b = score(&debian, set);
        let n = set.len();
        let base = |v: f64| {
            Some(Baseline {
                name: format!(
                    "zinnia with Debian's model ({:.0} MB)",
                    size_mb(Path::new(DEBIAN_MODEL))
                ),
                value: v,
            })
        };
        out.push(Figure {
            group: GROUP,
            name: format!("{name}: top-1 accuracy ({n} held-out characters)"),
            value: a.top1 * 100.0,
            unit: "%",
            baseline: base(b.top1 * 100.0),
            note: format!("goal ≥ 80 %; terminal model {:.0} MB", size_mb(&ours_path)),
        });
        out.push(Figure {
            group: GROUP,
            name: format!("{name}: top-5 accuracy"),
            value: a.top5 * 100.0,
            unit: "%",
            baseline: base(b.top5 * 100.0),
            note: "goal ≥ 90 %".into(),
        });
        out.push(Figure {
            group: GROUP,
            name: format!("{name}: recognition time per character, p50"),
            value: ms(&a.times, 0.5),
            unit: "ms",
            baseline: base(ms(&b.times, 0.5)),
            note: "10 candidates asked".into(),
        });
        out.push(Figure {
            group: GROUP,
            name: format!("{name}: recognition time per character, p99"),
            value: ms(&a.times, 0.99),
            unit: "ms",
            baseline: base(ms(&b.times, 0.99)),
            note: "goal ≤ 30 ms".into(),
        });
    }
}
