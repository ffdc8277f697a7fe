//! Embeddings kept on disk by model, kind and text for the measuring commands (`search eval --embeddings`,
//! `bench search --embeddings`): one append-only file per model, so a second run asks the model only for
//! texts it has not seen and an interrupted run keeps what it got. A node stores its products' vectors in
//! its database instead (`search_embeddings`).

use crate::embeddings::{Kind, OpenAiEmbeddings};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Bounds a cache file's records: no embedding model has more dimensions than this.
const MAX_DIM: usize = 8_192;

/// Vectors already asked for, by model, kind and text.
pub struct Cache {
    path: PathBuf,
    model: String,
    known: HashMap<[u8; 16], Vec<f32>>,
}

/// Where embeddings are cached when no path is given: `$XDG_CACHE_HOME` or `~/.cache`, per model.
pub fn default_path(model: &str) -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    let safe: String = model.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    base.join("borderless").join(format!("embeddings-{safe}.bin"))
}

impl Cache {
    /// Opens (or starts) the cache at `path`; a torn last record (an interrupted run) is ignored.
    pub fn open(path: &Path, model: &str) -> Result<Cache, String> {
        let mut known = HashMap::new();
        if let Ok(mut f) = std::fs::File::open(path) {
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let mut at = 0;
            while at + 20 <= bytes.len() {
                let key: [u8; 16] = bytes[at..at + 16].try_into().expect("16 bytes");
                let dim = u32::from_le_bytes(bytes[at + 16..at + 20].try_into().expect("4 bytes")) as usize;
                if dim == 0 || dim > MAX_DIM || at + 20 + dim * 4 > bytes.len() {
                    break;
                }
                let v = bytes[at + 20..at + 20 + dim * 4]
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
                    .collect();
                known.insert(key, v);
                at += 20 + dim * 4;
            }
        }
        Ok(Cache { path: path.to_owned(), model: model.to_owned(), known })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn len(&self) -> usize {
        self.known.len()
    }

    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    fn key(&self, kind: Kind, text: &str) -> [u8; 16] {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(self.model.as_bytes());
        h.update([0, if kind == Kind::Query { b'q' } else { b'p' }, 0]);
        h.update(text.as_bytes());
        h.finalize()[..16].try_into().expect("16 bytes")
    }

    /// The cached vector of a text, if any.
    pub fn get(&self, kind: Kind, text: &str) -> Option<&Vec<f32>> {
        self.known.get(&self.key(kind, text))
    }

    /// The texts not cached yet, each once, in their first order.
    pub fn missing<'a>(&self, texts: &'a [String], kind: Kind) -> Vec<&'a String> {
        let mut seen = std::collections::HashSet::new();
        texts.iter().filter(|t| self.get(kind, t).is_none() && seen.insert(t.as_str())).collect()
    }

    /// Keeps `vectors` of `texts` and appends them to the file in one write.
    pub fn put(&mut self, kind: Kind, texts: &[&str], vectors: Vec<Vec<f32>>) -> Result<(), String> {
        if texts.len() != vectors.len() {
            return Err(format!("{} vectors for {} texts", vectors.len(), texts.len()));
        }
        let mut rec = Vec::new();
        let mut keys = Vec::with_capacity(texts.len());
        for (t, v) in texts.iter().zip(&vectors) {
            if v.is_empty() || v.len() > MAX_DIM {
                return Err(format!("the model answered {} dimensions (1 to {MAX_DIM} are kept)", v.len()));
            }
            let key = self.key(kind, t);
            rec.extend_from_slice(&key);
            rec.extend_from_slice(&(v.len() as u32).to_le_bytes());
            for x in v {
                rec.extend_from_slice(&x.to_le_bytes());
            }
            keys.push(key);
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut f| f.write_all(&rec))
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))?;
        self.known.extend(keys.into_iter().zip(vectors));
        Ok(())
    }
}

/// A model behind the disk cache, for a benchmark's node: product texts come from the cache when known and
/// are asked of the model (and cached) when not; search queries always go to the model, so a benchmark
/// still measures what a query costs. Products are asked `batch` at a time.
pub struct CachedEmbedder {
    pub client: OpenAiEmbeddings,
    pub cache: Arc<Mutex<Cache>>,
    pub batch: usize,
}

impl engine::discovery::semantic::Embedder for CachedEmbedder {
    fn model(&self) -> String {
        self.client.model().to_owned()
    }

    fn describe(&self) -> String {
        format!(
            "{} at {} (products cached in {})",
            self.client.model(),
            self.client.url(),
            self.lock().path().display()
        )
    }

    fn batch(&self) -> usize {
        self.batch
    }

    fn embed<'a>(
        &'a self,
        texts: &'a [String],
        query: bool,
    ) -> engine::money::cards::BoxFuture<'a, Result<Vec<Vec<f32>>, String>> {
        use engine::discovery::semantic::Embedder;
        if query {
            // Queries are never cached: the model's own path.
            return Embedder::embed(&self.client, texts, true);
        }
        Box::pin(async move {
            let missing: Vec<String> = self.lock().missing(texts, Kind::Passage).into_iter().cloned().collect();
            if !missing.is_empty() {
                let ask: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
                let vectors = self.client.embed(&ask, Kind::Passage).await.map_err(|e| e.0)?;
                self.lock().put(Kind::Passage, &ask, vectors)?;
            }
            let cache = self.lock();
            Ok(texts.iter().map(|t| cache.get(Kind::Passage, t).cloned().expect("cached above")).collect())
        })
    }
}

impl CachedEmbedder {
    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_survive_a_reopen_and_a_torn_tail_is_ignored() {
        let dir = std::env::temp_dir().join(format!("bl-embcache-{}", std::process::id()));
        let path = dir.join("c.bin");
        let _ = std::fs::remove_dir_all(&dir);
        let mut c = Cache::open(&path, "m").unwrap();
        c.put(Kind::Passage, &["a", "b"], vec![vec![1.0, 2.0], vec![3.0, 4.0]]).unwrap();
        c.put(Kind::Query, &["a"], vec![vec![5.0, 6.0]]).unwrap();
        // An interrupted write: half a record at the end.
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[7u8; 30]).unwrap();
        let mut c = Cache::open(&path, "m").unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(c.get(Kind::Passage, "a"), Some(&vec![1.0, 2.0]));
        assert_eq!(c.get(Kind::Query, "a"), Some(&vec![5.0, 6.0]));
        assert_eq!(c.missing(&["a".into(), "c".into(), "c".into()], Kind::Passage), vec!["c"]);
        // Another model's cache shares nothing with this one.
        assert!(Cache::open(&path, "other").unwrap().get(Kind::Passage, "a").is_none());
        assert!(c.put(Kind::Passage, &["x", "y"], vec![vec![1.0]]).is_err());
        assert!(c.put(Kind::Passage, &["x"], vec![vec![]]).is_err());
        assert_eq!(c.len(), 3, "a refused put keeps nothing");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
