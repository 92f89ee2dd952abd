//! `trek run --segment I/N --start-at TIME`: the options of a part of a
//! split test, checked before anything runs, and what a part adds to its
//! results for `trek merge`.

use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use super::RunArgs;
use crate::metrics::exact::Exact;
use crate::plan::Plan;
use crate::report::part::PartInfo;
use crate::run::segment::Segment;
use crate::run::{RunOutcome, StartAt};
use crate::scenario::units::parse_duration;

/// The part options of a run.
#[derive(Debug, Clone)]
pub struct Part {
    pub segment: Segment,
    pub start: Option<StartAt>,
    /// `--start-at` as given.
    pub start_text: Option<String>,
    pub log_result: bool,
}

impl Part {
    /// Reads and checks the part options; `None` when none was given.
    pub fn of(args: &RunArgs) -> Result<Option<Part>, String> {
        let segment = match &args.segment {
            Some(s) => Some(Segment::parse(s).map_err(|e| format!("--segment {e}"))?),
            None => None,
        };
        let tolerance =
            parse_duration(&args.start_tolerance).map_err(|e| format!("--start-tolerance: {e}"))?;
        let start = match &args.start_at {
            Some(text) => {
                let at = chrono::DateTime::parse_from_rfc3339(text.trim()).map_err(|e| {
                    format!("--start-at `{text}`: {e}; write an RFC 3339 time such as 2026-12-03T18:00:00Z")
                })?;
                Some(StartAt {
                    at: SystemTime::from(at),
                    tolerance,
                })
            }
            None => None,
        };
        if segment.is_none() && start.is_none() && !args.log_result {
            return Ok(None);
        }
        if start.is_some() && args.files.len() > 1 {
            return Err("--start-at starts one file's load: give one scenario file".into());
        }
        if let Some(s) = segment {
            if args.smoke {
                return Err(
                    "--smoke runs one user once: it cannot be split (leave out --segment)".into(),
                );
            }
            if args.seed.is_none() && start.is_none() {
                return Err(format!(
                    "--segment {s}: give --seed N (the same for every part), or --start-at, so that all parts draw the same data"
                ));
            }
            if args.baseline.is_some() {
                return Err("--baseline: a part is not compared; compare the merged result (`trek merge`, then `trek compare`)".into());
            }
            if args.files.len() > 1 {
                return Err("--segment runs one file: give one scenario file".into());
            }
        }
        Ok(Some(Part {
            segment: segment.unwrap_or_default(),
            start,
            start_text: args.start_at.clone(),
            log_result: args.log_result,
        }))
    }

    /// The seed of a part given no `--seed`: drawn from `--start-at`, the
    /// same for every part started together.
    pub fn seed(&self) -> Option<u64> {
        let at = self.start?.at.duration_since(SystemTime::UNIX_EPOCH).ok()?;
        Some(crate::template::fake::mix(at.as_millis() as u64))
    }
}

/// Says which scenarios give this part nothing to do (too few users or
/// iterations to go round); empty when every one gives it something.
pub fn idle_scenarios(plan: &Plan, segment: Segment) -> Vec<String> {
    if segment.is_whole() {
        return Vec::new();
    }
    plan.scenarios
        .iter()
        .filter(|s| segment.load_share(&s.load.executor).is_none())
        .map(|s| {
            format!(
                "scenario {}: part {segment} gets nothing to do ({} split {} ways leaves it no user or iteration); run fewer parts or more load",
                s.name,
                s.load.executor.name(),
                segment.count
            )
        })
        .collect()
}

/// What sets one test apart from another: every step, load, SLO and the
/// seed. Parts with the same value were split from the same test.
pub fn fingerprint(plan: &Plan, segment: Segment) -> String {
    let mut h = Sha256::new();
    let mut add = |text: &str| {
        h.update(text.as_bytes());
        h.update([0]);
    };
    add(env!("CARGO_PKG_VERSION"));
    add(&plan.name);
    add(&plan.seed.to_string());
    add(&segment.count.to_string());
    for s in &plan.scenarios {
        add(&s.name);
        add(&format!("{:?}", s.load));
    }
    for s in &plan.steps {
        add(&format!(
            "{:?} {} {} {}",
            s.scenario,
            s.phase.as_str(),
            s.name,
            s.kind.as_str()
        ));
    }
    add(&serde_json::to_string(&crate::verdict::slo_defs(plan)).unwrap_or_default());
    let digest = h.finalize();
    digest[..12].iter().map(|b| format!("{b:02x}")).collect()
}

/// What a part's results.json carries for the merge.
pub fn info(plan: &Plan, part: &Part, outcome: &RunOutcome) -> PartInfo {
    let since_epoch = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
    };
    PartInfo {
        index: part.segment.index,
        count: part.segment.count,
        test: fingerprint(plan, part.segment),
        start_at: part.start_text.clone(),
        start_lag_s: outcome.start_lag,
        load_started_us: since_epoch(outcome.load_started).as_micros() as u64,
        slos: crate::verdict::slo_defs(plan),
        exact: Exact::of(&outcome.summary),
    }
}
