//! `trek validate`: every check that needs no request, for CI and editors.
//! Text for people (stderr, with carets), or `--format json` for tools.

use serde_json::json;

use super::prepare::print_diagnostics;
use super::{ValidateArgs, ValidateFormat, EXIT_INVALID};
use crate::diagnostic::Diagnostic;
use crate::plan;
use crate::run::segment::Segment;

pub fn validate(args: &ValidateArgs) -> i32 {
    let options = plan::Options {
        seed: 0,
        base_url: std::env::var("TREK_BASE_URL").ok(),
        maybe_defined: None,
    };
    let segments = match segments(args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("trek: {e}");
            return EXIT_INVALID;
        }
    };
    let mut failed = false;
    let mut reports = Vec::new();
    for file in &args.files {
        let mut checked = plan::validate(crate::scenario::load_file(file), &options);
        if let (Some(plan), Some(test)) = (&checked.plan, &checked.test) {
            for s in &segments {
                for idle in super::part::idle_scenarios(plan, *s) {
                    checked.diagnostics.push(
                        Diagnostic::error("W0004", idle)
                            .warning()
                            .at(&test.source, Default::default()),
                    );
                }
            }
        }
        let errors = checked.diagnostics.iter().filter(|d| d.is_error()).count();
        let warnings = checked.diagnostics.len() - errors;
        let ok = errors == 0 && !(args.deny_warnings && warnings > 0);
        failed |= !ok;
        match args.format {
            ValidateFormat::Text => {
                print_diagnostics(&checked.diagnostics);
                match (&checked.plan, errors) {
                    (Some(plan), 0) => println!("ok: {} ({})", file.display(), shape(plan)),
                    _ => println!(
                        "invalid: {} ({errors} error{}, {warnings} warning{})",
                        file.display(),
                        plural(errors),
                        plural(warnings)
                    ),
                }
            }
            ValidateFormat::Json => reports.push(json!({
                "file": file.display().to_string(),
                "ok": ok,
                "errors": errors,
                "warnings": warnings,
                "diagnostics": checked.diagnostics.iter().map(Diagnostic::to_json).collect::<Vec<_>>(),
            })),
        }
    }
    if args.format == ValidateFormat::Json {
        let out = json!({ "ok": !failed, "files": reports });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    }
    if failed {
        EXIT_INVALID
    } else {
        0
    }
}

/// The parts `--segment` or `--parts` asks about.
fn segments(args: &ValidateArgs) -> Result<Vec<Segment>, String> {
    if let Some(s) = &args.segment {
        return Ok(vec![
            Segment::parse(s).map_err(|e| format!("--segment {e}"))?
        ]);
    }
    match args.parts {
        Some(0) => Err("--parts must be at least 1".into()),
        Some(n) if n > crate::run::segment::MAX_PARTS => Err(format!(
            "--parts must be at most {}",
            crate::run::segment::MAX_PARTS
        )),
        Some(count) => Ok((0..count).map(|index| Segment { index, count }).collect()),
        None => Ok(Vec::new()),
    }
}

fn shape(plan: &plan::Plan) -> String {
    if plan.scenarios.is_empty() {
        return "fragments only, for `include:`".into();
    }
    format!(
        "{} scenario{}, {} measured step{}",
        plan.scenarios.len(),
        plural(plan.scenarios.len()),
        plan.steps.len(),
        plural(plan.steps.len()),
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
