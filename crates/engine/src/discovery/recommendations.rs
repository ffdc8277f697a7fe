//! Recommendations from one history: the interaction log (purchases of every channel, fed from the
//! `order.placed` events; views, searches and cart adds posted by shoppers), training that turns it into a
//! versioned `recs::Model` stored in the database, and serving with stock, repeat and diversity filters.

use crate::error::bad;
use crate::platform::events;
use crate::{EngineError, Result};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use store::{params, Tx};

/// Meta key holding the event-feed position the interaction log has consumed.
const CURSOR_KEY: &str = "recs.events_cursor";
/// Shopper events accepted per request.
pub const MAX_EVENTS_PER_POST: usize = 100;
/// A session ends after this long without a view.
pub const SESSION_GAP_MS: i64 = 30 * 60 * 1000;
/// Purchases and views read to build one shopper's profile at serving time.
const PROFILE_ROWS: i64 = 400;
/// Items recommended per request at most.
pub const MAX_LIMIT: usize = 50;
/// A just-bought item is recommended again only if at least this share of its buyers rebuy it.
const REPEAT_WORTHY: f32 = 0.25;
/// "Just bought" means within this window.
const JUST_BOUGHT_MS: i64 = 24 * 3600 * 1000;

/// One event a shopper's app or web page reports.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopperEvent {
    /// `view`, `search` or `cart_add`.
    #[serde(rename = "type")]
    pub kind: String,
    pub product_id: Option<String>,
    pub query: Option<String>,
    pub location_id: Option<String>,
}

/// Purchases read from the event feed, waiting to be written to the log.
pub(crate) struct IngestBatch {
    from: events::Cursor,
    next: events::Cursor,
    orders: usize,
    /// Orders cancelled or expired: they were never bought.
    removed: Vec<String>,
    /// (customer, product, location, channel, order, quantity, at)
    rows: Vec<(Option<String>, String, Option<String>, String, String, i64, i64)>,
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
    // The row exists before it is locked, so that two first-ever batches cannot both pass the check.
    tx.exec(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
        params![CURSOR_KEY, events::Cursor::default().to_string()],
    )?;
    let lock = tx.for_update();
    let current = match tx.query_opt(&format!("SELECT value FROM meta WHERE key = ?{lock}"), params![CURSOR_KEY])? {
        Some(r) => events::Cursor::parse(&r.text(0)?).unwrap_or_default(),
        None => events::Cursor::default(),
    };
    if current != batch.from {
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
/// anonymous visitor; one of them is required.
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
            "search" => {
                if e.product_id.is_some() {
                    return Err(at("a `search` has no `product_id`"));
                }
                let q = e.query.as_deref().unwrap_or("").trim();
                if q.is_empty() || q.chars().count() > 200 {
                    return Err(at("a `search` carries its `query` (1–200 characters)"));
                }
            }
            other => return Err(at(&format!("unknown event type `{other}`; use `view`, `search` or `cart_add`"))),
        }
        if let Some(l) = &e.location_id {
            if l.len() > 64 || tx.query_opt("SELECT 1 FROM locations WHERE id = ?", params![l])?.is_none() {
                return Err(EngineError::not_found("location", l.clone()));
            }
        }
        tx.exec(
            "INSERT INTO interactions (kind, customer_id, session_id, product_id, query, location_id, channel, order_id, quantity, at) VALUES (?, ?, ?, ?, ?, ?, 'web', NULL, 1, ?)",
            params![&e.kind, customer_id, session_id, e.product_id.as_deref(), e.query.as_deref().map(str::trim), e.location_id.as_deref(), now],
        )?;
    }
    Ok(evs.len())
}

/// A trained model with the ids its dense indices stand for, as stored in `rec_models`.
#[derive(Serialize, Deserialize)]
pub struct StoredModel {
    pub product_ids: Vec<String>,
    pub location_ids: Vec<String>,
    pub model: recs::Model,
}

