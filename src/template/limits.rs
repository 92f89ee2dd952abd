//! Bounds on what a template may build, beside MiniJinja's fuel (which
//! counts instructions, not the items a filter walks or the text written):
//! a list, map or iterable handed to the output, to a filter that walks it
//! whole, or to a JSON body holds at most [`MAX_ITEMS`] items, and one
//! render writes at most [`MAX_RENDERED`] bytes. `[0] * 1000000000` is
//! lazy in MiniJinja (it reports its length without building it), so it is
//! refused where it would be walked, before any of it is made.

use std::borrow::Cow;
use std::cell::Cell;

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{filters, Environment, Error, ErrorKind, Output, State};

/// The most items a list, map or iterable may have where it is walked
/// whole (MiniJinja's own limit on `range`).
pub const MAX_ITEMS: usize = 100_000;
/// The most text one render writes.
pub const MAX_RENDERED: usize = 16 << 20;

thread_local! {
    /// Bytes written by the render running on this thread.
    static WRITTEN: Cell<usize> = const { Cell::new(0) };
}

/// Starts counting a render's output.
pub fn start_render() {
    WRITTEN.with(|w| w.set(0));
}

fn too_many(len: usize) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!("a list of {len} items: templates walk at most {MAX_ITEMS}"),
    )
}

/// Refuses a list, map or iterable longer than [`MAX_ITEMS`].
pub fn check(v: &Value) -> Result<(), Error> {
    if matches!(
        v.kind(),
        ValueKind::Seq | ValueKind::Map | ValueKind::Iterable
    ) {
        if let Some(len) = v.len().filter(|n| *n > MAX_ITEMS) {
            return Err(too_many(len));
        }
    }
    Ok(())
}

/// Counts `n` more bytes of output.
fn wrote(n: usize) -> Result<(), Error> {
    WRITTEN.with(|w| {
        let total = w.get().saturating_add(n);
        w.set(total);
        if total > MAX_RENDERED {
            Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("the text rendered is longer than {} MB", MAX_RENDERED >> 20),
            ))
        } else {
            Ok(())
        }
    })
}

/// The same checks for a value about to become JSON: every list and map
/// in it, and the number of items in all of them together.
pub fn check_json(v: &Value) -> Result<(), Error> {
    fn walk(v: &Value, budget: &mut usize, depth: usize) -> Result<(), Error> {
        if depth > 64 {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "a value nested more than 64 deep",
            ));
        }
        if !matches!(
            v.kind(),
            ValueKind::Seq | ValueKind::Map | ValueKind::Iterable
        ) {
            return Ok(());
        }
        let len = v.len().unwrap_or(0);
        if len > *budget {
            return Err(too_many(len));
        }
        *budget -= len;
        if let Ok(items) = v.try_iter() {
            for item in items.take(MAX_ITEMS + 1) {
                if v.kind() == ValueKind::Map {
                    if let Ok(value) = v.get_item(&item) {
                        walk(&value, budget, depth + 1)?;
                    }
                } else {
                    walk(&item, budget, depth + 1)?;
                }
            }
        }
        Ok(())
    }
    let mut budget = MAX_ITEMS;
    walk(v, &mut budget, 0)
}

/// Writes a value, checked and counted.
fn formatter(out: &mut Output, state: &State, value: &Value) -> Result<(), Error> {
    check(value)?;
    let n = match value.as_str() {
        Some(s) => s.len(),
        None => value.len().unwrap_or(1).saturating_mul(2),
    };
    wrote(n)?;
    minijinja::escape_formatter(out, state, value)
}

/// `join`, with its result bounded.
fn join(value: &Value, joiner: Option<Cow<'_, str>>) -> Result<String, Error> {
    check(value)?;
    let joiner = joiner.as_deref().unwrap_or("");
    if let Some(s) = value.as_str() {
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 {
                out.push_str(joiner);
            }
            out.push(c);
            if out.len() > MAX_RENDERED {
                return Err(long());
            }
        }
        return Ok(out);
    }
    let mut out = String::new();
    for (i, item) in value.try_iter()?.enumerate() {
        if i > 0 {
            out.push_str(joiner);
        }
        match item.as_str() {
            Some(s) => {
                if out.len() + s.len() > MAX_RENDERED {
                    return Err(long());
                }
                out.push_str(s);
            }
            None => {
                check(&item)?;
                out.push_str(&item.to_string());
            }
        }
        if out.len() > MAX_RENDERED {
            return Err(long());
        }
    }
    Ok(out)
}

fn long() -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!("joined text longer than {} MB", MAX_RENDERED >> 20),
    )
}

