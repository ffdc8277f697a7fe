//! Offline evaluation on a next-basket split (history → each shopper's next basket), the protocol of the
//! "A Next Basket Recommendation Reality Check" data (Ta-Feng): the product's tuned blend against global
//! popularity, personal top-frequency (and TIFU-KNN, in `tifu`), scored by one metric implementation; plus a session view
//! (predict the next item of a basket from the items before it).

use crate::metrics::{hit_and_rr, BasketScores};
use crate::{Basket, Model, Params, Profile, Scratch, TrainConfig, TrainData, Weights};
use std::collections::BTreeMap;
use std::time::Instant;

/// A next-basket split: for every shopper, past baskets and the basket to predict.
#[derive(Clone, Debug, Default)]
pub struct Split {
    /// Shopper ids as the files name them, aligned with `data.shoppers` and `future`.
    pub shopper_ids: Vec<String>,
    pub data: TrainData,
    pub future: Vec<Vec<u32>>,
}

/// Reads the Reality Check JSON files: `{customer: [[-1], [item, ...], ..., [-1]]}` for the history and
/// the same shape with one basket for the future. The files carry no dates, so a basket's time is its
/// position counted back from the shopper's newest history basket (0, −1, −2, …) and "now" is 1.
pub fn read_split(history_json: &str, future_json: &str) -> Result<Split, String> {
    let parse = |text: &str, what: &str| -> Result<BTreeMap<String, Vec<Vec<i64>>>, String> {
        serde_json::from_str(text)
            .map_err(|e| format!("{what} is not a {{customer: [[item, ...], ...]}} JSON object: {e}"))
    };
    let history = parse(history_json, "history file")?;
    let future = parse(future_json, "future file")?;
    if future.is_empty() {
        return Err("the future file names no customers".into());
    }
    let mut max_item = -1i64;
    let real = |bs: &Vec<Vec<i64>>| -> Vec<Vec<i64>> {
        bs.iter().filter(|b| !(b.is_empty() || b.len() == 1 && b[0] == -1)).cloned().collect()
    };
    let mut split = Split::default();
    for (id, fut) in &future {
        let fut: Vec<i64> = real(fut).into_iter().flatten().collect();
        if fut.is_empty() {
            continue;
        }
        let past = history.get(id).map(real).unwrap_or_default();
        for &i in past.iter().flatten().chain(fut.iter()) {
            if i < 0 || i > u32::MAX as i64 / 2 {
                return Err(format!("customer {id}: item id {i} is not a non-negative integer"));
            }
            max_item = max_item.max(i);
        }
        let n = past.len() as i64;
        let baskets = past
            .into_iter()
            .enumerate()
            .map(|(k, b)| Basket {
                t: k as i64 - (n - 1),
                items: b.into_iter().map(|i| i as u32).collect(),
                location: None,
            })
            .collect();
        split.shopper_ids.push(id.clone());
        split.data.shoppers.push(Profile { baskets, ..Default::default() });
        let mut f: Vec<u32> = fut.into_iter().map(|i| i as u32).collect();
        f.sort_unstable();
        f.dedup();
        split.future.push(f);
    }
    split.data.n_items = (max_item + 1) as usize;
    split.data.now = 1;
    Ok(split)
}

/// The search grid for data whose time unit is "one basket".
pub fn basket_time_config() -> TrainConfig {
    TrainConfig {
        params: Params { half_life: 2.0, ..Params::default() },
        half_lives: vec![1.0, 2.0, 4.0, 8.0],
        decays: vec![1.0, 0.9, 0.8],
        shrinks: vec![2.0, 4.0, 6.0, 10.0],
    }
}

/// The blend tuned on the future baskets themselves instead of the last history baskets: each shopper's
/// future basket is appended to their history and held out (every shopper, with no cap on how many), so
/// the weights and shapes are chosen on exactly what will be scored. Not a result (it looks at the
/// answers, and on a few hundred shoppers partly fits their noise): what the blend's own search could
/// reach if it chose perfectly. It is not an upper bound on the signals either: the search is the same
/// coordinate ascent over the same grids, and can stop a little below the best blend it could find.
pub fn tune_on_future(split: &Split, cfg: &TrainConfig) -> crate::TuneReport {
    crate::tune_every_shopper(&with_future(split), cfg)
}

/// The history with each shopper's future basket appended, one time step after their newest basket (the
/// split's "now"). A shopper without history gets nothing appended: a lone basket is not held out by
/// tuning, so it would be training data, the answers leaking into the signals.
fn with_future(split: &Split) -> TrainData {
    let mut data = split.data.clone();
    for (s, f) in data.shoppers.iter_mut().zip(&split.future) {
        if !s.baskets.is_empty() {
            s.baskets.push(Basket { t: split.data.now, items: f.clone(), location: None });
        }
    }
    data.now = split.data.now + 1;
    data
}

