//! Shelf groups and attribution: quiet shelves close their groups (with the parts of items on
//! neighbouring plates too light to trigger them), clusters of changed plates are identified and
//! attributed to the hands that went into the facing, and carts are updated or reviewed.

use super::*;

impl Engine {
    /// Advances event time: closes shelf groups that have been quiet long enough. Called
    /// automatically by `push_plate`; call it from a timer when plates may go silent.
    pub fn advance(&mut self, t_s: f64) {
        self.now_s = self.now_s.max(t_s);
        self.next_poll_s = t_s + POLL_S;

        let mut k = 0;
        while k < self.open_shelves.len() {
            let shelf = self.open_shelves[k];
            if self.group_ready(shelf, t_s) {
                self.open_shelves.swap_remove(k);
                let group = self.groups[shelf as usize].take().expect("open shelf has a group");
                self.process_group(group, t_s);
            } else {
                k += 1;
            }
        }
    }

    pub(super) fn group_ready(&self, shelf: u32, t_s: f64) -> bool {
        let g = self.groups[shelf as usize].as_ref().expect("open shelf has a group");
        let quiet = t_s - g.t_last_settled_s;
        if quiet >= self.cfg.group_max_wait_s {
            return true;
        }
        if quiet < self.cfg.group_gap_s {
            return false;
        }
        // Wait for plates of this shelf that are still moving by a significant amount.
        self.layout.shelves[shelf as usize].plates.iter().all(|&p| {
            if !self.detector.is_active(p) {
                return true;
            }
            let dev = (self.detector.window_mean_g(p) - self.detector.level_g(p)).abs();
            dev < self.cfg.min_change_g.max(self.cfg.change_sigmas * self.detector.sigma_g(p)) * 2.0
        })
    }

    /// Ends the stream: force-settles active plates, closes every group. Does not exit shoppers.
    pub fn finish(&mut self, t_s: f64) {
        for c in self.detector.flush(t_s) {
            self.on_settled(c);
        }
        let shelves = std::mem::take(&mut self.open_shelves);
        for shelf in shelves {
            if let Some(g) = self.groups[shelf as usize].take() {
                self.process_group(g, t_s);
            }
        }
        self.now_s = self.now_s.max(t_s);
    }

    /// An event began on `plate`: remember its level and its direct neighbours' (stable ones).
    pub(super) fn snap_levels(&mut self, plate: u32, t_s: f64) {
        let l = &self.layout;
        let shelf = &l.shelves[l.plate_shelf[plate as usize] as usize];
        let pos = l.plate_pos[plate as usize] as usize;
        for q in [pos.wrapping_sub(1), pos, pos + 1].into_iter().filter_map(|i| shelf.plates.get(i).copied()) {
            // One event's plates start within a moment of each other; a snapshot older than
            // LEAN_SNAP_S belongs to an event no group took (noise) and is taken again.
            let (level, t) = self.lean_snap[q as usize];
            let open = !level.is_nan() && t_s - t <= LEAN_SNAP_S;
            if !open && (q == plate || !self.detector.is_active(q)) {
                self.lean_snap[q as usize] = (self.detector.level_g(q), t_s);
            }
        }
    }

