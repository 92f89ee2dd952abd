//! The parts of a test's life, compiled in the order they run: `setup`,
//! then per scenario each user's `before`, its iterations' `steps` and its
//! `after`, then `teardown`. Each part sees the names defined before it:
//! `setup.*` everywhere after `setup`; what `before` captured in every
//! iteration and in `after`; what an iteration captured nowhere else.

use super::*;
use crate::scenario::model::Step as ModelStep;

impl Compile<'_, '_, '_> {
    /// `setup`: its own captures, and no user's.
    pub(super) fn setup(&mut self) -> Vec<Step> {
        let test = self.test;
        let steps = self.once(&test.setup, Phase::Setup);
        let mut names: Vec<String> = kept(self.locals_of(&test.setup)).into_keys().collect();
        names.sort();
        self.known.setup = (!test.setup.is_empty()).then_some(names);
        steps
    }

    /// `teardown`: `setup.*` and its own captures, and no user's.
    pub(super) fn teardown(&mut self) -> Vec<Step> {
        let test = self.test;
        self.once(&test.teardown, Phase::Teardown)
    }

    /// `setup` or `teardown`: run once, by no scenario's user.
    fn once(&mut self, steps: &[ModelStep], phase: Phase) -> Vec<Step> {
        self.scenario = None;
        self.phase = phase;
        self.known.phase = phase;
        self.labels.clear();
        self.kept.clear();
        let mut locals = self.locals_of(steps);
        for s in &self.test.scenarios {
            for part in [&s.before, &s.steps, &s.after] {
                for (name, origin) in self.locals_of(part) {
                    locals
                        .entry(name)
                        .or_insert(Origin::User(origin_step(origin)));
                }
            }
        }
        self.known.locals = locals;
        self.known.defined = Some(HashSet::new());
        let out = self.steps_of(steps, false);
        self.read_roots.clear();
        self.phase = Phase::Iteration;
        self.known.phase = Phase::Iteration;
        out
    }

    /// A scenario's `before`, `steps` and `after`, in one namespace of step
    /// names.
    pub(super) fn scenario_phases(&mut self, index: usize, s: &m::Scenario) -> [Vec<Step>; 3] {
        self.scenario = Some(index);
        self.labels.clear();
        self.kept.clear();
        let before_all = self.locals_of(&s.before);
        // What outlives `before`, for the iterations and `after`.
        let before_locals = kept(before_all.clone());
        let iteration_locals = self.locals_of(&s.steps);
        // What an iteration captures, as seen from `before` and `after`.
        let iteration_only = |locals: &mut HashMap<String, Origin>| {
            for (name, origin) in &iteration_locals {
                locals
                    .entry(name.clone())
                    .or_insert_with(|| Origin::Iteration(origin_step(origin.clone())));
            }
        };
        let session: HashSet<String> = before_locals.keys().cloned().collect();

        let mut locals = before_all;
        iteration_only(&mut locals);
        let before = self.part(&s.before, Phase::Before, locals, HashSet::new());

        let mut locals = iteration_locals.clone();
        for (name, origin) in &before_locals {
            locals.entry(name.clone()).or_insert_with(|| origin.clone());
        }
        let steps = self.part(&s.steps, Phase::Iteration, locals, session.clone());

        let mut locals = self.locals_of(&s.after);
        for (name, origin) in &before_locals {
            locals.entry(name.clone()).or_insert_with(|| origin.clone());
        }
        iteration_only(&mut locals);
        let after = self.part(&s.after, Phase::After, locals, session);
        self.phase = Phase::Iteration;
        self.known.phase = Phase::Iteration;
        [before, steps, after]
    }

    fn part(
        &mut self,
        steps: &[ModelStep],
        phase: Phase,
        locals: HashMap<String, Origin>,
        defined: HashSet<String>,
    ) -> Vec<Step> {
        self.phase = phase;
        self.known.phase = phase;
        self.known.locals = locals;
        self.known.defined = Some(defined);
        // A WebSocket kept open by a step is closed when its part ends.
        self.kept.clear();
        self.steps_of(steps, false)
    }

    fn locals_of(&self, steps: &[ModelStep]) -> HashMap<String, Origin> {
        let mut out = HashMap::new();
        self.collect_locals(steps, &mut out, &mut Vec::new());
        out
    }
}

