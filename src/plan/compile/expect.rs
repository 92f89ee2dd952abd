//! Response checks and captures: matchers, JSONPaths and regexes,
//! compiled once.

use super::*;

impl Compile<'_, '_, '_> {
    pub(super) fn expect(&mut self, e: &m::Expect) -> Expect {
        let mut out = Expect {
            status: e.status.clone(),
            latency: e.latency,
            events: e.events,
            ..Expect::default()
        };
        for (path, matcher) in &e.json {
            let (Some(query), Some(matcher)) = (self.jsonpath(path), self.matcher(matcher)) else {
                continue;
            };
            out.json.push(JsonCheck {
                path: path.value.clone(),
                query,
                matcher,
            });
        }
        for (name, matcher) in &e.headers {
            if let Some(matcher) = self.matcher(matcher) {
                out.headers.push((name.clone(), matcher));
            }
        }
        out.body = e.body.iter().filter_map(|m| self.matcher(m)).collect();
        out
    }

    pub(super) fn jsonpath(
        &mut self,
        path: &Text,
    ) -> Option<jsonpath_rust::parser::model::JpQuery> {
        match jsonpath_rust::parser::parse_json_path(&path.value) {
            Ok(q) => Some(q),
            Err(e) => {
                let problem = super::jsonpath::explain(&path.value, &e);
                let help = match &problem.dashed {
                    Some(name) => {
                        format!("write it in brackets: `['{name}']` instead of `.{name}`")
                    }
                    None => "e.g. `$.access_token`, `$.items[0].id`, `$.items[?@.price > 10].name`"
                        .into(),
                };
                let span = self.r.source.within(path.span, problem.at);
                let problem = problem.message;
                self.r.error_help(
                    code::JSONPATH,
                    span,
                    format!("invalid JSONPath `{}`: {problem}", path.value),
                    help,
                );
                None
            }
        }
    }

    pub(super) fn regex(&mut self, text: &Text) -> Option<Regex> {
        match Regex::new(&text.value) {
            Ok(r) => Some(r),
            Err(e) => {
                let detail = e.to_string();
                let last = detail.lines().last().unwrap_or_default().trim().to_string();
                self.r.error(
                    code::REGEX,
                    text.span,
                    format!("invalid regex `{}`: {last}", text.value),
                );
                None
            }
        }
    }

    pub(super) fn matcher(&mut self, mm: &m::Matcher) -> Option<Matcher> {
        Some(match mm {
            m::Matcher::Exists(b) => Matcher::Exists(*b),
            m::Matcher::Eq(n) => Matcher::Eq(self.json(n)?),
            m::Matcher::Ne(n) => Matcher::Ne(self.json(n)?),
            m::Matcher::Lt(n) => Matcher::Lt(self.json(n)?),
            m::Matcher::Le(n) => Matcher::Le(self.json(n)?),
            m::Matcher::Gt(n) => Matcher::Gt(self.json(n)?),
            m::Matcher::Ge(n) => Matcher::Ge(self.json(n)?),
            m::Matcher::Matches(t) => Matcher::Matches(self.regex(t)?),
            m::Matcher::Contains(n) => Matcher::Contains(self.json(n)?),
            m::Matcher::Length(n) => {
                let inner = crate::scenario::steps::read_matcher(self.r, n)?;
                Matcher::Length(Box::new(self.matcher(&inner)?))
            }
            m::Matcher::Type(t) => Matcher::Type(*t),
            m::Matcher::All(all) => {
                Matcher::All(all.iter().filter_map(|x| self.matcher(x)).collect())
            }
        })
    }

    pub(super) fn capture(&mut self, c: &m::Capture) -> Option<Capture> {
        let from = match &c.source {
            m::CaptureSource::Json(path) => CaptureFrom::Json {
                path: path.value.clone(),
                query: self.jsonpath(path)?,
            },
            m::CaptureSource::Header(h) => CaptureFrom::Header(h.clone()),
            m::CaptureSource::Regex(t) => {
                let re = self.regex(t)?;
                if re.captures_len() < 2 {
                    self.r.error_help(
                        code::REGEX,
                        t.span,
                        format!("capture `{}`: the regex has no group", c.name),
                        "put what to capture in parentheses: `id=(\\d+)`",
                    );
                    return None;
                }
                CaptureFrom::Regex(re)
            }
            m::CaptureSource::Status => CaptureFrom::Status,
        };
        let default = match &c.default {
            Some(n) => Some(self.json(n)?),
            None => None,
        };
        Some(Capture {
            name: c.name.clone(),
            from,
            default,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{compiled, errors, http};
    use super::*;

    #[test]
    fn checks_and_captures_are_compiled_once() {
        let plan = compiled("version: 1\nbase_url: http://a.test\nsteps:\n  - get: /a\n    expect: { status: [200, 201], json: { $.id: { gt: 0 } }, body: { matches: \"ok.*\" } }\n    capture: { id: $.id }\n").unwrap();
        let h = http(&plan, 0);
        assert_eq!(h.expect.count(), 3);
        assert_eq!(h.captures.len(), 1);
    }

    #[test]
    fn a_bad_jsonpath_or_regex_is_an_error_at_its_place() {
        let e = errors("version: 1\nbase_url: http://a.test\nsteps:\n  - { get: /a, expect: { json: { \"$.a[0\": 1 } } }\n");
        assert_eq!((e[0].0, e[0].1), (code::JSONPATH, 4), "{e:?}");
        assert!(e[0].2.contains("never closed"), "{e:?}");
        let e = errors("version: 1\nbase_url: http://a.test\nsteps:\n  - { get: /a, expect: { body: { matches: \"(\" } } }\n");
        assert_eq!((e[0].0, e[0].1), (code::REGEX, 4), "{e:?}");
    }
}
