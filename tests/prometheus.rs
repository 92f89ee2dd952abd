//! Live metrics against the real Prometheus (Debian's package, installed by
//! scripts/test): it scrapes `trek run --metrics-listen` every second
//! during a 10 s run against the demo target, or receives its
//! `--remote-write` pushes, and what it stored agrees with results.json:
//! the request count exactly, the p95 within a bucket (classic and native);
//! every query of the Grafana dashboard (dashboards/trek.json) returns
//! data. A receiver stopped mid-run is a warning, the results whole.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{code, demo_target, http_json, poll_until, text, trek, wait_with_timeout, Scratch};

/// Prometheus on a free loopback port, scraping `target` every second;
/// stopped when dropped.
struct Prometheus {
    base: String,
    child: Child,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Prometheus on a free loopback port, scraping `target` every second when
/// given, started with `flags`.
fn prometheus(dir: &Path, target: Option<&str>, flags: &[&str]) -> Prometheus {
    let bin = Path::new("/usr/bin/prometheus");
    assert!(
        bin.exists(),
        "Prometheus is missing: run scripts/test, which installs Debian's `prometheus`"
    );
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        match target {
            Some(target) => format!("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: trek\n    static_configs:\n      - targets: ['{target}']\n"),
            None => "global:\n  scrape_interval: 1s\n".to_string(),
        },
    )
    .unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let child = Command::new(bin)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args(flags)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus starts");
    let p = Prometheus {
        base: format!("http://127.0.0.1:{port}"),
        child,
    };
    poll_until(Duration::from_secs(30), "Prometheus ready", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            && http_json(&p.base, "GET", "/-/ready", &[], None).0 == 200
    });
    p
}

/// The value of an instant PromQL query (`None`: no data).
fn query(p: &Prometheus, promql: &str) -> Option<f64> {
    let path = format!(
        "/api/v1/query?query={}",
        percent_encoding::utf8_percent_encode(promql, percent_encoding::NON_ALPHANUMERIC)
    );
    let (status, body) = http_json(&p.base, "GET", &path, &[], None);
    assert_eq!(status, 200, "{promql}: {body}");
    let v = body["data"]["result"].get(0)?["value"][1]
        .as_str()?
        .to_string();
    v.parse().ok()
}

/// Starts `trek run` and returns it with the address it serves metrics on.
fn run_publishing(scratch: &Scratch, file: &Path, extra: &[&str]) -> (Child, String) {
    let mut child = trek()
        .arg("run")
        .arg(file)
        .arg("--out")
        .arg(scratch.out())
        .args([
            "--quiet",
            "--metrics-listen",
            "127.0.0.1:0",
            "--metrics-linger",
            "6s",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let seen = Arc::new(Mutex::new(String::new()));
    let into = seen.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            into.lock().unwrap().push_str(&(line + "\n"));
        }
    });
    let mut addr = String::new();
    poll_until(
        Duration::from_secs(30),
        "trek says where its metrics are",
        || {
            let text = seen.lock().unwrap().clone();
            match text.split("live metrics at http://").nth(1) {
                Some(rest) => {
                    addr = rest.split('/').next().unwrap_or_default().to_string();
                    true
                }
                None => false,
            }
        },
    );
    (child, addr)
}