/// One model's scores in the comparison.
#[derive(Clone, Debug, Default)]
pub struct ModelResult {
    pub scores: BasketScores,
    pub train_s: f64,
    pub hr20: Option<f64>,
    pub mrr20: Option<f64>,
    pub notes: BTreeMap<String, serde_json::Value>,
}

/// Ranked lists for every shopper (top `k`), in `split` order.
pub type Lists = Vec<Vec<u32>>;

pub fn score_lists(split: &Split, lists: &Lists) -> BasketScores {
    BasketScores::of(lists.iter().zip(&split.future).map(|(r, t)| (r.as_slice(), t.as_slice())))
}

/// Global popularity: the same most-bought items for everyone.
pub fn global_popularity(split: &Split, k: usize) -> (Lists, f64) {
    let started = Instant::now();
    let top = most_bought(&split.data, k);
    let secs = started.elapsed().as_secs_f64();
    (vec![top; split.future.len()], secs)
}

/// The `k` items bought by the most shoppers (what lists are padded with).
pub fn most_bought(data: &TrainData, k: usize) -> Vec<u32> {
    popularity_order(data).into_iter().take(k).collect()
}

/// Personal top-frequency: the shopper's own items by the number of baskets holding them (ties by global
/// popularity), then filled up with global popularity so that every list has `k` items.
pub fn personal_top_frequency(split: &Split, k: usize) -> (Lists, f64) {
    let started = Instant::now();
    let pop = popularity_order(&split.data);
    let mut rank = vec![u32::MAX; split.data.n_items];
    for (r, &i) in pop.iter().enumerate() {
        rank[i as usize] = r as u32;
    }
    let lists = split
        .data
        .shoppers
        .iter()
        .map(|s| {
            let mut count: BTreeMap<u32, u32> = BTreeMap::new();
            for b in &s.baskets {
                let mut seen: Vec<u32> = b.items.clone();
                seen.sort_unstable();
                seen.dedup();
                for i in seen {
                    *count.entry(i).or_default() += 1;
                }
            }
            let mut own: Vec<(u32, u32)> = count.into_iter().collect();
            own.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(rank[a.0 as usize].cmp(&rank[b.0 as usize])));
            let mut list: Vec<u32> = own.into_iter().map(|x| x.0).take(k).collect();
            for &i in &pop {
                if list.len() >= k {
                    break;
                }
                if !list.contains(&i) {
                    list.push(i);
                }
            }
            list
        })
        .collect();
    (lists, started.elapsed().as_secs_f64())
}

fn popularity_order(data: &TrainData) -> Vec<u32> {
    let mut buyers = vec![0u32; data.n_items];
    for set in crate::item_sets(data) {
        for i in set {
            buyers[i as usize] += 1;
        }
    }
    let mut order: Vec<u32> = (0..data.n_items as u32).collect();
    order.sort_unstable_by(|a, b| buyers[*b as usize].cmp(&buyers[*a as usize]).then(a.cmp(b)));
    order
}

/// The product's model trained on the whole history with tuned weights, and its lists.
pub fn blend_lists(split: &Split, params: &Params, weights: Weights, k: usize) -> (Model, Lists, f64) {
    let started = Instant::now();
    let p = params.pruned_for(&weights, false);
    let model = Model::train(&split.data, &p, weights);
    let secs = started.elapsed().as_secs_f64();
    let lists = predict_all(&model, &split.data.shoppers, k);
    (model, lists, secs)
}

/// Top-k lists for many shoppers on every core.
pub fn predict_all(model: &Model, shoppers: &[Profile], k: usize) -> Lists {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 8);
    let chunk = shoppers.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let hs: Vec<_> = shoppers
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let mut scratch = Scratch::new(model.n_items);
                    part.iter()
                        .map(|p| {
                            model.recommend(p, None, k, &mut scratch, &|_| false).into_iter().map(|x| x.item).collect()
                        })
                        .collect::<Vec<Vec<u32>>>()
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().expect("prediction worker panicked")).collect()
    })
}

