//! The HTTP request step: renders the request from the user's variables,
//! sends it, checks and captures the response, and records the request in
//! the worker's recorder. The SSE step shares the rendering and recording.

use std::time::Duration;

use std::sync::Arc;

use ::http::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use minijinja::value::Value;
use url::Url;

use crate::events::StepLine;
use crate::metrics::Sample;
use crate::plan::{Body, HttpStep, Part, Step};
use crate::run::expect::{self, Seen};
use crate::run::protocol::http::{self, Failure, Request};
use crate::run::protocol::payload::{Multipart, Payload, Piece};
use crate::run::vu::{Cursor, Env, Flow};

pub async fn http_step(env: &Env, cur: &mut Cursor, step: &Step, h: &HttpStep) -> Flow {
    let scope = cur.value();
    let req = match build_request(env, h, &scope) {
        Ok(r) => r,
        Err(e) => {
            let reason = format!("cannot build the request: {e}");
            return no_response(env, cur, step, h, reason, None);
        }
    };
    let lag = std::mem::take(&mut cur.lag);
    let result = http::send(env.transport(), req).await;
    let resp = match result {
        Ok(r) => r,
        Err(f) => {
            if matches!(f, Failure::Connect(_)) {
                env.worker.connect_error(&f.reason());
            }
            return no_response(env, cur, step, h, f.reason(), f.waited(lag));
        }
    };
    env.worker.response();
    let seen = Seen::new(&resp);
    let outcome = expect::check(&h.expect, &seen, &scope);
    let mut failure = outcome.failed.first().cloned();
    let checks_failed = outcome.failed.len() as u64;
    let checks_passed = outcome.passed;
    if !h.captures.is_empty() {
        match expect::capture(&h.captures, &seen, &scope) {
            Ok(values) => {
                drop(scope);
                for (k, v) in values {
                    cur.set(k, v);
                }
            }
            Err(e) => {
                failure.get_or_insert(e);
            }
        }
    }
    env.trace(|| StepLine {
        failed: failure.is_some(),
        label: Some(step.label.to_string()),
        answer: resp.status.to_string(),
        seconds: Some(resp.latency.as_secs_f64()),
        detail: failure.clone().unwrap_or_default(),
    });
    finish_with(
        env,
        cur,
        step,
        h,
        Answer::Response(&resp, lag, checks_passed, checks_failed),
        None,
        failure,
    )
}

/// How a request ended, for recording.
pub(crate) enum Answer<'a> {
    /// A response, the start lag (open model), checks passed and failed.
    Response(&'a http::Response, Duration, u64, u64),
    /// No response within the timeout: this long was waited (lag included).
    TimedOut(Duration),
    /// Not sent, or refused at once: nothing to time.
    Nothing,
}

/// Records a request that got no response. `waited` is the time spent when
/// it timed out.
pub(crate) fn no_response(
    env: &Env,
    cur: &mut Cursor,
    step: &Step,
    h: &HttpStep,
    reason: String,
    waited: Option<Duration>,
) -> Flow {
    env.trace(|| StepLine {
        failed: true,
        label: Some(step.label.to_string()),
        answer: String::new(),
        seconds: None,
        detail: reason.clone(),
    });
    let answer = waited.map_or(Answer::Nothing, Answer::TimedOut);
    finish_with(env, cur, step, h, answer, None, Some(reason))
}

pub(crate) fn finish_with(
    env: &Env,
    cur: &mut Cursor,
    step: &Step,
    h: &HttpStep,
    answer: Answer,
    stream: Option<(u64, &[u64])>,
    failure: Option<String>,
) -> Flow {
    let timed = !matches!(answer, Answer::Nothing);
    let second = match &answer {
        Answer::Response(r, ..) => env.run.second_at(r.ended),
        _ => env.run.second(),
    };
    let response: &[u8] = match &answer {
        Answer::Response(r, ..) => &r.body[..],
        _ => &[],
    };
    let (service_us, latency_us, first_byte_us, sent, received, passed, failed) = match answer {
        Answer::Response(r, lag, p, f) => (
            r.latency.as_micros() as u64,
            (r.latency + lag).as_micros() as u64,
            // A stream that sent no event has no first byte to speak of.
            (stream.is_none_or(|s| s.0 > 0)).then(|| (r.first_byte + lag).as_micros() as u64),
            r.sent,
            r.received,
            p,
            f,
        ),
        // No response: the request's checks count as failed.
        Answer::TimedOut(waited) => {
            let us = waited.as_micros() as u64;
            (us, us, None, 0, 0, 0, h.expect.count())
        }
        Answer::Nothing => (0, 0, None, 0, 0, 0, h.expect.count()),
    };
    env.worker.record(&Sample {
        step: h.id,
        scenario: env.scenario,
        latency_us,
        service_us,
        first_byte_us,
        sent,
        received,
        failure: failure.as_deref(),
        response,
        checks_passed: passed,
        checks_failed: failed,
        events: stream.map_or(0, |s| s.0),
        gaps: stream.map_or(&[], |s| s.1),
        connect_us: None,
        receives: &[],
        second,
        is_request: true,
        timed,
    });
    if failure.is_some() {
        cur.failed = true;
        if !step.continue_on_fail {
            return Flow::Stop;
        }
    }
    Flow::Next
}

