//! `junit.xml`: one test case per SLO, so CI systems show SLOs next to unit
//! tests. A failed SLO is a failure with its bound and measured value; a
//! warning passes with a note in `system-out`; an aborted run is an error.

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
    let tests = r.slos.len() + aborted;
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
    for s in &r.slos {
        let metric = match &s.stat {
            Some(stat) => format!("{} {stat}", s.metric),
            None => s.metric.clone(),
        };
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
            Verdict::Pass => out.push_str("/>\n"),
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

pub fn write(dir: &Path, r: &Results) -> std::io::Result<PathBuf> {
    let path = dir.join("junit.xml");
    std::fs::write(&path, junit(r))?;
    Ok(path)
}
