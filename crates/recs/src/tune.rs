//! Picks the blend by offline evaluation: every shopper's last basket is held out, the signals are
//! trained on what came before, and the weights and shape parameters that best predict the held-out
//! baskets (Recall@20 + NDCG@20) win. Nothing is set by hand except the search grid.

use crate::metrics::{ndcg_at, recall_at};
use crate::{
    Candidates, Model, Params, Popularity, Profile, Scratch, TrainConfig, TrainData, Weights, F_DUE, F_EASE, F_KNN,
    F_PERSONAL, F_POPULAR, F_REPEAT, F_SESSION, F_TRENDING, NF,
};

/// What tuning chose, and how well it did on the held-out baskets.
#[derive(Clone, Debug)]
pub struct TuneReport {
    pub params: Params,
    pub weights: Weights,
    pub recall20: f64,
    pub ndcg20: f64,
    pub shoppers: usize,
    pub evaluations: usize,
    pub seconds: f64,
}

const GRID: [f32; 15] = [0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0];
/// Candidates kept per signal when caching a shopper's candidates for the search.
const PER_SIGNAL: usize = 60;
/// The session signal's weight when validation has no views to judge it by.
pub const SESSION_PRIOR: f32 = 0.5;
/// Shoppers used for validation at most (a stride through all of them).
const MAX_VALIDATION: usize = 10_000;

struct Case {
    cands: Candidates,
    truth: Vec<u32>,
}

/// Searches the blend on a held-out split of `data`. `progress` receives short status lines.
pub fn tune(data: &TrainData, cfg: &TrainConfig, progress: &dyn Fn(&str)) -> TuneReport {
    tune_on(data, cfg, progress, MAX_VALIDATION)
}

/// [`tune`] with every eligible shopper held out, however many (the evaluation's tuning on the answers).
pub(crate) fn tune_every_shopper(data: &TrainData, cfg: &TrainConfig) -> TuneReport {
    tune_on(data, cfg, &|_| {}, usize::MAX)
}

