//! Reports: one file per format, each rendered from [`results::Results`]
//! only (no statistics are computed from raw samples here), so `trek report`
//! can render them again from a `results.json`.

pub mod atomic;
pub mod compare;
pub mod console;
pub mod csv;
pub mod html;
pub mod json;
pub mod junit;
pub mod live;
pub mod markdown;
pub mod part;
pub mod recommend;
pub mod results;
mod svg;

use std::path::{Path, PathBuf};

use compare::Comparison;
use results::Results;

/// A file format trek writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// results.json: everything, for tools and for `trek report`.
    Json,
    /// report.html: one self-contained page with charts.
    Html,
    /// results.csv (per step) and timeline.csv (per second).
    Csv,
    /// junit.xml: one test case per SLO.
    Junit,
    /// summary.md: for pull requests and CI summaries.
    Markdown,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Json,
        Format::Html,
        Format::Csv,
        Format::Junit,
        Format::Markdown,
    ];
}

/// Writes the chosen formats into `dir` (created if missing); returns the
/// paths written. Every format is attempted; the first error is returned
/// after the others were written.
pub fn write_all(
    dir: &Path,
    r: &Results,
    formats: &[Format],
    comparison: Option<&Comparison>,
) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    let mut first_error = None;
    for f in formats {
        let result = match f {
            Format::Json => json::write(dir, r).map(|p| vec![p]),
            Format::Html => html::write(dir, r, comparison).map(|p| vec![p]),
            Format::Csv => csv::write(dir, r),
            Format::Junit => junit::write(dir, r).map(|p| vec![p]),
            Format::Markdown => markdown::write(dir, r, comparison).map(|p| vec![p]),
        };
        match result {
            Ok(paths) => written.extend(paths),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(written),
    }
}
