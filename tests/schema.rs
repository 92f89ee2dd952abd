//! The JSON Schemas: the checked-in files are what the code generates, the
//! schema is valid and accepts every bundled scenario (checked by a real
//! JSON Schema validator, Python's `jsonschema`), rejects a mistake, and a
//! real results.json conforms to the results schema.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn generated(args: &[&str]) -> String {
    let out = trek().arg("schema").args(args).output().unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn checked_in_schemas_and_reference_are_what_the_code_generates() {
    for (args, file) in [
        (
            &["--format", "scenario"][..],
            "schemas/scenario.schema.json",
        ),
        (&["--format", "results"][..], "schemas/results.schema.json"),
        (&["--format", "reference"][..], "docs/keys.md"),
    ] {
        let on_disk = std::fs::read_to_string(root().join(file)).unwrap_or_default();
        assert!(
            on_disk == generated(args),
            "{file} is out of date: run `cargo run -- schema --write .` and commit the result"
        );
    }
}

/// Validates YAML (or JSON) files against a schema with Python's
/// `jsonschema`; prints one line per problem and exits 1 if any.
const VALIDATE: &str = r#"
import json, sys, yaml, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
bad = 0
for path in sys.argv[2:]:
    doc = yaml.safe_load(open(path))
    for e in validator.iter_errors(doc):
        bad += 1
        print(f"{path}: {'/'.join(map(str, e.absolute_path))}: {e.message}")
sys.exit(1 if bad else 0)
"#;

fn python() -> Option<String> {
    std::env::var("TREK_TEST_PYTHON").ok()
}

fn validate(schema: &str, files: &[PathBuf]) -> std::process::Output {
    let python = python().expect("TREK_TEST_PYTHON (set by scripts/test)");
    Command::new(python)
        .arg("-c")
        .arg(VALIDATE)
        .arg(root().join(schema))
        .args(files)
        .output()
        .unwrap()
}

fn bundled() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = ["scenarios", "examples"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(root().join(dir)).into_iter().flatten())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_bundled_scenario_names_the_schema_and_conforms_to_it() {
    let files = bundled();
    assert!(files.len() >= 3, "{files:?}");
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let first = text.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("# yaml-language-server: $schema=")
                && first.ends_with("schemas/scenario.schema.json"),
            "{} must start with the yaml-language-server modeline",
            f.display()
        );
    }
    // The starters `trek init` writes, too.
    let s = Scratch::new();
    let mut all = files.clone();
    for template in ["journey", "crud", "streaming"] {
        let out = trek()
            .args(["init", "--template", template, template])
            .current_dir(s.dir.path())
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "{}", text(&out));
        all.push(s.dir.path().join(format!("{template}.yaml")));
    }
    let out = validate("schemas/scenario.schema.json", &all);
    assert_eq!(code(&out), 0, "{}", text(&out));
}

#[test]
fn the_schema_rejects_an_unknown_key_and_a_bad_duration() {
    let s = Scratch::new();
    let typo = s.file(
        "typo.yaml",
        "version: 1\nsteps:\n  - get: /health\n    expct: { status: 200 }\n",
    );
    let out = validate("schemas/scenario.schema.json", &[typo]);
    assert_eq!(code(&out), 1, "{}", text(&out));
    let duration = s.file(
        "duration.yaml",
        "version: 1\ndefaults: { timeout: 3 seconds }\nsteps:\n  - get: /health\n",
    );
    let out = validate("schemas/scenario.schema.json", &[duration]);
    assert_eq!(code(&out), 1, "{}", text(&out));
    assert!(text(&out).contains("timeout"), "{}", text(&out));
}

#[test]
fn a_real_results_file_conforms_to_the_results_schema() {
    let demo = demo_target(&[]);
    let s = Scratch::new();
    let file = s.file(
        "t.yaml",
        &format!(
            "base_url: {}\nload: {{ vus: 2, iterations: 3 }}\nsteps:\n  - get: /health\n    expect: {{ status: 200 }}\n    slo: {{ latency: {{ p95: 1s }} }}\n",
            demo.base
        ),
    );
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let out = validate(
        "schemas/results.schema.json",
        &[s.out().join("results.json")],
    );
    assert_eq!(code(&out), 0, "{}", text(&out));
}
