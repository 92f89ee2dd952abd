//! A run's measurements in a form that merges without loss: every
//! histogram (step, scenario, and each second of the timeline) in
//! HdrHistogram's V2 compressed format, and every counter. A part of a
//! split test writes this beside its report; `trek merge` adds the parts
//! back into one [`Summary`], histograms added bucket by bucket, never
//! percentiles averaged, timelines aligned on wall-clock seconds.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::hist::{self, Hist};
use super::recorder::{Reason, Recorder, ScenarioStats, SecondStats, StepStats};
use super::summary::{Collector, Summary};

/// Everything measured, exactly.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Exact {
    /// By step id.
    pub steps: Vec<ExactStep>,
    /// By scenario index.
    pub scenarios: Vec<ExactScenario>,
    /// Each second of each scenario that saw anything.
    pub seconds: Vec<ExactSecond>,
}

/// A histogram as base64 of its V2 compressed form; absent when empty.
type Encoded = Option<String>;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExactStep {
    pub count: u64,
    pub failures: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub events: u64,
    pub sent: u64,
    pub received: u64,
    pub checks_passed: u64,
    pub checks_failed: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Encoded,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Encoded,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_byte: Encoded,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Encoded,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Encoded,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receive: Encoded,
    /// Failure reasons, sorted by key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<ExactReason>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExactReason {
    pub key: String,
    pub count: u64,
    pub example: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExactScenario {
    pub started: u64,
    pub completed: u64,
    pub failed: u64,
    pub interrupted: u64,
    pub dropped: u64,
    pub retired: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iteration: Encoded,
    /// Microseconds from the part's start to its first iteration's start
    /// and its last one's end (absent: no iteration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_start_us: Option<u64>,
    pub last_end_us: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exhausted: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExactSecond {
    pub second: u32,
    pub scenario: usize,
    pub requests: u64,
    pub failures: u64,
    pub iterations_started: u64,
    pub iterations_completed: u64,
    pub dropped: u64,
    pub active_vus: u64,
    /// Latency of the second's requests (2 significant digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Encoded,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Exact {
    /// The exact form of a run's summary (its timeline's histograms were
    /// kept: [`Collector::keep_histograms`]).
    pub fn of(summary: &Summary) -> Self {
        let steps = summary.steps.iter().map(step).collect();
        let scenarios = summary.scenarios.iter().map(scenario).collect();
        let seconds = summary
            .timeline
            .iter()
            .zip(&summary.timeline_keys)
            .map(|(p, key)| ExactSecond {
                second: p.second,
                scenario: key.1,
                requests: p.requests,
                failures: p.failures,
                iterations_started: p.iterations_started,
                iterations_completed: p.iterations_completed,
                dropped: p.dropped,
                active_vus: p.active_vus,
                latency: summary.second_histograms.get(key).cloned(),
            })
            .collect();
        Self {
            steps,
            scenarios,
            seconds,
        }
    }
}

fn step(s: &StepStats) -> ExactStep {
    let mut reasons: Vec<ExactReason> = s
        .reasons
        .iter()
        .map(|(key, r)| ExactReason {
            key: key.clone(),
            count: r.count,
            example: r.example.clone(),
            response: r.response.clone(),
        })
        .collect();
    reasons.sort_by(|a, b| a.key.cmp(&b.key));
    ExactStep {
        count: s.count,
        failures: s.failures,
        events: s.events,
        sent: s.sent,
        received: s.received,
        checks_passed: s.checks_passed,
        checks_failed: s.checks_failed,
        latency: hist::encode(&s.latency),
        service: hist::encode(&s.service),
        first_byte: hist::encode(&s.first_byte),
        gap: hist::encode(&s.gap),
        connect: hist::encode(&s.connect),
        receive: hist::encode(&s.receive),
        reasons,
    }
}

fn scenario(s: &ScenarioStats) -> ExactScenario {
    ExactScenario {
        started: s.started,
        completed: s.completed,
        failed: s.failed,
        interrupted: s.interrupted,
        dropped: s.dropped,
        retired: s.retired,
        iteration: hist::encode(&s.iteration),
        first_start_us: (s.first_start_us != u64::MAX).then_some(s.first_start_us),
        last_end_us: s.last_end_us,
        exhausted: s.exhausted.clone(),
        errors: s.errors.iter().map(|(k, v)| (k.clone(), *v)).collect(),
    }
}

/// One part to add: its measurements, and where its clock's zero lies
/// from the merged run's (µs; the earliest part's is 0).
pub struct Placed<'a> {
    pub exact: &'a Exact,
    pub offset_us: u64,
    /// Seconds its load ran.
    pub duration: f64,
}

/// How the merged run is laid out: its scenarios and its steps.
pub struct Layout<'a> {
    pub scenario_names: &'a [String],
    /// Per step: the scenario whose requests it counts in, and whether it
    /// is a request (not a group).
    pub request_steps: &'a [(Option<usize>, bool)],
}

