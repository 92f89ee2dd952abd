//! Micro-benchmarks of what trek does for every request besides the I/O:
//! rendering a step's templates, evaluating its checks and captures, and
//! recording the sample. `cargo bench --bench hot_path`; figures in
//! bench/RESULTS.md.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use http::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use minijinja::value::Value;
use trek::metrics::{Recorder, Sample};
use trek::plan::{validate, Body, HttpStep, Node, Options, Plan};
use trek::run::expect::{self, Seen};
use trek::run::protocol::headers::Headers;
use trek::run::protocol::http::Response;
use trek::template::scope::Scope;

/// The journey of the peers benchmark's W2, with a few more checks.
const FILE: &str = r#"version: 1
base_url: http://127.0.0.1:9
load: { vus: 1, iterations: 1 }
steps:
  - name: login
    post: /api/auth/login
    json: { email: "{{ fake.email() }}", password: secret, device: "{{ vu }}-{{ iteration }}" }
    expect: { status: 200, json: { $.access_token: { type: string } } }
    capture: { token: $.access_token }
  - name: dashboard
    get: /api/dashboard
    headers: { authorization: "Bearer {{ token }}", x-request: "{{ uuid() }}" }
    expect:
      status: 200
      json: { $.user: demo, $.widgets: { ge: 1 } }
      headers: { content-type: { contains: json } }
      body: { contains: widgets }
    capture: { widgets: $.widgets }
"#;

fn plan() -> Plan {
    let checked = validate(
        trek::scenario::load_str(Path::new("bench.yaml"), FILE.into()),
        &Options::default(),
    );
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    checked.plan.expect("a plan")
}

fn http(plan: &Plan, index: usize) -> &HttpStep {
    match &plan.scenarios[0].steps[index].node {
        Node::Http(h) => h,
        _ => panic!("step {index} is not a request"),
    }
}

fn scope(plan: &Plan) -> Value {
    let mut scope = Scope::new(plan.vars.clone(), "default", 7, 42);
    Arc::make_mut(&mut scope.locals).insert("token".into(), Value::from("tok-123".to_string()));
    Value::from_dyn_object(Arc::new(scope))
}

fn render(c: &mut Criterion) {
    let plan = plan();
    let scope = scope(&plan);
    let (login, dashboard) = (http(&plan, 0), http(&plan, 1));
    c.bench_function("render json body (fake email, vu, iteration)", |b| {
        let Body::Json(t) = &login.body else {
            panic!("login has a JSON body")
        };
        b.iter(|| serde_json::to_vec(&t.render(black_box(&scope)).unwrap()).unwrap())
    });
    c.bench_function("render two headers (bearer token, uuid)", |b| {
        b.iter(|| {
            for (_, t) in &dashboard.headers {
                black_box(t.render(black_box(&scope)).unwrap());
            }
        })
    });
}

fn checks(c: &mut Criterion) {
    let plan = plan();
    let scope = scope(&plan);
    let (login, dashboard) = (http(&plan, 0), http(&plan, 1));
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let response = |body: &'static str| Response {
        status: 200,
        headers: Headers::from_map(&headers),
        body: Bytes::from_static(body.as_bytes()),
        first_byte: Duration::from_micros(300),
        latency: Duration::from_micros(400),
        ended: Instant::now(),
        sent: 120,
        received: 180,
        cut: false,
    };
    let token = response(r#"{"access_token":"tok-123"}"#);
    let dash = response(r#"{"user":"demo","widgets":3}"#);
    c.bench_function(
        "check + capture login (status, JSONPath type, capture)",
        |b| {
            b.iter(|| {
                let seen = Seen::new(black_box(&token));
                let outcome = expect::check(&login.expect, &seen, &scope);
                assert!(outcome.failed.is_empty());
                black_box(expect::capture(&login.captures, &seen, &scope).unwrap())
            })
        },
    );
    c.bench_function("check + capture dashboard (5 checks, capture)", |b| {
        b.iter(|| {
            let seen = Seen::new(black_box(&dash));
            let outcome = expect::check(&dashboard.expect, &seen, &scope);
            assert!(outcome.failed.is_empty());
            black_box(expect::capture(&dashboard.captures, &seen, &scope).unwrap())
        })
    });
}

fn record(c: &mut Criterion) {
    let mut recorder = Recorder::new(2, 1);
    let mut n = 0u64;
    c.bench_function("record a sample", |b| {
        b.iter(|| {
            n += 1;
            recorder.record(black_box(&Sample {
                step: 1,
                scenario: Some(0),
                latency_us: 300 + n % 700,
                service_us: 300 + n % 700,
                first_byte_us: Some(200 + n % 500),
                sent: 120,
                received: 180,
                failure: None,
                response: &[],
                checks_passed: 5,
                checks_failed: 0,
                events: 0,
                gaps: &[],
                connect_us: None,
                receives: &[],
                second: (n / 50_000) as u32,
                is_request: true,
                timed: true,
            }))
        })
    });
}

criterion_group!(benches, render, checks, record);
criterion_main!(benches);
