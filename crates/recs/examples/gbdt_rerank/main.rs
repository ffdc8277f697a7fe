//! An experiment kept so that its figures can be reproduced (docs/benchmarks.md, "A learned re-ranker"):
//! gradient-boosted trees re-rank the blend's candidates for each shopper, trained on the shopper's own
//! earlier baskets (the last `--targets` history baskets each become a target, predicted from the baskets
//! before it), and are scored on the held-out future baskets against personal top-frequency and the blend.
//! Not in the product: it did not gain on every dataset.
//!
//!   cargo run --release -p recs --example gbdt_rerank -- [--targets 10] [--trees 200] [--depth 5]
//!       [--no-blend] HISTORY.json FUTURE.json [HISTORY.json FUTURE.json ...]
//!
//! The files are the next-basket split that `borderless recs eval` reads (`scripts/recs-eval.sh` builds
//! them under ~/.cache/borderless/recs-data; Ta-Feng is in ../shared/data/tafeng).

mod gbdt;

use gbdt::{Gbdt, GbdtConfig};
use recs::eval::{basket_time_config, personal_top_frequency, read_split, score_lists, Split};
use recs::{Model, Profile, Scratch, TrainData};
use std::collections::HashMap;

struct ItemStats {
    pop: Vec<f32>,
    repeat: Vec<f32>,
}

fn item_stats(data: &TrainData) -> ItemStats {
    let n = data.n_items;
    let (mut buyers, mut rep) = (vec![0u32; n], vec![0u32; n]);
    for s in &data.shoppers {
        let mut c: HashMap<u32, u32> = HashMap::new();
        for b in &s.baskets {
            let mut u = b.items.clone();
            u.sort_unstable();
            u.dedup();
            for i in u {
                *c.entry(i).or_default() += 1;
            }
        }
        for (i, k) in c {
            buyers[i as usize] += 1;
            if k >= 2 {
                rep[i as usize] += 1;
            }
        }
    }
    let ns = data.shoppers.len().max(1) as f32;
    ItemStats {
        pop: buyers.iter().map(|&b| b as f32 / ns).collect(),
        repeat: buyers.iter().zip(&rep).map(|(&b, &r)| (r as f32 + 0.1) / (b as f32 + 1.0)).collect(),
    }
}

const NFEAT: usize = 21;

/// Candidates and their features for one profile.
fn rows_for(
    model: &Model,
    st: &ItemStats,
    p: &Profile,
    scratch: &mut Scratch,
    use_blend: bool,
) -> (Vec<u32>, Vec<f32>) {
    let n = p.baskets.len();
    let rec = model.recommend(p, None, 300, scratch, &|_| false);
    let blend: HashMap<u32, (f32, usize)> = rec.iter().enumerate().map(|(r, s)| (s.item, (s.score, r))).collect();
    // Own items: count, first, last, decayed sums, recent counts.
    struct Own {
        c: f32,
        first: usize,
        last: usize,
        d9: f32,
        d7: f32,
        l3: f32,
        l5: f32,
    }
    let mut own: HashMap<u32, Own> = HashMap::new();
    let mut seen_before = 0usize;
    let mut total_after_first = 0usize;
    let mut size_sum = 0usize;
    for (k, b) in p.baskets.iter().enumerate() {
        let mut u = b.items.clone();
        u.sort_unstable();
        u.dedup();
        size_sum += u.len();
        let age = (n - 1 - k) as i32;
        for i in u {
            if k > 0 {
                total_after_first += 1;
                if own.contains_key(&i) {
                    seen_before += 1;
                }
            }
            let o = own.entry(i).or_insert(Own { c: 0.0, first: k, last: k, d9: 0.0, d7: 0.0, l3: 0.0, l5: 0.0 });
            o.c += 1.0;
            o.last = k;
            o.d9 += 0.9f32.powi(age);
            o.d7 += 0.7f32.powi(age);
            if age < 3 {
                o.l3 += 1.0;
            }
            if age < 5 {
                o.l5 += 1.0;
            }
        }
    }
    let s9: f32 = (0..n).map(|a| 0.9f32.powi(a as i32)).sum::<f32>().max(1e-6);
    let s7: f32 = (0..n).map(|a| 0.7f32.powi(a as i32)).sum::<f32>().max(1e-6);
    let repeat_ratio = if total_after_first == 0 { f32::NAN } else { seen_before as f32 / total_after_first as f32 };
    let mean_size = if n == 0 { 0.0 } else { size_sum as f32 / n as f32 };
    let mut items: Vec<u32> = rec.iter().take(40).map(|s| s.item).collect();
    let mut by_count: Vec<(&u32, &Own)> = own.iter().collect();
    by_count.sort_unstable_by(|a, b| b.1.c.total_cmp(&a.1.c).then(a.0.cmp(b.0)));
    for (&i, _) in by_count.into_iter().take(80) {
        if !items.contains(&i) {
            items.push(i);
        }
    }
    let mut rows = Vec::with_capacity(items.len() * NFEAT);
    for &i in &items {
        let (bs, br) = blend.get(&i).copied().unwrap_or((0.0, 300));
        let (bs, br) = if use_blend { (bs, br as f32) } else { (f32::NAN, f32::NAN) };
        let nf = n as f32;
        let f: [f32; NFEAT] = match own.get(&i) {
            Some(o) => {
                let since_last = (n - 1 - o.last) as f32;
                let span = (n - o.first) as f32;
                let gap = if o.c >= 2.0 { (o.last - o.first) as f32 / (o.c - 1.0) } else { f32::NAN };
                [
                    bs,
                    br,
                    o.c,
                    o.c / nf,
                    since_last,
                    span,
                    o.c / span,
                    gap,
                    since_last / gap,
                    f32::from(o.last == n - 1),
                    o.l3,
                    o.l5,
                    o.d9 / s9,
                    o.d7 / s7,
                    st.pop[i as usize],
                    st.repeat[i as usize],
                    nf,
                    mean_size,
                    repeat_ratio,
                    own.len() as f32,
                    1.0,
                ]
            }
            None => [
                bs,
                br,
                0.0,
                0.0,
                f32::NAN,
                f32::NAN,
                0.0,
                f32::NAN,
                f32::NAN,
                0.0,
                0.0,
                0.0,
                0.0,
                0.0,
                st.pop[i as usize],
                st.repeat[i as usize],
                nf,
                mean_size,
                repeat_ratio,
                own.len() as f32,
                0.0,
            ],
        };
        rows.extend_from_slice(&f);
    }
    (items, rows)
}

