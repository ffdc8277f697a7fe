//! Product identification of one shelf event: which products and how many units explain a set
//! of settled plate deltas. Pure functions over the layout, the live planogram and what shoppers
//! hold; attribution (who did it) lives in the engine.
//!
//! # Model
//! For a cluster of adjacent changed plates with deltas Δₚ (g) the candidates are
//! * **picks** (negative total): home products of the changed plates and of their direct
//!   neighbours, plus items known to be misplaced on those plates;
//! * **put-backs** (positive total): products held by the candidate shoppers (an item can only
//!   come back from a cart), whatever their home plates are.
//!
//! Hypotheses:
//! * `H1(c)`: the whole delta is `q` units of `c`, `q = round(ΣΔ / w_c)`. The residual
//!   `r = ΣΔ − q·w_c` is scored by a Gaussian with
//!   `σ_r² = residual_floor_g² + Σ σₚ² + (unit_weight_cv · |q| · w_c)²` (settle noise per plate
//!   plus the unit-to-unit spread of real items, ~1 %). The **plate split** adds
//!   `ln(share_c + 0.02)`, where `share_c` is the fraction of Σ|Δₚ| that sits on plates where `c`
//!   stands: this separates near-equal neighbours (a third of same-shelf pairs weigh within
//!   10 g of each other) by *where* the weight left. A put-back onto plates that are not the
//!   product's home gets `ln(misplaced_prior)` instead (misplaced returns are legal but rarer).
//! * `H2`: the cluster spans several home products and each part is its own pick (two shoppers
//!   picking neighbouring products at once); one penalty `ln(extra_line_prior)` per extra line.
//! * `H3`: one grab took units of a product and an item known to be misplaced among them (a
//!   returned item lies on another product's plates until someone takes it, often with what they
//!   came for); the plate split is the product's own, one `ln(extra_line_prior)` for the item.
//! * `H0`: nothing was taken (vibration, drift); its residual is the total itself.
//!
//! Quantities carry a prior `ln(quantity_prior) · (|q| − 1)` so that three 40 g biscuits do not
//! beat one 120 g neighbour without evidence. Posterior probabilities are a softmax over
//! log-likelihoods; the best hypothesis' probability is the identification confidence.

use crate::model::StoreLayout;
use crate::settle::PlateChange;

/// Thresholds of the identification model.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentifyConfig {
    /// Residual noise floor (g) added to every fit.
    pub residual_floor_g: f64,
    /// Relative spread of real unit weights around the catalogue weight.
    pub unit_weight_cv: f64,
    /// Largest quantity considered in one event.
    pub max_quantity: i32,
    /// Per-extra-unit prior factor.
    pub quantity_prior: f64,
    /// Prior factor for each line beyond the first in a split hypothesis.
    pub extra_line_prior: f64,
    /// Prior factor of a put-back onto another product's plates.
    pub misplaced_prior: f64,
    /// A best fit worse than this many σ_r is "unexplained".
    pub unexplained_z: f64,
    /// Share of a single product's weight change that may sit on plates where it does not
    /// stand (items lean 5–30 % onto a neighbour's plate) before [`IdentifyConfig::lean_excess_penalty`]
    /// applies.
    pub lean_max_share: f64,
    /// Log-likelihood penalty per unit of weight share beyond `lean_max_share` on foreign plates:
    /// a product cannot explain weight that left its neighbour's plates (two products moved).
    pub lean_excess_penalty: f64,
}

impl Default for IdentifyConfig {
    fn default() -> Self {
        IdentifyConfig {
            residual_floor_g: 2.5,
            unit_weight_cv: 0.012,
            max_quantity: 8,
            quantity_prior: 0.35,
            extra_line_prior: 0.1,
            misplaced_prior: 0.2,
            unexplained_z: 4.5,
            lean_max_share: 0.35,
            lean_excess_penalty: 20.0,
        }
    }
}

/// One explanation of a cluster: cart lines (product index, units added to the cart: + pick,
/// − put-back), its log-likelihood and fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Hypothesis {
    pub lines: Vec<(u32, i32)>,
    pub log_lik: f64,
    /// Worst |residual| / σ_r among the lines (0 for a perfect fit).
    pub z: f64,
    /// Probability after normalisation over all hypotheses of the cluster.
    pub probability: f64,
    /// The lines were one grab (H3: a product and a misplaced item lying among it), so one hand.
    pub one_hand: bool,
}

