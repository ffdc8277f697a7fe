//! # instore — the cashierless-store fusion engine of borderless
//!
//! Shelf weight plates (60 Hz) and body tracks (~11 Hz) in; virtual carts, review items and zone
//! analytics out. The same [`Engine`] runs live (fed sample by sample) and in [`replay`].
//!
//! * [`recording`] — the recording format (`FORMAT.md`), reader with precise errors, writer.
//! * [`settle`] — per-plate settle detection on noisy streams.
//! * [`identify`] — product identification from settled plate deltas (plate split, residuals).
//! * [`engine`] — grouping, attribution, review queue, carts, exit.
//! * [`zones`] — zone enter/exit with hysteresis and dwell times from body tracks.
//! * [`replay`] — a recording through the engine.
//! * [`sim`] — a store simulator with ground truth and calibrated hard cases.
//! * [`score`] — receipt-line precision/recall/F1, exact-receipt and review rates.
//! * [`bench`] — throughput and pick-to-cart latency on a generated store.

pub mod bench;
pub mod engine;
pub mod error;
pub mod identify;
pub mod model;
pub mod receipt;
pub mod recording;
pub mod replay;
pub mod score;
pub mod settle;
pub mod sim;
pub mod zones;

pub use engine::{
    Assignment, Engine, EngineConfig, EngineEvent, EngineStats, ExitSummary, HandOver, Resolution, ReviewItem,
    ReviewReason, MAX_RESOLUTION_LINES,
};
pub use error::{Error, Result};
pub use model::{Aabb, Joint, PlateKey, StoreLayout, TrackFrame, Vec3};
pub use receipt::{Receipt, ReceiptLine};
pub use recording::{read_recording, write_recording, GateEvent, Recording};
pub use replay::{replay, replay_recording, ReplayReport};

pub use bench::{bench, BenchConfig, BenchReport};
pub use score::{score, Score};
pub use sim::{simulate, simulate_to_dir, HardCase, HardMix, SimConfig, SimOutput, TruthAction};
pub use zones::{default_zones, Zone, ZoneConfig, ZoneEvent, ZoneEventKind, ZoneTracker};
