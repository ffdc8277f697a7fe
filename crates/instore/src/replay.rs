//! Replay of a recording directory through the engine: merges plate samples and track frames
//! (and gate passages) in time order, feeds the same [`Engine`] the live path uses, flushes at end of stream and
//! exits every shopper. Owns [`replay`], [`replay_recording`] and [`ReplayReport`].

use std::collections::HashMap;
use std::path::Path;

use crate::engine::{Engine, EngineConfig, EngineEvent, EngineStats, ReviewItem};
use crate::error::Result;
use crate::receipt::Receipt;
use crate::recording::{read_recording, GateEvent, Recording};

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

/// Replays an in-memory recording: plate samples, track frames and gate passages in time order (a
/// passage before a sample or frame of the same instant). A shopper's receipt is issued when the exit gate
/// says it left, or at the end of the stream.
pub fn replay_recording(rec: &Recording, cfg: &EngineConfig) -> Result<ReplayReport> {
    let layout = rec.layout()?;
    let mut samples = rec.samples_for(&layout)?;
    if !samples.windows(2).all(|w| w[0].t_s <= w[1].t_s) {
        samples.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
    }
    let mut engine = Engine::new(layout, cfg.clone());
    let mut events = Vec::new();
    let (frames, gates) = (&rec.frames, &rec.gates);
    let (mut f, mut g) = (0, 0);
    let mut t_last = f64::NEG_INFINITY;
    let mut receipts: HashMap<String, Receipt> = HashMap::new();
    let pass = |engine: &mut Engine, e: &GateEvent, receipts: &mut HashMap<String, Receipt>| -> Result<()> {
        if e.enter {
            engine.enter(&e.target_id, e.t_s, None)
        } else {
            let r = engine.exit(&e.target_id, e.t_s)?.receipt;
            receipts.insert(e.target_id.clone(), r);
            Ok(())
        }
    };
    for s in &samples {
        while g < gates.len() && gates[g].t_s <= s.t_s {
            while f < frames.len() && frames[f].t_s < gates[g].t_s {
                engine.push_track(&frames[f])?;
                f += 1;
            }
            pass(&mut engine, &gates[g], &mut receipts)?;
            g += 1;
        }
        while f < frames.len() && frames[f].t_s <= s.t_s {
            engine.push_track(&frames[f])?;
            f += 1;
        }
        engine.push_plate(s.plate, s.t_s, s.grams);
        t_last = s.t_s;
    }
    for fr in &frames[f..] {
        while g < gates.len() && gates[g].t_s <= fr.t_s {
            pass(&mut engine, &gates[g], &mut receipts)?;
            g += 1;
        }
        engine.push_track(fr)?;
        t_last = t_last.max(fr.t_s);
    }
    engine.finish(t_last);
    for e in &gates[g..] {
        pass(&mut engine, e, &mut receipts)?;
        t_last = t_last.max(e.t_s);
    }
    events.extend(engine.drain_events());
    let order: Vec<(String, bool)> = engine.shoppers().iter().map(|s| (s.0.to_string(), s.2)).collect();
    let mut out = Vec::new();
    for (id, present) in order {
        if present {
            out.push(engine.exit(&id, t_last)?.receipt);
        } else if let Some(r) = receipts.remove(&id) {
            out.push(r);
        }
    }
    Ok(ReplayReport { receipts: out, stats: engine.stats().clone(), reviews: engine.reviews().to_vec(), events })
}
