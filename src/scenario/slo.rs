//! Reads `slo:` blocks: which metric, which statistic, and the target and
//! critical bounds, converted to seconds, fractions or per-second rates.

use crate::scenario::model::{DropUnit, Slo, SloMetric, Stat, Threshold};
use crate::scenario::reader::{code, Reader};
use crate::scenario::units;
use crate::scenario::yaml::{Node, Value};

pub const SLO_KEYS: [&str; 9] = [
    "latency",
    "first_byte",
    "gap",
    "iteration",
    "error_rate",
    "throughput",
    "checks",
    "dropped",
    "monitor",
];

/// The keys of a bound written as a map.
pub const BOUND_KEYS: [&str; 4] = ["target", "critical", "abort", "after"];

/// How a bound is judged while the run goes (`abort`, `after`).
#[derive(Debug, Clone, Copy, Default)]
struct Live {
    abort: bool,
    after: Option<std::time::Duration>,
}

pub fn read_slos(r: &mut Reader, node: &Node) -> Vec<Slo> {
    let mut out = Vec::new();
    let Some(m) = r.map(node, "`slo`", &SLO_KEYS) else {
        return out;
    };
    for (key, k, v) in m.entries() {
        let unit = if key == "dropped" {
            drop_unit(v)
        } else {
            DropUnit::Count
        };
        let Some(metric) = SloMetric::from_key(key, unit) else {
            continue;
        };
        match metric {
            SloMetric::Monitor => read_monitor_slos(r, v, &mut out),
            SloMetric::ErrorRate | SloMetric::Checks => {
                if let Some((threshold, live)) =
                    read_threshold(r, v, key, metric, units::parse_share)
                {
                    out.push(Slo {
                        metric,
                        series: None,
                        stat: None,
                        threshold,
                        abort: live.abort,
                        after: live.after,
                        span: k.span,
                    });
                }
            }
            SloMetric::Dropped(unit) => {
                if mixed_units(v) {
                    r.error_help(
                        code::BAD_VALUE,
                        v.span,
                        "the `target` and `critical` of `dropped` are written in different units",
                        "write both as counts (`5`), as shares (`1%`) or as rates (`2/s`)",
                    );
                    continue;
                }
                let parse = match unit {
                    DropUnit::Count => count,
                    DropUnit::Share => units::parse_share,
                    DropUnit::PerSecond => units::parse_rate,
                };
                if let Some((threshold, live)) = read_threshold(r, v, key, metric, parse) {
                    out.push(Slo {
                        metric,
                        series: None,
                        stat: None,
                        threshold,
                        abort: live.abort,
                        after: live.after,
                        span: k.span,
                    });
                }
            }
            SloMetric::Throughput => {
                if let Some((threshold, live)) =
                    read_threshold(r, v, key, metric, units::parse_rate)
                {
                    out.push(Slo {
                        metric,
                        series: None,
                        stat: None,
                        threshold,
                        abort: live.abort,
                        after: live.after,
                        span: k.span,
                    });
                }
            }
            _ => {
                let Some(stats) = r.map(v, &format!("`slo.{key}`"), &Stat::KEYS) else {
                    continue;
                };
                for (stat_key, sk, sv) in stats.entries() {
                    let Some(stat) = Stat::from_key(stat_key) else {
                        continue;
                    };
                    if let Some((threshold, live)) = read_threshold(r, sv, stat_key, metric, secs) {
                        out.push(Slo {
                            metric,
                            series: None,
                            stat: Some(stat),
                            threshold,
                            abort: live.abort,
                            after: live.after,
                            span: sk.span,
                        });
                    }
                }
            }
        }
    }
    out
}

/// `monitor: { SERIES: { max: 80, p95: { target: 50, critical: 70 } } }`:
/// upper bounds on a monitored series' values, one a second.
fn read_monitor_slos(r: &mut Reader, node: &Node, out: &mut Vec<Slo>) {
    for (series, v, _) in r.free_map(node, "`slo.monitor`") {
        let Some(stats) = r.map(v, &format!("`slo.monitor.{series}`"), &Stat::KEYS) else {
            continue;
        };
        for (stat_key, sk, sv) in stats.entries() {
            let Some(stat) = Stat::from_key(stat_key) else {
                continue;
            };
            if let Some((threshold, live)) =
                read_threshold(r, sv, stat_key, SloMetric::Monitor, number)
            {
                out.push(Slo {
                    metric: SloMetric::Monitor,
                    series: Some(series.clone()),
                    stat: Some(stat),
                    threshold,
                    abort: live.abort,
                    after: live.after,
                    span: sk.span,
                });
            }
        }
    }
}