/// What the identifier needs besides the cluster.
pub struct IdentifyInput<'a> {
    pub layout: &'a StoreLayout,
    /// Misplaced items per plate: (product, units).
    pub misplaced: &'a [Vec<(u32, u32)>],
    /// Products (with units) held by the candidate shoppers, for put-backs.
    pub held: &'a [u32],
    pub cfg: &'a IdentifyConfig,
}

fn sigma_r(cfg: &IdentifyConfig, plates_var: f64, q: i32, w: f64) -> f64 {
    (cfg.residual_floor_g.powi(2) + plates_var + (cfg.unit_weight_cv * q.abs() as f64 * w).powi(2)).sqrt()
}

fn fit(cfg: &IdentifyConfig, total: f64, plates_var: f64, w: f64) -> Option<(i32, f64, f64)> {
    let q = (total / w).round().clamp(-(cfg.max_quantity as f64), cfg.max_quantity as f64) as i32;
    if q == 0 {
        return None;
    }
    let s = sigma_r(cfg, plates_var, q, w);
    let r = total - q as f64 * w;
    let z = r.abs() / s;
    let ll = -0.5 * z * z - s.ln() + cfg.quantity_prior.ln() * (q.abs() - 1) as f64;
    Some((q, ll, z))
}

/// Whether product `c` stands on `plate`: its home, or misplaced items lie there.
pub fn stands_on_plate(layout: &StoreLayout, misplaced: &[Vec<(u32, u32)>], c: u32, plate: u32) -> bool {
    layout.home_product[plate as usize] == Some(c) || misplaced[plate as usize].iter().any(|&(m, n)| m == c && n > 0)
}

fn stands_on(inp: &IdentifyInput, c: u32, plate: u32) -> bool {
    stands_on_plate(inp.layout, inp.misplaced, c, plate)
}

/// All hypotheses for one cluster of adjacent changed plates, best first, probabilities set.
pub fn hypotheses(inp: &IdentifyInput, cluster: &[PlateChange]) -> Vec<Hypothesis> {
    let cfg = inp.cfg;
    let total: f64 = cluster.iter().map(|c| c.delta_g()).sum();
    let abs_sum: f64 = cluster.iter().map(|c| c.delta_g().abs()).sum::<f64>().max(1e-9);
    let plates_var: f64 = cluster.iter().map(|c| c.sigma_g * c.sigma_g).sum();
    let mut out: Vec<Hypothesis> = Vec::new();

    // H0: nothing taken.
    let s0 = sigma_r(cfg, plates_var, 0, 0.0);
    let z0 = total.abs() / s0;
    out.push(Hypothesis {
        lines: Vec::new(),
        log_lik: -0.5 * z0 * z0 - s0.ln(),
        z: z0,
        probability: 0.0,
        one_hand: false,
    });

    let share = |c: u32| -> f64 {
        cluster.iter().filter(|ch| stands_on(inp, c, ch.plate)).map(|ch| ch.delta_g().abs()).sum::<f64>() / abs_sum
    };

    if total < 0.0 {
        for c in pick_candidates(inp, cluster) {
            let w = inp.layout.product(c).unit_weight_g;
            if let Some((q, ll, z)) = fit(cfg, total, plates_var, w) {
                if q < 0 {
                    let sh = share(c);
                    let ll =
                        ll + (sh + 0.02).ln() - cfg.lean_excess_penalty * ((1.0 - sh) - cfg.lean_max_share).max(0.0);
                    out.push(Hypothesis { lines: vec![(c, -q)], log_lik: ll, z, probability: 0.0, one_hand: false });
                }
            }
        }
        if let Some(h) = split_hypothesis(inp, cluster) {
            out.push(h);
        }
        out.extend(with_misplaced_hypotheses(inp, cluster, total, plates_var));
    } else {
        let mut held: Vec<u32> = inp.held.to_vec();
        held.sort_unstable();
        held.dedup();
        for c in held {
            let w = inp.layout.product(c).unit_weight_g;
            if let Some((q, ll, z)) = fit(cfg, total, plates_var, w) {
                if q > 0 {
                    let home = cluster.iter().any(|ch| inp.layout.home_product[ch.plate as usize] == Some(c));
                    let place = if home { 0.0 } else { cfg.misplaced_prior.ln() };
                    out.push(Hypothesis {
                        lines: vec![(c, -q)],
                        log_lik: ll + place,
                        z,
                        probability: 0.0,
                        one_hand: false,
                    });
                }
            }
        }
    }
    normalise(&mut out);
    out
}

