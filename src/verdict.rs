//! SLO evaluation: declared thresholds + measured summary → a verdict for
//! each SLO and for the run. Pure functions, no I/O.

use serde::Serialize;

use crate::metrics::recorder::{ScenarioStats, StepStats};
use crate::metrics::summary::{checks_rate, error_rate, rate};
use crate::metrics::{Stats, Summary};
use crate::plan::{Plan, StepKindTag};
use crate::scenario::model::{DropUnit, Slo, SloMetric, Threshold};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
    Aborted,
    /// A part of a split test: measured, not judged (`trek merge` judges
    /// the parts together).
    Part,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
            Verdict::Aborted => "aborted",
            Verdict::Part => "part",
        }
    }
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct SloResult {
    pub scope: String,
    pub metric: String,
    /// A `monitor` SLO: the monitored series' name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stat: Option<String>,
    pub target: Option<f64>,
    pub critical: Option<f64>,
    /// `None` when nothing was measured (serialised as null).
    pub value: Option<f64>,
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl SloResult {
    /// What it bounds, as the reports name it: `latency p95`,
    /// `monitor db_in_use max`, `error_rate`.
    pub fn name(&self) -> String {
        let mut out = self.metric.clone();
        for part in [&self.series, &self.stat].into_iter().flatten() {
            out.push(' ');
            out.push_str(part);
        }
        out
    }
}

/// Whether a larger value of the metric (by its key in results) is better.
pub fn higher_is_better(metric: &str) -> bool {
    matches!(metric, "throughput" | "checks" | "successful_requests")
}

/// Pass, warn or fail for one measured value.
pub fn judge(t: &Threshold, value: f64, higher_is_better: bool) -> Verdict {
    let meets = |bound: f64| {
        if higher_is_better {
            value >= bound
        } else {
            value <= bound
        }
    };
    if t.critical.is_some_and(|c| !meets(c)) {
        Verdict::Fail
    } else if t.target.is_some_and(|c| !meets(c)) {
        Verdict::Warn
    } else {
        Verdict::Pass
    }
}

/// How the run is judged.
#[derive(Debug, Clone, Copy, Default)]
pub struct Judging {
    /// `--smoke`: one user, one iteration. Only checks and errors mean
    /// something then; latency, throughput and the other timing SLOs are
    /// not judged.
    pub smoke: bool,
}

/// The note of an SLO whose metric had nothing to judge.
pub const NO_DATA: &str = "no data";

/// The note of an SLO left unjudged by `--smoke`.
pub const NOT_JUDGED_SMOKE: &str = "not judged under --smoke";

/// An SLO and where it is judged, apart from the plan: what a part of a
/// split test carries so that `trek merge` judges the whole once.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct SloDef {
    /// As in the results' `slos[].scope`.
    pub scope: String,
    /// A step's or group's SLO: the step id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    /// The scenario: of a scenario's SLO, or of a step's (whose rates are
    /// over its span).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<usize>,
    pub metric: String,
    /// A `monitor` SLO: the monitored series' name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
    /// The statistic (`p95`), or for `dropped` its unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stat: Option<String>,
    pub target: Option<f64>,
    pub critical: Option<f64>,
    /// Stop the test as soon as the critical bound is crossed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub abort: bool,
    /// Judged on what happened from this many seconds after the load
    /// started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<f64>,
}

impl SloDef {
    fn new(scope: &str, step: Option<usize>, scenario: Option<usize>, slo: &Slo) -> Self {
        Self {
            scope: scope.to_string(),
            step,
            scenario,
            metric: slo.metric.key().to_string(),
            series: slo.series.clone(),
            stat: stat_key(slo),
            target: slo.threshold.target,
            critical: slo.threshold.critical,
            abort: slo.abort,
            after: slo.after.map(|d| d.as_secs_f64()),
        }
    }

