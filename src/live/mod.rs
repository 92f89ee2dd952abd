//! Live metrics: what a run publishes while it goes (`--metrics-listen`).
//!
//! Once a second the controller reads each worker's recorder (the same
//! once-a-second read that builds the timeline; no lock on the request
//! path) into a fresh [`Snapshot`] of cumulative counters and latency
//! histograms in fixed Prometheus buckets, and puts it on the [`Board`].
//! A scrape only reads the board (`scrape.rs`).

pub mod buckets;
pub mod native;
pub mod proto;
pub mod push;
pub mod scrape;
pub mod series;

use std::sync::{Arc, Mutex};

use crate::metrics::recorder::{reason_key, Recorder};

/// Who the series are of: the labels every series carries.
#[derive(Debug, Clone)]
pub struct Identity {
    /// `--testid`, or one made up at start.
    pub testid: String,
    /// `--segment`, `0/1` for a whole run.
    pub segment: String,
}

/// A step's labels.
#[derive(Debug, Clone)]
pub struct StepLabels {
    /// Its scenario's name (or `setup` / `teardown`).
    pub scenario: String,
    pub step: String,
    /// Counted as requests (not a group).
    pub request: bool,
}

/// An SLO's bounds, published so that a dashboard can draw them beside
/// what they bound (in the metric's unit: seconds, a share, per second).
#[derive(Debug, Clone)]
pub struct Bound {
    /// As in results.json: `step checkout/login`, `scenario checkout`, `test`.
    pub scope: String,
    pub metric: String,
    /// A `monitor` SLO's series; empty otherwise.
    pub series: String,
    /// The statistic (`p95`), or `dropped`'s unit; empty when none.
    pub stat: String,
    pub target: Option<f64>,
    pub critical: Option<f64>,
}

/// Everything published, cumulative since the run started.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// When it was taken, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    pub steps: Vec<StepLive>,
    pub scenarios: Vec<ScenarioLive>,
}

#[derive(Debug, Clone, Default)]
pub struct StepLive {
    pub requests: u64,
    /// Failures by class (see [`class_of`]).
    pub failures: [u64; CLASSES.len()],
    pub checks_passed: u64,
    pub checks_failed: u64,
    pub sent: u64,
    pub received: u64,
    pub latency: buckets::Buckets,
    pub first_byte: buckets::Buckets,
    pub gap: buckets::Buckets,
    /// The same as native histograms, kept for remote write only.
    pub latency_native: Option<native::Native>,
    pub first_byte_native: Option<native::Native>,
    pub gap_native: Option<native::Native>,
}

#[derive(Debug, Clone, Default)]
pub struct ScenarioLive {
    pub started: u64,
    pub completed: u64,
    pub failed: u64,
    pub interrupted: u64,
    pub dropped: u64,
    pub active: u64,
}

/// The classes failures are counted under (the label `class`).
pub const CLASSES: [&str; 5] = ["status", "check", "timeout", "connect", "other"];

