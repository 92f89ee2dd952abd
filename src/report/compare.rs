//! Comparing two runs: per step, the change in p50, p95, p99, error rate and
//! throughput, and which changes are regressions beyond the thresholds
//! (`--fail-on p95:+10%`). Used by `trek compare`, and by the Markdown and
//! HTML reports when a baseline is given.
//!
//! A percentile's change counts only when it is significant: each run gets
//! a distribution-free 95% confidence interval of the percentile, read from
//! its order statistics, and the new run's interval must lie wholly above
//! the base run's. Two runs of an unchanged service differ by chance, the
//! more so in the tail and with few samples; the intervals widen
//! accordingly, so the only count required is two samples per run (one
//! sample gives no interval at all).

use serde::Serialize;

use super::results::{Results, StepResult};
use crate::metrics::hist;
use crate::metrics::quantile::Distribution;

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
        self.quantile().is_some()
    }

    /// The quantile a percentile stands for (p95: 0.95).
    pub fn quantile(self) -> Option<f64> {
        match self {
            Metric::P50 => Some(0.50),
            Metric::P95 => Some(0.95),
            Metric::P99 => Some(0.99),
            _ => None,
        }
    }
}

/// A step's latency as a comparison reads it: its histogram, or (in a
/// results.json written before trek kept histograms) its percentile curve.
fn distribution(s: &StepResult) -> Option<Distribution<'_>> {
    if let Some(text) = &s.histogram {
        match hist::decode(text) {
            Ok(h) if !h.is_empty() => return Some(Distribution::Histogram(h)),
            Ok(_) => {}
            Err(e) => eprintln!(
                "trek: {}/{}: cannot read the histogram ({e}); comparing its percentile curve instead",
                s.scenario, s.name
            ),
        }
    }
    (s.latency.count > 0 && !s.distribution.is_empty())
        .then(|| Distribution::Curve(&s.distribution, s.latency.count))
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

/// A `--fail-on` threshold that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdError {
    #[error("`{0}` is not a threshold; write METRIC:CHANGE, e.g. `p95:+10%`, `p99:+50ms`, `error_rate:+1%`, `throughput:-10%` (metrics: p50, p95, p99, error_rate, throughput)")]
    Form(String),
    #[error("`{0}`: throughput regresses when it falls: write `throughput:-10%`")]
    ThroughputFalls(String),
    #[error("`{0}`: this metric regresses when it rises: write a `+` change")]
    Rises(String),
}

