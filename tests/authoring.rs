//! Authoring: `include:` across files, one-pass diagnostics, and
//! `trek validate --format json`.

mod common;

use common::*;

/// A fragment library two levels deep: main → auth → common.
fn library(s: &Scratch) {
    s.file(
        "lib/common.yaml",
        "fragments:\n  health:\n    - name: health\n      get: /health\n      expect: { status: 200 }\n",
    );
    s.file(
        "lib/auth.yaml",
        "include: [ common.yaml ]\nfragments:\n  login:\n    - name: login\n      post: /api/auth/login\n      json: { email: \"{{ email }}\", password: secret }\n      expect: { status: 200 }\n      capture: { token: $.access_token }\n",
    );
}

#[test]
fn included_fragments_run_and_their_captures_flow_on() {
    let demo = demo_target(&[]);
    let s = Scratch::new();
    library(&s);
    let file = s.file(
        "main.yaml",
        &format!(
            "version: 1\nbase_url: {}\ninclude: [ lib/auth.yaml ]\nload: {{ vus: 2, iterations: 3 }}\nsteps:\n  - use: health\n  - use: login\n    with: {{ email: \"user{{{{ vu }}}}@acme.test\" }}\n  - name: dashboard\n    get: /api/dashboard\n    headers: {{ Authorization: \"Bearer {{{{ token }}}}\" }}\n    expect: {{ status: 200 }}\n",
            demo.base
        ),
    );
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let r = s.results(&out);
    for name in ["health", "login", "dashboard"] {
        assert_eq!(step(&r, name)["count"], 6, "{name}");
        assert_eq!(step(&r, name)["failures"], 0, "{name}");
    }
}

