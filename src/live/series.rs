//! The series a run publishes, listed once for both ways out: the scrape
//! endpoint (`scrape.rs`) encodes them as OpenMetrics text, remote write
//! (`push.rs`) as protobuf. Names come without the `trek_` prefix and a
//! counter's `_total` suffix; the labels `testid` and `segment` are added by
//! each way out.

use super::buckets::Buckets;
use super::native::Native;
use super::{Board, Snapshot, CLASSES};

/// A family's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// One series' value.
#[derive(Debug, Clone, Copy)]
pub enum Value<'a> {
    Count(u64),
    Gauge(f64),
    /// Fixed buckets, and the exponential ones when kept.
    Histogram(&'a Buckets, Option<&'a Native>),
}

pub type Labels = Vec<(&'static str, String)>;

/// A metric family: its series, each with its own labels.
#[derive(Debug)]
pub struct Family<'a> {
    pub name: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    pub series: Vec<(Labels, Value<'a>)>,
}

/// Every family of the board's snapshot `snap`.
pub fn families<'a>(board: &Board, snap: &'a Snapshot) -> Vec<Family<'a>> {
    let step_labels = |i: usize| -> Labels {
        let l = &board.steps[i];
        vec![("scenario", l.scenario.clone()), ("step", l.step.clone())]
    };
    let with = |mut l: Labels, name: &'static str, value: &str| {
        l.push((name, value.to_string()));
        l
    };
    let requests: Vec<usize> = (0..board.steps.len())
        .filter(|i| board.steps[*i].request)
        .collect();
    let mut out = Vec::new();
    let mut family = |name, help, kind, series| {
        out.push(Family {
            name,
            help,
            kind,
            series,
        })
    };

    family(
        "requests",
        "Requests sent, by step.",
        Kind::Counter,
        requests
            .iter()
            .map(|&i| (step_labels(i), Value::Count(snap.steps[i].requests)))
            .collect(),
    );
    family(
        "request_failures",
        "Failed requests, by step and class (status, check, timeout, connect, other).",
        Kind::Counter,
        requests
            .iter()
            .flat_map(|&i| {
                CLASSES.iter().enumerate().map(move |(c, class)| {
                    (
                        with(step_labels(i), "class", class),
                        Value::Count(snap.steps[i].failures[c]),
                    )
                })
            })
            .collect(),
    );
    family(
        "checks",
        "Checks, by step and result.",
        Kind::Counter,
        requests
            .iter()
            .flat_map(|&i| {
                let s = &snap.steps[i];
                [("passed", s.checks_passed), ("failed", s.checks_failed)]
                    .map(|(r, n)| (with(step_labels(i), "result", r), Value::Count(n)))
            })
            .collect(),
    );
    family(
        "bytes",
        "Bytes sent and received, by step.",
        Kind::Counter,
        requests
            .iter()
            .flat_map(|&i| {
                let s = &snap.steps[i];
                [("sent", s.sent), ("received", s.received)]
                    .map(|(d, n)| (with(step_labels(i), "direction", d), Value::Count(n)))
            })
            .collect(),
    );
    let histograms: [(&str, &str); 3] = [
        (
            "latency_seconds",
            "Time from the request (its due time in the open model) to the whole answer, by step.",
        ),
        (
            "first_byte_seconds",
            "Time to the answer's first byte (a stream's first event or message), by step.",
        ),
        (
            "gap_seconds",
            "Time between a stream's events or messages, by step.",
        ),
    ];
    for (h, (name, help)) in histograms.into_iter().enumerate() {
        let series = (0..board.steps.len())
            .filter_map(|i| {
                let s = &snap.steps[i];
                let (b, n) = match h {
                    0 => (&s.latency, &s.latency_native),
                    1 => (&s.first_byte, &s.first_byte_native),
                    _ => (&s.gap, &s.gap_native),
                };
                (b.count > 0).then(|| (step_labels(i), Value::Histogram(b, n.as_ref())))
            })
            .collect();
        family(name, help, Kind::Histogram, series);
    }
    family(
        "iterations",
        "Iterations by scenario and state: started, completed (failed ones included), failed, interrupted, dropped.",
        Kind::Counter,
        board
            .scenarios
            .iter()
            .zip(&snap.scenarios)
            .flat_map(|(name, s)| {
                [
                    ("started", s.started),
                    ("completed", s.completed),
                    ("failed", s.failed),
                    ("interrupted", s.interrupted),
                    ("dropped", s.dropped),
                ]
                .map(|(state, n)| {
                    (
                        vec![("scenario", name.clone()), ("state", state.to_string())],
                        Value::Count(n),
                    )
                })
            })
            .collect(),
    );
    family(
        "slo_bound",
        "The bounds of the test's SLOs (level target or critical), in the unit of their metric.",
        Kind::Gauge,
        board
            .bounds
            .iter()
            .flat_map(|b| {
                [("target", b.target), ("critical", b.critical)]
                    .into_iter()
                    .filter_map(move |(level, v)| {
                        let mut labels = vec![
                            ("scope", b.scope.clone()),
                            ("metric", b.metric.clone()),
                            ("stat", b.stat.clone()),
                            ("level", level.to_string()),
                        ];
                        if !b.series.is_empty() {
                            labels.push(("series", b.series.clone()));
                        }
                        v.map(|v| (labels, Value::Gauge(v)))
                    })
            })
            .collect(),
    );
    family(
        "active_users",
        "Virtual users running, by scenario.",
        Kind::Gauge,
        board
            .scenarios
            .iter()
            .zip(&snap.scenarios)
            .map(|(name, s)| {
                (
                    vec![("scenario", name.clone())],
                    Value::Gauge(s.active as f64),
                )
            })
            .collect(),
    );
    let monitored = board.monitor_values();
    family(
        "monitor",
        "The target's monitored series (monitor:), their latest value; counters as a rate per second.",
        Kind::Gauge,
        board
            .monitors
            .iter()
            .zip(monitored)
            .filter_map(|((monitor, series), v)| {
                let labels = vec![("monitor", monitor.clone()), ("series", series.clone())];
                v.map(|v| (labels, Value::Gauge(v)))
            })
            .collect(),
    );
    out
}
