//! SLO evaluation: declared thresholds + measured summary → a verdict for
//! each SLO and for the run. Pure functions, no I/O.

use serde::Serialize;

use crate::metrics::recorder::{ScenarioStats, StepStats};
use crate::metrics::summary::{checks_rate, error_rate};
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
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
            Verdict::Aborted => "aborted",
        }
    }
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct SloResult {
    pub scope: String,
    pub metric: String,
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

/// Evaluates every SLO of the plan against the summary.
pub fn evaluate(plan: &Plan, summary: &Summary) -> Vec<SloResult> {
    let mut out = Vec::new();
    for (i, info) in plan.steps.iter().enumerate() {
        let scenario = &plan.scenarios[info.scenario].name;
        let kind = match info.kind {
            StepKindTag::Http | StepKindTag::Sse | StepKindTag::WebSocket => "step",
            StepKindTag::Group => "group",
        };
        let scope = format!("{kind} {scenario}/{}", info.name);
        for slo in &info.slo {
            let stats = &summary.steps[i];
            out.push(result(&scope, slo, measure(slo, stats, None, summary)));
        }
    }
    for (i, s) in plan.scenarios.iter().enumerate() {
        let scope = format!("scenario {}", s.name);
        let iterations = &summary.scenarios[i];
        for slo in &s.slo {
            let value = measure(slo, &summary.per_scenario[i], Some(iterations), summary);
            out.push(result(&scope, slo, value));
        }
    }
    for slo in &plan.slo {
        let value = measure(slo, &summary.total, Some(&summary.all_iterations), summary);
        out.push(result("test", slo, value));
    }
    out
}

/// The measured value of an SLO's metric, or `None` with no data.
fn measure(
    slo: &Slo,
    stats: &StepStats,
    iterations: Option<&ScenarioStats>,
    summary: &Summary,
) -> Option<f64> {
    let stat = |s: Stats| match slo.stat {
        Some(st) if s.count > 0 => Some(s.get(st)),
        _ => None,
    };
    match slo.metric {
        SloMetric::Latency => stat(Stats::of(&stats.latency)),
        SloMetric::FirstByte => stat(Stats::of(&stats.first_byte)),
        SloMetric::Iteration => iterations.and_then(|s| stat(Stats::of(&s.iteration))),
        SloMetric::Dropped(unit) => iterations.map(|s| {
            let dropped = s.dropped as f64;
            let scheduled = s.started + s.dropped;
            match unit {
                DropUnit::Count => dropped,
                DropUnit::Share if scheduled == 0 => 0.0,
                DropUnit::Share => dropped / scheduled as f64,
                DropUnit::PerSecond => summary.throughput(s.dropped),
            }
        }),
        SloMetric::Gap => stat(Stats::of(&stats.gap)),
        SloMetric::ErrorRate => Some(error_rate(stats)),
        SloMetric::Throughput => Some(summary.throughput(stats.count)),
        SloMetric::Checks => Some(checks_rate(stats)),
    }
}

fn result(scope: &str, slo: &Slo, value: Option<f64>) -> SloResult {
    let (verdict, note) = match value {
        Some(v) => (
            judge(&slo.threshold, v, slo.metric.higher_is_better()),
            None,
        ),
        None => (Verdict::Fail, Some("nothing was measured".to_string())),
    };
    SloResult {
        scope: scope.to_string(),
        metric: slo.metric.key().to_string(),
        stat: match slo.metric {
            SloMetric::Dropped(unit) => Some(unit.key().to_string()),
            _ => slo.stat.map(|s| s.key().to_string()),
        },
        target: slo.threshold.target,
        critical: slo.threshold.critical,
        value,
        verdict,
        note,
    }
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
        Verdict::Pass | Verdict::Warn => 0,
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
