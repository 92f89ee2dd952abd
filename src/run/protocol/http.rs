//! HTTP exchanges: one request (following redirects itself, so that each
//! virtual user's cookie jar sees every `Set-Cookie`), timed from the first
//! send to the first response byte and to the last body byte.

use std::time::{Duration, Instant};

use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Client, Method, StatusCode, Url};

const MAX_REDIRECTS: usize = 10;

pub struct Request {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Vec<u8>>,
    pub timeout: Duration,
    pub follow_redirects: bool,
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// From the send to the final response's headers.
    pub first_byte: Duration,
    /// From the send to the final response's last body byte.
    pub latency: Duration,
    pub sent: u64,
    pub received: u64,
}

/// Why no response came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The connection could not be made (refused, unreachable, DNS, TLS).
    Connect(String),
    Timeout(Duration),
    Other(String),
}

impl Failure {
    /// How long a timed-out request waited, with the open model's start lag.
    pub fn waited(&self, lag: Duration) -> Option<Duration> {
        match self {
            Failure::Timeout(d) => Some(*d + lag),
            _ => None,
        }
    }

    pub fn reason(&self) -> String {
        match self {
            Failure::Connect(e) => format!("cannot connect: {e}"),
            Failure::Timeout(d) => format!(
                "timed out after {}",
                crate::scenario::units::format_secs(d.as_secs_f64())
            ),
            Failure::Other(e) => e.clone(),
        }
    }
}

/// Sends `req`, following redirects when asked, with `jar`'s cookies, and
/// reads the whole body.
pub async fn send(client: &Client, jar: &Jar, req: Request) -> Result<Response, Failure> {
    let start = Instant::now();
    let timeout = req.timeout;
    let whole = async {
        let mut open = open(client, jar, req, start).await?;
        let status = open.response.status().as_u16();
        let headers = std::mem::take(open.response.headers_mut());
        let body = open.response.bytes().await.map_err(classify)?;
        open.received += body.len() as u64;
        Ok(Response {
            status,
            headers,
            body: body.to_vec(),
            first_byte: open.first_byte,
            latency: start.elapsed(),
            sent: open.sent,
            received: open.received,
        })
    };
    match tokio::time::timeout(timeout, whole).await {
        Ok(r) => r,
        Err(_) => Err(Failure::Timeout(timeout)),
    }
}

/// A response whose headers have arrived and whose body is still to read.
pub struct Opened {
    pub response: reqwest::Response,
    /// From `start` to the final response's headers.
    pub first_byte: Duration,
    pub sent: u64,
    /// Bytes received so far (redirect bodies and the final headers).
    pub received: u64,
}

/// Sends `req` and follows redirects up to the final response's headers.
/// The caller applies the time limit.
pub async fn open(
    client: &Client,
    jar: &Jar,
    mut req: Request,
    start: Instant,
) -> Result<Opened, Failure> {
    let mut sent = 0u64;
    let mut received = 0u64;
    for _ in 0..=MAX_REDIRECTS {
        let mut headers = req.headers.clone();
        if !headers.contains_key(COOKIE) {
            if let Some(c) = jar.cookies(&req.url) {
                headers.insert(COOKIE, c);
            }
        }
        sent += request_size(&req, &headers);
        let mut builder = client
            .request(req.method.clone(), req.url.clone())
            .headers(headers);
        if let Some(body) = &req.body {
            builder = builder.body(body.clone());
        }
        let resp = builder.send().await.map_err(classify)?;
        let first_byte = start.elapsed();
        let status = resp.status();
        if resp.headers().contains_key(SET_COOKIE) {
            jar.set_cookies(&mut resp.headers().get_all(SET_COOKIE).iter(), &req.url);
        }
        received += response_size(resp.headers(), 0);
        if req.follow_redirects && status.is_redirection() {
            if let Some(next) = redirect_target(&req.url, resp.headers()) {
                received += resp.bytes().await.map_err(classify)?.len() as u64;
                if matches!(
                    status,
                    StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND | StatusCode::SEE_OTHER
                ) && req.method != Method::HEAD
                {
                    req.method = Method::GET;
                    req.body = None;
                    req.headers.remove(reqwest::header::CONTENT_TYPE);
                    req.headers.remove(reqwest::header::CONTENT_LENGTH);
                }
                if next.origin() != req.url.origin() {
                    req.headers.remove(reqwest::header::AUTHORIZATION);
                }
                req.url = next;
                continue;
            }
        }
        return Ok(Opened {
            response: resp,
            first_byte,
            sent,
            received,
        });
    }
    Err(Failure::Other(format!(
        "more than {MAX_REDIRECTS} redirects"
    )))
}

fn redirect_target(base: &Url, headers: &HeaderMap) -> Option<Url> {
    let location = headers.get(LOCATION)?.to_str().ok()?;
    base.join(location).ok()
}

pub fn classify(e: reqwest::Error) -> Failure {
    if e.is_timeout() {
        return Failure::Timeout(Duration::ZERO);
    }
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        msg = s.to_string();
        source = s.source();
    }
    if e.is_connect() {
        Failure::Connect(msg)
    } else {
        Failure::Other(format!("request failed: {msg}"))
    }
}

/// Bytes on the wire, approximately: request line, headers, body.
fn request_size(req: &Request, headers: &HeaderMap) -> u64 {
    let line = req.method.as_str().len()
        + req.url.path().len()
        + req.url.query().map_or(0, |q| q.len() + 1)
        + 12;
    (line + header_size(headers) + req.body.as_ref().map_or(0, Vec::len)) as u64
}

fn response_size(headers: &HeaderMap, body: usize) -> u64 {
    (17 + header_size(headers) + body) as u64
}

fn header_size(headers: &HeaderMap) -> usize {
    headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum::<usize>()
        + 2
}

/// Builds a header map from rendered names and values.
pub fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let n = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("`{name}` is not a valid header name"))?;
    let v = HeaderValue::from_str(value).map_err(|_| {
        format!("header `{name}` has a value that cannot be sent (control characters?)")
    })?;
    Ok((n, v))
}
