//! Evaluates a step's `expect:` checks and `capture:` sources on a response.
//!
//! The body is parsed as JSON at most once, and only when a check or a
//! capture needs it. Every failure is a short reason meant for people:
//! `status 500, expected 200`, `$.token: expected to exist`.

use std::cell::OnceCell;

use minijinja::value::Value;
use serde_json::Value as J;

use crate::format::format_secs;
use crate::plan::{Capture, CaptureFrom, Expect, Matcher};
use crate::redact::is_secret;
use crate::run::protocol::http::Response;
use crate::scenario::model::JsonType;

/// The response with its body parsed lazily.
pub struct Seen<'a> {
    pub resp: &'a Response,
    json: OnceCell<Option<J>>,
    /// The body as text, decoded once for every body check and regex.
    text: OnceCell<J>,
}

impl<'a> Seen<'a> {
    pub fn new(resp: &'a Response) -> Self {
        Self {
            resp,
            json: OnceCell::new(),
            text: OnceCell::new(),
        }
    }

    fn json(&self) -> Option<&J> {
        self.json
            .get_or_init(|| serde_json::from_slice(&self.resp.body).ok())
            .as_ref()
    }

    fn text_value(&self) -> &J {
        self.text
            .get_or_init(|| J::String(String::from_utf8_lossy(&self.resp.body).into_owned()))
    }

    fn text(&self) -> &str {
        self.text_value().as_str().unwrap_or_default()
    }

    /// Said after a failure that read the body, when the body was longer
    /// than what was kept.
    fn cut(&self) -> String {
        if self.resp.cut {
            format!(
                " (only the first {} of the body was kept: raise `max_body`)",
                crate::format::bytes(self.resp.body.len() as u64)
            )
        } else {
            String::new()
        }
    }
}

/// Result of the checks: how many passed, and the failures' reasons.
#[derive(Debug, Default)]
pub struct Outcome {
    pub passed: u64,
    pub failed: Vec<String>,
}

/// Runs every check of `expect` on the response.
pub fn check(expect: &Expect, seen: &Seen, scope: &Value) -> Outcome {
    let mut out = Outcome::default();
    let mut verdict = |r: Result<(), String>| match r {
        Ok(()) => out.passed += 1,
        Err(e) => out.failed.push(e),
    };
    let status = seen.resp.status;
    verdict(match &expect.status {
        Some(list) if list.contains(&status) => Ok(()),
        Some(list) => Err(format!("status {status}, expected {}", show_statuses(list))),
        None if (200..400).contains(&status) => Ok(()),
        None => Err(format!("status {status}, expected 2xx or 3xx")),
    });
    for c in &expect.json {
        let result = match seen.json() {
            None => Err(format!("{}: the body is not JSON{}", c.path, seen.cut())),
            Some(body) => {
                let found = jsonpath_rust::query::js_path_process(&c.query, body)
                    .ok()
                    .and_then(|v| v.into_iter().next().map(|r| r.val.clone()));
                matches(&c.matcher, found.as_ref(), scope)
                    .map_err(|e| format!("{}: {}", c.path, redact_if_secret(&c.path, e)))
            }
        };
        verdict(result);
    }
    for (name, m) in &expect.headers {
        let value = seen
            .resp
            .headers
            .get(name)
            .map(|v| J::String(String::from_utf8_lossy(v).into_owned()));
        verdict(
            matches(m, value.as_ref(), scope)
                .map_err(|e| format!("header {name}: {}", redact_if_secret(name, e))),
        );
    }
    for m in &expect.body {
        let text = seen.text_value();
        verdict(matches(m, Some(text), scope).map_err(|e| format!("body: {e}{}", seen.cut())));
    }
    if let Some(limit) = expect.latency {
        let took = seen.resp.latency;
        verdict(if took < limit {
            Ok(())
        } else {
            Err(format!(
                "expected latency below {}, found {}",
                format_secs(limit.as_secs_f64()),
                format_secs(took.as_secs_f64())
            ))
        });
    }
    out
}

fn show_statuses(list: &[u16]) -> String {
    match list {
        [one] => one.to_string(),
        _ => {
            let v: Vec<String> = list.iter().map(u16::to_string).collect();
            format!("one of {}", v.join(", "))
        }
    }
}

