//! The storage error type: a coarse kind the engine can act on, and a message for logs (never for users).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbErrorKind {
    /// A UNIQUE or PRIMARY KEY constraint refused the write.
    UniqueViolation,
    /// A CHECK or foreign key constraint refused the write.
    ConstraintViolation,
    /// Deadlock, serialization failure or a busy database: running the transaction again may succeed.
    Retryable,
    /// Too much work is queued; the caller should back off.
    Overloaded,
    /// The database cannot be reached.
    Unavailable,
    /// The disk under the database is full: nothing of the transaction was saved; it succeeds again once
    /// space is freed.
    StorageFull,
    Other,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct DbError {
    pub kind: DbErrorKind,
    pub message: String,
    /// The constraint that was violated, where the backend says.
    pub constraint: Option<String>,
}

impl DbError {
    pub fn new(kind: DbErrorKind, message: impl Into<String>) -> Self {
        DbError { kind, message: message.into(), constraint: None }
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        let kind = match &e {
            rusqlite::Error::SqliteFailure(f, _) => match f.code {
                ErrorCode::ConstraintViolation => match f.extended_code {
                    1555 | 2067 => DbErrorKind::UniqueViolation, // PRIMARYKEY, UNIQUE
                    _ => DbErrorKind::ConstraintViolation,
                },
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => DbErrorKind::Retryable,
                ErrorCode::CannotOpen | ErrorCode::NotADatabase => DbErrorKind::Unavailable,
                ErrorCode::DiskFull => DbErrorKind::StorageFull,
                _ => DbErrorKind::Other,
            },
            _ => DbErrorKind::Other,
        };
        DbError { kind, message: e.to_string(), constraint: None }
    }
}

impl From<postgres::Error> for DbError {
    fn from(e: postgres::Error) -> Self {
        use postgres::error::SqlState;
        if let Some(db) = e.as_db_error() {
            let code = db.code();
            let kind = if *code == SqlState::UNIQUE_VIOLATION {
                DbErrorKind::UniqueViolation
            } else if *code == SqlState::CHECK_VIOLATION
                || *code == SqlState::FOREIGN_KEY_VIOLATION
                || *code == SqlState::NOT_NULL_VIOLATION
            {
                DbErrorKind::ConstraintViolation
            } else if *code == SqlState::T_R_DEADLOCK_DETECTED
                || *code == SqlState::T_R_SERIALIZATION_FAILURE
                || *code == SqlState::LOCK_NOT_AVAILABLE
            {
                DbErrorKind::Retryable
            } else if *code == SqlState::QUERY_CANCELED {
                // The statement timeout ended it: the database is busy (or the query is runaway); back off.
                DbErrorKind::Overloaded
            } else if *code == SqlState::DISK_FULL {
                DbErrorKind::StorageFull
            } else if *code == SqlState::TOO_MANY_CONNECTIONS || *code == SqlState::ADMIN_SHUTDOWN {
                DbErrorKind::Unavailable
            } else {
                DbErrorKind::Other
            };
            return DbError { kind, message: db.to_string(), constraint: db.constraint().map(str::to_owned) };
        }
        let kind = if e.is_closed() { DbErrorKind::Unavailable } else { DbErrorKind::Other };
        DbError { kind, message: e.to_string(), constraint: None }
    }
}