/// A templated URL, rendered and parsed for this request.
fn render_url(h: &HttpStep, scope: &Value) -> Result<Url, String> {
    let rendered = h.url.render(scope).map_err(|e| format!("URL: {e}"))?;
    let full = match &h.base {
        Some(base) if !(rendered.starts_with("http://") || rendered.starts_with("https://")) => {
            let slash = if rendered.starts_with('/') { "" } else { "/" };
            format!("{base}{slash}{rendered}")
        }
        _ => rendered.into_owned(),
    };
    Url::parse(&full).map_err(|e| {
        // The query may carry a token: leave it out of the message.
        let shown = full.split('?').next().unwrap_or_default();
        format!("invalid URL `{shown}`: {e}")
    })
}

pub(crate) fn build_request(env: &Env, h: &HttpStep, scope: &Value) -> Result<Request, String> {
    let mut url = match &h.parsed_url {
        Some(url) => url.clone(),
        None => render_url(h, scope)?,
    };
    if !h.query.is_empty() {
        let mut pairs = url.query_pairs_mut();
        for (k, v) in &h.query {
            pairs.append_pair(
                k,
                &v.render(scope).map_err(|e| format!("query `{k}`: {e}"))?,
            );
        }
    }
    // No allocation for a step without headers or body.
    let with_body = usize::from(!matches!(h.body, Body::None));
    let mut headers = HeaderMap::with_capacity(h.headers.len() + with_body);
    for (name, tpl) in &h.headers {
        let value = tpl
            .render(scope)
            .map_err(|e| format!("header `{name}`: {e}"))?;
        let (n, v) = http::header(name, &value).map_err(|e| e.to_string())?;
        headers.insert(n, v);
    }
    let (body, content_type) = match &h.body {
        Body::None => (None, None),
        Body::Json(t) => {
            let v = t.render(scope).map_err(|e| format!("json body: {e}"))?;
            (
                Some(serde_json::to_vec(&v).map_err(|e| e.to_string())?.into()),
                Some(HeaderValue::from_static("application/json")),
            )
        }
        Body::Text(t) => (
            Some(
                t.render(scope)
                    .map_err(|e| format!("body: {e}"))?
                    .into_owned()
                    .into(),
            ),
            Some(HeaderValue::from_static("text/plain; charset=utf-8")),
        ),
        Body::Form(fields) => {
            let mut s = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in fields {
                s.append_pair(k, &v.render(scope).map_err(|e| format!("form `{k}`: {e}"))?);
            }
            (
                Some(s.finish().into()),
                Some(HeaderValue::from_static(
                    "application/x-www-form-urlencoded",
                )),
            )
        }
        Body::File(path) => (
            Some(Payload::Pieces(Arc::new(vec![Piece::File(path.clone())]))),
            Some(HeaderValue::from_static(crate::plan::guess_type(path))),
        ),
        Body::Multipart(parts) => {
            let mut m = Multipart::new(format!("trek-{:016x}", rand::random::<u64>()));
            for (name, part) in parts {
                match part {
                    Part::Text(t) => {
                        let value = t
                            .render(scope)
                            .map_err(|e| format!("multipart `{name}`: {e}"))?;
                        m.text(name, &value);
                    }
                    Part::File {
                        path,
                        content_type,
                        filename,
                    } => m.file(name, path.clone(), filename, content_type),
                }
            }
            let ct = HeaderValue::from_str(&m.content_type())
                .map_err(|_| "a multipart boundary cannot be sent".to_string())?;
            (Some(m.finish()), Some(ct))
        }
    };
    if let Some(ct) = content_type {
        if !headers.contains_key(CONTENT_TYPE) {
            headers.insert(CONTENT_TYPE, ct);
        }
    }
    Ok(Request {
        link: h.link,
        method: match h.method {
            crate::scenario::model::Method::Get => ::http::Method::GET,
            crate::scenario::model::Method::Post => ::http::Method::POST,
            crate::scenario::model::Method::Put => ::http::Method::PUT,
            crate::scenario::model::Method::Patch => ::http::Method::PATCH,
            crate::scenario::model::Method::Delete => ::http::Method::DELETE,
            crate::scenario::model::Method::Head => ::http::Method::HEAD,
            crate::scenario::model::Method::Options => ::http::Method::OPTIONS,
        },
        url,
        headers,
        body,
        timeout: h.timeout,
        follow_redirects: env.run.plan.follow_redirects,
        compressed: true,
        max_body: h.max_body,
    })
}
