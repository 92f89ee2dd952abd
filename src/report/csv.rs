//! `results.csv` (one row per step) and `timeline.csv` (one row per second
//! and scenario, with the load generator's health), for spreadsheets and
//! notebooks. Times are in milliseconds.

use std::path::{Path, PathBuf};

use super::results::{Results, StepResult};
use crate::metrics::Stats;

fn ms(v: f64) -> String {
    format!("{:.3}", v * 1000.0)
}

/// A user-written text for a spreadsheet cell: one starting with `=`, `+`,
/// `-` or `@` would be taken for a formula, so it gets a leading `'`.
fn text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

fn stats_cells(s: &Stats) -> Vec<String> {
    [s.min, s.avg, s.p50, s.p90, s.p95, s.p99, s.p999, s.max]
        .into_iter()
        .map(ms)
        .collect()
}

const STEP_HEADER: [&str; 24] = [
    "scenario",
    "step",
    "kind",
    "count",
    "failures",
    "error_rate",
    "throughput_per_s",
    "min_ms",
    "avg_ms",
    "p50_ms",
    "p90_ms",
    "p95_ms",
    "p99_ms",
    "p99.9_ms",
    "max_ms",
    "first_byte_p50_ms",
    "first_byte_p95_ms",
    "first_byte_p99_ms",
    "checks_passed",
    "checks_failed",
    "bytes_sent",
    "bytes_received",
    "top_failure_reason",
    "phase",
];

fn step_row(s: &StepResult) -> Vec<String> {
    let top = s
        .failure_reasons
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(k, _)| k.clone())
        .unwrap_or_default();
    let mut row = vec![
        text(&s.scenario),
        text(&s.name),
        s.kind.clone(),
        s.count.to_string(),
        s.failures.to_string(),
        format!("{:.6}", s.error_rate),
        format!("{:.3}", s.throughput),
    ];
    // No measurement is an empty cell, not a 0 ms that would plot as one.
    if s.latency.count > 0 {
        row.extend(stats_cells(&s.latency));
    } else {
        row.extend(std::iter::repeat_n(String::new(), 8));
    }
    if s.first_byte.count > 0 {
        row.extend([s.first_byte.p50, s.first_byte.p95, s.first_byte.p99].map(ms));
    } else {
        row.extend(std::iter::repeat_n(String::new(), 3));
    }
    row.extend([
        s.checks_passed.to_string(),
        s.checks_failed.to_string(),
        s.bytes_sent.to_string(),
        s.bytes_received.to_string(),
        text(&top),
        s.phase.clone(),
    ]);
    row
}

/// The text of `results.csv`.
pub fn results_csv(r: &Results) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(STEP_HEADER);
    for s in &r.steps {
        let _ = w.write_record(step_row(s));
    }
    into_string(w)
}

const TIMELINE_HEADER: [&str; 15] = [
    "second",
    "scenario",
    "active_vus",
    "iterations_started",
    "iterations_completed",
    "dropped",
    "requests",
    "failures",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "generator_cpu_percent",
    "generator_rss_mb",
    "machine_cpu_percent",
    "machine_memory_mb",
];

/// The text of `timeline.csv`.
pub fn timeline_csv(r: &Results) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    // Then one column per monitored series (`monitor_NAME`), its value in
    // that second of the run.
    let header: Vec<String> = TIMELINE_HEADER
        .iter()
        .map(|h| h.to_string())
        .chain(r.monitors.iter().map(|m| format!("monitor_{}", m.name)))
        .collect();
    let _ = w.write_record(&header);
    let by_second: std::collections::HashMap<u32, &crate::metrics::health::HealthPoint> =
        r.health.iter().map(|h| (h.second, h)).collect();
    for p in &r.timeline {
        let health = by_second.get(&p.second);
        let latency = |v: f64| if p.requests > 0 { ms(v) } else { String::new() };
        let mb = |b: u64| format!("{:.1}", b as f64 / 1_048_576.0);
        let mut row = vec![
            p.second.to_string(),
            text(&p.scenario),
            p.active_vus.to_string(),
            p.iterations_started.to_string(),
            p.iterations_completed.to_string(),
            p.dropped.to_string(),
            p.requests.to_string(),
            p.failures.to_string(),
            latency(p.p50),
            latency(p.p95),
            latency(p.p99),
        ];
        row.extend(match health {
            Some(h) => [
                format!("{:.1}", h.cpu_percent),
                mb(h.rss_bytes),
                format!("{:.1}", h.machine_cpu_percent),
                mb(h.machine_memory_bytes),
            ],
            None => Default::default(),
        });
        for m in &r.monitors {
            let v = m.values.get(p.second as usize).copied().flatten();
            row.push(v.map_or(String::new(), |v| format!("{v}")));
        }
        let _ = w.write_record(row);
    }
    into_string(w)
}

fn into_string(w: csv::Writer<Vec<u8>>) -> String {
    w.into_inner()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// Writes both files into `dir`; returns their paths.
pub fn write(dir: &Path, r: &Results) -> std::io::Result<Vec<PathBuf>> {
    let results = dir.join("results.csv");
    super::atomic::write(&results, results_csv(r))?;
    let timeline = dir.join("timeline.csv");
    super::atomic::write(&timeline, timeline_csv(r))?;
    Ok(vec![results, timeline])
}
