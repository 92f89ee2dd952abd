//! The scenario language: reading a file into a typed [`model::Test`],
//! reporting every mistake as a [`Diagnostic`](crate::diagnostic::Diagnostic)
//! with its line and column.

pub mod data;
pub mod file;
pub mod load;
pub mod model;
pub mod reader;
pub mod slo;
pub mod steps;
pub mod units;
pub mod websocket;
pub mod yaml;

use std::path::Path;

use crate::diagnostic::{Diagnostic, Diagnostics, Source};
use reader::Reader;

/// Reads and checks the shapes of a scenario file. Returns the model, or every
/// problem found. Warnings, if any, come along with the model.
pub fn load_file(path: &Path) -> Result<(model::Test, Vec<Diagnostic>), Vec<Diagnostic>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![Diagnostic::error(
            "E0005",
            format!("cannot read `{}`: {e}", path.display()),
        )]
    })?;
    load_str(path, text)
}

/// Like [`load_file`], from text already read.
pub fn load_str(
    path: &Path,
    text: String,
) -> Result<(model::Test, Vec<Diagnostic>), Vec<Diagnostic>> {
    let source = Source::new(path, text);
    let root = yaml::parse(&source)?;
    let mut diags = Diagnostics::default();
    let test = {
        let mut r = Reader {
            source: source.clone(),
            diags: &mut diags,
        };
        file::read_test(&mut r, &root, path)
    };
    match test {
        Some(t) if !diags.has_errors() => Ok((t, diags.items)),
        _ => Err(diags.items),
    }
}
