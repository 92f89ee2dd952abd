//! Recommendations computed from the results: what a reader should look at
//! first (failed SLOs, a saturated load generator, dropped iterations, error
//! bursts, SLOs with little headroom, the slowest steps, steps no SLO
//! guards).

use serde::Serialize;

use super::results::Results;
use crate::format::format_secs;
use crate::format::value;
use crate::verdict::Verdict;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Problem,
    Warning,
    Note,
}

#[derive(Debug, Clone, Serialize)]
pub struct Recommendation {
    pub level: Level,
    pub title: String,
    pub detail: String,
}

/// A passing SLO with less headroom than this share of its bound is worth
/// a look.
const HEADROOM: f64 = 0.2;

pub fn recommend(r: &Results) -> Vec<Recommendation> {
    let mut out = Vec::new();
    let mut add = |level, title: String, detail: String| {
        out.push(Recommendation {
            level,
            title,
            detail,
        })
    };

    let failed: Vec<String> = r
        .slos
        .iter()
        .filter(|s| s.verdict == Verdict::Fail)
        .map(slo_name)
        .collect();
    if !failed.is_empty() {
        add(
            Level::Problem,
            format!("{} SLO{} failed", failed.len(), plural(failed.len())),
            format!(
                "{}. Start with the slowest step and the failure reasons below.",
                list(&failed, 5)
            ),
        );
    }
    if let Some(reason) = &r.aborted_reason {
        add(
            Level::Problem,
            "The run was aborted".into(),
            format!("{reason}. The figures cover only what ran."),
        );
    }
    if let Some(reason) = &r.stopped_by {
        add(
            Level::Problem,
            "An SLO stopped the test".into(),
            format!("{reason}. The figures cover the load up to then."),
        );
    }
    for w in &r.warnings {
        add(Level::Note, "Beside the load".into(), w.clone());
    }
    if let Some(w) = &r.generator_warning {
        add(
            Level::Problem,
            "The load generator was saturated".into(),
            w.clone(),
        );
    }
    let dropped: u64 = r.scenarios.iter().map(|s| s.dropped).sum();
    if dropped > 0 {
        let names: Vec<String> = r
            .scenarios
            .iter()
            .filter(|s| s.dropped > 0)
            .map(|s| format!("{} ({})", s.name, s.dropped))
            .collect();
        add(
            Level::Warning,
            format!("{dropped} iteration{} could not start on time", plural(dropped as usize)),
            format!(
                "{}: every virtual user was busy. Raise `max_vus`, or the target is slower than the arrival rate allows.",
                list(&names, 5)
            ),
        );
    }
    for burst in error_bursts(r).into_iter().take(3) {
        add(Level::Warning, "Errors came in a burst".into(), burst);
    }
    for s in &r.slos {
        if s.verdict != Verdict::Pass {
            continue;
        }
        // The nearer bound: a target warns before the critical bound fails.
        let (Some(v), Some(bound)) = (s.value, s.target.or(s.critical)) else {
            continue;
        };
        let higher_is_better = crate::verdict::higher_is_better(&s.metric);
        let headroom = if s.metric == "checks" {
            // Of the failures the bound allows, how many are left.
            if bound >= 1.0 {
                continue;
            }
            (v - bound) / (1.0 - bound)
        } else if higher_is_better {
            if v == 0.0 {
                continue;
            }
            (v - bound) / v
        } else {
            if bound == 0.0 {
                continue;
            }
            (bound - v) / bound
        };
        if headroom < HEADROOM {
            let show = |x| value(&s.metric, s.stat.as_deref(), x);
            add(
                Level::Warning,
                format!("Little headroom: {}", slo_name(s)),
                format!(
                    "measured {} against a bound of {} ({:.0}% to spare); a little more load may break it.",
                    show(v),
                    show(bound),
                    headroom * 100.0
                ),
            );
        }
    }
    let mut requests: Vec<_> = r
        .steps
        .iter()
        .filter(|s| s.kind != "group" && s.latency.count > 0)
        .collect();
    requests.sort_by(|a, b| b.latency.p95.total_cmp(&a.latency.p95));
    if requests.len() > 1 {
        let median = {
            let mut p95s: Vec<f64> = requests.iter().map(|s| s.latency.p95).collect();
            p95s.sort_by(f64::total_cmp);
            p95s[p95s.len() / 2]
        };
        let slowest: Vec<String> = requests
            .iter()
            .take(3)
            .map(|s| {
                let times = if median > 0.0 {
                    format!(", {:.1}× the median step", s.latency.p95 / median)
                } else {
                    String::new()
                };
                format!(
                    "{}/{} p95 {}{times}",
                    s.scenario,
                    s.name,
                    format_secs(s.latency.p95)
                )
            })
            .collect();
        add(Level::Note, "Slowest steps".into(), slowest.join("; "));
    }
    let guarded = |scenario: &str, name: &str| {
        r.slos.iter().any(|s| {
            s.scope == format!("step {scenario}/{name}")
                || s.scope == format!("group {scenario}/{name}")
        })
    };
    let unguarded: Vec<String> = r
        .steps
        .iter()
        .filter(|s| !guarded(&s.scenario, &s.name))
        .map(|s| format!("{}/{}", s.scenario, s.name))
        .collect();
    if !unguarded.is_empty() && unguarded.len() < r.steps.len() {
        add(
            Level::Note,
            format!("{} step{} without an SLO of {} own", unguarded.len(), plural(unguarded.len()), if unguarded.len() == 1 { "its" } else { "their" }),
            format!(
                "{}. They count in the scenario and test SLOs only; give the ones users wait on an `slo:`.",
                list(&unguarded, 8)
            ),
        );
    } else if r.slos.is_empty() {
        add(
            Level::Note,
            "No SLOs".into(),
            "Nothing was judged: add `slo:` to the test, its scenarios or its steps (e.g. `latency: { p95: 500ms }`, `error_rate: 1%`).".into(),
        );
    }
    let top = r
        .steps
        .iter()
        .flat_map(|s| s.failure_reasons.iter().map(move |(k, n)| (s, k, *n)))
        .max_by_key(|(_, _, n)| *n);
    if let Some((s, reason, n)) = top {
        add(
            Level::Note,
            "Most frequent failure".into(),
            format!("{}/{}: {reason} ({n}×)", s.scenario, s.name),
        );
    }
    out.sort_by_key(|r| r.level);
    out
}

