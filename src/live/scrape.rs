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

use super::series::{families, Kind, Value};
use super::Board;

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
        let snap = self.0.latest();
        for family in families(&self.0, &snap) {
            let kind = match family.kind {
                Kind::Counter => MetricType::Counter,
                Kind::Gauge => MetricType::Gauge,
                Kind::Histogram => MetricType::Histogram,
            };
            let mut m = enc.encode_descriptor(family.name, family.help, None, kind)?;
            for (labels, value) in &family.series {
                let mut e = m.encode_family(labels)?;
                match value {
                    Value::Count(n) => ConstCounter::new(*n).encode(e)?,
                    Value::Gauge(v) => ConstGauge::new(*v).encode(e)?,
                    Value::Histogram(b, _) => e
                        .encode_histogram::<prometheus_client::encoding::NoLabelSet>(
                            b.sum,
                            b.count,
                            &b.pairs(),
                            None,
                        )?,
                }
            }
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
