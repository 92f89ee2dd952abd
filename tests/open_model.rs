//! The open model against the demo target: schedule accuracy, dropped
//! iterations under overload, latency counted from the scheduled start,
//! stopping, mixed closed and open scenarios, and `--rate`.

mod common;

use std::time::Duration;

use common::*;

fn open_file(base: &str, load: &str, step: &str) -> String {
    format!("version: 1\nbase_url: {base}\nload: {load}\nsteps:\n{step}")
}

const HEALTH: &str = "  - name: health\n    get: /health\n";
const SLOW: &str = "  - name: slow\n    get: /api/dashboard\n    expect: { status: 401 }\n";

fn timeline(r: &serde_json::Value) -> Vec<serde_json::Value> {
    r["timeline"].as_array().unwrap().clone()
}

#[test]
fn a_constant_rate_starts_iterations_on_schedule() {
    let demo = demo_target(&[]);
    let s = Scratch::new();
    let file = s.file(
        "t.yaml",
        &open_file(
            &demo.base,
            "{ executor: constant-arrival-rate, rate: 1000/s, duration: 10s, max_vus: 100 }",
            HEALTH,
        ),
    );
    let out = run(&s, &file, &[]);
    let r = s.results(&out);
    let sc = &r["scenarios"][0];
    let started = sc["iterations"].as_u64().unwrap() + sc["interrupted"].as_u64().unwrap();
    // The schedule has exactly 10,000 iterations; ±0.5% allows for a loaded
    // machine dropping a few.
    assert!(
        (9950..=10000).contains(&started),
        "{started}: {}",
        text(&out)
    );
    assert_eq!(sc["executor"], "constant-arrival-rate");
    // Every full second starts 1,000 ± 2%.
    let points = timeline(&r);
    for p in points.iter().filter(|p| p["second"].as_u64().unwrap() < 10) {
        let n = p["iterations_started"].as_u64().unwrap();
        assert!((980..=1020).contains(&n), "second {}: {n}", p["second"]);
    }
    // Latency counts from the scheduled start, so it is never below the
    // time the request itself took.
    let st = step(&r, "health");
    assert!(st["latency"]["p50"].as_f64().unwrap() >= st["service_time"]["p50"].as_f64().unwrap());
}

#[test]
fn a_ramping_rate_follows_the_integral_of_its_stages() {
    let demo = demo_target(&[]);
    let s = Scratch::new();
    let load = "{ executor: ramping-arrival-rate, start_rate: 0, stages: [ { duration: 4s, target: 200/s }, { duration: 2s, target: 200/s } ], max_vus: 50 }";
    let file = s.file("t.yaml", &open_file(&demo.base, load, HEALTH));
    let out = run(&s, &file, &[]);
    let r = s.results(&out);
    let started: u64 = timeline(&r)
        .iter()
        .map(|p| p["iterations_started"].as_u64().unwrap())
        .sum();
    // ∫ rate = 4 s × 200/s ÷ 2 + 2 s × 200/s = 800.
    assert!((792..=800).contains(&started), "{started}: {}", text(&out));
    // Second k of the ramp starts ∫ from k to k+1 of 50·t dt = 25·(2k+1).
    for p in timeline(&r).iter().take(4) {
        let k = p["second"].as_u64().unwrap();
        let expected = 25.0 * (2 * k + 1) as f64;
        let n = p["iterations_started"].as_f64().unwrap();
        assert!((n - expected).abs() <= 2.0, "second {k}: {n} vs {expected}");
    }
}

#[test]
fn a_slow_target_gives_dropped_iterations_and_latency_above_service_time() {
    let demo = demo_target(&["--latency", "200ms"]);
    let s = Scratch::new();
    // 50/s against 3 users who each need 200 ms: at most 15/s can start.
    let load = "{ executor: constant-arrival-rate, rate: 50/s, duration: 3s, max_vus: 3, graceful_stop: 2s }";
    let file = s.file(
        "t.yaml",
        &format!("{}slo:\n  dropped: 0\n", open_file(&demo.base, load, SLOW)),
    );
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 1, "the `dropped: 0` SLO fails: {}", text(&out));
    let r = s.results(&out);
    let sc = &r["scenarios"][0];
    let (done, dropped) = (
        sc["iterations"].as_u64().unwrap(),
        sc["dropped"].as_u64().unwrap(),
    );
    assert_eq!(
        done + dropped + sc["interrupted"].as_u64().unwrap(),
        150,
        "every scheduled iteration is accounted for"
    );
    assert!(dropped >= 80, "dropped {dropped}");
    let per_second: u64 = timeline(&r)
        .iter()
        .map(|p| p["dropped"].as_u64().unwrap())
        .sum();
    assert_eq!(per_second, dropped, "the timeline counts drops per second");
    let st = step(&r, "slow");
    let (lat, svc) = (
        st["latency"]["p50"].as_f64().unwrap(),
        st["service_time"]["p50"].as_f64().unwrap(),
    );
    // Waiting for a free user is part of what a real user would see.
    assert!(
        svc >= 0.2 && lat > svc + 0.05,
        "latency {lat} vs service {svc}"
    );
    let slo = &r["slos"][0];
    assert_eq!(
        (
            slo["metric"].as_str(),
            slo["stat"].as_str(),
            slo["verdict"].as_str()
        ),
        (Some("dropped"), Some("count"), Some("fail"))
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(" dropped)"));
}

