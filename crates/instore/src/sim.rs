//! Store simulator with ground truth: generates a recording in the [`crate::recording`] format
//! (60 Hz plates, ~11 Hz body tracks, planogram, facings) plus the true receipts (`truth.jsonl`).
//! Deterministic for a seed (`rand::rngs::StdRng`).
//!
//! # Calibration (from the published AiFi figures, see `FORMAT.md`)
//! * Rest noise: per-plate σ log-normal with median 0.6 g and p90 2.6 g (σ_ln = 1.15, so p99 ≈
//!   9 g), capped at 25 g; AR(1) correlated (φ = 0.6); spikes of 5–60 g on 0.05 % of samples.
//! * Picks: 0.5–1.5 s of high-variance transient (hand pressing, lifting: an oscillation of
//!   20–80 % of the item weight plus jitter), the weight leaving at a random point inside it, a
//!   decaying wobble after; the rest of the shelf vibrates by 1–6 g meanwhile.
//! * Items weigh their catalogue weight ±0.6 % (σ) and rest on 1–2 plates of their facing; 4 % of
//!   items lean 5–30 % onto the neighbouring product's plate. Multi-unit picks therefore spread
//!   over 1–4 plates. Facings span 1–3 plates; 5 % of plates are empty.
//! * Near-equal neighbours: a new product copies the weight of a shelf-mate ±9 g with probability
//!   `near_equal_share` (default 0.6 → about a third of same-shelf pairs within 10 g, checked by
//!   the `simulator_is_calibrated_on_the_published_figures` test).
//! * 1–`max_concurrent` shoppers inside; about a quarter of actions are put-backs.
//! * Joints: head, neck, shoulders, elbows, wrists, hands with 3 cm noise and 3 % dropouts.
//!
//! # Hard cases (share `hard_share` of actions, kinds weighted by [`HardMix`])
//! * **Simultaneous**: two shoppers pick on the same shelf within ±0.3 s (any two facings, so
//!   sometimes adjacent ones). Observable: the plate split separates them when the facings
//!   differ; hands separate the shoppers. Adjacent facings with near-equal weights are genuinely
//!   ambiguous when a leaning item moves weight across the boundary.
//! * **Crossed arms**: the picker stands 0.6–0.9 m to the side and reaches across a second
//!   shopper who stands right in front of the facing (half of the time with hands raised near
//!   the shelf front). Body-position attribution fails by construction; hand joints still
//!   separate them unless noise brings the bystander's hand within a few cm of the box.
//! * **Hand-over**: A picks, later hands the item to B (hands meet in the aisle for 1 s). Truth
//!   follows who leaves with it (B). **Weight sensors cannot see a hand-over and the tracker
//!   cannot see which object moved**, so the engine keeps the item on A's cart: every hand-over
//!   is an expected error (two wrong lines) unless the caller maps both targets to one account
//!   (a group), which is the intended deployment answer.
//! * **Misplaced put-back**: an item is returned onto another product's plates (usually another
//!   shelf). Observable from the weight (matched against what the shopper holds); ambiguous when
//!   the shopper holds two products of near-equal weight. The item then really lies there and a
//!   later shopper may pick it.
//! * **Slow pick**: 2.5–4.5 s of transient instead of 0.5–1.5 s.

use std::collections::BTreeMap;
use std::path::Path;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::error::{Error, Result};
use crate::model::{Aabb, Joint, PlateKey, TrackFrame, Vec3, JOINT_COUNT};
use crate::receipt::{write_jsonl, Receipt};
use crate::recording::{write_recording, FacingRow, PlanogramRow, PlateSample, Recording};

/// Plate width (4 in) and depth (16 in) in metres, as in the AiFi store.
pub const PLATE_WIDTH_M: f64 = 0.1016;
pub const PLATE_DEPTH_M: f64 = 0.4064;
/// Largest simulated store and run.
pub const MAX_SIM_PLATES: usize = 4096;
pub const MAX_SIM_VISITS: usize = 10_000;

/// Relative weights of the hard-case kinds.
#[derive(Debug, Clone, PartialEq)]
pub struct HardMix {
    pub simultaneous: f64,
    pub crossed_arms: f64,
    pub hand_over: f64,
    pub misplaced_put_back: f64,
    pub slow_pick: f64,
}

