//! Semantic retrieval: the catalog's text embeddings (from any embedding model; the engine asks an
//! OpenAI-compatible endpoint), stored one byte a dimension, scanned whole for a query's nearest products,
//! and the fusion of lexical and semantic scores into one ranking.
//!
//! Vectors are normalised and quantised to `i8` with one scale per vector (384 dimensions: 388 bytes a
//! product, 39 MB for 100,000); a query's cosine with a product is the integer dot product times both
//! scales, within about 1 % of the float one — far below the gaps ranking depends on.

/// The semantic side of the index: one optional vector per document position (the lexical index's).
#[derive(Debug, Clone, Default)]
pub struct Dense {
    dim: usize,
    codes: Vec<i8>,
    scales: Vec<f32>,
    present: Vec<bool>,
    live: usize,
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

/// Normalises `v` and quantises it to one byte a dimension; `(codes, scale)` with `code × scale` ≈ the unit
/// vector's component.
fn quantise(v: &[f32]) -> Result<(Vec<i8>, f32), VectorError> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if !norm.is_finite() || norm == 0.0 {
        return Err(VectorError::NotFinite);
    }
    let peak = v.iter().fold(0f32, |m, x| m.max(x.abs())) / norm;
    let scale = peak / 127.0;
    let codes = v.iter().map(|x| ((x / norm) / scale).round().clamp(-127.0, 127.0) as i8).collect();
    Ok((codes, scale))
}

/// The integer dot product of two rows: compiled a second time for AVX2 and chosen at run time where the
/// CPU has it (16 products per instruction instead of 4 with the baseline x86-64 SSE2: the whole scan of
/// 100,000 products is several times faster).
fn dot(a: &[i8], b: &[i8]) -> i32 {
    #[cfg(target_arch = "x86_64")]
    {
        static AVX2: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        if *AVX2.get_or_init(|| std::arch::is_x86_feature_detected!("avx2")) {
            // SAFETY: the CPU was just found to have AVX2, the only requirement of `dot_avx2`.
            return unsafe { dot_avx2(a, b) };
        }
    }
    dot_portable(a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dot_avx2(a: &[i8], b: &[i8]) -> i32 {
    dot_portable(a, b)
}

#[inline(always)]
fn dot_portable(a: &[i8], b: &[i8]) -> i32 {
    // Sixteen lanes at a time so the compiler widens and multiplies whole registers.
    let mut acc = [0i32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..16 {
            acc[i] += x[i] as i32 * y[i] as i32;
        }
    }
    acc.iter().sum::<i32>() + ra.iter().zip(rb).map(|(x, y)| *x as i32 * *y as i32).sum::<i32>()
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
        self.codes.capacity() + self.scales.capacity() * 4 + self.present.capacity()
    }

    /// Whether document `doc` has a vector.
    pub fn has(&self, doc: u32) -> bool {
        self.present.get(doc as usize).copied().unwrap_or(false)
    }

    /// Stores (or replaces) the vector of document `doc`. An index made with 0 dimensions takes the size
    /// of its first vector.
    pub fn set(&mut self, doc: u32, v: &[f32]) -> Result<(), VectorError> {
        if self.dim == 0 && self.live == 0 && !v.is_empty() {
            *self = Dense::new(v.len());
        }
        if v.len() != self.dim {
            return Err(VectorError::Dimensions { expected: self.dim, got: v.len() });
        }
        let (codes, scale) = quantise(v)?;
        let d = doc as usize;
        if d >= self.present.len() {
            self.present.resize(d + 1, false);
            self.scales.resize(d + 1, 0.0);
            self.codes.resize((d + 1) * self.dim, 0);
        }
        self.codes[d * self.dim..(d + 1) * self.dim].copy_from_slice(&codes);
        self.scales[d] = scale;
        if !self.present[d] {
            self.present[d] = true;
            self.live += 1;
        }
        Ok(())
    }

    /// Gives document `to` the vector document `from` has in `other` (an index of the same model); false
    /// when `from` has none or the sizes differ.
    pub fn copy_from(&mut self, to: u32, other: &Dense, from: u32) -> bool {
        if !other.has(from) || (self.dim != other.dim && !(self.dim == 0 && self.live == 0)) {
            return false;
        }
        if self.dim == 0 {
            *self = Dense::new(other.dim);
        }
        let (t, f, n) = (to as usize, from as usize, self.dim);
        if t >= self.present.len() {
            self.present.resize(t + 1, false);
            self.scales.resize(t + 1, 0.0);
            self.codes.resize((t + 1) * n, 0);
        }
        self.codes[t * n..(t + 1) * n].copy_from_slice(&other.codes[f * n..(f + 1) * n]);
        self.scales[t] = other.scales[f];
        if !self.present[t] {
            self.present[t] = true;
            self.live += 1;
        }
        true
    }

    /// Moves document `from`'s vector to document `to` (a product re-added at a new position with the
    /// same text); false when `from` has none.
    pub fn move_row(&mut self, from: u32, to: u32) -> bool {
        if !self.has(from) {
            return false;
        }
        let (f, t, n) = (from as usize, to as usize, self.dim);
        if t >= self.present.len() {
            self.present.resize(t + 1, false);
            self.scales.resize(t + 1, 0.0);
            self.codes.resize((t + 1) * n, 0);
        }
        self.codes.copy_within(f * n..(f + 1) * n, t * n);
        self.scales[t] = self.scales[f];
        if !self.present[t] {
            self.present[t] = true;
            self.live += 1;
        }
        self.remove(from);
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
            *self = Dense::new(dim);
        }
        if bytes.len() < 4 || dim != self.dim {
            return Err(VectorError::Dimensions { expected: self.dim, got: dim });
        }
        let scale = f32::from_le_bytes(bytes[..4].try_into().expect("4 bytes"));
        if !scale.is_finite() || scale <= 0.0 {
            return Err(VectorError::NotFinite);
        }
        let d = doc as usize;
        if d >= self.present.len() {
            self.present.resize(d + 1, false);
            self.scales.resize(d + 1, 0.0);
            self.codes.resize((d + 1) * dim, 0);
        }
        for (c, b) in self.codes[d * dim..(d + 1) * dim].iter_mut().zip(&bytes[4..]) {
            *c = *b as i8;
        }
        self.scales[d] = scale;
        if !self.present[d] {
            self.present[d] = true;
            self.live += 1;
        }
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

    /// The `k` documents nearest the query among those `keep` accepts, best first (ties by position).
    pub fn top(&self, q: &Query, k: usize, keep: impl Fn(u32) -> bool) -> Vec<(u32, f32)> {
        if k == 0 {
            return Vec::new();
        }
        let mut out: Vec<(u32, f32)> = Vec::with_capacity(k * 2);
        let mut floor = f32::NEG_INFINITY;
        for (d, row) in self.codes.chunks_exact(self.dim).enumerate() {
            if !self.present[d] {
                continue;
            }
            let s = dot(&q.codes, row) as f32 * q.scale * self.scales[d];
            if s < floor || !keep(d as u32) {
                continue;
            }
            out.push((d as u32, s));
            if out.len() >= k * 2 {
                out.select_nth_unstable_by(k - 1, by_score);
                out.truncate(k);
                floor = out.iter().fold(f32::INFINITY, |m, x| m.min(x.1));
            }
        }
        out.sort_unstable_by(by_score);
        out.truncate(k);
        out
    }
}

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
    let kept: Vec<&Candidate> =
        candidates.iter().filter(|c| c.lexical > 0.0 || (fusion.weight > 0.0 && c.cosine >= fusion.floor)).collect();
    let lmax = kept.iter().fold(0f32, |m, c| m.max(c.lexical));
    let (cmin, cmax) =
        kept.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), c| (lo.min(c.cosine), hi.max(c.cosine)));
    let span = (cmax - cmin).max(1e-6);
    let w = fusion.weight.clamp(0.0, 1.0);
    let mut out: Vec<(u32, f32)> = kept
        .iter()
        .map(|c| {
            let l = if lmax > 0.0 { c.lexical / lmax } else { 0.0 };
            let s = if cmax.is_finite() { (c.cosine - cmin) / span } else { 0.0 };
            (c.doc, (1.0 - w) * l + w * s)
        })
        .collect();
    out.sort_unstable_by(by_score);
    out
}

