//! `trek report` (every format again from a results.json) and `trek
//! compare` (two runs step by step, with regressions beyond thresholds),
//! and the writing of reports that `trek run` shares.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use super::{CompareArgs, ReportArgs, EXIT_INVALID};
use crate::report::compare::{self, percent, show_with, Comparison};
use crate::report::results::Results;
use crate::report::{self as reports, Format};

/// Reads a results.json.
pub fn read_results(path: &Path) -> anyhow::Result<Results> {
    use anyhow::Context;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut r: Results = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a trek results.json", path.display()))?;
    r.fill_missing_rates();
    Ok(r)
}

/// Prints a run's (or a merge's) summary on stdout.
pub fn print_summary(r: &Results) {
    let style = crate::report::console::Style {
        color: super::color_stdout(),
    };
    print!("{}", crate::report::console::render(r, &style));
}

/// The formats asked for, with results.json first whatever they say:
/// `trek report`, `trek compare` and `trek merge` read it.
pub fn with_json(formats: &[Format]) -> Vec<Format> {
    let mut out = formats.to_vec();
    if !out.contains(&Format::Json) {
        out.insert(0, Format::Json);
    }
    out
}

/// Writes the reports and prints where they are.
pub fn write_reports(
    dir: &Path,
    r: &Results,
    formats: &[Format],
    comparison: Option<&Comparison>,
) -> bool {
    match reports::write_all(dir, r, formats, comparison) {
        Ok(paths) => {
            eprintln!("trek: reports written:");
            for p in paths {
                eprintln!("  {}", p.display());
            }
            true
        }
        Err(e) => {
            eprintln!("trek: cannot write the reports into {}: {e}", dir.display());
            false
        }
    }
}

pub fn report(args: &ReportArgs) -> i32 {
    let r = match read_results(&args.results) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("trek: {e:#}");
            return EXIT_INVALID;
        }
    };
    let comparison = match &args.baseline {
        Some(b) => match read_results(b) {
            Ok(base) => Some(compare::compare(&base, &r, &compare::default_thresholds())),
            Err(e) => {
                eprintln!("trek: --baseline: {e:#}");
                return EXIT_INVALID;
            }
        },
        None => None,
    };
    let dir = args
        .out
        .clone()
        .or_else(|| args.results.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    let inputs: Vec<&Path> = std::iter::once(args.results.as_path())
        .chain(args.baseline.as_deref())
        .collect();
    let formats = keep_inputs(&dir, &args.format, &inputs);
    if write_reports(&dir, &r, &formats, comparison.as_ref()) {
        0
    } else {
        1
    }
}

pub fn compare(args: &CompareArgs) -> i32 {
    let thresholds = if args.fail_on.is_empty() {
        compare::default_thresholds()
    } else {
        match args
            .fail_on
            .iter()
            .map(|t| compare::parse_threshold(t))
            .collect()
        {
            Ok(t) => t,
            Err(e) => {
                eprintln!("trek: --fail-on: {e}");
                return EXIT_INVALID;
            }
        }
    };
    let (base, new) = match (read_results(&args.base), read_results(&args.new)) {
        (Ok(b), Ok(n)) => (b, n),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("trek: {e:#}");
            return EXIT_INVALID;
        }
    };
    let c = compare::compare(&base, &new, &thresholds);
    print!("{}", table(&c));
    if let Some(dir) = &args.out {
        let formats = keep_inputs(dir, &Format::ALL, &[&args.base, &args.new]);
        if !write_reports(dir, &new, &formats, Some(&c)) {
            return 1;
        }
    }
    i32::from(c.regressions > 0)
}

/// The formats to write into `dir`, without results.json when that would
/// overwrite one of the input files (a baseline must never be replaced).
fn keep_inputs(dir: &Path, formats: &[Format], inputs: &[&Path]) -> Vec<Format> {
    let target = dir.join("results.json");
    let target_real = std::fs::canonicalize(&target).ok();
    let clobbers = inputs.iter().any(|input| {
        *input == target
            || (target_real.is_some() && std::fs::canonicalize(input).ok() == target_real)
    });
    formats
        .iter()
        .copied()
        .filter(|f| !(clobbers && *f == Format::Json))
        .collect()
}

/// The comparison for a terminal: per step, each metric in the base and
/// the new run (percentiles with their 95% confidence intervals) and the
/// change.
fn table(c: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "base: {} ({})", c.base_file, c.base_started_at);
    let _ = writeln!(out, "new:  {} ({})", c.new_file, c.new_started_at);
    let _ = writeln!(out, "regression thresholds: {}\n", c.thresholds.join(", "));
    let cells = |s: &compare::StepChange| -> Vec<[String; 3]> {
        s.changes
            .iter()
            .map(|ch| {
                let mark = if ch.regression.is_some() { " ✗" } else { "" };
                [
                    show_with(ch.metric, ch.base, ch.base_interval),
                    show_with(ch.metric, ch.new, ch.new_interval),
                    format!("{}{mark}", percent(ch)),
                ]
            })
            .collect()
    };
    let all: Vec<Vec<[String; 3]>> = c.steps.iter().map(cells).collect();
    let width = |i: usize| {
        all.iter()
            .flatten()
            .map(|row| row[i].chars().count())
            .max()
            .unwrap_or(0)
    };
    let (base_w, new_w) = (width(0), width(1));
    for (s, rows) in c.steps.iter().zip(&all) {
        let name = format!("{}/{}", s.scenario, s.name);
        if s.changes.is_empty() {
            let only = if s.base.is_none() { "new step" } else { "gone" };
            let _ = writeln!(out, "  {name}: {only}");
            continue;
        }
        let _ = writeln!(out, "  {name}");
        for (ch, [base, new, change]) in s.changes.iter().zip(rows) {
            let _ = writeln!(
                out,
                "    {:<10} {base:>base_w$} → {new:>new_w$}  {change}",
                ch.metric.key()
            );
        }
    }
    let _ = writeln!(
        out,
        "\n{} regression{} (✗). Percentiles show each run's 95% confidence interval [low–high]; a change beyond a threshold counts only when the new interval lies above the base's, otherwise it is not significant.",
        c.regressions,
        if c.regressions == 1 { "" } else { "s" }
    );
    out
}
