//! `bench search`: search latency and freshness on a synthetic bilingual catalog, side by side with
//! PostgreSQL full-text search; with `--embeddings`, semantic search on (the catalog embedded first).

use crate::server::*;
use anyhow::{Context, Result};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What `borderless bench search` builds.
#[derive(Debug, Clone)]
pub struct SearchBenchOpts {
    pub concurrency: Vec<usize>,
    pub duration: Duration,
    pub products: usize,
    pub locations: usize,
    pub pg_url: String,
    /// Semantic search on: an OpenAI-compatible embeddings endpoint the node embeds the catalog with
    /// (the run waits until every product has a vector and reports how fast that went).
    pub embeddings: Option<String>,
    /// Where the products' vectors are cached across runs (none: every run embeds the catalog).
    pub embeddings_cache: Option<std::path::PathBuf>,
}

/// The model the benchmark's node asks the endpoint for (the node's default).
pub const SEARCH_BENCH_MODEL: &str = "multilingual-e5-small";

const BRANDS: [(&str, &str); 12] = [
    ("삼성", "Samsung"),
    ("엘지", "LG"),
    ("나이키", "Nike"),
    ("아디다스", "Adidas"),
    ("애플", "Apple"),
    ("소니", "Sony"),
    ("필립스", "Philips"),
    ("쿠쿠", "Cuckoo"),
    ("락앤락", "LocknLock"),
    ("제주", "Jeju"),
    ("농심", "Nongshim"),
    ("무인양품", "Muji"),
];
const KINDS: [(&str, &str, &str, &str); 16] = [
    ("무선 이어폰", "wireless earbuds", "electronics/audio", "gb"),
    ("블루투스 스피커", "bluetooth speaker", "electronics/audio", "w"),
    ("스마트폰", "smartphone", "electronics/phones", "gb"),
    ("노트북", "laptop", "electronics/computers", "gb"),
    ("러닝화", "running shoes", "shoes/running", "mm"),
    ("운동화", "sneakers", "shoes/casual", "mm"),
    ("후드티", "hoodie", "apparel/tops", "size"),
    ("청바지", "jeans", "apparel/bottoms", "size"),
    ("전기밥솥", "rice cooker", "home/kitchen", "l"),
    ("전기주전자", "electric kettle", "home/kitchen", "l"),
    ("밀폐용기", "food container", "home/kitchen", "ml"),
    ("생수", "mineral water", "grocery/drinks", "l"),
    ("라면", "ramyun", "grocery/food", "pack"),
    ("선크림", "sunscreen", "beauty/skincare", "ml"),
    ("보조배터리", "power bank", "electronics/accessories", "mah"),
    ("요가매트", "yoga mat", "sports/fitness", "mm"),
];
const COLOURS: [(&str, &str); 6] = [
    ("블랙", "black"),
    ("화이트", "white"),
    ("네이비", "navy"),
    ("레드", "red"),
    ("그레이", "grey"),
    ("베이지", "beige"),
];

fn size_of(unit: &str, k: usize) -> String {
    match unit {
        "gb" => format!("{}GB", [64, 128, 256, 512][k % 4]),
        "mm" => format!("{}mm", 230 + 5 * (k % 13)),
        "l" => format!("{}L", ["0.5", "1", "1.5", "2"][k % 4]),
        "ml" => format!("{}ml", [50, 100, 500, 1000][k % 4]),
        "w" => format!("{}W", [10, 20, 40][k % 3]),
        "mah" => format!("{}mAh", [5000, 10000, 20000][k % 3]),
        "pack" => format!("{}입", [4, 5, 20][k % 3]),
        _ => ["S", "M", "L", "XL"][k % 4].to_owned(),
    }
}

