//! The HTTP/1.1 client against servers the tests run on 127.0.0.1:
//! keep-alive, closed and stray connections, framing, compression, uploads
//! with early answers, TLS.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;

/// A server on 127.0.0.1 that answers every request with `reply` and,
/// when `close_after_one`, closes each connection after its first answer
/// (as a server whose keep-alive timeout ran out would). Counts the
/// connections it accepted.
async fn server(reply: Vec<u8>, close_after_one: bool) -> (Url, Arc<AtomicUsize>) {
    let (url, accepted, _) = recording_server(reply, close_after_one).await;
    (url, accepted)
}

/// `server`, which also keeps the last request it read (head and body).
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
                        let head = String::from_utf8_lossy(&seen[..end + 4]).to_lowercase();
                        let length: usize = head
                            .split("\r\n")
                            .find_map(|l| l.strip_prefix("content-length: "))
                            .map_or(0, |n| n.parse().unwrap());
                        if seen.len() < end + 4 + length {
                            break;
                        }
                        let request: Vec<u8> = seen.drain(..end + 4 + length).collect();
                        *heads.lock().unwrap() = String::from_utf8_lossy(&request).to_lowercase();
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

/// The links of a plan that says nothing of them.
fn links() -> &'static Links {
    static LINKS: std::sync::OnceLock<Links> = std::sync::OnceLock::new();
    LINKS.get_or_init(|| {
        Links::new(&[crate::plan::Link {
            tls: Default::default(),
            http_version: crate::scenario::net::HttpVersion::Auto,
            proxy: Some(crate::scenario::net::Proxy::None),
        }])
    })
}

fn outgoing<'a>(url: &'a Url, headers: &'a HeaderMap) -> Outgoing<'a> {
    Outgoing {
        link: 0,
        method: &Method::GET,
        url,
        headers,
        cookie: None,
        body: None,
        compressed: true,
    }
}

async fn get(conns: &Arc<Conns>, url: &Url) -> Result<(u16, Headers, Bytes), Failure> {
    let head = exchange(conns, links(), outgoing(url, &HeaderMap::new())).await?;
    let body = head.body.all(usize::MAX).await?.bytes;
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
    let head = exchange(&conns, links(), outgoing(&url, &HeaderMap::new()))
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
        let (url, _) = server(ok(&packed, &format!("content-encoding: {name}\r\n")), false).await;
        let conns = Arc::new(Conns::default());
        let (_, headers, body) = get(&conns, &url).await.unwrap();
        assert_eq!(&body[..], text, "{name}");
        assert_eq!(headers.get("content-encoding"), None, "{name}");
        // Asked for by the step itself: decompressed all the same.
        let mut asked = HeaderMap::new();
        asked.insert(ACCEPT_ENCODING, HeaderValue::from_static(name));
        let head = exchange(&conns, links(), outgoing(&url, &asked))
            .await
            .unwrap();
        assert_eq!(
            &head.body.all(usize::MAX).await.unwrap().bytes[..],
            text,
            "{name}"
        );
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
    let head_ = exchange(&conns, links(), outgoing(&url, &headers))
        .await
        .unwrap();
    head_.body.all(usize::MAX).await.unwrap();
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

#[tokio::test]
async fn chunked_bodies_keep_the_connection_and_a_close_ends_it() {
    let chunked =
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    let (url, accepted) = server(chunked.to_vec(), false).await;
    let conns = Arc::new(Conns::default());
    for _ in 0..3 {
        let (_, _, body) = get(&conns, &url).await.unwrap();
        assert_eq!(&body[..], b"abcde");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);

    // `Connection: close` from the server: every request on a new one.
    let (url, accepted) = server(ok(b"bye", "connection: close\r\n"), false).await;
    for _ in 0..3 {
        let (_, _, body) = get(&conns, &url).await.unwrap();
        assert_eq!(&body[..], b"bye");
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_body_until_the_server_closes() {
    let (url, _) = server(b"HTTP/1.1 200 OK\r\n\r\nto the end".to_vec(), true).await;
    let conns = Arc::new(Conns::default());
    let (_, _, body) = get(&conns, &url).await.unwrap();
    assert_eq!(&body[..], b"to the end");
    assert_eq!(conns.idle(), 0);
}

#[tokio::test]
async fn a_cut_off_body_is_an_error() {
    let (url, _) = server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort".to_vec(),
        true,
    )
    .await;
    let conns = Arc::new(Conns::default());
    let err = get(&conns, &url).await.unwrap_err();
    assert!(
        err.reason().contains("closed before the end of the body"),
        "{err:?}"
    );
}

#[tokio::test]
async fn large_bodies_both_ways() {
    // Three megabytes back, read whole; a 100 KB upload, written after
    // its head and received whole by the server.
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let (url, _, last) = recording_server(ok(&big, ""), false).await;
    let conns = Arc::new(Conns::default());
    let upload = Payload::Bytes(Bytes::from(vec![b'u'; 100_000]));
    let headers = HeaderMap::new();
    let req = Outgoing {
        method: &Method::POST,
        body: Some(&upload),
        ..outgoing(&url, &headers)
    };
    let head = exchange(&conns, links(), req).await.unwrap();
    assert!(head.body.all(usize::MAX).await.unwrap().bytes == big);
    let sent = last.lock().unwrap().clone();
    assert!(
        sent.contains("content-length: 100000\r\n"),
        "{}",
        &sent[..200]
    );
    assert!(sent.ends_with(&"u".repeat(100_000)));
    // An empty POST says so.
    let req = Outgoing {
        method: &Method::POST,
        ..outgoing(&url, &headers)
    };
    exchange(&conns, links(), req)
        .await
        .unwrap()
        .body
        .all(usize::MAX)
        .await
        .unwrap();
    assert!(last.lock().unwrap().contains("content-length: 0\r\n"));
}

/// A server that runs `script` on every connection it accepts, and
/// counts them.
async fn scripted<F, Fut>(script: F) -> (Url, Arc<AtomicUsize>)
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(script(sock));
        }
    });
    (url, accepted)
}

