//! The `borderless instore …` and `borderless bench instore` commands: replay a cashierless-store
//! recording through the fusion engine, generate recordings with ground truth, score receipts against
//! the truth, and measure throughput, pick-to-cart latency and accuracy against the share of hard cases.

use anyhow::{bail, Context, Result};
use std::path::Path;

/// Replays a recording directory; prints one receipt per shopper as a JSON line on stdout and a summary
/// on stderr.
pub fn replay(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        bail!("{} is not a directory; a recording holds plates.csv and planogram.csv (and optionally targets.csv, facings.csv, gates.csv): see crates/instore/FORMAT.md", dir.display());
    }
    let t = std::time::Instant::now();
    let rec = instore::read_recording(dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    let report =
        instore::replay_recording(&rec, &instore::EngineConfig::default()).map_err(|e| anyhow::anyhow!("{e}"))?;
    print!("{}", instore::receipt::to_jsonl(&report.receipts));
    let s = &report.stats;
    eprintln!(
        "replayed {} plate samples and {} track frames in {:.2} s: {} shoppers, {} reviews pending",
        s.samples,
        s.frames,
        t.elapsed().as_secs_f64(),
        report.receipts.len(),
        report.reviews.iter().filter(|r| !r.resolved).count()
    );
    Ok(())
}

/// Simulation options from the command line.
pub struct SimulateOpts {
    pub seed: u64,
    pub shoppers: usize,
    pub max_concurrent: usize,
    pub gondolas: u16,
    pub shelves: u16,
    pub plates: u16,
    pub hard_share: f64,
    pub weight_only: bool,
}

fn sim_config(o: &SimulateOpts) -> Result<instore::SimConfig> {
    if !(0.0..=1.0).contains(&o.hard_share) {
        bail!("--hard-share is a share between 0 and 1 (0.3 = 30 % of actions are hard cases)");
    }
    if !(1..=4).contains(&o.max_concurrent) {
        bail!("--max-concurrent is 1–4 shoppers inside at once");
    }
    Ok(instore::SimConfig {
        seed: o.seed,
        shoppers: o.shoppers,
        max_concurrent: o.max_concurrent,
        gondolas: o.gondolas,
        shelves: o.shelves,
        plates: o.plates,
        hard_share: o.hard_share,
        weight_only: o.weight_only,
        ..Default::default()
    })
}

/// Writes a simulated recording with its ground truth (`truth.jsonl`) to `out`.
pub fn simulate(o: &SimulateOpts, out: &Path) -> Result<()> {
    let cfg = sim_config(o)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let sim = instore::simulate_to_dir(&cfg, out).map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!(
        "wrote {} plate samples, {} track frames, {} gate passages and {} truth receipts to {} ({:.0} % hard actions, {:.0} % put-backs)",
        sim.recording.samples.len(),
        sim.recording.frames.len(),
        sim.recording.gates.len(),
        sim.truth.len(),
        out.display(),
        sim.realized_hard_share() * 100.0,
        sim.put_back_share() * 100.0
    );
    Ok(())
}

/// Scores receipts against the truth; prints a table on stderr and the scores as a JSON last line.
pub fn score(truth: &Path, receipts: &Path) -> Result<()> {
    let t = instore::receipt::read_jsonl(truth).map_err(|e| anyhow::anyhow!("{e}"))?;
    let r = instore::receipt::read_jsonl(receipts).map_err(|e| anyhow::anyhow!("{e}"))?;
    let s = instore::score(&t, &r);
    eprintln!(
        "shoppers {}, truth lines {}, predicted lines {}, correct lines {}",
        s.shoppers, s.truth_lines, s.predicted_lines, s.true_positives
    );
    println!("{}", serde_json::to_string(&s)?);
    Ok(())
}

/// Benchmark options.
pub struct BenchOpts {
    pub gondolas: u16,
    pub shelves: u16,
    pub plates: u16,
    pub seeds: u64,
    pub visits: usize,
    pub shares: Vec<f64>,
    /// Seeds drawn at random for the held-out table (0: none), visits per seed, and the first seed
    /// when a run is to be repeated (otherwise drawn from the operating system).
    pub random_seeds: u64,
    pub random_visits: usize,
    pub seed_from: Option<u64>,
}

/// Pooled and per-seed scores of one store kind over `seeds`.
fn accuracy(
    seeds: &[u64],
    visits: usize,
    share: f64,
    max_concurrent: usize,
    weight_only: bool,
    bar: &indicatif::ProgressBar,
) -> Result<(instore::Score, Vec<(u64, instore::Score)>)> {
    let (mut truth, mut pred, mut per_seed) = (Vec::new(), Vec::new(), Vec::new());
    for &seed in seeds {
        let sim = instore::simulate(&instore::SimConfig {
            seed,
            shoppers: visits,
            max_concurrent,
            gondolas: 3,
            hard_share: share,
            weight_only,
            ..Default::default()
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let rep = instore::replay_recording(&sim.recording, &instore::EngineConfig::default())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        per_seed.push((seed, instore::score(&sim.truth, &rep.receipts)));
        // Target ids are unique per seed's store; prefix them so the seeds pool into one score.
        truth.extend(sim.truth.into_iter().map(|mut t| {
            t.target_id = format!("{seed}:{}", t.target_id);
            t
        }));
        pred.extend(rep.receipts.into_iter().map(|mut t| {
            t.target_id = format!("{seed}:{}", t.target_id);
            t
        }));
        bar.inc(1);
    }
    Ok((instore::score(&truth, &pred), per_seed))
}

/// The distribution of a figure over seeds: (min, median, max).
fn spread(v: &[f64]) -> (f64, f64, f64) {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return (0.0, 0.0, 0.0);
    }
    let median = if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 };
    (v[0], median, v[n - 1])
}