/// Checks one matcher against a found value (`None`: nothing found).
pub fn matches(m: &Matcher, found: Option<&J>, scope: &Value) -> Result<(), String> {
    let render = |t: &crate::template::JsonTpl| t.render(scope).map_err(|e| e.to_string());
    let need = || found.ok_or_else(|| "nothing found".to_string());
    match m {
        Matcher::Exists(want) => match (found.is_some(), want) {
            (true, true) | (false, false) => Ok(()),
            (false, true) => Err("expected to exist".into()),
            (true, false) => Err(format!("expected not to exist, found {}", show(found))),
        },
        Matcher::Eq(t) => {
            let expected = render(t)?;
            let v = need()?;
            if equal(v, &expected) {
                Ok(())
            } else {
                Err(format!(
                    "expected {}, found {}",
                    show(Some(&expected)),
                    show(Some(v))
                ))
            }
        }
        Matcher::Ne(t) => {
            let expected = render(t)?;
            match found {
                Some(v) if equal(v, &expected) => {
                    Err(format!("expected anything but {}", show(Some(v))))
                }
                _ => Ok(()),
            }
        }
        Matcher::Lt(t) => compare(need()?, &render(t)?, "<", |o| o.is_lt()),
        Matcher::Le(t) => compare(need()?, &render(t)?, "<=", |o| o.is_le()),
        Matcher::Gt(t) => compare(need()?, &render(t)?, ">", |o| o.is_gt()),
        Matcher::Ge(t) => compare(need()?, &render(t)?, ">=", |o| o.is_ge()),
        Matcher::Matches(re) => {
            let v = need()?;
            let text = as_text(v);
            if re.is_match(&text) {
                Ok(())
            } else {
                Err(format!(
                    "expected to match /{}/, found {}",
                    re.as_str(),
                    show(Some(v))
                ))
            }
        }
        Matcher::Contains(t) => {
            let expected = render(t)?;
            let v = need()?;
            let ok = match (v, &expected) {
                (J::String(s), e) => s.contains(as_text(e).as_str()),
                (J::Array(items), e) => items.iter().any(|i| equal(i, e)),
                (J::Object(map), J::String(k)) => map.contains_key(k),
                _ => false,
            };
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "expected to contain {}, found {}",
                    show(Some(&expected)),
                    show(Some(v))
                ))
            }
        }
        Matcher::Length(inner) => {
            let v = need()?;
            let len = match v {
                J::String(s) => s.chars().count(),
                J::Array(a) => a.len(),
                J::Object(o) => o.len(),
                _ => {
                    return Err(format!(
                        "expected something with a length, found {}",
                        show(Some(v))
                    ))
                }
            };
            matches(inner, Some(&J::from(len)), scope).map_err(|e| format!("length: {e}"))
        }
        Matcher::Type(t) => {
            let v = need()?;
            let actual = match v {
                J::String(_) => JsonType::String,
                J::Number(_) => JsonType::Number,
                J::Bool(_) => JsonType::Bool,
                J::Object(_) => JsonType::Object,
                J::Array(_) => JsonType::Array,
                J::Null => JsonType::Null,
            };
            if actual == *t {
                Ok(())
            } else {
                Err(format!(
                    "expected a {}, found {} (a {})",
                    t.name(),
                    show(Some(v)),
                    actual.name()
                ))
            }
        }
        Matcher::All(all) => all.iter().try_for_each(|m| matches(m, found, scope)),
    }
}

/// Replaces the values quoted in a failure reason about a secret field.
fn redact_if_secret(name: &str, reason: String) -> String {
    if !is_secret(name) {
        return reason;
    }
    match reason.as_str() {
        "expected to exist" | "nothing found" => reason,
        r if r.starts_with("expected not to exist") => {
            "expected not to exist (value hidden: secret)".into()
        }
        _ => "does not match (value hidden: secret)".into(),
    }
}

