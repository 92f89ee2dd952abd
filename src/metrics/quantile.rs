//! Confidence intervals of a quantile from measured latencies: which
//! ranks of the samples bound the true p95 (or any quantile) with 95%
//! confidence, read from an HDR histogram (exact) or a stored percentile
//! curve (interpolated). `trek compare` judges a percentile's change by
//! them.

use hdrhistogram::Histogram;

use super::hist;

/// z of a two-sided 95% confidence interval.
const Z: f64 = 1.96;

/// The ranks (1-based, within `1..=n`) that bound a distribution-free 95%
/// confidence interval of the `q` quantile among `n` samples. How many
/// samples fall below the true quantile is binomial(n, q); its normal
/// approximation gives `n·q ∓ z·sqrt(n·q·(1−q))`, rounded outwards (one more
/// rank above, as the upper order statistic must lie beyond the count).
///
/// With few samples the ranks are clamped to the smallest or largest
/// sample: the interval is then narrower than a true 95% interval, and
/// the test asks that the new run's tail lie above every sample of the
/// base (see docs/reports.md).
pub fn ranks(n: u64, q: f64) -> (u64, u64) {
    let nf = n as f64;
    let spread = Z * (nf * q * (1.0 - q)).sqrt();
    let clamp = |r: f64| (r.max(1.0) as u64).min(n.max(1));
    (
        clamp((nf * q - spread).floor()),
        clamp((nf * q + spread).ceil() + 1.0),
    )
}

/// A latency distribution as measured: exact, or only its curve.
pub enum Distribution<'a> {
    /// The full histogram: exact order statistics.
    Histogram(Histogram<u64>),
    /// Only the percentile curve (a results.json written before trek kept
    /// histograms), and the number of samples behind it.
    Curve(&'a [[f64; 2]], u64),
}

impl Distribution<'_> {
    /// The 95% confidence interval of the `q` quantile, `[low, high]` in
    /// seconds. `None` with fewer than two samples: one sample's "interval"
    /// is a single point, which holds the true percentile with probability
    /// zero, so there is nothing to judge by.
    pub fn interval(&self, q: f64) -> Option<[f64; 2]> {
        match self {
            Distribution::Histogram(h) if h.len() >= 2 => {
                let (l, u) = ranks(h.len(), q);
                let at = |rank| hist::value_at_rank(h, rank) as f64 / 1e6;
                Some([at(l), at(u)])
            }
            Distribution::Curve(curve, n) if *n >= 2 => {
                let (l, u) = ranks(*n, q);
                let at = |rank: u64| at_percentile(curve, 100.0 * rank as f64 / *n as f64);
                Some([at(l), at(u)])
            }
            _ => None,
        }
    }
}

/// The value of a `[percentile, seconds]` curve at percentile `p`, linear
/// between its points.
fn at_percentile(curve: &[[f64; 2]], p: f64) -> f64 {
    let i = curve.partition_point(|point| point[0] < p);
    let Some(&[p1, v1]) = curve.get(i) else {
        // Beyond the last point.
        return curve.last().map_or(0.0, |point| point[1]);
    };
    match i.checked_sub(1).map(|j| curve[j]) {
        Some([p0, v0]) if p1 > p && p1 > p0 => v0 + (v1 - v0) * (p - p0) / (p1 - p0),
        // At a point, or before the first.
        _ => v1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_bound_the_quantile_and_stay_within_the_samples() {
        assert_eq!(ranks(500, 0.95), (465, 486));
        assert_eq!(ranks(1000, 0.50), (469, 532));
        // Few samples: clamped to the largest.
        assert_eq!(ranks(10, 0.95), (8, 10));
        assert_eq!(ranks(1, 0.99), (1, 1));
    }
    #[test]
    fn the_curve_is_interpolated_between_its_points() {
        let curve = [[0.0, 0.010], [50.0, 0.020], [100.0, 0.040]];
        assert_eq!(at_percentile(&curve, 25.0), 0.015);
        assert_eq!(at_percentile(&curve, 50.0), 0.020);
        assert_eq!(at_percentile(&curve, 75.0), 0.030);
        assert_eq!(at_percentile(&curve, 100.0), 0.040);
        assert_eq!(at_percentile(&curve, 0.0), 0.010);
    }
}
