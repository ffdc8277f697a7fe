//! TIFU-KNN (Hu, He et al., "Modeling Personalized Item Frequency Information for Next-basket
//! Recommendation", SIGIR 2020), a published next-basket model to compare the blend with: a shopper is a
//! vector of repeated-item frequencies, decayed within groups of consecutive baskets and across groups;
//! the next basket is the shopper's own vector mixed with the mean of the nearest shoppers' vectors
//! (cosine). Written from the paper for this crate's data; tuned on the same held-out last baskets as the
//! blend.

use crate::metrics::BasketScores;
use crate::{Profile, TrainData};
use std::time::Instant;

/// The model's settings (the paper's m, r_b, r_g, k and α).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TifuParams {
    /// Baskets per group (the newest group may hold fewer).
    pub group_size: usize,
    /// Decay of a basket within its group, per basket back.
    pub within: f32,
    /// Decay of a group, per group back.
    pub across: f32,
    /// Neighbours averaged.
    pub k: usize,
    /// Weight of the shopper's own vector (1 − alpha goes to the neighbours).
    pub alpha: f32,
}

impl Default for TifuParams {
    fn default() -> Self {
        TifuParams { group_size: 7, within: 1.0, across: 0.7, k: 300, alpha: 0.7 }
    }
}

/// A sparse vector: (item, weight), items ascending.
type Vector = Vec<(u32, f32)>;

/// The shopper's repeated-item frequency vector.
fn vector(p: &Profile, params: &TifuParams) -> Vector {
    let n = p.baskets.len();
    if n == 0 {
        return Vec::new();
    }
    let m = params.group_size.max(1);
    let groups = n.div_ceil(m);
    let mut acc: std::collections::BTreeMap<u32, f32> = Default::default();
    // Groups counted back from the newest basket: group 0 holds the newest m baskets.
    for g in 0..groups {
        let end = n - g * m;
        let start = end.saturating_sub(m);
        let size = (end - start) as f32;
        let group_w = params.across.powi(g as i32) / groups as f32;
        for (back, b) in p.baskets[start..end].iter().rev().enumerate() {
            let w = group_w * params.within.powi(back as i32) / size;
            let mut items = b.items.clone();
            items.sort_unstable();
            items.dedup();
            for i in items {
                *acc.entry(i).or_default() += w;
            }
        }
    }
    acc.into_iter().collect()
}

fn norm(v: &Vector) -> f32 {
    v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt()
}

