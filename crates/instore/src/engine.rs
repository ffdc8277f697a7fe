//! The streaming fusion engine: plate samples (60 Hz) and body-track frames (~11 Hz) in,
//! virtual carts, review items and cart-update events out. The same code runs live (fed sample by
//! sample from MQTT) and in replay.
//!
//! # Pipeline
//! 1. **Settle detection** per plate ([`crate::settle`]): O(1) per sample, no allocation.
//! 2. **Shelf grouping**: settled changes on one shelf are collected into a group until the
//!    shelf has been quiet for [`EngineConfig::group_gap_s`] (no plate with a pending large
//!    deviation) or [`EngineConfig::group_max_wait_s`] has passed; the group is then cut into
//!    clusters of adjacent changed plates (a product's weight splits over 1–4 adjacent plates).
//! 3. **Attribution**: for each cluster the box of its plates (from facings) is compared with the
//!    wrist/hand joints of every shopper between `t_start − attribution_pre_s` and the settle
//!    time. Per frame the best joint's *signed depth* in the box is taken (negative inside,
//!    elbows handicapped by [`EngineConfig::elbow_penalty_m`]); a shopper's figure is the mean of
//!    its deepest frames, and its likelihood `exp(−depth / hand_depth_scale_m)`: the hand that
//!    went into the box beats the hand that only came close (neighbour facing, crossed arms).
//!    Probabilities are normalised over shoppers; with a single shopper inside it is 1. The
//!    lines of one event (two products moved at once) are assigned **jointly** over all
//!    line→shopper assignments, so two shoppers at neighbouring facings are not 50/50.
//!    **Hand-overs** are detected from the tracks (two shoppers' stretched-out hands together in
//!    the aisle for ≥ 0.5 s) and moved between carts when the carts make giver and item
//!    unambiguous; otherwise their possible explanations are kept until a later put-back settles
//!    them (the receiver returns an item only the hand-over can have brought, or a shopper
//!    returns the last unit it would have given away); one still unsettled when a shopper
//!    leaves is applied only if its most probable explanation has a majority.
//! 4. **Identification** ([`crate::identify`]): picks are explained by products on (or next to)
//!    the changed plates, put-backs by products the candidate shoppers hold; for put-backs
//!    shopper and product are chosen jointly.
//! 5. **Decision**: confidence = identification probability × attribution probability × a reach
//!    factor. At or above [`EngineConfig::review_threshold`] the cart is updated (and the live
//!    planogram, for misplaced returns); below it a [`ReviewItem`] is queued instead and nothing
//!    is applied until [`Engine::resolve_review`].

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::error::{Error, Result};
use crate::identify::{self, Hypothesis, IdentifyConfig, IdentifyInput};
use crate::model::{Aabb, Joint, PlateKey, StoreLayout, TrackFrame, Vec3};
use crate::receipt::{Receipt, ReceiptLine};
use crate::settle::{PlateChange, SettleConfig, SettleDetector, Transition};

/// Largest number of shoppers tracked at once (present + exited with unreported carts).
pub const MAX_SHOPPERS: usize = 4096;

