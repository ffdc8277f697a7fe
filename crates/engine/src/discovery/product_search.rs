//! Product search for shoppers: an in-memory index of the active catalog (Korean and English text,
//! category, brand, attributes, SKUs) updated in place from product events, and the query: filters
//! (category, brand, attributes, price range in a currency, stock at a location or at pickup stores near a
//! point, read from `stock_sets`), facet counts for the matching products, and sorting. A query touches no
//! database.

use crate::catalog::locations::LocationView;
use crate::catalog::products::{Localized, PriceView, ProductView};
use crate::{error::bad, EngineError, Result};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use store::Tx;

use super::stock_sets::bit;
pub use super::stock_sets::StockSets;

/// Results per page at most.
pub const MAX_LIMIT: usize = 100;
/// Matches considered for filters and facets per query at most.
const MAX_MATCHES: usize = 5_000;
/// Values listed per facet at most (the most frequent first).
pub const MAX_FACET_VALUES: usize = 50;
const NO_PRICE: i64 = i64::MIN;
/// Removed documents, as a share of the index, that trigger a full rebuild.
const MAX_REMOVED_SHARE: f64 = 0.2;

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
    for r in tx
        .query(
            "SELECT product_id, SUM(quantity) FROM interactions WHERE kind = 'purchase' AND at > ? GROUP BY product_id",
            store::params![now - 30 * 24 * 3600 * 1000],
        )?
        .iter()
    {
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
    /// Document → its SKUs.
    doc_skus: Vec<Vec<String>>,
    /// Product id → its current document.
    pub(crate) by_id: HashMap<String, u32>,
    /// The products' embeddings by document, for semantic search (empty without a model; filled in the
    /// background by `search_embed_refresh`).
    pub dense: search::dense::Dense,
    /// Interned facet values: per document a category, a brand and attribute (name, value) ids.
    facets: Facets,
    /// Lowest price per currency and document (NO_PRICE when the product has none in that currency).
    currencies: Vec<String>,
    prices: Vec<Vec<i64>>,
    /// Ranking boost per document from its sales and stock signals.
    boost: Vec<f32>,
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
            return Err(bad(format!(
                "groups[{i}]: a synonym group holds 2–{} phrases",
                search::index::MAX_SYNONYM_WORDS
            )));
        }
        if let Some(p) = g.iter().find(|p| p.trim().is_empty() || p.chars().count() > 50) {
            return Err(bad(format!("groups[{i}]: `{p}` must be 1–50 characters")));
        }
    }
    Ok(())
}

fn doc_of(p: &ProductView, signals: &Signals) -> Doc {
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
}

/// The text a product is found by: titles in both languages, brand, category path, attribute values,
/// SKUs and the English description.
fn text_of(p: &ProductView) -> String {
    let attrs: Vec<&str> = p.variants.iter().flat_map(|v| v.attributes.values().map(|s| s.as_str())).collect();
    let skus: Vec<&str> = p.variants.iter().map(|v| v.sku.as_str()).collect();
    format!(
        "{} {} {} {} {} {} {}",
        p.title.ko,
        p.title.en,
        p.vendor,
        p.category.replace('/', " "),
        attrs.join(" "),
        skus.join(" "),
        p.description.en
    )
}

/// The text a product is embedded from for semantic search: titles in both languages, brand, category.
pub(crate) fn meaning(doc: &Doc) -> String {
    meaning_text(&doc.title, &doc.brand, &doc.category)
}

fn meaning_text(title: &Localized, brand: &str, category: &str) -> String {
    format!("{} / {} / {} / {}", title.ko, title.en, brand, category.replace('/', " "))
}

