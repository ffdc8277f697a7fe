//! Semantic retrieval: the catalog's text embeddings (from any embedding model; the engine asks an
//! OpenAI-compatible endpoint), stored one byte a dimension, searched for a query's nearest products (the
//! whole scan, or the lists of an inverted-file index on large catalogs: `crate::ivf`), and the fusion of
//! lexical and semantic scores into one ranking.
//!
//! Vectors are normalised and quantised to `i8` with one scale per vector (384 dimensions: 388 bytes a
//! product, 39 MB for 100,000); a query's cosine with a product is the integer dot product times both
//! scales, within about 1 % of the float one — far below the gaps ranking depends on.

use crate::int8::{self, dot};

/// The semantic side of the index: one optional vector per document position (the lexical index's).
#[derive(Debug, Clone, Default)]
pub struct Dense {
    dim: usize,
    codes: Vec<i8>,
    scales: Vec<f32>,
    present: Vec<bool>,
    live: usize,
    /// The inverted-file lists, once a codebook is set (large catalogs).
    ivf: Option<crate::ivf::Lists>,
    /// Documents expected (capacity is made for them at once).
    expected: usize,
}

/// A query's vector, quantised as the documents are.
#[derive(Debug, Clone)]
pub struct Query {
    codes: Vec<i8>,
    scale: f32,
}

/// Why a vector was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum VectorError {
    /// The model answered with another number of dimensions than the index holds.
    Dimensions { expected: usize, got: usize },
    /// A zero, infinite or NaN vector cannot be compared.
    NotFinite,
}

impl std::fmt::Display for VectorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VectorError::Dimensions { expected, got } => {
                write!(f, "an embedding of {got} dimensions where the index holds {expected}: was the model changed?")
            }
            VectorError::NotFinite => write!(f, "an embedding that is zero or not finite"),
        }
    }
}

impl std::error::Error for VectorError {}

/// [`int8::quantise`], refusing what cannot be compared.
fn quantise(v: &[f32]) -> Result<(Vec<i8>, f32), VectorError> {
    int8::quantise(v).ok_or(VectorError::NotFinite)
}

