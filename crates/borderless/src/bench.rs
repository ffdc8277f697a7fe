//! The benchmark harnesses. `borderless bench checkout` drives the full shopper flow over HTTP (create
//! cart, add a line, choose pickup, checkout with an idempotency key) at several concurrency levels and
//! prints orders/s with p50 and p99 latency, then a flash sale (many concurrent attempts on few units) with
//! oversell/undersell checks. `borderless bench ledger` measures durable money transfers through the API
//! and in the engine alone. By default each starts its own `borderless serve` child process on a fresh data
//! directory, so client and server are separate processes as they would be in production.

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a benchmark runs against and how hard.
#[derive(Debug, Clone)]
pub struct Target {
    /// An already running server; when absent a child server is started.
    pub url: Option<String>,
    pub admin_key: Option<String>,
    /// Database for the child server (default: SQLite in a temporary directory).
    pub database_url: Option<String>,
    pub concurrency: Vec<usize>,
    pub duration: Duration,
}

impl Target {
    /// The server's URL and admin key, starting a child server when no URL was given (kept alive by the
    /// returned guard).
    async fn connect(&self) -> Result<(Option<Child>, String, String)> {
        let key = self.admin_key.clone().unwrap_or_else(|| format!("bench-admin-{}", domain::ids::random_token(12)));
        match &self.url {
            Some(u) => Ok((None, u.trim_end_matches('/').to_owned(), key)),
            None => {
                let (c, u) = spawn_server(self.database_url.as_deref(), &key).await?;
                Ok((Some(c), u, key))
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct BenchOpts {
    pub target: Target,
    pub flash_attempts: usize,
    pub flash_units: i64,
    pub flash_in_flight: usize,
}

struct Child {
    proc: std::process::Child,
    dir: std::path::PathBuf,
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.proc.kill();
        let _ = self.proc.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

async fn spawn_server(database_url: Option<&str>, key: &str) -> Result<(Child, String)> {
    let port = free_port()?;
    let dir = std::env::temp_dir().join(format!("borderless-bench-{}", domain::ids::random_token(6)));
    let mut cmd = std::process::Command::new(std::env::current_exe()?);
    cmd.arg("serve").arg("--listen").arg(format!("127.0.0.1:{port}")).arg("--data-dir").arg(&dir);
    if let Some(u) = database_url {
        cmd.arg("--database-url").arg(u);
    }
    cmd.env("BORDERLESS_ADMIN_KEY", key).env("RUST_LOG", "warn").stdout(std::process::Stdio::null());
    let proc = cmd.spawn().context("cannot start the server child process")?;
    let child = Child { proc, dir };
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client.get(format!("{url}/health")).send().await.is_ok_and(|r| r.status().is_success()) {
            return Ok((child, url));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the server child did not become healthy within 10 s")
}

struct Api {
    client: reqwest::Client,
    url: String,
    key: String,
}

impl Api {
    async fn admin(&self, path: &str, body: Value) -> Result<Value> {
        let r = self.client.post(format!("{}{path}", self.url)).bearer_auth(&self.key).json(&body).send().await?;
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("POST {path} → {status}: {v}");
        }
        Ok(v)
    }
    async fn get(&self, path: &str) -> Result<Value> {
        Ok(self.client.get(format!("{}{path}", self.url)).bearer_auth(&self.key).send().await?.json().await?)
    }
}

/// One shopper's full flow. Returns Ok(true) for a placed order, Ok(false) for a clean out_of_stock.
async fn place_order(client: &reqwest::Client, url: &str, sku: &str, location_id: &str, n: u64) -> Result<bool> {
    let cart: Value =
        client.post(format!("{url}/store/carts")).json(&json!({"currency": "KRW"})).send().await?.json().await?;
    let id = cart["cart"]["id"].as_str().context("no cart id")?.to_owned();
    let r =
        client.post(format!("{url}/store/carts/{id}/lines")).json(&json!({"sku": sku, "quantity": 1})).send().await?;
    if !r.status().is_success() {
        bail!("add line → {}", r.status());
    }
    let r = client
        .put(format!("{url}/store/carts/{id}/fulfillment"))
        .json(&json!({"type": "pickup", "location_id": location_id}))
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("fulfillment → {}", r.status());
    }
    let r = client
        .post(format!("{url}/store/carts/{id}/checkout"))
        .header("Idempotency-Key", format!("bench-{n}-{id}"))
        .json(&json!({"email": format!("shopper{n}@bench.example"), "payment": {"method": "pay_at_pickup"}}))
        .send()
        .await?;
    match r.status().as_u16() {
        201 => Ok(true),
        409 => {
            let v: Value = r.json().await.unwrap_or(Value::Null);
            if v["error"]["code"] == "out_of_stock" {
                Ok(false)
            } else {
                bail!("checkout → 409 {v}")
            }
        }
        s => bail!("checkout → {s}: {}", r.text().await.unwrap_or_default()),
    }
}

/// Peak resident memory of a process on Linux, in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn pct(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

async fn setup_sku(api: &Api, sku: &str, location_id: &str, units: i64) -> Result<()> {
    api.admin(
        "/admin/products",
        json!({
            "handle": sku.to_lowercase(), "title_ko": "벤치마크 티셔츠", "title_en": "Benchmark T-Shirt", "category": "apparel/tops",
            "variants": [{"sku": sku, "weight_g": 200, "prices": [{"currency": "KRW", "amount_minor": 19900}]}]
        }),
    )
    .await?;
    api.admin(
        "/admin/inventory/adjustments",
        json!({"sku": sku, "location_id": location_id, "quantity_delta": units, "reason": "bench stock"}),
    )
    .await?;
    Ok(())
}

pub async fn checkout(opts: BenchOpts) -> Result<()> {
    let (_child, url, key) = opts.target.connect().await?;
    let backend = match (&opts.target.url, &opts.target.database_url) {
        (Some(_), _) => "external server".to_owned(),
        (None, Some(u)) => crate::app::redact(u),
        (None, None) => "SQLite (WAL, synchronous=FULL)".to_owned(),
    };
    let client = reqwest::Client::builder().pool_max_idle_per_host(1024).build()?;
    let api = Api { client: client.clone(), url: url.clone(), key };
    let run_id = domain::ids::random_token(3).to_uppercase();
    let store = api
        .admin(
            "/admin/locations",
            json!({"code": format!("BENCH-{run_id}"), "name_ko": "벤치 매장", "name_en": "Bench Store", "kind": "store", "pickup_enabled": true, "lat": 37.5, "lon": 127.0}),
        )
        .await?;
    let loc = store["location"]["id"].as_str().context("no location id")?.to_owned();
    let sku = format!("BENCH-{run_id}-TEE");
    setup_sku(&api, &sku, &loc, 1_000_000).await?;
    println!("borderless bench checkout — backend: {backend}; flow: create cart → add line → pickup → checkout (4 HTTP requests per order)");
    println!();
    println!("| concurrency | orders | orders/s | p50 ms | p99 ms | errors |");
    println!("|---:|---:|---:|---:|---:|---:|");
    let counter = Arc::new(AtomicU64::new(0));
    for &c in &opts.target.concurrency {
        let (client, url, sku, loc) = (client.clone(), url.clone(), sku.clone(), loc.clone());
        let step = move |_, n| {
            let (client, url, sku, loc) = (client.clone(), url.clone(), sku.clone(), loc.clone());
            async move { matches!(place_order(&client, &url, &sku, &loc, n).await, Ok(true)) }
        };
        let (mut all, errors, secs) = run_level(c, opts.target.duration, counter.clone(), step).await?;
        latency_row(c.to_string(), all.len(), secs, &mut all, errors);
    }
    if opts.flash_attempts > 0 {
        flash_sale(&api, &client, &url, &loc, &run_id, &opts).await?;
    }
    if let Some(c) = &_child {
        if let Some(kb) = peak_rss_kib(c.proc.id()) {
            println!();
            println!("server peak memory (VmHWM): {:.1} MiB", kb as f64 / 1024.0);
        }
    }
    Ok(())
}

async fn flash_sale(
    api: &Api,
    client: &reqwest::Client,
    url: &str,
    loc: &str,
    run_id: &str,
    opts: &BenchOpts,
) -> Result<()> {
    let sku = format!("BENCH-{run_id}-FLASH");
    setup_sku(api, &sku, loc, opts.flash_units).await?;
    let sem = Arc::new(tokio::sync::Semaphore::new(opts.flash_in_flight.max(1)));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(opts.flash_attempts);
    for n in 0..opts.flash_attempts {
        let (client, url, sku, loc, sem) = (client.clone(), url.to_owned(), sku.clone(), loc.to_owned(), sem.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire_owned().await;
            place_order(&client, &url, &sku, &loc, 10_000_000 + n as u64).await
        }));
    }
    let (mut placed, mut sold_out, mut errors) = (0i64, 0, 0);
    let mut first_error = None;
    for t in tasks {
        match t.await? {
            Ok(true) => placed += 1,
            Ok(false) => sold_out += 1,
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(format!("{e:#}"));
            }
        }
    }
    if let Some(e) = first_error {
        eprintln!("first flash-sale error: {e}");
    }
    let secs = start.elapsed().as_secs_f64();
    let stock = api.get(&format!("/admin/inventory/{sku}")).await?;
    let at = stock["locations"]
        .as_array()
        .and_then(|ls| ls.iter().find(|l| l["location_id"] == loc))
        .cloned()
        .unwrap_or(Value::Null);
    let (available, reserved) = (at["available"].as_i64().unwrap_or(-1), at["reserved"].as_i64().unwrap_or(-1));
    let doctor = api.get("/admin/doctor").await?;
    let drift = doctor["drift"].as_array().map_or(-1, |d| d.len() as i64);
    let oversold = (placed - opts.flash_units).max(0);
    let undersold = if available > 0 { available } else { 0 };
    println!();
    println!(
        "flash sale: {} attempts ({} in flight) on {} units",
        opts.flash_attempts, opts.flash_in_flight, opts.flash_units
    );
    println!();
    println!("| placed | out_of_stock | other errors | oversold | undersold | reserved after | available after | ledger drift | seconds |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!("| {placed} | {sold_out} | {errors} | {oversold} | {undersold} | {reserved} | {available} | {drift} | {secs:.1} |");
    if oversold > 0 || undersold > 0 || drift != 0 || reserved != placed {
        bail!("flash sale invariant broken: oversold {oversold}, undersold {undersold}, drift {drift}, reserved {reserved} vs placed {placed}");
    }
    Ok(())
}

#[derive(Debug, Clone)]
pub struct LedgerBenchOpts {
    pub target: Target,
    /// Transfers posted by the engine-only part.
    pub engine_transfers: usize,
    /// Transfers per transaction in the engine-only batched part.
    pub batch: usize,
}

/// Runs `workers` concurrent clients for `duration`; each repeatedly awaits `step(worker, n)` (`n` numbers
/// every attempt across workers) and counts it as a success when it returns true. Returns the successful
/// attempts' latencies in microseconds, the failures and the elapsed seconds.
async fn run_level<F, Fut>(
    workers: usize,
    duration: Duration,
    counter: Arc<AtomicU64>,
    step: F,
) -> Result<(Vec<u64>, u64, f64)>
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send + 'static,
{
    let step = Arc::new(step);
    let deadline = Instant::now() + duration;
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(workers);
    for w in 0..workers {
        let (step, counter) = (step.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut errors) = (Vec::new(), 0u64);
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let t = Instant::now();
                if step(w, n).await {
                    lat.push(t.elapsed().as_micros() as u64);
                } else {
                    errors += 1;
                }
            }
            (lat, errors)
        }));
    }
    let (mut all, mut errors) = (Vec::new(), 0);
    for t in tasks {
        let (l, e) = t.await?;
        all.extend(l);
        errors += e;
    }
    Ok((all, errors, start.elapsed().as_secs_f64()))
}