/// Session view: within each future basket, predict item `p` from items `..p` (items already in the
/// basket are not recommended). Returns (HR@20, MRR@20, predictions made). `with_history` lets the model
/// also use the shopper's past baskets, as the product does for a signed-in shopper.
pub fn session_view(model: &Model, split: &Split, with_history: bool) -> (f64, f64, usize) {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 8);
    let idx: Vec<usize> = (0..split.future.len()).collect();
    let chunk = idx.len().div_ceil(threads).max(1);
    let (hr, rr, n) = std::thread::scope(|s| {
        let hs: Vec<_> = idx
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let mut scratch = Scratch::new(model.n_items);
                    let (mut hr, mut rr, mut n) = (0.0, 0.0, 0usize);
                    for &u in part {
                        let basket = &split.future[u];
                        for p in 1..basket.len() {
                            let prefix = &basket[..p];
                            let profile = Profile {
                                baskets: if with_history { split.data.shoppers[u].baskets.clone() } else { vec![] },
                                recent_views: prefix.to_vec(),
                                view_times: Vec::new(),
                            };
                            let recs: Vec<u32> = model
                                .recommend(&profile, None, 20, &mut scratch, &|i| prefix.contains(&i))
                                .into_iter()
                                .map(|x| x.item)
                                .collect();
                            let (h, r) = hit_and_rr(&recs, basket[p], 20);
                            hr += h;
                            rr += r;
                            n += 1;
                        }
                    }
                    (hr, rr, n)
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| h.join().expect("session worker panicked"))
            .fold((0.0, 0.0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2))
    });
    (hr / n.max(1) as f64, rr / n.max(1) as f64, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_reality_check_format_and_rejects_garbage() {
        let h = r#"{"1": [[-1], [0, 1], [2], [-1]], "2": [[-1], [3], [-1]]}"#;
        let f = r#"{"1": [[-1], [1, 4], [-1]], "2": [[-1], [3, 3], [-1]], "3": [[-1], [0], [-1]]}"#;
        let s = read_split(h, f).unwrap();
        assert_eq!(s.shopper_ids, vec!["1", "2", "3"]);
        assert_eq!(s.data.n_items, 5);
        assert_eq!(s.data.shoppers[0].baskets.iter().map(|b| b.t).collect::<Vec<_>>(), vec![-1, 0]);
        assert_eq!(s.future[1], vec![3], "duplicates in a basket count once");
        assert!(s.data.shoppers[2].baskets.is_empty(), "a customer without history is a cold start");
        assert!(read_split("[1,2]", f).unwrap_err().contains("history file"));
        assert!(read_split(h, r#"{"1": [[-7]]}"#).unwrap_err().contains("item id -7"));
    }

    #[test]
    fn tuning_on_the_future_sees_what_the_history_hides() {
        // Every shopper buys "their" item twice, then one-off novelties in the last history basket, then
        // their item again: the last history basket teaches novelty, the future basket teaches repeats.
        let (mut h, mut f) = (Vec::new(), Vec::new());
        for u in 0..200 {
            let mine = u % 20;
            h.push(format!(r#""{u}": [[-1], [{mine}], [{mine}], [{}, {}], [-1]]"#, 20 + u % 7, 27 + u % 5));
            f.push(format!(r#""{u}": [[-1], [{mine}], [-1]]"#));
        }
        let s = read_split(&format!("{{{}}}", h.join(",")), &format!("{{{}}}", f.join(","))).unwrap();
        let cfg = basket_time_config();
        let ordinary = crate::tune(&s.data, &cfg, &|_| {});
        let ceiling = tune_on_future(&s, &cfg);
        assert_eq!(ceiling.shoppers, 200);
        assert!(ceiling.recall20 > 0.99, "{ceiling:?}");
        assert!(ordinary.recall20 < 0.9, "{ordinary:?}");
        let (_, lists, _) = blend_lists(&s, &ceiling.params, ceiling.weights, 1);
        assert!(score_lists(&s, &lists).recall10 > 0.99, "the future's blend, trained on the history, scores it");
    }

    #[test]
    fn the_future_comes_one_step_after_the_newest_basket_and_never_alone() {
        let h = r#"{"1": [[-1], [0, 1], [2], [-1]]}"#;
        let f = r#"{"1": [[-1], [3], [-1]], "2": [[-1], [0], [-1]]}"#;
        let s = read_split(h, f).unwrap();
        let d = with_future(&s);
        let times: Vec<i64> = d.shoppers[0].baskets.iter().map(|b| b.t).collect();
        assert_eq!(times, vec![-1, 0, 1]);
        assert_eq!(d.shoppers[0].baskets[2].items, vec![3]);
        assert!(d.shoppers[1].baskets.is_empty(), "a shopper without history is not given the answer to train on");
        assert!(d.now > 1);
    }

    #[test]
    fn baselines_fill_every_list() {
        let h = r#"{"1": [[-1], [0, 1], [0], [-1]], "2": [[-1], [2], [-1]]}"#;
        let f = r#"{"1": [[-1], [0], [-1]], "2": [[-1], [0], [-1]]}"#;
        let s = read_split(h, f).unwrap();
        let (p, _) = personal_top_frequency(&s, 3);
        assert_eq!(p[0], vec![0, 1, 2]);
        assert_eq!(p[1], vec![2, 0, 1]);
        let (g, _) = global_popularity(&s, 2);
        assert_eq!(g[1], vec![0, 1]);
        let sc = score_lists(&s, &p);
        assert!((sc.recall10 - 1.0).abs() < 1e-12);
    }
}
