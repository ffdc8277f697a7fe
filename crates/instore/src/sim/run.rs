//! One simulated day: shoppers admitted into slots, their scripts played as plate loads and body tracks,
//! hard cases staged, ground truth written beside the recording.

use super::*;

impl Sim<'_> {
    pub(super) fn run_slots(&mut self) -> f64 {
        let mut admitted = 0;
        let mut present: Vec<usize> = Vec::new();
        let mut slot = 0usize;
        while admitted < self.cfg.shoppers || !present.is_empty() {
            let ts = self.cfg.t0_s + 1.0 + slot as f64 * SLOT_S;
            while admitted < self.cfg.shoppers
                && present.len() < self.cfg.max_concurrent
                && (present.is_empty() || self.rng.random::<f64>() < 0.5)
            {
                present.push(self.admit(ts, slot));
                admitted += 1;
            }
            let mut order = present.clone();
            // Shuffle who acts first (Fisher–Yates).
            for i in (1..order.len()).rev() {
                let j = self.rng.random_range(0..=i);
                order.swap(i, j);
            }
            let mut busy: Vec<usize> = Vec::new();
            let mut leaving = Vec::new();
            for &v in &order {
                if busy.contains(&v) {
                    continue;
                }
                busy.push(v);
                if self.visits[v].actions_left == 0 && self.visits[v].entered_slot < slot {
                    let t = self.visits[v].script.walk_to(ts, DOOR, 5.0);
                    self.visits[v].script.exit_s = t;
                    leaving.push(v);
                    continue;
                }
                let partner = order.iter().copied().find(|p| !busy.contains(p) && self.visits[*p].actions_left > 0);
                let plan = self.choose_plan(v, partner.is_some());
                if let (Plan::Hard(HardCase::Simultaneous | HardCase::CrossedArms | HardCase::HandOver), Some(p)) =
                    (plan, partner)
                {
                    busy.push(p);
                    self.pair_action(v, p, plan, ts, &busy);
                } else {
                    self.solo_action(v, plan, ts, &busy);
                }
            }
            present.retain(|v| !leaving.contains(v));
            slot += 1;
        }
        self.cfg.t0_s + 1.0 + slot as f64 * SLOT_S + 1.0
    }

    pub(super) fn admit(&mut self, ts: f64, slot: usize) -> usize {
        let id: u64 = self.rng.random_range(1_000_000_000_000_000_000..u64::MAX);
        let n = self.rng.random_range(self.cfg.min_actions..=self.cfg.max_actions);
        let script = Script {
            target_id: id.to_string(),
            height: self.rng.random_range(0.92..1.08),
            enter_s: ts,
            exit_s: ts,
            path: vec![(ts, DOOR.0, DOOR.1)],
            hands: Vec::new(),
        };
        self.visits.push(Visit {
            script,
            actions_left: n,
            holding: Vec::new(),
            cart: BTreeMap::new(),
            busy_until: ts,
            entered_slot: slot,
        });
        self.visits.len() - 1
    }

    pub(super) fn choose_plan(&mut self, v: usize, has_partner: bool) -> Plan {
        if self.rng.random::<f64>() >= self.cfg.hard_share {
            return Plan::Normal;
        }
        let m = &self.cfg.hard_mix;
        let holding = !self.visits[v].holding.is_empty();
        let kinds = [
            (HardCase::Simultaneous, m.simultaneous, has_partner),
            (HardCase::CrossedArms, m.crossed_arms, has_partner),
            (HardCase::HandOver, m.hand_over, has_partner && holding),
            (HardCase::MisplacedPutBack, m.misplaced_put_back, holding),
            (HardCase::SlowPick, m.slow_pick, true),
        ];
        let total: f64 = kinds.iter().filter(|k| k.2).map(|k| k.1).sum();
        if total <= 0.0 {
            return Plan::Normal;
        }
        let mut r = self.rng.random::<f64>() * total;
        for (k, w, ok) in kinds {
            if !ok {
                continue;
            }
            if r < w {
                return Plan::Hard(k);
            }
            r -= w;
        }
        Plan::Normal
    }

    /// Stand points already used this slot by other shoppers.
    pub(super) fn taken_x(&self, busy: &[usize], me: usize) -> Vec<f64> {
        busy.iter().filter(|&&b| b != me).map(|&b| self.visits[b].script.last_pos().0).collect()
    }

    pub(super) fn random_product_facing(
        &mut self,
        avoid_x: &[f64],
        shelf: Option<usize>,
        exclude: Option<usize>,
    ) -> Option<usize> {
        for _ in 0..40 {
            let fi = self.rng.random_range(0..self.store.facings.len());
            let f = &self.store.facings[fi];
            if f.product.is_none() || f.stock.is_empty() || Some(fi) == exclude {
                continue;
            }
            if shelf.is_some_and(|s| self.store.shelf_of[f.plates[0]] != s) {
                continue;
            }
            let cx = f.bounds.center().x;
            if shelf.is_none() && avoid_x.iter().any(|x| (x - cx).abs() < 0.7) {
                continue;
            }
            return Some(fi);
        }
        None
    }

    pub(super) fn solo_action(&mut self, v: usize, plan: Plan, ts: f64, busy: &[usize]) {
        let avoid = self.taken_x(busy, v);
        let holding = !self.visits[v].holding.is_empty();
        let put_back = holding
            && (plan == Plan::Hard(HardCase::MisplacedPutBack)
                || (plan == Plan::Normal && self.rng.random::<f64>() < self.cfg.put_back_given_holding));
        let hard = match plan {
            Plan::Hard(h @ (HardCase::MisplacedPutBack | HardCase::SlowPick)) => h,
            _ => HardCase::None,
        };
        if put_back {
            let k = self.rng.random_range(0..self.visits[v].holding.len());
            let item = self.visits[v].holding[k].clone();
            let home = self.store.products[item.product].home_facing;
            let fi = if hard == HardCase::MisplacedPutBack {
                let f = self.random_product_facing(&avoid, None, Some(home));
                match f {
                    Some(f) => f,
                    None => return self.idle(v, ts),
                }
            } else {
                home
            };
            self.visits[v].holding.swap_remove(k);
            self.reach_and_move(v, fi, None, ts, 0.0, false, hard, vec![item]);
        } else {
            let Some(fi) = self.random_product_facing(&avoid, None, None) else { return self.idle(v, ts) };
            self.reach_and_move(
                v,
                fi,
                None,
                ts,
                0.0,
                true,
                if hard == HardCase::SlowPick { hard } else { HardCase::None },
                Vec::new(),
            );
        }
        self.visits[v].actions_left -= 1;
    }

    pub(super) fn idle(&mut self, v: usize, ts: f64) {
        let (x, y) = self.visits[v].script.last_pos();
        self.visits[v].script.path.push((ts + SLOT_S - 0.1, x, y));
    }

    /// Walks to a stand point, reaches into facing `fi` and picks (or returns `items`).
    /// Returns (hand-in time, transient end).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn reach_and_move(
        &mut self,
        v: usize,
        fi: usize,
        stand: Option<(f64, f64)>,
        ts: f64,
        reach_at: f64,
        pick: bool,
        hard: HardCase,
        mut items: Vec<Item>,
    ) -> (f64, f64) {
        let f = self.store.facings[fi].clone();
        let stand = stand.unwrap_or((
            f.bounds.center().x + self.rng.random_range(-0.15..0.15),
            0.75 + self.rng.random_range(-0.1..0.1),
        ));
        self.visits[v].script.walk_to(ts, stand, 5.0);
        let t0 = if reach_at > 0.0 { reach_at } else { ts + 5.0 + self.rng.random_range(0.0..1.5) };
        let t_in = t0 + self.rng.random_range(0.4..0.7);
        let dur =
            if hard == HardCase::SlowPick { self.rng.random_range(2.5..4.5) } else { self.rng.random_range(0.5..1.5) };
        let t_out = t_in + dur;
        let t1 = t_out + self.rng.random_range(0.4..0.7);
        let qty = if pick {
            let r: f64 = self.rng.random();
            let q = if r < 0.85 {
                1
            } else if r < 0.97 {
                2
            } else {
                3
            };
            q.min(f.stock.len())
        } else {
            items.len()
        };
        if pick {
            for _ in 0..qty {
                let stock = &mut self.store.facings[fi].stock;
                let k = self.rng.random_range(0..stock.len());
                items.push(stock.swap_remove(k));
            }
        } else {
            let mut placed = Vec::with_capacity(items.len());
            for it in &items {
                let mut n = self.store.new_item(&mut self.rng, it.product, fi);
                n.weight_g = it.weight_g;
                placed.push(n);
            }
            items = placed;
            self.store.facings[fi].stock.extend(items.iter().cloned());
        }
        self.store.add_transient(&mut self.rng, &items, if pick { -1.0 } else { 1.0 }, t_in, t_out);
        // Hand target: over the plate carrying most of the first item.
        let main_plate = items[0].split.iter().max_by(|a, b| a.1.total_cmp(&b.1)).map(|s| s.0).unwrap_or(f.plates[0]);
        let pb = plate_box(&self.store, main_plate);
        let target = Vec3::new(
            pb.center().x + self.rng.random_range(-0.03..0.03),
            self.rng.random_range(0.05..0.3),
            f.bounds.min.z + self.rng.random_range(0.05..0.2),
        );
        let body_x = stand.0;
        let hand = if (target.x - body_x).abs() < 0.1 {
            self.rng.random_range(0..2)
        } else if target.x < body_x {
            1
        } else {
            0
        };
        self.visits[v].script.hands.push((hand, t0, t_in, t_out, t1, target));
        self.visits[v].script.path.push((ts + SLOT_S - 0.1, stand.0, stand.1));
        self.visits[v].busy_until = t1;
        let keys: Vec<PlateKey> = {
            let mut ps: Vec<usize> = items.iter().flat_map(|i| i.split.iter().map(|s| s.0)).collect();
            ps.sort_unstable();
            ps.dedup();
            ps.iter().map(|&p| self.store.keys[p]).collect()
        };
        let sign = if pick { 1 } else { -1 };
        let mut by_product: BTreeMap<usize, i32> = BTreeMap::new();
        for it in &items {
            *by_product.entry(it.product).or_insert(0) += sign;
        }
        for (&c, &q) in &by_product {
            *self.visits[v].cart.entry(c).or_insert(0) += q;
            self.actions.push(TruthAction {
                t_start_s: t_in,
                t_end_s: t_out,
                target_id: self.visits[v].script.target_id.clone(),
                barcode: self.store.products[c].barcode.clone(),
                quantity: q,
                plates: keys.clone(),
                hard,
                to_target: None,
            });
        }
        if pick {
            self.visits[v].holding.extend(items);
        }
        (t_in, t_out)
    }

    pub(super) fn pair_action(&mut self, a: usize, b: usize, plan: Plan, ts: f64, busy: &[usize]) {
        match plan {
            Plan::Hard(HardCase::Simultaneous) => self.simultaneous(a, b, ts, busy),
            Plan::Hard(HardCase::CrossedArms) => self.crossed_arms(a, b, ts, busy),
            Plan::Hard(HardCase::HandOver) => self.hand_over(a, b, ts),
            _ => unreachable!("pair plans only"),
        }
    }

    pub(super) fn simultaneous(&mut self, a: usize, b: usize, ts: f64, busy: &[usize]) {
        let avoid = self.taken_x(busy, a);
        let Some(fa) = self.random_product_facing(&avoid, None, None) else { return self.idle(a, ts) };
        let shelf = self.store.shelf_of[self.store.facings[fa].plates[0]];
        let Some(fb) = self.random_product_facing(&[], Some(shelf), Some(fa)) else {
            self.idle(b, ts);
            self.reach_and_move(a, fa, None, ts, 0.0, true, HardCase::None, Vec::new());
            self.visits[a].actions_left -= 1;
            return;
        };
        let (xa, xb) = (self.store.facings[fa].bounds.center().x, self.store.facings[fb].bounds.center().x);
        // Bodies side by side at least 0.5 m apart, each near its facing.
        let mid = (xa + xb) / 2.0;
        let half = ((xa - xb).abs() / 2.0).max(0.25);
        let (sa, sb) = if xa <= xb { (mid - half, mid + half) } else { (mid + half, mid - half) };
        let t0 = ts + 5.0 + self.rng.random_range(0.0..1.0);
        let tb = t0 + self.rng.random_range(-0.3..0.3);
        let ya = 0.75 + self.rng.random_range(-0.1..0.1);
        let yb = 0.75 + self.rng.random_range(-0.1..0.1);
        let na = self.actions.len();
        self.reach_and_move(a, fa, Some((sa, ya)), ts, t0, true, HardCase::Simultaneous, Vec::new());
        self.reach_and_move(b, fb, Some((sb, yb)), ts, tb, true, HardCase::Simultaneous, Vec::new());
        for act in &mut self.actions[na..] {
            act.hard = HardCase::Simultaneous;
        }
        self.visits[a].actions_left -= 1;
        self.visits[b].actions_left -= 1;
    }

    pub(super) fn crossed_arms(&mut self, a: usize, b: usize, ts: f64, busy: &[usize]) {
        let avoid = self.taken_x(busy, a);
        let Some(fi) = self.random_product_facing(&avoid, None, None) else { return self.idle(a, ts) };
        let bounds = self.store.facings[fi].bounds;
        let cx = bounds.center().x;
        // B stands right in front of the facing; A to the side, reaching across.
        self.visits[b].script.walk_to(ts, (cx, 0.62), 5.0);
        let side = if self.rng.random::<bool>() { 1.0 } else { -1.0 };
        let stand_a = (cx + side * self.rng.random_range(0.6..0.9), 0.8);
        let t0 = ts + 5.0 + self.rng.random_range(0.0..1.0);
        let na = self.actions.len();
        self.reach_and_move(a, fi, Some(stand_a), ts, t0, true, HardCase::CrossedArms, Vec::new());
        for act in &mut self.actions[na..] {
            act.hard = HardCase::CrossedArms;
        }
        if self.rng.random::<bool>() {
            // B browses: hands raised just in front of the shelf, outside the facing box.
            let target = Vec3::new(
                cx + self.rng.random_range(-0.1..0.1),
                bounds.max.y + self.rng.random_range(0.08..0.25),
                bounds.min.z + 0.1,
            );
            let hand = self.rng.random_range(0..2);
            let tb = t0 - self.rng.random_range(0.0..1.0);
            self.visits[b].script.hands.push((hand, tb, tb + 0.5, tb + 3.0, tb + 3.5, target));
        }
        self.visits[b].script.path.push((ts + SLOT_S - 0.1, cx, 0.62));
        self.visits[a].actions_left -= 1;
    }

    pub(super) fn hand_over(&mut self, a: usize, b: usize, ts: f64) {
        let k = self.rng.random_range(0..self.visits[a].holding.len());
        let item = self.visits[a].holding.swap_remove(k);
        let (pa, pb) = (self.visits[a].script.last_pos(), self.visits[b].script.last_pos());
        let mx = (pa.0 + pb.0) / 2.0;
        let (sa, sb) = ((mx - 0.4, 1.1), (mx + 0.4, 1.1));
        self.visits[a].script.walk_to(ts, sa, 5.0);
        self.visits[b].script.walk_to(ts, sb, 5.0);
        let t0 = ts + 5.0 + self.rng.random_range(0.0..1.0);
        let meet = Vec3::new(mx, 1.1 - 0.05, 1.1);
        self.visits[a].script.hands.push((0, t0, t0 + 0.5, t0 + 1.5, t0 + 2.0, meet));
        self.visits[b].script.hands.push((1, t0, t0 + 0.5, t0 + 1.5, t0 + 2.0, Vec3::new(mx + 0.05, 1.1, 1.1)));
        for (v, s) in [(a, sa), (b, sb)] {
            self.visits[v].script.path.push((ts + SLOT_S - 0.1, s.0, s.1));
        }
        *self.visits[a].cart.entry(item.product).or_insert(0) -= 1;
        *self.visits[b].cart.entry(item.product).or_insert(0) += 1;
        self.actions.push(TruthAction {
            t_start_s: t0,
            t_end_s: t0 + 2.0,
            target_id: self.visits[a].script.target_id.clone(),
            barcode: self.store.products[item.product].barcode.clone(),
            quantity: -1,
            plates: Vec::new(),
            hard: HardCase::HandOver,
            to_target: Some(self.visits[b].script.target_id.clone()),
        });
        self.visits[b].holding.push(item);
        self.visits[a].actions_left -= 1;
    }

    pub(super) fn render_tracks(&mut self) -> Vec<TrackFrame> {
        let mut frames = Vec::new();
        let dt = 1.0 / self.cfg.track_hz;
        for v in &self.visits {
            let s = &v.script;
            let mut t = s.enter_s;
            while t <= s.exit_s {
                let jt = t + 0.003 * std_normal(&mut self.rng);
                let clean = s.joints(jt);
                let mut f = TrackFrame::new(jt, s.target_id.clone());
                f.state = "TARGETSTATE_VALID_ENTRANCE".into();
                for (k, p) in clean.iter().enumerate() {
                    if self.rng.random::<f64>() < self.cfg.joint_dropout {
                        continue;
                    }
                    let n = self.cfg.joint_noise_m;
                    f.joints[k] = Some(Vec3::new(
                        p.x + n * std_normal(&mut self.rng),
                        p.y + n * std_normal(&mut self.rng),
                        p.z + n * std_normal(&mut self.rng),
                    ));
                    f.scores[k] = self.rng.random_range(0.7..1.0);
                }
                frames.push(f);
                t += dt;
            }
        }
        frames.sort_by(|a, b| a.t_s.total_cmp(&b.t_s).then_with(|| a.target_id.cmp(&b.target_id)));
        frames
    }

    pub(super) fn render_plates(&mut self, t_end: f64) -> Vec<PlateSample> {
        let st = &mut self.store;
        for evs in &mut st.events {
            evs.sort_by(|a, b| a.t0.total_cmp(&b.t0));
        }
        let n = st.keys.len();
        let gondolas = st.keys.iter().map(|k| k.gondola).max().unwrap_or(0) as usize;
        let mut phase: Vec<(f64, usize)> =
            (0..gondolas).map(|g| (self.rng.random_range(0.0..1.0 / self.cfg.sample_hz), g + 1)).collect();
        phase.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut base: Vec<f64> = st.tare_g.clone();
        // Initial loads: everything on the shelves at the end, minus what arrived, plus what left.
        for f in &st.facings {
            for it in &f.stock {
                for &(p, w) in &it.split {
                    base[p] += it.weight_g * w;
                }
            }
        }
        for (p, evs) in st.events.iter().enumerate() {
            base[p] -= evs.iter().map(|e| e.delta_g).sum::<f64>();
        }
        let mut first = vec![0usize; n];
        let mut ar = vec![0.0f64; n];
        let mut spike_left = vec![0u8; n];
        let mut spike_g = vec![0.0f64; n];
        let ticks = ((t_end - self.cfg.t0_s) * self.cfg.sample_hz) as usize;
        let mut out = Vec::with_capacity(ticks * n);
        let phi = 0.6f64;
        let innov = (1.0 - phi * phi).sqrt();
        let plates_by_g: Vec<Vec<usize>> =
            (1..=gondolas).map(|g| (0..n).filter(|&p| st.keys[p].gondola as usize == g).collect()).collect();
        for k in 0..ticks {
            for &(ph, g) in &phase {
                let t = self.cfg.t0_s + k as f64 / self.cfg.sample_hz + ph;
                let t_q = (t * 1e4).round() / 1e4;
                for &p in &plates_by_g[g - 1] {
                    let evs = &st.events[p];
                    while first[p] < evs.len() && evs[first[p]].t1 + TAIL_S <= t {
                        base[p] += evs[first[p]].delta_g;
                        first[p] += 1;
                    }
                    let mut v = base[p];
                    for e in &evs[first[p]..] {
                        if e.t0 > t {
                            break;
                        }
                        v += transient(e, t, &mut self.rng);
                    }
                    ar[p] = phi * ar[p] + innov * st.sigma_g[p] * std_normal(&mut self.rng);
                    v += ar[p];
                    if spike_left[p] > 0 {
                        spike_left[p] -= 1;
                        v += spike_g[p];
                    } else if self.rng.random::<f64>() < 0.0005 {
                        spike_left[p] = self.rng.random_range(0..3);
                        spike_g[p] =
                            self.rng.random_range(5.0..60.0) * if self.rng.random::<bool>() { 1.0 } else { -1.0 };
                        v += spike_g[p];
                    }
                    out.push(PlateSample { t_s: t_q, plate: p as u32, grams: ((v * 100.0).round() / 100.0) as f32 });
                }
            }
        }
        out
    }

    pub(super) fn into_output(self, samples: Vec<PlateSample>, frames: Vec<TrackFrame>) -> SimOutput {
        let st = &self.store;
        let mut planogram = Vec::new();
        for (p, key) in st.keys.iter().enumerate() {
            let product = st.facing_of_plate[p].and_then(|f| st.facings[f].product);
            planogram.push(match product {
                Some(c) => PlanogramRow {
                    plate: *key,
                    barcode: Some(st.products[c].barcode.clone()),
                    name: format!("Simulated product {}", c + 1),
                    unit_weight_g: st.products[c].unit_weight_g,
                },
                None => PlanogramRow { plate: *key, barcode: None, name: String::new(), unit_weight_g: 0.0 },
            });
        }
        let facings = st
            .facings
            .iter()
            .map(|f| FacingRow {
                barcode: f.product.map(|c| st.products[c].barcode.clone()),
                gondola: st.keys[f.plates[0]].gondola,
                shelf: st.keys[f.plates[0]].shelf,
                plates: f.plates.iter().map(|&p| st.keys[p].plate).collect(),
                corner: f.bounds.min,
                dim: Vec3::new(
                    f.bounds.max.x - f.bounds.min.x,
                    f.bounds.max.y - f.bounds.min.y,
                    f.bounds.max.z - f.bounds.min.z,
                ),
            })
            .collect();
        let truth = self
            .visits
            .iter()
            .map(|v| {
                Receipt::from_counts(
                    v.script.target_id.clone(),
                    v.cart.iter().map(|(&c, &q)| (st.products[c].barcode.clone(), q as i64)),
                )
            })
            .collect();
        // A store without a body tracker knows its shoppers from the gates.
        let mut gates: Vec<GateEvent> = Vec::new();
        if self.cfg.weight_only {
            for v in &self.visits {
                let id = &v.script.target_id;
                gates.push(GateEvent { t_s: v.script.enter_s, target_id: id.clone(), enter: true });
                gates.push(GateEvent { t_s: v.script.exit_s, target_id: id.clone(), enter: false });
            }
            gates.sort_by(|a, b| a.t_s.total_cmp(&b.t_s).then(b.enter.cmp(&a.enter)));
        }
        SimOutput {
            recording: Recording { plate_keys: st.keys.clone(), samples, planogram, facings, frames, gates },
            truth,
            actions: self.actions,
        }
    }
}