/// Product `i` of the synthetic bilingual catalog (brand, kind, colour and size in Korean and English; one
/// variant priced in won): the same catalog for `bench search` and `bench storefront`.
pub(crate) fn synthetic_product(i: usize) -> engine::catalog::products::ProductInput {
    let (bko, ben) = BRANDS[i % BRANDS.len()];
    let (kko, ken, cat, unit) = KINDS[(i / BRANDS.len()) % KINDS.len()];
    let (cko, cen) = COLOURS[(i / 7) % COLOURS.len()];
    let size = size_of(unit, i / 3);
    let price = 1_000 * (5 + (i * 37 % 300) as i64);
    engine::catalog::products::ProductInput {
        handle: format!("p{i}"),
        title_ko: format!("{bko} {kko} {cko} {size} 모델{}", i % 97),
        title_en: format!("{ben} {ken} {cen} {size} model {}", i % 97),
        category: cat.into(),
        vendor: ben.into(),
        variants: vec![engine::catalog::products::VariantInput {
            sku: format!("SKU-{i}"),
            weight_g: 100,
            attributes: [("color".to_owned(), cen.to_owned()), ("size".to_owned(), size)].into_iter().collect(),
            prices: vec![engine::catalog::products::PriceInput { currency: "KRW".into(), amount_minor: price }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// Search words of the synthetic catalog (each kind in Korean and English).
pub(crate) fn synthetic_queries() -> Vec<String> {
    KINDS.iter().flat_map(|k| [k.0.to_owned(), k.1.to_owned()]).collect()
}

/// `borderless bench search`: a 100,000-product Korean/English catalog with stock at 50 locations,
/// searched through the HTTP API and, side by side on the same catalog, through PostgreSQL full-text
/// search (`tsvector` + GIN, `simple` configuration: PostgreSQL has no Korean one), at each concurrency.
pub async fn search(opts: SearchBenchOpts) -> Result<()> {
    use rand::{Rng, SeedableRng};
    let dir = std::env::temp_dir().join(format!("borderless-search-bench-{}", domain::ids::random_token(6)));
    let key = format!("bench-admin-{}", domain::ids::random_token(12));
    let cfg = node::app::AppConfig {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.clone(),
        admin_key: Some(key),
        workers: true,
        recs_train_every: Duration::ZERO,
        // One load generator from one address: the public limits would refuse most of it (the node says
        // so at start); `bench hostile` measures the limits.
        rate_limits: false,
        embeddings_model: SEARCH_BENCH_MODEL.into(),
        embedder: embedder(&opts)?,
        ..Default::default()
    };
    let running = node::app::start(cfg).await?;
    let engine = running.engine.clone();
    let url = running.url();
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    println!(
        "borderless bench search — {} products (Korean and English titles), stock at {} locations",
        opts.products, opts.locations
    );
    let bar = indicatif::ProgressBar::new((opts.products + opts.locations) as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("locations");
    let mut codes = Vec::new();
    for l in 0..opts.locations {
        let code = format!("S{l:03}");
        let (lat, lon) = (37.45 + (l % 10) as f64 * 0.01, 126.90 + (l / 10) as f64 * 0.03);
        engine
            .create_location(engine::catalog::locations::LocationInput {
                code: code.clone(),
                name_ko: format!("매장 {l}"),
                name_en: format!("Store {l}"),
                kind: "store".into(),
                address: engine::catalog::locations::Address {
                    line1: "1".into(),
                    city: "Seoul".into(),
                    postal_code: "06232".into(),
                    country: "KR".into(),
                    ..Default::default()
                },
                lat: Some(lat),
                lon: Some(lon),
                pickup_enabled: true,
                ships: true,
                time_zone: None,
            })
            .await?;
        codes.push(code);
        bar.inc(1);
    }
    bar.set_message("catalog and stock");
    let mut pg_rows: Vec<(String, String, String, String, String, i64)> = Vec::with_capacity(opts.products);
    let mut pg_stock: Vec<(String, usize)> = Vec::new();
    for chunk_start in (0..opts.products).step_by(1000) {
        let mut batch = Vec::new();
        let mut stock = Vec::new();
        for i in chunk_start..(chunk_start + 1000).min(opts.products) {
            let product = synthetic_product(i);
            let (handle, sku) = (product.handle.clone(), product.variants[0].sku.clone());
            let (title_ko, title_en) = (product.title_ko.clone(), product.title_en.clone());
            let (cat, ben, price) =
                (product.category.clone(), product.vendor.clone(), product.variants[0].prices[0].amount_minor);
            batch.push(product);
            for _ in 0..3 {
                let l = rng.random_range(0..opts.locations);
                stock.push((sku.clone(), codes[l].clone(), rng.random_range(1..20)));
                pg_stock.push((handle.clone(), l));
            }
            pg_rows.push((handle, title_ko, title_en, cat, ben, price));
        }
        engine.upsert_products(batch).await?;
        stock.sort();
        stock.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
        engine.receive_many(stock, "bench stock").await?;
        bar.inc(1000.min(opts.products - chunk_start) as u64);
    }
    bar.finish_and_clear();

    // Index build speed, measured on the same catalog the server indexes.
    let products = engine.all_products().await?;
    let t = Instant::now();
    let ix = engine::discovery::product_search::CatalogIndex::build(&products, &[], &Default::default(), 0, 0);
    let build_s = t.elapsed().as_secs_f64();
    println!();
    println!(
        "index build: {} products in {:.2} s = {:.0} products/s (one core)",
        ix.docs.len(),
        build_s,
        ix.docs.len() as f64 / build_s
    );
    drop(ix);
    drop(products);
    engine.search_refresh().await?;
    let store_id = engine.location(&codes[0]).await?.id;
    if opts.embeddings.is_some() {
        semantic_ready(&engine, opts.products).await?;
    }

    // The query mix: text only, with a category filter, with a stock filter at a store; facets are always
    // computed by borderless, and by a second query on PostgreSQL.
    let words: Vec<String> = KINDS
        .iter()
        .flat_map(|k| [k.0.to_owned(), k.1.to_owned()])
        .chain(BRANDS.iter().map(|b| format!("{} {}", b.1, KINDS[0].1)))
        .collect();
    let queries: Vec<(String, Option<&str>, bool)> = (0..64)
        .map(|i| {
            (words[i % words.len()].clone(), if i % 3 == 1 { Some(KINDS[i % KINDS.len()].2) } else { None }, i % 3 == 2)
        })
        .collect();
    let queries = Arc::new(queries);

    println!();
    println!("| engine | concurrency | queries | queries/s | p50 ms | p99 ms | errors |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build()?;
    let counter = Arc::new(AtomicU64::new(0));
    let mut ours = Vec::new();
    for &c in &opts.concurrency {
        let (client, url, queries, store_id) = (client.clone(), url.clone(), queries.clone(), store_id.clone());
        let step = move |_w: usize, n: u64| {
            let (q, cat, stock) = queries[n as usize % queries.len()].clone();
            let mut path = format!("/store/search?q={}&limit=20", urlencode(&q));
            if let Some(c) = cat {
                path.push_str(&format!("&category={c}"));
            }
            if stock {
                path.push_str(&format!("&in_stock_at={store_id}"));
            }
            let (client, url) = (client.clone(), url.clone());
            async move { matches!(client.get(format!("{url}{path}")).send().await, Ok(r) if r.status().is_success()) }
        };
        let (mut all, errors, secs) = run_level(c, opts.duration, counter.clone(), step).await?;
        ours.push(all.len() as f64 / secs);
        all.sort_unstable();
        println!(
            "| borderless (HTTP) | {c} | {} | {:.0} | {:.2} | {:.2} | {errors} |",
            all.len(),
            all.len() as f64 / secs,
            pct(&all, 0.5),
            pct(&all, 0.99)
        );
        anyhow::ensure!(
            errors == 0,
            "{errors} searches failed at concurrency {c}: the figures above do not count them"
        );
    }
    if opts.embeddings.is_some() {
        // Queries the node has not seen: each one asks the model for its vector (the levels above repeat
        // 64 queries, whose vectors the node keeps).
        let mut fresh = Vec::new();
        let mut fresh_queries = Vec::new();
        for i in 0..100 {
            let (kko, ken, _, _) = KINDS[i % KINDS.len()];
            let (cko, cen) = COLOURS[(i / KINDS.len()) % COLOURS.len()];
            let q = if i % 2 == 0 { format!("{cko} {kko} 추천 {i}") } else { format!("{cen} {ken} for gift {i}") };
            let t = Instant::now();
            let r = client.get(format!("{url}/store/search?q={}&limit=20", urlencode(&q))).send().await?;
            anyhow::ensure!(r.status().is_success(), "search `{q}` answered {}", r.status());
            fresh.push(t.elapsed().as_micros() as u64);
            fresh_queries.push(q);
        }
        fresh.sort_unstable();
        println!(
            "| borderless, a query not seen before (its vector asked of the model) | 1 | 100 | — | {:.2} | {:.2} | 0 |",
            pct(&fresh, 0.5),
            pct(&fresh, 0.99)
        );
        let asked: Vec<String> = queries.iter().map(|q| q.0.clone()).chain(fresh_queries).collect();
        match engine.semantic_recall(&asked) {
            Some(r) => println!(
                "\nthe index's lists against the whole scan, {} queries: recall@10 {:.3} (all ten found for {:.0} %), recall@100 {:.3}; the 100 nearest products of a query in {:.0} µs by the lists, {:.0} µs by the whole scan (one thread)",
                r.queries,
                r.at_10,
                100.0 * r.all_10,
                r.at_100,
                r.lists_us,
                r.scan_us
            ),
            None => println!("\nevery search scanned every vector (no inverted-file index below {MIN_IVF_VECTORS} products)"),
        }
    }
    if let Some(ch) = peak_rss_kib(std::process::id()) {
        println!();
        println!("process peak memory (server, catalog build and client together): {:.0} MiB", ch as f64 / 1024.0);
    }

    // Freshness: from a committed change to the first search (over HTTP, polled every 5 ms) that shows it.
    let mut product_ms = Vec::new();
    let mut stock_ms = Vec::new();
    for k in 0..10 {
        // Letters only (digits would split into number tokens that match other products).
        let word: String = format!("fresh{}", domain::ids::random_token(8))
            .chars()
            .map(|c| if c.is_ascii_digit() { (b'a' + c as u8 - b'0') as char } else { c.to_ascii_lowercase() })
            .chain(std::iter::once((b'a' + k as u8) as char))
            .collect();
        let handle = format!("fresh-{k}");
        let sku = format!("FRESH-{k}");
        let t = Instant::now();
        engine
            .upsert_products(vec![engine::catalog::products::ProductInput {
                handle,
                title_ko: format!("신상품 {word}"),
                title_en: format!("New arrival {word}"),
                category: "new/arrivals".into(),
                vendor: "Fresh".into(),
                variants: vec![engine::catalog::products::VariantInput {
                    sku: sku.clone(),
                    weight_g: 100,
                    prices: vec![engine::catalog::products::PriceInput {
                        currency: "KRW".into(),
                        amount_minor: 10_000,
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }])
            .await?;
        product_ms.push(poll_until_found(&client, &format!("{url}/store/search?q={word}"), &sku, t).await?);
        let t = Instant::now();
        engine
            .adjust_stock(
                &engine::platform::auth::Principal::system("bench"),
                None,
                &sku,
                &store_id,
                3,
                "bench freshness",
            )
            .await?;
        stock_ms.push(
            poll_until_found(&client, &format!("{url}/store/search?q={word}&in_stock_at={store_id}"), &sku, t).await?,
        );
    }
    product_ms.sort_by(f64::total_cmp);
    stock_ms.sort_by(f64::total_cmp);
    println!();
    println!("freshness, change committed → visible in search (10 changes each, polled every 5 ms):");
    println!("| change | median ms | max ms | target |");
    println!("|---|---:|---:|---:|");
    println!("| product created | {:.0} | {:.0} | ≤ 1000 |", product_ms[5], product_ms[9]);
    println!("| stock received at a store | {:.0} | {:.0} | ≤ 1000 |", stock_ms[5], stock_ms[9]);

    // PostgreSQL full-text search on the same catalog.
    let pg_url = opts.pg_url.clone();
    let rows = Arc::new(pg_rows);
    let stock = Arc::new(pg_stock);
    let db_url = tokio::task::spawn_blocking(move || -> Result<String> {
        let mut admin = postgres::Client::connect(&pg_url, postgres::NoTls).context("cannot reach PostgreSQL for the side-by-side run (--pg-url)")?;
        admin.batch_execute("DROP DATABASE IF EXISTS bl_bench_search")?;
        admin.batch_execute("CREATE DATABASE bl_bench_search")?;
        let db_url = if let Some((base, _)) = pg_url.rsplit_once('/') { format!("{base}/bl_bench_search") } else { pg_url.clone() };
        let mut c = postgres::Client::connect(&db_url, postgres::NoTls)?;
        c.batch_execute(
            "CREATE TABLE products (id TEXT PRIMARY KEY, title_ko TEXT, title_en TEXT, category TEXT, brand TEXT, price BIGINT,
               tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', title_ko || ' ' || title_en || ' ' || brand || ' ' || replace(category, '/', ' '))) STORED);
             CREATE TABLE stock (product_id TEXT, location INT, PRIMARY KEY (product_id, location));",
        )?;
        let mut tx = c.transaction()?;
        {
            let st = tx.prepare("INSERT INTO products (id, title_ko, title_en, category, brand, price) VALUES ($1, $2, $3, $4, $5, $6)")?;
            for r in rows.iter() {
                tx.execute(&st, &[&r.0, &r.1, &r.2, &r.3, &r.4, &r.5])?;
            }
            let st = tx.prepare("INSERT INTO stock (product_id, location) VALUES ($1, $2) ON CONFLICT DO NOTHING")?;
            for (p, l) in stock.iter() {
                tx.execute(&st, &[p, &(*l as i32)])?;
            }
        }
        tx.commit()?;
        let t = Instant::now();
        c.batch_execute("CREATE INDEX products_tsv ON products USING GIN (tsv); CREATE INDEX products_category ON products (category); ANALYZE")?;
        println!();
        println!("PostgreSQL: GIN index built in {:.2} s", t.elapsed().as_secs_f64());
        Ok(db_url)
    })
    .await??;
    for (k, &c) in opts.concurrency.iter().enumerate() {
        let queries = queries.clone();
        let db_url = db_url.clone();
        let duration = opts.duration;
        let (lat, n) = tokio::task::spawn_blocking(move || -> Result<(Vec<u64>, usize)> {
            let counter = Arc::new(AtomicU64::new(0));
            let deadline = Instant::now() + duration;
            let handles: Vec<_> = (0..c)
                .map(|_| {
                    let (queries, db_url, counter) = (queries.clone(), db_url.clone(), counter.clone());
                    std::thread::spawn(move || -> Result<Vec<u64>> {
                        let mut db = postgres::Client::connect(&db_url, postgres::NoTls)?;
                        let hits = db.prepare(
                            "SELECT p.id, ts_rank(p.tsv, q) AS r FROM products p, plainto_tsquery('simple', $1) q \
                             WHERE p.tsv @@ q AND ($2::text IS NULL OR p.category = $2) \
                             AND (NOT $3 OR EXISTS (SELECT 1 FROM stock s WHERE s.product_id = p.id AND s.location = 0)) ORDER BY r DESC LIMIT 20",
                        )?;
                        let facets = db.prepare(
                            "SELECT p.category, count(*) FROM products p, plainto_tsquery('simple', $1) q WHERE p.tsv @@ q \
                             AND (NOT $2 OR EXISTS (SELECT 1 FROM stock s WHERE s.product_id = p.id AND s.location = 0)) GROUP BY p.category",
                        )?;
                        let mut lat = Vec::new();
                        while Instant::now() < deadline {
                            let n = counter.fetch_add(1, Ordering::Relaxed) as usize;
                            let (q, cat, stock) = &queries[n % queries.len()];
                            let t = Instant::now();
                            db.query(&hits, &[q, cat, stock])?;
                            db.query(&facets, &[q, stock])?;
                            lat.push(t.elapsed().as_micros() as u64);
                        }
                        Ok(lat)
                    })
                })
                .collect();
            let mut all = Vec::new();
            for h in handles {
                all.extend(h.join().map_err(|_| anyhow::anyhow!("a PostgreSQL client thread panicked"))??);
            }
            let n = all.len();
            Ok((all, n))
        })
        .await??;
        let mut lat = lat;
        lat.sort_unstable();
        let qps = n as f64 / opts.duration.as_secs_f64();
        println!(
            "| PostgreSQL FTS (GIN, direct SQL) | {c} | {n} | {qps:.0} | {:.2} | {:.2} | 0 |",
            pct(&lat, 0.5),
            pct(&lat, 0.99)
        );
        if let Some(o) = ours.get(k) {
            println!("|  → borderless / PostgreSQL at concurrency {c} | | | **{:.1}×** | | | |", o / qps.max(1e-9));
        }
    }
    running.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Polls `url` until its search shows a hit; returns the milliseconds since `since` (fails after 10 s).
/// Waits until the node has embedded every product (its background refresher asks the model), showing
/// progress, and prints the embedding throughput and the vectors' memory.
async fn semantic_ready(engine: &engine::Engine, products: usize) -> Result<()> {
    let bar = indicatif::ProgressBar::new(products as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("embedding the catalog [{bar:30}] {pos}/{len} ({per_sec}, {eta} left)")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let t = Instant::now();
    loop {
        let s = engine.semantic_status();
        bar.set_position(s.embedded as u64);
        if let Some(f) = &s.failing {
            anyhow::bail!("the embedding model failed: {f}");
        }
        if s.embedded >= products {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    bar.finish_and_clear();
    let secs = t.elapsed().as_secs_f64();
    let s = engine.semantic_status();
    println!(
        "semantic search: {} products embedded by {} in {:.0} s = {:.1} products/s; vectors {:.1} MiB in memory",
        s.embedded,
        s.model.unwrap_or_default(),
        secs,
        s.embedded as f64 / secs,
        s.vector_bytes as f64 / (1 << 20) as f64
    );
    if products >= MIN_IVF_VECTORS {
        // Large catalogs: the node learns a codebook and files every vector under it before searches scan
        // only the nearest lists.
        let t = Instant::now();
        loop {
            let s = engine.semantic_status();
            if s.lists > 0 && s.unfiled == 0 {
                println!(
                    "inverted-file index: {} lists, learnt and every vector filed in {:.1} s; vectors and lists {:.1} MiB",
                    s.lists,
                    t.elapsed().as_secs_f64(),
                    s.vector_bytes as f64 / (1 << 20) as f64
                );
                break;
            }
            anyhow::ensure!(
                t.elapsed() < Duration::from_secs(600),
                "the inverted-file index was not ready in 10 minutes"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

/// The catalog size from which the node searches vectors through an inverted-file index
/// (`search::ivf`).
const MIN_IVF_VECTORS: usize = search::ivf::MIN_VECTORS;

/// Polls `url` until its first hit is the product with `sku`'s handle (with semantic search on, products
/// near in meaning follow it).
async fn poll_until_found(client: &reqwest::Client, url: &str, sku: &str, since: Instant) -> Result<f64> {
    let handle = sku.to_lowercase();
    while since.elapsed() < Duration::from_secs(10) {
        let r: serde_json::Value = client.get(url).send().await?.json().await?;
        if r["search"]["hits"][0]["handle"].as_str() == Some(handle.as_str()) {
            return Ok(since.elapsed().as_secs_f64() * 1000.0);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    anyhow::bail!("{url}: the change did not show within 10 s")
}

pub(crate) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The benchmark's model: the node's own client behind the on-disk cache of product vectors. The catalog
/// is embedded 32 products a request (nothing searches meanwhile; a serving node sends 8 so that a
/// search's query does not wait long behind a batch).
fn embedder(opts: &SearchBenchOpts) -> Result<Option<node::app::GivenEmbedder>> {
    let Some(url) = &opts.embeddings else { return Ok(None) };
    let client = node::embeddings::OpenAiEmbeddings::new(url, SEARCH_BENCH_MODEL, None, Duration::from_secs(30))?;
    let mut describe = format!("{SEARCH_BENCH_MODEL} at {}", client.url());
    let model: Arc<dyn engine::discovery::semantic::Embedder> = match &opts.embeddings_cache {
        Some(path) => {
            let cache = node::embeddings_cache::Cache::open(path, SEARCH_BENCH_MODEL).map_err(anyhow::Error::msg)?;
            println!("product vectors cached in {} ({} vectors there)", path.display(), cache.len());
            describe.push_str(&format!(", product vectors cached in {}", path.display()));
            Arc::new(node::embeddings_cache::CachedEmbedder {
                client,
                cache: Arc::new(std::sync::Mutex::new(cache)),
                batch: node::embeddings::MAX_BATCH,
            })
        }
        None => Arc::new(client),
    };
    Ok(Some(node::app::GivenEmbedder { model, describe }))
}
