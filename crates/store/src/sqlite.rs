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
        let (wanted, copying, limit_frames) = (bound.wanted.clone(), bound.copying.clone(), bound.limit_frames);
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
            .spawn(move || checkpointer(ck, stop_ck, wanted, copying, limit_frames))
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
/// 5-minute soak left an 840 MB log beside a 1.76 GB database, and a big log slows every read: SQLite
/// searches its index segment by segment). So once the background checkpointer finds the log past the
/// limit it stops and asks the writer, which between two commits runs a RESTART checkpoint: it copies the
/// few pages written since, waits for the readers still in the log to finish (new readers read the
/// database file meanwhile; queued writes wait), and the next commit starts the log again from its
/// beginning, reusing the file's blocks (no truncation: regrowing a file costs every fsync a metadata
/// write). The wait starts at 25 ms and doubles while readers keep it from succeeding (up to 1 s, with a
/// quarter as long for writes between two tries), so a long reader delays the restart but cannot prevent it.
/// Measured alternatives: a TRUNCATE from another thread cost a quarter of checkout throughput, a RESTART
/// from another thread about 7 % (the writer slept in SQLite's busy handler); a restart that only waited
/// 25 ms let a 30-minute soak's log reach 2.8 GB.
struct WalBound {
    limit_frames: i64,
    /// Set when the log is past the limit (by the checkpointer after a PASSIVE, or by the writer on its
    /// own count); cleared by the writer once restarted. The checkpointer pauses while it is set.
    wanted: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Whether the checkpointer is inside a PASSIVE checkpoint now (the writer then leaves it to ask).
    copying: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// How long the next try waits for readers, and when it may run.
    wait: std::time::Duration,
    next_try: Option<std::time::Instant>,
    restarts: u64,
}

impl WalBound {
    const FIRST_WAIT: std::time::Duration = std::time::Duration::from_millis(25);
    const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(1);
    const BUSY: std::time::Duration = std::time::Duration::from_secs(10);

    fn new(conn: &Connection, limit_bytes: u64) -> Result<Self, DbError> {
        let page: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        conn.wal_hook(Some(note_wal_frames));
        // A log that grew past the limit while a reader held on is cut back to it at its next restart.
        conn.pragma_update(None, "journal_size_limit", limit_bytes as i64)?;
        Ok(WalBound {
            limit_frames: (limit_bytes as i64 / page.max(512)).max(64),
            wanted: Default::default(),
            copying: Default::default(),
            wait: Self::FIRST_WAIT,
            next_try: None,
            restarts: 0,
        })
    }

    /// After a commit on the writer's thread: restart the log when the checkpointer asked, or on the
    /// writer's own count past the limit when the checkpointer is not copying (or far past it anyway).
    fn after_commit(&mut self, conn: &Connection) {
        use std::sync::atomic::Ordering;
        let frames = WAL_FRAMES.with(|f| f.get());
        let own =
            frames > self.limit_frames && (!self.copying.load(Ordering::Acquire) || frames > 4 * self.limit_frames);
        if own {
            self.wanted.store(true, Ordering::Release);
        }
        if !self.wanted.load(Ordering::Acquire) || self.next_try.is_some_and(|t| std::time::Instant::now() < t) {
            return;
        }
        let _ = conn.busy_timeout(self.wait);
        let r = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get::<_, i64>(0));
        let _ = conn.busy_timeout(Self::BUSY);
        match r {
            Ok(0) => {
                self.restarts += 1;
                self.wait = Self::FIRST_WAIT;
                self.next_try = None;
                WAL_FRAMES.with(|f| f.set(0));
                self.wanted.store(false, std::sync::atomic::Ordering::Release);
                tracing::debug!(restarts = self.restarts, frames, "write-ahead log restarted");
            }
            other => {
                if let Err(e) = other {
                    tracing::warn!(error = %e, "restarting the write-ahead log failed");
                }
                // Readers held on: let writes flow a quarter as long as the wait was, then wait longer.
                self.next_try = Some(std::time::Instant::now() + self.wait / 4);
                self.wait = (self.wait * 2).min(Self::MAX_WAIT);
                if self.wait == Self::MAX_WAIT {
                    tracing::warn!(frames, "readers keep the write-ahead log from restarting; trying again");
                }
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

/// Runs every job in one transaction, each inside a savepoint, then commits once. A job alone needs no
/// savepoint (its transaction is its own): a savepoint copies every page the job first touches into the
/// statement journal, which was most of the cost of bulk inserts into indexed tables (measured:
/// analytics imports).
fn run_batch(conn: &Connection, batch: &mut [Box<dyn Job>]) -> Result<(), DbError> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    if let [job] = batch {
        let step = crate::run_guarded(job.as_mut(), &mut SqliteTx { conn });
        let end = if step == Step::Commit { "COMMIT" } else { "ROLLBACK" };
        if let Err(e) = conn.execute_batch(end) {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e.into());
        }
        return Ok(());
    }
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
/// readers (PASSIVE), so commits never pay for the copying; when the log is past its limit it asks the
/// writer to restart it and pauses until it has (two checkpoints at once would keep each other waiting).
/// Ends when the backend is dropped.
fn checkpointer(
    conn: Connection,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    wanted: std::sync::Arc<std::sync::atomic::AtomicBool>,
    copying: std::sync::Arc<std::sync::atomic::AtomicBool>,
    limit_frames: i64,
) {
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        std::thread::sleep(std::time::Duration::from_millis(500));
        copying.store(true, std::sync::atomic::Ordering::Release);
        if wanted.load(std::sync::atomic::Ordering::Acquire) {
            copying.store(false, std::sync::atomic::Ordering::Release);
            continue;
        }
        let r = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1));
        copying.store(false, std::sync::atomic::Ordering::Release);
        match r {
            Ok(frames) if frames > limit_frames => wanted.store(true, std::sync::atomic::Ordering::Release),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; the writer will restart the log itself"),
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