impl Default for HardMix {
    fn default() -> Self {
        HardMix { simultaneous: 1.0, crossed_arms: 1.0, hand_over: 1.0, misplaced_put_back: 1.0, slow_pick: 1.0 }
    }
}

/// Simulation parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    pub seed: u64,
    /// Number of visits (shoppers) in the run.
    pub shoppers: usize,
    /// Largest number of shoppers inside at once (1–4).
    pub max_concurrent: usize,
    pub gondolas: u16,
    pub shelves: u16,
    pub plates: u16,
    /// Share of actions that are hard cases (0–1).
    pub hard_share: f64,
    pub hard_mix: HardMix,
    /// Probability that an action of a shopper who holds something is a put-back.
    pub put_back_given_holding: f64,
    pub min_actions: usize,
    pub max_actions: usize,
    pub empty_plate_share: f64,
    pub near_equal_share: f64,
    pub joint_noise_m: f64,
    pub joint_dropout: f64,
    pub sample_hz: f64,
    pub track_hz: f64,
    pub t0_s: f64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 1,
            shoppers: 20,
            max_concurrent: 3,
            gondolas: 2,
            shelves: 6,
            plates: 12,
            hard_share: 0.0,
            hard_mix: HardMix::default(),
            put_back_given_holding: 0.33,
            min_actions: 1,
            max_actions: 5,
            empty_plate_share: 0.05,
            near_equal_share: 0.6,
            joint_noise_m: 0.03,
            joint_dropout: 0.03,
            sample_hz: 60.0,
            track_hz: 11.0,
            t0_s: 1_700_000_000.0,
        }
    }
}

/// Kind of a simulated action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum HardCase {
    None,
    Simultaneous,
    CrossedArms,
    HandOver,
    MisplacedPutBack,
    SlowPick,
}

/// One true action: `quantity` units added to `target_id`'s cart (negative = returned).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TruthAction {
    pub t_start_s: f64,
    /// End of the weight transient (the true settle time); for hand-overs the end of the meeting.
    pub t_end_s: f64,
    pub target_id: String,
    pub barcode: String,
    pub quantity: i32,
    pub plates: Vec<PlateKey>,
    pub hard: HardCase,
    /// For hand-overs: who received the item.
    pub to_target: Option<String>,
}

/// Simulator output.
#[derive(Debug, Clone)]
pub struct SimOutput {
    pub recording: Recording,
    /// One receipt per visit, in order of entry.
    pub truth: Vec<Receipt>,
    pub actions: Vec<TruthAction>,
}

impl SimOutput {
    /// Share of cart-changing actions that were hard cases (hand-overs count once).
    pub fn realized_hard_share(&self) -> f64 {
        let n = self.actions.len().max(1) as f64;
        self.actions.iter().filter(|a| a.hard != HardCase::None).count() as f64 / n
    }
    /// Share of actions that return an item to a shelf.
    pub fn put_back_share(&self) -> f64 {
        let n = self.actions.iter().filter(|a| a.to_target.is_none()).count().max(1) as f64;
        self.actions.iter().filter(|a| a.to_target.is_none() && a.quantity < 0).count() as f64 / n
    }
}

/// Standard normal (Box–Muller), so the crate needs no `rand_distr`.
pub fn std_normal(rng: &mut impl Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-300);
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[derive(Debug, Clone)]
struct Item {
    product: usize,
    weight_g: f64,
    split: Vec<(usize, f64)>,
}

#[derive(Debug, Clone)]
struct Facing {
    product: Option<usize>,
    plates: Vec<usize>,
    bounds: Aabb,
    stock: Vec<Item>,
}

#[derive(Debug, Clone)]
struct SimProduct {
    barcode: String,
    unit_weight_g: f64,
    home_facing: usize,
}

#[derive(Debug, Clone, Copy)]
struct LoadEvent {
    t0: f64,
    t1: f64,
    delta_g: f64,
    amp_g: f64,
    freq_hz: f64,
    phase: f64,
    step_u: f64,
}

/// Tail after a transient during which the wobble decays (s).
const TAIL_S: f64 = 0.6;
/// Slot length (s): walk (≤ 5 s), reach, transient, retract.
const SLOT_S: f64 = 12.0;
const DOOR: (f64, f64) = (-1.0, 1.2);

