//! `sse:` steps against the demo target's streamed AI chat: time to first
//! token, gaps between tokens, and each way a stream can fail.

mod common;

use common::*;

fn chat_file(base: &str, sse_step: &str) -> String {
    format!(
        r#"
version: 1
base_url: {base}
load: {{ vus: 2, iterations: 3 }}
steps:
  - name: login
    post: /api/auth/login
    json: {{ email: a@acme.test, password: secret }}
    capture: {{ token: $.access_token }}
  - name: chat
    sse: /api/v1/acme/ai/chat
    method: POST
    headers: {{ authorization: "Bearer {{{{ token }}}}" }}
    json: {{ prompt: "How do I reset my password?" }}
    on_fail: continue
{sse_step}
"#
    )
}

fn chat(r: &serde_json::Value) -> serde_json::Value {
    step(r, "chat").clone()
}

fn only_reason(st: &serde_json::Value) -> String {
    let reasons = st["failure_reasons"].as_object().unwrap();
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    reasons.keys().next().unwrap().clone()
}

#[test]
fn first_token_and_gaps_are_measured_within_tolerance() {
    let demo = demo_target(&["--first-token", "300ms", "--token-delay", "20ms"]);
    let s = Scratch::new();
    let file = s.file(
        "t.yaml",
        &chat_file(
            &demo.base,
            "    until: { data: \"[DONE]\" }\n    expect: { status: 200, events: { min: 5 } }\n    capture: { last: { regex: \"(DONE)\" } }\n    slo: { first_byte: { p95: 500ms }, gap: { p95: 200ms } }",
        ),
    );
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let st = chat(&s.results(&out));
    assert_eq!(st["kind"], "sse");
    assert_eq!(st["failures"], 0, "{st:#}");
    // The server waits 300 ms before the first token and 20 ms between
    // tokens; allow 150 ms of scheduling and network on a loaded machine.
    let fb = st["first_byte"]["p50"].as_f64().unwrap();
    assert!((0.300..0.450).contains(&fb), "first token after {fb}s");
    let gap = st["gap"]["p50"].as_f64().unwrap();
    assert!((0.020..0.150).contains(&gap), "gap {gap}s");
    let events = st["events"].as_u64().unwrap();
    assert!(events >= 6 * 10, "{events} events");
    assert!(
        st["latency"]["p50"].as_f64().unwrap() > fb,
        "latency runs to [DONE]"
    );
}

#[test]
fn a_stream_that_ends_before_until_fails_with_that_reason() {
    let demo = demo_target(&["--first-token", "10ms", "--token-delay", "1ms"]);
    let s = Scratch::new();
    let file = s.file(
        "t.yaml",
        &chat_file(&demo.base, "    until: { data: \"[NEVER]\" }"),
    );
    let out = run(&s, &file, &[]);
    let st = chat(&s.results(&out));
    assert_eq!(st["failures"], 6, "{}", text(&out));
    assert_eq!(
        only_reason(&st),
        "the stream ended before the data `[NEVER]`"
    );
}

#[test]
fn a_slow_stream_times_out_with_that_reason() {
    let demo = demo_target(&["--first-token", "2s"]);
    let s = Scratch::new();
    let file = s.file(
        "t.yaml",
        &chat_file(
            &demo.base,
            "    until: { data: \"[DONE]\" }\n    timeout: 300ms",
        ),
    );
    let out = run(&s, &file, &[]);
    let st = chat(&s.results(&out));
    assert_eq!(st["failures"], 6, "{}", text(&out));
    assert_eq!(
        only_reason(&st),
        "the data `[DONE]` did not come within 300ms"
    );
}

#[test]
fn a_refused_handshake_and_too_few_events_are_reported() {
    let demo = demo_target(&["--first-token", "10ms", "--token-delay", "1ms"]);
    let s = Scratch::new();
    let file = s.file(
        "t.yaml",
        &format!(
            "version: 1\nbase_url: {}\nsteps:\n  - name: chat\n    sse: /api/v1/acme/ai/chat\n    method: POST\n    json: {{ prompt: hi }}\n    expect: {{ status: 200 }}\n",
            demo.base
        ),
    );
    let out = run(&s, &file, &[]);
    assert_eq!(
        only_reason(&chat(&s.results(&out))),
        "status 401, expected 200"
    );

    let s = Scratch::new();
    let file = s.file(
        "t.yaml",
        &chat_file(&demo.base, "    expect: { events: { max: 3 } }"),
    );
    let out = run(&s, &file, &[]);
    let reason = only_reason(&chat(&s.results(&out)));
    assert!(reason.ends_with("events, expected at most 3"), "{reason}");
}

#[test]
fn a_response_that_is_not_a_stream_says_so() {
    let demo = demo_target(&[]);
    let s = Scratch::new();
    let file = s.file(
        "t.yaml",
        &format!(
            "version: 1\nbase_url: {}\nsteps:\n  - name: chat\n    sse: /health\n",
            demo.base
        ),
    );
    let out = run(&s, &file, &[]);
    assert_eq!(
        only_reason(&chat(&s.results(&out))),
        "the response is not an event stream (content-type: \"application/json\")"
    );
}
