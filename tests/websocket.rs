//! `websocket:` steps against the demo target: time to the first message,
//! kept connections, each way a conversation can fail, and many users
//! holding connections open at once.

mod common;

use common::*;

fn file_with(base: &str, load: &str, steps: &str) -> String {
    format!(
        r#"
version: 1
base_url: {base}
load: {load}
steps:
  - name: login
    post: /api/auth/login
    json: {{ email: a@acme.test, password: secret }}
    capture: {{ token: $.access_token }}
{steps}
"#
    )
}

fn reason(r: &serde_json::Value, name: &str) -> String {
    let reasons = step(r, name)["failure_reasons"]
        .as_object()
        .unwrap()
        .clone();
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    reasons.keys().next().unwrap().clone()
}

#[test]
fn chat_over_websocket_measures_the_first_token() {
    let demo = demo_target(&["--first-token", "300ms", "--token-delay", "5ms"]);
    let s = Scratch::new();
    let steps = r#"
  - name: chat
    websocket: /api/v1/acme/ai/ws
    headers: { authorization: "Bearer {{ token }}" }
    actions:
      - send: { prompt: "{{ fake.sentence() }}" }
      - receive: { match: { $.done: true }, timeout: 5s }
    slo: { first_byte: { p95: 600ms } }
"#;
    let file = s.file(
        "t.yaml",
        &file_with(&demo.base, "{ vus: 2, iterations: 3 }", steps),
    );
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let r = s.results(&out);
    let st = step(&r, "chat");
    assert_eq!(
        (
            st["kind"].as_str(),
            st["count"].as_u64(),
            st["failures"].as_u64()
        ),
        (Some("websocket"), Some(6), Some(0))
    );
    // The server waits 300 ms before its first token; allow 150 ms.
    let fb = st["first_byte"]["p50"].as_f64().unwrap();
    assert!((0.300..0.450).contains(&fb), "first message after {fb}s");
    assert!(st["connect"]["count"].as_u64() == Some(6), "{st:#}");
    assert!(
        st["receive"]["p50"].as_f64().unwrap() >= fb - 0.05,
        "the receive waits for `done`"
    );
    assert!(
        st["events"].as_u64().unwrap() >= 6 * 5,
        "skipped token messages are counted"
    );
}

#[test]
fn a_kept_connection_serves_later_steps() {
    let demo = demo_target(&[]);
    let s = Scratch::new();
    let steps = r#"
  - name: open_sync
    websocket: /ws/sync
    headers: { authorization: "Bearer {{ token }}" }
    keep: true
    actions:
      - send: { op: hello, id: 1 }
      - receive: { match: { $.ack: 1 }, capture: { acked: $.ack } }
  - think: 50ms
  - repeat: 2
    steps:
      - name: later_sync
        websocket: { use: open_sync }
        actions:
          - send: { op: update, id: "{{ acked + 1 }}" }
          - receive: { match: '"ack":2' }
  - name: last_sync
    websocket: { use: open_sync }
    actions:
      - close: true
"#;
    let file = s.file(
        "t.yaml",
        &file_with(&demo.base, "{ vus: 2, iterations: 2 }", steps),
    );
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let r = s.results(&out);
    assert_eq!(step(&r, "later_sync")["failures"], 0, "{}", text(&out));
    assert_eq!(
        step(&r, "later_sync")["count"],
        8,
        "reused twice per iteration"
    );
    assert_eq!(step(&r, "last_sync")["failures"], 0);
    assert!(
        step(&r, "later_sync").get("connect").is_none(),
        "no second handshake"
    );
}

#[test]
fn refused_handshake_receive_timeout_and_server_close_have_reasons() {
    let demo = demo_target(&["--first-token", "2s"]);
    let s = Scratch::new();
    let refused = s.file(
        "refused.yaml",
        &format!(
            "version: 1\nbase_url: {}\nsteps:\n  - name: no_token\n    websocket: /ws/sync\n",
            demo.base
        ),
    );
    let out = run(&s, &refused, &[]);
    assert_eq!(
        reason(&s.results(&out), "no_token"),
        "handshake refused: status 401",
        "{}",
        text(&out)
    );
    let steps = r#"
  - name: slow_answer
    websocket: /api/v1/acme/ai/ws
    headers: { authorization: "Bearer {{ token }}" }
    on_fail: continue
    actions:
      - send: { prompt: hello }
      - receive: { timeout: 200ms }
  - name: server_closes
    websocket: /ws/sync
    headers: { authorization: "Bearer {{ token }}" }
    on_fail: continue
    actions:
      - send: { op: bye }
      - receive: { timeout: 2s }
"#;
    let file = s.file(
        "t.yaml",
        &file_with(&demo.base, "{ vus: 1, iterations: 1 }", steps),
    );
    let out = run(&s, &file, &[]);
    let r = s.results(&out);
    assert_eq!(
        reason(&r, "slow_answer"),
        "no matching message within 200ms (0 other messages)",
        "{}",
        text(&out)
    );
    assert_eq!(
        reason(&r, "server_closes"),
        "the server closed the connection (1000 bye)"
    );
}

