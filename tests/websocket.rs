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
