//! Running a plan: worker threads (one single-threaded runtime, one HTTP
//! client and one recorder each), the scenario controllers, Ctrl-C handling,
//! and the once-a-second collection of the timeline.
//!
//! Virtual users are spread over the workers; each records into its own
//! worker's recorder, so no lock is shared between workers on the request
//! path. The controller thread only reads recorders once a second.

pub mod executor;
pub mod expect;
pub mod feeder;
pub mod judge;
pub mod monitor;
pub mod open;
pub mod protocol;
pub mod remote_write;
pub mod sampler;
pub mod schedule;
pub mod segment;
pub mod session;
pub mod setup;
mod signals;
pub mod step;
pub mod vu;

pub use signals::Signals;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use minijinja::value::Value;
use tokio::sync::{oneshot, watch};

use crate::metrics::{Collector, IterationEnd, Recorder, Sample, Summary};
use crate::plan::{Phase as Part, Plan, StepKindTag};
use executor::Phase;
use feeder::FeederCursor;

/// Shared by every virtual user of a run.
pub struct RunCtx {
    pub plan: Arc<Plan>,
    pub start: Instant,
    /// `--smoke`: report every step as it finishes.
    pub trace: bool,
    /// What the run has to say, to the console.
    pub events: crate::events::Events,
    pub feeders: Vec<FeederCursor>,
    /// What `setup` captured and set: `setup.*` (undefined without one).
    pub setup: Value,
    /// Per scenario: a retired user has been told of on the console.
    pub retired_noted: Vec<std::sync::atomic::AtomicBool>,
    /// The part of the test this process runs (`0/1`: all of it).
    pub segment: segment::Segment,
    keep_histograms: bool,
    board: Option<Arc<crate::live::Board>>,
}

impl RunCtx {
    fn new(plan: &Arc<Plan>, options: &RunOptions, setup: Value) -> Self {
        Self {
            plan: plan.clone(),
            start: Instant::now(),
            trace: options.trace,
            events: options.events.clone(),
            feeders: plan
                .feeders
                .iter()
                .map(|_| FeederCursor::default())
                .collect(),
            setup,
            retired_noted: plan.scenarios.iter().map(|_| Default::default()).collect(),
            segment: options.segment,
            keep_histograms: options.keep_histograms,
            board: options.board.clone(),
        }
    }
}

impl RunCtx {
    /// Whole seconds since the run started.
    pub fn second(&self) -> u32 {
        self.second_at(Instant::now())
    }

    /// Whole seconds from the run's start to `at` (a time already read,
    /// which saves reading the clock again).
    pub fn second_at(&self, at: Instant) -> u32 {
        at.saturating_duration_since(self.start).as_secs() as u32
    }

    /// `--smoke`: shows a finished step on the console.
    pub fn trace(&self, line: impl FnOnce() -> crate::events::StepLine) {
        if self.trace {
            self.events.send(crate::events::Event::Step(line()));
        }
    }

    /// Microseconds from the run's start to `at`.
    pub fn micros_at(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.start).as_micros() as u64
    }
}

/// One worker thread's share of the run.
pub struct WorkerCtx {
    links: protocol::stream::Links,
    recorder: Mutex<Recorder>,
    pub handle: tokio::runtime::Handle,
    responses: AtomicU64,
    connect_errors: AtomicU64,
    last_connect_error: Mutex<Option<String>>,
}

impl WorkerCtx {
    /// The worker's TLS settings and proxies, per link of the plan.
    pub fn links(&self) -> &protocol::stream::Links {
        &self.links
    }

    fn recorder(&self) -> MutexGuard<'_, Recorder> {
        self.recorder.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn record(&self, s: &Sample) {
        self.recorder().record(s);
    }

    pub fn iteration_started(&self, scenario: usize, at_us: u64) {
        self.recorder().iteration_started(scenario, at_us);
    }

    pub fn iteration_ended(&self, scenario: usize, at_us: u64, micros: u64, end: IterationEnd) {
        self.recorder()
            .iteration_ended(scenario, at_us, micros, end);
    }

    pub fn dropped(&self, scenario: usize, second: u32, n: u64) {
        self.recorder().dropped(scenario, second, n);
    }

    pub fn exhausted(&self, scenario: usize, feeder: &str) {
        self.recorder().exhausted(scenario, feeder);
    }

    pub fn retired(&self, scenario: usize) {
        self.recorder().retired(scenario);
    }

    pub fn scenario_error(&self, scenario: usize, reason: &str) {
        self.recorder().scenario_error(scenario, reason);
    }

