//! Model → plan: renders `vars` once, resolves the base URL, inlines
//! fragments, gives every measured step its id, compiles every template,
//! JSONPath and regex, and checks the names templates read and where SLOs
//! are put. Every problem becomes a diagnostic at its line and column.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use minijinja::value::Value;
use regex::Regex;

use super::names::{check_names, Known, Origin};
use super::*;
use crate::diagnostic::{suggest, Diagnostic, Diagnostics, Span};
use crate::scenario::model::{self as m, DropUnit, SloMetric, Test, Text};
use crate::scenario::reader::{code, Reader};
use crate::scenario::yaml::Node as Yaml;
use crate::template::scope::Scope;
use crate::template::Compiler;

/// Choices made on the command line that the plan depends on.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub seed: u64,
    /// `--base-url`, else `TREK_BASE_URL`, else the file's.
    pub base_url: Option<String>,
    /// Set when the file already has errors, so steps may be missing from
    /// the model: the names its text defines anywhere (under `capture:`,
    /// `set:`, `with:`, `as:`), which are then not reported as undefined.
    pub maybe_defined: Option<HashSet<String>>,
}

/// Compiles a loaded test. Returns the plan with any warnings, or every error.
pub fn compile(test: &Test, options: &Options) -> Result<(Plan, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut diags = Diagnostics::default();
    let plan = {
        let mut r = Reader {
            source: test.source.clone(),
            diags: &mut diags,
        };
        Compile {
            r: &mut r,
            tpl: Compiler::new(),
            test,
            known: Known::default(),
            base: None,
            steps: Vec::new(),
            scenario: 0,
            labels: HashMap::new(),
            use_stack: Vec::new(),
            read_roots: HashSet::new(),
            in_parallel: false,
            kept: HashSet::new(),
            shape_errors: options.maybe_defined.is_some(),
            reads: Vec::new(),
        }
        .run(options)
    };
    if diags.has_errors() {
        Err(diags.items)
    } else {
        Ok((plan, diags.items))
    }
}

struct Compile<'r, 'a, 't> {
    r: &'r mut Reader<'a>,
    tpl: Compiler,
    test: &'t Test,
    known: Known,
    base: Option<Arc<str>>,
    steps: Vec<StepInfo>,
    scenario: usize,
    /// Label → times seen, in the current scenario.
    labels: HashMap<String, u32>,
    /// Fragments being inlined, to catch a fragment that uses itself.
    use_stack: Vec<String>,
    /// First segments of the names templates of this scenario read.
    read_roots: HashSet<String>,
    /// Inside `parallel:`, where the default think time does not apply.
    in_parallel: bool,
    /// Labels of the steps of this scenario that keep a WebSocket open.
    kept: HashSet<String>,
    /// The file has shape errors: warnings that could be their echo are
    /// left out.
    shape_errors: bool,
    /// Names read by the templates of the step being compiled (for `trek
    /// plan`).
    reads: Vec<String>,
}