/// What one training run did.
#[derive(Debug, Clone, Serialize)]
pub struct TrainSummary {
    pub version: i64,
    pub interactions: i64,
    pub shoppers: usize,
    pub items: usize,
    pub validation_shoppers: usize,
    pub validation_recall20: f64,
    pub validation_ndcg20: f64,
    pub weights: HashMap<String, f32>,
    pub tune_s: f64,
    pub train_s: f64,
}

/// The history as training reads it.
pub struct History {
    pub data: recs::TrainData,
    pub product_ids: Vec<String>,
    pub location_ids: Vec<String>,
    pub interactions: i64,
}

/// Reads the interaction log into dense training data: purchases grouped into baskets per order and
/// shoppers per customer (anonymous orders are shoppers of one basket); views into sessions.
pub(crate) fn load_history(tx: &mut dyn Tx, now: i64) -> Result<History> {
    let product_ids: Vec<String> = tx
        .query("SELECT id FROM products ORDER BY id", &[])?
        .iter()
        .map(|r| r.text(0))
        .collect::<std::result::Result<_, _>>()?;
    let location_ids: Vec<String> = tx
        .query("SELECT id FROM locations ORDER BY id", &[])?
        .iter()
        .map(|r| r.text(0))
        .collect::<std::result::Result<_, _>>()?;
    let pix: HashMap<&str, u32> = product_ids.iter().enumerate().map(|(i, p)| (p.as_str(), i as u32)).collect();
    let lix: HashMap<&str, u32> = location_ids.iter().enumerate().map(|(i, p)| (p.as_str(), i as u32)).collect();
    let rows = tx.query("SELECT kind, customer_id, session_id, product_id, location_id, order_id, at FROM interactions WHERE kind IN ('purchase', 'view', 'cart_add') ORDER BY seq", &[])?;
    let mut shoppers: HashMap<String, usize> = HashMap::new();
    let mut data =
        recs::TrainData { n_items: product_ids.len(), n_locations: location_ids.len(), now, ..Default::default() };
    let mut basket_of: HashMap<String, (usize, usize)> = HashMap::new();
    let mut session: HashMap<String, (i64, usize)> = HashMap::new();
    let mut n = 0i64;
    let mut customer_views: HashMap<String, Vec<(i64, u32)>> = HashMap::new();
    for r in rows.iter() {
        n += 1;
        let (kind, customer, sess, product, loc, order, at) =
            (r.text(0)?, r.opt_text(1)?, r.opt_text(2)?, r.opt_text(3)?, r.opt_text(4)?, r.opt_text(5)?, r.i64(6)?);
        let Some(&item) = product.as_deref().and_then(|p| pix.get(p)) else { continue };
        if kind == "purchase" {
            let order = order.unwrap_or_default();
            let who = customer.clone().unwrap_or_else(|| format!("order:{order}"));
            let s = *shoppers.entry(who).or_insert_with(|| {
                data.shoppers.push(recs::Profile::default());
                data.shoppers.len() - 1
            });
            let (si, bi) = *basket_of.entry(order).or_insert_with(|| {
                let b = &mut data.shoppers[s].baskets;
                b.push(recs::Basket {
                    t: at,
                    items: Vec::new(),
                    location: loc.as_deref().and_then(|l| lix.get(l)).copied(),
                });
                (s, b.len() - 1)
            });
            data.shoppers[si].baskets[bi].items.push(item);
        } else {
            if let Some(c) = &customer {
                customer_views.entry(c.clone()).or_default().push((at, item));
            }
            let who = customer.or(sess).unwrap_or_default();
            let entry = session.entry(who).or_insert((i64::MIN, usize::MAX));
            if entry.1 == usize::MAX || at - entry.0 > SESSION_GAP_MS {
                data.sessions.push(Vec::new());
                entry.1 = data.sessions.len() - 1;
            }
            entry.0 = at;
            let s = &mut data.sessions[entry.1];
            if s.last() != Some(&item) {
                s.push(item);
            }
        }
    }
    data.sessions.retain(|s| s.len() >= 2);
    // Signed-in shoppers' views ride along with their purchases (tuning shows each held-out basket only
    // the views from before it).
    for (c, mut views) in customer_views {
        if let Some(&s) = shoppers.get(&c) {
            views.sort_by_key(|v| v.0);
            let keep = views.len().saturating_sub(200);
            let p = &mut data.shoppers[s];
            p.recent_views = views[keep..].iter().map(|v| v.1).collect();
            p.view_times = views[keep..].iter().map(|v| v.0).collect();
        }
    }
    for s in &mut data.shoppers {
        s.baskets.sort_by_key(|b| b.t);
    }
    Ok(History { data, product_ids, location_ids, interactions: n })
}