    /// Plates next to the group's changes whose part of the event stayed under their trigger
    /// (or was dropped as noise): their window mean against the level when the event began.
    /// Returned as (the changed neighbour's plate, a change of the same sign); the counted part
    /// becomes the plate's level (so no later event counts it again) and every snapshot of the
    /// shelf is cleared.
    fn hidden_lean(&mut self, shelf: u32, changes: &[PlateChange]) -> Vec<(u32, PlateChange)> {
        let l = &self.layout;
        let plates = &l.shelves[shelf as usize].plates;
        let mut out: Vec<(u32, PlateChange)> = Vec::new();
        let began = changes.iter().map(|c| c.t_start_s).fold(f64::INFINITY, f64::min);
        let in_group = |q: u32| changes.iter().any(|x| x.plate == q);
        for c in changes {
            let pos = l.plate_pos[c.plate as usize] as usize;
            for q in [pos.wrapping_sub(1), pos + 1].into_iter().filter_map(|i| plates.get(i).copied()) {
                let (snap, t_snap) = self.lean_snap[q as usize];
                let qpos = l.plate_pos[q as usize] as usize;
                // (Not while a neighbour outside the group is still moving: its event may be leaning
                // on q too, and belongs to the next group.)
                let busy_beside = [qpos.wrapping_sub(1), qpos + 1]
                    .into_iter()
                    .filter_map(|i| plates.get(i).copied())
                    .any(|n| !in_group(n) && self.detector.is_active(n));
                if snap.is_nan()
                    || t_snap < began - LEAN_SNAP_S
                    || self.detector.is_active(q)
                    || busy_beside
                    || in_group(q)
                    || out.iter().any(|x| x.1.plate == q)
                {
                    continue;
                }
                let sigma = self.detector.sigma_g(q);
                let after = self.detector.window_mean_g(q);
                let hidden = after - snap;
                let se = sigma / (self.detector.config().window_samples as f64).sqrt();
                if hidden.abs() < self.cfg.min_change_g.max(self.cfg.lean_sigmas * se)
                    || hidden.signum() != c.delta_g().signum()
                {
                    continue;
                }
                out.push((
                    c.plate,
                    PlateChange { plate: q, before_g: snap, after_g: after, sigma_g: sigma, forced: false, ..*c },
                ));
            }
        }
        for (_, h) in &out {
            self.detector.set_level(h.plate, h.after_g);
        }
        for &p in plates {
            self.lean_snap[p as usize] = (f64::NAN, f64::NAN);
        }
        out
    }

    pub(super) fn process_group(&mut self, mut group: ShelfGroup, t_now: f64) {
        self.stats.shelf_events += 1;
        let hidden = match group.changes.first() {
            Some(first) => {
                let shelf = self.layout.plate_shelf[first.plate as usize];
                self.hidden_lean(shelf, &group.changes)
            }
            None => Vec::new(),
        };
        let l = &self.layout;
        group.changes.sort_by_key(|c| l.plate_pos[c.plate as usize]);
        let mut clusters: Vec<Vec<PlateChange>> = Vec::new();
        for c in group.changes {
            let pos = l.plate_pos[c.plate as usize];
            let joins = clusters.last().is_some_and(|cl| {
                let last = cl.last().expect("non-empty").plate;
                let last_pos = l.plate_pos[last as usize];
                if pos <= last_pos + 1 {
                    return true;
                }
                // An item standing on one plate of a wide facing and leaning onto the plate past
                // the facing's end changes two plates with unchanged plates of its own facing in
                // between: bridge gaps that lie inside the facing of either side.
                let shelf = &l.shelves[l.plate_shelf[c.plate as usize] as usize];
                let gap: Vec<u32> = (last_pos + 1..pos).filter_map(|q| shelf.plates.get(q as usize).copied()).collect();
                let same = |a: u32| {
                    let home = l.home_product[a as usize];
                    home.is_some() && gap.iter().all(|&g| l.home_product[g as usize] == home)
                };
                gap.len() <= 2 && (same(last) || same(c.plate))
            });
            if joins {
                clusters.last_mut().expect("checked").push(c);
            } else {
                clusters.push(vec![c]);
            }
        }
        // Each hidden part joins the cluster of the change it leaned from (it never bridges two).
        for (source, h) in hidden {
            if let Some(cl) = clusters.iter_mut().find(|cl| cl.iter().any(|c| c.plate == source)) {
                cl.push(h);
                cl.sort_by_key(|c| l.plate_pos[c.plate as usize]);
            }
        }
        for cl in clusters {
            for part in self.split_by_sign(cl) {
                self.process_cluster(&part, t_now);
            }
        }
    }

