//! `trek plan`: a compiled test drawn for a reviewer, as a text tree, a
//! Mermaid flowchart or a Graphviz graph. Each scenario shows its load and
//! SLOs, and its users' `before` and `after` apart from the iteration; the
//! test's `setup` comes first and its `teardown` last; each step shows what
//! it does, the variables it reads and writes, and its SLOs.

use std::fmt::Write;

use super::{Node, Plan, Step};
use crate::format::format_secs;
use crate::scenario::model::{Executor, Load, Slo, SloMetric};

/// How the plan is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Mermaid,
    Dot,
}

pub fn render(plan: &Plan, format: Format) -> String {
    match format {
        Format::Text => text(plan),
        Format::Mermaid => graph(plan).mermaid(),
        Format::Dot => graph(plan).dot(),
    }
}

/// `constant-vus: 20 users for 30s`, and so on.
pub fn load_text(load: &Load) -> String {
    let secs = |d: std::time::Duration| format_secs(d.as_secs_f64());
    let rate = |r: f64| {
        if r >= 1.0 || r == 0.0 {
            format!("{}/s", trim(r))
        } else {
            format!("{}/m", trim(r * 60.0))
        }
    };
    let body = match &load.executor {
        Executor::ConstantVus { vus, duration } => {
            format!("{vus} user{} for {}", plural(*vus), secs(*duration))
        }
        Executor::PerVuIterations {
            vus, iterations, ..
        } => format!(
            "{vus} user{} × {iterations} iteration{}",
            plural(*vus),
            plural(*iterations)
        ),
        Executor::SharedIterations {
            vus, iterations, ..
        } => format!(
            "{iterations} iteration{} shared by {vus} user{}",
            plural(*iterations),
            plural(*vus)
        ),
        Executor::RampingVus { start_vus, stages } => {
            let mut s = format!("{start_vus} user{}", plural(*start_vus));
            for st in stages {
                let _ = write!(s, " → {} over {}", st.target, secs(st.duration));
            }
            s
        }
        Executor::ConstantArrivalRate {
            rate: r,
            duration,
            max_vus,
        } => format!(
            "{} for {}{}",
            rate(*r),
            secs(*duration),
            max_vus
                .map(|m| format!(", at most {m} users"))
                .unwrap_or_default()
        ),
        Executor::RampingArrivalRate {
            start_rate,
            stages,
            max_vus,
        } => {
            let mut s = rate(*start_rate);
            for st in stages {
                let _ = write!(s, " → {} over {}", rate(st.target), secs(st.duration));
            }
            if let Some(m) = max_vus {
                let _ = write!(s, ", at most {m} users");
            }
            s
        }
    };
    format!("{}: {body}", load.executor.name())
}

/// `latency p95 ≤150ms / ≤2s`.
pub fn slo_text(slo: &Slo) -> String {
    let metric = slo.metric.key();
    let stat = match slo.metric {
        SloMetric::Dropped(unit) => Some(unit.key()),
        _ => slo.stat.map(|s| s.key()),
    };
    let value = |v| crate::format::value(metric, stat, v);
    let op = if slo.metric.higher_is_better() {
        "≥"
    } else {
        "≤"
    };
    let bound = match (slo.threshold.target, slo.threshold.critical) {
        (Some(t), Some(c)) => format!("{op}{} warn, {op}{} fail", value(t), value(c)),
        (Some(t), None) => format!("{op}{} warn", value(t)),
        (None, Some(c)) => format!("{op}{}", value(c)),
        (None, None) => "-".into(),
    };
    let mut live = String::new();
    if let Some(after) = slo.after {
        live.push_str(&format!(
            " after {}",
            crate::format::format_secs(after.as_secs_f64())
        ));
    }
    if slo.abort {
        live.push_str(", aborts");
    }
    let metric = match &slo.series {
        Some(series) => format!("{metric} {series}"),
        None => metric.to_string(),
    };
    match slo.stat {
        Some(s) => format!("{metric} {} {bound}{live}", s.key()),
        None => format!("{metric} {bound}{live}"),
    }
}

fn slos_text(slos: &[Slo]) -> String {
    slos.iter().map(slo_text).collect::<Vec<_>>().join("; ")
}

fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The SLOs of a measured step, if the node is one.
fn step_slos<'p>(plan: &'p Plan, node: &Node) -> &'p [Slo] {
    let id = match node {
        Node::Http(h) => h.id,
        Node::Sse(s) => s.request.id,
        Node::WebSocket(w) => w.id,
        Node::Group { id, .. } => *id,
        _ => return &[],
    };
    plan.steps.get(id).map_or(&[], |s| s.slo.as_slice())
}