impl Dense {
    /// An empty index for vectors of `dim` dimensions.
    pub fn new(dim: usize) -> Dense {
        Dense { dim, ..Dense::default() }
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Documents that have a vector.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Bytes held by the vectors.
    pub fn bytes(&self) -> usize {
        self.codes.capacity()
            + self.scales.capacity() * 4
            + self.present.capacity()
            + self.ivf.as_ref().map_or(0, |i| i.bytes())
    }

    /// Whether document `doc` has a vector.
    pub fn has(&self, doc: u32) -> bool {
        self.present.get(doc as usize).copied().unwrap_or(false)
    }

    /// Stores (or replaces) the vector of document `doc`. An index made with 0 dimensions takes the size
    /// of its first vector.
    pub fn set(&mut self, doc: u32, v: &[f32]) -> Result<(), VectorError> {
        if self.dim == 0 && self.live == 0 && !v.is_empty() {
            *self = Dense { expected: self.expected, ..Dense::new(v.len()) };
        }
        if v.len() != self.dim {
            return Err(VectorError::Dimensions { expected: self.dim, got: v.len() });
        }
        let (codes, scale) = quantise(v)?;
        let d = doc as usize;
        self.grow(d);
        self.codes[d * self.dim..(d + 1) * self.dim].copy_from_slice(&codes);
        self.scales[d] = scale;
        self.mark_present(doc, crate::ivf::NONE);
        Ok(())
    }

    /// Makes room for document `d`: at once for all the documents expected ([`Dense::expect`]), so that a
    /// catalog embedded one product after another holds no spare capacity.
    fn grow(&mut self, d: usize) {
        if d < self.present.len() {
            return;
        }
        let rows = (d + 1).max(self.expected);
        if rows > self.present.capacity() {
            self.present.reserve_exact(rows - self.present.len());
            self.scales.reserve_exact(rows - self.scales.len());
            self.codes.reserve_exact(rows * self.dim - self.codes.len());
        }
        self.present.resize(d + 1, false);
        self.scales.resize(d + 1, 0.0);
        self.codes.resize((d + 1) * self.dim, 0);
    }

    /// Expects vectors for documents up to `docs` (the lexical index's size): room is made for them all
    /// at the first one instead of doubling as they come.
    pub fn expect(&mut self, docs: usize) {
        self.expected = docs;
    }

    /// Document `doc` has a (new) vector: present, and filed under list `filed` when known (copied from
    /// a vector filed under the same codebook), waiting to be filed otherwise.
    fn mark_present(&mut self, doc: u32, filed: u32) {
        let d = doc as usize;
        if !self.present[d] {
            self.present[d] = true;
            self.live += 1;
        }
        if let Some(ivf) = &mut self.ivf {
            if filed == crate::ivf::NONE {
                ivf.changed(doc);
            } else {
                ivf.file(doc, filed);
            }
        }
    }

    /// Gives document `to` the vector document `from` has in `other` (an index of the same model); false
    /// when `from` has none or the sizes differ.
    pub fn copy_from(&mut self, to: u32, other: &Dense, from: u32) -> bool {
        if !other.has(from) || (self.dim != other.dim && !(self.dim == 0 && self.live == 0)) {
            return false;
        }
        if self.dim == 0 {
            *self = Dense { expected: self.expected, ..Dense::new(other.dim) };
        }
        let (t, f, n) = (to as usize, from as usize, self.dim);
        self.grow(t);
        self.codes[t * n..(t + 1) * n].copy_from_slice(&other.codes[f * n..(f + 1) * n]);
        self.scales[t] = other.scales[f];
        // Filed under the same codebook there: filed here without asking the centroids again.
        let filed = match (&self.ivf, &other.ivf) {
            (Some(mine), Some(theirs)) if std::sync::Arc::ptr_eq(&mine.book, &theirs.book) => {
                theirs.list_of.get(f).copied().unwrap_or(crate::ivf::NONE)
            }
            _ => crate::ivf::NONE,
        };
        self.mark_present(to, filed);
        true
    }

    /// Moves document `from`'s vector to document `to` (a product re-added at a new position with the
    /// same text); false when `from` has none.
    pub fn move_row(&mut self, from: u32, to: u32) -> bool {
        if !self.has(from) {
            return false;
        }
        let (f, t, n) = (from as usize, to as usize, self.dim);
        self.grow(t);
        self.codes.copy_within(f * n..(f + 1) * n, t * n);
        self.scales[t] = self.scales[f];
        let filed =
            self.ivf.as_ref().map_or(crate::ivf::NONE, |i| i.list_of.get(f).copied().unwrap_or(crate::ivf::NONE));
        self.remove(from);
        self.mark_present(to, filed);
        true
    }

    /// Document `doc`'s stored form: its scale (little-endian f32) then one signed byte per dimension.
    pub fn export(&self, doc: u32) -> Option<Vec<u8>> {
        if !self.has(doc) {
            return None;
        }
        let d = doc as usize;
        let mut out = Vec::with_capacity(4 + self.dim);
        out.extend_from_slice(&self.scales[d].to_le_bytes());
        out.extend(self.codes[d * self.dim..(d + 1) * self.dim].iter().map(|c| *c as u8));
        Some(out)
    }

    /// Stores a vector in the form [`Dense::export`] writes.
    pub fn import(&mut self, doc: u32, bytes: &[u8]) -> Result<(), VectorError> {
        let dim = bytes.len().saturating_sub(4);
        if self.dim == 0 && self.live == 0 && dim > 0 {
            *self = Dense { expected: self.expected, ..Dense::new(dim) };
        }
        if bytes.len() < 4 || dim != self.dim {
            return Err(VectorError::Dimensions { expected: self.dim, got: dim });
        }
        let scale = f32::from_le_bytes(bytes[..4].try_into().expect("4 bytes"));
        if !scale.is_finite() || scale <= 0.0 {
            return Err(VectorError::NotFinite);
        }
        let d = doc as usize;
        self.grow(d);
        for (c, b) in self.codes[d * dim..(d + 1) * dim].iter_mut().zip(&bytes[4..]) {
            // -128 is never written (codes stay within -127..=127, which the dot product relies on).
            *c = (*b as i8).max(-127);
        }
        self.scales[d] = scale;
        self.mark_present(doc, crate::ivf::NONE);
        Ok(())
    }

    /// Forgets the vector of document `doc` (a removed or changed product).
    pub fn remove(&mut self, doc: u32) {
        if let Some(p) = self.present.get_mut(doc as usize) {
            if *p {
                *p = false;
                self.live -= 1;
            }
        }
        if let Some(ivf) = &mut self.ivf {
            ivf.detach(doc);
        }
    }

    /// Quantises a query's vector for [`Dense::top`] and [`Dense::cosine`].
    pub fn query(&self, v: &[f32]) -> Result<Query, VectorError> {
        if v.len() != self.dim {
            return Err(VectorError::Dimensions { expected: self.dim, got: v.len() });
        }
        let (codes, scale) = quantise(v)?;
        Ok(Query { codes, scale })
    }

    /// The cosine of the query with document `doc`, or `None` when it has no vector.
    pub fn cosine(&self, q: &Query, doc: u32) -> Option<f32> {
        let d = doc as usize;
        if !self.has(doc) {
            return None;
        }
        let row = &self.codes[d * self.dim..(d + 1) * self.dim];
        Some(dot(&q.codes, row) as f32 * q.scale * self.scales[d])
    }

    /// The `k` documents nearest the query among those `keep` accepts, best first (ties by position):
    /// from the lists of the centroids nearest the query and every vector not filed yet when the catalog
    /// has an inverted-file index (few are waiting; more lists when those hold fewer than `k` that the
    /// filter accepts), from every vector otherwise.
    pub fn top(&self, q: &Query, k: usize, keep: impl Fn(u32) -> bool) -> Vec<(u32, f32)> {
        if k == 0 {
            return Vec::new();
        }
        match &self.ivf {
            Some(ivf) if ivf.pending.len() <= MAX_UNFILED_SCAN => {
                let probes = ivf.book.probes();
                let order = ivf.book.nearest_lists(&q.codes, probes * WIDEN);
                let unfiled = || ivf.pending.iter().copied().filter(|d| ivf.list_of[*d as usize] == crate::ivf::NONE);
                let scan = |lists: usize| {
                    let filed =
                        order[..lists.min(order.len())].iter().flat_map(|l| ivf.lists[*l as usize].iter().copied());
                    let docs: Vec<u32> = filed.chain(unfiled()).collect();
                    self.best_scattered(q, k, &docs, &keep)
                };
                let hits = scan(probes);
                // A narrow filter (a small category, a store's stock) can leave the nearest lists with
                // fewer than `k` products it accepts: the next lists are scanned too, up to
                // WIDEN × the first ones (never the whole catalog).
                if hits.len() < k && probes < order.len() {
                    return scan(probes * WIDEN);
                }
                hits
            }
            _ => self.exact_top(q, k, keep),
        }
    }

    /// [`Dense::top`] over every vector, whatever the index (what the approximate one is measured against).
    pub fn exact_top(&self, q: &Query, k: usize, keep: impl Fn(u32) -> bool) -> Vec<(u32, f32)> {
        self.best(q, k, 0..self.present.len() as u32, keep)
    }

    fn best(
        &self,
        q: &Query,
        k: usize,
        docs: impl Iterator<Item = u32>,
        keep: impl Fn(u32) -> bool,
    ) -> Vec<(u32, f32)> {
        let mut top = TopK::new(k);
        for doc in docs {
            let d = doc as usize;
            if self.present[d] {
                top.offer(doc, self.score(q, d), &keep);
            }
        }
        top.finish()
    }

    /// [`Dense::best`] over documents scattered through memory (an inverted-file index's lists): each
    /// row is asked of memory a few rows before it is read, so the scan is not one memory latency a row.
    fn best_scattered(&self, q: &Query, k: usize, docs: &[u32], keep: impl Fn(u32) -> bool) -> Vec<(u32, f32)> {
        const AHEAD: usize = 6;
        let mut top = TopK::new(k);
        for (i, &doc) in docs.iter().enumerate() {
            if let Some(&next) = docs.get(i + AHEAD) {
                self.prefetch(next as usize);
            }
            let d = doc as usize;
            if self.present[d] {
                top.offer(doc, self.score(q, d), &keep);
            }
        }
        top.finish()
    }

    #[inline(always)]
    fn score(&self, q: &Query, d: usize) -> f32 {
        dot(&q.codes, &self.codes[d * self.dim..(d + 1) * self.dim]) as f32 * q.scale * self.scales[d]
    }

    #[inline(always)]
    fn prefetch(&self, d: usize) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let row = &self.codes[d * self.dim..(d + 1) * self.dim];
            for line in row.chunks(64) {
                // SAFETY: a prefetch only hints the cache; the address is within the row.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr()) };
            }
        }
    }

    /// The codebook the vectors are filed under, if any.
    pub fn codebook(&self) -> Option<&std::sync::Arc<crate::ivf::Codebook>> {
        self.ivf.as_ref().map(|i| &i.book)
    }

    /// Whether a codebook should be learnt: the catalog is large enough to gain from one and has none, or
    /// has grown to twice the size its codebook was learnt on.
    pub fn wants_codebook(&self) -> bool {
        self.live >= crate::ivf::MIN_VECTORS
            && self.codebook().is_none_or(|b| self.live >= 2 * b.trained_on || b.dim() != self.dim)
    }

    /// Up to `n` vectors spread evenly over the documents, one after another (`dim` bytes each), to learn
    /// a codebook from outside any lock.
    pub fn sample(&self, n: usize) -> Vec<i8> {
        let docs: Vec<usize> = (0..self.present.len()).filter(|d| self.present[*d]).collect();
        let n = n.min(docs.len());
        let mut out = Vec::with_capacity(n * self.dim);
        for i in 0..n {
            let d = docs[i * docs.len() / n];
            out.extend_from_slice(&self.codes[d * self.dim..(d + 1) * self.dim]);
        }
        out
    }

    /// Files the vectors under `book` (a codebook of this model's size): all of them wait to be filed
    /// ([`Dense::file_pending`]) and are scanned whole meanwhile; false when the sizes differ.
    pub fn set_codebook(&mut self, book: std::sync::Arc<crate::ivf::Codebook>) -> bool {
        if book.dim() != self.dim {
            return false;
        }
        let mut lists = crate::ivf::Lists::new(book);
        for d in 0..self.present.len() {
            if self.present[d] {
                lists.changed(d as u32);
            }
        }
        self.ivf = Some(lists);
        true
    }

    /// Takes over another index's codebook (a rebuilt catalog index of the same model) before its vectors
    /// are copied with [`Dense::copy_from`], so they keep their lists.
    pub fn adopt_codebook(&mut self, other: &Dense) {
        if let Some(book) = other.codebook() {
            if self.dim == 0 && self.live == 0 {
                *self = Dense { expected: self.expected, ..Dense::new(other.dim) };
            }
            self.set_codebook(book.clone());
        }
    }

    /// Files up to `max` waiting vectors under their nearest centroid; the number still waiting.
    pub fn file_pending(&mut self, max: usize) -> usize {
        let dim = self.dim;
        let Some(ivf) = &mut self.ivf else { return 0 };
        let from = ivf.pending.len().saturating_sub(max);
        let batch: Vec<u32> = ivf.pending.drain(from..).collect();
        for doc in batch {
            let d = doc as usize;
            ivf.queued[d] = false;
            if self.present.get(d).copied().unwrap_or(false) && ivf.list_of[d] == crate::ivf::NONE {
                let l = ivf.book.nearest(&self.codes[d * dim..(d + 1) * dim]);
                ivf.file(doc, l);
            }
        }
        ivf.pending.len()
    }

    /// Vectors waiting to be filed (0 without a codebook).
    pub fn unfiled(&self) -> usize {
        self.ivf.as_ref().map_or(0, |i| i.pending.len())
    }
}

