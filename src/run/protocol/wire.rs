//! HTTP/1.1 as bytes, with no I/O: writing a request head, parsing a
//! response head (httparse), and cutting the body that follows it into
//! pieces by its framing (a length, chunks, or the end of the connection).
//! `h1` moves these bytes over the virtual user's connections.

use std::mem::MaybeUninit;

use bytes::{Buf, Bytes, BytesMut};
use http::header::{HeaderMap, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::Method;

use super::headers::Headers;

/// A response head larger than this is refused.
const MAX_HEAD: usize = 400 * 1024;

/// Headers one response may carry.
const MAX_HEADERS: usize = 100;

/// A chunk-size line or trailer longer than this is refused.
const MAX_LINE: usize = 4096;

/// Starts a request head: `GET /path?q HTTP/1.1`.
pub fn request_line(out: &mut Vec<u8>, method: &Method, target: &str) {
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(if target.is_empty() {
        b"/"
    } else {
        target.as_bytes()
    });
    out.extend_from_slice(b" HTTP/1.1\r\n");
}

/// One header line. Values come from `HeaderValue`, which cannot hold CR
/// or LF, so nothing can be smuggled into the head.
pub fn header_line(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// The step's own headers, without the framing ones: trek always sends a
/// body with a `Content-Length` it counts itself.
pub fn step_headers(out: &mut Vec<u8>, headers: &HeaderMap) {
    for (name, value) in headers {
        if name != CONTENT_LENGTH && name != TRANSFER_ENCODING {
            header_line(out, name.as_str().as_bytes(), value.as_bytes());
        }
    }
}

/// Whether a request with this method and body announces its length.
/// POST, PUT and PATCH always do (`Content-Length: 0` when empty), as
/// servers may refuse them otherwise.
pub fn body_length(method: &Method, body: Option<u64>) -> Option<u64> {
    match body {
        Some(n) if n > 0 || !matches!(*method, Method::GET | Method::HEAD) => Some(n),
        _ if matches!(*method, Method::POST | Method::PUT | Method::PATCH) => Some(0),
        _ => None,
    }
}

/// Whether comma-separated header values list `token` (any case).
pub fn lists<'a>(mut values: impl Iterator<Item = &'a [u8]>, token: &str) -> bool {
    values.any(|v| {
        v.split(|&b| b == b',')
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
    })
}

/// A final response head.
#[derive(Debug)]
pub struct Head {
    pub status: u16,
    pub headers: Headers,
    pub framing: Framing,
    /// Whether the connection can carry another request after the body.
    pub keep_alive: bool,
}

/// Parses the response head at the start of `buf` and removes it; `None`
/// while more bytes are needed. Interim responses (`100 Continue`,
/// `103 Early Hints`) are skipped. `head_request`: the answer to a HEAD
/// has no body, whatever its `Content-Length` says.
pub fn parse_head(buf: &mut BytesMut, head_request: bool) -> Result<Option<Head>, String> {
    loop {
        let Some((status, version, headers)) = parse_one(buf)? else {
            return Ok(None);
        };
        if (100..200).contains(&status) && status != 101 {
            continue;
        }
        let (framing, keep_alive) = framing(status, version, &headers, head_request)?;
        return Ok(Some(Head {
            status,
            headers,
            framing,
            keep_alive,
        }));
    }
}

/// Removes complete interim heads (`100 Continue`, `103 Early Hints`)
/// from the start of `buf`, and says whether the final answer may still be
/// to come: `true` while `buf` holds nothing else, or only the start of
/// another interim head. A client sending a large body keeps sending then.
pub fn only_interim(buf: &mut BytesMut) -> bool {
    loop {
        const LINE: &[u8] = b"HTTP/1.1 1";
        let n = buf.len().min(LINE.len());
        // "HTTP/1.x 1", with any minor version.
        let prefix = buf[..n]
            .iter()
            .zip(LINE)
            .enumerate()
            .all(|(i, (b, want))| i == 7 || b == want);
        if !prefix {
            return false;
        }
        if buf.len() < 12 {
            return true;
        }
        if &buf[9..12] == b"101" {
            return false;
        }
        match parse_one(buf) {
            Ok(Some(_)) => {}
            Ok(None) => return true,
            Err(_) => return false,
        }
    }
}

type Parsed = (u16, u8, Headers);

fn parse_one(buf: &mut BytesMut) -> Result<Option<Parsed>, String> {
    if buf.is_empty() {
        return Ok(None);
    }
    // Uninitialised slots: zeroing a hundred of them for every response
    // costs more than parsing a typical head.
    let mut slots = [MaybeUninit::<httparse::Header>::uninit(); MAX_HEADERS];
    let mut response = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut response,
        buf,
        &mut slots,
    );
    let too_large = || format!("the response head is larger than {} KiB", MAX_HEAD / 1024);
    let size = match parsed {
        Ok(httparse::Status::Complete(n)) if n > MAX_HEAD => return Err(too_large()),
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => return Err(too_large()),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(format!("the response has more than {MAX_HEADERS} headers"))
        }
        Err(e) => return Err(format!("invalid response head: {e}")),
    };
    let status = response.code.unwrap_or_default();
    if status < 100 {
        return Err(format!("invalid response status {status:03}"));
    }
    let version = response.version.unwrap_or(1);
    // Names and values stay where they are in the head's bytes: note
    // where each one lies, then cut the head off the buffer.
    let start = buf.as_ptr() as usize;
    let at = |s: &[u8]| {
        let from = s.as_ptr() as usize - start;
        from..from + s.len()
    };
    let spans: Vec<_> = response
        .headers
        .iter()
        .map(|h| (at(h.name.as_bytes()), at(h.value)))
        .collect();
    let mut headers = Headers::new(buf.split_to(size).freeze(), spans.len());
    for (name, value) in spans {
        headers.push(name, value);
    }
    Ok(Some((status, version, headers)))
}

