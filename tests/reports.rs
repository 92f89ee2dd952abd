//! Reports: golden files of the text formats rendered from a fixed
//! results.json, `trek report` reproducing a run's files, JUnit read back
//! by a JUnit parser, `--format`, `trek compare` on an injected regression,
//! on an unchanged run and on ten requests that doubled, and the HTML report opened in headless Chromium
//! (when TREK_BROWSER_TESTS=1; `.ci/run` sets it).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports")
}

fn report(results: &Path, out: &Path, extra: &[&str]) {
    let o = trek()
        .arg("report")
        .arg(results)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o));
}

#[test]
fn text_formats_match_their_golden_files() {
    let s = Scratch::new();
    report(&fixtures().join("results.json"), &s.out(), &[]);
    let bless = std::env::var_os("TREK_BLESS").is_some();
    for file in ["results.csv", "timeline.csv", "junit.xml", "summary.md"] {
        let got = std::fs::read_to_string(s.out().join(file)).unwrap();
        let golden = fixtures().join(format!("golden-{file}"));
        if bless {
            std::fs::write(&golden, &got).unwrap();
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_default();
        assert_eq!(got, want, "{file} differs from {}", golden.display());
    }
}

#[test]
fn the_summary_and_junit_say_what_failed() {
    let s = Scratch::new();
    report(
        &fixtures().join("results.json"),
        &s.out(),
        &["--format", "markdown,junit"],
    );
    let md = std::fs::read_to_string(s.out().join("summary.md")).unwrap();
    assert!(md.starts_with("## ❌ trek: fail"), "{md}");
    assert!(
        md.contains("| test checks | ≥99% | 94.3% | ❌ fail |"),
        "{md}"
    );
    assert!(md.contains("⚠️ warn"), "{md}");
    // Only the formats asked for.
    let mut names: Vec<String> = std::fs::read_dir(s.out())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["junit.xml", "summary.md"]);
    // A JUnit parser reads one case per SLO, the failed one as a failure.
    let python = std::env::var("TREK_TEST_PYTHON").expect("TREK_TEST_PYTHON (set by scripts/test)");
    let out = Command::new(python)
        .arg("-c")
        .arg(
            "import sys, junitparser\n\
             x = junitparser.JUnitXml.fromfile(sys.argv[1])\n\
             cases = [c for suite in x for c in suite]\n\
             failed = [c.name for c in cases if any(isinstance(r, junitparser.Failure) for r in c.result)]\n\
             print(len(cases), len(failed), failed[0])",
        )
        .arg(s.out().join("junit.xml"))
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "4 1 test: checks"
    );
}

fn journey(base: &str) -> String {
    journey_with(base, 50)
}

/// The journey, with room for `max_vus` users (a slow target needs more to
/// keep up with 100 iterations a second).
fn journey_with(base: &str, max_vus: u32) -> String {
    format!(
        "version: 1\nbase_url: {base}\nload: {{ rate: 100/s, duration: 3s, max_vus: {max_vus} }}\nsteps:\n  - name: login\n    post: /api/auth/login\n    json: {{ email: \"qa{{{{ vu }}}}@acme.test\", password: secret }}\n    expect: {{ status: 200 }}\n    capture: {{ token: $.access_token }}\n  - name: me\n    get: /api/me\n    headers: {{ authorization: \"Bearer {{{{ token }}}}\" }}\n    expect: {{ status: 200 }}\nslo:\n  latency: {{ p95: 2s }}\n"
    )
}

#[test]
fn report_reproduces_the_files_of_a_run() {
    let demo = demo_target(&[]);
    let s = Scratch::new();
    let file = s.file("t.yaml", &journey(&demo.base));
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    for f in [
        "report.html",
        "results.csv",
        "timeline.csv",
        "junit.xml",
        "summary.md",
    ] {
        assert!(s.out().join(f).is_file(), "{f} is written by trek run");
    }
    let again = s.dir.path().join("again");
    report(&s.out().join("results.json"), &again, &[]);
    for f in [
        "results.json",
        "report.html",
        "results.csv",
        "timeline.csv",
        "junit.xml",
        "summary.md",
    ] {
        let a = std::fs::read(s.out().join(f)).unwrap();
        let b = std::fs::read(again.join(f)).unwrap();
        assert!(a == b, "{f} differs when rendered again from results.json");
    }
}

