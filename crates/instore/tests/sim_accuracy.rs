//! Simulator-vs-engine accuracy, determinism and the F1-vs-hard-share table.

use instore::{replay_recording, score, simulate, EngineConfig, SimConfig};

fn run(cfg: &SimConfig) -> (instore::Score, instore::SimOutput, instore::ReplayReport) {
    let sim = simulate(cfg).expect("simulates");
    let report = replay_recording(&sim.recording, &EngineConfig::default()).expect("replays");
    (score(&sim.truth, &report.receipts), sim, report)
}

#[test]
fn simulator_is_deterministic_for_a_seed() {
    let cfg = SimConfig { seed: 9, shoppers: 4, gondolas: 1, hard_share: 0.3, ..SimConfig::default() };
    let a = simulate(&cfg).unwrap();
    let b = simulate(&cfg).unwrap();
    assert_eq!(a.recording.samples, b.recording.samples);
    assert_eq!(a.recording.frames, b.recording.frames);
    assert_eq!(a.truth, b.truth);
    let c = simulate(&SimConfig { seed: 10, ..cfg }).unwrap();
    assert_ne!(a.recording.samples, c.recording.samples);
}

#[test]
fn engine_accuracy_floor_without_hard_cases() {
    let cfg = SimConfig { seed: 3, shoppers: 24, gondolas: 2, hard_share: 0.0, ..SimConfig::default() };
    let (s, sim, report) = run(&cfg);
    eprintln!(
        "{s:?}\nactions {} put-back share {:.2}\nstats {:?}",
        sim.actions.len(),
        sim.put_back_share(),
        report.stats
    );
    assert!(s.truth_lines >= 40, "too few lines to measure: {}", s.truth_lines);
    assert!(s.f1 >= 0.95, "F1 {:.3} below the 0.95 floor: {s:?}", s.f1);
    assert!(s.review_rate <= 0.10, "review rate {:.3}", s.review_rate);
}

/// `cargo test -p instore --release --test sim_accuracy -- --ignored --nocapture accuracy_table`
/// Seeds from `ACC_SEEDS` (comma-separated; default the test seeds 11,12,13): tune on other
/// seeds (e.g. 101–106, 2000–2005) and keep 11–13 and 1000–1002 as held-out checks.
#[test]
#[ignore]
fn accuracy_table() {
    println!("| hard share | realized | visits | truth lines | precision | recall | F1 | exact receipts | attribution | review rate |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for hard in [0.0, 0.1, 0.2, 0.3, 0.4] {
        let mut agg = (0usize, 0usize, 0usize, 0.0, 0.0, 0.0, 0.0, 0usize);
        let mut realized = 0.0;
        let seeds: Vec<u64> = std::env::var("ACC_SEEDS")
            .unwrap_or("11,12,13".into())
            .split(',')
            .map(|s| s.trim().parse().unwrap())
            .collect();
        for &seed in &seeds {
            let cfg = SimConfig {
                seed,
                shoppers: 60,
                gondolas: 3,
                max_concurrent: 4,
                hard_share: hard,
                ..SimConfig::default()
            };
            let (s, sim, _) = run(&cfg);
            realized += sim.realized_hard_share() / seeds.len() as f64;
            agg.0 += s.true_positives;
            agg.1 += s.predicted_lines;
            agg.2 += s.truth_lines;
            agg.3 += s.exact_receipt_rate * s.shoppers as f64;
            agg.4 += s.attribution_accuracy * s.shoppers as f64;
            agg.5 += s.review_rate * s.shoppers as f64;
            agg.7 += s.shoppers;
        }
        let p = agg.0 as f64 / agg.1.max(1) as f64;
        let r = agg.0 as f64 / agg.2.max(1) as f64;
        let f1 = 2.0 * p * r / (p + r).max(1e-9);
        let n = agg.7 as f64;
        println!(
            "| {:.0} % | {:.0} % | {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
            hard * 100.0,
            realized * 100.0,
            agg.7,
            agg.2,
            p,
            r,
            f1,
            agg.3 / n,
            agg.4 / n,
            agg.5 / n
        );
    }
}

/// `cargo test -p instore --release --test sim_accuracy -- --ignored --nocapture bench_plate_path`
#[test]
#[ignore]
fn bench_plate_path() {
    let r = instore::bench(&instore::BenchConfig::default()).unwrap();
    println!("{}", serde_json::to_string_pretty(&r).unwrap());
}

/// Diagnostic: which hard cases produce reviews and errors.
#[test]
#[ignore]
fn diagnose_hard_cases() {
    let cfg =
        SimConfig { seed: 12, shoppers: 60, gondolas: 3, max_concurrent: 4, hard_share: 0.3, ..SimConfig::default() };
    let (s, sim, report) = run(&cfg);
    println!("{s:?}");
    let mut by_kind: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    for r in &report.reviews {
        let near = sim
            .actions
            .iter()
            .filter(|a| !a.plates.is_empty())
            .min_by(|a, b| (a.t_end_s - r.t_settled_s).abs().total_cmp(&(b.t_end_s - r.t_settled_s).abs()));
        let kind = near.map(|a| format!("{:?}", a.hard)).unwrap_or_default();
        by_kind.entry(kind.clone()).or_default().0 += 1;
        println!(
            "REVIEW {:?} conf {:.2} delta {:.1} near {kind} {:?} shoppers {:?} products {:?}",
            r.reason,
            r.confidence,
            r.delta_g,
            near.map(|a| (&a.barcode, a.quantity, a.t_end_s - r.t_settled_s)),
            r.shoppers.iter().map(|c| (c.probability, c.distance_m)).collect::<Vec<_>>(),
            r.products.first()
        );
    }
    let pred: std::collections::HashMap<_, _> = report.receipts.iter().map(|r| (r.target_id.clone(), r)).collect();
    for t in &sim.truth {
        let p = pred[&t.target_id];
        if p.items != t.items {
            let kinds: Vec<_> = sim
                .actions
                .iter()
                .filter(|a| a.target_id == t.target_id || a.to_target.as_ref() == Some(&t.target_id))
                .map(|a| format!("{:?}{}:{}", a.hard, a.quantity, &a.barcode[8..]))
                .collect();
            println!(
                "WRONG truth {:?} pred {:?} reviews {} actions {:?}",
                t.items.iter().map(|l| (&l.barcode[8..], l.quantity)).collect::<Vec<_>>(),
                p.items.iter().map(|l| (&l.barcode[8..], l.quantity)).collect::<Vec<_>>(),
                p.pending_reviews,
                kinds
            );
            for k in &kinds {
                by_kind
                    .entry(k.split(|c: char| c == '-' || c.is_ascii_digit()).next().unwrap().to_string())
                    .or_default()
                    .1 += 1;
            }
        }
    }
    println!("{by_kind:?}");
}

