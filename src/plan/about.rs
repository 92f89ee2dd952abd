//! What `trek plan` shows of each step (what it does, the names it reads
//! and writes), taken from the model when the step is compiled and never
//! read while running.

use crate::scenario::model as m;

/// What `trek plan` shows of a step: what it does, and the variables it
/// reads and writes.
#[derive(Debug, Default)]
pub struct About {
    /// `POST /api/auth/login`, `repeat 3`, `use login`…
    pub what: String,
    /// The `when` condition's source, if any.
    pub when: Option<String>,
    /// Names its templates read (test variables, feeder columns, locals).
    pub reads: Vec<String>,
    /// Names it captures or sets.
    pub writes: Vec<String>,
}

impl About {
    /// What the model says of `s`; `reads` is filled in by the compiler
    /// from the names its templates read.
    pub fn of(s: &m::Step) -> Self {
        Self {
            what: what_of(s),
            when: s.when.as_ref().map(|w| w.value.clone()),
            reads: Vec::new(),
            writes: writes_of(s),
        }
    }
}

/// A one-line description of what a step does, for `trek plan`.
fn what_of(s: &m::Step) -> String {
    match &s.kind {
        m::StepKind::Http(h) => format!("{} {}", h.method.as_str(), hide(&h.url.value)),
        m::StepKind::Sse(h, _) => format!("SSE {} {}", h.method.as_str(), hide(&h.url.value)),
        m::StepKind::WebSocket(w) => match &w.target {
            m::WsTarget::Url(u) => format!("WebSocket {}", hide(&u.value)),
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

/// A URL as `trek plan` shows it: no user information, no secret query
/// parameter's value.
fn hide(url: &str) -> String {
    crate::redact::hide_url_secrets(url)
}

fn fmt_secs(d: std::time::Duration) -> String {
    crate::format::format_secs(d.as_secs_f64())
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

#[cfg(test)]
mod tests {
    use super::super::compile::testing::compiled;

    #[test]
    fn each_step_says_what_it_does_and_what_it_writes() {
        let plan = compiled("version: 1\nbase_url: http://a.test\nsteps:\n  - { name: login, post: /login, expect: { status: 200 }, capture: { token: $.t } }\n  - think: 1s..2s\n  - { set: { n: 1 } }\n").unwrap();
        let about: Vec<(&str, &[String])> = plan.scenarios[0]
            .steps
            .iter()
            .map(|s| (s.about.what.as_str(), s.about.writes.as_slice()))
            .collect();
        assert_eq!(about[0], ("POST /login", &["token".to_string()][..]));
        assert_eq!(about[1].0, "think 1s..2s");
        assert_eq!(about[2], ("set", &["n".to_string()][..]));
    }
}
