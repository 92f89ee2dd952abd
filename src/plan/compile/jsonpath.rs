//! A JSONPath the parser refused, explained in words: what is wrong, and at
//! which character of the path (for the caret), instead of the parser's
//! own grammar report.

use jsonpath_rust::parser::errors::JsonPathError;

/// What is wrong with a refused path.
#[derive(Debug, PartialEq)]
pub struct Problem {
    /// Said in words.
    pub message: String,
    /// The character (0-based, in chars) the caret points at.
    pub at: usize,
    /// A name after `.` with a `-` in it, which goes in brackets instead.
    pub dashed: Option<String>,
}

/// What is wrong with `path`.
pub fn explain(path: &str, error: &JsonPathError) -> Problem {
    let (message, at) = find(path, error);
    let dashed = dashed_name(path)
        .filter(|(i, _)| *i == at)
        .map(|(_, name)| name);
    Problem {
        message,
        at,
        dashed,
    }
}

fn find(path: &str, error: &JsonPathError) -> (String, usize) {
    let len = path.chars().count();
    let stopped = match error {
        JsonPathError::PestError(e) => match e.line_col {
            pest::error::LineColLocation::Pos((_, col))
            | pest::error::LineColLocation::Span((_, col), _) => col.saturating_sub(1),
        },
        _ => 0,
    }
    .min(len);
    let trimmed = path.trim_end();
    if !path.starts_with('$') {
        let message = "a JSONPath starts with `$` (the whole response)".to_string();
        return (message, 0);
    }
    if let Some(op) = ["==", "!=", "<=", ">=", "<", ">", "&&", "||"]
        .into_iter()
        .find(|op| trimmed.ends_with(op))
    {
        return (format!("`{op}` needs a value on its right"), len);
    }
    if let Some(at) = unclosed(path, '[', ']') {
        return ("this `[` is never closed with `]`".to_string(), at);
    }
    if let Some(at) = unclosed(path, '(', ')') {
        return ("this `(` is never closed with `)`".to_string(), at);
    }
    if trimmed.ends_with('.') {
        return ("a `.` must be followed by a name".to_string(), len);
    }
    if let Some((i, name)) = dashed_name(path) {
        return (
            format!("`{name}` has a `-`, which a name after `.` cannot have"),
            i,
        );
    }
    match path.chars().nth(stopped) {
        Some(c) => (format!("`{c}` cannot come here"), stopped),
        None => ("the path ends too early".to_string(), len),
    }
}

/// The char index of the last `open` that no `close` follows, if any.
fn unclosed(path: &str, open: char, close: char) -> Option<usize> {
    let mut stack = Vec::new();
    let mut quote = None;
    for (i, c) in path.chars().enumerate() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, c) if c == open => stack.push(i),
            (None, c) if c == close => {
                stack.pop();
            }
            _ => {}
        }
    }
    stack.pop()
}

/// A `.name-with-dash` outside brackets and quotes: where the name starts
/// and the name (letters, digits, `_` and `-` right after the `.`).
fn dashed_name(path: &str) -> Option<(usize, String)> {
    let chars: Vec<char> = path.chars().collect();
    let (mut depth, mut quote) = (0usize, None);
    for (i, c) in chars.iter().enumerate() {
        match (quote, *c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(*c),
            (None, '[') => depth += 1,
            (None, ']') => depth = depth.saturating_sub(1),
            (None, '.') if depth == 0 => {
                let name: String = chars[i + 1..]
                    .iter()
                    .take_while(|c| c.is_alphanumeric() || **c == '_' || **c == '-')
                    .collect();
                if name.contains('-') && !name.starts_with('-') {
                    return Some((i + 1, name));
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(path: &str) -> (String, usize) {
        let e = jsonpath_rust::parser::parse_json_path(path).expect_err(path);
        let p = explain(path, &e);
        (p.message, p.at)
    }

    #[test]
    fn common_mistakes_are_said_in_words_at_their_character() {
        assert_eq!(
            why("$.items[?(@.x =="),
            ("`==` needs a value on its right".into(), 16)
        );
        assert_eq!(
            why("$.items[0"),
            ("this `[` is never closed with `]`".into(), 7)
        );
        assert_eq!(
            why("$.items[?(@.x == 1]"),
            ("this `(` is never closed with `)`".into(), 9)
        );
        assert_eq!(
            why("$.user."),
            ("a `.` must be followed by a name".into(), 7)
        );
        assert_eq!(
            why("$.access-token"),
            (
                "`access-token` has a `-`, which a name after `.` cannot have".into(),
                2
            )
        );
        assert_eq!(
            why("access_token"),
            ("a JSONPath starts with `$` (the whole response)".into(), 0)
        );
    }

    #[test]
    fn anything_else_points_where_the_parser_stopped() {
        let (message, at) = why("$.a]");
        assert_eq!((message.as_str(), at), ("`]` cannot come here", 3));
        // Never the parser's own grammar report.
        for path in ["$.a]", "$[?@.x ==]", "$..", "$.a[?(@.b > 1 && )]", "$['a"] {
            let Err(e) = jsonpath_rust::parser::parse_json_path(path) else {
                continue;
            };
            let Problem { message, at, .. } = explain(path, &e);
            assert!(
                !message.contains("-->") && !message.contains('|'),
                "{path}: {message}"
            );
            assert!(at <= path.chars().count(), "{path}: {at}");
        }
    }

    #[test]
    fn a_dash_counts_only_in_a_name_after_a_dot() {
        let e = |p: &str| explain(p, &jsonpath_rust::parser::parse_json_path(p).expect_err(p));
        assert_eq!(e("$.access-token").dashed.as_deref(), Some("access-token"));
        // A minus in a filter or in a quoted name is not a dashed name.
        for path in ["$.a[?(@.b > -1 &&)]", "$-a", "$['a-b'"] {
            let p = e(path);
            assert_eq!(p.dashed, None, "{path}: {p:?}");
            assert!(!p.message.contains("has a `-`"), "{path}: {p:?}");
        }
    }
}
