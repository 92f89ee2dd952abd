//! Snapshot tests of diagnostics: each file in `tests/fixtures/invalid/` is
//! named after the code it must produce, and `NAME.expected` holds what
//! `trek validate NAME.yaml` prints. Adding a case is adding two files; run
//! with `TREK_BLESS=1` to write the expected output of new cases.

mod common;

use std::path::Path;

use common::*;

#[test]
fn every_fixture_gives_its_code_at_its_place() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/invalid");
    let bless = std::env::var_os("TREK_BLESS").is_some();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "fixtures missing");
    let mut mismatches = Vec::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let code_id = name.split('-').next().unwrap();
        let out = trek()
            .env("TREK_FIXTURE_SURELY_UNSET", "")
            .env_remove("TREK_FIXTURE_SURELY_UNSET")
            .arg("validate")
            .arg(&name)
            .current_dir(&dir)
            .output()
            .unwrap();
        let rendered = String::from_utf8_lossy(&out.stderr).into_owned();
        let warning = code_id.starts_with('W');
        assert_eq!(
            code(&out),
            if warning { 0 } else { 2 },
            "{name}: {}",
            text(&out)
        );
        let label = if warning { "warning" } else { "error" };
        assert!(
            rendered.contains(&format!("{label}[{code_id}]")),
            "{name} must report {code_id}:\n{rendered}"
        );
        assert!(
            rendered.contains(&format!("--> {name}:")) || rendered.contains("--> include/"),
            "{name}: no file:line:col\n{rendered}"
        );
        let expected_path = dir.join(name.replace(".yaml", ".expected"));
        if bless {
            std::fs::write(&expected_path, &rendered).unwrap();
        } else {
            let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
            if expected != rendered {
                mismatches.push(format!(
                    "{name}\n--- expected\n{expected}\n--- got\n{rendered}"
                ));
            }
        }
        if warning {
            let strict = trek()
                .args(["validate", "--deny-warnings", &name])
                .current_dir(&dir)
                .output()
                .unwrap();
            assert_eq!(code(&strict), 2, "{name} with --deny-warnings");
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n\n"));
}

#[test]
fn a_file_that_cannot_be_read_is_an_error_too() {
    let out = trek()
        .args(["validate", "no/such/file.yaml"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read `no/such/file.yaml`"));
}

#[test]
fn every_documented_code_has_a_fixture_and_every_code_is_documented() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let docs = std::fs::read_to_string(root.join("docs/diagnostics.md")).unwrap();
    let documented: Vec<&str> = docs
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(' ').next())
        .filter(|c| c.len() == 5 && (c.starts_with('E') || c.starts_with('W')))
        .collect();
    assert!(documented.len() >= 25, "{documented:?}");
    let fixtures: Vec<String> = std::fs::read_dir(root.join("tests/fixtures/invalid"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for code in &documented {
        // E0005 (unreadable file) has its own test above; W0004 (a part
        // with nothing to do) needs `--parts`, and has its own in
        // tests/distributed.rs.
        if *code == "E0005" || *code == "W0004" {
            continue;
        }
        assert!(
            fixtures.iter().any(|f| f.starts_with(code)),
            "{code} is documented but has no fixture"
        );
    }
    // Every source file of the reader and the compiler.
    let mut sources = vec![root.join("src/scenario/reader.rs")];
    let compile = root.join("src/plan/compile");
    sources.extend(
        std::fs::read_dir(&compile)
            .unwrap()
            .map(|e| e.unwrap().path()),
    );
    assert!(sources.len() > 5, "{sources:?}");
    for file in sources {
        let text = std::fs::read_to_string(&file).unwrap();
        let file = file.display();
        for (i, _) in text.match_indices("\"E0").chain(text.match_indices("\"W0")) {
            let code = &text[i + 1..i + 6];
            assert!(
                documented.contains(&code),
                "{code} (in {file}) is not in docs/diagnostics.md"
            );
        }
    }
}
