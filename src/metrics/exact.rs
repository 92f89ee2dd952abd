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
/// naming where it was.
pub fn merge(parts: &[Placed], layout: &Layout) -> Result<Summary, String> {
    let steps = layout.request_steps.len();
    let scenarios = layout.scenario_names.len();
    let mut recorder = Recorder::new(steps, scenarios);
    let mut collector = Collector::default();
    let mut duration: f64 = 0.0;
    for (p, part) in parts.iter().enumerate() {
        let at = |what: &str| format!("part {p}: {what}");
        if part.exact.steps.len() != steps || part.exact.scenarios.len() != scenarios {
            return Err(at("its steps or scenarios differ from the other parts'"));
        }
        for (i, s) in part.exact.steps.iter().enumerate() {
            let stats = step_stats(s).map_err(|e| at(&format!("step {i}: {e}")))?;
            recorder.steps[i].merge(&stats);
        }
        for (i, s) in part.exact.scenarios.iter().enumerate() {
            let mut stats = scenario_stats(s).map_err(|e| at(&format!("scenario {i}: {e}")))?;
            if stats.first_start_us != u64::MAX {
                stats.first_start_us += part.offset_us;
                stats.last_end_us += part.offset_us;
            }
            recorder.scenarios[i].merge(&stats);
        }
        // A second of a part is the merged run's second nearest its start
        // on the wall clock.
        let shift = ((part.offset_us + 500_000) / 1_000_000) as u32;
        let mut seconds = Vec::with_capacity(part.exact.seconds.len());
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
                stats.latency = decoded(h, hist::COARSE)
                    .map_err(|e| at(&format!("second {}: {e}", s.second)))?;
            }
            let key = (s.second.saturating_add(shift), s.scenario);
            collector.active_vus_add(key, s.active_vus);
            seconds.push((key, stats));
        }
        collector.add_seconds(seconds);
        duration = duration.max(part.offset_us as f64 / 1e6 + part.duration);
    }
    let mut recorders = [recorder];
    Ok(collector.finish(
        &mut recorders,
        layout.scenario_names,
        layout.request_steps,
        duration,
    ))
}

fn decoded(text: &str, digits: u8) -> Result<Hist, String> {
    let h = hist::decode(text)?;
    let mut out = Hist::new(digits);
    out.add(&h);
    Ok(out)
}

fn opt(text: &Encoded, digits: u8) -> Result<Hist, String> {
    match text {
        Some(t) => decoded(t, digits),
        None => Ok(Hist::new(digits)),
    }
}

fn step_stats(s: &ExactStep) -> Result<StepStats, String> {
    let fine = hist::FINE;
    Ok(StepStats {
        count: s.count,
        failures: s.failures,
        latency: opt(&s.latency, fine)?,
        service: opt(&s.service, fine)?,
        first_byte: opt(&s.first_byte, fine)?,
        gap: opt(&s.gap, fine)?,
        events: s.events,
        connect: opt(&s.connect, fine)?,
        receive: opt(&s.receive, fine)?,
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

fn scenario_stats(s: &ExactScenario) -> Result<ScenarioStats, String> {
    let mut out = ScenarioStats::new();
    out.started = s.started;
    out.completed = s.completed;
    out.failed = s.failed;
    out.interrupted = s.interrupted;
    out.dropped = s.dropped;
    out.retired = s.retired;
    out.iteration = opt(&s.iteration, hist::FINE)?;
    out.first_start_us = s.first_start_us.unwrap_or(u64::MAX);
    out.last_end_us = s.last_end_us;
    out.exhausted.clone_from(&s.exhausted);
    out.errors = s.errors.iter().map(|(k, v)| (k.clone(), *v)).collect();
    Ok(out)
}