    pub fn response(&self) {
        self.responses.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection failure; the first reason is kept for the abort message.
    pub fn connect_error(&self, reason: &str) {
        if self.connect_errors.fetch_add(1, Ordering::Relaxed) == 0 {
            self.note_connect_error(reason);
        }
    }

    /// Forgets the responses and connection failures seen so far.
    fn forget_reachability(&self) {
        self.responses.store(0, Ordering::Relaxed);
        self.connect_errors.store(0, Ordering::Relaxed);
        *self
            .last_connect_error
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn note_connect_error(&self, reason: &str) {
        let mut slot = self
            .last_connect_error
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(reason.to_string());
        }
    }
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub workers: usize,
    pub trace: bool,
    /// Where progress, notes and `--smoke` lines go (the console).
    pub events: crate::events::Events,
    /// `--segment`: the part of the test to run.
    pub segment: segment::Segment,
    /// A part of a split test (even `0/1`): keep every second's latency
    /// histogram for `trek merge`.
    pub keep_histograms: bool,
    /// `--start-at`: when the load starts (after `setup`), and how late it
    /// may be.
    pub start_at: Option<StartAt>,
    /// `--metrics-listen`: where the live snapshot goes once a second.
    pub board: Option<Arc<crate::live::Board>>,
}

/// A load that starts at an agreed instant (the parts of a split test).
#[derive(Debug, Clone, Copy)]
pub struct StartAt {
    pub at: std::time::SystemTime,
    /// Starting later than this after `at` aborts the run (exit 3).
    pub tolerance: Duration,
}

pub struct RunOutcome {
    pub summary: Summary,
    /// Why the run was aborted, if it was.
    pub aborted: Option<String>,
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// Why `teardown` did not finish, when it did not.
    pub teardown_failure: Option<String>,
    /// When the load's clock started (after `setup`), on the wall clock:
    /// its timeline's second 0.
    pub load_started: std::time::SystemTime,
    /// `--start-at`: how late the load started after the agreed instant
    /// (seconds), when it waited for one.
    pub start_lag: Option<f64>,
    /// What went wrong beside the load (a monitor that did not answer).
    pub warnings: Vec<String>,
    /// The SLO (with `abort: true`) that stopped the test, when one did.
    pub stopped_by: Option<judge::Stopped>,
    /// The measurements when each `after` of the SLOs came.
    pub baselines: crate::verdict::Baselines,
}

/// After this many connection failures with no response at all, the target
/// is taken as unreachable and the run is stopped.
const UNREACHABLE_AFTER: u64 = 3;

/// Runs the plan to its end (or until interrupted) and returns what was
/// measured: `setup`, the scenarios, `teardown`. Never panics on a failing
/// target; results are always returned.
pub fn run(plan: Arc<Plan>, options: RunOptions) -> std::io::Result<RunOutcome> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let started_at = chrono::Utc::now();
    let (workers, threads) = spawn_workers(&plan, options.workers.max(1))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let workers = Arc::new(workers);
    let mut signals = {
        let _in_runtime = rt.enter();
        Signals::new()
    };
    let mut aborted = None;
    let mut setup_value = Value::UNDEFINED;
    let mut setup_took = 0.0;
    if !plan.setup.is_empty() {
        let run = Arc::new(RunCtx::new(&plan, &options, Value::UNDEFINED));
        match rt.block_on(setup::once(&run, &workers[0], Part::Setup, &mut signals)) {
            setup::Once::Done(v) => setup_value = v,
            setup::Once::Failed(why) => {
                aborted = Some(format!("setup failed, so no load was started: {why}"));
            }
            setup::Once::Interrupted => {
                aborted = Some("interrupted during setup; no load was started".into());
            }
        }
        setup_took = run.start.elapsed().as_secs_f64();
        // Whether the target can be reached is judged on the load alone
        // (`setup` may talk to another host).
        for w in workers.iter() {
            w.forget_reachability();
        }
    }
    let set_up = aborted.is_none();
    let mut start_lag = None;
    if let (true, Some(start)) = (set_up, options.start_at) {
        match rt.block_on(wait_for(start, &mut signals)) {
            Ok(lag) => {
                start_lag = Some(lag.as_secs_f64());
                if lag > start.tolerance {
                    aborted = Some(format!(
                        "ready {:.3} s after --start-at, later than the tolerance of {} s (--start-tolerance): no load was started, as it would not line up with the other parts",
                        lag.as_secs_f64(),
                        start.tolerance.as_secs_f64()
                    ));
                }
            }
            Err(()) => aborted = Some("interrupted while waiting for --start-at".into()),
        }
    }
    let loads = aborted.is_none();
    // The load's clock starts now: its rates are not diluted by `setup`.
    let run = Arc::new(RunCtx::new(&plan, &options, setup_value));
    let load_started = std::time::SystemTime::now();
    let mut warnings = Vec::new();
    // The target's own metrics are sampled while the load goes.
    let monitoring = if loads {
        monitor::Monitoring::start(&plan.monitors, run.start, options.board.clone()).unwrap_or_else(
            |e| {
                warnings.push(format!("monitor: cannot start: {e}"));
                None
            },
        )
    } else {
        None
    };
    let (collector, interrupts, judged) = if loads {
        let (reason, collector, interrupts, judged) =
            rt.block_on(control(run.clone(), workers.clone(), &mut signals));
        aborted = reason;
        (collector, interrupts, judged)
    } else {
        (Collector::default(), 0, None)
    };
    let (stopped_by, baselines) = judged.map_or((None, Vec::new()), |j| (j.stopped, j.baselines));
    let mut monitors = Vec::new();
    if let Some(m) = monitoring {
        let (series, said) = m.finish();
        monitors = series;
        warnings.extend(said);
    }
    // Without a load (`setup` failed), the run's rates are over `setup`.
    let duration = if loads {
        run.start.elapsed().as_secs_f64()
    } else {
        setup_took
    };
    let responses: u64 = workers
        .iter()
        .map(|w| w.responses.load(Ordering::Relaxed))
        .sum();
    let connect: u64 = workers
        .iter()
        .map(|w| w.connect_errors.load(Ordering::Relaxed))
        .sum();
    if aborted.is_none() && responses == 0 && connect > 0 {
        aborted = Some(unreachable_reason(&workers));
    }
    let teardown_failure = if set_up && !plan.teardown.is_empty() {
        teardown(&run, &workers[0], &rt, &mut signals, interrupts)
    } else {
        None
    };
    // The last snapshot: what a scrape after the end sees.
    if let Some(board) = &options.board {
        let idle = vec![0; plan.scenarios.len()];
        board.refresh(|add| workers.iter().for_each(|w| add(&w.recorder())), &idle);
    }
    let mut recorders: Vec<Recorder> = Vec::new();
    for w in workers.iter() {
        // Sized like the original: a straggling task may still record.
        let fresh = Recorder::new(plan.steps.len(), plan.scenarios.len());
        let r = std::mem::replace(&mut *w.recorder(), fresh);
        recorders.push(r);
    }
    drop(rt);
    for (tx, t) in threads {
        let _ = tx.send(());
        let _ = t.join();
    }
    let names: Vec<String> = plan.scenarios.iter().map(|s| s.name.clone()).collect();
    let steps: Vec<(Option<usize>, bool)> = plan
        .steps
        .iter()
        .map(|s| {
            let counted_in = s.scenario.filter(|_| s.in_iterations());
            (counted_in, s.kind != StepKindTag::Group)
        })
        .collect();
    let mut summary = collector.finish(&mut recorders, &names, &steps, duration);
    // Every second of the load has a place, a gap where nothing was read.
    let seconds = duration.ceil() as usize;
    for m in &mut monitors {
        if m.values.len() < seconds {
            m.values.resize(seconds, None);
        }
    }
    summary.monitors = monitors;
    Ok(RunOutcome {
        summary,
        warnings,
        stopped_by,
        baselines,
        aborted,
        started_at,
        teardown_failure,
        load_started,
        start_lag,
    })
}

