//! The `sse:` step: sends a request, reads the Server-Sent Events stream as
//! it arrives, and stops at the `until` event or the end of the stream.
//! `first_byte` is the time to the first event, `latency` the time to the
//! `until` event (or the end), and the gaps between events are recorded as
//! the stream's inter-token latency.

use std::time::{Duration, Instant};

use super::http::{build_request, finish_with, no_response, Answer};
use crate::events::StepLine;
use crate::format::format_secs;
use crate::plan::{SseStep, Step};
use crate::run::expect::{self, Seen};
use crate::run::protocol::http::{self, Failure};
use crate::run::protocol::sse::{Event, Parser};
use crate::run::vu::{Cursor, Env, Flow};
use crate::scenario::model::Until;

/// What was read from a stream.
struct Read {
    events: u64,
    first_event: Option<Duration>,
    gaps: Vec<u64>,
    last: Option<Event>,
    /// The `until` event arrived.
    reached: bool,
    /// Why reading stopped early, if it did.
    broken: Option<String>,
    bytes: u64,
}

pub async fn sse_step(env: &Env, cur: &mut Cursor, step: &Step, s: &SseStep) -> Flow {
    let h = &s.request;
    let scope = cur.value();
    let mut req = match build_request(env, h, &scope) {
        Ok(r) => r,
        Err(e) => {
            return no_response(
                env,
                cur,
                step,
                h,
                format!("cannot build the request: {e}"),
                None,
            )
        }
    };
    if !req.headers.contains_key(::http::header::ACCEPT) {
        req.headers.insert(
            ::http::header::ACCEPT,
            ::http::header::HeaderValue::from_static("text/event-stream"),
        );
    }
    // Events are read as they arrive: no compression asked for.
    req.compressed = false;
    let lag = std::mem::take(&mut cur.lag);
    let start = Instant::now();
    let timeout = h.timeout;
    let opened = match tokio::time::timeout(timeout, http::open(env.transport(), req, start)).await
    {
        Ok(Ok(o)) => o,
        Ok(Err(f)) => {
            if matches!(f, Failure::Connect(_)) {
                env.worker.connect_error(&f.reason());
            }
            return no_response(env, cur, step, h, f.reason(), f.waited(lag));
        }
        Err(_) => {
            let f = Failure::Timeout(timeout);
            return no_response(env, cur, step, h, f.reason(), f.waited(lag));
        }
    };
    env.worker.response();
    let status = opened.status;
    let headers = opened.headers;
    let (sent, received) = (opened.sent, opened.received);
    let content_type = headers
        .get_str("content-type")
        .unwrap_or_default()
        .to_string();
    let not_a_stream = (200..300).contains(&status) && !content_type.contains("text/event-stream");
    let read = if not_a_stream {
        Read {
            broken: Some(format!(
                "the response is not an event stream (content-type: {content_type:?})"
            )),
            ..Read::empty()
        }
    } else {
        match tokio::time::timeout_at(
            (start + timeout).into(),
            read_stream(opened.body, start, s.until.as_ref(), h.max_body),
        )
        .await
        {
            Ok(read) => read,
            Err(_) => Read {
                broken: Some(match &s.until {
                    Some(u) => format!(
                        "{} did not come within {}",
                        describe(u),
                        format_secs(timeout.as_secs_f64())
                    ),
                    None => format!(
                        "the stream was still open after {}",
                        format_secs(timeout.as_secs_f64())
                    ),
                }),
                ..Read::empty()
            },
        }
    };
    let ended = Instant::now();
    let resp = http::Response {
        status,
        headers,
        body: read
            .last
            .as_ref()
            .map(|e| e.data.clone().into())
            .unwrap_or_default(),
        first_byte: read.first_event.unwrap_or_default(),
        latency: ended.saturating_duration_since(start),
        ended,
        sent,
        received: received + read.bytes,
        cut: false,
    };
    let seen = Seen::new(&resp);
    let outcome = expect::check(&h.expect, &seen, &scope);
    let mut failed_checks = outcome.failed;
    let mut passed = outcome.passed;
    if let Some((min, max)) = h.expect.events {
        let n = read.events;
        let ok = min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m);
        if ok {
            passed += 1;
        } else {
            failed_checks.push(format!("{n} events, expected {}", bounds(min, max)));
        }
    }
    let mut failure = read
        .broken
        .clone()
        .or_else(|| failed_checks.first().cloned());
    if failure.is_none() && (200..300).contains(&status) {
        if let (Some(u), false) = (&s.until, read.reached) {
            failure = Some(format!("the stream ended before {}", describe(u)));
        }
    }
    if failure.is_none() && !h.captures.is_empty() {
        match expect::capture(&h.captures, &seen, &scope) {
            Ok(values) => {
                drop(scope);
                for (k, v) in values {
                    cur.set(k, v);
                }
            }
            Err(e) => failure = Some(e),
        }
    }
    env.trace(|| StepLine {
        failed: failure.is_some(),
        label: Some(step.label.to_string()),
        answer: status.to_string(),
        seconds: Some(resp.latency.as_secs_f64()),
        detail: match &failure {
            Some(f) => format!("{} events  {f}", read.events),
            None => format!("{} events", read.events),
        },
    });
    let checks_failed = failed_checks.len() as u64 + u64::from(read.broken.is_some());
    finish_with(
        env,
        cur,
        step,
        h,
        Answer::Response(&resp, lag, passed, checks_failed),
        Some((read.events, &read.gaps)),
        failure,
    )
}

impl Read {
    fn empty() -> Self {
        Read {
            events: 0,
            first_event: None,
            gaps: Vec::new(),
            last: None,
            reached: false,
            broken: None,
            bytes: 0,
        }
    }
}

async fn read_stream(
    mut body: http::Body,
    start: Instant,
    until: Option<&Until>,
    limit: usize,
) -> Read {
    let mut read = Read::empty();
    let mut parser = Parser::with_limit(limit);
    let mut previous: Option<Duration> = None;
    loop {
        match body.chunk().await {
            Ok(Some(chunk)) => {
                read.bytes += chunk.len() as u64;
                for event in parser.feed(&chunk) {
                    let at = start.elapsed();
                    read.events += 1;
                    match previous {
                        None => read.first_event = Some(at),
                        Some(p) => read.gaps.push((at - p).as_micros() as u64),
                    }
                    previous = Some(at);
                    let done = until.is_some_and(|u| matches(u, &event));
                    read.last = Some(event);
                    if done {
                        read.reached = true;
                        return read;
                    }
                }
                if parser.too_long {
                    read.broken = Some(format!(
                        "an event of the stream is longer than {} (`max_body`): it was not read",
                        crate::format::bytes(limit as u64)
                    ));
                    return read;
                }
            }
            Ok(None) => return read,
            Err(e) => {
                read.broken = Some(format!("the stream broke: {}", e.reason()));
                return read;
            }
        }
    }
}

fn matches(until: &Until, e: &Event) -> bool {
    match until {
        Until::Event(name) => &e.event == name,
        Until::Data(data) => &e.data == data,
    }
}

fn describe(until: &Until) -> String {
    match until {
        Until::Event(name) => format!("an event `{name}`"),
        Until::Data(data) => format!("the data `{data}`"),
    }
}

fn bounds(min: Option<u64>, max: Option<u64>) -> String {
    match (min, max) {
        (Some(a), Some(b)) => format!("{a} to {b}"),
        (Some(a), None) => format!("at least {a}"),
        (None, Some(b)) => format!("at most {b}"),
        (None, None) => "any number".into(),
    }
}
