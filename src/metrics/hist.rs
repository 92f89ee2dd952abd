//! HDR histograms of times in microseconds, and their summary statistics in
//! seconds.
//!
//! A [`Hist`] allocates nothing until its first value and then only the
//! buckets up to the largest value seen, growing as larger ones come: a
//! step records only what its kind measures (an HTTP step has no stream
//! gaps, no WebSocket handshake), and a 200-step scenario on several workers
//! does not reserve a full hour-wide histogram for every figure of every
//! step on every worker.

use hdrhistogram::Histogram;
use serde::Serialize;

/// Largest recordable time: one hour (longer values are clamped).
const MAX_US: u64 = 3_600_000_000;

/// Significant digits of the per-step histograms (0.1%) and of the
/// per-second timeline (1%).
pub const FINE: u8 = 3;
pub const COARSE: u8 = 2;

/// A histogram of microseconds, allocated on first use and grown as needed.
#[derive(Debug, Clone)]
pub struct Hist {
    digits: u8,
    h: Option<Box<Histogram<u64>>>,
}

impl Default for Hist {
    fn default() -> Self {
        Self::new(FINE)
    }
}

impl Hist {
    pub const fn new(digits: u8) -> Self {
        Self { digits, h: None }
    }

    /// A per-second histogram (2 significant digits).
    pub const fn coarse() -> Self {
        Self::new(COARSE)
    }

    fn alloc(&mut self) -> &mut Histogram<u64> {
        let digits = self.digits;
        self.h.get_or_insert_with(|| {
            // Auto-resizing: the buckets cover 1 µs up to the largest value
            // recorded so far, not the whole hour.
            let mut h = Histogram::new_with_bounds(1, 2, digits).expect("static histogram bounds");
            h.auto(true);
            Box::new(h)
        })
    }

    pub fn record(&mut self, micros: u64) {
        // Not `saturating_record`: it would clamp to the current top instead
        // of growing. An auto-resizing histogram's `record` cannot fail for
        // values within 1 µs..1 h (counts saturate).
        let _ = self.alloc().record(micros.clamp(1, MAX_US));
    }

    /// Adds `other` into this one.
    pub fn merge(&mut self, other: &Hist) {
        if let Some(o) = other.get() {
            if let Err(e) = self.alloc().add(o) {
                // Cannot happen with auto-resizing histograms; keep what we have.
                debug_assert!(false, "histogram merge failed: {e}");
            }
        }
    }

    /// Takes `other` away from this one (`other` being what this one held
    /// earlier: each of its counts is at most this one's).
    pub fn subtract(&mut self, other: &Hist) {
        if let (Some(h), Some(o)) = (self.h.as_deref_mut(), other.get()) {
            if h.subtract(o).is_err() {
                debug_assert!(false, "histogram subtraction failed");
            }
        }
    }

    /// A histogram read back from its encoding, growing as it is added to.
    pub fn from_decoded(digits: u8, mut h: Histogram<u64>) -> Self {
        h.auto(true);
        Self {
            digits,
            h: Some(Box::new(h)),
        }
    }

    /// Adds a histogram read back from its encoding.
    pub fn add(&mut self, other: &Histogram<u64>) {
        if other.is_empty() {
            return;
        }
        if let Err(e) = self.alloc().add(other) {
            debug_assert!(false, "histogram add failed: {e}");
        }
    }

    /// The histogram, or `None` when nothing was recorded.
    pub fn get(&self) -> Option<&Histogram<u64>> {
        self.h.as_deref().filter(|h| !h.is_empty())
    }

    pub fn is_empty(&self) -> bool {
        self.get().is_none()
    }

