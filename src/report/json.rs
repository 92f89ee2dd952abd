//! `results.json`: the stable, machine-readable result of a run.

use std::path::{Path, PathBuf};

use super::results::Results;

/// Writes `DIR/results.json` (creating `DIR`), atomically: a crash never
/// leaves half a file behind.
pub fn write(dir: &Path, results: &Results) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("results.json");
    let text = serde_json::to_string_pretty(results).map_err(std::io::Error::other)?;
    super::atomic::write(&path, text + "\n")?;
    Ok(path)
}
