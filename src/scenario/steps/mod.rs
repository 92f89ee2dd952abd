//! Reads `steps:` lists: HTTP requests with their `expect:` and `capture:`,
//! think times, groups, repeats, loops, weighted choices, fragment uses and
//! `set:`.

mod expect;
pub mod websocket;

use expect::read_expect;
pub use expect::{read_captures, read_matcher};

use crate::diagnostic::Span;
use crate::scenario::model::*;
use crate::scenario::net;
use crate::scenario::reader::{code, list, MapView, Reader};
use crate::scenario::slo::read_slos;
use crate::scenario::units;
use crate::scenario::yaml::{Node, Value};

const COMMON: [&str; 4] = ["name", "when", "think", "on_fail"];
/// The keys that say what a step does.
pub const KINDS: [&str; 16] = [
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "head",
    "options",
    "group",
    "repeat",
    "for_each",
    "choose",
    "use",
    "set",
    "websocket",
    "sse",
    "think",
];
const HTTP_KEYS: [&str; 16] = [
    "headers",
    "query",
    "json",
    "body",
    "form",
    "body_file",
    "multipart",
    "timeout",
    "expect",
    "capture",
    "slo",
    "tls",
    "http_version",
    "proxy",
    "max_body",
    "discard_body",
];
/// The keys that give a request its body (one of them).
pub const BODY_KINDS: [&str; 5] = ["json", "body", "form", "body_file", "multipart"];
pub const EXPECT_KEYS: [&str; 5] = ["status", "json", "headers", "body", "latency"];
pub const EXPECT_SSE_KEYS: [&str; 6] = ["status", "json", "headers", "body", "latency", "events"];
pub const MATCHER_KEYS: [&str; 11] = [
    "exists", "eq", "ne", "lt", "le", "gt", "ge", "matches", "contains", "length", "type",
];
pub const CAPTURE_KEYS: [&str; 5] = ["json", "header", "regex", "status", "default"];
/// The values of `on_fail`, and whether the iteration goes on after a
/// failed check.
pub const ON_FAIL: [(&str, bool); 2] = [("stop", false), ("continue", true)];
/// The values of a `type` matcher.
pub const TYPE_NAMES: [(&str, JsonType); 7] = [
    ("string", JsonType::String),
    ("number", JsonType::Number),
    ("bool", JsonType::Bool),
    ("boolean", JsonType::Bool),
    ("object", JsonType::Object),
    ("array", JsonType::Array),
    ("null", JsonType::Null),
];
/// The keys of an SSE step's `until` (one of them).
pub const UNTIL_KEYS: [&str; 2] = ["event", "data"];
/// The keys of `expect.body`.
pub const BODY_KEYS: [&str; 2] = ["contains", "matches"];
/// The keys of `expect.latency`.
pub const LATENCY_KEYS: [&str; 1] = ["lt"];
/// The keys of an SSE step's `expect.events`.
pub const EVENTS_KEYS: [&str; 2] = ["min", "max"];
/// The keys of a `choose` branch.
pub const BRANCH_KEYS: [&str; 2] = ["weight", "steps"];

