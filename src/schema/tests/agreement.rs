//! The schema and the reader accept the same values, key by key.
//!
//! The scenario language is written down twice: the reader in
//! `crate::scenario` decides what trek runs, and the types in `src/schema/`
//! generate the JSON Schema that editors check files with (and, from it,
//! `docs/keys.md`). Comparing key names (`super::tests`) is not enough: the
//! two can differ on a key's type (a number taken as text by one, refused by
//! the other) or on its allowed values (an executor, an `on_fail` value, a
//! matcher `type`, a unit form known to one only).
//!
//! So this test asks both. For every key of every map in the generated
//! schema (found by walking the schema, so that a new key is tried without
//! editing this file), it places sample values at that key inside a small
//! scenario file that both sides accept, then
//! - loads the file with the real reader (`crate::scenario::load_str`): the
//!   reader accepts the value when it reports no error;
//! - validates the same document against the schema with a checker for the
//!   subset of JSON Schema the schema is written in (`super::validator`);
//!
//! and fails listing every sample on which the two answers differ. The
//! samples are values of every JSON type (strings, integers, a fraction,
//! booleans, null, lists, maps), the unit forms and near misses of them
//! (`2s`, `1s..3s`, `5x`, `50/s`, `5/day`, `1%`, `150%`), every allowed value
//! that either side lists (executors, orders, methods… in several cases),
//! the key's examples from the schema, the key left out (required or not),
//! and each sample inside a list and as the value of a map (for lists and
//! maps of things: headers, captures, stages, matchers).
//!
//! Why a small checker and whole-file verdicts: the crate has no JSON
//! Schema validator, and one would be a heavy dependency for a test; the
//! generated schema uses a dozen keywords, and the checker refuses (panics
//! on) any keyword it does not know, so it cannot silently pass what a real
//! validator would refuse. Comparing whole-file verdicts, rather than
//! finding which key a diagnostic points at, is exact because the file
//! around the sample is accepted by both sides on its own (checked first).
//!
//! Some rules tie one key to another (which `load` keys fit which executor,
//! a `ramping-vus` stage target being a number of users and a
//! `ramping-arrival-rate` one a rate, `scenarios` excluding top-level
//! `steps`). A map may therefore have several surroundings, each used for
//! the keys it names: a sample counts as accepted by a side when that side
//! accepts it in at least one of the key's surroundings. The schema states
//! the union (a stage target is a count or a rate), not the tie itself.
//!
//! What this does not prove: the ties themselves (a `load` key that does not
//! fit its executor, top-level `load` beside `scenarios`, a bound's `target`
//! looser than its `critical` one, a think range written backwards); what is
//! checked only when a plan is compiled (templates, JSONPaths, regexes,
//! fragment and variable names); the reader's guess that a one-key map such
//! as `{ lenght: 3 }` is a misspelt matcher; and number spellings no sample
//! uses (`.5s`, `1e3`).

use std::path::PathBuf;

use serde_json::{json, Value};

use super::hosts::{hosts, Host, SLOT};
use super::validator::Validator;
use crate::scenario::{self, file, load, model, steps};

/// Every map the schema describes (a schema with `properties`), by name:
/// `TestFile` for the top level, a `$defs` name, or a definition followed by
/// the path to a map inside it (`Capture/anyOf/1`).
pub(super) fn maps(schema: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut top = schema.clone();
    if let Some(t) = top.as_object_mut() {
        t.remove("$defs");
    }
    collect("TestFile".into(), &top, &mut out);
    if let Some(defs) = schema["$defs"].as_object() {
        for (name, def) in defs {
            collect(name.clone(), def, &mut out);
        }
    }
    out
}

