//! The console while a run goes: on a terminal, one line per scenario
//! rewritten in place each second; piped, plain lines every few seconds.

mod common;

use std::process::Command;

use common::{code, demo_target, text, trek, Scratch};

fn two_scenarios(base: &str) -> String {
    format!(
        "version: 1\nbase_url: {base}\nscenarios:\n  browse:\n    load: {{ vus: 3, duration: 3s }}\n    steps:\n      - {{ name: health, get: /health, expect: {{ status: 200 }} }}\n      - think: 50ms\n  buy:\n    load: {{ rate: 20/s, duration: 3s, max_vus: 5 }}\n    steps:\n      - {{ name: health2, get: /health, expect: {{ status: 200 }} }}\nslo:\n  error_rate: 1%\n"
    )
}

#[test]
fn on_a_terminal_each_scenario_has_a_line_rewritten_in_place() {
    let demo = demo_target(&[]);
    let scratch = Scratch::new();
    let file = scratch.file("t.yaml", &two_scenarios(&demo.base));
    let command = format!(
        "{} run {} --out {} --format json",
        env!("CARGO_BIN_EXE_trek"),
        file.display(),
        scratch.out().display()
    );
    // `script` gives trek a pseudo-terminal and keeps what it drew.
    let o = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("NO_COLOR")
        .env("TERM", "xterm")
        .output()
        .expect("`script` (util-linux) runs");
    assert_eq!(code(&o), 0, "{}", text(&o));
    let screen = String::from_utf8_lossy(&o.stdout).into_owned();
    for line in [
        "browse  00:01/00:03  3 users",
        "browse  00:02/00:03  3 users",
        "buy  00:01/00:03",
    ] {
        assert!(screen.contains(line), "no `{line}` in {screen:?}");
    }
    // The second second's lines were drawn over the first's: back up one
    // line (two scenarios) and clear to the end of the screen.
    let later = screen.find("browse  00:02/00:03").unwrap();
    assert!(screen[..later].ends_with("\r\x1b[1A\x1b[J"), "{screen:?}");
    assert!(screen[later..].contains("p95 "), "{screen:?}");
}

#[test]
fn piped_the_progress_is_plain_lines() {
    let demo = demo_target(&[]);
    let scratch = Scratch::new();
    let file = scratch.file("t.yaml", &two_scenarios(&demo.base));
    let o = trek()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(scratch.out())
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("\nbrowse  00:01/00:03  3 users"), "{err}");
    assert!(err.contains("\nbuy  00:01/00:03"), "{err}");
    assert!(!err.contains('\x1b'), "{err:?}");
    let quiet = trek()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(scratch.out())
        .arg("--quiet")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("browse  00:"));
}