/// How many of each side's best documents a fused ranking considers.
pub const LEXICAL_CANDIDATES: usize = 200;
pub const SEMANTIC_CANDIDATES: usize = 100;

/// The candidates of one query for [`fuse`]: the lexical index's best `lexical_k` matches and the dense
/// index's `semantic_k` nearest documents (those `keep` accepts), each with both scores. A lexical match
/// without a vector (not embedded yet) takes the lowest cosine among the candidates.
pub fn candidates(
    ix: &crate::Index,
    dense: &Dense,
    text: &str,
    q: &Query,
    lexical_k: usize,
    semantic_k: usize,
    keep: impl Fn(u32) -> bool,
) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::with_capacity(lexical_k + semantic_k);
    let mut seen = std::collections::HashSet::with_capacity(lexical_k + semantic_k);
    for (doc, lexical) in ix.top(text, lexical_k) {
        if keep(doc) && seen.insert(doc) {
            out.push(Candidate { doc, lexical, cosine: dense.cosine(q, doc).unwrap_or(f32::NAN) });
        }
    }
    for (doc, cosine) in dense.top(q, semantic_k, |d| !ix.is_deleted(d) && keep(d)) {
        if seen.insert(doc) {
            out.push(Candidate { doc, lexical: 0.0, cosine });
        }
    }
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
    fn the_dot_product_is_the_same_on_every_path() {
        let a: Vec<i8> = (0..389).map(|i| ((i * 37) % 255) as i8).collect();
        let b: Vec<i8> = (0..389).map(|i| ((i * 91 + 7) % 255) as i8).collect();
        let exact: i32 = a.iter().zip(&b).map(|(x, y)| *x as i32 * *y as i32).sum();
        assert_eq!(dot(&a, &b), exact);
        assert_eq!(dot_portable(&a, &b), exact);
        assert_eq!(dot(&[-128, 127], &[-128, -128]), 16384 - 16256);
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
        let lexical = fuse(&cands, Fusion { weight: 0.0, floor: 0.85 });
        assert_eq!(lexical.iter().map(|x| x.0).collect::<Vec<_>>(), vec![0, 1]);
        let semantic = fuse(&cands, Fusion { weight: 1.0, floor: 0.85 });
        assert_eq!(semantic.iter().map(|x| x.0).collect::<Vec<_>>(), vec![1, 2, 0]);
        let mixed = fuse(&cands, Fusion { weight: 0.5, floor: 0.0 });
        assert_eq!(mixed.iter().map(|x| x.0).collect::<Vec<_>>(), vec![1, 0, 2, 3]);
        assert!(mixed.iter().all(|x| (0.0..=1.0).contains(&x.1)));
        assert!(fuse(&[], Fusion { weight: 0.5, floor: 0.0 }).is_empty());
    }
}
