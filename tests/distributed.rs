//! A test split into parts (`trek run --segment I/N --start-at`) runs
//! exactly the whole: for every executor, four local parts and one process
//! send the same requests with the same generated data; `trek merge` adds
//! the parts, says which are missing, and the parts start together.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, SystemTime};

use common::journal::{journal, Answer, Journal, Seen};
use common::{code, text, trek, wait_with_timeout, Scratch};

const PARTS: u64 = 4;
/// A generous start tolerance: how precisely parts start is tested on its
/// own.
const TOLERANT: &[&str] = &["--start-tolerance", "60s"];
const SEED: &str = "7";

/// A scenario of `load` posting generated data: who sent it (`vu`, its own
/// `iteration`), a fake name drawn from the iteration's seed, and a row of
/// a `unique` feeder.
fn scenario(base: &str, load: &str) -> String {
    format!(
        r#"version: 1
name: split
base_url: {base}
data:
  tickets: {{ rows: [{rows}], order: unique }}
load: {load}
steps:
  - name: post
    post: /data
    json: {{ vu: "{{{{ vu }}}}", iteration: "{{{{ iteration }}}}", name: "{{{{ fake.name() }}}}", ticket: "{{{{ tickets.n }}}}" }}
    expect: {{ status: 200 }}
  - think: 100ms
"#,
        rows = (0..400)
            .map(|n| format!("{{ n: {n} }}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// An RFC 3339 instant `ahead` from now.
fn instant_in(ahead: Duration) -> (SystemTime, String) {
    let at = SystemTime::now() + ahead;
    let text = chrono::DateTime::<chrono::Utc>::from(at)
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let at = SystemTime::from(chrono::DateTime::parse_from_rfc3339(&text).unwrap());
    (at, text)
}

/// Starts `trek run FILE --segment PART --start-at …` with the test's seed.
fn spawn_part(file: &Path, out: &Path, part: &str, start_at: &str, extra: &[&str]) -> Child {
    trek()
        .arg("run")
        .arg(file)
        .arg("--out")
        .arg(out)
        .args(["--quiet", "--seed", SEED, "--start-at", start_at])
        .args(["--segment", part])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("trek runs")
}

/// Runs the parts together (started with `--start-at`); their folders.
fn run_parts(scratch: &Scratch, file: &Path, extra: &[&str]) -> Vec<PathBuf> {
    let (_, start_at) = instant_in(Duration::from_secs(3));
    let mut extra = extra.to_vec();
    extra.extend(TOLERANT);
    let children: Vec<(PathBuf, Child)> = (0..PARTS)
        .map(|i| {
            let out = scratch.dir.path().join(format!("part{i}"));
            let child = spawn_part(file, &out, &format!("{i}/{PARTS}"), &start_at, &extra);
            (out, child)
        })
        .collect();
    children
        .into_iter()
        .map(|(out, child)| {
            let (o, _) = wait_with_timeout(child, Duration::from_secs(120));
            assert_eq!(code(&o), 0, "{}", text(&o));
            out
        })
        .collect()
}

fn merge(dirs: &[PathBuf], out: &Path, extra: &[&str]) -> Output {
    trek()
        .arg("merge")
        .args(dirs)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .expect("trek merge runs")
}

fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("JSON")
}

/// What the server saw posted: one JSON object per request.
fn posted(j: &Journal) -> Vec<serde_json::Value> {
    j.to("/data")
        .iter()
        .map(|s: &Seen| serde_json::from_str(&s.body).expect("a JSON body"))
        .collect()
}

fn ok_server() -> Journal {
    journal(|_, _| Answer::json(200, "{}"))
}

/// The whole test in one process, and split into four; what each server
/// saw, and the merged results.
struct Compared {
    whole: Vec<serde_json::Value>,
    split: Vec<serde_json::Value>,
    whole_results: serde_json::Value,
    merged: serde_json::Value,
    part_dirs: Vec<PathBuf>,
    _scratch: Scratch,
}

fn compare(load: &str) -> Compared {
    let one = ok_server();
    let four = ok_server();
    let scratch = Scratch::new();
    let whole_file = scratch.file("whole.yaml", &scenario(&one.base, load));
    let split_file = scratch.file("split.yaml", &scenario(&four.base, load));
    let o = common::run(&scratch, &whole_file, &["--seed", SEED]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let whole_results = scratch.results(&o);
    // The base URL differs, and it is not part of what the parts compare.
    let dirs = run_parts(&scratch, &split_file, &[]);
    let merged_dir = scratch.dir.path().join("merged");
    let m = merge(&dirs, &merged_dir, &[]);
    assert_eq!(code(&m), 0, "{}", text(&m));
    Compared {
        whole: posted(&one),
        split: posted(&four),
        whole_results,
        merged: read_json(&merged_dir.join("results.json")),
        part_dirs: dirs,
        _scratch: scratch,
    }
}

/// The generated data per (user, its iteration).
fn by_user(posts: &[serde_json::Value]) -> BTreeMap<(String, String), String> {
    posts
        .iter()
        .map(|p| {
            let key = (p["vu"].to_string(), p["iteration"].to_string());
            (key, p["name"].to_string())
        })
        .collect()
}

fn names(posts: &[serde_json::Value]) -> Vec<String> {
    let mut n: Vec<String> = posts.iter().map(|p| p["name"].to_string()).collect();
    n.sort();
    n
}

/// No `unique` row was handed out twice.
fn assert_rows_unique(posts: &[serde_json::Value]) {
    let tickets: Vec<String> = posts.iter().map(|p| p["ticket"].to_string()).collect();
    let distinct: BTreeSet<&String> = tickets.iter().collect();
    assert_eq!(
        distinct.len(),
        tickets.len(),
        "a row used twice: {tickets:?}"
    );
}

fn requests(r: &serde_json::Value) -> u64 {
    r["totals"]["requests"].as_u64().unwrap()
}

fn iterations(r: &serde_json::Value) -> u64 {
    r["scenarios"][0]["iterations"].as_u64().unwrap()
}

#[test]
fn per_vu_iterations_split_equals_whole() {
    let c = compare("{ executor: per-vu-iterations, vus: 6, iterations: 3 }");
    assert_eq!(c.whole.len(), 18);
    // Every user and every iteration of each, with the same data.
    assert_eq!(by_user(&c.split), by_user(&c.whole));
    assert_eq!(c.split.len(), 18);
    assert_rows_unique(&c.split);
    assert_eq!(requests(&c.merged), requests(&c.whole_results));
    assert_eq!(iterations(&c.merged), 18);
    // A part's result reads back into trek's own type and writes out byte
    // for byte the same.
    for dir in &c.part_dirs {
        let text = std::fs::read_to_string(dir.join("results.json")).unwrap();
        let back: trek::report::results::Results = serde_json::from_str(&text).unwrap();
        assert!(back.part.is_some());
        assert_eq!(serde_json::to_string_pretty(&back).unwrap() + "\n", text);
    }
}

#[test]
fn shared_iterations_split_equals_whole() {
    let c = compare("{ executor: shared-iterations, vus: 5, iterations: 22 }");
    assert_eq!(c.whole.len(), 22);
    assert_eq!(c.split.len(), 22);
    // Iterations handed out by the scenario draw from their number in the
    // whole test, whichever user (or part) runs them.
    assert_eq!(names(&c.split), names(&c.whole));
    assert_rows_unique(&c.split);
    assert_eq!(iterations(&c.merged), 22);
}

/// Users kept for a time: every user of the whole runs in one part, and
/// each of its iterations sends what it sent in the whole; the counts
/// agree within one iteration per user.
fn assert_same_users(c: &Compared, users: u64) {
    let whole = by_user(&c.whole);
    let split = by_user(&c.split);
    let users_of = |m: &BTreeMap<(String, String), String>| -> BTreeSet<String> {
        m.keys().map(|(vu, _)| vu.clone()).collect()
    };
    assert_eq!(users_of(&split), users_of(&whole));
    assert_eq!(users_of(&whole).len() as u64, users);
    let common: Vec<_> = whole.keys().filter(|k| split.contains_key(*k)).collect();
    assert!(
        common.len() * 10 >= whole.len() * 8,
        "{whole:?} / {split:?}"
    );
    for k in common {
        assert_eq!(whole[k], split[k], "user {} iteration {}", k.0, k.1);
    }
    let (w, s) = (c.whole.len() as i64, c.split.len() as i64);
    assert!((w - s).abs() <= users as i64, "{w} requests vs {s}");
    assert_rows_unique(&c.split);
}

#[test]
fn constant_vus_split_equals_whole() {
    let c = compare("{ executor: constant-vus, vus: 6, duration: 2s }");
    assert_same_users(&c, 6);
}

#[test]
fn ramping_vus_split_equals_whole() {
    let c = compare(
        "{ executor: ramping-vus, start_vus: 1, stages: [ { duration: 1s, target: 5 }, { duration: 1s, target: 5 } ] }",
    );
    assert_same_users(&c, 5);
}

/// The open model: iteration k of the whole runs in part k mod 4 at its
/// instant, drawing from k: the same iterations, within one per part.
fn assert_same_arrivals(c: &Compared, expected: usize) {
    let slack = PARTS as usize;
    for (what, n) in [("whole", c.whole.len()), ("split", c.split.len())] {
        assert!(n.abs_diff(expected) <= slack, "{what}: {n} of {expected}");
    }
    let (whole, split) = (names(&c.whole), names(&c.split));
    let same = split
        .iter()
        .filter(|n| whole.binary_search(n).is_ok())
        .count();
    assert!(
        same + slack >= whole.len().max(split.len()),
        "{same} shared"
    );
    assert_rows_unique(&c.split);
    let merged = requests(&c.merged) as usize;
    assert_eq!(merged, c.split.len(), "every request of every part merged");
    assert_eq!(c.merged["scenarios"][0]["dropped"], 0);
}

#[test]
fn constant_arrival_rate_split_equals_whole() {
    let c = compare("{ executor: constant-arrival-rate, rate: 20/s, duration: 2s, max_vus: 8 }");
    assert_same_arrivals(&c, 40);
}

#[test]
fn ramping_arrival_rate_split_equals_whole() {
    let c = compare(
        "{ executor: ramping-arrival-rate, start_rate: 0/s, max_vus: 8, stages: [ { duration: 1s, target: 20/s }, { duration: 1s, target: 20/s } ] }",
    );
    assert_same_arrivals(&c, 30);
}

/// A short test of three parts, for the failure cases.
fn three_parts(base: &str, load: &str) -> String {
    format!(
        "version: 1\nname: parts\nbase_url: {base}\nload: {load}\nsteps:\n  - {{ name: hello, get: /hello, expect: {{ status: 200 }} }}\nslo:\n  error_rate: 1%\n"
    )
}

#[test]
fn a_missing_part_fails_the_merge_unless_partial_is_allowed() {
    let server = ok_server();
    let scratch = Scratch::new();
    let file = scratch.file(
        "t.yaml",
        &three_parts(&server.base, "{ vus: 3, iterations: 4 }"),
    );
    let (_, start_at) = instant_in(Duration::from_secs(2));
    let dirs: Vec<PathBuf> = (0..2)
        .map(|i| scratch.dir.path().join(format!("part{i}")))
        .collect();
    let children: Vec<Child> = dirs
        .iter()
        .enumerate()
        .map(|(i, d)| spawn_part(&file, d, &format!("{i}/3"), &start_at, TOLERANT))
        .collect();
    for c in children {
        let (o, _) = wait_with_timeout(c, Duration::from_secs(60));
        assert_eq!(code(&o), 0, "{}", text(&o));
    }
    let out = scratch.dir.path().join("merged");
    let m = merge(&dirs, &out, &[]);
    assert_eq!(code(&m), 3, "{}", text(&m));
    assert!(text(&m).contains("part 2/3 missing"), "{}", text(&m));
    let r = read_json(&out.join("results.json"));
    assert_eq!(r["verdict"], "aborted");
    assert!(r["aborted_reason"]
        .as_str()
        .unwrap()
        .contains("part 2/3 missing"));
    assert_eq!(r["parts"][2]["status"], "missing");

    let partial = scratch.dir.path().join("partial");
    let m = merge(&dirs, &partial, &["--allow-partial"]);
    assert_eq!(code(&m), 0, "{}", text(&m));
    let r = read_json(&partial.join("results.json"));
    assert_eq!(r["verdict"], "pass");
    assert_eq!(requests(&r), 8, "users 0 and 1 of 3, four iterations each");
    let summary = std::fs::read_to_string(partial.join("summary.md")).unwrap();
    assert!(
        summary.contains("2 of 3 parts merged") && summary.contains("part 2/3 missing"),
        "{summary}"
    );
    let html = std::fs::read_to_string(partial.join("report.html")).unwrap();
    assert!(html.contains(r#"id="parts-table""#) && html.contains("missing"));
}

#[test]
fn a_part_killed_mid_run_leaves_no_result_and_is_reported_missing() {
    // Part 1 holds user 2, whose requests say who sent them.
    let server = journal(|_, _| Answer::json(200, "{}"));
    let scratch = Scratch::new();
    let file = scratch.file(
        "t.yaml",
        &three_parts(&server.base, "{ vus: 3, duration: 3s }")
            .replace("get: /hello,", "get: \"/hello?vu={{ vu }}\","),
    );
    let (_, start_at) = instant_in(Duration::from_secs(2));
    let dirs: Vec<PathBuf> = (0..3)
        .map(|i| scratch.dir.path().join(format!("part{i}")))
        .collect();
    let mut children: Vec<Child> = dirs
        .iter()
        .enumerate()
        .map(|(i, d)| spawn_part(&file, d, &format!("{i}/3"), &start_at, TOLERANT))
        .collect();
    common::poll_until(Duration::from_secs(30), "part 1's first request", || {
        server.count("/hello?vu=2") > 0
    });
    let victim = children.remove(1);
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &victim.id().to_string()])
        .status();
    let (killed, _) = wait_with_timeout(victim, Duration::from_secs(10));
    assert_ne!(code(&killed), 0);
    for c in children {
        let (o, _) = wait_with_timeout(c, Duration::from_secs(60));
        assert_eq!(code(&o), 0, "{}", text(&o));
    }
    assert!(!dirs[1].join("results.json").exists());
    let out = scratch.dir.path().join("merged");
    let m = merge(&dirs, &out, &[]);
    assert_eq!(code(&m), 3, "{}", text(&m));
    assert!(text(&m).contains("part 1/3 missing"), "{}", text(&m));
    let r = read_json(&out.join("results.json"));
    assert_eq!(r["parts"][1]["status"], "missing");
    assert_eq!(r["parts"][0]["status"], "merged");
}

#[test]
fn parts_started_apart_begin_together_at_the_agreed_instant() {
    let server = ok_server();
    let scratch = Scratch::new();
    let file = scratch.file(
        "t.yaml",
        &three_parts(&server.base, "{ vus: 4, iterations: 1 }")
            .replace("get: /hello,", "get: \"/hello?vu={{ vu }}\","),
    );
    let (at, start_at) = instant_in(Duration::from_secs(4));
    let mut children = Vec::new();
    for i in 0..PARTS {
        let out = scratch.dir.path().join(format!("part{i}"));
        children.push(spawn_part(
            &file,
            &out,
            &format!("{i}/{PARTS}"),
            &start_at,
            &[],
        ));
        if i + 1 < PARTS {
            // Started 0 to 2 s apart, as pods are.
            std::thread::sleep(Duration::from_millis(666));
        }
    }
    for c in children {
        let (o, _) = wait_with_timeout(c, Duration::from_secs(60));
        assert_eq!(code(&o), 0, "{}", text(&o));
    }
    for vu in 1..=PARTS {
        let first = server
            .to(&format!("/hello?vu={vu}"))
            .iter()
            .map(|s| s.at)
            .min()
            .unwrap_or_else(|| panic!("user {vu} sent nothing"));
        let early = at.duration_since(first).unwrap_or_default();
        let late = first.duration_since(at).unwrap_or_default();
        assert!(early.is_zero(), "user {vu} began {early:?} early");
        assert!(
            late <= Duration::from_millis(50),
            "user {vu} began {late:?} late"
        );
    }
}

#[test]
fn a_part_too_late_for_its_instant_runs_nothing_and_exits_3() {
    let server = ok_server();
    let scratch = Scratch::new();
    let file = scratch.file(
        "t.yaml",
        &three_parts(&server.base, "{ vus: 2, iterations: 2 }"),
    );
    let past = chrono::Utc::now() - chrono::Duration::seconds(30);
    let o = trek()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(scratch.out())
        .args(["--quiet", "--seed", SEED, "--segment", "0/2"])
        .arg("--start-at")
        .arg(past.to_rfc3339())
        .output()
        .unwrap();
    assert_eq!(code(&o), 3, "{}", text(&o));
    let r = scratch.results(&o);
    assert_eq!(r["verdict"], "aborted");
    assert!(r["aborted_reason"]
        .as_str()
        .unwrap()
        .contains("--start-tolerance"));
    assert!(r["part"]["start_lag_s"].as_f64().unwrap() >= 29.0);
    assert_eq!(server.count("/hello"), 0);
}

#[test]
fn a_part_without_a_seed_or_an_instant_is_refused() {
    let scratch = Scratch::new();
    let file = scratch.file(
        "t.yaml",
        &three_parts("http://127.0.0.1:9", "{ vus: 2, iterations: 2 }"),
    );
    let o = common::run(&scratch, &file, &["--segment", "1/2"]);
    assert_eq!(code(&o), 2);
    assert!(text(&o).contains("--seed"), "{}", text(&o));
    let o = common::run(&scratch, &file, &["--segment", "2/2", "--seed", "1"]);
    assert_eq!(code(&o), 2);
    assert!(text(&o).contains("0 to 1"), "{}", text(&o));
    let o = common::run(
        &scratch,
        &file,
        &[
            "--segment",
            "1/3",
            "--seed",
            "1",
            "--vus",
            "1",
            "--iterations",
            "1",
            "--start-at",
            "2000-01-01T00:00:00Z",
            "--start-tolerance",
            "1000000000s",
        ],
    );
    assert!(
        text(&o).contains("part 1/3 gets nothing to do"),
        "{}",
        text(&o)
    );
}

#[test]
fn validate_warns_of_a_part_with_nothing_to_do() {
    let scratch = Scratch::new();
    let file = scratch.file(
        "t.yaml",
        &three_parts("http://127.0.0.1:9", "{ vus: 2, iterations: 2 }"),
    );
    let check = |extra: &[&str]| {
        trek()
            .arg("validate")
            .arg(&file)
            .args(extra)
            .output()
            .unwrap()
    };
    let o = check(&["--parts", "3"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(
        text(&o).contains("warning[W0004]: scenario t: part 2/3 gets nothing to do"),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains("part 1/3"), "{}", text(&o));
    assert_eq!(code(&check(&["--parts", "3", "--deny-warnings"])), 2);
    assert_eq!(code(&check(&["--segment", "1/3", "--deny-warnings"])), 0);
    assert_eq!(code(&check(&["--parts", "2", "--deny-warnings"])), 0);
}