fn number(text: &str) -> Result<f64, units::UnitError> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| units::UnitError::Number(text.to_string()))
}

/// How a `dropped` bound is written: `5` (count), `1%` (share), `2/s`.
fn drop_unit(v: &Node) -> DropUnit {
    let text = match &v.value {
        Value::Map(_) => v
            .get("critical")
            .or_else(|| v.get("target"))
            .and_then(Node::scalar_text)
            .unwrap_or_default(),
        _ => v.scalar_text().unwrap_or_default(),
    };
    unit_of(&text)
}

/// Whether a `{ target, critical }` of `dropped` mixes units (`1` and
/// `5/s`): each value says its unit, and both must say the same.
fn mixed_units(v: &Node) -> bool {
    let unit = |key: &str| v.get(key).and_then(Node::scalar_text).map(|t| unit_of(&t));
    matches!((unit("target"), unit("critical")), (Some(a), Some(b)) if a != b)
}

fn unit_of(text: &str) -> DropUnit {
    if text.trim().ends_with('%') {
        DropUnit::Share
    } else if text.contains('/') {
        DropUnit::PerSecond
    } else {
        DropUnit::Count
    }
}

fn count(text: &str) -> Result<f64, units::UnitError> {
    text.trim()
        .parse::<u64>()
        .map(|n| n as f64)
        .map_err(|_| units::UnitError::Count(text.to_string()))
}

fn secs(text: &str) -> Result<f64, units::UnitError> {
    units::parse_duration(text).map(|d| d.as_secs_f64())
}

/// A bare value is a critical bound; `{ target, critical }` gives both, and
/// the target must be at least as strict as the critical bound.
fn read_threshold(
    r: &mut Reader,
    node: &Node,
    what: &str,
    metric: SloMetric,
    parse: fn(&str) -> Result<f64, units::UnitError>,
) -> Option<(Threshold, Live)> {
    if let Value::Map(_) = node.value {
        let m = r.map(node, &format!("the bound of `{what}`"), &BOUND_KEYS)?;
        let target = m.get("target").and_then(|n| r.unit(n, "`target`", parse));
        let critical = m
            .get("critical")
            .and_then(|n| r.unit(n, "`critical`", parse));
        let abort = m
            .get("abort")
            .and_then(|n| r.boolean(n, "`abort`"))
            .unwrap_or(false);
        let after = m.get("after").and_then(|n| r.duration(n, "`after`"));
        if abort && critical.is_none() && m.get("critical").is_none() {
            r.error_help(
                code::MISSING_KEY,
                m.key("abort").map_or(node.span, |k| k.span),
                format!("`abort` on `{what}` needs a `critical` bound"),
                "the test stops as soon as the critical bound is crossed: add `critical: …`",
            );
            return None;
        }
        let live = Live { abort, after };
        if target.is_none() && critical.is_none() && !m.has("target") && !m.has("critical") {
            r.error(
                code::MISSING_KEY,
                node.span,
                format!("the bound of `{what}` needs `target`, `critical`, or both"),
            );
            return None;
        }
        if let (Some(t), Some(c)) = (target, critical) {
            let higher = metric.higher_is_better();
            if (higher && t < c) || (!higher && t > c) {
                let (stricter, looser) = if higher {
                    ("higher", "lower")
                } else {
                    ("lower", "higher")
                };
                let text = |key: &str| m.get(key).and_then(Node::scalar_text).unwrap_or_default();
                r.error_help(
                    code::BAD_VALUE,
                    node.span,
                    format!(
                        "the `target` of `{what}` ({}) is looser than its `critical` bound ({}): it would never warn before failing",
                        text("target"),
                        text("critical")
                    ),
                    format!("the target is the goal, the critical bound the limit: make the target {stricter} than (or equal to) the critical bound, or the critical bound {looser}; swap them if they are the wrong way round"),
                );
                return None;
            }
        }
        Some((Threshold { target, critical }, live))
    } else {
        let critical = r.unit(node, &format!("`{what}`"), parse)?;
        Some((
            Threshold {
                target: None,
                critical: Some(critical),
            },
            Live::default(),
        ))
    }
}