fn latency_row(label: String, count: usize, secs: f64, lat: &mut [u64], errors: u64) {
    lat.sort_unstable();
    println!(
        "| {label} | {count} | {:.0} | {:.2} | {:.2} | {errors} |",
        count as f64 / secs,
        pct(lat, 0.5),
        pct(lat, 0.99)
    );
}

/// `borderless bench ledger`: durable wallet top-ups (one double-entry transfer each) through the HTTP API
/// at several concurrency levels, then the engine alone: one transfer per transaction from 32 tasks (group
/// commit) and batches of many transfers per transaction. Ends with the ledger doctor.
pub async fn ledger(opts: LedgerBenchOpts) -> Result<()> {
    let (_child, url, key) = opts.target.connect().await?;
    let client = reqwest::Client::builder().pool_max_idle_per_host(1024).build()?;
    let api = Api { client: client.clone(), url: url.clone(), key: key.clone() };
    let wallets = opts.target.concurrency.iter().copied().max().unwrap_or(1);
    let run = domain::ids::random_token(3);
    let bar = indicatif::ProgressBar::new(wallets as u64);
    bar.set_message("creating bench customers");
    let mut customers = Vec::with_capacity(wallets);
    for i in 0..wallets {
        let r = client
            .post(format!("{url}/store/customers"))
            .json(&json!({"email": format!("bench-{run}-{i}@bench.example"), "password": "bench password", "name": "Bench"}))
            .send()
            .await?;
        let v: Value = r.json().await?;
        customers.push(v["customer"]["id"].as_str().context("signup failed")?.to_owned());
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!("borderless bench ledger — API: POST /admin/customers/{{id}}/wallet/top-ups (one durable double-entry transfer each)");
    println!();
    println!("| concurrency | transfers | transfers/s | p50 ms | p99 ms | errors |");
    println!("|---:|---:|---:|---:|---:|---:|");
    let counter = Arc::new(AtomicU64::new(0));
    let customers = Arc::new(customers);
    for &c in &opts.target.concurrency {
        let (client, url, key, customers) = (client.clone(), url.clone(), key.clone(), customers.clone());
        let step = move |w: usize, n: u64| {
            let (client, url, key, cid) = (client.clone(), url.clone(), key.clone(), customers[w].clone());
            async move {
                let r = client
                    .post(format!("{url}/admin/customers/{cid}/wallet/top-ups"))
                    .bearer_auth(&key)
                    .header("Idempotency-Key", format!("bench-topup-{n}"))
                    .json(&json!({"amount_minor": 100, "currency": "KRW"}))
                    .send()
                    .await;
                matches!(r, Ok(r) if r.status().as_u16() == 201)
            }
        };
        let (mut all, errors, secs) = run_level(c, opts.target.duration, counter.clone(), step).await?;
        latency_row(c.to_string(), all.len(), secs, &mut all, errors);
    }
    let doctor = api.get("/admin/doctor").await?;
    let ledger_drift = doctor["ledger_drift"].as_array().map_or(-1, |d| d.len() as i64);
    println!();
    println!(
        "ledger doctor after the API run: {} accounts, {ledger_drift} problems",
        doctor["ledger_accounts_checked"]
    );
    if ledger_drift != 0 {
        bail!("the money ledger does not balance after the API run: {doctor}");
    }
    drop(_child);
    engine_only(&opts).await
}

async fn engine_only(opts: &LedgerBenchOpts) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("borderless-ledger-bench-{}", domain::ids::random_token(6)));
    let cfg = crate::app::AppConfig {
        data_dir: dir.clone(),
        database_url: opts.target.database_url.clone(),
        ..Default::default()
    };
    let db = {
        let cfg = cfg.clone();
        tokio::task::spawn_blocking(move || crate::app::open_db(&cfg)).await??
    };
    let engine = engine::Engine::new(db, Default::default(), Arc::new(engine::SystemClock));
    const WALLETS: usize = 1000;
    let run = domain::ids::random_token(3);
    let cash = format!("cash:bench-{run}:KRW");
    engine.ensure_account(&cash, "cash", "KRW", None, false).await?;
    let mut wallets = Vec::with_capacity(WALLETS);
    for i in 0..WALLETS {
        let code = format!("wallet:bench-{run}-{i}:KRW");
        engine.ensure_account(&code, "wallet", "KRW", None, true).await?;
        wallets.push(code);
    }
    let spec = |i: usize| engine::money::ledger::TransferSpec {
        debit_account: cash.clone(),
        credit_account: wallets[i % WALLETS].clone(),
        amount_minor: 100,
        currency: "KRW".into(),
        reason: "bench".into(),
        reference: String::new(),
    };
    println!();
    println!(
        "engine only, no HTTP ({}):",
        if opts.target.database_url.is_some() { "PostgreSQL" } else { "SQLite, synchronous=FULL" }
    );
    println!();
    println!("| mode | transfers | transfers/s | p50 ms | p99 ms | errors |");
    println!("|---|---:|---:|---:|---:|---:|");
    // One transfer per transaction, 32 tasks: the SQLite writer folds them into group commits.
    let specs: Arc<Vec<_>> = Arc::new((0..32).map(spec).collect());
    let e = engine.clone();
    let step = move |w: usize, _| {
        let (engine, spec) = (e.clone(), specs[w].clone());
        async move { engine.post_transfers(vec![spec]).await.is_ok() }
    };
    let (mut all, errors, secs) = run_level(32, opts.target.duration, Arc::new(AtomicU64::new(0)), step).await?;
    latency_row("1 per transaction, 32 tasks".into(), all.len(), secs, &mut all, errors);
    // Batches: many transfers per transaction (bulk postings, settlement files).
    let batch = opts.batch.clamp(1, engine::money::ledger::MAX_BATCH);
    let batches = opts.engine_transfers.div_ceil(batch).max(1);
    let start = Instant::now();
    let mut lat = Vec::with_capacity(batches);
    let mut done = 0;
    for b in 0..batches {
        let specs: Vec<_> = (0..batch).map(|i| spec(b * batch + i)).collect();
        let t = Instant::now();
        done += engine.post_transfers(specs).await?.len();
        lat.push(t.elapsed().as_micros() as u64);
    }
    latency_row(format!("batches of {batch} (latency per batch)"), done, start.elapsed().as_secs_f64(), &mut lat, 0);
    let report = engine.doctor().await?;
    println!();
    println!(
        "ledger doctor after the engine run: {} accounts, {} problems",
        report.ledger_accounts_checked,
        report.ledger_drift.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
    if !report.ledger_drift.is_empty() {
        bail!("the money ledger does not balance after the engine run");
    }
    Ok(())
}

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