pub(crate) fn save_model(tx: &mut dyn Tx, stored: &str, summary: &TrainSummary, now: i64) -> Result<i64> {
    let report = serde_json::to_string(summary).unwrap_or_default();
    let v = tx
        .query_one(
            "INSERT INTO rec_models (trained_at, interactions, items, report, model) VALUES (?, ?, ?, ?, ?) RETURNING version",
            params![now, summary.interactions, summary.items as i64, report, stored],
        )?
        .i64(0)?;
    // Keep the last three versions (older ones are never served again).
    tx.exec("DELETE FROM rec_models WHERE version < ?", params![v - 2])?;
    Ok(v)
}

pub(crate) fn latest_version(tx: &mut dyn Tx) -> Result<Option<i64>> {
    Ok(tx.query_one("SELECT MAX(version) FROM rec_models", &[])?.opt_i64(0)?)
}

pub(crate) fn load_model(tx: &mut dyn Tx, version: i64) -> Result<Option<(String, i64)>> {
    tx.query_opt("SELECT model, trained_at FROM rec_models WHERE version = ?", params![version])?
        .map(|r| Ok::<_, EngineError>((r.text(0)?, r.i64(1)?)))
        .transpose()
}

/// A model ready to serve.
pub struct Loaded {
    pub version: i64,
    pub trained_at: i64,
    pub model: recs::Model,
    pub product_ids: Vec<String>,
    pub product_index: HashMap<String, u32>,
    pub location_index: HashMap<String, u32>,
}

impl Loaded {
    pub fn from_stored(version: i64, trained_at: i64, s: StoredModel) -> Loaded {
        let product_index = s.product_ids.iter().enumerate().map(|(i, p)| (p.clone(), i as u32)).collect();
        let location_index = s.location_ids.iter().enumerate().map(|(i, p)| (p.clone(), i as u32)).collect();
        Loaded { version, trained_at, model: s.model, product_ids: s.product_ids, product_index, location_index }
    }
}

/// The model being served; replaced whole by a newer version, never mutated.
#[derive(Default)]
pub struct Serving {
    current: std::sync::RwLock<Option<std::sync::Arc<Loaded>>>,
    scratch: std::sync::Mutex<Vec<(usize, recs::Scratch)>>,
    /// Titles, categories and prices of recently shown products, per currency, for [`FACTS_TTL_MS`]
    /// (stock is never cached).
    facts: std::sync::Mutex<HashMap<(String, String), (i64, Fact)>>,
}

/// How long a product's title, category and price may be shown from memory in recommendations.
pub const FACTS_TTL_MS: i64 = 10_000;
const MAX_CACHED_FACTS: usize = 200_000;

impl Serving {
    pub fn get(&self) -> Option<std::sync::Arc<Loaded>> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Serves `l` unless a newer version is already served (two trainings may finish out of order).
    pub fn set(&self, l: Loaded) {
        let mut cur = self.current.write().unwrap_or_else(|e| e.into_inner());
        if cur.as_ref().is_none_or(|c| c.version < l.version) {
            *cur = Some(std::sync::Arc::new(l));
        }
    }

