//! The embedded demo target: an in-memory HTTP server that behaves like the
//! two applications trek's bundled journeys come from (WikiPro, a
//! multi-tenant wiki with AI chat, and Ryze, a nutrition and workout app),
//! with latency and error injection. It imports nothing else of the crate.

mod auth;
mod errors;
mod realtime;
mod ryze;
mod store;
mod wikipro;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rand::Rng;

use store::Store;

/// What the demo target injects into every response.
#[derive(Debug, Clone)]
pub struct Config {
    /// Added to every response.
    pub latency: Duration,
    /// Extra latency, uniform from zero to this.
    pub jitter: Duration,
    /// Share of requests answered 500 (0.0 to 1.0).
    pub error_rate: f64,
    /// Streamed chat: delay before the first token, and between tokens.
    pub first_token: Duration,
    pub token_delay: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            error_rate: 0.0,
            first_token: Duration::from_millis(150),
            token_delay: Duration::from_millis(20),
        }
    }
}

pub fn router(config: Config) -> Router {
    let store = Arc::new(Store::new(config.first_token, config.token_delay));
    let faults = Arc::new(config);
    let api = Router::new()
        .route("/api/auth/login", post(auth::login))
        .route("/api/auth/verify", get(auth::verify_handler))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/auth/register", post(ryze::register))
        .route("/api/me", get(wikipro::me))
        .route(
            "/api/v1/{tenant}/sessions",
            get(wikipro::list_sessions).post(wikipro::create_session),
        )
        .route(
            "/api/v1/{tenant}/sessions/{id}",
            get(wikipro::get_session)
                .patch(wikipro::update_session)
                .delete(wikipro::delete_session),
        )
        .route(
            "/api/v1/{tenant}/sessions/{id}/messages",
            get(wikipro::list_messages).post(wikipro::add_message),
        )
        .route("/api/v1/{tenant}/ai/health", get(wikipro::ai_health))
        .route("/api/v1/{tenant}/ai/chat", post(wikipro::chat))
        .route("/api/v1/{tenant}/ai/ws", get(realtime::ai_ws))
        .route("/ws/sync", get(realtime::sync))
        .route(
            "/api/nutrition/foods",
            get(ryze::list_foods).post(ryze::create_food),
        )
        .route("/api/nutrition/foods/{id}", get(ryze::get_food))
        .route("/api/nutrition/entries", post(ryze::add_entry))
        .route("/api/nutrition/daily-summary", get(ryze::daily_summary))
        .route(
            "/api/workouts",
            get(ryze::list_workouts).post(ryze::create_workout),
        )
        .route("/api/workouts/templates", get(ryze::templates))
        .route("/api/workouts/{id}/exercises", post(ryze::add_exercise))
        .route("/api/barcode/{code}", get(ryze::barcode))
        .route("/api/gps/sessions", post(ryze::create_gps))
        .route("/api/gps/sessions/{id}/points", post(ryze::add_points))
        .route("/api/dashboard", get(ryze::dashboard))
        .layer(axum::middleware::from_fn_with_state(faults, inject_faults))
        .fallback(|| async { errors::ApiError::not_found("route") });
    Router::new()
        .route(
            "/health",
            get(|| async { Json(serde_json::json!({ "status": "ok" })) }),
        )
        .route("/telemetry/health", get(wikipro::telemetry))
        .merge(api)
        .with_state(store)
}

/// Delays each request by the configured latency and jitter, and answers a
/// share of them with 500. Health routes are exempt (they sit outside).
async fn inject_faults(
    State(config): State<Arc<Config>>,
    request: Request,
    next: Next,
) -> Response {
    let (extra, fail) = {
        let mut rng = rand::rng();
        let jitter = if config.jitter.is_zero() {
            Duration::ZERO
        } else {
            config.jitter.mul_f64(rng.random::<f64>())
        };
        (
            config.latency + jitter,
            config.error_rate > 0.0 && rng.random::<f64>() < config.error_rate,
        )
    };
    if !extra.is_zero() {
        tokio::time::sleep(extra).await;
    }
    if fail {
        return errors::ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "injected failure",
        )
        .into_response();
    }
    next.run(request).await
}

/// Serves the demo target on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(config))
        .with_graceful_shutdown(shutdown)
        .await
}
