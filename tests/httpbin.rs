//! trek against httpbin, a server nobody on the project wrote: captures,
//! matchers, request bodies, typed JSON leaves, cookies and parallel groups.

mod common;

use common::*;

fn scenario(base: &str, load: &str, steps: &str) -> String {
    format!("version: 1\nbase_url: {base}\nload: {load}\nsteps:\n{steps}")
}

#[test]
fn every_capture_source_with_default_and_missing() {
    let bin = httpbin();
    let s = Scratch::new();
    let file = s.file(
        "captures.yaml",
        &scenario(
            &bin.base,
            "{ vus: 1, iterations: 2 }",
            r#"
  - name: sources
    get: /response-headers?X-Token=abc123&n=7
    capture:
      token: { header: x-token }
      n_json: $.n
      n_path: { json: "$.n" }
      code: { status: true }
      word: { regex: '"X-Token": "([a-z]+)' }
      fallback: { json: $.nothing, default: "dflt" }
  - name: use
    post: /anything
    json: { token: "{{ token }}", n: "{{ n_json }}", p: "{{ n_path }}", code: "{{ code }}", word: "{{ word }}", fallback: "{{ fallback }}" }
    expect:
      json:
        $.json.token: abc123
        $.json.n: "7"
        $.json.p: "7"
        $.json.code: 200
        $.json.word: abc
        $.json.fallback: dflt
  - name: missing
    get: /json
    on_fail: continue
    capture:
      absent: $.slideshow.nope
"#,
        ),
    );
    let out = run(&s, &file, &[]);
    let r = s.results(&out);
    assert_eq!(step(&r, "sources")["failures"], 0, "{}", text(&out));
    assert_eq!(step(&r, "use")["failures"], 0, "{r:#}");
    assert_eq!(step(&r, "use")["checks_passed"], 2 * 7, "{r:#}");
    let missing = step(&r, "missing");
    assert_eq!(missing["failures"], 2);
    let reasons = missing["failure_reasons"].as_object().unwrap();
    assert_eq!(
        reasons.get("capture `absent`: `$.slideshow.nope` found nothing"),
        Some(&serde_json::json!(2)),
        "{reasons:?}"
    );
}