/// The `k` best of the scores offered, kept in a buffer of 2k cut back to k when full (a running floor
/// skips what cannot enter).
struct TopK {
    k: usize,
    out: Vec<(u32, f32)>,
    floor: f32,
}

impl TopK {
    fn new(k: usize) -> TopK {
        TopK { k, out: Vec::with_capacity(k * 2), floor: f32::NEG_INFINITY }
    }

    #[inline(always)]
    fn offer(&mut self, doc: u32, s: f32, keep: &impl Fn(u32) -> bool) {
        if self.k == 0 || s < self.floor || !keep(doc) {
            return;
        }
        self.out.push((doc, s));
        if self.out.len() >= self.k * 2 {
            self.out.select_nth_unstable_by(self.k - 1, by_score);
            self.out.truncate(self.k);
            self.floor = self.out.iter().fold(f32::INFINITY, |m, x| m.min(x.1));
        }
    }

    fn finish(mut self) -> Vec<(u32, f32)> {
        self.out.sort_unstable_by(by_score);
        self.out.truncate(self.k);
        self.out
    }
}

/// A query whose filter leaves fewer than the results asked for in its nearest lists scans this many
/// times as many lists.
const WIDEN: usize = 4;

/// With more vectors than this waiting to be filed, a search scans every vector (exact, slower) rather
/// than the lists and the waiting ones.
const MAX_UNFILED_SCAN: usize = 5_000;

