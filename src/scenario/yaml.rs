//! A YAML document as a tree in which every node knows its line and column.
//!
//! Built from yaml-rust2's event parser, so that every later check can point
//! at the exact place a user wrote. Plain scalars are resolved with YAML 1.2's
//! core schema; anchors, aliases and merge keys (`<<`) are supported.

use std::collections::HashMap;
use std::sync::Arc;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::diagnostic::{Diagnostic, Source, Span};

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

impl Node {
    /// What kind of value this is, for "expected X, found Y" messages.
    pub fn kind_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The value of `key` when this node is a map that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// A scalar as text (numbers and booleans included), as a user wrote it.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// Converts to JSON (map keys become strings).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.scalar_text().unwrap_or_default(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Parses one YAML document. Syntax errors, duplicate keys and several
/// documents in one file are reported as diagnostics.
pub fn parse(source: &Arc<Source>) -> Result<Node, Vec<Diagnostic>> {
    let mut builder = Builder {
        source: source.clone(),
        stack: Vec::new(),
        anchors: HashMap::new(),
        documents: Vec::new(),
        errors: Vec::new(),
        nodes: 0,
        skipping: 0,
        too_large: false,
    };
    let mut parser = Parser::new_from_str(&source.text);
    // Event by event: the parser's own `load` recurses once per level of
    // nesting, which `- - - …` ten thousand deep turns into a stack
    // overflow; the builder keeps its levels on the heap instead.
    let parsed = loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => break Ok(()),
            Ok((ev, mark)) => builder.on_event(ev, mark),
            Err(e) => break Err(e),
        }
    };
    if let Err(e) = parsed {
        // What was built before the syntax error is unreliable: report the
        // syntax error alone.
        let span = span_of(e.marker());
        let line = source
            .text
            .lines()
            .nth(span.line.saturating_sub(1) as usize)
            .unwrap_or_default();
        let help = if line.contains('{') && line.contains('[') {
            "inside `{ }`, put keys and values that contain `[`, `]` or `,` in quotes, e.g. `\"$.items[0].id\": 1`"
        } else {
            "check the indentation and quoting around this position"
        };
        return Err(vec![Diagnostic::error(
            "E0001",
            format!("invalid YAML: {}", e.info()),
        )
        .at(source, span)
        .help(help)]);
    }
    if builder.documents.len() > 1 {
        let span = builder.documents[1].span;
        builder.errors.push(
            Diagnostic::error(
                "E0002",
                "a scenario file holds one YAML document, found several",
            )
            .at(source, span)
            .help("remove the `---` separator, or split the file"),
        );
    }
    if !builder.errors.is_empty() {
        return Err(builder.errors);
    }
    match builder.documents.into_iter().next() {
        Some(doc) => Ok(doc),
        None => Err(vec![Diagnostic::error("E0003", "the file is empty")
            .at(source, Span { line: 1, col: 1 })
            .help(
                "start with `version: 1`, a `base_url`, and `steps:` or `scenarios:`",
            )]),
    }
}

fn span_of(m: &Marker) -> Span {
    Span {
        line: m.line() as u32,
        col: m.col() as u32 + 1,
    }
}

/// The deepest nesting of lists and maps a file may have (a real scenario
/// file goes about 15 deep, a JSON body included).
pub const MAX_DEPTH: usize = 64;
/// The most nodes (scalars, lists, maps) a file may make, its aliases
/// expanded: a file of 100,000 lines makes about 300,000.
pub const MAX_NODES: usize = 1_000_000;

enum Frame {
    /// items, span, anchor, nodes in it
    Seq(Vec<Node>, Span, usize, usize),
    /// entries, pending key, span, anchor, indexes of the entries that came
    /// from `<<`, each key's index, nodes in it
    Map(
        Vec<(Node, Node)>,
        Option<Node>,
        Span,
        usize,
        Vec<usize>,
        HashMap<String, usize>,
        usize,
    ),
}

struct Builder {
    source: Arc<Source>,
    stack: Vec<Frame>,
    /// Each anchor's node and how many nodes it holds.
    anchors: HashMap<usize, (Node, usize)>,
    documents: Vec<Node>,
    errors: Vec<Diagnostic>,
    /// Nodes made so far, aliases expanded.
    nodes: usize,
    /// Inside a list or map nested deeper than [`MAX_DEPTH`]: how many
    /// levels of it are open (its content is dropped).
    skipping: usize,
    /// [`MAX_NODES`] was reached (said once).
    too_large: bool,
}

