//! The approximate side of semantic retrieval: an inverted-file index (IVF) over the catalog's vectors.
//! A codebook of centroids is learnt by k-means on a sample of the products' vectors; every product is
//! filed under its nearest centroid, and a query scans only the lists of the centroids nearest it (about a
//! sixteenth of the catalog) instead of every vector. Products added or changed since are scanned whole until
//! they are filed, so nothing is ever missing from a search while the lists catch up.

use crate::int8::{dot, quantise};
use std::sync::Arc;

/// Below this many vectors the whole scan is fast enough (a few milliseconds) and exact.
pub const MIN_VECTORS: usize = 20_000;
/// A query scans the lists of this share of the centroids (at least [`MIN_PROBES`]).
pub const PROBE_SHARE: f32 = 1.0 / 16.0;
pub const MIN_PROBES: usize = 8;
/// k-means rounds when learning a codebook.
const ROUNDS: usize = 10;
/// Vectors sampled per centroid to learn the codebook.
const SAMPLE_PER_LIST: usize = 48;

/// Centroids learnt from the catalog's vectors, quantised as the vectors are (one byte a dimension, one
/// scale per centroid).
#[derive(Debug)]
pub struct Codebook {
    dim: usize,
    codes: Vec<i8>,
    scales: Vec<f32>,
    /// How many vectors the catalog held when it was learnt (a catalog twice as large learns a new one).
    pub trained_on: usize,
}

/// The number of lists for a catalog of `n` vectors: about √n.
pub fn lists_for(n: usize) -> usize {
    ((n as f64).sqrt().round() as usize).clamp(16, 4_096)
}

/// The number of vectors sampled to learn a codebook for `n` vectors.
pub fn sample_for(n: usize) -> usize {
    (lists_for(n) * SAMPLE_PER_LIST).min(n)
}

impl Codebook {
    /// Learns `lists` centroids from `rows` (quantised unit vectors of `dim` bytes each) by spherical
    /// k-means: seeded by k-means++ (each next centroid a row drawn with odds growing with its distance
    /// from the centroids so far, so that every group of rows gets one), then ten rounds of filing every
    /// row under its nearest centroid and moving each centroid to the normalised mean of its rows; a list
    /// left empty takes the row that fits its centroid worst. Deterministic for the same rows.
    /// `trained_on` is recorded as given.
    pub fn train(dim: usize, rows: &[i8], lists: usize, trained_on: usize) -> Option<Codebook> {
        let n = rows.len().checked_div(dim).unwrap_or(0);
        let lists = lists.min(n);
        if lists == 0 {
            return None;
        }
        let row = |i: usize| &rows[i * dim..(i + 1) * dim];
        // Each row's length in code units: a cosine is the dot product over it and the centroid's scale.
        let norm: Vec<f32> = (0..n).map(|i| (dot(row(i), row(i)) as f32).sqrt().max(1.0)).collect();
        let mut book = Codebook { dim, codes: Vec::with_capacity(lists * dim), scales: Vec::new(), trained_on };
        let mut centroid = vec![0f32; dim];
        let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ n as u64;
        let mut uniform = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        // k-means++: `far[i]` is row i's squared distance to its nearest centroid so far (2 − 2 cos).
        let mut far = vec![f64::INFINITY; n];
        let mut pick = (uniform() * n as f64) as usize % n;
        for _ in 0..lists {
            for (c, x) in centroid.iter_mut().zip(row(pick)) {
                *c = *x as f32;
            }
            book.push(&centroid)?;
            let l = book.lists() - 1;
            let c = &book.codes[l * dim..(l + 1) * dim];
            let mut total = 0.0;
            for i in 0..n {
                let cos = dot(row(i), c) as f32 * book.scales[l] / norm[i];
                far[i] = far[i].min((2.0 - 2.0 * cos as f64).max(0.0));
                total += far[i];
            }
            if total <= 0.0 {
                pick = (uniform() * n as f64) as usize % n;
                continue;
            }
            let mut at = uniform() * total;
            pick = n - 1;
            for (i, f) in far.iter().enumerate() {
                if at < *f {
                    pick = i;
                    break;
                }
                at -= f;
            }
        }
        let mut owner = vec![0u32; n];
        let mut fit = vec![0f32; n];
        for _ in 0..ROUNDS {
            for i in 0..n {
                let (l, s) = book.nearest_scored(row(i));
                owner[i] = l;
                fit[i] = s / norm[i];
            }
            let mut sums = vec![0f32; lists * dim];
            let mut counts = vec![0usize; lists];
            for i in 0..n {
                let l = owner[i] as usize;
                counts[l] += 1;
                for (s, x) in sums[l * dim..(l + 1) * dim].iter_mut().zip(row(i)) {
                    *s += *x as f32 / norm[i];
                }
            }
            // Lists left empty take the rows that fit their centroid worst.
            let empty = counts.iter().filter(|c| **c == 0).count();
            let mut spare = Vec::new();
            if empty > 0 {
                spare = (0..n).collect();
                spare.sort_by(|&a: &usize, &b| fit[a].total_cmp(&fit[b]).then(a.cmp(&b)));
                spare.truncate(empty);
            }
            let mut fresh = Codebook { dim, codes: Vec::with_capacity(lists * dim), scales: Vec::new(), trained_on };
            let mut spare = spare.into_iter();
            for l in 0..lists {
                if counts[l] == 0 {
                    let i = spare.next().unwrap_or(l * n / lists);
                    for (c, x) in centroid.iter_mut().zip(row(i)) {
                        *c = *x as f32;
                    }
                } else {
                    centroid.copy_from_slice(&sums[l * dim..(l + 1) * dim]);
                }
                if fresh.push(&centroid).is_none() {
                    // A mean of opposite vectors can vanish: keep the old centroid.
                    fresh.codes.extend_from_slice(&book.codes[l * dim..(l + 1) * dim]);
                    fresh.scales.push(book.scales[l]);
                }
            }
            book = fresh;
        }
        Some(book)
    }

