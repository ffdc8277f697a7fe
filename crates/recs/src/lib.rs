//! Recommendation models trained on one shopping history (purchases of every channel and online views):
//! popularity (all-time and trending), personal repeat frequency and rebuying cycle, item-item
//! co-occurrence, EASE, and session similarity, blended with weights picked by offline evaluation on a
//! held-out last basket. Plain data in (dense item indices), ranked items out; it knows no database, HTTP
//! or product ids.

pub mod ease;
pub mod eval;
pub mod metrics;
pub mod sparse;
pub mod tifu;
mod tune;

use serde::{Deserialize, Serialize};
pub use sparse::Neighbors;
pub(crate) use tune::tune_every_shopper;
pub use tune::{tune, TuneReport};

/// One purchase: the items of an order (any channel), at time `t` (milliseconds in the product; any
/// monotonic unit works as long as `TrainConfig::half_lives` uses the same), optionally at a location.
#[derive(Clone, Debug, PartialEq)]
pub struct Basket {
    pub t: i64,
    pub items: Vec<u32>,
    pub location: Option<u32>,
}

/// What is known about one shopper: purchases in time order, and the most recent product views (oldest
/// first).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Profile {
    pub baskets: Vec<Basket>,
    pub recent_views: Vec<u32>,
    /// When each of `recent_views` happened (same length), if known: tuning then shows a held-out
    /// basket only the views from before it.
    pub view_times: Vec<i64>,
}

/// Everything training reads.
#[derive(Clone, Debug, Default)]
pub struct TrainData {
    pub n_items: usize,
    pub n_locations: usize,
    pub shoppers: Vec<Profile>,
    /// Browsing sessions (items viewed in one visit, in order); baskets serve as sessions when there are
    /// no views.
    pub sessions: Vec<Vec<u32>>,
    /// The time recommendations are made for (trending popularity decays towards it).
    pub now: i64,
}

/// Signals that a recommendation score blends.
pub const FEATURES: [&str; 8] = ["personal", "trending", "popular", "co_purchase", "ease", "session", "repeat", "due"];
pub const F_PERSONAL: usize = 0;
pub const F_TRENDING: usize = 1;
pub const F_POPULAR: usize = 2;
pub const F_KNN: usize = 3;
pub const F_EASE: usize = 4;
pub const F_SESSION: usize = 5;
/// Personal frequency times the item's repeat rate: what this shopper buys that people rebuy.
pub const F_REPEAT: usize = 6;
/// Personal frequency times how close the shopper is to their own rebuying cycle for the item: baskets
/// since they last bought it against their mean gap between buying it (milk every second visit is due
/// today if it was not in the last basket).
pub const F_DUE: usize = 7;
pub const NF: usize = 8;

/// Weights of the blend, indexed like [`FEATURES`].
pub type Weights = [f32; NF];

/// Shape parameters of the signals (the ones tuning searches are `personal_decay`, `personal_shrink` and
/// `half_life`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Params {
    /// Weight of a basket `a` baskets before the newest is `personal_decay^a`.
    pub personal_decay: f32,
    /// Personal frequency = weighted baskets with the item / (weighted baskets + shrink): a shopper with
    /// three visits is less certain than one with thirty.
    pub personal_shrink: f32,
    /// Trending popularity halves every `half_life` time units.
    pub half_life: f64,
    pub knn_top_k: usize,
    pub knn_shrink: f32,
    pub ease_lambda: f32,
    pub ease_max_items: usize,
    pub ease_top_k: usize,
    /// Neighbours kept per item in the session model (0: not trained).
    pub session_top_k: usize,
}

impl Params {
    /// These parameters without the parts a blend gives no weight (they are not trained). The session
    /// model can be kept regardless: product pages use it through [`Model::similar`].
    pub fn pruned_for(&self, weights: &Weights, keep_session: bool) -> Params {
        let mut p = self.clone();
        if weights[F_EASE] == 0.0 {
            p.ease_max_items = 0;
        }
        if weights[F_SESSION] == 0.0 && !keep_session {
            p.session_top_k = 0;
        }
        p
    }
}

