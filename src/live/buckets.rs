//! Times in fixed Prometheus histogram buckets: 60 bounds from 100 µs to 60
//! s, each 25% above the one before (plus `+Inf`), so that
//! `histogram_quantile` over them is within 25% of the truth, and the
//! same bounds in every part of a split test add up.

use crate::metrics::hist::Hist;

/// How many finite bounds.
pub const COUNT: usize = 60;
const FIRST: f64 = 1e-4;
const FACTOR: f64 = 1.25;

/// The finite upper bounds, in seconds.
pub fn bounds() -> &'static [f64; COUNT] {
    static BOUNDS: std::sync::OnceLock<[f64; COUNT]> = std::sync::OnceLock::new();
    BOUNDS.get_or_init(|| {
        let mut b = [0.0; COUNT];
        let mut v = FIRST;
        for slot in &mut b {
            // Rounded to 6 significant digits: readable `le` labels.
            *slot = format!("{v:.6e}").parse().unwrap_or(v);
            v *= FACTOR;
        }
        b
    })
}

/// Counts per bucket (not cumulative; the last is `+Inf`), the sum of the
/// values (seconds) and their count.
#[derive(Debug, Clone, PartialEq)]
pub struct Buckets {
    pub counts: [u64; COUNT + 1],
    pub sum: f64,
    pub count: u64,
}

impl Default for Buckets {
    fn default() -> Self {
        Self {
            counts: [0; COUNT + 1],
            sum: 0.0,
            count: 0,
        }
    }
}

impl Buckets {
    /// Adds every value of an HDR histogram (microseconds).
    pub fn add(&mut self, h: &Hist) {
        let Some(h) = h.get() else { return };
        let bounds = bounds();
        for v in h.iter_recorded() {
            let n = v.count_at_value();
            let secs = v.value_iterated_to() as f64 / 1e6;
            let i = bounds.partition_point(|b| *b < secs);
            self.counts[i] += n;
        }
        self.count += h.len();
        self.sum += h.mean() * h.len() as f64 / 1e6;
    }

    /// `(upper bound, count)` pairs as the encoder wants them.
    pub fn pairs(&self) -> Vec<(f64, u64)> {
        bounds()
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .zip(self.counts.iter().copied())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_land_in_the_bucket_whose_bound_is_the_first_at_or_above() {
        let b = bounds();
        assert_eq!(b[0], 1e-4);
        assert!((b[COUNT - 1] - 1e-4 * 1.25f64.powi(59)).abs() / b[COUNT - 1] < 1e-5);
        assert!(b[COUNT - 1] > 50.0 && b[COUNT - 1] < 70.0);
        let mut h = Hist::default();
        h.record(50); // 50 µs: the first bucket
        h.record(1_000); // 1 ms
        h.record(3_600_000_000); // an hour: +Inf
        let mut buckets = Buckets::default();
        buckets.add(&h);
        assert_eq!(buckets.count, 3);
        assert_eq!(buckets.counts[0], 1);
        assert_eq!(buckets.counts[COUNT], 1);
        let ms = b.iter().position(|x| *x >= 0.001).unwrap();
        assert_eq!(buckets.counts[ms], 1);
        assert_eq!(buckets.pairs().len(), COUNT + 1);
        assert_eq!(buckets.pairs().iter().map(|p| p.1).sum::<u64>(), 3);
    }
}