#[test]
fn two_hundred_users_hold_connections_open() {
    let demo = demo_target(&[]);
    let s = Scratch::new();
    // Each user opens a sync channel, checks it, holds it for 10 s, checks
    // it again: 200 connections open at once, well within the 20,000 files
    // a process may hold here.
    let steps = r#"
  - name: hold
    websocket: /ws/sync
    headers: { authorization: "Bearer {{ token }}" }
    timeout: 30s
    actions:
      - send: { op: hello, id: "{{ vu }}" }
      - receive: { match: { $.ack: "{{ vu }}" } }
      - sleep: 10s
      - send: { op: still_here, id: 2 }
      - receive: { match: { $.ack: 2 } }
"#;
    let file = s.file(
        "t.yaml",
        &file_with(&demo.base, "{ vus: 200, iterations: 1 }", steps),
    );
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let r = s.results(&out);
    let hold = step(&r, "hold");
    assert_eq!(
        (hold["count"].as_u64(), hold["failures"].as_u64()),
        (Some(200), Some(0)),
        "{hold:#}"
    );
    let peak = r["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["active_vus"].as_u64().unwrap())
        .max();
    assert_eq!(peak, Some(200));
}

/// A `wss://` server with a self-signed certificate, for at most 20
/// connections: after the handshake it sends `{"team": …}` with the
/// handshake's `x-team` header (or "none"), then waits for the close.
fn wss_server() -> String {
    use futures_util::{SinkExt, StreamExt};
    use std::sync::{Arc, Mutex};
    use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
    use tokio_tungstenite::tungstenite::Message;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            for _ in 0..20 {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let team = Arc::new(Mutex::new("none".to_string()));
                    let seen = team.clone();
                    // tungstenite's callback type returns its large error type.
                    #[allow(clippy::result_large_err)]
                    let read_header = move |req: &Request, resp: Response| {
                        if let Some(v) = req.headers().get("x-team").and_then(|v| v.to_str().ok()) {
                            *seen.lock().unwrap() = v.to_string();
                        }
                        Ok(resp)
                    };
                    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(tls, read_header).await
                    else {
                        return;
                    };
                    let text = format!("{{\"team\":\"{}\"}}", team.lock().unwrap());
                    if ws.send(Message::text(text)).await.is_ok() {
                        while let Some(Ok(_)) = ws.next().await {}
                    }
                });
            }
        });
    });
    format!("wss://127.0.0.1:{port}/")
}

#[test]
fn the_handshake_takes_the_defaults_headers_insecure_and_think() {
    let url = wss_server();
    let s = Scratch::new();
    let file = |name: &str, insecure: bool| {
        s.file(
            name,
            &format!(
                r#"
version: 1
defaults:
  insecure: {insecure}
  headers: {{ x-team: qa }}
  think: 300ms
load: {{ vus: 1, iterations: 2 }}
steps:
  - name: hello
    websocket: {url}
    actions:
      - receive: {{ match: {{ $.team: qa }}, timeout: 3s }}
"#
            ),
        )
    };
    let out = run(&s, &file("ok.yaml", true), &[]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let r = s.results(&out);
    let st = step(&r, "hello");
    assert_eq!(
        (st["count"].as_u64(), st["failures"].as_u64()),
        (Some(2), Some(0)),
        "{st:#}"
    );
    // `defaults.think` follows the WebSocket step too.
    let shortest = r["scenarios"][0]["iteration"]["min"].as_f64().unwrap();
    assert!(
        shortest >= 0.3,
        "iteration of {shortest}s: no pause after the step"
    );

    // Without `insecure`, the self-signed certificate is refused (and the
    // target counts as unreachable: the run stops, exit 3).
    let out = run(&s, &file("strict.yaml", false), &[]);
    assert_eq!(code(&out), 3, "{}", text(&out));
    let why = reason(&s.results(&out), "hello");
    assert!(
        why.contains("certificate signed by unknown authority"),
        "{why}"
    );
}

/// A `ws://` server that sends one message of `size` bytes to each
/// connection (at most 10), then waits for the close.
fn big_message_server(size: usize) -> String {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            for _ in 0..10 {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                        return;
                    };
                    if ws.send(Message::text("x".repeat(size))).await.is_ok() {
                        while let Some(Ok(_)) = ws.next().await {}
                    }
                });
            }
        });
    });
    format!("ws://127.0.0.1:{port}/")
}

#[test]
fn a_message_larger_than_max_body_ends_the_conversation_with_a_reason() {
    let url = big_message_server(3 << 20);
    let s = Scratch::new();
    let chat = |name: &str, max: &str| {
        let file = s.file(
            &format!("{name}.yaml"),
            &format!(
                "version: 1\nload: {{ vus: 1, iterations: 1 }}\nsteps:\n  - name: big\n    websocket: {url}\n    {max}\n    actions:\n      - receive: {{ match: '^x+$', timeout: 10s }}\n"
            ),
        );
        let out = run(&s, &file, &[]);
        (code(&out), s.results(&out))
    };
    let (_, r) = chat("default", "timeout: 10s");
    assert_eq!(
        reason(&r, "big"),
        "a message of 3 MB is larger than `max_body` (1 MB): the connection was closed"
    );
    let (code, r) = chat("raised", "max_body: 4MB");
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(step(&r, "big")["failures"], 0, "{r:#}");
}