#[test]
fn every_matcher_passes_and_fails_with_a_reason() {
    let bin = httpbin();
    let s = Scratch::new();
    let file = s.file(
        "matchers.yaml",
        &scenario(
            &bin.base,
            "{ vus: 1, iterations: 1 }",
            r#"
  - name: pass
    get: /json
    expect:
      status: [200, 201]
      headers: { content-type: { contains: json } }
      body: { contains: Sample, matches: "Slide\\s+Show" }
      latency: { lt: 10s }
      json:
        $.slideshow.title: Sample Slide Show
        $.slideshow.author: { eq: Yours Truly, ne: Nobody }
        $.slideshow.slides: { length: 2, type: array }
        $.slideshow.slides[0].title: { matches: "^Wake", contains: "WonderWidgets" }
        $.slideshow.date: { exists: true, type: string }
        $.slideshow.missing: { exists: false }
        $.slideshow.slides[1].items: { length: { gt: 1, le: 2 } }
  - name: numbers
    get: /anything?n=5
    expect:
      json:
        $.args.n: { gt: 4, ge: 5, lt: 6, le: 5, eq: 5 }
  - name: fail_eq
    get: /json
    on_fail: continue
    expect: { json: { $.slideshow.title: Other } }
  - name: fail_status
    get: /status/500
    on_fail: continue
  - name: fail_type
    get: /json
    on_fail: continue
    expect: { json: { $.slideshow.slides: { type: object } } }
  - name: fail_lt
    get: /anything?n=5
    on_fail: continue
    expect: { json: { $.args.n: { lt: 3 } } }
  - name: fail_exists
    get: /json
    on_fail: continue
    expect: { json: { $.nope: { exists: true } } }
  - name: fail_header
    get: /json
    on_fail: continue
    expect: { headers: { content-type: { matches: "^text/" } } }
"#,
        ),
    );
    let out = run(&s, &file, &[]);
    let r = s.results(&out);
    for ok in ["pass", "numbers"] {
        assert_eq!(step(&r, ok)["failures"], 0, "{ok}: {r:#}\n{}", text(&out));
    }
    let reason = |name: &str| {
        let reasons = step(&r, name)["failure_reasons"]
            .as_object()
            .unwrap()
            .clone();
        assert_eq!(reasons.len(), 1, "{name}: {reasons:?}");
        reasons.keys().next().unwrap().clone()
    };
    // A reason leaves out the value found; its first example has it.
    assert_eq!(reason("fail_eq"), r#"$.slideshow.title: expected "Other""#);
    assert_eq!(
        step(&r, "fail_eq")["failure_examples"][r#"$.slideshow.title: expected "Other""#]
            ["message"],
        r#"$.slideshow.title: expected "Other", found "Sample Slide Show""#
    );
    assert!(
        step(&r, "fail_eq")["failure_examples"][r#"$.slideshow.title: expected "Other""#]
            ["response"]
            .as_str()
            .unwrap()
            .contains("slideshow"),
        "the example keeps the start of the response"
    );
    assert_eq!(reason("fail_status"), "status 500, expected 2xx or 3xx");
    assert!(
        reason("fail_type").ends_with("expected a object"),
        "{}",
        reason("fail_type")
    );
    assert_eq!(reason("fail_lt"), "$.args.n: expected < 3");
    assert_eq!(reason("fail_exists"), "$.nope: expected to exist");
    assert!(
        reason("fail_header").starts_with("header content-type:"),
        "{}",
        reason("fail_header")
    );
    assert_eq!(
        code(&out),
        0,
        "no SLO declared, so failed checks alone do not fail the run"
    );
}

#[test]
fn bodies_query_headers_and_typed_json_leaves() {
    let bin = httpbin();
    let s = Scratch::new();
    let file = s.file(
        "bodies.yaml",
        &scenario(
            &bin.base,
            "{ vus: 1, iterations: 3 }",
            r#"
  - name: json
    post: /anything
    headers: { x-test: "v{{ 1 + 1 }}" }
    query: { q: "a b&c" }
    json:
      n: "{{ 40 + 2 }}"
      cal: "{{ fake.int(50, 800) }}"
      text: "n={{ 40 + 2 }}"
      obj: "{{ {'a': 1, 'b': [true, none]} }}"
      plain: [1, "two"]
      user: { name: Ann }
    expect:
      json:
        $.json.n: { type: number, eq: 42 }
        $.json.cal: { type: number, ge: 50, le: 800 }
        $.json.text: { type: string, eq: "n=42" }
        $.json.obj.a: 1
        $.json.obj.b[0]: { type: bool }
        $.json.obj.b[1]: { type: "null" }
        $.json.plain[1]: two
        $.json.user: { name: Ann }
        $.args.q: "a b&c"
        $.headers['X-Test']: v2
        $.headers['Content-Type']: application/json
  - name: form
    post: /anything
    form: { a: "1", b: "x y" }
    expect:
      json: { $.form.a: "1", $.form.b: "x y" }
  - name: text
    put: /anything
    body: "raw {{ vu }}"
    expect:
      json: { $.data: "raw 1", $.method: PUT }
"#,
        ),
    );
    let out = run(&s, &file, &[]);
    let r = s.results(&out);
    for name in ["json", "form", "text"] {
        assert_eq!(
            step(&r, name)["failures"],
            0,
            "{name}: {:#}\n{}",
            step(&r, name),
            text(&out)
        );
        assert_eq!(step(&r, name)["count"], 3);
    }
}

#[test]
fn cookies_are_kept_per_virtual_user_and_across_redirects() {
    let bin = httpbin();
    let s = Scratch::new();
    let file = s.file(
        "cookies.yaml",
        &scenario(
            &bin.base,
            "{ vus: 6, iterations: 3 }",
            r#"
  - name: set
    get: "/cookies/set?owner={{ vu }}"
    expect: { json: { $.cookies.owner: "{{ vu }}" } }
  - think: 20ms
  - name: read
    get: /cookies
    expect: { json: { $.cookies.owner: "{{ vu }}", $.cookies: { length: 1 } } }
"#,
        ),
    );
    let out = run(&s, &file, &[]);
    let r = s.results(&out);
    for name in ["set", "read"] {
        assert_eq!(step(&r, name)["count"], 18, "{}", text(&out));
        assert_eq!(
            step(&r, name)["failures"],
            0,
            "{name}: {:#}",
            step(&r, name)
        );
    }
}

/// httpbin's /gzip, /deflate and /brotli answer compressed JSON saying which
/// encoding they used; the checks can only read it once trek decompressed it.
/// Also: trek names itself in `User-Agent`.
#[test]
fn compressed_bodies_are_decompressed_before_checks() {
    let bin = httpbin();
    let s = Scratch::new();
    let file = s.file(
        "compressed.yaml",
        &scenario(
            &bin.base,
            "{ vus: 2, iterations: 2 }",
            r#"
  - { name: gzip, get: /gzip, expect: { json: { $.gzipped: true } } }
  - { name: deflate, get: /deflate, expect: { json: { $.deflated: true } } }
  - { name: brotli, get: /brotli, expect: { json: { $.brotli: true } } }
  - name: agent
    get: /user-agent
    expect: { json: { "$['user-agent']": { matches: "^trek/[0-9]" } } }
  - name: asked for nothing
    get: /headers
    headers: { accept-encoding: identity }
    expect: { json: { "$.headers['Accept-Encoding']": identity } }
"#,
        ),
    );
    let out = run(&s, &file, &[]);
    let r = s.results(&out);
    for name in ["gzip", "deflate", "brotli", "agent", "asked for nothing"] {
        assert_eq!(step(&r, name)["count"], 4, "{}", text(&out));
        assert_eq!(
            step(&r, name)["failures"],
            0,
            "{name}: {:#}",
            step(&r, name)
        );
    }
}

#[test]
fn a_parallel_group_takes_about_as_long_as_its_slowest_member() {
    let bin = httpbin();
    let s = Scratch::new();
    let file = s.file(
        "parallel.yaml",
        &scenario(
            &bin.base,
            "{ vus: 1, iterations: 2 }",
            r#"
  - group: page
    parallel:
      - { name: slow, get: /delay/1 }
      - { name: fast1, get: /get }
      - { name: fast2, get: /delay/0.2 }
  - group: sequence
    steps:
      - { name: s1, get: /delay/0.3 }
      - { name: s2, get: /delay/0.3 }
"#,
        ),
    );
    let out = run(&s, &file, &[]);
    let r = s.results(&out);
    let page = step(&r, "page");
    assert_eq!(page["kind"], "group");
    assert_eq!(page["count"], 2, "{}", text(&out));
    // The slowest member sleeps 1 s; run one after the other they would take
    // 1.2 s or more. Allow 0.5 s of overhead for the server and the machine.
    let p50 = page["latency"]["p50"].as_f64().unwrap();
    let slow = step(&r, "slow")["latency"]["p50"].as_f64().unwrap();
    assert!(
        p50 >= slow && p50 < 1.0 + 0.5,
        "group {p50}s vs slowest {slow}s"
    );
    let seq = step(&r, "sequence")["latency"]["p50"].as_f64().unwrap();
    assert!(seq >= 0.6, "a sequential group adds its steps: {seq}");
}
