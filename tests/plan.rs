//! `trek plan`: golden files of each format for a journey with every kind of
//! step (`TREK_BLESS=1` rewrites them), the Graphviz output checked by
//! Graphviz itself, and the Mermaid output checked for consistency.

mod common;

use std::collections::HashSet;
use std::path::Path;

use common::*;

fn dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plan")
}

fn plan(format: &str) -> String {
    let out = trek()
        .args(["plan", "--format", format, "shop.yaml"])
        .current_dir(dir())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(out.stderr.is_empty(), "{}", text(&out));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn each_format_matches_its_golden_file() {
    let bless = std::env::var_os("TREK_BLESS").is_some();
    for (format, ext) in [("text", "txt"), ("mermaid", "mmd"), ("dot", "dot")] {
        let got = plan(format);
        let golden = dir().join(format!("shop.{ext}"));
        if bless {
            std::fs::write(&golden, &got).unwrap();
        }
        let expected = std::fs::read_to_string(&golden).unwrap_or_default();
        assert_eq!(got, expected, "{format} differs from {}", golden.display());
    }
}

#[test]
fn the_text_tree_shows_loads_slos_and_data_flow() {
    let t = plan("text");
    for line in [
        "scenario buyers  (constant-vus: 10 users for 60s)",
        "  SLOs: iteration p95 ≤5s; error_rate ≤1%",
        "  ├─ home  group, in parallel",
        "  │     SLO latency p95 ≤300ms warn, ≤1s fail",
        "             writes token",
        "  │  · branch 75%",
        "scenario browsers  (constant-arrival-rate: 30/m for 2m00s, at most 5 users)",
        "\nsetup  (once, before the load; its captures are setup.*)\n  ├─ admin  POST /api/auth/login",
        "  before  (once per user, kept for all its iterations)\n    └─ use login",
        "  each iteration\n    ├─ stock_level  GET /api/stock/{{ setup.stock_id }}",
        "  after  (once per user)\n    └─ bye  POST /api/auth/logout",
        "\nteardown  (once, after the load)\n  └─ unstock",
    ] {
        assert!(t.contains(line), "missing `{line}` in\n{t}");
    }
    // `token` is written by login before anything reads it.
    let written = t.find("writes token").unwrap();
    let read = t.find("reads token").unwrap();
    assert!(written < read, "{t}");
    // The lifecycle in the order it runs.
    let at = |s: &str| t.find(s).unwrap_or_else(|| panic!("no `{s}` in {t}"));
    assert!(
        at("\nsetup  ") < at("\nscenario buyers") && at("\nscenario browsers") < at("\nteardown  ")
    );
}

#[test]
fn graphviz_accepts_the_dot_output() {
    let dot = plan("dot");
    let mut child = std::process::Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("Graphviz `dot` (installed by scripts/test)");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(dot.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = String::from_utf8_lossy(&out.stdout);
    assert!(svg.contains("<svg"), "{svg}");
    assert!(svg.contains("POST /api/auth/login"), "{svg}");
}

#[test]
fn the_mermaid_output_is_consistent() {
    let m = plan("mermaid");
    assert!(m.starts_with("flowchart TD\n"));
    let opened = m
        .lines()
        .filter(|l| l.trim_start().starts_with("subgraph "))
        .count();
    let closed = m.lines().filter(|l| l.trim() == "end").count();
    assert_eq!(opened, closed, "{m}");
    let declared: HashSet<&str> = m
        .lines()
        .filter_map(|l| l.trim_start().split_once("[\""))
        .map(|(id, _)| id)
        .collect();
    let mut edges = 0;
    for line in m
        .lines()
        .filter(|l| l.contains("-->") || l.contains("-.->"))
    {
        edges += 1;
        let ids: Vec<&str> = line
            .split_whitespace()
            .filter(|w| w.starts_with('n') && w[1..].chars().all(|c| c.is_ascii_digit()))
            .collect();
        assert_eq!(ids.len(), 2, "{line}");
        for id in ids {
            assert!(declared.contains(id), "{id} is not declared: {line}");
        }
    }
    // Every step is a node, joined in order: at least as many edges as steps.
    assert!(edges >= 12, "{m}");
    assert!(
        m.contains("-.->|\"again\"|"),
        "loops draw their way back: {m}"
    );
    assert!(
        m.contains("-->|\"75%\"|"),
        "choose branches carry their share: {m}"
    );
    assert!(
        !m.contains("\"\"") || m.contains("#quot;"),
        "quotes are escaped: {m}"
    );
}

#[test]
fn an_invalid_file_is_not_drawn() {
    let s = Scratch::new();
    let file = s.file(
        "bad.yaml",
        "version: 1\nsteps:\n  - get: /a\n    expct: 1\n",
    );
    let out = trek().arg("plan").arg(&file).output().unwrap();
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert!(out.stdout.is_empty());
}
