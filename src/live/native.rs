//! Times as a Prometheus native (exponential) histogram, for remote write:
//! schema 3, so each bucket's upper bound is 2^(1/8) ≈ 1.09 times the one
//! before and a quantile read from them is within 4.5% of the truth
//! (the fixed buckets of the scrape are 25% wide). Only the buckets that
//! hold values are kept.

use std::collections::BTreeMap;

use crate::metrics::hist::Hist;

/// The resolution: bucket bounds grow by 2^(2^-SCHEMA).
pub const SCHEMA: i32 = 3;

/// Counts by bucket index (bucket `i` holds values in
/// (2^((i-1)/8), 2^(i/8)] seconds), values of zero apart, their sum
/// (seconds) and count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Native {
    pub zero_count: u64,
    pub buckets: BTreeMap<i32, u64>,
    pub sum: f64,
    pub count: u64,
}

/// The index of the bucket holding `secs` (> 0).
pub fn index(secs: f64) -> i32 {
    let scale = f64::from(1 << SCHEMA);
    let mut i = (secs.log2() * scale).ceil() as i32;
    // The logarithm may land a hair off a bound: keep (lower, upper].
    let upper = |i: i32| 2f64.powf(f64::from(i) / scale);
    if secs > upper(i) {
        i += 1;
    } else if secs <= upper(i - 1) {
        i -= 1;
    }
    i
}

impl Native {
    /// Adds every value of an HDR histogram (microseconds).
    pub fn add(&mut self, h: &Hist) {
        let Some(h) = h.get() else { return };
        for v in h.iter_recorded() {
            let n = v.count_at_value();
            let us = v.value_iterated_to();
            if us == 0 {
                self.zero_count += n;
            } else {
                *self.buckets.entry(index(us as f64 / 1e6)).or_default() += n;
            }
        }
        self.count += h.len();
        self.sum += h.mean() * h.len() as f64 / 1e6;
    }

    /// The buckets as Prometheus sends them: spans of consecutive indexes
    /// (`(offset from the previous span's end, length)`, the first offset
    /// absolute) and each count as the difference from the one before.
    pub fn spans_and_deltas(&self) -> (Vec<(i32, u32)>, Vec<i64>) {
        let mut spans: Vec<(i32, u32)> = Vec::new();
        let mut deltas = Vec::with_capacity(self.buckets.len());
        let mut next: Option<i32> = None;
        let mut previous = 0i64;
        for (&i, &n) in &self.buckets {
            match next {
                Some(end) if end == i => {
                    if let Some(last) = spans.last_mut() {
                        last.1 += 1;
                    }
                }
                Some(end) => spans.push((i - end, 1)),
                None => spans.push((i, 1)),
            }
            next = Some(i + 1);
            deltas.push(n as i64 - previous);
            previous = n as i64;
        }
        (spans, deltas)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_land_in_the_bucket_whose_upper_bound_is_the_first_at_or_above() {
        assert_eq!(index(1.0), 0);
        assert_eq!(index(2.0), 8);
        assert_eq!(index(0.5), -8);
        assert_eq!(index(1.0001), 1);
        assert_eq!(index(2f64.powf(1.0 / 8.0)), 1);
        // 1 ms: 2^-9.97 → bucket -79 holds (2^(-80/8), 2^(-79/8)].
        let i = index(0.001);
        let upper = 2f64.powf(f64::from(i) / 8.0);
        let lower = 2f64.powf(f64::from(i - 1) / 8.0);
        assert!(lower < 0.001 && 0.001 <= upper, "{lower} {upper}");
    }

    #[test]
    fn spans_cover_runs_of_buckets_and_counts_are_deltas() {
        let mut h = Hist::default();
        for us in [900_000, 900_000, 1_100_000, 3_900_000] {
            h.record(us);
        }
        let mut n = Native::default();
        n.add(&h);
        assert_eq!(n.zero_count, 0);
        assert_eq!(n.count, 4);
        // 0.9 s → -1, 1.1 s → 2 (2^(1/8)=1.09 < 1.1 ≤ 2^(2/8)), 3.9 s → 16.
        assert_eq!(n.buckets.keys().copied().collect::<Vec<_>>(), [-1, 2, 16]);
        let (spans, deltas) = n.spans_and_deltas();
        assert_eq!(spans, [(-1, 1), (2, 1), (13, 1)]);
        assert_eq!(deltas, [2, -1, 0]);
        assert!((n.sum - 6.8).abs() < 0.01, "{}", n.sum);
    }
}
