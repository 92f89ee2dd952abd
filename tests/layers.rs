//! Arrows only go down: each top-level module of `src/` may use only the
//! modules listed for it here (the layout in docs/design.md). A `crate::X`
//! that is not allowed fails this test with the file that wrote it, so a
//! lower layer cannot start reaching up unnoticed.

use std::path::{Path, PathBuf};

/// Module → the modules of the crate it may use (itself always).
const ALLOWED: &[(&str, &[&str])] = &[
    // The bottom: used by everyone, using nothing.
    ("diagnostic", &[]),
    ("redact", &[]),
    ("format", &[]),
    ("events", &[]),
    ("template", &[]),
    // The language, the plan, the measurements, the verdict.
    ("scenario", &["diagnostic", "template", "format", "redact"]),
    (
        "plan",
        &["diagnostic", "scenario", "template", "format", "redact"],
    ),
    ("metrics", &["scenario", "redact", "format"]),
    ("verdict", &["metrics", "plan", "scenario", "format"]),
    // What a run publishes while it goes, read from the recorders.
    ("live", &["metrics"]),
    // The runtime records into metrics and tells the console through events;
    // it judges the SLOs that stop a test while it goes (verdict).
    (
        "run",
        &[
            "plan", "metrics", "scenario", "template", "redact", "format", "events", "live",
            "verdict",
        ],
    ),
    // Reports read results; the console reads the runtime's events.
    (
        "report",
        &[
            "metrics", "verdict", "plan", "scenario", "redact", "format", "events",
        ],
    ),
    (
        "schema",
        &[
            "scenario",
            "report",
            "metrics",
            "verdict",
            "plan",
            "diagnostic",
        ],
    ),
    // The embedded demo target stands alone.
    ("demo", &[]),
    // Kubernetes manifests from what the command gathered.
    ("k8s", &[]),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a file names as `crate::X`.
fn used(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inside = &group[..group.find('}').unwrap_or(group.len())];
            out.extend(
                inside
                    .split(',')
                    .map(|s| s.trim().split("::").next().unwrap_or("").to_string()),
            );
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            out.push(name);
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut problems = Vec::new();
    let mut checked = 0;
    for (module, allowed) in ALLOWED {
        let mut files = Vec::new();
        let dir = src.join(module);
        if dir.is_dir() {
            rust_files(&dir, &mut files);
        } else {
            files.push(src.join(format!("{module}.rs")));
        }
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            checked += 1;
            for m in used(&text) {
                if m != *module && !allowed.contains(&m.as_str()) {
                    problems.push(format!(
                        "{} uses crate::{m}, which `{module}` may not",
                        file.strip_prefix(&src).unwrap().display()
                    ));
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} files found");
    problems.sort();
    problems.dedup();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_top_level_module_has_a_place_in_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    for line in lib.lines() {
        if let Some(name) = line
            .strip_prefix("pub mod ")
            .and_then(|l| l.strip_suffix(';'))
        {
            // `cli` is the top: it may use everything.
            assert!(
                name == "cli" || ALLOWED.iter().any(|(m, _)| *m == name),
                "src/{name} is not in tests/layers.rs: say what it may use"
            );
        }
    }
}

#[test]
fn the_reader_of_imports_sees_groups_and_paths() {
    let text = "use crate::metrics::Sample;\nuse crate::{format, redact::is_secret};\nlet x = crate::plan::Plan;";
    assert_eq!(used(text), ["metrics", "format", "redact", "plan"]);
}