fn by_score(a: &(u32, f32), b: &(u32, f32)) -> std::cmp::Ordering {
    b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
}

/// How lexical and semantic scores are combined (`weight` of the semantic side, 0 = lexical only), and
/// how near a product found only by meaning must be to join the results.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fusion {
    pub weight: f32,
    /// A product no word of the query matched joins only with a cosine of at least this (multilingual
    /// E5 puts unrelated short texts near 0.75 and paraphrases above 0.85).
    pub floor: f32,
    /// 0: the two sides' scores are mixed (each rescaled to 0..=1); above 0: their ranks are
    /// (reciprocal rank fusion, `1 / (rank_k + rank)` per side), which does not let one side's score
    /// spread decide, the shape of the scores differing from catalog to catalog.
    pub rank_k: f32,
    /// A query of one word that at least this many products hold as a word (a kind of product: "tv",
    /// "adapter", "에어프라이어") is ranked by its words alone; 0 never. The nearest texts to one bare word
    /// are its accessories and neighbours ("tv" → wall mounts and cables), while a catalog whose titles hold
    /// the word has the thing itself. Only the word itself counts (not its syllable pairs, a typo
    /// correction, a completion or a synonym), so a typo or a word the catalog does not use still draws on
    /// meaning. Applied by [`Fusion::for_query`].
    pub broad_matches: u32,
}

