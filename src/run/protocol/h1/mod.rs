//! trek's HTTP/1.1 client, for `http://` and `https://` targets. Each
//! virtual user owns its keep-alive connections (none is shared between
//! users, so the only lock on the request path is the user's own, never
//! contended) and reads and writes them in its own task: a request is one
//! write of its head (and a small body), the response is parsed from the
//! bytes as they arrive (`wire`), with nothing between the socket (or the
//! TLS session, `stream`) and the step but a buffer. bench/RESULTS.md has
//! what this saves against reqwest and hyper.
//!
//! An idle connection the server has closed (or written stray bytes to) is
//! found out before the next request is written on it, and the request
//! goes on a new connection; so does one whose head could not be written
//! whole on a reused connection (the server cannot have acted on it). A
//! request written whole is never sent twice. A large body is written while
//! watching for an early answer (a 413 or 401 before the server read it),
//! which then becomes the response. Connections idle for longer than
//! `IDLE_TIMEOUT` are closed rather than reused, since a server or a
//! middlebox may have dropped them without a word.

use std::future::poll_fn;
use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http::header::{
    HeaderMap, HeaderValue, ACCEPT_ENCODING, AUTHORIZATION, CONNECTION, COOKIE, HOST, RANGE,
    USER_AGENT,
};
use http::Method;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use url::Url;

use super::decode::{Encoding, Keeper, Kept};
use super::headers::Headers;
use super::http::Failure;
use super::payload::{Chunks, Payload};
use super::stream::{Connected, Links, Purpose, Stream};
use super::wire::{self, Framing, Piece};

/// Idle connections a user keeps beyond this many are closed.
const MAX_IDLE: usize = 8;

/// An idle connection older than this is closed instead of reused.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// A body up to this size goes out in the same write as the head.
const COALESCE: usize = 16 * 1024;

/// The read buffer's size when a response starts.
const READ_BUFFER: usize = 8 * 1024;

/// The most the read buffer grows by at once for a large body.
const READ_AHEAD: u64 = 1 << 20;

/// One virtual user's idle keep-alive connections (and its HTTP/2
/// connections, which `h2` keeps).
#[derive(Default)]
pub struct Conns {
    idle: Mutex<Vec<Conn>>,
    pub h2: super::h2::Pool,
}

struct Conn {
    /// Which way it was made (index of the plan's link), over TLS or not,
    /// to which host and port.
    link: usize,
    secure: bool,
    host: Box<str>,
    port: u16,
    /// When it last went idle.
    since: Instant,
    stream: Stream,
    /// Plain HTTP through a proxy: requests in absolute form, with this
    /// `Proxy-Authorization`.
    via_proxy: Option<Option<String>>,
    /// Bytes read and not yet taken by a response.
    buf: BytesMut,
}

impl Conn {
    fn is_for(&self, to: &To) -> bool {
        self.link == to.link
            && self.secure == to.secure
            && self.port == to.port
            && *self.host == *to.host
    }

    /// Reads what has arrived into the buffer; 0 when the server closed.
    /// `expected`: bytes known to be on their way, to read them in one go.
    async fn fill(&mut self, expected: u64) -> std::io::Result<usize> {
        let spare = self.buf.capacity() - self.buf.len();
        if spare < 1024 {
            let more = expected.saturating_sub(self.buf.len() as u64);
            self.buf
                .reserve(more.clamp(READ_BUFFER as u64, READ_AHEAD) as usize);
        }
        self.stream.read_buf(&mut self.buf).await
    }
}

/// Where a request goes: which way, to which host and port.
struct To<'a> {
    link: usize,
    secure: bool,
    host: &'a str,
    port: u16,
}

impl Conns {
    /// An idle connection for `to`.
    fn take(&self, to: &To) -> Option<Conn> {
        let now = Instant::now();
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.retain(|c| now.saturating_duration_since(c.since) < IDLE_TIMEOUT);
        let at = idle.iter().rposition(|c| c.is_for(to))?;
        Some(idle.swap_remove(at))
    }

