//! Reads `load:`: the executor (k6's names) and its keys, checking that each
//! key fits the executor, and inferring the executor when it is not named.

use std::time::Duration;

use crate::scenario::model::{Executor, Load, Stage};
use crate::scenario::reader::{code, list, Reader};
use crate::scenario::yaml::Node;

const LOAD_KEYS: [&str; 12] = [
    "executor",
    "vus",
    "duration",
    "iterations",
    "start_vus",
    "stages",
    "graceful_stop",
    "max_duration",
    "rate",
    "start_rate",
    "max_vus",
    "time_unit",
];
const EXECUTORS: [&str; 6] = [
    "constant-vus",
    "per-vu-iterations",
    "shared-iterations",
    "ramping-vus",
    "constant-arrival-rate",
    "ramping-arrival-rate",
];
/// Like k6, iteration-based executors stop after this long at the latest.
pub const DEFAULT_MAX_DURATION: Duration = Duration::from_secs(600);
pub const DEFAULT_GRACEFUL_STOP: Duration = Duration::from_secs(30);

/// The load when a scenario gives none: one virtual user, one iteration.
pub fn default_load() -> Load {
    Load {
        executor: Executor::PerVuIterations {
            vus: 1,
            iterations: 1,
            max_duration: DEFAULT_MAX_DURATION,
        },
        graceful_stop: DEFAULT_GRACEFUL_STOP,
    }
}

pub fn read_load(r: &mut Reader, node: &Node) -> Option<Load> {
    let m = r.map(node, "`load`", &LOAD_KEYS)?;
    let name = match m.get("executor") {
        Some(n) => {
            let name = r.string(n, "`executor`")?;
            if !EXECUTORS.contains(&name.as_str()) {
                let help = match crate::diagnostic::suggest(&name, EXECUTORS) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("executors: {}", list(&EXECUTORS)),
                };
                r.error_help(
                    code::BAD_VALUE,
                    n.span,
                    format!("unknown executor `{name}`"),
                    help,
                );
                return None;
            }
            name
        }
        None if m.has("rate") => "constant-arrival-rate".into(),
        None if m.has("start_rate") => "ramping-arrival-rate".into(),
        None if m.has("stages") => "ramping-vus".into(),
        None if m.has("duration") => "constant-vus".into(),
        None => "per-vu-iterations".into(),
    };
    if name.ends_with("arrival-rate") {
        let span = m
            .key("executor")
            .or(m.key("rate"))
            .or(m.key("start_rate"))
            .map_or(m.span(), |k| k.span);
        r.not_yet(span, &format!("the `{name}` executor (open model)"));
        return None;
    }
    let fits: &[&str] = match name.as_str() {
        "constant-vus" => &["vus", "duration"],
        "per-vu-iterations" | "shared-iterations" => &["vus", "iterations", "max_duration"],
        _ => &["start_vus", "stages"],
    };
    for (key, k, _) in m.entries() {
        if !fits.contains(&key) && !["executor", "graceful_stop"].contains(&key) {
            r.error_help(
                code::EXECUTOR_KEY,
                k.span,
                format!("`{key}` does not apply to the `{name}` executor"),
                format!("`{name}` takes {}", list(fits)),
            );
        }
    }
    let vus = match m.get("vus") {
        Some(n) => r.count(n, "`vus`")?,
        None => 1,
    };
    let required_duration = |r: &mut Reader, key: &str| -> Option<Duration> {
        match m.get(key) {
            Some(n) => r.duration(n, &format!("`{key}`")),
            None => {
                r.error_help(
                    code::MISSING_KEY,
                    m.span(),
                    format!("the `{name}` executor needs `{key}`"),
                    format!("add `{key}: 30s`, for example"),
                );
                None
            }
        }
    };
    let max_duration = match m.get("max_duration") {
        Some(n) => r.duration(n, "`max_duration`")?,
        None => DEFAULT_MAX_DURATION,
    };
    let iterations = match m.get("iterations") {
        Some(n) => r.count(n, "`iterations`")?,
        None => 1,
    };
    let executor = match name.as_str() {
        "constant-vus" => Executor::ConstantVus {
            vus,
            duration: required_duration(r, "duration")?,
        },
        "per-vu-iterations" => Executor::PerVuIterations {
            vus,
            iterations,
            max_duration,
        },
        "shared-iterations" => Executor::SharedIterations {
            vus,
            iterations,
            max_duration,
        },
        _ => {
            let start_vus = match m.get("start_vus") {
                Some(n) => r.count(n, "`start_vus`")?,
                None => 0,
            };
            let Some(list_node) = m.get("stages") else {
                r.error_help(
                    code::MISSING_KEY,
                    m.span(),
                    "the `ramping-vus` executor needs `stages`",
                    "add `stages: [{ duration: 30s, target: 10 }]`",
                );
                return None;
            };
            let mut stages = Vec::new();
            for s in r.seq(list_node, "`stages`") {
                let Some(sm) = r.map(s, "a stage", &["duration", "target"]) else {
                    continue;
                };
                let duration = sm.get("duration").and_then(|n| r.duration(n, "`duration`"));
                let target = sm.get("target").and_then(|n| r.count(n, "`target`"));
                match (duration, target) {
                    (Some(duration), Some(target)) => stages.push(Stage { duration, target }),
                    _ if !sm.has("duration") || !sm.has("target") => r.error(
                        code::MISSING_KEY,
                        s.span,
                        "a stage needs `duration` and `target`",
                    ),
                    _ => {}
                }
            }
            if stages.is_empty() {
                r.error(
                    code::BAD_VALUE,
                    list_node.span,
                    "`stages` needs at least one stage",
                );
                return None;
            }
            Executor::RampingVus { start_vus, stages }
        }
    };
    let graceful_stop = match m.get("graceful_stop") {
        Some(n) => r.duration(n, "`graceful_stop`")?,
        None => DEFAULT_GRACEFUL_STOP,
    };
    Some(Load {
        executor,
        graceful_stop,
    })
}
