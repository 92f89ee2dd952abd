//! Files made to hurt trek, each run bounded in time and under an address
//! space limit (`prlimit --as`), so that a regression fails the test rather
//! than the machine: every one is refused with a diagnostic at its place,
//! in bounded memory, without a crash.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{code, text, wait_with_timeout, Scratch};

/// The address space a `trek validate` may use here: a regression that
/// copies or recurses without limit hits it (a normal validate needs a
/// fraction).
const LIMIT: &str = "--as=1073741824";

/// `trek ARGS` under the limit, killed after 60 s.
fn bounded(args: &[&str], file: &Path) -> std::process::Output {
    let child = Command::new("prlimit")
        .arg(LIMIT)
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_trek"))
        .args(args)
        .arg(file)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("prlimit (util-linux) runs trek");
    let (o, took) = wait_with_timeout(child, Duration::from_secs(60));
    assert!(
        took < Duration::from_secs(60),
        "took {took:?}: {}",
        text(&o)
    );
    o
}

/// Refused cleanly: exit 2 (invalid), the code and the line in the message,
/// no panic, no abort.
fn refused(o: &std::process::Output, code_: &str, line: &str) {
    let all = text(o);
    assert_eq!(code(o), 2, "{all}");
    assert!(all.contains(code_), "{code_} missing: {all}");
    assert!(all.contains(line), "{line} missing: {all}");
    assert!(
        !all.contains("panicked") && !all.contains("overflow"),
        "{all}"
    );
}

#[test]
fn nested_aliases_stop_at_the_node_limit() {
    // "Billion laughs": nine levels of ten aliases each, 578 bytes.
    let mut yaml = String::from("version: 1\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        yaml.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    yaml.push_str("steps:\n  - get: http://127.0.0.1:1/\n");
    let scratch = Scratch::new();
    let file = scratch.file("laughs.yaml", &yaml);
    let o = bounded(&["validate"], &file);
    refused(&o, "E0007", "laughs.yaml:");
}

#[test]
fn lists_nested_ten_thousand_deep_are_refused_at_their_place() {
    // Ten thousand levels: the YAML parser's own limit stops it (E0001).
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let yaml = format!(
        "version: 1\nbase_url: http://127.0.0.1:1\nsteps:\n  - post: /a\n    json: {deep}\n"
    );
    let scratch = Scratch::new();
    let file = scratch.file("deep.yaml", &yaml);
    let o = bounded(&["validate"], &file);
    refused(&o, "E0001", "deep.yaml:5:");
    // Block style, as `- - - …`.
    let mut block =
        String::from("version: 1\nbase_url: http://127.0.0.1:1\nsteps:\n  - post: /a\n    json:\n");
    block.push_str(&format!("      {}x\n", "- ".repeat(10_000)));
    let file = scratch.file("block.yaml", &block);
    let o = bounded(&["validate"], &file);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("block.yaml:6:"), "{}", text(&o));
    // A hundred levels, which the parser takes: trek's limit (64).
    let hundred = format!("{}{}", "[".repeat(100), "]".repeat(100));
    let file = scratch.file(
        "hundred.yaml",
        &format!(
            "version: 1\nbase_url: http://127.0.0.1:1\nsteps:\n  - post: /a\n    json: {hundred}\n"
        ),
    );
    let o = bounded(&["validate"], &file);
    refused(&o, "E0006", "hundred.yaml:5:");
}

#[test]
fn a_map_of_fifty_thousand_keys_reads_in_linear_time() {
    let mut yaml = String::from("version: 1\nbase_url: http://127.0.0.1:1\nvars:\n  big:\n");
    for i in 0..50_000 {
        yaml.push_str(&format!("    key{i}: {i}\n"));
    }
    yaml.push_str("    key7: again\nsteps:\n  - { get: /a, expect: { status: 200 } }\nslo:\n  error_rate: 1%\n");
    let scratch = Scratch::new();
    let file = scratch.file("wide.yaml", &yaml);
    let start = std::time::Instant::now();
    let o = bounded(&["validate"], &file);
    // Quadratic took 12 s for 43,000 keys; linear is well under a second.
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    // The one duplicate is found, at its line.
    refused(&o, "E0004", "wide.yaml:50005:");
}

#[test]
fn devices_and_files_that_never_end_are_refused_without_reading_them() {
    let scratch = Scratch::new();
    let file = scratch.file(
        "t.yaml",
        "version: 1\nbase_url: http://127.0.0.1:1\ninclude: [ /dev/zero ]\nsteps:\n  - get: /a\n",
    );
    let o = bounded(&["validate"], &file);
    refused(&o, "E0302", "not a regular file");
    std::os::unix::fs::symlink("/dev/zero", scratch.dir.path().join("users.csv")).unwrap();
    let file = scratch.file(
        "feeder.yaml",
        "version: 1\nbase_url: http://127.0.0.1:1\ndata:\n  users: { file: users.csv }\nsteps:\n  - get: /a\n",
    );
    let o = bounded(&["validate"], &file);
    refused(&o, "E0301", "not a regular file");
    // The scenario file itself.
    let o = bounded(&["validate"], Path::new("/dev/zero"));
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("not a regular file"), "{}", text(&o));
}

