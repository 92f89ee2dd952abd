//! trek's own HTTP/1.1 client for plain `http://` targets, built on hyper's
//! connection API. Each virtual user owns its keep-alive connections (none
//! is shared between users, so the only lock on the request path is the
//! user's own, never contended) and drives them inside its own task rather
//! than in a task per connection. Against reqwest's pooled client this
//! roughly halves the CPU per request (bench/RESULTS.md).
//!
//! An idle connection the server has closed is found out when it is next
//! used, before the request is written: the request then goes on a new
//! connection. A request already written is never sent twice. Connections
//! idle for longer than `IDLE_TIMEOUT` are closed rather than reused, since
//! a server or a middlebox may have dropped them without a word.

use std::future::{poll_fn, Future};
use std::io::Read;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, Connection, SendRequest};
use hyper::header::{
    HeaderMap, HeaderValue, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, HOST,
    RANGE, USER_AGENT,
};
use hyper::{Method, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use url::{Host, Url};

use super::http::Failure;

type Io = TokioIo<TcpStream>;
type Out = Full<Bytes>;

/// Idle connections a user keeps beyond this many are closed.
const MAX_IDLE: usize = 8;

/// An idle connection older than this is closed instead of reused.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// One virtual user's idle keep-alive connections.
#[derive(Default)]
pub struct Conns {
    idle: Mutex<Vec<Conn>>,
}

struct Conn {
    host: Box<str>,
    port: u16,
    /// The `Host` header for requests on this connection, made once.
    host_header: HeaderValue,
    /// When it last went idle.
    since: Instant,
    send: SendRequest<Out>,
    driver: Driver,
}

/// hyper's connection future, which reads and writes the socket; polled by
/// the user's task whenever it waits on this connection.
struct Driver {
    /// `None` once the connection has closed: dropping hyper's future then
    /// hands a request still waiting on it back as unsent.
    conn: Option<Pin<Box<Connection<Io, Out>>>>,
}

impl Driver {
    fn poll(&mut self, cx: &mut Context<'_>) {
        if let Some(conn) = &mut self.conn {
            if conn.as_mut().poll(cx).is_ready() {
                self.conn = None;
            }
        }
    }
}

impl Conns {
    fn take(&self, host: &str, port: u16) -> Option<Conn> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.retain(|c| c.since.elapsed() < IDLE_TIMEOUT);
        let at = idle
            .iter()
            .rposition(|c| c.port == port && &*c.host == host)?;
        Some(idle.swap_remove(at))
    }

    fn put(&self, mut conn: Conn) {
        conn.since = Instant::now();
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }

    /// How many idle connections are kept (for tests).
    #[cfg(test)]
    fn idle(&self) -> usize {
        self.idle.lock().unwrap().len()
    }
}

/// A response whose head has arrived.
pub struct Head {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Body,
}

/// The body still to read. Holds the connection until the last byte, then
/// gives it back to its user; dropped early, the connection is closed.
pub struct Body {
    incoming: Incoming,
    conn: Option<Conn>,
    conns: Arc<Conns>,
    /// `Content-Encoding` to undo, when trek asked for compression.
    encoding: Option<Encoding>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Gzip,
    Deflate,
    Brotli,
}

/// What `Accept-Encoding` trek sends when the step sets none.
const ACCEPTED: &str = "gzip, deflate, br";

