//! Compressed sparse rows of item-to-item weights: the shape every neighbour model is stored and served in.

use serde::{Deserialize, Serialize};

/// Row `i` holds the items related to item `i` with their weights, strongest first.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Neighbors {
    pub indptr: Vec<u32>,
    pub items: Vec<u32>,
    pub weights: Vec<f32>,
}

impl Neighbors {
    pub fn empty(n_items: usize) -> Self {
        Neighbors { indptr: vec![0; n_items + 1], items: Vec::new(), weights: Vec::new() }
    }

    /// Builds from one list per item; each list is sorted strongest first and cut to `top_k`.
    pub fn from_rows(rows: Vec<Vec<(u32, f32)>>, top_k: usize) -> Self {
        let mut out = Neighbors { indptr: Vec::with_capacity(rows.len() + 1), items: Vec::new(), weights: Vec::new() };
        out.indptr.push(0);
        for mut row in rows {
            row.retain(|(_, w)| w.is_finite() && *w > 0.0);
            row.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            row.truncate(top_k);
            for (i, w) in row {
                out.items.push(i);
                out.weights.push(w);
            }
            out.indptr.push(out.items.len() as u32);
        }
        out
    }

    pub fn n_rows(&self) -> usize {
        self.indptr.len().saturating_sub(1)
    }

    pub fn nnz(&self) -> usize {
        self.items.len()
    }

    /// The neighbours of `item` (nothing for an item the model has never seen).
    pub fn row(&self, item: u32) -> impl Iterator<Item = (u32, f32)> + '_ {
        let i = item as usize;
        let (s, e) =
            if i + 1 < self.indptr.len() { (self.indptr[i] as usize, self.indptr[i + 1] as usize) } else { (0, 0) };
        self.items[s..e].iter().copied().zip(self.weights[s..e].iter().copied())
    }
}

/// Item-item co-occurrence counts over "containers" (pairs need at least two containers) (a shopper's set of items, or one basket, or one
/// session), then cosine-normalised with a shrink term: `c_ij / (sqrt(c_i c_j) + shrink)`. Containers with
/// more than `max_len` distinct items are cut to their first `max_len` (bulk buyers would otherwise dominate
/// the quadratic pair count).
pub fn cosine_neighbors(
    n_items: usize,
    containers: &[Vec<u32>],
    shrink: f32,
    top_k: usize,
    max_len: usize,
) -> Neighbors {
    let mut degree = vec![0f32; n_items];
    for c in containers {
        for &i in c.iter().take(max_len) {
            degree[i as usize] += 1.0;
        }
    }
    // Inverted lists: for each item, the containers holding it.
    let mut by_item: Vec<Vec<u32>> = vec![Vec::new(); n_items];
    for (ci, c) in containers.iter().enumerate() {
        for &i in c.iter().take(max_len) {
            by_item[i as usize].push(ci as u32);
        }
    }
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 8);
    let chunk = n_items.div_ceil(threads).max(1);
    let mut rows: Vec<Vec<(u32, f32)>> = Vec::with_capacity(n_items);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n_items)
            .step_by(chunk)
            .map(|start| {
                let (by_item, degree) = (&by_item, &degree);
                s.spawn(move || {
                    let end = (start + chunk).min(n_items);
                    let mut acc = vec![0f32; n_items];
                    let mut touched: Vec<u32> = Vec::new();
                    let mut out = Vec::with_capacity(end - start);
                    for i in start..end {
                        for &ci in &by_item[i] {
                            for &j in containers[ci as usize].iter().take(max_len) {
                                if j as usize != i {
                                    if acc[j as usize] == 0.0 {
                                        touched.push(j);
                                    }
                                    acc[j as usize] += 1.0;
                                }
                            }
                        }
                        // Pairs seen in a single container are dropped: one shopper's basket must not
                        // be readable off a product page ("bought with" needs two shoppers), and it
                        // saves most of the work on popular items.
                        let min_count = 2.0;
                        let mut row: Vec<(u32, f32)> = touched
                            .iter()
                            .filter(|&&j| acc[j as usize] >= min_count)
                            .map(|&j| (j, acc[j as usize] / ((degree[i] * degree[j as usize]).sqrt() + shrink)))
                            .collect();
                        for &j in &touched {
                            acc[j as usize] = 0.0;
                        }
                        touched.clear();
                        if row.len() > top_k {
                            row.select_nth_unstable_by(top_k, |a, b| b.1.total_cmp(&a.1));
                            row.truncate(top_k);
                        }
                        out.push(row);
                    }
                    out
                })
            })
            .collect();
        for h in handles {
            rows.extend(h.join().expect("similarity worker panicked"));
        }
    });
    Neighbors::from_rows(rows, top_k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_links_items_bought_together_and_only_them() {
        let containers = vec![vec![0, 1], vec![0, 1], vec![0, 1, 2], vec![3]];
        let n = cosine_neighbors(4, &containers, 0.0, 10, 100);
        let row0: Vec<_> = n.row(0).collect();
        assert_eq!(row0[0].0, 1);
        assert!((row0[0].1 - 1.0).abs() < 1e-6, "0 and 1 always appear together: {row0:?}");
        assert_eq!(row0.len(), 1, "0 and 2 met in one basket only: not a pair anyone can read off");
        assert_eq!(n.row(3).count(), 0);
        assert_eq!(n.row(99).count(), 0, "unknown items have no neighbours");
    }

    #[test]
    fn rows_are_cut_to_top_k_strongest_first() {
        let n = Neighbors::from_rows(vec![vec![(1, 0.2), (2, 0.9), (3, 0.5), (4, f32::NAN)]], 2);
        assert_eq!(n.row(0).collect::<Vec<_>>(), vec![(2, 0.9), (3, 0.5)]);
    }
}
