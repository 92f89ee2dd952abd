//! Verdicts CI can trust: what a run with no SLO, an SLO with no data,
//! `--smoke` and `--strict` give, rates over the span a scenario ran, and
//! results that are always written (or an exit code that says they were not).

mod common;

use common::*;

fn slo<'a>(r: &'a serde_json::Value, scope: &str, metric: &str) -> &'a serde_json::Value {
    r["slos"]
        .as_array()
        .and_then(|s| {
            s.iter()
                .find(|x| x["scope"] == scope && x["metric"] == metric)
        })
        .unwrap_or_else(|| panic!("no SLO {scope}/{metric} in {:#}", r["slos"]))
}

#[test]
fn a_run_in_which_no_request_succeeded_fails_even_without_an_slo() {
    let server = recorder();
    let s = Scratch::new();
    // The recorder answers 200 to everything: every check fails.
    let file = s.file(
        "t.yaml",
        &format!(
            "version: 1\nbase_url: {}\nload: {{ vus: 1, iterations: 3 }}\nsteps:\n  - {{ name: hit, get: /x, expect: {{ status: 201 }} }}\n",
            server.base
        ),
    );
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 1, "{}", text(&out));
    let r = s.results(&out);
    assert_eq!(r["verdict"], "fail");
    let check = slo(&r, "test", "successful_requests");
    assert_eq!(check["verdict"], "fail");
    assert_eq!(check["note"], "not one of 3 requests succeeded");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("not one of 3 requests succeeded"),
        "{stdout}"
    );

    // One success is enough for a run without SLOs to pass.
    let file = s.file(
        "ok.yaml",
        &format!(
            "version: 1\nbase_url: {}\nload: {{ vus: 1, iterations: 2 }}\nsteps:\n  - {{ name: ok, get: /x, expect: {{ status: 200 }} }}\n  - {{ name: bad, get: /x, expect: {{ status: 201 }}, on_fail: continue }}\n",
            server.base
        ),
    );
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(s.results(&out)["slos"].as_array().unwrap().is_empty());
}

#[test]
fn every_slo_kind_without_data_fails_the_same_way_and_says_no_data() {
    let server = recorder();
    let s = Scratch::new();
    let file = s.file(
        "t.yaml",
        &format!(
            "version: 1\nbase_url: {}\nload: {{ vus: 1, iterations: 2 }}\nsteps:\n  - {{ name: ran, get: /x }}\n  - name: never\n    when: \"{{{{ false }}}}\"\n    get: /x\n    slo: {{ error_rate: 1%, latency: {{ p95: 1s }}, checks: 99%, throughput: 1/s }}\n",
            server.base
        ),
    );
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 1, "{}", text(&out));
    let r = s.results(&out);
    for metric in ["error_rate", "latency", "checks"] {
        let x = slo(&r, "step t/never", metric);
        assert_eq!(x["verdict"], "fail", "{metric}: {x}");
        assert_eq!(x["note"], "no data", "{metric}: {x}");
        assert!(x["value"].is_null(), "{metric}: {x}");
    }
    // The scenario ran, so a throughput of 0 requests per second is a
    // measurement, not a lack of data.
    let t = slo(&r, "step t/never", "throughput");
    assert_eq!(
        (t["value"].as_f64(), &t["verdict"]),
        (Some(0.0), &"fail".into())
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("no data"), "{stdout}");
    let junit = std::fs::read_to_string(s.out().join("junit.xml")).unwrap();
    assert!(junit.contains("no data"), "{junit}");
    let md = std::fs::read_to_string(s.out().join("summary.md")).unwrap();
    assert!(md.contains("| no data |"), "{md}");
}

