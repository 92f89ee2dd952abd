//! The steps of a journey as written: one type per kind of step, with the
//! keys every step shares, for the generated schema and key reference.

#![allow(dead_code)]

use std::collections::BTreeMap;

use schemars::JsonSchema;

use super::net::*;
use super::scenario::Slo;
use super::values::*;

/// One step of a journey. Its kind is the key that names it: a method
/// (`get`, `post`…), `sse`, `websocket`, `think`, `group`, `repeat`,
/// `for_each`, `choose`, `use` or `set`.
#[derive(JsonSchema)]
#[schemars(untagged)]
#[schemars(example = step_example())]
pub enum Step {
    Get(GetStep),
    Post(PostStep),
    Put(PutStep),
    Patch(PatchStep),
    Delete(DeleteStep),
    Head(HeadStep),
    Options(OptionsStep),
    Sse(SseStep),
    WebSocket(WebSocketStep),
    Think(ThinkStep),
    Group(GroupStep),
    Repeat(RepeatStep),
    ForEach(ForEachStep),
    Choose(ChooseStep),
    Use(UseStep),
    Set(SetStep),
}

#[derive(JsonSchema)]
#[schemars(rename_all = "lowercase")]
#[schemars(example = on_fail_example())]
pub enum OnFail {
    Stop,
    Continue,
}

