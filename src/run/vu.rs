//! The virtual user's step interpreter: walks a scenario's step graph once
//! per iteration (conditions, groups, loops, choices, fragments, `set`,
//! pauses) and hands each protocol step to its own file in `run/step/`.
//! The user's variables and randomness travel in a [`Cursor`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use minijinja::value::Value;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::expect;
use super::protocol::http;
use super::step;
use super::{RunCtx, WorkerCtx};
use crate::events::StepLine;
use crate::metrics::Sample;
use crate::plan::{Count, Node, Step};
use crate::scenario::units::Think;
use crate::template::fake::{iteration_seed, mix};
use crate::template::scope::Scope;
use crate::template::{JsonTpl, TemplateError};

/// What the rest of the iteration should do after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Next,
    /// A failed check (without `on_fail: continue`): end this iteration.
    Stop,
}

/// Everything a virtual user shares between its parallel branches.
pub struct Env {
    pub run: Arc<RunCtx>,
    pub worker: Arc<WorkerCtx>,
    /// The scenario whose user this is; `None` in `setup` and `teardown`.
    pub scenario: Option<usize>,
    pub jar: http::Cookies,
    /// The user's own keep-alive connections (kept across iterations).
    pub conns: Arc<http::Conns>,
    /// WebSocket connections kept open by `keep: true` steps, by step label;
    /// closed when the iteration ends.
    pub kept: step::websocket::Kept,
    /// In `setup`, `before`, `after` and `teardown`: the first failure, to
    /// say why the part failed (`None` in iterations, which keep none).
    pub first_failure: Option<Box<std::sync::Mutex<Option<String>>>>,
}

/// The state a branch of a virtual user carries: variables and randomness.
pub struct Cursor {
    pub scope: Arc<Scope>,
    pub rng: SmallRng,
    pub failed: bool,
    /// Open model: how late the iteration started. Added to the latency of
    /// its first request (then zero), so a busy generator cannot hide it.
    pub lag: Duration,
}

impl Cursor {
    pub(crate) fn value(&self) -> Value {
        Value::from_dyn_object(self.scope.clone())
    }

    /// Sets a variable of this user. The scope is copied only while a
    /// parallel branch shares it (no render may hold it here).
    pub fn set(&mut self, name: String, value: Value) {
        Arc::make_mut(&mut Arc::make_mut(&mut self.scope).locals).insert(name, value);
    }

    /// Puts a variable back as it was (`None`: not set).
    fn restore(&mut self, name: &str, before: Option<Value>) {
        if self.scope.locals.get(name) == before.as_ref() {
            return;
        }
        let locals = Arc::make_mut(&mut Arc::make_mut(&mut self.scope).locals);
        match before {
            Some(v) => locals.insert(name.to_string(), v),
            None => locals.remove(name),
        };
    }

    fn branch(&mut self, group: u64, branch: usize) -> Cursor {
        Cursor {
            scope: Arc::new(self.scope.branch(group, branch)),
            rng: SmallRng::seed_from_u64(self.rng.random()),
            failed: false,
            lag: self.lag,
        }
    }
}

/// A fresh cursor for one iteration of virtual user `vu`, which starts
/// from what the user's `before` left (shared, not copied).
pub fn new_cursor(
    run: &RunCtx,
    scenario: usize,
    vu: u64,
    iteration: u64,
    number: Option<u64>,
    session: &super::session::Session,
) -> Cursor {
    // An iteration handed out by the scenario draws from its number in
    // the whole test (user 0, which no user has), one a user keeps from
    // the user and its own count.
    let seed = match number {
        Some(k) => iteration_seed(run.plan.seed, scenario, 0, k),
        None => iteration_seed(run.plan.seed, scenario, vu, iteration),
    };
    let name = &run.plan.scenarios[scenario].name;
    let mut scope = Scope::new(run.plan.vars.clone(), name, vu, seed);
    scope.iteration = iteration;
    scope.setup = run.setup.clone();
    scope.session.clone_from(&session.locals);
    if !session.rows.is_empty() {
        scope.rows.clone_from(&session.rows);
    }
    cursor_over(scope, seed)
}

/// A cursor over `scope`, its randomness from `seed`.
pub fn cursor_over(scope: Scope, seed: u64) -> Cursor {
    Cursor {
        scope: Arc::new(scope),
        rng: SmallRng::seed_from_u64(mix(seed)),
        failed: false,
        lag: Duration::ZERO,
    }
}

type StepsFuture<'a> = Pin<Box<dyn Future<Output = Flow> + Send + 'a>>;

/// Runs `steps` in order.
pub fn run_steps<'a>(env: &'a Env, cur: &'a mut Cursor, steps: &'a [Step]) -> StepsFuture<'a> {
    Box::pin(async move {
        for step in steps {
            if run_step(env, cur, step).await == Flow::Stop {
                return Flow::Stop;
            }
        }
        Flow::Next
    })
}

