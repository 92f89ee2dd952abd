//! The end-of-run summary on the terminal: a table of steps per scenario
//! (with its users' `before` and `after`), `setup` and `teardown`, failure
//! reasons, the SLO table and the verdict, coloured on a terminal.

use std::fmt::Write as _;

use super::results::{Results, StepResult};
use crate::format::format_secs;
use crate::format::{percent, value};
use crate::verdict::{SloResult, Verdict};

pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn verdict(&self, v: Verdict) -> String {
        let code = match v {
            Verdict::Pass => "32",
            Verdict::Warn => "33",
            Verdict::Fail | Verdict::Aborted => "31",
            Verdict::Part => "36",
        };
        self.paint(code, v.as_str())
    }

    fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
}

/// Renders the whole summary.
pub fn render(r: &Results, style: &Style) -> String {
    let mut out = String::new();
    let t = &r.totals;
    let _ = writeln!(
        out,
        "\n{}  ·  {}  ·  {} requests  ·  {:.1} req/s  ·  {} errors  ·  checks {}",
        style.bold(&r.name),
        format_secs(r.duration_s),
        t.requests,
        t.throughput,
        percent(t.error_rate),
        percent(t.checks_rate),
    );
    if let Some(parts) = super::part::describe(r) {
        let _ = writeln!(out, "{}", style.dim(&parts));
    }
    once_part(&mut out, r, "setup", "once, before the load", style);
    for s in &r.scenarios {
        let _ = writeln!(
            out,
            "\n{} {}  {}  {} iterations ({} failed, {} interrupted{})  iteration p95 {}",
            style.bold("scenario"),
            style.bold(&s.name),
            style.dim(&s.executor),
            s.iterations,
            s.failed_iterations,
            s.interrupted,
            if s.executor.ends_with("arrival-rate") {
                format!(", {} dropped", s.dropped)
            } else {
                String::new()
            },
            format_secs(s.iteration.p95),
        );
        if s.retired_users > 0 {
            let _ = writeln!(
                out,
                "  {}",
                style.paint(
                    "31",
                    &format!(
                        "{} user{} retired: their `before` failed (see below)",
                        s.retired_users,
                        if s.retired_users == 1 { "" } else { "s" }
                    )
                )
            );
        }
        if let Some(feeder) = &s.exhausted {
            let _ = writeln!(
                out,
                "  {}",
                style.dim(&format!(
                    "ended when the rows of `{feeder}` ran out (order: unique)"
                ))
            );
        }
        let steps: Vec<_> = r
            .steps
            .iter()
            .filter(|st| {
                st.scenario == s.name && !matches!(st.phase.as_str(), "setup" | "teardown")
            })
            .collect();
        step_table(&mut out, &steps, style);
        for (reason, n) in &s.errors {
            let _ = writeln!(
                out,
                "  {} {reason} {}",
                style.paint("31", "✗"),
                style.dim(&format!("× {n}"))
            );
        }
    }
    once_part(&mut out, r, "teardown", "once, after the load", style);
    if let Some(why) = &r.teardown_failure {
        let _ = writeln!(
            out,
            "  {} teardown did not finish: {why}",
            style.paint("31", "✗")
        );
    }
    if !r.monitors.is_empty() {
        let _ = writeln!(out, "\n{}", style.bold("the target's metrics"));
        let name_w = r
            .monitors
            .iter()
            .map(|m| m.name.chars().count())
            .max()
            .unwrap_or(4)
            .max(4);
        for m in &r.monitors {
            let show = |v: Option<f64>| match v {
                Some(v) if m.counter => format!("{}/s", crate::format::number(v)),
                Some(v) => crate::format::number(v),
                None => "-".into(),
            };
            let seen = m.values.iter().flatten().count();
            let _ = writeln!(
                out,
                "  {:<name_w$}  avg {:>10}  p95 {:>10}  max {:>10}  {}",
                m.name,
                show(m.avg),
                show(m.p95),
                show(m.max),
                style.dim(&format!(
                    "{} of {} s · {}",
                    seen,
                    m.values.len(),
                    m.selector
                )),
            );
        }
    }
    if !r.slos.is_empty() {
        let metric_w = r
            .slos
            .iter()
            .map(|s| s.name().chars().count())
            .max()
            .unwrap_or(17)
            .max(17);
        let _ = writeln!(out, "\n{}", style.bold("SLOs"));
        let scope_w = r
            .slos
            .iter()
            .map(|s| s.scope.chars().count())
            .max()
            .unwrap_or(5)
            .clamp(5, 56);
        let _ = writeln!(
            out,
            "  {}",
            style.dim(&format!(
                "{:<scope_w$}  {:<metric_w$}  {:<22}  {:>10}  verdict",
                "scope", "metric", "bound", "measured"
            ))
        );
        for s in &r.slos {
            let metric = s.name();
            let _ = writeln!(
                out,
                "  {:<scope_w$}  {:<metric_w$}  {:<22}  {:>10}  {}{}",
                truncate(&s.scope, scope_w),
                metric,
                bound(s),
                measured(s),
                style.verdict(s.verdict),
                s.note
                    .as_deref()
                    .filter(|n| s.value.is_some() || *n != crate::verdict::NO_DATA)
                    .map(|n| style.dim(&format!("  ({n})")))
                    .unwrap_or_default(),
            );
        }
    }
    if let Some(w) = &r.generator_warning {
        let _ = writeln!(out, "\n{} {w}", style.bold("warning:"));
    }
    for w in &r.warnings {
        let _ = writeln!(out, "\n{} {w}", style.bold("warning:"));
    }
    let _ = writeln!(out);
    let _ = write!(
        out,
        "{} {}",
        style.bold("verdict:"),
        style.verdict(r.verdict)
    );
    if let Some(reason) = &r.aborted_reason {
        let _ = write!(out, "  ({reason})");
    }
    if let Some(reason) = &r.stopped_by {
        let _ = write!(out, "  (stopped: {reason})");
    }
    let _ = writeln!(out);
    out
}

