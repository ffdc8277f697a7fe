//! `borderless bench console`: how fast the staff console renders on a big shop. Seeds --orders counter
//! sales and --skus SKUs stocked at --locations locations into a fresh SQLite node, signs in as the owner
//! and times each screen over loopback (sequential requests; the figure includes HTTP, the session lookup,
//! every query and the rendering), printing p50/p95/p99 and the page size.

use crate::server::pct;
use anyhow::{bail, Context, Result};
use engine::platform::auth::Principal;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct ConsoleBenchOpts {
    pub orders: usize,
    pub skus: usize,
    pub locations: usize,
    /// Requests per screen.
    pub requests: usize,
}

pub async fn console(opts: ConsoleBenchOpts) -> Result<()> {
    use rand::{Rng, SeedableRng};
    let dir = std::env::temp_dir().join(format!("borderless-console-bench-{}", domain::ids::random_token(6)));
    let cfg = node::app::AppConfig {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.clone(),
        workers: false,
        recs_train_every: Duration::ZERO,
        ..Default::default()
    };
    let running = node::app::start(cfg).await?;
    let engine = running.engine.clone();
    let url = running.url();
    println!(
        "borderless bench console — {} orders, {} SKUs × {} locations, {} requests per screen",
        opts.orders, opts.skus, opts.locations, opts.requests
    );
    let bar = indicatif::ProgressBar::new((opts.skus + opts.orders) as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({per_sec})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("catalog and stock");
    let mut stores = Vec::new();
    for l in 0..opts.locations {
        stores.push(crate::server::store_location(&engine, l, None).await?);
    }
    for start in (0..opts.skus).step_by(1000) {
        let end = (start + 1000).min(opts.skus);
        let batch: Vec<_> = (start..end)
            .map(|i| engine::catalog::products::ProductInput {
                handle: format!("p{i:05}"),
                title_ko: format!("벤치 상품 {i}"),
                title_en: format!("Bench product {i}"),
                category: "bench".into(),
                vendor: "bench".into(),
                variants: vec![engine::catalog::products::VariantInput {
                    sku: format!("SKU-{i:05}"),
                    weight_g: 100,
                    prices: vec![engine::catalog::products::PriceInput {
                        currency: "KRW".into(),
                        amount_minor: 1_000 * (5 + (i as i64 * 37 % 300)),
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            })
            .collect();
        engine.upsert_products(batch).await?;
        // A few SKUs run low at each store, as in a real shop.
        let rows: Vec<(String, String, i64)> = (start..end)
            .flat_map(|i| stores.iter().enumerate().map(move |(l, s)| (i, l, s.clone())))
            .map(|(i, l, s)| (format!("SKU-{i:05}"), s, if (i + l) % 50 == 0 { 2 } else { 1_000 }))
            .collect();
        engine.receive_many(rows, "bench stock").await?;
        bar.inc((end - start) as u64);
    }
    bar.set_message("orders");
    let seller = Principal::system("bench-console");
    let mut rng = rand::rngs::StdRng::seed_from_u64(13);
    let plans: Vec<(String, Vec<engine::sales::orders::SaleLineInput>)> = (0..opts.orders)
        .map(|_| {
            let store = stores[rng.random_range(0..stores.len())].clone();
            let lines = (0..rng.random_range(1..=3))
                .map(|_| engine::sales::orders::SaleLineInput {
                    // Low-stock SKUs are skipped so every sale succeeds.
                    sku: format!("SKU-{:05}", rng.random_range(0..opts.skus)),
                    quantity: 1,
                })
                .collect::<Vec<_>>();
            (store, lines)
        })
        .collect();
    let mut done = 0usize;
    for chunk in plans.chunks(64) {
        let mut tasks = Vec::new();
        for (store, lines) in chunk.iter().cloned() {
            let (engine, seller) = (engine.clone(), seller.clone());
            tasks.push(tokio::spawn(async move {
                let hash = domain::ids::random_token(8);
                engine.pos_sale(&seller, Some(store), lines, None, None, None, None, None, None, hash).await
            }));
        }
        for t in tasks {
            match t.await? {
                Ok(_) | Err(engine::EngineError::OutOfStock { .. }) => done += 1,
                Err(e) => return Err(e).context("seeding counter sales"),
            }
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    println!("seeded {done} orders");

    engine.add_staff("bench.owner@example.com", "Bench owner", "bench-password", "owner", None, "ko").await?;
    let (_, token, _) = engine.staff_login("bench.owner@example.com", "bench-password", "bench").await?;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let middle = engine
        .orders(engine::sales::orders::OrderQuery { limit: opts.orders / 2, ..Default::default() })
        .await?
        .last()
        .map(|o| o.id.clone())
        .unwrap_or_default();
    let screens: Vec<(&str, String)> = vec![
        ("order list, first page", "/console/orders".into()),
        ("order list, page in the middle", format!("/console/orders?after={middle}")),
        ("order list, one store and status", format!("/console/orders?status=completed&location={}", stores[0])),
        ("order search by number", format!("/console/orders?q={middle}")),
        ("inventory grid, first page", "/console/inventory".into()),
        ("inventory grid, page in the middle", format!("/console/inventory?after=SKU-{:05}", opts.skus / 2)),
        ("inventory grid, low stock", "/console/inventory?low=1".into()),
        ("inventory search", "/console/inventory?q=product%2077".into()),
        ("today", "/console".into()),
        ("order page", format!("/console/orders/{middle}")),
    ];
    println!("{:<38} {:>9} {:>9} {:>9} {:>9}", "screen", "p50 ms", "p95 ms", "p99 ms", "KiB");
    for (name, path) in &screens {
        let mut times = Vec::with_capacity(opts.requests);
        let mut size = 0;
        for i in 0..opts.requests + 5 {
            let t = Instant::now();
            let r = http.get(format!("{url}{path}")).header("Cookie", format!("bl_console={token}")).send().await?;
            let status = r.status();
            let body = r.bytes().await?;
            let us = t.elapsed().as_micros() as u64;
            if !status.is_success() {
                bail!("{path} answered {status}: {}", String::from_utf8_lossy(&body[..body.len().min(300)]));
            }
            size = body.len();
            if i >= 5 {
                times.push(us);
            }
        }
        times.sort_unstable();
        println!(
            "{name:<38} {:>9.2} {:>9.2} {:>9.2} {:>9.1}",
            pct(&times, 0.50),
            pct(&times, 0.95),
            pct(&times, 0.99),
            size as f64 / 1024.0
        );
    }
    drop(running);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
