//! The open model (`constant-arrival-rate`, `ramping-arrival-rate`):
//! iterations start on a schedule, whether or not earlier ones have finished.
//!
//! The dispatcher walks the schedule on the controller thread and hands each
//! due iteration to an idle virtual user, starting new users up to
//! `max_vus`. When every user is busy, the iteration waits in a backlog of at
//! most `max_vus` iterations for the next user to come free; when the
//! backlog is full too, it is *dropped* and counted. An iteration that waited
//! carries its scheduled time, and its latency counts from there: a slow
//! target cannot hide behind a busy generator (coordinated omission).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::executor::{Control, Iteration, Phase};
use super::schedule::{Schedule, Segment};
use super::session::{self, Begin, Who};
use super::{RunCtx, WorkerCtx};
use crate::metrics::IterationEnd;
use crate::scenario::model::{default_max_vus, Executor};

/// The schedule and the user limit of an executor; a closed-model executor
/// gives an empty schedule.
pub fn open_plan(e: &Executor) -> (Schedule, u64) {
    let (schedule, max_vus) = match e {
        Executor::ConstantArrivalRate {
            rate,
            duration,
            max_vus,
        } => (Schedule::constant(*rate, *duration), *max_vus),
        Executor::RampingArrivalRate {
            start_rate,
            stages,
            max_vus,
        } => {
            let mut from = *start_rate;
            let segments = stages
                .iter()
                .map(|s| {
                    let seg = Segment {
                        duration: s.duration,
                        from,
                        to: s.target,
                    };
                    from = s.target;
                    seg
                })
                .collect();
            (Schedule::new(segments), *max_vus)
        }
        _ => (Schedule::new(Vec::new()), Some(0)),
    };
    let max_vus = max_vus.unwrap_or_else(|| default_max_vus(schedule.peak()));
    (schedule, max_vus)
}

/// Everything the dispatcher needs about its scenario.
pub struct Open {
    pub run: Arc<RunCtx>,
    pub workers: Arc<Vec<Arc<WorkerCtx>>>,
    pub scenario: usize,
    pub first_vu: u64,
    pub active: Arc<AtomicU64>,
    pub graceful_stop: Duration,
}

/// An iteration handed to a user: when it was due, and its number in the
/// whole schedule (its data are drawn from it).
type Due = (Instant, u64);

struct Pool {
    open: Open,
    control: Control,
    /// One work channel per started user; index = user index.
    users: Vec<mpsc::Sender<Due>>,
    handles: Vec<JoinHandle<()>>,
    idle: Vec<usize>,
    backlog: VecDeque<Due>,
    max_vus: usize,
    free_tx: mpsc::UnboundedSender<usize>,
}

impl Pool {
    /// A user came free: give it the oldest waiting iteration, if any.
    fn freed(&mut self, i: usize) {
        match self.backlog.pop_front() {
            Some(due) => self.send(i, due),
            None => self.idle.push(i),
        }
    }

    fn send(&mut self, i: usize, due: Due) {
        if self.users[i].try_send(due).is_err() && !self.exhausted() {
            // The user has stopped: the iteration cannot start.
            self.drop_iterations(1);
        }
    }

    /// A `unique` feeder of the scenario ran out: no iteration can start.
    fn exhausted(&self) -> bool {
        self.control.exhausted.load(Ordering::Relaxed)
    }

    /// Users still running an iteration (not idle, not stopped).
    fn busy(&self) -> usize {
        let stopped = self.users.iter().filter(|u| u.is_closed()).count();
        self.users.len().saturating_sub(self.idle.len() + stopped)
    }

    /// Hands out the iteration due at `due`.
    fn dispatch(&mut self, due: Due) {
        if let Some(i) = self.idle.pop() {
            self.send(i, due);
        } else if self.users.len() < self.max_vus {
            let i = self.spawn();
            self.send(i, due);
        } else if self.backlog.len() < self.max_vus {
            self.backlog.push_back(due);
        } else {
            self.drop_iterations(1);
        }
    }

    fn drop_iterations(&self, n: u64) {
        let o = &self.open;
        o.workers[0].dropped(o.scenario, o.run.second(), n);
    }

    fn spawn(&mut self) -> usize {
        let i = self.users.len();
        let o = &self.open;
        let (tx, rx) = mpsc::channel(1);
        // Its number among the whole test's users (a part runs every N-th).
        let index = o.run.segment.global(i as u64);
        let vu = o.first_vu + index + 1;
        let worker = o.workers[(o.first_vu as usize + i) % o.workers.len()].clone();
        let handle = worker.handle.clone().spawn(user(
            o.run.clone(),
            worker,
            Who {
                scenario: o.scenario,
                vu,
                index,
            },
            i,
            rx,
            self.free_tx.clone(),
            self.control.clone(),
        ));
        self.users.push(tx);
        self.handles.push(handle);
        i
    }
}

/// Runs an open-model scenario to its end. The schedule is walked on a
/// thread of its own: OS sleeps are precise to tens of microseconds, where
/// the async timer would add up to a millisecond of lag to every iteration.
pub async fn run_open(
    open: Open,
    schedule: Schedule,
    max_vus: u64,
    global: watch::Receiver<Phase>,
) {
    let events = open.run.events.clone();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("trek-schedule".into())
        .spawn(move || {
            let handles = dispatch(open, schedule, max_vus, global);
            let _ = done_tx.send(handles);
        });
    if spawned.is_err() {
        events.problem("cannot start the scheduler thread: the scenario does not run");
        return;
    }
    if let Ok(handles) = done_rx.await {
        let _ = tokio::time::timeout(
            Duration::from_secs(10),
            futures_util::future::join_all(handles),
        )
        .await;
    }
}

