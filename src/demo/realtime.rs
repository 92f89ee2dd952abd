//! The demo target's WebSocket endpoints: WikiPro's AI chat
//! (`/api/v1/{tenant}/ai/ws`: send `{"prompt": …}`, receive `{"token": …}`
//! messages then `{"done": true}`) and Ryze's sync channel (`/ws/sync`: send
//! `{"op": …, "id": …}`, receive `{"ack": id}`; `{"op": "bye"}` makes the
//! server close). Both authenticate the handshake like every API route.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{json, Value};

use super::auth::User;
use super::errors::{ApiError, ApiResult};
use super::store::Store;
use super::wikipro::reply_to;

pub async fn ai_ws(
    State(store): State<Arc<Store>>,
    user: User,
    Path(tenant): Path<String>,
    upgrade: WebSocketUpgrade,
) -> ApiResult<Response> {
    if user.0.tenant.as_deref() != Some(tenant.as_str()) {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "tenant mismatch",
        ));
    }
    let (first, each) = (store.first_token, store.token_delay);
    Ok(upgrade.on_upgrade(move |socket| chat(socket, first, each)))
}

async fn chat(mut socket: WebSocket, first: Duration, each: Duration) {
    while let Some(Ok(message)) = socket.recv().await {
        let Message::Text(text) = message else {
            continue;
        };
        let prompt = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("prompt").and_then(Value::as_str).map(str::to_string));
        let Some(prompt) = prompt else {
            let error = json!({ "error": "send {\"prompt\": \"...\"}" }).to_string();
            if socket.send(Message::text(error)).await.is_err() {
                return;
            }
            continue;
        };
        for (i, token) in reply_to(&prompt).split_inclusive(' ').enumerate() {
            tokio::time::sleep(if i == 0 { first } else { each }).await;
            if socket
                .send(Message::text(json!({ "token": token }).to_string()))
                .await
                .is_err()
            {
                return;
            }
        }
        if socket
            .send(Message::text(json!({ "done": true }).to_string()))
            .await
            .is_err()
        {
            return;
        }
    }
}

pub async fn sync(_user: User, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(sync_channel)
}

async fn sync_channel(mut socket: WebSocket) {
    while let Some(Ok(message)) = socket.recv().await {
        let Message::Text(text) = message else {
            continue;
        };
        let reply = match serde_json::from_str::<Value>(&text) {
            Ok(v) if v.get("op").and_then(Value::as_str) == Some("bye") => {
                let frame = CloseFrame {
                    code: 1000,
                    reason: "bye".into(),
                };
                let _ = socket.send(Message::Close(Some(frame))).await;
                return;
            }
            Ok(v) if v.get("op").is_some() => {
                json!({ "ack": v.get("id").cloned().unwrap_or(Value::Null) })
            }
            _ => json!({ "error": "send {\"op\": \"...\", \"id\": ...}" }),
        };
        if socket.send(Message::text(reply.to_string())).await.is_err() {
            return;
        }
    }
}
