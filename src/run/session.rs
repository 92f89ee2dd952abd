//! A virtual user's life around its iterations: the rows of `per: vu`
//! feeders it keeps, its `before` (what that captures, sets and receives as
//! cookies lasts for all the user's iterations) and its `after`.
//!
//! A user whose `before` fails is retired and counted; the executors that
//! keep a number of users running (`constant-vus`, `ramping-vus`) start it
//! again after a pause that doubles with each failure in a row, so a broken
//! login is retried slowly rather than hammered.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use minijinja::value::Value;
use tokio::sync::watch;

use super::executor::Phase;
use super::protocol::http::{Conns, Cookies, KeptCookies};
use super::vu::{cursor_over, run_steps, Cursor, Env, Flow};
use super::{RunCtx, WorkerCtx};
use crate::plan::{FeederPlan, Step};
use crate::scenario::model::{FeederOrder, FeederPer};
use crate::template::fake::{iteration_seed, mix};
use crate::template::scope::Scope;

/// What a user keeps for its whole life.
#[derive(Debug, Clone, Default)]
pub struct Session {
    /// What `before` captured and set (`None`: nothing).
    pub locals: Option<Arc<HashMap<String, Value>>>,
    /// The cookies `before` received.
    pub cookies: KeptCookies,
    /// Its row of each `per: vu` feeder its scenario reads.
    pub rows: Vec<(Arc<str>, Value)>,
}

/// Who a user is.
#[derive(Debug, Clone, Copy)]
pub struct Who {
    pub scenario: usize,
    /// Its number in the run (from 1).
    pub vu: u64,
    /// Its place in its scenario (from 0).
    pub index: u64,
}

/// How a user's `before` ended.
pub enum Begin {
    Ready(Session),
    /// A step failed: the user is retired (the caller counts it).
    Failed,
    /// The run is stopping now.
    Stopped,
}

/// The fake-data seeds of `before` and `after`, apart from every
/// iteration's.
const BEFORE_SEED: u64 = u64::MAX;
const AFTER_SEED: u64 = u64::MAX - 1;

/// The first pause before a retired user starts again, and the longest.
pub const RETRY_FIRST: Duration = Duration::from_secs(1);
pub const RETRY_MAX: Duration = Duration::from_secs(30);

/// Starts a user's life: takes its rows and runs its `before`. `attempt`
/// tells this try from the user's earlier ones (a retry after a failed
/// `before`, a new life under `ramping-vus`), so that each draws fake data
/// of its own (a sign-up with a fresh email).
pub async fn begin(
    run: &Arc<RunCtx>,
    worker: &Arc<WorkerCtx>,
    conns: &Arc<Conns>,
    who: Who,
    attempt: u64,
    phase: &watch::Receiver<Phase>,
) -> Begin {
    let rows = user_rows(run, who);
    let before = &run.plan.scenarios[who.scenario].before;
    let mut session = Session {
        rows,
        ..Session::default()
    };
    if before.is_empty() {
        return Begin::Ready(session);
    }
    let mut cur = part_cursor(run, who, 0, BEFORE_SEED ^ mix(attempt), &session);
    let env = Env::new(
        run,
        worker,
        Some(who.scenario),
        conns,
        Cookies::default(),
        true,
    );
    match part(&env, &mut cur, before, phase).await {
        None => Begin::Stopped,
        Some(Flow::Stop) => {
            if !run.retired_noted[who.scenario].swap(true, Ordering::Relaxed) {
                let why = env.failure().unwrap_or_else(|| "a step failed".into());
                run.events.note(format!(
                    "scenario {}: user {} could not start, its `before` failed ({why}); such users are counted as retired",
                    run.plan.scenarios[who.scenario].name, who.vu
                ));
            }
            Begin::Failed
        }
        Some(Flow::Next) => {
            if !cur.scope.locals.is_empty() {
                session.locals = Some(cur.scope.locals.clone());
            }
            session.cookies = env.jar.keep();
            Begin::Ready(session)
        }
    }
}

/// Ends a user's life: runs its `after` (`iterations`: how many it ran).
pub async fn end(
    run: &Arc<RunCtx>,
    worker: &Arc<WorkerCtx>,
    conns: &Arc<Conns>,
    who: Who,
    session: &Session,
    iterations: u64,
    phase: &watch::Receiver<Phase>,
) {
    let after = &run.plan.scenarios[who.scenario].after;
    if after.is_empty() || *phase.borrow() == Phase::Hard {
        return;
    }
    let mut cur = part_cursor(run, who, iterations, AFTER_SEED, session);
    let jar = Cookies::starting_with(&session.cookies);
    let env = Env::new(run, worker, Some(who.scenario), conns, jar, true);
    part(&env, &mut cur, after, phase).await;
}

