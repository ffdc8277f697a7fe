//! The embedded SQLite backend: WAL mode, `synchronous=FULL`, one writer thread that folds concurrent write
//! transactions into one durable commit (group commit, each job inside its own SAVEPOINT so a failing job
//! rolls back alone), and a pool of reader threads on their own connections.

use crate::{Backend, DbError, DbErrorKind, DbOptions, Dialect, Job, Row, Step, Tx, Val};
use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};
use rusqlite::{types::ValueRef, Connection, OpenFlags};
use std::path::Path;

pub(crate) struct SqliteBackend {
    writer: Sender<Box<dyn Job>>,
    readers: Sender<Box<dyn Job>>,
    path: String,
    /// Tells the checkpoint thread to finish (the writer and readers end when their channels close).
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Drop for SqliteBackend {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

struct SqliteTx<'c> {
    conn: &'c Connection,
}

/// Binds parameters by reference: no copy of text values on the way into SQLite.
impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(rusqlite::types::ToSqlOutput::Borrowed(match self {
            Val::Null => ValueRef::Null,
            Val::Int(i) => ValueRef::Integer(*i),
            Val::Text(s) => ValueRef::Text(s.as_bytes()),
        }))
    }
}

impl SqliteTx<'_> {
    /// Every statement of a job runs inside the transaction its thread began. SQLite rolls a whole
    /// transaction back by itself on some errors (a full disk, an I/O error); a job that went on after one
    /// would run its next statements each in its own autocommit transaction — half of it saved. Refused.
    fn in_transaction(&self) -> Result<(), DbError> {
        if self.conn.is_autocommit() {
            return Err(DbError::new(
                DbErrorKind::Other,
                "SQLite rolled the transaction back after an earlier error; nothing more of it runs",
            ));
        }
        Ok(())
    }
}

impl Tx for SqliteTx<'_> {
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, DbError> {
        self.in_transaction()?;
        let mut stmt = self.conn.prepare_cached(sql)?;
        let n = stmt.execute(rusqlite::params_from_iter(params.iter()))?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, DbError> {
        self.in_transaction()?;
        let mut stmt = self.conn.prepare_cached(sql)?;
        let ncol = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut vals = Vec::with_capacity(ncol);
            for i in 0..ncol {
                vals.push(match r.get_ref(i)? {
                    ValueRef::Null => Val::Null,
                    ValueRef::Integer(v) => Val::Int(v),
                    ValueRef::Real(v) => Val::Int(v as i64),
                    ValueRef::Text(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Val::Text(String::from_utf8_lossy(b).into_owned()),
                });
            }
            out.push(Row(vals));
        }
        Ok(out)
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
}

fn open_conn(path: &str, read_only: bool) -> Result<Connection, DbError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| DbError::new(DbErrorKind::Unavailable, format!("cannot open SQLite database {path}: {e}")))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.set_prepared_statement_cache_capacity(256);
    if !read_only {
        // WAL lets readers run beside the writer; FULL fsyncs the WAL at every commit, so an acknowledged
        // order survives power loss and kill -9.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        // Checkpoints run on their own thread (see `checkpointer`); the writer restarts the log itself when
        // it grows past its limit (see `WalBound`), which replaces SQLite's automatic checkpoint.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    }
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // A page cache of 32 MiB (writer) / 8 MiB (each reader) and 64 MiB of memory-mapped reads keep hot pages
    // out of read() syscalls; measured: the kernel's file-read path was the largest cost of ledger batches.
    // (Mapped pages are the OS page cache: they show in RSS but are shared and reclaimable.)
    conn.pragma_update(None, "cache_size", if read_only { -8_192 } else { -32_768 })?;
    conn.pragma_update(None, "mmap_size", 67_108_864i64)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(conn)
}

