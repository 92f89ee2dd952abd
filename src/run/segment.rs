//! `--segment I/N`: which share of a test one process runs, so that N
//! processes together run exactly the whole.
//!
//! Everything countable is striped: of the whole test's virtual users,
//! iterations, schedule slots and `unique` rows numbered 0, 1, 2…, part `I`
//! takes those whose number `k` has `k mod N = I`. The parts' shares
//! therefore add up to the whole, differ by at most one (the first parts
//! take the remainder), and every user or iteration keeps the number it has
//! in the whole test, from which its data are drawn.

use crate::scenario::model::Executor;

/// Part `index` (from 0) of `count`; `0/1` is the whole test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub index: u64,
    pub count: u64,
}

/// The most parts a test may be split into.
pub const MAX_PARTS: u64 = 10_000;

impl Default for Segment {
    fn default() -> Self {
        Self::WHOLE
    }
}

impl Segment {
    pub const WHOLE: Segment = Segment { index: 0, count: 1 };

    /// Reads `I/N` (`0 <= I < N <= 10000`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad =
            || format!("`{text}` is not a part: write I/N, the part I (from 0) of N, e.g. `0/4`");
        let (i, n) = text.trim().split_once('/').ok_or_else(bad)?;
        let index: u64 = i.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || count > MAX_PARTS {
            return Err(format!(
                "`{text}`: the number of parts must be 1 to {MAX_PARTS}"
            ));
        }
        if index >= count {
            return Err(format!(
                "`{text}`: parts are numbered from 0 to {} (a Kubernetes completion index)",
                count - 1
            ));
        }
        Ok(Self { index, count })
    }

    pub fn is_whole(self) -> bool {
        self.count == 1
    }

    /// How many of `total` things numbered `0..total` are this part's.
    pub fn share(self, total: u64) -> u64 {
        total / self.count + u64::from(self.index < total % self.count)
    }

    /// The number in the whole test of this part's `local`-th thing.
    pub fn global(self, local: u64) -> u64 {
        self.index.saturating_add(local.saturating_mul(self.count))
    }

    /// Whether thing `k` of the whole test is this part's.
    pub fn owns(self, k: u64) -> bool {
        k % self.count == self.index
    }

    /// What this part of a scenario's load runs, in words, or `None` when it
    /// runs nothing (no user, no iteration).
    pub fn load_share(self, e: &Executor) -> Option<String> {
        let users = |n: u64| {
            let s = self.share(n);
            format!("{s} of {n} virtual user{}", if n == 1 { "" } else { "s" })
        };
        match e {
            Executor::ConstantVus { vus, .. } | Executor::PerVuIterations { vus, .. } => {
                (self.share(*vus) > 0).then(|| users(*vus))
            }
            Executor::SharedIterations {
                vus, iterations, ..
            } => (self.share(*vus) > 0 && self.share(*iterations) > 0).then(|| {
                format!(
                    "{}, {} of {iterations} iterations",
                    users(*vus),
                    self.share(*iterations)
                )
            }),
            Executor::RampingVus { .. } => {
                let peak = super::max_vus(e);
                (self.share(peak) > 0).then(|| format!("up to {}", users(peak)))
            }
            Executor::ConstantArrivalRate { .. } | Executor::RampingArrivalRate { .. } => {
                let (schedule, _) = super::open::open_plan(e);
                let total = schedule.planned();
                (self.share(total) > 0).then(|| {
                    format!(
                        "{} of {total} scheduled iterations, every {}th at its instant",
                        self.share(total),
                        self.count
                    )
                })
            }
        }
    }

    /// An open-model part's most users: its share of `max_vus`, but at
    /// least one when it has iterations to run (a part with iterations and
    /// no user could only drop them).
    pub fn max_vus(self, max_vus: u64) -> u64 {
        self.share(max_vus).max(1)
    }
}

impl std::fmt::Display for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_add_up_to_the_whole_and_differ_by_at_most_one() {
        for count in 1..=9u64 {
            for total in 0..=40u64 {
                let shares: Vec<u64> = (0..count)
                    .map(|index| Segment { index, count }.share(total))
                    .collect();
                assert_eq!(shares.iter().sum::<u64>(), total, "{total} in {count}");
                let (lo, hi) = (shares.iter().min().unwrap(), shares.iter().max().unwrap());
                assert!(hi - lo <= 1, "{shares:?}");
                // Every number of the whole belongs to exactly one part, and
                // a part's local numbers map onto its own.
                for k in 0..total {
                    let owners: Vec<u64> = (0..count)
                        .filter(|&index| Segment { index, count }.owns(k))
                        .collect();
                    assert_eq!(owners.len(), 1);
                    let s = Segment {
                        index: owners[0],
                        count,
                    };
                    assert_eq!(s.global(k / count), k);
                }
            }
        }
    }

    #[test]
    fn a_segment_is_read_from_i_slash_n() {
        assert_eq!(Segment::parse("2/8"), Ok(Segment { index: 2, count: 8 }));
        assert_eq!(Segment::parse(" 0 / 1 "), Ok(Segment::WHOLE));
        for bad in ["8/8", "1/0", "a/2", "3", "-1/2", "1/10001"] {
            assert!(Segment::parse(bad).is_err(), "{bad}");
        }
        assert!(Segment::parse("8/8").unwrap_err().contains("0 to 7"));
    }
}