    /// A cluster whose plates moved both ways at once (one shopper taking from a facing while
    /// another returns an item to the next) is two events when neither sign alone is noise, the
    /// whole explains nothing and each side explains itself; otherwise it stays one.
    fn split_by_sign(&self, cluster: Vec<PlateChange>) -> Vec<Vec<PlateChange>> {
        let thr = |c: &PlateChange| self.cfg.min_change_g.max(self.cfg.change_sigmas * c.sigma_g);
        let (neg, pos): (Vec<PlateChange>, Vec<PlateChange>) =
            cluster.iter().filter(|c| c.delta_g().abs() >= thr(c)).partition(|c| c.delta_g() < 0.0);
        if neg.is_empty() || pos.is_empty() || neg.len() + pos.len() != cluster.len() {
            return vec![cluster];
        }
        let fits = |h: &Hypothesis| h.z <= self.cfg.identify.unexplained_z;
        let (whole, a, b) = (self.best_of(&cluster), self.best_of(&neg), self.best_of(&pos));
        if a.lines.is_empty() || !fits(&a) || b.lines.is_empty() || !fits(&b) {
            return vec![cluster];
        }
        // When something fits the whole ("nothing happened" for a unit that slid to the next plate and
        // nets to zero), it stays one event unless a different shopper's hand was surely in each side
        // (one returning a unit while another takes one beside it also nets to zero).
        if fits(&whole) && !self.different_hands(&neg, &pos) {
            return vec![cluster];
        }
        vec![neg, pos]
    }

    /// Whether the surest shopper of each part is a different one, each at least as sure as the
    /// review threshold asks.
    fn different_hands(&self, a: &[PlateChange], b: &[PlateChange]) -> bool {
        let top = |part: &[PlateChange]| self.near(part).first().copied().filter(|w| w.1 >= self.cfg.review_threshold);
        matches!((top(a), top(b)), (Some(x), Some(y)) if x.0 != y.0)
    }

    /// The best explanation of a cluster on its own: a pick's from the identifier, a put-back's
    /// jointly with who could have returned it.
    fn best_of(&self, cluster: &[PlateChange]) -> Hypothesis {
        let total: f64 = cluster.iter().map(|c| c.delta_g()).sum();
        if total < 0.0 {
            identify::hypotheses(
                &IdentifyInput { layout: &self.layout, misplaced: &self.misplaced, held: &[], cfg: &self.cfg.identify },
                cluster,
            )
            .remove(0)
        } else {
            self.decide_put_back(cluster, &self.near(cluster)).0 .1
        }
    }

    /// Who could have caused a cluster: [`Engine::attribute`] over its plates' box and its time.
    fn near(&self, cluster: &[PlateChange]) -> Vec<(usize, f64, f64)> {
        let plates: Vec<u32> = cluster.iter().map(|c| c.plate).collect();
        let t_start = cluster.iter().map(|c| c.t_start_s).fold(f64::INFINITY, f64::min);
        let t_settled = cluster.iter().map(|c| c.t_settled_s).fold(f64::NEG_INFINITY, f64::max);
        self.attribute(self.layout.plates_box(&plates), t_start - self.cfg.attribution_pre_s, t_settled)
    }

