//! Reads what a request expects of its answer (`expect:`: statuses,
//! JSON, header and body matchers, latency, SSE event counts) and what it
//! takes from it (`capture:`).

use super::*;

pub(super) fn read_expect(r: &mut Reader, node: &Node, stream: bool) -> Expect {
    let mut e = Expect::default();
    let keys: &[&str] = if stream {
        &EXPECT_SSE_KEYS
    } else {
        &EXPECT_KEYS
    };
    let Some(m) = r.map(node, "`expect`", keys) else {
        return e;
    };
    if let Some(n) = m.get("events") {
        if let Some(ev) = r.map(n, "`expect.events`", &EVENTS_KEYS) {
            let min = ev.get("min").and_then(|x| r.count(x, "`min`"));
            let max = ev.get("max").and_then(|x| r.count(x, "`max`"));
            e.events = Some((min, max));
        }
    }
    if let Some(n) = m.get("status") {
        e.status = read_statuses(r, n);
    }
    if let Some(n) = m.get("json") {
        for (path, v, span) in r.free_map(n, "`expect.json`") {
            if let Some(matcher) = read_matcher(r, v) {
                e.json.push((Text { value: path, span }, matcher));
            }
        }
    }
    if let Some(n) = m.get("headers") {
        for (name, v, _) in r.free_map(n, "`expect.headers`") {
            if let Some(matcher) = read_matcher(r, v) {
                e.headers.push((name.to_ascii_lowercase(), matcher));
            }
        }
    }
    if let Some(n) = m.get("body") {
        if let Some(b) = r.map(n, "`expect.body`", &BODY_KEYS) {
            if let Some(c) = b.get("contains") {
                e.body.push(Matcher::Contains(c.clone()));
            }
            if let Some(t) = b.get("matches").and_then(|x| r.text(x, "`matches`")) {
                e.body.push(Matcher::Matches(t));
            }
        }
    }
    if let Some(n) = m.get("latency") {
        if let Some(l) = r.map(n, "`expect.latency`", &LATENCY_KEYS) {
            match l.get("lt") {
                Some(x) => e.latency = r.duration(x, "`lt`"),
                None => r.error_help(
                    code::MISSING_KEY,
                    n.span,
                    "`expect.latency` needs `lt`",
                    "e.g. `latency: { lt: 500ms }`",
                ),
            }
        }
    }
    e
}