    fn put(&self, mut conn: Conn) {
        conn.since = Instant::now();
        // An idle connection holds no read buffer: ten thousand users
        // thinking between requests would otherwise keep 80 MB.
        conn.buf = BytesMut::new();
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

/// One request as the step made it (HTTP/2 sends the same).
pub struct Outgoing<'a> {
    /// Index of the plan's link it goes by.
    pub link: usize,
    pub method: &'a Method,
    pub url: &'a Url,
    pub headers: &'a HeaderMap,
    /// From the user's cookie jar, when the step sets no `Cookie`.
    pub cookie: Option<&'a HeaderValue>,
    pub body: Option<&'a Payload>,
    /// Ask for a compressed body (unless the step set `Accept-Encoding`
    /// itself) and decompress it (whoever asked).
    pub compressed: bool,
}

/// A response whose head has arrived.
pub struct Head {
    pub status: u16,
    pub headers: Headers,
    pub body: Body,
}

/// The body still to read. Holds the connection until the last byte, then
/// gives it back to its user; dropped early, the connection is closed.
pub struct Body {
    conn: Option<Conn>,
    conns: Arc<Conns>,
    framing: Framing,
    keep_alive: bool,
    /// `Content-Encoding` to undo, when trek asked for compression.
    encoding: Option<Encoding>,
}

/// What `Accept-Encoding` trek sends when the step sets none.
const ACCEPTED: &str = "gzip, deflate, br";

/// Sends one request (no redirects) on one of the user's connections and
/// reads the response's head.
pub async fn exchange(
    conns: &Arc<Conns>,
    links: &Links,
    req: Outgoing<'_>,
) -> Result<Head, Failure> {
    exchange_with(conns, links, req, None).await
}

/// [`exchange`], on `fresh` when given: a connection just made for this
/// request (when the choice between HTTP/1.1 and HTTP/2 needed one).
pub async fn exchange_with(
    conns: &Arc<Conns>,
    links: &Links,
    req: Outgoing<'_>,
    fresh: Option<Connected>,
) -> Result<Head, Failure> {
    let url = req.url;
    let port = url.port_or_known_default().unwrap_or(80);
    let host = url
        .host()
        .ok_or_else(|| Failure::Other(format!("the URL `{url}` has no host")))?;
    let to = To {
        link: req.link,
        secure: url.scheme() == "https",
        host: url.host_str().unwrap_or_default(),
        port,
    };
    let taken = match fresh {
        Some(made) => {
            return Box::pin(send_on(
                conns,
                links,
                req,
                &to,
                &host,
                conn_of(&to, made),
                false,
            ))
            .await
        }
        // An idle connection the server has closed or written to is dropped.
        None => conns
            .take(&to)
            .and_then(|mut c| (!c.stream.closed_while_idle()).then_some(c)),
    };
    let reused = taken.is_some();
    let conn = match taken {
        Some(c) => c,
        None => Box::pin(connect(links, &to, &host)).await?,
    };
    send_on(conns, links, req, &to, &host, conn, reused).await
}

/// Sends a request on `conn` (`reused`: it carried one before).
async fn send_on(
    conns: &Arc<Conns>,
    links: &Links,
    req: Outgoing<'_>,
    to: &To<'_>,
    host: &url::Host<&str>,
    mut conn: Conn,
    mut reused: bool,
) -> Result<Head, Failure> {
    let set = StepSets::of(req.headers);
    // A body in gzip, deflate or br is decompressed, whoever asked for it;
    // a byte range of one could not be.
    let decompress = req.compressed && !set.range;
    let ours = decompress && !set.accept_encoding;
    let size = match req.body {
        Some(p) => Some(p.size().map_err(Failure::Other)?),
        None => None,
    };
    let (out, separate) = request_bytes(&req, &set, ours, conn.via_proxy.as_ref(), size);
    let idempotent = matches!(
        *req.method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE
    );
    let (head, cut_short) = loop {
        loop {
            match write_all(&mut conn.stream, &out).await {
                Ok(()) => break,
                // The server had closed this idle connection: the request
                // did not reach it whole, so it goes on a new connection.
                Err(_) if reused => {
                    conn = Box::pin(connect(links, to, host)).await?;
                    reused = false;
                }
                Err(e) => return Err(io_failure(&e)),
            }
        }
        let mut cut_short = false;
        if let Some(body) = separate {
            // Boxed, as a rare path that would otherwise enlarge every
            // request's future.
            cut_short = Box::pin(write_payload(&mut conn, body, size.unwrap_or(0))).await?;
        }
        match read_head(&mut conn, *req.method == Method::HEAD).await {
            Ok(head) => break (head, cut_short),
            // A reused connection that ends before a byte of an answer was
            // being closed by the server as the request went out: an
            // idempotent request goes once more on a new connection, as
            // browsers do; a POST or PATCH is never sent twice.
            Err((_, true)) if reused && idempotent && !cut_short => {
                conn = Box::pin(connect(links, to, host)).await?;
                reused = false;
            }
            Err((failure, _)) => return Err(failure),
        }
    };
    let mut response_headers = head.headers;
    let encoding = if decompress {
        Encoding::of(&response_headers)
    } else {
        None
    };
    if encoding.is_some() {
        response_headers.remove("content-encoding");
        response_headers.remove("content-length");
    }
    Ok(Head {
        status: head.status,
        headers: response_headers,
        body: Body {
            conn: Some(conn),
            conns: conns.clone(),
            framing: head.framing,
            keep_alive: head.keep_alive && !set.close && !cut_short,
            encoding,
        },
    })
}

/// Writes all of `bytes` and flushes them (a TLS session holds what it
/// could not write yet).
async fn write_all(stream: &mut Stream, bytes: &[u8]) -> std::io::Result<()> {
    stream.write_all(bytes).await?;
    if matches!(stream, Stream::Tls(_)) {
        stream.flush().await?;
    }
    Ok(())
}

/// Which of the headers trek would add the step set itself, found in one
/// pass over the step's headers (usually none or a few).
#[derive(Default)]
struct StepSets {
    host: bool,
    cookie: bool,
    authorization: bool,
    user_agent: bool,
    accept_encoding: bool,
    range: bool,
    /// `Connection: close`.
    close: bool,
}

impl StepSets {
    fn of(headers: &HeaderMap) -> Self {
        let mut set = StepSets::default();
        for (name, value) in headers {
            if name == HOST {
                set.host = true;
            } else if name == COOKIE {
                set.cookie = true;
            } else if name == AUTHORIZATION {
                set.authorization = true;
            } else if name == USER_AGENT {
                set.user_agent = true;
            } else if name == ACCEPT_ENCODING {
                set.accept_encoding = true;
            } else if name == RANGE {
                set.range = true;
            } else if name == CONNECTION {
                set.close |= wire::lists(std::iter::once(value.as_bytes()), "close");
            }
        }
        set
    }
}

/// The request's head, with the body when it is small enough to go in the
/// same write; a larger body is returned to be written after it. trek adds
/// `Host`, the jar's `Cookie`, Basic authentication from the URL's user,
/// `User-Agent` and `Accept-Encoding` where the step sets none.
fn request_bytes<'a>(
    req: &Outgoing<'a>,
    set: &StepSets,
    ours: bool,
    via_proxy: Option<&Option<String>>,
    size: Option<u64>,
) -> (Vec<u8>, Option<&'a Payload>) {
    let (url, headers) = (req.url, req.headers);
    let length = wire::body_length(req.method, size);
    let body = req
        .body
        .filter(|_| size.unwrap_or(0) > 0 && length.is_some());
    let inline = body
        .and_then(Payload::as_bytes)
        .filter(|b| b.len() <= COALESCE);
    let mut out = Vec::with_capacity(256 + inline.map_or(0, |b| b.len()));
    // Through a proxy, the request names its target whole (without the
    // URL's user and password, which become `Authorization`).
    let target = match via_proxy {
        Some(_) => &url[url::Position::BeforeHost..url::Position::AfterQuery],
        None => &url[url::Position::BeforePath..url::Position::AfterQuery],
    };
    if via_proxy.is_some() {
        out.extend_from_slice(req.method.as_str().as_bytes());
        out.extend_from_slice(b" http://");
        out.extend_from_slice(target.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\n");
    } else {
        wire::request_line(&mut out, req.method, target);
    }
    if let Some(Some(auth)) = via_proxy {
        wire::header_line(&mut out, b"proxy-authorization", auth.as_bytes());
    }
    if !set.host {
        // `host` or `host:port` as the URL has it.
        let authority = &url[url::Position::BeforeHost..url::Position::AfterPort];
        wire::header_line(&mut out, b"host", authority.as_bytes());
    }
    if let Some(cookie) = req.cookie.filter(|_| !set.cookie) {
        wire::header_line(&mut out, b"cookie", cookie.as_bytes());
    }
    if !url.username().is_empty() && !set.authorization {
        wire::header_line(&mut out, b"authorization", basic_auth(url).as_bytes());
    }
    if !set.user_agent {
        wire::header_line(&mut out, b"user-agent", super::http::USER_AGENT.as_bytes());
    }
    if ours {
        wire::header_line(&mut out, b"accept-encoding", ACCEPTED.as_bytes());
    }
    wire::step_headers(&mut out, headers);
    if let Some(n) = length {
        let _ = write!(out, "content-length: {n}\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if let Some(b) = inline {
        out.extend_from_slice(b);
    }
    (out, body.filter(|_| inline.is_none()))
}

/// Reads a response's head. An error says whether the connection ended
/// before any byte of an answer came.
async fn read_head(conn: &mut Conn, head_request: bool) -> Result<wire::Head, (Failure, bool)> {
    loop {
        match wire::parse_head(&mut conn.buf, head_request) {
            Ok(Some(head)) => return Ok(head),
            Ok(None) => {}
            Err(e) => return Err((Failure::Other(e), false)),
        }
        let nothing_yet = conn.buf.is_empty();
        match conn.fill(0).await {
            Ok(0) => {
                return Err((
                    Failure::Other(
                        "request failed: the server closed the connection without answering".into(),
                    ),
                    nothing_yet,
                ))
            }
            Ok(_) => {}
            Err(e) => {
                let reset = matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
                );
                return Err((io_failure(&e), nothing_yet && reset));
            }
        }
    }
}

/// Writes a body that did not go out with its head: bytes, or files read
/// a chunk at a time. Returns whether it was cut short by an early answer.
async fn write_payload(conn: &mut Conn, body: &Payload, size: u64) -> Result<bool, Failure> {
    let pieces = match body {
        Payload::Bytes(b) => return write_body(conn, b).await.map_err(|e| io_failure(&e)),
        Payload::Pieces(pieces) => pieces,
    };
    let mut chunks = Chunks::new(pieces);
    let mut sent = 0u64;
    while let Some(chunk) = chunks.next().await.map_err(Failure::Other)? {
        sent += chunk.len() as u64;
        if sent > size {
            break;
        }
        if write_body(conn, &chunk).await.map_err(|e| io_failure(&e))? {
            return Ok(true);
        }
    }
    if sent != size {
        return Err(Failure::Other(format!(
            "request failed: a file of the body changed size while it was sent ({size} bytes announced)"
        )));
    }
    Ok(false)
}

/// Writes a large body after its head while watching for an early answer
/// (a 413 or 401 sent before the server read the body): when one comes, the
/// rest is not written and the answer is read as the response. Returns
/// whether the body was cut short (the connection cannot be reused then).
async fn write_body(conn: &mut Conn, body: &[u8]) -> std::io::Result<bool> {
    enum Event {
        Read(std::io::Result<usize>),
        Wrote(std::io::Result<usize>),
    }
    let mut at = 0;
    let mut scratch = vec![0u8; READ_BUFFER];
    while at < body.len() {
        let stream = &mut conn.stream;
        let event = poll_fn(|cx| {
            // An answer first: it ends the upload.
            let mut read = ReadBuf::new(&mut scratch);
            if let Poll::Ready(r) = Pin::new(&mut *stream).poll_read(cx, &mut read) {
                let n = read.filled().len();
                return Poll::Ready(Event::Read(r.map(|_| n)));
            }
            Pin::new(&mut *stream)
                .poll_write(cx, &body[at..])
                .map(Event::Wrote)
        })
        .await;
        match event {
            // The server closed: what it said, if anything, is read next.
            Event::Read(Ok(0)) => return Ok(true),
            Event::Read(Ok(n)) => {
                conn.buf.extend_from_slice(&scratch[..n]);
                // `100 Continue` (asked for with `Expect`) or `103 Early
                // Hints`: the server wants the rest of the body; anything
                // else is the final answer, begun.
                if !wire::only_interim(&mut conn.buf) {
                    return Ok(true);
                }
            }
            Event::Read(Err(e)) => return Err(e),
            Event::Wrote(Ok(n)) => at += n,
            // The server stopped reading and hung up: its answer, if it
            // sent one before, or the reset, is read next.
            Event::Wrote(Err(_)) => return Ok(true),
        }
    }
    if matches!(conn.stream, Stream::Tls(_)) {
        conn.stream.flush().await?;
    }
    Ok(false)
}

/// The server closed the connection with part of the body still to come.
fn cut_off() -> Failure {
    Failure::Other("request failed: the connection closed before the end of the body".into())
}

fn io_failure(e: &std::io::Error) -> Failure {
    match super::tls::explain(e) {
        Some(why) => Failure::Other(format!("request failed: TLS: {why}")),
        None => Failure::Other(format!("request failed: {}", super::http::root_cause(e))),
    }
}

async fn connect(links: &Links, to: &To<'_>, host: &url::Host<&str>) -> Result<Conn, Failure> {
    let made = links
        .connect(to.link, host, to.port, to.secure, Purpose::Http)
        .await?;
    Ok(conn_of(to, made))
}

fn conn_of(to: &To<'_>, made: Connected) -> Conn {
    Conn {
        link: to.link,
        secure: to.secure,
        host: to.host.into(),
        port: to.port,
        since: Instant::now(),
        stream: made.stream,
        via_proxy: made.via_proxy,
        buf: BytesMut::new(),
    }
}

/// `Authorization: Basic` from the user and password of a URL
/// (`http://user:secret@host/`), as browsers and reqwest send it.
pub fn basic_auth(url: &Url) -> String {
    use base64::Engine;
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let user = decode(url.username());
    let password = url.password().map(decode).unwrap_or_default();
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

impl Body {
    /// The next piece of the body as it arrived, `None` at the end. Not
    /// decompressed: streams are asked for without compression.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Failure> {
        loop {
            let Some(conn) = self.conn.as_mut() else {
                return Ok(None);
            };
            let piece = match self.framing.next(&mut conn.buf) {
                Ok(p) => p,
                Err(e) => {
                    self.conn = None;
                    return Err(Failure::Other(format!("request failed: {e}")));
                }
            };
            match piece {
                Piece::Data(data) => return Ok(Some(data)),
                Piece::End => {
                    self.release();
                    return Ok(None);
                }
                Piece::NeedMore => match conn.fill(self.framing.expected()).await {
                    Ok(0) if self.framing.complete_at_close() => {
                        self.conn = None;
                        return Ok(None);
                    }
                    Ok(0) => {
                        self.conn = None;
                        return Err(cut_off());
                    }
                    Ok(_) => {}
                    Err(e) => {
                        self.conn = None;
                        return Err(io_failure(&e));
                    }
                },
            }
        }
    }

    /// Gives the connection back to its user if it can carry another
    /// request: the server did not ask to close it and sent nothing more.
    fn release(&mut self) {
        if let Some(conn) = self.conn.take() {
            if self.keep_alive && conn.buf.is_empty() {
                self.conns.put(conn);
            }
        }
    }

    /// The body, decompressed when trek asked for compression, of which
    /// at most `max` bytes are kept; the rest is read and counted.
    pub async fn all(mut self, max: usize) -> Result<Kept, Failure> {
        // A body of known length within the bound is read into one piece,
        // without copying.
        if let (Framing::Length(n), Some(conn)) = (&self.framing, &mut self.conn) {
            let n = *n;
            if n <= max as u64 {
                while (conn.buf.len() as u64) < n {
                    match conn.fill(n).await {
                        Ok(0) => return Err(cut_off()),
                        Ok(_) => {}
                        Err(e) => return Err(io_failure(&e)),
                    }
                }
            }
        }
        let mut keeper = Keeper::new(max, self.encoding);
        while let Some(data) = self.chunk().await? {
            keeper.push(data);
        }
        keeper.finish().map_err(Failure::Other)
    }
}

#[cfg(test)]
mod tests;
