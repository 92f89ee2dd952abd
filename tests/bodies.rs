//! Bodies that are large or hostile, against a server the test runs: a
//! 200 MB `body_file` upload, a 2 GB download, a gzip bomb and an SSE line
//! of 100 MB each leave trek's memory bounded (checked as its peak resident
//! size, under an address-space limit so a regression fails the test and
//! not the machine); `multipart` read back by httpbin and by the server.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::*;

/// Size of the download.
const BIG: u64 = 2 << 30;

/// Reads one request head; returns it (lower-cased) and the body length.
fn read_head(sock: &mut TcpStream) -> Option<(String, u64)> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if sock.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).to_lowercase();
    let length = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    Some((text, length))
}

/// A gzip body that inflates to 2 GB: one member of 64 MB of zeros,
/// repeated (a multi-member stream, as `gzip` writes when files are
/// concatenated).
fn bomb() -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        gz.write_all(&zeros).unwrap();
    }
    let member = gz.finish().unwrap();
    member.repeat(32)
}

/// The test's server, one thread per connection:
/// - `POST|PUT /upload`: reads the body, answers `{"received": N}` and
///   keeps the first 64 KB of the body, sent back by `GET /last`;
/// - `GET /big`: 2 GB of `x`;
/// - `GET /bomb`: the gzip bomb, `content-encoding: gzip`;
/// - `GET /stream`: an event stream whose second line is 100 MB long.
fn server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let bomb = std::sync::Arc::new(bomb());
    let last = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    std::thread::spawn(move || {
        for sock in listener.incoming().take(200) {
            let Ok(mut sock) = sock else { continue };
            let (bomb, last) = (bomb.clone(), last.clone());
            std::thread::spawn(move || {
                while let Some((head, length)) = read_head(&mut sock) {
                    let path = head.split(' ').nth(1).unwrap_or_default().to_string();
                    let ok = match path.as_str() {
                        "/upload" => {
                            let mut left = length;
                            let mut kept = Vec::new();
                            let mut buf = vec![0u8; 256 * 1024];
                            while left > 0 {
                                let want = buf.len().min(left as usize);
                                match sock.read(&mut buf[..want]) {
                                    Ok(0) | Err(_) => return,
                                    Ok(n) => {
                                        if kept.len() < 65536 {
                                            kept.extend_from_slice(&buf[..n.min(65536 - kept.len())]);
                                        }
                                        left -= n as u64;
                                    }
                                }
                            }
                            let mut seen = head.clone().into_bytes();
                            seen.extend_from_slice(&kept);
                            *last.lock().unwrap() = seen;
                            let body = format!("{{\"received\": {length}}}");
                            write!(sock, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}", body.len()).is_ok()
                        }
                        "/last" => {
                            let body = last.lock().unwrap().clone();
                            write!(sock, "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len()).is_ok()
                                && sock.write_all(&body).is_ok()
                        }
                        "/big" => {
                            let chunk = vec![b'x'; 256 * 1024];
                            let mut ok = write!(sock, "HTTP/1.1 200 OK\r\ncontent-length: {BIG}\r\n\r\n").is_ok();
                            let mut left = BIG;
                            while ok && left > 0 {
                                let n = chunk.len().min(left as usize);
                                ok = sock.write_all(&chunk[..n]).is_ok();
                                left -= n as u64;
                            }
                            ok
                        }
                        "/bomb" => {
                            write!(sock, "HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: {}\r\n\r\n", bomb.len()).is_ok()
                                && sock.write_all(&bomb).is_ok()
                        }
                        "/stream" => {
                            let mut ok = sock
                                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\ndata: first\n\ndata: ")
                                .is_ok();
                            let chunk = vec![b'a'; 1 << 20];
                            for _ in 0..100 {
                                ok = ok && sock.write_all(&chunk).is_ok();
                            }
                            let _ = sock.write_all(b"\n\n");
                            return;
                        }
                        _ => write!(sock, "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n").is_ok(),
                    };
                    if !ok {
                        return;
                    }
                }
            });
        }
    });
    base
}

