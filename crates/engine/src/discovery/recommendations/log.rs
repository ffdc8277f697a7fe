//! The interaction log: shopper events and purchases from the event feed, each counted once (the cursor moves in the same transaction).

use super::*;

/// One event a shopper's app or web page reports.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShopperEvent {
    /// `view`, `search`, `cart_add` or `checkout` (the checkout page opened).
    #[serde(rename = "type")]
    pub kind: String,
    pub product_id: Option<String>,
    pub query: Option<String>,
    pub location_id: Option<String>,
    /// `mobile`, `desktop` or `app`, for the analytics of the web funnel by device.
    #[serde(default)]
    pub device: Option<String>,
}

/// Purchases read from the event feed, waiting to be written to the log.
pub(crate) struct IngestBatch {
    pub(crate) from: events::Cursor,
    pub(crate) next: events::Cursor,
    pub(crate) orders: usize,
    /// Orders cancelled or expired: they were never bought.
    pub(crate) removed: Vec<String>,
    /// (customer, product, location, channel, order, quantity, at)
    pub(crate) rows: Vec<(Option<String>, String, Option<String>, String, String, i64, i64)>,
}

/// Reads the next order events (on a reader, so that the single writer only writes): the lines of placed
/// orders, and the orders cancelled or expired before anything was bought.
pub(crate) fn ingest_read(tx: &mut dyn Tx, limit: usize) -> Result<IngestBatch> {
    let from = events::stored_cursor(tx, CURSOR_KEY)?;
    let (evs, next) = events::feed(tx, from, limit, Some("order."))?;
    let ids: Vec<String> = evs.iter().filter(|e| e.kind == "order.placed").map(|e| e.aggregate_id.clone()).collect();
    let removed: Vec<String> = evs
        .iter()
        .filter(|e| e.kind == "order.cancelled" || e.kind == "order.expired")
        .map(|e| e.aggregate_id.clone())
        .collect();
    let mut rows = Vec::new();
    for chunk in ids.chunks(200) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let ps: Vec<store::Val> = chunk.iter().map(|p| store::Val::from(p.as_str())).collect();
        let sql = format!(
            "SELECT o.customer_id, v.product_id, COALESCE(o.location_id, l.location_id), o.channel, o.id, l.quantity, o.placed_at \
             FROM orders o JOIN order_lines l ON l.order_id = o.id JOIN variants v ON v.sku = l.sku WHERE o.id IN ({marks}) ORDER BY o.placed_at, o.id, l.line_no"
        );
        for r in tx.query(&sql, &ps)?.iter() {
            rows.push((r.opt_text(0)?, r.text(1)?, r.opt_text(2)?, r.text(3)?, r.text(4)?, r.i64(5)?, r.i64(6)?));
        }
    }
    Ok(IngestBatch { from, next, orders: ids.len() + removed.len(), removed, rows })
}

/// Writes a batch read by [`ingest_read`] and moves the cursor, in one transaction, unless another
/// worker (or node) moved the cursor since: then nothing is written and the batch is read again. So each
/// purchase is logged exactly once. Returns the orders logged.
pub(crate) fn ingest_write(tx: &mut dyn Tx, batch: &IngestBatch) -> Result<Option<usize>> {
    if !events::cursor_still_at(tx, CURSOR_KEY, batch.from)? {
        return Ok(None);
    }
    for (customer, product, loc, channel, order, qty, at) in &batch.rows {
        tx.exec(
            "INSERT INTO interactions (kind, customer_id, session_id, product_id, query, location_id, channel, order_id, quantity, at) VALUES ('purchase', ?, NULL, ?, NULL, ?, ?, ?, ?, ?)",
            params![customer.as_deref(), product, loc.as_deref(), channel, order, *qty, *at],
        )?;
    }
    for order in &batch.removed {
        tx.exec("DELETE FROM interactions WHERE order_id = ? AND kind = 'purchase'", params![order])?;
    }
    if batch.next != batch.from {
        events::store_cursor(tx, CURSOR_KEY, batch.next)?;
    }
    Ok(Some(batch.orders))
}