/// Declares a step type with the keys every step shares, then its own.
macro_rules! step {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $f:ident : $t:ty,)* }) => {
        #[derive(JsonSchema)]
        $(#[$m])*
        #[schemars(deny_unknown_fields)]
        pub struct $name {
            /// The step's name in reports and results, unique in its
            /// scenario. Default: the method and URL, or the kind.
            #[schemars(example = &"login")]
            name: Option<Text>,
            /// Run the step only when this expression is true.
            #[schemars(example = &"{{ cart | length > 0 }}")]
            when: Option<Template>,
            /// Pause after this step (overrides `defaults.think`).
            think: Option<Think>,
            /// `stop` ends the iteration when a check of this step fails;
            /// `continue` goes on to the next step.
            #[schemars(extend("default" = "stop"))]
            on_fail: Option<OnFail>,
            $($(#[$fm])* $f: $t,)*
        }
    };
}

/// Declares an HTTP request step for one method.
macro_rules! request_step {
    ($name:ident, $method:ident, $doc:literal) => {
        step!(
            #[doc = $doc]
            $name {
                /// The URL: absolute, or relative to `base_url`; a template.
                #[schemars(example = &"/api/items/{{ item_id }}")]
                $method: Template,
                /// Request headers (templates).
                headers: Option<BTreeMap<String, Template>>,
                /// Query parameters added to the URL (templates).
                query: Option<BTreeMap<String, Template>>,
                /// A JSON body; string leaves are templates, and a leaf that is
                /// only `{{ … }}` keeps its type (number, list…).
                json: Option<AnyValue>,
                /// A text body (template).
                body: Option<Template>,
                /// A form body (`application/x-www-form-urlencoded`).
                form: Option<BTreeMap<String, Template>>,
                /// A file sent as the body, streamed from disk (relative to the
                /// scenario file).
                #[schemars(example = &"fixtures/export.csv")]
                body_file: Option<Text>,
                /// A `multipart/form-data` body: text fields and files.
                #[schemars(example = multipart_example())]
                multipart: Option<Multipart>,
                /// TLS settings over `defaults.tls`, key by key.
                tls: Option<Tls>,
                /// HTTP version (overrides `defaults.http_version`).
                #[schemars(example = &"http2")]
                http_version: Option<HttpVersion>,
                /// Proxy (overrides `defaults.proxy`).
                #[schemars(example = &"none")]
                proxy: Option<ProxySetting>,
                /// How much of the response is kept for checks and captures;
                /// the rest is read, counted and dropped.
                #[schemars(example = &"10MB")]
                max_body: Option<Size>,
                /// Keep nothing of the response body.
                #[schemars(example = true)]
                discard_body: Option<bool>,
                /// Time allowed for this exchange (overrides `defaults.timeout`).
                timeout: Option<Duration>,
                /// Checks of the response. Without it, any 2xx or 3xx passes.
                expect: Option<Expect>,
                /// Variables taken from the response, for later steps.
                #[schemars(example = capture_example())]
                capture: Option<BTreeMap<String, CaptureSource>>,
                /// SLOs of this step.
                slo: Option<Slo>,
            }
        );
    };
}

fn multipart_example() -> serde_json::Value {
    serde_json::json!({ "title": "lunch", "photo": { "file": "fixtures/meal.jpg" } })
}

fn capture_example() -> serde_json::Value {
    serde_json::json!({ "token": "$.access_token" })
}

request_step!(GetStep, get, "A GET request.");
request_step!(PostStep, post, "A POST request.");
request_step!(PutStep, put, "A PUT request.");
request_step!(PatchStep, patch, "A PATCH request.");
request_step!(DeleteStep, delete, "A DELETE request.");
request_step!(HeadStep, head, "A HEAD request.");
request_step!(OptionsStep, options, "An OPTIONS request.");

/// Checks of a response; all must hold.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(example = expect_example())]
pub struct Expect {
    /// Accepted status or statuses.
    status: Option<Status>,
    /// JSONPath → matcher, on the JSON body.
    #[schemars(example = json_checks_example())]
    json: Option<BTreeMap<String, Matcher>>,
    /// Header name → matcher.
    #[schemars(example = header_checks_example())]
    headers: Option<BTreeMap<String, Matcher>>,
    /// Checks of the body text.
    body: Option<BodyCheck>,
    /// The response must come faster than this (a check, not an SLO).
    latency: Option<LatencyCheck>,
}

fn json_checks_example() -> serde_json::Value {
    serde_json::json!({ "$.items": { "length": { "gt": 0 } } })
}

fn header_checks_example() -> serde_json::Value {
    serde_json::json!({ "content-type": { "contains": "json" } })
}

/// Checks of a stream's response; all must hold.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(example = stream_expect_example())]
pub struct StreamExpect {
    /// Accepted status or statuses.
    status: Option<Status>,
    /// JSONPath → matcher, on the last event's data.
    json: Option<BTreeMap<String, Matcher>>,
    /// Header name → matcher.
    headers: Option<BTreeMap<String, Matcher>>,
    /// Checks of the last event's data.
    body: Option<BodyCheck>,
    /// The stream must end faster than this.
    latency: Option<LatencyCheck>,
    /// How many events the stream may carry.
    events: Option<EventCount>,
}

/// Checks of a body's text.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(example = body_check_example())]
pub struct BodyCheck {
    /// Text the body must contain.
    #[schemars(example = &"\"ok\"")]
    contains: Option<AnyValue>,
    /// A regex the body must match.
    #[schemars(example = &"order-[0-9]+")]
    matches: Option<Text>,
}

/// A latency check.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(example = latency_check_example())]
pub struct LatencyCheck {
    /// Upper bound, exclusive.
    lt: Duration,
}

/// Bounds on the number of stream events.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(example = event_count_example())]
pub struct EventCount {
    /// At least this many.
    #[schemars(example = 1)]
    min: Option<u64>,
    /// At most this many.
    #[schemars(example = 500)]
    max: Option<u64>,
}

step!(
    /// Reads a Server-Sent Events stream.
    SseStep {
        /// The stream's URL (template).
        #[schemars(example = &"/api/chat")]
        sse: Template,
        /// The request method.
        #[schemars(extend("default" = "GET"))]
        method: Option<SseMethod>,
        /// Stop reading at this event (by name) or data.
        until: Option<Until>,
        /// Request headers (templates).
        headers: Option<BTreeMap<String, Template>>,
        /// Query parameters (templates).
        query: Option<BTreeMap<String, Template>>,
        /// A JSON body.
        json: Option<AnyValue>,
        /// A text body.
        body: Option<Template>,
        /// A form body.
        form: Option<BTreeMap<String, Template>>,
        /// A file sent as the body.
        #[schemars(example = &"prompts/long.txt")]
        body_file: Option<Text>,
        /// A `multipart/form-data` body.
        #[schemars(example = multipart_example())]
        multipart: Option<Multipart>,
        /// TLS settings over `defaults.tls`.
        tls: Option<Tls>,
        /// HTTP version.
        #[schemars(example = &"http1")]
        http_version: Option<HttpVersion>,
        /// Proxy.
        #[schemars(example = &"none")]
        proxy: Option<ProxySetting>,
        /// The largest event kept; a longer one fails the step.
        #[schemars(example = &"4MB")]
        max_body: Option<Size>,
        /// Keep nothing of the body.
        #[schemars(example = true)]
        discard_body: Option<bool>,
        /// Time allowed for the whole stream.
        timeout: Option<Duration>,
        /// Checks of the stream.
        expect: Option<StreamExpect>,
        /// Variables taken from the last event.
        capture: Option<BTreeMap<String, CaptureSource>>,
        /// SLOs of this stream (`first_byte` is the first event, `gap` the
        /// time between events).
        slo: Option<Slo>,
    }
);

/// An HTTP method, written in capitals or in lower case as step keys are.
#[derive(JsonSchema)]
#[schemars(example = sse_method_example())]
pub enum SseMethod {
    #[schemars(rename = "GET")]
    Get,
    #[schemars(rename = "POST")]
    Post,
    #[schemars(rename = "PUT")]
    Put,
    #[schemars(rename = "PATCH")]
    Patch,
    #[schemars(rename = "DELETE")]
    Delete,
    #[schemars(rename = "HEAD")]
    Head,
    #[schemars(rename = "OPTIONS")]
    Options,
    #[schemars(rename = "get")]
    GetLower,
    #[schemars(rename = "post")]
    PostLower,
    #[schemars(rename = "put")]
    PutLower,
    #[schemars(rename = "patch")]
    PatchLower,
    #[schemars(rename = "delete")]
    DeleteLower,
    #[schemars(rename = "head")]
    HeadLower,
    #[schemars(rename = "options")]
    OptionsLower,
}

/// When a stream is done: one of `event` or `data`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(example = until_example())]
#[schemars(extend("oneOf" = [{ "required": ["event"] }, { "required": ["data"] }]))]
pub struct Until {
    /// An event with this `event:` name.
    #[schemars(example = &"done")]
    event: Option<Text>,
    /// An event whose data is this text.
    #[schemars(example = &"[DONE]")]
    data: Option<Text>,
}

step!(
    /// A WebSocket conversation.
    WebSocketStep {
        /// A `ws://` or `wss://` URL (or a path under `base_url`), or
        /// `{ use: NAME }` to continue on the connection an earlier step kept.
        websocket: WsTarget,
        /// Handshake headers (templates).
        headers: Option<BTreeMap<String, Template>>,
        /// Keep the connection open for later steps of the iteration.
        #[schemars(extend("default" = false), example = true)]
        keep: Option<bool>,
        /// Default time allowed for each `receive`.
        timeout: Option<Duration>,
        /// What to do, in order.
        actions: Option<Vec<WsAction>>,
        /// SLOs (`first_byte` is the first message, `gap` the time between
        /// messages).
        slo: Option<Slo>,
        /// TLS settings over `defaults.tls`, for wss://.
        tls: Option<Tls>,
        /// Proxy (a CONNECT tunnel).
        #[schemars(example = &"none")]
        proxy: Option<ProxySetting>,
        /// The largest message accepted; a larger one ends the connection.
        #[schemars(example = &"16MB")]
        max_body: Option<Size>,
    }
);

/// Where a WebSocket step connects.
#[derive(JsonSchema)]
#[schemars(untagged)]
#[schemars(example = ws_target_example())]
pub enum WsTarget {
    Url(Template),
    Kept(KeptConnection),
}

/// A connection kept open by an earlier step.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct KeptConnection {
    /// The name of the step that kept it.
    #[schemars(rename = "use", example = &"chat")]
    use_: Text,
}

/// One WebSocket action: exactly one key.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(example = ws_action_example())]
#[schemars(extend("oneOf" = [
    { "required": ["send"] },
    { "required": ["receive"] },
    { "required": ["sleep"] },
    { "required": ["close"] }
]))]
pub struct WsAction {
    /// A message: a string is sent as text, anything else as JSON.
    #[schemars(example = ws_send_example())]
    send: Option<AnyValue>,
    /// Wait for a message.
    receive: Option<Receive>,
    /// Pause.
    sleep: Option<Duration>,
    /// Close the connection.
    #[schemars(example = true)]
    close: Option<bool>,
}