impl Builder {
    /// Adds a finished node of `size` nodes to what holds it.
    fn finish(&mut self, node: Node, anchor: usize, size: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Frame::Seq(items, _, _, n)) => {
                *n += size;
                items.push(node);
            }
            Some(Frame::Map(entries, pending, _, _, merged, index, n)) => {
                *n += size;
                match pending.take() {
                    None => *pending = Some(node),
                    Some(key) => {
                        if key.as_str() == Some("<<") {
                            merge_into(entries, merged, index, node);
                            return;
                        }
                        if let Some(text) = key.scalar_text() {
                            let existing = index.get(&text).copied();
                            if let Some(i) = existing.filter(|i| merged.contains(i)) {
                                // An explicit key overrides one merged in by `<<`.
                                merged.retain(|m| *m != i);
                                entries[i] = (key, node);
                                return;
                            }
                            if existing.is_some() {
                                self.errors.push(
                                Diagnostic::error("E0004", format!("duplicate key `{text}`"))
                                    .at(&self.source, key.span)
                                    .help("each key may appear once in a map; remove or rename one"),
                            );
                            } else {
                                index.insert(text, entries.len());
                            }
                        }
                        entries.push((key, node));
                    }
                }
            }
        }
    }
}

/// `<<: *base` copies the entries of `base` that the map does not set itself.
fn merge_into(
    entries: &mut Vec<(Node, Node)>,
    merged_at: &mut Vec<usize>,
    index: &mut HashMap<String, usize>,
    merged: Node,
) {
    let sources = match merged.value {
        Value::Map(m) => vec![m],
        Value::Seq(items) => items
            .into_iter()
            .filter_map(|n| match n.value {
                Value::Map(m) => Some(m),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    for map in sources {
        for (k, v) in map {
            let Some(text) = k.scalar_text() else {
                continue;
            };
            if let std::collections::hash_map::Entry::Vacant(e) = index.entry(text) {
                e.insert(entries.len());
                merged_at.push(entries.len());
                entries.push((k, v));
            }
        }
    }
}

impl Builder {
    /// Counts `n` more nodes; false (and an error, once) past [`MAX_NODES`].
    fn count(&mut self, n: usize, span: Span) -> bool {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes <= MAX_NODES {
            return true;
        }
        if !self.too_large {
            self.too_large = true;
            self.errors.push(
                Diagnostic::error(
                    "E0007",
                    format!("the file makes more than {MAX_NODES} values, its aliases expanded"),
                )
                .at(&self.source, span)
                .help("an alias (`*name`) copies what its anchor holds; aliases of aliases multiply: write the values out, or split the file"),
            );
        }
        false
    }

    /// Opens a list or map, unless it is nested too deep.
    fn open(&mut self, frame: Frame, span: Span) {
        if self.stack.len() >= MAX_DEPTH {
            self.skipping = 1;
            self.errors.push(
                Diagnostic::error(
                    "E0006",
                    format!("lists and maps are nested more than {MAX_DEPTH} deep here"),
                )
                .at(&self.source, span)
                .help("flatten the structure; a JSON body this deep can be sent from a file with `body_file:`"),
            );
            return;
        }
        self.stack.push(frame);
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let span = span_of(&mark);
        if self.skipping > 0 {
            // Inside a list or map nested too deep: dropped, and reported.
            match ev {
                Event::SequenceStart(..) | Event::MappingStart(..) => self.skipping += 1,
                Event::SequenceEnd | Event::MappingEnd => {
                    self.skipping -= 1;
                    if self.skipping == 0 {
                        self.finish(
                            Node {
                                value: Value::Null,
                                span,
                            },
                            0,
                            1,
                        );
                    }
                }
                _ => {}
            }
            return;
        }
        match ev {
            Event::Scalar(text, style, anchor, _tag) => {
                let value = if !self.count(1, span) {
                    Value::Null
                } else if style == TScalarStyle::Plain {
                    resolve_plain(text)
                } else {
                    Value::Str(text)
                };
                self.finish(Node { value, span }, anchor, 1);
            }
            Event::SequenceStart(anchor, _) => {
                self.count(1, span);
                self.open(Frame::Seq(Vec::new(), span, anchor, 1), span)
            }
            Event::MappingStart(anchor, _) => {
                self.count(1, span);
                self.open(
                    Frame::Map(
                        Vec::new(),
                        None,
                        span,
                        anchor,
                        Vec::new(),
                        HashMap::new(),
                        1,
                    ),
                    span,
                )
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq(items, span, anchor, n)) = self.stack.pop() {
                    self.finish(
                        Node {
                            value: Value::Seq(items),
                            span,
                        },
                        anchor,
                        n,
                    );
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map(entries, _, span, anchor, _, _, n)) = self.stack.pop() {
                    // A block map starts where its first key does.
                    let span = entries.first().map_or(span, |(k, _)| k.span.min(span));
                    self.finish(
                        Node {
                            value: Value::Map(entries),
                            span,
                        },
                        anchor,
                        n,
                    );
                }
            }
            Event::Alias(id) => {
                let size = self.anchors.get(&id).map_or(1, |(_, size)| *size);
                // Counted before it is copied: aliases of aliases stop at
                // the limit instead of filling the memory.
                if self.count(size, span) {
                    let node = self.anchors.get(&id).map_or(
                        Node {
                            value: Value::Null,
                            span,
                        },
                        |(n, _)| n.clone(),
                    );
                    self.finish(node, 0, size);
                } else {
                    self.finish(
                        Node {
                            value: Value::Null,
                            span,
                        },
                        0,
                        1,
                    );
                }
            }
            _ => {}
        }
    }
}

/// YAML 1.2 core schema resolution of a plain (unquoted) scalar.
fn resolve_plain(text: String) -> Value {
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" => return Value::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let bytes = text.as_bytes();
    let numeric_start = matches!(bytes[0], b'0'..=b'9' | b'-' | b'+' | b'.');
    if numeric_start {
        if let Ok(i) = text.parse::<i64>() {
            return Value::Int(i);
        }
        if let Some(hex) = text.strip_prefix("0x") {
            if let Ok(i) = i64::from_str_radix(hex, 16) {
                return Value::Int(i);
            }
        }
        if let Some(oct) = text.strip_prefix("0o") {
            if let Ok(i) = i64::from_str_radix(oct, 8) {
                return Value::Int(i);
            }
        }
        let looks_float = text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
            && text.bytes().any(|b| b.is_ascii_digit());
        if looks_float {
            if let Ok(f) = text.parse::<f64>() {
                return Value::Float(f);
            }
        }
    }
    Value::Str(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Node, Vec<Diagnostic>> {
        parse(&Source::new("t.yaml", text.to_string()))
    }

    #[test]
    fn nodes_carry_line_and_column() {
        let doc = load("a: 1\nb:\n  c: hello\n").unwrap();
        let b = doc.get("b").unwrap();
        let c = b.get("c").unwrap();
        assert_eq!(c.as_str(), Some("hello"));
        assert_eq!(c.span, Span { line: 3, col: 6 });
        let keys: Vec<_> = b.as_map().unwrap().iter().map(|(k, _)| k.span).collect();
        assert_eq!(keys, vec![Span { line: 3, col: 3 }]);
    }

    #[test]
    fn plain_scalars_resolve_to_types_and_quoted_stay_strings() {
        let doc = load("i: 42\nf: 1.5\nb: true\nn: ~\ns: '42'\nd: 10s\n").unwrap();
        assert_eq!(doc.get("i").unwrap().value, Value::Int(42));
        assert_eq!(doc.get("f").unwrap().value, Value::Float(1.5));
        assert_eq!(doc.get("b").unwrap().value, Value::Bool(true));
        assert_eq!(doc.get("n").unwrap().value, Value::Null);
        assert_eq!(doc.get("s").unwrap().value, Value::Str("42".into()));
        assert_eq!(doc.get("d").unwrap().value, Value::Str("10s".into()));
    }

    #[test]
    fn syntax_errors_and_duplicates_are_diagnostics() {
        let err = load("a: [1, 2\n").unwrap_err();
        assert_eq!(err[0].code, "E0001");
        let err = load("a: 1\na: 2\n").unwrap_err();
        assert_eq!(err[0].code, "E0004");
        assert_eq!(err[0].span.line, 2);
        assert_eq!(load("").unwrap_err()[0].code, "E0003");
        assert_eq!(load("a: 1\n---\nb: 2\n").unwrap_err()[0].code, "E0002");
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let doc = load("base: &b { x: 1, y: 2 }\nuse:\n  <<: *b\n  y: 3\n").unwrap();
        let u = doc.get("use").unwrap();
        assert_eq!(u.get("x").unwrap().value, Value::Int(1));
        assert_eq!(u.get("y").unwrap().value, Value::Int(3));
    }
}
