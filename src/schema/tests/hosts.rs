//! Where each key of the schema is tried by the agreement test
//! (`super::agreement`): for each map, one or more small scenario files
//! that both the reader and the schema accept on their own, with a slot
//! where the map under test goes. A map whose keys depend on another key
//! (load keys per executor, stage targets, SLO bounds) has several.

use serde_json::{json, Map, Value};

/// Marks where, in a host file, the map under test goes.
pub(super) const SLOT: &str = "@";

/// A scenario file in which a map of the schema can be tried.
pub(super) struct Host {
    /// The map's name in [`maps`].
    pub map: &'static str,
    /// A whole scenario file with the string `"@"` where the map goes.
    pub file: Value,
    /// The map's other keys: what it holds when a key is tried.
    pub base: Value,
    /// The keys tried here; empty: all of them.
    pub keys: Vec<&'static str>,
}

fn host(map: &'static str, file: Value, base: Value) -> Host {
    Host {
        map,
        file,
        base,
        keys: Vec::new(),
    }
}

fn host_for(map: &'static str, keys: &[&'static str], file: Value, base: Value) -> Host {
    Host {
        map,
        file,
        base,
        keys: keys.to_vec(),
    }
}

/// In a journey's steps.
fn in_steps(step: Value) -> Value {
    json!({ "steps": [step] })
}

