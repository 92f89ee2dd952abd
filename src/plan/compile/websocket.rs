//! `websocket:` steps: the target (a URL joined to the base URL with
//! http → ws, or a kept connection), handshake headers and actions.

use super::*;

impl Compile<'_, '_, '_> {
    pub(super) fn websocket(&mut self, w: &m::WebSocket, label: &str) -> Option<WsStep> {
        self.check_slos(&w.slo, SloScope::Stream);
        let id = self.steps.len();
        self.steps.push(StepInfo {
            scenario: self.scenario,
            phase: self.phase,
            name: label.to_string(),
            kind: StepKindTag::WebSocket,
            slo: w.slo.clone(),
        });
        let ws_base = self.base.as_ref().map(|b| {
            let b = b
                .replacen("https://", "wss://", 1)
                .replacen("http://", "ws://", 1);
            Arc::<str>::from(b.as_str())
        });
        let target = match &w.target {
            m::WsTarget::Use(name) => {
                if !self.kept.contains(&name.value) {
                    self.r.error_help(
                        code::UNKNOWN_NAME,
                        name.span,
                        format!(
                            "no earlier step named `{}` keeps a WebSocket connection",
                            name.value
                        ),
                        "give that step `keep: true` and a `name`, before this one",
                    );
                    return None;
                }
                WsTarget::Use(name.value.clone())
            }
            m::WsTarget::Url(u) => {
                let text = u.value.trim();
                let absolute = ["ws://", "wss://"].iter().any(|p| text.starts_with(p));
                let url = self.string(u)?;
                match (&url, &ws_base) {
                    (Tpl::Lit(path), Some(base)) if !absolute => {
                        let slash = if path.starts_with('/') { "" } else { "/" };
                        WsTarget::Url {
                            url: Tpl::Lit(format!("{base}{slash}{path}").into()),
                            base: None,
                        }
                    }
                    (Tpl::Lit(_), None) if !absolute => {
                        self.r.error_help(
                            code::MISSING_KEY,
                            u.span,
                            format!("`{text}` is relative, but the test has no base URL"),
                            "write a full `ws://` URL, or add `base_url`",
                        );
                        return None;
                    }
                    _ => WsTarget::Url { url, base: ws_base },
                }
            }
        };
        if w.keep {
            self.kept.insert(label.to_string());
        }
        // `defaults.headers` go on the handshake too, except those the
        // handshake sets itself; the step's own win, and may not set those.
        let mut headers: Vec<(String, Tpl)> = Vec::new();
        for (k, v) in &self.test.defaults.headers {
            let name = k.to_ascii_lowercase();
            if !handshake_header(&name) && http::header_name_ok(&name).is_ok() {
                if let Some(t) = self.string(v) {
                    headers.push((name, t));
                }
            }
        }
        for (k, v) in &w.headers {
            let name = k.to_ascii_lowercase();
            let problem = match http::header_name_ok(&name) {
                Err(e) => Some(e),
                Ok(()) if handshake_header(&name) => Some(format!(
                    "`{k}` is set by the WebSocket handshake itself and cannot be changed"
                )),
                Ok(()) => None,
            };
            if let Some(e) = problem {
                self.r.error(code::BAD_VALUE, v.span, e);
                continue;
            }
            let Some(t) = self.string(v) else { continue };
            headers.retain(|(n, _)| *n != name);
            headers.push((name, t));
        }
        let timeout = w.timeout.unwrap_or(self.test.defaults.timeout);
        let mut actions = Vec::new();
        for a in &w.actions {
            actions.push(match a {
                m::WsAction::Send(n) => match n.as_str() {
                    Some(_) => WsAction::SendText(self.string(&Text {
                        value: n.scalar_text()?,
                        span: n.span,
                    })?),
                    None => WsAction::SendJson(self.json(n)?),
                },
                m::WsAction::Sleep(d) => WsAction::Sleep(*d),
                m::WsAction::Close => WsAction::Close,
                m::WsAction::Receive {
                    matcher,
                    timeout: t,
                    capture,
                } => WsAction::Receive {
                    matcher: match matcher {
                        m::WsMatch::Any => WsMatch::Any,
                        m::WsMatch::Regex(t) => WsMatch::Regex(self.regex(t)?),
                        m::WsMatch::Json(checks) => {
                            let mut out = Vec::new();
                            for (path, mm) in checks {
                                let (Some(query), Some(matcher)) =
                                    (self.jsonpath(path), self.matcher(mm))
                                else {
                                    continue;
                                };
                                out.push(JsonCheck {
                                    path: path.value.clone(),
                                    query,
                                    matcher,
                                });
                            }
                            WsMatch::Json(out)
                        }
                    },
                    timeout: t.unwrap_or(timeout),
                    captures: {
                        let compiled = capture.iter().filter_map(|c| self.capture(c)).collect();
                        self.define(capture.iter().map(|c| c.name.as_str()));
                        compiled
                    },
                },
            });
        }
        let (link, _, max_message) = self.link(&w.net);
        Some(WsStep {
            id,
            target,
            headers,
            keep: w.keep,
            timeout,
            actions,
            link,
            max_message,
        })
    }
}