#[test]
fn prometheus_scrapes_what_the_results_say() {
    let demo = demo_target(&[]);
    let scratch = Scratch::new();
    let file = health_scenario(&scratch, &demo.base, "10s");
    let (child, addr) = run_publishing(&scratch, &file, &["--testid", "scraped"]);
    let prom = prometheus(scratch.dir.path(), Some(&addr), &[]);
    let (o, _) = wait_with_timeout(child, Duration::from_secs(90));
    assert_eq!(code(&o), 0, "{}", text(&o));
    let results = scratch.results(&o);
    let requests = results["totals"]["requests"].as_f64().unwrap();
    assert!(requests > 100.0, "{requests}");
    // The last scrapes came after the end (the endpoint lingers), so the
    // stored count is the final one.
    let stored = "sum(last_over_time(trek_requests_total{testid=\"scraped\"}[5m]))";
    poll_until(
        Duration::from_secs(20),
        "Prometheus has the final count",
        || query(&prom, stored) == Some(requests),
    );
    let p95 = query(
        &prom,
        "histogram_quantile(0.95, sum by (le) (last_over_time(trek_latency_seconds_bucket{testid=\"scraped\",step=\"health\"}[5m])))",
    )
    .expect("a p95");
    let exact = common::step(&results, "health")["latency"]["p95"]
        .as_f64()
        .unwrap();
    // Within the bucket: trek's bounds grow by 25% each.
    let bucket = |v: f64| ((v / 1e-4).ln() / 1.25f64.ln()).ceil() as i64;
    assert!(
        (bucket(p95) - bucket(exact)).abs() <= 1,
        "Prometheus p95 {p95} against results.json {exact}"
    );
    let started = query(
        &prom,
        "sum(last_over_time(trek_iterations_total{testid=\"scraped\",state=\"started\"}[5m]))",
    );
    assert_eq!(started, results["scenarios"][0]["iterations"].as_f64());
    let segment = query(
        &prom,
        "count(trek_requests_total{testid=\"scraped\",segment=\"0/1\"} offset 5s)",
    );
    assert!(segment.is_some(), "the segment label");

    dashboard_returns_data(&prom, "scraped");
}

/// Every query of the dashboard (dashboards/trek.json) over the last two
/// minutes returns data for `testid`.
fn dashboard_returns_data(prom: &Prometheus, testid: &str) {
    // Every query of the dashboard, over the last two minutes.
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/dashboards/trek.json"))
            .unwrap(),
    )
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut queries = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"]
                .as_str()
                .unwrap()
                .replace("$testid", testid)
                .replace("$__rate_interval", "4s");
            let path = format!(
                "/api/v1/query_range?query={}&start={}&end={now}&step=1",
                percent_encoding::utf8_percent_encode(&expr, percent_encoding::NON_ALPHANUMERIC),
                now - 120
            );
            let (status, body) = http_json(&prom.base, "GET", &path, &[], None);
            assert_eq!(status, 200, "{expr}: {body}");
            let series = body["data"]["result"].as_array().map_or(0, Vec::len);
            assert!(
                series > 0,
                "panel `{}`: `{expr}` returned no data",
                panel["title"]
            );
            queries += 1;
        }
    }
    assert!(queries >= 12, "{queries} queries");
}

/// A run against the demo target, reading its `/metrics`, as a scenario
/// file.
fn health_scenario(scratch: &Scratch, base: &str, duration: &str) -> std::path::PathBuf {
    scratch.file(
        "t.yaml",
        &format!(
            "version: 1\nbase_url: {base}\nload: {{ vus: 4, duration: {duration} }}\nmonitor:\n  - {{ name: demo, prometheus: /metrics, series: {{ in_flight: http_requests_in_flight }} }}\nsteps:\n  - {{ name: health, get: /health, expect: {{ status: 200 }} }}\n  - think: 20ms\nslo:\n  error_rate: 1%\n  latency: {{ p95: 500ms }}\n  monitor: {{ in_flight: {{ max: 1000 }} }}\n"
        ),
    )
}

fn pushing(scratch: &Scratch, file: &Path, prom: &Prometheus, testid: &str) -> Command {
    let mut cmd = trek();
    cmd.arg("run")
        .arg(file)
        .arg("--out")
        .arg(scratch.out())
        .args(["--quiet", "--remote-write-every", "1s", "--testid", testid])
        .arg("--remote-write")
        .arg(format!("{}/api/v1/write", prom.base));
    cmd
}

const RECEIVER: [&str; 2] = [
    "--web.enable-remote-write-receiver",
    "--enable-feature=native-histograms",
];