/// Reads one request head (and nothing after it).
async fn read_head(sock: &mut TcpStream) {
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(b"\r\n\r\n") {
        if sock.read(&mut byte).await.unwrap_or(0) == 0 {
            return;
        }
        seen.push(byte[0]);
    }
}

/// PUTs `size` bytes and reads the whole answer, or gives up after
/// 10 s (a hung upload shows as `Err`).
async fn upload(
    conns: &Arc<Conns>,
    url: &Url,
    size: usize,
    headers: HeaderMap,
) -> Result<(u16, Bytes), tokio::time::error::Elapsed> {
    let body = Payload::Bytes(Bytes::from(vec![b'u'; size]));
    let req = Outgoing {
        method: &Method::PUT,
        body: Some(&body),
        ..outgoing(url, &headers)
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let head = exchange(conns, links(), req).await.unwrap();
        (head.status, head.body.all(usize::MAX).await.unwrap().bytes)
    })
    .await
}

#[tokio::test]
async fn an_answer_before_the_upload_ends_is_the_response() {
    // The server refuses after the head and stops reading: 32 MB cannot
    // fit in the sockets' buffers, so waiting to finish writing would
    // wait until the step's timeout.
    let (url, _) = scripted(|mut sock| async move {
        read_head(&mut sock).await;
        let _ = sock
            .write_all(b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 3\r\n\r\nbig")
            .await;
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
    })
    .await;
    let conns = Arc::new(Conns::default());
    let (status, body) = upload(&conns, &url, 32 << 20, HeaderMap::new())
        .await
        .expect("the early answer was not read");
    assert_eq!((status, &body[..]), (413, &b"big"[..]));
    // The body was cut short: the connection is not reused.
    assert_eq!(conns.idle(), 0);
}

#[tokio::test]
async fn bytes_after_a_response_retire_its_connection() {
    // A server that sends stray bytes after a complete response: the
    // next request must not read them as its answer.
    let (url, accepted) = scripted(|mut sock| async move {
        loop {
            read_head(&mut sock).await;
            let r = sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .await;
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            if r.is_err() || sock.write_all(b"junk").await.is_err() {
                return;
            }
        }
    })
    .await;
    let conns = Arc::new(Conns::default());
    for _ in 0..3 {
        let (status, _, body) = get(&conns, &url).await.unwrap();
        assert_eq!((status, &body[..]), (200, &b"ok"[..]));
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_100_continue_does_not_stop_an_upload() {
    // The server says `100 Continue` after the head, reads the whole
    // body, then answers: trek must keep sending after the 100.
    let (url, _) = scripted(|mut sock| async move {
        read_head(&mut sock).await;
        let _ = sock.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await;
        let mut left = 8usize << 20;
        let mut buf = vec![0u8; 64 * 1024];
        while left > 0 {
            match sock.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
        let _ = sock
            .write_all(b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok")
            .await;
    })
    .await;
    let conns = Arc::new(Conns::default());
    let mut headers = HeaderMap::new();
    headers.insert("expect", HeaderValue::from_static("100-continue"));
    let (status, body) = upload(&conns, &url, 8 << 20, headers)
        .await
        .expect("the upload stopped at the 100 Continue");
    assert_eq!((status, &body[..]), (201, &b"ok"[..]));
    assert_eq!(conns.idle(), 1);
}

#[tokio::test]
async fn a_get_is_sent_again_when_a_reused_connection_closes_unanswered_a_post_is_not() {
    // Each connection answers one request, then reads the next one and
    // closes without a word (as a server whose keep-alive ran out just
    // then, or a proxy that closes after each answer, does).
    let (url, accepted) = scripted(|mut sock| async move {
        read_head(&mut sock).await;
        let _ = sock
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            .await;
        read_head(&mut sock).await;
    })
    .await;
    let conns = Arc::new(Conns::default());
    for _ in 0..2 {
        let (status, _, body) = get(&conns, &url).await.unwrap();
        assert_eq!((status, &body[..]), (200, &b"ok"[..]));
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        2,
        "the GET went again on a new connection"
    );

    let conns = Arc::new(Conns::default());
    let headers = HeaderMap::new();
    let post = || Outgoing {
        method: &Method::POST,
        ..outgoing(&url, &headers)
    };
    let first = exchange(&conns, links(), post()).await.unwrap();
    first.body.all(usize::MAX).await.unwrap();
    let second = exchange(&conns, links(), post()).await;
    let err = second.err().expect("a POST is not sent twice");
    assert!(
        err.reason()
            .contains("closed the connection without answering"),
        "{err:?}"
    );
}

/// A TLS server on 127.0.0.1 (self-signed) that answers one request
/// per connection and then closes it; counts its connections.
async fn tls_server_closing_after_one() -> (Url, Arc<AtomicUsize>) {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert.cert.der().clone()], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("https://{}/", listener.local_addr().unwrap())).unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut seen = Vec::new();
                let mut buf = [0u8; 1024];
                while !seen.ends_with(b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = tls
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\ntls")
                    .await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (url, accepted)
}

#[tokio::test]
async fn a_tls_connection_the_server_closed_is_replaced_without_an_error() {
    let (url, accepted) = tls_server_closing_after_one().await;
    let links = Links::new(&[crate::plan::Link {
        tls: crate::scenario::net::Tls {
            insecure: Some(true),
            ..Default::default()
        },
        http_version: crate::scenario::net::HttpVersion::Http1,
        proxy: Some(crate::scenario::net::Proxy::None),
    }]);
    let conns = Arc::new(Conns::default());
    let headers = HeaderMap::new();
    for _ in 0..3 {
        // A POST: found out by the idle probe, not sent again.
        let post = Outgoing {
            method: &Method::POST,
            ..outgoing(&url, &headers)
        };
        let head = exchange(&conns, &links, post).await.unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(&head.body.all(usize::MAX).await.unwrap().bytes[..], b"tls");
        // Let the server's close arrive before the next request.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}
