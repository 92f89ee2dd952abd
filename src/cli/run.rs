//! `trek run`: load, compile, run, judge, report, and the exit code.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::prepare::{load_plan, print_diagnostics, split_vus, Overrides};
use super::{RunArgs, EXIT_INVALID, EXIT_UNWRITTEN};
use crate::plan;
use crate::report::compare;
use crate::report::live;
use crate::report::results::{Meta, Results, Shape};
use crate::run::RunOptions;
use crate::scenario::model::Executor;
use crate::scenario::units::parse_duration;
use crate::verdict;

pub fn run(args: &RunArgs) -> i32 {
    let rate = match args
        .rate
        .as_deref()
        .map(crate::scenario::units::parse_rate)
        .transpose()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("trek: --rate: {e}");
            return EXIT_INVALID;
        }
    };
    if rate == Some(0.0) {
        eprintln!("trek: --rate must be above zero");
        return EXIT_INVALID;
    }
    let duration = match args.duration.as_deref().map(parse_duration).transpose() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("trek: --duration: {e}");
            return EXIT_INVALID;
        }
    };
    if args.vus == Some(0) {
        eprintln!("trek: --vus must be at least 1");
        return EXIT_INVALID;
    }
    let overrides = Overrides {
        vus: args.vus,
        duration,
        iterations: args.iterations,
        rate,
        smoke: args.smoke,
    };
    let part = match super::part::Part::of(args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("trek: {e}");
            return EXIT_INVALID;
        }
    };
    if let Err(e) = super::live::Options::of(args) {
        eprintln!("trek: {e}");
        return EXIT_INVALID;
    }
    let seed = args
        .seed
        .or_else(|| part.as_ref().and_then(|p| p.seed()))
        .unwrap_or_else(rand::random);
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S").to_string();
    let mut codes = Vec::new();
    for file in &args.files {
        let out = out_dir(args.out.as_deref(), file, args.files.len() > 1, &stamp);
        codes.push(run_file(file, args, &overrides, seed, &out));
    }
    combine(&codes)
}

/// The exit code of several runs: results not written, aborted, invalid,
/// then failed.
pub fn combine(codes: &[i32]) -> i32 {
    [EXIT_UNWRITTEN, 3, EXIT_INVALID, 1]
        .into_iter()
        .find(|c| codes.contains(c))
        .unwrap_or(0)
}

fn out_dir(out: Option<&Path>, file: &Path, several: bool, stamp: &str) -> PathBuf {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    match out {
        Some(dir) if several => dir.join(stem),
        Some(dir) => dir.to_path_buf(),
        None => PathBuf::from("reports").join(format!("{stem}-{stamp}")),
    }
}

/// Runs one file and writes its results into `out`. Returns the exit code.
pub fn run_file(file: &Path, args: &RunArgs, overrides: &Overrides, seed: u64, out: &Path) -> i32 {
    let options = plan::Options {
        seed,
        base_url: args.base_url.clone(),
        maybe_defined: None,
    };
    let Some((_test, plan, warnings)) = load_plan(file, &options) else {
        return EXIT_INVALID;
    };
    if plan.scenarios.is_empty() {
        print_diagnostics(&warnings);
        eprintln!(
            "trek: {} has fragments but no steps or scenarios to run; it is meant for `include:` in another file",
            file.display()
        );
        return EXIT_INVALID;
    }
    print_diagnostics(&warnings);
    execute(plan, file, args, overrides, out)
}