/// Equality that treats `1` and `1.0` alike, and a number like its text when
/// the other side is a string (headers are always strings).
fn equal(a: &J, b: &J) -> bool {
    match (a, b) {
        (J::Number(x), J::Number(y)) => x.as_f64() == y.as_f64(),
        (J::String(s), J::Number(n)) | (J::Number(n), J::String(s)) => {
            s.trim().parse::<f64>().ok() == n.as_f64()
        }
        (J::String(s), J::Bool(b)) | (J::Bool(b), J::String(s)) => s == &b.to_string(),
        _ => a == b,
    }
}

fn number(v: &J) -> Option<f64> {
    match v {
        J::Number(n) => n.as_f64(),
        J::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn compare(v: &J, bound: &J, op: &str, ok: fn(std::cmp::Ordering) -> bool) -> Result<(), String> {
    let (Some(a), Some(b)) = (number(v), number(bound)) else {
        return Err(format!(
            "expected a number {op} {}, found {}",
            show(Some(bound)),
            show(Some(v))
        ));
    };
    match a.partial_cmp(&b) {
        Some(o) if ok(o) => Ok(()),
        _ => Err(format!(
            "expected {op} {}, found {}",
            show(Some(bound)),
            show(Some(v))
        )),
    }
}

fn as_text(v: &J) -> String {
    match v {
        J::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A value for a failure message, shortened.
fn show(v: Option<&J>) -> String {
    let Some(v) = v else { return "nothing".into() };
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

/// Reads each capture; returns the values, or the reason of the first that
/// found nothing and had no default.
pub fn capture(
    captures: &[Capture],
    seen: &Seen,
    scope: &Value,
) -> Result<Vec<(String, Value)>, String> {
    let mut out = Vec::with_capacity(captures.len());
    for c in captures {
        let found: Option<Value> = match &c.from {
            CaptureFrom::Json { query, .. } => seen.json().and_then(|body| {
                jsonpath_rust::query::js_path_process(query, body)
                    .ok()
                    .and_then(|v| v.into_iter().next().map(|r| json_to_value(r.val)))
            }),
            CaptureFrom::Header(name) => seen
                .resp
                .headers
                .get(name)
                .map(|v| Value::from(String::from_utf8_lossy(v).into_owned())),
            CaptureFrom::Regex(re) => {
                let text = seen.text();
                re.captures(text)
                    .and_then(|c| c.get(1))
                    .map(|m| Value::from(m.as_str().to_string()))
            }
            CaptureFrom::Status => Some(Value::from(seen.resp.status)),
        };
        let value = match (found, &c.default) {
            (Some(v), _) => v,
            (None, Some(d)) => Value::from_serialize(d.render(scope).map_err(|e| e.to_string())?),
            (None, None) => {
                let from = match &c.from {
                    CaptureFrom::Json { path, .. } if seen.json().is_none() => {
                        format!("`{path}` (the body is not JSON)")
                    }
                    CaptureFrom::Json { path, .. } => format!("`{path}`"),
                    CaptureFrom::Header(h) => format!("header `{h}`"),
                    CaptureFrom::Regex(re) => format!("regex /{}/", re.as_str()),
                    CaptureFrom::Status => "status".into(),
                };
                return Err(format!(
                    "capture `{}`: {from} found nothing{}",
                    c.name,
                    seen.cut()
                ));
            }
        };
        out.push((c.name.clone(), value));
    }
    Ok(out)
}

/// JSON → template value (strings stay strings, numbers numbers…).
pub fn json_to_value(v: &J) -> Value {
    match v {
        J::String(s) => Value::from(s.as_str()),
        other => Value::from_serialize(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_reasons_about_secret_fields_hide_the_values() {
        let r = redact_if_secret(
            "$.access_token",
            "expected \"x\", found \"eyJhbGciOi\"".into(),
        );
        assert!(!r.contains("eyJ"), "{r}");
        assert_eq!(
            redact_if_secret("$.access_token", "expected to exist".into()),
            "expected to exist"
        );
        let r = redact_if_secret("$.user.name", "expected \"Bob\", found \"Ann\"".into());
        assert!(r.contains("Ann"));
        assert!(is_secret("Set-Cookie") && is_secret("x-api_key") && !is_secret("$.title"));
    }
}