/// Adds the parts into one summary. A malformed histogram is an error
/// naming where it was. The parts are decoded on every core, each thread
/// adding its share into its own sums, which are added at the end.
pub fn merge(parts: &[Placed], layout: &Layout) -> Result<Summary, String> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, parts.len().max(1));
    let sums: Vec<Result<Sums, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let mut sums = Sums::new(layout);
                    let mut decoder = hist::Decoder::default();
                    for (p, part) in parts.iter().enumerate().skip(t).step_by(threads) {
                        sums.add(p, part, layout, &mut decoder)?;
                    }
                    Ok(sums)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a merge thread failed".into()))
            })
            .collect()
    });
    let mut total = Sums::new(layout);
    for sums in sums {
        total.absorb(sums?);
    }
    let mut collector = Collector::default();
    for (key, vus) in total.vus {
        collector.active_vus_add(key, vus);
    }
    collector.add_seconds(total.seconds.into_iter().collect());
    let mut recorders = [total.recorder];
    Ok(collector.finish(
        &mut recorders,
        layout.scenario_names,
        layout.request_steps,
        total.duration,
    ))
}

/// What some of the parts add up to.
struct Sums {
    recorder: Recorder,
    seconds: BTreeMap<(u32, usize), SecondStats>,
    vus: BTreeMap<(u32, usize), u64>,
    duration: f64,
}

impl Sums {
    fn new(layout: &Layout) -> Self {
        Self {
            recorder: Recorder::new(layout.request_steps.len(), layout.scenario_names.len()),
            seconds: BTreeMap::new(),
            vus: BTreeMap::new(),
            duration: 0.0,
        }
    }

    /// Adds part `p`.
    fn add(
        &mut self,
        p: usize,
        part: &Placed,
        layout: &Layout,
        decoder: &mut hist::Decoder,
    ) -> Result<(), String> {
        let steps = layout.request_steps.len();
        let scenarios = layout.scenario_names.len();
        let at = |what: &str| format!("part {p}: {what}");
        if part.exact.steps.len() != steps || part.exact.scenarios.len() != scenarios {
            return Err(at("its steps or scenarios differ from the other parts'"));
        }
        for (i, s) in part.exact.steps.iter().enumerate() {
            let stats = step_stats(s, decoder).map_err(|e| at(&format!("step {i}: {e}")))?;
            self.recorder.steps[i].merge(&stats);
        }
        for (i, s) in part.exact.scenarios.iter().enumerate() {
            let mut stats =
                scenario_stats(s, decoder).map_err(|e| at(&format!("scenario {i}: {e}")))?;
            if stats.first_start_us != u64::MAX {
                stats.first_start_us += part.offset_us;
                stats.last_end_us += part.offset_us;
            }
            self.recorder.scenarios[i].merge(&stats);
        }
        // A second of a part is the merged run's second nearest its start
        // on the wall clock.
        let shift = ((part.offset_us + 500_000) / 1_000_000) as u32;
        for s in &part.exact.seconds {
            if s.scenario >= scenarios {
                return Err(at(&format!("second {} names no scenario", s.second)));
            }
            let mut stats = SecondStats::new();
            stats.requests = s.requests;
            stats.failures = s.failures;
            stats.iterations_started = s.iterations_started;
            stats.iterations_completed = s.iterations_completed;
            stats.dropped = s.dropped;
            if let Some(h) = &s.latency {
                stats.latency = decoded(h, hist::COARSE, decoder)
                    .map_err(|e| at(&format!("second {}: {e}", s.second)))?;
            }
            let key = (s.second.saturating_add(shift), s.scenario);
            *self.vus.entry(key).or_insert(0) += s.active_vus;
            add_second(&mut self.seconds, key, stats);
        }
        self.duration = self
            .duration
            .max(part.offset_us as f64 / 1e6 + part.duration);
        Ok(())
    }

