//! The one API error type: a stable machine-readable `code`, an HTTP status, a message for humans, and
//! never an internal detail (storage errors are logged with their cause and answered as `internal`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use engine::EngineError;
use serde_json::json;

#[derive(Debug)]
pub enum ApiError {
    Engine(EngineError),
    /// A problem with the request itself (bad JSON, missing header, limit exceeded).
    Request { status: StatusCode, code: &'static str, message: String },
}

impl ApiError {
    pub fn bad(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Request { status: StatusCode::BAD_REQUEST, code, message: message.into() }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        ApiError::Engine(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            ApiError::Request { status, code, message } => (status, json!({ "error": { "code": code, "message": message } })),
            ApiError::Engine(e) => {
                let status = match &e {
                    EngineError::Invalid { .. } => StatusCode::BAD_REQUEST,
                    EngineError::NotFound { .. } => StatusCode::NOT_FOUND,
                    EngineError::Conflict { .. } | EngineError::OutOfStock { .. } => StatusCode::CONFLICT,
                    EngineError::Unauthorized => StatusCode::UNAUTHORIZED,
                    EngineError::Forbidden(_) => StatusCode::FORBIDDEN,
                    EngineError::Db(d) => match d.kind {
                        store::DbErrorKind::Overloaded | store::DbErrorKind::Unavailable | store::DbErrorKind::Retryable => {
                            StatusCode::SERVICE_UNAVAILABLE
                        }
                        _ => StatusCode::INTERNAL_SERVER_ERROR,
                    },
                };
                let message = match &e {
                    EngineError::Db(d) => {
                        tracing::error!(error = %d, "storage error");
                        match status {
                            StatusCode::SERVICE_UNAVAILABLE => "the service is busy; retry shortly".to_owned(),
                            _ => "internal error; the event is logged".to_owned(),
                        }
                    }
                    other => other.to_string(),
                };
                let mut err = json!({ "code": e.code(), "message": message });
                if let EngineError::OutOfStock { sku, location_id, available, requested } = &e {
                    err["sku"] = json!(sku);
                    err["location_id"] = json!(location_id);
                    err["available"] = json!(available);
                    err["requested"] = json!(requested);
                }
                if let EngineError::NotFound { what, id } = &e {
                    err["resource"] = json!(what);
                    err["id"] = json!(id);
                }
                (status, json!({ "error": err }))
            }
        };
        (status, axum::Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
