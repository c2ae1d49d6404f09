//! The contract tells the truth about errors: schemathesis (the pinned version, from the venv
//! `scripts/test` prepares) runs every operation of `api/openapi.yaml` against a live
//! simulator, each request signed as a registered terminal signs it
//! (`tests/contract/schemathesis_hooks.py`), and finds no status the document does not list,
//! no answer breaking its schema or content type, no documented header missing and no server
//! error. Without schemathesis the test fails saying to use `scripts/test`.

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

/// Test cases per operation and phase: enough to reach every refusal, small enough for two
/// shared cores.
const MAX_EXAMPLES: &str = "25";

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

#[test]
fn schemathesis_finds_the_simulator_true_to_the_contract() {
    let bin = schemathesis();
    let sim = Sim::start();
    let base = format!("http://{}", sim.handle().addr());
    let reports = tempfile::tempdir().unwrap();
    let junit = reports.path().join("junit.xml");
    let started = Instant::now();
    let out = Command::new(&bin)
        .args(["run", "api/openapi.yaml", "--url", &base])
        .args(["--checks", CHECKS, "--max-examples", MAX_EXAMPLES])
        // Stateful: the document's links take an accepted case to its status and a stored
        // chunk to its resume point, so those answers are checked too.
        .args([
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--seed",
            "18",
        ])
        // One worker: hypothesis parses lambdas with `ast` while drawing, which CPython 3.11
        // can fail on ("AST constructor recursion depth mismatch") when threads draw at once.
        .args(["--workers", "1", "--request-timeout", "30"])
        .args(["--generation-database", "none"])
        // The hooks sign every request; a generated signature header would only be replaced.
        .args(["--generation-with-security-parameters", "false"])
        .args(["--no-color", "--report", "junit"])
        .arg("--report-junit-path")
        .arg(&junit)
        .env("SCHEMATHESIS_HOOKS", "tests/contract/schemathesis_hooks.py")
        .env("YKB_SIM_URL", &base)
        .env("YKB_ENROLMENT_CODE", DEMO_ENROLMENT_CODE)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e} (use scripts/test)"));
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "schemathesis ran {:.1} s against {base}",
        started.elapsed().as_secs_f64()
    );
    assert!(
        out.status.success(),
        "schemathesis finds the simulator and api/openapi.yaml disagree ({}):\n{report}",
        out.status
    );

    // It tested every operation the simulator serves, not a subset.
    let xml = std::fs::read_to_string(&junit).unwrap();
    let tested: BTreeSet<String> = xml
        .split("<testcase name=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|name| name.starts_with(|c: char| c.is_ascii_uppercase()) && name.contains(" /"))
        .map(str::to_owned)
        .collect();
    let served: BTreeSet<String> = ROUTES
        .iter()
        .map(|(m, p)| format!("{} {p}", m.to_ascii_uppercase()))
        .collect();
    assert_eq!(
        tested, served,
        "schemathesis did not test exactly the simulator's operations:\n{report}"
    );
    // And it got past authentication: signed heartbeats reached the handler.
    assert!(
        !sim.handle().heartbeats().is_empty(),
        "no signed heartbeat was accepted: the hooks did not get past authentication:\n{report}"
    );
}
