//! `handwriting recognise STROKES.json [--json] [--model FILE]`: a technician checks the
//! terminal's recogniser (`terminal::handwriting`) on strokes saved as JSON — an array of
//! strokes, each an array of `[x, y]` points in a 1024 × 1024 box, y down.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::common::{fail, print_json};
use crate::terminal::handwriting::{self, Recogniser};

/// `handwriting …`
#[derive(Debug, Subcommand)]
pub enum HandwritingCommand {
    /// Recognise one handwritten character; prints the candidates, best first.
    Recognise(RecogniseArgs),
}

#[derive(Debug, Args)]
pub struct RecogniseArgs {
    /// JSON file: `[[[x, y], …], …]`, strokes of points in a 1024 × 1024 box, y down.
    pub strokes: PathBuf,
    /// Print JSON (`[{"text": "永", "score": 0.9}, …]`) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The zinnia model (default: the terminal's, as the kiosk finds it).
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// How many candidates.
    #[arg(long, default_value_t = 10)]
    pub count: usize,
}

/// Runs `handwriting …`.
pub fn run_handwriting(cmd: &HandwritingCommand) -> ExitCode {
    match cmd {
        HandwritingCommand::Recognise(a) => recognise(a),
    }
}

fn recognise(a: &RecogniseArgs) -> ExitCode {
    let text = match std::fs::read_to_string(&a.strokes) {
        Ok(t) => t,
        Err(e) => return fail(format!("cannot read {}: {e}", a.strokes.display())),
    };
    // Floats are accepted (some tools save them) and rounded; anything else is refused.
    let raw: Vec<Vec<[f64; 2]>> = match serde_json::from_str(&text) {
        Ok(r) => r,
        Err(e) => {
            return fail(format!(
                "{} is not strokes as [[[x, y], …], …]: {e}",
                a.strokes.display()
            ))
        }
    };
    let ink: Vec<Vec<[i64; 2]>> = raw
        .iter()
        .map(|s| {
            s.iter()
                .map(|&[x, y]| [round(x), round(y)])
                .collect::<Vec<_>>()
        })
        .collect();
    let strokes = match handwriting::check(&ink) {
        Ok(s) => s,
        Err(e) => return fail(format!("{}: refused: {e}", a.strokes.display())),
    };
    let opened;
    let recogniser = match &a.model {
        Some(m) => match Recogniser::open(m) {
            Ok(r) => {
                opened = r;
                &opened
            }
            Err(e) => return fail(e),
        },
        None => match handwriting::shared() {
            Ok(r) => r,
            Err(e) => return fail(e),
        },
    };
    let found = match recogniser.recognise(&strokes, a.count) {
        Ok(c) => c,
        Err(e) => return fail(format!("{}: refused: {e}", a.strokes.display())),
    };
    if a.json {
        return print_json(&found);
    }
    if found.is_empty() {
        println!("没有候选字（没有笔画）");
    }
    for (i, c) in found.iter().enumerate() {
        println!("{:>2}. {}  {:.3}", i + 1, c.text, c.score);
    }
    ExitCode::SUCCESS
}

/// A coordinate as an integer; NaN and infinities become a value outside the box.
fn round(v: f64) -> i64 {
    if v.is_finite() {
        v.round().clamp(-1e12, 1e12) as i64
    } else {
        -1
    }
}