struct Store {
    keys: Vec<PlateKey>,
    tare_g: Vec<f64>,
    sigma_g: Vec<f64>,
    shelf_of: Vec<usize>,
    shelf_plates: Vec<Vec<usize>>,
    shelf_z: Vec<f64>,
    facings: Vec<Facing>,
    facing_of_plate: Vec<Option<usize>>,
    products: Vec<SimProduct>,
    events: Vec<Vec<LoadEvent>>,
}

impl Store {
    fn build(cfg: &SimConfig, rng: &mut StdRng) -> Store {
        let (g_n, s_n, p_n) = (cfg.gondolas as usize, cfg.shelves as usize, cfg.plates as usize);
        let gondola_len = p_n as f64 * PLATE_WIDTH_M;
        let mut st = Store {
            keys: Vec::new(),
            tare_g: Vec::new(),
            sigma_g: Vec::new(),
            shelf_of: Vec::new(),
            shelf_plates: Vec::new(),
            shelf_z: Vec::new(),
            facings: Vec::new(),
            facing_of_plate: Vec::new(),
            products: Vec::new(),
            events: Vec::new(),
        };
        for g in 0..g_n {
            let x0 = g as f64 * (gondola_len + 0.3);
            for s in 0..s_n {
                let shelf = st.shelf_plates.len();
                let z = 0.25 + s as f64 * 0.3;
                st.shelf_z.push(z);
                let mut plates = Vec::new();
                for p in 0..p_n {
                    let idx = st.keys.len();
                    st.keys.push(PlateKey { gondola: g as u16 + 1, shelf: s as u16 + 1, plate: p as u16 + 1 });
                    st.tare_g.push(rng.random_range(-500.0..2000.0));
                    let sigma = (0.6f64.ln() + 1.15 * std_normal(rng)).exp().clamp(0.15, 25.0);
                    st.sigma_g.push(sigma);
                    st.shelf_of.push(shelf);
                    st.facing_of_plate.push(None);
                    st.events.push(Vec::new());
                    plates.push(idx);
                }
                st.shelf_plates.push(plates.clone());
                st.fill_shelf(cfg, rng, &plates, x0, z);
            }
        }
        st
    }

    fn fill_shelf(&mut self, cfg: &SimConfig, rng: &mut StdRng, plates: &[usize], x0: f64, z: f64) {
        let mut k = 0;
        let mut shelf_products: Vec<usize> = Vec::new();
        while k < plates.len() {
            let empty = rng.random::<f64>() < cfg.empty_plate_share;
            let width = if empty {
                1
            } else {
                let r: f64 = rng.random();
                (if r < 0.3 {
                    1
                } else if r < 0.75 {
                    2
                } else {
                    3
                })
                .min(plates.len() - k)
            };
            let fp: Vec<usize> = plates[k..k + width].to_vec();
            let bounds = Aabb::from_corner(
                Vec3::new(x0 + k as f64 * PLATE_WIDTH_M, 0.0, z),
                Vec3::new(width as f64 * PLATE_WIDTH_M, PLATE_DEPTH_M, 0.25),
            );
            let fi = self.facings.len();
            let product = (!empty).then(|| {
                let w = if !shelf_products.is_empty() && rng.random::<f64>() < cfg.near_equal_share {
                    let other = shelf_products[rng.random_range(0..shelf_products.len())];
                    (self.products[other].unit_weight_g + rng.random_range(-9.0..9.0)).max(20.0)
                } else {
                    (40f64.ln() + rng.random::<f64>() * (1600f64 / 40.0).ln()).exp()
                };
                let w = (w * 100.0).round() / 100.0;
                let id = self.products.len();
                self.products.push(SimProduct {
                    barcode: format!("29{:010}", id + 1),
                    unit_weight_g: w,
                    home_facing: fi,
                });
                shelf_products.push(id);
                id
            });
            for &p in &fp {
                self.facing_of_plate[p] = Some(fi);
            }
            self.facings.push(Facing { product, plates: fp, bounds, stock: Vec::new() });
            if let Some(c) = product {
                let w = self.products[c].unit_weight_g;
                let per_plate = ((1500.0 / w).floor() as usize).clamp(2, 10);
                for _ in 0..per_plate * width {
                    let item = self.new_item(rng, c, fi);
                    self.facings[fi].stock.push(item);
                }
            }
            k += width;
        }
    }

