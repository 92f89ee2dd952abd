//! Reads `websocket:` steps: the URL or a kept connection to reuse, the
//! handshake headers, and the actions `send`, `receive`, `sleep`, `close`.

use crate::scenario::model::*;
use crate::scenario::reader::{code, list, MapView, Reader};
use crate::scenario::slo::read_slos;
use crate::scenario::steps::{read_captures, read_matcher};
use crate::scenario::yaml::{Node, Value};

pub const WS_KEYS: [&str; 9] = [
    "websocket",
    "headers",
    "keep",
    "timeout",
    "actions",
    "slo",
    "tls",
    "proxy",
    "max_body",
];
pub const ACTIONS: [&str; 4] = ["send", "receive", "sleep", "close"];
pub const RECEIVE_KEYS: [&str; 3] = ["match", "timeout", "capture"];
/// The keys of `websocket: { use: STEP }`, a kept connection.
pub const KEPT_KEYS: [&str; 1] = ["use"];

pub fn read_websocket(r: &mut Reader, m: &MapView) -> Option<StepKind> {
    let target_node = m.get("websocket")?;
    let target = match &target_node.value {
        Value::Map(_) => {
            let u = r.map(target_node, "`websocket`", &KEPT_KEYS)?;
            let Some(n) = u.get("use") else {
                r.error(
                    code::MISSING_KEY,
                    target_node.span,
                    "`websocket:` needs a URL, or `{ use: STEP }` to reuse a kept connection",
                );
                return None;
            };
            WsTarget::Use(r.text(n, "`use`")?)
        }
        _ => WsTarget::Url(r.text(target_node, "the WebSocket URL")?),
    };
    let headers = m
        .get("headers")
        .map(|n| r.text_map(n, "`headers`"))
        .unwrap_or_default();
    let keep = match m.get("keep") {
        Some(n) => r.boolean(n, "`keep`")?,
        None => false,
    };
    let timeout = m.get("timeout").and_then(|n| r.duration(n, "`timeout`"));
    let actions = match m.get("actions") {
        Some(n) => r
            .seq(n, "`actions`")
            .iter()
            .filter_map(|a| read_action(r, a))
            .collect(),
        None => Vec::new(),
    };
    let slo = m.get("slo").map(|n| read_slos(r, n)).unwrap_or_default();
    let net = crate::scenario::net::read_net(r, m);
    Some(StepKind::WebSocket(Box::new(WebSocket {
        target,
        headers,
        keep,
        timeout,
        actions,
        slo,
        net,
    })))
}

fn read_action(r: &mut Reader, node: &Node) -> Option<WsAction> {
    let a = r.map(node, "a WebSocket action", &ACTIONS)?;
    let kinds: Vec<&str> = ACTIONS.iter().copied().filter(|k| a.has(k)).collect();
    if kinds.len() != 1 {
        r.error_help(
            code::CONFLICT,
            node.span,
            "each WebSocket action does one thing",
            format!("write one of {} per list item", list(&ACTIONS)),
        );
        return None;
    }
    let v = a.get(kinds[0])?;
    Some(match kinds[0] {
        "send" => WsAction::Send(v.clone()),
        "sleep" => WsAction::Sleep(r.duration(v, "`sleep`")?),
        "close" => {
            r.boolean(v, "`close`")?;
            WsAction::Close
        }
        _ => read_receive(r, v)?,
    })
}

fn read_receive(r: &mut Reader, v: &Node) -> Option<WsAction> {
    let m = r.map(v, "`receive`", &RECEIVE_KEYS)?;
    let matcher = match m.get("match") {
        None => WsMatch::Any,
        Some(n) => match &n.value {
            Value::Map(_) => {
                let mut checks = Vec::new();
                for (path, value, span) in r.free_map(n, "`match`") {
                    if !path.starts_with('$') {
                        r.error_help(
                            code::BAD_VALUE,
                            span,
                            format!("`{path}` is not a JSONPath"),
                            "match JSON messages with JSONPaths (`$.done: true`), or give a regex string",
                        );
                        continue;
                    }
                    if let Some(matcher) = read_matcher(r, value) {
                        checks.push((Text { value: path, span }, matcher));
                    }
                }
                WsMatch::Json(checks)
            }
            _ => WsMatch::Regex(r.text(n, "`match`")?),
        },
    };
    let timeout = m.get("timeout").and_then(|n| r.duration(n, "`timeout`"));
    let capture = m
        .get("capture")
        .map(|n| read_captures(r, n))
        .unwrap_or_default();
    Some(WsAction::Receive {
        matcher,
        timeout,
        capture,
    })
}
