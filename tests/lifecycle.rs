//! Executors, stopping, exit codes and determinism, against a tiny recording
//! server started by the test.

mod common;

use std::time::Duration;

use common::*;

fn journey(base: &str, load: &str) -> String {
    format!(
        "version: 1\nbase_url: {base}\nload: {load}\nsteps:\n  - name: hit\n    post: /hit\n    json: {{ vu: \"{{{{ vu }}}}\" }}\n"
    )
}

fn scenario_field(r: &serde_json::Value, field: &str) -> u64 {
    r["scenarios"][0][field].as_u64().unwrap()
}

#[test]
fn iteration_counts_of_every_executor() {
    let server = recorder();
    let cases = [
        ("{ executor: per-vu-iterations, vus: 3, iterations: 4 }", 12),
        ("{ vus: 2, iterations: 5 }", 10),
        (
            "{ executor: shared-iterations, vus: 4, iterations: 10 }",
            10,
        ),
        ("{ executor: shared-iterations, vus: 10, iterations: 3 }", 3),
    ];
    for (load, expected) in cases {
        let s = Scratch::new();
        let file = s.file("t.yaml", &journey(&server.base, load));
        let out = run(&s, &file, &[]);
        let r = s.results(&out);
        assert_eq!(
            scenario_field(&r, "iterations"),
            expected,
            "{load}: {}",
            text(&out)
        );
        assert_eq!(step(&r, "hit")["count"], expected);
        assert_eq!(code(&out), 0);
    }
}

#[test]
fn constant_vus_runs_for_its_duration_with_its_users() {
    let server = recorder();
    let s = Scratch::new();
    let file = s.file(
        "t.yaml",
        &format!(
            "{}  - think: 50ms\n",
            journey(&server.base, "{ vus: 4, duration: 2s }")
        ),
    );
    let out = run(&s, &file, &[]);
    let r = s.results(&out);
    let iterations = scenario_field(&r, "iterations");
    // 4 users, ~50 ms per iteration, 2 s: about 160; allow wide margins for
    // a loaded CI machine, but far from 0 and from unbounded.
    assert!((40..=200).contains(&iterations), "{iterations}");
    let duration = r["duration_s"].as_f64().unwrap();
    assert!((1.9..4.0).contains(&duration), "{duration}");
    let max_vus = r["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["active_vus"].as_u64().unwrap())
        .max();
    assert_eq!(max_vus, Some(4));
}

#[test]
fn ramping_vus_reaches_its_targets() {
    let server = recorder();
    let s = Scratch::new();
    let load = "{ executor: ramping-vus, start_vus: 0, stages: [ { duration: 1s, target: 6 }, { duration: 2s, target: 6 }, { duration: 1s, target: 0 } ] }";
    let file = s.file(
        "t.yaml",
        &format!("{}  - think: 20ms\n", journey(&server.base, load)),
    );
    let out = run(&s, &file, &[]);
    let r = s.results(&out);
    let timeline = r["timeline"].as_array().unwrap();
    let vus: Vec<u64> = timeline
        .iter()
        .map(|p| p["active_vus"].as_u64().unwrap())
        .collect();
    assert_eq!(vus.iter().max(), Some(&6), "{vus:?}");
    // Seconds 1 and 2 are the plateau.
    assert!(vus.len() >= 4 && vus[1] == 6 && vus[2] == 6, "{vus:?}");
    assert_eq!(
        scenario_field(&r, "interrupted"),
        0,
        "ramping down finishes iterations"
    );
    assert!(code(&out) == 0, "{}", text(&out));
}

#[test]
fn pass_warn_fail_and_strict_exit_codes() {
    let server = recorder();
    let base = journey(&server.base, "{ vus: 1, iterations: 5 }");
    let cases = [
        (
            "slo: { latency: { p95: 10s }, error_rate: 1%, checks: 99% }",
            &[][..],
            0,
            "pass",
        ),
        (
            "slo: { latency: { p95: { target: 1us, critical: 10s } } }",
            &[][..],
            0,
            "warn",
        ),
        (
            "slo: { latency: { p95: { target: 1us, critical: 10s } } }",
            &["--strict"][..],
            1,
            "fail",
        ),
        ("slo: { latency: { max: 1us } }", &[][..], 1, "fail"),
        ("slo: { throughput: 1000000/s }", &[][..], 1, "fail"),
    ];
    for (slo, extra, exit, verdict) in cases {
        let s = Scratch::new();
        let file = s.file("t.yaml", &format!("{base}{slo}\n"));
        let out = run(&s, &file, extra);
        assert_eq!(code(&out), exit, "{slo} {extra:?}: {}", text(&out));
        let r = s.results(&out);
        assert_eq!(r["verdict"], verdict, "{slo}");
        let slos = r["slos"].as_array().unwrap();
        assert!(
            !slos.is_empty()
                && slos
                    .iter()
                    .all(|x| x["value"].is_number() && x["scope"].is_string())
        );
    }
}

#[test]
fn an_invalid_file_exits_2_naming_line_and_column() {
    let s = Scratch::new();
    let file = s.file("bad.yaml", "version: 1\nbase_url: http://127.0.0.1:1\nsteps:\n  - get: /a\n    expct: { status: 200 }\n");
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 2, "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.yaml:5:5"), "{err}");
    assert!(err.contains("did you mean `expect`?"), "{err}");
    let out = trek().arg("validate").arg(&file).output().unwrap();
    assert_eq!(code(&out), 2);
}