/// The class of a failure reason: a status that was not expected, a check
/// of the body or headers, a timeout, a connection that failed, or other.
pub fn class_of(reason: &str) -> usize {
    let r = reason.to_ascii_lowercase();
    if r.starts_with("status ") {
        0
    } else if r.contains("timed out") || r.contains("timeout") {
        2
    } else if r.contains("connect")
        || r.contains("refused")
        || r.contains("resolve")
        || r.contains("tls")
    {
        3
    } else if r.starts_with('$') || r.contains("expected") || r.contains("header") {
        1
    } else {
        4
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Where the latest snapshot is kept for scrapes.
#[derive(Debug)]
pub struct Board {
    pub identity: Identity,
    pub scenarios: Vec<String>,
    pub steps: Vec<StepLabels>,
    pub bounds: Vec<Bound>,
    /// Keep native histograms too (remote write sends them).
    pub native: bool,
    /// The target's monitored series: (monitor, series) names.
    pub monitors: Vec<(String, String)>,
    /// Their latest values (f64 bits; NaN: none yet), set by the monitors.
    monitor_values: Vec<std::sync::atomic::AtomicU64>,
    latest: Mutex<Arc<Snapshot>>,
}

impl Board {
    pub fn new(
        identity: Identity,
        scenarios: Vec<String>,
        steps: Vec<StepLabels>,
        bounds: Vec<Bound>,
        native: bool,
        monitors: Vec<(String, String)>,
    ) -> Arc<Self> {
        let empty = Snapshot {
            at_ms: now_ms(),
            steps: vec![StepLive::default(); steps.len()],
            scenarios: vec![ScenarioLive::default(); scenarios.len()],
        };
        Arc::new(Self {
            identity,
            scenarios,
            steps,
            bounds,
            native,
            monitor_values: monitors
                .iter()
                .map(|_| std::sync::atomic::AtomicU64::new(f64::NAN.to_bits()))
                .collect(),
            monitors,
            latest: Mutex::new(Arc::new(empty)),
        })
    }

    /// A monitored series' latest value (its index in `monitors`).
    pub fn set_monitor(&self, i: usize, v: f64) {
        if let Some(slot) = self.monitor_values.get(i) {
            slot.store(v.to_bits(), std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// The monitored series' latest values (`None`: none yet).
    pub fn monitor_values(&self) -> Vec<Option<f64>> {
        self.monitor_values
            .iter()
            .map(|a| Some(f64::from_bits(a.load(std::sync::atomic::Ordering::Relaxed))))
            .map(|v| v.filter(|v| !v.is_nan()))
            .collect()
    }

    /// The latest snapshot (shared, not copied).
    pub fn latest(&self) -> Arc<Snapshot> {
        self.latest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// A new snapshot from the workers' recorders (each read once, under
    /// its own lock, by `read`) and each scenario's active users.
    pub fn refresh(&self, read: impl FnOnce(&mut dyn FnMut(&Recorder)), active: &[u64]) {
        let mut snap = Snapshot {
            at_ms: now_ms(),
            steps: vec![StepLive::default(); self.steps.len()],
            scenarios: vec![ScenarioLive::default(); self.scenarios.len()],
        };
        if self.native {
            for s in &mut snap.steps {
                s.latency_native = Some(Default::default());
                s.first_byte_native = Some(Default::default());
                s.gap_native = Some(Default::default());
            }
        }
        read(&mut |r: &Recorder| snap.add(r));
        for (s, a) in snap.scenarios.iter_mut().zip(active) {
            s.active = *a;
        }
        *self.latest.lock().unwrap_or_else(|e| e.into_inner()) = Arc::new(snap);
    }
}

impl Snapshot {
    /// Adds one worker's recorder.
    fn add(&mut self, r: &Recorder) {
        for (live, st) in self.steps.iter_mut().zip(&r.steps) {
            if st.count == 0 {
                continue;
            }
            live.requests += st.count;
            for (key, reason) in &st.reasons {
                live.failures[class_of(reason_key(key))] += reason.count;
            }
            live.checks_passed += st.checks_passed;
            live.checks_failed += st.checks_failed;
            live.sent += st.sent;
            live.received += st.received;
            live.latency.add(&st.latency);
            live.first_byte.add(&st.first_byte);
            live.gap.add(&st.gap);
            for (n, h) in [
                (&mut live.latency_native, &st.latency),
                (&mut live.first_byte_native, &st.first_byte),
                (&mut live.gap_native, &st.gap),
            ] {
                if let Some(n) = n {
                    n.add(h);
                }
            }
        }
        for (live, sc) in self.scenarios.iter_mut().zip(&r.scenarios) {
            live.started += sc.started;
            live.completed += sc.completed;
            live.failed += sc.failed;
            live.interrupted += sc.interrupted;
            live.dropped += sc.dropped;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_fall_into_classes() {
        let class = |r: &str| CLASSES[class_of(r)];
        assert_eq!(class("status 500, expected 200"), "status");
        assert_eq!(class("$.total: expected 3"), "check");
        assert_eq!(class("timed out after 30s"), "timeout");
        assert_eq!(class("cannot connect: connection refused"), "connect");
        assert_eq!(class("something else"), "other");
    }
}
