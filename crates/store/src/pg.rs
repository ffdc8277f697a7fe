//! The PostgreSQL backend: a fixed pool of worker threads, each owning one connection, pulling jobs from one
//! bounded queue. Each write job is one READ COMMITTED transaction, retried on deadlock or serialization
//! failure; reconnects after a lost connection. TLS (`sslmode=verify-full`) is `pg_tls`'s.

use crate::pg_tls::Target;
use crate::{numbered_placeholders, Backend, DbError, DbErrorKind, DbOptions, Dialect, Job, Row, Step, Tx, Val};
use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};
use postgres::types::{ToSql, Type};
use postgres::{Client, Statement};
use std::collections::HashMap;

const MAX_RETRIES: u32 = 8;

pub(crate) struct PgBackend {
    jobs: Sender<(Box<dyn Job>, bool)>,
    url: String,
}

struct PgConn {
    client: Client,
    stmts: HashMap<String, Statement>,
}

struct PgTx<'c> {
    conn: &'c mut PgConn,
}

impl PgConn {
    fn connect(target: &Target, statement_timeout_ms: u64) -> Result<PgConn, DbError> {
        let mut client = target
            .connect()
            .map_err(|e| DbError::new(DbErrorKind::Unavailable, format!("cannot connect to PostgreSQL: {e}")))?;
        // Migrations' "already exists, skipping" notices are not news. No statement runs longer than a minute
        // (a runaway query must not hold a worker and its locks for ever), and a transaction left idle by a
        // stuck caller is ended after a minute too.
        client.batch_execute(&format!(
            "SET client_min_messages = warning; SET statement_timeout = {statement_timeout_ms}; SET idle_in_transaction_session_timeout = {}",
            statement_timeout_ms.max(1000)
        ))?;
        Ok(PgConn { client, stmts: HashMap::new() })
    }
    fn stmt(&mut self, sql: &str) -> Result<Statement, DbError> {
        if let Some(s) = self.stmts.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(&numbered_placeholders(sql))?;
        if self.stmts.len() > 512 {
            self.stmts.clear();
        }
        self.stmts.insert(sql.to_owned(), s.clone());
        Ok(s)
    }
}

enum PgParam<'a> {
    Null,
    Int(i64),
    Text(&'a str),
}

impl std::fmt::Debug for PgParam<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PgParam::Null => f.write_str("NULL"),
            PgParam::Int(i) => write!(f, "{i}"),
            PgParam::Text(s) => write!(f, "{s:?}"),
        }
    }
}

impl ToSql for PgParam<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            PgParam::Null => Ok(postgres::types::IsNull::Yes),
            PgParam::Int(i) => match *ty {
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                _ => i.to_sql(ty, out),
            },
            PgParam::Text(s) => s.to_sql(ty, out),
        }
    }
    fn accepts(_ty: &Type) -> bool {
        true
    }
    postgres::types::to_sql_checked!();
}

fn bind(params: &[Val]) -> Vec<PgParam<'_>> {
    params
        .iter()
        .map(|v| match v {
            Val::Null => PgParam::Null,
            Val::Int(i) => PgParam::Int(*i),
            Val::Text(s) => PgParam::Text(s),
        })
        .collect()
}

impl Tx for PgTx<'_> {
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, DbError> {
        let stmt = self.conn.stmt(sql)?;
        let b = bind(params);
        let refs: Vec<&(dyn ToSql + Sync)> = b.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        Ok(self.conn.client.execute(&stmt, &refs)?)
    }

    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Row>, DbError> {
        let stmt = self.conn.stmt(sql)?;
        let b = bind(params);
        let refs: Vec<&(dyn ToSql + Sync)> = b.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let rows = self.conn.client.query(&stmt, &refs)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let mut vals = Vec::with_capacity(r.len());
            for (i, col) in r.columns().iter().enumerate() {
                let v = match *col.type_() {
                    Type::INT8 => r.try_get::<_, Option<i64>>(i)?.map(Val::Int),
                    Type::INT4 => r.try_get::<_, Option<i32>>(i)?.map(|v| Val::Int(v as i64)),
                    Type::INT2 => r.try_get::<_, Option<i16>>(i)?.map(|v| Val::Int(v as i64)),
                    Type::BOOL => r.try_get::<_, Option<bool>>(i)?.map(|v| Val::Int(v as i64)),
                    Type::TEXT | Type::VARCHAR | Type::NAME | Type::BPCHAR => {
                        r.try_get::<_, Option<String>>(i)?.map(Val::Text)
                    }
                    Type::VOID => None,
                    ref other => {
                        return Err(DbError::new(
                            DbErrorKind::Other,
                            format!("unsupported column type {other} in: {sql}"),
                        ))
                    }
                };
                vals.push(v.unwrap_or(Val::Null));
            }
            out.push(Row(vals));
        }
        Ok(out)
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
}

