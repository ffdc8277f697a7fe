//! Semantic search: the embedding model behind [`Embedder`] (the node wires an OpenAI-compatible endpoint
//! to it), the served index's product vectors kept in step with the catalog (embedded in the background,
//! carried over by product and text when the index is rebuilt), query vectors in a bounded cache, and the
//! fusion setting chosen by cross-validation. Without a model, search stays lexical.

use super::product_search::{CatalogIndex, Doc};
use crate::money::cards::BoxFuture;
use crate::{Engine, Result};
use search::dense::Fusion;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// An embedding model. Implemented in the node (HTTP); the engine only sees this interface.
pub trait Embedder: Send + Sync {
    /// The model and where it runs, for logs and the console.
    fn describe(&self) -> String;
    /// One vector per text; `query` tells search queries from product texts.
    fn embed<'a>(
        &'a self,
        texts: &'a [String],
        query: bool,
    ) -> BoxFuture<'a, std::result::Result<Vec<Vec<f32>>, String>>;
}

/// How lexical and semantic scores are mixed: chosen by `borderless search eval --embeddings`'s
/// leave-one-set-out cross-validation over Home Depot's judgements and the Korean test set
/// (docs/benchmarks.md, "Semantic retrieval").
pub const FUSION: Fusion = Fusion { weight: 0.4, floor: 0.80 };

/// How long a search waits for its query's vector before answering lexically.
pub const QUERY_TIMEOUT: Duration = Duration::from_millis(400);
/// Query vectors kept (two generations of this many).
const QUERY_CACHE: usize = 4_096;
/// Products embedded per request to the model.
const EMBED_BATCH: usize = 32;

/// The text a product is embedded from: its titles in both languages, brand and category words.
pub(crate) fn meaning(doc: &Doc) -> String {
    format!("{} / {} / {} / {}", doc.title.ko, doc.title.en, doc.brand, doc.category.replace('/', " "))
}

/// [`meaning`] of a product as the catalog holds it.
pub(crate) fn meaning_of(p: &crate::catalog::products::ProductView) -> String {
    format!("{} / {} / {} / {}", p.title.ko, p.title.en, p.vendor, p.category.replace('/', " "))
}

/// Gives the new index's products the vectors they had in the old one, where their text is unchanged.
pub(crate) fn carry_over(old: &CatalogIndex, new: &mut CatalogIndex) {
    if old.dense.is_empty() {
        return;
    }
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
    embedder: OnceLock<Arc<dyn Embedder>>,
    queries: Mutex<QueryCache>,
    /// The last failure of the model (when, what), cleared by the next success.
    failing: Mutex<Option<(i64, String)>>,
    one_refresher: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct QueryCache {
    current: HashMap<String, Arc<[f32]>>,
    previous: HashMap<String, Arc<[f32]>>,
}

impl QueryCache {
    fn get(&mut self, q: &str) -> Option<Arc<[f32]>> {
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
    /// The model's last failure, while it lasts.
    pub failing: Option<String>,
}

impl Engine {
    /// Turns semantic search on with this model (once, at start); false when one is already set.
    pub fn set_embedder(&self, e: Arc<dyn Embedder>) -> bool {
        self.discovery.semantic.embedder.set(e).is_ok()
    }

    fn embedder(&self) -> Option<&Arc<dyn Embedder>> {
        self.discovery.semantic.embedder.get()
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
        let (products, embedded) = served.ix.as_ref().map_or((0, 0), |ix| (ix.live(), ix.dense.len()));
        SemanticStatus {
            model: self.embedder().map(|e| e.describe()),
            products,
            embedded,
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

    /// The vector of a search query: cached, or asked of the model within [`QUERY_TIMEOUT`]; none when
    /// there is no model, no product has a vector yet, or the model failed (the search is then lexical).
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
        let texts = [text.to_owned()];
        match tokio::time::timeout(QUERY_TIMEOUT, e.embed(&texts, true)).await {
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
                self.semantic_failed(format!("no answer within {} ms", QUERY_TIMEOUT.as_millis()));
                None
            }
        }
    }

    /// Embeds the served index's products that have no vector yet (new, changed, or never embedded), a
    /// batch at a time, outside the index's lock; a product changed meanwhile is left for the next round.
    /// Returns the products embedded (0 without a model or when all have one).
    pub async fn search_embed_refresh(&self) -> Result<usize> {
        let Some(e) = self.embedder().cloned() else {
            return Ok(0);
        };
        let _one = self.discovery.semantic.one_refresher.lock().await;
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
                    .take(EMBED_BATCH)
                    .map(|(id, &d)| (id.clone(), meaning(&ix.docs[d as usize])))
                    .collect()
            };
            if todo.is_empty() {
                return Ok(done);
            }
            let texts: Vec<String> = todo.iter().map(|t| t.1.clone()).collect();
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
            let mut served = self.discovery.search.served.write().unwrap_or_else(|p| p.into_inner());
            let Some(ix) = served.ix.as_mut() else {
                return Ok(done);
            };
            let mut stored = 0;
            for ((id, text), v) in todo.iter().zip(vectors) {
                if let Some(&d) = ix.by_id.get(id) {
                    if meaning(&ix.docs[d as usize]) == *text {
                        ix.dense
                            .set(d, &v)
                            .map_err(|err| crate::error::internal(format!("embedding of {id}: {err}")))?;
                        stored += 1;
                    }
                }
            }
            done += stored;
            if stored == 0 {
                // Every product of the batch changed while it was embedded: let the index catch up first.
                return Ok(done);
            }
        }
    }
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
