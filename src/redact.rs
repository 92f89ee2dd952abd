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

/// Query parameters that hold a secret although their names carry none of
/// [`SECRET_WORDS`] (signed URLs, API keys).
const SECRET_PARAMS: [&str; 7] = [
    "key",
    "sig",
    "signature",
    "auth",
    "access_key",
    "x-amz-signature",
    "x-amz-credential",
];

/// Whether a URL's query parameter named `name` holds a secret.
pub fn is_secret_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    is_secret(&lower) || SECRET_PARAMS.contains(&lower.as_str())
}

/// A URL (or text holding one, a template) with its user information and
/// the values of its secret query parameters hidden:
/// `http://u:p@h/x?api_key=1&page=2` → `http://[hidden]@h/x?api_key=[hidden]&page=2`.
pub fn hide_url_secrets(url: &str) -> String {
    let url = hide_userinfo(url.to_string());
    let Some(q) = url.find('?') else {
        return url;
    };
    let (head, query) = url.split_at(q + 1);
    let (query, fragment) = match query.find('#') {
        Some(h) => query.split_at(h),
        None => (query, ""),
    };
    let params: Vec<String> = query
        .split('&')
        .map(|p| match p.split_once('=') {
            Some((name, _)) if is_secret_param(name) => format!("{name}=[hidden]"),
            _ => p.to_string(),
        })
        .collect();
    format!("{head}{}{fragment}", params.join("&"))
}

/// `token=abc`, `"password": "x"`, `Bearer abc`, `?key=abc` in text that is
/// not JSON.
pub fn redact_text(text: &str) -> String {
    static PAIRS: OnceLock<Regex> = OnceLock::new();
    static BEARER: OnceLock<Regex> = OnceLock::new();
    static PARAMS: OnceLock<Regex> = OnceLock::new();
    let pairs = PAIRS.get_or_init(|| {
        Regex::new(r#"(?i)([a-z_-]*(token|password|secret|authorization|cookie|api[_-]?key|session|credential)[a-z_-]*["']?\s*[:=]\s*)(?:"[^"]*"|'[^']*'|(?:(?:bearer|basic)\s+)?[^"'&\s,;}<]+)"#)
            .expect("static regex")
    });
    let bearer = BEARER.get_or_init(|| {
        Regex::new(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+").expect("static regex")
    });
    let params = PARAMS.get_or_init(|| {
        Regex::new(r"(?i)([?&](?:key|sig|signature|auth|access_key|x-amz-signature|x-amz-credential)=)[^&#\s\x22']+")
            .expect("static regex")
    });
    let text = pairs.replace_all(text, "${1}[hidden]");
    let text = params.replace_all(&text, "${1}[hidden]");
    let text = bearer.replace_all(&text, "$1 [hidden]").into_owned();
    hide_all_userinfo(&text)
}

/// Every `scheme://user:pw@host` in `text` with its user information hidden.
fn hide_all_userinfo(text: &str) -> String {
    static USERINFO: OnceLock<Regex> = OnceLock::new();
    let re = USERINFO.get_or_init(|| {
        Regex::new(r"([a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#\s@]+@").expect("static regex")
    });
    re.replace_all(text, "${1}[hidden]@").into_owned()
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
    fn urls_lose_their_user_information_and_secret_parameters() {
        assert_eq!(
            hide_url_secrets("http://admin:pw@host/x?api_key=abc&page=2&sig=zz#top"),
            "http://[hidden]@host/x?api_key=[hidden]&page=2&sig=[hidden]#top"
        );
        assert_eq!(hide_url_secrets("/users?key=k1"), "/users?key=[hidden]");
        assert_eq!(hide_url_secrets("/plain"), "/plain");
        assert_eq!(
            redact_text("cannot connect to http://u:p@h/x?key=abc&n=1"),
            "cannot connect to http://[hidden]@h/x?key=[hidden]&n=1"
        );
        assert_eq!(redact_text("monkey=1&keyboard=2"), "monkey=1&keyboard=2");
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