fn ws_send_example() -> serde_json::Value {
    serde_json::json!({ "type": "message", "text": "{{ fake.sentence() }}" })
}

/// What a `receive` waits for.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(example = receive_example())]
pub struct Receive {
    /// A JSON matcher map (JSONPath → matcher) or a regex; other messages are
    /// skipped and counted.
    #[schemars(rename = "match")]
    match_: Option<ReceiveMatch>,
    /// Time allowed.
    timeout: Option<Duration>,
    /// Variables taken from the message.
    capture: Option<BTreeMap<String, CaptureSource>>,
}

/// A pause.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ThinkStep {
    /// How long: `2s`, or a random range `1s..3s`.
    think: Think,
    /// The step's name.
    #[schemars(example = &"read the page")]
    name: Option<Text>,
    /// Run only when this expression is true.
    when: Option<Template>,
    /// `stop` or `continue`.
    on_fail: Option<OnFail>,
}

step!(
    /// Steps run in order (`steps`) or at the same time (`parallel`),
    /// measured together.
    #[schemars(extend("oneOf" = [{ "required": ["steps"] }, { "required": ["parallel"] }]))]
    GroupStep {
        /// The group's name, its step name in reports.
        #[schemars(example = &"dashboard")]
        group: Text,
        /// Run in order.
        steps: Option<Vec<Step>>,
        /// Run at the same time inside the user.
        parallel: Option<Vec<Step>>,
        /// SLOs of the group's duration.
        slo: Option<Slo>,
    }
);