impl Default for Params {
    fn default() -> Self {
        Params {
            personal_decay: 1.0,
            personal_shrink: 5.0,
            half_life: 7.0 * 24.0 * 3600.0 * 1000.0,
            knn_top_k: 50,
            knn_shrink: 10.0,
            ease_lambda: 100.0,
            ease_max_items: 700,
            ease_top_k: 50,
            session_top_k: 50,
        }
    }
}

/// What training may try.
#[derive(Clone, Debug)]
pub struct TrainConfig {
    pub params: Params,
    pub half_lives: Vec<f64>,
    pub decays: Vec<f32>,
    pub shrinks: Vec<f32>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        let day = 24.0 * 3600.0 * 1000.0;
        TrainConfig {
            params: Params::default(),
            half_lives: vec![day, 7.0 * day, 30.0 * day],
            decays: vec![1.0, 0.8],
            shrinks: vec![2.0, 5.0, 10.0],
        }
    }
}

/// A trained model: immutable, shared by every request until the next version replaces it whole.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Model {
    pub n_items: usize,
    pub params: Params,
    /// A model stored before a signal was added has fewer weights: the new signals get weight 0.
    #[serde(deserialize_with = "weights_compat")]
    pub weights: Weights,
    /// All-time popularity (distinct buyers), scaled to 0..=1.
    pub popular: Vec<f32>,
    /// Time-decayed popularity, scaled to 0..=1.
    pub trending: Vec<f32>,
    /// Share of an item's buyers who bought it in two or more baskets (groceries repeat; a TV does not).
    pub repeat_rate: Vec<f32>,
    /// Trending items per location, strongest first (index = location).
    pub store_trending: Vec<Vec<(u32, f32)>>,
    pub co_purchase: Neighbors,
    pub ease: Neighbors,
    pub session: Neighbors,
    /// The strongest non-personal candidates, considered for every shopper.
    pub head: Vec<u32>,
}

fn weights_compat<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Weights, D::Error> {
    let v: Vec<f32> = Vec::deserialize(d)?;
    if v.len() > NF {
        return Err(serde::de::Error::custom(format!(
            "{} weights, but this version knows {NF} signals (a model from a newer version?)",
            v.len()
        )));
    }
    let mut w = [0.0; NF];
    w[..v.len()].copy_from_slice(&v);
    Ok(w)
}

/// Why an item is recommended: the signal that contributed most, with the item it came from.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// The shopper buys it again and again.
    BuyAgain { times: u32 },
    /// Bought together with something the shopper bought.
    BoughtWith { item: u32 },
    /// Viewed together with something the shopper just looked at.
    ViewedWith { item: u32 },
    /// Selling well right now (at this store when one is given).
    Trending,
    /// A best seller.
    Popular,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scored {
    pub item: u32,
    pub score: f32,
    pub reason: Reason,
}

/// Per-thread scratch space so that scoring allocates nothing proportional to the catalog per request.
pub struct Scratch {
    feats: Vec<[f32; NF]>,
    /// Best co-purchase source and best session source of each item (u32::MAX = none), with the size of
    /// that single contribution.
    source: Vec<(u32, u32)>,
    source_w: Vec<(f32, f32)>,
    times: Vec<u32>,
    /// The first and the last basket (index) holding each personal item.
    span: Vec<(u32, u32)>,
    marked: Vec<bool>,
    touched: Vec<u32>,
}

impl Scratch {
    pub fn new(n_items: usize) -> Self {
        Scratch {
            feats: vec![[0.0; NF]; n_items],
            source: vec![(u32::MAX, u32::MAX); n_items],
            source_w: vec![(0.0, 0.0); n_items],
            times: vec![0; n_items],
            span: vec![(0, 0); n_items],
            marked: vec![false; n_items],
            touched: Vec::new(),
        }
    }

    fn touch(&mut self, i: u32) -> &mut [f32; NF] {
        if !self.marked[i as usize] {
            self.marked[i as usize] = true;
            self.touched.push(i);
        }
        &mut self.feats[i as usize]
    }

