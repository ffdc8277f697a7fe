//! The engine's one error type. Every variant maps to a stable machine-readable code that the HTTP edge
//! turns into a status; storage details are logged, never shown.

use store::{DbError, DbErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The input is malformed or breaks a rule; the message says which field and why.
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    #[error("{what} `{id}` not found")]
    NotFound { what: &'static str, id: String },
    /// The request conflicts with current state (wrong order status, duplicate handle, …).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("not enough stock of `{sku}` at `{location_id}`: {available} available, {requested} requested")]
    OutOfStock { sku: String, location_id: String, available: i64, requested: i64 },
    #[error("authentication required or invalid")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    /// The card processor declined the payment (`code` is the processor's reason, e.g. `card_declined`).
    #[error("the card was declined: {0}")]
    PaymentDeclined(String),
    /// Too many attempts (logins); retry after the window.
    #[error("{0}")]
    RateLimited(String),
    #[error("storage: {0}")]
    Db(#[from] DbError),
}

impl EngineError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        EngineError::Invalid { code, message: message.into() }
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        EngineError::Conflict { code, message: message.into() }
    }
    pub fn not_found(what: &'static str, id: impl Into<String>) -> Self {
        EngineError::NotFound { what, id: id.into() }
    }

    /// The stable code integrators match on.
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::Invalid { code, .. } | EngineError::Conflict { code, .. } => code,
            EngineError::NotFound { .. } => "not_found",
            EngineError::OutOfStock { .. } => "out_of_stock",
            EngineError::Unauthorized => "unauthorized",
            EngineError::Forbidden(_) => "forbidden",
            EngineError::RateLimited(_) => "too_many_attempts",
            EngineError::PaymentDeclined(_) => "card_declined",
            EngineError::Db(e) => match e.kind {
                DbErrorKind::Overloaded => "overloaded",
                DbErrorKind::Unavailable => "unavailable",
                DbErrorKind::Retryable => "busy",
                DbErrorKind::StorageFull => "storage_full",
                _ => "internal",
            },
        }
    }
}

impl store::TxError for EngineError {
    fn is_retryable(&self) -> bool {
        matches!(self, EngineError::Db(e) if e.kind == DbErrorKind::Retryable)
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// Shorthand for field validation failures.
pub(crate) fn bad(message: impl Into<String>) -> EngineError {
    EngineError::invalid("invalid_request", message)
}

/// An internal failure (a panicked worker, a stored model that does not parse): logged, shown as a 500.
pub(crate) fn internal(message: String) -> EngineError {
    EngineError::Db(DbError::new(DbErrorKind::Other, message))
}
