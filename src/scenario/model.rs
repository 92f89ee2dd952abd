//! The scenario language as typed Rust values.
//!
//! This is what a file means once it has been read and its shapes checked:
//! every string that may hold a template is kept as [`Text`] with its
//! position, so later stages (compiling, scope checks) can still point at it.

use std::sync::Arc;
use std::time::Duration;

use crate::diagnostic::{Source, Span};
pub use crate::scenario::net::{BodyFile, Net, Part};
use crate::scenario::units::Think;
use crate::scenario::yaml::Node;

/// A string as written in the file (possibly a template), with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    pub value: String,
    pub span: Span,
}

#[derive(Debug)]
pub struct Test {
    pub source: Arc<Source>,
    /// Every other file it reads (includes, data, bodies, certificates).
    pub files: Vec<UsedFile>,
    pub name: String,
    pub description: Option<String>,
    pub base_url: Option<Text>,
    /// Test variables; string leaves are templates rendered once at start.
    pub vars: Vec<(String, Node)>,
    pub defaults: Defaults,
    pub data: Vec<Feeder>,
    pub fragments: Vec<Fragment>,
    /// Run once by one user before any scenario starts; its captures are
    /// read everywhere after it as `setup.NAME`.
    pub setup: Vec<Step>,
    /// Run once after every scenario ended (also after a graceful stop).
    pub teardown: Vec<Step>,
    pub scenarios: Vec<Scenario>,
    pub slo: Vec<Slo>,
    /// The target's own metrics, sampled during the run.
    pub monitors: Vec<crate::scenario::monitor::Monitor>,
}

/// A file a test reads besides its own.
#[derive(Debug, Clone, PartialEq)]
pub struct UsedFile {
    pub path: std::path::PathBuf,
    /// A private key (kept in a Kubernetes Secret, not a ConfigMap).
    pub secret: bool,
}

#[derive(Debug, Clone)]
pub struct Defaults {
    pub headers: Vec<(String, Text)>,
    pub timeout: Duration,
    pub think: Option<Think>,
    pub follow_redirects: bool,
    pub insecure: bool,
    /// `tls`, `http_version`, `proxy`, `max_body`, `discard_body`.
    pub net: Net,
}