/// How the body is delimited (RFC 9112, section 6.3), and whether the
/// connection may be used again. One pass over the headers.
fn framing(
    status: u16,
    version: u8,
    headers: &Headers,
    head_request: bool,
) -> Result<(Framing, bool), String> {
    let (mut close, mut keep) = (false, false);
    let mut length: Result<Option<u64>, String> = Ok(None);
    let mut encoding: Option<&[u8]> = None;
    for (name, value) in headers.raw() {
        let is = |want: &str| name.eq_ignore_ascii_case(want.as_bytes());
        match name.len() {
            10 if is("connection") => {
                close |= lists(std::iter::once(value), "close");
                keep |= lists(std::iter::once(value), "keep-alive");
            }
            14 if is("content-length") => {
                length = length.and_then(|found| content_length(found, value));
            }
            // Only the last coding says whether the body is chunked.
            17 if is("transfer-encoding") => encoding = Some(value),
            _ => {}
        }
    }
    let mut keep_alive = if version >= 1 { !close } else { keep };
    if head_request || status < 200 || status == 204 || status == 304 {
        // 101 hands the connection to another protocol.
        return Ok((Framing::Length(0), keep_alive && status != 101));
    }
    if let Some(codings) = encoding {
        // The last coding listed (empty list elements do not count).
        let chunked = codings
            .rsplit(|&b| b == b',')
            .map(<[u8]>::trim_ascii)
            .find(|t| !t.is_empty())
            .is_some_and(|t| t.eq_ignore_ascii_case(b"chunked"));
        // Transfer-Encoding overrides Content-Length. Both at once is how
        // requests get smuggled, and HTTP/1.0 has no chunks: read this body
        // by its chunks, but do not trust the connection after it.
        keep_alive &= matches!(length, Ok(None)) && version >= 1;
        if chunked {
            return Ok((Framing::Chunked(Chunked::Size), keep_alive));
        }
        return Ok((Framing::UntilClose, false));
    }
    match length? {
        Some(n) => Ok((Framing::Length(n), keep_alive)),
        None => Ok((Framing::UntilClose, false)),
    }
}

