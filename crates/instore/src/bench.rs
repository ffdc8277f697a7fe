//! Throughput and latency benchmark of the plate path on a generated store (used by
//! `borderless bench instore`). Owns [`bench`], [`BenchConfig`] and [`BenchReport`].
//!
//! The stream is produced by the simulator (so it has real transients, noise and shoppers);
//! generation is not timed. The timed loop is exactly the live path: `push_track` for frames and
//! `push_plate` for samples, in time order, then `finish`.
//!
//! Pick-to-cart latency is measured in **event time**: for every cart update, the time of the
//! sample at which the cart changed minus the *true* end of the weight transient of the matching
//! simulated action (same target and barcode). It therefore includes the settle detector's
//! window and hold (≈0.45 s) and the shelf grouping gap.

use std::time::Instant;

use crate::engine::{Engine, EngineConfig, EngineEvent};
use crate::error::Result;
use crate::sim::{simulate, SimConfig};

/// Benchmark parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchConfig {
    pub sim: SimConfig,
    pub engine: EngineConfig,
}

impl Default for BenchConfig {
    /// A store of 5 gondolas × 6 shelves × 12 plates (360 plates, 21,600 samples/s of input).
    fn default() -> Self {
        BenchConfig {
            sim: SimConfig {
                seed: 42,
                shoppers: 12,
                max_concurrent: 3,
                gondolas: 5,
                shelves: 6,
                plates: 12,
                ..SimConfig::default()
            },
            engine: EngineConfig::default(),
        }
    }
}

/// Benchmark figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BenchReport {
    pub plates: usize,
    pub samples: u64,
    pub frames: u64,
    /// Seconds of store time covered by the stream.
    pub stream_s: f64,
    /// Wall-clock seconds of the timed loop.
    pub wall_s: f64,
    /// Plate samples processed per wall-clock second (frames included in the loop).
    pub samples_per_s: f64,
    /// Realtime factor for this store: stream seconds per wall second.
    pub realtime_factor: f64,
    pub cart_updates: usize,
    pub latency_p50_s: f64,
    pub latency_p99_s: f64,
    pub latency_max_s: f64,
}

/// Runs the benchmark.
pub fn bench(cfg: &BenchConfig) -> Result<BenchReport> {
    let sim = simulate(&cfg.sim)?;
    let rec = &sim.recording;
    let layout = rec.layout()?;
    let samples = rec.samples_for(&layout)?;
    let plates = layout.plate_count();
    let mut engine = Engine::new(layout, cfg.engine.clone());
    let mut events: Vec<EngineEvent> = Vec::new();
    let start = Instant::now();
    let mut f = 0;
    for s in &samples {
        while f < rec.frames.len() && rec.frames[f].t_s <= s.t_s {
            engine.push_track(&rec.frames[f])?;
            f += 1;
        }
        engine.push_plate(s.plate, s.t_s, s.grams);
    }
    let t_last = samples.last().map_or(0.0, |s| s.t_s);
    engine.finish(t_last);
    let wall_s = start.elapsed().as_secs_f64();
    events.extend(engine.drain_events());

    let mut latencies: Vec<f64> = Vec::new();
    for e in &events {
        if let EngineEvent::CartUpdated { t_s, target_id, barcode, .. } = e {
            let truth = sim
                .actions
                .iter()
                .filter(|a| {
                    &a.target_id == target_id && &a.barcode == barcode && a.t_end_s <= *t_s && a.to_target.is_none()
                })
                .map(|a| a.t_end_s)
                .fold(f64::NEG_INFINITY, f64::max);
            if truth.is_finite() {
                latencies.push(t_s - truth);
            }
        }
    }
    latencies.sort_by(f64::total_cmp);
    let q = |p: f64| {
        if latencies.is_empty() {
            0.0
        } else {
            latencies[((latencies.len() - 1) as f64 * p).round() as usize]
        }
    };
    let stats = engine.stats();
    let stream_s = samples.last().zip(samples.first()).map_or(0.0, |(l, f)| l.t_s - f.t_s);
    Ok(BenchReport {
        plates,
        samples: stats.samples,
        frames: stats.frames,
        stream_s,
        wall_s,
        samples_per_s: stats.samples as f64 / wall_s.max(1e-9),
        realtime_factor: stream_s / wall_s.max(1e-9),
        cart_updates: latencies.len(),
        latency_p50_s: q(0.5),
        latency_p99_s: q(0.99),
        latency_max_s: latencies.last().copied().unwrap_or(0.0),
    })
}