    /// The SLO back (`None`: a metric or statistic this trek does not know).
    fn slo(&self) -> Option<Slo> {
        let stat = self.stat.as_deref();
        let unit = match (self.metric.as_str(), stat) {
            ("dropped", Some(u)) => DropUnit::from_key(u)?,
            ("dropped", None) => return None,
            _ => DropUnit::Count,
        };
        let metric = SloMetric::from_key(&self.metric, unit)?;
        let stat = match (metric, stat) {
            (SloMetric::Dropped(_), _) | (_, None) => None,
            (_, Some(k)) => Some(crate::scenario::model::Stat::from_key(k)?),
        };
        if (metric == SloMetric::Monitor) != self.series.is_some() {
            return None;
        }
        Some(Slo {
            metric,
            series: self.series.clone(),
            stat,
            threshold: Threshold {
                target: self.target,
                critical: self.critical,
            },
            abort: self.abort,
            after: self
                .after
                .filter(|a| a.is_finite() && *a >= 0.0)
                .map(std::time::Duration::from_secs_f64),
            span: Default::default(),
        })
    }
}

fn stat_key(slo: &Slo) -> Option<String> {
    match slo.metric {
        SloMetric::Dropped(unit) => Some(unit.key().to_string()),
        _ => slo.stat.map(|s| s.key().to_string()),
    }
}

/// Every SLO of the plan, with where it is judged, in report order.
pub fn slo_defs(plan: &Plan) -> Vec<SloDef> {
    let mut out = Vec::new();
    for (i, info) in plan.steps.iter().enumerate() {
        let kind = match info.kind {
            StepKindTag::Http | StepKindTag::Sse | StepKindTag::WebSocket => "step",
            StepKindTag::Group => "group",
        };
        let scope = format!("{kind} {}/{}", info.owner(plan), info.name);
        out.extend(
            info.slo
                .iter()
                .map(|slo| SloDef::new(&scope, Some(i), info.scenario, slo)),
        );
    }
    for (i, s) in plan.scenarios.iter().enumerate() {
        let scope = format!("scenario {}", s.name);
        out.extend(
            s.slo
                .iter()
                .map(|slo| SloDef::new(&scope, None, Some(i), slo)),
        );
    }
    out.extend(
        plan.slo
            .iter()
            .map(|slo| SloDef::new("test", None, None, slo)),
    );
    out
}

/// Evaluates every SLO of the plan against the summary.
pub fn evaluate(plan: &Plan, summary: &Summary, judging: Judging) -> Vec<SloResult> {
    evaluate_defs(&slo_defs(plan), summary, judging)
}

/// Evaluates SLOs given apart from their plan (a merge of parts).
pub fn evaluate_defs(defs: &[SloDef], summary: &Summary, judging: Judging) -> Vec<SloResult> {
    let mut out = Vec::new();
    for def in defs {
        let Some(slo) = def.slo() else {
            out.push(SloResult {
                scope: def.scope.clone(),
                metric: def.metric.clone(),
                series: def.series.clone(),
                stat: def.stat.clone(),
                target: def.target,
                critical: def.critical,
                value: None,
                verdict: Verdict::Fail,
                note: Some("an SLO this version of trek cannot judge".into()),
            });
            continue;
        };
        let slo = &slo;
        let measured = || match (def.step, def.scenario) {
            // The target's series are the test's, wherever the SLO sits.
            _ if slo.metric == SloMetric::Monitor => {
                let name = slo.series.as_deref()?;
                let series = summary.monitors.iter().find(|m| m.name == name)?;
                series.stat(slo.stat?)
            }
            (Some(step), scenario) => {
                let span = scenario.map_or(summary.duration, |i| rate_span(summary, i));
                measure(slo, summary.steps.get(step)?, None, span)
            }
            (None, Some(i)) => measure(
                slo,
                summary.per_scenario.get(i)?,
                Some(summary.scenarios.get(i)?),
                rate_span(summary, i),
            ),
            (None, None) => measure(
                slo,
                &summary.total,
                Some(&summary.all_iterations),
                summary.duration,
            ),
        };
        out.push(result(&def.scope, slo, judging, measured));
    }
    out
}

/// The run as it was when each `after` of its SLOs came: seconds since the
/// load started → what had been measured by then.
pub type Baselines = Vec<(f64, Summary)>;

/// The note of an `after` SLO whose run ended before its `after`.
pub fn ended_before(after: f64) -> String {
    format!(
        "the run ended before after: {}",
        crate::format::format_secs(after)
    )
}

