//! Remote operations commands end to end: the platform simulator over loopback HTTP issues
//! signed commands through its admin API, the real agent loop receives them in heartbeat
//! answers, executes each once and acknowledges it on the next beat; a tampered, an
//! expired, an unknown and a replayed command are refused, acknowledged as refused,
//! audited, and change nothing.

mod common;

use std::path::Path;
use std::time::Duration;

use common::agent::{run_agent, wait_for};
use ykb_terminal::core::store::Store;
use ykb_terminal::core::{audit, commands, Core, STORE_FILE};
use ykb_terminal::sim::platform::{CommandRecord, IssueCommand};

/// A remote-mode terminal in `dir` for the simulator at `url`, registered there; returns its
/// core and device id.
fn terminal(sim: &common::sim::Sim, dir: &Path) -> (Core, String) {
    common::agent::registered(sim, dir, common::agent::remote_profile(sim, dir), "ops-e2e")
}

fn outcome<'a>(records: &'a [CommandRecord], id: &str) -> Vec<(&'a str, &'a str)> {
    records
        .iter()
        .filter(|r| r.command.id == id)
        .filter_map(|r| r.result.as_ref())
        .map(|r| (r.outcome.as_str(), r.detail.as_str()))
        .collect()
}

#[test]
fn signed_commands_run_once_are_acknowledged_and_bad_ones_are_refused_and_audited() {
    let sim = common::sim::Sim::start();
    let dir = tempfile::tempdir().unwrap();
    let (core, device) = terminal(&sim, dir.path());
    let agent = run_agent(core, Duration::from_millis(200), 80);
    let h = sim.handle();
    wait_for("the first heartbeat", Duration::from_secs(10), || {
        !h.heartbeats().is_empty()
    });

    let issue = |req: IssueCommand| h.issue_command(&device, &req).unwrap().id;
    let diag = issue(IssueCommand::new("collect-diagnostics", None));
    let maint = issue(IssueCommand::new("maintenance", Some("on")));
    let restart = issue(IssueCommand::new("restart", None));
    let resync = issue(IssueCommand::new("resync", None));
    let retry = issue(IssueCommand::new("retry-dead-letters", None));
    let selftest = issue(IssueCommand::new("selftest", None));
    let tampered = issue(IssueCommand {
        tamper_signature: true,
        ..IssueCommand::new("restart", None)
    });
    let expired = issue(IssueCommand {
        ttl_secs: 60,
        issued_secs_ago: 120,
        ..IssueCommand::new("resync", None)
    });
    let unknown = issue(IssueCommand::new("format-disk", None));
    let all = [
        &diag, &maint, &restart, &resync, &retry, &selftest, &tampered, &expired, &unknown,
    ];
    wait_for(
        "every command acknowledged",
        Duration::from_secs(30),
        || h.commands(&device).iter().all(|c| c.result.is_some()),
    );
    // Once acknowledged, the platform sends the collect-diagnostics command again unchanged:
    // a replay.
    let replay = IssueCommand {
        replay_of: Some(diag.clone()),
        ..IssueCommand::new("collect-diagnostics", None)
    };
    h.issue_command(&device, &replay).unwrap();
    wait_for("the replay acknowledged", Duration::from_secs(10), || {
        h.commands(&device).iter().all(|c| c.result.is_some())
    });
    agent.join().unwrap();

    let records = h.commands(&device);
    for id in [&diag, &maint, &restart, &resync, &retry, &selftest] {
        let o = outcome(&records, id);
        assert!(!o.is_empty(), "{id}: no result");
        assert_eq!(o[0].0, "done", "{id}: {o:?}");
    }
    for (id, why) in [
        (&tampered, "签名无效"),
        (&expired, "过期"),
        (&unknown, "未知命令"),
    ] {
        let o = outcome(&records, id);
        assert_eq!(o.len(), 1, "{id}: {o:?}");
        assert_eq!(o[0].0, "refused", "{id}: {o:?}");
        assert!(o[0].1.contains(why), "{id}: {o:?}");
    }
    let diag_results = outcome(&records, &diag);
    assert_eq!(diag_results.len(), 2, "{diag_results:?}");
    assert_eq!(diag_results[1].0, "refused");
    assert!(diag_results[1].1.contains("重放"), "{diag_results:?}");
    // Each delivered until acknowledged, no longer.
    for r in &records {
        assert!(
            (1..=3).contains(&r.deliveries),
            "{} delivered {} times",
            r.command.id,
            r.deliveries
        );
    }

    // Executed exactly once: one upload although the command came twice; one report.
    assert_eq!(h.diagnostics().len(), 1);
    let export = &h.diagnostics()[0].export;
    assert!(export["audit"].is_array() && export["health"].is_object());
    assert_eq!(h.selftests().len(), 1);

    let mut store = Store::open(&dir.path().join(STORE_FILE)).unwrap();
    assert!(commands::maintenance_requested(&mut store).unwrap());
    assert!(commands::restart_requested(&mut store).unwrap().is_some());
    assert!(commands::unacked(&mut store).unwrap().is_empty());
    let sync = ykb_terminal::core::sync::status(&mut store).unwrap();
    assert!(sync.cursor.is_some(), "resync applied nothing: {sync:?}");

    // Audited: each accepted command twice (accepted, executed), each refusal once, and
    // nothing personal (the audit log refuses it by construction).
    let log = audit::list(&mut store).unwrap();
    let count = |action: &str, id: &str| {
        log.iter()
            .filter(|e| e.action == action && e.detail.contains(&format!("{id} ")))
            .count()
    };
    for id in [&diag, &maint, &restart, &resync, &retry, &selftest] {
        assert_eq!(count("remote_command", id), 2, "{id}: {log:#?}");
    }
    for id in [&tampered, &expired, &unknown] {
        assert_eq!(count("remote_command_refused", id), 1, "{id}");
    }
    assert_eq!(count("remote_command_refused", &diag), 1, "the replay");
    assert_eq!(all.len(), 9);
    assert!(audit::verify(&mut store).unwrap().is_intact());
}

/// Operations do not wait an interval for the answer: the beat that carries a command's
/// result goes as soon as the command has run, not a heartbeat interval later.
#[test]
fn a_command_is_acknowledged_as_soon_as_it_has_run_not_an_interval_later() {
    let sim = common::sim::Sim::start();
    let dir = tempfile::tempdir().unwrap();
    let (core, device) = terminal(&sim, dir.path());
    let h = sim.handle();
    // Waiting when the agent starts: its first beat (at once) receives it.
    let id = h
        .issue_command(&device, &IssueCommand::new("maintenance", Some("on")))
        .unwrap()
        .id;
    let agent = run_agent(core, Duration::from_secs(30), 2);
    wait_for(
        "the command acknowledged well before the next interval",
        Duration::from_secs(10),
        || h.commands(&device).iter().all(|c| c.result.is_some()),
    );
    assert_eq!(outcome(&h.commands(&device), &id)[0].0, "done");
    agent.join().unwrap();
    assert_eq!(
        h.heartbeats().len(),
        2,
        "the command's beat and the result's"
    );
}
