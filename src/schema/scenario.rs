//! The scenario file as its author writes it: one type per kind of map,
//! each field a key with its documentation. These types exist to generate
//! `schemas/scenario.schema.json` and the key reference (`docs/keys.md`);
//! the reader in `crate::scenario` checks the same keys, and a test keeps
//! the two in step.

#![allow(dead_code)]

use std::collections::BTreeMap;

use schemars::JsonSchema;

use super::steps::Step;
use super::values::*;

/// A trek test: one journey (`steps:`), several (`scenarios:`), or a library
/// of `fragments:` (and `include:`) for other files to include; a file has at
/// least one of these keys.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields, title = "trek scenario file")]
#[schemars(extend("anyOf" = [
    { "required": ["steps"] },
    { "required": ["scenarios"] },
    { "required": ["fragments"] },
    { "required": ["include"] }
]))]
pub struct TestFile {
    /// The language version. Only `1` exists.
    #[schemars(range(min = 1, max = 1), example = 1, extend("default" = 1))]
    version: Option<u8>,
    /// Shown in reports. Defaults to the file name.
    #[schemars(example = &"Checkout journey")]
    name: Option<Text>,
    /// Shown in reports and kept in results.json.
    #[schemars(example = &"Browse, add to cart, pay")]
    description: Option<Text>,
    /// Prefix of relative URLs. `--base-url` and `TREK_BASE_URL` win over it.
    #[schemars(example = &"http://127.0.0.1:8080")]
    base_url: Option<Template>,
    /// Test variables, rendered once before the run, in order; read as
    /// `vars.NAME`.
    #[schemars(example = vars_example())]
    vars: Option<BTreeMap<String, AnyValue>>,
    /// Applied to every request.
    defaults: Option<Defaults>,
    /// Named feeders of rows; a step reads the current row as `NAME.column`.
    data: Option<BTreeMap<String, Feeder>>,
    /// Other files (paths relative to this one) whose `fragments` become
    /// usable here: a list, or one path.
    #[schemars(example = include_example())]
    include: Option<Include>,
    /// Reusable lists of steps, inlined with `use:`.
    fragments: Option<BTreeMap<String, Vec<Step>>>,
    /// The journeys, run at the same time, each with its own load.
    #[schemars(extend("minProperties" = 1))]
    scenarios: Option<BTreeMap<String, Scenario>>,
    /// SLOs of the whole test (or, with top-level `steps`, of its journey).
    slo: Option<Slo>,
    /// The load of a single-journey file.
    load: Option<Load>,
    /// The steps of a single-journey file.
    steps: Option<Vec<Step>>,
    /// Steps run once by one user before any scenario starts (create test
    /// data, log in as an admin). What they capture is read everywhere
    /// after as `setup.NAME`. If one fails, no load starts (exit 3).
    #[schemars(example = setup_example())]
    setup: Option<Vec<Step>>,
    /// Steps run once after every scenario ended, also after a graceful
    /// stop (one Ctrl-C) or a failed SLO; they read `setup.NAME`.
    teardown: Option<Vec<Step>>,
    /// A single-journey file: steps each virtual user runs once before its
    /// first iteration (log in). What they capture, set and receive as
    /// cookies lasts for all the user's iterations.
    before: Option<Vec<Step>>,
    /// A single-journey file: steps each virtual user runs once after its
    /// last iteration ended normally (log out).
    after: Option<Vec<Step>>,
    /// The target's own metrics: Prometheus text endpoints read during the
    /// load, the series kept shown under the load in the reports and
    /// bounded by `slo.monitor`. An endpoint that does not answer is a
    /// warning, never a reason to stop.
    monitor: Option<Vec<Monitor>>,
}

/// One Prometheus text endpoint of the target, and the series to keep.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(example = monitor_example())]
pub struct Monitor {
    /// Shown in reports and warnings. Defaults to `monitor1`, `monitor2`…
    name: Option<Text>,
    /// The endpoint: a URL, or a path under base_url (`/metrics`).
    prometheus: Text,
    /// How often it is read (at least 100ms).
    #[schemars(extend("default" = "1s"))]
    every: Option<Duration>,
    /// Name → selector: a metric name with labels to match
    /// (`db_pool_connections{state="in_use"}`); the samples it matches are
    /// added up, and a counter (`_total`, or typed `counter`) is kept as its
    /// rate per second.
    #[schemars(extend("propertyNames" = { "pattern": "^[A-Za-z_][A-Za-z0-9_]*$" }))]
    #[schemars(example = series_example())]
    series: BTreeMap<String, Selector>,
}