    /// Borrows scratch space sized for `n_items` (pooled: scoring allocates nothing per request).
    pub fn with_scratch<T>(&self, n_items: usize, f: impl FnOnce(&mut recs::Scratch) -> T) -> T {
        let mut s = {
            let mut pool = self.scratch.lock().unwrap_or_else(|e| e.into_inner());
            match pool.iter().position(|(n, _)| *n == n_items) {
                Some(i) => pool.swap_remove(i).1,
                None => recs::Scratch::new(n_items),
            }
        };
        let out = f(&mut s);
        let mut pool = self.scratch.lock().unwrap_or_else(|e| e.into_inner());
        pool.retain(|(n, _)| *n == n_items);
        if pool.len() < 64 {
            pool.push((n_items, s));
        }
        out
    }
}

/// One shopper's recent history: baskets (oldest first) and recent views, with the products bought
/// within [`JUST_BOUGHT_MS`].
pub(crate) struct ProfileRows {
    pub baskets: Vec<(i64, Option<String>, Vec<String>)>,
    pub views: Vec<String>,
    pub just_bought: HashSet<String>,
}

pub(crate) fn profile(
    tx: &mut dyn Tx,
    customer_id: Option<&str>,
    session_id: Option<&str>,
    now: i64,
) -> Result<ProfileRows> {
    let mut out = ProfileRows { baskets: Vec::new(), views: Vec::new(), just_bought: HashSet::new() };
    let since = now - SESSION_GAP_MS * 4;
    let mut purchases = Vec::new();
    let mut views = Vec::new();
    if let Some(c) = customer_id {
        purchases = tx.query("SELECT kind, product_id, order_id, at, location_id FROM interactions WHERE customer_id = ? AND kind = 'purchase' ORDER BY seq DESC LIMIT ?", params![c, PROFILE_ROWS])?.iter().map(row5).collect::<Result<Vec<_>>>()?;
        views = tx
            .query("SELECT kind, product_id, order_id, at, location_id FROM interactions WHERE customer_id = ? AND kind IN ('view', 'cart_add') AND at > ? ORDER BY seq DESC LIMIT 50", params![c, since])?
            .iter()
            .map(row5)
            .collect::<Result<Vec<_>>>()?;
    } else if let Some(s) = session_id {
        // An anonymous visitor's own events only: a session id never reads a signed-in customer's rows.
        views = tx
            .query(
                "SELECT kind, product_id, order_id, at, location_id FROM interactions WHERE session_id = ? AND customer_id IS NULL AND kind IN ('view', 'cart_add') AND at > ? ORDER BY seq DESC LIMIT 50",
                params![s, since],
            )?
            .iter()
            .map(row5)
            .collect::<Result<Vec<_>>>()?;
    }
    purchases.sort_by_key(|r| r.3);
    views.sort_by_key(|r| r.3);
    let mut by_order: HashMap<String, usize> = HashMap::new();
    for (_, product, order, at, loc) in purchases {
        let Some(product) = product else { continue };
        if now - at <= JUST_BOUGHT_MS {
            out.just_bought.insert(product.clone());
        }
        let k = order.unwrap_or_default();
        let i = *by_order.entry(k).or_insert_with(|| {
            out.baskets.push((at, loc, Vec::new()));
            out.baskets.len() - 1
        });
        out.baskets[i].2.push(product);
    }
    out.views = views.into_iter().filter_map(|r| r.1).collect();
    Ok(out)
}

type Row5 = (String, Option<String>, Option<String>, i64, Option<String>);
fn row5(r: &store::Row) -> Result<Row5> {
    Ok((r.text(0)?, r.opt_text(1)?, r.opt_text(2)?, r.i64(3)?, r.opt_text(4)?))
}

