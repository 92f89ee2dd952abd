//! One JSON error type for every demo handler (`{"error": "<reason>"}`), and
//! the JSON body extractor that turns a bad body into a 422 naming the field
//! at fault (`exercises[0].sets`), so no plain-text rejection leaks out.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// 422: the request is well formed but breaks a rule.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("{what} not found"))
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({ "error": self.message })),
        )
            .into_response()
    }
}

/// A JSON request body. Unlike `axum::Json` it needs no `Content-Type`, and
/// every failure is a JSON error: 422 for a body that is not JSON or does
/// not fit `T`, axum's status (413 and so on) if the body cannot be read.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> ApiResult<Self> {
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|e| ApiError::new(e.status(), e.body_text()))?;
        parse(&body).map(JsonBody)
    }
}

/// Parses a JSON body; any problem is a 422 whose reason names the field.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid("the request needs a JSON body"));
    }
    serde_json::from_slice(body).map_err(|e| ApiError::invalid(describe(body, &e)))
}

/// serde_json's reason without its position, prefixed by the field's path.
fn describe(body: &[u8], e: &serde_json::Error) -> String {
    let full = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    let reason = full.strip_suffix(&position).unwrap_or(&full);
    if !e.is_data() {
        return format!("the body is not valid JSON: {reason}");
    }
    let offset = offset_of(body, e.line(), e.column());
    if let Some(field) = reason
        .strip_prefix("missing field `")
        .and_then(|r| r.strip_suffix('`'))
    {
        let container = path_at(body, offset, false);
        return format!("`{}` is required", join(&container, field));
    }
    match path_at(body, offset, true) {
        path if path.is_empty() => format!("the body must be a JSON object: {reason}"),
        path => format!("`{path}`: {reason}"),
    }
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

/// Byte offset of serde_json's 1-based line and column.
fn offset_of(body: &[u8], line: usize, column: usize) -> usize {
    let line_start = body
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(line.saturating_sub(2))
        .map_or(0, |(i, _)| i + 1);
    let line_start = if line <= 1 { 0 } else { line_start };
    (line_start + column.saturating_sub(1)).min(body.len())
}

enum Frame {
    Object(Option<String>),
    Array(usize),
}

/// The path (`a.b[2].c`) of the value being read at `offset` of a JSON
/// text; without `last_key`, the path of the object that holds it.
pub fn path_at(body: &[u8], offset: usize, last_key: bool) -> String {
    let mut stack: Vec<Frame> = Vec::new();
    let mut last_string = String::new();
    let mut i = 0;
    while i < offset.min(body.len()) {
        match body[i] {
            b'"' => {
                let start = i + 1;
                i = start;
                while i < body.len() && body[i] != b'"' {
                    i += if body[i] == b'\\' { 2 } else { 1 };
                }
                last_string = String::from_utf8_lossy(&body[start..i.min(body.len())]).into();
            }
            b'{' => stack.push(Frame::Object(None)),
            b'[' => stack.push(Frame::Array(0)),
            b'}' | b']' => {
                stack.pop();
            }
            b':' => {
                if let Some(Frame::Object(key)) = stack.last_mut() {
                    *key = Some(std::mem::take(&mut last_string));
                }
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array(n)) => *n += 1,
                Some(Frame::Object(key)) => *key = None,
                None => {}
            },
            _ => {}
        }
        i += 1;
    }
    if !last_key {
        if let Some(Frame::Object(key)) = stack.last_mut() {
            *key = None;
        }
    }
    let mut path = String::new();
    for frame in &stack {
        match frame {
            Frame::Object(Some(key)) if path.is_empty() => path.push_str(key),
            Frame::Object(Some(key)) => {
                path.push('.');
                path.push_str(key);
            }
            Frame::Object(None) => break,
            Frame::Array(n) => path.push_str(&format!("[{n}]")),
        }
    }
    path
}

/// Fails with 422 naming `field` unless `ok`.
pub fn require(ok: bool, field: &str, rule: &str) -> ApiResult<()> {
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(format!("`{field}` {rule}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    struct Set {
        name: String,
        reps: u32,
    }

    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    struct Workout {
        name: String,
        sets: Vec<Set>,
    }

    fn reason(body: &str) -> String {
        parse::<Workout>(body.as_bytes()).unwrap_err().message
    }

    #[test]
    fn reasons_name_the_field_at_fault() {
        assert_eq!(reason(""), "the request needs a JSON body");
        assert!(reason("{nope").starts_with("the body is not valid JSON: "));
        assert_eq!(reason(r#"{"sets": []}"#), "`name` is required");
        assert_eq!(
            reason(r#"{"name": 5, "sets": []}"#),
            "`name`: invalid type: integer `5`, expected a string"
        );
        assert_eq!(
            reason("{\"name\": \"a\",\n \"sets\": [{\"name\": \"x\", \"reps\": 1}, {\"name\": \"y\", \"reps\": -2}]}"),
            "`sets[1].reps`: invalid value: integer `-2`, expected u32"
        );
        assert_eq!(
            reason(r#"{"name": "a", "sets": [{"name": "x,\"y:"}]}"#),
            "`sets[0].reps` is required"
        );
        assert!(reason("[1]").starts_with("the body must be a JSON object: "));
    }
}
