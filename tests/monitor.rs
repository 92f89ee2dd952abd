//! `monitor:`: the target's own metrics read during the run, against real
//! endpoints: Debian's `prometheus-node-exporter` (this machine's CPU and
//! memory, installed by scripts/test) and the demo target's `/metrics`.
//! Each series has a value per second in results.json and timeline.csv and
//! a chart in the HTML report; a `monitor` SLO that fails exits 1; an
//! endpoint that does not answer is a warning and gaps, and the run passes.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{code, demo_target, poll_until, text, trek, Scratch};

/// node_exporter (CPU and memory collectors) on a free loopback port.
struct NodeExporter {
    url: String,
    child: Child,
}

impl Drop for NodeExporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn node_exporter() -> NodeExporter {
    let bin = Path::new("/usr/bin/prometheus-node-exporter");
    assert!(
        bin.exists(),
        "node_exporter is missing: run scripts/test, which installs Debian's `prometheus-node-exporter`"
    );
    let port = free_port();
    let child = Command::new(bin)
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args([
            "--collector.disable-defaults",
            "--collector.cpu",
            "--collector.meminfo",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("node_exporter starts");
    let n = NodeExporter {
        url: format!("http://127.0.0.1:{port}/metrics"),
        child,
    };
    poll_until(Duration::from_secs(30), "node_exporter ready", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    n
}

fn series<'a>(results: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    results["monitors"]
        .as_array()
        .and_then(|a| a.iter().find(|m| m["name"] == name))
        .unwrap_or_else(|| panic!("no monitored series `{name}`: {}", results["monitors"]))
}

fn values(s: &serde_json::Value) -> Vec<Option<f64>> {
    s["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(serde_json::Value::as_f64)
        .collect()
}

fn run(scratch: &Scratch, file: &Path) -> std::process::Output {
    trek()
        .arg("run")
        .arg(file)
        .arg("--out")
        .arg(scratch.out())
        .arg("--quiet")
        .output()
        .unwrap()
}

#[test]
fn the_machines_cpu_and_memory_from_node_exporter_are_kept_per_second() {
    let node = node_exporter();
    let demo = demo_target(&[]);
    let scratch = Scratch::new();
    let file = scratch.file(
        "t.yaml",
        &format!(
            "version: 1\nbase_url: {}\nload: {{ vus: 2, duration: 5s }}\nmonitor:\n  - name: node\n    prometheus: {}\n    every: 1s\n    series:\n      idle_cpus: 'node_cpu_seconds_total{{mode=\"idle\"}}'\n      mem_available: node_memory_MemAvailable_bytes\nsteps:\n  - {{ name: health, get: /health, expect: {{ status: 200 }} }}\n  - think: 50ms\nslo:\n  error_rate: 1%\n",
            demo.base, node.url
        ),
    );
    let o = run(&scratch, &file);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let results = scratch.results(&o);
    assert!(results.get("warnings").is_none(), "{}", results["warnings"]);
    let duration = results["duration_s"].as_f64().unwrap();

    let mem = series(&results, "mem_available");
    assert_eq!(mem["counter"], false);
    assert_eq!(mem["monitor"], "node");
    let mem_values = values(mem);
    // A place for every second of the run, a value in nearly each.
    assert!(
        mem_values.len() as f64 >= duration.floor(),
        "{mem_values:?}"
    );
    let total: f64 = std::fs::read_to_string("/proc/meminfo")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap()
        * 1024.0;
    let seen: Vec<f64> = mem_values.iter().flatten().copied().collect();
    assert!(seen.len() >= 4, "{mem_values:?}");
    assert!(
        seen.iter().all(|v| *v > 0.0 && *v <= total),
        "{seen:?} of {total}"
    );

    // A counter: the idle CPU seconds per second, between 0 and the cores.
    let idle = series(&results, "idle_cpus");
    assert_eq!(idle["counter"], true);
    let cores = std::thread::available_parallelism().unwrap().get() as f64;
    let rates: Vec<f64> = values(idle).into_iter().flatten().collect();
    assert!(rates.len() >= 3, "{}", idle["values"]);
    assert!(
        rates.iter().all(|r| (0.0..=cores + 0.5).contains(r)),
        "{rates:?} with {cores} cores"
    );
    let max = idle["max"].as_f64().unwrap();
    assert_eq!(max, rates.iter().copied().fold(f64::NEG_INFINITY, f64::max));

    // timeline.csv: a column per series, a value in its seconds.
    let csv = std::fs::read_to_string(scratch.out().join("timeline.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "monitor_mem_available")
        .expect("a monitor_mem_available column");
    assert!(header.contains(&"monitor_idle_cpus"), "{header:?}");
    let filled = lines
        .filter(|l| {
            l.split(',')
                .nth(col)
                .is_some_and(|v| v.parse::<f64>().is_ok())
        })
        .count();
    assert!(filled >= 3, "{csv}");
    let html = std::fs::read_to_string(scratch.out().join("report.html")).unwrap();
    assert!(html.contains("The target's own metrics"));
    assert!(html.contains("node_memory_MemAvailable_bytes"));
}

#[test]
fn the_demo_targets_metrics_move_with_the_load_and_a_monitor_slo_can_fail_the_run() {
    let demo = demo_target(&["--latency", "20ms"]);
    let scratch = Scratch::new();
    let file = scratch.file(
        "t.yaml",
        &format!(
            "version: 1\nbase_url: {}\nload: {{ vus: 8, duration: 4s }}\nmonitor:\n  - name: demo\n    prometheus: /metrics\n    series:\n      in_flight: http_requests_in_flight\n      served: http_requests_total\nsteps:\n  - {{ name: foods, get: /api/nutrition/foods, expect: {{ status: [200, 401] }} }}\nslo:\n  monitor: {{ served: {{ max: 1 }}, in_flight: {{ max: 1000 }} }}\n",
            demo.base
        ),
    );
    let o = run(&scratch, &file);
    // The target served far more than one request a second.
    assert_eq!(code(&o), 1, "{}", text(&o));
    let results = scratch.results(&o);
    assert_eq!(results["verdict"], "fail");
    let slo = |name: &str| {
        results["slos"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["series"] == name)
            .unwrap_or_else(|| panic!("no SLO on {name}: {}", results["slos"]))
    };
    assert_eq!(slo("served")["metric"], "monitor");
    assert_eq!(slo("served")["verdict"], "fail");
    assert_eq!(slo("in_flight")["verdict"], "pass");
    let served = series(&results, "served");
    assert_eq!(served["counter"], true);
    // Its rate is the load: as many requests a second as trek sent.
    let sent = results["totals"]["throughput"].as_f64().unwrap();
    let avg = served["avg"].as_f64().unwrap();
    assert!(
        avg > sent * 0.5 && avg < sent * 1.5,
        "the target served {avg}/s while trek sent {sent}/s"
    );
    // Eight users waiting 20 ms on each answer: requests are in flight.
    let in_flight = series(&results, "in_flight")["max"].as_f64().unwrap();
    assert!(in_flight >= 1.0, "{in_flight}");
    assert!(text(&o).contains("monitor served max"), "{}", text(&o));
}

#[test]
fn a_monitor_that_does_not_answer_is_a_warning_and_the_run_passes() {
    let demo = demo_target(&[]);
    let scratch = Scratch::new();
    let closed = free_port();
    let file = scratch.file(
        "t.yaml",
        &format!(
            "version: 1\nbase_url: {}\nload: {{ vus: 2, duration: 3s }}\nmonitor:\n  - name: db\n    prometheus: http://127.0.0.1:{closed}/metrics\n    series:\n      pool: db_pool_connections\nsteps:\n  - {{ name: health, get: /health, expect: {{ status: 200 }} }}\n  - think: 50ms\nslo:\n  error_rate: 1%\n",
            demo.base
        ),
    );
    let o = run(&scratch, &file);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let results = scratch.results(&o);
    assert_eq!(results["verdict"], "pass");
    let warning = results["warnings"][0].as_str().unwrap_or_default();
    assert!(
        warning.contains("monitor db") && warning.contains("reads failed"),
        "{}",
        results["warnings"]
    );
    assert!(text(&o).contains("reads failed"), "{}", text(&o));
    let pool = values(series(&results, "pool"));
    assert!(
        pool.len() >= 3 && pool.iter().all(Option::is_none),
        "{pool:?}"
    );
    assert!(results["totals"]["requests"].as_u64().unwrap() > 10);
}