/// Waits for `--start-at`; returns how late the wait ended (zero when the
/// instant was still ahead and reached on time), or `Err` on Ctrl-C.
async fn wait_for(start: StartAt, signals: &mut Signals) -> Result<Duration, ()> {
    if let Ok(ahead) = start.at.duration_since(std::time::SystemTime::now()) {
        // The timer wakes within a millisecond; the last stretch is polled
        // so that the parts begin together.
        let coarse = ahead.saturating_sub(Duration::from_millis(2));
        tokio::select! {
            _ = tokio::time::sleep(coarse) => {}
            _ = signals.next() => return Err(()),
        }
        while std::time::SystemTime::now() < start.at {
            std::thread::yield_now();
        }
    }
    Ok(std::time::SystemTime::now()
        .duration_since(start.at)
        .unwrap_or_default())
}

/// Runs `teardown`: after a graceful stop and a failed SLO alike, not after
/// a second Ctrl-C. A Ctrl-C while it runs stops it; either way the run's
/// verdict stays the load's, and the reason is returned.
fn teardown(
    run: &Arc<RunCtx>,
    worker: &Arc<WorkerCtx>,
    rt: &tokio::runtime::Runtime,
    signals: &mut Signals,
    interrupts: u32,
) -> Option<String> {
    if interrupts >= 2 {
        return Some("skipped: the run was stopped at once (second Ctrl-C)".into());
    }
    match rt.block_on(setup::once(run, worker, Part::Teardown, signals)) {
        setup::Once::Done(_) => None,
        setup::Once::Failed(why) => {
            run.events.problem(format!("teardown failed: {why}"));
            Some(why)
        }
        setup::Once::Interrupted => {
            run.events.problem("teardown stopped by Ctrl-C");
            Some("stopped by Ctrl-C".into())
        }
    }
}