/// Every shopper's `k_max` nearest shoppers by cosine (an inverted index over items; one thread per core).
fn neighbours(vectors: &[Vector], n_items: usize, k_max: usize) -> Vec<Vec<(u32, f32)>> {
    let norms: Vec<f32> = vectors.iter().map(norm).collect();
    let mut postings: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n_items];
    for (u, v) in vectors.iter().enumerate() {
        for &(i, w) in v {
            postings[i as usize].push((u as u32, w / norms[u].max(f32::MIN_POSITIVE)));
        }
    }
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 8);
    let users: Vec<usize> = (0..vectors.len()).collect();
    let chunk = users.len().div_ceil(threads).max(1);
    let postings = &postings;
    let norms = &norms;
    std::thread::scope(|s| {
        let hs: Vec<_> = users
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let mut dot = vec![0f32; vectors.len()];
                    let mut touched: Vec<u32> = Vec::new();
                    part.iter()
                        .map(|&u| {
                            let nu = norms[u].max(f32::MIN_POSITIVE);
                            for &(i, w) in &vectors[u] {
                                for &(v, wv) in &postings[i as usize] {
                                    if v as usize == u {
                                        continue;
                                    }
                                    if dot[v as usize] == 0.0 {
                                        touched.push(v);
                                    }
                                    dot[v as usize] += w / nu * wv;
                                }
                            }
                            let mut near: Vec<(u32, f32)> = touched.iter().map(|&v| (v, dot[v as usize])).collect();
                            for &v in &touched {
                                dot[v as usize] = 0.0;
                            }
                            touched.clear();
                            let k = k_max.min(near.len());
                            if k > 0 && k < near.len() {
                                near.select_nth_unstable_by(k - 1, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                                near.truncate(k);
                            }
                            near.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                            near
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().expect("neighbour worker panicked")).collect()
    })
}

/// Top-`k` lists for the given shoppers: α · own + (1 − α) · mean of the nearest `params.k`, padded with
/// `fallback` (global popularity) so that every list is full.
fn lists_for(
    vectors: &[Vector],
    near: &[Vec<(u32, f32)>],
    who: &[usize],
    params: &TifuParams,
    n_items: usize,
    fallback: &[u32],
    k: usize,
) -> Vec<Vec<u32>> {
    let mut score = vec![0f32; n_items];
    let mut touched: Vec<u32> = Vec::new();
    who.iter()
        .map(|&u| {
            let mut add = |i: u32, w: f32| {
                if score[i as usize] == 0.0 {
                    touched.push(i);
                }
                score[i as usize] += w;
            };
            for &(i, w) in &vectors[u] {
                add(i, params.alpha * w);
            }
            let ns = &near[u][..params.k.min(near[u].len())];
            if !ns.is_empty() {
                let share = (1.0 - params.alpha) / params.k as f32;
                for &(v, _) in ns {
                    for &(i, w) in &vectors[v as usize] {
                        add(i, share * w);
                    }
                }
            }
            let mut ranked: Vec<(u32, f32)> = touched.iter().map(|&i| (i, score[i as usize])).collect();
            for &i in &touched {
                score[i as usize] = 0.0;
            }
            touched.clear();
            ranked.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let mut list: Vec<u32> = ranked.into_iter().take(k).map(|x| x.0).collect();
            for &i in fallback {
                if list.len() >= k {
                    break;
                }
                if !list.contains(&i) {
                    list.push(i);
                }
            }
            list
        })
        .collect()
}

/// What tuning chose and how it scored on the held-out last baskets.
#[derive(Clone, Debug)]
pub struct TifuReport {
    pub params: TifuParams,
    pub validation: BasketScores,
    pub tune_s: f64,
}

/// Picks the settings on each shopper's last history basket (the grid below; the neighbours are found once
/// per vector shape and reused for every k and α), as the blend is tuned.
pub fn tune(data: &TrainData, popular: &[u32]) -> TifuReport {
    let started = Instant::now();
    let mut train: Vec<Profile> = data.shoppers.clone();
    let mut truth: Vec<Vec<u32>> = vec![Vec::new(); train.len()];
    let mut held: Vec<usize> = Vec::new();
    for (u, p) in train.iter_mut().enumerate() {
        if p.baskets.len() >= 2 {
            let mut last = p.baskets.pop().expect("two baskets").items;
            last.sort_unstable();
            last.dedup();
            truth[u] = last;
            held.push(u);
        }
    }
    let mut best: Option<(f64, TifuParams, BasketScores)> = None;
    for group_size in [3, 7] {
        for within in [0.9f32, 1.0] {
            for across in [0.6f32, 0.8, 0.9] {
                let shape = TifuParams { group_size, within, across, ..TifuParams::default() };
                let vectors: Vec<Vector> = train.iter().map(|p| vector(p, &shape)).collect();
                let near = neighbours(&vectors, data.n_items, 600);
                for k in [100, 300, 600] {
                    for alpha in [0.5f32, 0.7, 0.9] {
                        let params = TifuParams { k, alpha, ..shape };
                        let lists = lists_for(&vectors, &near, &held, &params, data.n_items, popular, 20);
                        let scores = BasketScores::of(
                            lists
                                .iter()
                                .zip(held.iter().map(|&u| &truth[u]))
                                .map(|(l, t)| (l.as_slice(), t.as_slice())),
                        );
                        if best.as_ref().is_none_or(|b| scores.recall20 > b.0) {
                            best = Some((scores.recall20, params, scores));
                        }
                    }
                }
            }
        }
    }
    let (_, params, validation) = best.unwrap_or((0.0, TifuParams::default(), BasketScores::default()));
    TifuReport { params, validation, tune_s: started.elapsed().as_secs_f64() }
}

/// Every shopper's top-`k` next basket from the whole history, with the given settings; and the seconds
/// the fit took (vectors and neighbours).
pub fn lists(data: &TrainData, params: &TifuParams, popular: &[u32], k: usize) -> (Vec<Vec<u32>>, f64) {
    let started = Instant::now();
    let vectors: Vec<Vector> = data.shoppers.iter().map(|p| vector(p, params)).collect();
    let near = neighbours(&vectors, data.n_items, params.k);
    let secs = started.elapsed().as_secs_f64();
    let all: Vec<usize> = (0..vectors.len()).collect();
    (lists_for(&vectors, &near, &all, params, data.n_items, popular, k), secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Basket;

    fn shopper(baskets: &[&[u32]]) -> Profile {
        Profile {
            baskets: baskets
                .iter()
                .enumerate()
                .map(|(t, b)| Basket { t: t as i64, items: b.to_vec(), location: None })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn newer_baskets_weigh_more_and_neighbours_fill_in() {
        let p = TifuParams { group_size: 1, within: 1.0, across: 0.5, k: 1, alpha: 0.5 };
        // Groups of one basket: the newest counts 1, the one before 0.5 (both over 2 groups).
        let v = vector(&shopper(&[&[1], &[2, 2]]), &p);
        assert_eq!(v, vec![(1, 0.25), (2, 0.5)]);
        // Shopper 0 and 1 share item 1; shopper 1 also buys 3: it reaches shopper 0 through the neighbour.
        let data = TrainData {
            n_items: 5,
            shoppers: vec![shopper(&[&[1]]), shopper(&[&[1, 3]]), shopper(&[&[4]])],
            ..Default::default()
        };
        let (l, _) = lists(&data, &p, &[0], 3);
        assert_eq!(l[0], vec![1, 3, 0], "own item, the neighbour's, then popularity");
        assert_eq!(l[2], vec![4, 0], "nobody shares item 4: own items and popularity only");
    }
}