    /// Signed hand depth (m) of each shopper in `bx` during `[t0, t1]`: per frame the best reach
    /// joint's [`signed_depth`] (elbows handicapped by [`EngineConfig::elbow_penalty_m`]); the
    /// shopper's figure is the mean of its [`EngineConfig::depth_frames`] deepest frames, which
    /// averages joint noise (~3 cm per frame) down. Negative = the hand was inside the box.
    pub(super) fn approaches(&self, bx: Option<Aabb>, t0: f64, t1: f64) -> Vec<(usize, f64)> {
        let mut out = Vec::new();
        let k_best = self.cfg.depth_frames.clamp(1, 16);
        let mut best = [f64::INFINITY; 16];
        for (i, s) in self.shoppers.iter().enumerate() {
            if !s.present && s.history.back().is_none_or(|f| f.t_s < t0) {
                continue;
            }
            let best = &mut best[..k_best];
            best.fill(f64::INFINITY);
            for f in s.history.iter().rev() {
                if f.t_s > t1 {
                    continue;
                }
                if f.t_s < t0 {
                    break;
                }
                let mut frame_best = f64::INFINITY;
                for (k, p) in f.pts.iter().enumerate() {
                    let Some(p) = p else { continue };
                    let d = match bx {
                        Some(b) => signed_depth(&b, *p) + if k >= 4 { self.cfg.elbow_penalty_m } else { 0.0 },
                        None => 0.0,
                    };
                    frame_best = frame_best.min(d);
                }
                let last = best.len() - 1;
                if frame_best < best[last] {
                    best[last] = frame_best;
                    best.sort_by(f64::total_cmp);
                }
            }
            let found: Vec<f64> = best.iter().copied().filter(|d| d.is_finite()).collect();
            let depth = if found.is_empty() { f64::INFINITY } else { found.iter().sum::<f64>() / found.len() as f64 };
            if s.present || depth.is_finite() {
                out.push((i, depth));
            }
        }
        if self.cfg.weight_only_fallback && out.iter().all(|o| o.1.is_infinite()) && !self.tracked_during(t0, t1) {
            // No body track covers the event: whoever the gates say was inside during it.
            return self.inside_during(t0, t1).into_iter().map(|i| (i, 0.0)).collect();
        }
        out
    }

    /// Whether any shopper has a track frame in `[t0, t1]`.
    fn tracked_during(&self, t0: f64, t1: f64) -> bool {
        self.shoppers.iter().any(|s| s.history.iter().any(|f| f.t_s >= t0 && f.t_s <= t1))
    }

    /// Shoppers no tracker follows who were inside (between the gates' entry and exit) at some time in
    /// `[t0, t1]`. A tracked shopper is never a candidate here: without exits (a replay of tracks alone)
    /// every tracked shopper would still count as inside.
    pub(super) fn inside_during(&self, t0: f64, t1: f64) -> Vec<usize> {
        (0..self.shoppers.len())
            .filter(|&i| {
                let s = &self.shoppers[i];
                !s.tracked && s.entered_s <= t1 && s.left_s >= t0 && !s.settled
            })
            .collect()
    }

    /// Unnormalised attribution likelihoods: (shopper, likelihood, closest approach in m ≥ 0).
    pub(super) fn likelihoods(&self, bx: Option<Aabb>, t0: f64, t1: f64) -> Vec<(usize, f64, f64)> {
        let tau = self.cfg.hand_depth_scale_m.max(1e-3);
        let approaches = self.approaches(bx, t0, t1);
        let best = approaches.iter().map(|a| a.1).fold(f64::INFINITY, f64::min);
        approaches
            .into_iter()
            .map(|(i, d)| {
                let lik = if d <= self.cfg.max_reach_m { (-(d - best) / tau).exp().max(1e-12) } else { 0.0 };
                (i, lik, d.max(0.0))
            })
            .collect()
    }

    /// Attribution probabilities: (shopper, probability, distance), best first.
    pub(super) fn attribute(&self, bx: Option<Aabb>, t0: f64, t1: f64) -> Vec<(usize, f64, f64)> {
        let mut scored = self.likelihoods(bx, t0, t1);
        let total: f64 = scored.iter().map(|s| s.1).sum();
        if total <= 0.0 {
            return Vec::new();
        }
        for s in &mut scored {
            s.1 /= total;
        }
        scored.retain(|s| s.1 > 0.0);
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        scored
    }