/// Engine thresholds; every field is documented with its reason.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    pub settle: SettleConfig,
    pub identify: IdentifyConfig,
    /// A settled plate delta smaller than `max(min_change_g, change_sigmas · σ)` is noise.
    pub min_change_g: f64,
    pub change_sigmas: f64,
    /// A shelf group closes after this much quiet (s): adjacent plates of one pick settle
    /// within a few samples of each other.
    pub group_gap_s: f64,
    /// A shelf group closes at the latest this long after its last settled change (s), even if a
    /// neighbour plate keeps vibrating.
    pub group_max_wait_s: f64,
    /// Attribution window starts this long before the event started (s): the hand reaches in
    /// before the weight moves.
    pub attribution_pre_s: f64,
    /// Unused since attribution uses the signed hand depth ([`EngineConfig::hand_depth_scale_m`]);
    /// kept so existing configurations still compile.
    pub hand_scale_m: f64,
    /// Elbows are used too (wrists drop out), handicapped by this distance (m).
    pub elbow_penalty_m: f64,
    /// Beyond this closest approach (m) a shopper cannot have touched the shelf.
    pub max_reach_m: f64,
    /// Depth scale (m) of the attribution likelihood `exp(−depth / hand_depth_scale_m)` over the
    /// signed hand depth (negative inside the box): the hand that went *into* the box beats the
    /// hand that only came close. The depth is averaged over the deepest frames
    /// ([`EngineConfig::depth_frames`]), so its noise is ≈ 1.5 cm.
    pub hand_depth_scale_m: f64,
    /// Number of deepest frames averaged per shopper.
    pub depth_frames: usize,
    /// Likelihood factor for one shopper taking two different products in one event (two hands):
    /// simultaneous lines are assigned jointly, preferring one line per shopper.
    pub same_shopper_two_lines: f64,
    /// Prior factor of a shopper's hand going into a box without moving anything, used to weigh
    /// one-line against multi-line explanations of a pick when several hands were inside.
    pub idle_reach_prior: f64,
    /// Hand-over detection: two shoppers' hands closer than this (m), away from the shelves ...
    pub handover_hand_gap_m: f64,
    /// ... for at least this long (s).
    pub handover_min_s: f64,
    /// An unsettled hand-over (direction or item not implied by the carts, nor settled by a later
    /// put-back) is applied when one of its shoppers leaves only if its most probable
    /// explanation has more than this share of the probability: above one half, moving the
    /// unit lowers the expected number of wrong receipt lines.
    pub handover_decide_p: f64,
    /// A meeting of two shoppers that starts at most this long (s) after their previous
    /// hand-over ended, with neither cart changed in between, is the same hand-over (a tracking
    /// dropout split it, or they walk hand in hand): it moves at most one unit.
    pub handover_episode_gap_s: f64,
    /// Events whose confidence is below this go to the review queue.
    pub review_threshold: f64,
    /// A review item lists (and holds the exit of) only shoppers within reach whose attribution
    /// probability is at least this: a shopper the hand model all but rules out is not a
    /// plausible culprit, and listing it would hold its visit for nothing.
    pub review_candidate_min_p: f64,
    /// Track history kept per shopper (s).
    pub track_history_s: f64,
    /// Engine events kept in the outbox before the oldest are dropped.
    pub outbox_limit: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            settle: SettleConfig::default(),
            identify: IdentifyConfig::default(),
            min_change_g: 3.0,
            change_sigmas: 1.5,
            group_gap_s: 0.25,
            group_max_wait_s: 3.0,
            attribution_pre_s: 1.0,
            hand_scale_m: 0.12,
            elbow_penalty_m: 0.12,
            max_reach_m: 0.7,
            hand_depth_scale_m: 0.025,

            depth_frames: 4,
            same_shopper_two_lines: 0.2,
            idle_reach_prior: 0.2,
            handover_hand_gap_m: 0.2,
            handover_min_s: 0.5,
            handover_decide_p: 0.5,
            handover_episode_gap_s: 3.0,
            review_threshold: 0.6,
            review_candidate_min_p: 0.01,
            track_history_s: 30.0,
            outbox_limit: 100_000,
        }
    }
}

/// A shopper that may have caused an event, with its probability and closest approach (m).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CandidateShopper {
    pub target_id: String,
    pub probability: f64,
    pub distance_m: f64,
}

/// A possible cart line of an event: units added to the cart (+ pick, − put-back).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CandidateLine {
    pub barcode: String,
    pub quantity: i32,
    pub probability: f64,
}

/// Why an event was queued for review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ReviewReason {
    /// Identification × attribution confidence below the threshold.
    LowConfidence,
    /// No product (or held item) explains the weight change.
    UnexplainedWeight,
    /// No tracked shopper was within reach.
    NoShopper,
}

/// An event the engine did not apply on its own.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReviewItem {
    pub id: u64,
    pub t_start_s: f64,
    pub t_settled_s: f64,
    pub plates: Vec<PlateKey>,
    pub delta_g: f64,
    pub reason: ReviewReason,
    pub confidence: f64,
    pub shoppers: Vec<CandidateShopper>,
    /// Alternative explanations, best first; each alternative is a set of lines.
    pub products: Vec<Vec<CandidateLine>>,
    pub resolved: bool,
}

/// How a reviewer settles a review item.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    /// Apply `quantity` units of `barcode` to `target_id`'s cart (+ pick, − put-back).
    Assign { target_id: String, barcode: String, quantity: i32 },
    /// Nothing happened (noise, staff restock, ...).
    Dismiss,
}

/// Events for the integrator (live: publish them; replay: inspect them).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum EngineEvent {
    CartUpdated {
        /// Time of the sample at which the cart changed.
        t_s: f64,
        /// Time the last plate of the event was declared settled.
        t_settled_s: f64,
        t_start_s: f64,
        target_id: String,
        barcode: String,
        quantity: i32,
        confidence: f64,
        plates: Vec<PlateKey>,
    },
    ReviewOpened {
        id: u64,
    },
    ReviewResolved {
        id: u64,
    },
}