pub(super) fn hosts() -> Vec<Host> {
    let journey = || json!([{ "get": "/a" }]);
    let single: Vec<&'static str> = crate::scenario::file::TOP_KEYS
        .into_iter()
        .filter(|k| *k != "scenarios")
        .collect();
    let mut all = vec![
        // The top level: a single journey, or `scenarios` (not both).
        host_for(
            "TestFile",
            &single,
            json!(SLOT),
            json!({ "steps": journey() }),
        ),
        host_for(
            "TestFile",
            &["scenarios"],
            json!(SLOT),
            json!({ "scenarios": { "s": { "steps": journey() } } }),
        ),
        host(
            "Defaults",
            json!({ "defaults": SLOT, "steps": journey() }),
            json!({}),
        ),
        // A feeder reads either a file or rows.
        host_for(
            "Feeder",
            &["file"],
            json!({ "data": { "d": SLOT }, "steps": journey() }),
            json!({ "file": "users.csv" }),
        ),
        host_for(
            "Feeder",
            &["rows", "order", "per"],
            json!({ "data": { "d": SLOT }, "steps": journey() }),
            json!({ "rows": [{ "a": 1 }] }),
        ),
        host(
            "Scenario",
            json!({ "scenarios": { "s": SLOT } }),
            json!({ "steps": journey() }),
        ),
        host(
            "Stats",
            json!({ "slo": { "latency": SLOT }, "steps": journey() }),
            json!({}),
        ),
        host("Slo", json!({ "slo": SLOT, "steps": journey() }), json!({})),
        host(
            "Monitor",
            json!({ "monitor": [SLOT], "steps": journey() }),
            json!({ "prometheus": "http://a.test/metrics", "series": { "up": "up" } }),
        ),
        host(
            "MonitorStats",
            json!({ "slo": { "monitor": { "up": SLOT } }, "steps": journey() }),
            json!({}),
        ),
        // Stages: users for `ramping-vus`, rates for `ramping-arrival-rate`.
        host(
            "Stage",
            json!({ "load": { "executor": "ramping-vus", "stages": [SLOT] }, "steps": journey() }),
            json!({ "duration": "1s", "target": 1 }),
        ),
        host(
            "Stage",
            json!({ "load": { "executor": "ramping-arrival-rate", "stages": [SLOT] }, "steps": journey() }),
            json!({ "duration": "1s", "target": "1/s" }),
        ),
        host(
            "Expect",
            in_steps(json!({ "get": "/a", "expect": SLOT })),
            json!({}),
        ),
        host(
            "StreamExpect",
            in_steps(json!({ "sse": "/s", "expect": SLOT })),
            json!({}),
        ),
        host(
            "BodyCheck",
            in_steps(json!({ "get": "/a", "expect": { "body": SLOT } })),
            json!({}),
        ),
        host(
            "LatencyCheck",
            in_steps(json!({ "get": "/a", "expect": { "latency": SLOT } })),
            json!({ "lt": "1s" }),
        ),
        host(
            "EventCount",
            in_steps(json!({ "sse": "/s", "expect": { "events": SLOT } })),
            json!({}),
        ),
        host(
            "KeptConnection",
            in_steps(json!({ "websocket": SLOT })),
            json!({ "use": "chat" }),
        ),
        host(
            "Receive",
            in_steps(json!({ "websocket": "/ws", "actions": [{ "receive": SLOT }] })),
            json!({}),
        ),
        host(
            "Branch",
            in_steps(json!({ "choose": [SLOT] })),
            json!({ "weight": 1, "steps": journey() }),
        ),
        host_for(
            "Capture/anyOf/1",
            &["default"],
            in_steps(json!({ "get": "/a", "capture": { "c": SLOT } })),
            json!({ "json": "$.a" }),
        ),
        host(
            "Matcher/anyOf/0",
            in_steps(json!({ "get": "/a", "expect": { "json": { "$.a": SLOT } } })),
            json!({}),
        ),
        // Steps, one host per kind; a group runs `steps` or `parallel`.
        host("ThinkStep", in_steps(json!(SLOT)), json!({ "think": "1s" })),
        host_for(
            "GroupStep",
            &["group", "steps", "slo", "name", "when", "think", "on_fail"],
            in_steps(json!(SLOT)),
            json!({ "group": "g", "steps": journey() }),
        ),
        host_for(
            "GroupStep",
            &["parallel"],
            in_steps(json!(SLOT)),
            json!({ "group": "g", "parallel": journey() }),
        ),
        host(
            "RepeatStep",
            in_steps(json!(SLOT)),
            json!({ "repeat": 2, "steps": journey() }),
        ),
        host(
            "ForEachStep",
            in_steps(json!(SLOT)),
            json!({ "for_each": "items", "as": "item", "steps": journey() }),
        ),
        host(
            "ChooseStep",
            in_steps(json!(SLOT)),
            json!({ "choose": [{ "weight": 1, "steps": journey() }] }),
        ),
        host("UseStep", in_steps(json!(SLOT)), json!({ "use": "f" })),
        host(
            "SetStep",
            in_steps(json!(SLOT)),
            json!({ "set": { "a": 1 } }),
        ),
        host("SseStep", in_steps(json!(SLOT)), json!({ "sse": "/s" })),
        host(
            "WebSocketStep",
            in_steps(json!(SLOT)),
            json!({ "websocket": "/ws" }),
        ),
        // A client certificate comes with its key.
        host(
            "Tls",
            json!({ "defaults": { "tls": SLOT }, "steps": journey() }),
            json!({ "client_cert": "c.pem", "client_key": "c.key" }),
        ),
        host(
            "FilePart",
            in_steps(json!({ "post": "/a", "multipart": { "f": SLOT } })),
            json!({ "file": "f.bin" }),
        ),
    ];
    for (def, method) in [
        ("GetStep", "get"),
        ("PostStep", "post"),
        ("PutStep", "put"),
        ("PatchStep", "patch"),
        ("DeleteStep", "delete"),
        ("HeadStep", "head"),
        ("OptionsStep", "options"),
    ] {
        let mut base = Map::new();
        base.insert(method.into(), json!("/a"));
        all.push(host(def, in_steps(json!(SLOT)), Value::Object(base)));
    }
    // Maps that hold exactly one of their keys (a capture map also takes a
    // `default`): each key is tried alone.
    let capture = in_steps(json!({ "get": "/a", "capture": { "c": SLOT } }));
    let until = in_steps(json!({ "sse": "/s", "until": SLOT }));
    let action = in_steps(json!({ "websocket": "/ws", "actions": [SLOT] }));
    for (map, file, key, value) in [
        ("Capture/anyOf/1", &capture, "json", json!("$.a")),
        ("Capture/anyOf/1", &capture, "header", json!("h")),
        ("Capture/anyOf/1", &capture, "regex", json!("(.*)")),
        ("Capture/anyOf/1", &capture, "status", json!(true)),
        ("Until", &until, "event", json!("done")),
        ("Until", &until, "data", json!("[DONE]")),
        ("WsAction", &action, "send", json!("hi")),
        ("WsAction", &action, "receive", json!({})),
        ("WsAction", &action, "sleep", json!("1s")),
        ("WsAction", &action, "close", json!(true)),
    ] {
        let mut base = Map::new();
        base.insert(key.into(), value);
        all.push(host_for(map, &[key], file.clone(), Value::Object(base)));
    }
    // The load: each key where its executor takes it.
    let load = |base: Value, keys: &[&'static str]| {
        host_for(
            "Load",
            keys,
            json!({ "load": SLOT, "steps": journey() }),
            base,
        )
    };
    all.extend([
        load(
            json!({}),
            &[
                "executor",
                "vus",
                "iterations",
                "duration",
                "graceful_stop",
                "max_duration",
            ],
        ),
        load(json!({ "duration": "1s" }), &["executor", "rate"]),
        load(
            json!({ "stages": [{ "duration": "1s", "target": 1 }] }),
            &["executor", "start_vus", "stages"],
        ),
        load(
            json!({ "rate": "1/s", "duration": "1s" }),
            &["executor", "max_vus"],
        ),
        load(
            json!({ "executor": "ramping-arrival-rate", "stages": [{ "duration": "1s", "target": "1/s" }] }),
            &["executor", "start_rate", "stages"],
        ),
    ]);
    all.extend(bound_hosts());
    all
}

