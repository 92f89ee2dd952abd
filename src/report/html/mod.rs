//! `report.html`: one self-contained page (styles, script and charts
//! inline; no request to any host when opened) with the verdict, what to
//! look at, the SLOs, sortable scenario and step tables, charts over time
//! per scenario, latency percentile curves, failure reasons with their first
//! example, the load generator's health, and the run's metadata.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use super::compare::{percent, show_with, Comparison};
use super::console::{bound, measured};
use super::recommend::{recommend, Level};
use super::results::Results;
use super::svg::{esc, line_chart, Series, Unit, XAxis, PALETTE};
use crate::format::format_secs;
use crate::format::value;
use crate::metrics::Stats;

const STYLE: &str = include_str!("style.css");
const SCRIPT: &str = include_str!("sort.js");

/// A number cell that sorts by its value.
fn num(v: f64, text: &str) -> String {
    format!(r#"<td class="num" data-v="{v}">{}</td>"#, esc(text))
}

fn secs(v: f64) -> String {
    num(v, &format_secs(v))
}

pub fn render(r: &Results, comparison: Option<&Comparison>) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{} · trek {}</title><style>{STYLE}</style></head><body><main>"#,
        esc(&r.name),
        r.verdict.as_str()
    );
    header(&mut out, r);
    cards(&mut out, r);
    recommendations(&mut out, r);
    if let Some(c) = comparison {
        comparison_section(&mut out, c);
    }
    slos(&mut out, r);
    scenarios(&mut out, r);
    steps(&mut out, r);
    timeline(&mut out, r);
    monitored(&mut out, r);
    distributions(&mut out, r);
    failures(&mut out, r);
    health(&mut out, r);
    parts(&mut out, r);
    metadata(&mut out, r);
    let _ = write!(
        out,
        r#"<footer>Made by trek {} from <code>results.json</code>; this page loads nothing from any other place.</footer></main><script>{SCRIPT}</script></body></html>"#,
        esc(&r.trek_version)
    );
    out.push('\n');
    out
}

