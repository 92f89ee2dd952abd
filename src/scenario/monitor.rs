//! Reads `monitor:`: the target's own Prometheus endpoints to sample during
//! the run, and the series to keep from each under a name of their own
//! (the name `slo: { monitor: … }` and the reports use).

use std::time::Duration;

use crate::diagnostic::Span;
use crate::scenario::reader::{code, Reader};
use crate::scenario::yaml::{Node, Value};

pub const MONITOR_KEYS: [&str; 4] = ["name", "prometheus", "every", "series"];

/// How often a monitor is sampled unless it says: every second.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(1);
/// The shortest `every`.
pub const MIN_EVERY: Duration = Duration::from_millis(100);

/// One endpoint to sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Monitor {
    pub name: String,
    /// A URL, or a path under `base_url` (`/metrics`).
    pub url: String,
    pub url_span: Span,
    pub every: Duration,
    pub series: Vec<Series>,
}

/// A series kept: its name and which samples of the endpoint add up to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub selector: Selector,
    pub span: Span,
}

/// `metric{label="value",…}`: the samples of `metric` whose labels include
/// these (all of them are added up).
#[derive(Debug, Clone, PartialEq)]
pub struct Selector {
    pub metric: String,
    pub labels: Vec<(String, String)>,
}

impl std::fmt::Display for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.metric)?;
        if !self.labels.is_empty() {
            let labels: Vec<String> = self
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v:?}"))
                .collect();
            write!(f, "{{{}}}", labels.join(","))?;
        }
        Ok(())
    }
}

fn is_name(s: &str, colon: bool) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || (colon && c == ':'))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
}

/// Parses `metric`, `metric{a="x"}` or `metric{a="x", b="y"}`.
pub fn parse_selector(text: &str) -> Result<Selector, String> {
    let text = text.trim();
    let (metric, rest) = match text.find('{') {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let metric = metric.trim();
    if !is_name(metric, true) {
        return Err(format!(
            "`{metric}` is not a metric name (letters, digits, `_` and `:`, not starting with a digit)"
        ));
    }
    let mut labels = Vec::new();
    if let Some(rest) = rest {
        let Some(inner) = rest.trim_end().strip_suffix('}') else {
            return Err("the labels have no closing `}`".into());
        };
        let mut s = inner.trim();
        while !s.is_empty() {
            let Some(eq) = s.find('=') else {
                return Err(format!("`{s}`: write each label as name=\"value\""));
            };
            let name = s[..eq].trim();
            let after = s[eq + 1..].trim_start();
            if after.starts_with('~') || name.ends_with('!') {
                return Err(
                    "only `=` matches: regular expressions and `!=` are not supported".into(),
                );
            }
            if !is_name(name, false) {
                return Err(format!("`{name}` is not a label name"));
            }
            let Some(after) = after.strip_prefix('"') else {
                return Err(format!("the value of `{name}` must be in double quotes"));
            };
            let mut value = String::new();
            let mut chars = after.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, c)) => value.push(c),
                        None => break,
                    },
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    c => value.push(c),
                }
            }
            let Some(end) = end else {
                return Err(format!("the value of `{name}` has no closing quote"));
            };
            labels.push((name.to_string(), value));
            s = after[end + 1..].trim_start();
            s = s.strip_prefix(',').unwrap_or(s).trim_start();
        }
    }
    Ok(Selector {
        metric: metric.to_string(),
        labels,
    })
}