#[test]
fn smoke_judges_checks_and_errors_only() {
    let server = recorder();
    let s = Scratch::new();
    let body = format!(
        "version: 1\nbase_url: {}\nload: {{ vus: 2, duration: 1s }}\nsteps:\n  - {{ name: hit, get: /x, expect: {{ status: 200 }} }}\nslo:\n  latency: {{ p95: 1us }}\n  throughput: 1000000/s\n  error_rate: 1%\n  checks: 100%\n",
        server.base
    );
    let file = s.file("t.yaml", &body);
    let out = run(&s, &file, &["--smoke"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let r = s.results(&out);
    assert_eq!(r["smoke"], true);
    for metric in ["latency", "throughput"] {
        let x = slo(&r, "scenario t", metric);
        assert_eq!(x["note"], "not judged under --smoke", "{x}");
        assert_eq!(x["verdict"], "pass", "{x}");
    }
    assert_eq!(slo(&r, "scenario t", "checks")["value"], 1.0);
    assert_eq!(slo(&r, "scenario t", "error_rate")["value"], 0.0);

    // The same file without --smoke fails on latency; with a failing check,
    // --smoke fails too.
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 1, "{}", text(&out));
    let failing = s.file("f.yaml", &body.replace("status: 200", "status: 202"));
    let out = run(&s, &failing, &["--smoke"]);
    assert_eq!(code(&out), 1, "{}", text(&out));
    assert_eq!(
        slo(&s.results(&out), "scenario f", "checks")["verdict"],
        "fail"
    );
}

#[test]
fn strict_is_recorded_with_the_verdict_it_gave() {
    let server = recorder();
    let s = Scratch::new();
    let file = s.file(
        "t.yaml",
        &format!(
            "version: 1\nbase_url: {}\nload: {{ vus: 1, iterations: 2 }}\nsteps:\n  - {{ name: hit, get: /x }}\nslo: {{ latency: {{ p95: {{ target: 1us, critical: 10s }} }} }}\n",
            server.base
        ),
    );
    let out = run(&s, &file, &[]);
    let r = s.results(&out);
    assert_eq!(
        (r["verdict"].as_str(), r["strict"].as_bool()),
        (Some("warn"), Some(false))
    );
    let out = run(&s, &file, &["--strict"]);
    assert_eq!(code(&out), 1, "{}", text(&out));
    let r = s.results(&out);
    assert_eq!(
        (r["verdict"].as_str(), r["strict"].as_bool()),
        (Some("fail"), Some(true))
    );
}

#[test]
fn results_json_is_written_whatever_the_format_and_a_write_failure_is_an_exit_code() {
    let server = recorder();
    let s = Scratch::new();
    let file = s.file(
        "t.yaml",
        &format!(
            "version: 1\nbase_url: {}\nload: {{ vus: 1, iterations: 1 }}\nsteps:\n  - {{ name: hit, get: /x }}\n",
            server.base
        ),
    );
    let out = run(&s, &file, &["--format", "markdown"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(s.out().join("results.json").is_file());
    assert!(s.out().join("summary.md").is_file());
    assert!(!s.out().join("report.html").exists());

    // An output folder that cannot be made (a file stands in its way) is
    // found before the load: exit 2, no request sent. (A report that
    // cannot be written after the load is exit 4: tests/hardening.rs.)
    let blocker = s.file("blocker", "not a folder");
    let before = server.bodies.lock().unwrap().len();
    let out = trek()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(blocker.join("out"))
        .arg("--quiet")
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot create the output folder"), "{err}");
    assert!(err.contains("no request was sent"), "{err}");
    assert_eq!(server.bodies.lock().unwrap().len(), before);
}

#[test]
fn a_scenario_and_its_steps_are_rated_over_the_span_in_which_it_ran() {
    let server = recorder();
    let s = Scratch::new();
    // `quick` does 20 requests and is done in well under a second; `long`
    // keeps the test going for 2 s. Over the whole test `quick` would make
    // at most 10 requests/s; over its own span it makes far more.
    let file = s.file(
        "t.yaml",
        &format!(
            "version: 1\nbase_url: {}\nscenarios:\n  quick:\n    load: {{ vus: 1, iterations: 20 }}\n    steps:\n      - {{ name: q, get: /x }}\n    slo: {{ throughput: 20/s }}\n  long:\n    load: {{ vus: 1, duration: 2s }}\n    steps:\n      - {{ name: l, get: /x }}\n      - think: 100ms\n",
            server.base
        ),
    );
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let r = s.results(&out);
    let duration = r["duration_s"].as_f64().unwrap();
    assert!(duration >= 2.0, "{duration}");
    let quick = r["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "quick")
        .unwrap();
    let span = quick["span_s"].as_f64().unwrap();
    assert!(span > 0.0 && span < duration / 2.0, "{span} of {duration}");
    let q = step(&r, "q");
    let expected = 20.0 / span;
    let throughput = q["throughput"].as_f64().unwrap();
    assert!(
        (throughput - expected).abs() < expected * 1e-6,
        "{throughput} vs {expected}"
    );
    assert_eq!(quick["requests"], 20);
    assert_eq!(quick["throughput"].as_f64(), Some(throughput));
    assert_eq!(slo(&r, "scenario quick", "throughput")["verdict"], "pass");
    // The CSV shows the same figure.
    let csv = std::fs::read_to_string(s.out().join("results.csv")).unwrap();
    let row = csv.lines().find(|l| l.starts_with("quick,q,")).unwrap();
    assert!(row.contains(&format!("{throughput:.3}")), "{row}");
}
