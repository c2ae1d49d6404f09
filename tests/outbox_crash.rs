//! Crash safety of the write path, with real processes and real files: `case submit` is
//! killed with SIGKILL at random moments; after each kill, every case id it printed must be
//! in the store and complete, and nothing partial may exist.
//!
//! CI runs 200 kills; set YKB_SOAK_KILLS=N for a longer soak.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ykb_terminal::core::config::Profile;
use ykb_terminal::core::{outbox, Core};

mod common;

/// xorshift64*: reproducible random delays from a printed seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Checks the whole store after a kill: every printed id present, the ids of this round
/// (`fresh`) unsealed and compared in full, and no torn case anywhere.
fn check_store(dir: &Path, printed: &[String], fresh: &[String]) -> usize {
    let mut core = Core::start(Profile::demo(), dir).expect("store reopens after SIGKILL");
    let conn = core.store.conn();
    let cases: i64 = conn
        .query_row("SELECT count(*) FROM cases", [], |r| r.get(0))
        .unwrap();
    let queued: i64 = conn
        .query_row("SELECT count(*) FROM outbox WHERE kind = 'case'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let images: i64 = conn
        .query_row("SELECT count(*) FROM case_materials", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        cases, queued,
        "every case has its outbox row and vice versa"
    );
    assert_eq!(images, cases, "every case has its one image");
    let orphans: i64 = conn
        .query_row(
            "SELECT count(*) FROM outbox o LEFT JOIN cases c ON c.id = o.id WHERE c.id IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0);
    assert!(
        cases as usize >= printed.len(),
        "{cases} cases stored, {} printed",
        printed.len()
    );
    let mut present = conn
        .prepare("SELECT count(*) FROM cases WHERE id = ?1 AND body IS NOT NULL")
        .unwrap();
    for id in printed {
        let n: i64 = present.query_row([id], |r| r.get(0)).unwrap();
        assert_eq!(n, 1, "printed case {id} is missing");
    }
    drop(present);
    for id in fresh {
        let uuid = uuid::Uuid::parse_str(id).unwrap();
        let case = outbox::load_case(&mut core.store, &core.key, uuid)
            .expect("unseals")
            .unwrap_or_else(|| panic!("printed case {id} is missing"));
        assert_eq!(case.id, uuid);
        assert_eq!(case.matters.len(), 1);
        let (mid, sealed): (String, Vec<u8>) = core
            .store
            .conn()
            .query_row(
                "SELECT material_id, image FROM case_materials WHERE case_id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let img = core
            .key
            .open(format!("{id}/{mid}").as_bytes(), &sealed)
            .expect("image unseals");
        assert_eq!(img, common::IMAGE);
    }
    cases as usize
}

#[test]
fn sigkill_during_submissions_never_loses_or_tears_a_printed_case() {
    let kills: usize = std::env::var("YKB_SOAK_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!("seed {seed:#x}, {kills} kills");
    let mut rng = Rng(seed);
    let fx = common::Fixture::new();
    let mut printed: Vec<String> = Vec::new();
    let mut stored = 0;
    for round in 0..kills {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ykb-terminal"))
            .args(fx.submit_args(100_000))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        // Kill between 0 and ~60 ms after the first id (or at once on some rounds, while the
        // process is still starting).
        let delay = Duration::from_micros(rng.next() % 60_000);
        let early = rng.next() % 8 == 0;
        let (first_tx, first_rx) = std::sync::mpsc::channel::<()>();
        let reader = std::thread::spawn(move || {
            let mut ids = Vec::new();
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(l) => {
                        if ids.is_empty() {
                            let _ = first_tx.send(());
                        }
                        ids.push(l)
                    }
                    Err(_) => break,
                }
            }
            ids
        });
        let start = Instant::now();
        if early {
            std::thread::sleep(delay / 10);
        } else {
            // The delay counts from the first id, not from the spawn: on a loaded machine
            // start-up alone can take longer than any fixed delay, and a round that kills a
            // process still starting proves nothing about torn writes (and left the
            // progress check below flaky).
            let _ = first_rx.recv_timeout(Duration::from_secs(20));
            std::thread::sleep(delay);
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        let fresh: Vec<String> = reader
            .join()
            .unwrap()
            .into_iter()
            .filter(|l| !l.is_empty())
            .collect();
        printed.extend(fresh.iter().cloned());
        let now = check_store(fx.dir(), &printed, &fresh);
        assert!(
            now >= stored,
            "round {round}: cases went from {stored} to {now}"
        );
        stored = now;
        assert!(start.elapsed() < Duration::from_secs(30));
    }
    println!(
        "{} ids printed, {} cases stored over {kills} kills",
        printed.len(),
        stored
    );
    assert!(
        printed.len() > kills / 2,
        "the submitter made progress between kills"
    );
}