step!(
    /// Steps run N times.
    RepeatStep {
        /// How many times: a number or an expression.
        #[schemars(example = 3)]
        repeat: Template,
        /// The steps to repeat.
        steps: Vec<Step>,
    }
);

step!(
    /// Steps run once per item of a list.
    ForEachStep {
        /// An expression giving a list.
        #[schemars(example = &"items")]
        for_each: Template,
        /// The item's variable name inside the loop.
        #[schemars(rename = "as", example = &"item")]
        as_: Text,
        /// The steps to run per item.
        steps: Vec<Step>,
    }
);

step!(
    /// One branch picked at random by weight.
    ChooseStep {
        /// The branches, at least one.
        #[schemars(length(min = 1))]
        choose: Vec<Branch>,
    }
);

/// A branch of `choose`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(example = branch_example())]
pub struct Branch {
    /// Relative weight, not negative.
    #[schemars(range(min = 0), extend("default" = 1), example = 70)]
    weight: Option<f64>,
    /// The branch's steps.
    steps: Vec<Step>,
}

step!(
    /// A fragment's steps, inlined.
    UseStep {
        /// The fragment's name.
        #[schemars(rename = "use", example = &"login")]
        use_: Text,
        /// Variables inside the fragment.
        #[schemars(example = with_example())]
        with: Option<BTreeMap<String, AnyValue>>,
    }
);

fn with_example() -> serde_json::Value {
    serde_json::json!({ "email": "{{ users.email }}" })
}

step!(
    /// Sets variables of this user, in order.
    SetStep {
        /// Name → value (templates; a value may read the ones before it).
        #[schemars(example = set_example())]
        set: BTreeMap<String, AnyValue>,
    }
);

fn set_example() -> serde_json::Value {
    serde_json::json!({ "total": "{{ price * quantity }}" })
}

fn step_example() -> serde_json::Value {
    serde_json::json!({"name": "login", "post": "/api/auth/login", "json": {"email": "{{ users.email }}", "password": "{{ users.password }}"}, "expect": {"status": 200}, "capture": {"token": "$.access_token"}})
}

fn on_fail_example() -> serde_json::Value {
    serde_json::json!("continue")
}

fn expect_example() -> serde_json::Value {
    serde_json::json!({"status": 200, "json": {"$.id": {"exists": true}}})
}

fn stream_expect_example() -> serde_json::Value {
    serde_json::json!({"status": 200, "events": {"min": 1}})
}

fn body_check_example() -> serde_json::Value {
    serde_json::json!({"contains": "ok"})
}

fn latency_check_example() -> serde_json::Value {
    serde_json::json!({"lt": "800ms"})
}

fn event_count_example() -> serde_json::Value {
    serde_json::json!({"min": 1, "max": 500})
}

fn sse_method_example() -> serde_json::Value {
    serde_json::json!("POST")
}

fn until_example() -> serde_json::Value {
    serde_json::json!({"data": "[DONE]"})
}

fn ws_target_example() -> serde_json::Value {
    serde_json::json!("/ws/chat")
}

fn ws_action_example() -> serde_json::Value {
    serde_json::json!({"receive": {"match": {"$.type": "answer"}, "timeout": "5s"}})
}

fn receive_example() -> serde_json::Value {
    serde_json::json!({"match": {"$.type": "answer"}, "timeout": "5s", "capture": {"reply": "$.text"}})
}

fn branch_example() -> serde_json::Value {
    serde_json::json!({"weight": 70, "steps": [{"get": "/api/items", "expect": {"status": 200}}]})
}
