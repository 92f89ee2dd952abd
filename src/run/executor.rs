//! Executors of the closed model (k6's names): how many virtual users run,
//! for how long or how many iterations, and how they stop.
//!
//! Each scenario has a controller task that spawns its virtual users on the
//! worker runtimes, then stops them in two phases: `Graceful` (no new
//! iteration starts; running ones get `graceful_stop` to finish) and `Hard`
//! (running iterations are cut and counted as interrupted, never as errors).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{sleep, sleep_until, Instant};

use super::protocol::http::{Conns, Cookies};
use super::session::{self, Begin, Session, Who};
use super::vu::{new_cursor, run_steps, Env, Flow};
use super::{RunCtx, WorkerCtx};
use crate::metrics::IterationEnd;
use crate::scenario::model::{Executor, FeederPer, Stage};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Run,
    Graceful,
    Hard,
}

/// How many iterations a virtual user may start.
#[derive(Clone)]
enum Budget {
    Unbounded,
    PerVu(u64),
    /// A counter shared by the scenario's users, and the total.
    Shared(Arc<AtomicU64>, u64),
}

/// What a virtual user watches to know when to stop.
#[derive(Clone)]
pub struct Control {
    pub phase: watch::Receiver<Phase>,
    /// Live virtual users of the scenario (for the timeline).
    pub active: Arc<AtomicU64>,
    /// `ramping-vus`: users numbered at or above this stop.
    pub target: Option<Arc<AtomicU64>>,
    /// Set when a `unique` feeder runs out of rows.
    pub exhausted: Arc<AtomicBool>,
    /// A user whose `before` failed is started again (after a pause):
    /// `constant-vus` and `ramping-vus` keep their number of users.
    pub replaces: bool,
}

impl Control {
    /// Whether a closed-model user at `index` must stop (the run stops, a
    /// `unique` feeder ran out, or the ramp went below it).
    fn stops(&self, index: u64) -> bool {
        *self.phase.borrow() != Phase::Run
            || self.exhausted.load(Ordering::Relaxed)
            || self
                .target
                .as_ref()
                .is_some_and(|t| index >= t.load(Ordering::Relaxed))
    }
}

/// Runs one scenario to its end (this process's part of it). `first_vu`
/// numbers its virtual users.
pub async fn run_scenario(
    run: Arc<RunCtx>,
    workers: Arc<Vec<Arc<WorkerCtx>>>,
    scenario: usize,
    first_vu: u64,
    active: Arc<AtomicU64>,
    mut global: watch::Receiver<Phase>,
) {
    let load = run.plan.scenarios[scenario].load.clone();
    let (tx, rx) = watch::channel(Phase::Run);
    let control = Control {
        phase: rx,
        active,
        target: None,
        exhausted: Arc::new(AtomicBool::new(false)),
        replaces: matches!(
            load.executor,
            Executor::ConstantVus { .. } | Executor::RampingVus { .. }
        ),
    };
    // A part runs the users of the whole test numbered `k mod N = I`; each
    // keeps its number in the whole (its data are drawn from it), and the
    // part's own users are spread evenly over the workers.
    let part = run.segment;
    // `iterations`: the user's next iteration number, kept by `ramping-vus`
    // across a user's stop and restart so that it does not repeat its data.
    let spawn_from = |local: u64, budget: Budget, control: Control, iterations: Arc<AtomicU64>| {
        let worker = workers[(first_vu + local) as usize % workers.len()].clone();
        let handle = worker.handle.clone();
        let index = part.global(local);
        handle.spawn(vu_main(
            run.clone(),
            worker,
            scenario,
            User {
                vu: first_vu + index + 1,
                index,
                iterations,
            },
            budget,
            control,
        ))
    };
    let spawn = |local: u64, budget: Budget, control: Control| -> JoinHandle<()> {
        spawn_from(local, budget, control, Arc::default())
    };
    let start = Instant::now();
    let (handles, deadline) = match &load.executor {
        Executor::ConstantVus { vus, duration } => (
            (0..part.share(*vus))
                .map(|i| spawn(i, Budget::Unbounded, control.clone()))
                .collect(),
            start + *duration,
        ),
        Executor::PerVuIterations {
            vus,
            iterations,
            max_duration,
        } => (
            (0..part.share(*vus))
                .map(|i| spawn(i, Budget::PerVu(*iterations), control.clone()))
                .collect(),
            start + *max_duration,
        ),
        Executor::SharedIterations {
            vus,
            iterations,
            max_duration,
        } => {
            let counter = Arc::new(AtomicU64::new(0));
            (
                (0..part.share(*vus))
                    .map(|i| {
                        spawn(
                            i,
                            Budget::Shared(counter.clone(), part.share(*iterations)),
                            control.clone(),
                        )
                    })
                    .collect(),
                start + *max_duration,
            )
        }
        Executor::RampingVus { start_vus, stages } => {
            let target = Arc::new(AtomicU64::new(*start_vus));
            let control = Control {
                target: Some(target.clone()),
                ..control.clone()
            };
            let exhausted = control.exhausted.clone();
            let handles = ramp(
                *start_vus,
                stages,
                part,
                &target,
                &exhausted,
                &mut global,
                |i, iterations| spawn_from(i, Budget::Unbounded, control.clone(), iterations),
            )
            .await;
            (handles, Instant::now())
        }
        Executor::ConstantArrivalRate { .. } | Executor::RampingArrivalRate { .. } => {
            let (schedule, max_vus) = super::open::open_plan(&load.executor);
            let (schedule, max_vus) = (schedule.part(part), part.max_vus(max_vus));
            let open = super::open::Open {
                run: run.clone(),
                workers: workers.clone(),
                scenario,
                first_vu,
                active: control.active.clone(),
                graceful_stop: load.graceful_stop,
            };
            return super::open::run_open(open, schedule, max_vus, global).await;
        }
    };
    let all = join_all(handles);
    tokio::pin!(all);
    // Phase 1: run until done, the deadline, or a global stop.
    tokio::select! {
        _ = &mut all => return,
        _ = sleep_until(deadline) => {}
        _ = global.wait_for(|p| *p != Phase::Run) => {}
    }
    // Phase 2: no new iterations; running ones get `graceful_stop`.
    let _ = tx.send(Phase::Graceful);
    let hard_now = *global.borrow() == Phase::Hard;
    if !hard_now {
        tokio::select! {
            _ = &mut all => return,
            _ = sleep(load.graceful_stop) => {}
            _ = global.wait_for(|p| *p == Phase::Hard) => {}
        }
    }
    // Phase 3: cut what still runs.
    let _ = tx.send(Phase::Hard);
    let _ = tokio::time::timeout(Duration::from_secs(10), &mut all).await;
}

