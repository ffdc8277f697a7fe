//! Discovery: product search over an in-memory index kept in step with the catalog and stock (lexical,
//! and semantic when an embedding model is set: `semantic`, its inverted-file index on large catalogs:
//! `semantic_index`), recommendations (the interaction log, training, serving), and the shopping assistant that answers with
//! both.

pub mod assistant;
pub mod product_search;
pub mod recommendations;
pub mod semantic;
pub mod semantic_index;
pub mod stock_sets;

use crate::catalog::{locations, products};
use crate::error::{bad, internal};
use crate::platform::events;
use crate::{Engine, EngineError, Result};
use std::sync::Arc;
use store::params;

/// What this node serves: the recommendation model version and the product search index.
#[derive(Default)]
pub(crate) struct DiscoveryState {
    pub(crate) recs: Arc<recommendations::Serving>,
    pub(crate) search: Arc<product_search::SearchState>,
    pub(crate) assistant: assistant::VocabCache,
    pub(crate) semantic: semantic::SemanticState,
    /// The assistant's optional language model.
    pub(crate) model: assistant::language_model::ModelState,
}

impl Engine {
    /// Brings the search index up to the product event feed: changed products are applied in place (a
    /// change is searchable a few milliseconds after it is read); a full rebuild runs at first, after a
    /// synonym change or a bulk change of more than REBUILD_ABOVE products, when removed documents pile up,
    /// and at least every 10 minutes (sales and stock ranking signals age). Returns whether anything changed.
    pub async fn search_refresh(&self) -> Result<bool> {
        const REBUILD_ABOVE: usize = 2_000;
        let _one = self.discovery.search.rebuild.lock().await;
        let now = self.now();
        let fresh = self
            .search_served()
            .ix
            .as_ref()
            .is_some_and(|ix| now - ix.built_at < 10 * 60 * 1000 && !ix.wants_rebuild());
        let mut cursor = *self.discovery.search.cursor.lock().unwrap_or_else(|e| e.into_inner());
        let mut full = !fresh;
        let mut changed: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        loop {
            // Pages are capped by the feed (and a filtered read looks through a window of it): read until
            // the cursor stops moving. An empty page can still move it past events of other kinds.
            let (evs, next) =
                self.db.read(move |tx| events::feed(tx, cursor, events::MAX_FEED_PAGE, Some("product."))).await?;
            if next == cursor {
                break;
            }
            for e in evs {
                if e.kind == "product.synonyms_updated" {
                    full = true;
                } else if !full && seen.insert(e.aggregate_id.clone()) {
                    changed.push(e.aggregate_id);
                }
            }
            full |= changed.len() > REBUILD_ABOVE;
            cursor = next;
        }
        if full {
            let products = self.all_products().await?;
            let synonyms = self.search_synonyms().await?;
            let signals = self.db.read(move |tx| product_search::signals(tx, now)).await?;
            let ix = tokio::task::spawn_blocking(move || {
                product_search::CatalogIndex::build(&products, &synonyms, &signals, cursor.seq, now)
            })
            .await
            .map_err(|e| internal(format!("index build stopped: {e}")))?;
            let mut ix = ix;
            let mut served = self.search_served_mut();
            if let Some(old) = served.ix.as_ref() {
                semantic::carry_over(old, &mut ix);
            }
            served.stock.reindex(ix.doc_skus());
            served.ix = Some(ix);
        } else if !changed.is_empty() {
            let ids = changed.clone();
            let products = self
                .db
                .read(move |tx| {
                    ids.iter().map(|id| Ok((id.clone(), products::load_product(tx, id)?))).collect::<Result<Vec<_>>>()
                })
                .await?;
            let mut guard = self.search_served_mut();
            let served = &mut *guard;
            if let Some(ix) = served.ix.as_mut() {
                for (id, p) in products {
                    let d = match p {
                        Some(p) => ix.apply(&p),
                        None => {
                            ix.remove(&id);
                            None
                        }
                    };
                    if let Some(d) = d {
                        served.stock.refresh_doc(&ix.doc_skus(), d, None);
                    }
                }
                ix.built_from = cursor.seq;
            }
        } else {
            return Ok(false);
        }
        *self.discovery.search.cursor.lock().unwrap_or_else(|e| e.into_inner()) = cursor;
        Ok(true)
    }