/// Sends one request (no redirects) on one of the user's connections.
/// `compressed`: ask for a compressed body (unless the step set
/// `Accept-Encoding` itself) and decompress it.
pub async fn exchange(
    conns: &Arc<Conns>,
    method: &Method,
    url: &Url,
    mut headers: HeaderMap,
    body: Option<Bytes>,
    compressed: bool,
) -> Result<Head, Failure> {
    let port = url.port_or_known_default().unwrap_or(80);
    let host = url
        .host()
        .ok_or_else(|| Failure::Other(format!("the URL `{url}` has no host")))?;
    let host_text = url.host_str().unwrap_or_default();
    let target: Uri = url[url::Position::BeforePath..url::Position::AfterQuery]
        .parse()
        .map_err(|e| Failure::Other(format!("invalid request target: {e}")))?;
    let (mut conn, mut reused) = match conns.take(host_text, port) {
        Some(c) => (c, true),
        None => (connect(url, &host, port).await?, false),
    };
    if !headers.contains_key(HOST) {
        headers.insert(HOST, conn.host_header.clone());
    }
    if !url.username().is_empty() && !headers.contains_key(AUTHORIZATION) {
        headers.insert(AUTHORIZATION, basic_auth(url)?);
    }
    if !headers.contains_key(USER_AGENT) {
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(super::http::USER_AGENT),
        );
    }
    // A byte range of a compressed body could not be decompressed.
    let ours = compressed && !headers.contains_key(ACCEPT_ENCODING) && !headers.contains_key(RANGE);
    if ours {
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static(ACCEPTED));
    }
    let mut req = hyper::Request::new(Full::new(body.unwrap_or_default()));
    *req.method_mut() = method.clone();
    *req.uri_mut() = target;
    *req.headers_mut() = headers;
    let response = loop {
        match send(&mut conn, req).await {
            Ok(r) => break r,
            // Never sent: the server had closed this idle connection.
            Err((_, Some(back))) if reused => {
                req = back;
                conn = connect(url, &host, port).await?;
                reused = false;
            }
            Err((e, _)) => return Err(classify(&e)),
        }
    };
    let (mut parts, incoming) = response.into_parts();
    let encoding = if ours { encoding(&parts.headers) } else { None };
    if encoding.is_some() {
        parts.headers.remove(CONTENT_ENCODING);
        parts.headers.remove(CONTENT_LENGTH);
    }
    Ok(Head {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body: Body {
            incoming,
            conn: Some(conn),
            conns: conns.clone(),
            encoding,
        },
    })
}

async fn connect(url: &Url, host: &Host<&str>, port: u16) -> Result<Conn, Failure> {
    let host_text = url.host_str().unwrap_or_default();
    let host_header = match url.port() {
        Some(p) => HeaderValue::from_str(&format!("{host_text}:{p}")),
        None => HeaderValue::from_str(host_text),
    }
    .map_err(|e| Failure::Other(format!("the host cannot be sent: {e}")))?;
    let stream = match host {
        Host::Ipv4(ip) => TcpStream::connect((*ip, port)).await,
        Host::Ipv6(ip) => TcpStream::connect((*ip, port)).await,
        Host::Domain(name) => TcpStream::connect((*name, port)).await,
    }
    .map_err(|e| Failure::Connect(e.to_string()))?;
    let _ = stream.set_nodelay(true);
    let (send, driver) = http1::Builder::new()
        .handshake(TokioIo::new(stream))
        .await
        .map_err(|e| Failure::Connect(e.to_string()))?;
    Ok(Conn {
        host: host.to_string().into(),
        port,
        host_header,
        since: Instant::now(),
        send,
        driver: Driver {
            conn: Some(Box::pin(driver)),
        },
    })
}

/// A request that failed, and the request itself when it was never sent.
type Unsent = (hyper::Error, Option<hyper::Request<Out>>);

async fn send(
    conn: &mut Conn,
    req: hyper::Request<Out>,
) -> Result<hyper::Response<Incoming>, Unsent> {
    let Conn { send, driver, .. } = conn;
    if let Err(e) = (Drive {
        fut: poll_fn(|cx| send.poll_ready(cx)),
        driver,
    })
    .await
    {
        return Err((e, Some(req)));
    }
    let fut = send.try_send_request(req);
    tokio::pin!(fut);
    Drive { fut, driver }.await.map_err(|mut e| {
        let back = e.take_message();
        (e.into_error(), back)
    })
}

fn classify(e: &hyper::Error) -> Failure {
    Failure::Other(format!("request failed: {}", super::http::root_cause(e)))
}

/// `Authorization: Basic` from the user and password of a URL
/// (`http://user:secret@host/`), as browsers and reqwest send it.
fn basic_auth(url: &Url) -> Result<HeaderValue, Failure> {
    use base64::Engine;
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let user = decode(url.username());
    let password = url.password().map(decode).unwrap_or_default();
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let mut value = HeaderValue::from_str(&format!("Basic {token}"))
        .map_err(|e| Failure::Other(format!("the URL's user cannot be sent: {e}")))?;
    value.set_sensitive(true);
    Ok(value)
}

fn encoding(headers: &HeaderMap) -> Option<Encoding> {
    let value = headers.get(CONTENT_ENCODING)?.to_str().ok()?.trim();
    match value.to_ascii_lowercase().as_str() {
        "gzip" | "x-gzip" => Some(Encoding::Gzip),
        "deflate" => Some(Encoding::Deflate),
        "br" => Some(Encoding::Brotli),
        _ => None,
    }
}