fn tune_on(data: &TrainData, cfg: &TrainConfig, progress: &dyn Fn(&str), max_validation: usize) -> TuneReport {
    let started = std::time::Instant::now();
    let (train, held) = split_last_basket(data, max_validation);
    progress(&format!("validation: {} shoppers hold out their last basket", held.len()));
    if held.is_empty() {
        return TuneReport {
            params: cfg.params.clone(),
            weights: default_weights(),
            recall20: 0.0,
            ndcg20: 0.0,
            shoppers: 0,
            evaluations: 0,
            seconds: 0.0,
        };
    }
    let mut params = cfg.params.clone();
    let mut model = Model::train(&train, &params, default_weights());
    let mut weights = default_weights();
    let mut evaluations = 0usize;
    let mut best = (f64::MIN, 0.0, 0.0);
    let mut cases = build_cases(&model, &held);
    // Stage 1: every weight, twice round, at the default shape.
    for _ in 0..2 {
        for f in [F_TRENDING, F_POPULAR, F_KNN, F_EASE, F_SESSION, F_REPEAT, F_DUE] {
            ascend(&cases, &mut weights, f, &mut best, &mut evaluations);
        }
    }
    progress(&format!("weights at default shape: recall@20 {:.4}, ndcg@20 {:.4}", best.1, best.2));
    // Stage 2: shape parameters (popularity half-life; personal decay and shrink), re-fitting the
    // trending weight at each.
    let mut best_shape = (params.half_life, params.personal_decay, params.personal_shrink);
    for &hl in &cfg.half_lives {
        model.set_popularity(Popularity::count(&train, hl));
        for &decay in &cfg.decays {
            for &shrink in &cfg.shrinks {
                model.params.half_life = hl;
                model.params.personal_decay = decay;
                model.params.personal_shrink = shrink;
                let c = build_cases(&model, &held);
                let mut w = weights;
                let mut b = (f64::MIN, 0.0, 0.0);
                ascend(&c, &mut w, F_TRENDING, &mut b, &mut evaluations);
                if b.0 > best.0 {
                    best = b;
                    weights = w;
                    best_shape = (hl, decay, shrink);
                    cases = c;
                }
            }
        }
    }
    (params.half_life, params.personal_decay, params.personal_shrink) = best_shape;
    progress(&format!(
        "shape: half-life {}, personal decay {}, shrink {}: recall@20 {:.4}, ndcg@20 {:.4}",
        params.half_life, params.personal_decay, params.personal_shrink, best.1, best.2
    ));
    // Stage 3: one more round of every weight at the chosen shape.
    for f in [F_TRENDING, F_POPULAR, F_KNN, F_EASE, F_SESSION, F_REPEAT, F_DUE] {
        ascend(&cases, &mut weights, f, &mut best, &mut evaluations);
    }
    if !cases.iter().any(|c| c.cands.feats.iter().any(|f| f[F_SESSION] > 0.0)) && !data.sessions.is_empty() {
        // Nobody held out had views before their basket, so validation cannot weigh the session signal;
        // browsing still counts, at a prior weight, rather than not at all.
        weights[F_SESSION] = SESSION_PRIOR;
    }
    progress(&format!("blend: {:?} → recall@20 {:.4}, ndcg@20 {:.4}", weights, best.1, best.2));
    TuneReport {
        params,
        weights,
        recall20: best.1,
        ndcg20: best.2,
        shoppers: held.len(),
        evaluations,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// The starting blend: personal frequency, a little trending popularity.
pub fn default_weights() -> Weights {
    let mut w = [0.0; NF];
    w[F_PERSONAL] = 1.0;
    w[F_TRENDING] = 0.2;
    w[F_KNN] = 0.05;
    w
}

/// The history without each shopper's last basket, and the held-out (profile, basket) pairs. "Now" for
/// validation is the latest held-out basket's time.
fn split_last_basket(data: &TrainData, max_validation: usize) -> (TrainData, Vec<(Profile, Vec<u32>)>) {
    let mut train = TrainData {
        n_items: data.n_items,
        n_locations: data.n_locations,
        shoppers: Vec::with_capacity(data.shoppers.len()),
        sessions: data.sessions.clone(),
        now: i64::MIN,
    };
    let eligible = data.shoppers.iter().filter(|s| s.baskets.len() >= 2).count();
    let stride = eligible.div_ceil(max_validation.max(1)).max(1);
    let mut held = Vec::new();
    let mut k = 0usize;
    for s in &data.shoppers {
        if s.baskets.len() < 2 {
            train.shoppers.push(s.clone());
            continue;
        }
        let mut p = s.clone();
        let last = p.baskets.pop().expect("two baskets");
        // Only what was viewed before the held-out basket.
        if p.view_times.len() == p.recent_views.len() {
            let keep: Vec<(u32, i64)> =
                p.recent_views.iter().copied().zip(p.view_times.iter().copied()).filter(|(_, t)| *t < last.t).collect();
            p.recent_views = keep.iter().map(|x| x.0).collect();
            p.view_times = keep.iter().map(|x| x.1).collect();
        } else {
            p.recent_views.clear();
            p.view_times.clear();
        }
        train.now = train.now.max(last.t);
        let mut truth = last.items.clone();
        truth.sort_unstable();
        truth.dedup();
        if k.is_multiple_of(stride) {
            held.push((p.clone(), truth));
        }
        k += 1;
        train.shoppers.push(p);
    }
    if train.now == i64::MIN {
        train.now = data.now;
    }
    (train, held)
}

/// Each held-out shopper's candidates, cut to the strongest few per signal (any item that can reach a
/// top 20 under a non-negative blend is, in practice, near the top of at least one signal).
fn build_cases(model: &Model, held: &[(Profile, Vec<u32>)]) -> Vec<Case> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 8);
    let chunk = held.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = held
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let mut scratch = Scratch::new(model.n_items);
                    part.iter()
                        .map(|(p, truth)| {
                            let c = model.candidates(p, p.baskets.last().and_then(|b| b.location), &mut scratch);
                            Case { cands: prune(c), truth: truth.clone() }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("validation worker panicked")).collect()
    })
}

fn prune(c: Candidates) -> Candidates {
    let n = c.items.len();
    if n <= PER_SIGNAL * 2 {
        return c;
    }
    let mut keep = vec![false; n];
    let mut idx: Vec<usize> = (0..n).collect();
    for f in 0..NF {
        if idx.len() > PER_SIGNAL {
            idx.select_nth_unstable_by(PER_SIGNAL, |a, b| c.feats[*b][f].total_cmp(&c.feats[*a][f]));
        }
        for &i in idx.iter().take(PER_SIGNAL) {
            if c.feats[i][f] > 0.0 {
                keep[i] = true;
            }
        }
    }
    let mut out = Candidates { items: Vec::new(), feats: Vec::new(), sources: Vec::new(), times: Vec::new() };
    for i in (0..n).filter(|&i| keep[i]) {
        out.items.push(c.items[i]);
        out.feats.push(c.feats[i]);
    }
    out
}

