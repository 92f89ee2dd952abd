//! Load-time checks of the names a template reads: every variable must be
//! defined somewhere in its scenario (test vars, feeders, captures, `set`,
//! loop items, fragment parameters), every `fake.*` generator must exist, and
//! every `env('NAME')` without a default must be set.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use regex::Regex;

use crate::diagnostic::{suggest, Span};
use crate::plan::Phase;
use crate::scenario::model::FeederPer;
use crate::scenario::reader::{code, Reader};
use crate::template::fake::GENERATORS;
use crate::template::FUNCTIONS;

/// MiniJinja's own global functions.
const BUILTINS: [&str; 4] = ["range", "dict", "debug", "namespace"];
const RUN_NAMES: [&str; 4] = ["vu", "iteration", "scenario", "fake"];

/// What a template in one scenario may read.
#[derive(Debug, Clone)]
pub struct Known {
    pub vars: Vec<String>,
    /// Feeder name → its columns, and who takes a new row.
    pub feeders: Vec<(String, Vec<String>, FeederPer)>,
    /// The names `setup` captures or sets (read as `setup.NAME`); `None`
    /// when the test has no `setup`, or while it is compiled.
    pub setup: Option<Vec<String>>,
    /// The part of the test the template belongs to.
    pub phase: Phase,
    /// Captured, `set`, loop and fragment-parameter names of the scenario,
    /// each with where it is defined.
    pub locals: HashMap<String, Origin>,
    /// The locals defined before the template being checked, in the order
    /// steps run; `None` when order is not known (every local counts).
    pub defined: Option<HashSet<String>>,
    /// Names the file defines in steps that could not be read (its other
    /// errors): not reported as undefined, since that would echo them.
    pub maybe: HashSet<String>,
    /// For a file of fragments only: the names its fragments read come from
    /// whoever includes it, so only `fake.x` and feeder columns are checked.
    pub lenient: bool,
}

impl Default for Known {
    fn default() -> Self {
        Self {
            vars: Vec::new(),
            feeders: Vec::new(),
            setup: None,
            phase: Phase::Iteration,
            locals: HashMap::new(),
            defined: None,
            maybe: HashSet::new(),
            lenient: false,
        }
    }
}

/// Where a scenario's local name comes from, for messages.
#[derive(Debug, Clone)]
pub enum Origin {
    /// Captured or `set` by this step (its label).
    Step(String),
    /// A `with` parameter of this fragment.
    Param(String),
    /// The item of a `for_each`.
    Loop,
    /// Captured or `set` by this step of the scenario's iterations, seen
    /// from its `before` or `after`.
    Iteration(String),
    /// Captured or `set` by this step of a virtual user, seen from `setup`
    /// or `teardown`.
    User(String),
}

impl Known {
    fn all_roots(&self) -> Vec<&str> {
        let mut all: Vec<&str> = vec!["vars"];
        all.extend(RUN_NAMES);
        all.extend(FUNCTIONS);
        all.extend(self.feeders.iter().map(|(n, _, _)| n.as_str()));
        if self.setup.is_some() {
            all.push("setup");
        }
        all.extend(self.locals.keys().map(String::as_str));
        all
    }
}

