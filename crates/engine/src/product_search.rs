//! Product search for shoppers: an in-memory index of the active catalog (Korean and English text,
//! category, brand, attributes, SKUs) rebuilt when product events arrive, queried with filters (category,
//! brand, attributes, price range in a currency, live stock at a location or at pickup stores near a
//! point), facet counts for the matching products, and sorting.

use crate::catalog::{Localized, PriceView, ProductView};
use crate::locations::LocationView;
use crate::{error::bad, EngineError, Result};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use store::Tx;

/// Results per page at most.
pub const MAX_LIMIT: usize = 100;
/// Matches considered for filters and facets per query at most.
const MAX_MATCHES: usize = 5_000;

/// One searchable product.
pub struct Doc {
    pub id: String,
    pub handle: String,
    pub title: Localized,
    pub category: String,
    pub brand: String,
    /// attribute name → values over the variants
    pub attributes: BTreeMap<String, Vec<String>>,
    /// (currency, lowest price in minor units)
    pub min_price: Vec<(String, i64)>,
    pub created_at: String,
    /// Units sold in the last 30 days (at the build).
    pub sold_30d: i64,
    /// Whether any location had sellable stock (at the build).
    pub in_stock: bool,
}

/// Sales and stock signals for ranking, read at each build.
#[derive(Default)]
pub struct Signals {
    pub sold_30d: HashMap<String, i64>,
    pub in_stock: std::collections::HashSet<String>,
}

pub(crate) fn signals(tx: &mut dyn Tx, now: i64) -> Result<Signals> {
    let mut s = Signals::default();
    for r in tx.query("SELECT product_id, SUM(quantity) FROM interactions WHERE kind = 'purchase' AND at > ? GROUP BY product_id", store::params![now - 30 * 24 * 3600 * 1000])?.iter() {
        s.sold_30d.insert(r.text(0)?, r.i64(1)?);
    }
    for r in tx.query("SELECT DISTINCT v.product_id FROM variants v JOIN stock_levels l ON l.sku = v.sku WHERE l.on_hand - l.reserved - l.safety_stock > 0", &[])?.iter() {
        s.in_stock.insert(r.text(0)?);
    }
    Ok(s)
}

/// The index of one catalog version.
pub struct CatalogIndex {
    pub index: search::Index,
    pub docs: Vec<Doc>,
    /// SKU → document, for stock filters read by location.
    pub sku_doc: HashMap<String, u32>,
    /// Interned facet values: per document a category, a brand and attribute (name, value) ids.
    facets: Facets,
    /// The product event sequence it reflects.
    pub built_from: i64,
    pub built_at: i64,
}

/// Meta key of the seller's synonym groups (JSON: `[["운동화", "sneakers"], …]`).
pub const SYNONYMS_KEY: &str = "search.synonyms";

/// Checks a seller's synonym list: at most 5,000 groups of 2–20 phrases of 1–50 characters.
pub fn check_synonyms(groups: &[Vec<String>]) -> Result<()> {
    if groups.len() > search::index::MAX_SYNONYM_GROUPS {
        return Err(bad(format!("at most {} synonym groups", search::index::MAX_SYNONYM_GROUPS)));
    }
    for (i, g) in groups.iter().enumerate() {
        if g.len() < 2 || g.len() > search::index::MAX_SYNONYM_WORDS {
            return Err(bad(format!("groups[{i}]: a synonym group holds 2–{} phrases", search::index::MAX_SYNONYM_WORDS)));
        }
        if let Some(p) = g.iter().find(|p| p.trim().is_empty() || p.chars().count() > 50) {
            return Err(bad(format!("groups[{i}]: `{p}` must be 1–50 characters")));
        }
    }
    Ok(())
}