fn unreachable_reason(workers: &[Arc<WorkerCtx>]) -> String {
    let detail = workers
        .iter()
        .find_map(|w| w.last_connect_error.lock().ok().and_then(|s| s.clone()))
        .unwrap_or_else(|| "connection failed".into());
    let tls = ["certificate", "TLS", "handshake", "tls."]
        .iter()
        .any(|w| detail.contains(w));
    if tls {
        format!("the target answered, but no TLS connection could be agreed with it: {detail}")
    } else {
        format!(
            "the target could not be reached ({detail}); is it running, and is the base URL right?"
        )
    }
}

type WorkerThread = (oneshot::Sender<()>, std::thread::JoinHandle<()>);

fn spawn_workers(
    plan: &Plan,
    n: usize,
) -> std::io::Result<(Vec<Arc<WorkerCtx>>, Vec<WorkerThread>)> {
    let mut workers = Vec::with_capacity(n);
    let mut threads = Vec::with_capacity(n);
    for i in 0..n {
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("trek-worker-{i}"))
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = handle_tx.send(Err(e));
                        return;
                    }
                };
                let _ = handle_tx.send(Ok(rt.handle().clone()));
                rt.block_on(async {
                    let _ = stop_rx.await;
                });
            })?;
        let handle = handle_rx
            .recv()
            .map_err(|_| std::io::Error::other("worker thread died"))??;
        workers.push(Arc::new(WorkerCtx {
            links: protocol::stream::Links::new(&plan.links),
            recorder: Mutex::new(Recorder::new(plan.steps.len(), plan.scenarios.len())),
            handle,
            responses: AtomicU64::new(0),
            connect_errors: AtomicU64::new(0),
            last_connect_error: Mutex::new(None),
        }));
        threads.push((stop_tx, thread));
    }
    Ok((workers, threads))
}