fn series_example() -> serde_json::Value {
    serde_json::json!({ "db_in_use": "db_pool_connections{state=\"in_use\"}" })
}

fn monitor_example() -> serde_json::Value {
    serde_json::json!({
        "name": "api",
        "prometheus": "http://127.0.0.1:9100/metrics",
        "every": "1s",
        "series": {
            "db_in_use": "db_pool_connections{state=\"in_use\"}",
            "cpu": "process_cpu_seconds_total"
        }
    })
}

/// Bounds on statistics of a monitored series' values, one a second (each
/// bound is an upper bound).
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(example = monitor_stats_example())]
pub struct MonitorStats {
    /// Mean.
    avg: Option<NumberBound>,
    /// Smallest value.
    min: Option<NumberBound>,
    /// Largest value.
    max: Option<NumberBound>,
    /// Median.
    p50: Option<NumberBound>,
    /// 90th percentile.
    p90: Option<NumberBound>,
    /// 95th percentile.
    p95: Option<NumberBound>,
    /// 99th percentile.
    p99: Option<NumberBound>,
    /// 99.9th percentile.
    #[schemars(rename = "p99.9")]
    p99_9: Option<NumberBound>,
}

fn monitor_stats_example() -> serde_json::Value {
    serde_json::json!({ "max": { "target": 80, "critical": 95 } })
}

fn setup_example() -> serde_json::Value {
    serde_json::json!([{
        "name": "admin_login",
        "post": "/api/auth/login",
        "json": { "email": "admin@acme.test", "password": "{{ env('ADMIN_PASSWORD') }}" },
        "expect": { "status": 200 },
        "capture": { "admin_token": "$.access_token" }
    }])
}

fn vars_example() -> serde_json::Value {
    serde_json::json!({ "tenant": "acme", "api": "/api/v1/{{ vars.tenant }}" })
}

fn include_example() -> serde_json::Value {
    serde_json::json!(["lib/auth.yaml"])
}

/// Settings applied to every request.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(example = defaults_example())]
pub struct Defaults {
    /// Headers sent with every request (a step's own headers win).
    #[schemars(example = headers_example())]
    headers: Option<BTreeMap<String, Template>>,
    /// Time allowed for a whole exchange, redirects included.
    #[schemars(extend("default" = "30s"))]
    timeout: Option<Duration>,
    /// Pause after each request (not inside `parallel:`).
    think: Option<Think>,
    /// Follow redirects, each hop's cookies kept.
    #[schemars(extend("default" = true), example = true)]
    follow_redirects: Option<bool>,
    /// Skip TLS certificate verification (short for `tls: { insecure: true }`).
    #[schemars(extend("default" = false), example = false)]
    insecure: Option<bool>,
    /// TLS settings for https:// and wss://.
    tls: Option<super::net::Tls>,
    /// Which HTTP requests speak.
    #[schemars(extend("default" = "auto"), example = &"http1")]
    http_version: Option<super::net::HttpVersion>,
    /// The proxy requests go through. Default: HTTPS_PROXY / HTTP_PROXY /
    /// NO_PROXY from the environment.
    proxy: Option<super::net::ProxySetting>,
    /// How much of a response is kept for checks and captures; the rest is
    /// read, counted in bytes received and dropped. Also the largest SSE
    /// event and WebSocket message.
    #[schemars(extend("default" = "1MB"), example = &"4MB")]
    max_body: Option<super::net::Size>,
    /// Keep nothing of response bodies (they are still read and counted).
    #[schemars(extend("default" = false), example = true)]
    discard_body: Option<bool>,
}

fn headers_example() -> serde_json::Value {
    serde_json::json!({ "Accept": "application/json" })
}

