//! HTTP/2, through the `h2` crate: a virtual user keeps one connection per
//! host (and link), on which its requests go as streams, a `parallel:`
//! group's all at once, as a browser's would. Over TLS when the server
//! picks `h2` (ALPN, `http_version: http2` or `auto`), or cleartext with
//! prior knowledge (`h2c`). The connection's frames are read and written
//! by a task of the worker's runtime; the user's requests wait on it.

use std::sync::Mutex;

use bytes::Bytes;
use h2::client::SendRequest;
use http::header::{
    HeaderName, HeaderValue, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_LENGTH, COOKIE, USER_AGENT,
};

use super::decode::{Encoding, Keeper, Kept};
use super::h1::Outgoing;
use super::headers::Headers;
use super::http::Failure;
use super::payload::{Chunks, Payload};
use super::stream::Stream;

/// Where a connection goes: which way, to which host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub link: usize,
    pub secure: bool,
    pub host: Box<str>,
    pub port: u16,
}

/// A stream may take this much of the server's data before trek reads it
/// (and this much for the whole connection): enough for a large download
/// not to wait on window updates.
const STREAM_WINDOW: u32 = 1 << 20;
const CONNECTION_WINDOW: u32 = 4 << 20;

/// One virtual user's HTTP/2 connections.
#[derive(Default)]
pub struct Pool {
    /// Held while a connection is made, so that the branches of a
    /// `parallel:` group wait for the first and share it.
    pub connecting: tokio::sync::Mutex<()>,
    conns: Mutex<Vec<(Key, SendRequest<Bytes>)>>,
    /// Hosts whose TLS server chose HTTP/1.1 when offered both.
    http1: Mutex<Vec<Key>>,
}

impl Pool {
    /// The user's connection for `key`, if it has one that is still open.
    pub fn get(&self, key: &Key) -> Option<SendRequest<Bytes>> {
        let conns = self.conns.lock().unwrap_or_else(|e| e.into_inner());
        let at = conns.iter().position(|(k, _)| k == key)?;
        Some(conns[at].1.clone())
    }

    /// Forgets a connection that failed.
    pub fn drop_conn(&self, key: &Key) {
        let mut conns = self.conns.lock().unwrap_or_else(|e| e.into_inner());
        conns.retain(|(k, _)| k != key);
    }

    /// Starts HTTP/2 on `stream` and keeps the connection for `key`.
    pub async fn start(&self, key: Key, stream: Stream) -> Result<SendRequest<Bytes>, Failure> {
        let (send, connection) = h2::client::Builder::new()
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            .enable_push(false)
            .handshake::<_, Bytes>(stream)
            .await
            .map_err(|e| Failure::Connect(format!("HTTP/2 handshake: {e}")))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let mut conns = self.conns.lock().unwrap_or_else(|e| e.into_inner());
        conns.retain(|(k, _)| *k != key);
        conns.push((key, send.clone()));
        Ok(send)
    }

    pub fn mark_http1(&self, key: &Key) {
        let mut known = self.http1.lock().unwrap_or_else(|e| e.into_inner());
        if !known.contains(key) {
            known.push(key.clone());
        }
    }

    pub fn is_http1(&self, key: &Key) -> bool {
        self.chose_http1(key.link, &key.host, key.port)
    }

    /// Whether the TLS server at `host:port` (by `link`) chose HTTP/1.1
    /// (without making a key).
    pub fn chose_http1(&self, link: usize, host: &str, port: u16) -> bool {
        let known = self.http1.lock().unwrap_or_else(|e| e.into_inner());
        known
            .iter()
            .any(|k| k.link == link && k.secure && k.port == port && *k.host == *host)
    }
}

/// Headers HTTP/2 does not carry (RFC 9113 §8.2.2); `host` becomes the
/// `:authority`.
fn connection_specific(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "transfer-encoding"
            | "upgrade"
            | "host"
            | "te"
    )
}

/// A response whose head has arrived.
pub struct Head {
    pub status: u16,
    pub headers: Headers,
    pub body: Body,
}

pub struct Body {
    recv: h2::RecvStream,
    encoding: Option<Encoding>,
}

/// Sends one request on `send` and waits for the response's head. An
/// error says whether the request can be sent again on a new connection
/// (the connection had ended, or the server refused the stream unread).
pub async fn exchange(
    send: SendRequest<Bytes>,
    req: Outgoing<'_>,
) -> Result<Head, (Failure, bool)> {
    let mut unsent = None;
    let head = exchange_inner(send, req, &mut unsent).await;
    head.map_err(|f| {
        let again = unsent.is_some_and(|e: h2::Error| {
            e.reason() == Some(h2::Reason::REFUSED_STREAM)
                || (e.is_go_away() && e.reason() == Some(h2::Reason::NO_ERROR))
                || e.is_io()
        });
        (f, again)
    })
}

