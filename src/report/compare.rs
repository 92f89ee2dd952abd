//! Comparing two runs: per step, the change in p50, p95, p99, error rate and
//! throughput, and which changes are regressions beyond the thresholds
//! (`--fail-on p95:+10%`). Used by `trek compare`, and by the Markdown and
//! HTML reports when a baseline is given.

use serde::Serialize;

use super::results::{Results, StepResult};

/// A step's figures in one run.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Figures {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub error_rate: f64,
    pub throughput: f64,
    /// Requests measured.
    pub count: u64,
}

impl Figures {
    fn of(s: &StepResult) -> Self {
        Self {
            p50: s.latency.p50,
            p95: s.latency.p95,
            p99: s.latency.p99,
            error_rate: s.error_rate,
            throughput: s.throughput,
            count: s.latency.count,
        }
    }

    fn get(&self, m: Metric) -> f64 {
        match m {
            Metric::P50 => self.p50,
            Metric::P95 => self.p95,
            Metric::P99 => self.p99,
            Metric::ErrorRate => self.error_rate,
            Metric::Throughput => self.throughput,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    P50,
    P95,
    P99,
    ErrorRate,
    Throughput,
}

impl Metric {
    pub const ALL: [Metric; 5] = [
        Metric::P50,
        Metric::P95,
        Metric::P99,
        Metric::ErrorRate,
        Metric::Throughput,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Metric::P50 => "p50",
            Metric::P95 => "p95",
            Metric::P99 => "p99",
            Metric::ErrorRate => "error_rate",
            Metric::Throughput => "throughput",
        }
    }

    fn is_time(self) -> bool {
        matches!(self, Metric::P50 | Metric::P95 | Metric::P99)
    }

    /// Samples needed before a change of this percentile means anything:
    /// ten beyond it (p95: 200, p99: 1,000). With fewer, a percentile is
    /// one of the last few samples and moves with chance.
    pub fn samples_needed(self) -> u64 {
        match self {
            Metric::P50 => 20,
            Metric::P95 => 200,
            Metric::P99 => 1000,
            _ => 0,
        }
    }
}

/// When a change is a regression: `p95:+10%` (relative), `p99:+50ms`
/// (absolute), `error_rate:+1%` (percentage points), `throughput:-10%`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Threshold {
    pub metric: Metric,
    /// Relative limit (0.10 for 10%), for times and throughput.
    pub relative: Option<f64>,
    /// Absolute limit: seconds for times, a share for the error rate.
    pub absolute: Option<f64>,
    pub text: String,
}

/// Time changes smaller than this are never regressions: on a fast
/// endpoint, 1.0 ms → 1.2 ms is +20% but only noise.
pub const MIN_TIME_CHANGE: f64 = 0.001;

/// The thresholds used when none are given.
pub fn default_thresholds() -> Vec<Threshold> {
    ["p95:+10%", "p99:+20%", "error_rate:+1%", "throughput:-10%"]
        .iter()
        .filter_map(|t| parse_threshold(t).ok())
        .collect()
}

pub fn parse_threshold(text: &str) -> Result<Threshold, String> {
    let bad = || {
        format!("`{text}` is not a threshold; write METRIC:CHANGE, e.g. `p95:+10%`, `p99:+50ms`, `error_rate:+1%`, `throughput:-10%` (metrics: p50, p95, p99, error_rate, throughput)")
    };
    let (name, change) = text.split_once(':').ok_or_else(bad)?;
    let metric = Metric::ALL
        .into_iter()
        .find(|m| m.key() == name.trim())
        .ok_or_else(bad)?;
    let change = change.trim();
    let sign = match change.chars().next() {
        Some('+') => 1.0,
        Some('-') => -1.0,
        _ => return Err(bad()),
    };
    let body = &change[1..];
    if (metric == Metric::Throughput) != (sign < 0.0) {
        return Err(format!(
            "`{text}`: {}",
            if metric == Metric::Throughput {
                "throughput regresses when it falls: write `throughput:-10%`"
            } else {
                "this metric regresses when it rises: write a `+` change"
            }
        ));
    }
    let mut t = Threshold {
        metric,
        relative: None,
        absolute: None,
        text: text.trim().to_string(),
    };
    if let Some(p) = body.strip_suffix('%') {
        let v: f64 = p.trim().parse().map_err(|_| bad())?;
        if !v.is_finite() || v < 0.0 {
            return Err(bad());
        }
        if metric == Metric::ErrorRate {
            t.absolute = Some(v / 100.0);
        } else {
            t.relative = Some(v / 100.0);
        }
    } else if metric.is_time() {
        let d = crate::scenario::units::parse_duration(body).map_err(|_| bad())?;
        t.absolute = Some(d.as_secs_f64());
    } else {
        return Err(bad());
    }
    Ok(t)
}

/// One metric of one step, compared.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub metric: Metric,
    pub base: f64,
    pub new: f64,
    /// Relative change (0.25 for +25%); `None` when the base is zero.
    pub relative: Option<f64>,
    /// The threshold this change broke.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regression: Option<String>,
    /// Too few samples for this percentile to be compared: never a
    /// regression.
    pub few_samples: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepChange {
    pub scenario: String,
    pub name: String,
    pub base: Option<Figures>,
    pub new: Option<Figures>,
    pub changes: Vec<Change>,
}

impl StepChange {
    pub fn regressions(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.regression.is_some())
    }

    /// How bad the worst regression is, for ordering.
    pub fn worst(&self) -> f64 {
        self.regressions()
            .map(|c| c.relative.unwrap_or(f64::INFINITY).abs())
            .fold(0.0, f64::max)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub base_file: String,
    pub base_started_at: String,
    pub new_file: String,
    pub new_started_at: String,
    pub thresholds: Vec<String>,
    pub steps: Vec<StepChange>,
    pub regressions: usize,
}

