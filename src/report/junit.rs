//! `junit.xml`: one test case per SLO, so CI systems show SLOs next to unit
//! tests. A failed SLO is a failure with its bound and measured value; a
//! warning passes with a note in `system-out`; an aborted run is an error.
//! `setup`, `teardown` and each scenario's `before` are test cases too: a
//! failed `setup` is the error that aborted the run; a `teardown` that did
//! not finish and retired users pass with a note (the SLOs judge them).

use std::fmt::Write;
use std::path::{Path, PathBuf};

use super::console::{bound, measured};
use super::results::Results;
use crate::verdict::Verdict;

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 does not allow.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            '\u{FFFE}' | '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// The text of `junit.xml`.
pub fn junit(r: &Results) -> String {
    let failures = r.slos.iter().filter(|s| s.verdict == Verdict::Fail).count();
    let aborted = usize::from(r.aborted_reason.is_some());
    let parts = lifecycle(r);
    let tests = r.slos.len() + aborted + parts.len();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"trek\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{aborted}\" time=\"{:.3}\">",
        r.duration_s
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{aborted}\" skipped=\"0\" time=\"{:.3}\" timestamp=\"{}\">",
        esc(&r.name),
        r.duration_s,
        esc(r.started_at.trim_end_matches('Z'))
    );
    out.push_str("    <properties>\n");
    for (k, v) in [
        ("file", r.file.clone()),
        ("seed", r.seed.to_string()),
        ("verdict", r.verdict.as_str().to_string()),
        ("trek_version", r.trek_version.clone()),
    ] {
        let _ = writeln!(out, "      <property name=\"{k}\" value=\"{}\"/>", esc(&v));
    }
    out.push_str("    </properties>\n");
    if let Some(reason) = &r.aborted_reason {
        let _ = writeln!(
            out,
            "    <testcase classname=\"trek.run\" name=\"run completed\" time=\"{:.3}\">\n      <error message=\"{}\" type=\"aborted\">the run was aborted: {}</error>\n    </testcase>",
            r.duration_s,
            esc(reason),
            esc(reason)
        );
    }
    for (name, note) in &parts {
        let _ = write!(
            out,
            "    <testcase classname=\"trek.lifecycle\" name=\"{}\" time=\"0\"",
            esc(name)
        );
        match note {
            Some(note) => {
                let _ = writeln!(
                    out,
                    ">\n      <system-out>{}</system-out>\n    </testcase>",
                    esc(note)
                );
            }
            None => out.push_str("/>\n"),
        }
    }
    for s in &r.slos {
        let metric = s.name();
        let measured = measured(s);
        let classname = format!("trek.slo.{}", s.scope.split(' ').next().unwrap_or("test"));
        let _ = write!(
            out,
            "    <testcase classname=\"{}\" name=\"{}: {}\" time=\"0\"",
            esc(&classname),
            esc(&s.scope),
            esc(&metric)
        );
        let detail = format!("bound {}, measured {measured}", bound(s));
        match s.verdict {
            Verdict::Fail | Verdict::Aborted => {
                let _ = writeln!(
                    out,
                    ">\n      <failure message=\"{}\" type=\"slo\">{} {metric}: {detail}</failure>\n    </testcase>",
                    esc(&detail),
                    esc(&s.scope)
                );
            }
            Verdict::Warn => {
                let _ = writeln!(
                    out,
                    ">\n      <system-out>warning: {} {metric} is over its target: {}</system-out>\n    </testcase>",
                    esc(&s.scope),
                    esc(&detail)
                );
            }
            Verdict::Pass | Verdict::Part => out.push_str("/>\n"),
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// The lifecycle parts of the test that ran, each with a note when it did
/// not go as planned. A failed `setup` is reported as the run's abort.
fn lifecycle(r: &Results) -> Vec<(String, Option<String>)> {
    let ran = |phase: &str, scenario: Option<&str>| {
        r.steps
            .iter()
            .any(|s| s.phase == phase && s.count > 0 && scenario.is_none_or(|n| s.scenario == n))
    };
    let mut out = Vec::new();
    if ran("setup", None) && r.aborted_reason.is_none() {
        out.push(("setup".to_string(), None));
    }
    for s in &r.scenarios {
        if ran("before", Some(&s.name)) {
            let note = (s.retired_users > 0).then(|| {
                format!(
                    "warning: {} user(s) retired, their `before` failed",
                    s.retired_users
                )
            });
            out.push((format!("before of scenario {}", s.name), note));
        }
    }
    if ran("teardown", None) || r.teardown_failure.is_some() {
        let note = r
            .teardown_failure
            .as_ref()
            .map(|why| format!("warning: teardown did not finish: {why}"));
        out.push(("teardown".to_string(), note));
    }
    out
}

pub fn write(dir: &Path, r: &Results) -> std::io::Result<PathBuf> {
    let path = dir.join("junit.xml");
    super::atomic::write(&path, junit(r))?;
    Ok(path)
}
