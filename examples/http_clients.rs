//! How fast can one core send requests with each HTTP client trek could use?
//! Runs N connections for S seconds against a URL on a current-thread
//! runtime and prints requests/s, so reqwest and hyper can be compared
//! directly (bench/RESULTS.md keeps the figures).
//!
//!   cargo run --release --example http_clients -- reqwest http://127.0.0.1:8080/health 50 5
//!   modes: reqwest        one shared reqwest::Client (what trek used before)
//!          hyper-spawned  a hyper HTTP/1 connection per task, driven by
//!                         a task of its own (hyper's documented way)
//!          hyper-inline   the connection driven by the task that uses it
//!                         (what trek did before it had its own client)
//!          trek           trek's own HTTP/1.1 client (src/run/protocol/h1.rs)

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).cloned().unwrap_or_else(|| "reqwest".into());
    let url: String = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1:8080/health".into());
    let conns: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(50);
    let secs: u64 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(5);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let count = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    rt.block_on(async {
        let mut tasks = Vec::new();
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .tcp_nodelay(true)
            .build()
            .unwrap();
        for _ in 0..conns {
            let (count, url, mode, client) =
                (count.clone(), url.clone(), mode.clone(), client.clone());
            tasks.push(tokio::spawn(async move {
                match mode.as_str() {
                    "reqwest" => {
                        while Instant::now() < deadline {
                            let r = client.get(&url).send().await.unwrap();
                            assert_eq!(r.status(), 200);
                            r.bytes().await.unwrap();
                            count.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    "trek" => trek_loop(&url, &count, deadline).await,
                    m => hyper_loop(m == "hyper-inline", &url, &count, deadline).await,
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    let n = count.load(Ordering::Relaxed);
    println!("{mode}: {n} requests, {:.0} req/s", n as f64 / secs as f64);
}

async fn trek_loop(url: &str, count: &AtomicU64, deadline: Instant) {
    use trek::run::protocol::h1::{exchange, Conns, Outgoing};
    use trek::run::protocol::stream::Links;
    let url = url::Url::parse(url).unwrap();
    let conns = Arc::new(Conns::default());
    let links = Links::new(&[trek::plan::Link {
        tls: Default::default(),
        http_version: trek::scenario::net::HttpVersion::Http1,
        proxy: Some(trek::scenario::net::Proxy::None),
    }]);
    let headers = reqwest::header::HeaderMap::new();
    while Instant::now() < deadline {
        let req = Outgoing {
            link: 0,
            method: &reqwest::Method::GET,
            url: &url,
            headers: &headers,
            cookie: None,
            body: None,
            compressed: true,
        };
        let head = exchange(&conns, &links, req).await.unwrap();
        assert_eq!(head.status, 200);
        head.body.all(usize::MAX).await.unwrap();
        count.fetch_add(1, Ordering::Relaxed);
    }
}

async fn hyper_loop(inline: bool, url: &str, count: &AtomicU64, deadline: Instant) {
    let uri: hyper::Uri = url.parse().unwrap();
    let host = uri.authority().unwrap().as_str().to_string();
    let addr = format!("{}:{}", uri.host().unwrap(), uri.port_u16().unwrap_or(80));
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut send, conn) = hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(io)
        .await
        .unwrap();
    let mut conn = Box::pin(conn);
    if !inline {
        tokio::spawn(async move { conn.await.ok() });
        while Instant::now() < deadline {
            let req = hyper::Request::get(uri.clone())
                .header(hyper::header::HOST, host.as_str())
                .body(Empty::new())
                .unwrap();
            let resp = send.send_request(req).await.unwrap();
            assert_eq!(resp.status(), 200);
            resp.into_body().collect().await.unwrap();
            count.fetch_add(1, Ordering::Relaxed);
        }
        return;
    }
    while Instant::now() < deadline {
        let req = hyper::Request::get(uri.clone())
            .header(hyper::header::HOST, host.as_str())
            .body(Empty::new())
            .unwrap();
        let fut = send.send_request(req);
        tokio::pin!(fut);
        let resp = Drive {
            fut: fut.as_mut(),
            conn: conn.as_mut(),
        }
        .await
        .unwrap();
        assert_eq!(resp.status(), 200);
        let body = resp.into_body().collect();
        tokio::pin!(body);
        Drive {
            fut: body.as_mut(),
            conn: conn.as_mut(),
        }
        .await
        .unwrap();
        count.fetch_add(1, Ordering::Relaxed);
    }
}

/// Polls `fut`, driving `conn` beside it, in the same task.
struct Drive<'a, F, C> {
    fut: Pin<&'a mut F>,
    conn: Pin<&'a mut C>,
}

impl<F: Future, C: Future> Future for Drive<'_, F, C> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        if let Poll::Ready(v) = self.fut.as_mut().poll(cx) {
            return Poll::Ready(v);
        }
        let _ = self.conn.as_mut().poll(cx);
        self.fut.as_mut().poll(cx)
    }
}