impl SqliteBackend {
    pub(crate) fn open(path: &str, opts: &DbOptions) -> Result<Self, DbError> {
        if let Some(parent) = Path::new(path).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| {
                    DbError::new(DbErrorKind::Unavailable, format!("cannot create {}: {e}", parent.display()))
                })?;
            }
        }
        let conn = open_conn(path, false)?;
        {
            conn.execute_batch("BEGIN IMMEDIATE")?;
            let mut tx = SqliteTx { conn: &conn };
            match crate::migrate::migrate(&mut tx, Dialect::Sqlite) {
                Ok(()) => conn.execute_batch("COMMIT")?,
                Err(e) => {
                    let _ = conn.execute_batch("ROLLBACK");
                    return Err(e);
                }
            }
        }
        let (wtx, wrx) = bounded::<Box<dyn Job>>(opts.queue_limit);
        let max = opts.group_commit_max.max(1);
        let bound = WalBound::new(&conn, opts.wal_limit_bytes)?;
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(conn, wrx, max, bound))
            .map_err(|e| DbError::new(DbErrorKind::Other, e.to_string()))?;
        let ck = open_conn(path, false)?;
        // The checkpointer copies WAL frames into the file with plain reads and writes: it needs neither a
        // page cache nor a memory map (each connection's map counts again in the process's RSS).
        ck.pragma_update(None, "cache_size", -1_024)?;
        ck.pragma_update(None, "mmap_size", 0)?;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop_ck = stop.clone();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || checkpointer(ck, stop_ck))
            .map_err(|e| DbError::new(DbErrorKind::Other, e.to_string()))?;
        let (rtx, rrx) = bounded::<Box<dyn Job>>(opts.queue_limit);
        for i in 0..opts.connections.max(1) {
            let rc = open_conn(path, true)?;
            let rrx = rrx.clone();
            std::thread::Builder::new()
                .name(format!("sqlite-reader-{i}"))
                .spawn(move || reader_loop(rc, rrx))
                .map_err(|e| DbError::new(DbErrorKind::Other, e.to_string()))?;
        }
        Ok(SqliteBackend { writer: wtx, readers: rtx, path: path.to_owned(), stop })
    }
}

thread_local! {
    /// Frames in the write-ahead log after this thread's last commit (SQLite's WAL hook says).
    static WAL_FRAMES: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

fn note_wal_frames(_: &rusqlite::hooks::Wal, frames: std::os::raw::c_int) -> rusqlite::Result<()> {
    WAL_FRAMES.with(|f| f.set(frames as i64));
    Ok(())
}

/// Keeps the write-ahead log near its limit under constant load. Background PASSIVE checkpoints copy every
/// page back, but the log only restarts from its beginning when a writer finds it fully copied while no
/// reader holds a snapshot in it — which never happens while readers and the writer are always busy (a
/// 5-minute soak left an 840 MB log beside a 1.76 GB database). So the writer itself, between two
/// commits, once the log holds more than the limit, runs a RESTART checkpoint: it copies what is left,
/// waits at most [`WalBound::WAIT`] for the readers still in the log to finish (new readers read the
/// database file meanwhile; queued writes wait those milliseconds), and the next commit starts the log
/// again from its beginning, reusing the file's blocks (no truncation: regrowing a file costs every fsync
/// a metadata write). Measured alternatives: a TRUNCATE from another thread cost a quarter of checkout
/// throughput, a RESTART from another thread about 7 % (the writer slept in SQLite's busy handler).
struct WalBound {
    limit_frames: i64,
    /// When a restart was last refused (a reader or the background checkpoint held on) and how long the
    /// next try waits: from 2 ms, doubling while refusals go on, up to [`WalBound::MAX_BACKOFF`].
    refused_at: Option<(std::time::Instant, std::time::Duration)>,
    restarts: u64,
}

impl WalBound {
    const WAIT: std::time::Duration = std::time::Duration::from_millis(25);
    const MIN_BACKOFF: std::time::Duration = std::time::Duration::from_millis(2);
    const MAX_BACKOFF: std::time::Duration = std::time::Duration::from_millis(200);
    const BUSY: std::time::Duration = std::time::Duration::from_secs(10);

    fn new(conn: &Connection, limit_bytes: u64) -> Result<Self, DbError> {
        let page: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        conn.wal_hook(Some(note_wal_frames));
        // A log that grew past the limit while a reader held on is cut back to it at its next restart.
        conn.pragma_update(None, "journal_size_limit", limit_bytes as i64)?;
        Ok(WalBound { limit_frames: (limit_bytes as i64 / page.max(512)).max(64), refused_at: None, restarts: 0 })
    }

    fn refused(&mut self) {
        let wait = self.refused_at.map_or(Self::MIN_BACKOFF, |(_, w)| (w * 2).min(Self::MAX_BACKOFF));
        self.refused_at = Some((std::time::Instant::now(), wait));
    }

    /// After a commit on the writer's thread.
    fn after_commit(&mut self, conn: &Connection) {
        if WAL_FRAMES.with(|f| f.get()) <= self.limit_frames
            || self.refused_at.is_some_and(|(t, wait)| t.elapsed() < wait)
        {
            return;
        }
        let _ = conn.busy_timeout(Self::WAIT);
        let r = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get::<_, i64>(0));
        let _ = conn.busy_timeout(Self::BUSY);
        match r {
            Ok(0) => {
                self.restarts += 1;
                self.refused_at = None;
                WAL_FRAMES.with(|f| f.set(0));
                tracing::debug!(restarts = self.restarts, "write-ahead log restarted");
            }
            Ok(_) => {
                self.refused();
                tracing::debug!("a reader held the write-ahead log; restarting it later");
            }
            Err(e) => {
                self.refused();
                tracing::warn!(error = %e, "restarting the write-ahead log failed");
            }
        }
    }
}