impl Fusion {
    /// This setting for one query `text` searched in `ix`: lexical alone for a one-word query that
    /// [`Fusion::broad_matches`] or more documents hold ([`crate::Index::one_word_documents`]), unchanged
    /// otherwise.
    pub fn for_query(self, ix: &crate::Index, text: &str) -> Fusion {
        let broad = self.broad_matches as usize;
        self.given_word_held(if broad > 0 { ix.one_word_documents(text, broad) } else { None })
    }

    /// [`Fusion::for_query`] once the query's [`crate::Index::one_word_documents`] is known (counted up to
    /// at least `broad_matches`): an evaluation of many settings reads the query once.
    pub fn given_word_held(self, held: Option<usize>) -> Fusion {
        let broad = self.broad_matches as usize;
        if broad > 0 && held.is_some_and(|n| n >= broad) {
            Fusion { weight: 0.0, ..self }
        } else {
            self
        }
    }
}

/// One candidate of a fused ranking: its lexical score (0 when no word matched) and its cosine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub doc: u32,
    pub lexical: f32,
    pub cosine: f32,
}

/// Fuses the candidates of both sides into one score each, best first: the lexical score over the best
/// lexical score, and the cosine rescaled between the lowest and highest cosine among the candidates, mixed
/// by `weight`. Candidates without a lexical match below the floor are dropped. Scores are in 0..=1.
pub fn fuse(candidates: &[Candidate], fusion: Fusion) -> Vec<(u32, f32)> {
    let mut out = fuse_unordered(candidates, fusion);
    out.sort_unstable_by(by_score);
    out
}

/// [`fuse`] without ordering the result (a search that selects its page itself).
pub fn fuse_unordered(candidates: &[Candidate], fusion: Fusion) -> Vec<(u32, f32)> {
    let kept: Vec<&Candidate> =
        candidates.iter().filter(|c| c.lexical > 0.0 || (fusion.weight > 0.0 && c.cosine >= fusion.floor)).collect();
    if fusion.rank_k > 0.0 {
        return fuse_ranks(&kept, fusion);
    }
    let lmax = kept.iter().fold(0f32, |m, c| m.max(c.lexical));
    let (cmin, cmax) =
        kept.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), c| (lo.min(c.cosine), hi.max(c.cosine)));
    let span = (cmax - cmin).max(1e-6);
    let w = fusion.weight.clamp(0.0, 1.0);
    kept.iter()
        .map(|c| {
            let l = if lmax > 0.0 { c.lexical / lmax } else { 0.0 };
            let s = if cmax.is_finite() { (c.cosine - cmin) / span } else { 0.0 };
            (c.doc, (1.0 - w) * l + w * s)
        })
        .collect()
}

