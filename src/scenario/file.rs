//! Reads a whole test file: the top-level keys, `defaults`, `data`,
//! `fragments` and `scenarios` (or the single-journey form with `steps:` at
//! the top).

use std::path::{Path, PathBuf};

use crate::diagnostic::Source;

use crate::scenario::data::read_rows;
use crate::scenario::load::{default_load, read_load};
use crate::scenario::model::*;
use crate::scenario::reader::{code, MapView, Reader};
use crate::scenario::slo::read_slos;
use crate::scenario::steps::read_steps;
use crate::scenario::units;
use crate::scenario::yaml::{Node, Value};

pub const TOP_KEYS: [&str; 18] = [
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
    "setup",
    "teardown",
    "before",
    "after",
    "monitor",
];
pub const DEFAULTS_KEYS: [&str; 10] = [
    "headers",
    "timeout",
    "think",
    "follow_redirects",
    "insecure",
    "tls",
    "http_version",
    "proxy",
    "max_body",
    "discard_body",
];
pub const SCENARIO_KEYS: [&str; 7] = [
    "load",
    "before",
    "steps",
    "after",
    "slo",
    "weight",
    "description",
];
pub const FEEDER_KEYS: [&str; 4] = ["file", "rows", "order", "per"];
/// The values of a feeder's `per`.
pub const FEEDER_PER: [(&str, FeederPer); 2] =
    [("iteration", FeederPer::Iteration), ("vu", FeederPer::Vu)];
