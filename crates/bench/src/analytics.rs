//! `borderless bench analytics`: shopper analytics at scale, checked against DuckDB. Builds a shop in a
//! fresh SQLite node (stores, a warehouse, two cashierless stores with their layouts, the synthetic
//! catalog), generates --events events of multi-channel traffic from --seed (`insight::synth`, calibrated to
//! public clickstream ratios and store visit shapes), ingests them through the engine's import (the path
//! the demo's history takes), answers every question over the whole period --runs times, exports Parquet
//! (`analytics export`), answers the same questions with DuckDB (from PyPI, `scripts/analytics_duckdb.py`)
//! over that export, and checks that both answers are equal, row for row. Prints one JSON line last.

use crate::search::synthetic_product;
use crate::server::{peak_rss_kib, resident_kib, store_location};
use crate::storefront::bench_node;
use anyhow::{bail, Context, Result};
use engine::insight::Ask;
use engine::instore::live::{FacingIn, LayoutInput, PlateIn};
use insight::parquet::{Column, Values};
use insight::synth::{Facing, Product, Store, SynthConfig, World};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct AnalyticsBenchOpts {
    pub events: usize,
    pub seed: u64,
    pub runs: usize,
    /// The questions ask about the last this many days (2: yesterday and today, as the console's
    /// dashboard does); the data holds every day generated.
    pub days_asked: i64,
    /// The Python with DuckDB installed.
    pub python: String,
}

const PRODUCTS: usize = 3_000;
/// The questions as DuckDB SQL (embedded, so that an installed binary runs it too).
const DUCKDB_SCRIPT: &str = include_str!("../../../scripts/analytics_duckdb.py");
const DAY_MS: i64 = 86_400_000;
const OFFSET_MIN: i32 = 540;
/// Events that arrive after the snapshot is loaded (taken in, not read again).
const LIVE_EVENTS: usize = 2_000;

async fn cashierless(
    engine: &engine::Engine,
    n: usize,
    first_product: usize,
    ids: &[(String, String, String)],
) -> Result<(String, Vec<Facing>)> {
    let loc_id = crate::server::cashierless_location(
        engine,
        &format!("GO{n}"),
        &format!("무인 매장 {n}"),
        &format!("Cashierless {n}"),
    )
    .await?;
    let (mut plates, mut facings, mut synth) = (Vec::new(), Vec::new(), Vec::new());
    let mut k = first_product;
    for g in 1..=2u16 {
        for s in 1..=6u16 {
            for p in 1..=10u16 {
                let (sku, product, category) = &ids[k % ids.len()];
                k += 1;
                plates.push(PlateIn { gondola: g, shelf: s, plate: p, sku: Some(sku.clone()), unit_weight_g: 250.0 });
                let x = (g - 1) as f64 * 3.5 + (p - 1) as f64 * 0.3;
                facings.push(FacingIn {
                    sku: sku.clone(),
                    gondola: g,
                    shelf: s,
                    plates: vec![p],
                    corner_m: [x, 1.0 + (g - 1) as f64 * 2.0, 0.25 + (s - 1) as f64 * 0.3],
                    size_m: [0.3, 0.4, 0.3],
                });
                synth.push(Facing {
                    zone: format!("facing:{g}-{s}-{p}:{sku}"),
                    gondola: g,
                    sku: sku.clone(),
                    product: product.clone(),
                    category: category.clone(),
                });
            }
        }
    }
    engine.put_store_layout(&loc_id, LayoutInput { plates, facings }).await?;
    Ok((loc_id, synth))
}

fn places_file(world: &World) -> Result<Vec<u8>> {
    let mut cols: [Vec<Option<String>>; 4] = Default::default();
    let mut gondola = Vec::new();
    for s in &world.stores {
        for f in &s.facings {
            cols[0].push(Some(s.location.clone()));
            cols[1].push(Some(f.sku.clone()));
            cols[2].push(Some(f.product.clone()));
            cols[3].push(Some(f.category.clone()));
            gondola.push(Some(f.gondola as i64));
        }
    }
    let [location, sku, product, category] = cols;
    let c = |name: &str, v| Column { name: name.into(), optional: false, values: Values::Str(v) };
    insight::parquet::write(&[
        c("location", location),
        c("sku", sku),
        c("product", product),
        c("category", category),
        Column { name: "gondola".into(), optional: false, values: Values::I64(gondola) },
    ])
    .map_err(|e| anyhow::anyhow!(e))
}

