//! The JSON Schemas of the scenario language and of `results.json`,
//! generated from Rust types, and the key reference generated from the
//! scenario schema. `trek schema` prints them; the checked-in copies in
//! `schemas/` and `docs/keys.md` are compared with these by the tests.

mod net;
mod reference;
mod scenario;
mod steps;
mod values;

use schemars::generate::SchemaSettings;

pub use reference::keys_reference;

/// Where editors find the scenario schema, as a URL relative to a file in
/// `scenarios/`.
pub const SCENARIO_SCHEMA_FILE: &str = "schemas/scenario.schema.json";
pub const RESULTS_SCHEMA_FILE: &str = "schemas/results.schema.json";
pub const KEYS_REFERENCE_FILE: &str = "docs/keys.md";

/// The schema of a scenario file, as pretty JSON ending in a newline.
pub fn scenario_schema() -> String {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let mut schema = generator.into_root_schema_for::<scenario::TestFile>();
    schema.insert(
        "$id".into(),
        "https://trek.invalid/schemas/scenario.schema.json".into(),
    );
    let mut value = schema.to_value();
    not_null(&mut value);
    pretty(&value)
}

/// An optional key is left out, not written as `null` (which trek refuses):
/// removes the `null` that `Option` adds to every property's type.
fn not_null(v: &mut serde_json::Value) {
    use serde_json::Value;
    let Value::Object(map) = v else {
        if let Value::Array(items) = v {
            items.iter_mut().for_each(not_null);
        }
        return;
    };
    if let Some(Value::Object(props)) = map.get_mut("properties") {
        for p in props.values_mut() {
            let Value::Object(p) = p else { continue };
            if let Some(Value::Array(types)) = p.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types[0].clone();
                    p.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(any)) = p.get_mut("anyOf") {
                any.retain(|s| s.get("type").is_none_or(|t| t != "null"));
                if any.len() == 1 {
                    let only = any.remove(0);
                    p.remove("anyOf");
                    if let Value::Object(inner) = only {
                        p.extend(inner);
                    }
                }
            }
        }
    }
    map.values_mut().for_each(not_null);
}

/// The schema of `results.json`.
pub fn results_schema() -> String {
    let generator = SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    let mut schema = generator.into_root_schema_for::<crate::report::results::Results>();
    schema.insert("title".into(), "trek results".into());
    schema.insert(
        "$id".into(),
        "https://trek.invalid/schemas/results.schema.json".into(),
    );
    pretty(&schema.to_value())
}

fn pretty(v: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// The scenario schema as a value, for the reference and the tests.
pub fn scenario_value() -> serde_json::Value {
    serde_json::from_str(&scenario_schema()).unwrap_or_default()
}

#[cfg(test)]
mod tests;
