//! A monitored series of the target (`monitor:`), as measured: one value a
//! second of the run (counters as a rate per second), with the gaps where
//! its endpoint did not answer. What results.json keeps, the reports draw
//! and `slo: { monitor: … }` judges.

use serde::{Deserialize, Serialize};

use crate::scenario::model::Stat;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MonitorSeries {
    /// Its name in `series:`.
    pub name: String,
    /// The monitor's name.
    pub monitor: String,
    /// Which samples of the endpoint add up to it.
    pub selector: String,
    /// A counter, shown as its rate per second.
    pub counter: bool,
    /// By second of the run (index 0: its first second); `null` where no
    /// sample was taken or the endpoint did not answer.
    pub values: Vec<Option<f64>>,
    pub min: Option<f64>,
    pub avg: Option<f64>,
    pub max: Option<f64>,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
}

impl MonitorSeries {
    /// Fills the statistics from `values`.
    pub fn with_stats(mut self) -> Self {
        self.min = self.stat(Stat::Min);
        self.avg = self.stat(Stat::Avg);
        self.max = self.stat(Stat::Max);
        self.p50 = self.stat(Stat::P50);
        self.p95 = self.stat(Stat::P95);
        self.p99 = self.stat(Stat::P99);
        self
    }

    /// A statistic of the seconds that have a value (`None`: none has).
    pub fn stat(&self, stat: Stat) -> Option<f64> {
        let mut v: Vec<f64> = self.values.iter().flatten().copied().collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let rank = |q: f64| {
            // Nearest rank: the smallest value with at least q of them at
            // or below it.
            let i = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
            v[i]
        };
        Some(match stat {
            Stat::Min => v[0],
            Stat::Max => v[v.len() - 1],
            Stat::Avg => v.iter().sum::<f64>() / v.len() as f64,
            Stat::P50 => rank(0.5),
            Stat::P90 => rank(0.9),
            Stat::P95 => rank(0.95),
            Stat::P99 => rank(0.99),
            Stat::P999 => rank(0.999),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_are_over_the_seconds_that_have_a_value() {
        let mut values: Vec<Option<f64>> = (1..=100).map(|v| Some(v as f64)).collect();
        values.insert(3, None);
        let s = MonitorSeries {
            values,
            ..Default::default()
        }
        .with_stats();
        assert_eq!(s.min, Some(1.0));
        assert_eq!(s.max, Some(100.0));
        assert_eq!(s.avg, Some(50.5));
        assert_eq!(s.p50, Some(50.0));
        assert_eq!(s.p95, Some(95.0));
        assert_eq!(s.stat(Stat::P99), Some(99.0));
        let empty = MonitorSeries {
            values: vec![None, None],
            ..Default::default()
        };
        assert_eq!(empty.stat(Stat::Max), None);
    }
}