/// Rows of an answer as JSON values keyed for comparison, with only the fields DuckDB's script gives.
fn comparable(rows: Value, fields: &[&str], rename: &[(&str, &str)]) -> Vec<Value> {
    let mut out: Vec<Value> = rows
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|r| {
            let mut m = serde_json::Map::new();
            for f in fields {
                let from = rename.iter().find(|(to, _)| to == f).map(|(_, from)| *from).unwrap_or(f);
                m.insert((*f).to_owned(), r.get(from).cloned().unwrap_or(Value::Null));
            }
            Value::Object(m)
        })
        .collect();
    out.sort_by_key(|v| v.to_string());
    out
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => (x.as_f64().unwrap_or(0.0) - y.as_f64().unwrap_or(0.0)).abs() < 1e-9,
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same(v, w)),
        _ => a == b,
    }
}

fn p95(mut ms: Vec<f64>) -> f64 {
    ms.sort_by(|a, b| a.total_cmp(b));
    let i = ((ms.len() as f64 * 0.95).ceil() as usize).clamp(1, ms.len()) - 1;
    (ms[i] * 1000.0).round() / 1000.0
}

pub async fn analytics(o: AnalyticsBenchOpts) -> Result<()> {
    let probe = std::process::Command::new(&o.python).args(["-c", "import duckdb; print(duckdb.__version__)"]).output();
    let duckdb_version = match probe {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        _ => bail!("{} cannot import duckdb: install it (pip install duckdb==2.0.1) or pass --python", o.python),
    };
    let (dir, running) = bench_node("analytics").await?;
    let engine = running.engine.clone();
    println!(
        "borderless bench analytics — {} events from seed {}, every question {} times, against DuckDB {duckdb_version} (2 threads)",
        o.events, o.seed, o.runs
    );
    // The shop: six stores with counters, a warehouse, the catalog, two cashierless stores with layouts.
    let mut counters = Vec::new();
    for l in 0..6 {
        counters.push(store_location(&engine, l, None).await?);
    }
    for start in (0..PRODUCTS).step_by(1000) {
        engine.upsert_products((start..(start + 1000).min(PRODUCTS)).map(synthetic_product).collect()).await?;
    }
    let all = engine.all_products().await?;
    let ids: Vec<(String, String, String)> = all
        .iter()
        .flat_map(|p| p.variants.iter().map(move |v| (v.sku.clone(), p.id.clone(), p.category.clone())))
        .collect();
    let price = |sku: &str| {
        sku.trim_start_matches("SKU-").parse::<i64>().map(|i| 1_000 * (5 + (i * 37 % 300))).unwrap_or(10_000)
    };
    let products: Vec<Product> = ids
        .iter()
        .map(|(sku, id, cat)| Product {
            id: id.clone(),
            sku: sku.clone(),
            category: cat.clone(),
            price_minor: price(sku),
        })
        .collect();
    let mut stores: Vec<Store> =
        counters.iter().map(|l| Store { location: l.clone(), cashierless: false, facings: vec![] }).collect();
    for n in 0..2 {
        let (loc, facings) = cashierless(&engine, n, n * 500, &ids).await?;
        stores.push(Store { location: loc, cashierless: true, facings });
    }
    let customers = (0..20_000).map(|i| format!("bench-customer-{i}")).collect();
    let world = World {
        stores,
        web_location: counters[0].clone(),
        products,
        customers,
        members: 40_000,
        currency: "KRW".into(),
    };
    // Days of traffic: about 190,000 events a day at these rates.
    let today = insight::time::day_number(engine.now(), OFFSET_MIN);
    // Nothing happens after today (the questions' window ends there, and so does the export).
    let end_ms = (today + 1) * DAY_MS - OFFSET_MIN as i64 * 60_000;
    let cfg = |day: i64, scale: f64| SynthConfig {
        seed: o.seed.wrapping_mul(1_000_003).wrapping_add(day as u64),
        start_ms: day * DAY_MS - OFFSET_MIN as i64 * 60_000,
        days: 1,
        utc_offset_min: OFFSET_MIN,
        web_sessions_per_day: (20_000.0 * scale).ceil() as u32,
        visits_per_store_day: (2_000.0 * scale).ceil() as u32,
        counter_orders_per_store_day: (1_500.0 * scale).ceil() as u32,
        until_ms: end_ms,
    };
    let per_day = insight::synth::generate(&world, &cfg(today - 1, 1.0)).len().max(1);
    // Fewer events than a day's: a quieter day, with every kind of traffic.
    let scale = (o.events as f64 / per_day as f64).min(1.0);
    let days = o.events.div_ceil(per_day).clamp(1, 390) as i64;
    let first_day = today - days + 1;
    let bar = indicatif::ProgressBar::new(o.events as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({per_sec})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("ingesting");
    let (mut ingested, mut ingest_s) = (0usize, 0.0f64);
    // Newest day first: when the events run out, the oldest day is the one cut short.
    for day in (first_day..=today).rev() {
        let mut evs = insight::synth::generate(&world, &cfg(day, scale));
        evs.sort_by_key(|e| e.at_ms);
        evs.truncate(o.events - ingested);
        let n = evs.len();
        let t = Instant::now();
        let new = engine.insight_import(evs).await?;
        ingest_s += t.elapsed().as_secs_f64();
        if new != n {
            bail!("{n} events generated for day {day}, {new} written: ids must be new");
        }
        ingested += n;
        bar.set_position(ingested as u64);
        if ingested >= o.events {
            break;
        }
    }
    bar.finish_and_clear();
    let ingest_per_s = ingested as f64 / ingest_s.max(1e-9);
    let mib = || peak_rss_kib(std::process::id()).unwrap_or(0) as f64 / 1024.0;
    let peak_after_ingest = mib();
    // The load generator's memory (a day of generated events at a time, freed by now) goes back to the
    // system before the node loads its snapshot, as if the generator had run in another process: the
    // node's figures are the node's. (The binary's allocator is mimalloc.)
    let resident = || resident_kib(std::process::id()).unwrap_or(0) as f64 / 1024.0;
    let before = resident();
    // SAFETY: asks the allocator to return the free memory of this thread's heap and its arenas.
    unsafe { libmimalloc_sys::mi_collect(true) };
    println!(
        "resident after the ingest {before:.0} MiB, {:.0} MiB once the generator's freed memory is handed back",
        resident()
    );
    println!("ingested {ingested} events in {ingest_s:.1} s: {ingest_per_s:.0} events/s (5,000 per transaction)");
    let date = |d: i64| insight::time::date(d * DAY_MS, 0);
    let asked_from = (today - o.days_asked + 1).max(first_day);
    let ask = || Ask { from: Some(date(asked_from)), to: Some(date(today)), location_id: None, segment: None, k: None };
    println!(
        "the questions ask about {} to {} ({} of {} days); the export holds every day",
        date(asked_from),
        date(today),
        today - asked_from + 1,
        today - first_day + 1
    );
    let t = Instant::now();
    engine.analytics_traffic(ask()).await?;
    let load_s = t.elapsed().as_secs_f64();
    let peak_after_load = mib();
    println!(
        "loaded the snapshot and answered the first question in {load_s:.1} s (peak memory {peak_after_ingest:.0} MiB after the ingest, {peak_after_load:.0} MiB after the load)"
    );
    // What a live node does every few seconds: take in what arrived since (a busy few seconds of today's
    // traffic, from another seed), without reading the stored events again.
    let mut live = insight::synth::generate(&world, &SynthConfig { seed: !o.seed, ..cfg(today, 0.02 * scale) });
    live.truncate(LIVE_EVENTS);
    let live_n = live.len();
    let quiet = {
        let t = Instant::now();
        engine.analytics_traffic(ask()).await?;
        t.elapsed().as_secs_f64() * 1000.0
    };
    engine.insight_import(live).await?;
    let t = Instant::now();
    engine.analytics_traffic(ask()).await?;
    let refresh_ms = t.elapsed().as_secs_f64() * 1000.0;
    let peak_after_refresh = mib();
    println!(
        "{live_n} new events taken in and the question answered in {refresh_ms:.1} ms (the question alone: {quiet:.1} ms; peak memory {peak_after_refresh:.0} MiB)"
    );

    // Our answers, timed.
    let mut ours: BTreeMap<&str, (Value, Vec<f64>)> = BTreeMap::new();
    for _ in 0..o.runs {
        macro_rules! time {
            ($name:expr, $call:expr) => {{
                let t = Instant::now();
                let v = serde_json::to_value($call.await?)?;
                let e = ours.entry($name).or_insert((Value::Null, Vec::new()));
                e.1.push(t.elapsed().as_secs_f64() * 1000.0);
                e.0 = v["rows"].clone();
            }};
        }
        time!("dwell_zone_hour", engine.analytics_dwell(ask(), Some("zone".into()), Some("hour".into())));
        time!("dwell_facing", engine.analytics_dwell(ask(), Some("facing".into()), None));
        time!("instore_funnel", engine.analytics_instore_funnel(ask(), Some("product".into()), Some(5)));
        time!("online_funnel_device", engine.analytics_online_funnel(ask(), true));
        time!("journeys", engine.analytics_journeys(ask(), Some(7), Some(5), Some(0)));
        time!("traffic", engine.analytics_traffic(ask()));
        time!("channel_mix", engine.analytics_channel_mix(ask()));
        time!("repeat", engine.analytics_repeat(ask()));
        time!("stockouts", engine.analytics_stockouts(ask()));
    }
    let rss_mib = peak_rss_kib(std::process::id()).unwrap_or(0) as f64 / 1024.0;
    let (rows, names, table_bytes) = engine.insight_snapshot_size().unwrap_or_default();
    let table_mib = table_bytes as f64 / 1_048_576.0;
    println!("the snapshot: {rows} events, {names} distinct names, {table_mib:.0} MiB of columns and names");

    // The export, and DuckDB over it.
    let export = dir.join("export");
    let sink = engine::insight::dir_sink(export.clone());
    let files = engine
        .analytics_export(
            Ask { from: Some(date(first_day)), to: Some(date(today)), location_id: None, segment: None, k: None },
            sink,
        )
        .await?;
    let places = dir.join("places.parquet");
    std::fs::write(&places, places_file(&world)?)?;
    let from_ms = asked_from * DAY_MS - OFFSET_MIN as i64 * 60_000;
    let params = json!({
        "from_ms": from_ms, "to_ms": end_ms, "offset_min": OFFSET_MIN,
        "k": engine::Config::default().analytics_k, "min_dwell_ms": 5000, "within_days": 7, "runs": o.runs,
        "places": places.display().to_string(), "threads": 2,
    });
    let script = dir.join("analytics_duckdb.py");
    std::fs::write(&script, DUCKDB_SCRIPT)?;
    let out = std::process::Command::new(&o.python)
        .arg(&script)
        .arg(&export)
        .arg(params.to_string())
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    if !out.status.success() {
        bail!("DuckDB's answers failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let duck: Value = serde_json::from_slice(&out.stdout).context("DuckDB's answers are not JSON")?;

    let shapes: &[(&str, &[&str], &[(&str, &str)])] = &[
        (
            "dwell_zone_hour",
            &[
                "location_id",
                "key",
                "hour",
                "suppressed",
                "visits",
                "visitors",
                "dwells",
                "mean_ms",
                "median_ms",
                "p90_ms",
                "share",
            ],
            &[("share", "share_of_store_visitors")],
        ),
        (
            "dwell_facing",
            &["location_id", "key", "suppressed", "visits", "visitors", "dwells", "mean_ms", "median_ms", "p90_ms"],
            &[],
        ),
        (
            "instore_funnel",
            &[
                "location_id",
                "key",
                "suppressed",
                "passed",
                "dwelled",
                "picked",
                "bought",
                "picked_units",
                "put_back_units",
                "put_back_rate",
            ],
            &[],
        ),
        (
            "online_funnel_device",
            &[
                "device",
                "suppressed",
                "viewed",
                "carted",
                "checked_out",
                "purchased",
                "view_to_cart",
                "cart_to_checkout",
                "checkout_to_purchase",
            ],
            &[],
        ),
        ("journeys", &["journey", "suppressed", "shoppers_count", "journeys", "units", "revenue_minor"], &[]),
        (
            "traffic",
            &["location_id", "hour", "suppressed", "visits", "orders", "buyers", "conversion", "basket_units"],
            &[],
        ),
        (
            "channel_mix",
            &[
                "location_id",
                "date",
                "channel",
                "currency",
                "suppressed",
                "orders",
                "units",
                "revenue_minor",
                "returned_minor",
                "share",
            ],
            &[],
        ),
        ("repeat", &["segment", "suppressed", "buyers", "repeat_buyers", "repeat_rate"], &[]),
        (
            "stockouts",
            &["location_id", "sku", "episodes", "out_ms", "out_now", "sold_per_hour", "lost_units", "lost_minor"],
            &[],
        ),
    ];
    println!();
    println!("{:<22} {:>8} {:>10} {:>12} {:>7}", "question", "rows", "p95 ms", "DuckDB p95", "equal");
    let mut questions = serde_json::Map::new();
    let mut all_equal = true;
    for (name, fields, rename) in shapes {
        let (rows, times) = ours.remove(name).unwrap_or_default();
        let mut mine = comparable(rows, fields, rename);
        if *name == "journeys" {
            mine.retain(|r| r.get("journey").is_some());
        }
        let theirs = comparable(duck[name]["rows"].clone(), fields, &[]);
        let equal = mine.len() == theirs.len() && mine.iter().zip(&theirs).all(|(a, b)| same(a, b));
        if !equal {
            all_equal = false;
            let diff = mine.iter().zip(&theirs).find(|(a, b)| !same(a, b));
            eprintln!("{name}: {} rows here, {} in DuckDB; first difference: {diff:?}", mine.len(), theirs.len());
        }
        let ours_p95 = p95(times);
        let duck_p95 = duck[name]["p95_ms"].as_f64().unwrap_or(f64::NAN);
        println!("{name:<22} {:>8} {ours_p95:>10.2} {duck_p95:>12.2} {:>7}", mine.len(), equal);
        questions.insert(
            (*name).into(),
            json!({"p95_ms": ours_p95, "duckdb_p95_ms": duck_p95, "equal": equal, "rows": mine.len()}),
        );
    }
    println!();
    let export_rss_mib = peak_rss_kib(std::process::id()).unwrap_or(0) as f64 / 1024.0;
    println!(
        "peak memory of the node: {rss_mib:.0} MiB ({export_rss_mib:.0} MiB with the export, written a day at a time); the export: {} files",
        files.len()
    );
    running.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "{}",
        json!({"events": ingested, "ingest_events_per_s": ingest_per_s.round(), "rss_mib": rss_mib.round(),
               "export_rss_mib": export_rss_mib.round(), "table_mib": table_mib.round(),
               "rss_after_ingest_mib": peak_after_ingest.round(), "rss_after_load_mib": peak_after_load.round(),
               "rss_after_refresh_mib": peak_after_refresh.round(),
               "snapshot_load_s": (load_s * 10.0).round() / 10.0, "live_events": live_n,
               "live_refresh_ms": (refresh_ms * 10.0).round() / 10.0, "questions": questions, "all_equal": all_equal})
    );
    if !all_equal {
        bail!("DuckDB's answers differ from the engine's (above)");
    }
    Ok(())
}