#[test]
fn simulator_is_calibrated_on_the_published_figures() {
    let sim =
        simulate(&SimConfig { seed: 21, shoppers: 6, gondolas: 5, hard_share: 0.3, ..SimConfig::default() }).unwrap();
    // A third of same-shelf product pairs within 10 g.
    let mut by_shelf: std::collections::BTreeMap<(u16, u16), Vec<(String, f64)>> = Default::default();
    for r in &sim.recording.planogram {
        if let Some(b) = &r.barcode {
            let v = by_shelf.entry((r.plate.gondola, r.plate.shelf)).or_default();
            if !v.iter().any(|x| &x.0 == b) {
                v.push((b.clone(), r.unit_weight_g));
            }
        }
    }
    let (mut near, mut pairs) = (0, 0);
    for v in by_shelf.values() {
        for i in 0..v.len() {
            for j in i + 1..v.len() {
                pairs += 1;
                near += usize::from((v[i].1 - v[j].1).abs() <= 10.0);
            }
        }
    }
    let share = near as f64 / pairs as f64;
    eprintln!("near-equal pair share {share:.3} of {pairs}");
    assert!((0.2..=0.45).contains(&share), "near-equal share {share}");
    // Rest noise: σ of 0.5 s windows on plates far from any action — median ≈ 0.6 g, p90 ≈ 2.6 g.
    let rec = &sim.recording;
    let n = rec.plate_keys.len();
    let mut per_plate: Vec<Vec<f32>> = vec![Vec::new(); n];
    let t0 = rec.samples[0].t_s;
    for s in rec.samples.iter().take_while(|s| s.t_s < t0 + 5.0) {
        per_plate[s.plate as usize].push(s.grams);
    }
    let mut sds: Vec<f64> = per_plate
        .iter()
        .flat_map(|v| {
            v.chunks(30)
                .map(|c| {
                    let m = c.iter().map(|&x| x as f64).sum::<f64>() / c.len() as f64;
                    (c.iter().map(|&x| (x as f64 - m).powi(2)).sum::<f64>() / c.len() as f64).sqrt()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    sds.sort_by(f64::total_cmp);
    let (med, p90) = (sds[sds.len() / 2], sds[sds.len() * 9 / 10]);
    eprintln!("rest sigma median {med:.2} p90 {p90:.2}");
    assert!((0.4..=0.9).contains(&med) && (1.6..=4.0).contains(&p90), "median {med} p90 {p90}");
    // About a quarter of shelf actions are put-backs (measured on a longer run).
    let long = simulate(&SimConfig { seed: 22, shoppers: 60, gondolas: 1, ..SimConfig::default() }).unwrap();
    let share = long.put_back_share();
    eprintln!("put-back share {share:.3} of {} actions", long.actions.len());
    assert!((0.17..=0.33).contains(&share), "put-back share {share}");
}

/// A store without a body tracker: the recording has gate passages and no tracks; with one shopper at a
/// time (a smart cabinet) every event is attributed from the gates, through the written files as
/// `instore replay` reads them; with two inside, what the gates cannot tell apart goes to review rather
/// than to the wrong receipt.
#[test]
fn weight_only_stores_attribute_from_the_gates() {
    let cfg = SimConfig {
        seed: 21,
        shoppers: 40,
        max_concurrent: 1,
        gondolas: 2,
        hard_share: 0.3,
        weight_only: true,
        ..SimConfig::default()
    };
    let dir = std::env::temp_dir().join(format!("instore-weight-only-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let sim = instore::simulate_to_dir(&cfg, &dir).unwrap();
    assert!(sim.recording.frames.is_empty() && !dir.join("targets.csv").exists());
    assert_eq!(sim.recording.gates.len(), 80);
    let receipts = instore::replay(&dir).unwrap();
    let s = score(&sim.truth, &receipts);
    eprintln!("cabinet: {s:?}");
    assert!(s.truth_lines >= 40, "too few lines: {}", s.truth_lines);
    assert!(s.f1 >= 0.97 && s.review_rate <= 0.05, "{s:?}");
    assert!(s.attribution_accuracy >= 0.99, "alone inside, every line is theirs: {s:?}");

    // Two inside (no hard cases: a hand-over is invisible without tracks and moves a line by design).
    let (s, _, report) = run(&SimConfig { max_concurrent: 2, seed: 22, hard_share: 0.0, ..cfg });
    eprintln!("two inside: {s:?}");
    assert!(s.precision >= 0.97, "shared events are reviewed, not guessed: {s:?}");
    assert!(report.reviews.iter().any(|r| r.shoppers.len() == 2), "some events had two inside");
    let _ = std::fs::remove_dir_all(&dir);
}
