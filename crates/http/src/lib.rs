//! The REST API of borderless (the only crate that knows HTTP and JSON requests): the admin surface for
//! sellers and staff, the store surface for shoppers, the devices surface for in-store hardware, request
//! limits, the one error shape, and `/openapi.json`, built from the same table as the router (`openapi`).
//! Handlers translate; every rule lives in `engine`.

pub mod clients;
mod cursor;
mod error;
mod extract;
mod listener;
pub mod openapi;
pub mod ratelimit;
mod respond;
mod routes;
mod server;

pub use error::{korean, ApiError, ApiResult};
pub use extract::ClientAddr;
pub use listener::PeerAddr;
pub use server::{serve, ServerLimits};

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use engine::Engine;
use openapi::{Api, Op};
use respond::envelope;
use std::sync::OnceLock;

/// Largest JSON body accepted (catalog imports have their own, larger limit).
pub const MAX_BODY_BYTES: usize = 1 << 20;
pub const MAX_IMPORT_BYTES: usize = 64 << 20;
pub const MAX_PAGE: usize = 100;

#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
}

/// Every operation of the API with its router, before state is attached (tests walk it).
pub fn api() -> Api {
    Api::default()
        .route(
            Op::get("/health")
                .tag("platform")
                .doc("Liveness and database reachability.")
                .ok::<HealthOut>()
                .errors(&[503]),
            health,
        )
        .route(
            Op::get("/openapi.json").tag("platform").doc("This document (OpenAPI 3.1).").ok::<OpenApiDocument>(),
            openapi_json,
        )
        .merge(routes::api())
}

/// The OpenAPI document, built once from the same table as the router.
pub fn openapi_document() -> &'static serde_json::Value {
    static DOC: OnceLock<serde_json::Value> = OnceLock::new();
    DOC.get_or_init(|| api().into_parts().1)
}

async fn openapi_json() -> Json<&'static serde_json::Value> {
    Json(openapi_document())
}

pub fn router(engine: Engine) -> Router {
    let state = AppState { engine };
    let (routes, _) = api().into_parts();
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(log_requests))
        .with_state(state)
}

async fn log_requests(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let start = std::time::Instant::now();
    let res = next.run(req).await;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let status = res.status().as_u16();
    if status >= 500 {
        tracing::error!(%method, %path, status, ms, "request failed");
    } else {
        tracing::debug!(%method, %path, status, ms, "request");
    }
    res
}

async fn not_found() -> ApiError {
    ApiError::Request {
        status: StatusCode::NOT_FOUND,
        code: "route_not_found",
        message: "no such endpoint; see /openapi.json".into(),
    }
}

/// An OpenAPI 3.1 document (this one).
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
pub struct OpenApiDocument {
    /// `3.1.0`
    openapi: String,
    info: serde_json::Map<String, serde_json::Value>,
    paths: serde_json::Map<String, serde_json::Value>,
    components: serde_json::Map<String, serde_json::Value>,
}

async fn method_not_allowed(req: axum::extract::Request) -> ApiError {
    ApiError::Request {
        status: StatusCode::METHOD_NOT_ALLOWED,
        code: "method_not_allowed",
        message: format!("{} is not served at {}; see /openapi.json for its methods", req.method(), req.uri().path()),
    }
}

envelope!(HealthOut {
    /// `ok`
    status: String
});

async fn health(State(s): State<AppState>) -> Response {
    match s.engine.locations().await {
        Ok(_) => Json(HealthOut { status: "ok".into() }).into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({
                "status": "unavailable",
                "error": {"code": e.code(), "message": "the database does not answer; the node retries by itself"}
            })),
        )
            .into_response(),
    }
}
