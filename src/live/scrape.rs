//! The scrape endpoint (`--metrics-listen ADDR`): `GET /metrics` answers the
//! board's latest snapshot in the OpenMetrics text format, encoded by the
//! `prometheus-client` crate, on a thread of its own so that a slow scraper
//! never holds up the run. It stays up a little after the run (`linger`) so
//! that the last scrape sees the end.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use super::{Board, CLASSES};

/// The content type of the OpenMetrics text format.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The whole exposition of the board's latest snapshot.
pub fn render(board: &Arc<Board>) -> String {
    let labels = [
        ("testid", board.identity.testid.clone()),
        ("segment", board.identity.segment.clone()),
    ];
    let mut registry = Registry::with_prefix_and_labels(
        "trek",
        labels
            .into_iter()
            .map(|(k, v)| (std::borrow::Cow::Borrowed(k), std::borrow::Cow::Owned(v))),
    );
    registry.register_collector(Box::new(Series(board.clone())));
    let mut out = String::new();
    if prometheus_client::encoding::text::encode(&mut out, &registry).is_err() {
        out.clear();
    }
    out
}

/// The board as a `prometheus-client` collector.
#[derive(Debug)]
struct Series(Arc<Board>);

impl Collector for Series {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let board = &self.0;
        let snap = board.latest();
        let step_labels = |i: usize| {
            let l = &board.steps[i];
            vec![("scenario", l.scenario.clone()), ("step", l.step.clone())]
        };
        let requests = board.steps.iter().enumerate().filter(|(_, l)| l.request);

        let mut m = enc.encode_descriptor(
            "requests",
            "Requests sent, by step.",
            None,
            MetricType::Counter,
        )?;
        for (i, _) in requests.clone() {
            ConstCounter::new(snap.steps[i].requests).encode(m.encode_family(&step_labels(i))?)?;
        }
        let mut m = enc.encode_descriptor(
            "request_failures",
            "Failed requests, by step and class (status, check, timeout, connect, other).",
            None,
            MetricType::Counter,
        )?;
        for (i, _) in requests.clone() {
            for (c, class) in CLASSES.iter().enumerate() {
                let mut labels = step_labels(i);
                labels.push(("class", class.to_string()));
                ConstCounter::new(snap.steps[i].failures[c]).encode(m.encode_family(&labels)?)?;
            }
        }
        let mut m = enc.encode_descriptor(
            "checks",
            "Checks, by step and result.",
            None,
            MetricType::Counter,
        )?;
        for (i, _) in requests.clone() {
            for (result, n) in [
                ("passed", snap.steps[i].checks_passed),
                ("failed", snap.steps[i].checks_failed),
            ] {
                let mut labels = step_labels(i);
                labels.push(("result", result.to_string()));
                ConstCounter::new(n).encode(m.encode_family(&labels)?)?;
            }
        }
        let mut m = enc.encode_descriptor(
            "bytes",
            "Bytes sent and received, by step.",
            None,
            MetricType::Counter,
        )?;
        for (i, _) in requests.clone() {
            for (direction, n) in [
                ("sent", snap.steps[i].sent),
                ("received", snap.steps[i].received),
            ] {
                let mut labels = step_labels(i);
                labels.push(("direction", direction.to_string()));
                ConstCounter::new(n).encode(m.encode_family(&labels)?)?;
            }
        }
        let histograms = [
            ("latency_seconds", "Time from the request (its due time in the open model) to the whole answer, by step."),
            ("first_byte_seconds", "Time to the answer's first byte (a stream's first event or message), by step."),
            ("gap_seconds", "Time between a stream's events or messages, by step."),
        ];
        for (h, (name, help)) in histograms.into_iter().enumerate() {
            let mut m = enc.encode_descriptor(name, help, None, MetricType::Histogram)?;
            for (i, _) in board.steps.iter().enumerate() {
                let s = &snap.steps[i];
                let b = match h {
                    0 => &s.latency,
                    1 => &s.first_byte,
                    _ => &s.gap,
                };
                if b.count == 0 {
                    continue;
                }
                m.encode_family(&step_labels(i))?
                    .encode_histogram::<prometheus_client::encoding::NoLabelSet>(
                        b.sum,
                        b.count,
                        &b.pairs(),
                        None,
                    )?;
            }
        }
        let mut m = enc.encode_descriptor(
            "iterations",
            "Iterations by scenario and state: started, completed (failed ones included), failed, interrupted, dropped.",
            None,
            MetricType::Counter,
        )?;
        for (i, name) in board.scenarios.iter().enumerate() {
            let s = &snap.scenarios[i];
            for (state, n) in [
                ("started", s.started),
                ("completed", s.completed),
                ("failed", s.failed),
                ("interrupted", s.interrupted),
                ("dropped", s.dropped),
            ] {
                let labels = vec![("scenario", name.clone()), ("state", state.to_string())];
                ConstCounter::new(n).encode(m.encode_family(&labels)?)?;
            }
        }
        let mut m = enc.encode_descriptor(
            "slo_bound",
            "The bounds of the test's SLOs (level target or critical), in the unit of their metric.",
            None,
            MetricType::Gauge,
        )?;
        for b in &board.bounds {
            for (level, value) in [("target", b.target), ("critical", b.critical)] {
                let Some(value) = value else { continue };
                let labels = vec![
                    ("scope", b.scope.clone()),
                    ("metric", b.metric.clone()),
                    ("stat", b.stat.clone()),
                    ("level", level.to_string()),
                ];
                ConstGauge::new(value).encode(m.encode_family(&labels)?)?;
            }
        }
        let mut m = enc.encode_descriptor(
            "active_users",
            "Virtual users running, by scenario.",
            None,
            MetricType::Gauge,
        )?;
        for (i, name) in board.scenarios.iter().enumerate() {
            let labels = vec![("scenario", name.clone())];
            ConstGauge::new(snap.scenarios[i].active as i64).encode(m.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

/// A running scrape endpoint.
pub struct Endpoint {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Endpoint {
    /// Listens on `addr` (port 0: a free one) and serves the board.
    pub fn start(addr: SocketAddr, board: Arc<Board>) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("trek-metrics".into())
            .spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    let app = axum::Router::new()
                        .route("/metrics", axum::routing::get(answer))
                        .with_state(board);
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = stopped.await;
                        })
                        .await;
                });
            })?;
        Ok(Self {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Keeps serving for `linger`, then stops.
    pub fn stop_after(mut self, linger: Duration) {
        std::thread::sleep(linger);
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.stop_now();
    }
}

async fn answer(
    axum::extract::State(board): axum::extract::State<Arc<Board>>,
) -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, CONTENT_TYPE)],
        render(&board),
    )
}