/// Reciprocal rank fusion of the kept candidates: `(1 − w) / (k + lexical rank) + w / (k + semantic rank)`
/// (a candidate no word matched has no lexical rank), times `k + 1` so that first on both sides is 1.
fn fuse_ranks(kept: &[&Candidate], fusion: Fusion) -> Vec<(u32, f32)> {
    let (w, k) = (fusion.weight.clamp(0.0, 1.0), fusion.rank_k);
    let mut score = vec![0f32; kept.len()];
    let mut order: Vec<usize> = (0..kept.len()).filter(|&i| kept[i].lexical > 0.0).collect();
    order.sort_unstable_by(|&a, &b| kept[b].lexical.total_cmp(&kept[a].lexical).then(kept[a].doc.cmp(&kept[b].doc)));
    for (rank, &i) in order.iter().enumerate() {
        score[i] += (1.0 - w) / (k + 1.0 + rank as f32);
    }
    if w > 0.0 {
        let mut order: Vec<usize> = (0..kept.len()).collect();
        order.sort_unstable_by(|&a, &b| kept[b].cosine.total_cmp(&kept[a].cosine).then(kept[a].doc.cmp(&kept[b].doc)));
        for (rank, &i) in order.iter().enumerate() {
            score[i] += w / (k + 1.0 + rank as f32);
        }
    }
    kept.iter().zip(score).map(|(c, s)| (c.doc, s * (k + 1.0))).collect()
}

/// How many of each side's best documents a fused ranking considers.
pub const LEXICAL_CANDIDATES: usize = 200;
pub const SEMANTIC_CANDIDATES: usize = 100;

