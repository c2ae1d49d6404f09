//! The contract tells the truth about errors: schemathesis (the pinned version, from the venv
//! `scripts/test` prepares) runs every operation of `api/openapi.yaml` against a live
//! simulator, each request signed as a registered terminal signs it
//! (`tests/contract/schemathesis_hooks.py`), and finds no status the document does not list,
//! no answer breaking its schema or content type, no documented header missing and no server
//! error. A second, smaller run signs nothing, as a new user's first run does: every signed
//! route answers 401 and the document says so. Without schemathesis the tests fail saying to
//! use `scripts/test`.

mod common;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Instant;

use common::sim::Sim;
use ykb_terminal::core::sync::DEMO_ENROLMENT_CODE;
use ykb_terminal::sim::platform::ROUTES;

/// What schemathesis checks on every answer.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance,response_headers_conformance";

/// The schemathesis executable `scripts/test` installed, or a failure saying how to get it.
fn schemathesis() -> String {
    std::env::var("YKB_TEST_SCHEMATHESIS").unwrap_or_else(|_| {
        panic!(
            "the contract test needs schemathesis: run it with scripts/test (it makes a venv \
             with the pinned schemathesis in target/schemathesis-venv when missing and sets \
             YKB_TEST_SCHEMATHESIS)"
        )
    })
}

/// What a schemathesis run against the simulator gave.
struct Run {
    /// It exited 0: no check failed, nothing errored.
    passed: bool,
    /// Its report (stdout and stderr), for failure messages.
    report: String,
    /// The operations it tested ("METHOD /path"), from its JUnit report.
    tested: BTreeSet<String>,
}

/// Runs schemathesis on `api/openapi.yaml` against `sim`, signing every request as a
/// registered device (`signing` = "device") or nothing ("none").
fn run(sim: &Sim, signing: &str, max_examples: &str, phases: &str) -> Run {
    let bin = schemathesis();
    let base = format!("http://{}", sim.handle().addr());
    let reports = tempfile::tempdir().unwrap();
    let junit = reports.path().join("junit.xml");
    let started = Instant::now();
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new(&bin)
        // Schemathesis keeps a crash cache in `.schemathesis/` of its working directory: the
        // run's temporary directory, not the source tree.
        .current_dir(reports.path())
        .args(["run", &format!("{root}/api/openapi.yaml"), "--url", &base])
        .args(["--checks", CHECKS, "--max-examples", max_examples])
        .args(["--phases", phases, "--seed", "18"])
        // One worker: hypothesis parses lambdas with `ast` while drawing, which CPython 3.11
        // can fail on ("AST constructor recursion depth mismatch") when threads draw at once.
        .args(["--workers", "1", "--request-timeout", "30"])
        .args(["--generation-database", "none"])
        // The hooks sign every request; a generated signature header would only be replaced.
        .args(["--generation-with-security-parameters", "false"])
        .args(["--no-color", "--report", "junit"])
        .arg("--report-junit-path")
        .arg(&junit)
        .env(
            "SCHEMATHESIS_HOOKS",
            format!("{root}/tests/contract/schemathesis_hooks.py"),
        )
        .env("YKB_SIM_URL", &base)
        .env("YKB_SIGNING", signing)
        .env("YKB_ENROLMENT_CODE", DEMO_ENROLMENT_CODE)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e} (use scripts/test)"));
    eprintln!(
        "schemathesis (signing: {signing}) ran {:.1} s against {base}",
        started.elapsed().as_secs_f64()
    );
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let xml = std::fs::read_to_string(&junit).unwrap_or_default();
    let tested = xml
        .split("<testcase name=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|name| name.starts_with(|c: char| c.is_ascii_uppercase()) && name.contains(" /"))
        .map(str::to_owned)
        .collect();
    Run {
        passed: out.status.success(),
        report,
        tested,
    }
}

/// Every operation the simulator serves, as schemathesis names them.
fn served() -> BTreeSet<String> {
    ROUTES
        .iter()
        .map(|(m, p)| format!("{} {p}", m.to_ascii_uppercase()))
        .collect()
}

#[test]
fn schemathesis_finds_the_signed_simulator_true_to_the_contract() {
    let sim = Sim::start();
    // Stateful: the document's links take an accepted case to its status and a stored chunk
    // to its resume point, so those answers are checked too.
    let r = run(&sim, "device", "25", "examples,coverage,fuzzing,stateful");
    assert!(
        r.passed,
        "schemathesis finds the simulator and api/openapi.yaml disagree:\n{}",
        r.report
    );
    assert_eq!(
        r.tested,
        served(),
        "schemathesis did not test exactly the simulator's operations:\n{}",
        r.report
    );
    // It got past authentication: signed heartbeats reached the handler.
    assert!(
        !sim.handle().heartbeats().is_empty(),
        "no signed heartbeat was accepted: the hooks did not get past authentication:\n{}",
        r.report
    );
}

#[test]
fn unsigned_requests_get_the_documented_401() {
    let sim = Sim::start();
    let r = run(&sim, "none", "5", "examples,coverage,fuzzing");
    assert!(
        r.passed,
        "unsigned, schemathesis finds the simulator and api/openapi.yaml disagree:\n{}",
        r.report
    );
    assert_eq!(r.tested, served(), "{}", r.report);
    assert!(
        sim.handle().heartbeats().is_empty(),
        "an unsigned heartbeat was accepted"
    );
    // Every signed route refused them all (schemathesis warns of each one answering only
    // 401): all but registration and liveness.
    let signed = ROUTES
        .iter()
        .filter(|(_, p)| !matches!(*p, "/v1/devices/register" | "/health"))
        .count();
    assert!(
        r.report
            .contains(&format!("{signed} operations returned only 401")),
        "unsigned requests did not get 401 on all {signed} signed operations:\n{}",
        r.report
    );
}