    fn clear(&mut self) {
        for &i in &self.touched {
            let i = i as usize;
            self.feats[i] = [0.0; NF];
            self.source[i] = (u32::MAX, u32::MAX);
            self.source_w[i] = (0.0, 0.0);
            self.times[i] = 0;
            self.span[i] = (0, 0);
            self.marked[i] = false;
        }
        self.touched.clear();
    }
}

/// Candidate items of one shopper with their raw signals (used by serving and by tuning).
pub(crate) struct Candidates {
    pub items: Vec<u32>,
    pub feats: Vec<[f32; NF]>,
    pub sources: Vec<(u32, u32)>,
    pub times: Vec<u32>,
}

impl Model {
    /// Trains every signal with the given parameters and weights.
    pub fn train(data: &TrainData, params: &Params, weights: Weights) -> Model {
        let n = data.n_items;
        let pop = Popularity::count(data, params.half_life);
        let item_sets = item_sets(data);
        let co_purchase = sparse::cosine_neighbors(n, &item_sets, params.knn_shrink, params.knn_top_k, 500);
        let ease = if params.ease_max_items > 0 {
            ease::train(n, &item_sets, params.ease_lambda, params.ease_max_items, params.ease_top_k)
        } else {
            Neighbors::empty(n)
        };
        let session = if params.session_top_k == 0 {
            Neighbors::empty(n)
        } else if data.sessions.is_empty() {
            let baskets: Vec<Vec<u32>> =
                data.shoppers.iter().flat_map(|s| s.baskets.iter().map(|b| b.items.clone())).collect();
            sparse::cosine_neighbors(n, &baskets, params.knn_shrink, params.session_top_k, 100)
        } else {
            sparse::cosine_neighbors(n, &data.sessions, params.knn_shrink, params.session_top_k, 100)
        };
        let mut model = Model {
            n_items: n,
            params: params.clone(),
            weights,
            popular: pop.popular,
            trending: pop.trending,
            repeat_rate: pop.repeat_rate,
            store_trending: pop.store_trending,
            co_purchase,
            ease,
            session,
            head: Vec::new(),
        };
        model.rebuild_head();
        model
    }

    /// The shared candidates: the 200 most trending and the 200 most popular items.
    pub fn rebuild_head(&mut self) {
        let top = |v: &[f32]| -> Vec<u32> {
            let mut idx: Vec<u32> = (0..v.len() as u32).filter(|&i| v[i as usize] > 0.0).collect();
            idx.sort_unstable_by(|a, b| v[*b as usize].total_cmp(&v[*a as usize]).then(a.cmp(b)));
            idx.truncate(200);
            idx
        };
        let mut head = top(&self.trending);
        for i in top(&self.popular) {
            if !head.contains(&i) {
                head.push(i);
            }
        }
        self.head = head;
    }

    /// Replaces the time-dependent popularity (tuning tries several half-lives on one trained model).
    pub(crate) fn set_popularity(&mut self, pop: Popularity) {
        self.popular = pop.popular;
        self.trending = pop.trending;
        self.repeat_rate = pop.repeat_rate;
        self.store_trending = pop.store_trending;
        self.rebuild_head();
    }

