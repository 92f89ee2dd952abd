//! Keeping secrets out of everything trek writes: which field and header
//! names are secret, and hiding their values in JSON and in text (failure
//! reasons, response excerpts), and the user information of a URL on a
//! command line. Every layer may use it; it uses nothing of the crate.

use std::sync::OnceLock;

use regex::Regex;

/// Words that mark a field or header as secret: its values never appear in
/// failure reasons (which end up in reports and logs).
const SECRET_WORDS: [&str; 10] = [
    "token",
    "password",
    "secret",
    "authorization",
    "cookie",
    "api_key",
    "api-key",
    "apikey",
    "session",
    "credential",
];

/// Whether a field or header named `name` holds a secret.
pub fn is_secret(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| lower.contains(w))
}

/// Hides, in place, the value of every secret field of `v` (whole lists and
/// objects alike) and secrets quoted inside its strings.
pub fn redact_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if is_secret(k) {
                    // The whole value, list or object alike.
                    *val = serde_json::Value::from("[hidden]");
                } else {
                    redact_json(val);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        // A message may quote a header: `"Authorization: Bearer …"`.
        serde_json::Value::String(s) => {
            let cleaned = redact_text(s);
            if cleaned != *s {
                *s = cleaned;
            }
        }
        _ => {}
    }
}

/// `token=abc`, `"password": "x"`, `Bearer abc` in text that is not JSON.
pub fn redact_text(text: &str) -> String {
    static PAIRS: OnceLock<Regex> = OnceLock::new();
    static BEARER: OnceLock<Regex> = OnceLock::new();
    let pairs = PAIRS.get_or_init(|| {
        Regex::new(r#"(?i)([a-z_-]*(token|password|secret|authorization|cookie|api[_-]?key|session|credential)[a-z_-]*["']?\s*[:=]\s*)(?:"[^"]*"|'[^']*'|(?:(?:bearer|basic)\s+)?[^"'&\s,;}<]+)"#)
            .expect("static regex")
    });
    let bearer = BEARER.get_or_init(|| {
        Regex::new(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+").expect("static regex")
    });
    let text = pairs.replace_all(text, "${1}[hidden]");
    bearer.replace_all(&text, "$1 [hidden]").into_owned()
}

/// `http://user:pw@host/x` → `http://[hidden]@host/x`; only an `@` in the
/// authority (before the path) counts.
pub fn hide_userinfo(a: String) -> String {
    let Some(scheme) = a.find("://") else {
        return a;
    };
    let start = scheme + 3;
    let end = a[start..]
        .find(['/', '?', '#'])
        .map_or(a.len(), |i| start + i);
    match a[start..end].rfind('@') {
        Some(at) => format!("{}[hidden]{}", &a[..start], &a[start + at..]),
        None => a,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_and_their_values_in_text_are_hidden() {
        for name in [
            "Authorization",
            "X-Api-Key",
            "access_token",
            "SessionId",
            "db_password",
        ] {
            assert!(is_secret(name), "{name}");
        }
        assert!(!is_secret("user"));
        let text = redact_text("token=abc&user=ann Bearer xyz.1");
        assert_eq!(text, "token=[hidden]&user=ann Bearer [hidden]");
        let mut json =
            serde_json::json!({"password": ["a"], "note": "Authorization: Basic dXNlcg=="});
        redact_json(&mut json);
        assert_eq!(
            json,
            serde_json::json!({"password": "[hidden]", "note": "Authorization: [hidden]"})
        );
    }

    #[test]
    fn url_user_information_is_hidden_only_in_the_authority() {
        assert_eq!(
            hide_userinfo("https://qa:s3cret@api.test/v1".into()),
            "https://[hidden]@api.test/v1"
        );
        assert_eq!(
            hide_userinfo("http://api.test/users/@me".into()),
            "http://api.test/users/@me"
        );
        assert_eq!(hide_userinfo("plain".into()), "plain");
    }
}