    /// Bytes held by the counts (for tests of the memory a run needs).
    pub fn footprint(&self) -> usize {
        self.h.as_ref().map_or(0, |h| h.distinct_values() * 8)
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
pub fn curve(h: &Hist) -> Vec<[f64; 2]> {
    let Some(h) = h.get() else {
        return Vec::new();
    };
    CURVE
        .iter()
        .map(|p| [*p, h.value_at_quantile(p / 100.0) as f64 / 1e6])
        .collect()
}

/// `h` in HdrHistogram's V2 compressed format (the standard, deflated
/// encoding), in base64: how results.json keeps each step's histogram, so
/// that a later comparison reads exact order statistics. `None` when
/// nothing was recorded.
pub fn encode(h: &Hist) -> Option<String> {
    use base64::Engine;
    use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
    let h = h.get()?;
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
    Decoder::default().decode(text)
}

/// The V2 format's cookies: plain, and deflated.
const V2_COOKIE: u32 = 0x1c84_9313;
const V2_DEFLATED: u32 = 0x1c84_9314;
/// The plain V2 header: cookie, payload length, offset, digits, lowest,
/// highest, ratio.
const V2_HEADER: usize = 40;
/// The largest plain histogram read (an hour at 5 digits is far less).
const MAX_PLAIN: usize = 64 << 20;

/// Decodes many histograms, reusing its buffers and its inflater (`trek
/// merge` reads hundreds of thousands). A length in a header that the data
/// does not hold is an error, never an allocation of that size.
pub struct Decoder {
    de: hdrhistogram::serialization::Deserializer,
    inflate: flate2::Decompress,
    bytes: Vec<u8>,
    plain: Vec<u8>,
}

impl Default for Decoder {
    fn default() -> Self {
        Self {
            de: hdrhistogram::serialization::Deserializer::new(),
            inflate: flate2::Decompress::new(true),
            bytes: Vec::new(),
            plain: Vec::new(),
        }
    }
}

impl Decoder {
    pub fn decode(&mut self, text: &str) -> Result<Histogram<u64>, String> {
        use base64::Engine;
        self.bytes.clear();
        base64::engine::general_purpose::STANDARD
            .decode_vec(text.trim(), &mut self.bytes)
            .map_err(|e| format!("not base64: {e}"))?;
        let word = |b: &[u8], at: usize| -> Option<u32> {
            Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
        };
        let bad = || "not an HdrHistogram (V2)".to_string();
        let plain: &[u8] = match word(&self.bytes, 0) {
            Some(V2_COOKIE) => &self.bytes,
            Some(V2_DEFLATED) => {
                let len = word(&self.bytes, 4).ok_or_else(bad)? as usize;
                let packed = self.bytes.get(8..8 + len).ok_or_else(bad)?;
                self.inflate.reset(true);
                self.plain.clear();
                loop {
                    if self.plain.len() == self.plain.capacity() {
                        if self.plain.len() >= MAX_PLAIN {
                            return Err("a histogram larger than 64 MB unpacked".into());
                        }
                        self.plain.reserve(self.plain.len().max(4096));
                    }
                    let read = self.inflate.total_in() as usize;
                    let wrote = self.plain.len();
                    let status = self
                        .inflate
                        .decompress_vec(
                            &packed[read..],
                            &mut self.plain,
                            flate2::FlushDecompress::None,
                        )
                        .map_err(|e| format!("a damaged histogram: {e}"))?;
                    let stuck =
                        self.inflate.total_in() as usize == read && self.plain.len() == wrote;
                    match status {
                        flate2::Status::StreamEnd => break,
                        _ if stuck
                            || (self.inflate.total_in() as usize >= packed.len()
                                && self.plain.len() < self.plain.capacity()) =>
                        {
                            return Err("a histogram cut short".into());
                        }
                        _ => {}
                    }
                }
                &self.plain
            }
            _ => return Err(bad()),
        };
        // The payload length in the header must be what follows it.
        let payload = word(plain, 4).ok_or_else(bad)? as usize;
        if word(plain, 0) != Some(V2_COOKIE)
            || plain.len() < V2_HEADER
            || payload > plain.len() - V2_HEADER
        {
            return Err(bad());
        }
        self.de
            .deserialize(&mut &plain[..])
            .map_err(|e| format!("not an HdrHistogram: {e}"))
    }
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
    pub fn of(h: &Hist) -> Self {
        let Some(h) = h.get() else {
            return Self::default();
        };
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
        let mut h = Hist::default();
        assert_eq!(Stats::of(&h), Stats::default());
        for us in 1..=1000 {
            h.record(us * 1000); // 1 ms .. 1 s
        }
        let s = Stats::of(&h);
        assert_eq!(s.count, 1000);
        assert!((s.min - 0.001).abs() < 1e-6);
        assert!((s.p50 - 0.5).abs() < 0.001, "{}", s.p50);
        assert!((s.p99 - 0.99).abs() < 0.001, "{}", s.p99);
        assert!((s.max - 1.0).abs() < 0.001);
        let mut other = Hist::default();
        other.record(5_000_000);
        h.merge(&other);
        assert!((Stats::of(&h).max - 5.0).abs() < 0.01);
        h.merge(&Hist::default());
        assert_eq!(Stats::of(&h).count, 1001);
    }
}

#[cfg(test)]
mod growth {
    use super::*;

    #[test]
    fn an_unused_histogram_holds_nothing_and_a_used_one_only_what_it_needs() {
        let mut h = Hist::default();
        assert_eq!(h.footprint(), 0);
        assert!(h.is_empty());
        h.record(2_000); // 2 ms
        let small = h.footprint();
        // A full-range histogram (1 µs .. 1 h, 3 digits) holds 188 KiB of counts.
        let full = Histogram::<u64>::new_with_bounds(1, MAX_US, FINE).unwrap();
        assert!(
            small > 0 && small * 4 < full.distinct_values() * 8,
            "{small}"
        );
        h.record(4_000_000_000); // beyond the hour: clamped, and it grows
        assert_eq!(
            h.get().unwrap().max(),
            h.get().unwrap().highest_equivalent(MAX_US)
        );
        assert!(h.footprint() > small);
        let p = Stats::of(&h);
        assert!((p.min - 0.002).abs() < 1e-5, "{p:?}");
    }

    #[test]
    fn a_histogram_survives_encoding_and_ranks_agree_with_percentiles() {
        assert_eq!(encode(&Hist::default()), None);
        let mut recorded = Hist::default();
        for us in 1..=1000 {
            recorded.record(us * 1000);
        }
        let back = decode(&encode(&recorded).unwrap()).unwrap();
        let h = recorded.get().unwrap();
        assert_eq!(&back, h);
        assert_eq!(value_at_rank(h, 950), h.value_at_quantile(0.95));
        assert_eq!(value_at_rank(h, 1), h.value_at_quantile(0.001));
        assert_eq!(value_at_rank(h, 5000), h.value_at_quantile(1.0));
        assert!(decode("not a histogram").is_err());
        assert!(decode("AAAA").is_err());
    }

    #[test]
    fn one_decoder_reads_many_histograms_and_refuses_damaged_ones() {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut d = Decoder::default();
        // Large enough to inflate in several rounds, then a small one.
        let mut big = Hist::default();
        for us in (1..3_600_000_000u64).step_by(9_973) {
            big.record(us);
        }
        let mut small = Hist::coarse();
        small.record(1500);
        for h in [&big, &small, &big] {
            assert_eq!(&d.decode(&encode(h).unwrap()).unwrap(), h.get().unwrap());
        }
        // Cut short, bit-flipped, and a plain V2 header claiming 4 GB.
        let bytes = b64.decode(encode(&big).unwrap()).unwrap();
        let cut = b64.encode(&bytes[..bytes.len() / 2]);
        assert!(d.decode(&cut).is_err());
        let mut flipped = bytes.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0xff;
        assert!(d.decode(&b64.encode(&flipped)).is_err());
        let mut header = V2_COOKIE.to_be_bytes().to_vec();
        header.extend(u32::MAX.to_be_bytes());
        header.extend([0u8; 32]);
        assert!(d.decode(&b64.encode(&header)).is_err());
        // And it still reads good ones after.
        assert_eq!(
            &d.decode(&encode(&small).unwrap()).unwrap(),
            small.get().unwrap()
        );
    }
}