    fn push(&mut self, v: &[f32]) -> Option<()> {
        let (codes, scale) = quantise(v)?;
        self.codes.extend_from_slice(&codes);
        self.scales.push(scale);
        Some(())
    }

    /// How many centroids (lists) there are.
    pub fn lists(&self) -> usize {
        self.scales.len()
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    fn nearest_scored(&self, codes: &[i8]) -> (u32, f32) {
        let mut best = (0u32, f32::NEG_INFINITY);
        for (l, c) in self.codes.chunks_exact(self.dim).enumerate() {
            let s = dot(codes, c) as f32 * self.scales[l];
            if s > best.1 {
                best = (l as u32, s);
            }
        }
        best
    }

    /// The list a vector (quantised, `dim` bytes) is filed under.
    pub fn nearest(&self, codes: &[i8]) -> u32 {
        self.nearest_scored(codes).0
    }

    /// How many lists a query scans first: [`PROBE_SHARE`] of them (at least [`MIN_PROBES`]).
    pub fn probes(&self) -> usize {
        ((self.lists() as f32 * PROBE_SHARE).ceil() as usize).max(MIN_PROBES).min(self.lists())
    }

    /// The `n` lists whose centroids are nearest the query (a quantised vector), nearest first.
    pub fn nearest_lists(&self, codes: &[i8], n: usize) -> Vec<u32> {
        let by = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        let mut scored: Vec<(u32, f32)> = self
            .codes
            .chunks_exact(self.dim)
            .enumerate()
            .map(|(l, c)| (l as u32, dot(codes, c) as f32 * self.scales[l]))
            .collect();
        let n = n.min(scored.len());
        if n == 0 {
            return Vec::new();
        }
        if n < scored.len() {
            scored.select_nth_unstable_by(n - 1, by);
            scored.truncate(n);
        }
        scored.sort_unstable_by(by);
        scored.into_iter().map(|x| x.0).collect()
    }
}

/// Where each vector of a [`crate::dense::Dense`] is filed under a codebook.
#[derive(Debug, Clone)]
pub(crate) struct Lists {
    pub book: Arc<Codebook>,
    pub lists: Vec<Vec<u32>>,
    /// Per document: its list, or [`NONE`].
    pub list_of: Vec<u32>,
    /// Documents with a vector not filed yet (each once; a removed one is skipped when filing).
    pub pending: Vec<u32>,
    pub queued: Vec<bool>,
}

pub(crate) const NONE: u32 = u32::MAX;

impl Lists {
    pub fn new(book: Arc<Codebook>) -> Lists {
        Lists {
            lists: vec![Vec::new(); book.lists()],
            book,
            list_of: Vec::new(),
            pending: Vec::new(),
            queued: Vec::new(),
        }
    }