/// Evaluates SLOs, each with an `after` on what happened since its
/// baseline (the run's measurements then, taken away from the final ones).
pub fn evaluate_since(
    defs: &[SloDef],
    summary: &Summary,
    baselines: &[(f64, Summary)],
    judging: Judging,
) -> Vec<SloResult> {
    let mut since: Vec<(f64, Summary)> = Vec::new();
    let mut out = Vec::with_capacity(defs.len());
    for def in defs {
        let one = std::slice::from_ref(def);
        let Some(after) = def.after else {
            out.extend(evaluate_defs(one, summary, judging));
            continue;
        };
        if !since.iter().any(|(a, _)| *a == after) {
            if let Some((_, base)) = baselines.iter().find(|(a, _)| *a == after) {
                since.push((after, summary.since(base)));
            }
        }
        match since.iter().find(|(a, _)| *a == after) {
            Some((_, s)) => out.extend(evaluate_defs(one, s, judging)),
            None => {
                let mut r = evaluate_defs(one, &Summary::default(), judging);
                for r in &mut r {
                    if r.note.as_deref() == Some(NO_DATA) {
                        r.note = Some(ended_before(after));
                    }
                }
                out.extend(r);
            }
        }
    }
    out
}

/// The seconds a scenario's rates are over: its span, or the whole test's
/// when it has none (no iteration ended, or every one was dropped), so that
/// requests or drops with no span are not rated 0/s.
fn rate_span(summary: &Summary, scenario: usize) -> f64 {
    match summary.span(scenario) {
        s if s > 0.0 => s,
        _ => summary.duration,
    }
}

/// The measured value of an SLO's metric over a scope that ran for `span`
/// seconds, or `None` when there was nothing to judge: no sample of a
/// time, no request for an error rate, no check for a checks rate, no
/// iteration scheduled for `dropped`, a scope that never ran for a
/// throughput.
fn measure(
    slo: &Slo,
    stats: &StepStats,
    iterations: Option<&ScenarioStats>,
    span: f64,
) -> Option<f64> {
    let stat = |s: Stats| match slo.stat {
        Some(st) if s.count > 0 => Some(s.get(st)),
        _ => None,
    };
    match slo.metric {
        SloMetric::Latency => stat(Stats::of(&stats.latency)),
        SloMetric::FirstByte => stat(Stats::of(&stats.first_byte)),
        SloMetric::Iteration => iterations.and_then(|s| stat(Stats::of(&s.iteration))),
        SloMetric::Dropped(unit) => iterations.and_then(|s| {
            let scheduled = s.started + s.dropped;
            (scheduled > 0).then(|| match unit {
                DropUnit::Count => s.dropped as f64,
                DropUnit::Share => s.dropped as f64 / scheduled as f64,
                DropUnit::PerSecond => rate(s.dropped, span),
            })
        }),
        SloMetric::Gap => stat(Stats::of(&stats.gap)),
        SloMetric::ErrorRate => (stats.count > 0).then(|| error_rate(stats)),
        SloMetric::Throughput => (span > 0.0 || stats.count > 0).then(|| rate(stats.count, span)),
        SloMetric::Checks => {
            (stats.checks_passed + stats.checks_failed > 0).then(|| checks_rate(stats))
        }
        // Judged apart, from the monitored series.
        SloMetric::Monitor => None,
    }
}

/// Whether `--smoke` judges an SLO on this metric: only checks and errors.
fn judged_in_smoke(metric: SloMetric) -> bool {
    matches!(metric, SloMetric::ErrorRate | SloMetric::Checks)
}

fn result(
    scope: &str,
    slo: &Slo,
    judging: Judging,
    measure: impl FnOnce() -> Option<f64>,
) -> SloResult {
    let skipped = judging.smoke && !judged_in_smoke(slo.metric);
    let value = if skipped { None } else { measure() };
    let (verdict, note) = match value {
        _ if skipped => (Verdict::Pass, Some(NOT_JUDGED_SMOKE.to_string())),
        Some(v) => (
            judge(&slo.threshold, v, slo.metric.higher_is_better()),
            None,
        ),
        None => (Verdict::Fail, Some(NO_DATA.to_string())),
    };
    SloResult {
        scope: scope.to_string(),
        metric: slo.metric.key().to_string(),
        series: slo.series.clone(),
        stat: stat_key(slo),
        target: slo.threshold.target,
        critical: slo.threshold.critical,
        value,
        verdict,
        note,
    }
}