/// Of `products`, those with sellable stock: at `location`, or (without one) anywhere that ships.
pub(crate) fn in_stock(tx: &mut dyn Tx, products: &[String], location: Option<&str>) -> Result<HashSet<String>> {
    let mut out = HashSet::new();
    for chunk in products.chunks(200) {
        let mut ps: Vec<store::Val> = Vec::new();
        let marks = padded_marks(chunk, &mut ps);
        // Driven from the candidates' variants (a few rows each), never from all stock at a location.
        let sql = match location {
            Some(l) => {
                ps.push(store::Val::from(l));
                format!(
                    "SELECT DISTINCT v.product_id FROM variants v WHERE v.product_id IN ({marks}) AND EXISTS \
                     (SELECT 1 FROM stock_levels s WHERE s.sku = v.sku AND s.location_id = ? AND s.on_hand - s.reserved - s.safety_stock > 0)"
                )
            }
            None => format!(
                "SELECT DISTINCT v.product_id FROM variants v WHERE v.product_id IN ({marks}) AND EXISTS \
                 (SELECT 1 FROM stock_levels s JOIN locations l ON l.id = s.location_id WHERE s.sku = v.sku AND l.ships = 1 AND s.on_hand - s.reserved - s.safety_stock > 0)"
            ),
        };
        for r in tx.query(&sql, &ps)?.iter() {
            out.insert(r.text(0)?);
        }
    }
    Ok(out)
}