impl Comparison {
    /// Steps with a regression, worst first.
    pub fn regressed(&self) -> Vec<&StepChange> {
        let mut v: Vec<&StepChange> = self
            .steps
            .iter()
            .filter(|s| s.regressions().next().is_some())
            .collect();
        v.sort_by(|a, b| b.worst().total_cmp(&a.worst()));
        v
    }
}

/// Compares `new` with `base`, step by step (matched by scenario and name).
pub fn compare(base: &Results, new: &Results, thresholds: &[Threshold]) -> Comparison {
    let mut steps = Vec::new();
    for n in &new.steps {
        let b = base
            .steps
            .iter()
            .find(|b| b.scenario == n.scenario && b.name == n.name);
        let nf = Figures::of(n);
        let bf = b.map(Figures::of);
        let changes = match bf {
            Some(bf) => Metric::ALL
                .into_iter()
                .map(|m| {
                    let mut c = change(m, bf.get(m), nf.get(m), thresholds);
                    if bf.count.min(nf.count) < m.samples_needed() {
                        c.few_samples = true;
                        c.regression = None;
                    }
                    c
                })
                .collect(),
            None => Vec::new(),
        };
        steps.push(StepChange {
            scenario: n.scenario.clone(),
            name: n.name.clone(),
            base: bf,
            new: Some(nf),
            changes,
        });
    }
    for b in &base.steps {
        if !new
            .steps
            .iter()
            .any(|n| n.scenario == b.scenario && n.name == b.name)
        {
            steps.push(StepChange {
                scenario: b.scenario.clone(),
                name: b.name.clone(),
                base: Some(Figures::of(b)),
                new: None,
                changes: Vec::new(),
            });
        }
    }
    let regressions = steps.iter().map(|s| s.regressions().count()).sum();
    Comparison {
        base_file: base.file.clone(),
        base_started_at: base.started_at.clone(),
        new_file: new.file.clone(),
        new_started_at: new.started_at.clone(),
        thresholds: thresholds.iter().map(|t| t.text.clone()).collect(),
        steps,
        regressions,
    }
}

fn change(metric: Metric, base: f64, new: f64, thresholds: &[Threshold]) -> Change {
    let relative = (base != 0.0).then(|| (new - base) / base);
    let delta = new - base;
    let regression = thresholds
        .iter()
        .filter(|t| t.metric == metric)
        .find(|t| {
            let relative_broken = t.relative.is_some_and(|limit| match metric {
                Metric::Throughput => relative.is_some_and(|r| r < -limit),
                _ => relative.map_or(delta > 0.0, |r| r > limit),
            });
            let absolute_broken = t.absolute.is_some_and(|limit| delta > limit);
            let noise = metric.is_time() && delta.abs() < MIN_TIME_CHANGE;
            (relative_broken || absolute_broken) && !noise
        })
        .map(|t| t.text.clone());
    Change {
        metric,
        base,
        new,
        relative,
        regression,
        few_samples: false,
    }
}

/// `+12.5%`, or `new` when the base was zero; `~` marks a percentile with
/// too few samples to judge.
pub fn percent(c: &Change) -> String {
    let text = percent_only(c);
    if c.few_samples {
        format!("~{text}")
    } else {
        text
    }
}

fn percent_only(c: &Change) -> String {
    match c.relative {
        Some(r) => format!("{:+.1}%", r * 100.0),
        None if c.new == 0.0 => "±0%".into(),
        None => "new".into(),
    }
}

/// A value of a metric for people: `120ms`, `1.2%`, `45.0/s`.
pub fn show(metric: Metric, v: f64) -> String {
    match metric {
        Metric::ErrorRate => super::console::value("error_rate", None, v),
        Metric::Throughput => format!("{v:.1}/s"),
        _ => crate::scenario::units::format_secs(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_parse_and_refuse_nonsense() {
        let t = parse_threshold("p95:+10%").unwrap();
        assert_eq!((t.metric, t.relative), (Metric::P95, Some(0.10)));
        let t = parse_threshold("p99:+50ms").unwrap();
        assert_eq!(t.absolute, Some(0.05));
        let t = parse_threshold("error_rate:+1%").unwrap();
        assert_eq!(t.absolute, Some(0.01));
        assert!(parse_threshold("throughput:-10%").is_ok());
        assert!(parse_threshold("throughput:+10%").is_err());
        assert!(parse_threshold("p95:-10%").is_err());
        assert!(parse_threshold("p42:+1%").is_err());
        assert!(parse_threshold("p95").is_err());
        assert!(parse_threshold("p95:+-10%").is_err());
        assert!(parse_threshold("p95:+NaN%").is_err());
    }

    #[test]
    fn a_change_is_a_regression_only_beyond_its_threshold_and_the_noise_floor() {
        let t = [
            parse_threshold("p95:+10%").unwrap(),
            parse_threshold("throughput:-10%").unwrap(),
        ];
        assert!(change(Metric::P95, 0.100, 0.125, &t).regression.is_some());
        assert!(change(Metric::P95, 0.100, 0.105, &t).regression.is_none());
        // +50% but half a millisecond: noise.
        assert!(change(Metric::P95, 0.001, 0.0015, &t).regression.is_none());
        assert!(change(Metric::Throughput, 100.0, 80.0, &t)
            .regression
            .is_some());
        assert!(change(Metric::Throughput, 100.0, 120.0, &t)
            .regression
            .is_none());
        // No threshold on p50: never a regression.
        assert!(change(Metric::P50, 0.1, 1.0, &t).regression.is_none());
    }
}
