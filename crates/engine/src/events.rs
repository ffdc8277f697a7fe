//! Domain events and the transactional outbox: every state change appends its event in the same
//! transaction, numbered by `seq`. The feed reads them in order from a cursor; on PostgreSQL it only shows
//! events whose transaction ids are below every running transaction, so a cursor never skips an event
//! that commits late with a smaller `seq`.

use crate::error::Result;
use serde::Serialize;
use store::{params, Dialect, Tx};

pub const MAX_FEED_PAGE: usize = 500;

#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    pub seq: i64,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub aggregate_id: String,
    pub data: serde_json::Value,
    pub created_at: String,
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
/// (`order.` matches every order event).
pub(crate) fn feed(tx: &mut dyn Tx, after: i64, limit: usize, kind: Option<&str>) -> Result<Vec<EventView>> {
    let visible = match tx.dialect() {
        Dialect::Sqlite => "",
        Dialect::Postgres => " AND tx_id < pg_snapshot_xmin(pg_current_snapshot())",
    };
    let mut sql = format!("SELECT seq, id, type, aggregate_id, payload, created_at FROM events WHERE seq > ?{visible}");
    let mut ps = vec![store::Val::from(after)];
    if let Some(k) = kind {
        if k.ends_with('.') {
            sql.push_str(" AND type LIKE ?");
            ps.push(format!("{k}%").into());
        } else {
            sql.push_str(" AND type = ?");
            ps.push(k.into());
        }
    }
    sql.push_str(" ORDER BY seq LIMIT ?");
    ps.push((limit.min(MAX_FEED_PAGE) as i64).into());
    tx.query(&sql, &ps)?
        .iter()
        .map(|r| {
            Ok(EventView {
                seq: r.i64(0)?,
                id: r.text(1)?,
                kind: r.text(2)?,
                aggregate_id: r.text(3)?,
                data: serde_json::from_str(&r.text(4)?).unwrap_or(serde_json::Value::Null),
                created_at: domain::time::rfc3339(r.i64(5)?),
            })
        })
        .collect()
}