/// Reports each name of `names` that `known` does not define, at `span`.
pub fn check_names(r: &mut Reader, known: &Known, names: &[String], span: Span, source: &str) {
    for name in names {
        let mut parts = name.split('.');
        let root = parts.next().unwrap_or_default();
        let attr = parts.next();
        if FUNCTIONS.contains(&root) || BUILTINS.contains(&root) {
            continue;
        }
        if known.maybe.contains(root) {
            continue;
        }
        if let Some(origin) = known.locals.get(root) {
            let in_scope = known.lenient
                || known
                    .defined
                    .as_ref()
                    .is_none_or(|defined| defined.contains(root))
                || guarded(source, root);
            if !in_scope {
                let (message, help) = match origin {
                    Origin::Step(step) => (
                        format!("`{root}` is not defined yet when this runs"),
                        format!("`{root}` is set by step `{step}`, which does not run before this one; move this after it, or capture `{root}` earlier"),
                    ),
                    Origin::Param(fragment) => (
                        format!("`{root}` is a parameter of fragment `{fragment}`, not defined here"),
                        format!("`with:` values are only visible inside the fragment; `set: {{ {root}: ... }}` makes a variable for the rest of the iteration"),
                    ),
                    Origin::Loop => (
                        format!("`{root}` is the item of a `for_each`, not defined here"),
                        "the `as:` name is only visible inside the loop's steps".to_string(),
                    ),
                    Origin::Iteration(step) if known.phase == Phase::Before => (
                        format!("`{root}` is captured by step `{step}` of the iteration, which runs after `before`"),
                        format!("capture `{root}` in `before` to read it here and in every iteration"),
                    ),
                    Origin::Iteration(step) => (
                        format!("`{root}` is captured by step `{step}` of an iteration, and what an iteration captures is dropped at its end"),
                        format!("capture `{root}` in `before`: what `before` captures lasts for the user's whole life, `after` included"),
                    ),
                    Origin::User(step) => {
                        let when = if known.phase == Phase::Setup {
                            "`setup` runs before any user starts"
                        } else {
                            "`teardown` runs after every user ended"
                        };
                        (
                            format!("`{root}` is a virtual user's variable (captured by step `{step}`), and {when}"),
                            format!("capture what both need in `setup` and read it everywhere as `setup.{root}`"),
                        )
                    }
                };
                r.error_help(code::UNKNOWN_NAME, span, message, help);
            }
            continue;
        }
        match (root, attr) {
            ("vu" | "iteration" | "scenario", _) | ("fake" | "vars", None) => {}
            ("setup", attr) => check_setup(r, known, attr, span),
            ("fake", Some(g)) if GENERATORS.contains(&g) => {}
            ("fake", Some(g)) => {
                let help = match suggest(g, GENERATORS) {
                    Some(s) => format!("did you mean `fake.{s}()`?"),
                    None => format!("generators: {}", GENERATORS.join(", ")),
                };
                r.error_help(
                    code::UNKNOWN_NAME,
                    span,
                    format!("there is no `fake.{g}` generator"),
                    help,
                );
            }
            ("vars", Some(v)) if known.lenient || known.vars.iter().any(|k| k == v) => {}
            ("vars", Some(v)) => {
                let help = match suggest(v, known.vars.iter().map(String::as_str)) {
                    Some(s) => format!("did you mean `vars.{s}`?"),
                    None => "define it under `vars:` at the top of the file".into(),
                };
                r.error_help(
                    code::UNKNOWN_NAME,
                    span,
                    format!("`vars.{v}` is not defined"),
                    help,
                );
            }
            _ => {
                if let Some((feeder, columns, per)) =
                    known.feeders.iter().find(|(n, _, _)| n == root)
                {
                    if !known.lenient && !feeder_in_phase(r, known.phase, feeder, *per, span) {
                        continue;
                    }
                    if let Some(col) = attr {
                        if !columns.is_empty() && !columns.iter().any(|c| c == col) {
                            let help = match suggest(col, columns.iter().map(String::as_str)) {
                                Some(s) => format!("did you mean `{feeder}.{s}`?"),
                                None => format!("its columns are: {}", columns.join(", ")),
                            };
                            r.error_help(
                                code::UNKNOWN_NAME,
                                span,
                                format!("feeder `{feeder}` has no column `{col}`"),
                                help,
                            );
                        }
                    }
                    continue;
                }
                if known.lenient {
                    continue;
                }
                let in_setup = known
                    .setup
                    .as_ref()
                    .is_some_and(|names| names.iter().any(|n| n == root));
                let help = match suggest(root, known.all_roots()) {
                    _ if in_setup => format!("`setup` captures it: read it as `setup.{root}`"),
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "a name must be a test variable (`vars.x`), a feeder row (`users.email`), or a variable captured or `set` in this scenario".into(),
                };
                r.error_help(
                    code::UNKNOWN_NAME,
                    span,
                    format!("`{root}` is not defined in template `{}`", short(source)),
                    help,
                );
            }
        }
    }
    check_env(r, span, source);
}

/// `setup.NAME`: NAME must be captured or set by `setup`.
fn check_setup(r: &mut Reader, known: &Known, attr: Option<&str>, span: Span) {
    if known.lenient {
        return;
    }
    if known.phase == Phase::Setup {
        r.error_help(
            code::UNKNOWN_NAME,
            span,
            "`setup.*` is read after `setup`, not inside it",
            "inside `setup`, read what an earlier setup step captured by its plain name",
        );
        return;
    }
    let Some(names) = &known.setup else {
        r.error_help(
            code::UNKNOWN_NAME,
            span,
            "the test has no `setup` to read `setup.*` from",
            "add `setup:` at the top of the file with the steps that capture it",
        );
        return;
    };
    let Some(name) = attr else { return };
    if names.iter().any(|n| n == name) {
        return;
    }
    let help = match suggest(name, names.iter().map(String::as_str)) {
        Some(s) => format!("did you mean `setup.{s}`?"),
        None if names.is_empty() => {
            "`setup` captures nothing; add `capture:` to one of its steps".into()
        }
        None => format!("`setup` captures: {}", names.join(", ")),
    };
    r.error_help(
        code::UNKNOWN_NAME,
        span,
        format!("`setup.{name}` is not captured by `setup`"),
        help,
    );
}

