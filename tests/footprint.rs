//! Memory a run needs, checked under an address-space limit so that a
//! regression fails the test instead of exhausting the machine.

mod common;

use common::*;

/// A scenario of 200 request steps on 2 workers once reserved six
/// hour-wide histograms per step and worker (about 1.1 GB). Histograms now
/// hold only what was recorded, so the run fits in 400 MB of address space
/// (most of which is thread stacks and allocator arenas, not data).
#[test]
fn two_hundred_steps_on_two_workers_fit_in_400_mb_of_address_space() {
    let server = recorder();
    let s = Scratch::new();
    let mut yaml = format!(
        "version: 1\nbase_url: {}\nload: {{ vus: 2, iterations: 2 }}\nsteps:\n",
        server.base
    );
    for i in 0..200 {
        yaml.push_str(&format!("  - {{ name: s{i}, get: /s{i} }}\n"));
    }
    let file = s.file("steps.yaml", &yaml);
    let out = std::process::Command::new("prlimit")
        .arg(format!("--as={}", 400u64 << 20))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_trek"))
        .arg("run")
        .arg(&file)
        .args(["--workers", "2", "--quiet", "--out"])
        .arg(s.out())
        .output()
        .expect("prlimit (util-linux) runs");
    assert_eq!(code(&out), 0, "{}", text(&out));
    let r = s.results(&out);
    assert_eq!(r["totals"]["requests"], 800);
}
