//! Remote write while the run goes (`--remote-write URL`): every `every`,
//! the board's latest snapshot is pushed to the receiver on a thread of
//! its own, and once more at the end. A push that fails is counted, never
//! retried into a backlog and never a reason to stop: the next push carries
//! the same cumulative counters. A receiver that refuses native histograms
//! gets the classic buckets only, from then on.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use url::Url;

use super::protocol::side::SideClient;
use crate::live::{push, Board};

/// How long one push may take.
const PUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// What the pushes came to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pushed {
    pub pushes: u64,
    pub failed: u64,
    pub last_error: Option<String>,
    /// The receiver refused native histograms (why).
    pub classic_only: Option<String>,
}

impl Pushed {
    /// The warning to give, if any.
    pub fn warning(&self, url: &Url) -> Option<String> {
        let to = crate::redact::hide_userinfo(url.to_string());
        let mut parts = Vec::new();
        if self.failed > 0 {
            parts.push(format!(
                "remote write to {to}: {} of {} pushes failed (last: {}); the run and its results are complete, the receiver's copy has gaps",
                self.failed,
                self.pushes,
                self.last_error.as_deref().unwrap_or("unknown")
            ));
        }
        if let Some(why) = &self.classic_only {
            parts.push(format!(
                "remote write to {to}: the receiver refused native histograms ({why}); latency went as classic buckets only (Prometheus: --enable-feature=native-histograms)"
            ));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// A pusher running.
pub struct RemoteWrite {
    url: Url,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Pushed>>,
}

impl RemoteWrite {
    /// Starts pushing `board` to `url` every `every`.
    pub fn start(url: Url, every: Duration, board: Arc<Board>) -> std::io::Result<Self> {
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let target = url.clone();
        let thread = std::thread::Builder::new()
            .name("trek-remote-write".into())
            .spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return Pushed {
                        last_error: Some("cannot start its runtime".into()),
                        ..Pushed::default()
                    };
                };
                rt.block_on(async move {
                    let mut pusher = Pusher {
                        client: SideClient::new(),
                        url: target,
                        native: board.native,
                        pushed: Pushed::default(),
                    };
                    let mut tick = tokio::time::interval(every);
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    tick.tick().await;
                    loop {
                        tokio::select! {
                            _ = tick.tick() => pusher.push(&board).await,
                            _ = &mut stopped => break,
                        }
                    }
                    pusher.push(&board).await;
                    pusher.pushed
                })
            })?;
        Ok(Self {
            url,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The final push (of the snapshot the end of the run left on the
    /// board), then stops; what the pushes came to.
    pub fn finish(mut self) -> Pushed {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }

    pub fn url(&self) -> &Url {
        &self.url
    }
}

struct Pusher {
    client: SideClient,
    url: Url,
    native: bool,
    pushed: Pushed,
}

impl Pusher {
    async fn push(&mut self, board: &Board) {
        let snap = board.latest();
        self.pushed.pushes += 1;
        let mut result = self.send(push::body(board, &snap, self.native)).await;
        if let (true, Err(Refused::Status(why))) = (self.native, &result) {
            // Perhaps the native histograms: try again without them.
            let why = why.clone();
            result = self.send(push::body(board, &snap, false)).await;
            if result.is_ok() {
                self.native = false;
                self.pushed.classic_only = Some(why);
            }
        }
        if let Err(e) = result {
            self.pushed.failed += 1;
            self.pushed.last_error = Some(e.to_string());
        }
    }

    async fn send(&self, body: Vec<u8>) -> Result<(), Refused> {
        let r = self
            .client
            .request(
                Method::POST,
                &self.url,
                &push::HEADERS,
                Some(Bytes::from(body)),
                PUSH_TIMEOUT,
                4096,
            )
            .await
            .map_err(Refused::Unreachable)?;
        if (200..300).contains(&r.status) {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&r.body);
        let text = text.trim();
        let text: String = text.chars().take(200).collect();
        Err(Refused::Status(if text.is_empty() {
            format!("status {}", r.status)
        } else {
            format!("status {}: {}", r.status, crate::redact::redact_text(&text))
        }))
    }
}

enum Refused {
    Unreachable(String),
    Status(String),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Unreachable(e) | Refused::Status(e) => f.write_str(e),
        }
    }
}
