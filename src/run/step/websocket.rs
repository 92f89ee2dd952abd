//! The `websocket:` step: opens a connection (with the step's headers and
//! the user's cookies on the handshake) or takes one kept by an earlier step,
//! then runs its actions: `send`, `receive` (skipping messages that do not
//! match, until a timeout), `sleep` and `close`.
//!
//! Measured: the handshake (`connect`), the time to the first message
//! (`first_byte`), each `receive` from its preceding `send`, the gaps between
//! messages, and the whole step (`latency`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use minijinja::value::Value;
use serde_json::Value as J;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::events::StepLine;
use crate::format::format_secs;
use crate::metrics::Sample;
use crate::plan::{Step, WsAction, WsMatch, WsStep, WsTarget};
use crate::run::expect;
use crate::run::protocol::websocket::{self as ws, Conn, Handshake};
use crate::run::vu::{Cursor, Env, Flow};

/// Connections kept open across steps of one iteration, by step label.
#[derive(Default)]
pub struct Kept(Mutex<HashMap<String, Conn>>);

impl Kept {
    fn take(&self, name: &str) -> Option<Conn> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(name)
    }

    fn put(&self, name: &str, conn: Conn) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string(), conn);
    }
}

/// What happened during the step.
#[derive(Default)]
struct Log {
    connect: Option<Duration>,
    /// The connection was kept by an earlier step: no handshake.
    reused: bool,
    first_message: Option<Duration>,
    messages: u64,
    gaps: Vec<u64>,
    receives: Vec<u64>,
    checks_passed: u64,
    bytes_sent: u64,
    bytes_received: u64,
}

pub async fn ws_step(env: &Env, cur: &mut Cursor, step: &Step, w: &WsStep) -> Flow {
    let lag = std::mem::take(&mut cur.lag);
    let start = Instant::now();
    let mut log = Log::default();
    let result =
        tokio::time::timeout(w.timeout, converse(env, cur, step, w, start, &mut log)).await;
    let timed_out = result.is_err();
    let failure = match result {
        Ok(Ok(())) => None,
        Ok(Err(reason)) => Some(reason),
        Err(_) => Some(format!(
            "the step took longer than its timeout ({})",
            format_secs(w.timeout.as_secs_f64())
        )),
    };
    let latency = start.elapsed() + lag;
    env.trace(|| StepLine {
        failed: failure.is_some(),
        label: Some(step.label.to_string()),
        answer: "ws".into(),
        seconds: Some(latency.as_secs_f64()),
        detail: match &failure {
            Some(f) => format!("{} messages  {f}", log.messages),
            None => format!("{} messages", log.messages),
        },
    });
    let answered = log.connect.is_some() || log.reused;
    env.worker.record(&Sample {
        step: w.id,
        scenario: env.scenario,
        latency_us: latency.as_micros() as u64,
        service_us: (latency - lag).as_micros() as u64,
        first_byte_us: log.first_message.map(|d| (d + lag).as_micros() as u64),
        sent: log.bytes_sent,
        received: log.bytes_received,
        failure: failure.as_deref(),
        response: &[],
        checks_passed: log.checks_passed,
        checks_failed: u64::from(failure.is_some()),
        events: log.messages,
        gaps: &log.gaps,
        connect_us: log.connect.map(|d| d.as_micros() as u64),
        receives: &log.receives,
        second: env.run.second(),
        is_request: answered || failure.is_some(),
        timed: answered || timed_out,
    });
    if failure.is_some() {
        cur.failed = true;
        if !step.continue_on_fail {
            return Flow::Stop;
        }
    }
    Flow::Next
}

