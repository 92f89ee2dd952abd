//! One pass over a scenario file, once read: its shape, then everything the compiler
//! checks (names in templates, JSONPaths, regexes, SLO placement), so that
//! all of a file's problems are reported together. When the shape already
//! has errors, the compiler still runs on what could be read, leniently, so
//! that a step lost to a typo does not make its captures look undefined.

use std::collections::HashSet;

use super::{compile, Options, Plan};
use crate::diagnostic::Diagnostic;
use crate::scenario::model::Test;
use crate::scenario::yaml::{self, Node, Value};

/// What checking a file found.
#[derive(Debug)]
pub struct Checked {
    /// The model, as much of it as could be read.
    pub test: Option<Test>,
    /// The compiled plan, only when the file has no error.
    pub plan: Option<Plan>,
    /// Errors and warnings, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Compiles what reading a file gave (the model, as much of it as could be
/// read, and the reader's diagnostics): every problem of the file in one
/// list. Reading the file is the caller's (`scenario::load_file`).
pub fn validate(
    (test, mut diagnostics): (Option<Test>, Vec<Diagnostic>),
    options: &Options,
) -> Checked {
    let Some(test) = test else {
        return Checked {
            test: None,
            plan: None,
            diagnostics,
        };
    };
    let shape_errors = diagnostics.iter().any(Diagnostic::is_error);
    let options = Options {
        maybe_defined: shape_errors.then(|| written_locals(&test)),
        ..options.clone()
    };
    let plan = match compile(&test, &options) {
        Ok((plan, warnings)) => {
            diagnostics.extend(warnings);
            (!shape_errors).then_some(plan)
        }
        Err(more) => {
            diagnostics.extend(more);
            None
        }
    };
    diagnostics.sort_by_key(Diagnostic::order_key);
    diagnostics.dedup_by(|a, b| a.render(false) == b.render(false));
    Checked {
        test: Some(test),
        plan,
        diagnostics,
    }
}

/// Every name the file's text defines (keys under `capture:`, `set:`,
/// `with:` and `data:`, values of `as:`), whether or not its step or feeder
/// could be read.
fn written_locals(test: &Test) -> HashSet<String> {
    let mut out = HashSet::new();
    let mut sources = vec![test.source.clone()];
    for f in &test.fragments {
        if !sources.iter().any(|s| std::sync::Arc::ptr_eq(s, &f.source)) {
            sources.push(f.source.clone());
        }
    }
    for source in sources {
        if let Ok(root) = yaml::parse(&source) {
            walk(&root, &mut out);
        }
    }
    out
}

fn walk(node: &Node, out: &mut HashSet<String>) {
    match &node.value {
        Value::Map(entries) => {
            for (k, v) in entries {
                match (k.as_str(), &v.value) {
                    (Some("capture" | "set" | "with" | "data"), Value::Map(names)) => {
                        out.extend(names.iter().filter_map(|(n, _)| n.scalar_text()));
                    }
                    (Some("as"), _) => out.extend(v.scalar_text()),
                    _ => {}
                }
                walk(v, out);
            }
        }
        Value::Seq(items) => items.iter().for_each(|i| walk(i, out)),
        _ => {}
    }
}