/// Follows the stages of `ramping-vus`, starting users up to the target;
/// users above the target stop after their current iteration. The target
/// counts the whole test's users; a part starts those of its own below it
/// (`spawn` takes the part's own number of the user).
#[allow(clippy::too_many_arguments)]
async fn ramp(
    start_vus: u64,
    stages: &[Stage],
    part: super::segment::Segment,
    target: &AtomicU64,
    exhausted: &AtomicBool,
    global: &mut watch::Receiver<Phase>,
    mut spawn: impl FnMut(u64, Arc<AtomicU64>) -> JoinHandle<()>,
) -> Vec<JoinHandle<()>> {
    // Per user slot: its task, and its next iteration number (a user that
    // stopped and starts again goes on counting).
    let mut slots: Vec<(Option<JoinHandle<()>>, Arc<AtomicU64>)> = Vec::new();
    let mut finished: Vec<JoinHandle<()>> = Vec::new();
    let start = Instant::now();
    let total: Duration = stages.iter().map(|s| s.duration).sum();
    loop {
        let elapsed = start.elapsed();
        let now_target = ramp_target(start_vus, stages, elapsed.min(total));
        target.store(now_target, Ordering::Relaxed);
        for i in 0..part.share(now_target) as usize {
            if slots.len() <= i {
                slots.resize_with(i + 1, Default::default);
            }
            let (task, iterations) = &mut slots[i];
            if task.as_ref().is_none_or(|h| h.is_finished()) {
                if let Some(old) = task.replace(spawn(i as u64, iterations.clone())) {
                    finished.push(old);
                }
            }
        }
        // A `unique` feeder that ran out ends the scenario: no user would
        // find a row.
        if elapsed >= total || *global.borrow() != Phase::Run || exhausted.load(Ordering::Relaxed) {
            break;
        }
        tokio::select! {
            _ = sleep(Duration::from_millis(20)) => {}
            _ = global.changed() => {}
        }
    }
    finished.extend(slots.into_iter().filter_map(|(task, _)| task));
    finished
}

/// The target number of users `elapsed` into the stages (linear ramps).
pub fn ramp_target(start_vus: u64, stages: &[Stage], elapsed: Duration) -> u64 {
    let mut from = start_vus as f64;
    let mut at = Duration::ZERO;
    for s in stages {
        if elapsed < at + s.duration {
            let frac = (elapsed - at).as_secs_f64() / s.duration.as_secs_f64().max(1e-9);
            return (from + (s.target as f64 - from) * frac).round() as u64;
        }
        at += s.duration;
        from = s.target as f64;
    }
    from as u64
}

/// Who a closed-model user is.
struct User {
    /// Its number in the run (from 1).
    vu: u64,
    /// Its place in the scenario (from 0; in the whole test, when this
    /// process runs a part of it), against the ramp's target.
    index: u64,
    /// Its next iteration number, shared with its next life under
    /// `ramping-vus`.
    iterations: Arc<AtomicU64>,
}

