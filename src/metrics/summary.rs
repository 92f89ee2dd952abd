//! The merged result of a run: per-step, per-scenario and whole-test
//! statistics, and the per-second timeline.

use std::collections::BTreeMap;

use super::hist::Stats;
use super::recorder::{Recorder, ScenarioStats, SecondStats, StepStats};

/// One second of one scenario, as reported.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TimelinePoint {
    pub second: u32,
    pub scenario: String,
    pub requests: u64,
    pub failures: u64,
    pub iterations_started: u64,
    pub iterations_completed: u64,
    pub dropped: u64,
    pub active_vus: u64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

/// Gathers the timeline while the run goes and the totals at the end.
#[derive(Debug, Default)]
pub struct Collector {
    seconds: BTreeMap<(u32, usize), SecondStats>,
    vus: BTreeMap<(u32, usize), u64>,
}

impl Collector {
    pub fn add_seconds(&mut self, drained: Vec<((u32, usize), SecondStats)>) {
        for (key, s) in drained {
            self.seconds.entry(key).or_default().merge(&s);
        }
    }

    pub fn active_vus(&mut self, second: u32, scenario: usize, vus: u64) {
        let slot = self.vus.entry((second, scenario)).or_insert(0);
        *slot = (*slot).max(vus);
    }

    /// Requests in the last complete second across scenarios, for the live line.
    pub fn requests_in(&self, second: u32) -> (u64, u64) {
        self.seconds
            .range((second, 0)..(second + 1, 0))
            .fold((0, 0), |(r, f), (_, s)| (r + s.requests, f + s.failures))
    }

    pub fn finish(
        mut self,
        recorders: &mut [Recorder],
        scenario_names: &[String],
        request_steps: &[(usize, bool)],
        duration: f64,
    ) -> Summary {
        let steps = request_steps.len();
        let mut merged = Recorder::new(steps, scenario_names.len());
        for r in recorders.iter_mut() {
            self.add_seconds(r.drain_seconds(u32::MAX));
            for (into, from) in merged.steps.iter_mut().zip(&r.steps) {
                into.merge(from);
            }
            for (into, from) in merged.scenarios.iter_mut().zip(&r.scenarios) {
                into.merge(from);
            }
        }
        let mut per_scenario: Vec<StepStats> = (0..scenario_names.len())
            .map(|_| StepStats::new())
            .collect();
        let mut total = StepStats::new();
        for (i, (scenario, is_request)) in request_steps.iter().enumerate() {
            if *is_request {
                per_scenario[*scenario].merge(&merged.steps[i]);
                total.merge(&merged.steps[i]);
            }
        }
        let mut all_iterations = ScenarioStats::new();
        for s in &merged.scenarios {
            all_iterations.merge(s);
        }
        let keys: std::collections::BTreeSet<(u32, usize)> = self
            .seconds
            .keys()
            .chain(self.vus.keys())
            .copied()
            .collect();
        let timeline = keys
            .into_iter()
            .map(|key| {
                let empty = SecondStats::new();
                let s = self.seconds.get(&key).unwrap_or(&empty);
                let stats = Stats::of(&s.latency);
                TimelinePoint {
                    second: key.0,
                    scenario: scenario_names.get(key.1).cloned().unwrap_or_default(),
                    requests: s.requests,
                    failures: s.failures,
                    iterations_started: s.iterations_started,
                    iterations_completed: s.iterations_completed,
                    dropped: s.dropped,
                    active_vus: self.vus.get(&key).copied().unwrap_or(0),
                    p50: stats.p50,
                    p95: stats.p95,
                    p99: stats.p99,
                }
            })
            .collect();
        Summary {
            steps: merged.steps,
            scenarios: merged.scenarios,
            per_scenario,
            total,
            all_iterations,
            timeline,
            duration,
        }
    }
}

#[derive(Debug)]
pub struct Summary {
    /// By step id.
    pub steps: Vec<StepStats>,
    /// By scenario index.
    pub scenarios: Vec<ScenarioStats>,
    /// All requests of each scenario.
    pub per_scenario: Vec<StepStats>,
    /// All requests of the test.
    pub total: StepStats,
    pub all_iterations: ScenarioStats,
    pub timeline: Vec<TimelinePoint>,
    /// Seconds from the first iteration to the end.
    pub duration: f64,
}

impl Summary {
    pub fn throughput(&self, requests: u64) -> f64 {
        if self.duration > 0.0 {
            requests as f64 / self.duration
        } else {
            0.0
        }
    }
}

pub fn error_rate(s: &StepStats) -> f64 {
    if s.count == 0 {
        0.0
    } else {
        s.failures as f64 / s.count as f64
    }
}

pub fn checks_rate(s: &StepStats) -> f64 {
    let all = s.checks_passed + s.checks_failed;
    if all == 0 {
        1.0
    } else {
        s.checks_passed as f64 / all as f64
    }
}
