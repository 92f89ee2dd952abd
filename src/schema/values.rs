//! Schemas of the scalar forms the scenario language accepts: durations,
//! rates, shares, think times, templates, statuses and matchers. Each is
//! written once here and referenced wherever a key takes that form.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

macro_rules! value_schema {
    ($(#[$doc:meta])* $ty:ident, $name:literal, $schema:tt) => {
        $(#[$doc])*
        pub struct $ty;

        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                $name.into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!($schema)
            }
        }
    };
}

/// A number with a unit (`us`, `ms`, `s`, `m`, `h`), parts may be added up.
const DURATION_PATTERN: &str = r"^\s*(\d+(\.\d+)?(us|µs|ms|s|m|h))+\s*$|^\s*\d+(\.\d+)?\s*$";

value_schema!(
    /// `500ms`, `2s`, `1m30s`; a bare number is seconds.
    Duration,
    "Duration",
    {
        "description": "A duration: a number with a unit (us, ms, s, m, h), e.g. `500ms`, `2s`, `1m30s`. A bare number is seconds.",
        "type": ["string", "number"],
        "pattern": DURATION_PATTERN,
        "minimum": 0,
        "examples": ["2s"]
    }
);

value_schema!(
    /// `2s` or a uniform range `1s..3s`.
    Think,
    "Think",
    {
        "description": "A pause: a duration (`2s`) or a range picked uniformly at random (`1s..3s`).",
        "type": ["string", "number"],
        "pattern": r"^\s*[0-9.]+[a-zµ0-9.]*\s*(\.\.\s*[0-9.]+[a-zµ0-9.]*\s*)?$",
        "examples": ["1s..3s"]
    }
);

value_schema!(
    /// `50/s`, `300/m`, `10/h`.
    Rate,
    "Rate",
    {
        "description": "A rate: a count per unit of time, `50/s`, `300/m`, `10/h`. A bare number is per second.",
        "type": ["string", "number"],
        "pattern": r"^\s*\d+(\.\d+)?\s*(/\s*\S+)?\s*$",
        "examples": ["50/s"]
    }
);

value_schema!(
    /// A string that may hold `{{ … }}` templates.
    Template,
    "Template",
    {
        "description": "Text; `{{ expression }}` parts are MiniJinja templates, compiled when the file is loaded.",
        "type": ["string", "number", "boolean"],
        "examples": ["Bearer {{ token }}"]
    }
);

value_schema!(
    /// Any JSON-like value; string leaves may be templates.
    AnyValue,
    "Value",
    {
        "description": "Any value (map, list, string, number, boolean); strings may hold `{{ … }}` templates.",
        "examples": [{ "email": "{{ fake.email() }}" }]
    }
);

value_schema!(
    /// One HTTP status or a list.
    Status,
    "Status",
    {
        "description": "An HTTP status (100–599) or a list of them.",
        "anyOf": [
            { "type": "integer", "minimum": 100, "maximum": 599 },
            { "type": "array", "items": { "type": "integer", "minimum": 100, "maximum": 599 }, "minItems": 1 }
        ],
        "examples": [200, [200, 201]]
    }
);

value_schema!(
    /// A value to compare with, or a map of matchers.
    Matcher,
    "Matcher",
    {
        "description": "A value the actual one must equal, or a map of matchers: exists, eq, ne, lt, le, gt, ge, matches (regex), contains, length, type (string, number, bool, object, array, null). Several matchers must all hold.",
        "anyOf": [
            {
                "type": "object",
                "properties": {
                    "exists": { "type": "boolean" },
                    "eq": {}, "ne": {},
                    "lt": { "type": "number" }, "le": { "type": "number" },
                    "gt": { "type": "number" }, "ge": { "type": "number" },
                    "matches": { "type": "string" },
                    "contains": {},
                    "length": {},
                    "type": { "enum": ["string", "number", "bool", "boolean", "object", "array", "null"] }
                },
                "minProperties": 1
            },
            { "type": ["string", "number", "boolean", "array", "null"] },
            { "type": "object", "description": "An object the value must equal." }
        ],
        "examples": [{ "gt": 0 }]
    }
);

value_schema!(
    /// What a capture reads: a JSONPath, or a map naming the source.
    CaptureSource,
    "Capture",
    {
        "description": "A JSONPath (`$.access_token`), or a map with one source: `json` (JSONPath), `header` (name), `regex` (with one group), `status: true`; and an optional `default`.",
        "anyOf": [
            { "type": "string", "pattern": r"^\s*\$" },
            {
                "type": "object",
                "properties": {
                    "json": { "type": "string" },
                    "header": { "type": "string" },
                    "regex": { "type": "string" },
                    "status": { "type": "boolean" },
                    "default": {}
                },
                "additionalProperties": false,
                "minProperties": 1
            }
        ],
        "examples": ["$.access_token"]
    }
);

value_schema!(
    /// An SLO bound: a bare critical bound, or `{ target, critical }`.
    Bound,
    "Bound",
    {
        "description": "A bound: one value (breaking it fails the run), or `{ target, critical }` (breaking `target` warns, breaking `critical` fails). Values use the unit of the metric: a duration, a share (`1%`), a rate (`50/s`) or a count.",
        "anyOf": [
            { "type": ["string", "number"] },
            {
                "type": "object",
                "properties": {
                    "target": { "type": ["string", "number"] },
                    "critical": { "type": ["string", "number"] }
                },
                "additionalProperties": false,
                "minProperties": 1
            }
        ],
        "examples": ["500ms"]
    }
);

value_schema!(
    /// A stage target: a user count or a rate.
    StageTarget,
    "StageTarget",
    {
        "description": "Where the stage ends: a number of virtual users (`ramping-vus`) or a rate such as `100/s` (`ramping-arrival-rate`).",
        "type": ["integer", "string"],
        "examples": [50]
    }
);
