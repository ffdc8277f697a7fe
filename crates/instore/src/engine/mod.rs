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
//!    Probabilities are normalised over shoppers; with a single shopper inside it is 1. When no
//!    shopper has a track frame during the event (no body tracker), it falls back to the gates:
//!    whoever was inside between entry and exit, certain when alone, a review when not. The
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

mod attribution;
mod handover;
mod review;

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
    /// Weight-only attribution when no body track covers an event (a smart cabinet, a small store
    /// that admits one shopper at a time): the event belongs to whoever no tracker follows and was
    /// inside between the gate's entry and exit during it — with certainty when that is one
    /// shopper, shared equally (so it goes to review) when several were. Off: such events go to
    /// review with no candidate.
    pub weight_only_fallback: bool,
    /// A plate next to a changed one whose level moved by less than its trigger (an item leaning
    /// onto a noisy neighbour plate) still counts when its window mean left the level it had when
    /// the event began by more than this many standard errors (and `min_change_g`).
    pub lean_sigmas: f64,
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
            weight_only_fallback: true,
            lean_sigmas: 3.0,
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
    /// Several lines at once, all or none: an event that moved more than one product, or two shoppers'
    /// hands in one shelf change. At most [`MAX_RESOLUTION_LINES`], each (shopper, product) once.
    AssignLines(Vec<Assignment>),
    /// Nothing happened (noise, staff restock, ...).
    Dismiss,
}

/// One line of a staff resolution: `quantity` units of `barcode` to `target_id` (+ pick, − put-back).
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub target_id: String,
    pub barcode: String,
    pub quantity: i32,
}

/// The most lines one resolution may assign.
pub const MAX_RESOLUTION_LINES: usize = 20;

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

/// How long (s) after an event began on a plate its neighbours' levels stay the reference for the
/// parts of items leaning on them (an event's plates start within a moment of each other).
const LEAN_SNAP_S: f64 = 1.0;

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
    /// When the shopper left (infinite while inside).
    left_s: f64,
    /// A body track has followed this shopper (the gates' fallback is for shoppers no tracker sees).
    tracked: bool,
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
    /// Per plate: its level when an event began on it or on a neighbour, and when (NaN when none
    /// is open), so a part of an item too light to trigger its plate is not lost.
    lean_snap: Vec<(f64, f64)>,
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
            lean_snap: vec![(f64::NAN, f64::NAN); n],
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
            left_s: f64::INFINITY,
            tracked: false,
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
        match self.detector.push(plate, t_s, grams) {
            Transition::Settled(change) => self.on_settled(change),
            Transition::Started => self.snap_levels(plate, t_s),
            Transition::None => {}
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
        s.tracked = true;
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
}
