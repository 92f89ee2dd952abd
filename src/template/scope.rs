//! The names a template sees while a virtual user runs: `vars`, `setup`,
//! its own captured and `set` variables (this iteration's over what its
//! `before` left), its current feeder rows, `vu`, `iteration`, `scenario`
//! and `fake`.
//!
//! A [`Scope`] belongs to one virtual user. It is handed to MiniJinja as an
//! object (no copying into a context map per render) and changed only between
//! renders, through `Arc::make_mut`, which does not copy while no render holds
//! it.

use std::collections::HashMap;
use std::sync::Arc;

use minijinja::value::{Object, Value};

use crate::template::fake::Fake;

#[derive(Debug, Clone)]
pub struct Scope {
    pub vars: Value,
    /// What `setup` captured (undefined without a `setup`).
    pub setup: Value,
    pub scenario: Value,
    pub vu: u64,
    pub iteration: u64,
    pub fake: Arc<Fake>,
    /// Captured and `set` variables. Shared (not copied) when a `parallel:`
    /// branch starts from this scope; copied by the first branch that
    /// changes one.
    pub locals: Arc<HashMap<String, Value>>,
    /// What the user's `before` captured and set: read under `locals`,
    /// never copied nor changed by an iteration.
    pub session: Option<Arc<HashMap<String, Value>>>,
    /// Feeder name → the current row, in the order of `data:`.
    pub rows: Vec<(Arc<str>, Value)>,
}

impl Scope {
    pub fn new(vars: Value, scenario: &str, vu: u64, seed: u64) -> Self {
        Self {
            vars,
            setup: Value::UNDEFINED,
            scenario: Value::from(scenario),
            vu,
            iteration: 0,
            fake: Arc::new(Fake::new(seed)),
            locals: Arc::default(),
            session: None,
            rows: Vec::new(),
        }
    }

    /// A copy for branch `branch` of a `parallel:` group: the same
    /// variables (shared until one side changes them) and fake data of its
    /// own, so that what a branch draws does not depend on which branch got
    /// its answer first.
    pub fn branch(&self, group: u64, branch: usize) -> Self {
        Self {
            fake: Arc::new(Fake::branch(group, branch)),
            ..self.clone()
        }
    }

    pub fn set_row(&mut self, feeder: &Arc<str>, row: Value) {
        match self.rows.iter_mut().find(|(n, _)| n == feeder) {
            Some(slot) => slot.1 = row,
            None => self.rows.push((feeder.clone(), row)),
        }
    }
}

impl Object for Scope {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        if let Some(v) = self.locals.get(key) {
            return Some(v.clone());
        }
        if let Some(v) = self.session.as_ref().and_then(|s| s.get(key)) {
            return Some(v.clone());
        }
        match key {
            "vars" => Some(self.vars.clone()),
            "setup" => Some(self.setup.clone()),
            "vu" => Some(Value::from(self.vu)),
            "iteration" => Some(Value::from(self.iteration)),
            "scenario" => Some(self.scenario.clone()),
            "fake" => Some(Value::from_dyn_object(self.fake.clone())),
            _ => self
                .rows
                .iter()
                .find(|(n, _)| &**n == key)
                .map(|(_, v)| v.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::Compiler;

    #[test]
    fn templates_read_every_kind_of_name() {
        let c = Compiler::new();
        let vars = Value::from_serialize(serde_json::json!({"tenant": "acme"}));
        let mut scope = Arc::new(Scope::new(vars, "journey", 3, 42));
        {
            let s = Arc::make_mut(&mut scope);
            Arc::make_mut(&mut s.locals).insert("token".into(), Value::from("t0k"));
            s.set_row(
                &Arc::from("users"),
                Value::from_serialize(serde_json::json!({"email": "a@x.test"})),
            );
            s.iteration = 5;
        }
        let (t, _) = c
            .string("{{ vars.tenant }} {{ token }} {{ users.email }} {{ vu }} {{ iteration }} {{ scenario }}")
            .unwrap();
        let out = t.render(&Value::from_dyn_object(scope.clone())).unwrap();
        assert_eq!(out, "acme t0k a@x.test 3 5 journey");
        let (t, _) = c.string("{{ nothing_here }}").unwrap();
        assert!(t.render(&Value::from_dyn_object(scope)).is_err());
    }

    #[test]
    fn an_iterations_variables_hide_what_before_left_without_changing_it() {
        let c = Compiler::new();
        let session: HashMap<String, Value> = [
            ("token".to_string(), Value::from("kept")),
            ("user".to_string(), Value::from("ann")),
        ]
        .into();
        let session = Arc::new(session);
        let mut scope = Scope::new(Value::from(()), "s", 1, 1);
        scope.session = Some(session.clone());
        scope.setup = Value::from_serialize(serde_json::json!({"admin": "root"}));
        let mut scope = Arc::new(scope);
        Arc::make_mut(&mut Arc::make_mut(&mut scope).locals)
            .insert("token".into(), Value::from("new"));
        let (t, _) = c
            .string("{{ token }} {{ user }} {{ setup.admin }}")
            .unwrap();
        let out = t.render(&Value::from_dyn_object(scope)).unwrap();
        assert_eq!(out, "new ann root");
        assert_eq!(session["token"], Value::from("kept"));
    }

    #[test]
    fn fake_values_follow_the_scope_seed() {
        let c = Compiler::new();
        let (t, _) = c
            .string("{{ fake.name() }}|{{ random_int(1, 1000000) }}|{{ uuid() }}")
            .unwrap();
        let render = |seed| {
            let s = Arc::new(Scope::new(Value::from(()), "s", 1, seed));
            t.render(&Value::from_dyn_object(s)).unwrap().into_owned()
        };
        assert_eq!(render(9), render(9));
        assert_ne!(render(9), render(10));
    }
}