fn allowed(extra: &[&'static str]) -> Vec<&'static str> {
    COMMON.iter().chain(extra).copied().collect()
}

/// The keys a step of this kind may have (`kind` is its naming key).
pub fn keys_of_kind(kind: &str) -> Vec<&'static str> {
    match kind {
        "think" => allowed(&[]),
        "group" => allowed(&["group", "steps", "parallel", "slo"]),
        "repeat" => allowed(&["repeat", "steps"]),
        "for_each" => allowed(&["for_each", "as", "steps"]),
        "choose" => allowed(&["choose"]),
        "use" => allowed(&["use", "with"]),
        "set" => allowed(&["set"]),
        "sse" => {
            let mut k = allowed(&HTTP_KEYS);
            k.extend(["sse", "method", "until"]);
            k
        }
        "websocket" => allowed(&websocket::WS_KEYS),
        method => {
            let mut k = allowed(&HTTP_KEYS);
            k.extend(Method::KEYS.iter().find(|m| **m == method));
            k
        }
    }
}

/// Reads a list of steps.
pub fn read_steps(r: &mut Reader, node: &Node, what: &str) -> Vec<Step> {
    r.seq(node, what)
        .iter()
        .filter_map(|item| read_step(r, item))
        .collect()
}

fn read_step(r: &mut Reader, node: &Node) -> Option<Step> {
    let Value::Map(entries) = &node.value else {
        r.wrong_type(
            node,
            "a step",
            "a map such as `{ get: /path }` or `{ think: 1s }`",
        );
        return None;
    };
    // Which kind of step is this? `think` alone is a pause; with another kind
    // it is the pause after that step.
    let kinds: Vec<(&str, Span)> = entries
        .iter()
        .filter_map(|(k, _)| k.as_str().map(|s| (s, k.span)))
        .filter(|(k, _)| KINDS.contains(k) && *k != "think")
        .collect();
    let kind = match kinds.as_slice() {
        [] if node.get("think").is_some() => "think",
        [] => {
            let keys: Vec<&str> = entries.iter().filter_map(|(k, _)| k.as_str()).collect();
            // A typo in the kind key is the likeliest cause.
            for key in &keys {
                if !COMMON.contains(key) && !HTTP_KEYS.contains(key) {
                    let all: Vec<&str> = KINDS.to_vec();
                    r.unknown_key(node.span_of_key(key), key, "a step", &all);
                    return None;
                }
            }
            r.error_help(
                code::NO_KIND,
                node.span,
                "this step does not say what to do",
                format!("a step needs one of {}", list(&KINDS)),
            );
            return None;
        }
        [one] => one.0,
        [_, (second, span), ..] => {
            let names: Vec<&str> = kinds.iter().map(|(k, _)| *k).collect();
            r.error_help(
                code::CONFLICT,
                *span,
                format!(
                    "a step does exactly one thing, but this one has {}",
                    list(&names)
                ),
                format!("split `{second}` into a step of its own"),
            );
            return None;
        }
    };

    let keys = keys_of_kind(kind);
    let m = r.map(node, &format!("a `{kind}` step"), &keys)?;

    let name = m.get("name").and_then(|n| r.text(n, "`name`"));
    let when = m.get("when").and_then(|n| r.text(n, "`when`"));
    let think_key = m.get("think");
    let think = think_key.and_then(|n| r.unit(n, "`think`", units::parse_think));
    let continue_on_fail = match m.get("on_fail") {
        None => false,
        Some(n) => match ON_FAIL.iter().find(|(k, _)| n.as_str() == Some(*k)) {
            Some((_, go_on)) => *go_on,
            None => {
                r.error_help(
                    code::BAD_VALUE,
                    n.span,
                    "`on_fail` must be `continue` or `stop`",
                    "`continue` keeps going after a failed check; `stop` (the default) ends the iteration",
                );
                false
            }
        },
    };

    let kind = match kind {
        "think" => StepKind::Think(think?),
        "group" => read_group(r, &m)?,
        "repeat" => StepKind::Repeat {
            count: m.get("repeat").and_then(|n| r.text(n, "`repeat`"))?,
            steps: body_steps(r, &m, "repeat")?,
        },
        "for_each" => StepKind::ForEach {
            list: m.get("for_each").and_then(|n| r.text(n, "`for_each`"))?,
            item: match m.get("as") {
                Some(n) => r.string(n, "`as`")?,
                None => {
                    r.error_help(
                        code::MISSING_KEY,
                        m.span(),
                        "`for_each` needs `as:`, the name of each item",
                        "add `as: item` and read it as `{{ item }}`",
                    );
                    return None;
                }
            },
            steps: body_steps(r, &m, "for_each")?,
        },
        "choose" => StepKind::Choose(read_choose(r, m.get("choose")?)),
        "use" => StepKind::Use {
            fragment: m.get("use").and_then(|n| r.text(n, "`use`"))?,
            with: m
                .get("with")
                .map(|n| {
                    r.free_map(n, "`with`")
                        .into_iter()
                        .map(|(k, v, _)| (k, v.clone()))
                        .collect()
                })
                .unwrap_or_default(),
        },
        "set" => StepKind::Set(
            r.free_map(m.get("set")?, "`set`")
                .into_iter()
                .map(|(k, v, _)| (k, v.clone()))
                .collect(),
        ),
        "sse" => read_sse(r, &m)?,
        "websocket" => websocket::read_websocket(r, &m)?,
        method => StepKind::Http(Box::new(read_http(
            r,
            &m,
            method,
            Method::from_key(method)?,
        )?)),
    };
    // A think step's own `think` is its pause, not a pause after it.
    let think = if matches!(kind, StepKind::Think(_)) {
        None
    } else {
        think
    };
    Some(Step {
        name,
        when,
        think,
        continue_on_fail,
        span: node.span,
        kind,
    })
}

fn body_steps(r: &mut Reader, m: &MapView, kind: &str) -> Option<Vec<Step>> {
    match m.get("steps") {
        Some(n) => Some(read_steps(r, n, &format!("`steps` of `{kind}`"))),
        None => {
            r.error(
                code::MISSING_KEY,
                m.span(),
                format!("`{kind}` needs `steps:`, the list of steps it runs"),
            );
            None
        }
    }
}

fn read_group(r: &mut Reader, m: &MapView) -> Option<StepKind> {
    let name = m.get("group").and_then(|n| r.text(n, "`group`"))?;
    let slo = m.get("slo").map(|n| read_slos(r, n)).unwrap_or_default();
    match (m.get("steps"), m.get("parallel")) {
        (Some(s), None) => Some(StepKind::Group {
            name,
            steps: read_steps(r, s, "`steps` of a group"),
            parallel: false,
            slo,
        }),
        (None, Some(p)) => Some(StepKind::Group {
            name,
            steps: read_steps(r, p, "`parallel` of a group"),
            parallel: true,
            slo,
        }),
        (Some(_), Some(p)) => {
            r.error_help(
                code::CONFLICT,
                m.key("parallel").map_or(p.span, |k| k.span),
                "a group has either `steps:` (in order) or `parallel:` (at once), not both",
                "nest a second group for the other part",
            );
            None
        }
        (None, None) => {
            r.error_help(
                code::MISSING_KEY,
                m.span(),
                "a group needs `steps:` (run in order) or `parallel:` (run at once)",
                "add `steps:` with the list of steps of this group",
            );
            None
        }
    }
}

fn read_choose(r: &mut Reader, node: &Node) -> Vec<Branch> {
    let mut branches = Vec::new();
    for item in r.seq(node, "`choose`") {
        let Some(b) = r.map(item, "a `choose` branch", &BRANCH_KEYS) else {
            continue;
        };
        let weight = match b.get("weight") {
            Some(w) => r.number(w, "`weight`").unwrap_or(1.0),
            None => 1.0,
        };
        if weight < 0.0 {
            r.error(code::BAD_VALUE, b.span(), "`weight` cannot be negative");
        }
        let steps = match b.get("steps") {
            Some(s) => read_steps(r, s, "`steps` of a branch"),
            None => {
                r.error(
                    code::MISSING_KEY,
                    b.span(),
                    "a `choose` branch needs `steps:`",
                );
                continue;
            }
        };
        branches.push(Branch { weight, steps });
    }
    if branches.is_empty() {
        r.error(
            code::BAD_VALUE,
            node.span,
            "`choose` needs at least one branch",
        );
    }
    branches
}

fn read_sse(r: &mut Reader, m: &MapView) -> Option<StepKind> {
    let method = match m.get("method") {
        None => Method::Get,
        Some(n) => {
            let text = r.string(n, "`method`")?;
            match sse_method(&text) {
                Some(method) => method,
                None => {
                    r.error_help(
                        code::BAD_VALUE,
                        n.span,
                        format!("unknown HTTP method `{text}`"),
                        "use GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS (in capitals, or all in lower case)",
                    );
                    return None;
                }
            }
        }
    };
    let until = match m.get("until") {
        None => None,
        Some(n) => {
            let u = r.map(n, "`until`", &UNTIL_KEYS)?;
            match (u.get("event"), u.get("data")) {
                (Some(e), None) => Some(Until::Event(r.string(e, "`event`")?)),
                (None, Some(d)) => Some(Until::Data(r.string(d, "`data`")?)),
                _ => {
                    r.error_help(
                        code::CONFLICT,
                        n.span,
                        "`until` takes one of `event` or `data`",
                        "e.g. `until: { data: \"[DONE]\" }`",
                    );
                    return None;
                }
            }
        }
    };
    let request = read_http(r, m, "sse", method)?;
    Some(StepKind::Sse(Box::new(request), until))
}

/// An SSE step's `method`: a method's name in capitals (`POST`) or in lower
/// case, as the step keys write it (`post`).
pub fn sse_method(text: &str) -> Option<Method> {
    Method::KEYS
        .iter()
        .filter_map(|key| Method::from_key(key))
        .find(|m| text == m.as_str() || text == m.as_str().to_ascii_lowercase())
}

fn read_http(r: &mut Reader, m: &MapView, url_key: &str, method: Method) -> Option<Http> {
    let url = m.get(url_key).and_then(|n| r.text(n, "the URL"))?;
    let headers = m
        .get("headers")
        .map(|n| r.text_map(n, "`headers`"))
        .unwrap_or_default();
    let query = m
        .get("query")
        .map(|n| r.text_map(n, "`query`"))
        .unwrap_or_default();
    let bodies: Vec<&str> = BODY_KINDS.into_iter().filter(|k| m.has(k)).collect();
    if bodies.len() > 1 {
        let span = m.key(bodies[1]).map_or(m.span(), |k| k.span);
        r.error_help(
            code::CONFLICT,
            span,
            format!("a request has one body, but this one has {}", list(&bodies)),
            "keep `json` for JSON, `body` for raw text, `form` for form fields, `body_file` for a file's bytes or `multipart` for fields and files",
        );
    }
    let body = if let Some(n) = m.get("json") {
        Body::Json(n.clone())
    } else if let Some(n) = m.get("body") {
        r.text(n, "`body`").map_or(Body::None, Body::Text)
    } else if let Some(n) = m.get("form") {
        Body::Form(r.text_map(n, "`form`"))
    } else if let Some(n) = m.get("body_file") {
        net::read_body_file(r, n, "`body_file`").map_or(Body::None, Body::File)
    } else if let Some(n) = m.get("multipart") {
        Body::Multipart(net::read_multipart(r, n))
    } else {
        Body::None
    };
    let timeout = m.get("timeout").and_then(|n| r.duration(n, "`timeout`"));
    let expect = m
        .get("expect")
        .map(|n| read_expect(r, n, url_key == "sse"))
        .unwrap_or_default();
    let capture = m
        .get("capture")
        .map(|n| read_captures(r, n))
        .unwrap_or_default();
    let slo = m.get("slo").map(|n| read_slos(r, n)).unwrap_or_default();
    let net = net::read_net(r, m);
    Some(Http {
        method,
        url,
        headers,
        query,
        body,
        timeout,
        expect,
        capture,
        slo,
        net,
    })
}

trait KeySpan {
    fn span_of_key(&self, key: &str) -> Span;
}

impl KeySpan for Node {
    fn span_of_key(&self, key: &str) -> Span {
        self.as_map()
            .and_then(|m| m.iter().find(|(k, _)| k.as_str() == Some(key)))
            .map_or(self.span, |(k, _)| k.span)
    }
}
