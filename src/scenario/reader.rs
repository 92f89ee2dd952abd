//! Typed access to spanned YAML nodes, collecting diagnostics as it goes.
//!
//! Every decoder in this module tree reads through [`Reader`]: it checks
//! that a map has only known keys (suggesting the closest for a typo), that a
//! value has the expected type, and parses units, reporting each problem at
//! the value's line and column and carrying on, so that one pass finds every
//! mistake in a file.

use std::sync::Arc;
use std::time::Duration;

use crate::diagnostic::{suggest, Diagnostic, Diagnostics, Source, Span};
use crate::scenario::model::Text;
use crate::scenario::units;
use crate::scenario::yaml::{Node, Value};

/// Stable diagnostic codes, documented in `docs/diagnostics.md`.
pub mod code {
    pub const UNKNOWN_KEY: &str = "E0101";
    pub const WRONG_TYPE: &str = "E0102";
    pub const MISSING_KEY: &str = "E0103";
    pub const BAD_VALUE: &str = "E0104";
    pub const CONFLICT: &str = "E0105";
    pub const VERSION: &str = "E0106";
    pub const INCLUDE_CYCLE: &str = "E0107";
    pub const DUPLICATE_NAME: &str = "E0108";
    pub const UNKNOWN_FRAGMENT: &str = "E0109";
    pub const NO_KIND: &str = "E0110";
    pub const EXECUTOR_KEY: &str = "E0111";
    pub const STEP_DEPTH: &str = "E0112";
    pub const TEMPLATE_SYNTAX: &str = "E0201";
    pub const UNKNOWN_NAME: &str = "E0202";
    pub const JSONPATH: &str = "E0203";
    pub const REGEX: &str = "E0204";
    pub const MISSING_ENV: &str = "E0205";
    pub const DATA_FILE: &str = "E0301";
    pub const INCLUDE_FILE: &str = "E0302";
    pub const NET_FILE: &str = "E0303";
    pub const SLO_SCOPE: &str = "E0401";
}

pub struct Reader<'a> {
    pub source: Arc<Source>,
    pub diags: &'a mut Diagnostics,
    /// Every file the test reads besides its own (includes, data, bodies,
    /// certificates), as it is read: what a test needs beside it to run
    /// elsewhere (`trek k8s`).
    pub files: &'a mut Vec<crate::scenario::model::UsedFile>,
}

impl Reader<'_> {
    /// Notes a file the test reads; `secret` for a private key.
    pub fn uses(&mut self, path: &std::path::Path, secret: bool) {
        if !self.files.iter().any(|f| f.path == path) {
            self.files.push(crate::scenario::model::UsedFile {
                path: path.to_path_buf(),
                secret,
            });
        }
    }
}

/// The entries of a map whose keys have been checked.
pub struct MapView<'n> {
    pub node: &'n Node,
    entries: &'n [(Node, Node)],
}

impl<'n> MapView<'n> {
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The key node (for its position).
    pub fn key(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, _)| k)
    }

    pub fn entries(&self) -> impl Iterator<Item = (&'n str, &'n Node, &'n Node)> {
        self.entries
            .iter()
            .filter_map(|(k, v)| k.as_str().map(|name| (name, k, v)))
    }

    pub fn span(&self) -> Span {
        self.node.span
    }
}

impl<'a> Reader<'a> {
    pub fn error(&mut self, code: &'static str, span: Span, message: impl Into<String>) {
        let d = Diagnostic::error(code, message).at(&self.source, span);
        self.diags.push(d);
    }

    pub fn error_help(
        &mut self,
        code: &'static str,
        span: Span,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let d = Diagnostic::error(code, message)
            .at(&self.source, span)
            .help(help);
        self.diags.push(d);
    }

    pub fn wrong_type(&mut self, node: &Node, what: &str, expected: &str) {
        self.error(
            code::WRONG_TYPE,
            node.span,
            format!("{what} must be {expected}, found {}", node.kind_name()),
        );
    }