    /// An item of `product` placed on facing `fi`: on one plate or straddling two; sometimes
    /// leaning onto the neighbouring plate outside the facing.
    fn new_item(&self, rng: &mut StdRng, product: usize, fi: usize) -> Item {
        let w = self.products[product].unit_weight_g * (1.0 + 0.006 * std_normal(rng)).clamp(0.98, 1.02);
        let plates = &self.facings[fi].plates;
        let i = rng.random_range(0..plates.len());
        let mut split = if plates.len() > 1 && rng.random::<f64>() < 0.4 {
            let j = if i + 1 < plates.len() { i + 1 } else { i - 1 };
            let f = rng.random_range(0.2..0.8);
            vec![(plates[i], f), (plates[j], 1.0 - f)]
        } else {
            vec![(plates[i], 1.0)]
        };
        if rng.random::<f64>() < 0.04 {
            let shelf = &self.shelf_plates[self.shelf_of[plates[0]]];
            let first = shelf.iter().position(|&p| p == plates[0]).expect("plate on its shelf");
            let last = first + plates.len() - 1;
            let outside =
                if rng.random::<bool>() { first.checked_sub(1) } else { Some(last + 1).filter(|&x| x < shelf.len()) };
            if let Some(o) = outside {
                let lean = rng.random_range(0.05..0.3);
                for s in &mut split {
                    s.1 *= 1.0 - lean;
                }
                split.push((shelf[o], lean));
            }
        }
        Item { product, weight_g: w, split }
    }

    /// Adds the plate transients of moving `items` (sign −1 = removed, +1 = added) at `[t0, t1]`.
    fn add_transient(&mut self, rng: &mut StdRng, items: &[Item], sign: f64, t0: f64, t1: f64) {
        let mut per_plate: BTreeMap<usize, f64> = BTreeMap::new();
        let mut total = 0.0;
        for it in items {
            total += it.weight_g;
            for &(p, f) in &it.split {
                *per_plate.entry(p).or_insert(0.0) += sign * it.weight_g * f;
            }
        }
        let step_u = rng.random_range(0.3..0.7);
        let shelf = self.shelf_of[*per_plate.keys().next().expect("items have plates")];
        for &p in &self.shelf_plates[shelf].clone() {
            let (delta, amp) = match per_plate.get(&p) {
                Some(&d) => (d, (total * rng.random_range(0.2..0.8)).min(400.0)),
                None => (0.0, rng.random_range(1.0..6.0)),
            };
            self.events[p].push(LoadEvent {
                t0,
                t1,
                delta_g: delta,
                amp_g: amp,
                freq_hz: rng.random_range(2.0..7.0),
                phase: rng.random_range(0.0..std::f64::consts::TAU),
                step_u,
            });
        }
    }
}

/// Body script of one visit.
#[derive(Debug, Clone, Default)]
struct Script {
    target_id: String,
    height: f64,
    enter_s: f64,
    exit_s: f64,
    /// Body floor positions over time (linear interpolation).
    path: Vec<(f64, f64, f64)>,
    /// Hand moves: (hand 0 = left / 1 = right, t0, t_in, t_out, t1, target).
    hands: Vec<(usize, f64, f64, f64, f64, Vec3)>,
}

impl Script {
    fn pos(&self, t: f64) -> (f64, f64) {
        let p = &self.path;
        if t <= p[0].0 {
            return (p[0].1, p[0].2);
        }
        for w in p.windows(2) {
            if t <= w[1].0 {
                let u = if w[1].0 > w[0].0 { (t - w[0].0) / (w[1].0 - w[0].0) } else { 1.0 };
                return (w[0].1 + (w[1].1 - w[0].1) * u, w[0].2 + (w[1].2 - w[0].2) * u);
            }
        }
        let l = p[p.len() - 1];
        (l.1, l.2)
    }
    fn last_pos(&self) -> (f64, f64) {
        let l = self.path[self.path.len() - 1];
        (l.1, l.2)
    }
    fn walk_to(&mut self, t: f64, to: (f64, f64), max_s: f64) -> f64 {
        let from = self.last_pos();
        let d = ((to.0 - from.0).powi(2) + (to.1 - from.1).powi(2)).sqrt();
        let dur = (d / 1.3).clamp(0.3, max_s);
        self.path.push((t, from.0, from.1));
        self.path.push((t + dur, to.0, to.1));
        t + dur
    }

