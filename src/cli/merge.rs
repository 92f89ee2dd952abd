//! `trek merge`: reads the results of the parts of a split test (each a
//! results.json, a folder holding one, or a log with `--log-result`'s
//! block), adds them into one result, judges its SLOs, writes every report
//! and exits as a run would.

use std::path::{Path, PathBuf};

use super::{MergeArgs, EXIT_INVALID};
use crate::report::part::{self, Input, MAX_LOGGED};
use crate::report::results::Results;
use crate::verdict;

pub fn merge(args: &MergeArgs) -> i32 {
    let mut inputs = Vec::new();
    for path in &args.results {
        match read(path) {
            Ok(Some(results)) => inputs.push(Input {
                source: path.display().to_string(),
                results,
            }),
            // Counted as a missing part: which one it was is not known.
            Ok(None) => eprintln!(
                "trek: {} holds no part result (did the part finish?); its part counts as missing",
                path.display()
            ),
            Err(e) => eprintln!("trek: {e}; its part counts as missing"),
        }
    }
    if inputs.is_empty() {
        eprintln!("trek: no part result to merge");
        return 3;
    }
    let judging = part::Judging {
        allow_partial: args.allow_partial,
        strict: args.strict,
        command: super::run::command_line(),
    };
    let results = match part::merge(inputs, &judging) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("trek: {e}");
            return EXIT_INVALID;
        }
    };
    let merged = results.parts.iter().filter(|p| p.is_merged()).count();
    eprintln!(
        "trek: merged {merged} of {} parts of {}",
        results.parts.len(),
        results.name
    );
    for p in results.parts.iter().filter(|p| !p.is_merged()) {
        eprintln!(
            "trek: part {}/{} {}: {}",
            p.index,
            results.parts.len(),
            p.status,
            p.reason.as_deref().unwrap_or("")
        );
    }
    super::report::print_summary(&results);
    let out = args.out.clone().unwrap_or_else(|| {
        let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
        PathBuf::from("reports").join(format!("merged-{stamp}"))
    });
    let formats = super::report::with_json(&args.format);
    if !super::report::write_reports(&out, &results, &formats, None) {
        return super::EXIT_UNWRITTEN;
    }
    verdict::exit_code(results.verdict)
}

/// A part's result from a results.json, a folder holding one, or a log;
/// `None` when the file holds none.
fn read(path: &Path) -> Result<Option<Results>, String> {
    let file = if path.is_dir() {
        path.join("results.json")
    } else {
        path.to_path_buf()
    };
    let size = std::fs::metadata(&file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?
        .len();
    if size > MAX_LOGGED {
        return Err(format!(
            "{} is larger than {} MB: not a part's result",
            file.display(),
            MAX_LOGGED >> 20
        ));
    }
    let bytes = std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let json = if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        bytes
    } else {
        match part::from_log(&String::from_utf8_lossy(&bytes)) {
            None => return Ok(None),
            Some(Err(e)) => return Err(format!("{}: {e}", file.display())),
            Some(Ok(json)) => json,
        }
    };
    let mut r: Results = serde_json::from_slice(&json)
        .map_err(|e| format!("{} is not a trek result: {e}", file.display()))?;
    r.fill_missing_rates();
    Ok(Some(r))
}
