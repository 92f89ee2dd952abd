//! Reports: golden files of the text formats rendered from a fixed
//! results.json, `trek report` reproducing a run's files, JUnit read back
//! by a JUnit parser, `--format`, `trek compare` on an injected regression
//! and on an unchanged run, and the HTML report opened in headless Chromium
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
    format!(
        "version: 1\nbase_url: {base}\nload: {{ rate: 100/s, duration: 3s, max_vus: 50 }}\nsteps:\n  - name: login\n    post: /api/auth/login\n    json: {{ email: \"qa{{{{ vu }}}}@acme.test\", password: secret }}\n    expect: {{ status: 200 }}\n    capture: {{ token: $.access_token }}\n  - name: me\n    get: /api/me\n    headers: {{ authorization: \"Bearer {{{{ token }}}}\" }}\n    expect: {{ status: 200 }}\nslo:\n  latency: {{ p95: 2s }}\n"
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

#[test]
fn compare_flags_an_injected_regression_and_passes_an_unchanged_run() {
    // A target that takes 50 ms, so that a busy test machine's scheduling
    // noise (a few ms) stays well inside 10% of p95; then the same target
    // three times slower.
    let fast = demo_target(&["--latency", "50ms"]);
    let slow = demo_target(&["--latency", "150ms"]);
    let runs = Scratch::new();
    let mut results = Vec::new();
    for (name, base) in [("a", &fast.base), ("b", &fast.base), ("slow", &slow.base)] {
        // Same file name: steps are matched by scenario (the file's stem) and name.
        let file = runs.file(&format!("{name}/journey.yaml"), &journey(base));
        let out_dir = runs.dir.path().join(format!("out-{name}"));
        let o = trek()
            .arg("run")
            .arg(&file)
            .args(["--quiet", "--seed", "5", "--out"])
            .arg(&out_dir)
            .output()
            .unwrap();
        assert_eq!(code(&o), 0, "{name}: {}", text(&o));
        results.push(out_dir.join("results.json"));
    }
    let cmp = |base: &Path, new: &Path, extra: &[&str]| {
        trek()
            .arg("compare")
            .arg(base)
            .arg(new)
            .args(extra)
            .output()
            .unwrap()
    };
    // The same threshold for both comparisons, wide enough for a busy CI
    // machine (two identical runs have differed by +17% in p95 while other
    // tests ran beside them) and far below the injected +200%.
    let unchanged = cmp(&results[0], &results[1], &["--fail-on", "p95:+50%"]);
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
        &["--fail-on", "p95:+50%", "--out", out.to_str().unwrap()],
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