impl Compile<'_, '_, '_> {
    fn run(mut self, options: &Options) -> Plan {
        let test = self.test;
        let vars = self.render_vars(options.seed);
        self.known.vars = test.vars.iter().map(|(k, _)| k.clone()).collect();
        self.known.maybe = options.maybe_defined.clone().unwrap_or_default();
        self.base = self.base_url(options, &vars);
        let feeders: Vec<FeederPlan> = test
            .data
            .iter()
            .map(|f| FeederPlan {
                name: Arc::from(f.name.as_str()),
                rows: f.rows.iter().map(Value::from_serialize).collect(),
                order: f.order,
            })
            .collect();
        self.known.feeders = test
            .data
            .iter()
            .map(|f| {
                let mut cols: Vec<String> = Vec::new();
                for row in &f.rows {
                    cols.extend(
                        row.keys()
                            .filter(|k| !cols.contains(k))
                            .cloned()
                            .collect::<Vec<_>>(),
                    );
                }
                (f.name.clone(), cols)
            })
            .collect();
        let vars_value = Value::from_serialize(&vars);
        let mut scenarios = Vec::new();
        for (i, s) in test.scenarios.iter().enumerate() {
            self.scenario = i;
            self.labels.clear();
            self.kept.clear();
            let mut locals = HashMap::new();
            self.collect_locals(&s.steps, &mut locals, &mut Vec::new());
            self.known.locals = locals;
            self.known.defined = Some(HashSet::new());
            let steps = self.steps_of(&s.steps, false);
            self.check_slos(&s.slo, SloScope::Scenario);
            let uses: Vec<usize> = feeders
                .iter()
                .enumerate()
                .filter(|(_, f)| self.read_roots.contains(&*f.name))
                .map(|(i, _)| i)
                .collect();
            self.read_roots.clear();
            scenarios.push(ScenarioPlan {
                name: s.name.clone(),
                load: s.load.clone(),
                steps,
                slo: s.slo.clone(),
                weight: s.weight,
                feeders: uses,
            });
        }
        self.check_slos(&test.slo, SloScope::Test);
        if test.scenarios.is_empty() {
            self.check_library();
        } else if !self.shape_errors && !self.r.diags.has_errors() && !self.declares_slo() {
            let d = Diagnostic::error(
                "W0003",
                "the test declares no SLO: only a run in which no request succeeds fails",
            )
            .at(&self.r.source, Span { line: 1, col: 1 })
            .help("say what good enough is, e.g. `slo: { latency: { p95: 500ms }, error_rate: 1% }` at the top level, under a scenario or on a step")
            .warning();
            self.r.diags.push(d);
        }
        Plan {
            name: test.name.clone(),
            description: test.description.clone(),
            file: test.source.path.display().to_string(),
            seed: options.seed,
            vars: vars_value,
            feeders,
            scenarios,
            steps: self.steps,
            slo: test.slo.clone(),
            follow_redirects: test.defaults.follow_redirects,
            insecure: test.defaults.insecure,
        }
    }

    /// Whether any SLO is declared: for the test, a scenario or a step.
    fn declares_slo(&self) -> bool {
        !self.test.slo.is_empty()
            || self.test.scenarios.iter().any(|s| !s.slo.is_empty())
            || self.steps.iter().any(|s| !s.slo.is_empty())
    }

    /// Renders `vars` in order; each may read the ones before it.
    fn render_vars(&mut self, seed: u64) -> serde_json::Map<String, serde_json::Value> {
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

    fn base_url(
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

    fn string_with(&mut self, text: &Text, known: &Known) -> Option<Tpl> {
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

    fn json_with(&mut self, node: &Yaml, known: &Known) -> Option<JsonTpl> {
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

    fn note(&mut self, names: &[String]) {
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

    fn template_error(&mut self, span: Span, source: &str, e: &str) {
        self.r.error_help(
            code::TEMPLATE_SYNTAX,
            span,
            format!("in template `{source}`: {e}"),
            "templates use `{{ expression }}`; check the braces and quotes",
        );
    }

    fn string(&mut self, text: &Text) -> Option<Tpl> {
        let known = std::mem::take(&mut self.known);
        let t = self.string_with(text, &known);
        self.known = known;
        t
    }

    fn json(&mut self, node: &Yaml) -> Option<JsonTpl> {
        let known = std::mem::take(&mut self.known);
        let t = self.json_with(node, &known);
        self.known = known;
        t
    }

    fn expr(&mut self, text: &Text) -> Option<Expr> {
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

    /// Every local name the steps define, with where, following fragments.
    fn collect_locals(
        &self,
        steps: &[m::Step],
        out: &mut HashMap<String, Origin>,
        stack: &mut Vec<String>,
    ) {
        let add = |out: &mut HashMap<String, Origin>, name: &str, origin: Origin| {
            out.entry(name.to_string()).or_insert(origin);
        };
        for s in steps {
            let label = || match (&s.name, &s.kind) {
                (Some(n), _) => n.value.clone(),
                (None, m::StepKind::Http(h) | m::StepKind::Sse(h, _)) => {
                    format!("{} {}", h.method.as_str(), h.url.value)
                }
                (None, m::StepKind::WebSocket(_)) => "websocket".into(),
                (None, _) => "set".into(),
            };
            match &s.kind {
                m::StepKind::Http(h) | m::StepKind::Sse(h, _) => {
                    for c in &h.capture {
                        add(out, &c.name, Origin::Step(label()));
                    }
                }
                m::StepKind::WebSocket(w) => {
                    for a in &w.actions {
                        if let m::WsAction::Receive { capture, .. } = a {
                            for c in capture {
                                add(out, &c.name, Origin::Step(label()));
                            }
                        }
                    }
                }
                m::StepKind::Set(vars) => {
                    for (k, _) in vars {
                        add(out, k, Origin::Step(label()));
                    }
                }
                m::StepKind::ForEach { item, steps, .. } => {
                    self.collect_locals(steps, out, stack);
                    add(out, item, Origin::Loop);
                }
                m::StepKind::Group { steps, .. } | m::StepKind::Repeat { steps, .. } => {
                    self.collect_locals(steps, out, stack)
                }
                m::StepKind::Choose(branches) => {
                    for b in branches {
                        self.collect_locals(&b.steps, out, stack);
                    }
                }
                m::StepKind::Use { fragment, with } => {
                    if stack.contains(&fragment.value) {
                        continue;
                    }
                    if let Some(f) = self
                        .test
                        .fragments
                        .iter()
                        .find(|f| f.name == fragment.value)
                    {
                        stack.push(f.name.clone());
                        self.collect_locals(&f.steps, out, stack);
                        stack.pop();
                    }
                    for (k, _) in with {
                        add(out, k, Origin::Param(fragment.value.clone()));
                    }
                }
                m::StepKind::Think(_) => {}
            }
        }
    }

    /// Marks names as defined from here on, in the order steps run.
    fn define<'n>(&mut self, names: impl IntoIterator<Item = &'n str>) {
        if let Some(defined) = &mut self.known.defined {
            defined.extend(names.into_iter().map(str::to_string));
        }
    }

    /// Compiles branches that each start from what was defined before them
    /// (parallel steps, `choose`); afterwards, what any of them defined is
    /// taken as defined.
    fn branches<T>(&mut self, count: usize, mut each: impl FnMut(&mut Self, usize) -> T) -> Vec<T> {
        let before = self.known.defined.clone();
        let mut after = before.clone();
        let mut out = Vec::with_capacity(count);
        for i in 0..count {
            self.known.defined = before.clone();
            out.push(each(self, i));
            if let (Some(all), Some(this)) = (&mut after, &self.known.defined) {
                all.extend(this.iter().cloned());
            }
        }
        self.known.defined = after;
        out
    }

    /// A loop body runs again after its last step, so what the body defines
    /// counts as defined inside it (a name captured at the end of one round
    /// is read at the start of the next).
    fn loop_body(&mut self, steps: &[m::Step], item: Option<&str>, in_fragment: bool) -> Vec<Step> {
        let mut carried = HashMap::new();
        self.collect_locals(steps, &mut carried, &mut self.use_stack.clone());
        let outer = self.known.defined.clone();
        self.define(carried.keys().map(String::as_str));
        self.define(item);
        let body = self.steps_of(steps, in_fragment);
        if let (Some(defined), Some(item)) = (&mut self.known.defined, item) {
            if !outer.as_ref().is_some_and(|o| o.contains(item)) {
                defined.remove(item);
            }
        }
        body
    }

    /// A file of fragments only: each fragment is compiled once on its own,
    /// so its templates, JSONPaths and regexes are checked; the names it
    /// reads come from whoever includes it and are not checked.
    fn check_library(&mut self) {
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

    fn steps_of(&mut self, steps: &[m::Step], in_fragment: bool) -> Vec<Step> {
        steps
            .iter()
            .filter_map(|s| self.step(s, in_fragment))
            .collect()
    }

    fn step(&mut self, s: &m::Step, in_fragment: bool) -> Option<Step> {
        let outer_reads = std::mem::take(&mut self.reads);
        let step = self.step_inner(s, in_fragment);
        let reads = std::mem::replace(&mut self.reads, outer_reads);
        step.map(|mut step| {
            step.about.reads = reads;
            step
        })
    }

    fn step_inner(&mut self, s: &m::Step, in_fragment: bool) -> Option<Step> {
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
                    format!("{} {}", h.method.as_str(), h.url.value),
                    in_fragment,
                );
                if !self.in_parallel {
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
                    m::WsTarget::Url(u) => u.value.clone(),
                    m::WsTarget::Use(n) => n.value.clone(),
                };
                let label = self.label(s, format!("WS {what}"), in_fragment);
                if !self.in_parallel {
                    think_after = think_after.or(self.test.defaults.think);
                }
                let step = self.websocket(w, &label);
                (Node::WebSocket(Box::new(step?)), label)
            }
            m::StepKind::Sse(h, until) => {
                let label = self.label(s, format!("SSE {}", h.url.value), in_fragment);
                if !self.in_parallel {
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
                if *parallel && !outer {
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
            about: Box::new(About {
                what: what_of(s),
                when: s.when.as_ref().map(|w| w.value.clone()),
                reads: Vec::new(),
                writes: writes_of(s),
            }),
        })
    }

    /// The step's name, or a description; names given twice are an error,
    /// described ones get `#2`, `#3`.
    fn label(&mut self, s: &m::Step, fallback: String, in_fragment: bool) -> String {
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

    fn use_fragment(&mut self, fragment: &Text, with: &[(String, Yaml)]) -> Option<Node> {
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

    fn websocket(&mut self, w: &m::WebSocket, label: &str) -> Option<WsStep> {
        self.check_slos(&w.slo, SloScope::Stream);
        let id = self.steps.len();
        self.steps.push(StepInfo {
            scenario: self.scenario,
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
        // `defaults.headers` go on the handshake too; the step's own win.
        let mut headers: Vec<(String, Tpl)> = Vec::new();
        for (k, v) in self.test.defaults.headers.iter().chain(&w.headers) {
            let Some(t) = self.string(v) else { continue };
            let name = k.to_ascii_lowercase();
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
        Some(WsStep {
            id,
            target,
            headers,
            keep: w.keep,
            timeout,
            actions,
        })
    }

    /// Compiles a request (plain or streamed) and gives it its step id.
    fn request(&mut self, h: &m::Http, label: &str, kind: StepKindTag) -> Option<HttpStep> {
        let scope = if kind == StepKindTag::Sse {
            SloScope::Stream
        } else {
            SloScope::Request
        };
        self.check_slos(&h.slo, scope);
        let id = self.steps.len();
        self.steps.push(StepInfo {
            scenario: self.scenario,
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
            if let Err(e) = reqwest_header_ok(&name) {
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
        };
        let expect = self.expect(&h.expect);
        let captures = h.capture.iter().filter_map(|c| self.capture(c)).collect();
        let parsed_url = match (&url, &base) {
            (Tpl::Lit(full), None) => match url::Url::parse(full) {
                Ok(u) => Some(u),
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
        })
    }

    fn expect(&mut self, e: &m::Expect) -> Expect {
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

    fn jsonpath(&mut self, path: &Text) -> Option<jsonpath_rust::parser::model::JpQuery> {
        match jsonpath_rust::parser::parse_json_path(&path.value) {
            Ok(q) => Some(q),
            Err(e) => {
                let (problem, at) = super::jsonpath::explain(&path.value, &e);
                let help = if problem.contains('-') {
                    let name = problem.split('`').nth(1).unwrap_or_default();
                    format!("write it in brackets: `['{name}']` instead of `.{name}`")
                } else {
                    "e.g. `$.access_token`, `$.items[0].id`, `$.items[?@.price > 10].name`".into()
                };
                let span = self.r.source.within(path.span, at);
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

    fn regex(&mut self, text: &Text) -> Option<Regex> {
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

    fn matcher(&mut self, mm: &m::Matcher) -> Option<Matcher> {
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

    fn capture(&mut self, c: &m::Capture) -> Option<Capture> {
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

    fn check_slos(&mut self, slos: &[m::Slo], scope: SloScope) {
        for slo in slos {
            let allowed: &[SloMetric] = match scope {
                SloScope::Request => &[
                    SloMetric::Latency,
                    SloMetric::FirstByte,
                    SloMetric::ErrorRate,
                    SloMetric::Throughput,
                    SloMetric::Checks,
                ],
                SloScope::Stream => &[
                    SloMetric::Latency,
                    SloMetric::FirstByte,
                    SloMetric::Gap,
                    SloMetric::ErrorRate,
                    SloMetric::Throughput,
                    SloMetric::Checks,
                ],
                SloScope::Group => &[
                    SloMetric::Latency,
                    SloMetric::ErrorRate,
                    SloMetric::Throughput,
                ],
                SloScope::Scenario | SloScope::Test => &[
                    SloMetric::Latency,
                    SloMetric::FirstByte,
                    SloMetric::Iteration,
                    SloMetric::ErrorRate,
                    SloMetric::Throughput,
                    SloMetric::Checks,
                    SloMetric::Gap,
                    SloMetric::Dropped(DropUnit::Count),
                    SloMetric::Dropped(DropUnit::Share),
                    SloMetric::Dropped(DropUnit::PerSecond),
                ],
            };
            if slo.metric == SloMetric::Gap && !allowed.contains(&slo.metric) {
                self.r.error_help(
                    code::SLO_SCOPE,
                    slo.span,
                    format!(
                        "a {} has no `gap`: it measures the time between streamed events",
                        scope.name()
                    ),
                    "put it on an `sse` step, its scenario or the test",
                );
            } else if !allowed.contains(&slo.metric) {
                let mut names: Vec<&str> = allowed.iter().map(|m| m.key()).collect();
                names.dedup();
                self.r.error_help(
                    code::SLO_SCOPE,
                    slo.span,
                    format!(
                        "a {} cannot have an SLO on `{}`",
                        scope.name(),
                        slo.metric.key()
                    ),
                    format!("a {} takes: {}", scope.name(), names.join(", ")),
                );
            }
        }
    }
}

#[derive(Clone, Copy)]
enum SloScope {
    Request,
    Stream,
    Group,
    Scenario,
    Test,
}

impl SloScope {
    fn name(self) -> &'static str {
        match self {
            SloScope::Request => "request step",
            SloScope::Stream => "streaming step",
            SloScope::Group => "group",
            SloScope::Scenario => "scenario",
            SloScope::Test => "test",
        }
    }
}

/// The useful part of the JSONPath parser's message: what it expected, and
/// at which character.
fn reqwest_header_ok(name: &str) -> Result<(), String> {
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

/// A one-line description of what a step does, for `trek plan`.
fn what_of(s: &m::Step) -> String {
    match &s.kind {
        m::StepKind::Http(h) => format!("{} {}", h.method.as_str(), h.url.value),
        m::StepKind::Sse(h, _) => format!("SSE {} {}", h.method.as_str(), h.url.value),
        m::StepKind::WebSocket(w) => match &w.target {
            m::WsTarget::Url(u) => format!("WebSocket {}", u.value),
            m::WsTarget::Use(n) => format!("WebSocket on the connection of `{}`", n.value),
        },
        m::StepKind::Think(t) if t.min == t.max => format!("think {}", fmt_secs(t.min)),
        m::StepKind::Think(t) => format!("think {}..{}", fmt_secs(t.min), fmt_secs(t.max)),
        m::StepKind::Group { parallel, .. } if *parallel => "group, in parallel".into(),
        m::StepKind::Group { .. } => "group".into(),
        m::StepKind::Repeat { count, .. } => format!("repeat {}", count.value),
        m::StepKind::ForEach { list, item, .. } => format!("for_each {} as {item}", list.value),
        m::StepKind::Choose(branches) => {
            let weights: Vec<String> = branches.iter().map(|b| b.weight.to_string()).collect();
            format!("choose one, by weight {}", weights.join(" / "))
        }
        m::StepKind::Use { fragment, .. } => format!("use {}", fragment.value),
        m::StepKind::Set(_) => "set".into(),
    }
}

fn fmt_secs(d: std::time::Duration) -> String {
    crate::scenario::units::format_secs(d.as_secs_f64())
}

/// The names a step captures or sets (not those of the steps inside it).
fn writes_of(s: &m::Step) -> Vec<String> {
    match &s.kind {
        m::StepKind::Http(h) | m::StepKind::Sse(h, _) => {
            h.capture.iter().map(|c| c.name.clone()).collect()
        }
        m::StepKind::WebSocket(w) => w
            .actions
            .iter()
            .flat_map(|a| match a {
                m::WsAction::Receive { capture, .. } => {
                    capture.iter().map(|c| c.name.clone()).collect()
                }
                _ => Vec::new(),
            })
            .collect(),
        m::StepKind::Set(vars) => vars.iter().map(|(k, _)| k.clone()).collect(),
        m::StepKind::ForEach { item, .. } => vec![item.clone()],
        m::StepKind::Use { with, .. } => with.iter().map(|(k, _)| k.clone()).collect(),
        _ => Vec::new(),
    }
}