/// Runs a lifecycle part's steps until they end or the run stops now.
async fn part(
    env: &Env,
    cur: &mut Cursor,
    steps: &[Step],
    phase: &watch::Receiver<Phase>,
) -> Option<Flow> {
    let mut phase = phase.clone();
    tokio::select! {
        biased;
        flow = run_steps(env, cur, steps) => Some(flow),
        _ = phase.wait_for(|p| *p == Phase::Hard) => None,
    }
}

/// The cursor of `before` or `after`: the user's rows and what `before`
/// left, and fake data of their own.
fn part_cursor(run: &RunCtx, who: Who, iteration: u64, seed_tag: u64, session: &Session) -> Cursor {
    let seed = iteration_seed(run.plan.seed, who.scenario, who.vu, seed_tag);
    let name = &run.plan.scenarios[who.scenario].name;
    let mut scope = Scope::new(run.plan.vars.clone(), name, who.vu, seed);
    scope.iteration = iteration;
    scope.setup = run.setup.clone();
    if let Some(locals) = &session.locals {
        scope.locals = locals.clone();
    }
    scope.rows.clone_from(&session.rows);
    cursor_over(scope, seed)
}

/// The user's row of each `per: vu` feeder its scenario reads. Users are
/// numbered per feeder across the scenarios that read it, so that with
/// `sequential` and `unique` no two users share a row while there are
/// rows enough; a user started again keeps its row.
fn user_rows(run: &RunCtx, who: Who) -> Vec<(Arc<str>, Value)> {
    let plan = &run.plan;
    let mut out = Vec::new();
    for &f in &plan.scenarios[who.scenario].feeders {
        let feeder = &plan.feeders[f];
        if feeder.per != FeederPer::Vu {
            continue;
        }
        let earlier: u64 = plan.scenarios[..who.scenario]
            .iter()
            .filter(|s| s.feeders.contains(&f))
            .map(|s| super::max_vus(&s.load.executor))
            .sum();
        let row = row_of_user(feeder, earlier + who.index, plan.seed ^ f as u64);
        out.push((feeder.name.clone(), row));
    }
    out
}

/// Row `ordinal` of the users of `feeder` (at random: drawn from `seed`).
pub fn row_of_user(feeder: &FeederPlan, ordinal: u64, seed: u64) -> Value {
    let n = feeder.rows.len().max(1) as u64;
    let i = match feeder.order {
        FeederOrder::Sequential | FeederOrder::Unique => ordinal % n,
        FeederOrder::Random => mix(mix(seed) ^ ordinal) % n,
    };
    feeder.rows.get(i as usize).cloned().unwrap_or_default()
}

/// The pause before a retired user starts again after `failures` failed
/// `before`s in a row: 1 s, 2 s, 4 s… up to 30 s.
pub fn retry_pause(failures: u32) -> Duration {
    let doubled = RETRY_FIRST.saturating_mul(1u32 << failures.saturating_sub(1).min(16));
    doubled.min(RETRY_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_doubles_up_to_its_cap() {
        let pauses: Vec<u64> = (1..=8).map(|n| retry_pause(n).as_secs()).collect();
        assert_eq!(pauses, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(retry_pause(u32::MAX), RETRY_MAX);
    }

    #[test]
    fn users_keep_distinct_rows_while_there_are_enough() {
        let feeder = |order| FeederPlan {
            name: Arc::from("users"),
            rows: (0..4).map(Value::from).collect(),
            order,
            per: FeederPer::Vu,
            at: String::new(),
        };
        let f = feeder(FeederOrder::Unique);
        let rows: Vec<Value> = (0..4).map(|u| row_of_user(&f, u, 1)).collect();
        assert_eq!(rows, (0..4).map(Value::from).collect::<Vec<_>>());
        let f = feeder(FeederOrder::Random);
        assert_eq!(
            row_of_user(&f, 2, 7),
            row_of_user(&f, 2, 7),
            "deterministic"
        );
        let drawn: std::collections::HashSet<String> =
            (0..64).map(|u| row_of_user(&f, u, 7).to_string()).collect();
        assert!(drawn.len() > 1, "{drawn:?}");
    }
}
