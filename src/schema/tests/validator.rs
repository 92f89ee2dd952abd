//! A checker for the part of JSON Schema (draft 2020-12) that the scenario
//! schema is written in, so that the tests can ask "does the schema accept
//! this value?" without a validator crate.
//!
//! It knows the keywords the generated schema uses and a few more that fit
//! in a line each. A schema that uses any other keyword makes it panic,
//! naming the keyword: an unknown keyword is never ignored, so the checker
//! cannot pass a value that a real validator would refuse. (`tests/schema.rs`
//! runs a real validator, Python's `jsonschema`, on the bundled scenarios.)

use std::cell::RefCell;
use std::collections::HashMap;

use regex::Regex;
use serde_json::{Map, Value};

/// Keywords that only describe: they never make a value invalid. (`format`
/// is an annotation in draft 2020-12 unless a validator opts in.)
const ANNOTATIONS: [&str; 8] = [
    "$schema",
    "$id",
    "$defs",
    "title",
    "description",
    "examples",
    "default",
    "format",
];

pub struct Validator<'s> {
    root: &'s Value,
    patterns: RefCell<HashMap<String, Regex>>,
}

impl<'s> Validator<'s> {
    pub fn new(root: &'s Value) -> Self {
        Self {
            root,
            patterns: RefCell::default(),
        }
    }

    /// Whether the whole schema accepts `value`.
    pub fn accepts(&self, value: &Value) -> bool {
        self.check(self.root, value)
    }

    /// The definition a `$ref` (`#/$defs/NAME`, or `#` for the root) names.
    pub fn resolve(&self, reference: &str) -> &'s Value {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("only local references are supported: {reference}"));
        self.root
            .pointer(pointer)
            .unwrap_or_else(|| panic!("`{reference}` names nothing in the schema"))
    }

    pub fn check(&self, schema: &Value, value: &Value) -> bool {
        let schema = match schema {
            Value::Bool(b) => return *b,
            Value::Object(map) => map,
            other => panic!("not a schema: {other}"),
        };
        schema
            .iter()
            .all(|(keyword, arg)| self.keyword(schema, keyword, arg, value))
    }

    fn keyword(&self, schema: &Map<String, Value>, keyword: &str, arg: &Value, v: &Value) -> bool {
        let list = || arg.as_array().expect("a list");
        let number = || arg.as_f64().expect("a number");
        let count = || arg.as_u64().expect("a count") as usize;
        match keyword {
            k if ANNOTATIONS.contains(&k) => true,
            "$ref" => self.check(self.resolve(arg.as_str().expect("a reference")), v),
            "type" => match arg {
                Value::String(t) => has_type(t, v),
                Value::Array(types) => types.iter().any(|t| has_type(t.as_str().unwrap(), v)),
                other => panic!("bad `type`: {other}"),
            },
            "enum" => list().contains(v),
            "const" => arg == v,
            "anyOf" => list().iter().any(|s| self.check(s, v)),
            "oneOf" => list().iter().filter(|s| self.check(s, v)).count() == 1,
            "allOf" => list().iter().all(|s| self.check(s, v)),
            "not" => !self.check(arg, v),
            // The object keywords; other values pass them.
            "properties" => v.as_object().is_none_or(|o| {
                arg.as_object()
                    .expect("a map of properties")
                    .iter()
                    .all(|(k, s)| o.get(k).is_none_or(|x| self.check(s, x)))
            }),
            "additionalProperties" => v.as_object().is_none_or(|o| {
                let declared = schema.get("properties").and_then(Value::as_object);
                o.iter()
                    .filter(|(k, _)| declared.is_none_or(|d| !d.contains_key(*k)))
                    .all(|(_, x)| self.check(arg, x))
            }),
            "propertyNames" => v.as_object().is_none_or(|o| {
                o.keys()
                    .all(|k| self.check(arg, &Value::String(k.clone())))
            }),
            "required" => v.as_object().is_none_or(|o| {
                list()
                    .iter()
                    .all(|k| o.contains_key(k.as_str().expect("a key")))
            }),
            "dependentRequired" => v.as_object().is_none_or(|o| {
                arg.as_object().unwrap().iter().all(|(key, needs)| {
                    !o.contains_key(key)
                        || needs
                            .as_array()
                            .unwrap()
                            .iter()
                            .all(|n| o.contains_key(n.as_str().unwrap()))
                })
            }),
            "minProperties" => v.as_object().is_none_or(|o| o.len() >= count()),
            "maxProperties" => v.as_object().is_none_or(|o| o.len() <= count()),
            // The list keywords.
            "items" => v
                .as_array()
                .is_none_or(|a| a.iter().all(|x| self.check(arg, x))),
            "minItems" => v.as_array().is_none_or(|a| a.len() >= count()),
            "maxItems" => v.as_array().is_none_or(|a| a.len() <= count()),
            // The string and number keywords.
            "pattern" => v
                .as_str()
                .is_none_or(|s| self.pattern(arg.as_str().expect("a regex"), s)),
            "minimum" => v.as_f64().is_none_or(|x| x >= number()),
            "maximum" => v.as_f64().is_none_or(|x| x <= number()),
            other => panic!("the test's schema checker does not know `{other}`: teach it (src/schema/tests/validator.rs)"),
        }
    }

    /// A JSON Schema `pattern` matches anywhere in the string, as
    /// `Regex::is_match` does.
    fn pattern(&self, pattern: &str, s: &str) -> bool {
        let mut cache = self.patterns.borrow_mut();
        let re = cache.entry(pattern.to_string()).or_insert_with(|| {
            Regex::new(pattern).unwrap_or_else(|e| panic!("bad pattern {pattern}: {e}"))
        });
        re.is_match(s)
    }
}

fn has_type(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "string" => v.is_string(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        "number" => v.is_number(),
        // JSON Schema counts `1.0` as an integer.
        "integer" => v.as_f64().is_some_and(|x| x.fract() == 0.0),
        other => panic!("unknown type `{other}`"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::Validator;

    #[test]
    fn the_checker_follows_json_schema() {
        let schema = json!({
            "$defs": { "D": { "type": ["string", "number"], "pattern": "^\\d+s$", "minimum": 0 } },
            "type": "object",
            "properties": {
                "d": { "$ref": "#/$defs/D" },
                "e": { "enum": ["a", "b"] },
                "one": { "oneOf": [{ "required": ["x"] }, { "required": ["y"] }] },
                "list": { "type": "array", "items": { "type": "integer" }, "minItems": 1 },
                "free": { "type": "object", "propertyNames": { "pattern": "^\\$" }, "additionalProperties": { "type": "boolean" } }
            },
            "additionalProperties": false
        });
        let v = Validator::new(&schema);
        for ok in [
            json!({}),
            json!({ "d": "2s" }),
            json!({ "d": 2.5 }),
            json!({ "e": "a" }),
            json!({ "one": { "x": 1 } }),
            json!({ "list": [1, 2.0] }),
            json!({ "free": { "$.a": true } }),
        ] {
            assert!(v.accepts(&ok), "{ok}");
        }
        for bad in [
            json!([]),
            json!({ "z": 1 }),
            json!({ "d": "2m" }),
            json!({ "d": -1 }),
            json!({ "d": true }),
            json!({ "e": "c" }),
            json!({ "one": { "x": 1, "y": 2 } }),
            json!({ "one": {} }),
            json!({ "list": [] }),
            json!({ "list": [1.5] }),
            json!({ "free": { "a": true } }),
            json!({ "free": { "$.a": 1 } }),
        ] {
            assert!(!v.accepts(&bad), "{bad}");
        }
    }
}
