//! The compiled test: an immutable graph of steps shared by every virtual
//! user. Steps that produce metrics are addressed by an integer [`StepId`];
//! templates, JSONPaths and regexes are compiled; nothing here does I/O.

mod about;
mod compile;
pub mod render;
#[cfg(test)]
mod robustness_tests;
mod validate;

pub use about::About;
pub use compile::{compile, guess_type, Options};
pub use validate::{validate, Checked};

use std::sync::Arc;
use std::time::Duration;

use jsonpath_rust::parser::model::JpQuery;
use minijinja::value::Value;
use regex::Regex;

use crate::scenario::model::{FeederOrder, FeederPer, JsonType, Load, Method, Slo, Until};
use crate::scenario::units::Think;
use crate::template::{Expr, JsonTpl, Tpl};

/// Index of a measured step (request or group) in [`Plan::steps`].
pub type StepId = usize;

#[derive(Debug)]
pub struct Plan {
    pub name: String,
    pub description: Option<String>,
    pub file: String,
    pub seed: u64,
    /// Test variables, rendered once.
    pub vars: Value,
    pub feeders: Vec<FeederPlan>,
    /// Run once before any scenario starts; what it captures is `setup.*`.
    pub setup: Vec<Step>,
    /// Run once after every scenario ended.
    pub teardown: Vec<Step>,
    pub scenarios: Vec<ScenarioPlan>,
    /// Every measured step: of the setup, the teardown, and every scenario.
    pub steps: Vec<StepInfo>,
    pub slo: Vec<Slo>,
    pub follow_redirects: bool,
    /// Every distinct way of reaching a target the steps use; a step names
    /// its own by index. The first is `defaults`'.
    pub links: Vec<Link>,
    /// The target's own metrics, sampled during the run.
    pub monitors: Vec<MonitorPlan>,
}

/// A `monitor:` endpoint, its URL resolved.
#[derive(Debug, Clone)]
pub struct MonitorPlan {
    pub name: String,
    pub url: url::Url,
    pub every: Duration,
    /// Each kept series: its name and which samples add up to it.
    pub series: Vec<(String, crate::scenario::monitor::Selector)>,
}

/// How requests reach their target: TLS settings, HTTP version and proxy
/// (`None`: from the environment). A virtual user's connections made one
/// way are never used for a request that asks for another.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub tls: crate::scenario::net::Tls,
    pub http_version: crate::scenario::net::HttpVersion,
    pub proxy: Option<crate::scenario::net::Proxy>,
}

#[derive(Debug)]
pub struct FeederPlan {
    pub name: Arc<str>,
    pub rows: Vec<Value>,
    pub order: FeederOrder,
    pub per: FeederPer,
    /// `file:line:col` of its definition, for messages.
    pub at: String,
}

#[derive(Debug)]
pub struct ScenarioPlan {
    pub name: String,
    pub load: Load,
    /// Once per virtual user before its first iteration.
    pub before: Vec<Step>,
    pub steps: Vec<Step>,
    /// Once per virtual user after its last iteration ended normally.
    pub after: Vec<Step>,
    pub slo: Vec<Slo>,
    /// Share of `--vus` this scenario gets, relative to the others.
    pub weight: f64,
    /// Feeders (indexes into `Plan::feeders`) this scenario reads.
    pub feeders: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKindTag {
    Http,
    Sse,
    WebSocket,
    Group,
}

impl StepKindTag {
    pub fn as_str(self) -> &'static str {
        match self {
            StepKindTag::Http => "http",
            StepKindTag::Sse => "sse",
            StepKindTag::WebSocket => "websocket",
            StepKindTag::Group => "group",
        }
    }
}

/// When a step runs in the life of a test: once before the load, once per
/// virtual user before or after its iterations, in every iteration, or once
/// after the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    Setup,
    Before,
    Iteration,
    After,
    Teardown,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Setup => "setup",
            Phase::Before => "before",
            Phase::Iteration => "iteration",
            Phase::After => "after",
            Phase::Teardown => "teardown",
        }
    }

    /// Whether steps of this phase run as a virtual user of a scenario.
    pub fn is_user(self) -> bool {
        matches!(self, Phase::Before | Phase::Iteration | Phase::After)
    }
}

/// What reports need to know about a measured step.
#[derive(Debug, Clone)]
pub struct StepInfo {
    /// The scenario whose users run it; `None` for `setup` and `teardown`.
    pub scenario: Option<usize>,
    pub phase: Phase,
    pub name: String,
    pub kind: StepKindTag,
    pub slo: Vec<Slo>,
}

impl StepInfo {
    /// Its scenario's name, or `setup` / `teardown`.
    pub fn owner<'p>(&self, plan: &'p Plan) -> &'p str {
        match self.scenario {
            Some(i) => &plan.scenarios[i].name,
            None => self.phase.as_str(),
        }
    }

    /// Counted in its scenario's requests, throughput and error rate (the
    /// steps of its iterations only).
    pub fn in_iterations(&self) -> bool {
        self.phase == Phase::Iteration
    }
}

#[derive(Debug)]
pub struct Step {
    /// For messages: the step's name or a description of it.
    pub label: Arc<str>,
    pub when: Option<Expr>,
    pub think_after: Option<Think>,
    pub continue_on_fail: bool,
    pub node: Node,
    /// For `trek plan` only; never read while running.
    pub about: Box<About>,
}