async fn run_step(env: &Env, cur: &mut Cursor, step: &Step) -> Flow {
    if let Some(when) = &step.when {
        match when.eval(&cur.value()) {
            Ok(v) if v.is_true() => {}
            Ok(_) => return Flow::Next,
            Err(e) => return env.step_error(cur, step, &format!("`when`: {e}")),
        }
    }
    // The protocol steps' futures are large (several KB with the HTTP client's
    // and tungstenite's state inside) and are boxed, so that a user waiting
    // between steps holds only the small future of a `think`.
    let flow = match &step.node {
        Node::Http(h) => Box::pin(step::http::http_step(env, cur, step, h)).await,
        Node::Sse(s) => Box::pin(step::sse::sse_step(env, cur, step, s)).await,
        Node::WebSocket(w) => Box::pin(step::websocket::ws_step(env, cur, step, w)).await,
        Node::Think(t) => {
            think(cur, t).await;
            Flow::Next
        }
        Node::Group {
            id,
            steps,
            parallel,
        } => {
            let start = Instant::now();
            let failed_before = cur.failed;
            cur.failed = false;
            let flow = if *parallel {
                parallel_steps(env, cur, steps).await
            } else {
                run_steps(env, cur, steps).await
            };
            let failed = cur.failed;
            cur.failed |= failed_before;
            env.record(&Sample {
                step: *id,
                scenario: env.scenario,
                latency_us: start.elapsed().as_micros() as u64,
                service_us: start.elapsed().as_micros() as u64,
                first_byte_us: None,
                sent: 0,
                received: 0,
                failure: failed.then_some("a step of the group failed"),
                response: &[],
                checks_passed: 0,
                checks_failed: 0,
                events: 0,
                gaps: &[],
                connect_us: None,
                receives: &[],
                second: env.run.second(),
                is_request: false,
                timed: true,
            });
            flow
        }
        Node::Repeat { count, steps } => {
            let n = match count {
                Count::Fixed(n) => *n,
                Count::Expr(e) => match e.eval(&cur.value()).map(u64::try_from) {
                    Ok(Ok(n)) => n,
                    Ok(Err(_)) => {
                        return env.step_error(cur, step, "`repeat` is not a whole number")
                    }
                    Err(e) => return env.step_error(cur, step, &format!("`repeat`: {e}")),
                },
            };
            for _ in 0..n {
                if run_steps(env, cur, steps).await == Flow::Stop {
                    return Flow::Stop;
                }
                // A body that never waits must not hold the worker.
                tokio::task::consume_budget().await;
            }
            Flow::Next
        }
        Node::ForEach { list, item, steps } => {
            let items = match list.eval(&cur.value()) {
                Ok(v) => match v.try_iter() {
                    Ok(iter) => iter.collect::<Vec<_>>(),
                    Err(_) => return env.step_error(cur, step, "`for_each` did not give a list"),
                },
                Err(e) => return env.step_error(cur, step, &format!("`for_each`: {e}")),
            };
            for value in items {
                cur.set(item.clone(), value);
                if run_steps(env, cur, steps).await == Flow::Stop {
                    return Flow::Stop;
                }
            }
            Flow::Next
        }
        Node::Choose {
            cumulative,
            branches,
        } => {
            let total = cumulative.last().copied().unwrap_or(0.0);
            let x = cur.rng.random::<f64>() * total;
            let pick = cumulative
                .iter()
                .position(|c| x < *c)
                .unwrap_or(branches.len() - 1);
            run_steps(env, cur, &branches[pick]).await
        }
        Node::Set(vars) => {
            for (name, tpl) in vars {
                if let Err(e) = assign(cur, name, tpl) {
                    return env.step_error(cur, step, &format!("`set` {name}: {e}"));
                }
            }
            Flow::Next
        }
        Node::Fragment { scoped, steps } => {
            // `with:` values belong to the fragment: what the names held
            // before it comes back after it (or they are gone again).
            let outer: Vec<Option<Value>> = scoped
                .iter()
                .map(|k| cur.scope.locals.get(k).cloned())
                .collect();
            let flow = run_steps(env, cur, steps).await;
            for (k, before) in scoped.iter().zip(outer) {
                cur.restore(k, before);
            }
            flow
        }
    };
    let ends_iteration = flow == Flow::Stop && !step.continue_on_fail;
    if let (Some(t), false) = (&step.think_after, ends_iteration) {
        think(cur, t).await;
    }
    if flow == Flow::Stop && step.continue_on_fail {
        Flow::Next
    } else {
        flow
    }
}

