//! Samples the load generator's health once a second during a run (trek's
//! CPU time and memory, the machine's CPU and memory), and reads the
//! machine it runs on. What a sample means is `metrics/health.rs`.

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

use crate::metrics::health::{HealthPoint, Machine};

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

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

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
