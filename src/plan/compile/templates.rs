//! Templates in the file: compiled once, the names they read checked
//! against what is defined at that point, and noted for `trek plan`.

use super::*;
use crate::template::TemplateError;

impl Compile<'_, '_, '_> {
    pub(super) fn string_with(&mut self, text: &Text, known: &Known) -> Option<Tpl> {
        match self.tpl.string(&text.value) {
            Ok((t, names)) => {
                self.note(&names);
                check_names(self.r, known, &names, text.span, &text.value);
                Some(t)
            }
            Err(e) => {
                self.template_error(text.span, &text.value, &e);
                None
            }
        }
    }

    pub(super) fn json_with(&mut self, node: &Yaml, known: &Known) -> Option<JsonTpl> {
        match self.tpl.json(&node.to_json()) {
            Ok((t, names)) => {
                self.note(&names);
                check_names(
                    self.r,
                    known,
                    &names,
                    node.span,
                    &format!("{}", node.to_json()),
                );
                Some(t)
            }
            Err(e) => {
                self.template_error(node.span, &node.to_json().to_string(), &e);
                None
            }
        }
    }

    pub(super) fn note(&mut self, names: &[String]) {
        for n in names {
            let root = n.split('.').next().unwrap_or_default();
            let shown = !matches!(root, "fake" | "vu" | "iteration" | "scenario")
                && !crate::template::FUNCTIONS.contains(&root);
            if shown && !self.reads.contains(n) {
                self.reads.push(n.clone());
            }
            self.read_roots
                .insert(n.split('.').next().unwrap_or_default().to_string());
        }
    }

    pub(super) fn template_error(&mut self, span: Span, source: &str, e: &TemplateError) {
        self.r.error_help(
            code::TEMPLATE_SYNTAX,
            span,
            format!("in template `{source}`: {e}"),
            "templates use `{{ expression }}`; check the braces and quotes",
        );
    }

    pub(super) fn string(&mut self, text: &Text) -> Option<Tpl> {
        let known = std::mem::take(&mut self.known);
        let t = self.string_with(text, &known);
        self.known = known;
        t
    }

    pub(super) fn json(&mut self, node: &Yaml) -> Option<JsonTpl> {
        let known = std::mem::take(&mut self.known);
        let t = self.json_with(node, &known);
        self.known = known;
        t
    }

    pub(super) fn expr(&mut self, text: &Text) -> Option<Expr> {
        match self.tpl.expr(&text.value) {
            Ok((e, names)) => {
                self.note(&names);
                let known = std::mem::take(&mut self.known);
                check_names(self.r, &known, &names, text.span, &text.value);
                self.known = known;
                Some(e)
            }
            Err(e) => {
                self.template_error(text.span, &text.value, &e);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{compiled, errors};
    use super::*;

    #[test]
    fn a_template_is_checked_for_syntax_and_for_the_names_it_reads() {
        let e = errors("version: 1\nbase_url: http://a.test\nsteps:\n  - { get: \"/x/{{ id\", expect: { status: 200 } }\n");
        assert_eq!((e[0].0, e[0].1), (code::TEMPLATE_SYNTAX, 4), "{e:?}");
        let e = errors("version: 1\nbase_url: http://a.test\nsteps:\n  - { get: \"/x/{{ idd }}\", expect: { status: 200 } }\n");
        assert_eq!((e[0].0, e[0].1), (code::UNKNOWN_NAME, 4), "{e:?}");
    }

    #[test]
    fn what_a_step_reads_is_noted_for_trek_plan() {
        let plan = compiled("version: 1\nvars: { tenant: acme }\nbase_url: http://a.test\nsteps:\n  - { name: a, get: \"/{{ vars.tenant }}/{{ vu }}\", expect: { status: 200 } }\n").unwrap();
        let step = &plan.scenarios[0].steps[0];
        assert_eq!(step.about.reads, vec!["vars.tenant".to_string()]);
    }
}