fn truncated(data: &TrainData, k: usize) -> TrainData {
    let mut d = data.clone();
    for s in &mut d.shoppers {
        let n = s.baskets.len();
        s.baskets.truncate(n.saturating_sub(k));
    }
    d
}

fn usage(why: &str) -> ! {
    eprintln!("error: {why}");
    eprintln!("usage: gbdt_rerank [--targets N] [--trees N] [--depth N] [--no-blend] HISTORY.json FUTURE.json ...");
    std::process::exit(2)
}

fn main() {
    let (mut targets, mut trees, mut depth, mut use_blend) = (10usize, 200usize, 5usize, true);
    let mut files: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut number = |name: &str| -> usize {
            let v = args.next().unwrap_or_else(|| usage(&format!("{name} needs a number")));
            v.parse()
                .ok()
                .filter(|&n| n > 0)
                .unwrap_or_else(|| usage(&format!("{name} {v}: not a positive whole number")))
        };
        match a.as_str() {
            "--targets" => targets = number("--targets"),
            "--trees" => trees = number("--trees"),
            "--depth" => depth = number("--depth"),
            "--no-blend" => use_blend = false,
            f if f.starts_with("--") => usage(&format!("unknown option {f}")),
            _ => files.push(a),
        }
    }
    if files.is_empty() || !files.len().is_multiple_of(2) {
        usage("give the files in pairs: a history file, then its future file");
    }
    for pair in files.chunks(2) {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_else(|e| usage(&format!("{p}: {e}")));
        let split: Split = read_split(&read(&pair[0]), &read(&pair[1]))
            .unwrap_or_else(|e| usage(&format!("{} / {}: {e}", pair[0], pair[1])));
        let t0 = std::time::Instant::now();
        let cfg = basket_time_config();
        let rep = recs::tune(&split.data, &cfg, &|_| {});
        let params = rep.params.pruned_for(&rep.weights, false);
        let (ptf, _) = personal_top_frequency(&split, 20);
        let ptf_s = score_lists(&split, &ptf).recall20;
        let full = Model::train(&split.data, &params, rep.weights);
        let blend_lists = recs::eval::predict_all(&full, &split.data.shoppers, 20);
        let blend_s = score_lists(&split, &blend_lists).recall20;
        // Training rows: targets at the last `targets` history positions, features from the baskets before.
        let past = truncated(&split.data, targets);
        let m_past = Model::train(&past, &params, rep.weights);
        let st_past = item_stats(&past);
        let mut scratch = Scratch::new(split.data.n_items);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for s in &split.data.shoppers {
            let n = s.baskets.len();
            for t in n.saturating_sub(targets).max(1)..n {
                let prof = Profile { baskets: s.baskets[..t].to_vec(), ..Default::default() };
                let (items, rows) = rows_for(&m_past, &st_past, &prof, &mut scratch, use_blend);
                let mut truth = s.baskets[t].items.clone();
                truth.sort_unstable();
                for &i in &items {
                    y.push(truth.binary_search(&i).is_ok());
                }
                x.extend(rows);
            }
        }
        let pos = y.iter().filter(|&&v| v).count();
        let fit_t = std::time::Instant::now();
        let gcfg = GbdtConfig { trees, depth, ..Default::default() };
        let gb = Gbdt::fit(&x, NFEAT, &y, &gcfg);
        let fit_s = fit_t.elapsed().as_secs_f64();
        let st = item_stats(&split.data);
        let popular = recs::eval::most_bought(&split.data, 20);
        let lists: Vec<Vec<u32>> = split
            .data
            .shoppers
            .iter()
            .map(|p| {
                let (items, rows) = rows_for(&full, &st, p, &mut scratch, use_blend);
                let mut sc: Vec<(u32, f32)> = items
                    .iter()
                    .enumerate()
                    .map(|(k, &i)| (i, gb.predict(&rows[k * NFEAT..(k + 1) * NFEAT])))
                    .collect();
                sc.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                let mut l: Vec<u32> = sc.into_iter().take(20).map(|s| s.0).collect();
                for &i in &popular {
                    if l.len() >= 20 {
                        break;
                    }
                    if !l.contains(&i) {
                        l.push(i);
                    }
                }
                l
            })
            .collect();
        let gb_s = score_lists(&split, &lists).recall20;
        println!(
            "{}: shoppers {} rows {} pos {} fit {:.1}s | P-TopFreq {:.4} blend {:.4} ({:+.1} %) gbdt {:.4} ({:+.1} %) [{:.0}s]",
            pair[0].rsplit('/').next().unwrap(),
            split.future.len(),
            y.len(),
            pos,
            fit_s,
            ptf_s,
            blend_s,
            100.0 * (blend_s / ptf_s - 1.0),
            gb_s,
            100.0 * (gb_s / ptf_s - 1.0),
            t0.elapsed().as_secs_f64()
        );
    }
}