fn header(out: &mut String, r: &Results) {
    let v = r.verdict.as_str();
    let _ = write!(
        out,
        r#"<header><span class="badge {v}" id="verdict">{v}</span><div><h1>{}</h1><div class="meta"><code>{}</code> · started {} · {} · seed {}</div></div></header>"#,
        esc(&r.name),
        esc(&r.file),
        esc(&r.started_at),
        format_secs(r.duration_s),
        r.seed
    );
    if let Some(d) = &r.description {
        let _ = write!(out, "<p>{}</p>", esc(d));
    }
    if let Some(reason) = &r.aborted_reason {
        let _ = write!(
            out,
            r#"<p class="verdict-fail">Aborted: {}</p>"#,
            esc(reason)
        );
    }
    if let Some(reason) = &r.stopped_by {
        let _ = write!(
            out,
            r#"<p class="verdict-fail">Stopped by an SLO: {}</p>"#,
            esc(reason)
        );
    }
    if let Some(why) = &r.teardown_failure {
        let _ = write!(
            out,
            r#"<p class="verdict-fail">Teardown did not finish: {}</p>"#,
            esc(why)
        );
    }
    if let Some(parts) = super::part::describe(r) {
        let _ = write!(out, r#"<p id="parts-line">{}</p>"#, esc(&parts));
    }
}

/// A merge's parts: what became of each, where it ran, how late it
/// started, what it sent and what its generator used.
fn parts(out: &mut String, r: &Results) {
    if r.parts.is_empty() {
        return;
    }
    out.push_str(r#"<h2 id="parts">Parts</h2><div class="scroll"><table class="sortable" id="parts-table"><thead><tr><th class="num">part</th><th>status</th><th>machine</th><th class="num">start lag</th><th class="num">offset</th><th class="num">requests</th><th class="num">failures</th><th class="num">duration</th><th class="num">peak CPU</th><th class="num">peak memory</th><th>note</th></tr></thead><tbody>"#);
    let count = r.parts.len();
    for p in &r.parts {
        let lag = p.start_lag_s.unwrap_or(f64::NAN);
        let lag_text = p
            .start_lag_s
            .map_or("–".to_string(), |l| format!("{:.1} ms", l * 1e3));
        let class = if p.is_merged() {
            ""
        } else {
            " class=\"verdict-fail\""
        };
        let note = p
            .reason
            .as_deref()
            .or(p.generator_warning.as_deref())
            .unwrap_or("");
        let _ = write!(
            out,
            "<tr{class}>{}<td>{}</td><td>{}</td>{}{}{}{}{}{}{}<td>{}</td></tr>",
            num(p.index as f64, &format!("{}/{count}", p.index)),
            esc(&p.status),
            esc(p.hostname.as_deref().unwrap_or("")),
            num(lag, &lag_text),
            num(p.offset_s, &format!("{:.1} ms", p.offset_s * 1e3)),
            num(p.requests as f64, &p.requests.to_string()),
            num(p.failures as f64, &p.failures.to_string()),
            secs(p.duration_s),
            num(p.peak_cpu_percent, &format!("{:.0}%", p.peak_cpu_percent)),
            num(
                p.peak_rss_bytes as f64,
                &format!("{:.0} MB", p.peak_rss_bytes as f64 / 1e6)
            ),
            esc(note)
        );
    }
    out.push_str("</tbody></table></div>");
}

fn cards(out: &mut String, r: &Results) {
    let t = &r.totals;
    let iterations: u64 = r.scenarios.iter().map(|s| s.iterations).sum();
    let dropped: u64 = r.scenarios.iter().map(|s| s.dropped).sum();
    let items = [
        ("requests", t.requests.to_string()),
        ("throughput", format!("{:.1}/s", t.throughput)),
        ("errors", value("error_rate", None, t.error_rate)),
        ("checks passed", value("checks", None, t.checks_rate)),
        ("p50", format_secs(t.latency.p50)),
        ("p95", format_secs(t.latency.p95)),
        ("p99", format_secs(t.latency.p99)),
        ("iterations", iterations.to_string()),
        ("dropped", dropped.to_string()),
    ];
    out.push_str(r#"<section class="cards">"#);
    for (k, v) in items {
        let _ = write!(
            out,
            r#"<div class="card"><div class="v">{}</div><div class="k">{k}</div></div>"#,
            esc(&v)
        );
    }
    out.push_str("</section>");
}

fn recommendations(out: &mut String, r: &Results) {
    let recs = recommend(r);
    out.push_str(r#"<h2 id="recommendations">What to look at</h2><ul class="recs">"#);
    if recs.is_empty() {
        out.push_str("<li>Nothing stands out: every SLO passed with room to spare.</li>");
    }
    for x in recs {
        let class = match x.level {
            Level::Problem => "problem",
            Level::Warning => "warning",
            Level::Note => "note",
        };
        let _ = write!(
            out,
            r#"<li class="{class}"><strong>{}</strong>: {}</li>"#,
            esc(&x.title),
            esc(&x.detail)
        );
    }
    out.push_str("</ul>");
}

fn comparison_section(out: &mut String, c: &Comparison) {
    let _ = write!(
        out,
        r#"<h2 id="comparison">Compared with the baseline</h2><p class="meta">Baseline <code>{}</code> ({}); {} regression{} beyond {}.</p>"#,
        esc(&c.base_file),
        esc(&c.base_started_at),
        c.regressions,
        if c.regressions == 1 { "" } else { "s" },
        esc(&c.thresholds.join(", "))
    );
    out.push_str(r#"<div class="scroll"><table class="sortable"><thead><tr><th>scenario</th><th>step</th><th>metric</th><th class="num">base</th><th class="num">new</th><th class="num">change</th></tr></thead><tbody>"#);
    for s in &c.steps {
        if s.changes.is_empty() {
            let what = if s.base.is_none() { "new step" } else { "gone" };
            let _ = write!(
                out,
                r#"<tr><td>{}</td><td>{}</td><td colspan="4">{what}</td></tr>"#,
                esc(&s.scenario),
                esc(&s.name)
            );
        }
        for ch in &s.changes {
            let class = if ch.regression.is_some() { "up" } else { "ok" };
            let _ = write!(
                out,
                r#"<tr><td>{}</td><td>{}</td><td>{}</td>{}{}<td class="num {class}" data-v="{}">{}</td></tr>"#,
                esc(&s.scenario),
                esc(&s.name),
                ch.metric.key(),
                num(ch.base, &show_with(ch.metric, ch.base, ch.base_interval)),
                num(ch.new, &show_with(ch.metric, ch.new, ch.new_interval)),
                ch.relative.unwrap_or(0.0),
                esc(&percent(ch))
            );
        }
    }
    out.push_str("</tbody></table></div>");
}

fn slos(out: &mut String, r: &Results) {
    out.push_str(r#"<h2 id="slos">SLOs</h2>"#);
    if r.slos.is_empty() {
        out.push_str(r#"<p class="meta">This test declares no SLO.</p>"#);
        return;
    }
    out.push_str(r#"<div class="scroll"><table class="sortable" id="slo-table"><thead><tr><th>scope</th><th>metric</th><th>bound</th><th class="num">measured</th><th>verdict</th></tr></thead><tbody>"#);
    for s in &r.slos {
        let metric = s.name();
        let measured = match s.value {
            Some(v) => num(v, &value(&s.metric, s.stat.as_deref(), v)),
            None => format!(r#"<td class="num" data-v="-1">{}</td>"#, esc(&measured(s))),
        };
        let v = s.verdict.as_str();
        let _ = write!(
            out,
            r#"<tr class="v-{v}"><td>{}</td><td>{}</td><td>{}</td>{measured}<td class="verdict-{v}">{v}</td></tr>"#,
            esc(&s.scope),
            esc(&metric),
            esc(&bound(s))
        );
    }
    out.push_str("</tbody></table></div>");
}

fn scenarios(out: &mut String, r: &Results) {
    out.push_str(r#"<h2 id="scenarios">Scenarios</h2><div class="scroll"><table class="sortable"><thead><tr><th>scenario</th><th>executor</th><th class="num">iterations</th><th class="num">failed</th><th class="num">interrupted</th><th class="num">dropped</th><th class="num">retired users</th><th class="num">iteration p50</th><th class="num">iteration p95</th><th class="num">iteration max</th></tr></thead><tbody>"#);
    for s in &r.scenarios {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td>{}{}{}{}{}{}{}{}</tr>",
            esc(&s.name),
            esc(&s.executor),
            num(s.iterations as f64, &s.iterations.to_string()),
            num(s.failed_iterations as f64, &s.failed_iterations.to_string()),
            num(s.interrupted as f64, &s.interrupted.to_string()),
            num(s.dropped as f64, &s.dropped.to_string()),
            num(s.retired_users as f64, &s.retired_users.to_string()),
            secs(s.iteration.p50),
            secs(s.iteration.p95),
            secs(s.iteration.max)
        );
    }
    out.push_str("</tbody></table></div>");
}

fn steps(out: &mut String, r: &Results) {
    out.push_str(r#"<h2 id="steps">Steps</h2><div class="scroll"><table class="sortable" id="step-table"><thead><tr><th>scenario</th><th>part</th><th>step</th><th>kind</th><th class="num">count</th><th class="num">failures</th><th class="num">errors</th><th class="num">p50</th><th class="num">p90</th><th class="num">p95</th><th class="num">p99</th><th class="num">max</th><th class="num">first byte p95</th></tr></thead><tbody>"#);
    for s in &r.steps {
        let l: &Stats = &s.latency;
        let rate = if s.count == 0 {
            0.0
        } else {
            s.failures as f64 / s.count as f64
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td>{}{}{}{}{}{}{}{}{}</tr>",
            esc(&s.scenario),
            esc(&s.phase),
            esc(&s.name),
            esc(&s.kind),
            num(s.count as f64, &s.count.to_string()),
            num(s.failures as f64, &s.failures.to_string()),
            num(rate, &value("error_rate", None, rate)),
            secs(l.p50),
            secs(l.p90),
            secs(l.p95),
            secs(l.p99),
            secs(l.max),
            secs(s.first_byte.p95)
        );
    }
    out.push_str("</tbody></table></div>");
}

fn scenario_names(r: &Results) -> Vec<String> {
    r.scenarios.iter().map(|s| s.name.clone()).collect()
}

fn timeline(out: &mut String, r: &Results) {
    out.push_str(r#"<h2 id="timeline">Over time</h2>"#);
    for name in scenario_names(r) {
        let points: Vec<_> = r.timeline.iter().filter(|p| p.scenario == name).collect();
        let at = |f: &dyn Fn(&crate::metrics::summary::TimelinePoint) -> f64| -> Vec<(f64, f64)> {
            points.iter().map(|p| (f64::from(p.second), f(p))).collect()
        };
        let series = |name: &str, color: usize, pts: Vec<(f64, f64)>| Series {
            name: name.into(),
            color: PALETTE[color % PALETTE.len()],
            points: pts,
        };
        let answered = |p: &crate::metrics::summary::TimelinePoint| p.requests > 0;
        let latency = |f: fn(&crate::metrics::summary::TimelinePoint) -> f64| -> Vec<(f64, f64)> {
            points
                .iter()
                .filter(|p| answered(p))
                .map(|p| (f64::from(p.second), f(p)))
                .collect()
        };
        let _ = write!(out, r#"<h3>{}</h3><div class="charts">"#, esc(&name));
        out.push_str(&line_chart(
            "Requests and errors per second",
            &[
                series("requests/s", 0, at(&|p| p.requests as f64)),
                series("errors/s", 1, at(&|p| p.failures as f64)),
            ],
            XAxis::Seconds,
            Unit::PerSecond,
        ));
        out.push_str(&line_chart(
            "Latency percentiles",
            &[
                series("p50", 2, latency(|p| p.p50)),
                series("p95", 3, latency(|p| p.p95)),
                series("p99", 1, latency(|p| p.p99)),
            ],
            XAxis::Seconds,
            Unit::Seconds,
        ));
        out.push_str(&line_chart(
            "Active virtual users",
            &[series("users", 4, at(&|p| p.active_vus as f64))],
            XAxis::Seconds,
            Unit::Count,
        ));
        out.push_str(&line_chart(
            "Iterations started and dropped per second",
            &[
                series("started", 5, at(&|p| p.iterations_started as f64)),
                series("dropped", 1, at(&|p| p.dropped as f64)),
            ],
            XAxis::Seconds,
            Unit::PerSecond,
        ));
        out.push_str("</div>");
    }
}

fn distributions(out: &mut String, r: &Results) {
    out.push_str(r#"<h2 id="distribution">Latency distribution</h2><p class="meta">Each step's latency at every percentile, from its HDR histogram; the tail (99%, 99.9%…) is spread out on a log scale.</p><div class="charts">"#);
    for name in scenario_names(r) {
        let series: Vec<Series> = r
            .steps
            .iter()
            .filter(|s| s.scenario == name && !s.distribution.is_empty())
            .enumerate()
            .map(|(i, s)| Series {
                name: s.name.clone(),
                color: PALETTE[i % PALETTE.len()],
                points: s.distribution.iter().map(|[p, v]| (*p, *v)).collect(),
            })
            .collect();
        out.push_str(&line_chart(
            &format!("{name}: latency by percentile"),
            &series,
            XAxis::Percentile,
            Unit::Seconds,
        ));
    }
    out.push_str("</div>");
}

fn failures(out: &mut String, r: &Results) {
    out.push_str(r#"<h2 id="failures">Failure reasons</h2>"#);
    let mut rows: Vec<_> = r
        .steps
        .iter()
        .flat_map(|s| s.failure_reasons.iter().map(move |(k, n)| (s, k, *n)))
        .collect();
    let could_not_run: Vec<_> = r
        .scenarios
        .iter()
        .flat_map(|s| s.errors.iter().map(move |(k, n)| (s, k, *n)))
        .collect();
    if !could_not_run.is_empty() {
        out.push_str(r#"<h3>Steps that could not run</h3><div class="scroll"><table><thead><tr><th>scenario</th><th>reason</th><th class="num">count</th></tr></thead><tbody>"#);
        for (s, reason, n) in could_not_run {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td>{}</tr>",
                esc(&s.name),
                esc(reason),
                num(n as f64, &n.to_string())
            );
        }
        out.push_str("</tbody></table></div>");
    }
    if rows.is_empty() {
        out.push_str(r#"<p class="meta">No request failed.</p>"#);
        return;
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.2));
    out.push_str(r#"<div class="scroll"><table class="sortable" id="failure-table"><thead><tr><th>scenario</th><th>step</th><th>reason</th><th class="num">count</th><th>first example</th></tr></thead><tbody>"#);
    for (s, reason, n) in rows {
        let example = s.failure_examples.get(reason).map_or(String::new(), |e| {
            let mut cell = esc(&e.message);
            if let Some(resp) = &e.response {
                let _ = write!(cell, r#"<pre class="example">{}</pre>"#, esc(resp));
            }
            cell
        });
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td>{}<td>{example}</td></tr>",
            esc(&s.scenario),
            esc(&s.name),
            esc(reason),
            num(n as f64, &n.to_string())
        );
    }
    out.push_str("</tbody></table></div>");
}

/// The target's monitored series, each under the load it was measured at.
fn monitored(out: &mut String, r: &Results) {
    if r.monitors.is_empty() {
        return;
    }
    out.push_str(r#"<h2 id="monitor">The target's own metrics</h2><p class="meta">Read from its Prometheus endpoints during the load (counters as a rate per second), under the load they were measured at; a break in a line is a second in which the endpoint did not answer.</p><div class="charts">"#);
    let mut load: std::collections::BTreeMap<u32, (f64, f64)> = Default::default();
    for p in &r.timeline {
        let e = load.entry(p.second).or_default();
        e.0 += p.requests as f64;
        e.1 += p.active_vus as f64;
    }
    out.push_str(&line_chart(
        "The load: requests per second",
        &[Series {
            name: "requests/s".into(),
            color: PALETTE[0],
            points: load.iter().map(|(s, v)| (f64::from(*s), v.0)).collect(),
        }],
        XAxis::Seconds,
        Unit::PerSecond,
    ));
    out.push_str(&line_chart(
        "The load: virtual users",
        &[Series {
            name: "users".into(),
            color: PALETTE[4],
            points: load.iter().map(|(s, v)| (f64::from(*s), v.1)).collect(),
        }],
        XAxis::Seconds,
        Unit::Count,
    ));
    for (i, m) in r.monitors.iter().enumerate() {
        let title = format!("{} · {} ({})", m.name, m.selector, m.monitor);
        let points = m
            .values
            .iter()
            .enumerate()
            .map(|(s, v)| (s as f64, v.unwrap_or(f64::NAN)))
            .collect();
        out.push_str(&line_chart(
            &title,
            &[Series {
                name: if m.counter {
                    format!("{} per second", m.name)
                } else {
                    m.name.clone()
                },
                color: PALETTE[(i + 2) % PALETTE.len()],
                points,
            }],
            XAxis::Seconds,
            if m.counter {
                Unit::PerSecond
            } else {
                Unit::Count
            },
        ));
    }
    out.push_str("</div>");
}

fn health(out: &mut String, r: &Results) {
    out.push_str(r#"<h2 id="health">Load generator</h2>"#);
    if let Some(w) = &r.generator_warning {
        let _ = write!(out, r#"<p class="verdict-fail">{}</p>"#, esc(w));
    } else {
        out.push_str(r#"<p class="meta">trek's own CPU stayed below 90% of what it may use: the timings are the target's, not the generator's.</p>"#);
    }
    let at = |f: &dyn Fn(&crate::metrics::health::HealthPoint) -> f64| -> Vec<(f64, f64)> {
        r.health
            .iter()
            .map(|h| (f64::from(h.second), f(h)))
            .collect()
    };
    out.push_str(r#"<div class="charts">"#);
    out.push_str(&line_chart(
        "CPU",
        &[
            Series {
                name: "trek, % of the cores it may use".into(),
                color: PALETTE[0],
                points: at(&|h| h.cpu_share * 100.0),
            },
            Series {
                name: "machine".into(),
                color: PALETTE[7],
                points: at(&|h| h.machine_cpu_percent),
            },
        ],
        XAxis::Seconds,
        Unit::Percent,
    ));
    out.push_str(&line_chart(
        "trek's memory",
        &[Series {
            name: "resident".into(),
            color: PALETTE[4],
            points: at(&|h| h.rss_bytes as f64 / 1_048_576.0),
        }],
        XAxis::Seconds,
        Unit::Megabytes,
    ));
    out.push_str("</div>");
}

fn metadata(out: &mut String, r: &Results) {
    let m = &r.machine;
    let rows = [
        ("file", r.file.clone()),
        ("command", r.command.clone()),
        ("seed", r.seed.to_string()),
        ("started", r.started_at.clone()),
        ("duration", format_secs(r.duration_s)),
        ("trek", r.trek_version.clone()),
        (
            "machine",
            format!(
                "{} · {} · {} CPUs ({} usable) · {:.1} GiB",
                m.hostname,
                m.os,
                m.cpus,
                m.usable_cpus,
                m.memory_bytes as f64 / 1_073_741_824.0
            ),
        ),
    ];
    out.push_str(r#"<h2 id="run">The run</h2><div class="scroll"><table><tbody>"#);
    for (k, v) in rows {
        let _ = write!(
            out,
            "<tr><th>{k}</th><td><code>{}</code></td></tr>",
            esc(&v)
        );
    }
    out.push_str("</tbody></table></div>");
}

pub fn write(dir: &Path, r: &Results, comparison: Option<&Comparison>) -> std::io::Result<PathBuf> {
    let path = dir.join("report.html");
    super::atomic::write(&path, render(r, comparison))?;
    Ok(path)
}