/// Adds one `Content-Length` value to what was found before: every number
/// in every such header must agree.
fn content_length(found: Option<u64>, value: &[u8]) -> Result<Option<u64>, String> {
    let mut found = found;
    for part in std::str::from_utf8(value).unwrap_or("x").split(',') {
        let part = part.trim();
        let n = part
            .parse::<u64>()
            .ok()
            .filter(|_| part.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| format!("invalid Content-Length `{part}`"))?;
        if found.is_some_and(|f| f != n) {
            return Err("the response has two different Content-Length values".into());
        }
        found = Some(n);
    }
    Ok(found)
}

/// How the body after a head ends.
#[derive(Debug, PartialEq, Eq)]
pub enum Framing {
    /// This many bytes still to come.
    Length(u64),
    Chunked(Chunked),
    /// Everything until the server closes the connection.
    UntilClose,
}

/// Where the reader is in a chunked body.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunked {
    Size,
    Data(u64),
    /// The CRLF after a chunk's data.
    DataEnd,
    Trailers,
    Done,
}

/// What the buffered bytes yield.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece {
    Data(Bytes),
    /// Read more from the connection.
    NeedMore,
    End,
}

impl Framing {
    /// The next piece of body in `buf`, taken out of it.
    pub fn next(&mut self, buf: &mut BytesMut) -> Result<Piece, String> {
        match self {
            Framing::Length(0) => Ok(Piece::End),
            Framing::Length(_) | Framing::UntilClose if buf.is_empty() => Ok(Piece::NeedMore),
            Framing::Length(rest) => {
                let n = (*rest).min(buf.len() as u64);
                *rest -= n;
                Ok(Piece::Data(buf.split_to(n as usize).freeze()))
            }
            Framing::UntilClose => Ok(Piece::Data(buf.split().freeze())),
            Framing::Chunked(state) => state.next(buf),
        }
    }

    /// Whether the body is complete when the connection ends now.
    pub fn complete_at_close(&self) -> bool {
        matches!(
            self,
            Framing::UntilClose | Framing::Length(0) | Framing::Chunked(Chunked::Done)
        )
    }

    /// Bytes known to be still coming, to size the read buffer.
    pub fn expected(&self) -> u64 {
        match self {
            Framing::Length(n) => *n,
            Framing::Chunked(Chunked::Data(n)) => *n,
            _ => 0,
        }
    }
}

/// A chunk-size line: hex digits, maybe extensions, CRLF. Stricter than
/// httparse alone, which takes a line without digits as size 0 (ending the
/// body early) and a bare LF inside an extension.
fn chunk_size(buf: &[u8]) -> Result<httparse::Status<(usize, u64)>, &'static str> {
    const INVALID: &str = "invalid chunk size in a chunked body";
    const LONG: &str = "a chunk-size line is too long";
    if buf.first().is_some_and(|b| !b.is_ascii_hexdigit()) {
        return Err(INVALID);
    }
    match buf.iter().position(|&b| b == b'\n') {
        None if buf.len() > MAX_LINE => Err(LONG),
        None => Ok(httparse::Status::Partial),
        Some(end) if end >= MAX_LINE => Err(LONG),
        Some(end) if end == 0 || buf[end - 1] != b'\r' => Err(INVALID),
        Some(end) => match httparse::parse_chunk_size(&buf[..=end]) {
            Ok(httparse::Status::Complete(done)) => Ok(httparse::Status::Complete(done)),
            _ => Err(INVALID),
        },
    }
}

