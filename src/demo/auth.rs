//! Authentication of the demo target: HS256 JWTs made by hand (header,
//! claims, HMAC-SHA256, base64url), login, verify, logout, and the extractor
//! that authenticates a request by bearer token or `session` cookie.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::errors::{parse, ApiError, ApiResult};
use super::store::Store;

const TOKEN_LIFETIME_S: i64 = 3600;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// `admin@TENANT.test`, logged in with the admin password.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub admin: bool,
    pub exp: i64,
    pub jti: String,
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any size")
}

pub fn sign(secret: &[u8], claims: &Claims) -> String {
    let header = B64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = B64.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signing_input = format!("{header}.{payload}");
    let mut m = mac(secret);
    m.update(signing_input.as_bytes());
    let sig = B64.encode(m.finalize().into_bytes());
    format!("{signing_input}.{sig}")
}

/// Checks signature and expiry; returns the claims.
pub fn verify(secret: &[u8], token: &str, now: i64) -> Result<Claims, &'static str> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("malformed token");
    };
    let sig = B64.decode(s).map_err(|_| "malformed token")?;
    let mut m = mac(secret);
    m.update(format!("{h}.{p}").as_bytes());
    m.verify_slice(&sig)
        .map_err(|_| "invalid token signature")?;
    let claims: Claims = serde_json::from_slice(&B64.decode(p).map_err(|_| "malformed token")?)
        .map_err(|_| "malformed token")?;
    if claims.exp <= now {
        return Err("token expired");
    }
    Ok(claims)
}

/// `local@TENANT.test` → `TENANT`.
pub fn tenant_of(email: &str) -> Option<&str> {
    let (local, domain) = email.split_once('@')?;
    let tenant = domain.strip_suffix(".test")?;
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.+".contains(c))
    };
    (ok(local) && ok(tenant)).then_some(tenant)
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct User(pub Claims);

impl FromRequestParts<Arc<Store>> for User {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, store: &Arc<Store>) -> ApiResult<Self> {
        let token = token_of(&parts.headers)
            .ok_or_else(|| ApiError::unauthorized("missing bearer token or session cookie"))?;
        let claims = verify(&store.secret, &token, now()).map_err(ApiError::unauthorized)?;
        if store.is_revoked(&claims.jti) {
            return Err(ApiError::unauthorized("token revoked (logged out)"));
        }
        Ok(User(claims))
    }
}

fn token_of(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return v.strip_prefix("Bearer ").map(|t| t.trim().to_string());
    }
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    cookies
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == "session")
        .map(|(_, v)| v.to_string())
}

#[derive(Deserialize)]
struct Login {
    email: String,
    password: String,
}

pub async fn login(
    State(store): State<Arc<Store>>,
    body: axum::body::Bytes,
) -> ApiResult<impl IntoResponse> {
    let req: Login = parse(&body)?;
    let mut admin = false;
    let (sub, tenant) = match store.ryze_user(&req.email) {
        Some(user) if user.password == req.password => (user.id.clone(), None),
        Some(_) => return Err(ApiError::unauthorized("wrong email or password")),
        None => {
            let tenant = tenant_of(&req.email)
                .ok_or_else(|| ApiError::invalid("`email` must look like name@tenant.test"))?;
            admin = req.email.starts_with("admin@");
            let password: &str = if admin {
                &store.admin_password
            } else {
                "secret"
            };
            if req.password != password {
                return Err(ApiError::unauthorized("wrong email or password"));
            }
            (req.email.clone(), Some(tenant.to_string()))
        }
    };
    store.counts.logins.fetch_add(1, Ordering::Relaxed);
    let claims = Claims {
        sub,
        tenant: tenant.clone(),
        admin,
        exp: now() + TOKEN_LIFETIME_S,
        jti: uuid::Uuid::new_v4().to_string(),
    };
    let token = sign(&store.secret, &claims);
    let cookie = format!("session={token}; Path=/; HttpOnly");
    Ok((
        StatusCode::OK,
        [(header::SET_COOKIE, cookie)],
        Json(serde_json::json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_S,
            "user": { "email": req.email, "tenant": tenant },
        })),
    ))
}

pub async fn verify_handler(User(c): User) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "valid": true, "email": c.sub, "tenant": c.tenant }))
}

pub async fn logout(State(store): State<Arc<Store>>, User(c): User) -> impl IntoResponse {
    store.revoke(&c.jti, c.exp);
    store.counts.logouts.fetch_add(1, Ordering::Relaxed);
    (
        [(header::SET_COOKIE, "session=; Path=/; Max-Age=0")],
        Json(serde_json::json!({ "logged_out": true })),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "a@acme.test".into(),
            tenant: Some("acme".into()),
            admin: false,
            exp,
            jti: "j1".into(),
        }
    }

    #[test]
    fn tokens_round_trip_and_reject_tampering_and_expiry() {
        let t = sign(b"k", &claims(200));
        assert_eq!(verify(b"k", &t, 100).unwrap(), claims(200));
        assert_eq!(verify(b"other", &t, 100), Err("invalid token signature"));
        let mut parts: Vec<&str> = t.split('.').collect();
        let forged = B64.encode(
            serde_json::to_vec(&Claims {
                tenant: Some("evil".into()),
                ..claims(200)
            })
            .unwrap(),
        );
        parts[1] = &forged;
        assert_eq!(
            verify(b"k", &parts.join("."), 100),
            Err("invalid token signature")
        );
        assert_eq!(verify(b"k", &t, 300), Err("token expired"));
        assert_eq!(verify(b"k", "abc", 0), Err("malformed token"));
    }

    #[test]
    fn tenants_come_from_test_emails() {
        assert_eq!(tenant_of("qa1@demo-company.test"), Some("demo-company"));
        assert_eq!(tenant_of("qa1@demo.com"), None);
        assert_eq!(tenant_of("@x.test"), None);
    }
}
