//! `tls:` settings against TLS servers the tests start with certificates
//! they make: a private CA (`ca`), `insecure`, a server that asks for a
//! client certificate (`client_cert`, `client_key`), `server_name`,
//! `min_version`, an expired certificate; each failure names the host and
//! the reason. Over https:// and wss:// alike.

mod common;

use common::pki::{https_server, Pki, ServerTls};
use common::*;

/// The failure reasons of step `name`.
fn reasons(r: &serde_json::Value, name: &str) -> Vec<String> {
    step(r, name)["failure_reasons"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// Runs one user for `iterations` GETs of `url` with `tls` (a YAML map)
/// and returns the exit code and the results.
fn get(s: &Scratch, name: &str, url: &str, tls: &str, iterations: u32) -> (i32, serde_json::Value) {
    let file = s.file(
        &format!("{name}.yaml"),
        &format!(
            "version: 1\nload: {{ vus: 1, iterations: {iterations} }}\ndefaults:\n  tls: {tls}\nsteps:\n  - name: page\n    get: {url}\n    expect: {{ body: {{ contains: hello }} }}\n"
        ),
    );
    let out = run(s, &file, &[]);
    let results = s.results(&out);
    (code(&out), results)
}

fn ok(r: &serde_json::Value, n: u64) {
    let st = step(r, "page");
    assert_eq!(
        (st["count"].as_u64(), st["failures"].as_u64()),
        (Some(n), Some(0)),
        "{st:#}"
    );
}

fn failed_with(code: i32, r: &serde_json::Value, words: &[&str]) {
    assert_ne!(code, 0, "{r:#}");
    let why = reasons(r, "page");
    assert_eq!(why.len(), 1, "{why:?}");
    for w in words {
        assert!(why[0].contains(w), "`{w}` not in {why:?}");
    }
}

#[test]
fn a_private_ca_is_refused_by_default_and_trusted_with_ca_or_insecure() {
    let s = Scratch::new();
    let pki = Pki::new(s.dir.path());
    let (port, handshakes) = https_server(ServerTls {
        identity: pki.server(&["127.0.0.1", "localhost"], false),
        client_ca: None,
        tls12_only: false,
        websocket: false,
    });
    let url = format!("https://127.0.0.1:{port}/");

    let (code, r) = get(&s, "default", &url, "{}", 1);
    failed_with(
        code,
        &r,
        &["127.0.0.1", "certificate signed by unknown authority"],
    );

    // With the CA, five requests of one user go on one connection.
    let before = handshakes.total();
    let (code, r) = get(&s, "ca", &url, "{ ca: ca.pem }", 5);
    assert_eq!(code, 0, "{r:#}");
    ok(&r, 5);
    assert_eq!(handshakes.total() - before, 1, "one user, one connection");

    // A new connection resumes the TLS session of an earlier one (each
    // request here asks for its connection to be closed after it).
    let file = s.file(
        "many.yaml",
        &format!("version: 1\nload: {{ vus: 1, iterations: 4 }}\ndefaults: {{ tls: {{ ca: ca.pem }}, headers: {{ connection: close }} }}\nsteps:\n  - name: page\n    get: {url}\n"),
    );
    let before = handshakes.resumed.load(std::sync::atomic::Ordering::SeqCst);
    let out = run(&s, &file, &[]);
    assert_eq!(common::code(&out), 0, "{}", text(&out));
    let resumed = handshakes.resumed.load(std::sync::atomic::Ordering::SeqCst) - before;
    assert!(resumed >= 3, "{resumed} of 4 connections resumed a session");

    let (code, r) = get(&s, "insecure", &url, "{ insecure: true }", 2);
    assert_eq!(code, 0, "{r:#}");
    ok(&r, 2);

    // The name checked is `server_name`'s, which this certificate is not for.
    let (code, r) = get(
        &s,
        "name",
        &url,
        "{ ca: ca.pem, server_name: other.test }",
        1,
    );
    failed_with(code, &r, &["other.test", "name mismatch"]);
}

#[test]
fn an_expired_certificate_says_so() {
    let s = Scratch::new();
    let pki = Pki::new(s.dir.path());
    let (port, _) = https_server(ServerTls {
        identity: pki.server(&["127.0.0.1"], true),
        client_ca: None,
        tls12_only: false,
        websocket: false,
    });
    let (code, r) = get(
        &s,
        "expired",
        &format!("https://127.0.0.1:{port}/"),
        "{ ca: ca.pem }",
        1,
    );
    failed_with(code, &r, &["certificate expired"]);
}

#[test]
fn mutual_tls_needs_the_client_certificate() {
    let s = Scratch::new();
    let pki = Pki::new(s.dir.path());
    let (port, _) = https_server(ServerTls {
        identity: pki.server(&["127.0.0.1"], false),
        client_ca: Some(pki.ca_der.clone()),
        tls12_only: false,
        websocket: false,
    });
    let url = format!("https://127.0.0.1:{port}/");
    let (code, r) = get(&s, "without", &url, "{ ca: ca.pem }", 1);
    failed_with(code, &r, &["client certificate"]);
    let (code, r) = get(
        &s,
        "with",
        &url,
        "{ ca: ca.pem, client_cert: client.pem, client_key: client.key }",
        3,
    );
    assert_eq!(code, 0, "{r:#}");
    ok(&r, 3);
}

#[test]
fn min_version_refuses_an_older_server() {
    let s = Scratch::new();
    let pki = Pki::new(s.dir.path());
    let (port, _) = https_server(ServerTls {
        identity: pki.server(&["127.0.0.1"], false),
        client_ca: None,
        tls12_only: true,
        websocket: false,
    });
    let url = format!("https://127.0.0.1:{port}/");
    let (code, r) = get(&s, "any", &url, "{ ca: ca.pem }", 1);
    assert_eq!(code, 0, "TLS 1.2 is allowed by default: {r:#}");
    let (code, r) = get(&s, "new", &url, "{ ca: ca.pem, min_version: \"1.3\" }", 1);
    failed_with(code, &r, &["TLS versions allowed", "min_version"]);
}

#[test]
fn a_missing_certificate_file_is_named_at_load_time() {
    let s = Scratch::new();
    let file = s.file(
        "t.yaml",
        "version: 1\ndefaults:\n  tls: { ca: nowhere.pem, client_cert: client.pem }\nsteps:\n  - get: https://127.0.0.1:1/\n",
    );
    let out = trek().arg("validate").arg(&file).output().unwrap();
    assert_eq!(code(&out), 2, "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("E0303"), "{t}");
    assert!(t.contains("nowhere.pem"), "{t}");
    assert!(t.contains("t.yaml:3:"), "{t}");
    assert!(t.contains("`client_cert` needs `client_key`"), "{t}");
}

#[test]
fn wss_takes_the_same_settings() {
    let s = Scratch::new();
    let pki = Pki::new(s.dir.path());
    let (port, _) = https_server(ServerTls {
        identity: pki.server(&["127.0.0.1"], false),
        client_ca: Some(pki.ca_der.clone()),
        tls12_only: false,
        websocket: true,
    });
    let chat = |name: &str, tls: &str| {
        let file = s.file(
            &format!("{name}.yaml"),
            &format!(
                "version: 1\nload: {{ vus: 1, iterations: 2 }}\nsteps:\n  - name: page\n    websocket: wss://127.0.0.1:{port}/\n    tls: {tls}\n    actions:\n      - receive: {{ match: hello, timeout: 5s }}\n"
            ),
        );
        let out = run(&s, &file, &[]);
        (code(&out), s.results(&out))
    };
    let (code, r) = chat(
        "unknown",
        "{ client_cert: client.pem, client_key: client.key }",
    );
    failed_with(
        code,
        &r,
        &["127.0.0.1", "certificate signed by unknown authority"],
    );
    let (code, r) = chat("nocert", "{ ca: ca.pem }");
    failed_with(code, &r, &["client certificate"]);
    let (code, r) = chat(
        "name",
        "{ ca: ca.pem, server_name: other.test, client_cert: client.pem, client_key: client.key }",
    );
    failed_with(code, &r, &["name mismatch"]);
    let (code, r) = chat(
        "ok",
        "{ ca: ca.pem, client_cert: client.pem, client_key: client.key }",
    );
    assert_eq!(code, 0, "{r:#}");
    ok(&r, 2);
}