impl Body {
    /// The next piece of the body as it arrived, `None` at the end. Not
    /// decompressed: streams are asked for without compression.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Failure> {
        loop {
            let Some(conn) = self.conn.as_mut() else {
                return Ok(None);
            };
            let frame = Drive {
                fut: self.incoming.frame(),
                driver: &mut conn.driver,
            }
            .await;
            match frame {
                None => {
                    if let Some(conn) = self.conn.take().filter(|c| c.driver.conn.is_some()) {
                        self.conns.put(conn);
                    }
                    return Ok(None);
                }
                Some(Err(e)) => {
                    self.conn = None;
                    return Err(classify(&e));
                }
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        if !data.is_empty() {
                            return Ok(Some(data));
                        }
                    }
                }
            }
        }
    }

    /// The whole body, decompressed when trek asked for compression.
    pub async fn all(mut self) -> Result<Bytes, Failure> {
        let mut first: Option<Bytes> = None;
        let mut rest = BytesMut::new();
        while let Some(data) = self.chunk().await? {
            match &first {
                None => first = Some(data),
                Some(f) => {
                    if rest.is_empty() {
                        rest.extend_from_slice(f);
                    }
                    rest.extend_from_slice(&data);
                }
            }
        }
        let raw = if rest.is_empty() {
            first.unwrap_or_default()
        } else {
            rest.freeze()
        };
        match self.encoding {
            // HEAD, 204, 304 and empty redirects may name an encoding too.
            _ if raw.is_empty() => Ok(raw),
            None => Ok(raw),
            Some(e) => decode(e, &raw).map(Bytes::from).map_err(|err| {
                Failure::Other(format!("cannot decompress the body ({e:?}): {err}"))
            }),
        }
    }
}

fn decode(encoding: Encoding, raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len() * 4);
    match encoding {
        Encoding::Gzip => flate2::read::MultiGzDecoder::new(raw).read_to_end(&mut out)?,
        Encoding::Deflate => flate2::read::ZlibDecoder::new(raw).read_to_end(&mut out)?,
        Encoding::Brotli => {
            brotli_decompressor::Decompressor::new(raw, 4096).read_to_end(&mut out)?
        }
    };
    Ok(out)
}

/// Polls `fut`, and the connection's driver beside it, in the caller's task.
struct Drive<'a, F> {
    fut: F,
    driver: &'a mut Driver,
}