/// Tries every grid value for one weight, keeping the best.
fn ascend(cases: &[Case], weights: &mut Weights, f: usize, best: &mut (f64, f64, f64), evaluations: &mut usize) {
    for &v in &GRID {
        let mut w = *weights;
        w[f] = v;
        let (r, n) = evaluate(cases, &w);
        *evaluations += 1;
        if r + n > best.0 + 1e-9 {
            *best = (r + n, r, n);
            *weights = w;
        }
    }
}

/// Mean Recall@20 and NDCG@20 of a blend over the cached cases (split over the cores).
fn evaluate(cases: &[Case], w: &Weights) -> (f64, f64) {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 8);
    let chunk = cases.len().div_ceil(threads).max(1);
    let (r, n) = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let mut scored: Vec<(f32, u32)> = Vec::new();
                    let mut top: Vec<u32> = Vec::with_capacity(20);
                    let (mut r, mut n) = (0f64, 0f64);
                    for c in part {
                        scored.clear();
                        scored.extend(c.cands.items.iter().zip(&c.cands.feats).map(|(&i, f)| {
                            let s: f32 = (0..NF).map(|k| w[k] * f[k]).sum::<f32>() + 1e-4 * f[F_POPULAR];
                            (s, i)
                        }));
                        let k = 20.min(scored.len());
                        if k < scored.len() && k > 0 {
                            scored.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                        }
                        scored[..k].sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                        top.clear();
                        top.extend(scored[..k].iter().map(|x| x.1));
                        r += recall_at(&top, &c.truth, 20);
                        n += ndcg_at(&top, &c.truth, 20);
                    }
                    (r, n)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("evaluation worker panicked"))
            .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1))
    });
    let m = cases.len().max(1) as f64;
    (r / m, n / m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Basket;

    #[test]
    fn tuning_finds_that_these_shoppers_repeat() {
        // Every shopper buys "their" item each visit plus a random other: personal frequency must win.
        let mut shoppers = Vec::new();
        let mut x = 7u64;
        for u in 0..300u32 {
            let mine = u % 50;
            let baskets = (0..5)
                .map(|t| {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    Basket { t, items: vec![mine, 50 + (x >> 33) as u32 % 50], location: None }
                })
                .collect();
            shoppers.push(Profile { baskets, ..Default::default() });
        }
        let data = TrainData { n_items: 100, n_locations: 0, shoppers, sessions: vec![], now: 5 };
        let cfg =
            TrainConfig { half_lives: vec![1.0, 4.0], decays: vec![1.0], shrinks: vec![1.0], ..TrainConfig::default() };
        let report = tune(&data, &cfg, &|_| {});
        assert_eq!(report.shoppers, 300);
        assert!(report.recall20 > 0.5, "{report:?}");
        assert!(report.weights[F_PERSONAL] > 0.0);
    }

    #[test]
    fn tuning_learns_what_browsing_predicts() {
        // Each shopper looked at item v before their last visit and then bought v's companion (v + 50);
        // earlier visits are noise. Sessions show v and v + 50 viewed together.
        let mut shoppers = Vec::new();
        let mut x = 11u64;
        let mut rnd = || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) as u32
        };
        for u in 0..400u32 {
            let v = u % 50;
            let mut baskets: Vec<Basket> =
                (0..3).map(|t| Basket { t: t * 10, items: vec![100 + rnd() % 50], location: None }).collect();
            baskets.push(Basket { t: 40, items: vec![v + 50], location: None });
            shoppers.push(Profile { baskets, recent_views: vec![v], view_times: vec![35] });
        }
        let sessions: Vec<Vec<u32>> = (0..50u32).flat_map(|v| std::iter::repeat_n(vec![v, v + 50], 5)).collect();
        let data = TrainData { n_items: 150, n_locations: 0, shoppers, sessions, now: 41 };
        let cfg =
            TrainConfig { half_lives: vec![10.0], decays: vec![1.0], shrinks: vec![2.0], ..TrainConfig::default() };
        let report = tune(&data, &cfg, &|_| {});
        assert!(report.weights[F_SESSION] > 0.0, "{report:?}");
        assert!(report.recall20 > 0.9, "{report:?}");

        // Views after the held-out basket are not shown to it: then validation has nothing to judge the
        // session signal by and it gets the prior.
        let mut late = data.clone();
        for s in &mut late.shoppers {
            s.view_times = vec![45];
        }
        let report = tune(&late, &cfg, &|_| {});
        assert_eq!(report.weights[F_SESSION], SESSION_PRIOR);
    }
}