impl CatalogIndex {
    pub fn build(products: &[ProductView], synonyms: &[Vec<String>], signals: &Signals, built_from: i64, built_at: i64) -> CatalogIndex {
        let docs: Vec<Doc> = products
            .iter()
            .filter(|p| p.status == "active")
            .map(|p| {
                let mut attributes: BTreeMap<String, Vec<String>> = BTreeMap::new();
                let mut min_price: Vec<(String, i64)> = Vec::new();
                for v in &p.variants {
                    for (k, val) in &v.attributes {
                        let e = attributes.entry(k.clone()).or_default();
                        if !e.contains(val) {
                            e.push(val.clone());
                        }
                    }
                    for pr in &v.prices {
                        match min_price.iter_mut().find(|(c, _)| *c == pr.currency) {
                            Some(e) => e.1 = e.1.min(pr.amount_minor),
                            None => min_price.push((pr.currency.clone(), pr.amount_minor)),
                        }
                    }
                }
                Doc {
                    id: p.id.clone(),
                    handle: p.handle.clone(),
                    title: p.title.clone(),
                    category: p.category.clone(),
                    brand: p.vendor.clone(),
                    attributes,
                    min_price,
                    created_at: p.created_at.clone(),
                    sold_30d: signals.sold_30d.get(&p.id).copied().unwrap_or(0),
                    in_stock: signals.in_stock.contains(&p.id),
                }
            })
            .collect();
        let texts: Vec<String> = products
            .iter()
            .filter(|p| p.status == "active")
            .map(|p| {
                let attrs: Vec<&str> = p.variants.iter().flat_map(|v| v.attributes.values().map(|s| s.as_str())).collect();
                let skus: Vec<&str> = p.variants.iter().map(|v| v.sku.as_str()).collect();
                format!("{} {} {} {} {} {} {}", p.title.ko, p.title.en, p.vendor, p.category.replace('/', " "), attrs.join(" "), skus.join(" "), p.description.en)
            })
            .collect();
        let mut index = search::Index::build(texts.iter().map(|s| s.as_str()));
        index.set_synonyms(synonyms);
        let sku_doc = products.iter().filter(|p| p.status == "active").enumerate().flat_map(|(d, p)| p.variants.iter().map(move |v| (v.sku.clone(), d as u32))).collect();
        let facets = Facets::of(&docs);
        CatalogIndex { index, docs, sku_doc, facets, built_from, built_at }
    }
}

#[derive(Default)]
struct Facets {
    cats: Vec<String>,
    brands: Vec<String>,
    attrs: Vec<(String, String)>,
    doc_cat: Vec<u32>,
    doc_brand: Vec<u32>,
    doc_attrs: Vec<Vec<u32>>,
}

impl Facets {
    fn of(docs: &[Doc]) -> Facets {
        let mut f = Facets::default();
        let mut cat: HashMap<String, u32> = HashMap::new();
        let mut brand: HashMap<String, u32> = HashMap::new();
        let mut attr: HashMap<(String, String), u32> = HashMap::new();
        for d in docs {
            let c = *cat.entry(d.category.clone()).or_insert_with(|| {
                f.cats.push(d.category.clone());
                (f.cats.len() - 1) as u32
            });
            let b = *brand.entry(d.brand.clone()).or_insert_with(|| {
                f.brands.push(d.brand.clone());
                (f.brands.len() - 1) as u32
            });
            let mut ids = Vec::new();
            for (k, vs) in &d.attributes {
                for v in vs {
                    ids.push(*attr.entry((k.clone(), v.clone())).or_insert_with(|| {
                        f.attrs.push((k.clone(), v.clone()));
                        (f.attrs.len() - 1) as u32
                    }));
                }
            }
            f.doc_cat.push(c);
            f.doc_brand.push(b);
            f.doc_attrs.push(ids);
        }
        f
    }
}

/// A shopper's search.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub q: String,
    pub category: Option<String>,
    pub brand: Option<String>,
    pub attributes: Vec<(String, String)>,
    pub currency: String,
    pub price_min: Option<i64>,
    pub price_max: Option<i64>,
    pub in_stock_at: Option<String>,
    /// (lat, lon, radius km): in stock today at a pickup store within the radius.
    pub pickup_near: Option<(f64, f64, f64)>,
    /// `relevance`, `price_asc`, `price_desc`, `newest`, `popular`.
    pub sort: String,
    pub limit: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub product_id: String,
    pub handle: String,
    pub title: Localized,
    pub category: String,
    pub brand: String,
    pub price: Option<PriceView>,
    pub score: f32,
    /// Pickup stores (within the radius) or the requested location that have it now.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub available_at: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchView {
    pub q: String,
    pub total: usize,
    pub hits: Vec<Hit>,
    /// facet → value → matching products (after the other filters)
    pub facets: BTreeMap<String, BTreeMap<String, usize>>,
}

/// Great-circle distance in km.
pub fn km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1, la2, lo2) = (a.0.to_radians(), a.1.to_radians(), b.0.to_radians(), b.1.to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2) + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

