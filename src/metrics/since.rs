//! The run's measurements at one moment while it goes (a summary of the
//! workers' recorders), and what happened between two moments: what SLOs
//! judged while the run goes (`abort`) and SLOs that count only from some
//! time on (`after`) are judged on.

use super::recorder::{Recorder, ScenarioStats, StepStats};
use super::summary::Summary;

impl Summary {
    /// The recorders' measurements so far, `seconds` into the load (no
    /// timeline). `request_steps` says, per step, the scenario whose
    /// totals it counts in and whether it is a request.
    pub fn of_recorders<R: std::ops::Deref<Target = Recorder>>(
        recorders: impl IntoIterator<Item = R>,
        scenarios: usize,
        request_steps: &[(Option<usize>, bool)],
        seconds: f64,
    ) -> Summary {
        let mut steps: Vec<StepStats> =
            (0..request_steps.len()).map(|_| StepStats::new()).collect();
        let mut per: Vec<ScenarioStats> = (0..scenarios).map(|_| ScenarioStats::new()).collect();
        // Each recorder is read (and, behind a lock, released) in turn.
        for r in recorders {
            for (into, from) in steps.iter_mut().zip(&r.steps) {
                into.merge(from);
            }
            for (into, from) in per.iter_mut().zip(&r.scenarios) {
                into.merge(from);
            }
        }
        let mut per_scenario: Vec<StepStats> = (0..scenarios).map(|_| StepStats::new()).collect();
        let mut total = StepStats::new();
        for (i, (scenario, is_request)) in request_steps.iter().enumerate() {
            if *is_request {
                if let Some(s) = scenario.and_then(|s| per_scenario.get_mut(s)) {
                    s.merge(&steps[i]);
                }
                total.merge(&steps[i]);
            }
        }
        let mut all_iterations = ScenarioStats::new();
        for s in &per {
            all_iterations.merge(s);
        }
        Summary {
            steps,
            scenarios: per,
            per_scenario,
            total,
            all_iterations,
            duration: seconds,
            ..Summary::default()
        }
    }

    /// What happened after `base` (this run's measurements at an earlier
    /// moment): its counts and histograms taken away, rates over the time
    /// since.
    pub fn since(&self, base: &Summary) -> Summary {
        let from_us = (base.duration * 1e6) as u64;
        let pair = |a: &[StepStats], b: &[StepStats]| -> Vec<StepStats> {
            a.iter()
                .enumerate()
                .map(|(i, s)| b.get(i).map_or_else(|| s.clone(), |b| step_since(s, b)))
                .collect()
        };
        Summary {
            steps: pair(&self.steps, &base.steps),
            per_scenario: pair(&self.per_scenario, &base.per_scenario),
            total: step_since(&self.total, &base.total),
            scenarios: self
                .scenarios
                .iter()
                .enumerate()
                .map(|(i, s)| match base.scenarios.get(i) {
                    Some(b) => scenario_since(s, b, from_us),
                    None => s.clone(),
                })
                .collect(),
            all_iterations: scenario_since(&self.all_iterations, &base.all_iterations, from_us),
            duration: (self.duration - base.duration).max(0.0),
            monitors: self.monitors.clone(),
            ..Summary::default()
        }
    }
}

fn step_since(now: &StepStats, base: &StepStats) -> StepStats {
    let mut s = now.clone();
    s.count = now.count.saturating_sub(base.count);
    s.failures = now.failures.saturating_sub(base.failures);
    s.events = now.events.saturating_sub(base.events);
    s.sent = now.sent.saturating_sub(base.sent);
    s.received = now.received.saturating_sub(base.received);
    s.checks_passed = now.checks_passed.saturating_sub(base.checks_passed);
    s.checks_failed = now.checks_failed.saturating_sub(base.checks_failed);
    for (h, b) in [
        (&mut s.latency, &base.latency),
        (&mut s.service, &base.service),
        (&mut s.first_byte, &base.first_byte),
        (&mut s.gap, &base.gap),
        (&mut s.connect, &base.connect),
        (&mut s.receive, &base.receive),
    ] {
        h.subtract(b);
    }
    for (key, r) in &mut s.reasons {
        if let Some(b) = base.reasons.get(key) {
            r.count = r.count.saturating_sub(b.count);
        }
    }
    s.reasons.retain(|_, r| r.count > 0);
    s
}

fn scenario_since(now: &ScenarioStats, base: &ScenarioStats, from_us: u64) -> ScenarioStats {
    let mut s = now.clone();
    s.started = now.started.saturating_sub(base.started);
    s.completed = now.completed.saturating_sub(base.completed);
    s.failed = now.failed.saturating_sub(base.failed);
    s.interrupted = now.interrupted.saturating_sub(base.interrupted);
    s.dropped = now.dropped.saturating_sub(base.dropped);
    s.retired = now.retired.saturating_sub(base.retired);
    s.iteration.subtract(&base.iteration);
    // Its rates are over the time since.
    s.first_start_us = now.first_start_us.max(from_us);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_away_what_was_measured_before() {
        let mut base = Summary {
            duration: 2.0,
            ..Summary::default()
        };
        base.total.count = 10;
        base.total.failures = 10;
        for v in [5_000_000u64; 10] {
            base.total.latency.record(v);
        }
        let mut now = base.clone();
        now.duration = 5.0;
        now.total.count = 40;
        for v in [1_000u64; 30] {
            now.total.latency.record(v);
        }
        let since = now.since(&base);
        assert_eq!(since.total.count, 30);
        assert_eq!(since.total.failures, 0);
        assert_eq!(since.duration, 3.0);
        let stats = crate::metrics::Stats::of(&since.total.latency);
        assert_eq!(stats.count, 30);
        assert!(stats.max < 0.01, "{}", stats.max);
    }
}
