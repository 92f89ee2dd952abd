//! The schema and the reader must know the same keys: these tests compare
//! each map's properties in the generated schema with the key lists the
//! reader checks, so a key added to one and not the other fails here.

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