    /// The raw signals of every candidate for one shopper (at an optional location).
    pub(crate) fn candidates(&self, p: &Profile, location: Option<u32>, scratch: &mut Scratch) -> Candidates {
        let prm = &self.params;
        scratch.clear();
        // Personal frequency with per-basket decay.
        let nb = p.baskets.len();
        let mut total_w = 0f32;
        for (k, b) in p.baskets.iter().enumerate() {
            let w = prm.personal_decay.powi((nb - 1 - k) as i32);
            total_w += w;
            let mut seen_here: Vec<u32> = Vec::with_capacity(b.items.len());
            for &i in &b.items {
                if (i as usize) < self.n_items && !seen_here.contains(&i) {
                    seen_here.push(i);
                    scratch.touch(i)[F_PERSONAL] += w;
                    let t = &mut scratch.times[i as usize];
                    if *t == 0 {
                        scratch.span[i as usize].0 = k as u32;
                    }
                    *t += 1;
                    scratch.span[i as usize].1 = k as u32;
                }
            }
        }
        let personal_items: Vec<u32> = scratch.touched.clone();
        let denom = total_w + prm.personal_shrink;
        for &i in &personal_items {
            scratch.feats[i as usize][F_PERSONAL] /= denom.max(1e-6);
        }
        // Co-purchase and EASE from the shopper's items.
        for &j in &personal_items {
            let pj = scratch.feats[j as usize][F_PERSONAL];
            for (i, s) in self.co_purchase.row(j) {
                let v = pj * s;
                scratch.touch(i)[F_KNN] += v;
                if v > scratch.source_w[i as usize].0 {
                    scratch.source_w[i as usize].0 = v;
                    scratch.source[i as usize].0 = j;
                }
            }
            for (i, b) in self.ease.row(j) {
                scratch.touch(i)[F_EASE] += b;
            }
        }
        // Session similarity from what was just viewed (newest counts most).
        for (age, &j) in p.recent_views.iter().rev().take(10).enumerate() {
            if j as usize >= self.n_items {
                continue;
            }
            let decay = 0.8f32.powi(age as i32);
            for (i, s) in self.session.row(j) {
                let v = decay * s;
                scratch.touch(i)[F_SESSION] += v;
                if v > scratch.source_w[i as usize].1 {
                    scratch.source_w[i as usize].1 = v;
                    scratch.source[i as usize].1 = j;
                }
            }
        }
        // Shared head, and the store's own trending items.
        for &i in &self.head {
            scratch.touch(i);
        }
        // The store's own trending items; their store weight waits in the trending slot until the end.
        let store = location.and_then(|l| self.store_trending.get(l as usize)).filter(|v| !v.is_empty());
        if let Some(st) = store {
            for &(i, w) in st.iter().take(100) {
                scratch.touch(i)[F_TRENDING] = w;
            }
        }
        let mut max = [0f32; NF];
        for &i in &scratch.touched {
            let f = &scratch.feats[i as usize];
            for k in [F_KNN, F_EASE, F_SESSION] {
                max[k] = max[k].max(f[k]);
            }
        }
        let mut out = Candidates {
            items: Vec::with_capacity(scratch.touched.len()),
            feats: Vec::with_capacity(scratch.touched.len()),
            sources: Vec::new(),
            times: Vec::new(),
        };
        for &i in &scratch.touched {
            let mut f = scratch.feats[i as usize];
            for k in [F_KNN, F_EASE, F_SESSION] {
                if max[k] > 0.0 {
                    f[k] /= max[k];
                }
            }
            // At a store, "trending" means trending there, softened by the chain-wide signal.
            f[F_TRENDING] = if store.is_some() {
                0.5 * f[F_TRENDING] + 0.5 * self.trending[i as usize]
            } else {
                self.trending[i as usize]
            };
            f[F_POPULAR] = self.popular[i as usize];
            f[F_REPEAT] = f[F_PERSONAL] * self.repeat_rate[i as usize];
            let times = scratch.times[i as usize];
            if times >= 2 {
                let (first, last) = scratch.span[i as usize];
                let gap = (last - first) as f32 / (times - 1) as f32;
                let since = (nb as u32 - last) as f32;
                f[F_DUE] = f[F_PERSONAL] * (since / gap).min(gap / since);
            }
            out.items.push(i);
            out.feats.push(f);
            out.sources.push(scratch.source[i as usize]);
            out.times.push(scratch.times[i as usize]);
        }
        scratch.clear();
        out
    }

