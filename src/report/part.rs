//! The parts of a split test: what a part's results.json carries beyond
//! its report (`--segment`), and how `trek merge` makes one result of the
//! parts: measurements added exactly (`metrics/exact.rs`), SLOs judged
//! once, each part's status, start lag and generator health kept.

use serde::{Deserialize, Serialize};

use super::results::{Meta, Results, Shape};
use crate::metrics::exact::{self, Exact, Layout, Placed};
use crate::metrics::health::Machine;
use crate::verdict::{self, SloDef, Verdict};

/// What a part of a split test keeps for the merge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PartInfo {
    /// This part (from 0) and how many parts the test has.
    pub index: u64,
    pub count: u64,
    /// The same for every part of one test: its steps, loads, SLOs and
    /// seed. Parts of different tests are not merged.
    pub test: String,
    /// The agreed start (`--start-at`), as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_at: Option<String>,
    /// How late the load started after `start_at`, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_lag_s: Option<f64>,
    /// When its load's clock started (its timeline's second 0), in
    /// microseconds since the Unix epoch.
    pub load_started_us: u64,
    /// The test's SLOs, judged by the merge.
    pub slos: Vec<SloDef>,
    /// Every histogram and counter.
    pub exact: Exact,
}

/// A part as a merged result lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PartSummary {
    pub index: u64,
    /// `merged`, `failed` (its run was aborted; what it measured is
    /// merged) or `missing` (no result).
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The file its result was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_lag_s: Option<f64>,
    /// Seconds from the earliest part's start to this one's.
    #[serde(default)]
    pub offset_s: f64,
    #[serde(default)]
    pub requests: u64,
    #[serde(default)]
    pub failures: u64,
    #[serde(default)]
    pub duration_s: f64,
    /// Its generator's highest CPU use (percent of one core) and memory.
    #[serde(default)]
    pub peak_cpu_percent: f64,
    #[serde(default)]
    pub peak_rss_bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator_warning: Option<String>,
}

impl PartSummary {
    pub fn is_merged(&self) -> bool {
        self.status == "merged"
    }
}

/// A part's result and where it was read from.
pub struct Input {
    pub source: String,
    pub results: Results,
}

/// How the merge is judged.
pub struct Judging {
    pub allow_partial: bool,
    pub strict: bool,
    pub command: String,
}

/// Merges the parts into one result. `Err` when the inputs cannot be
/// merged at all (not parts, parts of different tests, a part twice, a
/// malformed histogram): the message names the files.
pub fn merge(mut inputs: Vec<Input>, judging: &Judging) -> Result<Results, String> {
    let Some(first) = inputs.first() else {
        return Err("no part to merge".into());
    };
    let Some(info) = &first.results.part else {
        return Err(format!(
            "{} is not the result of a part (`trek run --segment I/N`)",
            first.source
        ));
    };
    let (count, test) = (info.count, info.test.clone());
    let first_source = first.source.clone();
    let mut seen: Vec<Option<String>> = vec![None; count as usize];
    for input in &inputs {
        let Some(p) = &input.results.part else {
            return Err(format!(
                "{} is not the result of a part (`trek run --segment I/N`)",
                input.source
            ));
        };
        if p.count != count || p.test != test {
            return Err(format!(
                "{} is a part of another test than {first_source} (its steps, loads, SLOs, seed or number of parts differ)",
                input.source
            ));
        }
        let slot = seen
            .get_mut(p.index as usize)
            .ok_or_else(|| format!("{}: part {} of {count}?", input.source, p.index))?;
        if let Some(earlier) = slot.replace(input.source.clone()) {
            return Err(format!(
                "part {}/{count} is given twice: {earlier} and {}",
                p.index, input.source
            ));
        }
    }
    inputs.sort_by_key(|i| i.results.part.as_ref().map_or(0, |p| p.index));
    let shape = Shape::of_results(&inputs[0].results);
    let start_us = inputs
        .iter()
        .filter_map(|i| i.results.part.as_ref())
        .map(|p| p.load_started_us)
        .min()
        .unwrap_or(0);
    let placed: Vec<Placed> = inputs
        .iter()
        .filter_map(|i| {
            let p = i.results.part.as_ref()?;
            Some(Placed {
                exact: &p.exact,
                offset_us: p.load_started_us - start_us,
                duration: i.results.duration_s,
            })
        })
        .collect();
    let names: Vec<String> = shape.scenarios.iter().map(|(n, _)| n.clone()).collect();
    let request_steps = shape.request_steps();
    let layout = Layout {
        scenario_names: &names,
        request_steps: &request_steps,
    };
    let mut summary = exact::merge(&placed, &layout).map_err(|e| {
        let (index, rest) = e.split_once(": ").unwrap_or(("", &e));
        let file = index
            .strip_prefix("part ")
            .and_then(|i| i.parse::<usize>().ok())
            .and_then(|i| inputs.get(i))
            .map_or("a part", |i| i.source.as_str());
        format!("{file}: {rest}")
    })?;

    // Every part watched the same target: its series are the first part's
    // that has them.
    summary.monitors = inputs
        .iter()
        .map(|i| &i.results.monitors)
        .find(|m| !m.is_empty())
        .cloned()
        .unwrap_or_default();
    let parts = summaries(&inputs, count, start_us);
    let incomplete: Vec<String> = parts
        .iter()
        .filter(|p| !p.is_merged())
        .map(|p| match &p.reason {
            Some(r) => format!("part {}/{count} {}: {r}", p.index, p.status),
            None => format!("part {}/{count} {}", p.index, p.status),
        })
        .collect();
    let defs = &inputs[0].results.part.as_ref().map_or(&[][..], |p| &p.slos);
    let mut slos = verdict::evaluate_defs(defs, &summary, verdict::Judging::default());
    let has_requests = shape.steps.iter().any(|s| s.kind != "group");
    slos.extend(verdict::no_success(&summary, has_requests));
    let aborted = (!incomplete.is_empty() && !judging.allow_partial).then(|| {
        format!(
            "{}; the merge judges all {count} parts only (--allow-partial judges those present)",
            incomplete.join("; ")
        )
    });
    let overall = verdict::overall(&slos, aborted.is_some(), judging.strict);
    let started_at = inputs
        .iter()
        .filter_map(|i| chrono::DateTime::parse_from_rfc3339(&i.results.started_at).ok())
        .min()
        .map_or_else(chrono::Utc::now, |t| t.with_timezone(&chrono::Utc));
    let teardown_failure = inputs.iter().find_map(|i| {
        let why = i.results.teardown_failure.as_ref()?;
        let index = i.results.part.as_ref().map_or(0, |p| p.index);
        Some(format!("part {index}/{count}: {why}"))
    });
    let meta = Meta {
        command: judging.command.clone(),
        machine: machines(&inputs),
        strict: judging.strict,
        smoke: false,
        teardown_failure,
    };
    let mut results = Results::new(&shape, &summary, slos, overall, aborted, started_at, meta);
    results.generator_warning = parts.iter().find_map(|p| {
        let w = p.generator_warning.as_ref()?;
        Some(format!("part {}/{count}: {w}", p.index))
    });
    results.parts = parts;
    Ok(results)
}