#[test]
fn an_included_file_that_is_not_text_is_refused_without_showing_it() {
    let scratch = Scratch::new();
    let file = scratch.file(
        "t.yaml",
        "version: 1\nbase_url: http://127.0.0.1:1\ninclude: [ /proc/self/environ ]\nsteps:\n  - get: /a\n",
    );
    let child = Command::new("prlimit")
        .arg(LIMIT)
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_trek"))
        .arg("validate")
        .arg(&file)
        .env("TREK_PLANTED_SECRET", "planted-environment-secret")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (o, _) = wait_with_timeout(child, Duration::from_secs(60));
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(
        !text(&o).contains("planted-environment-secret"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("E0302"), "{}", text(&o));
}

#[test]
fn a_long_line_in_a_diagnostic_is_cut_around_its_column() {
    let scratch = Scratch::new();
    let long = "x".repeat(100_000);
    let file = scratch.file(
        "t.yaml",
        &format!(
            "version: 1\nbase_url: http://127.0.0.1:1\nsteps:\n  - {{ get: /a, note: {long} }}\n"
        ),
    );
    let o = bounded(&["validate"], &file);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(
        o.stderr.len() + o.stdout.len() < 4096,
        "{} bytes",
        o.stderr.len()
    );
}

#[test]
fn an_output_folder_that_cannot_be_written_is_refused_before_the_load() {
    let demo = common::demo_target(&[]);
    let scratch = Scratch::new();
    let file = scratch.file(
        "t.yaml",
        &format!("version: 1\nbase_url: {}\nload: {{ vus: 1, iterations: 1 }}\nsteps:\n  - {{ get: /health, expect: {{ status: 200 }} }}\nslo:\n  error_rate: 1%\n", demo.base),
    );
    let o = common::trek()
        .args(["run", "--out", "/proc/trek-cannot-be-here"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("no request was sent"), "{}", text(&o));
    // A report that cannot be written after the load: an error and its own
    // exit code; what could be written is whole, no temporary file stays.
    let out = scratch.dir.path().join("out");
    std::fs::create_dir_all(out.join("report.html")).unwrap();
    let o = common::trek()
        .arg("run")
        .arg("--out")
        .arg(&out)
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(code(&o), 4, "{}", text(&o));
    assert!(
        text(&o).contains("cannot write the reports"),
        "{}",
        text(&o)
    );
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["totals"]["requests"], 1);
    let stray: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
}

#[test]
fn a_step_named_after_its_url_shows_no_password_or_key_anywhere() {
    let demo = common::demo_target(&[]);
    let scratch = Scratch::new();
    let with_secrets = demo
        .base
        .replace("http://", "http://admin:planted-password-1@")
        + "/health?api_key=planted-key-2&sig=planted-sig-3&page=1";
    let file = scratch.file(
        "t.yaml",
        &format!("version: 1\nload: {{ vus: 1, iterations: 2 }}\nsteps:\n  - {{ get: \"{with_secrets}\", expect: {{ status: 201 }} }}\nslo:\n  error_rate: 1%\n"),
    );
    let o = common::trek()
        .arg("run")
        .arg("--out")
        .arg(scratch.out())
        .arg(&file)
        .output()
        .unwrap();
    // The checks fail (status 200, not 201): the failure is reported too.
    assert_eq!(code(&o), 1, "{}", text(&o));
    let mut all = text(&o);
    for f in std::fs::read_dir(scratch.out()).unwrap() {
        all.push_str(&std::fs::read_to_string(f.unwrap().path()).unwrap());
    }
    let plan = common::trek().arg("plan").arg(&file).output().unwrap();
    all.push_str(&text(&plan));
    for planted in ["planted-password-1", "planted-key-2", "planted-sig-3"] {
        assert!(!all.contains(planted), "{planted} shown");
    }
    assert!(
        all.contains("api_key=[hidden]"),
        "the step is still recognisable"
    );
}

#[test]
fn a_tls_failure_says_what_is_wrong_in_words() {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    // A server that presents a CA certificate as its own.
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).unwrap();
    let scratch = Scratch::new();
    let ca = scratch.dir.path().join("ca.pem");
    {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(cert.der());
        let body: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        std::fs::write(
            &ca,
            format!(
                "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
                body.join("\n")
            ),
        )
        .unwrap();
    }
    let (port, _) = common::pki::https_server(common::pki::ServerTls {
        identity: common::pki::Identity {
            chain: vec![cert.der().clone()],
            key: rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        },
        client_ca: None,
        tls12_only: false,
        websocket: false,
    });
    let file = scratch.file(
        "t.yaml",
        &format!("version: 1\nbase_url: https://localhost:{port}\ndefaults: {{ tls: {{ ca: ca.pem }} }}\nload: {{ vus: 1, iterations: 3 }}\nsteps:\n  - {{ get: /a, expect: {{ status: 200 }} }}\nslo:\n  error_rate: 1%\n"),
    );
    let o = common::trek()
        .arg("run")
        .arg("--out")
        .arg(scratch.out())
        .arg(&file)
        .output()
        .unwrap();
    let all = text(&o);
    assert!(all.contains("CA certificate as its own"), "{all}");
    assert!(!all.contains("OtherError"), "{all}");
    assert!(!all.contains("is it running"), "{all}");
}

