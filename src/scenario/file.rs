//! Reads a whole test file: the top-level keys, `defaults`, `data`,
//! `fragments` and `scenarios` (or the single-journey form with `steps:` at
//! the top).

use std::path::Path;

use crate::scenario::data::read_rows;
use crate::scenario::load::{default_load, read_load};
use crate::scenario::model::*;
use crate::scenario::reader::{code, Reader};
use crate::scenario::slo::read_slos;
use crate::scenario::steps::read_steps;
use crate::scenario::units;
use crate::scenario::yaml::{Node, Value};

const TOP_KEYS: [&str; 13] = [
    "version",
    "name",
    "description",
    "base_url",
    "vars",
    "defaults",
    "data",
    "include",
    "fragments",
    "scenarios",
    "slo",
    "load",
    "steps",
];
const DEFAULTS_KEYS: [&str; 5] = [
    "headers",
    "timeout",
    "think",
    "follow_redirects",
    "insecure",
];
const SCENARIO_KEYS: [&str; 5] = ["load", "steps", "slo", "weight", "description"];
const FEEDER_KEYS: [&str; 3] = ["file", "rows", "order"];

pub fn read_test(r: &mut Reader, root: &Node, path: &Path) -> Option<Test> {
    let m = r.map(root, "the test file", &TOP_KEYS)?;
    if let Some(v) = m.get("version") {
        if v.value != Value::Int(1) {
            r.error_help(
                code::VERSION,
                v.span,
                format!(
                    "unsupported version `{}`",
                    v.scalar_text().unwrap_or_default()
                ),
                "this trek reads version 1: write `version: 1`",
            );
        }
    }
    if let Some(k) = m.key("include") {
        r.not_yet(k.span, "`include:` of other files");
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "test".into());
    let name = m
        .get("name")
        .and_then(|n| r.string(n, "`name`"))
        .unwrap_or_else(|| stem.clone());
    let description = m
        .get("description")
        .and_then(|n| r.string(n, "`description`"));
    let base_url = m.get("base_url").and_then(|n| r.text(n, "`base_url`"));
    let vars = m
        .get("vars")
        .map(|n| {
            r.free_map(n, "`vars`")
                .into_iter()
                .map(|(k, v, _)| (k, v.clone()))
                .collect()
        })
        .unwrap_or_default();
    let defaults = m
        .get("defaults")
        .map(|n| read_defaults(r, n))
        .unwrap_or_default();
    let folder = path.parent().unwrap_or(Path::new("."));
    let data = m
        .get("data")
        .map(|n| read_data(r, n, folder))
        .unwrap_or_default();
    let fragments = m
        .get("fragments")
        .map(|n| {
            r.free_map(n, "`fragments`")
                .into_iter()
                .map(|(name, v, _)| Fragment {
                    steps: read_steps(r, v, &format!("fragment `{name}`")),
                    name,
                })
                .collect()
        })
        .unwrap_or_default();

    let mut slo = m.get("slo").map(|n| read_slos(r, n)).unwrap_or_default();
    let scenarios = match (m.get("scenarios"), m.get("steps")) {
        (Some(s), None) => {
            for key in ["load"] {
                if let Some(k) = m.key(key) {
                    r.error_help(
                        code::CONFLICT,
                        k.span,
                        format!("top-level `{key}` is for a file with a single journey"),
                        "move it into the scenario it belongs to, under `scenarios:`",
                    );
                }
            }
            read_scenarios(r, s)
        }
        (None, Some(steps)) => {
            // Single-journey form: the top-level `slo` belongs to the scenario.
            let load = match m.get("load") {
                Some(l) => read_load(r, l),
                None => Some(default_load()),
            };
            let steps = read_steps(r, steps, "`steps`");
            vec![Scenario {
                name: stem,
                load: load?,
                steps,
                slo: std::mem::take(&mut slo),
                weight: 1.0,
            }]
        }
        (Some(_), Some(_)) => {
            let span = m.key("steps").map_or(root.span, |k| k.span);
            r.error_help(
                code::CONFLICT,
                span,
                "a file has either `scenarios:` or top-level `steps:`, not both",
                "move these steps into a scenario under `scenarios:`",
            );
            return None;
        }
        (None, None) => {
            r.error_help(
                code::MISSING_KEY,
                root.span,
                "the file has no `steps:` and no `scenarios:`",
                "add `steps:` with at least one request, e.g. `- get: /health`",
            );
            return None;
        }
    };
    Some(Test {
        source: r.source.clone(),
        name,
        description,
        base_url,
        vars,
        defaults,
        data,
        fragments,
        scenarios,
        slo,
    })
}

