//! The first response of each failure reason, shortened and with secrets
//! removed, so a report can show what the server said without leaking a
//! token or a password.

use crate::redact::{redact_json, redact_text};

/// At most this many characters of a response are kept.
const MAX_CHARS: usize = 300;

/// A short, secret-free excerpt of a response body; `None` when empty.
pub fn excerpt(body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(body);
    let cleaned = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(mut json) => {
            redact_json(&mut json);
            json.to_string()
        }
        Err(_) => redact_text(&text),
    };
    let one_line = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    Some(if one_line.chars().count() > MAX_CHARS {
        format!("{}…", one_line.chars().take(MAX_CHARS).collect::<String>())
    } else {
        one_line
    })
}

#[cfg(test)]
mod tests {
    use super::excerpt;

    #[test]
    fn secrets_are_hidden_and_long_bodies_cut() {
        let json = excerpt(
            br#"{"error":"bad","access_token":"abc.def","user":{"password":"pw","name":"Ann"}}"#,
        )
        .unwrap();
        assert!(
            !json.contains("abc.def") && !json.contains("\"pw\""),
            "{json}"
        );
        assert!(json.contains("Ann") && json.contains("bad"), "{json}");
        let nested = excerpt(br#"{"password":["hunter2"],"session":{"id":"abc"},"error":"Authorization: Bearer eyJ.x","headers":{"X-Api-Key":"k1"}}"#).unwrap();
        for leak in ["hunter2", "abc", "eyJ.x", "k1"] {
            assert!(!nested.contains(leak), "{leak} in {nested}");
        }
        let quoted = excerpt(br#"password: "two words" ok"#).unwrap();
        assert!(!quoted.contains("words"), "{quoted}");
        let text =
            excerpt(b"denied: token=abc123&user=ann; Authorization: Bearer xyz.789").unwrap();
        assert!(
            !text.contains("abc123") && !text.contains("xyz.789"),
            "{text}"
        );
        assert!(text.contains("user=ann"), "{text}");
        let long = excerpt(&[b'a'; 1000]).unwrap();
        assert_eq!(long.chars().count(), 301);
        assert_eq!(excerpt(b""), None);
    }
}