fn collect(name: String, s: &Value, out: &mut Vec<(String, Value)>) {
    match s {
        Value::Object(m) => {
            if m.contains_key("properties") {
                out.push((name.clone(), s.clone()));
            }
            for (k, v) in m {
                if !["examples", "default", "enum", "const"].contains(&k.as_str()) {
                    collect(format!("{name}/{k}"), v, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect(format!("{name}/{i}"), v, out);
            }
        }
        _ => {}
    }
}

/// Values of every JSON type, and the unit forms with near misses.
fn plain_samples() -> Vec<Value> {
    vec![
        // Text, and unit forms written as text.
        json!("text"),
        json!(""),
        json!("5"),
        json!("2.5"),
        json!("-1"),
        json!("2s"),
        json!("1m30s"),
        json!("1.5s"),
        json!("500us"),
        json!("2 s"),
        json!("5x"),
        json!("1s..3s"),
        json!("0.5..1"),
        json!("1s..5x"),
        json!("50/s"),
        json!("300/m"),
        json!("10/2s"),
        json!("5/day"),
        json!("1%"),
        json!("99.9%"),
        json!("150%"),
        json!("0.5"),
        json!("$.id"),
        json!(" $.id"),
        json!("{{ x }}"),
        // Numbers.
        json!(0),
        json!(1),
        json!(5),
        json!(-1),
        json!(99),
        json!(100),
        json!(200),
        json!(599),
        json!(600),
        json!(2.5),
        json!(0.5),
        json!(-0.5),
        // The rest.
        json!(true),
        json!(false),
        Value::Null,
        json!([]),
        json!([1]),
        json!(["a"]),
        json!([200, 201]),
        json!({}),
        json!({ "a": 1 }),
        json!({ "$.a": 1 }),
    ]
}

/// Every allowed value either side lists, as written and in other cases.
fn listed_samples(schema: &Value) -> Vec<Value> {
    let mut words: Vec<String> = Vec::new();
    enum_strings(schema, &mut words);
    words.extend(load::EXECUTORS.iter().map(|s| s.to_string()));
    words.extend(file::FEEDER_ORDERS.iter().map(|(s, _)| s.to_string()));
    words.extend(steps::ON_FAIL.iter().map(|(s, _)| s.to_string()));
    words.extend(steps::TYPE_NAMES.iter().map(|(s, _)| s.to_string()));
    words.extend(steps::KINDS.iter().map(|s| s.to_string()));
    words.extend(model::Method::KEYS.iter().map(|s| s.to_string()));
    let mut out: Vec<Value> = Vec::new();
    for w in &words {
        let mut capital = w.clone();
        if let Some(first) = capital.get_mut(..1) {
            first.make_ascii_uppercase();
        }
        for form in [
            w.clone(),
            w.to_ascii_lowercase(),
            w.to_ascii_uppercase(),
            capital,
        ] {
            let v = Value::String(form);
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    out
}

fn enum_strings(s: &Value, out: &mut Vec<String>) {
    match s {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("enum", Value::Array(items)) => {
                        out.extend(items.iter().filter_map(Value::as_str).map(String::from))
                    }
                    ("const", Value::String(c)) => out.push(c.clone()),
                    ("examples" | "default", _) => {}
                    _ => enum_strings(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| enum_strings(v, out)),
        _ => {}
    }
}

/// The examples the schema gives for a key (through references, inside
/// lists and maps), so that a right value of a map or list is tried too.
fn examples(v: &Validator, s: &Value, depth: usize) -> Vec<Value> {
    if depth > 4 {
        return Vec::new();
    }
    let mut out: Vec<Value> = s["examples"].as_array().cloned().unwrap_or_default();
    if let Some(r) = s["$ref"].as_str() {
        out.extend(examples(v, v.resolve(r), depth + 1));
    }
    if s["items"].is_object() {
        out.extend(
            examples(v, &s["items"], depth + 1)
                .into_iter()
                .map(|e| json!([e])),
        );
    }
    if s["additionalProperties"].is_object() {
        out.extend(
            examples(v, &s["additionalProperties"], depth + 1)
                .into_iter()
                .map(|e| json!({ "name": e })),
        );
    }
    for branch in s["anyOf"].as_array().into_iter().flatten() {
        out.extend(examples(v, branch, depth + 1));
    }
    out
}

/// What to put at a key: nothing (the key left out), or a value.
fn samples(
    v: &Validator,
    property: &Value,
    plain: &[Value],
    listed: &[Value],
) -> Vec<Option<Value>> {
    let mut out: Vec<Option<Value>> = vec![None];
    let mut add = |x: Value| {
        if !out.contains(&Some(x.clone())) {
            out.push(Some(x));
        }
    };
    for x in plain.iter().chain(listed) {
        add(x.clone());
    }
    for x in plain {
        add(json!([x]));
        add(json!({ "$.a": x }));
    }
    for x in examples(v, property, 0) {
        add(x);
    }
    out
}

/// Puts `map` where the host file has the slot.
fn place(file: &Value, map: &Value) -> Value {
    match file {
        Value::String(s) if s == SLOT => map.clone(),
        Value::Array(items) => Value::Array(items.iter().map(|i| place(i, map)).collect()),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, x)| (k.clone(), place(x, map))).collect())
        }
        other => other.clone(),
    }
}