/// Runs a compiled plan, prints the summary, writes results. Returns the
/// exit code.
pub fn execute(
    mut plan: plan::Plan,
    file: &Path,
    args: &RunArgs,
    overrides: &Overrides,
    out: &Path,
) -> i32 {
    let seed = plan.seed;
    if !overrides.is_empty() {
        let weights: Vec<f64> = plan.scenarios.iter().map(|s| s.weight).collect();
        let shares = overrides.vus.map(|v| split_vus(v, &weights));
        for (i, s) in plan.scenarios.iter_mut().enumerate() {
            s.load = overrides.apply(&s.load, shares.as_ref().map(|v| v[i]));
        }
    }
    if let Err(e) = crate::run::feeder::check_rows(&plan) {
        eprintln!("trek: {e}");
        return EXIT_INVALID;
    }
    // Results that could not be kept are not worth a load: refused before
    // the first request.
    if let Err(e) = crate::report::atomic::check_writable(out) {
        eprintln!("trek: {e}: no request was sent (give --out a folder trek can write to)");
        return EXIT_INVALID;
    }
    // Checked in `run` before any file ran.
    let part = super::part::Part::of(args).ok().flatten();
    let segment = part.as_ref().map(|p| p.segment).unwrap_or_default();
    for idle in super::part::idle_scenarios(&plan, segment) {
        eprintln!("trek: warning: {idle}");
    }
    let plan = Arc::new(plan);
    // Checked in `run` before any file ran.
    let publishing = match super::live::Options::of(args).ok().flatten() {
        Some(o) => match super::live::Publishing::start(&o, args, &plan, file, segment) {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("trek: {e}");
                return EXIT_INVALID;
            }
        },
        None => None,
    };
    let (board, mut publishing) = publishing.unzip();
    let quiet = args.quiet || args.smoke;
    if !args.quiet {
        for s in &plan.scenarios {
            if let Executor::ConstantArrivalRate { max_vus: None, .. }
            | Executor::RampingArrivalRate { max_vus: None, .. } = s.load.executor
            {
                let (_, max_vus) = crate::run::open::open_plan(&s.load.executor);
                eprintln!(
                    "trek: scenario {}: no max_vus given, using {max_vus} (the peak rate times one second, between 10 and 1000)",
                    s.name
                );
            }
        }
    }
    if !args.quiet {
        eprintln!(
            "trek: running {} ({} scenario{}, seed {seed})",
            file.display(),
            plan.scenarios.len(),
            if plan.scenarios.len() == 1 { "" } else { "s" }
        );
    }
    let mode = if quiet {
        live::Mode::Quiet
    } else if super::color_stderr() {
        live::Mode::Tty
    } else {
        live::Mode::Plain
    };
    // The console prints what the run says while it goes, on a thread of
    // its own; it ends once the run has returned and dropped its end.
    let (events, console) = live::console(mode);
    let run_options = RunOptions {
        workers: args
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
        trace: args.smoke,
        events,
        segment,
        keep_histograms: args.segment.is_some(),
        start_at: part.as_ref().and_then(|p| p.start),
        board,
    };
    let outcome = crate::run::run(plan.clone(), run_options);
    if let Some(console) = console {
        let _ = console.join();
    }
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            eprintln!("trek: cannot start the run: {e}");
            return 3;
        }
    };
    let mut warnings = outcome.warnings.clone();
    // Printed with the summary.
    if let Some(w) = publishing.as_mut().and_then(|p| p.final_push()) {
        warnings.push(w);
    }
    if let Some(lag) = outcome.start_lag {
        eprintln!(
            "trek: the load started {:.1} ms after --start-at",
            lag * 1e3
        );
    }
    // A part of a split test judges nothing: `trek merge` judges the parts
    // together.
    let split = part.as_ref().filter(|_| args.segment.is_some());
    let (slos, overall) = if split.is_some() {
        let verdict = if outcome.aborted.is_some() {
            verdict::Verdict::Aborted
        } else {
            verdict::Verdict::Part
        };
        (Vec::new(), verdict)
    } else {
        let judging = verdict::Judging { smoke: args.smoke };
        let defs = verdict::slo_defs(&plan);
        let mut slos =
            verdict::evaluate_since(&defs, &outcome.summary, &outcome.baselines, judging);
        // The SLO that stopped the test failed, whatever the rest of the
        // run did to its value.
        if let Some(stop) = &outcome.stopped_by {
            if let Some(r) = slos.get_mut(stop.slo) {
                r.verdict = verdict::Verdict::Fail;
                r.note = Some(format!(
                    "stopped the test at {} (measured {})",
                    crate::run::judge::clock(stop.second),
                    crate::format::value(&r.metric, r.stat.as_deref(), stop.value)
                ));
            }
        }
        let has_requests = plan
            .steps
            .iter()
            .any(|s| s.kind != plan::StepKindTag::Group);
        slos.extend(verdict::no_success(&outcome.summary, has_requests));
        let overall = verdict::overall(&slos, outcome.aborted.is_some(), args.strict);
        (slos, overall)
    };
    let mut results = Results::new(
        &Shape::of(&plan),
        &outcome.summary,
        slos,
        overall,
        outcome.aborted.clone(),
        outcome.started_at,
        Meta {
            command: command_line(),
            machine: crate::run::sampler::machine(),
            strict: args.strict,
            smoke: args.smoke,
            teardown_failure: outcome.teardown_failure.clone(),
        },
    );
    results.warnings = warnings;
    results.stopped_by = outcome.stopped_by.as_ref().map(|s| s.reason.clone());
    if let Some(p) = split {
        results.part = Some(Box::new(super::part::info(&plan, p, &outcome)));
    }
    super::report::print_summary(&results);
    let comparison = match &args.baseline {
        Some(base) => match super::report::read_results(base) {
            Ok(b) => Some(compare::compare(
                &b,
                &results,
                &compare::default_thresholds(),
            )),
            Err(e) => {
                eprintln!("trek: --baseline: {e:#}");
                None
            }
        },
        None => None,
    };
    let formats = super::report::with_json(&args.format);
    if !super::report::write_reports(out, &results, &formats, comparison.as_ref()) {
        return EXIT_UNWRITTEN;
    }
    if part.as_ref().is_some_and(|p| p.log_result) {
        match serde_json::to_vec(&results) {
            Ok(json) => print!("{}", crate::report::part::to_log(&json)),
            Err(e) => eprintln!("trek: cannot print the result: {e}"),
        }
    }
    if let Some(p) = publishing {
        p.finish();
    }
    verdict::exit_code(overall)
}

/// The command line as typed, quoted where needed, with any password in a
/// URL (`http://user:secret@host`) hidden.
pub fn command_line() -> String {
    shown_args(std::env::args())
}

fn shown_args(args: impl Iterator<Item = String>) -> String {
    args.map(|a| {
        let a = crate::redact::hide_userinfo(a);
        if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"$`\\".contains(c)) {
            format!("'{}'", a.replace('\'', "'\\''"))
        } else {
            a
        }
    })
    .collect::<Vec<_>>()
    .join(" ")
}

#[cfg(test)]
mod tests {
    use super::shown_args;

    #[test]
    fn the_command_line_hides_url_passwords_and_quotes_what_needs_it() {
        let args = [
            "trek",
            "run",
            "--base-url",
            "https://qa:s3cret@api.test/v1",
            "http://api.test/users/@me",
            "my file.yaml",
        ]
        .map(String::from);
        assert_eq!(
            shown_args(args.into_iter()),
            "trek run --base-url https://[hidden]@api.test/v1 http://api.test/users/@me 'my file.yaml'"
        );
    }
}
