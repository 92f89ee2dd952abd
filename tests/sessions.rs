//! A test's life and a user's session, seen from the server: `setup` and
//! `teardown` once per test, `before` and `after` once per virtual user,
//! what persists across a user's iterations (captures, cookies, `per: vu`
//! rows) and what does not, failed `setup` and `before`, Ctrl-C.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::journal::{journal, Answer, Journal};
use common::*;

/// A server where `POST /login` gives a token per login (`t1`, `t2`…) and
/// a session cookie, `/fail` always fails, and anything else answers
/// `{"ok":true}` (with a cookie of its own on `/iter-cookie`).
fn api() -> Journal {
    journal(
        |req, n| match req.path.split('?').next().unwrap_or_default() {
            "/login" => Answer::json(200, format!(r#"{{"token":"t{n}"}}"#))
                .header("set-cookie", format!("sid=s{n}; Path=/")),
            "/admin" => Answer::json(200, r#"{"token":"admin-secret"}"#),
            "/fail" => Answer::json(500, r#"{"error":"down"}"#),
            "/iter-cookie" => {
                Answer::json(200, r#"{"ok":true}"#).header("set-cookie", format!("it=i{n}; Path=/"))
            }
            _ => Answer::json(200, r#"{"ok":true}"#),
        },
    )
}

/// Writes `t.yaml`: version, `base_url: base`, then `body`.
fn journey_file(s: &Scratch, base: &str, body: &str) -> std::path::PathBuf {
    s.file(
        "t.yaml",
        &format!("version: 1\nbase_url: {base}\n{}", body.trim_start()),
    )
}

fn results_of(s: &Scratch, out: &std::process::Output) -> serde_json::Value {
    s.results(out)
}

#[test]
fn a_user_logs_in_once_and_keeps_its_token_and_cookie_for_every_iteration() {
    let server = api();
    let s = Scratch::new();
    let file = journey_file(
        &s,
        &server.base,
        r#"
load: { vus: 3, iterations: 4 }
before:
  - name: login
    post: /login
    json: { vu: "{{ vu }}" }
    expect: { status: 200 }
    capture: { token: $.token }
    slo: { latency: { p95: 5s }, error_rate: 0% }
steps:
  - name: page
    get: "/page?vu={{ vu }}"
    headers: { authorization: "Bearer {{ token }}" }
    expect: { status: 200 }
  - name: iter_cookie
    get: /iter-cookie
    expect: { status: 200 }
after:
  - name: logout
    post: /logout
    headers: { authorization: "Bearer {{ token }}" }
    expect: { status: 200 }
slo:
  error_rate: 1%
"#,
    );
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    // Logins: one per user, not one per iteration.
    assert_eq!(server.count("/login"), 3);
    assert_eq!(server.count("/logout"), 3);
    let pages = server.to("/page");
    assert_eq!(pages.len(), 12);
    // Each user sends its own login's token and cookie on every iteration.
    let mut per_vu: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    for p in &pages {
        let vu = p.path.split("vu=").nth(1).unwrap_or_default().to_string();
        let auth = p.header("authorization").unwrap_or_default().to_string();
        let sid = p.cookie("sid").unwrap_or_default();
        per_vu.entry(vu).or_default().insert((auth, sid));
        // A cookie an iteration received is gone on the next one.
        assert_eq!(p.cookie("it"), None, "iteration cookie leaked: {p:?}");
    }
    assert_eq!(per_vu.len(), 3, "{per_vu:?}");
    let mut tokens = BTreeSet::new();
    for (vu, seen) in &per_vu {
        assert_eq!(seen.len(), 1, "user {vu} changed token or cookie: {seen:?}");
        let (auth, sid) = seen.iter().next().unwrap();
        assert!(auth.starts_with("Bearer t"), "{auth}");
        assert!(sid.starts_with('s'), "no session cookie: {sid:?}");
        assert_eq!(&auth[8..], &sid[1..], "token and cookie of one login");
        tokens.insert(auth.clone());
    }
    assert_eq!(tokens.len(), 3, "users share a token: {tokens:?}");
    // `after` sends what `before` captured.
    for l in server.to("/logout") {
        assert!(tokens.contains(l.header("authorization").unwrap()), "{l:?}");
    }
    let r = results_of(&s, &out);
    let phase = |name: &str| step(&r, name)["phase"].as_str().unwrap().to_string();
    assert_eq!(
        (phase("login"), phase("page"), phase("logout")),
        ("before".into(), "iteration".into(), "after".into())
    );
    assert_eq!(step(&r, "login")["count"], 3);
    // A step SLO on `before` is judged on its own steps.
    let slo = r["slos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["scope"] == "step t/login" && s["metric"] == "error_rate")
        .unwrap_or_else(|| panic!("no SLO on login: {:#}", r["slos"]));
    assert_eq!(slo["verdict"], "pass");
    assert_eq!(slo["value"], 0.0);
    // The scenario's own numbers are its iterations' only.
    assert_eq!(r["scenarios"][0]["iterations"], 12);
    assert_eq!(r["scenarios"][0]["requests"], 24);
    assert_eq!(r["totals"]["requests"], 30);
}

#[test]
fn cookies_from_before_last_and_an_iterations_cookies_do_not_against_httpbin() {
    let bin = httpbin();
    let s = Scratch::new();
    let file = journey_file(
        &s,
        &bin.base,
        r#"
load: { vus: 2, iterations: 3 }
before:
  - name: set_session
    get: /cookies/set?session=kept
    expect: { status: 200, json: { $.cookies.session: kept } }
steps:
  - name: sees_session_only
    get: /cookies
    expect:
      status: 200
      json:
        $.cookies.session: kept
        $.cookies.cart: { exists: false }
  - name: set_cart
    get: /cookies/set?cart=full
    expect: { status: 200, json: { $.cookies.cart: full, $.cookies.session: kept } }
slo:
  checks: 100%
"#,
    );
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let r = results_of(&s, &out);
    assert_eq!(step(&r, "sees_session_only")["count"], 6);
    assert_eq!(step(&r, "sees_session_only")["failures"], 0, "{r:#}");
    assert_eq!(step(&r, "set_session")["count"], 2);
}

#[test]
fn setup_runs_once_and_every_user_of_every_scenario_reads_it_then_teardown_runs() {
    let server = api();
    let s = Scratch::new();
    let file = journey_file(
        &s,
        &server.base,
        r#"
setup:
  - name: admin
    post: /admin
    expect: { status: 200 }
    capture: { admin_token: $.token }
  - name: seed
    post: /seed
    headers: { authorization: "Bearer {{ admin_token }}" }
    expect: { status: 200 }
teardown:
  - name: clean
    delete: /seed
    headers: { authorization: "Bearer {{ setup.admin_token }}" }
    expect: { status: 200 }
scenarios:
  a:
    load: { vus: 2, iterations: 2 }
    steps:
      - { name: a_page, get: /a, headers: { x-admin: "{{ setup.admin_token }}" }, expect: { status: 200 } }
  b:
    load: { vus: 3, iterations: 1 }
    before:
      - { name: b_login, post: /login, headers: { x-admin: "{{ setup.admin_token }}" }, expect: { status: 200 } }
    steps:
      - { name: b_page, get: /b, headers: { x-admin: "{{ setup.admin_token }}" }, expect: { status: 200 } }
slo:
  error_rate: 1%
"#,
    );
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let all = server.all();
    assert_eq!(all.first().map(|r| r.path.as_str()), Some("/admin"));
    assert_eq!(all.get(1).map(|r| r.path.as_str()), Some("/seed"));
    let last = all.last().unwrap();
    assert_eq!(
        (last.method.as_str(), last.path.as_str()),
        ("DELETE", "/seed")
    );
    assert_eq!(last.header("authorization"), Some("Bearer admin-secret"));
    assert_eq!(server.count("/admin"), 1);
    let users: Vec<_> = all
        .iter()
        .filter(|r| matches!(r.path.as_str(), "/a" | "/b" | "/login"))
        .collect();
    assert_eq!(users.len(), 4 + 3 + 3);
    for r in users {
        assert_eq!(r.header("x-admin"), Some("admin-secret"), "{r:?}");
    }
    let r = results_of(&s, &out);
    assert_eq!(step(&r, "admin")["scenario"], "setup");
    assert_eq!(step(&r, "clean")["phase"], "teardown");
    // The secret never reaches the reports.
    for f in ["results.json", "summary.md", "report.html", "results.csv"] {
        let text = std::fs::read_to_string(s.out().join(f)).unwrap();
        assert!(!text.contains("admin-secret"), "{f} shows the token");
    }
    // Every report names the parts of the test's life.
    let file = |f: &str| std::fs::read_to_string(s.out().join(f)).unwrap();
    let csv = file("results.csv");
    assert!(csv.lines().next().unwrap().ends_with(",phase"), "{csv}");
    for (step, phase) in [
        ("admin", "setup"),
        ("b_login", "before"),
        ("clean", "teardown"),
    ] {
        assert!(
            csv.lines()
                .any(|l| l.contains(&format!(",{step},")) && l.ends_with(&format!(",{phase}"))),
            "{step} as {phase} in {csv}"
        );
    }
    let junit = file("junit.xml");
    for case in [
        "name=\"setup\"",
        "name=\"before of scenario b\"",
        "name=\"teardown\"",
    ] {
        assert!(junit.contains(case), "{case} in {junit}");
    }
    let md = file("summary.md");
    assert!(md.contains("| setup | setup | admin |"), "{md}");
    assert!(md.contains("| b | before | b\\_login |"), "{md}");
    let html = file("report.html");
    assert!(html.contains("<th>part</th>") && html.contains("<td>teardown</td>"));
    let console = String::from_utf8_lossy(&out.stdout);
    for heading in [
        "setup  once, before the load",
        "before · once per user",
        "teardown  once, after the load",
    ] {
        assert!(console.contains(heading), "{heading} in {console}");
    }
}

#[test]
fn a_failed_setup_aborts_before_any_load_and_names_the_step() {
    let server = api();
    let s = Scratch::new();
    let file = journey_file(
        &s,
        &server.base,
        r#"
setup:
  - { name: create_tenant, post: /fail, expect: { status: 201 } }
teardown:
  - { name: clean, delete: /seed, expect: { status: 200 } }
load: { vus: 2, duration: 5s }
steps:
  - { name: page, get: /page, expect: { status: 200 } }
slo:
  error_rate: 1%
"#,
    );
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 3, "{}", text(&out));
    // Only the setup request reached the server: no load, no teardown.
    let paths: Vec<String> = server.all().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/fail"]);
    let r = results_of(&s, &out);
    assert_eq!(r["verdict"], "aborted");
    let reason = r["aborted_reason"].as_str().unwrap();
    assert!(reason.contains("setup failed"), "{reason}");
    assert!(reason.contains("create_tenant"), "{reason}");
    assert!(reason.contains("500"), "{reason}");
    assert_eq!(step(&r, "create_tenant")["failures"], 1);
    assert_eq!(r["scenarios"][0]["iterations"], 0);
}

#[test]
fn teardown_runs_after_a_graceful_ctrl_c() {
    let server = api();
    let s = Scratch::new();
    let file = journey_file(
        &s,
        &server.base,
        r#"
load: { vus: 2, duration: 60s, graceful_stop: 5s }
steps:
  - { name: page, get: /page, expect: { status: 200 } }
  - think: 50ms
teardown:
  - { name: clean, delete: /cleanup, expect: { status: 200 } }
slo:
  error_rate: 1%
"#,
    );
    let child = spawn_run(&s, &file, &["--quiet"]);
    poll_until(
        Duration::from_secs(20),
        "iterations reach the server",
        || server.count("/page") >= 4,
    );
    assert_eq!(server.count("/cleanup"), 0);
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let (out, _) = wait_with_timeout(child, Duration::from_secs(30));
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert_eq!(server.count("/cleanup"), 1, "teardown did not run");
    let last = server.all().pop().unwrap();
    assert_eq!(last.path, "/cleanup", "teardown ran before the load ended");
    let r = results_of(&s, &out);
    assert_eq!(r["aborted_reason"], "interrupted");
    assert_eq!(step(&r, "clean")["count"], 1);
}

#[test]
fn a_failed_before_retires_the_user_and_it_is_replaced_after_a_pause() {
    // User 1's login always fails; user 2's works.
    let server = journal(|req, _| match req.path.as_str() {
        "/login?vu=1" => Answer::json(500, r#"{"error":"down"}"#),
        _ => Answer::json(200, r#"{"token":"t"}"#),
    });
    let s = Scratch::new();
    let file = journey_file(
        &s,
        &server.base,
        r#"
scenarios:
  browse:
    load: { vus: 2, duration: 2500ms }
    before:
      - { name: login, post: "/login?vu={{ vu }}", json: { email: "{{ fake.email() }}" }, expect: { status: 200 } }
    steps:
      - { name: page, get: "/page?vu={{ vu }}", expect: { status: 200 } }
      - think: 20ms
    slo:
      error_rate: 1%
slo:
  error_rate: 1%
"#,
    );
    let out = run(&s, &file, &[]);
    let r = results_of(&s, &out);
    let failed: Vec<_> = server
        .to("/login")
        .into_iter()
        .filter(|l| l.path == "/login?vu=1")
        .collect();
    // User 1 tried at 0 s and after its 1 s pause (the next try, 2 s later,
    // is past the end); a tight loop would have sent thousands.
    assert!(
        (2..=3).contains(&failed.len()),
        "{} tries: {}",
        failed.len(),
        text(&out)
    );
    // Each try draws its own fake data (a sign-up would not collide).
    let emails: BTreeSet<&str> = failed.iter().map(|l| l.body.as_str()).collect();
    assert_eq!(emails.len(), failed.len(), "{emails:?}");
    assert!(
        server.to("/page").iter().all(|p| p.path.ends_with("vu=2")),
        "a retired user ran an iteration"
    );
    assert!(server.count("/page") > 5);
    assert_eq!(
        r["scenarios"][0]["retired_users"], 1,
        "one user, however many tries"
    );
    assert_eq!(step(&r, "login")["failures"], failed.len() as u64);
    // The scenario's iterations went well; the test's error rate counts
    // the failed logins, which fail it.
    let verdict = |scope: &str| {
        r["slos"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["scope"] == scope)
            .unwrap()["verdict"]
            .clone()
    };
    assert_eq!(verdict("scenario browse"), "pass");
    assert_eq!(verdict("test"), "fail");
    assert_eq!(code(&out), 1, "{}", text(&out));
    let console = String::from_utf8_lossy(&out.stdout);
    assert!(console.contains("1 user retired"), "{console}");
}

#[test]
fn an_iterations_own_capture_ends_with_it() {
    let server = api();
    let s = Scratch::new();
    let file = journey_file(
        &s,
        &server.base,
        r#"
load: { vus: 1, iterations: 3 }
before:
  - { name: login, post: /login, expect: { status: 200 }, capture: { token: $.token } }
steps:
  - { name: page, get: /page, headers: { authorization: "{{ token }}" }, expect: { status: 200 } }
  - { name: relogin, post: /login, expect: { status: 200 }, capture: { token: $.token } }
  - { name: page2, get: /page2, headers: { authorization: "{{ token }}" }, expect: { status: 200 } }
slo:
  error_rate: 1%
"#,
    );
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let auth = |path: &str| -> Vec<String> {
        server
            .to(path)
            .iter()
            .filter(|p| p.path == path)
            .map(|p| p.header("authorization").unwrap().to_string())
            .collect()
    };
    // Every iteration starts from `before`'s token, whatever the last one
    // captured; within an iteration its own capture wins.
    assert_eq!(auth("/page"), ["t1", "t1", "t1"]);
    assert_eq!(auth("/page2"), ["t2", "t3", "t4"]);
}

#[test]
fn after_runs_when_a_ramp_lowers_the_users_and_when_open_model_users_end() {
    let server = api();
    let s = Scratch::new();
    let file = journey_file(
        &s,
        &server.base,
        r#"
scenarios:
  ramp:
    load: { executor: ramping-vus, stages: [ { duration: 600ms, target: 3 }, { duration: 600ms, target: 0 } ] }
    before:
      - { name: ramp_login, post: "/login?who=ramp", expect: { status: 200 } }
    steps:
      - { name: ramp_page, get: /ramp, expect: { status: 200 } }
      - think: 50ms
    after:
      - { name: ramp_logout, post: "/logout?who=ramp", expect: { status: 200 } }
  open:
    load: { executor: constant-arrival-rate, rate: 20/s, duration: 1s, max_vus: 4 }
    before:
      - { name: open_login, post: "/login?who=open", expect: { status: 200 } }
    steps:
      - { name: open_page, get: /open, expect: { status: 200 } }
    after:
      - { name: open_logout, post: "/logout?who=open", expect: { status: 200 } }
slo:
  error_rate: 1%
"#,
    );
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    for who in ["ramp", "open"] {
        let logins = server.count(&format!("/login?who={who}"));
        let logouts = server.count(&format!("/logout?who={who}"));
        assert!(logins >= 1, "{who}: {}", text(&out));
        assert_eq!(
            logins, logouts,
            "{who}: each user that logged in logged out"
        );
    }
    assert!(server.count("/ramp") > 0 && server.count("/open") > 0);
}

#[test]
fn a_second_ctrl_c_skips_teardown_and_cut_users_do_not_run_after() {
    let server = journal(|req, _| match req.path.as_str() {
        "/slow" => Answer::json(200, r#"{"ok":true}"#).after(Duration::from_secs(20)),
        _ => Answer::json(200, r#"{"ok":true}"#),
    });
    let s = Scratch::new();
    let file = journey_file(
        &s,
        &server.base,
        r#"
load: { vus: 2, duration: 60s, graceful_stop: 30s }
before:
  - { name: login, post: /login, expect: { status: 200 } }
steps:
  - { name: slow, get: /slow, timeout: 60s, expect: { status: 200 } }
after:
  - { name: logout, post: /logout, expect: { status: 200 } }
teardown:
  - { name: clean, delete: /cleanup, expect: { status: 200 } }
slo:
  error_rate: 1%
"#,
    );
    let mut child = spawn_run(&s, &file, &[]);
    let seen = collect_stderr(&mut child);
    poll_until(Duration::from_secs(20), "both users wait on /slow", || {
        server.count("/slow") >= 2
    });
    let interrupt = || {
        let status = std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    };
    interrupt();
    poll_until(Duration::from_secs(10), "the first Ctrl-C is taken", || {
        seen.lock().unwrap().contains("interrupted")
    });
    interrupt();
    let (out, took) = wait_with_timeout(child, Duration::from_secs(30));
    assert!(took < Duration::from_secs(15), "{took:?}");
    assert_eq!(code(&out), 3, "{}", text(&out));
    assert_eq!(
        server.count("/cleanup"),
        0,
        "teardown ran after a second Ctrl-C"
    );
    assert_eq!(server.count("/logout"), 0, "a cut user ran its after");
    let r = results_of(&s, &out);
    let why = r["teardown_failure"].as_str().unwrap_or_default();
    assert!(why.contains("skipped"), "{r:#}");
    assert_eq!(r["scenarios"][0]["interrupted"], 2);
}

#[test]
fn per_vu_rows_stay_with_a_user_and_differ_between_users() {
    let server = api();
    let s = Scratch::new();
    let file = journey_file(
        &s,
        &server.base,
        r#"
data:
  accounts:
    rows: [ { id: a1 }, { id: a2 }, { id: a3 }, { id: a4 }, { id: a5 } ]
    per: vu
  pages:
    rows: [ { p: x }, { p: y } ]
load: { vus: 3, iterations: 4 }
before:
  - { name: login, post: "/login?account={{ accounts.id }}", expect: { status: 200 } }
steps:
  - { name: page, get: "/page?vu={{ vu }}&account={{ accounts.id }}&p={{ pages.p }}", expect: { status: 200 } }
slo:
  error_rate: 1%
"#,
    );
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let mut accounts: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut pages = BTreeSet::new();
    for p in server.to("/page") {
        let q: BTreeMap<&str, &str> = p
            .path
            .split(['?', '&'])
            .skip(1)
            .filter_map(|kv| kv.split_once('='))
            .collect();
        accounts
            .entry(q["vu"].to_string())
            .or_default()
            .insert(q["account"].to_string());
        pages.insert(q["p"].to_string());
    }
    assert_eq!(accounts.len(), 3);
    let kept: BTreeSet<String> = accounts
        .values()
        .map(|a| {
            assert_eq!(a.len(), 1, "a user changed rows: {accounts:?}");
            a.iter().next().unwrap().clone()
        })
        .collect();
    assert_eq!(kept.len(), 3, "users share a row: {accounts:?}");
    assert_eq!(pages.len(), 2, "the per-iteration feeder still moves");
    // `before` used the same row.
    let logins: BTreeSet<String> = server
        .to("/login")
        .iter()
        .map(|l| l.path.split('=').nth(1).unwrap().to_string())
        .collect();
    assert_eq!(logins, kept);
}

#[test]
fn unique_rows_per_user_need_a_row_for_every_user() {
    let server = api();
    let s = Scratch::new();
    let file = journey_file(
        &s,
        &server.base,
        r#"
data:
  accounts:
    rows: [ { id: a1 }, { id: a2 }, { id: a3 } ]
    per: vu
    order: unique
load: { vus: 5, iterations: 1 }
steps:
  - { name: page, get: "/page/{{ accounts.id }}", expect: { status: 200 } }
slo:
  error_rate: 1%
"#,
    );
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 2, "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("t.yaml:4:3:"), "{err}");
    assert!(
        err.contains("3 rows") && err.contains("5 virtual users"),
        "{err}"
    );
    assert!(server.all().is_empty(), "the run started");
    // With as many users as rows it runs, each user on its own row.
    let out = run(&s, &file, &["--vus", "3"]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let rows: BTreeSet<String> = server.to("/page").into_iter().map(|p| p.path).collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
}

#[test]
fn open_model_before_runs_when_a_user_is_created_and_is_not_the_iterations_time() {
    let server = journal(|req, _| match req.path.as_str() {
        "/login" => Answer::json(200, r#"{"token":"t"}"#).after(Duration::from_millis(400)),
        _ => Answer::json(200, r#"{"ok":true}"#),
    });
    let s = Scratch::new();
    let file = journey_file(
        &s,
        &server.base,
        r#"
load: { executor: constant-arrival-rate, rate: 4/s, duration: 2s, max_vus: 5 }
before:
  - { name: login, post: /login, expect: { status: 200 }, capture: { token: $.token } }
steps:
  - { name: page, get: "/page?vu={{ vu }}&t={{ token }}", expect: { status: 200 } }
slo:
  error_rate: 1%
"#,
    );
    let out = run(&s, &file, &[]);
    assert_eq!(code(&out), 0, "{}", text(&out));
    let users: BTreeSet<String> = server
        .to("/page")
        .iter()
        .map(|p| {
            p.path
                .split("vu=")
                .nth(1)
                .unwrap()
                .split('&')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(!users.is_empty());
    assert_eq!(
        server.count("/login"),
        users.len(),
        "one login per user created"
    );
    let r = results_of(&s, &out);
    let login = &step(&r, "login")["latency"];
    assert!(login["min"].as_f64().unwrap() >= 0.39, "{login}");
    // No iteration carries the 400 ms of the login that created its user.
    let page = &step(&r, "page")["latency"];
    assert!(page["max"].as_f64().unwrap() < 0.35, "{page}");
    assert!(
        r["scenarios"][0]["iteration"]["max"].as_f64().unwrap() < 0.35,
        "{r:#}"
    );
}
