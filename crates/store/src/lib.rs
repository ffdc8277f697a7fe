//! Storage for borderless: one small transaction interface ([`Tx`]) with two interchangeable backends,
//! SQLite (embedded default, one group-committing writer thread) and PostgreSQL (a pool of worker
//! connections). The engine writes its SQL once against [`Tx`]; only this crate knows a concrete database.
//!
//! Work is submitted as closures that run inside one transaction on a database thread. A write closure's
//! effects are committed (durably: SQLite `synchronous=FULL`, PostgreSQL defaults) before its caller is told
//! the result, so an acknowledged write survives `kill -9`.

mod error;
mod migrate;
pub use migrate::checksum_of as migrate_checksum_of;
mod pg;
mod pg_tls;
mod schema;
mod schema_analytics;
mod sqlite;
mod value;

pub use error::{DbError, DbErrorKind};
pub use value::{Row, Val};

use std::sync::Arc;

/// The SQL dialect of a backend, for the few statements that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// One open transaction. SQL uses `?` placeholders on both backends (PostgreSQL's are rewritten to `$n`).
/// Column types are limited to BIGINT and TEXT so that both backends behave the same.
pub trait Tx {
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, DbError>;
    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, DbError>;
    fn dialect(&self) -> Dialect;

    /// `" FOR UPDATE"` where the backend has row locks (PostgreSQL); nothing on SQLite, whose single writer
    /// already runs write transactions one at a time. Appended to a `SELECT` that locks what it reads.
    fn for_update(&self) -> &'static str {
        match self.dialect() {
            Dialect::Postgres => " FOR UPDATE",
            Dialect::Sqlite => "",
        }
    }
}

impl dyn Tx + '_ {
    pub fn query_opt(&mut self, sql: &str, params: &[Val]) -> Result<Option<Row>, DbError> {
        let mut rows = self.query(sql, params)?;
        Ok(if rows.is_empty() { None } else { Some(rows.swap_remove(0)) })
    }
    pub fn query_one(&mut self, sql: &str, params: &[Val]) -> Result<Row, DbError> {
        self.query_opt(sql, params)?
            .ok_or_else(|| DbError::new(DbErrorKind::Other, format!("expected one row from: {sql}")))
    }
}

/// Builds a `&[Val]` parameter list: `params![sku, qty]`.
#[macro_export]
macro_rules! params {
    () => { &[] as &[$crate::Val] };
    ($($x:expr),+ $(,)?) => { &[$($crate::Val::from($x)),+] as &[$crate::Val] };
}

/// What a transaction closure asks of its backend once it has run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Commit,
    Rollback,
    /// Roll back and run the closure again (deadlock or serialization failure on PostgreSQL).
    Retry,
}

/// A unit of work executed on a database thread. `run` may be called more than once (retries);
/// `finish` is called exactly once, after the transaction's fate is sealed.
pub trait Job: Send {
    fn run(&mut self, tx: &mut dyn Tx) -> Step;
    fn finish(self: Box<Self>, outcome: Result<(), DbError>);
}

/// Errors carried out of a transaction closure. `From<DbError>` lets closures use `?` on SQL calls.
pub trait TxError: From<DbError> + Send + 'static {
    fn is_retryable(&self) -> bool;
}

impl TxError for DbError {
    fn is_retryable(&self) -> bool {
        self.kind == DbErrorKind::Retryable
    }
}

pub(crate) trait Backend: Send + Sync {
    fn submit(&self, job: Box<dyn Job>, write: bool) -> Result<(), (Box<dyn Job>, DbError)>;
    fn dialect(&self) -> Dialect;
    fn describe(&self) -> String;
}

/// Options for opening a database.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// Worker connections (PostgreSQL) or reader connections (SQLite).
    pub connections: usize,
    /// Most jobs waiting for a database thread before new work is refused with `Overloaded`.
    pub queue_limit: usize,
    /// Most write transactions the SQLite writer folds into one commit.
    pub group_commit_max: usize,
    /// PostgreSQL: the longest a statement may run (and a transaction sit idle) before the server ends it.
    pub statement_timeout_ms: u64,
    /// SQLite: past this many bytes of write-ahead log the writer restarts the log between two commits.
    pub wal_limit_bytes: u64,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            connections: 8,
            queue_limit: 8192,
            group_commit_max: 256,
            statement_timeout_ms: 60_000,
            wal_limit_bytes: 64 << 20,
        }
    }
}

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    backend: Arc<dyn Backend>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.backend.describe())
    }
}

struct ClosureJob<F, R, E> {
    f: F,
    result: Option<Result<R, E>>,
    reply: Option<tokio::sync::oneshot::Sender<Result<R, E>>>,
}

impl<F, R, E> Job for ClosureJob<F, R, E>
where
    F: FnMut(&mut dyn Tx) -> Result<R, E> + Send,
    R: Send,
    E: TxError,
{
    fn run(&mut self, tx: &mut dyn Tx) -> Step {
        let r = (self.f)(tx);
        let step = match &r {
            Ok(_) => Step::Commit,
            Err(e) if e.is_retryable() => Step::Retry,
            Err(_) => Step::Rollback,
        };
        self.result = Some(r);
        step
    }
    fn finish(mut self: Box<Self>, outcome: Result<(), DbError>) {
        let r = match outcome {
            Err(e) => Err(E::from(e)),
            Ok(()) => {
                self.result.take().unwrap_or_else(|| Err(E::from(DbError::new(DbErrorKind::Other, "job never ran"))))
            }
        };
        if let Some(tx) = self.reply.take() {
            let _ = tx.send(r);
        }
    }
}