/// What `borderless bench search` builds.
#[derive(Debug, Clone)]
pub struct SearchBenchOpts {
    pub concurrency: Vec<usize>,
    pub duration: Duration,
    pub products: usize,
    pub locations: usize,
    pub pg_url: String,
}

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

/// `borderless bench search`: a 100,000-product Korean/English catalog with stock at 50 locations,
/// searched through the HTTP API and, side by side on the same catalog, through PostgreSQL full-text
/// search (`tsvector` + GIN, `simple` configuration: PostgreSQL has no Korean one), at each concurrency.
pub async fn search(opts: SearchBenchOpts) -> Result<()> {
    use rand::{Rng, SeedableRng};
    let dir = std::env::temp_dir().join(format!("borderless-search-bench-{}", domain::ids::random_token(6)));
    let key = format!("bench-admin-{}", domain::ids::random_token(12));
    let cfg = crate::app::AppConfig {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.clone(),
        admin_key: Some(key),
        workers: true,
        recs_train_every: Duration::ZERO,
        ..Default::default()
    };
    let running = crate::app::start(cfg).await?;
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
            let (bko, ben) = BRANDS[i % BRANDS.len()];
            let (kko, ken, cat, unit) = KINDS[(i / BRANDS.len()) % KINDS.len()];
            let (cko, cen) = COLOURS[(i / 7) % COLOURS.len()];
            let size = size_of(unit, i / 3);
            let price = 1_000 * (5 + (i * 37 % 300) as i64);
            let handle = format!("p{i}");
            let sku = format!("SKU-{i}");
            let title_ko = format!("{bko} {kko} {cko} {size} 모델{}", i % 97);
            let title_en = format!("{ben} {ken} {cen} {size} model {}", i % 97);
            batch.push(engine::catalog::products::ProductInput {
                handle: handle.clone(),
                title_ko: title_ko.clone(),
                title_en: title_en.clone(),
                category: cat.into(),
                vendor: ben.into(),
                variants: vec![engine::catalog::products::VariantInput {
                    sku: sku.clone(),
                    weight_g: 100,
                    attributes: [("color".to_owned(), cen.to_owned()), ("size".to_owned(), size.clone())]
                        .into_iter()
                        .collect(),
                    prices: vec![engine::catalog::products::PriceInput { currency: "KRW".into(), amount_minor: price }],
                    ..Default::default()
                }],
                ..Default::default()
            });
            for _ in 0..3 {
                let l = rng.random_range(0..opts.locations);
                stock.push((sku.clone(), codes[l].clone(), rng.random_range(1..20)));
                pg_stock.push((handle.clone(), l));
            }
            pg_rows.push((handle, title_ko, title_en, cat.to_owned(), ben.to_owned(), price));
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
        product_ms.push(poll_until_found(&client, &format!("{url}/store/search?q={word}"), t).await?);
        let t = Instant::now();
        engine.adjust_stock(&sku, &store_id, 3, "bench freshness").await?;
        stock_ms
            .push(poll_until_found(&client, &format!("{url}/store/search?q={word}&in_stock_at={store_id}"), t).await?);
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
async fn poll_until_found(client: &reqwest::Client, url: &str, since: Instant) -> Result<f64> {
    while since.elapsed() < Duration::from_secs(10) {
        let r: serde_json::Value = client.get(url).send().await?.json().await?;
        if r["search"]["total"].as_u64().unwrap_or(0) == 1 {
            return Ok(since.elapsed().as_secs_f64() * 1000.0);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    anyhow::bail!("{url}: the change did not show within 10 s")
}

fn urlencode(s: &str) -> String {
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

/// Shelf labels: the time from a committed price change to the label's command on the MQTT broker, over
/// `changes` changes of one product each, with `labels` labels in one store (embedded broker).
pub async fn labels(labels: usize, changes: usize) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("borderless-labels-bench-{}", domain::ids::random_token(6)));
    let mqtt_port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let cfg = crate::app::AppConfig {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.clone(),
        admin_key: Some(format!("bench-admin-{}", domain::ids::random_token(12))),
        recs_train_every: Duration::ZERO,
        mqtt: Some(iot::Broker::Embedded(format!("127.0.0.1:{mqtt_port}").parse()?)),
        ..Default::default()
    };
    let running = crate::app::start(cfg).await?;
    let engine = running.engine.clone();
    println!(
        "borderless bench labels — {labels} shelf labels in one store, {changes} price changes, embedded MQTT broker"
    );
    let store = engine
        .create_location(engine::catalog::locations::LocationInput {
            code: "BENCH-GO".into(),
            name_ko: "벤치 매장".into(),
            name_en: "Bench store".into(),
            kind: "cashierless".into(),
            address: engine::catalog::locations::Address {
                line1: "1".into(),
                city: "Seoul".into(),
                postal_code: "04799".into(),
                country: "KR".into(),
                ..Default::default()
            },
            lat: None,
            lon: None,
            pickup_enabled: false,
            ships: false,
        })
        .await?;
    let product = |i: usize, price: i64| engine::catalog::products::ProductInput {
        handle: format!("label-{i}"),
        title_ko: format!("상품 {i}"),
        title_en: format!("Product {i}"),
        category: "grocery".into(),
        vendor: "Bench".into(),
        variants: vec![engine::catalog::products::VariantInput {
            sku: format!("LABEL-{i}"),
            weight_g: 100,
            prices: vec![engine::catalog::products::PriceInput { currency: "KRW".into(), amount_minor: price }],
            ..Default::default()
        }],
        ..Default::default()
    };
    engine.upsert_products((0..labels).map(|i| product(i, 1_000)).collect()).await?;
    let mut first = None;
    for i in 0..labels {
        let d = engine.register_device(&store.id, "esl", &format!("esl-{i}"), Some(format!("LABEL-{i}"))).await?;
        first.get_or_insert(d);
    }
    let login = first.ok_or_else(|| anyhow::anyhow!("--labels must be at least 1"))?;
    let mut o = rumqttc::MqttOptions::new("bench-labels", "127.0.0.1", mqtt_port);
    o.set_credentials(login.id.clone(), login.token.clone());
    let (client, mut eventloop) = rumqttc::AsyncClient::new(o, 1000);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, i64, Instant)>();
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                    let v: serde_json::Value = serde_json::from_slice(&p.payload).unwrap_or_default();
                    let _ = tx.send((
                        v["sku"].as_str().unwrap_or_default().to_owned(),
                        v["price_minor"].as_i64().unwrap_or(-1),
                        Instant::now(),
                    ));
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    });
    client.subscribe("borderless/v1/BENCH-GO/+/commands", rumqttc::QoS::AtLeastOnce).await?;
    // Let the registrations' first prices (and retained ones) pass.
    tokio::time::sleep(Duration::from_secs(2)).await;
    while rx.try_recv().is_ok() {}
    let bar = indicatif::ProgressBar::new(changes as u64);
    let mut lat = Vec::with_capacity(changes);
    for k in 0..changes {
        let i = k % labels;
        let price = 1_000 + 10 * (k as i64 + 1);
        let t = Instant::now();
        engine.upsert_products(vec![product(i, price)]).await?;
        let sku = format!("LABEL-{i}");
        loop {
            let (s, p, at) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
                .await
                .map_err(|_| anyhow::anyhow!("no label command within 10 s"))?
                .ok_or_else(|| anyhow::anyhow!("subscriber ended"))?;
            if s == sku && p == price {
                lat.push(at.duration_since(t).as_micros() as u64);
                break;
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    lat.sort_unstable();
    println!();
    println!("| measure | result | target |");
    println!("|---|---:|---:|");
    println!("| price change committed → command on the broker, p50 | {:.0} ms | |", pct(&lat, 0.5));
    println!("| p99 | {:.0} ms | < 1,000 ms |", pct(&lat, 0.99));
    println!("| max | {:.0} ms | |", lat.last().copied().unwrap_or(0) as f64 / 1000.0);
    running.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
