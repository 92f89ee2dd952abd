//! Hands out feeder rows to iterations: in order (shared across virtual
//! users), at random, or each row once (`unique`, which ends the scenario
//! when the rows run out). Rows kept per user (`per: vu`) are in
//! `session.rs`; whether there are enough of them is checked here.

use std::sync::atomic::{AtomicU64, Ordering};

use minijinja::value::Value;
use rand::rngs::SmallRng;
use rand::Rng;

use super::segment::Segment;
use crate::plan::{FeederPlan, Plan};
use crate::scenario::model::{FeederOrder, FeederPer};

#[derive(Debug, Default)]
pub struct FeederCursor {
    next: AtomicU64,
}

impl FeederCursor {
    /// The row for the next iteration, or `None` when a unique feeder is
    /// spent. A part of a split test takes the rows numbered `k mod N = I`
    /// in turn: no `unique` row goes to two parts.
    pub fn pick(&self, feeder: &FeederPlan, rng: &mut SmallRng, part: Segment) -> Option<Value> {
        let n = feeder.rows.len() as u64;
        if n == 0 {
            return None;
        }
        let i = match feeder.order {
            FeederOrder::Sequential => part.global(self.next.fetch_add(1, Ordering::Relaxed)) % n,
            FeederOrder::Random => rng.random_range(0..n),
            FeederOrder::Unique => {
                let i = part.global(self.next.fetch_add(1, Ordering::Relaxed));
                if i >= n {
                    return None;
                }
                i
            }
        };
        let i = i as usize;
        Some(feeder.rows[i].clone())
    }
}

/// With `order: unique` and `per: vu` every user keeps a row of its own:
/// the feeder needs a row for every user the scenarios reading it may run
/// (checked once the command line's load is applied).
pub fn check_rows(plan: &Plan) -> Result<(), String> {
    for (f, feeder) in plan.feeders.iter().enumerate() {
        if feeder.order != FeederOrder::Unique || feeder.per != FeederPer::Vu {
            continue;
        }
        let users: Vec<(&str, u64)> = plan
            .scenarios
            .iter()
            .filter(|s| s.feeders.contains(&f))
            .map(|s| (s.name.as_str(), super::max_vus(&s.load.executor)))
            .collect();
        let total: u64 = users.iter().map(|(_, n)| n).sum();
        let rows = feeder.rows.len() as u64;
        if total > rows {
            let each: Vec<String> = users.iter().map(|(s, n)| format!("{s}: {n}")).collect();
            return Err(format!(
                "{}: feeder `{}` has {rows} row{}, but {total} virtual users would each keep one of their own ({}); with `order: unique` and `per: vu` no two users share a row. Add rows, run fewer users (--vus {rows}), or use `order: sequential` to share them",
                feeder.at,
                feeder.name,
                if rows == 1 { "" } else { "s" },
                each.join(", "),
            ));
        }
    }
    Ok(())
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
            per: crate::scenario::model::FeederPer::Iteration,
            at: String::new(),
        }
    }

    #[test]
    fn sequential_wraps_and_unique_runs_out() {
        let mut rng = SmallRng::seed_from_u64(1);
        let c = FeederCursor::default();
        let f = feeder(FeederOrder::Sequential);
        let got: Vec<i64> = (0..5)
            .map(|_| i64::try_from(c.pick(&f, &mut rng, Segment::WHOLE).unwrap()).unwrap())
            .collect();
        assert_eq!(got, vec![0, 1, 2, 0, 1]);
        let c = FeederCursor::default();
        let f = feeder(FeederOrder::Unique);
        let whole = |c: &FeederCursor, rng: &mut SmallRng| c.pick(&f, rng, Segment::WHOLE);
        assert_eq!((0..5).filter_map(|_| whole(&c, &mut rng)).count(), 3);
    }

    #[test]
    fn the_parts_of_a_split_test_share_no_unique_row() {
        let mut rng = SmallRng::seed_from_u64(1);
        let mut f = feeder(FeederOrder::Unique);
        f.rows = (0..10).map(Value::from).collect();
        let mut seen = Vec::new();
        for index in 0..3 {
            let c = FeederCursor::default();
            let part = Segment { index, count: 3 };
            while let Some(row) = c.pick(&f, &mut rng, part) {
                seen.push(i64::try_from(row).unwrap());
            }
        }
        seen.sort();
        assert_eq!(seen, (0..10).collect::<Vec<i64>>());
    }
}
