//! HDR histograms of times in microseconds, and their summary statistics in
//! seconds.

use hdrhistogram::Histogram;
use serde::Serialize;

/// Largest recordable time: one hour (longer values are clamped).
const MAX_US: u64 = 3_600_000_000;

/// A latency histogram: 1 µs resolution, 3 significant digits (0.1%).
pub fn new_hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, 3).expect("static histogram bounds")
}

/// A coarser histogram for per-second timelines: 2 significant digits (1%).
pub fn new_coarse_hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, 2).expect("static histogram bounds")
}

pub fn record(h: &mut Histogram<u64>, micros: u64) {
    h.saturating_record(micros.clamp(1, MAX_US));
}

/// Adds `other` into `into` (bounds are equal by construction).
pub fn merge(into: &mut Histogram<u64>, other: &Histogram<u64>) {
    if let Err(e) = into.add(other) {
        // Only possible if bounds differed; keep the data we have.
        eprintln!("trek: internal: histogram merge failed: {e}");
    }
}

/// The percentiles at which a distribution is kept in results.json: even
/// steps in the body, dense in the tail, where latency problems live.
pub const CURVE: [f64; 27] = [
    0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 75.0, 80.0, 85.0, 90.0, 92.5, 95.0, 96.0, 97.0,
    98.0, 98.5, 99.0, 99.5, 99.75, 99.9, 99.95, 99.99, 99.995, 99.999, 100.0,
];

/// `[percentile, seconds]` at each of [`CURVE`]; empty when nothing was
/// recorded.
pub fn curve(h: &Histogram<u64>) -> Vec<[f64; 2]> {
    if h.is_empty() {
        return Vec::new();
    }
    CURVE
        .iter()
        .map(|p| [*p, h.value_at_quantile(p / 100.0) as f64 / 1e6])
        .collect()
}

/// `h` in HdrHistogram's V2 compressed format (the standard, deflated
/// encoding), in base64: how results.json keeps each step's histogram, so
/// that a later comparison reads exact order statistics. `None` when
/// nothing was recorded.
pub fn encode(h: &Histogram<u64>) -> Option<String> {
    use base64::Engine;
    use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
    if h.is_empty() {
        return None;
    }
    let mut bytes = Vec::new();
    match V2DeflateSerializer::new().serialize(h, &mut bytes) {
        Ok(_) => Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
        Err(e) => {
            eprintln!("trek: internal: cannot encode a histogram: {e}");
            None
        }
    }
}

/// Reads back what [`encode`] wrote (or any V2 histogram, compressed or not).
pub fn decode(text: &str) -> Result<Histogram<u64>, String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| format!("not base64: {e}"))?;
    hdrhistogram::serialization::Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("not an HdrHistogram: {e}"))
}

/// The `rank`-th smallest recorded value (1-based, clamped to the count),
/// reported as [`Histogram::value_at_quantile`] reports percentiles: as the
/// highest value equivalent to it. Percentiles and ranks of one histogram
/// therefore agree, and two samples in the same bucket read the same.
pub fn value_at_rank(h: &Histogram<u64>, rank: u64) -> u64 {
    let rank = rank.clamp(1, h.len().max(1));
    let mut seen = 0;
    let mut last = 0;
    for v in h.iter_recorded() {
        seen += v.count_at_value();
        last = v.value_iterated_to();
        if seen >= rank {
            break;
        }
    }
    last
}

/// Summary statistics of a histogram, in seconds.
#[derive(
    Debug, Clone, Copy, Default, Serialize, serde::Deserialize, PartialEq, schemars::JsonSchema,
)]
pub struct Stats {
    pub count: u64,
    pub min: f64,
    pub avg: f64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    #[serde(rename = "p99.9")]
    pub p999: f64,
    pub max: f64,
}

impl Stats {
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        let s = |us: u64| us as f64 / 1e6;
        Self {
            count: h.len(),
            min: s(h.min()),
            avg: h.mean() / 1e6,
            p50: s(h.value_at_quantile(0.50)),
            p90: s(h.value_at_quantile(0.90)),
            p95: s(h.value_at_quantile(0.95)),
            p99: s(h.value_at_quantile(0.99)),
            p999: s(h.value_at_quantile(0.999)),
            max: s(h.max()),
        }
    }

    pub fn get(&self, stat: crate::scenario::model::Stat) -> f64 {
        use crate::scenario::model::Stat as S;
        match stat {
            S::Min => self.min,
            S::Avg => self.avg,
            S::Max => self.max,
            S::P50 => self.p50,
            S::P90 => self.p90,
            S::P95 => self.p95,
            S::P99 => self.p99,
            S::P999 => self.p999,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_are_in_seconds_with_microsecond_resolution() {
        let mut h = new_hist();
        for us in 1..=1000 {
            record(&mut h, us * 1000); // 1 ms .. 1 s
        }
        let s = Stats::of(&h);
        assert_eq!(s.count, 1000);
        assert!((s.min - 0.001).abs() < 1e-6);
        assert!((s.p50 - 0.5).abs() < 0.001, "{}", s.p50);
        assert!((s.p99 - 0.99).abs() < 0.001, "{}", s.p99);
        assert!((s.max - 1.0).abs() < 0.001);
        let mut other = new_hist();
        record(&mut other, 5_000_000);
        merge(&mut h, &other);
        assert!((Stats::of(&h).max - 5.0).abs() < 0.01);
    }

    #[test]
    fn a_histogram_survives_encoding_and_ranks_agree_with_percentiles() {
        assert_eq!(encode(&new_hist()), None);
        let mut h = new_hist();
        for us in 1..=1000 {
            record(&mut h, us * 1000);
        }
        let back = decode(&encode(&h).unwrap()).unwrap();
        assert_eq!(back, h);
        assert_eq!(value_at_rank(&h, 950), h.value_at_quantile(0.95));
        assert_eq!(value_at_rank(&h, 1), h.value_at_quantile(0.001));
        assert_eq!(value_at_rank(&h, 5000), h.value_at_quantile(1.0));
        assert!(decode("not a histogram").is_err());
        assert!(decode("AAAA").is_err());
    }
}
