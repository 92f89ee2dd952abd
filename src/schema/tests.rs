//! The schema and the reader must know the same keys and values: these
//! tests compare each map's properties in the generated schema with the key
//! lists the reader checks, and each `enum` with the reader's list of
//! allowed values, so a key or a value added to one and not the other fails
//! here. `agreement` goes further and feeds both sides the same values, key
//! by key; `validator` is the JSON Schema checker it uses.

mod agreement;
mod hosts;
mod validator;

use serde_json::Value;

use super::scenario_value;

fn keys_of(def: &Value) -> Vec<String> {
    let mut keys: Vec<String> = def
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

fn def(name: &str) -> Value {
    let schema = scenario_value();
    if name == "TestFile" {
        return schema;
    }
    schema["$defs"][name].clone()
}

fn sorted(keys: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = keys.iter().map(|s| s.to_string()).collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn every_map_has_the_keys_the_reader_accepts() {
    use crate::scenario::steps::{self, websocket};
    use crate::scenario::{file, load, slo};
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("TestFile", file::TOP_KEYS.to_vec()),
        ("Defaults", file::DEFAULTS_KEYS.to_vec()),
        ("Scenario", file::SCENARIO_KEYS.to_vec()),
        ("Feeder", file::FEEDER_KEYS.to_vec()),
        ("Load", load::LOAD_KEYS.to_vec()),
        ("Slo", slo::SLO_KEYS.to_vec()),
        ("Stats", crate::scenario::model::Stat::KEYS.to_vec()),
        ("Expect", steps::EXPECT_KEYS.to_vec()),
        ("StreamExpect", steps::EXPECT_SSE_KEYS.to_vec()),
        ("WsAction", websocket::ACTIONS.to_vec()),
        ("Receive", websocket::RECEIVE_KEYS.to_vec()),
    ];
    for (name, reader) in cases {
        assert_eq!(keys_of(&def(name)), sorted(&reader), "keys of {name}");
    }
    for (kind, def_name) in [
        ("get", "GetStep"),
        ("post", "PostStep"),
        ("delete", "DeleteStep"),
        ("sse", "SseStep"),
        ("websocket", "WebSocketStep"),
        ("think", "ThinkStep"),
        ("group", "GroupStep"),
        ("repeat", "RepeatStep"),
        ("for_each", "ForEachStep"),
        ("choose", "ChooseStep"),
        ("use", "UseStep"),
        ("set", "SetStep"),
    ] {
        let reader = steps::keys_of_kind(kind);
        assert_eq!(
            keys_of(&def(def_name)),
            sorted(&reader),
            "keys of a `{kind}` step"
        );
    }
}

#[test]
fn every_key_has_a_meaning_and_an_example() {
    let schema = scenario_value();
    let mut defs: Vec<(String, Value)> = vec![("TestFile".into(), schema.clone())];
    if let Some(map) = schema["$defs"].as_object() {
        defs.extend(map.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    for (name, d) in defs {
        match d.get("properties").and_then(Value::as_object) {
            Some(props) => {
                for (key, p) in props {
                    assert!(
                        p.get("description").is_some(),
                        "`{key}` of {name} has no description"
                    );
                    assert!(
                        super::reference::example_of(p, &schema["$defs"]).is_some(),
                        "`{key}` of {name} has no example"
                    );
                }
            }
            // Unions of other definitions (a step is one of its kinds).
            None if d["anyOf"]
                .as_array()
                .is_some_and(|a| a.iter().all(|v| v.get("$ref").is_some())) => {}
            None if d.get("enum").is_none() => {
                assert!(d.get("examples").is_some(), "{name} has no example");
            }
            None => {}
        }
    }
}

#[test]
fn the_reference_names_every_key() {
    let reference = super::keys_reference();
    let schema = scenario_value();
    for (name, d) in schema["$defs"].as_object().unwrap() {
        for key in d["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            assert!(
                reference.contains(&format!("| `{key}` |")),
                "`{key}` of {name} is not in the reference"
            );
        }
    }
}

/// The maps inside unions, and the small maps the reader checks with a list
/// of its own, have the same keys in both.
#[test]
fn every_inner_map_has_the_keys_the_reader_accepts() {
    use crate::scenario::steps::{self, websocket};
    use crate::scenario::{load, slo};
    let schema = scenario_value();
    let maps = agreement::maps(&schema);
    let keys = |name: &str| {
        let (_, map) = maps
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("the schema has no map `{name}`"));
        keys_of(map)
    };
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("Stage", load::STAGE_KEYS.to_vec()),
        ("BodyCheck", steps::BODY_KEYS.to_vec()),
        ("LatencyCheck", steps::LATENCY_KEYS.to_vec()),
        ("EventCount", steps::EVENTS_KEYS.to_vec()),
        ("Until", steps::UNTIL_KEYS.to_vec()),
        ("Branch", steps::BRANCH_KEYS.to_vec()),
        ("KeptConnection", websocket::KEPT_KEYS.to_vec()),
        ("Capture/anyOf/1", steps::CAPTURE_KEYS.to_vec()),
        ("Matcher/anyOf/0", steps::MATCHER_KEYS.to_vec()),
        ("DurationBound/anyOf/1", slo::BOUND_KEYS.to_vec()),
        ("ShareBound/anyOf/1", slo::BOUND_KEYS.to_vec()),
        ("RateBound/anyOf/1", slo::BOUND_KEYS.to_vec()),
        ("DroppedBound/anyOf/1", slo::BOUND_KEYS.to_vec()),
    ];
    for (name, reader) in cases {
        assert_eq!(keys(name), sorted(&reader), "keys of {name}");
    }
    // The matcher keys are also what an object compared for equality must
    // not have.
    let not_matchers: Vec<&str> = schema["$defs"]["Matcher"]["anyOf"][2]["propertyNames"]["not"]
        ["enum"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(sorted(&not_matchers), sorted(&steps::MATCHER_KEYS));
}

fn enum_at(pointer: &str) -> Vec<String> {
    let schema = scenario_value();
    let values = schema
        .pointer(pointer)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no enum at {pointer}"));
    let words: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
    assert_eq!(words.len(), values.len(), "{pointer} lists a non-string");
    sorted(&words)
}

/// Every list of allowed values the reader checks is the schema's `enum`
/// for that key (the agreement test then checks that the reader really
/// accepts each of them, and nothing else).
#[test]
fn every_value_list_of_the_reader_is_the_schemas() {
    use crate::scenario::model::{Method, Stat};
    use crate::scenario::{file, load, steps};
    let firsts = |pairs: &[&'static str]| sorted(pairs);
    let orders: Vec<&str> = file::FEEDER_ORDERS.iter().map(|(k, _)| *k).collect();
    let on_fail: Vec<&str> = steps::ON_FAIL.iter().map(|(k, _)| *k).collect();
    let types: Vec<&str> = steps::TYPE_NAMES.iter().map(|(k, _)| *k).collect();
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("/$defs/Executor/enum", firsts(&load::EXECUTORS)),
        ("/$defs/FeederOrder/enum", firsts(&orders)),
        ("/$defs/OnFail/enum", firsts(&on_fail)),
        (
            "/$defs/Matcher/anyOf/0/properties/type/enum",
            firsts(&types),
        ),
    ];
    for (pointer, reader) in cases {
        assert_eq!(enum_at(pointer), reader, "the values at {pointer}");
    }

    // An SSE step's method: a request step's key, or the same in capitals.
    let mut methods: Vec<String> = Vec::new();
    for key in Method::KEYS {
        let method = Method::from_key(key).expect("a method key");
        assert_eq!(
            crate::scenario::steps::sse_method(method.as_str()),
            Some(method)
        );
        methods.extend([key.to_string(), method.as_str().to_string()]);
    }
    methods.sort();
    assert_eq!(enum_at("/$defs/SseMethod/enum"), methods, "SSE methods");

    // The kinds of step: each variant of `Step` requires its kind's key
    // first; the request kinds are the methods.
    let schema = scenario_value();
    let variants = schema["$defs"]["Step"]["anyOf"].as_array().unwrap();
    let mut kinds: Vec<String> = Vec::new();
    let mut requests: Vec<String> = Vec::new();
    for v in variants {
        let name = v["$ref"].as_str().unwrap().rsplit('/').next().unwrap();
        let def = &schema["$defs"][name];
        let kind = def["required"][0].as_str().unwrap().to_string();
        if def["properties"].get("expect").is_some() && kind != "sse" {
            requests.push(kind.clone());
        }
        kinds.push(kind);
    }
    kinds.sort();
    requests.sort();
    assert_eq!(kinds, sorted(&steps::KINDS), "kinds of step");
    assert_eq!(requests, sorted(&Method::KEYS), "request methods");

    // Statistics of a time metric.
    assert_eq!(
        keys_of(&schema["$defs"]["Stats"]),
        sorted(&Stat::KEYS),
        "statistics"
    );
    for key in Stat::KEYS {
        assert_eq!(Stat::from_key(key).map(Stat::key), Some(key));
    }
}