/// Longest single sleep of the dispatcher, so it answers freed users and
/// stop requests promptly.
const TICK: Duration = Duration::from_millis(2);

/// Walks the schedule; returns the users' tasks once all are told to stop.
fn dispatch(
    open: Open,
    schedule: Schedule,
    max_vus: u64,
    global: watch::Receiver<Phase>,
) -> Vec<JoinHandle<()>> {
    let (phase_tx, phase_rx) = watch::channel(Phase::Run);
    let (free_tx, mut free_rx) = mpsc::unbounded_channel();
    let graceful_stop = open.graceful_stop;
    let control = Control {
        phase: phase_rx,
        active: open.active.clone(),
        target: None,
        exhausted: Arc::new(AtomicBool::new(false)),
        replaces: false,
    };
    let mut pool = Pool {
        open,
        control,
        users: Vec::new(),
        handles: Vec::new(),
        idle: Vec::new(),
        backlog: VecDeque::new(),
        max_vus: max_vus.max(1) as usize,
        free_tx,
    };
    let stopping = |g: &watch::Receiver<Phase>| *g.borrow() != Phase::Run;
    let start = Instant::now();
    let mut schedule = schedule;
    loop {
        let number = schedule.number();
        let Some(offset) = schedule.next() else { break };
        let due = start + offset;
        loop {
            while let Ok(i) = free_rx.try_recv() {
                pool.freed(i);
            }
            if stopping(&global) || pool.exhausted() {
                break;
            }
            let now = Instant::now();
            if now >= due {
                break;
            }
            std::thread::sleep((due - now).min(TICK));
        }
        if stopping(&global) || pool.exhausted() {
            break;
        }
        pool.dispatch((due, number));
    }
    // A `unique` feeder ran out: the scenario ends now. What waits in the
    // backlog can never start (there is no row for it): that is the end of
    // the data, not a generator too slow for the rate, so it is not counted
    // as dropped.
    if pool.exhausted() {
        pool.backlog.clear();
    }
    // The schedule is over: waiting iterations may still start within
    // `graceful_stop`, and running ones get that long to finish. On a stop
    // (Ctrl-C), nothing new starts: the backlog is dropped at once.
    if stopping(&global) {
        let waiting = pool.backlog.len() as u64;
        if waiting > 0 {
            pool.drop_iterations(waiting);
            pool.backlog.clear();
        }
    }
    let deadline = Instant::now() + graceful_stop;
    while pool.busy() > 0 || !pool.backlog.is_empty() {
        if pool.exhausted() {
            pool.backlog.clear();
        }
        while let Ok(i) = free_rx.try_recv() {
            pool.freed(i);
        }
        if *global.borrow() == Phase::Hard || Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(TICK);
    }
    let waiting = pool.backlog.len() as u64;
    if waiting > 0 {
        pool.drop_iterations(waiting);
        pool.backlog.clear();
    }
    // Idle users end when their channel closes, each with its `after`,
    // within what is left of `graceful_stop`; then what still runs is cut.
    pool.users.clear();
    while pool.handles.iter().any(|h| !h.is_finished())
        && *global.borrow() != Phase::Hard
        && Instant::now() < deadline
    {
        std::thread::sleep(TICK);
    }
    let _ = phase_tx.send(Phase::Hard);
    std::mem::take(&mut pool.handles)
}

/// A virtual user of the open model: runs each iteration it is handed.
/// `slot` is its place in the pool, told back when it comes free.
async fn user(
    run: Arc<RunCtx>,
    worker: Arc<WorkerCtx>,
    who: Who,
    slot: usize,
    mut work: mpsc::Receiver<Due>,
    free: mpsc::UnboundedSender<usize>,
    control: Control,
) {
    let Who { scenario, vu, .. } = who;
    let mut iteration = 0;
    let conns = Arc::new(crate::run::protocol::http::Conns::default());
    let mut session = None;
    let mut cut = false;
    while let Some((mut due, number)) = work.recv().await {
        control.active.fetch_add(1, Ordering::Relaxed);
        if session.is_none() {
            // A new user: its `before` runs first, and its time is not the
            // iteration's (the iteration counts from the later of its due
            // time and the end of `before`).
            match Box::pin(session::begin(
                &run,
                &worker,
                &conns,
                who,
                0,
                &control.phase,
            ))
            .await
            {
                Begin::Ready(s) => session = Some(s),
                Begin::Failed => {
                    // Retired: the iteration it was handed cannot run.
                    worker.retired(scenario);
                    worker.dropped(scenario, run.second(), 1);
                    control.active.fetch_sub(1, Ordering::Relaxed);
                    return;
                }
                Begin::Stopped => {
                    control.active.fetch_sub(1, Ordering::Relaxed);
                    return;
                }
            }
            due = due.max(Instant::now());
        }
        let Some(kept) = &session else { break };
        let one = Iteration {
            run: &run,
            worker: &worker,
            conns: &conns,
            session: kept,
            scenario,
            vu,
            iteration,
            number: Some(number),
        };
        let end = one.run(&control, Some(due)).await;
        control.active.fetch_sub(1, Ordering::Relaxed);
        match end {
            None => break,
            Some(IterationEnd::Interrupted) => {
                cut = true;
                break;
            }
            Some(_) => iteration += 1,
        }
        if free.send(slot).is_err() {
            break;
        }
    }
    if let (Some(kept), false) = (&session, cut) {
        Box::pin(session::end(
            &run,
            &worker,
            &conns,
            who,
            kept,
            iteration,
            &control.phase,
        ))
        .await;
    }
}