async fn vu_main(
    run: Arc<RunCtx>,
    worker: Arc<WorkerCtx>,
    scenario: usize,
    user: User,
    budget: Budget,
    control: Control,
) {
    let User {
        vu,
        index,
        iterations,
    } = user;
    control.active.fetch_add(1, Ordering::Relaxed);
    let conns = Arc::new(Conns::default());
    let who = Who {
        scenario,
        vu,
        index,
    };
    let first = iterations.load(Ordering::Relaxed);
    // `before` and `after` run once: boxed, their futures take no room in
    // the user's task while it iterates.
    let Some(session) = Box::pin(start_life(&run, &worker, &conns, who, first, &control)).await
    else {
        control.active.fetch_sub(1, Ordering::Relaxed);
        return;
    };
    let mut iteration = first;
    let mut cut = false;
    loop {
        if control.stops(index) {
            break;
        }
        let mut number = None;
        match &budget {
            Budget::Unbounded => {}
            Budget::PerVu(n) if iteration >= *n => break,
            Budget::PerVu(_) => {}
            Budget::Shared(counter, n) => {
                let taken = counter.fetch_add(1, Ordering::Relaxed);
                if taken >= *n {
                    break;
                }
                number = Some(run.segment.global(taken));
            }
        }
        let one = Iteration {
            run: &run,
            worker: &worker,
            conns: &conns,
            session: &session,
            scenario,
            vu,
            iteration,
            number,
        };
        match one.run(&control, None).await {
            None => break,
            Some(IterationEnd::Interrupted) => {
                cut = true;
                break;
            }
            Some(_) => iteration += 1,
        }
        iterations.store(iteration, Ordering::Relaxed);
        // An iteration that never waited (all steps skipped, a template
        // failing at once) must not starve the other users of this worker:
        // tokio's budget makes the task yield after enough work, without
        // the cost of a yield after every iteration.
        tokio::task::consume_budget().await;
    }
    if !cut {
        let done = iteration - first;
        Box::pin(session::end(
            &run,
            &worker,
            &conns,
            who,
            &session,
            done,
            &control.phase,
        ))
        .await;
    }
    control.active.fetch_sub(1, Ordering::Relaxed);
}

/// Runs the user's `before` until it succeeds: `None` when the user does
/// not start (its `before` failed and the executor does not replace it, or
/// the run stops first). A replaced user starts again after a pause that
/// doubles with each failure. A user is counted as retired once per life,
/// however many times it tries. `life` tells this life from the user's
/// earlier ones (`ramping-vus`: its iterations so far).
async fn start_life(
    run: &Arc<RunCtx>,
    worker: &Arc<WorkerCtx>,
    conns: &Arc<Conns>,
    who: Who,
    life: u64,
    control: &Control,
) -> Option<Session> {
    let mut failures: u32 = 0;
    loop {
        if control.stops(who.index) {
            return None;
        }
        let attempt = crate::template::fake::mix(life) ^ u64::from(failures);
        match session::begin(run, worker, conns, who, attempt, &control.phase).await {
            Begin::Ready(s) => return Some(s),
            Begin::Stopped => return None,
            Begin::Failed => {
                if failures == 0 {
                    worker.retired(who.scenario);
                }
                if !control.replaces {
                    return None;
                }
                failures += 1;
                // A user waiting to start again is not an active one.
                control.active.fetch_sub(1, Ordering::Relaxed);
                let mut phase = control.phase.clone();
                let stopped = tokio::select! {
                    _ = sleep(session::retry_pause(failures)) => false,
                    _ = phase.wait_for(|p| *p != Phase::Run) => true,
                };
                control.active.fetch_add(1, Ordering::Relaxed);
                if stopped {
                    return None;
                }
            }
        }
    }
}

/// One iteration of one virtual user.
pub struct Iteration<'a> {
    pub run: &'a Arc<RunCtx>,
    pub worker: &'a Arc<WorkerCtx>,
    /// The user's keep-alive connections, which outlive its iterations.
    pub conns: &'a Arc<Conns>,
    /// What the user keeps across its iterations.
    pub session: &'a Session,
    pub scenario: usize,
    pub vu: u64,
    pub iteration: u64,
    /// Iterations handed out by the scenario rather than kept by a user
    /// (`shared-iterations`, the open model): the iteration's number in the
    /// whole test, from which its data are drawn, so that whichever user
    /// (or part) runs it draws the same.
    pub number: Option<u64>,
}

