//! `borderless bench storefront`: how fast the shopper's pages render on a big catalog. Seeds --products
//! products of the synthetic bilingual catalog (the one `bench search` uses) with stock at --locations
//! stores into a fresh SQLite node, then times the home page, search (text, category, pick up today at a
//! store) and product pages over loopback, one request at a time and then --concurrency at once (the figure
//! includes HTTP, the visitor's cookies, every query and the rendering), printing p50/p95/p99 and sizes,
//! and what a first visit to a product page downloads.

use crate::search::{synthetic_product, synthetic_queries, urlencode};
use crate::server::pct;
use crate::server::store_location;
use anyhow::{bail, Result};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct StorefrontBenchOpts {
    pub products: usize,
    pub locations: usize,
    /// Requests per page kind.
    pub requests: usize,
    pub concurrency: usize,
}

/// A fresh SQLite node on a free loopback port for a benchmark (workers on, no scheduled training, no rate
/// limits), with its temporary data directory.
pub(crate) async fn bench_node(name: &str) -> Result<(std::path::PathBuf, node::app::Running)> {
    let dir = std::env::temp_dir().join(format!("borderless-{name}-bench-{}", domain::ids::random_token(6)));
    let cfg = node::app::AppConfig {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.clone(),
        workers: true,
        recs_train_every: Duration::ZERO,
        rate_limits: false,
        ..Default::default()
    };
    Ok((dir, node::app::start(cfg).await?))
}

/// Seeds `products` products of the synthetic bilingual catalog with stock at `locations` stores (each SKU
/// at one or two of them), with a progress bar, and builds the search index; returns the store ids.
pub(crate) async fn seed_catalog(engine: &engine::Engine, products: usize, locations: usize) -> Result<Vec<String>> {
    use rand::{Rng, SeedableRng};
    let opts = (products, locations);
    let bar = indicatif::ProgressBar::new(opts.0 as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({per_sec})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("catalog and stock");
    let mut stores = Vec::new();
    for l in 0..opts.1 {
        stores.push(store_location(engine, l, Some((37.45 + l as f64 * 0.01, 127.0))).await?);
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(21);
    for start in (0..opts.0).step_by(1000) {
        let end = (start + 1000).min(opts.0);
        engine.upsert_products((start..end).map(synthetic_product).collect()).await?;
        let mut rows: Vec<(String, String, i64)> = (start..end)
            .flat_map(|i| (0..2).map(move |k| (i, k)))
            .map(|(i, _)| {
                (format!("SKU-{i}"), stores[rng.random_range(0..stores.len())].clone(), rng.random_range(1..30))
            })
            .collect();
        rows.sort();
        rows.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
        engine.receive_many(rows, "bench stock").await?;
        bar.inc((end - start) as u64);
    }
    bar.finish_and_clear();
    engine.search_refresh().await?;
    Ok(stores)
}

pub async fn storefront(opts: StorefrontBenchOpts) -> Result<()> {
    let (dir, running) = bench_node("storefront").await?;
    let engine = running.engine.clone();
    let url = running.url();
    println!(
        "borderless bench storefront — {} products (Korean and English), stock at {} stores, {} requests per page kind, then {} at once",
        opts.products, opts.locations, opts.requests, opts.concurrency
    );
    let stores = seed_catalog(&engine, opts.products, opts.locations).await?;

    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    // A returning visitor: consent answered, a store chosen (so home has a store rail and search can
    // filter by it).
    let cookie = format!("bl_consent=0; bl_store={}", stores[0]);
    let words = synthetic_queries();
    let kinds: Vec<(&str, Box<dyn Fn(usize) -> String>)> = vec![
        ("home", Box::new(|_| "/".to_owned())),
        ("search, text", Box::new(|i| format!("/search?q={}", urlencode(&words[i % words.len()])))),
        ("search, category", Box::new(|_| "/search?category=electronics%2Faudio".to_owned())),
        (
            "search, pick up today at a store",
            Box::new(|i| format!("/search?q={}&store={}", urlencode(&words[i % words.len()]), stores[0])),
        ),
        ("search, page 5", Box::new(|i| format!("/search?q={}&page=5", urlencode(&words[i % words.len()])))),
        ("product", Box::new(|i| format!("/p/p{}", (i * 7919) % opts.products))),
    ];
    println!();
    println!("one request at a time:");
    println!("{:<36} {:>9} {:>9} {:>9} {:>9}", "page", "p50 ms", "p95 ms", "p99 ms", "KiB");
    for (name, path_of) in &kinds {
        let mut times = Vec::with_capacity(opts.requests);
        let mut size = 0;
        for i in 0..opts.requests + 5 {
            let path = path_of(i);
            let t = Instant::now();
            let r = http.get(format!("{url}{path}")).header("Cookie", &cookie).send().await?;
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
            "{name:<36} {:>9.2} {:>9.2} {:>9.2} {:>9.1}",
            pct(&times, 0.50),
            pct(&times, 0.95),
            pct(&times, 0.99),
            size as f64 / 1024.0
        );
    }

    // The same mix with `concurrency` shoppers at once.
    let kinds = std::sync::Arc::new(
        kinds.into_iter().map(|(n, f)| (n, (0..opts.requests).map(f).collect::<Vec<_>>())).collect::<Vec<_>>(),
    );
    let t = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..opts.concurrency {
        let (http, url, cookie, kinds) = (http.clone(), url.clone(), cookie.clone(), kinds.clone());
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            for i in (w..opts.requests * kinds.len()).step_by(opts.concurrency) {
                let (_, paths) = &kinds[i % kinds.len()];
                let path = &paths[(i / kinds.len()) % paths.len()];
                let t = Instant::now();
                let ok = match http.get(format!("{url}{path}")).header("Cookie", &cookie).send().await {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                };
                if ok {
                    times.push(t.elapsed().as_micros() as u64);
                }
            }
            times
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await?);
    }
    let secs = t.elapsed().as_secs_f64();
    all.sort_unstable();
    println!();
    println!(
        "all kinds mixed, {} at once: {} pages in {secs:.1} s = {:.0} pages/s, p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms",
        opts.concurrency,
        all.len(),
        all.len() as f64 / secs,
        pct(&all, 0.50),
        pct(&all, 0.95),
        pct(&all, 0.99)
    );

    // A first visit to a product page: the page and every stylesheet and script it names (gzipped where
    // the server offers it, as a browser asks), no product images (the catalog has none).
    let page = http.get(format!("{url}/p/p1")).send().await?.text().await?;
    let mut total = page.len();
    let mut parts = vec![format!("HTML {:.1} KiB", page.len() as f64 / 1024.0)];
    let mut seen = std::collections::HashSet::new();
    // What the page loads (stylesheets, scripts, the icon), each once; links to other files are not loaded.
    for asset in page
        .split("\"/assets/")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|a| [".css", ".js", ".svg"].iter().any(|x| a.split('?').next().unwrap_or("").ends_with(x)))
        .filter(|a| seen.insert(a.to_string()))
    {
        let path = asset.replace("&amp;", "&");
        let r = http.get(format!("{url}/assets/{path}")).header("Accept-Encoding", "gzip").send().await?;
        let n = r.bytes().await?.len();
        total += n;
        parts.push(format!("{} {:.1} KiB", path.split('?').next().unwrap_or(&path), n as f64 / 1024.0));
    }
    println!();
    println!("first visit to a product page: {:.1} KiB over the wire ({})", total as f64 / 1024.0, parts.join(", "));
    drop(running);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