#[test]
fn an_unreachable_target_exits_3_quickly_with_results() {
    let s = Scratch::new();
    let base = format!("http://127.0.0.1:{}", closed_port());
    let file = s.file("t.yaml", &journey(&base, "{ vus: 5, duration: 60s }"));
    let child = spawn_run(&s, &file, &["--quiet"]);
    let (out, took) = wait_with_timeout(child, Duration::from_secs(30));
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(
        took < Duration::from_secs(10),
        "took {took:?} for a 60 s test"
    );
    let r = s.results(&out);
    assert_eq!(r["verdict"], "aborted");
    assert!(
        r["aborted_reason"]
            .as_str()
            .unwrap()
            .contains("could not be reached"),
        "{r:#}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("could not be reached"));
}

#[test]
fn sigint_stops_gracefully_writes_results_and_exits_3() {
    let server = recorder();
    let s = Scratch::new();
    let file = s.file(
        "t.yaml",
        &format!(
            "{}  - think: 100ms\n",
            journey(&server.base, "{ vus: 3, duration: 60s, graceful_stop: 5s }")
        ),
    );
    let child = spawn_run(&s, &file, &[]);
    // Wait until requests arrive, then interrupt.
    let start = std::time::Instant::now();
    while server.bodies.lock().unwrap().len() < 5 && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let (out, took) = wait_with_timeout(child, Duration::from_secs(30));
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert!(took < Duration::from_secs(10), "{took:?}");
    let r = s.results(&out);
    assert_eq!(r["verdict"], "aborted");
    assert_eq!(r["aborted_reason"], "interrupted");
    assert!(scenario_field(&r, "iterations") >= 1);
    assert_eq!(
        step(&r, "hit")["failures"],
        0,
        "a graceful stop is not an error"
    );
}

#[test]
fn the_same_seed_gives_the_same_data() {
    let file_text = |base: &str| {
        format!(
            "version: 1\nbase_url: {base}\nload: {{ vus: 2, iterations: 2 }}\nsteps:\n  - post: /data\n    json: {{ name: \"{{{{ fake.name() }}}}\", n: \"{{{{ fake.int(1, 1000000) }}}}\", id: \"{{{{ uuid() }}}}\", vu: \"{{{{ vu }}}}\", it: \"{{{{ iteration }}}}\" }}\n"
        )
    };
    let bodies = |seed: &str| {
        let server = recorder();
        let s = Scratch::new();
        let file = s.file("t.yaml", &file_text(&server.base));
        let out = run(&s, &file, &["--seed", seed]);
        assert_eq!(code(&out), 0, "{}", text(&out));
        let mut b = server.bodies.lock().unwrap().clone();
        b.sort();
        b
    };
    let a = bodies("42");
    assert_eq!(a.len(), 4);
    assert_eq!(a, bodies("42"));
    assert_ne!(a, bodies("43"));
    let unique: std::collections::HashSet<_> = a.iter().collect();
    assert_eq!(
        unique.len(),
        4,
        "users and iterations get different data: {a:?}"
    );
}

#[test]
fn choose_follows_its_weights() {
    let s = Scratch::new();
    let file = s.file(
        "t.yaml",
        r#"
version: 1
load: { executor: shared-iterations, vus: 4, iterations: 2000 }
steps:
  - choose:
      - weight: 70
        steps: [ { group: heavy, steps: [ { set: { x: 1 } } ] } ]
      - weight: 30
        steps: [ { group: light, steps: [ { set: { x: 2 } } ] } ]
"#,
    );
    let out = run(&s, &file, &[]);
    let r = s.results(&out);
    let heavy = step(&r, "heavy")["count"].as_f64().unwrap();
    let light = step(&r, "light")["count"].as_f64().unwrap();
    assert_eq!(heavy + light, 2000.0, "{}", text(&out));
    // Binomial(2000, 0.7): sd ≈ 20.5; five sd either side.
    assert!((heavy - 1400.0).abs() < 103.0, "heavy {heavy}");
}

#[test]
fn default_think_applies_after_a_parallel_group_not_inside_it() {
    let server = recorder();
    let s = Scratch::new();
    let file = s.file(
        "t.yaml",
        &format!(
            r#"
version: 1
base_url: {}
defaults: {{ think: 400ms }}
load: {{ vus: 1, iterations: 2 }}
steps:
  - group: page
    parallel:
      - {{ name: a, get: /a }}
      - {{ name: b, get: /b }}
  - name: after
    get: /c
"#,
            server.base
        ),
    );
    let out = run(&s, &file, &[]);
    let r = s.results(&out);
    // Members of the group do not pause, so the group takes milliseconds;
    // the pause comes after it (and after `after`): two per iteration.
    let page = step(&r, "page")["latency"]["max"].as_f64().unwrap();
    assert!(page < 0.350, "group took {page}s: {}", text(&out));
    let iteration = r["scenarios"][0]["iteration"]["min"].as_f64().unwrap();
    assert!(
        iteration >= 0.8,
        "two 400 ms pauses per iteration: {iteration}"
    );
}

#[test]
fn a_parallel_branch_does_not_undo_another_branchs_change() {
    let server = recorder();
    let s = Scratch::new();
    let file = s.file(
        "t.yaml",
        &format!(
            r#"
version: 1
base_url: {}
steps:
  - set: {{ x: 1 }}
  - group: both
    parallel:
      - set: {{ x: 2 }}
      - set: {{ y: 5 }}
  - name: report
    post: /report
    json: {{ x: "{{{{ x }}}}", y: "{{{{ y }}}}" }}
"#,
            server.base
        ),
    );
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let bodies = server.bodies.lock().unwrap().clone();
    assert_eq!(bodies, vec![r#"{"x":2,"y":5}"#.to_string()]);
}