/// Runs `trek run FILE` under an address-space limit of `limit_mb` and
/// returns its output and its peak resident size in MB, read from
/// `/proc/PID/status` (`VmHWM`, the high-water mark) until it exits.
fn run_measured(s: &Scratch, file: &std::path::Path, limit_mb: u64) -> (Output, u64) {
    let mut child = Command::new("prlimit")
        .arg(format!("--as={}", limit_mb << 20))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_trek"))
        .arg("run")
        .arg(file)
        .args(["--quiet", "--out"])
        .arg(s.out())
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("prlimit (util-linux) runs");
    // prlimit execs trek in place: the pid is trek's.
    let status = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0u64;
    let out_reader = collect_stderr(&mut child);
    let deadline = std::time::Instant::now() + Duration::from_secs(240);
    loop {
        if let Ok(text) = std::fs::read_to_string(&status) {
            if let Some(kb) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
            {
                peak_kb = peak_kb.max(kb);
            }
        }
        if child.try_wait().unwrap().is_some() || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let mut out = child.wait_with_output().unwrap();
    out.stderr = out_reader.lock().unwrap().clone().into_bytes();
    (out, peak_kb / 1024)
}

#[test]
fn a_200_mb_upload_is_streamed_from_disk() {
    let base = server();
    let s = Scratch::new();
    let size: u64 = 200 << 20;
    let path = s.dir.path().join("upload.bin");
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(size).unwrap();
    let file = s.file(
        "up.yaml",
        &format!(
            "version: 1\nbase_url: {base}\nload: {{ vus: 1, iterations: 1 }}\nsteps:\n  - name: up\n    put: /upload\n    body_file: upload.bin\n    timeout: 120s\n    expect: {{ json: {{ $.received: {size} }} }}\n"
        ),
    );
    let (out, peak_mb) = run_measured(&s, &file, 1024);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let r = s.results(&out);
    let st = step(&r, "up");
    assert_eq!(st["failures"], 0, "{st:#}");
    assert!(st["bytes_sent"].as_u64().unwrap() >= size, "{st:#}");
    assert!(peak_mb < 50, "peak RSS {peak_mb} MB for a 200 MB upload");
}

#[test]
fn a_2_gb_download_and_a_gzip_bomb_keep_memory_bounded() {
    let base = server();
    let s = Scratch::new();
    let file = s.file(
        "down.yaml",
        &format!(
            r#"version: 1
base_url: {base}
load: {{ vus: 10, iterations: 1 }}
defaults: {{ timeout: 200s }}
steps:
  - name: big
    get: /big
    expect: {{ status: 200, body: {{ contains: xxxx }} }}
  - name: bomb
    get: /bomb
    expect: {{ status: 200 }}
  - name: bomb parsed
    get: /bomb
    on_fail: continue
    expect: {{ json: {{ $.a: 1 }} }}
"#
        ),
    );
    let (out, peak_mb) = run_measured(&s, &file, 1024);
    let r = s.results(&out);
    let big = step(&r, "big");
    assert_eq!(
        (big["count"].as_u64(), big["failures"].as_u64()),
        (Some(10), Some(0)),
        "{big:#}"
    );
    assert!(
        big["bytes_received"].as_u64().unwrap() >= 10 * BIG,
        "{big:#}"
    );
    let bomb = step(&r, "bomb");
    assert_eq!(bomb["failures"], 0, "{bomb:#}");
    let packed = self::bomb().len() as u64;
    assert!(
        bomb["bytes_received"].as_u64().unwrap() >= 10 * packed,
        "{bomb:#}"
    );
    // A check that needed the whole body says it was cut.
    let parsed = step(&r, "bomb parsed");
    let why: Vec<&String> = parsed["failure_reasons"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(why.len(), 1, "{why:?}");
    assert!(
        why[0].contains("only the first 1 MB of the body was kept: raise `max_body`"),
        "{why:?}"
    );
    // No SLO: a failed check alone does not fail the run.
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(peak_mb < 100, "peak RSS {peak_mb} MB");
}

#[test]
fn an_sse_line_of_100_mb_fails_the_step_with_a_reason() {
    let base = server();
    let s = Scratch::new();
    let file = s.file(
        "sse.yaml",
        &format!(
            "version: 1\nbase_url: {base}\nload: {{ vus: 2, iterations: 1 }}\nsteps:\n  - name: chat\n    sse: /stream\n    timeout: 60s\n"
        ),
    );
    let (out, peak_mb) = run_measured(&s, &file, 1024);
    assert_eq!(code(&out), 1, "{}", text(&out));
    let r = s.results(&out);
    let why: Vec<String> = step(&r, "chat")["failure_reasons"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(
        why,
        vec![
            "an event of the stream is longer than 1 MB (`max_body`): it was not read".to_string()
        ]
    );
    assert!(peak_mb < 100, "peak RSS {peak_mb} MB");
}

#[test]
fn multipart_fields_and_files_arrive_as_sent() {
    let base = server();
    let bin = httpbin();
    let s = Scratch::new();
    s.file("notes.txt", "file body");
    s.file("data/meal.jpg", "not really a jpeg");
    let file = s.file(
        "mp.yaml",
        &format!(
            r#"version: 1
load: {{ vus: 1, iterations: 1 }}
steps:
  - name: httpbin
    post: {}/post
    multipart:
      title: "lunch for {{{{ vu }}}}"
      notes: {{ file: notes.txt }}
      photo: {{ file: data/meal.jpg, content_type: image/png, filename: plate.png }}
    expect:
      json:
        $.form.title: lunch for 1
        $.files.notes: file body
        $.files.photo: not really a jpeg
  - name: ours
    post: {base}/upload
    multipart:
      notes: {{ file: notes.txt }}
      photo: {{ file: data/meal.jpg, content_type: image/png, filename: plate.png }}
  - name: seen
    get: {base}/last
    expect:
      body:
        matches: '(?s)multipart/form-data; boundary=.*name="notes"; filename="notes.txt"\r\ncontent-type: text/plain\r\n\r\nfile body\r\n.*name="photo"; filename="plate.png"\r\ncontent-type: image/png\r\n\r\nnot really a jpeg\r\n'
"#,
            bin.base
        ),
    );
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 0, "{}", text(&out));
}

#[test]
fn a_missing_body_file_is_an_error_at_load_time() {
    let s = Scratch::new();
    let file = s.file(
        "t.yaml",
        "version: 1\nsteps:\n  - post: http://127.0.0.1:1/\n    body_file: missing.bin\n  - post: http://127.0.0.1:1/\n    multipart: { a: { file: gone.txt } }\n",
    );
    let out = trek().arg("validate").arg(&file).output().unwrap();
    assert_eq!(code(&out), 2, "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("E0303") && t.contains("t.yaml:4:16") && t.contains("missing.bin"),
        "{t}"
    );
    assert!(t.contains("t.yaml:6:29") && t.contains("gone.txt"), "{t}");
}
