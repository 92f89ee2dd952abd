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

/// The demo target's counts of logins, logouts and sign-ups, as its
/// admin sees them.
fn demo_stats(base: &str) -> serde_json::Value {
    let login = serde_json::json!({ "email": "admin@demo-company.test", "password": "demo-admin" });
    let (status, answer) = http_json(base, "POST", "/api/auth/login", &[], Some(&login));
    assert_eq!(status, 200, "{answer}");
    let token = format!("Bearer {}", answer["access_token"].as_str().unwrap());
    let (status, stats) = http_json(
        base,
        "GET",
        "/api/admin/stats",
        &[("authorization", &token)],
        None,
    );
    assert_eq!(status, 200, "{stats}");
    stats
}

#[test]
fn bundled_sessions_log_each_user_in_once_and_setup_data_is_removed_after() {
    let demo = demo_target(&[]);
    let counts = |stats: &serde_json::Value, k: &str| stats[k].as_u64().unwrap();
    // Ryze: every user signs up and logs in once, in `before`.
    let before = demo_stats(&demo.base);
    let s = Scratch::new();
    let out = run(
        &s,
        &path("scenarios/ryze_modules.yaml"),
        &["--base-url", &demo.base, "--duration", "2s"],
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let after = demo_stats(&demo.base);
    let r = s.results(&out);
    let logins = counts(&after, "logins") - counts(&before, "logins") - 1;
    let users = counts(&after, "registrations") - counts(&before, "registrations");
    assert_eq!(logins, users, "one login per user");
    let reported: u64 = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|st| st["name"] == "login")
        .map(|st| {
            assert_eq!(st["phase"], "before");
            st["count"].as_u64().unwrap()
        })
        .sum();
    assert_eq!(logins, reported);
    let iterations: u64 = r["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sc| sc["iterations"].as_u64().unwrap())
        .sum();
    assert!(
        iterations > logins,
        "{iterations} iterations, {logins} logins"
    );

    // WikiPro: `setup` adds the shared handbook every iteration reads;
    // `teardown` removes it.
    let s = Scratch::new();
    let out = run(
        &s,
        &path("scenarios/wikipro_journey.yaml"),
        &["--base-url", &demo.base, "--duration", "2s"],
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
    let r = s.results(&out);
    let handbook = step(&r, "read_handbook");
    assert!(handbook["count"].as_u64().unwrap() > 0);
    assert_eq!(handbook["failures"], 0, "{handbook:#}");
    assert_eq!(step(&r, "add_handbook")["phase"], "setup");
    assert_eq!(step(&r, "remove_library")["failures"], 0);
    let login = serde_json::json!({ "email": "qa1@demo-company.test", "password": "secret" });
    let (_, answer) = http_json(&demo.base, "POST", "/api/auth/login", &[], Some(&login));
    let token = format!("Bearer {}", answer["access_token"].as_str().unwrap());
    let (status, library) = http_json(
        &demo.base,
        "GET",
        "/api/v1/demo-company/library",
        &[("authorization", &token)],
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(
        library["documents"],
        serde_json::json!([]),
        "teardown left data"
    );
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