/// Replaces the filters that walk a whole list with checked ones, and the
/// formatter with one that counts what a render writes.
pub fn install(env: &mut Environment<'static>) {
    env.set_formatter(formatter);
    env.add_filter("join", join);
    env.add_filter("list", |s: &State, v: Value| {
        check(&v)?;
        filters::list(s, v)
    });
    env.add_filter("sort", |s: &State, v: Value, k: Kwargs| {
        check(&v)?;
        filters::sort(s, v, k)
    });
    env.add_filter("unique", |s: &State, v: Value, k: Kwargs| {
        check(&v)?;
        filters::unique(s, v, k)
    });
    env.add_filter("reverse", |v: &Value| {
        check(v)?;
        filters::reverse(v)
    });
    env.add_filter("tojson", |v: &Value, indent: Option<Value>, k: Kwargs| {
        check_json(v)?;
        filters::tojson(v, indent, k)
    });
    env.add_filter("sum", |s: &State, v: Value| {
        check(&v)?;
        filters::sum(s, v)
    });
    env.add_filter("min", |s: &State, v: Value| {
        check(&v)?;
        filters::min(s, v)
    });
    env.add_filter("max", |s: &State, v: Value| {
        check(&v)?;
        filters::max(s, v)
    });
    env.add_filter("last", |v: Value| {
        check(&v)?;
        filters::last(v)
    });
    env.add_filter(
        "batch",
        |s: &State, v: Value, n: usize, fill: Option<Value>| {
            check(&v)?;
            filters::batch(s, v, n, fill)
        },
    );
    env.add_filter(
        "slice",
        |s: &State, v: Value, n: usize, fill: Option<Value>| {
            check(&v)?;
            filters::slice(s, v, n, fill)
        },
    );
    env.add_filter("map", |s: &State, v: Value, args: Rest<Value>| {
        check(&v)?;
        filters::map(s, v, args)
    });
    env.add_filter("select", select);
    env.add_filter("reject", reject);
    env.add_filter("selectattr", selectattr);
    env.add_filter("rejectattr", rejectattr);
    env.add_filter("dictsort", |v: &Value, k: Kwargs| {
        check(v)?;
        filters::dictsort(v, k)
    });
    env.add_filter("items", |v: &Value| {
        check(v)?;
        filters::items(v)
    });
    env.add_filter("string", |s: &State, v: &Value| {
        check(v)?;
        filters::string(s, v)
    });
    env.add_filter("chain", |s: &State, v: Value, others: Rest<Value>| {
        check(&v)?;
        others.iter().try_for_each(check)?;
        filters::chain(s, v, others)
    });
    env.add_filter("zip", |s: &State, v: Value, others: Rest<Value>| {
        check(&v)?;
        others.iter().try_for_each(check)?;
        filters::zip(s, v, others)
    });
}

fn select(
    s: &State,
    v: Value,
    test: Option<Cow<'_, str>>,
    args: Rest<Value>,
) -> Result<Vec<Value>, Error> {
    check(&v)?;
    filters::select(s, v, test, args)
}

fn reject(
    s: &State,
    v: Value,
    test: Option<Cow<'_, str>>,
    args: Rest<Value>,
) -> Result<Vec<Value>, Error> {
    check(&v)?;
    filters::reject(s, v, test, args)
}

fn selectattr(
    s: &State,
    v: Value,
    attr: Cow<'_, str>,
    test: Option<Cow<'_, str>>,
    args: Rest<Value>,
) -> Result<Vec<Value>, Error> {
    check(&v)?;
    filters::selectattr(s, v, attr, test, args)
}

fn rejectattr(
    s: &State,
    v: Value,
    attr: Cow<'_, str>,
    test: Option<Cow<'_, str>>,
    args: Rest<Value>,
) -> Result<Vec<Value>, Error> {
    check(&v)?;
    filters::rejectattr(s, v, attr, test, args)
}

#[cfg(test)]
mod tests {
    use crate::template::{Compiler, Tpl};
    use minijinja::value::Value;

    fn render(text: &str) -> Result<String, String> {
        let (t, _) = Compiler::new().string(text).map_err(|e| e.to_string())?;
        let t: Tpl = t;
        t.render(&Value::from(()))
            .map(|s| s.into_owned())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn huge_lists_and_texts_are_refused_before_they_are_built() {
        let e = render("{{ [0] * 1000000000 }}").unwrap_err();
        assert!(e.contains("1000000000 items"), "{e}");
        let e = render("{{ (['abcdefghij' * 1000] * 100000) | join }}").unwrap_err();
        assert!(e.contains("longer than 16 MB"), "{e}");
        let e = render("{{ ([0] * 1000000000) | list | length }}").unwrap_err();
        assert!(e.contains("items"), "{e}");
        let e = render("{{ ([1] * 1000000000) | sum }}").unwrap_err();
        assert!(e.contains("items"), "{e}");
        let e = render("{% for i in range(100) %}{{ 'x' * 1000000 }}{% endfor %}").unwrap_err();
        assert!(e.contains("longer than 16 MB"), "{e}");
        // What real templates do still works.
        assert_eq!(render("{{ [1, 2] * 2 }}").unwrap(), "[1, 2, 1, 2]");
        assert_eq!(render("{{ ['a', 'b'] | join('-') }}").unwrap(), "a-b");
        assert_eq!(render("{{ '-' * 3 }}").unwrap(), "---");
        assert_eq!(
            render("{{ [3, 1, 2] | sort | list }}").unwrap(),
            "[1, 2, 3]"
        );
        let big = crate::template::to_json(&Value::from_iter(0..200_000));
        assert!(big.is_err());
    }
}
