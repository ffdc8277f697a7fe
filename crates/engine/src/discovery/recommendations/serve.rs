//! Serving: a shopper's profile, stock filters, facts, ranking with repeat and diversity rules, and the reason for each item.

use super::*;

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

pub(crate) type Row5 = (String, Option<String>, Option<String>, i64, Option<String>);
pub(crate) fn row5(r: &store::Row) -> Result<Row5> {
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

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ReasonView {
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    pub text: crate::catalog::products::Localized,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RecItem {
    pub product_id: String,
    pub handle: String,
    pub title: crate::catalog::products::Localized,
    pub category: String,
    pub price: Option<crate::catalog::products::PriceView>,
    pub score: f32,
    pub reason: ReasonView,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
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
pub(crate) fn padded_marks(chunk: &[String], ps: &mut Vec<store::Val>) -> String {
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
        tx.query("SELECT id FROM products WHERE status = 'active' ORDER BY created_at DESC, id DESC LIMIT 200", &[])?
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

pub(crate) fn explain(
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
