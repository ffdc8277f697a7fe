//! Upkeep of semantic search's inverted-file index on large catalogs (`search::ivf`): the codebook learnt
//! from a sample of the served vectors outside any lock once the catalog has 20,000 of them (again when it
//! has doubled), the vectors filed under it a thousand at a time so a search never waits long, and the
//! measurement of what the lists miss against the whole scan.

use super::product_search::CatalogIndex;
use crate::{Engine, Result};
use std::sync::Arc;

/// Vectors filed per hold of the index's write lock (about 10 ms for 300 lists of 384 dimensions).
const FILE_BATCH: usize = 1_000;

/// Gives the new index the old one's codebook before the old one's vectors are copied over, so they keep
/// their lists.
pub(crate) fn adopt(old: &CatalogIndex, new: &mut CatalogIndex) {
    new.dense.adopt_codebook(&old.dense);
}

/// How many of the whole scan's nearest products the lists found, over some queries.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Recall {
    /// Queries measured (those whose vector this node holds).
    pub queries: usize,
    /// The share of the whole scan's `k` nearest products also among the lists' `k`.
    pub at_10: f64,
    pub at_100: f64,
    /// Queries whose 10 nearest products were all found.
    pub all_10: f64,
    /// Mean time of one query's 100 nearest products: the whole scan and the lists (one thread).
    pub scan_us: f64,
    pub lists_us: f64,
}

impl Engine {
    /// Learns a codebook when the served vectors want one (none yet and 20,000 or more, or twice as many
    /// as it was learnt on), then files waiting vectors until none wait, releasing the index between
    /// batches. Returns the vectors filed.
    pub async fn search_ivf_refresh(&self) -> Result<usize> {
        let sample = {
            let served = self.discovery.search.served.read().unwrap_or_else(|p| p.into_inner());
            match served.ix.as_ref() {
                Some(ix) if ix.dense.wants_codebook() => {
                    let n = ix.dense.len();
                    Some((ix.dense.dim(), ix.dense.sample(search::ivf::sample_for(n)), n))
                }
                _ => None,
            }
        };
        if let Some((dim, rows, n)) = sample {
            let started = std::time::Instant::now();
            let lists = search::ivf::lists_for(n);
            let book = tokio::task::spawn_blocking(move || search::ivf::Codebook::train(dim, &rows, lists, n))
                .await
                .map_err(|e| crate::error::internal(format!("learning the semantic codebook: {e}")))?;
            if let Some(book) = book {
                let mut served = self.discovery.search.served.write().unwrap_or_else(|p| p.into_inner());
                if let Some(ix) = served.ix.as_mut() {
                    if ix.dense.set_codebook(Arc::new(book)) {
                        tracing::info!(
                            vectors = n,
                            lists,
                            ms = started.elapsed().as_millis() as u64,
                            "semantic search: codebook learnt; searches scan the nearest lists once the vectors are filed"
                        );
                    }
                }
            }
        }
        let mut filed = 0;
        loop {
            let (before, left) = {
                let mut served = self.discovery.search.served.write().unwrap_or_else(|p| p.into_inner());
                let Some(ix) = served.ix.as_mut() else { return Ok(filed) };
                let before = ix.dense.unfiled();
                (before, ix.dense.file_pending(FILE_BATCH))
            };
            filed += before - left;
            if left == 0 || before == left {
                return Ok(filed);
            }
            tokio::task::yield_now().await;
        }
    }

    /// Measures the lists against the whole scan for `queries` (their vectors taken from this node's query
    /// cache; queries it has not embedded are skipped): `None` without an inverted-file index.
    pub fn semantic_recall(&self, queries: &[String]) -> Option<Recall> {
        let vectors: Vec<Arc<[f32]>> = {
            let mut cache = self.discovery.semantic.queries.lock().unwrap_or_else(|p| p.into_inner());
            queries.iter().filter_map(|q| cache.get(q.trim())).collect()
        };
        let served = self.discovery.search.served.read().unwrap_or_else(|p| p.into_inner());
        let ix = served.ix.as_ref()?;
        ix.dense.codebook()?;
        let (mut n, mut at_10, mut at_100, mut all_10) = (0, 0.0, 0.0, 0);
        let (mut scan, mut lists) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
        let live = |d: u32| !ix.index.is_deleted(d);
        for v in vectors {
            let Ok(q) = ix.dense.query(&v) else { continue };
            let t = std::time::Instant::now();
            std::hint::black_box(ix.dense.exact_top(&q, search::dense::SEMANTIC_CANDIDATES, live));
            scan += t.elapsed();
            let t = std::time::Instant::now();
            std::hint::black_box(ix.dense.top(&q, search::dense::SEMANTIC_CANDIDATES, live));
            lists += t.elapsed();
            let share = |k: usize| {
                let exact = ix.dense.exact_top(&q, k, live);
                let approx = ix.dense.top(&q, k, live);
                let found = exact.iter().filter(|x| approx.iter().any(|y| y.0 == x.0)).count();
                if exact.is_empty() {
                    1.0
                } else {
                    found as f64 / exact.len() as f64
                }
            };
            let ten = share(10);
            at_10 += ten;
            at_100 += share(search::dense::SEMANTIC_CANDIDATES);
            all_10 += usize::from(ten == 1.0);
            n += 1;
        }
        (n > 0).then(|| Recall {
            queries: n,
            at_10: at_10 / n as f64,
            at_100: at_100 / n as f64,
            all_10: all_10 as f64 / n as f64,
            scan_us: scan.as_secs_f64() * 1e6 / n as f64,
            lists_us: lists.as_secs_f64() * 1e6 / n as f64,
        })
    }
}
