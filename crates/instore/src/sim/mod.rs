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

mod run;

use std::collections::BTreeMap;
use std::path::Path;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::error::{Error, Result};
use crate::model::{Aabb, Joint, PlateKey, TrackFrame, Vec3, JOINT_COUNT};
use crate::receipt::{write_jsonl, Receipt};
use crate::recording::{write_recording, FacingRow, GateEvent, PlanogramRow, PlateSample, Recording};

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
    /// A store without a body tracker: the recording has gate passages (`gates.csv`) and no
    /// `targets.csv`. With `max_concurrent` 1 it is a smart cabinet (one shopper at a time).
    pub weight_only: bool,
    /// Builds the shelves from this seed instead of `seed`, so that runs with different shoppers share
    /// one store (the demo's live store keeps its planogram from round to round).
    pub layout_seed: Option<u64>,
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
            weight_only: false,
            layout_seed: None,
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
    let store = match cfg.layout_seed {
        Some(l) => Store::build(cfg, &mut StdRng::seed_from_u64(l)),
        None => Store::build(cfg, &mut rng),
    };
    let mut sim = Sim { cfg, rng, store, visits: Vec::new(), actions: Vec::new() };
    let t_end = sim.run_slots();
    let frames = if cfg.weight_only { Vec::new() } else { sim.render_tracks() };
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
