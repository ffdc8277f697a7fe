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

/// Events one read of a kind prefix (`product.`) looks through at most (SQLite). Such a read walks the feed in
/// order and skips what does not match; without a bound, a consumer of a rare kind (the search index
/// follows `product.`) rescanned every event since the last match on each poll, which grew with every
/// order: 17 ms per poll after 100,000 orders, 270 ms after 250,000 (the soak benchmark). The cursor now
/// moves past what was looked through, matched or not.
const FILTERED_SCAN_WINDOW: i64 = 10_000;

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

/// Every event type borderless writes, with what it means. Webhook subscriptions and the feed's `type`
/// filter accept these, a family such as `order.*`, or `*` for all; anything else is refused.
pub const EVENT_TYPES: &[(&str, &str)] = &[
    ("cashierless.entered", "a shopper entered a cashierless store; their wallet is held"),
    ("cashierless.exit_failed", "a cashierless visit's order could not be placed; staff settle it"),
    ("cashierless.exited", "a shopper left a cashierless store; the basket was charged"),
    ("cashierless.expired", "a cashierless visit expired without an exit"),
    ("cashierless.shortfall", "a cashierless basket cost more than the wallet could pay"),
    ("customer.created", "a shopper signed up"),
    ("device.revoked", "an in-store device was revoked"),
    ("device.token_rotated", "an in-store device got a new token"),
    ("instore.label_registered", "a shelf label was registered"),
    ("instore.layout_updated", "a cashierless store's layout changed"),
    ("instore.picked", "a tracked shopper took a product from a shelf (analytics; the cart is the visit's)"),
    ("instore.put_back", "a tracked shopper put a product back on a shelf (analytics)"),
    ("instore.zone_entered", "a tracked shopper entered a zone of a cashierless store"),
    ("instore.zone_exited", "a tracked shopper left a zone (with the dwell time)"),
    ("inventory.changed", "a stock balance moved (with the movement and the new level)"),
    ("location.created", "a location was created"),
    ("order.cancelled", "an order was cancelled; stock and payment released"),
    ("order.completed", "a counter or cashierless sale completed"),
    ("order.expired", "an uncollected pickup order expired"),
    ("order.picked_up", "a pickup order was handed over"),
    ("order.placed", "an order was placed on the web"),
    ("order.ready_for_pickup", "a pickup order is ready at the desk"),
    ("order.shipped", "a delivery order shipped"),
    ("payment.intent_failed", "a card payment left open by a crash could not be reconciled; needs staff"),
    ("payment.job_failed", "a card processor job failed for good"),
    ("product.created", "a product was created"),
    ("product.synonyms_updated", "the search synonyms changed"),
    ("product.updated", "a product changed (text, prices, status, variants)"),
    ("product.upserted", "a product was imported (created or replaced)"),
    ("refund.created", "a refund was recorded for a return"),
    ("return.created", "items were returned at a store"),
    ("wallet.topped_up", "a wallet was topped up"),
];

/// Checks an event-type pattern: an exact type, a family (`order.*`) or `*`.
pub fn check_pattern(p: &str) -> std::result::Result<(), String> {
    let p = p.trim();
    if p == "*" {
        return Ok(());
    }
    if let Some(family) = p.strip_suffix(".*") {
        if EVENT_TYPES.iter().any(|(t, _)| t.split('.').next() == Some(family)) {
            return Ok(());
        }
        return Err(format!("`{p}`: there is no event family `{family}`; families: {}", families().join(", ")));
    }
    if EVENT_TYPES.iter().any(|(t, _)| *t == p) {
        return Ok(());
    }
    let hint = if p.ends_with('.') { format!(" (a family is written `{p}*`)") } else { String::new() };
    Err(format!(
        "`{p}` is not an event type{hint}; use a type such as `order.placed`, a family such as `order.*`, or `*`"
    ))
}

/// The event families (`order`, `product`, …).
pub fn families() -> Vec<&'static str> {
    let mut f: Vec<&str> = EVENT_TYPES.iter().filter_map(|(t, _)| t.split('.').next()).collect();
    f.dedup();
    f
}