/// What `exit` returns.
#[derive(Debug, Clone, PartialEq)]
pub struct ExitSummary {
    pub receipt: Receipt,
    /// Unresolved review items that list this shopper as a candidate.
    pub pending_reviews: usize,
}

/// Counters of one engine run.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct EngineStats {
    pub samples: u64,
    pub frames: u64,
    pub plate_events: u64,
    pub shelf_events: u64,
    pub noise_events: u64,
    pub cart_updates: u64,
    pub reviews: u64,
    pub reviews_resolved: u64,
    pub misplaced_returns: u64,
    /// Hand-overs detected from the tracks (two shoppers' hands together in the aisle).
    pub handovers_detected: u64,
    /// Hand-overs applied to the carts (the giver and the item were unambiguous).
    pub handovers_applied: u64,
}

/// Signed depth (m) of `p` in `b`: the Euclidean distance when outside; when inside, minus the
/// smaller horizontal distance to a side face, capped at 5 cm (a hand on the box's centre line of
/// a 10 cm plate is "5 cm deep"; a hand just over the boundary to the neighbour plate is ~0).
fn signed_depth(b: &Aabb, p: Vec3) -> f64 {
    let d = b.distance(p);
    if d > 0.0 {
        return d;
    }
    let dx = (p.x - b.min.x).min(b.max.x - p.x);
    let dy = (p.y - b.min.y).min(b.max.y - p.y);
    -(dx.min(dy).min(0.05))
}

const HAND_JOINTS: [Joint; 6] =
    [Joint::LWrist, Joint::RWrist, Joint::LHand, Joint::RHand, Joint::LElbow, Joint::RElbow];

#[derive(Debug, Clone)]
struct HandFrame {
    t_s: f64,
    pts: [Option<Vec3>; 6],
    /// Body position (neck, head, shoulders), for hand-over detection.
    body: Option<Vec3>,
}

/// A hand-over seen in the tracks: two shoppers' hands together in the aisle.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HandOver {
    pub t_start_s: f64,
    pub t_end_s: f64,
    /// The two target ids, in order of entry.
    pub targets: [String; 2],
    /// What was applied: (giver, receiver, barcode), or `None` when the carts do not tell who
    /// gave what (both hold items, or the giver holds several products).
    pub applied: Option<(String, String, String)>,
}

/// One possible explanation of an unsettled hand-over: `giver` passed a unit of `product` to
/// `taker`, with its prior probability among the hand-over's options.
#[derive(Debug, Clone, Copy)]
struct HandOverOption {
    giver: usize,
    taker: usize,
    product: u32,
    prior: f64,
    /// Units of `product` in the giver's cart when the hand-over ended; 0 for a chain option
    /// (the giver may only hold what an earlier unsettled hand-over brought it).
    units: i32,
}

/// A detected hand-over that the carts did not settle when it ended (both shoppers hold items,
/// or the giver holds several products): kept until a later event leaves one explanation.
#[derive(Debug, Clone)]
struct PendingHandOver {
    /// Index into `Engine::handovers`.
    record: usize,
    t_start_s: f64,
    t_end_s: f64,
    options: Vec<HandOverOption>,
}

/// Longest chain of unsettled hand-overs (beyond the first) followed to explain a put-back.
const HANDOVER_CHAIN_DEPTH: usize = 2;

/// Two shoppers' hands together away from the shelves (a possible hand-over).
#[derive(Debug, Clone)]
struct Meeting {
    a: usize,
    b: usize,
    first_t: f64,
    last_t: f64,
    frames: u32,
}

#[derive(Debug, Clone)]
struct Shopper {
    target_id: String,
    token: Option<String>,
    entered_s: f64,
    present: bool,
    /// The receipt is final: the shopper left and no review holds it. No hand-over moves a unit
    /// to or from it any more.
    settled: bool,
    cart: BTreeMap<u32, i32>,
    /// Bumped on every change of `cart` (tells a split meeting from a new hand-over).
    cart_version: u64,
    history: VecDeque<HandFrame>,
}

#[derive(Debug, Clone, Default)]
struct ShelfGroup {
    changes: Vec<PlateChange>,
    t_last_settled_s: f64,
}

