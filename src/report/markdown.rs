//! `summary.md`: a compact summary for pull-request comments and CI step
//! summaries: the verdict, the SLO table, the steps, what to look at, and
//! the top regressions when a baseline was given.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use super::compare::{percent, percent_only, show_with, Comparison};
use super::console::{bound, measured};
use super::recommend::{recommend, Level};
use super::results::Results;
use crate::format::format_secs;
use crate::format::value;
use crate::verdict::Verdict;

fn icon(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "✅",
        Verdict::Warn => "⚠️",
        Verdict::Fail => "❌",
        Verdict::Aborted => "⛔",
        Verdict::Part => "🧩",
    }
}

/// Text safe in a Markdown table cell (and in a pull-request comment): no
/// HTML, no image or link syntax, no table breaks.
fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            '|' | '[' | ']' | '(' | ')' | '!' | '`' | '*' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

pub fn summary(r: &Results, comparison: Option<&Comparison>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## {} trek: {} — {}\n",
        icon(r.verdict),
        r.verdict.as_str(),
        cell(&r.name)
    );
    let t = &r.totals;
    let _ = writeln!(
        out,
        "{} · {} · {} requests · {:.1} req/s · {} errors · checks {} · p95 {} · seed {}",
        cell(&r.file),
        format_secs(r.duration_s),
        t.requests,
        t.throughput,
        value("error_rate", None, t.error_rate),
        value("checks", None, t.checks_rate),
        format_secs(t.latency.p95),
        r.seed
    );
    if let Some(reason) = &r.aborted_reason {
        let _ = writeln!(out, "\n**Aborted:** {}", cell(reason));
    }
    if let Some(reason) = &r.stopped_by {
        let _ = writeln!(out, "\n**Stopped by an SLO:** {}", cell(reason));
    }
    if let Some(parts) = super::part::describe(r) {
        let _ = writeln!(out, "\n**Parts:** {}", cell(&parts));
    }
    if let Some(w) = &r.generator_warning {
        let _ = writeln!(out, "\n**Warning:** {}", cell(w));
    }
    for w in &r.warnings {
        let _ = writeln!(out, "\n**Warning:** {}", cell(w));
    }
    if let Some(why) = &r.teardown_failure {
        let _ = writeln!(out, "\n**Teardown did not finish:** {}", cell(why));
    }
    for s in r.scenarios.iter().filter(|s| s.retired_users > 0) {
        let _ = writeln!(
            out,
            "\n**Retired users:** {} of scenario {}: their `before` failed.",
            s.retired_users,
            cell(&s.name)
        );
    }
    if !r.slos.is_empty() {
        out.push_str("\n| SLO | bound | measured | verdict |\n|---|---|---|---|\n");
        for s in &r.slos {
            let metric = s.name();
            let note = s
                .note
                .as_deref()
                .filter(|n| s.value.is_some() || *n != crate::verdict::NO_DATA)
                .map(|n| format!(" ({})", cell(n)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "| {} {} | {} | {} | {} {}{note} |",
                cell(&s.scope),
                metric,
                cell(&bound(s)),
                measured(s),
                icon(s.verdict),
                s.verdict.as_str()
            );
        }
    }
    if let Some(c) = comparison {
        comparison_section(&mut out, c);
    }
    let recs: Vec<_> = recommend(r)
        .into_iter()
        .filter(|x| x.level != Level::Note)
        .take(5)
        .collect();
    if !recs.is_empty() {
        out.push_str("\n**Look at:**\n\n");
        for x in recs {
            let _ = writeln!(out, "- **{}**: {}", cell(&x.title), cell(&x.detail));
        }
    }
    out.push_str("\n<details><summary>Steps</summary>\n\n");
    out.push_str("| scenario | part | step | count | failures | p50 | p95 | p99 | max |\n|---|---|---|---:|---:|---:|---:|---:|---:|\n");
    for s in &r.steps {
        let l = &s.latency;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&s.scenario),
            s.phase,
            cell(&s.name),
            s.count,
            s.failures,
            format_secs(l.p50),
            format_secs(l.p95),
            format_secs(l.p99),
            format_secs(l.max)
        );
    }
    out.push_str("\n</details>\n");
    out
}

fn comparison_section(out: &mut String, c: &Comparison) {
    let regressed = c.regressed();
    let _ = writeln!(
        out,
        "\n**Compared with** {} ({}): {} regression{} beyond {}.",
        cell(&c.base_file),
        c.base_started_at,
        c.regressions,
        if c.regressions == 1 { "" } else { "s" },
        c.thresholds.join(", ")
    );
    let dismissed: Vec<String> = c
        .steps
        .iter()
        .flat_map(|s| {
            s.changes
                .iter()
                .filter(|ch| ch.not_significant.is_some())
                .map(move |ch| {
                    format!(
                        "{}/{} {} {}",
                        cell(&s.scenario),
                        cell(&s.name),
                        ch.metric.key(),
                        percent_only(ch)
                    )
                })
        })
        .collect();
    if !dismissed.is_empty() {
        let _ = writeln!(
            out,
            "\nBeyond a threshold but not significant (the runs' 95% confidence intervals overlap): {}.",
            dismissed[..dismissed.len().min(10)].join(", ")
        );
    }
    if regressed.is_empty() {
        return;
    }
    out.push_str("\n| step | metric | base | new | change |\n|---|---|---:|---:|---:|\n");
    for s in regressed.iter().take(10) {
        for ch in s.regressions() {
            let _ = writeln!(
                out,
                "| {}/{} | {} | {} | {} | **{}** |",
                cell(&s.scenario),
                cell(&s.name),
                ch.metric.key(),
                show_with(ch.metric, ch.base, ch.base_interval),
                show_with(ch.metric, ch.new, ch.new_interval),
                percent(ch)
            );
        }
    }
}

pub fn write(dir: &Path, r: &Results, comparison: Option<&Comparison>) -> std::io::Result<PathBuf> {
    let path = dir.join("summary.md");
    super::atomic::write(&path, summary(r, comparison))?;
    Ok(path)
}
