//! Reads the rows of `data:` feeders: CSV files with a header line, JSON
//! Lines files of objects, or inline `rows:`.

use std::path::Path;

use crate::scenario::model::Row;

/// A data file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("data file `{path}` {source}")]
    Read {
        path: String,
        source: crate::scenario::files::FileError,
    },
    #[error("data file `{0}`: use a `.csv` file (with a header line) or a `.jsonl` file (one JSON object per line)")]
    Kind(String),
    /// What is wrong inside the file, with its line.
    #[error("{0}")]
    Content(String),
}

/// Reads a CSV (header line first) or JSONL file into rows.
pub fn read_rows(path: &Path) -> Result<Vec<Row>, DataError> {
    let text = crate::scenario::files::read_text(path, crate::scenario::files::MAX_DATA_FILE)
        .map_err(|source| DataError::Read {
            path: path.display().to_string(),
            source,
        })?;
    match path.extension().and_then(|e| e.to_str()) {
        Some("csv") => read_csv(&text).map_err(DataError::Content),
        Some("jsonl") | Some("ndjson") => read_jsonl(&text).map_err(DataError::Content),
        _ => Err(DataError::Kind(path.display().to_string())),
    }
}

fn read_csv(text: &str) -> Result<Vec<Row>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("bad CSV header: {e}"))?
        .clone();
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("bad CSV at data line {}: {e}", i + 2))?;
        rows.push(
            headers
                .iter()
                .zip(record.iter())
                .map(|(h, v)| (h.to_string(), serde_json::Value::String(v.to_string())))
                .collect(),
        );
    }
    Ok(rows)
}

fn read_jsonl(text: &str) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(serde_json::Value::Object(map)) => rows.push(map),
            Ok(_) => return Err(format!("line {} is not a JSON object", i + 1)),
            Err(e) => return Err(format!("line {}: {e}", i + 1)),
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_use_the_header() {
        let rows = read_csv("email, password\na@x.test, secret\nb@x.test,hunter2\n").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1]["email"], "b@x.test");
        assert_eq!(rows[0]["password"], "secret");
    }

    #[test]
    fn jsonl_rows_are_objects() {
        let rows = read_jsonl("{\"a\": 1}\n\n{\"a\": 2}\n").unwrap();
        assert_eq!(rows[1]["a"], 2);
        assert!(read_jsonl("[1]\n").is_err());
    }
}
