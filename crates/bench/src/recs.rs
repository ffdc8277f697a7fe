//! `bench recs`: recommendation training and serving on a synthetic history of a given size.

use crate::server::*;
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Instant;

/// What `borderless bench recs` builds.
#[derive(Debug, Clone)]
pub struct RecsBenchOpts {
    pub target: Target,
    pub items: usize,
    pub interactions: usize,
    pub serve_products: usize,
    pub serve_sales: usize,
}

/// A synthetic purchase history: items in categories of 100 with Zipf-like popularity inside each, every
/// shopper loyal to two categories, baskets of about five items of which a third repeat earlier buys.
pub fn synthetic_history(items: usize, interactions: usize, seed: u64) -> recs::TrainData {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let cats = items.div_ceil(100).max(1);
    let per_shopper = 20usize;
    let shoppers = (interactions / per_shopper).max(1);
    let mut data = recs::TrainData { n_items: items, n_locations: 5, now: 100 * 86_400_000, ..Default::default() };
    let zipf = |rng: &mut rand::rngs::StdRng| -> usize { ((rng.random::<f64>().powi(3)) * 100.0) as usize };
    let mut made = 0usize;
    for _ in 0..shoppers {
        let fav = [rng.random_range(0..cats), rng.random_range(0..cats)];
        let mut bought: Vec<u32> = Vec::new();
        let mut p = recs::Profile::default();
        let n_baskets = 4;
        for b in 0..n_baskets {
            let mut basket = Vec::with_capacity(5);
            for _ in 0..per_shopper / n_baskets {
                let item = if !bought.is_empty() && rng.random_bool(0.33) {
                    bought[rng.random_range(0..bought.len())]
                } else {
                    let c = fav[rng.random_range(0..2)];
                    ((c * 100 + zipf(&mut rng)) % items) as u32
                };
                basket.push(item);
                bought.push(item);
                made += 1;
            }
            p.baskets.push(recs::Basket {
                t: (b as i64 * 20 + rng.random_range(0..20)) * 86_400_000,
                items: basket,
                location: Some(rng.random_range(0..5)),
            });
        }
        data.shoppers.push(p);
        if made >= interactions {
            break;
        }
    }
    data
}

fn self_peak_rss_mib() -> f64 {
    peak_rss_kib(std::process::id()).map_or(f64::NAN, |k| k as f64 / 1024.0)
}

