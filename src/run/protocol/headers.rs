//! A response's headers as they arrived: the head's bytes and where each
//! name and value lies in them. Nothing is copied, hashed or validated
//! again per header; a check or capture that asks for a header scans the
//! few there are, ignoring case. Costs a fraction of building a map, which
//! most responses in a load test never need.

use std::ops::Range;

use bytes::Bytes;
use http::header::HeaderMap;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers {
    raw: Bytes,
    spans: Vec<Span>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Span {
    name: Range<u32>,
    value: Range<u32>,
}

impl Headers {
    /// Headers over `raw`, which holds each name and value at the offsets
    /// given to `push`.
    pub fn new(raw: Bytes, capacity: usize) -> Self {
        Headers {
            raw,
            spans: Vec::with_capacity(capacity),
        }
    }

    pub fn push(&mut self, name: Range<usize>, value: Range<usize>) {
        let narrow = |r: Range<usize>| r.start as u32..r.end as u32;
        self.spans.push(Span {
            name: narrow(name),
            value: narrow(value),
        });
    }

    /// The same headers from a map (the `https://` client's answer).
    pub fn from_map(map: &HeaderMap) -> Self {
        let mut raw = Vec::new();
        let mut spans = Vec::with_capacity(map.len());
        for (name, value) in map {
            let at = raw.len() as u32;
            raw.extend_from_slice(name.as_str().as_bytes());
            let mid = raw.len() as u32;
            raw.extend_from_slice(value.as_bytes());
            spans.push(Span {
                name: at..mid,
                value: mid..raw.len() as u32,
            });
        }
        Headers {
            raw: raw.into(),
            spans,
        }
    }

    fn slice(&self, r: &Range<u32>) -> &[u8] {
        &self.raw[r.start as usize..r.end as usize]
    }

    /// Every header in order, name and value as bytes.
    pub fn raw(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.spans
            .iter()
            .map(|s| (self.slice(&s.name), self.slice(&s.value)))
    }

    /// The values of every header called `name` (any case).
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.spans
            .iter()
            .filter(move |s| self.slice(&s.name).eq_ignore_ascii_case(name.as_bytes()))
            .map(|s| self.slice(&s.value))
    }

    /// The first header called `name`.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.spans
            .iter()
            .find(|s| self.slice(&s.name).eq_ignore_ascii_case(name.as_bytes()))
            .map(|s| self.slice(&s.value))
    }

    /// The first header called `name`, when it is text.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Forgets every header called `name`.
    pub fn remove(&mut self, name: &str) {
        let raw = &self.raw;
        self.spans.retain(|s| {
            !raw[s.name.start as usize..s.name.end as usize].eq_ignore_ascii_case(name.as_bytes())
        });
    }

    /// Bytes the headers take on the wire (`name: value` and CRLF each).
    pub fn wire_size(&self) -> usize {
        self.spans
            .iter()
            .map(|s| (s.name.end - s.name.start + s.value.end - s.value.start) as usize + 4)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::HeaderValue;

    #[test]
    fn lookups_ignore_case_and_keep_every_value() {
        let raw = Bytes::from_static(b"Set-Cookie: a=1\r\nset-cookie: b=2\r\nX-Id: 7\r\n");
        let mut h = Headers::new(raw, 3);
        h.push(0..10, 12..15);
        h.push(17..27, 29..32);
        h.push(34..38, 40..41);
        assert_eq!(h.get("SET-COOKIE"), Some(&b"a=1"[..]));
        assert_eq!(
            h.get_all("set-cookie").collect::<Vec<_>>(),
            [b"a=1", b"b=2"]
        );
        assert_eq!(h.get_str("x-id"), Some("7"));
        assert_eq!(h.get("x-i"), None);
        assert_eq!(h.wire_size(), 10 + 3 + 4 + 10 + 3 + 4 + 4 + 1 + 4);
        h.remove("Set-cookie");
        assert_eq!(h.raw().collect::<Vec<_>>(), [(&b"X-Id"[..], &b"7"[..])]);
    }

    #[test]
    fn from_a_map() {
        let mut map = HeaderMap::new();
        map.insert("content-type", HeaderValue::from_static("text/plain"));
        map.append("vary", HeaderValue::from_static("a"));
        map.append("vary", HeaderValue::from_static("b"));
        let h = Headers::from_map(&map);
        assert_eq!(h.raw().count(), 3);
        assert_eq!(h.get_str("Content-Type"), Some("text/plain"));
        assert_eq!(h.get_all("vary").collect::<Vec<_>>(), [b"a", b"b"]);
    }
}