/// The candidates of one query for [`fuse`]: the lexical index's best matches (`lexical`, from
/// [`crate::Index::top`] or [`crate::Index::top_where`]) and the dense index's `semantic_k` nearest
/// documents (those `keep` accepts), each with both scores. The cosine is
/// computed for the first [`LEXICAL_CANDIDATES`] lexical matches and for those among the nearest; the
/// deeper matches (a search keeps thousands, for its filters and facets) and a match without a vector
/// (not embedded yet) take the lowest cosine among the candidates, as a fused ranking of
/// [`LEXICAL_CANDIDATES`] would leave them out — what `search eval` measures.
pub fn candidates(
    ix: &crate::Index,
    dense: &Dense,
    lexical: Vec<(u32, f32)>,
    q: &Query,
    semantic_k: usize,
    keep: impl Fn(u32) -> bool,
) -> Vec<Candidate> {
    // The nearest documents by position, each marked once a lexical match takes it.
    let mut near: Vec<(u32, f32, bool)> =
        dense.top(q, semantic_k, |d| !ix.is_deleted(d) && keep(d)).into_iter().map(|(d, c)| (d, c, false)).collect();
    near.sort_unstable_by_key(|x| x.0);
    let mut out: Vec<Candidate> = Vec::with_capacity(lexical.len() + near.len());
    for (rank, (doc, lexical)) in lexical.into_iter().enumerate() {
        if !keep(doc) {
            continue;
        }
        let cosine = match near.binary_search_by_key(&doc, |x| x.0) {
            Ok(at) => {
                near[at].2 = true;
                near[at].1
            }
            Err(_) if rank < LEXICAL_CANDIDATES => dense.cosine(q, doc).unwrap_or(f32::NAN),
            Err(_) => f32::NAN,
        };
        out.push(Candidate { doc, lexical, cosine });
    }
    out.extend(near.into_iter().filter(|x| !x.2).map(|(doc, cosine, _)| Candidate { doc, lexical: 0.0, cosine }));
    let low = out.iter().filter(|c| !c.cosine.is_nan()).fold(f32::INFINITY, |m, c| m.min(c.cosine));
    let low = if low.is_finite() { low } else { 0.0 };
    for c in &mut out {
        if c.cosine.is_nan() {
            c.cosine = low;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    #[test]
    fn quantised_cosines_stay_within_a_percent_of_the_float_ones() {
        let mut seed = 7u64;
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let mut ix = Dense::new(384);
        let docs: Vec<Vec<f32>> = (0..50).map(|_| (0..384).map(|_| next()).collect()).collect();
        for (d, v) in docs.iter().enumerate() {
            ix.set(d as u32, v).unwrap();
        }
        let qv: Vec<f32> = (0..384).map(|_| next()).collect();
        let q = ix.query(&qv).unwrap();
        for (d, v) in docs.iter().enumerate() {
            let exact: f32 = unit(v).iter().zip(unit(&qv)).map(|(a, b)| a * b).sum();
            let got = ix.cosine(&q, d as u32).unwrap();
            assert!((exact - got).abs() < 0.01, "doc {d}: {exact} vs {got}");
        }
        // The scan returns the same order as the exact cosines (ties aside).
        let top = ix.top(&q, 5, |_| true);
        let mut exact: Vec<(u32, f32)> = docs
            .iter()
            .enumerate()
            .map(|(d, v)| (d as u32, unit(v).iter().zip(unit(&qv)).map(|(a, b)| a * b).sum()))
            .collect();
        exact.sort_by(by_score);
        assert_eq!(top[0].0, exact[0].0);
        assert_eq!(top.len(), 5);
    }

    #[test]
    fn the_scan_keeps_only_what_the_filter_accepts_and_forgets_removed_documents() {
        let mut ix = Dense::new(3);
        ix.set(0, &[1.0, 0.0, 0.0]).unwrap();
        ix.set(4, &[0.9, 0.1, 0.0]).unwrap();
        ix.set(2, &[0.0, 1.0, 0.0]).unwrap();
        assert_eq!(ix.len(), 3);
        let q = ix.query(&[1.0, 0.0, 0.0]).unwrap();
        let ids: Vec<u32> = ix.top(&q, 10, |_| true).iter().map(|x| x.0).collect();
        assert_eq!(ids, vec![0, 4, 2]);
        let ids: Vec<u32> = ix.top(&q, 10, |d| d != 0).iter().map(|x| x.0).collect();
        assert_eq!(ids, vec![4, 2]);
        let mut other = Dense::new(0);
        assert!(other.copy_from(7, &ix, 4));
        assert!(!other.copy_from(1, &ix, 1));
        assert_eq!((other.len(), other.dim()), (1, 3));
        assert!((other.cosine(&q, 7).unwrap() - ix.cosine(&q, 4).unwrap()).abs() < 1e-6);
        let stored = ix.export(4).unwrap();
        let mut back = Dense::new(0);
        back.import(2, &stored).unwrap();
        assert_eq!(back.cosine(&q, 2), ix.cosine(&q, 4));
        assert!(back.import(3, &stored[..5]).is_err());
        assert!(back.import(3, &[0, 0, 0, 0, 1, 2, 3]).is_err(), "a zero scale");
        assert_eq!(ix.export(1), None);
        assert!(ix.move_row(4, 9));
        assert!(!ix.has(4) && ix.has(9) && ix.len() == 3);
        assert!(!ix.move_row(4, 5));
        assert!(ix.move_row(9, 4));
        ix.remove(0);
        ix.remove(0);
        assert_eq!(ix.len(), 2);
        assert_eq!(ix.cosine(&q, 0), None);
        assert_eq!(ix.top(&q, 1, |_| true)[0].0, 4);
        assert_eq!(ix.top(&q, 0, |_| true), vec![]);
    }

    #[test]
    fn vectors_of_another_size_or_without_direction_are_refused() {
        let mut ix = Dense::new(0);
        assert_eq!(ix.set(0, &[f32::NAN, 0.0, 1.0]), Err(VectorError::NotFinite));
        ix.set(1, &[0.0, 0.0, 1.0]).unwrap();
        assert_eq!(ix.dim(), 3);
        ix.remove(1);
        assert_eq!(ix.set(0, &[1.0, 0.0]), Err(VectorError::Dimensions { expected: 3, got: 2 }));
        assert_eq!(ix.set(0, &[0.0, 0.0, 0.0]), Err(VectorError::NotFinite));
        assert_eq!(ix.set(0, &[f32::NAN, 0.0, 1.0]), Err(VectorError::NotFinite));
        assert!(ix.is_empty());
        assert!(ix.query(&[1.0]).is_err());
    }

    #[test]
    fn fusion_mixes_both_sides_and_admits_meaning_only_above_the_floor() {
        let c = |doc, lexical, cosine| Candidate { doc, lexical, cosine };
        let cands = [c(0, 10.0, 0.80), c(1, 5.0, 0.92), c(2, 0.0, 0.88), c(3, 0.0, 0.70)];
        let lexical = fuse(&cands, Fusion { weight: 0.0, floor: 0.85, rank_k: 0.0, broad_matches: 0 });
        assert_eq!(lexical.iter().map(|x| x.0).collect::<Vec<_>>(), vec![0, 1]);
        let semantic = fuse(&cands, Fusion { weight: 1.0, floor: 0.85, rank_k: 0.0, broad_matches: 0 });
        assert_eq!(semantic.iter().map(|x| x.0).collect::<Vec<_>>(), vec![1, 2, 0]);
        let mixed = fuse(&cands, Fusion { weight: 0.5, floor: 0.0, rank_k: 0.0, broad_matches: 0 });
        assert_eq!(mixed.iter().map(|x| x.0).collect::<Vec<_>>(), vec![1, 0, 2, 3]);
        assert!(mixed.iter().all(|x| (0.0..=1.0).contains(&x.1)));
        assert!(fuse(&[], Fusion { weight: 0.5, floor: 0.0, rank_k: 0.0, broad_matches: 0 }).is_empty());
        // Ranks instead of scores: the same sides, and a lexical lead of 2× weighs no more than of 1.01×.
        let ranks = |weight, floor| fuse(&cands, Fusion { weight, floor, rank_k: 60.0, broad_matches: 0 });
        assert_eq!(ranks(0.0, 0.85).iter().map(|x| x.0).collect::<Vec<_>>(), vec![0, 1]);
        assert_eq!(ranks(1.0, 0.85).iter().map(|x| x.0).collect::<Vec<_>>(), vec![1, 2, 0]);
        let mixed = ranks(0.5, 0.0);
        assert_eq!(mixed.iter().map(|x| x.0).collect::<Vec<_>>(), vec![1, 0, 2, 3]);
        assert!(mixed.iter().all(|x| (0.0..=1.0).contains(&x.1)), "{mixed:?}");
        let first_on_both =
            fuse(&[c(7, 3.0, 0.9), c(8, 1.0, 0.8)], Fusion { weight: 0.3, floor: 0.0, rank_k: 20.0, broad_matches: 0 });
        assert!((first_on_both[0].1 - 1.0).abs() < 1e-6, "{first_on_both:?}");
    }

    #[test]
    fn one_word_many_products_hold_is_ranked_by_its_words() {
        let c = |doc, lexical, cosine| Candidate { doc, lexical, cosine };
        let f = Fusion { weight: 0.4, floor: 0.8, rank_k: 0.0, broad_matches: 3 };
        let ix = crate::Index::build([
            "Samsung TV 55",
            "LG TV 65",
            "Sony TV 48",
            "TV Wall Mount",
            "에어프라이어 5L",
            "에어프라이어 대용량",
            "무선 이어폰",
        ]);
        // "tv" held by four titles: the words alone (a near text without the word is left out).
        assert_eq!(f.for_query(&ix, " TV ").weight, 0.0);
        let matched = [c(0, 3.0, 0.80), c(1, 2.0, 0.82), c(2, 1.0, 0.83), c(7, 0.0, 0.95)];
        assert_eq!(fuse(&matched, f.for_query(&ix, "tv")).iter().map(|x| x.0).collect::<Vec<_>>(), vec![0, 1, 2]);
        // Two words, a word few titles hold, the rule off, no word: meaning still counts.
        assert_eq!(f.for_query(&ix, "smart tv"), f);
        assert_eq!(f.for_query(&ix, "usb-c"), f, "two words to the analyzer");
        assert_eq!(f.for_query(&ix, "에어프라이어"), f, "two titles hold it");
        assert_eq!(Fusion { broad_matches: 0, ..f }.for_query(&ix, "tv"), Fusion { broad_matches: 0, ..f });
        assert_eq!(f.for_query(&ix, ""), f);
        // Only the word itself counts: a one-jamo typo, a completion or shared syllable pairs do not.
        assert_eq!(ix.one_word_documents("tv", 10), Some(4));
        assert_eq!(ix.one_word_documents("에어프라이어를", 10), Some(2), "the particle-stripped word");
        assert_eq!(ix.one_word_documents("에어프라이기", 10), Some(0), "a typo sharing syllable pairs");
        assert_eq!(ix.one_word_documents("t", 10), Some(0), "a completion");
        assert_eq!(ix.one_word_documents("에어", 10), Some(0), "a pair of 에어프라이어, not a word of any title");
        assert_eq!(ix.one_word_documents("tv 55", 10), None);
        assert_eq!(ix.one_word_documents("tv", 2), Some(2), "counted up to the cap");
        // Counted once up to a larger cap (an evaluation of many settings), the same decision.
        for q in ["tv", "에어프라이어", "smart tv", ""] {
            assert_eq!(f.given_word_held(ix.one_word_documents(q, 30)), f.for_query(&ix, q), "{q}");
        }
    }
}
