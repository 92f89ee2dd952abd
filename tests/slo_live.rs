//! SLOs judged while the run goes (`abort: true`, `after:`), against the
//! demo target: a crossed critical bound stops the test early, gracefully,
//! with everything written and exit 1; failures before `after` neither stop
//! the test nor count in its verdict.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{code, demo_target, text, trek, wait_with_timeout, Scratch};

#[test]
fn a_crossed_critical_bound_with_abort_stops_the_test_early_and_fails_it() {
    // Half the API's answers are 500s.
    let demo = demo_target(&["--error-rate", "50%"]);
    let scratch = Scratch::new();
    let file = scratch.file(
        "t.yaml",
        &format!(
            "version: 1\nbase_url: {}\nload: {{ vus: 4, duration: 60s }}\nsteps:\n  - {{ name: foods, get: /api/nutrition/foods, expect: {{ status: [200, 401] }} }}\n  - think: 20ms\nslo:\n  error_rate: {{ target: 1%, critical: 5%, abort: true }}\n  latency: {{ p95: 5s }}\n",
            demo.base
        ),
    );
    let child = trek()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(scratch.out())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (o, took) = wait_with_timeout(child, Duration::from_secs(90));
    assert_eq!(code(&o), 1, "{}", text(&o));
    // Stopped within seconds of the first judgement, not after 60 s.
    assert!(took < Duration::from_secs(40), "took {took:?}");
    let results = scratch.results(&o);
    assert!(results["duration_s"].as_f64().unwrap() < 30.0);
    assert_eq!(results["verdict"], "fail");
    assert!(
        results.get("aborted_reason").is_none(),
        "{}",
        results["aborted_reason"]
    );
    let why = results["stopped_by"].as_str().unwrap_or_default();
    assert!(
        why.contains("error_rate") && why.contains("crossed its critical bound (≤5%)"),
        "{why}"
    );
    let slo = results["slos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["metric"] == "error_rate")
        .unwrap();
    assert_eq!(slo["verdict"], "fail");
    assert!(
        slo["note"]
            .as_str()
            .unwrap_or_default()
            .starts_with("stopped the test at"),
        "{slo}"
    );
    assert!(
        text(&o).contains("stopping: scenario t error_rate"),
        "{}",
        text(&o)
    );
    // Everything written, the requests counted.
    assert!(results["totals"]["requests"].as_u64().unwrap() > 0);
    for f in [
        "report.html",
        "results.csv",
        "timeline.csv",
        "junit.xml",
        "summary.md",
    ] {
        assert!(scratch.out().join(f).exists(), "{f}");
    }
}

#[test]
fn failures_before_after_neither_stop_the_test_nor_count_in_its_verdict() {
    let demo = demo_target(&[]);
    let scratch = Scratch::new();
    // Each user's first iteration asks for a page that does not exist.
    let file = scratch.file(
        "t.yaml",
        &format!(
            "version: 1\nbase_url: {}\nload: {{ vus: 2, duration: 5s }}\nsteps:\n  - {{ name: page, get: \"{{{{ '/nope' if iteration == 0 else '/health' }}}}\" }}\n  - think: 100ms\nslo:\n  error_rate: {{ critical: 1%, abort: true, after: 2s }}\n",
            demo.base
        ),
    );
    let o = trek()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(scratch.out())
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o));
    let results = scratch.results(&o);
    assert!(
        results.get("stopped_by").is_none(),
        "{}",
        results["stopped_by"]
    );
    // The warm-up's failures are in the run's figures…
    assert_eq!(results["totals"]["failures"], 2);
    assert!(results["duration_s"].as_f64().unwrap() >= 4.5);
    // …and not in the SLO judged from 2 s on.
    let slo = &results["slos"][0];
    assert_eq!(slo["metric"], "error_rate");
    assert_eq!(slo["value"], 0.0);
    assert_eq!(slo["verdict"], "pass");
}