/// Connects (or reuses) and runs the actions; `Err` is the failure reason.
async fn converse(
    env: &Env,
    cur: &mut Cursor,
    step: &Step,
    w: &WsStep,
    start: Instant,
    log: &mut Log,
) -> Result<(), String> {
    let mut conn = match &w.target {
        WsTarget::Use(name) => {
            let conn = env.kept.take(name).ok_or_else(|| {
                format!("no open connection kept by step `{name}` (did it fail, or close?)")
            })?;
            log.reused = true;
            conn
        }
        WsTarget::Url { url, base } => {
            let scope = Value::from_dyn_object(cur.scope.clone());
            let rendered = url.render(&scope).map_err(|e| format!("URL: {e}"))?;
            let full = match base {
                Some(b) if !(rendered.starts_with("ws://") || rendered.starts_with("wss://")) => {
                    let slash = if rendered.starts_with('/') { "" } else { "/" };
                    format!("{b}{slash}{rendered}")
                }
                _ => rendered.into_owned(),
            };
            let conn = connect(env, w, &full, &scope).await?;
            log.connect = Some(start.elapsed());
            env.worker.response();
            conn
        }
    };
    let mut last_send = start;
    let mut last_message: Option<Duration> = None;
    let mut closed = false;
    let outcome: Result<(), String> = async {
        for action in &w.actions {
            match action {
                WsAction::SendText(t) => {
                    let scope = Value::from_dyn_object(cur.scope.clone());
                    let text = t
                        .render(&scope)
                        .map_err(|e| format!("send: {e}"))?
                        .into_owned();
                    log.bytes_sent += text.len() as u64;
                    conn.send(Message::text(text)).await.map_err(broken)?;
                    last_send = Instant::now();
                }
                WsAction::SendJson(t) => {
                    let scope = Value::from_dyn_object(cur.scope.clone());
                    let text = t
                        .render(&scope)
                        .map_err(|e| format!("send: {e}"))?
                        .to_string();
                    log.bytes_sent += text.len() as u64;
                    conn.send(Message::text(text)).await.map_err(broken)?;
                    last_send = Instant::now();
                }
                WsAction::Sleep(d) => tokio::time::sleep(*d).await,
                WsAction::Close => {
                    let _ = conn.close(None).await;
                    closed = true;
                }
                WsAction::Receive {
                    matcher,
                    timeout,
                    captures,
                } => {
                    let deadline = tokio::time::Instant::now() + *timeout;
                    let mut skipped = 0u64;
                    loop {
                        let next = tokio::time::timeout_at(deadline, conn.next())
                            .await
                            .map_err(|_| {
                                format!(
                                    "no matching message within {} ({skipped} other messages)",
                                    format_secs(timeout.as_secs_f64())
                                )
                            })?;
                        let text = match next {
                            None => return Err("the server closed the connection".into()),
                            Some(Err(e)) => return Err(broken(e)),
                            Some(Ok(Message::Close(frame))) => {
                                closed = true;
                                return Err(match frame {
                                    Some(f) => format!(
                                        "the server closed the connection ({} {})",
                                        u16::from(f.code),
                                        f.reason
                                    ),
                                    None => "the server closed the connection".into(),
                                });
                            }
                            Some(Ok(Message::Text(t))) => t.to_string(),
                            Some(Ok(Message::Binary(b))) => {
                                String::from_utf8_lossy(&b).into_owned()
                            }
                            Some(Ok(_)) => continue, // ping, pong, frame
                        };
                        let at = start.elapsed();
                        log.messages += 1;
                        log.bytes_received += text.len() as u64;
                        match last_message {
                            None => log.first_message = Some(at),
                            Some(p) => log.gaps.push((at - p).as_micros() as u64),
                        }
                        last_message = Some(at);
                        let scope = Value::from_dyn_object(cur.scope.clone());
                        if !message_matches(matcher, &text, &scope) {
                            skipped += 1;
                            continue;
                        }
                        log.receives.push(last_send.elapsed().as_micros() as u64);
                        log.checks_passed += 1;
                        if !captures.is_empty() {
                            let resp = crate::run::protocol::http::Response {
                                status: 101,
                                headers: Default::default(),
                                body: text.into(),
                                first_byte: Duration::ZERO,
                                latency: Duration::ZERO,
                                ended: Instant::now(),
                                sent: 0,
                                received: 0,
                                cut: false,
                            };
                            let values =
                                expect::capture(captures, &expect::Seen::new(&resp), &scope)?;
                            drop(scope);
                            for (k, v) in values {
                                cur.set(k, v);
                            }
                        }
                        break;
                    }
                }
            }
        }
        Ok(())
    }
    .await;
    // A kept connection goes back under its owner's name after each use.
    let keep_as = match &w.target {
        WsTarget::Use(name) => Some(name.as_str()),
        WsTarget::Url { .. } if w.keep => Some(&*step.label),
        WsTarget::Url { .. } => None,
    };
    if let (Ok(()), Some(name), false) = (&outcome, keep_as, closed) {
        env.kept.put(name, conn);
    } else if !closed {
        let _ = conn.close(None).await;
    }
    outcome
}

async fn connect(env: &Env, w: &WsStep, url: &str, scope: &Value) -> Result<Conn, String> {
    let mut request = url.into_client_request().map_err(|e| {
        format!(
            "invalid WebSocket URL `{}`: {e}",
            url.split('?').next().unwrap_or_default()
        )
    })?;
    for (name, tpl) in &w.headers {
        let value = tpl
            .render(scope)
            .map_err(|e| format!("header `{name}`: {e}"))?;
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("`{name}` is not a valid header name"))?;
        let v = HeaderValue::from_str(&value)
            .map_err(|_| format!("header `{name}` has a value that cannot be sent"))?;
        request.headers_mut().insert(n, v);
    }
    let http_url = url
        .replacen("wss://", "https://", 1)
        .replacen("ws://", "http://", 1);
    let own_cookie = request.headers().contains_key("cookie");
    if let (Ok(u), false) = (url::Url::parse(&http_url), own_cookie) {
        if let Some(c) = env.jar.get(&u) {
            if let Ok(v) = HeaderValue::from_bytes(c.as_bytes()) {
                request.headers_mut().insert("cookie", v);
            }
        }
    }
    match ws::handshake(env.worker.links(), w.link, request, w.max_message).await {
        Ok(conn) => Ok(conn),
        Err(Handshake::Refused(status)) => {
            env.worker.response();
            Err(format!("handshake refused: status {status}"))
        }
        Err(Handshake::Unreachable(reason)) => {
            env.worker.connect_error(&reason);
            Err(reason)
        }
        Err(Handshake::Failed(reason)) => Err(reason),
    }
}

fn broken(e: WsError) -> String {
    use tokio_tungstenite::tungstenite::error::CapacityError;
    match e {
        WsError::Capacity(CapacityError::MessageTooLong { size, max_size }) => format!(
            "a message of {} is larger than `max_body` ({}): the connection was closed",
            crate::format::bytes(size as u64),
            crate::format::bytes(max_size as u64)
        ),
        e => format!("the connection broke: {e}"),
    }
}

fn message_matches(matcher: &WsMatch, text: &str, scope: &Value) -> bool {
    match matcher {
        WsMatch::Any => true,
        WsMatch::Regex(re) => re.is_match(text),
        WsMatch::Json(checks) => {
            let Ok(json) = serde_json::from_str::<J>(text) else {
                return false;
            };
            checks.iter().all(|c| {
                let found = jsonpath_rust::query::js_path_process(&c.query, &json)
                    .ok()
                    .and_then(|v| v.into_iter().next().map(|r| r.val.clone()));
                expect::matches(&c.matcher, found.as_ref(), scope).is_ok()
            })
        }
    }
}
