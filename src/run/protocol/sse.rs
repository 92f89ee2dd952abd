//! An incremental parser of the Server-Sent Events wire format (the HTML
//! standard's `text/event-stream`): feed it bytes as they arrive, in chunks
//! split anywhere (even inside a UTF-8 character or between `\r` and `\n`),
//! and take out complete events.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `event:` field, `message` when the stream gave none.
    pub event: String,
    /// `data:` lines joined with `\n`.
    pub data: String,
    /// The last event id seen so far, if any.
    pub id: Option<String>,
}

#[derive(Debug, Default)]
pub struct Parser {
    /// Bytes of the line being read (decoded when the line ends).
    line: Vec<u8>,
    /// The previous byte was `\r`: a following `\n` belongs to it.
    after_cr: bool,
    event: String,
    data: String,
    has_data: bool,
    last_id: Option<String>,
    /// The `retry:` the server asked for, in milliseconds.
    pub retry_ms: Option<u64>,
    /// Whether the byte-order mark at the very start was checked.
    started: bool,
    /// The most bytes an event may hold (its lines, as they come); 0: no
    /// bound.
    limit: usize,
    /// An event went past `limit`: nothing more is read.
    pub too_long: bool,
}

impl Parser {
    pub fn new() -> Self {
        Self::default()
    }

    /// A parser that refuses an event (or a line) longer than `limit`
    /// bytes, so that a stream without line ends cannot fill memory.
    pub fn with_limit(limit: usize) -> Self {
        Parser {
            limit,
            ..Self::default()
        }
    }

    /// Feeds bytes; returns the events they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Event> {
        let out = Vec::new();
        if !self.started && !bytes.is_empty() {
            // A UTF-8 BOM may open the stream; it may itself be split.
            let bom = [0xEF, 0xBB, 0xBF];
            let have = self.line.len() + bytes.len();
            if have < 3 && bom.starts_with(&[&self.line[..], bytes].concat()) {
                self.line.extend_from_slice(bytes);
                return out;
            }
            self.started = true;
            let mut head = std::mem::take(&mut self.line);
            head.extend_from_slice(bytes);
            let rest = head.strip_prefix(&bom[..]).unwrap_or(&head).to_vec();
            return self.feed_started(&rest, out);
        }
        self.feed_started(bytes, out)
    }

    fn feed_started(&mut self, bytes: &[u8], mut out: Vec<Event>) -> Vec<Event> {
        if bytes.is_empty() || self.too_long {
            return out;
        }
        let mut i = 0;
        if self.after_cr && bytes[0] == b'\n' {
            i = 1;
        }
        self.after_cr = false;
        while i < bytes.len() {
            let b = bytes[i];
            match b {
                b'\r' | b'\n' => {
                    if b == b'\r' {
                        if bytes.get(i + 1) == Some(&b'\n') {
                            i += 1;
                        } else if i + 1 == bytes.len() {
                            self.after_cr = true;
                        }
                    }
                    let line = std::mem::take(&mut self.line);
                    if let Some(e) = self.line_done(&line) {
                        out.push(e);
                    }
                }
                _ => {
                    self.line.push(b);
                    if self.limit > 0 && self.line.len() + self.data.len() > self.limit {
                        self.too_long = true;
                        self.line = Vec::new();
                        self.data = String::new();
                        return out;
                    }
                }
            }
            i += 1;
        }
        out
    }

    /// Handles one complete line; an empty line dispatches the event.
    fn line_done(&mut self, line: &[u8]) -> Option<Event> {
        if line.is_empty() {
            let event = std::mem::take(&mut self.event);
            if !self.has_data {
                return None;
            }
            self.has_data = false;
            let mut data = std::mem::take(&mut self.data);
            if data.ends_with('\n') {
                data.pop();
            }
            return Some(Event {
                event: if event.is_empty() {
                    "message".into()
                } else {
                    event
                },
                data,
                id: self.last_id.clone(),
            });
        }
        let line = String::from_utf8_lossy(line);
        if line.starts_with(':') {
            return None; // a comment
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (&*line, ""),
        };
        match field {
            "event" => self.event = value.to_string(),
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.last_id = Some(value.to_string()),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.retry_ms = value.parse().ok();
            }
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(event: &str, data: &str, id: Option<&str>) -> Event {
        Event {
            event: event.into(),
            data: data.into(),
            id: id.map(Into::into),
        }
    }

    /// Parses `stream` whole, and split at every position into two chunks,
    /// and byte by byte; all must agree.
    fn parse_every_way(stream: &[u8]) -> Vec<Event> {
        let whole = Parser::new().feed(stream);
        for cut in 0..=stream.len() {
            let mut p = Parser::new();
            let mut got = p.feed(&stream[..cut]);
            got.extend(p.feed(&stream[cut..]));
            assert_eq!(
                got,
                whole,
                "split at byte {cut} of {:?}",
                String::from_utf8_lossy(stream)
            );
        }
        let mut p = Parser::new();
        let bytewise: Vec<Event> = stream.iter().flat_map(|b| p.feed(&[*b])).collect();
        assert_eq!(bytewise, whole, "byte by byte");
        whole
    }

    #[test]
    fn a_table_of_tricky_streams() {
        let cases: Vec<(&[u8], Vec<Event>)> = vec![
            (b"data: hello\n\n", vec![ev("message", "hello", None)]),
            (
                b"data: a\r\ndata: b\r\n\r\n",
                vec![ev("message", "a\nb", None)],
            ),
            (
                b"data: cr\r\rdata: lf\n\n",
                vec![ev("message", "cr", None), ev("message", "lf", None)],
            ),
            (
                b": keep-alive\n\ndata: x\n\n",
                vec![ev("message", "x", None)],
            ),
            (
                b"event: token\ndata:tok\nid: 7\n\n",
                vec![ev("token", "tok", Some("7"))],
            ),
            (b"data\n\n", vec![ev("message", "", None)]),
            (b"event: ping\n\n", vec![]),
            (
                b"data:  two spaces\n\n",
                vec![ev("message", " two spaces", None)],
            ),
            (b"retry: 3000\ndata: r\n\n", vec![ev("message", "r", None)]),
            (
                b"data: {\"t\":\"h\xC3\xA9\"}\n\n",
                vec![ev("message", "{\"t\":\"h\u{e9}\"}", None)],
            ),
            (
                b"\xEF\xBB\xBFdata: bom\n\n",
                vec![ev("message", "bom", None)],
            ),
            (
                b"id: 1\ndata: a\n\ndata: b\n\n",
                vec![ev("message", "a", Some("1")), ev("message", "b", Some("1"))],
            ),
            (
                b"data: [DONE]\n\ndata: unterminated",
                vec![ev("message", "[DONE]", None)],
            ),
            (
                b"unknown: field\ndata: u\n\n",
                vec![ev("message", "u", None)],
            ),
        ];
        for (stream, expected) in cases {
            assert_eq!(
                parse_every_way(stream),
                expected,
                "{:?}",
                String::from_utf8_lossy(stream)
            );
        }
    }

    #[test]
    fn retry_is_kept_and_a_split_crlf_is_one_line_end() {
        let mut p = Parser::new();
        assert!(p.feed(b"retry: 250\r").is_empty());
        assert_eq!(p.feed(b"\ndata: x\r"), vec![]);
        assert_eq!(p.feed(b"\n\r\n"), vec![ev("message", "x", None)]);
        assert_eq!(p.retry_ms, Some(250));
    }
}