impl CatalogIndex {
    /// What the stock sets read: each SKU's document and each document's SKUs.
    pub(crate) fn doc_skus(&self) -> super::stock_sets::DocSkus<'_> {
        super::stock_sets::DocSkus { sku_doc: &self.sku_doc, doc_skus: &self.doc_skus }
    }

    pub fn build(
        products: &[ProductView],
        synonyms: &[Vec<String>],
        signals: &Signals,
        built_from: i64,
        built_at: i64,
    ) -> CatalogIndex {
        let active: Vec<&ProductView> = products.iter().filter(|p| p.status == "active").collect();
        let docs: Vec<Doc> = active.iter().map(|p| doc_of(p, signals)).collect();
        let texts: Vec<String> = active.iter().map(|p| text_of(p)).collect();
        let mut index = search::Index::build(texts.iter().map(|s| s.as_str()));
        index.set_synonyms(synonyms);
        let sku_doc = active
            .iter()
            .enumerate()
            .flat_map(|(d, p)| p.variants.iter().map(move |v| (v.sku.clone(), d as u32)))
            .collect();
        let doc_skus = active.iter().map(|p| p.variants.iter().map(|v| v.sku.clone()).collect()).collect();
        let by_id = active.iter().enumerate().map(|(d, p)| (p.id.clone(), d as u32)).collect();
        let mut ix = CatalogIndex {
            index,
            docs: Vec::new(),
            sku_doc,
            doc_skus,
            by_id,
            dense: search::dense::Dense::new(0),
            facets: Facets::default(),
            currencies: Vec::new(),
            prices: Vec::new(),
            boost: Vec::new(),
            built_from,
            built_at,
        };
        for d in docs {
            ix.push_doc(d);
        }
        ix
    }

    /// Appends a document's facets, prices and record (its text is already in the index).
    fn push_doc(&mut self, doc: Doc) {
        let d = self.docs.len();
        self.facets.push(&doc);
        for (cur, p) in &doc.min_price {
            let c = match self.currencies.iter().position(|c| c == cur) {
                Some(c) => c,
                None => {
                    self.currencies.push(cur.clone());
                    self.prices.push(Vec::new());
                    self.currencies.len() - 1
                }
            };
            let col = &mut self.prices[c];
            col.resize(d + 1, NO_PRICE);
            col[d] = *p;
        }
        // What sells and what is in stock rise among equally relevant products (a gentle boost).
        self.boost.push((1.0 + 0.05 * (doc.sold_30d as f32).ln_1p()) * if doc.in_stock { 1.1 } else { 1.0 });
        self.docs.push(doc);
    }

    /// Prices of every document in `currency` (shorter than the documents when the last have none).
    fn prices_in(&self, currency: &str) -> &[i64] {
        self.currencies.iter().position(|c| c == currency).map_or(&[], |c| self.prices[c].as_slice())
    }

    /// Products searchable now.
    pub fn live(&self) -> usize {
        self.index.live()
    }

    /// Whether the removed documents are many enough that a rebuild should compact them.
    pub fn wants_rebuild(&self) -> bool {
        self.index.removed() as f64 > MAX_REMOVED_SHARE * self.index.len().max(1) as f64
    }

    /// Takes a product out of the index; returns its ranking signals.
    pub fn remove(&mut self, id: &str) -> Signals {
        let mut signals = Signals::default();
        if let Some(old) = self.by_id.remove(id) {
            self.index.remove(old);
            self.dense.remove(old);
            for sku in std::mem::take(&mut self.doc_skus[old as usize]) {
                if self.sku_doc.get(&sku) == Some(&old) {
                    self.sku_doc.remove(&sku);
                }
            }
            let o = &self.docs[old as usize];
            signals.sold_30d.insert(id.to_owned(), o.sold_30d);
            if o.in_stock {
                signals.in_stock.insert(id.to_owned());
            }
        }
        signals
    }

    /// Applies one product's current state in place: its old document (if any) is removed and, when the
    /// product is active, a new one appended. Returns the new document. Ranking signals carry over.
    /// Its vector carries over when the text it was embedded from is unchanged.
    pub fn apply(&mut self, p: &ProductView) -> Option<u32> {
        let old = self.by_id.get(&p.id).copied();
        if p.status != "active" {
            self.remove(&p.id);
            return None;
        }
        let d = self.index.add(&text_of(p));
        if let Some(o) = old {
            // The new document's position is `d` (the index and the records grow together).
            if meaning(&self.docs[o as usize]) == meaning_text(&p.title, &p.vendor, &p.category) {
                self.dense.move_row(o, d);
            }
        }
        let signals = self.remove(&p.id);
        self.push_doc(doc_of(p, &signals));
        self.doc_skus.push(p.variants.iter().map(|v| v.sku.clone()).collect());
        for v in &p.variants {
            self.sku_doc.insert(v.sku.clone(), d);
        }
        self.by_id.insert(p.id.clone(), d);
        Some(d)
    }
}

