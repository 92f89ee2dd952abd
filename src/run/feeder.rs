//! Hands out feeder rows to iterations: in order (shared across virtual
//! users), at random, or each row once (`unique`, which ends the scenario
//! when the rows run out).

use std::sync::atomic::{AtomicUsize, Ordering};

use minijinja::value::Value;
use rand::rngs::SmallRng;
use rand::Rng;

use crate::plan::FeederPlan;
use crate::scenario::model::FeederOrder;

#[derive(Debug, Default)]
pub struct FeederCursor {
    next: AtomicUsize,
}

impl FeederCursor {
    /// The row for the next iteration, or `None` when a unique feeder is spent.
    pub fn pick(&self, feeder: &FeederPlan, rng: &mut SmallRng) -> Option<Value> {
        let n = feeder.rows.len();
        if n == 0 {
            return None;
        }
        let i = match feeder.order {
            FeederOrder::Sequential => self.next.fetch_add(1, Ordering::Relaxed) % n,
            FeederOrder::Random => rng.random_range(0..n),
            FeederOrder::Unique => {
                let i = self.next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return None;
                }
                i
            }
        };
        Some(feeder.rows[i].clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use std::sync::Arc;

    fn feeder(order: FeederOrder) -> FeederPlan {
        FeederPlan {
            name: Arc::from("users"),
            rows: (0..3).map(Value::from).collect(),
            order,
        }
    }

    #[test]
    fn sequential_wraps_and_unique_runs_out() {
        let mut rng = SmallRng::seed_from_u64(1);
        let c = FeederCursor::default();
        let f = feeder(FeederOrder::Sequential);
        let got: Vec<i64> = (0..5)
            .map(|_| i64::try_from(c.pick(&f, &mut rng).unwrap()).unwrap())
            .collect();
        assert_eq!(got, vec![0, 1, 2, 0, 1]);
        let c = FeederCursor::default();
        let f = feeder(FeederOrder::Unique);
        assert_eq!((0..5).filter_map(|_| c.pick(&f, &mut rng)).count(), 3);
    }
}
