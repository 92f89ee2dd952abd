//! Templates: the MiniJinja environment, strings and JSON bodies compiled
//! once at load time, and the functions every template can call.
//!
//! A string without `{{` or `{%` is a literal and never touches the engine. A
//! JSON string leaf that is exactly one `{{ expression }}` keeps the
//! expression's type (a number stays a number, an object an object).

pub mod fake;
pub mod limits;
pub mod scope;

use std::borrow::Cow;

use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind, Expression, State, Template, UndefinedBehavior};

/// How much work one template render may do before it is stopped.
const FUEL: u64 = 200_000;

/// The names every template can use besides variables.
pub const FUNCTIONS: [&str; 5] = ["env", "uuid", "now", "now_ms", "random_int"];

/// The compiler: owns the (leaked, process-lifetime) MiniJinja environment so
/// that compiled templates are `'static` and shared by every virtual user.
#[derive(Clone, Copy)]
pub struct Compiler {
    env: &'static Environment<'static>,
}

impl Default for Compiler {
    fn default() -> Self {
        Self::new()
    }
}

impl Compiler {
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(FUEL));
        limits::install(&mut env);
        env.add_function("env", env_var);
        env.add_function("uuid", uuid_fn);
        env.add_function("now", now);
        env.add_function("now_ms", now_ms);
        env.add_function("random_int", random_int);
        Self {
            env: Box::leak(Box::new(env)),
        }
    }

    /// Compiles a string template. Returns it and the names it reads
    /// (`users.email`, `token`, `fake.name`…), for scope checks.
    pub fn string(&self, text: &str) -> Result<(Tpl, Vec<String>), TemplateError> {
        if !is_template(text) {
            return Ok((Tpl::Lit(text.into()), Vec::new()));
        }
        let source: &'static str = Box::leak(text.to_owned().into_boxed_str());
        let tpl = self
            .env
            .template_from_str(source)
            .map_err(|e| TemplateError(describe(e)))?;
        let names = sorted(tpl.undeclared_variables(true));
        Ok((Tpl::Dyn(tpl), names))
    }

    /// Compiles an expression (`when:`, `for_each:`), with or without braces.
    pub fn expr(&self, text: &str) -> Result<(Expr, Vec<String>), TemplateError> {
        let inner = whole_expression(text).unwrap_or(text.trim());
        let source: &'static str = Box::leak(inner.to_owned().into_boxed_str());
        let expr = self
            .env
            .compile_expression(source)
            .map_err(|e| TemplateError(describe(e)))?;
        let names = sorted(expr.undeclared_variables(true));
        Ok((Expr(expr), names))
    }

    /// Compiles a JSON value whose string leaves are templates.
    pub fn json(&self, value: &serde_json::Value) -> Result<(JsonTpl, Vec<String>), TemplateError> {
        let mut names = Vec::new();
        let tpl = self.json_inner(value, &mut names)?;
        names.sort();
        names.dedup();
        Ok((tpl, names))
    }

    fn json_inner(
        &self,
        value: &serde_json::Value,
        names: &mut Vec<String>,
    ) -> Result<JsonTpl, TemplateError> {
        use serde_json::Value as J;
        Ok(match value {
            J::String(s) if is_template(s) => match whole_expression(s) {
                Some(_) => {
                    let (e, n) = self.expr(s)?;
                    names.extend(n);
                    JsonTpl::Expr(e)
                }
                None => {
                    let (t, n) = self.string(s)?;
                    names.extend(n);
                    JsonTpl::Str(t)
                }
            },
            J::Array(items) => {
                let items = items
                    .iter()
                    .map(|v| self.json_inner(v, names))
                    .collect::<Result<Vec<_>, _>>()?;
                if items.iter().all(|i| matches!(i, JsonTpl::Lit(_))) {
                    JsonTpl::Lit(value.clone())
                } else {
                    JsonTpl::Array(items)
                }
            }
            J::Object(map) => {
                let entries = map
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), self.json_inner(v, names)?)))
                    .collect::<Result<Vec<_>, TemplateError>>()?;
                if entries.iter().all(|(_, i)| matches!(i, JsonTpl::Lit(_))) {
                    JsonTpl::Lit(value.clone())
                } else {
                    JsonTpl::Object(entries)
                }
            }
            other => JsonTpl::Lit(other.clone()),
        })
    }
}

fn sorted(names: std::collections::HashSet<String>) -> Vec<String> {
    let mut v: Vec<String> = names.into_iter().collect();
    v.sort();
    v
}

pub fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%")
}

/// `{{ expr }}` with nothing around it → `expr`.
fn whole_expression(text: &str) -> Option<&str> {
    let inner = text.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    (!inner.contains("{{") && !inner.contains("}}")).then_some(inner.trim())
}

/// A MiniJinja error as one line, with the detail that helps.
pub fn describe(e: Error) -> String {
    let mut msg = match e.detail() {
        Some(detail) => format!("{}: {detail}", kind_text(e.kind())),
        None => kind_text(e.kind()).to_string(),
    };
    if let Some(line) = e.line().filter(|l| *l > 1) {
        msg.push_str(&format!(" (template line {line})"));
    }
    msg
}

fn kind_text(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::SyntaxError => "syntax error",
        ErrorKind::UndefinedError => "undefined value",
        ErrorKind::UnknownFunction => "unknown function",
        ErrorKind::UnknownMethod => "unknown method",
        ErrorKind::OutOfFuel => "the template ran too long",
        ErrorKind::InvalidOperation => "invalid operation",
        ErrorKind::MissingArgument => "missing argument",
        ErrorKind::TooManyArguments => "too many arguments",
        _ => "template error",
    }
}