#[derive(Default)]
struct Facets {
    cats: Vec<String>,
    brands: Vec<String>,
    attrs: Vec<(String, String)>,
    /// Attribute names, and per attribute value id its name's id.
    attr_names: Vec<String>,
    attr_name_id: HashMap<String, u32>,
    attr_name: Vec<u32>,
    cat_id: HashMap<String, u32>,
    brand_id: HashMap<String, u32>,
    attr_id: HashMap<(String, String), u32>,
    doc_cat: Vec<u32>,
    doc_brand: Vec<u32>,
    /// Attribute value ids of document d: `attr_ids[attr_off[d]..attr_off[d + 1]]` (flat, for the facet loop).
    attr_off: Vec<u32>,
    attr_ids: Vec<u32>,
}

fn intern<K: std::hash::Hash + Eq + Clone>(ids: &mut HashMap<K, u32>, values: &mut Vec<K>, k: &K) -> u32 {
    if let Some(&id) = ids.get(k) {
        return id;
    }
    values.push(k.clone());
    ids.insert(k.clone(), (values.len() - 1) as u32);
    (values.len() - 1) as u32
}

impl Facets {
    fn doc_attrs(&self, d: usize) -> &[u32] {
        &self.attr_ids[self.attr_off[d] as usize..self.attr_off[d + 1] as usize]
    }

    fn push(&mut self, d: &Doc) {
        let c = intern(&mut self.cat_id, &mut self.cats, &d.category);
        let b = intern(&mut self.brand_id, &mut self.brands, &d.brand);
        let mut ids = Vec::new();
        for (k, vs) in &d.attributes {
            for v in vs {
                let before = self.attrs.len();
                let id = intern(&mut self.attr_id, &mut self.attrs, &(k.clone(), v.clone()));
                if self.attrs.len() > before {
                    let name = intern(&mut self.attr_name_id, &mut self.attr_names, k);
                    self.attr_name.push(name);
                }
                ids.push(id);
            }
        }
        self.doc_cat.push(c);
        self.doc_brand.push(b);
        if self.attr_off.is_empty() {
            self.attr_off.push(0);
        }
        self.attr_ids.extend(ids);
        self.attr_off.push(self.attr_ids.len() as u32);
    }
}

/// A shopper's search. `SearchQuery::default()` is a valid query (relevance order, 20 hits) once `q` or a
/// filter is set.
#[derive(Debug, Clone)]
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
    /// Hits to skip (paging past the first page), at most [`MAX_OFFSET`].
    pub offset: usize,
}

impl Default for SearchQuery {
    fn default() -> Self {
        SearchQuery {
            q: String::new(),
            category: None,
            brand: None,
            attributes: Vec::new(),
            currency: String::new(),
            price_min: None,
            price_max: None,
            in_stock_at: None,
            pickup_near: None,
            sort: "relevance".into(),
            limit: 20,
            offset: 0,
        }
    }
}

/// The longest query text.
pub const MAX_QUERY_CHARS: usize = 200;

/// How deep search results can be paged.
pub const MAX_OFFSET: usize = 10_000;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
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

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
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
    if q.q.chars().count() > MAX_QUERY_CHARS {
        return Err(bad("`q` is at most 200 characters"));
    }
    if q.limit == 0 || q.limit > MAX_LIMIT {
        return Err(EngineError::invalid("invalid_limit", format!("`limit` must be 1–{MAX_LIMIT}")));
    }
    if q.offset > MAX_OFFSET {
        return Err(bad(format!("search pages reach {MAX_OFFSET} hits deep; narrow the search with filters")));
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
        if !((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) && r > 0.0 && r <= 500.0) {
            return Err(bad("`near` is `lat,lon` in degrees and `radius_km` is 0–500"));
        }
    }
    if q.attributes.len() > 10 {
        return Err(bad("at most 10 attribute filters"));
    }
    Ok(())
}

