//! Live metrics against the real Prometheus (Debian's package, installed by
//! scripts/test): it scrapes `trek run --metrics-listen` every second
//! during a 10 s run against the demo target, and what it stored agrees
//! with results.json: the request count exactly, the p95 within a bucket;
//! every query of the Grafana dashboard (dashboards/trek.json) returns
//! data.

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

fn prometheus(dir: &Path, target: &str) -> Prometheus {
    let bin = Path::new("/usr/bin/prometheus");
    assert!(
        bin.exists(),
        "Prometheus is missing: run scripts/test, which installs Debian's `prometheus`"
    );
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: trek\n    static_configs:\n      - targets: ['{target}']\n"),
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
    let file = scratch.file(
        "t.yaml",
        &format!(
            "version: 1\nbase_url: {}\nload: {{ vus: 4, duration: 10s }}\nsteps:\n  - {{ name: health, get: /health, expect: {{ status: 200 }} }}\n  - think: 20ms\nslo:\n  error_rate: 1%\n  latency: {{ p95: 500ms }}\n",
            demo.base
        ),
    );
    let (child, addr) = run_publishing(&scratch, &file, &["--testid", "scraped"]);
    let prom = prometheus(scratch.dir.path(), &addr);
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
                .replace("$testid", "scraped")
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