/// Runs `trek run` on `yaml` (saved as `NAME/journey.yaml`: steps are
/// matched by scenario, the file's stem, and name) and returns the path of
/// its results.json.
fn run_into(runs: &Scratch, name: &str, yaml: &str) -> PathBuf {
    let file = runs.file(&format!("{name}/journey.yaml"), yaml);
    let out_dir = runs.dir.path().join(format!("out-{name}"));
    let o = trek()
        .arg("run")
        .arg(&file)
        .args(["--quiet", "--seed", "5", "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{name}: {}", text(&o));
    out_dir.join("results.json")
}

fn cmp(base: &Path, new: &Path, extra: &[&str]) -> std::process::Output {
    trek()
        .arg("compare")
        .arg(base)
        .arg(new)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn compare_flags_an_injected_regression_and_passes_an_unchanged_run() {
    // A target that takes 20 ms, then the same target twenty times slower.
    let fast = demo_target(&["--latency", "20ms"]);
    let slow = demo_target(&["--latency", "400ms"]);
    let runs = Scratch::new();
    let results = [
        run_into(&runs, "a", &journey_with(&fast.base, 100)),
        run_into(&runs, "b", &journey_with(&fast.base, 100)),
        run_into(&runs, "slow", &journey_with(&slow.base, 100)),
    ];
    // The same threshold for both comparisons. The significance test keeps
    // chance out, but not a machine that is busier during one run than
    // during the other: that shifts the whole second run. Such a machine
    // adds milliseconds of scheduling delay, not hundreds (the worst seen
    // between two unchanged runs: +37 ms in p95, at 50 ms). 150 ms is four
    // times that, and the injected +380 ms is still two and a half times
    // beyond it.
    let unchanged = cmp(&results[0], &results[1], &["--fail-on", "p95:+150ms"]);
    assert_eq!(code(&unchanged), 0, "{}", text(&unchanged));
    assert!(
        text(&unchanged).contains("0 regressions"),
        "{}",
        text(&unchanged)
    );

    let out = runs.dir.path().join("cmp");
    let regressed = cmp(
        &results[0],
        &results[2],
        &["--fail-on", "p95:+150ms", "--out", out.to_str().unwrap()],
    );
    assert_eq!(code(&regressed), 1, "{}", text(&regressed));
    assert!(text(&regressed).contains("✗"), "{}", text(&regressed));
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("**Compared with**"), "{md}");
    assert!(md.contains("| journey/me | p95 |"), "{md}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Compared with the baseline"));

    let bad = cmp(&results[0], &results[1], &["--fail-on", "p95:-3%"]);
    assert_eq!(code(&bad), 2, "{}", text(&bad));
}