/// The names that outlive the part that defines them: what its steps
/// capture or `set`, not a fragment's `with:` parameters nor a loop's item,
/// which end with their fragment or loop.
fn kept(mut locals: HashMap<String, Origin>) -> HashMap<String, Origin> {
    locals.retain(|_, origin| matches!(origin, Origin::Step(_)));
    locals
}

/// The step a name comes from, for messages (a loop item or a fragment's
/// parameter names its construct).
fn origin_step(origin: Origin) -> String {
    match origin {
        Origin::Step(s) | Origin::Iteration(s) | Origin::User(s) => s,
        Origin::Param(f) => format!("use {f}"),
        Origin::Loop => "for_each".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{compiled, errors};
    use super::*;

    const BASE: &str = "version: 1\nbase_url: http://a.test\n";

    #[test]
    fn before_captures_are_defined_in_every_iteration_and_in_after() {
        let plan = compiled(&format!("{BASE}before:\n  - {{ name: login, post: /login, expect: {{ status: 200 }}, capture: {{ token: $.t }} }}\nsteps:\n  - {{ name: me, get: \"/me/{{{{ token }}}}\", expect: {{ status: 200 }} }}\nafter:\n  - {{ name: logout, post: \"/logout/{{{{ token }}}}\", expect: {{ status: 200 }} }}\n")).unwrap();
        let s = &plan.scenarios[0];
        assert_eq!((s.before.len(), s.steps.len(), s.after.len()), (1, 1, 1));
        let phases: Vec<(Option<usize>, Phase)> =
            plan.steps.iter().map(|i| (i.scenario, i.phase)).collect();
        assert_eq!(
            phases,
            [
                (Some(0), Phase::Before),
                (Some(0), Phase::Iteration),
                (Some(0), Phase::After)
            ]
        );
    }

    #[test]
    fn before_cannot_read_what_the_iteration_captures() {
        let e = errors(&format!("{BASE}before:\n  - {{ name: login, get: \"/{{{{ cart }}}}\", expect: {{ status: 200 }} }}\nsteps:\n  - {{ name: add, get: /add, expect: {{ status: 200 }}, capture: {{ cart: $.id }} }}\n"));
        assert_eq!((e[0].0, e[0].1), (code::UNKNOWN_NAME, 4), "{e:?}");
        assert!(e[0].2.contains("runs after `before`"), "{e:?}");
    }

    #[test]
    fn after_cannot_read_what_an_iteration_captured() {
        let e = errors(&format!("{BASE}steps:\n  - {{ name: add, get: /add, expect: {{ status: 200 }}, capture: {{ cart: $.id }} }}\nafter:\n  - {{ name: out, get: \"/{{{{ cart }}}}\", expect: {{ status: 200 }} }}\n"));
        assert_eq!((e[0].0, e[0].1), (code::UNKNOWN_NAME, 6), "{e:?}");
        assert!(e[0].2.contains("dropped at its end"), "{e:?}");
    }

    #[test]
    fn setup_names_are_read_as_setup_dot_name_after_setup_only() {
        let ok = format!("{BASE}setup:\n  - {{ name: admin, post: /admin, expect: {{ status: 200 }}, capture: {{ admin_token: $.t }} }}\n  - {{ name: seed, post: \"/seed/{{{{ admin_token }}}}\", expect: {{ status: 200 }} }}\nteardown:\n  - {{ name: clean, delete: \"/seed/{{{{ setup.admin_token }}}}\", expect: {{ status: 200 }} }}\nsteps:\n  - {{ name: a, get: \"/a/{{{{ setup.admin_token }}}}\", expect: {{ status: 200 }} }}\n");
        let plan = compiled(&ok).unwrap();
        assert_eq!((plan.setup.len(), plan.teardown.len()), (2, 1));
        assert_eq!(plan.steps[0].phase, Phase::Setup);
        assert_eq!(plan.steps[0].scenario, None);
        let typo = format!("{BASE}setup:\n  - {{ name: admin, post: /admin, expect: {{ status: 200 }}, capture: {{ admin_token: $.t }} }}\nsteps:\n  - {{ name: a, get: \"/a/{{{{ setup.admin_tokn }}}}\", expect: {{ status: 200 }} }}\n");
        let e = errors(&typo);
        assert_eq!((e[0].0, e[0].1), (code::UNKNOWN_NAME, 6), "{e:?}");
        assert!(e[1..].is_empty(), "{e:?}");
        let none = format!("{BASE}steps:\n  - {{ name: a, get: \"/a/{{{{ setup.token }}}}\", expect: {{ status: 200 }} }}\n");
        assert!(
            errors(&none)[0].2.contains("no `setup`"),
            "{:?}",
            errors(&none)
        );
    }

    #[test]
    fn teardown_cannot_read_a_users_variables_nor_setup_a_feeder() {
        let e = errors(&format!("{BASE}steps:\n  - {{ name: login, get: /l, expect: {{ status: 200 }}, capture: {{ token: $.t }} }}\nteardown:\n  - {{ name: clean, get: \"/{{{{ token }}}}\", expect: {{ status: 200 }} }}\n"));
        assert_eq!((e[0].0, e[0].1), (code::UNKNOWN_NAME, 6), "{e:?}");
        assert!(e[0].2.contains("virtual user's variable"), "{e:?}");
        let e = errors(&format!("{BASE}data:\n  users: {{ rows: [ {{ email: a }} ] }}\nsetup:\n  - {{ name: s, get: \"/{{{{ users.email }}}}\", expect: {{ status: 200 }} }}\nsteps:\n  - {{ get: /a, expect: {{ status: 200 }} }}\n"));
        assert_eq!((e[0].0, e[0].1), (code::UNKNOWN_NAME, 6), "{e:?}");
    }

    #[test]
    fn before_reads_only_feeders_kept_per_user() {
        let file = |per: &str| {
            format!("{BASE}data:\n  users: {{ rows: [ {{ email: a }} ]{per} }}\nbefore:\n  - {{ name: login, post: \"/l/{{{{ users.email }}}}\", expect: {{ status: 200 }} }}\nsteps:\n  - {{ get: /a, expect: {{ status: 200 }} }}\n")
        };
        let e = errors(&file(""));
        assert_eq!((e[0].0, e[0].1), (code::UNKNOWN_NAME, 6), "{e:?}");
        assert!(e[0].2.contains("per iteration"), "{e:?}");
        let plan = compiled(&file(", per: vu")).unwrap();
        assert_eq!(plan.scenarios[0].feeders, [0]);
    }

    #[test]
    fn what_ends_with_before_is_not_defined_after_it() {
        // A fragment's `with:` value ends with the fragment.
        let e = errors(&format!("{BASE}fragments:\n  login:\n    - {{ name: login, post: \"/l/{{{{ email }}}}\", expect: {{ status: 200 }} }}\nbefore:\n  - {{ use: login, with: {{ email: a@b.test }} }}\nsteps:\n  - {{ name: me, get: \"/me/{{{{ email }}}}\", expect: {{ status: 200 }} }}\n"));
        assert_eq!((e[0].0, e[0].1), (code::UNKNOWN_NAME, 9), "{e:?}");
        // A WebSocket kept by `before` is closed when `before` ends.
        let e = errors(&format!("{BASE}before:\n  - {{ name: ch, websocket: ws://a.test/ws, keep: true, actions: [ {{ send: hi }} ] }}\nsteps:\n  - {{ name: again, websocket: {{ use: ch }}, actions: [ {{ send: hi }} ] }}\n"));
        assert_eq!((e[0].0, e[0].1), (code::UNKNOWN_NAME, 6), "{e:?}");
    }

    #[test]
    fn lifecycle_steps_share_their_scenarios_step_names_and_skip_the_default_pause() {
        let e = errors(&format!("{BASE}before:\n  - {{ name: a, get: /a, expect: {{ status: 200 }} }}\nsteps:\n  - {{ name: a, get: /b, expect: {{ status: 200 }} }}\n"));
        assert_eq!((e[0].0, e[0].1), (code::DUPLICATE_NAME, 6), "{e:?}");
        let plan = compiled(&format!("{BASE}defaults: {{ think: 1s }}\nbefore:\n  - {{ name: a, get: /a, expect: {{ status: 200 }} }}\nsteps:\n  - {{ name: b, get: /b, expect: {{ status: 200 }} }}\n")).unwrap();
        assert!(plan.scenarios[0].before[0].think_after.is_none());
        assert!(plan.scenarios[0].steps[0].think_after.is_some());
    }
}