/// Home products of the cluster's plates and their direct neighbours, plus misplaced items there.
fn pick_candidates(inp: &IdentifyInput, cluster: &[PlateChange]) -> Vec<u32> {
    let l = inp.layout;
    let mut cands = Vec::new();
    for ch in cluster {
        let shelf = &l.shelves[l.plate_shelf[ch.plate as usize] as usize];
        let pos = l.plate_pos[ch.plate as usize] as usize;
        for np in [pos.wrapping_sub(1), pos, pos + 1] {
            if let Some(&p) = shelf.plates.get(np) {
                cands.extend(l.home_product[p as usize]);
            }
        }
        cands.extend(inp.misplaced[ch.plate as usize].iter().filter(|m| m.1 > 0).map(|m| m.0));
    }
    cands.sort_unstable();
    cands.dedup();
    cands
}

/// H3: one grab took units of a product together with a misplaced item lying among them (a
/// returned item sits on another product's plates until someone takes it, often along with
/// what they came for). Only items known to lie on the cluster's plates are paired, each with
/// one other candidate; one penalty `ln(extra_line_prior)` for the second line.
fn with_misplaced_hypotheses(
    inp: &IdentifyInput,
    cluster: &[PlateChange],
    total: f64,
    plates_var: f64,
) -> Vec<Hypothesis> {
    let cfg = inp.cfg;
    let mut lying: Vec<(u32, u32)> = Vec::new();
    for ch in cluster {
        for &(m, n) in inp.misplaced[ch.plate as usize].iter().filter(|m| m.1 > 0) {
            match lying.iter_mut().find(|x| x.0 == m) {
                Some(x) => x.1 += n,
                None => lying.push((m, n)),
            }
        }
    }
    let mut out = Vec::new();
    if lying.is_empty() {
        return out;
    }
    let taken = -total;
    let abs_sum: f64 = cluster.iter().map(|c| c.delta_g().abs()).sum::<f64>().max(1e-9);
    for c in pick_candidates(inp, cluster) {
        let w1 = inp.layout.product(c).unit_weight_g;
        for &(m, n) in lying.iter().filter(|x| x.0 != c) {
            let w2 = inp.layout.product(m).unit_weight_g;
            for q2 in 1..=(n as i32).min(cfg.max_quantity) {
                let rest = taken - q2 as f64 * w2;
                let q1 = (rest / w1).round();
                if q1 < 1.0 || q1 > cfg.max_quantity as f64 {
                    continue;
                }
                let q1 = q1 as i32;
                let s = (cfg.residual_floor_g.powi(2)
                    + plates_var
                    + (cfg.unit_weight_cv * q1 as f64 * w1).powi(2)
                    + (cfg.unit_weight_cv * q2 as f64 * w2).powi(2))
                .sqrt();
                let z = (rest - q1 as f64 * w1).abs() / s;
                // Where the weight left tells the product apart from its near-equal neighbours
                // as for one product (the item lay among it, on its plates).
                let sh = cluster
                    .iter()
                    .filter(|ch| inp.layout.home_product[ch.plate as usize] == Some(c))
                    .map(|ch| ch.delta_g().abs())
                    .sum::<f64>()
                    / abs_sum;
                let ll = -0.5 * z * z - s.ln()
                    + cfg.quantity_prior.ln() * (q1 - 1 + q2 - 1) as f64
                    + cfg.extra_line_prior.ln()
                    + (sh + 0.02).ln()
                    - cfg.lean_excess_penalty * ((1.0 - sh) - cfg.lean_max_share).max(0.0);
                out.push(Hypothesis {
                    lines: vec![(c, q1), (m, q2)],
                    log_lik: ll,
                    z,
                    probability: 0.0,
                    one_hand: true,
                });
            }
        }
    }
    out
}