/// `borderless bench recs`: training time on a synthetic history of the given size (the engine's
/// training path without the database), then recommendations served over HTTP by a child server with
/// stock filters on, at the requested concurrency levels.
pub async fn recs(opts: RecsBenchOpts) -> Result<()> {
    println!("borderless bench recs — training on {} interactions over {} items (synthetic; 2 favourite categories per shopper, 1/3 repeats)", opts.interactions, opts.items);
    let (items, interactions) = (opts.items, opts.interactions);
    let (gen_s, tune_s, train_s, report, nnz) = tokio::task::spawn_blocking(move || {
        let t = Instant::now();
        let data = synthetic_history(items, interactions, 7);
        let gen_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let report = recs::tune(&data, &recs::TrainConfig::default(), &|m| eprintln!("  {m}"));
        let tune_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let model = recs::Model::train(&data, &report.params, report.weights);
        let train_s = t.elapsed().as_secs_f64();
        (gen_s, tune_s, train_s, report, model.co_purchase.nnz() + model.ease.nnz() + model.session.nnz())
    })
    .await?;
    println!();
    println!("| step | seconds |");
    println!("|---|---:|");
    println!("| generate history | {gen_s:.2} |");
    println!("| pick the blend (held-out last baskets, {} evaluations) | {tune_s:.2} |", report.evaluations);
    println!("| train the chosen blend | {train_s:.2} |");
    println!("| **total training** | **{:.2}** |", tune_s + train_s);
    println!();
    println!("validation recall@20 {:.4}, ndcg@20 {:.4}; model holds {nnz} item-item weights; peak memory of this process {:.0} MiB", report.recall20, report.ndcg20, self_peak_rss_mib());

    // Serving over HTTP.
    let (child, url, key) = opts.target.connect().await?;
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build()?;
    let api = Api { client: client.clone(), url: url.clone(), key: key.clone() };
    let run = domain::ids::random_token(3).to_lowercase();
    let loc = api
        .admin("/admin/locations", json!({"code": format!("RB-{run}"), "name_ko": "추천 벤치 매장", "name_en": "Recs bench store", "kind": "store", "pickup_enabled": true, "ships": true,
            "address": {"line1": "1", "city": "Seoul", "postal_code": "06232", "country": "KR"}}))
        .await?["location"]["id"]
        .as_str()
        .context("location")?
        .to_owned();
    let bar = indicatif::ProgressBar::new((opts.serve_products + opts.serve_sales) as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("catalog, stock and sales for serving");
    let mut csv = String::from("handle,title_ko,title_en,description_ko,description_en,category,vendor,status,sku,gtin,weight_g,attributes,price_krw,price_usd\n");
    for i in 0..opts.serve_products {
        csv.push_str(&format!(
            "rb-{run}-{i},추천 상품 {i},Recs item {i},,,cat{},bench,active,RB-{run}-{i},,100,,{},\n",
            i / 50,
            1000 + i
        ));
    }
    let r = client
        .post(format!("{url}/admin/products/import"))
        .bearer_auth(&key)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("catalog import failed: {}", r.text().await.unwrap_or_default());
    }
    // Nine in ten products in stock at the store.
    for i in 0..opts.serve_products {
        if i % 10 != 0 {
            api.admin("/admin/inventory/adjustments", json!({"sku": format!("RB-{run}-{i}"), "location_id": loc, "quantity_delta": 1000, "reason": "bench stock"})).await?;
        }
        bar.inc(1);
    }
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    for s in 0..opts.serve_sales {
        let cat = rng.random_range(0..opts.serve_products.div_ceil(50));
        let mut lines: Vec<Value> = Vec::new();
        for _ in 0..3 {
            let i = (cat * 50 + (rng.random::<f64>().powi(2) * 50.0) as usize).min(opts.serve_products - 1);
            if !i.is_multiple_of(10) && !lines.iter().any(|l| l["sku"] == format!("RB-{run}-{i}")) {
                lines.push(json!({"sku": format!("RB-{run}-{i}"), "quantity": 1}));
            }
        }
        if !lines.is_empty() {
            api.admin("/admin/pos/sales", json!({"location_id": loc, "lines": lines}))
                .await
                .with_context(|| format!("sale {s}"))?;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let ids: Vec<String> = {
        let mut v = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let q = after.as_ref().map(|a| format!("&after={a}")).unwrap_or_default();
            let page = api.get(&format!("/admin/products?limit=100{q}")).await?;
            let data = page["data"].as_array().cloned().unwrap_or_default();
            v.extend(data.iter().filter_map(|p| p["id"].as_str().map(str::to_owned)));
            match page["next_cursor"].as_str() {
                Some(c) if !data.is_empty() => after = Some(c.to_owned()),
                _ => break,
            }
        }
        v
    };
    // Anonymous visitors who browsed a few products each.
    for s in 0..200 {
        let evs: Vec<Value> =
            (0..5).map(|k| json!({"type": "view", "product_id": ids[(s * 7 + k * 3) % ids.len()]})).collect();
        api.client
            .post(format!("{url}/store/events"))
            .json(&json!({"session_id": format!("bench-{run}-{s}"), "events": evs}))
            .send()
            .await?;
    }
    let t = Instant::now();
    let trained = api.admin("/admin/recommendations/model", json!({})).await?;
    println!();
    println!(
        "serving: {} products, {} counter sales; model version {} trained through the API in {:.2} s",
        opts.serve_products,
        opts.serve_sales,
        trained["model"]["version"],
        t.elapsed().as_secs_f64()
    );
    println!();
    println!(
        "GET /store/recommendations (in stock at the store; home for a browsing visitor, or a product page), limit 10"
    );
    println!();
    println!("| concurrency | requests | requests/s | p50 ms | p99 ms | errors |");
    println!("|---:|---:|---:|---:|---:|---:|");
    let ids = Arc::new(ids);
    let counter = Arc::new(AtomicU64::new(0));
    for &c in &opts.target.concurrency {
        let (client, url, loc, ids, run) = (client.clone(), url.clone(), loc.clone(), ids.clone(), run.clone());
        let step = move |_w: usize, n: u64| {
            let path = if n.is_multiple_of(2) {
                format!("/store/recommendations?session_id=bench-{run}-{}&location={loc}&limit=10", n % 200)
            } else {
                format!(
                    "/store/recommendations?context=product:{}&location={loc}&limit=10",
                    ids[(n as usize * 13) % ids.len()]
                )
            };
            let (client, url) = (client.clone(), url.clone());
            async move { matches!(client.get(format!("{url}{path}")).send().await, Ok(r) if r.status().is_success()) }
        };
        let (mut all, errors, secs) = run_level(c, opts.target.duration, counter.clone(), step).await?;
        latency_row(c.to_string(), all.len(), secs, &mut all, errors);
    }
    if let Some(ch) = &child {
        println!();
        println!("server peak memory: {:.0} MiB", peak_rss_kib(ch.proc.id()).map_or(f64::NAN, |k| k as f64 / 1024.0));
    }
    Ok(())
}