#[test]
fn remote_write_pushes_what_the_results_say() {
    let demo = demo_target(&[]);
    let scratch = Scratch::new();
    let prom = prometheus(scratch.dir.path(), None, &RECEIVER);
    let file = health_scenario(&scratch, &demo.base, "10s");
    let child = pushing(&scratch, &file, &prom, "pushed")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (o, _) = wait_with_timeout(child, Duration::from_secs(90));
    assert_eq!(code(&o), 0, "{}", text(&o));
    let results = scratch.results(&o);
    assert!(results.get("warnings").is_none(), "{}", results["warnings"]);
    let requests = results["totals"]["requests"].as_f64().unwrap();
    assert!(requests > 100.0, "{requests}");
    // The final push carries the final count.
    assert_eq!(
        query(
            &prom,
            "sum(last_over_time(trek_requests_total{testid=\"pushed\"}[5m]))"
        ),
        Some(requests)
    );
    // Pushed every second: the 10 s run left about ten samples.
    let samples = query(
        &prom,
        "max(count_over_time(trek_requests_total{testid=\"pushed\"}[5m]))",
    )
    .unwrap();
    assert!(samples >= 6.0, "{samples} pushes stored");
    let exact = common::step(&results, "health")["latency"]["p95"]
        .as_f64()
        .unwrap();
    // The native histogram: buckets 2^(1/8) wide.
    let native = query(
        &prom,
        "histogram_quantile(0.95, trek_latency_seconds{testid=\"pushed\",step=\"health\"})",
    )
    .expect("a native histogram");
    let bucket = |v: f64| (v.log2() * 8.0).ceil() as i64;
    assert!(
        (bucket(native) - bucket(exact)).abs() <= 1,
        "native p95 {native} against results.json {exact}"
    );
    assert_eq!(
        query(
            &prom,
            "histogram_count(trek_latency_seconds{testid=\"pushed\",step=\"health\"})"
        ),
        Some(requests)
    );
    // The classic buckets, as scraped.
    let classic = query(
        &prom,
        "histogram_quantile(0.95, sum by (le) (last_over_time(trek_latency_seconds_bucket{testid=\"pushed\",step=\"health\"}[5m])))",
    )
    .expect("a classic p95");
    let bucket = |v: f64| ((v / 1e-4).ln() / 1.25f64.ln()).ceil() as i64;
    assert!(
        (bucket(classic) - bucket(exact)).abs() <= 1,
        "classic p95 {classic} against results.json {exact}"
    );
    dashboard_returns_data(&prom, "pushed");
}

#[test]
fn a_receiver_that_goes_down_mid_run_is_a_warning() {
    let demo = demo_target(&[]);
    let scratch = Scratch::new();
    let prom = prometheus(scratch.dir.path(), None, &RECEIVER);
    let file = health_scenario(&scratch, &demo.base, "8s");
    let child = pushing(&scratch, &file, &prom, "downed")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    poll_until(Duration::from_secs(30), "a push arrives", || {
        query(&prom, "sum(trek_requests_total{testid=\"downed\"})").is_some()
    });
    drop(prom);
    let (o, _) = wait_with_timeout(child, Duration::from_secs(90));
    assert_eq!(code(&o), 0, "{}", text(&o));
    let results = scratch.results(&o);
    let warning = results["warnings"][0].as_str().unwrap_or_default();
    assert!(warning.contains("pushes failed"), "{}", results["warnings"]);
    assert!(text(&o).contains("pushes failed"), "{}", text(&o));
    // Everything written, the load whole.
    let requests = results["totals"]["requests"].as_u64().unwrap();
    assert_eq!(
        common::step(&results, "health")["count"].as_u64(),
        Some(requests)
    );
    assert!(requests > 100, "{requests}");
    assert_eq!(results["verdict"], "pass");
    for f in [
        "report.html",
        "results.csv",
        "timeline.csv",
        "junit.xml",
        "summary.md",
    ] {
        assert!(scratch.out().join(f).exists(), "{f} written");
    }
}

#[test]
fn a_receiver_without_native_histograms_gets_the_classic_buckets() {
    let demo = demo_target(&[]);
    let scratch = Scratch::new();
    let prom = prometheus(scratch.dir.path(), None, &RECEIVER[..1]);
    let file = health_scenario(&scratch, &demo.base, "3s");
    let o = pushing(&scratch, &file, &prom, "classic").output().unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o));
    let results = scratch.results(&o);
    let warning = results["warnings"][0].as_str().unwrap_or_default();
    assert!(warning.contains("refused native histograms"), "{warning}");
    assert!(!warning.contains("pushes failed"), "{warning}");
    let requests = results["totals"]["requests"].as_f64().unwrap();
    assert_eq!(
        query(
            &prom,
            "sum(last_over_time(trek_latency_seconds_count{testid=\"classic\"}[5m]))"
        ),
        Some(requests)
    );
}
