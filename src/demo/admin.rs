//! WikiPro's tenant library and the admin side of the demo target: an
//! admin (`admin@TENANT.test`, with the admin password) adds and removes the
//! documents every user of the tenant reads, and reads how many logins,
//! logouts and sign-ups the target has seen. Admin routes need an admin
//! token of that tenant; a user's token gets 403.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::User;
use super::errors::{parse, require, ApiError, ApiResult};
use super::store::{push_capped, timestamp, Document, Store};

fn admin_of(user: &User, tenant: Option<&str>) -> ApiResult<()> {
    if !user.0.admin {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "admin token needed"));
    }
    match (tenant, &user.0.tenant) {
        (Some(t), Some(own)) if t != own => {
            Err(ApiError::new(StatusCode::FORBIDDEN, "tenant mismatch"))
        }
        _ => Ok(()),
    }
}

#[derive(Deserialize)]
struct NewDocument {
    title: String,
    body: String,
}

/// `POST /api/admin/v1/{tenant}/library`: adds a shared document.
pub async fn add_document(
    State(store): State<Arc<Store>>,
    user: User,
    Path(tenant): Path<String>,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    admin_of(&user, Some(&tenant))?;
    let req: NewDocument = parse(&body)?;
    require(!req.title.trim().is_empty(), "title", "must not be empty")?;
    let doc = Document {
        id: store.id(),
        title: req.title,
        body: req.body,
        created_at: timestamp(),
    };
    let out = json!(doc);
    push_capped(store.data().library.entry(tenant).or_default(), doc);
    Ok((StatusCode::CREATED, Json(out)))
}

/// `DELETE /api/admin/v1/{tenant}/library`: removes every shared document.
pub async fn clear_library(
    State(store): State<Arc<Store>>,
    user: User,
    Path(tenant): Path<String>,
) -> ApiResult<Json<Value>> {
    admin_of(&user, Some(&tenant))?;
    let removed = store
        .data()
        .library
        .remove(&tenant)
        .map_or(0, |docs| docs.len());
    Ok(Json(json!({ "removed": removed })))
}

/// `GET /api/v1/{tenant}/library`: the tenant's shared documents.
pub async fn library(
    State(store): State<Arc<Store>>,
    user: User,
    Path(tenant): Path<String>,
) -> ApiResult<Json<Value>> {
    if user.0.tenant.as_deref() != Some(tenant.as_str()) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "tenant mismatch"));
    }
    let data = store.data();
    let docs: Vec<Value> = data
        .library
        .get(&tenant)
        .map(|d| {
            d.iter()
                .map(|d| json!({ "id": d.id, "title": d.title }))
                .collect()
        })
        .unwrap_or_default();
    Ok(Json(json!({ "documents": docs })))
}

/// `GET /api/admin/stats`: what the target has seen since it started.
pub async fn stats(State(store): State<Arc<Store>>, user: User) -> ApiResult<Json<Value>> {
    admin_of(&user, None)?;
    let c = &store.counts;
    Ok(Json(json!({
        "logins": c.logins.load(Ordering::Relaxed),
        "logouts": c.logouts.load(Ordering::Relaxed),
        "registrations": c.registrations.load(Ordering::Relaxed),
    })))
}