    fn search_served(&self) -> std::sync::RwLockReadGuard<'_, product_search::Served> {
        self.discovery.search.served.read().unwrap_or_else(|e| e.into_inner())
    }

    fn search_served_mut(&self) -> std::sync::RwLockWriteGuard<'_, product_search::Served> {
        self.discovery.search.served.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Brings search's stock sets up to the inventory events (from a snapshot the first time). Returns the
    /// events applied. Stock filters in search see a change once this has run (every 200 ms in `serve`).
    pub async fn search_stock_refresh(&self) -> Result<usize> {
        let _one = self.discovery.search.stock_refresh.lock().await;
        if !self.search_served().stock.loaded {
            let (cursor, pairs) = self.db.read(product_search::stock_snapshot).await?;
            let mut guard = self.search_served_mut();
            let served = &mut *guard;
            served.stock.load(pairs, cursor);
            if let Some(ix) = served.ix.as_ref() {
                served.stock.reindex(ix.doc_skus());
            }
        }
        let mut applied = 0;
        loop {
            let cursor = self.search_served().stock.cursor;
            let (evs, next) = self
                .db
                .read(move |tx| events::feed(tx, cursor, events::MAX_FEED_PAGE, Some("inventory.changed")))
                .await?;
            if next == cursor {
                return Ok(applied);
            }
            let mut guard = self.search_served_mut();
            let served = &mut *guard;
            for e in &evs {
                let d = &e.data;
                if let (Some(sku), Some(loc), Some(avail)) =
                    (d["sku"].as_str(), d["location_id"].as_str(), d["level"]["available"].as_i64())
                {
                    served.stock.set(served.ix.as_ref().map(|ix| ix.doc_skus()), sku, loc, avail);
                }
            }
            served.stock.cursor = next;
            applied += evs.len();
        }
    }

    /// Products in the served search index.
    pub fn search_index_size(&self) -> usize {
        self.search_served().ix.as_ref().map_or(0, |ix| ix.live())
    }

    /// The seller's synonym groups.
    pub async fn search_synonyms(&self) -> Result<Vec<Vec<String>>> {
        Ok(self
            .meta(product_search::SYNONYMS_KEY)
            .await?
            .and_then(|v| serde_json::from_str(&v).ok())
            .unwrap_or_default())
    }

    /// Replaces the synonym groups; every node's index picks them up through a `product.synonyms_updated`
    /// event, like a catalog change.
    pub async fn set_search_synonyms(&self, groups: Vec<Vec<String>>) -> Result<usize> {
        product_search::check_synonyms(&groups)?;
        let (json, now, n) = (serde_json::to_string(&groups).unwrap_or_else(|_| "[]".into()), self.now(), groups.len());
        self.db
            .write(move |tx| {
                tx.exec("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", params![product_search::SYNONYMS_KEY, &json])?;
                events::emit(tx, "product.synonyms_updated", "synonyms", &serde_json::json!({ "groups": n }), now)
            })
            .await?;
        Ok(n)
    }

    /// Searches the active catalog; stock filters use the stock sets (a change shows within ~0.2 s).
    pub async fn search_products(&self, q: product_search::SearchQuery) -> Result<product_search::SearchView> {
        product_search::validate(&q)?;
        domain::Currency::parse(&q.currency).map_err(|e| EngineError::invalid("invalid_currency", e.to_string()))?;
        if self.search_served().ix.is_none() {
            self.search_refresh().await?;
        }
        if !self.search_served().stock.loaded && (q.in_stock_at.is_some() || q.pickup_near.is_some()) {
            self.search_stock_refresh().await?;
        }
        let locations = if q.in_stock_at.is_some() || q.pickup_near.is_some() {
            self.search_locations(q.in_stock_at.as_deref()).await?
        } else {
            Arc::new(Vec::new())
        };
        // Off the async workers, a bounded number at a time.
        use std::sync::atomic::Ordering;
        let slots = &self.discovery.search.slots;
        if slots.waiting.fetch_add(1, Ordering::SeqCst) >= product_search::MAX_SEARCH_WAITING {
            slots.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(EngineError::Db(store::DbError::new(
                store::DbErrorKind::Overloaded,
                "too many searches are waiting".to_owned(),
            )));
        }
        let permit = slots.sem.clone().acquire_owned().await;
        slots.waiting.fetch_sub(1, Ordering::SeqCst);
        let permit = permit.map_err(|_| internal("shutting down".into()))?;
        let meaning = self.query_vector(&q.q).await;
        let engine = self.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let served = engine.search_served();
            let ix = served.ix.as_ref().ok_or_else(|| internal("no search index".into()))?;
            product_search::run(ix, &served.stock, &locations, &q, meaning.as_deref().map(|v| (v, semantic::FUSION)))
        })
        .await
        .map_err(|e| internal(format!("search stopped: {e}")))?
    }

    /// The locations for stock filters, cached for LOCATIONS_TTL_MS; `need` (an id) not in the copy reads
    /// them again at once, so that a new store is never reported missing.
    async fn search_locations(&self, need: Option<&str>) -> Result<Arc<Vec<locations::LocationView>>> {
        let now = self.now();
        if let Some((at, locs)) = self.discovery.search.locations.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            if now - at < product_search::LOCATIONS_TTL_MS && need.is_none_or(|id| locs.iter().any(|l| l.id == id)) {
                return Ok(locs.clone());
            }
        }
        let locs = Arc::new(self.locations().await?);
        *self.discovery.search.locations.lock().unwrap_or_else(|e| e.into_inner()) = Some((now, locs.clone()));
        Ok(locs)
    }

    /// Moves new orders from the event feed into the interaction log; returns the orders logged. Reading
    /// happens on a reader; the writer only inserts, after checking that nobody logged the batch first.
    pub async fn recs_ingest(&self, limit: usize) -> Result<usize> {
        loop {
            let batch = Arc::new(self.db.read(move |tx| recommendations::ingest_read(tx, limit)).await?);
            let b2 = batch.clone();
            if let Some(n) = self.db.write(move |tx| recommendations::ingest_write(tx, &b2)).await? {
                return Ok(n);
            }
        }
    }

    /// Stores views, searches and cart adds reported by a shopper's app or page.
    pub async fn record_shopper_events(
        &self,
        events: Vec<recommendations::ShopperEvent>,
        customer_id: Option<String>,
        session_id: Option<String>,
    ) -> Result<usize> {
        let now = self.now();
        let n = self
            .db
            .write(move |tx| recommendations::record(tx, &events, customer_id.as_deref(), session_id.as_deref(), now))
            .await?;
        self.insight_touch();
        Ok(n)
    }

    /// Trains a new model version from the whole interaction log (catching up with the event feed first),
    /// picking the blend on a held-out last basket, stores it and serves it. CPU work runs off the async
    /// threads; serving goes on with the previous version meanwhile.
    pub async fn recs_train(
        &self,
        cfg: ::recs::TrainConfig,
        progress: Arc<dyn Fn(&str) + Send + Sync>,
    ) -> Result<recommendations::TrainSummary> {
        while self.recs_ingest(500).await? > 0 {}
        let now = self.now();
        progress("reading the interaction log");
        let history = self.db.read(move |tx| recommendations::load_history(tx, now)).await?;
        let p2 = progress.clone();
        let (summary, stored) = tokio::task::spawn_blocking(move || {
            let report = ::recs::tune(&history.data, &cfg, &|m| p2(m));
            p2("training the blend on the whole history");
            let started = std::time::Instant::now();
            let params = report.params.pruned_for(&report.weights, true);
            let model = ::recs::Model::train(&history.data, &params, report.weights);
            let train_s = started.elapsed().as_secs_f64();
            let summary = recommendations::TrainSummary {
                version: 0,
                interactions: history.interactions,
                shoppers: history.data.shoppers.len(),
                items: history.data.n_items,
                validation_shoppers: report.shoppers,
                validation_recall20: report.recall20,
                validation_ndcg20: report.ndcg20,
                weights: ::recs::FEATURES.iter().zip(report.weights).map(|(k, w)| (k.to_string(), w)).collect(),
                tune_s: report.seconds,
                train_s,
            };
            let stored = recommendations::StoredModel {
                product_ids: history.product_ids,
                location_ids: history.location_ids,
                model,
            };
            (summary, stored)
        })
        .await
        .map_err(|e| internal(format!("training stopped: {e}")))?;
        let json = serde_json::to_string(&stored).map_err(|e| internal(format!("model does not serialize: {e}")))?;
        let mut summary = summary;
        let s2 = summary.clone();
        let version = self.db.write(move |tx| recommendations::save_model(tx, &json, &s2, now)).await?;
        summary.version = version;
        self.discovery.recs.set(recommendations::Loaded::from_stored(version, now, stored));
        progress(&format!("model version {version} is live"));
        Ok(summary)
    }

    /// Serves the newest stored model version if it is newer than the one in memory (models trained by
    /// another node or by `borderless recs train`). Returns the version now served.
    pub async fn recs_refresh(&self) -> Result<Option<i64>> {
        let served = self.discovery.recs.get().map(|l| l.version);
        let latest = self.db.read(recommendations::latest_version).await?;
        let Some(v) = latest.filter(|v| Some(*v) > served) else { return Ok(served) };
        let Some((json, trained_at)) = self.db.read(move |tx| recommendations::load_model(tx, v)).await? else {
            return Ok(served);
        };
        let loaded = tokio::task::spawn_blocking(move || {
            serde_json::from_str::<recommendations::StoredModel>(&json)
                .map(|s| recommendations::Loaded::from_stored(v, trained_at, s))
        })
        .await
        .map_err(|e| internal(format!("model load stopped: {e}")))?
        .map_err(|e| internal(format!("stored model {v} does not parse: {e}")))?;
        self.discovery.recs.set(loaded);
        Ok(Some(v))
    }

    /// Whether any purchase has reached the interaction log (nothing to train on otherwise).
    pub async fn recs_has_purchases(&self) -> Result<bool> {
        self.db
            .read(|tx| Ok(tx.query_opt("SELECT 1 FROM interactions WHERE kind = 'purchase' LIMIT 1", &[])?.is_some()))
            .await
    }

    /// The version being served and when it was trained.
    pub fn recs_model_version(&self) -> Option<(i64, i64)> {
        self.discovery.recs.get().map(|l| (l.version, l.trained_at))
    }

    /// Recommendations for a context (home, a product page, a cart), only of products in stock where the
    /// shopper is (or anywhere that ships), with a reason each.
    pub async fn recommendations(&self, mut q: recommendations::RecsQuery) -> Result<recommendations::RecsView> {
        if q.limit == 0 || q.limit > recommendations::MAX_LIMIT {
            return Err(bad(format!("`limit` must be 1–{}", recommendations::MAX_LIMIT)));
        }
        domain::Currency::parse(&q.currency).map_err(|e| EngineError::invalid("invalid_currency", e.to_string()))?;
        let now = self.now();
        let loaded = self.discovery.recs.get();
        let q2 = q.clone();
        let serving = self.discovery.recs.clone();
        let (items, version) = self
            .db
            .read(move |tx| {
                let inp = recommendations::inputs(tx, &q2, now, loaded.as_deref())?;
                let ranked = recommendations::rank(loaded.as_deref(), &serving, &q2, &inp, (q2.limit * 3).max(20));
                let ids: Vec<String> = ranked.iter().map(|r| r.0.clone()).collect();
                let stocked = recommendations::in_stock(tx, &ids, q2.location_id.as_deref())?;
                // Facts of the stocked candidates and of the products the reasons name, in one query.
                let mut wanted: Vec<String> = ids.iter().filter(|p| stocked.contains(*p)).cloned().collect();
                for r in &ranked {
                    if let ::recs::Reason::BoughtWith { item } | ::recs::Reason::ViewedWith { item } = r.2 {
                        if let Some(p) = loaded.as_ref().and_then(|l| l.product_ids.get(item as usize)) {
                            if !wanted.contains(p) {
                                wanted.push(p.clone());
                            }
                        }
                    }
                }
                let facts = recommendations::cached_facts(tx, &serving, &wanted, &q2.currency, now)?;
                let titles: std::collections::HashMap<String, (String, String)> =
                    facts.active.iter().map(|(k, v)| (k.clone(), (v.1.clone(), v.2.clone()))).collect();
                let items = recommendations::finish(ranked, &facts, &stocked, &titles, loaded.as_deref(), &q2);
                Ok::<_, EngineError>((items, loaded.as_ref().map(|l| l.version)))
            })
            .await?;
        q.limit = items.len();
        Ok(recommendations::RecsView {
            context: q.context,
            customer_id: q.customer_id,
            location_id: q.location_id,
            model_version: version,
            items,
        })
    }
}