/// Stores shopper events (all or none). `customer_id` comes from the session, `session_id` identifies an
/// anonymous visitor; one of them is required. Callers send only what the shopper agreed to have recorded
/// (the storefront asks first). Each event also goes to the analytics events: an anonymous visitor's under
/// their session, a signed-in customer's only when they agreed to be recognised across channels.
pub(crate) fn record(
    tx: &mut dyn Tx,
    evs: &[ShopperEvent],
    customer_id: Option<&str>,
    session_id: Option<&str>,
    now: i64,
) -> Result<usize> {
    if customer_id.is_none() && session_id.is_none() {
        return Err(bad(
            "send a customer session (Authorization: Bearer …) or a `session_id` so that events belong to somebody",
        ));
    }
    if let Some(s) = session_id {
        if s.len() < 16 || s.len() > 64 || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(bad("`session_id` must be 16–64 characters of letters, digits, `-` or `_` (a random id the app keeps per visitor, so that nobody can guess it)"));
        }
    }
    // A signed-in shopper's events belong to the customer; the session id is for anonymous visitors only.
    let session_id = if customer_id.is_some() { None } else { session_id };
    if evs.is_empty() || evs.len() > MAX_EVENTS_PER_POST {
        return Err(bad(format!("send 1 to {MAX_EVENTS_PER_POST} events per request")));
    }
    for (n, e) in evs.iter().enumerate() {
        let at = |m: &str| bad(format!("events[{n}]: {m}"));
        match e.kind.as_str() {
            "view" | "cart_add" => {
                if e.query.is_some() {
                    return Err(at("a `view` or `cart_add` has no `query`"));
                }
                let p = e.product_id.as_deref().ok_or_else(|| at("a `view` or `cart_add` names its `product_id`"))?;
                if p.len() > 64 {
                    return Err(at("`product_id` is at most 64 characters"));
                }
                if tx.query_opt("SELECT 1 FROM products WHERE id = ?", params![p])?.is_none() {
                    return Err(EngineError::not_found("product", p));
                }
            }
            "checkout" => {
                if e.query.is_some() || e.product_id.is_some() {
                    return Err(at("a `checkout` has no `product_id` or `query`"));
                }
            }
            "search" => {
                if e.product_id.is_some() {
                    return Err(at("a `search` has no `product_id`"));
                }
                let q = e.query.as_deref().unwrap_or("").trim();
                if q.is_empty() || q.chars().count() > 200 {
                    return Err(at("a `search` carries its `query` (1–200 characters)"));
                }
            }
            other => {
                return Err(at(&format!(
                    "unknown event type `{other}`; use `view`, `search`, `cart_add` or `checkout`"
                )))
            }
        }
        if let Some(d) = &e.device {
            if !matches!(d.as_str(), "mobile" | "desktop" | "app") {
                return Err(at("`device` is `mobile`, `desktop` or `app`"));
            }
        }
        if let Some(l) = &e.location_id {
            if l.len() > 64 || tx.query_opt("SELECT 1 FROM locations WHERE id = ?", params![l])?.is_none() {
                return Err(EngineError::not_found("location", l.clone()));
            }
        }
        if e.kind != "checkout" {
            tx.exec(
                "INSERT INTO interactions (kind, customer_id, session_id, product_id, query, location_id, channel, order_id, quantity, at) VALUES (?, ?, ?, ?, ?, ?, 'web', NULL, 1, ?)",
                params![&e.kind, customer_id, session_id, e.product_id.as_deref(), e.query.as_deref().map(str::trim), e.location_id.as_deref(), now],
            )?;
        }
    }
    let web: Vec<crate::insight::WebEvent> = evs
        .iter()
        .map(|e| crate::insight::WebEvent {
            kind: e.kind.clone(),
            product_id: e.product_id.clone(),
            location_id: e.location_id.clone(),
            device: e.device.clone(),
        })
        .collect();
    crate::insight::record_web(tx, &web, customer_id, session_id, now)?;
    Ok(evs.len())
}