    /// Joints at time `t` (noise-free), body facing −y (towards the gondolas).
    fn joints(&self, t: f64) -> [Vec3; JOINT_COUNT] {
        let (x, y) = self.pos(t);
        let h = self.height;
        let side = |s: usize| if s == 1 { -1.0 } else { 1.0 }; // right hand is on −x
        let mut j = [Vec3::default(); JOINT_COUNT];
        j[Joint::Head.index()] = Vec3::new(x, y + 0.02, 1.65 * h);
        j[Joint::Neck.index()] = Vec3::new(x, y, 1.48 * h);
        for s in 0..2 {
            let sx = side(s);
            let shoulder = Vec3::new(x + 0.19 * sx, y, 1.42 * h);
            let rest_hand = Vec3::new(x + 0.24 * sx, y + 0.03, 0.78 * h);
            let mut hand = rest_hand;
            for &(hs, t0, t_in, t_out, t1, target) in &self.hands {
                if hs != s || t < t0 || t > t1 {
                    continue;
                }
                let u = if t < t_in {
                    (t - t0) / (t_in - t0)
                } else if t <= t_out {
                    1.0
                } else {
                    1.0 - (t - t_out) / (t1 - t_out)
                };
                hand = rest_hand.lerp(target, u.clamp(0.0, 1.0));
            }
            let wrist = shoulder.lerp(hand, 0.88);
            let mut elbow = shoulder.lerp(wrist, 0.5);
            elbow.z -= 0.08;
            let (ls, le, lw, lh) = if s == 0 {
                (Joint::LShoulder, Joint::LElbow, Joint::LWrist, Joint::LHand)
            } else {
                (Joint::RShoulder, Joint::RElbow, Joint::RWrist, Joint::RHand)
            };
            j[ls.index()] = shoulder;
            j[le.index()] = elbow;
            j[lw.index()] = wrist;
            j[lh.index()] = hand;
        }
        j
    }
}

struct Visit {
    script: Script,
    actions_left: usize,
    holding: Vec<Item>,
    cart: BTreeMap<usize, i32>,
    busy_until: f64,
    entered_slot: usize,
}

struct Sim<'a> {
    cfg: &'a SimConfig,
    rng: StdRng,
    store: Store,
    visits: Vec<Visit>,
    actions: Vec<TruthAction>,
}

/// Runs the simulator.
pub fn simulate(cfg: &SimConfig) -> Result<SimOutput> {
    validate(cfg)?;
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let store = Store::build(cfg, &mut rng);
    let mut sim = Sim { cfg, rng, store, visits: Vec::new(), actions: Vec::new() };
    let t_end = sim.run_slots();
    let frames = sim.render_tracks();
    let samples = sim.render_plates(t_end);
    Ok(sim.into_output(samples, frames))
}

/// Runs the simulator and writes the recording plus `truth.jsonl` into `dir`.
pub fn simulate_to_dir(cfg: &SimConfig, dir: &Path) -> Result<SimOutput> {
    let out = simulate(cfg)?;
    write_recording(dir, &out.recording)?;
    write_jsonl(&dir.join("truth.jsonl"), &out.truth)?;
    Ok(out)
}

