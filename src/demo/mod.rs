//! The embedded demo target: an in-memory HTTP server that behaves like the
//! two applications trek's bundled journeys come from (WikiPro, a
//! multi-tenant wiki with AI chat, and Ryze, a nutrition and workout app),
//! with latency and error injection. It imports nothing else of the crate.

mod admin;
mod auth;
mod errors;
mod metrics;
mod realtime;
mod ryze;
mod store;
mod wikipro;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rand::Rng;

use store::Store;

/// The admin password of the demo target unless `--admin-password` (or
/// `WIKIPRO_ADMIN_PASSWORD`) gives another.
pub const DEFAULT_ADMIN_PASSWORD: &str = "demo-admin";

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
    /// The password of each tenant's admin, `admin@TENANT.test`.
    pub admin_password: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            error_rate: 0.0,
            first_token: Duration::from_millis(150),
            token_delay: Duration::from_millis(20),
            admin_password: DEFAULT_ADMIN_PASSWORD.into(),
        }
    }
}

/// The fault layer's settings, and the delays it actually slept (a timer
/// sleeps a little longer than asked), which `GET /telemetry/delay` reports
/// so that a client's own overhead can be told apart from the target's.
struct Faults {
    config: Config,
    slept: Mutex<hdrhistogram::Histogram<u64>>,
}

pub fn router(config: Config) -> Router {
    let store = Arc::new(Store::new(
        config.first_token,
        config.token_delay,
        config.admin_password.clone(),
    ));
    let faults = Arc::new(Faults {
        config,
        slept: Mutex::new(hdrhistogram::Histogram::new(3).expect("3 significant digits")),
    });
    let delays = faults.clone();
    let gauges = Arc::new(metrics::Gauges::default());
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
        .route("/api/v1/{tenant}/library", get(admin::library))
        .route(
            "/api/admin/v1/{tenant}/library",
            post(admin::add_document).delete(admin::clear_library),
        )
        .route("/api/admin/stats", get(admin::stats))
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
        .route(
            "/telemetry/delay",
            get(move || async move { Json(delay_report(&delays)) }),
        )
        .merge(api)
        .with_state(store)
        .route("/metrics", get(metrics::serve).with_state(gauges.clone()))
        .layer(axum::middleware::from_fn_with_state(gauges, metrics::track))
}

/// Delays each request by the configured latency and jitter, and answers a
/// share of them with 500. Health routes are exempt (they sit outside).
async fn inject_faults(
    State(faults): State<Arc<Faults>>,
    request: Request,
    next: Next,
) -> Response {
    let config = &faults.config;
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
        let start = Instant::now();
        tokio::time::sleep(extra).await;
        let slept = start.elapsed().as_micros() as u64;
        if let Ok(mut h) = faults.slept.lock() {
            let _ = h.record(slept);
        }
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

/// The injected delays slept so far, in microseconds.
fn delay_report(faults: &Faults) -> serde_json::Value {
    let h = faults.slept.lock().unwrap_or_else(|e| e.into_inner());
    serde_json::json!({
        "count": h.len(),
        "p50_us": h.value_at_quantile(0.5),
        "p95_us": h.value_at_quantile(0.95),
        "p99_us": h.value_at_quantile(0.99),
        "max_us": h.max(),
    })
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