async fn exchange_inner(
    send: SendRequest<Bytes>,
    req: Outgoing<'_>,
    unsent: &mut Option<h2::Error>,
) -> Result<Head, Failure> {
    let url = req.url;
    let step_has = |n: &HeaderName| req.headers.contains_key(n);
    let range = step_has(&http::header::RANGE);
    let decompress = req.compressed && !range;
    let authority = req
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or(&url[url::Position::BeforeHost..url::Position::AfterPort]);
    let uri = format!(
        "{}://{authority}{}",
        url.scheme(),
        &url[url::Position::BeforePath..url::Position::AfterQuery]
    );
    let mut builder = http::Request::builder().method(req.method.clone()).uri(uri);
    let headers = builder.headers_mut().expect("a request being built");
    for (name, value) in req.headers {
        if !connection_specific(name) && name != CONTENT_LENGTH {
            headers.append(name.clone(), value.clone());
        }
    }
    if let Some(c) = req.cookie.filter(|_| !step_has(&COOKIE)) {
        headers.insert(COOKIE, c.clone());
    }
    if !url.username().is_empty() && !step_has(&AUTHORIZATION) {
        if let Ok(v) = HeaderValue::from_str(&super::h1::basic_auth(url)) {
            headers.insert(AUTHORIZATION, v);
        }
    }
    if !step_has(&USER_AGENT) {
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(super::http::USER_AGENT),
        );
    }
    if decompress && !step_has(&ACCEPT_ENCODING) {
        headers.insert(
            ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, deflate, br"),
        );
    }
    let size = match req.body {
        Some(p) => p.size().map_err(Failure::Other)?,
        None => 0,
    };
    let length = super::wire::body_length(req.method, req.body.map(|_| size));
    if let Some(n) = length {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(n));
    }
    let request = builder
        .body(())
        .map_err(|e| Failure::Other(format!("cannot build the request: {e}")))?;
    let mut send = match send.ready().await {
        Ok(s) => s,
        Err(e) => {
            let f = h2_failure(&e);
            *unsent = Some(e);
            return Err(f);
        }
    };
    let body = req.body.filter(|_| size > 0);
    let (response, stream) = match send.send_request(request, body.is_none()) {
        Ok(r) => r,
        Err(e) => {
            let f = h2_failure(&e);
            *unsent = Some(e);
            return Err(f);
        }
    };
    let response = match (body, stream) {
        (Some(payload), mut stream) => {
            // The body goes out while the answer is awaited: an early
            // answer (a 413) ends the upload.
            let upload = send_body(&mut stream, payload, size);
            tokio::pin!(upload);
            tokio::pin!(response);
            tokio::select! {
                biased;
                r = &mut response => r,
                sent = &mut upload => {
                    sent?;
                    response.await
                }
            }
        }
        (None, _) => response.await,
    };
    let response = match response {
        Ok(r) => r,
        Err(e) => {
            let f = h2_failure(&e);
            if e.reason() == Some(h2::Reason::REFUSED_STREAM) {
                *unsent = Some(e);
            }
            return Err(f);
        }
    };
    let (parts, recv) = response.into_parts();
    let mut headers = Headers::from_map(&parts.headers);
    let encoding = if decompress {
        Encoding::of(&headers)
    } else {
        None
    };
    if encoding.is_some() {
        headers.remove("content-encoding");
        headers.remove("content-length");
    }
    Ok(Head {
        status: parts.status.as_u16(),
        headers,
        body: Body { recv, encoding },
    })
}

/// Sends a body within the flow-control windows the server grants.
async fn send_body(
    stream: &mut h2::SendStream<Bytes>,
    payload: &Payload,
    size: u64,
) -> Result<(), Failure> {
    let mut sent = 0u64;
    match payload {
        Payload::Bytes(b) => {
            sent += b.len() as u64;
            give(stream, b.clone()).await?;
        }
        Payload::Pieces(pieces) => {
            let mut chunks = Chunks::new(pieces);
            while let Some(chunk) = chunks.next().await.map_err(Failure::Other)? {
                sent += chunk.len() as u64;
                if sent > size {
                    break;
                }
                give(stream, chunk).await?;
            }
        }
    }
    if sent != size {
        return Err(Failure::Other(format!(
            "request failed: a file of the body changed size while it was sent ({size} bytes announced)"
        )));
    }
    stream
        .send_data(Bytes::new(), true)
        .map_err(|e| h2_failure(&e))
}

/// Sends `data` as the server's flow-control windows allow.
async fn give(stream: &mut h2::SendStream<Bytes>, mut data: Bytes) -> Result<(), Failure> {
    while !data.is_empty() {
        stream.reserve_capacity(data.len());
        let granted = std::future::poll_fn(|cx| stream.poll_capacity(cx))
            .await
            .ok_or_else(|| Failure::Other("request failed: the stream was closed".into()))?
            .map_err(|e| h2_failure(&e))?;
        let piece = data.split_to(granted.min(data.len()));
        stream.send_data(piece, false).map_err(|e| h2_failure(&e))?;
    }
    Ok(())
}

fn h2_failure(e: &h2::Error) -> Failure {
    let why = match e.get_io() {
        Some(io) => super::tls::explain(io).unwrap_or_else(|| io.to_string()),
        None => e.to_string(),
    };
    Failure::Other(format!("request failed: HTTP/2: {why}"))
}

impl Body {
    /// The next piece of the body as it arrived, `None` at the end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Failure> {
        match self.recv.data().await {
            None => Ok(None),
            Some(Ok(data)) => {
                let _ = self.recv.flow_control().release_capacity(data.len());
                Ok(Some(data))
            }
            Some(Err(e)) => Err(h2_failure(&e)),
        }
    }

    /// The body, decompressed when trek asked for compression, of which
    /// at most `max` bytes are kept.
    pub async fn all(mut self, max: usize) -> Result<Kept, Failure> {
        let mut keeper = Keeper::new(max, self.encoding);
        while let Some(data) = self.chunk().await? {
            keeper.push(data);
        }
        keeper.finish().map_err(Failure::Other)
    }
}
