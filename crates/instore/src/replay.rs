//! Replay of a recording directory through the engine: merges plate samples and track frames
//! in time order, feeds the same [`Engine`] the live path uses, flushes at end of stream and
//! exits every shopper. Owns [`replay`], [`replay_recording`] and [`ReplayReport`].

use std::path::Path;

use crate::engine::{Engine, EngineConfig, EngineEvent, EngineStats, ReviewItem};
use crate::error::Result;
use crate::receipt::Receipt;
use crate::recording::{read_recording, Recording};

/// Everything a replay produces.
#[derive(Debug, Clone)]
pub struct ReplayReport {
    /// One receipt per shopper, in order of entry.
    pub receipts: Vec<Receipt>,
    pub stats: EngineStats,
    pub reviews: Vec<ReviewItem>,
    pub events: Vec<EngineEvent>,
}

/// Replays a recording directory with the default configuration and returns the receipts.
pub fn replay(dir: &Path) -> Result<Vec<Receipt>> {
    Ok(replay_recording(&read_recording(dir)?, &EngineConfig::default())?.receipts)
}

/// Replays an in-memory recording.
pub fn replay_recording(rec: &Recording, cfg: &EngineConfig) -> Result<ReplayReport> {
    let layout = rec.layout()?;
    let mut samples = rec.samples_for(&layout)?;
    if !samples.windows(2).all(|w| w[0].t_s <= w[1].t_s) {
        samples.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
    }
    let mut engine = Engine::new(layout, cfg.clone());
    let mut events = Vec::new();
    let mut f = 0;
    let frames = &rec.frames;
    let mut t_last = f64::NEG_INFINITY;
    for s in &samples {
        while f < frames.len() && frames[f].t_s <= s.t_s {
            engine.push_track(&frames[f])?;
            f += 1;
        }
        engine.push_plate(s.plate, s.t_s, s.grams);
        t_last = s.t_s;
    }
    for fr in &frames[f..] {
        engine.push_track(fr)?;
        t_last = t_last.max(fr.t_s);
    }
    engine.finish(t_last);
    events.extend(engine.drain_events());
    let ids: Vec<String> = engine.shoppers().iter().filter(|s| s.2).map(|s| s.0.to_string()).collect();
    let mut receipts = Vec::new();
    for id in ids {
        receipts.push(engine.exit(&id, t_last)?.receipt);
    }
    Ok(ReplayReport { receipts, stats: engine.stats().clone(), reviews: engine.reviews().to_vec(), events })
}
