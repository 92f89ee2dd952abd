//! HTTP/2: over TLS against Debian's nginx (`http_version: http2`, and
//! `auto` choosing it when offered), cleartext with prior knowledge (`h2c`)
//! against a hyper server the test runs; a `parallel:` group goes on the
//! user's one connection (counted by the servers); `http2` against a
//! server without it fails with a clear reason.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::pki::{https_server, Pki, ServerTls};
use common::*;

/// nginx with TLS and HTTP/2 on, its certificate signed by the test's CA.
fn nginx_h2(pki: &Pki) -> common::nginx::Nginx {
    let (cert, key) = pki.server(&["127.0.0.1"], false).pem();
    common::nginx::start(
        r#"server {
        listen 127.0.0.1:@PORT@ ssl http2;
        ssl_certificate @DIR@/cert.pem;
        ssl_certificate_key @DIR@/key.pem;
        location / { return 200 '{"ok":true}'; }
    }"#,
        &[("cert.pem", cert.as_bytes()), ("key.pem", key.as_bytes())],
    )
}

/// One user, `iterations` times a `parallel:` group of five GETs.
fn page(base: &str, version: Option<&str>, iterations: u32) -> String {
    let version = version.map_or(String::new(), |v| format!(", http_version: {v}"));
    let mut yaml = format!(
        "version: 1\nbase_url: {base}\ndefaults: {{ tls: {{ ca: ca.pem }}{version} }}\nload: {{ vus: 1, iterations: {iterations} }}\nsteps:\n  - group: page\n    parallel:\n"
    );
    for i in 0..5 {
        yaml.push_str(&format!(
            "      - {{ name: w{i}, get: /w{i}, expect: {{ json: {{ $.ok: true }} }} }}\n"
        ));
    }
    yaml
}

fn connections(lines: &[String]) -> std::collections::BTreeSet<String> {
    lines
        .iter()
        .map(|l| l.split(' ').next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn a_parallel_group_multiplexes_on_one_http2_connection() {
    let s = Scratch::new();
    let pki = Pki::new(s.dir.path());
    let nginx = nginx_h2(&pki);
    let base = format!("https://127.0.0.1:{}", nginx.port);
    for (name, version) in [("http2", Some("http2")), ("auto", None)] {
        let before = nginx.requests().len();
        let file = s.file(&format!("{name}.yaml"), &page(&base, version, 3));
        let out = run(&s, &file, &[]);
        assert_eq!(code(&out), 0, "{name}: {}", text(&out));
        let r = s.results(&out);
        assert_eq!(r["totals"]["requests"], 15, "{name}");
        assert_eq!(r["totals"]["failures"], 0, "{name}: {r:#}");
        let lines: Vec<String> = nginx.requests()[before..].to_vec();
        assert_eq!(lines.len(), 15, "{lines:?}");
        assert!(
            lines.iter().all(|l| l.contains(" HTTP/2.0 ")),
            "{name}: {lines:?}"
        );
        assert_eq!(connections(&lines).len(), 1, "{name}: {lines:?}");
    }
}

#[test]
fn http2_against_a_server_without_it_says_so() {
    let s = Scratch::new();
    let pki = Pki::new(s.dir.path());
    let (port, _) = https_server(ServerTls {
        identity: pki.server(&["127.0.0.1"], false),
        client_ca: None,
        tls12_only: false,
        websocket: false,
    });
    let file = s.file(
        "t.yaml",
        &format!(
            "version: 1\nload: {{ vus: 1, iterations: 1 }}\nsteps:\n  - name: one\n    get: https://127.0.0.1:{port}/\n    http_version: http2\n    tls: {{ ca: ca.pem }}\n"
        ),
    );
    let out = run(&s, &file, &[]);
    assert_ne!(code(&out), 0, "{}", text(&out));
    let r = s.results(&out);
    let why: Vec<&String> = step(&r, "one")["failure_reasons"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(why.len(), 1, "{why:?}");
    assert!(why[0].contains("does not offer HTTP/2"), "{why:?}");
}

/// A cleartext HTTP/2 server (prior knowledge only), answering
/// `{"ok":true}`; counts its connections.
fn h2c_server() -> (u16, Arc<AtomicUsize>) {
    use hyper::server::conn::http2;
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            while let Ok((tcp, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(|_req| async {
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(
                            http_body_util::Full::new(hyper::body::Bytes::from_static(
                                b"{\"ok\":true}",
                            )),
                        ))
                    });
                    let _ = http2::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tcp), service)
                        .await;
                });
            }
        });
    });
    (port, accepted)
}

#[test]
fn h2c_speaks_http2_in_the_clear() {
    let s = Scratch::new();
    s.file("ca.pem", "");
    let (port, accepted) = h2c_server();
    let base = format!("http://127.0.0.1:{port}");
    let yaml =
        page(&base, Some("h2c"), 4).replace("defaults: { tls: { ca: ca.pem }, ", "defaults: { ");
    let file = s.file("h2c.yaml", &yaml);
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let r = s.results(&out);
    assert_eq!(r["totals"]["requests"], 20);
    assert_eq!(r["totals"]["failures"], 0, "{r:#}");
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "one user, one connection"
    );
}
