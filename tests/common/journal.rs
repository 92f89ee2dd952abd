//! A loopback HTTP/1.1 server that keeps every request it receives (method,
//! path, headers, body) and answers with what the test's function says, so
//! that a test can count what reached the server and from whom.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// The path with its query.
    pub path: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// When its request line arrived, on the wall clock.
    pub at: std::time::SystemTime,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of cookie `name` in the request's `Cookie` header.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.header("cookie")?.split(';').find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == name).then(|| v.to_string())
        })
    }
}

/// What to answer: status, extra headers, body, and a pause before it.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Answer {
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

pub struct Journal {
    pub base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Journal {
    /// Every request so far, in arrival order.
    pub fn all(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The requests whose path starts with `prefix`.
    pub fn to(&self, prefix: &str) -> Vec<Seen> {
        self.all()
            .into_iter()
            .filter(|s| s.path.starts_with(prefix))
            .collect()
    }

    pub fn count(&self, prefix: &str) -> usize {
        self.to(prefix).len()
    }
}

/// Starts a server answering each request with `answer(request, n)`, where
/// `n` counts the requests to the same path (without query) from 1.
pub fn journal(answer: impl Fn(&Seen, usize) -> Answer + Send + Sync + 'static) -> Journal {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let kept = seen.clone();
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let kept = kept.clone();
            let answer = answer.clone();
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
                let mut reader = BufReader::new(stream);
                while let Some(request) = read_request(&mut reader) {
                    let n = {
                        let mut all = kept.lock().unwrap();
                        let path = request.path.split('?').next().unwrap_or_default();
                        let n = 1 + all
                            .iter()
                            .filter(|s| s.path.split('?').next() == Some(path))
                            .count();
                        all.push(request.clone());
                        n
                    };
                    let a = answer(&request, n);
                    std::thread::sleep(a.delay);
                    let mut reply = format!(
                        "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
                        a.status,
                        a.body.len()
                    );
                    for (k, v) in &a.headers {
                        reply.push_str(&format!("{k}: {v}\r\n"));
                    }
                    reply.push_str("\r\n");
                    reply.push_str(&a.body);
                    if reader.get_mut().write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    Journal { base, seen }
}

fn read_request(reader: &mut BufReader<std::net::TcpStream>) -> Option<Seen> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let at = std::time::SystemTime::now();
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            let k = k.trim().to_ascii_lowercase();
            if k == "content-length" {
                length = v.trim().parse().unwrap_or(0);
            }
            headers.push((k, v.trim().to_string()));
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Seen {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        at,
    })
}
