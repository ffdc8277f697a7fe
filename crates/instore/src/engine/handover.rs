//! Hand-overs between shoppers: detection from the tracks, the possible explanations kept as hypotheses,
//! and how later put-backs and exits settle them.

use super::*;

impl Engine {
    /// Whether `p` is within 0.3 m of any facing box (a hand there is at the shelf, not in the aisle).
    pub(super) fn near_shelf(&self, p: Vec3) -> bool {
        self.layout.facings.iter().any(|f| f.2.distance(p) < 0.3)
    }

    /// Hand-over detection from the tracks: a hand of shopper `i` (this frame) and a hand of
    /// another present shopper (its latest frame, within 0.12 s) closer than
    /// [`EngineConfig::handover_hand_gap_m`], both stretched out from their bodies (≥ 0.3 m
    /// horizontally) and away from every shelf. A meeting that lasted at least
    /// [`EngineConfig::handover_min_s`] is handed to [`Engine::on_handover`] once it ends.
    pub(super) fn detect_handover(&mut self, i: usize, t: f64) {
        if self.layout.facings.is_empty() {
            return;
        }
        let hands = |f: &HandFrame| -> [Option<(Vec3, Vec3)>; 2] {
            let body = f.body;
            [(f.pts[2].or(f.pts[0])), (f.pts[3].or(f.pts[1]))].map(|h| {
                let (h, b) = (h?, body?);
                (((h.x - b.x).powi(2) + (h.y - b.y).powi(2)).sqrt() >= 0.3).then_some((h, b))
            })
        };
        let Some(fi) = self.shoppers[i].history.back() else { return };
        let mine = hands(fi);
        if mine.iter().any(Option::is_some) {
            let gap = self.cfg.handover_hand_gap_m;
            let mut found: Vec<usize> = Vec::new();
            for (j, other) in self.shoppers.iter().enumerate() {
                if j == i || !other.present {
                    continue;
                }
                let Some(fj) = other.history.back() else { continue };
                if (fj.t_s - t).abs() > 0.12 {
                    continue;
                }
                let theirs = hands(fj);
                let close = mine.iter().flatten().any(|&(h, b)| {
                    theirs.iter().flatten().any(|&(g, c)| {
                        h.distance(g) < gap && b.distance(c) > 0.4 && !self.near_shelf(h) && !self.near_shelf(g)
                    })
                });
                if close {
                    found.push(j);
                }
            }
            for j in found {
                let (a, b) = (i.min(j), i.max(j));
                match self.meetings.iter_mut().find(|m| m.a == a && m.b == b && t - m.last_t < 0.5) {
                    Some(m) => {
                        m.last_t = t;
                        m.frames += 1;
                    }
                    None => self.meetings.push(Meeting { a, b, first_t: t, last_t: t, frames: 1 }),
                }
            }
        }
        if self.meetings.iter().any(|m| t - m.last_t >= 0.5) {
            let (done, open): (Vec<Meeting>, Vec<Meeting>) =
                std::mem::take(&mut self.meetings).into_iter().partition(|m| t - m.last_t >= 0.5);
            self.meetings = open;
            for m in done {
                if m.last_t - m.first_t >= self.cfg.handover_min_s && m.frames >= 5 {
                    self.on_handover(m.a, m.b, m.first_t, m.last_t);
                }
            }
        }
    }

