//! Schemas of the scalar forms the scenario language accepts: durations,
//! rates, shares, think times, text, templates, statuses, matchers and SLO
//! bounds. Each is written once here and referenced wherever a key takes
//! that form. The patterns follow the parsers in `crate::scenario::units`;
//! `src/schema/tests/agreement.rs` checks that they accept the same values.

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

/// A duration, or a range of two (`1s..3s`).
const THINK_PATTERN: &str = r"^\s*((\d+(\.\d+)?(us|µs|ms|s|m|h))+|\d+(\.\d+)?)\s*(\.\.\s*((\d+(\.\d+)?(us|µs|ms|s|m|h))+|\d+(\.\d+)?)\s*)?$";

/// A count per `s`, `m`, `h` or per a duration (`10/2s`); a bare count is
/// per second.
const RATE_PATTERN: &str =
    r"^\s*\d+(\.\d+)?\s*(/\s*(s|m|h|(\d+(\.\d+)?(us|µs|ms|s|m|h))+|\d+(\.\d+)?)\s*)?$";

/// A percentage up to 100, or a fraction from 0 to 1.
const SHARE_PATTERN: &str =
    r"^\s*(\d{1,2}(\.\d+)?|100(\.0+)?)\s*%\s*$|^\s*(0(\.\d+)?|1(\.0+)?)\s*$";

/// A whole count, a percentage up to 100, or a rate with its unit.
const DROPPED_PATTERN: &str = r"^\s*\d+\s*$|^\s*(\d{1,2}(\.\d+)?|100(\.0+)?)\s*%\s*$|^\s*\d+(\.\d+)?\s*/\s*(s|m|h|(\d+(\.\d+)?(us|µs|ms|s|m|h))+|\d+(\.\d+)?)\s*$";

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
        "pattern": THINK_PATTERN,
        "minimum": 0,
        "examples": ["1s..3s"]
    }
);

value_schema!(
    /// `50/s`, `300/m`, `10/h`.
    Rate,
    "Rate",
    {
        "description": "A rate: a count per unit of time, `50/s`, `300/m`, `10/h`, `10/2s`. A bare number is per second.",
        "type": ["string", "number"],
        "pattern": RATE_PATTERN,
        "minimum": 0,
        "examples": ["50/s"]
    }
);

value_schema!(
    /// A share of a whole: `1%`, `0.01`.
    Share,
    "Share",
    {
        "description": "A share: a percentage (`1%`, `99.9%`) or a fraction from 0 to 1 (`0.01`).",
        "type": ["string", "number"],
        "pattern": SHARE_PATTERN,
        "minimum": 0,
        "maximum": 1,
        "examples": ["1%"]
    }
);

value_schema!(
    /// Dropped iterations: a count, a share or a rate.
    Dropped,
    "Dropped",
    {
        "description": "Dropped iterations: a count (`0`), a share of the scheduled iterations (`1%`) or a rate (`2/s`).",
        "type": ["string", "integer"],
        "pattern": DROPPED_PATTERN,
        "minimum": 0,
        "examples": [0]
    }
);

value_schema!(
    /// A plain number, or one written as text.
    Number,
    "Number",
    {
        "description": "A plain number (`80`, `0.5`, `2e6`), in the unit of what it bounds.",
        "type": ["number", "string"],
        "pattern": r"^\s*-?\d+(\.\d+)?([eE][+-]?\d+)?\s*$",
        "examples": [80]
    }
);

value_schema!(
    /// Which samples of a Prometheus endpoint make a monitored series.
    Selector,
    "Selector",
    {
        "description": "A metric name, with labels the samples must have: `db_pool_connections{state=\"in_use\"}`. The matching samples are added up; only `=` matches.",
        "type": "string",
        "pattern": r"^\s*[a-zA-Z_:][a-zA-Z0-9_:]*\s*(\{.*\})?\s*$",
        "examples": ["db_pool_connections{state=\"in_use\"}"]
    }
);

value_schema!(
    /// Plain text; a number or a boolean is taken as written.
    Text,
    "Text",
    {
        "description": "Text. A number or a boolean written here is taken as its text (`name: 2024`).",
        "type": ["string", "number", "boolean"],
        "examples": ["checkout"]
    }
);

