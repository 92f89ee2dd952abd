//! The open model's schedule: when iteration k is due, computed from the
//! integral of the arrival rate, so the schedule never drifts however late a
//! dispatch runs. Rates are piecewise linear: a constant rate is one stage,
//! `ramping-arrival-rate` interpolates linearly within each stage.

use std::time::Duration;

/// A stretch of time over which the rate moves linearly from `from` to `to`
/// (iterations per second).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    pub duration: Duration,
    pub from: f64,
    pub to: f64,
}

/// Due times of iterations 0, 1, 2… as offsets from the start.
#[derive(Debug, Clone)]
pub struct Schedule {
    segments: Vec<Segment>,
    /// Segment being walked, its start offset (s) and the iterations due
    /// before it.
    index: usize,
    seg_start: f64,
    seg_base: f64,
    next: u64,
    /// Every `stride`-th iteration from `next` is walked (a part's share).
    stride: u64,
}

impl Schedule {
    pub fn new(segments: Vec<Segment>) -> Self {
        Self {
            segments,
            index: 0,
            seg_start: 0.0,
            seg_base: 0.0,
            next: 0,
            stride: 1,
        }
    }

    /// Only the iterations of `part`: `k mod N = I`, each at the instant it
    /// has in the whole schedule.
    pub fn part(mut self, part: super::segment::Segment) -> Self {
        self.next = part.index;
        self.stride = part.count.max(1);
        self
    }

    /// The number in the whole schedule of the iteration `next` returns.
    pub fn number(&self) -> u64 {
        self.next
    }

    /// A constant rate for `duration`.
    pub fn constant(rate: f64, duration: Duration) -> Self {
        Self::new(vec![Segment {
            duration,
            from: rate,
            to: rate,
        }])
    }

    pub fn total(&self) -> Duration {
        self.segments.iter().map(|s| s.duration).sum()
    }

    /// Iterations due in `[0, t]` seconds: the integral of the rate.
    #[cfg(test)]
    pub fn expected_by(&self, t: f64) -> f64 {
        let mut at = 0.0;
        let mut n = 0.0;
        for s in &self.segments {
            let d = s.duration.as_secs_f64();
            if t <= at {
                break;
            }
            let x = (t - at).min(d);
            n += area(s, d, x);
            at += d;
        }
        n
    }

    /// About how many iterations the whole schedule starts: the integral
    /// of the rate over its length, rounded up.
    pub fn planned(&self) -> u64 {
        let area: f64 = self
            .segments
            .iter()
            .map(|s| {
                let d = s.duration.as_secs_f64();
                area(s, d, d)
            })
            .sum();
        area.max(0.0).ceil() as u64
    }

    /// The highest rate of the schedule.
    pub fn peak(&self) -> f64 {
        self.segments
            .iter()
            .map(|s| s.from.max(s.to))
            .fold(0.0, f64::max)
    }
}

/// Iterations due within the first `x` seconds of segment `s` of length `d`.
fn area(s: &Segment, d: f64, x: f64) -> f64 {
    let slope = if d > 0.0 { (s.to - s.from) / d } else { 0.0 };
    s.from * x + slope * x * x / 2.0
}

impl Iterator for Schedule {
    type Item = Duration;

    /// The due time of the next iteration; `None` past the end.
    fn next(&mut self) -> Option<Duration> {
        // Iteration k is due when the integral reaches k (iteration 0 at the
        // first instant the rate is positive).
        let k = self.next as f64;
        while let Some(s) = self.segments.get(self.index) {
            let d = s.duration.as_secs_f64();
            let total = area(s, d, d);
            let need = k - self.seg_base;
            if need < total || (need == 0.0 && total > 0.0) {
                let x = solve(s, d, need);
                self.next += self.stride;
                return Some(Duration::from_secs_f64(self.seg_start + x.clamp(0.0, d)));
            }
            self.seg_base += total;
            self.seg_start += d;
            self.index += 1;
        }
        None
    }
}

/// The `x` in `[0, d]` where `area(s, d, x) == need`.
fn solve(s: &Segment, d: f64, need: f64) -> f64 {
    let slope = if d > 0.0 { (s.to - s.from) / d } else { 0.0 };
    if slope.abs() < 1e-12 {
        return if s.from > 0.0 { need / s.from } else { d };
    }
    // slope/2·x² + from·x − need = 0
    let disc = s.from * s.from + 2.0 * slope * need;
    (-s.from + disc.max(0.0).sqrt()) / slope
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parts_of_a_schedule_interleave_into_the_whole() {
        let whole = Schedule::constant(7.0, Duration::from_secs(3));
        let all: Vec<Duration> = whole.clone().collect();
        let mut union: Vec<(u64, Duration)> = Vec::new();
        for index in 0..4 {
            let mut part = whole
                .clone()
                .part(super::super::segment::Segment { index, count: 4 });
            loop {
                let k = part.number();
                let Some(due) = part.next() else { break };
                union.push((k, due));
            }
        }
        union.sort();
        let numbered: Vec<(u64, Duration)> = (0..).zip(all).collect();
        assert_eq!(union, numbered);
        assert_eq!(whole.planned(), 21);
    }

    #[test]
    fn a_constant_rate_is_evenly_spaced() {
        let due: Vec<Duration> = Schedule::constant(4.0, Duration::from_secs(1)).collect();
        let ms: Vec<u128> = due.iter().map(|d| d.as_millis()).collect();
        assert_eq!(ms, vec![0, 250, 500, 750]);
    }

    #[test]
    fn counts_match_the_integral_of_a_ramp() {
        // 0 → 100/s over 10 s, then 100/s for 5 s, then 100 → 20/s over 5 s.
        let segments = vec![
            Segment {
                duration: Duration::from_secs(10),
                from: 0.0,
                to: 100.0,
            },
            Segment {
                duration: Duration::from_secs(5),
                from: 100.0,
                to: 100.0,
            },
            Segment {
                duration: Duration::from_secs(5),
                from: 100.0,
                to: 20.0,
            },
        ];
        let schedule = Schedule::new(segments);
        let expected_total = 500.0 + 500.0 + 300.0;
        assert!((schedule.expected_by(20.0) - expected_total).abs() < 1e-9);
        let due: Vec<f64> = schedule.clone().map(|d| d.as_secs_f64()).collect();
        assert_eq!(due.len(), 1300);
        assert!(due.windows(2).all(|w| w[0] <= w[1]), "due times increase");
        for t in [1.0, 2.5, 7.0, 10.0, 12.0, 16.0, 19.9] {
            let started = due.iter().filter(|d| **d < t).count() as f64;
            let integral = schedule.expected_by(t);
            assert!(
                (started - integral).abs() <= 1.0,
                "at {t}s: {started} vs {integral}"
            );
        }
        assert_eq!(schedule.peak(), 100.0);
    }

    #[test]
    fn a_zero_rate_stage_schedules_nothing() {
        let s = Schedule::new(vec![
            Segment {
                duration: Duration::from_secs(2),
                from: 0.0,
                to: 0.0,
            },
            Segment {
                duration: Duration::from_secs(1),
                from: 2.0,
                to: 2.0,
            },
        ]);
        let due: Vec<u128> = s.map(|d| d.as_millis()).collect();
        assert_eq!(due, vec![2000, 2500]);
    }
}
