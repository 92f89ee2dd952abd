//! Model → plan: renders `vars` once, resolves the base URL, inlines
//! fragments, gives every measured step its id, compiles every template,
//! JSONPath and regex, and checks the names templates read and where SLOs
//! are put. Every problem becomes a diagnostic at its line and column.
//!
//! One file per thing compiled: `vars`, `templates` (with `names`, the
//! check of what a template reads, and `defined`, which names exist where),
//! `steps` (and fragments), `http`, `websocket`, `expect` (checks and
//! captures, with `jsonpath`, a refused path explained), `slo` (where SLOs
//! may sit).

mod defined;
mod expect;
mod http;
mod jsonpath;
mod lifecycle;
mod monitor;
mod names;
mod net;
pub use net::guess_type;
mod slo;
mod steps;
mod templates;
mod vars;
mod websocket;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use minijinja::value::Value;
use regex::Regex;

use super::*;
use crate::diagnostic::{suggest, Diagnostic, Diagnostics, Span};
use crate::scenario::model::{self as m, DropUnit, SloMetric, Test, Text};
use crate::scenario::reader::{code, Reader};
use crate::scenario::yaml::Node as Yaml;
use crate::template::scope::Scope;
use crate::template::Compiler;
use names::{check_names, Known, Origin};
use slo::SloScope;

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
    let mut files = Vec::new();
    let plan = {
        let mut r = Reader {
            source: test.source.clone(),
            diags: &mut diags,
            files: &mut files,
        };
        Compile {
            r: &mut r,
            tpl: Compiler::new(),
            test,
            known: Known::default(),
            base: None,
            steps: Vec::new(),
            scenario: None,
            phase: Phase::Iteration,
            labels: HashMap::new(),
            use_stack: Vec::new(),
            depth: 0,
            read_roots: HashSet::new(),
            in_parallel: false,
            kept: HashSet::new(),
            shape_errors: options.maybe_defined.is_some(),
            reads: Vec::new(),
            links: Vec::new(),
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
    /// The scenario being compiled (`None`: setup or teardown), and which
    /// part of it.
    scenario: Option<usize>,
    phase: Phase,
    /// Label → times seen, in the current scenario.
    labels: HashMap<String, u32>,
    /// Fragments being inlined, to catch a fragment that uses itself.
    use_stack: Vec<String>,
    /// How many steps hold the one being compiled (groups, repeats,
    /// fragments inside one another).
    depth: usize,
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
    /// The distinct links steps use (the defaults' first).
    links: Vec<Link>,
}

impl Compile<'_, '_, '_> {
    fn run(mut self, options: &Options) -> Plan {
        let test = self.test;
        self.default_link();
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
                per: f.per,
                at: format!(
                    "{}:{}:{}",
                    test.source.path.display(),
                    f.span.line,
                    f.span.col
                ),
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
                (f.name.clone(), cols, f.per)
            })
            .collect();
        let vars_value = Value::from_serialize(&vars);
        let setup = self.setup();
        let mut scenarios = Vec::new();
        for (i, s) in test.scenarios.iter().enumerate() {
            let [before, steps, after] = self.scenario_phases(i, s);
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
                before,
                steps,
                after,
                slo: s.slo.clone(),
                weight: s.weight,
                feeders: uses,
            });
        }
        let teardown = self.teardown();
        self.check_slos(&test.slo, SloScope::Test);
        self.check_monitor_slos();
        let monitors = self.monitors();
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
            setup,
            teardown,
            scenarios,
            steps: self.steps,
            slo: test.slo.clone(),
            follow_redirects: test.defaults.follow_redirects,
            links: self.links,
            monitors,
        }
    }

    /// Whether any SLO is declared: for the test, a scenario or a step.
    fn declares_slo(&self) -> bool {
        !self.test.slo.is_empty()
            || self.test.scenarios.iter().any(|s| !s.slo.is_empty())
            || self.steps.iter().any(|s| !s.slo.is_empty())
    }
}

/// Compiling YAML text, for the unit tests of each part of the compiler.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// The plan of `yaml`, or every error (warnings are dropped).
    pub fn compiled(yaml: &str) -> Result<Plan, Vec<Diagnostic>> {
        compiled_with(yaml, &Options::default())
    }

    pub fn compiled_with(yaml: &str, options: &Options) -> Result<Plan, Vec<Diagnostic>> {
        let (test, diags) = crate::scenario::load_str(std::path::Path::new("t.yaml"), yaml.into());
        let errors: Vec<Diagnostic> = diags.into_iter().filter(Diagnostic::is_error).collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        compile(&test.expect("a model"), options).map(|(plan, _)| plan)
    }

    /// The codes and lines of the errors of `yaml` (which must not compile).
    pub fn errors(yaml: &str) -> Vec<(&'static str, u32, String)> {
        match compiled(yaml) {
            Ok(_) => panic!("compiled: {yaml}"),
            Err(e) => e
                .into_iter()
                .map(|d| (d.code, d.span.line, d.message))
                .collect(),
        }
    }

    /// The HTTP step `n` (in order) of the first scenario, looking inside
    /// groups and fragments.
    pub fn http(plan: &Plan, n: usize) -> &HttpStep {
        fn all<'p>(steps: &'p [Step], out: &mut Vec<&'p HttpStep>) {
            for s in steps {
                match &s.node {
                    Node::Http(h) => out.push(h),
                    Node::Group { steps, .. }
                    | Node::Fragment { steps, .. }
                    | Node::Repeat { steps, .. }
                    | Node::ForEach { steps, .. } => all(steps, out),
                    _ => {}
                }
            }
        }
        let mut out = Vec::new();
        all(&plan.scenarios[0].steps, &mut out);
        out[n]
    }
}
