//! Model versions: the history a model trains on, stored versions, and the one being served with its facts cache.

use super::*;

/// Training reads at most this many of the newest shopper events (about 200 MB at the peak).
pub const MAX_TRAIN_EVENTS: i64 = 1_000_000;

/// A trained model with the ids its dense indices stand for, as stored in `rec_models`.
#[derive(Serialize, Deserialize)]
pub struct StoredModel {
    pub product_ids: Vec<String>,
    pub location_ids: Vec<String>,
    pub model: recs::Model,
}

/// What one training run did.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
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
    // The newest MAX_TRAIN_EVENTS events at most, so training memory stays bounded however long the log.
    let newest = tx.query_one("SELECT COALESCE(MAX(seq), 0) FROM interactions", &[])?.i64(0)?;
    let rows = tx.query(
        "SELECT kind, customer_id, session_id, product_id, location_id, order_id, at FROM interactions \
         WHERE seq > ? AND kind IN ('purchase', 'view', 'cart_add') ORDER BY seq",
        params![newest - MAX_TRAIN_EVENTS],
    )?;
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
    pub(crate) current: std::sync::RwLock<Option<std::sync::Arc<Loaded>>>,
    pub(crate) scratch: std::sync::Mutex<Vec<(usize, recs::Scratch)>>,
    /// Titles, categories and prices of recently shown products, per currency, for [`FACTS_TTL_MS`]
    /// (stock is never cached).
    pub(crate) facts: std::sync::Mutex<HashMap<(String, String), (i64, Fact)>>,
}

/// How long a product's title, category and price may be shown from memory in recommendations.
pub const FACTS_TTL_MS: i64 = 10_000;
pub(crate) const MAX_CACHED_FACTS: usize = 200_000;

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