/// Every part of the test, in order, with what became of it.
fn summaries(inputs: &[Input], count: u64, start_us: u64) -> Vec<PartSummary> {
    (0..count)
        .map(|index| {
            let found = inputs
                .iter()
                .find(|i| i.results.part.as_ref().is_some_and(|p| p.index == index));
            let Some(input) = found else {
                return PartSummary {
                    index,
                    status: "missing".into(),
                    reason: Some(
                        "no result (the part did not finish, or its result was not collected)"
                            .into(),
                    ),
                    source: None,
                    hostname: None,
                    start_lag_s: None,
                    offset_s: 0.0,
                    requests: 0,
                    failures: 0,
                    duration_s: 0.0,
                    peak_cpu_percent: 0.0,
                    peak_rss_bytes: 0,
                    generator_warning: None,
                };
            };
            let r = &input.results;
            let p = r.part.as_ref();
            let failed = r.verdict != Verdict::Part;
            PartSummary {
                index,
                status: if failed { "failed" } else { "merged" }.into(),
                reason: failed.then(|| {
                    r.aborted_reason
                        .clone()
                        .unwrap_or_else(|| format!("its verdict is {}", r.verdict.as_str()))
                }),
                source: Some(input.source.clone()),
                hostname: Some(r.machine.hostname.clone()).filter(|h| !h.is_empty()),
                start_lag_s: p.and_then(|p| p.start_lag_s),
                offset_s: p.map_or(0.0, |p| (p.load_started_us - start_us) as f64 / 1e6),
                requests: r.totals.requests,
                failures: r.totals.failures,
                duration_s: r.duration_s,
                peak_cpu_percent: r.health.iter().map(|h| h.cpu_percent).fold(0.0, f64::max),
                peak_rss_bytes: r.health.iter().map(|h| h.rss_bytes).max().unwrap_or(0),
                generator_warning: r.generator_warning.clone(),
            }
        })
        .collect()
}

/// The machines of the parts, added up.
fn machines(inputs: &[Input]) -> Machine {
    let mut hosts: Vec<&str> = inputs
        .iter()
        .map(|i| i.results.machine.hostname.as_str())
        .collect();
    hosts.sort_unstable();
    hosts.dedup();
    Machine {
        hostname: match hosts.as_slice() {
            [one] => one.to_string(),
            many => format!("{} machines", many.len()),
        },
        os: inputs
            .first()
            .map(|i| i.results.machine.os.clone())
            .unwrap_or_default(),
        cpus: inputs.iter().map(|i| i.results.machine.cpus).sum(),
        usable_cpus: inputs.iter().map(|i| i.results.machine.usable_cpus).sum(),
        memory_bytes: inputs.iter().map(|i| i.results.machine.memory_bytes).sum(),
    }
}