/// The fusion engine. Feed it with [`Engine::push_plate`] / [`Engine::push_track`], call
/// [`Engine::advance`] when time passes without samples, and [`Engine::finish`] at end of stream.
pub struct Engine {
    cfg: EngineConfig,
    layout: StoreLayout,
    detector: SettleDetector,
    groups: Vec<Option<ShelfGroup>>,
    open_shelves: Vec<u32>,
    next_poll_s: f64,
    now_s: f64,
    misplaced: Vec<Vec<(u32, u32)>>,
    shoppers: Vec<Shopper>,
    shopper_index: HashMap<String, usize>,
    meetings: Vec<Meeting>,
    handovers: Vec<HandOver>,
    /// Per entry of `handovers`: the two shoppers (a < b) and their cart versions after the
    /// hand-over was processed.
    handover_pairs: Vec<(usize, usize, u64, u64)>,
    pending_handovers: Vec<PendingHandOver>,
    reviews: Vec<ReviewItem>,
    next_review_id: u64,
    outbox: VecDeque<EngineEvent>,
    stats: EngineStats,
}

/// Poll period for closing shelf groups (s).
const POLL_S: f64 = 0.05;

impl Engine {
    pub fn new(layout: StoreLayout, cfg: EngineConfig) -> Self {
        let n = layout.plate_count();
        Engine {
            detector: SettleDetector::new(n, cfg.settle.clone()),
            groups: vec![None; layout.shelves.len()],
            open_shelves: Vec::new(),
            next_poll_s: f64::NEG_INFINITY,
            now_s: f64::NEG_INFINITY,
            misplaced: vec![Vec::new(); n],
            shoppers: Vec::new(),
            shopper_index: HashMap::new(),
            meetings: Vec::new(),
            handovers: Vec::new(),
            handover_pairs: Vec::new(),
            pending_handovers: Vec::new(),
            reviews: Vec::new(),
            next_review_id: 1,
            outbox: VecDeque::new(),
            stats: EngineStats::default(),
            layout,
            cfg,
        }
    }