impl Default for Defaults {
    fn default() -> Self {
        Self {
            headers: Vec::new(),
            timeout: Duration::from_secs(30),
            think: None,
            follow_redirects: true,
            insecure: false,
            net: Net::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeederOrder {
    Sequential,
    Random,
    Unique,
}

pub type Row = serde_json::Map<String, serde_json::Value>;

/// Who takes a new row of a feeder: every iteration, or every virtual user
/// once (for all its iterations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeederPer {
    Iteration,
    Vu,
}

/// A named source of rows; files are read when the scenario is loaded.
#[derive(Debug, Clone)]
pub struct Feeder {
    pub name: String,
    pub rows: Vec<Row>,
    pub order: FeederOrder,
    pub per: FeederPer,
    /// Where the feeder is defined (its name).
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Fragment {
    pub name: String,
    pub steps: Vec<Step>,
    /// Where the name is written, in `source` (this file or an included one).
    pub span: Span,
    pub source: Arc<Source>,
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub load: Load,
    /// Once per virtual user, before its first iteration: what it captures,
    /// sets and receives as cookies lasts for all the user's iterations.
    pub before: Vec<Step>,
    pub steps: Vec<Step>,
    /// Once per virtual user, after its last iteration ended normally.
    pub after: Vec<Step>,
    pub slo: Vec<Slo>,
    pub weight: f64,
}

#[derive(Debug, Clone)]
pub struct Load {
    pub executor: Executor,
    pub graceful_stop: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    pub duration: Duration,
    pub target: u64,
}

/// A stage of an arrival-rate ramp: `target` iterations per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateStage {
    pub duration: Duration,
    pub target: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Executor {
    ConstantVus {
        vus: u64,
        duration: Duration,
    },
    PerVuIterations {
        vus: u64,
        iterations: u64,
        max_duration: Duration,
    },
    SharedIterations {
        vus: u64,
        iterations: u64,
        max_duration: Duration,
    },
    RampingVus {
        start_vus: u64,
        stages: Vec<Stage>,
    },
    /// Open model: `rate` iterations per second for `duration`.
    ConstantArrivalRate {
        rate: f64,
        duration: Duration,
        /// `None`: see [`default_max_vus`].
        max_vus: Option<u64>,
    },
    /// Open model: the rate moves linearly from stage to stage.
    RampingArrivalRate {
        start_rate: f64,
        stages: Vec<RateStage>,
        max_vus: Option<u64>,
    },
}

/// The `max_vus` of an open-model executor that gives none: enough users for
/// one second of the peak rate, between 10 and 1,000.
pub fn default_max_vus(peak_rate: f64) -> u64 {
    (peak_rate.ceil() as u64).clamp(10, 1000)
}

impl Executor {
    pub fn name(&self) -> &'static str {
        match self {
            Executor::ConstantVus { .. } => "constant-vus",
            Executor::PerVuIterations { .. } => "per-vu-iterations",
            Executor::SharedIterations { .. } => "shared-iterations",
            Executor::RampingVus { .. } => "ramping-vus",
            Executor::ConstantArrivalRate { .. } => "constant-arrival-rate",
            Executor::RampingArrivalRate { .. } => "ramping-arrival-rate",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Step {
    pub name: Option<Text>,
    pub when: Option<Text>,
    pub think: Option<Think>,
    /// `on_fail: continue`: a failed check does not end the iteration.
    pub continue_on_fail: bool,
    pub span: Span,
    pub kind: StepKind,
}

#[derive(Debug, Clone)]
pub enum StepKind {
    Http(Box<Http>),
    /// A Server-Sent Events stream, read until `until` or its end.
    Sse(Box<Http>, Option<Until>),
    WebSocket(Box<WebSocket>),
    Think(Think),
    Group {
        name: Text,
        steps: Vec<Step>,
        parallel: bool,
        slo: Vec<Slo>,
    },
    Repeat {
        count: Text,
        steps: Vec<Step>,
    },
    ForEach {
        list: Text,
        item: String,
        steps: Vec<Step>,
    },
    Choose(Vec<Branch>),
    Use {
        fragment: Text,
        with: Vec<(String, Node)>,
    },
    Set(Vec<(String, Node)>),
}

/// A WebSocket conversation: connect (or reuse a kept connection), then
/// run the actions in order.
#[derive(Debug, Clone)]
pub struct WebSocket {
    pub target: WsTarget,
    pub headers: Vec<(String, Text)>,
    /// Keep the connection open for later steps of the iteration, under the
    /// step's name.
    pub keep: bool,
    pub timeout: Option<Duration>,
    pub actions: Vec<WsAction>,
    pub slo: Vec<Slo>,
    /// `tls`, `proxy` and `max_body` (the largest message kept).
    pub net: Net,
}

#[derive(Debug, Clone)]
pub enum WsTarget {
    Url(Text),
    /// `websocket: { use: NAME }`: the connection kept by step NAME.
    Use(Text),
}

#[derive(Debug, Clone)]
pub enum WsAction {
    /// A text message; a YAML map or list is sent as JSON.
    Send(Node),
    Receive {
        matcher: WsMatch,
        timeout: Option<Duration>,
        capture: Vec<Capture>,
    },
    Sleep(Duration),
    Close,
}

/// Which received message a `receive` waits for; others are skipped.
#[derive(Debug, Clone)]
pub enum WsMatch {
    Any,
    /// JSONPath → matcher, all holding on the message parsed as JSON.
    Json(Vec<(Text, Matcher)>),
    Regex(Text),
}

/// When an SSE step stops reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Until {
    /// The first event of this type.
    Event(String),
    /// The first event whose data is exactly this.
    Data(String),
}

#[derive(Debug, Clone)]
pub struct Branch {
    pub weight: f64,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Options,
}

impl Method {
    pub const KEYS: [&'static str; 7] =
        ["get", "post", "put", "patch", "delete", "head", "options"];

    pub fn from_key(key: &str) -> Option<Self> {
        Some(match key {
            "get" => Method::Get,
            "post" => Method::Post,
            "put" => Method::Put,
            "patch" => Method::Patch,
            "delete" => Method::Delete,
            "head" => Method::Head,
            "options" => Method::Options,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
        }
    }
}

#[derive(Debug, Clone)]
pub enum Body {
    None,
    /// Any YAML value; string leaves are templates.
    Json(Node),
    Text(Text),
    Form(Vec<(String, Text)>),
    /// `body_file:`, streamed from disk.
    File(BodyFile),
    Multipart(Vec<(String, Part)>),
}

#[derive(Debug, Clone)]
pub struct Http {
    pub method: Method,
    pub url: Text,
    pub headers: Vec<(String, Text)>,
    pub query: Vec<(String, Text)>,
    pub body: Body,
    pub timeout: Option<Duration>,
    pub expect: Expect,
    pub capture: Vec<Capture>,
    pub slo: Vec<Slo>,
    /// The step's own connection settings, over `defaults`'.
    pub net: Net,
}

#[derive(Debug, Clone, Default)]
pub struct Expect {
    /// Accepted statuses; `None` means any 2xx or 3xx.
    pub status: Option<Vec<u16>>,
    pub json: Vec<(Text, Matcher)>,
    pub headers: Vec<(String, Matcher)>,
    pub body: Vec<Matcher>,
    pub latency: Option<Duration>,
    /// SSE: how many events the stream may carry.
    pub events: Option<(Option<u64>, Option<u64>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    String,
    Number,
    Bool,
    Object,
    Array,
    Null,
}

impl JsonType {
    pub fn name(self) -> &'static str {
        match self {
            JsonType::String => "string",
            JsonType::Number => "number",
            JsonType::Bool => "bool",
            JsonType::Object => "object",
            JsonType::Array => "array",
            JsonType::Null => "null",
        }
    }
}

/// One condition on a value. Operands are YAML values whose string leaves are
/// templates.
#[derive(Debug, Clone)]
pub enum Matcher {
    Exists(bool),
    Eq(Node),
    Ne(Node),
    Lt(Node),
    Le(Node),
    Gt(Node),
    Ge(Node),
    Matches(Text),
    Contains(Node),
    Length(Node),
    Type(JsonType),
    /// Several conditions in one map: all must hold.
    All(Vec<Matcher>),
}

#[derive(Debug, Clone)]
pub enum CaptureSource {
    Json(Text),
    Header(String),
    Regex(Text),
    Status,
}

#[derive(Debug, Clone)]
pub struct Capture {
    pub name: String,
    pub source: CaptureSource,
    pub default: Option<Node>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SloMetric {
    Latency,
    FirstByte,
    Gap,
    Iteration,
    ErrorRate,
    Throughput,
    Checks,
    /// Open model: iterations dropped, as a count, a share of the scheduled
    /// iterations, or per second.
    Dropped(DropUnit),
    /// A series of `monitor:` (named by the SLO's `series`), per second.
    Monitor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropUnit {
    Count,
    Share,
    PerSecond,
}

impl DropUnit {
    pub fn from_key(key: &str) -> Option<Self> {
        Some(match key {
            "count" => DropUnit::Count,
            "share" => DropUnit::Share,
            "per_second" => DropUnit::PerSecond,
            _ => return None,
        })
    }

    pub fn key(self) -> &'static str {
        match self {
            DropUnit::Count => "count",
            DropUnit::Share => "share",
            DropUnit::PerSecond => "per_second",
        }
    }
}

impl SloMetric {
    /// The metric of an `slo:` key (`dropped` in `unit`).
    pub fn from_key(key: &str, unit: DropUnit) -> Option<Self> {
        Some(match key {
            "latency" => SloMetric::Latency,
            "first_byte" => SloMetric::FirstByte,
            "gap" => SloMetric::Gap,
            "iteration" => SloMetric::Iteration,
            "error_rate" => SloMetric::ErrorRate,
            "throughput" => SloMetric::Throughput,
            "checks" => SloMetric::Checks,
            "dropped" => SloMetric::Dropped(unit),
            "monitor" => SloMetric::Monitor,
            _ => return None,
        })
    }

    pub fn key(self) -> &'static str {
        match self {
            SloMetric::Latency => "latency",
            SloMetric::FirstByte => "first_byte",
            SloMetric::Gap => "gap",
            SloMetric::Iteration => "iteration",
            SloMetric::ErrorRate => "error_rate",
            SloMetric::Throughput => "throughput",
            SloMetric::Checks => "checks",
            SloMetric::Dropped(_) => "dropped",
            SloMetric::Monitor => "monitor",
        }
    }

    /// Whether a larger measured value is better (throughput, checks).
    pub fn higher_is_better(self) -> bool {
        matches!(self, SloMetric::Throughput | SloMetric::Checks)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    Min,
    Avg,
    Max,
    P50,
    P90,
    P95,
    P99,
    P999,
}

impl Stat {
    pub const KEYS: [&'static str; 8] = ["avg", "min", "max", "p50", "p90", "p95", "p99", "p99.9"];

    pub fn from_key(key: &str) -> Option<Self> {
        Some(match key {
            "min" => Stat::Min,
            "avg" => Stat::Avg,
            "max" => Stat::Max,
            "p50" => Stat::P50,
            "p90" => Stat::P90,
            "p95" => Stat::P95,
            "p99" => Stat::P99,
            "p99.9" => Stat::P999,
            _ => return None,
        })
    }

    pub fn key(self) -> &'static str {
        match self {
            Stat::Min => "min",
            Stat::Avg => "avg",
            Stat::Max => "max",
            Stat::P50 => "p50",
            Stat::P90 => "p90",
            Stat::P95 => "p95",
            Stat::P99 => "p99",
            Stat::P999 => "p99.9",
        }
    }
}

/// `target` missed gives warn; `critical` missed gives fail. Values are in
/// seconds (times), a fraction (shares) or per second (throughput).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold {
    pub target: Option<f64>,
    pub critical: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    pub metric: SloMetric,
    /// A `monitor` SLO: the series' name.
    pub series: Option<String>,
    pub stat: Option<Stat>,
    pub threshold: Threshold,
    /// Judged while the run goes: stop the test as soon as the critical
    /// bound is crossed.
    pub abort: bool,
    /// Judged only on what happened from this long after the load started.
    pub after: Option<std::time::Duration>,
    pub span: Span,
}
