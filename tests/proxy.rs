//! Proxies, through Debian's tinyproxy started by the test: http journeys
//! go to it in absolute form, https ones through a CONNECT tunnel (its log
//! shows each), with the password from the proxy URL; HTTPS_PROXY and
//! HTTP_PROXY are followed, NO_PROXY and `proxy: none` bypass them; a wrong
//! password is a clear failure that does not print the password.

mod common;

use common::pki::{https_server, Pki, ServerTls};
use common::tinyproxy::{self, PASSWORD};
use common::*;

fn journey(s: &Scratch, name: &str, url: &str, proxy: Option<&str>) -> std::path::PathBuf {
    let proxy = proxy.map_or(String::new(), |p| format!(", proxy: \"{p}\""));
    s.file(
        &format!("{name}.yaml"),
        &format!(
            "version: 1\nload: {{ vus: 2, iterations: 2 }}\ndefaults: {{ tls: {{ ca: ca.pem }}{proxy} }}\nsteps:\n  - name: get\n    get: {url}\n"
        ),
    )
}

/// Runs `file` with the proxy variables given (and no others).
fn run_env(s: &Scratch, file: &std::path::Path, vars: &[(&str, &str)]) -> std::process::Output {
    let mut c = trek();
    c.arg("run")
        .arg(file)
        .arg("--quiet")
        .arg("--out")
        .arg(s.out());
    for (k, v) in vars {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn passed(s: &Scratch, out: &std::process::Output, n: u64) {
    assert_eq!(code(out), 0, "{}", text(out));
    let r = s.results(out);
    assert_eq!(r["totals"]["requests"], n, "{r:#}");
    assert_eq!(r["totals"]["failures"], 0, "{r:#}");
}

#[test]
fn http_and_https_go_through_the_proxy_and_no_proxy_bypasses_it() {
    let proxy = tinyproxy::start();
    let target = recorder();
    let s = Scratch::new();
    let pki = Pki::new(s.dir.path());
    let (tls_port, _) = https_server(ServerTls {
        identity: pki.server(&["127.0.0.1"], false),
        client_ca: None,
        tls12_only: false,
        websocket: false,
    });
    let https = format!("https://127.0.0.1:{tls_port}/x");
    let http = format!("{}/plain", target.base);

    // `proxy:` in the file.
    let out = run(&s, &journey(&s, "http", &http, Some(&proxy.url())), &[]);
    passed(&s, &out, 4);
    let out = run(&s, &journey(&s, "https", &https, Some(&proxy.url())), &[]);
    passed(&s, &out, 4);
    let seen = proxy.requests();
    assert_eq!(
        seen.iter()
            .filter(|r| r.starts_with(&format!("GET {http} ")))
            .count(),
        4,
        "{seen:?}"
    );
    // Two users, each with its own tunnel kept across its iterations.
    let connect = format!("CONNECT 127.0.0.1:{tls_port} ");
    assert_eq!(
        seen.iter().filter(|r| r.starts_with(&connect)).count(),
        2,
        "{seen:?}"
    );

    // From the environment.
    let file = journey(&s, "env", &https, None);
    let out = run_env(&s, &file, &[("HTTPS_PROXY", &proxy.url())]);
    passed(&s, &out, 4);
    let tunnels = |p: &tinyproxy::Tinyproxy| {
        p.requests()
            .iter()
            .filter(|r| r.starts_with(&connect))
            .count()
    };
    assert_eq!(tunnels(&proxy), 4);
    let out = run_env(
        &s,
        &file,
        &[
            ("https_proxy", &proxy.url()),
            ("NO_PROXY", "localhost,127.0.0.1"),
        ],
    );
    passed(&s, &out, 4);
    assert_eq!(tunnels(&proxy), 4, "NO_PROXY: not through the proxy");
    let none = journey(&s, "none", &https, Some("none"));
    let out = run_env(&s, &none, &[("HTTPS_PROXY", &proxy.url())]);
    passed(&s, &out, 4);
    assert_eq!(tunnels(&proxy), 4, "proxy: none ignores the environment");
    let plain = journey(&s, "plain-env", &http, None);
    let out = run_env(&s, &plain, &[("HTTP_PROXY", &proxy.url())]);
    passed(&s, &out, 4);
    assert_eq!(
        proxy
            .requests()
            .iter()
            .filter(|r| r.starts_with(&format!("GET {http} ")))
            .count(),
        8
    );
}

#[test]
fn a_wrong_proxy_password_fails_clearly_and_is_never_printed() {
    let proxy = tinyproxy::start();
    let target = recorder();
    let s = Scratch::new();
    s.file("ca.pem", "");
    let wrong = format!("http://trek:not-{PASSWORD}@127.0.0.1:{}", proxy.port);
    let file = s.file(
        "t.yaml",
        &format!(
            "version: 1\nload: {{ vus: 1, iterations: 1 }}\nsteps:\n  - name: get\n    get: {}/a\n    on_fail: continue\n    proxy: \"{wrong}\"\n  - name: tunnel\n    get: https://127.0.0.1:{}/\n    on_fail: continue\n    proxy: \"{wrong}\"\n",
            target.base,
            target.base.rsplit(':').next().unwrap()
        ),
    );
    let out = trek()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(s.out())
        .output()
        .unwrap();
    assert_ne!(code(&out), 0);
    let r = s.results(&out);
    let everything = format!(
        "{}{}{}",
        text(&out),
        std::fs::read_to_string(s.out().join("results.json")).unwrap(),
        std::fs::read_dir(s.out())
            .unwrap()
            .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
            .collect::<String>()
    );
    assert!(
        !everything.contains(PASSWORD),
        "the proxy password was printed"
    );
    // The plain request is answered by the proxy itself: 407.
    let reason = |name: &str| -> String {
        let why: Vec<String> = step(&r, name)["failure_reasons"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(why.len(), 1, "{why:?}");
        why[0].clone()
    };
    // tinyproxy answers a plain request without the right password with
    // 401 (407 for a tunnel).
    assert!(reason("get").contains("status 401"), "{}", reason("get"));
    assert!(
        reason("tunnel").contains("the proxy refused the user and password (401)"),
        "{}",
        reason("tunnel")
    );
    let trek_plan = trek().arg("plan").arg(&file).output().unwrap();
    assert!(!text(&trek_plan).contains(PASSWORD));
}

#[test]
fn wss_goes_through_a_connect_tunnel() {
    let proxy = tinyproxy::start();
    let s = Scratch::new();
    let pki = Pki::new(s.dir.path());
    let (port, _) = https_server(ServerTls {
        identity: pki.server(&["127.0.0.1"], false),
        client_ca: None,
        tls12_only: false,
        websocket: true,
    });
    let file = s.file(
        "ws.yaml",
        &format!(
            "version: 1\nload: {{ vus: 1, iterations: 2 }}\ndefaults: {{ tls: {{ ca: ca.pem }}, proxy: \"{}\" }}\nsteps:\n  - name: chat\n    websocket: wss://127.0.0.1:{port}/\n    actions:\n      - receive: {{ match: hello, timeout: 5s }}\n",
            proxy.url()
        ),
    );
    let out = run(&s, &file, &[]);
    passed(&s, &out, 2);
    let connect = format!("CONNECT 127.0.0.1:{port} ");
    let seen = proxy.requests();
    assert_eq!(
        seen.iter().filter(|r| r.starts_with(&connect)).count(),
        2,
        "{seen:?}"
    );
}
