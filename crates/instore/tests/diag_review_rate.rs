//! Diagnostic / regression (ignored): review rate per seed and which review items make visits
//! pending. `cargo test -p instore --release --test diag_review_rate -- --ignored --nocapture`

use instore::{replay_recording, score, simulate, EngineConfig, SimConfig};

/// Reproduction of the 20 % outlier of `borderless bench instore` (seeds 1000–1002, hard 0.2):
/// prints per seed the review rate and every review item with its candidate shoppers and how
/// many visits it makes pending.
#[test]
#[ignore]
fn review_rate_outlier() {
    let hard: f64 = std::env::var("DIAG_HARD").ok().and_then(|s| s.parse().ok()).unwrap_or(0.2);
    for seed in [1000u64, 1001, 1002] {
        let cfg =
            SimConfig { seed, shoppers: 60, max_concurrent: 4, gondolas: 3, hard_share: hard, ..Default::default() };
        let sim = simulate(&cfg).unwrap();
        let rep = replay_recording(&sim.recording, &EngineConfig::default()).unwrap();
        let s = score(&sim.truth, &rep.receipts);
        println!("seed {seed}: F1 {:.3} review rate {:.3} reviews {}", s.f1, s.review_rate, rep.reviews.len());
        for r in &rep.reviews {
            println!(
                "  review {} {:?} t {:.1} conf {:.2} delta {:.1} plates {:?} shoppers {:?}",
                r.id,
                r.reason,
                r.t_start_s - cfg.t0_s,
                r.confidence,
                r.delta_g,
                r.plates.iter().map(|p| (p.gondola, p.shelf, p.plate)).collect::<Vec<_>>(),
                r.shoppers
                    .iter()
                    .map(|c| (&c.target_id[..4], (c.probability * 100.0).round(), (c.distance_m * 100.0).round()))
                    .collect::<Vec<_>>()
            );
            let near: Vec<_> = sim
                .actions
                .iter()
                .filter(|a| a.t_start_s <= r.t_settled_s + 1.0 && a.t_end_s >= r.t_start_s - 1.0)
                .collect();
            let shelf = (r.plates[0].gondola, r.plates[0].shelf);
            let same: Vec<_> = sim
                .actions
                .iter()
                .filter(|a| {
                    a.plates.iter().any(|p| (p.gondola, p.shelf) == shelf) && (a.t_end_s - r.t_start_s).abs() < 120.0
                })
                .collect();
            for a in same {
                println!(
                    "      same shelf ±120 s: {:?} {} {} x{} t {:.1}-{:.1} plates {:?}",
                    a.hard,
                    &a.target_id[..4],
                    &a.barcode[8..],
                    a.quantity,
                    a.t_start_s - cfg.t0_s,
                    a.t_end_s - cfg.t0_s,
                    a.plates.iter().map(|p| (p.gondola, p.shelf, p.plate)).collect::<Vec<_>>()
                );
            }
            for a in near {
                println!(
                    "      truth {:?} {} {} x{} t {:.1}-{:.1} plates {:?}",
                    a.hard,
                    &a.target_id[..4],
                    &a.barcode[8..],
                    a.quantity,
                    a.t_start_s - cfg.t0_s,
                    a.t_end_s - cfg.t0_s,
                    a.plates.iter().map(|p| (p.gondola, p.shelf, p.plate)).collect::<Vec<_>>()
                );
            }
        }
        let pending = rep.receipts.iter().filter(|r| r.pending_reviews > 0).count();
        println!("  visits pending {pending} of {}", rep.receipts.len());
        // A visit is held only by a review that lists it as a candidate.
        let listed: std::collections::HashSet<&str> =
            rep.reviews.iter().flat_map(|r| r.shoppers.iter().map(|c| c.target_id.as_str())).collect();
        for r in rep.receipts.iter().filter(|r| r.pending_reviews > 0) {
            assert!(
                listed.contains(r.target_id.as_str()),
                "seed {seed}: visit {} held by a review that does not list it",
                r.target_id
            );
        }
        assert!(pending <= listed.len());
    }
}

/// The `borderless bench instore` accuracy table (seeds 1000–1002) and the `accuracy_table`
/// seeds (11–13), 60 visits each, pooled per hard share.
#[test]
#[ignore]
fn review_rate_table() {
    for seeds in [[1000u64, 1001, 1002], [11, 12, 13]] {
        println!("seeds {seeds:?}");
        println!("| hard | F1 | precision | recall | exact | attribution | review rate | per seed |");
        println!("|---:|---:|---:|---:|---:|---:|---:|---|");
        for share in [0.0, 0.1, 0.2, 0.3, 0.4] {
            let (mut truth, mut pred, mut per_seed) = (Vec::new(), Vec::new(), Vec::new());
            for &seed in &seeds {
                let sim = simulate(&SimConfig {
                    seed,
                    shoppers: 60,
                    max_concurrent: 4,
                    gondolas: 3,
                    hard_share: share,
                    ..Default::default()
                })
                .unwrap();
                let rep = replay_recording(&sim.recording, &EngineConfig::default()).unwrap();
                per_seed.push(rep.receipts.iter().filter(|r| r.pending_reviews > 0).count());
                truth.extend(sim.truth.into_iter().map(|mut t| {
                    t.target_id = format!("{seed}:{}", t.target_id);
                    t
                }));
                pred.extend(rep.receipts.into_iter().map(|mut t| {
                    t.target_id = format!("{seed}:{}", t.target_id);
                    t
                }));
            }
            let s = score(&truth, &pred);
            println!(
                "| {:.0} % | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.1} % | {per_seed:?} |",
                share * 100.0,
                s.f1,
                s.precision,
                s.recall,
                s.exact_receipt_rate,
                s.attribution_accuracy,
                s.review_rate * 100.0
            );
        }
    }
}