fn children(node: &Node) -> Vec<(String, &[Step])> {
    match node {
        Node::Group { steps, .. } | Node::Repeat { steps, .. } | Node::ForEach { steps, .. } => {
            vec![(String::new(), steps.as_slice())]
        }
        Node::Fragment { steps, .. } => vec![(String::new(), steps.as_slice())],
        Node::Choose {
            cumulative,
            branches,
        } => {
            let total = cumulative.last().copied().unwrap_or(1.0);
            let mut before = 0.0;
            branches
                .iter()
                .zip(cumulative)
                .map(|(b, c)| {
                    let share = (c - before) / total * 100.0;
                    before = *c;
                    (format!("{}%", trim(share)), b.as_slice())
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// The step's name and what it does, or only what it does when the name
/// says no more (`repeat`, `GET /health`).
fn head(step: &Step, between: &str) -> String {
    let name = &*step.label;
    let what = &step.about.what;
    if what.starts_with(name) || name.starts_with(what.as_str()) {
        what.clone()
    } else {
        format!("{name}{between}{what}")
    }
}

/// Steps `trek plan` leaves out: the hidden step that sets a fragment's
/// `with` values (shown on the `use` step instead).
fn hidden(step: &Step) -> bool {
    step.about.what.is_empty()
}

fn text(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}  ({})", plan.name, plan.file);
    if !plan.slo.is_empty() {
        let _ = writeln!(out, "test SLOs: {}", slos_text(&plan.slo));
    }
    for m in &plan.monitors {
        let series: Vec<String> = m
            .series
            .iter()
            .map(|(name, selector)| format!("{name} = {selector}"))
            .collect();
        let _ = writeln!(
            out,
            "monitor {}: {} every {}: {}",
            m.name,
            crate::redact::hide_userinfo(m.url.to_string()),
            crate::format::format_secs(m.every.as_secs_f64()),
            series.join(", ")
        );
    }
    if plan.scenarios.is_empty() {
        out.push_str("fragments only: nothing runs from this file itself\n");
    }
    if !plan.setup.is_empty() {
        let _ = writeln!(
            out,
            "\nsetup  (once, before the load; its captures are setup.*)"
        );
        tree(&mut out, plan, &plan.setup, "  ");
    }
    for s in &plan.scenarios {
        let _ = writeln!(out, "\nscenario {}  ({})", s.name, load_text(&s.load));
        if !s.slo.is_empty() {
            let _ = writeln!(out, "  SLOs: {}", slos_text(&s.slo));
        }
        if s.before.is_empty() && s.after.is_empty() {
            tree(&mut out, plan, &s.steps, "  ");
            continue;
        }
        for (heading, steps) in [
            (
                "before  (once per user, kept for all its iterations)",
                &s.before,
            ),
            ("each iteration", &s.steps),
            ("after  (once per user)", &s.after),
        ] {
            if !steps.is_empty() {
                let _ = writeln!(out, "  {heading}");
                tree(&mut out, plan, steps, "    ");
            }
        }
    }
    if !plan.teardown.is_empty() {
        let _ = writeln!(out, "\nteardown  (once, after the load)");
        tree(&mut out, plan, &plan.teardown, "  ");
    }
    out
}

fn tree(out: &mut String, plan: &Plan, steps: &[Step], indent: &str) {
    let shown: Vec<&Step> = steps.iter().filter(|s| !hidden(s)).collect();
    for (i, step) in shown.iter().enumerate() {
        let last = i + 1 == shown.len();
        let (branch, rest) = if last {
            ("└─ ", "   ")
        } else {
            ("├─ ", "│  ")
        };
        let _ = writeln!(out, "{indent}{branch}{}", head(step, "  "));
        let detail_indent = format!("{indent}{rest}   ");
        let mut details = Vec::new();
        if let Some(w) = &step.about.when {
            details.push(format!("when {w}"));
        }
        if !step.about.reads.is_empty() {
            details.push(format!("reads {}", step.about.reads.join(", ")));
        }
        if !step.about.writes.is_empty() {
            details.push(format!("writes {}", step.about.writes.join(", ")));
        }
        let slos = step_slos(plan, &step.node);
        if !slos.is_empty() {
            details.push(format!("SLO {}", slos_text(slos)));
        }
        for d in details {
            let _ = writeln!(out, "{detail_indent}{d}");
        }
        let inner_indent = format!("{indent}{rest}");
        for (label, steps) in children(&step.node) {
            if !label.is_empty() {
                let _ = writeln!(out, "{inner_indent}· branch {label}");
            }
            tree(out, plan, steps, &inner_indent);
        }
    }
}

/// A flowchart: nodes, edges, and nested boxes (scenarios, groups,
/// fragments), printed as Mermaid or Graphviz.
#[derive(Default)]
struct Graph {
    nodes: Vec<(usize, String)>,
    edges: Vec<Edge>,
    top: Vec<Item>,
}

struct Edge {
    from: usize,
    to: usize,
    label: String,
    dotted: bool,
}

enum Item {
    Node(usize),
    Cluster(String, Vec<Item>),
}

fn graph(plan: &Plan) -> Graph {
    let mut g = Graph::default();
    // `setup` leads to every scenario; every scenario's end to `teardown`.
    let mut after_setup = Vec::new();
    if !plan.setup.is_empty() {
        let mut items = Vec::new();
        after_setup = g.chain(plan, &plan.setup, Vec::new(), &mut items);
        g.top
            .push(Item::Cluster("setup · once, before the load".into(), items));
    }
    let mut ends = Vec::new();
    for s in &plan.scenarios {
        let start = g.node(format!("{}\n{}", s.name, load_text(&s.load)));
        for p in &after_setup {
            g.edge(*p, start, "", false);
        }
        let mut items = vec![Item::Node(start)];
        let mut prev = vec![start];
        for (title, steps, items_of) in [
            ("before · once per user", &s.before, true),
            ("", &s.steps, false),
            ("after · once per user", &s.after, true),
        ] {
            if steps.is_empty() {
                continue;
            }
            if items_of {
                let mut inner = Vec::new();
                prev = g.chain(plan, steps, prev, &mut inner);
                items.push(Item::Cluster(title.into(), inner));
            } else {
                prev = g.chain(plan, steps, prev, &mut items);
            }
        }
        ends.extend(prev);
        let mut title = format!("scenario {}", s.name);
        if !s.slo.is_empty() {
            let _ = write!(title, " · SLO {}", slos_text(&s.slo));
        }
        g.top.push(Item::Cluster(title, items));
    }
    if !plan.teardown.is_empty() {
        let mut items = Vec::new();
        g.chain(plan, &plan.teardown, ends, &mut items);
        g.top.push(Item::Cluster(
            "teardown · once, after the load".into(),
            items,
        ));
    }
    g
}

impl Graph {
    fn node(&mut self, label: String) -> usize {
        let id = self.nodes.len();
        self.nodes.push((id, label));
        id
    }

    fn edge(&mut self, from: usize, to: usize, label: &str, dotted: bool) {
        self.edges.push(Edge {
            from,
            to,
            label: label.to_string(),
            dotted,
        });
    }

    /// Adds `steps` one after the other after `prev`; returns the nodes the
    /// next step follows.
    fn chain(
        &mut self,
        plan: &Plan,
        steps: &[Step],
        mut prev: Vec<usize>,
        items: &mut Vec<Item>,
    ) -> Vec<usize> {
        for step in steps.iter().filter(|s| !hidden(s)) {
            prev = self.step(plan, step, prev, items);
        }
        prev
    }

    fn step(
        &mut self,
        plan: &Plan,
        step: &Step,
        prev: Vec<usize>,
        items: &mut Vec<Item>,
    ) -> Vec<usize> {
        let mut label = head(step, "\n");
        if let Some(w) = &step.about.when {
            let _ = write!(label, "\nwhen {w}");
        }
        if !step.about.reads.is_empty() {
            let _ = write!(label, "\nreads {}", step.about.reads.join(", "));
        }
        if !step.about.writes.is_empty() {
            let _ = write!(label, "\nwrites {}", step.about.writes.join(", "));
        }
        let slos = step_slos(plan, &step.node);
        if !slos.is_empty() {
            let _ = write!(label, "\nSLO {}", slos_text(slos));
        }
        match &step.node {
            Node::Group {
                steps, parallel, ..
            } => {
                let head = self.node(label);
                for p in &prev {
                    self.edge(*p, head, "", false);
                }
                let mut inner = vec![Item::Node(head)];
                let exits = if *parallel {
                    let mut exits = Vec::new();
                    for s in steps.iter().filter(|s| !hidden(s)) {
                        exits.extend(self.step(plan, s, vec![head], &mut inner));
                    }
                    exits
                } else {
                    self.chain(plan, steps, vec![head], &mut inner)
                };
                items.push(Item::Cluster(step.label.to_string(), inner));
                exits
            }
            Node::Fragment { steps, .. } => {
                let mut inner = Vec::new();
                let exits = self.chain(plan, steps, prev, &mut inner);
                items.push(Item::Cluster(label, inner));
                exits
            }
            Node::Repeat { steps, .. } | Node::ForEach { steps, .. } => {
                let head = self.node(label);
                for p in &prev {
                    self.edge(*p, head, "", false);
                }
                items.push(Item::Node(head));
                let ends = self.chain(plan, steps, vec![head], items);
                for e in ends {
                    self.edge(e, head, "again", true);
                }
                vec![head]
            }
            Node::Choose { .. } => {
                let head = self.node(label);
                for p in &prev {
                    self.edge(*p, head, "", false);
                }
                items.push(Item::Node(head));
                let mut exits = Vec::new();
                for (share, steps) in children(&step.node) {
                    let before = self.edges.len();
                    let ends = self.chain(plan, steps, vec![head], items);
                    if let Some(e) = self.edges.get_mut(before) {
                        e.label = share;
                    }
                    exits.extend(ends);
                }
                exits
            }
            _ => {
                let id = self.node(label);
                for p in &prev {
                    self.edge(*p, id, "", false);
                }
                items.push(Item::Node(id));
                vec![id]
            }
        }
    }

    fn mermaid(&self) -> String {
        let mut out = String::from("flowchart TD\n");
        let mut cluster = 0;
        self.mermaid_items(&self.top, &mut out, 1, &mut cluster);
        for e in &self.edges {
            let arrow = if e.dotted { "-.->" } else { "-->" };
            if e.label.is_empty() {
                let _ = writeln!(out, "    n{} {arrow} n{}", e.from, e.to);
            } else {
                let _ = writeln!(
                    out,
                    "    n{} {arrow}|\"{}\"| n{}",
                    e.from,
                    mermaid_text(&e.label),
                    e.to
                );
            }
        }
        out
    }

    fn mermaid_items(&self, items: &[Item], out: &mut String, depth: usize, cluster: &mut usize) {
        let pad = "    ".repeat(depth);
        for item in items {
            match item {
                Item::Node(id) => {
                    let label = &self.nodes[*id].1;
                    let _ = writeln!(out, "{pad}n{id}[\"{}\"]", mermaid_text(label));
                }
                Item::Cluster(title, inner) => {
                    *cluster += 1;
                    let _ = writeln!(out, "{pad}subgraph c{cluster}[\"{}\"]", mermaid_text(title));
                    self.mermaid_items(inner, out, depth + 1, cluster);
                    let _ = writeln!(out, "{pad}end");
                }
            }
        }
    }

    fn dot(&self) -> String {
        let mut out = String::from(
            "digraph trek {\n    rankdir=TB;\n    node [shape=box, style=rounded, fontname=\"Helvetica\"];\n",
        );
        let mut cluster = 0;
        self.dot_items(&self.top, &mut out, 1, &mut cluster);
        for e in &self.edges {
            let mut attrs = Vec::new();
            if e.dotted {
                attrs.push("style=dashed".to_string());
            }
            if !e.label.is_empty() {
                attrs.push(format!("label=\"{}\"", dot_text(&e.label)));
            }
            let attrs = if attrs.is_empty() {
                String::new()
            } else {
                format!(" [{}]", attrs.join(", "))
            };
            let _ = writeln!(out, "    n{} -> n{}{attrs};", e.from, e.to);
        }
        out.push_str("}\n");
        out
    }

    fn dot_items(&self, items: &[Item], out: &mut String, depth: usize, cluster: &mut usize) {
        let pad = "    ".repeat(depth);
        for item in items {
            match item {
                Item::Node(id) => {
                    let label = &self.nodes[*id].1;
                    let _ = writeln!(out, "{pad}n{id} [label=\"{}\"];", dot_text(label));
                }
                Item::Cluster(title, inner) => {
                    *cluster += 1;
                    let _ = writeln!(out, "{pad}subgraph cluster_{cluster} {{");
                    let _ = writeln!(out, "{pad}    label=\"{}\";", dot_text(title));
                    self.dot_items(inner, out, depth + 1, cluster);
                    let _ = writeln!(out, "{pad}}}");
                }
            }
        }
    }
}

/// Text inside a quoted Mermaid label: quotes become entities, new lines
/// `<br/>`.
fn mermaid_text(s: &str) -> String {
    s.replace('"', "#quot;").replace('\n', "<br/>")
}

/// Text inside a quoted Graphviz label.
fn dot_text(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