    /// Adds what another thread summed.
    fn absorb(&mut self, o: Sums) {
        for (into, from) in self.recorder.steps.iter_mut().zip(&o.recorder.steps) {
            into.merge(from);
        }
        for (into, from) in self
            .recorder
            .scenarios
            .iter_mut()
            .zip(&o.recorder.scenarios)
        {
            into.merge(from);
        }
        for (key, s) in o.seconds {
            add_second(&mut self.seconds, key, s);
        }
        for (key, n) in o.vus {
            *self.vus.entry(key).or_insert(0) += n;
        }
        self.duration = self.duration.max(o.duration);
    }
}

fn add_second(into: &mut BTreeMap<(u32, usize), SecondStats>, key: (u32, usize), s: SecondStats) {
    match into.entry(key) {
        std::collections::btree_map::Entry::Vacant(v) => {
            v.insert(s);
        }
        std::collections::btree_map::Entry::Occupied(mut o) => o.get_mut().merge(&s),
    }
}

fn decoded(text: &str, digits: u8, decoder: &mut hist::Decoder) -> Result<Hist, String> {
    Ok(Hist::from_decoded(digits, decoder.decode(text)?))
}

fn opt(text: &Encoded, digits: u8, decoder: &mut hist::Decoder) -> Result<Hist, String> {
    match text {
        Some(t) => decoded(t, digits, decoder),
        None => Ok(Hist::new(digits)),
    }
}

fn step_stats(s: &ExactStep, d: &mut hist::Decoder) -> Result<StepStats, String> {
    let fine = hist::FINE;
    Ok(StepStats {
        count: s.count,
        failures: s.failures,
        latency: opt(&s.latency, fine, d)?,
        service: opt(&s.service, fine, d)?,
        first_byte: opt(&s.first_byte, fine, d)?,
        gap: opt(&s.gap, fine, d)?,
        events: s.events,
        connect: opt(&s.connect, fine, d)?,
        receive: opt(&s.receive, fine, d)?,
        sent: s.sent,
        received: s.received,
        checks_passed: s.checks_passed,
        checks_failed: s.checks_failed,
        reasons: s
            .reasons
            .iter()
            .map(|r| {
                let reason = Reason {
                    count: r.count,
                    example: r.example.clone(),
                    response: r.response.clone(),
                };
                (r.key.clone(), reason)
            })
            .collect::<HashMap<_, _>>(),
    })
}