fn read_defaults(r: &mut Reader, node: &Node) -> Defaults {
    let mut d = Defaults::default();
    let Some(m) = r.map(node, "`defaults`", &DEFAULTS_KEYS) else {
        return d;
    };
    if let Some(n) = m.get("headers") {
        d.headers = r.text_map(n, "`defaults.headers`");
    }
    if let Some(t) = m.get("timeout").and_then(|n| r.duration(n, "`timeout`")) {
        d.timeout = t;
    }
    d.think = m
        .get("think")
        .and_then(|n| r.unit(n, "`think`", units::parse_think));
    if let Some(b) = m
        .get("follow_redirects")
        .and_then(|n| r.boolean(n, "`follow_redirects`"))
    {
        d.follow_redirects = b;
    }
    if let Some(b) = m.get("insecure").and_then(|n| r.boolean(n, "`insecure`")) {
        d.insecure = b;
    }
    d
}

fn read_data(r: &mut Reader, node: &Node, folder: &Path) -> Vec<Feeder> {
    let mut out = Vec::new();
    for (name, v, _) in r.free_map(node, "`data`") {
        let Some(m) = r.map(v, &format!("feeder `{name}`"), &FEEDER_KEYS) else {
            continue;
        };
        let order = match m.get("order") {
            None => FeederOrder::Sequential,
            Some(n) => match n.as_str() {
                Some("sequential") => FeederOrder::Sequential,
                Some("random") => FeederOrder::Random,
                Some("unique") => FeederOrder::Unique,
                _ => {
                    r.error_help(
                        code::BAD_VALUE,
                        n.span,
                        "`order` must be `sequential`, `random` or `unique`",
                        "`unique` hands each row out once and ends the scenario when rows run out",
                    );
                    continue;
                }
            },
        };
        let rows = match (m.get("file"), m.get("rows")) {
            (Some(f), None) => {
                let Some(rel) = r.string(f, "`file`") else {
                    continue;
                };
                let path = folder.join(&rel);
                match read_rows(&path) {
                    Ok(rows) => rows,
                    Err(e) => {
                        r.error_help(
                            code::DATA_FILE,
                            f.span,
                            e,
                            "the path is relative to the folder of the scenario file",
                        );
                        continue;
                    }
                }
            }
            (None, Some(rows)) => {
                let mut list = Vec::new();
                for row in r.seq(rows, "`rows`") {
                    match row.to_json() {
                        serde_json::Value::Object(map) => list.push(map),
                        _ => r.wrong_type(row, "a row", "a map of column to value"),
                    }
                }
                list
            }
            _ => {
                r.error(
                    code::MISSING_KEY,
                    v.span,
                    format!("feeder `{name}` needs either `file:` or `rows:`"),
                );
                continue;
            }
        };
        if rows.is_empty() {
            r.error(
                code::DATA_FILE,
                v.span,
                format!("feeder `{name}` has no rows"),
            );
            continue;
        }
        out.push(Feeder { name, rows, order });
    }
    out
}

fn read_scenarios(r: &mut Reader, node: &Node) -> Vec<Scenario> {
    let mut out = Vec::new();
    for (name, v, span) in r.free_map(node, "`scenarios`") {
        let Some(m) = r.map(v, &format!("scenario `{name}`"), &SCENARIO_KEYS) else {
            continue;
        };
        let load = match m.get("load") {
            Some(l) => read_load(r, l),
            None => Some(default_load()),
        };
        let steps = match m.get("steps") {
            Some(s) => read_steps(r, s, "`steps`"),
            None => {
                r.error(
                    code::MISSING_KEY,
                    span,
                    format!("scenario `{name}` needs `steps:`"),
                );
                Vec::new()
            }
        };
        let slo = m.get("slo").map(|n| read_slos(r, n)).unwrap_or_default();
        let weight = m
            .get("weight")
            .and_then(|n| r.number(n, "`weight`"))
            .unwrap_or(1.0);
        if let Some(load) = load {
            out.push(Scenario {
                name,
                load,
                steps,
                slo,
                weight,
            });
        }
    }
    if out.is_empty() && !r.diags.has_errors() {
        r.error(
            code::MISSING_KEY,
            node.span,
            "`scenarios` needs at least one scenario",
        );
    }
    out
}
