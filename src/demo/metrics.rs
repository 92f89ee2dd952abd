//! The demo target's own metrics at `/metrics` (Prometheus text, encoded by
//! `prometheus-client`), for `monitor:` to sample: requests in flight, a
//! simulated database connection pool that fills with the API requests in
//! flight, the requests served, and the process' CPU time. They move with
//! the load, as a real service's would.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

/// Connections of the simulated database pool.
pub const POOL_SIZE: i64 = 20;

/// What the metrics count.
#[derive(Debug, Default)]
pub struct Gauges {
    in_flight: AtomicI64,
    api_in_flight: AtomicI64,
    requests: AtomicU64,
    /// API requests that found every pool connection in use.
    pool_waits: AtomicU64,
}

/// Counts every request while it is served, its body included (a streamed
/// answer is in flight until its last event).
pub async fn track(State(g): State<Arc<Gauges>>, request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let guard = InFlight::new(g.clone(), api);
    let response = next.run(request).await;
    response.map(|inner| {
        axum::body::Body::new(Guarded {
            inner,
            _guard: guard,
        })
    })
}

/// A response body that keeps its request in flight until it is done (its
/// length still known, so that it goes with `content-length`).
struct Guarded {
    inner: axum::body::Body,
    _guard: InFlight,
}

impl http_body::Body for Guarded {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// One request in flight, until dropped.
struct InFlight {
    g: Arc<Gauges>,
    api: bool,
}

impl InFlight {
    fn new(g: Arc<Gauges>, api: bool) -> Self {
        g.in_flight.fetch_add(1, Ordering::Relaxed);
        if api && g.api_in_flight.fetch_add(1, Ordering::Relaxed) >= POOL_SIZE {
            g.pool_waits.fetch_add(1, Ordering::Relaxed);
        }
        Self { g, api }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.api {
            self.g.api_in_flight.fetch_sub(1, Ordering::Relaxed);
        }
        self.g.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.g.requests.fetch_add(1, Ordering::Relaxed);
    }
}

/// `GET /metrics`.
pub async fn serve(State(g): State<Arc<Gauges>>) -> impl IntoResponse {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Snapshot(g)));
    let mut out = String::new();
    if prometheus_client::encoding::text::encode(&mut out, &registry).is_err() {
        out.clear();
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        out,
    )
}

#[derive(Debug)]
struct Snapshot(Arc<Gauges>);

impl Collector for Snapshot {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let g = &self.0;
        // Not counting the scrape itself.
        let in_flight = (g.in_flight.load(Ordering::Relaxed) - 1).max(0);
        let api = g.api_in_flight.load(Ordering::Relaxed).max(0);
        let in_use = api.min(POOL_SIZE);
        let gauge = |enc: &mut DescriptorEncoder, name, help, v: i64| {
            let m = enc.encode_descriptor(name, help, None, MetricType::Gauge)?;
            ConstGauge::new(v).encode(m)
        };
        gauge(
            &mut enc,
            "http_requests_in_flight",
            "Requests being served.",
            in_flight,
        )?;
        let mut m = enc.encode_descriptor(
            "db_pool_connections",
            "Connections of the (simulated) database pool, by state.",
            None,
            MetricType::Gauge,
        )?;
        for (state, n) in [("in_use", in_use), ("idle", POOL_SIZE - in_use)] {
            ConstGauge::new(n).encode(m.encode_family(&[("state", state)])?)?;
        }
        gauge(
            &mut enc,
            "db_pool_waiting",
            "API requests waiting for a pool connection.",
            (api - POOL_SIZE).max(0),
        )?;
        let counter = |enc: &mut DescriptorEncoder, name, help, v: ConstCounter<u64>| {
            let m = enc.encode_descriptor(name, help, None, MetricType::Counter)?;
            v.encode(m)
        };
        counter(
            &mut enc,
            "db_pool_waits",
            "API requests that found every pool connection in use.",
            ConstCounter::new(g.pool_waits.load(Ordering::Relaxed)),
        )?;
        counter(
            &mut enc,
            "http_requests",
            "Requests served.",
            ConstCounter::new(g.requests.load(Ordering::Relaxed)),
        )?;
        let m = enc.encode_descriptor(
            "process_cpu_seconds",
            "CPU time the demo target used (user and system).",
            None,
            MetricType::Counter,
        )?;
        ConstCounter::new(cpu_seconds()).encode(m)?;
        Ok(())
    }
}

/// The process' user and system CPU time (Linux; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // The fields after the command (in parentheses, which may hold spaces).
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15, 12 and 13 after the command.
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i)?.parse::<f64>().ok())
        .sum();
    // Clock ticks per second: 100 on Linux.
    ticks / 100.0
}
