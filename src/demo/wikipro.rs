//! WikiPro: a multi-tenant wiki with AI chat. Every `/api/v1/{tenant}/…`
//! route needs a token of that tenant; another tenant's token gets 403.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::User;
use super::errors::{parse, require, ApiError, ApiResult};
use super::store::{push_capped, timestamp, Message, Session, Store};

fn own_tenant(user: &User, tenant: &str) -> ApiResult<()> {
    match &user.0.tenant {
        Some(t) if t == tenant => Ok(()),
        _ => Err(ApiError::new(StatusCode::FORBIDDEN, "tenant mismatch")),
    }
}

pub async fn me(user: User) -> Json<Value> {
    let name = user
        .0
        .sub
        .split('@')
        .next()
        .unwrap_or_default()
        .replace(['.', '_'], " ");
    Json(json!({ "email": user.0.sub, "tenant": user.0.tenant, "name": name }))
}

pub async fn list_sessions(
    State(store): State<Arc<Store>>,
    user: User,
    Path(tenant): Path<String>,
) -> ApiResult<Json<Value>> {
    own_tenant(&user, &tenant)?;
    let data = store.data();
    let sessions: Vec<Value> = data
        .sessions
        .get(&tenant)
        .map(|list| list.iter().rev().take(50).map(summary).collect())
        .unwrap_or_default();
    Ok(Json(json!({ "sessions": sessions })))
}

fn summary(s: &Session) -> Value {
    json!({ "id": s.id, "title": s.title, "created_at": s.created_at, "messages": s.messages.len() })
}

#[derive(Deserialize)]
struct Title {
    title: String,
}

pub async fn create_session(
    State(store): State<Arc<Store>>,
    user: User,
    Path(tenant): Path<String>,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    own_tenant(&user, &tenant)?;
    let req: Title = parse(&body)?;
    require(!req.title.trim().is_empty(), "title", "must not be empty")?;
    let session = Session {
        id: store.id(),
        title: req.title,
        created_at: timestamp(),
        messages: Vec::new(),
    };
    let out = summary(&session);
    push_capped(store.data().sessions.entry(tenant).or_default(), session);
    Ok((StatusCode::CREATED, Json(out)))
}

fn with_session<T>(
    store: &Store,
    tenant: &str,
    id: &str,
    f: impl FnOnce(&mut Session) -> T,
) -> ApiResult<T> {
    let id: u64 = id.parse().map_err(|_| ApiError::not_found("session"))?;
    let mut data = store.data();
    let session = data
        .sessions
        .get_mut(tenant)
        .and_then(|list| list.iter_mut().find(|s| s.id == id))
        .ok_or_else(|| ApiError::not_found("session"))?;
    Ok(f(session))
}

pub async fn get_session(
    State(store): State<Arc<Store>>,
    user: User,
    Path((tenant, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    own_tenant(&user, &tenant)?;
    with_session(&store, &tenant, &id, |s| Json(json!(s)))
}

pub async fn update_session(
    State(store): State<Arc<Store>>,
    user: User,
    Path((tenant, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    own_tenant(&user, &tenant)?;
    let req: Title = parse(&body)?;
    require(!req.title.trim().is_empty(), "title", "must not be empty")?;
    with_session(&store, &tenant, &id, |s| {
        s.title = req.title;
        Json(summary(s))
    })
}

pub async fn delete_session(
    State(store): State<Arc<Store>>,
    user: User,
    Path((tenant, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    own_tenant(&user, &tenant)?;
    let id: u64 = id.parse().map_err(|_| ApiError::not_found("session"))?;
    let mut data = store.data();
    let list = data
        .sessions
        .get_mut(&tenant)
        .ok_or_else(|| ApiError::not_found("session"))?;
    let before = list.len();
    list.retain(|s| s.id != id);
    if list.len() == before {
        return Err(ApiError::not_found("session"));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct NewMessage {
    role: String,
    content: String,
}

pub async fn add_message(
    State(store): State<Arc<Store>>,
    user: User,
    Path((tenant, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    own_tenant(&user, &tenant)?;
    let req: NewMessage = parse(&body)?;
    require(
        matches!(req.role.as_str(), "user" | "assistant"),
        "role",
        "must be `user` or `assistant`",
    )?;
    require(!req.content.is_empty(), "content", "must not be empty")?;
    let message = Message {
        id: store.id(),
        role: req.role,
        content: req.content,
        created_at: timestamp(),
    };
    let out = json!(message);
    with_session(&store, &tenant, &id, |s| {
        push_capped(&mut s.messages, message)
    })?;
    Ok((StatusCode::CREATED, Json(out)))
}

pub async fn list_messages(
    State(store): State<Arc<Store>>,
    user: User,
    Path((tenant, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    own_tenant(&user, &tenant)?;
    with_session(&store, &tenant, &id, |s| {
        Json(json!({ "messages": s.messages }))
    })
}

pub async fn ai_health(user: User, Path(tenant): Path<String>) -> ApiResult<Json<Value>> {
    own_tenant(&user, &tenant)?;
    Ok(Json(json!({ "status": "ok", "model": "demo-llm" })))
}

#[derive(Deserialize)]
struct Chat {
    prompt: String,
    #[serde(default)]
    session_id: Option<u64>,
}

/// The AI answer: plain JSON, or a Server-Sent Events stream of tokens
/// (`{"token": "..."}` each, then `[DONE]`) when the client accepts
/// `text/event-stream`.
pub async fn chat(
    State(store): State<Arc<Store>>,
    user: User,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    own_tenant(&user, &tenant)?;
    let req: Chat = parse(&body)?;
    require(!req.prompt.trim().is_empty(), "prompt", "must not be empty")?;
    let reply = reply_to(&req.prompt);
    let wants_stream = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    if !wants_stream {
        let tokens = reply.split_whitespace().count();
        let body = json!({ "reply": reply, "tokens": tokens, "model": "demo-llm", "session_id": req.session_id });
        return Ok(Json(body).into_response());
    }
    let tokens: Vec<String> = reply.split_inclusive(' ').map(str::to_string).collect();
    let (first, each) = (store.first_token, store.token_delay);
    let events = futures_util::stream::unfold(0usize, move |i| {
        let frame = match tokens.get(i) {
            Some(t) => Some(format!("data: {}\n\n", json!({ "token": t }))),
            None if i == tokens.len() => Some("data: [DONE]\n\n".to_string()),
            None => None,
        };
        async move {
            let frame = frame?;
            tokio::time::sleep(if i == 0 { first } else { each }).await;
            Some((Ok::<_, std::io::Error>(frame), i + 1))
        }
    });
    let mut response = Body::from_stream(events).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/event-stream"),
    );
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache"),
    );
    Ok(response)
}

/// A deterministic answer of a few sentences built from the prompt.
pub fn reply_to(prompt: &str) -> String {
    let topic: Vec<&str> = prompt.split_whitespace().take(6).collect();
    let topic = topic
        .join(" ")
        .trim_end_matches(['.', '?', '!'])
        .to_string();
    format!(
        "Here is what the wiki says about \"{topic}\". The relevant pages were updated recently and agree with each other. \
         Ask a follow-up question to narrow it down."
    )
}

pub async fn telemetry(State(store): State<Arc<Store>>) -> Json<Value> {
    Json(json!({ "status": "ok", "uptime_s": store.started.elapsed().as_secs() }))
}