impl Db {
    /// Opens `sqlite:PATH`, a bare path, or `postgres://…` and brings the schema up to date.
    pub fn open(url: &str, opts: &DbOptions) -> Result<Db, DbError> {
        let backend: Arc<dyn Backend> = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Arc::new(pg::PgBackend::open(url, opts)?)
        } else {
            let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
            Arc::new(sqlite::SqliteBackend::open(path, opts)?)
        };
        Ok(Db { backend })
    }

    pub fn dialect(&self) -> Dialect {
        self.backend.dialect()
    }

    /// Whether `url` names a borderless database that exists already (a SQLite file, or a PostgreSQL
    /// database with borderless's schema), checked without creating or migrating anything. Commands that
    /// inspect or change an existing shop (doctor, import, export) refuse to start a new, empty one.
    pub fn exists(url: &str) -> Result<bool, DbError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let url = url.to_owned();
            // The synchronous client runs its own runtime; keep it off any caller's async runtime.
            return std::thread::spawn(move || -> Result<bool, DbError> {
                let mut c = pg_tls::target(&url)?
                    .connect()
                    .map_err(|e| DbError::new(DbErrorKind::Unavailable, format!("cannot connect: {e}")))?;
                let r = c
                    .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])
                    .map_err(|e| DbError::new(DbErrorKind::Other, e.to_string()))?;
                Ok(r.get::<_, bool>(0))
            })
            .join()
            .map_err(|_| DbError::new(DbErrorKind::Other, String::from("the check stopped")))?;
        }
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
        Ok(std::path::Path::new(path).is_file())
    }

    /// Runs `f` in a write transaction; resolves after the commit is durable.
    pub async fn write<R, E, F>(&self, f: F) -> Result<R, E>
    where
        F: FnMut(&mut dyn Tx) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: TxError,
    {
        self.submit(f, true).await
    }

    /// Runs `f` in a read-only snapshot.
    pub async fn read<R, E, F>(&self, f: F) -> Result<R, E>
    where
        F: FnMut(&mut dyn Tx) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: TxError,
    {
        self.submit(f, false).await
    }

    async fn submit<R, E, F>(&self, f: F, write: bool) -> Result<R, E>
    where
        F: FnMut(&mut dyn Tx) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: TxError,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job = Box::new(ClosureJob { f, result: None, reply: Some(tx) });
        if let Err((_job, e)) = self.backend.submit(job, write) {
            return Err(E::from(e));
        }
        match rx.await {
            Ok(r) => r,
            Err(_) => Err(E::from(DbError::new(DbErrorKind::Unavailable, "database thread stopped"))),
        }
    }

    /// Blocking variant of [`Db::write`] for CLI tools and tests outside a runtime.
    pub fn write_blocking<R, E, F>(&self, f: F) -> Result<R, E>
    where
        F: FnMut(&mut dyn Tx) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: TxError,
    {
        self.submit_blocking(f, true)
    }

    /// Blocking variant of [`Db::read`].
    pub fn read_blocking<R, E, F>(&self, f: F) -> Result<R, E>
    where
        F: FnMut(&mut dyn Tx) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: TxError,
    {
        self.submit_blocking(f, false)
    }

    fn submit_blocking<R, E, F>(&self, f: F, write: bool) -> Result<R, E>
    where
        F: FnMut(&mut dyn Tx) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: TxError,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job = Box::new(ClosureJob { f, result: None, reply: Some(tx) });
        if let Err((_job, e)) = self.backend.submit(job, write) {
            return Err(E::from(e));
        }
        rx.blocking_recv()
            .unwrap_or_else(|_| Err(E::from(DbError::new(DbErrorKind::Unavailable, "database thread stopped"))))
    }
}

/// Runs a job, turning a panic inside it into a rollback so that one bad job cannot take down the
/// database thread that every later request depends on. The job's caller then sees "job never ran".
pub(crate) fn run_guarded(job: &mut dyn Job, tx: &mut dyn Tx) -> Step {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.run(tx))) {
        Ok(step) => step,
        Err(_) => {
            tracing::error!("a database job panicked; its transaction was rolled back");
            Step::Rollback
        }
    }
}

/// Rewrites `?` placeholders to PostgreSQL's `$1, $2, …`, leaving quoted strings alone.
pub(crate) fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    let mut in_str = false;
    for c in sql.chars() {
        match c {
            '\'' => {
                in_str = !in_str;
                out.push(c)
            }
            '?' if !in_str => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_are_numbered_outside_strings() {
        assert_eq!(
            super::numbered_placeholders("SELECT a FROM t WHERE b = ? AND c = '?' AND d = ?"),
            "SELECT a FROM t WHERE b = $1 AND c = '?' AND d = $2"
        );
    }
}