/// Headers the WebSocket handshake sets itself (RFC 6455 §4.1).
fn handshake_header(name: &str) -> bool {
    matches!(
        name,
        "host" | "connection" | "upgrade" | "content-length" | "transfer-encoding"
    ) || name.starts_with("sec-websocket-")
}

#[cfg(test)]
mod tests {
    use super::super::testing::{compiled, errors};
    use super::*;

    fn ws(plan: &Plan) -> &WsStep {
        match &plan.scenarios[0].steps[0].node {
            Node::WebSocket(w) => w,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_relative_target_joins_the_base_url_as_ws_and_takes_default_headers() {
        let plan = compiled("version: 1\nbase_url: https://a.test/v1\ndefaults: { headers: { x-team: qa } }\nsteps:\n  - { name: w, websocket: /sync, headers: { authorization: t }, actions: [ { send: hi } ] }\n").unwrap();
        let w = ws(&plan);
        match &w.target {
            WsTarget::Url {
                url: Tpl::Lit(u), ..
            } => assert_eq!(&**u, "wss://a.test/v1/sync"),
            other => panic!("{other:?}"),
        }
        let names: Vec<&str> = w.headers.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["x-team", "authorization"]);
    }

    #[test]
    fn headers_the_handshake_sets_are_kept_out() {
        let plan = compiled("version: 1\nbase_url: http://a.test\ndefaults: { headers: { Connection: close, X-Team: qa } }\nsteps:\n  - { name: w, websocket: /s, actions: [ { send: hi } ] }\n").unwrap();
        let names: Vec<&str> = ws(&plan).headers.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            ["x-team"],
            "a default `connection` would break the upgrade"
        );
        let e = errors("version: 1\nbase_url: http://a.test\nsteps:\n  - { name: w, websocket: /s, headers: { Sec-WebSocket-Key: x }, actions: [ { send: hi } ] }\n");
        assert_eq!((e[0].0, e[0].1), (code::BAD_VALUE, 4), "{e:?}");
        let e = errors("version: 1\nbase_url: http://a.test\nsteps:\n  - { name: w, websocket: /s, headers: { \"bad name\": x }, actions: [ { send: hi } ] }\n");
        assert_eq!(e[0].0, code::BAD_VALUE, "{e:?}");
    }

    #[test]
    fn a_kept_connection_must_exist_before_it_is_used() {
        let e = errors("version: 1\nbase_url: http://a.test\nsteps:\n  - { name: later, websocket: { use: sync }, actions: [ { send: hi } ] }\n");
        assert_eq!((e[0].0, e[0].1), (code::UNKNOWN_NAME, 4), "{e:?}");
    }
}
