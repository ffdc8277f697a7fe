//! The crate's error type: every failure names the file, line and column (when there is one) and why.

use std::fmt;
use std::path::PathBuf;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Errors of reading recordings, receipts, configurations and of feeding the engine.
#[derive(Debug)]
pub enum Error {
    /// An I/O failure on a file.
    Io { path: PathBuf, source: std::io::Error },
    /// A required file of a recording directory is absent.
    MissingFile { path: PathBuf },
    /// A malformed line or value: `file:line`, the column (header name) and the reason.
    Parse { path: PathBuf, line: usize, column: Option<String>, reason: String },
    /// An input that exceeds a documented limit (rows, plates, bytes, shoppers, ...).
    Limit { what: String, limit: u64, got: u64 },
    /// An invalid configuration or API argument.
    Invalid { reason: String },
    /// A plate or target the engine does not know.
    Unknown { what: String },
}

impl Error {
    pub(crate) fn parse(path: &std::path::Path, line: usize, column: Option<&str>, reason: impl Into<String>) -> Self {
        Error::Parse { path: path.to_path_buf(), line, column: column.map(str::to_string), reason: reason.into() }
    }
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Error::Io { path: path.to_path_buf(), source }
    }
    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        Error::Invalid { reason: reason.into() }
    }
    pub(crate) fn limit(what: impl Into<String>, limit: u64, got: u64) -> Self {
        Error::Limit { what: what.into(), limit, got }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::MissingFile { path } => write!(f, "{}: required file is missing", path.display()),
            Error::Parse { path, line, column: Some(c), reason } => {
                write!(f, "{}:{line}: column `{c}`: {reason}", path.display())
            }
            Error::Parse { path, line, column: None, reason } => write!(f, "{}:{line}: {reason}", path.display()),
            Error::Limit { what, limit, got } => write!(f, "{what}: {got} exceeds the limit of {limit}"),
            Error::Invalid { reason } => write!(f, "invalid input: {reason}"),
            Error::Unknown { what } => write!(f, "unknown {what}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