/// The check every run gets, with or without SLOs: a run in which not one
/// request succeeded fails. `None` when some request succeeded (or the run
/// has no request steps at all).
pub fn no_success(summary: &Summary, has_requests: bool) -> Option<SloResult> {
    let t = &summary.total;
    let succeeded = t.count - t.failures.min(t.count);
    (has_requests && succeeded == 0).then(|| SloResult {
        scope: "test".to_string(),
        metric: "successful_requests".to_string(),
        series: None,
        stat: None,
        target: None,
        critical: Some(1.0),
        value: Some(0.0),
        verdict: Verdict::Fail,
        note: Some(if t.count == 0 {
            "no request was sent".to_string()
        } else {
            format!("not one of {} requests succeeded", t.count)
        }),
    })
}

/// The verdict of the run: the worst SLO, or aborted.
pub fn overall(results: &[SloResult], aborted: bool, strict: bool) -> Verdict {
    if aborted {
        return Verdict::Aborted;
    }
    let worst = results
        .iter()
        .map(|r| r.verdict)
        .max()
        .unwrap_or(Verdict::Pass);
    if strict && worst == Verdict::Warn {
        Verdict::Fail
    } else {
        worst
    }
}

/// The process exit code for a verdict.
pub fn exit_code(v: Verdict) -> i32 {
    match v {
        Verdict::Pass | Verdict::Warn | Verdict::Part => 0,
        Verdict::Fail => 1,
        Verdict::Aborted => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(target: Option<f64>, critical: Option<f64>) -> Threshold {
        Threshold { target, critical }
    }

    #[test]
    fn a_scenario_without_a_span_is_rated_over_the_whole_test() {
        let summary =
            crate::metrics::Collector::default().finish(&mut [], &["s".to_string()], &[], 5.0);
        assert_eq!(summary.span(0), 0.0);
        assert_eq!(rate_span(&summary, 0), 5.0);
    }

    #[test]
    fn lower_is_better_levels() {
        let th = t(Some(0.150), Some(0.200));
        assert_eq!(judge(&th, 0.120, false), Verdict::Pass);
        assert_eq!(judge(&th, 0.150, false), Verdict::Pass);
        assert_eq!(judge(&th, 0.180, false), Verdict::Warn);
        assert_eq!(judge(&th, 0.250, false), Verdict::Fail);
    }

    #[test]
    fn bare_value_is_critical_and_target_only_warns() {
        assert_eq!(judge(&t(None, Some(0.5)), 0.6, false), Verdict::Fail);
        assert_eq!(judge(&t(Some(0.5), None), 0.6, false), Verdict::Warn);
        assert_eq!(judge(&t(Some(0.5), None), 0.4, false), Verdict::Pass);
    }

    #[test]
    fn higher_is_better_levels() {
        let th = t(Some(100.0), Some(50.0));
        assert_eq!(judge(&th, 120.0, true), Verdict::Pass);
        assert_eq!(judge(&th, 70.0, true), Verdict::Warn);
        assert_eq!(judge(&th, 20.0, true), Verdict::Fail);
    }

    #[test]
    fn overall_takes_the_worst_and_strict_turns_warn_into_fail() {
        let r = |v| SloResult {
            scope: "test".into(),
            metric: "latency".into(),
            series: None,
            stat: None,
            target: None,
            critical: None,
            value: Some(1.0),
            verdict: v,
            note: None,
        };
        let rs = vec![r(Verdict::Pass), r(Verdict::Warn)];
        assert_eq!(overall(&rs, false, false), Verdict::Warn);
        assert_eq!(overall(&rs, false, true), Verdict::Fail);
        assert_eq!(overall(&rs, true, false), Verdict::Aborted);
        assert_eq!(overall(&[], false, true), Verdict::Pass);
        assert_eq!(exit_code(Verdict::Warn), 0);
        assert_eq!(exit_code(Verdict::Fail), 1);
        assert_eq!(exit_code(Verdict::Aborted), 3);
    }
}