    /// Bytes held by the lists and the codebook.
    pub fn bytes(&self) -> usize {
        self.lists.iter().map(|l| l.capacity() * 4).sum::<usize>()
            + self.list_of.capacity() * 4
            + self.pending.capacity() * 4
            + self.queued.capacity()
            + self.book.codes.capacity()
            + self.book.scales.capacity() * 4
    }

    fn grow(&mut self, d: usize) {
        if d >= self.list_of.len() {
            self.list_of.resize(d + 1, NONE);
            self.queued.resize(d + 1, false);
        }
    }

    /// Takes document `d` out of its list (its vector changed or is gone).
    pub fn detach(&mut self, d: u32) {
        let Some(&l) = self.list_of.get(d as usize) else { return };
        if l != NONE {
            let list = &mut self.lists[l as usize];
            if let Some(at) = list.iter().position(|x| *x == d) {
                list.swap_remove(at);
            }
            self.list_of[d as usize] = NONE;
        }
    }

    /// Document `d` has a new vector: out of its list and waiting to be filed.
    pub fn changed(&mut self, d: u32) {
        self.detach(d);
        self.grow(d as usize);
        if !self.queued[d as usize] {
            self.queued[d as usize] = true;
            self.pending.push(d);
        }
    }

    /// Files document `d` under list `l` directly (its vector was filed under the same codebook elsewhere).
    pub fn file(&mut self, d: u32, l: u32) {
        self.detach(d);
        self.grow(d as usize);
        self.list_of[d as usize] = l;
        self.lists[l as usize].push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_codebook_separates_clear_groups_and_files_each_row_with_its_own() {
        // Three groups of 3-dimensional rows around the axes.
        let mut rows = Vec::new();
        for i in 0..90 {
            let mut v = [8i8, 8, 8];
            v[i % 3] = 120;
            v[(i + 1) % 3] = (i % 7) as i8;
            rows.extend_from_slice(&v);
        }
        let book = Codebook::train(3, &rows, 3, 90).unwrap();
        assert_eq!(book.lists(), 3);
        let axis = |a: usize| {
            let mut v = [0i8; 3];
            v[a] = 127;
            book.nearest(&v)
        };
        let (x, y, z) = (axis(0), axis(1), axis(2));
        assert!(x != y && y != z && x != z, "each group has its own centroid: {x} {y} {z}");
        for i in 0..90 {
            assert_eq!(book.nearest(&rows[i * 3..i * 3 + 3]), axis(i % 3), "row {i}");
        }
        assert_eq!(book.probes(), 3, "fewer lists than the least probed: all");
        assert_eq!(book.nearest_lists(&[127, 0, 0], 1), vec![axis(0)]);
        assert_eq!(book.nearest_lists(&[127, 0, 0], 9).len(), 3);
        assert!(Codebook::train(3, &[], 3, 0).is_none());
        assert_eq!(Codebook::train(3, &rows[..6], 5, 2).unwrap().lists(), 2, "no more lists than rows");
    }

    /// `n` vectors of `dim` dimensions around `groups` random centres (a catalog's kinds of product).
    fn clustered(n: usize, dim: usize, groups: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut s = seed;
        let mut next = move || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let centres: Vec<Vec<f32>> = (0..groups).map(|_| (0..dim).map(|_| next()).collect()).collect();
        (0..n).map(|i| centres[i % groups].iter().map(|c| c + 0.35 * next()).collect()).collect()
    }

    #[test]
    fn the_lists_find_nearly_what_the_whole_scan_finds_and_follow_every_change() {
        use crate::dense::Dense;
        let vectors = clustered(4_000, 48, 60, 11);
        let mut ix = Dense::new(48);
        for (d, v) in vectors.iter().enumerate() {
            ix.set(d as u32, v).unwrap();
        }
        let lists = lists_for(ix.len());
        let book = Arc::new(Codebook::train(48, &ix.sample(sample_for(ix.len())), lists, ix.len()).unwrap());
        assert_eq!(book.lists(), 63);
        assert!(ix.set_codebook(book.clone()));
        let queries: Vec<_> = clustered(60, 48, 60, 99).iter().map(|v| ix.query(v).unwrap()).collect();
        // Nothing filed yet: every vector is scanned, the answer is exact.
        assert_eq!(ix.unfiled(), 4_000);
        for q in &queries {
            assert_eq!(ix.top(q, 10, |_| true), ix.exact_top(q, 10, |_| true));
        }
        while ix.file_pending(1_000) > 0 {}
        let (mut found, mut wanted) = (0, 0);
        for q in &queries {
            let exact = ix.exact_top(q, 10, |_| true);
            let approx = ix.top(q, 10, |_| true);
            for (d, s) in &approx {
                assert_eq!(ix.cosine(q, *d), Some(*s), "a true cosine");
            }
            wanted += exact.len();
            found += exact.iter().filter(|x| approx.iter().any(|y| y.0 == x.0)).count();
        }
        let recall = found as f64 / wanted as f64;
        assert!(recall >= 0.9, "recall@10 of the lists {recall:.3}");
        // A changed vector is found at once (waiting to be filed), and again once filed.
        let q = ix.query(&vectors[5]).unwrap();
        ix.set(17, &vectors[5]).unwrap();
        assert!(ix.top(&q, 2, |_| true).iter().any(|x| x.0 == 17));
        ix.file_pending(usize::MAX);
        assert!(ix.top(&q, 2, |_| true).iter().any(|x| x.0 == 17));
        // A removed one is never found; a moved one only where it went.
        ix.remove(5);
        assert!(!ix.top(&q, 10, |_| true).iter().any(|x| x.0 == 5));
        assert!(ix.move_row(17, 4_100));
        let hits: Vec<u32> = ix.top(&q, 3, |_| true).iter().map(|x| x.0).collect();
        assert!(hits.contains(&4_100) && !hits.contains(&17), "{hits:?}");
        assert_eq!(ix.unfiled(), 0, "a moved vector keeps its list");
        // A rebuilt index takes the codebook and the lists with the vectors.
        let mut rebuilt = Dense::new(0);
        rebuilt.adopt_codebook(&ix);
        for d in 0..4_200u32 {
            rebuilt.copy_from(d, &ix, d);
        }
        assert_eq!((rebuilt.len(), rebuilt.unfiled()), (ix.len(), 0));
        for q in &queries {
            assert_eq!(rebuilt.top(q, 10, |_| true), ix.top(q, 10, |_| true));
        }
        // A narrow filter (one product in 25) finds its nearest products in the lists scanned when the
        // nearest ones hold too few of them; only accepted products, with their true cosines.
        let narrow = |d: u32| d % 25 == 7;
        let (mut found, mut wanted) = (0, 0);
        for q in &queries {
            let exact = ix.exact_top(q, 10, narrow);
            let approx = ix.top(q, 10, narrow);
            assert!(approx.iter().all(|(d, s)| narrow(*d) && ix.cosine(q, *d) == Some(*s)));
            wanted += exact.len();
            found += exact.iter().filter(|x| approx.iter().any(|y| y.0 == x.0)).count();
        }
        let recall = found as f64 / wanted as f64;
        assert!(recall >= 0.8, "recall@10 under a narrow filter {recall:.3}");
        assert!(!ix.wants_codebook(), "4,000 vectors: the whole scan is fast enough");
        let mut other = Dense::new(3);
        assert!(!other.set_codebook(book), "another model's size");
    }

    #[test]
    fn list_sizes_follow_the_catalog() {
        assert_eq!(lists_for(100_000), 316);
        assert_eq!(lists_for(20_000), 141);
        assert_eq!(lists_for(10), 16);
        assert_eq!(sample_for(100_000), 316 * 48);
        assert_eq!(sample_for(100), 100);
    }
}