    /// Joint attribution of simultaneous lines of one event: every assignment of lines to
    /// shoppers is scored by the product of the lines' likelihoods (a shopper taking two lines is
    /// handicapped by [`EngineConfig::same_shopper_two_lines`]); returns, per line, the
    /// candidates with their marginal probabilities, best first. Two shoppers reaching into
    /// neighbouring facings are thereby told apart even when each hand is close to both boxes.
    pub(super) fn attribute_jointly(&self, liks: &[Vec<(usize, f64, f64)>]) -> Vec<Vec<(usize, f64, f64)>> {
        let n_lines = liks.len();
        let mut cands: Vec<usize> = liks.iter().flat_map(|l| l.iter().filter(|c| c.1 > 0.0).map(|c| c.0)).collect();
        cands.sort_unstable();
        cands.dedup();
        let combos = (cands.len() as f64).powi(n_lines as i32);
        if n_lines < 2 || cands.len() < 2 || combos > 4096.0 {
            return liks
                .iter()
                .map(|l| {
                    let total: f64 = l.iter().map(|c| c.1).sum();
                    let mut v: Vec<_> =
                        l.iter().filter(|c| c.1 > 0.0).map(|&(i, p, d)| (i, p / total.max(1e-300), d)).collect();
                    v.sort_by(|a, b| b.1.total_cmp(&a.1));
                    v
                })
                .collect();
        }
        let lik_of = |line: usize, who: usize| liks[line].iter().find(|c| c.0 == who).map_or(0.0, |c| c.1);
        let mut marg: Vec<Vec<f64>> = vec![vec![0.0; cands.len()]; n_lines];
        let mut idx = vec![0usize; n_lines];
        let mut total = 0.0;
        loop {
            let mut w = 1.0;
            for (line, &k) in idx.iter().enumerate() {
                w *= lik_of(line, cands[k]);
            }
            for a in 0..n_lines {
                for b in a + 1..n_lines {
                    if idx[a] == idx[b] {
                        w *= self.cfg.same_shopper_two_lines;
                    }
                }
            }
            total += w;
            for (line, &k) in idx.iter().enumerate() {
                marg[line][k] += w;
            }
            // Next assignment (odometer).
            let mut pos = 0;
            while pos < n_lines {
                idx[pos] += 1;
                if idx[pos] < cands.len() {
                    break;
                }
                idx[pos] = 0;
                pos += 1;
            }
            if pos == n_lines {
                break;
            }
        }
        (0..n_lines)
            .map(|line| {
                let mut v: Vec<(usize, f64, f64)> = cands
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| marg[line][*k] > 0.0)
                    .map(|(k, &who)| {
                        let d = liks[line].iter().find(|c| c.0 == who).map_or(f64::INFINITY, |c| c.2);
                        (who, marg[line][k] / total.max(1e-300), d)
                    })
                    .collect();
                v.sort_by(|a, b| b.1.total_cmp(&a.1));
                v
            })
            .collect()
    }

    /// 1 within 15 cm of the box, falling linearly to 0.5 at `max_reach_m`.
    pub(super) fn reach_factor(&self, d: f64) -> f64 {
        if d <= 0.15 {
            1.0
        } else {
            let u = ((d - 0.15) / (self.cfg.max_reach_m - 0.15).max(1e-6)).clamp(0.0, 1.0);
            1.0 - 0.5 * u
        }
    }

    /// Hand evidence across identification hypotheses of a pick: when the hands of two or more
    /// shoppers went *into* the cluster's box during the event and the identifier also offers
    /// a multi-line explanation (two products), every single-line explanation (e.g. two units
    /// of one product) leaves all but one of those reaches unexplained. A shopper reaching
    /// into a box without moving anything is not rare but not the norm either, so each
    /// unexplained reach costs [`EngineConfig::idle_reach_prior`].
    pub(super) fn hand_evidence(&self, mut hs: Vec<Hypothesis>, bx: Option<Aabb>, t0: f64, t1: f64) -> Vec<Hypothesis> {
        let inside = if hs.iter().any(|h| h.lines.len() >= 2) {
            self.approaches(bx, t0, t1).iter().filter(|a| a.1 <= 0.0).count()
        } else {
            0
        };
        if inside >= 2 {
            let pen = self.cfg.idle_reach_prior.max(1e-6).ln();
            for h in hs.iter_mut() {
                let n = if h.one_hand { 1 } else { h.lines.len().max(1) };
                h.log_lik += pen * inside.saturating_sub(n) as f64;
            }
            identify::normalise(&mut hs);
        }
        identify::merge_same_lines(&mut hs);
        hs
    }

    pub(super) fn process_cluster(&mut self, cluster: &[PlateChange], t_now: f64) {
        let plates: Vec<u32> = cluster.iter().map(|c| c.plate).collect();
        let t_start = cluster.iter().map(|c| c.t_start_s).fold(f64::INFINITY, f64::min);
        let t_settled = cluster.iter().map(|c| c.t_settled_s).fold(f64::NEG_INFINITY, f64::max);
        let total: f64 = cluster.iter().map(|c| c.delta_g()).sum();
        let bx = self.layout.plates_box(&plates);
        let shoppers = self.attribute(bx, t_start - self.cfg.attribution_pre_s, t_settled);

        if total < 0.0 {
            let hs = identify::hypotheses(
                &IdentifyInput { layout: &self.layout, misplaced: &self.misplaced, held: &[], cfg: &self.cfg.identify },
                cluster,
            );
            let hs = self.hand_evidence(hs, bx, t_start - self.cfg.attribution_pre_s, t_settled);
            let best = hs[0].clone();
            if best.lines.is_empty() {
                let who = shoppers.first().map(|w| w.0);
                return self.decide(cluster, &best, who, 0.0, total, t_start, t_settled, t_now, &shoppers, &hs);
            }
            // Each line is attributed with the box of the changed plates its product stands on,
            // so two shoppers picking neighbouring products at once are told apart; the lines of
            // one event are assigned jointly.
            let owns: Vec<Vec<u32>> = best
                .lines
                .iter()
                .map(|line| {
                    let own: Vec<u32> = plates
                        .iter()
                        .copied()
                        .filter(|&p| identify::stands_on_plate(&self.layout, &self.misplaced, line.0, p))
                        .collect();
                    if own.is_empty() {
                        plates.clone()
                    } else {
                        own
                    }
                })
                .collect();
            // One grab took a product and a misplaced item lying among it: one hand, so one shopper
            // for both lines, applied together, or one review of the pair (staff assign both lines at
            // once) — never split between two shoppers by the per-line attribution below.
            if best.one_hand {
                let who = shoppers.first().copied();
                let conf = best.probability * who.map_or(0.0, |w| w.1 * self.reach_factor(w.2));
                let w = who.map(|w| w.0);
                return self.decide(cluster, &best, w, conf, total, t_start, t_settled, t_now, &shoppers, &hs);
            }
            let liks: Vec<Vec<(usize, f64, f64)>> = owns
                .iter()
                .map(|own| {
                    self.likelihoods(self.layout.plates_box(own), t_start - self.cfg.attribution_pre_s, t_settled)
                })
                .collect();
            let joint = self.attribute_jointly(&liks);
            for ((&line, own), line_shoppers) in best.lines.iter().zip(owns).zip(joint) {
                let who = line_shoppers.first().copied();
                let conf = best.probability * who.map_or(0.0, |w| w.1 * self.reach_factor(w.2));
                let h = Hypothesis { lines: vec![line], ..best.clone() };
                let part: Vec<PlateChange> = cluster.iter().filter(|c| own.contains(&c.plate)).copied().collect();
                let w = who.map(|w| w.0);
                if best.lines.len() == 1 {
                    self.decide(&part, &h, w, conf, total, t_start, t_settled, t_now, &line_shoppers, &hs);
                    continue;
                }
                // A line of a multi-line event that goes to review is a review of its own: its weight
                // is its plates', its alternatives single lines that explain that weight, so that staff
                // assigning each review once charge each unit once.
                let part_total: f64 = part.iter().map(|c| c.delta_g()).sum();
                let alternatives = self.line_alternatives(&h, &part);
                self.decide(&part, &h, w, conf, part_total, t_start, t_settled, t_now, &line_shoppers, &alternatives);
            }
        } else {
            let ((who, best, conf), hs) = self.decide_put_back(cluster, &shoppers);
            self.decide(cluster, &best, who, conf, total, t_start, t_settled, t_now, &shoppers, &hs);
        }
    }

    /// The alternatives a review of one line of a multi-line event lists: that line first, then the
    /// single-line explanations of the line's own plates (a product there or next to them), best first.
    fn line_alternatives(&self, line: &Hypothesis, part: &[PlateChange]) -> Vec<Hypothesis> {
        let own = identify::hypotheses(
            &IdentifyInput { layout: &self.layout, misplaced: &self.misplaced, held: &[], cfg: &self.cfg.identify },
            part,
        );
        let mut out = vec![line.clone()];
        for h in own.into_iter().filter(|h| h.lines.len() == 1) {
            if !out.iter().any(|o| o.lines == h.lines) {
                out.push(h);
            }
        }
        out
    }

    /// Applies a decision or queues it for review.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn decide(
        &mut self,
        cluster: &[PlateChange],
        best: &Hypothesis,
        who: Option<usize>,
        conf: f64,
        total: f64,
        t_start: f64,
        t_settled: f64,
        t_now: f64,
        shoppers: &[(usize, f64, f64)],
        alternatives: &[Hypothesis],
    ) {
        if best.lines.is_empty() && best.z <= self.cfg.identify.unexplained_z {
            self.stats.noise_events += 1;
            return;
        }
        let unexplained = best.lines.is_empty() || best.z > self.cfg.identify.unexplained_z;
        let reason = if unexplained {
            Some(ReviewReason::UnexplainedWeight)
        } else if who.is_none() {
            Some(ReviewReason::NoShopper)
        } else if conf < self.cfg.review_threshold {
            Some(ReviewReason::LowConfidence)
        } else {
            None
        };
        match (reason, who) {
            (None, Some(w)) => self.apply(w, best, cluster, conf, t_start, t_settled, t_now),
            (reason, _) => {
                let reason = reason.unwrap_or(ReviewReason::NoShopper);
                self.open_review(cluster, total, t_start, t_settled, reason, conf, shoppers, alternatives);
            }
        }
    }

    /// Put-back: choose shopper and held product jointly.
    pub(super) fn decide_put_back(
        &self,
        cluster: &[PlateChange],
        shoppers: &[(usize, f64, f64)],
    ) -> ((Option<usize>, Hypothesis, f64), Vec<Hypothesis>) {
        let mut joint: Vec<(Option<usize>, Hypothesis, f64)> = Vec::new();
        let mut all_hs: Vec<Hypothesis> = Vec::new();
        let t_start = cluster.iter().map(|c| c.t_start_s).fold(f64::INFINITY, f64::min);
        for &(i, p_attr, d) in shoppers {
            let mut held: Vec<u32> = self.shoppers[i].cart.iter().filter(|(_, &n)| n > 0).map(|(&c, _)| c).collect();
            // A unit an unsettled hand-over may have brought (with the prior of that explanation).
            let incoming =
                if self.pending_handovers.is_empty() { Vec::new() } else { self.incoming_products(i, t_start) };
            held.extend(incoming.iter().map(|x| x.0));
            let hs = identify::hypotheses(
                &IdentifyInput {
                    layout: &self.layout,
                    misplaced: &self.misplaced,
                    held: &held,
                    cfg: &self.cfg.identify,
                },
                cluster,
            );
            'hyp: for h in hs {
                if h.lines.is_empty() {
                    continue;
                }
                // Cannot return more units than held (the cart plus one handed unit).
                let mut prior = 0.0;
                for &(c, q) in &h.lines {
                    let n = self.shoppers[i].cart.get(&c).copied().unwrap_or(0);
                    if n >= -q {
                        continue;
                    }
                    match incoming.iter().find(|x| x.0 == c) {
                        Some(x) if n + 1 >= -q => prior += x.1.max(1e-12).ln(),
                        _ => continue 'hyp,
                    }
                }
                let score = h.log_lik + prior + (p_attr * self.reach_factor(d)).max(1e-12).ln();
                all_hs.push(h.clone());
                joint.push((Some(i), Hypothesis { log_lik: score, ..h }, 0.0));
            }
        }
        // H0 (nobody returned anything): its likelihood from the identifier with nothing held.
        let h0 = identify::hypotheses(
            &IdentifyInput { layout: &self.layout, misplaced: &self.misplaced, held: &[], cfg: &self.cfg.identify },
            cluster,
        )
        .remove(0);
        joint.push((None, h0.clone(), 0.0));
        joint.sort_by(|a, b| b.1.log_lik.total_cmp(&a.1.log_lik));
        let best_ll = joint[0].1.log_lik;
        let z: f64 = joint.iter().map(|j| (j.1.log_lik - best_ll).exp()).sum();
        for j in &mut joint {
            j.2 = (j.1.log_lik - best_ll).exp() / z;
        }
        all_hs.push(h0);
        identify::normalise(&mut all_hs);
        let best = joint.swap_remove(0);
        (best, all_hs)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn apply(
        &mut self,
        who: usize,
        h: &Hypothesis,
        cluster: &[PlateChange],
        conf: f64,
        t_start: f64,
        t_settled: f64,
        t_now: f64,
    ) {
        let keys: Vec<PlateKey> = cluster.iter().map(|c| self.layout.plate_key(c.plate)).collect();
        for &(product, qty) in &h.lines {
            self.settle_by_put_back(who, product, qty, t_start);
            // Never below zero (the put-back was chosen among held units, so this only guards).
            let qty = if qty < 0 { qty.max(-self.units(who, product).max(0)) } else { qty };
            if qty == 0 {
                continue;
            }
            self.add_to_cart(who, product, qty);
            self.update_live_planogram(product, qty, cluster);
            self.stats.cart_updates += 1;
            let ev = EngineEvent::CartUpdated {
                t_s: t_now,
                t_settled_s: t_settled,
                t_start_s: t_start,
                target_id: self.shoppers[who].target_id.clone(),
                barcode: self.layout.product(product).barcode.clone(),
                quantity: qty,
                confidence: conf,
                plates: keys.clone(),
            };
            self.emit(ev);
        }
    }

    /// Keeps track of items returned onto other products' plates (and of their removal).
    pub(super) fn update_live_planogram(&mut self, product: u32, cart_qty: i32, cluster: &[PlateChange]) {
        let Some(main) = cluster.iter().max_by(|a, b| a.delta_g().abs().total_cmp(&b.delta_g().abs())) else { return };
        let home_here = cluster.iter().any(|c| self.layout.home_product[c.plate as usize] == Some(product));
        if cart_qty < 0 && !home_here {
            self.stats.misplaced_returns += 1;
            let list = &mut self.misplaced[main.plate as usize];
            match list.iter_mut().find(|m| m.0 == product) {
                Some(m) => m.1 += (-cart_qty) as u32,
                None => list.push((product, (-cart_qty) as u32)),
            }
        } else if cart_qty > 0 {
            let mut left = cart_qty as u32;
            for c in cluster {
                for m in self.misplaced[c.plate as usize].iter_mut().filter(|m| m.0 == product) {
                    let take = left.min(m.1);
                    m.1 -= take;
                    left -= take;
                }
            }
        }
    }
}