    /// A map whose keys must all be in `allowed`; unknown keys are reported
    /// with the closest allowed key. `what` names the thing for messages.
    pub fn map<'n>(&mut self, node: &'n Node, what: &str, allowed: &[&str]) -> Option<MapView<'n>> {
        let Value::Map(entries) = &node.value else {
            self.wrong_type(node, what, "a map of keys to values");
            return None;
        };
        for (k, _) in entries {
            match k.as_str() {
                Some(name) if allowed.contains(&name) => {}
                Some(name) => self.unknown_key(k.span, name, what, allowed),
                None => self.wrong_type(k, "a key", "a string"),
            }
        }
        Some(MapView { node, entries })
    }

    /// A map with free-form keys (vars, headers, fragments…).
    pub fn free_map<'n>(&mut self, node: &'n Node, what: &str) -> Vec<(String, &'n Node, Span)> {
        let Value::Map(entries) = &node.value else {
            self.wrong_type(node, what, "a map");
            return Vec::new();
        };
        entries
            .iter()
            .filter_map(|(k, v)| match k.scalar_text() {
                Some(name) => Some((name, v, k.span)),
                None => {
                    self.wrong_type(k, "a key", "a string");
                    None
                }
            })
            .collect()
    }

    pub fn unknown_key(&mut self, span: Span, name: &str, what: &str, allowed: &[&str]) {
        let help = match suggest(name, allowed.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("{what} takes: {}", list(allowed)),
        };
        self.error_help(
            code::UNKNOWN_KEY,
            span,
            format!("unknown key `{name}` in {what}"),
            help,
        );
    }

    pub fn seq<'n>(&mut self, node: &'n Node, what: &str) -> &'n [Node] {
        match &node.value {
            Value::Seq(items) => items,
            _ => {
                self.wrong_type(node, what, "a list");
                &[]
            }
        }
    }

    /// A string, or a scalar number/boolean taken as its text.
    pub fn text(&mut self, node: &Node, what: &str) -> Option<Text> {
        match node.scalar_text() {
            Some(value) => Some(Text {
                value,
                span: node.span,
            }),
            None => {
                self.wrong_type(node, what, "a string");
                None
            }
        }
    }

    pub fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        self.text(node, what).map(|t| t.value)
    }

    pub fn boolean(&mut self, node: &Node, what: &str) -> Option<bool> {
        match node.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.wrong_type(node, what, "`true` or `false`");
                None
            }
        }
    }

    pub fn count(&mut self, node: &Node, what: &str) -> Option<u64> {
        match node.value {
            Value::Int(i) if i >= 0 => Some(i as u64),
            Value::Int(_) => {
                self.error(
                    code::BAD_VALUE,
                    node.span,
                    format!("{what} cannot be negative"),
                );
                None
            }
            _ => {
                self.wrong_type(node, what, "a whole number");
                None
            }
        }
    }

    pub fn number(&mut self, node: &Node, what: &str) -> Option<f64> {
        match node.value {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) if f.is_finite() => Some(f),
            _ => {
                self.wrong_type(node, what, "a number");
                None
            }
        }
    }

    /// Parses a unit-bearing scalar with `parse`, reporting its message.
    pub fn unit<T>(
        &mut self,
        node: &Node,
        what: &str,
        parse: fn(&str) -> Result<T, units::UnitError>,
    ) -> Option<T> {
        let text = match &node.value {
            Value::Str(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            _ => {
                self.wrong_type(node, what, "a string such as `2s` or `50/s`");
                return None;
            }
        };
        match parse(&text) {
            Ok(v) => Some(v),
            Err(msg) => {
                self.error(code::BAD_VALUE, node.span, format!("{what}: {msg}"));
                None
            }
        }
    }

    pub fn duration(&mut self, node: &Node, what: &str) -> Option<Duration> {
        self.unit(node, what, units::parse_duration)
    }

    /// A map of names to template strings (headers, query, form).
    pub fn text_map(&mut self, node: &Node, what: &str) -> Vec<(String, Text)> {
        self.free_map(node, what)
            .into_iter()
            .filter_map(|(k, v, _)| self.text(v, &format!("`{k}` in {what}")).map(|t| (k, t)))
            .collect()
    }
}

/// `a`, `b`, `c` for messages.
pub fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
