//! Requests (plain and streamed): URL, query, headers (with the
//! defaults), body, timeout, checks and captures.

use super::*;

impl Compile<'_, '_, '_> {
    /// Compiles a request (plain or streamed) and gives it its step id.
    pub(super) fn request(
        &mut self,
        h: &m::Http,
        label: &str,
        kind: StepKindTag,
    ) -> Option<HttpStep> {
        let scope = if kind == StepKindTag::Sse {
            SloScope::Stream
        } else {
            SloScope::Request
        };
        self.check_slos(&h.slo, scope);
        let id = self.steps.len();
        self.steps.push(StepInfo {
            scenario: self.scenario,
            phase: self.phase,
            name: label.to_string(),
            kind,
            slo: h.slo.clone(),
        });
        let url_text = h.url.value.trim();
        let absolute = url_text.starts_with("http://") || url_text.starts_with("https://");
        let url = self.string(&h.url)?;
        if !absolute && !url_text.starts_with("{{") && self.base.is_none() {
            self.r.error_help(
                code::MISSING_KEY,
                h.url.span,
                format!("`{url_text}` is relative, but the test has no base URL"),
                "add `base_url: http://host:port` at the top, or pass `--base-url`",
            );
            return None;
        }
        // A literal relative URL is joined once, here; a templated one is
        // joined after rendering.
        let (url, base) = match (&url, &self.base) {
            (Tpl::Lit(path), Some(base)) if !absolute => {
                let slash = if path.starts_with('/') { "" } else { "/" };
                (Tpl::Lit(format!("{base}{slash}{path}").into()), None)
            }
            _ => (url, self.base.clone()),
        };
        let mut headers: Vec<(String, Tpl)> = Vec::new();
        // A stream asks for `text/event-stream` unless the step itself says
        // otherwise: a default `accept` does not apply to it.
        let defaults = self
            .test
            .defaults
            .headers
            .iter()
            .filter(|(k, _)| kind != StepKindTag::Sse || !k.eq_ignore_ascii_case("accept"));
        for (k, v) in defaults.chain(h.headers.iter()) {
            let Some(t) = self.string(v) else { continue };
            let name = k.to_ascii_lowercase();
            if let Err(e) = header_name_ok(&name) {
                self.r.error(code::BAD_VALUE, v.span, e);
                continue;
            }
            headers.retain(|(n, _)| *n != name);
            headers.push((name, t));
        }
        let query = h
            .query
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), self.string(v)?)))
            .collect();
        let body = match &h.body {
            m::Body::None => Body::None,
            m::Body::Json(n) => Body::Json(self.json(n)?),
            m::Body::Text(t) => Body::Text(self.string(t)?),
            m::Body::Form(fields) => Body::Form(
                fields
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), self.string(v)?)))
                    .collect(),
            ),
            m::Body::File(f) => Body::File(f.path.as_path().into()),
            m::Body::Multipart(parts) => Body::Multipart(self.multipart(parts)?),
        };
        let (link, keep, max) = self.link(&h.net);
        let max_body = if kind == StepKindTag::Sse { max } else { keep };
        let expect = self.expect(&h.expect);
        let captures = h.capture.iter().filter_map(|c| self.capture(c)).collect();
        let parsed_url = match (&url, &base) {
            (Tpl::Lit(full), None) => match url::Url::parse(full) {
                Ok(u) => {
                    self.check_version(link, &u, h.url.span);
                    Some(u)
                }
                Err(e) => {
                    self.r.error(
                        code::BAD_VALUE,
                        h.url.span,
                        format!("`{}` is not a valid URL: {e}", h.url.value.trim()),
                    );
                    return None;
                }
            },
            _ => None,
        };
        Some(HttpStep {
            id,
            method: h.method,
            url,
            base,
            parsed_url,
            headers,
            query,
            body,
            timeout: h.timeout.unwrap_or(self.test.defaults.timeout),
            expect,
            captures,
            link,
            max_body,
        })
    }
}

/// A header name HTTP accepts.
pub(super) fn header_name_ok(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if valid {
        Ok(())
    } else {
        Err(format!("`{name}` is not a valid header name"))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{compiled, errors, http};
    use super::*;

    #[test]
    fn default_headers_are_merged_under_the_steps_own() {
        let plan = compiled("version: 1\nbase_url: http://a.test\ndefaults: { headers: { Accept: application/json, X-Team: qa } }\nsteps:\n  - { get: /a, headers: { x-team: core }, expect: { status: 200 } }\n").unwrap();
        let names: Vec<(&str, String)> = http(&plan, 0)
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str(),
                    v.render(&minijinja::Value::from(())).unwrap().into_owned(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                ("accept", "application/json".into()),
                ("x-team", "core".into())
            ]
        );
    }

    #[test]
    fn a_bad_header_name_and_a_relative_url_without_base_are_errors() {
        let e = errors("version: 1\nbase_url: http://a.test\nsteps:\n  - { get: /a, headers: { \"bad name\": x }, expect: { status: 200 } }\n");
        assert_eq!(e[0].0, code::BAD_VALUE, "{e:?}");
        let e = errors("version: 1\nsteps:\n  - { get: /a, expect: { status: 200 } }\n");
        assert_eq!((e[0].1), 3, "{e:?}");
        assert!(header_name_ok("x-api-key").is_ok());
        assert!(header_name_ok("x api").is_err());
    }
}