/// The steps of `setup` or `teardown`, when the test has any.
fn once_part(out: &mut String, r: &Results, phase: &str, when: &str, style: &Style) {
    let steps: Vec<_> = r.steps.iter().filter(|st| st.phase == phase).collect();
    if steps.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{}  {}", style.bold(phase), style.dim(when));
    step_table(out, &steps, style);
}

/// A table of steps with their failure reasons. A scenario's `before` and
/// `after` steps are set apart under their own headings.
fn step_table(out: &mut String, steps: &[&StepResult], style: &Style) {
    let width = steps
        .iter()
        .map(|st| st.name.chars().count() + 2)
        .max()
        .unwrap_or(4)
        .clamp(4, 48);
    let _ = writeln!(
        out,
        "  {}",
        style.dim(&format!(
            "{:<width$}  {:>7}  {:>6}  {:>9}  {:>9}  {:>9}  {:>9}",
            "step", "count", "fail", "p50", "p95", "p99", "max"
        ))
    );
    let parted = steps
        .iter()
        .any(|st| matches!(st.phase.as_str(), "before" | "after"));
    let mut phase = "";
    for st in steps {
        if parted && st.phase != phase {
            phase = &st.phase;
            let heading = match phase {
                "before" => "before · once per user",
                "after" => "after · once per user",
                _ => "each iteration",
            };
            let _ = writeln!(out, "  {}", style.dim(heading));
        }
        let indent = if parted { "  " } else { "" };
        let name = if st.kind == "group" {
            format!("{indent}[{}]", st.name)
        } else {
            format!("{indent}{}", st.name)
        };
        let fails = if st.failures > 0 {
            style.paint("31", &format!("{:>6}", st.failures))
        } else {
            format!("{:>6}", 0)
        };
        let time = |v: f64| {
            if st.latency.count == 0 {
                "-".to_string()
            } else {
                format_secs(v)
            }
        };
        let _ = writeln!(
            out,
            "  {:<width$}  {:>7}  {fails}  {:>9}  {:>9}  {:>9}  {:>9}",
            truncate(&name, width),
            st.count,
            time(st.latency.p50),
            time(st.latency.p95),
            time(st.latency.p99),
            time(st.latency.max),
        );
        let mut reasons: Vec<_> = st.failure_reasons.iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(a.1));
        for (reason, n) in reasons.into_iter().take(5) {
            let _ = writeln!(
                out,
                "      {} {reason} {}",
                style.paint("31", "✗"),
                style.dim(&format!("× {n}"))
            );
        }
    }
}

/// `s`, cut to `width` characters with an ellipsis.
pub fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(width - 1).collect::<String>())
    }
}

/// The measured value of an SLO, or why there is none ("no data").
pub fn measured(s: &SloResult) -> String {
    match (s.value, s.note.as_deref()) {
        (Some(v), _) => value(&s.metric, s.stat.as_deref(), v),
        (None, Some(crate::verdict::NOT_JUDGED_SMOKE)) => "-".into(),
        (None, _) => crate::verdict::NO_DATA.into(),
    }
}

/// `≤150ms warn, ≤200ms fail` style description of the bounds.
pub fn bound(s: &SloResult) -> String {
    let v = |x| value(&s.metric, s.stat.as_deref(), x);
    let op = if crate::verdict::higher_is_better(&s.metric) {
        "≥"
    } else {
        "≤"
    };
    match (s.target, s.critical) {
        (Some(t), Some(c)) => format!("{op}{} / {op}{}", v(t), v(c)),
        (Some(t), None) => format!("{op}{} (target)", v(t)),
        (None, Some(c)) => format!("{op}{}", v(c)),
        (None, None) => "-".into(),
    }
}