#[derive(Debug)]
pub enum Node {
    Http(Box<HttpStep>),
    Sse(Box<SseStep>),
    WebSocket(Box<WsStep>),
    Think(Think),
    Group {
        id: StepId,
        steps: Vec<Step>,
        parallel: bool,
    },
    /// An inlined fragment (`use:`): its first step sets the `with:`
    /// values, which are scoped to it (`scoped`: their names).
    Fragment {
        scoped: Vec<String>,
        steps: Vec<Step>,
    },
    Repeat {
        count: Count,
        steps: Vec<Step>,
    },
    ForEach {
        list: Expr,
        item: String,
        steps: Vec<Step>,
    },
    Choose {
        /// Cumulative weights, last = total.
        cumulative: Vec<f64>,
        branches: Vec<Vec<Step>>,
    },
    Set(Vec<(String, JsonTpl)>),
}

/// A request whose response is a Server-Sent Events stream.
#[derive(Debug)]
pub struct SseStep {
    pub request: HttpStep,
    pub until: Option<Until>,
}

/// A WebSocket conversation.
#[derive(Debug)]
pub struct WsStep {
    pub id: StepId,
    pub target: WsTarget,
    pub headers: Vec<(String, Tpl)>,
    /// Keep the connection after the step, under this step's label.
    pub keep: bool,
    pub timeout: Duration,
    pub actions: Vec<WsAction>,
    /// Index in [`Plan::links`] (its TLS settings and proxy).
    pub link: usize,
    /// The largest message kept.
    pub max_message: usize,
}

#[derive(Debug)]
pub enum WsTarget {
    /// A `ws://` or `wss://` URL; `base` (already `ws(s)://`) prefixes a
    /// templated relative one.
    Url { url: Tpl, base: Option<Arc<str>> },
    /// The connection kept by the step with this label.
    Use(String),
}

#[derive(Debug)]
pub enum WsAction {
    SendText(Tpl),
    SendJson(JsonTpl),
    Receive {
        matcher: WsMatch,
        timeout: Duration,
        captures: Vec<Capture>,
    },
    Sleep(Duration),
    Close,
}

#[derive(Debug)]
pub enum WsMatch {
    Any,
    Json(Vec<JsonCheck>),
    Regex(Regex),
}

#[derive(Debug)]
pub enum Count {
    Fixed(u64),
    Expr(Expr),
}

#[derive(Debug)]
pub struct HttpStep {
    pub id: StepId,
    pub method: Method,
    /// The URL, already prefixed with the base URL when it was relative and
    /// literal; `base` is kept for templated relative URLs.
    pub url: Tpl,
    pub base: Option<Arc<str>>,
    /// The URL parsed once at load time, when it is a literal: no parsing
    /// per request.
    pub parsed_url: Option<url::Url>,
    pub headers: Vec<(String, Tpl)>,
    pub query: Vec<(String, Tpl)>,
    pub body: Body,
    pub timeout: Duration,
    pub expect: Expect,
    pub captures: Vec<Capture>,
    /// Index in [`Plan::links`].
    pub link: usize,
    /// How much of the body is kept for checks and captures (0 with
    /// `discard_body`); the rest is read, counted and dropped.
    pub max_body: usize,
}

#[derive(Debug)]
pub enum Body {
    None,
    Json(JsonTpl),
    Text(Tpl),
    Form(Vec<(String, Tpl)>),
    /// A file's bytes, read from disk as they are sent.
    File(Arc<std::path::Path>),
    Multipart(Vec<(String, Part)>),
}

/// A part of a `multipart/form-data` body.
#[derive(Debug)]
pub enum Part {
    Text(Tpl),
    File {
        path: Arc<std::path::Path>,
        content_type: String,
        filename: String,
    },
}

#[derive(Debug, Default)]
pub struct Expect {
    pub status: Option<Vec<u16>>,
    pub json: Vec<JsonCheck>,
    pub headers: Vec<(String, Matcher)>,
    pub body: Vec<Matcher>,
    pub latency: Option<Duration>,
    /// SSE: bounds on the number of events.
    pub events: Option<(Option<u64>, Option<u64>)>,
}

impl Expect {
    /// How many checks this expectation makes on each response.
    pub fn count(&self) -> u64 {
        1 + (self.json.len() + self.headers.len() + self.body.len()) as u64
            + u64::from(self.latency.is_some())
            + u64::from(self.events.is_some())
    }
}

#[derive(Debug)]
pub struct JsonCheck {
    pub path: String,
    pub query: JpQuery,
    pub matcher: Matcher,
}

#[derive(Debug)]
pub enum Matcher {
    Exists(bool),
    Eq(JsonTpl),
    Ne(JsonTpl),
    Lt(JsonTpl),
    Le(JsonTpl),
    Gt(JsonTpl),
    Ge(JsonTpl),
    Matches(Regex),
    Contains(JsonTpl),
    Length(Box<Matcher>),
    Type(JsonType),
    All(Vec<Matcher>),
}

#[derive(Debug)]
pub enum CaptureFrom {
    Json { path: String, query: JpQuery },
    Header(String),
    Regex(Regex),
    Status,
}

#[derive(Debug)]
pub struct Capture {
    pub name: String,
    pub from: CaptureFrom,
    pub default: Option<JsonTpl>,
}