/// Runs of seconds in which at least 5 requests and 10% of them failed.
fn error_bursts(r: &Results) -> Vec<String> {
    let mut out = Vec::new();
    let mut scenarios: Vec<&str> = r.timeline.iter().map(|p| p.scenario.as_str()).collect();
    scenarios.dedup();
    scenarios.sort();
    scenarios.dedup();
    for scenario in scenarios {
        let mut start: Option<(u32, u32, u64)> = None;
        let points = r.timeline.iter().filter(|p| p.scenario == scenario);
        let flush = |run: Option<(u32, u32, u64)>, out: &mut Vec<String>| {
            if let Some((from, to, failures)) = run {
                out.push(format!(
                    "{scenario}: {failures} failures between {} and {} of the run.",
                    clock(from),
                    clock(to + 1)
                ));
            }
        };
        for p in points {
            let bursting = p.failures >= 5 && p.failures * 10 >= p.requests;
            start = match (start, bursting) {
                (Some((from, to, n)), true) if p.second == to + 1 => {
                    Some((from, p.second, n + p.failures))
                }
                (prev, true) => {
                    flush(prev, &mut out);
                    Some((p.second, p.second, p.failures))
                }
                (prev, false) => {
                    flush(prev, &mut out);
                    None
                }
            };
        }
        flush(start, &mut out);
    }
    out
}

fn clock(second: u32) -> String {
    format!("{:02}:{:02}", second / 60, second % 60)
}

fn slo_name(s: &crate::verdict::SloResult) -> String {
    format!("{} {}", s.scope, s.name())
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn list(items: &[String], max: usize) -> String {
    if items.len() <= max {
        items.join(", ")
    } else {
        format!("{} and {} more", items[..max].join(", "), items.len() - max)
    }
}