/// The lines around a part's result printed into a log (`--log-result`).
pub const LOG_BEGIN: &str = "trek-part-result-begin";
pub const LOG_END: &str = "trek-part-result-end";

/// The largest part result read back from a log, uncompressed.
pub const MAX_LOGGED: u64 = 512 << 20;

/// A part's results.json, gzipped and in base64, between marker lines of
/// at most 76 characters: what `--log-result` prints.
pub fn to_log(json: &[u8]) -> String {
    use base64::Engine;
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = gz.write_all(json);
    let packed = gz.finish().unwrap_or_default();
    let text = base64::engine::general_purpose::STANDARD.encode(packed);
    let mut out = format!("{LOG_BEGIN}\n");
    for chunk in text.as_bytes().chunks(76) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(LOG_END);
    out.push('\n');
    out
}

/// The results.json a log holds (the last one, when several), or `None`
/// when it holds none. Lines may carry a prefix (a timestamp, a pod name):
/// the data is the last word of each line.
pub fn from_log(log: &str) -> Option<Result<Vec<u8>, String>> {
    use base64::Engine;
    use std::io::Read;
    let start = log.rfind(LOG_BEGIN)?;
    let body = &log[start + LOG_BEGIN.len()..];
    let Some(end) = body.find(LOG_END) else {
        return Some(Err(
            "the part's result in it is cut short (no end line)".into()
        ));
    };
    // What precedes the end marker on its own line is a prefix: dropped.
    let data = &body[..end];
    let data = &data[..data.rfind('\n').unwrap_or(0)];
    let mut text = String::new();
    for line in data.lines() {
        if let Some(word) = line.split_whitespace().last() {
            text.push_str(word);
        }
    }
    let packed = match base64::engine::general_purpose::STANDARD.decode(text) {
        Ok(p) => p,
        Err(e) => return Some(Err(format!("the part's result in it is not base64: {e}"))),
    };
    let mut json = Vec::new();
    let read = flate2::read::GzDecoder::new(packed.as_slice())
        .take(MAX_LOGGED + 1)
        .read_to_end(&mut json);
    Some(match read {
        Err(e) => Err(format!("the part's result in it is damaged: {e}")),
        Ok(_) if json.len() as u64 > MAX_LOGGED => Err(format!(
            "the part's result in it is larger than {} MB unpacked",
            MAX_LOGGED >> 20
        )),
        Ok(_) => Ok(json),
    })
}

/// One sentence about the parts, for every report: a part's own ("part 2
/// of 8, …"), or a merge's ("7 of 8 parts merged; part 3/8 missing: …").
/// `None` for a run that is neither.
pub fn describe(r: &Results) -> Option<String> {
    if let Some(p) = &r.part {
        let lag = p
            .start_lag_s
            .map(|l| format!(", started {:.1} ms after --start-at", l * 1e3))
            .unwrap_or_default();
        return Some(format!(
            "part {}/{} of a split test{lag}: not judged here; `trek merge` adds the parts and judges them",
            p.index, p.count
        ));
    }
    if r.parts.is_empty() {
        return None;
    }
    let count = r.parts.len();
    let merged = r.parts.iter().filter(|p| p.is_merged()).count();
    let mut line = if merged == count {
        format!("all {count} parts merged")
    } else {
        format!("{merged} of {count} parts merged")
    };
    let worst = r
        .parts
        .iter()
        .filter_map(|p| p.start_lag_s)
        .fold(None, |m: Option<f64>, l| Some(m.map_or(l, |m| m.max(l))));
    if let Some(lag) = worst {
        line.push_str(&format!(
            " (latest start {:.1} ms after --start-at)",
            lag * 1e3
        ));
    }
    for p in r.parts.iter().filter(|p| !p.is_merged()) {
        line.push_str(&format!("; part {}/{count} {}", p.index, p.status));
        if let Some(why) = &p.reason {
            line.push_str(&format!(": {why}"));
        }
    }
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_survives_a_log_with_prefixes_and_other_lines() {
        let json = br#"{"verdict":"part","n":[1,2,3]}"#.repeat(200);
        let block = to_log(&json);
        assert!(block.lines().all(|l| l.len() <= 76));
        // As `kubectl logs --timestamps --prefix` shows it, amid other lines.
        let log: String = std::iter::once("trek: running t.yaml".to_string())
            .chain(
                block
                    .lines()
                    .map(|l| format!("[pod/trek-0] 2026-12-03T18:00:00.000Z {l}")),
            )
            .chain(std::iter::once("trailing line".to_string()))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(from_log(&log).unwrap().unwrap(), json);
        assert_eq!(from_log(&block).unwrap().unwrap(), json);
        assert!(from_log("no result here").is_none());
        let cut = &block[..block.len() / 2];
        assert!(from_log(cut).unwrap().is_err());
    }
}