/// The controller: starts every scenario, watches Ctrl-C and reachability,
/// collects the timeline each second. Returns the abort reason, if any, and
/// how many times Ctrl-C was pressed.
async fn control(
    run: Arc<RunCtx>,
    workers: Arc<Vec<Arc<WorkerCtx>>>,
    signals: &mut Signals,
) -> (Option<String>, Collector, u32, Option<judge::LiveJudge>) {
    let (global_tx, global_rx) = watch::channel(Phase::Run);
    let abort: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let plan = run.plan.clone();
    let actives: Vec<Arc<AtomicU64>> = plan
        .scenarios
        .iter()
        .map(|_| Arc::new(AtomicU64::new(0)))
        .collect();

    let mut first_vu = 0u64;
    let mut scenario_runs = Vec::new();
    for (i, s) in plan.scenarios.iter().enumerate() {
        scenario_runs.push(executor::run_scenario(
            run.clone(),
            workers.clone(),
            i,
            first_vu,
            actives[i].clone(),
            global_rx.clone(),
        ));
        first_vu += max_vus(&s.load.executor);
    }
    let scenarios = join_all(scenario_runs);
    tokio::pin!(scenarios);

    // A part keeps its timeline's histograms: `trek merge` adds them.
    let mut collector = if run.keep_histograms {
        Collector::keeping_histograms()
    } else {
        Collector::default()
    };
    let mut sampler = sampler::Sampler::new();
    let mut warned = false;
    let names: Vec<String> = plan.scenarios.iter().map(|s| s.name.clone()).collect();
    // A part judges nothing (`trek merge` does), nor does --smoke live.
    let mut judge = if run.keep_histograms || run.trace {
        None
    } else {
        judge::LiveJudge::new(&plan)
    };
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut ticks = 0u64;
    let mut interrupts = 0;
    loop {
        tokio::select! {
            _ = &mut scenarios => break,
            _ = signals.next() => {
                interrupts += 1;
                let mut a = abort.lock().unwrap_or_else(|e| e.into_inner());
                if interrupts == 1 {
                    a.get_or_insert_with(|| "interrupted".into());
                    let _ = global_tx.send(Phase::Graceful);
                    run.events.note("interrupted: letting running iterations finish (Ctrl-C again to stop now)");
                } else {
                    let _ = global_tx.send(Phase::Hard);
                    run.events.note("stopping now");
                }
            }
            _ = tick.tick() => {
                ticks += 1;
                let responses: u64 = workers.iter().map(|w| w.responses.load(Ordering::Relaxed)).sum();
                let connect: u64 = workers.iter().map(|w| w.connect_errors.load(Ordering::Relaxed)).sum();
                if responses == 0 && connect >= UNREACHABLE_AFTER && *global_tx.borrow() != Phase::Hard {
                    abort.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(|| unreachable_reason(&workers));
                    let _ = global_tx.send(Phase::Hard);
                }
                let second = run.second();
                for (i, a) in actives.iter().enumerate() {
                    collector.active_vus(second, i, a.load(Ordering::Relaxed));
                }
                if ticks % 10 == 0 {
                    collector.health.push(sampler.sample(second));
                    if !warned {
                        if let Some(w) = crate::metrics::health::saturation_warning(&collector.health) {
                            run.events.note(format!("warning: {w}"));
                            warned = true;
                        }
                    }
                    for w in workers.iter() {
                        collector.add_seconds(w.recorder().drain_seconds(second));
                    }
                    if let Some(board) = &run.board {
                        let active: Vec<u64> = actives.iter().map(|a| a.load(Ordering::Relaxed)).collect();
                        board.refresh(|add| workers.iter().for_each(|w| add(&w.recorder())), &active);
                    }
                    if let Some(j) = &mut judge {
                        let elapsed = run.start.elapsed().as_secs_f64();
                        if let Some(reason) = j.tick(elapsed, workers.iter().map(|w| w.recorder())) {
                            run.events.note(format!("stopping: {reason}"));
                            if *global_tx.borrow() == Phase::Run {
                                let _ = global_tx.send(Phase::Graceful);
                            }
                        }
                    }
                    collector.settle_before(second.saturating_sub(2), &names);
                    if second >= 1 {
                        let scenarios = plan
                            .scenarios
                            .iter()
                            .enumerate()
                            .map(|(i, s)| {
                                let (requests, failures) = collector.scenario_requests_in(second - 1, i);
                                crate::events::ScenarioProgress {
                                    name: s.name.clone(),
                                    planned: planned(&s.load.executor),
                                    vus: actives[i].load(Ordering::Relaxed),
                                    requests,
                                    failures,
                                    p95: collector.recent_p95(second, i),
                                    dropped: collector.dropped_so_far(i),
                                }
                            })
                            .collect();
                        run.events.send(crate::events::Event::Progress {
                            elapsed: run.start.elapsed(),
                            scenarios,
                        });
                    }
                }
            }
        }
    }
    let reason = abort.lock().unwrap_or_else(|e| e.into_inner()).clone();
    (reason, collector, interrupts, judge)
}

/// How long an executor's load is planned to last; `None` for the
/// iteration executors, which end when their iterations are done.
pub fn planned(e: &crate::scenario::model::Executor) -> Option<Duration> {
    use crate::scenario::model::Executor as E;
    match e {
        E::ConstantVus { duration, .. } => Some(*duration),
        E::RampingVus { stages, .. } => Some(stages.iter().map(|s| s.duration).sum()),
        E::ConstantArrivalRate { .. } | E::RampingArrivalRate { .. } => {
            Some(open::open_plan(e).0.total())
        }
        E::PerVuIterations { .. } | E::SharedIterations { .. } => None,
    }
}

/// The most virtual users an executor can have at once.
pub fn max_vus(e: &crate::scenario::model::Executor) -> u64 {
    use crate::scenario::model::Executor as E;
    match e {
        E::ConstantVus { vus, .. }
        | E::PerVuIterations { vus, .. }
        | E::SharedIterations { vus, .. } => *vus,
        E::ConstantArrivalRate { .. } | E::RampingArrivalRate { .. } => open::open_plan(e).1,
        E::RampingVus { start_vus, stages } => stages
            .iter()
            .map(|s| s.target)
            .max()
            .unwrap_or(0)
            .max(*start_vus),
    }
}