fn writer_loop(conn: Connection, rx: Receiver<Box<dyn Job>>, max: usize, mut bound: WalBound) {
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(max);
    while let Ok(first) = rx.recv() {
        batch.push(first);
        while batch.len() < max {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let outcome = run_batch(&conn, &mut batch);
        for job in batch.drain(..) {
            job.finish(outcome.clone());
        }
        bound.after_commit(&conn);
    }
}

/// Runs every job in one transaction, each inside a savepoint, then commits once.
fn run_batch(conn: &Connection, batch: &mut [Box<dyn Job>]) -> Result<(), DbError> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    for job in batch.iter_mut() {
        let r = (|| -> Result<(), DbError> {
            conn.execute_batch("SAVEPOINT job")?;
            let step = crate::run_guarded(job.as_mut(), &mut SqliteTx { conn });
            if step == Step::Commit {
                conn.execute_batch("RELEASE job")?;
            } else {
                conn.execute_batch("ROLLBACK TO job; RELEASE job")?;
            }
            Ok(())
        })();
        if let Err(e) = r {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e);
        }
    }
    if let Err(e) = conn.execute_batch("COMMIT") {
        let _ = conn.execute_batch("ROLLBACK");
        return Err(e.into());
    }
    Ok(())
}

/// Copies committed WAL pages back into the database file every 500 ms without blocking the writer or
/// readers (PASSIVE), so commits never pay for the copying. Ends when the backend is dropped.
fn checkpointer(conn: Connection, stop: std::sync::Arc<std::sync::atomic::AtomicBool>) {
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        std::thread::sleep(std::time::Duration::from_millis(500));
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "WAL checkpoint failed; the writer will restart the log itself");
        }
    }
}

fn reader_loop(conn: Connection, rx: Receiver<Box<dyn Job>>) {
    while let Ok(mut job) = rx.recv() {
        let r = conn.execute_batch("BEGIN").map_err(DbError::from).map(|()| {
            crate::run_guarded(job.as_mut(), &mut SqliteTx { conn: &conn });
        });
        let _ = conn.execute_batch("COMMIT");
        job.finish(r);
    }
}

impl Backend for SqliteBackend {
    fn submit(&self, job: Box<dyn Job>, write: bool) -> Result<(), (Box<dyn Job>, DbError)> {
        let ch = if write { &self.writer } else { &self.readers };
        ch.try_send(job).map_err(|e| match e {
            TrySendError::Full(j) => (j, DbError::new(DbErrorKind::Overloaded, "too many queued database jobs")),
            TrySendError::Disconnected(j) => (j, DbError::new(DbErrorKind::Unavailable, "database thread stopped")),
        })
    }
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
    fn describe(&self) -> String {
        format!("sqlite:{}", self.path)
    }
}
