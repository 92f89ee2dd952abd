//! The embedded demo target and the bundled scenarios: every bundled file
//! validates and runs green against the demo, and the demo's injected
//! latency and errors show up in trek's numbers.

mod common;

use common::*;

const BUNDLED: [&str; 3] = [
    "scenarios/smoke_endpoints.yaml",
    "scenarios/wikipro_journey.yaml",
    "scenarios/ryze_modules.yaml",
];

fn path(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

#[test]
fn bundled_scenarios_validate_clean() {
    let out = trek()
        .arg("validate")
        .args(BUNDLED.map(path))
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(out.stderr.is_empty(), "no warnings either: {}", text(&out));
}

#[test]
fn bundled_scenarios_are_green_against_the_demo_target() {
    let demo = demo_target(&[]);
    for file in BUNDLED {
        let s = Scratch::new();
        // Shortened load: the point is that every check passes.
        let out = run(
            &s,
            &path(file),
            &["--base-url", &demo.base, "--duration", "2s"],
        );
        assert_eq!(code(&out), 0, "{file}: {}", text(&out));
        let r = s.results(&out);
        assert_eq!(r["verdict"], "pass", "{file}");
        assert_eq!(r["totals"]["failures"], 0, "{file}: {}", text(&out));
        assert!(r["totals"]["requests"].as_u64().unwrap() > 10, "{file}");
    }
}

#[test]
fn injected_latency_shows_in_the_measured_latency() {
    let demo = demo_target(&["--latency", "80ms", "--jitter", "20ms"]);
    let s = Scratch::new();
    let file = s.file(
        "t.yaml",
        &format!(
            "base_url: {}\nload: {{ vus: 4, iterations: 5 }}\nsteps:\n  - name: login\n    post: /api/auth/login\n    json: {{ email: a@acme.test, password: secret }}\n",
            demo.base
        ),
    );
    let out = run(&s, &file, &[]);
    let r = s.results(&out);
    let l = &step(&r, "login")["latency"];
    let (min, max) = (l["min"].as_f64().unwrap(), l["max"].as_f64().unwrap());
    // The server sleeps 80–100 ms before answering: nothing can be faster
    // than 80 ms; 1 s is a generous ceiling for a loaded machine.
    assert!(min >= 0.080, "min {min}");
    assert!(max < 1.0, "max {max}");
}

#[test]
fn injected_errors_fail_the_error_rate_slo() {
    let demo = demo_target(&["--error-rate", "100%"]);
    let s = Scratch::new();
    let file = s.file(
        "t.yaml",
        &format!(
            "base_url: {}\nload: {{ vus: 2, iterations: 3 }}\nsteps:\n  - name: chat\n    get: /api/dashboard\nslo:\n  error_rate: 1%\n",
            demo.base
        ),
    );
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 1, "{}", text(&out));
    let r = s.results(&out);
    assert_eq!(r["verdict"], "fail");
    assert_eq!(
        step(&r, "chat")["failure_reasons"]["status 500, expected 2xx or 3xx"],
        6
    );
}

#[test]
fn trek_demo_runs_every_bundled_journey_and_writes_reports() {
    let s = Scratch::new();
    let out = trek()
        .args(["demo", "--quiet", "--out"])
        .arg(s.out())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out));
    for name in ["smoke_endpoints", "wikipro_journey", "ryze_modules"] {
        let r: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(s.out().join(name).join("results.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(r["verdict"], "pass", "{name}");
    }
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .matches("verdict: pass")
            .count(),
        3
    );
}

#[test]
fn smoke_runs_each_step_once_and_prints_every_request() {
    let demo = demo_target(&[]);
    let s = Scratch::new();
    let out = trek()
        .arg("run")
        .arg(path("scenarios/wikipro_journey.yaml"))
        .args(["--smoke", "--base-url", &demo.base, "--out"])
        .arg(s.out())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    for name in [
        "login",
        "verify",
        "ai_chat",
        "cross_tenant_is_blocked",
        "logout",
    ] {
        let line = err
            .lines()
            .find(|l| l.contains(&format!("✓ {name} ")))
            .unwrap_or_else(|| panic!("no line for {name}: {err}"));
        assert!(
            line.contains(" 200 ") || line.contains(" 201 ") || line.contains(" 403 "),
            "{line}"
        );
        assert!(line.contains("ms") || line.contains("µs"), "{line}");
    }
    let r = s.results(&out);
    assert_eq!(r["scenarios"][0]["iterations"], 1);
    assert_eq!(step(&r, "login")["count"], 1);
}

#[test]
fn timed_out_requests_count_in_latency_at_their_timeout() {
    let demo = demo_target(&["--latency", "1s"]);
    let s = Scratch::new();
    let file = s.file(
        "t.yaml",
        &format!(
            "base_url: {}\nload: {{ vus: 2, iterations: 2 }}\nsteps:\n  - name: slow\n    get: /api/dashboard\n    timeout: 200ms\n",
            demo.base
        ),
    );
    let out = run(&s, &file, &[]);
    let r = s.results(&out);
    let st = step(&r, "slow");
    assert_eq!(
        st["failure_reasons"]["timed out after 200ms"],
        4,
        "{}",
        text(&out)
    );
    // A timeout is a wait a user sat through: it is in the percentiles, not
    // left out to flatter them.
    assert_eq!(st["latency"]["count"], 4);
    // Histograms keep 3 significant digits: allow their 0.1%.
    let min = st["latency"]["min"].as_f64().unwrap();
    assert!(min >= 0.2 * 0.999, "{min}");
}