/// The maps of SLO bounds, `{ target, critical }`, under each kind of
/// metric. The other bound is set so that the one tried is never looser
/// than it (a rule between two values, which the schema does not state):
/// the target of a time, an error rate or dropped iterations is at most its
/// critical bound, that of throughput or checks at least.
pub(super) fn bound_hosts() -> Vec<Host> {
    let mut out = Vec::new();
    let kinds = [
        (
            "DurationBound/anyOf/1",
            json!({ "latency": { "p95": SLOT } }),
            "10h",
            0.into(),
        ),
        (
            "ShareBound/anyOf/1",
            json!({ "error_rate": SLOT }),
            "100%",
            "0%".into(),
        ),
        (
            "ShareBound/anyOf/1",
            json!({ "checks": SLOT }),
            "0%",
            "100%".into(),
        ),
        (
            "RateBound/anyOf/1",
            json!({ "throughput": SLOT }),
            "0/s",
            "1000000/s".into(),
        ),
        (
            "DroppedBound/anyOf/1",
            json!({ "dropped": SLOT }),
            "1000000",
            0.into(),
        ),
        (
            "NumberBound/anyOf/1",
            json!({ "monitor": { "up": { "max": SLOT } } }),
            "1e300",
            (-1e300).into(),
        ),
        // `dropped` in each of its units: both bounds are written in one.
        (
            "DroppedBound/anyOf/1",
            json!({ "dropped": SLOT }),
            "100%",
            "0%".into(),
        ),
        (
            "DroppedBound/anyOf/1",
            json!({ "dropped": SLOT }),
            "1000000/s",
            "0/s".into(),
        ),
    ];
    for (map, slo, critical, target) in kinds {
        let file = json!({ "slo": slo, "steps": [{ "get": "/a" }] });
        let critical: Value = critical.into();
        let target: Value = target;
        // `abort` needs a critical bound: tried beside one.
        out.push(host_for(
            map,
            &["target", "abort", "after"],
            file.clone(),
            json!({ "critical": critical }),
        ));
        out.push(host_for(
            map,
            &["critical"],
            file,
            json!({ "target": target }),
        ));
    }
    out
}
