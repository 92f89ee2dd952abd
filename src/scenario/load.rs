//! Reads `load:`: the executor (k6's names) and its keys, checking that each
//! key fits the executor, and inferring the executor when it is not named.

use std::time::Duration;

use crate::scenario::model::{Executor, Load, RateStage, Stage};
use crate::scenario::reader::{code, list, Reader};
use crate::scenario::units;
use crate::scenario::yaml::Node;

pub const LOAD_KEYS: [&str; 11] = [
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
];
pub const EXECUTORS: [&str; 6] = [
    "constant-vus",
    "per-vu-iterations",
    "shared-iterations",
    "ramping-vus",
    "constant-arrival-rate",
    "ramping-arrival-rate",
];
/// The keys of one stage of `stages:`.
pub const STAGE_KEYS: [&str; 2] = ["duration", "target"];
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
    let fits: &[&str] = match name.as_str() {
        "constant-vus" => &["vus", "duration"],
        "per-vu-iterations" | "shared-iterations" => &["vus", "iterations", "max_duration"],
        "constant-arrival-rate" => &["rate", "duration", "max_vus"],
        "ramping-arrival-rate" => &["start_rate", "stages", "max_vus"],
        _ => &["start_vus", "stages"],
    };
    for (key, k, _) in m.entries() {
        // A key `load` does not know at all was reported already (E0101).
        let known = LOAD_KEYS.contains(&key);
        if known && !fits.contains(&key) && !["executor", "graceful_stop"].contains(&key) {
            r.error_help(
                code::EXECUTOR_KEY,
                k.span,
                format!("`{key}` does not apply to the `{name}` executor"),
                format!("`{name}` takes {}", list(fits)),
            );
        }
    }
    let count = |r: &mut Reader, key: &str, default: u64| -> Option<u64> {
        match m.get(key) {
            Some(n) => r.count(n, &format!("`{key}`")),
            None => Some(default),
        }
    };
    let required = |r: &mut Reader, key: &str, example: &str| -> Option<&Node> {
        let node = m.get(key);
        if node.is_none() {
            r.error_help(
                code::MISSING_KEY,
                m.span(),
                format!("the `{name}` executor needs `{key}`"),
                format!("add `{key}: {example}`, for example"),
            );
        }
        node
    };
    let max_duration = match m.get("max_duration") {
        Some(n) => r.duration(n, "`max_duration`")?,
        None => DEFAULT_MAX_DURATION,
    };
    let max_vus = match m.get("max_vus") {
        Some(n) => match r.count(n, "`max_vus`")? {
            0 => {
                r.error(code::BAD_VALUE, n.span, "`max_vus` must be at least 1");
                return None;
            }
            v => Some(v),
        },
        None => None,
    };
    let executor = match name.as_str() {
        "constant-vus" => {
            let vus = count(r, "vus", 1)?;
            let d = required(r, "duration", "30s")?;
            Executor::ConstantVus {
                vus,
                duration: r.duration(d, "`duration`")?,
            }
        }
        "per-vu-iterations" => Executor::PerVuIterations {
            vus: count(r, "vus", 1)?,
            iterations: count(r, "iterations", 1)?,
            max_duration,
        },
        "shared-iterations" => Executor::SharedIterations {
            vus: count(r, "vus", 1)?,
            iterations: count(r, "iterations", 1)?,
            max_duration,
        },
        "constant-arrival-rate" => {
            let rate = required(r, "rate", "50/s");
            let duration = required(r, "duration", "30s");
            let (rate, duration) = (rate?, duration?);
            Executor::ConstantArrivalRate {
                rate: r.unit(rate, "`rate`", units::parse_rate)?,
                duration: r.duration(duration, "`duration`")?,
                max_vus,
            }
        }
        "ramping-arrival-rate" => {
            let start_rate = match m.get("start_rate") {
                Some(n) => r.unit(n, "`start_rate`", units::parse_rate)?,
                None => 0.0,
            };
            let list = required(r, "stages", "[{ duration: 30s, target: 50/s }]")?;
            let stages = read_stages(r, list, units::parse_rate)?;
            Executor::RampingArrivalRate {
                start_rate,
                stages,
                max_vus,
            }
        }
        _ => {
            let start_vus = count(r, "start_vus", 0)?;
            let list = required(r, "stages", "[{ duration: 30s, target: 10 }]")?;
            let stages = read_stages(r, list, |t| {
                t.trim()
                    .parse::<u64>()
                    .map(|v| v as f64)
                    .map_err(|_| units::UnitError::Users(t.to_string()))
            })?;
            Executor::RampingVus {
                start_vus,
                stages: stages
                    .into_iter()
                    .map(|s| Stage {
                        duration: s.duration,
                        target: s.target as u64,
                    })
                    .collect(),
            }
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

/// Reads `stages:`, each `{ duration, target }` with `target` parsed by
/// `target` (a number of users, or a rate).
fn read_stages(
    r: &mut Reader,
    list_node: &Node,
    target: fn(&str) -> Result<f64, units::UnitError>,
) -> Option<Vec<RateStage>> {
    let mut stages = Vec::new();
    for s in r.seq(list_node, "`stages`") {
        let Some(sm) = r.map(s, "a stage", &STAGE_KEYS) else {
            continue;
        };
        let duration = sm.get("duration").and_then(|n| r.duration(n, "`duration`"));
        let value = sm.get("target").and_then(|n| r.unit(n, "`target`", target));
        match (duration, value) {
            (Some(duration), Some(target)) => stages.push(RateStage { duration, target }),
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
    Some(stages)
}