/// Runs each step at the same time, each on its own copy of the variables;
/// what they capture is merged back in step order once all have finished.
async fn parallel_steps(env: &Env, cur: &mut Cursor, steps: &[Step]) -> Flow {
    let before = cur.scope.locals.clone();
    let group = cur.scope.fake.group();
    let mut branches: Vec<Cursor> = (0..steps.len()).map(|i| cur.branch(group, i)).collect();
    let flows = futures_util::future::join_all(
        branches
            .iter_mut()
            .zip(steps)
            .map(|(b, s)| async move { run_step(env, b, s).await }),
    )
    .await;
    cur.lag = Duration::ZERO;
    for b in branches {
        cur.failed |= b.failed;
        if !Arc::ptr_eq(&b.scope.locals, &before) {
            // Only what this branch changed: a branch's untouched copy of a
            // variable must not undo another branch's capture.
            for (k, v) in b.scope.locals.iter() {
                if before.get(k) != Some(v) {
                    cur.set(k.clone(), v.clone());
                }
            }
        }
    }
    if flows.contains(&Flow::Stop) {
        Flow::Stop
    } else {
        Flow::Next
    }
}

/// Renders `tpl` and sets it as `name`. The rendered value is taken out
/// of the render before the scope is changed, so that no second reference
/// to the scope is alive and `Arc::make_mut` changes it in place instead of
/// copying every variable of the user.
fn assign(cur: &mut Cursor, name: &str, tpl: &JsonTpl) -> Result<(), TemplateError> {
    let rendered = tpl.render(&cur.value())?;
    cur.set(name.to_string(), expect::json_to_value(&rendered));
    Ok(())
}

async fn think(cur: &mut Cursor, t: &Think) {
    let d = if t.max > t.min {
        let span = (t.max - t.min).as_secs_f64();
        t.min + Duration::from_secs_f64(cur.rng.random::<f64>() * span)
    } else {
        t.min
    };
    tokio::time::sleep(d).await;
}

impl Env {
    /// A user's environment for one part of its life: an iteration
    /// (`keep_failure: false`) or a lifecycle part, which keeps its first
    /// failure.
    pub fn new(
        run: &Arc<RunCtx>,
        worker: &Arc<WorkerCtx>,
        scenario: Option<usize>,
        conns: &Arc<http::Conns>,
        jar: http::Cookies,
        keep_failure: bool,
    ) -> Self {
        Self {
            run: run.clone(),
            worker: worker.clone(),
            scenario,
            jar,
            conns: conns.clone(),
            kept: Default::default(),
            first_failure: keep_failure.then(Default::default),
        }
    }

    /// A step has finished: `--smoke` shows it, and a lifecycle part keeps
    /// its first failure.
    pub(crate) fn trace(&self, line: impl FnOnce() -> StepLine) {
        let Some(slot) = &self.first_failure else {
            return self.run.trace(line);
        };
        let line = line();
        if line.failed {
            let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
            if slot.is_none() {
                *slot = Some(match &line.label {
                    Some(label) => format!("step `{label}`: {}", line.detail),
                    None => line.detail.clone(),
                });
            }
        }
        self.run.trace(|| line);
    }

    /// The first failure of a lifecycle part.
    pub fn failure(&self) -> Option<String> {
        let slot = self.first_failure.as_ref()?;
        slot.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn transport(&self) -> http::Transport<'_> {
        http::Transport {
            links: self.worker.links(),
            conns: &self.conns,
            jar: &self.jar,
        }
    }

    pub(crate) fn record(&self, s: &Sample) {
        self.worker.record(s);
    }

    /// A step that could not run (template or expression error).
    fn step_error(&self, cur: &mut Cursor, step: &Step, reason: &str) -> Flow {
        cur.failed = true;
        let reason = format!("step `{}`: {reason}", step.label);
        if let Some(scenario) = self.scenario {
            self.worker.scenario_error(scenario, &reason);
        }
        self.trace(|| StepLine {
            failed: true,
            label: None,
            answer: String::new(),
            seconds: None,
            detail: reason.clone(),
        });
        if step.continue_on_fail {
            Flow::Next
        } else {
            Flow::Stop
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::Compiler;

    fn cursor() -> Cursor {
        Cursor {
            scope: Arc::new(Scope::new(Value::from(()), "s", 1, 7)),
            rng: SmallRng::seed_from_u64(1),
            failed: false,
            lag: Duration::ZERO,
        }
    }

    #[test]
    fn set_changes_the_scope_in_place_without_copying_it() {
        let c = Compiler::new();
        let (tpl, _) = c.json(&serde_json::json!("{{ 40 + 2 }}")).unwrap();
        let mut cur = cursor();
        cur.set("big".into(), Value::from("x".repeat(1000)));
        let before = Arc::as_ptr(&cur.scope);
        assign(&mut cur, "answer", &tpl).unwrap();
        assign(&mut cur, "answer", &tpl).unwrap();
        assert_eq!(Arc::as_ptr(&cur.scope), before, "the scope was copied");
        assert_eq!(cur.scope.locals["answer"], Value::from(42));
    }

    #[test]
    fn restore_puts_back_or_removes() {
        let mut cur = cursor();
        cur.set("a".into(), Value::from(1));
        cur.set("a".into(), Value::from(2));
        cur.set("b".into(), Value::from(3));
        cur.restore("a", Some(Value::from(1)));
        cur.restore("b", None);
        assert_eq!(cur.scope.locals.get("a"), Some(&Value::from(1)));
        assert!(!cur.scope.locals.contains_key("b"));
    }
}