fn read_statuses(r: &mut Reader, node: &Node) -> Option<Vec<u16>> {
    let items: Vec<&Node> = match &node.value {
        Value::Seq(items) if items.is_empty() => {
            r.error_help(
                code::BAD_VALUE,
                node.span,
                "`status` lists no status",
                "write the accepted statuses, e.g. `[200, 201]`, or leave `status` out to accept any 2xx or 3xx",
            );
            return None;
        }
        Value::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    let mut out = Vec::new();
    for item in items {
        match item.value {
            Value::Int(code @ 100..=599) => out.push(code as u16),
            Value::Int(_) => r.error(
                code::BAD_VALUE,
                item.span,
                "an HTTP status is a number from 100 to 599",
            ),
            _ => r.wrong_type(
                item,
                "`status`",
                "a number such as 200, or a list such as [200, 201]",
            ),
        }
    }
    (!out.is_empty()).then_some(out)
}

/// A matcher: a plain value (equals) or a map of conditions.
pub fn read_matcher(r: &mut Reader, node: &Node) -> Option<Matcher> {
    let Value::Map(entries) = &node.value else {
        return Some(Matcher::Eq(node.clone()));
    };
    let keys: Vec<&str> = entries.iter().filter_map(|(k, _)| k.as_str()).collect();
    let known = keys.iter().filter(|k| MATCHER_KEYS.contains(k)).count();
    if known == 0 {
        // A map that is no matcher compares for equality, unless it looks
        // like a misspelt matcher.
        // Only a near miss of a long matcher name (`exsits`, `lenght`) is
        // taken for a typo; `{ name: Ann }` compares an object.
        if let [only] = keys.as_slice() {
            let near = MATCHER_KEYS
                .iter()
                .any(|m| m.len() >= 4 && strsim::damerau_levenshtein(only, m) == 1);
            if near {
                r.unknown_key(node.span_of_key(only), only, "a matcher", &MATCHER_KEYS);
                return None;
            }
        }
        return Some(Matcher::Eq(node.clone()));
    }
    let m = r.map(node, "a matcher", &MATCHER_KEYS)?;
    let mut all = Vec::new();
    for (key, _, v) in m.entries() {
        let matcher = match key {
            "exists" => Matcher::Exists(r.boolean(v, "`exists`")?),
            "eq" => Matcher::Eq(v.clone()),
            "ne" => Matcher::Ne(v.clone()),
            "lt" => Matcher::Lt(operand(r, v, key)?),
            "le" => Matcher::Le(operand(r, v, key)?),
            "gt" => Matcher::Gt(operand(r, v, key)?),
            "ge" => Matcher::Ge(operand(r, v, key)?),
            "matches" => Matcher::Matches(r.text(v, "`matches`")?),
            "contains" => Matcher::Contains(v.clone()),
            "length" => Matcher::Length(v.clone()),
            "type" => {
                let t = r.string(v, "`type`")?;
                Matcher::Type(match TYPE_NAMES.iter().find(|(k, _)| *k == t) {
                    Some((_, json_type)) => *json_type,
                    None => {
                        r.error_help(
                            code::BAD_VALUE,
                            v.span,
                            format!("unknown type `{t}`"),
                            "use one of `string`, `number`, `bool`, `object`, `array`, `null`",
                        );
                        return None;
                    }
                })
            }
            _ => continue,
        };
        all.push(matcher);
    }
    Some(if all.len() == 1 {
        all.remove(0)
    } else {
        Matcher::All(all)
    })
}

/// The operand of `lt`, `le`, `gt` or `ge`: a number, or text (a number
/// written as text, or a template giving one). Anything else never compares.
fn operand(r: &mut Reader, v: &Node, key: &str) -> Option<Node> {
    match v.value {
        Value::Int(_) | Value::Float(_) | Value::Str(_) => Some(v.clone()),
        _ => {
            r.wrong_type(
                v,
                &format!("`{key}`"),
                "a number (or a template giving one)",
            );
            None
        }
    }
}

pub fn read_captures(r: &mut Reader, node: &Node) -> Vec<Capture> {
    let mut out = Vec::new();
    for (name, v, _) in r.free_map(node, "`capture`") {
        let capture = if let Some(path) = v.as_str().filter(|s| s.starts_with('$')) {
            Some(Capture {
                name: name.clone(),
                source: CaptureSource::Json(Text {
                    value: path.to_string(),
                    span: v.span,
                }),
                default: None,
            })
        } else if v.as_str().is_some() {
            r.error_help(
                code::BAD_VALUE,
                v.span,
                format!("capture `{name}`: a plain string must be a JSONPath starting with `$`"),
                "write `$.field`, or a map: `{ header: NAME }`, `{ regex: PATTERN }`, `{ status: true }`",
            );
            None
        } else {
            read_capture_map(r, &name, v)
        };
        out.extend(capture);
    }
    out
}

fn read_capture_map(r: &mut Reader, name: &str, v: &Node) -> Option<Capture> {
    let m = r.map(v, &format!("capture `{name}`"), &CAPTURE_KEYS)?;
    let sources: Vec<&str> = ["json", "header", "regex", "status"]
        .into_iter()
        .filter(|k| m.has(k))
        .collect();
    let source = match sources.as_slice() {
        ["json"] => CaptureSource::Json(r.text(m.get("json")?, "`json`")?),
        ["header"] => {
            CaptureSource::Header(r.string(m.get("header")?, "`header`")?.to_ascii_lowercase())
        }
        ["regex"] => CaptureSource::Regex(r.text(m.get("regex")?, "`regex`")?),
        ["status"] => {
            r.boolean(m.get("status")?, "`status`")?;
            CaptureSource::Status
        }
        [] => {
            r.error_help(
                code::MISSING_KEY,
                v.span,
                format!("capture `{name}` does not say where to read from"),
                "add one of `json: $.path`, `header: NAME`, `regex: PATTERN`, `status: true`",
            );
            return None;
        }
        _ => {
            r.error(
                code::CONFLICT,
                v.span,
                format!(
                    "capture `{name}` reads from one place, but names {}",
                    list(&sources)
                ),
            );
            return None;
        }
    };
    Some(Capture {
        name: name.to_string(),
        source,
        default: m.get("default").cloned(),
    })
}