/// Accuracy on seeds nobody tuned on: `n` seeds drawn at random (printed, so a run can be repeated
/// with `--seed-from`), for the tracked store and two stores without a body tracker. Prints a table and
/// returns the JSON summary.
fn held_out(o: &BenchOpts) -> Result<serde_json::Value> {
    use rand::Rng;
    let first = o.seed_from.unwrap_or_else(|| rand::rng().random_range(1_000_000..u64::MAX / 2));
    let seeds: Vec<u64> = (0..o.random_seeds).map(|k| first + k * 7_919).collect();
    println!();
    println!(
        "held out: {} seeds drawn at random, {} visits each, 30 % hard cases (repeat with --seed-from {first}):",
        seeds.len(),
        o.random_visits
    );
    println!("seeds: {}", seeds.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(" "));
    let bar = indicatif::ProgressBar::new(seeds.len() as u64 * 3);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("simulating and replaying held-out seeds");
    let kinds = [
        ("tracked store, up to 4 inside", 4, false),
        ("no body tracker: a cabinet, one at a time", 1, true),
        ("no body tracker: up to 2 inside", 2, true),
    ];
    let mut rows = Vec::new();
    for (name, inside, weight_only) in kinds {
        let (pooled, per_seed) = accuracy(&seeds, o.random_visits, 0.3, inside, weight_only, &bar)?;
        rows.push((name, pooled, per_seed));
    }
    bar.finish_and_clear();
    println!();
    println!("| store | F1 pooled | F1 min / median / max over seeds | exact receipts | visits to review |");
    println!("|---|---:|---:|---:|---:|");
    let mut json = serde_json::Map::new();
    for (name, pooled, per_seed) in &rows {
        let f1: Vec<f64> = per_seed.iter().map(|s| s.1.f1).collect();
        let (lo, med, hi) = spread(&f1);
        let worst = per_seed.iter().min_by(|a, b| a.1.f1.total_cmp(&b.1.f1)).map_or(0, |s| s.0);
        println!(
            "| {name} | {:.3} | {lo:.3} / {med:.3} / {hi:.3} (worst seed {worst}) | {:.3} | {:.1} % |",
            pooled.f1,
            pooled.exact_receipt_rate,
            pooled.review_rate * 100.0
        );
        json.insert(
            (*name).to_owned(),
            serde_json::json!({"f1": pooled.f1, "f1_min": lo, "f1_median": med, "f1_max": hi, "worst_seed": worst,
                "exact_receipts": pooled.exact_receipt_rate, "review_rate": pooled.review_rate}),
        );
    }
    Ok(serde_json::json!({"seeds": seeds, "visits_per_seed": o.random_visits, "hard_share": 0.3, "stores": json}))
}

/// Throughput and latency on a generated store, then accuracy against the share of hard cases.
pub fn bench(o: &BenchOpts) -> Result<()> {
    let mut cfg = instore::BenchConfig::default();
    cfg.sim.gondolas = o.gondolas;
    cfg.sim.shelves = o.shelves;
    cfg.sim.plates = o.plates;
    let plates = o.gondolas as usize * o.shelves as usize * o.plates as usize;
    println!("borderless bench instore — store of {} gondolas × {} shelves × {} plates ({} plates, {:.0} samples/s at 60 Hz)", o.gondolas, o.shelves, o.plates, plates, plates as f64 * 60.0);
    let r = instore::bench(&cfg).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!();
    println!("| measure | result | target |");
    println!("|---|---:|---:|");
    println!(
        "| plate samples processed per second (one core, track frames included) | {:.0} | ≥ 2,000,000 |",
        r.samples_per_s
    );
    println!("| realtime factor for this store | {:.0}× | |", r.realtime_factor);
    println!("| stores of this size per core | {:.0} | ≥ 100 |", r.realtime_factor);
    println!("| pick-to-cart latency p50 / p99 / max (event time after the weight settles) | {:.2} / {:.2} / {:.2} s | p99 < 2 s |", r.latency_p50_s, r.latency_p99_s, r.latency_max_s);
    println!(
        "| stream | {} samples, {} frames, {:.0} s of store time, {} cart updates | |",
        r.samples, r.frames, r.stream_s, r.cart_updates
    );
    println!();
    println!("accuracy: {} seeds × {} visits per share of hard cases (receipt lines count when shopper, product and quantity are all right)", o.seeds, o.visits);
    println!();
    println!("| hard cases | F1 | precision | recall | exact receipts | attribution | visits to review |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let bar = indicatif::ProgressBar::new((o.shares.len() as u64) * o.seeds);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("simulating and replaying");
    let mut rows = Vec::new();
    let seeds: Vec<u64> = (0..o.seeds).map(|k| 1000 + k).collect();
    for &share in &o.shares {
        rows.push((share, accuracy(&seeds, o.visits, share, 4, false, &bar)?.0));
    }
    bar.finish_and_clear();
    for (share, s) in &rows {
        println!(
            "| {:.0} % | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.1} % |",
            share * 100.0,
            s.f1,
            s.precision,
            s.recall,
            s.exact_receipt_rate,
            s.attribution_accuracy,
            s.review_rate * 100.0
        );
    }
    if o.random_seeds > 0 {
        let summary = held_out(o)?;
        println!();
        println!("{}", serde_json::to_string(&summary)?);
    }
    Ok(())
}
