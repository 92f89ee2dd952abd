//! The load generator's own health, as recorded: one point a second of
//! trek's CPU and memory and the machine's, the machine a run happened on,
//! and the warning given when trek used nearly all the CPU it may use (its
//! timings may then be its own queueing, not the target's). The sampling
//! itself is the runtime's (`run/sampler.rs`).

use serde::{Deserialize, Serialize};

/// trek's CPU share above which a second counts as saturated.
pub const SATURATED: f64 = 0.9;
/// Saturated seconds in a row after which the generator is called the
/// bottleneck.
pub const SATURATED_RUN: usize = 3;

/// One second of the generator's and the machine's health.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HealthPoint {
    pub second: u32,
    /// trek's CPU use in percent of one core (200 = two cores busy).
    pub cpu_percent: f64,
    /// trek's CPU use as a share of the cores it may use (0 to 1).
    pub cpu_share: f64,
    /// trek's resident memory, bytes.
    pub rss_bytes: u64,
    /// The whole machine's CPU use in percent of all its cores.
    pub machine_cpu_percent: f64,
    /// The whole machine's used memory, bytes.
    pub machine_memory_bytes: u64,
}

/// The machine a run happened on.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Machine {
    pub hostname: String,
    pub os: String,
    /// Logical CPUs of the machine.
    pub cpus: usize,
    /// CPUs trek may use (its affinity).
    pub usable_cpus: usize,
    pub memory_bytes: u64,
}

/// The warning to give when the generator was saturated: `None` when it
/// never was for [`SATURATED_RUN`] seconds in a row.
pub fn saturation_warning(points: &[HealthPoint]) -> Option<String> {
    let mut run = 0;
    let mut longest = 0;
    for p in points {
        if p.cpu_share >= SATURATED {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    (longest >= SATURATED_RUN).then(|| {
        format!(
            "the load generator used over {:.0}% of the CPU it may use for {longest} seconds in a row: \
             its own queueing may be in the measured latency; give trek more cores (--workers, taskset) \
             or spread the load over more machines",
            SATURATED * 100.0
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(second: u32, share: f64) -> HealthPoint {
        HealthPoint {
            second,
            cpu_percent: share * 100.0,
            cpu_share: share,
            rss_bytes: 0,
            machine_cpu_percent: 0.0,
            machine_memory_bytes: 0,
        }
    }

    #[test]
    fn saturation_needs_three_busy_seconds_in_a_row() {
        let busy = |shares: &[f64]| {
            let points: Vec<_> = shares
                .iter()
                .enumerate()
                .map(|(i, s)| point(i as u32, *s))
                .collect();
            saturation_warning(&points).is_some()
        };
        assert!(!busy(&[0.95, 0.95, 0.5, 0.95, 0.95]));
        assert!(busy(&[0.5, 0.92, 0.97, 0.99, 0.4]));
        assert!(!busy(&[]));
    }
}