/// Whether a feeder's row exists in this part of the test; reports why not.
fn feeder_in_phase(r: &mut Reader, phase: Phase, feeder: &str, per: FeederPer, span: Span) -> bool {
    match (phase, per) {
        (Phase::Iteration, _) | (Phase::Before | Phase::After, FeederPer::Vu) => true,
        (Phase::Before | Phase::After, FeederPer::Iteration) => {
            r.error_help(
                code::UNKNOWN_NAME,
                span,
                format!(
                    "feeder `{feeder}` gives a row per iteration, and `{}` runs outside the iterations",
                    phase.as_str()
                ),
                format!("give it `per: vu` so that each user keeps one row for its whole life, `{}` included", phase.as_str()),
            );
            false
        }
        (Phase::Setup | Phase::Teardown, _) => {
            r.error_help(
                code::UNKNOWN_NAME,
                span,
                format!(
                    "`{}` runs once for the whole test, not as a virtual user: it has no row of feeder `{feeder}`",
                    phase.as_str()
                ),
                "put the value under `vars:`, or read the feeder in a scenario's steps",
            );
            false
        }
    }
}

/// Whether the template reads `name` in a way that allows it to be
/// undefined: `name | default(…)` (or `d(…)`), `name is defined`,
/// `name is undefined`. A plain scan: this runs for many names of many
/// templates, and building a regex for each would dominate load time.
fn guarded(source: &str, name: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(pos) = source[from..].find(name) {
        let start = from + pos;
        let end = start + name.len();
        from = end;
        if source[..start].chars().next_back().is_some_and(ident) {
            continue;
        }
        let mut rest = &source[end..];
        if rest.chars().next().is_some_and(ident) {
            continue;
        }
        // Attributes: `name.a.b`.
        while let Some(after_dot) = rest.strip_prefix('.') {
            rest = after_dot.trim_start_matches(ident);
        }
        let rest = rest.trim_start();
        let guard = if let Some(filter) = rest.strip_prefix('|') {
            let filter = filter.trim_start();
            let word: String = filter.chars().take_while(|c| ident(*c)).collect();
            word == "default" || word == "d"
        } else if let Some(test) = rest.strip_prefix("is") {
            let words: Vec<&str> = test.split_whitespace().take(2).collect();
            matches!(
                words.as_slice(),
                ["defined", ..] | ["undefined", ..] | ["not", "defined"]
            ) || words
                .first()
                .is_some_and(|w| w.starts_with("defined") || w.starts_with("undefined"))
        } else {
            false
        };
        if guard {
            return true;
        }
    }
    false
}

/// `env('NAME')` with no default must name a variable that is set.
fn check_env(r: &mut Reader, span: Span, source: &str) {
    static ENV: OnceLock<Regex> = OnceLock::new();
    let re =
        ENV.get_or_init(|| Regex::new(r#"env\(\s*['"]([^'"]+)['"]\s*\)"#).expect("static regex"));
    for cap in re.captures_iter(source) {
        let name = &cap[1];
        if std::env::var_os(name).is_none() {
            r.error_help(
                code::MISSING_ENV,
                span,
                format!("environment variable `{name}` is not set"),
                format!("set it before running, or give a default: `env('{name}', 'value')`"),
            );
        }
    }
}

fn short(source: &str) -> String {
    let one_line = source.replace('\n', " ");
    if one_line.chars().count() > 60 {
        format!("{}…", one_line.chars().take(60).collect::<String>())
    } else {
        one_line
    }
}

#[cfg(test)]
mod tests {
    use super::guarded;

    #[test]
    fn guards_are_recognised() {
        assert!(guarded("{{ token | default('') }}", "token"));
        assert!(guarded("{{ token|d('x') }}", "token"));
        assert!(guarded("{{ user.id | default(0) }}", "user"));
        assert!(guarded("{{ token is defined }}", "token"));
        assert!(guarded("{{ token is not defined }}", "token"));
        assert!(guarded("{{ token is undefined }}", "token"));
        assert!(!guarded("{{ token }}", "token"));
        assert!(!guarded("{{ mytoken | default(1) }}", "token"));
        assert!(!guarded("{{ token | upper }}", "token"));
        assert!(!guarded("{{ token is string }}", "token"));
    }
}
