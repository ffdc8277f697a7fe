//! Domain events and the transactional outbox: every state change appends its event in the same
//! transaction. The feed reads them in commit-safe order from a cursor that never skips an event:
//!
//! - SQLite has one writer, so `seq` order is commit order and the cursor is the last `seq`.
//! - On PostgreSQL, `seq` order is not commit order (a transaction that took a lower `seq` can commit
//!   later). The feed therefore shows only events whose transaction id is below every running
//!   transaction (`pg_snapshot_xmin`) and reads them in (transaction id, `seq`) order: no event can appear
//!   later behind such a cursor, because every transaction below the horizon has ended.

use crate::error::Result;
use serde::Serialize;
use store::{params, Dialect, Tx};

pub const MAX_FEED_PAGE: usize = 500;

/// A position in the feed: the last event's transaction id (0 on SQLite) and `seq`. Rendered as
/// `"<tx>-<seq>"`; a plain number is read as a `seq` with transaction id 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    pub tx: i64,
    pub seq: i64,
}

impl Cursor {
    pub fn parse(s: &str) -> Result<Cursor, String> {
        let bad = || format!("`{s}` is not a feed cursor; pass the `next_cursor` of the previous page");
        let (tx, seq) = match s.trim().split_once('-') {
            Some((t, q)) => (t.parse().map_err(|_| bad())?, q.parse().map_err(|_| bad())?),
            None => (0, s.trim().parse().map_err(|_| bad())?),
        };
        if tx < 0 || seq < 0 {
            return Err(bad());
        }
        Ok(Cursor { tx, seq })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.tx, self.seq)
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct EventView {
    /// This event's position: pass it as `after` to read what follows.
    pub cursor: String,
    pub seq: i64,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub aggregate_id: String,
    pub data: serde_json::Value,
    pub created_at: String,
}

/// A consumer's position in the feed, kept in `meta` under `key` (the start when there is none yet).
pub(crate) fn stored_cursor(tx: &mut dyn Tx, key: &str) -> Result<Cursor> {
    Ok(tx
        .query_opt("SELECT value FROM meta WHERE key = ?", params![key])?
        .map(|r| r.text(0))
        .transpose()?
        .and_then(|v| Cursor::parse(&v).ok())
        .unwrap_or_default())
}

/// Saves a consumer's position, in the caller's transaction (so that it moves with what was consumed).
pub(crate) fn store_cursor(tx: &mut dyn Tx, key: &str, cursor: Cursor) -> Result<()> {
    tx.exec(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, cursor.to_string()],
    )?;
    Ok(())
}

/// Appends an event to the outbox inside the caller's transaction.
pub(crate) fn emit(tx: &mut dyn Tx, kind: &str, aggregate_id: &str, data: &serde_json::Value, now: i64) -> Result<()> {
    tx.exec(
        "INSERT INTO events (id, type, aggregate_id, payload, created_at) VALUES (?, ?, ?, ?, ?)",
        params![domain::ids::new_id("evt"), kind, aggregate_id, data.to_string(), now],
    )?;
    Ok(())
}

/// Events after `after` in commit-safe order, at most `limit`, optionally of one type or type prefix
/// (`order.` matches every order event). Returns the events and the cursor after the last one read.
pub(crate) fn feed(
    tx: &mut dyn Tx,
    after: Cursor,
    limit: usize,
    kind: Option<&str>,
) -> Result<(Vec<EventView>, Cursor)> {
    let (mut sql, mut ps): (String, Vec<store::Val>) = match tx.dialect() {
        Dialect::Sqlite => (
            "SELECT seq, id, type, aggregate_id, payload, created_at, 0 FROM events WHERE seq > ?".into(),
            vec![after.seq.into()],
        ),
        Dialect::Postgres => (
            "SELECT seq, id, type, aggregate_id, payload, created_at, CAST(CAST(tx_id AS TEXT) AS BIGINT) FROM events \
             WHERE (tx_id > CAST(CAST(? AS TEXT) AS xid8) OR (tx_id = CAST(CAST(? AS TEXT) AS xid8) AND seq > ?)) \
             AND tx_id < pg_snapshot_xmin(pg_current_snapshot())"
                .into(),
            vec![after.tx.to_string().into(), after.tx.to_string().into(), after.seq.into()],
        ),
    };
    if let Some(k) = kind {
        if let Some(stem) = k.strip_suffix('.') {
            // A range rather than LIKE, so that the (type, seq) index serves it on both backends ('/' sorts
            // right after '.').
            sql.push_str(" AND type >= ? AND type < ?");
            ps.push(format!("{stem}.").into());
            ps.push(format!("{stem}/").into());
        } else {
            sql.push_str(" AND type = ?");
            ps.push(k.into());
        }
    }
    let order = match tx.dialect() {
        Dialect::Sqlite => " ORDER BY seq LIMIT ?",
        Dialect::Postgres => " ORDER BY tx_id, seq LIMIT ?",
    };
    sql.push_str(order);
    ps.push((limit.min(MAX_FEED_PAGE) as i64).into());
    let rows = tx.query(&sql, &ps)?;
    let mut next = after;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let cursor = Cursor { tx: r.i64(6)?, seq: r.i64(0)? };
        next = cursor;
        out.push(EventView {
            cursor: cursor.to_string(),
            seq: cursor.seq,
            id: r.text(1)?,
            kind: r.text(2)?,
            aggregate_id: r.text(3)?,
            data: serde_json::from_str(&r.text(4)?).unwrap_or(serde_json::Value::Null),
            created_at: domain::time::rfc3339(r.i64(5)?),
        });
    }
    Ok((out, next))
}

/// The feed's current end: a new reader starting here sees only what commits from now on.
pub(crate) fn head(tx: &mut dyn Tx) -> Result<Cursor> {
    let r = match tx.dialect() {
        Dialect::Sqlite => tx.query_opt("SELECT 0, seq FROM events ORDER BY seq DESC LIMIT 1", &[])?,
        Dialect::Postgres => tx.query_opt(
            "SELECT CAST(CAST(tx_id AS TEXT) AS BIGINT), seq FROM events WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY tx_id DESC, seq DESC LIMIT 1",
            &[],
        )?,
    };
    Ok(match r {
        Some(r) => Cursor { tx: r.i64(0)?, seq: r.i64(1)? },
        None => Cursor::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::Cursor;

    #[test]
    fn cursors_parse_and_print() {
        assert_eq!(Cursor::parse("12-345").unwrap(), Cursor { tx: 12, seq: 345 });
        assert_eq!(Cursor::parse("345").unwrap(), Cursor { tx: 0, seq: 345 });
        assert_eq!(Cursor { tx: 7, seq: 9 }.to_string(), "7-9");
        assert!(Cursor::parse("abc").is_err());
        assert!(Cursor::parse("1-").is_err());
        assert!(Cursor::parse("-5").is_err());
    }
}
