//! Shared helpers of the integration tests: run the real `trek` binary, and
//! start servers on ephemeral loopback ports (httpbin under gunicorn, the
//! embedded demo target, a tiny recording server).

#![allow(dead_code)]

pub mod journal;
pub mod nginx;
pub mod pki;
pub mod tinyproxy;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn trek() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_trek"));
    c.env("NO_COLOR", "1").env_remove("TREK_BASE_URL");
    // The tests' servers are on loopback: a proxy of the machine's must not
    // come between them and trek.
    for var in ["HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"] {
        c.env_remove(var).env_remove(var.to_ascii_lowercase());
    }
    c
}

/// A scratch folder with a scenario file in it.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("scratch subfolder");
        }
        std::fs::write(&p, text).expect("write scenario");
        p
    }

    pub fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    /// The results.json of the run that printed `out`.
    pub fn results(&self, out: &Output) -> serde_json::Value {
        let path = self.out().join("results.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("no {}: {e}\n{}", path.display(), text(out)));
        serde_json::from_str(&text).expect("results.json is JSON")
    }
}

/// Runs `trek run FILE --out DIR` with extra arguments.
pub fn run(scratch: &Scratch, file: &Path, extra: &[&str]) -> Output {
    trek()
        .arg("run")
        .arg(file)
        .arg("--out")
        .arg(scratch.out())
        .args(["--quiet"])
        .args(extra)
        .output()
        .expect("trek runs")
}

/// Starts `trek run FILE --out DIR` without waiting, output piped.
pub fn spawn_run(scratch: &Scratch, file: &Path, extra: &[&str]) -> Child {
    trek()
        .arg("run")
        .arg(file)
        .arg("--out")
        .arg(scratch.out())
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("trek starts")
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

pub fn text(o: &Output) -> String {
    format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The step of `results` named `name`.
pub fn step<'a>(results: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    results["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|st| st["name"] == name))
        .unwrap_or_else(|| panic!("no step `{name}` in {results:#}"))
}

/// A child process killed when dropped.
pub struct Server {
    pub base: String,
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// httpbin served by gunicorn on a free loopback port. `scripts/test`
/// installs both; a missing install fails the test with that hint.
pub fn httpbin() -> Server {
    let python = std::env::var("TREK_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut child = Command::new(python)
        .args([
            "-m",
            "gunicorn",
            "--bind",
            "127.0.0.1:0",
            "--workers",
            "2",
            "--threads",
            "8",
            "--log-level",
            "info",
            "httpbin:app",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is installed");
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if !sent {
                if let Some(at) = line.find("Listening at: ") {
                    let url = line[at + 14..]
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    let _ = tx.send(url);
                    sent = true;
                }
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("httpbin did not start: run scripts/test, which installs httpbin and gunicorn");
    Server { base, child }
}

/// `trek demo-target --port 0` with extra arguments.
pub fn demo_target(extra: &[&str]) -> Server {
    let mut child = trek()
        .args(["demo-target", "--port", "0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("trek demo-target starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("demo target prints its address");
    let base = line
        .split_whitespace()
        .last()
        .filter(|u| u.starts_with("http://"))
        .unwrap_or_else(|| panic!("unexpected first line from demo-target: {line}"))
        .to_string();
    Server { base, child }
}

/// A minimal HTTP server that answers `200 {"ok":true}` to everything and
/// keeps every request body, for tests that look at what trek sent.
pub struct Recorder {
    pub base: String,
    /// Each request's body, kept as soon as it has arrived (before any
    /// delay of the answer).
    pub bodies: Arc<Mutex<Vec<String>>>,
}

pub fn recorder() -> Recorder {
    recorder_answering_after(Duration::ZERO)
}

/// A [`recorder`] that waits `delay` before each answer.
pub fn recorder_answering_after(delay: Duration) -> Recorder {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = bodies.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let kept = kept.clone();
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut reader = BufReader::new(stream);
                loop {
                    let mut length = 0usize;
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 {
                            return;
                        }
                        let h = h.trim_end();
                        if h.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = h.split_once(':') {
                            if k.eq_ignore_ascii_case("content-length") {
                                length = v.trim().parse().unwrap_or(0);
                            }
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    kept.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&body).into_owned());
                    std::thread::sleep(delay);
                    let reply = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"ok\":true}";
                    if reader.get_mut().write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    Recorder { base, bodies }
}

/// A loopback port with nothing listening on it.
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Checks `ready` every 20 ms until it holds; panics after `limit`, naming
/// `what` was awaited.
pub fn poll_until(limit: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < limit, "not within {limit:?}: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Collects a child's stderr as it comes (for tests that wait for a line).
pub fn collect_stderr(child: &mut Child) -> Arc<Mutex<String>> {
    let seen = Arc::new(Mutex::new(String::new()));
    let into = seen.clone();
    if let Some(err) = child.stderr.take() {
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let mut s = into.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
    }
    seen
}

/// Waits for a child with a time limit; returns its output and how long.
pub fn wait_with_timeout(mut child: Child, limit: Duration) -> (Output, Duration) {
    let start = Instant::now();
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            let out = child.wait_with_output().expect("output");
            return (out, start.elapsed());
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!("process did not finish within {limit:?}: {}", text(&out));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One request to a loopback server (`Connection: close`), for tests that
/// ask a server what it saw. Returns the status and the body as JSON
/// (`Null` when it is not JSON).
pub fn http_json(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&serde_json::Value>,
) -> (u16, serde_json::Value) {
    let addr = base.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let json = answer
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(serde_json::Value::Null);
    (status, json)
}