impl PgBackend {
    pub(crate) fn open(url: &str, opts: &DbOptions) -> Result<Self, DbError> {
        let timeout = opts.statement_timeout_ms;
        let target = crate::pg_tls::target(url)?;
        let mut first = PgConn::connect(&target, timeout)?;
        run_tx(&mut first, &mut |tx| crate::migrate::migrate(tx, Dialect::Postgres))?;
        let (tx, rx) = bounded::<(Box<dyn Job>, bool)>(opts.queue_limit);
        let n = opts.connections.max(1);
        let mut conns = vec![first];
        for _ in 1..n {
            conns.push(PgConn::connect(&target, timeout)?);
        }
        for (i, conn) in conns.into_iter().enumerate() {
            let rx = rx.clone();
            let target = target.clone();
            std::thread::Builder::new()
                .name(format!("pg-worker-{i}"))
                .spawn(move || worker_loop(conn, rx, target, timeout))
                .map_err(|e| DbError::new(DbErrorKind::Other, e.to_string()))?;
        }
        Ok(PgBackend { jobs: tx, url: redact(url) })
    }
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

fn run_tx(conn: &mut PgConn, f: &mut dyn FnMut(&mut dyn Tx) -> Result<(), DbError>) -> Result<(), DbError> {
    conn.client.batch_execute("BEGIN")?;
    match f(&mut PgTx { conn }) {
        Ok(()) => conn.client.batch_execute("COMMIT").map_err(Into::into),
        Err(e) => {
            let _ = conn.client.batch_execute("ROLLBACK");
            Err(e)
        }
    }
}

fn worker_loop(mut conn: PgConn, rx: Receiver<(Box<dyn Job>, bool)>, target: Target, timeout: u64) {
    while let Ok((mut job, write)) = rx.recv() {
        if conn.client.is_closed() {
            match PgConn::connect(&target, timeout) {
                Ok(c) => conn = c,
                Err(e) => {
                    tracing::error!(error = %e, "PostgreSQL reconnect failed");
                    job.finish(Err(e));
                    std::thread::sleep(std::time::Duration::from_millis(200));
                    continue;
                }
            }
        }
        let outcome = run_job(&mut conn, job.as_mut(), write);
        job.finish(outcome);
    }
}

fn run_job(conn: &mut PgConn, job: &mut dyn Job, write: bool) -> Result<(), DbError> {
    let begin = if write { "BEGIN" } else { "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" };
    let mut attempt = 0;
    loop {
        conn.client.batch_execute(begin)?;
        let step = crate::run_guarded(job, &mut PgTx { conn });
        match step {
            Step::Commit => match conn.client.batch_execute("COMMIT") {
                Ok(()) => return Ok(()),
                Err(e) => {
                    let e = DbError::from(e);
                    if e.kind == DbErrorKind::Retryable && attempt < MAX_RETRIES {
                        attempt += 1;
                        continue;
                    }
                    return Err(e);
                }
            },
            Step::Rollback => {
                conn.client.batch_execute("ROLLBACK")?;
                return Ok(());
            }
            Step::Retry => {
                conn.client.batch_execute("ROLLBACK")?;
                if attempt >= MAX_RETRIES {
                    return Ok(()); // the job keeps its retryable error as its result
                }
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(1 << attempt.min(6)));
            }
        }
    }
}

impl Backend for PgBackend {
    fn submit(&self, job: Box<dyn Job>, write: bool) -> Result<(), (Box<dyn Job>, DbError)> {
        self.jobs.try_send((job, write)).map_err(|e| match e {
            TrySendError::Full((j, _)) => (j, DbError::new(DbErrorKind::Overloaded, "too many queued database jobs")),
            TrySendError::Disconnected((j, _)) => (j, DbError::new(DbErrorKind::Unavailable, "database pool stopped")),
        })
    }
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
    fn describe(&self) -> String {
        self.url.clone()
    }
}
