//! The results of a run as one serialisable value: what `results.json`
//! holds and what every other report is rendered from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::metrics::health::{HealthPoint, Machine};
use crate::metrics::hist::{self, curve};
use crate::metrics::summary::{checks_rate, error_rate, TimelinePoint};
use crate::metrics::{Stats, Summary};
use crate::plan::Plan;
use crate::verdict::{SloResult, Verdict};

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Results {
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aborted_reason: Option<String>,
    /// An SLO with `abort: true` crossed its critical bound and stopped the
    /// test (gracefully; its verdict is `fail`): which, when, what was
    /// measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_by: Option<String>,
    pub seed: u64,
    pub started_at: String,
    pub duration_s: f64,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub file: String,
    pub trek_version: String,
    /// The command line of the run (user information in URLs hidden).
    #[serde(default)]
    pub command: String,
    #[serde(default)]
    pub machine: Machine,
    pub totals: Totals,
    pub scenarios: Vec<ScenarioResult>,
    pub steps: Vec<StepResult>,
    pub slos: Vec<SloResult>,
    pub timeline: Vec<TimelinePoint>,
    /// `--strict`: a warning was judged a failure (the stored `verdict` is
    /// then `fail` where it would have been `warn`).
    #[serde(default)]
    pub strict: bool,
    /// `--smoke`: one user, one iteration; only checks and error rates were
    /// judged.
    #[serde(default)]
    pub smoke: bool,
    /// The load generator's CPU and memory, and the machine's, each second.
    #[serde(default)]
    pub health: Vec<HealthPoint>,
    /// Set when the generator used nearly all the CPU it may use for
    /// several seconds: its own queueing may be in the measured latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator_warning: Option<String>,
    /// The target's own metrics (`monitor:`), one value a second.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub monitors: Vec<crate::metrics::monitor::MonitorSeries>,
    /// What went wrong beside the load without touching its results (a
    /// remote write receiver that was down, a monitor that did not answer).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Why `teardown` did not finish (a step failed, or Ctrl-C), when it
    /// did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teardown_failure: Option<String>,
    /// A part of a split test (`--segment`): which, and what `trek merge`
    /// needs to add it to the others exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<Box<super::part::PartInfo>>,
    /// A merge of parts (`trek merge`): each part of the test, merged,
    /// failed or missing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<super::part::PartSummary>,
}

/// What the reports need of the test besides its measurements: names,
/// kinds and phases of its scenarios and steps. From the plan of a run, or
/// from a part's results when merging.
#[derive(Debug, Clone)]
pub struct Shape {
    pub name: String,
    pub description: Option<String>,
    pub file: String,
    pub seed: u64,
    /// Name and executor of each scenario.
    pub scenarios: Vec<(String, String)>,
    pub steps: Vec<StepShape>,
}

#[derive(Debug, Clone)]
pub struct StepShape {
    /// Its scenario's name, or `setup` / `teardown`.
    pub owner: String,
    pub phase: String,
    pub name: String,
    pub kind: String,
    /// The scenario whose users run it (`None`: setup, teardown).
    pub scenario: Option<usize>,
}

impl Shape {
    pub fn of(plan: &Plan) -> Self {
        Self {
            name: plan.name.clone(),
            description: plan.description.clone(),
            file: plan.file.clone(),
            seed: plan.seed,
            scenarios: plan
                .scenarios
                .iter()
                .map(|s| (s.name.clone(), s.load.executor.name().to_string()))
                .collect(),
            steps: plan
                .steps
                .iter()
                .map(|p| StepShape {
                    owner: p.owner(plan).to_string(),
                    phase: p.phase.as_str().to_string(),
                    name: p.name.clone(),
                    kind: p.kind.as_str().to_string(),
                    scenario: p.scenario,
                })
                .collect(),
        }
    }

    /// The shape of the test a results.json is of.
    pub fn of_results(r: &Results) -> Self {
        let scenario = |name: &str, phase: &str| match phase {
            "setup" | "teardown" => None,
            _ => r.scenarios.iter().position(|s| s.name == name),
        };
        Self {
            name: r.name.clone(),
            description: r.description.clone(),
            file: r.file.clone(),
            seed: r.seed,
            scenarios: r
                .scenarios
                .iter()
                .map(|s| (s.name.clone(), s.executor.clone()))
                .collect(),
            steps: r
                .steps
                .iter()
                .map(|s| StepShape {
                    owner: s.scenario.clone(),
                    phase: s.phase.clone(),
                    name: s.name.clone(),
                    kind: s.kind.clone(),
                    scenario: scenario(&s.scenario, &s.phase),
                })
                .collect(),
        }
    }

