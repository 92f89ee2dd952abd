//! The merged result of a run: per-step, per-scenario and whole-test
//! statistics, and the per-second timeline.

use std::collections::BTreeMap;

use super::hist::Stats;
use super::recorder::{Recorder, ScenarioStats, SecondStats, StepStats};

/// One second of one scenario, as reported.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
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
///
/// A second's latency histogram is kept only until the second is settled
/// (two seconds after it ended, when every worker has reported it); then its
/// percentiles are computed and the histogram freed, so a long run holds one
/// small record per second, not one histogram per second.
#[derive(Debug, Default)]
pub struct Collector {
    /// The generator's health, one point a second.
    pub health: Vec<crate::metrics::health::HealthPoint>,
    open: BTreeMap<(u32, usize), SecondStats>,
    settled: BTreeMap<(u32, usize), TimelinePoint>,
    vus: BTreeMap<(u32, usize), u64>,
    /// A part of a split test keeps each second's histogram, encoded (see
    /// `metrics/exact.rs`), so that the parts' timelines merge exactly.
    keep: bool,
    histograms: BTreeMap<(u32, usize), String>,
    /// The latency of the last few settled seconds, per scenario, for the
    /// live p95 of the console.
    recent: BTreeMap<(u32, usize), super::hist::Hist>,
    /// Iterations dropped so far, per scenario.
    dropped: Vec<u64>,
}

/// The seconds the console's p95 is over.
const RECENT_SECONDS: u32 = 5;

impl Collector {
    /// A collector that keeps every settled second's latency histogram.
    pub fn keeping_histograms() -> Self {
        Self {
            keep: true,
            ..Self::default()
        }
    }

    pub fn add_seconds(&mut self, drained: Vec<((u32, usize), SecondStats)>) {
        for (key, s) in drained {
            if s.dropped > 0 {
                if self.dropped.len() <= key.1 {
                    self.dropped.resize(key.1 + 1, 0);
                }
                self.dropped[key.1] += s.dropped;
            }
            match self.settled.get_mut(&key) {
                // A sample recorded just as its second was settled: keep its
                // counts (its latency is in the step's histograms anyway).
                Some(p) => {
                    p.requests += s.requests;
                    p.failures += s.failures;
                    p.iterations_started += s.iterations_started;
                    p.iterations_completed += s.iterations_completed;
                    p.dropped += s.dropped;
                }
                None => match self.open.entry(key) {
                    std::collections::btree_map::Entry::Vacant(v) => {
                        v.insert(s);
                    }
                    std::collections::btree_map::Entry::Occupied(mut o) => o.get_mut().merge(&s),
                },
            }
        }
    }

    pub fn active_vus(&mut self, second: u32, scenario: usize, vus: u64) {
        let slot = self.vus.entry((second, scenario)).or_insert(0);
        *slot = (*slot).max(vus);
    }

    /// Adds a part's active users to a second (merging parts).
    pub fn active_vus_add(&mut self, key: (u32, usize), vus: u64) {
        *self.vus.entry(key).or_insert(0) += vus;
    }

    /// Iterations of a scenario dropped so far.
    pub fn dropped_so_far(&self, scenario: usize) -> u64 {
        self.dropped.get(scenario).copied().unwrap_or(0)
    }

    /// A scenario's requests and failures in a second, for the live line.
    pub fn scenario_requests_in(&self, second: u32, scenario: usize) -> (u64, u64) {
        let key = (second, scenario);
        match (self.open.get(&key), self.settled.get(&key)) {
            (Some(s), _) => (s.requests, s.failures),
            (None, Some(p)) => (p.requests, p.failures),
            (None, None) => (0, 0),
        }
    }

    /// A scenario's p95 latency over the seconds `[now - 5, now)` collected
    /// so far (seconds), for the live line.
    pub fn recent_p95(&self, now: u32, scenario: usize) -> Option<f64> {
        let from = now.saturating_sub(RECENT_SECONDS);
        let mut h = super::hist::Hist::coarse();
        for second in from..now {
            let key = (second, scenario);
            if let Some(s) = self.open.get(&key) {
                h.merge(&s.latency);
            }
            if let Some(r) = self.recent.get(&key) {
                h.merge(r);
            }
        }
        h.get().map(|h| h.value_at_quantile(0.95) as f64 / 1e6)
    }

    /// Requests in a second across scenarios, for the live line.
    pub fn requests_in(&self, second: u32) -> (u64, u64) {
        let open = self
            .open
            .range((second, 0)..(second + 1, 0))
            .map(|(_, s)| (s.requests, s.failures));
        let settled = self
            .settled
            .range((second, 0)..(second + 1, 0))
            .map(|(_, p)| (p.requests, p.failures));
        open.chain(settled)
            .fold((0, 0), |(r, f), (a, b)| (r + a, f + b))
    }