pub(crate) fn validate(q: &SearchQuery) -> Result<()> {
    if q.q.chars().count() > 200 {
        return Err(bad("`q` is at most 200 characters"));
    }
    if q.limit == 0 || q.limit > MAX_LIMIT {
        return Err(bad(format!("`limit` must be 1–{MAX_LIMIT}")));
    }
    if !matches!(q.sort.as_str(), "relevance" | "price_asc" | "price_desc" | "newest" | "popular") {
        return Err(bad("`sort` is relevance, price_asc, price_desc, newest or popular"));
    }
    if let (Some(a), Some(b)) = (q.price_min, q.price_max) {
        if a > b {
            return Err(bad("`price_min` is above `price_max`"));
        }
    }
    if let Some((lat, lon, r)) = q.pickup_near {
        if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) || !(r > 0.0 && r <= 500.0) {
            return Err(bad("`near` is `lat,lon` in degrees and `radius_km` is 0–500"));
        }
    }
    if q.attributes.len() > 10 {
        return Err(bad("at most 10 attribute filters"));
    }
    Ok(())
}

/// Documents with sellable stock at any of `locations`, with where: read by location (one indexed range
/// per location), so the cost does not grow with the number of text matches.
pub(crate) fn stocked_at(tx: &mut dyn Tx, ix: &CatalogIndex, locations: &[String]) -> Result<HashMap<u32, Vec<String>>> {
    let mut out: HashMap<u32, Vec<String>> = HashMap::new();
    for l in locations.iter().take(200) {
        for r in tx.query("SELECT sku FROM stock_levels WHERE location_id = ? AND on_hand - reserved - safety_stock > 0", store::params![l])?.iter() {
            if let Some(&d) = ix.sku_doc.get(&r.text(0)?) {
                let e = out.entry(d).or_default();
                if !e.contains(l) {
                    e.push(l.clone());
                }
            }
        }
    }
    Ok(out)
}

