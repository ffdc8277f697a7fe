//! Diagnostic (ignored): what the carts look like at each simulated hand-over, and what the
//! shoppers do with the handed product afterwards. Seeds from `DIAG_SEEDS` (default 101–106),
//! hard share from `DIAG_HARD` (default 0.3), visits per seed from `DIAG_SHOPPERS` (default 60).
//! `cargo test -p instore --release --test diag_handover -- --ignored --nocapture`

use std::collections::BTreeMap;

use instore::{simulate, Engine, EngineConfig, SimConfig};

#[test]
#[ignore]
fn diag_handover() {
    let seeds: Vec<u64> = std::env::var("DIAG_SEEDS")
        .unwrap_or("101,102,103,104,105,106".into())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let hard: f64 = std::env::var("DIAG_HARD").ok().and_then(|s| s.parse().ok()).unwrap_or(0.3);
    let shoppers: usize = std::env::var("DIAG_SHOPPERS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for seed in seeds {
        let cfg =
            SimConfig { seed, shoppers, gondolas: 3, max_concurrent: 4, hard_share: hard, ..SimConfig::default() };
        let sim = simulate(&cfg).unwrap();
        let engine = replay_engine(&sim.recording);
        let unsettled = engine.unsettled_handovers();
        for (k, h) in engine.handovers().iter().enumerate() {
            let opts = unsettled.iter().find(|u| u.0 == k).map(|u| {
                u.1.iter()
                    .map(|o| format!("{}>{} {} {:.2}", short(o.0, 4), short(o.1, 4), tail(o.2, 8), o.3))
                    .collect::<Vec<_>>()
            });
            let truth = sim.actions.iter().find(|a| a.to_target.is_some() && (a.t_start_s - h.t_start_s).abs() < 1.5);
            println!(
                "seed {seed} engine hand-over t {:.1} applied {:?} unsettled {:?} truth {:?}",
                h.t_start_s - cfg.t0_s,
                h.applied.as_ref().map(|a| format!("{}>{} {}", short(&a.0, 4), short(&a.1, 4), tail(&a.2, 8))),
                opts,
                truth.map(|a| format!(
                    "{}>{} {}",
                    short(&a.target_id, 4),
                    short(a.to_target.as_ref().unwrap(), 4),
                    tail(&a.barcode, 8)
                ))
            );
        }
        for h in sim.actions.iter().filter(|a| a.to_target.is_some()) {
            let to = h.to_target.as_ref().unwrap();
            let holds = |id: &str| {
                let mut m: BTreeMap<&str, i32> = BTreeMap::new();
                for a in sim.actions.iter().filter(|a| a.t_end_s < h.t_start_s) {
                    if a.target_id == id {
                        *m.entry(tail(&a.barcode, 8)).or_default() += a.quantity;
                    }
                    if a.to_target.as_deref() == Some(id) {
                        *m.entry(tail(&a.barcode, 8)).or_default() -= a.quantity;
                    }
                }
                m.retain(|_, q| *q > 0);
                m
            };
            let (ga, rb) = (holds(&h.target_id), holds(to));
            let later = |id: &str| -> Vec<String> {
                sim.actions
                    .iter()
                    .filter(|a| a.t_start_s > h.t_end_s && a.target_id == id)
                    .map(|a| {
                        format!(
                            "{}{:+}{}",
                            tail(&a.barcode, 8),
                            a.quantity,
                            if a.to_target.is_some() { "H" } else { "" }
                        )
                    })
                    .collect()
            };
            let kind = format!(
                "giver products {} units {} / receiver products {}",
                ga.len(),
                ga.values().sum::<i32>(),
                rb.len()
            );
            *kinds.entry(kind.clone()).or_default() += 1;
            println!(
                "seed {seed} {kind}: item {} giver {:?} receiver {:?} | giver later {:?} receiver later {:?}",
                tail(&h.barcode, 8),
                ga,
                rb,
                later(&h.target_id),
                later(to)
            );
        }
    }
    for (k, n) in kinds {
        println!("{n:>3} {k}");
    }
}

/// Replays like [`instore::replay_recording`] but returns the engine (hand-overs included).
fn replay_engine(rec: &instore::Recording) -> Engine {
    let layout = rec.layout().unwrap();
    let mut samples = rec.samples_for(&layout).unwrap();
    samples.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
    let mut engine = Engine::new(layout, EngineConfig::default());
    let mut f = 0;
    let mut t_last = f64::NEG_INFINITY;
    for s in &samples {
        while f < rec.frames.len() && rec.frames[f].t_s <= s.t_s {
            engine.push_track(&rec.frames[f]).unwrap();
            f += 1;
        }
        engine.push_plate(s.plate, s.t_s, s.grams);
        t_last = s.t_s;
    }
    for fr in &rec.frames[f..] {
        engine.push_track(fr).unwrap();
        t_last = t_last.max(fr.t_s);
    }
    engine.finish(t_last);
    engine
}

/// The first `n` characters of `s` (all of it when shorter).
fn short(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}

/// `s` without its first `n` characters (empty when shorter).
fn tail(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or("", |(i, _)| &s[i..])
}