    /// Ranks items for one shopper: the `limit` best, skipping items `exclude` rejects (already in the
    /// cart, out of stock, ...). Callers wanting room for their own filters ask for more than they show.
    pub fn recommend(
        &self,
        p: &Profile,
        location: Option<u32>,
        limit: usize,
        scratch: &mut Scratch,
        exclude: &dyn Fn(u32) -> bool,
    ) -> Vec<Scored> {
        let c = self.candidates(p, location, scratch);
        let mut scored: Vec<Scored> = c
            .items
            .iter()
            .zip(&c.feats)
            .zip(c.sources.iter().zip(&c.times))
            .filter(|((i, _), _)| !exclude(**i))
            .map(|((&item, f), (&src, &times))| {
                let contrib: Vec<f32> = (0..NF).map(|k| self.weights[k] * f[k]).collect();
                let score: f32 = contrib.iter().sum::<f32>() + 1e-4 * f[F_POPULAR];
                let top = (0..NF).max_by(|a, b| contrib[*a].total_cmp(&contrib[*b])).unwrap_or(F_POPULAR);
                let reason = match top {
                    F_PERSONAL | F_REPEAT | F_DUE if times > 0 && contrib[top] > 0.0 => Reason::BuyAgain { times },
                    F_KNN | F_EASE if src.0 != u32::MAX && contrib[top] > 0.0 => Reason::BoughtWith { item: src.0 },
                    F_SESSION if src.1 != u32::MAX && contrib[top] > 0.0 => Reason::ViewedWith { item: src.1 },
                    F_TRENDING if contrib[top] > 0.0 => Reason::Trending,
                    _ => Reason::Popular,
                };
                Scored { item, score, reason }
            })
            .collect();
        let take = limit.min(scored.len());
        if take < scored.len() && take > 0 {
            scored.select_nth_unstable_by(take - 1, |a, b| b.score.total_cmp(&a.score).then(a.item.cmp(&b.item)));
            scored.truncate(take);
        }
        scored.sort_unstable_by(|a, b| b.score.total_cmp(&a.score).then(a.item.cmp(&b.item)));
        scored.truncate(limit);
        scored
    }

    /// Items similar to one product: bought with it, viewed with it (for a product page), each labelled
    /// by the signal that contributed more.
    pub fn similar(&self, item: u32, limit: usize) -> Vec<Scored> {
        let mut acc: std::collections::HashMap<u32, (f32, f32)> = std::collections::HashMap::new();
        for (i, s) in self.co_purchase.row(item) {
            acc.entry(i).or_default().0 += s;
        }
        for (i, s) in self.session.row(item) {
            acc.entry(i).or_default().1 += 0.5 * s;
        }
        let mut v: Vec<Scored> = acc
            .into_iter()
            .filter(|(i, _)| *i != item)
            .map(|(i, (bought, viewed))| Scored {
                item: i,
                score: bought + viewed,
                reason: if bought >= viewed { Reason::BoughtWith { item } } else { Reason::ViewedWith { item } },
            })
            .collect();
        v.sort_unstable_by(|a, b| b.score.total_cmp(&a.score).then(a.item.cmp(&b.item)));
        v.truncate(limit);
        v
    }
}

/// Each shopper's distinct purchased items.
pub(crate) fn item_sets(data: &TrainData) -> Vec<Vec<u32>> {
    let mut seen = vec![false; data.n_items];
    data.shoppers
        .iter()
        .map(|s| {
            let mut set = Vec::new();
            for &i in s.baskets.iter().flat_map(|b| b.items.iter()) {
                if (i as usize) < data.n_items && !seen[i as usize] {
                    seen[i as usize] = true;
                    set.push(i);
                }
            }
            for &i in &set {
                seen[i as usize] = false;
            }
            set
        })
        .collect()
}

/// Popularity signals of one history.
pub(crate) struct Popularity {
    popular: Vec<f32>,
    trending: Vec<f32>,
    repeat_rate: Vec<f32>,
    store_trending: Vec<Vec<(u32, f32)>>,
}