/// The values of a feeder's `order`.
pub const FEEDER_ORDERS: [(&str, FeederOrder); 3] = [
    ("sequential", FeederOrder::Sequential),
    ("random", FeederOrder::Random),
    ("unique", FeederOrder::Unique),
];

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
    let mut fragments = Vec::new();
    if let Some(list) = m.get("include") {
        let mut includes = Includes::new(path);
        includes.read(r, list, path, &mut fragments);
    }
    if let Some(n) = m.get("fragments") {
        let own = read_fragments(r, n);
        add_fragments(r, &mut fragments, own);
    }

    let monitors = m
        .get("monitor")
        .map(|n| crate::scenario::monitor::read_monitors(r, n))
        .unwrap_or_default();
    let mut slo = m.get("slo").map(|n| read_slos(r, n)).unwrap_or_default();
    let setup = steps_at(r, &m, "setup");
    let teardown = steps_at(r, &m, "teardown");
    let scenarios = match (m.get("scenarios"), m.get("steps")) {
        (Some(s), None) => {
            for key in ["load", "before", "after"] {
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
            let before = steps_at(r, &m, "before");
            let steps = read_steps(r, steps, "`steps`");
            let after = steps_at(r, &m, "after");
            // A load that could not be read was reported; its steps are
            // still read and compiled so that their own problems come out
            // in the same pass (no plan is made from a file with errors).
            vec![Scenario {
                name: stem,
                load: load.unwrap_or_else(default_load),
                before,
                steps,
                after,
                // The target's monitored series are the test's.
                slo: {
                    let (monitored, own): (Vec<_>, Vec<_>) = std::mem::take(&mut slo)
                        .into_iter()
                        .partition(|s| s.metric == SloMetric::Monitor);
                    slo = monitored;
                    own
                },
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
        (None, None) if m.has("fragments") || m.has("include") => {
            // A library of fragments, meant for `include:`.
            for key in ["load", "before", "after", "setup", "teardown"] {
                if let Some(k) = m.key(key) {
                    r.error_help(
                        code::CONFLICT,
                        k.span,
                        format!("`{key}` needs `steps:` or `scenarios:` to apply to"),
                        "a file of fragments only is included by others; it runs nothing of its own",
                    );
                }
            }
            Vec::new()
        }
        (None, None) => {
            r.error_help(
                code::MISSING_KEY,
                root.span,
                "the file has no `steps:` and no `scenarios:`",
                "add `steps:` with at least one request, e.g. `- get: /health` (or `fragments:`, for a file others include)",
            );
            return None;
        }
    };
    Some(Test {
        source: r.source.clone(),
        files: Vec::new(),
        name,
        description,
        base_url,
        vars,
        defaults,
        data,
        fragments,
        setup,
        teardown,
        scenarios,
        slo,
        monitors,
    })
}

/// The steps under `key` (`setup`, `before`…), none when the map has not
/// the key.
fn steps_at(r: &mut Reader, m: &MapView, key: &str) -> Vec<Step> {
    m.get(key)
        .map(|n| read_steps(r, n, &format!("`{key}`")))
        .unwrap_or_default()
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
    d.net = crate::scenario::net::read_net(r, &m);
    // `insecure: true` is the short form of `tls: { insecure: true }`.
    if d.insecure && d.net.tls.insecure.is_none() {
        d.net.tls.insecure = Some(true);
    }
    d
}

fn read_data(r: &mut Reader, node: &Node, folder: &Path) -> Vec<Feeder> {
    let mut out = Vec::new();
    for (name, v, span) in r.free_map(node, "`data`") {
        let Some(m) = r.map(v, &format!("feeder `{name}`"), &FEEDER_KEYS) else {
            continue;
        };
        let Some(order) = one_of(
            r,
            &m,
            "order",
            &FEEDER_ORDERS,
            "`order` must be `sequential`, `random` or `unique`",
            "`unique` hands each row out once and ends the scenario when rows run out",
        ) else {
            continue;
        };
        let Some(per) = one_of(
            r,
            &m,
            "per",
            &FEEDER_PER,
            "`per` must be `iteration` or `vu`",
            "`vu`: a virtual user takes one row and keeps it for all its iterations",
        ) else {
            continue;
        };
        let rows = match (m.get("file"), m.get("rows")) {
            (Some(f), None) => {
                let Some(rel) = r.string(f, "`file`") else {
                    continue;
                };
                let path = folder.join(&rel);
                r.uses(&path, false);
                match read_rows(&path) {
                    Ok(rows) => rows,
                    Err(e) => {
                        r.error_help(
                            code::DATA_FILE,
                            f.span,
                            e.to_string(),
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
        out.push(Feeder {
            name,
            rows,
            order,
            per,
            span,
        });
    }
    out
}

/// The value of `key` among `choices` (the first is the default when the
/// key is absent); `None`, reported, when it is none of them.
fn one_of<T: Copy>(
    r: &mut Reader,
    m: &MapView,
    key: &str,
    choices: &[(&str, T)],
    message: &str,
    help: &str,
) -> Option<T> {
    let Some(n) = m.get(key) else {
        return choices.first().map(|(_, v)| *v);
    };
    let found = choices.iter().find(|(k, _)| n.as_str() == Some(*k));
    if found.is_none() {
        r.error_help(code::BAD_VALUE, n.span, message, help);
    }
    found.map(|(_, v)| *v)
}

fn read_scenarios(r: &mut Reader, node: &Node) -> Vec<Scenario> {
    let mut out = Vec::new();
    for (name, v, span) in r.free_map(node, "`scenarios`") {
        if matches!(name.as_str(), "setup" | "teardown") {
            r.error_help(
                code::BAD_VALUE,
                span,
                format!("a scenario cannot be named `{name}`"),
                format!("reports show the steps of the top-level `{name}:` under that name; rename the scenario"),
            );
        }
        let Some(m) = r.map(v, &format!("scenario `{name}`"), &SCENARIO_KEYS) else {
            continue;
        };
        let load = match m.get("load") {
            Some(l) => read_load(r, l),
            None => Some(default_load()),
        };
        let before = steps_at(r, &m, "before");
        let after = steps_at(r, &m, "after");
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
        // A note for readers of the file: checked, not kept.
        if let Some(n) = m.get("description") {
            r.string(n, "`description`");
        }
        // As for a single journey: a load with errors still lets the steps
        // be checked.
        out.push(Scenario {
            name,
            load: load.unwrap_or_else(default_load),
            before,
            steps,
            after,
            slo,
            weight,
        });
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

fn read_fragments(r: &mut Reader, node: &Node) -> Vec<Fragment> {
    r.free_map(node, "`fragments`")
        .into_iter()
        .map(|(name, v, span)| Fragment {
            steps: read_steps(r, v, &format!("fragment `{name}`")),
            name,
            span,
            source: r.source.clone(),
        })
        .collect()
}

/// Adds `new` to `all`, reporting a name defined twice (in this file or in
/// an included one).
fn add_fragments(r: &mut Reader, all: &mut Vec<Fragment>, new: Vec<Fragment>) {
    for f in new {
        if let Some(first) = all.iter().find(|g| g.name == f.name) {
            let d = crate::diagnostic::Diagnostic::error(
                code::DUPLICATE_NAME,
                format!("fragment `{}` is defined twice", f.name),
            )
            .at(&f.source, f.span)
            .help(format!(
                "the first is at {}:{}:{}; rename one of them",
                first.source.path.display(),
                first.span.line,
                first.span.col
            ));
            r.diags.push(d);
            continue;
        }
        all.push(f);
    }
}

/// Follows `include:` lists: each file's fragments become usable in the
/// including file. Paths are relative to the file that names them; a file
/// reached twice is read once; a file that includes itself, directly or
/// not, is an error.
struct Includes {
    /// The chain of files being read, to name a cycle.
    stack: Vec<PathBuf>,
    seen: Vec<PathBuf>,
}

const INCLUDED_KEYS: [&str; 2] = ["include", "fragments"];

impl Includes {
    fn new(root: &Path) -> Self {
        let root = canonical(root);
        Self {
            stack: vec![root.clone()],
            seen: vec![root],
        }
    }

    fn read(&mut self, r: &mut Reader, list: &Node, from: &Path, out: &mut Vec<Fragment>) {
        let folder = from.parent().unwrap_or(Path::new("."));
        let items: Vec<Node> = match &list.value {
            Value::Seq(items) => items.clone(),
            Value::Str(_) => vec![list.clone()],
            _ => {
                r.wrong_type(list, "`include`", "a list of file paths");
                return;
            }
        };
        for item in &items {
            let Some(rel) = r.string(item, "an `include` path") else {
                continue;
            };
            let path = folder.join(&rel);
            let key = canonical(&path);
            if let Some(at) = self.stack.iter().position(|p| *p == key) {
                let chain: Vec<String> = self.stack[at..]
                    .iter()
                    .chain([&key])
                    .map(|p| short_name(p))
                    .collect();
                r.error_help(
                    code::INCLUDE_CYCLE,
                    item.span,
                    format!("include cycle: {}", chain.join(" → ")),
                    "remove one `include:` of the cycle; move what both need into a third file",
                );
                continue;
            }
            if self.seen.contains(&key) {
                continue;
            }
            self.seen.push(key.clone());
            let text = match crate::scenario::files::read_text(
                &path,
                crate::scenario::files::MAX_SCENARIO_FILE,
            ) {
                Ok(t) => t,
                Err(e) => {
                    r.error_help(
                        code::INCLUDE_FILE,
                        item.span,
                        format!("included file `{}` {e}", path.display()),
                        "the path is relative to the folder of the file that includes it",
                    );
                    continue;
                }
            };
            let source = Source::new(&path, text);
            let root = match crate::scenario::yaml::parse(&source) {
                Ok(root) => root,
                Err(diags) => {
                    r.diags.items.extend(diags);
                    continue;
                }
            };
            r.uses(&path, false);
            let mut sub = Reader {
                source: source.clone(),
                diags: &mut *r.diags,
                files: &mut *r.files,
            };
            self.stack.push(key);
            self.read_file(&mut sub, &root, &path, out);
            self.stack.pop();
        }
    }

    /// An included file: its own includes, then its fragments. Other
    /// top-level keys are allowed (a whole test file may be included for its
    /// fragments) and ignored.
    fn read_file(&mut self, r: &mut Reader, root: &Node, path: &Path, out: &mut Vec<Fragment>) {
        let Value::Map(entries) = &root.value else {
            r.wrong_type(root, "an included file", "a map with `fragments:`");
            return;
        };
        let get = |key: &str| {
            entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v)
        };
        if get("fragments").is_none() && get("include").is_none() {
            r.error_help(
                code::MISSING_KEY,
                root.span,
                "this included file has no `fragments:`",
                format!(
                    "an included file shares its `fragments:`; it may have: {}",
                    crate::scenario::reader::list(&INCLUDED_KEYS)
                ),
            );
            return;
        }
        if let Some(list) = get("include") {
            self.read(r, list, path, out);
        }
        if let Some(n) = get("fragments") {
            let own = read_fragments(r, n);
            add_fragments(r, out, own);
        }
    }
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

fn short_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