#[test]
fn a_mistake_in_an_included_file_is_reported_in_that_file() {
    let s = Scratch::new();
    s.file(
        "lib/broken.yaml",
        "fragments:\n  login:\n    - name: login\n      post: /api/auth/login\n      expct: { status: 200 }\n",
    );
    let file = s.file(
        "main.yaml",
        "version: 1\nbase_url: http://127.0.0.1:9\ninclude: [ lib/broken.yaml ]\nsteps:\n  - use: login\n",
    );
    let out = trek().arg("validate").arg(&file).output().unwrap();
    assert_eq!(code(&out), 2, "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("error[E0101]"), "{err}");
    assert!(err.contains("broken.yaml:5:7"), "{err}");
    assert!(err.contains("did you mean `expect`?"), "{err}");
}

#[test]
fn a_fragment_library_validates_on_its_own_but_does_not_run() {
    let s = Scratch::new();
    library(&s);
    let lib = s.dir.path().join("lib/auth.yaml");
    let out = trek().arg("validate").arg(&lib).output().unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(text(&out).contains("fragments only"), "{}", text(&out));
    let out = trek().arg("run").arg(&lib).output().unwrap();
    assert_eq!(code(&out), 2, "{}", text(&out));
}

#[test]
fn a_fragment_defined_twice_across_files_is_an_error() {
    let s = Scratch::new();
    library(&s);
    let file = s.file(
        "main.yaml",
        "version: 1\nbase_url: http://127.0.0.1:9\ninclude: [ lib/auth.yaml ]\nfragments:\n  health:\n    - get: /health\n      expect: { status: 200 }\nsteps:\n  - use: health\n",
    );
    let out = trek().arg("validate").arg(&file).output().unwrap();
    assert_eq!(code(&out), 2, "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("fragment `health` is defined twice"), "{err}");
    assert!(err.contains("main.yaml:5:3"), "{err}");
    assert!(err.contains("common.yaml:2:3"), "{err}");
}

#[test]
fn every_problem_of_a_file_is_reported_in_one_pass() {
    let s = Scratch::new();
    let file = s.file(
        "t.yaml",
        "version: 1\nbase_url: http://127.0.0.1:9\nsteps:\n  - name: a\n    get: /a\n    expct: { status: 200 }\n    capture: { token: $.token }\n  - name: b\n    get: \"/b/{{ tokn }}\"\n    timeout: soon\n    expect: { status: 200, json: { \"$[\": { eq: 1 } } }\n",
    );
    let out = trek()
        .args(["validate", "--format", "json"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    let diags = v["files"][0]["diagnostics"].as_array().unwrap();
    let codes: Vec<&str> = diags.iter().map(|d| d["code"].as_str().unwrap()).collect();
    // Shape (E0101, E0104) and compile-stage (E0202, E0203) problems together,
    // in file order; `token` is not reported, though its step has an error.
    assert_eq!(codes, ["E0101", "E0202", "E0104", "E0203"], "{diags:#?}");
    assert_eq!(diags[0]["line"], 6);
    assert_eq!(diags[0]["column"], 5);
    assert_eq!(diags[0]["help"], "did you mean `expect`?");
    assert!(diags[1]["message"].as_str().unwrap().contains("tokn"));
}

#[test]
fn names_are_checked_in_the_order_steps_run() {
    let s = Scratch::new();
    let ok = s.file(
        "ok.yaml",
        "version: 1\nbase_url: http://127.0.0.1:9\nsteps:\n  - get: \"/first/{{ a | default('none') }}\"\n    expect: { status: 200 }\n  - repeat: 2\n    steps:\n      - get: \"/next/{{ cursor | default('') }}\"\n        expect: { status: 200 }\n      - get: /page\n        expect: { status: 200 }\n        capture: { cursor: $.next }\n  - group: page\n    parallel:\n      - get: /a\n        expect: { status: 200 }\n        capture: { a: $.id }\n      - get: /b\n        expect: { status: 200 }\n  - get: \"/after/{{ a }}\"\n    expect: { status: 200 }\n",
    );
    let out = trek().arg("validate").arg(&ok).output().unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out));
    let bad = s.file(
        "bad.yaml",
        "version: 1\nbase_url: http://127.0.0.1:9\nsteps:\n  - group: page\n    parallel:\n      - get: /a\n        expect: { status: 200 }\n        capture: { a: $.id }\n      - get: \"/b/{{ a }}\"\n        expect: { status: 200 }\n",
    );
    let out = trek().arg("validate").arg(&bad).output().unwrap();
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert!(
        text(&out).contains("`a` is not defined yet"),
        "{}",
        text(&out)
    );
}

#[test]
fn warnings_pass_unless_denied() {
    let s = Scratch::new();
    let file = s.file(
        "t.yaml",
        "version: 1\nbase_url: http://127.0.0.1:9\nsteps:\n  - get: /health\nslo: { error_rate: 1% }\n",
    );
    let out = trek()
        .args(["validate", "--format", "json"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["files"][0]["warnings"], 1);
    assert_eq!(v["files"][0]["diagnostics"][0]["code"], "W0002");
    let out = trek()
        .args(["validate", "--deny-warnings"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", text(&out));
}

#[test]
fn init_writes_starters_that_validate_clean_and_pass_against_the_demo() {
    let demo = demo_target(&[]);
    for template in ["journey", "crud", "streaming"] {
        let s = Scratch::new();
        let out = trek()
            .args(["init", "--template", template, "my_test"])
            .current_dir(s.dir.path())
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "{template}: {}", text(&out));
        let file = s.dir.path().join("my_test.yaml");
        let written = std::fs::read_to_string(&file).unwrap();
        assert!(
            written.starts_with("# yaml-language-server: $schema=trek.schema.json\n"),
            "{template}"
        );
        assert!(written.contains("trek run my_test.yaml"), "{template}");
        let schema = std::fs::read_to_string(s.dir.path().join("trek.schema.json")).unwrap();
        let generated = trek().arg("schema").output().unwrap();
        assert_eq!(schema.as_bytes(), generated.stdout, "{template}");

        let out = trek().arg("validate").arg(&file).output().unwrap();
        assert_eq!(code(&out), 0, "{template}: {}", text(&out));
        assert!(
            out.stderr.is_empty(),
            "{template}: no warnings: {}",
            text(&out)
        );

        // As written, but on the demo's free port and for a short while.
        let out = run(&s, &file, &["--base-url", &demo.base, "--duration", "2s"]);
        assert_eq!(code(&out), 0, "{template}: {}", text(&out));
        let r = s.results(&out);
        assert_eq!(r["verdict"], "pass", "{template}");
        assert_eq!(r["totals"]["failures"], 0, "{template}: {}", text(&out));
        assert!(r["totals"]["requests"].as_u64().unwrap() >= 3, "{template}");
    }
}

#[test]
fn init_does_not_overwrite_a_file_unless_forced() {
    let s = Scratch::new();
    let file = s.file("mine.yaml", "# my own work\n");
    let out = trek()
        .args(["init", "mine"])
        .current_dir(s.dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "# my own work\n");
    let out = trek()
        .args(["init", "mine.yaml", "--force"])
        .current_dir(s.dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(std::fs::read_to_string(&file)
        .unwrap()
        .contains("version: 1"));
}

#[test]
fn the_readme_example_validates_clean() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    let start = readme
        .find("```yaml\nversion: 1\n")
        .expect("an example in README.md")
        + 8;
    let end = start + readme[start..].find("```").unwrap();
    let s = Scratch::new();
    let file = s.file("readme.yaml", &readme[start..end]);
    let out = trek().arg("validate").arg(&file).output().unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(out.stderr.is_empty(), "no warnings: {}", text(&out));
}