/// A recommendation request.
#[derive(Debug, Clone, Default)]
pub struct RecsQuery {
    /// `home`, `product:{id}` or `cart:{id}`.
    pub context: String,
    pub customer_id: Option<String>,
    pub session_id: Option<String>,
    pub location_id: Option<String>,
    pub limit: usize,
    pub currency: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReasonView {
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    pub text: crate::catalog::products::Localized,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecItem {
    pub product_id: String,
    pub handle: String,
    pub title: crate::catalog::products::Localized,
    pub category: String,
    pub price: Option<crate::catalog::products::PriceView>,
    pub score: f32,
    pub reason: ReasonView,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecsView {
    pub context: String,
    pub customer_id: Option<String>,
    pub location_id: Option<String>,
    /// The model version that ranked these (none before the first training: then best sellers in stock).
    pub model_version: Option<i64>,
    pub items: Vec<RecItem>,
}

/// Facts about candidate products needed to filter and show them.
/// An active product's handle, Korean and English title, category and lowest price in one currency.
pub(crate) type Fact = (String, String, String, String, Option<i64>);

pub(crate) struct Facts {
    pub active: HashMap<String, Fact>,
}

/// Facts of `products` from the short-lived cache, reading only the missing ones. An archived product is
/// absent from the answer (and not cached).
pub(crate) fn cached_facts(
    tx: &mut dyn Tx,
    serving: &Serving,
    products: &[String],
    currency: &str,
    now: i64,
) -> Result<Facts> {
    let mut active = HashMap::new();
    let mut missing = Vec::new();
    {
        let cache = serving.facts.lock().unwrap_or_else(|e| e.into_inner());
        for p in products {
            match cache.get(&(p.clone(), currency.to_owned())) {
                Some((at, f)) if now - at < FACTS_TTL_MS => {
                    active.insert(p.clone(), f.clone());
                }
                _ => missing.push(p.clone()),
            }
        }
    }
    if !missing.is_empty() {
        let fresh = facts(tx, &missing, currency)?;
        let mut cache = serving.facts.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() > MAX_CACHED_FACTS {
            cache.clear();
        }
        for (p, f) in fresh.active {
            cache.insert((p.clone(), currency.to_owned()), (now, f.clone()));
            active.insert(p, f);
        }
    }
    Ok(Facts { active })
}

/// `?, ?, …` for `n` values, padded to a multiple of 16 (the padding repeats the last value) so that
/// the statement text, and with it the prepared statement, repeats across requests.
fn padded_marks(chunk: &[String], ps: &mut Vec<store::Val>) -> String {
    let n = chunk.len().div_ceil(16).max(1) * 16;
    for k in 0..n {
        let v = chunk.get(k).or(chunk.last()).map(|p| p.as_str()).unwrap_or("");
        ps.push(store::Val::from(v));
    }
    vec!["?"; n].join(", ")
}

pub(crate) fn facts(tx: &mut dyn Tx, products: &[String], currency: &str) -> Result<Facts> {
    let mut active = HashMap::new();
    for chunk in products.chunks(200) {
        let mut ps: Vec<store::Val> = vec![store::Val::from(currency)];
        let marks = padded_marks(chunk, &mut ps);
        let sql = format!(
            "SELECT p.id, p.handle, p.title_ko, p.title_en, p.category, (SELECT MIN(pr.amount_minor) FROM variants v JOIN prices pr ON pr.sku = v.sku WHERE v.product_id = p.id AND pr.currency = ?) \
             FROM products p WHERE p.status = 'active' AND p.id IN ({marks})"
        );
        for r in tx.query(&sql, &ps)?.iter() {
            active.insert(r.text(0)?, (r.text(1)?, r.text(2)?, r.text(3)?, r.text(4)?, r.opt_i64(5)?));
        }
    }
    Ok(Facts { active })
}

/// Everything serving reads from the database for one request, in one read transaction.
pub(crate) struct Inputs {
    pub profile: ProfileRows,
    pub context_items: Vec<String>,
    pub fallback: Vec<String>,
}

pub(crate) fn inputs(tx: &mut dyn Tx, q: &RecsQuery, now: i64, loaded: Option<&Loaded>) -> Result<Inputs> {
    let need_fallback = loaded.is_none();
    let known_location = |l: &str| loaded.is_some_and(|m| m.location_index.contains_key(l));
    let known_product = |p: &str| loaded.is_some_and(|m| m.product_index.contains_key(p));
    if let Some(l) = q.location_id.as_deref().filter(|l| !known_location(l)) {
        if tx.query_opt("SELECT 1 FROM locations WHERE id = ?", params![l])?.is_none() {
            return Err(EngineError::not_found("location", l.to_owned()));
        }
    }
    let profile = profile(tx, q.customer_id.as_deref(), q.session_id.as_deref(), now)?;
    let context_items = match q.context.split_once(':') {
        None if q.context == "home" => Vec::new(),
        Some(("product", id)) => {
            if !known_product(id) && tx.query_opt("SELECT 1 FROM products WHERE id = ?", params![id])?.is_none() {
                return Err(EngineError::not_found("product", id.to_owned()));
            }
            vec![id.to_owned()]
        }
        Some(("cart", id)) => {
            let Some(c) = tx.query_opt("SELECT customer_id FROM carts WHERE id = ?", params![id])? else {
                return Err(EngineError::not_found("cart", id.to_owned()));
            };
            if let Some(owner) = c.opt_text(0)? {
                if q.customer_id.as_deref() != Some(owner.as_str()) {
                    return Err(EngineError::not_found("cart", id.to_owned()));
                }
            }
            tx.query(
                "SELECT DISTINCT v.product_id FROM cart_lines l JOIN variants v ON v.sku = l.sku WHERE l.cart_id = ?",
                params![id],
            )?
            .iter()
            .map(|r| r.text(0))
            .collect::<std::result::Result<_, _>>()?
        }
        _ => return Err(bad(format!("`context` is `home`, `product:{{id}}` or `cart:{{id}}`, not `{}`", q.context))),
    };
    if !need_fallback {
        return Ok(Inputs { profile, context_items, fallback: Vec::new() });
    }
    // Best sellers of the last 30 days: the cold-start answer before any model exists.
    let fallback = tx
        .query(
            "SELECT product_id FROM interactions WHERE kind = 'purchase' AND at > ? GROUP BY product_id ORDER BY COUNT(*) DESC, product_id LIMIT 200",
            params![now - 30 * 24 * 3600 * 1000],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let fallback = if fallback.is_empty() {
        tx.query("SELECT id FROM products WHERE status = 'active' ORDER BY created_at DESC, id LIMIT 200", &[])?
            .iter()
            .map(|r| r.text(0))
            .collect::<std::result::Result<_, _>>()?
    } else {
        fallback
    };
    Ok(Inputs { profile, context_items, fallback })
}

/// Ranked candidates (product id, score, reason) before filtering.
pub(crate) fn rank(
    loaded: Option<&Loaded>,
    serving: &Serving,
    q: &RecsQuery,
    inp: &Inputs,
    want: usize,
) -> Vec<(String, f32, recs::Reason)> {
    let Some(l) = loaded else {
        return inp
            .fallback
            .iter()
            .filter(|p| !inp.context_items.contains(p) && !inp.profile.just_bought.contains(*p))
            .enumerate()
            .map(|(i, p)| (p.clone(), 1.0 / (i + 1) as f32, recs::Reason::Popular))
            .collect();
    };
    let ix = |p: &String| l.product_index.get(p).copied();
    let profile = recs::Profile {
        baskets: inp
            .profile
            .baskets
            .iter()
            .map(|(t, loc, items)| recs::Basket {
                t: *t,
                items: items.iter().filter_map(ix).collect(),
                location: loc.as_ref().and_then(|x| l.location_index.get(x).copied()),
            })
            .collect(),
        recent_views: inp.profile.views.iter().filter_map(ix).collect(),
        view_times: Vec::new(),
    };
    let context: Vec<u32> = inp.context_items.iter().filter_map(ix).collect();
    let location = q.location_id.as_ref().and_then(|x| l.location_index.get(x).copied());
    let mut out: Vec<(u32, f32, recs::Reason)> = Vec::new();
    let is_product = q.context.starts_with("product:");
    if !context.is_empty() {
        // Bought or viewed together with the product or the cart, strongest first.
        let mut acc: HashMap<u32, (f32, recs::Reason)> = HashMap::new();
        for &c in &context {
            for s in l.model.similar(c, want) {
                let e = acc.entry(s.item).or_insert((0.0, s.reason));
                e.0 += s.score;
            }
        }
        let mut v: Vec<_> =
            acc.into_iter().filter(|(i, _)| !context.contains(i)).map(|(i, (s, r))| (i, 10.0 + s, r)).collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out.extend(v);
    }
    if !is_product || out.len() < want {
        // Personal blend (with the context as what is being looked at now).
        let mut p = profile;
        p.recent_views.extend(context.iter().copied());
        let personal = serving
            .with_scratch(l.model.n_items, |s| l.model.recommend(&p, location, want, s, &|i| context.contains(&i)));
        for s in personal {
            if !out.iter().any(|o| o.0 == s.item) {
                out.push((s.item, s.score, s.reason));
            }
        }
    }
    let id = |i: u32| l.product_ids.get(i as usize).cloned().unwrap_or_default();
    out.into_iter()
        .filter(|(i, _, _)| {
            // A just-bought item comes back only if people rebuy it.
            let pid = id(*i);
            !inp.profile.just_bought.contains(&pid)
                || l.model.repeat_rate.get(*i as usize).copied().unwrap_or(0.0) >= REPEAT_WORTHY
        })
        .map(|(i, s, r)| {
            let r = match r {
                recs::Reason::BoughtWith { item } | recs::Reason::ViewedWith { item }
                    if item as usize >= l.product_ids.len() =>
                {
                    recs::Reason::Popular
                }
                other => other,
            };
            (id(i), s, r)
        })
        .collect()
}

/// Keeps what is in stock (at the location, or anywhere that ships), at most ⌈limit/3⌉+1 per category
/// on the first pass (the rest fill up after), and explains each item in English and Korean.
pub(crate) fn finish(
    ranked: Vec<(String, f32, recs::Reason)>,
    facts: &Facts,
    stocked: &HashSet<String>,
    titles: &HashMap<String, (String, String)>,
    loaded: Option<&Loaded>,
    q: &RecsQuery,
) -> Vec<RecItem> {
    let eligible: Vec<_> =
        ranked.into_iter().filter(|(p, _, _)| stocked.contains(p) && facts.active.contains_key(p)).collect();
    let cap = q.limit.div_ceil(3) + 1;
    let mut per_cat: HashMap<&str, usize> = HashMap::new();
    let mut chosen: Vec<usize> = Vec::new();
    for (k, (p, _, _)) in eligible.iter().enumerate() {
        if chosen.len() >= q.limit {
            break;
        }
        let cat = facts.active[p].3.as_str();
        let n = per_cat.entry(cat).or_default();
        if *n < cap {
            *n += 1;
            chosen.push(k);
        }
    }
    for k in 0..eligible.len() {
        if chosen.len() >= q.limit {
            break;
        }
        if !chosen.contains(&k) {
            chosen.push(k);
        }
    }
    chosen
        .into_iter()
        .map(|k| {
            let (p, score, reason) = &eligible[k];
            let (handle, ko, en, category, price) = facts.active[p].clone();
            RecItem {
                product_id: p.clone(),
                handle,
                title: crate::catalog::products::Localized { ko, en },
                category,
                price: price.map(|a| crate::catalog::products::price_view(&q.currency, a)),
                score: *score,
                reason: explain(*reason, loaded, titles, q.location_id.is_some()),
            }
        })
        .collect()
}

fn explain(
    r: recs::Reason,
    loaded: Option<&Loaded>,
    titles: &HashMap<String, (String, String)>,
    at_store: bool,
) -> ReasonView {
    use crate::catalog::products::Localized;
    let name = |item: u32| -> (Option<String>, (String, String)) {
        let pid = loaded.and_then(|l| l.product_ids.get(item as usize)).cloned();
        let t = pid
            .as_ref()
            .and_then(|p| titles.get(p))
            .cloned()
            .unwrap_or_else(|| ("이 상품".into(), "this product".into()));
        (pid, t)
    };
    match r {
        recs::Reason::BuyAgain { times } => ReasonView {
            kind: "buy_again",
            product_id: None,
            times: Some(times),
            text: if times == 1 {
                Localized { en: "You have bought this before".into(), ko: "전에 구매하신 상품이에요".into() }
            } else {
                Localized {
                    en: format!("You have bought this {times} times"),
                    ko: format!("{times}번 구매하신 상품이에요"),
                }
            },
        },
        recs::Reason::BoughtWith { item } => {
            let (pid, (ko, en)) = name(item);
            ReasonView {
                kind: "bought_with",
                product_id: pid,
                times: None,
                text: Localized {
                    en: format!("Often bought with {en}"), ko: format!("{ko}와(과) 함께 많이 구매해요")
                },
            }
        }
        recs::Reason::ViewedWith { item } => {
            let (pid, (ko, en)) = name(item);
            ReasonView {
                kind: "viewed_with",
                product_id: pid,
                times: None,
                text: Localized {
                    en: format!("Shoppers who looked at {en} also looked at this"),
                    ko: format!("{ko}을(를) 본 고객이 함께 본 상품"),
                },
            }
        }
        recs::Reason::Trending => ReasonView {
            kind: "trending",
            product_id: None,
            times: None,
            text: if at_store {
                Localized {
                    en: "Selling well at this store right now".into(), ko: "지금 이 매장에서 잘 팔려요".into()
                }
            } else {
                Localized { en: "Selling well right now".into(), ko: "요즘 잘 팔리는 상품".into() }
            },
        },
        recs::Reason::Popular => ReasonView {
            kind: "popular",
            product_id: None,
            times: None,
            text: Localized { en: "A best seller".into(), ko: "베스트셀러".into() },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explanations_speak_both_languages() {
        let r = explain(recs::Reason::BuyAgain { times: 3 }, None, &HashMap::new(), false);
        assert_eq!(r.kind, "buy_again");
        assert!(r.text.en.contains('3') && r.text.ko.contains('3'));
        let r = explain(recs::Reason::Trending, None, &HashMap::new(), true);
        assert!(r.text.ko.contains("매장"));
    }
}