    pub fn layout(&self) -> &StoreLayout {
        &self.layout
    }
    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }
    pub fn stats(&self) -> &EngineStats {
        &self.stats
    }

    /// A target appears (entry gate, app check-in). `token` is the customer/app token, if any.
    /// Entering twice is a no-op that keeps the first entry. Several shoppers may be inside.
    pub fn enter(&mut self, target_id: &str, t_s: f64, token: Option<&str>) -> Result<()> {
        if self.shopper_index.contains_key(target_id) {
            return Ok(());
        }
        if self.shoppers.len() >= MAX_SHOPPERS {
            return Err(Error::limit(
                "shoppers tracked by the engine",
                MAX_SHOPPERS as u64,
                self.shoppers.len() as u64 + 1,
            ));
        }
        if target_id.is_empty() || target_id.len() > 128 {
            return Err(Error::invalid("target id must be 1-128 characters"));
        }
        self.shopper_index.insert(target_id.to_string(), self.shoppers.len());
        self.shoppers.push(Shopper {
            target_id: target_id.to_string(),
            token: token.map(str::to_string),
            entered_s: t_s,
            present: true,
            settled: false,
            cart: BTreeMap::new(),
            cart_version: 0,
            history: VecDeque::new(),
        });
        Ok(())
    }

    /// The customer/app token bound at entry.
    pub fn token(&self, target_id: &str) -> Option<&str> {
        self.shopper_index.get(target_id).and_then(|&i| self.shoppers[i].token.as_deref())
    }

    /// Target ids currently inside, in order of entry.
    pub fn present(&self) -> Vec<&str> {
        self.shoppers.iter().filter(|s| s.present).map(|s| s.target_id.as_str()).collect()
    }

    /// Dense plate index for live feeding (resolve once, then call [`Engine::push_plate`]).
    pub fn plate_index(&self, key: PlateKey) -> Option<u32> {
        self.layout.plate_index(key)
    }

    /// Feeds one plate reading (dense plate index from [`Engine::plate_index`]). Samples of one
    /// plate must come in time order. O(1) and allocation-free unless an event completes.
    #[inline]
    pub fn push_plate(&mut self, plate: u32, t_s: f64, grams: f32) {
        self.stats.samples += 1;
        if let Transition::Settled(change) = self.detector.push(plate, t_s, grams) {
            self.on_settled(change);
        }
        if t_s >= self.next_poll_s {
            self.advance(t_s);
        }
    }

    /// Feeds one reading by plate key.
    pub fn push_plate_key(&mut self, key: PlateKey, t_s: f64, grams: f32) -> Result<()> {
        let idx = self.plate_index(key).ok_or_else(|| Error::Unknown { what: format!("plate {key:?}") })?;
        self.push_plate(idx, t_s, grams);
        Ok(())
    }

    /// Feeds one track frame. Unknown targets are entered implicitly (no token); frames of
    /// exited targets are ignored.
    pub fn push_track(&mut self, frame: &TrackFrame) -> Result<()> {
        self.stats.frames += 1;
        if !self.shopper_index.contains_key(&frame.target_id) {
            self.enter(&frame.target_id, frame.t_s, None)?;
        }
        let idx = self.shopper_index[&frame.target_id];
        let keep_s = self.cfg.track_history_s;
        let s = &mut self.shoppers[idx];
        if !s.present {
            return Ok(());
        }
        let mut pts = [None; 6];
        for (k, j) in HAND_JOINTS.iter().enumerate() {
            pts[k] = frame.joint(*j).filter(|_| frame.scores[j.index()] >= 0.1);
        }
        s.history.push_back(HandFrame { t_s: frame.t_s, pts, body: frame.body() });
        while s.history.front().is_some_and(|f| f.t_s < frame.t_s - keep_s) {
            s.history.pop_front();
        }
        self.detect_handover(idx, frame.t_s);
        Ok(())
    }

    /// Whether `p` is within 0.3 m of any facing box (a hand there is at the shelf, not in the aisle).
    fn near_shelf(&self, p: Vec3) -> bool {
        self.layout.facings.iter().any(|f| f.2.distance(p) < 0.3)
    }

    /// Hand-over detection from the tracks: a hand of shopper `i` (this frame) and a hand of
    /// another present shopper (its latest frame, within 0.12 s) closer than
    /// [`EngineConfig::handover_hand_gap_m`], both stretched out from their bodies (≥ 0.3 m
    /// horizontally) and away from every shelf. A meeting that lasted at least
    /// [`EngineConfig::handover_min_s`] is handed to [`Engine::on_handover`] once it ends.
    fn detect_handover(&mut self, i: usize, t: f64) {
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
    fn on_handover(&mut self, a: usize, b: usize, t0: f64, t1: f64) {
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
    fn process_handover(&mut self, record: usize, a: usize, b: usize, t0: f64, t1: f64, ha: Vec<u32>, hb: Vec<u32>) {
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
    fn handover_options(&self, a: usize, b: usize, t0: f64) -> Vec<HandOverOption> {
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
    fn move_handed_unit(&mut self, record: usize, giver: usize, taker: usize, product: u32) -> bool {
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
    fn units(&self, who: usize, product: u32) -> i32 {
        self.shoppers[who].cart.get(&product).copied().unwrap_or(0)
    }

    fn add_to_cart(&mut self, who: usize, product: u32, qty: i32) {
        let s = &mut self.shoppers[who];
        *s.cart.entry(product).or_insert(0) += qty;
        s.cart_version += 1;
    }

    /// A chain of unsettled hand-overs, each ended before `before_s`, that brings a unit of
    /// `product` to `taker` from a cart that holds it: (prior, [(pending, option)] upstream
    /// first). At most `depth` + 1 hand-overs long.
    fn incoming_route(
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
    fn incoming_products(&self, taker: usize, before_s: f64) -> Vec<(u32, f64)> {
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
    fn settle_by_put_back(&mut self, who: usize, product: u32, qty: i32, t_start: f64) {
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
    fn apply_route(&mut self, route: &[(usize, usize)]) {
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
    fn close_handovers_of(&mut self, i: usize, keep_reviewed: bool) {
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
    fn under_review(&self, p: &PendingHandOver) -> bool {
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
    fn decide_pending(&mut self, p: PendingHandOver) {
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
    fn settle_pending(&mut self) {
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

    fn on_settled(&mut self, change: PlateChange) {
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

    fn group_ready(&self, shelf: u32, t_s: f64) -> bool {
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

    fn process_group(&mut self, mut group: ShelfGroup, t_now: f64) {
        self.stats.shelf_events += 1;
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
        for cl in clusters {
            self.process_cluster(&cl, t_now);
        }
    }

    /// Signed hand depth (m) of each shopper in `bx` during `[t0, t1]`: per frame the best reach
    /// joint's [`signed_depth`] (elbows handicapped by [`EngineConfig::elbow_penalty_m`]); the
    /// shopper's figure is the mean of its [`EngineConfig::depth_frames`] deepest frames, which
    /// averages joint noise (~3 cm per frame) down. Negative = the hand was inside the box.
    fn approaches(&self, bx: Option<Aabb>, t0: f64, t1: f64) -> Vec<(usize, f64)> {
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
        out
    }

    /// Unnormalised attribution likelihoods: (shopper, likelihood, closest approach in m ≥ 0).
    fn likelihoods(&self, bx: Option<Aabb>, t0: f64, t1: f64) -> Vec<(usize, f64, f64)> {
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
    fn attribute(&self, bx: Option<Aabb>, t0: f64, t1: f64) -> Vec<(usize, f64, f64)> {
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
    fn attribute_jointly(&self, liks: &[Vec<(usize, f64, f64)>]) -> Vec<Vec<(usize, f64, f64)>> {
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
    fn reach_factor(&self, d: f64) -> f64 {
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
    fn hand_evidence(&self, mut hs: Vec<Hypothesis>, bx: Option<Aabb>, t0: f64, t1: f64) -> Vec<Hypothesis> {
        if !hs.iter().any(|h| h.lines.len() >= 2) {
            return hs;
        }
        let inside = self.approaches(bx, t0, t1).iter().filter(|a| a.1 <= 0.0).count();
        if inside < 2 {
            return hs;
        }
        let pen = self.cfg.idle_reach_prior.max(1e-6).ln();
        for h in hs.iter_mut() {
            let n = h.lines.len().max(1);
            h.log_lik += pen * inside.saturating_sub(n) as f64;
        }
        identify::normalise(&mut hs);
        hs
    }

    fn process_cluster(&mut self, cluster: &[PlateChange], t_now: f64) {
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
                self.decide(&part, &h, who.map(|w| w.0), conf, total, t_start, t_settled, t_now, &line_shoppers, &hs);
            }
        } else {
            let ((who, best, conf), hs) = self.decide_put_back(cluster, &shoppers);
            self.decide(cluster, &best, who, conf, total, t_start, t_settled, t_now, &shoppers, &hs);
        }
    }

    /// Applies a decision or queues it for review.
    #[allow(clippy::too_many_arguments)]
    fn decide(
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
    fn decide_put_back(
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
    fn apply(
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
    fn update_live_planogram(&mut self, product: u32, cart_qty: i32, cluster: &[PlateChange]) {
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

    #[allow(clippy::too_many_arguments)]
    fn open_review(
        &mut self,
        cluster: &[PlateChange],
        total: f64,
        t_start: f64,
        t_settled: f64,
        reason: ReviewReason,
        conf: f64,
        shoppers: &[(usize, f64, f64)],
        hs: &[Hypothesis],
    ) {
        let id = self.next_review_id;
        self.next_review_id += 1;
        let item = ReviewItem {
            id,
            t_start_s: t_start,
            t_settled_s: t_settled,
            plates: cluster.iter().map(|c| self.layout.plate_key(c.plate)).collect(),
            delta_g: total,
            reason,
            confidence: conf,
            // Candidates are the shoppers within reach (attribution gives the others probability 0)
            // that the hand model does not all but rule out. No candidate (nobody's hand came
            // within reach: sensor drift, staff, an untracked person) holds no visit; the item
            // stays in the staff queue.
            shoppers: self.review_candidates(shoppers, hs, t_start),
            products: hs
                .iter()
                .filter(|h| !h.lines.is_empty())
                .take(5)
                .map(|h| {
                    h.lines
                        .iter()
                        .map(|&(c, q)| CandidateLine {
                            barcode: self.layout.product(c).barcode.clone(),
                            quantity: q,
                            probability: h.probability,
                        })
                        .collect()
                })
                .collect(),
            resolved: false,
        };
        self.reviews.push(item);
        self.stats.reviews += 1;
        self.emit(EngineEvent::ReviewOpened { id });
    }

    /// Review candidates: the shoppers within reach (attribution gives the others probability 0)
    /// that the hand model does not all but rule out; then, with probability 0, the givers of
    /// unsettled hand-overs that may have brought a unit a candidate would be returning (their
    /// receipts depend on the answer, so their exits wait for it too).
    fn review_candidates(
        &self,
        shoppers: &[(usize, f64, f64)],
        hs: &[Hypothesis],
        t_start: f64,
    ) -> Vec<CandidateShopper> {
        let listed: Vec<(usize, f64, f64)> =
            shoppers.iter().copied().filter(|&(_, p, _)| p > 0.0 && p >= self.cfg.review_candidate_min_p).collect();
        let mut out: Vec<CandidateShopper> = listed
            .iter()
            .map(|&(i, p, d)| CandidateShopper {
                target_id: self.shoppers[i].target_id.clone(),
                probability: p,
                distance_m: d,
            })
            .collect();
        if self.pending_handovers.is_empty() {
            return out;
        }
        let mut givers: Vec<usize> = Vec::new();
        for &(i, _, _) in &listed {
            for h in hs {
                for &(c, q) in h.lines.iter().filter(|l| l.1 < 0) {
                    if self.units(i, c) >= -q {
                        continue;
                    }
                    for p in self.pending_handovers.iter().filter(|p| p.t_end_s < t_start) {
                        givers.extend(p.options.iter().filter(|o| o.taker == i && o.product == c).map(|o| o.giver));
                    }
                    if let Some((_, route)) = self.incoming_route(i, c, t_start, HANDOVER_CHAIN_DEPTH) {
                        givers.extend(route.iter().map(|&(pi, oi)| self.pending_handovers[pi].options[oi].giver));
                    }
                }
            }
        }
        for g in givers {
            let id = &self.shoppers[g].target_id;
            if !out.iter().any(|c| &c.target_id == id) {
                let d = shoppers.iter().find(|s| s.0 == g).map_or(self.cfg.max_reach_m, |s| s.2);
                out.push(CandidateShopper { target_id: id.clone(), probability: 0.0, distance_m: d });
            }
        }
        out
    }

    fn emit(&mut self, ev: EngineEvent) {
        if self.outbox.len() >= self.cfg.outbox_limit {
            self.outbox.pop_front();
        }
        self.outbox.push_back(ev);
    }

    /// Takes the events produced since the last call.
    pub fn drain_events(&mut self) -> Vec<EngineEvent> {
        self.outbox.drain(..).collect()
    }

    /// Unresolved review items.
    pub fn pending_reviews(&self) -> impl Iterator<Item = &ReviewItem> {
        self.reviews.iter().filter(|r| !r.resolved)
    }
    /// Hand-overs detected from the tracks, applied or not.
    pub fn handovers(&self) -> &[HandOver] {
        &self.handovers
    }
    /// Hand-overs not settled yet, with their possible explanations: (index into
    /// [`Engine::handovers`], [(giver, taker, barcode, probability)]).
    pub fn unsettled_handovers(&self) -> Vec<(usize, Vec<(&str, &str, &str, f64)>)> {
        self.pending_handovers
            .iter()
            .map(|p| {
                let options = p
                    .options
                    .iter()
                    .map(|o| {
                        let barcode = self.layout.product(o.product).barcode.as_str();
                        (
                            self.shoppers[o.giver].target_id.as_str(),
                            self.shoppers[o.taker].target_id.as_str(),
                            barcode,
                            o.prior,
                        )
                    })
                    .collect();
                (p.record, options)
            })
            .collect()
    }
    /// All review items, resolved or not.
    pub fn reviews(&self) -> &[ReviewItem] {
        &self.reviews
    }

    /// Settles a review item. `Assign` updates the named cart; `Dismiss` drops the event.
    pub fn resolve_review(&mut self, id: u64, resolution: Resolution) -> Result<()> {
        let idx = self
            .reviews
            .iter()
            .position(|r| r.id == id)
            .ok_or_else(|| Error::Unknown { what: format!("review item {id}") })?;
        if self.reviews[idx].resolved {
            return Err(Error::invalid(format!("review item {id} is already resolved")));
        }
        if let Resolution::Assign { target_id, barcode, quantity } = resolution {
            let who = *self
                .shopper_index
                .get(&target_id)
                .ok_or_else(|| Error::Unknown { what: format!("target {target_id}") })?;
            let product = self
                .layout
                .product_index(&barcode)
                .ok_or_else(|| Error::Unknown { what: format!("barcode {barcode}") })?;
            let keys = self.reviews[idx].plates.clone();
            let plates: Vec<u32> = keys.iter().filter_map(|k| self.layout.plate_index(*k)).collect();
            let pseudo: Vec<PlateChange> = plates
                .iter()
                .map(|&p| PlateChange {
                    plate: p,
                    t_start_s: 0.0,
                    t_settled_s: 0.0,
                    before_g: 0.0,
                    after_g: self.reviews[idx].delta_g / plates.len() as f64,
                    sigma_g: 0.0,
                    forced: false,
                })
                .collect();
            // A put-back may return what an unsettled hand-over brought: settle that first (the
            // giver is then no longer charged), and never take a cart below zero.
            self.settle_by_put_back(who, product, quantity, self.reviews[idx].t_start_s);
            let quantity = if quantity < 0 { quantity.max(-self.units(who, product).max(0)) } else { quantity };
            if quantity != 0 {
                self.add_to_cart(who, product, quantity);
                self.update_live_planogram(product, quantity, &pseudo);
                let r = &self.reviews[idx];
                let ev = EngineEvent::CartUpdated {
                    t_s: self.now_s,
                    t_settled_s: r.t_settled_s,
                    t_start_s: r.t_start_s,
                    target_id,
                    barcode,
                    quantity,
                    confidence: 1.0,
                    plates: keys,
                };
                self.emit(ev);
            }
        }
        self.reviews[idx].resolved = true;
        self.stats.reviews_resolved += 1;
        self.emit(EngineEvent::ReviewResolved { id });
        // Shoppers that left and were held only by reviews now get their final receipts.
        for j in 0..self.shoppers.len() {
            if !self.shoppers[j].present && !self.shoppers[j].settled && self.pending_for(j) == 0 {
                self.settle_shopper(j);
            }
        }
        Ok(())
    }

    /// Makes shopper `j`'s receipt final: decides its unsettled hand-overs; afterwards no
    /// hand-over moves a unit to or from it.
    fn settle_shopper(&mut self, j: usize) {
        self.close_handovers_of(j, false);
        self.shoppers[j].settled = true;
    }

    /// The shopper's current virtual cart as a receipt (items with quantity ≤ 0 dropped).
    pub fn receipt(&self, target_id: &str) -> Result<Receipt> {
        let &i =
            self.shopper_index.get(target_id).ok_or_else(|| Error::Unknown { what: format!("target {target_id}") })?;
        Ok(self.receipt_of(i))
    }

    fn receipt_of(&self, i: usize) -> Receipt {
        let s = &self.shoppers[i];
        let mut items: Vec<ReceiptLine> = s
            .cart
            .iter()
            .filter(|(_, &q)| q > 0)
            .map(|(&c, &q)| ReceiptLine { barcode: self.layout.product(c).barcode.clone(), quantity: q as u32 })
            .collect();
        items.sort_by(|a, b| a.barcode.cmp(&b.barcode));
        Receipt { target_id: s.target_id.clone(), items, pending_reviews: self.pending_for(i) as u32 }
    }

    /// Unresolved review items that list shopper `i` as a candidate. An item without candidates
    /// (nobody was within reach) is not counted against anyone: counting it for every shopper
    /// made a single sensor event hold every visit of the day.
    fn pending_for(&self, i: usize) -> usize {
        let id = &self.shoppers[i].target_id;
        self.pending_reviews().filter(|r| r.shoppers.iter().any(|c| &c.target_id == id)).count()
    }

    /// The shopper leaves: returns the final cart and whether reviews are pending for it.
    pub fn exit(&mut self, target_id: &str, t_s: f64) -> Result<ExitSummary> {
        let &i =
            self.shopper_index.get(target_id).ok_or_else(|| Error::Unknown { what: format!("target {target_id}") })?;
        self.advance(t_s);
        self.shoppers[i].present = false;
        // A meeting still open (or ended too recently to have been closed) is recorded but moves
        // nothing: the shopper's receipt is being issued now.
        let (mine, others): (Vec<Meeting>, Vec<Meeting>) =
            std::mem::take(&mut self.meetings).into_iter().partition(|m| m.a == i || m.b == i);
        self.meetings = others;
        for m in mine {
            if m.last_t - m.first_t >= self.cfg.handover_min_s && m.frames >= 5 {
                self.on_handover(m.a, m.b, m.first_t, m.last_t);
            }
        }
        // Unsettled hand-overs are decided now, except those an unresolved review's put-back
        // may depend on: they wait for its answer (the shopper's receipt waits for it anyway).
        if !self.shoppers[i].settled {
            if self.pending_for(i) == 0 {
                self.settle_shopper(i);
            } else {
                self.close_handovers_of(i, true);
            }
        }
        let receipt = self.receipt_of(i);
        let pending_reviews = receipt.pending_reviews as usize;
        Ok(ExitSummary { receipt, pending_reviews })
    }

    /// All shoppers seen, in order of entry (present or not).
    pub fn shoppers(&self) -> Vec<(&str, f64, bool)> {
        self.shoppers.iter().map(|s| (s.target_id.as_str(), s.entered_s, s.present)).collect()
    }
}