fn scenario_stats(s: &ExactScenario, d: &mut hist::Decoder) -> Result<ScenarioStats, String> {
    let mut out = ScenarioStats::new();
    out.started = s.started;
    out.completed = s.completed;
    out.failed = s.failed;
    out.interrupted = s.interrupted;
    out.dropped = s.dropped;
    out.retired = s.retired;
    out.iteration = opt(&s.iteration, hist::FINE, d)?;
    out.first_start_us = s.first_start_us.unwrap_or(u64::MAX);
    out.last_end_us = s.last_end_us;
    out.exhausted.clone_from(&s.exhausted);
    out.errors = s.errors.iter().map(|(k, v)| (k.clone(), *v)).collect();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::recorder::Sample;
    use rand::{Rng, SeedableRng};

    fn sample(step: usize, latency_us: u64, second: u32, failure: Option<&str>) -> Sample<'_> {
        Sample {
            step,
            scenario: Some(0),
            latency_us,
            service_us: latency_us / 2 + 1,
            first_byte_us: Some(latency_us / 3 + 1),
            sent: 100,
            received: 1000,
            failure,
            response: b"",
            checks_passed: 1,
            checks_failed: u64::from(failure.is_some()),
            events: 0,
            gaps: &[],
            connect_us: None,
            receives: &[],
            second,
            is_request: true,
            timed: true,
        }
    }

    /// A part's summary from its recorder, its timeline's histograms kept.
    fn summary_of(r: Recorder) -> Summary {
        let c = Collector::keeping_histograms();
        c.finish(
            &mut [r],
            &["s".into()],
            &[(Some(0), true), (Some(0), true)],
            10.0,
        )
    }

    #[test]
    fn merged_parts_equal_one_recorder_fed_every_sample() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(3);
        let mut whole = Recorder::new(2, 1);
        let mut parts: Vec<Recorder> = (0..4).map(|_| Recorder::new(2, 1)).collect();
        for i in 0..20_000u64 {
            // Long-tailed latencies from 50 µs to ~20 s.
            let us = (50.0 * (1.0 / (1.0 - rng.random::<f64>() * 0.9999)).powf(2.0)) as u64;
            let failure = (i % 97 == 0).then_some("status 500, expected 200");
            let s = sample((i % 2) as usize, us, (i / 2000) as u32, failure);
            whole.record(&s);
            parts[(i % 4) as usize].record(&s);
            whole.iteration_started(0, i * 500);
            parts[(i % 4) as usize].iteration_started(0, i * 500);
        }
        let whole = summary_of(whole);
        // Each part goes through its serialised form, as a file would.
        let exact: Vec<Exact> = parts
            .into_iter()
            .map(|r| {
                let json = serde_json::to_string(&Exact::of(&summary_of(r))).unwrap();
                let back: Exact = serde_json::from_str(&json).unwrap();
                assert_eq!(serde_json::to_string(&back).unwrap(), json, "byte-exact");
                back
            })
            .collect();
        let placed: Vec<Placed> = exact
            .iter()
            .map(|e| Placed {
                exact: e,
                offset_us: 0,
                duration: 10.0,
            })
            .collect();
        let names = ["s".to_string()];
        let layout = Layout {
            scenario_names: &names,
            request_steps: &[(Some(0), true), (Some(0), true)],
        };
        let merged = merge(&placed, &layout).unwrap();
        for (m, w) in merged.steps.iter().zip(&whole.steps) {
            // Bucket for bucket, so every percentile is the same.
            assert_eq!(m.latency.get().unwrap(), w.latency.get().unwrap());
            assert_eq!(m.service.get(), w.service.get());
            assert_eq!(m.first_byte.get(), w.first_byte.get());
            assert_eq!((m.count, m.failures, m.sent), (w.count, w.failures, w.sent));
            assert_eq!(m.reasons[reason_key()].count, w.reasons[reason_key()].count);
        }
        let (m, w) = (&merged.total, &whole.total);
        for q in [0.5, 0.95, 0.99, 0.999] {
            let (a, b) = (m.latency.get().unwrap(), w.latency.get().unwrap());
            assert_eq!(a.value_at_quantile(q), b.value_at_quantile(q), "p{q}");
        }
        assert_eq!(merged.scenarios[0].started, 20_000);
        // The timeline: the same requests per second and the same
        // per-second percentiles.
        assert_eq!(merged.timeline.len(), whole.timeline.len());
        for (m, w) in merged.timeline.iter().zip(&whole.timeline) {
            assert_eq!(
                (m.second, m.requests, m.failures),
                (w.second, w.requests, w.failures)
            );
            assert_eq!((m.p50, m.p95, m.p99), (w.p50, w.p95, w.p99));
        }
    }

    fn reason_key() -> &'static str {
        "status 500, expected 200"
    }

    #[test]
    fn a_later_part_lands_on_its_wall_clock_seconds() {
        let mut r = Recorder::new(1, 1);
        r.record(&sample(0, 1000, 0, None));
        r.iteration_started(0, 100);
        r.iteration_ended(0, 900, 800, crate::metrics::IterationEnd::Completed);
        let one = Exact::of(&Collector::keeping_histograms().finish(
            &mut [r],
            &["s".into()],
            &[(Some(0), true)],
            1.0,
        ));
        let placed = [
            Placed {
                exact: &one,
                offset_us: 0,
                duration: 1.0,
            },
            Placed {
                exact: &one,
                offset_us: 2_000_000,
                duration: 1.0,
            },
        ];
        let names = ["s".to_string()];
        let layout = Layout {
            scenario_names: &names,
            request_steps: &[(Some(0), true)],
        };
        let merged = merge(&placed, &layout).unwrap();
        let seconds: Vec<u32> = merged.timeline.iter().map(|p| p.second).collect();
        assert_eq!(seconds, [0, 2]);
        assert_eq!(merged.duration, 3.0);
        assert_eq!(merged.scenarios[0].span(), (2_000_900 - 100) as f64 / 1e6);
        let mut bad = one.clone();
        bad.steps[0].latency = Some("not a histogram".into());
        let placed = [Placed {
            exact: &bad,
            offset_us: 0,
            duration: 1.0,
        }];
        let err = merge(&placed, &layout).err().unwrap();
        assert!(err.starts_with("part 0: step 0:"), "{err}");
    }
}
