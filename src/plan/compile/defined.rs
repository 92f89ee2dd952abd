//! Which names are defined where: the locals the steps capture or set,
//! followed through fragments, loops and branches, in the order steps run.

use super::*;

impl Compile<'_, '_, '_> {
    /// Every local name the steps define, with where, following fragments.
    pub(super) fn collect_locals(
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
    pub(super) fn define<'n>(&mut self, names: impl IntoIterator<Item = &'n str>) {
        if let Some(defined) = &mut self.known.defined {
            defined.extend(names.into_iter().map(str::to_string));
        }
    }

    /// Compiles branches that each start from what was defined before them
    /// (parallel steps, `choose`); afterwards, what any of them defined is
    /// taken as defined.
    pub(super) fn branches<T>(
        &mut self,
        count: usize,
        mut each: impl FnMut(&mut Self, usize) -> T,
    ) -> Vec<T> {
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
    pub(super) fn loop_body(
        &mut self,
        steps: &[m::Step],
        item: Option<&str>,
        in_fragment: bool,
    ) -> Vec<Step> {
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
}

#[cfg(test)]
mod tests {
    use super::super::testing::{compiled, errors};
    use super::*;

    #[test]
    fn a_name_is_defined_from_the_step_that_captures_it_on() {
        let e = errors("version: 1\nbase_url: http://a.test\nsteps:\n  - { name: me, get: /me, headers: { x: \"{{ token }}\" }, expect: { status: 200 } }\n  - { name: login, get: /login, expect: { status: 200 }, capture: { token: $.t } }\n");
        assert_eq!((e[0].0, e[0].1), (code::UNKNOWN_NAME, 4), "{e:?}");
        assert!(e[0].2.contains("not defined yet"), "{e:?}");
    }

    #[test]
    fn a_loop_sees_its_own_captures_and_branches_do_not_see_each_other() {
        // The next round reads what the last one captured.
        let looped = "version: 1\nbase_url: http://a.test\nsteps:\n  - repeat: 2\n    steps:\n      - { name: a, get: \"/{{ cursor }}\", expect: { status: 200 } }\n      - { name: b, get: /b, expect: { status: 200 }, capture: { cursor: $.next } }\n";
        assert!(compiled(looped).is_ok());
        let once = "version: 1\nbase_url: http://a.test\nsteps:\n  - { name: a, get: \"/{{ cursor }}\", expect: { status: 200 } }\n  - { name: b, get: /b, expect: { status: 200 }, capture: { cursor: $.next } }\n";
        assert_eq!(errors(once)[0].0, code::UNKNOWN_NAME);
        let branches = "version: 1\nbase_url: http://a.test\nsteps:\n  - group: g\n    parallel:\n      - { name: a, get: /a, expect: { status: 200 }, capture: { x: $.x } }\n      - { name: b, get: \"/{{ x }}\", expect: { status: 200 } }\n";
        let e = errors(branches);
        assert_eq!((e[0].0, e[0].1), (code::UNKNOWN_NAME, 7), "{e:?}");
    }
}