/// A template that cannot be compiled (its syntax) or failed while
/// rendering (an undefined value, a failing function, one that ran too
/// long), said for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(String);

/// A compiled string: a literal or a template.
#[derive(Debug, Clone)]
pub enum Tpl {
    Lit(Box<str>),
    Dyn(Template<'static, 'static>),
}

impl Tpl {
    pub fn render(&self, scope: &Value) -> Result<Cow<'_, str>, TemplateError> {
        match self {
            Tpl::Lit(s) => Ok(Cow::Borrowed(s)),
            Tpl::Dyn(t) => {
                limits::start_render();
                t.render(scope)
            }
            .map(Cow::Owned)
            .map_err(|e| TemplateError(format!("{} in `{}`", describe(e), t.source()))),
        }
    }
}

/// A compiled expression.
#[derive(Debug)]
pub struct Expr(Expression<'static, 'static>);

impl Expr {
    pub fn eval(&self, scope: &Value) -> Result<Value, TemplateError> {
        self.0.eval(scope).map_err(|e| TemplateError(describe(e)))
    }
}

/// A JSON value with templated leaves.
#[derive(Debug)]
pub enum JsonTpl {
    Lit(serde_json::Value),
    Str(Tpl),
    Expr(Expr),
    Array(Vec<JsonTpl>),
    Object(Vec<(String, JsonTpl)>),
}

impl JsonTpl {
    pub fn render(&self, scope: &Value) -> Result<serde_json::Value, TemplateError> {
        Ok(match self {
            JsonTpl::Lit(v) => v.clone(),
            JsonTpl::Str(t) => serde_json::Value::String(t.render(scope)?.into_owned()),
            JsonTpl::Expr(e) => to_json(&e.eval(scope)?)?,
            JsonTpl::Array(items) => serde_json::Value::Array(
                items
                    .iter()
                    .map(|i| i.render(scope))
                    .collect::<Result<_, _>>()?,
            ),
            JsonTpl::Object(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), v.render(scope)?)))
                    .collect::<Result<_, TemplateError>>()?,
            ),
        })
    }
}

/// Converts a template value to JSON (at most [`limits::MAX_ITEMS`] items
/// in its lists and maps together).
pub fn to_json(value: &Value) -> Result<serde_json::Value, TemplateError> {
    limits::check_json(value).map_err(|e| TemplateError(describe(e)))?;
    serde_json::to_value(value)
        .map_err(|e| TemplateError(format!("value cannot be sent as JSON: {e}")))
}

fn env_var(name: &str, default: Option<Value>) -> Result<Value, Error> {
    match std::env::var(name) {
        Ok(v) => Ok(Value::from(v)),
        Err(_) => default.ok_or_else(|| {
            Error::new(
                ErrorKind::UndefinedError,
                format!("environment variable `{name}` is not set and no default was given"),
            )
        }),
    }
}

fn uuid_fn(state: &State) -> String {
    fake::with_rng(state, |rng| {
        uuid::Builder::from_random_bytes(rand::Rng::random(rng))
            .into_uuid()
            .to_string()
    })
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn random_int(state: &State, a: i64, b: i64) -> Result<i64, Error> {
    if b < a {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("random_int({a}, {b}): the upper bound is below the lower"),
        ));
    }
    Ok(fake::with_rng(state, |rng| {
        rand::Rng::random_range(rng, a..=b)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    #[test]
    fn literals_skip_the_engine_and_templates_report_names() {
        let c = Compiler::new();
        let (t, names) = c.string("/api/health").unwrap();
        assert!(matches!(t, Tpl::Lit(_)) && names.is_empty());
        let (t, names) = c
            .string("Bearer {{ token }} for {{ users.email }}")
            .unwrap();
        assert_eq!(names, vec!["token".to_string(), "users.email".to_string()]);
        let out = t
            .render(&Value::from_serialize(
                context! { token => "abc", users => context!{ email => "a@b" } },
            ))
            .unwrap();
        assert_eq!(out, "Bearer abc for a@b");
    }

    #[test]
    fn a_whole_expression_leaf_keeps_its_type() {
        let c = Compiler::new();
        let body = serde_json::json!({"n": "{{ 40 + 2 }}", "s": "id-{{ 1 + 1 }}", "l": ["{{ [1, 2] }}", 3], "k": true});
        let (t, _) = c.json(&body).unwrap();
        let out = t.render(&Value::from(())).unwrap();
        assert_eq!(
            out,
            serde_json::json!({"n": 42, "s": "id-2", "l": [[1, 2], 3], "k": true})
        );
    }

    #[test]
    fn syntax_errors_and_endless_templates_fail_cleanly() {
        let c = Compiler::new();
        assert!(c
            .string("{{ oops(")
            .unwrap_err()
            .to_string()
            .contains("syntax error"));
        let (t, _) = c
            .string(
                "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
            )
            .unwrap();
        let err = t.render(&Value::from(())).unwrap_err();
        assert!(err.to_string().contains("too long"), "{err}");
    }

    #[test]
    fn missing_env_without_default_is_an_error() {
        let c = Compiler::new();
        let (t, _) = c
            .string("{{ env('TREK_SURELY_UNSET_VAR', 'dflt') }}")
            .unwrap();
        assert_eq!(t.render(&Value::from(())).unwrap(), "dflt");
        let (t, _) = c.string("{{ env('TREK_SURELY_UNSET_VAR') }}").unwrap();
        assert!(t
            .render(&Value::from(()))
            .unwrap_err()
            .to_string()
            .contains("TREK_SURELY_UNSET_VAR"));
    }
}