    /// Computes the percentiles of the seconds before `second` and frees
    /// their histograms.
    pub fn settle_before(&mut self, second: u32, names: &[String]) {
        let keep = self.open.split_off(&(second, 0));
        // The recent seconds the console's p95 still reads.
        self.recent = self
            .recent
            .split_off(&(second.saturating_sub(RECENT_SECONDS), 0));
        for (key, s) in std::mem::replace(&mut self.open, keep) {
            let stats = Stats::of(&s.latency);
            if second.saturating_sub(key.0) <= RECENT_SECONDS && !s.latency.is_empty() {
                self.recent.insert(key, s.latency.clone());
            }
            if self.keep {
                if let Some(h) = super::hist::encode(&s.latency) {
                    self.histograms.insert(key, h);
                }
            }
            self.settled.insert(
                key,
                TimelinePoint {
                    second: key.0,
                    scenario: names.get(key.1).cloned().unwrap_or_default(),
                    requests: s.requests,
                    failures: s.failures,
                    iterations_started: s.iterations_started,
                    iterations_completed: s.iterations_completed,
                    dropped: s.dropped,
                    active_vus: 0,
                    p50: stats.p50,
                    p95: stats.p95,
                    p99: stats.p99,
                },
            );
        }
    }

    pub fn finish(
        mut self,
        recorders: &mut [Recorder],
        scenario_names: &[String],
        request_steps: &[(Option<usize>, bool)],
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
                if let Some(scenario) = scenario {
                    per_scenario[*scenario].merge(&merged.steps[i]);
                }
                total.merge(&merged.steps[i]);
            }
        }
        let mut all_iterations = ScenarioStats::new();
        for s in &merged.scenarios {
            all_iterations.merge(s);
        }
        self.settle_before(u32::MAX, scenario_names);
        for (key, vus) in &self.vus {
            let point = self.settled.entry(*key).or_insert_with(|| TimelinePoint {
                second: key.0,
                scenario: scenario_names.get(key.1).cloned().unwrap_or_default(),
                requests: 0,
                failures: 0,
                iterations_started: 0,
                iterations_completed: 0,
                dropped: 0,
                active_vus: 0,
                p50: 0.0,
                p95: 0.0,
                p99: 0.0,
            });
            point.active_vus = *vus;
        }
        let timeline_keys = self.settled.keys().copied().collect();
        let timeline = self.settled.into_values().collect();
        Summary {
            timeline_keys,
            second_histograms: self.histograms,
            health: self.health,
            monitors: Vec::new(),
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

#[derive(Debug, Clone, Default)]
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
    /// (second, scenario index) of each point of `timeline`.
    pub timeline_keys: Vec<(u32, usize)>,
    /// A part's timeline histograms, encoded (empty in a whole run).
    pub second_histograms: BTreeMap<(u32, usize), String>,
    pub health: Vec<crate::metrics::health::HealthPoint>,
    /// The target's monitored series (`monitor:`).
    pub monitors: Vec<crate::metrics::monitor::MonitorSeries>,
    /// Seconds from the first iteration to the end.
    pub duration: f64,
}

impl Summary {
    /// Per second over the whole test.
    pub fn throughput(&self, requests: u64) -> f64 {
        rate(requests, self.duration)
    }

    /// Seconds from a scenario's first iteration to its last one's end:
    /// what its own rates, and its steps', are computed over (a scenario
    /// that starts late or ends early is not diluted by the whole test).
    pub fn span(&self, scenario: usize) -> f64 {
        self.scenarios
            .get(scenario)
            .map_or(0.0, ScenarioStats::span)
    }

    /// Per second over a scenario's span.
    pub fn scenario_rate(&self, scenario: usize, n: u64) -> f64 {
        rate(n, self.span(scenario))
    }
}

/// `n` per second over `seconds` (0 when no time passed).
pub fn rate(n: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        n as f64 / seconds
    } else {
        0.0
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

#[cfg(test)]
mod tests {
    use super::*;

    fn second(requests: u64, latencies_ms: &[u64]) -> SecondStats {
        let mut s = SecondStats::new();
        s.requests = requests;
        for ms in latencies_ms {
            s.latency.record(ms * 1000);
        }
        s
    }

    #[test]
    fn settled_seconds_keep_percentiles_and_late_counts() {
        let names = vec!["a".to_string()];
        let mut c = Collector::default();
        c.add_seconds(vec![
            ((0, 0), second(2, &[10, 20])),
            ((1, 0), second(1, &[30])),
        ]);
        c.add_seconds(vec![((0, 0), second(2, &[30, 40]))]);
        c.settle_before(1, &names);
        assert!(
            c.open.keys().all(|k| k.0 >= 1),
            "second 0 no longer holds a histogram"
        );
        c.add_seconds(vec![((0, 0), second(1, &[]))]);
        assert_eq!(c.requests_in(0), (5, 0));
        c.active_vus(0, 0, 3);
        let summary = c.finish(&mut [], &names, &[], 2.0);
        let p = &summary.timeline[0];
        assert_eq!((p.second, p.requests, p.active_vus), (0, 5, 3));
        assert!(
            (p.p50 - 0.020).abs() < 0.001 && (p.p99 - 0.040).abs() < 0.001,
            "{p:?}"
        );
        assert_eq!(summary.timeline[1].requests, 1);
    }
}