#[test]
fn compare_flags_ten_requests_that_took_twice_as_long() {
    // Ten requests each: every one 0.2 s, then every one 0.4 s. Too few
    // for a count of samples to vouch for p95, yet the two runs do not
    // overlap at all, and each keeps its histogram to show it.
    let base = demo_target(&["--latency", "200ms"]);
    let slower = demo_target(&["--latency", "400ms"]);
    let yaml = |url: &str| {
        format!(
            "version: 1\nbase_url: {url}\nload: {{ vus: 10, iterations: 1 }}\nsteps:\n  - name: login\n    post: /api/auth/login\n    json: {{ email: \"qa{{{{ vu }}}}@acme.test\", password: secret }}\n    expect: {{ status: 200 }}\n"
        )
    };
    let runs = Scratch::new();
    let a = run_into(&runs, "a", &yaml(&base.base));
    let b = run_into(&runs, "b", &yaml(&slower.base));
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&a).unwrap()).unwrap();
    assert_eq!(step(&r, "login")["count"], 10, "{r:#}");
    assert!(step(&r, "login")["histogram"].is_string(), "{r:#}");

    let o = cmp(&a, &b, &["--fail-on", "p95:+10%"]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    let out = text(&o);
    let p95 = out
        .lines()
        .find(|l| l.trim_start().starts_with("p95"))
        .unwrap_or_else(|| panic!("no p95 line: {out}"));
    assert!(p95.ends_with('✗') && p95.contains(" → "), "{out}");
    assert!(p95.contains("ms [") || p95.contains("s ["), "{out}");
    // The run against itself is no regression.
    let o = cmp(&a, &a, &["--fail-on", "p95:+10%"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
}

#[test]
fn the_html_report_works_in_a_real_browser() {
    if std::env::var("TREK_BROWSER_TESTS").as_deref() != Ok("1") {
        eprintln!("skipped: set TREK_BROWSER_TESTS=1 (scripts/test installs Chromium and Playwright then)");
        return;
    }
    let python =
        std::env::var("TREK_BROWSER_PYTHON").expect("TREK_BROWSER_PYTHON (set by scripts/test)");
    let s = Scratch::new();
    report(
        &fixtures().join("results.json"),
        &s.out(),
        &["--format", "html"],
    );
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("report.png");
    let out = Command::new(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/check_report.py"))
        .arg(s.out().join("report.html"))
        .arg(&shot)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "fail");
    assert!(v["charts_with_data"].as_u64().unwrap() >= 4, "{v}");
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 10_000,
        "a screenshot was saved"
    );
}

#[test]
fn hostile_names_stay_text_in_every_format() {
    let mut r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("results.json")).unwrap())
            .unwrap();
    let evil = "=HYPERLINK(\"https://evil.example\")<img src=https://evil.example/p>![x](https://evil.example/i.png)|</details>";
    r["steps"][0]["name"] = evil.into();
    let s = Scratch::new();
    let file = s.file("evil/results.json", &r.to_string());
    report(&file, &s.out(), &[]);
    let csv = std::fs::read_to_string(s.out().join("results.csv")).unwrap();
    assert!(
        csv.contains("\"'=HYPERLINK("),
        "formulas are defused: {csv}"
    );
    let md = std::fs::read_to_string(s.out().join("summary.md")).unwrap();
    assert!(
        !md.contains("<img") && !md.contains("![x]") && !md.contains("|</details>"),
        "{md}"
    );
    let html = std::fs::read_to_string(s.out().join("report.html")).unwrap();
    assert!(
        !html.contains("<img") && html.contains("&lt;img"),
        "names are escaped in HTML"
    );
    let xml = std::fs::read_to_string(s.out().join("junit.xml")).unwrap();
    assert!(!xml.contains("<img"));
}

#[test]
fn compare_never_overwrites_its_inputs() {
    let s = Scratch::new();
    let base_dir = s.dir.path().join("base");
    std::fs::create_dir_all(&base_dir).unwrap();
    let base = base_dir.join("results.json");
    std::fs::copy(fixtures().join("results.json"), &base).unwrap();
    let before = std::fs::read(&base).unwrap();
    let new = s.file(
        "new/results.json",
        &String::from_utf8(before.clone()).unwrap(),
    );
    let o = trek()
        .arg("compare")
        .arg(&base)
        .arg(&new)
        .arg("--out")
        .arg(&base_dir)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(
        std::fs::read(&base).unwrap(),
        before,
        "the baseline is untouched"
    );
    assert!(base_dir.join("summary.md").is_file());
}

#[test]
fn a_baseline_puts_the_comparison_into_the_reports() {
    let s = Scratch::new();
    let results = fixtures().join("results.json");
    report(
        &results,
        &s.out(),
        &[
            "--baseline",
            results.to_str().unwrap(),
            "--format",
            "markdown,html",
        ],
    );
    let md = std::fs::read_to_string(s.out().join("summary.md")).unwrap();
    assert!(
        md.contains("**Compared with**") && md.contains("0 regressions"),
        "{md}"
    );
    let html = std::fs::read_to_string(s.out().join("report.html")).unwrap();
    assert!(html.contains("Compared with the baseline"));
}