impl Popularity {
    pub(crate) fn count(data: &TrainData, half_life: f64) -> Popularity {
        let n = data.n_items;
        let mut buyers = vec![0u32; n];
        let mut repeaters = vec![0u32; n];
        let mut trending = vec![0f64; n];
        let mut store_trending: Vec<Vec<f64>> = vec![Vec::new(); data.n_locations];
        let mut count = vec![0u32; n];
        let mut set: Vec<u32> = Vec::new();
        for s in &data.shoppers {
            set.clear();
            for b in &s.baskets {
                let w = 0.5f64.powf(((data.now - b.t).max(0) as f64) / half_life.max(1e-9));
                let mut in_basket: Vec<u32> = Vec::with_capacity(b.items.len());
                for &i in &b.items {
                    if (i as usize) >= n || in_basket.contains(&i) {
                        continue;
                    }
                    in_basket.push(i);
                    let iu = i as usize;
                    if count[iu] == 0 {
                        set.push(i);
                    }
                    count[iu] += 1;
                    trending[iu] += w;
                    if let Some(loc) = b.location.map(|l| l as usize).filter(|l| *l < data.n_locations) {
                        let st = &mut store_trending[loc];
                        if st.is_empty() {
                            st.resize(n, 0.0);
                        }
                        st[iu] += w;
                    }
                }
            }
            for &i in &set {
                buyers[i as usize] += 1;
                if count[i as usize] >= 2 {
                    repeaters[i as usize] += 1;
                }
                count[i as usize] = 0;
            }
        }
        let scale = |v: Vec<f64>| -> Vec<f32> {
            let m = v.iter().cloned().fold(0.0, f64::max);
            v.into_iter().map(|x| if m > 0.0 { (x / m) as f32 } else { 0.0 }).collect()
        };
        let popular = scale(buyers.iter().map(|&b| b as f64).collect());
        let repeat_rate =
            buyers.iter().zip(&repeaters).map(|(&b, &r)| if b > 0 { r as f32 / b as f32 } else { 0.0 }).collect();
        let store_trending = store_trending
            .into_iter()
            .map(|v| {
                let mut top: Vec<(u32, f32)> =
                    scale(v).into_iter().enumerate().filter(|(_, w)| *w > 0.0).map(|(i, w)| (i as u32, w)).collect();
                top.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                top.truncate(200);
                top
            })
            .collect();
        Popularity { popular, trending: scale(trending), repeat_rate, store_trending }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basket(t: i64, items: &[u32]) -> Basket {
        Basket { t, items: items.to_vec(), location: Some(0) }
    }

    fn toy() -> TrainData {
        // Item 0 (milk) is bought by everyone again and again; 1 and 2 go together; 3 is trending lately.
        let mut shoppers = Vec::new();
        for u in 0..30 {
            let mut b = vec![basket(1, &[0, 1, 2]), basket(2, &[0])];
            if u % 3 == 0 {
                b.push(basket(10, &[3]));
            }
            shoppers.push(Profile { baskets: b, ..Default::default() });
        }
        TrainData { n_items: 5, n_locations: 1, shoppers, sessions: vec![], now: 10 }
    }

    #[test]
    fn repeat_buyer_gets_the_usual_first_and_companions_after() {
        let data = toy();
        let m = Model::train(
            &data,
            &Params { half_life: 2.0, ease_max_items: 10, personal_shrink: 1.0, ..Params::default() },
            [1.0, 0.2, 0.1, 0.2, 0.2, 0.3, 0.0, 0.0],
        );
        let me = Profile { baskets: vec![basket(5, &[0, 1]), basket(6, &[0])], ..Default::default() };
        let mut s = Scratch::new(m.n_items);
        let recs = m.recommend(&me, None, 5, &mut s, &|_| false);
        assert_eq!(recs[0].item, 0, "{recs:?}");
        assert_eq!(recs[0].reason, Reason::BuyAgain { times: 2 });
        let pos2 = recs.iter().position(|r| r.item == 2).expect("companion recommended");
        assert!(
            matches!(recs[pos2].reason, Reason::BoughtWith { item: 1 } | Reason::BoughtWith { item: 0 }),
            "{:?}",
            recs[pos2]
        );
        assert!(recs.iter().all(|r| r.item != 4), "nobody ever bought item 4");
        assert!(m.repeat_rate[0] > 0.99 && m.repeat_rate[3] == 0.0);
    }

    #[test]
    fn exclusions_and_cold_start() {
        let m = Model::train(
            &toy(),
            &Params { half_life: 2.0, ..Params::default() },
            [1.0, 0.5, 0.1, 0.3, 0.0, 0.3, 0.0, 0.0],
        );
        let mut s = Scratch::new(m.n_items);
        let cold = m.recommend(&Profile::default(), None, 3, &mut s, &|i| i == 0);
        assert!(!cold.is_empty());
        assert!(cold.iter().all(|r| r.item != 0));
        assert_eq!(cold[0].item, 3, "a stranger gets what is trending: {cold:?}");
        assert_eq!(cold[0].reason, Reason::Trending);
        // Scratch is left clean: the same call twice gives the same answer.
        assert_eq!(m.recommend(&Profile::default(), None, 3, &mut s, &|i| i == 0), cold);
    }

    #[test]
    fn views_pull_in_what_is_viewed_together() {
        let mut data = toy();
        data.sessions = vec![vec![1, 4]; 10];
        let m = Model::train(&data, &Params::default(), [1.0, 0.1, 0.1, 0.1, 0.0, 1.0, 0.0, 0.0]);
        let p = Profile { recent_views: vec![1], ..Default::default() };
        let mut s = Scratch::new(m.n_items);
        let recs = m.recommend(&p, None, 3, &mut s, &|i| i == 1);
        assert_eq!(recs[0].item, 4, "{recs:?}");
        assert_eq!(recs[0].reason, Reason::ViewedWith { item: 1 });
    }

    #[test]
    fn model_round_trips_through_serde() {
        let m = Model::train(&toy(), &Params::default(), [1.0; NF]);
        let back: Model = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        // A model stored before the due signal existed (seven weights) still loads, the new signal off.
        let mut old: serde_json::Value = serde_json::to_value(&m).unwrap();
        old["weights"] = serde_json::json!([1.0, 0.5, 0.0, 0.1, 0.0, 0.0, 2.0]);
        let back: Model = serde_json::from_value(old.clone()).unwrap();
        assert_eq!(back.weights, [1.0, 0.5, 0.0, 0.1, 0.0, 0.0, 2.0, 0.0]);
        old["weights"] = serde_json::json!(vec![1.0; NF + 1]);
        let e = serde_json::from_value::<Model>(old).unwrap_err().to_string();
        assert!(e.contains("newer version"), "{e}");
    }

    #[test]
    fn an_item_comes_due_on_the_shoppers_own_cycle() {
        // Two items bought equally often (four times in eight visits), but the shopper buys milk (0)
        // every second visit and bought it last time, coffee (1) every second visit and did not: coffee
        // is due now, milk is not. Frequency alone ties them; the due signal orders them.
        let mut w = [0.0; NF];
        w[F_DUE] = 1.0;
        let m = Model::train(&toy(), &Params { personal_shrink: 0.0, ..Params::default() }, w);
        let baskets = (0..8).map(|k| basket(k, if k % 2 == 1 { &[0] } else { &[1] })).collect::<Vec<_>>();
        let me = Profile { baskets, ..Default::default() };
        let mut s = Scratch::new(m.n_items);
        let c = m.candidates(&me, None, &mut s);
        let due = |i: u32| c.feats[c.items.iter().position(|&x| x == i).unwrap()][F_DUE];
        let freq = |i: u32| c.feats[c.items.iter().position(|&x| x == i).unwrap()][F_PERSONAL];
        assert!((freq(0) - freq(1)).abs() < 1e-6);
        // Coffee: gap 2, last bought two visits ago → exactly on its cycle. Milk: gap 2, bought in the
        // newest basket → half-way.
        assert!((due(1) - freq(1)).abs() < 1e-6, "{} {}", due(1), freq(1));
        assert!((due(0) - 0.5 * freq(0)).abs() < 1e-6, "{} {}", due(0), freq(0));
        let recs = m.recommend(&me, None, 2, &mut s, &|_| false);
        assert_eq!(recs[0].item, 1, "{recs:?}");
        assert_eq!(recs[0].reason, Reason::BuyAgain { times: 4 });
        // Bought once: no cycle to be on.
        let once = Profile { baskets: vec![basket(0, &[2])], ..Default::default() };
        let c = m.candidates(&once, None, &mut s);
        assert_eq!(c.feats[c.items.iter().position(|&x| x == 2).unwrap()][F_DUE], 0.0);
    }
}
