//! HTTP exchanges: one request (following redirects itself, so that each
//! virtual user's cookie jar sees every `Set-Cookie`), timed from the first
//! send to the first response byte and to the last body byte. Requests go
//! on the virtual user's own connections, through trek's HTTP/1.1 client
//! (`h1`), over TLS for `https://`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, COOKIE};
use reqwest::{Method, Url};

use super::h1;
pub use super::h1::Conns;
use super::headers::Headers;
use super::stream::Links;

const MAX_REDIRECTS: usize = 10;

pub struct Request {
    /// Index of the plan's link it goes by.
    pub link: usize,
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
    pub timeout: Duration,
    pub follow_redirects: bool,
    /// Ask for a compressed response and decompress it (not for streams).
    pub compressed: bool,
}

/// The `User-Agent` trek sends unless a step sets one.
pub const USER_AGENT: &str = concat!("trek/", env!("CARGO_PKG_VERSION"));

/// A virtual user's cookies for one iteration. Most API journeys carry
/// none, so the jar is not searched until a response has set one.
#[derive(Default)]
pub struct Cookies {
    jar: Jar,
    any: AtomicBool,
}

impl Cookies {
    /// The `Cookie` header for a request to `url`.
    pub fn get(&self, url: &Url) -> Option<HeaderValue> {
        if !self.any.load(Ordering::Relaxed) {
            return None;
        }
        self.jar.cookies(url)
    }

    /// Keeps the cookies of a response from `url`.
    pub fn set(&self, headers: &Headers, url: &Url) {
        let values: Vec<HeaderValue> = headers
            .get_all("set-cookie")
            .filter_map(|v| HeaderValue::from_bytes(v).ok())
            .collect();
        if !values.is_empty() {
            self.any.store(true, Ordering::Relaxed);
            self.jar.set_cookies(&mut values.iter(), url);
        }
    }
}

/// What a virtual user sends its requests with.
#[derive(Clone, Copy)]
pub struct Transport<'a> {
    /// The worker's TLS settings and proxies, per link.
    pub links: &'a Links,
    /// The user's own connections.
    pub conns: &'a Arc<Conns>,
    pub jar: &'a Cookies,
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Headers,
    pub body: Bytes,
    /// From the send to the final response's headers.
    pub first_byte: Duration,
    /// From the send to the final response's last body byte.
    pub latency: Duration,
    /// When the last body byte arrived.
    pub ended: Instant,
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
                crate::format::format_secs(d.as_secs_f64())
            ),
            Failure::Other(e) => e.clone(),
        }
    }
}

/// Sends `req`, following redirects when asked, with `jar`'s cookies, and
/// reads the whole body.
pub async fn send(via: Transport<'_>, req: Request) -> Result<Response, Failure> {
    let start = Instant::now();
    let timeout = req.timeout;
    let whole = async {
        let mut open = open(via, req, start).await?;
        let body = open.body.all().await?;
        open.received += body.len() as u64;
        let ended = Instant::now();
        Ok(Response {
            status: open.status,
            headers: open.headers,
            body,
            first_byte: open.first_byte,
            latency: ended.saturating_duration_since(start),
            ended,
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
    pub status: u16,
    pub headers: Headers,
    pub body: Body,
    /// From `start` to the final response's headers.
    pub first_byte: Duration,
    pub sent: u64,
    /// Bytes received so far (redirect bodies and the final headers).
    pub received: u64,
}

/// Sends `req` and follows redirects up to the final response's headers.
/// The caller applies the time limit.
pub async fn open(via: Transport<'_>, mut req: Request, start: Instant) -> Result<Opened, Failure> {
    let jar = via.jar;
    let mut sent = 0u64;
    let mut received = 0u64;
    for _ in 0..=MAX_REDIRECTS {
        let cookie = match req.headers.contains_key(COOKIE) {
            true => None,
            false => jar.get(&req.url),
        };
        sent += request_size(&req, cookie.as_ref());
        let head = h1::exchange(
            via.conns,
            via.links,
            h1::Outgoing {
                link: req.link,
                method: &req.method,
                url: &req.url,
                headers: &req.headers,
                cookie: cookie.as_ref(),
                body: req.body.as_ref(),
                compressed: req.compressed,
            },
        )
        .await?;
        let (status, headers, body) = (head.status, head.headers, Body::H1(head.body));
        let first_byte = start.elapsed();
        jar.set(&headers, &req.url);
        received += response_size(&headers, 0);
        if req.follow_redirects && (300..400).contains(&status) {
            if let Some(next) = redirect_target(&req.url, &headers) {
                received += Box::pin(body.all()).await?.len() as u64;
                // 301, 302 and 303 turn into a GET without a body, as
                // browsers do; 307 and 308 repeat the request as it was.
                if matches!(status, 301..=303) && req.method != Method::HEAD {
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
            status,
            headers,
            body,
            first_byte,
            sent,
            received,
        });
    }
    Err(Failure::Other(format!(
        "more than {MAX_REDIRECTS} redirects"
    )))
}

fn redirect_target(base: &Url, headers: &Headers) -> Option<Url> {
    let location = headers.get_str("location")?;
    base.join(location).ok()
}

/// A response body still to read.
pub enum Body {
    H1(h1::Body),
}

impl Body {
    /// The next piece as it arrived; `None` at the end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Failure> {
        match self {
            Body::H1(b) => b.chunk().await,
        }
    }

    /// The whole body, decompressed.
    pub async fn all(self) -> Result<Bytes, Failure> {
        match self {
            Body::H1(b) => b.all().await,
        }
    }
}

/// The innermost error's message: the one that says what went wrong
/// ("Connection refused"), not which layer noticed it.
pub fn root_cause(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg = s.to_string();
        source = s.source();
    }
    msg
}

/// Bytes on the wire, approximately: request line, headers, body.
fn request_size(req: &Request, cookie: Option<&HeaderValue>) -> u64 {
    let line = req.method.as_str().len()
        + req.url.path().len()
        + req.url.query().map_or(0, |q| q.len() + 1)
        + 12;
    let cookie = cookie.map_or(0, |c| c.len() + 10);
    (line + header_size(&req.headers) + cookie + req.body.as_ref().map_or(0, Bytes::len)) as u64
}

fn response_size(headers: &Headers, body: usize) -> u64 {
    (17 + headers.wire_size() + 2 + body) as u64
}

fn header_size(headers: &HeaderMap) -> usize {
    headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum::<usize>()
        + 2
}

/// A header trek cannot send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("`{0}` is not a valid header name")]
    Name(String),
    #[error("header `{0}` has a value that cannot be sent (control characters?)")]
    Value(String),
}

/// A header from a rendered name and value.
pub fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), HeaderError> {
    let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| HeaderError::Name(name.into()))?;
    let v = HeaderValue::from_str(value).map_err(|_| HeaderError::Value(name.into()))?;
    Ok((n, v))
}
