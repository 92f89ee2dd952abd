//! What remote write sends (`--remote-write URL`): the board's snapshot as
//! a Prometheus remote write 1.0 request, protobuf (`proto.rs`) compressed
//! with snappy. The series are those of the scrape endpoint; latency-type
//! histograms go both as the classic `_bucket`/`_sum`/`_count` series (the
//! dashboard's queries) and, when `native`, as one native histogram series
//! each. The sending is the runtime's (`run/remote_write.rs`).

use prost::Message;

use super::native::{Native, SCHEMA};
use super::proto::{BucketSpan, Histogram, Label, Sample, TimeSeries, WriteRequest};
use super::series::{families, Kind, Labels, Value};
use super::{buckets, Board, Snapshot};

/// The headers a remote write request carries besides its body.
pub const HEADERS: [(&str, &str); 3] = [
    ("content-type", "application/x-protobuf"),
    ("content-encoding", "snappy"),
    ("x-prometheus-remote-write-version", "0.1.0"),
];

/// The snapshot as a remote write request body (compressed).
pub fn body(board: &Board, snap: &Snapshot, native: bool) -> Vec<u8> {
    let request = write_request(board, snap, native);
    let raw = request.encode_to_vec();
    snap::raw::Encoder::new()
        .compress_vec(&raw)
        .unwrap_or_default()
}

/// The snapshot as remote write series.
pub fn write_request(board: &Board, snap: &Snapshot, native: bool) -> WriteRequest {
    let at = snap.at_ms;
    let mut out = Vec::new();
    let base = |name: String, labels: &Labels| -> Vec<Label> {
        let mut l: Vec<Label> = labels
            .iter()
            .map(|(k, v)| Label {
                name: (*k).to_string(),
                value: v.clone(),
            })
            .collect();
        l.push(label("__name__", &name));
        l.push(label("testid", &board.identity.testid));
        l.push(label("segment", &board.identity.segment));
        l.sort_by(|a, b| a.name.cmp(&b.name));
        l
    };
    let sample = |labels: Vec<Label>, value: f64| TimeSeries {
        labels,
        samples: vec![Sample {
            value,
            timestamp: at,
        }],
        histograms: Vec::new(),
    };
    for family in families(board, snap) {
        let name = format!("trek_{}", family.name);
        for (labels, value) in &family.series {
            match (family.kind, value) {
                (Kind::Counter, Value::Count(n)) => {
                    out.push(sample(base(format!("{name}_total"), labels), *n as f64));
                }
                (_, Value::Count(n)) => out.push(sample(base(name.clone(), labels), *n as f64)),
                (_, Value::Gauge(v)) => out.push(sample(base(name.clone(), labels), *v)),
                (_, Value::Histogram(b, n)) => {
                    classic(&mut out, &name, labels, b, &base, &sample);
                    if let Some(n) = n.filter(|_| native) {
                        out.push(TimeSeries {
                            labels: base(name.clone(), labels),
                            samples: Vec::new(),
                            histograms: vec![histogram(n, at)],
                        });
                    }
                }
            }
        }
    }
    WriteRequest { timeseries: out }
}

fn label(name: &str, value: &str) -> Label {
    Label {
        name: name.to_string(),
        value: value.to_string(),
    }
}

/// A histogram's `_bucket` (cumulative, by `le`), `_sum` and `_count`.
fn classic(
    out: &mut Vec<TimeSeries>,
    name: &str,
    labels: &Labels,
    b: &buckets::Buckets,
    base: &impl Fn(String, &Labels) -> Vec<Label>,
    sample: &impl Fn(Vec<Label>, f64) -> TimeSeries,
) {
    let mut cumulative = 0;
    for (le, n) in b.pairs() {
        cumulative += n;
        let mut l = labels.clone();
        l.push(("le", le_label(le)));
        out.push(sample(
            base(format!("{name}_bucket"), &l),
            cumulative as f64,
        ));
    }
    out.push(sample(base(format!("{name}_sum"), labels), b.sum));
    out.push(sample(
        base(format!("{name}_count"), labels),
        b.count as f64,
    ));
}

/// An `le` label as Prometheus writes it.
fn le_label(le: f64) -> String {
    if le.is_infinite() {
        "+Inf".into()
    } else {
        format!("{le}")
    }
}

fn histogram(n: &Native, at: i64) -> Histogram {
    let (spans, deltas) = n.spans_and_deltas();
    Histogram {
        count_int: n.count,
        sum: n.sum,
        schema: SCHEMA,
        zero_threshold: 0.0,
        zero_count_int: n.zero_count,
        positive_spans: spans
            .into_iter()
            .map(|(offset, length)| BucketSpan { offset, length })
            .collect(),
        positive_deltas: deltas,
        timestamp: at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{Identity, StepLabels};
    use crate::metrics::hist::Hist;

    fn board() -> std::sync::Arc<Board> {
        Board::new(
            Identity {
                testid: "t1".into(),
                segment: "0/1".into(),
            },
            vec!["shop".into()],
            vec![StepLabels {
                scenario: "shop".into(),
                step: "home".into(),
                request: true,
            }],
            Vec::new(),
            true,
            Vec::new(),
        )
    }

    #[test]
    fn a_snapshot_becomes_sorted_series_with_classic_and_native_histograms() {
        let board = board();
        let mut snap = (*board.latest()).clone();
        let mut h = Hist::default();
        h.record(1_000);
        h.record(2_000);
        let s = &mut snap.steps[0];
        s.requests = 2;
        s.latency.add(&h);
        let mut n = Native::default();
        n.add(&h);
        s.latency_native = Some(n);
        let req = write_request(&board, &snap, true);
        let name = |t: &TimeSeries| {
            t.labels
                .iter()
                .find(|l| l.name == "__name__")
                .map(|l| l.value.clone())
                .unwrap()
        };
        for t in &req.timeseries {
            let names: Vec<_> = t.labels.iter().map(|l| l.name.as_str()).collect();
            let mut sorted = names.clone();
            sorted.sort();
            assert_eq!(names, sorted);
            assert!(names.contains(&"testid") && names.contains(&"segment"));
        }
        let requests = req
            .timeseries
            .iter()
            .find(|t| name(t) == "trek_requests_total")
            .unwrap();
        assert_eq!(requests.samples[0].value, 2.0);
        let native: Vec<_> = req
            .timeseries
            .iter()
            .filter(|t| !t.histograms.is_empty())
            .collect();
        assert_eq!(native.len(), 1);
        assert_eq!(name(native[0]), "trek_latency_seconds");
        assert_eq!(native[0].histograms[0].count_int, 2);
        let inf = req
            .timeseries
            .iter()
            .find(|t| {
                name(t) == "trek_latency_seconds_bucket"
                    && t.labels.iter().any(|l| l.name == "le" && l.value == "+Inf")
            })
            .unwrap();
        assert_eq!(inf.samples[0].value, 2.0);
        // Without native histograms: the classic series only.
        let classic = write_request(&board, &snap, false);
        assert!(classic.timeseries.iter().all(|t| t.histograms.is_empty()));
        assert_eq!(classic.timeseries.len() + 1, req.timeseries.len());
        // The body is snappy-compressed protobuf that decodes back.
        let body = body(&board, &snap, true);
        let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
        assert_eq!(WriteRequest::decode(raw.as_slice()).unwrap(), req);
    }
}