/// A feeder: rows from a file or written inline (one of the two).
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(example = feeder_example())]
#[schemars(extend("oneOf" = [{ "required": ["file"] }, { "required": ["rows"] }]))]
pub struct Feeder {
    /// A CSV (header row) or JSON Lines file, relative to the scenario file.
    #[schemars(example = &"data/users.csv")]
    file: Option<Text>,
    /// Rows written inline, at least one.
    #[schemars(length(min = 1), example = rows_example())]
    rows: Option<Vec<BTreeMap<String, AnyValue>>>,
    /// How rows are handed out: `sequential` (each user takes the next,
    /// wrapping), `random`, or `unique` (each row once; the scenario ends when
    /// they run out).
    #[schemars(extend("default" = "sequential"))]
    order: Option<FeederOrder>,
    /// Who takes a new row: each `iteration`, or each virtual user once
    /// (`vu`: the user keeps its row for all its iterations and its
    /// `before`/`after`). With `order: unique`, `vu` needs a row per user.
    #[schemars(extend("default" = "iteration"))]
    per: Option<FeederPer>,
}

#[derive(JsonSchema)]
#[schemars(rename_all = "lowercase")]
#[schemars(example = feeder_per_example())]
pub enum FeederPer {
    Iteration,
    Vu,
}

fn before_example() -> serde_json::Value {
    serde_json::json!([{
        "name": "login",
        "post": "/api/auth/login",
        "json": { "email": "qa{{ vu }}@acme.test", "password": "secret" },
        "expect": { "status": 200 },
        "capture": { "token": "$.access_token" }
    }])
}

fn rows_example() -> serde_json::Value {
    serde_json::json!([{ "email": "ann@acme.test", "password": "secret" }])
}

#[derive(JsonSchema)]
#[schemars(rename_all = "lowercase")]
#[schemars(example = feeder_order_example())]
pub enum FeederOrder {
    Sequential,
    Random,
    Unique,
}

/// One journey with its own load.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(example = scenario_example())]
pub struct Scenario {
    /// How many users run it, and for how long.
    load: Option<Load>,
    /// Steps each virtual user runs once before its first iteration (log
    /// in). What they capture, set and receive as cookies lasts for all the
    /// user's iterations; if one fails, the user is retired.
    #[schemars(example = before_example())]
    before: Option<Vec<Step>>,
    /// What each user does, in order, each iteration.
    steps: Vec<Step>,
    /// Steps each virtual user runs once after its last iteration ended
    /// normally (log out).
    after: Option<Vec<Step>>,
    /// SLOs of this scenario.
    slo: Option<Slo>,
    /// Share of `--vus` this scenario gets, relative to the others.
    #[schemars(extend("default" = 1), example = 3)]
    weight: Option<f64>,
    /// A note for readers of the file; reports do not show it.
    #[schemars(example = &"Users who only browse")]
    description: Option<Text>,
}

/// The load: which executor, with its keys (as in k6).
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(example = load_example())]
pub struct Load {
    /// The executor. Without it: `constant-vus` with `duration`,
    /// `per-vu-iterations` with `iterations`.
    executor: Option<Executor>,
    /// Virtual users (closed executors).
    #[schemars(example = 50)]
    vus: Option<u64>,
    /// How long the executor runs.
    duration: Option<Duration>,
    /// Iterations per user (`per-vu-iterations`) or in all
    /// (`shared-iterations`).
    #[schemars(example = 10)]
    iterations: Option<u64>,
    /// Users at the start of `ramping-vus`.
    #[schemars(extend("default" = 0), example = 0)]
    start_vus: Option<u64>,
    /// Linear stages of `ramping-vus` (targets are users) or
    /// `ramping-arrival-rate` (targets are rates), at least one.
    #[schemars(length(min = 1))]
    stages: Option<Vec<Stage>>,
    /// Time running iterations get to finish at the end before they are cut
    /// (counted as interrupted, not failed).
    #[schemars(extend("default" = "30s"))]
    graceful_stop: Option<Duration>,
    /// Upper bound on the length of an iteration-count executor.
    #[schemars(extend("default" = "10m"))]
    max_duration: Option<Duration>,
    /// Arrivals per unit of time (`constant-arrival-rate`).
    rate: Option<Rate>,
    /// Rate at the start of `ramping-arrival-rate`.
    #[schemars(extend("default" = "0/s"))]
    start_rate: Option<Rate>,
    /// Most users busy at once in the open model; beyond it, due iterations
    /// wait in a bounded backlog, then are dropped. Default: peak rate × 1 s,
    /// between 10 and 1000. At least 1.
    #[schemars(range(min = 1), example = 200)]
    max_vus: Option<u64>,
}