impl<F: Future + Unpin> Future for Drive<'_, F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        if let Poll::Ready(v) = Pin::new(&mut self.fut).poll(cx) {
            return Poll::Ready(v);
        }
        // The driver ends when the connection closes; what that means for
        // the request shows in `fut`'s own result.
        let this = &mut *self;
        this.driver.poll(cx);
        Pin::new(&mut this.fut).poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A server on 127.0.0.1 that answers every request with `reply` and,
    /// when `close_after_one`, closes each connection after its first answer
    /// (as a server whose keep-alive timeout ran out would). Counts the
    /// connections it accepted.
    async fn server(reply: Vec<u8>, close_after_one: bool) -> (Url, Arc<AtomicUsize>) {
        let (url, accepted, _) = recording_server(reply, close_after_one).await;
        (url, accepted)
    }

    /// `server`, which also keeps the head of the last request it read.
    async fn recording_server(
        reply: Vec<u8>,
        close_after_one: bool,
    ) -> (Url, Arc<AtomicUsize>, Arc<Mutex<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}/x?y=1", listener.local_addr().unwrap())).unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        let last = Arc::new(Mutex::new(String::new()));
        let heads = last.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let reply = reply.clone();
                let heads = heads.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let mut seen = Vec::new();
                    loop {
                        let n = sock.read(&mut buf).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        seen.extend_from_slice(&buf[..n]);
                        while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head: Vec<u8> = seen.drain(..end + 4).collect();
                            *heads.lock().unwrap() = String::from_utf8_lossy(&head).to_lowercase();
                            let _ = sock.write_all(&reply).await;
                            if close_after_one {
                                return;
                            }
                        }
                    }
                });
            }
        });
        (url, accepted, last)
    }

    fn ok(body: &[u8], extra: &str) -> Vec<u8> {
        let mut r = format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n{extra}\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body);
        r
    }

    async fn get(conns: &Arc<Conns>, url: &Url) -> Result<(u16, HeaderMap, Bytes), Failure> {
        let head = exchange(conns, &Method::GET, url, HeaderMap::new(), None, true).await?;
        let body = head.body.all().await?;
        Ok((head.status, head.headers, body))
    }

    #[tokio::test]
    async fn a_user_reuses_its_connection() {
        let (url, accepted) = server(ok(b"hello", ""), false).await;
        let conns = Arc::new(Conns::default());
        for _ in 0..5 {
            let (status, _, body) = get(&conns, &url).await.unwrap();
            assert_eq!((status, &body[..]), (200, &b"hello"[..]));
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
        assert_eq!(conns.idle(), 1);
    }

    #[tokio::test]
    async fn a_connection_the_server_closed_is_replaced_without_an_error() {
        let (url, accepted) = server(ok(b"again", ""), true).await;
        let conns = Arc::new(Conns::default());
        for _ in 0..3 {
            let (status, _, body) = get(&conns, &url).await.unwrap();
            assert_eq!((status, &body[..]), (200, &b"again"[..]));
            // Let the server's close arrive before the next request.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_body_left_unread_closes_its_connection() {
        let (url, accepted) = server(ok(b"unread", ""), false).await;
        let conns = Arc::new(Conns::default());
        let head = exchange(&conns, &Method::GET, &url, HeaderMap::new(), None, true)
            .await
            .unwrap();
        drop(head);
        assert_eq!(conns.idle(), 0);
        get(&conns, &url).await.unwrap();
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn gzip_and_deflate_bodies_are_decompressed() {
        let text = b"{\"a\": \"compressed body\"}";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(text).unwrap();
        let mut zl = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        zl.write_all(text).unwrap();
        for (name, packed) in [
            ("gzip", gz.finish().unwrap()),
            ("deflate", zl.finish().unwrap()),
        ] {
            let (url, _) =
                server(ok(&packed, &format!("content-encoding: {name}\r\n")), false).await;
            let conns = Arc::new(Conns::default());
            let (_, headers, body) = get(&conns, &url).await.unwrap();
            assert_eq!(&body[..], text, "{name}");
            assert!(!headers.contains_key(CONTENT_ENCODING), "{name}");
        }
    }

    #[tokio::test]
    async fn an_empty_body_that_names_an_encoding_is_empty() {
        let (url, _) = server(ok(b"", "content-encoding: gzip\r\n"), false).await;
        let conns = Arc::new(Conns::default());
        let (status, _, body) = get(&conns, &url).await.unwrap();
        assert_eq!((status, body.len()), (200, 0));
    }

    #[tokio::test]
    async fn what_trek_adds_to_a_request() {
        let (mut url, _, head) = recording_server(ok(b"x", ""), false).await;
        let conns = Arc::new(Conns::default());
        get(&conns, &url).await.unwrap();
        let sent = head.lock().unwrap().clone();
        assert!(sent.starts_with("get /x?y=1 http/1.1\r\n"), "{sent}");
        assert!(
            sent.contains(&format!("host: {}\r\n", url.authority())),
            "{sent}"
        );
        assert!(sent.contains("user-agent: trek/"), "{sent}");
        assert!(
            sent.contains("accept-encoding: gzip, deflate, br\r\n"),
            "{sent}"
        );
        assert!(!sent.contains("authorization"), "{sent}");

        // A user in the URL becomes Basic authentication ("user:p@ss").
        url.set_username("user").unwrap();
        url.set_password(Some("p@ss")).unwrap();
        get(&conns, &url).await.unwrap();
        let sent = head.lock().unwrap().clone();
        assert!(
            sent.contains("authorization: basic dxnlcjpwqhnz\r\n"),
            "{sent}"
        );

        // A byte range is asked for uncompressed.
        let mut headers = HeaderMap::new();
        headers.insert(RANGE, HeaderValue::from_static("bytes=0-0"));
        let head_ = exchange(&conns, &Method::GET, &url, headers, None, true)
            .await
            .unwrap();
        head_.body.all().await.unwrap();
        let sent = head.lock().unwrap().clone();
        assert!(sent.contains("range: bytes=0-0"), "{sent}");
        assert!(!sent.contains("accept-encoding"), "{sent}");
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_connect_failure() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        drop(listener);
        let conns = Arc::new(Conns::default());
        assert!(matches!(get(&conns, &url).await, Err(Failure::Connect(_))));
    }
}
