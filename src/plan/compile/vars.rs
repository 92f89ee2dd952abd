//! Test variables (`vars:`, rendered once, each may read the ones before
//! it) and the base URL (`--base-url`, `TREK_BASE_URL`, or the file's).

use super::*;

impl Compile<'_, '_, '_> {
    /// Renders `vars` in order; each may read the ones before it.
    pub(super) fn render_vars(&mut self, seed: u64) -> serde_json::Map<String, serde_json::Value> {
        let mut vars = serde_json::Map::new();
        for (name, node) in &self.test.vars {
            let known = Known {
                vars: vars.keys().cloned().collect(),
                ..Known::default()
            };
            let before = self.r.diags.items.len();
            let Some(tpl) = self.json_with(node, &known) else {
                continue;
            };
            if self.r.diags.items.len() > before {
                continue;
            }
            let scope = Scope::new(Value::from_serialize(&vars), "", 0, seed);
            match tpl.render(&Value::from_object(scope)) {
                Ok(v) => {
                    vars.insert(name.clone(), v);
                }
                Err(e) => self.r.error(
                    code::TEMPLATE_SYNTAX,
                    node.span,
                    format!("variable `{name}` cannot be rendered: {e}"),
                ),
            }
        }
        vars
    }

    pub(super) fn base_url(
        &mut self,
        options: &Options,
        vars: &serde_json::Map<String, serde_json::Value>,
    ) -> Option<Arc<str>> {
        let chosen = options.base_url.clone().or_else(|| {
            let text = self.test.base_url.as_ref()?;
            let known = Known {
                vars: vars.keys().cloned().collect(),
                ..Known::default()
            };
            let tpl = self.string_with(text, &known)?;
            let scope = Scope::new(Value::from_serialize(vars), "", 0, 0);
            match tpl.render(&Value::from_object(scope)) {
                Ok(s) => Some(s.into_owned()),
                Err(e) => {
                    self.r
                        .error(code::TEMPLATE_SYNTAX, text.span, format!("`base_url`: {e}"));
                    None
                }
            }
        })?;
        let trimmed = chosen.trim_end_matches('/');
        if !(trimmed.starts_with("http://") || trimmed.starts_with("https://")) {
            let span = self
                .test
                .base_url
                .as_ref()
                .map_or(Span::default(), |t| t.span);
            self.r.error_help(
                code::BAD_VALUE,
                span,
                format!("base URL `{chosen}` must start with http:// or https://"),
                "write it in full, e.g. `http://127.0.0.1:8080`",
            );
        }
        Some(Arc::from(trimmed))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{compiled, compiled_with, errors};
    use super::*;

    #[test]
    fn vars_render_in_order_and_the_base_url_may_use_them() {
        let plan = compiled(
            "version: 1\nvars: { host: 127.0.0.1, base: \"http://{{ vars.host }}:8080\" }\nbase_url: \"{{ vars.base }}/\"\nsteps: [ { get: /a, expect: { status: 200 } } ]\n",
        )
        .unwrap();
        assert_eq!(
            plan.vars.get_attr("base").unwrap().to_string(),
            "http://127.0.0.1:8080"
        );
        let h = super::super::testing::http(&plan, 0);
        assert_eq!(
            h.parsed_url.as_ref().unwrap().as_str(),
            "http://127.0.0.1:8080/a"
        );
    }

    #[test]
    fn the_command_line_base_url_wins_and_a_scheme_is_required() {
        let yaml = "version: 1\nbase_url: http://file.test\nsteps: [ { get: /a, expect: { status: 200 } } ]\n";
        let options = Options {
            base_url: Some("http://cli.test/v1/".into()),
            ..Options::default()
        };
        let plan = compiled_with(yaml, &options).unwrap();
        let h = super::super::testing::http(&plan, 0);
        assert_eq!(
            h.parsed_url.as_ref().unwrap().as_str(),
            "http://cli.test/v1/a"
        );
        let e = errors(
            "version: 1\nbase_url: api.test\nsteps: [ { get: /a, expect: { status: 200 } } ]\n",
        );
        assert_eq!((e[0].0, e[0].1), (code::BAD_VALUE, 2), "{e:?}");
    }
}