fn validate(cfg: &SimConfig) -> Result<()> {
    let plates = cfg.gondolas as usize * cfg.shelves as usize * cfg.plates as usize;
    if cfg.gondolas == 0 || cfg.shelves == 0 || cfg.plates == 0 || cfg.shelves > 12 || cfg.plates > 48 {
        return Err(Error::invalid("simulator store needs 1+ gondolas, 1-12 shelves, 1-48 plates per shelf"));
    }
    if plates > MAX_SIM_PLATES {
        return Err(Error::limit("simulated plates", MAX_SIM_PLATES as u64, plates as u64));
    }
    if cfg.shoppers == 0 || cfg.shoppers > MAX_SIM_VISITS {
        return Err(Error::limit("simulated visits (1..)", MAX_SIM_VISITS as u64, cfg.shoppers as u64));
    }
    if !(1..=4).contains(&cfg.max_concurrent) {
        return Err(Error::invalid("max_concurrent must be 1-4"));
    }
    if !(0.0..=1.0).contains(&cfg.hard_share) || !(0.0..=1.0).contains(&cfg.put_back_given_holding) {
        return Err(Error::invalid("hard_share and put_back_given_holding must be within 0..=1"));
    }
    if cfg.min_actions == 0 || cfg.max_actions < cfg.min_actions || cfg.max_actions > 50 {
        return Err(Error::invalid("actions per visit must satisfy 1 <= min <= max <= 50"));
    }
    if !(cfg.sample_hz >= 10.0 && cfg.sample_hz <= 200.0 && cfg.track_hz >= 1.0 && cfg.track_hz <= 60.0) {
        return Err(Error::invalid("sample_hz must be 10-200 and track_hz 1-60"));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Plan {
    Normal,
    Hard(HardCase),
}

impl Sim<'_> {
    fn run_slots(&mut self) -> f64 {
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

    fn admit(&mut self, ts: f64, slot: usize) -> usize {
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

    fn choose_plan(&mut self, v: usize, has_partner: bool) -> Plan {
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
    fn taken_x(&self, busy: &[usize], me: usize) -> Vec<f64> {
        busy.iter().filter(|&&b| b != me).map(|&b| self.visits[b].script.last_pos().0).collect()
    }

    fn random_product_facing(
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

    fn solo_action(&mut self, v: usize, plan: Plan, ts: f64, busy: &[usize]) {
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

    fn idle(&mut self, v: usize, ts: f64) {
        let (x, y) = self.visits[v].script.last_pos();
        self.visits[v].script.path.push((ts + SLOT_S - 0.1, x, y));
    }

    /// Walks to a stand point, reaches into facing `fi` and picks (or returns `items`).
    /// Returns (hand-in time, transient end).
    #[allow(clippy::too_many_arguments)]
    fn reach_and_move(
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

    fn pair_action(&mut self, a: usize, b: usize, plan: Plan, ts: f64, busy: &[usize]) {
        match plan {
            Plan::Hard(HardCase::Simultaneous) => self.simultaneous(a, b, ts, busy),
            Plan::Hard(HardCase::CrossedArms) => self.crossed_arms(a, b, ts, busy),
            Plan::Hard(HardCase::HandOver) => self.hand_over(a, b, ts),
            _ => unreachable!("pair plans only"),
        }
    }

    fn simultaneous(&mut self, a: usize, b: usize, ts: f64, busy: &[usize]) {
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

    fn crossed_arms(&mut self, a: usize, b: usize, ts: f64, busy: &[usize]) {
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

    fn hand_over(&mut self, a: usize, b: usize, ts: f64) {
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

    fn render_tracks(&mut self) -> Vec<TrackFrame> {
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

    fn render_plates(&mut self, t_end: f64) -> Vec<PlateSample> {
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

    fn into_output(self, samples: Vec<PlateSample>, frames: Vec<TrackFrame>) -> SimOutput {
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
        SimOutput {
            recording: Recording { plate_keys: st.keys.clone(), samples, planogram, facings, frames },
            truth,
            actions: self.actions,
        }
    }
}

fn plate_box(st: &Store, p: usize) -> Aabb {
    let f = &st.facings[st.facing_of_plate[p].expect("every plate has a facing")];
    let k = f.plates.iter().position(|&q| q == p).expect("plate in its facing") as f64;
    let mut b = f.bounds;
    b.min.x += k * PLATE_WIDTH_M;
    b.max.x = b.min.x + PLATE_WIDTH_M;
    b
}

/// Contribution of one load event at time `t` (weight step, hand oscillation, jitter, tail).
fn transient(e: &LoadEvent, t: f64, rng: &mut StdRng) -> f64 {
    let dur = (e.t1 - e.t0).max(1e-3);
    if t < e.t1 {
        let u = (t - e.t0) / dur;
        let step = ((u - e.step_u + 0.1) / 0.2).clamp(0.0, 1.0);
        let env = (std::f64::consts::PI * u).sin();
        let osc = e.amp_g * env * (std::f64::consts::TAU * e.freq_hz * (t - e.t0) + e.phase).sin();
        e.delta_g * step + osc + 0.15 * e.amp_g * env * std_normal(rng)
    } else {
        let dt = t - e.t1;
        e.delta_g + 0.3 * e.amp_g * (-dt / 0.12).exp() * (std::f64::consts::TAU * e.freq_hz * dt).sin()
    }
}
