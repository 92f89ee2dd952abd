//! `setup` and `teardown`: run once each, by one user of no scenario, on
//! the first worker. What `setup` captures and sets becomes `setup.*` for
//! every later step; a `setup` that fails stops the test before any load.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::value::Value;

use super::protocol::http::{Conns, Cookies};
use super::vu::{cursor_over, run_steps, Env, Flow};
use super::{RunCtx, Signals, WorkerCtx};
use crate::plan::{Phase, Step};
use crate::template::fake::iteration_seed;
use crate::template::scope::Scope;

/// How a part that runs once ended.
#[derive(Debug)]
pub enum Once {
    /// It ran to its end: what it captured and set.
    Done(Value),
    /// A step failed: why (the step and its reason).
    Failed(String),
    /// Ctrl-C.
    Interrupted,
}

/// Runs `steps` (the plan's `setup` or `teardown`) on the first worker;
/// a Ctrl-C stops them at once.
pub async fn once(
    run: &Arc<RunCtx>,
    worker: &Arc<WorkerCtx>,
    phase: Phase,
    signals: &mut Signals,
) -> Once {
    let task = worker
        .handle
        .spawn(run_once(run.clone(), worker.clone(), phase));
    let abort = task.abort_handle();
    tokio::select! {
        done = task => done.unwrap_or_else(|e| Once::Failed(format!("it stopped: {e}"))),
        _ = signals.next() => {
            abort.abort();
            Once::Interrupted
        }
    }
}

async fn run_once(run: Arc<RunCtx>, worker: Arc<WorkerCtx>, phase: Phase) -> Once {
    let steps: &[Step] = match phase {
        Phase::Setup => &run.plan.setup,
        _ => &run.plan.teardown,
    };
    // Its own fake data: a scenario index no scenario has.
    let seed = iteration_seed(run.plan.seed, usize::MAX, 0, phase as u64);
    let mut scope = Scope::new(run.plan.vars.clone(), phase.as_str(), 0, seed);
    scope.setup = run.setup.clone();
    let mut cur = cursor_over(scope, seed);
    let conns = Arc::new(Conns::default());
    let env = Env::new(&run, &worker, None, &conns, Cookies::default(), true);
    match run_steps(&env, &mut cur, steps).await {
        Flow::Next => {
            let captured: BTreeMap<String, Value> = cur
                .scope
                .locals
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Once::Done(Value::from(captured))
        }
        Flow::Stop => Once::Failed(env.failure().unwrap_or_else(|| "a step failed".into())),
    }
}