#[derive(JsonSchema)]
#[schemars(rename_all = "kebab-case")]
#[schemars(example = executor_example())]
pub enum Executor {
    ConstantVus,
    PerVuIterations,
    SharedIterations,
    RampingVus,
    ConstantArrivalRate,
    RampingArrivalRate,
}

/// One linear stage of a ramp.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(example = stage_example())]
pub struct Stage {
    /// How long the stage lasts.
    duration: Duration,
    /// Users or rate at the end of the stage.
    target: StageTarget,
}

/// SLOs: bounds on metrics, judged at the end of the run.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(example = slo_example())]
pub struct Slo {
    /// Response time (request steps, streams), iteration-relative in the
    /// open model.
    latency: Option<Stats>,
    /// Time to the first byte; for a stream, to the first event.
    first_byte: Option<Stats>,
    /// Time between stream events or WebSocket messages.
    gap: Option<Stats>,
    /// Duration of whole iterations (scenario or test scope).
    iteration: Option<Stats>,
    /// Share of failed requests.
    #[schemars(example = &"1%")]
    error_rate: Option<ShareBound>,
    /// Completed requests per second; the bound is a minimum.
    #[schemars(example = &"100/s")]
    throughput: Option<RateBound>,
    /// Share of checks that passed; the bound is a minimum.
    #[schemars(example = &"99%")]
    checks: Option<ShareBound>,
    /// Open-model iterations dropped: a count (`0`), a share (`1%`) or a rate
    /// (`2/s`).
    #[schemars(example = 0)]
    dropped: Option<DroppedBound>,
    /// Series of `monitor:`, by name: bounds on their values, one a
    /// second (judged for the whole test wherever written).
    monitor: Option<BTreeMap<String, MonitorStats>>,
}

/// Bounds on statistics of a time metric.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(example = stats_example())]
pub struct Stats {
    /// Mean.
    avg: Option<DurationBound>,
    /// Smallest value.
    min: Option<DurationBound>,
    /// Largest value.
    max: Option<DurationBound>,
    /// Median.
    p50: Option<DurationBound>,
    /// 90th percentile.
    p90: Option<DurationBound>,
    /// 95th percentile.
    #[schemars(example = &"500ms")]
    p95: Option<DurationBound>,
    /// 99th percentile.
    p99: Option<DurationBound>,
    /// 99.9th percentile.
    #[schemars(rename = "p99.9")]
    p99_9: Option<DurationBound>,
}

fn defaults_example() -> serde_json::Value {
    serde_json::json!({"headers": {"Accept": "application/json"}, "timeout": "10s", "think": "1s..3s"})
}

fn feeder_example() -> serde_json::Value {
    serde_json::json!({"file": "data/users.csv", "order": "unique"})
}

fn feeder_per_example() -> serde_json::Value {
    serde_json::json!("vu")
}

fn feeder_order_example() -> serde_json::Value {
    serde_json::json!("unique")
}

fn scenario_example() -> serde_json::Value {
    serde_json::json!({"load": {"vus": 20, "duration": "5m"}, "steps": [{"get": "/health", "expect": {"status": 200}}], "slo": {"latency": {"p95": "500ms"}}})
}

fn load_example() -> serde_json::Value {
    serde_json::json!({"executor": "ramping-vus", "stages": [{"duration": "1m", "target": 50}, {"duration": "3m", "target": 50}]})
}

fn executor_example() -> serde_json::Value {
    serde_json::json!("constant-arrival-rate")
}

fn stage_example() -> serde_json::Value {
    serde_json::json!({"duration": "1m", "target": 50})
}

fn slo_example() -> serde_json::Value {
    serde_json::json!({"latency": {"p95": "500ms", "p99": {"target": "800ms", "critical": "1s"}}, "error_rate": "1%"})
}

fn stats_example() -> serde_json::Value {
    serde_json::json!({"p95": "500ms", "p99": "1s"})
}
