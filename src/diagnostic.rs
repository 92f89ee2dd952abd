//! One error type for everything a user wrote wrong in a scenario file, and
//! its rendering: `file:line:col`, the source line with a caret under the
//! column, what was expected, and a fix when one is known.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A position in a source file; lines and columns start at 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Span {
    pub line: u32,
    pub col: u32,
}

/// A loaded source file, shared by every diagnostic that points into it.
#[derive(Debug)]
pub struct Source {
    pub path: PathBuf,
    pub text: String,
}

impl Source {
    pub fn new(path: impl Into<PathBuf>, text: String) -> Arc<Self> {
        Arc::new(Self {
            path: path.into(),
            text,
        })
    }

    fn line(&self, n: u32) -> Option<&str> {
        self.text.lines().nth(n.checked_sub(1)? as usize)
    }

    /// Where the `offset`-th character of the scalar at `at` is, when the
    /// scalar sits on one line (a quote before it is skipped).
    pub fn within(&self, at: Span, offset: usize) -> Span {
        let quoted = self
            .line(at.line)
            .and_then(|l| l.chars().nth(at.col.saturating_sub(1) as usize))
            .is_some_and(|c| c == '"' || c == '\'');
        Span {
            line: at.line,
            col: at.col + u32::from(quoted) + offset as u32,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// A problem in a scenario file (or on the command line, when `source` is
/// `None`).
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable identifier, e.g. `E0102`; see `docs/diagnostics.md`.
    pub code: &'static str,
    pub message: String,
    pub source: Option<Arc<Source>>,
    pub span: Span,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            code,
            message: message.into(),
            source: None,
            span: Span::default(),
            help: None,
        }
    }

    pub fn at(mut self, source: &Arc<Source>, span: Span) -> Self {
        self.source = Some(source.clone());
        self.span = span;
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The diagnostic for tools: `trek validate --format json`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "severity": match self.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            "code": self.code,
            "message": self.message,
        });
        if let Some(src) = &self.source {
            v["file"] = display_path(&src.path).into();
            if self.span.line > 0 {
                v["line"] = self.span.line.into();
                v["column"] = self.span.col.into();
            }
        }
        if let Some(help) = &self.help {
            v["help"] = help.as_str().into();
        }
        v
    }

    /// Sorts diagnostics by file, then position.
    pub fn order_key(&self) -> (String, u32, u32) {
        let path = self
            .source
            .as_ref()
            .map(|s| s.path.display().to_string())
            .unwrap_or_default();
        (path, self.span.line, self.span.col)
    }

    /// `path:line:col`, or the path alone when there is no position.
    pub fn location(&self) -> String {
        match &self.source {
            Some(src) if self.span.line > 0 => format!(
                "{}:{}:{}",
                display_path(&src.path),
                self.span.line,
                self.span.col
            ),
            Some(src) => display_path(&src.path),
            None => String::new(),
        }
    }

    /// Renders the diagnostic as a compiler would, with the offending line and
    /// a caret. `color` adds ANSI colours.
    pub fn render(&self, color: bool) -> String {
        let (red, yellow, blue, bold, reset) = if color {
            ("\x1b[31m", "\x1b[33m", "\x1b[34m", "\x1b[1m", "\x1b[0m")
        } else {
            ("", "", "", "", "")
        };
        let (label, tint) = match self.severity {
            Severity::Error => ("error", red),
            Severity::Warning => ("warning", yellow),
        };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{tint}{bold}{label}[{}]{reset}{bold}: {}{reset}",
            self.code, self.message
        );
        let location = self.location();
        if !location.is_empty() {
            let _ = writeln!(out, "  {blue}-->{reset} {location}");
        }
        if let Some(line) = self.source.as_ref().and_then(|s| s.line(self.span.line)) {
            let number = self.span.line.to_string();
            let pad = " ".repeat(number.len());
            let (text, col) = window(line, self.span.col.saturating_sub(1) as usize);
            let caret_pad: String = text
                .chars()
                .take(col)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let _ = writeln!(out, "  {pad} {blue}|{reset}");
            let _ = writeln!(out, "  {blue}{number} |{reset} {text}");
            let _ = writeln!(out, "  {pad} {blue}|{reset} {caret_pad}{tint}^{reset}");
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "  {blue}= help:{reset} {help}");
        }
        out
    }
}

/// The most of a source line a diagnostic shows.
const SHOWN: usize = 120;

/// At most [`SHOWN`] characters of `line` around the character `col`
/// (elided ends marked `…`), and where `col` falls in them: a long line
/// (minified JSON, a file that is not a scenario) is not printed whole.
fn window(line: &str, col: usize) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= SHOWN {
        return (line.to_string(), col);
    }
    let start = col.saturating_sub(SHOWN / 2).min(chars.len() - SHOWN);
    let end = start + SHOWN;
    let mut text = String::new();
    let mut at = col - start.min(col);
    if start > 0 {
        text.push('…');
        at += 1;
    }
    text.extend(&chars[start..end]);
    if end < chars.len() {
        text.push('…');
    }
    (text, at)
}

fn display_path(path: &Path) -> String {
    path.display().to_string()
}

/// The closest candidate to `word` by edit distance, if it is close enough to
/// be a plausible typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::damerau_levenshtein(&lower, &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(d, c)| *d <= 2.max(c.len() / 3) && *d < c.len().max(lower.len()))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Collects diagnostics while loading, so that one pass reports every problem.
#[derive(Debug, Default)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_is_shown_around_its_column_only() {
        let line = format!("{}X{}", "a".repeat(500), "b".repeat(500));
        let (text, col) = window(&line, 500);
        assert_eq!(text.chars().count(), SHOWN + 2);
        assert_eq!(text.chars().nth(col), Some('X'));
        assert!(text.starts_with('…') && text.ends_with('…'));
        assert_eq!(window("short", 2), ("short".to_string(), 2));
    }

    #[test]
    fn renders_line_and_caret_under_the_column() {
        let src = Source::new("s.yaml", "a: 1\n  expct: 2\n".to_string());
        let d = Diagnostic::error("E0101", "unknown key `expct`")
            .at(&src, Span { line: 2, col: 3 })
            .help("did you mean `expect`?");
        let text = d.render(false);
        assert!(text.contains("--> s.yaml:2:3"), "{text}");
        assert!(text.contains("2 |   expct: 2"), "{text}");
        assert!(text.contains("  |   ^"), "{text}");
        assert!(text.contains("= help: did you mean `expect`?"), "{text}");
    }

    #[test]
    fn suggests_close_words_only() {
        let keys = ["expect", "capture", "headers"];
        assert_eq!(suggest("expct", keys), Some("expect"));
        assert_eq!(suggest("Headrs", keys), Some("headers"));
        assert_eq!(suggest("zzz", keys), None);
    }
}