pub fn parse_threshold(text: &str) -> Result<Threshold, ThresholdError> {
    let bad = || ThresholdError::Form(text.to_string());
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
        return Err(if metric == Metric::Throughput {
            ThresholdError::ThroughputFalls(text.to_string())
        } else {
            ThresholdError::Rises(text.to_string())
        });
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
    /// The threshold this change broke (significantly, for a percentile).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regression: Option<String>,
    /// A percentile: the base run's 95% confidence interval of it,
    /// `[low, high]` in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_interval: Option<[f64; 2]>,
    /// A percentile: the new run's 95% confidence interval of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_interval: Option<[f64; 2]>,
    /// A percentile: whether the two intervals are apart, so that the
    /// change is more than chance; `None` when a run has fewer than two
    /// samples.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub significant: Option<bool>,
    /// The threshold that the change broke although it was not significant:
    /// not a regression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_significant: Option<String>,
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
        let changes = match b {
            Some(b) => step_changes(b, n, thresholds),
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

/// Every metric of a step present in both runs, compared.
fn step_changes(base: &StepResult, new: &StepResult, thresholds: &[Threshold]) -> Vec<Change> {
    let (bf, nf) = (Figures::of(base), Figures::of(new));
    let (bl, nl) = (distribution(base), distribution(new));
    let interval = |d: &Option<Distribution>, q| d.as_ref().and_then(|d| d.interval(q));
    Metric::ALL
        .into_iter()
        .map(|m| {
            let mut c = change(m, bf.get(m), nf.get(m), thresholds);
            if let Some(q) = m.quantile() {
                judge(&mut c, interval(&bl, q), interval(&nl, q));
            }
            c
        })
        .collect()
}

/// Keeps a percentile's regression only when the new run's interval lies
/// wholly above the base run's; without both intervals, there is none.
fn judge(c: &mut Change, base: Option<[f64; 2]>, new: Option<[f64; 2]>) {
    c.base_interval = base;
    c.new_interval = new;
    let (higher, significant) = match (base, new) {
        (Some([b_low, b_high]), Some([n_low, n_high])) => {
            (n_low > b_high, Some(n_low > b_high || n_high < b_low))
        }
        _ => (false, None),
    };
    c.significant = significant;
    if !higher {
        let broken = c.regression.take();
        if significant.is_some() {
            c.not_significant = broken;
        }
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
        base_interval: None,
        new_interval: None,
        significant: None,
        not_significant: None,
    }
}

/// `+12.5%`, or `new` when the base was zero; a percentile whose runs'
/// intervals overlap adds `(not significant)`, one that a run has fewer
/// than two samples of `(not judged)`.
pub fn percent(c: &Change) -> String {
    let text = percent_only(c);
    match c.significant {
        Some(false) => format!("{text} (not significant)"),
        None if c.metric.is_time() => format!("{text} (not judged)"),
        _ => text,
    }
}

/// The change alone: `+12.5%`, `new`, `±0%`.
pub fn percent_only(c: &Change) -> String {
    match c.relative {
        Some(r) => format!("{:+.1}%", r * 100.0),
        None if c.new == 0.0 => "±0%".into(),
        None => "new".into(),
    }
}

/// A value of a metric for people: `120ms`, `1.2%`, `45.0/s`.
pub fn show(metric: Metric, v: f64) -> String {
    match metric {
        Metric::ErrorRate => crate::format::value("error_rate", None, v),
        Metric::Throughput => format!("{v:.1}/s"),
        _ => crate::format::format_secs(v),
    }
}

/// `198.2ms` → (`198.2`, `ms`); `None` when the text is no number and a
/// unit.
fn split_unit(text: &str) -> Option<(&str, &str)> {
    let number = text.trim_end_matches(|c: char| c.is_alphabetic());
    number
        .parse::<f64>()
        .is_ok()
        .then(|| text.split_at(number.len()))
}

/// A value with its confidence interval, when it has one:
/// `200ms [198.2–203.1ms]`.
pub fn show_with(metric: Metric, v: f64, interval: Option<[f64; 2]>) -> String {
    let value = show(metric, v);
    let Some([low, high]) = interval else {
        return value;
    };
    let (low, high) = (show(metric, low), show(metric, high));
    // One unit for both bounds when they share it: `[198.2–203.1ms]`.
    let low = match (split_unit(&low), split_unit(&high)) {
        (Some((number, unit)), Some((_, other))) if unit == other => number.to_string(),
        _ => low,
    };
    format!("{value} [{low}–{high}]")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Stats;

    /// A step whose requests took `micros`; with its histogram, or (as in
    /// older results.json files) only its percentile curve.
    fn step(micros: &[u64], with_histogram: bool) -> StepResult {
        let mut h = hist::Hist::default();
        for us in micros {
            h.record(*us);
        }
        let stats = Stats::of(&h);
        let count = micros.len() as u64;
        StepResult {
            scenario: "journey".into(),
            phase: "iteration".into(),
            name: "get".into(),
            kind: "http".into(),
            count,
            failures: 0,
            error_rate: 0.0,
            throughput: count as f64,
            failure_reasons: Default::default(),
            failure_examples: Default::default(),
            checks_passed: 0,
            checks_failed: 0,
            bytes_sent: 0,
            bytes_received: 0,
            events: 0,
            gap: Stats::default(),
            connect: Stats::default(),
            receive: Stats::default(),
            latency: stats,
            service_time: stats,
            first_byte: stats,
            distribution: hist::curve(&h),
            histogram: if with_histogram {
                hist::encode(&h)
            } else {
                None
            },
        }
    }

    fn p95(base: &StepResult, new: &StepResult, threshold: &str) -> Change {
        let t = [parse_threshold(threshold).unwrap()];
        step_changes(base, new, &t)
            .into_iter()
            .find(|c| c.metric == Metric::P95)
            .unwrap()
    }

    /// `n` latencies in µs: 20 ms plus an exponential tail of mean 30 ms,
    /// from a fixed seed (splitmix64, so the data never changes).
    fn spread(seed: u64, n: usize) -> Vec<u64> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = x;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                z ^= z >> 31;
                let u = (z >> 11) as f64 / (1u64 << 53) as f64;
                (20_000.0 - (1.0 - u).ln() * 30_000.0).round() as u64
            })
            .collect()
    }

    #[test]
    fn ten_requests_twice_as_slow_are_a_significant_regression() {
        for with_histogram in [true, false] {
            let base = step(&[200_000; 10], with_histogram);
            let new = step(&[400_000; 10], with_histogram);
            let c = p95(&base, &new, "p95:+10%");
            assert_eq!(c.regression.as_deref(), Some("p95:+10%"), "{c:?}");
            assert_eq!(c.significant, Some(true));
            let [b_low, b_high] = c.base_interval.unwrap();
            let [n_low, n_high] = c.new_interval.unwrap();
            assert_eq!(b_low, b_high);
            assert_eq!(n_low, n_high);
            assert!((b_high - 0.2).abs() < 0.001 && (n_low - 0.4).abs() < 0.001);
            assert_eq!(percent(&c), "+100.0%");
        }
    }

    #[test]
    fn an_unchanged_histogram_gives_identical_intervals() {
        for with_histogram in [true, false] {
            let s = step(&spread(7, 300), with_histogram);
            let c = p95(&s, &s, "p95:+10%");
            assert_eq!(c.base_interval, c.new_interval);
            assert!(c.base_interval.is_some());
            assert_eq!(c.significant, Some(false));
            assert_eq!(c.regression, None);
            assert_eq!(percent(&c), "+0.0% (not significant)");
        }
    }

    #[test]
    fn two_samples_of_one_distribution_are_not_significant_beyond_the_threshold() {
        // The same spread, two seeds: the raw p95 differs by +16%, beyond
        // the 10% threshold, but the 95% intervals overlap.
        let base = step(&spread(2, 500), true);
        let new = step(&spread(13, 500), true);
        let c = p95(&base, &new, "p95:+10%");
        assert!(c.relative.unwrap() > 0.10, "{c:?}");
        assert_eq!(c.regression, None, "{c:?}");
        assert_eq!(c.not_significant.as_deref(), Some("p95:+10%"));
        assert_eq!(c.significant, Some(false));
        assert!(percent(&c).ends_with("% (not significant)"));
        // The same data 30 ms slower is significant: the test has power.
        let slower: Vec<u64> = spread(13, 500).iter().map(|us| us + 30_000).collect();
        let c = p95(&base, &step(&slower, true), "p95:+10%");
        assert_eq!(c.regression.as_deref(), Some("p95:+10%"), "{c:?}");
    }

    #[test]
    fn without_a_histogram_the_interval_is_read_from_the_curve() {
        // 1 ms .. 1 s, evenly: p95's interval is about [936ms, 965ms].
        let even: Vec<u64> = (1..=1000).map(|ms| ms * 1000).collect();
        let exact = p95(&step(&even, true), &step(&even, true), "p95:+10%");
        let curve = p95(&step(&even, false), &step(&even, false), "p95:+10%");
        let ([e_low, e_high], [c_low, c_high]) =
            (exact.base_interval.unwrap(), curve.base_interval.unwrap());
        assert!((e_low - 0.936).abs() < 0.001 && (e_high - 0.965).abs() < 0.001);
        assert!((c_low - e_low).abs() < 0.002, "{c_low} vs {e_low}");
        assert!((c_high - e_high).abs() < 0.002, "{c_high} vs {e_high}");
        // A base with only a curve against a new run with a histogram.
        let base = step(&spread(2, 500), false);
        let c = p95(&base, &step(&spread(13, 500), true), "p95:+10%");
        assert!(
            c.relative.unwrap() > 0.10 && c.regression.is_none(),
            "{c:?}"
        );
        // Nothing measured, or a single request: not judged, never a
        // regression.
        let c = p95(&step(&[], true), &step(&[400_000; 10], true), "p95:+10%");
        assert_eq!((c.significant, &c.regression), (None, &None));
        assert_eq!(percent(&c), "new (not judged)");
        let c = p95(&step(&[200_000], true), &step(&[400_000], true), "p95:+10%");
        assert_eq!((c.significant, &c.regression), (None, &None));
        assert_eq!(c.not_significant, None);
        assert_eq!(percent(&c), "+100.0% (not judged)");
    }

    #[test]
    fn values_show_their_interval_in_one_unit() {
        let iv = Some([0.1982, 0.2031]);
        assert_eq!(show_with(Metric::P95, 0.2, iv), "200ms [198.2–203.1ms]");
        assert_eq!(
            show_with(Metric::P95, 0.98, Some([0.95, 1.2])),
            "980ms [950ms–1.2s]"
        );
        assert_eq!(show_with(Metric::Throughput, 45.0, None), "45.0/s");
    }

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