/// Runs a search against one index version; stock filters read live stock.
pub(crate) fn run(tx: &mut dyn Tx, ix: &CatalogIndex, locations: &[LocationView], q: &SearchQuery) -> Result<SearchView> {
    // Candidates: text matches by relevance, or the whole catalog for an empty query.
    let mut cands: Vec<(u32, f32)> = if q.q.trim().is_empty() { (0..ix.docs.len() as u32).map(|d| (d, 0.0)).collect() } else { ix.index.search(&q.q, MAX_MATCHES) };
    let want_loc: Option<Vec<String>> = match (&q.in_stock_at, q.pickup_near) {
        (Some(l), _) => {
            if !locations.iter().any(|x| &x.id == l) {
                return Err(EngineError::not_found("location", l.clone()));
            }
            Some(vec![l.clone()])
        }
        (None, Some((lat, lon, r))) => Some(
            locations.iter().filter(|l| l.pickup_enabled && l.lat.zip(l.lon).is_some_and(|p| km((lat, lon), p) <= r)).map(|l| l.id.clone()).collect(),
        ),
        _ => None,
    };
    let price = |d: &Doc| d.min_price.iter().find(|(c, _)| *c == q.currency).map(|x| x.1);
    let f = &ix.facets;
    // Filters resolved to interned ids once per query.
    let cat_ok: Option<Vec<bool>> = q.category.as_ref().map(|c| f.cats.iter().map(|x| x == c || x.starts_with(&format!("{c}/"))).collect());
    let brand_ok: Option<Vec<bool>> = q.brand.as_ref().map(|b| f.brands.iter().map(|x| x.eq_ignore_ascii_case(b)).collect());
    let attr_ok: Vec<(String, Vec<bool>)> = q.attributes.iter().map(|(k, v)| (k.clone(), f.attrs.iter().map(|(ak, av)| ak == k && av.eq_ignore_ascii_case(v)).collect())).collect();
    // Filters other than the facet's own, so that each facet shows what choosing a value would give.
    // `skip`: 0 none, 1 category, 2 brand, 3 + k the k-th attribute filter.
    let pass = |d: u32, skip: usize| -> bool {
        let du = d as usize;
        (skip == 1 || cat_ok.as_ref().is_none_or(|ok| ok[f.doc_cat[du] as usize]))
            && (skip == 2 || brand_ok.as_ref().is_none_or(|ok| ok[f.doc_brand[du] as usize]))
            && attr_ok.iter().enumerate().all(|(k, (_, ok))| skip == 3 + k || f.doc_attrs[du].iter().any(|a| ok[*a as usize]))
    };
    // For each attribute value id, which attribute filter (if any) its name belongs to.
    let attr_skip: Vec<usize> = f.attrs.iter().map(|(name, _)| attr_ok.iter().position(|(k, _)| k == name).map_or(0, |k| 3 + k)).collect();
    let in_price = |d: &Doc| q.price_min.is_none_or(|m| price(d).is_some_and(|p| p >= m)) && q.price_max.is_none_or(|m| price(d).is_some_and(|p| p <= m));
    cands.retain(|(d, _)| {
        let doc = &ix.docs[*d as usize];
        (price(doc).is_some() || (q.price_min.is_none() && q.price_max.is_none())) && in_price(doc)
    });
    let mut where_: HashMap<u32, Vec<String>> = HashMap::new();
    if let Some(locs) = &want_loc {
        where_ = stocked_at(tx, ix, locs)?;
        cands.retain(|(d, _)| where_.contains_key(d));
    }
    let (mut cat_n, mut brand_n, mut attr_n) = (vec![0usize; f.cats.len()], vec![0usize; f.brands.len()], vec![0usize; f.attrs.len()]);
    let any_attr_filter = !attr_ok.is_empty();
    for &(d, _) in &cands {
        let du = d as usize;
        if pass(d, 1) {
            cat_n[f.doc_cat[du] as usize] += 1;
        }
        if pass(d, 2) {
            brand_n[f.doc_brand[du] as usize] += 1;
        }
        let all_pass = !any_attr_filter && pass(d, 0);
        for &a in &f.doc_attrs[du] {
            if all_pass || pass(d, attr_skip[a as usize]) {
                attr_n[a as usize] += 1;
            }
        }
    }
    let mut facets: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for (i, n) in cat_n.iter().enumerate().filter(|x| *x.1 > 0) {
        facets.entry("category".into()).or_default().insert(f.cats[i].clone(), *n);
    }
    for (i, n) in brand_n.iter().enumerate().filter(|x| *x.1 > 0) {
        facets.entry("brand".into()).or_default().insert(f.brands[i].clone(), *n);
    }
    for (i, n) in attr_n.iter().enumerate().filter(|x| *x.1 > 0) {
        facets.entry(format!("attributes.{}", f.attrs[i].0)).or_default().insert(f.attrs[i].1.clone(), *n);
    }
    cands.retain(|(d, _)| pass(*d, 0));
    match q.sort.as_str() {
        "price_asc" => cands.sort_by_key(|(d, _)| (price(&ix.docs[*d as usize]).unwrap_or(i64::MAX), *d)),
        "price_desc" => cands.sort_by_key(|(d, _)| (std::cmp::Reverse(price(&ix.docs[*d as usize]).unwrap_or(i64::MIN)), *d)),
        "popular" => cands.sort_by_key(|(d, _)| (std::cmp::Reverse(ix.docs[*d as usize].sold_30d), *d)),
        "relevance" => {
            // What sells and what is in stock rise among equally relevant products (a gentle boost).
            let browse = q.q.trim().is_empty();
            for (d, score) in cands.iter_mut() {
                let doc = &ix.docs[*d as usize];
                let base = if browse { 1.0 } else { *score };
                *score = base * (1.0 + 0.05 * (doc.sold_30d as f32).ln_1p()) * if doc.in_stock { 1.1 } else { 1.0 };
            }
            cands.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        }
        "newest" => cands.sort_by(|a, b| ix.docs[b.0 as usize].created_at.cmp(&ix.docs[a.0 as usize].created_at).then(a.0.cmp(&b.0))),
        _ => {}
    }
    let total = cands.len();
    let hits = cands
        .into_iter()
        .take(q.limit)
        .map(|(d, score)| {
            let doc = &ix.docs[d as usize];
            Hit {
                product_id: doc.id.clone(),
                handle: doc.handle.clone(),
                title: doc.title.clone(),
                category: doc.category.clone(),
                brand: doc.brand.clone(),
                price: price(doc).map(|p| crate::catalog::price_view(&q.currency, p)),
                score,
                available_at: where_.get(&d).cloned().unwrap_or_default(),
            }
        })
        .collect();
    Ok(SearchView { q: q.q.clone(), total, hits, facets })
}

/// The index being served and the feed position of the product events it reflects.
#[derive(Default)]
pub struct SearchState {
    pub(crate) current: std::sync::RwLock<Option<std::sync::Arc<CatalogIndex>>>,
    pub(crate) cursor: std::sync::Mutex<crate::events::Cursor>,
    pub(crate) rebuild: tokio::sync::Mutex<()>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_seoul_busan() {
        let d = km((37.5665, 126.9780), (35.1796, 129.0756));
        assert!((d - 325.0).abs() < 10.0, "{d}");
    }
}
