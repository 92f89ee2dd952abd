//! HTTP exchanges: one request (following redirects itself, so that each
//! virtual user's cookie jar sees every `Set-Cookie`), timed from the first
//! send to the first response byte and to the last body byte. Requests go
//! on the virtual user's own connections, through trek's HTTP/1.1 client
//! (`h1`), over TLS for `https://`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue, COOKIE};
use http::Method;
use url::Url;

use super::decode::Kept;
pub use super::h1::Conns;
use super::headers::Headers;
use super::payload::Payload;
use super::stream::{Connected, Links, Purpose};
use super::{h1, h2};
use crate::scenario::net::HttpVersion;

const MAX_REDIRECTS: usize = 10;

pub struct Request {
    /// Index of the plan's link it goes by.
    pub link: usize,
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Payload>,
    pub timeout: Duration,
    pub follow_redirects: bool,
    /// Ask for a compressed response and decompress it (not for streams).
    pub compressed: bool,
    /// How much of the final response's body is kept.
    pub max_body: usize,
}

/// The `User-Agent` trek sends unless a step sets one.
pub const USER_AGENT: &str = concat!("trek/", env!("CARGO_PKG_VERSION"));

pub use super::cookies::{Cookies, KeptCookies};

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
    /// The body was longer than `max_body`: only its start was kept.
    pub cut: bool,
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
        let max = req.max_body;
        let mut open = open(via, req, start).await?;
        let kept = open.body.all(max).await?;
        open.received += kept.raw;
        let ended = Instant::now();
        Ok(Response {
            status: open.status,
            headers: open.headers,
            body: kept.bytes,
            cut: kept.cut,
            first_byte: open.first_byte,
            latency: ended.saturating_duration_since(start),
            ended,
            sent: open.sent,
            received: open.received,
        })
    };
    // Pinned where it is: the timer takes a pointer to the exchange, not
    // a copy of its (large) state.
    let whole = std::pin::pin!(whole);
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
    for hop in 0..=MAX_REDIRECTS {
        let cookie = match req.headers.contains_key(COOKIE) {
            true => None,
            false => jar.get(&req.url),
        };
        sent += request_size(&req, cookie.as_ref());
        let (status, headers, body) = match exchange(via, &req, cookie.as_ref()).await {
            Ok(answer) => answer,
            // The target answered; where it sent the request did not: a
            // failure of this request, not of reaching the target.
            Err(Failure::Connect(e)) if hop > 0 => {
                return Err(Failure::Other(format!(
                    "redirected to {}, which cannot be reached: {e}",
                    crate::redact::hide_url_secrets(req.url.as_str())
                )))
            }
            Err(e) => return Err(e),
        };
        let first_byte = start.elapsed();
        jar.set(&headers, &req.url);
        received += response_size(&headers, 0);
        if req.follow_redirects && (300..400).contains(&status) {
            if let Some(next) = redirect_target(&req.url, &headers) {
                received += Box::pin(body.all(0)).await?.raw;
                // 301, 302 and 303 turn into a GET without a body, as
                // browsers do; 307 and 308 repeat the request as it was.
                if matches!(status, 301..=303) && req.method != Method::HEAD {
                    req.method = Method::GET;
                    req.body = None;
                    req.headers.remove(http::header::CONTENT_TYPE);
                    req.headers.remove(http::header::CONTENT_LENGTH);
                }
                if next.origin() != req.url.origin() {
                    req.headers.remove(http::header::AUTHORIZATION);
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

/// What HTTP/1.1 and HTTP/2 send of `req`.
fn outgoing<'a>(req: &'a Request, cookie: Option<&'a HeaderValue>) -> h1::Outgoing<'a> {
    h1::Outgoing {
        link: req.link,
        method: &req.method,
        url: &req.url,
        headers: &req.headers,
        cookie,
        body: req.body.as_ref(),
        compressed: req.compressed,
    }
}

/// Sends one request (no redirects) by HTTP/1.1 or HTTP/2, as the link's
/// `http_version` and, under `auto` over TLS, the server's choice say.
async fn exchange(
    via: Transport<'_>,
    req: &Request,
    cookie: Option<&HeaderValue>,
) -> Result<(u16, Headers, Body), Failure> {
    let version = via.links.version(req.link);
    let secure = req.url.scheme() == "https";
    let h1 = |fresh: Option<Connected>| async move {
        let outgoing = outgoing(req, cookie);
        let head = h1::exchange_with(via.conns, via.links, outgoing, fresh).await?;
        Ok((head.status, head.headers, Body::H1(head.body)))
    };
    let port = req.url.port_or_known_default().unwrap_or(80);
    let host = req.url.host_str().unwrap_or_default();
    if version == HttpVersion::Http1
        || (version == HttpVersion::Auto
            && (!secure || via.conns.h2.chose_http1(req.link, host, port)))
    {
        return h1(None).await;
    }
    // Boxed: the HTTP/2 path would otherwise make every request's future
    // as large as its own.
    Box::pin(exchange_h2(via, req, cookie, version, secure, h1)).await
}

async fn exchange_h2<F, Fut>(
    via: Transport<'_>,
    req: &Request,
    cookie: Option<&HeaderValue>,
    version: HttpVersion,
    secure: bool,
    h1: F,
) -> Result<(u16, Headers, Body), Failure>
where
    F: Fn(Option<Connected>) -> Fut,
    Fut: std::future::Future<Output = Result<(u16, Headers, Body), Failure>>,
{
    let host = req
        .url
        .host()
        .ok_or_else(|| Failure::Other(format!("the URL `{}` has no host", req.url)))?;
    let key = h2::Key {
        link: req.link,
        secure,
        host: req.url.host_str().unwrap_or_default().into(),
        port: req.url.port_or_known_default().unwrap_or(80),
    };
    let pool = &via.conns.h2;
    let auto = version == HttpVersion::Auto;
    for attempt in 0..2 {
        if auto && pool.is_http1(&key) {
            return h1(None).await;
        }
        let send = match pool.get(&key) {
            Some(send) => send,
            None => {
                let _one_at_a_time = pool.connecting.lock().await;
                match pool.get(&key) {
                    Some(send) => send,
                    None if auto && pool.is_http1(&key) => return h1(None).await,
                    None => {
                        let made = via
                            .links
                            .connect(req.link, &host, key.port, secure, Purpose::Http)
                            .await?;
                        if secure && !made.stream.h2() {
                            if !auto {
                                return Err(Failure::Connect(format!(
                                    "{}: the server does not offer HTTP/2 (`http_version: http2`); `auto` would use HTTP/1.1",
                                    key.host
                                )));
                            }
                            pool.mark_http1(&key);
                            return h1(Some(made)).await;
                        }
                        pool.start(key.clone(), made.stream).await?
                    }
                }
            }
        };
        let outgoing = outgoing(req, cookie);
        match h2::exchange(send, outgoing).await {
            Ok(head) => return Ok((head.status, head.headers, Body::H2(head.body))),
            // The connection had ended, or the server refused the stream
            // before acting on it: once more, on a new connection.
            Err((_, true)) if attempt == 0 => pool.drop_conn(&key),
            Err((failure, _)) => {
                pool.drop_conn(&key);
                return Err(failure);
            }
        }
    }
    unreachable!("the loop returns on its second attempt")
}

fn redirect_target(base: &Url, headers: &Headers) -> Option<Url> {
    let location = headers.get_str("location")?;
    base.join(location).ok()
}

/// A response body still to read.
pub enum Body {
    H1(h1::Body),
    H2(h2::Body),
}

impl Body {
    /// The next piece as it arrived; `None` at the end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Failure> {
        match self {
            Body::H1(b) => b.chunk().await,
            Body::H2(b) => b.chunk().await,
        }
    }

    /// The body, decompressed, of which at most `max` bytes are kept.
    pub async fn all(self, max: usize) -> Result<Kept, Failure> {
        match self {
            Body::H1(b) => b.all(max).await,
            Body::H2(b) => b.all(max).await,
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
    (line
        + header_size(&req.headers)
        + cookie
        + req
            .body
            .as_ref()
            .map_or(0, |b| b.size().unwrap_or(0) as usize)) as u64
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