    /// A detected hand-over between shoppers `a` and `b`. The tracks do not show which object
    /// moved or in which direction, so it is applied at once only when that is implied by the
    /// carts: exactly one of the two holds anything, and it holds a single product. Then one unit
    /// of that product moves to the other shopper (truth follows who leaves with the item).
    ///
    /// Otherwise its possible explanations (giver → taker, product) are kept as a
    /// [`PendingHandOver`] until later shelf events settle it (see [`Engine::settle_by_put_back`]):
    /// a shopper returning an item it can only have received here, or a giver returning the last
    /// unit of a product it would have given away. A giver that holds nothing in its cart may
    /// still hold what it received in an earlier unsettled hand-over (a chain A → B → C).
    ///
    /// A meeting of the same two shoppers that follows their previous hand-over within
    /// [`EngineConfig::handover_episode_gap_s`] with neither cart changed in between is the same
    /// hand-over (split by a tracking dropout, or hands held while walking): it only extends
    /// that hand-over and moves nothing more. A meeting with a shopper that has left (its
    /// receipt may already be charged) is recorded but moves nothing and stays unsettled
    /// nowhere.
    pub(super) fn on_handover(&mut self, a: usize, b: usize, t0: f64, t1: f64) {
        let (a, b) = (a.min(b), a.max(b));
        let versions = (self.shoppers[a].cart_version, self.shoppers[b].cart_version);
        if let Some(r) = self.handover_pairs.iter().rposition(|h| (h.0, h.1) == (a, b)) {
            let same_carts = (self.handover_pairs[r].2, self.handover_pairs[r].3) == versions;
            if same_carts && t0 - self.handovers[r].t_end_s <= self.cfg.handover_episode_gap_s {
                self.handovers[r].t_end_s = self.handovers[r].t_end_s.max(t1);
                if let Some(p) = self.pending_handovers.iter_mut().find(|p| p.record == r) {
                    p.t_end_s = p.t_end_s.max(t1);
                }
                return;
            }
        }
        self.stats.handovers_detected += 1;
        let holds =
            |k: usize| self.shoppers[k].cart.iter().filter(|(_, &q)| q > 0).map(|(&c, _)| c).collect::<Vec<u32>>();
        let (ha, hb) = (holds(a), holds(b));
        self.handovers.push(HandOver {
            t_start_s: t0,
            t_end_s: t1,
            targets: [self.shoppers[a].target_id.clone(), self.shoppers[b].target_id.clone()],
            applied: None,
        });
        self.handover_pairs.push((a, b, versions.0, versions.1));
        let record = self.handovers.len() - 1;
        if !self.shoppers[a].present || !self.shoppers[b].present {
            return;
        }
        self.process_handover(record, a, b, t0, t1, ha, hb);
        self.handover_pairs[record].2 = self.shoppers[a].cart_version;
        self.handover_pairs[record].3 = self.shoppers[b].cart_version;
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn process_handover(
        &mut self,
        record: usize,
        a: usize,
        b: usize,
        t0: f64,
        t1: f64,
        ha: Vec<u32>,
        hb: Vec<u32>,
    ) {
        let single = match (ha.is_empty(), hb.is_empty()) {
            (false, true) if ha.len() == 1 => Some((a, b, ha[0])),
            (true, false) if hb.len() == 1 => Some((b, a, hb[0])),
            _ => None,
        };
        if let Some((giver, taker, product)) = single {
            self.move_handed_unit(record, giver, taker, product);
            return;
        }
        let options = self.handover_options(a, b, t0);
        if !options.is_empty() {
            self.pending_handovers.push(PendingHandOver { record, t_start_s: t0, t_end_s: t1, options });
        }
    }

    /// Possible explanations of a hand-over between `a` and `b` that the carts do not settle.
    /// Each direction whose giver holds something is equally likely a priori; within a
    /// direction the item is one of the giver's units (so a product held twice is twice as
    /// likely). A giver with an empty cart may pass on what an earlier unsettled hand-over may
    /// have brought it (with that option's prior).
    pub(super) fn handover_options(&self, a: usize, b: usize, t0: f64) -> Vec<HandOverOption> {
        let mut dirs: Vec<Vec<HandOverOption>> = Vec::new();
        for (giver, taker) in [(a, b), (b, a)] {
            let mut held: Vec<(u32, f64, i32)> =
                self.shoppers[giver].cart.iter().filter(|(_, &q)| q > 0).map(|(&c, &q)| (c, q as f64, q)).collect();
            if held.is_empty() {
                for p in self.pending_handovers.iter().filter(|p| p.t_end_s < t0) {
                    for o in p.options.iter().filter(|o| o.taker == giver && o.giver != taker) {
                        match held.iter_mut().find(|h| h.0 == o.product) {
                            Some(h) => h.1 += o.prior,
                            None => held.push((o.product, o.prior, 0)),
                        }
                    }
                }
            }
            let total: f64 = held.iter().map(|h| h.1).sum();
            if total > 0.0 {
                dirs.push(
                    held.iter()
                        .map(|&(product, w, units)| HandOverOption { giver, taker, product, prior: w / total, units })
                        .collect(),
                );
            }
        }
        let n = dirs.len() as f64;
        dirs.into_iter().flatten().map(|o| HandOverOption { prior: o.prior / n, ..o }).collect()
    }

    /// Moves one unit of `product` from `giver` to `taker` for hand-over `record`. Refused (false)
    /// when the giver's cart holds no unit (no cart goes negative) or either receipt is final.
    pub(super) fn move_handed_unit(&mut self, record: usize, giver: usize, taker: usize, product: u32) -> bool {
        if self.shoppers[giver].settled || self.shoppers[taker].settled || self.units(giver, product) <= 0 {
            return false;
        }
        let (t0, t1) = (self.handovers[record].t_start_s, self.handovers[record].t_end_s);
        let barcode = self.layout.product(product).barcode.clone();
        self.handovers[record].applied =
            Some((self.shoppers[giver].target_id.clone(), self.shoppers[taker].target_id.clone(), barcode.clone()));
        self.stats.handovers_applied += 1;
        self.add_to_cart(giver, product, -1);
        self.add_to_cart(taker, product, 1);
        for (who, q) in [(giver, -1), (taker, 1)] {
            self.stats.cart_updates += 1;
            let ev = EngineEvent::CartUpdated {
                t_s: self.now_s.max(t1),
                t_settled_s: t1,
                t_start_s: t0,
                target_id: self.shoppers[who].target_id.clone(),
                barcode: barcode.clone(),
                quantity: q,
                confidence: 1.0,
                plates: Vec::new(),
            };
            self.emit(ev);
        }
        true
    }

    /// Units of `product` in `who`'s cart.
    pub(super) fn units(&self, who: usize, product: u32) -> i32 {
        self.shoppers[who].cart.get(&product).copied().unwrap_or(0)
    }

    pub(super) fn add_to_cart(&mut self, who: usize, product: u32, qty: i32) {
        let s = &mut self.shoppers[who];
        *s.cart.entry(product).or_insert(0) += qty;
        s.cart_version += 1;
    }

    /// A chain of unsettled hand-overs, each ended before `before_s`, that brings a unit of
    /// `product` to `taker` from a cart that holds it: (prior, [(pending, option)] upstream
    /// first). At most `depth` + 1 hand-overs long.
    pub(super) fn incoming_route(
        &self,
        taker: usize,
        product: u32,
        before_s: f64,
        depth: usize,
    ) -> Option<(f64, Vec<(usize, usize)>)> {
        for (pi, p) in self.pending_handovers.iter().enumerate().rev() {
            // Strictly before: with `handover_min_s` = 0 a hand-over may end where it starts
            // and would otherwise be its own upstream.
            if p.t_end_s >= before_s {
                continue;
            }
            for (oi, o) in p.options.iter().enumerate() {
                if o.taker != taker || o.product != product {
                    continue;
                }
                if self.shoppers[o.giver].cart.get(&product).copied().unwrap_or(0) > 0 {
                    return Some((o.prior, vec![(pi, oi)]));
                }
                if depth > 0 {
                    if let Some((prior, mut route)) = self.incoming_route(o.giver, product, p.t_start_s, depth - 1) {
                        route.push((pi, oi));
                        return Some((prior * o.prior, route));
                    }
                }
            }
        }
        None
    }

    /// Products that unsettled hand-overs ended before `before_s` may have brought to `taker`,
    /// with the prior of the route that brings them.
    pub(super) fn incoming_products(&self, taker: usize, before_s: f64) -> Vec<(u32, f64)> {
        let mut out: Vec<(u32, f64)> = Vec::new();
        for p in self.pending_handovers.iter().filter(|p| p.t_end_s <= before_s) {
            for o in p.options.iter().filter(|o| o.taker == taker) {
                if out.iter().any(|x| x.0 == o.product) {
                    continue;
                }
                if let Some((prior, _)) = self.incoming_route(taker, o.product, before_s, HANDOVER_CHAIN_DEPTH) {
                    out.push((o.product, prior));
                }
            }
        }
        out
    }

    /// Settles unsettled hand-overs with a put-back of `qty` units of `product` by `who` that
    /// started at `t_start`, before it is applied to the cart:
    /// * **Only via a hand-over**: if the cart holds fewer units than returned, the missing unit
    ///   came through the hand-over chain that can bring it (an item only comes back from a
    ///   hand that holds it), which is applied.
    /// * **Not given away**: afterwards, a hand-over option in which `who` gave away a unit of
    ///   `product` is ruled out when `who` has now returned its last one (under that option it
    ///   would have returned a unit it no longer had). A hand-over left with one option is
    ///   applied; one left with none is dropped.
    pub(super) fn settle_by_put_back(&mut self, who: usize, product: u32, qty: i32, t_start: f64) {
        if self.pending_handovers.is_empty() || qty >= 0 {
            return;
        }
        let held = self.shoppers[who].cart.get(&product).copied().unwrap_or(0);
        if held < -qty {
            if let Some((_, route)) = self.incoming_route(who, product, t_start, HANDOVER_CHAIN_DEPTH) {
                self.apply_route(&route);
            }
        }
        let left = self.shoppers[who].cart.get(&product).copied().unwrap_or(0) + qty;
        if left >= 1 {
            return;
        }
        let mut changed = false;
        for p in self.pending_handovers.iter_mut().filter(|p| p.t_end_s <= t_start) {
            let before = p.options.len();
            // Chain options (the giver passing on a unit an earlier hand-over brought) are not
            // about the cart's units and stay.
            p.options.retain(|o| !(o.giver == who && o.product == product && o.units > 0));
            changed |= p.options.len() != before;
        }
        if changed {
            self.settle_pending();
        }
    }

    /// Applies a hand-over chain found by [`Engine::incoming_route`] and retires its hand-overs.
    pub(super) fn apply_route(&mut self, route: &[(usize, usize)]) {
        for &(pi, oi) in route {
            let p = &self.pending_handovers[pi];
            let (record, o) = (p.record, p.options[oi]);
            self.move_handed_unit(record, o.giver, o.taker, o.product);
        }
        let mut done: Vec<usize> = route.iter().map(|r| r.0).collect();
        done.sort_unstable();
        done.dedup();
        for pi in done.into_iter().rev() {
            self.pending_handovers.remove(pi);
        }
    }

    /// Shopper `i`'s receipt becomes final: every unsettled hand-over it took part in is decided
    /// now, oldest first (so an upstream hand-over of a chain is decided before the one that
    /// passes its unit on).
    ///
    /// With `keep_reviewed`, a hand-over that may have brought a unit an unresolved review's
    /// put-back would return is kept: the review's answer settles it.
    pub(super) fn close_handovers_of(&mut self, i: usize, keep_reviewed: bool) {
        let mut k = 0;
        while k < self.pending_handovers.len() {
            let p = &self.pending_handovers[k];
            if p.options.iter().all(|o| o.giver != i && o.taker != i) || (keep_reviewed && self.under_review(p)) {
                k += 1;
                continue;
            }
            let p = self.pending_handovers.remove(k);
            self.decide_pending(p);
            k = k.min(self.pending_handovers.len());
        }
    }

    /// Whether an unresolved review may be a put-back of a unit hand-over `p` brought (one of
    /// its takers is a candidate, and an explanation returns that product after it ended).
    pub(super) fn under_review(&self, p: &PendingHandOver) -> bool {
        self.pending_reviews().any(|r| {
            r.t_start_s > p.t_end_s
                && p.options.iter().any(|o| {
                    let (taker, product) = (&self.shoppers[o.taker].target_id, &self.layout.product(o.product).barcode);
                    r.shoppers.iter().any(|c| &c.target_id == taker)
                        && r.products.iter().flatten().any(|l| l.quantity < 0 && &l.barcode == product)
                })
        })
    }

    /// Decides an unsettled hand-over (already taken out of `pending_handovers`). Its options are
    /// first re-weighed against the current carts: an option whose giver now holds fewer units
    /// of the product than when the hand-over ended (one was returned, or an earlier decision
    /// already moved it) loses weight in proportion, so two hand-overs cannot both move the
    /// same unit. The most probable explanation is applied when it is more likely than all the
    /// others together (then moving the unit lowers the expected number of wrong receipt
    /// lines: a right move removes two wrong lines, a wrong one adds about two); otherwise the
    /// carts stay as they are.
    ///
    /// A chain option (the giver only holds the unit if an earlier unsettled hand-over brought
    /// it) is applied together with that earlier hand-over, and only if the whole chain is
    /// likely enough; if not, the earlier hand-over is dropped too, so it cannot later charge
    /// the middle shopper for a unit the engine believed was passed on.
    pub(super) fn decide_pending(&mut self, p: PendingHandOver) {
        let mut merged: Vec<HandOverOption> = Vec::new();
        for o in &p.options {
            let scale = if o.units > 0 {
                (self.units(o.giver, o.product).max(0) as f64 / o.units as f64).min(1.0)
            } else {
                1.0
            };
            let w = o.prior * scale;
            match merged.iter_mut().find(|m| (m.giver, m.taker, m.product) == (o.giver, o.taker, o.product)) {
                Some(m) => m.prior += w,
                None => merged.push(HandOverOption { prior: w, ..*o }),
            }
        }
        let total: f64 = merged.iter().map(|o| o.prior).sum();
        let Some(o) = merged.into_iter().max_by(|a, b| a.prior.total_cmp(&b.prior)) else { return };
        if total <= 0.0 || o.prior <= self.cfg.handover_decide_p * total {
            return;
        }
        if self.units(o.giver, o.product) > 0 {
            self.move_handed_unit(p.record, o.giver, o.taker, o.product);
            return;
        }
        let share = o.prior / total;
        if let Some((route_p, route)) = self.incoming_route(o.giver, o.product, p.t_start_s, HANDOVER_CHAIN_DEPTH) {
            if share.min(route_p) > self.cfg.handover_decide_p {
                self.apply_route(&route);
                self.move_handed_unit(p.record, o.giver, o.taker, o.product);
            } else {
                let mut done: Vec<usize> = route.iter().map(|r| r.0).collect();
                done.sort_unstable();
                done.dedup();
                for pi in done.into_iter().rev() {
                    self.pending_handovers.remove(pi);
                }
            }
        }
    }

    /// Applies unsettled hand-overs left with a single explanation whose giver still holds the
    /// item, drops those left with none, renormalises the rest.
    pub(super) fn settle_pending(&mut self) {
        let mut k = 0;
        while k < self.pending_handovers.len() {
            let p = &mut self.pending_handovers[k];
            let first = p.options.first().copied();
            let single = first
                .filter(|f| p.options.iter().all(|o| (o.giver, o.taker, o.product) == (f.giver, f.taker, f.product)));
            if p.options.is_empty() {
                self.pending_handovers.remove(k);
            } else if let Some(o) =
                single.filter(|o| self.shoppers[o.giver].cart.get(&o.product).copied().unwrap_or(0) > 0)
            {
                let record = p.record;
                self.pending_handovers.remove(k);
                self.move_handed_unit(record, o.giver, o.taker, o.product);
            } else {
                let total: f64 = p.options.iter().map(|o| o.prior).sum();
                for o in &mut p.options {
                    o.prior /= total.max(1e-12);
                }
                k += 1;
            }
        }
    }

    pub(super) fn on_settled(&mut self, change: PlateChange) {
        self.stats.plate_events += 1;
        let thr = self.cfg.min_change_g.max(self.cfg.change_sigmas * change.sigma_g);
        if change.delta_g().abs() < thr {
            return;
        }
        let shelf = self.layout.plate_shelf[change.plate as usize];
        let g = &mut self.groups[shelf as usize];
        if g.is_none() {
            *g = Some(ShelfGroup::default());
            self.open_shelves.push(shelf);
        }
        let g = g.as_mut().expect("group created above");
        g.changes.push(change);
        g.t_last_settled_s = g.t_last_settled_s.max(change.t_settled_s);
    }
}
