//! Steps: each step of the model becomes a plan step with its label,
//! condition and pause; fragments are inlined; a file of fragments only is
//! checked on its own.

use super::*;

impl Compile<'_, '_, '_> {
    /// A file of fragments only: each fragment is compiled once on its own,
    /// so its templates, JSONPaths and regexes are checked; the names it
    /// reads come from whoever includes it and are not checked.
    pub(super) fn check_library(&mut self) {
        let lenient = std::mem::replace(&mut self.known.lenient, true);
        self.known.defined = None;
        // Relative URLs are joined to the including file's base URL.
        let base = self.base.clone();
        self.base = base
            .clone()
            .or_else(|| Some(Arc::from("http://included.invalid")));
        let test = self.test;
        for f in &test.fragments {
            let outer = std::mem::replace(&mut self.r.source, f.source.clone());
            self.labels.clear();
            self.use_stack.push(f.name.clone());
            self.steps_of(&f.steps, true);
            self.use_stack.pop();
            self.r.source = outer;
        }
        self.known.lenient = lenient;
        self.base = base;
    }
}

/// The deepest steps may sit inside one another: each level is a future
/// inside a future when the step runs, on a worker's stack.
pub const MAX_STEP_DEPTH: usize = 32;

impl Compile<'_, '_, '_> {
    pub(super) fn steps_of(&mut self, steps: &[m::Step], in_fragment: bool) -> Vec<Step> {
        steps
            .iter()
            .filter_map(|s| self.step(s, in_fragment))
            .collect()
    }

    pub(super) fn step(&mut self, s: &m::Step, in_fragment: bool) -> Option<Step> {
        if self.depth >= MAX_STEP_DEPTH {
            self.r.error_help(
                code::STEP_DEPTH,
                s.span,
                format!("steps are nested more than {MAX_STEP_DEPTH} deep here (groups, repeats, choices and fragments inside one another)"),
                "flatten the journey: a fragment that uses another adds a level each time",
            );
            return None;
        }
        self.depth += 1;
        let outer_reads = std::mem::take(&mut self.reads);
        let step = self.step_inner(s, in_fragment);
        self.depth -= 1;
        let reads = std::mem::replace(&mut self.reads, outer_reads);
        step.map(|mut step| {
            step.about.reads = reads;
            step
        })
    }

    pub(super) fn step_inner(&mut self, s: &m::Step, in_fragment: bool) -> Option<Step> {
        if let Some(w) = &s.when {
            let bare = w
                .value
                .trim()
                .trim_start_matches("{{")
                .trim_end_matches("}}")
                .trim();
            if matches!(bare, "false" | "False" | "0" | "none" | "None") {
                let d =
                    Diagnostic::error("W0001", "this step never runs: its `when` is always false")
                        .at(&self.r.source, w.span)
                        .help("remove the step, or give `when` a condition")
                        .warning();
                self.r.diags.push(d);
            }
        }
        let when = s.when.as_ref().and_then(|w| self.expr(w));
        let mut think_after = s.think;
        let (node, label) = match &s.kind {
            m::StepKind::Http(h) => {
                let label = self.label(
                    s,
                    // Named after its URL: without what a URL may hide.
                    format!(
                        "{} {}",
                        h.method.as_str(),
                        crate::redact::hide_url_secrets(&h.url.value)
                    ),
                    in_fragment,
                );
                if self.paced() {
                    think_after = think_after.or(self.test.defaults.think);
                }
                if !self.shape_errors
                    && h.expect.status.is_none()
                    && h.expect.json.is_empty()
                    && h.expect.headers.is_empty()
                    && h.expect.body.is_empty()
                    && h.expect.latency.is_none()
                {
                    let d = Diagnostic::error(
                        "W0002",
                        format!("`{label}` has no `expect`: only its status class (2xx or 3xx) is checked"),
                    )
                    .at(&self.r.source, s.span)
                    .help("say what a good answer is, e.g. `expect: { status: 200 }`")
                    .warning();
                    self.r.diags.push(d);
                }
                let step = self.request(h, &label, StepKindTag::Http);
                self.define(h.capture.iter().map(|c| c.name.as_str()));
                (Node::Http(Box::new(step?)), label)
            }
            m::StepKind::WebSocket(w) => {
                let what = match &w.target {
                    m::WsTarget::Url(u) => crate::redact::hide_url_secrets(&u.value),
                    m::WsTarget::Use(n) => n.value.clone(),
                };
                let label = self.label(s, format!("WS {what}"), in_fragment);
                if self.paced() {
                    think_after = think_after.or(self.test.defaults.think);
                }
                let step = self.websocket(w, &label);
                (Node::WebSocket(Box::new(step?)), label)
            }
            m::StepKind::Sse(h, until) => {
                let label = self.label(
                    s,
                    format!("SSE {}", crate::redact::hide_url_secrets(&h.url.value)),
                    in_fragment,
                );
                if self.paced() {
                    think_after = think_after.or(self.test.defaults.think);
                }
                let request = self.request(h, &label, StepKindTag::Sse);
                self.define(h.capture.iter().map(|c| c.name.as_str()));
                let request = request?;
                (
                    Node::Sse(Box::new(SseStep {
                        request,
                        until: until.clone(),
                    })),
                    label,
                )
            }
            m::StepKind::Think(t) => (Node::Think(*t), "think".to_string()),
            m::StepKind::Group {
                name,
                steps,
                parallel,
                slo,
            } => {
                let label = self.label(s, name.value.clone(), in_fragment);
                self.check_slos(slo, SloScope::Group);
                let id = self.steps.len();
                self.steps.push(StepInfo {
                    scenario: self.scenario,
                    phase: self.phase,
                    name: label.clone(),
                    kind: StepKindTag::Group,
                    slo: slo.clone(),
                });
                let outer = self.in_parallel;
                self.in_parallel = *parallel;
                let steps = if *parallel {
                    self.branches(steps.len(), |c, i| c.step(&steps[i], in_fragment))
                        .into_iter()
                        .flatten()
                        .collect()
                } else {
                    self.steps_of(steps, in_fragment)
                };
                self.in_parallel = outer;
                if *parallel && !outer && self.phase == Phase::Iteration {
                    // A page of parallel calls is one request to a user.
                    think_after = think_after.or(self.test.defaults.think);
                }
                (
                    Node::Group {
                        id,
                        steps,
                        parallel: *parallel,
                    },
                    label,
                )
            }
            m::StepKind::Repeat { count, steps } => {
                let count = match count.value.trim().parse::<u64>() {
                    Ok(n) => Count::Fixed(n),
                    Err(_) => Count::Expr(self.expr(count)?),
                };
                (
                    Node::Repeat {
                        count,
                        steps: self.loop_body(steps, None, in_fragment),
                    },
                    "repeat".into(),
                )
            }
            m::StepKind::ForEach { list, item, steps } => {
                let list = self.expr(list)?;
                let steps = self.loop_body(steps, Some(item), in_fragment);
                (
                    Node::ForEach {
                        list,
                        item: item.clone(),
                        steps,
                    },
                    "for_each".into(),
                )
            }
            m::StepKind::Choose(branches) => {
                let mut total = 0.0;
                let mut cumulative = Vec::new();
                for b in branches {
                    total += b.weight;
                    cumulative.push(total);
                }
                let compiled = self.branches(branches.len(), |c, i| {
                    c.steps_of(&branches[i].steps, in_fragment)
                });
                if total <= 0.0 {
                    self.r.error(
                        code::BAD_VALUE,
                        s.span,
                        "the weights of `choose` add up to zero",
                    );
                    return None;
                }
                (
                    Node::Choose {
                        cumulative,
                        branches: compiled,
                    },
                    "choose".into(),
                )
            }
            m::StepKind::Use { fragment, with } => (
                self.use_fragment(fragment, with)?,
                format!("use {}", fragment.value),
            ),
            m::StepKind::Set(vars) => {
                let mut compiled = Vec::new();
                for (k, v) in vars {
                    // Each value may read the ones set before it.
                    if let Some(t) = self.json(v) {
                        compiled.push((k.clone(), t));
                    }
                    self.define([k.as_str()]);
                }
                let vars = compiled;
                (Node::Set(vars), "set".into())
            }
        };
        Some(Step {
            label: Arc::from(label.as_str()),
            when,
            think_after,
            continue_on_fail: s.continue_on_fail,
            node,
            about: Box::new(About::of(s)),
        })
    }

    /// Whether the default think time follows a request here: in the
    /// iterations only (not in `setup`, `before`, `after` or `teardown`),
    /// and not inside a `parallel:` group.
    fn paced(&self) -> bool {
        !self.in_parallel && self.phase == Phase::Iteration
    }

    /// The step's name, or a description; names given twice are an error,
    /// described ones get `#2`, `#3`.
    pub(super) fn label(&mut self, s: &m::Step, fallback: String, in_fragment: bool) -> String {
        let (label, explicit) = match &s.name {
            Some(n) => (n.value.clone(), true),
            None => (fallback, false),
        };
        let seen = self.labels.entry(label.clone()).or_insert(0);
        *seen += 1;
        if *seen == 1 {
            return label;
        }
        if explicit && !in_fragment {
            let span = s.name.as_ref().map_or(s.span, |n| n.span);
            self.r.error_help(
                code::DUPLICATE_NAME,
                span,
                format!("two steps of this scenario are named `{label}`"),
                "step names are unique within a scenario, so that their metrics stay apart; rename one",
            );
        }
        format!("{label} #{seen}")
    }

    pub(super) fn use_fragment(
        &mut self,
        fragment: &Text,
        with: &[(String, Yaml)],
    ) -> Option<Node> {
        let Some(f) = self
            .test
            .fragments
            .iter()
            .find(|f| f.name == fragment.value)
        else {
            let names: Vec<&str> = self
                .test
                .fragments
                .iter()
                .map(|f| f.name.as_str())
                .collect();
            let help = match suggest(&fragment.value, names.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None if names.is_empty() => {
                    "define it under `fragments:` at the top of the file".into()
                }
                None => format!("fragments here and in included files: {}", names.join(", ")),
            };
            self.r.error_help(
                code::UNKNOWN_FRAGMENT,
                fragment.span,
                format!("there is no fragment `{}`", fragment.value),
                help,
            );
            return None;
        };
        if self.use_stack.contains(&f.name) {
            self.r.error(
                code::UNKNOWN_FRAGMENT,
                fragment.span,
                format!(
                    "fragment `{}` uses itself (through {})",
                    f.name,
                    self.use_stack.join(" → ")
                ),
            );
            return None;
        }
        let params: Vec<(String, JsonTpl)> = with
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), self.json(v)?)))
            .collect();
        self.use_stack.push(f.name.clone());
        let outer_source = std::mem::replace(&mut self.r.source, f.source.clone());
        let outer_defined = self.known.defined.clone();
        self.define(with.iter().map(|(k, _)| k.as_str()));
        let mut steps = vec![Step {
            label: Arc::from(format!("with {}", f.name).as_str()),
            when: None,
            think_after: None,
            continue_on_fail: false,
            node: Node::Set(params),
            about: Box::default(),
        }];
        steps.extend(self.steps_of(&f.steps, true));
        self.r.source = outer_source;
        // `with` values are the fragment's own; what it captures or sets
        // stays defined after it.
        if let Some(defined) = &mut self.known.defined {
            for (k, _) in with {
                if !outer_defined.as_ref().is_some_and(|o| o.contains(k)) {
                    defined.remove(k);
                }
            }
        }
        self.use_stack.pop();
        let scoped = with.iter().map(|(k, _)| k.clone()).collect();
        Some(Node::Fragment { scoped, steps })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{compiled, errors};
    use super::*;

    #[test]
    fn names_are_unique_and_described_steps_are_numbered() {
        let e = errors("version: 1\nbase_url: http://a.test\nsteps:\n  - { name: a, get: /a, expect: { status: 200 } }\n  - { name: a, get: /b, expect: { status: 200 } }\n");
        assert_eq!((e[0].0, e[0].1), (code::DUPLICATE_NAME, 5), "{e:?}");
        let plan = compiled("version: 1\nbase_url: http://a.test\nsteps:\n  - { get: /a, expect: { status: 200 } }\n  - { get: /a, expect: { status: 200 } }\n").unwrap();
        let labels: Vec<&str> = plan.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(labels, ["GET /a", "GET /a #2"]);
    }

    #[test]
    fn a_fragment_is_inlined_with_its_with_names_scoped_to_it() {
        let plan = compiled("version: 1\nbase_url: http://a.test\nfragments:\n  f:\n    - { name: in, get: \"/{{ who }}\", expect: { status: 200 } }\nsteps:\n  - { use: f, with: { who: me } }\n").unwrap();
        match &plan.scenarios[0].steps[0].node {
            Node::Fragment { scoped, steps } => {
                assert_eq!(scoped, &["who".to_string()]);
                assert!(
                    matches!(steps[0].node, Node::Set(_)),
                    "the with values first"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_default_pause_follows_requests_but_not_steps_inside_a_parallel_group() {
        let plan = compiled("version: 1\nbase_url: http://a.test\ndefaults: { think: 1s }\nsteps:\n  - { name: a, get: /a, expect: { status: 200 } }\n  - group: g\n    parallel:\n      - { name: b, get: /b, expect: { status: 200 } }\n").unwrap();
        let steps = &plan.scenarios[0].steps;
        assert!(steps[0].think_after.is_some());
        assert!(steps[1].think_after.is_some(), "after the whole group");
        let Node::Group { steps: inner, .. } = &steps[1].node else {
            panic!()
        };
        assert!(inner[0].think_after.is_none());
    }
}
