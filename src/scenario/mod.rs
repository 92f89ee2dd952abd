//! The scenario language: reading a file into a typed [`model::Test`],
//! reporting every mistake as a [`Diagnostic`](crate::diagnostic::Diagnostic)
//! with its line and column.

pub mod data;
pub mod file;
pub mod files;
pub mod load;
pub mod model;
pub mod monitor;
pub mod net;
pub mod reader;
pub mod slo;
pub mod steps;
pub mod units;
pub mod yaml;

use std::path::Path;

use crate::diagnostic::{Diagnostic, Diagnostics, Source};
use reader::Reader;

/// Reads and checks the shapes of a scenario file: the model (as much of it
/// as could be read, even when some of it is wrong), and every problem found.
pub fn load_file(path: &Path) -> (Option<model::Test>, Vec<Diagnostic>) {
    match files::read_text(path, files::MAX_SCENARIO_FILE) {
        Ok(text) => load_str(path, text),
        Err(e) => (
            None,
            vec![Diagnostic::error(
                "E0005",
                match e {
                    files::FileError::Io(e) => format!("cannot read `{}`: {e}", path.display()),
                    e => format!("`{}` {e}", path.display()),
                },
            )],
        ),
    }
}

/// Like [`load_file`], from text already read.
pub fn load_str(path: &Path, text: String) -> (Option<model::Test>, Vec<Diagnostic>) {
    let source = Source::new(path, text);
    let root = match yaml::parse(&source) {
        Ok(root) => root,
        Err(diags) => return (None, diags),
    };
    let mut diags = Diagnostics::default();
    let mut files = Vec::new();
    let test = {
        let mut r = Reader {
            source: source.clone(),
            diags: &mut diags,
            files: &mut files,
        };
        file::read_test(&mut r, &root, path)
    };
    let test = test.map(|t| model::Test { files, ..t });
    (test, diags.items)
}