pub fn read_monitors(r: &mut Reader, node: &Node) -> Vec<Monitor> {
    let mut out: Vec<Monitor> = Vec::new();
    let mut aliases: Vec<String> = Vec::new();
    for (i, item) in r.seq(node, "`monitor`").iter().enumerate() {
        let Some(m) = r.map(item, "a monitor", &MONITOR_KEYS) else {
            continue;
        };
        let name = m
            .get("name")
            .and_then(|n| r.string(n, "`name`"))
            .unwrap_or_else(|| format!("monitor{}", i + 1));
        if out.iter().any(|o| o.name == name) {
            let span = m.get("name").map_or(item.span, |n| n.span);
            r.error_help(
                code::DUPLICATE_NAME,
                span,
                format!("two monitors are named `{name}`"),
                "give each monitor a name of its own",
            );
        }
        let Some(url_node) = m.get("prometheus") else {
            r.error_help(
                code::MISSING_KEY,
                item.span,
                format!("monitor `{name}` has no `prometheus:`"),
                "write the address of its Prometheus text endpoint, e.g. `prometheus: http://127.0.0.1:9100/metrics` or `/metrics` under base_url",
            );
            continue;
        };
        let Some(url) = r.string(url_node, "`prometheus`") else {
            continue;
        };
        let every = match m.get("every") {
            Some(n) => match r.duration(n, "`every`") {
                Some(d) if d < MIN_EVERY => {
                    let d = crate::diagnostic::Diagnostic::error(
                        code::BAD_VALUE,
                        format!("monitor `{name}`: `every` is shorter than 100ms; it is read every 100ms"),
                    )
                    .at(&r.source, n.span)
                    .help("a target's metrics are read at most ten times a second: write `every: 100ms` or more")
                    .warning();
                    r.diags.push(d);
                    MIN_EVERY
                }
                Some(d) => d,
                None => continue,
            },
            None => DEFAULT_EVERY,
        };
        let Some(series_node) = m.get("series") else {
            r.error_help(
                code::MISSING_KEY,
                item.span,
                format!("monitor `{name}` has no `series:`"),
                "name the series to keep, e.g. `series: { db_in_use: 'db_pool_connections{state=\"in_use\"}' }`",
            );
            continue;
        };
        let mut series = Vec::new();
        for (alias, v, span) in r.free_map(series_node, "`series`") {
            let Value::Str(text) = &v.value else {
                r.wrong_type(
                    v,
                    "a series",
                    "a metric name in quotes, e.g. 'db_pool_connections{state=\"in_use\"}'",
                );
                continue;
            };
            let text = text.clone();
            if !is_name(&alias, false) {
                r.error_help(
                    code::BAD_VALUE,
                    span,
                    format!("`{alias}` is not a series name"),
                    "use letters, digits and `_`, e.g. `db_in_use`",
                );
                continue;
            }
            if aliases.contains(&alias) {
                r.error_help(
                    code::DUPLICATE_NAME,
                    span,
                    format!("the series name `{alias}` is used twice"),
                    "series names are shared by every monitor (`slo: { monitor: { NAME: … } }` names one): give each its own",
                );
                continue;
            }
            match parse_selector(&text) {
                Ok(selector) => {
                    aliases.push(alias.clone());
                    series.push(Series {
                        name: alias,
                        selector,
                        span,
                    });
                }
                Err(e) => r.error_help(
                    code::BAD_VALUE,
                    v.span,
                    format!("`{text}`: {e}"),
                    "write a metric name, with labels to match if needed: `http_requests_total{code=\"200\"}`",
                ),
            }
        }
        out.push(Monitor {
            name,
            url,
            url_span: url_node.span,
            every,
            series,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_read_a_name_and_labels_to_match() {
        let s = parse_selector(r#"db_pool_connections{state="in_use", pool="main"}"#).unwrap();
        assert_eq!(s.metric, "db_pool_connections");
        assert_eq!(
            s.labels,
            [
                ("state".to_string(), "in_use".to_string()),
                ("pool".to_string(), "main".to_string())
            ]
        );
        assert_eq!(
            s.to_string(),
            r#"db_pool_connections{state="in_use",pool="main"}"#
        );
        assert!(parse_selector("process_cpu_seconds_total")
            .unwrap()
            .labels
            .is_empty());
        assert!(parse_selector(r#"a{b="c\"d"}"#).unwrap().labels[0].1 == "c\"d");
        assert!(parse_selector("9x").is_err());
        assert!(parse_selector(r#"a{b=~"x"}"#)
            .unwrap_err()
            .contains("regular"));
        assert!(parse_selector(r#"a{b="x"#).is_err());
        assert!(parse_selector(r#"a{b=x}"#)
            .unwrap_err()
            .contains("double quotes"));
    }
}