/// H2: each home product's plates explained separately (only when ≥ 2 products changed and
/// every part is a pick).
fn split_hypothesis(inp: &IdentifyInput, cluster: &[PlateChange]) -> Option<Hypothesis> {
    let cfg = inp.cfg;
    let mut parts: Vec<(Option<u32>, f64, f64)> = Vec::new();
    for ch in cluster {
        let home = inp.layout.home_product[ch.plate as usize];
        match parts.iter_mut().find(|p| p.0 == home) {
            Some(p) => {
                p.1 += ch.delta_g();
                p.2 += ch.sigma_g * ch.sigma_g;
            }
            None => parts.push((home, ch.delta_g(), ch.sigma_g * ch.sigma_g)),
        }
    }
    if parts.iter().filter(|p| p.0.is_some()).count() < 2 {
        return None;
    }
    let mut lines = Vec::new();
    let mut ll = 0.0;
    let mut z_max: f64 = 0.0;
    for (home, delta, var) in parts {
        let fitted = home.and_then(|c| fit(cfg, delta, var, inp.layout.product(c).unit_weight_g).map(|f| (c, f)));
        match fitted {
            Some((c, (q, l, z))) if q < 0 => {
                lines.push((c, -q));
                ll += l;
                z_max = z_max.max(z);
            }
            Some((_, (_q, _, _))) => return None,
            None => {
                let s = sigma_r(cfg, var, 0, 0.0);
                let z = delta.abs() / s;
                ll += -0.5 * z * z - s.ln();
                z_max = z_max.max(z);
            }
        }
    }
    if lines.len() < 2 {
        return None;
    }
    ll += cfg.extra_line_prior.ln() * (lines.len() - 1) as f64;
    Some(Hypothesis { lines, log_lik: ll, z: z_max, probability: 0.0, one_hand: false })
}

/// Deduplicates equal hypotheses (the same lines in as many hands, keeping the best), sorts best
/// first and sets probabilities. The same lines as one grab and as separate grabs stay apart until
/// the hands have been weighed ([`merge_same_lines`]).
pub fn normalise(hs: &mut Vec<Hypothesis>) {
    hs.sort_by(|a, b| b.log_lik.total_cmp(&a.log_lik));
    let mut seen: Vec<(Vec<(u32, i32)>, bool)> = Vec::new();
    hs.retain(|h| {
        let mut k = h.lines.clone();
        k.sort_unstable();
        let k = (k, h.one_hand);
        if seen.contains(&k) {
            false
        } else {
            seen.push(k);
            true
        }
    });
    let Some(best) = hs.first().map(|h| h.log_lik) else { return };
    let total: f64 = hs.iter().map(|h| (h.log_lik - best).exp()).sum();
    for h in hs.iter_mut() {
        h.probability = (h.log_lik - best).exp() / total;
    }
}

/// Merges hypotheses with equal lines that differ only in how many hands they took (one grab or
/// separate grabs), once the hand evidence has weighed them: the likelier keeps its place and
/// marker and takes the other's probability; the result is best first again. `hs` must be
/// normalised.
pub fn merge_same_lines(hs: &mut Vec<Hypothesis>) {
    let key = |h: &Hypothesis| {
        let mut k = h.lines.clone();
        k.sort_unstable();
        k
    };
    let mut i = 0;
    while i < hs.len() {
        let k = key(&hs[i]);
        let mut j = i + 1;
        while j < hs.len() {
            if key(&hs[j]) == k {
                let gone = hs.remove(j);
                let p = hs[i].probability.max(f64::MIN_POSITIVE);
                hs[i].log_lik += ((p + gone.probability) / p).ln();
                hs[i].probability += gone.probability;
            } else {
                j += 1;
            }
        }
        i += 1;
    }
    hs.sort_by(|a, b| b.probability.total_cmp(&a.probability));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(lines: &[(u32, i32)], log_lik: f64, one_hand: bool) -> Hypothesis {
        Hypothesis { lines: lines.to_vec(), log_lik, z: 0.0, probability: 0.0, one_hand }
    }

    #[test]
    fn the_same_lines_in_one_grab_or_two_are_kept_apart_then_merged_best_first() {
        // X alone 0.40; the pair Y as two grabs 0.35 and as one grab 0.25: together the pair is likelier.
        let mut hs = vec![h(&[(1, 1)], 0.40f64.ln(), false), h(&[(2, 1), (3, 1)], 0.35f64.ln(), false)];
        hs.push(h(&[(3, 1), (2, 1)], 0.25f64.ln(), true));
        hs.push(h(&[(2, 1), (3, 1)], 0.01f64.ln(), false));
        normalise(&mut hs);
        assert_eq!(hs.len(), 3, "the pair survives once per number of hands: {hs:?}");
        merge_same_lines(&mut hs);
        assert_eq!(hs.len(), 2, "{hs:?}");
        assert_eq!(hs[0].lines, vec![(2, 1), (3, 1)], "{hs:?}");
        assert!(!hs[0].one_hand, "the likelier reading keeps its marker");
        assert!((hs[0].probability - 0.60).abs() < 1e-9 && (hs[1].probability - 0.40).abs() < 1e-9, "{hs:?}");
        assert!(hs[0].log_lik > hs[1].log_lik, "{hs:?}");
    }
}