    /// Per step: the scenario whose requests it counts in (its iterations'
    /// steps only), and whether it is a request (not a group).
    pub fn request_steps(&self) -> Vec<(Option<usize>, bool)> {
        self.steps
            .iter()
            .map(|s| {
                let counted_in = s.scenario.filter(|_| s.phase == "iteration");
                (counted_in, s.kind != "group")
            })
            .collect()
    }
}

/// What the run knows about itself, beyond the plan and the measurements.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    pub command: String,
    pub machine: Machine,
    pub strict: bool,
    pub smoke: bool,
    /// Why `teardown` did not finish.
    pub teardown_failure: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Totals {
    pub requests: u64,
    pub failures: u64,
    pub error_rate: f64,
    pub throughput: f64,
    pub checks_passed: u64,
    pub checks_failed: u64,
    pub checks_rate: f64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub latency: Stats,
    pub first_byte: Stats,
    /// `[percentile, seconds]` of every request's latency.
    #[serde(default)]
    pub distribution: Vec<[f64; 2]>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScenarioResult {
    pub name: String,
    pub executor: String,
    pub iterations: u64,
    pub failed_iterations: u64,
    pub interrupted: u64,
    pub dropped: u64,
    pub iteration: Stats,
    /// Seconds from its first iteration's start to its last one's end: its
    /// rates, and its steps', are per second of this span.
    #[serde(default = "unknown")]
    pub span_s: f64,
    /// Its requests (every request step), per second of its span.
    #[serde(default)]
    pub requests: u64,
    #[serde(default = "unknown")]
    pub throughput: f64,
    #[serde(default)]
    pub error_rate: f64,
    /// The `unique` feeder whose rows ran out, which ended the scenario
    /// (iterations it could not start are not counted as dropped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exhausted: Option<String>,
    /// Steps that could not run at all (template errors and the like).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: BTreeMap<String, u64>,
    /// Virtual users whose `before` failed: each was retired (and replaced
    /// where its executor replaces users); see the `before` steps' failures
    /// for why.
    #[serde(default)]
    pub retired_users: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StepResult {
    /// Its scenario, or `setup` / `teardown` for the steps of those.
    pub scenario: String,
    /// When it runs: `setup`, `before` (once per user), `iteration`,
    /// `after` (once per user) or `teardown`. Only `iteration` steps count
    /// in their scenario's requests, rates and iterations.
    #[serde(default = "iteration")]
    pub phase: String,
    pub name: String,
    pub kind: String,
    pub count: u64,
    pub failures: u64,
    /// `failures / count` (0 without requests).
    #[serde(default = "unknown")]
    pub error_rate: f64,
    /// Per second over its scenario's span.
    #[serde(default = "unknown")]
    pub throughput: f64,
    /// Failure reason → how many times. A reason leaves out the value found
    /// (`$.total: expected 3`); see `failure_examples` for one in full.
    pub failure_reasons: BTreeMap<String, u64>,
    /// Failure reason → its first occurrence, with the start of the
    /// response (secrets hidden).
    #[serde(default)]
    pub failure_examples: BTreeMap<String, FailureExample>,
    pub checks_passed: u64,
    pub checks_failed: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// Streams: events received, and the time between them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub events: u64,
    #[serde(default, skip_serializing_if = "no_data")]
    pub gap: Stats,
    /// WebSocket: the handshake, and each `receive` from its `send`.
    #[serde(default, skip_serializing_if = "no_data")]
    pub connect: Stats,
    #[serde(default, skip_serializing_if = "no_data")]
    pub receive: Stats,
    pub latency: Stats,
    /// From the actual send (equals `latency` in the closed model).
    pub service_time: Stats,
    pub first_byte: Stats,
    /// `[percentile, seconds]` of this step's latency, dense in the tail.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub distribution: Vec<[f64; 2]>,
    /// This step's latency histogram in full (microseconds), in
    /// HdrHistogram's V2 compressed format, base64: `trek compare` reads
    /// exact order statistics from it. Absent when nothing was measured,
    /// and in files written before trek kept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<String>,
}

/// The first occurrence of a failure reason.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FailureExample {
    /// The full message, with the value found.
    pub message: String,
    /// The start of the response body, secrets hidden; absent when there
    /// was no response or it was empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
}

/// Rates missing from a results.json written before they were stored; see
/// [`Results::fill_missing_rates`].
fn unknown() -> f64 {
    f64::NAN
}

fn iteration() -> String {
    "iteration".into()
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn no_data(s: &Stats) -> bool {
    s.count == 0
}

impl Results {
    pub fn new(
        plan: &Shape,
        summary: &Summary,
        slos: Vec<SloResult>,
        verdict: Verdict,
        aborted_reason: Option<String>,
        started_at: chrono::DateTime<chrono::Utc>,
        meta: Meta,
    ) -> Self {
        let t = &summary.total;
        Self {
            verdict,
            aborted_reason,
            seed: plan.seed,
            started_at: started_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            duration_s: summary.duration,
            name: plan.name.clone(),
            description: plan.description.clone(),
            file: plan.file.clone(),
            trek_version: env!("CARGO_PKG_VERSION").to_string(),
            command: meta.command,
            machine: meta.machine,
            totals: Totals {
                requests: t.count,
                failures: t.failures,
                error_rate: error_rate(t),
                throughput: summary.throughput(t.count),
                checks_passed: t.checks_passed,
                checks_failed: t.checks_failed,
                checks_rate: checks_rate(t),
                bytes_sent: t.sent,
                bytes_received: t.received,
                latency: Stats::of(&t.latency),
                first_byte: Stats::of(&t.first_byte),
                distribution: curve(&t.latency),
            },
            scenarios: plan
                .scenarios
                .iter()
                .zip(&summary.scenarios)
                .enumerate()
                .map(|(i, ((name, executor), s))| ScenarioResult {
                    name: name.clone(),
                    executor: executor.clone(),
                    iterations: s.completed,
                    failed_iterations: s.failed,
                    interrupted: s.interrupted,
                    dropped: s.dropped,
                    iteration: Stats::of(&s.iteration),
                    span_s: s.span(),
                    requests: summary.per_scenario[i].count,
                    throughput: summary.scenario_rate(i, summary.per_scenario[i].count),
                    error_rate: error_rate(&summary.per_scenario[i]),
                    exhausted: s.exhausted.clone(),
                    errors: s.errors.iter().map(|(k, v)| (k.clone(), *v)).collect(),
                    retired_users: s.retired,
                })
                .collect(),
            steps: plan
                .steps
                .iter()
                .zip(&summary.steps)
                .map(|(p, s)| StepResult {
                    scenario: p.owner.clone(),
                    phase: p.phase.clone(),
                    name: p.name.clone(),
                    kind: p.kind.clone(),
                    count: s.count,
                    failures: s.failures,
                    error_rate: error_rate(s),
                    throughput: match p.scenario {
                        Some(i) => summary.scenario_rate(i, s.count),
                        None => summary.throughput(s.count),
                    },
                    failure_reasons: s
                        .reasons
                        .iter()
                        .map(|(k, r)| (k.clone(), r.count))
                        .collect(),
                    failure_examples: s
                        .reasons
                        .iter()
                        .map(|(k, r)| {
                            let example = FailureExample {
                                message: r.example.clone(),
                                response: r.response.clone(),
                            };
                            (k.clone(), example)
                        })
                        .collect(),
                    checks_passed: s.checks_passed,
                    checks_failed: s.checks_failed,
                    bytes_sent: s.sent,
                    bytes_received: s.received,
                    events: s.events,
                    gap: Stats::of(&s.gap),
                    connect: Stats::of(&s.connect),
                    receive: Stats::of(&s.receive),
                    latency: Stats::of(&s.latency),
                    service_time: Stats::of(&s.service),
                    first_byte: Stats::of(&s.first_byte),
                    distribution: curve(&s.latency),
                    histogram: hist::encode(&s.latency),
                })
                .collect(),
            slos,
            timeline: summary.timeline.clone(),
            strict: meta.strict,
            smoke: meta.smoke,
            health: summary.health.clone(),
            generator_warning: crate::metrics::health::saturation_warning(&summary.health),
            monitors: summary.monitors.clone(),
            warnings: Vec::new(),
            stopped_by: None,
            teardown_failure: meta.teardown_failure,
            part: None,
            parts: Vec::new(),
        }
    }
}

impl Results {
    /// A results.json from before trek stored per-scenario spans and
    /// per-step rates has them as NaN after reading: fill them the way that
    /// trek computed them then (over the whole test), so that comparing an
    /// old run with a new one does not show a false change.
    pub fn fill_missing_rates(&mut self) {
        let whole = self.duration_s;
        let per_second = |n: u64| if whole > 0.0 { n as f64 / whole } else { 0.0 };
        for s in &mut self.scenarios {
            if s.span_s.is_nan() {
                s.span_s = whole;
                let requests = self.steps.iter().filter(|st| {
                    st.scenario == s.name && st.kind != "group" && st.phase == "iteration"
                });
                let (count, failures) =
                    requests.fold((0, 0), |(c, f), st| (c + st.count, f + st.failures));
                s.requests = count;
                s.error_rate = if count > 0 {
                    failures as f64 / count as f64
                } else {
                    0.0
                };
            }
            if s.throughput.is_nan() {
                s.throughput = per_second(s.requests);
            }
        }
        for s in &mut self.steps {
            if s.throughput.is_nan() {
                s.throughput = per_second(s.count);
            }
            if s.error_rate.is_nan() {
                s.error_rate = if s.count > 0 {
                    s.failures as f64 / s.count as f64
                } else {
                    0.0
                };
            }
        }
    }
}
