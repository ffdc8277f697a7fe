//! EASE (Steck 2019), the closed-form linear item-item model: `B = I − P·diag(1/diag(P))` with
//! `P = (XᵀX + λI)⁻¹`, computed exactly over the `max_items` most popular items and sparsified to each
//! row's strongest weights for serving. Items outside that set get no EASE score (the item-item
//! co-occurrence model still covers them): that is the approximation for catalogs beyond what a dense
//! inverse on this machine allows.

use crate::sparse::Neighbors;

/// Trains EASE on shoppers' item sets. `items_of` lists each shopper's distinct items.
pub fn train(n_items: usize, items_of: &[Vec<u32>], lambda: f32, max_items: usize, top_k: usize) -> Neighbors {
    // The dense set: the most frequent items.
    let mut freq = vec![0u32; n_items];
    for s in items_of {
        for &i in s {
            freq[i as usize] += 1;
        }
    }
    let mut order: Vec<u32> = (0..n_items as u32).filter(|&i| freq[i as usize] > 0).collect();
    order.sort_unstable_by(|a, b| freq[*b as usize].cmp(&freq[*a as usize]).then(a.cmp(b)));
    order.truncate(max_items);
    let n = order.len();
    if n == 0 {
        return Neighbors::empty(n_items);
    }
    let mut dense_of = vec![u32::MAX; n_items];
    for (d, &i) in order.iter().enumerate() {
        dense_of[i as usize] = d as u32;
    }
    // Gram matrix G = XᵀX + λI (row-major, f64 for a stable inverse).
    let mut g = vec![0f64; n * n];
    let mut local: Vec<usize> = Vec::new();
    for s in items_of {
        local.clear();
        local.extend(s.iter().filter_map(|&i| {
            let d = dense_of[i as usize];
            (d != u32::MAX).then_some(d as usize)
        }));
        for &a in &local {
            let row = &mut g[a * n..(a + 1) * n];
            for &b in &local {
                row[b] += 1.0;
            }
        }
    }
    for d in 0..n {
        g[d * n + d] += lambda as f64;
    }
    invert_spd_in_place(&mut g, n);
    let p = g;
    let mut rows: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n_items];
    for a in 0..n {
        // Score of item b from owning item a is B[a][b] = −P[a][b] / P[b][b].
        let mut row: Vec<(u32, f32)> = (0..n)
            .filter(|&b| b != a)
            .map(|b| (order[b], (-p[a * n + b] / p[b * n + b]) as f32))
            .filter(|(_, w)| *w > 0.0)
            .collect();
        if row.len() > top_k {
            row.select_nth_unstable_by(top_k, |x, y| y.1.total_cmp(&x.1));
            row.truncate(top_k);
        }
        rows[order[a] as usize] = row;
    }
    Neighbors::from_rows(rows, top_k)
}

/// In-place inverse of a symmetric positive definite matrix by the sweep operator, which keeps the
/// matrix symmetric at every step: only the upper triangle is updated (half the work of Gauss–Jordan),
/// rows split over the cores by area. Sweeping every pivot leaves −A⁻¹; the result is negated and mirrored.
pub fn invert_spd_in_place(a: &mut [f64], n: usize) {
    assert_eq!(a.len(), n * n);
    let threads = std::thread::available_parallelism().map(|t| t.get()).unwrap_or(1).clamp(1, 8);
    // Row boundaries giving each thread about the same share of the upper triangle.
    let total = (n * (n + 1) / 2) as f64;
    let mut bounds = vec![0usize];
    let mut acc = 0f64;
    for r in 0..n {
        acc += (n - r) as f64;
        if acc >= total * bounds.len() as f64 / threads as f64 && bounds.len() < threads {
            bounds.push(r + 1);
        }
    }
    bounds.push(n);
    bounds.dedup();
    let mut p = vec![0f64; n];
    for k in 0..n {
        let d = a[k * n + k];
        assert!(d.abs() > 1e-300, "matrix is singular at pivot {k}");
        // The pivot row, read from the upper triangle.
        for j in 0..n {
            p[j] = if j >= k { a[k * n + j] } else { a[j * n + k] };
        }
        let pr = &p;
        let inv = 1.0 / d;
        let update = |rows: &mut [f64], first: usize| {
            for (r, row) in rows.chunks_mut(n).enumerate() {
                let i = first + r;
                if i == k {
                    continue;
                }
                let f = pr[i] * inv;
                if f != 0.0 {
                    for j in i..n {
                        row[j] -= f * pr[j];
                    }
                }
            }
        };
        if threads == 1 || n < 256 {
            update(a, 0);
        } else {
            std::thread::scope(|s| {
                let mut rest: &mut [f64] = a;
                let mut start = 0;
                for w in bounds.windows(2) {
                    let (lo, hi) = (w[0], w[1]);
                    let (chunk, tail) = std::mem::take(&mut rest).split_at_mut((hi - lo) * n);
                    rest = tail;
                    let update = &update;
                    s.spawn(move || update(chunk, lo));
                    start = hi;
                }
                debug_assert_eq!(start, n);
            });
        }
        // Row and column k (upper triangle), then the pivot.
        for j in 0..n {
            if j > k {
                a[k * n + j] = pr[j] * inv;
            } else if j < k {
                a[j * n + k] = pr[j] * inv;
            }
        }
        a[k * n + k] = -inv;
    }
    // a holds −A⁻¹ in its upper triangle.
    for i in 0..n {
        for j in i..n {
            let v = -a[i * n + j];
            a[i * n + j] = v;
            a[j * n + i] = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_times_matrix_is_identity() {
        let n = 300; // above the threading threshold
        let mut m = vec![0f64; n * n];
        for i in 0..n {
            for j in 0..n {
                m[i * n + j] = (((i * 7 + j * 13) % 11) as f64 - 5.0) * 0.01 + if i == j { n as f64 } else { 0.0 };
            }
        }
        for i in 0..n {
            for j in 0..i {
                let v = (m[i * n + j] + m[j * n + i]) / 2.0;
                m[i * n + j] = v;
                m[j * n + i] = v;
            }
        }
        let mut inv = m.clone();
        invert_spd_in_place(&mut inv, n);
        for i in (0..n).step_by(37) {
            for j in (0..n).step_by(29) {
                let v: f64 = (0..n).map(|k| m[i * n + k] * inv[k * n + j]).sum();
                assert!((v - if i == j { 1.0 } else { 0.0 }).abs() < 1e-9, "({i},{j}) = {v}");
            }
        }
    }

    #[test]
    fn ease_recommends_the_usual_companion() {
        // Shoppers who buy 0 also buy 1; nobody buys 1 with 2.
        let mut sets = vec![vec![0, 1]; 20];
        sets.extend(vec![vec![2, 3]; 20]);
        sets.push(vec![0]);
        let b = train(4, &sets, 1.0, 10, 10);
        let row0: Vec<_> = b.row(0).collect();
        assert_eq!(row0.first().map(|x| x.0), Some(1), "{row0:?}");
        assert!(b.row(0).all(|(j, _)| j != 2 && j != 3));
    }
}