value_schema!(
    /// `include:`: one path or a list of them.
    Include,
    "Include",
    {
        "description": "A path, or a list of paths, relative to the file that names them.",
        "anyOf": [
            { "type": "string" },
            { "type": "array", "items": { "type": ["string", "number", "boolean"] } }
        ],
        "examples": [["lib/auth.yaml"]]
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
        "description": "A value the actual one must equal, or a map of matchers: exists, eq, ne, lt, le, gt, ge (a number, or a template giving one), matches (regex), contains, length, type (string, number, bool, object, array, null). Several matchers must all hold.",
        "anyOf": [
            {
                "type": "object",
                "properties": {
                    "exists": { "type": "boolean" },
                    "eq": {}, "ne": {},
                    "lt": { "type": ["number", "string"] }, "le": { "type": ["number", "string"] },
                    "gt": { "type": ["number", "string"] }, "ge": { "type": ["number", "string"] },
                    "matches": { "type": ["string", "number", "boolean"] },
                    "contains": {},
                    "length": {},
                    "type": { "enum": ["string", "number", "bool", "boolean", "object", "array", "null"] }
                },
                "additionalProperties": false,
                "minProperties": 1
            },
            { "type": ["string", "number", "boolean", "array", "null"] },
            {
                "type": "object",
                "description": "An object the value must equal: one with none of the matcher keys.",
                "propertyNames": { "not": { "enum": ["exists", "eq", "ne", "lt", "le", "gt", "ge", "matches", "contains", "length", "type"] } }
            }
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
            { "type": "string", "pattern": r"^\$" },
            {
                "type": "object",
                "properties": {
                    "json": { "type": ["string", "number", "boolean"] },
                    "header": { "type": ["string", "number", "boolean"] },
                    "regex": { "type": ["string", "number", "boolean"] },
                    "status": { "type": "boolean" },
                    "default": {}
                },
                "additionalProperties": false,
                "oneOf": [
                    { "required": ["json"] },
                    { "required": ["header"] },
                    { "required": ["regex"] },
                    { "required": ["status"] }
                ]
            }
        ],
        "examples": ["$.access_token"]
    }
);

/// Declares the bound of a metric whose values are written as `$value`:
/// one value, or a map of `target` and `critical`.
macro_rules! bound_schema {
    ($(#[$doc:meta])* $ty:ident, $name:literal, $value:ty, $what:literal, $example:expr) => {
        $(#[$doc])*
        pub struct $ty;

        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                $name.into()
            }

            fn json_schema(generator: &mut SchemaGenerator) -> Schema {
                let value = generator.subschema_for::<$value>();
                let after = generator.subschema_for::<Duration>();
                json_schema!({
                    "description": concat!("A bound on ", $what, ": one value (breaking it fails the run), or `{ target, critical }` (breaking `target` warns, breaking `critical` fails), with `abort: true` to stop the test as soon as `critical` is crossed and `after: 30s` to judge only what happened from then on."),
                    "anyOf": [
                        value,
                        {
                            "type": "object",
                            "properties": {
                                "target": value,
                                "critical": value,
                                "abort": {
                                    "description": "Judge it while the run goes and stop the test (gracefully, verdict fail, exit 1) as soon as the critical bound is crossed. Needs `critical`.",
                                    "type": "boolean",
                                    "examples": [true]
                                },
                                "after": {
                                    "description": "Judge only what happened from this long after the load started (a warm-up cannot trip it), while the run goes and at the end.",
                                    "allOf": [after],
                                    "examples": ["30s"]
                                }
                            },
                            "additionalProperties": false,
                            "minProperties": 1
                        }
                    ],
                    "examples": [$example]
                })
            }
        }
    };
}

bound_schema!(
    /// A bound on a time statistic.
    DurationBound,
    "DurationBound",
    Duration,
    "a time",
    "500ms"
);

bound_schema!(
    /// A bound on a share (`error_rate`, `checks`).
    ShareBound,
    "ShareBound",
    Share,
    "a share",
    "1%"
);

bound_schema!(
    /// A bound on a rate (`throughput`).
    RateBound,
    "RateBound",
    Rate,
    "a rate",
    "100/s"
);

bound_schema!(
    /// A bound on a monitored series (a plain number in its unit).
    NumberBound,
    "NumberBound",
    Number,
    "a monitored series (a plain number, in the series' unit)",
    80
);

bound_schema!(
    /// A bound on dropped iterations; `target` and `critical` are written
    /// in one unit.
    DroppedBound,
    "DroppedBound",
    Dropped,
    "dropped iterations (`target` and `critical` in the same unit)",
    0
);

/// What a WebSocket `receive` waits for.
pub struct ReceiveMatch;

impl JsonSchema for ReceiveMatch {
    fn schema_name() -> Cow<'static, str> {
        "ReceiveMatch".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let matcher = generator.subschema_for::<Matcher>();
        json_schema!({
            "description": "A regex the message must match, or a map of JSONPath (starting with `$`) → matcher on the message read as JSON.",
            "anyOf": [
                { "type": ["string", "number", "boolean"] },
                {
                    "type": "object",
                    "propertyNames": { "pattern": r"^\$" },
                    "additionalProperties": matcher
                }
            ],
            "examples": [{ "$.type": "answer" }]
        })
    }
}

value_schema!(
    /// A stage target: a user count or a rate.
    StageTarget,
    "StageTarget",
    {
        "description": "Where the stage ends: a number of virtual users (`ramping-vus`) or a rate such as `100/s` (`ramping-arrival-rate`).",
        "type": ["string", "number"],
        "pattern": RATE_PATTERN,
        "minimum": 0,
        "examples": [50]
    }
);
