//! Diagnostic (ignored): per-action outcome of the engine against the simulator truth, by kind.
//! `cargo test -p instore --release --test diag_events -- --ignored --nocapture`
//! Seeds come from `DIAG_SEEDS` (comma-separated; default: held-out 101,102,103), hard share
//! from `DIAG_HARD` (default 0.3), visits per seed from `DIAG_SHOPPERS` (default 60).

use std::collections::BTreeMap;

use instore::engine::EngineEvent;
use instore::{replay_recording, score, simulate, EngineConfig, HardCase, SimConfig};

#[test]
#[ignore]
fn diag_events() {
    let seeds: Vec<u64> = std::env::var("DIAG_SEEDS")
        .unwrap_or("101,102,103".into())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let hard: f64 = std::env::var("DIAG_HARD").ok().and_then(|s| s.parse().ok()).unwrap_or(0.3);
    let verbose = std::env::var("DIAG_VERBOSE").is_ok();
    let shoppers: usize = std::env::var("DIAG_SHOPPERS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let mut tally: BTreeMap<String, BTreeMap<&'static str, usize>> = BTreeMap::new();
    // Receipt-line errors (what F1 counts), by what the shopper's truth did with that product.
    let mut line_errors: BTreeMap<&'static str, usize> = BTreeMap::new();
    let (mut tp, mut pl, mut tl, mut rev, mut vis) = (0, 0, 0, 0.0, 0);
    for seed in seeds {
        let cfg =
            SimConfig { seed, shoppers, gondolas: 3, max_concurrent: 4, hard_share: hard, ..SimConfig::default() };
        let sim = simulate(&cfg).unwrap();
        let mut ec = EngineConfig::default();
        if let Some(t) = std::env::var("DIAG_TAU").ok().and_then(|s| s.parse().ok()) {
            ec.hand_depth_scale_m = t;
        }
        if let Some(t) = std::env::var("DIAG_THR").ok().and_then(|s| s.parse().ok()) {
            ec.review_threshold = t;
        }
        let rep = replay_recording(&sim.recording, &ec).unwrap();
        let s = score(&sim.truth, &rep.receipts);
        println!(
            "seed {seed} handovers detected {} applied {} truth {}",
            rep.stats.handovers_detected,
            rep.stats.handovers_applied,
            sim.actions.iter().filter(|a| a.to_target.is_some()).count()
        );
        tp += s.true_positives;
        pl += s.predicted_lines;
        tl += s.truth_lines;
        rev += s.review_rate * s.shoppers as f64;
        vis += s.shoppers;
        for t in &sim.truth {
            let p = rep.receipts.iter().find(|r| r.target_id == t.target_id);
            let q = |r: Option<&instore::Receipt>, b: &str| {
                r.and_then(|r| r.items.iter().find(|l| l.barcode == b)).map_or(0, |l| l.quantity)
            };
            let mut barcodes: Vec<&str> = t.items.iter().map(|l| l.barcode.as_str()).collect();
            barcodes.extend(p.iter().flat_map(|r| r.items.iter().map(|l| l.barcode.as_str())));
            barcodes.sort_unstable();
            barcodes.dedup();
            for b in barcodes {
                let (want, got) = (q(Some(t), b), q(p, b));
                if want == got {
                    continue;
                }
                let acts: Vec<_> = sim
                    .actions
                    .iter()
                    .filter(|a| {
                        a.barcode == b && (a.target_id == t.target_id || a.to_target.as_deref() == Some(&t.target_id))
                    })
                    .collect();
                let kind = if acts.iter().any(|a| a.to_target.is_some()) {
                    "hand-over"
                } else if p.is_some_and(|r| r.pending_reviews > 0) {
                    "shopper has a review"
                } else if acts.iter().any(|a| a.hard == HardCase::Simultaneous) {
                    "simultaneous"
                } else if acts.iter().any(|a| a.hard == HardCase::MisplacedPutBack) {
                    "misplaced put-back"
                } else if acts.iter().any(|a| a.hard != HardCase::None) {
                    "other hard"
                } else if acts.is_empty() {
                    "product never touched"
                } else {
                    "ordinary"
                };
                *line_errors.entry(kind).or_default() += 1;
                if verbose {
                    println!("seed {seed} LINE {kind}: {} {} want {want} got {got}", &t.target_id[..4], &b[8..]);
                }
            }
        }
        let ups: Vec<_> = rep
            .events
            .iter()
            .filter_map(|e| match e {
                EngineEvent::CartUpdated {
                    t_start_s,
                    t_settled_s,
                    target_id,
                    barcode,
                    quantity,
                    plates,
                    confidence,
                    ..
                } => Some((
                    *t_start_s,
                    *t_settled_s,
                    target_id.clone(),
                    barcode.clone(),
                    *quantity,
                    plates.clone(),
                    *confidence,
                )),
                _ => None,
            })
            .collect();
        let mut used = vec![false; ups.len()];
        for a in &sim.actions {
            let kind = format!("{:?}", a.hard);
            let t = tally.entry(kind.clone()).or_default();
            if a.plates.is_empty() {
                *t.entry("handover(unobservable)").or_default() += 1;
                continue;
            }
            let shelf = (a.plates[0].gondola, a.plates[0].shelf);
            let near = |ts: f64, te: f64, ps: &[instore::PlateKey]| {
                ts <= a.t_end_s + 1.0 && te >= a.t_start_s - 0.5 && ps.iter().any(|p| (p.gondola, p.shelf) == shelf)
            };
            let cands: Vec<usize> =
                (0..ups.len()).filter(|&i| !used[i] && near(ups[i].0, ups[i].1, &ups[i].5)).collect();
            let exact = cands
                .iter()
                .copied()
                .find(|&i| ups[i].2 == a.target_id && ups[i].3 == a.barcode && ups[i].4 == a.quantity);
            let outcome = if let Some(i) = exact {
                used[i] = true;
                "ok"
            } else if let Some(&i) = cands.iter().find(|&&i| ups[i].3 == a.barcode && ups[i].4 == a.quantity) {
                used[i] = true;
                "wrong_who"
            } else if let Some(&i) = cands.iter().find(|&&i| ups[i].3 == a.barcode) {
                used[i] = true;
                if ups[i].2 == a.target_id {
                    "wrong_qty"
                } else {
                    "wrong_qty_who"
                }
            } else if let Some(&i) = cands.first() {
                used[i] = true;
                "wrong_what"
            } else if rep.reviews.iter().any(|r| near(r.t_start_s, r.t_settled_s, &r.plates)) {
                "review"
            } else {
                "missed"
            };
            *t.entry(outcome).or_default() += 1;
            if verbose && outcome != "ok" {
                println!(
                    "seed {seed} {kind} {outcome}: truth {} {} x{} t {:.1}-{:.1} plates {:?}",
                    &a.target_id[..4],
                    &a.barcode[8..],
                    a.quantity,
                    a.t_start_s - cfg.t0_s,
                    a.t_end_s - cfg.t0_s,
                    a.plates.iter().map(|p| (p.shelf, p.plate)).collect::<Vec<_>>()
                );
                for &i in &cands {
                    println!(
                        "    engine {} {} x{} t {:.1}-{:.1} conf {:.2} plates {:?}",
                        &ups[i].2[..4],
                        &ups[i].3[8..],
                        ups[i].4,
                        ups[i].0 - cfg.t0_s,
                        ups[i].1 - cfg.t0_s,
                        ups[i].6,
                        ups[i].5.iter().map(|p| (p.shelf, p.plate)).collect::<Vec<_>>()
                    );
                }
                for r in rep.reviews.iter().filter(|r| near(r.t_start_s, r.t_settled_s, &r.plates)) {
                    let weight = |b: &str| {
                        sim.recording
                            .planogram
                            .iter()
                            .find(|p| p.barcode.as_deref() == Some(b))
                            .map_or(0.0, |p| p.unit_weight_g)
                    };
                    println!(
                        "    weights: truth {:.1}, candidates {:?}",
                        weight(&a.barcode),
                        r.products.iter().flatten().map(|l| (&l.barcode[8..], weight(&l.barcode))).collect::<Vec<_>>()
                    );
                    println!(
                        "    review {:?} conf {:.2} delta {:.1} shoppers {:?} products {:?}",
                        r.reason,
                        r.confidence,
                        r.delta_g,
                        r.shoppers
                            .iter()
                            .map(|c| (
                                &c.target_id[..4],
                                (c.probability * 100.0).round(),
                                (c.distance_m * 100.0).round()
                            ))
                            .collect::<Vec<_>>(),
                        r.products
                            .iter()
                            .take(2)
                            .map(|p| p
                                .iter()
                                .map(|l| (&l.barcode[8..], l.quantity, (l.probability * 100.0).round()))
                                .collect::<Vec<_>>())
                            .collect::<Vec<_>>()
                    );
                }
            }
        }
        let spurious = used.iter().filter(|u| !**u).count();
        *tally.entry("zz_spurious".into()).or_default().entry("events").or_default() += spurious;
        if verbose {
            for (i, u) in ups.iter().enumerate().filter(|(i, _)| !used[*i]) {
                println!(
                    "seed {seed} SPURIOUS {} {} x{} t {:.1} conf {:.2} plates {:?}",
                    &u.2[..4],
                    &u.3[8..],
                    u.4,
                    u.0 - cfg.t0_s,
                    u.6,
                    u.5.iter().map(|p| (p.shelf, p.plate)).collect::<Vec<_>>()
                );
                let _ = i;
            }
        }
        let reviews = rep.reviews.len();
        *tally.entry("zz_reviews".into()).or_default().entry("items").or_default() += reviews;
    }
    let p = tp as f64 / pl.max(1) as f64;
    let r = tp as f64 / tl.max(1) as f64;
    println!("F1 {:.3} precision {p:.3} recall {r:.3} review rate {:.3}", 2.0 * p * r / (p + r), rev / vis as f64);
    for (k, v) in &tally {
        println!("{k:>18}: {v:?}");
    }
    println!("receipt-line errors by what the truth did with the product: {line_errors:?}");
    let _ = HardCase::None;
}