/// Runs a search against the served index and stock.
pub(crate) fn run(
    ix: &CatalogIndex,
    stock: &StockSets,
    locations: &[LocationView],
    q: &SearchQuery,
    meaning: Option<(&[f32], search::dense::Fusion)>,
) -> Result<SearchView> {
    let want_loc: Option<Vec<String>> = match (&q.in_stock_at, q.pickup_near) {
        // By id or by code, as everywhere a location is named.
        (Some(l), _) => match locations.iter().find(|x| &x.id == l || x.code.eq_ignore_ascii_case(l)) {
            Some(x) => Some(vec![x.id.clone()]),
            None => return Err(EngineError::not_found("location", l.clone())),
        },
        (None, Some((lat, lon, r))) => Some(
            locations
                .iter()
                .filter(|l| l.pickup_enabled && l.lat.zip(l.lon).is_some_and(|p| km((lat, lon), p) <= r))
                .map(|l| l.id.clone())
                .collect(),
        ),
        _ => None,
    };
    let prices = ix.prices_in(&q.currency);
    let price = |d: u32| prices.get(d as usize).copied().filter(|p| *p != NO_PRICE);
    let f = &ix.facets;
    // Filters resolved to interned ids once per query.
    let cat_ok: Option<Vec<bool>> =
        q.category.as_ref().map(|c| f.cats.iter().map(|x| x == c || x.starts_with(&format!("{c}/"))).collect());
    let brand_ok: Option<Vec<bool>> =
        q.brand.as_ref().map(|b| f.brands.iter().map(|x| x.eq_ignore_ascii_case(b)).collect());
    // Per attribute filter: its name's id and the value ids it accepts (sorted).
    let attr_ok: Vec<(Option<u32>, Vec<u32>)> = q
        .attributes
        .iter()
        .map(|(k, v)| {
            let ok = f
                .attrs
                .iter()
                .enumerate()
                .filter(|(_, (ak, av))| ak == k && av.eq_ignore_ascii_case(v))
                .map(|(i, _)| i as u32)
                .collect();
            (f.attr_name_id.get(k).copied(), ok)
        })
        .collect();
    // Filters other than the facet's own, so that each facet shows what choosing a value would give.
    // `skip`: 0 none, 1 category, 2 brand, 3 + k the k-th attribute filter.
    let pass = |d: u32, skip: usize| -> bool {
        let du = d as usize;
        (skip == 1 || cat_ok.as_ref().is_none_or(|ok| ok[f.doc_cat[du] as usize]))
            && (skip == 2 || brand_ok.as_ref().is_none_or(|ok| ok[f.doc_brand[du] as usize]))
            && attr_ok
                .iter()
                .enumerate()
                .all(|(k, (_, ok))| skip == 3 + k || f.doc_attrs(du).iter().any(|a| ok.binary_search(a).is_ok()))
    };
    // Per attribute name, which attribute filter (if any) it belongs to.
    let name_skip: Vec<usize> = (0..f.attr_names.len() as u32)
        .map(|n| attr_ok.iter().position(|(k, _)| *k == Some(n)).map_or(0, |k| 3 + k))
        .collect();
    let price_range = (q.price_min.is_some() || q.price_max.is_some())
        .then(|| (q.price_min.unwrap_or(i64::MIN + 1), q.price_max.unwrap_or(i64::MAX)));
    let priced = |d: u32| price_range.is_none_or(|(lo, hi)| price(d).is_some_and(|p| p >= lo && p <= hi));
    let stocked: Vec<(&str, &[u64])> = want_loc.iter().flatten().take(200).map(|l| (l.as_str(), stock.at(l))).collect();
    let in_stock = |d: u32| want_loc.is_none() || stocked.iter().any(|(_, bits)| bit(bits, d));
    // What the page will show: a match on fragments of a Korean word is left out only when one of these
    // holds a word of the query (a filter that leaves only such matches still finds them).
    let shown = |d: u32| priced(d) && in_stock(d) && pass(d, 0);
    // Candidates: text matches by relevance — fused with the products nearest in meaning when the query
    // has a vector —, or the whole catalog for an empty query.
    let semantic = meaning.filter(|_| !ix.dense.is_empty()).and_then(|(v, f)| Some((ix.dense.query(v).ok()?, f)));
    let mut cands: Vec<(u32, f32)> = if q.q.trim().is_empty() {
        (0..ix.docs.len() as u32).filter(|d| !ix.index.is_deleted(*d)).map(|d| (d, 0.0)).collect()
    } else if let Some((sq, fusion)) = semantic {
        let lexical = ix.index.top_where(&q.q, MAX_MATCHES, &shown);
        let c =
            search::dense::candidates(&ix.index, &ix.dense, lexical, &sq, search::dense::SEMANTIC_CANDIDATES, |_| true);
        // Only the page is ordered, below.
        search::dense::fuse_unordered(&c, fusion.for_query(&ix.index, &q.q))
    } else {
        ix.index.top_where(&q.q, MAX_MATCHES, &shown)
    };
    cands.retain(|(d, _)| priced(*d) && in_stock(*d));
    let (mut cat_n, mut brand_n) = (vec![0usize; f.cats.len()], vec![0usize; f.brands.len()]);
    // Attribute values can number in the tens of thousands (sizes): count them in a per-thread dense
    // array, remembering which were touched, so a query costs what it matches.
    thread_local! {
        static ATTR_N: std::cell::RefCell<(Vec<u32>, Vec<u32>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
    }
    let any_attr_filter = !attr_ok.is_empty();
    let attr_n: Vec<(u32, usize)> = ATTR_N.with(|cell| {
        let mut guard = cell.borrow_mut();
        let (counts, touched) = &mut *guard;
        if counts.len() < f.attrs.len() {
            counts.resize(f.attrs.len(), 0);
        }
        touched.clear();
        for &(d, _) in &cands {
            let du = d as usize;
            if pass(d, 1) {
                cat_n[f.doc_cat[du] as usize] += 1;
            }
            if pass(d, 2) {
                brand_n[f.doc_brand[du] as usize] += 1;
            }
            let all_pass = !any_attr_filter && pass(d, 0);
            for &a in f.doc_attrs(du) {
                if all_pass || pass(d, name_skip[f.attr_name[a as usize] as usize]) {
                    if counts[a as usize] == 0 {
                        touched.push(a);
                    }
                    counts[a as usize] += 1;
                }
            }
        }
        touched.iter().map(|&a| (a, std::mem::take(&mut counts[a as usize]) as usize)).collect()
    });
    // Each facet lists its most frequent values (ties by value), at most MAX_FACET_VALUES.
    let mut facets: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut top = |name: String, counts: Vec<(&str, usize)>| {
        let mut counts: Vec<(&str, usize)> = counts.into_iter().filter(|x| x.1 > 0).collect();
        if counts.is_empty() {
            return;
        }
        counts.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        facets
            .entry(name)
            .or_default()
            .extend(counts.into_iter().take(MAX_FACET_VALUES).map(|(v, n)| (v.to_owned(), n)));
    };
    top("category".into(), cat_n.iter().enumerate().map(|(i, n)| (f.cats[i].as_str(), *n)).collect());
    top("brand".into(), brand_n.iter().enumerate().map(|(i, n)| (f.brands[i].as_str(), *n)).collect());
    let mut by_attr: BTreeMap<&str, Vec<(&str, usize)>> = BTreeMap::new();
    for (a, n) in attr_n {
        let (name, value) = &f.attrs[a as usize];
        by_attr.entry(name.as_str()).or_default().push((value.as_str(), n));
    }
    for (name, counts) in by_attr {
        top(format!("attributes.{name}"), counts);
    }
    cands.retain(|(d, _)| pass(*d, 0));
    // Only the page is sorted; the rest is counted.
    let total = cands.len();
    let k = (q.offset + q.limit).min(total);
    let docs = &ix.docs;
    match q.sort.as_str() {
        "price_asc" => top_k(&mut cands, k, |a, b| {
            (price(a.0).unwrap_or(i64::MAX), a.0).cmp(&(price(b.0).unwrap_or(i64::MAX), b.0))
        }),
        "price_desc" => top_k(&mut cands, k, |a, b| {
            (price(b.0).unwrap_or(i64::MIN), a.0).cmp(&(price(a.0).unwrap_or(i64::MIN), b.0))
        }),
        "popular" => {
            top_k(&mut cands, k, |a, b| (docs[b.0 as usize].sold_30d, a.0).cmp(&(docs[a.0 as usize].sold_30d, b.0)))
        }
        "newest" => top_k(&mut cands, k, |a, b| {
            docs[b.0 as usize].created_at.cmp(&docs[a.0 as usize].created_at).then(a.0.cmp(&b.0))
        }),
        _ => {
            // Relevance, boosted by the sales and stock signals.
            let browse = q.q.trim().is_empty();
            for (d, score) in cands.iter_mut() {
                *score = if browse { 1.0 } else { *score } * ix.boost[*d as usize];
            }
            top_k(&mut cands, k, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        }
    }
    let hits = cands
        .into_iter()
        .take(k)
        .skip(q.offset)
        .map(|(d, score)| {
            let doc = &ix.docs[d as usize];
            Hit {
                product_id: doc.id.clone(),
                handle: doc.handle.clone(),
                title: doc.title.clone(),
                category: doc.category.clone(),
                brand: doc.brand.clone(),
                price: price(d).map(|p| crate::catalog::products::price_view(&q.currency, p)),
                score,
                available_at: stocked.iter().filter(|(_, bits)| bit(bits, d)).map(|(l, _)| (*l).to_owned()).collect(),
            }
        })
        .collect();
    Ok(SearchView { q: q.q.clone(), total, hits, facets })
}

/// Keeps the best `k` of `v` by `cmp` (a total order), sorted.
fn top_k<T>(v: &mut Vec<T>, k: usize, cmp: impl Fn(&T, &T) -> std::cmp::Ordering) {
    if k == 0 {
        v.clear();
        return;
    }
    if v.len() > k {
        v.select_nth_unstable_by(k - 1, &cmp);
        v.truncate(k);
    }
    v.sort_unstable_by(cmp);
}

/// What queries read: the index (none before the first build) and the stock sets, under one lock so that
/// the stock bitsets always describe the served index's documents.
#[derive(Default)]
pub struct Served {
    pub ix: Option<CatalogIndex>,
    pub stock: StockSets,
}

/// Search's state on this node.
#[derive(Default)]
pub struct SearchState {
    pub(crate) served: std::sync::RwLock<Served>,
    /// The product event feed position the index reflects.
    pub(crate) cursor: std::sync::Mutex<crate::platform::events::Cursor>,
    /// One index refresher at a time; one stock refresher at a time.
    pub(crate) rebuild: tokio::sync::Mutex<()>,
    pub(crate) stock_refresh: tokio::sync::Mutex<()>,
    /// Locations for stock filters, read at most every LOCATIONS_TTL_MS (at once for an unknown id).
    pub(crate) locations: std::sync::Mutex<Option<(i64, std::sync::Arc<Vec<LocationView>>)>>,
    /// Searches run on blocking threads, a few at a time (see [`SearchSlots`]).
    pub(crate) slots: SearchSlots,
}

/// Searches waiting for a slot before new ones are refused as `overloaded` (503, retry shortly).
pub const MAX_SEARCH_WAITING: usize = 256;

/// Search is CPU work (scoring, facets): it runs off the async workers, at most two per core at once, with
/// a bounded queue, so a flood of expensive queries delays searches but never the checkout or the API.
pub(crate) struct SearchSlots {
    pub(crate) sem: std::sync::Arc<tokio::sync::Semaphore>,
    pub(crate) waiting: std::sync::atomic::AtomicUsize,
}

impl Default for SearchSlots {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        SearchSlots { sem: std::sync::Arc::new(tokio::sync::Semaphore::new(cores * 2)), waiting: Default::default() }
    }
}

/// How long search trusts its copy of the locations (coordinates, pickup) before reading them again.
pub const LOCATIONS_TTL_MS: i64 = 5_000;

/// The snapshot a stock set starts from: the feed's end, then every (sku, location) with sellable stock,
/// in one read transaction, so that replaying the events after that end converges on the live state.
pub(crate) fn stock_snapshot(tx: &mut dyn Tx) -> Result<(crate::platform::events::Cursor, Vec<(String, String)>)> {
    let cursor = crate::platform::events::head(tx)?;
    let mut pairs = Vec::new();
    for r in
        tx.query("SELECT sku, location_id FROM stock_levels WHERE on_hand - reserved - safety_stock > 0", &[])?.iter()
    {
        pairs.push((r.text(0)?, r.text(1)?));
    }
    Ok((cursor, pairs))
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