/// A path in a folder that does not exist: files named by `include` or
/// a feeder's `file` are missing, whatever the sample.
fn scenario_path() -> PathBuf {
    std::env::temp_dir()
        .join("trek-schema-agreement-no-such-folder")
        .join("test.yaml")
}

/// `Ok` when the reader reports no error for the document (written as
/// JSON, which is YAML); the first error otherwise.
fn read(doc: &Value) -> Result<(), String> {
    let text = serde_json::to_string(doc).unwrap();
    let (_, diags) = scenario::load_str(&scenario_path(), text);
    match diags.iter().find(|d| d.is_error() && !missing_file(d)) {
        Some(d) => Err(format!("{} {}", d.code, d.message)),
        None => Ok(()),
    }
}

/// A file that a value names could not be read: the value itself was taken.
/// (A feeder with no rows shares the code, and is a real refusal.)
fn missing_file(d: &crate::diagnostic::Diagnostic) -> bool {
    use crate::scenario::reader::code;
    d.code == code::INCLUDE_FILE
        || d.code == code::NET_FILE
        || (d.code == code::DATA_FILE && !d.message.ends_with("no rows"))
}

/// Every sample must be read back as the same value, so that the reader
/// and the schema judge the same thing.
fn assert_yaml_reads_as_json(v: &Value) {
    let text = serde_json::to_string(&json!({ "v": v })).unwrap();
    let source = crate::diagnostic::Source::new(scenario_path(), text);
    let node = scenario::yaml::parse(&source).unwrap_or_else(|_| panic!("{v} is not YAML"));
    assert_eq!(node.to_json()["v"], *v, "{v} reads differently as YAML");
}

fn show(sample: &Option<Value>) -> String {
    match sample {
        None => "(left out)".into(),
        Some(v) => v.to_string(),
    }
}

#[test]
fn the_reader_and_the_schema_accept_the_same_values_for_every_key() {
    let schema = super::scenario_value();
    let validator = Validator::new(&schema);
    let hosts = hosts();
    let all_maps = maps(&schema);
    for h in &hosts {
        assert!(
            all_maps.iter().any(|(name, _)| name == h.map),
            "a host is for `{}`, which the schema does not have",
            h.map
        );
    }
    let plain = plain_samples();
    plain.iter().for_each(assert_yaml_reads_as_json);
    let listed = listed_samples(&schema);
    let mut problems: Vec<String> = Vec::new();
    let mut tried = 0;
    for (name, map) in &all_maps {
        let here: Vec<&Host> = hosts.iter().filter(|h| h.map == name).collect();
        assert!(
            !here.is_empty(),
            "no host file for the map `{name}`: add one to hosts()"
        );
        for h in &here {
            let doc = place(&h.file, &h.base);
            assert_eq!(read(&doc), Ok(()), "the reader refuses the host {doc}");
            assert!(validator.accepts(&doc), "the schema refuses the host {doc}");
        }
        let properties = map["properties"].as_object().unwrap();
        for (key, property) in properties {
            let for_key: Vec<&&Host> = here
                .iter()
                .filter(|h| h.keys.is_empty() || h.keys.contains(&key.as_str()))
                .collect();
            assert!(!for_key.is_empty(), "no host tries `{key}` of `{name}`");
            for sample in samples(&validator, property, &plain, &listed) {
                let docs: Vec<Value> = for_key
                    .iter()
                    .map(|h| {
                        let mut m = h.base.as_object().cloned().unwrap_or_default();
                        match &sample {
                            None => m.remove(key),
                            Some(v) => m.insert(key.clone(), v.clone()),
                        };
                        place(&h.file, &Value::Object(m))
                    })
                    .collect();
                tried += docs.len();
                let reader: Result<(), String> = docs
                    .iter()
                    .map(read)
                    .find(Result::is_ok)
                    .unwrap_or_else(|| read(&docs[0]));
                let schema_ok = docs.iter().any(|d| validator.accepts(d));
                if reader.is_ok() != schema_ok {
                    let (r, s) = match reader {
                        Ok(()) => ("accepts".to_string(), "refuses"),
                        Err(e) => (format!("refuses ({e})"), "accepts"),
                    };
                    problems.push(format!(
                        "{name}.{key} = {}: the reader {r}, the schema {s}",
                        show(&sample)
                    ));
                }
            }
        }
    }
    assert!(tried > 1000, "only {tried} documents were tried");
    assert!(
        problems.is_empty(),
        "the reader and the schema disagree on {} values:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
