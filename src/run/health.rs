//! The load generator's own health: trek's CPU and memory, and the
//! machine's, sampled once a second during a run. When trek uses nearly all
//! the CPU it may use, its timings may be its own queueing, not the target's:
//! the console and the reports say so.

use serde::{Deserialize, Serialize};
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

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

pub struct Sampler {
    sys: System,
    pid: Option<Pid>,
    usable: usize,
    /// When the process's CPU time was last read, and its value in ms.
    last: (std::time::Instant, u64),
}

impl Default for Sampler {
    fn default() -> Self {
        Self::new()
    }
}

impl Sampler {
    pub fn new() -> Self {
        let mut sys = System::new();
        sys.refresh_cpu_usage();
        let pid = sysinfo::get_current_pid().ok();
        let mut s = Self {
            sys,
            pid,
            usable: usable_cpus(),
            last: (std::time::Instant::now(), 0),
        };
        s.refresh_process();
        s.last = (std::time::Instant::now(), s.cpu_time());
        s
    }

    /// The process's CPU time so far, in ms.
    fn cpu_time(&self) -> u64 {
        self.pid
            .and_then(|pid| self.sys.process(pid))
            .map_or(0, |p| p.accumulated_cpu_time())
    }

    fn refresh_process(&mut self) {
        if let Some(pid) = self.pid {
            self.sys.refresh_processes_specifics(
                ProcessesToUpdate::Some(&[pid]),
                false,
                ProcessRefreshKind::nothing().with_cpu().with_memory(),
            );
        }
    }

    /// The health since the last sample (call about once a second).
    pub fn sample(&mut self, second: u32) -> HealthPoint {
        self.sys.refresh_cpu_usage();
        self.sys.refresh_memory();
        self.refresh_process();
        let rss = self
            .pid
            .and_then(|pid| self.sys.process(pid))
            .map_or(0, |p| p.memory());
        // From the CPU time itself rather than sysinfo's `cpu_usage`, which
        // stays 0 on the first refreshes of a process that had used under
        // a clock tick when it was first seen (the first second of a run).
        let (now, used) = (std::time::Instant::now(), self.cpu_time());
        let wall_ms = now.duration_since(self.last.0).as_secs_f64() * 1000.0;
        let cpu = if wall_ms > 0.0 {
            used.saturating_sub(self.last.1) as f64 / wall_ms * 100.0
        } else {
            0.0
        };
        self.last = (now, used);
        HealthPoint {
            second,
            cpu_percent: round1(cpu),
            cpu_share: round3(cpu / 100.0 / self.usable.max(1) as f64),
            rss_bytes: rss,
            machine_cpu_percent: round1(f64::from(self.sys.global_cpu_usage())),
            machine_memory_bytes: self.sys.used_memory(),
        }
    }
}

/// The machine this runs on.
pub fn machine() -> Machine {
    let mut sys = System::new();
    sys.refresh_memory();
    sys.refresh_cpu_list(sysinfo::CpuRefreshKind::nothing());
    Machine {
        hostname: System::host_name().unwrap_or_default(),
        os: System::long_os_version().unwrap_or_default(),
        cpus: std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .max(num_cpus(&sys)),
        usable_cpus: usable_cpus(),
        memory_bytes: sys.total_memory(),
    }
}

fn num_cpus(sys: &System) -> usize {
    sys.cpus().len()
}

fn usable_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
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

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
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

    #[test]
    fn a_busy_thread_shows_in_the_sample() {
        let mut s = Sampler::new();
        let until = std::time::Instant::now() + std::time::Duration::from_millis(300);
        let mut x = 0u64;
        while std::time::Instant::now() < until {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        std::hint::black_box(x);
        let p = s.sample(0);
        // 300 ms of one busy core: well above zero (generous: CI machines
        // are shared), and memory is measured.
        assert!(p.cpu_percent > 20.0, "{p:?}");
        assert!(p.rss_bytes > 1_000_000, "{p:?}");
    }
}