/// A scenario whose steps sit `n` deep: fragments each holding a group that
/// uses the next.
fn chain(n: usize, base: &str) -> String {
    let mut y =
        format!("version: 1\nbase_url: {base}\nload: {{ vus: 2, iterations: 4 }}\nfragments:\n");
    for i in 0..n {
        let inner = if i + 1 < n {
            format!("{{ use: f{} }}", i + 1)
        } else {
            "{ get: /health, expect: { status: 200 } }".to_string()
        };
        y.push_str(&format!(
            "  f{i}:\n    - {{ group: g{i}, steps: [ {inner} ] }}\n"
        ));
    }
    y.push_str("steps:\n  - use: f0\nslo:\n  error_rate: 1%\n");
    y
}

#[test]
fn steps_nested_past_the_limit_are_refused_and_up_to_it_they_run() {
    let scratch = Scratch::new();
    let file = scratch.file("chain.yaml", &chain(200, "http://127.0.0.1:1"));
    let o = bounded(&["validate"], &file);
    refused(&o, "E0112", "nested more than 32 deep");
    assert!(text(&o).contains("chain.yaml:"), "{}", text(&o));
    // Fifteen fragments of a group each: thirty levels, under the limit,
    // run on the workers' stacks.
    let demo = common::demo_target(&[]);
    let file = scratch.file("fits.yaml", &chain(15, &demo.base));
    let o = bounded(
        &["run", "--quiet", "--out", scratch.out().to_str().unwrap()],
        &file,
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    let results = scratch.results(&o);
    assert_eq!(results["totals"]["requests"], 8);
}

#[test]
fn a_template_that_would_build_a_billion_items_fails_its_step_not_the_run() {
    let demo = common::demo_target(&[]);
    let scratch = Scratch::new();
    let file = scratch.file(
        "t.yaml",
        &format!("version: 1\nbase_url: {}\nload: {{ vus: 1, iterations: 2 }}\nsteps:\n  - {{ name: huge, get: \"/health?x={{{{ [0] * 1000000000 }}}}\", on_fail: continue, expect: {{ status: 200 }} }}\n  - {{ name: joined, post: /health, body: \"{{{{ (['abcdefghij' * 1000] * 100000) | join }}}}\", expect: {{ status: 200 }} }}\nslo:\n  error_rate: 1%\n", demo.base),
    );
    let o = bounded(
        &["run", "--quiet", "--out", scratch.out().to_str().unwrap()],
        &file,
    );
    assert_eq!(code(&o), 1, "{}", text(&o));
    let results = scratch.results(&o);
    let reasons = results["steps"].to_string();
    assert!(reasons.contains("1000000000 items"), "{reasons}");
    assert!(reasons.contains("longer than 16 MB"), "{reasons}");
}

/// The peak resident memory (VmHWM, KB) of `trek run FILE`, read from
/// /proc while it runs.
fn peak_kb(file: &Path, out: &Path) -> u64 {
    let mut child = common::trek()
        .args(["run", "--quiet", "--workers", "2", "--out"])
        .arg(out)
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status) {
            if let Some(kb) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            {
                peak = peak.max(kb);
            }
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    peak
}

#[test]
fn two_thousand_idle_steps_cost_little_per_step_and_worker() {
    let demo = common::demo_target(&[]);
    let scratch = Scratch::new();
    let journey = |idle: usize| {
        let mut y = format!(
            "version: 1\nbase_url: {}\nload: {{ vus: 2, duration: 2s }}\nsteps:\n  - {{ name: only, get: /health, expect: {{ status: 200 }} }}\n",
            demo.base
        );
        for i in 0..idle {
            y.push_str(&format!(
                "  - {{ name: s{i}, when: \"{{{{ iteration < 0 }}}}\", get: /health, expect: {{ status: 200 }} }}\n"
            ));
        }
        y.push_str("slo:\n  error_rate: 1%\n");
        y
    };
    let one = peak_kb(
        &scratch.file("one.yaml", &journey(0)),
        &scratch.dir.path().join("a"),
    );
    let many = peak_kb(
        &scratch.file("many.yaml", &journey(2000)),
        &scratch.dir.path().join("b"),
    );
    assert!(one > 0 && many > 0);
    eprintln!("peak RSS: 1 step {one} KB, 2,001 steps {many} KB");
    let per_step_worker = many.saturating_sub(one) as f64 / (2000.0 * 2.0);
    assert!(
        per_step_worker < 50.0,
        "{per_step_worker:.1} KB per idle step per worker ({one} KB → {many} KB)"
    );
}