impl Chunked {
    fn next(&mut self, buf: &mut BytesMut) -> Result<Piece, String> {
        loop {
            match self {
                Chunked::Size => match chunk_size(buf) {
                    Ok(httparse::Status::Complete((used, size))) => {
                        buf.advance(used);
                        *self = if size == 0 {
                            Chunked::Trailers
                        } else {
                            Chunked::Data(size)
                        };
                    }
                    Ok(httparse::Status::Partial) => return Ok(Piece::NeedMore),
                    Err(e) => return Err(e.into()),
                },
                Chunked::Data(_) if buf.is_empty() => return Ok(Piece::NeedMore),
                Chunked::Data(rest) => {
                    let n = (*rest).min(buf.len() as u64);
                    *rest -= n;
                    if *rest == 0 {
                        *self = Chunked::DataEnd;
                    }
                    return Ok(Piece::Data(buf.split_to(n as usize).freeze()));
                }
                Chunked::DataEnd if buf.len() < 2 => return Ok(Piece::NeedMore),
                Chunked::DataEnd => {
                    if &buf[..2] != b"\r\n" {
                        return Err("a chunk's data does not end with CRLF".into());
                    }
                    buf.advance(2);
                    *self = Chunked::Size;
                }
                Chunked::Trailers => match buf.windows(2).position(|w| w == b"\r\n") {
                    // The empty line after the trailers (usually none).
                    Some(0) => {
                        buf.advance(2);
                        *self = Chunked::Done;
                    }
                    Some(end) => buf.advance(end + 2),
                    None if buf.len() > MAX_LINE => return Err("a trailer is too long".into()),
                    None => return Ok(Piece::NeedMore),
                },
                Chunked::Done => return Ok(Piece::End),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::HeaderValue;

    /// Feeds `bytes` to a parser in two parts split at `at`, as if they
    /// came in two reads: the head, then every body piece until the end.
    fn read(bytes: &[u8], at: usize, head_request: bool) -> Result<(Head, Vec<u8>), String> {
        let mut buf = BytesMut::from(&bytes[..at]);
        let mut rest = Some(&bytes[at..]);
        let mut more = |buf: &mut BytesMut| match rest.take() {
            Some(r) => {
                buf.extend_from_slice(r);
                true
            }
            None => false,
        };
        let mut head = loop {
            if let Some(h) = parse_head(&mut buf, head_request)? {
                break h;
            }
            if !more(&mut buf) {
                return Err("closed before the head".into());
            }
        };
        let mut body = Vec::new();
        loop {
            match head.framing.next(&mut buf)? {
                Piece::Data(d) => {
                    assert!(!d.is_empty());
                    body.extend_from_slice(&d)
                }
                Piece::End => break,
                Piece::NeedMore if more(&mut buf) => {}
                Piece::NeedMore if head.framing.complete_at_close() => break,
                Piece::NeedMore => return Err("closed before the end of the body".into()),
            }
        }
        assert!(buf.is_empty(), "left over: {buf:?}");
        Ok((head, body))
    }

    /// `read` at every split position, which must all agree.
    fn read_all_ways(bytes: &[u8], head_request: bool) -> Result<(Head, Vec<u8>), String> {
        let whole = read(bytes, bytes.len(), head_request);
        for at in 0..bytes.len() {
            let split = read(bytes, at, head_request);
            match (&whole, &split) {
                (Ok((h1, b1)), Ok((h2, b2))) => {
                    assert_eq!((h1.status, &h1.headers, b1), (h2.status, &h2.headers, b2));
                }
                (Err(e1), Err(e2)) => assert_eq!(e1, e2, "split at {at}"),
                _ => panic!("split at {at}: {split:?} but whole: {whole:?}"),
            }
        }
        whole
    }

    #[test]
    fn a_body_of_known_length() {
        let (head, body) = read_all_ways(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello",
            false,
        )
        .unwrap();
        assert_eq!((head.status, &body[..]), (200, &b"hello"[..]));
        assert_eq!(head.headers.get_str("x-a"), Some("b"));
        assert!(head.keep_alive);
    }

    #[test]
    fn a_chunked_body_with_extensions_and_trailers() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                    5;name=x\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n";
        let (head, body) = read_all_ways(raw, false).unwrap();
        assert_eq!(&body[..], b"hello, world");
        assert!(head.keep_alive);
    }

    #[test]
    fn a_body_until_close_ends_the_connection() {
        let (head, body) = read_all_ways(b"HTTP/1.1 200 OK\r\n\r\nall of it", false).unwrap();
        assert_eq!(&body[..], b"all of it");
        assert!(!head.keep_alive);
        let (head, _) = read_all_ways(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxyz",
            false,
        )
        .unwrap();
        assert_eq!(head.framing, Framing::UntilClose);
        assert!(!head.keep_alive);
    }

    #[test]
    fn head_204_and_304_have_no_body() {
        let (_, body) =
            read_all_ways(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", true).unwrap();
        assert!(body.is_empty());
        for status in ["204 No Content", "304 Not Modified"] {
            let raw = format!("HTTP/1.1 {status}\r\nContent-Length: 10\r\n\r\n");
            let (head, body) = read_all_ways(raw.as_bytes(), false).unwrap();
            assert!(body.is_empty() && head.keep_alive, "{status}");
        }
    }

    #[test]
    fn interim_responses_are_skipped() {
        let raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n\
                    HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
        let (head, body) = read_all_ways(raw, false).unwrap();
        assert_eq!((head.status, &body[..]), (201, &b"ok"[..]));
        assert_eq!(head.headers.get("link"), None);
    }

    #[test]
    fn which_connections_may_carry_another_request() {
        let keep = |raw: &[u8]| read_all_ways(raw, false).unwrap().0.keep_alive;
        assert!(!keep(
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        ));
        assert!(!keep(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
        assert!(keep(
            b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n"
        ));
        assert!(!keep(
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n\
              3\r\nabc\r\n0\r\n\r\n"
        ));
        assert!(!keep(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n"
        ));
        // HTTP/1.0 has no chunked coding: a server sending one is not
        // trusted with another request.
        assert!(!keep(
            b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n\
              0\r\n\r\n"
        ));
    }

    #[test]
    fn what_a_head_request_or_204_says_of_its_length_does_not_matter() {
        for raw in [
            "HTTP/1.1 204 No Content\r\nContent-Length: 10, 20\r\n\r\n",
            "HTTP/1.1 304 Not Modified\r\nContent-Length: x\r\n\r\n",
        ] {
            let (head, body) = read_all_ways(raw.as_bytes(), false).unwrap();
            assert!(body.is_empty() && head.keep_alive, "{raw}");
        }
        let raw = "HTTP/1.1 200 OK\r\nContent-Length: 10, 20\r\n\r\n";
        assert!(read_all_ways(raw.as_bytes(), true).is_ok());
        // Transfer-Encoding overrides a broken Content-Length; an empty
        // list element is not a coding.
        let raw =
            "HTTP/1.1 200 OK\r\nContent-Length: x\r\nTransfer-Encoding: gzip, chunked,\r\n\r\n\
                   2\r\nok\r\n0\r\n\r\n";
        let (head, body) = read_all_ways(raw.as_bytes(), false).unwrap();
        assert_eq!(&body[..], b"ok");
        assert!(!head.keep_alive);
    }

    #[test]
    fn interim_answers_during_an_upload() {
        let left = |raw: &[u8]| {
            let mut buf = BytesMut::from(raw);
            let waiting = only_interim(&mut buf);
            (waiting, String::from_utf8(buf.to_vec()).unwrap())
        };
        assert_eq!(
            left(b"HTTP/1.1 100 Continue\r\n\r\n"),
            (true, String::new())
        );
        assert_eq!(left(b"HTTP/1.0 1"), (true, "HTTP/1.0 1".into()));
        assert_eq!(
            left(b"HTTP/1.1 100 Cont"),
            (true, "HTTP/1.1 100 Cont".into())
        );
        assert_eq!(
            left(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 413 Too Large\r\n"),
            (false, "HTTP/1.1 413 Too Large\r\n".into())
        );
        assert!(!left(b"HTTP/1.1 101 Switching").0);
        assert!(!left(b"HTTP/1.1 2").0);
    }

    #[test]
    fn chunk_size_lines_must_be_hex_digits_and_crlf() {
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        for bad in [
            "\r\nhello\r\n0\r\n\r\n",
            ";x\r\n0\r\n\r\n",
            "5;a\nb\r\nhello\r\n0\r\n\r\n",
            "5\nhello\r\n0\r\n\r\n",
        ] {
            let raw = format!("{head}{bad}");
            assert_eq!(
                read_all_ways(raw.as_bytes(), false).unwrap_err(),
                "invalid chunk size in a chunked body",
                "{bad:?}"
            );
        }
        // Too long, whether it comes in pieces or in one read.
        let long = format!("{head}5;{}\r\nhello\r\n0\r\n\r\n", "x".repeat(MAX_LINE));
        assert_eq!(
            read_all_ways(long.as_bytes(), false).unwrap_err(),
            "a chunk-size line is too long"
        );
        let (_, body) = read_all_ways(
            format!("{head}A\r\n0123456789\r\n0\r\n\r\n").as_bytes(),
            false,
        )
        .unwrap();
        assert_eq!(&body[..], b"0123456789");
    }

    #[test]
    fn broken_heads_and_bodies_are_errors_that_say_what_is_wrong() {
        let err = |raw: &[u8]| read_all_ways(raw, false).unwrap_err();
        assert_eq!(
            err(b"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n"),
            "invalid Content-Length `1x`"
        );
        assert_eq!(
            err(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"),
            "the response has two different Content-Length values"
        );
        assert_eq!(
            err(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
            "invalid chunk size in a chunked body"
        );
        assert_eq!(
            err(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc"),
            "a chunk's data does not end with CRLF"
        );
        assert_eq!(
            err(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort"),
            "closed before the end of the body"
        );
        assert!(err(b"HTTTP/1.1 200 OK\r\n\r\n").starts_with("invalid response head"));
        assert_eq!(
            err(b"HTTP/1.1 099 Odd\r\n\r\n"),
            "invalid response status 099"
        );
        let many = format!("HTTP/1.1 200 OK\r\n{}\r\n", "a: b\r\n".repeat(101));
        assert_eq!(
            err(many.as_bytes()),
            "the response has more than 100 headers"
        );
        // Too large, whether it comes in pieces or in one read.
        let mut big = BytesMut::from(&b"HTTP/1.1 200 OK\r\nx: "[..]);
        big.extend_from_slice(&vec![b'y'; MAX_HEAD]);
        assert!(parse_head(&mut big, false)
            .unwrap_err()
            .contains("larger than"));
        big.extend_from_slice(b"\r\n\r\n");
        assert!(parse_head(&mut big, false)
            .unwrap_err()
            .contains("larger than"));
    }

    #[test]
    fn a_request_head() {
        let mut out = Vec::new();
        request_line(&mut out, &Method::POST, "/api?q=1");
        let mut headers = HeaderMap::new();
        headers.insert("x-a", HeaderValue::from_static("1"));
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("999"));
        headers.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        step_headers(&mut out, &headers);
        let len = body_length(&Method::POST, None).unwrap();
        header_line(&mut out, b"content-length", len.to_string().as_bytes());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "POST /api?q=1 HTTP/1.1\r\nx-a: 1\r\ncontent-length: 0\r\n"
        );
        assert_eq!(body_length(&Method::GET, None), None);
        assert_eq!(body_length(&Method::GET, Some(0)), None);
        assert_eq!(body_length(&Method::DELETE, Some(2)), Some(2));
    }
}