impl Iteration<'_> {
    /// Runs the scenario's steps once and records how it ended. `scheduled`
    /// is the open model's due time: the iteration's duration, and its
    /// first request's latency, count from it. `None` when a `unique`
    /// feeder has run out (nothing ran).
    pub async fn run(
        self,
        control: &Control,
        scheduled: Option<std::time::Instant>,
    ) -> Option<IterationEnd> {
        let (run, worker, scenario) = (self.run, self.worker, self.scenario);
        let plan = &run.plan;
        let mut cur = new_cursor(
            run,
            scenario,
            self.vu,
            self.iteration,
            self.number,
            self.session,
        );
        for &f in &plan.scenarios[scenario].feeders {
            if plan.feeders[f].per == FeederPer::Vu {
                continue;
            }
            match run.feeders[f].pick(&plan.feeders[f], &mut cur.rng, run.segment) {
                Some(row) => Arc::make_mut(&mut cur.scope).set_row(&plan.feeders[f].name, row),
                None => {
                    if !control.exhausted.swap(true, Ordering::Relaxed) {
                        worker.exhausted(scenario, &plan.feeders[f].name);
                    }
                    return None;
                }
            }
        }
        let jar = Cookies::starting_with(&self.session.cookies);
        let env = Env::new(run, worker, Some(scenario), self.conns, jar, false);
        let began = scheduled.unwrap_or_else(std::time::Instant::now);
        worker.iteration_started(scenario, run.micros_at(began));
        if scheduled.is_some() {
            cur.lag = began.elapsed();
        }
        let mut phase = control.phase.clone();
        let flow = tokio::select! {
            // In this order, which also spares drawing a random number on
            // every wake-up to pick one.
            biased;
            flow = run_steps(&env, &mut cur, &plan.scenarios[scenario].steps) => Some(flow),
            _ = phase.wait_for(|p| *p == Phase::Hard) => None,
        };
        let ended = std::time::Instant::now();
        let micros = ended.saturating_duration_since(began).as_micros() as u64;
        let end = match flow {
            None => IterationEnd::Interrupted,
            Some(Flow::Stop) => IterationEnd::Failed,
            Some(Flow::Next) if cur.failed => IterationEnd::Failed,
            Some(Flow::Next) => IterationEnd::Completed,
        };
        worker.iteration_ended(scenario, run.micros_at(ended), micros, end);
        Some(end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramp_target_interpolates_linearly() {
        let stages = [
            Stage {
                duration: Duration::from_secs(10),
                target: 10,
            },
            Stage {
                duration: Duration::from_secs(10),
                target: 10,
            },
            Stage {
                duration: Duration::from_secs(5),
                target: 0,
            },
        ];
        let at = |s: f64| ramp_target(0, &stages, Duration::from_secs_f64(s));
        assert_eq!(at(0.0), 0);
        assert_eq!(at(5.0), 5);
        assert_eq!(at(10.0), 10);
        assert_eq!(at(15.0), 10);
        assert_eq!(at(22.5), 5);
        assert_eq!(at(30.0), 0);
        assert_eq!(ramp_target(4, &stages[..1], Duration::ZERO), 4);
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;

    /// Each waiting user holds its task (this future) and its iteration's
    /// environment: 10,000 idle users are 10,000 of each, so they must
    /// stay small (`before` and `after` are boxed, cookies made on the
    /// first one). The bounds leave a little room; a jump is a regression.
    #[test]
    fn a_users_task_and_its_iteration_stay_small() {
        let yaml = "version: 1\nbase_url: http://127.0.0.1:9\nload: { vus: 1, duration: 1s }\nsteps:\n  - { name: a, get: /a, expect: { status: 200 } }\n";
        let (test, _) = crate::scenario::load_str(std::path::Path::new("t.yaml"), yaml.into());
        let (plan, _) =
            crate::plan::compile(&test.expect("a model"), &Default::default()).expect("a plan");
        let plan = Arc::new(plan);
        let (workers, _threads) = super::super::spawn_workers(&plan, 1).expect("a worker");
        let options = super::super::RunOptions {
            workers: 1,
            trace: false,
            events: crate::events::Events::none(),
            segment: Default::default(),
            keep_histograms: false,
            start_at: None,
            board: None,
        };
        let run = Arc::new(RunCtx::new(&plan, &options, Default::default()));
        let (_tx, phase) = watch::channel(Phase::Run);
        let control = Control {
            phase,
            active: Arc::default(),
            target: None,
            exhausted: Arc::default(),
            replaces: true,
        };
        let user = User {
            vu: 1,
            index: 0,
            iterations: Arc::default(),
        };
        let task = vu_main(run, workers[0].clone(), 0, user, Budget::Unbounded, control);
        let task = std::mem::size_of_val(&task);
        assert!(task <= 960, "a user's task takes {task} bytes");
        let env = std::mem::size_of::<Env>();
        assert!(env <= 160, "an iteration's environment takes {env} bytes");
    }
}
