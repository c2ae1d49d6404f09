//! `fleet-sim`: wires the command line to `ops::fleet_sim` (the product's backoff beside a
//! naive fixed-interval retry, same fleet, same outage).

use std::process::ExitCode;

use super::common::{fail, print_json};
use crate::ops::fleet_sim::{self, FleetOptions};

/// `fleet-sim …`
#[derive(Debug, clap::Args)]
pub struct FleetArgs {
    /// Terminals in the fleet.
    #[arg(long, default_value_t = 1000)]
    pub terminals: usize,
    /// How long the platform is down, in simulated seconds (0 = no outage).
    #[arg(long, default_value_t = 3600)]
    pub outage_secs: u64,
    /// Simulated seconds per wall-clock second at most (0 = as fast as the machine goes;
    /// the figures are in simulated time and do not depend on it).
    #[arg(long, default_value_t = 0.0)]
    pub speedup: f64,
    /// Items each terminal queues during the outage (cases and 好差评 events, alternately).
    #[arg(long, default_value_t = 6)]
    pub backlog: usize,
    /// The naive baseline's fixed retry interval, seconds.
    #[arg(long, default_value_t = 10)]
    pub naive_retry_secs: u64,
    /// Simulated network round trip per request, milliseconds.
    #[arg(long, default_value_t = 50)]
    pub latency_ms: u64,
    /// Seed of heartbeat phases, sync delays and submission times.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs both simulations and prints the comparison; exit code 1 if a run had errors.
pub fn run_fleet_sim(a: &FleetArgs) -> ExitCode {
    let opts = FleetOptions {
        terminals: a.terminals,
        outage_secs: a.outage_secs,
        speedup: a.speedup,
        backlog: a.backlog,
        latency_ms: a.latency_ms,
        seed: a.seed,
        ..FleetOptions::default()
    };
    let c = match fleet_sim::compare(&opts, a.naive_retry_secs) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let code = if a.json {
        print_json(&c)
    } else {
        print!("{}", fleet_sim::describe(&c));
        ExitCode::SUCCESS
    };
    if c.errors > 0 {
        eprintln!("仿真中出现 {} 个错误（见 error_detail）", c.errors);
        return ExitCode::from(super::EXIT_FAILURE);
    }
    code
}