#[test]
fn dropped_slos_take_a_share_or_a_rate() {
    let demo = demo_target(&["--latency", "100ms"]);
    let s = Scratch::new();
    let load = "{ executor: constant-arrival-rate, rate: 40/s, duration: 2s, max_vus: 2 }";
    let file = s.file(
        "t.yaml",
        &format!(
            "{}slo:\n  dropped: {{ target: 10%, critical: 99% }}\n",
            open_file(&demo.base, load, SLOW)
        ),
    );
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 0, "warn exits 0: {}", text(&out));
    let r = s.results(&out);
    assert_eq!(r["verdict"], "warn");
    let share = r["slos"][0]["value"].as_f64().unwrap();
    assert!(share > 0.1 && share < 0.99, "{share}");
}

#[test]
fn graceful_then_hard_stop_of_an_open_scenario() {
    // Every answer takes 3 s, so iterations are still running when trek is
    // interrupted.
    let server = recorder_answering_after(Duration::from_secs(3));
    let s = Scratch::new();
    let load = "{ executor: constant-arrival-rate, rate: 5/s, duration: 60s, max_vus: 20, graceful_stop: 30s }";
    let slow = "  - { name: slow, get: /slow, expect: { status: 200 } }\n";
    let file = s.file("t.yaml", &open_file(&server.base, load, slow));
    let mut child = spawn_run(&s, &file, &[]);
    let stderr = collect_stderr(&mut child);
    let pid = child.id().to_string();
    let kill = || {
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
    };
    // Interrupt once requests are waiting for their answers, and again once
    // trek has taken the first Ctrl-C: the second must not wait for the
    // 30 s graceful stop.
    poll_until(Duration::from_secs(20), "three requests in flight", || {
        server.bodies.lock().unwrap().len() >= 3
    });
    kill();
    poll_until(
        Duration::from_secs(20),
        "trek takes the first Ctrl-C",
        || {
            stderr
                .lock()
                .unwrap()
                .contains("letting running iterations finish")
        },
    );
    kill();
    let (out, took) = wait_with_timeout(child, Duration::from_secs(30));
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(
        took < Duration::from_secs(10),
        "the second Ctrl-C does not wait for graceful_stop: {took:?}"
    );
    let r = s.results(&out);
    assert_eq!(r["verdict"], "aborted");
    let sc = &r["scenarios"][0];
    assert!(sc["interrupted"].as_u64().unwrap() >= 1, "{sc:#}");
    assert_eq!(
        step(&r, "slow")["failures"],
        0,
        "cut iterations are not errors"
    );
}

#[test]
fn closed_and_open_scenarios_run_together_and_stay_apart() {
    let demo = demo_target(&[]);
    let s = Scratch::new();
    let file = s.file(
        "t.yaml",
        &format!(
            r#"
version: 1
base_url: {}
scenarios:
  browse:
    load: {{ vus: 2, iterations: 5 }}
    steps:
      - {{ name: home, get: /health }}
  arrivals:
    load: {{ executor: constant-arrival-rate, rate: 20/s, duration: 2s, max_vus: 5 }}
    steps:
      - {{ name: login, post: /api/auth/login, json: {{ email: a@acme.test, password: secret }} }}
"#,
            demo.base
        ),
    );
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let r = s.results(&out);
    let sc = r["scenarios"].as_array().unwrap();
    assert_eq!(
        (sc[0]["name"].as_str(), sc[0]["iterations"].as_u64()),
        (Some("browse"), Some(10))
    );
    assert_eq!(
        (sc[1]["name"].as_str(), sc[1]["iterations"].as_u64()),
        (Some("arrivals"), Some(40))
    );
    assert_eq!(step(&r, "home")["scenario"], "browse");
    assert_eq!(step(&r, "home")["count"], 10);
    assert_eq!(step(&r, "login")["scenario"], "arrivals");
    assert_eq!(step(&r, "login")["count"], 40);
    let arrivals: u64 = timeline(&r)
        .iter()
        .filter(|p| p["scenario"] == "arrivals")
        .map(|p| p["iterations_started"].as_u64().unwrap())
        .sum();
    assert_eq!(arrivals, 40);
}

#[test]
fn the_rate_flag_turns_a_closed_file_open() {
    let demo = demo_target(&[]);
    let s = Scratch::new();
    let file = s.file(
        "t.yaml",
        &open_file(&demo.base, "{ vus: 1, iterations: 1 }", HEALTH),
    );
    let out = run(&s, &file, &["--rate", "30/s", "--duration", "2s"]);
    let r = s.results(&out);
    assert_eq!(
        r["scenarios"][0]["executor"],
        "constant-arrival-rate",
        "{}",
        text(&out)
    );
    assert_eq!(r["scenarios"][0]["iterations"], 60);
    let out = run(&s, &file, &["--rate", "fast"]);
    assert_eq!(code(&out), 2);
}