/// Whether event type `kind` matches a checked pattern.
pub fn pattern_matches(pattern: &str, kind: &str) -> bool {
    match pattern {
        "*" => true,
        p => match p.strip_suffix(".*") {
            Some(family) => kind.split('.').next() == Some(family),
            None => p == kind,
        },
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
    /// `created_at` in epoch milliseconds (for consumers in this crate; not part of the API).
    #[serde(skip)]
    pub at_ms: i64,
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

/// Locks a consumer's stored position for the caller's transaction and tells whether it is still `at`
/// (where the caller read from): a consumer that writes only then, and moves the position in the same
/// transaction, consumes each event once however many workers or nodes read the same batch.
pub(crate) fn cursor_still_at(tx: &mut dyn Tx, key: &str, at: Cursor) -> Result<bool> {
    // The row exists before it is locked, so that two first-ever batches cannot both pass the check.
    tx.exec(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
        params![key, Cursor::default().to_string()],
    )?;
    let lock = tx.for_update();
    let current = match tx.query_opt(&format!("SELECT value FROM meta WHERE key = ?{lock}"), params![key])? {
        Some(r) => Cursor::parse(&r.text(0)?).unwrap_or_default(),
        None => Cursor::default(),
    };
    Ok(current == at)
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
    // SQLite: the end of the window a filtered read looks through (the seq of the window's last event).
    // (An exact type is served by the (type, seq) index; a range of types is not.)
    let prefix = kind.is_some_and(|k| k.ends_with(".*") || k.ends_with('.'));
    let window_end = match (prefix, tx.dialect()) {
        (true, Dialect::Sqlite) => {
            let end = tx
                .query_one(
                    "SELECT COALESCE(MAX(seq), ?) FROM (SELECT seq FROM events WHERE seq > ? ORDER BY seq LIMIT ?) AS w",
                    params![after.seq, after.seq, FILTERED_SCAN_WINDOW],
                )?
                .i64(0)?;
            if end == after.seq {
                return Ok((Vec::new(), after));
            }
            sql.push_str(" AND seq <= ?");
            ps.push(end.into());
            Some(end)
        }
        _ => None,
    };
    if let Some(k) = kind {
        if let Some(stem) = k.strip_suffix(".*").or_else(|| k.strip_suffix('.')) {
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
    let limit = limit.min(MAX_FEED_PAGE);
    ps.push((limit as i64).into());
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
            at_ms: r.i64(5)?,
        });
    }
    // A page that is not full has seen the whole window: the next read starts after it.
    if let Some(end) = window_end {
        if out.len() < limit {
            next = Cursor { tx: 0, seq: end };
        }
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
    use super::*;

    #[test]
    fn cursors_parse_and_print() {
        assert_eq!(Cursor::parse("12-345").unwrap(), Cursor { tx: 12, seq: 345 });
        assert_eq!(Cursor::parse("345").unwrap(), Cursor { tx: 0, seq: 345 });
        assert_eq!(Cursor { tx: 7, seq: 9 }.to_string(), "7-9");
        assert!(Cursor::parse("abc").is_err());
        assert!(Cursor::parse("1-").is_err());
        assert!(Cursor::parse("-5").is_err());
    }

    #[test]
    fn patterns_are_checked_against_the_catalog() {
        assert!(check_pattern("*").is_ok());
        assert!(check_pattern("order.*").is_ok());
        assert!(check_pattern("order.placed").is_ok());
        assert!(check_pattern("order.").unwrap_err().contains("order.*"));
        assert!(check_pattern("order.plced").is_err());
        assert!(check_pattern("ordr.*").is_err());
        assert!(pattern_matches("order.*", "order.placed") && !pattern_matches("order.*", "orders.x"));
        let mut sorted = EVENT_TYPES.to_vec();
        sorted.sort();
        assert_eq!(sorted, EVENT_TYPES, "kept in order");
    }

    /// Every type the engine writes is in the catalog (a new event must be documented there).
    #[test]
    fn every_written_type_is_in_the_catalog() {
        fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    out.push(std::fs::read_to_string(p).unwrap());
                }
            }
        }
        let mut sources = Vec::new();
        walk(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")), &mut sources);
        let mut seen = 0;
        for src in &sources {
            for (i, _) in src.match_indices("emit(") {
                let window: String = src[i..].chars().take(200).collect();
                if let Some(lit) = window.split('"').nth(1).filter(|l| l.contains('.') && !l.contains(' ')) {
                    seen += 1;
                    assert!(EVENT_TYPES.iter().any(|(t, _)| *t == lit), "`{lit}` is written but not in EVENT_TYPES");
                }
            }
        }
        assert!(seen > 20, "found the emit calls ({seen})");
    }
}
